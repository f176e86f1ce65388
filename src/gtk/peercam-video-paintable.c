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

/* What the streaming thread may touch. It never holds the paintable itself:
 * dropping the last reference there would finalize the paintable (and set
 * its bin to NULL) from the bin's own streaming thread. */
typedef struct {
  gatomicrefcount  ref_count;
  GMutex           lock;
  GstSample       *pending;
  gboolean         scheduled;
  GMainContext    *context;
  GWeakRef         paintable;
} Shared;

struct _PeercamVideoPaintable
{
  GObject       parent_instance;

  GstElement   *bin;
  GdkTexture   *texture;
  Shared       *shared;
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

static Shared *
shared_ref (Shared *shared)
{
  g_atomic_ref_count_inc (&shared->ref_count);
  return shared;
}

static void
shared_unref (gpointer data)
{
  Shared *shared = data;

  if (!g_atomic_ref_count_dec (&shared->ref_count))
    return;

  g_clear_pointer (&shared->pending, gst_sample_unref);
  g_main_context_unref (shared->context);
  g_weak_ref_clear (&shared->paintable);
  g_mutex_clear (&shared->lock);
  g_free (shared);
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

/* Main context. */
static gboolean
upload_newest (gpointer data)
{
  Shared *shared = data;
  g_autoptr(PeercamVideoPaintable) self = g_weak_ref_get (&shared->paintable);
  g_autoptr(GstSample) sample = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  gboolean size_changed;

  g_mutex_lock (&shared->lock);
  sample = g_steal_pointer (&shared->pending);
  shared->scheduled = FALSE;
  g_mutex_unlock (&shared->lock);

  if (self == NULL || sample == NULL || (texture = texture_from_sample (sample)) == NULL)
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
  Shared *shared = user_data;
  GstSample *sample = gst_app_sink_pull_sample (appsink);
  gboolean schedule;

  if (sample == NULL)
    return GST_FLOW_EOS;

  g_mutex_lock (&shared->lock);
  if (shared->pending != NULL)
    gst_sample_unref (shared->pending);
  shared->pending = sample;
  schedule = !shared->scheduled;
  shared->scheduled = TRUE;
  g_mutex_unlock (&shared->lock);

  /* At most one pending callback; newer samples just replace the pending one. */
  if (schedule)
    g_main_context_invoke_full (shared->context, G_PRIORITY_DEFAULT, upload_newest,
                                shared_ref (shared), shared_unref);

  return GST_FLOW_OK;
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
  /* Live video: show each frame when it is decoded (no clock wait), keep
   * only the newest one. */
  g_object_set (appsink,
                "caps", caps,
                "max-buffers", 1,
                "drop", TRUE,
                "sync", FALSE,
                "enable-last-sample", FALSE,
                NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (appsink), &callbacks,
                              shared_ref (self->shared), shared_unref);

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
  g_clear_pointer (&self->shared, shared_unref);

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
  self->shared = g_new0 (Shared, 1);
  g_atomic_ref_count_init (&self->shared->ref_count);
  g_mutex_init (&self->shared->lock);
  self->shared->context = g_main_context_ref_thread_default ();
  g_weak_ref_init (&self->shared->paintable, self);
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

  g_mutex_lock (&self->shared->lock);
  g_clear_pointer (&self->shared->pending, gst_sample_unref);
  g_mutex_unlock (&self->shared->lock);

  if (self->texture != NULL)
    {
      g_clear_object (&self->texture);
      gdk_paintable_invalidate_size (GDK_PAINTABLE (self));
      gdk_paintable_invalidate_contents (GDK_PAINTABLE (self));
    }
}
