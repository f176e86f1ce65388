/* test-options.c — command line parsing and validation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <glib/gstdio.h>

#include "peercam-options.h"

static PeercamOptions *
parse (GError **error, ...)
{
  g_autoptr(GVariantDict) dict = g_variant_dict_new (NULL);
  va_list args;
  const char *name;

  va_start (args, error);
  while ((name = va_arg (args, const char *)) != NULL)
    {
      const char *value = va_arg (args, const char *);

      if (g_str_equal (name, "ice-address") || g_str_equal (name, "allow-origin"))
        g_variant_dict_insert_value (dict, name, g_variant_new_strv ((const char *[]) { value, NULL }, 1));
      else if (value == NULL)
        g_variant_dict_insert (dict, name, "b", TRUE);
      else
        g_variant_dict_insert (dict, name, "s", value);
    }
  va_end (args);

  return peercam_options_new_from_dict (dict, error);
}

static void
test_defaults (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PeercamOptions) options = parse (&error, NULL);

  g_assert_no_error (error);
  g_assert_nonnull (options);
  g_assert_cmpint (options->mode, ==, PEERCAM_MODE_CALLER);
  g_assert_false (options->mode_given);
  g_assert_cmpint (options->port, ==, -1);
  g_assert_false (options->host);
  g_assert_null (options->server);
}

static void
test_good_values (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PeercamOptions) options = NULL;

  options = parse (&error,
                   "viewer", NULL,
                   "server", "https://192.168.1.20:8443",
                   "room", "kitchen",
                   "source", "test",
                   "port", "9000",
                   "bind", "::1",
                   "ice-address", "127.0.0.1",
                   "pin", "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
                   NULL);
  g_assert_no_error (error);
  g_assert_cmpint (options->mode, ==, PEERCAM_MODE_VIEWER);
  g_assert_true (options->mode_given);
  g_assert_cmpstr (options->server, ==, "https://192.168.1.20:8443");
  g_assert_cmpstr (options->room, ==, "kitchen");
  g_assert_cmpstr (options->source, ==, "test");
  g_assert_cmpint (options->port, ==, 9000);
  g_assert_cmpstr (options->bind, ==, "::1");
  g_assert_cmpstr (options->ice_addresses[0], ==, "127.0.0.1");
  /* --port implies hosting */
  g_assert_true (options->host);
}

/* The --source forms of issue 15: the screen, a file (made absolute), a
 * GStreamer description (parsed when it starts), a camera name with colons. */
static void
test_sources (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("peercam-options-XXXXXX", &error);
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *clip = g_build_filename (dir, "clip.y4m", NULL);
  g_autofree char *expected = g_strconcat ("file:", clip, NULL);
  const char *as_given[] = {
    "screen", "test", "camera", "/dev/video2", "HD Webcam: HD Webcam",
    "gst:videotestsrc pattern=ball", "gst:v4l2src device=/dev/video2 ! image/jpeg ! jpegdec",
    "gst:!!! not parsed here",
  };

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (clip, "YUV4MPEG2 ", -1, NULL));

  for (guint i = 0; i < G_N_ELEMENTS (as_given); i++)
    {
      g_autoptr(GError) err = NULL;
      g_autoptr(PeercamOptions) options = parse (&err, "source", as_given[i], NULL);

      g_assert_no_error (err);
      g_assert_cmpstr (options->source, ==, as_given[i]);
    }

  {
    g_autoptr(PeercamOptions) options = parse (&error, "source", expected, NULL);

    g_assert_no_error (error);
    g_assert_cmpstr (options->source, ==, expected);
  }

  /* Relative to where peercam runs. */
  g_assert_cmpint (g_chdir (dir), ==, 0);
  {
    g_autoptr(PeercamOptions) options = parse (&error, "source", "file:clip.y4m", NULL);
    g_autoptr(PeercamOptions) dotted = NULL;

    g_assert_no_error (error);
    g_assert_cmpstr (options->source, ==, expected);
    dotted = parse (&error, "source", "file:./../" G_DIR_SEPARATOR_S "XX", NULL);
    g_assert_null (dotted);
    g_assert_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID);
    g_clear_error (&error);
  }
  g_assert_cmpint (g_chdir (cwd), ==, 0);
  g_unlink (clip);
  g_rmdir (dir);
}

static void
test_host_only (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PeercamOptions) options = parse (&error, "host-only", NULL, "port", "0", NULL);

  g_assert_no_error (error);
  g_assert_true (options->host_only);
  g_assert_true (options->host);
  g_assert_cmpint (options->port, ==, 0);
}

static void
test_headless_events (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PeercamOptions) options = parse (&error, "headless", NULL, "caller", NULL,
                                             "call", NULL, "events", NULL, NULL);

  g_assert_no_error (error);
  g_assert_true (options->headless);
  g_assert_true (options->events);
  g_assert_true (options->call);
}

static void
test_bad_values (void)
{
  static const struct {
    const char *name;
    const char *value;
    const char *expect;
  } cases[] = {
    { "port", "70000", "Invalid port" },
    { "port", "-1", "Invalid port" },
    { "port", "80a", "Invalid port" },
    { "port", "", "Invalid port" },
    { "server", "ftp://example", "Unsupported server" },
    { "server", "not a url", "Invalid server" },
    { "server", "http://", "no host" },
    { "room", "", "Invalid room" },
    { "source", "", "Invalid source" },
    { "source", "file:", "Invalid source “file:”" },
    { "source", "file:/nonexistent/peercam/clip.webm", "no video file" },
    { "source", "file:/", "no video file" },
    { "source", "file:/dev/null", "no video file" },
    { "source", "gst:", "Invalid source “gst:”" },
    { "source", "gst: \t  ", "Invalid source “gst:”" },
    { "bind", "localhost:80", "Invalid bind" },
    { "ice-address", "eth0", "Invalid ICE" },
    { "pin", "1234", "Invalid certificate" },
    { "token", "", "Invalid token" },
    { "allow-origin", "evil.example", "Invalid origin" },
    { "allow-origin", "ftp://evil.example", "Invalid origin" },
    { "allow-origin", "https://evil.example/page", "Invalid origin" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PeercamOptions) options = parse (&error, cases[i].name, cases[i].value, NULL);

      g_test_message ("--%s=%s", cases[i].name, cases[i].value);
      g_assert_null (options);
      g_assert_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, cases[i].expect));
    }
}

static void
test_bad_combinations (void)
{
  const char *combos[][6] = {
    { "caller", NULL, "viewer", NULL, NULL },
    { "host-only", NULL, "call", NULL, NULL },
    { "host-only", NULL, "viewer", NULL, NULL },
    { "viewer", NULL, "call", NULL, NULL },
    { "events", NULL, NULL },
    { "host-only", NULL, "new-certificate", NULL, NULL },  /* needs --tls */
  };

  for (guint i = 0; i < G_N_ELEMENTS (combos); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PeercamOptions) options = NULL;

      options = parse (&error, combos[i][0], combos[i][1], combos[i][2], combos[i][3], combos[i][4], NULL);
      g_assert_null (options);
      g_assert_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID);
    }
}

static void
test_normalize_host_port (void)
{
  char *argv[] = { "peercam", "--host=9000", "--viewer", "--host", NULL };
  g_auto(GStrv) args = peercam_options_normalize_args (4, argv);

  g_assert_cmpuint (g_strv_length (args), ==, 5);
  g_assert_cmpstr (args[1], ==, "--host");
  g_assert_cmpstr (args[2], ==, "--port=9000");
  g_assert_cmpstr (args[3], ==, "--viewer");
  g_assert_cmpstr (args[4], ==, "--host");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/options/defaults", test_defaults);
  g_test_add_func ("/options/good-values", test_good_values);
  g_test_add_func ("/options/host-only", test_host_only);
  g_test_add_func ("/options/sources", test_sources);
  g_test_add_func ("/options/headless-events", test_headless_events);
  g_test_add_func ("/options/bad-values", test_bad_values);
  g_test_add_func ("/options/bad-combinations", test_bad_combinations);
  g_test_add_func ("/options/normalize-host-port", test_normalize_host_port);

  return g_test_run ();
}
