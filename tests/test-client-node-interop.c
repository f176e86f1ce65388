/* test-client-node-interop.c — PeercamSignalingClient against the stock
 * socket.io@4 relay (tests/interop/demo-relay-server.js under node)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Needs node and the socket.io package on NODE_PATH; skips (exit 77) loudly
 * when either is missing.
 */
#include <string.h>

#include "peercam-sio-signaller.h"
#include "peercam-test-recorder.h"
#include "peercam-test-wait.h"

#define WAIT_MS 10000

/* A client of @url that has connected and asked to join @room. */
static PeercamTestRecorder *
peer_new (const char *url,
          const char *room)
{
  PeercamTestRecorder *p = peercam_test_recorder_new (url);

  peercam_test_recorder_connect (p);
  peercam_test_recorder_join (p, room);
  return p;
}

/* ------------------------------------------------------------------------ */

/* A node relay script and the URL it listens on. */
typedef struct {
  GSubprocess *process;
  char *url;
} Relay;

static Relay demo_relay;        /* demo-relay-server.js: the kinder relay */
static Relay reference_relay;   /* reference-relay-server.js: socket.io 4.4.1, as is */

static void
on_port_line (GObject *source, GAsyncResult *result, gpointer user_data)
{
  char **line = user_data;
  g_autoptr(GError) error = NULL;

  *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL, &error);
  if (*line == NULL)
    *line = g_strdup ("");
}

static void
skip (const char *why)
{
  g_print ("1..0 # SKIP %s\n", why);
  g_printerr ("# SKIP %s\n", why);
  exit (77);
}

static gboolean
module_installed (const char *dir,
                  const char *module)
{
  g_autofree char *path = NULL;

  if (dir == NULL)
    return FALSE;
  path = g_build_filename (dir, module, "package.json", NULL);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* Starts node on @script_name; the port is the first line it prints. */
static void
start_relay (Relay      *relay,
             const char *script_name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *node = g_find_program_in_path ("node");
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "interop", script_name, NULL);
  g_autofree char *line = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  guint64 port;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  /* Fast pings so the client's pong path runs against the stock server too. */
  g_subprocess_launcher_setenv (launcher, "PEERCAM_DEMO_PING_INTERVAL", "300", TRUE);
  g_subprocess_launcher_setenv (launcher, "PEERCAM_DEMO_PING_TIMEOUT", "300", TRUE);
  relay->process = g_subprocess_launcher_spawn (launcher, &error, node, script, NULL);
  g_assert_no_error (error);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (relay->process));
  g_data_input_stream_read_line_async (out, G_PRIORITY_DEFAULT, NULL, on_port_line, &line);
  g_assert_true (WAIT_UNTIL (line != NULL, WAIT_MS));
  g_assert_true (g_ascii_string_to_unsigned (line, 10, 1, 65535, &port, &error));
  g_assert_no_error (error);

  relay->url = g_strdup_printf ("http://127.0.0.1:%" G_GUINT64_FORMAT, port);
  g_test_message ("%s at %s", script_name, relay->url);
}

static void
on_node_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *exited = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *exited = TRUE;
}

static void
stop_relay (Relay *relay)
{
  gboolean exited = FALSE;

  if (relay->process == NULL)
    return;

  /* Closing stdin asks the script to exit; the force is a fallback. */
  g_subprocess_wait_async (relay->process, NULL, on_node_exited, &exited);
  g_output_stream_close (g_subprocess_get_stdin_pipe (relay->process), NULL, NULL);
  if (!WAIT_UNTIL (exited, 2000))
    {
      g_subprocess_force_exit (relay->process);
      g_assert_true (WAIT_UNTIL (exited, 2000));
    }
  g_clear_object (&relay->process);
  g_clear_pointer (&relay->url, g_free);
}

static void
test_relay (void)
{
  g_autoptr(PeercamTestRecorder) a = peer_new (demo_relay.url, "den");
  g_autoptr(PeercamTestRecorder) b = NULL;
  g_autoptr(JsonNode) offer = peercam_test_json ("{\"type\":\"offer\",\"sdp\":\"v=0\\r\\no=- 46117 2 IN IP4 127.0.0.1\\r\\n\"}");
  g_autoptr(JsonNode) answer = peercam_test_json ("{\"type\":\"answer\",\"sdp\":\"v=0\\r\\n\"}");
  g_autoptr(JsonNode) cand_a = peercam_test_json ("{\"candidate\":\"candidate:1 1 udp 2122260223 127.0.0.1 35115 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0,\"usernameFragment\":\"abcd\"}");
  g_autoptr(JsonNode) cand_b = peercam_test_json ("{\"candidate\":\"candidate:2 1 udp 2122260223 127.0.0.1 35116 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}");
  g_autofree char *a_id = NULL;
  g_autofree char *b_id = NULL;

  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (a) == PEERCAM_SIGNALING_STATE_JOINED, WAIT_MS));
  g_assert_cmpuint (a->created->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (a->created, 0), ==, "den");
  a_id = g_strdup (peercam_signaling_client_get_id (a->client));
  g_assert_nonnull (a_id);

  b = peer_new (demo_relay.url, "den");
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (b) == PEERCAM_SIGNALING_STATE_JOINED, WAIT_MS));
  g_assert_cmpuint (b->joined->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (b->joined, 0), ==, "den");
  g_assert_cmpuint (b->created->len, ==, 0);
  g_assert_true (WAIT_UNTIL (a->calls == 1, WAIT_MS));
  b_id = g_strdup (peercam_signaling_client_get_id (b->client));
  g_assert_cmpstr (a_id, !=, b_id);

  peercam_test_recorder_exchange (a, b, offer, cand_a, answer, cand_b, WAIT_MS);

  /* Several ping rounds (300 + 300 ms) pass without a false alarm. */
  {
    gint64 until = g_get_monotonic_time () + 1000 * 1000;

    WAIT_UNTIL (g_get_monotonic_time () >= until, 1100);
    g_assert_cmpint (peercam_test_recorder_state (a), ==, PEERCAM_SIGNALING_STATE_JOINED);
    g_assert_cmpint (peercam_test_recorder_state (b), ==, PEERCAM_SIGNALING_STATE_JOINED);
  }

  /* An explicit bye carries the sender's id; the stock relay passes it on. */
  g_assert_true (peercam_signaling_client_send_bye (b->client));
  g_assert_true (WAIT_UNTIL (a->byes->len == 1, WAIT_MS));
  g_assert_cmpstr (g_ptr_array_index (a->byes, 0), ==, b_id);

  /* Leaving is a bye from the server. */
  peercam_signaling_client_disconnect (a->client);
  g_assert_true (WAIT_UNTIL (b->byes->len == 1, WAIT_MS));
  g_assert_cmpstr (g_ptr_array_index (b->byes, 0), ==, a_id);

  g_assert_cmpuint (a->errors->len, ==, 0);
  g_assert_cmpuint (b->errors->len, ==, 0);
}

static void
test_full (void)
{
  g_autoptr(PeercamTestRecorder) a = peer_new (demo_relay.url, "attic");
  g_autoptr(PeercamTestRecorder) b = peer_new (demo_relay.url, "attic");
  g_autoptr(PeercamTestRecorder) c = NULL;

  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (a) == PEERCAM_SIGNALING_STATE_JOINED &&
                             peercam_test_recorder_state (b) == PEERCAM_SIGNALING_STATE_JOINED, WAIT_MS));

  c = peer_new (demo_relay.url, "attic");
  g_assert_true (WAIT_UNTIL (c->full->len == 1, WAIT_MS));
  g_assert_cmpstr (g_ptr_array_index (c->full, 0), ==, "attic");
  g_assert_cmpuint (a->full->len + b->full->len, ==, 0);
  g_assert_cmpint (peercam_test_recorder_state (c), ==, PEERCAM_SIGNALING_STATE_CONNECTED);
  g_assert_null (peercam_signaling_client_get_room (c->client));
}

/* The reference relay answers only a room's creator; a joiner sends right
 * after its `create or join` and is in its room once a peer's message
 * reaches it (or no answer came). */
static void
test_reference_join_second (void)
{
  g_autoptr(PeercamTestRecorder) a = NULL;
  g_autoptr(PeercamTestRecorder) b = NULL;
  g_autoptr(JsonNode) offer = peercam_test_json ("{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}");
  g_autoptr(JsonNode) answer = peercam_test_json ("{\"type\":\"answer\",\"sdp\":\"v=0\\r\\n\"}");
  g_autoptr(JsonNode) cand = peercam_test_json ("{\"candidate\":\"candidate:1 1 udp 2122260223 127.0.0.1 35115 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}");

  if (reference_relay.url == NULL)
    {
      g_test_skip ("socket.io@4.4.1 is not installed under PEERCAM_REFERENCE_NODE_PATH (tools/test installs it)");
      return;
    }

  /* signal and ice go to the room named "room" only. */
  a = peer_new (reference_relay.url, "room");
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (a) == PEERCAM_SIGNALING_STATE_JOINED, WAIT_MS));
  g_assert_cmpuint (a->created->len, ==, 1);

  /* b's answer, sent before anything reached it, is not held back. */
  b = peer_new (reference_relay.url, "room");
  g_assert_true (WAIT_UNTIL (a->calls == 1, WAIT_MS));
  g_assert_cmpint (peercam_test_recorder_state (b), ==, PEERCAM_SIGNALING_STATE_CONNECTED);
  g_assert_true (peercam_signaling_client_send_signal (b->client, answer));
  g_assert_true (peercam_signaling_client_send_ice (b->client, cand));
  g_assert_true (WAIT_UNTIL (a->signals->len == 1 && a->ices->len == 1, WAIT_MS));
  g_assert_true (json_node_equal (g_ptr_array_index (a->signals, 0), answer));
  g_assert_true (json_node_equal (g_ptr_array_index (a->ices, 0), cand));
  g_assert_cmpint (peercam_test_recorder_state (b), ==, PEERCAM_SIGNALING_STATE_CONNECTED);

  /* A relayed message proves b's membership. */
  g_assert_true (peercam_signaling_client_send_signal (a->client, offer));
  g_assert_true (WAIT_UNTIL (b->signals->len == 1, WAIT_MS));
  g_assert_cmpint (peercam_test_recorder_state (b), ==, PEERCAM_SIGNALING_STATE_JOINED);
  g_assert_cmpuint (b->joined->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (b->joined, 0), ==, "room");
  g_assert_cmpuint (b->created->len, ==, 0);

  g_assert_cmpuint (a->errors->len, ==, 0);
  g_assert_cmpuint (b->errors->len, ==, 0);
}

/* The Socket.IO signaller on the relay that names nobody: every peer is
 * NULL ("the peer"), and the demo's JSON goes through unchanged both ways. */
static void
test_reference_signaller (void)
{
  g_autoptr(PeercamSignalingClient) ca = NULL;
  g_autoptr(PeercamSignalingClient) cb = NULL;
  g_autoptr(PeercamSioSignaller) a = NULL;
  g_autoptr(PeercamSioSignaller) b = NULL;
  g_autoptr(GError) error = NULL;
  PeercamTestSignallerLog la = { 0 }, lb = { 0 };
  g_autofree char *text_a = NULL, *text_b = NULL;

  if (reference_relay.url == NULL)
    {
      g_test_skip ("socket.io@4.4.1 is not installed under PEERCAM_REFERENCE_NODE_PATH (tools/test installs it)");
      return;
    }

  ca = peercam_signaling_client_new (reference_relay.url);
  cb = peercam_signaling_client_new (reference_relay.url);
  a = peercam_sio_signaller_new (ca, "room");
  b = peercam_sio_signaller_new (cb, "room");
  peercam_test_signaller_log_init (&la, a);
  peercam_test_signaller_log_init (&lb, b);
  g_assert_true (peercam_signaller_start (PEERCAM_SIGNALLER (a), &error));
  g_assert_true (WAIT_UNTIL (peercam_signaling_client_get_state (ca) == PEERCAM_SIGNALING_STATE_JOINED, WAIT_MS));
  g_assert_true (peercam_signaller_start (PEERCAM_SIGNALLER (b), &error));
  g_assert_no_error (error);
  /* a hears "call"; b hears nothing and counts as joined when the answer
   * a creator would have had is overdue. */
  g_assert_true (WAIT_UNTIL (la.events->len == 2 && lb.events->len == 2, WAIT_MS));

  peercam_signaller_send_description (PEERCAM_SIGNALLER (a), NULL, PEERCAM_DESCRIPTION_OFFER, "v=0\r\n");
  peercam_signaller_send_candidate (PEERCAM_SIGNALLER (a), NULL, 0, "0",
                                    "candidate:1 1 udp 2122260223 127.0.0.1 35115 typ host");
  g_assert_true (WAIT_UNTIL (lb.events->len == 4, WAIT_MS));
  peercam_signaller_send_description (PEERCAM_SIGNALLER (b), NULL, PEERCAM_DESCRIPTION_ANSWER, "v=0 answer");
  peercam_signaller_send_candidate (PEERCAM_SIGNALLER (b), NULL, -1, "0",
                                    "candidate:2 1 udp 2122260223 127.0.0.1 35116 typ host");
  g_assert_true (WAIT_UNTIL (la.events->len == 4, WAIT_MS));

  text_a = peercam_test_signaller_log_text (&la);
  text_b = peercam_test_signaller_log_text (&lb);
  g_assert_cmpstr (text_a, ==, "joined -|requested -|description - answer v=0 answer|"
                               "candidate - -1 0 candidate:2 1 udp 2122260223 127.0.0.1 35116 typ host");
  g_assert_cmpstr (text_b, ==, "joined -|requested -|description - offer v=0\r\n|"
                               "candidate - 0 0 candidate:1 1 udp 2122260223 127.0.0.1 35115 typ host");
  g_assert_cmpuint (la.errors->len, ==, 0);
  g_assert_cmpuint (lb.errors->len, ==, 0);

  peercam_signaller_stop (PEERCAM_SIGNALLER (b));
  peercam_signaller_stop (PEERCAM_SIGNALLER (a));
  peercam_test_signaller_log_clear (&la);
  peercam_test_signaller_log_clear (&lb);
}

/* Nothing reaches a joiner that only listens: it counts as joined once the
 * answer a creator would have had is overdue. */
static void
test_reference_silent_join (void)
{
  g_autoptr(PeercamTestRecorder) a = NULL;
  g_autoptr(PeercamTestRecorder) b = NULL;
  gint64 asked;

  if (reference_relay.url == NULL)
    {
      g_test_skip ("socket.io@4.4.1 is not installed under PEERCAM_REFERENCE_NODE_PATH (tools/test installs it)");
      return;
    }

  a = peer_new (reference_relay.url, "quiet");
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (a) == PEERCAM_SIGNALING_STATE_JOINED, WAIT_MS));
  b = peer_new (reference_relay.url, "quiet");
  asked = g_get_monotonic_time ();
  g_assert_true (WAIT_UNTIL (a->calls == 1, WAIT_MS));
  g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (b) == PEERCAM_SIGNALING_STATE_JOINED, 5000));
  g_assert_cmpint (g_get_monotonic_time () - asked, >=, 1000 * 1000);
  g_assert_cmpuint (b->joined->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (b->joined, 0), ==, "quiet");
  g_assert_cmpstr (g_ptr_array_index (b->joined, 0), ==, peercam_signaling_client_get_room (b->client));

  /* No capacity: a third member just joins, and both others hear of it. */
  {
    g_autoptr(PeercamTestRecorder) c = peer_new (reference_relay.url, "quiet");

    g_assert_true (WAIT_UNTIL (a->calls == 2 && b->calls == 1, WAIT_MS));
    g_assert_true (WAIT_UNTIL (peercam_test_recorder_state (c) == PEERCAM_SIGNALING_STATE_JOINED, 5000));
    g_assert_cmpuint (c->full->len, ==, 0);
  }
  g_assert_cmpuint (b->errors->len, ==, 0);
}

int
main (int argc, char *argv[])
{
  int ret;

  /* libproxy throws C++ exceptions that ASan cannot intercept in a C
   * program; these tests only talk to loopback anyway. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, NULL);

  {
    g_autofree char *node = g_find_program_in_path ("node");
    const char *node_path = g_getenv ("NODE_PATH");

    if (node == NULL)
      skip ("node is not installed: apt-get install nodejs");
    if (node_path == NULL)
      skip ("NODE_PATH is not set; run the tests through meson");
    if (!module_installed (node_path, "socket.io"))
      skip ("socket.io@4 is not installed under NODE_PATH: npm install --prefix .cache/node socket.io@4");
  }
  start_relay (&demo_relay, "demo-relay-server.js");
  if (module_installed (g_getenv ("PEERCAM_REFERENCE_NODE_PATH"), "socket.io"))
    start_relay (&reference_relay, "reference-relay-server.js");

  g_test_add_func ("/client-node-interop/relay", test_relay);
  g_test_add_func ("/client-node-interop/full", test_full);
  g_test_add_func ("/client-node-interop/reference/join-second", test_reference_join_second);
  g_test_add_func ("/client-node-interop/reference/silent-join", test_reference_silent_join);
  g_test_add_func ("/client-node-interop/reference/signaller", test_reference_signaller);

  ret = g_test_run ();
  stop_relay (&demo_relay);
  stop_relay (&reference_relay);

  return ret;
}
