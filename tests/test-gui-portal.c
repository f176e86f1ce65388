/* test-gui-portal.c — the caller window asks the camera portal: denied
 * (advice and a "Retry" toast, no preview), then Retry after a grant
 *
 * The application and the fake portal (peercam-fake-portal.c) share a private
 * bus (GTestDBus), brought up before the application takes the session bus;
 * the camera is a fake one (peercam-fake-camera.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "peercam-application.h"
#include "peercam-caller-window.h"
#include "peercam-camera-list.h"
#include "peercam-fake-camera.h"
#include "peercam-fake-portal.h"
#include "peercam-init.h"
#include "peercam-test-util.h"

#define ADVICE "Allow the camera in Settings → Apps → Peercam, then press Retry"

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

static const char *
description (gpointer window)
{
  return adw_status_page_get_description (ADW_STATUS_PAGE (child (window, "empty_page")));
}

static const char *
visible_page (gpointer window)
{
  return gtk_stack_get_visible_child_name (GTK_STACK (child (window, "video_stack")));
}

static gboolean
camera_listed (gpointer data)
{
  return peercam_test_source_position (data, "Fake Camera One") != GTK_INVALID_LIST_POSITION;
}

static gboolean
shows_advice (gpointer data)
{
  return g_strcmp0 (description (data), ADVICE) == 0;
}

static gboolean
advice_gone (gpointer data)
{
  return g_strcmp0 (description (data), ADVICE) != 0;
}

static gboolean
preview_has_frame (gpointer data)
{
  GdkPaintable *paintable = gtk_picture_get_paintable (GTK_PICTURE (child (data, "preview_picture")));

  return paintable != NULL && gdk_paintable_get_intrinsic_width (paintable) > 0 &&
         peercam_call_engine_get_local_frames (engine_of (data)) > 5;
}

static gboolean
access_calls_reach (gpointer data)
{
  return peercam_fake_portal_get_access_calls () >= GPOINTER_TO_INT (data);
}

/* Depth-first: the first descendant of @widget of @type whose text (a
 * button's or a label's) is @text. */
static GtkWidget *
find_with_text (GtkWidget  *widget,
                GType       type,
                const char *text)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    {
      const char *now = GTK_IS_BUTTON (widget) ? gtk_button_get_label (GTK_BUTTON (widget))
                      : GTK_IS_LABEL (widget) ? gtk_label_get_label (GTK_LABEL (widget))
                      : NULL;

      if (g_strcmp0 (now, text) == 0)
        return widget;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_with_text (c, type, text);

      if (found != NULL)
        return found;
    }
  return NULL;
}

typedef struct {
  GtkWidget  *root;
  GType       type;
  const char *text;
  GtkWidget  *found;
} FindCheck;

static gboolean
found_with_text (gpointer data)
{
  FindCheck *check = data;

  check->found = find_with_text (check->root, check->type, check->text);
  return check->found != NULL;
}

static void
test_denied_then_retry (void)
{
  GtkWindow *window;
  PeercamCallEngine *engine;
  GtkDropDown *dropdown;
  FindCheck retry;
  FindCheck title;
  g_autofree char *path = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int calls;

  peercam_fake_camera_add ("Fake Camera One");
  window = peercam_application_new_caller_window (app);
  engine = engine_of (window);
  dropdown = GTK_DROP_DOWN (child (window, "source_dropdown"));
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, window, 5000));

  /* The fake camera, chosen in the drop-down: a camera wants the portal.
   * It is already shown (the default is the first camera), so by way of the
   * test pattern, as a user would pick it. */
  g_assert_true (peercam_test_wait_until (camera_listed, window, 10000));
  gtk_drop_down_set_selected (dropdown, peercam_test_source_position (GTK_WIDGET (window), "Test Pattern"));
  g_assert_cmpstr (peercam_call_engine_get_source (engine), ==, "test");
  gtk_drop_down_set_selected (dropdown, peercam_test_source_position (GTK_WIDGET (window), "Fake Camera One"));
  g_assert_cmpstr (peercam_call_engine_get_source (engine), ==, "/peercam-test/Fake Camera One");
  g_assert_false (shows_advice (window));

  /* Denied. */
  peercam_fake_portal_set_response (PEERCAM_FAKE_PORTAL_DENY);
  calls = peercam_fake_portal_get_access_calls ();
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "caller.get-local-video", NULL));
  g_assert_true (peercam_test_wait_until (shows_advice, window, 10000));
  g_assert_cmpint (peercam_fake_portal_get_access_calls (), ==, calls + 1);
  g_assert_cmpint (peercam_fake_portal_get_open_calls (), ==, 0);

  /* No preview: nothing started, the empty page stays, Get Local Video can
   * be pressed again. */
  peercam_test_spin (300);
  g_assert_cmpstr (visible_page (window), ==, "empty");
  g_assert_cmpint (peercam_call_engine_get_state (engine), ==, PEERCAM_CALL_STATE_IDLE);
  g_assert_cmpint (peercam_call_engine_get_local_frames (engine), ==, 0);
  g_assert_true (gtk_widget_get_sensitive (child (window, "get_local_video_button")));

  /* The toast says so and offers Retry. */
  title = (FindCheck) { child (window, "toast_overlay"), GTK_TYPE_LABEL, "Camera access was denied", NULL };
  g_assert_true (peercam_test_wait_until (found_with_text, &title, 5000));
  retry = (FindCheck) { child (window, "toast_overlay"), GTK_TYPE_BUTTON, "_Retry", NULL };
  g_assert_true (peercam_test_wait_until (found_with_text, &retry, 5000));
  g_assert_true (gtk_widget_is_visible (retry.found));

  path = peercam_test_save_screenshot (GTK_WIDGET (window), "portal-denied.png");
  texture = gdk_texture_new_from_filename (path, NULL);
  g_assert_nonnull (texture);
  g_assert_false (peercam_test_texture_is_blank (texture));

  /* The user allowed the camera meanwhile: Retry (the toast's own button)
   * asks the portal again. */
  peercam_fake_portal_set_response (PEERCAM_FAKE_PORTAL_GRANT);
  g_assert_true (gtk_widget_activate (retry.found));
  g_assert_true (peercam_test_wait_until (access_calls_reach, GINT_TO_POINTER (calls + 2), 10000));
  g_assert_cmpint (peercam_fake_portal_get_access_calls (), ==, calls + 2);

  /* Granted: the window opens the portal's PipeWire remote, drops the
   * advice, restarts the camera list on that remote and starts the preview
   * once the list is loaded. The fake remote is no PipeWire daemon, so the
   * PipeWire provider lists nothing (or wedges until the list's 5 s start
   * limit); the fake camera's provider still lists the chosen camera, and
   * its frames reach the preview. */
  g_assert_true (peercam_test_wait_until (advice_gone, window, 5000));
  g_assert_cmpstr (description (window), ==, "Press “Get Local Video” to start the camera");
  g_assert_cmpint (peercam_fake_portal_get_open_calls (), ==, 1);
  g_assert_true (peercam_test_wait_until (preview_has_frame, window, 15000));
  g_assert_cmpint (peercam_call_engine_get_state (engine), ==, PEERCAM_CALL_STATE_PREVIEW);
  g_assert_cmpstr (peercam_call_engine_get_source (engine), ==, "/peercam-test/Fake Camera One");
  peercam_test_spin (100);
  g_assert_cmpstr (visible_page (window), ==, "preview");
  /* Asked once per press: no more requests after the grant. */
  g_assert_cmpint (peercam_fake_portal_get_access_calls (), ==, calls + 2);

  gtk_window_destroy (window);
  peercam_test_spin (200);
  peercam_fake_camera_remove_all ();
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
  peercam_fake_camera_register ();

  /* Before anything takes the session bus (GApplication, libportal): both
   * get the private one. GTestDBus unsets DISPLAY; GTK still needs it. */
  bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (bus);
  if (display != NULL)
    g_setenv ("DISPLAY", display, TRUE);
  if (wayland != NULL)
    g_setenv ("WAYLAND_DISPLAY", wayland, TRUE);
  /* No accessibility bus on the private one: GTK would warn (fatal here). */
  g_setenv ("GTK_A11Y", "none", TRUE);
  peercam_fake_portal_start (g_test_dbus_get_bus_address (bus));

  app = peercam_test_app_new ();

  g_test_add_func ("/gui/portal/denied-then-retry", test_denied_then_retry);

  ret = g_test_run ();

  g_clear_pointer (&app, peercam_test_app_free);
  peercam_fake_portal_stop ();

  /* GTK, libadwaita and libportal keep the session bus connection to the
   * end: g_test_dbus_down() would wait 30 s for it to go, and a closing
   * connection must not exit the process. Stop the daemon only, and leave
   * @bus (its finalize would call g_test_dbus_down()). */
  connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  if (connection != NULL)
    {
      g_dbus_connection_set_exit_on_close (connection, FALSE);
      g_object_unref (connection);
    }
  g_test_dbus_stop (bus);
  return ret;
}
