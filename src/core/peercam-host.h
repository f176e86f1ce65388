/* peercam-host.h — hosting a room: the embedded server with its browser pages,
 * token, allowed origins and certificate, and the links that lead to it
 *
 * The application and `--headless`/`--host-only` host through this one
 * object, so both start the server the same way. No GTK. This header is
 * the windows' (core and system headers only); the server itself and the
 * options struct are in peercam-host-private.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>


G_BEGIN_DECLS

#define PEERCAM_TYPE_HOST (peercam_host_get_type ())

G_DECLARE_FINAL_TYPE (PeercamHost, peercam_host, PEERCAM, HOST, GObject)

/* Properties: "port" (0 picks a free one; the bound port once running),
 * "bind-address", "token", "allowed-origins", "tls", "new-certificate",
 * "max-viewers" (a room holds one caller and that many viewers) —
 * read when the host starts — and, read-only, "running" and "fingerprint"
 * (SHA-256 of the certificate, with "tls"). */

PeercamHost            *peercam_host_new                 (void);

guint                   peercam_host_get_port            (PeercamHost          *self);
void                    peercam_host_set_port            (PeercamHost          *self,
                                                          guint                 port);
const char             *peercam_host_get_bind_address    (PeercamHost          *self);
void                    peercam_host_set_bind_address    (PeercamHost          *self,
                                                          const char           *address);
const char             *peercam_host_get_token           (PeercamHost          *self);
void                    peercam_host_set_token           (PeercamHost          *self,
                                                          const char           *token);
void                    peercam_host_set_allowed_origins (PeercamHost          *self,
                                                          const char * const   *origins);
gboolean                peercam_host_get_tls             (PeercamHost          *self);
void                    peercam_host_set_tls             (PeercamHost          *self,
                                                          gboolean              tls);
void                    peercam_host_set_new_certificate (PeercamHost          *self,
                                                          gboolean              new_certificate);
guint                   peercam_host_get_max_viewers     (PeercamHost          *self);
void                    peercam_host_set_max_viewers     (PeercamHost          *self,
                                                          guint                 max_viewers);

gboolean                peercam_host_start               (PeercamHost          *self,
                                                          GError              **error);
void                    peercam_host_stop                (PeercamHost          *self);
gboolean                peercam_host_get_running         (PeercamHost          *self);
const char             *peercam_host_get_fingerprint     (PeercamHost          *self);

/* The address this computer's own clients join the hosted room with. */
char                   *peercam_host_dup_local_url       (PeercamHost          *self);
/* One invite link per address of this computer, LAN addresses first
 * (loopback only without a LAN): room, token and fingerprint included. */
GStrv                   peercam_host_dup_invites         (PeercamHost          *self,
                                                          const char           *room);
/* The invite for this computer's own clients (peercam_host_dup_local_url). */
char                   *peercam_host_dup_local_invite    (PeercamHost          *self,
                                                          const char           *room);

G_END_DECLS
