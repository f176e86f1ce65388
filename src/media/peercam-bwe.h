/* peercam-bwe.h — sender-side bandwidth estimation (pure: GLib only)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * In the spirit of Google Congestion Control (draft-ietf-rmcat-gcc and
 * libwebrtc's goog_cc), written from the published descriptions:
 *
 *  - a delay-based estimator: packets sent within 5 ms form a group; the
 *    change in one-way delay between groups feeds a trendline filter (a
 *    least-squares slope over the last 20 smoothed delays) whose output an
 *    overuse detector compares with an adaptive threshold;
 *  - an AIMD rate controller driven by that detector: multiplicative increase
 *    (fast start: doubling every 400 ms until the first overuse, then 8 %/s),
 *    additive increase near the last known capacity, and a decrease to 0.85 of
 *    the acknowledged (received) rate on overuse;
 *  - a loss-based controller: below 2 % loss it lets the rate grow, from 2 to
 *    10 % it holds, above 10 % it decreases by half the loss fraction;
 *  - REMB (the receiver's estimate) caps the result;
 *  - a stall of either host is no smaller link: after a gap in the
 *    arrivals (a sender with nothing to send, a receiver that read nothing
 *    and then its whole socket at once) the acknowledged rate and the delay
 *    trend start afresh, the rate held from before the gap, and packets
 *    that arrived in a burst form one group (libwebrtc's InterArrivalDelta);
 *  - probing, as libwebrtc's ProbeController and ProbeBitrateEstimator do:
 *    the estimator asks for a short cluster of packets at a rate above the
 *    estimate (3x the start rate, then 2x each result that held), the
 *    pacer sends it (padding where media is short), and the rate the
 *    cluster was delivered at, from transport-cc feedback, becomes the
 *    estimate: the link proves a rate before the encoder uses it, and a
 *    cluster delivered clearly slower than it was sent is the link's end.
 *
 * Inputs are plain numbers: per-packet send times and sizes keyed by the
 * transport-wide sequence number, transport-cc feedback (arrival time per
 * sequence number), REMB bitrates, receiver reports (fraction lost, RTT). All
 * times are in microseconds on one monotonic clock chosen by the caller; the
 * arrival times in feedback are on the receiver's clock (only their
 * differences matter).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PEERCAM_BWE_DEFAULT_MIN_BPS     100000
#define PEERCAM_BWE_DEFAULT_START_BPS   600000
#define PEERCAM_BWE_DEFAULT_MAX_BPS    2500000

typedef struct {
  guint64 min_bps;    /* 0: PEERCAM_BWE_DEFAULT_MIN_BPS */
  guint64 start_bps;  /* 0: PEERCAM_BWE_DEFAULT_START_BPS */
  guint64 max_bps;    /* 0: PEERCAM_BWE_DEFAULT_MAX_BPS */
} PeercamBweConfig;

typedef enum {
  PEERCAM_BWE_NORMAL,
  PEERCAM_BWE_OVERUSING,
  PEERCAM_BWE_UNDERUSING,
} PeercamBweUsage;

/* What transport-cc feedback says about one packet. */
typedef struct {
  guint16 seq;         /* transport-wide sequence number */
  gboolean received;
  gint64  arrival_us;  /* receiver clock; ignored when !received */
} PeercamBweArrival;

/* A probe cluster the sender should send: @bps for at least @duration_us
 * and @min_packets packets. */
typedef struct {
  guint   id;
  guint64 bps;
  gint64  duration_us;
  guint   min_packets;
} PeercamBweProbe;

typedef struct _PeercamBwe PeercamBwe;

PeercamBwe     *peercam_bwe_new                 (const PeercamBweConfig  *config);
void            peercam_bwe_free                (PeercamBwe              *self);

/* A packet left the sender (after pacing) carrying transport-wide @seq. */
void            peercam_bwe_on_packet_sent      (PeercamBwe              *self,
                                                 guint16                  seq,
                                                 gint64                   send_us,
                                                 gsize                    size);
/* One transport-cc feedback message, in sequence-number order; @now_us is the
 * sender's clock when it arrived. Unknown sequence numbers are ignored. */
void            peercam_bwe_on_transport_feedback (PeercamBwe            *self,
                                                 const PeercamBweArrival *arrivals,
                                                 guint                    n_arrivals,
                                                 gint64                   now_us);
/* The receiver's REMB bitrate; 0 removes the cap. */
void            peercam_bwe_on_remb             (PeercamBwe              *self,
                                                 guint64                  bps,
                                                 gint64                   now_us);
/* A receiver report block: @fraction_lost in [0, 1]; @rtt_us < 0: unknown. */
void            peercam_bwe_on_receiver_report  (PeercamBwe              *self,
                                                 double                   fraction_lost,
                                                 gint64                   rtt_us,
                                                 gint64                   now_us);
/* Call periodically (e.g. every 500 ms): without transport-cc feedback for
 * a second after some had come, the estimate halves once a second. */
void            peercam_bwe_update              (PeercamBwe              *self,
                                                 gint64                   now_us);
guint64         peercam_bwe_get_target_bitrate  (PeercamBwe              *self);

/* ---- probing ---- */

/* TRUE (once per cluster) when a probe cluster should go out now. */
gboolean        peercam_bwe_poll_probe          (PeercamBwe              *self,
                                                 gint64                   now_us,
                                                 PeercamBweProbe         *probe);
/* Cluster @id left: @n_packets packets, the first sent at @first_us and
 * the last at @last_us (the clock of on_packet_sent; the packets are the
 * first @n_packets sent from @first_us on). @n_packets == 0: the sender
 * could not send it (no padding): a failed probe. */
void            peercam_bwe_on_probe_sent       (PeercamBwe              *self,
                                                 guint                    id,
                                                 gint64                   first_us,
                                                 gint64                   last_us,
                                                 guint                    n_packets);
/* The last probe result (bit/s, what the estimate took from it); 0: none. */
guint64         peercam_bwe_get_probe_result    (PeercamBwe              *self);
/* Probe clusters asked for, and their bytes as sent (for budgets and stats). */
guint           peercam_bwe_get_probes          (PeercamBwe              *self);
guint64         peercam_bwe_get_probe_bytes     (PeercamBwe              *self);
/* TRUE until the first overuse: the fast start is still looking for the
 * link's capacity. */
gboolean        peercam_bwe_is_ramping_up       (PeercamBwe              *self);
/* The receive rate transport-cc feedback acknowledged lately; 0: unknown. */
guint64         peercam_bwe_get_acked_bitrate   (PeercamBwe              *self);
PeercamBweUsage peercam_bwe_get_usage           (PeercamBwe              *self);
/* The loss fraction the loss controller acts on: receiver reports and
 * transport-cc losses, smoothed over about four reports; in [0, 1]. */
double          peercam_bwe_get_loss_fraction   (PeercamBwe              *self);
/* -1 when unknown. */
gint64          peercam_bwe_get_rtt_us          (PeercamBwe              *self);
/* The overuse detector's current threshold and modified trend, in ms (for
 * stats and tests). */
double          peercam_bwe_get_threshold_ms    (PeercamBwe              *self);
double          peercam_bwe_get_trend_ms        (PeercamBwe              *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamBwe, peercam_bwe_free)

/* ---- degradation policy -------------------------------------------------- */

typedef enum {
  PEERCAM_DEGRADATION_BALANCED,             /* resolution first, then frame rate */
  PEERCAM_DEGRADATION_MAINTAIN_RESOLUTION,  /* lower the frame rate only */
  PEERCAM_DEGRADATION_MAINTAIN_FRAMERATE,   /* lower the resolution only */
} PeercamDegradation;

typedef struct {
  guint width;
  guint height;
  guint fps;
} PeercamVideoFormat;

/* Returns TRUE and sets @policy for "balanced", "maintain-resolution",
 * "maintain-framerate" (the WebRTC degradationPreference names). */
gboolean           peercam_degradation_from_string (const char         *name,
                                                    PeercamDegradation *policy);

/* What to send at @bps given the source format @source: a pure function.
 * Resolutions follow the browser ladder 1, 3/4, 1/2, 3/8, 1/4 of the source
 * (1280x720 → 960x540 → 640x360 → 480x270 → 320x180); a rung is used when
 * the rate gives it about 0.047 bits per pixel per frame (720p30 at
 * 1.3 Mbit/s). Sizes stay even; the frame rate never drops below 5. */
PeercamVideoFormat peercam_degradation_apply      (PeercamDegradation        policy,
                                                    const PeercamVideoFormat *source,
                                                    guint64                   bps);

G_END_DECLS
