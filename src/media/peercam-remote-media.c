/* peercam-remote-media.c — decode what a webrtcbin receives
 *
 *   webrtcbin ─ decodebin ─ video: queue ─ the video sink (the app's appsink)
 *                         ├ audio: audioconvert ! audioresample ! autoaudiosink
 *                         └ anything else: a fakesink, so it never stalls the bundle
 *
 * Threading: webrtcbin's and decodebin's pad-added come on streaming threads
 * and must link before data flows, so they build right there from a
 * refcounted RmLink and never touch the object; the first frame hops to the
 * main context through the link's weak reference.
 *
 * The queue's output is the playout schedule (peercam-playout.h): by
 * default each frame goes on when it is decoded; on a lossy link a probe
 * holds each frame until its arrival time plus a delay that covers how late
 * frames came recently (a retransmission's wait), so a frame that waits for
 * its missing packet does not freeze the picture (issue 11). A frame is
 * never held longer than the delay itself (a timestamp jump must not stall
 * the picture). Lateness is measured in front of the queue, on the
 * decoder's thread (the holds would block it, and every frame behind a
 * held one would look late); the delay moves on the main context.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "peercam-remote-media"

#include "config.h"

#include "peercam-remote-media.h"

#include <gst/video/video.h>

#include "peercam-playout.h"

#define PLAYOUT_TICK_MS       50

typedef struct {
  gatomicrefcount  ref;
  GWeakRef         owner;
  GMainContext    *context;
  GstElement      *video_sink;
  GstElement      *video_input;   /* the queue in front of it, or the sink itself */
  gboolean         play_audio;
  int              video_linked;  /* atomic */
  int              first_frame;   /* atomic */
  int              closed;        /* atomic */
  int              decoder_counted; /* atomic */
  gsize            frames;        /* atomic */
  gsize            decoder_in;    /* atomic: frames into the video decoder */
  gsize            decoder_out;   /* atomic: and out of it */
  gsize            undecoded;     /* atomic: see decoder_in_probe() */
  GMutex           gap_lock;
  gint64           last_frame_us; /* gap_lock */
  gint64           max_gap_us;    /* gap_lock: since peercam_remote_media_take_max_gap() */
  gsize                delay_us;  /* atomic: the current playout delay; 0: none */
  GMutex               lock;
  PeercamPlayoutDelay *delay;     /* lock */
  GstClockID           wait_id;   /* lock: a frame's hold */
} RmLink;

struct _PeercamRemoteMedia
{
  GObject       parent_instance;

  RmLink       *link;
  GstElement   *webrtcbin;
  GstPad       *probe_pad;
  gulong        probe_id;

  GstElement          *playout;   /* the queue, or NULL */
  guint                playout_id;
};

G_DEFINE_FINAL_TYPE (PeercamRemoteMedia, peercam_remote_media, G_TYPE_OBJECT)

enum {
  SIGNAL_FIRST_FRAME,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static RmLink *
rm_link_ref (RmLink *link)
{
  g_atomic_ref_count_inc (&link->ref);
  return link;
}

static void
rm_link_unref (gpointer data)
{
  RmLink *link = data;

  if (!g_atomic_ref_count_dec (&link->ref))
    return;
  g_weak_ref_clear (&link->owner);
  g_main_context_unref (link->context);
  g_clear_object (&link->video_sink);
  g_clear_object (&link->video_input);
  g_mutex_clear (&link->lock);
  g_mutex_clear (&link->gap_lock);
  peercam_playout_delay_free (link->delay);
  g_free (link);
}

static void
rm_link_closure_unref (gpointer data, GClosure *closure)
{
  rm_link_unref (data);
}

static gboolean
element_has_property (gpointer    object,
                      const char *name)
{
  return g_object_class_find_property (G_OBJECT_GET_CLASS (object), name) != NULL;
}

static GstElement *
discarding_sink (void)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);

  g_object_set (sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, NULL);
  return sink;
}

/* ---- the first frame ---------------------------------------------------- */

typedef struct {
  RmLink *link;
  int     width;
  int     height;
} FirstFrame;

static void
first_frame_free (gpointer data)
{
  FirstFrame *ff = data;

  rm_link_unref (ff->link);
  g_free (ff);
}

static gboolean
first_frame_main (gpointer data)
{
  FirstFrame *ff = data;
  g_autoptr(PeercamRemoteMedia) self = g_weak_ref_get (&ff->link->owner);

  if (self && !g_atomic_int_get (&ff->link->closed))
    g_signal_emit (self, signals[SIGNAL_FIRST_FRAME], 0, ff->width, ff->height);
  return G_SOURCE_REMOVE;
}

static GstPadProbeReturn
frames_probe (GstPad          *pad,
              GstPadProbeInfo *info,
              gpointer         user_data)
{
  RmLink *link = user_data;
  gint64 now = g_get_monotonic_time ();

  g_atomic_pointer_add (&link->frames, 1);
  /* Measured where frames are counted: a wait here is a frozen picture. */
  g_mutex_lock (&link->gap_lock);
  if (link->last_frame_us)
    link->max_gap_us = MAX (link->max_gap_us, now - link->last_frame_us);
  link->last_frame_us = now;
  g_mutex_unlock (&link->gap_lock);
  if (g_atomic_int_compare_and_exchange (&link->first_frame, 0, 1))
    {
      g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
      g_autoptr(GSource) source = g_idle_source_new ();
      FirstFrame *ff = g_new0 (FirstFrame, 1);

      ff->link = rm_link_ref (link);
      if (caps && gst_caps_get_size (caps) > 0)
        {
          GstStructure *s = gst_caps_get_structure (caps, 0);

          gst_structure_get_int (s, "width", &ff->width);
          gst_structure_get_int (s, "height", &ff->height);
        }
      g_source_set_callback (source, first_frame_main, ff, first_frame_free);
      g_source_set_static_name (source, "[peercam] remote media first frame");
      g_source_attach (source, link->context);
    }
  return GST_PAD_PROBE_OK;
}

/* ---- decoding ----------------------------------------------------------- */

static void
link_to_sink (GstElement *bin,
              GstPad     *pad,
              GstElement *sink)
{
  g_autoptr(GstPad) sink_pad = NULL;

  gst_bin_add (GST_BIN (bin), sink);
  gst_element_sync_state_with_parent (sink);
  sink_pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sink_pad);
}

/* audioconvert ! audioresample ! autoaudiosink, or a fakesink when this
 * machine has no way to play sound (a call never fails for that). */
static GstElement *
audio_sink_new (void)
{
  GstElement *bin = gst_bin_new (NULL);
  GstElement *convert = gst_element_factory_make ("audioconvert", NULL);
  GstElement *resample = gst_element_factory_make ("audioresample", NULL);
  GstElement *sink = gst_element_factory_make ("autoaudiosink", NULL);
  g_autoptr(GstPad) pad = NULL;

  if (convert == NULL || resample == NULL || sink == NULL ||
      gst_element_set_state (sink, GST_STATE_READY) == GST_STATE_CHANGE_FAILURE)
    {
      g_debug ("no audio output: received audio is dropped");
      g_clear_pointer (&convert, gst_object_unref);
      g_clear_pointer (&resample, gst_object_unref);
      if (sink)
        {
          gst_element_set_state (sink, GST_STATE_NULL);
          gst_object_unref (sink);
        }
      gst_object_unref (bin);
      return discarding_sink ();
    }

  gst_bin_add_many (GST_BIN (bin), convert, resample, sink, NULL);
  gst_element_link_many (convert, resample, sink, NULL);
  pad = gst_element_get_static_pad (convert, "sink");
  gst_element_add_pad (bin, gst_ghost_pad_new ("sink", pad));
  return bin;
}

static void
on_decoded_pad (GstElement *decodebin,
                GstPad     *pad,
                gpointer    user_data)
{
  RmLink *link = user_data;
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  g_autoptr(GstObject) bin = gst_object_get_parent (GST_OBJECT (decodebin));
  const char *name;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (bin == NULL || caps == NULL || gst_caps_is_empty (caps))
    return;
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));

  if (g_str_has_prefix (name, "video/") &&
      g_atomic_int_compare_and_exchange (&link->video_linked, 0, 1))
    {
      g_autoptr(GstPad) sink_pad = gst_element_get_static_pad (link->video_input, "sink");

      if (gst_pad_link (pad, sink_pad) != GST_PAD_LINK_OK)
        g_debug ("could not link decoded video to the video sink");
      return;
    }

  if (g_str_has_prefix (name, "audio/") && link->play_audio)
    {
      link_to_sink (GST_ELEMENT (bin), pad, audio_sink_new ());
      return;
    }

  /* Audio nobody listens to, or a second video: consume it so it never
   * stalls the bundle. */
  link_to_sink (GST_ELEMENT (bin), pad, discarding_sink ());
}

/* Frames the decoder took in and gave nothing for (it failed on them, or
 * discarded them while waiting for a keyframe). Counted as each frame
 * comes in: the decoder's streaming thread has finished with the ones
 * before it, so (in - 1) - out are gone for good. Exact for decoders that
 * decode in their chain function (vp8dec, vp9dec, avdec_h264 as the
 * viewer builds it); a decoder that holds frames back adds its delay, a
 * constant that a change across a window does not see. */
static GstPadProbeReturn
decoder_in_probe (GstPad          *pad,
                  GstPadProbeInfo *info,
                  gpointer         user_data)
{
  RmLink *link = user_data;
  gsize in = g_atomic_pointer_add (&link->decoder_in, 1);   /* the ones before this */
  gsize out = g_atomic_pointer_get (&link->decoder_out);

  g_atomic_pointer_set (&link->undecoded, in > out ? in - out : 0);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
decoder_out_probe (GstPad          *pad,
                   GstPadProbeInfo *info,
                   gpointer         user_data)
{
  RmLink *link = user_data;

  g_atomic_pointer_add (&link->decoder_out, 1);
  return GST_PAD_PROBE_OK;
}

static void
count_decoder_frames (GstElement *decoder,
                      RmLink     *link)
{
  g_autoptr(GstPad) sink = gst_element_get_static_pad (decoder, "sink");
  g_autoptr(GstPad) src = gst_element_get_static_pad (decoder, "src");

  if (sink == NULL || src == NULL)
    return;
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER, decoder_in_probe, rm_link_ref (link), rm_link_unref);
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, decoder_out_probe, rm_link_ref (link), rm_link_unref);
}

static void
on_decodebin_element (GstBin     *bin,
                      GstBin     *sub_bin,
                      GstElement *element,
                      gpointer    user_data)
{
  RmLink *link = user_data;

  /* The first video decoder: the one whose frames are shown. */
  if (GST_IS_VIDEO_DECODER (element) && g_atomic_int_compare_and_exchange (&link->decoder_counted, 0, 1))
    count_decoder_frames (element, link);
  /* Ask the caller for a keyframe instead of showing smeared frames. */
  if (element_has_property (element, "request-keyframe"))
    g_object_set (element, "request-keyframe", TRUE, NULL);
  if (element_has_property (element, "wait-for-keyframe"))
    g_object_set (element, "wait-for-keyframe", TRUE, NULL);
}

static void
on_webrtc_pad_added (GstElement *webrtc,
                     GstPad     *pad,
                     gpointer    user_data)
{
  RmLink *link = user_data;
  g_autoptr(GstObject) bin = NULL;
  g_autoptr(GstPad) sink_pad = NULL;
  GstElement *decodebin;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC || g_atomic_int_get (&link->closed))
    return;
  bin = gst_object_get_parent (GST_OBJECT (webrtc));
  if (bin == NULL)
    return;

  /* Link decodebin in its own pad-added: a parsed "decodebin ! convert !
   * sink" bin ghosts the wrong pad. */
  decodebin = gst_element_factory_make ("decodebin", NULL);
  g_signal_connect_data (decodebin, "pad-added", G_CALLBACK (on_decoded_pad),
                         rm_link_ref (link), rm_link_closure_unref, 0);
  g_signal_connect_data (decodebin, "deep-element-added", G_CALLBACK (on_decodebin_element),
                         rm_link_ref (link), rm_link_closure_unref, 0);
  gst_bin_add (GST_BIN (bin), decodebin);
  gst_element_sync_state_with_parent (decodebin);
  sink_pad = gst_element_get_static_pad (decodebin, "sink");
  gst_pad_link (pad, sink_pad);
}

/* ---- the playout schedule ------------------------------------------------ */

/* A frame's running time (its arrival time: the jitter buffer's
 * timestamps) and the clock's, on @pad's element. */
static GstClock *
frame_time (GstPad       *pad,
            GstBuffer    *buffer,
            GstClockTime *running,
            GstClockTime *now,
            GstClockTime *base)
{
  g_autoptr(GstEvent) event = NULL;
  g_autoptr(GstElement) element = NULL;
  g_autoptr(GstClock) clock = NULL;
  const GstSegment *segment;

  if (!GST_BUFFER_PTS_IS_VALID (buffer))
    return NULL;
  event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  element = gst_pad_get_parent_element (pad);
  if (event == NULL || element == NULL)
    return NULL;
  gst_event_parse_segment (event, &segment);
  clock = gst_element_get_clock (element);
  if (segment->format != GST_FORMAT_TIME || clock == NULL)
    return NULL;
  *running = gst_segment_to_running_time (segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer));
  *base = gst_element_get_base_time (element);
  *now = gst_clock_get_time (clock);
  if (!GST_CLOCK_TIME_IS_VALID (*running) || *now < *base)
    return NULL;
  *now -= *base;
  return g_steal_pointer (&clock);
}

/* How late each decoded frame is. */
static GstPadProbeReturn
lateness_probe (GstPad          *pad,
                GstPadProbeInfo *info,
                gpointer         user_data)
{
  RmLink *link = user_data;
  GstClockTime running, now, base;
  g_autoptr(GstClock) clock = frame_time (pad, GST_PAD_PROBE_INFO_BUFFER (info), &running, &now, &base);

  if (clock == NULL)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&link->lock);
  peercam_playout_delay_add_lateness (link->delay, g_get_monotonic_time (),
                                      GST_CLOCK_DIFF (running, now) / GST_USECOND);
  g_mutex_unlock (&link->lock);
  return GST_PAD_PROBE_OK;
}

/* Holds a frame until its arrival time plus the current delay: never
 * longer than the delay. */
static GstPadProbeReturn
playout_probe (GstPad          *pad,
               GstPadProbeInfo *info,
               gpointer         user_data)
{
  RmLink *link = user_data;
  GstClockTime delay = (GstClockTime) g_atomic_pointer_get (&link->delay_us) * GST_USECOND;
  GstClockTime running, now, base, until;
  g_autoptr(GstClock) clock = NULL;
  GstClockID id;

  if (delay == 0)
    return GST_PAD_PROBE_OK;
  clock = frame_time (pad, GST_PAD_PROBE_INFO_BUFFER (info), &running, &now, &base);
  if (clock == NULL)
    return GST_PAD_PROBE_OK;
  /* A timestamp ahead of the clock is no arrival time (the jitter buffer
   * re-synchronised): show the frame rather than hold it for the jump. */
  if (running > now)
    return GST_PAD_PROBE_OK;
  until = running + delay;
  if (until <= now)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&link->lock);
  if (g_atomic_int_get (&link->closed))
    {
      g_mutex_unlock (&link->lock);
      return GST_PAD_PROBE_OK;
    }
  id = gst_clock_new_single_shot_id (clock, base + until);
  link->wait_id = gst_clock_id_ref (id);
  g_mutex_unlock (&link->lock);
  gst_clock_id_wait (id, NULL);
  g_mutex_lock (&link->lock);
  g_clear_pointer (&link->wait_id, gst_clock_id_unref);
  g_mutex_unlock (&link->lock);
  gst_clock_id_unref (id);
  return GST_PAD_PROBE_OK;
}

static void
apply_playout (PeercamRemoteMedia *self)
{
  double current;

  g_mutex_lock (&self->link->lock);
  current = peercam_playout_delay_advance (self->link->delay, g_get_monotonic_time ());
  g_mutex_unlock (&self->link->lock);
  g_atomic_pointer_set (&self->link->delay_us, (gsize) (current * 1000));
}

static gboolean
playout_tick (gpointer user_data)
{
  PeercamRemoteMedia *self = user_data;
  gboolean active;

  apply_playout (self);
  g_mutex_lock (&self->link->lock);
  active = peercam_playout_delay_is_active (self->link->delay);
  g_mutex_unlock (&self->link->lock);
  if (active)
    return G_SOURCE_CONTINUE;
  self->playout_id = 0;
  return G_SOURCE_REMOVE;
}

/* ---- GObject ------------------------------------------------------------ */

static void
peercam_remote_media_dispose (GObject *object)
{
  PeercamRemoteMedia *self = PEERCAM_REMOTE_MEDIA (object);

  peercam_remote_media_close (self);
  g_clear_object (&self->playout);
  G_OBJECT_CLASS (peercam_remote_media_parent_class)->dispose (object);
}

static void
peercam_remote_media_finalize (GObject *object)
{
  PeercamRemoteMedia *self = PEERCAM_REMOTE_MEDIA (object);

  rm_link_unref (self->link);
  G_OBJECT_CLASS (peercam_remote_media_parent_class)->finalize (object);
}

static void
peercam_remote_media_class_init (PeercamRemoteMediaClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = peercam_remote_media_dispose;
  object_class->finalize = peercam_remote_media_finalize;

  signals[SIGNAL_FIRST_FRAME] =
    g_signal_new ("first-frame", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
}

static void
peercam_remote_media_init (PeercamRemoteMedia *self)
{
  self->link = g_new0 (RmLink, 1);
  g_atomic_ref_count_init (&self->link->ref);
  g_weak_ref_init (&self->link->owner, self);
  self->link->context = g_main_context_ref_thread_default ();
  g_mutex_init (&self->link->lock);
  g_mutex_init (&self->link->gap_lock);
  self->link->delay = peercam_playout_delay_new ();
}

/* ---- public API --------------------------------------------------------- */

PeercamRemoteMedia *
peercam_remote_media_new (GstBin     *bin,
                          GstElement *webrtcbin,
                          GstElement *video_sink,
                          gboolean    play_audio)
{
  PeercamRemoteMedia *self;
  g_autoptr(GstPad) pad = NULL;

  g_return_val_if_fail (GST_IS_BIN (bin), NULL);
  g_return_val_if_fail (GST_IS_ELEMENT (webrtcbin), NULL);
  g_return_val_if_fail (video_sink == NULL || GST_IS_ELEMENT (video_sink), NULL);

  self = g_object_new (PEERCAM_TYPE_REMOTE_MEDIA, NULL);
  self->link->play_audio = play_audio;
  self->link->video_sink = video_sink ? gst_object_ref_sink (video_sink)
                                      : gst_object_ref_sink (discarding_sink ());
  gst_bin_add (bin, self->link->video_sink);
  self->playout = gst_element_factory_make ("queue", NULL);
  if (self->playout)
    {
      gst_object_ref_sink (self->playout);
      /* Room for the frames of the longest delay (a few hundred ms of raw
       * video); bounded by time, not by bytes (720p is 1.4 MB a frame). */
      g_object_set (self->playout, "max-size-buffers", 0, "max-size-bytes", 0,
                    "max-size-time", (guint64) 2 * GST_SECOND, NULL);
      gst_bin_add (bin, self->playout);
      gst_element_link (self->playout, self->link->video_sink);
      self->link->video_input = g_object_ref (self->playout);
      pad = gst_element_get_static_pad (self->playout, "sink");
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, lateness_probe,
                         rm_link_ref (self->link), rm_link_unref);
      g_clear_object (&pad);
      pad = gst_element_get_static_pad (self->playout, "src");
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, playout_probe,
                         rm_link_ref (self->link), rm_link_unref);
    }
  else
    self->link->video_input = g_object_ref (self->link->video_sink);
  self->probe_pad = gst_element_get_static_pad (self->link->video_sink, "sink");
  self->probe_id = gst_pad_add_probe (self->probe_pad, GST_PAD_PROBE_TYPE_BUFFER, frames_probe,
                                      rm_link_ref (self->link), rm_link_unref);
  self->webrtcbin = g_object_ref (webrtcbin);
  g_signal_connect_data (webrtcbin, "pad-added", G_CALLBACK (on_webrtc_pad_added),
                         rm_link_ref (self->link), rm_link_closure_unref, 0);
  return self;
}

void
peercam_remote_media_set_playout_limit (PeercamRemoteMedia *self,
                                        guint               limit_ms)
{
  g_return_if_fail (PEERCAM_IS_REMOTE_MEDIA (self));

  if (self->playout == NULL || g_atomic_int_get (&self->link->closed))
    return;
  g_mutex_lock (&self->link->lock);
  if (limit_ms != peercam_playout_delay_get_limit (self->link->delay))
    g_debug ("playout delay limit %u -> %u ms", peercam_playout_delay_get_limit (self->link->delay), limit_ms);
  peercam_playout_delay_set_limit (self->link->delay, limit_ms);
  g_mutex_unlock (&self->link->lock);
  apply_playout (self);
  if (self->playout_id == 0 && limit_ms > 0)
    {
      g_autoptr(GSource) source = g_timeout_source_new (PLAYOUT_TICK_MS);

      g_source_set_callback (source, playout_tick, self, NULL);
      g_source_set_static_name (source, "[peercam] playout delay");
      self->playout_id = g_source_attach (source, self->link->context);
    }
}

double
peercam_remote_media_get_playout_delay (PeercamRemoteMedia *self)
{
  double current;

  g_return_val_if_fail (PEERCAM_IS_REMOTE_MEDIA (self), 0);
  g_mutex_lock (&self->link->lock);
  current = peercam_playout_delay_get_current (self->link->delay);
  g_mutex_unlock (&self->link->lock);
  return current;
}

guint64
peercam_remote_media_get_frames (PeercamRemoteMedia *self)
{
  g_return_val_if_fail (PEERCAM_IS_REMOTE_MEDIA (self), 0);
  return g_atomic_pointer_get (&self->link->frames);
}

/* The longest wait between two frames at the video sink since the last
 * call (or the one still going on, from the last frame until now), in µs;
 * 0 before the first frame. Then starts over. */
gint64
peercam_remote_media_take_max_gap (PeercamRemoteMedia *self)
{
  gint64 now = g_get_monotonic_time ();
  gint64 gap;

  g_return_val_if_fail (PEERCAM_IS_REMOTE_MEDIA (self), 0);
  g_mutex_lock (&self->link->gap_lock);
  gap = self->link->max_gap_us;
  if (self->link->last_frame_us)
    gap = MAX (gap, now - self->link->last_frame_us);
  self->link->max_gap_us = 0;
  g_mutex_unlock (&self->link->gap_lock);
  return gap;
}

guint64
peercam_remote_media_get_undecoded_frames (PeercamRemoteMedia *self)
{
  g_return_val_if_fail (PEERCAM_IS_REMOTE_MEDIA (self), 0);
  return g_atomic_pointer_get (&self->link->undecoded);
}

/* The size of the frames decoded now (a sender may change it mid-call);
 * FALSE before the first frame. */
gboolean
peercam_remote_media_get_frame_size (PeercamRemoteMedia *self,
                                     int                *width,
                                     int                *height)
{
  g_autoptr(GstCaps) caps = NULL;
  GstStructure *s;

  g_return_val_if_fail (PEERCAM_IS_REMOTE_MEDIA (self), FALSE);

  if (self->probe_pad == NULL || !g_atomic_int_get (&self->link->first_frame))
    return FALSE;
  caps = gst_pad_get_current_caps (self->probe_pad);
  if (caps == NULL || gst_caps_get_size (caps) == 0)
    return FALSE;
  s = gst_caps_get_structure (caps, 0);
  return gst_structure_get_int (s, "width", width) && gst_structure_get_int (s, "height", height);
}

void
peercam_remote_media_close (PeercamRemoteMedia *self)
{
  g_return_if_fail (PEERCAM_IS_REMOTE_MEDIA (self));

  g_atomic_int_set (&self->link->closed, 1);
  g_mutex_lock (&self->link->lock);
  if (self->link->wait_id)
    gst_clock_id_unschedule (self->link->wait_id);
  g_mutex_unlock (&self->link->lock);
  if (self->playout_id)
    {
      GSource *source = g_main_context_find_source_by_id (self->link->context, self->playout_id);

      if (source)
        g_source_destroy (source);
      self->playout_id = 0;
    }
  if (self->probe_pad)
    {
      gst_pad_remove_probe (self->probe_pad, self->probe_id);
      self->probe_id = 0;
      g_clear_object (&self->probe_pad);
    }
  if (self->webrtcbin)
    {
      g_signal_handlers_disconnect_by_func (self->webrtcbin, on_webrtc_pad_added, self->link);
      g_clear_object (&self->webrtcbin);
    }
}
