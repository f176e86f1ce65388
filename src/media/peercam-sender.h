/* peercam-sender.h — one viewer's outgoing media from a caller's local
 * media: a payloader behind an encoder branch at its tee (and the
 * microphone, when asked) feeding a peer connection's send transceivers. A
 * caller sends to several viewers with one sender each; the senders of one
 * local media with the same codec and format share the encoder branch.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "peercam-call-stats.h"

#include "peercam-bwe.h"
#include "peercam-local-media.h"
#include "peercam-peer-connection.h"

G_BEGIN_DECLS

#define PEERCAM_TYPE_SENDER (peercam_sender_get_type ())
G_DECLARE_FINAL_TYPE (PeercamSender, peercam_sender, PEERCAM, SENDER, GObject)

/* @local must be running and @pc must be in its pipeline. Builds and
 * starts the encoder branch (codec "vp8" or "h264" at @kbps) and, with
 * @send_audio and a microphone present, an Opus branch; the offer is the
 * caller's to make. With @format (what the local media delivers) the
 * sender is congestion-controlled (peercam-congestion): paced, its bitrate
 * and size following the estimate; NULL keeps @kbps fixed. */
PeercamSender *peercam_sender_new            (PeercamLocalMedia     *local,
                                              PeercamPeerConnection *pc,
                                              const char            *codec,
                                              guint                  kbps,
                                              gboolean               send_audio,
                                              const PeercamVideoFormat *format,
                                              GError               **error);
/* FALSE when audio was asked for but this machine has no microphone. */
gboolean       peercam_sender_get_sends_audio (PeercamSender        *self);
/* Frames that went into the (shared) encoder. */
guint64        peercam_sender_get_frames     (PeercamSender         *self);
void           peercam_sender_request_keyframe (PeercamSender       *self);
/* Fills in the congestion controller's figures. */
void           peercam_sender_fill_stats     (PeercamSender         *self,
                                              PeercamCallStats      *stats);
/* Closes the peer connection and removes the branches. Returns what
 * peercam_peer_connection_close() did: TRUE when the connection lingers for
 * its RTCP BYE and wants peercam_peer_connection_finish_close() soon. */
gboolean       peercam_sender_stop           (PeercamSender         *self);

G_END_DECLS
