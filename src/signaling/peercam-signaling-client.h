/* peercam-signaling-client.h: Socket.IO 4 signaling client over libsoup 3
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  PEERCAM_SIGNALING_STATE_DISCONNECTED,
  PEERCAM_SIGNALING_STATE_CONNECTING,
  PEERCAM_SIGNALING_STATE_CONNECTED,
  PEERCAM_SIGNALING_STATE_JOINED,
  PEERCAM_SIGNALING_STATE_RECONNECTING,
  PEERCAM_SIGNALING_STATE_FAILED,
} PeercamSignalingState;

GType peercam_signaling_state_get_type (void) G_GNUC_CONST;
#define PEERCAM_TYPE_SIGNALING_STATE (peercam_signaling_state_get_type ())

#define PEERCAM_SIGNALING_CLIENT_ERROR (peercam_signaling_client_error_quark ())

/* Errors of our own; transport problems keep libsoup's G_IO_ERROR,
 * G_RESOLVER_ERROR and G_TLS_ERROR codes. */
typedef enum {
  PEERCAM_SIGNALING_CLIENT_ERROR_INVALID_URL,
  PEERCAM_SIGNALING_CLIENT_ERROR_AUTH,         /* CONNECT_ERROR, e.g. a bad token */
  PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,     /* malformed frame or payload */
  PEERCAM_SIGNALING_CLIENT_ERROR_TIMEOUT,      /* no ping / no handshake in time */
  PEERCAM_SIGNALING_CLIENT_ERROR_CLOSED,       /* the server ended the session */
  PEERCAM_SIGNALING_CLIENT_ERROR_CERTIFICATE,  /* pinned fingerprint mismatch */
  PEERCAM_SIGNALING_CLIENT_ERROR_QUEUE_FULL,   /* too many messages while offline */
  PEERCAM_SIGNALING_CLIENT_ERROR_NOT_CONNECTED,
  PEERCAM_SIGNALING_CLIENT_ERROR_ROOM_FULL,    /* queued messages had no room to go to */
} PeercamSignalingClientError;

GQuark peercam_signaling_client_error_quark (void);

#define PEERCAM_TYPE_SIGNALING_CLIENT (peercam_signaling_client_get_type ())

G_DECLARE_FINAL_TYPE (PeercamSignalingClient, peercam_signaling_client, PEERCAM, SIGNALING_CLIENT, GObject)

PeercamSignalingClient *peercam_signaling_client_new                     (const char              *url);

const char             *peercam_signaling_client_get_url                 (PeercamSignalingClient  *self);
const char             *peercam_signaling_client_get_room                (PeercamSignalingClient  *self);
const char             *peercam_signaling_client_get_id                  (PeercamSignalingClient  *self);
PeercamSignalingState   peercam_signaling_client_get_state               (PeercamSignalingClient  *self);
const char             *peercam_signaling_client_get_token               (PeercamSignalingClient  *self);
void                    peercam_signaling_client_set_token               (PeercamSignalingClient  *self,
                                                                          const char              *token);
const char             *peercam_signaling_client_get_pinned_certificate  (PeercamSignalingClient  *self);
void                    peercam_signaling_client_set_pinned_certificate  (PeercamSignalingClient  *self,
                                                                          const char              *sha256_hex);
gboolean                peercam_signaling_client_get_reconnect           (PeercamSignalingClient  *self);
void                    peercam_signaling_client_set_reconnect           (PeercamSignalingClient  *self,
                                                                          gboolean                 reconnect);

gboolean                peercam_signaling_client_validate_url            (const char              *url,
                                                                          GError                 **error);
char                   *peercam_signaling_client_certificate_fingerprint (GTlsCertificate         *certificate);

gboolean                peercam_signaling_client_connect                 (PeercamSignalingClient  *self,
                                                                          GError                 **error);
void                    peercam_signaling_client_disconnect              (PeercamSignalingClient  *self);
gboolean                peercam_signaling_client_join                    (PeercamSignalingClient  *self,
                                                                          const char              *room,
                                                                          GError                 **error);
gboolean                peercam_signaling_client_emit                    (PeercamSignalingClient  *self,
                                                                          const char              *event,
                                                                          JsonNode                *arg);
gboolean                peercam_signaling_client_send_signal             (PeercamSignalingClient  *self,
                                                                          JsonNode                *description);
gboolean                peercam_signaling_client_send_ice                (PeercamSignalingClient  *self,
                                                                          JsonNode                *candidate);
gboolean                peercam_signaling_client_send_bye                (PeercamSignalingClient  *self);
/* Addressed (Peercam's server, issue 15): to one member; @to NULL is the room. */
gboolean                peercam_signaling_client_send_signal_to          (PeercamSignalingClient  *self,
                                                                          JsonNode                *description,
                                                                          const char              *to);
gboolean                peercam_signaling_client_send_ice_to             (PeercamSignalingClient  *self,
                                                                          JsonNode                *candidate,
                                                                          const char              *to);
gboolean                peercam_signaling_client_send_bye_to             (PeercamSignalingClient  *self,
                                                                          const char              *to);
const char * const     *peercam_signaling_client_get_members             (PeercamSignalingClient  *self);

G_END_DECLS
