/* peercam-camera-list.c — the cameras Peercam can open, live
 *
 * A GstDeviceMonitor on "Video/Source" feeds the list; devices come and go
 * through the monitor's bus, watched on the main context the list was made
 * on. Starting the monitor happens on a worker thread with a time limit:
 * PipeWire 0.3.65's provider can wait forever in start() when its remote
 * hangs up early (see peercam-camera-portal.c), and a window must never
 * freeze on that.
 *
 * Without a portal fd every provider runs (V4L2 directly, or the host's
 * PipeWire where one runs). With the camera portal's fd the PipeWire
 * provider is given that remote, which hides the V4L2 provider: inside
 * Flatpak that is the only way to see a camera.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "peercam-camera-list"

#include "config.h"

#include "peercam-camera-list.h"

#include <string.h>

/* Generous: a provider that has not started by then is wedged. */
#define START_TIMEOUT_S 5

/* ---- PeercamCamera ------------------------------------------------------ */

struct _PeercamCamera
{
  GObject    parent_instance;

  char      *name;
  char      *id;
  char      *provider;
  GstDevice *device;
};

G_DEFINE_FINAL_TYPE (PeercamCamera, peercam_camera, G_TYPE_OBJECT)

enum {
  CAMERA_PROP_0,
  CAMERA_PROP_NAME,
  CAMERA_PROP_ID,
  CAMERA_PROP_PROVIDER,
  CAMERA_PROP_DEVICE,
  CAMERA_N_PROPS
};

static GParamSpec *camera_properties[CAMERA_N_PROPS];

static void
peercam_camera_finalize (GObject *object)
{
  PeercamCamera *self = PEERCAM_CAMERA (object);

  g_free (self->name);
  g_free (self->id);
  g_free (self->provider);
  g_clear_object (&self->device);

  G_OBJECT_CLASS (peercam_camera_parent_class)->finalize (object);
}

static void
peercam_camera_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  PeercamCamera *self = PEERCAM_CAMERA (object);

  switch (prop_id)
    {
    case CAMERA_PROP_NAME: g_value_set_string (value, self->name); break;
    case CAMERA_PROP_ID: g_value_set_string (value, self->id); break;
    case CAMERA_PROP_PROVIDER: g_value_set_string (value, self->provider); break;
    case CAMERA_PROP_DEVICE: g_value_set_object (value, self->device); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_camera_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  PeercamCamera *self = PEERCAM_CAMERA (object);

  switch (prop_id)
    {
    case CAMERA_PROP_NAME: self->name = g_value_dup_string (value); break;
    case CAMERA_PROP_ID: self->id = g_value_dup_string (value); break;
    case CAMERA_PROP_PROVIDER: self->provider = g_value_dup_string (value); break;
    case CAMERA_PROP_DEVICE: self->device = g_value_dup_object (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_camera_class_init (PeercamCameraClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                      G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = peercam_camera_finalize;
  object_class->get_property = peercam_camera_get_property;
  object_class->set_property = peercam_camera_set_property;

  camera_properties[CAMERA_PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  camera_properties[CAMERA_PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL, flags);
  camera_properties[CAMERA_PROP_PROVIDER] = g_param_spec_string ("provider", NULL, NULL, NULL, flags);
  camera_properties[CAMERA_PROP_DEVICE] = g_param_spec_object ("device", NULL, NULL, GST_TYPE_DEVICE, flags);

  g_object_class_install_properties (object_class, CAMERA_N_PROPS, camera_properties);
}

static void
peercam_camera_init (PeercamCamera *self)
{
}

PeercamCamera *
peercam_camera_new (const char *name,
                    const char *id,
                    const char *provider,
                    GstDevice  *device)
{
  g_return_val_if_fail (device == NULL || GST_IS_DEVICE (device), NULL);

  return g_object_new (PEERCAM_TYPE_CAMERA,
                       "name", name,
                       "id", id,
                       "provider", provider,
                       "device", device,
                       NULL);
}

/* "v4l2deviceprovider" → "v4l2", "pipewiredeviceprovider" → "pipewire". */
static char *
provider_name (GstDevice *device)
{
  g_autoptr(GstObject) parent = gst_object_get_parent (GST_OBJECT (device));
  GstDeviceProviderFactory *factory;
  const char *name;

  /* Providers parent the devices they announce. */
  if (parent == NULL || !GST_IS_DEVICE_PROVIDER (parent))
    return NULL;
  factory = gst_device_provider_get_factory (GST_DEVICE_PROVIDER (parent));
  if (factory == NULL)
    return NULL;
  name = gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (factory));
  if (g_str_has_suffix (name, "deviceprovider") && strlen (name) > strlen ("deviceprovider"))
    return g_strndup (name, strlen (name) - strlen ("deviceprovider"));
  return g_strdup (name);
}

/* Stable across restarts and re-plugs, and understood by the engine's
 * "source" (which matches device paths and names). */
static char *
device_id (GstDevice *device)
{
  static const char * const keys[] = {
    "device.path", "api.v4l2.path", "node.name", "object.path", "object.serial",
  };
  g_autoptr(GstStructure) props = gst_device_get_properties (device);

  for (gsize i = 0; props != NULL && i < G_N_ELEMENTS (keys); i++)
    {
      const GValue *value = gst_structure_get_value (props, keys[i]);

      if (value == NULL)
        continue;
      if (G_VALUE_HOLDS_STRING (value) && g_value_get_string (value) && *g_value_get_string (value))
        return g_value_dup_string (value);
      if (G_VALUE_TYPE (value) != G_TYPE_STRING)
        return gst_value_serialize (value);
    }
  return gst_device_get_display_name (device);
}

PeercamCamera *
peercam_camera_new_for_device (GstDevice *device)
{
  g_autofree char *name = NULL;
  g_autofree char *id = NULL;
  g_autofree char *provider = NULL;

  g_return_val_if_fail (GST_IS_DEVICE (device), NULL);

  name = gst_device_get_display_name (device);
  id = device_id (device);
  provider = provider_name (device);
  return peercam_camera_new (name, id, provider, device);
}

const char *
peercam_camera_get_name (PeercamCamera *self)
{
  g_return_val_if_fail (PEERCAM_IS_CAMERA (self), NULL);
  return self->name;
}

const char *
peercam_camera_get_id (PeercamCamera *self)
{
  g_return_val_if_fail (PEERCAM_IS_CAMERA (self), NULL);
  return self->id;
}

const char *
peercam_camera_get_provider (PeercamCamera *self)
{
  g_return_val_if_fail (PEERCAM_IS_CAMERA (self), NULL);
  return self->provider;
}

GstDevice *
peercam_camera_get_device (PeercamCamera *self)
{
  g_return_val_if_fail (PEERCAM_IS_CAMERA (self), NULL);
  return self->device;
}

/* ---- PeercamCameraList -------------------------------------------------- */

/* One start of the monitor, shared with its worker thread. */
typedef struct {
  GWeakRef          list;
  GstDeviceMonitor *monitor;
  guint             generation;
} StartData;

struct _PeercamCameraList
{
  GObject           parent_instance;

  GMainContext     *context;
  GPtrArray        *cameras;      /* PeercamCamera */

  GstDeviceMonitor *monitor;
  GSource          *bus_source;
  gboolean          started;      /* gst_device_monitor_start() returned TRUE */
  gboolean          loading;
  guint             generation;   /* bumped by every restart: stale starts are dropped */
  guint             timeout_id;
  int               pipewire_fd;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PeercamCameraList, peercam_camera_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_LOADING,
  PROP_PIPEWIRE_FD,
  N_PROPS
};

enum {
  SIGNAL_CAMERA_REMOVED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static GType
list_get_item_type (GListModel *model)
{
  return PEERCAM_TYPE_CAMERA;
}

static guint
list_get_n_items (GListModel *model)
{
  return PEERCAM_CAMERA_LIST (model)->cameras->len;
}

static gpointer
list_get_item (GListModel *model,
               guint       position)
{
  PeercamCameraList *self = PEERCAM_CAMERA_LIST (model);

  if (position >= self->cameras->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->cameras, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = list_get_item_type;
  iface->get_n_items = list_get_n_items;
  iface->get_item = list_get_item;
}

static void
set_loading (PeercamCameraList *self,
             gboolean           loading)
{
  if (self->loading == loading)
    return;
  self->loading = loading;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static gboolean
find_device (PeercamCameraList *self,
             GstDevice         *device,
             guint             *position)
{
  for (guint i = 0; i < self->cameras->len; i++)
    {
      PeercamCamera *camera = g_ptr_array_index (self->cameras, i);

      if (camera->device == device)
        {
          *position = i;
          return TRUE;
        }
    }
  return FALSE;
}

static void
add_device (PeercamCameraList *self,
            GstDevice         *device)
{
  guint position;

  /* The same device may come both from the bus and from the first listing. */
  if (find_device (self, device, &position) || !gst_device_has_classes (device, "Video/Source"))
    return;

  g_ptr_array_add (self->cameras, peercam_camera_new_for_device (device));
  g_debug ("camera added: %s", peercam_camera_get_id (g_ptr_array_index (self->cameras, self->cameras->len - 1)));
  g_list_model_items_changed (G_LIST_MODEL (self), self->cameras->len - 1, 0, 1);
}

static void
remove_at (PeercamCameraList *self,
           guint              position)
{
  g_autoptr(PeercamCamera) camera = g_object_ref (g_ptr_array_index (self->cameras, position));

  g_debug ("camera removed: %s", camera->id);
  /* Before the removal, so listeners can still find it where it was. */
  g_signal_emit (self, signals[SIGNAL_CAMERA_REMOVED], 0, camera);
  g_ptr_array_remove_index (self->cameras, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
}

static void
remove_device (PeercamCameraList *self,
               GstDevice         *device)
{
  guint position;

  if (find_device (self, device, &position))
    remove_at (self, position);
}

static gboolean
on_monitor_message (GstBus     *bus,
                    GstMessage *message,
                    gpointer    user_data)
{
  PeercamCameraList *self = user_data;
  g_autoptr(GstDevice) device = NULL;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_DEVICE_ADDED:
      gst_message_parse_device_added (message, &device);
      add_device (self, device);
      break;
    case GST_MESSAGE_DEVICE_REMOVED:
      gst_message_parse_device_removed (message, &device);
      remove_device (self, device);
      break;
    case GST_MESSAGE_DEVICE_CHANGED:
      {
        g_autoptr(GstDevice) old = NULL;

        gst_message_parse_device_changed (message, &device, &old);
        remove_device (self, old);
        add_device (self, device);
      }
      break;
    default:
      break;
    }
  return G_SOURCE_CONTINUE;
}

/* Makes the list what the started monitor says it is: hidden providers
 * (V4L2 behind PipeWire) may have announced devices before they were hidden. */
static void
reconcile (PeercamCameraList *self)
{
  g_autolist(GstDevice) devices = gst_device_monitor_get_devices (self->monitor);

  for (guint i = self->cameras->len; i > 0; i--)
    {
      PeercamCamera *camera = g_ptr_array_index (self->cameras, i - 1);

      if (g_list_find (devices, camera->device) == NULL)
        remove_at (self, i - 1);
    }
  for (GList *l = devices; l != NULL; l = l->next)
    add_device (self, l->data);
}

static void
pipewire_provider_set_fd (int fd)
{
  g_autoptr(GstDeviceProvider) provider = gst_device_provider_factory_get_by_name ("pipewiredeviceprovider");

  /* Providers are per-factory singletons: the monitor picks up this one. */
  if (provider != NULL && g_object_class_find_property (G_OBJECT_GET_CLASS (provider), "fd"))
    g_object_set (provider, "fd", fd, NULL);
}

static void
start_data_free (StartData *data)
{
  g_weak_ref_clear (&data->list);
  g_clear_object (&data->monitor);
  g_free (data);
}

static void
start_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  StartData *data = task_data;

  g_task_return_boolean (task, gst_device_monitor_start (data->monitor));
}

static void
start_done (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  StartData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(PeercamCameraList) self = g_weak_ref_get (&data->list);
  gboolean started = g_task_propagate_boolean (G_TASK (result), NULL);

  /* The list went away or restarted meanwhile: this monitor is nobody's. */
  if (self == NULL || data->generation != self->generation)
    {
      if (started)
        gst_device_monitor_stop (data->monitor);
      return;
    }

  g_clear_handle_id (&self->timeout_id, g_source_remove);
  self->started = started;
  if (started)
    reconcile (self);
  else
    g_message ("The camera monitor did not start: no cameras are listed");
  set_loading (self, FALSE);
}

static gboolean
start_timeout (gpointer user_data)
{
  PeercamCameraList *self = user_data;

  self->timeout_id = 0;
  /* The worker stays blocked; whatever the providers announced is listed,
   * and a late start is still taken (start_done). */
  g_message ("The camera monitor has not started after %d s", START_TIMEOUT_S);
  set_loading (self, FALSE);
  return G_SOURCE_REMOVE;
}

static void
stop_monitor (PeercamCameraList *self)
{
  self->generation++;
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  if (self->bus_source != NULL)
    {
      g_source_destroy (self->bus_source);
      g_clear_pointer (&self->bus_source, g_source_unref);
    }
  /* A start still running is stopped by start_done once it returns. */
  if (self->started)
    {
      gst_device_monitor_stop (self->monitor);
      if (self->pipewire_fd >= 0)
        pipewire_provider_set_fd (-1);
    }
  self->started = FALSE;
  g_clear_object (&self->monitor);
}

static void
start_monitor (PeercamCameraList *self)
{
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GTask) task = NULL;
  StartData *data;
  GSource *timeout;

  stop_monitor (self);

  self->monitor = gst_device_monitor_new ();
  gst_device_monitor_add_filter (self->monitor, "Video/Source", NULL);
  if (self->pipewire_fd >= 0)
    pipewire_provider_set_fd (self->pipewire_fd);

  bus = gst_device_monitor_get_bus (self->monitor);
  self->bus_source = gst_bus_create_watch (bus);
  /* Destroyed in stop_monitor(), before the list goes away. */
  g_source_set_callback (self->bus_source, (GSourceFunc) (GCallback) on_monitor_message, self, NULL);
  g_source_attach (self->bus_source, self->context);

  data = g_new0 (StartData, 1);
  g_weak_ref_init (&data->list, self);
  data->monitor = g_object_ref (self->monitor);
  data->generation = self->generation;

  /* No source object: a wedged start must not keep the list alive. */
  task = g_task_new (NULL, NULL, start_done, NULL);
  g_task_set_source_tag (task, start_monitor);
  g_task_set_task_data (task, data, (GDestroyNotify) start_data_free);
  g_task_run_in_thread (task, start_thread);

  timeout = g_timeout_source_new_seconds (START_TIMEOUT_S);
  g_source_set_callback (timeout, start_timeout, self, NULL);
  self->timeout_id = g_source_attach (timeout, self->context);
  g_source_unref (timeout);

  set_loading (self, TRUE);
}

static void
peercam_camera_list_dispose (GObject *object)
{
  PeercamCameraList *self = PEERCAM_CAMERA_LIST (object);

  stop_monitor (self);

  G_OBJECT_CLASS (peercam_camera_list_parent_class)->dispose (object);
}

static void
peercam_camera_list_finalize (GObject *object)
{
  PeercamCameraList *self = PEERCAM_CAMERA_LIST (object);

  g_ptr_array_unref (self->cameras);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (peercam_camera_list_parent_class)->finalize (object);
}

static void
peercam_camera_list_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  PeercamCameraList *self = PEERCAM_CAMERA_LIST (object);

  switch (prop_id)
    {
    case PROP_LOADING: g_value_set_boolean (value, self->loading); break;
    case PROP_PIPEWIRE_FD: g_value_set_int (value, self->pipewire_fd); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_camera_list_class_init (PeercamCameraListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = peercam_camera_list_dispose;
  object_class->finalize = peercam_camera_list_finalize;
  object_class->get_property = peercam_camera_list_get_property;

  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PIPEWIRE_FD] =
    g_param_spec_int ("pipewire-fd", NULL, NULL, -1, G_MAXINT, -1,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CAMERA_REMOVED] =
    g_signal_new ("camera-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, PEERCAM_TYPE_CAMERA);
}

static void
peercam_camera_list_init (PeercamCameraList *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->cameras = g_ptr_array_new_with_free_func (g_object_unref);
  self->pipewire_fd = -1;
}

/**
 * peercam_camera_list_new:
 *
 * Starts listing at once; the first cameras arrive shortly after, on the
 * thread-default main context ("loading" turns FALSE once the monitor is up).
 */
PeercamCameraList *
peercam_camera_list_new (void)
{
  PeercamCameraList *self = g_object_new (PEERCAM_TYPE_CAMERA_LIST, NULL);

  start_monitor (self);
  return self;
}

gboolean
peercam_camera_list_get_loading (PeercamCameraList *self)
{
  g_return_val_if_fail (PEERCAM_IS_CAMERA_LIST (self), FALSE);
  return self->loading;
}

int
peercam_camera_list_get_pipewire_fd (PeercamCameraList *self)
{
  g_return_val_if_fail (PEERCAM_IS_CAMERA_LIST (self), -1);
  return self->pipewire_fd;
}

/**
 * peercam_camera_list_set_pipewire_fd:
 * @fd: the camera portal's PipeWire remote (owned by the caller, which keeps
 *   it open while the list uses it), or -1 to open devices directly
 *
 * Restarts the listing through @fd: the cameras are then the portal's
 * PipeWire nodes, whose devices make sources that use the same remote.
 */
void
peercam_camera_list_set_pipewire_fd (PeercamCameraList *self,
                                     int                fd)
{
  g_return_if_fail (PEERCAM_IS_CAMERA_LIST (self));

  if (fd < 0)
    fd = -1;
  if (self->pipewire_fd == fd)
    return;

  /* The old monitor resets the provider's fd when it stops. */
  stop_monitor (self);
  self->pipewire_fd = fd;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PIPEWIRE_FD]);
  start_monitor (self);
}

/**
 * peercam_camera_list_find:
 * @id: a camera id, device path or display name (as the engine's "source")
 *
 * Returns: (transfer none) (nullable): the camera
 */
PeercamCamera *
peercam_camera_list_find (PeercamCameraList *self,
                          const char        *id)
{
  g_return_val_if_fail (PEERCAM_IS_CAMERA_LIST (self), NULL);

  if (id == NULL)
    return NULL;
  for (guint i = 0; i < self->cameras->len; i++)
    {
      PeercamCamera *camera = g_ptr_array_index (self->cameras, i);

      if (g_strcmp0 (camera->id, id) == 0 || g_strcmp0 (camera->name, id) == 0)
        return camera;
    }
  return NULL;
}

/**
 * peercam_camera_list_find_device:
 *
 * Returns: (transfer none) (nullable): the camera for @device
 */
PeercamCamera *
peercam_camera_list_find_device (PeercamCameraList *self,
                                 GstDevice         *device)
{
  guint position;

  g_return_val_if_fail (PEERCAM_IS_CAMERA_LIST (self), NULL);

  if (device != NULL && find_device (self, device, &position))
    return g_ptr_array_index (self->cameras, position);
  return NULL;
}
