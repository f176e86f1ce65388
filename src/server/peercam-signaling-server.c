/* peercam-signaling-server.c — embedded Socket.IO 4 signaling server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "peercam-server"

#include "peercam-signaling-server.h"

#include "peercam-room-table.h"
#include "peercam-sio-packet.h"
#include "peercam-ws-hub.h"

#include <fcntl.h>
#include <gio/gnetworking.h>
#include <gio/gunixsocketaddress.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/random.h>

#define MAX_ROOM_NAME 256

/* GSocket listens with a backlog of 10: a burst of connects (a class
 * joining at once) overflows it and refused SYNs are retried only after
 * 1, 3, 7 s. The kernel caps this at net.core.somaxconn. */
#define LISTEN_BACKLOG 4096

/* Connections taken per wakeup of a listening socket. */
#define ACCEPT_BATCH 64
/* After an accept error (out of fds…), accepting pauses this long instead
 * of spinning on a socket that stays readable. */
#define ACCEPT_PAUSE_MS 500

/* Pings due within this much of the earliest are sent in the same timer
 * wakeup (at most this much early), so thousands of idle sessions cost a
 * few wakeups per ping interval rather than one each. */
#define PING_SLACK_MAX_US (100 * G_TIME_SPAN_MILLISECOND)

/* Deadlines of connections and sessions that never get anywhere: one
 * sweep checks them this often (a timer each would cost a GSource per
 * connection). */
#define SWEEP_INTERVAL_MS 250

/* Wrong tokens: each one closes its transport, and an address with this
 * many failures in a window is refused outright until the window ends. */
#define TOKEN_FAILURES_MAX     5
#define TOKEN_FAILURE_WINDOW_US (60 * G_TIME_SPAN_SECOND)

/* One Engine.IO session. Kept small: ~100 bytes plus the transport, because
 * a server may hold thousands. Reference-counted (g_rc_box) so packet
 * dispatch survives a handler closing the session under it. */
typedef struct {
  PeercamSignalingServer  *server;     /* unowned; the server outlives open sessions */
  char                    *sid;        /* Engine.IO session id */
  char                    *socket_id;  /* Socket.IO id once CONNECTed to "/" */
  char                    *peer;       /* the client's address ("127.0.0.1") */
  PeercamWsConn           *ws;         /* websocket transport, once on it */
  PeercamWsConn           *probe;      /* websocket being upgraded to */
  SoupServerMessage       *poll;       /* paused long-poll GET */
  GString                 *outbox;     /* polling: 0x1e-joined packets not yet fetched */
  GList                    deadline_link;  /* in the server's ping or pong queue; data = this */
  GList                    handshake_link; /* in server->handshakes until polled; data = this */
  gint64                   deadline;   /* monotonic µs: next ping, or the pong deadline */
  gint64                   opened;     /* monotonic µs: Engine.IO handshake */
  gint64                   deadline_handshake;  /* polling: first GET or upgrade by then */
  guint                    queued : 1;         /* deadline_link is in a queue */
  guint                    awaiting_pong : 1;  /* which queue: pong (TRUE) or ping */
  guint                    probed : 1;   /* 2probe answered, waiting for 5 */
  guint                    close_after_poll : 1;  /* refused: close once the outbox is fetched */
  guint                    pending : 1;  /* counted in server->pending (not CONNECTed yet) */
  guint                    closed : 1;
  guint                    addressed : 1;  /* joined with {"addressed": true}: gets ids (issue 15) */
} Session;

/* A listening socket the server accepts on itself (plain HTTP): libsoup's
 * listener takes one connection per main loop iteration and, in libsoup
 * 3.2, never frees the GSocket of each (~350 bytes a connection). */
typedef struct {
  PeercamSignalingServer *server;  /* unowned: it owns this */
  GSocket                *socket;
  GSource                *source;  /* NULL while paused */
  guint                   resume_id;
  gboolean                warned;
  gboolean                tls;     /* HTTPS: each connection is wrapped in TLS */
} Listener;

static void listener_free (Listener *listener);

struct _PeercamSignalingServer
{
  GObject           parent_instance;

  SoupServer       *soup;
  GHashTable       *sessions;  /* sid → Session (ref) */
  GHashTable       *sockets;   /* socket id → Session (unowned) */
  GHashTable       *failures;  /* address → Failures: recent wrong tokens */
  GHashTable       *pending;   /* address → count of its sessions not CONNECTed yet */
  GHashTable       *http;      /* "host:port" → HttpConn: connections libsoup serves */
  GHashTable       *half_open; /* address → count of its connections without a first request */
  GQueue            handshakes;  /* Session (polling) by handshake time, until polled */
  GSource          *sweep;
  gboolean          stopping;  /* closing every session in stop() */
  PeercamRoomTable *rooms;
  PeercamWsHub     *hub;       /* every websocket, from start() on */
  GPtrArray        *listeners; /* Listener: our own plain-HTTP listening sockets */

  /* One timer for every session's ping and pong deadlines: a GSource per
   * session made GLib's main loop walk thousands of timers on every
   * iteration. Every session waits the same ping-interval (or
   * ping-timeout), so appending keeps each queue sorted by deadline (after
   * a change of either at runtime, sessions queued behind older, later
   * deadlines are served at most one old interval late, once). */
  GQueue            ping_queue;  /* Session, waiting to be pinged */
  GQueue            pong_queue;  /* Session, pinged and awaiting the pong */
  GSource          *ticker;      /* ready at the earliest deadline */

  char             *bind_address;
  char             *token;
  GStrv             allowed_origins;  /* besides our own */
  guint             port;
  guint             bound_port;
  guint             room_capacity;
  guint             max_message_size;
  guint             max_connections;
  guint             ping_interval;
  guint             ping_timeout;
  guint             connect_timeout;
  guint             header_timeout;
  guint             handshake_timeout;
  guint             max_pending_per_address;
  gboolean          running;
};

G_DEFINE_FINAL_TYPE (PeercamSignalingServer, peercam_signaling_server, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PORT,
  PROP_BIND_ADDRESS,
  PROP_ROOM_CAPACITY,
  PROP_MAX_MESSAGE_SIZE,
  PROP_MAX_CONNECTIONS,
  PROP_TOKEN,
  PROP_PING_INTERVAL,
  PROP_PING_TIMEOUT,
  PROP_CONNECT_TIMEOUT,
  PROP_HEADER_TIMEOUT,
  PROP_HANDSHAKE_TIMEOUT,
  PROP_MAX_PENDING_PER_ADDRESS,
  PROP_ALLOWED_ORIGINS,
  PROP_RUNNING,
  PROP_TLS_CERTIFICATE,   /* web: HTTPS/WSS */
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  CLIENT_CONNECTED,
  CLIENT_DISCONNECTED,
  CLIENT_JOINED,
  CLIENT_LEFT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Engine.IO's HTTP error bodies. */
enum {
  EIO_ERROR_UNKNOWN_TRANSPORT = 0,
  EIO_ERROR_UNKNOWN_SID = 1,
  EIO_ERROR_BAD_HANDSHAKE_METHOD = 2,
  EIO_ERROR_BAD_REQUEST = 3,
  EIO_ERROR_FORBIDDEN = 4,
  EIO_ERROR_UNSUPPORTED_PROTOCOL_VERSION = 5,
};

static void session_close (Session *s, gushort code, const char *reason);
static void session_not_pending (Session *s);

typedef struct {
  gint64 window_start;  /* monotonic µs */
  guint  count;
} Failures;

/* A connection (HTTP or HTTPS) we accepted and libsoup serves, until it
 * is upgraded, refused or closed. Idle ones (before the headers of a request
 * are complete) are closed at their deadline: slowloris. */
typedef struct {
  GSocketConnection *connection;
  char              *peer;        /* address */
  gint64             deadline;    /* monotonic µs, while idle */
  guint              busy : 1;    /* a request is being handled (or long-polls) */
  guint              requested : 1;  /* its first request's headers came */
} HttpConn;

static void
http_conn_free (HttpConn *c)
{
  g_object_unref (c->connection);
  g_free (c->peer);
  g_free (c);
}

static guint
count_get (GHashTable *counts, const char *key)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (counts, key));
}

static void
count_add (GHashTable *counts, const char *key, int delta)
{
  guint n = count_get (counts, key) + delta;

  if (n == 0)
    g_hash_table_remove (counts, key);
  else
    g_hash_table_insert (counts, g_strdup (key), GUINT_TO_POINTER (n));
}

/* --- helpers ------------------------------------------------------------- */

#define log_event(level, room, id, ...) \
  g_log_structured (G_LOG_DOMAIN, level, "PEERCAM_ROOM", "%s", (room) ? (room) : "", \
                    "PEERCAM_CLIENT", "%s", (id) ? (id) : "", "MESSAGE", __VA_ARGS__)

/* 120 random bits, URL-safe: session ids authenticate polling requests. */
static char *
random_id (void)
{
  guint8 bytes[15];
  char *id;

  if (getrandom (bytes, sizeof bytes, 0) != sizeof bytes)
    for (guint i = 0; i < sizeof bytes; i++)
      bytes[i] = (guint8) g_random_int ();

  id = g_base64_encode (bytes, sizeof bytes);
  for (char *p = id; *p; p++)
    if (*p == '+')
      *p = '-';
    else if (*p == '/')
      *p = '_';
  return id;
}

/* Token comparison that does not leak the matching prefix length. */
static gboolean
token_equal (const char *expected, const char *given)
{
  gsize n = strlen (expected);
  guint diff;

  if (given == NULL)
    return FALSE;
  diff = strlen (given) != n;
  for (gsize i = 0; i < n && given[i]; i++)
    diff |= (guchar) expected[i] ^ (guchar) given[i];
  return diff == 0;
}

static Session *
session_ref (Session *s)
{
  return g_rc_box_acquire (s);
}

static void
session_clear (Session *s)
{
  g_free (s->sid);
  g_free (s->socket_id);
  g_free (s->peer);
  if (s->outbox != NULL)
    g_string_free (s->outbox, TRUE);
}

static void
session_unref (Session *s)
{
  g_rc_box_release_full (s, (GDestroyNotify) session_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Session, session_unref)

/* --- sending ------------------------------------------------------------- */

static void
poll_finished_cb (SoupServerMessage *msg,
                  Session           *s)
{
  if (s->poll == msg)
    s->poll = NULL;
}

/* Answers the paused long-poll GET with @body (taken). */
static void
session_answer_poll (Session *s,
                     char    *body,
                     gsize    len)
{
  SoupServerMessage *msg = g_steal_pointer (&s->poll);

  g_signal_handlers_disconnect_by_func (msg, poll_finished_cb, s);
  soup_server_message_set_response (msg, "text/plain; charset=UTF-8", SOUP_MEMORY_TAKE, body, len);
  soup_server_message_unpause (msg);
}

static void
session_flush_poll (Session *s)
{
  gsize len;

  if (s->poll == NULL || s->outbox == NULL || s->outbox->len == 0)
    return;
  if (s->close_after_poll)
    {
      /* The refusal, then Engine.IO's close packet. */
      g_string_append_c (s->outbox, PEERCAM_EIO_RECORD_SEPARATOR);
      g_string_append_c (s->outbox, '0' + PEERCAM_EIO_CLOSE);
    }
  len = s->outbox->len;
  session_answer_poll (s, g_string_free (g_steal_pointer (&s->outbox), FALSE), len);
  if (s->close_after_poll)
    session_close (s, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, NULL);
}

/* Sends one Engine.IO packet. */
static void
session_send (Session    *s,
              const char *text,
              gsize       len)
{
  if (s->closed)
    return;

  if (s->ws != NULL)
    {
      peercam_ws_conn_send_text (s->ws, text, len);
      return;
    }

  if (s->outbox == NULL)
    s->outbox = g_string_sized_new (len + 1);
  else if (s->outbox->len > 0)
    g_string_append_c (s->outbox, PEERCAM_EIO_RECORD_SEPARATOR);
  g_string_append_len (s->outbox, text, (gssize) len);
  session_flush_poll (s);
}

static void
session_send_str (Session    *s,
                  const char *text)
{
  session_send (s, text, strlen (text));
}

/* Sends a Socket.IO packet on "/" inside an Engine.IO message. */
static void
session_send_sio (Session          *s,
                  PeercamSioPacket *packet)
{
  g_autofree char *sio = peercam_sio_packet_encode (packet);
  g_autofree char *eio = peercam_eio_encode (PEERCAM_EIO_MESSAGE, sio);

  session_send_str (s, eio);
}

static void
session_send_event (Session    *s,
                    const char *event,
                    JsonNode   *first_arg,
                    ...)
{
  g_autoptr(PeercamSioPacket) packet = NULL;
  g_autoptr(JsonArray) array = json_array_new ();
  JsonNode *node;
  va_list args;

  json_array_add_string_element (array, event);
  va_start (args, first_arg);
  for (node = first_arg; node != NULL; node = va_arg (args, JsonNode *))
    json_array_add_element (array, node);
  va_end (args);

  packet = peercam_sio_packet_new (PEERCAM_SIO_EVENT, NULL, -1,
                                   json_node_init_array (json_node_alloc (), array));
  session_send_sio (s, packet);
}

static JsonNode *
string_node (const char *value)
{
  return json_node_init_string (json_node_alloc (), value);
}

static void
session_send_error (Session    *s,
                    const char *message)
{
  session_send_event (s, "error", string_node (message), NULL);
}

static void
session_ack (Session  *s,
             gint64    id,
             JsonNode *result)
{
  g_autoptr(PeercamSioPacket) packet = NULL;

  if (id < 0)
    {
      json_node_unref (result);
      return;
    }
  packet = peercam_sio_packet_new_ack (NULL, id, result, NULL);
  session_send_sio (s, packet);
}

static void
session_fail (Session    *s,
              gint64      ack_id,
              const char *message)
{
  g_autoptr(JsonObject) object = NULL;

  session_send_error (s, message);
  if (ack_id < 0)
    return;
  object = json_object_new ();
  json_object_set_string_member (object, "error", message);
  session_ack (s, ack_id, json_node_init_object (json_node_alloc (), object));
}

/* --- ping / pong ----------------------------------------------------------- */

static void
ticker_update (PeercamSignalingServer *self)
{
  Session *ping = g_queue_peek_head (&self->ping_queue);
  Session *pong = g_queue_peek_head (&self->pong_queue);
  gint64 ready = -1;

  if (ping != NULL)
    ready = ping->deadline;
  if (pong != NULL && (ready < 0 || pong->deadline < ready))
    ready = pong->deadline;
  /* Removing a head leaves the ready time early: the wakeup then finds
   * nothing due and moves it on, cheaper than recomputing on every pong. */
  g_source_set_ready_time (self->ticker, ready);
}

static void
session_unqueue (Session *s)
{
  PeercamSignalingServer *self = s->server;

  if (!s->queued)
    return;
  g_queue_unlink (s->awaiting_pong ? &self->pong_queue : &self->ping_queue, &s->deadline_link);
  s->queued = FALSE;
}

/* Waits @delay_ms for the next ping, or for the pong when @awaiting_pong. */
static void
session_queue (Session  *s,
               gboolean  awaiting_pong,
               guint     delay_ms)
{
  PeercamSignalingServer *self = s->server;
  GQueue *queue = awaiting_pong ? &self->pong_queue : &self->ping_queue;
  gboolean was_empty = queue->head == NULL;

  session_unqueue (s);
  s->awaiting_pong = awaiting_pong;
  s->deadline = g_get_monotonic_time () + (gint64) delay_ms * G_TIME_SPAN_MILLISECOND;
  s->deadline_link.data = s;
  g_queue_push_tail_link (queue, &s->deadline_link);
  s->queued = TRUE;
  /* Appending to a non-empty queue never moves its earliest deadline. */
  if (was_empty)
    ticker_update (self);
}

static void
session_schedule_ping (Session *s)
{
  session_queue (s, FALSE, s->server->ping_interval);
}

static gboolean
ticker_cb (gpointer user_data)
{
  PeercamSignalingServer *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 slack = MIN ((gint64) self->ping_interval * G_TIME_SPAN_MILLISECOND / 10, PING_SLACK_MAX_US);
  Session *s;

  g_object_ref (self);

  while ((s = g_queue_peek_head (&self->pong_queue)) != NULL && s->deadline <= now)
    {
      g_autoptr(Session) hold G_GNUC_UNUSED = session_ref (s);

      session_unqueue (s);
      log_event (G_LOG_LEVEL_INFO, NULL, s->socket_id ? s->socket_id : s->sid, "ping timeout");
      session_close (s, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "ping timeout");
    }

  while ((s = g_queue_peek_head (&self->ping_queue)) != NULL && s->deadline <= now + slack)
    {
      g_autoptr(Session) hold G_GNUC_UNUSED = session_ref (s);

      /* Like the stock server's connectTimeout: a transport that never
       * joins the namespace only holds a connection slot. */
      if (s->socket_id == NULL && now - s->opened >= (gint64) self->connect_timeout * G_TIME_SPAN_MILLISECOND)
        {
          session_unqueue (s);
          log_event (G_LOG_LEVEL_INFO, NULL, s->sid, "connect timeout");
          session_close (s, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "connect timeout");
          continue;
        }
      session_queue (s, TRUE, self->ping_timeout);
      session_send (s, "2", 1);
    }

  ticker_update (self);
  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
ticker_dispatch (GSource     *source,
                 GSourceFunc  callback,
                 gpointer     user_data)
{
  return callback (user_data);
}

/* No prepare/check: the source is ready exactly at its ready time. */
static GSourceFuncs ticker_funcs = {
  .dispatch = ticker_dispatch,
};

/* --- rooms and events ------------------------------------------------------- */

/* Sends @frame to every session in @recipients (socket ids). Returns how
 * many it reached. */
static guint
relay_to (Session         *s,
          const GPtrArray *recipients,
          const char      *frame,
          gsize            len)
{
  PeercamSignalingServer *self = s->server;
  guint n = 0;

  for (guint i = 0; recipients && i < recipients->len; i++)
    {
      Session *peer = g_hash_table_lookup (self->sockets, g_ptr_array_index (recipients, i));

      if (peer == NULL)
        continue;
      session_send (peer, frame, len);
      n++;
    }
  return n;
}

/* TRUE if any of @recipients joined addressed: they get the sender's id. */
static gboolean
any_addressed (PeercamSignalingServer *self,
               const GPtrArray        *recipients)
{
  for (guint i = 0; recipients && i < recipients->len; i++)
    {
      Session *peer = g_hash_table_lookup (self->sockets, g_ptr_array_index (recipients, i));

      if (peer != NULL && peer->addressed)
        return TRUE;
    }
  return FALSE;
}

static void
handle_create_or_join (Session                *s,
                       const PeercamSioPacket *packet)
{
  PeercamSignalingServer *self = s->server;
  const char *room = peercam_sio_packet_get_string_arg (packet, 0);
  JsonNode *options = peercam_sio_packet_get_arg (packet, 1);
  g_auto(GStrv) existing = NULL;
  const char *result_name;

  if (room == NULL || room[0] == '\0' || strlen (room) > MAX_ROOM_NAME)
    {
      session_fail (s, packet->id, "'create or join' needs a room name (1-256 bytes)");
      return;
    }
  /* ["create or join", room, {"addressed": true}]: this member wants to
   * know who is who (issue 15). Stock clients send the room alone and get
   * exactly the demo's events. */
  if (options != NULL && !JSON_NODE_HOLDS_NULL (options))
    {
      JsonNode *addressed = JSON_NODE_HOLDS_OBJECT (options)
                            ? json_object_get_member (json_node_get_object (options), "addressed") : NULL;

      if (addressed == NULL || !JSON_NODE_HOLDS_VALUE (addressed) ||
          json_node_get_value_type (addressed) != G_TYPE_BOOLEAN ||
          json_object_get_size (json_node_get_object (options)) != 1 ||
          peercam_sio_packet_get_n_args (packet) > 2)
        {
          session_fail (s, packet->id, "Wrong arguments for 'create or join'");
          return;
        }
      s->addressed = json_node_get_boolean (addressed);
    }

  switch (peercam_room_table_join (self->rooms, room, s->socket_id, &existing))
    {
    case PEERCAM_ROOM_JOIN_CREATED:
      result_name = "create";
      log_event (G_LOG_LEVEL_INFO, room, s->socket_id, "created room");
      session_send_event (s, "create", string_node (room), string_node (s->socket_id), NULL);
      break;

    case PEERCAM_ROOM_JOIN_JOINED:
      result_name = "join";
      log_event (G_LOG_LEVEL_INFO, room, s->socket_id, "joined room");
      if (s->addressed)
        {
          JsonArray *members = json_array_new ();

          for (guint i = 0; existing[i] != NULL; i++)
            json_array_add_string_element (members, existing[i]);
          session_send_event (s, "join", string_node (room), string_node (s->socket_id),
                              json_node_init_array (json_node_alloc (), members), NULL);
          json_array_unref (members);
        }
      else
        session_send_event (s, "join", string_node (room), string_node (s->socket_id), NULL);
      for (guint i = 0; existing[i] != NULL; i++)
        {
          Session *peer = g_hash_table_lookup (self->sockets, existing[i]);

          if (peer == NULL)
            continue;
          /* An addressed member learns who arrived. */
          if (peer->addressed)
            session_send_event (peer, "call", string_node (s->socket_id), NULL);
          else
            session_send_str (peer, "42[\"call\"]");
        }
      break;

    case PEERCAM_ROOM_JOIN_FULL:
      log_event (G_LOG_LEVEL_INFO, room, s->socket_id, "room full");
      session_send_event (s, "full", string_node (room), NULL);
      session_ack (s, packet->id, string_node ("full"));
      return;

    case PEERCAM_ROOM_JOIN_TOO_MANY_ROOMS:
      {
        g_autofree char *message = g_strdup_printf ("Too many rooms (at most %u per connection)",
                                                    peercam_room_table_get_max_rooms (self->rooms));

        log_event (G_LOG_LEVEL_INFO, room, s->socket_id, "too many rooms");
        session_fail (s, packet->id, message);
      }
      return;

    case PEERCAM_ROOM_JOIN_ALREADY_MEMBER:
    default:
      session_fail (s, packet->id, "Already in this room");
      return;
    }

  session_ack (s, packet->id, string_node (result_name));
  g_signal_emit (self, signals[CLIENT_JOINED], 0, room, s->socket_id);
}

/* Relays a validated event, as the client wrote it but for an ack id, and
 * answers the ack request, if any. @eio is the whole Engine.IO message:
 * "4" then the Socket.IO packet "2[…]" or "2<id>[…]". */
/* @eio without the ack id the client asked for ("42<id>[…]" → "42[…]"):
 * an ack is the sender's, never relayed. Returns @eio or a copy in @copy. */
static const char *
eio_without_ack (gint64       ack_id,
                 const char  *eio,
                 gsize       *len,
                 char       **copy)
{
  gsize skip = 2;  /* "42" */

  if (ack_id < 0)
    return eio;
  while (skip < *len && g_ascii_isdigit (eio[skip]))
    skip++;
  *copy = g_malloc (2 + *len - skip + 1);
  (*copy)[0] = '4';
  (*copy)[1] = '2';
  memcpy (*copy + 2, eio + skip, *len - skip);
  *len = 2 + *len - skip;
  (*copy)[*len] = '\0';
  return *copy;
}

/* Relays a validated event, as the client wrote it but for an ack id, and
 * answers the ack request, if any. @eio is the whole Engine.IO message:
 * "4" then the Socket.IO packet "2[…]" or "2<id>[…]". */
static void
relay_event (Session         *s,
             const GPtrArray *recipients,
             gint64           ack_id,
             const char      *eio,
             gsize            len)
{
  g_autofree char *copy = NULL;
  guint n;

  eio = eio_without_ack (ack_id, eio, &len, &copy);
  n = relay_to (s, recipients, eio, len);
  if (ack_id >= 0)
    session_ack (s, ack_id, json_node_init_int (json_node_alloc (), n));
}

/* Encodes [event, args…] (@array: transfer full) once, to send to many. */
static char *
encode_event_array (JsonArray *array)
{
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  g_autoptr(PeercamSioPacket) packet = NULL;

  json_node_take_array (node, array);
  packet = peercam_sio_packet_new (PEERCAM_SIO_EVENT, NULL, -1, node);
  g_autofree char *sio = peercam_sio_packet_encode (packet);

  return peercam_eio_encode (PEERCAM_EIO_MESSAGE, sio);
}

static const char *
route_error (PeercamRoomRoute route)
{
  switch (route)
    {
    case PEERCAM_ROOM_ROUTE_NOT_IN_ROOM: return "Not in a room";
    case PEERCAM_ROOM_ROUTE_UNKNOWN_TARGET: return "Unknown target";
    case PEERCAM_ROOM_ROUTE_OTHER_ROOM: return "Target is not in your room";
    case PEERCAM_ROOM_ROUTE_SELF: return "Target is the sender";
    case PEERCAM_ROOM_ROUTE_OK:
    default: return NULL;
    }
}

/* Reads the routing object an addressed message may end with (issue 15):
 * {"to": "<socket id>"}. A "from" is the server's to set. Returns FALSE
 * with @message set when it is not one. */
static gboolean
parse_route (JsonNode    *node,
             const char **target,
             const char **message)
{
  JsonObject *object;
  JsonNode *to;

  *target = NULL;
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      *message = "Wrong routing object (want {\"to\": id})";
      return FALSE;
    }
  object = json_node_get_object (node);
  if (json_object_has_member (object, "from"))
    {
      *message = "'from' is set by the server";
      return FALSE;
    }
  to = json_object_get_member (object, "to");
  if (to == NULL || json_object_get_size (object) != 1 || !JSON_NODE_HOLDS_VALUE (to) ||
      json_node_get_value_type (to) != G_TYPE_STRING || json_node_get_string (to)[0] == '\0' ||
      strlen (json_node_get_string (to)) > MAX_ROOM_NAME)
    {
      *message = "Wrong routing object (want {\"to\": id})";
      return FALSE;
    }
  *target = json_node_get_string (to);
  return TRUE;
}

/* signal/ice/bye, decoded: to one member ({"to"}) or the room; addressed
 * members get [event, payload, {"from": sender}] (a bye: ["bye", sender]),
 * the others the demo's shape. */
static void
relay_routed (Session                *s,
              const PeercamSioPacket *packet,
              const char             *event,
              guint                   n_payload,
              const char             *eio,
              gsize                   len)
{
  PeercamSignalingServer *self = s->server;
  g_autoptr(GPtrArray) recipients = NULL;
  g_autoptr(GPtrArray) plain = g_ptr_array_new ();
  g_autoptr(GPtrArray) addressed = g_ptr_array_new ();
  g_autofree char *copy = NULL;
  const char *target = NULL;
  const char *message = NULL;
  PeercamRoomRoute route;
  guint n = 0;

  if (peercam_sio_packet_get_n_args (packet) > n_payload + 1 ||
      (peercam_sio_packet_get_n_args (packet) == n_payload + 1 &&
       !parse_route (peercam_sio_packet_get_arg (packet, n_payload), &target, &message)))
    {
      g_autofree char *text = message ? g_strdup_printf ("%s in '%s'", message, event)
                                      : g_strdup_printf ("Wrong arguments for '%s'", event);

      session_fail (s, packet->id, text);
      return;
    }

  route = peercam_room_table_route (self->rooms, s->socket_id, target, &recipients);
  if (route != PEERCAM_ROOM_ROUTE_OK)
    {
      g_autofree char *text = target ? g_strdup_printf ("%s '%.64s' for '%s'", route_error (route), target, event)
                                     : g_strdup (route_error (route));

      session_fail (s, packet->id, text);
      return;
    }
  for (guint i = 0; i < recipients->len; i++)
    {
      Session *peer = g_hash_table_lookup (self->sockets, g_ptr_array_index (recipients, i));

      if (peer != NULL)
        g_ptr_array_add (peer->addressed ? addressed : plain, g_ptr_array_index (recipients, i));
    }

  if (plain->len > 0 && target == NULL)
    {
      const char *frame = eio_without_ack (packet->id, eio, &len, &copy);

      n += relay_to (s, plain, frame, len);
    }
  else if (plain->len > 0)
    {
      JsonArray *array = json_array_new ();
      g_autofree char *frame = NULL;

      json_array_add_string_element (array, event);
      for (guint i = 0; i < n_payload; i++)
        json_array_add_element (array, json_node_copy (peercam_sio_packet_get_arg (packet, i)));
      frame = encode_event_array (array);
      n += relay_to (s, plain, frame, strlen (frame));
    }
  if (addressed->len > 0)
    {
      JsonArray *array = json_array_new ();
      g_autofree char *frame = NULL;

      json_array_add_string_element (array, event);
      if (strcmp (event, "bye") == 0)
        json_array_add_string_element (array, s->socket_id);
      else
        {
          JsonObject *from = json_object_new ();

          json_array_add_element (array, json_node_copy (peercam_sio_packet_get_arg (packet, 0)));
          json_object_set_string_member (from, "from", s->socket_id);
          json_array_add_object_element (array, from);
        }
      frame = encode_event_array (array);
      n += relay_to (s, addressed, frame, strlen (frame));
    }
  if (packet->id >= 0)
    session_ack (s, packet->id, json_node_init_int (json_node_alloc (), n));
}

static gboolean
node_is_type (JsonNode *node, JsonNodeType type)
{
  return node != NULL && json_node_get_node_type (node) == type;
}

static void
handle_event (Session                *s,
              const PeercamSioPacket *packet,
              const char             *eio,
              gsize                   len)
{
  g_autoptr(GError) error = NULL;
  const char *event = peercam_sio_packet_get_event (packet, &error);
  JsonNode *arg;
  guint n_payload;
  gboolean valid;

  if (event == NULL)
    {
      session_fail (s, packet->id, error->message);
      return;
    }

  if (strcmp (event, "create or join") == 0)
    {
      handle_create_or_join (s, packet);
      return;
    }

  arg = peercam_sio_packet_get_arg (packet, 0);
  n_payload = 1;
  if (strcmp (event, "signal") == 0)
    valid = node_is_type (arg, JSON_NODE_OBJECT)
            && json_object_get_string_member_with_default (json_node_get_object (arg), "type", NULL) != NULL;
  else if (strcmp (event, "ice") == 0)
    valid = node_is_type (arg, JSON_NODE_OBJECT);
  else if (strcmp (event, "bye") == 0)
    {
      /* ["bye"], ["bye", id], and addressed: ["bye", {"to"}], ["bye", id, {"to"}] */
      n_payload = arg == NULL || JSON_NODE_HOLDS_OBJECT (arg) ? 0 : 1;
      valid = arg == NULL || JSON_NODE_HOLDS_OBJECT (arg) || peercam_sio_packet_get_string_arg (packet, 0) != NULL;
      /* An object alone is a routing object only when the sender says so. */
      if (arg != NULL && JSON_NODE_HOLDS_OBJECT (arg) && !s->addressed)
        valid = FALSE;
    }
  else
    {
      g_autofree char *message = g_strdup_printf ("Unknown event '%.64s'", event);

      session_fail (s, packet->id, message);
      return;
    }

  if (!valid)
    {
      g_autofree char *message = g_strdup_printf ("Wrong arguments for '%s'", event);

      session_fail (s, packet->id, message);
      return;
    }

  if (peercam_room_table_rooms_of (s->server->rooms, s->socket_id) == NULL)
    {
      session_fail (s, packet->id, "Not in a room");
      return;
    }

  relay_routed (s, packet, event, n_payload, eio, len);
}

/* The common case of handle_event() without a JSON tree: a well-formed
 * signal/ice/bye from a member of a room. Returns FALSE, having done
 * nothing, for anything else; the caller then decodes the packet fully, so
 * errors and replies stay exactly those of the full path. */
static gboolean
handle_relay_fast (Session    *s,
                   const char *eio,
                   gsize       len)
{
  PeercamSioEventPeek peek;
  g_autoptr(GPtrArray) recipients = NULL;
  gboolean valid;

  if (s->socket_id == NULL || !peercam_sio_event_peek (eio + 1, len - 1, &peek))
    return FALSE;
  /* Addressed messages and addressed recipients take the decoded path. */
  if (peek.n_args > 1)
    return FALSE;

#define EVENT_IS(name) (peek.event_len == sizeof (name) - 1 && memcmp (peek.event, name, sizeof (name) - 1) == 0)
  if (EVENT_IS ("signal"))
    valid = peek.arg == PEERCAM_SIO_ARG_OBJECT && peek.arg_type_is_string;
  else if (EVENT_IS ("ice"))
    valid = peek.arg == PEERCAM_SIO_ARG_OBJECT;
  else if (EVENT_IS ("bye"))
    valid = peek.arg == PEERCAM_SIO_ARG_NONE || peek.arg == PEERCAM_SIO_ARG_STRING;
  else
    valid = FALSE;
#undef EVENT_IS

  if (!valid ||
      peercam_room_table_route (s->server->rooms, s->socket_id, NULL, &recipients) != PEERCAM_ROOM_ROUTE_OK ||
      any_addressed (s->server, recipients))
    return FALSE;

  relay_event (s, recipients, peek.id, eio, len);
  return TRUE;
}

/* Addresses whose window is over: dropped once the table grows, so a
 * scan of many addresses costs a bounded table. */
static void
server_forget_old_failures (PeercamSignalingServer *self,
                            gint64                  now)
{
  GHashTableIter iter;
  gpointer value;

  if (g_hash_table_size (self->failures) < 1024)
    return;
  g_hash_table_iter_init (&iter, self->failures);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (now - ((Failures *) value)->window_start >= TOKEN_FAILURE_WINDOW_US)
      g_hash_table_iter_remove (&iter);
}

/* CONNECT_ERROR, then the transport closes: a wrong guess costs a new
 * connection (polling: the refusal goes with the next GET). */
static void
session_refuse (Session    *s,
                const char *message)
{
  g_autoptr(PeercamSioPacket) refusal = peercam_sio_packet_new_connect_error (NULL, message);

  session_send_sio (s, refusal);
  if (s->closed)
    return;
  if (s->ws != NULL || s->outbox == NULL || s->outbox->len == 0)
    session_close (s, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, message);
  else
    s->close_after_poll = TRUE;
}

static void
socket_connect (Session                *s,
                const PeercamSioPacket *packet)
{
  PeercamSignalingServer *self = s->server;
  g_autofree char *reply = NULL;

  if (strcmp (packet->nsp, "/") != 0)
    {
      g_autoptr(PeercamSioPacket) refusal = peercam_sio_packet_new_connect_error (packet->nsp, "Invalid namespace");

      session_send_sio (s, refusal);
      return;
    }

  if (self->token != NULL && s->socket_id == NULL)
    {
      const char *given = NULL;
      Failures *failures = g_hash_table_lookup (self->failures, s->peer);
      gint64 now = g_get_monotonic_time ();

      if (failures != NULL && now - failures->window_start >= TOKEN_FAILURE_WINDOW_US)
        {
          g_hash_table_remove (self->failures, s->peer);
          failures = NULL;
        }
      if (failures != NULL && failures->count >= TOKEN_FAILURES_MAX)
        {
          log_event (G_LOG_LEVEL_INFO, NULL, s->sid, "refused: too many wrong tokens from %s", s->peer);
          session_refuse (s, "Too many failed attempts; try again later");
          return;
        }

      if (packet->data != NULL)
        given = json_object_get_string_member_with_default (json_node_get_object (packet->data), "token", NULL);
      if (!token_equal (self->token, given))
        {
          log_event (G_LOG_LEVEL_INFO, NULL, s->sid, "refused: %s token from %s",
                     given ? "invalid" : "missing", s->peer);
          if (given != NULL)
            {
              if (failures == NULL)
                {
                  failures = g_new0 (Failures, 1);
                  failures->window_start = now;
                  server_forget_old_failures (self, now);
                  g_hash_table_insert (self->failures, g_strdup (s->peer), failures);
                }
              failures->count++;
            }
          session_refuse (s, given ? "Invalid token" : "Missing token");
          return;
        }
    }

  if (s->socket_id == NULL)
    {
      s->socket_id = random_id ();
      g_hash_table_insert (self->sockets, s->socket_id, s);
      session_not_pending (s);
    }

  /* "addressed": this server says who is who to members that ask (issue
   * 15); a Peercam client asks only then, so other servers never see the
   * option. Stock clients read the sid alone. */
  reply = g_strdup_printf ("40{\"sid\":\"%s\",\"addressed\":true}", s->socket_id);
  session_send_str (s, reply);

  if (g_hash_table_lookup (self->sockets, s->socket_id) == s)
    {
      log_event (G_LOG_LEVEL_INFO, NULL, s->socket_id, "connected");
      g_signal_emit (self, signals[CLIENT_CONNECTED], 0, s->socket_id);
    }
}

/* Leaves every room (peers get bye) and forgets the Socket.IO id. */
static void
socket_disconnect (Session *s)
{
  PeercamSignalingServer *self = s->server;
  g_autoptr(GPtrArray) departures = NULL;
  g_autoptr(GHashTable) told = NULL;
  g_autofree char *id = NULL;
  g_autofree char *bye = NULL;

  if (s->socket_id == NULL)
    return;

  id = g_steal_pointer (&s->socket_id);
  g_hash_table_remove (self->sockets, id);
  departures = peercam_room_table_leave_all (self->rooms, id);
  bye = g_strdup_printf ("42[\"bye\",\"%s\"]", id);
  if (departures->len > 1)
    told = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < departures->len; i++)
    {
      PeercamRoomDeparture *departure = g_ptr_array_index (departures, i);

      for (guint m = 0; departure->remaining[m] != NULL; m++)
        {
          Session *peer = g_hash_table_lookup (self->sockets, departure->remaining[m]);

          /* A stopping server closes every session itself: nobody hung up,
           * so peers are not told bye and their calls go on (as with a
           * relay that dies). */
          if (peer == NULL || self->stopping || (told != NULL && !g_hash_table_add (told, peer)))
            continue;
          session_send_str (peer, bye);
        }
      log_event (G_LOG_LEVEL_INFO, departure->room, id, "left room");
      g_signal_emit (self, signals[CLIENT_LEFT], 0, departure->room, id);
    }

  log_event (G_LOG_LEVEL_INFO, NULL, id, "disconnected");
  g_signal_emit (self, signals[CLIENT_DISCONNECTED], 0, id);
}

/* @eio: an Engine.IO message, "4" then a Socket.IO packet. */
static void
handle_sio (Session    *s,
            const char *eio,
            gsize       len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PeercamSioPacket) packet = peercam_sio_packet_decode (eio + 1, len - 1, &error);

  if (packet == NULL)
    {
      /* Like the stock server: a client that cannot frame packets is dropped. */
      gboolean binary = g_error_matches (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_BINARY_UNSUPPORTED);

      log_event (G_LOG_LEVEL_INFO, NULL, s->sid, "parse error: %s", error->message);
      session_close (s, binary ? SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA : SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR,
                     binary ? "binary packets are not supported" : "parse error");
      return;
    }

  switch (packet->type)
    {
    case PEERCAM_SIO_CONNECT:
      socket_connect (s, packet);
      break;

    case PEERCAM_SIO_DISCONNECT:
      if (strcmp (packet->nsp, "/") == 0)
        socket_disconnect (s);
      break;

    case PEERCAM_SIO_EVENT:
      if (s->socket_id == NULL || strcmp (packet->nsp, "/") != 0)
        {
          g_debug ("event on a namespace %s is not connected to", s->sid);
          break;
        }
      handle_event (s, packet, eio, len);
      break;

    case PEERCAM_SIO_ACK:            /* the server never asks for acks */
    case PEERCAM_SIO_CONNECT_ERROR:  /* server-to-client only */
    case PEERCAM_SIO_BINARY_EVENT:
    case PEERCAM_SIO_BINARY_ACK:
    default:
      break;
    }
}

/* One Engine.IO packet from either transport. */
static void
session_handle_packet (Session    *s,
                       const char *data,
                       gsize       len)
{
  g_autoptr(GError) error = NULL;
  PeercamEioType type;

  if (s->closed)
    return;

  /* Relays are nearly all the traffic: peek at them in one pass (which
   * also covers the UTF-8 check peercam_eio_decode() would make). */
  if (len > 1 && data[0] == '0' + PEERCAM_EIO_MESSAGE
      && handle_relay_fast (s, data, len))
    return;

  if (!peercam_eio_decode (data, len, &type, NULL, &error))
    {
      gushort code = g_error_matches (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_BINARY_UNSUPPORTED)
                     ? SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA : SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR;

      log_event (G_LOG_LEVEL_INFO, NULL, s->sid, "parse error: %s", error->message);
      session_close (s, code, "parse error");
      return;
    }

  switch (type)
    {
    case PEERCAM_EIO_PONG:
      if (s->awaiting_pong)
        session_schedule_ping (s);
      break;

    case PEERCAM_EIO_PING:
      {
        /* Engine.IO 3 habit; answering costs nothing. */
        g_autofree char *pong = g_strndup (data, len);

        pong[0] = '3';
        session_send (s, pong, len);
      }
      break;

    case PEERCAM_EIO_MESSAGE:
      handle_sio (s, data, len);
      break;

    case PEERCAM_EIO_CLOSE:
      session_close (s, SOUP_WEBSOCKET_CLOSE_NORMAL, "client closed");
      break;

    case PEERCAM_EIO_NOOP:
      break;

    case PEERCAM_EIO_OPEN:
    case PEERCAM_EIO_UPGRADE:
    default:
      session_close (s, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, "unexpected packet");
      break;
    }
}

/* --- sessions ---------------------------------------------------------------- */

/* The session is no longer a handshake nobody followed up. */
static void
session_polled (Session *s)
{
  if (s->handshake_link.data == NULL)
    return;
  g_queue_unlink (&s->server->handshakes, &s->handshake_link);
  s->handshake_link.data = NULL;
}

static void
session_not_pending (Session *s)
{
  if (!s->pending)
    return;
  s->pending = FALSE;
  count_add (s->server->pending, s->peer, -1);
}

/* Starts @conn's close handshake; the hub finishes it. */
static void
release_ws (PeercamWsConn **conn_ptr,
            gushort         code,
            const char     *reason)
{
  PeercamWsConn *conn = g_steal_pointer (conn_ptr);

  if (conn != NULL)
    peercam_ws_conn_close (conn, code, reason);
}

static void
session_close (Session    *s,
               gushort     code,
               const char *reason)
{
  PeercamSignalingServer *self = s->server;
  g_autoptr(Session) hold = NULL;

  if (s->closed)
    return;
  /* Marked first: signal handlers below may re-enter (e.g. stop the server). */
  s->closed = TRUE;
  hold = session_ref (s);
  g_object_ref (self);

  session_unqueue (s);
  session_polled (s);
  session_not_pending (s);
  socket_disconnect (s);

  if (s->poll != NULL)
    session_answer_poll (s, g_strdup ("1"), 1);
  release_ws (&s->ws, code, reason);
  release_ws (&s->probe, code, reason);

  g_hash_table_remove (self->sessions, s->sid);
  g_object_unref (self);
}

static void ws_message_cb (PeercamWsConn *conn, gboolean binary, const char *data, gsize len, gpointer user_data);
static void ws_closed_cb  (PeercamWsConn *conn, gushort code, const char *reason, gpointer user_data);

static const PeercamWsConnFuncs ws_funcs = {
  .message = ws_message_cb,
  .closed = ws_closed_cb,
};

static Session *
session_new (PeercamSignalingServer *self,
             const char             *peer)
{
  Session *s = g_rc_box_new0 (Session);

  s->server = self;
  s->peer = g_strdup (peer ? peer : "");
  s->pending = TRUE;
  count_add (self->pending, s->peer, 1);
  s->opened = g_get_monotonic_time ();
  do
    {
      g_free (s->sid);
      s->sid = random_id ();
    }
  while (g_hash_table_contains (self->sessions, s->sid));
  g_hash_table_insert (self->sessions, s->sid, s);
  session_schedule_ping (s);
  return s;
}

static char *
open_packet (PeercamSignalingServer *self,
             Session                *s,
             gboolean                polling)
{
  return g_strdup_printf ("0{\"sid\":\"%s\",\"upgrades\":[%s],\"pingInterval\":%u,"
                          "\"pingTimeout\":%u,\"maxPayload\":%u}",
                          s->sid, polling ? "\"websocket\"" : "",
                          self->ping_interval, self->ping_timeout, self->max_message_size);
}

/* The probe websocket of a polling session: 2probe → 3probe, then 5. */
static void
handle_probe (Session    *s,
              const char *data,
              gsize       len)
{
  if (len == 6 && memcmp (data, "2probe", 6) == 0)
    {
      peercam_ws_conn_send_text (s->probe, "3probe", 6);
      /* The client waits for its pending GET before sending 5; that GET
       * may also arrive after this (handle_poll_get() answers it then). */
      s->probed = TRUE;
      if (s->poll != NULL && (s->outbox == NULL || s->outbox->len == 0))
        session_answer_poll (s, g_strdup ("6"), 1);
      return;
    }

  if (len == 1 && data[0] == '5')
    {
      s->ws = g_steal_pointer (&s->probe);
      s->probed = FALSE;
      if (s->poll != NULL)
        session_answer_poll (s, g_strdup ("6"), 1);

      /* Whatever was queued for polling goes out on the websocket, in order. */
      if (s->outbox != NULL)
        {
          g_autoptr(GString) outbox = g_steal_pointer (&s->outbox);
          g_auto(GStrv) packets = g_strsplit (outbox->str, "\x1e", -1);

          for (guint i = 0; packets[i] != NULL; i++)
            if (packets[i][0] != '\0')
              session_send_str (s, packets[i]);
        }
      return;
    }

  session_close (s, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, "bad upgrade");
}

static void
ws_message_cb (PeercamWsConn *conn,
               gboolean       binary,
               const char    *data,
               gsize          len,
               gpointer       user_data)
{
  Session *s = user_data;
  g_autoptr(Session) hold G_GNUC_UNUSED = session_ref (s);

  if (s->closed)
    return;

  if (binary)
    {
      log_event (G_LOG_LEVEL_INFO, NULL, s->sid, "binary frame refused");
      session_close (s, SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA, "binary frames are not supported");
      return;
    }

  if (conn == s->probe)
    handle_probe (s, data, len);
  else if (conn == s->ws)
    session_handle_packet (s, data, len);
}

static void
ws_closed_cb (PeercamWsConn *conn,
              gushort        code,
              const char    *reason,
              gpointer       user_data)
{
  Session *s = user_data;
  g_autoptr(Session) hold G_GNUC_UNUSED = session_ref (s);

  if (conn == s->probe)
    {
      s->probe = NULL;
      s->probed = FALSE;
      return;
    }
  if (conn != s->ws)
    return;

  s->ws = NULL;  /* gone with this call */
  log_event (G_LOG_LEVEL_INFO, NULL, s->socket_id ? s->socket_id : s->sid,
             "transport closed (%u%s%s)", code, *reason ? ": " : "", reason);
  session_close (s, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
}

/* --- HTTP ------------------------------------------------------------------ */

static void
respond_error (SoupServerMessage *msg,
               guint              status,
               int                code,
               const char        *message)
{
  g_autofree char *body = g_strdup_printf ("{\"code\":%d,\"message\":\"%s\"}", code, message);
  gsize len = strlen (body);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&body), len);
}

static void
respond_text (SoupServerMessage *msg,
              const char        *text)
{
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=UTF-8", SOUP_MEMORY_COPY,
                                    text, strlen (text));
}

static gboolean
at_capacity (PeercamSignalingServer *self,
             SoupServerMessage      *msg)
{
  const char *peer = soup_server_message_get_remote_host (msg);

  /* One address cannot hold every slot with sessions that never join. */
  if (self->max_pending_per_address > 0 && peer != NULL
      && count_get (self->pending, peer) >= self->max_pending_per_address)
    {
      g_message ("Refusing connection: %u sessions from %s not connected yet (max-pending-per-address)",
                 self->max_pending_per_address, peer);
      respond_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, EIO_ERROR_FORBIDDEN,
                     "Too many connections from this address");
      return TRUE;
    }
  if (g_hash_table_size (self->sessions) < self->max_connections)
    return FALSE;
  g_message ("Refusing connection: %u sessions open (max-connections)", self->max_connections);
  soup_server_message_set_status (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
  return TRUE;
}

static void
handle_poll_get (PeercamSignalingServer *self,
                 Session                *s,
                 SoupServerMessage      *msg)
{
  if (s->poll != NULL)
    {
      /* Two concurrent polls mean a confused client; Engine.IO drops it. */
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_BAD_REQUEST, "Bad request");
      session_close (s, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, "overlapping polls");
      return;
    }

  /* A status must be set now: with none, SoupServer would try a websocket
   * handshake on this request once the handler returns. */
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  s->poll = msg;
  g_signal_connect (msg, "finished", G_CALLBACK (poll_finished_cb), s);
  soup_server_message_pause (msg);
  if (s->probed && (s->outbox == NULL || s->outbox->len == 0))
    session_answer_poll (s, g_strdup ("6"), 1);
  else
    session_flush_poll (s);
}

static void
handle_poll_post (PeercamSignalingServer *self,
                  Session                *s,
                  SoupServerMessage      *msg)
{
  g_autoptr(Session) hold G_GNUC_UNUSED = session_ref (s);
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr(GPtrArray) packets = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (body, &len);

  if (len > self->max_message_size)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL);
      session_close (s, SOUP_WEBSOCKET_CLOSE_TOO_BIG, "message too big");
      return;
    }

  packets = peercam_eio_payload_decode (data, len, &error);
  if (packets == NULL)
    {
      log_event (G_LOG_LEVEL_INFO, NULL, s->sid, "parse error: %s", error->message);
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_BAD_REQUEST, "Bad request");
      session_close (s, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, "parse error");
      return;
    }

  respond_text (msg, "ok");
  for (guint i = 0; i < packets->len && !s->closed; i++)
    {
      const PeercamEioPacket *packet = g_ptr_array_index (packets, i);
      g_autofree char *text = peercam_eio_encode (packet->type, packet->payload);

      session_handle_packet (s, text, strlen (text));
    }
}

/* --- HTTP connections ---------------------------------------------------------- */

/* "host:port" of a remote address: names one TCP connection. */
static char *
address_key (GSocketAddress *address)
{
  g_autofree char *host = NULL;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return NULL;
  host = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
  return g_strdup_printf ("%s:%u", host, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)));
}

static HttpConn *
http_lookup (PeercamSignalingServer *self,
             SoupServerMessage      *msg,
             char                  **key)
{
  g_autofree char *k = address_key (soup_server_message_get_remote_address (msg));
  HttpConn *c = k ? g_hash_table_lookup (self->http, k) : NULL;

  if (key != NULL)
    *key = g_steal_pointer (&k);
  return c;
}

/* Stops watching a connection (upgraded, refused, or closing). */
static void
http_forget (PeercamSignalingServer *self,
             SoupServerMessage      *msg)
{
  g_autofree char *key = NULL;
  HttpConn *c = http_lookup (self, msg, &key);

  if (c == NULL)
    return;
  if (!c->requested)
    count_add (self->half_open, c->peer, -1);
  g_hash_table_remove (self->http, key);
}

static gboolean
request_keeps_alive (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  if (soup_server_message_get_http_version (msg) == SOUP_HTTP_1_0)
    return soup_message_headers_header_contains (headers, "Connection", "keep-alive");
  return !soup_message_headers_header_contains (headers, "Connection", "close");
}

static void
request_done_cb (SoupServer             *soup,
                 SoupServerMessage      *msg,
                 PeercamSignalingServer *self)
{
  HttpConn *c = http_lookup (self, msg, NULL);

  if (c == NULL)
    return;
  if (!request_keeps_alive (msg))
    {
      http_forget (self, msg);
      return;
    }
  /* Idle until the next request's headers are complete. */
  c->busy = FALSE;
  c->deadline = g_get_monotonic_time () + (gint64) self->header_timeout * G_TIME_SPAN_MILLISECOND;
}

/* Connections idle past header-timeout, handshakes never followed up. */
static gboolean
sweep_cb (gpointer data)
{
  PeercamSignalingServer *self = data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer value;
  Session *s;

  g_object_ref (self);
  g_hash_table_iter_init (&iter, self->http);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      HttpConn *c = value;

      if (c->busy && !g_io_stream_is_closed (G_IO_STREAM (c->connection)))
        continue;
      if (c->deadline > now && !g_io_stream_is_closed (G_IO_STREAM (c->connection)))
        continue;
      if (!g_io_stream_is_closed (G_IO_STREAM (c->connection)))
        {
          log_event (G_LOG_LEVEL_INFO, NULL, NULL, "closing a connection from %s: no request within %u ms",
                     c->peer, self->header_timeout);
          /* libsoup reads the end of the stream and lets it go. */
          g_socket_shutdown (g_socket_connection_get_socket (c->connection), TRUE, TRUE, NULL);
        }
      if (!c->requested)
        count_add (self->half_open, c->peer, -1);
      g_hash_table_iter_remove (&iter);
    }

  while ((s = g_queue_peek_head (&self->handshakes)) != NULL && s->deadline_handshake <= now)
    {
      g_autoptr(Session) hold G_GNUC_UNUSED = session_ref (s);

      session_polled (s);
      log_event (G_LOG_LEVEL_INFO, NULL, s->sid, "handshake timeout: never polled");
      session_close (s, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "handshake timeout");
    }
  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

/* --- request bodies --------------------------------------------------------
 *
 * libsoup reads a whole request body into memory before any handler runs,
 * even after an early handler has set an error status. So every request is
 * watched while it is read: a Content-Length over max-message-size is
 * refused right after the headers, a chunked (or unknown-length) body as
 * soon as it passes the limit. The connection is taken from libsoup, gets
 * a 413 and is closed; the rest of the body is never read.
 */

static const char body_too_large[] =
  "HTTP/1.1 413 Request Entity Too Large\r\n"
  "Connection: close\r\n"
  "Content-Type: text/plain; charset=UTF-8\r\n"
  "Content-Length: 42\r\n"
  "\r\n"
  "Request body larger than max-message-size\n";

static void
refuse_body (PeercamSignalingServer *self,
             SoupServerMessage      *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  g_autoptr(GIOStream) stream = NULL;
  GOutputStream *output;

  g_signal_handlers_disconnect_matched (msg, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
  http_forget (self, msg);
  log_event (G_LOG_LEVEL_INFO, NULL, NULL, "refused a request body over %u bytes from %s",
             self->max_message_size, soup_server_message_get_remote_host (msg));

  /* A polling session that sent it is over, as with any oversize message. */
  if (uri != NULL && g_strcmp0 (g_uri_get_path (uri), PEERCAM_SIGNALING_SERVER_PATH) == 0
      && g_uri_get_query (uri) != NULL)
    {
      g_autoptr(GHashTable) params = g_uri_parse_params (g_uri_get_query (uri), -1, "&", G_URI_PARAMS_NONE, NULL);
      const char *sid = params ? g_hash_table_lookup (params, "sid") : NULL;
      Session *s = sid ? g_hash_table_lookup (self->sessions, sid) : NULL;

      if (s != NULL && s->ws == NULL)
        session_close (s, SOUP_WEBSOCKET_CLOSE_TOO_BIG, "message too big");
    }

  /* libsoup stops reading once the connection is gone (as after a 101). */
  stream = soup_server_message_steal_connection (msg);
  if (stream == NULL)
    return;
  output = g_io_stream_get_output_stream (stream);
  if (G_IS_POLLABLE_OUTPUT_STREAM (output))
    g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (output), body_too_large,
                                                sizeof body_too_large - 1, NULL, NULL);
  g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
}

static void
request_got_headers_cb (SoupServerMessage      *msg,
                        PeercamSignalingServer *self)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  HttpConn *c = http_lookup (self, msg, NULL);

  if (c != NULL)
    {
      if (!c->requested)
        count_add (self->half_open, c->peer, -1);
      c->requested = TRUE;
      c->busy = TRUE;
    }

  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
      && soup_message_headers_get_content_length (headers) > self->max_message_size)
    {
      refuse_body (self, msg);
      return;
    }

  /* libsoup closes these connections after the response without saying
   * so: say it, as HTTP/1.1 asks. */
  if (!request_keeps_alive (msg))
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
}

static void
request_got_chunk_cb (SoupServerMessage      *msg,
                      GBytes                 *chunk,
                      PeercamSignalingServer *self)
{
  if (soup_server_message_get_request_body (msg)->length > (goffset) self->max_message_size)
    refuse_body (self, msg);
}

static void
request_started_cb (SoupServer             *soup,
                    SoupServerMessage      *msg,
                    PeercamSignalingServer *self)
{
  g_signal_connect (msg, "got-headers", G_CALLBACK (request_got_headers_cb), self);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (request_got_chunk_cb), self);
}

static void start_upgrade (PeercamSignalingServer *self, SoupServerMessage *msg);

/* Canonical "scheme://host:port" (lowercase, explicit port, IPv6 in
 * brackets) of an origin or a Host header, NULL if it is neither. */
static char *
origin_normalize (const char *scheme,
                  const char *host_port)
{
  g_autofree char *text = g_strdup_printf ("%s://%s", scheme, host_port);
  g_autoptr(GUri) uri = g_uri_parse (text, G_URI_FLAGS_NONE, NULL);
  g_autofree char *host = NULL;
  const char *path;
  int port;

  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0'
      || g_uri_get_userinfo (uri) != NULL || g_uri_get_query (uri) != NULL)
    return NULL;
  path = g_uri_get_path (uri);
  if (path[0] != '\0' && strcmp (path, "/") != 0)
    return NULL;
  port = g_uri_get_port (uri);
  if (port < 0)
    port = g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0 ? 443 : 80;
  host = g_ascii_strdown (g_uri_get_host (uri), -1);
  return g_strdup_printf ("%s://%s%s%s:%d", g_uri_get_scheme (uri), strchr (host, ':') ? "[" : "",
                          host, strchr (host, ':') ? "]" : "", port);
}

/* Whether a page from @origin may use the server: no Origin (native
 * clients), the server's own (the Host the request was sent to, the
 * address it arrived on, or a loopback name, on our port and scheme), or
 * one of allowed-origins. A page elsewhere must not drive a room with its
 * visitor's browser (cross-site WebSocket hijacking). */
static gboolean
origin_allowed (PeercamSignalingServer *self,
                SoupServerMessage      *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_one (headers, "Origin");
  const char *scheme = peercam_signaling_server_get_tls_certificate (self) ? "https" : "http";
  const char *host = soup_message_headers_get_one (headers, "Host");
  GSocketAddress *local = soup_server_message_get_local_address (msg);
  g_autofree char *given = NULL;
  g_autofree char *own = NULL;
  g_autofree char *prefix = NULL;
  guint port = self->bound_port;

  if (origin == NULL)
    return TRUE;
  if (g_str_has_prefix (origin, "http://") || g_str_has_prefix (origin, "https://"))
    {
      const char *rest = strstr (origin, "://") + 3;
      g_autofree char *origin_scheme = g_strndup (origin, rest - 3 - origin);

      given = origin_normalize (origin_scheme, rest);
    }
  if (given == NULL)
    return FALSE;  /* "null" (sandboxed pages, file://) and nonsense */

  for (guint i = 0; self->allowed_origins != NULL && self->allowed_origins[i] != NULL; i++)
    {
      const char *allowed = self->allowed_origins[i];
      const char *rest = strstr (allowed, "://");
      g_autofree char *allowed_scheme = rest ? g_strndup (allowed, rest - allowed) : NULL;
      g_autofree char *normal = rest ? origin_normalize (allowed_scheme, rest + 3) : NULL;

      if (normal != NULL && strcmp (normal, given) == 0)
        return TRUE;
    }

  if (host != NULL)
    {
      own = origin_normalize (scheme, host);
      if (own != NULL && strcmp (own, given) == 0)
        return TRUE;
    }

  /* The address the request came in on, and loopback names, on our port. */
  prefix = g_strdup_printf ("%s://", scheme);
  if (!g_str_has_prefix (given, prefix) || port == 0)
    return FALSE;
  {
    g_autofree char *suffix = g_strdup_printf (":%u", port);
    g_autofree char *name = NULL;
    static const char *const loopback[] = { "localhost", "127.0.0.1", "[::1]" };

    if (!g_str_has_suffix (given, suffix))
      return FALSE;
    name = g_strndup (given + strlen (prefix), strlen (given) - strlen (prefix) - strlen (suffix));
    for (guint i = 0; i < G_N_ELEMENTS (loopback); i++)
      if (strcmp (name, loopback[i]) == 0)
        return TRUE;
    if (G_IS_INET_SOCKET_ADDRESS (local))
      {
        g_autofree char *address = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local)));
        g_autofree char *bracketed = strchr (address, ':') ? g_strdup_printf ("[%s]", address) : g_strdup (address);

        if (g_ascii_strcasecmp (name, bracketed) == 0)
          return TRUE;
      }
  }
  return FALSE;
}

static void
handler (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  PeercamSignalingServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  const char *eio = query ? g_hash_table_lookup (query, "EIO") : NULL;
  const char *transport = query ? g_hash_table_lookup (query, "transport") : NULL;
  const char *sid = query ? g_hash_table_lookup (query, "sid") : NULL;
  Session *s = NULL;

  if (strcmp (path, PEERCAM_SIGNALING_SERVER_PATH) != 0)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }
  if (!origin_allowed (self, msg))
    {
      log_event (G_LOG_LEVEL_INFO, NULL, sid, "refused a request from origin %s",
                 soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Origin"));
      respond_error (msg, SOUP_STATUS_FORBIDDEN, EIO_ERROR_FORBIDDEN,
                     "Origin not allowed: this server accepts pages it serves itself and the origins given with --allow-origin");
      return;
    }
  if (g_strcmp0 (eio, "4") != 0)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_UNSUPPORTED_PROTOCOL_VERSION,
                     "Unsupported protocol version");
      return;
    }
  if (g_strcmp0 (transport, "polling") != 0 && g_strcmp0 (transport, "websocket") != 0)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_UNKNOWN_TRANSPORT, "Transport unknown");
      return;
    }
  if (sid != NULL)
    {
      s = g_hash_table_lookup (self->sessions, sid);
      if (s == NULL)
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_UNKNOWN_SID, "Session ID unknown");
          return;
        }
    }

  if (strcmp (transport, "websocket") == 0)
    {
      if (strcmp (method, "GET") != 0)
        respond_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_BAD_HANDSHAKE_METHOD, "Bad handshake method");
      else if (s != NULL && (s->ws != NULL || s->probe != NULL))
        respond_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_BAD_REQUEST, "Bad request");
      else if (s != NULL || !at_capacity (self, msg))
        start_upgrade (self, msg);
      return;
    }

  if (s == NULL)
    {
      g_autofree char *open = NULL;

      if (strcmp (method, "GET") != 0)
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_BAD_HANDSHAKE_METHOD, "Bad handshake method");
          return;
        }
      if (at_capacity (self, msg))
        return;
      s = session_new (self, soup_server_message_get_remote_host (msg));
      /* Until its first GET or upgrade: a handshake alone holds a slot. */
      s->handshake_link.data = s;
      g_queue_push_tail_link (&self->handshakes, &s->handshake_link);
      s->deadline_handshake = g_get_monotonic_time () + (gint64) self->handshake_timeout * G_TIME_SPAN_MILLISECOND;
      open = open_packet (self, s, TRUE);
      respond_text (msg, open);
      return;
    }

  if (s->ws != NULL)
    {
      /* Upgraded: the polling transport is gone. */
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_BAD_REQUEST, "Bad request");
      return;
    }

  session_polled (s);
  if (strcmp (method, "GET") == 0)
    handle_poll_get (self, s, msg);
  else if (strcmp (method, "POST") == 0)
    handle_poll_post (self, s, msg);
  else
    respond_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_BAD_REQUEST, "Bad request");
}

/* The socket under a stream libsoup gave back, if it is a plain one: its
 * SoupIOStream wraps the GSocketConnection we accepted ("base-iostream").
 * NULL for TLS (libsoup's listener; the base is a GTlsConnection). */
static GSocket *
stream_get_socket (GIOStream *stream)
{
  GParamSpec *pspec;

  if (G_IS_SOCKET_CONNECTION (stream))
    return g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream));

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (stream), "base-iostream");
  if (pspec != NULL && (pspec->flags & G_PARAM_READABLE) && g_type_is_a (pspec->value_type, G_TYPE_IO_STREAM))
    {
      g_autoptr(GIOStream) base = NULL;

      g_object_get (stream, "base-iostream", &base, NULL);
      /* @stream keeps @base, and @base its socket. */
      if (G_IS_SOCKET_CONNECTION (base))
        return g_socket_connection_get_socket (G_SOCKET_CONNECTION (base));
    }
  return NULL;
}

/* After the 101 response: the socket leaves libsoup for the hub. */
static void
upgrade_wrote_cb (SoupServerMessage      *msg,
                  PeercamSignalingServer *self)
{
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr(GHashTable) params = NULL;
  g_autofree char *sid = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autofree char *peer = g_strdup (soup_server_message_get_remote_host (msg));
  GSocket *socket;
  Session *s = NULL;
  PeercamWsConn *conn;

  g_signal_handlers_disconnect_by_func (msg, upgrade_wrote_cb, self);
  if (query != NULL)
    params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
  if (params != NULL)
    sid = g_strdup (g_hash_table_lookup (params, "sid"));

  /* @msg may be gone after this. */
  http_forget (self, msg);
  stream = soup_server_message_steal_connection (msg);
  if (stream == NULL || self->hub == NULL)
    return;

  if (sid != NULL)
    {
      /* Upgrade of a polling session (checked in handler()). */
      s = g_hash_table_lookup (self->sessions, sid);
      if (s != NULL && (s->closed || s->ws != NULL || s->probe != NULL))
        s = NULL;
    }
  else
    s = session_new (self, peer);

  /* A plain socket joins the hub's epoll set: its own fd, so the GIO
   * objects around it can go (they close theirs). TLS keeps its stream. */
  socket = stream_get_socket (stream);
  if (socket != NULL && peercam_signaling_server_get_tls_certificate (self) == NULL)
    {
      int fd = fcntl (g_socket_get_fd (socket), F_DUPFD_CLOEXEC, 3);

      if (fd < 0)
        {
          g_warning ("Cannot take over a websocket: %s", g_strerror (errno));
          if (s != NULL && sid == NULL)
            session_close (s, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, NULL);
          return;
        }
      /* libsoup may keep a reference to it: close the original now, or the
       * connection would outlive the hub's close(). */
      g_socket_close (socket, NULL);
      conn = peercam_ws_hub_adopt_fd (self->hub, fd, s ? &ws_funcs : NULL, s);
    }
  else
    conn = peercam_ws_hub_adopt_stream (self->hub, stream, s ? &ws_funcs : NULL, s);

  if (conn == NULL)
    {
      if (s != NULL && sid == NULL)
        session_close (s, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, NULL);
      return;
    }
  if (s == NULL)
    {
      peercam_ws_conn_close (conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "Session ID unknown");
      return;
    }

  if (sid != NULL)
    {
      s->probe = conn;
      session_polled (s);
    }
  else
    {
      g_autofree char *open = open_packet (self, s, FALSE);

      s->ws = conn;
      session_send_str (s, open);
    }
}

/* Answers a websocket handshake (no extensions, no subprotocol) and takes
 * the connection once the 101 is out. */
static void
start_upgrade (PeercamSignalingServer *self,
               SoupServerMessage      *msg)
{
  if (!soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL))
    return;  /* 400, with the reason in the body */
  g_signal_connect (msg, "wrote-informational", G_CALLBACK (upgrade_wrote_cb), self);
}

/* --- GObject --------------------------------------------------------------- */

static void
close_all_sessions (PeercamSignalingServer *self)
{
  g_autoptr(GPtrArray) sessions = g_ptr_array_new_with_free_func ((GDestroyNotify) session_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (sessions, session_ref (value));
  for (guint i = 0; i < sessions->len; i++)
    session_close (g_ptr_array_index (sessions, i), SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server stopping");
}

static void
peercam_signaling_server_dispose (GObject *object)
{
  PeercamSignalingServer *self = PEERCAM_SIGNALING_SERVER (object);

  peercam_signaling_server_stop (self);

  /* Websockets still in their close handshake are cut short. */
  g_clear_pointer (&self->hub, peercam_ws_hub_free);

  g_clear_object (&self->soup);
  if (self->ticker != NULL)
    {
      g_source_destroy (self->ticker);
      g_clear_pointer (&self->ticker, g_source_unref);
    }

  G_OBJECT_CLASS (peercam_signaling_server_parent_class)->dispose (object);
}

static void
peercam_signaling_server_finalize (GObject *object)
{
  PeercamSignalingServer *self = PEERCAM_SIGNALING_SERVER (object);

  g_clear_pointer (&self->sessions, g_hash_table_unref);
  g_clear_pointer (&self->sockets, g_hash_table_unref);
  g_clear_pointer (&self->failures, g_hash_table_unref);
  g_clear_pointer (&self->pending, g_hash_table_unref);
  g_clear_pointer (&self->http, g_hash_table_unref);
  g_clear_pointer (&self->half_open, g_hash_table_unref);
  g_clear_pointer (&self->rooms, peercam_room_table_free);
  g_clear_pointer (&self->listeners, g_ptr_array_unref);
  g_free (self->bind_address);
  g_free (self->token);
  g_strfreev (self->allowed_origins);

  G_OBJECT_CLASS (peercam_signaling_server_parent_class)->finalize (object);
}

static void
set_uint (PeercamSignalingServer *self,
          guint                  *field,
          guint                   value,
          int                     prop)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
peercam_signaling_server_get_property (GObject    *object,
                                       guint       prop_id,
                                       GValue     *value,
                                       GParamSpec *pspec)
{
  PeercamSignalingServer *self = PEERCAM_SIGNALING_SERVER (object);

  switch (prop_id)
    {
    case PROP_PORT:
      g_value_set_uint (value, peercam_signaling_server_get_port (self));
      break;
    case PROP_BIND_ADDRESS:
      g_value_set_string (value, self->bind_address);
      break;
    case PROP_ROOM_CAPACITY:
      g_value_set_uint (value, self->room_capacity);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_uint (value, self->max_message_size);
      break;
    case PROP_MAX_CONNECTIONS:
      g_value_set_uint (value, self->max_connections);
      break;
    case PROP_TOKEN:
      g_value_set_string (value, self->token);
      break;
    case PROP_PING_INTERVAL:
      g_value_set_uint (value, self->ping_interval);
      break;
    case PROP_PING_TIMEOUT:
      g_value_set_uint (value, self->ping_timeout);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, self->connect_timeout);
      break;
    case PROP_HEADER_TIMEOUT:
      g_value_set_uint (value, self->header_timeout);
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      g_value_set_uint (value, self->handshake_timeout);
      break;
    case PROP_MAX_PENDING_PER_ADDRESS:
      g_value_set_uint (value, self->max_pending_per_address);
      break;
    case PROP_ALLOWED_ORIGINS:
      g_value_set_boxed (value, self->allowed_origins);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    case PROP_TLS_CERTIFICATE:
      g_value_set_object (value, peercam_signaling_server_get_tls_certificate (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_signaling_server_set_property (GObject      *object,
                                       guint         prop_id,
                                       const GValue *value,
                                       GParamSpec   *pspec)
{
  PeercamSignalingServer *self = PEERCAM_SIGNALING_SERVER (object);

  switch (prop_id)
    {
    case PROP_PORT:
      peercam_signaling_server_set_port (self, g_value_get_uint (value));
      break;
    case PROP_BIND_ADDRESS:
      peercam_signaling_server_set_bind_address (self, g_value_get_string (value));
      break;
    case PROP_ROOM_CAPACITY:
      peercam_signaling_server_set_room_capacity (self, g_value_get_uint (value));
      break;
    case PROP_MAX_MESSAGE_SIZE:
      set_uint (self, &self->max_message_size, g_value_get_uint (value), prop_id);
      if (self->hub != NULL)
        peercam_ws_hub_set_max_message_size (self->hub, self->max_message_size);
      break;
    case PROP_MAX_CONNECTIONS:
      set_uint (self, &self->max_connections, g_value_get_uint (value), prop_id);
      break;
    case PROP_TOKEN:
      peercam_signaling_server_set_token (self, g_value_get_string (value));
      break;
    case PROP_PING_INTERVAL:
      set_uint (self, &self->ping_interval, g_value_get_uint (value), prop_id);
      break;
    case PROP_PING_TIMEOUT:
      set_uint (self, &self->ping_timeout, g_value_get_uint (value), prop_id);
      break;
    case PROP_CONNECT_TIMEOUT:
      set_uint (self, &self->connect_timeout, g_value_get_uint (value), prop_id);
      break;
    case PROP_HEADER_TIMEOUT:
      set_uint (self, &self->header_timeout, g_value_get_uint (value), prop_id);
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      set_uint (self, &self->handshake_timeout, g_value_get_uint (value), prop_id);
      break;
    case PROP_MAX_PENDING_PER_ADDRESS:
      set_uint (self, &self->max_pending_per_address, g_value_get_uint (value), prop_id);
      break;
    case PROP_ALLOWED_ORIGINS:
      peercam_signaling_server_set_allowed_origins (self, g_value_get_boxed (value));
      break;
    case PROP_TLS_CERTIFICATE:
      peercam_signaling_server_set_tls_certificate (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_signaling_server_class_init (PeercamSignalingServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = peercam_signaling_server_dispose;
  object_class->finalize = peercam_signaling_server_finalize;
  object_class->get_property = peercam_signaling_server_get_property;
  object_class->set_property = peercam_signaling_server_set_property;

  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 0, flags);
  properties[PROP_BIND_ADDRESS] =
    g_param_spec_string ("bind-address", NULL, NULL, NULL, flags);
  properties[PROP_ROOM_CAPACITY] =
    g_param_spec_uint ("room-capacity", NULL, NULL, 1, G_MAXUINT, PEERCAM_ROOM_DEFAULT_CAPACITY, flags);
  properties[PROP_MAX_MESSAGE_SIZE] =
    g_param_spec_uint ("max-message-size", NULL, NULL, 64, G_MAXINT32, 1000000, flags);
  properties[PROP_MAX_CONNECTIONS] =
    g_param_spec_uint ("max-connections", NULL, NULL, 1, G_MAXUINT, 1000, flags);
  properties[PROP_TOKEN] =
    g_param_spec_string ("token", NULL, NULL, NULL, flags);
  /* web: the SoupServer's own certificate; set, start listens with HTTPS. */
  properties[PROP_TLS_CERTIFICATE] =
    g_param_spec_object ("tls-certificate", NULL, NULL, G_TYPE_TLS_CERTIFICATE, flags);
  properties[PROP_PING_INTERVAL] =
    g_param_spec_uint ("ping-interval", NULL, NULL, 10, G_MAXINT32, 25000, flags);
  properties[PROP_PING_TIMEOUT] =
    g_param_spec_uint ("ping-timeout", NULL, NULL, 10, G_MAXINT32, 20000, flags);
  /* Time (ms) a client has to CONNECT to "/" after the Engine.IO handshake;
   * checked at its pings, so it may get up to one ping-interval more. */
  properties[PROP_CONNECT_TIMEOUT] =
    g_param_spec_uint ("connect-timeout", NULL, NULL, 10, G_MAXINT32, 45000, flags);
  /* ms an HTTP(S) connection may wait for a request's headers to be
   * complete (at first, and between keep-alive requests). */
  properties[PROP_HEADER_TIMEOUT] =
    g_param_spec_uint ("header-timeout", NULL, NULL, 10, G_MAXINT32, 10000, flags);
  /* ms after a polling handshake for its first GET, POST or upgrade. */
  properties[PROP_HANDSHAKE_TIMEOUT] =
    g_param_spec_uint ("handshake-timeout", NULL, NULL, 10, G_MAXINT32, 5000, flags);
  /* Per client address: connections without a request yet, and sessions
   * not CONNECTed yet, each at most this many (0: no limit). */
  properties[PROP_MAX_PENDING_PER_ADDRESS] =
    g_param_spec_uint ("max-pending-per-address", NULL, NULL, 0, G_MAXUINT, 64, flags);
  /* Origins (scheme://host[:port]) whose pages may connect besides the
   * server's own; requests without an Origin (native clients) always may. */
  properties[PROP_ALLOWED_ORIGINS] =
    g_param_spec_boxed ("allowed-origins", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[CLIENT_CONNECTED] =
    g_signal_new ("client-connected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[CLIENT_DISCONNECTED] =
    g_signal_new ("client-disconnected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[CLIENT_JOINED] =
    g_signal_new ("client-joined", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[CLIENT_LEFT] =
    g_signal_new ("client-left", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static void
peercam_signaling_server_init (PeercamSignalingServer *self)
{
  self->room_capacity = PEERCAM_ROOM_DEFAULT_CAPACITY;
  self->max_message_size = 1000000;
  self->max_connections = 1000;
  self->ping_interval = 25000;
  self->ping_timeout = 20000;
  self->connect_timeout = 45000;
  self->header_timeout = 10000;
  self->handshake_timeout = 5000;
  self->max_pending_per_address = 64;

  self->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) session_unref);
  self->sockets = g_hash_table_new (g_str_hash, g_str_equal);
  self->failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->http = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) http_conn_free);
  self->half_open = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&self->handshakes);
  self->rooms = peercam_room_table_new (self->room_capacity);
  self->listeners = g_ptr_array_new_with_free_func ((GDestroyNotify) listener_free);
  g_queue_init (&self->ping_queue);
  g_queue_init (&self->pong_queue);
  self->ticker = g_source_new (&ticker_funcs, sizeof (GSource));
  g_source_set_callback (self->ticker, ticker_cb, self, NULL);
  g_source_set_static_name (self->ticker, "[peercam] signaling ping timer");

  self->soup = soup_server_new ("server-header", "peercam ", NULL);
  g_signal_connect (self->soup, "request-started", G_CALLBACK (request_started_cb), self);
  g_signal_connect (self->soup, "request-finished", G_CALLBACK (request_done_cb), self);
  g_signal_connect (self->soup, "request-aborted", G_CALLBACK (request_done_cb), self);
  soup_server_add_handler (self->soup, PEERCAM_SIGNALING_SERVER_PATH, handler, self, NULL);
}

/* --- public API -------------------------------------------------------------- */

PeercamSignalingServer *
peercam_signaling_server_new (void)
{
  return g_object_new (PEERCAM_TYPE_SIGNALING_SERVER, NULL);
}

static void listener_watch (Listener *listener);

static gboolean
listener_resume_cb (gpointer data)
{
  Listener *listener = data;

  listener->resume_id = 0;
  listener_watch (listener);
  return G_SOURCE_REMOVE;
}

/* Takes what the backlog holds (up to a batch) and hands each connection
 * to libsoup, which reads its requests. */
static gboolean
listener_accept_cb (GSocket      *socket,
                    GIOCondition  condition,
                    gpointer      data)
{
  Listener *listener = data;
  PeercamSignalingServer *self = listener->server;

  for (guint i = 0; i < ACCEPT_BATCH; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) client = g_socket_accept (socket, NULL, &error);
      g_autoptr(GSocketConnection) connection = NULL;
      g_autoptr(GSocketAddress) local = NULL;
      g_autoptr(GSocketAddress) remote = NULL;
      g_autofree char *key = NULL;
      g_autofree char *peer = NULL;
      g_autoptr(GIOStream) stream = NULL;

      if (client == NULL)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            break;
          if (!listener->warned)
            g_warning ("Cannot accept connections: %s; retrying every %u ms", error->message, ACCEPT_PAUSE_MS);
          listener->warned = TRUE;
          g_clear_pointer (&listener->source, g_source_unref);  /* removed on return */
          listener->resume_id = g_timeout_add (ACCEPT_PAUSE_MS, listener_resume_cb, listener);
          return G_SOURCE_REMOVE;
        }
      listener->warned = FALSE;
      local = g_socket_get_local_address (client, NULL);
      remote = g_socket_get_remote_address (client, NULL);
      key = address_key (remote);
      if (key == NULL)
        continue;
      peer = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
      /* Connections that have not sent a request yet, per address: one
       * client cannot hold them all open (slowloris). */
      if (self->max_pending_per_address > 0 && count_get (self->half_open, peer) >= self->max_pending_per_address)
        {
          log_event (G_LOG_LEVEL_INFO, NULL, NULL, "refusing a connection from %s: %u without a request yet",
                     peer, self->max_pending_per_address);
          g_socket_close (client, NULL);
          continue;
        }
      g_socket_set_option (client, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
      connection = g_socket_connection_factory_create_connection (client);
      if (listener->tls)
        {
          /* The handshake happens on libsoup's first read, within the
           * connection's header-timeout. */
          stream = g_tls_server_connection_new (G_IO_STREAM (connection),
                                                peercam_signaling_server_get_tls_certificate (self), &error);
          if (stream == NULL)
            {
              g_warning ("Cannot serve HTTPS: %s", error->message);
              continue;
            }
        }
      else
        stream = G_IO_STREAM (g_object_ref (connection));
      {
        /* Watched before libsoup gets it: it may read a request at once. */
        HttpConn *c = g_new0 (HttpConn, 1);

        c->connection = g_object_ref (connection);
        c->peer = g_strdup (peer);
        c->deadline = g_get_monotonic_time () + (gint64) self->header_timeout * G_TIME_SPAN_MILLISECOND;
        count_add (self->half_open, c->peer, 1);
        g_hash_table_replace (self->http, g_strdup (key), c);
      }
      if (!soup_server_accept_iostream (self->soup, stream, local, remote, &error))
        {
          HttpConn *c = g_hash_table_lookup (self->http, key);

          g_debug ("Dropping a connection: %s", error->message);
          if (c != NULL && c->connection == connection)
            {
              if (!c->requested)
                count_add (self->half_open, c->peer, -1);
              g_hash_table_remove (self->http, key);
            }
        }
    }
  return G_SOURCE_CONTINUE;
}

static void
listener_watch (Listener *listener)
{
  listener->source = g_socket_create_source (listener->socket, G_IO_IN, NULL);
  g_source_set_callback (listener->source, G_SOURCE_FUNC (listener_accept_cb), listener, NULL);
  g_source_set_static_name (listener->source, "[peercam] signaling listener");
  g_source_attach (listener->source, g_main_context_get_thread_default ());
}

static void
listener_free (Listener *listener)
{
  if (listener->source != NULL)
    {
      g_source_destroy (listener->source);
      g_source_unref (listener->source);
    }
  g_clear_handle_id (&listener->resume_id, g_source_remove);
  g_socket_close (listener->socket, NULL);
  g_object_unref (listener->socket);
  g_free (listener);
}

/* Every listening socket, ours and libsoup's (HTTPS). */
static void
close_listeners (PeercamSignalingServer *self)
{
  g_ptr_array_set_size (self->listeners, 0);
  g_hash_table_remove_all (self->http);
  g_hash_table_remove_all (self->half_open);
  if (self->sweep != NULL)
    {
      g_source_destroy (self->sweep);
      g_clear_pointer (&self->sweep, g_source_unref);
    }
  soup_server_disconnect (self->soup);
}

/* The port of the first listening socket, 0 if none. */
static guint
listening_port (PeercamSignalingServer *self)
{
  g_autoptr(GSocketAddress) local = NULL;

  if (self->listeners->len > 0)
    local = g_socket_get_local_address (((Listener *) g_ptr_array_index (self->listeners, 0))->socket, NULL);
  else
    {
      GSList *listeners = soup_server_get_listeners (self->soup);

      if (listeners != NULL)
        local = g_socket_get_local_address (g_slist_last (listeners)->data, NULL);
      g_slist_free (listeners);
    }
  return G_IS_INET_SOCKET_ADDRESS (local) ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)) : 0;
}

/* Like soup_listener_new_for_address(), but with a real listen backlog. */
static gboolean
listen_on (PeercamSignalingServer   *self,
           GInetAddress             *address,
           guint                     port,
           SoupServerListenOptions   options,
           GError                  **error)
{
  GSocketFamily family = g_inet_address_get_family (address);
  g_autoptr(GSocket) socket = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
  g_autoptr(GSocketAddress) socket_address = NULL;

  if (socket == NULL)
    return FALSE;
  /* IPv4 gets its own socket (as soup_server_listen_all() does). */
  if (family == G_SOCKET_FAMILY_IPV6)
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, TRUE, NULL);
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  socket_address = g_inet_socket_address_new (address, port);
  if (!g_socket_bind (socket, socket_address, TRUE, error) || !g_socket_listen (socket, error))
    return FALSE;
  {
    Listener *listener = g_new0 (Listener, 1);

    g_socket_set_blocking (socket, FALSE);
    listener->server = self;
    listener->tls = (options & SOUP_SERVER_LISTEN_HTTPS) != 0;
    listener->socket = g_steal_pointer (&socket);
    listener_watch (listener);
    g_ptr_array_add (self->listeners, listener);
  }
  return TRUE;
}

/* libsoup 3.2 keeps a connection alive after a response only while it has
 * a listener of its own (request_finished() checks priv->listeners), so
 * with only our plain listeners it closed every connection after one
 * response: the second request on a connection was reset, pipelined ones
 * lost, an upgrade on the handshake's connection failed. Give it a
 * listener nobody dials: an unnamed local socket (Linux autobinds it to a
 * random abstract name). */
static gboolean
give_soup_a_listener (PeercamSignalingServer  *self,
                      GError                 **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;

  if (soup_server_get_listeners (self->soup) != NULL)
    {
      GSList *listeners = soup_server_get_listeners (self->soup);

      g_slist_free (listeners);
      return TRUE;
    }
  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
  if (socket == NULL)
    return FALSE;
  /* An address of just the family: the kernel picks an abstract name. */
  address = g_unix_socket_address_new_with_type ("", 0, G_UNIX_SOCKET_ADDRESS_ANONYMOUS);
  g_socket_set_listen_backlog (socket, 1);
  if (!g_socket_bind (socket, address, FALSE, error) || !g_socket_listen (socket, error))
    return FALSE;
  return soup_server_listen_socket (self->soup, socket, 0, error);
}

/* soup_server_listen_all() semantics: 0.0.0.0 and ::, the IPv6 one on the
 * port IPv4 got, and no IPv6 at all is fine. */
static gboolean
listen_all (PeercamSignalingServer   *self,
            guint                     port,
            SoupServerListenOptions   options,
            GError                  **error)
{
  g_autoptr(GInetAddress) any4 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GInetAddress) any6 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);

  for (guint attempt = 0;; attempt++)
    {
      g_autoptr(GError) v6_error = NULL;
      guint v4_port;

      if (!listen_on (self, any4, port, options, error))
        return FALSE;
      v4_port = listening_port (self);

      if (listen_on (self, any6, v4_port, options, &v6_error))
        return TRUE;
      if (g_error_matches (v6_error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED)
          || g_error_matches (v6_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        {
          g_debug ("Ignoring IPv6 listen error, assuming it isn't supported: %s", v6_error->message);
          return TRUE;
        }

      close_listeners (self);
      /* The ephemeral IPv4 port may be taken on the IPv6 side: try another. */
      if (port == 0 && attempt < 16 && g_error_matches (v6_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        continue;
      g_propagate_error (error, g_steal_pointer (&v6_error));
      return FALSE;
    }
}

gboolean
peercam_signaling_server_start (PeercamSignalingServer  *self,
                                GError                 **error)
{
  SoupServerListenOptions listen_flags =   /* web: HTTPS/WSS with a certificate */
    peercam_signaling_server_get_tls_certificate (self) ? SOUP_SERVER_LISTEN_HTTPS : 0;

  g_return_val_if_fail (PEERCAM_IS_SIGNALING_SERVER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->running)
    return TRUE;

  if (self->bind_address == NULL)
    {
      if (!listen_all (self, self->port, listen_flags, error))
        return FALSE;
    }
  else
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (self->bind_address);

      if (address == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Invalid bind address “%s”", self->bind_address);
          return FALSE;
        }
      if (!listen_on (self, address, self->port, listen_flags, error))
        {
          close_listeners (self);
          return FALSE;
        }
    }

  /* Pings and websockets run in the context libsoup serves from. */
  if (g_source_get_context (self->ticker) == NULL)
    g_source_attach (self->ticker, g_main_context_get_thread_default ());
  if (self->hub == NULL)
    self->hub = peercam_ws_hub_new (g_main_context_get_thread_default (), self->max_message_size);

  if (self->listeners->len > 0 && !give_soup_a_listener (self, error))
    {
      close_listeners (self);
      return FALSE;
    }

  self->sweep = g_timeout_source_new (SWEEP_INTERVAL_MS);
  g_source_set_callback (self->sweep, sweep_cb, self, NULL);
  g_source_set_static_name (self->sweep, "[peercam] signaling sweep");
  g_source_attach (self->sweep, g_main_context_get_thread_default ());
  self->bound_port = listening_port (self);
  self->running = TRUE;
  g_message ("Signaling server listening on %s port %u",
             self->bind_address ? self->bind_address : "all addresses", self->bound_port);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  if (self->bound_port != self->port)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  return TRUE;
}

void
peercam_signaling_server_stop (PeercamSignalingServer *self)
{
  g_return_if_fail (PEERCAM_IS_SIGNALING_SERVER (self));

  if (!self->running)
    return;

  g_object_ref (self);
  self->stopping = TRUE;
  close_all_sessions (self);
  self->stopping = FALSE;
  /* Close frames leave now: the process may exit before the next
   * main loop iteration (SIGTERM on `peercam --host-only`). */
  if (self->hub != NULL)
    peercam_ws_hub_flush (self->hub);
  close_listeners (self);
  self->running = FALSE;
  self->bound_port = 0;
  g_message ("Signaling server stopped");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  g_object_unref (self);
}

gboolean
peercam_signaling_server_is_running (PeercamSignalingServer *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_SERVER (self), FALSE);
  return self->running;
}

guint
peercam_signaling_server_get_port (PeercamSignalingServer *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_SERVER (self), 0);
  return self->running ? self->bound_port : self->port;
}

void
peercam_signaling_server_set_port (PeercamSignalingServer *self,
                                   guint                   port)
{
  g_return_if_fail (PEERCAM_IS_SIGNALING_SERVER (self));
  g_return_if_fail (port <= G_MAXUINT16);
  set_uint (self, &self->port, port, PROP_PORT);
}

const char *
peercam_signaling_server_get_bind_address (PeercamSignalingServer *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_SERVER (self), NULL);
  return self->bind_address;
}

void
peercam_signaling_server_set_bind_address (PeercamSignalingServer *self,
                                           const char             *address)
{
  g_return_if_fail (PEERCAM_IS_SIGNALING_SERVER (self));

  if (address != NULL && address[0] == '\0')
    address = NULL;
  if (g_strcmp0 (self->bind_address, address) == 0)
    return;
  g_free (self->bind_address);
  self->bind_address = g_strdup (address);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BIND_ADDRESS]);
}

guint
peercam_signaling_server_get_room_capacity (PeercamSignalingServer *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_SERVER (self), 0);
  return self->room_capacity;
}

void
peercam_signaling_server_set_room_capacity (PeercamSignalingServer *self,
                                            guint                   capacity)
{
  g_return_if_fail (PEERCAM_IS_SIGNALING_SERVER (self));
  g_return_if_fail (capacity > 0);

  peercam_room_table_set_capacity (self->rooms, capacity);
  set_uint (self, &self->room_capacity, capacity, PROP_ROOM_CAPACITY);
}

const char *
peercam_signaling_server_get_token (PeercamSignalingServer *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_SERVER (self), NULL);
  return self->token;
}

void
peercam_signaling_server_set_token (PeercamSignalingServer *self,
                                    const char             *token)
{
  g_return_if_fail (PEERCAM_IS_SIGNALING_SERVER (self));

  if (token != NULL && token[0] == '\0')
    token = NULL;
  if (g_strcmp0 (self->token, token) == 0)
    return;
  g_free (self->token);
  self->token = g_strdup (token);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKEN]);
}

guint
peercam_signaling_server_get_n_connections (PeercamSignalingServer *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_SERVER (self), 0);
  return g_hash_table_size (self->sessions);
}

SoupServer *
peercam_signaling_server_get_soup_server (PeercamSignalingServer *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_SERVER (self), NULL);
  return self->soup;
}

/* (transfer none) (nullable) */
const char * const *
peercam_signaling_server_get_allowed_origins (PeercamSignalingServer *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_SERVER (self), NULL);
  return (const char * const *) self->allowed_origins;
}

void
peercam_signaling_server_set_allowed_origins (PeercamSignalingServer *self,
                                              const char * const     *origins)
{
  g_return_if_fail (PEERCAM_IS_SIGNALING_SERVER (self));

  if (origins != NULL && origins[0] == NULL)
    origins = NULL;
  if (self->allowed_origins == NULL && origins == NULL)
    return;
  if (self->allowed_origins != NULL && origins != NULL
      && g_strv_equal ((const char * const *) self->allowed_origins, origins))
    return;
  g_strfreev (self->allowed_origins);
  self->allowed_origins = g_strdupv ((char **) origins);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALLOWED_ORIGINS]);
}

/* --- web: TLS ------------------------------------------------------------------ */

/* (transfer none) (nullable) */
GTlsCertificate *
peercam_signaling_server_get_tls_certificate (PeercamSignalingServer *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_SERVER (self), NULL);

  return soup_server_get_tls_certificate (self->soup);
}

/* Takes effect at the next start. */
void
peercam_signaling_server_set_tls_certificate (PeercamSignalingServer *self,
                                              GTlsCertificate        *certificate)
{
  g_return_if_fail (PEERCAM_IS_SIGNALING_SERVER (self));
  g_return_if_fail (certificate == NULL || G_IS_TLS_CERTIFICATE (certificate));

  if (soup_server_get_tls_certificate (self->soup) == certificate)
    return;
  soup_server_set_tls_certificate (self->soup, certificate);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_CERTIFICATE]);
}
