/* peercam-video-paintable.c
 *
 * An appsink hands decoded RGBA frames over from a streaming thread. Only
 * the newest sample is kept, and at most one main-context callback is
 * pending at a time; there the mapped buffer is wrapped, without a copy, in
 * a GdkMemoryTexture (RGBA premultiplied is the fastest upload in GTK 4.8,
 * and video alpha is opaque so it is exact).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include "peercam-video-paintable.h"

struct _PeercamVideoPaintable
{
  GObject       parent_instance;

  GstElement   *bin;
  GdkTexture   *texture;
  GMainContext *context;

  /* Shared with the streaming thread, under lock. */
  GMutex        lock;
  GstSample    *pending;
  gboolean      scheduled;

  guint64       frames;
};

static void peercam_video_paintable_iface_init (GdkPaintableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PeercamVideoPaintable, peercam_video_paintable, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GDK_TYPE_PAINTABLE, peercam_video_paintable_iface_init))

enum {
  PROP_0,
  PROP_FRAMES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct {
  GstSample  *sample;
  GstBuffer  *buffer;
  GstMapInfo  map;
} MappedSample;

static void
mapped_sample_free (gpointer data)
{
  MappedSample *mapped = data;

  gst_buffer_unmap (mapped->buffer, &mapped->map);
  gst_sample_unref (mapped->sample);
  g_free (mapped);
}

static GdkTexture *
texture_from_sample (GstSample *sample)
{
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  GstCaps *caps = gst_sample_get_caps (sample);
  GstVideoMeta *meta;
  GstVideoInfo info;
  MappedSample *mapped;
  g_autoptr(GBytes) bytes = NULL;
  gsize offset = 0;
  int stride;

  if (buffer == NULL || caps == NULL || !gst_video_info_from_caps (&info, caps))
    return NULL;

  stride = GST_VIDEO_INFO_PLANE_STRIDE (&info, 0);
  meta = gst_buffer_get_video_meta (buffer);
  if (meta != NULL)
    {
      stride = meta->stride[0];
      offset = meta->offset[0];
    }

  mapped = g_new0 (MappedSample, 1);
  mapped->sample = gst_sample_ref (sample);
  mapped->buffer = buffer;
  if (!gst_buffer_map (buffer, &mapped->map, GST_MAP_READ))
    {
      gst_sample_unref (mapped->sample);
      g_free (mapped);
      return NULL;
    }

  if (offset + (gsize) stride * GST_VIDEO_INFO_HEIGHT (&info) > mapped->map.size)
    {
      mapped_sample_free (mapped);
      return NULL;
    }

  bytes = g_bytes_new_with_free_func (mapped->map.data + offset,
                                      (gsize) stride * GST_VIDEO_INFO_HEIGHT (&info),
                                      mapped_sample_free, mapped);

  return gdk_memory_texture_new (GST_VIDEO_INFO_WIDTH (&info),
                                 GST_VIDEO_INFO_HEIGHT (&info),
                                 GDK_MEMORY_R8G8B8A8_PREMULTIPLIED,
                                 bytes, stride);
}

static gboolean
upload_newest (gpointer data)
{
  PeercamVideoPaintable *self = data;
  g_autoptr(GstSample) sample = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  gboolean size_changed;

  g_mutex_lock (&self->lock);
  sample = g_steal_pointer (&self->pending);
  self->scheduled = FALSE;
  g_mutex_unlock (&self->lock);

  if (sample == NULL || (texture = texture_from_sample (sample)) == NULL)
    return G_SOURCE_REMOVE;

  size_changed = self->texture == NULL ||
                 gdk_texture_get_width (self->texture) != gdk_texture_get_width (texture) ||
                 gdk_texture_get_height (self->texture) != gdk_texture_get_height (texture);
  g_set_object (&self->texture, texture);
  self->frames++;

  if (size_changed)
    gdk_paintable_invalidate_size (GDK_PAINTABLE (self));
  gdk_paintable_invalidate_contents (GDK_PAINTABLE (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAMES]);

  return G_SOURCE_REMOVE;
}

/* Streaming thread. */
static GstFlowReturn
on_new_sample (GstAppSink *appsink,
               gpointer    user_data)
{
  GWeakRef *weak = user_data;
  g_autoptr(PeercamVideoPaintable) self = g_weak_ref_get (weak);
  GstSample *sample = gst_app_sink_pull_sample (appsink);
  gboolean schedule;

  if (sample == NULL)
    return GST_FLOW_EOS;
  if (self == NULL)
    {
      gst_sample_unref (sample);
      return GST_FLOW_OK;
    }

  g_mutex_lock (&self->lock);
  if (self->pending != NULL)
    gst_sample_unref (self->pending);
  self->pending = sample;
  schedule = !self->scheduled;
  self->scheduled = TRUE;
  g_mutex_unlock (&self->lock);

  /* One pending callback at a time; it holds a reference so the paintable
   * outlives it. */
  if (schedule)
    g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, upload_newest,
                                g_object_ref (self), g_object_unref);

  return GST_FLOW_OK;
}

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

static GstElement *
make_sink_bin (PeercamVideoPaintable *self)
{
  GstElement *bin = gst_bin_new (NULL);
  GstElement *convert = gst_element_factory_make ("videoconvert", NULL);
  GstElement *appsink = gst_element_factory_make ("appsink", NULL);
  g_autoptr(GstCaps) caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "RGBA", NULL);
  g_autoptr(GstPad) pad = NULL;
  GstAppSinkCallbacks callbacks = { .new_sample = on_new_sample };
  GWeakRef *weak = g_new0 (GWeakRef, 1);

  g_weak_ref_init (weak, self);
  /* Live video: show each frame when it is decoded (no clock wait), keep
   * only the newest one. */
  g_object_set (appsink,
                "caps", caps,
                "max-buffers", 1,
                "drop", TRUE,
                "sync", FALSE,
                "enable-last-sample", FALSE,
                NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (appsink), &callbacks, weak, weak_ref_free);

  gst_bin_add_many (GST_BIN (bin), convert, appsink, NULL);
  gst_element_link (convert, appsink);
  pad = gst_element_get_static_pad (convert, "sink");
  gst_element_add_pad (bin, gst_ghost_pad_new ("sink", pad));

  return gst_object_ref_sink (bin);
}

static void
peercam_video_paintable_snapshot (GdkPaintable *paintable,
                                  GdkSnapshot  *snapshot,
                                  double        width,
                                  double        height)
{
  PeercamVideoPaintable *self = PEERCAM_VIDEO_PAINTABLE (paintable);

  if (self->texture != NULL)
    gdk_paintable_snapshot (GDK_PAINTABLE (self->texture), snapshot, width, height);
}

static int
peercam_video_paintable_get_intrinsic_width (GdkPaintable *paintable)
{
  PeercamVideoPaintable *self = PEERCAM_VIDEO_PAINTABLE (paintable);

  return self->texture ? gdk_texture_get_width (self->texture) : 0;
}

static int
peercam_video_paintable_get_intrinsic_height (GdkPaintable *paintable)
{
  PeercamVideoPaintable *self = PEERCAM_VIDEO_PAINTABLE (paintable);

  return self->texture ? gdk_texture_get_height (self->texture) : 0;
}

static double
peercam_video_paintable_get_intrinsic_aspect_ratio (GdkPaintable *paintable)
{
  PeercamVideoPaintable *self = PEERCAM_VIDEO_PAINTABLE (paintable);

  if (self->texture == NULL)
    return 0.0;
  return (double) gdk_texture_get_width (self->texture) / gdk_texture_get_height (self->texture);
}

static void
peercam_video_paintable_iface_init (GdkPaintableInterface *iface)
{
  iface->snapshot = peercam_video_paintable_snapshot;
  iface->get_intrinsic_width = peercam_video_paintable_get_intrinsic_width;
  iface->get_intrinsic_height = peercam_video_paintable_get_intrinsic_height;
  iface->get_intrinsic_aspect_ratio = peercam_video_paintable_get_intrinsic_aspect_ratio;
}

static void
peercam_video_paintable_finalize (GObject *object)
{
  PeercamVideoPaintable *self = PEERCAM_VIDEO_PAINTABLE (object);

  if (self->bin != NULL && GST_OBJECT_PARENT (self->bin) == NULL)
    gst_element_set_state (self->bin, GST_STATE_NULL);
  gst_clear_object (&self->bin);
  g_clear_object (&self->texture);
  g_clear_pointer (&self->pending, gst_sample_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (peercam_video_paintable_parent_class)->finalize (object);
}

static void
peercam_video_paintable_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  PeercamVideoPaintable *self = PEERCAM_VIDEO_PAINTABLE (object);

  switch (prop_id)
    {
    case PROP_FRAMES:
      g_value_set_uint64 (value, self->frames);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_video_paintable_class_init (PeercamVideoPaintableClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = peercam_video_paintable_finalize;
  object_class->get_property = peercam_video_paintable_get_property;

  properties[PROP_FRAMES] =
    g_param_spec_uint64 ("frames", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
peercam_video_paintable_init (PeercamVideoPaintable *self)
{
  g_mutex_init (&self->lock);
  self->context = g_main_context_ref_thread_default ();
  self->bin = make_sink_bin (self);
}

PeercamVideoPaintable *
peercam_video_paintable_new (void)
{
  return g_object_new (PEERCAM_TYPE_VIDEO_PAINTABLE, NULL);
}

/* A bin with a "sink" pad, for the call engine; owned by the paintable. */
GstElement *
peercam_video_paintable_get_sink (PeercamVideoPaintable *self)
{
  g_return_val_if_fail (PEERCAM_IS_VIDEO_PAINTABLE (self), NULL);

  return self->bin;
}

GdkTexture *
peercam_video_paintable_get_texture (PeercamVideoPaintable *self)
{
  g_return_val_if_fail (PEERCAM_IS_VIDEO_PAINTABLE (self), NULL);

  return self->texture;
}

guint64
peercam_video_paintable_get_frames (PeercamVideoPaintable *self)
{
  g_return_val_if_fail (PEERCAM_IS_VIDEO_PAINTABLE (self), 0);

  return self->frames;
}

/* Drops the last frame, so a finished call leaves nothing on screen. */
void
peercam_video_paintable_clear (PeercamVideoPaintable *self)
{
  g_return_if_fail (PEERCAM_IS_VIDEO_PAINTABLE (self));

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->pending, gst_sample_unref);
  g_mutex_unlock (&self->lock);

  if (self->texture != NULL)
    {
      g_clear_object (&self->texture);
      gdk_paintable_invalidate_size (GDK_PAINTABLE (self));
      gdk_paintable_invalidate_contents (GDK_PAINTABLE (self));
    }
}
