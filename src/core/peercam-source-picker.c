/* peercam-source-picker.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "peercam-camera-list.h"
#include "peercam-camera-portal.h"
#include "peercam-screencast-portal.h"
#include "peercam-session-private.h"
#include "peercam-source-picker.h"

struct _PeercamSourcePicker
{
  GObject                  parent_instance;

  PeercamSession          *session;          /* owned */
  PeercamCameraList       *cameras;
  GListStore              *extras;
  PeercamCamera           *no_camera_item;   /* id "camera" */
  PeercamCamera           *screen_item;      /* id "screen" */
  PeercamCamera           *test_item;        /* id "test" */
  PeercamCamera           *custom_item;      /* "file:…"/"gst:…", or NULL */

  PeercamCameraPortal     *portal;
  PeercamScreencastPortal *screencast;
  GstDevice               *screen_device;    /* the screen the user picked */
};

G_DEFINE_FINAL_TYPE (PeercamSourcePicker, peercam_source_picker, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_LOADING,
  N_PROPS
};

enum {
  SCREEN_CLOSED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static gboolean
is_test_source (const char *source)
{
  return g_strcmp0 (source, "test") == 0 || g_strcmp0 (source, "smpte") == 0 ||
         g_strcmp0 (source, "ball") == 0 || g_strcmp0 (source, "pinwheel") == 0;
}

static PeercamCallEngine *
engine (PeercamSourcePicker *self)
{
  return peercam_session_get_engine (self->session);
}

static void
on_loading (PeercamSourcePicker *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

/* Stops a preview from a camera that went away; the session says "Camera
 * disconnected". */
static void
on_camera_removed (PeercamSourcePicker *self,
                   PeercamCamera       *camera)
{
  peercam_call_engine_device_removed (engine (self), peercam_camera_get_device (camera));
}

static void
on_screen_closed (PeercamSourcePicker *self,
                  GstDevice           *device)
{
  peercam_call_engine_device_removed (engine (self), device);
  if (device == self->screen_device)
    g_clear_object (&self->screen_device);
  g_signal_emit (self, signals[SCREEN_CLOSED], 0);
}

static void
peercam_source_picker_dispose (GObject *object)
{
  PeercamSourcePicker *self = PEERCAM_SOURCE_PICKER (object);

  if (self->cameras != NULL)
    g_signal_handlers_disconnect_by_data (self->cameras, self);
  if (self->screencast != NULL)
    g_signal_handlers_disconnect_by_data (self->screencast, self);
  /* The list stops its monitor before the portal closes the fd it uses. */
  g_clear_object (&self->cameras);
  g_clear_object (&self->portal);
  g_clear_object (&self->extras);
  g_clear_object (&self->no_camera_item);
  g_clear_object (&self->test_item);
  g_clear_object (&self->screen_item);
  g_clear_object (&self->custom_item);
  g_clear_object (&self->screen_device);
  g_clear_object (&self->screencast);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (peercam_source_picker_parent_class)->dispose (object);
}

static void
peercam_source_picker_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  PeercamSourcePicker *self = PEERCAM_SOURCE_PICKER (object);

  switch (prop_id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, peercam_source_picker_get_loading (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_source_picker_class_init (PeercamSourcePickerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = peercam_source_picker_dispose;
  object_class->get_property = peercam_source_picker_get_property;

  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SCREEN_CLOSED] =
    g_signal_new ("screen-closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
}

static void
peercam_source_picker_init (PeercamSourcePicker *self)
{
  self->cameras = peercam_camera_list_new ();
  self->portal = peercam_camera_portal_new ();
  self->no_camera_item = peercam_camera_new (_("No Camera Found"), "camera", NULL, NULL);
  self->test_item = peercam_camera_new (_("Test Pattern"), "test", NULL, NULL);
  self->screen_item = peercam_camera_new (_("Screen"), "screen", NULL, NULL);
  self->screencast = peercam_screencast_portal_new ();
  self->extras = g_list_store_new (PEERCAM_TYPE_CAMERA);
  g_list_store_append (self->extras, self->screen_item);
  g_list_store_append (self->extras, self->test_item);
  g_signal_connect_swapped (self->screencast, "closed", G_CALLBACK (on_screen_closed), self);
  g_signal_connect_swapped (self->cameras, "camera-removed", G_CALLBACK (on_camera_removed), self);
  g_signal_connect_swapped (self->cameras, "notify::loading", G_CALLBACK (on_loading), self);
}

PeercamSourcePicker *
peercam_source_picker_new (PeercamSession *session)
{
  PeercamSourcePicker *self;

  g_return_val_if_fail (PEERCAM_IS_SESSION (session), NULL);

  self = g_object_new (PEERCAM_TYPE_SOURCE_PICKER, NULL);
  self->session = g_object_ref (session);
  return self;
}

GType
peercam_source_picker_get_item_type (void)
{
  return PEERCAM_TYPE_CAMERA;
}

const char *
peercam_source_picker_item_get_name (gpointer item)
{
  g_return_val_if_fail (PEERCAM_IS_CAMERA (item), NULL);

  return peercam_camera_get_name (item);
}

const char *
peercam_source_picker_item_get_id (gpointer item)
{
  g_return_val_if_fail (PEERCAM_IS_CAMERA (item), NULL);

  return peercam_camera_get_id (item);
}

gpointer
peercam_source_picker_item_new (const char *name,
                                const char *id)
{
  return peercam_camera_new (name, id, NULL, NULL);
}

GListModel *
peercam_source_picker_new_camera_list (void)
{
  return G_LIST_MODEL (peercam_camera_list_new ());
}

GListModel *
peercam_source_picker_get_cameras (PeercamSourcePicker *self)
{
  g_return_val_if_fail (PEERCAM_IS_SOURCE_PICKER (self), NULL);
  return G_LIST_MODEL (self->cameras);
}

GListModel *
peercam_source_picker_get_extras (PeercamSourcePicker *self)
{
  g_return_val_if_fail (PEERCAM_IS_SOURCE_PICKER (self), NULL);
  return G_LIST_MODEL (self->extras);
}

gpointer
peercam_source_picker_get_no_camera_item (PeercamSourcePicker *self)
{
  g_return_val_if_fail (PEERCAM_IS_SOURCE_PICKER (self), NULL);
  return self->no_camera_item;
}

gpointer
peercam_source_picker_get_screen_item (PeercamSourcePicker *self)
{
  g_return_val_if_fail (PEERCAM_IS_SOURCE_PICKER (self), NULL);
  return self->screen_item;
}

gpointer
peercam_source_picker_get_test_item (PeercamSourcePicker *self)
{
  g_return_val_if_fail (PEERCAM_IS_SOURCE_PICKER (self), NULL);
  return self->test_item;
}

gpointer
peercam_source_picker_get_custom_item (PeercamSourcePicker *self)
{
  g_return_val_if_fail (PEERCAM_IS_SOURCE_PICKER (self), NULL);
  return self->custom_item;
}

gboolean
peercam_source_picker_get_loading (PeercamSourcePicker *self)
{
  g_return_val_if_fail (PEERCAM_IS_SOURCE_PICKER (self), FALSE);
  return peercam_camera_list_get_loading (self->cameras);
}

gpointer
peercam_source_picker_get_first_camera (PeercamSourcePicker *self)
{
  g_autoptr(PeercamCamera) first = NULL;

  g_return_val_if_fail (PEERCAM_IS_SOURCE_PICKER (self), NULL);

  first = g_list_model_get_item (G_LIST_MODEL (self->cameras), 0);
  return first != NULL ? peercam_camera_list_find_device (self->cameras, peercam_camera_get_device (first))
                       : NULL;
}

gboolean
peercam_source_picker_no_camera_listed (PeercamSourcePicker *self)
{
  g_return_val_if_fail (PEERCAM_IS_SOURCE_PICKER (self), FALSE);

  if (peercam_camera_list_get_loading (self->cameras))
    return FALSE;
  if (peercam_camera_portal_is_available (self->portal) && !peercam_camera_portal_get_granted (self->portal))
    return FALSE;
  return g_list_model_get_n_items (G_LIST_MODEL (self->cameras)) == 0;
}

void
peercam_source_picker_set_source (PeercamSourcePicker *self,
                                  const char          *source)
{
  g_return_if_fail (PEERCAM_IS_SOURCE_PICKER (self));
  g_return_if_fail (source != NULL);

  if (g_str_has_prefix (source, "file:") || g_str_has_prefix (source, "gst:"))
    {
      g_autofree char *name = g_str_has_prefix (source, "file:")
                              ? g_filename_display_basename (source + strlen ("file:"))
                              : g_strdup (_("GStreamer Source"));
      guint position;

      if (self->custom_item != NULL && g_list_store_find (self->extras, self->custom_item, &position))
        g_list_store_remove (self->extras, position);
      g_clear_object (&self->custom_item);
      self->custom_item = peercam_camera_new (name, source, NULL, NULL);
      g_list_store_append (self->extras, self->custom_item);
    }
  peercam_call_engine_set_source (engine (self), source);
  peercam_call_engine_set_source_device (engine (self), NULL);
}

gpointer
peercam_source_picker_get_current (PeercamSourcePicker *self)
{
  GstDevice *device;
  const char *source;
  PeercamCamera *camera;

  g_return_val_if_fail (PEERCAM_IS_SOURCE_PICKER (self), NULL);

  device = peercam_call_engine_get_source_device (engine (self));
  source = peercam_call_engine_get_source (engine (self));
  /* Also binds a camera named by id to its device, so a source from
   * GSettings or set_source() opens the listed device (portal or not). */
  if (g_strcmp0 (source, "screen") == 0 ||
      (device != NULL && peercam_screencast_device_get_node (device) != 0))
    return self->screen_item;
  if (device != NULL)
    return peercam_camera_list_find_device (self->cameras, device);
  if (is_test_source (source))
    return self->test_item;
  if (self->custom_item != NULL && g_strcmp0 (source, peercam_camera_get_id (self->custom_item)) == 0)
    return self->custom_item;
  if (g_strcmp0 (source, "camera") == 0)
    {
      gpointer first = peercam_source_picker_get_first_camera (self);

      return first != NULL ? first : self->no_camera_item;
    }
  camera = peercam_camera_list_find (self->cameras, source);
  if (camera != NULL)
    peercam_call_engine_set_source_device (engine (self), peercam_camera_get_device (camera));
  return camera;
}

void
peercam_source_picker_apply (PeercamSourcePicker *self,
                             gpointer             item)
{
  g_return_if_fail (PEERCAM_IS_SOURCE_PICKER (self));

  if (item == NULL)
    return;
  g_return_if_fail (PEERCAM_IS_CAMERA (item));
  /* Leaving the screen ends its portal session. */
  if (item != self->screen_item && self->screen_device != NULL)
    peercam_source_picker_close_screen (self);
  if (item == self->test_item && is_test_source (peercam_call_engine_get_source (engine (self))) &&
      peercam_call_engine_get_source_device (engine (self)) == NULL)
    return;
  peercam_call_engine_set_source (engine (self), peercam_camera_get_id (item));
  /* The screen's device comes from the portal once the user picked one. */
  peercam_call_engine_set_source_device (engine (self), item == self->screen_item
                                                        ? self->screen_device
                                                        : peercam_camera_get_device (item));
}

gboolean
peercam_source_picker_needs_camera_access (PeercamSourcePicker *self)
{
  g_return_val_if_fail (PEERCAM_IS_SOURCE_PICKER (self), FALSE);

  return !peercam_camera_portal_get_granted (self->portal) &&
         peercam_camera_portal_is_available (self->portal);
}

static void
on_camera_access (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PeercamSourcePicker *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  int fd;

  if (!peercam_camera_portal_access_finish (PEERCAM_CAMERA_PORTAL (object), result, &error) ||
      (fd = peercam_camera_portal_open_pipewire_remote (self->portal, &error)) < 0)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* The cameras are the portal's from now on: the list restarts on its
   * remote ("loading" says when they are listed). */
  peercam_camera_list_set_pipewire_fd (self->cameras, fd);
  g_task_return_boolean (task, TRUE);
}

/* Both portal flows: a task on @self that completes with TRUE or an error. */
static GTask *
flow_new (PeercamSourcePicker *self,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data,
          gpointer             tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, tag);
  return task;
}

static gboolean
flow_finish (PeercamSourcePicker  *self,
             GAsyncResult         *result,
             gpointer              tag,
             GError              **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
peercam_source_picker_access_cameras_async (PeercamSourcePicker *self,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  g_return_if_fail (PEERCAM_IS_SOURCE_PICKER (self));

  peercam_camera_portal_access_async (self->portal, cancellable, on_camera_access,
                                      flow_new (self, cancellable, callback, user_data,
                                                peercam_source_picker_access_cameras_async));
}

gboolean
peercam_source_picker_access_cameras_finish (PeercamSourcePicker  *self,
                                             GAsyncResult         *result,
                                             GError              **error)
{
  return flow_finish (self, result, peercam_source_picker_access_cameras_async, error);
}

gboolean
peercam_source_picker_has_screen (PeercamSourcePicker *self)
{
  g_return_val_if_fail (PEERCAM_IS_SOURCE_PICKER (self), FALSE);
  return self->screen_device != NULL;
}

static void
on_screen_chosen (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PeercamSourcePicker *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GstDevice) device = NULL;

  device = peercam_screencast_portal_start_finish (PEERCAM_SCREENCAST_PORTAL (object), result, &error);
  if (device == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_set_object (&self->screen_device, device);
  g_task_return_boolean (task, TRUE);
}

void
peercam_source_picker_choose_screen_async (PeercamSourcePicker *self,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data)
{
  g_return_if_fail (PEERCAM_IS_SOURCE_PICKER (self));

  peercam_screencast_portal_start_async (self->screencast, cancellable, on_screen_chosen,
                                         flow_new (self, cancellable, callback, user_data,
                                                   peercam_source_picker_choose_screen_async));
}

gboolean
peercam_source_picker_choose_screen_finish (PeercamSourcePicker  *self,
                                            GAsyncResult         *result,
                                            GError              **error)
{
  return flow_finish (self, result, peercam_source_picker_choose_screen_async, error);
}

void
peercam_source_picker_close_screen (PeercamSourcePicker *self)
{
  g_return_if_fail (PEERCAM_IS_SOURCE_PICKER (self));

  if (self->screen_device == NULL)
    return;
  peercam_screencast_portal_close (self->screencast);
  g_clear_object (&self->screen_device);
}
