/* test-camera-portal.c — PeercamCameraPortal against a fake camera portal
 * (peercam-fake-portal.c) on a private bus (GTestDBus)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "peercam-camera-list.h"
#include "peercam-camera-portal.h"
#include "peercam-fake-portal.h"
#include "peercam-init.h"

#include <fcntl.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/gst.h>

#define WAIT_TIMEOUT_S 10

static GTestDBus *test_bus;

static void
fake_portal_start (void)
{
  peercam_fake_portal_start (g_test_dbus_get_bus_address (test_bus));
}

/* --- helpers ------------------------------------------------------------ */

typedef struct {
  gboolean  done;
  gboolean  granted;
  GError   *error;
} AccessResult;

static gboolean
wait_timeout_cb (gpointer data)
{
  g_error ("timed out waiting for the camera portal");
  return G_SOURCE_REMOVE;
}

static void
access_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  AccessResult *r = user_data;

  r->granted = peercam_camera_portal_access_finish (PEERCAM_CAMERA_PORTAL (object), result, &r->error);
  r->done = TRUE;
}

static gboolean
request_access (PeercamCameraPortal  *portal,
                GError              **error)
{
  AccessResult r = { 0 };
  guint timeout = g_timeout_add_seconds (WAIT_TIMEOUT_S, wait_timeout_cb, NULL);

  peercam_camera_portal_access_async (portal, NULL, access_done_cb, &r);
  while (!r.done)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);

  g_assert_true (r.granted == (r.error == NULL));
  if (r.error != NULL)
    g_propagate_error (error, r.error);
  return r.granted;
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  (*(int *) user_data)++;
}

static void
assert_all_video_sources (GList *devices)
{
  for (GList *l = devices; l != NULL; l = l->next)
    g_assert_true (gst_device_has_classes (l->data, "Video/Source"));
}

/* --- tests -------------------------------------------------------------- */

static void
test_not_available (void)
{
  g_autoptr(PeercamCameraPortal) portal = NULL;
  g_autoptr(GError) error = NULL;
  GList *cameras;
  int before;

  if (g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("inside Flatpak the portal is always available");
      return;
    }

  /* Runs before the fake portal owns its name: nothing on the bus. */
  g_assert_false (peercam_fake_portal_is_running ());
  portal = peercam_camera_portal_new ();
  g_assert_false (peercam_camera_portal_is_available (portal));

  g_assert_false (request_access (portal, &error));
  g_assert_error (error, PEERCAM_CAMERA_PORTAL_ERROR, PEERCAM_CAMERA_PORTAL_ERROR_UNAVAILABLE);
  g_clear_error (&error);

  g_assert_cmpint (peercam_camera_portal_open_pipewire_remote (portal, &error), ==, -1);
  g_assert_error (error, PEERCAM_CAMERA_PORTAL_ERROR, PEERCAM_CAMERA_PORTAL_ERROR_UNAVAILABLE);
  g_assert_cmpint (peercam_camera_portal_get_pipewire_fd (portal), ==, -1);

  /* The V4L2 fallback: whatever is plugged in, only cameras, no crash. */
  before = g_list_length (cameras = peercam_camera_portal_list_cameras (portal));
  assert_all_video_sources (cameras);
  if (!g_file_test ("/dev/video0", G_FILE_TEST_EXISTS))
    g_assert_cmpint (before, ==, 0);
  g_test_message ("%d V4L2 camera(s)", before);
  g_list_free_full (cameras, gst_object_unref);
}

static void
test_granted (void)
{
  g_autoptr(PeercamCameraPortal) portal = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *last_handle = NULL;
  int notifies = 0;
  int calls;
  int fd;

  fake_portal_start ();
  peercam_fake_portal_set_response (0);
  calls = peercam_fake_portal_get_access_calls ();

  portal = peercam_camera_portal_new ();
  g_signal_connect (portal, "notify::granted", G_CALLBACK (count_notify_cb), &notifies);
  g_assert_true (peercam_camera_portal_is_available (portal));
  g_assert_false (peercam_camera_portal_get_granted (portal));

  g_assert_true (request_access (portal, &error));
  g_assert_no_error (error);
  g_assert_true (peercam_camera_portal_get_granted (portal));
  g_assert_cmpint (notifies, ==, 1);
  g_assert_cmpint (peercam_fake_portal_get_access_calls (), ==, calls + 1);

  /* The handle was derived from our own unique name, as the spec says. */
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  escaped = g_strdup (g_dbus_connection_get_unique_name (bus) + 1);
  g_strdelimit (escaped, ".", '_');
  prefix = g_strdup_printf ("/org/freedesktop/portal/desktop/request/%s/", escaped);
  last_handle = peercam_fake_portal_dup_last_handle ();
  g_assert_true (g_str_has_prefix (last_handle, prefix));

  fd = peercam_camera_portal_open_pipewire_remote (portal, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (fcntl (fd, F_GETFD), !=, -1);
  g_assert_cmpint (peercam_camera_portal_get_pipewire_fd (portal), ==, fd);
  /* Opened once: a second call hands back the same remote. */
  g_assert_cmpint (peercam_camera_portal_open_pipewire_remote (portal, NULL), ==, fd);
  g_assert_cmpint (peercam_fake_portal_get_open_calls (), ==, 1);

  /* Not listed here: the fake remote is no PipeWire daemon, and PipeWire
   * 0.3.65's device provider can wait forever in start() when its remote
   * hangs up early (a race seen in ~1 of 6 runs). */
}

static void
test_denied (void)
{
  g_autoptr(PeercamCameraPortal) portal = NULL;
  g_autoptr(GError) error = NULL;

  fake_portal_start ();

  for (int response = 1; response <= 2; response++)
    {
      g_clear_object (&portal);
      peercam_fake_portal_set_response (response);
      portal = peercam_camera_portal_new ();

      g_assert_false (request_access (portal, &error));
      g_assert_error (error, PEERCAM_CAMERA_PORTAL_ERROR, PEERCAM_CAMERA_PORTAL_ERROR_DENIED);
      g_assert_cmpstr (error->message, ==, "Camera access was denied");
      g_assert_false (peercam_camera_portal_get_granted (portal));
      g_clear_error (&error);

      /* No remote without a grant, and without asking the portal. */
      g_assert_cmpint (peercam_camera_portal_open_pipewire_remote (portal, &error), ==, -1);
      g_assert_error (error, PEERCAM_CAMERA_PORTAL_ERROR, PEERCAM_CAMERA_PORTAL_ERROR_DENIED);
      g_clear_error (&error);
    }
}

static void
test_retry_after_denial (void)
{
  g_autoptr(PeercamCameraPortal) portal = NULL;
  g_autoptr(GError) error = NULL;
  int notifies = 0;

  fake_portal_start ();
  portal = peercam_camera_portal_new ();
  g_signal_connect (portal, "notify::granted", G_CALLBACK (count_notify_cb), &notifies);

  peercam_fake_portal_set_response (1);
  g_assert_false (request_access (portal, &error));
  g_assert_error (error, PEERCAM_CAMERA_PORTAL_ERROR, PEERCAM_CAMERA_PORTAL_ERROR_DENIED);
  g_clear_error (&error);
  g_assert_cmpint (notifies, ==, 0);

  /* The user changed their mind: the same object asks again. */
  peercam_fake_portal_set_response (0);
  g_assert_true (request_access (portal, &error));
  g_assert_no_error (error);
  g_assert_true (peercam_camera_portal_get_granted (portal));
  g_assert_cmpint (notifies, ==, 1);
  g_assert_cmpint (peercam_camera_portal_open_pipewire_remote (portal, &error), >=, 0);
  g_assert_no_error (error);
}

/* What the caller window does on Get Local Video, without the window:
 * denied → DENIED and the cameras stay direct; Retry → granted → the list
 * restarts on the portal's PipeWire remote, without blocking the loop. */
static void
test_list_through_portal (void)
{
  g_autoptr(PeercamCameraPortal) portal = NULL;
  g_autoptr(PeercamCameraList) list = NULL;
  g_autoptr(GstDeviceProvider) provider = NULL;
  g_autoptr(GError) error = NULL;
  gint64 end;
  int provider_fd = -1;
  int fd;

  fake_portal_start ();
  portal = peercam_camera_portal_new ();
  list = peercam_camera_list_new ();
  g_assert_cmpint (peercam_camera_list_get_pipewire_fd (list), ==, -1);

  peercam_fake_portal_set_response (1);
  g_assert_false (request_access (portal, &error));
  g_assert_error (error, PEERCAM_CAMERA_PORTAL_ERROR, PEERCAM_CAMERA_PORTAL_ERROR_DENIED);
  g_clear_error (&error);
  g_assert_cmpint (peercam_camera_portal_open_pipewire_remote (portal, &error), ==, -1);
  g_clear_error (&error);
  g_assert_cmpint (peercam_camera_list_get_pipewire_fd (list), ==, -1);

  /* Retry. */
  peercam_fake_portal_set_response (0);
  g_assert_true (request_access (portal, &error));
  g_assert_no_error (error);
  fd = peercam_camera_portal_open_pipewire_remote (portal, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);

  peercam_camera_list_set_pipewire_fd (list, fd);
  g_assert_cmpint (peercam_camera_list_get_pipewire_fd (list), ==, fd);
  g_assert_true (peercam_camera_list_get_loading (list));
  provider = gst_device_provider_factory_get_by_name ("pipewiredeviceprovider");
  if (provider != NULL)
    {
      /* The PipeWire provider (the one the monitor starts) got the remote. */
      g_object_get (provider, "fd", &provider_fd, NULL);
      g_assert_cmpint (provider_fd, ==, fd);
    }

  /* The fake remote is no PipeWire daemon: the provider may fail or wedge;
   * either way loading ends in bounded time (the start runs on a worker). */
  end = g_get_monotonic_time () + 8 * G_USEC_PER_SEC;
  while (peercam_camera_list_get_loading (list) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (peercam_camera_list_get_loading (list));
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)); i++)
    {
      g_autoptr(PeercamCamera) camera = g_list_model_get_item (G_LIST_MODEL (list), i);

      g_assert_true (gst_device_has_classes (peercam_camera_get_device (camera), "Video/Source"));
    }
  g_test_message ("%u camera(s) through the fake portal", g_list_model_get_n_items (G_LIST_MODEL (list)));

  /* Back to direct access: the provider no longer points at the remote. */
  peercam_camera_list_set_pipewire_fd (list, -1);
  g_assert_cmpint (peercam_camera_list_get_pipewire_fd (list), ==, -1);
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
  g_test_add_func ("/camera-portal/not-available", test_not_available);
  g_test_add_func ("/camera-portal/granted", test_granted);
  g_test_add_func ("/camera-portal/denied", test_denied);
  g_test_add_func ("/camera-portal/retry-after-denial", test_retry_after_denial);
  g_test_add_func ("/camera-portal/list-through-portal", test_list_through_portal);

  ret = g_test_run ();

  peercam_fake_portal_stop ();
  g_test_dbus_down (test_bus);
  g_clear_object (&test_bus);
  gst_deinit ();

  return ret;
}
