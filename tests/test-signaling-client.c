/* test-signaling-client.c — PeercamSignalingClient against the embedded server
 * and against a scripted raw WebSocket server (garbage, silence, TLS)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything listens on 127.0.0.1 with an ephemeral port; every wait is
 * bounded.
 */
#include <libsoup/soup.h>
#include <string.h>

#include "peercam-init.h"
#include "peercam-session-private.h"
#include "peercam-signaling-client.h"
#include "peercam-signaling-server.h"
#include "peercam-test-recorder.h"
#include "peercam-test-wait.h"

#define WAIT_MS 5000

#if !defined(__SANITIZE_ADDRESS__) && defined(__has_feature)
# if __has_feature (address_sanitizer)
#  define __SANITIZE_ADDRESS__ 1
# endif
#endif

#ifdef __SANITIZE_ADDRESS__
/* clang 14's LeakSanitizer crashes ("Tracer caught signal 11") walking the
 * dynamic TLS of the GnuTLS threads that the TLS test starts; not scanning
 * dynamic TLS can only add false reports, never hide a leak. */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "intercept_tls_get_addr=0";
}
#endif

/* ------------------------------------------------------------------------ */
/* Waiting                                                                   */

static void
spin (guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;
  guint ticker = g_timeout_add (10, peercam_test_tick, NULL);

  while (g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);

  g_source_remove (ticker);
}

/* ------------------------------------------------------------------------ */
/* The embedded server                                                       */

static PeercamSignalingServer *
server_start (guint port, const char *token)
{
  g_autoptr(GError) error = NULL;
  PeercamSignalingServer *server = peercam_signaling_server_new ();

  peercam_signaling_server_set_bind_address (server, "127.0.0.1");
  peercam_signaling_server_set_port (server, port);
  if (token != NULL)
    peercam_signaling_server_set_token (server, token);
  g_assert_true (peercam_signaling_server_start (server, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (peercam_signaling_server_get_port (server), >, 0);

  return server;
}

static char *
server_url (PeercamSignalingServer *server)
{
  return g_strdup_printf ("http://127.0.0.1:%u", peercam_signaling_server_get_port (server));
}

/* ------------------------------------------------------------------------ */
/* A scripted raw WebSocket server                                           */

typedef enum {
  FAKE_NORMAL,        /* open, CONNECT, create; pings only when asked */
  FAKE_NO_OPEN,       /* accepts the WebSocket, then says nothing */
  FAKE_REFUSE,        /* answers CONNECT with CONNECT_ERROR */
  FAKE_LATE_CREATE,   /* answers create or join with create after 2.5 s */
} FakeMode;

typedef struct {
  SoupServer *server;
  guint port;
  FakeMode mode;
  guint ping_interval;
  guint ping_timeout;
  const char * const *after_connect;   /* frames sent after the CONNECT reply */
  GPtrArray *conns;
  GPtrArray *received;
  guint n_connections;
  guint late_timer;
  char *late_reply;
} Fake;

static void
fake_send (SoupWebsocketConnection *conn, const char *text)
{
  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (conn, text);
}

static gboolean
on_fake_late_reply (gpointer user_data)
{
  Fake *fake = user_data;

  fake->late_timer = 0;
  for (guint i = 0; i < fake->conns->len; i++)
    fake_send (g_ptr_array_index (fake->conns, i), fake->late_reply);
  return G_SOURCE_REMOVE;
}

static void
on_fake_message (SoupWebsocketConnection *conn, gint type, GBytes *message, Fake *fake)
{
  gsize size;
  const char *data = g_bytes_get_data (message, &size);
  g_autofree char *text = g_strndup (data, size);

  g_ptr_array_add (fake->received, g_strdup (text));

  if (g_str_has_prefix (text, "40"))
    {
      if (fake->mode == FAKE_REFUSE)
        {
          fake_send (conn, "44{\"message\":\"bad token\"}");
          return;
        }
      fake_send (conn, "40{\"sid\":\"fake-sid\"}");
      for (guint i = 0; fake->after_connect != NULL && fake->after_connect[i] != NULL; i++)
        fake_send (conn, fake->after_connect[i]);
    }
  else if (g_str_has_prefix (text, "42[\"create or join\""))
    {
      g_autoptr(JsonNode) node = json_from_string (text + 2, NULL);
      const char *room = json_array_get_string_element (json_node_get_array (node), 1);
      g_autofree char *reply = g_strdup_printf ("42[\"create\",\"%s\",\"fake-sid\"]", room);

      if (fake->mode == FAKE_LATE_CREATE)
        {
          g_free (fake->late_reply);
          fake->late_reply = g_steal_pointer (&reply);
          if (fake->late_timer == 0)
            fake->late_timer = g_timeout_add (2500, on_fake_late_reply, fake);
          return;
        }
      fake_send (conn, reply);
    }
}

static void
on_fake_websocket (SoupServer *server, SoupServerMessage *msg, const char *path,
                   SoupWebsocketConnection *conn, gpointer user_data)
{
  Fake *fake = user_data;

  fake->n_connections++;
  g_ptr_array_add (fake->conns, g_object_ref (conn));
  g_signal_connect (conn, "message", G_CALLBACK (on_fake_message), fake);

  if (fake->mode != FAKE_NO_OPEN)
    {
      g_autofree char *open = g_strdup_printf ("0{\"sid\":\"eio\",\"upgrades\":[],\"pingInterval\":%u,\"pingTimeout\":%u,\"maxPayload\":1000000}",
                                               fake->ping_interval, fake->ping_timeout);
      fake_send (conn, open);
    }
}

static Fake *
fake_new (FakeMode mode, GTlsCertificate *certificate)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSList) uris = NULL;
  Fake *fake = g_new0 (Fake, 1);

  fake->mode = mode;
  fake->ping_interval = 25000;
  fake->ping_timeout = 20000;
  fake->conns = g_ptr_array_new_with_free_func (g_object_unref);
  fake->received = g_ptr_array_new_with_free_func (g_free);
  fake->server = soup_server_new ("tls-certificate", certificate, NULL);
  soup_server_add_websocket_handler (fake->server, "/socket.io/", NULL, NULL,
                                     on_fake_websocket, fake, NULL);
  g_assert_true (soup_server_listen_local (fake->server, 0,
                                           SOUP_SERVER_LISTEN_IPV4_ONLY |
                                           (certificate ? SOUP_SERVER_LISTEN_HTTPS : 0),
                                           &error));
  g_assert_no_error (error);

  uris = soup_server_get_uris (fake->server);
  g_assert_nonnull (uris);
  fake->port = g_uri_get_port (uris->data);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);

  return fake;
}

static char *
fake_url (Fake *fake, const char *scheme)
{
  return g_strdup_printf ("%s://127.0.0.1:%u", scheme, fake->port);
}

static void
fake_close_all (Fake *fake)
{
  for (guint i = 0; i < fake->conns->len; i++)
    {
      SoupWebsocketConnection *conn = g_ptr_array_index (fake->conns, i);

      if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    }
}

static void
fake_free (Fake *fake)
{
  for (guint i = 0; i < fake->conns->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (fake->conns, i), fake);
  g_ptr_array_unref (fake->conns);
  soup_server_disconnect (fake->server);
  g_object_unref (fake->server);
  g_ptr_array_unref (fake->received);
  if (fake->late_timer != 0)
    g_source_remove (fake->late_timer);
  g_free (fake->late_reply);
  g_free (fake);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fake, fake_free)

static guint
fake_count (Fake *fake, const char *prefix)
{
  guint n = 0;

  for (guint i = 0; i < fake->received->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (fake->received, i), prefix))
      n++;
  return n;
}

static SoupWebsocketConnection *
fake_last_conn (Fake *fake)
{
  g_assert_cmpuint (fake->conns->len, >, 0);
  return g_ptr_array_index (fake->conns, fake->conns->len - 1);
}

/* ------------------------------------------------------------------------ */
/* Tests: URLs and state basics                                              */

static void
test_url_validation (void)
{
  static const char *good[] = {
    "http://127.0.0.1:8080", "https://example.org:8443", "ws://[::1]:8080/", "wss://host", "HTTP://Host:1",
  };
  static const char *bad[] = {
    "", "ftp://127.0.0.1:8080", "not a url", "http://", "127.0.0.1:8080", "http://host:8080/admin",
    "file:///etc/passwd", "http://host:99999",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (peercam_signaling_client_validate_url (good[i], &error));
      g_assert_no_error (error);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PeercamSignalingClient) client = peercam_signaling_client_new (bad[i]);

      g_assert_false (peercam_signaling_client_connect (client, &error));
      g_assert_error (error, PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_INVALID_URL);
      g_test_message ("%s → %s", bad[i], error->message);
      g_assert_cmpint (peercam_signaling_client_get_state (client), ==, PEERCAM_SIGNALING_STATE_DISCONNECTED);
    }

  /* Garbage in the pin is refused up front as well. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(PeercamSignalingClient) client = peercam_signaling_client_new ("https://127.0.0.1:1");

    peercam_signaling_client_set_pinned_certificate (client, "abc");
    g_assert_false (peercam_signaling_client_connect (client, &error));
    g_assert_error (error, PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_CERTIFICATE);
  }
}

static void
count_notify (guint *counter)
{
  (*counter)++;
}

static void
test_properties (void)
{
  g_autoptr(PeercamSignalingClient) client = peercam_signaling_client_new ("http://127.0.0.1:1");
  g_autofree char *url = NULL;
  g_autofree char *state_name = NULL;
  PeercamSignalingState state;
  gboolean reconnect;
  guint notified = 0;

  g_signal_connect_swapped (client, "notify::token", G_CALLBACK (count_notify), &notified);

  g_object_get (client, "url", &url, "state", &state, "reconnect", &reconnect, NULL);
  g_assert_cmpstr (url, ==, "http://127.0.0.1:1");
  g_assert_cmpint (state, ==, PEERCAM_SIGNALING_STATE_DISCONNECTED);
  g_assert_true (reconnect);
  g_assert_null (peercam_signaling_client_get_room (client));
  g_assert_null (peercam_signaling_client_get_id (client));

  g_object_set (client, "token", "t0k", "reconnect", FALSE, NULL);
  g_assert_cmpstr (peercam_signaling_client_get_token (client), ==, "t0k");
  peercam_signaling_client_set_token (client, "t0k");
  g_assert_cmpuint (notified, ==, 1);  /* only on change */
  g_assert_false (peercam_signaling_client_get_reconnect (client));

  state_name = g_enum_to_string (PEERCAM_TYPE_SIGNALING_STATE, PEERCAM_SIGNALING_STATE_JOINED);
  g_assert_cmpstr (state_name, ==, "PEERCAM_SIGNALING_STATE_JOINED");
}

/* ------------------------------------------------------------------------ */
/* Tests: scripted server                                                    */

static void
test_fake_ping_pong (void)
{
  g_autoptr(Fake) fake = fake_new (FAKE_NORMAL, NULL);
  g_autofree char *url = fake_url (fake, "ws");
  g_autoptr(PeercamTestRecorder) r = peercam_test_recorder_new (url);

  peercam_signaling_client_set_reconnect (r->client, FALSE);
  peercam_test_recorder_connect (r);
  g_assert_cmpint (peercam_test_recorder_state (r), ==, PEERCAM_SIGNALING_STATE_CONNECTING);
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_CONNECTED, WAIT_MS));
  g_assert_cmpstr (peercam_signaling_client_get_id (r->client), ==, "fake-sid");
  /* Plain CONNECT without a token. */
  g_assert_cmpuint (fake_count (fake, "40"), ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fake->received, 0), ==, "40");

  fake_send (fake_last_conn (fake), "2");
  g_assert_true (WAIT_UNTIL (fake_count (fake, "3") == 1, WAIT_MS));
  g_assert_cmpuint (r->errors->len, ==, 0);

  /* A clean goodbye: DISCONNECT, then the WebSocket closes. */
  peercam_signaling_client_disconnect (r->client);
  g_assert_cmpint (peercam_test_recorder_state (r), ==, PEERCAM_SIGNALING_STATE_DISCONNECTED);
  g_assert_true (WAIT_UNTIL (fake_count (fake, "41") == 1, WAIT_MS));
  g_assert_true (WAIT_UNTIL (soup_websocket_connection_get_state (fake_last_conn (fake)) ==
                             SOUP_WEBSOCKET_STATE_CLOSED, WAIT_MS));
  spin (400);
  g_assert_cmpuint (fake->n_connections, ==, 1);
  g_assert_cmpuint (r->errors->len, ==, 0);
}

static void
test_fake_server_disconnect (void)
{
  static const char *kick[] = { "41", NULL };
  g_autoptr(Fake) fake = fake_new (FAKE_NORMAL, NULL);
  g_autofree char *url = fake_url (fake, "http");
  g_autoptr(PeercamTestRecorder) r = peercam_test_recorder_new (url);

  /* A Socket.IO DISCONNECT from the server is deliberate: no reconnect. */
  fake->after_connect = kick;
  peercam_test_recorder_connect (r);
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_saw_state (r, PEERCAM_SIGNALING_STATE_CONNECTED) &&
                             peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_DISCONNECTED, WAIT_MS));
  g_assert_cmpuint (r->errors->len, ==, 1);
  g_assert_error (peercam_test_recorder_error_at (r, 0), PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_CLOSED);
  spin (600);
  g_assert_cmpuint (fake->n_connections, ==, 1);
  g_assert_cmpint (peercam_test_recorder_state (r), ==, PEERCAM_SIGNALING_STATE_DISCONNECTED);
}

static void
test_fake_lifecycle (void)
{
  g_autoptr(Fake) fake = fake_new (FAKE_NO_OPEN, NULL);
  g_autofree char *url = fake_url (fake, "http");

  /* Dropped while the WebSocket handshake is in flight. */
  {
    PeercamSignalingClient *client = peercam_signaling_client_new (url);

    g_assert_true (peercam_signaling_client_connect (client, NULL));
    g_object_unref (client);
    spin (200);
  }

  /* Dropped after the WebSocket opened, waiting for the open packet. */
  {
    PeercamSignalingClient *client = peercam_signaling_client_new (url);
    guint before = fake->n_connections;

    g_assert_true (peercam_signaling_client_connect (client, NULL));
    g_assert_true (WAIT_UNTIL (fake->n_connections == before + 1, WAIT_MS));
    g_object_unref (client);
    g_assert_true (WAIT_UNTIL (soup_websocket_connection_get_state (fake_last_conn (fake)) ==
                               SOUP_WEBSOCKET_STATE_CLOSED, WAIT_MS));
  }

  /* Dropped while waiting to reconnect. */
  {
    g_autoptr(Fake) gone = fake_new (FAKE_NORMAL, NULL);
    g_autofree char *gone_url = fake_url (gone, "http");
    PeercamSignalingClient *client = peercam_signaling_client_new (gone_url);

    g_assert_true (peercam_signaling_client_connect (client, NULL));
    g_assert_true (WAIT_UNTIL (peercam_signaling_client_get_state (client) == PEERCAM_SIGNALING_STATE_CONNECTED, WAIT_MS));
    fake_close_all (gone);
    g_assert_true (WAIT_UNTIL (peercam_signaling_client_get_state (client) == PEERCAM_SIGNALING_STATE_RECONNECTING, WAIT_MS));
    g_object_unref (client);
    spin (700);
    g_assert_cmpuint (gone->n_connections, ==, 1);
  }
}

static void
test_fake_token_sent (void)
{
  g_autoptr(Fake) fake = fake_new (FAKE_NORMAL, NULL);
  g_autofree char *url = fake_url (fake, "http");
  g_autoptr(PeercamTestRecorder) r = peercam_test_recorder_new (url);

  peercam_signaling_client_set_token (r->client, "s3cr\"et");
  peercam_test_recorder_connect (r);
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_CONNECTED, WAIT_MS));
  g_assert_cmpstr (g_ptr_array_index (fake->received, 0), ==, "40{\"token\":\"s3cr\\\"et\"}");
}

static void
test_fake_dead_server (void)
{
  g_autoptr(Fake) fake = fake_new (FAKE_NORMAL, NULL);
  g_autofree char *url = fake_url (fake, "http");
  g_autoptr(PeercamTestRecorder) r = peercam_test_recorder_new (url);
  gint64 connected_at, failed_at;

  /* The server announces 150 + 150 ms and then never pings. */
  fake->ping_interval = 150;
  fake->ping_timeout = 150;
  peercam_signaling_client_set_reconnect (r->client, FALSE);
  peercam_test_recorder_connect (r);
  peercam_test_recorder_join (r, "quiet");
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_JOINED, WAIT_MS));
  connected_at = g_get_monotonic_time ();

  /* One ping in between pushes the deadline out. */
  spin (200);
  fake_send (fake_last_conn (fake), "2");
  g_assert_true (WAIT_UNTIL (fake_count (fake, "3") == 1, WAIT_MS));
  g_assert_cmpint (peercam_test_recorder_state (r), ==, PEERCAM_SIGNALING_STATE_JOINED);

  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_FAILED, WAIT_MS));
  failed_at = g_get_monotonic_time ();
  g_assert_true (peercam_test_recorder_has_error (r, PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_TIMEOUT));
  /* 200 ms until the ping, then 300 ms of silence; generous upper bound for
   * loaded CI machines and ASan. */
  g_assert_cmpint ((failed_at - connected_at) / 1000, >=, 450);
  g_assert_cmpint ((failed_at - connected_at) / 1000, <, 2000);
  g_assert_null (peercam_signaling_client_get_id (r->client));
}

static void
test_fake_garbage (void)
{
  static const char *garbage[] = {
    "garbage",                                   /* unknown Engine.IO type */
    "9",                                         /* unknown Engine.IO type */
    "4",                                         /* empty Socket.IO packet */
    "4{\"x\"",                                   /* unknown Socket.IO type */
    "42{\"x\":1}",                               /* EVENT that is not an array */
    "42[1,2]",                                   /* event name not a string */
    "42[\"signal\"",                             /* truncated JSON */
    "42[\"signal\",\"a string\"]",               /* description must be an object */
    "42[\"ice\",5]",                             /* candidate must be an object */
    "42[\"ice\"]",                               /* missing candidate */
    "42[\"create\"]",                            /* no room */
    "42[\"full\",{}]",                           /* room not a string */
    "42[\"bye\",[1]]",                           /* id not a string: still a bye */
    "451-[\"signal\",{\"_placeholder\":true,\"num\":0}]", /* binary event */
    "42/admin,[\"signal\",{}]",                  /* other namespace */
    "5",                                         /* upgrade on a websocket */
    "0{\"sid\":\"again\"}",                      /* second open */
    "42[\"error\",\"room name too long\"]",      /* server error event, string */
    "42[\"error\",{\"message\":\"slow down\"}]", /* server error event, object */
    "42[\"weather\",\"rain\",2]",                /* unknown event */
    "4217[\"call\"]",                            /* ack requested: delivered anyway */
    "42[\"signal\",{\"type\":\"offer\",\"sdp\":\"v=0\"}]", /* and a good one at the end */
    NULL,
  };
  g_autoptr(Fake) fake = fake_new (FAKE_NORMAL, NULL);
  g_autofree char *url = fake_url (fake, "http");
  g_autoptr(PeercamTestRecorder) r = peercam_test_recorder_new (url);
  g_autoptr(GString) deep = g_string_new ("42[\"signal\",");
  guint expected_errors = 17;  /* every script line but the last five */

  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');

  fake->after_connect = garbage;
  peercam_signaling_client_set_reconnect (r->client, FALSE);
  peercam_test_recorder_connect (r);
  g_assert_true (WAIT_UNTIL (r->signals->len == 1, WAIT_MS));

  /* Deep nesting and a binary frame after the script. */
  fake_send (fake_last_conn (fake), deep->str);
  soup_websocket_connection_send_binary (fake_last_conn (fake), "\x00\x01", 2);
  fake_send (fake_last_conn (fake), "42[\"ice\",{\"candidate\":\"c\",\"sdpMLineIndex\":0}]");
  g_assert_true (WAIT_UNTIL (r->ices->len == 1, WAIT_MS));
  expected_errors += 2;

  for (guint i = 0; i < r->errors->len; i++)
    g_assert_error (peercam_test_recorder_error_at (r, i), PEERCAM_SIGNALING_CLIENT_ERROR,
                    PEERCAM_SIGNALING_CLIENT_ERROR_PROTOCOL);
  g_assert_cmpuint (r->errors->len, ==, expected_errors);

  g_assert_cmpuint (r->server_errors->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (r->server_errors, 0), ==, "room name too long");
  g_assert_cmpstr (g_ptr_array_index (r->server_errors, 1), ==, "slow down");
  g_assert_cmpuint (r->events->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (r->events, 0), ==, "weather:[\"rain\",2]");
  g_assert_cmpuint (r->byes->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (r->byes, 0), ==, "");
  g_assert_cmpuint (r->calls, ==, 1);
  g_assert_cmpuint (r->signals->len, ==, 1);
  g_assert_cmpstr (peercam_test_member_string (g_ptr_array_index (r->signals, 0), "type"), ==, "offer");
  g_assert_cmpstr (peercam_test_member_string (g_ptr_array_index (r->ices, 0), "candidate"), ==, "c");

  /* Still connected and answering pings: garbage is reported, not fatal. */
  g_assert_cmpint (peercam_test_recorder_state (r), ==, PEERCAM_SIGNALING_STATE_CONNECTED);
  fake_send (fake_last_conn (fake), "2");
  g_assert_true (WAIT_UNTIL (fake_count (fake, "3") == 1, WAIT_MS));
}

static void
test_fake_connect_error (void)
{
  g_autoptr(Fake) fake = fake_new (FAKE_REFUSE, NULL);
  g_autofree char *url = fake_url (fake, "http");
  g_autoptr(PeercamTestRecorder) r = peercam_test_recorder_new (url);

  /* Reconnect stays on: an auth failure must still not loop. */
  peercam_signaling_client_set_token (r->client, "wrong");
  peercam_test_recorder_connect (r);
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_FAILED, WAIT_MS));
  g_assert_cmpuint (r->errors->len, ==, 1);
  g_assert_error (peercam_test_recorder_error_at (r, 0), PEERCAM_SIGNALING_CLIENT_ERROR,
                  PEERCAM_SIGNALING_CLIENT_ERROR_AUTH);
  g_assert_nonnull (strstr ((peercam_test_recorder_error_at (r, 0))->message, "bad token"));

  spin (700);
  g_assert_cmpuint (fake->n_connections, ==, 1);
  g_assert_false (peercam_test_recorder_saw_state (r, PEERCAM_SIGNALING_STATE_RECONNECTING));
}

static void
test_unreachable (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autoptr(PeercamTestRecorder) r = NULL;

  /* Bind a port without listening: connections to it are refused. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  address = g_inet_socket_address_new (loopback, 0);
  g_assert_true (g_socket_bind (socket, address, FALSE, &error));
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("http://127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));

  r = peercam_test_recorder_new (url);
  peercam_signaling_client_set_reconnect (r->client, FALSE);
  peercam_test_recorder_connect (r);
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_FAILED, WAIT_MS));
  g_assert_cmpuint (r->errors->len, ==, 1);
  g_assert_error (peercam_test_recorder_error_at (r, 0), G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);

  /* Sending now is an error, not a silent drop. */
  {
    g_autoptr(JsonNode) description = peercam_test_json ("{\"type\":\"offer\",\"sdp\":\"v=0\"}");

    g_assert_false (peercam_signaling_client_send_signal (r->client, description));
    g_assert_true (peercam_test_recorder_has_error (r, PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_NOT_CONNECTED));
  }
}

static GTlsCertificate *
test_certificate (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "signaling-client-test.pem", NULL);
  GTlsCertificate *certificate = g_tls_certificate_new_from_file (path, &error);

  g_assert_no_error (error);
  return certificate;
}

static void
test_fake_tls (void)
{
  /* openssl x509 -fingerprint -sha256 of tests/signaling-client-test.pem */
  static const char *pem_fingerprint =
    "04:F6:61:3F:0A:A5:34:0C:36:47:5B:AB:B5:49:4F:40:92:AE:0E:4D:30:AF:D6:D0:86:87:B2:D3:E0:88:02:06";
  g_autoptr(GTlsCertificate) certificate = test_certificate ();
  g_autoptr(Fake) fake = fake_new (FAKE_NORMAL, certificate);
  g_autofree char *url = fake_url (fake, "https");
  g_autofree char *wss_url = fake_url (fake, "wss");
  g_autofree char *fingerprint = peercam_signaling_client_certificate_fingerprint (certificate);
  g_autofree char *wrong = g_strdup (fingerprint);

  g_assert_cmpuint (strlen (fingerprint), ==, 64);
  wrong[0] = wrong[0] == '0' ? '1' : '0';

  /* Self-signed and not pinned: normal trust refuses it, and no retry. */
  {
    g_autoptr(PeercamTestRecorder) r = peercam_test_recorder_new (url);

    peercam_test_recorder_connect (r);
    g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_FAILED, WAIT_MS));
    g_assert_cmpuint (r->errors->len, ==, 1);
    g_assert_cmpuint ((peercam_test_recorder_error_at (r, 0))->domain, ==, G_TLS_ERROR);
    g_assert_false (peercam_test_recorder_saw_state (r, PEERCAM_SIGNALING_STATE_RECONNECTING));
  }

  /* Pinned to another certificate. */
  {
    g_autoptr(PeercamTestRecorder) r = peercam_test_recorder_new (url);

    peercam_signaling_client_set_pinned_certificate (r->client, wrong);
    peercam_test_recorder_connect (r);
    g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_FAILED, WAIT_MS));
    g_assert_cmpuint (r->errors->len, ==, 1);
    g_assert_error (peercam_test_recorder_error_at (r, 0), PEERCAM_SIGNALING_CLIENT_ERROR,
                    PEERCAM_SIGNALING_CLIENT_ERROR_CERTIFICATE);
    g_assert_nonnull (strstr ((peercam_test_recorder_error_at (r, 0))->message, fingerprint));
  }

  /* Pinned to this one, in openssl's colon form: accepted, over wss://. */
  {
    g_autoptr(PeercamTestRecorder) r = peercam_test_recorder_new (wss_url);

    peercam_signaling_client_set_pinned_certificate (r->client, pem_fingerprint);
    peercam_test_recorder_connect (r);
    peercam_test_recorder_join (r, "tls");
    g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_JOINED, WAIT_MS));
    g_assert_cmpuint (r->errors->len, ==, 0);
    g_assert_cmpuint (r->created->len, ==, 1);
  }
}

static void
test_fake_reconnect_and_queue (void)
{
  g_autoptr(Fake) fake = fake_new (FAKE_NORMAL, NULL);
  g_autofree char *url = fake_url (fake, "http");
  g_autoptr(PeercamTestRecorder) r = peercam_test_recorder_new (url);
  g_autoptr(JsonNode) description = peercam_test_json ("{\"type\":\"offer\",\"sdp\":\"v=0\"}");
  g_autoptr(JsonNode) candidate = peercam_test_json ("{\"candidate\":\"c1\",\"sdpMLineIndex\":0}");
  guint first_join;
  guint i_join = 0, i_signal = 0, i_ice = 0;

  peercam_test_recorder_connect (r);
  peercam_test_recorder_join (r, "again");
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_JOINED, WAIT_MS));
  first_join = fake_count (fake, "42[\"create or join\",\"again\"]");
  g_assert_cmpuint (first_join, ==, 1);

  /* The server drops us; what we send meanwhile waits for the re-join. */
  fake_close_all (fake);
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_RECONNECTING, WAIT_MS));
  g_assert_true (peercam_signaling_client_send_signal (r->client, description));
  g_assert_true (peercam_signaling_client_send_ice (r->client, candidate));

  g_assert_true (WAIT_UNTIL (fake_count (fake, "42[\"ice\"") == 1, WAIT_MS));
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_JOINED, WAIT_MS));
  g_assert_cmpuint (fake->n_connections, ==, 2);
  g_assert_cmpuint (r->created->len, ==, 2);
  g_assert_cmpuint (fake_count (fake, "42[\"create or join\",\"again\"]"), ==, 2);
  g_assert_cmpuint (fake_count (fake, "42[\"signal\",{\"type\":\"offer\",\"sdp\":\"v=0\"}]"), ==, 1);

  /* Order on the wire: re-join, then the queued messages in order. */
  for (guint i = 0; i < fake->received->len; i++)
    {
      const char *text = g_ptr_array_index (fake->received, i);

      if (g_str_has_prefix (text, "42[\"create or join\""))
        i_join = i;
      else if (g_str_has_prefix (text, "42[\"signal\""))
        i_signal = i;
      else if (g_str_has_prefix (text, "42[\"ice\""))
        i_ice = i;
    }
  g_assert_cmpuint (i_join, <, i_signal);
  g_assert_cmpuint (i_signal, <, i_ice);

  /* The outage was reported once. */
  g_assert_cmpuint (r->errors->len, ==, 1);
  g_assert_error (peercam_test_recorder_error_at (r, 0), PEERCAM_SIGNALING_CLIENT_ERROR,
                  PEERCAM_SIGNALING_CLIENT_ERROR_CLOSED);
}

static void
test_fake_queue_overflow (void)
{
  g_autoptr(Fake) fake = fake_new (FAKE_NO_OPEN, NULL);
  g_autofree char *url = fake_url (fake, "http");
  g_autoptr(PeercamTestRecorder) r = peercam_test_recorder_new (url);
  g_autoptr(JsonNode) candidate = peercam_test_json ("{\"candidate\":\"c\",\"sdpMLineIndex\":0}");

  peercam_test_recorder_connect (r);
  peercam_test_recorder_join (r, "slow");
  g_assert_true (WAIT_UNTIL (fake->n_connections == 1, WAIT_MS));
  g_assert_cmpint (peercam_test_recorder_state (r), ==, PEERCAM_SIGNALING_STATE_CONNECTING);

  for (guint i = 0; i < 256; i++)
    g_assert_true (peercam_signaling_client_send_ice (r->client, candidate));
  g_assert_cmpuint (r->errors->len, ==, 0);

  g_assert_false (peercam_signaling_client_send_ice (r->client, candidate));
  g_assert_cmpuint (r->errors->len, ==, 1);
  g_assert_error (peercam_test_recorder_error_at (r, 0), PEERCAM_SIGNALING_CLIENT_ERROR,
                  PEERCAM_SIGNALING_CLIENT_ERROR_QUEUE_FULL);

  /* Giving up reports what was still waiting. */
  peercam_signaling_client_disconnect (r->client);
  g_assert_cmpint (peercam_test_recorder_state (r), ==, PEERCAM_SIGNALING_STATE_DISCONNECTED);
  g_assert_cmpuint (r->errors->len, ==, 2);
  g_assert_nonnull (strstr ((peercam_test_recorder_error_at (r, 1))->message, "256"));
  g_assert_null (peercam_signaling_client_get_room (r->client));
  g_assert_cmpuint (fake->received->len, ==, 0);
}

static void
note_peer_present (PeercamSession *session,
                   GParamSpec     *pspec,
                   gboolean       *seen_present)
{
  *seen_present |= peercam_session_get_peer_present (session);
}

/* An answer slower than the client's wait: the client counts itself in
 * (a joiner of the reference relay hears nothing), then the late `create`
 * says it is alone after all. A caller session that called on that guess
 * hangs the call up, and calls afresh when a viewer does arrive. */
static void
test_fake_late_create (void)
{
  g_autoptr(Fake) fake = fake_new (FAKE_LATE_CREATE, NULL);
  g_autofree char *url = fake_url (fake, "http");
  g_autoptr(PeercamTestRecorder) r = peercam_test_recorder_new (url);
  g_autoptr(PeercamSession) session = peercam_session_new (PEERCAM_SESSION_ROLE_CALLER);
  PeercamCallEngine *engine = peercam_session_get_engine (session);
  const char *loopback[] = { "127.0.0.1", NULL };
  g_autoptr(GError) error = NULL;
  gboolean seen_present = FALSE;
  guint offers;
  gint64 asked;

  peercam_test_recorder_connect (r);
  peercam_test_recorder_join (r, "late");
  asked = g_get_monotonic_time ();
  g_assert_true (WAIT_UNTIL (r->joined->len == 1, WAIT_MS));
  g_assert_cmpint (g_get_monotonic_time () - asked, >=, 1000 * 1000);
  g_assert_cmpint (peercam_test_recorder_state (r), ==, PEERCAM_SIGNALING_STATE_JOINED);
  g_assert_cmpuint (r->created->len, ==, 0);
  g_assert_true (WAIT_UNTIL (r->created->len == 1, WAIT_MS));
  g_assert_cmpstr (g_ptr_array_index (r->created, 0), ==, "late");
  g_assert_cmpuint (r->joined->len, ==, 1);
  g_assert_cmpuint (r->errors->len, ==, 0);
  peercam_signaling_client_disconnect (r->client);

  g_signal_connect (session, "notify::peer-present", G_CALLBACK (note_peer_present), &seen_present);
  peercam_call_engine_set_source (engine, "test");
  peercam_call_engine_set_ice_addresses (engine, loopback);
  peercam_session_set_auto_call (session, TRUE);
  g_assert_true (peercam_session_start_local_video (session, &error));
  g_assert_no_error (error);
  g_assert_true (peercam_session_join (session, url, "late", NULL, NULL, &error));
  g_assert_no_error (error);

  /* The guess: someone is in the room; the caller calls. (Sampled through
   * notify: on a loaded machine the late answer may already be in when
   * the test looks.) */
  g_assert_true (WAIT_UNTIL (seen_present, WAIT_MS));
  /* The late answer, 1 s after the guess: nobody was. The call made on the
   * guess is hung up; its offer went out only if webrtcbin made it within
   * that second (its first offer makes a DTLS certificate: under
   * AddressSanitizer on a loaded machine it did not), never twice. */
  g_assert_true (WAIT_UNTIL (!peercam_session_get_peer_present (session), WAIT_MS));
  g_assert_true (WAIT_UNTIL (peercam_call_engine_get_state (engine) == PEERCAM_CALL_STATE_PREVIEW, WAIT_MS));
  offers = fake_count (fake, "42[\"signal\",{\"type\":\"offer\"");
  g_assert_cmpuint (offers, <=, 1);
  spin (500);
  g_assert_cmpuint (fake_count (fake, "42[\"signal\",{\"type\":\"offer\""), ==, offers);
  g_assert_cmpint (peercam_call_engine_get_state (engine), ==, PEERCAM_CALL_STATE_PREVIEW);

  /* A viewer arrives: a fresh offer. */
  for (guint i = 0; i < fake->conns->len; i++)
    fake_send (g_ptr_array_index (fake->conns, i), "42[\"call\"]");
  g_assert_true (WAIT_UNTIL (fake_count (fake, "42[\"signal\",{\"type\":\"offer\"") == offers + 1, WAIT_MS));
  g_assert_cmpint (peercam_call_engine_get_state (engine), ==, PEERCAM_CALL_STATE_CALLING);

  peercam_session_leave (session);
}

/* ------------------------------------------------------------------------ */
/* Tests: the embedded server                                                */

static PeercamTestRecorder *
joined_client (const char *url, const char *room)
{
  PeercamTestRecorder *r = peercam_test_recorder_new (url);

  peercam_test_recorder_connect (r);
  peercam_test_recorder_join (r, room);
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_JOINED ||
                             r->full->len > 0, WAIT_MS));
  return r;
}

static void
test_server_rooms (void)
{
  g_autoptr(PeercamSignalingServer) server = server_start (0, NULL);
  g_autofree char *url = server_url (server);
  g_autoptr(PeercamTestRecorder) a = NULL;
  g_autoptr(PeercamTestRecorder) b = NULL;
  g_autoptr(PeercamTestRecorder) c = NULL;
  g_autoptr(PeercamTestRecorder) d = NULL;
  g_autoptr(JsonNode) offer = peercam_test_json ("{\"type\":\"offer\",\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n\"}");
  g_autoptr(JsonNode) answer = peercam_test_json ("{\"type\":\"answer\",\"sdp\":\"v=0\\r\\n\"}");
  g_autoptr(JsonNode) cand_a = peercam_test_json ("{\"candidate\":\"candidate:1 1 udp 1 127.0.0.1 5000 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}");
  g_autoptr(JsonNode) cand_b = peercam_test_json ("{\"candidate\":\"candidate:2 1 udp 1 127.0.0.1 5001 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}");
  g_autofree char *a_id = NULL;
  g_autofree char *b_id = NULL;

  a = joined_client (url, "kitchen");
  g_assert_cmpuint (a->created->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (a->created, 0), ==, "kitchen");
  g_assert_cmpstr (peercam_signaling_client_get_room (a->client), ==, "kitchen");
  g_assert_nonnull (peercam_signaling_client_get_id (a->client));
  a_id = g_strdup (peercam_signaling_client_get_id (a->client));

  b = joined_client (url, "kitchen");
  g_assert_cmpuint (b->joined->len, ==, 1);
  g_assert_cmpuint (b->created->len, ==, 0);
  g_assert_true (WAIT_UNTIL (a->calls == 1, WAIT_MS));
  g_assert_cmpuint (b->calls, ==, 0);
  b_id = g_strdup (peercam_signaling_client_get_id (b->client));
  g_assert_cmpstr (a_id, !=, b_id);

  c = joined_client (url, "kitchen");
  g_assert_cmpuint (c->full->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (c->full, 0), ==, "kitchen");
  g_assert_null (peercam_signaling_client_get_room (c->client));
  g_assert_cmpint (peercam_test_recorder_state (c), ==, PEERCAM_SIGNALING_STATE_CONNECTED);

  d = joined_client (url, "garage");
  g_assert_cmpuint (d->created->len, ==, 1);

  /* Relay both ways. */
  peercam_test_recorder_exchange (a, b, offer, cand_a, answer, cand_b, WAIT_MS);

  /* Other rooms see nothing, and send nothing our way. */
  g_assert_true (peercam_signaling_client_send_signal (d->client, offer));
  spin (200);
  g_assert_cmpuint (d->signals->len, ==, 0);
  g_assert_cmpuint (d->ices->len, ==, 0);
  g_assert_cmpuint (c->signals->len, ==, 0);
  g_assert_cmpuint (a->signals->len, ==, 1);
  g_assert_cmpuint (b->signals->len, ==, 1);
  g_assert_cmpuint (a->errors->len + b->errors->len + c->errors->len + d->errors->len, ==, 0);

  /* An event the server does not know comes back as its "error" event. */
  g_assert_true (peercam_signaling_client_emit (d->client, "nonsense", NULL));
  g_assert_true (WAIT_UNTIL (d->server_errors->len == 1, WAIT_MS));
  g_assert_nonnull (strstr (g_ptr_array_index (d->server_errors, 0), "nonsense"));

  /* An explicit bye carries the sender's id. */
  g_assert_true (peercam_signaling_client_send_bye (a->client));
  g_assert_true (WAIT_UNTIL (b->byes->len == 1, WAIT_MS));
  g_assert_cmpstr (g_ptr_array_index (b->byes, 0), ==, a_id);

  /* A peer that leaves is a bye too. */
  peercam_signaling_client_disconnect (b->client);
  g_assert_cmpint (peercam_test_recorder_state (b), ==, PEERCAM_SIGNALING_STATE_DISCONNECTED);
  g_assert_null (peercam_signaling_client_get_id (b->client));
  g_assert_true (WAIT_UNTIL (a->byes->len == 1, WAIT_MS));
  g_assert_cmpstr (g_ptr_array_index (a->byes, 0), ==, b_id);
  g_assert_cmpuint (d->byes->len, ==, 0);
  g_assert_true (WAIT_UNTIL (peercam_signaling_server_get_n_connections (server) == 3, WAIT_MS));
  g_assert_cmpuint (b->errors->len, ==, 0);
}

static void
test_server_token (void)
{
  g_autoptr(PeercamSignalingServer) server = server_start (0, "let-me-in");
  g_autofree char *url = server_url (server);
  static const char *wrong[] = { "nope", NULL };

  {
    g_autoptr(PeercamTestRecorder) r = peercam_test_recorder_new (url);

    peercam_signaling_client_set_token (r->client, "let-me-in");
    peercam_test_recorder_connect (r);
    peercam_test_recorder_join (r, "vault");
    g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_JOINED, WAIT_MS));
    g_assert_cmpuint (r->errors->len, ==, 0);
  }

  for (guint i = 0; i < G_N_ELEMENTS (wrong); i++)
    {
      g_autoptr(PeercamTestRecorder) r = peercam_test_recorder_new (url);

      peercam_signaling_client_set_token (r->client, wrong[i]);
      peercam_test_recorder_connect (r);
      peercam_test_recorder_join (r, "vault");
      g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_FAILED, WAIT_MS));
      g_assert_cmpuint (r->errors->len, ==, 1);
      g_assert_error (peercam_test_recorder_error_at (r, 0), PEERCAM_SIGNALING_CLIENT_ERROR,
                      PEERCAM_SIGNALING_CLIENT_ERROR_AUTH);
      g_test_message ("token %s: %s", wrong[i] ? wrong[i] : "(none)",
                      (peercam_test_recorder_error_at (r, 0))->message);
      /* No retry loop for a refused token. */
      spin (600);
      g_assert_false (peercam_test_recorder_saw_state (r, PEERCAM_SIGNALING_STATE_RECONNECTING));
      g_assert_cmpint (peercam_test_recorder_state (r), ==, PEERCAM_SIGNALING_STATE_FAILED);
      g_assert_cmpuint (r->created->len, ==, 0);
    }
}

static void
test_server_restart (void)
{
  g_autoptr(PeercamSignalingServer) server = server_start (0, NULL);
  g_autofree char *url = server_url (server);
  guint port = peercam_signaling_server_get_port (server);
  g_autoptr(PeercamTestRecorder) a = joined_client (url, "porch");
  g_autoptr(PeercamTestRecorder) b = joined_client (url, "porch");
  g_autoptr(JsonNode) from_a = peercam_test_json ("{\"type\":\"offer\",\"sdp\":\"from a while down\"}");
  g_autoptr(JsonNode) from_b = peercam_test_json ("{\"type\":\"offer\",\"sdp\":\"from b while down\"}");
  g_autoptr(JsonNode) after = peercam_test_json ("{\"type\":\"answer\",\"sdp\":\"after\"}");
  g_autoptr(GError) error = NULL;
  PeercamTestRecorder *first;
  JsonNode *second_sent;
  guint a_created_before;

  g_assert_true (WAIT_UNTIL (a->calls == 1, WAIT_MS));
  a_created_before = a->created->len;

  peercam_signaling_server_stop (server);
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (a) == PEERCAM_SIGNALING_STATE_RECONNECTING &&
                             peercam_test_recorder_state (b) == PEERCAM_SIGNALING_STATE_RECONNECTING, WAIT_MS));
  g_assert_null (peercam_signaling_client_get_id (a->client));
  g_assert_cmpstr (peercam_signaling_client_get_room (a->client), ==, "porch");

  /* Sent while the server is down: queued, not lost. */
  g_assert_true (peercam_signaling_client_send_signal (a->client, from_a));
  g_assert_true (peercam_signaling_client_send_signal (b->client, from_b));
  spin (300);

  peercam_signaling_server_set_port (server, port);
  g_assert_true (peercam_signaling_server_start (server, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (peercam_signaling_server_get_port (server), ==, port);

  /* Backoff is at most 5 s plus jitter. */
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (a) == PEERCAM_SIGNALING_STATE_JOINED &&
                             peercam_test_recorder_state (b) == PEERCAM_SIGNALING_STATE_JOINED, 15000));
  g_assert_cmpuint (a->created->len + a->joined->len, ==, 2);
  g_assert_cmpuint (b->created->len + b->joined->len, ==, 2);

  /* The relay only reaches members present at the time: the queue of the
   * client that re-joined second reaches the first one. */
  if (a->created->len == a_created_before + 1)
    first = a, second_sent = from_b;
  else
    first = b, second_sent = from_a;
  g_assert_true (WAIT_UNTIL (first->signals->len >= 1, WAIT_MS));
  g_assert_true (json_node_equal (g_ptr_array_index (first->signals, first->signals->len - 1), second_sent));

  /* And fresh messages flow again both ways. */
  {
    guint na = a->signals->len, nb = b->signals->len;

    g_assert_true (peercam_signaling_client_send_signal (a->client, after));
    g_assert_true (peercam_signaling_client_send_signal (b->client, after));
    g_assert_true (WAIT_UNTIL (a->signals->len == na + 1 && b->signals->len == nb + 1, WAIT_MS));
  }

  /* Each client reported the outage once, as a closed connection. */
  g_assert_cmpuint (a->errors->len, ==, 1);
  g_assert_cmpuint (b->errors->len, ==, 1);
  g_assert_true (peercam_test_recorder_saw_state (a, PEERCAM_SIGNALING_STATE_RECONNECTING));
}

static void
test_server_pings (void)
{
  g_autoptr(PeercamSignalingServer) server = peercam_signaling_server_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autoptr(PeercamTestRecorder) r = NULL;

  /* A fast-pinging server: the client must answer every ping in time and
   * must not mistake the short deadline for a dead server. */
  g_object_set (server, "bind-address", "127.0.0.1", "ping-interval", 100, "ping-timeout", 100, NULL);
  g_assert_true (peercam_signaling_server_start (server, &error));
  g_assert_no_error (error);
  url = server_url (server);

  r = joined_client (url, "busy");
  spin (1200);
  g_assert_cmpint (peercam_test_recorder_state (r), ==, PEERCAM_SIGNALING_STATE_JOINED);
  g_assert_cmpuint (r->errors->len, ==, 0);
  g_assert_cmpuint (peercam_signaling_server_get_n_connections (server), ==, 1);
  g_assert_false (peercam_test_recorder_saw_state (r, PEERCAM_SIGNALING_STATE_RECONNECTING));

  /* Now the server goes away without a close: stop it and the client
   * notices either the close or, at the latest, the missing pings. */
  peercam_signaling_client_set_reconnect (r->client, FALSE);
  peercam_signaling_server_stop (server);
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (r) == PEERCAM_SIGNALING_STATE_FAILED, 1000));
}

int
main (int argc, char *argv[])
{
  /* libproxy throws C++ exceptions that ASan cannot intercept in a C
   * program; these tests only talk to loopback anyway. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  peercam_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signaling-client/url-validation", test_url_validation);
  g_test_add_func ("/signaling-client/properties", test_properties);
  g_test_add_func ("/signaling-client/fake/ping-pong", test_fake_ping_pong);
  g_test_add_func ("/signaling-client/fake/token-sent", test_fake_token_sent);
  g_test_add_func ("/signaling-client/fake/server-disconnect", test_fake_server_disconnect);
  g_test_add_func ("/signaling-client/fake/lifecycle", test_fake_lifecycle);
  g_test_add_func ("/signaling-client/fake/dead-server", test_fake_dead_server);
  g_test_add_func ("/signaling-client/fake/garbage", test_fake_garbage);
  g_test_add_func ("/signaling-client/fake/connect-error", test_fake_connect_error);
  g_test_add_func ("/signaling-client/fake/tls-pinning", test_fake_tls);
  g_test_add_func ("/signaling-client/fake/reconnect-and-queue", test_fake_reconnect_and_queue);
  g_test_add_func ("/signaling-client/fake/queue-overflow", test_fake_queue_overflow);
  g_test_add_func ("/signaling-client/fake/late-create", test_fake_late_create);
  g_test_add_func ("/signaling-client/unreachable", test_unreachable);
  g_test_add_func ("/signaling-client/server/rooms", test_server_rooms);
  g_test_add_func ("/signaling-client/server/token", test_server_token);
  g_test_add_func ("/signaling-client/server/restart", test_server_restart);
  g_test_add_func ("/signaling-client/server/pings", test_server_pings);

  return g_test_run ();
}
