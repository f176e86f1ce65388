/* test-screencast-portal.c — PeercamScreencastPortal against the fake portal
 * (peercam-fake-portal.c) on a private bus: the D-Bus flow, the user's
 * cancel, a portal that fails, none at all, and the screen's device into the
 * local media (a test source in pipewiresrc's place reaches the preview)
 * (issue 15)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-fake-portal.h"
#include "peercam-init.h"
#include "peercam-local-media.h"
#include "peercam-screencast-portal.h"
#include "peercam-test-wait.h"

#include <gst/gst.h>

static GTestDBus *test_bus;
static gboolean silent_pipewire_ran;

typedef struct {
  gboolean   done;
  GstDevice *device;
  GError    *error;
} StartResult;

static void
start_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  StartResult *r = user_data;

  r->device = peercam_screencast_portal_start_finish (PEERCAM_SCREENCAST_PORTAL (object), result, &r->error);
  r->done = TRUE;
}

/* Runs the whole request; the device, or NULL and @error. */
static GstDevice *
start (PeercamScreencastPortal *portal, GCancellable *cancellable, GError **error)
{
  StartResult r = { 0 };

  peercam_screencast_portal_start_async (portal, cancellable, start_done_cb, &r);
  if (cancellable != NULL)
    g_cancellable_cancel (cancellable);
  g_assert_true (WAIT_UNTIL (r.done, 10000));
  g_assert_true ((r.device == NULL) == (r.error != NULL));
  if (r.error != NULL)
    g_propagate_error (error, r.error);
  return r.device;
}

static void
test_not_available (void)
{
  g_autoptr(PeercamScreencastPortal) portal = peercam_screencast_portal_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GstDevice) device = NULL;

  if (g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("inside Flatpak the portal is always available");
      return;
    }
  g_assert_false (peercam_fake_portal_is_running ());
  g_assert_false (peercam_screencast_portal_is_available (portal));
  device = start (portal, NULL, &error);
  g_assert_null (device);
  g_assert_error (error, PEERCAM_SCREENCAST_PORTAL_ERROR, PEERCAM_SCREENCAST_PORTAL_ERROR_UNAVAILABLE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "ScreenCast portal"));
}

/* CreateSession → SelectSources (screens and windows) → Start →
 * OpenPipeWireRemote; the device opens the portal's node. */
static void
test_flow (void)
{
  g_autoptr(PeercamScreencastPortal) portal = peercam_screencast_portal_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GstDevice) device = NULL;
  g_autoptr(GstElement) element = NULL;
  g_autofree char *name = NULL;

  peercam_fake_portal_start (g_test_dbus_get_bus_address (test_bus));
  peercam_fake_portal_set_screencast_responses (0, 0);
  g_assert_true (peercam_screencast_portal_is_available (portal));

  device = start (portal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (peercam_fake_portal_get_screencast_calls ("CreateSession"), ==, 1);
  g_assert_cmpint (peercam_fake_portal_get_screencast_calls ("SelectSources"), ==, 1);
  g_assert_cmpint (peercam_fake_portal_get_screencast_calls ("Start"), ==, 1);
  g_assert_cmpint (peercam_fake_portal_get_screencast_calls ("OpenPipeWireRemote"), ==, 1);
  g_assert_cmpuint (peercam_fake_portal_get_screencast_types (), ==, 1 | 2);

  name = gst_device_get_display_name (device);
  g_assert_cmpstr (name, ==, "Screen");
  g_assert_true (gst_device_has_classes (device, "Video/Source"));
  g_assert_cmpuint (peercam_screencast_device_get_node (device), ==, peercam_fake_portal_get_screencast_node ());

  element = gst_device_create_element (device, "source");
  if (element == NULL)
    {
      g_test_message ("no pipewiresrc: the element is not checked");
      return;
    }
  {
    g_autofree char *path = NULL;
    int fd = -1, keepalive = 0;

    g_object_get (element, "path", &path, "fd", &fd, "keepalive-time", &keepalive, NULL);
    g_assert_cmpstr (path, ==, "42");
    g_assert_cmpint (keepalive, >, 0);
    g_assert_cmpint (fd, >=, 0);
  }

  /* Not started here: the fake's remote is a socket nobody serves, and
   * Debian 12's pipewiresrc (0.3.65) then sometimes waits in its state
   * change for a PipeWire that never answers. */
  peercam_screencast_portal_close (portal);
}

/* The device with a test source in pipewiresrc's place: the portal's
 * screen reaches the preview like a camera. */
static void
test_to_preview (void)
{
  g_autoptr(PeercamScreencastPortal) portal = peercam_screencast_portal_new ();
  g_autoptr(PeercamLocalMedia) local = peercam_local_media_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GstDevice) device = NULL;
  int width, height;

  g_setenv ("PEERCAM_TEST_SCREENCAST_SOURCE",
            "videotestsrc is-live=true ! video/x-raw,width=320,height=180,framerate=30/1", TRUE);
  device = start (portal, NULL, &error);
  g_unsetenv ("PEERCAM_TEST_SCREENCAST_SOURCE");
  g_assert_no_error (error);

  peercam_local_media_set_source_device (local, device);
  peercam_local_media_set_video_size (local, 320, 180, 30);
  g_assert_true (peercam_local_media_start (local, &error));
  g_assert_no_error (error);
  g_assert_true (WAIT_UNTIL (peercam_local_media_get_preview_frames (local) > 10, 5000));
  g_assert_true (peercam_local_media_get_device (local) == device);
  peercam_local_media_get_frame_size (local, &width, &height);
  g_assert_cmpint (width, ==, 320);
  peercam_local_media_stop (local);
  peercam_screencast_portal_close (portal);
}

static void
on_bus_error (PeercamLocalMedia *local,
              GstObject         *source,
              GError            *error,
              GError           **out)
{
  if (*out == NULL)
    *out = g_error_copy (error);
  peercam_local_media_stop (local);
}

/* A real pipewiresrc on a remote whose PipeWire never answers (it would
 * wait 30 s): start returns at once, the source fails after the local
 * media's own timeout, stop never waits for it, and the next source runs. */
static void
test_silent_pipewire (void)
{
  g_autoptr(PeercamScreencastPortal) portal = peercam_screencast_portal_new ();
  g_autoptr(PeercamLocalMedia) local = peercam_local_media_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) failed = NULL;
  g_autoptr(GstDevice) device = NULL;
  gint64 started, took;

  if (gst_element_factory_find ("pipewiresrc") == NULL)
    {
      g_test_skip ("pipewiresrc is missing (gstreamer1.0-pipewire)");
      return;
    }
  silent_pipewire_ran = TRUE;
  peercam_fake_portal_set_screencast_silent (TRUE);
  device = start (portal, NULL, &error);
  g_assert_no_error (error);

  g_signal_connect (local, "bus-error", G_CALLBACK (on_bus_error), &failed);
  peercam_local_media_set_source_device (local, device);
  peercam_local_media_set_video_size (local, 320, 180, 30);
  started = g_get_monotonic_time ();
  g_assert_true (peercam_local_media_start (local, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - started, <, G_USEC_PER_SEC / 2);
  g_assert_true (peercam_local_media_is_running (local));

  g_assert_true (WAIT_UNTIL (failed != NULL, 10000));
  took = g_get_monotonic_time () - started;
  g_test_message ("%s (after %" G_GINT64_FORMAT " ms)", failed->message, took / 1000);
  g_assert_error (failed, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE);
  g_assert_cmpint (took, >=, 4 * G_USEC_PER_SEC);
  g_assert_cmpint (took, <, 8 * G_USEC_PER_SEC);
  g_assert_false (peercam_local_media_is_running (local));

  /* The next source, the same object: runs at once. */
  peercam_local_media_set_source_device (local, NULL);
  peercam_local_media_set_source (local, "test");
  g_assert_true (peercam_local_media_start (local, &error));
  g_assert_no_error (error);
  g_assert_true (WAIT_UNTIL (peercam_local_media_get_preview_frames (local) > 10, 5000));
  peercam_local_media_stop (local);

  /* Stopped while still starting: nothing waits either. */
  peercam_local_media_set_source_device (local, device);
  started = g_get_monotonic_time ();
  g_assert_true (peercam_local_media_start (local, &error));
  peercam_local_media_stop (local);
  g_assert_cmpint (g_get_monotonic_time () - started, <, G_USEC_PER_SEC / 2);
  g_signal_handlers_disconnect_by_func (local, on_bus_error, &failed);
  peercam_screencast_portal_close (portal);
  /* The hung starts end with the "daemon" (gst_deinit() waits for them). */
  peercam_fake_portal_set_screencast_silent (FALSE);
}

/* The user closes the dialog at either step, or the portal refuses: each a
 * clear error, and the next try works. */
static void
test_cancelled (void)
{
  g_autoptr(PeercamScreencastPortal) portal = peercam_screencast_portal_new ();
  struct { int select, start, code; } cases[] = {
    { 1, 0, PEERCAM_SCREENCAST_PORTAL_ERROR_CANCELLED },
    { 0, 1, PEERCAM_SCREENCAST_PORTAL_ERROR_CANCELLED },
    { 2, 0, PEERCAM_SCREENCAST_PORTAL_ERROR_FAILED },
    { 0, 2, PEERCAM_SCREENCAST_PORTAL_ERROR_FAILED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GstDevice) device = NULL;

      peercam_fake_portal_set_screencast_responses (cases[i].select, cases[i].start);
      device = start (portal, NULL, &error);
      g_assert_null (device);
      g_assert_error (error, PEERCAM_SCREENCAST_PORTAL_ERROR, cases[i].code);
      g_test_message ("select %d start %d: %s", cases[i].select, cases[i].start, error->message);
      if (cases[i].code == PEERCAM_SCREENCAST_PORTAL_ERROR_CANCELLED)
        g_assert_cmpstr (error->message, ==, "Screen sharing was cancelled");
    }

  /* Granted, but no stream to open, or garbage where the streams go. */
  peercam_fake_portal_set_screencast_responses (0, 0);
  for (int kind = 1; kind <= 2; kind++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GstDevice) device = NULL;

      peercam_fake_portal_set_screencast_streams (kind);
      device = start (portal, NULL, &error);
      g_assert_null (device);
      g_assert_error (error, PEERCAM_SCREENCAST_PORTAL_ERROR, PEERCAM_SCREENCAST_PORTAL_ERROR_FAILED);
      g_test_message ("streams kind %d: %s", kind, error->message);
    }
  peercam_fake_portal_set_screencast_streams (0);

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GstDevice) device = start (portal, NULL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (device);
  }

  /* The caller's own cancel (the window closes) is G_IO_ERROR_CANCELLED. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(GstDevice) device = start (portal, cancellable, &error);

    g_assert_null (device);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  }
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  peercam_init (&argc, &argv);

  /* Before anything takes the session bus: libportal uses the singleton. */
  test_bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (test_bus);

  /* Order matters: the first test needs a bus without the portal. */
  g_test_add_func ("/screencast-portal/not-available", test_not_available);
  g_test_add_func ("/screencast-portal/flow", test_flow);
  g_test_add_func ("/screencast-portal/to-preview", test_to_preview);
  g_test_add_func ("/screencast-portal/cancelled", test_cancelled);
  g_test_add_func ("/screencast-portal/silent-pipewire", test_silent_pipewire);

  ret = g_test_run ();

  /* libportal's last calls (Session.Close, a cancelled request) answer on
   * this context. Stopped, not "down": Debian 12's libportal 0.6 keeps one
   * reference of each screencast session it made (its XdpSession holds the
   * portal, which holds the bus), so the bus singleton never goes. */
  WAIT_UNTIL (FALSE, 200);
  peercam_fake_portal_stop ();
  g_test_dbus_stop (test_bus);
  /* Kept: its finalizer would wait for the bus singleton all the same. */
  /* Not after silent-pipewire: its pipewiresrc threads wait out their own
   * 30 s timeouts (twice: starting, then stopping) even once the fake's
   * socket hangs up, and gst_deinit() would wait for them. */
  if (!silent_pipewire_ran)
    gst_deinit ();

  return ret;
}
