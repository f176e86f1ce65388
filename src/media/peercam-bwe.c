/* peercam-bwe.c — sender-side bandwidth estimation (see the header)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The constants are the ones draft-ietf-rmcat-gcc and libwebrtc's goog_cc
 * publish (group span 5 ms, trendline window 20, smoothing 0.9, gain 4,
 * threshold 12.5 ms with k_up 0.0087 / k_down 0.039, overuse after 10 ms,
 * beta 0.85, 8 %/s multiplicative increase); the fast start and the queue
 * that grew 30 ms (an overuse before the trendline sees it) are ours. The
 * probing follows libwebrtc's ProbeController (a first cluster at 3x the
 * start rate, a further one at 2x any result over 70 % of its rate) and
 * ProbeBitrateEstimator (send rate over the cluster less its last packet,
 * receive rate less its first; delivered under 90 % of the send rate: the
 * link's end, 95 % of the delivered rate).
 */
#include "peercam-bwe.h"

#include <math.h>

#define HISTORY_SIZE          8192          /* sent packets remembered (power of 2) */
#define ACKED_SIZE            2048          /* acked packets in the rate window */
#define GROUP_SPAN_US         5000
/* libwebrtc's InterArrivalDelta: a packet that arrives within 5 ms of its
 * group, sooner after it than it was sent, belongs to it (a burst the
 * network or a stalled receiver delivered at once), up to 100 ms of them. */
#define BURST_DELTA_US        5000
#define BURST_MAX_US          100000
#define TREND_WINDOW          20
#define TREND_SMOOTHING       0.9
#define TREND_GAIN            4.0
#define TREND_MAX_DELTAS      60
#define THRESHOLD_INIT_MS     12.5
#define THRESHOLD_MIN_MS      6.0
#define THRESHOLD_MAX_MS      600.0
#define K_UP                  0.0087
#define K_DOWN                0.039
#define OVERUSE_TIME_MS       10.0
/* A queue that grew this much within QUEUE_RISE_US (the accumulated delay
 * over its lowest then), and stayed so for QUEUE_RISE_GROUPS groups: an
 * overuse now (see queue_rise_ms). */
#define QUEUE_RISE_MS         30.0
#define QUEUE_RISE_US         G_USEC_PER_SEC
#define QUEUE_RISE_GROUPS     3
#define QUEUE_SAMPLES         128
#define ACKED_WINDOW_US       250000
/* Nothing acknowledged arrived for this long, and for 4x the usual time
 * between groups (a sender at 5 fps has 200 ms between its frames): the
 * measurements start afresh after it (arrival_gap). */
#define ACKED_GAP_US          150000
#define ACKED_GAP_GROUPS      4
#define BETA                  0.85
#define FAST_START_DOUBLING_S 0.4
#define INCREASE_PER_S        1.08
#define FAST_START_ACKED_GAIN 2.5
#define START_PHASE_US        (2 * G_USEC_PER_SEC)
#define LOSS_LOW              0.02
#define LOSS_HIGH             0.10
#define LOSS_SMOOTHING        0.25
#define LOSS_REPORT_MIN       50            /* packets per transport-cc loss sample */
#define LOSS_REPORT_US        G_USEC_PER_SEC /* and at least this long: 50 packets
                                              * at 5 % loss would often read > 10 % */
#define NO_CAP                G_MAXUINT64
#define FEEDBACK_TIMEOUT_US   G_USEC_PER_SEC
#define PROBE_FIRST_SCALE     3.0
#define PROBE_FURTHER_SCALE   2.0
#define PROBE_FURTHER_RATIO   0.7
/* libwebrtc's clusters last 15 ms; a loaded 2-core machine stretches a
 * send or an arrival by a ms or two, so twice that. */
#define PROBE_DURATION_US     30000
#define PROBE_MIN_PACKETS     5
#define PROBE_TIMEOUT_US      G_USEC_PER_SEC
#define PROBE_RETRY_US        500000
#define PROBE_MAX_FAILURES    2
#define PROBE_SATURATED       0.9
#define PROBE_UTILIZATION     0.95
#define PROBE_MAX_RATIO       2.0
#define PROBE_MATCH_SLACK_US  5000
#define PROBE_MIN_STRETCH_US  10000
#define PROBE_SCAN            1024          /* packets looked back at for a cluster */
/* The whole budget: the initial chain (3x start, then doublings to the
 * maximum: 2 or 3 clusters) and a retry or two. */
#define PROBE_MAX_CLUSTERS    6

typedef struct {
  gint64   seq;       /* unwrapped; -1: empty slot */
  gint64   send_us;
  gint64   arrival_us;
  guint32  size;
  guint32  target_kbps;  /* the estimate when it was sent */
  guint    probe;        /* the probe cluster it belonged to; 0: none */
  gboolean acked;
  gboolean reported;     /* received or lost, per feedback */
  gboolean counted;      /* in its probe cluster's figures */
} SentPacket;

typedef enum {
  PROBE_IDLE,     /* waiting for the first feedback */
  PROBE_DUE,      /* a cluster should go out at probe_due_us */
  PROBE_WAITING,  /* a cluster was asked for: its result is pending */
  PROBE_DONE,
} ProbeState;

/* The one probe cluster in flight and what feedback said about it. */
typedef struct {
  guint    id;
  guint64  bps;
  gint64   asked_us;
  gint64   first_us, last_us;   /* as the sender reported it; first_us < 0: not yet */
  guint    n_packets;
  guint    tagged, reported, received;
  guint64  bytes, received_bytes;
  gint64   all_first_us, all_last_us;  /* sends, lost packets too */
  gint64   first_send_us, last_send_us;
  guint32  last_send_size;
  gint64   first_arrival_us, last_arrival_us;
  guint32  first_arrival_size;
} Cluster;

typedef struct {
  gint64 first_send_us;
  gint64 last_send_us;
  gint64 first_arrival_us;
  gint64 last_arrival_us;
} Group;

typedef enum { RC_HOLD, RC_INCREASE, RC_DECREASE } RcState;

struct _PeercamBwe {
  PeercamBweConfig config;

  SentPacket      *history;
  gint64           last_sent_seq;   /* unwrapped; -1 before the first packet */

  /* inter-arrival grouping */
  Group            cur, prev;
  gboolean         have_cur, have_prev;

  /* trendline filter */
  double           accumulated_ms;
  double           smoothed_ms;
  gint64           first_arrival_us;
  guint            num_deltas;
  double           win_x[TREND_WINDOW], win_y[TREND_WINDOW];
  guint            win_len, win_pos;
  double           trend;
  double           modified_trend;
  /* the accumulated delay per group, for queue_rise_ms (receiver clock) */
  gint64           queue_x[QUEUE_SAMPLES];
  double           queue_y[QUEUE_SAMPLES];
  guint            queue_len, queue_pos;

  /* overuse detector */
  double           threshold_ms;
  gint64           last_threshold_us;
  double           time_over_using_ms;  /* < 0: not overusing */
  guint            overuse_counter;
  double           prev_trend;
  PeercamBweUsage  usage;

  /* acknowledged rate: ring of (arrival, size), receiver clock */
  gint64          *acked_arrival;
  gint64          *acked_send;      /* sender clock */
  gint64          *acked_seq;       /* unwrapped */
  guint32         *acked_size;
  guint            acked_head, acked_len;
  guint64          acked_bytes;
  guint64          acked_held_bps;  /* the rate before a gap; 0: none */
  gint64           newest_arrival_us;  /* -1: none yet */
  gint64           resume_us;       /* arrivals before this (receiver clock),
                                     * right after a gap, are not measured */

  /* AIMD rate controller */
  RcState          rc_state;
  guint64          delay_bps;
  gint64           last_rc_us;
  gint64           last_decrease_us;
  gboolean         fast_start;
  double           avg_max_kbps;    /* < 0: unknown */
  double           var_max_kbps;
  gint64           first_feedback_us;

  /* loss-based controller */
  double           loss;
  guint64          loss_bps;        /* NO_CAP: no loss limit */
  gint64           last_loss_us;
  gint64           last_loss_decrease_us;
  guint            fb_lost, fb_total;
  gint64           fb_loss_start_us;

  gint64           last_feedback_us;   /* -1: none yet */
  gint64           last_timeout_cut_us;
  guint64          remb_bps;        /* 0: none */
  gint64           rtt_us;
  guint64          target_bps;

  /* probing */
  ProbeState       probe_state;
  gint64           probe_due_us;
  guint64          probe_next_bps;
  Cluster          probe;
  guint            probes;          /* clusters asked for */
  guint            probe_failures;
  guint            probe_saturated;  /* verdicts "the link's end" so far */
  gboolean         probe_confirming; /* the next cluster checks one */
  guint            probe_results;
  guint64          probe_result_bps;
  guint64          probe_bytes;
};

PeercamBwe *
peercam_bwe_new (const PeercamBweConfig *config)
{
  PeercamBwe *self = g_new0 (PeercamBwe, 1);

  if (config)
    self->config = *config;
  if (self->config.min_bps == 0)
    self->config.min_bps = PEERCAM_BWE_DEFAULT_MIN_BPS;
  if (self->config.max_bps == 0)
    self->config.max_bps = MAX (PEERCAM_BWE_DEFAULT_MAX_BPS, self->config.min_bps);
  if (self->config.start_bps == 0)
    self->config.start_bps = PEERCAM_BWE_DEFAULT_START_BPS;
  self->config.max_bps = MAX (self->config.max_bps, self->config.min_bps);
  self->config.start_bps = CLAMP (self->config.start_bps, self->config.min_bps, self->config.max_bps);

  self->history = g_new (SentPacket, HISTORY_SIZE);
  for (guint i = 0; i < HISTORY_SIZE; i++)
    self->history[i].seq = -1;
  self->last_sent_seq = -1;
  self->first_arrival_us = -1;
  self->threshold_ms = THRESHOLD_INIT_MS;
  self->last_threshold_us = -1;
  self->time_over_using_ms = -1;
  self->usage = PEERCAM_BWE_NORMAL;
  self->acked_arrival = g_new (gint64, ACKED_SIZE);
  self->acked_send = g_new (gint64, ACKED_SIZE);
  self->acked_seq = g_new (gint64, ACKED_SIZE);
  self->acked_size = g_new (guint32, ACKED_SIZE);
  self->newest_arrival_us = -1;
  self->resume_us = G_MININT64;
  self->rc_state = RC_INCREASE;
  self->delay_bps = self->config.start_bps;
  self->last_rc_us = -1;
  self->last_decrease_us = -1;
  self->fast_start = TRUE;
  self->avg_max_kbps = -1;
  self->var_max_kbps = 0.4;
  self->first_feedback_us = -1;
  self->loss_bps = NO_CAP;
  self->last_loss_us = -1;
  self->last_loss_decrease_us = -1;
  self->rtt_us = -1;
  self->last_feedback_us = -1;
  self->last_timeout_cut_us = -1;
  self->target_bps = self->config.start_bps;
  return self;
}

void
peercam_bwe_free (PeercamBwe *self)
{
  if (!self)
    return;
  g_free (self->history);
  g_free (self->acked_arrival);
  g_free (self->acked_send);
  g_free (self->acked_seq);
  g_free (self->acked_size);
  g_free (self);
}

/* Sequence numbers wrap at 16 bits; feedback refers to recent packets, so
 * the nearest unwrapped value to the last one sent is the right one. */
static gint64
unwrap (PeercamBwe *self,
        guint16     seq)
{
  if (self->last_sent_seq < 0)
    return seq;
  return self->last_sent_seq + (gint16) (seq - (guint16) self->last_sent_seq);
}

/* ---- probe clusters: which packets, and what they measured ---------------- */

/* A packet of the cluster that feedback has reported (received or lost). */
static void
probe_count (Cluster    *c,
             SentPacket *p)
{
  if (!p->reported || p->counted)
    return;
  p->counted = TRUE;
  c->reported++;
  if (!p->acked)
    return;
  /* Both rates from the packets that arrived (as libwebrtc): random loss
   * is no sign of the link's end; a full queue shows in the arrivals. */
  c->received++;
  c->received_bytes += p->size;
  if (c->received == 1 || p->send_us < c->first_send_us)
    c->first_send_us = p->send_us;
  if (c->received == 1 || p->send_us >= c->last_send_us)
    {
      c->last_send_us = p->send_us;
      c->last_send_size = p->size;
    }
  if (c->received == 1 || p->arrival_us < c->first_arrival_us)
    {
      c->first_arrival_us = p->arrival_us;
      c->first_arrival_size = p->size;
    }
  if (c->received == 1 || p->arrival_us > c->last_arrival_us)
    c->last_arrival_us = p->arrival_us;
}

/* A packet sent within the cluster's window belongs to it: the first
 * n_packets sent from its first send on (media the pacer let out at the
 * probe rate count too, as in libwebrtc). */
static void
probe_tag (PeercamBwe *self,
           SentPacket *p)
{
  Cluster *c = &self->probe;

  if (self->probe_state != PROBE_WAITING || c->first_us < 0 || p->probe != 0 ||
      c->tagged >= c->n_packets ||
      p->send_us < c->first_us || p->send_us > c->last_us + PROBE_MATCH_SLACK_US)
    return;
  p->probe = c->id;
  c->tagged++;
  c->bytes += p->size;
  self->probe_bytes += p->size;
  if (c->tagged == 1 || p->send_us < c->all_first_us)
    c->all_first_us = p->send_us;
  if (c->tagged == 1 || p->send_us > c->all_last_us)
    c->all_last_us = p->send_us;
  probe_count (c, p);
}

static void
probe_failed (PeercamBwe *self,
              gint64      now_us)
{
  self->probe_failures++;
  g_debug ("bwe: probe %u at %" G_GUINT64_FORMAT " kbit/s failed", self->probe.id, self->probe.bps / 1000);
  if (self->probe_failures < PROBE_MAX_FAILURES && self->probes < PROBE_MAX_CLUSTERS)
    {
      self->probe_state = PROBE_DUE;
      self->probe_due_us = now_us + PROBE_RETRY_US;
      self->probe_next_bps = self->probe.bps;
    }
  else
    self->probe_state = PROBE_DONE;
}

static void update_max_estimate (PeercamBwe *self, double kbps);
static void update_target (PeercamBwe *self);

static void
probe_evaluate (PeercamBwe *self,
                gint64      now_us)
{
  Cluster *c = &self->probe;
  gint64 send_interval = c->last_send_us - c->first_send_us;
  gint64 recv_interval = c->last_arrival_us - c->first_arrival_us;
  double send_bps, recv_bps, result;
  gboolean saturated;

  /* Most of it lost (a policer, or a queue too short for the cluster): the
   * link's end too, at what it delivered over the time it was sent in. */
  if (c->reported >= PROBE_MIN_PACKETS && c->received * 2 < c->reported && c->all_last_us > c->all_first_us &&
      self->usage != PEERCAM_BWE_OVERUSING)
    {
      result = PROBE_UTILIZATION * c->received_bytes * 8e6 / (c->all_last_us - c->all_first_us);
      result = CLAMP (result, (double) self->config.min_bps, (double) self->config.max_bps);
      g_debug ("bwe: probe %u at %" G_GUINT64_FORMAT " kbit/s: %u of %u packets lost, %.0f kbit/s delivered",
               c->id, c->bps / 1000, c->reported - c->received, c->reported, result / PROBE_UTILIZATION / 1000);
      self->probe_results++;
      self->probe_result_bps = (guint64) result;
      self->delay_bps = MIN (self->delay_bps, (guint64) result);
      self->fast_start = FALSE;
      self->rc_state = RC_HOLD;
      self->last_decrease_us = now_us;
      update_max_estimate (self, result / 1000);
      self->probe_state = PROBE_DONE;
      update_target (self);
      return;
    }
  if (c->received < MAX (3u, c->n_packets / 2) || send_interval <= 0 || recv_interval <= 0 ||
      send_interval > PROBE_TIMEOUT_US || recv_interval > PROBE_TIMEOUT_US)
    {
      probe_failed (self, now_us);
      return;
    }
  /* Neither interval covers the transmission of one packet: the last sent
   * and the first received. */
  send_bps = (c->received_bytes - c->last_send_size) * 8e6 / send_interval;
  recv_bps = (c->received_bytes - c->first_arrival_size) * 8e6 / recv_interval;
  if (recv_bps > PROBE_MAX_RATIO * send_bps)
    {
      probe_failed (self, now_us);
      return;
    }
  /* Delivered clearly slower than sent, and the cluster queued for real:
   * arrival times on a loaded receiver stretch a 30 ms cluster by a few
   * ms (a 4 Mbit/s link read 1.4 of 1.8 Mbit/s: 4 ms), a link at half the
   * probe's rate stretches it by as long again. A small stretch is no
   * verdict: the delivered rate still counts, as a lower bound. */
  saturated = recv_bps < PROBE_SATURATED * send_bps && recv_interval - send_interval >= PROBE_MIN_STRETCH_US;
  result = saturated ? PROBE_UTILIZATION * recv_bps : MIN (send_bps, recv_bps);
  result = CLAMP (result, (double) self->config.min_bps, (double) self->config.max_bps);
  self->probe_results++;
  self->probe_result_bps = (guint64) result;
  g_debug ("bwe: probe %u at %" G_GUINT64_FORMAT " kbit/s: sent %.0f, delivered %.0f kbit/s (%u/%u packets)%s",
           c->id, c->bps / 1000, send_bps / 1000, recv_bps / 1000, c->received, c->tagged,
           saturated ? ": the link's end" : "");
  g_debug ("bwe: probe %u sent over %.1f ms (window %.1f ms), delivered over %.1f ms",
           c->id, send_interval / 1000.0, (c->last_us - c->first_us) / 1000.0, recv_interval / 1000.0);

  if (self->usage == PEERCAM_BWE_OVERUSING)
    {
      /* A queue is building anyway: the delay controller decides. */
      self->probe_state = PROBE_DONE;
      return;
    }
  if (saturated && self->probe_saturated == 0 && self->probes < PROBE_MAX_CLUSTERS &&
      (result >= self->delay_bps || self->probe_results > 1))
    {
      /* A receiver busy decoding stamps arrivals late: on a clean link a
       * Peercam viewer's clock read the first cluster as the link's end
       * (1280x720 came 9 s late, tools/bench network). A verdict that
       * would end the fast start above the estimate, or undo what an
       * earlier probe proved, waits for a second cluster at the same rate;
       * what got through counts meanwhile. Lowering a start rate no probe
       * proved needs no second opinion (500 kbit/s under a 600 start). */
      self->probe_saturated++;
      if (result > self->delay_bps)
        self->delay_bps = (guint64) result;
      self->probe_state = PROBE_DUE;
      self->probe_due_us = now_us;
      self->probe_next_bps = c->bps;
      /* twice as long: a token bucket's burst (tbf's 4 kB) let most of a
       * 30 ms cluster through a 1 Mbit/s link at line rate, and a second
       * 30 ms cluster read as "no queue" (tools/bench network) */
      self->probe_confirming = TRUE;
    }
  else if (saturated)
    {
      /* The link delivered less than it was given: that is its capacity,
       * above or below the estimate. The fast start is over. */
      self->delay_bps = (guint64) result;
      self->fast_start = FALSE;
      self->rc_state = RC_HOLD;
      self->last_decrease_us = now_us;
      update_max_estimate (self, result / 1000);
      self->probe_state = PROBE_DONE;
    }
  else
    {
      /* It carried all of it: at least that much gets through. */
      if (result > self->delay_bps)
        self->delay_bps = (guint64) result;
      guint64 next = (guint64) MIN (PROBE_FURTHER_SCALE * result, (double) self->config.max_bps);

      if (result >= PROBE_FURTHER_RATIO * c->bps && self->delay_bps < self->config.max_bps &&
          next > c->bps && self->probes < PROBE_MAX_CLUSTERS)
        {
          self->probe_state = PROBE_DUE;
          self->probe_due_us = now_us;
          self->probe_next_bps = next;
        }
      else
        self->probe_state = PROBE_DONE;
    }
  update_target (self);
}

/* After feedback or on a timer: a cluster fully reported, or too old. */
static void
probe_check (PeercamBwe *self,
             gint64      now_us)
{
  Cluster *c = &self->probe;

  if (self->probe_state != PROBE_WAITING)
    return;
  if (c->first_us >= 0 && c->tagged >= c->n_packets && c->reported >= c->tagged)
    probe_evaluate (self, now_us);
  else if (now_us - c->asked_us > PROBE_TIMEOUT_US)
    {
      if (c->first_us >= 0 && c->reported > 0)
        probe_evaluate (self, now_us);
      else
        probe_failed (self, now_us);
    }
}

gboolean
peercam_bwe_poll_probe (PeercamBwe      *self,
                        gint64           now_us,
                        PeercamBweProbe *probe)
{
  Cluster *c = &self->probe;

  g_return_val_if_fail (probe != NULL, FALSE);
  probe_check (self, now_us);
  if (self->probe_state != PROBE_DUE || now_us < self->probe_due_us)
    return FALSE;
  if (self->probes >= PROBE_MAX_CLUSTERS)
    {
      self->probe_state = PROBE_DONE;
      return FALSE;
    }
  *c = (Cluster) { 0 };
  c->id = ++self->probes;
  c->bps = self->probe_next_bps;
  c->asked_us = now_us;
  c->first_us = -1;
  self->probe_state = PROBE_WAITING;
  probe->id = c->id;
  probe->bps = c->bps;
  probe->duration_us = self->probe_confirming ? 2 * PROBE_DURATION_US : PROBE_DURATION_US;
  self->probe_confirming = FALSE;
  probe->min_packets = PROBE_MIN_PACKETS;
  return TRUE;
}

void
peercam_bwe_on_probe_sent (PeercamBwe *self,
                           guint       id,
                           gint64      first_us,
                           gint64      last_us,
                           guint       n_packets)
{
  Cluster *c = &self->probe;

  if (self->probe_state != PROBE_WAITING || id != c->id || c->first_us >= 0)
    return;
  if (n_packets == 0 || last_us < first_us)
    {
      probe_failed (self, MAX (first_us, c->asked_us));
      return;
    }
  c->first_us = first_us;
  c->last_us = last_us;
  c->n_packets = n_packets;
  /* Packets feedback already registered (the report raced the sender's). */
  for (gint64 u = MAX (0, self->last_sent_seq - PROBE_SCAN); self->last_sent_seq >= 0 && u <= self->last_sent_seq; u++)
    {
      SentPacket *p = &self->history[u & (HISTORY_SIZE - 1)];
      if (p->seq == u)
        probe_tag (self, p);
    }
}

guint64
peercam_bwe_get_probe_result (PeercamBwe *self)
{
  return self->probe_result_bps;
}

guint
peercam_bwe_get_probes (PeercamBwe *self)
{
  return self->probes;
}

guint64
peercam_bwe_get_probe_bytes (PeercamBwe *self)
{
  return self->probe_bytes;
}

void
peercam_bwe_on_packet_sent (PeercamBwe *self,
                            guint16     seq,
                            gint64      send_us,
                            gsize       size)
{
  gint64 u = unwrap (self, seq);
  SentPacket *slot = &self->history[u & (HISTORY_SIZE - 1)];

  slot->seq = u;
  slot->send_us = send_us;
  slot->arrival_us = 0;
  slot->size = (guint32) MIN (size, G_MAXUINT32);
  slot->target_kbps = (guint32) MIN (self->target_bps / 1000, G_MAXUINT32);
  slot->probe = 0;
  slot->acked = FALSE;
  slot->reported = FALSE;
  slot->counted = FALSE;
  if (u > self->last_sent_seq)
    self->last_sent_seq = u;
  probe_tag (self, slot);
}

/* ---- acknowledged rate --------------------------------------------------- */

static void
acked_add (PeercamBwe *self,
           gint64      arrival_us,
           gint64      send_us,
           gint64      seq,
           guint32     size)
{
  guint tail;

  /* The packets that arrived right after a gap (the window starts afresh,
   * on_transport_feedback): a stalled receiver read them all at once. The
   * newest of them is the packet just before the new window. */
  if (arrival_us < self->resume_us)
    {
      self->acked_head = 0;
      self->acked_len = 0;
      self->acked_bytes = 0;
    }
  if (self->acked_len == ACKED_SIZE)
    {
      self->acked_bytes -= self->acked_size[self->acked_head];
      self->acked_head = (self->acked_head + 1) % ACKED_SIZE;
      self->acked_len--;
    }
  tail = (self->acked_head + self->acked_len) % ACKED_SIZE;
  self->acked_arrival[tail] = arrival_us;
  self->acked_send[tail] = send_us;
  self->acked_seq[tail] = seq;
  self->acked_size[tail] = size;
  self->acked_len++;
  self->acked_bytes += size;

  /* Keep one window (by arrival time) plus the packet just before it. */
  while (self->acked_len > 1)
    {
      guint next = (self->acked_head + 1) % ACKED_SIZE;
      if (arrival_us - self->acked_arrival[next] < ACKED_WINDOW_US)
        break;
      self->acked_bytes -= self->acked_size[self->acked_head];
      self->acked_head = next;
      self->acked_len--;
    }
}

guint64
peercam_bwe_get_acked_bitrate (PeercamBwe *self)
{
  gint64 first, last;
  guint64 bytes;

  if (self->acked_len < 2)
    return self->acked_held_bps;
  first = self->acked_arrival[self->acked_head];
  last = self->acked_arrival[(self->acked_head + self->acked_len - 1) % ACKED_SIZE];
  /* A full window is needed before the rate means anything; until then,
   * after a gap, the one measured before it. */
  if (last - first < ACKED_WINDOW_US)
    return self->acked_held_bps;
  /* The oldest packet arrived at the window's start: its bytes came before. */
  bytes = self->acked_bytes - self->acked_size[self->acked_head];
  return bytes * 8 * G_USEC_PER_SEC / (guint64) (last - first);
}

/* The rate everything sent along with the acknowledged window left at
 * (lost packets too; sender clock): from the window's first to its last
 * acknowledged packet. 0 when that took under 100 ms (a burst says
 * nothing) or spanned under 40 packets. */
static guint64
acked_send_bitrate (PeercamBwe *self,
                    gint64      min_packets,
                    guint64    *mean_target_bps)
{
  gint64 first_seq = G_MAXINT64, last_seq = G_MININT64;
  gint64 first_us = 0, last_us = 0;
  guint64 bytes = 0, target_kbps = 0, n = 0;

  *mean_target_bps = 0;
  if (self->acked_len < 2)
    return 0;
  for (guint i = 0; i < self->acked_len; i++)
    {
      guint k = (self->acked_head + i) % ACKED_SIZE;

      if (self->acked_seq[k] < first_seq)
        {
          first_seq = self->acked_seq[k];
          first_us = self->acked_send[k];
        }
      if (self->acked_seq[k] > last_seq)
        {
          last_seq = self->acked_seq[k];
          last_us = self->acked_send[k];
        }
    }
  /* Fewer packets than this read 5 % random loss as 20 % too often. */
  if (last_us - first_us < 100000 || last_seq - first_seq < min_packets || last_seq - first_seq >= HISTORY_SIZE)
    return 0;
  for (gint64 u = first_seq + 1; u <= last_seq; u++)
    {
      SentPacket *p = &self->history[u & (HISTORY_SIZE - 1)];
      if (p->seq == u)
        {
          bytes += p->size;
          target_kbps += p->target_kbps;
          n++;
        }
    }
  *mean_target_bps = n ? target_kbps * 1000 / n : 0;
  return bytes * 8 * G_USEC_PER_SEC / (guint64) (last_us - first_us);
}

/* ---- delay-based estimator ------------------------------------------------ */

static void
update_threshold (PeercamBwe *self,
                  double      modified_trend,
                  gint64      now_us)
{
  double abs_trend = fabs (modified_trend);
  double k, dt_ms;

  if (self->last_threshold_us < 0)
    self->last_threshold_us = now_us;
  /* A huge spike (a route change, a stall) should not drag the threshold. */
  if (abs_trend > self->threshold_ms + 15.0)
    {
      self->last_threshold_us = now_us;
      return;
    }
  k = abs_trend < self->threshold_ms ? K_DOWN : K_UP;
  dt_ms = MIN ((now_us - self->last_threshold_us) / 1000.0, 100.0);
  self->threshold_ms += k * (abs_trend - self->threshold_ms) * dt_ms;
  self->threshold_ms = CLAMP (self->threshold_ms, THRESHOLD_MIN_MS, THRESHOLD_MAX_MS);
  self->last_threshold_us = now_us;
}

static void
detect (PeercamBwe *self,
        double      send_delta_ms,
        gint64      arrival_us)
{
  double m = self->modified_trend;

  if (self->num_deltas < 2)
    return;
  if (m > self->threshold_ms)
    {
      if (self->time_over_using_ms < 0)
        self->time_over_using_ms = send_delta_ms / 2;
      else
        self->time_over_using_ms += send_delta_ms;
      self->overuse_counter++;
      if (self->time_over_using_ms > OVERUSE_TIME_MS && self->overuse_counter > 1 &&
          self->trend >= self->prev_trend)
        {
          self->time_over_using_ms = 0;
          self->overuse_counter = 0;
          self->usage = PEERCAM_BWE_OVERUSING;
        }
    }
  else if (m < -self->threshold_ms)
    {
      self->time_over_using_ms = -1;
      self->overuse_counter = 0;
      self->usage = PEERCAM_BWE_UNDERUSING;
    }
  else
    {
      self->time_over_using_ms = -1;
      self->overuse_counter = 0;
      self->usage = PEERCAM_BWE_NORMAL;
    }
  self->prev_trend = self->trend;
  update_threshold (self, m, arrival_us);
}

static double
trend_slope (PeercamBwe *self)
{
  double sx = 0, sy = 0, num = 0, den = 0, mx, my;
  guint n = self->win_len;

  for (guint i = 0; i < n; i++)
    {
      sx += self->win_x[i];
      sy += self->win_y[i];
    }
  mx = sx / n;
  my = sy / n;
  for (guint i = 0; i < n; i++)
    {
      num += (self->win_x[i] - mx) * (self->win_y[i] - my);
      den += (self->win_x[i] - mx) * (self->win_x[i] - mx);
    }
  return den > 0 ? num / den : self->trend;
}

static void
trendline_update (PeercamBwe *self,
                  double      recv_delta_ms,
                  double      send_delta_ms,
                  gint64      arrival_us)
{
  double delta_ms = recv_delta_ms - send_delta_ms;

  if (self->num_deltas < 1000)
    self->num_deltas++;
  if (self->first_arrival_us < 0)
    self->first_arrival_us = arrival_us;
  self->accumulated_ms += delta_ms;
  self->smoothed_ms = TREND_SMOOTHING * self->smoothed_ms + (1 - TREND_SMOOTHING) * self->accumulated_ms;
  self->queue_x[self->queue_pos] = arrival_us;
  self->queue_y[self->queue_pos] = self->accumulated_ms;
  self->queue_pos = (self->queue_pos + 1) % QUEUE_SAMPLES;
  if (self->queue_len < QUEUE_SAMPLES)
    self->queue_len++;

  self->win_x[self->win_pos] = (arrival_us - self->first_arrival_us) / 1000.0;
  self->win_y[self->win_pos] = self->smoothed_ms;
  self->win_pos = (self->win_pos + 1) % TREND_WINDOW;
  if (self->win_len < TREND_WINDOW)
    self->win_len++;
  if (self->win_len == TREND_WINDOW)
    self->trend = trend_slope (self);
  self->modified_trend = MIN (self->num_deltas, TREND_MAX_DELTAS) * self->trend * TREND_GAIN;
  detect (self, send_delta_ms, arrival_us);
}

/* A packet that arrived right after the current group, sooner after it
 * than it was sent: the network, or a receiver that stalled and then read
 * its socket at once, delivered them together. As separate groups, each
 * would read as the queue draining, after a jump of the stall's length. */
static gboolean
belongs_to_burst (PeercamBwe *self,
                  gint64      send_us,
                  gint64      arrival_us)
{
  gint64 arrival_delta = arrival_us - self->cur.last_arrival_us;
  gint64 send_delta = send_us - self->cur.last_send_us;

  if (send_delta == 0)
    return TRUE;
  return arrival_delta - send_delta < 0 && arrival_delta <= BURST_DELTA_US &&
         arrival_us - self->cur.first_arrival_us < BURST_MAX_US;
}

/* Groups packets sent within 5 ms (a burst from the pacer or one frame),
 * and packets that arrived in a burst. */
static gboolean
inter_arrival_add (PeercamBwe *self,
                   gint64      send_us,
                   gint64      arrival_us)
{
  gboolean overuse = FALSE;

  if (!self->have_cur)
    {
      self->cur = (Group) { send_us, send_us, arrival_us, arrival_us };
      self->have_cur = TRUE;
      return FALSE;
    }
  /* Reordered in sending: belongs to no group. */
  if (send_us < self->cur.first_send_us)
    return FALSE;
  if (send_us - self->cur.first_send_us <= GROUP_SPAN_US || belongs_to_burst (self, send_us, arrival_us))
    {
      self->cur.last_send_us = MAX (self->cur.last_send_us, send_us);
      self->cur.last_arrival_us = MAX (self->cur.last_arrival_us, arrival_us);
      return FALSE;
    }
  if (self->have_prev)
    {
      double send_delta = (self->cur.last_send_us - self->prev.last_send_us) / 1000.0;
      double recv_delta = (self->cur.last_arrival_us - self->prev.last_arrival_us) / 1000.0;

      trendline_update (self, recv_delta, send_delta, self->cur.last_arrival_us);
      overuse = self->usage == PEERCAM_BWE_OVERUSING;
    }
  self->prev = self->cur;
  self->have_prev = TRUE;
  self->cur = (Group) { send_us, send_us, arrival_us, arrival_us };
  return overuse;
}

/* How much the queue grew over the last QUEUE_RISE_US: the newest group's
 * accumulated delay over the lowest since. The trendline sees a link that
 * shrank under the sender only after its smoothing and its 20 groups, and
 * at one group per frame that is 0.4-0.5 s (4 -> 0.7 Mbit/s under a 1.2
 * Mbit/s sender, tools/bench network): by then the bottleneck's buffer had
 * been full and dropping for 0.2-0.3 s, every frame sent meanwhile lost a
 * packet, and the repairs added to the flood. */
static double
queue_rise_ms (PeercamBwe *self)
{
  guint newest = (self->queue_pos + QUEUE_SAMPLES - 1) % QUEUE_SAMPLES;
  double low, rise;

  if (self->queue_len < 2)
    return 0;
  low = self->queue_y[newest];
  for (guint i = 0; i < self->queue_len; i++)
    if (self->queue_x[newest] - self->queue_x[i] <= QUEUE_RISE_US)
      low = MIN (low, self->queue_y[i]);
  /* held over the last groups: not one late stamp */
  rise = self->queue_y[newest] - low;
  for (guint k = 1; k < QUEUE_RISE_GROUPS && k < self->queue_len; k++)
    rise = MIN (rise, self->queue_y[(newest + QUEUE_SAMPLES - k) % QUEUE_SAMPLES] - low);
  return rise;
}

/* How far the delay wandered in the second before that one (its highest
 * over its lowest): the link's own jitter. A rise only counts above it: on
 * a link with 40 ms of jitter (Wi-Fi, a loaded hop) three groups 30 ms
 * over the lowest come every few seconds with no queue at all, and each
 * cut the estimate (test-remote-bwe's random-loss-jitter trace: 386
 * kbit/s for a link that carries anything). Unknown (0) until that second
 * has groups: the rule is off in the first seconds anyway. */
static double
queue_noise_ms (PeercamBwe *self)
{
  guint newest = (self->queue_pos + QUEUE_SAMPLES - 1) % QUEUE_SAMPLES;
  double low = G_MAXDOUBLE, high = -G_MAXDOUBLE;

  for (guint i = 0; i < self->queue_len; i++)
    {
      gint64 age = self->queue_x[newest] - self->queue_x[i];

      if (age > QUEUE_RISE_US && age <= 2 * QUEUE_RISE_US)
        {
          low = MIN (low, self->queue_y[i]);
          high = MAX (high, self->queue_y[i]);
        }
    }
  return high >= low ? high - low : 0;
}

/* ---- AIMD rate controller ------------------------------------------------- */

static void
update_max_estimate (PeercamBwe *self,
                     double      kbps)
{
  double norm;

  if (self->avg_max_kbps < 0)
    self->avg_max_kbps = kbps;
  else
    self->avg_max_kbps = 0.95 * self->avg_max_kbps + 0.05 * kbps;
  norm = MAX (self->avg_max_kbps, 1.0);
  self->var_max_kbps = 0.95 * self->var_max_kbps +
                       0.05 * (self->avg_max_kbps - kbps) * (self->avg_max_kbps - kbps) / norm;
  self->var_max_kbps = CLAMP (self->var_max_kbps, 0.4, 2.5);
}

static double
response_time_s (PeercamBwe *self)
{
  return (self->rtt_us >= 0 ? self->rtt_us / 1e6 : 0.1) + 0.1;
}

/* About one packet per response time: the draft's additive increase. */
static double
additive_increase_bps (PeercamBwe *self,
                       double      dt_s)
{
  double bits_per_frame = self->delay_bps / 30.0;
  double packets = MAX (1.0, ceil (bits_per_frame / (1200 * 8)));
  double packet_bits = bits_per_frame / packets;

  return MAX (4000.0, packet_bits / response_time_s (self)) * dt_s;
}

static void
rate_control (PeercamBwe *self,
              gboolean    overuse,
              gint64      now_us)
{
  guint64 acked = peercam_bwe_get_acked_bitrate (self);
  double dt_s = self->last_rc_us < 0 ? 0 : MIN ((now_us - self->last_rc_us) / 1e6, 1.0);
  double rate = self->delay_bps;
  PeercamBweUsage usage = overuse ? PEERCAM_BWE_OVERUSING : self->usage;
  guint64 sent_target = 0, app_target = 0;
  guint64 sent = acked > 0 ? acked_send_bitrate (self, 40, &sent_target) : 0;
  guint64 app_sent = acked > 0 ? acked_send_bitrate (self, 4, &app_target) : 0;
  /* The sender used clearly less than the estimate allowed it: the
   * encoder, not the link, limits what is acknowledged. */
  gboolean app_limited = app_sent > 0 && app_sent < app_target * 3 / 4;
  /* Probing answers what the encoder's own frames can't: while it works,
   * the estimate rises where a probe cluster got through, never on the
   * acknowledged rate's guess. A sender that can't probe (no padding, no
   * result twice) falls back to that guess. */
  gboolean can_probe = self->probe_results > 0 || self->probe_state == PROBE_WAITING ||
                       (self->probe_state == PROBE_DUE && self->probes > 0);
  /* and nothing queues: the delay trend well inside the threshold (a link
   * just above the sender's rate shows as a rising trend long before it
   * reads as overuse) */
  gboolean no_queue = self->modified_trend < self->threshold_ms / 2;

  self->last_rc_us = now_us;

  /* The fast start doubles every 400 ms; the trendline needs 20 groups
   * and a queue before it sees the link's end, and by then the rate was
   * 2.4x a 1 Mbit/s link for over a second (tools/bench network). The
   * link ends sooner where it delivers clearly less than was sent into
   * it (a queue stretching the arrivals, or a short queue or a policer
   * dropping): under 75 % of the rate the same stretch of packets (40 or
   * more) was sent at. */
  if (self->fast_start && usage == PEERCAM_BWE_NORMAL && acked > 0)
    {
      if (sent > self->config.start_bps && acked * 4 < sent * 3)
        {
          g_debug ("bwe: fast start ends, %" G_GUINT64_FORMAT " kbit/s sent, %" G_GUINT64_FORMAT " received",
                   sent / 1000, acked / 1000);
          usage = PEERCAM_BWE_OVERUSING;
        }
    }

  switch (usage)
    {
    case PEERCAM_BWE_NORMAL:
      if (self->rc_state == RC_HOLD)
        self->rc_state = RC_INCREASE;
      break;
    case PEERCAM_BWE_OVERUSING:
      self->rc_state = RC_DECREASE;
      break;
    case PEERCAM_BWE_UNDERUSING:
      self->rc_state = RC_HOLD;
      break;
    default:
      g_assert_not_reached ();
    }

  if (self->rc_state == RC_INCREASE)
    {
      double std_max = sqrt (self->var_max_kbps * MAX (self->avg_max_kbps, 0));

      if (self->avg_max_kbps >= 0 && acked / 1000.0 > self->avg_max_kbps + 3 * std_max)
        self->avg_max_kbps = -1;  /* the link got faster: search again */

      if (self->fast_start && self->probe_state == PROBE_WAITING)
        ;  /* a probe's answer is on its way: it, not a guess, moves the rate */
      else if (self->fast_start)
        rate *= pow (2.0, dt_s / FAST_START_DOUBLING_S);
      else if (self->avg_max_kbps >= 0)
        {
          /* Near the capacity last measured: creep, and no further than 10 %
           * past it until the acked rate shows the link has grown (the reset
           * above). An encoder sending less than allowed would otherwise let
           * the estimate run far ahead of the link, and the first big frame
           * at that rate floods the bottleneck. */
          double ceiling = self->avg_max_kbps * 1000 * 1.1;

          /* Losing packets near it: a standing queue that drops (a tbf
           * kept full) shows no delay trend, and the loss controller only
           * holds from 2 to 10 %: no headroom past the capacity then. */
          if (self->loss >= LOSS_LOW)
            ceiling = self->avg_max_kbps * 1000;

          rate += additive_increase_bps (self, dt_s);
          if (rate > ceiling)
            rate = MAX (ceiling, (double) self->delay_bps);
        }
      else
        rate *= pow (INCREASE_PER_S, dt_s);

      /* Never run far ahead of what actually gets through (libwebrtc's
       * 1.5 x the acknowledged rate): at 2x a 1 Mbit/s link saw
       * 2.4 Mbit/s for over a second before the queue showed (tools/bench
       * network), and lost the first frames. The sender starts in the
       * format the start rate carries and an encoder undershoots its
       * target on easy content (a 640x360 picture sent 350 kbit/s of 600),
       * so 1.5 x would hold the estimate below the next format's rate for
       * good: probe results lift it past that (probe_evaluate). Without
       * probing, the fast start allows FAST_START_ACKED_GAIN x while the
       * sender uses under 75 % of what the estimate allowed
       * (application-limited: the packets acknowledged were sent at that
       * share of the estimate of their time) and the delay trend shows no
       * queue: the encoder's own frames are the probe. That climbed a
       * 500 kbit/s link to 960x540 and 1.6x the cap (tools/bench network),
       * so it is the fallback only. */
      if (acked > 0)
        {
          double limit = (self->fast_start && app_limited && no_queue && !can_probe ?
                          FAST_START_ACKED_GAIN : 1.5) * acked + 10000;
          if (rate > limit)
            rate = MAX (limit, (double) self->delay_bps);
        }
    }
  else if (self->rc_state == RC_DECREASE)
    {
      gint64 rtt = self->rtt_us >= 0 ? CLAMP (self->rtt_us, 10000, 200000) : 100000;

      if (self->last_decrease_us < 0 || now_us - self->last_decrease_us >= rtt)
        {
          double base = acked > 0 ? (double) acked : rate;

          rate = MIN (rate, BETA * base);
          if (acked > 0)
            {
              /* Far under the capacity known so far (3 deviations, as
               * libwebrtc): the link shrank, and the average of the old
               * capacity would let the additive increase climb past the new
               * one for seconds (4 -> 0.7 Mbit/s: 3.7 s to settle,
               * tools/bench network). Start the average afresh. */
              double std_max = sqrt (self->var_max_kbps * MAX (self->avg_max_kbps, 0));

              if (self->avg_max_kbps >= 0 && acked / 1000.0 < self->avg_max_kbps - 3 * std_max)
                self->avg_max_kbps = -1;
              update_max_estimate (self, acked / 1000.0);
            }
          if (rate < self->delay_bps * 0.98)
            g_debug ("bwe: overuse, %.0f -> %.0f kbit/s (acked %" G_GUINT64_FORMAT ")",
                     self->delay_bps / 1000.0, rate / 1000.0, acked / 1000);
          self->fast_start = FALSE;
          self->last_decrease_us = now_us;
        }
      self->rc_state = RC_HOLD;
    }

  self->delay_bps = (guint64) CLAMP (rate, (double) self->config.min_bps, (double) self->config.max_bps);
}

/* ---- loss-based controller and the result --------------------------------- */

static void
update_target (PeercamBwe *self)
{
  guint64 target = self->delay_bps;

  target = MIN (target, self->loss_bps);
  if (self->remb_bps > 0)
    target = MIN (target, self->remb_bps);
  self->target_bps = CLAMP (target, self->config.min_bps, self->config.max_bps);
}

static void
on_loss (PeercamBwe *self,
         double      fraction,
         gint64      now_us)
{
  double dt_s = self->last_loss_us < 0 ? 0 : MIN ((now_us - self->last_loss_us) / 1e6, 2.0);
  gboolean start_phase = self->first_feedback_us < 0 ||
                         now_us - self->first_feedback_us < START_PHASE_US;

  /* One report covers a few hundred packets at most: 5 % random loss reads
   * anywhere from 2 to 10 % per report. A decrease needs the smoothed loss
   * and this report over 10 %: one unlucky report does not cut the rate,
   * and the cutting stops with the report after a burst ends. */
  double raw = CLAMP (fraction, 0.0, 1.0);

  self->loss = (1 - LOSS_SMOOTHING) * self->loss + LOSS_SMOOTHING * raw;
  self->last_loss_us = now_us;

  if (raw < LOSS_LOW)
    {
      if (self->loss_bps != NO_CAP)
        {
          double grown = self->loss_bps * pow (INCREASE_PER_S, dt_s) + 1000 * dt_s;
          self->loss_bps = grown >= self->config.max_bps ? NO_CAP : (guint64) grown;
        }
    }
  else if (raw <= LOSS_HIGH || self->loss <= LOSS_HIGH)
    {
      /* Hold: no growth past the rate that sees this loss. The start phase
       * is exempt so random loss on a fast link can't freeze the ramp-up. */
      if (self->loss_bps == NO_CAP && !start_phase)
        {
          self->loss_bps = self->target_bps;
          self->fast_start = FALSE;
        }
    }
  else
    {
      gint64 interval = (self->rtt_us >= 0 ? self->rtt_us : 100000) + 300000;

      if (self->last_loss_decrease_us < 0 || now_us - self->last_loss_decrease_us >= interval)
        {
          guint64 base = MIN (self->target_bps, self->loss_bps);
          self->loss_bps = MAX ((guint64) (base * (1.0 - 0.5 * raw)), self->config.min_bps);
          self->fast_start = FALSE;  /* the link has shown its limit */
          g_debug ("bwe: %.1f %% loss (smoothed %.1f %%), %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " kbit/s",
                   raw * 100, self->loss * 100, base / 1000, self->loss_bps / 1000);
          self->last_loss_decrease_us = now_us;
        }
    }
  update_target (self);
}

/* Nothing acknowledged arrived for a while (is_arrival_gap): the sender had nothing to
 * send (a stall of the host, an idle encoder), the receiver read nothing
 * (it stalled, and then reads what queued in its socket at once, stamping
 * it all with one time), or the link carried nothing. Neither the rate
 * over a window spanning the gap nor the delay between the groups on its
 * two sides says anything about the link's capacity: a 0.3 s stall of the
 * host read a 1 Mbit/s link as 160 kbit/s, and packets in flight when it
 * began as 300 ms of queueing. So the measurements start afresh after it,
 * as libwebrtc's do after a gap longer than their window (its acknowledged
 * rate) or a stream timeout (its delay detector): the acknowledged rate
 * holds what it was before the gap until a full window has arrived, the
 * trendline restarts (keeping its threshold), and the arrivals of the
 * first 100 ms after the gap, a stalled receiver's burst, are measured by
 * neither. A link that shrank meanwhile shows in the packets after that:
 * a queue builds and is detected as always, 20 groups later. */
static gboolean
is_arrival_gap (PeercamBwe *self,
                gint64      arrival_us)
{
  gint64 gap = arrival_us - self->newest_arrival_us;
  double lo, hi;

  if (self->newest_arrival_us < 0 || gap <= ACKED_GAP_US)
    return FALSE;
  if (self->win_len < 2)
    return TRUE;
  lo = hi = self->win_x[0];
  for (guint i = 1; i < self->win_len; i++)
    {
      lo = MIN (lo, self->win_x[i]);
      hi = MAX (hi, self->win_x[i]);
    }
  return gap > ACKED_GAP_GROUPS * (hi - lo) * 1000 / (self->win_len - 1);
}

static void
arrival_gap (PeercamBwe *self,
             gint64      arrival_us)
{
  guint64 before = peercam_bwe_get_acked_bitrate (self);

  g_debug ("bwe: nothing arrived for %.0f ms: measuring afresh, %" G_GUINT64_FORMAT " kbit/s held",
           (arrival_us - self->newest_arrival_us) / 1000.0, before / 1000);
  if (before > 0)
    self->acked_held_bps = before;
  self->acked_head = 0;
  self->acked_len = 0;
  self->acked_bytes = 0;
  self->resume_us = arrival_us + BURST_MAX_US;

  self->have_cur = self->have_prev = FALSE;
  self->accumulated_ms = self->smoothed_ms = 0;
  self->first_arrival_us = -1;
  self->win_len = self->win_pos = 0;
  self->queue_len = self->queue_pos = 0;
  self->trend = self->prev_trend = self->modified_trend = 0;
  self->time_over_using_ms = -1;
  self->overuse_counter = 0;
  self->usage = PEERCAM_BWE_NORMAL;
}

void
peercam_bwe_on_transport_feedback (PeercamBwe              *self,
                                   const PeercamBweArrival *arrivals,
                                   guint                    n_arrivals,
                                   gint64                   now_us)
{
  gboolean overuse = FALSE;
  gboolean any = FALSE;
  guint lost = 0;

  g_return_if_fail (arrivals != NULL || n_arrivals == 0);

  for (guint i = 0; i < n_arrivals; i++)
    {
      gint64 u = unwrap (self, arrivals[i].seq);
      SentPacket *p = &self->history[u & (HISTORY_SIZE - 1)];

      if (p->seq != u)
        continue;  /* never sent, or too old to remember */
      any = TRUE;
      if (!arrivals[i].received)
        {
          if (!p->acked)
            {
              self->fb_lost++;
              self->fb_total++;
              if (!p->reported)
                lost++;
            }
          p->reported = TRUE;
          if (p->probe != 0 && p->probe == self->probe.id)
            probe_count (&self->probe, p);
          continue;
        }
      if (p->acked)
        continue;  /* reported twice */
      p->acked = TRUE;
      p->reported = TRUE;
      p->arrival_us = arrivals[i].arrival_us;
      if (p->probe != 0 && p->probe == self->probe.id)
        probe_count (&self->probe, p);
      self->fb_total++;
      if (is_arrival_gap (self, arrivals[i].arrival_us))
        arrival_gap (self, arrivals[i].arrival_us);
      self->newest_arrival_us = MAX (self->newest_arrival_us, arrivals[i].arrival_us);
      acked_add (self, arrivals[i].arrival_us, p->send_us, u, p->size);
      if (arrivals[i].arrival_us >= self->resume_us)
        overuse |= inter_arrival_add (self, p->send_us, arrivals[i].arrival_us);
    }
  if (!any)
    return;
  /* A queue that just grew and stays: the link shrank under the sender.
   * An overuse now, not once the trendline agrees (jitter is no 30 ms
   * held over groups; a stalled receiver's late stamps are one group, its
   * burst: see belongs_to_burst). Not in the first seconds: the probes and
   * the fast start's own end find the link there, and a cut on the
   * acknowledged rate of the first 250 ms went far under it (1 Mbit/s
   * at 50 ms one way: 602 kbit/s). */
  if (!overuse && self->first_feedback_us >= 0 && now_us - self->first_feedback_us >= START_PHASE_US)
    {
      double rise = queue_rise_ms (self);
      /* the jitter only matters for a rise (it is 0 or more) */
      double noise = rise >= QUEUE_RISE_MS ? queue_noise_ms (self) : 0;

      if (rise >= QUEUE_RISE_MS + noise)
        {
          if (self->last_decrease_us < 0 || now_us - self->last_decrease_us >= G_USEC_PER_SEC)
            g_debug ("bwe: the queue grew by %.0f ms (jitter %.0f ms, %u lost)", rise, noise, lost);
          overuse = TRUE;
        }
    }
  self->last_feedback_us = now_us;
  self->last_timeout_cut_us = -1;
  if (self->first_feedback_us < 0)
    self->first_feedback_us = now_us;
  /* Packets flow and feedback comes back: time for the first probe. */
  if (self->probe_state == PROBE_IDLE)
    {
      self->probe_state = PROBE_DUE;
      self->probe_due_us = now_us;
      self->probe_next_bps = (guint64) MIN (PROBE_FIRST_SCALE * self->config.start_bps,
                                            (double) self->config.max_bps);
    }

  rate_control (self, overuse, now_us);
  update_target (self);
  probe_check (self, now_us);

  if (self->fb_loss_start_us == 0)
    self->fb_loss_start_us = now_us;
  if (self->fb_total >= LOSS_REPORT_MIN && now_us - self->fb_loss_start_us >= LOSS_REPORT_US)
    {
      self->fb_loss_start_us = now_us;
      on_loss (self, (double) self->fb_lost / self->fb_total, now_us);
      self->fb_lost = self->fb_total = 0;
    }
}

void
peercam_bwe_on_remb (PeercamBwe *self,
                     guint64     bps,
                     gint64      now_us)
{
  (void) now_us;
  self->remb_bps = bps;
  update_target (self);
}

void
peercam_bwe_on_receiver_report (PeercamBwe *self,
                                double      fraction_lost,
                                gint64      rtt_us,
                                gint64      now_us)
{
  if (rtt_us >= 0)
    self->rtt_us = rtt_us;
  if (isnan (fraction_lost))
    return;
  on_loss (self, fraction_lost, now_us);
}

gboolean
peercam_bwe_is_ramping_up (PeercamBwe *self)
{
  return self->fast_start;
}

void
peercam_bwe_update (PeercamBwe *self,
                    gint64      now_us)
{
  /* Feedback stopped while we send: the reverse path or the receiver is in
   * trouble, or the forward path is so full nothing arrives. Halve, once
   * per second of silence, as libwebrtc does. */
  probe_check (self, now_us);
  if (self->last_feedback_us < 0 || now_us - self->last_feedback_us < FEEDBACK_TIMEOUT_US)
    return;
  if (self->last_timeout_cut_us >= 0 && now_us - self->last_timeout_cut_us < FEEDBACK_TIMEOUT_US)
    return;
  self->last_timeout_cut_us = now_us;
  self->delay_bps = MAX (self->delay_bps / 2, self->config.min_bps);
  self->fast_start = FALSE;
  self->rc_state = RC_HOLD;
  update_target (self);
}

guint64
peercam_bwe_get_target_bitrate (PeercamBwe *self)
{
  return self->target_bps;
}

PeercamBweUsage
peercam_bwe_get_usage (PeercamBwe *self)
{
  return self->usage;
}

double
peercam_bwe_get_loss_fraction (PeercamBwe *self)
{
  return self->loss;
}

gint64
peercam_bwe_get_rtt_us (PeercamBwe *self)
{
  return self->rtt_us;
}

double
peercam_bwe_get_threshold_ms (PeercamBwe *self)
{
  return self->threshold_ms;
}

double
peercam_bwe_get_trend_ms (PeercamBwe *self)
{
  return self->modified_trend;
}

/* ---- degradation policy ---------------------------------------------------- */

/* 720p30 at 1.3 Mbit/s, the rate browsers keep 720p at. */
#define BITS_PER_PIXEL 0.047
#define MIN_FPS        5

static const struct { guint num, den; } ladder[] = {
  { 1, 1 }, { 3, 4 }, { 1, 2 }, { 3, 8 }, { 1, 4 },
};

gboolean
peercam_degradation_from_string (const char         *name,
                                 PeercamDegradation *policy)
{
  if (g_strcmp0 (name, "balanced") == 0)
    *policy = PEERCAM_DEGRADATION_BALANCED;
  else if (g_strcmp0 (name, "maintain-resolution") == 0)
    *policy = PEERCAM_DEGRADATION_MAINTAIN_RESOLUTION;
  else if (g_strcmp0 (name, "maintain-framerate") == 0)
    *policy = PEERCAM_DEGRADATION_MAINTAIN_FRAMERATE;
  else
    return FALSE;
  return TRUE;
}

static double
needed_bps (guint width,
            guint height,
            guint fps)
{
  return (double) width * height * fps * BITS_PER_PIXEL;
}

static guint
even (guint v)
{
  return MAX (2u, v & ~1u);
}

static guint
fps_for (double bps,
         double full_rate_bps,
         guint  max_fps)
{
  double fps;

  if (bps >= full_rate_bps)
    return max_fps;
  fps = max_fps * bps / full_rate_bps;
  return (guint) CLAMP (fps, (double) MIN (MIN_FPS, max_fps), (double) max_fps);
}

PeercamVideoFormat
peercam_degradation_apply (PeercamDegradation        policy,
                           const PeercamVideoFormat *source,
                           guint64                   bps)
{
  PeercamVideoFormat out = *source;
  guint rung;

  g_return_val_if_fail (source->width > 0 && source->height > 0 && source->fps > 0, out);

  if (policy == PEERCAM_DEGRADATION_MAINTAIN_RESOLUTION)
    {
      /* The encoder can go down to half the usual bits per pixel before
       * frames have to go. */
      out.fps = fps_for (bps, needed_bps (source->width, source->height, source->fps) / 2, source->fps);
      return out;
    }

  for (rung = 0; rung + 1 < G_N_ELEMENTS (ladder); rung++)
    {
      guint w = even (source->width * ladder[rung].num / ladder[rung].den);
      guint h = even (source->height * ladder[rung].num / ladder[rung].den);

      if (bps >= needed_bps (w, h, source->fps))
        break;
    }
  out.width = even (source->width * ladder[rung].num / ladder[rung].den);
  out.height = even (source->height * ladder[rung].num / ladder[rung].den);
  if (policy == PEERCAM_DEGRADATION_BALANCED)
    out.fps = fps_for (bps, needed_bps (out.width, out.height, source->fps), source->fps);
  return out;
}
