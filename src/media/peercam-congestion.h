/* peercam-congestion.h — congestion control for one call (GStreamer, no GTK)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sender: negotiates the transport-wide-cc header extension, paces through a
 * PeercamPacerElement that webrtcbin's "request-aux-sender" puts before the
 * rtpsession, feeds PeercamBwe with transport-cc feedback, REMB and
 * receiver reports, and applies the estimate: the encoder's bitrate, and the
 * resolution (degradation policy) through a capsfilter behind a videoscale,
 * the frame rate by dropping frames in front of the scaler. It merges
 * keyframe requests (one per 500 ms), bounds retransmissions
 * (PeercamRtxPolicy, in the pacer element) and drops a frame in front of
 * the encoder while the pacer's queue is long (pushback).
 *
 * Viewer: NACK/RTX are webrtcbin's (do-nack); this adapts the jitter buffer
 * latency to measured jitter and RTT (from the configured floor up to
 * 300 ms) and merges the viewer's own keyframe requests. Transport-cc
 * feedback goes out by itself once the extension is negotiated; a caller
 * that offered goog-remb without transport-cc (aiortc) gets REMB from a
 * receive-side estimate (PeercamRemoteBwe) instead.
 *
 * Everything runs on the GMainContext given to new(); streaming-thread
 * callbacks only touch the estimator under its lock and hop here for the rest.
 */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <json-glib/json-glib.h>

#include "peercam-call-stats.h"

#include "peercam-bwe.h"

G_BEGIN_DECLS

#define PEERCAM_TWCC_URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define PEERCAM_ABS_SEND_TIME_URI "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"

#define PEERCAM_TYPE_CONGESTION (peercam_congestion_get_type ())
G_DECLARE_FINAL_TYPE (PeercamCongestion, peercam_congestion, PEERCAM, CONGESTION, GObject)

PeercamCongestion *peercam_congestion_new            (GMainContext            *context);

/* Before the first offer, with the branch linked. @filter: a capsfilter
 * behind a videoscale in front of @encoder (NULL: bitrate only). @source: the format
 * the branch receives. */
void               peercam_congestion_attach_sender  (PeercamCongestion       *self,
                                                      GstElement              *webrtc,
                                                      GstWebRTCRTPTransceiver *transceiver,
                                                      GstElement              *encoder,
                                                      GstElement              *payloader,
                                                      GstElement              *filter,
                                                      const PeercamVideoFormat *source);
/* Before the remote description is set. @min_latency_ms: the configured
 * jitter buffer latency, the floor of the adaptive one. */
void               peercam_congestion_attach_viewer  (PeercamCongestion       *self,
                                                      GstElement              *webrtc,
                                                      guint                    min_latency_ms);
/* Viewer: accept the offer's transport-wide-cc extension on a receiving
 * transceiver (webrtcbin 1.22 answers only the extensions its codec
 * preferences name); from a caller that offers goog-remb without it
 * (aiortc), abs-send-time instead, for the viewer's REMB estimate. Returns
 * TRUE when the offer had transport-wide-cc. */
gboolean           peercam_congestion_accept_twcc    (GstWebRTCRTPTransceiver *transceiver,
                                                      const GstSDPMedia       *offer);
/* Sender: drive another encoder (and its scaler's @filter) from now on, a
 * viewer moving between a shared encoder and one of its own. Controllers
 * attached to one encoder share it: it runs at the smallest of their
 * bitrates and formats. */
void               peercam_congestion_move_encoder   (PeercamCongestion       *self,
                                                      GstElement              *encoder,
                                                      GstElement              *filter);
/* Stops everything; the object can be dropped afterwards. */
void               peercam_congestion_detach         (PeercamCongestion       *self);

/* Fills in this call's congestion figures: a sender's (has_send) or a
 * receiver's (has_receive). */
void               peercam_congestion_fill_stats     (PeercamCongestion       *self,
                                                      PeercamCallStats        *stats);

PeercamDegradation peercam_congestion_get_degradation (PeercamCongestion      *self);
void               peercam_congestion_set_degradation (PeercamCongestion      *self,
                                                       PeercamDegradation      degradation);
guint              peercam_congestion_get_estimate_kbps (PeercamCongestion    *self);
guint              peercam_congestion_get_latency_ms (PeercamCongestion       *self);

G_END_DECLS
