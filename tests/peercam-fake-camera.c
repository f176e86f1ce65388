/* peercam-fake-camera.c — see peercam-fake-camera.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-fake-camera.h"

/* ---- the device --------------------------------------------------------- */

#define PEERCAM_TYPE_FAKE_DEVICE (peercam_fake_device_get_type ())
G_DECLARE_FINAL_TYPE (PeercamFakeDevice, peercam_fake_device, PEERCAM, FAKE_DEVICE, GstDevice)

struct _PeercamFakeDevice
{
  GstDevice parent_instance;
};

G_DEFINE_FINAL_TYPE (PeercamFakeDevice, peercam_fake_device, GST_TYPE_DEVICE)

static GstElement *
peercam_fake_device_create_element (GstDevice  *device,
                                    const char *name)
{
  GstElement *element = gst_element_factory_make ("videotestsrc", name);

  /* Live like a camera, and colourful enough to see in a screenshot. */
  g_object_set (element, "is-live", TRUE, NULL);
  gst_util_set_object_arg (G_OBJECT (element), "pattern", "smpte");
  return element;
}

static void
peercam_fake_device_class_init (PeercamFakeDeviceClass *klass)
{
  GST_DEVICE_CLASS (klass)->create_element = peercam_fake_device_create_element;
}

static void
peercam_fake_device_init (PeercamFakeDevice *self)
{
}

/* ---- the provider ------------------------------------------------------- */

#define PEERCAM_TYPE_FAKE_PROVIDER (peercam_fake_provider_get_type ())
G_DECLARE_FINAL_TYPE (PeercamFakeProvider, peercam_fake_provider, PEERCAM, FAKE_PROVIDER, GstDeviceProvider)

struct _PeercamFakeProvider
{
  GstDeviceProvider parent_instance;
};

G_DEFINE_FINAL_TYPE (PeercamFakeProvider, peercam_fake_provider, GST_TYPE_DEVICE_PROVIDER)

/* Plugged cameras, kept across start/stop like real hardware would be. */
static GList *plugged;
static GMutex plugged_lock;

static GstDevice *
fake_device_new (const char *name)
{
  g_autofree char *path = g_strdup_printf ("/peercam-test/%s", name);
  g_autoptr(GstCaps) caps = gst_caps_new_empty_simple ("video/x-raw");
  g_autoptr(GstStructure) props = gst_structure_new ("peercam-test-device",
                                                    "device.path", G_TYPE_STRING, path,
                                                    NULL);

  return g_object_new (PEERCAM_TYPE_FAKE_DEVICE,
                       "display-name", name,
                       "device-class", "Video/Source",
                       "caps", caps,
                       "properties", props,
                       NULL);
}

static gboolean
peercam_fake_provider_start (GstDeviceProvider *provider)
{
  g_autolist(GstDevice) devices = NULL;

  g_mutex_lock (&plugged_lock);
  for (GList *l = plugged; l != NULL; l = l->next)
    devices = g_list_prepend (devices, gst_object_ref (l->data));
  devices = g_list_reverse (devices);
  g_mutex_unlock (&plugged_lock);

  for (GList *l = devices; l != NULL; l = l->next)
    if (GST_OBJECT_PARENT (l->data) == NULL)
      gst_device_provider_device_add (provider, l->data);
  return TRUE;
}

static void
peercam_fake_provider_stop (GstDeviceProvider *provider)
{
}

static void
peercam_fake_provider_class_init (PeercamFakeProviderClass *klass)
{
  GstDeviceProviderClass *provider_class = GST_DEVICE_PROVIDER_CLASS (klass);

  provider_class->start = peercam_fake_provider_start;
  provider_class->stop = peercam_fake_provider_stop;
  gst_device_provider_class_set_static_metadata (provider_class, "Peercam test cameras",
                                                 "Video/Source", "Fake cameras for the tests",
                                                 "Peercam");
}

static void
peercam_fake_provider_init (PeercamFakeProvider *self)
{
}

/* ---- public ------------------------------------------------------------- */

void
peercam_fake_camera_register (void)
{
  static gsize once;

  if (g_once_init_enter (&once))
    {
      g_assert_true (gst_device_provider_register (NULL, PEERCAM_FAKE_CAMERA_PROVIDER,
                                                   GST_RANK_PRIMARY, PEERCAM_TYPE_FAKE_PROVIDER));
      g_once_init_leave (&once, 1);
    }
}

static GstDeviceProvider *
get_provider (void)
{
  GstDeviceProvider *provider = gst_device_provider_factory_get_by_name (PEERCAM_FAKE_CAMERA_PROVIDER);

  g_assert_nonnull (provider);
  return provider;
}

GstDevice *
peercam_fake_camera_add (const char *name)
{
  g_autoptr(GstDeviceProvider) provider = get_provider ();
  GstDevice *device = gst_object_ref_sink (fake_device_new (name));

  g_mutex_lock (&plugged_lock);
  plugged = g_list_append (plugged, device);
  g_mutex_unlock (&plugged_lock);

  /* Announced now if someone is watching, else at the next start. */
  if (gst_device_provider_is_started (provider))
    gst_device_provider_device_add (provider, device);
  return device;
}

void
peercam_fake_camera_remove (GstDevice *device)
{
  g_autoptr(GstDeviceProvider) provider = get_provider ();
  GList *link;

  g_mutex_lock (&plugged_lock);
  link = g_list_find (plugged, device);
  g_assert_nonnull (link);
  plugged = g_list_delete_link (plugged, link);
  g_mutex_unlock (&plugged_lock);

  if (GST_OBJECT_PARENT (device) == GST_OBJECT (provider))
    gst_device_provider_device_remove (provider, device);
  gst_object_unref (device);
}

void
peercam_fake_camera_remove_all (void)
{
  while (plugged != NULL)
    peercam_fake_camera_remove (plugged->data);
}
