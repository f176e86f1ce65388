/* test-gui-smoke.c — the app starts, both windows open with their widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "peercam-application.h"
#include "peercam-caller-window.h"
#include "peercam-host-window.h"
#include "peercam-join-dialog.h"
#include "peercam-preferences-window.h"
#include "peercam-viewer-window.h"
#include "peercam-test-util.h"

static PeercamApplication *app;

static void
check_screenshot (GtkWidget  *window,
                  const char *name)
{
  g_autofree char *path = peercam_test_save_screenshot (window, name);
  g_autoptr(GdkTexture) texture = gdk_texture_new_from_filename (path, NULL);

  g_assert_nonnull (texture);
  g_assert_cmpint (gdk_texture_get_width (texture), >, 300);
  g_assert_false (peercam_test_texture_is_blank (texture));
}

static void
test_caller_window (void)
{
  GtkWindow *window = peercam_application_new_caller_window (app);
  GType type = PEERCAM_TYPE_CALLER_WINDOW;
  GtkWidget *button;

  g_assert_true (PEERCAM_IS_CALLER_WINDOW (window));
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, window, 5000));

  button = peercam_test_template_child (GTK_WIDGET (window), type, "get_local_video_button");
  g_assert_true (GTK_IS_BUTTON (button));
  g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (button)), ==, "caller.get-local-video");
  button = peercam_test_template_child (GTK_WIDGET (window), type, "call_button");
  g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (button)), ==, "caller.call");
  button = peercam_test_template_child (GTK_WIDGET (window), type, "hang_up_button");
  g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (button)), ==, "caller.hang-up");
  g_assert_true (GTK_IS_PICTURE (peercam_test_template_child (GTK_WIDGET (window), type, "preview_picture")));
  g_assert_true (GTK_IS_MENU_BUTTON (peercam_test_template_child (GTK_WIDGET (window), type, "menu_button")));
  g_assert_nonnull (gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (peercam_test_template_child (GTK_WIDGET (window), type, "menu_button"))));

  peercam_test_spin (300);
  check_screenshot (GTK_WIDGET (window), "caller.png");
  gtk_window_destroy (window);
}

static void
test_viewer_window (void)
{
  GtkWindow *window = peercam_application_new_viewer_window (app);
  GType type = PEERCAM_TYPE_VIEWER_WINDOW;
  GtkWidget *stack;

  g_assert_true (PEERCAM_IS_VIEWER_WINDOW (window));
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, window, 5000));

  stack = peercam_test_template_child (GTK_WIDGET (window), type, "video_stack");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (stack)), ==, "waiting");
  g_assert_true (ADW_IS_STATUS_PAGE (peercam_test_template_child (GTK_WIDGET (window), type, "waiting_page")));
  g_assert_true (GTK_IS_PICTURE (peercam_test_template_child (GTK_WIDGET (window), type, "remote_picture")));

  peercam_test_spin (300);
  check_screenshot (GTK_WIDGET (window), "viewer.png");
  gtk_window_destroy (window);
}

static GtkWindow *
find_window (GType type)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l; l = l->next)
    if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, type))
      return l->data;
  return NULL;
}

static gboolean
has_host_window (gpointer data)
{
  GtkWindow *window = find_window (PEERCAM_TYPE_HOST_WINDOW);

  return window != NULL && peercam_test_is_mapped (window);
}

static gboolean
is_hosting (gpointer data)
{
  return peercam_test_app_get_server (app) != NULL;
}

static void
test_host_window (void)
{
  GtkWindow *window;
  GtkWidget *join_group;
  GtkWidget *toggle;

  g_action_group_activate_action (G_ACTION_GROUP (app), "host", NULL);
  g_assert_true (peercam_test_wait_until (has_host_window, NULL, 5000));
  window = find_window (PEERCAM_TYPE_HOST_WINDOW);

  join_group = peercam_test_template_child (GTK_WIDGET (window), PEERCAM_TYPE_HOST_WINDOW, "join_group");
  toggle = peercam_test_template_child (GTK_WIDGET (window), PEERCAM_TYPE_HOST_WINDOW, "toggle_button");
  g_assert_false (gtk_widget_get_visible (join_group));

  /* Port 0 would be refused by the spin button: use a high free-ish port
   * by setting the setting the window is bound to. */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (peercam_test_template_child (GTK_WIDGET (window), PEERCAM_TYPE_HOST_WINDOW, "port_spin")), 38517);
  gtk_switch_set_active (GTK_SWITCH (peercam_test_template_child (GTK_WIDGET (window), PEERCAM_TYPE_HOST_WINDOW, "tls_switch")), TRUE);
  g_assert_false (gtk_widget_get_visible (peercam_test_template_child (GTK_WIDGET (window), PEERCAM_TYPE_HOST_WINDOW, "fingerprint_row")));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "host.toggle", NULL));
  g_assert_true (peercam_test_wait_until (is_hosting, NULL, 5000));
  g_assert_cmpuint (peercam_signaling_server_get_port (peercam_test_app_get_server (app)), ==, 38517);
  g_assert_true (gtk_widget_get_visible (join_group));
  g_assert_true (gtk_widget_get_visible (peercam_test_template_child (GTK_WIDGET (window), PEERCAM_TYPE_HOST_WINDOW, "qr_picture")));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (toggle)), ==, "_Stop Hosting");
  /* HTTPS: the fingerprint to pin is shown, 32 bytes as AB:CD:… */
  g_assert_true (gtk_widget_get_visible (peercam_test_template_child (GTK_WIDGET (window), PEERCAM_TYPE_HOST_WINDOW, "fingerprint_row")));
  g_assert_cmpuint (strlen (adw_action_row_get_subtitle (ADW_ACTION_ROW (peercam_test_template_child (GTK_WIDGET (window), PEERCAM_TYPE_HOST_WINDOW, "fingerprint_row")))), ==, 95);

  peercam_test_spin (300);
  check_screenshot (GTK_WIDGET (window), "host.png");

  /* Closing the window keeps hosting; the toggle stops it. */
  gtk_window_close (window);
  peercam_test_spin (100);
  g_assert_nonnull (peercam_test_app_get_server (app));
  peercam_application_stop_hosting (app);
  g_assert_null (peercam_test_app_get_server (app));
}

static void
test_preferences_window (void)
{
  GtkWindow *window;
  GSettings *settings = peercam_application_get_settings (app);

  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  window = find_window (PEERCAM_TYPE_PREFERENCES_WINDOW);
  g_assert_nonnull (window);
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, window, 5000));

  /* Bound to GSettings both ways. */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (peercam_test_template_child (GTK_WIDGET (window), PEERCAM_TYPE_PREFERENCES_WINDOW, "latency_spin")), 50);
  g_assert_cmpuint (g_settings_get_uint (settings, "latency"), ==, 50);
  g_settings_set_string (settings, "codec", "h264");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (peercam_test_template_child (GTK_WIDGET (window), PEERCAM_TYPE_PREFERENCES_WINDOW, "codec_row"))), ==, 1);
  g_settings_reset (settings, "codec");
  g_settings_reset (settings, "latency");

  peercam_test_spin (300);
  check_screenshot (GTK_WIDGET (window), "preferences.png");
  gtk_window_destroy (window);
}

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

static gboolean
subtitle_is_not (gpointer data)
{
  GtkWidget *window = data;
  AdwWindowTitle *title = ADW_WINDOW_TITLE (peercam_test_template_child (window, PEERCAM_TYPE_VIEWER_WINDOW, "window_title"));
  const char *initial = g_object_get_data (G_OBJECT (window), "initial-subtitle");

  return g_strcmp0 (adw_window_title_get_subtitle (title), initial) != 0;
}

static void
test_join_dialog (void)
{
  GtkWindow *viewer = peercam_application_new_viewer_window (app);
  AdwWindowTitle *title = ADW_WINDOW_TITLE (peercam_test_template_child (GTK_WIDGET (viewer), PEERCAM_TYPE_VIEWER_WINDOW, "window_title"));
  GSettings *settings = peercam_application_get_settings (app);
  GtkWindow *dialog;
  GtkWidget *server_row, *room_row;
  PeercamSession *session = peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (viewer));

  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, viewer, 5000));
  g_assert_null (peercam_session_get_client (session));
  g_assert_cmpstr (adw_window_title_get_subtitle (title), ==, "Not in a room");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (viewer), "room.join", NULL));
  dialog = find_toplevel (PEERCAM_TYPE_JOIN_DIALOG);
  g_assert_nonnull (dialog);
  server_row = peercam_test_template_child (GTK_WIDGET (dialog), PEERCAM_TYPE_JOIN_DIALOG, "server_row");
  room_row = peercam_test_template_child (GTK_WIDGET (dialog), PEERCAM_TYPE_JOIN_DIALOG, "room_row");

  /* Prefilled from GSettings; a bad address cannot be joined. */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (server_row)), ==, "http://127.0.0.1:8080");
  gtk_editable_set_text (GTK_EDITABLE (server_row), "ftp://example");
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "join"));
  g_assert_true (gtk_widget_has_css_class (server_row, "error"));

  /* Nothing listens on port 1: the window says so instead of freezing. */
  gtk_editable_set_text (GTK_EDITABLE (server_row), "http://127.0.0.1:1");
  gtk_editable_set_text (GTK_EDITABLE (room_row), "kitchen");
  g_assert_true (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "join"));
  g_object_set_data_full (G_OBJECT (viewer), "initial-subtitle",
                          g_strdup (adw_window_title_get_subtitle (title)), g_free);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "join");

  g_assert_nonnull (peercam_session_get_client (session));
  g_assert_cmpstr (peercam_session_get_room (session), ==, "kitchen");
  /* Remembered for next time. */
  g_assert_cmpstr (g_settings_get_string (settings, "server-url"), ==, "http://127.0.0.1:1");
  g_assert_true (peercam_test_wait_until (subtitle_is_not, viewer, 5000));
  g_test_message ("subtitle after join: %s", adw_window_title_get_subtitle (title));
  g_assert_true (strstr (adw_window_title_get_subtitle (title), "127.0.0.1:1") != NULL);

  g_settings_reset (settings, "server-url");
  g_settings_reset (settings, "room");
  gtk_window_destroy (viewer);
}

/* A port someone else holds: the error says so plainly. */
static void
test_host_port_in_use (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, &error);

  g_assert_no_error (error);
  g_assert_false (peercam_application_start_hosting (app, port, NULL, FALSE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_assert_nonnull (strstr (error->message, "already in use"));
  g_assert_null (peercam_test_app_get_server (app));
}

static void
test_app_actions (void)
{
  static const char *actions[] = {
    "new-caller", "new-viewer", "host", "preferences", "about", "quit",
  };

  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), actions[i]));
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  app = peercam_test_app_new ();

  g_test_add_func ("/gui/app-actions", test_app_actions);
  g_test_add_func ("/gui/caller-window", test_caller_window);
  g_test_add_func ("/gui/viewer-window", test_viewer_window);
  g_test_add_func ("/gui/host-window", test_host_window);
  g_test_add_func ("/gui/host-port-in-use", test_host_port_in_use);
  g_test_add_func ("/gui/join-dialog", test_join_dialog);
  g_test_add_func ("/gui/preferences-window", test_preferences_window);

  ret = g_test_run ();

  g_clear_pointer (&app, peercam_test_app_free);
  return ret;
}
