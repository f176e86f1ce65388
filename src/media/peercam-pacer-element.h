/* peercam-pacer-element.h — the paced sender between rtpbin and the network
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A GstElement that webrtcbin's "request-aux-sender" places in front of the
 * sending rtpsession, in the spirit of gst-plugins-rs's rtpgccbwe:
 *
 *  - RTP packets (buffers or lists) go into a PeercamPacer and leave from the
 *    source pad's own thread at the pacing rate; retransmissions (any payload
 *    type other than the stream's, e.g. RFC 4588 RTX) go first;
 *  - upstream "RTPTWCCPackets" events (rtpsession's parsed transport-cc
 *    feedback) are handed to a feedback function and dropped;
 *  - upstream "GstRTPRetransmissionRequest" events (NACKs) pass to the
 *    retransmitter only when the PeercamRtxPolicy allows them;
 *  - probe clusters (start_probe): the pacer sends the next bytes at the
 *    probe's rate, and pads with retransmissions of the media packets it
 *    sent last, asked of the retransmitter (rtprtxsend, upstream) as a
 *    NACK would (libwebrtc pads with RTX too); a probe function hears when
 *    the cluster's first and last packet left.
 *
 * The setters may be called from any thread.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define PEERCAM_TYPE_PACER_ELEMENT (peercam_pacer_element_get_type ())
G_DECLARE_FINAL_TYPE (PeercamPacerElement, peercam_pacer_element, PEERCAM, PACER_ELEMENT, GstElement)

/* Called on a streaming thread with one "RTPTWCCPackets" structure. */
typedef void (*PeercamPacerFeedbackFunc) (const GstStructure *packets,
                                          gpointer            user_data);

/* Called on the pacing thread when probe cluster @id ended: @n_packets
 * left between @first_us and @last_us (g_get_monotonic_time); 0 packets:
 * it could not be sent (no padding came). */
typedef void (*PeercamPacerProbeFunc) (guint    id,
                                       gint64   first_us,
                                       gint64   last_us,
                                       guint    n_packets,
                                       gpointer user_data);

GstElement *peercam_pacer_element_new                 (void);
void        peercam_pacer_element_set_probe_func      (PeercamPacerElement      *self,
                                                       PeercamPacerProbeFunc     func,
                                                       gpointer                  user_data,
                                                       GDestroyNotify            destroy);
/* Sends probe cluster @id: @bps for at least @duration_us and @min_packets. */
void        peercam_pacer_element_start_probe         (PeercamPacerElement      *self,
                                                       guint                     id,
                                                       guint64                   bps,
                                                       gint64                    duration_us,
                                                       guint                     min_packets);
void        peercam_pacer_element_set_feedback_func   (PeercamPacerElement      *self,
                                                       PeercamPacerFeedbackFunc  func,
                                                       gpointer                  user_data,
                                                       GDestroyNotify            destroy);
void        peercam_pacer_element_set_target_bitrate  (PeercamPacerElement      *self,
                                                       guint64                   bps);
void        peercam_pacer_element_set_burst_us        (PeercamPacerElement      *self,
                                                       gint64                    burst_us);
/* The budget media, repairs and padding share at the estimate itself
 * (peercam_pacer_set_budget_us): < 0 none, 0 the default. */
void        peercam_pacer_element_set_budget_us       (PeercamPacerElement      *self,
                                                       gint64                    budget_us);
void        peercam_pacer_element_set_rtt             (PeercamPacerElement      *self,
                                                       gint64                    rtt_us);
/* Counters since creation. */
guint64     peercam_pacer_element_get_retransmissions (PeercamPacerElement      *self);
guint64     peercam_pacer_element_get_refused_nacks   (PeercamPacerElement      *self);
/* NACKs refused because the packet was older than retransmissions go: the
 * viewer still waits for a frame it cannot complete any more. */
guint64     peercam_pacer_element_get_stale_nacks     (PeercamPacerElement      *self);
guint64     peercam_pacer_element_get_sent_bytes      (PeercamPacerElement      *self);
/* Retransmissions queued (answers to NACKs, not probe padding), bytes. */
guint64     peercam_pacer_element_get_rtx_bytes       (PeercamPacerElement      *self);
/* Bytes sent in probe clusters (media and padding). */
guint64     peercam_pacer_element_get_probe_bytes     (PeercamPacerElement      *self);
/* The pacer queue's current delay. */
gint64      peercam_pacer_element_get_queue_delay_us  (PeercamPacerElement      *self);
/* Whether the queue is too long for another video frame now
 * (peercam_pacer_should_drop_frame): the sender drops it before encoding. */
gboolean    peercam_pacer_element_should_drop_frame   (PeercamPacerElement      *self);

G_END_DECLS
