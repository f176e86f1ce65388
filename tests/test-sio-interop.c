/* test-sio-interop.c — the stock socket.io-client 4 against our server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Starts the server on 127.0.0.1 port 0 and runs tests/interop/stock-client.js
 * with node (NODE_PATH from the test environment). Exit code 77 (meson's
 * skip) when node or socket.io-client is not installed.
 */
#include "peercam-signaling-server.h"

#define TIMEOUT_S 60

static void
wait_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  gboolean *done = data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *done = TRUE;
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
client_module_available (const char *node)
{
  const char *argv[] = { node, "-e", "require.resolve('socket.io-client')", NULL };
  g_autoptr(GSubprocess) probe = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, NULL);

  return probe != NULL && g_subprocess_wait (probe, NULL, NULL) && g_subprocess_get_successful (probe);
}

int
main (int argc, char **argv)
{
  g_autoptr(PeercamSignalingServer) server = NULL;
  g_autoptr(GSubprocess) node_process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *node = g_find_program_in_path ("node");
  g_autofree char *script = NULL;
  g_autofree char *url = NULL;
  const char *srcdir = g_getenv ("G_TEST_SRCDIR");
  gboolean done = FALSE, timed_out = FALSE;
  guint timeout_id;
  int status;

  if (node == NULL || !client_module_available (node))
    {
      g_print ("# SKIP node/socket.io-client not installed "
               "(npm install --prefix .cache/node socket.io@4 socket.io-client@4)\n");
      return 77;
    }

  script = g_build_filename (srcdir ? srcdir : "tests", "interop", "stock-client.js", NULL);
  server = g_object_new (PEERCAM_TYPE_SIGNALING_SERVER, "bind-address", "127.0.0.1", NULL);
  if (!peercam_signaling_server_start (server, &error))
    g_error ("cannot start the server: %s", error->message);
  url = g_strdup_printf ("http://127.0.0.1:%u", peercam_signaling_server_get_port (server));

  node_process = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, node, script, url, NULL);
  if (node_process == NULL)
    g_error ("cannot run node: %s", error->message);

  /* The server runs on this thread: wait without blocking it. */
  g_subprocess_wait_async (node_process, NULL, wait_done_cb, &done);
  timeout_id = g_timeout_add_seconds (TIMEOUT_S, timeout_cb, &timed_out);
  while (!done && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!done)
    {
      g_printerr ("stock client timed out after %d s\n", TIMEOUT_S);
      g_subprocess_force_exit (node_process);
      return 1;
    }
  g_source_remove (timeout_id);

  status = g_subprocess_get_if_exited (node_process) ? g_subprocess_get_exit_status (node_process) : 1;
  peercam_signaling_server_stop (server);
  g_print ("%s - stock socket.io-client 4 (exit %d)\n", status == 0 ? "ok" : "not ok", status);
  return status == 0 ? 0 : 1;
}
