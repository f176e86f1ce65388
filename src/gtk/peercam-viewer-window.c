/* peercam-viewer-window.c — "user B": shows the caller's video
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "peercam-session.h"
#include "peercam-video-paintable.h"
#include "peercam-viewer-window.h"
#include "peercam-window-common.h"

struct _PeercamViewerWindow
{
  AdwApplicationWindow   parent_instance;

  PeercamSession        *session;
  GSignalGroup          *session_signals;  /* what the window follows of it */
  PeercamRoomProblem    *problem;
  PeercamVideoPaintable *remote;
  gboolean               showing_video;

  /* Template widgets */
  GtkWidget             *header_bar;
  AdwWindowTitle        *window_title;
  GtkRevealer           *fullscreen_controls;
  GtkLabel              *fullscreen_title;
  GtkMenuButton         *menu_button;
  GtkButton             *fullscreen_button;
  GtkMenuButton         *stats_button;
  GtkPopover            *stats_popover;
  GtkWidget             *stats_label;
  GtkWidget             *stats_grid;
  AdwToastOverlay       *toast_overlay;
  AdwStatusPage         *problem_page;
  GtkLabel              *problem_details;
  GtkWidget             *retry_button;
  GtkWidget             *stop_button;
  GtkWidget             *join_other_button;
  GtkWidget             *trust_button;
  GtkStack              *video_stack;
  AdwStatusPage         *waiting_page;
  GtkWidget             *welcome_box;
  GtkPicture            *remote_picture;
  GtkWidget             *poor_connection_label;
};

G_DEFINE_FINAL_TYPE (PeercamViewerWindow, peercam_viewer_window, ADW_TYPE_APPLICATION_WINDOW)

static void
peercam_viewer_window_update (PeercamViewerWindow *self)
{
  PeercamSessionState state = peercam_session_get_state (self->session);
  gboolean in_room = peercam_session_get_room_state (self->session) != PEERCAM_ROOM_STATE_NONE;
  const char *room = peercam_session_get_room (self->session);
  g_autofree char *signaling = _peercam_window_describe_signaling (self->session);
  g_autofree char *description = NULL;
  const char *call_text = NULL;
  g_autofree char *subtitle = NULL;

  switch (state)
    {
    case PEERCAM_SESSION_STATE_CONNECTING:
      call_text = _("Connecting…");
      break;
    case PEERCAM_SESSION_STATE_CONNECTED:
      call_text = peercam_session_get_poor_connection (self->session)
                  ? _("Poor connection") : _("In call");
      break;
    default:
      break;
    }

  /* A call that is not connected never leaves a frozen frame on screen,
   * not even for a moment when the next call starts. */
  if (state != PEERCAM_SESSION_STATE_CONNECTED && state != PEERCAM_SESSION_STATE_CONNECTING)
    {
      self->showing_video = FALSE;
      peercam_video_paintable_clear (self->remote);
      gtk_widget_set_visible (self->stats_grid, FALSE);
      gtk_widget_set_visible (self->stats_label, TRUE);
    }
  if (!_peercam_room_problem_show (self->problem, &signaling))
    gtk_stack_set_visible_child_name (self->video_stack, self->showing_video ? "video" : "waiting");

  gtk_widget_set_visible (self->welcome_box, !in_room);
  adw_status_page_set_title (self->waiting_page, !in_room ? _("Watch a Camera") : _("Waiting for a Call"));
  if (!in_room)
    description = g_strdup (_("To watch another computer’s camera, join the room it hosts, or host one here and invite it."));
  else
    description = g_strdup_printf (_("The video appears when the caller in room “%s” calls"), room);
  _peercam_status_page_set_description (self->waiting_page, description);

  /* Over the (frozen) picture, so it is seen in fullscreen too. */
  gtk_widget_set_visible (self->poor_connection_label,
                          state == PEERCAM_SESSION_STATE_CONNECTED &&
                          peercam_session_get_poor_connection (self->session));

  subtitle = call_text ? g_strdup_printf ("%s · %s", signaling, call_text) : g_steal_pointer (&signaling);
  _peercam_window_set_titles (GTK_WINDOW (self), self->window_title, self->session, subtitle);
  gtk_label_set_label (self->fullscreen_title, subtitle);
}

/* Fullscreen: a floating bar that leaves it, shown while the pointer
 * moves (see _peercam_window_setup_fullscreen()). */
static void
show_fullscreen_controls (GtkWidget *widget,
                          gboolean   shown)
{
  gtk_revealer_set_reveal_child (PEERCAM_VIEWER_WINDOW (widget)->fullscreen_controls, shown);
}

static void
on_fullscreened (GtkWidget *widget,
                 gboolean   fullscreen)
{
  if (!fullscreen)
    show_fullscreen_controls (widget, FALSE);
}

static void
on_first_frame (PeercamViewerWindow *self,
                int                  width,
                int                  height)
{
  self->showing_video = TRUE;
  peercam_viewer_window_update (self);
}

static void
on_bye (PeercamViewerWindow *self,
        const char          *viewer,
        const char          *peer)
{
  if (self->showing_video)
    {
      self->showing_video = FALSE;
      _peercam_window_show_news (self->toast_overlay, _("Call ended"));
    }
  peercam_viewer_window_update (self);
}

static void
on_session_stats (PeercamViewerWindow *self,
                  const char          *viewer,
                  PeercamCallStats    *stats)
{
  _peercam_window_show_stats (GTK_GRID (self->stats_grid), self->stats_label, stats);
  peercam_viewer_window_update (self);
}

static void
on_call_state (PeercamViewerWindow *self)
{
  PeercamSessionState state = peercam_session_get_state (self->session);

  if (self->showing_video && (state == PEERCAM_SESSION_STATE_ENDED || state == PEERCAM_SESSION_STATE_FAILED))
    _peercam_window_show_news (self->toast_overlay, _("Call ended"));
  peercam_viewer_window_update (self);
}

static void
on_picture_pressed (GtkGestureClick     *gesture,
                    int                  n_press,
                    double               x,
                    double               y,
                    PeercamViewerWindow *self)
{
  if (n_press == 2)
    gtk_widget_activate_action (GTK_WIDGET (self), "viewer.fullscreen", NULL);
}

/* Runs once the window has its application (GtkWindow sets "application"
 * after constructed(), so this cannot live there). */
static void
peercam_viewer_window_setup (PeercamViewerWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  _peercam_window_number (GTK_WINDOW (self));
  peercam_session_follow_settings (self->session, peercam_application_get_settings (PEERCAM_APPLICATION (app)));
  peercam_viewer_window_update (self);
}

static void
peercam_viewer_window_dispose (GObject *object)
{
  PeercamViewerWindow *self = PEERCAM_VIEWER_WINDOW (object);

  g_clear_pointer (&self->problem, _peercam_room_problem_free);
  _peercam_window_stop_fullscreen (GTK_WIDGET (self));
  if (self->session_signals != NULL)
    g_signal_group_set_target (self->session_signals, NULL);
  g_clear_object (&self->session_signals);
  if (self->session != NULL)
    {
      peercam_session_close (self->session);
    }
  g_clear_object (&self->session);

  gtk_widget_dispose_template (GTK_WIDGET (object), PEERCAM_TYPE_VIEWER_WINDOW);
  g_clear_object (&self->remote);

  G_OBJECT_CLASS (peercam_viewer_window_parent_class)->dispose (object);
}

static void
peercam_viewer_window_class_init (PeercamViewerWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = peercam_viewer_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/peercam/Peercam/peercam-viewer-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, header_bar);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, fullscreen_controls);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, fullscreen_title);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, menu_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, fullscreen_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, stats_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, stats_popover);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, stats_label);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, stats_grid);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, problem_page);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, problem_details);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, retry_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, stop_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, join_other_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, trust_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, video_stack);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, waiting_page);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, welcome_box);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, remote_picture);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, poor_connection_label);

  gtk_widget_class_install_action (widget_class, "viewer.fullscreen", NULL, _peercam_window_fullscreen_action);
  gtk_widget_class_install_action (widget_class, "viewer.leave-fullscreen", NULL,
                                   _peercam_window_leave_fullscreen_action);
  _peercam_window_install_room_actions (widget_class);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F11, 0, "viewer.fullscreen", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "viewer.leave-fullscreen", NULL);
}

static void
peercam_viewer_window_init (PeercamViewerWindow *self)
{
  g_autoptr(GtkBuilder) builder = NULL;
  GtkGesture *gesture;

  gtk_widget_init_template (GTK_WIDGET (self));

  builder = gtk_builder_new_from_resource ("/io/github/peercam/Peercam/primary-menu.ui");
  gtk_menu_button_set_menu_model (self->menu_button,
                                  G_MENU_MODEL (gtk_builder_get_object (builder, "primary_menu")));

  gesture = gtk_gesture_click_new ();
  g_signal_connect (gesture, "pressed", G_CALLBACK (on_picture_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self->remote_picture), GTK_EVENT_CONTROLLER (gesture));

  _peercam_window_setup_fullscreen (GTK_WIDGET (self), self->header_bar, "viewer.leave-fullscreen",
                                    show_fullscreen_controls, on_fullscreened);
  /* A tooltip would cover the statistics it names. */
  g_object_bind_property (self->stats_popover, "visible", self->stats_button, "has-tooltip",
                          G_BINDING_SYNC_CREATE | G_BINDING_INVERT_BOOLEAN);

  self->session = peercam_session_new (PEERCAM_SESSION_ROLE_VIEWER);
  self->remote = peercam_video_paintable_new ();
  peercam_session_set_remote_sink (self->session, peercam_video_paintable_get_sink (self->remote));
  gtk_picture_set_paintable (self->remote_picture, GDK_PAINTABLE (self->remote));

  /* The session, observed through one signal group. */
  self->session_signals = _peercam_window_follow_session (GTK_WIDGET (self), self->toast_overlay,
                                                          G_CALLBACK (peercam_viewer_window_update),
                                                          G_CALLBACK (on_call_state),
                                                          G_CALLBACK (on_session_stats));
  g_signal_group_connect_object (self->session_signals, "first-frame",
                                 G_CALLBACK (on_first_frame), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->session_signals, "bye",
                                 G_CALLBACK (on_bye), self, G_CONNECT_SWAPPED);
  self->problem = _peercam_room_problem_new (GTK_WIDGET (self), self->session, self->toast_overlay,
                                             G_CALLBACK (peercam_viewer_window_update));
  _peercam_room_problem_set_page (self->problem, self->video_stack, self->problem_page, self->problem_details,
                                  self->retry_button, self->stop_button, self->trust_button);
  g_signal_group_set_target (self->session_signals, self->session);
}

PeercamViewerWindow *
peercam_viewer_window_new (PeercamApplication *application)
{
  PeercamViewerWindow *self = g_object_new (PEERCAM_TYPE_VIEWER_WINDOW,
                                            "application", application,
                                            NULL);

  peercam_viewer_window_setup (self);
  return self;
}

PeercamSession *
peercam_viewer_window_get_session (PeercamViewerWindow *self)
{
  g_return_val_if_fail (PEERCAM_IS_VIEWER_WINDOW (self), NULL);

  return self->session;
}

void
peercam_viewer_window_join (PeercamViewerWindow *self,
                            const char          *server_url,
                            const char          *room,
                            const char          *token,
                            const char          *pin)
{
  g_return_if_fail (PEERCAM_IS_VIEWER_WINDOW (self));

  _peercam_window_join (self->session, self->toast_overlay, server_url, room, token, pin);
  peercam_viewer_window_update (self);
}

/* For errors that belong to this window but happen outside it, such as a
 * room that could not be hosted for the command line that opened it. */
void
peercam_viewer_window_show_error (PeercamViewerWindow *self,
                                  const char          *message)
{
  g_return_if_fail (PEERCAM_IS_VIEWER_WINDOW (self));

  _peercam_window_show_error (self->toast_overlay, message);
}
