/* test-congestion.c — the GStreamer side of congestion control (issue 11):
 * the pacer element between an appsrc and an appsink, and the viewer's
 * acceptance of an offered transport-wide-cc (or abs-send-time) extension.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-congestion.h"
#include "peercam-init.h"
#include "peercam-pacer-element.h"
#include "peercam-pacer.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/rtp/rtp.h>
#include <gst/video/video.h>

#define SSRC 0x1234
#define PT   96

typedef struct {
  GstElement *pipeline;
  GstElement *src;
  GstElement *pacer;
  GstElement *sink;
  GMutex      lock;
  GArray     *arrivals;   /* gint64: when each buffer reached the sink */
  gsize       bytes;
  guint       feedbacks;
  guint       feedback_packets;
  guint       nacks_upstream;  /* retransmission requests that got past the pacer */
  GArray     *nacked;          /* guint: their sequence numbers */
  guint       probe_id, probe_packets, probes;
  gint64      probe_first_us, probe_last_us;
} Fixture;

/* What the appsrcs send: VP8 in RTP, payload type PT. */
static GstCaps *
rtp_caps (void)
{
  return gst_caps_new_simple ("application/x-rtp",
                              "media", G_TYPE_STRING, "video",
                              "payload", G_TYPE_INT, PT,
                              "clock-rate", G_TYPE_INT, 90000,
                              "encoding-name", G_TYPE_STRING, "VP8", NULL);
}

static GstFlowReturn
on_new_sample (GstAppSink *sink, gpointer user_data)
{
  Fixture *f = user_data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample (sink);
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&f->lock);
  g_array_append_val (f->arrivals, now);
  f->bytes += gst_buffer_get_size (gst_sample_get_buffer (sample));
  g_mutex_unlock (&f->lock);
  return GST_FLOW_OK;
}

static void
on_feedback (const GstStructure *packets, gpointer user_data)
{
  Fixture *f = user_data;
  const GValue *list = gst_structure_get_value (packets, "packets");

  g_mutex_lock (&f->lock);
  f->feedbacks++;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (list)
    f->feedback_packets += ((GValueArray *) g_value_get_boxed (list))->n_values;
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_mutex_unlock (&f->lock);
}

/* What reaches the appsrc from downstream: the NACKs the policy let through. */
static GstPadProbeReturn
upstream_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Fixture *f = user_data;
  const GstStructure *s = gst_event_get_structure (GST_PAD_PROBE_INFO_EVENT (info));

  if (s && gst_structure_has_name (s, "GstRTPRetransmissionRequest"))
    {
      guint seq = 0;

      gst_structure_get_uint (s, "seqnum", &seq);
      g_mutex_lock (&f->lock);
      f->nacks_upstream++;
      g_array_append_val (f->nacked, seq);
      g_mutex_unlock (&f->lock);
    }
  return GST_PAD_PROBE_OK;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GstCaps) caps = rtp_caps ();
  g_autoptr(GstPad) src_pad = NULL;
  GstAppSinkCallbacks callbacks = { .new_sample = on_new_sample };

  g_mutex_init (&f->lock);
  f->arrivals = g_array_new (FALSE, FALSE, sizeof (gint64));
  f->nacked = g_array_new (FALSE, FALSE, sizeof (guint));
  f->pipeline = gst_pipeline_new (NULL);
  f->src = gst_element_factory_make ("appsrc", NULL);
  g_object_set (f->src, "caps", caps, "format", GST_FORMAT_TIME, "is-live", TRUE,
                "max-bytes", (guint64) 0, NULL);
  f->pacer = peercam_pacer_element_new ();
  f->sink = gst_element_factory_make ("appsink", NULL);
  g_object_set (f->sink, "sync", FALSE, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (f->sink), &callbacks, f, NULL);
  peercam_pacer_element_set_feedback_func (PEERCAM_PACER_ELEMENT (f->pacer), on_feedback, f, NULL);
  gst_bin_add_many (GST_BIN (f->pipeline), f->src, f->pacer, f->sink, NULL);
  g_assert_true (gst_element_link_many (f->src, f->pacer, f->sink, NULL));
  src_pad = gst_element_get_static_pad (f->src, "src");
  gst_pad_add_probe (src_pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, upstream_probe, f, NULL);
  g_assert_cmpint (gst_element_set_state (f->pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  gst_element_set_state (f->pipeline, GST_STATE_NULL);
  gst_object_unref (f->pipeline);
  g_array_unref (f->arrivals);
  g_array_unref (f->nacked);
  g_mutex_clear (&f->lock);
}

/* An RTP packet of SSRC with @payload bytes of zeros. */
static GstBuffer *
rtp_packet_full (guint16 seq, gsize payload, guint8 pt, guint32 rtptime, gboolean marker)
{
  GstBuffer *buffer = gst_rtp_buffer_new_allocate (payload, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  g_assert_true (gst_rtp_buffer_map (buffer, GST_MAP_WRITE, &rtp));
  gst_rtp_buffer_set_ssrc (&rtp, SSRC);
  gst_rtp_buffer_set_payload_type (&rtp, pt);
  gst_rtp_buffer_set_seq (&rtp, seq);
  gst_rtp_buffer_set_timestamp (&rtp, rtptime);
  gst_rtp_buffer_set_marker (&rtp, marker);
  gst_rtp_buffer_unmap (&rtp);
  return buffer;
}

static GstBuffer *
rtp_packet_pt (guint16 seq, gsize payload, guint8 pt)
{
  return rtp_packet_full (seq, payload, pt, 0, FALSE);
}

static GstBuffer *
rtp_packet (guint16 seq, gsize payload)
{
  return rtp_packet_pt (seq, payload, PT);
}

static gsize
received_bytes (Fixture *f)
{
  gsize bytes;

  g_mutex_lock (&f->lock);
  bytes = f->bytes;
  g_mutex_unlock (&f->lock);
  return bytes;
}

static gboolean
wait_bytes (Fixture *f, gsize bytes, gint64 timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;

  while (received_bytes (f) < bytes)
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_usleep (2000);
    }
  return TRUE;
}

static double
burst_seconds (Fixture *f, guint n, gsize size)
{
  gint64 first, last;

  for (guint i = 0; i < n; i++)
    g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (f->src), rtp_packet (i, size - 12)), ==, GST_FLOW_OK);
  g_assert_true (wait_bytes (f, n * size, 5 * G_USEC_PER_SEC));
  g_mutex_lock (&f->lock);
  first = g_array_index (f->arrivals, gint64, 0);
  last = g_array_index (f->arrivals, gint64, f->arrivals->len - 1);
  g_mutex_unlock (&f->lock);
  return (last - first) / 1e6;
}

/* A 29 KB keyframe pushed at once leaves at the pacing rate, not line rate. */
static void
test_pacing (Fixture *f, gconstpointer data)
{
  const guint n = 24;
  const gsize size = 1200;
  double seconds, kbps;

  /* 400 kbit/s x 2.5 = 1 Mbit/s: 29 KB take ~230 ms, inside the 250 ms bound */
  peercam_pacer_element_set_target_bitrate (PEERCAM_PACER_ELEMENT (f->pacer), 400000);
  seconds = burst_seconds (f, n, size);
  kbps = (n - 1) * size * 8 / 1000.0 / seconds;
  g_test_message ("29 KB burst: %.0f ms, %.0f kbit/s (pacing 1000)", seconds * 1000, kbps);
  g_assert_cmpfloat (kbps, <=, 1000 * 1.15);
  g_assert_cmpfloat (kbps, >=, 700);
  g_assert_cmpuint (peercam_pacer_element_get_sent_bytes (PEERCAM_PACER_ELEMENT (f->pacer)), ==, n * size);
}

/* 100 KB at once would take 0.8 s at the pacing rate: the 250 ms queue bound
 * drains it faster instead. */
static void
test_queue_bound (Fixture *f, gconstpointer data)
{
  double seconds;

  peercam_pacer_element_set_target_bitrate (PEERCAM_PACER_ELEMENT (f->pacer), 400000);
  seconds = burst_seconds (f, 84, 1200);
  g_test_message ("100 KB burst: %.0f ms", seconds * 1000);
  g_assert_cmpfloat (seconds, <=, 0.3);
  g_assert_cmpfloat (seconds, >=, 0.15);
}

/* Packets spread over time at the pacing rate: no extra delay. */
static void
test_pacing_light (Fixture *f, gconstpointer data)
{
  const gsize size = 1000;

  peercam_pacer_element_set_target_bitrate (PEERCAM_PACER_ELEMENT (f->pacer), 2000000);
  for (guint i = 0; i < 20; i++)
    {
      g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (f->src), rtp_packet (i, size - 12)), ==, GST_FLOW_OK);
      g_usleep (5000);
    }
  g_assert_true (wait_bytes (f, 20 * size, 2 * G_USEC_PER_SEC));
  g_assert_cmpint (peercam_pacer_element_get_queue_delay_us (PEERCAM_PACER_ELEMENT (f->pacer)), ==, 0);
}

static GstStructure *
twcc_packet (guint seq, guint64 local, guint64 remote, gboolean lost)
{
  return gst_structure_new ("RTPTWCCPacket",
                            "seqnum", G_TYPE_UINT, seq,
                            "local-ts", G_TYPE_UINT64, local,
                            "remote-ts", G_TYPE_UINT64, lost ? GST_CLOCK_TIME_NONE : remote,
                            "size", G_TYPE_UINT, 1200,
                            "lost", G_TYPE_BOOLEAN, lost, NULL);
}

/* rtpsession's parsed feedback goes to the feedback function, not upstream. */
static void
test_feedback (Fixture *f, gconstpointer data)
{
  g_autoptr(GstPad) pad = gst_element_get_static_pad (f->sink, "sink");
  GValueArray *array;
  GValue v = G_VALUE_INIT;
  GstStructure *s;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  array = g_value_array_new (3);
  g_value_init (&v, GST_TYPE_STRUCTURE);
  for (guint i = 0; i < 3; i++)
    {
      GstStructure *p = twcc_packet (i, i * GST_MSECOND, 5 * GST_SECOND + i * GST_MSECOND, i == 1);
      gst_value_set_structure (&v, p);
      gst_structure_free (p);
      g_value_array_append (array, &v);
    }
  g_value_unset (&v);
  s = gst_structure_new ("RTPTWCCPackets", "packets", g_value_array_get_type (), array, NULL);
  g_value_array_free (array);
  G_GNUC_END_IGNORE_DEPRECATIONS

  g_assert_true (gst_pad_push_event (pad, gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM, s)));
  g_mutex_lock (&f->lock);
  g_assert_cmpuint (f->feedbacks, ==, 1);
  g_assert_cmpuint (f->feedback_packets, ==, 3);
  g_mutex_unlock (&f->lock);
}

static gboolean
send_nack (Fixture *f, guint seq)
{
  g_autoptr(GstPad) pad = gst_element_get_static_pad (f->sink, "sink");
  GstStructure *s = gst_structure_new ("GstRTPRetransmissionRequest",
                                       "seqnum", G_TYPE_UINT, seq,
                                       "ssrc", G_TYPE_UINT, SSRC, NULL);

  return gst_pad_push_event (pad, gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM, s));
}

/* NACKs go on to the retransmitter at most three times per packet, and
 * never for packets the pacer never sent. */
static void
test_nack_policy (Fixture *f, gconstpointer data)
{
  PeercamPacerElement *pacer = PEERCAM_PACER_ELEMENT (f->pacer);

  peercam_pacer_element_set_target_bitrate (pacer, 2000000);
  peercam_pacer_element_set_rtt (pacer, 1000);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (f->src), rtp_packet (100 + i, 500)), ==, GST_FLOW_OK);
  g_assert_true (wait_bytes (f, 10 * 512, 2 * G_USEC_PER_SEC));

  for (guint k = 0; k < 5; k++)
    {
      send_nack (f, 105);
      g_usleep (15000);  /* more than the 10 ms minimum spacing */
    }
  send_nack (f, 7);  /* never sent */
  g_mutex_lock (&f->lock);
  g_assert_cmpuint (f->nacks_upstream, ==, 3);
  g_mutex_unlock (&f->lock);
  g_assert_cmpuint (peercam_pacer_element_get_retransmissions (pacer), ==, 3);
  g_assert_cmpuint (peercam_pacer_element_get_refused_nacks (pacer), ==, 3);
  g_assert_cmpuint (peercam_pacer_element_get_stale_nacks (pacer), ==, 0);

  /* Past the age bound (500 ms) a NACK is refused and counted as stale:
   * the viewer waits for a frame it cannot complete (the controller then
   * sends a keyframe). */
  g_usleep (PEERCAM_RTX_DEFAULT_MAX_AGE_US + 50000);
  send_nack (f, 101);
  g_mutex_lock (&f->lock);
  g_assert_cmpuint (f->nacks_upstream, ==, 3);
  g_mutex_unlock (&f->lock);
  g_assert_cmpuint (peercam_pacer_element_get_refused_nacks (pacer), ==, 4);
  g_assert_cmpuint (peercam_pacer_element_get_stale_nacks (pacer), ==, 1);
}

/* A frame's tail still in the queue: the pacer asks the encoder to skip a
 * frame, and a NACK for a packet that has not left is refused (it is on
 * its way); once it has left, the NACK goes through. */
static void
test_pending (Fixture *f, gconstpointer data)
{
  PeercamPacerElement *pacer = PEERCAM_PACER_ELEMENT (f->pacer);
  gint64 end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;

  /* 36 KB at 400 kbit/s: 720 ms at the estimate, 250 ms with the bound */
  peercam_pacer_element_set_target_bitrate (pacer, 400000);
  peercam_pacer_element_set_rtt (pacer, 1000);
  g_assert_false (peercam_pacer_element_should_drop_frame (pacer));
  for (guint i = 0; i < 30; i++)
    g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (f->src), rtp_packet (200 + i, 1188)), ==, GST_FLOW_OK);
  while (!peercam_pacer_element_should_drop_frame (pacer))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (1000);
    }
  g_usleep (20000);  /* the rest of the burst reaches the queue */
  send_nack (f, 229);
  g_assert_true (wait_bytes (f, 30 * 1200, 2 * G_USEC_PER_SEC));
  g_assert_false (peercam_pacer_element_should_drop_frame (pacer));
  send_nack (f, 229);
  g_mutex_lock (&f->lock);
  g_assert_cmpuint (f->nacks_upstream, ==, 1);
  g_mutex_unlock (&f->lock);
  g_assert_cmpuint (peercam_pacer_element_get_refused_nacks (pacer), ==, 1);
}

static void
on_probe_sent (guint id, gint64 first_us, gint64 last_us, guint n_packets, gpointer user_data)
{
  Fixture *f = user_data;

  g_mutex_lock (&f->lock);
  f->probes++;
  f->probe_id = id;
  f->probe_first_us = first_us;
  f->probe_last_us = last_us;
  f->probe_packets = n_packets;
  g_mutex_unlock (&f->lock);
}

static gboolean
wait_probes (Fixture *f, guint n, gint64 timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;
  guint probes;

  do
    {
      g_mutex_lock (&f->lock);
      probes = f->probes;
      g_mutex_unlock (&f->lock);
      if (probes >= n)
        return TRUE;
      g_usleep (2000);
    }
  while (g_get_monotonic_time () < end);
  return FALSE;
}

/* A probe cluster pads with retransmissions of the newest media packets,
 * asked of the retransmitter upstream as a NACK would; the RTX packets
 * that come back leave at the probe's rate, and the probe function hears
 * when the first and the last left. A cluster whose padding never comes
 * reports no packets. */
static void
test_probe (Fixture *f, gconstpointer data)
{
  PeercamPacerElement *pacer = PEERCAM_PACER_ELEMENT (f->pacer);
  guint asked;
  gint64 spread;

  peercam_pacer_element_set_probe_func (pacer, on_probe_sent, f, NULL);
  peercam_pacer_element_set_target_bitrate (pacer, 2000000);
  for (guint i = 0; i < 20; i++)
    g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (f->src), rtp_packet (200 + i, 988)), ==, GST_FLOW_OK);
  g_assert_true (wait_bytes (f, 20 * 1000, 2 * G_USEC_PER_SEC));

  /* 1.6 Mbit/s for 30 ms: 6000 bytes, six of the 1000-byte packets */
  peercam_pacer_element_start_probe (pacer, 4, 1600000, 30000, 5);
  g_mutex_lock (&f->lock);
  asked = f->nacked->len;
  g_assert_cmpuint (asked, ==, 6);
  for (guint i = 0; i < asked; i++)
    g_assert_cmpuint (g_array_index (f->nacked, guint, i), ==, 219 - i);  /* the newest first */
  g_mutex_unlock (&f->lock);
  /* the retransmitter answers with RTX packets (another payload type) */
  for (guint i = 0; i < asked; i++)
    g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (f->src), rtp_packet_pt (i, 988, PT + 1)), ==, GST_FLOW_OK);
  g_assert_true (wait_probes (f, 1, 2 * G_USEC_PER_SEC));
  g_mutex_lock (&f->lock);
  spread = f->probe_last_us - f->probe_first_us;
  g_test_message ("probe: %u packets over %.1f ms (5 gaps of 5 ms at 1.6 Mbit/s)", f->probe_packets, spread / 1000.0);
  g_assert_cmpuint (f->probe_id, ==, 4);
  g_assert_cmpuint (f->probe_packets, ==, 6);
  g_assert_cmpint (spread, >=, 20000);
  g_assert_cmpint (spread, <=, 80000);
  g_mutex_unlock (&f->lock);
  g_assert_cmpuint (peercam_pacer_element_get_probe_bytes (pacer), ==, 6000);
  /* padding is no NACK: the retransmission counters stay */
  g_assert_cmpuint (peercam_pacer_element_get_retransmissions (pacer), ==, 0);

  /* No answer this time: after its timeout (30 + 100 ms) the next packet
   * out brings the report of a cluster that could not be sent. */
  peercam_pacer_element_start_probe (pacer, 5, 1600000, 30000, 5);
  g_usleep (200000);
  g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (f->src), rtp_packet (220, 988)), ==, GST_FLOW_OK);
  g_assert_true (wait_probes (f, 2, 2 * G_USEC_PER_SEC));
  g_mutex_lock (&f->lock);
  g_assert_cmpuint (f->probe_id, ==, 5);
  g_assert_cmpuint (f->probe_packets, ==, 0);
  g_mutex_unlock (&f->lock);
}

/* Stopping with a full queue frees what is queued (ASan/LSan check). */
static void
test_stop_with_queue (Fixture *f, gconstpointer data)
{
  peercam_pacer_element_set_target_bitrate (PEERCAM_PACER_ELEMENT (f->pacer), 100000);
  for (guint i = 0; i < 50; i++)
    gst_app_src_push_buffer (GST_APP_SRC (f->src), rtp_packet (i, 1188));
  g_usleep (20000);
  g_assert_cmpuint (received_bytes (f), <, 50 * 1200);
  gst_element_set_state (f->pipeline, GST_STATE_NULL);
}

/* ---- the viewer's answer ---- */

static GstSDPMedia *
offer_media (const char *extmap)
{
  GstSDPMedia *media;

  gst_sdp_media_new (&media);
  gst_sdp_media_set_media (media, "video");
  gst_sdp_media_add_attribute (media, "rtpmap", "96 VP8/90000");
  gst_sdp_media_add_attribute (media, "extmap", "3 urn:ietf:params:rtp-hdrext:sdes:mid");
  if (extmap)
    gst_sdp_media_add_attribute (media, "extmap", extmap);
  return media;
}

static void
test_accept_twcc (void)
{
  g_autoptr(GstElement) webrtc = gst_element_factory_make ("webrtcbin", NULL);
  g_autoptr(GstCaps) caps = gst_caps_from_string ("application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000");
  static const struct { const char *extmap; const char *field; } cases[] = {
    { "5 " PEERCAM_TWCC_URI, "extmap-5" },           /* Chromium/Firefox style */
    { "7/recvonly " PEERCAM_TWCC_URI, "extmap-7" },  /* with a direction */
    { NULL, NULL },                                  /* not offered */
    { "x " PEERCAM_TWCC_URI, NULL },                 /* garbage: ignored */
    { "300 " PEERCAM_TWCC_URI, NULL },               /* id out of range */
  };

  g_assert_nonnull (webrtc);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GstWebRTCRTPTransceiver *transceiver = NULL;
      GstSDPMedia *media = offer_media (cases[i].extmap);
      g_autoptr(GstCaps) prefs = NULL;

      g_signal_emit_by_name (webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY,
                             caps, &transceiver);
      g_assert_nonnull (transceiver);
      g_assert_cmpint (peercam_congestion_accept_twcc (transceiver, media), ==, cases[i].field != NULL);
      g_object_get (transceiver, "codec-preferences", &prefs, NULL);
      if (cases[i].field)
        g_assert_cmpstr (gst_structure_get_string (gst_caps_get_structure (prefs, 0), cases[i].field),
                         ==, PEERCAM_TWCC_URI);
      else
        g_assert_false (gst_structure_has_field (gst_caps_get_structure (prefs, 0), "extmap-5"));
      gst_sdp_media_free (media);
      g_object_unref (transceiver);
    }
}

/* A caller that adapts from REMB only (aiortc 1.4: goog-remb and
 * abs-send-time, no transport-cc) gets abs-send-time answered, for the
 * viewer's REMB estimate; one with transport-cc (Chromium: all three) gets
 * transport-cc only, as before; without goog-remb, nothing. */
static void
test_accept_abs_send_time (void)
{
  g_autoptr(GstElement) webrtc = gst_element_factory_make ("webrtcbin", NULL);
  g_autoptr(GstCaps) caps = gst_caps_from_string ("application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000");
  static const struct {
    gboolean remb, twcc_fb, twcc;
    const char *abs_field;   /* expected in the answer; NULL: none */
    gboolean twcc_answered;
  } cases[] = {
    { TRUE, FALSE, FALSE, "extmap-2", FALSE },  /* aiortc */
    { TRUE, TRUE, TRUE, NULL, TRUE },           /* Chromium */
    { TRUE, TRUE, FALSE, NULL, FALSE },         /* transport-cc feedback without the extension */
    { FALSE, FALSE, FALSE, NULL, FALSE },       /* neither */
  };

  g_assert_nonnull (webrtc);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GstWebRTCRTPTransceiver *transceiver = NULL;
      GstSDPMedia *media = offer_media (cases[i].twcc ? "5 " PEERCAM_TWCC_URI : NULL);
      g_autoptr(GstCaps) prefs = NULL;
      const GstStructure *s;

      gst_sdp_media_add_attribute (media, "extmap", "2 " PEERCAM_ABS_SEND_TIME_URI);
      gst_sdp_media_add_attribute (media, "rtcp-fb", "96 nack");
      if (cases[i].remb)
        gst_sdp_media_add_attribute (media, "rtcp-fb", "96 goog-remb");
      if (cases[i].twcc_fb)
        gst_sdp_media_add_attribute (media, "rtcp-fb", "96 transport-cc");
      g_signal_emit_by_name (webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY,
                             caps, &transceiver);
      g_assert_nonnull (transceiver);
      g_assert_cmpint (peercam_congestion_accept_twcc (transceiver, media), ==, cases[i].twcc_answered);
      g_object_get (transceiver, "codec-preferences", &prefs, NULL);
      s = gst_caps_get_structure (prefs, 0);
      if (cases[i].abs_field)
        g_assert_cmpstr (gst_structure_get_string (s, cases[i].abs_field), ==, PEERCAM_ABS_SEND_TIME_URI);
      else
        g_assert_false (gst_structure_has_field (s, "extmap-2"));
      gst_sdp_media_free (media);
      g_object_unref (transceiver);
    }
}

/* ---- the viewer's retransmission requests ---- */

typedef struct {
  GMutex  lock;
  GArray *requested;  /* guint: sequence numbers the jitter buffer asked for */
} Requests;

static GstPadProbeReturn
request_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Requests *r = user_data;
  const GstStructure *s = gst_event_get_structure (GST_PAD_PROBE_INFO_EVENT (info));
  guint seq = 0;

  if (s && gst_structure_has_name (s, "GstRTPRetransmissionRequest") &&
      gst_structure_get_uint (s, "seqnum", &seq))
    {
      g_mutex_lock (&r->lock);
      g_array_append_val (r->requested, seq);
      g_mutex_unlock (&r->lock);
    }
  return GST_PAD_PROBE_OK;
}

static GstBuffer *
video_packet (guint16 seq, guint32 rtptime, gboolean marker)
{
  return rtp_packet_full (seq, 1000, PT, rtptime, marker);
}

/* A stream as a capped link or a paced sender delivers it: 30 frames a
 * second, one packet each, and every tenth frame a large one whose 12
 * packets trickle in over 130 ms (a keyframe at 500 kbit/s takes longer).
 * @lose: a sequence number that never arrives (0: none). Returns the
 * sequence numbers the viewer's jitter buffer asked to be retransmitted. */
static GArray *
viewer_requests (guint16 lose)
{
  g_autoptr(PeercamCongestion) congestion = peercam_congestion_new (g_main_context_default ());
  /* webrtcbin's own handler of rtpbin's new-jitterbuffer wants a
   * negotiated transceiver: a bin holds the rtpbin instead */
  g_autoptr(GstElement) webrtc = gst_object_ref_sink (gst_bin_new ("webrtc"));
  GstElement *rtpbin = gst_element_factory_make ("rtpbin", "rtpbin");
  g_autoptr(GstCaps) caps = rtp_caps ();
  g_autoptr(GstPad) src_pad = NULL;
  GstElement *pipeline, *src, *jitterbuffer, *sink;
  Requests r = { 0 };
  guint16 seq = 1000;
  guint32 rtptime = 0;
  gboolean do_retransmission = FALSE;

  g_mutex_init (&r.lock);
  r.requested = g_array_new (FALSE, FALSE, sizeof (guint));
  g_assert_nonnull (rtpbin);
  gst_bin_add (GST_BIN (webrtc), rtpbin);
  peercam_congestion_attach_viewer (congestion, webrtc, 30);

  pipeline = gst_pipeline_new (NULL);
  src = gst_element_factory_make ("appsrc", NULL);
  g_object_set (src, "caps", caps, "format", GST_FORMAT_TIME, "is-live", TRUE,
                "do-timestamp", TRUE, NULL);
  jitterbuffer = gst_element_factory_make ("rtpjitterbuffer", NULL);
  g_object_set (jitterbuffer, "latency", 300, NULL);
  /* as rtpbin announces each jitter buffer it makes */
  g_signal_emit_by_name (rtpbin, "new-jitterbuffer", jitterbuffer, 0, SSRC);
  g_object_get (jitterbuffer, "do-retransmission", &do_retransmission, NULL);
  g_assert_true (do_retransmission);
  sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, jitterbuffer, sink, NULL);
  g_assert_true (gst_element_link_many (src, jitterbuffer, sink, NULL));
  src_pad = gst_element_get_static_pad (src, "src");
  gst_pad_add_probe (src_pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, request_probe, &r, NULL);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);

  for (guint frame = 0; frame < 30; frame++)
    {
      guint packets = frame % 10 == 5 ? 12 : 1;
      gint64 start = g_get_monotonic_time ();

      for (guint i = 0; i < packets; i++)
        {
          if (seq != lose)
            g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (src),
                                                      video_packet (seq, rtptime, i == packets - 1)),
                             ==, GST_FLOW_OK);
          seq++;
          if (packets > 1)
            g_usleep (11000);
        }
      rtptime += 3000;
      g_usleep (MAX (0, 33333 - (g_get_monotonic_time () - start)));
    }
  g_usleep (300000);  /* the last timers */
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  peercam_congestion_detach (congestion);
  g_mutex_clear (&r.lock);
  return r.requested;
}

/* The viewer asks for what is missing, not for what is merely slow: a
 * jitter buffer that schedules a request for the next sequence number from
 * the frame interval (rtpjitterbuffer's rtx-next-seqnum) asked a Chromium
 * sender for ~15 packets a second on a clean link, and at 500 kbit/s the
 * retransmissions of packets still in the bottleneck queue took 28 % of the
 * bytes sent (tools/bench network, c2p cells). */
static void
test_viewer_requests (void)
{
  g_autoptr(GArray) clean = viewer_requests (0);
  g_autoptr(GArray) lossy = NULL;

  for (guint i = 0; i < clean->len; i++)
    g_test_message ("requested %u on a clean stream", g_array_index (clean, guint, i));
  g_assert_cmpuint (clean->len, ==, 0);

  /* a packet in the middle of a large frame lost: asked for (again while
   * unanswered), and nothing else */
  lossy = viewer_requests (1010);
  g_assert_cmpuint (lossy->len, >=, 1);
  for (guint i = 0; i < lossy->len; i++)
    g_assert_cmpuint (g_array_index (lossy, guint, i), ==, 1010);
}

/* ---- the sender's keyframes ---- */

typedef struct {
  GArray *made;  /* gint64: when a force-key-unit event got past the encoder */
} Keyframes;

/* Behind the stand-in encoder (an identity passes upstream events on):
 * what reaches here is a keyframe the encoder would make. Main thread
 * only: every request in this test is sent from it. */
static GstPadProbeReturn
made_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Keyframes *k = user_data;
  gint64 now = g_get_monotonic_time ();

  if (gst_video_event_is_force_key_unit (GST_PAD_PROBE_INFO_EVENT (info)))
    g_array_append_val (k->made, now);
  return GST_PAD_PROBE_OK;
}

/* Runs the default main context (the controller's) until @n keyframes
 * were made or @timeout_us passed. */
static gboolean
wait_keyframes (Keyframes *k, guint n, gint64 timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;

  while (k->made->len < n && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return k->made->len >= n;
}

static gint64
made_gap_us (Keyframes *k, guint i)
{
  return g_array_index (k->made, gint64, i) - g_array_index (k->made, gint64, i - 1);
}

/* A controller on a sender's chain: raw frames into a stand-in encoder
 * (an identity, which also passes force-key-unit events on to the appsrc:
 * what gets there is a keyframe the encoder would make), and the packets
 * through the pacer webrtcbin's request-aux-sender gets from it. */
typedef struct {
  PeercamCongestion *congestion;
  GstElement        *webrtc;
  GstElement        *payloader;
  GstElement        *pipeline, *src, *encoder, *sink;
  GstElement        *rtp_pipeline, *rtp_src, *pacer, *rtp_sink;
  Keyframes          keyframes;
  guint              encoded;  /* atomic: raw frames that got past the encoder */
} Sender;

static GstPadProbeReturn
encoded_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Sender *sender = user_data;

  g_atomic_int_inc (&sender->encoded);
  return GST_PAD_PROBE_OK;
}

static void
sender_set_up (Sender *sender)
{
  const PeercamVideoFormat source = { 640, 480, 30 };
  g_autoptr(GstCaps) caps = rtp_caps ();
  g_autoptr(GstPad) made_pad = NULL, sink_pad = NULL;

  sender->congestion = peercam_congestion_new (g_main_context_default ());
  sender->webrtc = gst_element_factory_make ("webrtcbin", NULL);
  sender->payloader = gst_element_factory_make ("rtpvp8pay", NULL);
  g_assert_nonnull (sender->webrtc);
  g_assert_nonnull (sender->payloader);
  gst_object_ref_sink (sender->webrtc);
  gst_object_ref_sink (sender->payloader);
  sender->keyframes.made = g_array_new (FALSE, FALSE, sizeof (gint64));

  sender->pipeline = gst_pipeline_new (NULL);
  sender->src = gst_element_factory_make ("appsrc", NULL);
  g_object_set (sender->src, "is-live", TRUE, "format", GST_FORMAT_TIME, NULL);
  sender->encoder = gst_element_factory_make ("identity", NULL);
  sender->sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sender->sink, "async", FALSE, "sync", FALSE, NULL);
  gst_bin_add_many (GST_BIN (sender->pipeline), sender->src, sender->encoder, sender->sink, NULL);
  g_assert_true (gst_element_link_many (sender->src, sender->encoder, sender->sink, NULL));
  made_pad = gst_element_get_static_pad (sender->src, "src");
  gst_pad_add_probe (made_pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, made_probe, &sender->keyframes, NULL);
  sink_pad = gst_element_get_static_pad (sender->sink, "sink");
  gst_pad_add_probe (sink_pad, GST_PAD_PROBE_TYPE_BUFFER, encoded_probe, sender, NULL);
  g_assert_cmpint (gst_element_set_state (sender->pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  peercam_congestion_attach_sender (sender->congestion, sender->webrtc, NULL, sender->encoder,
                                    sender->payloader, NULL, &source);

  g_signal_emit_by_name (sender->webrtc, "request-aux-sender", NULL, &sender->pacer);
  g_assert_true (PEERCAM_IS_PACER_ELEMENT (sender->pacer));
  sender->rtp_pipeline = gst_pipeline_new (NULL);
  sender->rtp_src = gst_element_factory_make ("appsrc", NULL);
  g_object_set (sender->rtp_src, "caps", caps, "format", GST_FORMAT_TIME, "is-live", TRUE,
                "max-bytes", (guint64) 0, NULL);
  sender->rtp_sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sender->rtp_sink, "async", FALSE, "sync", FALSE, NULL);
  gst_bin_add_many (GST_BIN (sender->rtp_pipeline), sender->rtp_src, sender->pacer, sender->rtp_sink, NULL);
  g_assert_true (gst_element_link_many (sender->rtp_src, sender->pacer, sender->rtp_sink, NULL));
  g_assert_cmpint (gst_element_set_state (sender->rtp_pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
}

static void
sender_tear_down (Sender *sender)
{
  peercam_congestion_detach (sender->congestion);
  gst_element_set_state (sender->rtp_pipeline, GST_STATE_NULL);
  gst_object_unref (sender->rtp_pipeline);
  gst_element_set_state (sender->pipeline, GST_STATE_NULL);
  gst_object_unref (sender->pipeline);
  gst_object_unref (sender->payloader);
  gst_object_unref (sender->webrtc);
  g_object_unref (sender->congestion);
  g_array_unref (sender->keyframes.made);
}

/* A viewer's request, as its payloader sends it up the tee (the appsrc
 * behind the stand-in encoder does not handle it: no result to check). */
static void
viewer_asks (Sender *sender)
{
  g_autoptr(GstPad) pad = gst_element_get_static_pad (sender->sink, "sink");

  gst_pad_push_event (pad, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE, 0));
}

static PeercamCallStats
sender_stats (Sender *sender)
{
  PeercamCallStats stats = { 0 };

  peercam_congestion_fill_stats (sender->congestion, &stats);
  g_assert_true (stats.has_send);
  return stats;
}

/* One limit for every keyframe the encoder is asked for: the viewers'
 * requests (PLI/FIR, a payloader's gate) and the sender's own for a NACK
 * too old to repair. Requests within the interval (500 ms) make one
 * keyframe at once and one when it ends; the stats count requests, not
 * the sender's own keyframes nor the merged one sent later. */
static void
test_keyframes (void)
{
  Sender sender = { 0 };
  Keyframes *k = &sender.keyframes;
  g_autoptr(GstPad) nack_pad = NULL;
  GstStructure *nack;

  sender_set_up (&sender);
  /* three requests within 100 ms: one keyframe now, one at the interval's end */
  for (guint i = 0; i < 3; i++)
    {
      viewer_asks (&sender);
      g_usleep (40000);
    }
  g_assert_cmpuint (k->made->len, ==, 1);
  g_assert_true (wait_keyframes (k, 2, 2 * G_USEC_PER_SEC));
  g_assert_cmpint (made_gap_us (k, 1), >=, 490000);
  g_assert_cmpint (made_gap_us (k, 1), <, 900000);
  g_assert_false (wait_keyframes (k, 3, 700000));
  /* after the interval: another at once */
  viewer_asks (&sender);
  g_assert_cmpuint (k->made->len, ==, 3);
  g_assert_cmpint (sender_stats (&sender).keyframe_requests, ==, 4);

  /* The sender's own: its pacer refuses a NACK for a packet that left more
   * than 500 ms ago, and the next tick asks for a keyframe. */
  g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (sender.rtp_src), rtp_packet (300, 500)), ==, GST_FLOW_OK);
  g_usleep (PEERCAM_RTX_DEFAULT_MAX_AGE_US + 100000);
  nack = gst_structure_new ("GstRTPRetransmissionRequest",
                            "seqnum", G_TYPE_UINT, 300, "ssrc", G_TYPE_UINT, SSRC, NULL);
  nack_pad = gst_element_get_static_pad (sender.rtp_sink, "sink");
  g_assert_true (gst_pad_push_event (nack_pad, gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM, nack)));
  g_assert_cmpuint (peercam_pacer_element_get_stale_nacks (PEERCAM_PACER_ELEMENT (sender.pacer)), ==, 1);
  g_assert_true (wait_keyframes (k, 4, 2 * G_USEC_PER_SEC));
  g_assert_cmpint (made_gap_us (k, 3), >=, 490000);
  /* a viewer's request right after it is merged with it */
  viewer_asks (&sender);
  g_assert_cmpuint (k->made->len, ==, 4);
  g_assert_true (wait_keyframes (k, 5, 2 * G_USEC_PER_SEC));
  g_assert_cmpint (made_gap_us (k, 4), >=, 490000);
  g_assert_cmpint (sender_stats (&sender).keyframe_requests, ==, 5);
  sender_tear_down (&sender);
}

static gboolean
pacer_pushes_back (Sender *sender)
{
  return peercam_pacer_element_should_drop_frame (PEERCAM_PACER_ELEMENT (sender->pacer));
}

static void
push_raw_frames (Sender *sender, guint n)
{
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (sender->src), gst_buffer_new_allocate (NULL, 64, NULL)),
                     ==, GST_FLOW_OK);
}

/* The appsrc pushes on its own thread, frames in order: once @total have
 * been either encoded or dropped, the counts are final. */
static void
assert_raw_frames (Sender *sender, guint total, guint encoded, gint64 dropped)
{
  gint64 end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;

  while (g_atomic_int_get (&sender->encoded) + (guint) sender_stats (sender).frames_dropped < total)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (1000);
    }
  g_assert_cmpuint (g_atomic_int_get (&sender->encoded), ==, encoded);
  g_assert_cmpint (sender_stats (sender).frames_dropped, ==, dropped);
}

/* Raw frames are dropped in front of the encoder while the pacer's queue
 * is long (its pushback), counted in the stats, and pass again once it
 * has drained; a detached controller drops none. */
static void
test_pushback (void)
{
  Sender sender = { 0 };
  gint64 end = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;

  sender_set_up (&sender);
  push_raw_frames (&sender, 2);
  assert_raw_frames (&sender, 2, 2, 0);

  /* 72 KB at the start rate (600 kbit/s): ~1 s of queue */
  for (guint i = 0; i < 60; i++)
    g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (sender.rtp_src), rtp_packet (400 + i, 1188)), ==, GST_FLOW_OK);
  while (!pacer_pushes_back (&sender))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (1000);
    }
  push_raw_frames (&sender, 3);
  assert_raw_frames (&sender, 5, 2, 3);

  while (pacer_pushes_back (&sender))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (5000);
    }
  push_raw_frames (&sender, 2);
  assert_raw_frames (&sender, 7, 4, 3);

  /* detached while the queue is long again: the frames pass */
  for (guint i = 0; i < 60; i++)
    g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (sender.rtp_src), rtp_packet (500 + i, 1188)), ==, GST_FLOW_OK);
  while (!pacer_pushes_back (&sender))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end + 3 * G_USEC_PER_SEC);
      g_usleep (1000);
    }
  peercam_congestion_detach (sender.congestion);
  push_raw_frames (&sender, 1);
  end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (g_atomic_int_get (&sender.encoded) < 5)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (1000);
    }
  sender_tear_down (&sender);
}

/* ---- the answer to the viewer's RTT request ---- */

#define VIEWER_SSRC 0xa11ce

/* What a Chromium viewer sends for its RTT: an XR packet with one RRTR
 * block (RFC 3611). */
static GstBuffer *
viewer_rrtr (void)
{
  static const guint8 xr[] = {
    0x80, 207, 0, 4,                  /* XR, 5 words */
    0x00, 0x0a, 0x11, 0xce,           /* the viewer */
    4, 0, 0, 2,                       /* RRTR */
    0, 0, 0x03, 0xe8, 0x80, 0, 0, 0,  /* NTP 1000.5 s */
  };

  return gst_buffer_new_memdup (xr, sizeof xr);
}

/* The report rtpsession is about to send for @ssrc; TRUE if the
 * controller added its answer to it. */
static gboolean
report_answers (GObject *session, guint32 ssrc)
{
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket packet;
  GstBuffer *buffer = gst_rtcp_buffer_new (1400);
  gsize size;
  gboolean ret = FALSE;

  g_assert_true (gst_rtcp_buffer_map (buffer, GST_MAP_READWRITE, &rtcp));
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_SR, &packet));
  gst_rtcp_packet_sr_set_sender_info (&packet, ssrc, 0, 0, 0, 0);
  gst_rtcp_buffer_unmap (&rtcp);
  size = gst_buffer_get_size (buffer);
  g_signal_emit_by_name (session, "on-sending-rtcp", buffer, FALSE, &ret);
  ret = gst_buffer_get_size (buffer) > size;
  gst_buffer_unref (buffer);
  return ret;
}

static guint32
payloader_ssrc (GstElement *payloader)
{
  g_autoptr(GstPad) pad = gst_element_get_static_pad (payloader, "src");
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  guint ssrc = 0;

  g_assert_nonnull (caps);
  g_assert_true (gst_structure_get_uint (gst_caps_get_structure (caps, 0), "ssrc", &ssrc));
  return ssrc;
}

/* The answer goes with the media stream's report (Chromium counts the RTT
 * as that stream's), not the RTX stream's; the media stream's SSRC is the
 * payloader's, also once it picked another after a collision. */
static void
test_rtt_answer (void)
{
  g_autoptr(PeercamCongestion) congestion = peercam_congestion_new (g_main_context_default ());
  g_autoptr(GstElement) webrtc = gst_element_factory_make ("webrtcbin", NULL);
  g_autoptr(GstElement) rtpbin = NULL;
  g_autoptr(GstPad) rtp_sink = NULL, pay_src = NULL;
  g_autoptr(GObject) session = NULL;
  const PeercamVideoFormat source = { 320, 240, 30 };
  GstElement *pipeline, *encoder, *payloader;
  GstBuffer *rrtr;
  guint32 media, other;
  gint64 ticked, end;

  g_assert_nonnull (webrtc);
  pipeline = gst_parse_launch ("videotestsrc is-live=true ! video/x-raw,width=320,height=240 ! "
                               "vp8enc name=encoder deadline=1 ! rtpvp8pay name=payloader ! fakesink async=false",
                               NULL);
  g_assert_nonnull (pipeline);
  encoder = gst_bin_get_by_name (GST_BIN (pipeline), "encoder");
  payloader = gst_bin_get_by_name (GST_BIN (pipeline), "payloader");
  /* the RTP session webrtcbin makes for the first transceiver */
  rtpbin = gst_bin_get_by_name (GST_BIN (webrtc), "rtpbin");
  g_assert_nonnull (rtpbin);
  rtp_sink = gst_element_request_pad_simple (rtpbin, "recv_rtcp_sink_0");
  g_assert_nonnull (rtp_sink);
  g_signal_emit_by_name (rtpbin, "get-internal-session", 0, &session);
  g_assert_nonnull (session);

  peercam_congestion_attach_sender (congestion, webrtc, NULL, encoder, payloader, NULL, &source);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  /* the payloader's caps, and a tick (500 ms) that finds the session */
  pay_src = gst_element_get_static_pad (payloader, "src");
  ticked = g_get_monotonic_time () + 1100000;
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!gst_pad_has_current_caps (pay_src) || g_get_monotonic_time () < ticked)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
  media = payloader_ssrc (payloader);
  other = media + 1;

  rrtr = viewer_rrtr ();
  g_signal_emit_by_name (session, "on-receiving-rtcp", rrtr);
  gst_buffer_unref (rrtr);
  g_assert_false (report_answers (session, other));
  g_assert_true (report_answers (session, media));

  /* rtpsession saw another source with our SSRC: the payloader picks the
   * one suggested and says so in new caps */
  g_assert_true (gst_pad_send_event (pay_src, gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM,
                                                                    gst_structure_new ("GstRTPCollision",
                                                                                       "ssrc", G_TYPE_UINT, media,
                                                                                       "suggested-ssrc", G_TYPE_UINT, other,
                                                                                       NULL))));
  g_assert_cmphex (payloader_ssrc (payloader), ==, other);
  rrtr = viewer_rrtr ();
  g_signal_emit_by_name (session, "on-receiving-rtcp", rrtr);
  gst_buffer_unref (rrtr);
  g_assert_false (report_answers (session, media));
  g_assert_true (report_answers (session, other));

  peercam_congestion_detach (congestion);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_element_release_request_pad (rtpbin, rtp_sink);
  gst_object_unref (encoder);
  gst_object_unref (payloader);
  gst_object_unref (pipeline);
}

int
main (int argc, char *argv[])
{
  peercam_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) \
  g_test_add ("/congestion/pacer-element/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("pacing", test_pacing);
  ADD ("queue-bound", test_queue_bound);
  ADD ("pacing-light", test_pacing_light);
  ADD ("feedback", test_feedback);
  ADD ("nack-policy", test_nack_policy);
  ADD ("pending", test_pending);
  ADD ("stop-with-queue", test_stop_with_queue);
  ADD ("probe", test_probe);
  g_test_add_func ("/congestion/accept-twcc", test_accept_twcc);
  g_test_add_func ("/congestion/accept-abs-send-time", test_accept_abs_send_time);
  g_test_add_func ("/congestion/viewer-requests", test_viewer_requests);
  g_test_add_func ("/congestion/keyframes", test_keyframes);
  g_test_add_func ("/congestion/pushback", test_pushback);
  g_test_add_func ("/congestion/rtt-answer", test_rtt_answer);
  return g_test_run ();
}
