/* test-call-settings.c — the command line and the preferences onto a call
 * engine (core/peercam-call-settings), as the windows and --headless use it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gst/gst.h>

#include "peercam-call-settings.h"
#include "peercam-init.h"

static void
test_follow (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autoptr(PeercamCallEngine) engine = peercam_call_engine_new (PEERCAM_CALL_ROLE_CALLER);
  g_autofree char *codec = NULL;
  g_autofree char *stun = NULL;
  int width, height, framerate;
  guint latency;

  g_settings_set_string (settings, "codec", "h264");
  g_settings_set_string (settings, "resolution", "640x360");
  g_settings_set_uint (settings, "framerate", 15);
  g_settings_set_uint (settings, "latency", 70);
  g_settings_set_string (settings, "stun-server", "stun:127.0.0.1:3478");

  peercam_call_settings_follow (engine, settings);
  g_object_get (engine, "codec", &codec, "width", &width, "height", &height, "framerate", &framerate,
                "latency", &latency, "stun-server", &stun, NULL);
  g_assert_cmpstr (codec, ==, "h264");
  g_assert_cmpint (width, ==, 640);
  g_assert_cmpint (height, ==, 360);
  g_assert_cmpint (framerate, ==, 15);
  g_assert_cmpuint (latency, ==, 70);
  g_assert_cmpstr (stun, ==, "stun:127.0.0.1:3478");

  /* A change reaches the engine; a resolution that is no size falls back. */
  g_settings_set_string (settings, "resolution", "garbage");
  g_object_get (engine, "width", &width, "height", &height, NULL);
  g_assert_cmpint (width, ==, 1280);
  g_assert_cmpint (height, ==, 720);
  g_settings_set_string (settings, "stun-server", "");
  g_clear_pointer (&stun, g_free);
  g_object_get (engine, "stun-server", &stun, NULL);
  g_assert_null (stun);
}

/* --stun and --audio last until that very preference changes: changing
 * the codec in Preferences no longer resets them to the preferences. */
static void
test_options_override (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autoptr(PeercamCallEngine) engine = peercam_call_engine_new (PEERCAM_CALL_ROLE_VIEWER);
  PeercamOptions options = { 0 };
  const char *addresses[] = { "127.0.0.1", NULL };
  g_autofree char *stun = NULL;
  g_auto(GStrv) ice = NULL;
  gboolean play_audio;
  int width, height, framerate;

  g_settings_reset (settings, "stun-server");
  g_settings_set_boolean (settings, "play-audio", FALSE);
  peercam_call_settings_follow (engine, settings);

  options.stun = (char *) "stun:127.0.0.1:19302";
  options.ice_addresses = (char **) addresses;
  options.audio = TRUE;
  options.width = 640;
  options.height = 360;
  options.framerate = 15;
  peercam_call_settings_apply_options (engine, &options);

  g_settings_set_string (settings, "codec", "vp8");
  g_settings_set_uint (settings, "latency", 40);
  g_object_get (engine, "stun-server", &stun, "ice-addresses", &ice, "play-audio", &play_audio, NULL);
  g_assert_cmpstr (stun, ==, "stun:127.0.0.1:19302");
  g_assert_cmpstrv (ice, addresses);
  g_assert_true (play_audio);
  g_object_get (engine, "width", &width, "height", &height, "framerate", &framerate, NULL);
  g_assert_cmpint (width, ==, 640);
  g_assert_cmpint (height, ==, 360);
  g_assert_cmpint (framerate, ==, 15);

  g_settings_set_string (settings, "stun-server", "stun:127.0.0.2:3478");
  g_clear_pointer (&stun, g_free);
  g_object_get (engine, "stun-server", &stun, NULL);
  g_assert_cmpstr (stun, ==, "stun:127.0.0.2:3478");

  /* Unset options change nothing. */
  peercam_call_settings_apply_options (engine, &(PeercamOptions) { 0 });
  g_clear_pointer (&stun, g_free);
  g_object_get (engine, "stun-server", &stun, "play-audio", &play_audio, NULL);
  g_assert_cmpstr (stun, ==, "stun:127.0.0.2:3478");
  g_assert_true (play_audio);
}

int
main (int argc, char **argv)
{
  peercam_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/call-settings/follow", test_follow);
  g_test_add_func ("/call-settings/options-override", test_options_override);

  return g_test_run ();
}
