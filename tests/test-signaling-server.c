/* test-signaling-server.c — the embedded Socket.IO server against raw
 * Engine.IO clients on loopback
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The clients here speak raw Engine.IO frames on purpose: they check the
 * wire format byte for byte and can misbehave in ways a real client can't.
 */
#include "peercam-signaling-server.h"
#include "peercam-tls.h"

#include <glib/gstdio.h>

#include <arpa/inet.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define TIMEOUT_MS 5000

/* --- main loop helpers ---------------------------------------------------- */

static gboolean
flag_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

typedef gboolean (*Condition) (gpointer data);

/* Runs the default context until @cond holds or @timeout_ms pass. */
static gboolean
wait_for (Condition cond, gpointer data, guint timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, flag_cb, &timed_out);

  while (!cond (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return cond (data);
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

/* Lets pending I/O settle for @ms. */
static void
spin (guint ms)
{
  wait_for (never, NULL, ms);
}

/* --- raw Engine.IO client ------------------------------------------------- */

typedef struct {
  SoupSession             *session;
  SoupWebsocketConnection *ws;
  GQueue                   frames;     /* char *, pings already answered */
  GError                  *error;      /* connect failure */
  guint                    status;     /* HTTP status of a failed connect */
  guint                    pings;
  gboolean                 connecting;
  gboolean                 silent;     /* never answer pings */
  gboolean                 closed;
  gushort                  close_code;
  char                    *socket_id;
} Client;

static void
client_message_cb (SoupWebsocketConnection *ws,
                   int                      type,
                   GBytes                  *message,
                   Client                  *c)
{
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  if (len == 1 && data[0] == '2')
    {
      c->pings++;
      if (!c->silent)
        soup_websocket_connection_send_text (ws, "3");
      return;
    }
  g_queue_push_tail (&c->frames, g_strndup (data, len));
}

static void
client_closed_cb (SoupWebsocketConnection *ws,
                  Client                  *c)
{
  c->closed = TRUE;
  c->close_code = soup_websocket_connection_get_close_code (ws);
}

static void
client_connected_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      data)
{
  Client *c = data;

  c->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &c->error);
  c->connecting = FALSE;
  if (c->ws != NULL)
    {
      g_signal_connect (c->ws, "message", G_CALLBACK (client_message_cb), c);
      g_signal_connect (c->ws, "closed", G_CALLBACK (client_closed_cb), c);
    }
}

static gboolean
not_connecting (gpointer data)
{
  return !((Client *) data)->connecting;
}

static char *
server_url (PeercamSignalingServer *server,
            const char             *scheme,
            const char             *query)
{
  const char *host = peercam_signaling_server_get_bind_address (server);
  gboolean v6 = host != NULL && strchr (host, ':') != NULL;

  return g_strdup_printf ("%s://%s%s%s:%u/socket.io/?EIO=4&%s", scheme,
                          v6 ? "[" : "", host ? host : "127.0.0.1", v6 ? "]" : "",
                          peercam_signaling_server_get_port (server), query);
}

/* Opens a websocket from @from (a local address, NULL: any); @query is
 * appended after EIO=4. Does not assert success. */
static Client *
client_try_connect_from (PeercamSignalingServer *server,
                         const char             *query,
                         const char             *from)
{
  Client *c = g_new0 (Client, 1);
  g_autofree char *url = server_url (server, "ws", query);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);

  g_queue_init (&c->frames);
  if (from != NULL)
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (from);
      g_autoptr(GSocketAddress) local = g_inet_socket_address_new (address, 0);

      c->session = soup_session_new_with_options ("local-address", local, NULL);
    }
  else
    c->session = soup_session_new ();
  c->connecting = TRUE;
  soup_session_websocket_connect_async (c->session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        client_connected_cb, c);
  g_assert_true (wait_for (not_connecting, c, TIMEOUT_MS));
  c->status = soup_message_get_status (msg);
  return c;
}

static Client *
client_try_connect (PeercamSignalingServer *server,
                    const char             *query)
{
  return client_try_connect_from (server, query, NULL);
}

static void
client_free (Client *c)
{
  if (c->ws != NULL)
    {
      g_signal_handlers_disconnect_by_data (c->ws, c);
      if (soup_websocket_connection_get_state (c->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_clear_object (&c->ws);
    }
  g_clear_object (&c->session);
  g_queue_clear_full (&c->frames, g_free);
  g_clear_error (&c->error);
  g_free (c->socket_id);
  g_free (c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Client, client_free)

static gboolean
has_frame (gpointer data)
{
  Client *c = data;

  return c->frames.length > 0 || c->closed;
}

/* The next frame (transfer full), or NULL on timeout / close. */
static char *
client_next (Client *c, guint timeout_ms)
{
  wait_for (has_frame, c, timeout_ms);
  return g_queue_pop_head (&c->frames);
}

#define client_expect(c, expected) \
  G_STMT_START { \
    g_autofree char *_frame = client_next ((c), TIMEOUT_MS); \
    g_assert_cmpstr (_frame, ==, (expected)); \
  } G_STMT_END

/* Asserts that nothing arrives within @ms. */
static void
client_expect_nothing (Client *c, guint ms)
{
  g_autofree char *frame = client_next (c, ms);

  g_assert_cmpstr (frame, ==, NULL);
}

static void
client_send (Client *c, const char *text)
{
  soup_websocket_connection_send_text (c->ws, text);
}

static JsonObject *
parse_object (const char *text)
{
  g_autoptr(JsonNode) node = json_from_string (text, NULL);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

/* Websocket + Engine.IO open + Socket.IO CONNECT on "/". */
static Client *
client_connect (PeercamSignalingServer *server)
{
  Client *c = client_try_connect (server, "transport=websocket");
  g_autofree char *open = NULL;
  g_autofree char *connected = NULL;
  g_autoptr(JsonObject) reply = NULL;

  g_assert_no_error (c->error);
  open = client_next (c, TIMEOUT_MS);
  g_assert_nonnull (open);
  g_assert_true (g_str_has_prefix (open, "0{"));
  client_send (c, "40");
  connected = client_next (c, TIMEOUT_MS);
  g_assert_nonnull (connected);
  g_assert_true (g_str_has_prefix (connected, "40{"));
  reply = parse_object (connected + 2);
  c->socket_id = g_strdup (json_object_get_string_member (reply, "sid"));
  g_assert_nonnull (c->socket_id);
  return c;
}

static void
client_join (Client *c, const char *room)
{
  g_autofree char *frame = g_strdup_printf ("42[\"create or join\",\"%s\"]", room);

  client_send (c, frame);
}

static gboolean
is_closed (gpointer data)
{
  return ((Client *) data)->closed;
}

/* --- HTTP helper (async, the server runs on this thread) ------------------- */

typedef struct {
  GBytes *body;
  gboolean done;
} HttpResult;

static void
http_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  HttpResult *r = data;

  r->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, NULL);
  r->done = TRUE;
}

static gboolean
http_is_done (gpointer data)
{
  return ((HttpResult *) data)->done;
}

typedef struct {
  SoupMessage *msg;
  HttpResult   result;
} Request;

static Request *
http_start (SoupSession *session, const char *method, const char *url, const char *body)
{
  Request *r = g_new0 (Request, 1);

  r->msg = soup_message_new (method, url);
  g_assert_nonnull (r->msg);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (r->msg, "text/plain;charset=UTF-8", bytes);
    }
  soup_session_send_and_read_async (session, r->msg, G_PRIORITY_DEFAULT, NULL, http_done_cb, &r->result);
  return r;
}

/* Waits for @r, frees it, returns the body as a string (transfer full). */
static char *
http_finish (Request *r, guint *status)
{
  char *text = NULL;

  g_assert_true (wait_for (http_is_done, &r->result, TIMEOUT_MS));
  if (status != NULL)
    *status = soup_message_get_status (r->msg);
  if (r->result.body != NULL)
    {
      gsize len;
      const char *data = g_bytes_get_data (r->result.body, &len);

      text = g_strndup (data, len);
      g_bytes_unref (r->result.body);
    }
  g_object_unref (r->msg);
  g_free (r);
  return text;
}

static char *
http (SoupSession *session, const char *method, const char *url, const char *body, guint *status)
{
  return http_finish (http_start (session, method, url, body), status);
}

/* --- raw HTTP client (blocking, with a timeout: the server runs on a
 * thread of its own in the tests that use it) ------------------------------- */

typedef struct {
  GSocket *socket;
  GString *in;     /* received, not yet returned */
  gboolean eof;
} Raw;

static Raw *
raw_open (guint port, const char *from)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr(GSocketAddress) remote = g_inet_socket_address_new (loopback, (guint16) port);
  Raw *r = g_new0 (Raw, 1);

  r->socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  if (from != NULL)
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (from);
      g_autoptr(GSocketAddress) local = g_inet_socket_address_new (address, 0);

      g_assert_true (g_socket_bind (r->socket, local, FALSE, &error));
    }
  g_socket_set_timeout (r->socket, 5);
  g_assert_true (g_socket_connect (r->socket, remote, NULL, &error));
  g_assert_no_error (error);
  r->in = g_string_new (NULL);
  return r;
}

static void
raw_free (Raw *r)
{
  g_socket_close (r->socket, NULL);
  g_object_unref (r->socket);
  g_string_free (r->in, TRUE);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Raw, raw_free)

/* FALSE if the server closed or reset the connection. */
static gboolean
raw_write (Raw *r, const char *data, gsize len)
{
  gsize off = 0;

  while (off < len)
    {
      gssize n = g_socket_send (r->socket, data + off, len - off, NULL, NULL);

      if (n <= 0)
        return FALSE;
      off += (gsize) n;
    }
  return TRUE;
}

static gboolean
raw_fill (Raw *r)
{
  char buf[65536];
  g_autoptr(GError) error = NULL;
  gssize n = g_socket_receive (r->socket, buf, sizeof buf, NULL, &error);

  /* A timeout is not the end: the server still holds the connection. */
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return FALSE;
  if (n <= 0)
    {
      r->eof = TRUE;
      return FALSE;
    }
  g_string_append_len (r->in, buf, n);
  return TRUE;
}

/* The next whole response (headers and a Content-Length body), or NULL
 * at the end of the stream. */
static char *
raw_read_response (Raw *r)
{
  for (;;)
    {
      const char *end = strstr (r->in->str, "\r\n\r\n");

      if (end != NULL)
        {
          const char *cl = g_strstr_len (r->in->str, end - r->in->str, "Content-Length: ");
          gsize head = (gsize) (end - r->in->str) + 4;
          gsize body = cl ? (gsize) g_ascii_strtoull (cl + 16, NULL, 10) : 0;

          if (r->in->len >= head + body)
            {
              char *response = g_strndup (r->in->str, head + body);

              g_string_erase (r->in, 0, head + body);
              return response;
            }
        }
      if (r->eof || !raw_fill (r))
        return NULL;
    }
}

/* Whether the server ends the connection within the socket timeout (5 s). */
static gboolean
raw_closed_by_server (Raw *r)
{
  while (raw_fill (r))
    ;
  return r->eof;
}

/* The server on its own thread, for tests whose clients block. */
typedef struct {
  GMainContext           *context;
  GMainLoop              *loop;
  GThread                *thread;
  PeercamSignalingServer *server;
  guint                   port;
  GMutex                  lock;
  GCond                   cond;
  gboolean                ready;
  char                  **properties;  /* name=value pairs, for server_new */
  GTlsCertificate        *certificate; /* HTTPS when set */
} ServerThread;

static gpointer
server_thread_main (gpointer data)
{
  ServerThread *t = data;
  g_autoptr(GError) error = NULL;

  g_main_context_push_thread_default (t->context);
  t->server = peercam_signaling_server_new ();
  peercam_signaling_server_set_bind_address (t->server, "127.0.0.1");
  for (guint i = 0; t->properties != NULL && t->properties[i] != NULL; i += 2)
    {
      GValue value = G_VALUE_INIT;
      GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (t->server), t->properties[i]);

      g_assert_nonnull (pspec);
      g_value_init (&value, pspec->value_type);
      if (pspec->value_type == G_TYPE_UINT)
        g_value_set_uint (&value, (guint) g_ascii_strtoull (t->properties[i + 1], NULL, 10));
      else if (pspec->value_type == G_TYPE_STRV)
        {
          const char *strv[] = { t->properties[i + 1], NULL };

          g_value_set_boxed (&value, strv);
        }
      else
        g_value_set_string (&value, t->properties[i + 1]);
      g_object_set_property (G_OBJECT (t->server), t->properties[i], &value);
      g_value_unset (&value);
    }
  if (t->certificate != NULL)
    peercam_signaling_server_set_tls_certificate (t->server, t->certificate);
  g_assert_true (peercam_signaling_server_start (t->server, &error));
  g_mutex_lock (&t->lock);
  t->port = peercam_signaling_server_get_port (t->server);
  t->ready = TRUE;
  g_cond_signal (&t->cond);
  g_mutex_unlock (&t->lock);

  g_main_loop_run (t->loop);

  peercam_signaling_server_stop (t->server);
  for (guint i = 0; i < 10; i++)
    g_main_context_iteration (t->context, FALSE);
  g_clear_object (&t->server);
  g_main_context_pop_thread_default (t->context);
  return NULL;
}

static ServerThread *server_thread_new_valist (GTlsCertificate *certificate, const char *first, va_list args);

/* @...: property name and value (as text) pairs, NULL-terminated. */
static ServerThread *
server_thread_new (const char *first, ...)
{
  ServerThread *t;
  va_list args;

  va_start (args, first);
  t = server_thread_new_valist (NULL, first, args);
  va_end (args);
  return t;
}

static ServerThread *
server_thread_new_tls (GTlsCertificate *certificate, const char *first, ...)
{
  ServerThread *t;
  va_list args;

  va_start (args, first);
  t = server_thread_new_valist (certificate, first, args);
  va_end (args);
  return t;
}

static ServerThread *
server_thread_new_valist (GTlsCertificate *certificate, const char *first, va_list args)
{
  ServerThread *t = g_new0 (ServerThread, 1);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  t->certificate = certificate ? g_object_ref (certificate) : NULL;
  for (const char *name = first; name != NULL; name = va_arg (args, const char *))
    {
      g_strv_builder_add (builder, name);
      g_strv_builder_add (builder, va_arg (args, const char *));
    }
  t->properties = g_strv_builder_end (builder);
  t->context = g_main_context_new ();
  t->loop = g_main_loop_new (t->context, FALSE);
  g_mutex_init (&t->lock);
  g_cond_init (&t->cond);
  t->thread = g_thread_new ("server", server_thread_main, t);
  g_mutex_lock (&t->lock);
  while (!t->ready)
    g_cond_wait (&t->cond, &t->lock);
  g_mutex_unlock (&t->lock);
  return t;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
server_thread_free (ServerThread *t)
{
  g_main_context_invoke (t->context, quit_cb, t->loop);
  g_thread_join (t->thread);
  g_main_loop_unref (t->loop);
  g_main_context_unref (t->context);
  g_mutex_clear (&t->lock);
  g_cond_clear (&t->cond);
  g_strfreev (t->properties);
  g_clear_object (&t->certificate);
  g_free (t);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ServerThread, server_thread_free)

static gboolean
accept_any_cb (SoupMessage *msg, GTlsCertificate *certificate, GTlsCertificateFlags errors, gpointer data)
{
  return TRUE;  /* the test's own self-signed certificate */
}

/* A GET with a session of its own on this thread (the server runs on
 * another one). */
static char *
http_blocking (SoupSession *session, const char *url, guint *status)
{
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;

  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_any_cb), NULL);
  body = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  *status = soup_message_get_status (msg);
  return g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
}

/* A polling handshake on its own connection; returns the sid. */
static char *
raw_handshake (guint port, const char *from)
{
  g_autoptr(Raw) r = raw_open (port, from);
  g_autofree char *response = NULL;
  static const char request[] = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n";
  g_autoptr(JsonObject) o = NULL;
  const char *open;

  g_assert_true (raw_write (r, request, strlen (request)));
  response = raw_read_response (r);
  g_assert_nonnull (response);
  g_assert_true (g_str_has_prefix (response, "HTTP/1.1 200"));
  open = strstr (response, "\r\n\r\n0{");
  g_assert_nonnull (open);
  o = parse_object (open + 5);
  return g_strdup (json_object_get_string_member (o, "sid"));
}

/* --- fixtures --------------------------------------------------------------- */

static PeercamSignalingServer *
server_new (const char *first_property, ...)
{
  PeercamSignalingServer *server;
  g_autoptr(GError) error = NULL;
  va_list args;

  va_start (args, first_property);
  server = PEERCAM_SIGNALING_SERVER (g_object_new_valist (PEERCAM_TYPE_SIGNALING_SERVER, first_property, args));
  va_end (args);

  if (peercam_signaling_server_get_bind_address (server) == NULL)
    peercam_signaling_server_set_bind_address (server, "127.0.0.1");
  g_assert_true (peercam_signaling_server_start (server, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (peercam_signaling_server_get_port (server), >, 0);
  return server;
}

static void
server_free (PeercamSignalingServer *server)
{
  peercam_signaling_server_stop (server);
  spin (50);  /* let close handshakes finish so nothing leaks */
  g_object_unref (server);
}

/* --- tests ---------------------------------------------------------------- */

static void
count_cb (PeercamSignalingServer *server, const char *room, const char *id, guint *count)
{
  g_assert_nonnull (room);
  g_assert_nonnull (id);
  (*count)++;
}

static void
count_id_cb (PeercamSignalingServer *server, const char *id, guint *count)
{
  g_assert_nonnull (id);
  (*count)++;
}

static void
test_handshake (void)
{
  PeercamSignalingServer *server = server_new ("port", 0, NULL);
  g_autoptr(Client) c = client_try_connect (server, "transport=websocket");
  g_autofree char *open = NULL;
  g_autofree char *connected = NULL;
  g_autoptr(JsonObject) o = NULL;
  g_autoptr(JsonObject) reply = NULL;
  guint connects = 0;

  g_signal_connect (server, "client-connected", G_CALLBACK (count_id_cb), &connects);
  g_assert_no_error (c->error);

  open = client_next (c, TIMEOUT_MS);
  g_assert_true (g_str_has_prefix (open, "0{"));
  o = parse_object (open + 1);
  g_assert_cmpuint (strlen (json_object_get_string_member (o, "sid")), ==, 20);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "upgrades")), ==, 0);
  g_assert_cmpint (json_object_get_int_member (o, "pingInterval"), ==, 25000);
  g_assert_cmpint (json_object_get_int_member (o, "pingTimeout"), ==, 20000);
  g_assert_cmpint (json_object_get_int_member (o, "maxPayload"), ==, 1000000);
  g_assert_cmpuint (peercam_signaling_server_get_n_connections (server), ==, 1);

  client_send (c, "40");
  connected = client_next (c, TIMEOUT_MS);
  g_assert_true (g_str_has_prefix (connected, "40{\"sid\":\""));
  reply = parse_object (connected + 2);
  g_assert_cmpstr (json_object_get_string_member (reply, "sid"), !=, json_object_get_string_member (o, "sid"));
  g_assert_cmpuint (connects, ==, 1);

  /* Engine.IO 3 habit: a client ping gets a pong with the same payload. */
  client_send (c, "2hello");
  client_expect (c, "3hello");

  server_free (server);
}

static void
test_http_errors (void)
{
  PeercamSignalingServer *server = server_new (NULL, NULL);
  g_autoptr(SoupSession) session = soup_session_new ();
  static const struct { const char *query; const char *method; guint status; const char *body; } cases[] = {
    { "transport=polling&EIO=3", "GET", 400, "{\"code\":5,\"message\":\"Unsupported protocol version\"}" },
    { "transport=carrier-pigeon", "GET", 400, "{\"code\":0,\"message\":\"Transport unknown\"}" },
    { "transport=polling&sid=nope", "GET", 400, "{\"code\":1,\"message\":\"Session ID unknown\"}" },
    { "transport=polling", "POST", 400, "{\"code\":2,\"message\":\"Bad handshake method\"}" },
    { "transport=websocket", "POST", 400, "{\"code\":2,\"message\":\"Bad handshake method\"}" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *url = server_url (server, "http", cases[i].query);
      guint status = 0;
      g_autofree char *body = http (session, cases[i].method, url, cases[i].method[0] == 'P' ? "x" : NULL, &status);

      g_assert_cmpuint (status, ==, cases[i].status);
      g_assert_cmpstr (body, ==, cases[i].body);
    }

  /* EIO=3 over websocket is refused before the upgrade. */
  {
    g_autoptr(Client) c = client_try_connect (server, "transport=websocket&EIO=3");

    g_assert_null (c->ws);
    g_assert_nonnull (c->error);
  }
  g_assert_cmpuint (peercam_signaling_server_get_n_connections (server), ==, 0);

  server_free (server);
}

/* One websocket from @from (a 127.x.y.z address) that sends @connect and
 * expects @reply; refusals close the transport. */
static void
token_attempt (PeercamSignalingServer *server,
               const char             *from,
               const char             *connect,
               const char             *reply)
{
  g_autoptr(Client) c = client_try_connect_from (server, "transport=websocket", from);
  g_autofree char *open = client_next (c, TIMEOUT_MS);
  g_autofree char *got = NULL;

  g_assert_true (g_str_has_prefix (open, "0{"));
  client_send (c, connect);
  got = client_next (c, TIMEOUT_MS);
  if (reply == NULL)
    {
      g_assert_true (g_str_has_prefix (got, "40{\"sid\":\""));
      spin (20);
      g_assert_false (c->closed);
      return;
    }
  g_assert_cmpstr (got, ==, reply);
  g_assert_true (wait_for (is_closed, c, TIMEOUT_MS));
  g_assert_cmpuint (c->close_code, ==, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
}

static void
test_token (void)
{
  PeercamSignalingServer *server = server_new ("token", "s3cret", NULL);
  g_autoptr(Client) c = client_try_connect (server, "transport=websocket");
  g_autofree char *open = client_next (c, TIMEOUT_MS);
  g_autofree char *ok = NULL;

  g_assert_true (g_str_has_prefix (open, "0{"));
  client_send (c, "40/admin,{\"token\":\"s3cret\"}");
  client_expect (c, "44/admin,{\"message\":\"Invalid namespace\"}");
  /* Not connected yet: events are ignored. */
  client_send (c, "42[\"create or join\",\"r\"]");
  client_expect_nothing (c, 100);
  client_send (c, "40{\"token\":\"s3cret\"}");
  ok = client_next (c, TIMEOUT_MS);
  g_assert_true (g_str_has_prefix (ok, "40{\"sid\":\""));
  g_assert_false (c->closed);

  /* Every refusal closes its transport: a guess costs a connection. */
  token_attempt (server, "127.0.0.1", "40", "44{\"message\":\"Missing token\"}");
  token_attempt (server, "127.0.0.1", "40{\"token\":42}", "44{\"message\":\"Missing token\"}");
  token_attempt (server, "127.0.0.1", "40{\"token\":\"s3cre\"}", "44{\"message\":\"Invalid token\"}");
  token_attempt (server, "127.0.0.1", "40{\"token\":\"s3cretX\"}", "44{\"message\":\"Invalid token\"}");
  token_attempt (server, "127.0.0.1", "40{\"token\":\"\"}", "44{\"message\":\"Invalid token\"}");
  token_attempt (server, "127.0.0.1", "40{\"token\":\"S3CRET\"}", "44{\"message\":\"Invalid token\"}");
  token_attempt (server, "127.0.0.1", "40{\"token\":\"s3cret \"}", "44{\"message\":\"Invalid token\"}");

  /* Five wrong tokens from one address in a minute: even the right one is
   * refused from there; other addresses are not affected. */
  token_attempt (server, "127.0.0.1", "40{\"token\":\"s3cret\"}",
                 "44{\"message\":\"Too many failed attempts; try again later\"}");
  token_attempt (server, "127.0.0.2", "40{\"token\":\"s3cret\"}", NULL);
  g_assert_false (c->closed);

  /* Polling: the refusal comes with the next GET, then Engine.IO's close. */
  {
    g_autoptr(GInetAddress) address = g_inet_address_new_from_string ("127.0.0.3");
    g_autoptr(GSocketAddress) local = g_inet_socket_address_new (address, 0);
    g_autoptr(SoupSession) session = soup_session_new_with_options ("local-address", local, NULL);
    g_autofree char *handshake_url = server_url (server, "http", "transport=polling");
    g_autofree char *url = NULL, *text = NULL;
    g_autoptr(JsonObject) o = NULL;
    guint status;

    text = http (session, "GET", handshake_url, NULL, &status);
    o = parse_object (text + 1);
    url = g_strdup_printf ("%s&sid=%s", handshake_url, json_object_get_string_member (o, "sid"));
    g_clear_pointer (&text, g_free);
    text = http (session, "POST", url, "40{\"token\":\"nope\"}", &status);
    g_assert_cmpstr (text, ==, "ok");
    g_clear_pointer (&text, g_free);
    text = http (session, "GET", url, NULL, &status);
    g_assert_cmpuint (status, ==, 200);
    g_assert_cmpstr (text, ==, "44{\"message\":\"Invalid token\"}\x1e" "1");
    g_clear_pointer (&text, g_free);
    text = http (session, "GET", url, NULL, &status);
    g_assert_cmpuint (status, ==, 400);
  }
  spin (50);
  g_assert_cmpuint (peercam_signaling_server_get_n_connections (server), ==, 1);  /* c */

  server_free (server);
}

static void
test_rooms (void)
{
  PeercamSignalingServer *server = server_new (NULL, NULL);
  g_autoptr(Client) a = client_connect (server);
  g_autoptr(Client) b = client_connect (server);
  g_autoptr(Client) c = client_connect (server);
  g_autofree char *create = NULL, *join = NULL;
  guint joins = 0;

  g_signal_connect (server, "client-joined", G_CALLBACK (count_cb), &joins);

  client_join (a, "r");
  create = g_strdup_printf ("42[\"create\",\"r\",\"%s\"]", a->socket_id);
  client_expect (a, create);

  client_join (b, "r");
  join = g_strdup_printf ("42[\"join\",\"r\",\"%s\"]", b->socket_id);
  client_expect (b, join);
  client_expect (a, "42[\"call\"]");

  client_join (c, "r");
  client_expect (c, "42[\"full\",\"r\"]");
  client_send (c, "4217[\"create or join\",\"r\"]");
  client_expect (c, "42[\"full\",\"r\"]");
  client_expect (c, "4317[\"full\"]");
  g_assert_cmpuint (joins, ==, 2);

  /* Joining twice changes nothing. */
  client_join (a, "r");
  client_expect (a, "42[\"error\",\"Already in this room\"]");

  /* Bad room names. */
  client_send (c, "42[\"create or join\"]");
  client_expect (c, "42[\"error\",\"'create or join' needs a room name (1-256 bytes)\"]");
  client_send (c, "42[\"create or join\",7]");
  client_expect (c, "42[\"error\",\"'create or join' needs a room name (1-256 bytes)\"]");
  client_send (c, "423[\"create or join\",\"\"]");
  client_expect (c, "42[\"error\",\"'create or join' needs a room name (1-256 bytes)\"]");
  client_expect (c, "433[{\"error\":\"'create or join' needs a room name (1-256 bytes)\"}]");

  /* c, refused, is in no room. */
  client_send (c, "42[\"ice\",{\"candidate\":\"x\"}]");
  client_expect (c, "42[\"error\",\"Not in a room\"]");
  client_expect_nothing (a, 50);
  client_expect_nothing (b, 0);

  server_free (server);
}

static void
test_relay (void)
{
  PeercamSignalingServer *server = server_new (NULL, NULL);
  g_autoptr(Client) a = client_connect (server);
  g_autoptr(Client) b = client_connect (server);
  g_autoptr(Client) c = client_connect (server);
  g_autoptr(Client) d = client_connect (server);
  const char *offer = "42[\"signal\",{\"sdp\":\"v=0\\r\\n\",\"type\":\"offer\"}]";
  const char *answer = "42[\"signal\",{\"type\":\"answer\",\"sdp\":\"v=0\\r\\n\"}]";
  const char *ice = "42[\"ice\",{\"candidate\":\"candidate:1 1 UDP 1 127.0.0.1 1 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0,\"usernameFragment\":\"u\"}]";
  const char *other = "42[\"signal\",{\"type\":\"offer\",\"sdp\":\"other room\"}]";

  client_join (a, "one");
  g_free (client_next (a, TIMEOUT_MS));
  client_join (b, "one");
  g_free (client_next (b, TIMEOUT_MS));
  client_expect (a, "42[\"call\"]");
  client_join (c, "two");
  g_free (client_next (c, TIMEOUT_MS));
  client_join (d, "two");
  g_free (client_next (d, TIMEOUT_MS));
  client_expect (c, "42[\"call\"]");

  /* Verbatim both ways, and never into the other room. */
  client_send (a, offer);
  client_send (c, other);
  client_expect (b, offer);
  client_expect (d, other);
  client_send (b, answer);
  client_expect (a, answer);
  client_send (a, ice);
  client_expect (b, ice);
  client_send (b, ice);
  client_expect (a, ice);
  client_send (a, "42[\"bye\",\"x\"]");
  client_expect (b, "42[\"bye\",\"x\"]");
  client_send (a, "42[\"bye\"]");
  client_expect (b, "42[\"bye\"]");
  client_expect_nothing (c, 100);
  client_expect_nothing (d, 0);

  /* An ack request is relayed without its id; the sender learns the count. */
  client_send (a, "4299[\"ice\",{\"candidate\":\"y\"}]");
  client_expect (b, "42[\"ice\",{\"candidate\":\"y\"}]");
  client_expect (a, "4399[1]");

  /* Wrong argument types and unknown events: error, nothing relayed. */
  client_send (a, "42[\"signal\",\"offer\"]");
  client_expect (a, "42[\"error\",\"Wrong arguments for 'signal'\"]");
  client_send (a, "42[\"signal\",{\"sdp\":\"no type\"}]");
  client_expect (a, "42[\"error\",\"Wrong arguments for 'signal'\"]");
  client_send (a, "42[\"ice\",[1]]");
  client_expect (a, "42[\"error\",\"Wrong arguments for 'ice'\"]");
  client_send (a, "42[\"bye\",{}]");
  client_expect (a, "42[\"error\",\"Wrong arguments for 'bye'\"]");
  client_send (a, "42[\"nope\",1]");
  client_expect (a, "42[\"error\",\"Unknown event 'nope'\"]");
  client_send (a, "42[1,2]");
  client_expect (a, "42[\"error\",\"Event name must be a string\"]");
  client_send (a, "425[\"call\"]");
  client_expect (a, "42[\"error\",\"Unknown event 'call'\"]");
  client_expect (a, "435[{\"error\":\"Unknown event 'call'\"}]");
  client_expect_nothing (b, 100);
  g_assert_false (a->closed);

  server_free (server);
}


static void
client_join_addressed (Client *c, const char *room)
{
  g_autofree char *frame = g_strdup_printf ("42[\"create or join\",\"%s\",{\"addressed\":true}]", room);

  client_send (c, frame);
}

/* Issue 15: one caller, several viewers. Addressed members learn ids
 * (join lists who is there, call says who arrived, relays say from whom)
 * and may send to one member ({"to": id}); plain members keep the demo's
 * events exactly, in the same room. */
static void
test_addressed (void)
{
  PeercamSignalingServer *server = server_new ("room-capacity", 5, NULL);
  g_autoptr(Client) a = client_connect (server);   /* caller, addressed */
  g_autoptr(Client) b = client_connect (server);   /* viewer, addressed */
  g_autoptr(Client) c = client_connect (server);   /* viewer, addressed */
  g_autoptr(Client) d = client_connect (server);   /* a stock client */
  g_autoptr(Client) e = client_connect (server);   /* in another room */
  g_autofree char *expect = NULL;
  g_autofree char *frame = NULL;

  client_join_addressed (a, "r");
  g_free (client_next (a, TIMEOUT_MS));
  client_join_addressed (b, "r");
  expect = g_strdup_printf ("42[\"join\",\"r\",\"%s\",[\"%s\"]]", b->socket_id, a->socket_id);
  client_expect (b, expect);
  g_clear_pointer (&expect, g_free);
  expect = g_strdup_printf ("42[\"call\",\"%s\"]", b->socket_id);
  client_expect (a, expect);
  g_clear_pointer (&expect, g_free);

  client_join_addressed (c, "r");
  expect = g_strdup_printf ("42[\"join\",\"r\",\"%s\",[\"%s\",\"%s\"]]", c->socket_id, a->socket_id, b->socket_id);
  client_expect (c, expect);
  g_clear_pointer (&expect, g_free);
  expect = g_strdup_printf ("42[\"call\",\"%s\"]", c->socket_id);
  client_expect (a, expect);
  client_expect (b, expect);
  g_clear_pointer (&expect, g_free);

  client_join (d, "r");
  expect = g_strdup_printf ("42[\"join\",\"r\",\"%s\"]", d->socket_id);
  client_expect (d, expect);
  g_clear_pointer (&expect, g_free);
  expect = g_strdup_printf ("42[\"call\",\"%s\"]", d->socket_id);
  client_expect (a, expect);
  client_expect (b, expect);
  client_expect (c, expect);
  g_clear_pointer (&expect, g_free);
  client_join (e, "other");
  g_free (client_next (e, TIMEOUT_MS));

  /* To one viewer: only it hears, with the sender's id; the ack counts 1. */
  frame = g_strdup_printf ("427[\"signal\",{\"type\":\"offer\",\"sdp\":\"v=0\"},{\"to\":\"%s\"}]", b->socket_id);
  client_send (a, frame);
  g_clear_pointer (&frame, g_free);
  expect = g_strdup_printf ("42[\"signal\",{\"type\":\"offer\",\"sdp\":\"v=0\"},{\"from\":\"%s\"}]", a->socket_id);
  client_expect (b, expect);
  g_clear_pointer (&expect, g_free);
  client_expect (a, "437[1]");
  client_expect_nothing (c, 100);
  client_expect_nothing (d, 0);

  /* To the stock client: the demo's shape, no routing object. */
  frame = g_strdup_printf ("42[\"ice\",{\"candidate\":\"x\"},{\"to\":\"%s\"}]", d->socket_id);
  client_send (a, frame);
  g_clear_pointer (&frame, g_free);
  client_expect (d, "42[\"ice\",{\"candidate\":\"x\"}]");
  client_expect_nothing (b, 100);

  /* The viewer answers its caller alone. */
  frame = g_strdup_printf ("42[\"signal\",{\"type\":\"answer\",\"sdp\":\"v=0\"},{\"to\":\"%s\"}]", a->socket_id);
  client_send (b, frame);
  g_clear_pointer (&frame, g_free);
  expect = g_strdup_printf ("42[\"signal\",{\"type\":\"answer\",\"sdp\":\"v=0\"},{\"from\":\"%s\"}]", b->socket_id);
  client_expect (a, expect);
  g_clear_pointer (&expect, g_free);
  client_expect_nothing (c, 100);

  /* Unaddressed: the whole room; stock d verbatim, addressed ones with from. */
  client_send (d, "42[\"ice\",{\"candidate\":\"y\"}]");
  expect = g_strdup_printf ("42[\"ice\",{\"candidate\":\"y\"},{\"from\":\"%s\"}]", d->socket_id);
  client_expect (a, expect);
  client_expect (b, expect);
  client_expect (c, expect);
  g_clear_pointer (&expect, g_free);
  client_send (a, "42[\"ice\",{\"candidate\":\"z\"}]");
  client_expect (d, "42[\"ice\",{\"candidate\":\"z\"}]");
  g_free (client_next (b, TIMEOUT_MS));
  g_free (client_next (c, TIMEOUT_MS));

  /* A bye to one viewer says who hung up, whatever id it names. */
  frame = g_strdup_printf ("42[\"bye\",\"%s\",{\"to\":\"%s\"}]", a->socket_id, c->socket_id);
  client_send (a, frame);
  g_clear_pointer (&frame, g_free);
  expect = g_strdup_printf ("42[\"bye\",\"%s\"]", a->socket_id);
  client_expect (c, expect);
  g_clear_pointer (&expect, g_free);
  frame = g_strdup_printf ("42[\"bye\",{\"to\":\"%s\"}]", b->socket_id);
  client_send (a, frame);
  g_clear_pointer (&frame, g_free);
  expect = g_strdup_printf ("42[\"bye\",\"%s\"]", a->socket_id);
  client_expect (b, expect);
  g_clear_pointer (&expect, g_free);
  client_expect_nothing (d, 100);

  /* Bad routing: an error to the sender, nothing relayed, nobody closed. */
  client_send (a, "42[\"signal\",{\"type\":\"offer\"},{\"to\":\"nobody\"}]");
  client_expect (a, "42[\"error\",\"Unknown target 'nobody' for 'signal'\"]");
  frame = g_strdup_printf ("425[\"signal\",{\"type\":\"offer\"},{\"to\":\"%s\"}]", e->socket_id);
  client_send (a, frame);
  g_clear_pointer (&frame, g_free);
  expect = g_strdup_printf ("42[\"error\",\"Target is not in your room '%s' for 'signal'\"]", e->socket_id);
  client_expect (a, expect);
  g_clear_pointer (&expect, g_free);
  expect = g_strdup_printf ("435[{\"error\":\"Target is not in your room '%s' for 'signal'\"}]", e->socket_id);
  client_expect (a, expect);
  g_clear_pointer (&expect, g_free);
  frame = g_strdup_printf ("42[\"ice\",{},{\"to\":\"%s\"}]", a->socket_id);
  client_send (a, frame);
  g_clear_pointer (&frame, g_free);
  expect = g_strdup_printf ("42[\"error\",\"Target is the sender '%s' for 'ice'\"]", a->socket_id);
  client_expect (a, expect);
  g_clear_pointer (&expect, g_free);
  frame = g_strdup_printf ("42[\"ice\",{},{\"to\":\"%s\",\"from\":\"%s\"}]", b->socket_id, c->socket_id);
  client_send (a, frame);
  g_clear_pointer (&frame, g_free);
  client_expect (a, "42[\"error\",\"'from' is set by the server in 'ice'\"]");
  client_send (a, "42[\"ice\",{},{\"to\":7}]");
  client_expect (a, "42[\"error\",\"Wrong routing object (want {\\\"to\\\": id}) in 'ice'\"]");
  client_send (a, "42[\"ice\",{},\"b\"]");
  client_expect (a, "42[\"error\",\"Wrong routing object (want {\\\"to\\\": id}) in 'ice'\"]");
  client_send (a, "42[\"ice\",{},{\"to\":\"b\"},3]");
  client_expect (a, "42[\"error\",\"Wrong arguments for 'ice'\"]");
  client_send (d, "42[\"bye\",{\"to\":\"b\"}]");   /* d is not addressed */
  client_expect (d, "42[\"error\",\"Wrong arguments for 'bye'\"]");
  client_send (e, "42[\"create or join\",\"r2\",{\"addressed\":1}]");
  client_expect (e, "42[\"error\",\"Wrong arguments for 'create or join'\"]");
  client_expect_nothing (b, 100);
  client_expect_nothing (c, 0);
  client_expect_nothing (d, 0);
  g_assert_false (a->closed);

  server_free (server);
}

static void
test_several_rooms (void)
{
  PeercamSignalingServer *server = server_new (NULL, NULL);
  g_autoptr(Client) a = client_connect (server);
  g_autoptr(Client) b = client_connect (server);
  g_autoptr(Client) c = client_connect (server);
  g_autofree char *bye = NULL;

  /* a is in two rooms; a relay reaches both peers once each. */
  client_join (a, "one");
  g_free (client_next (a, TIMEOUT_MS));
  client_join (a, "two");
  g_free (client_next (a, TIMEOUT_MS));
  client_join (b, "one");
  g_free (client_next (b, TIMEOUT_MS));
  client_expect (a, "42[\"call\"]");
  client_join (c, "two");
  g_free (client_next (c, TIMEOUT_MS));
  client_expect (a, "42[\"call\"]");

  client_send (a, "421[\"ice\",{}]");
  client_expect (b, "42[\"ice\",{}]");
  client_expect (c, "42[\"ice\",{}]");
  client_expect (a, "431[2]");

  /* b and c share no room. */
  client_send (b, "42[\"ice\",{\"from\":\"b\"}]");
  client_expect (a, "42[\"ice\",{\"from\":\"b\"}]");
  client_expect_nothing (c, 100);

  client_send (a, "41");
  bye = g_strdup_printf ("42[\"bye\",\"%s\"]", a->socket_id);
  client_expect (b, bye);
  client_expect (c, bye);

  server_free (server);
}

/* A connection is in at most 8 rooms; past that it gets an error and keeps
 * the rooms it has. */
/* An escaped U+0000 is relayed verbatim (as the stock server does), and a
 * room name keeps it: "r\u0000" is not "r". */
static void
test_nul_escape (void)
{
  PeercamSignalingServer *server = server_new (NULL, NULL);
  g_autoptr(Client) a = client_connect (server);
  g_autoptr(Client) b = client_connect (server);
  g_autoptr(Client) c = client_connect (server);
  static const char signal[] = "42[\"signal\",{\"type\":\"offer\",\"sdp\":\"v=0\\u0000x\"}]";
  g_autofree char *created = NULL;

  client_join (a, "r\\u0000");
  created = g_strdup_printf ("42[\"create\",\"r\\u0000\",\"%s\"]", a->socket_id);
  client_expect (a, created);
  client_join (c, "r");
  g_free (client_next (c, TIMEOUT_MS));
  client_join (b, "r\\u0000");
  g_free (client_next (b, TIMEOUT_MS));
  client_expect (a, "42[\"call\"]");

  client_send (a, signal);
  client_expect (b, signal);
  client_send (b, "42[\"bye\",\"\\u0000\"]");
  client_expect (a, "42[\"bye\",\"\\u0000\"]");
  client_expect_nothing (c, 50);
  g_assert_false (a->closed);
  g_assert_false (b->closed);
  server_free (server);
}

static void
test_too_many_rooms (void)
{
  PeercamSignalingServer *server = server_new (NULL, NULL);
  g_autoptr(Client) a = client_connect (server);
  g_autoptr(Client) b = client_connect (server);
  guint left = 0;

  g_signal_connect (server, "client-left", G_CALLBACK (count_cb), &left);
  for (guint i = 0; i < 8; i++)
    {
      g_autofree char *room = g_strdup_printf ("r%u", i);
      g_autofree char *expected = g_strdup_printf ("42[\"create\",\"%s\",\"%s\"]", room, a->socket_id);

      client_join (a, room);
      client_expect (a, expected);
    }
  client_send (a, "421[\"create or join\",\"r8\"]");
  client_expect (a, "42[\"error\",\"Too many rooms (at most 8 per connection)\"]");
  client_expect (a, "431[{\"error\":\"Too many rooms (at most 8 per connection)\"}]");
  g_assert_false (a->closed);

  /* b can still join r8, and a's rooms still relay. */
  client_join (b, "r8");
  g_free (client_next (b, TIMEOUT_MS));
  client_join (b, "r3");
  g_free (client_next (b, TIMEOUT_MS));
  client_expect (a, "42[\"call\"]");
  client_send (a, "42[\"ice\",{}]");
  client_expect (b, "42[\"ice\",{}]");

  client_send (a, "41");
  g_free (client_next (b, TIMEOUT_MS));  /* bye */
  g_assert_cmpuint (left, ==, 8);
  server_free (server);
}

static void
test_bye_on_disconnect (void)
{
  PeercamSignalingServer *server = server_new (NULL, NULL);
  g_autoptr(Client) a = client_connect (server);
  g_autoptr(Client) b = client_connect (server);
  g_autoptr(Client) c = NULL;
  g_autofree char *bye_a = NULL;
  g_autofree char *bye_c = NULL;
  guint left = 0, disconnected = 0;

  g_signal_connect (server, "client-left", G_CALLBACK (count_cb), &left);
  g_signal_connect (server, "client-disconnected", G_CALLBACK (count_id_cb), &disconnected);

  client_join (a, "r");
  g_free (client_next (a, TIMEOUT_MS));
  client_join (b, "r");
  g_free (client_next (b, TIMEOUT_MS));
  client_expect (a, "42[\"call\"]");

  /* A clean close. */
  bye_a = g_strdup_printf ("42[\"bye\",\"%s\"]", a->socket_id);
  soup_websocket_connection_close (a->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  client_expect (b, bye_a);
  g_assert_cmpuint (left, ==, 1);
  g_assert_cmpuint (disconnected, ==, 1);

  /* The room has a free seat again. */
  c = client_connect (server);
  client_join (c, "r");
  g_free (client_next (c, TIMEOUT_MS));
  client_expect (b, "42[\"call\"]");

  /* A peer that vanishes without a close frame (TCP reset / crash). */
  bye_c = g_strdup_printf ("42[\"bye\",\"%s\"]", c->socket_id);
  g_io_stream_close (soup_websocket_connection_get_io_stream (c->ws), NULL, NULL);
  client_expect (b, bye_c);
  g_assert_cmpuint (left, ==, 2);

  server_free (server);
}

static void
test_ping_timeout (void)
{
  PeercamSignalingServer *server = server_new ("ping-interval", 200, "ping-timeout", 200, NULL);
  g_autoptr(Client) good = client_connect (server);
  g_autoptr(Client) silent = client_connect (server);
  g_autofree char *bye = NULL;
  gint64 start;

  silent->silent = TRUE;
  client_join (good, "r");
  g_free (client_next (good, TIMEOUT_MS));
  client_join (silent, "r");
  g_free (client_next (silent, TIMEOUT_MS));
  client_expect (good, "42[\"call\"]");

  /* The silent peer is dropped after one interval plus one timeout. */
  start = g_get_monotonic_time ();
  bye = g_strdup_printf ("42[\"bye\",\"%s\"]", silent->socket_id);
  client_expect (good, bye);
  g_assert_cmpint ((g_get_monotonic_time () - start) / 1000, <, 1500);
  g_assert_true (wait_for (is_closed, silent, TIMEOUT_MS));
  g_assert_cmpuint (silent->pings, >=, 1);

  /* The answering peer stays through many intervals. */
  spin (1200);
  g_assert_false (good->closed);
  g_assert_cmpuint (good->pings, >=, 4);
  g_assert_cmpuint (peercam_signaling_server_get_n_connections (server), ==, 1);

  server_free (server);
}

/* A transport that never CONNECTs to "/" is closed after connect-timeout
 * (checked at its pings); one that did stays. */
static void
test_connect_timeout (void)
{
  PeercamSignalingServer *server = server_new ("ping-interval", 100, "ping-timeout", 500,
                                               "connect-timeout", 300, NULL);
  g_autoptr(Client) idle = client_try_connect (server, "transport=websocket");
  g_autoptr(Client) good = client_connect (server);
  g_autofree char *open = NULL;
  gint64 start = g_get_monotonic_time ();

  g_assert_nonnull (idle->ws);
  open = client_next (idle, TIMEOUT_MS);
  g_assert_true (g_str_has_prefix (open, "0{"));
  g_assert_true (wait_for (is_closed, idle, TIMEOUT_MS));
  g_assert_cmpuint (idle->close_code, ==, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  g_assert_cmpint ((g_get_monotonic_time () - start) / 1000, >=, 250);
  g_assert_cmpint ((g_get_monotonic_time () - start) / 1000, <, 2000);
  g_assert_cmpuint (idle->pings, >=, 1);

  spin (600);
  g_assert_false (good->closed);
  g_assert_cmpuint (peercam_signaling_server_get_n_connections (server), ==, 1);

  server_free (server);
}

static void
test_polling (void)
{
  PeercamSignalingServer *server = server_new (NULL, NULL);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(Client) b = client_connect (server);
  g_autofree char *handshake_url = server_url (server, "http", "transport=polling");
  g_autofree char *open = NULL, *url = NULL, *text = NULL, *ws_query = NULL;
  g_autoptr(JsonObject) o = NULL;
  g_autoptr(Client) upgraded = NULL;
  Request *pending;
  guint status;
  const char *sid;

  open = http (session, "GET", handshake_url, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_true (g_str_has_prefix (open, "0{"));
  o = parse_object (open + 1);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (o, "upgrades"), 0), ==, "websocket");
  sid = json_object_get_string_member (o, "sid");
  url = g_strdup_printf ("%s&sid=%s", handshake_url, sid);

  text = http (session, "POST", url, "40", &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (text, ==, "ok");
  g_clear_pointer (&text, g_free);
  text = http (session, "GET", url, NULL, &status);
  g_assert_true (g_str_has_prefix (text, "40{\"sid\":\""));
  g_clear_pointer (&text, g_free);

  /* Two packets in one POST, answers queued for the next GET. */
  text = http (session, "POST", url, "42[\"create or join\",\"p\"]\x1e" "42[\"nope\"]", &status);
  g_assert_cmpstr (text, ==, "ok");
  g_clear_pointer (&text, g_free);
  text = http (session, "GET", url, NULL, &status);
  g_assert_true (g_str_has_prefix (text, "42[\"create\",\"p\",\""));
  g_assert_nonnull (strstr (text, "\x1e" "42[\"error\",\"Unknown event 'nope'\"]"));
  g_clear_pointer (&text, g_free);

  /* A long-poll waits until there is something to say. */
  pending = http_start (session, "GET", url, NULL);
  spin (100);
  g_assert_false (pending->result.done);
  client_join (b, "p");
  g_free (client_next (b, TIMEOUT_MS));
  text = http_finish (pending, &status);
  g_assert_cmpstr (text, ==, "42[\"call\"]");
  g_clear_pointer (&text, g_free);

  /* Both directions with the websocket peer. */
  pending = http_start (session, "GET", url, NULL);
  client_send (b, "42[\"signal\",{\"type\":\"offer\",\"sdp\":\"x\"}]");
  text = http_finish (pending, &status);
  g_assert_cmpstr (text, ==, "42[\"signal\",{\"type\":\"offer\",\"sdp\":\"x\"}]");
  g_clear_pointer (&text, g_free);
  g_free (http (session, "POST", url, "42[\"signal\",{\"type\":\"answer\",\"sdp\":\"y\"}]", &status));
  client_expect (b, "42[\"signal\",{\"type\":\"answer\",\"sdp\":\"y\"}]");

  /* Upgrade: probe while a GET is pending; the GET gets a noop. */
  pending = http_start (session, "GET", url, NULL);
  spin (20);
  ws_query = g_strdup_printf ("transport=websocket&sid=%s", sid);
  upgraded = client_try_connect (server, ws_query);
  g_assert_no_error (upgraded->error);
  client_send (upgraded, "2probe");
  client_expect (upgraded, "3probe");
  text = http_finish (pending, &status);
  g_assert_cmpstr (text, ==, "6");
  g_clear_pointer (&text, g_free);
  /* A GET that arrives after the probe is not parked either. */
  text = http (session, "GET", url, NULL, &status);
  g_assert_cmpstr (text, ==, "6");
  g_clear_pointer (&text, g_free);

  /* Something sent mid-upgrade still arrives, on the websocket. */
  client_send (b, "42[\"ice\",{\"n\":1}]");
  spin (50);
  client_send (upgraded, "5");
  client_expect (upgraded, "42[\"ice\",{\"n\":1}]");
  client_send (b, "42[\"ice\",{\"n\":2}]");
  client_expect (upgraded, "42[\"ice\",{\"n\":2}]");
  client_send (upgraded, "42[\"ice\",{\"n\":3}]");
  client_expect (b, "42[\"ice\",{\"n\":3}]");

  /* The polling transport is gone. */
  text = http (session, "GET", url, NULL, &status);
  g_assert_cmpuint (status, ==, 400);
  g_clear_pointer (&text, g_free);
  g_assert_cmpuint (peercam_signaling_server_get_n_connections (server), ==, 2);

  server_free (server);
}

static void
test_polling_limits (void)
{
  PeercamSignalingServer *server = server_new ("max-message-size", 1000, NULL);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *handshake_url = server_url (server, "http", "transport=polling");
  g_autofree char *open = NULL, *url = NULL, *big = NULL, *text = NULL;
  g_autoptr(JsonObject) o = NULL;
  guint status;

  open = http (session, "GET", handshake_url, NULL, &status);
  o = parse_object (open + 1);
  g_assert_cmpint (json_object_get_int_member (o, "maxPayload"), ==, 1000);
  url = g_strdup_printf ("%s&sid=%s", handshake_url, json_object_get_string_member (o, "sid"));

  big = g_strnfill (2000, 'x');
  big[0] = '4';
  text = http (session, "POST", url, big, &status);
  g_assert_cmpuint (status, ==, 413);
  g_clear_pointer (&text, g_free);
  g_assert_cmpuint (peercam_signaling_server_get_n_connections (server), ==, 0);

  /* Garbage in a POST ends the session. */
  g_clear_pointer (&open, g_free);
  g_clear_pointer (&o, json_object_unref);
  g_clear_pointer (&url, g_free);
  open = http (session, "GET", handshake_url, NULL, &status);
  o = parse_object (open + 1);
  url = g_strdup_printf ("%s&sid=%s", handshake_url, json_object_get_string_member (o, "sid"));
  text = http (session, "POST", url, "40\x1e\x1e", &status);
  g_assert_cmpuint (status, ==, 400);
  g_clear_pointer (&text, g_free);
  g_assert_cmpuint (peercam_signaling_server_get_n_connections (server), ==, 0);

  server_free (server);
}

typedef struct {
  Client *client;
  guint   expected;
} Count;

static gboolean
has_n_frames (gpointer data)
{
  Count *count = data;

  return count->client->frames.length >= count->expected || count->client->closed;
}

/* A masked client text frame (payload < 126 bytes). */
static void
raw_write_frame (Raw *r, const char *text)
{
  static const guint8 key[4] = { 0x37, 0xfa, 0x21, 0x3d };
  gsize len = strlen (text);
  g_autofree guint8 *frame = g_malloc (6 + len);

  g_assert_cmpuint (len, <, 126);
  frame[0] = 0x81;
  frame[1] = 0x80 | (guint8) len;
  memcpy (frame + 2, key, 4);
  for (gsize i = 0; i < len; i++)
    frame[6 + i] = (guint8) text[i] ^ key[i & 3];
  g_assert_true (raw_write (r, (const char *) frame, 6 + len));
}

/* The next server text frame (payload < 126 bytes; pings answered). */
static char *
raw_read_frame (Raw *r)
{
  for (;;)
    {
      while (r->in->len < 2 || r->in->len < 2 + (gsize) (r->in->str[1] & 0x7f))
        g_assert_true (raw_fill (r));
      {
        gsize len = r->in->str[1] & 0x7f;
        char *text = g_strndup (r->in->str + 2, len);

        g_assert_cmphex ((guint8) r->in->str[0], ==, 0x81);
        g_string_erase (r->in, 0, 2 + len);
        if (strcmp (text, "2") != 0)
          return text;
        g_free (text);
        raw_write_frame (r, "3");
      }
    }
}

/* HTTP keep-alive as clients use it (python-engineio's aiohttp, browsers):
 * several requests on one connection, pipelined ones too, then the
 * websocket upgrade on the handshake's own connection. Responses that end
 * a connection say so. */
static void
test_keep_alive (void)
{
  g_autoptr(ServerThread) t = server_thread_new (NULL);
  g_autoptr(Raw) r = raw_open (t->port, NULL);
  static const char handshake[] = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n";
  g_autofree char *response = NULL, *sid = NULL, *requests = NULL, *upgrade = NULL, *frame = NULL;
  g_autoptr(JsonObject) o = NULL;

  g_assert_true (raw_write (r, handshake, strlen (handshake)));
  response = raw_read_response (r);
  g_assert_nonnull (response);
  g_assert_null (strstr (response, "Connection: close"));
  o = parse_object (strstr (response, "\r\n\r\n0{") + 5);
  sid = g_strdup (json_object_get_string_member (o, "sid"));
  g_clear_pointer (&response, g_free);

  /* A POST and a GET in one write. */
  requests = g_strdup_printf ("POST /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: 2\r\n\r\n40"
                              "GET /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\n\r\n",
                              sid, sid);
  g_assert_true (raw_write (r, requests, strlen (requests)));
  response = raw_read_response (r);
  g_assert_nonnull (response);
  g_assert_true (g_str_has_prefix (response, "HTTP/1.1 200 "));
  g_assert_true (g_str_has_suffix (response, "\r\n\r\nok"));
  g_clear_pointer (&response, g_free);
  response = raw_read_response (r);
  g_assert_nonnull (response);
  g_assert_nonnull (strstr (response, "\r\n\r\n40{\"sid\":\""));
  g_clear_pointer (&response, g_free);

  /* The upgrade, on the same connection. */
  upgrade = g_strdup_printf ("GET /socket.io/?EIO=4&transport=websocket&sid=%s HTTP/1.1\r\nHost: x\r\n"
                             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", sid);
  g_assert_true (raw_write (r, upgrade, strlen (upgrade)));
  response = raw_read_response (r);
  g_assert_nonnull (response);
  g_assert_true (g_str_has_prefix (response, "HTTP/1.1 101 "));
  raw_write_frame (r, "2probe");
  frame = raw_read_frame (r);
  g_assert_cmpstr (frame, ==, "3probe");
  g_clear_pointer (&frame, g_free);
  raw_write_frame (r, "5");
  raw_write_frame (r, "42[\"create or join\",\"k\"]");
  frame = raw_read_frame (r);
  g_assert_true (g_str_has_prefix (frame, "42[\"create\",\"k\","));

  /* Connections that end after the response say so. */
  {
    static const char *const closing[] = {
      "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET /socket.io/?EIO=4&transport=polling HTTP/1.0\r\nHost: x\r\n\r\n",
      "GET /nowhere HTTP/1.0\r\n\r\n",
    };

    for (guint i = 0; i < G_N_ELEMENTS (closing); i++)
      {
        g_autoptr(Raw) c = raw_open (t->port, NULL);
        g_autofree char *answer = NULL;

        g_assert_true (raw_write (c, closing[i], strlen (closing[i])));
        answer = raw_read_response (c);
        g_assert_nonnull (answer);
        g_assert_nonnull (strstr (answer, "\r\nConnection: close\r\n"));
        g_assert_true (raw_closed_by_server (c));
      }
  }
}

static const char ws_upgrade[] =
  "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/* Cheap lockouts: connections that never complete a request, polling
 * handshakes never followed up and websockets that never CONNECT are
 * bounded per address and time out, while other addresses get in. */
static void
test_lockouts (void)
{
  g_autoptr(ServerThread) t = server_thread_new ("header-timeout", "500", "handshake-timeout", "500",
                                                 "max-pending-per-address", "8", NULL);
  g_autoptr(GPtrArray) slow = g_ptr_array_new_with_free_func ((GDestroyNotify) raw_free);
  g_autoptr(GPtrArray) sockets = g_ptr_array_new_with_free_func ((GDestroyNotify) raw_free);
  static const char partial[] = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n";
  gint64 start;

  /* Slowloris from 127.0.0.2: half a header, or nothing at all. */
  for (guint i = 0; i < 8; i++)
    {
      Raw *r = raw_open (t->port, "127.0.0.2");

      if (i % 2 == 0)
        g_assert_true (raw_write (r, partial, strlen (partial)));
      g_ptr_array_add (slow, r);
    }
  spin (100);
  {
    /* The ninth is let go at once. */
    g_autoptr(Raw) r = raw_open (t->port, "127.0.0.2");

    g_assert_true (raw_closed_by_server (r));
  }
  /* Others are served meanwhile. */
  g_free (raw_handshake (t->port, "127.0.0.1"));

  start = g_get_monotonic_time ();
  for (guint i = 0; i < slow->len; i++)
    g_assert_true (raw_closed_by_server (slow->pdata[i]));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_TIME_SPAN_SECOND);
  g_free (raw_handshake (t->port, "127.0.0.2"));  /* its slots are free again */

  /* Polling handshakes never polled, from 127.0.0.3. */
  for (guint i = 0; i < 8; i++)
    g_free (raw_handshake (t->port, "127.0.0.3"));
  {
    g_autoptr(Raw) r = raw_open (t->port, "127.0.0.3");
    static const char handshake[] = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n";
    g_autofree char *response = NULL;

    g_assert_true (raw_write (r, handshake, strlen (handshake)));
    response = raw_read_response (r);
    g_assert_nonnull (response);
    g_assert_true (g_str_has_prefix (response, "HTTP/1.1 503 "));
    g_assert_nonnull (strstr (response, "Too many connections from this address"));
  }
  g_free (raw_handshake (t->port, "127.0.0.1"));
  /* They expire after handshake-timeout; then 127.0.0.3 gets in again. */
  spin (1000);
  g_free (raw_handshake (t->port, "127.0.0.3"));

  /* Websockets that never CONNECT, from 127.0.0.4. */
  for (guint i = 0; i < 8; i++)
    {
      Raw *r = raw_open (t->port, "127.0.0.4");
      g_autofree char *response = NULL;

      g_assert_true (raw_write (r, ws_upgrade, strlen (ws_upgrade)));
      response = raw_read_response (r);
      g_assert_true (g_str_has_prefix (response, "HTTP/1.1 101 "));
      g_ptr_array_add (sockets, r);
    }
  {
    g_autoptr(Raw) r = raw_open (t->port, "127.0.0.4");
    g_autofree char *response = NULL;

    g_assert_true (raw_write (r, ws_upgrade, strlen (ws_upgrade)));
    response = raw_read_response (r);
    g_assert_true (g_str_has_prefix (response, "HTTP/1.1 503 "));
  }
  {
    /* One that CONNECTs frees its slot. */
    Raw *r = sockets->pdata[0];
    g_autofree char *open = raw_read_frame (r);
    g_autofree char *connected = NULL;

    g_assert_true (g_str_has_prefix (open, "0{"));
    raw_write_frame (r, "40");
    connected = raw_read_frame (r);
    g_assert_true (g_str_has_prefix (connected, "40{"));
  }
  {
    g_autoptr(Raw) r = raw_open (t->port, "127.0.0.4");
    g_autofree char *response = NULL;

    g_assert_true (raw_write (r, ws_upgrade, strlen (ws_upgrade)));
    response = raw_read_response (r);
    g_assert_true (g_str_has_prefix (response, "HTTP/1.1 101 "));
  }
}

/* The status of one request with @origin (NULL: none) and @host. */
static guint
origin_status (guint port, const char *path_query, const char *host, const char *origin, gboolean upgrade)
{
  g_autoptr(Raw) r = raw_open (port, NULL);
  g_autofree char *origin_line = origin ? g_strdup_printf ("Origin: %s\r\n", origin) : g_strdup ("");
  g_autofree char *request = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: %s\r\n%s%s\r\n", path_query, host, origin_line,
                                              upgrade ? "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                                        "Sec-WebSocket-Version: 13\r\n" : "");
  g_autofree char *response = NULL;

  g_assert_true (raw_write (r, request, strlen (request)));
  response = raw_read_response (r);
  g_assert_nonnull (response);
  if (g_str_has_prefix (response, "HTTP/1.1 403 "))
    g_assert_nonnull (strstr (response, "Origin not allowed"));
  return (guint) g_ascii_strtoull (response + 9, NULL, 10);
}

/* Cross-site WebSocket hijacking: pages from elsewhere may not use the
 * server (websocket or polling), its own pages and native clients may. */
static void
test_origin (void)
{
  g_autoptr(ServerThread) t = server_thread_new ("allowed-origins", "https://app.example", NULL);
  g_autofree char *own = g_strdup_printf ("127.0.0.1:%u", t->port);
  g_autofree char *own_origin = g_strdup_printf ("http://127.0.0.1:%u", t->port);
  g_autofree char *localhost = g_strdup_printf ("http://localhost:%u", t->port);
  g_autofree char *v6 = g_strdup_printf ("http://[::1]:%u", t->port);
  g_autofree char *lan_host = g_strdup_printf ("peercam.lan:%u", t->port);
  g_autofree char *lan_origin = g_strdup_printf ("http://PeerCam.lan:%u", t->port);
  g_autofree char *other_port = g_strdup_printf ("http://127.0.0.1:%u", t->port + 1);
  g_autofree char *https_own = g_strdup_printf ("https://127.0.0.1:%u", t->port);
  static const char ws[] = "/socket.io/?EIO=4&transport=websocket";
  static const char polling[] = "/socket.io/?EIO=4&transport=polling";
  const struct {
    const char *host, *origin;
    guint       ws, polling;
  } cases[] = {
    { own, NULL, 101, 200 },                       /* native clients */
    { own, own_origin, 101, 200 },                 /* our own pages */
    { own, localhost, 101, 200 },
    { own, v6, 101, 200 },
    { lan_host, lan_origin, 101, 200 },            /* the name the page was opened by */
    { own, "https://app.example", 101, 200 },      /* --allow-origin */
    { own, "https://APP.example:443", 101, 200 },
    { own, "http://evil.example", 403, 403 },
    { own, "http://app.example", 403, 403 },
    { own, "null", 403, 403 },
    { own, other_port, 403, 403 },
    { own, https_own, 403, 403 },                  /* not our scheme */
    { "evil.example", "http://evil.example:80", 101, 200 },  /* Host and Origin agree */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("Host %s, Origin %s", cases[i].host, cases[i].origin ? cases[i].origin : "(none)");
      g_assert_cmpuint (origin_status (t->port, ws, cases[i].host, cases[i].origin, TRUE), ==, cases[i].ws);
      g_assert_cmpuint (origin_status (t->port, polling, cases[i].host, cases[i].origin, FALSE), ==, cases[i].polling);
    }
}

/* HTTPS connections are watched from accept too: one that never
 * handshakes, or never completes a request, is closed at header-timeout,
 * and the per-address bound holds. Honest HTTPS clients get in. */
static void
test_tls_lockouts (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("peercam-server-tls-XXXXXX", &error);
  g_autofree char *dir = g_build_filename (tmp, "peercam", NULL);
  g_autofree char *cert = g_build_filename (dir, "cert.pem", NULL);
  g_autofree char *key = g_build_filename (dir, "key.pem", NULL);
  g_autoptr(GTlsCertificate) certificate = peercam_tls_load_or_create_certificate (dir, &error);
  g_autoptr(ServerThread) t = NULL;
  g_autoptr(GPtrArray) slow = g_ptr_array_new_with_free_func ((GDestroyNotify) raw_free);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = NULL, *text = NULL;
  guint status;

  g_assert_no_error (error);
  t = server_thread_new_tls (certificate, "header-timeout", "500", "max-pending-per-address", "4", NULL);
  for (guint i = 0; i < 4; i++)
    {
      Raw *r = raw_open (t->port, "127.0.0.2");

      if (i % 2 == 0)
        g_assert_true (raw_write (r, "\x16\x03\x01", 3));  /* the start of a ClientHello */
      g_ptr_array_add (slow, r);
    }
  spin (100);
  {
    g_autoptr(Raw) r = raw_open (t->port, "127.0.0.2");

    g_assert_true (raw_closed_by_server (r));
  }

  /* An honest HTTPS client meanwhile. */
  url = g_strdup_printf ("https://127.0.0.1:%u/socket.io/?EIO=4&transport=polling", t->port);
  text = http_blocking (session, url, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_true (g_str_has_prefix (text, "0{"));

  for (guint i = 0; i < slow->len; i++)
    g_assert_true (raw_closed_by_server (slow->pdata[i]));

  g_clear_pointer (&t, server_thread_free);
  g_remove (cert);
  g_remove (key);
  g_rmdir (dir);
  g_rmdir (tmp);
}

/* A raw websocket session, CONNECTed to "/". */
static Raw *
raw_ws_connect (guint port, const char *from)
{
  Raw *r = raw_open (port, from);
  g_autofree char *response = NULL, *open = NULL, *connected = NULL;

  g_assert_true (raw_write (r, ws_upgrade, strlen (ws_upgrade)));
  response = raw_read_response (r);
  g_assert_nonnull (response);
  g_assert_true (g_str_has_prefix (response, "HTTP/1.1 101 "));
  open = raw_read_frame (r);
  g_assert_true (g_str_has_prefix (open, "0{"));
  raw_write_frame (r, "40");
  connected = raw_read_frame (r);
  g_assert_true (g_str_has_prefix (connected, "40{"));
  return r;
}

typedef struct {
  guint  port;
  gint64 until;
  gsize  sent;
} Flooder;

/* A websocket that never CONNECTs and writes 6-byte frames back to back. */
static gpointer
flooder_thread (gpointer data)
{
  Flooder *f = data;
  g_autoptr(Raw) r = raw_open (f->port, "127.0.0.9");
  g_autofree char *response = NULL;
  g_autofree guint8 *frames = g_malloc (6 * 10000);

  g_assert_true (raw_write (r, ws_upgrade, strlen (ws_upgrade)));
  response = raw_read_response (r);
  g_assert_true (g_str_has_prefix (response, "HTTP/1.1 101 "));
  for (guint i = 0; i < 10000; i++)
    memcpy (frames + 6 * i, "\x81\x80\x12\x34\x56\x78", 6);
  while (g_get_monotonic_time () < f->until && raw_write (r, (const char *) frames, 6 * 10000))
    f->sent += 10000;
  return NULL;
}

/* Two honest clients keep relaying, fast and complete, beside a flood of
 * tiny frames from a third connection. */
static void
test_tiny_frame_flood (void)
{
  g_autoptr(ServerThread) t = server_thread_new (NULL);
  g_autoptr(Raw) a = raw_ws_connect (t->port, NULL);
  g_autoptr(Raw) b = raw_ws_connect (t->port, NULL);
  g_autofree char *frame = NULL;
  Flooder flooder = { t->port, 0, 0 };
  GThread *thread;
  gint64 worst = 0;
  guint n = 0;

  raw_write_frame (a, "42[\"create or join\",\"flood\"]");
  g_free (raw_read_frame (a));
  raw_write_frame (b, "42[\"create or join\",\"flood\"]");
  g_free (raw_read_frame (b));
  frame = raw_read_frame (a);
  g_assert_cmpstr (frame, ==, "42[\"call\"]");

  flooder.until = g_get_monotonic_time () + 1500 * G_TIME_SPAN_MILLISECOND;
  thread = g_thread_new ("flooder", flooder_thread, &flooder);
  spin (50);
  while (g_get_monotonic_time () < flooder.until)
    {
      g_autofree char *ping = g_strdup_printf ("42[\"ice\",{\"n\":%u}]", n);
      g_autofree char *pong = g_strdup_printf ("42[\"ice\",{\"r\":%u}]", n);
      g_autofree char *got = NULL, *back = NULL;
      gint64 start = g_get_monotonic_time ();

      raw_write_frame (a, ping);
      got = raw_read_frame (b);
      g_assert_cmpstr (got, ==, ping);
      raw_write_frame (b, pong);
      back = raw_read_frame (a);
      g_assert_cmpstr (back, ==, pong);
      worst = MAX (worst, g_get_monotonic_time () - start);
      n++;
    }
  g_thread_join (thread);
  g_test_message ("%u round trips beside %" G_GSIZE_FORMAT " flood frames, the slowest %" G_GINT64_FORMAT " us",
                  n, flooder.sent, worst);
  g_assert_cmpint (worst, <, 300 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (n, >=, 5);
}

/* Bodies over max-message-size are refused while they are read, on every
 * route: a Content-Length over it right after the headers, a chunked body
 * as soon as it passes it. */
static void
test_body_limits (void)
{
  g_autoptr(ServerThread) t = server_thread_new ("max-message-size", "100000", NULL);
  g_autofree char *sid = raw_handshake (t->port, NULL);
  g_autofree char *chunk = NULL;
  static const char *const huge[] = {
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n",
    "POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nContent-Length: 100001\r\n\r\n",
    "PUT /userB HTTP/1.1\r\nHost: x\r\nContent-Length: 600000000\r\n\r\n",
  };
  gsize sent = 0;

  for (guint i = 0; i < G_N_ELEMENTS (huge); i++)
    {
      g_autoptr(Raw) r = raw_open (t->port, NULL);
      g_autofree char *response = NULL;

      /* No body at all: the answer comes after the headers. */
      g_assert_true (raw_write (r, huge[i], strlen (huge[i])));
      response = raw_read_response (r);
      g_assert_nonnull (response);
      g_assert_true (g_str_has_prefix (response, "HTTP/1.1 413 "));
      g_assert_nonnull (strstr (response, "\r\nConnection: close\r\n"));
      g_assert_true (raw_closed_by_server (r));
    }

  /* Chunked, on a valid session: cut off near the limit, not after 50 MB. */
  {
    g_autoptr(Raw) r = raw_open (t->port, NULL);
    g_autofree char *head = g_strdup_printf ("POST /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\n"
                                             "Host: x\r\nTransfer-Encoding: chunked\r\n\r\n", sid);
    g_autofree char *response = NULL;

    chunk = g_strnfill (8 + 65536 + 2, 'x');
    memcpy (chunk, "10000\r\n4", 8);
    memcpy (chunk + 8 + 65536, "\r\n", 2);
    g_assert_true (raw_write (r, head, strlen (head)));
    while (sent < 50 * 1024 * 1024 && raw_write (r, chunk, 8 + 65536 + 2))
      sent += 65536;
    g_test_message ("the server stopped the chunked body after %" G_GSIZE_FORMAT " bytes sent", sent);
    g_assert_cmpuint (sent, <, 50 * 1024 * 1024);
    response = raw_read_response (r);
    g_assert_true (response == NULL || g_str_has_prefix (response, "HTTP/1.1 413 "));
  }

  /* The session that sent it is over. */
  {
    g_autoptr(Raw) r = raw_open (t->port, NULL);
    g_autofree char *get = g_strdup_printf ("GET /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\n\r\n", sid);
    g_autofree char *response = NULL;

    g_assert_true (raw_write (r, get, strlen (get)));
    response = raw_read_response (r);
    g_assert_nonnull (response);
    g_assert_true (g_str_has_prefix (response, "HTTP/1.1 400 "));
  }
}

static void
test_garbage (void)
{
  PeercamSignalingServer *server = server_new ("max-message-size", 65536, NULL);
  g_autoptr(Client) a = client_connect (server);
  g_autoptr(Client) b = client_connect (server);
  g_autoptr(Client) flood = client_connect (server);
  g_autoptr(Client) oversize = client_connect (server);
  Client *bad[6];
  static const char *garbage[] = { "garbage", "9", "42", "42[\"x\"", "451-[\"x\",{\"_placeholder\":true,\"num\":0}]" };
  g_autofree char *huge = NULL;
  const guint n_relays = 300, n_flood = 10000;
  Count count;

  client_join (a, "r");
  g_free (client_next (a, TIMEOUT_MS));
  client_join (b, "r");
  g_free (client_next (b, TIMEOUT_MS));
  client_expect (a, "42[\"call\"]");

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    bad[i] = client_connect (server);
  for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
    client_send (bad[i], garbage[i]);
  {
    g_autoptr(GBytes) binary = g_bytes_new_static ("\x04\x01\x02", 3);

    soup_websocket_connection_send_message (bad[5]->ws, SOUP_WEBSOCKET_DATA_BINARY, binary);
  }
  huge = g_strnfill (100000, 'x');
  memcpy (huge, "42[\"ice\",\"", 10);

  /* Flood and oversize while a and b keep talking. */
  for (guint i = 0; i < n_flood; i++)
    client_send (flood, "42[\"nope\"]");
  client_send (oversize, huge);
  for (guint i = 0; i < n_relays; i++)
    {
      g_autofree char *from_a = g_strdup_printf ("42[\"ice\",{\"n\":%u}]", i);
      g_autofree char *from_b = g_strdup_printf ("42[\"signal\",{\"type\":\"answer\",\"n\":%u}]", i);

      client_send (a, from_a);
      client_send (b, from_b);
    }

  count.client = b;
  count.expected = n_relays;
  g_assert_true (wait_for (has_n_frames, &count, 20000));
  count.client = a;
  g_assert_true (wait_for (has_n_frames, &count, 20000));
  for (guint i = 0; i < n_relays; i++)
    {
      g_autofree char *from_a = g_strdup_printf ("42[\"ice\",{\"n\":%u}]", i);
      g_autofree char *from_b = g_strdup_printf ("42[\"signal\",{\"type\":\"answer\",\"n\":%u}]", i);

      client_expect (b, from_a);
      client_expect (a, from_b);
    }
  g_assert_false (a->closed);
  g_assert_false (b->closed);

  /* Every misbehaving client was dropped with a reason code. */
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_true (wait_for (is_closed, bad[i], TIMEOUT_MS));
      g_assert_cmpuint (bad[i]->close_code, ==,
                        i == 5 || i == 4 ? SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA
                                         : SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR);
      client_free (bad[i]);
    }

  /* The flooder got an error per unknown event and stays connected. */
  count.client = flood;
  count.expected = n_flood;
  g_assert_true (wait_for (has_n_frames, &count, 20000));
  g_assert_cmpuint (flood->frames.length, ==, n_flood);
  client_expect (flood, "42[\"error\",\"Unknown event 'nope'\"]");
  g_assert_false (flood->closed);

  /* Over max-message-size: closed with 1009. */
  g_assert_true (wait_for (is_closed, oversize, TIMEOUT_MS));
  g_assert_cmpuint (oversize->close_code, ==, SOUP_WEBSOCKET_CLOSE_TOO_BIG);

  g_assert_cmpuint (peercam_signaling_server_get_n_connections (server), ==, 3);
  server_free (server);
}

static void
raw_connected_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  GSocketConnection **conn = data;

  *conn = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, NULL);
}

static gboolean
pointer_set (gpointer data)
{
  return *(gpointer *) data != NULL;
}

static void
test_half_open (void)
{
  PeercamSignalingServer *server = server_new (NULL, NULL);
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  GSocketConnection *raw[3] = { NULL, NULL, NULL };
  const char *partial = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n";
  g_autoptr(Client) a = NULL;
  g_autoptr(Client) b = NULL;

  /* Connections that never finish (or never start) their request. */
  for (guint i = 0; i < G_N_ELEMENTS (raw); i++)
    {
      g_socket_client_connect_to_host_async (socket_client, "127.0.0.1",
                                             (guint16) peercam_signaling_server_get_port (server),
                                             NULL, raw_connected_cb, &raw[i]);
      g_assert_true (wait_for (pointer_set, &raw[i], TIMEOUT_MS));
    }
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (raw[0])),
                             partial, strlen (partial), NULL, NULL, NULL);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (raw[1])),
                             "POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n42",
                             88, NULL, NULL, NULL);

  a = client_connect (server);
  b = client_connect (server);
  client_join (a, "r");
  g_free (client_next (a, TIMEOUT_MS));
  client_join (b, "r");
  g_free (client_next (b, TIMEOUT_MS));
  client_expect (a, "42[\"call\"]");
  client_send (a, "42[\"ice\",{}]");
  client_expect (b, "42[\"ice\",{}]");

  /* Half-closed: the write side shut down, the read side still open. */
  g_socket_shutdown (g_socket_connection_get_socket (raw[2]), FALSE, TRUE, NULL);
  client_send (b, "42[\"ice\",{\"b\":1}]");
  client_expect (a, "42[\"ice\",{\"b\":1}]");
  g_assert_cmpuint (peercam_signaling_server_get_n_connections (server), ==, 2);

  for (guint i = 0; i < G_N_ELEMENTS (raw); i++)
    {
      g_io_stream_close (G_IO_STREAM (raw[i]), NULL, NULL);
      g_object_unref (raw[i]);
    }
  server_free (server);
}

static void
test_max_connections (void)
{
  PeercamSignalingServer *server = server_new ("max-connections", 2, NULL);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *polling = server_url (server, "http", "transport=polling");
  g_autoptr(Client) a = client_connect (server);
  g_autoptr(Client) b = client_connect (server);
  g_autoptr(Client) c = client_try_connect (server, "transport=websocket");
  g_autoptr(Client) d = NULL;
  guint status;

  g_assert_nonnull (b->socket_id);
  g_assert_null (c->ws);
  g_assert_cmpuint (c->status, ==, SOUP_STATUS_SERVICE_UNAVAILABLE);
  g_free (http (session, "GET", polling, NULL, &status));
  g_assert_cmpuint (status, ==, SOUP_STATUS_SERVICE_UNAVAILABLE);

  /* A seat frees up when someone leaves. */
  soup_websocket_connection_close (a->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_assert_true (wait_for (is_closed, a, TIMEOUT_MS));
  spin (20);
  d = client_connect (server);
  g_assert_nonnull (d->socket_id);

  server_free (server);
}

/* Out of file descriptors: the server warns, stops accepting for a moment
 * instead of spinning, and serves again once descriptors are free (libsoup's
 * own listener stopped accepting for good). Runs in a subprocess: it lowers
 * the process's fd limit. */
static void
test_accept_out_of_fds (void)
{
  if (g_test_subprocess ())
    {
      PeercamSignalingServer *server = server_new (NULL);
      guint port = peercam_signaling_server_get_port (server);
      g_autoptr(GArray) clients = g_array_new (FALSE, FALSE, sizeof (int));
      g_autoptr(SoupSession) session = NULL;
      g_autofree char *url = NULL;
      g_autofree char *open = NULL;
      struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (port) };
      struct rlimit saved, low;
      int lowest_free = dup (0);
      guint status = 0;

      g_assert_cmpint (lowest_free, >=, 0);
      close (lowest_free);
      g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &saved), ==, 0);
      low = saved;
      low.rlim_cur = lowest_free + 16;
      g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &low), ==, 0);
      addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);

      /* Every free descriptor goes to a client: the server's accept fails. */
      g_test_expect_message ("peercam-server", G_LOG_LEVEL_WARNING, "Cannot accept connections*");
      for (guint i = 0; i < 64; i++)
        {
          int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

          if (fd < 0)
            break;
          g_assert_cmpint (connect (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
          g_array_append_val (clients, fd);
        }
      g_assert_cmpuint (clients->len, >=, 8);
      spin (300);
      g_test_assert_expected_messages ();

      for (guint i = 0; i < clients->len; i++)
        close (g_array_index (clients, int, i));
      g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &saved), ==, 0);

      /* After the pause the backlog is taken and a new client is served. */
      session = soup_session_new ();
      url = g_strdup_printf ("http://127.0.0.1:%u/socket.io/?EIO=4&transport=polling", port);
      open = http (session, "GET", url, NULL, &status);
      g_assert_cmpuint (status, ==, SOUP_STATUS_OK);
      g_assert_true (g_str_has_prefix (open, "0{"));
      server_free (server);
      return;
    }

  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
test_ipv6 (void)
{
  g_autoptr(GSocket) probe = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(PeercamSignalingServer) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(Client) a = NULL;
  g_autoptr(Client) v4 = NULL;
  g_autofree char *create = NULL;

  if (probe == NULL || !g_socket_bind (probe, address, FALSE, NULL))
    {
      g_test_skip ("::1 is not available");
      return;
    }

  server = g_object_new (PEERCAM_TYPE_SIGNALING_SERVER, "bind-address", "::1", NULL);
  g_assert_true (peercam_signaling_server_start (server, &error));
  g_assert_no_error (error);
  a = client_connect (server);
  client_join (a, "six");
  create = g_strdup_printf ("42[\"create\",\"six\",\"%s\"]", a->socket_id);
  client_expect (a, create);

  /* Bound to ::1 only: 127.0.0.1 is not served. */
  peercam_signaling_server_set_bind_address (server, "127.0.0.1");
  v4 = client_try_connect (server, "transport=websocket");
  g_assert_null (v4->ws);
  peercam_signaling_server_set_bind_address (server, "::1");

  peercam_signaling_server_stop (server);
  spin (50);
}

static void
test_listen_all (void)
{
  g_autoptr(PeercamSignalingServer) server = peercam_signaling_server_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(Client) a = NULL;

  g_assert_null (peercam_signaling_server_get_bind_address (server));
  g_assert_true (peercam_signaling_server_start (server, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (peercam_signaling_server_get_port (server), >, 0);

  /* server_url() falls back to 127.0.0.1 when bind-address is NULL. */
  a = client_connect (server);
  g_assert_nonnull (a->socket_id);

  /* Bad addresses are reported, not crashed on. */
  {
    g_autoptr(PeercamSignalingServer) bad = g_object_new (PEERCAM_TYPE_SIGNALING_SERVER,
                                                          "bind-address", "not-an-address", NULL);
    g_autoptr(GError) bad_error = NULL;

    g_assert_false (peercam_signaling_server_start (bad, &bad_error));
    g_assert_error (bad_error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  }

  peercam_signaling_server_stop (server);
  g_assert_true (wait_for (is_closed, a, TIMEOUT_MS));
  g_assert_false (peercam_signaling_server_is_running (server));
  spin (50);
}

static void
test_stop_restart (void)
{
  PeercamSignalingServer *server = server_new (NULL, NULL);
  g_autoptr(Client) a = client_connect (server);
  g_autoptr(Client) b = client_connect (server);
  g_autoptr(Client) c = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *create = NULL;

  client_join (a, "r");
  g_free (client_next (a, TIMEOUT_MS));
  client_join (b, "r");
  g_free (client_next (b, TIMEOUT_MS));
  client_expect (a, "42[\"call\"]");

  peercam_signaling_server_stop (server);
  g_assert_true (wait_for (is_closed, a, TIMEOUT_MS));
  g_assert_true (wait_for (is_closed, b, TIMEOUT_MS));
  g_assert_cmpuint (a->close_code, ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  g_assert_cmpuint (peercam_signaling_server_get_n_connections (server), ==, 0);

  g_assert_true (peercam_signaling_server_start (server, &error));
  g_assert_no_error (error);
  c = client_connect (server);
  client_join (c, "r");
  create = g_strdup_printf ("42[\"create\",\"r\",\"%s\"]", c->socket_id);
  client_expect (c, create);

  server_free (server);
}

int
main (int argc, char **argv)
{
  /* Loopback only: no proxy lookups (libproxy also throws C++ exceptions
   * that a C ASan build cannot intercept). */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signaling-server/handshake", test_handshake);
  g_test_add_func ("/signaling-server/http-errors", test_http_errors);
  g_test_add_func ("/signaling-server/token", test_token);
  g_test_add_func ("/signaling-server/rooms", test_rooms);
  g_test_add_func ("/signaling-server/relay", test_relay);
  g_test_add_func ("/signaling-server/several-rooms", test_several_rooms);
  g_test_add_func ("/signaling-server/addressed", test_addressed);
  g_test_add_func ("/signaling-server/too-many-rooms", test_too_many_rooms);
  g_test_add_func ("/signaling-server/nul-escape", test_nul_escape);
  g_test_add_func ("/signaling-server/bye-on-disconnect", test_bye_on_disconnect);
  g_test_add_func ("/signaling-server/ping-timeout", test_ping_timeout);
  g_test_add_func ("/signaling-server/connect-timeout", test_connect_timeout);
  g_test_add_func ("/signaling-server/polling", test_polling);
  g_test_add_func ("/signaling-server/polling-limits", test_polling_limits);
  g_test_add_func ("/signaling-server/body-limits", test_body_limits);
  g_test_add_func ("/signaling-server/keep-alive", test_keep_alive);
  g_test_add_func ("/signaling-server/lockouts", test_lockouts);
  g_test_add_func ("/signaling-server/origin", test_origin);
  g_test_add_func ("/signaling-server/tls-lockouts", test_tls_lockouts);
  g_test_add_func ("/signaling-server/tiny-frame-flood", test_tiny_frame_flood);
  g_test_add_func ("/signaling-server/garbage", test_garbage);
  g_test_add_func ("/signaling-server/half-open", test_half_open);
  g_test_add_func ("/signaling-server/max-connections", test_max_connections);
  g_test_add_func ("/signaling-server/accept-out-of-fds", test_accept_out_of_fds);
  g_test_add_func ("/signaling-server/ipv6", test_ipv6);
  g_test_add_func ("/signaling-server/listen-all", test_listen_all);
  g_test_add_func ("/signaling-server/stop-restart", test_stop_restart);

  return g_test_run ();
}
