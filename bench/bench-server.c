/* bench-server.c — PeercamSignalingServer alone, for bench-signaling
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Starts the embedded signaling server on 127.0.0.1 (ephemeral port unless
 * --port) and prints {"event":"hosting","port":N} as the first stdout line,
 * like `peercam --host-only --events`. Unlike the app it lifts
 * max-connections (the app keeps the default of 1000), so 10 000 clients
 * can be held. It stops by itself when stdin closes (the benchmark went
 * away), on SIGINT/SIGTERM, or after --lifetime seconds.
 */
#include "peercam-signaling-server.h"

#include <glib-unix.h>
#include <stdio.h>
#include <unistd.h>

static gboolean
quit_cb (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gboolean
stdin_cb (gint fd, GIOCondition condition, gpointer loop)
{
  char buf[256];

  if ((condition & G_IO_IN) && read (fd, buf, sizeof buf) > 0)
    return G_SOURCE_CONTINUE;
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  gint port = 0, ping_interval = 25000, ping_timeout = 20000, lifetime = 600;
  gint max_connections = 1000000;
  g_autofree char *bind = NULL;
  GOptionEntry entries[] = {
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "Port (0: ephemeral)", "N" },
    { "bind", 0, 0, G_OPTION_ARG_STRING, &bind, "Address (default 127.0.0.1)", "ADDR" },
    { "ping-interval", 0, 0, G_OPTION_ARG_INT, &ping_interval, "Engine.IO pingInterval (ms)", "MS" },
    { "ping-timeout", 0, 0, G_OPTION_ARG_INT, &ping_timeout, "Engine.IO pingTimeout (ms)", "MS" },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &max_connections, "Session limit", "N" },
    { "lifetime", 0, 0, G_OPTION_ARG_INT, &lifetime, "Exit after this many seconds", "S" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- Peercam signaling server for benchmarks");
  g_autoptr(GError) error = NULL;
  g_autoptr(PeercamSignalingServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  server = peercam_signaling_server_new ();
  g_object_set (server,
                "bind-address", bind ? bind : "127.0.0.1",
                "port", (guint) port,
                "ping-interval", (guint) ping_interval,
                "ping-timeout", (guint) ping_timeout,
                "max-connections", (guint) max_connections,
                "max-pending-per-address", 0u,  /* every client is 127.0.0.1 */
                NULL);
  if (!peercam_signaling_server_start (server, &error))
    {
      g_printerr ("bench-server: %s\n", error->message);
      return 1;
    }
  port = (gint) peercam_signaling_server_get_port (server);

  printf ("{\"event\":\"hosting\",\"port\":%d,\"pid\":%d}\n", port, (int) getpid ());
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_cb, loop);
  g_timeout_add_seconds ((guint) lifetime, quit_cb, loop);
  g_main_loop_run (loop);

  peercam_signaling_server_stop (server);
  return 0;
}
