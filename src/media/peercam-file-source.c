/* peercam-file-source.c — a video file as a live source
 *
 *   filesrc ! decodebin ─ video ─ appsink (sync: the file's own frame rate)
 *                       └ other ─ fakesink
 *        ⇣ each frame, stamped with the caller pipeline's running time
 *   appsrc (live) ! … the caller's pipeline
 *
 * The file plays in a pipeline of its own so that looping it never disturbs
 * the caller's live pipeline, its preview or its encoders. It loops by
 * starting over (READY → PLAYING at EOS): the appsink syncs on EOS, so that
 * comes one frame after the last frame went, and reopening a file and
 * decoding its first frame takes milliseconds. Seeks were no option: Debian
 * 12's y4mdec fails its first frame after any seek ("Failed to parse
 * YUV4MPEG frame"), and each demuxer has its own seek bugs. The appsink syncs
 * to the clock, so frames come at the file's rate in real time, and each
 * leaves with the caller pipeline's running time: to webrtcbin it is a
 * camera like any other.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "peercam-file-source"

#include "config.h"

#include "peercam-file-source.h"

#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gst/app/app.h>

struct _PeercamFileSource
{
  GObject       parent_instance;

  GMainContext *context;
  char         *path;
  GstElement   *appsrc;
  GstElement   *pipeline;       /* the decoding pipeline, while started */
  GstElement   *appsink;        /* in the pipeline: the first video stream */
  GSource      *bus_source;
  gboolean      failed;
  guint         loops;
  gint          has_video;      /* atomic: a video pad was linked */
  gint          frames;         /* atomic: frames since this loop began */
};

G_DEFINE_FINAL_TYPE (PeercamFileSource, peercam_file_source, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_LOOPS,
  N_PROPS
};

enum {
  SIGNAL_ERROR,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];
static guint next_id;

/* ---- decoding pipeline (streaming threads) ------------------------------ */

static GstFlowReturn
on_new_sample (GstAppSink *sink,
               gpointer    user_data)
{
  PeercamFileSource *self = user_data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample (sink);
  g_autoptr(GstClock) clock = NULL;
  GstBuffer *buffer;
  GstCaps *caps;

  if (sample == NULL)
    return GST_FLOW_EOS;
  g_atomic_int_inc (&self->frames);

  /* Before the caller's pipeline runs there is no running time to give. */
  clock = gst_element_get_clock (self->appsrc);
  if (clock == NULL || gst_sample_get_buffer (sample) == NULL)
    return GST_FLOW_OK;

  caps = gst_sample_get_caps (sample);
  if (caps != NULL)
    {
      g_autoptr(GstCaps) current = gst_app_src_get_caps (GST_APP_SRC (self->appsrc));

      if (current == NULL || !gst_caps_is_equal (current, caps))
        gst_app_src_set_caps (GST_APP_SRC (self->appsrc), caps);
    }

  /* A new buffer sharing the decoded memory: only the stamps differ. */
  buffer = gst_buffer_copy (gst_sample_get_buffer (sample));
  GST_BUFFER_PTS (buffer) = gst_clock_get_time (clock) - gst_element_get_base_time (self->appsrc);
  GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_OFFSET (buffer) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_FLAG_UNSET (buffer, GST_BUFFER_FLAG_DISCONT);
  gst_app_src_push_buffer (GST_APP_SRC (self->appsrc), buffer);
  return GST_FLOW_OK;
}

static void
on_pad_added (GstElement *decodebin,
              GstPad     *pad,
              gpointer    user_data)
{
  PeercamFileSource *self = user_data;
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  GstStructure *s = caps && gst_caps_get_size (caps) > 0 ? gst_caps_get_structure (caps, 0) : NULL;
  GstElement *pipeline = GST_ELEMENT (gst_element_get_parent (decodebin));
  g_autoptr(GstPad) sink_pad = NULL;

  if (pipeline == NULL)
    return;

  /* The first video stream goes out; anything else (audio, a second video,
   * subtitles) is played into a fakesink in step, so the demuxer never
   * stalls on an unlinked pad. */
  if (s != NULL && gst_structure_has_name (s, "video/x-raw") &&
      g_atomic_int_compare_and_exchange (&self->has_video, 0, 1))
    {
      sink_pad = gst_element_get_static_pad (self->appsink, "sink");
    }
  else
    {
      GstElement *sink = gst_element_factory_make ("fakesink", NULL);

      g_object_set (sink, "sync", TRUE, "enable-last-sample", FALSE, NULL);
      gst_bin_add (GST_BIN (pipeline), sink);
      gst_element_sync_state_with_parent (sink);
      sink_pad = gst_element_get_static_pad (sink, "sink");
    }

  if (gst_pad_link (pad, sink_pad) != GST_PAD_LINK_OK)
    g_debug ("%s: cannot link %" GST_PTR_FORMAT, self->path, caps);
  gst_object_unref (pipeline);
}

static void
on_no_more_pads (GstElement *decodebin,
                 gpointer    user_data)
{
  PeercamFileSource *self = user_data;

  if (!g_atomic_int_get (&self->has_video))
    GST_ELEMENT_ERROR (decodebin, STREAM, WRONG_TYPE, (_("The file has no video")), (NULL));
}

/* ---- looping and errors (the creator's main context) -------------------- */

static void
fail (PeercamFileSource *self,
      const char        *reason)
{
  g_autofree char *name = g_filename_display_basename (self->path);

  if (self->failed)
    return;
  self->failed = TRUE;
  peercam_call_error_emit (self, signals[SIGNAL_ERROR], PEERCAM_CALL_ERROR_SOURCE,
                           _("The video file “%s” cannot be played: %s"), name, reason);
}

static void
loop_again (PeercamFileSource *self)
{
  g_autoptr(GstIterator) it = NULL;
  GValue item = G_VALUE_INIT;
  GList *extra = NULL;

  /* A loop that produced nothing would spin: a file without frames. */
  if (g_atomic_int_get (&self->frames) == 0)
    {
      fail (self, _("it has no video frames"));
      return;
    }
  g_atomic_int_set (&self->frames, 0);
  g_atomic_int_set (&self->has_video, 0);

  gst_element_set_state (self->pipeline, GST_STATE_READY);
  /* decodebin makes new pads: the fakesinks of the old ones go. */
  it = gst_bin_iterate_sinks (GST_BIN (self->pipeline));
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK)
    {
      GstElement *sink = g_value_get_object (&item);

      if (sink != self->appsink)
        extra = g_list_prepend (extra, gst_object_ref (sink));
      g_value_reset (&item);
    }
  g_value_unset (&item);
  for (GList *l = extra; l != NULL; l = l->next)
    {
      gst_element_set_state (l->data, GST_STATE_NULL);
      gst_bin_remove (GST_BIN (self->pipeline), l->data);
    }
  g_list_free_full (extra, gst_object_unref);

  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      fail (self, _("it cannot be played from the start again"));
      return;
    }
  self->loops++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOOPS]);
}

static gboolean
on_bus_message (GstBus     *bus,
                GstMessage *message,
                gpointer    user_data)
{
  PeercamFileSource *self = user_data;

  if (self->pipeline == NULL || self->failed)
    return G_SOURCE_CONTINUE;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_EOS:
      loop_again (self);
      break;

    case GST_MESSAGE_ERROR:
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *debug = NULL;

        gst_message_parse_error (message, &error, &debug);
        g_debug ("%s: %s (%s)", self->path, error->message, debug ? debug : "");
        fail (self, error->message);
      }
      break;

    default:
      break;
    }
  return G_SOURCE_CONTINUE;
}

/* ---- GObject ------------------------------------------------------------ */

static void
peercam_file_source_dispose (GObject *object)
{
  PeercamFileSource *self = PEERCAM_FILE_SOURCE (object);

  peercam_file_source_stop (self);
  g_clear_object (&self->appsrc);

  G_OBJECT_CLASS (peercam_file_source_parent_class)->dispose (object);
}

static void
peercam_file_source_finalize (GObject *object)
{
  PeercamFileSource *self = PEERCAM_FILE_SOURCE (object);

  g_free (self->path);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (peercam_file_source_parent_class)->finalize (object);
}

static void
peercam_file_source_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  PeercamFileSource *self = PEERCAM_FILE_SOURCE (object);

  switch (prop_id)
    {
    case PROP_LOOPS: g_value_set_uint (value, self->loops); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_file_source_class_init (PeercamFileSourceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = peercam_file_source_dispose;
  object_class->finalize = peercam_file_source_finalize;
  object_class->get_property = peercam_file_source_get_property;

  properties[PROP_LOOPS] =
    g_param_spec_uint ("loops", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
peercam_file_source_init (PeercamFileSource *self)
{
  self->context = g_main_context_ref_thread_default ();
}

/* ---- public API --------------------------------------------------------- */

PeercamFileSource *
peercam_file_source_new (const char  *path,
                         GError     **error)
{
  PeercamFileSource *self;
  g_autofree char *name = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  name = g_filename_display_name (path);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR) || g_access (path, R_OK) != 0)
    {
      g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                   _("No video file “%s”: it does not exist or cannot be read"), name);
      return NULL;
    }

  self = g_object_new (PEERCAM_TYPE_FILE_SOURCE, NULL);
  self->path = g_strdup (path);
  {
    g_autofree char *element_name = g_strdup_printf ("file-source-%u", g_atomic_int_add (&next_id, 1));

    self->appsrc = gst_object_ref_sink (gst_element_factory_make ("appsrc", element_name));
  }
  /* Live, in time, never more than two frames behind: a stalled caller
   * pipeline drops the oldest frame rather than queueing the file. */
  g_object_set (self->appsrc, "is-live", TRUE, "format", GST_FORMAT_TIME,
                "do-timestamp", FALSE, "max-buffers", (guint64) 2, "max-bytes", (guint64) 0,
                "max-time", (guint64) 0, NULL);
  gst_util_set_object_arg (G_OBJECT (self->appsrc), "leaky-type", "downstream");
  return self;
}

GstElement *
peercam_file_source_get_element (PeercamFileSource *self)
{
  g_return_val_if_fail (PEERCAM_IS_FILE_SOURCE (self), NULL);
  return self->appsrc;
}

gboolean
peercam_file_source_start (PeercamFileSource  *self,
                           GError            **error)
{
  g_autoptr(GstBus) bus = NULL;
  GstElement *filesrc, *decodebin;

  g_return_val_if_fail (PEERCAM_IS_FILE_SOURCE (self), FALSE);

  if (self->pipeline != NULL)
    return TRUE;

  filesrc = gst_element_factory_make ("filesrc", NULL);
  decodebin = gst_element_factory_make ("decodebin", NULL);
  if (filesrc == NULL || decodebin == NULL)
    {
      g_clear_pointer (&filesrc, gst_object_unref);
      g_clear_pointer (&decodebin, gst_object_unref);
      g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_MISSING_PLUGIN,
                   _("The GStreamer element “%s” is missing"), "decodebin");
      return FALSE;
    }
  g_object_set (filesrc, "location", self->path, NULL);
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (on_pad_added), self);
  g_signal_connect (decodebin, "no-more-pads", G_CALLBACK (on_no_more_pads), self);
  {
    GstAppSinkCallbacks callbacks = { .new_sample = on_new_sample };
    g_autoptr(GstCaps) raw = gst_caps_new_empty_simple ("video/x-raw");

    self->appsink = gst_element_factory_make ("appsink", NULL);
    g_object_set (self->appsink, "sync", TRUE, "max-buffers", 2, "drop", FALSE, "caps", raw,
                  "enable-last-sample", FALSE, NULL);
    gst_app_sink_set_callbacks (GST_APP_SINK (self->appsink), &callbacks, self, NULL);
  }

  self->pipeline = gst_object_ref_sink (gst_pipeline_new ("peercam-file"));
  gst_bin_add_many (GST_BIN (self->pipeline), filesrc, decodebin, self->appsink, NULL);
  gst_element_link (filesrc, decodebin);

  bus = gst_pipeline_get_bus (GST_PIPELINE (self->pipeline));
  self->bus_source = gst_bus_create_watch (bus);
  /* Destroyed in stop(), before the object goes away. */
  g_source_set_callback (self->bus_source, (GSourceFunc) (GCallback) on_bus_message, self, NULL);
  g_source_attach (self->bus_source, self->context);

  self->failed = FALSE;
  g_atomic_int_set (&self->has_video, 0);
  g_atomic_int_set (&self->frames, 0);
  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_autofree char *name = g_filename_display_basename (self->path);

      peercam_file_source_stop (self);
      g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                   _("The video file “%s” cannot be opened"), name);
      return FALSE;
    }
  return TRUE;
}

void
peercam_file_source_stop (PeercamFileSource *self)
{
  g_return_if_fail (PEERCAM_IS_FILE_SOURCE (self));

  if (self->bus_source)
    {
      g_source_destroy (self->bus_source);
      g_clear_pointer (&self->bus_source, g_source_unref);
    }
  /* After this no streaming thread of the file's runs: callbacks are over. */
  if (self->pipeline)
    {
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      g_clear_object (&self->pipeline);
    }
  self->appsink = NULL;
}

guint
peercam_file_source_get_loops (PeercamFileSource *self)
{
  g_return_val_if_fail (PEERCAM_IS_FILE_SOURCE (self), 0);
  return self->loops;
}
