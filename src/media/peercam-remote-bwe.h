/* peercam-remote-bwe.h — receive-side bandwidth estimation and REMB (pure: GLib only)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A sender that adapts from REMB alone (aiortc 1.4: goog-remb and
 * abs-send-time, no transport-cc) learns the link's capacity only from its
 * receiver's estimate. This is that estimate, as libwebrtc's
 * remote_bitrate_estimator_abs_send_time makes it: the receiver knows when
 * each packet arrived and, from the abs-send-time header extension, when it
 * left, which is all PeercamBwe's delay-based estimator and AIMD rate
 * controller take from transport-cc feedback. So each arriving packet is fed
 * to a PeercamBwe as a packet "sent" at its abs-send-time and at once
 * "acknowledged" at its arrival: the same inter-arrival groups, trendline,
 * overuse detector, acknowledged rate (here the incoming rate), stall
 * handling and loss controller (gaps in the RTP sequence numbers are the
 * lost packets), one estimator for both ends. No probing (the receiver
 * can't ask for clusters); no halving when packets stop (a sender with
 * nothing to send is no smaller link).
 *
 * Without abs-send-time the RTP timestamp stands in for the send time: the
 * packets of one frame share it and form one group, and a frame's capture
 * time is its send time give or take the encoder's jitter.
 *
 * The REMB goes out at libwebrtc's rhythm: once a second, and at once when
 * the estimate falls more than 3 % below the last one sent. Times are
 * microseconds on one monotonic clock chosen by the caller.
 */
#pragma once

#include <glib.h>

#include "peercam-bwe.h"

G_BEGIN_DECLS

typedef struct _PeercamRemoteBwe PeercamRemoteBwe;

/* @config: as PeercamBwe's (start_bps is the estimate before any overuse). */
PeercamRemoteBwe *peercam_remote_bwe_new            (const PeercamBweConfig *config);
void              peercam_remote_bwe_free           (PeercamRemoteBwe       *self);

/* One media packet of the stream arrived at @arrival_us: its RTP sequence
 * number, its size on the wire (@size: IP, UDP, RTP and SRTP; the link
 * carries those) and its payload's (@payload_size: what the sender's
 * encoder made), and its abs-send-time (the 24-bit 6.18 fixed-point seconds
 * of the header extension). */
void              peercam_remote_bwe_on_abs_send_time (PeercamRemoteBwe     *self,
                                                     guint16                 seq,
                                                     guint32                 abs_send_time,
                                                     gsize                   size,
                                                     gsize                   payload_size,
                                                     gint64                  arrival_us);
/* The same without abs-send-time: the RTP timestamp at @clock_rate. */
void              peercam_remote_bwe_on_rtp_timestamp (PeercamRemoteBwe     *self,
                                                     guint16                 seq,
                                                     guint32                 rtp_timestamp,
                                                     guint                   clock_rate,
                                                     gsize                   size,
                                                     gsize                   payload_size,
                                                     gint64                  arrival_us);

/* The estimate in bit/s; 0 until packets have arrived for a second. */
guint64           peercam_remote_bwe_get_estimate   (PeercamRemoteBwe       *self);
/* The loss the estimate acts on, in [0, 1]. */
double            peercam_remote_bwe_get_loss_fraction (PeercamRemoteBwe    *self);

/* The longest a packet waited in a queue (its delay above the least one)
 * over the last 10 s; 0: none seen. A sender probing past the link's
 * rate fills the bottleneck's buffer now and then, and the jitter buffer
 * needs room for that. */
gint64            peercam_remote_bwe_get_max_queue_us (PeercamRemoteBwe     *self);

/* TRUE when a REMB should go out now, with @bps the bitrate to send (the
 * caller sends it: the next check counts from @now_us). That is the
 * estimate's payload share (payload bytes over wire bytes lately): a
 * sender that adapts from REMB alone sets its encoder's target to it
 * (aiortc), and the headers come on top (at 300 kbit/s aiortc's ~600-byte
 * packets carry over 10 % of them). */
gboolean          peercam_remote_bwe_poll_remb      (PeercamRemoteBwe       *self,
                                                     gint64                  now_us,
                                                     guint64                *bps);
guint             peercam_remote_bwe_get_rembs      (PeercamRemoteBwe       *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamRemoteBwe, peercam_remote_bwe_free)

/* An RTCP REMB packet (draft-alvestrand-rmcat-remb: PSFB, FMT 15, media
 * SSRC 0, FCI "REMB", the SSRC count, a 6-bit exponent and 18-bit
 * mantissa, the SSRCs) from @sender_ssrc about @ssrcs (1 to 255). */
GBytes           *peercam_remb_build                (guint32                 sender_ssrc,
                                                     guint64                 bps,
                                                     const guint32          *ssrcs,
                                                     guint                   n_ssrcs);
/* Reads one: FALSE when @data is no REMB packet or runs short. @ssrcs
 * (may be NULL) gets the first of them, up to @max_ssrcs; @n_ssrcs how many
 * the packet names. */
gboolean          peercam_remb_parse                (const guint8           *data,
                                                     gsize                   size,
                                                     guint64                *bps,
                                                     guint32                *ssrcs,
                                                     guint                   max_ssrcs,
                                                     guint                  *n_ssrcs);
/* The same from its FCI on ("REMB", as rtpsession's on-feedback-rtcp
 * hands it over): FALSE when it is no REMB or ends before the bitrate.
 * @ssrcs gets those of the first @max_ssrcs that @size holds. */
gboolean          peercam_remb_parse_fci            (const guint8           *fci,
                                                     gsize                   size,
                                                     guint64                *bps,
                                                     guint32                *ssrcs,
                                                     guint                   max_ssrcs,
                                                     guint                  *n_ssrcs);

G_END_DECLS
