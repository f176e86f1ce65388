/* peercam-pacer-element.c — the paced sender (see the header)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-pacer-element.h"

#include "peercam-pacer.h"

#include <gst/rtp/rtp.h>

/* Padding retransmits packets the viewer has (or soon will have) already;
 * the last 64 media packets cover a cluster at any rate we probe at. */
#define RECENT_SIZE           64
/* A cluster gets this long beyond its duration for its padding to arrive. */
#define PROBE_TIMEOUT_EXTRA_US 100000

typedef struct {
  guint32 ssrc;
  guint16 seq;
  guint   size;
} Recent;

struct _PeercamPacerElement
{
  GstElement                parent_instance;

  GstPad                   *sinkpad;
  GstPad                   *srcpad;

  GMutex                    lock;
  GCond                     cond;
  PeercamPacer             *pacer;      /* items: GstBuffer (transfer full) */
  GHashTable               *rtx;        /* SSRC → PeercamRtxPolicy */
  guint64                   target_bps;
  gint64                    rtt_us;
  gboolean                  flushing;
  GstFlowReturn             last_flow;
  int                       media_pt;   /* from the caps; -1: unknown */
  guint64                   sent_bytes;
  guint64                   rtx_bytes;
  guint64                   retransmissions;
  guint64                   refused_nacks;
  guint64                   stale_nacks;

  PeercamPacerFeedbackFunc  feedback;
  gpointer                  feedback_data;
  GDestroyNotify            feedback_destroy;

  PeercamPacerProbeFunc     probe;
  gpointer                  probe_data;
  GDestroyNotify            probe_destroy;
  /* the media packets sent last: what padding retransmits */
  Recent                    recent[RECENT_SIZE];
  guint                     recent_len, recent_head;
};

G_DEFINE_FINAL_TYPE (PeercamPacerElement, peercam_pacer_element, GST_TYPE_ELEMENT)

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("application/x-rtp"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("application/x-rtp"));

/* ---- the sink side: queue --------------------------------------------------- */

static PeercamRtxPolicy *
rtx_policy_for (PeercamPacerElement *self,
                guint32              ssrc)
{
  PeercamRtxPolicy *policy = g_hash_table_lookup (self->rtx, GUINT_TO_POINTER (ssrc));

  if (policy == NULL)
    {
      policy = peercam_rtx_policy_new (NULL);
      peercam_rtx_policy_set_target_bitrate (policy, self->target_bps);
      peercam_rtx_policy_set_rtt (policy, self->rtt_us);
      g_hash_table_insert (self->rtx, GUINT_TO_POINTER (ssrc), policy);
    }
  return policy;
}

/* Called with the lock held. */
static void
queue_buffer (PeercamPacerElement *self,
              GstBuffer           *buffer,
              gint64               now)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  PeercamPacerPriority priority = PEERCAM_PACER_VIDEO;
  gsize size = gst_buffer_get_size (buffer);

  if (gst_rtp_buffer_map (buffer, GST_MAP_READ, &rtp))
    {
      int pt = gst_rtp_buffer_get_payload_type (&rtp);

      /* webrtcbin's caps here name no payload type (only the extensions):
       * the first packet is the stream's, a retransmission needs a NACK of
       * a packet sent before. */
      if (self->media_pt < 0)
        {
          self->media_pt = pt;
          GST_DEBUG_OBJECT (self, "media payload type %d (the first packet's)", pt);
        }
      /* Another payload type than the stream's is RFC 4588 RTX (or audio
       * bundled with it): small and urgent either way. */
      if (pt != self->media_pt)
        {
          priority = PEERCAM_PACER_RETRANSMISSION;
          /* answers to NACKs; a probe's padding is counted as the probe's */
          if (!peercam_pacer_is_probing (self->pacer))
            self->rtx_bytes += size;
        }
      else
        peercam_rtx_policy_on_queued (rtx_policy_for (self, gst_rtp_buffer_get_ssrc (&rtp)),
                                      gst_rtp_buffer_get_seq (&rtp), size);
      gst_rtp_buffer_unmap (&rtp);
    }
  peercam_pacer_push (self->pacer, buffer, size, priority, now);
}

static GstFlowReturn
sink_chain (GstPad    *pad,
            GstObject *parent,
            GstBuffer *buffer)
{
  PeercamPacerElement *self = PEERCAM_PACER_ELEMENT (parent);
  GstFlowReturn ret;

  g_mutex_lock (&self->lock);
  if (self->flushing)
    {
      g_mutex_unlock (&self->lock);
      gst_buffer_unref (buffer);
      return GST_FLOW_FLUSHING;
    }
  queue_buffer (self, buffer, g_get_monotonic_time ());
  ret = self->last_flow;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
  /* A peer that is not linked yet must not stop the stream. */
  return ret == GST_FLOW_NOT_LINKED ? GST_FLOW_OK : ret;
}

static GstFlowReturn
sink_chain_list (GstPad        *pad,
                 GstObject     *parent,
                 GstBufferList *list)
{
  PeercamPacerElement *self = PEERCAM_PACER_ELEMENT (parent);
  gint64 now = g_get_monotonic_time ();
  GstFlowReturn ret;

  g_mutex_lock (&self->lock);
  if (self->flushing)
    {
      g_mutex_unlock (&self->lock);
      gst_buffer_list_unref (list);
      return GST_FLOW_FLUSHING;
    }
  for (guint i = 0; i < gst_buffer_list_length (list); i++)
    queue_buffer (self, gst_buffer_ref (gst_buffer_list_get (list, i)), now);
  ret = self->last_flow;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
  gst_buffer_list_unref (list);
  return ret == GST_FLOW_NOT_LINKED ? GST_FLOW_OK : ret;
}

static gboolean
sink_event (GstPad    *pad,
            GstObject *parent,
            GstEvent  *event)
{
  PeercamPacerElement *self = PEERCAM_PACER_ELEMENT (parent);

  switch (GST_EVENT_TYPE (event))
    {
    case GST_EVENT_CAPS:
      {
        GstCaps *caps;
        int pt;

        gst_event_parse_caps (event, &caps);
        if (gst_structure_get_int (gst_caps_get_structure (caps, 0), "payload", &pt))
          {
            g_mutex_lock (&self->lock);
            self->media_pt = pt;
            g_mutex_unlock (&self->lock);
          }
        break;
      }
    case GST_EVENT_FLUSH_START:
      g_mutex_lock (&self->lock);
      self->flushing = TRUE;
      g_cond_signal (&self->cond);
      g_mutex_unlock (&self->lock);
      gst_pad_push_event (self->srcpad, event);
      gst_pad_pause_task (self->srcpad);
      return TRUE;
    case GST_EVENT_FLUSH_STOP:
      {
        gboolean ret = gst_pad_push_event (self->srcpad, event);

        g_mutex_lock (&self->lock);
        peercam_pacer_clear (self->pacer);
        self->flushing = FALSE;
        self->last_flow = GST_FLOW_OK;
        g_mutex_unlock (&self->lock);
        return ret;
      }
    default:
      break;
    }
  /* Serialized events (segment, EOS) go on at once: they come at the start
   * and the end of a stream, when the queue holds at most a few ms. */
  return gst_pad_event_default (pad, parent, event);
}

/* ---- the source side: the pacing thread --------------------------------- */

/* Called with the lock held. */
static void
remember_sent (PeercamPacerElement *self,
               GstBuffer           *buffer,
               gint64               now)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  Recent *r;

  if (self->media_pt < 0 || !gst_rtp_buffer_map (buffer, GST_MAP_READ, &rtp))
    return;
  if (gst_rtp_buffer_get_payload_type (&rtp) == self->media_pt)
    {
      r = &self->recent[(self->recent_head + self->recent_len) % RECENT_SIZE];
      if (self->recent_len < RECENT_SIZE)
        self->recent_len++;
      else
        self->recent_head = (self->recent_head + 1) % RECENT_SIZE;
      r->ssrc = gst_rtp_buffer_get_ssrc (&rtp);
      r->seq = gst_rtp_buffer_get_seq (&rtp);
      r->size = gst_rtp_buffer_get_packet_len (&rtp);
      peercam_rtx_policy_on_sent (rtx_policy_for (self, r->ssrc), r->seq, gst_buffer_get_size (buffer), now);
    }
  gst_rtp_buffer_unmap (&rtp);
}

static void
src_loop (gpointer user_data)
{
  PeercamPacerElement *self = user_data;
  GstBuffer *buffer = NULL;
  GstFlowReturn ret;
  PeercamPacerCluster cluster;
  gboolean have_cluster;
  PeercamPacerProbeFunc probe;
  gpointer probe_data;

  g_mutex_lock (&self->lock);
  while (!self->flushing && buffer == NULL)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 next = peercam_pacer_next_send_us (self->pacer, now);

      if (next < 0)
        g_cond_wait (&self->cond, &self->lock);
      else if (next > now)
        g_cond_wait_until (&self->cond, &self->lock, next);
      else
        buffer = peercam_pacer_pop (self->pacer, now, NULL);
    }
  if (buffer == NULL)
    {
      g_mutex_unlock (&self->lock);
      gst_pad_pause_task (self->srcpad);
      return;
    }
  self->sent_bytes += gst_buffer_get_size (buffer);
  remember_sent (self, buffer, g_get_monotonic_time ());
  have_cluster = peercam_pacer_take_cluster (self->pacer, &cluster);
  probe = self->probe;
  probe_data = self->probe_data;
  g_mutex_unlock (&self->lock);

  ret = gst_pad_push (self->srcpad, buffer);
  /* after the push: the last packet's send time is in the session now */
  if (have_cluster && probe)
    probe (cluster.id, cluster.first_us, cluster.last_us, cluster.complete ? cluster.packets : 0, probe_data);

  g_mutex_lock (&self->lock);
  self->last_flow = ret;
  g_mutex_unlock (&self->lock);
  if (ret == GST_FLOW_FLUSHING)
    gst_pad_pause_task (self->srcpad);
}

static gboolean
src_activate_mode (GstPad         *pad,
                   GstObject      *parent,
                   GstPadMode      mode,
                   gboolean        active)
{
  PeercamPacerElement *self = PEERCAM_PACER_ELEMENT (parent);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  g_mutex_lock (&self->lock);
  self->flushing = !active;
  self->last_flow = GST_FLOW_OK;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
  if (active)
    return gst_pad_start_task (pad, src_loop, self, NULL);
  if (!gst_pad_stop_task (pad))
    return FALSE;
  g_mutex_lock (&self->lock);
  peercam_pacer_clear (self->pacer);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
src_event (GstPad    *pad,
           GstObject *parent,
           GstEvent  *event)
{
  PeercamPacerElement *self = PEERCAM_PACER_ELEMENT (parent);
  const GstStructure *s = gst_event_get_structure (event);

  if (GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_UPSTREAM && s != NULL)
    {
      if (gst_structure_has_name (s, "RTPTWCCPackets"))
        {
          PeercamPacerFeedbackFunc func;
          gpointer data;

          g_mutex_lock (&self->lock);
          func = self->feedback;
          data = self->feedback_data;
          g_mutex_unlock (&self->lock);
          if (func)
            func (s, data);
          gst_event_unref (event);
          return TRUE;
        }
      if (gst_structure_has_name (s, "GstRTPRetransmissionRequest"))
        {
          guint seqnum = 0, ssrc = 0;
          PeercamRtxVerdict verdict = PEERCAM_RTX_SEND;

          if (gst_structure_get_uint (s, "seqnum", &seqnum) &&
              gst_structure_get_uint (s, "ssrc", &ssrc))
            {
              PeercamRtxPolicy *policy;

              g_mutex_lock (&self->lock);
              policy = g_hash_table_lookup (self->rtx, GUINT_TO_POINTER (ssrc));
              if (policy)
                verdict = peercam_rtx_policy_on_nack (policy, (guint16) seqnum, g_get_monotonic_time ());
              if (verdict == PEERCAM_RTX_SEND)
                self->retransmissions++;
              else
                self->refused_nacks++;
              if (verdict == PEERCAM_RTX_TOO_OLD)
                self->stale_nacks++;
              g_mutex_unlock (&self->lock);
            }
          if (verdict != PEERCAM_RTX_SEND)
            {
              GST_LOG_OBJECT (self, "NACK for %u refused (%d)", seqnum, verdict);
              gst_event_unref (event);
              return TRUE;
            }
        }
    }
  return gst_pad_event_default (pad, parent, event);
}

/* ---- GObject ------------------------------------------------------------ */

static void
peercam_pacer_element_finalize (GObject *object)
{
  PeercamPacerElement *self = PEERCAM_PACER_ELEMENT (object);

  if (self->feedback_destroy)
    self->feedback_destroy (self->feedback_data);
  if (self->probe_destroy)
    self->probe_destroy (self->probe_data);
  peercam_pacer_free (self->pacer);
  g_hash_table_unref (self->rtx);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (peercam_pacer_element_parent_class)->finalize (object);
}

static void
peercam_pacer_element_class_init (PeercamPacerElementClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  object_class->finalize = peercam_pacer_element_finalize;
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Peercam pacer", "Network/RTP",
                                         "Paces RTP to the congestion controller's rate",
                                         "Peercam");
}

static void
peercam_pacer_element_init (PeercamPacerElement *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->pacer = peercam_pacer_new (NULL, (GDestroyNotify) gst_buffer_unref);
  self->rtx = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) peercam_rtx_policy_free);
  self->target_bps = PEERCAM_PACER_DEFAULT_TARGET_BPS;
  self->rtt_us = -1;
  self->media_pt = -1;
  self->flushing = TRUE;

  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad, sink_chain);
  gst_pad_set_chain_list_function (self->sinkpad, sink_chain_list);
  gst_pad_set_event_function (self->sinkpad, sink_event);
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_activatemode_function (self->srcpad, src_activate_mode);
  gst_pad_set_event_function (self->srcpad, src_event);
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  GST_PAD_SET_PROXY_ALLOCATION (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
}

GstElement *
peercam_pacer_element_new (void)
{
  return g_object_new (PEERCAM_TYPE_PACER_ELEMENT, NULL);
}

/* Replaces one of the callbacks (function, data, destroy) under the lock;
 * the old data is destroyed outside it. */
static void
swap_callback (PeercamPacerElement *self,
               gpointer            *func_slot,
               gpointer            *data_slot,
               GDestroyNotify      *destroy_slot,
               gpointer             func,
               gpointer             user_data,
               GDestroyNotify       destroy)
{
  GDestroyNotify old_destroy;
  gpointer old_data;

  g_mutex_lock (&self->lock);
  old_destroy = *destroy_slot;
  old_data = *data_slot;
  *func_slot = func;
  *data_slot = user_data;
  *destroy_slot = destroy;
  g_mutex_unlock (&self->lock);
  if (old_destroy)
    old_destroy (old_data);
}

void
peercam_pacer_element_set_feedback_func (PeercamPacerElement      *self,
                                         PeercamPacerFeedbackFunc  func,
                                         gpointer                  user_data,
                                         GDestroyNotify            destroy)
{
  g_return_if_fail (PEERCAM_IS_PACER_ELEMENT (self));
  swap_callback (self, (gpointer *) &self->feedback, &self->feedback_data, &self->feedback_destroy,
                 (gpointer) func, user_data, destroy);
}

void
peercam_pacer_element_set_probe_func (PeercamPacerElement   *self,
                                      PeercamPacerProbeFunc  func,
                                      gpointer               user_data,
                                      GDestroyNotify         destroy)
{
  g_return_if_fail (PEERCAM_IS_PACER_ELEMENT (self));
  swap_callback (self, (gpointer *) &self->probe, &self->probe_data, &self->probe_destroy,
                 (gpointer) func, user_data, destroy);
}

void
peercam_pacer_element_start_probe (PeercamPacerElement *self,
                                   guint                id,
                                   guint64              bps,
                                   gint64               duration_us,
                                   guint                min_packets)
{
  g_autoptr(GArray) requests = g_array_new (FALSE, FALSE, sizeof (Recent));
  gsize bytes = 0, asked = 0;
  guint packets = 0;

  g_return_if_fail (PEERCAM_IS_PACER_ELEMENT (self));
  g_mutex_lock (&self->lock);
  if (self->flushing)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  peercam_pacer_start_cluster (self->pacer, id, bps, (gsize) (bps * (double) duration_us / 8e6), min_packets,
                               duration_us + PROBE_TIMEOUT_EXTRA_US, g_get_monotonic_time ());
  /* The newest packets first, round again if the cluster needs more. */
  if (peercam_pacer_take_padding_request (self->pacer, &bytes, &packets) && self->recent_len > 0)
    for (guint i = 0; (asked < bytes || requests->len < packets) && i < 4 * RECENT_SIZE; i++)
      {
        Recent *r = &self->recent[(self->recent_head + self->recent_len - 1 - i % self->recent_len) % RECENT_SIZE];

        g_array_append_val (requests, *r);
        asked += r->size;
      }
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);

  GST_DEBUG_OBJECT (self, "probe %u at %" G_GUINT64_FORMAT " kbit/s: %u retransmissions as padding (%"
                    G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes; media pt %d, %u recent)", id, bps / 1000, requests->len, asked, bytes, self->media_pt, self->recent_len);
  /* As a NACK would ask: rtprtxsend answers from its history, and the RTX
   * packets come back through the sink pad as retransmissions. */
  for (guint i = 0; i < requests->len; i++)
    {
      Recent *r = &g_array_index (requests, Recent, i);

      gst_pad_push_event (self->sinkpad,
                          gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM,
                                                gst_structure_new ("GstRTPRetransmissionRequest",
                                                                   "seqnum", G_TYPE_UINT, (guint) r->seq,
                                                                   "ssrc", G_TYPE_UINT, (guint) r->ssrc,
                                                                   NULL)));
    }
}

void
peercam_pacer_element_set_target_bitrate (PeercamPacerElement *self,
                                          guint64              bps)
{
  GHashTableIter iter;
  gpointer policy;

  g_return_if_fail (PEERCAM_IS_PACER_ELEMENT (self));
  g_mutex_lock (&self->lock);
  self->target_bps = bps;
  peercam_pacer_set_target_bitrate (self->pacer, bps);
  g_hash_table_iter_init (&iter, self->rtx);
  while (g_hash_table_iter_next (&iter, NULL, &policy))
    peercam_rtx_policy_set_target_bitrate (policy, bps);
  /* A faster rate may make the head packet due earlier. */
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
peercam_pacer_element_set_burst_us (PeercamPacerElement *self,
                                    gint64               burst_us)
{
  g_return_if_fail (PEERCAM_IS_PACER_ELEMENT (self));
  g_mutex_lock (&self->lock);
  peercam_pacer_set_burst_us (self->pacer, burst_us);
  g_mutex_unlock (&self->lock);
}

void
peercam_pacer_element_set_budget_us (PeercamPacerElement *self,
                                     gint64               budget_us)
{
  g_return_if_fail (PEERCAM_IS_PACER_ELEMENT (self));
  g_mutex_lock (&self->lock);
  peercam_pacer_set_budget_us (self->pacer, budget_us);
  /* none any more may make the head packet due earlier */
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
peercam_pacer_element_set_rtt (PeercamPacerElement *self,
                               gint64               rtt_us)
{
  GHashTableIter iter;
  gpointer policy;

  g_return_if_fail (PEERCAM_IS_PACER_ELEMENT (self));
  g_mutex_lock (&self->lock);
  self->rtt_us = rtt_us;
  g_hash_table_iter_init (&iter, self->rtx);
  while (g_hash_table_iter_next (&iter, NULL, &policy))
    peercam_rtx_policy_set_rtt (policy, rtt_us);
  g_mutex_unlock (&self->lock);
}

#define LOCKED_GETTER(type, name, expr)                         \
  type                                                          \
  peercam_pacer_element_get_##name (PeercamPacerElement *self)  \
  {                                                             \
    type value;                                                 \
    g_return_val_if_fail (PEERCAM_IS_PACER_ELEMENT (self), 0);  \
    g_mutex_lock (&self->lock);                                 \
    value = (expr);                                             \
    g_mutex_unlock (&self->lock);                               \
    return value;                                               \
  }

LOCKED_GETTER (guint64, retransmissions, self->retransmissions)
LOCKED_GETTER (guint64, refused_nacks, self->refused_nacks)
LOCKED_GETTER (guint64, stale_nacks, self->stale_nacks)
LOCKED_GETTER (guint64, sent_bytes, self->sent_bytes)
LOCKED_GETTER (guint64, rtx_bytes, self->rtx_bytes)
LOCKED_GETTER (guint64, probe_bytes, peercam_pacer_get_cluster_bytes (self->pacer))
LOCKED_GETTER (gint64, queue_delay_us, peercam_pacer_get_queue_delay_us (self->pacer, g_get_monotonic_time ()))

gboolean
peercam_pacer_element_should_drop_frame (PeercamPacerElement *self)
{
  gboolean drop;

  g_return_val_if_fail (PEERCAM_IS_PACER_ELEMENT (self), FALSE);
  g_mutex_lock (&self->lock);
  drop = peercam_pacer_should_drop_frame (self->pacer);
  g_mutex_unlock (&self->lock);
  return drop;
}
