/* test-camera-portal.c — PeercamCameraPortal against a fake camera portal
 *
 * The fake is a GDBus object on a private bus (GTestDBus), served from its own
 * thread and connection: libportal makes blocking calls, which a service on
 * the test's own main context could never answer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "peercam-camera-list.h"
#include "peercam-camera-portal.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

#define WAIT_TIMEOUT_S 10

static const char fake_portal_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.portal.Camera'>"
  "    <method name='AccessCamera'>"
  "      <arg type='a{sv}' name='options' direction='in'/>"
  "      <arg type='o' name='handle' direction='out'/>"
  "    </method>"
  "    <method name='OpenPipeWireRemote'>"
  "      <arg type='a{sv}' name='options' direction='in'/>"
  "      <arg type='h' name='fd' direction='out'/>"
  "    </method>"
  "    <property name='IsCameraPresent' type='b' access='read'/>"
  "    <property name='version' type='u' access='read'/>"
  "  </interface>"
  "</node>";

typedef struct {
  GTestDBus       *bus;
  GThread         *thread;
  GMainContext    *context;
  GMainLoop       *loop;
  GDBusConnection *connection;
  GDBusNodeInfo   *info;
  guint            registration;

  GMutex           lock;
  GCond            cond;
  gboolean         ready;

  /* set by the test, read by the service thread */
  int              response;          /* 0 granted, 1 cancelled by user, 2 other */
  int              access_calls;
  int              open_calls;
  char            *last_handle;
} FakePortal;

static FakePortal fake;

static void
fake_method_call (GDBusConnection       *connection,
                  const char            *sender,
                  const char            *object_path,
                  const char            *interface_name,
                  const char            *method_name,
                  GVariant              *parameters,
                  GDBusMethodInvocation *invocation,
                  gpointer               user_data)
{
  if (g_str_equal (method_name, "AccessCamera"))
    {
      g_autoptr(GVariant) options = NULL;
      g_autofree char *escaped = NULL;
      g_autofree char *handle = NULL;
      const char *token = "t";
      int response;

      g_variant_get (parameters, "(@a{sv})", &options);
      g_variant_lookup (options, "handle_token", "&s", &token);

      /* The Request path the portal spec promises: the caller's unique name
       * without ':' and with '.' → '_', then the caller's token. */
      escaped = g_strdup (sender + 1);
      g_strdelimit (escaped, ".", '_');
      handle = g_strdup_printf ("/org/freedesktop/portal/desktop/request/%s/%s", escaped, token);

      g_mutex_lock (&fake.lock);
      fake.access_calls++;
      response = fake.response;
      g_free (fake.last_handle);
      fake.last_handle = g_strdup (handle);
      g_mutex_unlock (&fake.lock);

      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", handle));

      /* Like xdg-desktop-portal: a unicast signal to the caller (libportal
       * adds no match rule), sent from the connection that owns the name. */
      g_dbus_connection_emit_signal (connection, sender, handle,
                                     "org.freedesktop.portal.Request", "Response",
                                     g_variant_new ("(u@a{sv})", response,
                                                    g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)),
                                     NULL);
    }
  else if (g_str_equal (method_name, "OpenPipeWireRemote"))
    {
      g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
      int pair[2];

      g_mutex_lock (&fake.lock);
      fake.open_calls++;
      g_mutex_unlock (&fake.lock);

      /* A socket whose peer is gone: any PipeWire client on it sees a hang-up
       * at once instead of waiting for a daemon. */
      g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair));
      g_unix_fd_list_append (fds, pair[0], NULL);
      close (pair[0]);
      close (pair[1]);
      g_dbus_method_invocation_return_value_with_unix_fd_list (invocation,
                                                               g_variant_new ("(h)", 0), fds);
    }
  else
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                             "no method %s", method_name);
    }
}

static GVariant *
fake_get_property (GDBusConnection  *connection,
                   const char       *sender,
                   const char       *object_path,
                   const char       *interface_name,
                   const char       *property_name,
                   GError          **error,
                   gpointer          user_data)
{
  if (g_str_equal (property_name, "IsCameraPresent"))
    return g_variant_new_boolean (TRUE);
  if (g_str_equal (property_name, "version"))
    return g_variant_new_uint32 (1);
  return NULL;
}

static const GDBusInterfaceVTable fake_vtable = {
  .method_call = fake_method_call,
  .get_property = fake_get_property,
};

static gpointer
fake_thread (gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint32 result = 0;

  g_main_context_push_thread_default (fake.context);

  fake.connection = g_dbus_connection_new_for_address_sync (
      g_test_dbus_get_bus_address (fake.bus),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);

  fake.info = g_dbus_node_info_new_for_xml (fake_portal_xml, &error);
  g_assert_no_error (error);
  fake.registration = g_dbus_connection_register_object (fake.connection,
                                                         "/org/freedesktop/portal/desktop",
                                                         fake.info->interfaces[0],
                                                         &fake_vtable, NULL, NULL, &error);
  g_assert_no_error (error);

  /* Owned synchronously so the name is there before the first test looks. */
  reply = g_dbus_connection_call_sync (fake.connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", "org.freedesktop.portal.Desktop", 4 /* DO_NOT_QUEUE */),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &result);
  g_assert_cmpuint (result, ==, 1 /* PRIMARY_OWNER */);

  g_mutex_lock (&fake.lock);
  fake.ready = TRUE;
  g_cond_signal (&fake.cond);
  g_mutex_unlock (&fake.lock);

  g_main_loop_run (fake.loop);

  g_dbus_connection_unregister_object (fake.connection, fake.registration);
  g_dbus_connection_close_sync (fake.connection, NULL, NULL);
  g_clear_object (&fake.connection);
  g_clear_pointer (&fake.info, g_dbus_node_info_unref);
  g_main_context_pop_thread_default (fake.context);

  return NULL;
}

static void
fake_portal_start (void)
{
  if (fake.thread != NULL)
    return;

  fake.context = g_main_context_new ();
  fake.loop = g_main_loop_new (fake.context, FALSE);
  fake.thread = g_thread_new ("fake-portal", fake_thread, NULL);

  g_mutex_lock (&fake.lock);
  while (!fake.ready)
    g_cond_wait (&fake.cond, &fake.lock);
  g_mutex_unlock (&fake.lock);
}

static void
fake_portal_stop (void)
{
  if (fake.thread == NULL)
    return;

  g_main_loop_quit (fake.loop);
  g_thread_join (fake.thread);
  fake.thread = NULL;
  g_clear_pointer (&fake.loop, g_main_loop_unref);
  g_clear_pointer (&fake.context, g_main_context_unref);
  g_clear_pointer (&fake.last_handle, g_free);
}

static void
fake_portal_set_response (int response)
{
  g_mutex_lock (&fake.lock);
  fake.response = response;
  g_mutex_unlock (&fake.lock);
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
  g_assert_null (fake.thread);
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
  int notifies = 0;
  int calls;
  int fd;

  fake_portal_start ();
  fake_portal_set_response (0);
  calls = fake.access_calls;

  portal = peercam_camera_portal_new ();
  g_signal_connect (portal, "notify::granted", G_CALLBACK (count_notify_cb), &notifies);
  g_assert_true (peercam_camera_portal_is_available (portal));
  g_assert_false (peercam_camera_portal_get_granted (portal));

  g_assert_true (request_access (portal, &error));
  g_assert_no_error (error);
  g_assert_true (peercam_camera_portal_get_granted (portal));
  g_assert_cmpint (notifies, ==, 1);
  g_assert_cmpint (fake.access_calls, ==, calls + 1);

  /* The handle was derived from our own unique name, as the spec says. */
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  escaped = g_strdup (g_dbus_connection_get_unique_name (bus) + 1);
  g_strdelimit (escaped, ".", '_');
  prefix = g_strdup_printf ("/org/freedesktop/portal/desktop/request/%s/", escaped);
  g_assert_true (g_str_has_prefix (fake.last_handle, prefix));

  fd = peercam_camera_portal_open_pipewire_remote (portal, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (fcntl (fd, F_GETFD), !=, -1);
  g_assert_cmpint (peercam_camera_portal_get_pipewire_fd (portal), ==, fd);
  /* Opened once: a second call hands back the same remote. */
  g_assert_cmpint (peercam_camera_portal_open_pipewire_remote (portal, NULL), ==, fd);
  g_assert_cmpint (fake.open_calls, ==, 1);

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
      fake_portal_set_response (response);
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

  fake_portal_set_response (1);
  g_assert_false (request_access (portal, &error));
  g_assert_error (error, PEERCAM_CAMERA_PORTAL_ERROR, PEERCAM_CAMERA_PORTAL_ERROR_DENIED);
  g_clear_error (&error);
  g_assert_cmpint (notifies, ==, 0);

  /* The user changed their mind: the same object asks again. */
  fake_portal_set_response (0);
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

  fake_portal_set_response (1);
  g_assert_false (request_access (portal, &error));
  g_assert_error (error, PEERCAM_CAMERA_PORTAL_ERROR, PEERCAM_CAMERA_PORTAL_ERROR_DENIED);
  g_clear_error (&error);
  g_assert_cmpint (peercam_camera_portal_open_pipewire_remote (portal, &error), ==, -1);
  g_clear_error (&error);
  g_assert_cmpint (peercam_camera_list_get_pipewire_fd (list), ==, -1);

  /* Retry. */
  fake_portal_set_response (0);
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
  gst_init (&argc, &argv);

  /* Before anything takes the session bus: libportal uses the singleton. */
  fake.bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (fake.bus);

  /* Order matters: the first test needs a bus without the portal. */
  g_test_add_func ("/camera-portal/not-available", test_not_available);
  g_test_add_func ("/camera-portal/granted", test_granted);
  g_test_add_func ("/camera-portal/denied", test_denied);
  g_test_add_func ("/camera-portal/retry-after-denial", test_retry_after_denial);
  g_test_add_func ("/camera-portal/list-through-portal", test_list_through_portal);

  ret = g_test_run ();

  fake_portal_stop ();
  g_test_dbus_down (fake.bus);
  g_clear_object (&fake.bus);
  gst_deinit ();

  return ret;
}
