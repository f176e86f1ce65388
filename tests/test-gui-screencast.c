/* test-gui-screencast.c — the caller window's source drop-down offers the
 * screen: picked, the ScreenCast portal asks (a fake on a private bus) and
 * the preview runs; cancelled, a toast says so and offers the test pattern;
 * a file given on the command line gets an entry of its own (issue 15)
 *
 * pipewiresrc needs a PipeWire daemon behind the portal's fd, which the fake
 * has not: PEERCAM_TEST_SCREENCAST_SOURCE puts a test source in its place.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "peercam-application.h"
#include "peercam-caller-window.h"
#include "peercam-camera-list.h"
#include "peercam-fake-portal.h"
#include "peercam-init.h"
#include "peercam-screencast-portal.h"
#include "peercam-test-util.h"

static PeercamApplication *app;

static GtkWidget *
child (gpointer    window,
       const char *name)
{
  return peercam_test_template_child (window, PEERCAM_TYPE_CALLER_WINDOW, name);
}

static PeercamCallEngine *
engine_of (gpointer window)
{
  return peercam_session_get_engine (peercam_caller_window_get_session (PEERCAM_CALLER_WINDOW (window)));
}

static gboolean
preview_runs (gpointer data)
{
  /* Frames since the last time this held, per window. */
  guint64 seen = GPOINTER_TO_SIZE (g_object_get_data (data, "frames-seen"));
  guint64 frames = peercam_call_engine_get_local_frames (engine_of (data));
  gboolean more = frames > seen + 5;

  if (more)
    g_object_set_data (data, "frames-seen", GSIZE_TO_POINTER (frames));
  return more && peercam_call_engine_get_state (engine_of (data)) == PEERCAM_CALL_STATE_PREVIEW;
}

typedef struct {
  GtkWidget  *root;
  GType       type;
  const char *text;
  GtkWidget  *found;
} FindCheck;

/* A shown one: a toast on its way out keeps its widgets a moment. */
static GtkWidget *
find_shown (GtkWidget *widget, GType type, const char *text)
{
  GtkWidget *found;

  if (!gtk_widget_is_visible (widget))
    return NULL;
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type) &&
      (found = peercam_test_find_with_text (widget, type, text)) == widget)
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    if ((found = find_shown (c, type, text)) != NULL)
      return found;
  return NULL;
}

static gboolean
found_with_text (gpointer data)
{
  FindCheck *check = data;

  check->found = find_shown (check->root, check->type, check->text);
  return check->found != NULL;
}

static void
select_source (GtkWindow *window, const char *name)
{
  guint position = peercam_test_source_position (GTK_WIDGET (window), name);

  g_assert_cmpuint (position, !=, GTK_INVALID_LIST_POSITION);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (child (window, "source_dropdown")), position);
}

/* Screen → the portal → the preview; then the test pattern, which ends
 * the screen's session. */
static void
test_screen_then_test_pattern (void)
{
  GtkWindow *window = peercam_application_new_caller_window (app);
  PeercamCallEngine *engine = engine_of (window);
  int creates = peercam_fake_portal_get_screencast_calls ("CreateSession");
  g_autofree char *path = NULL;

  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, window, 5000));
  peercam_fake_portal_set_screencast_responses (0, 0);

  select_source (window, "Screen");
  g_assert_cmpstr (peercam_call_engine_get_source (engine), ==, "screen");
  peercam_test_spin (100);
  g_assert_cmpstr (adw_status_page_get_description (ADW_STATUS_PAGE (child (window, "empty_page"))), ==,
                   "Press “Get Local Video” to choose a screen or window to share");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "caller.get-local-video", NULL));
  g_assert_true (peercam_test_wait_until (preview_runs, window, 10000));
  g_assert_cmpint (peercam_fake_portal_get_screencast_calls ("CreateSession"), ==, creates + 1);
  g_assert_cmpint (peercam_fake_portal_get_screencast_calls ("Start"), >=, 1);
  g_assert_nonnull (peercam_call_engine_get_source_device (engine));
  g_assert_cmpuint (peercam_screencast_device_get_node (peercam_call_engine_get_source_device (engine)), ==,
                    peercam_fake_portal_get_screencast_node ());
  g_assert_cmpuint (gtk_drop_down_get_selected (GTK_DROP_DOWN (child (window, "source_dropdown"))), ==,
                    peercam_test_source_position (GTK_WIDGET (window), "Screen"));
  peercam_test_spin (200);
  path = peercam_test_save_screenshot (GTK_WIDGET (window), "screen-shared.png");

  /* The test pattern takes over the running preview. */
  select_source (window, "Test Pattern");
  g_assert_true (peercam_test_wait_until (preview_runs, window, 10000));
  g_assert_cmpstr (peercam_call_engine_get_source (engine), ==, "test");
  g_assert_null (peercam_call_engine_get_source_device (engine));

  gtk_window_destroy (window);
  peercam_test_spin (200);
}

/* The user closes the portal's dialog: a toast says so, with the way out. */
static void
test_cancelled (void)
{
  GtkWindow *window = peercam_application_new_caller_window (app);
  PeercamCallEngine *engine = engine_of (window);
  FindCheck title, way_out;

  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, window, 5000));
  peercam_fake_portal_set_screencast_responses (1, 0);
  select_source (window, "Screen");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "caller.get-local-video", NULL));

  title = (FindCheck) { child (window, "toast_overlay"), GTK_TYPE_LABEL, "Screen sharing was cancelled", NULL };
  g_assert_true (peercam_test_wait_until (found_with_text, &title, 10000));
  way_out = (FindCheck) { child (window, "toast_overlay"), GTK_TYPE_BUTTON, "Use _Test Pattern", NULL };
  g_assert_true (peercam_test_wait_until (found_with_text, &way_out, 5000));
  g_assert_cmpint (peercam_call_engine_get_state (engine), ==, PEERCAM_CALL_STATE_IDLE);
  peercam_test_spin (500);
  g_free (peercam_test_save_screenshot (GTK_WIDGET (window), "screen-cancelled.png"));

  g_assert_true (gtk_widget_activate (way_out.found));
  g_assert_true (peercam_test_wait_until (preview_runs, window, 10000));
  g_assert_cmpstr (peercam_call_engine_get_source (engine), ==, "test");
  g_assert_cmpuint (gtk_drop_down_get_selected (GTK_DROP_DOWN (child (window, "source_dropdown"))), ==,
                    peercam_test_source_position (GTK_WIDGET (window), "Test Pattern"));

  peercam_fake_portal_set_screencast_responses (0, 0);
  gtk_window_destroy (window);
  peercam_test_spin (200);
}

static gboolean
tick (gpointer data)
{
  gint64 *last_and_max = data;
  gint64 now = g_get_monotonic_time ();

  last_and_max[1] = MAX (last_and_max[1], now - last_and_max[0]);
  last_and_max[0] = now;
  return G_SOURCE_CONTINUE;
}

/* PipeWire behind the portal's fd never answers (a real pipewiresrc, no
 * test source): the window stays responsive, says so after the timeout,
 * and the test pattern still works. */
static void
test_pipewire_silent (void)
{
  GtkWindow *window = peercam_application_new_caller_window (app);
  PeercamCallEngine *engine = engine_of (window);
  g_autofree char *test_source = g_strdup (g_getenv ("PEERCAM_TEST_SCREENCAST_SOURCE"));
  gint64 last_and_max[2] = { 0, 0 };
  gint64 started;
  FindCheck title;
  guint ticker;

  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, window, 5000));
  if (gst_element_factory_find ("pipewiresrc") == NULL)
    {
      g_test_skip ("pipewiresrc is missing (gstreamer1.0-pipewire)");
      gtk_window_destroy (window);
      return;
    }
  g_unsetenv ("PEERCAM_TEST_SCREENCAST_SOURCE");
  peercam_fake_portal_set_screencast_responses (0, 0);
  peercam_fake_portal_set_screencast_silent (TRUE);

  select_source (window, "Screen");
  last_and_max[0] = started = g_get_monotonic_time ();
  ticker = g_timeout_add (20, tick, last_and_max);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "caller.get-local-video", NULL));

  /* "could not be started: no answer within 5 seconds" */
  title = (FindCheck) { child (window, "toast_overlay"), GTK_TYPE_LABEL, NULL, NULL };
  {
    g_autofree char *why = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "no answer within %u second",
                                                         "no answer within %u seconds", 5), 5);
    g_autofree char *expected = g_strdup_printf (_("The video source “%s” could not be started: %s"),
                                                 _("Screen"), why);

    title.text = expected;
    g_assert_true (peercam_test_wait_until (found_with_text, &title, 15000));
  }
  g_test_message ("the error after %" G_GINT64_FORMAT " ms; the main loop's longest stall %" G_GINT64_FORMAT " ms",
                  (g_get_monotonic_time () - started) / 1000, last_and_max[1] / 1000);
  g_assert_cmpint (g_get_monotonic_time () - started, <, 10 * G_USEC_PER_SEC);
  g_assert_cmpint (last_and_max[1], <, G_USEC_PER_SEC);
  g_assert_cmpint (peercam_fake_portal_get_screencast_calls ("OpenPipeWireRemote"), >=, 1);
  g_assert_true (peercam_call_engine_get_state (engine) != PEERCAM_CALL_STATE_PREVIEW);
  peercam_test_spin (300);
  g_free (peercam_test_save_screenshot (GTK_WIDGET (window), "screen-no-answer.png"));

  /* The rest keeps working: the test pattern runs in the same window. */
  select_source (window, "Test Pattern");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "caller.get-local-video", NULL));
  g_assert_true (peercam_test_wait_until (preview_runs, window, 10000));
  g_assert_cmpstr (peercam_call_engine_get_source (engine), ==, "test");
  g_assert_cmpint (last_and_max[1], <, G_USEC_PER_SEC);
  g_source_remove (ticker);

  peercam_fake_portal_set_screencast_silent (FALSE);
  g_setenv ("PEERCAM_TEST_SCREENCAST_SOURCE", test_source, TRUE);
  gtk_window_destroy (window);
  peercam_test_spin (200);
}

/* --source screen, and --source file:PATH (an entry of its own), as the
 * application hands them to a window; a broken description offers the
 * test pattern too. */
static void
test_command_line_sources (void)
{
  GtkWindow *window = peercam_application_new_caller_window (app);
  PeercamCallEngine *engine = engine_of (window);
  g_autofree char *dir = g_dir_make_tmp ("peercam-gui-screencast-XXXXXX", NULL);
  g_autofree char *clip = g_build_filename (dir, "clip.y4m", NULL);
  g_autofree char *source = g_strconcat ("file:", clip, NULL);
  g_autofree char *launch = g_strdup_printf ("videotestsrc num-buffers=10 ! video/x-raw,format=I420,width=160,"
                                             "height=120,framerate=15/1 ! y4menc ! filesink location=\"%s\"", clip);
  g_autoptr(GstElement) writer = gst_parse_launch (launch, NULL);
  g_autoptr(GstBus) bus = gst_element_get_bus (writer);
  g_autoptr(GstMessage) done = NULL;
  FindCheck way_out;

  gst_element_set_state (writer, GST_STATE_PLAYING);
  done = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_cmpint (GST_MESSAGE_TYPE (done), ==, GST_MESSAGE_EOS);
  gst_element_set_state (writer, GST_STATE_NULL);
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, window, 5000));

  peercam_caller_window_set_source (PEERCAM_CALLER_WINDOW (window), "screen");
  g_assert_cmpuint (gtk_drop_down_get_selected (GTK_DROP_DOWN (child (window, "source_dropdown"))), ==,
                    peercam_test_source_position (GTK_WIDGET (window), "Screen"));

  peercam_caller_window_set_source (PEERCAM_CALLER_WINDOW (window), source);
  g_assert_cmpuint (gtk_drop_down_get_selected (GTK_DROP_DOWN (child (window, "source_dropdown"))), ==,
                    peercam_test_source_position (GTK_WIDGET (window), "clip.y4m"));
  g_assert_cmpstr (peercam_call_engine_get_source (engine), ==, source);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "caller.get-local-video", NULL));
  g_assert_true (peercam_test_wait_until (preview_runs, window, 10000));
  /* Past the clip's end (10 frames at 15 fps): still running. */
  peercam_test_spin (1500);
  g_assert_true (peercam_test_wait_until (preview_runs, window, 5000));
  peercam_call_engine_stop_local_video (engine);

  peercam_caller_window_set_source (PEERCAM_CALLER_WINDOW (window), "gst:videotestsrc ! ! !");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "caller.get-local-video", NULL));
  way_out = (FindCheck) { child (window, "toast_overlay"), GTK_TYPE_BUTTON, "Use _Test Pattern", NULL };
  g_assert_true (peercam_test_wait_until (found_with_text, &way_out, 5000));
  g_assert_true (gtk_widget_activate (way_out.found));
  g_assert_true (peercam_test_wait_until (preview_runs, window, 10000));
  g_assert_cmpstr (peercam_call_engine_get_source (engine), ==, "test");

  gtk_window_destroy (window);
  peercam_test_spin (200);
  g_unlink (clip);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  GTestDBus *bus;
  GDBusConnection *connection;
  g_autofree char *display = g_strdup (g_getenv ("DISPLAY"));
  g_autofree char *wayland = g_strdup (g_getenv ("WAYLAND_DISPLAY"));
  int ret;

  g_test_init (&argc, &argv, NULL);
  peercam_init (&argc, &argv);

  /* Before anything takes the session bus (GApplication, libportal): both
   * get the private one. GTestDBus unsets DISPLAY; GTK still needs it. */
  bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (bus);
  if (display != NULL)
    g_setenv ("DISPLAY", display, TRUE);
  if (wayland != NULL)
    g_setenv ("WAYLAND_DISPLAY", wayland, TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("PEERCAM_TEST_SCREENCAST_SOURCE",
            "videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1", TRUE);
  peercam_fake_portal_start (g_test_dbus_get_bus_address (bus));

  app = peercam_test_app_new ();

  g_test_add_func ("/gui/screencast/screen-then-test-pattern", test_screen_then_test_pattern);
  g_test_add_func ("/gui/screencast/cancelled", test_cancelled);
  g_test_add_func ("/gui/screencast/command-line-sources", test_command_line_sources);
  g_test_add_func ("/gui/screencast/pipewire-silent", test_pipewire_silent);

  ret = g_test_run ();

  g_clear_pointer (&app, peercam_test_app_free);
  peercam_fake_portal_stop ();

  /* As in test-gui-portal.c: the session bus connection stays to the end. */
  connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  if (connection != NULL)
    {
      g_dbus_connection_set_exit_on_close (connection, FALSE);
      g_object_unref (connection);
    }
  g_test_dbus_stop (bus);
  return ret;
}
