/* peercam-certificate-probe.h — which certificate a server presents
 *
 * For a window that could not join over TLS: it shows the fingerprint of
 * the server's certificate so the user can compare it with the host's.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Connects over TLS to @url's host and port (also for an http:// or ws://
 * address: a secure server answers plain HTTP with a reset), takes the
 * certificate without trusting it for anything, and closes. */
void  peercam_certificate_probe_async  (const char          *url,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
/* The SHA-256 fingerprint, AB:CD:…; NULL with @error when none came. */
char *peercam_certificate_probe_finish (GAsyncResult        *result,
                                        GError             **error);

G_END_DECLS
