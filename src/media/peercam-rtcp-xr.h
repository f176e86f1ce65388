/* peercam-rtcp-xr.h — receiver RTT through RTCP XR (pure: GLib only)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A receive-only peer learns the round-trip time only from RTCP XR
 * (RFC 3611): it sends a Receiver Reference Time block (RRTR, §4.4) and the
 * sender answers with a DLRR block (§4.5) naming that time and how long it
 * held it; the receiver subtracts both from its clock. Chromium offers this
 * as `a=rtcp-xr:rcvr-rtt=all` and its jitter buffer adds the RTT to the
 * playout delay once frames needed retransmissions: without the answer a
 * retransmitted frame is due before it can arrive, and the picture freezes.
 *
 * PeercamRrtrResponder reads the RRTR blocks in incoming compound RTCP and
 * makes the XR packet with the DLRR block that answers them, once each,
 * in the sender's next report. Times are microseconds on one monotonic
 * clock chosen by the caller; packets are plain RTCP (after SRTCP).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* the SDP attribute (a=rtcp-xr:…) that offers it */
#define PEERCAM_RTCP_XR_RCVR_RTT "rcvr-rtt=all"

typedef struct _PeercamRrtrResponder PeercamRrtrResponder;

PeercamRrtrResponder *peercam_rrtr_responder_new      (void);
void                  peercam_rrtr_responder_free     (PeercamRrtrResponder *self);

/* Remembers every RRTR block in the compound RTCP packet @data (the latest
 * per sender SSRC); a malformed packet ends the walk, never reads past
 * @size. Returns how many it found. */
guint                 peercam_rrtr_responder_on_rtcp  (PeercamRrtrResponder *self,
                                                       const guint8         *data,
                                                       gsize                 size,
                                                       gint64                now_us);
/* RRTR blocks not answered yet. */
guint                 peercam_rrtr_responder_get_pending (PeercamRrtrResponder *self);
/* An XR packet from @sender_ssrc with one DLRR block answering each
 * pending RRTR (then none is pending), or NULL when none is. */
GBytes               *peercam_rrtr_responder_take_dlrr (PeercamRrtrResponder *self,
                                                       guint32               sender_ssrc,
                                                       gint64                now_us);
guint64               peercam_rrtr_responder_get_answered (PeercamRrtrResponder *self);

/* The SSRC of the sender report that starts the compound RTCP packet
 * @data: the stream whose sender answers (the DLRR goes in its compound);
 * FALSE when @data starts with anything else (a receiver report from a
 * source that sends no media, feedback). */
gboolean              peercam_rtcp_sender_report_ssrc (const guint8         *data,
                                                       gsize                 size,
                                                       guint32              *ssrc);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamRrtrResponder, peercam_rrtr_responder_free)

G_END_DECLS
