/* peercam-signaling-server.h — embedded Socket.IO 4 signaling server (libsoup, no GTK)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Serves Engine.IO 4 at /socket.io/ over WebSocket and HTTP long-polling
 * (with upgrade), so unmodified socket.io-client 4 connects. Speaks the
 * demo's events on the "/" namespace:
 *
 *   create or join (room)  → first: create (room, id); later: join (room, id)
 *                            to the joiner and call to every member already
 *                            there; beyond room-capacity: full (room)
 *   signal {type,sdp}, ice {candidate,…}, bye [id]
 *                          → relayed verbatim to the other members of the
 *                            sender's rooms
 *   disconnect             → bye (id) to the rest of its rooms
 *
 * Anything else gets an error event (42["error","…"]); an ack request
 * (42<n>[…]) is answered with 43<n>[result]: the join result ("create",
 * "join", "full"), the number of peers a relay reached, or {"error":"…"}.
 */
#pragma once

#include <glib-object.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define PEERCAM_TYPE_SIGNALING_SERVER (peercam_signaling_server_get_type ())
G_DECLARE_FINAL_TYPE (PeercamSignalingServer, peercam_signaling_server,
                      PEERCAM, SIGNALING_SERVER, GObject)

#define PEERCAM_SIGNALING_SERVER_PATH "/socket.io/"

PeercamSignalingServer *peercam_signaling_server_new              (void);

/* Listens on bind-address (NULL: every IPv4 and IPv6 address) and port
 * (0: ephemeral). Starting a running server does nothing. */
gboolean                peercam_signaling_server_start            (PeercamSignalingServer *self,
                                                                   GError                **error);
/* Closes every session (peers get bye) and the listening sockets. */
void                    peercam_signaling_server_stop             (PeercamSignalingServer *self);
gboolean                peercam_signaling_server_is_running       (PeercamSignalingServer *self);

/* The bound port once started, else the configured one. */
guint                   peercam_signaling_server_get_port         (PeercamSignalingServer *self);
void                    peercam_signaling_server_set_port         (PeercamSignalingServer *self,
                                                                   guint                   port);
const char             *peercam_signaling_server_get_bind_address (PeercamSignalingServer *self);
void                    peercam_signaling_server_set_bind_address (PeercamSignalingServer *self,
                                                                   const char             *address);
guint                   peercam_signaling_server_get_room_capacity (PeercamSignalingServer *self);
void                    peercam_signaling_server_set_room_capacity (PeercamSignalingServer *self,
                                                                    guint                   capacity);
const char             *peercam_signaling_server_get_token        (PeercamSignalingServer *self);
void                    peercam_signaling_server_set_token        (PeercamSignalingServer *self,
                                                                   const char             *token);
const char * const     *peercam_signaling_server_get_allowed_origins (PeercamSignalingServer *self);
void                    peercam_signaling_server_set_allowed_origins (PeercamSignalingServer *self,
                                                                      const char * const     *origins);

/* Engine.IO sessions currently open (counted against max-connections). */
guint                   peercam_signaling_server_get_n_connections (PeercamSignalingServer *self);

/* (transfer none): exists from construction on, so other handlers (web
 * pages) can be added before or after start. */
SoupServer             *peercam_signaling_server_get_soup_server  (PeercamSignalingServer *self);

/* web: with a certificate (and its key), start listens with HTTPS/WSS. */
GTlsCertificate        *peercam_signaling_server_get_tls_certificate (PeercamSignalingServer *self);
void                    peercam_signaling_server_set_tls_certificate (PeercamSignalingServer *self,
                                                                      GTlsCertificate        *certificate);

G_END_DECLS
