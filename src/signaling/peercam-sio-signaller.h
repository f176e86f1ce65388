/* peercam-sio-signaller.h — the signaller over the Socket.IO room protocol
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The demo's wire, both ways, over a PeercamSignalingClient:
 *   ["signal", {"type": "offer"|"answer", "sdp": …}]   session-description
 *   ["signal", {"type": "bye"}], ["bye", id?]          session-ended
 *   ["ice", {"candidate", "sdpMid", "sdpMLineIndex"}]  candidate
 *   ["call", id?]                 peer-joined + session-requested
 *   "joined" a room with others   peer-joined + session-requested for each
 *                                 member the server named (else the peer)
 *   "created" (alone after all)   peer-left for each peer announced
 * On Peercam's server (addressed rooms) messages carry {"from": id} and a
 * peer argument sends {"to": id}; on relays that name nobody peers are NULL.
 * Malformed descriptions and candidates become ::error (PEERCAM_SIGNALLER_ERROR
 * INVALID_DESCRIPTION / INVALID_CANDIDATE); the client's own errors (its
 * domain) are passed on there too.
 * The Socket.IO protocol cannot tell a hang-up from a departure: both are
 * "bye", reported as session-ended.
 *
 * Room-level answers (created/joined with our id, full, the server's own
 * errors, the connection state) stay on the client: get_client().
 * start() connects and joins the room; stop() disconnects.
 */
#pragma once

#include "peercam-signaller.h"
#include "peercam-signaling-client.h"

G_BEGIN_DECLS

#define PEERCAM_TYPE_SIO_SIGNALLER (peercam_sio_signaller_get_type ())
G_DECLARE_FINAL_TYPE (PeercamSioSignaller, peercam_sio_signaller, PEERCAM, SIO_SIGNALLER, GObject)

PeercamSioSignaller    *peercam_sio_signaller_new        (PeercamSignalingClient *client,
                                                          const char             *room);
PeercamSignalingClient *peercam_sio_signaller_get_client (PeercamSioSignaller    *self);
const char             *peercam_sio_signaller_get_room   (PeercamSioSignaller    *self);

G_END_DECLS
