/* peercam-screencast-portal.c — the screen or a window through the XDG
 * ScreenCast portal
 *
 * CreateSession → SelectSources (monitor or window, the cursor drawn in) →
 * Start (the desktop's dialog) → OpenPipeWireRemote, through libportal like
 * the camera portal. The result is a GstDevice, so the local media and the
 * call engine open the screen exactly as they open a listed camera: its
 * element is `pipewiresrc fd=… path=<node>`.
 *
 * PEERCAM_TEST_SCREENCAST_SOURCE (tests only): a GStreamer source
 * description the device makes instead of pipewiresrc, so the flow through
 * a fake portal can be tested to the preview without a PipeWire daemon.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "peercam-screencast-portal"

#include "config.h"

#include "peercam-screencast-portal.h"
#include "peercam-portal.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <libportal/portal.h>

#define SCREENCAST_INTERFACE "org.freedesktop.portal.ScreenCast"

/* ---- the device --------------------------------------------------------- */

#define PEERCAM_TYPE_SCREENCAST_DEVICE (peercam_screencast_device_get_type ())
G_DECLARE_FINAL_TYPE (PeercamScreencastDevice, peercam_screencast_device, PEERCAM, SCREENCAST_DEVICE, GstDevice)

struct _PeercamScreencastDevice
{
  GstDevice   parent_instance;

  int         fd;          /* the portal's PipeWire remote, owned */
  guint32     node;
  char       *test_source; /* PEERCAM_TEST_SCREENCAST_SOURCE, or NULL */
};

G_DEFINE_FINAL_TYPE (PeercamScreencastDevice, peercam_screencast_device, GST_TYPE_DEVICE)

static GstElement *
peercam_screencast_device_create_element (GstDevice  *device,
                                          const char *name)
{
  PeercamScreencastDevice *self = PEERCAM_SCREENCAST_DEVICE (device);
  GstElement *element;

  if (self->test_source != NULL)
    {
      element = gst_parse_bin_from_description (self->test_source, TRUE, NULL);
      if (element != NULL && name != NULL)
        gst_object_set_name (GST_OBJECT (element), name);
      return element;
    }

  element = gst_element_factory_make ("pipewiresrc", name);
  if (element == NULL)
    return NULL;
  {
    g_autofree char *path = g_strdup_printf ("%u", self->node);

    /* pipewiresrc dups the fd when it connects. always-copy: the caller's
     * pipeline keeps frames in queues and encoders, which must not hold
     * the compositor's buffers. A screen sends frames only when something
     * changes; keepalive-time repeats the last one, so a still screen
     * never looks like a lost connection to a viewer (which says "Poor
     * connection" after 3 s without video). */
    g_object_set (element, "fd", self->fd, "path", path, "always-copy", TRUE,
                  "keepalive-time", 500, NULL);
  }
  return element;
}

static void
peercam_screencast_device_finalize (GObject *object)
{
  PeercamScreencastDevice *self = PEERCAM_SCREENCAST_DEVICE (object);

  if (self->fd >= 0)
    g_close (self->fd, NULL);
  g_free (self->test_source);

  G_OBJECT_CLASS (peercam_screencast_device_parent_class)->finalize (object);
}

static void
peercam_screencast_device_class_init (PeercamScreencastDeviceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = peercam_screencast_device_finalize;
  GST_DEVICE_CLASS (klass)->create_element = peercam_screencast_device_create_element;
}

static void
peercam_screencast_device_init (PeercamScreencastDevice *self)
{
  self->fd = -1;
}

guint32
peercam_screencast_device_get_node (GstDevice *device)
{
  g_return_val_if_fail (GST_IS_DEVICE (device), 0);

  if (!PEERCAM_IS_SCREENCAST_DEVICE (device))
    return 0;
  return PEERCAM_SCREENCAST_DEVICE (device)->node;
}

/* ---- the portal --------------------------------------------------------- */

struct _PeercamScreencastPortal
{
  GObject     parent_instance;

  XdpPortal  *portal;       /* created only once a bus and portal exist */
  int         available;    /* -1: not probed yet */
  guint32     cursor_modes; /* AvailableCursorModes */
  XdpSession *session;
  GstDevice  *device;       /* the session's, weak: the owner keeps it */
};

G_DEFINE_FINAL_TYPE (PeercamScreencastPortal, peercam_screencast_portal, G_TYPE_OBJECT)
G_DEFINE_QUARK (peercam-screencast-portal-error-quark, peercam_screencast_portal_error)

enum {
  SIGNAL_CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean
probe_portal (gpointer data)
{
  PeercamScreencastPortal *self = data;
  g_autoptr(GDBusConnection) bus = peercam_portal_get_bus ();

  if (bus == NULL)
    return FALSE;

  /* A portal without a ScreenCast backend has no source types. */
  self->cursor_modes = peercam_portal_get_uint (bus, SCREENCAST_INTERFACE, "AvailableCursorModes");
  return peercam_portal_get_uint (bus, SCREENCAST_INTERFACE, "AvailableSourceTypes") != 0;
}

static void
on_session_closed (XdpSession              *session,
                   PeercamScreencastPortal *self)
{
  g_autoptr(GstDevice) device = NULL;

  if (session != self->session)
    return;
  g_debug ("the desktop closed the screencast session");
  device = self->device ? gst_object_ref (self->device) : NULL;
  peercam_screencast_portal_close (self);
  if (device != NULL)
    g_signal_emit (self, signals[SIGNAL_CLOSED], 0, device);
}

/* The user's closing the dialog says so; the caller's own cancellation
 * stays G_IO_ERROR_CANCELLED. */
static void
return_portal_error (GTask  *task,
                     GError *error)
{
  switch (peercam_portal_answer_of (task, error))
    {
    case PEERCAM_PORTAL_ANSWER_CANCELLED:
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s", error->message);
      break;
    case PEERCAM_PORTAL_ANSWER_DISMISSED:
      g_task_return_new_error (task, PEERCAM_SCREENCAST_PORTAL_ERROR,
                               PEERCAM_SCREENCAST_PORTAL_ERROR_CANCELLED,
                               "%s", _("Screen sharing was cancelled"));
      break;
    case PEERCAM_PORTAL_ANSWER_REFUSED:
    case PEERCAM_PORTAL_ANSWER_FAILED:
    default:
      g_task_return_new_error (task, PEERCAM_SCREENCAST_PORTAL_ERROR,
                               PEERCAM_SCREENCAST_PORTAL_ERROR_FAILED,
                               _("The screen sharing portal failed: %s"), error->message);
      break;
    }
}

static void
on_session_started (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PeercamScreencastPortal *self = g_task_get_source_object (task);
  XdpSession *session = XDP_SESSION (object);
  g_autoptr(GError) error = NULL;
  GVariant *streams;   /* the session's */
  PeercamScreencastDevice *device;
  GVariantIter iter;
  guint32 node = 0;
  gboolean found = FALSE;
  int fd;

  if (!xdp_session_start_finish (session, result, &error))
    {
      if (session == self->session)
        peercam_screencast_portal_close (self);
      return_portal_error (task, error);
      return;
    }
  if (session != self->session)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "superseded");
      return;
    }

  streams = xdp_session_get_streams (session);
  if (streams != NULL && g_variant_is_of_type (streams, G_VARIANT_TYPE ("a(ua{sv})")))
    {
      g_autoptr(GVariant) props = NULL;

      g_variant_iter_init (&iter, streams);
      found = g_variant_iter_next (&iter, "(u@a{sv})", &node, &props);
    }
  if (!found)
    {
      peercam_screencast_portal_close (self);
      g_task_return_new_error (task, PEERCAM_SCREENCAST_PORTAL_ERROR,
                               PEERCAM_SCREENCAST_PORTAL_ERROR_FAILED,
                               "%s", _("The screen sharing portal offered no screen"));
      return;
    }

  /* libportal logs the D-Bus error itself and only returns -1. */
  fd = xdp_session_open_pipewire_remote (session);
  if (fd < 0)
    {
      peercam_screencast_portal_close (self);
      g_task_return_new_error (task, PEERCAM_SCREENCAST_PORTAL_ERROR,
                               PEERCAM_SCREENCAST_PORTAL_ERROR_FAILED,
                               "%s", _("The screen sharing portal failed to open the screen"));
      return;
    }

  {
    g_autoptr(GstCaps) caps = gst_caps_new_empty_simple ("video/x-raw");

    device = g_object_new (PEERCAM_TYPE_SCREENCAST_DEVICE,
                           "display-name", _("Screen"),
                           "device-class", "Video/Source",
                           "caps", caps,
                           NULL);
  }
  device->fd = fd;
  device->node = node;
  device->test_source = g_strdup (g_getenv ("PEERCAM_TEST_SCREENCAST_SOURCE"));
  gst_object_ref_sink (device);
  self->device = GST_DEVICE (device);
  g_object_add_weak_pointer (G_OBJECT (device), (gpointer *) &self->device);
  g_debug ("screencast: node %u, fd %d", node, fd);
  g_task_return_pointer (task, device, gst_object_unref);
}

static void
on_session_created (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PeercamScreencastPortal *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable;
  XdpSession *session;

  session = xdp_portal_create_screencast_session_finish (XDP_PORTAL (object), result, &error);
  if (session == NULL)
    {
      return_portal_error (task, error);
      return;
    }

  peercam_screencast_portal_close (self);
  self->session = session;
  g_signal_connect_object (session, "closed", G_CALLBACK (on_session_closed), self, 0);

  /* No XdpParent: the GTK layer is not ours to touch; the dialog is then
   * not attached to a window. */
  cancellable = g_task_get_cancellable (task);
  xdp_session_start (session, NULL, cancellable, on_session_started, g_steal_pointer (&task));
}

static void
peercam_screencast_portal_dispose (GObject *object)
{
  PeercamScreencastPortal *self = PEERCAM_SCREENCAST_PORTAL (object);

  peercam_screencast_portal_close (self);
  g_clear_object (&self->portal);

  G_OBJECT_CLASS (peercam_screencast_portal_parent_class)->dispose (object);
}

static void
peercam_screencast_portal_class_init (PeercamScreencastPortalClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = peercam_screencast_portal_dispose;

  signals[SIGNAL_CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, GST_TYPE_DEVICE);
}

static void
peercam_screencast_portal_init (PeercamScreencastPortal *self)
{
  self->available = -1;
}

PeercamScreencastPortal *
peercam_screencast_portal_new (void)
{
  return g_object_new (PEERCAM_TYPE_SCREENCAST_PORTAL, NULL);
}

gboolean
peercam_screencast_portal_is_available (PeercamScreencastPortal *self)
{
  g_return_val_if_fail (PEERCAM_IS_SCREENCAST_PORTAL (self), FALSE);

  return peercam_portal_ensure (&self->available, &self->portal, probe_portal, self);
}

void
peercam_screencast_portal_start_async (PeercamScreencastPortal *self,
                                       GCancellable            *cancellable,
                                       GAsyncReadyCallback      callback,
                                       gpointer                 user_data)
{
  g_autoptr(GTask) task = NULL;
  XdpCursorMode cursor;

  g_return_if_fail (PEERCAM_IS_SCREENCAST_PORTAL (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, peercam_screencast_portal_start_async);

  if (!peercam_screencast_portal_is_available (self))
    {
      g_task_return_new_error (task, PEERCAM_SCREENCAST_PORTAL_ERROR,
                               PEERCAM_SCREENCAST_PORTAL_ERROR_UNAVAILABLE,
                               "%s", _("Screen sharing needs the desktop’s ScreenCast portal (xdg-desktop-portal), which is not running"));
      return;
    }

  /* The pointer drawn into the picture where the desktop can: a viewer
   * sees what is being pointed at. The portal refuses modes it lacks. */
  cursor = (self->cursor_modes & XDP_CURSOR_MODE_EMBEDDED) ? XDP_CURSOR_MODE_EMBEDDED
                                                           : XDP_CURSOR_MODE_HIDDEN;
  xdp_portal_create_screencast_session (self->portal, XDP_OUTPUT_MONITOR | XDP_OUTPUT_WINDOW,
                                        XDP_SCREENCAST_FLAG_NONE, cursor, XDP_PERSIST_MODE_NONE,
                                        NULL, cancellable, on_session_created, g_steal_pointer (&task));
}

GstDevice *
peercam_screencast_portal_start_finish (PeercamScreencastPortal  *self,
                                        GAsyncResult             *result,
                                        GError                  **error)
{
  g_return_val_if_fail (PEERCAM_IS_SCREENCAST_PORTAL (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == peercam_screencast_portal_start_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
peercam_screencast_portal_close (PeercamScreencastPortal *self)
{
  g_return_if_fail (PEERCAM_IS_SCREENCAST_PORTAL (self));

  if (self->device != NULL)
    {
      g_object_remove_weak_pointer (G_OBJECT (self->device), (gpointer *) &self->device);
      self->device = NULL;
    }
  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      if (xdp_session_get_session_state (self->session) != XDP_SESSION_CLOSED)
        xdp_session_close (self->session);
      g_clear_object (&self->session);
    }
}
