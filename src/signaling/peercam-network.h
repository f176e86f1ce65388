/* peercam-network.h — this machine's addresses, for telling others where to join
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char  **peercam_network_get_lan_addresses (gboolean    include_loopback);
char  **peercam_network_get_join_urls     (const char *scheme,
                                           guint       port,
                                           const char *bind_address);

G_END_DECLS
