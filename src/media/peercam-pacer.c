/* peercam-pacer.c — pacing, retransmission and keyframe policy (see the header)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-pacer.h"

/* ---- pacer ----------------------------------------------------------------- */

typedef struct {
  gpointer packet;
  gsize    size;
  gint64   queued_us;
} Item;

struct _PeercamPacer {
  PeercamPacerConfig config;
  GDestroyNotify     packet_free;
  GQueue             queues[PEERCAM_PACER_N_PRIORITIES];
  gsize              queued_bytes;
  guint              queued_packets;
  guint64            target_bps;
  double             budget_bytes;  /* may go below 0 by up to one packet */
  double             window_bytes;  /* the budget at the target itself (ditto) */
  gint64             last_us;       /* -1: never refilled */
  gint64             burst_us;
  gint64             budget_us;     /* <= 0: none */

  /* the probe cluster in progress (probing) and the last one that ended */
  gboolean           probing;
  PeercamPacerCluster cluster;
  guint64            cluster_bps;
  gsize              cluster_target;
  guint              cluster_min_packets;
  gint64             cluster_deadline_us;
  gboolean           padding_asked;
  gboolean           have_ended;
  PeercamPacerCluster ended;
  guint64            cluster_bytes;
};

PeercamPacer *
peercam_pacer_new (const PeercamPacerConfig *config,
                   GDestroyNotify            packet_free)
{
  PeercamPacer *self = g_new0 (PeercamPacer, 1);

  if (config)
    self->config = *config;
  if (self->config.pacing_factor <= 0)
    self->config.pacing_factor = PEERCAM_PACER_DEFAULT_FACTOR;
  if (self->config.burst_us <= 0)
    self->config.burst_us = PEERCAM_PACER_DEFAULT_BURST_US;
  if (self->config.max_queue_us <= 0)
    self->config.max_queue_us = PEERCAM_PACER_DEFAULT_MAX_QUEUE_US;
  if (self->config.budget_us == 0)
    self->config.budget_us = PEERCAM_PACER_DEFAULT_BUDGET_US;
  if (self->config.pushback_us <= 0)
    self->config.pushback_us = PEERCAM_PACER_DEFAULT_PUSHBACK_US;
  self->packet_free = packet_free;
  self->burst_us = self->config.burst_us;
  self->budget_us = self->config.budget_us;
  for (guint i = 0; i < PEERCAM_PACER_N_PRIORITIES; i++)
    g_queue_init (&self->queues[i]);
  self->target_bps = PEERCAM_PACER_DEFAULT_TARGET_BPS;
  self->last_us = -1;
  return self;
}

void
peercam_pacer_clear (PeercamPacer *self)
{
  for (guint i = 0; i < PEERCAM_PACER_N_PRIORITIES; i++)
    {
      Item *item;
      while ((item = g_queue_pop_head (&self->queues[i])))
        {
          if (self->packet_free)
            self->packet_free (item->packet);
          g_free (item);
        }
    }
  self->queued_bytes = 0;
  self->queued_packets = 0;
}

void
peercam_pacer_free (PeercamPacer *self)
{
  if (!self)
    return;
  peercam_pacer_clear (self);
  g_free (self);
}

void
peercam_pacer_set_target_bitrate (PeercamPacer *self,
                                  guint64       bps)
{
  self->target_bps = MAX (bps, 1000);
}

void
peercam_pacer_set_burst_us (PeercamPacer *self,
                            gint64        burst_us)
{
  self->burst_us = burst_us > 0 ? burst_us : self->config.burst_us;
}

void
peercam_pacer_set_budget_us (PeercamPacer *self,
                             gint64        budget_us)
{
  gboolean had = self->budget_us > 0;

  self->budget_us = budget_us == 0 ? self->config.budget_us : budget_us;
  /* a budget that starts now starts full */
  if (!had && self->budget_us > 0)
    self->window_bytes = self->target_bps * (double) self->budget_us / 8e6;
}

guint64
peercam_pacer_get_pacing_rate (PeercamPacer *self)
{
  return (guint64) (self->target_bps * self->config.pacing_factor);
}

static double
burst_bytes (PeercamPacer *self)
{
  return peercam_pacer_get_pacing_rate (self) * (double) self->burst_us / 8e6;
}

gint64
peercam_pacer_get_queue_delay_us (PeercamPacer *self,
                                  gint64        now_us)
{
  gint64 oldest = G_MAXINT64;

  for (guint i = 0; i < PEERCAM_PACER_N_PRIORITIES; i++)
    {
      Item *head = g_queue_peek_head (&self->queues[i]);
      if (head)
        oldest = MIN (oldest, head->queued_us);
    }
  return oldest == G_MAXINT64 ? 0 : MAX (0, now_us - oldest);
}

/* The slowest rate at which every queued packet leaves before it has waited
 * max_queue_us (0 when empty): each packet's deadline against the bytes
 * that leave before it, in the order pop() takes them. Counting the whole
 * queue against the oldest packet's deadline would drain faster than the
 * budget long before any packet is late. */
static double
drain_rate (PeercamPacer *self,
            gint64        now_us)
{
  double need = 0;
  gsize ahead = 0;

  if (self->queued_bytes == 0)
    return 0;
  for (guint i = 0; i < PEERCAM_PACER_N_PRIORITIES; i++)
    for (GList *l = self->queues[i].head; l; l = l->next)
      {
        Item *item = l->data;
        gint64 left = item->queued_us + self->config.max_queue_us - now_us;

        ahead += item->size;
        need = MAX (need, ahead * 8e6 / MAX (left, 1000));
      }
  return need;
}

/* The pacing rate, or faster when the queue would otherwise outgrow its
 * bound. */
static double
effective_rate (PeercamPacer *self,
                gint64        now_us)
{
  /* A cluster goes at its own rate, above or below the pacing rate: its
   * send rate is what the estimator compares the delivered rate with. */
  double rate = self->probing ? (double) self->cluster_bps : (double) peercam_pacer_get_pacing_rate (self);

  return MAX (rate, drain_rate (self, now_us));
}

/* The shared budget's rate: the target, or faster for the queue bound. */
static double
window_rate (PeercamPacer *self,
             gint64        now_us)
{
  return MAX ((double) self->target_bps, drain_rate (self, now_us));
}

static double
window_capacity (PeercamPacer *self)
{
  return self->target_bps * (double) MAX (self->budget_us, 0) / 8e6;
}

static gboolean
has_window (PeercamPacer *self)
{
  return self->budget_us > 0;
}

static void
end_cluster (PeercamPacer *self,
             gboolean      complete)
{
  self->probing = FALSE;
  self->cluster.complete = complete && self->cluster.packets > 0;
  self->ended = self->cluster;
  self->have_ended = TRUE;
  /* no debt and no savings from the cluster's rate */
  self->budget_bytes = MIN (self->budget_bytes, 0.0);
}

static void
check_cluster_timeout (PeercamPacer *self,
                       gint64        now_us)
{
  if (self->probing && now_us > self->cluster_deadline_us)
    end_cluster (self, FALSE);
}

static void
refill (PeercamPacer *self,
        gint64        now_us)
{
  gint64 dt;

  if (self->last_us < 0)
    {
      self->last_us = now_us;
      self->budget_bytes = burst_bytes (self);
      self->window_bytes = window_capacity (self);
      return;
    }
  dt = MAX (0, now_us - self->last_us);
  self->budget_bytes += effective_rate (self, now_us) * dt / 8e6;
  self->window_bytes = MIN (self->window_bytes + window_rate (self, now_us) * dt / 8e6,
                            window_capacity (self));
  /* An idle pacer saves up no more than one burst; a cluster no more than
   * its next packet (its spacing is the measurement). */
  self->budget_bytes = MIN (self->budget_bytes, self->probing ? 1.0 : MAX (burst_bytes (self), 0.0));
  self->last_us = MAX (self->last_us, now_us);
}

void
peercam_pacer_push (PeercamPacer         *self,
                    gpointer              packet,
                    gsize                 size,
                    PeercamPacerPriority  priority,
                    gint64                now_us)
{
  Item *item;

  g_return_if_fail (packet != NULL);
  g_return_if_fail (priority < PEERCAM_PACER_N_PRIORITIES);

  /* Bring the budget up to date at the rate that held while the queue was
   * as it was. */
  check_cluster_timeout (self, now_us);
  refill (self, now_us);
  item = g_new (Item, 1);
  item->packet = packet;
  item->size = size;
  item->queued_us = now_us;
  g_queue_push_tail (&self->queues[priority], item);
  self->queued_bytes += size;
  self->queued_packets++;
}

gpointer
peercam_pacer_pop (PeercamPacer *self,
                   gint64        now_us,
                   gsize        *size)
{
  gpointer packet;
  Item *item = NULL;

  check_cluster_timeout (self, now_us);
  refill (self, now_us);
  if (self->queued_packets == 0 || self->budget_bytes <= 0)
    return NULL;
  /* A cluster is a measurement at its own rate; the rest shares the
   * target's budget. */
  if (!self->probing && has_window (self) && self->window_bytes <= 0)
    return NULL;
  for (guint i = 0; i < PEERCAM_PACER_N_PRIORITIES && !item; i++)
    item = g_queue_pop_head (&self->queues[i]);
  g_assert (item != NULL);

  self->budget_bytes -= item->size;
  if (!self->probing)
    self->window_bytes -= item->size;
  self->queued_bytes -= item->size;
  self->queued_packets--;
  if (self->probing)
    {
      if (self->cluster.packets == 0)
        self->cluster.first_us = now_us;
      self->cluster.last_us = now_us;
      self->cluster.packets++;
      self->cluster.bytes += item->size;
      self->cluster_bytes += item->size;
      if (self->cluster.bytes >= self->cluster_target && self->cluster.packets >= self->cluster_min_packets)
        end_cluster (self, TRUE);
    }
  packet = item->packet;
  if (size)
    *size = item->size;
  g_free (item);
  return packet;
}

gint64
peercam_pacer_next_send_us (PeercamPacer *self,
                            gint64        now_us)
{
  gint64 at = now_us;

  check_cluster_timeout (self, now_us);
  if (self->queued_packets == 0)
    return -1;
  refill (self, now_us);
  /* The budgets are up to date as of last_us (never before now_us). */
  if (self->budget_bytes <= 0)
    at = MAX (at, self->last_us + (gint64) (-self->budget_bytes * 8e6 / effective_rate (self, self->last_us)) + 1);
  if (!self->probing && has_window (self) && self->window_bytes <= 0)
    at = MAX (at, self->last_us + (gint64) (-self->window_bytes * 8e6 / window_rate (self, self->last_us)) + 1);
  return at;
}

void
peercam_pacer_start_cluster (PeercamPacer *self,
                             guint         id,
                             guint64       bps,
                             gsize         bytes,
                             guint         min_packets,
                             gint64        timeout_us,
                             gint64        now_us)
{
  if (self->probing)
    end_cluster (self, FALSE);
  refill (self, now_us);
  self->probing = TRUE;
  self->cluster = (PeercamPacerCluster) { .id = id };
  self->cluster_bps = MAX (bps, 1000);
  self->cluster_target = bytes;
  self->cluster_min_packets = min_packets;
  self->cluster_deadline_us = now_us + MAX (timeout_us, 0);
  self->padding_asked = FALSE;
  /* The first packet leaves at once; a saved burst must not shorten the
   * cluster's spacing. */
  self->budget_bytes = 1.0;
}

gboolean
peercam_pacer_is_probing (PeercamPacer *self)
{
  return self->probing;
}

gboolean
peercam_pacer_take_padding_request (PeercamPacer *self,
                                    gsize        *bytes,
                                    guint        *packets)
{
  gsize have;
  guint have_packets;

  if (!self->probing || self->padding_asked)
    return FALSE;
  self->padding_asked = TRUE;
  have = self->cluster.bytes + self->queued_bytes;
  have_packets = self->cluster.packets + self->queued_packets;
  *bytes = have < self->cluster_target ? self->cluster_target - have : 0;
  *packets = have_packets < self->cluster_min_packets ? self->cluster_min_packets - have_packets : 0;
  return *bytes > 0 || *packets > 0;
}

gboolean
peercam_pacer_take_cluster (PeercamPacer        *self,
                            PeercamPacerCluster *cluster)
{
  if (!self->have_ended)
    return FALSE;
  self->have_ended = FALSE;
  *cluster = self->ended;
  return TRUE;
}

guint64
peercam_pacer_get_cluster_bytes (PeercamPacer *self)
{
  return self->cluster_bytes;
}

gint64
peercam_pacer_get_expected_queue_us (PeercamPacer *self)
{
  double rate = has_window (self) ? (double) self->target_bps : (double) peercam_pacer_get_pacing_rate (self);

  return (gint64) (self->queued_bytes * 8e6 / rate);
}

gboolean
peercam_pacer_should_drop_frame (PeercamPacer *self)
{
  return peercam_pacer_get_expected_queue_us (self) > self->config.pushback_us;
}

guint
peercam_pacer_get_queued_packets (PeercamPacer *self)
{
  return self->queued_packets;
}

gsize
peercam_pacer_get_queued_bytes (PeercamPacer *self)
{
  return self->queued_bytes;
}

/* ---- retransmission policy ------------------------------------------------- */

#define RTX_HISTORY      4096          /* packets remembered (power of 2) */
#define RTX_MIN_SPACING  10000         /* us between retransmissions of one packet */
/* The budget saves up this much. Saved over 250 ms, 25 % of the estimate
 * could not repair one keyframe's losses under 5 % random loss (22 of 25
 * refusals in a 14 s call, each a lost frame and a keyframe wait); half
 * the estimate as the share let repairs and media together flood a capped
 * link (congestion-netns). The share stays, the saving grows to 1 s. */
#define RTX_BURST_S      1.0

typedef struct {
  gint64  seq;          /* unwrapped; -1: empty */
  gint64  sent_us;      /* -1: queued, not sent yet */
  gint64  last_rtx_us;  /* -1: never retransmitted */
  guint32 size;
  guint   count;
} RtxEntry;

struct _PeercamRtxPolicy {
  PeercamRtxConfig config;
  RtxEntry        *history;
  gint64           last_seq;
  guint64          target_bps;
  gint64           rtt_us;
  double           tokens;
  gint64           tokens_us;
  guint64          retransmissions;
  guint64          retransmitted_bytes;
  guint64          refused;
};

PeercamRtxPolicy *
peercam_rtx_policy_new (const PeercamRtxConfig *config)
{
  PeercamRtxPolicy *self = g_new0 (PeercamRtxPolicy, 1);

  if (config)
    self->config = *config;
  if (self->config.max_retransmissions == 0)
    self->config.max_retransmissions = PEERCAM_RTX_DEFAULT_MAX_RETRANSMISSIONS;
  if (self->config.max_age_us <= 0)
    self->config.max_age_us = PEERCAM_RTX_DEFAULT_MAX_AGE_US;
  if (self->config.max_share <= 0)
    self->config.max_share = PEERCAM_RTX_DEFAULT_MAX_SHARE;
  self->history = g_new (RtxEntry, RTX_HISTORY);
  for (guint i = 0; i < RTX_HISTORY; i++)
    self->history[i].seq = -1;
  self->last_seq = -1;
  self->target_bps = PEERCAM_PACER_DEFAULT_TARGET_BPS;
  self->rtt_us = -1;
  self->tokens = -1;  /* full at first use */
  self->tokens_us = -1;
  return self;
}

void
peercam_rtx_policy_free (PeercamRtxPolicy *self)
{
  if (!self)
    return;
  g_free (self->history);
  g_free (self);
}

void
peercam_rtx_policy_set_target_bitrate (PeercamRtxPolicy *self,
                                       guint64           bps)
{
  self->target_bps = bps;
}

void
peercam_rtx_policy_set_rtt (PeercamRtxPolicy *self,
                            gint64            rtt_us)
{
  self->rtt_us = rtt_us;
}

void
peercam_rtx_policy_set_max_age (PeercamRtxPolicy *self,
                                gint64            max_age_us)
{
  if (max_age_us > 0)
    self->config.max_age_us = max_age_us;
}

static gint64
rtx_unwrap (PeercamRtxPolicy *self,
            guint16           seq)
{
  if (self->last_seq < 0)
    return seq;
  return self->last_seq + (gint16) (seq - (guint16) self->last_seq);
}

static RtxEntry *
rtx_remember (PeercamRtxPolicy *self,
              guint16           seq,
              gsize             size)
{
  gint64 u = rtx_unwrap (self, seq);
  RtxEntry *e = &self->history[u & (RTX_HISTORY - 1)];

  if (e->seq != u)
    *e = (RtxEntry) { u, -1, -1, (guint32) MIN (size, G_MAXUINT32), 0 };
  if (u > self->last_seq)
    self->last_seq = u;
  return e;
}

void
peercam_rtx_policy_on_queued (PeercamRtxPolicy *self,
                              guint16           seq,
                              gsize             size)
{
  rtx_remember (self, seq, size)->sent_us = -1;
}

void
peercam_rtx_policy_on_sent (PeercamRtxPolicy *self,
                            guint16           seq,
                            gsize             size,
                            gint64            now_us)
{
  RtxEntry *e = rtx_remember (self, seq, size);

  /* the first time it left; a retransmission is counted in on_nack */
  if (e->sent_us < 0)
    e->sent_us = now_us;
}

static double
rtx_rate_bytes (PeercamRtxPolicy *self)
{
  return self->config.max_share * self->target_bps / 8.0;
}

PeercamRtxVerdict
peercam_rtx_policy_on_nack (PeercamRtxPolicy *self,
                            guint16           seq,
                            gint64            now_us)
{
  gint64 u = rtx_unwrap (self, seq);
  RtxEntry *e = &self->history[u & (RTX_HISTORY - 1)];
  double capacity = rtx_rate_bytes (self) * RTX_BURST_S;
  gint64 spacing = MAX (self->rtt_us, RTX_MIN_SPACING);
  PeercamRtxVerdict verdict;

  if (self->tokens < 0)
    self->tokens = capacity;
  else if (now_us > self->tokens_us)
    self->tokens = MIN (capacity, self->tokens + rtx_rate_bytes (self) * (now_us - self->tokens_us) / 1e6);
  self->tokens_us = MAX (self->tokens_us, now_us);

  if (self->last_seq < 0 || e->seq != u)
    verdict = PEERCAM_RTX_UNKNOWN;
  /* A receiver that expects packets by their timing (rtpjitterbuffer's
   * rtx-next-seqnum) asks for ones a paced frame has not sent yet: half
   * the NACKs across a 1 Mbit/s cap were for packets still queued here,
   * and answering them put each packet on the link twice
   * (test-congestion-netns). libwebrtc's packet history knows a packet
   * only once it has left, too. */
  else if (e->sent_us < 0)
    verdict = PEERCAM_RTX_PENDING;
  else if (now_us - e->sent_us > self->config.max_age_us)
    verdict = PEERCAM_RTX_TOO_OLD;
  else if (e->count >= self->config.max_retransmissions)
    verdict = PEERCAM_RTX_TOO_MANY;
  else if (e->last_rtx_us >= 0 && now_us - e->last_rtx_us < spacing)
    verdict = PEERCAM_RTX_TOO_SOON;
  else if (self->tokens < e->size)
    verdict = PEERCAM_RTX_OVER_BUDGET;
  else
    verdict = PEERCAM_RTX_SEND;

  if (verdict != PEERCAM_RTX_SEND)
    {
      self->refused++;
      return verdict;
    }
  self->tokens -= e->size;
  e->count++;
  e->last_rtx_us = now_us;
  self->retransmissions++;
  self->retransmitted_bytes += e->size;
  return PEERCAM_RTX_SEND;
}

guint64
peercam_rtx_policy_get_retransmissions (PeercamRtxPolicy *self)
{
  return self->retransmissions;
}

guint64
peercam_rtx_policy_get_retransmitted_bytes (PeercamRtxPolicy *self)
{
  return self->retransmitted_bytes;
}

guint64
peercam_rtx_policy_get_refused (PeercamRtxPolicy *self)
{
  return self->refused;
}

/* ---- keyframe requests -------------------------------------------------- */

struct _PeercamKeyframeLimiter {
  gint64   min_interval_us;
  gint64   rtt_us;
  gint64   last_us;   /* -1: never */
  gboolean pending;
  guint64  forwarded;
  guint64  merged;
};

PeercamKeyframeLimiter *
peercam_keyframe_limiter_new (gint64 min_interval_us)
{
  PeercamKeyframeLimiter *self = g_new0 (PeercamKeyframeLimiter, 1);

  self->min_interval_us = min_interval_us > 0 ? min_interval_us : PEERCAM_KEYFRAME_DEFAULT_INTERVAL_US;
  self->rtt_us = -1;
  self->last_us = -1;
  return self;
}

void
peercam_keyframe_limiter_free (PeercamKeyframeLimiter *self)
{
  g_free (self);
}

void
peercam_keyframe_limiter_set_rtt (PeercamKeyframeLimiter *self,
                                  gint64                  rtt_us)
{
  self->rtt_us = rtt_us;
}

static gint64
keyframe_interval (PeercamKeyframeLimiter *self)
{
  return MAX (self->min_interval_us, 2 * self->rtt_us);
}

gboolean
peercam_keyframe_limiter_request (PeercamKeyframeLimiter *self,
                                  gint64                  now_us)
{
  if (self->last_us < 0 || now_us - self->last_us >= keyframe_interval (self))
    {
      self->last_us = now_us;
      self->pending = FALSE;
      self->forwarded++;
      return TRUE;
    }
  self->pending = TRUE;
  self->merged++;
  return FALSE;
}

gboolean
peercam_keyframe_limiter_poll (PeercamKeyframeLimiter *self,
                               gint64                  now_us)
{
  if (!self->pending || now_us - self->last_us < keyframe_interval (self))
    return FALSE;
  self->pending = FALSE;
  self->last_us = now_us;
  self->forwarded++;
  return TRUE;
}

gint64
peercam_keyframe_limiter_next_due_us (PeercamKeyframeLimiter *self)
{
  return self->pending ? self->last_us + keyframe_interval (self) : -1;
}

guint64
peercam_keyframe_limiter_get_forwarded (PeercamKeyframeLimiter *self)
{
  return self->forwarded;
}

guint64
peercam_keyframe_limiter_get_merged (PeercamKeyframeLimiter *self)
{
  return self->merged;
}
