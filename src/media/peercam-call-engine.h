/* peercam-call-engine.h — a caller's or viewer's calls over GStreamer's
 * webrtcbin (no GTK, no signaling: it emits typed descriptions and
 * candidates to send and takes those received; how they travel is the
 * signaller's business)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/gst.h>
#define GST_USE_UNSTABLE_API 1
#include <gst/webrtc/webrtc.h>
#include <json-glib/json-glib.h>

#include "peercam-call-error.h"
#include "peercam-call-stats.h"

G_BEGIN_DECLS


typedef enum {
  PEERCAM_CALL_ROLE_CALLER,   /* sends video ("user A") */
  PEERCAM_CALL_ROLE_VIEWER,   /* receives video ("user B") */
} PeercamCallRole;

typedef enum {
  PEERCAM_CALL_STATE_IDLE,
  PEERCAM_CALL_STATE_PREVIEW,     /* caller: local video running, no call */
  PEERCAM_CALL_STATE_CALLING,     /* caller: offer sent, answer pending */
  PEERCAM_CALL_STATE_CONNECTING,  /* both descriptions set, ICE/DTLS running */
  PEERCAM_CALL_STATE_CONNECTED,
  PEERCAM_CALL_STATE_ENDED,       /* viewer: the call ended, waiting for the next offer */
  PEERCAM_CALL_STATE_FAILED,
} PeercamCallState;

#define PEERCAM_TYPE_CALL_ROLE (peercam_call_role_get_type ())
#define PEERCAM_TYPE_CALL_STATE (peercam_call_state_get_type ())
GType peercam_call_role_get_type  (void);
GType peercam_call_state_get_type (void);

#define PEERCAM_TYPE_CALL_ENGINE (peercam_call_engine_get_type ())
G_DECLARE_FINAL_TYPE (PeercamCallEngine, peercam_call_engine, PEERCAM, CALL_ENGINE, GObject)

/* Signals (all emitted on the GMainContext that was thread-default when the
 * engine was created):
 *   void (*send_description) (PeercamCallEngine *self, GstWebRTCSDPType type,
 *                             const char *sdp, gpointer user_data);
 *          an offer (caller) or an answer (viewer), as SDP text
 *   void (*send_candidate) (PeercamCallEngine *self, guint mline, const char *mid,
 *                           const char *candidate, gpointer user_data);
 *          "candidate:…" (no "a="); @mid may be NULL
 *   void (*send_bye)    (PeercamCallEngine *self, gpointer user_data);
 *          we hung up: tell the peer
 *   void (*first_frame) (PeercamCallEngine *self, int width, int height, gpointer user_data);
 *   void (*stats)       (PeercamCallEngine *self, PeercamCallStats *stats, gpointer user_data);
 *          every second in a call (peercam-call-stats.h)
 *   void (*error)       (PeercamCallEngine *self, GError *error, gpointer user_data);
 *
 * These are about the call with the one peer that has no id (a viewer's
 * caller; a caller's viewer on a relay that names nobody). A caller
 * serving several viewers (issue 15) reports each viewer that has an id on
 *   viewer-description (const char *viewer, GstWebRTCSDPType type, const char *sdp)
 *   viewer-candidate   (const char *viewer, guint mline, const char *mid, const char *candidate)
 *   viewer-bye    (const char *viewer)
 *   viewer-stats  (const char *viewer, PeercamCallStats *stats)
 *   viewer-error  (const char *viewer, GError *error)
 *   viewer-state  (const char *viewer, PeercamCallState state)
 * Errors not about one call always go to ::error. The engine's state is the
 * furthest call in progress.
 */

PeercamCallEngine *peercam_call_engine_new             (PeercamCallRole     role);
void               peercam_call_engine_warm_up         (void);
void               peercam_call_engine_warm_up_stop    (void);

PeercamCallRole    peercam_call_engine_get_role        (PeercamCallEngine  *self);
PeercamCallState   peercam_call_engine_get_state       (PeercamCallEngine  *self);
const char        *peercam_call_engine_get_source      (PeercamCallEngine  *self);
void               peercam_call_engine_set_source      (PeercamCallEngine  *self,
                                                        const char         *source);
GstDevice         *peercam_call_engine_get_source_device (PeercamCallEngine *self);
void               peercam_call_engine_set_source_device (PeercamCallEngine *self,
                                                          GstDevice         *device);
void               peercam_call_engine_device_removed  (PeercamCallEngine  *self,
                                                        GstDevice          *device);
const char        *peercam_call_engine_get_codec       (PeercamCallEngine  *self);
void               peercam_call_engine_set_codec       (PeercamCallEngine  *self,
                                                        const char         *codec);
guint              peercam_call_engine_get_latency     (PeercamCallEngine  *self);
void               peercam_call_engine_set_latency     (PeercamCallEngine  *self,
                                                        guint               latency_ms);
guint              peercam_call_engine_get_ice_timeout (PeercamCallEngine  *self);
void               peercam_call_engine_set_ice_timeout (PeercamCallEngine  *self,
                                                        guint               seconds);
void               peercam_call_engine_set_ice_addresses (PeercamCallEngine *self,
                                                          const char * const *addresses);
void               peercam_call_engine_set_stun_server (PeercamCallEngine  *self,
                                                        const char         *uri);
void               peercam_call_engine_set_turn_server (PeercamCallEngine  *self,
                                                        const char         *uri);
void               peercam_call_engine_set_video_size  (PeercamCallEngine  *self,
                                                        int                 width,
                                                        int                 height,
                                                        int                 framerate);

void               peercam_call_engine_set_play_audio  (PeercamCallEngine  *self,
                                                        gboolean            play_audio);
void               peercam_call_engine_set_send_audio  (PeercamCallEngine  *self,
                                                        gboolean            send_audio);
void               peercam_call_engine_set_local_sink  (PeercamCallEngine  *self,
                                                        GstElement         *sink);
void               peercam_call_engine_set_remote_sink (PeercamCallEngine  *self,
                                                        GstElement         *sink);

gboolean           peercam_call_engine_start_local_video (PeercamCallEngine *self,
                                                          GError           **error);
void               peercam_call_engine_stop_local_video  (PeercamCallEngine *self);
gboolean           peercam_call_engine_call            (PeercamCallEngine  *self,
                                                        GError            **error);
void               peercam_call_engine_hang_up         (PeercamCallEngine  *self);

/* What the peer sent. @viewer (a caller's viewer; NULL is the implicit
 * one) is ignored by a viewer. */
void               peercam_call_engine_handle_description (PeercamCallEngine *self,
                                                           const char        *viewer,
                                                           GstWebRTCSDPType   type,
                                                           const char        *sdp);
void               peercam_call_engine_handle_candidate (PeercamCallEngine *self,
                                                         const char        *viewer,
                                                         int                mline,
                                                         const char        *mid,
                                                         const char        *candidate);
void               peercam_call_engine_handle_bye      (PeercamCallEngine  *self);

/* Several viewers (caller): @viewer NULL is the implicit one. */
gboolean           peercam_call_engine_call_viewer     (PeercamCallEngine  *self,
                                                        const char         *viewer,
                                                        GError            **error);
void               peercam_call_engine_end_viewer      (PeercamCallEngine  *self,
                                                        const char         *viewer,
                                                        gboolean            say_bye);
PeercamCallState   peercam_call_engine_get_viewer_state (PeercamCallEngine *self,
                                                         const char        *viewer);
guint64            peercam_call_engine_get_viewer_frames (PeercamCallEngine *self,
                                                          const char        *viewer);
guint              peercam_call_engine_get_n_calls     (PeercamCallEngine  *self);

gboolean           peercam_call_engine_get_poor_connection (PeercamCallEngine *self);

/* Frames seen by the local preview sink / the remote sink since creation. */
guint64            peercam_call_engine_get_local_frames  (PeercamCallEngine *self);
guint64            peercam_call_engine_get_remote_frames (PeercamCallEngine *self);

G_END_DECLS
