/* peercam-sender.c — one viewer's outgoing media
 *
 *   tee ─ queue (local media's) ! videoconvert ! encoder … ! payloader ─ webrtcbin
 *   autoaudiosrc ! queue ! audioconvert ! audioresample ! opusenc ! rtpopuspay ─┘
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

struct _PeercamSender
{
  GObject                parent_instance;

  PeercamLocalMedia     *local;
  PeercamPeerConnection *pc;
  GstElement            *pipeline;
  GPtrArray             *elements;   /* upstream first: video, then audio */
  GstElement            *encoder;
  PeercamCongestion     *congestion;  /* NULL without a format: fixed bitrate */
  guint                  branch_id;
  gboolean               sends_audio;
  Counter               *counter;
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

gboolean
peercam_sender_stop (PeercamSender *self)
{
  gboolean lingers = FALSE;

  g_return_val_if_fail (PEERCAM_IS_SENDER (self), FALSE);

  if (self->stopped)
    return FALSE;
  self->stopped = TRUE;
  /* Before anything downstream goes: elements on their way to NULL answer
   * FLUSHING, which must not reach the tee and pause the source. */
  if (self->branch_id)
    peercam_local_media_stop_branch (self->local, self->branch_id);
  if (self->congestion)
    peercam_congestion_detach (self->congestion);
  /* Downstream first, like a bin does: until DTLS is up webrtcbin holds
   * the encoder's thread in a blocking probe, and only its own shutdown
   * releases it; stopping the branch first would wait for that thread. A
   * connected one unlinks the payloaders and stays for its RTCP BYE. */
  lingers = peercam_peer_connection_close (self->pc);
  for (guint i = self->elements->len; i > 0; i--)
    {
      GstElement *element = self->elements->pdata[i - 1];

      gst_element_set_locked_state (element, TRUE);
      gst_element_set_state (element, GST_STATE_NULL);
      gst_bin_remove (GST_BIN (self->pipeline), element);
    }
  g_ptr_array_set_size (self->elements, 0);
  self->encoder = NULL;
  if (self->branch_id)
    peercam_local_media_remove_branch (self->local, self->branch_id);
  self->branch_id = 0;
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
  counter_unref (self->counter);

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
  self->counter = g_new0 (Counter, 1);
  g_atomic_ref_count_init (&self->counter->ref);
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
  g_autoptr(GstPad) head_pad = NULL;
  g_autoptr(GstWebRTCRTPTransceiver) transceiver = NULL;
  GstElement *scaler = NULL, *scale_filter = NULL, *pay;
  guint first;

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

  if (format)
    {
      /* The degradation policy's scaler: passes through until the
       * congestion controller gives the filter caps. */
      scaler = gst_element_factory_make ("videoscale", NULL);
      scale_filter = gst_element_factory_make ("capsfilter", NULL);
      g_ptr_array_add (self->elements, scaler);
      g_ptr_array_add (self->elements, scale_filter);
      gst_bin_add_many (GST_BIN (self->pipeline), scaler, scale_filter, NULL);
    }
  first = self->elements->len;
  if (!peercam_video_encoder_build (GST_BIN (self->pipeline), codec, kbps, self->elements,
                                    &self->encoder, error))
    return NULL;
  if (format && !gst_element_link_many (scaler, scale_filter, self->elements->pdata[first], NULL))
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_PIPELINE,
                           _("Could not build the encoder"));
      return NULL;
    }
  pay = self->elements->pdata[self->elements->len - 1];
  caps = peercam_video_encoder_rtp_caps (codec);
  if (!link_to_webrtc (self, pay, caps, &transceiver))
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
                                        transceiver, self->encoder, pay, scale_filter, format);
    }
  if (send_audio && !add_microphone (self, error))
    return NULL;

  /* Count what goes to the encoder: the caller's fps in stats. */
  head_pad = gst_element_get_static_pad (self->elements->pdata[0], "sink");
  gst_pad_add_probe (head_pad, GST_PAD_PROBE_TYPE_BUFFER, count_frames_probe,
                     counter_ref (self->counter), counter_unref);

  gst_element_sync_state_with_parent (peercam_peer_connection_get_webrtcbin (pc));
  for (guint i = self->elements->len; i > 0; i--)
    gst_element_sync_state_with_parent (self->elements->pdata[i - 1]);
  self->branch_id = peercam_local_media_add_branch (local, self->elements->pdata[0], error);
  if (self->branch_id == 0)
    return NULL;
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
  return g_atomic_pointer_get (&self->counter->frames);
}

void
peercam_sender_request_keyframe (PeercamSender *self)
{
  g_autoptr(GstPad) pad = NULL;

  g_return_if_fail (PEERCAM_IS_SENDER (self));
  if (self->encoder == NULL)
    return;
  pad = gst_element_get_static_pad (self->encoder, "src");
  gst_pad_send_event (pad, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
                                                                       TRUE, 0));
}

void
peercam_sender_add_stats (PeercamSender *self,
                          JsonBuilder   *builder)
{
  g_return_if_fail (PEERCAM_IS_SENDER (self));
  if (self->congestion)
    peercam_congestion_add_stats (self->congestion, builder);
}
