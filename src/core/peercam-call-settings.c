/* peercam-call-settings.c — the command line and the preferences mapped onto
 * a call engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>

#include "peercam-call-settings.h"

void
peercam_call_settings_apply_options (PeercamCallEngine    *engine,
                                     const PeercamOptions *options)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (engine));
  g_return_if_fail (options != NULL);

  if (options->ice_addresses != NULL)
    peercam_call_engine_set_ice_addresses (engine, (const char * const *) options->ice_addresses);
  if (options->stun != NULL)
    peercam_call_engine_set_stun_server (engine, options->stun);
  if (options->turn != NULL)
    peercam_call_engine_set_turn_server (engine, options->turn);
  if (options->width > 0)
    peercam_call_engine_set_video_size (engine, options->width, options->height, options->framerate);
  if (options->audio)
    {
      peercam_call_engine_set_send_audio (engine, TRUE);
      peercam_call_engine_set_play_audio (engine, TRUE);
    }
}

static void
apply_video_size (PeercamCallEngine *engine,
                  GSettings         *settings)
{
  g_autofree char *resolution = g_settings_get_string (settings, "resolution");
  int width = 1280, height = 720;

  if (sscanf (resolution, "%dx%d", &width, &height) != 2 || width <= 0 || height <= 0)
    width = 1280, height = 720;
  peercam_call_engine_set_video_size (engine, width, height, (int) g_settings_get_uint (settings, "framerate"));
}

static void
apply_server (PeercamCallEngine *engine,
              GSettings         *settings,
              const char        *key)
{
  g_autofree char *uri = g_settings_get_string (settings, key);

  if (g_str_equal (key, "stun-server"))
    peercam_call_engine_set_stun_server (engine, *uri ? uri : NULL);
  else
    peercam_call_engine_set_turn_server (engine, *uri ? uri : NULL);
}

/* One key onto the engine; FALSE for keys that are not the engine's (the
 * room and host keys are for windows still to open, the camera for the
 * caller window's source list). */
static gboolean
apply_key (PeercamCallEngine *engine,
           GSettings         *settings,
           const char        *key)
{
  if (g_str_equal (key, "codec"))
    {
      g_autofree char *codec = g_settings_get_string (settings, "codec");

      peercam_call_engine_set_codec (engine, codec);
    }
  else if (g_str_equal (key, "latency"))
    peercam_call_engine_set_latency (engine, g_settings_get_uint (settings, "latency"));
  else if (g_str_equal (key, "resolution") || g_str_equal (key, "framerate"))
    apply_video_size (engine, settings);
  else if (g_str_equal (key, "stun-server") || g_str_equal (key, "turn-server"))
    apply_server (engine, settings, key);
  else if (g_str_equal (key, "send-audio"))
    peercam_call_engine_set_send_audio (engine, g_settings_get_boolean (settings, "send-audio"));
  else if (g_str_equal (key, "play-audio"))
    peercam_call_engine_set_play_audio (engine, g_settings_get_boolean (settings, "play-audio"));
  else
    return FALSE;
  return TRUE;
}

static const char * const engine_keys[] = {
  "codec", "latency", "resolution", "stun-server", "turn-server", "send-audio", "play-audio",
};

static void
on_settings_changed (PeercamCallEngine *engine,
                     const char        *key,
                     GSettings         *settings)
{
  apply_key (engine, settings, key);
}

void
peercam_call_settings_follow (PeercamCallEngine *engine,
                              GSettings         *settings)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (engine));
  g_return_if_fail (G_IS_SETTINGS (settings));

  for (guint i = 0; i < G_N_ELEMENTS (engine_keys); i++)
    apply_key (engine, settings, engine_keys[i]);
  g_signal_connect_object (settings, "changed", G_CALLBACK (on_settings_changed), engine, G_CONNECT_SWAPPED);
}
