/* peercam-sender.c — one viewer's outgoing media
 *
 *   tee ─ queue ! [videoscale ! capsfilter] ! videoconvert ! encoder … ! tee ─┬ queue ! payloader ─ webrtcbin
 *        (one encoder chain, shared by the viewers that are alike)         └ queue ! payloader ─ webrtcbin …
 *   autoaudiosrc ! queue ! audioconvert ! audioresample ! opusenc ! rtpopuspay ─ webrtcbin
 *
 * Viewers of one local media with the same codec and format share the
 * encoder chain (issue 15): each has its own payloader (SSRC, sequence
 * numbers, transport-wide-cc extension) and its own congestion controller;
 * the encoder runs at what all of them can take (peercam-congestion's
 * share). A joiner gets a keyframe: its payloader drops frames until one
 * comes, and asks for one. A viewer on a link well below the others' moves
 * to an encoder of its own, and back when its link recovers (check_link).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "peercam-sender"

#include "config.h"

#include "peercam-sender.h"
#include "peercam-video-encoder.h"
#include "peercam-congestion.h"

#include <glib/gi18n.h>
#include <gst/video/video.h>

/* The frame counter outlives the object while its probe may still run. */
typedef struct {
  gatomicrefcount ref;
  gsize           frames;   /* atomic */
} Counter;

/* An encoder chain and the viewers' tee behind it. Main context only; one
 * reference per sender. The local media keeps a table of its chains (no
 * references) under CHAINS_KEY, for the next viewer to find. */
typedef struct {
  int                ref;
  char              *key;       /* codec and format */
  PeercamLocalMedia *local;
  GstElement        *pipeline;
  GPtrArray         *elements;  /* upstream first, the tee last */
  GstElement        *encoder;
  GstElement        *filter;    /* the scaler's capsfilter; NULL without congestion control */
  GstElement        *tee;
  guint              branch_id;
  Counter           *counter;
  GPtrArray         *senders;   /* PeercamSender* (no references) */
  gboolean           own;       /* one viewer's alone, off the table */
} Chain;

#define CHAINS_KEY "peercam-sender-chains"

/* A viewer's gate at its payloader: frames pass from a keyframe on; armed
 * at the start and whenever its queue overflowed (a frame lost). */
typedef struct {
  gatomicrefcount ref;
  int             armed;      /* atomic */
  int             asked;      /* atomic: a keyframe was asked for since arming */
} Gate;

struct _PeercamSender
{
  GObject                parent_instance;

  PeercamLocalMedia     *local;
  PeercamPeerConnection *pc;
  GstElement            *pipeline;
  GPtrArray             *elements;   /* this viewer's: the payloader, then audio */
  Chain                 *chain;
  char                  *codec;
  guint                  kbps;
  PeercamVideoFormat     format;
  GSource               *check;      /* the 1 s look at the link against the others' */
  gint64                 slow_since_us;
  gint64                 fast_since_us;
  gint64                 started_us;
  GstElement            *pay;
  GstElement            *queue;      /* the local media's, in front of the payloader */
  Gate                  *gate;
  PeercamCongestion     *congestion;  /* NULL without a format: fixed bitrate */
  guint                  branch_id;
  gboolean               sends_audio;
  gboolean               stopped;
};

G_DEFINE_FINAL_TYPE (PeercamSender, peercam_sender, G_TYPE_OBJECT)

static Counter *
counter_ref (Counter *counter)
{
  g_atomic_ref_count_inc (&counter->ref);
  return counter;
}

static void
counter_unref (gpointer data)
{
  Counter *counter = data;

  if (g_atomic_ref_count_dec (&counter->ref))
    g_free (counter);
}

static GstPadProbeReturn
count_frames_probe (GstPad          *pad,
                    GstPadProbeInfo *info,
                    gpointer         user_data)
{
  Counter *counter = user_data;

  g_atomic_pointer_add (&counter->frames, 1);
  return GST_PAD_PROBE_OK;
}

static void
remove_elements (GstElement *pipeline,
                 GPtrArray  *elements)
{
  for (guint i = elements->len; i > 0; i--)
    {
      GstElement *element = elements->pdata[i - 1];

      gst_element_set_locked_state (element, TRUE);
      gst_element_set_state (element, GST_STATE_NULL);
      gst_bin_remove (GST_BIN (pipeline), element);
    }
  g_ptr_array_set_size (elements, 0);
}

static void
chain_unref (Chain *chain)
{
  GHashTable *chains;

  if (--chain->ref > 0)
    return;
  chains = g_object_get_data (G_OBJECT (chain->local), CHAINS_KEY);
  if (chains && g_hash_table_lookup (chains, chain->key) == chain)
    g_hash_table_remove (chains, chain->key);
  /* No viewer is left behind the tee: nothing downstream blocks. */
  if (chain->branch_id)
    peercam_local_media_stop_branch (chain->local, chain->branch_id);
  remove_elements (chain->pipeline, chain->elements);
  if (chain->branch_id)
    peercam_local_media_remove_branch (chain->local, chain->branch_id);
  g_ptr_array_unref (chain->elements);
  g_ptr_array_unref (chain->senders);
  counter_unref (chain->counter);
  g_object_unref (chain->pipeline);
  g_object_unref (chain->local);
  g_free (chain->key);
  g_free (chain);
}

static Chain *
chain_new (PeercamLocalMedia        *local,
           const char               *key,
           const char               *codec,
           guint                     kbps,
           const PeercamVideoFormat *format,
           GError                  **error)
{
  Chain *chain = g_new0 (Chain, 1);
  g_autoptr(GstPad) head_pad = NULL;
  GstElement *scaler = NULL;
  guint first;

  chain->ref = 1;
  chain->key = g_strdup (key);
  chain->local = g_object_ref (local);
  chain->pipeline = g_object_ref (peercam_local_media_get_pipeline (local));
  chain->elements = g_ptr_array_new ();
  chain->senders = g_ptr_array_new ();
  chain->counter = g_new0 (Counter, 1);
  g_atomic_ref_count_init (&chain->counter->ref);

  if (format)
    {
      /* The degradation policy's scaler: passes through until the
       * congestion controllers give the filter caps. */
      scaler = gst_element_factory_make ("videoscale", NULL);
      chain->filter = gst_element_factory_make ("capsfilter", NULL);
      g_ptr_array_add (chain->elements, scaler);
      g_ptr_array_add (chain->elements, chain->filter);
      gst_bin_add_many (GST_BIN (chain->pipeline), scaler, chain->filter, NULL);
    }
  first = chain->elements->len;
  if (!peercam_video_encoder_build (GST_BIN (chain->pipeline), codec, kbps, chain->elements,
                                    &chain->encoder, error))
    goto fail;
  chain->tee = gst_element_factory_make ("tee", NULL);
  g_object_set (chain->tee, "allow-not-linked", TRUE, NULL);
  gst_bin_add (GST_BIN (chain->pipeline), chain->tee);
  g_ptr_array_add (chain->elements, chain->tee);
  if ((format && !gst_element_link_many (scaler, chain->filter, chain->elements->pdata[first], NULL)) ||
      !gst_element_link (chain->elements->pdata[chain->elements->len - 2], chain->tee))
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_PIPELINE,
                           _("Could not build the encoder"));
      goto fail;
    }

  /* Count what goes to the encoder: the caller's fps in stats. */
  head_pad = gst_element_get_static_pad (chain->elements->pdata[0], "sink");
  gst_pad_add_probe (head_pad, GST_PAD_PROBE_TYPE_BUFFER, count_frames_probe,
                     counter_ref (chain->counter), counter_unref);
  for (guint i = chain->elements->len; i > 0; i--)
    gst_element_sync_state_with_parent (chain->elements->pdata[i - 1]);
  chain->branch_id = peercam_local_media_add_branch (local, chain->elements->pdata[0], error);
  if (chain->branch_id == 0)
    goto fail;
  return chain;

fail:
  chain_unref (chain);
  return NULL;
}

static char *
chain_key (const char               *codec,
           guint                     kbps,
           const PeercamVideoFormat *format)
{
  if (format)
    return g_strdup_printf ("%s %ux%u@%u", codec ? codec : "vp8", format->width, format->height, format->fps);
  return g_strdup_printf ("%s fixed %u", codec ? codec : "vp8", kbps);
}

/* The chain the viewers alike share: this local media's running pipeline,
 * the same codec and format. */
static Chain *
chain_get (PeercamLocalMedia        *local,
           const char               *codec,
           guint                     kbps,
           const PeercamVideoFormat *format,
           gboolean                  own,
           GError                  **error)
{
  g_autofree char *key = NULL;
  GHashTable *chains = g_object_get_data (G_OBJECT (local), CHAINS_KEY);
  Chain *chain;

  key = chain_key (codec, kbps, format);
  if (chains == NULL)
    {
      chains = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_object_set_data_full (G_OBJECT (local), CHAINS_KEY, chains, (GDestroyNotify) g_hash_table_unref);
    }
  chain = g_hash_table_lookup (chains, key);
  if (!own && chain && chain->pipeline == peercam_local_media_get_pipeline (local))
    {
      chain->ref++;
      return chain;
    }
  chain = chain_new (local, key, codec, kbps, format, error);
  if (chain && own)
    chain->own = TRUE;
  else if (chain)
    g_hash_table_replace (chains, g_strdup (key), chain);
  return chain;
}

static Gate *
gate_ref (Gate *gate)
{
  g_atomic_ref_count_inc (&gate->ref);
  return gate;
}

static void
gate_unref (gpointer data)
{
  Gate *gate = data;

  if (g_atomic_ref_count_dec (&gate->ref))
    g_free (gate);
}

static void
gate_closure_unref (gpointer data, GClosure *closure)
{
  gate_unref (data);
}

/* On the payloader's sink (the viewer queue's thread): until a keyframe,
 * drop, and ask for one once (the congestion controllers merge requests). */
static GstPadProbeReturn
gate_probe (GstPad          *pad,
            GstPadProbeInfo *info,
            gpointer         user_data)
{
  Gate *gate = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);

  if (!g_atomic_int_get (&gate->armed))
    return GST_PAD_PROBE_OK;
  if (!GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT))
    {
      g_atomic_int_set (&gate->armed, FALSE);
      return GST_PAD_PROBE_OK;
    }
  if (g_atomic_int_compare_and_exchange (&gate->asked, FALSE, TRUE))
    gst_pad_push_event (pad, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
                                                                          TRUE, 0));
  return GST_PAD_PROBE_DROP;
}

/* The viewer's queue is full and drops a frame: the picture breaks until
 * the next keyframe, so wait for one (and ask). */
static void
on_queue_overrun (GstElement *queue,
                  gpointer    user_data)
{
  Gate *gate = user_data;

  if (!g_atomic_int_get (&gate->armed))
    {
      g_atomic_int_set (&gate->asked, FALSE);
      g_atomic_int_set (&gate->armed, TRUE);
    }
}

static gboolean
have_microphone (void)
{
  g_autoptr(GstDeviceMonitor) monitor = gst_device_monitor_new ();
  GList *devices;
  gboolean found;

  gst_device_monitor_add_filter (monitor, "Audio/Source", NULL);
  if (!gst_device_monitor_start (monitor))
    return FALSE;
  devices = gst_device_monitor_get_devices (monitor);
  found = devices != NULL;
  g_list_free_full (devices, gst_object_unref);
  gst_device_monitor_stop (monitor);

  return found;
}

static gboolean
link_to_webrtc (PeercamSender            *self,
                GstElement               *pay,
                GstCaps                  *caps,
                GstWebRTCRTPTransceiver **transceiver)
{
  g_autoptr(GstPad) sink_pad = peercam_peer_connection_add_send_transceiver (self->pc, caps);

  if (sink_pad == NULL)
    return FALSE;
  if (transceiver)
    g_object_get (sink_pad, "transceiver", transceiver, NULL);
  return gst_element_link_pads (pay, "src", peercam_peer_connection_get_webrtcbin (self->pc),
                                GST_PAD_NAME (sink_pad));
}

/* autoaudiosrc ! … ! opusenc ! rtpopuspay into webrtcbin as a second,
 * send-only transceiver. */
static gboolean
add_microphone (PeercamSender  *self,
                GError        **error)
{
  static const char *factories[] = {
    "autoaudiosrc", "queue", "audioconvert", "audioresample", "opusenc", "rtpopuspay",
  };
  GstElement *elements[G_N_ELEMENTS (factories)] = { NULL, };
  g_autoptr(GstCaps) caps = gst_caps_from_string ("application/x-rtp,media=audio,encoding-name=OPUS,"
                                                  "clock-rate=48000,payload=111");

  for (guint i = 0; i < G_N_ELEMENTS (factories); i++)
    if (!(elements[i] = gst_element_factory_make (factories[i], NULL)))
      {
        for (guint j = 0; j < i; j++)
          gst_object_unref (gst_object_ref_sink (elements[j]));
        g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_MISSING_PLUGIN,
                     _("The GStreamer element “%s” is missing"), factories[i]);
        return FALSE;
      }

  /* No microphone is no reason to fail the call: video only.
   * (autoaudiosrc only fails once PLAYING, so ask the device monitor.) */
  if (!have_microphone ())
    {
      for (guint i = 0; i < G_N_ELEMENTS (elements); i++)
        gst_object_unref (gst_object_ref_sink (elements[i]));
      return TRUE;
    }

  g_object_set (elements[1], "leaky", 2, "max-size-time", (guint64) 200 * GST_MSECOND, NULL);
  g_object_set (elements[5], "pt", 111, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (elements); i++)
    {
      gst_bin_add (GST_BIN (self->pipeline), elements[i]);
      g_ptr_array_add (self->elements, elements[i]);
    }
  for (guint i = 0; i + 1 < G_N_ELEMENTS (elements); i++)
    if (!gst_element_link (elements[i], elements[i + 1]))
      goto fail;
  if (!link_to_webrtc (self, elements[5], caps, NULL))
    goto fail;
  for (guint i = G_N_ELEMENTS (elements); i > 0; i--)
    gst_element_sync_state_with_parent (elements[i - 1]);
  self->sends_audio = TRUE;
  return TRUE;

fail:
  g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_PIPELINE,
                       _("Could not send the microphone"));
  return FALSE;
}

static void leave_chain (PeercamSender *self);

gboolean
peercam_sender_stop (PeercamSender *self)
{
  gboolean lingers = FALSE;

  g_return_val_if_fail (PEERCAM_IS_SENDER (self), FALSE);

  if (self->stopped)
    return FALSE;
  self->stopped = TRUE;
  /* Before anything downstream goes: elements on their way to NULL answer
   * FLUSHING, which must not reach the tee and stall the others. */
  if (self->branch_id)
    peercam_local_media_stop_branch (self->local, self->branch_id);
  if (self->congestion)
    peercam_congestion_detach (self->congestion);
  /* Downstream first, like a bin does: until DTLS is up webrtcbin holds
   * the queue's thread in a blocking probe, and only its own shutdown
   * releases it. A connected one unlinks the payloaders and stays for its
   * RTCP BYE. */
  lingers = peercam_peer_connection_close (self->pc);
  remove_elements (self->pipeline, self->elements);
  self->pay = NULL;
  leave_chain (self);
  if (self->check)
    g_source_destroy (self->check);
  g_clear_pointer (&self->check, g_source_unref);
  if (self->chain)
    g_ptr_array_remove (self->chain->senders, self);
  g_clear_pointer (&self->chain, chain_unref);
  return lingers;
}

static void
peercam_sender_dispose (GObject *object)
{
  PeercamSender *self = PEERCAM_SENDER (object);

  if (self->pc)
    peercam_sender_stop (self);
  g_clear_object (&self->congestion);
  g_clear_object (&self->pc);
  g_clear_object (&self->local);
  g_clear_object (&self->pipeline);

  G_OBJECT_CLASS (peercam_sender_parent_class)->dispose (object);
}

static void
peercam_sender_finalize (GObject *object)
{
  PeercamSender *self = PEERCAM_SENDER (object);

  g_ptr_array_unref (self->elements);
  gate_unref (self->gate);
  g_free (self->codec);

  G_OBJECT_CLASS (peercam_sender_parent_class)->finalize (object);
}

static void
peercam_sender_class_init (PeercamSenderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = peercam_sender_dispose;
  object_class->finalize = peercam_sender_finalize;
}

static void
peercam_sender_init (PeercamSender *self)
{
  self->elements = g_ptr_array_new ();
  self->gate = g_new0 (Gate, 1);
  g_atomic_ref_count_init (&self->gate->ref);
  self->gate->armed = TRUE;
}

/* This viewer's queue at @chain's tee, in front of its payloader. */
static gboolean
join_chain (PeercamSender  *self,
            Chain          *chain,
            GError        **error)
{
  g_autoptr(GstPad) pay_sink = gst_element_get_static_pad (self->pay, "sink");
  g_autoptr(GstPad) queue_src = NULL;

  /* webrtcbin holds this thread until DTLS is up, and the others' frames
   * must not wait for it. A few frames only: a second of them (30) all
   * reached the caller's pacer at once when the transport came up, 68 KB
   * sent at 2.4-3.1 Mbit/s into a 1 Mbit/s link (test-congestion-netns);
   * with 5 the queue overflows instead, its gate waits for a fresh
   * keyframe and asks for one (1.0-1.7 Mbit/s at the start, 13-19 KB). */
  self->branch_id = peercam_local_media_add_branch_at (self->local, chain->tee, self->pay, 5, error);
  if (self->branch_id == 0)
    return FALSE;
  queue_src = gst_pad_get_peer (pay_sink);
  if (queue_src)
    {
      self->queue = gst_pad_get_parent_element (queue_src);
      if (self->queue)
        g_signal_connect_data (self->queue, "overrun", G_CALLBACK (on_queue_overrun),
                               gate_ref (self->gate), gate_closure_unref, 0);
    }
  return TRUE;
}

static void
leave_chain (PeercamSender *self)
{
  if (self->queue)
    g_signal_handlers_disconnect_by_func (self->queue, on_queue_overrun, self->gate);
  g_clear_object (&self->queue);
  if (self->branch_id)
    peercam_local_media_remove_branch (self->local, self->branch_id);
  self->branch_id = 0;
}

/* From one encoder to another while connected: the payloader (and so the
 * SSRC and sequence numbers) stays, and waits for a keyframe. */
static void
move_to (PeercamSender *self,
         Chain         *to)
{
  if (self->branch_id)
    peercam_local_media_stop_branch (self->local, self->branch_id);
  leave_chain (self);
  g_atomic_int_set (&self->gate->asked, FALSE);
  g_atomic_int_set (&self->gate->armed, TRUE);
  peercam_congestion_move_encoder (self->congestion, to->encoder, to->filter);
  g_ptr_array_remove (self->chain->senders, self);
  g_ptr_array_add (to->senders, self);
  chain_unref (self->chain);
  self->chain = to;
  if (!join_chain (self, to, NULL))
    g_warning ("sender: could not move to another encoder");
  self->slow_since_us = self->fast_since_us = 0;
}

/* The smallest estimate of @chain's viewers other than @self (0: none). */
static guint
others_kbps (Chain         *chain,
             PeercamSender *self)
{
  guint kbps = 0;

  for (guint i = 0; chain && i < chain->senders->len; i++)
    {
      PeercamSender *other = chain->senders->pdata[i];
      guint k;

      if (other == self || other->congestion == NULL)
        continue;
      k = peercam_congestion_get_estimate_kbps (other->congestion);
      if (k > 0 && (kbps == 0 || k < kbps))
        kbps = k;
    }
  return kbps;
}

/* Once a second: a viewer on a link well below the others' (under 60 % of
 * the slowest of them for SPLIT_AFTER_US) gets an encoder of its own, and
 * goes back once its link carries 80 % of theirs again for
 * REJOIN_AFTER_US (or nobody else is left to share with). */
#define SPLIT_SHARE      0.6
#define REJOIN_SHARE     0.8
#define SPLIT_AFTER_US   (3 * G_USEC_PER_SEC)
#define REJOIN_AFTER_US  (5 * G_USEC_PER_SEC)
#define SETTLE_US        (5 * G_USEC_PER_SEC)

static gboolean
check_link (gpointer data)
{
  PeercamSender *self = data;
  GHashTable *chains = g_object_get_data (G_OBJECT (self->local), CHAINS_KEY);
  gint64 now = g_get_monotonic_time ();
  guint mine = peercam_congestion_get_estimate_kbps (self->congestion);

  if (!self->chain->own)
    {
      guint others = others_kbps (self->chain, self);

      /* (not while its estimator's fast start finds the link) */
      if (others == 0 || mine >= others * SPLIT_SHARE || now - self->started_us < SETTLE_US)
        self->slow_since_us = 0;
      else if (self->slow_since_us == 0)
        self->slow_since_us = now;
      else if (now - self->slow_since_us >= SPLIT_AFTER_US)
        {
          Chain *own = chain_get (self->local, self->codec, self->kbps, &self->format, TRUE, NULL);

          g_debug ("sender: %u kbit/s against the others' %u: an encoder of its own", mine, others);
          if (own)
            {
              /* chain_get gave one reference, which move_to takes */
              move_to (self, own);
            }
        }
    }
  else
    {
      g_autofree char *key = chain_key (self->codec, self->kbps, &self->format);
      Chain *shared = chains ? g_hash_table_lookup (chains, key) : NULL;
      guint others;

      if (shared && shared->pipeline != self->chain->pipeline)
        shared = NULL;
      others = others_kbps (shared, self);
      if (shared == NULL)
        {
          /* Nobody left to share with: this one becomes the shared one. */
          g_debug ("sender: alone; its encoder is the shared one now");
          self->chain->own = FALSE;
          if (chains)
            g_hash_table_replace (chains, g_strdup (key), self->chain);
        }
      else if (others == 0 || mine < others * REJOIN_SHARE)
        self->fast_since_us = 0;
      else if (self->fast_since_us == 0)
        self->fast_since_us = now;
      else if (now - self->fast_since_us >= REJOIN_AFTER_US)
        {
          g_debug ("sender: %u kbit/s against the others' %u: back to the shared encoder", mine, others);
          shared->ref++;
          move_to (self, shared);
        }
    }
  return G_SOURCE_CONTINUE;
}

PeercamSender *
peercam_sender_new (PeercamLocalMedia      *local,
                    PeercamPeerConnection  *pc,
                    const char             *codec,
                    guint                   kbps,
                    gboolean                send_audio,
                    const PeercamVideoFormat *format,
                    GError                **error)
{
  g_autoptr(PeercamSender) self = NULL;
  g_autoptr(GstCaps) caps = NULL;
  g_autoptr(GstPad) pay_sink = NULL;
  g_autoptr(GstWebRTCRTPTransceiver) transceiver = NULL;

  g_return_val_if_fail (PEERCAM_IS_LOCAL_MEDIA (local), NULL);
  g_return_val_if_fail (PEERCAM_IS_PEER_CONNECTION (pc), NULL);

  self = g_object_new (PEERCAM_TYPE_SENDER, NULL);
  self->local = g_object_ref (local);
  self->pc = g_object_ref (pc);
  if (peercam_local_media_get_pipeline (local) == NULL)
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_WRONG_STATE,
                           _("Local video is not running"));
      return NULL;
    }
  self->pipeline = g_object_ref (peercam_local_media_get_pipeline (local));

  self->codec = g_strdup (codec);
  self->kbps = kbps;
  self->chain = chain_get (local, codec, kbps, format, FALSE, error);
  if (self->chain == NULL)
    return NULL;
  g_ptr_array_add (self->chain->senders, self);
  self->pay = peercam_video_encoder_make_payloader (codec);
  if (self->pay == NULL)
    {
      g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_MISSING_PLUGIN,
                   _("The GStreamer element “%s” is missing"),
                   g_strcmp0 (codec, "h264") == 0 ? "rtph264pay" : "rtpvp8pay");
      return NULL;
    }
  gst_bin_add (GST_BIN (self->pipeline), self->pay);
  g_ptr_array_add (self->elements, self->pay);
  caps = peercam_video_encoder_rtp_caps (codec);
  if (!link_to_webrtc (self, self->pay, caps, &transceiver))
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_PIPELINE,
                           _("Could not link the encoder to webrtcbin"));
      return NULL;
    }
  if (format)
    {
      /* Before the offer: TWCC, the pacer, estimate -> encoder and scaler. */
      g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();

      self->congestion = peercam_congestion_new (context);
      peercam_congestion_attach_sender (self->congestion,
                                        peercam_peer_connection_get_webrtcbin (pc),
                                        transceiver, self->chain->encoder, self->pay,
                                        self->chain->filter, format);
    }
  if (send_audio && !add_microphone (self, error))
    return NULL;

  pay_sink = gst_element_get_static_pad (self->pay, "sink");
  gst_pad_add_probe (pay_sink, GST_PAD_PROBE_TYPE_BUFFER, gate_probe, gate_ref (self->gate), gate_unref);

  gst_element_sync_state_with_parent (peercam_peer_connection_get_webrtcbin (pc));
  for (guint i = self->elements->len; i > 0; i--)
    gst_element_sync_state_with_parent (self->elements->pdata[i - 1]);
  if (!join_chain (self, self->chain, error))
    return NULL;
  if (self->congestion)
    {
      g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();

      self->format = *format;
      self->started_us = g_get_monotonic_time ();
      /* where the congestion controller runs (the warm-up call has a
       * thread and context of its own) */
      self->check = g_timeout_source_new_seconds (1);
      g_source_set_callback (self->check, check_link, self, NULL);
      g_source_attach (self->check, context);
    }
  return g_steal_pointer (&self);
}

gboolean
peercam_sender_get_sends_audio (PeercamSender *self)
{
  g_return_val_if_fail (PEERCAM_IS_SENDER (self), FALSE);
  return self->sends_audio;
}

guint64
peercam_sender_get_frames (PeercamSender *self)
{
  g_return_val_if_fail (PEERCAM_IS_SENDER (self), 0);
  return self->chain ? g_atomic_pointer_get (&self->chain->counter->frames) : 0;
}

void
peercam_sender_request_keyframe (PeercamSender *self)
{
  g_autoptr(GstPad) pad = NULL;

  g_return_if_fail (PEERCAM_IS_SENDER (self));
  if (self->pay == NULL)
    return;
  /* up through this viewer's queue and the tee to the shared encoder */
  pad = gst_element_get_static_pad (self->pay, "sink");
  gst_pad_push_event (pad, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
                                                                       TRUE, 0));
}

void
peercam_sender_fill_stats (PeercamSender    *self,
                           PeercamCallStats *stats)
{
  g_return_if_fail (PEERCAM_IS_SENDER (self));
  if (self->congestion)
    peercam_congestion_fill_stats (self->congestion, stats);
}
