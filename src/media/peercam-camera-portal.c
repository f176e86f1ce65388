/* peercam-camera-portal.c — camera access through the XDG camera portal
 *
 * Inside Flatpak the sandbox has no /dev/video*: cameras come only as PipeWire
 * nodes behind the portal, after the user allowed it. Outside a sandbox the
 * portal may still be running (GNOME), and then it is the polite way to ask
 * too; without it Peercam opens V4L2 devices directly.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "peercam-camera-portal.h"
#include "peercam-portal.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <libportal/portal.h>

#define CAMERA_INTERFACE   "org.freedesktop.portal.Camera"

struct _PeercamCameraPortal
{
  GObject    parent_instance;

  XdpPortal *portal;          /* created only once a bus and portal exist */
  int        available;       /* -1: not probed yet */
  gboolean   granted;
  int        pipewire_fd;
};

G_DEFINE_FINAL_TYPE (PeercamCameraPortal, peercam_camera_portal, G_TYPE_OBJECT)
G_DEFINE_QUARK (peercam-camera-portal-error-quark, peercam_camera_portal_error)

enum {
  PROP_0,
  PROP_GRANTED,
  PROP_PIPEWIRE_FD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_granted (PeercamCameraPortal *self,
             gboolean             granted)
{
  if (self->granted == granted)
    return;
  self->granted = granted;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GRANTED]);
}

static gboolean
probe_portal (gpointer data)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) present = NULL;

  /* Inside Flatpak the portal is always reachable (and D-Bus activated). */
  if (g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
    return TRUE;

  /* Outside, only one that runs already: on a host without one, V4L2 is
   * the right path anyway. */
  bus = peercam_portal_get_bus ();
  if (bus == NULL)
    return FALSE;

  /* Old portals (and desktops without a camera backend) lack the interface. */
  present = peercam_portal_get_property (bus, CAMERA_INTERFACE, "IsCameraPresent");
  return present != NULL;
}

static void
access_camera_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PeercamCameraPortal *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;

  if (xdp_portal_access_camera_finish (XDP_PORTAL (object), result, &error))
    {
      set_granted (self, TRUE);
      g_task_return_boolean (task, TRUE);
      return;
    }

  set_granted (self, FALSE);

  /* The user said no, or a stored permission did: both mean "denied" to
   * the user, who may change their mind, so both get the one code the UI
   * offers "Retry" for. */
  switch (peercam_portal_answer_of (task, error))
    {
    case PEERCAM_PORTAL_ANSWER_CANCELLED:
      g_task_return_error (task, g_steal_pointer (&error));
      break;
    case PEERCAM_PORTAL_ANSWER_DISMISSED:
    case PEERCAM_PORTAL_ANSWER_REFUSED:
      g_debug ("Camera portal: %s", error->message);
      g_task_return_new_error (task, PEERCAM_CAMERA_PORTAL_ERROR,
                               PEERCAM_CAMERA_PORTAL_ERROR_DENIED,
                               "%s", _("Camera access was denied"));
      break;
    case PEERCAM_PORTAL_ANSWER_FAILED:
    default:
      g_task_return_new_error (task, PEERCAM_CAMERA_PORTAL_ERROR,
                               PEERCAM_CAMERA_PORTAL_ERROR_FAILED,
                               _("The camera portal failed: %s"), error->message);
      break;
    }
}

static void
peercam_camera_portal_finalize (GObject *object)
{
  PeercamCameraPortal *self = PEERCAM_CAMERA_PORTAL (object);

  g_clear_object (&self->portal);
  if (self->pipewire_fd >= 0)
    g_close (self->pipewire_fd, NULL);

  G_OBJECT_CLASS (peercam_camera_portal_parent_class)->finalize (object);
}

static void
peercam_camera_portal_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  PeercamCameraPortal *self = PEERCAM_CAMERA_PORTAL (object);

  switch (prop_id)
    {
    case PROP_GRANTED:
      g_value_set_boolean (value, self->granted);
      break;
    case PROP_PIPEWIRE_FD:
      g_value_set_int (value, self->pipewire_fd);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_camera_portal_class_init (PeercamCameraPortalClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = peercam_camera_portal_finalize;
  object_class->get_property = peercam_camera_portal_get_property;

  properties[PROP_GRANTED] =
    g_param_spec_boolean ("granted", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PIPEWIRE_FD] =
    g_param_spec_int ("pipewire-fd", NULL, NULL, -1, G_MAXINT, -1,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
peercam_camera_portal_init (PeercamCameraPortal *self)
{
  self->available = -1;
  self->pipewire_fd = -1;
}

PeercamCameraPortal *
peercam_camera_portal_new (void)
{
  return g_object_new (PEERCAM_TYPE_CAMERA_PORTAL, NULL);
}

/**
 * peercam_camera_portal_is_available:
 *
 * Whether cameras should be reached through the portal: inside Flatpak, or
 * when a portal with the Camera interface runs on the session bus. Probed
 * once (blocking, at most a few seconds), then cached.
 */
gboolean
peercam_camera_portal_is_available (PeercamCameraPortal *self)
{
  g_return_val_if_fail (PEERCAM_IS_CAMERA_PORTAL (self), FALSE);

  return peercam_portal_ensure (&self->available, &self->portal, probe_portal, NULL);
}

void
peercam_camera_portal_access_async (PeercamCameraPortal *self,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (PEERCAM_IS_CAMERA_PORTAL (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, peercam_camera_portal_access_async);

  if (!peercam_camera_portal_is_available (self))
    {
      g_task_return_new_error (task, PEERCAM_CAMERA_PORTAL_ERROR,
                               PEERCAM_CAMERA_PORTAL_ERROR_UNAVAILABLE,
                               "%s", _("The camera portal is not available"));
      return;
    }

  /* No XdpParent: the GTK layer is not ours to touch, and without one the
   * portal dialog is simply not attached to a window. */
  xdp_portal_access_camera (self->portal, NULL, XDP_CAMERA_FLAG_NONE, cancellable,
                            access_camera_cb, g_steal_pointer (&task));
}

gboolean
peercam_camera_portal_access_finish (PeercamCameraPortal  *self,
                                     GAsyncResult         *result,
                                     GError              **error)
{
  g_return_val_if_fail (PEERCAM_IS_CAMERA_PORTAL (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == peercam_camera_portal_access_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
peercam_camera_portal_get_granted (PeercamCameraPortal *self)
{
  g_return_val_if_fail (PEERCAM_IS_CAMERA_PORTAL (self), FALSE);

  return self->granted;
}

/**
 * peercam_camera_portal_open_pipewire_remote:
 *
 * Opens the PipeWire remote that shows only the cameras, once access was
 * granted. The fd stays owned by @self (see the "pipewire-fd" property);
 * calling this again returns the same fd.
 *
 * Returns: the fd, or -1 with @error set
 */
int
peercam_camera_portal_open_pipewire_remote (PeercamCameraPortal  *self,
                                            GError              **error)
{
  int fd;

  g_return_val_if_fail (PEERCAM_IS_CAMERA_PORTAL (self), -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  if (self->pipewire_fd >= 0)
    return self->pipewire_fd;

  if (!peercam_camera_portal_is_available (self))
    {
      g_set_error_literal (error, PEERCAM_CAMERA_PORTAL_ERROR,
                           PEERCAM_CAMERA_PORTAL_ERROR_UNAVAILABLE,
                           _("The camera portal is not available"));
      return -1;
    }

  if (!self->granted)
    {
      g_set_error_literal (error, PEERCAM_CAMERA_PORTAL_ERROR,
                           PEERCAM_CAMERA_PORTAL_ERROR_DENIED,
                           _("Camera access was denied"));
      return -1;
    }

  /* libportal logs the D-Bus error itself and only returns -1. */
  fd = xdp_portal_open_pipewire_remote_for_camera (self->portal);
  if (fd < 0)
    {
      g_set_error_literal (error, PEERCAM_CAMERA_PORTAL_ERROR,
                           PEERCAM_CAMERA_PORTAL_ERROR_FAILED,
                           _("The camera portal failed to open the camera"));
      return -1;
    }

  self->pipewire_fd = fd;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PIPEWIRE_FD]);

  return fd;
}

int
peercam_camera_portal_get_pipewire_fd (PeercamCameraPortal *self)
{
  g_return_val_if_fail (PEERCAM_IS_CAMERA_PORTAL (self), -1);

  return self->pipewire_fd;
}

static GList *
list_pipewire_cameras (int fd)
{
  g_autoptr(GstDeviceProvider) provider = NULL;
  g_autoptr(GstDeviceMonitor) monitor = NULL;
  GList *devices = NULL;

  /* GStreamer 1.22 has no way to hand a provider to a GstDeviceMonitor, but
   * providers are per-factory singletons, so the monitor picks up the one we
   * configure here. PipeWire 0.3.65's provider has an "fd" property (read at
   * start, dup'ed) and hides the V4L2 provider, and the devices it makes pass
   * the fd on to the pipewiresrc they create. */
  provider = gst_device_provider_factory_get_by_name ("pipewiredeviceprovider");
  if (provider == NULL)
    return NULL;

  g_object_set (provider, "fd", fd, NULL);

  monitor = gst_device_monitor_new ();
  gst_device_monitor_add_filter (monitor, "Video/Source", NULL);
  if (gst_device_monitor_start (monitor))
    {
      devices = gst_device_monitor_get_devices (monitor);
      gst_device_monitor_stop (monitor);
    }

  /* The provider outlives us; don't leave it pointing at an fd we may close. */
  g_object_set (provider, "fd", -1, NULL);

  return devices;
}

static GList *
list_v4l2_cameras (void)
{
  g_autoptr(GstDeviceProvider) provider = NULL;
  GList *devices;
  GList *l;

  /* The V4L2 provider alone, probed once: a monitor would also start the
   * PipeWire provider, which connects to the host's PipeWire outside the
   * portal and hides the V4L2 devices. */
  provider = gst_device_provider_factory_get_by_name ("v4l2deviceprovider");
  if (provider == NULL)
    return NULL;

  devices = gst_device_provider_get_devices (provider);
  for (l = devices; l != NULL;)
    {
      GList *next = l->next;

      if (!gst_device_has_classes (l->data, "Video/Source"))
        {
          gst_object_unref (l->data);
          devices = g_list_delete_link (devices, l);
        }
      l = next;
    }

  return devices;
}

/**
 * peercam_camera_portal_list_cameras:
 *
 * Lists the cameras Peercam can open right now: the portal's PipeWire
 * cameras once peercam_camera_portal_open_pipewire_remote() succeeded,
 * otherwise the V4L2 devices.
 *
 * Returns: (transfer full) (element-type GstDevice): the cameras; free with
 *   g_list_free_full (list, gst_object_unref)
 */
GList *
peercam_camera_portal_list_cameras (PeercamCameraPortal *self)
{
  GList *devices = NULL;

  g_return_val_if_fail (PEERCAM_IS_CAMERA_PORTAL (self), NULL);

  if (self->pipewire_fd >= 0)
    {
      devices = list_pipewire_cameras (self->pipewire_fd);
      if (devices != NULL)
        return devices;
      g_debug ("Camera portal: no PipeWire cameras, trying V4L2");
    }

  return list_v4l2_cameras ();
}
