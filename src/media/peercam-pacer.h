/* peercam-pacer.h — pacing, retransmission and keyframe policy (pure: GLib only)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Three small policies a congestion-controlled sender needs, free of any
 * media framework so they can be tested against synthetic traces:
 *
 *  - PeercamPacer: a leaky bucket that lets packets out at pacing_factor
 *    (2.5) times the target bitrate, with a burst allowance of a few ms of
 *    that rate. Keyframes are paced like everything else: a 100 ms
 *    bottleneck buffer overflows when a keyframe leaves at line rate. The
 *    queue is bounded in time: when its oldest packet would wait longer than
 *    max_queue_us, the pacer drains faster instead of dropping media.
 *    Media, retransmissions and padding also share one budget at the
 *    target itself: over any interval T, at most target × (T + budget_us)
 *    leaves (budget_us 100 ms), so a keyframe, the repairs that follow a
 *    loss and the keyframe of a format change go at the estimate, not on
 *    top of it (only the queue bound, and probe clusters, go faster).
 *    A probe cluster (peercam_pacer_start_cluster) sends the next bytes at
 *    the probe's rate instead, padding filling what the queue lacks, and
 *    reports when its first and last packet left.
 *    The sender keeps the queue short by pushing back on the encoder:
 *    while the queue needs more than pushback_us to leave
 *    (peercam_pacer_should_drop_frame), the next video frame is dropped
 *    before it is encoded, as libwebrtc's pacer pushback does, so the
 *    queue bound's faster draining stays an exception.
 *  - PeercamRtxPolicy: whether to answer a NACK — at most N retransmissions
 *    of a packet, never once it is older than what the receiver's jitter
 *    buffer can still use, never twice within one RTT, never while the
 *    original still waits in the pacer's queue, and retransmitted bytes
 *    limited to a share of the estimate.
 *  - PeercamKeyframeLimiter: keyframe requests (PLI/FIR) forwarded to the
 *    encoder at most once per interval (1 s, or 2 × RTT if longer); requests
 *    inside the interval are merged into one served when it ends.
 *
 * Times are microseconds on one monotonic clock chosen by the caller.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ---- pacer ----------------------------------------------------------------- */

#define PEERCAM_PACER_DEFAULT_FACTOR        2.5
#define PEERCAM_PACER_DEFAULT_BURST_US      5000
#define PEERCAM_PACER_DEFAULT_MAX_QUEUE_US  250000
#define PEERCAM_PACER_DEFAULT_BUDGET_US     100000
#define PEERCAM_PACER_DEFAULT_PUSHBACK_US   100000
#define PEERCAM_PACER_DEFAULT_TARGET_BPS    600000

typedef enum {
  PEERCAM_PACER_AUDIO,           /* first: small and late audio is useless */
  PEERCAM_PACER_RETRANSMISSION,  /* then repairs, before new video */
  PEERCAM_PACER_VIDEO,
  PEERCAM_PACER_N_PRIORITIES,
} PeercamPacerPriority;

typedef struct {
  double pacing_factor;  /* 0: PEERCAM_PACER_DEFAULT_FACTOR */
  gint64 burst_us;       /* 0: PEERCAM_PACER_DEFAULT_BURST_US */
  gint64 max_queue_us;   /* 0: PEERCAM_PACER_DEFAULT_MAX_QUEUE_US */
  gint64 budget_us;      /* what the target rate saves up; 0: PEERCAM_PACER_DEFAULT_BUDGET_US,
                          * < 0: no budget (only the pacing rate) */
  gint64 pushback_us;    /* 0: PEERCAM_PACER_DEFAULT_PUSHBACK_US */
} PeercamPacerConfig;

typedef struct _PeercamPacer PeercamPacer;

/* @packet_free: frees packets still queued when the pacer is freed (may be NULL). */
PeercamPacer *peercam_pacer_new              (const PeercamPacerConfig *config,
                                              GDestroyNotify            packet_free);
void          peercam_pacer_free             (PeercamPacer             *self);
/* Drops (frees) everything queued. */
void          peercam_pacer_clear            (PeercamPacer             *self);

void          peercam_pacer_set_target_bitrate (PeercamPacer           *self,
                                              guint64                   bps);
/* The burst allowance: how much of the pacing rate an idle pacer saves up
 * and lets out at once; 0: the configured one. */
void          peercam_pacer_set_burst_us     (PeercamPacer             *self,
                                              gint64                    burst_us);
/* The shared budget (see above): < 0 none, only the pacing rate (a fast
 * start whose estimate lags the link); 0: the configured one. */
void          peercam_pacer_set_budget_us    (PeercamPacer             *self,
                                              gint64                    budget_us);
/* target × pacing factor */
guint64       peercam_pacer_get_pacing_rate  (PeercamPacer             *self);

/* Queues @packet (@size bytes; never NULL). */
void          peercam_pacer_push             (PeercamPacer             *self,
                                              gpointer                  packet,
                                              gsize                     size,
                                              PeercamPacerPriority      priority,
                                              gint64                    now_us);
/* The next packet allowed out at @now_us, highest priority first, or NULL.
 * @size (out, optional): its size. */
gpointer      peercam_pacer_pop              (PeercamPacer             *self,
                                              gint64                    now_us,
                                              gsize                    *size);
/* When pop() can next return a packet: <= @now_us means now, -1 means the
 * queue is empty. */
gint64        peercam_pacer_next_send_us     (PeercamPacer             *self,
                                              gint64                    now_us);
guint         peercam_pacer_get_queued_packets (PeercamPacer           *self);
gsize         peercam_pacer_get_queued_bytes (PeercamPacer             *self);
/* Age of the oldest queued packet; 0 when empty. */
gint64        peercam_pacer_get_queue_delay_us (PeercamPacer           *self,
                                              gint64                    now_us);
/* How long what is queued needs to leave at the rate it goes now: the
 * target with the shared budget, the pacing rate without (the fast start). */
gint64        peercam_pacer_get_expected_queue_us (PeercamPacer        *self);
/* TRUE while the expected queue is longer than pushback_us: the sender
 * drops the next video frame before encoding it. A frame of 4 average
 * ones (a keyframe) admitted just under that still leaves within the
 * queue bound at the target. */
gboolean      peercam_pacer_should_drop_frame (PeercamPacer            *self);

/* Probe clusters: the next @bytes (and at least @min_packets packets) leave
 * at @bps, not at the pacing rate; media queued meanwhile counts, padding
 * fills the rest (take_padding_request). A cluster short of its bytes
 * after @timeout_us ends incomplete. A new cluster replaces one in
 * progress (which ends incomplete). */
typedef struct {
  guint    id;
  gint64   first_us;   /* when its first packet left */
  gint64   last_us;    /* and its last */
  guint    packets;
  gsize    bytes;
  gboolean complete;   /* FALSE: timed out (no padding came) */
} PeercamPacerCluster;

void          peercam_pacer_start_cluster    (PeercamPacer             *self,
                                              guint                     id,
                                              guint64                   bps,
                                              gsize                     bytes,
                                              guint                     min_packets,
                                              gint64                    timeout_us,
                                              gint64                    now_us);
gboolean      peercam_pacer_is_probing       (PeercamPacer             *self);
/* What padding the cluster needs beyond what is queued, once: TRUE with
 * @bytes and @packets (at least) to queue; the caller queues that much. */
gboolean      peercam_pacer_take_padding_request (PeercamPacer         *self,
                                              gsize                    *bytes,
                                              guint                    *packets);
/* A cluster that ended (complete or not), once. */
gboolean      peercam_pacer_take_cluster     (PeercamPacer             *self,
                                              PeercamPacerCluster      *cluster);
/* Bytes sent in clusters so far. */
guint64       peercam_pacer_get_cluster_bytes (PeercamPacer            *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamPacer, peercam_pacer_free)

/* ---- retransmission policy ------------------------------------------------- */

#define PEERCAM_RTX_DEFAULT_MAX_RETRANSMISSIONS  3
#define PEERCAM_RTX_DEFAULT_MAX_AGE_US           500000
#define PEERCAM_RTX_DEFAULT_MAX_SHARE            0.25

typedef enum {
  PEERCAM_RTX_SEND,         /* retransmit it */
  PEERCAM_RTX_UNKNOWN,      /* never sent, or no longer remembered */
  PEERCAM_RTX_TOO_OLD,      /* the receiver can't use it any more */
  PEERCAM_RTX_TOO_MANY,     /* retransmitted max_retransmissions times already */
  PEERCAM_RTX_TOO_SOON,     /* retransmitted less than an RTT ago */
  PEERCAM_RTX_OVER_BUDGET,  /* retransmissions would exceed their share */
  PEERCAM_RTX_PENDING,      /* the original has not left yet: it is on its way */
} PeercamRtxVerdict;

typedef struct {
  guint  max_retransmissions;  /* 0: PEERCAM_RTX_DEFAULT_MAX_RETRANSMISSIONS */
  gint64 max_age_us;           /* 0: PEERCAM_RTX_DEFAULT_MAX_AGE_US */
  double max_share;            /* of the target bitrate; 0: PEERCAM_RTX_DEFAULT_MAX_SHARE */
} PeercamRtxConfig;

typedef struct _PeercamRtxPolicy PeercamRtxPolicy;

PeercamRtxPolicy *peercam_rtx_policy_new      (const PeercamRtxConfig *config);
void              peercam_rtx_policy_free     (PeercamRtxPolicy       *self);

void              peercam_rtx_policy_set_target_bitrate (PeercamRtxPolicy *self,
                                                         guint64           bps);
/* < 0: unknown (then only a 10 ms minimum spacing applies). */
void              peercam_rtx_policy_set_rtt  (PeercamRtxPolicy       *self,
                                               gint64                  rtt_us);
/* The receiver's jitter-buffer budget, when known: packets older than this
 * are useless to it. */
void              peercam_rtx_policy_set_max_age (PeercamRtxPolicy    *self,
                                                  gint64               max_age_us);
/* An original packet (RTP sequence number @seq of one stream) was queued
 * for sending: a NACK for it is PENDING until on_sent(). */
void              peercam_rtx_policy_on_queued (PeercamRtxPolicy      *self,
                                               guint16                 seq,
                                               gsize                   size);
/* An original packet left (queued before or not). */
void              peercam_rtx_policy_on_sent  (PeercamRtxPolicy       *self,
                                               guint16                 seq,
                                               gsize                   size,
                                               gint64                  now_us);
/* A NACK asks for @seq. SEND counts it as retransmitted. */
PeercamRtxVerdict peercam_rtx_policy_on_nack  (PeercamRtxPolicy       *self,
                                               guint16                 seq,
                                               gint64                  now_us);
guint64           peercam_rtx_policy_get_retransmissions (PeercamRtxPolicy *self);
guint64           peercam_rtx_policy_get_retransmitted_bytes (PeercamRtxPolicy *self);
guint64           peercam_rtx_policy_get_refused (PeercamRtxPolicy     *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamRtxPolicy, peercam_rtx_policy_free)

/* ---- keyframe requests -------------------------------------------------- */

#define PEERCAM_KEYFRAME_DEFAULT_INTERVAL_US  G_USEC_PER_SEC

typedef struct _PeercamKeyframeLimiter PeercamKeyframeLimiter;

/* @min_interval_us: 0 for PEERCAM_KEYFRAME_DEFAULT_INTERVAL_US. */
PeercamKeyframeLimiter *peercam_keyframe_limiter_new  (gint64                  min_interval_us);
void                    peercam_keyframe_limiter_free (PeercamKeyframeLimiter *self);

void     peercam_keyframe_limiter_set_rtt     (PeercamKeyframeLimiter *self,
                                               gint64                  rtt_us);
/* A keyframe was asked for: TRUE means make one now; FALSE means it was
 * merged into a pending one (see poll()). */
gboolean peercam_keyframe_limiter_request     (PeercamKeyframeLimiter *self,
                                               gint64                  now_us);
/* TRUE (once) when a merged request is due at @now_us. */
gboolean peercam_keyframe_limiter_poll        (PeercamKeyframeLimiter *self,
                                               gint64                  now_us);
/* When the pending request is due; -1 when none is pending. */
gint64   peercam_keyframe_limiter_next_due_us (PeercamKeyframeLimiter *self);
guint64  peercam_keyframe_limiter_get_forwarded (PeercamKeyframeLimiter *self);
guint64  peercam_keyframe_limiter_get_merged  (PeercamKeyframeLimiter *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamKeyframeLimiter, peercam_keyframe_limiter_free)

G_END_DECLS
