/* test-gui-newcomer.c — the desktop app as a newcomer meets it (issue 14):
 * each test drives the real widgets through what a user does and checks what
 * the user sees.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "peercam-application.h"
#include "peercam-caller-window.h"
#include "peercam-host-window.h"
#include "peercam-invite.h"
#include "peercam-join-dialog.h"
#include "peercam-preferences-window.h"
#include "peercam-tls.h"
#include "peercam-viewer-window.h"
#include "peercam-window-common.h"
#include "peercam-test-util.h"

static PeercamApplication *app;

static GtkWindow *
find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();  /* transfer none */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (window, type))
        return GTK_WINDOW (window);
    }
  return NULL;
}

static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_descendant (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

typedef struct {
  GtkWidget  *window;
  const char *file;
  char       *path;
} Shot;

static void
shoot_after_paint (GdkFrameClock *clock,
                   Shot          *shot)
{
  /* Right after GTK laid the window out and painted it: nothing can have
   * queued a relayout in between, so every widget has its allocation. */
  if (shot->path == NULL)
    shot->path = peercam_test_save_screenshot (shot->window, shot->file);
}

static gboolean
shot_taken (gpointer data)
{
  return ((Shot *) data)->path != NULL;
}

/* The path of a screenshot of @window taken in its next frame. */
static char *
save_in_next_frame (GtkWindow  *window,
                    const char *file)
{
  Shot shot = { GTK_WIDGET (window), file, NULL };
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  gulong id;

  g_assert_nonnull (clock);
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (shoot_after_paint), &shot);
  gtk_widget_queue_draw (GTK_WIDGET (window));
  g_assert_true (peercam_test_wait_until (shot_taken, &shot, 5000));
  g_signal_handler_disconnect (clock, id);
  return shot.path;
}

/* Saves @window as the user sees it, light and dark, as
 * NAME-LANG-light.png and NAME-LANG-dark.png under build/tests/screenshots/. */
static void
shoot (GtkWindow  *window,
       const char *name)
{
  AdwStyleManager *style = adw_style_manager_get_default ();
  const char *lang = g_getenv ("LANGUAGE");
  static const struct { AdwColorScheme scheme; const char *suffix; } schemes[] = {
    { ADW_COLOR_SCHEME_FORCE_LIGHT, "light" },
    { ADW_COLOR_SCHEME_FORCE_DARK, "dark" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (schemes); i++)
    {
      g_autofree char *file = g_strdup_printf ("%s-%s-%s.png", name, lang && *lang ? lang : "en", schemes[i].suffix);
      g_autofree char *path = NULL;
      g_autoptr(GdkTexture) texture = NULL;

      adw_style_manager_set_color_scheme (style, schemes[i].scheme);
      peercam_test_spin (150);
      path = save_in_next_frame (window, file);
      texture = gdk_texture_new_from_filename (path, NULL);
      g_assert_nonnull (texture);
      g_assert_false (peercam_test_texture_is_blank (texture));
    }
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);
}

/* A window takes a new default size when it is realized again. */
static void
resize (GtkWindow *window,
        int        width,
        int        height)
{
  gtk_widget_set_visible (GTK_WIDGET (window), FALSE);
  gtk_widget_unrealize (GTK_WIDGET (window));
  gtk_window_set_default_size (window, width, height);
  gtk_window_present (window);
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, window, 5000));
  peercam_test_spin (300);
  g_test_message ("%s is %d px wide", G_OBJECT_TYPE_NAME (window), gtk_widget_get_width (GTK_WIDGET (window)));
}

static gboolean
no_join_dialog (gpointer data)
{
  return find_toplevel (PEERCAM_TYPE_JOIN_DIALOG) == NULL;
}

/* Bug 1: Enter in the Access Token field joins, and does not crash. */
static void
test_join_dialog_enter_in_token (void)
{
  GtkWindow *viewer = peercam_application_new_viewer_window (app);
  PeercamSession *session = peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (viewer));
  GtkWindow *dialog;
  GtkWidget *token_row, *text;

  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, viewer, 5000));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (viewer), "room.join", NULL));
  dialog = find_toplevel (PEERCAM_TYPE_JOIN_DIALOG);
  g_assert_nonnull (dialog);
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, dialog, 5000));

  gtk_editable_set_text (GTK_EDITABLE (peercam_test_template_child (GTK_WIDGET (dialog), PEERCAM_TYPE_JOIN_DIALOG, "server_row")),
                         "http://127.0.0.1:1");
  token_row = peercam_test_template_child (GTK_WIDGET (dialog), PEERCAM_TYPE_JOIN_DIALOG, "token_row");
  gtk_editable_set_text (GTK_EDITABLE (token_row), "secret");
  text = find_descendant (token_row, GTK_TYPE_TEXT);
  g_assert_nonnull (text);
  gtk_widget_grab_focus (text);
  /* What Enter does in a GtkText. */
  g_signal_emit_by_name (text, "activate");

  g_assert_true (peercam_test_wait_until (no_join_dialog, NULL, 5000));
  g_assert_nonnull (peercam_session_get_client (session));
  g_assert_cmpstr (peercam_signaling_client_get_token (peercam_session_get_client (session)), ==, "secret");

  g_settings_reset (peercam_application_get_settings (app), "server-url");
  g_settings_reset (peercam_application_get_settings (app), "room");
  gtk_window_destroy (viewer);
  peercam_test_spin (100);
}

/* The menu entry whose label (translated, as the popover shows it: without
 * the mnemonic's underscore) is @label. */
static GtkWidget *
find_menu_item (GtkWidget  *widget,
                const char *label)
{
  GType model_button = g_type_from_name ("GtkModelButton");

  if (model_button != 0 && G_TYPE_CHECK_INSTANCE_TYPE (widget, model_button))
    {
      g_autofree char *text = NULL;
      g_autoptr(GString) wanted = g_string_new (label);

      g_string_replace (wanted, "_", "", 0);
      g_object_get (widget, "text", &text, NULL);
      if (g_strcmp0 (text, wanted->str) == 0)
        return widget;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_menu_item (child, label);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Bug 2: "Join a Room…" in the primary menu can be chosen. */
static void
check_join_menu_item (GtkWindow *window,
                      GType      type)
{
  GtkMenuButton *menu_button = GTK_MENU_BUTTON (peercam_test_template_child (window, type, "menu_button"));
  GtkWidget *item;

  gtk_menu_button_popup (menu_button);
  peercam_test_spin (200);
  item = find_menu_item (GTK_WIDGET (gtk_menu_button_get_popover (menu_button)), _("_Join a Room…"));
  g_assert_nonnull (item);
  g_assert_true (gtk_widget_get_sensitive (item));
  gtk_widget_activate (item);
  peercam_test_spin (200);
  g_assert_nonnull (find_toplevel (PEERCAM_TYPE_JOIN_DIALOG));
  gtk_window_destroy (find_toplevel (PEERCAM_TYPE_JOIN_DIALOG));
}

static void
test_join_menu_item (void)
{
  GtkWindow *caller = peercam_application_new_caller_window (app);
  GtkWindow *viewer = peercam_application_new_viewer_window (app);

  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, caller, 5000));
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, viewer, 5000));
  check_join_menu_item (caller, PEERCAM_TYPE_CALLER_WINDOW);
  check_join_menu_item (viewer, PEERCAM_TYPE_VIEWER_WINDOW);
  gtk_window_destroy (caller);
  gtk_window_destroy (viewer);
  peercam_test_spin (100);
}

static guint
free_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, &error);

  g_assert_no_error (error);
  g_socket_listener_close (listener);
  return port;
}

static gboolean
has_host_window (gpointer data)
{
  GtkWindow *window = find_toplevel (PEERCAM_TYPE_HOST_WINDOW);

  return window != NULL && peercam_test_is_mapped (window);
}

static gboolean
is_hosting (gpointer data)
{
  return peercam_test_app_get_server (app) != NULL;
}

/* Host a Room… → port, token, HTTPS → Start Hosting, as a user does. */
static GtkWindow *
host_from_window (const char *token,
                  gboolean    tls)
{
  GtkWindow *window;

  g_action_group_activate_action (G_ACTION_GROUP (app), "host", NULL);
  g_assert_true (peercam_test_wait_until (has_host_window, NULL, 5000));
  window = find_toplevel (PEERCAM_TYPE_HOST_WINDOW);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (peercam_test_template_child (window, PEERCAM_TYPE_HOST_WINDOW, "port_spin")),
                             free_port ());
  gtk_editable_set_text (GTK_EDITABLE (peercam_test_template_child (window, PEERCAM_TYPE_HOST_WINDOW, "token_row")),
                         token ? token : "");
  gtk_switch_set_active (GTK_SWITCH (peercam_test_template_child (window, PEERCAM_TYPE_HOST_WINDOW, "tls_switch")), tls);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "host.toggle", NULL));
  g_assert_true (peercam_test_wait_until (is_hosting, NULL, 5000));
  return window;
}

static void
stop_hosting (GtkWindow *host_window)
{
  GSettings *settings = peercam_application_get_settings (app);

  peercam_application_stop_hosting (app);
  if (host_window != NULL)
    gtk_window_destroy (host_window);
  g_settings_reset (settings, "host-port");
  g_settings_reset (settings, "host-token");
  g_settings_reset (settings, "host-tls");
  peercam_test_spin (100);
}

/* Bug 5: a caller window opened before hosting joins the hosted room, so
 * Call can be pressed once a viewer is there. */
static void
test_host_from_fresh_caller (void)
{
  GtkWindow *caller = peercam_application_new_caller_window (app);
  PeercamSession *session = peercam_caller_window_get_session (PEERCAM_CALLER_WINDOW (caller));
  GtkWindow *host, *viewer;

  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, caller, 5000));
  g_assert_null (peercam_session_get_client (session));
  peercam_caller_window_set_source (PEERCAM_CALLER_WINDOW (caller), "smpte");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.get-local-video", NULL));

  host = host_from_window (NULL, FALSE);
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, session, 10000));
  viewer = peercam_application_new_viewer_window (app);
  g_assert_true (peercam_test_wait_until (peercam_test_is_sensitive,
                                          peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "call_button"),
                                          10000));

  gtk_window_destroy (viewer);
  gtk_window_destroy (caller);
  stop_hosting (host);
}

static gboolean
any_row_contains (GtkWidget  *widget,
                  const char *needle)
{
  if (ADW_IS_PREFERENCES_ROW (widget) &&
      strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), needle) != NULL)
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    if (any_row_contains (child, needle))
      return TRUE;
  return FALSE;
}

/* Bug 3: with a token, the host's own windows (opened before and after)
 * join; the invites and the QR code carry the token. */
static void
test_host_with_token (void)
{
  GtkWindow *old_viewer = peercam_application_new_viewer_window (app);
  GtkWindow *host, *caller;
  GtkWidget *join_group, *qr;
  const char *qr_text;

  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, old_viewer, 5000));
  host = host_from_window ("s3cret", FALSE);
  caller = peercam_application_new_caller_window (app);
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (old_viewer)), 10000));
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, peercam_caller_window_get_session (PEERCAM_CALLER_WINDOW (caller)), 10000));

  join_group = peercam_test_template_child (host, PEERCAM_TYPE_HOST_WINDOW, "join_group");
  g_assert_true (any_row_contains (join_group, "#token=s3cret"));
  g_assert_true (any_row_contains (join_group, "?room=room"));
  qr = peercam_test_template_child (host, PEERCAM_TYPE_HOST_WINDOW, "qr_picture");
  qr_text = g_object_get_data (G_OBJECT (qr), "peercam-qr-text");
  g_assert_nonnull (qr_text);
  g_assert_nonnull (strstr (qr_text, "#token=s3cret"));
  shoot (host, "host-token");

  gtk_window_destroy (caller);
  gtk_window_destroy (old_viewer);
  stop_hosting (host);
}

static gboolean
widget_visible (gpointer data)
{
  return gtk_widget_get_visible (data);
}

/* Bug 8: Call waits for a viewer and says so; Hang Up only in a call. */
static void
test_call_controls (void)
{
  g_autoptr(GError) error = NULL;
  GtkWindow *caller, *viewer;
  GtkWidget *call, *hang_up;
  PeercamSession *session;

  g_assert_true (peercam_application_start_hosting (app, 0, NULL, FALSE, &error));
  caller = peercam_application_new_caller_window (app);
  session = peercam_caller_window_get_session (PEERCAM_CALLER_WINDOW (caller));
  call = peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "call_button");
  hang_up = peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "hang_up_button");
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, caller, 5000));
  peercam_caller_window_set_source (PEERCAM_CALLER_WINDOW (caller), "smpte");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.get-local-video", NULL));
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, session, 10000));
  peercam_test_spin (300);

  /* Alone in the room: nobody to call. */
  g_assert_false (gtk_widget_get_sensitive (call));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (call), ==, _("Waiting for a viewer to join"));
  g_assert_false (gtk_widget_get_visible (hang_up));
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.call", NULL) &&
                  peercam_call_engine_get_state (peercam_session_get_engine (session)) == PEERCAM_CALL_STATE_CALLING);
  shoot (caller, "caller-alone");

  viewer = peercam_application_new_viewer_window (app);
  g_assert_true (peercam_test_wait_until (peercam_test_peer_present, session, 10000));
  g_assert_true (peercam_test_wait_until (peercam_test_is_sensitive, call, 5000));
  g_assert_false (gtk_widget_get_visible (hang_up));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.call", NULL));
  g_assert_true (peercam_test_wait_until (widget_visible, hang_up, 5000));
  g_assert_true (gtk_widget_get_sensitive (hang_up));
  g_assert_true (peercam_test_wait_until (peercam_test_viewer_shows_video, viewer, 30000));
  peercam_test_spin (500);
  shoot (caller, "caller-in-call");
  shoot (viewer, "viewer-in-call");

  gtk_window_destroy (viewer);
  gtk_window_destroy (caller);
  peercam_test_spin (200);
  stop_hosting (NULL);
}

static const char *
visible_page (GtkWindow *window)
{
  GType type = G_OBJECT_TYPE (window);

  return gtk_stack_get_visible_child_name (GTK_STACK (peercam_test_template_child (window, type, "video_stack")));
}

static gboolean
shows_problem (gpointer data)
{
  return g_strcmp0 (visible_page (data), "problem") == 0;
}

static const char *
problem_title (GtkWindow *window)
{
  return adw_status_page_get_title (ADW_STATUS_PAGE (peercam_test_template_child (window, G_OBJECT_TYPE (window), "problem_page")));
}

static const char *
subtitle (GtkWindow *window)
{
  return adw_window_title_get_subtitle (ADW_WINDOW_TITLE (peercam_test_template_child (window, G_OBJECT_TYPE (window), "window_title")));
}

static gboolean
button_visible (GtkWindow  *window,
                const char *name)
{
  return gtk_widget_get_visible (peercam_test_template_child (window, G_OBJECT_TYPE (window), name));
}

static void
join_from_dialog (GtkWindow  *window,
                  const char *link,
                  const char *token)
{
  GtkWindow *dialog;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "room.join", NULL));
  dialog = find_toplevel (PEERCAM_TYPE_JOIN_DIALOG);
  g_assert_nonnull (dialog);
  gtk_editable_set_text (GTK_EDITABLE (peercam_test_template_child (dialog, PEERCAM_TYPE_JOIN_DIALOG, "server_row")), link);
  if (token != NULL)
    gtk_editable_set_text (GTK_EDITABLE (peercam_test_template_child (dialog, PEERCAM_TYPE_JOIN_DIALOG, "token_row")), token);
  g_assert_true (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "join"));
  /* As the default response (Enter) does: respond, then close. */
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "join");
  gtk_window_close (dialog);
  g_assert_true (peercam_test_wait_until (no_join_dialog, NULL, 5000));
}

/* Bug 6: a full room says so on the page, not "Waiting for a Call". */
static void
test_room_full (void)
{
  g_autoptr(GError) error = NULL;
  GtkWindow *viewer, *caller, *third;

  /* The demo's two-member room (a hosted room holds 4 viewers by default). */
  g_settings_set_uint (peercam_application_get_settings (app), "max-viewers", 1);
  g_assert_true (peercam_application_start_hosting (app, 0, NULL, FALSE, &error));
  g_settings_reset (peercam_application_get_settings (app), "max-viewers");
  viewer = peercam_application_new_viewer_window (app);
  caller = peercam_application_new_caller_window (app);
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (viewer)), 10000));
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, peercam_caller_window_get_session (PEERCAM_CALLER_WINDOW (caller)), 10000));

  third = peercam_application_new_viewer_window (app);
  g_assert_true (peercam_test_wait_until (shows_problem, third, 10000));
  g_assert_cmpstr (problem_title (third), ==, _("The Room Is Full"));
  g_assert_cmpstr (subtitle (third), ==, _("Room is full"));
  g_assert_true (button_visible (third, "retry_button"));
  g_assert_true (button_visible (third, "join_other_button"));
  shoot (third, "viewer-room-full");

  gtk_window_destroy (caller);
  /* Someone left: Try Again gets in. */
  peercam_test_spin (300);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (third), "room.retry", NULL));
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (third)), 10000));
  g_assert_cmpstr (visible_page (third), ==, "waiting");

  gtk_window_destroy (third);
  gtk_window_destroy (viewer);
  stop_hosting (NULL);
}

/* Text from outside (a room's name, a file's name in an error) shows as
 * it was typed: libadwaita 1.2 reads toast titles, status page
 * descriptions and rows as Pango markup, where "R&D <1>" showed as
 * nothing (and a warning in the terminal). */
static gboolean
shows_text (GtkWidget  *widget,
            const char *text)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_get_visible (widget) &&
      g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0)
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    if (shows_text (child, text))
      return TRUE;
  return FALSE;
}

typedef struct {
  GtkWidget  *widget;
  const char *text;
} ShowsText;

static gboolean
shows_text_cb (gpointer data)
{
  ShowsText *check = data;

  return shows_text (check->widget, check->text);
}

static void
test_plain_text (void)
{
  static const char room[] = "R&D <1>";
  static const char file_error[] = "Cannot play “Tom & Jerry <1>.mp4”";
  GSettings *settings = peercam_application_get_settings (app);
  g_autofree char *waiting = g_strdup_printf (_("The video appears when the caller in room “%s” calls"), room);
  g_autofree char *full = g_strdup_printf (_("Room “%s” already has a caller and a viewer. "
                                             "Try again when one of them leaves, or join another room."), room);
  GtkWindow *host, *viewer, *caller, *third;
  ShowsText check;

  g_settings_set_string (settings, "room", room);
  g_settings_set_uint (settings, "max-viewers", 1);
  host = host_from_window (NULL, FALSE);
  g_settings_reset (settings, "max-viewers");
  check = (ShowsText) { peercam_test_template_child (host, PEERCAM_TYPE_HOST_WINDOW, "room_row"), room };
  g_assert_true (peercam_test_wait_until (shows_text_cb, &check, 5000));

  viewer = peercam_application_new_viewer_window (app);
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (viewer)), 10000));
  check = (ShowsText) { peercam_test_template_child (viewer, PEERCAM_TYPE_VIEWER_WINDOW, "waiting_page"), waiting };
  g_assert_true (peercam_test_wait_until (shows_text_cb, &check, 5000));
  shoot (viewer, "viewer-room-markup");

  caller = peercam_application_new_caller_window (app);
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, peercam_caller_window_get_session (PEERCAM_CALLER_WINDOW (caller)), 10000));
  peercam_caller_window_show_error (PEERCAM_CALLER_WINDOW (caller), file_error);
  check = (ShowsText) { peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "toast_overlay"), file_error };
  g_assert_true (peercam_test_wait_until (shows_text_cb, &check, 15000));
  shoot (caller, "caller-error-markup");

  third = peercam_application_new_viewer_window (app);
  g_assert_true (peercam_test_wait_until (shows_problem, third, 10000));
  check = (ShowsText) { peercam_test_template_child (third, PEERCAM_TYPE_VIEWER_WINDOW, "problem_page"), full };
  g_assert_true (peercam_test_wait_until (shows_text_cb, &check, 5000));

  gtk_window_destroy (third);
  gtk_window_destroy (caller);
  gtk_window_destroy (viewer);
  stop_hosting (host);
  g_settings_reset (settings, "room");
}

/* News of the room takes the place of the news before it: a viewer who
 * joined and left (or four who joined at once) is said now, not after
 * each earlier toast's 5 s. */
static void
test_news (void)
{
  GtkWindow *caller = peercam_application_new_caller_window (app);
  AdwToastOverlay *overlay;
  AdwToast *news, *again;
  ShowsText check;

  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, caller, 5000));
  overlay = ADW_TOAST_OVERLAY (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "toast_overlay"));
  news = _peercam_window_show_news (overlay, _("A viewer joined the room"));
  g_object_ref (news);   /* compared with the next news after it is gone */
  check = (ShowsText) { GTK_WIDGET (overlay), _("A viewer joined the room") };
  g_assert_true (peercam_test_wait_until (shows_text_cb, &check, 10000));

  /* At once, in the same place; and a burst (every 10 ms) is no harm. */
  for (guint i = 0; i < 6; i++)
    {
      again = _peercam_window_show_news (overlay, i % 2 ? _("A viewer joined the room") : _("A viewer left the room"));
      g_assert_true (again == news);
      peercam_test_spin (10);
    }
  g_assert_true (shows_text (GTK_WIDGET (overlay), _("A viewer joined the room")));
  g_assert_false (shows_text (GTK_WIDGET (overlay), _("A viewer left the room")));

  /* An error is not news: it waits its turn, and news after it does not
   * take its place. */
  _peercam_window_show_error (overlay, "Something failed");
  again = _peercam_window_show_news (overlay, _("A viewer left the room"));
  g_assert_true (again == news);
  g_assert_true (shows_text (GTK_WIDGET (overlay), _("A viewer left the room")));
  peercam_test_spin (600);   /* past its show animation */
  adw_toast_dismiss (news);
  check.text = "Something failed";
  g_assert_true (peercam_test_wait_until (shows_text_cb, &check, 5000));

  /* News once the last is gone is a toast of its own, after the error. */
  again = _peercam_window_show_news (overlay, _("Call ended"));
  g_assert_true (again != news);
  g_assert_false (shows_text (GTK_WIDGET (overlay), _("Call ended")));

  g_object_unref (news);
  gtk_window_destroy (caller);
  peercam_test_spin (100);
}

/* Bug 6: a refused token replaces the page, with what to do. */
static void
test_wrong_token (void)
{
  g_autoptr(GError) error = NULL;
  GtkWindow *viewer;
  g_autofree char *url = NULL;

  g_assert_true (peercam_application_start_hosting (app, 0, "right", FALSE, &error));
  url = g_strdup_printf ("http://127.0.0.1:%u", peercam_signaling_server_get_port (peercam_test_app_get_server (app)));
  /* The window opened while hosting is in the room: leave it, join as a stranger would. */
  viewer = peercam_application_new_viewer_window (app);
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, viewer, 5000));
  join_from_dialog (viewer, url, "wrong");
  g_assert_true (peercam_test_wait_until (shows_problem, viewer, 10000));
  g_assert_cmpstr (problem_title (viewer), ==, _("Wrong Access Token"));
  g_assert_true (button_visible (viewer, "join_other_button"));
  shoot (viewer, "viewer-wrong-token");

  gtk_window_destroy (viewer);
  g_settings_reset (peercam_application_get_settings (app), "server-url");
  stop_hosting (NULL);
}

/* Bug 6: an unreachable server says so in plain words, and Stop stops. */
static void
test_unreachable (void)
{
  GtkWindow *caller = peercam_application_new_caller_window (app);
  PeercamSession *session = peercam_caller_window_get_session (PEERCAM_CALLER_WINDOW (caller));
  const char *description;

  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, caller, 5000));
  join_from_dialog (caller, "http://127.0.0.1:1", NULL);
  g_assert_true (peercam_test_wait_until (shows_problem, caller, 10000));
  g_assert_cmpstr (problem_title (caller), ==, _("Cannot Reach the Host"));
  description = adw_status_page_get_description (ADW_STATUS_PAGE (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "problem_page")));
  g_assert_null (strstr (description, "refused"));
  g_assert_null (strstr (description, "code"));
  g_assert_true (button_visible (caller, "stop_button"));
  shoot (caller, "caller-unreachable");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "room.stop", NULL));
  g_assert_null (peercam_session_get_client (session));
  g_assert_cmpstr (visible_page (caller), !=, "problem");
  g_assert_cmpstr (subtitle (caller), ==, _("Not in a room"));

  gtk_window_destroy (caller);
  g_settings_reset (peercam_application_get_settings (app), "server-url");
}

/* Bug 7: a toast over video is readable: it has its own opaque background,
 * and its text differs from it. */
static void
test_toast_over_video (void)
{
  GtkWindow *caller = peercam_application_new_caller_window (app);
  GtkWidget *overlay = peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "toast_overlay");
  GtkWidget *toast;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree guchar *pixels = NULL;
  int width, height;
  double min_luma = 1, max_luma = 0, sum = 0;
  guint n = 0;

  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, caller, 5000));
  peercam_caller_window_set_source (PEERCAM_CALLER_WINDOW (caller), "ball");  /* mostly black */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.get-local-video", NULL));
  peercam_caller_window_show_error (PEERCAM_CALLER_WINDOW (caller), "A viewer joined the room");
  peercam_test_spin (800);
  shoot (caller, "caller-toast");

  toast = find_descendant (overlay, g_type_from_name ("AdwToastWidget"));
  g_assert_nonnull (toast);
  texture = peercam_test_render_widget (toast);
  width = gdk_texture_get_width (texture);
  height = gdk_texture_get_height (texture);
  pixels = g_malloc ((gsize) width * height * 4);
  gdk_texture_download (texture, pixels, (gsize) width * 4);
  for (int y = 0; y < height; y++)
    for (int x = height; x < width - height; x++)   /* off the rounded ends */
      {
        const guchar *p = pixels + ((gsize) y * width + x) * 4;
        /* Cairo-format ARGB32, premultiplied: a transparent pixel is 0. */
        double alpha = p[3] / 255.0;
        double luma = (0.2126 * p[2] + 0.7152 * p[1] + 0.0722 * p[0]) / 255.0;

        g_assert_cmpfloat (alpha, >, 0.9);
        min_luma = MIN (min_luma, luma);
        max_luma = MAX (max_luma, luma);
        sum += luma;
        n++;
      }
  g_test_message ("toast luma %.2f–%.2f, mean %.2f", min_luma, max_luma, sum / n);
  g_assert_cmpfloat (max_luma - min_luma, >, 0.5);

  gtk_window_destroy (caller);
}

static gboolean
label_is_ellipsized (GtkWidget *widget)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_get_mapped (widget) &&
      pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (widget))))
    {
      g_test_message ("ellipsized: %s", gtk_label_get_label (GTK_LABEL (widget)));
      return TRUE;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    if (label_is_ellipsized (child))
      return TRUE;
  return FALSE;
}

/* Bug 12: the statistics are a table under a chart icon, with no tooltip
 * over them; the caller window fits 360 px with its subtitle whole. */
static void
test_stats_and_narrow (void)
{
  g_autoptr(GError) error = NULL;
  GtkWindow *caller;
  GtkWidget *stats_button, *title;
  GtkPopover *popover;
  int minimum = 0;

  g_assert_true (peercam_application_start_hosting (app, 0, NULL, FALSE, &error));
  caller = peercam_application_new_caller_window (app);
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, peercam_caller_window_get_session (PEERCAM_CALLER_WINDOW (caller)), 10000));
  gtk_widget_measure (GTK_WIDGET (caller), GTK_ORIENTATION_HORIZONTAL, -1, &minimum, NULL, NULL, NULL);
  g_test_message ("caller window minimum width: %d", minimum);
  g_assert_cmpint (minimum, <=, 360);

  resize (caller, 360, 600);
  title = peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "window_title");
  g_assert_false (label_is_ellipsized (title));
  shoot (caller, "caller-360");

  stats_button = peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "stats_button");
  g_assert_cmpstr (gtk_menu_button_get_icon_name (GTK_MENU_BUTTON (stats_button)), ==, "peercam-statistics-symbolic");
  g_assert_true (gtk_icon_theme_has_icon (gtk_icon_theme_get_for_display (gtk_widget_get_display (stats_button)),
                                          "peercam-statistics-symbolic"));
  gtk_menu_button_popup (GTK_MENU_BUTTON (stats_button));
  popover = gtk_menu_button_get_popover (GTK_MENU_BUTTON (stats_button));
  peercam_test_spin (300);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (popover)));
  g_assert_false (gtk_widget_get_has_tooltip (stats_button));
  g_assert_true (GTK_IS_GRID (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "stats_grid")));
  gtk_popover_popdown (popover);
  peercam_test_spin (100);
  g_assert_true (gtk_widget_get_has_tooltip (stats_button));

  gtk_window_destroy (caller);
  stop_hosting (NULL);
}

static gboolean
is_fullscreen (gpointer data)
{
  return gtk_window_is_fullscreen (data);
}

static GtkShortcut *
find_shortcut (GtkWidget *widget,
               guint      keyval)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);
  g_autoptr(GtkShortcutTrigger) wanted = gtk_keyval_trigger_new (keyval, 0);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (controller)); j++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), j);

          if (gtk_shortcut_trigger_equal (gtk_shortcut_get_trigger (shortcut), wanted))
            return shortcut;   /* the controller keeps it */
        }
    }
  return NULL;
}

/* Bug 10: fullscreen is the picture alone, with floating controls that
 * fade with the pointer, and Escape leaves it. (Xvfb has no window manager:
 * a window that is not mapped takes the state at once.) */
static void
test_fullscreen (void)
{
  GtkWindow *viewer = peercam_application_new_viewer_window (app);
  GtkWidget *header = peercam_test_template_child (viewer, PEERCAM_TYPE_VIEWER_WINDOW, "header_bar");
  GtkRevealer *controls = GTK_REVEALER (peercam_test_template_child (viewer, PEERCAM_TYPE_VIEWER_WINDOW, "fullscreen_controls"));
  GtkShortcut *escape;
  GtkEventController *motion = NULL;

  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, viewer, 5000));
  g_assert_true (gtk_widget_get_visible (header));
  escape = find_shortcut (GTK_WIDGET (viewer), GDK_KEY_Escape);
  g_assert_nonnull (escape);
  g_assert_true (GTK_IS_NAMED_ACTION (gtk_shortcut_get_action (escape)));
  g_assert_cmpstr (gtk_named_action_get_action_name (GTK_NAMED_ACTION (gtk_shortcut_get_action (escape))), ==,
                   "viewer.leave-fullscreen");

  gtk_widget_set_visible (GTK_WIDGET (viewer), FALSE);
  gtk_widget_unrealize (GTK_WIDGET (viewer));
  gtk_window_fullscreen (viewer);
  gtk_window_present (viewer);
  g_assert_true (peercam_test_wait_until (is_fullscreen, viewer, 5000));
  peercam_test_spin (300);
  g_assert_false (gtk_widget_get_visible (header));
  g_assert_true (gtk_revealer_get_reveal_child (controls));
  shoot (viewer, "viewer-fullscreen");

  /* The controls fade, and come back when the pointer moves. */
  peercam_test_spin (2500);
  g_assert_false (gtk_revealer_get_reveal_child (controls));
  {
    g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (viewer));

    for (guint i = 0; i < g_list_model_get_n_items (controllers) && motion == NULL; i++)
      {
        g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

        if (GTK_IS_EVENT_CONTROLLER_MOTION (controller))
          motion = GTK_EVENT_CONTROLLER (controller);
      }
  }
  g_assert_nonnull (motion);
  g_signal_emit_by_name (motion, "motion", 10.0, 10.0);
  g_assert_true (gtk_revealer_get_reveal_child (controls));

  /* What Escape does (unmapped first: no window manager to ask). */
  gtk_widget_set_visible (GTK_WIDGET (viewer), FALSE);
  gtk_widget_unrealize (GTK_WIDGET (viewer));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (viewer), "viewer.leave-fullscreen", NULL));
  gtk_window_present (viewer);
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, viewer, 5000));
  g_assert_false (gtk_window_is_fullscreen (viewer));
  g_assert_true (gtk_widget_get_visible (header));

  gtk_window_destroy (viewer);
}

static gboolean
window_gone (gpointer data)
{
  GtkWindow **window = data;

  return *window == NULL;
}

static GtkWindow *
find_message_dialog (void)
{
  GtkWindow *dialog = find_toplevel (ADW_TYPE_MESSAGE_DIALOG);

  /* Not the join dialog, which is one too. */
  return dialog != NULL && !PEERCAM_IS_JOIN_DIALOG (dialog) ? dialog : NULL;
}

/* A notification server on the test's session bus, so what the app tells
 * the desktop can be checked. */
static const char notifications_xml[] =
  "<node><interface name='org.freedesktop.Notifications'>"
  "<method name='Notify'>"
  "<arg type='s' direction='in'/><arg type='u' direction='in'/><arg type='s' direction='in'/>"
  "<arg type='s' direction='in'/><arg type='s' direction='in'/><arg type='as' direction='in'/>"
  "<arg type='a{sv}' direction='in'/><arg type='i' direction='in'/><arg type='u' direction='out'/>"
  "</method>"
  "<method name='CloseNotification'><arg type='u' direction='in'/></method>"
  "<method name='GetCapabilities'><arg type='as' direction='out'/></method>"
  "<signal name='NotificationClosed'><arg type='u'/><arg type='u'/></signal>"
  "<signal name='ActionInvoked'><arg type='u'/><arg type='s'/></signal>"
  "</interface></node>";

static char *last_notification;   /* "summary|action label|…" */
static guint closed_notifications;

static void
on_notifications_call (GDBusConnection       *connection,
                       const char            *sender,
                       const char            *path,
                       const char            *interface,
                       const char            *method,
                       GVariant              *parameters,
                       GDBusMethodInvocation *invocation,
                       gpointer               data)
{
  if (g_str_equal (method, "Notify"))
    {
      const char *summary;
      g_autofree const char **actions = NULL;
      g_autoptr(GString) text = NULL;

      g_variant_get_child (parameters, 3, "&s", &summary);
      g_variant_get_child (parameters, 5, "^a&s", &actions);
      text = g_string_new (summary);
      for (guint i = 0; actions[i] != NULL && actions[i + 1] != NULL; i += 2)   /* id, label, … */
        g_string_append_printf (text, "|%s", actions[i + 1]);
      g_free (last_notification);
      last_notification = g_string_free (g_steal_pointer (&text), FALSE);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", 1));
    }
  else if (g_str_equal (method, "CloseNotification"))
    {
      closed_notifications++;
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else
    {
      const char *none[] = { NULL };

      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(^as)", none));
    }
}

static void
start_notification_server (void)
{
  static const GDBusInterfaceVTable vtable = { on_notifications_call };
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (notifications_xml, NULL);
  GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (app));
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  g_dbus_connection_register_object (bus, "/org/freedesktop/Notifications", info->interfaces[0],
                                     &vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", "org.freedesktop.Notifications", 4),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
}

static gboolean
closed_notification (gpointer data)
{
  return closed_notifications > 0;
}

static gboolean
notified (gpointer data)
{
  return last_notification != NULL;
}

/* Bug 11: two viewers are not twins; the title names role and room.
 * Closing the last window while hosting asks. */
static void
test_titles_and_last_window (void)
{
  g_autoptr(GError) error = NULL;
  GtkWindow *first, *second, *host;
  GtkWindow *dialog;

  g_assert_true (peercam_application_start_hosting (app, 0, NULL, FALSE, &error));
  first = peercam_application_new_viewer_window (app);
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (first)), 10000));
  second = peercam_application_new_viewer_window (app);
  peercam_test_spin (300);
  g_assert_cmpstr (adw_window_title_get_title (ADW_WINDOW_TITLE (peercam_test_template_child (first, PEERCAM_TYPE_VIEWER_WINDOW, "window_title"))), ==, _("Viewer"));
  g_assert_cmpstr (adw_window_title_get_title (ADW_WINDOW_TITLE (peercam_test_template_child (second, PEERCAM_TYPE_VIEWER_WINDOW, "window_title"))), !=, _("Viewer"));
  g_assert_nonnull (strstr (gtk_window_get_title (first), "room"));
  g_assert_cmpstr (gtk_window_get_title (first), !=, gtk_window_get_title (second));
  gtk_window_destroy (second);

  /* The last window: asks, and Keep Hosting keeps hosting. */
  g_object_add_weak_pointer (G_OBJECT (first), (gpointer *) &first);
  gtk_window_close (first);
  peercam_test_spin (200);
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  g_assert_nonnull (first);
  shoot (dialog, "last-window-question");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  g_assert_true (peercam_test_wait_until (window_gone, &first, 5000));
  g_assert_nonnull (peercam_test_app_get_server (app));
  /* The desktop shows that hosting goes on, with a way to stop it. */
  g_assert_true (peercam_test_wait_until (notified, NULL, 5000));
  g_test_message ("notification: %s", last_notification);
  g_assert_true (g_str_has_prefix (last_notification, _("Peercam is hosting a room")));
  g_assert_nonnull (strstr (last_notification, _("Stop Hosting")));

  /* Host a Room… is the way back; closing it asks again, and Stop stops. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "host", NULL);
  g_assert_true (peercam_test_wait_until (has_host_window, NULL, 5000));
  host = find_toplevel (PEERCAM_TYPE_HOST_WINDOW);
  g_object_add_weak_pointer (G_OBJECT (host), (gpointer *) &host);
  gtk_window_close (host);
  peercam_test_spin (200);
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "stop");
  g_assert_true (peercam_test_wait_until (window_gone, &host, 5000));
  g_assert_null (peercam_test_app_get_server (app));
  g_assert_null (find_message_dialog ());
  g_assert_true (peercam_test_wait_until (closed_notification, NULL, 5000));
  stop_hosting (NULL);
}

static gboolean
shows_preview (gpointer data)
{
  return g_strcmp0 (visible_page (data), "preview") == 0;
}

/* Bug 9: without a camera the test pattern is what is selected and what
 * the page offers; Preferences lists the cameras to choose from. */
static void
test_no_camera (void)
{
  GtkWindow *caller = peercam_application_new_caller_window (app);
  GtkDropDown *dropdown = GTK_DROP_DOWN (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "source_dropdown"));
  AdwStatusPage *page = ADW_STATUS_PAGE (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "empty_page"));
  GtkWidget *offer = peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "test_pattern_button");
  GSettings *settings = peercam_application_get_settings (app);
  GtkWindow *preferences;
  AdwComboRow *camera_row;
  GListModel *choices;

  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, caller, 5000));
  peercam_test_spin (500);   /* the camera list settles: none here */
  g_assert_cmpuint (gtk_drop_down_get_selected (dropdown), ==, peercam_test_source_position (GTK_WIDGET (caller), _("Test Pattern")));
  g_assert_cmpstr (adw_status_page_get_title (page), ==, _("No Camera Found"));
  g_assert_null (strstr (adw_status_page_get_description (page), _("Get Local Video")));
  g_assert_true (gtk_widget_get_visible (offer));
  /* Out of a room, the page names the ways to begin. */
  g_assert_true (gtk_widget_get_visible (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "welcome_box")));
  shoot (caller, "caller-first-start");
  resize (caller, 360, 640);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (caller)), <=, 360);
  shoot (caller, "caller-first-start-360");
  /* (Starting the preview right after a remap at 360 px has GTK warn,
   * now and then, about drawing a gizmo before its first allocation.) */
  resize (caller, 800, 600);

  gtk_widget_activate (offer);
  g_assert_true (peercam_test_wait_until (shows_preview, caller, 10000));

  /* Preferences: a drop-down of what can be chosen, bound to the setting. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  preferences = find_toplevel (PEERCAM_TYPE_PREFERENCES_WINDOW);
  g_assert_nonnull (preferences);
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, preferences, 5000));
  peercam_test_spin (500);
  shoot (preferences, "preferences");
  camera_row = ADW_COMBO_ROW (peercam_test_template_child (preferences, PEERCAM_TYPE_PREFERENCES_WINDOW, "camera_row"));
  choices = adw_combo_row_get_model (camera_row);
  g_assert_cmpuint (g_list_model_get_n_items (choices), ==, 2);   /* first camera found, test pattern */
  adw_combo_row_set_selected (camera_row, 1);
  g_assert_cmpstr (g_settings_get_string (settings, "camera"), ==, "test");
  g_settings_set_string (settings, "camera", "/dev/video7");
  g_assert_cmpuint (adw_combo_row_get_selected (camera_row), ==, 2);   /* saved, not connected */
  g_settings_reset (settings, "camera");
  g_assert_cmpuint (adw_combo_row_get_selected (camera_row), ==, 0);

  gtk_window_destroy (preferences);
  gtk_window_destroy (caller);
}

static gboolean
trust_offered (gpointer data)
{
  return shows_problem (data) && button_visible (data, "trust_button");
}

static char *
hosted_fingerprint (void)
{
  return peercam_tls_fingerprint_sha256 (peercam_signaling_server_get_tls_certificate (peercam_test_app_get_server (app)));
}

/* The page shows the fingerprint on two lines. */
static gboolean
shows_fingerprint (GtkWidget  *label,
                   const char *fingerprint)
{
  g_autoptr(GString) shown = g_string_new (gtk_label_get_label (GTK_LABEL (label)));

  g_string_replace (shown, "\n", ":", 0);
  return strstr (shown->str, fingerprint) != NULL;
}

/* Bug 4 and the invite: an HTTPS room can be joined from the app's own
 * windows — the Join dialog pre-fills the hosted room's secure invite; an
 * http:// or https:// address without the fingerprint leads to comparing
 * and trusting it; a pasted invite, or an opened peercam:// link, joins at
 * once with its pin. */
static void
test_https_room (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *http = NULL, *https = NULL, *link = NULL, *app_link = NULL;
  g_autoptr(PeercamInvite) invite = NULL;
  GtkWindow *viewer, *dialog, *opened;
  GtkWidget *details;
  guint port;

  g_assert_true (peercam_application_start_hosting (app, 0, "tok", TRUE, &error));
  g_assert_no_error (error);
  port = peercam_signaling_server_get_port (peercam_test_app_get_server (app));
  fingerprint = hosted_fingerprint ();
  http = g_strdup_printf ("http://127.0.0.1:%u", port);
  https = g_strdup_printf ("https://127.0.0.1:%u", port);

  /* Its own windows join with the pin and the token. */
  viewer = peercam_application_new_viewer_window (app);
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (viewer)), 10000));

  /* The dialog offers the hosted room as a secure invite. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (viewer), "room.join", NULL));
  dialog = find_toplevel (PEERCAM_TYPE_JOIN_DIALOG);
  g_assert_true (g_str_has_prefix (gtk_editable_get_text (GTK_EDITABLE (peercam_test_template_child (dialog, PEERCAM_TYPE_JOIN_DIALOG, "server_row"))), "https://"));
  g_assert_true (gtk_widget_get_visible (peercam_test_template_child (dialog, PEERCAM_TYPE_JOIN_DIALOG, "pin_row")));
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, dialog, 5000));
  shoot (dialog, "join-dialog-invite");
  gtk_window_destroy (dialog);

  /* http:// on an HTTPS room: not "Connection reset" forever, but the
   * certificate to compare, and Trust joins securely. */
  join_from_dialog (viewer, http, "tok");
  g_assert_true (peercam_test_wait_until (trust_offered, viewer, 15000));
  g_assert_cmpstr (problem_title (viewer), ==, _("This Room Uses a Secure Connection"));
  details = peercam_test_template_child (viewer, PEERCAM_TYPE_VIEWER_WINDOW, "problem_details");
  g_assert_true (shows_fingerprint (details, fingerprint));
  shoot (viewer, "viewer-secure-room");
  resize (viewer, 360, 640);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (viewer)), <=, 360);
  shoot (viewer, "viewer-secure-room-360");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (viewer), "room.trust", NULL));
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (viewer)), 10000));
  g_assert_true (g_str_has_prefix (peercam_session_get_server_url (peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (viewer))), "https://"));

  /* https:// without the fingerprint: compare, then trust. */
  join_from_dialog (viewer, https, "tok");
  g_assert_true (peercam_test_wait_until (trust_offered, viewer, 15000));
  g_assert_cmpstr (problem_title (viewer), ==, _("Check the Host’s Certificate"));
  g_assert_true (shows_fingerprint (details, fingerprint));
  shoot (viewer, "viewer-check-certificate");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (viewer), "room.trust", NULL));
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (viewer)), 10000));

  /* A pasted invite joins at once: room, token and pin in one link. */
  invite = peercam_invite_new (https, "room", "tok", fingerprint);
  link = peercam_invite_to_string (invite);
  join_from_dialog (viewer, link, NULL);
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (viewer)), 10000));
  g_assert_cmpstr (visible_page (viewer), !=, "problem");
  gtk_window_destroy (viewer);
  peercam_test_spin (200);

  /* Opened from the desktop: peercam://… joins in a new window. */
  app_link = g_strdup_printf ("peercam://127.0.0.1:%u/?room=room#token=tok&pin=%s", port, fingerprint);
  {
    g_autoptr(GFile) file = g_file_new_for_uri (app_link);

    g_application_open (G_APPLICATION (app), &file, 1, "");
  }
  opened = find_toplevel (PEERCAM_TYPE_VIEWER_WINDOW);
  g_assert_nonnull (opened);
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (opened)), 10000));
  gtk_window_destroy (opened);

  g_settings_reset (peercam_application_get_settings (app), "server-url");
  g_settings_reset (peercam_application_get_settings (app), "room");
  stop_hosting (NULL);
}

/* Preferences reach the windows already open. */
static void
test_preferences_reach_windows (void)
{
  GtkWindow *caller = peercam_application_new_caller_window (app);
  GtkWindow *viewer = peercam_application_new_viewer_window (app);
  PeercamCallEngine *caller_engine = peercam_session_get_engine (peercam_caller_window_get_session (PEERCAM_CALLER_WINDOW (caller)));
  PeercamCallEngine *viewer_engine = peercam_session_get_engine (peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (viewer)));
  GSettings *settings = peercam_application_get_settings (app);

  g_assert_cmpuint (peercam_call_engine_get_latency (viewer_engine), ==, g_settings_get_uint (settings, "latency"));
  g_settings_set_uint (settings, "latency", 123);
  g_settings_set_string (settings, "codec", "h264");
  g_assert_cmpuint (peercam_call_engine_get_latency (viewer_engine), ==, 123);
  g_assert_cmpuint (peercam_call_engine_get_latency (caller_engine), ==, 123);
  g_assert_cmpstr (peercam_call_engine_get_codec (caller_engine), ==, "h264");
  g_settings_reset (settings, "latency");
  g_settings_reset (settings, "codec");
  g_assert_cmpstr (peercam_call_engine_get_codec (caller_engine), ==, "vp8");

  gtk_window_destroy (caller);
  gtk_window_destroy (viewer);
}

/* The caller's fullscreen: the call controls float over the video. */
static void
test_caller_fullscreen (void)
{
  GtkWindow *caller = peercam_application_new_caller_window (app);
  GtkWidget *header = peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "header_bar");
  GtkWidget *bar = peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "action_bar");
  GtkWidget *overlay = peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "video_overlay");
  GtkShortcut *escape;

  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, caller, 5000));
  peercam_caller_window_set_source (PEERCAM_CALLER_WINDOW (caller), "smpte");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.get-local-video", NULL));
  escape = find_shortcut (GTK_WIDGET (caller), GDK_KEY_Escape);
  g_assert_nonnull (escape);
  g_assert_cmpstr (gtk_named_action_get_action_name (GTK_NAMED_ACTION (gtk_shortcut_get_action (escape))), ==,
                   "caller.leave-fullscreen");

  gtk_widget_set_visible (GTK_WIDGET (caller), FALSE);
  gtk_widget_unrealize (GTK_WIDGET (caller));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.fullscreen", NULL));
  gtk_window_present (caller);
  g_assert_true (peercam_test_wait_until (is_fullscreen, caller, 5000));
  peercam_test_spin (300);
  g_assert_false (gtk_widget_get_visible (header));
  g_assert_true (gtk_widget_get_parent (bar) == overlay);
  g_assert_true (gtk_widget_get_visible (bar));
  shoot (caller, "caller-fullscreen");
  peercam_test_spin (2500);
  g_assert_false (gtk_widget_get_visible (bar));

  gtk_widget_set_visible (GTK_WIDGET (caller), FALSE);
  gtk_widget_unrealize (GTK_WIDGET (caller));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.leave-fullscreen", NULL));
  gtk_window_present (caller);
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, caller, 5000));
  g_assert_false (gtk_window_is_fullscreen (caller));
  g_assert_true (gtk_widget_get_visible (header));
  g_assert_true (gtk_widget_get_visible (bar));
  g_assert_true (gtk_widget_get_parent (bar) != overlay);

  gtk_window_destroy (caller);
}

/* GTK 4.8 now and then draws an AdwGizmo of a window that just started its
 * preview before the gizmo's first allocation (zh_CN, one run in two), and
 * only warns about it: the next frame is right. That one warning is logged
 * as a test message; every other warning stays fatal. */
static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         data)
{
  const char *domain = NULL, *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = fields[i].value;
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
    }
  if ((level & G_LOG_LEVEL_WARNING) && g_strcmp0 (domain, "Gtk") == 0 && message != NULL &&
      g_str_has_prefix (message, "Trying to snapshot AdwGizmo") &&
      g_str_has_suffix (message, "without a current allocation"))
    {
      g_test_message ("GTK: %s", message);
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (level, fields, n_fields, data);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *localedir = NULL;
  int ret;

  g_log_set_writer_func (log_writer, NULL, NULL);
  setlocale (LC_ALL, "");
  localedir = g_build_filename (g_getenv ("PEERCAM_BUILD_ROOT"), "po", NULL);
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_test_init (&argc, &argv, NULL);

  app = peercam_test_app_new ();
  start_notification_server ();

  g_test_add_func ("/newcomer/join-dialog-enter-in-token", test_join_dialog_enter_in_token);
  g_test_add_func ("/newcomer/join-menu-item", test_join_menu_item);
  g_test_add_func ("/newcomer/host-from-fresh-caller", test_host_from_fresh_caller);
  g_test_add_func ("/newcomer/host-with-token", test_host_with_token);
  g_test_add_func ("/newcomer/call-controls", test_call_controls);
  g_test_add_func ("/newcomer/room-full", test_room_full);
  g_test_add_func ("/newcomer/wrong-token", test_wrong_token);
  g_test_add_func ("/newcomer/plain-text", test_plain_text);
  g_test_add_func ("/newcomer/news", test_news);
  g_test_add_func ("/newcomer/unreachable", test_unreachable);
  g_test_add_func ("/newcomer/toast-over-video", test_toast_over_video);
  g_test_add_func ("/newcomer/stats-and-narrow", test_stats_and_narrow);
  g_test_add_func ("/newcomer/fullscreen", test_fullscreen);
  g_test_add_func ("/newcomer/caller-fullscreen", test_caller_fullscreen);
  g_test_add_func ("/newcomer/titles-and-last-window", test_titles_and_last_window);
  g_test_add_func ("/newcomer/no-camera", test_no_camera);
  g_test_add_func ("/newcomer/https-room", test_https_room);
  g_test_add_func ("/newcomer/preferences-reach-windows", test_preferences_reach_windows);

  ret = g_test_run ();

  g_clear_pointer (&app, peercam_test_app_free);
  g_clear_pointer (&last_notification, g_free);
  return ret;
}
