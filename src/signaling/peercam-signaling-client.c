/* peercam-signaling-client.c: Socket.IO 4 signaling client over libsoup 3
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Speaks the subset of Engine.IO 4 / Socket.IO 4 that a browser's
 * `io.connect()` uses on the websocket transport, so the same server serves
 * browsers and Peercam. All work happens on the main context that was the
 * thread-default one when the client was created; call the methods from that
 * thread.
 */

#define G_LOG_DOMAIN "peercam-signaling-client"

#include "peercam-signaling-client.h"

#include <libsoup/soup.h>
#include <string.h>

#include <glib/gi18n.h>

#include "peercam-sio-packet.h"

/* socket.io-client waits 20 s for a connection before giving up on an attempt. */
#define CONNECT_TIMEOUT_MS   20000
#define BACKOFF_MIN_MS       250
#define BACKOFF_MAX_MS       5000
#define MAX_QUEUED           256
/* Engine.IO 4.x's maxPayload default: the server refuses anything bigger, so a
 * bigger incoming frame can only be garbage. */
#define MAX_PAYLOAD          (1000 * 1000)
#define DEFAULT_PING_INTERVAL_MS 25000
#define DEFAULT_PING_TIMEOUT_MS  20000
/* The reference relay answers `create or join` only for a room's creator: no
 * answer within this time means we joined a room someone else is in. One
 * round trip, with room for a slow link. */
#define JOIN_ANSWER_WAIT_MS  1500

struct _PeercamSignalingClient
{
  GObject parent_instance;

  char *url;
  char *room;
  char *token;
  char *pinned_certificate;
  char *id;
  GStrv members;                /* addressed join: who was in the room before us */
  gboolean server_addressed;    /* the CONNECT answer offered addressed rooms */
  PeercamSignalingState state;
  gboolean reconnect;

  GMainContext *context;
  SoupSession *session;
  GUri *ws_uri;

  /* One connection attempt or live connection at a time. */
  GCancellable *cancellable;
  SoupWebsocketConnection *conn;
  GError *conn_error;           /* from the connection's "error", reported on close */
  char *certificate_mismatch;   /* fingerprint we refused, to explain the TLS error */
  gboolean opened;              /* Engine.IO open packet seen on this connection */
  gboolean join_pending;        /* "create or join" sent, no answer yet */
  GSource *join_wait;           /* JOIN_ANSWER_WAIT_MS after the "create or join" */

  /* Connections we closed but whose close handshake is still running. */
  GPtrArray *closing;

  guint ping_interval_ms;
  guint ping_timeout_ms;
  GSource *ping_watchdog;
  GSource *connect_timeout;
  GSource *reconnect_timer;
  guint attempt;

  GQueue queue;                 /* serialized frames waiting for (re)join */
};

G_DEFINE_FINAL_TYPE (PeercamSignalingClient, peercam_signaling_client, G_TYPE_OBJECT)

G_DEFINE_QUARK (peercam-signaling-client-error-quark, peercam_signaling_client_error)

enum {
  PROP_0,
  PROP_URL,
  PROP_ROOM,
  PROP_TOKEN,
  PROP_PINNED_CERTIFICATE,
  PROP_STATE,
  PROP_ID,
  PROP_RECONNECT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_CREATED,
  SIGNAL_JOINED,
  SIGNAL_CALL,
  SIGNAL_FULL,
  SIGNAL_SIGNAL,
  SIGNAL_ICE,
  SIGNAL_BYE,
  SIGNAL_SERVER_ERROR,
  SIGNAL_ERROR,
  SIGNAL_EVENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void start_attempt (PeercamSignalingClient *self);

GType
peercam_signaling_state_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      static const GEnumValue values[] = {
        { PEERCAM_SIGNALING_STATE_DISCONNECTED, "PEERCAM_SIGNALING_STATE_DISCONNECTED", "disconnected" },
        { PEERCAM_SIGNALING_STATE_CONNECTING, "PEERCAM_SIGNALING_STATE_CONNECTING", "connecting" },
        { PEERCAM_SIGNALING_STATE_CONNECTED, "PEERCAM_SIGNALING_STATE_CONNECTED", "connected" },
        { PEERCAM_SIGNALING_STATE_JOINED, "PEERCAM_SIGNALING_STATE_JOINED", "joined" },
        { PEERCAM_SIGNALING_STATE_RECONNECTING, "PEERCAM_SIGNALING_STATE_RECONNECTING", "reconnecting" },
        { PEERCAM_SIGNALING_STATE_FAILED, "PEERCAM_SIGNALING_STATE_FAILED", "failed" },
        { 0, NULL, NULL }
      };
      GType id = g_enum_register_static (g_intern_static_string ("PeercamSignalingState"), values);

      g_once_init_leave (&type_id, id);
    }

  return type_id;
}

/* ------------------------------------------------------------------------ */
/* URLs and certificates                                                     */

static GUri *
build_websocket_uri (const char  *url,
                     GError     **error)
{
  g_autoptr(GUri) base = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *scheme;
  const char *host;
  const char *path;
  const char *http_scheme;

  if (url == NULL || *url == '\0')
    {
      g_set_error_literal (error, PEERCAM_SIGNALING_CLIENT_ERROR,
                           PEERCAM_SIGNALING_CLIENT_ERROR_INVALID_URL,
                           _("No signaling server URL given"));
      return NULL;
    }

  base = g_uri_parse (url, G_URI_FLAGS_NONE, &local_error);
  if (base == NULL)
    {
      g_set_error (error, PEERCAM_SIGNALING_CLIENT_ERROR,
                   PEERCAM_SIGNALING_CLIENT_ERROR_INVALID_URL,
                   "“%s” is not a valid URL: %s", url, local_error->message);
      return NULL;
    }

  scheme = g_uri_get_scheme (base);
  if (g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "ws") == 0)
    http_scheme = "http";
  else if (g_ascii_strcasecmp (scheme, "https") == 0 || g_ascii_strcasecmp (scheme, "wss") == 0)
    http_scheme = "https";
  else
    {
      g_set_error (error, PEERCAM_SIGNALING_CLIENT_ERROR,
                   PEERCAM_SIGNALING_CLIENT_ERROR_INVALID_URL,
                   _("Unsupported scheme “%s” in “%s”: use http, https, ws or wss"),
                   scheme, url);
      return NULL;
    }

  host = g_uri_get_host (base);
  if (host == NULL || *host == '\0')
    {
      g_set_error (error, PEERCAM_SIGNALING_CLIENT_ERROR,
                   PEERCAM_SIGNALING_CLIENT_ERROR_INVALID_URL,
                   "“%s” has no host name", url);
      return NULL;
    }

  /* For io.connect() a path names a Socket.IO namespace, and the relay only
   * serves the main one: refuse instead of silently talking to "/". */
  path = g_uri_get_path (base);
  if (path != NULL && *path != '\0' && strcmp (path, "/") != 0)
    {
      g_set_error (error, PEERCAM_SIGNALING_CLIENT_ERROR,
                   PEERCAM_SIGNALING_CLIENT_ERROR_INVALID_URL,
                   "“%s” names the Socket.IO namespace “%s”; only the main namespace is supported",
                   url, path);
      return NULL;
    }

  /* libsoup wants http(s) for the upgrade request. */
  return g_uri_build (G_URI_FLAGS_NONE, http_scheme, NULL, host, g_uri_get_port (base),
                      "/socket.io/", "EIO=4&transport=websocket", NULL);
}

gboolean
peercam_signaling_client_validate_url (const char  *url,
                                       GError     **error)
{
  g_autoptr(GUri) uri = build_websocket_uri (url, error);

  return uri != NULL;
}

/* Lower-case hex without separators, or NULL when it is not 32 bytes of hex;
 * accepts the colon-separated form that `openssl x509 -fingerprint` prints. */
static char *
normalize_fingerprint (const char *text)
{
  g_autoptr(GString) hex = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == ':' || g_ascii_isspace (*p))
        continue;
      if (!g_ascii_isxdigit (*p))
        return NULL;
      g_string_append_c (hex, g_ascii_tolower (*p));
    }

  if (hex->len != 64)
    return NULL;

  return g_string_free (g_steal_pointer (&hex), FALSE);
}

/**
 * peercam_signaling_client_certificate_fingerprint:
 *
 * Returns: (transfer full): SHA-256 of the DER certificate as lower-case hex,
 * the form #PeercamSignalingClient:pinned-certificate expects.
 */
char *
peercam_signaling_client_certificate_fingerprint (GTlsCertificate *certificate)
{
  g_autoptr(GByteArray) der = NULL;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);

  g_object_get (certificate, "certificate", &der, NULL);
  if (der == NULL)
    return NULL;

  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static GSource *
add_timeout (PeercamSignalingClient *self,
             guint                   ms,
             GSourceFunc             func,
             const char             *name)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, self, NULL);
  g_source_set_static_name (source, name);
  g_source_attach (source, self->context);

  return source;
}

/* g_set_str() is GLib 2.76. */
static gboolean
set_str (char       **str_pointer,
         const char  *new_str)
{
  if (g_strcmp0 (*str_pointer, new_str) == 0)
    return FALSE;

  g_free (*str_pointer);
  *str_pointer = g_strdup (new_str);
  return TRUE;
}

static void
set_state (PeercamSignalingClient *self,
           PeercamSignalingState   state)
{
  if (self->state == state)
    return;

  g_debug ("state %d → %d", self->state, state);
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
set_id (PeercamSignalingClient *self,
        const char             *id)
{
  if (set_str (&self->id, id))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
}

static void
set_room (PeercamSignalingClient *self,
          const char             *room)
{
  if (set_str (&self->room, room))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROOM]);
}

static void
emit_error_literal (PeercamSignalingClient      *self,
                    PeercamSignalingClientError  code,
                    const char                  *message)
{
  g_autoptr(GError) error = g_error_new_literal (PEERCAM_SIGNALING_CLIENT_ERROR, code, message);

  g_debug ("error: %s", message);
  g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
}

G_GNUC_PRINTF (3, 4)
static void
emit_error (PeercamSignalingClient      *self,
            PeercamSignalingClientError  code,
            const char                  *format,
            ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  emit_error_literal (self, code, message);
}

static gboolean
connection_is_open (PeercamSignalingClient *self)
{
  return self->conn != NULL &&
         soup_websocket_connection_get_state (self->conn) == SOUP_WEBSOCKET_STATE_OPEN;
}

static void
send_text (PeercamSignalingClient *self,
           const char             *text)
{
  /* A connection can start closing between a frame and our answer; its
   * "closed" handler takes over, and queued messages are only popped when
   * the connection is open, so nothing queued is lost here. */
  if (!connection_is_open (self))
    {
      g_debug ("not sent, connection closing: %.200s", text);
      return;
    }

  g_debug (">> %.200s", text);
  soup_websocket_connection_send_text (self->conn, text);
}

/* Wraps a Socket.IO packet in an Engine.IO message frame. */
static char *
encode_sio (PeercamSioPacket *packet)
{
  g_autofree char *sio = peercam_sio_packet_encode (packet);

  return peercam_eio_encode (PEERCAM_EIO_MESSAGE, sio);
}

static char *
encode_event (const char *event,
              JsonNode   *arg)
{
  g_autoptr(PeercamSioPacket) packet = NULL;

  packet = peercam_sio_packet_new_event (NULL, event, arg != NULL ? json_node_copy (arg) : NULL, NULL);

  return encode_sio (packet);
}

/* Messages wait until the client has asked for its room again on this
 * connection, so they reach the peer instead of a room-less socket. A server
 * handles one socket's packets in order, so whatever follows the
 * `create or join` is relayed within the room; waiting for the answer would
 * wait forever on the reference relay, which never answers a joiner. */
static gboolean
can_send_now (PeercamSignalingClient *self)
{
  if (!connection_is_open (self))
    return FALSE;

  if (self->state == PEERCAM_SIGNALING_STATE_JOINED)
    return TRUE;

  return self->state == PEERCAM_SIGNALING_STATE_CONNECTED &&
         (self->room == NULL || self->join_pending);
}

static void
flush_queue (PeercamSignalingClient *self)
{
  char *text;

  while (can_send_now (self) && (text = g_queue_pop_head (&self->queue)) != NULL)
    {
      send_text (self, text);
      g_free (text);
    }
}

static void
drop_queue (PeercamSignalingClient      *self,
            PeercamSignalingClientError  code,
            const char                  *why)
{
  guint n = self->queue.length;

  if (n == 0)
    return;

  g_queue_clear_full (&self->queue, g_free);
  emit_error (self, code, "%u queued signaling message(s) were not sent: %s", n, why);
}

/* ------------------------------------------------------------------------ */
/* Connection teardown and reconnection                                      */

static void
on_closing_conn_closed (SoupWebsocketConnection *conn,
                        gpointer                 user_data)
{
  PeercamSignalingClient *self = user_data;

  g_signal_handlers_disconnect_by_data (conn, self);
  g_ptr_array_remove_fast (self->closing, conn);
}

/* Detaches the current connection. A connection that is still open gets a
 * close frame and lives in ->closing until libsoup finishes the handshake (or
 * its own close timeout fires), so queued frames such as "41" go out first. */
static void
retire_connection (PeercamSignalingClient *self,
                   gboolean                send_disconnect)
{
  g_autoptr(SoupWebsocketConnection) conn = g_steal_pointer (&self->conn);

  clear_source (&self->ping_watchdog);
  clear_source (&self->connect_timeout);
  clear_source (&self->join_wait);
  g_clear_error (&self->conn_error);
  self->opened = FALSE;
  self->join_pending = FALSE;

  if (self->cancellable != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->cancellable);
    }

  if (conn == NULL)
    return;

  g_signal_handlers_disconnect_by_data (conn, self);

  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    {
      if (send_disconnect)
        {
          g_debug (">> 41");
          soup_websocket_connection_send_text (conn, "41");
        }
      g_signal_connect (conn, "closed", G_CALLBACK (on_closing_conn_closed), self);
      g_ptr_array_add (self->closing, g_object_ref (conn));
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    }
}

static guint
backoff_delay_ms (guint attempt)
{
  guint delay = BACKOFF_MIN_MS;

  for (guint i = 0; i < attempt && delay < BACKOFF_MAX_MS; i++)
    delay *= 2;
  delay = MIN (delay, BACKOFF_MAX_MS);

  /* Jitter keeps a room full of clients from reconnecting in lock step after
   * a server restart; "equal jitter" keeps at least half the delay. */
  return delay / 2 + g_random_int_range (0, delay / 2 + 1);
}

static gboolean
on_reconnect_timer (gpointer user_data)
{
  PeercamSignalingClient *self = user_data;

  g_clear_pointer (&self->reconnect_timer, g_source_unref);
  start_attempt (self);

  return G_SOURCE_REMOVE;
}

static gboolean
error_is_permanent (const GError *error)
{
  /* Retrying cannot fix a refused certificate, a plain-HTTP server behind an
   * https:// URL or a refused token; a handshake cut short by a restarting
   * server (G_TLS_ERROR_EOF, _MISC) can be. */
  return g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE) ||
         g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS) ||
         g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_CERTIFICATE_REQUIRED) ||
         g_error_matches (error, PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_AUTH) ||
         g_error_matches (error, PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_CERTIFICATE) ||
         g_error_matches (error, PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_INVALID_URL);
}

/* The connection or the attempt is gone; either schedule the next attempt or
 * give up. Only the first failure of an outage is reported, the rest shows as
 * the RECONNECTING state. */
static void
connection_lost (PeercamSignalingClient *self,
                 const GError           *error)
{
  gboolean report;

  g_object_ref (self);

  report = self->attempt == 0 || error_is_permanent (error);
  retire_connection (self, FALSE);
  set_id (self, NULL);

  if (self->reconnect && !error_is_permanent (error))
    {
      guint delay = backoff_delay_ms (self->attempt);

      g_debug ("reconnecting in %u ms (attempt %u): %s", delay, self->attempt + 1, error->message);
      self->attempt++;
      clear_source (&self->reconnect_timer);
      self->reconnect_timer = add_timeout (self, delay, on_reconnect_timer,
                                           "[peercam] signaling reconnect");
      set_state (self, PEERCAM_SIGNALING_STATE_RECONNECTING);
    }
  else
    {
      set_state (self, PEERCAM_SIGNALING_STATE_FAILED);
    }

  if (report)
    g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);

  /* Nobody will flush these any more. */
  if (self->state == PEERCAM_SIGNALING_STATE_FAILED)
    drop_queue (self, PEERCAM_SIGNALING_CLIENT_ERROR_NOT_CONNECTED,
                "the connection to the signaling server failed");

  g_object_unref (self);
}

static void
connection_lost_literal (PeercamSignalingClient      *self,
                         PeercamSignalingClientError  code,
                         const char                  *message)
{
  g_autoptr(GError) error = g_error_new_literal (PEERCAM_SIGNALING_CLIENT_ERROR, code, message);

  connection_lost (self, error);
}

static gboolean
on_ping_watchdog (gpointer user_data)
{
  PeercamSignalingClient *self = user_data;
  g_autofree char *message = NULL;

  g_clear_pointer (&self->ping_watchdog, g_source_unref);

  message = g_strdup_printf ("The signaling server sent no ping for %u ms",
                             self->ping_interval_ms + self->ping_timeout_ms);
  connection_lost_literal (self, PEERCAM_SIGNALING_CLIENT_ERROR_TIMEOUT, message);

  return G_SOURCE_REMOVE;
}

static void
arm_ping_watchdog (PeercamSignalingClient *self)
{
  clear_source (&self->ping_watchdog);
  self->ping_watchdog = add_timeout (self, self->ping_interval_ms + self->ping_timeout_ms,
                                     on_ping_watchdog, "[peercam] signaling ping watchdog");
}

static gboolean
on_connect_timeout (gpointer user_data)
{
  PeercamSignalingClient *self = user_data;

  g_clear_pointer (&self->connect_timeout, g_source_unref);
  connection_lost_literal (self, PEERCAM_SIGNALING_CLIENT_ERROR_TIMEOUT,
                           _("The signaling server did not complete the handshake in time"));

  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------ */
/* Incoming Socket.IO events                                                 */

static const char *
array_get_string (JsonArray *args,
                  guint      index)
{
  JsonNode *node;

  if (args == NULL || index >= json_array_get_length (args))
    return NULL;

  node = json_array_get_element (args, index);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

static JsonNode *
array_get_object_node (JsonArray *args,
                       guint      index)
{
  JsonNode *node;

  if (args == NULL || index >= json_array_get_length (args))
    return NULL;

  node = json_array_get_element (args, index);

  return JSON_NODE_HOLDS_OBJECT (node) ? node : NULL;
}

static void
handle_room_answer (PeercamSignalingClient *self,
                    guint                   signal_id,
                    const char             *event,
                    JsonArray              *args)
{
  const char *room = array_get_string (args, 0);
  const char *id = array_get_string (args, 1);

  if (room == NULL)
    {
      emit_error (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                  _("The signaling server sent “%s” without a room name"), event);
      return;
    }

  if (id == NULL)
    id = self->id;

  /* An addressed join lists who was there: ["join", room, id, [ids]]. */
  g_clear_pointer (&self->members, g_strfreev);
  if (args != NULL && json_array_get_length (args) > 2 &&
      JSON_NODE_HOLDS_ARRAY (json_array_get_element (args, 2)))
    {
      JsonArray *list = json_array_get_array_element (args, 2);
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

      for (guint i = 0; i < json_array_get_length (list) && i < 64; i++)
        {
          const char *member = array_get_string (list, i);

          if (member == NULL)
            {
              emit_error_literal (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                                  _("The signaling server listed a room member that is not a string"));
              continue;
            }
          g_strv_builder_add (builder, member);
        }
      self->members = g_strv_builder_end (builder);
    }

  if (self->room != NULL && strcmp (room, self->room) == 0)
    {
      self->join_pending = FALSE;
      clear_source (&self->join_wait);
      set_state (self, PEERCAM_SIGNALING_STATE_JOINED);
    }

  g_signal_emit (self, signals[signal_id], 0, room, id);

  flush_queue (self);
}

static void
handle_full (PeercamSignalingClient *self,
             JsonArray              *args)
{
  const char *room = array_get_string (args, 0);
  g_autofree char *full_room = g_strdup (room);

  if (room == NULL)
    {
      emit_error_literal (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                          _("The signaling server sent “full” without a room name"));
      return;
    }

  /* We are not in the room: forget it, so a reconnect does not retry. */
  if (self->room != NULL && strcmp (room, self->room) == 0)
    {
      self->join_pending = FALSE;
      clear_source (&self->join_wait);
      set_room (self, NULL);
      if (self->state == PEERCAM_SIGNALING_STATE_JOINED)
        set_state (self, PEERCAM_SIGNALING_STATE_CONNECTED);
    }

  g_signal_emit (self, signals[SIGNAL_FULL], 0, full_room);

  drop_queue (self, PEERCAM_SIGNALING_CLIENT_ERROR_ROOM_FULL, "the room is full");
}

static void
handle_server_error (PeercamSignalingClient *self,
                     JsonArray              *args)
{
  JsonNode *node = args != NULL && json_array_get_length (args) > 0 ? json_array_get_element (args, 0) : NULL;
  const char *message = array_get_string (args, 0);
  g_autofree char *text = NULL;

  /* Servers send either a string or an Error-like {"message": …}. */
  if (message == NULL && node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_node_get_object (node);
      JsonNode *member = json_object_get_member (object, "message");

      if (member != NULL && JSON_NODE_HOLDS_VALUE (member) &&
          json_node_get_value_type (member) == G_TYPE_STRING)
        message = json_node_get_string (member);
    }

  if (message == NULL)
    message = text = node != NULL ? json_to_string (node, FALSE) : g_strdup ("unknown error");

  g_signal_emit (self, signals[SIGNAL_SERVER_ERROR], 0, message);
}

/* We are in our room without the server having said so: the reference relay
 * tells only a room's creator. ::joined says it like the answer would have. */
static void
infer_joined (PeercamSignalingClient *self,
              const char             *why)
{
  if (!self->join_pending)
    return;

  g_debug ("in room %s without an answer: %s", self->room, why);
  self->join_pending = FALSE;
  clear_source (&self->join_wait);
  set_state (self, PEERCAM_SIGNALING_STATE_JOINED);
  g_signal_emit (self, signals[SIGNAL_JOINED], 0, self->room, self->id);
  flush_queue (self);
}

static gboolean
on_join_wait (gpointer user_data)
{
  PeercamSignalingClient *self = user_data;

  g_clear_pointer (&self->join_wait, g_source_unref);
  infer_joined (self, "no answer to create or join");

  return G_SOURCE_REMOVE;
}

static void
dispatch_event (PeercamSignalingClient *self,
                const char             *event,
                JsonArray              *args)
{
  /* A relayed message only reaches members of a room. */
  if (strcmp (event, "signal") == 0 || strcmp (event, "ice") == 0 || strcmp (event, "call") == 0)
    infer_joined (self, event);

  if (strcmp (event, "signal") == 0 || strcmp (event, "ice") == 0)
    {
      gboolean is_signal = event[0] == 's';
      JsonNode *node = array_get_object_node (args, 0);
      JsonNode *route = array_get_object_node (args, 1);
      const char *from = NULL;

      if (node == NULL)
        {
          emit_error (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                      _("The signaling server sent “%s” without a JSON object"), event);
          return;
        }
      /* Peercam's server says who sent it: [event, payload, {"from": id}]. */
      if (route != NULL)
        from = json_object_get_string_member_with_default (json_node_get_object (route), "from", NULL);

      g_signal_emit (self, signals[is_signal ? SIGNAL_SIGNAL : SIGNAL_ICE], 0, node, from);
    }
  /* The reference relay says create/join; the codelab it descends from said
   * created/joined. Accept both. */
  else if (strcmp (event, "create") == 0 || strcmp (event, "created") == 0)
    handle_room_answer (self, SIGNAL_CREATED, event, args);
  else if (strcmp (event, "join") == 0 || strcmp (event, "joined") == 0)
    handle_room_answer (self, SIGNAL_JOINED, event, args);
  else if (strcmp (event, "call") == 0)
    g_signal_emit (self, signals[SIGNAL_CALL], 0, array_get_string (args, 0));
  else if (strcmp (event, "full") == 0)
    handle_full (self, args);
  else if (strcmp (event, "bye") == 0)
    {
      JsonNode *node = args != NULL && json_array_get_length (args) > 0 ? json_array_get_element (args, 0) : NULL;
      const char *id = array_get_string (args, 0);

      /* A bye still ends the call when its id is odd, but say so. */
      if (node != NULL && id == NULL && !JSON_NODE_HOLDS_NULL (node))
        emit_error_literal (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                            _("The signaling server sent “bye” with a non-string id"));

      g_signal_emit (self, signals[SIGNAL_BYE], 0, id);
    }
  else if (strcmp (event, "error") == 0)
    handle_server_error (self, args);
  else
    g_signal_emit (self, signals[SIGNAL_EVENT], g_quark_try_string (event), event, args);
}

/* ------------------------------------------------------------------------ */
/* Incoming frames                                                           */

static void
send_connect (PeercamSignalingClient *self)
{
  g_autoptr(PeercamSioPacket) packet = NULL;
  g_autoptr(JsonNode) auth = NULL;
  g_autofree char *text = NULL;

  if (self->token != NULL)
    {
      g_autoptr(JsonObject) object = json_object_new ();

      json_object_set_string_member (object, "token", self->token);
      auth = json_node_init_object (json_node_alloc (), object);
    }

  packet = peercam_sio_packet_new (PEERCAM_SIO_CONNECT, NULL, -1, g_steal_pointer (&auth));
  text = encode_sio (packet);
  send_text (self, text);
}

static void
send_join (PeercamSignalingClient *self)
{
  g_autoptr(PeercamSioPacket) packet = NULL;
  g_autofree char *sio = NULL;
  g_autofree char *text = NULL;

  /* {"addressed": true}: Peercam's server then says who is who, so a
   * caller can serve several viewers (issue 15). Only to a server that
   * offered it: a relay with a one-argument handler (python-socketio)
   * fails on an extra argument. */
  if (self->server_addressed)
    {
      JsonObject *options = json_object_new ();

      json_object_set_boolean_member (options, "addressed", TRUE);
      packet = peercam_sio_packet_new_event (NULL, "create or join",
                                             json_node_init_string (json_node_alloc (), self->room),
                                             json_node_init_object (json_node_alloc (), options), NULL);
      json_object_unref (options);
    }
  else
    packet = peercam_sio_packet_new_event (NULL, "create or join",
                                           json_node_init_string (json_node_alloc (), self->room), NULL);
  sio = peercam_sio_packet_encode (packet);
  text = peercam_eio_encode (PEERCAM_EIO_MESSAGE, sio);

  self->join_pending = TRUE;
  send_text (self, text);
  clear_source (&self->join_wait);
  self->join_wait = add_timeout (self, JOIN_ANSWER_WAIT_MS, on_join_wait,
                                 "[peercam] signaling join answer wait");
}

static guint
read_positive_ms (JsonObject *object,
                  const char *member,
                  guint       fallback)
{
  JsonNode *node = json_object_get_member (object, member);
  gint64 value;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return fallback;
  if (json_node_get_value_type (node) != G_TYPE_INT64 && json_node_get_value_type (node) != G_TYPE_DOUBLE)
    return fallback;

  value = json_node_get_value_type (node) == G_TYPE_INT64 ? json_node_get_int (node)
                                                           : (gint64) json_node_get_double (node);
  /* Anything beyond an hour is nonsense and would overflow the sum. */
  if (value <= 0 || value > 3600 * 1000)
    return fallback;

  return (guint) value;
}

static void
handle_open (PeercamSignalingClient *self,
             JsonNode               *data)
{
  JsonObject *object;

  if (self->opened)
    {
      emit_error_literal (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                          _("The signaling server sent a second Engine.IO open packet"));
      return;
    }

  self->opened = TRUE;
  self->ping_interval_ms = DEFAULT_PING_INTERVAL_MS;
  self->ping_timeout_ms = DEFAULT_PING_TIMEOUT_MS;

  if (data == NULL || !JSON_NODE_HOLDS_OBJECT (data))
    {
      /* Keep going with the defaults: the server still speaks the protocol. */
      emit_error_literal (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                          _("The signaling server's open packet is not a JSON object"));
    }
  else
    {
      object = json_node_get_object (data);
      self->ping_interval_ms = read_positive_ms (object, "pingInterval", DEFAULT_PING_INTERVAL_MS);
      self->ping_timeout_ms = read_positive_ms (object, "pingTimeout", DEFAULT_PING_TIMEOUT_MS);
    }

  arm_ping_watchdog (self);
  send_connect (self);
}

static void
handle_connect (PeercamSignalingClient *self,
                JsonNode               *data)
{
  const char *sid = NULL;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    {
      JsonNode *member = json_object_get_member (json_node_get_object (data), "sid");

      if (member != NULL && JSON_NODE_HOLDS_VALUE (member) &&
          json_node_get_value_type (member) == G_TYPE_STRING)
        sid = json_node_get_string (member);
      /* Peercam's server offers addressed rooms (issue 15). */
      self->server_addressed = json_object_get_boolean_member_with_default (json_node_get_object (data),
                                                                            "addressed", FALSE);
    }

  if (sid == NULL)
    emit_error_literal (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                        _("The signaling server's CONNECT packet has no sid"));

  clear_source (&self->connect_timeout);
  self->attempt = 0;
  set_id (self, sid);
  set_state (self, PEERCAM_SIGNALING_STATE_CONNECTED);

  if (self->room != NULL)
    send_join (self);
  flush_queue (self);
}

static void
handle_connect_error (PeercamSignalingClient *self,
                      JsonNode               *data)
{
  g_autoptr(GError) error = NULL;
  const char *message = NULL;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    {
      JsonNode *member = json_object_get_member (json_node_get_object (data), "message");

      if (member != NULL && JSON_NODE_HOLDS_VALUE (member) &&
          json_node_get_value_type (member) == G_TYPE_STRING)
        message = json_node_get_string (member);
    }
  else if (data != NULL && JSON_NODE_HOLDS_VALUE (data) &&
           json_node_get_value_type (data) == G_TYPE_STRING)
    message = json_node_get_string (data);   /* Socket.IO 2 style */

  error = g_error_new (PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_AUTH,
                       _("The signaling server refused the connection: %s"),
                       message != NULL ? message : "no reason given");
  connection_lost (self, error);
}

static void
handle_sio_packet (PeercamSignalingClient *self,
                   PeercamSioPacket       *packet)
{
  if (strcmp (packet->nsp, "/") != 0)
    {
      emit_error (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                  _("The signaling server sent a packet for namespace “%s”"), packet->nsp);
      return;
    }

  switch (packet->type)
    {
    case PEERCAM_SIO_CONNECT:
      handle_connect (self, packet->data);
      break;

    case PEERCAM_SIO_CONNECT_ERROR:
      handle_connect_error (self, packet->data);
      break;

    case PEERCAM_SIO_DISCONNECT:
      /* The server ended our session on purpose; socket.io-client does not
       * reconnect either in that case. */
      retire_connection (self, FALSE);
      set_id (self, NULL);
      set_state (self, PEERCAM_SIGNALING_STATE_DISCONNECTED);
      emit_error_literal (self, PEERCAM_SIGNALING_CLIENT_ERROR_CLOSED,
                          _("The signaling server ended the session"));
      drop_queue (self, PEERCAM_SIGNALING_CLIENT_ERROR_NOT_CONNECTED,
                  "the signaling server ended the session");
      break;

    case PEERCAM_SIO_EVENT:
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonArray) args = NULL;
        const char *event = peercam_sio_packet_get_event (packet, &error);
        guint n_args = peercam_sio_packet_get_n_args (packet);

        if (event == NULL)
          {
            emit_error (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                        _("The signaling server sent a bad event: %s"), error->message);
            return;
          }

        /* An ack id asks for an answer; none of the relay's events do, so
         * the event is delivered and the request ignored. */
        args = json_array_sized_new (n_args);
        for (guint i = 0; i < n_args; i++)
          json_array_add_element (args, json_node_copy (peercam_sio_packet_get_arg (packet, i)));

        dispatch_event (self, event, args);
      }
      break;

    case PEERCAM_SIO_ACK:
      /* We never ask for acknowledgements. */
      break;

    case PEERCAM_SIO_BINARY_EVENT:
    case PEERCAM_SIO_BINARY_ACK:
    default:
      emit_error_literal (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                          _("The signaling server sent a binary Socket.IO packet, which is not supported"));
      break;
    }
}

/* The open packet's JSON is small; refusing big ones keeps json-glib's
 * recursive parser away from hostile nesting. */
#define MAX_OPEN_PAYLOAD 4096

static void
handle_eio_packet (PeercamSignalingClient *self,
                   PeercamEioType          type,
                   const char             *payload)
{
  switch (type)
    {
    case PEERCAM_EIO_OPEN:
      {
        g_autoptr(JsonNode) data = NULL;

        if (strlen (payload) <= MAX_OPEN_PAYLOAD)
          data = json_from_string (payload, NULL);
        handle_open (self, data);
      }
      break;

    case PEERCAM_EIO_PING:
      /* Engine.IO 4: the server pings, we answer at once and expect the
       * next ping within pingInterval + pingTimeout. */
      {
        g_autofree char *pong = peercam_eio_encode (PEERCAM_EIO_PONG, payload);

        send_text (self, pong);
        arm_ping_watchdog (self);
      }
      break;

    case PEERCAM_EIO_CLOSE:
      connection_lost_literal (self, PEERCAM_SIGNALING_CLIENT_ERROR_CLOSED,
                               _("The signaling server closed the connection"));
      break;

    case PEERCAM_EIO_MESSAGE:
      {
        g_autoptr(PeercamSioPacket) packet = NULL;
        g_autoptr(GError) error = NULL;

        if (!self->opened)
          {
            emit_error_literal (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                                _("The signaling server sent a message before the open packet"));
            return;
          }

        packet = peercam_sio_packet_decode (payload, strlen (payload), &error);
        if (packet == NULL)
          {
            emit_error (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                        _("The signaling server sent a malformed Socket.IO packet: %s"), error->message);
            return;
          }

        handle_sio_packet (self, packet);
      }
      break;

    case PEERCAM_EIO_PONG:
    case PEERCAM_EIO_NOOP:
      break;

    case PEERCAM_EIO_UPGRADE:
    default:
      emit_error_literal (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                          _("The signaling server sent an unexpected Engine.IO upgrade packet"));
      break;
    }
}

static void
on_conn_message (SoupWebsocketConnection *conn,
                 gint                     type,
                 GBytes                  *message,
                 gpointer                 user_data)
{
  PeercamSignalingClient *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *payload = NULL;
  PeercamEioType eio_type;
  gconstpointer data;
  gsize size;

  if (conn != self->conn)
    return;

  /* Handlers may drop the last reference or disconnect. */
  g_object_ref (self);

  data = g_bytes_get_data (message, &size);

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    emit_error_literal (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                        _("The signaling server sent a binary frame, which is not supported"));
  else if (!peercam_eio_decode (data, size, &eio_type, &payload, &error))
    emit_error (self, PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL,
                _("The signaling server sent a malformed Engine.IO packet: %s"), error->message);
  else
    {
      g_debug ("<< %.*s", (int) MIN (size, 200), (const char *) data);
      handle_eio_packet (self, eio_type, payload);
    }

  g_object_unref (self);
}

static void
on_conn_error (SoupWebsocketConnection *conn,
               GError                  *error,
               gpointer                 user_data)
{
  PeercamSignalingClient *self = user_data;

  /* libsoup closes the connection after this; report the cause then. */
  if (conn == self->conn && self->conn_error == NULL)
    self->conn_error = g_error_copy (error);
}

static void
on_conn_closed (SoupWebsocketConnection *conn,
                gpointer                 user_data)
{
  PeercamSignalingClient *self = user_data;
  g_autoptr(GError) error = NULL;

  if (conn != self->conn)
    return;

  if (self->conn_error != NULL)
    error = g_steal_pointer (&self->conn_error);
  else
    error = g_error_new (PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_CLOSED,
                         _("The connection to the signaling server was closed (code %u)"),
                         soup_websocket_connection_get_close_code (conn));

  connection_lost (self, error);
}

/* ------------------------------------------------------------------------ */
/* Connecting                                                                */

static gboolean
on_accept_certificate (SoupMessage          *msg,
                       GTlsCertificate      *certificate,
                       GTlsCertificateFlags  errors,
                       gpointer              user_data)
{
  PeercamSignalingClient *self = user_data;
  g_autofree char *pinned = NULL;
  g_autofree char *fingerprint = NULL;

  /* Only reached for certificates the system does not trust. */
  if (self->pinned_certificate == NULL)
    return FALSE;

  pinned = normalize_fingerprint (self->pinned_certificate);
  fingerprint = peercam_signaling_client_certificate_fingerprint (certificate);
  if (pinned != NULL && fingerprint != NULL && strcmp (pinned, fingerprint) == 0)
    return TRUE;

  set_str (&self->certificate_mismatch, fingerprint);
  return FALSE;
}

static void
on_websocket_connected (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  PeercamSignalingClient *self;
  g_autoptr(SoupWebsocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);

  /* Cancelled means the attempt was abandoned, maybe by dispose: don't
   * touch user_data. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = user_data;
  g_clear_object (&self->cancellable);

  if (conn == NULL)
    {
      if (self->certificate_mismatch != NULL)
        {
          g_autoptr(GError) pin_error = NULL;

          pin_error = g_error_new (PEERCAM_SIGNALING_CLIENT_ERROR,
                                   PEERCAM_SIGNALING_CLIENT_ERROR_CERTIFICATE,
                                   _("The signaling server's certificate (SHA-256 %s) does not match the pinned certificate"),
                                   self->certificate_mismatch);
          g_clear_pointer (&self->certificate_mismatch, g_free);
          connection_lost (self, pin_error);
        }
      else
        connection_lost (self, error);
      return;
    }

  self->conn = g_steal_pointer (&conn);
  self->opened = FALSE;
  soup_websocket_connection_set_max_incoming_payload_size (self->conn, MAX_PAYLOAD);
  g_signal_connect (self->conn, "message", G_CALLBACK (on_conn_message), self);
  g_signal_connect (self->conn, "error", G_CALLBACK (on_conn_error), self);
  g_signal_connect (self->conn, "closed", G_CALLBACK (on_conn_closed), self);
}

static void
start_attempt (PeercamSignalingClient *self)
{
  g_autoptr(SoupMessage) msg = NULL;

  retire_connection (self, FALSE);
  g_clear_pointer (&self->certificate_mismatch, g_free);

  if (self->state != PEERCAM_SIGNALING_STATE_RECONNECTING)
    set_state (self, PEERCAM_SIGNALING_STATE_CONNECTING);

  msg = soup_message_new_from_uri (SOUP_METHOD_GET, self->ws_uri);
  g_signal_connect_object (msg, "accept-certificate", G_CALLBACK (on_accept_certificate), self, 0);

  self->cancellable = g_cancellable_new ();
  self->connect_timeout = add_timeout (self, CONNECT_TIMEOUT_MS, on_connect_timeout,
                                       "[peercam] signaling connect timeout");

  soup_session_websocket_connect_async (self->session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        self->cancellable, on_websocket_connected, self);
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                   */

static void
peercam_signaling_client_dispose (GObject *object)
{
  PeercamSignalingClient *self = (PeercamSignalingClient *)object;

  retire_connection (self, TRUE);
  clear_source (&self->reconnect_timer);

  /* Finalizing a connection closes its stream, which ends the handshake. */
  if (self->closing != NULL)
    {
      for (guint i = 0; i < self->closing->len; i++)
        g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->closing, i), self);
      g_ptr_array_set_size (self->closing, 0);
    }

  g_clear_object (&self->session);

  G_OBJECT_CLASS (peercam_signaling_client_parent_class)->dispose (object);
}

static void
peercam_signaling_client_finalize (GObject *object)
{
  PeercamSignalingClient *self = (PeercamSignalingClient *)object;

  g_queue_clear_full (&self->queue, g_free);
  g_clear_pointer (&self->closing, g_ptr_array_unref);
  g_clear_pointer (&self->ws_uri, g_uri_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->room, g_free);
  g_clear_pointer (&self->token, g_free);
  g_clear_pointer (&self->pinned_certificate, g_free);
  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->certificate_mismatch, g_free);

  g_clear_pointer (&self->members, g_strfreev);

  G_OBJECT_CLASS (peercam_signaling_client_parent_class)->finalize (object);
}

static void
peercam_signaling_client_get_property (GObject    *object,
                                       guint       prop_id,
                                       GValue     *value,
                                       GParamSpec *pspec)
{
  PeercamSignalingClient *self = PEERCAM_SIGNALING_CLIENT (object);

  switch (prop_id)
    {
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;
    case PROP_ROOM:
      g_value_set_string (value, self->room);
      break;
    case PROP_TOKEN:
      g_value_set_string (value, self->token);
      break;
    case PROP_PINNED_CERTIFICATE:
      g_value_set_string (value, self->pinned_certificate);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_RECONNECT:
      g_value_set_boolean (value, self->reconnect);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_signaling_client_set_property (GObject      *object,
                                       guint         prop_id,
                                       const GValue *value,
                                       GParamSpec   *pspec)
{
  PeercamSignalingClient *self = PEERCAM_SIGNALING_CLIENT (object);

  switch (prop_id)
    {
    case PROP_URL:
      /* Construct-only; validated by connect() so the error has a home. */
      self->url = g_value_dup_string (value);
      break;
    case PROP_TOKEN:
      peercam_signaling_client_set_token (self, g_value_get_string (value));
      break;
    case PROP_PINNED_CERTIFICATE:
      peercam_signaling_client_set_pinned_certificate (self, g_value_get_string (value));
      break;
    case PROP_RECONNECT:
      peercam_signaling_client_set_reconnect (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_signaling_client_class_init (PeercamSignalingClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = peercam_signaling_client_dispose;
  object_class->finalize = peercam_signaling_client_finalize;
  object_class->get_property = peercam_signaling_client_get_property;
  object_class->set_property = peercam_signaling_client_set_property;

  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_ROOM] =
    g_param_spec_string ("room", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_TOKEN] =
    g_param_spec_string ("token", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_PINNED_CERTIFICATE] =
    g_param_spec_string ("pinned-certificate", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       PEERCAM_TYPE_SIGNALING_STATE,
                       PEERCAM_SIGNALING_STATE_DISCONNECTED,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_RECONNECT] =
    g_param_spec_boolean ("reconnect", NULL, NULL,
                          TRUE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PeercamSignalingClient::created:
   * @room: the room
   * @id: our Socket.IO id
   *
   * We made @room and are alone in it (also after a reconnect).
   */
  signals[SIGNAL_CREATED] =
    g_signal_new ("created", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  /**
   * PeercamSignalingClient::joined:
   * @room: the room
   * @id: our Socket.IO id
   *
   * We joined @room, which someone else had created: the server said so, or
   * (the reference relay answers only a room's creator) a peer's message
   * reached us, or no answer came within 1.5 s.
   */
  signals[SIGNAL_JOINED] =
    g_signal_new ("joined", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  /**
   * PeercamSignalingClient::call:
   * @id: (nullable): the Socket.IO id of the member that arrived, when the
   *   server says (Peercam's, to an addressed member)
   *
   * A peer joined our room: the one already there starts the call.
   */
  signals[SIGNAL_CALL] =
    g_signal_new ("call", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * PeercamSignalingClient::full:
   * @room: the room that has no place left
   */
  signals[SIGNAL_FULL] =
    g_signal_new ("full", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * PeercamSignalingClient::signal:
   * @description: a JSON object, e.g. {"type": "offer", "sdp": …}
   * @from: (nullable): the sender's Socket.IO id, when the server says
   */
  signals[SIGNAL_SIGNAL] =
    g_signal_new ("signal", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, JSON_TYPE_NODE, G_TYPE_STRING);

  /**
   * PeercamSignalingClient::ice:
   * @candidate: a JSON object, e.g. {"candidate": …, "sdpMLineIndex": 0}
   * @from: (nullable): the sender's Socket.IO id, when the server says
   */
  signals[SIGNAL_ICE] =
    g_signal_new ("ice", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, JSON_TYPE_NODE, G_TYPE_STRING);

  /**
   * PeercamSignalingClient::bye:
   * @id: (nullable): the Socket.IO id of the peer that left, if the server said
   */
  signals[SIGNAL_BYE] =
    g_signal_new ("bye", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * PeercamSignalingClient::server-error:
   * @message: what the server's "error" event said
   */
  signals[SIGNAL_SERVER_ERROR] =
    g_signal_new ("server-error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * PeercamSignalingClient::error:
   * @error: what went wrong: unreachable server, TLS, auth, timeouts,
   *   malformed data, messages that could not be sent
   */
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR);

  /**
   * PeercamSignalingClient::event:
   * @name: the event name; also the signal detail
   * @args: the event's arguments
   *
   * Any event the client does not know.
   */
  signals[SIGNAL_EVENT] =
    g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, JSON_TYPE_ARRAY);
}

static void
peercam_signaling_client_init (PeercamSignalingClient *self)
{
  self->reconnect = TRUE;
  self->state = PEERCAM_SIGNALING_STATE_DISCONNECTED;
  self->context = g_main_context_ref_thread_default ();
  self->session = soup_session_new ();
  self->closing = g_ptr_array_new_with_free_func (g_object_unref);
  self->ping_interval_ms = DEFAULT_PING_INTERVAL_MS;
  self->ping_timeout_ms = DEFAULT_PING_TIMEOUT_MS;
  g_queue_init (&self->queue);
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                */

/**
 * peercam_signaling_client_new:
 * @url: the server's base URL as a browser gives it to `io.connect()`:
 *   `http://host:8080`, `https://host:8443`, `ws://…` or `wss://…`
 *
 * The URL is checked by peercam_signaling_client_connect().
 */
PeercamSignalingClient *
peercam_signaling_client_new (const char *url)
{
  return g_object_new (PEERCAM_TYPE_SIGNALING_CLIENT, "url", url, NULL);
}

const char *
peercam_signaling_client_get_url (PeercamSignalingClient *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self), NULL);

  return self->url;
}

const char *
peercam_signaling_client_get_room (PeercamSignalingClient *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self), NULL);

  return self->room;
}

const char *
peercam_signaling_client_get_id (PeercamSignalingClient *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self), NULL);

  return self->id;
}

PeercamSignalingState
peercam_signaling_client_get_state (PeercamSignalingClient *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self), PEERCAM_SIGNALING_STATE_DISCONNECTED);

  return self->state;
}

const char *
peercam_signaling_client_get_token (PeercamSignalingClient *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self), NULL);

  return self->token;
}

/**
 * peercam_signaling_client_set_token:
 *
 * Sent in the Socket.IO CONNECT packet (`auth.token`) from the next
 * connection on.
 */
void
peercam_signaling_client_set_token (PeercamSignalingClient *self,
                                    const char             *token)
{
  g_return_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self));

  if (set_str (&self->token, token))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKEN]);
}

const char *
peercam_signaling_client_get_pinned_certificate (PeercamSignalingClient *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self), NULL);

  return self->pinned_certificate;
}

/**
 * peercam_signaling_client_set_pinned_certificate:
 * @sha256_hex: (nullable): SHA-256 fingerprint of the server certificate in
 *   hex, colons allowed
 *
 * A certificate the system does not trust (self-signed) is accepted only when
 * its fingerprint matches; trusted certificates are accepted as usual.
 */
void
peercam_signaling_client_set_pinned_certificate (PeercamSignalingClient *self,
                                                 const char             *sha256_hex)
{
  g_return_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self));

  if (sha256_hex != NULL && *sha256_hex == '\0')
    sha256_hex = NULL;

  if (set_str (&self->pinned_certificate, sha256_hex))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PINNED_CERTIFICATE]);
}

gboolean
peercam_signaling_client_get_reconnect (PeercamSignalingClient *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self), FALSE);

  return self->reconnect;
}

void
peercam_signaling_client_set_reconnect (PeercamSignalingClient *self,
                                        gboolean                reconnect)
{
  g_return_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self));

  reconnect = !!reconnect;
  if (self->reconnect == reconnect)
    return;

  self->reconnect = reconnect;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECONNECT]);
}

/**
 * peercam_signaling_client_connect:
 *
 * Starts connecting; progress shows in #PeercamSignalingClient:state and
 * failures arrive as #PeercamSignalingClient::error. Does nothing when already
 * connected or connecting.
 *
 * Returns: %FALSE with @error set when the URL or the pinned certificate
 *   cannot work at all.
 */
gboolean
peercam_signaling_client_connect (PeercamSignalingClient  *self,
                                  GError                 **error)
{
  g_autoptr(GUri) uri = NULL;

  g_return_val_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->state != PEERCAM_SIGNALING_STATE_DISCONNECTED &&
      self->state != PEERCAM_SIGNALING_STATE_FAILED)
    return TRUE;

  uri = build_websocket_uri (self->url, error);
  if (uri == NULL)
    return FALSE;

  if (self->pinned_certificate != NULL)
    {
      g_autofree char *pinned = normalize_fingerprint (self->pinned_certificate);

      if (pinned == NULL)
        {
          g_set_error (error, PEERCAM_SIGNALING_CLIENT_ERROR,
                       PEERCAM_SIGNALING_CLIENT_ERROR_CERTIFICATE,
                       "“%s” is not a SHA-256 certificate fingerprint",
                       self->pinned_certificate);
          return FALSE;
        }
    }

  g_clear_pointer (&self->ws_uri, g_uri_unref);
  self->ws_uri = g_steal_pointer (&uri);
  self->attempt = 0;
  start_attempt (self);

  return TRUE;
}

/**
 * peercam_signaling_client_disconnect:
 *
 * Leaves cleanly: sends a Socket.IO DISCONNECT, closes the WebSocket and does
 * not reconnect. Messages still queued are reported as not sent.
 */
void
peercam_signaling_client_disconnect (PeercamSignalingClient *self)
{
  g_return_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self));

  g_object_ref (self);

  /* Only a session the server knows about needs a DISCONNECT packet. */
  retire_connection (self, self->state == PEERCAM_SIGNALING_STATE_CONNECTED ||
                           self->state == PEERCAM_SIGNALING_STATE_JOINED);
  clear_source (&self->reconnect_timer);
  self->attempt = 0;
  set_room (self, NULL);
  set_id (self, NULL);
  set_state (self, PEERCAM_SIGNALING_STATE_DISCONNECTED);
  drop_queue (self, PEERCAM_SIGNALING_CLIENT_ERROR_NOT_CONNECTED, "disconnected");

  g_object_unref (self);
}

/**
 * peercam_signaling_client_join:
 * @room: the room name
 *
 * Asks the server to create or join @room, now or as soon as the client is
 * connected, and again after every reconnect. Answers arrive as ::created,
 * ::joined or ::full.
 *
 * Returns: %FALSE with @error set when the client is already in another room.
 */
gboolean
peercam_signaling_client_join (PeercamSignalingClient  *self,
                               const char              *room,
                               GError                 **error)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self), FALSE);
  g_return_val_if_fail (room != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (*room == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("The room name is empty"));
      return FALSE;
    }

  /* The relay has no "leave": a second room would leave us in both. */
  if (self->room != NULL && strcmp (self->room, room) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   _("Already in room “%s”; disconnect before joining “%s”"),
                   self->room, room);
      return FALSE;
    }

  if (self->room != NULL && (self->join_pending || self->state == PEERCAM_SIGNALING_STATE_JOINED))
    return TRUE;

  set_room (self, room);

  if (self->state == PEERCAM_SIGNALING_STATE_CONNECTED && connection_is_open (self))
    {
      send_join (self);
      flush_queue (self);
    }

  return TRUE;
}

/**
 * peercam_signaling_client_emit:
 * @event: the event name
 * @arg: (nullable): the single argument
 *
 * Sends `[event, arg]`. While (re)connecting, the message is queued (up to
 * 256) and sent, in order, right after the client has asked for its room
 * again.
 *
 * Returns: %TRUE when sent or queued; otherwise ::error was emitted.
 */
static gboolean send_or_queue (PeercamSignalingClient *self, const char *event, char *text_owned);

gboolean
peercam_signaling_client_emit (PeercamSignalingClient *self,
                               const char             *event,
                               JsonNode               *arg)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self), FALSE);
  g_return_val_if_fail (event != NULL && *event != '\0', FALSE);

  text = encode_event (event, arg);
  return send_or_queue (self, event, g_steal_pointer (&text));
}

static gboolean
send_or_queue (PeercamSignalingClient *self,
               const char             *event,
               char                   *text_owned)
{
  g_autofree char *text = text_owned;

  if (can_send_now (self))
    {
      flush_queue (self);
      send_text (self, text);
      return TRUE;
    }

  if (self->state == PEERCAM_SIGNALING_STATE_DISCONNECTED ||
      self->state == PEERCAM_SIGNALING_STATE_FAILED)
    {
      emit_error (self, PEERCAM_SIGNALING_CLIENT_ERROR_NOT_CONNECTED,
                  _("Cannot send “%s”: not connected to the signaling server"), event);
      return FALSE;
    }

  if (self->queue.length >= MAX_QUEUED)
    {
      emit_error (self, PEERCAM_SIGNALING_CLIENT_ERROR_QUEUE_FULL,
                  _("Cannot send “%s”: %u messages are already waiting for the signaling server"),
                  event, self->queue.length);
      return FALSE;
    }

  g_queue_push_tail (&self->queue, g_steal_pointer (&text));

  return TRUE;
}

/* Sends [event, arg?, {"to": @to}], or [event, arg?] without @to. */
static gboolean
emit_to (PeercamSignalingClient *self,
         const char             *event,
         JsonNode               *arg,
         const char             *to)
{
  g_autoptr(PeercamSioPacket) packet = NULL;
  g_autofree char *sio = NULL;
  g_autofree char *text = NULL;
  JsonArray *array;

  if (to == NULL)
    return peercam_signaling_client_emit (self, event, arg);

  array = json_array_new ();
  json_array_add_string_element (array, event);
  if (arg != NULL)
    json_array_add_element (array, json_node_copy (arg));
  {
    JsonObject *route = json_object_new ();

    json_object_set_string_member (route, "to", to);
    json_array_add_object_element (array, route);
  }
  packet = peercam_sio_packet_new (PEERCAM_SIO_EVENT, NULL, -1, json_node_init_array (json_node_alloc (), array));
  json_array_unref (array);
  sio = peercam_sio_packet_encode (packet);
  text = peercam_eio_encode (PEERCAM_EIO_MESSAGE, sio);
  return send_or_queue (self, event, g_steal_pointer (&text));
}

static gboolean
emit_object (PeercamSignalingClient *self,
             const char             *event,
             JsonNode               *object,
             const char             *to)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self), FALSE);
  g_return_val_if_fail (object != NULL && JSON_NODE_HOLDS_OBJECT (object), FALSE);

  return emit_to (self, event, object, to);
}

/**
 * peercam_signaling_client_send_signal:
 * @description: a JSON object: {"type": "offer"|"answer", "sdp": …}
 */
gboolean
peercam_signaling_client_send_signal (PeercamSignalingClient *self,
                                      JsonNode               *description)
{
  return emit_object (self, "signal", description, NULL);
}

/**
 * peercam_signaling_client_send_signal_to:
 * @to: (nullable): the Socket.IO id of the one member to reach (Peercam's
 *   server); NULL: the room
 */
gboolean
peercam_signaling_client_send_signal_to (PeercamSignalingClient *self,
                                         JsonNode               *description,
                                         const char             *to)
{
  return emit_object (self, "signal", description, to);
}

/**
 * peercam_signaling_client_send_ice:
 * @candidate: a JSON object: {"candidate": …, "sdpMid": …, "sdpMLineIndex": …}
 */
gboolean
peercam_signaling_client_send_ice (PeercamSignalingClient *self,
                                   JsonNode               *candidate)
{
  return emit_object (self, "ice", candidate, NULL);
}

gboolean
peercam_signaling_client_send_ice_to (PeercamSignalingClient *self,
                                      JsonNode               *candidate,
                                      const char             *to)
{
  return emit_object (self, "ice", candidate, to);
}

/**
 * peercam_signaling_client_send_bye:
 *
 * Tells the peer that we hang up: sends `["bye", our id]`, the same shape the
 * server sends for a peer that disconnected, since it relays verbatim.
 */
gboolean
peercam_signaling_client_send_bye (PeercamSignalingClient *self)
{
  g_autoptr(JsonNode) id = NULL;

  g_return_val_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self), FALSE);

  /* While reconnecting the id is unknown; the new one is not known yet either. */
  if (self->id != NULL)
    id = json_node_init_string (json_node_alloc (), self->id);

  return peercam_signaling_client_emit (self, "bye", id);
}

/**
 * peercam_signaling_client_send_bye_to:
 * @to: (nullable): the one member to tell (Peercam's server); NULL: the room
 */
gboolean
peercam_signaling_client_send_bye_to (PeercamSignalingClient *self,
                                      const char             *to)
{
  g_autoptr(JsonNode) id = NULL;

  g_return_val_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self), FALSE);

  if (self->id != NULL)
    id = json_node_init_string (json_node_alloc (), self->id);
  return emit_to (self, "bye", id, to);
}

/**
 * peercam_signaling_client_get_members:
 *
 * Returns: (nullable) (transfer none): the members that were in the room
 *   when we joined it, when the server said (Peercam's, addressed join)
 */
const char * const *
peercam_signaling_client_get_members (PeercamSignalingClient *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_CLIENT (self), NULL);
  return (const char * const *) self->members;
}
