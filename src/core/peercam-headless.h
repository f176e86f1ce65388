/* peercam-headless.h — caller, viewer and server without a window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int peercam_headless_main (int    argc,
                           char **argv);

G_END_DECLS
