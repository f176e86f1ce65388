/* test-gui-viewers.c — the caller window's viewers (issue 15): a hosted
 * room, a caller window and three viewers; the header counts them, the
 * list shows each one's state and bitrate, and Disconnect ends one call
 * alone. Screenshots of the window and of the list are saved.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdlib.h>

#include "peercam-application.h"
#include "peercam-caller-window.h"
#include "peercam-host-window.h"
#include "peercam-viewer-list.h"
#include "peercam-test-util.h"

#define N_VIEWERS 3

static PeercamApplication *app;

typedef struct {
  PeercamSession *sessions[N_VIEWERS];
  PeercamSession *caller;
} Room;

static gboolean
n_viewers_is (gpointer data)
{
  Room *room = data;

  return peercam_session_get_n_viewers (room->caller) == N_VIEWERS;
}

static gboolean
all_connected (gpointer data)
{
  Room *room = data;

  for (guint i = 0; i < N_VIEWERS; i++)
    if (peercam_call_engine_get_state (peercam_session_get_engine (room->sessions[i])) != PEERCAM_CALL_STATE_CONNECTED)
      return FALSE;
  return TRUE;
}

static gboolean
rates_shown (gpointer data)
{
  GListModel *viewers = data;

  for (guint i = 0; i < g_list_model_get_n_items (viewers); i++)
    {
      g_autoptr(PeercamViewer) viewer = g_list_model_get_item (viewers, i);

      if (peercam_viewer_get_kbps (viewer) <= 0)
        return FALSE;
    }
  return TRUE;
}

static gboolean
first_ended (gpointer data)
{
  Room *room = data;

  return peercam_call_engine_get_state (peercam_session_get_engine (room->sessions[0])) == PEERCAM_CALL_STATE_ENDED;
}

static gboolean
two_viewers (gpointer data)
{
  return peercam_session_get_n_viewers (data) == 2;
}

/* The rows of the list box, in order. */
static GPtrArray *
rows_of (GtkWidget *list)
{
  GtkListBox *box = GTK_LIST_BOX (peercam_test_template_child (list, PEERCAM_TYPE_VIEWER_LIST, "list_box"));
  GPtrArray *rows = g_ptr_array_new ();
  GtkListBoxRow *row;

  for (guint i = 0; (row = gtk_list_box_get_row_at_index (box, i)) != NULL; i++)
    g_ptr_array_add (rows, row);
  return rows;
}

static void
shoot (GtkWidget *widget, const char *name)
{
  const char *lang = g_getenv ("LANGUAGE");
  g_autofree char *file = g_strdup_printf ("%s-%s.png", name, lang && *lang ? lang : "en");
  g_autofree char *path = peercam_test_save_screenshot (widget, file);
  g_autoptr(GdkTexture) texture = gdk_texture_new_from_filename (path, NULL);

  g_assert_nonnull (texture);
  g_assert_false (peercam_test_texture_is_blank (texture));
}

static void
test_viewers (void)
{
  static const char * const loopback[] = { "127.0.0.1", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  GtkWindow *caller;
  GtkWidget *list, *count, *button, *call;
  guint64 others[1];
  Room room = { { NULL, }, NULL };

  g_assert_true (peercam_application_start_hosting (app, 0, NULL, FALSE, &error));
  url = g_strdup_printf ("http://127.0.0.1:%u",
                         peercam_signaling_server_get_port (peercam_test_app_get_server (app)));
  caller = peercam_application_new_caller_window (app);
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, caller, 5000));
  gtk_window_set_default_size (caller, 640, 480);
  room.caller = peercam_caller_window_get_session (PEERCAM_CALLER_WINDOW (caller));
  peercam_call_engine_set_ice_addresses (peercam_session_get_engine (room.caller), loopback);
  peercam_call_engine_set_video_size (peercam_session_get_engine (room.caller), 320, 240, 15);
  list = peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "viewer_list");
  count = peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "viewers_count");
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (count)), ==, "0");
  g_assert_false (gtk_widget_get_visible (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW,
                                                                       "viewers_button")));

  for (guint i = 0; i < N_VIEWERS; i++)
    {
      room.sessions[i] = peercam_session_new (PEERCAM_SESSION_ROLE_VIEWER);
      peercam_call_engine_set_ice_addresses (peercam_session_get_engine (room.sessions[i]), loopback);
      g_assert_true (peercam_session_join (room.sessions[i], url, "room", NULL, NULL, &error));
    }
  g_assert_true (peercam_test_wait_until (n_viewers_is, &room, 10000));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (count)), ==, "3");
  g_assert_true (gtk_widget_get_visible (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW,
                                                                      "viewers_button")));
  expected = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u viewer in the room", "%u viewers in the room", 3), 3);
  g_assert_cmpstr (gtk_widget_get_tooltip_text (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW,
                                                                             "viewers_button")),
                   ==, expected);
  rows = rows_of (list);
  g_assert_cmpuint (rows->len, ==, N_VIEWERS);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf (_("Viewer %u"), 1);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (rows->pdata[0])), ==, expected);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (rows->pdata[0])), ==, _("Not in a call"));

  /* Get Local Video, Call: every viewer is called. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.get-local-video", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.call", NULL));
  g_assert_true (peercam_test_wait_until (all_connected, &room, 20000));
  g_assert_true (peercam_test_wait_until (rates_shown, peercam_session_get_viewers (room.caller), 10000));
  g_assert_true (g_str_has_prefix (adw_action_row_get_subtitle (ADW_ACTION_ROW (rows->pdata[1])), _("Connected")));
  g_assert_true (g_str_has_suffix (adw_action_row_get_subtitle (ADW_ACTION_ROW (rows->pdata[1])), "Mbit/s"));

  gtk_menu_button_popup (GTK_MENU_BUTTON (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW,
                                                                       "viewers_button")));
  peercam_test_spin (500);
  shoot (GTK_WIDGET (caller), "caller-three-viewers");
  shoot (list, "caller-viewer-list");
  if (g_getenv ("PEERCAM_TEST_HOLD_MS"))
    peercam_test_spin (atoi (g_getenv ("PEERCAM_TEST_HOLD_MS")));

  /* Disconnect the first: it alone ends, the others stay connected. */
  button = g_object_get_data (G_OBJECT (rows->pdata[0]), "disconnect");
  g_assert_true (gtk_widget_get_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
  g_assert_true (peercam_test_wait_until (first_ended, &room, 10000));
  g_assert_cmpint (peercam_call_engine_get_state (peercam_session_get_engine (room.sessions[1])), ==,
                   PEERCAM_CALL_STATE_CONNECTED);
  g_assert_cmpint (peercam_call_engine_get_state (peercam_session_get_engine (room.sessions[2])), ==,
                   PEERCAM_CALL_STATE_CONNECTED);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (rows->pdata[0])), ==, _("Not in a call"));
  g_assert_false (gtk_widget_get_visible (button));

  /* Its Call calls it alone again; the others' calls are not replaced. */
  call = g_object_get_data (G_OBJECT (rows->pdata[0]), "call");
  g_assert_true (gtk_widget_get_visible (call));
  peercam_test_spin (200);
  shoot (list, "caller-viewer-list-disconnected");
  others[0] = peercam_call_engine_get_remote_frames (peercam_session_get_engine (room.sessions[1]));
  g_signal_emit_by_name (call, "clicked");
  g_assert_true (peercam_test_wait_until (all_connected, &room, 20000));
  g_assert_true (gtk_widget_get_visible (button));
  g_assert_cmpuint (peercam_call_engine_get_n_calls (peercam_session_get_engine (room.caller)), ==, 3);
  peercam_test_spin (300);
  /* Viewer 2's one call went on: its frame count only grew. */
  g_assert_cmpuint (peercam_call_engine_get_remote_frames (peercam_session_get_engine (room.sessions[1])), >, others[0]);
  g_assert_cmpint (peercam_call_engine_get_state (peercam_session_get_engine (room.sessions[1])), ==,
                   PEERCAM_CALL_STATE_CONNECTED);

  /* One leaves the room: one row fewer, the count follows. */
  peercam_session_leave (room.sessions[2]);
  g_assert_true (peercam_test_wait_until (two_viewers, room.caller, 10000));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (count)), ==, "2");
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = rows_of (list);
  g_assert_cmpuint (rows->len, ==, 2);

  gtk_window_destroy (caller);
  for (guint i = 0; i < N_VIEWERS; i++)
    {
      peercam_session_leave (room.sessions[i]);
      g_clear_object (&room.sessions[i]);
    }
  peercam_test_spin (200);
}

static gboolean
has_host_window (gpointer data)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l; l = l->next)
    if (PEERCAM_IS_HOST_WINDOW (l->data))
      return TRUE;
  return FALSE;
}

/* Host a Room…'s "Viewers per Room" is the GSettings key the hosted
 * server's room capacity (1 caller + N viewers) comes from. */
static void
test_host_setting (void)
{
  GSettings *settings = peercam_application_get_settings (app);
  g_autoptr(GError) error = NULL;
  GtkWindow *window = NULL;
  GtkWidget *spin;

  g_action_group_activate_action (G_ACTION_GROUP (app), "host", NULL);
  g_assert_true (peercam_test_wait_until (has_host_window, NULL, 5000));
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l; l = l->next)
    if (PEERCAM_IS_HOST_WINDOW (l->data))
      window = l->data;
  spin = peercam_test_template_child (window, PEERCAM_TYPE_HOST_WINDOW, "max_viewers_spin");
  g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (spin)), ==, 4);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), 2);
  g_assert_cmpuint (g_settings_get_uint (settings, "max-viewers"), ==, 2);
  peercam_test_spin (200);
  shoot (GTK_WIDGET (window), "host-viewers-per-room");

  g_assert_true (peercam_application_start_hosting (app, 0, NULL, FALSE, &error));
  g_assert_cmpuint (peercam_signaling_server_get_room_capacity (peercam_test_app_get_server (app)), ==, 3);
  g_assert_false (gtk_widget_get_sensitive (spin));
  peercam_application_stop_hosting (app);
  gtk_window_destroy (window);
  g_settings_reset (settings, "max-viewers");
  peercam_test_spin (100);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *localedir = NULL;
  int ret;

  setlocale (LC_ALL, "");
  localedir = g_build_filename (g_getenv ("PEERCAM_BUILD_ROOT"), "po", NULL);
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_test_init (&argc, &argv, NULL);
  app = peercam_test_app_new ();
  g_test_add_func ("/gui-viewers/host-setting", test_host_setting);
  g_test_add_func ("/gui-viewers/list", test_viewers);
  ret = g_test_run ();
  g_clear_pointer (&app, peercam_test_app_free);
  return ret;
}
