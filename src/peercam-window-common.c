/* peercam-window-common.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "peercam-application.h"
#include "peercam-join-dialog.h"
#include "peercam-window-common.h"

/* Engine settings come from GSettings; the command line overrides some. */
void
_peercam_window_configure_engine (PeercamCallEngine *engine,
                                  GSettings         *settings)
{
  g_autofree char *codec = g_settings_get_string (settings, "codec");
  g_autofree char *resolution = g_settings_get_string (settings, "resolution");
  g_autofree char *stun = g_settings_get_string (settings, "stun-server");
  g_autofree char *turn = g_settings_get_string (settings, "turn-server");
  int width = 1280, height = 720;

  if (sscanf (resolution, "%dx%d", &width, &height) != 2 || width <= 0 || height <= 0)
    width = 1280, height = 720;

  peercam_call_engine_set_codec (engine, codec);
  peercam_call_engine_set_latency (engine, g_settings_get_uint (settings, "latency"));
  peercam_call_engine_set_video_size (engine, width, height, (int) g_settings_get_uint (settings, "framerate"));
  peercam_call_engine_set_stun_server (engine, *stun ? stun : NULL);
  peercam_call_engine_set_turn_server (engine, *turn ? turn : NULL);
  peercam_call_engine_set_send_audio (engine, g_settings_get_boolean (settings, "send-audio"));
  peercam_call_engine_set_play_audio (engine, g_settings_get_boolean (settings, "play-audio"));
}

char *
_peercam_window_describe_signaling (PeercamSession *session)
{
  PeercamSignalingClient *client = peercam_session_get_client (session);
  const char *room = peercam_session_get_room (session);

  if (client == NULL)
    return g_strdup (_("Not in a room"));

  switch (peercam_signaling_client_get_state (client))
    {
    case PEERCAM_SIGNALING_STATE_CONNECTING:
    case PEERCAM_SIGNALING_STATE_CONNECTED:
      return g_strdup_printf (_("Connecting to %s…"), peercam_session_get_server_url (session));
    case PEERCAM_SIGNALING_STATE_JOINED:
      return g_strdup_printf (_("Room “%s”"), room);
    case PEERCAM_SIGNALING_STATE_RECONNECTING:
      return g_strdup_printf (_("Reconnecting to %s…"), peercam_session_get_server_url (session));
    case PEERCAM_SIGNALING_STATE_FAILED:
      return g_strdup (_("Could not join the room"));
    case PEERCAM_SIGNALING_STATE_DISCONNECTED:
    default:
      return g_strdup (_("Not in a room"));
    }
}

char *
_peercam_window_format_stats (JsonObject *stats)
{
  gint64 width = json_object_get_int_member_with_default (stats, "width", 0);
  gint64 height = json_object_get_int_member_with_default (stats, "height", 0);
  double fps = json_object_get_double_member_with_default (stats, "fps", 0);
  double kbps = json_object_get_double_member_with_default (stats, "kbps", 0);
  double rtt = json_object_get_double_member_with_default (stats, "rtt_ms", -1);
  g_autofree char *rtt_text = rtt >= 0 ? g_strdup_printf (_("%.0f ms"), rtt) : g_strdup (_("unknown"));

  /* Translators: live call statistics, one per line */
  return g_strdup_printf (_("Resolution: %d×%d\n"
                            "Frame rate: %.1f fps\n"
                            "Bitrate: %.0f kbit/s\n"
                            "Round trip: %s"),
                          (int) width, (int) height, fps, kbps, rtt_text);
}

void
_peercam_window_show_error (AdwToastOverlay *overlay,
                            const char      *message)
{
  AdwToast *toast = adw_toast_new (message);

  adw_toast_set_timeout (toast, 6);
  adw_toast_overlay_add_toast (overlay, toast);
}

typedef struct {
  PeercamSession  *session;
  AdwToastOverlay *overlay;
} JoinTarget;

static void
join_target_free (gpointer data, GClosure *closure)
{
  JoinTarget *target = data;

  g_object_unref (target->session);
  g_object_unref (target->overlay);
  g_free (target);
}

static void
on_join (PeercamJoinDialog *dialog,
         const char        *url,
         const char        *room,
         const char        *token,
         JoinTarget        *target)
{
  g_autoptr(GError) error = NULL;

  if (!peercam_session_join (target->session, url, room, token, NULL, &error))
    _peercam_window_show_error (target->overlay, error->message);
}

/* Join a Room…: a Join in the dialog joins @session; errors go to @overlay. */
void
_peercam_window_present_join_dialog (GtkWindow       *window,
                                     PeercamSession  *session,
                                     AdwToastOverlay *overlay)
{
  GtkApplication *app = gtk_window_get_application (window);
  PeercamJoinDialog *dialog =
    peercam_join_dialog_new (window, peercam_application_get_settings (PEERCAM_APPLICATION (app)));
  JoinTarget *target = g_new0 (JoinTarget, 1);

  target->session = g_object_ref (session);
  target->overlay = g_object_ref (overlay);
  g_signal_connect_data (dialog, "join", G_CALLBACK (on_join), target, join_target_free, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_client_changed (PeercamSession *session,
                   GParamSpec     *pspec,
                   GtkWidget      *window)
{
  PeercamSignalingClient *client = peercam_session_get_client (session);
  GCallback update = g_object_get_data (G_OBJECT (window), "peercam-update");

  if (client != NULL)
    g_signal_connect_object (client, "notify::state", update, window, G_CONNECT_SWAPPED);
  ((void (*) (GtkWidget *)) update) (window);
}

/* Calls @update (window) whenever the session gets another signaling client
 * or its client changes state (connecting, joined, reconnecting…). The
 * handlers have @window as data, so the window's dispose disconnects them. */
void
_peercam_window_follow_signaling (GtkWidget      *window,
                                  PeercamSession *session,
                                  GCallback       update)
{
  g_object_set_data (G_OBJECT (window), "peercam-update", update);
  g_signal_connect_object (session, "notify::client", G_CALLBACK (on_client_changed), window, 0);
}
