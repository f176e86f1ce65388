/* test-invite.c — invite links: what the host shows is what Join parses
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "peercam-invite.h"

#define PIN "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

static void
test_round_trip (void)
{
  g_autoptr(PeercamInvite) invite = peercam_invite_new ("https://192.168.1.20:8443", "kitchen table", "s3cret&=#", PIN);
  g_autofree char *link = peercam_invite_to_string (invite);
  g_autoptr(PeercamInvite) parsed = NULL;
  g_autoptr(GError) error = NULL;

  /* Room in the query for the pages; token and pin in the fragment. */
  g_assert_true (g_str_has_prefix (link, "https://192.168.1.20:8443/?room=kitchen%20table#token="));
  g_assert_nonnull (strstr (link, "&pin=" PIN));
  g_assert_null (strstr (link, "s3cret&"));

  parsed = peercam_invite_parse (link, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (parsed->server_url, ==, "https://192.168.1.20:8443");
  g_assert_cmpstr (parsed->room, ==, "kitchen table");
  g_assert_cmpstr (parsed->token, ==, "s3cret&=#");
  g_assert_cmpstr (parsed->pin, ==, PIN);
}

static void
test_plain_address (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PeercamInvite) invite = peercam_invite_parse ("  http://[::1]:8080  ", &error);
  g_autofree char *link = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (invite->server_url, ==, "http://[::1]:8080");
  g_assert_null (invite->room);
  g_assert_null (invite->token);
  g_assert_null (invite->pin);
  link = peercam_invite_to_string (invite);
  g_assert_cmpstr (link, ==, "http://[::1]:8080/");
}

static void
test_peercam_scheme (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PeercamInvite) secure = peercam_invite_parse ("peercam://10.0.0.2:8443/?room=a#pin=" PIN, &error);
  g_autoptr(PeercamInvite) plain = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (secure->server_url, ==, "https://10.0.0.2:8443");
  plain = peercam_invite_parse ("peercam://10.0.0.2:8080/userB?room=b#token=t", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (plain->server_url, ==, "http://10.0.0.2:8080");
  g_assert_cmpstr (plain->room, ==, "b");
  g_assert_cmpstr (plain->token, ==, "t");
}

static void
test_bad_links (void)
{
  static const char *bad[] = {
    "",
    "not a link",
    "ftp://host/",
    "http:///?room=x",
    "http://host:8080/socket.io/",
    "http://host:8080/#pin=AB:CD",           /* cut short */
    "http://host:8080/#pin=" PIN "ZZ",
    "http://host:8080/?room=%zz",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PeercamInvite) invite = peercam_invite_parse (bad[i], &error);

      g_test_message ("%s → %s", bad[i], error ? error->message : "(parsed)");
      g_assert_null (invite);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/invite/round-trip", test_round_trip);
  g_test_add_func ("/invite/plain-address", test_plain_address);
  g_test_add_func ("/invite/peercam-scheme", test_peercam_scheme);
  g_test_add_func ("/invite/bad-links", test_bad_links);

  return g_test_run ();
}
