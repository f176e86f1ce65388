/* peercam-caller-window.c — "user A": local preview, Get Local Video, Call, Hang Up
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "peercam-caller-window.h"
#include "peercam-join-dialog.h"
#include "peercam-session.h"
#include "peercam-video-paintable.h"
#include "peercam-window-common.h"

struct _PeercamCallerWindow
{
  AdwApplicationWindow   parent_instance;

  PeercamSession        *session;
  PeercamVideoPaintable *preview;

  /* Template widgets */
  AdwWindowTitle        *window_title;
  GtkMenuButton         *menu_button;
  GtkMenuButton         *stats_button;
  GtkLabel              *stats_label;
  GtkDropDown           *source_dropdown;
  AdwToastOverlay       *toast_overlay;
  GtkStack              *video_stack;
  AdwStatusPage         *empty_page;
  GtkPicture            *preview_picture;
  GtkButton             *get_local_video_button;
  GtkButton             *call_button;
  GtkButton             *hang_up_button;
};

G_DEFINE_FINAL_TYPE (PeercamCallerWindow, peercam_caller_window, ADW_TYPE_APPLICATION_WINDOW)

/* Positions in the source drop-down. */
enum {
  SOURCE_CAMERA,
  SOURCE_TEST,
};

static const char *
call_state_text (PeercamCallState state)
{
  switch (state)
    {
    case PEERCAM_CALL_STATE_PREVIEW:
      return _("Local video");
    case PEERCAM_CALL_STATE_CALLING:
      return _("Calling…");
    case PEERCAM_CALL_STATE_CONNECTING:
      return _("Connecting…");
    case PEERCAM_CALL_STATE_CONNECTED:
      return _("In call");
    case PEERCAM_CALL_STATE_FAILED:
      return _("Call failed");
    case PEERCAM_CALL_STATE_ENDED:
      return _("Call ended");
    case PEERCAM_CALL_STATE_IDLE:
    default:
      return NULL;
    }
}

/* One place decides what can be pressed, following the demo's rules: Call
 * needs local video and a room, Hang Up needs a call. */
static void
peercam_caller_window_update (PeercamCallerWindow *self)
{
  PeercamCallEngine *engine = peercam_session_get_engine (self->session);
  PeercamSignalingClient *client = peercam_session_get_client (self->session);
  PeercamCallState state = peercam_call_engine_get_state (engine);
  gboolean joined = client != NULL &&
                    peercam_signaling_client_get_state (client) == PEERCAM_SIGNALING_STATE_JOINED;
  gboolean in_call = state == PEERCAM_CALL_STATE_CALLING ||
                     state == PEERCAM_CALL_STATE_CONNECTING ||
                     state == PEERCAM_CALL_STATE_CONNECTED;
  gboolean has_video = state != PEERCAM_CALL_STATE_IDLE && state != PEERCAM_CALL_STATE_FAILED;
  gboolean can_call = has_video && !in_call && joined;
  g_autofree char *signaling = _peercam_window_describe_signaling (self->session);
  const char *call_text = call_state_text (state);
  g_autofree char *subtitle = NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "caller.get-local-video", !has_video);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "caller.call", can_call);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "caller.hang-up", in_call);
  gtk_widget_set_sensitive (GTK_WIDGET (self->source_dropdown), !in_call);

  /* Highlight Call once a viewer is waiting, as the demo's `call` event means. */
  if (can_call && peercam_session_get_peer_present (self->session))
    gtk_widget_add_css_class (GTK_WIDGET (self->call_button), "suggested-action");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->call_button), "suggested-action");

  gtk_stack_set_visible_child_name (self->video_stack, has_video ? "preview" : "empty");

  if (call_text != NULL)
    subtitle = g_strdup_printf ("%s · %s", signaling, call_text);
  else
    subtitle = g_steal_pointer (&signaling);
  adw_window_title_set_subtitle (self->window_title, subtitle);

  if (!in_call)
    gtk_label_set_label (self->stats_label, _("No call"));
}

static void
use_test_pattern (PeercamCallerWindow *self)
{
  gtk_drop_down_set_selected (self->source_dropdown, SOURCE_TEST);
  gtk_widget_activate_action (GTK_WIDGET (self), "caller.get-local-video", NULL);
}

static void
show_source_error (PeercamCallerWindow *self,
                   const GError        *error)
{
  AdwToast *toast;

  if (!g_error_matches (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_NO_CAMERA))
    {
      _peercam_window_show_error (self->toast_overlay, error->message);
      return;
    }

  toast = adw_toast_new (_("No camera found"));
  adw_toast_set_button_label (toast, _("Use _Test Pattern"));
  adw_toast_set_timeout (toast, 0);
  g_signal_connect_object (toast, "button-clicked", G_CALLBACK (use_test_pattern), self, G_CONNECT_SWAPPED);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
get_local_video_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  PeercamCallerWindow *self = PEERCAM_CALLER_WINDOW (widget);
  g_autoptr(GError) error = NULL;

  if (!peercam_session_start_local_video (self->session, &error))
    show_source_error (self, error);
  peercam_caller_window_update (self);
}

static void
call_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  PeercamCallerWindow *self = PEERCAM_CALLER_WINDOW (widget);
  g_autoptr(GError) error = NULL;

  if (!peercam_session_call (self->session, &error))
    _peercam_window_show_error (self->toast_overlay, error->message);
  peercam_caller_window_update (self);
}

static void
hang_up_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  PeercamCallerWindow *self = PEERCAM_CALLER_WINDOW (widget);

  peercam_session_hang_up (self->session);
  peercam_caller_window_update (self);
}

static void
on_join_dialog_join (PeercamCallerWindow *self,
                     const char          *url,
                     const char          *room,
                     const char          *token)
{
  peercam_caller_window_join (self, url, room, token, NULL);
}

static void
join_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  PeercamCallerWindow *self = PEERCAM_CALLER_WINDOW (widget);
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  PeercamJoinDialog *dialog;

  dialog = peercam_join_dialog_new (GTK_WINDOW (self),
                                    peercam_application_get_settings (PEERCAM_APPLICATION (app)));
  g_signal_connect_object (dialog, "join", G_CALLBACK (on_join_dialog_join), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_session_event (PeercamCallerWindow *self,
                  const char          *name,
                  JsonNode            *details)
{
  JsonObject *object = json_node_get_object (details);

  if (g_str_equal (name, "error"))
    _peercam_window_show_error (self->toast_overlay,
                                json_object_get_string_member_with_default (object, "message", ""));
  else if (g_str_equal (name, "stats"))
    {
      g_autofree char *text = _peercam_window_format_stats (object);

      gtk_label_set_label (self->stats_label, text);
    }
  else if (g_str_equal (name, "peer-joined"))
    adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_("A viewer joined the room")));
  else if (g_str_equal (name, "bye"))
    adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_("The viewer left")));

  peercam_caller_window_update (self);
}

static void
on_client_changed (PeercamCallerWindow *self)
{
  PeercamSignalingClient *client = peercam_session_get_client (self->session);

  if (client != NULL)
    g_signal_connect_object (client, "notify::state",
                             G_CALLBACK (peercam_caller_window_update), self, G_CONNECT_SWAPPED);
  peercam_caller_window_update (self);
}

static void
on_source_selected (PeercamCallerWindow *self)
{
  PeercamCallEngine *engine = peercam_session_get_engine (self->session);
  const char *source = gtk_drop_down_get_selected (self->source_dropdown) == SOURCE_TEST ? "test" : "camera";
  gboolean running;

  if (g_strcmp0 (peercam_call_engine_get_source (engine), source) == 0)
    return;

  /* Switching source restarts the preview with the new one. */
  running = peercam_call_engine_get_state (engine) == PEERCAM_CALL_STATE_PREVIEW;
  if (running)
    peercam_call_engine_stop_local_video (engine);
  peercam_call_engine_set_source (engine, source);
  if (running)
    gtk_widget_activate_action (GTK_WIDGET (self), "caller.get-local-video", NULL);
  peercam_caller_window_update (self);
}

/* Runs once the window has its application (GtkWindow sets "application"
 * after constructed(), so this cannot live there). */
static void
peercam_caller_window_setup (PeercamCallerWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  GSettings *settings = peercam_application_get_settings (PEERCAM_APPLICATION (app));
  PeercamCallEngine *engine = peercam_session_get_engine (self->session);
  g_autofree char *camera = g_settings_get_string (settings, "camera");

  _peercam_window_configure_engine (engine, settings);
  peercam_caller_window_set_source (self, *camera ? camera : "camera");
  peercam_caller_window_update (self);
}

static void
peercam_caller_window_dispose (GObject *object)
{
  PeercamCallerWindow *self = PEERCAM_CALLER_WINDOW (object);

  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      peercam_session_leave (self->session);
      peercam_call_engine_stop_local_video (peercam_session_get_engine (self->session));
    }
  g_clear_object (&self->session);

  gtk_widget_dispose_template (GTK_WIDGET (object), PEERCAM_TYPE_CALLER_WINDOW);
  g_clear_object (&self->preview);

  G_OBJECT_CLASS (peercam_caller_window_parent_class)->dispose (object);
}

static void
peercam_caller_window_class_init (PeercamCallerWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = peercam_caller_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/peercam/Peercam/peercam-caller-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, menu_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, stats_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, stats_label);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, source_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, video_stack);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, preview_picture);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, get_local_video_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, call_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, hang_up_button);

  gtk_widget_class_install_action (widget_class, "caller.get-local-video", NULL, get_local_video_action);
  gtk_widget_class_install_action (widget_class, "caller.call", NULL, call_action);
  gtk_widget_class_install_action (widget_class, "caller.hang-up", NULL, hang_up_action);
  gtk_widget_class_install_action (widget_class, "room.join", NULL, join_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, GDK_CONTROL_MASK, "caller.get-local-video", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK, "caller.call", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, "caller.hang-up", NULL);
}

static void
peercam_caller_window_init (PeercamCallerWindow *self)
{
  g_autoptr(GtkBuilder) builder = NULL;
  g_autoptr(GtkStringList) sources = NULL;
  PeercamCallEngine *engine;

  gtk_widget_init_template (GTK_WIDGET (self));

  builder = gtk_builder_new_from_resource ("/io/github/peercam/Peercam/primary-menu.ui");
  gtk_menu_button_set_menu_model (self->menu_button,
                                  G_MENU_MODEL (gtk_builder_get_object (builder, "primary_menu")));

  sources = gtk_string_list_new ((const char *[]) { _("Camera"), _("Test Pattern"), NULL });
  gtk_drop_down_set_model (self->source_dropdown, G_LIST_MODEL (sources));

  self->session = peercam_session_new (PEERCAM_CALL_ROLE_CALLER);
  engine = peercam_session_get_engine (self->session);
  self->preview = peercam_video_paintable_new ();
  peercam_call_engine_set_local_sink (engine, peercam_video_paintable_get_sink (self->preview));
  gtk_picture_set_paintable (self->preview_picture, GDK_PAINTABLE (self->preview));

  g_signal_connect_object (self->session, "event", G_CALLBACK (on_session_event), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::client", G_CALLBACK (on_client_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::peer-present",
                           G_CALLBACK (peercam_caller_window_update), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (engine, "notify::state",
                           G_CALLBACK (peercam_caller_window_update), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->source_dropdown, "notify::selected",
                           G_CALLBACK (on_source_selected), self, G_CONNECT_SWAPPED);
}

PeercamCallerWindow *
peercam_caller_window_new (PeercamApplication *application)
{
  PeercamCallerWindow *self = g_object_new (PEERCAM_TYPE_CALLER_WINDOW,
                                            "application", application,
                                            NULL);

  peercam_caller_window_setup (self);
  return self;
}

PeercamSession *
peercam_caller_window_get_session (PeercamCallerWindow *self)
{
  g_return_val_if_fail (PEERCAM_IS_CALLER_WINDOW (self), NULL);

  return self->session;
}

void
peercam_caller_window_set_source (PeercamCallerWindow *self,
                                  const char          *source)
{
  g_return_if_fail (PEERCAM_IS_CALLER_WINDOW (self));
  g_return_if_fail (source != NULL);

  peercam_call_engine_set_source (peercam_session_get_engine (self->session), source);
  g_signal_handlers_block_by_func (self->source_dropdown, on_source_selected, self);
  gtk_drop_down_set_selected (self->source_dropdown,
                              g_str_equal (source, "test") || g_str_equal (source, "smpte") ||
                              g_str_equal (source, "ball") ? SOURCE_TEST : SOURCE_CAMERA);
  g_signal_handlers_unblock_by_func (self->source_dropdown, on_source_selected, self);
}

void
peercam_caller_window_join (PeercamCallerWindow *self,
                            const char          *server_url,
                            const char          *room,
                            const char          *token,
                            const char          *pin)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (PEERCAM_IS_CALLER_WINDOW (self));

  if (!peercam_session_join (self->session, server_url, room, token, pin, &error))
    _peercam_window_show_error (self->toast_overlay, error->message);
  peercam_caller_window_update (self);
}
