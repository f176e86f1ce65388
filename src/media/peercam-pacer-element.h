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
 *    retransmitter only when the PeercamRtxPolicy allows them.
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

GstElement *peercam_pacer_element_new                 (void);
void        peercam_pacer_element_set_feedback_func   (PeercamPacerElement      *self,
                                                       PeercamPacerFeedbackFunc  func,
                                                       gpointer                  user_data,
                                                       GDestroyNotify            destroy);
void        peercam_pacer_element_set_target_bitrate  (PeercamPacerElement      *self,
                                                       guint64                   bps);
void        peercam_pacer_element_set_burst_us        (PeercamPacerElement      *self,
                                                       gint64                    burst_us);
void        peercam_pacer_element_set_rtt             (PeercamPacerElement      *self,
                                                       gint64                    rtt_us);
/* Counters since creation. */
guint64     peercam_pacer_element_get_retransmissions (PeercamPacerElement      *self);
guint64     peercam_pacer_element_get_refused_nacks   (PeercamPacerElement      *self);
guint64     peercam_pacer_element_get_sent_bytes      (PeercamPacerElement      *self);
/* The pacer queue's current delay. */
gint64      peercam_pacer_element_get_queue_delay_us  (PeercamPacerElement      *self);

G_END_DECLS
