/* peercam-peer-connection.h — one webrtcbin: transceivers, offer/answer,
 * trickle ICE, connection state, stats and keyframe requests, in GStreamer's
 * own types (no JSON, no signaling, no GTK)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#define GST_USE_UNSTABLE_API 1
#include <gst/webrtc/webrtc.h>

#include "peercam-call-error.h"

G_BEGIN_DECLS

/* One get-stats reply, summed over the connection's RTP streams. */
typedef struct {
  guint64 bytes_sent;       /* outbound RTP */
  guint64 bytes_received;   /* inbound RTP */
  double  rtt_ms;           /* from the peer's receiver reports; -1: unknown */
} PeercamPeerStats;

#define PEERCAM_TYPE_PEER_STATS (peercam_peer_stats_get_type ())
GType             peercam_peer_stats_get_type (void);
PeercamPeerStats *peercam_peer_stats_copy     (const PeercamPeerStats *stats);
void              peercam_peer_stats_free     (PeercamPeerStats       *stats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamPeerStats, peercam_peer_stats_free)

#define PEERCAM_TYPE_PEER_CONNECTION (peercam_peer_connection_get_type ())
G_DECLARE_FINAL_TYPE (PeercamPeerConnection, peercam_peer_connection, PEERCAM, PEER_CONNECTION, GObject)

/* Signals, all on the GMainContext that was thread-default at creation, and
 * none after peercam_peer_connection_close():
 *   local-description (GstWebRTCSessionDescription *desc)
 *          an offer (after create_offer()) or an answer (after a remote offer),
 *          already set as the local description: send it to the peer.
 *   local-candidate   (guint mline, const char *candidate)
 *          "candidate:…" (no "a="); get_local_mid()/get_local_ufrag() name the line.
 *   remote-description-set ()
 *   remote-bye        ()   the peer's RTCP BYE: it hung up.
 *   stats             (PeercamPeerStats *stats)   after request_stats().
 *   error             (GError *error)   a description was refused, could not
 *          be made, or a remote candidate was refused.
 * Properties (read-only, notified on the main context): "ice-connection-state"
 * (GstWebRTCICEConnectionState), "connection-state" (GstWebRTCPeerConnectionState).
 */

/* Adds a webrtcbin to @bin (a pipeline, or a bin in one). */
PeercamPeerConnection *peercam_peer_connection_new (GstBin             *bin,
                                                    guint               latency_ms,
                                                    const char         *stun_server,
                                                    const char         *turn_server,
                                                    const char * const *ice_addresses,
                                                    GError            **error);

GstElement  *peercam_peer_connection_get_webrtcbin      (PeercamPeerConnection *self);
void         peercam_peer_connection_set_latency        (PeercamPeerConnection *self,
                                                         guint                  latency_ms);

/* A send-only transceiver fed through the returned request pad (link a
 * payloader to it), or NULL. NACK on. */
GstPad      *peercam_peer_connection_add_send_transceiver (PeercamPeerConnection *self,
                                                           GstCaps               *caps);
/* A receive-only transceiver for "video" or "audio". With @offer (the
 * remote m-line it answers) it also accepts the offer's transport-wide-cc
 * header extension, so the sender gets feedback. */
gboolean     peercam_peer_connection_add_recv_transceiver (PeercamPeerConnection *self,
                                                           const char            *kind,
                                                           const GstSDPMedia     *offer);

void         peercam_peer_connection_create_offer       (PeercamPeerConnection *self);
/* An answer, or an offer (then the answer follows as local-description). */
void         peercam_peer_connection_set_remote_description (PeercamPeerConnection       *self,
                                                             GstWebRTCSessionDescription *desc);

/* Checks a candidate's grammar (RFC 8839 §5.1) and size. */
gboolean     peercam_peer_connection_check_candidate    (const char            *candidate,
                                                         GError               **error);
/* @mid wins over @mline when the remote description has it. Held until the
 * remote description is set (at most 64); at most 256 per connection. */
gboolean     peercam_peer_connection_add_remote_candidate (PeercamPeerConnection *self,
                                                           guint                  mline,
                                                           const char            *mid,
                                                           const char            *candidate,
                                                           GError               **error);

const char  *peercam_peer_connection_get_local_mid      (PeercamPeerConnection *self,
                                                         guint                  mline);
const char  *peercam_peer_connection_get_local_ufrag    (PeercamPeerConnection *self,
                                                         guint                  mline);
GstWebRTCICEConnectionState  peercam_peer_connection_get_ice_connection_state (PeercamPeerConnection *self);
GstWebRTCPeerConnectionState peercam_peer_connection_get_connection_state     (PeercamPeerConnection *self);

void         peercam_peer_connection_request_stats      (PeercamPeerConnection *self);
/* Asks every sender's encoder for a keyframe now. */
void         peercam_peer_connection_request_keyframe   (PeercamPeerConnection *self);

/* Ends the connection: no more signals. A connected one first sends RTCP
 * BYE (end-of-stream into webrtcbin; its senders are unlinked at once),
 * removes its webrtcbin by itself once the BYE has left (5–25 ms here) and
 * returns TRUE: call finish_close() after ~100 ms at the latest (or before
 * the bin goes away). Otherwise webrtcbin is gone on return. */
gboolean     peercam_peer_connection_close              (PeercamPeerConnection *self);
void         peercam_peer_connection_finish_close       (PeercamPeerConnection *self);
void         peercam_peer_connection_quiesce_bin        (GstBin                *bin);

G_END_DECLS
