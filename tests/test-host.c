/* test-host.c — hosting a room (core/peercam-host): the server it starts on
 * loopback, the links it hands out, and a port already taken
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-host-private.h"
#include "peercam-invite.h"

#include <string.h>

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              guint      *count)
{
  (*count)++;
}

static void
test_start_stop (void)
{
  g_autoptr(PeercamHost) host = peercam_host_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *local = NULL;
  g_autoptr(PeercamInvite) invite = NULL;
  g_auto(GStrv) invites = NULL;
  guint running_notifies = 0;

  g_signal_connect (host, "notify::running", G_CALLBACK (count_notify), &running_notifies);
  peercam_host_set_port (host, 0);
  peercam_host_set_bind_address (host, "127.0.0.1");
  peercam_host_set_token (host, "secret");
  g_assert_false (peercam_host_get_running (host));
  g_assert_null (peercam_host_get_server (host));
  g_assert_null (peercam_host_dup_local_url (host));

  g_assert_true (peercam_host_start (host, &error));
  g_assert_no_error (error);
  g_assert_true (peercam_host_get_running (host));
  g_assert_cmpuint (running_notifies, ==, 1);
  g_assert_cmpuint (peercam_host_get_port (host), >, 0);
  g_assert_nonnull (peercam_host_get_server (host));
  g_assert_null (peercam_host_get_fingerprint (host));   /* no TLS */

  url = peercam_host_dup_local_url (host);
  expected = g_strdup_printf ("http://127.0.0.1:%u", peercam_host_get_port (host));
  g_assert_cmpstr (url, ==, expected);

  /* Bound to loopback: loopback is the one invite; it carries room and token. */
  invites = peercam_host_dup_invites (host, "kitchen");
  g_assert_cmpuint (g_strv_length (invites), ==, 1);
  invite = peercam_invite_parse (invites[0], &error);
  g_assert_no_error (error);
  g_assert_cmpstr (invite->server_url, ==, expected);
  g_assert_cmpstr (invite->room, ==, "kitchen");
  g_assert_cmpstr (invite->token, ==, "secret");
  g_assert_null (invite->pin);
  local = peercam_host_dup_local_invite (host, "kitchen");
  g_assert_cmpstr (local, ==, invites[0]);

  /* A second start is a no-op while running. */
  g_assert_true (peercam_host_start (host, &error));
  g_assert_cmpuint (running_notifies, ==, 1);

  peercam_host_stop (host);
  g_assert_false (peercam_host_get_running (host));
  g_assert_cmpuint (running_notifies, ==, 2);
  g_assert_null (peercam_host_dup_local_url (host));
  g_clear_pointer (&invites, g_strfreev);
  invites = peercam_host_dup_invites (host, "kitchen");
  g_assert_cmpuint (g_strv_length (invites), ==, 0);
}

static void
test_empty_token (void)
{
  g_autoptr(PeercamHost) host = peercam_host_new ();

  peercam_host_set_token (host, "");
  g_assert_null (peercam_host_get_token (host));
  peercam_host_set_token (host, "t");
  g_assert_cmpstr (peercam_host_get_token (host), ==, "t");
  peercam_host_set_token (host, NULL);
  g_assert_null (peercam_host_get_token (host));
}

static void
test_port_in_use (void)
{
  g_autoptr(PeercamHost) first = peercam_host_new ();
  g_autoptr(PeercamHost) second = peercam_host_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *port = NULL;

  peercam_host_set_port (first, 0);
  peercam_host_set_bind_address (first, "127.0.0.1");
  g_assert_true (peercam_host_start (first, &error));
  g_assert_no_error (error);

  peercam_host_set_port (second, peercam_host_get_port (first));
  peercam_host_set_bind_address (second, "127.0.0.1");
  g_assert_false (peercam_host_start (second, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  /* The message names the port, in words a user understands. */
  port = g_strdup_printf ("%u", peercam_host_get_port (first));
  g_assert_nonnull (strstr (error->message, port));
  g_assert_nonnull (strstr (error->message, "already in use"));
  g_assert_false (peercam_host_get_running (second));
  g_assert_null (peercam_host_get_server (second));
}

static void
test_tls (void)
{
  g_autoptr(PeercamHost) host = peercam_host_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *local = NULL;
  g_autoptr(PeercamInvite) invite = NULL;

  peercam_host_set_port (host, 0);
  peercam_host_set_bind_address (host, "127.0.0.1");
  peercam_host_set_tls (host, TRUE);
  g_assert_true (peercam_host_start (host, &error));
  g_assert_no_error (error);

  g_assert_nonnull (peercam_host_get_fingerprint (host));
  url = peercam_host_dup_local_url (host);
  g_assert_true (g_str_has_prefix (url, "https://127.0.0.1:"));
  local = peercam_host_dup_local_invite (host, "room");
  invite = peercam_invite_parse (local, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (invite->pin, ==, peercam_host_get_fingerprint (host));

  peercam_host_stop (host);
  g_assert_null (peercam_host_get_fingerprint (host));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/host/start-stop", test_start_stop);
  g_test_add_func ("/host/empty-token", test_empty_token);
  g_test_add_func ("/host/port-in-use", test_port_in_use);
  g_test_add_func ("/host/tls", test_tls);

  return g_test_run ();
}
