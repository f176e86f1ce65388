/* peercam-caller-window.c — "user A": local preview, Get Local Video, Call, Hang Up
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "peercam-caller-window.h"
#include "peercam-session.h"
#include "peercam-source-picker.h"
#include "peercam-viewer.h"
#include "peercam-viewer-list.h"
#include "peercam-video-paintable.h"
#include "peercam-window-common.h"

struct _PeercamCallerWindow
{
  AdwApplicationWindow   parent_instance;

  PeercamSession        *session;
  GSignalGroup          *session_signals;  /* what the window follows of it */
  PeercamRoomProblem    *problem;
  PeercamVideoPaintable *preview;

  /* The source drop-down: the picker's cameras, "No Camera Found" while
   * there are none, then its extras: "Screen", "Test Pattern" and a file
   * or GStreamer source given on the command line. */
  PeercamSourcePicker   *picker;
  GListStore            *placeholder;
  GListModel            *sources;
  gboolean               syncing;          /* the model changes under the drop-down */

  GCancellable          *portal_cancellable; /* an access request is pending */
  gboolean               waiting_for_cameras; /* granted, the list restarts on the portal */
  gboolean               camera_denied;       /* the page says where to allow it */
  gboolean               no_camera_error;     /* Get Local Video found none */

  GCancellable          *screencast_cancellable; /* the portal's dialog is up */

  /* Template widgets */
  GtkBox                *content_box;
  GtkWidget             *header_bar;
  GtkOverlay            *video_overlay;
  GtkWidget             *fullscreen_button;
  GtkWidget             *action_bar;
  AdwWindowTitle        *window_title;
  GtkMenuButton         *menu_button;
  GtkMenuButton         *stats_button;
  GtkPopover            *stats_popover;
  GtkLabel              *stats_label;
  GtkWidget             *stats_grid;
  GtkMenuButton         *viewers_button;   /* issue 15: the room's viewers */
  GtkLabel              *viewers_count;
  PeercamViewerList     *viewer_list;
  GtkDropDown           *source_dropdown;
  AdwToastOverlay       *toast_overlay;
  AdwStatusPage         *problem_page;
  GtkLabel              *problem_details;
  GtkWidget             *retry_button;
  GtkWidget             *stop_button;
  GtkWidget             *join_other_button;
  GtkWidget             *trust_button;
  GtkStack              *video_stack;
  AdwStatusPage         *empty_page;
  GtkWidget             *test_pattern_button;
  GtkWidget             *welcome_box;
  GtkPicture            *preview_picture;
  GtkButton             *get_local_video_button;
  GtkButton             *call_button;
  GtkButton             *hang_up_button;
};

G_DEFINE_FINAL_TYPE (PeercamCallerWindow, peercam_caller_window, ADW_TYPE_APPLICATION_WINDOW)

static const char *
call_state_text (PeercamSessionState state)
{
  switch (state)
    {
    case PEERCAM_SESSION_STATE_PREVIEW:
      return _("Local video");
    case PEERCAM_SESSION_STATE_CALLING:
      return _("Calling…");
    case PEERCAM_SESSION_STATE_CONNECTING:
      return _("Connecting…");
    case PEERCAM_SESSION_STATE_CONNECTED:
      return _("In call");
    case PEERCAM_SESSION_STATE_FAILED:
      return _("Call failed");
    case PEERCAM_SESSION_STATE_ENDED:
      return _("Call ended");
    case PEERCAM_SESSION_STATE_IDLE:
    default:
      return NULL;
    }
}

/* No camera to list (and none hidden behind a portal not asked yet). */
static gboolean
no_camera_listed (PeercamCallerWindow *self)
{
  return self->portal_cancellable == NULL && !self->waiting_for_cameras &&
         peercam_source_picker_no_camera_listed (self->picker);
}

/* One place decides what can be pressed, following the demo's rules: Call
 * needs local video and a room, Hang Up needs a call. */
static void
peercam_caller_window_update (PeercamCallerWindow *self)
{
  PeercamRoomState room_state = peercam_session_get_room_state (self->session);
  PeercamSessionState state = peercam_session_get_state (self->session);
  gboolean joined = room_state == PEERCAM_ROOM_STATE_JOINED;
  gboolean in_call = state == PEERCAM_SESSION_STATE_CALLING ||
                     state == PEERCAM_SESSION_STATE_CONNECTING ||
                     state == PEERCAM_SESSION_STATE_CONNECTED;
  gboolean has_video = state != PEERCAM_SESSION_STATE_IDLE && state != PEERCAM_SESSION_STATE_FAILED;
  gboolean peer = peercam_session_get_peer_present (self->session);
  /* A call needs someone to answer: an offer into an empty room would say
   * "Calling…" forever. */
  gboolean can_call = has_video && !in_call && joined && peer;
  const char *call_tooltip;
  g_autofree char *signaling = _peercam_window_describe_signaling (self->session);
  const char *call_text = state == PEERCAM_SESSION_STATE_CONNECTED &&
                          peercam_session_get_poor_connection (self->session)
                          ? _("Poor connection") : call_state_text (state);
  g_autofree char *subtitle = NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "caller.get-local-video",
                                 !has_video && self->portal_cancellable == NULL &&
                                 !self->waiting_for_cameras);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "caller.call", can_call);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "caller.hang-up", in_call);
  gtk_widget_set_sensitive (GTK_WIDGET (self->source_dropdown), !in_call);
  /* Hang Up exists only while there is a call to hang up; Call makes way. */
  gtk_widget_set_visible (GTK_WIDGET (self->hang_up_button), in_call);
  gtk_widget_set_visible (GTK_WIDGET (self->call_button), !in_call);

  /* Previewing alone in the room: what the window waits for. */
  if (state == PEERCAM_SESSION_STATE_PREVIEW && joined && !peer)
    call_text = _("Waiting for a viewer");

  /* A disabled Call says what it waits for. */
  if (in_call)
    call_tooltip = NULL;
  else if (!has_video)
    call_tooltip = _("Get local video first");
  else if (!joined)
    call_tooltip = _("Join or host a room first");
  else if (!peer)
    call_tooltip = _("Waiting for a viewer to join");
  else
    call_tooltip = _("Call the viewer in this room");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->call_button), call_tooltip);

  /* Highlight Call once a viewer is waiting, as the demo's `call` event means. */
  if (can_call)
    gtk_widget_add_css_class (GTK_WIDGET (self->call_button), "suggested-action");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->call_button), "suggested-action");

  /* Out of the room: the page says why and what to do, over the preview. */
  if (!_peercam_room_problem_show (self->problem, &signaling))
    gtk_stack_set_visible_child_name (self->video_stack, has_video ? "preview" : "empty");
  /* Over the preview, out of the way; in fullscreen it comes and goes
   * with the controls. */
  if (!gtk_window_is_fullscreen (GTK_WINDOW (self)))
    gtk_widget_set_visible (self->fullscreen_button,
                            g_strcmp0 (gtk_stack_get_visible_child_name (self->video_stack), "preview") == 0);

  /* The empty page says what starts the video, and, out of a room, the
   * two ways to begin. */
  if (!self->camera_denied)
    {
      gboolean screen = gtk_drop_down_get_selected_item (self->source_dropdown) ==
                        peercam_source_picker_get_screen_item (self->picker);
      gboolean no_camera = !screen && (self->no_camera_error || no_camera_listed (self));

      adw_status_page_set_title (self->empty_page, no_camera ? _("No Camera Found") : _("No Local Video"));
      _peercam_status_page_set_description (self->empty_page,
                                            no_camera ? _("Try a call with a test pattern instead of a camera")
                                            : screen ? _("Press “Get Local Video” to choose a screen or window to share")
                                                     : _("Press “Get Local Video” to start the camera"));
      gtk_widget_set_visible (self->test_pattern_button, no_camera);
    }
  else
    gtk_widget_set_visible (self->test_pattern_button, FALSE);
  gtk_widget_set_visible (self->welcome_box, room_state == PEERCAM_ROOM_STATE_NONE);

  if (call_text != NULL)
    subtitle = g_strdup_printf ("%s · %s", signaling, call_text);
  else
    subtitle = g_steal_pointer (&signaling);
  _peercam_window_set_titles (GTK_WINDOW (self), self->window_title, self->session, subtitle);

  if (!in_call)
    {
      gtk_widget_set_visible (self->stats_grid, FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->stats_label), TRUE);
    }
}

static guint
source_position (PeercamCallerWindow *self,
                 gpointer             item)
{
  guint n = g_list_model_get_n_items (self->sources);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) other = g_list_model_get_item (self->sources, i);

      if (other == item)
        return i;
    }
  return GTK_INVALID_LIST_POSITION;
}

static void
select_item (PeercamCallerWindow *self,
             gpointer             item)
{
  guint position = source_position (self, item);

  if (position == GTK_INVALID_LIST_POSITION)
    return;
  self->syncing = TRUE;
  gtk_drop_down_set_selected (self->source_dropdown, position);
  self->syncing = FALSE;
}

static void
use_test_pattern (PeercamCallerWindow *self)
{
  gtk_drop_down_set_selected (self->source_dropdown, source_position (self, peercam_source_picker_get_test_item (self->picker)));
  gtk_widget_activate_action (GTK_WIDGET (self), "caller.get-local-video", NULL);
}

static void
use_test_pattern_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  PeercamCallerWindow *self = PEERCAM_CALLER_WINDOW (widget);

  self->no_camera_error = FALSE;
  use_test_pattern (self);
}

/* With no camera, the test pattern is what the drop-down shows: what Get
 * Local Video would start. */
static void
offer_test_pattern (PeercamCallerWindow *self)
{
  if (no_camera_listed (self) &&
      gtk_drop_down_get_selected_item (self->source_dropdown) == peercam_source_picker_get_no_camera_item (self->picker))
    gtk_drop_down_set_selected (self->source_dropdown, source_position (self, peercam_source_picker_get_test_item (self->picker)));
}

static void
retry_camera_access (PeercamCallerWindow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "caller.get-local-video", NULL);
}

static void
show_source_error (PeercamCallerWindow *self,
                   const GError        *error)
{
  AdwToast *toast;
  /* A source that cannot run (the screen refused, a file or GStreamer
   * source that fails): say why, and offer the way that always works. */
  PeercamSourceProblem problem = peercam_session_classify_source_error (error);

  if (problem == PEERCAM_SOURCE_PROBLEM_CANNOT_RUN)
    {
      toast = _peercam_toast_new (error->message);
      adw_toast_set_button_label (toast, _("Use _Test Pattern"));
      adw_toast_set_timeout (toast, 10);
      adw_toast_set_action_name (toast, "caller.use-test-pattern");
      adw_toast_overlay_add_toast (self->toast_overlay, toast);
      return;
    }

  if (problem == PEERCAM_SOURCE_PROBLEM_CAMERA_DENIED)
    {
      /* The portal remembers a refusal: say where to change it (README). */
      self->camera_denied = TRUE;
      _peercam_status_page_set_description (self->empty_page,
                                            _("Allow the camera in Settings → Apps → Peercam, then press Retry"));
      toast = _peercam_toast_new (_("Camera access was denied"));
      adw_toast_set_button_label (toast, _("_Retry"));
      adw_toast_set_timeout (toast, 10);
      g_signal_connect_object (toast, "button-clicked", G_CALLBACK (retry_camera_access), self, G_CONNECT_SWAPPED);
      adw_toast_overlay_add_toast (self->toast_overlay, toast);
      return;
    }

  if (problem != PEERCAM_SOURCE_PROBLEM_NO_CAMERA)
    {
      _peercam_window_show_error (self->toast_overlay, error->message);
      return;
    }

  /* No camera: the page offers the test pattern (see update()). */
  self->no_camera_error = TRUE;
}

static void
start_local_video (PeercamCallerWindow *self)
{
  g_autoptr(GError) error = NULL;
  gpointer selected;

  /* The placeholder stands for "the first camera", which may exist by now. */
  if (gtk_drop_down_get_selected_item (self->source_dropdown) == peercam_source_picker_get_no_camera_item (self->picker))
    {
      gpointer first = peercam_source_picker_get_first_camera (self->picker);

      if (first != NULL)
        select_item (self, first);
    }
  selected = gtk_drop_down_get_selected_item (self->source_dropdown);
  if (selected != peercam_source_picker_get_test_item (self->picker))
    peercam_source_picker_apply (self->picker, selected);

  if (!peercam_session_start_local_video (self->session, &error))
    show_source_error (self, error);
  peercam_caller_window_update (self);
}

static void
on_cameras_loading (PeercamCallerWindow *self)
{
  offer_test_pattern (self);
  peercam_caller_window_update (self);
  if (!self->waiting_for_cameras || peercam_source_picker_get_loading (self->picker))
    return;
  self->waiting_for_cameras = FALSE;
  start_local_video (self);
}

static void
on_camera_access (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(PeercamCallerWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!peercam_source_picker_access_cameras_finish (PEERCAM_SOURCE_PICKER (object), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;   /* the window is going away */

  g_clear_object (&self->portal_cancellable);
  if (error == NULL)
    {
      self->camera_denied = FALSE;
      _peercam_status_page_set_description (self->empty_page,
                                            _("Press “Get Local Video” to start the camera"));
      /* The cameras are the portal's from now on; start once listed. */
      self->waiting_for_cameras = TRUE;
      peercam_caller_window_update (self);
      on_cameras_loading (self);
      return;
    }

  show_source_error (self, error);
  peercam_caller_window_update (self);
}

static void
on_screen_chosen (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(PeercamCallerWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!peercam_source_picker_choose_screen_finish (PEERCAM_SOURCE_PICKER (object), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;   /* the window is going away */

  g_clear_object (&self->screencast_cancellable);
  if (error != NULL)
    {
      show_source_error (self, error);
      peercam_caller_window_update (self);
      return;
    }
  /* The user may have picked another source meanwhile. */
  if (gtk_drop_down_get_selected_item (self->source_dropdown) == peercam_source_picker_get_screen_item (self->picker))
    start_local_video (self);
  else
    peercam_source_picker_close_screen (self->picker);
}

static void
get_local_video_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  PeercamCallerWindow *self = PEERCAM_CALLER_WINDOW (widget);
  gpointer selected = gtk_drop_down_get_selected_item (self->source_dropdown);
  gpointer screen = peercam_source_picker_get_screen_item (self->picker);
  gpointer custom = peercam_source_picker_get_custom_item (self->picker);
  gboolean wants_camera = selected != peercam_source_picker_get_test_item (self->picker) && selected != screen &&
                          (custom == NULL || selected != custom);

  if (self->portal_cancellable != NULL || self->waiting_for_cameras || self->screencast_cancellable != NULL)
    return;

  /* The screen: the desktop asks the user which screen or window, each
   * time sharing starts. */
  if (selected == screen && !peercam_source_picker_has_screen (self->picker))
    {
      self->screencast_cancellable = g_cancellable_new ();
      peercam_source_picker_choose_screen_async (self->picker, self->screencast_cancellable,
                                                 on_screen_chosen, g_object_ref (self));
      peercam_caller_window_update (self);
      return;
    }

  /* Sandboxed (or with a desktop portal), cameras are asked for first; the
   * answer may take as long as the user looks at the dialog. */
  if (wants_camera && peercam_source_picker_needs_camera_access (self->picker))
    {
      self->portal_cancellable = g_cancellable_new ();
      peercam_source_picker_access_cameras_async (self->picker, self->portal_cancellable,
                                                  on_camera_access, g_object_ref (self));
      peercam_caller_window_update (self);
      return;
    }

  start_local_video (self);
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

/* The row's viewer for an action's id ("" is the implicit viewer). */
static PeercamViewer *
viewer_for_id (PeercamCallerWindow *self,
               GVariant            *parameter)
{
  const char *id = g_variant_get_string (parameter, NULL);

  return peercam_session_lookup_viewer (self->session, *id ? id : NULL);
}

/* A viewer's Disconnect: its call alone ends. */
static void
disconnect_viewer_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  PeercamCallerWindow *self = PEERCAM_CALLER_WINDOW (widget);
  PeercamViewer *viewer = viewer_for_id (self, parameter);

  if (viewer)
    peercam_session_disconnect_viewer (self->session, viewer);
  peercam_caller_window_update (self);
}

/* A viewer's Call: it alone is called (again). */
static void
call_viewer_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  PeercamCallerWindow *self = PEERCAM_CALLER_WINDOW (widget);
  PeercamViewer *viewer = viewer_for_id (self, parameter);
  g_autoptr(GError) error = NULL;

  if (viewer && !peercam_session_call_viewer (self->session, viewer, &error))
    _peercam_window_show_error (self->toast_overlay, error->message);
  peercam_caller_window_update (self);
}

static void
on_n_viewers (PeercamCallerWindow *self)
{
  guint n = peercam_session_get_n_viewers (self->session);
  g_autofree char *count = g_strdup_printf ("%u", n);
  g_autofree char *tooltip = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u viewer in the room",
                                                           "%u viewers in the room", n), n);

  gtk_label_set_label (self->viewers_count, count);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->viewers_button), tooltip);
  /* Alone in the room the subtitle says it waits for a viewer; the header
   * keeps its width for the title (the window fits 360 px). */
  gtk_widget_set_visible (GTK_WIDGET (self->viewers_button), n > 0);
}

/* Fullscreen: the call controls float over the video while the pointer
 * moves (see _peercam_window_setup_fullscreen()). */
static void
show_fullscreen_controls (GtkWidget *widget,
                          gboolean   shown)
{
  PeercamCallerWindow *self = PEERCAM_CALLER_WINDOW (widget);

  gtk_widget_set_visible (self->action_bar, shown);
  gtk_widget_set_visible (self->fullscreen_button, shown);
}

/* The action bar moves between the window's bottom edge and a floating
 * place over the video. */
static void
on_fullscreened (GtkWidget *widget,
                 gboolean   fullscreen)
{
  PeercamCallerWindow *self = PEERCAM_CALLER_WINDOW (widget);
  gboolean floating = gtk_widget_get_parent (self->action_bar) == GTK_WIDGET (self->video_overlay);

  gtk_button_set_icon_name (GTK_BUTTON (self->fullscreen_button),
                            fullscreen ? "view-restore-symbolic" : "view-fullscreen-symbolic");
  gtk_widget_set_tooltip_text (self->fullscreen_button, fullscreen ? _("Leave Fullscreen (Esc)") : _("Fullscreen"));
  if (fullscreen && !floating)
    {
      g_object_ref (self->action_bar);
      gtk_box_remove (self->content_box, self->action_bar);
      gtk_overlay_add_overlay (self->video_overlay, self->action_bar);
      g_object_unref (self->action_bar);
      gtk_widget_set_valign (self->action_bar, GTK_ALIGN_END);
      gtk_widget_set_halign (self->action_bar, GTK_ALIGN_CENTER);
      gtk_widget_set_margin_bottom (self->action_bar, 18);
      gtk_widget_add_css_class (self->action_bar, "fullscreen-controls");
    }
  else if (!fullscreen && floating)
    {
      g_object_ref (self->action_bar);
      gtk_overlay_remove_overlay (self->video_overlay, self->action_bar);
      gtk_box_append (self->content_box, self->action_bar);
      g_object_unref (self->action_bar);
      gtk_widget_set_valign (self->action_bar, GTK_ALIGN_FILL);
      gtk_widget_set_halign (self->action_bar, GTK_ALIGN_FILL);
      gtk_widget_set_margin_bottom (self->action_bar, 0);
      gtk_widget_remove_css_class (self->action_bar, "fullscreen-controls");
      gtk_widget_set_visible (self->action_bar, TRUE);
    }
}

static void
on_preview_pressed (GtkGestureClick     *gesture,
                    int                  n_press,
                    double               x,
                    double               y,
                    PeercamCallerWindow *self)
{
  if (n_press == 2)
    gtk_widget_activate_action (GTK_WIDGET (self), "caller.fullscreen", NULL);
}

/* The name the viewer list gives @id ("Viewer 2"), or NULL when it lists
 * no such viewer. Valid while the list holds it. */
static const char *
viewer_name (PeercamCallerWindow *self,
             const char          *id)
{
  PeercamViewer *viewer = peercam_session_lookup_viewer (self->session, id);

  return viewer ? peercam_viewer_get_name (viewer) : NULL;
}

static void
on_peer_joined (PeercamCallerWindow *self,
                const char          *peer)
{
  /* Listed before the signal: named as the list names it. */
  const char *name = viewer_name (self, peer);
  /* Translators: %s is a viewer's name in the caller's list ("Viewer 2") */
  g_autofree char *news = name ? g_strdup_printf (_("%s joined the room"), name) : NULL;

  _peercam_window_show_news (self->toast_overlay, news ? news : _("A viewer joined the room"));
  peercam_caller_window_update (self);
}

static void
on_bye (PeercamCallerWindow *self,
        const char          *viewer,
        const char          *peer)
{
  /* Still listed while the signal runs. */
  const char *name = viewer_name (self, viewer);
  /* Translators: %s is a viewer's name in the caller's list ("Viewer 2") */
  g_autofree char *news = name ? g_strdup_printf (_("%s left the room"), name) : NULL;

  _peercam_window_show_news (self->toast_overlay, news ? news : _("A viewer left the room"));
  peercam_caller_window_update (self);
}

static void
on_session_stats (PeercamCallerWindow *self,
                  const char          *viewer,
                  PeercamCallStats    *stats)
{
  _peercam_window_show_stats (GTK_GRID (self->stats_grid), GTK_WIDGET (self->stats_label), stats);
  peercam_caller_window_update (self);
}

static void
on_source_selected (PeercamCallerWindow *self)
{
  gpointer item = gtk_drop_down_get_selected_item (self->source_dropdown);
  gboolean running;

  /* Hot-plug moves entries around; that is no choice of the user's. */
  if (self->syncing || item == NULL || item == peercam_source_picker_get_current (self->picker))
    return;

  self->no_camera_error = FALSE;
  /* Switching source restarts the preview with the new one. */
  running = peercam_session_get_state (self->session) == PEERCAM_SESSION_STATE_PREVIEW;
  if (running)
    peercam_session_stop_local_video (self->session);
  peercam_source_picker_apply (self->picker, item);
  if (running)
    gtk_widget_activate_action (GTK_WIDGET (self), "caller.get-local-video", NULL);
  peercam_caller_window_update (self);
}

static void
on_cameras_changing (PeercamCallerWindow *self)
{
  self->syncing = TRUE;
}

/* After the drop-down followed the list: show the placeholder only without
 * cameras, and keep the session's source selected; when that one is gone,
 * the session takes what the drop-down now shows. */
static void
on_cameras_changed (PeercamCallerWindow *self)
{
  gboolean empty = g_list_model_get_n_items (peercam_source_picker_get_cameras (self->picker)) == 0;
  gpointer item;

  self->syncing = TRUE;
  if (empty && g_list_model_get_n_items (G_LIST_MODEL (self->placeholder)) == 0)
    g_list_store_append (self->placeholder, peercam_source_picker_get_no_camera_item (self->picker));
  else if (!empty && g_list_model_get_n_items (G_LIST_MODEL (self->placeholder)) > 0)
    g_list_store_remove_all (self->placeholder);
  self->syncing = FALSE;

  item = peercam_source_picker_get_current (self->picker);
  if (item != NULL)
    select_item (self, item);
  else
    peercam_source_picker_apply (self->picker, gtk_drop_down_get_selected_item (self->source_dropdown));
}

/* Runs once the window has its application (GtkWindow sets "application"
 * after constructed(), so this cannot live there). */
static void
peercam_caller_window_setup (PeercamCallerWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  GSettings *settings = peercam_application_get_settings (PEERCAM_APPLICATION (app));
  g_autofree char *camera = g_settings_get_string (settings, "camera");

  _peercam_window_number (GTK_WINDOW (self));
  peercam_session_follow_settings (self->session, settings);
  peercam_caller_window_set_source (self, *camera ? camera : "camera");
  offer_test_pattern (self);
  peercam_caller_window_update (self);
}

static void
peercam_caller_window_dispose (GObject *object)
{
  PeercamCallerWindow *self = PEERCAM_CALLER_WINDOW (object);

  g_cancellable_cancel (self->portal_cancellable);
  g_cancellable_cancel (self->screencast_cancellable);
  g_clear_pointer (&self->problem, _peercam_room_problem_free);
  _peercam_window_stop_fullscreen (GTK_WIDGET (self));
  if (self->session_signals != NULL)
    g_signal_group_set_target (self->session_signals, NULL);
  g_clear_object (&self->session_signals);
  if (self->session != NULL)
    {
      peercam_session_close (self->session);
    }

  gtk_widget_dispose_template (GTK_WIDGET (object), PEERCAM_TYPE_CALLER_WINDOW);
  g_clear_object (&self->preview);
  if (self->picker != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->picker, self);
      g_signal_handlers_disconnect_by_data (peercam_source_picker_get_cameras (self->picker), self);
    }
  g_clear_object (&self->sources);
  g_clear_object (&self->placeholder);
  g_clear_object (&self->picker);
  g_clear_object (&self->session);
  g_clear_object (&self->portal_cancellable);
  g_clear_object (&self->screencast_cancellable);

  G_OBJECT_CLASS (peercam_caller_window_parent_class)->dispose (object);
}

static void
setup_source_item (GtkSignalListItemFactory *factory,
                   GtkListItem              *item,
                   gpointer                  short_name)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (GPOINTER_TO_INT (short_name))
    {
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 20);
      gtk_label_set_width_chars (GTK_LABEL (label), 6);
    }
  gtk_list_item_set_child (item, label);
}

static void
bind_source_item (GtkSignalListItemFactory *factory,
                  GtkListItem              *item,
                  gpointer                  data)
{
  gtk_label_set_label (GTK_LABEL (gtk_list_item_get_child (item)),
                       peercam_source_picker_item_get_name (gtk_list_item_get_item (item)));
}

static void
peercam_caller_window_class_init (PeercamCallerWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = peercam_caller_window_dispose;

  g_type_ensure (PEERCAM_TYPE_VIEWER_LIST);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/peercam/Peercam/peercam-caller-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, content_box);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, header_bar);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, video_overlay);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, fullscreen_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, action_bar);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, menu_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, stats_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, stats_popover);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, stats_label);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, stats_grid);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, viewers_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, viewers_count);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, viewer_list);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, source_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, problem_page);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, problem_details);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, retry_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, stop_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, join_other_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, trust_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, video_stack);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, test_pattern_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, welcome_box);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, preview_picture);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, get_local_video_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, call_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, hang_up_button);

  gtk_widget_class_install_action (widget_class, "caller.get-local-video", NULL, get_local_video_action);
  gtk_widget_class_install_action (widget_class, "caller.call", NULL, call_action);
  gtk_widget_class_install_action (widget_class, "caller.fullscreen", NULL, _peercam_window_fullscreen_action);
  gtk_widget_class_install_action (widget_class, "caller.leave-fullscreen", NULL,
                                   _peercam_window_leave_fullscreen_action);
  gtk_widget_class_install_action (widget_class, "caller.use-test-pattern", NULL, use_test_pattern_action);
  gtk_widget_class_install_action (widget_class, "caller.hang-up", NULL, hang_up_action);
  gtk_widget_class_install_action (widget_class, "caller.disconnect-viewer", "s", disconnect_viewer_action);
  gtk_widget_class_install_action (widget_class, "caller.call-viewer", "s", call_viewer_action);
  _peercam_window_install_room_actions (widget_class);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, GDK_CONTROL_MASK, "caller.get-local-video", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK, "caller.call", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, "caller.hang-up", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F11, 0, "caller.fullscreen", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "caller.leave-fullscreen", NULL);
}

static void
peercam_caller_window_init (PeercamCallerWindow *self)
{
  g_autoptr(GtkBuilder) builder = NULL;
  g_autoptr(GListStore) parts = NULL;
  g_autoptr(GtkExpression) name = NULL;
  GListModel *cameras;
  GtkGesture *gesture;

  gtk_widget_init_template (GTK_WIDGET (self));

  builder = gtk_builder_new_from_resource ("/io/github/peercam/Peercam/primary-menu.ui");
  gtk_menu_button_set_menu_model (self->menu_button,
                                  G_MENU_MODEL (gtk_builder_get_object (builder, "primary_menu")));

  self->session = peercam_session_new (PEERCAM_SESSION_ROLE_CALLER);
  self->picker = peercam_source_picker_new (self->session);
  cameras = peercam_source_picker_get_cameras (self->picker);
  self->placeholder = g_list_store_new (peercam_source_picker_get_item_type ());
  if (g_list_model_get_n_items (cameras) == 0)
    g_list_store_append (self->placeholder, peercam_source_picker_get_no_camera_item (self->picker));
  parts = g_list_store_new (G_TYPE_LIST_MODEL);
  g_list_store_append (parts, cameras);
  g_list_store_append (parts, self->placeholder);
  g_list_store_append (parts, peercam_source_picker_get_extras (self->picker));
  /* Around the flatten model's own handler (connected later): changes it
   * passes on to the drop-down are bracketed by these two. */
  g_signal_connect_object (cameras, "items-changed", G_CALLBACK (on_cameras_changing), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (cameras, "items-changed", G_CALLBACK (on_cameras_changed), self,
                           G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  g_signal_connect_object (self->picker, "notify::loading", G_CALLBACK (on_cameras_loading), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->picker, "screen-closed", G_CALLBACK (peercam_caller_window_update), self,
                           G_CONNECT_SWAPPED);
  self->sources = G_LIST_MODEL (gtk_flatten_list_model_new (G_LIST_MODEL (g_steal_pointer (&parts))));
  name = gtk_property_expression_new (peercam_source_picker_get_item_type (), NULL, "name");
  gtk_drop_down_set_expression (self->source_dropdown, name);
  /* The button shows a short name so the window fits a phone; the list
   * shows names whole. */
  {
    g_autoptr(GtkListItemFactory) button_factory = gtk_signal_list_item_factory_new ();
    g_autoptr(GtkListItemFactory) list_factory = gtk_signal_list_item_factory_new ();

    g_signal_connect (button_factory, "setup", G_CALLBACK (setup_source_item), GINT_TO_POINTER (TRUE));
    g_signal_connect (button_factory, "bind", G_CALLBACK (bind_source_item), NULL);
    g_signal_connect (list_factory, "setup", G_CALLBACK (setup_source_item), GINT_TO_POINTER (FALSE));
    g_signal_connect (list_factory, "bind", G_CALLBACK (bind_source_item), NULL);
    gtk_drop_down_set_factory (self->source_dropdown, button_factory);
    gtk_drop_down_set_list_factory (self->source_dropdown, list_factory);
  }
  /* A tooltip would cover the statistics it names. */
  g_object_bind_property (self->stats_popover, "visible", self->stats_button, "has-tooltip",
                          G_BINDING_SYNC_CREATE | G_BINDING_INVERT_BOOLEAN);
  gtk_drop_down_set_model (self->source_dropdown, self->sources);

  gesture = gtk_gesture_click_new ();
  g_signal_connect (gesture, "pressed", G_CALLBACK (on_preview_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self->preview_picture), GTK_EVENT_CONTROLLER (gesture));
  _peercam_window_setup_fullscreen (GTK_WIDGET (self), self->header_bar, "caller.leave-fullscreen",
                                    show_fullscreen_controls, on_fullscreened);

  self->preview = peercam_video_paintable_new ();
  peercam_session_set_local_sink (self->session, peercam_video_paintable_get_sink (self->preview));
  gtk_picture_set_paintable (self->preview_picture, GDK_PAINTABLE (self->preview));

  /* The session, observed through one signal group. */
  self->session_signals = _peercam_window_follow_session (GTK_WIDGET (self), self->toast_overlay,
                                                          G_CALLBACK (peercam_caller_window_update),
                                                          G_CALLBACK (peercam_caller_window_update),
                                                          G_CALLBACK (on_session_stats));
  g_signal_group_connect_object (self->session_signals, "peer-joined",
                                 G_CALLBACK (on_peer_joined), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->session_signals, "bye",
                                 G_CALLBACK (on_bye), self, G_CONNECT_SWAPPED);
  self->problem = _peercam_room_problem_new (GTK_WIDGET (self), self->session, self->toast_overlay,
                                             G_CALLBACK (peercam_caller_window_update));
  _peercam_room_problem_set_page (self->problem, self->video_stack, self->problem_page, self->problem_details,
                                  self->retry_button, self->stop_button, self->trust_button);
  g_signal_group_connect_object (self->session_signals, "notify::peer-present",
                                 G_CALLBACK (peercam_caller_window_update), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->session_signals, "notify::n-viewers",
                                 G_CALLBACK (on_n_viewers), self, G_CONNECT_SWAPPED);
  g_signal_group_set_target (self->session_signals, self->session);
  peercam_viewer_list_set_model (self->viewer_list, peercam_session_get_viewers (self->session));
  on_n_viewers (self);
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

  /* "test"/"smpte"/"ball", "camera" (the first one), a camera's id,
   * "screen", or a "file:"/"gst:" source: that gets an entry of its own. */
  self->syncing = TRUE;
  peercam_source_picker_set_source (self->picker, source);
  self->syncing = FALSE;
  select_item (self, peercam_source_picker_get_current (self->picker));
}

void
peercam_caller_window_join (PeercamCallerWindow *self,
                            const char          *server_url,
                            const char          *room,
                            const char          *token,
                            const char          *pin)
{
  g_return_if_fail (PEERCAM_IS_CALLER_WINDOW (self));

  _peercam_window_join (self->session, self->toast_overlay, server_url, room, token, pin);
  peercam_caller_window_update (self);
}

/* For errors that belong to this window but happen outside it, such as a
 * room that could not be hosted for the command line that opened it. */
void
peercam_caller_window_show_error (PeercamCallerWindow *self,
                                  const char          *message)
{
  g_return_if_fail (PEERCAM_IS_CALLER_WINDOW (self));

  _peercam_window_show_error (self->toast_overlay, message);
}
