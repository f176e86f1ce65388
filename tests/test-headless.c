/* test-headless.c — the peercam binary end to end, in three processes:
 * `--host-only` server, `--headless --viewer`, `--headless --caller --call`,
 * talking over loopback. Checks the --events stream of each.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "peercam-fake-portal.h"

typedef struct {
  GSubprocess      *process;
  GDataInputStream *out;
  GPtrArray        *events;     /* JsonObject */
  GCancellable     *cancellable;
  gboolean          eof;
  char             *name;
} Proc;

static const char *peercam_path;

static void read_next (Proc *proc);

/* A failed assertion aborts the test; its peercam children must not outlive
 * it (they would hold the test's stderr open until meson's timeout). */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
on_line (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  Proc *proc = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL, &error);
  g_autoptr(JsonParser) parser = json_parser_new ();

  if (line == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        proc->eof = TRUE;
      return;
    }

  g_test_message ("%s: %s", proc->name, line);
  if (json_parser_load_from_data (parser, line, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    g_ptr_array_add (proc->events, json_object_ref (json_node_get_object (json_parser_get_root (parser))));
  else
    g_test_message ("%s: not JSON: %s", proc->name, line);

  read_next (proc);
}

static void
read_next (Proc *proc)
{
  g_data_input_stream_read_line_async (proc->out, G_PRIORITY_DEFAULT, proc->cancellable, on_line, proc);
}

static Proc *
proc_spawn (const char *name,
            ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  Proc *proc = g_new0 (Proc, 1);
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, (gpointer) peercam_path);
  va_start (args, name);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  proc->name = g_strdup (name);
  proc->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  proc->cancellable = g_cancellable_new ();
  {
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

    g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
    proc->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  }
  g_assert_no_error (error);
  proc->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc->process));
  read_next (proc);

  return proc;
}

static void
proc_free (Proc *proc)
{
  if (proc == NULL)
    return;

  g_cancellable_cancel (proc->cancellable);
  g_subprocess_force_exit (proc->process);
  g_subprocess_wait (proc->process, NULL, NULL);
  /* Let the cancelled read complete before its data goes away. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&proc->out);
  g_clear_object (&proc->process);
  g_clear_object (&proc->cancellable);
  g_ptr_array_unref (proc->events);
  g_free (proc->name);
  g_free (proc);
}

static JsonObject *
find_event (Proc       *proc,
            const char *name,
            guint       from)
{
  for (guint i = from; i < proc->events->len; i++)
    {
      JsonObject *event = g_ptr_array_index (proc->events, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (event, "event", ""), name) == 0)
        return event;
    }
  return NULL;
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Waits for event @name (after index @from) in @proc's output. */
static JsonObject *
wait_event (Proc       *proc,
            const char *name,
            guint       from,
            guint       timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, timeout_cb, &timed_out);
  JsonObject *event;

  while ((event = find_event (proc, name, from)) == NULL && !timed_out && !proc->eof)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);

  if (event == NULL)
    g_test_message ("%s: no “%s” event (eof=%d, timed out=%d)", proc->name, name, proc->eof, timed_out);
  return event;
}

/* Frames flow when one of the next three stats reports some (the figure
 * itself depends on how loaded the machine is; the bench measures it). */
static gboolean
frames_flow (Proc *proc)
{
  for (guint i = 0; i < 3; i++)
    {
      JsonObject *event = wait_event (proc, "stats", proc->events->len, 10000);

      if (event == NULL)
        return FALSE;
      if (json_object_get_double_member (event, "fps") > 1 &&
          json_object_get_double_member (event, "kbps") > 0)
        return TRUE;
    }
  return FALSE;
}

static char *
start_server (Proc **server)
{
  JsonObject *hosting;

  *server = proc_spawn ("server", "--host-only", "--port", "0", "--bind", "127.0.0.1", "--events", NULL);
  hosting = wait_event (*server, "hosting", 0, 10000);
  g_assert_nonnull (hosting);
  g_assert_cmpint (json_object_get_int_member (hosting, "port"), >, 0);

  return g_strdup_printf ("http://127.0.0.1:%" G_GINT64_FORMAT, json_object_get_int_member (hosting, "port"));
}

/* The sender starts in the format the start rate carries (a rung of the
 * 1280x720 test source's ladder) and climbs with the estimate. */
static void
assert_ladder_size (gint64 width,
                    gint64 height)
{
  g_assert_cmpint (width, >=, 320);
  g_assert_cmpint (width, <=, 1280);
  g_assert_cmpint (width * 9, ==, height * 16);
}

/* The width of the newest frame in the frame log; 0: none yet. */
static int
last_frame_width (const char *path)
{
  g_autofree char *text = NULL;
  const char *last;
  int width = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  g_strchomp (text);
  last = strrchr (text, '\n');
  last = last ? last + 1 : text;
  if (sscanf (last, "%*s %d", &width) != 1)
    return 0;
  return width;
}

/* On loopback the fast start reaches the source's 1280x720: wait for it, a
 * stats tick at a time (bounded; the time it takes is the bench's). */
static void
wait_full_size (Proc       *viewer,
                const char *frame_log)
{
  for (guint i = 0; i < 10 && last_frame_width (frame_log) != 1280; i++)
    g_assert_nonnull (wait_event (viewer, "stats", viewer->events->len, 10000));
  g_assert_cmpint (last_frame_width (frame_log), ==, 1280);
}

/* One "T_US WIDTH HEIGHT" line per frame, from the first frame on, in order;
 * the size only grows (a clean link) up to 1280x720, where it ends. */
static void
check_frame_log (const char *path,
                 gint64      first_frame_ms)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  gint64 previous = 0;
  int previous_width = 0, width = 0;
  guint n = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++, n++)
    {
      gint64 t_us;
      int height;

      g_assert_cmpint (sscanf (lines[i], "%" G_GINT64_FORMAT " %d %d", &t_us, &width, &height), ==, 3);
      assert_ladder_size (width, height);
      g_assert_cmpint (width, >=, previous_width);
      previous_width = width;
      g_assert_cmpint (t_us, >=, previous);
      if (i == 0)
        g_assert_cmpint (ABS (t_us / 1000 - first_frame_ms), <=, 100);
      previous = t_us;
    }
  g_assert_cmpint (width, ==, 1280);
  g_test_message ("frame log: %u frames, the first %s", n, lines[0]);
  /* frames_flow() saw a stats tick with frames: at least a second of video
   * (10 frames leaves room for a slow, sanitized build). */
  g_assert_cmpuint (n, >=, 10);
}

static void
test_call (void)
{
  Proc *server = NULL, *viewer = NULL, *caller = NULL;
  g_autofree char *url = start_server (&server);
  g_autofree char *dir = g_dir_make_tmp ("peercam-headless-XXXXXX", NULL);
  g_autofree char *frame_log = g_build_filename (dir, "frames.log", NULL);
  JsonObject *event;
  guint mark;

  /* The viewer also logs each frame (tools/bench network reads it). */
  g_setenv ("PEERCAM_FRAME_LOG", frame_log, TRUE);
  viewer = proc_spawn ("viewer", "--headless", "--viewer", "--server", url, "--room", "t1",
                       "--ice-address", "127.0.0.1", "--events", NULL);
  g_unsetenv ("PEERCAM_FRAME_LOG");
  g_assert_nonnull (wait_event (viewer, "joined", 0, 10000));

  caller = proc_spawn ("caller", "--headless", "--caller", "--server", url, "--room", "t1",
                       "--source", "test", "--call", "--ice-address", "127.0.0.1", "--events", NULL);
  g_assert_nonnull (wait_event (caller, "joined", 0, 10000));
  g_assert_nonnull (wait_event (caller, "peer-joined", 0, 10000));
  g_assert_nonnull (wait_event (caller, "calling", 0, 10000));
  g_assert_nonnull (wait_event (caller, "connected", 0, 20000));

  event = wait_event (viewer, "first-frame", 0, 20000);
  g_assert_nonnull (event);
  assert_ladder_size (json_object_get_int_member (event, "width"),
                      json_object_get_int_member (event, "height"));
  g_assert_cmpint (json_object_get_int_member (event, "t_ms"), >, 0);

  /* Stats come every 2 s; frames are flowing, and reach full size. */
  g_assert_true (frames_flow (viewer));
  wait_full_size (viewer, frame_log);
  check_frame_log (frame_log, json_object_get_int_member (event, "t_ms"));

  /* What a check across a change reads (issue 15): the viewer's frames
   * shown, its longest wait, what it lost; the caller's frames into the
   * encoder. */
  {
    JsonObject *stats = wait_event (viewer, "stats", viewer->events->len, 10000);
    JsonObject *sent = wait_event (caller, "stats", caller->events->len, 10000);

    g_assert_nonnull (stats);
    g_assert_nonnull (sent);
    g_assert_cmpint (json_object_get_int_member (stats, "frames"), >=, 10);
    g_assert_cmpfloat (json_object_get_double_member (stats, "max_gap_ms"), >, 0);
    g_assert_cmpfloat (json_object_get_double_member (stats, "max_gap_ms"), <, 2000);
    g_assert_cmpint (json_object_get_int_member_with_default (stats, "packets_lost", -1), >=, 0);
    g_assert_cmpint (json_object_get_int_member_with_default (stats, "frames_undecoded", -1), >=, 0);
    g_assert_cmpint (json_object_get_int_member (sent, "frames"), >=, json_object_get_int_member (stats, "frames"));
    g_assert_false (json_object_has_member (sent, "max_gap_ms"));
  }

  /* The server dies mid-call: the media keeps flowing, as with the demo. */
  g_subprocess_send_signal (server->process, SIGTERM);
  g_assert_true (g_subprocess_wait (server->process, NULL, NULL));
  mark = viewer->events->len;
  g_assert_true (frames_flow (viewer));
  g_assert_null (find_event (viewer, "bye", mark));
  /* and stays at full size */
  check_frame_log (frame_log, json_object_get_int_member (event, "t_ms"));

  proc_free (caller);
  proc_free (viewer);
  proc_free (server);
  g_assert_cmpint (g_unlink (frame_log), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* A frame log that cannot be written is an error, not silence. */
static void
test_frame_log_unwritable (void)
{
  Proc *viewer;
  JsonObject *event;

  g_setenv ("PEERCAM_FRAME_LOG", "/nonexistent-dir/frames.log", TRUE);
  viewer = proc_spawn ("viewer", "--headless", "--viewer", "--server", "http://127.0.0.1:1",
                       "--events", NULL);
  g_unsetenv ("PEERCAM_FRAME_LOG");
  event = wait_event (viewer, "error", 0, 10000);
  g_assert_nonnull (event);
  g_assert_nonnull (strstr (json_object_get_string_member (event, "message"), "/nonexistent-dir/frames.log"));
  g_assert_true (g_subprocess_wait (viewer->process, NULL, NULL));
  g_assert_cmpint (g_subprocess_get_exit_status (viewer->process), ==, 1);
  proc_free (viewer);
}

static void
test_peer_killed (void)
{
  Proc *server = NULL, *viewer = NULL, *caller = NULL;
  g_autofree char *url = start_server (&server);

  viewer = proc_spawn ("viewer", "--headless", "--viewer", "--server", url, "--room", "t2",
                       "--ice-address", "127.0.0.1", "--events", NULL);
  g_assert_nonnull (wait_event (viewer, "joined", 0, 10000));
  caller = proc_spawn ("caller", "--headless", "--caller", "--server", url, "--room", "t2",
                       "--source", "test", "--call", "--ice-address", "127.0.0.1", "--events", NULL);
  g_assert_nonnull (wait_event (viewer, "first-frame", 0, 30000));

  /* Killed, not asked: the server says bye on the caller's behalf. */
  g_subprocess_force_exit (caller->process);
  g_assert_nonnull (wait_event (viewer, "bye", 0, 10000));

  /* A new caller gets through to the same viewer. */
  proc_free (caller);
  caller = proc_spawn ("caller2", "--headless", "--caller", "--server", url, "--room", "t2",
                       "--source", "test", "--call", "--ice-address", "127.0.0.1", "--events", NULL);
  g_assert_nonnull (wait_event (caller, "connected", 0, 30000));
  g_assert_nonnull (find_event (viewer, "bye", 0));
  {
    guint after_bye = 0;

    for (guint i = 0; i < viewer->events->len; i++)
      if (g_str_equal (json_object_get_string_member (g_ptr_array_index (viewer->events, i), "event"), "bye"))
        after_bye = i + 1;
    g_assert_nonnull (wait_event (viewer, "first-frame", after_bye, 30000));
  }

  proc_free (caller);
  proc_free (viewer);
  proc_free (server);
}

static guint
count_events (Proc       *proc,
              const char *name)
{
  guint n = 0;

  for (guint i = 0; i < proc->events->len; i++)
    if (g_strcmp0 (json_object_get_string_member_with_default (g_ptr_array_index (proc->events, i), "event", ""), name) == 0)
      n++;
  return n;
}

static void
spin_ms (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* A caller asked to stop hangs up by leaving: the room hears one bye, with
 * the caller's id, not the caller's own and then the server's. */
static void
test_sigterm_one_bye (void)
{
  Proc *server = NULL, *viewer = NULL, *caller = NULL;
  g_autofree char *url = start_server (&server);
  g_autoptr(GError) error = NULL;
  JsonObject *joined, *bye;

  viewer = proc_spawn ("viewer", "--headless", "--viewer", "--server", url, "--room", "t3",
                       "--ice-address", "127.0.0.1", "--events", NULL);
  g_assert_nonnull (wait_event (viewer, "joined", 0, 10000));
  caller = proc_spawn ("caller", "--headless", "--caller", "--server", url, "--room", "t3",
                       "--source", "test", "--call", "--ice-address", "127.0.0.1", "--events", NULL);
  joined = wait_event (caller, "joined", 0, 10000);
  g_assert_nonnull (joined);
  g_assert_nonnull (wait_event (viewer, "first-frame", 0, 30000));

  g_subprocess_send_signal (caller->process, SIGTERM);
  g_assert_true (g_subprocess_wait (caller->process, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (caller->process), ==, 0);

  bye = wait_event (viewer, "bye", 0, 5000);
  g_assert_nonnull (bye);
  g_assert_cmpstr (json_object_get_string_member (bye, "id"), ==,
                   json_object_get_string_member (joined, "id"));
  /* A second bye would come right behind the first. */
  spin_ms (1500);
  g_assert_cmpuint (count_events (viewer, "bye"), ==, 1);

  proc_free (caller);
  proc_free (viewer);
  proc_free (server);
}

/* ---- the reference relay (tests/interop/reference-relay-server.js) ----- */

/* Starts node on the reference relay and returns its URL, or NULL (the test
 * skipped) when node or socket.io@4.4.1 is missing. */
static char *
start_reference_relay (GSubprocess **relay)
{
  const char *modules = g_getenv ("PEERCAM_REFERENCE_NODE_PATH");
  g_autofree char *node = g_find_program_in_path ("node");
  g_autofree char *module = modules ? g_build_filename (modules, "socket.io", "package.json", NULL) : NULL;
  g_autofree char *script = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "interop",
                                              "reference-relay-server.js", NULL);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  guint64 port;

  if (node == NULL || module == NULL || !g_file_test (module, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("node or socket.io@4.4.1 (PEERCAM_REFERENCE_NODE_PATH) is not installed; tools/test installs them");
      return NULL;
    }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  *relay = g_subprocess_launcher_spawn (launcher, &error, node, script, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (*relay));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_ascii_string_to_unsigned (line, 10, 1, 65535, &port, &error));

  return g_strdup_printf ("http://127.0.0.1:%" G_GUINT64_FORMAT, port);
}

static void
stop_reference_relay (GSubprocess *relay)
{
  g_subprocess_force_exit (relay);
  g_subprocess_wait (relay, NULL, NULL);
  g_object_unref (relay);
}

/* A Peercam caller and viewer through the reference relay, which answers
 * only the room's creator and relays only into the room named "room". */
static void
test_reference_relay (gconstpointer data)
{
  gboolean viewer_first = GPOINTER_TO_INT (data);
  GSubprocess *relay = NULL;
  g_autofree char *url = start_reference_relay (&relay);
  Proc *viewer = NULL, *caller = NULL, *first, **second;
  JsonObject *joined, *event;

  if (url == NULL)
    return;

#define SPAWN_VIEWER() proc_spawn ("viewer", "--headless", "--viewer", "--server", url, "--room", "room", \
                                   "--ice-address", "127.0.0.1", "--events", NULL)
#define SPAWN_CALLER() proc_spawn ("caller", "--headless", "--caller", "--server", url, "--room", "room", \
                                   "--source", "test", "--call", "--ice-address", "127.0.0.1", "--events", NULL)
  if (viewer_first)
    first = viewer = SPAWN_VIEWER (), second = &caller;
  else
    first = caller = SPAWN_CALLER (), second = &viewer;

  joined = wait_event (first, "joined", 0, 10000);
  g_assert_nonnull (joined);
  g_assert_true (json_object_get_boolean_member (joined, "first"));

  *second = viewer_first ? SPAWN_CALLER () : SPAWN_VIEWER ();
  /* No answer comes for the second: it finds out it is in by itself. */
  joined = wait_event (*second, "joined", 0, 10000);
  g_assert_nonnull (joined);
  g_assert_false (json_object_get_boolean_member (joined, "first"));

  g_assert_nonnull (wait_event (caller, "calling", 0, 10000));
  g_assert_nonnull (wait_event (caller, "connected", 0, 20000));
  event = wait_event (viewer, "first-frame", 0, 20000);
  g_assert_nonnull (event);
  assert_ladder_size (json_object_get_int_member (event, "width"),
                      json_object_get_int_member (event, "height"));
  g_assert_true (frames_flow (viewer));
  g_assert_null (find_event (caller, "error", 0));
  g_assert_null (find_event (viewer, "error", 0));
#undef SPAWN_VIEWER
#undef SPAWN_CALLER

  proc_free (caller);
  proc_free (viewer);
  stop_reference_relay (relay);
}

static void
test_sigterm_clean (void)
{
  Proc *server = NULL;
  g_autofree char *url = start_server (&server);
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (server->process, SIGTERM);
  g_assert_true (g_subprocess_wait (server->process, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (server->process));
  g_assert_cmpint (g_subprocess_get_exit_status (server->process), ==, 0);
  g_assert_nonnull (wait_event (server, "quit", 0, 2000));
  proc_free (server);
}

static void
test_unreachable_server (void)
{
  Proc *viewer;
  JsonObject *event;

  /* Port 1 on loopback: nothing listens, the error is reported. */
  viewer = proc_spawn ("viewer", "--headless", "--viewer", "--server", "http://127.0.0.1:1",
                       "--events", NULL);
  event = wait_event (viewer, "error", 0, 10000);
  g_assert_nonnull (event);
  g_assert_cmpstr (json_object_get_string_member (event, "message"), !=, "");
  proc_free (viewer);
}

/* ---- early exit (issue 13 item 8) ---------------------------------------- */

/* Waits (bounded) for @proc to exit on its own; FALSE if it had to be killed. */
static gboolean
proc_wait_exit (Proc  *proc,
                guint  timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, timeout_cb, &timed_out);

  while (!timed_out && !proc->eof)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  if (timed_out)
    return FALSE;
  g_assert_true (g_subprocess_wait (proc->process, NULL, NULL));
  return TRUE;
}

/* A client that stops right after start used to die with SIGSEGV when exit()
 * ran OpenSSL's cleanup while the warm-up thread was still making DTLS
 * elements: a wrong --pin against a TLS server crashed 8 of 20 runs, no pin
 * 6 of 10, a wrong token 1 of 10. Each must exit with status 1 and say why. */
static void
test_early_exit (void)
{
  static const char wrong_pin[] =
    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
  Proc *server;
  JsonObject *hosting;
  g_autofree char *url = NULL;
  const char *pin;
  const guint runs = 21;

  server = proc_spawn ("server", "--host-only", "--tls", "--token", "secret", "--port", "0",
                       "--bind", "127.0.0.1", "--events", NULL);
  hosting = wait_event (server, "hosting", 0, 20000);
  g_assert_nonnull (hosting);
  url = g_strdup_printf ("https://127.0.0.1:%" G_GINT64_FORMAT, json_object_get_int_member (hosting, "port"));
  pin = json_object_get_string_member (hosting, "fingerprint");

  for (guint i = 0; i < runs; i++)
    {
      g_autofree char *name = g_strdup_printf ("client%u", i);
      const char *role = i % 2 ? "--caller" : "--viewer";
      Proc *client;
      JsonObject *error;

      switch (i % 3)
        {
        case 0:   /* wrong pin */
          client = proc_spawn (name, "--headless", role, "--source", "test", "--server", url,
                               "--pin", wrong_pin, "--token", "secret",
                               "--ice-address", "127.0.0.1", "--events", NULL);
          break;
        case 1:   /* no pin for a self-signed certificate */
          client = proc_spawn (name, "--headless", role, "--source", "test", "--server", url,
                               "--token", "secret", "--ice-address", "127.0.0.1", "--events", NULL);
          break;
        default:  /* the right pin, a wrong token */
          client = proc_spawn (name, "--headless", role, "--source", "test", "--server", url,
                               "--pin", pin, "--token", "wrong",
                               "--ice-address", "127.0.0.1", "--events", NULL);
          break;
        }

      g_assert_true (proc_wait_exit (client, 20000));
      g_assert_false (g_subprocess_get_if_signaled (client->process));
      g_assert_true (g_subprocess_get_if_exited (client->process));
      g_assert_cmpint (g_subprocess_get_exit_status (client->process), ==, 1);
      error = find_event (client, "error", 0);
      g_assert_nonnull (error);
      g_assert_cmpstr (json_object_get_string_member (error, "message"), !=, "");
      proc_free (client);
    }
  proc_free (server);
}

/* --source screen: the desktop's ScreenCast portal (the fake, on a bus of
 * its own) asks first; without one the caller says so and exits 1, with
 * one the screen (a test source in pipewiresrc's place) reaches a viewer. */
static void
test_screen (void)
{
  g_autofree char *outer_bus = g_strdup (g_getenv ("DBUS_SESSION_BUS_ADDRESS"));
  GTestDBus *bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  Proc *caller, *viewer;
  JsonObject *event;
  g_autofree char *url = NULL;

  g_test_dbus_up (bus);

  caller = proc_spawn ("caller", "--headless", "--caller", "--server", "http://127.0.0.1:1",
                       "--source", "screen", "--events", NULL);
  event = wait_event (caller, "error", 0, 10000);
  g_assert_nonnull (event);
  g_assert_nonnull (strstr (json_object_get_string_member (event, "message"), "ScreenCast portal"));
  g_assert_true (proc_wait_exit (caller, 10000));
  g_assert_cmpint (g_subprocess_get_exit_status (caller->process), ==, 1);
  proc_free (caller);

  peercam_fake_portal_start (g_test_dbus_get_bus_address (bus));
  g_setenv ("PEERCAM_TEST_SCREENCAST_SOURCE",
            "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1", TRUE);
  caller = proc_spawn ("caller", "--headless", "--caller", "--host", "--port", "0", "--bind", "127.0.0.1",
                       "--room", "screen", "--source", "screen", "--call", "--ice-address", "127.0.0.1",
                       "--events", NULL);
  g_unsetenv ("PEERCAM_TEST_SCREENCAST_SOURCE");
  event = wait_event (caller, "hosting", 0, 10000);
  g_assert_nonnull (event);
  url = g_strdup_printf ("http://127.0.0.1:%" G_GINT64_FORMAT, json_object_get_int_member (event, "port"));
  viewer = proc_spawn ("viewer", "--headless", "--viewer", "--server", url, "--room", "screen",
                       "--ice-address", "127.0.0.1", "--events", NULL);
  event = wait_event (viewer, "first-frame", 0, 30000);
  g_assert_nonnull (event);
  g_assert_cmpint (json_object_get_int_member (event, "width"), >, 0);
  g_assert_cmpint (peercam_fake_portal_get_screencast_calls ("Start"), ==, 1);
  g_assert_cmpint (peercam_fake_portal_get_screencast_calls ("OpenPipeWireRemote"), ==, 1);
  g_assert_null (find_event (caller, "error", 0));

  proc_free (viewer);
  proc_free (caller);
  peercam_fake_portal_stop ();
  g_test_dbus_down (bus);
  g_object_unref (bus);
  /* The other cases' children use the outer session bus again. */
  if (outer_bus != NULL)
    g_setenv ("DBUS_SESSION_BUS_ADDRESS", outer_bus, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  peercam_path = g_getenv ("PEERCAM_BIN");
  g_assert_nonnull (peercam_path);

  g_test_add_func ("/headless/sigterm-clean", test_sigterm_clean);
  g_test_add_func ("/headless/unreachable-server", test_unreachable_server);
  g_test_add_func ("/headless/frame-log-unwritable", test_frame_log_unwritable);
  g_test_add_func ("/headless/call", test_call);
  g_test_add_func ("/headless/peer-killed", test_peer_killed);
  g_test_add_func ("/headless/sigterm-one-bye", test_sigterm_one_bye);
  g_test_add_data_func ("/headless/reference-relay/viewer-first", GINT_TO_POINTER (TRUE), test_reference_relay);
  g_test_add_data_func ("/headless/reference-relay/caller-first", GINT_TO_POINTER (FALSE), test_reference_relay);
  g_test_add_func ("/headless/early-exit", test_early_exit);
  g_test_add_func ("/headless/screen", test_screen);

  return g_test_run ();
}
