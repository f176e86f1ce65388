/* peercam-session.h — one side of a call: what the windows observe
 *
 * The session is the layer the windows see (README, "Where things live"):
 * this header includes only core and system headers, so a window that
 * includes it sees no media, signaling, server or protocol type. What a
 * window needs of the layers below is here as core API: the call's state,
 * the room's state, why a join failed, the video sinks and the settings.
 * Tests and core code that drive the layers below use
 * peercam-session-private.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include "peercam-session-types.h"
#include "peercam-viewer.h"

G_BEGIN_DECLS

#define PEERCAM_TYPE_SESSION (peercam_session_get_type ())

G_DECLARE_FINAL_TYPE (PeercamSession, peercam_session, PEERCAM, SESSION, GObject)

/* Properties (all notify): "role", "state" (the furthest call in
 * progress), "room-state", "room", "server-url", "peer-present",
 * "join-error", "poor-connection", "auto-call", "viewers", "n-viewers".
 *
 * Signals (typed; only `--headless --events` makes JSON of them). In those
 * about one call, @viewer is the caller's viewer it is about: its id, or
 * NULL for the one call without an id (a relay that names nobody) and for
 * a viewer's own call.
 *   void (*joined)      (PeercamSession *self, const char *room, const char *id, gboolean first, gpointer user_data);
 *        in @room as @id; @first: we made it and are alone in it.
 *   void (*peer_joined) (PeercamSession *self, const char *peer, gpointer user_data);
 *        someone came into the room (@peer: its id, or NULL).
 *   void (*calling)     (PeercamSession *self, const char *viewer, gpointer user_data);
 *        a caller's offer went out.
 *   void (*connected)   (PeercamSession *self, const char *viewer, gpointer user_data);
 *        once per call, when media flows.
 *   void (*hangup)      (PeercamSession *self, const char *viewer, gpointer user_data);
 *        this side ended the call (the other hears bye).
 *   void (*bye)         (PeercamSession *self, const char *viewer, const char *peer, gpointer user_data);
 *        the other side ended the call or left; @peer as the room named it.
 *   void (*first_frame) (PeercamSession *self, int width, int height, gpointer user_data);
 *        a viewer's first decoded frame of a call.
 *   void (*error)       (PeercamSession *self, const char *viewer, const GError *error, gpointer user_data);
 *        something failed; when it keeps the session out of its room it is
 *        also #PeercamSession:join-error (the window shows that instead).
 *   void (*stats)       (PeercamSession *self, const char *viewer, PeercamCallStats *stats, gpointer user_data);
 *        every second in a call; read @stats with peercam_call_stats_lookup().
 */

PeercamSession         *peercam_session_new               (PeercamSessionRole role);
PeercamSessionRole      peercam_session_get_role          (PeercamSession  *self);
PeercamSessionState     peercam_session_get_state         (PeercamSession  *self);
PeercamRoomState        peercam_session_get_room_state    (PeercamSession  *self);
const char             *peercam_session_get_room          (PeercamSession  *self);
const char             *peercam_session_get_server_url    (PeercamSession  *self);
/* What the current join was given (NULL out of a room). */
const char             *peercam_session_get_token         (PeercamSession  *self);
const char             *peercam_session_get_pin           (PeercamSession  *self);
gboolean                peercam_session_get_peer_present  (PeercamSession  *self);
const GError           *peercam_session_get_join_error    (PeercamSession  *self);
PeercamJoinProblem      peercam_session_get_join_problem  (PeercamSession  *self);
gboolean                peercam_session_get_poor_connection (PeercamSession *self);
gboolean                peercam_session_get_auto_call     (PeercamSession  *self);
void                    peercam_session_set_auto_call     (PeercamSession  *self,
                                                           gboolean         auto_call);
gboolean                peercam_session_join              (PeercamSession  *self,
                                                           const char      *server_url,
                                                           const char      *room,
                                                           const char      *token,
                                                           const char      *pin,
                                                           GError         **error);
void                    peercam_session_leave             (PeercamSession  *self);
/* Leaves the room and ends the media: a caller's preview stops, a
 * viewer's call ends. For a window that closes. */
void                    peercam_session_close             (PeercamSession  *self);

/* The preference keys (codec, resolution, jitter buffer, STUN/TURN, audio…)
 * applied now and each again when it changes (see peercam-call-settings.h). */
void                    peercam_session_follow_settings   (PeercamSession  *self,
                                                           GSettings       *settings);
/* Where the caller's preview / the viewer's video goes. */
void                    peercam_session_set_local_sink    (PeercamSession  *self,
                                                           GstElement      *sink);
void                    peercam_session_set_remote_sink   (PeercamSession  *self,
                                                           GstElement      *sink);

gboolean                peercam_session_start_local_video (PeercamSession  *self,
                                                           GError         **error);
void                    peercam_session_stop_local_video  (PeercamSession  *self);
/* What an error of start_local_video() (or of a source picker) is about. */
PeercamSourceProblem    peercam_session_classify_source_error (const GError *error);

gboolean                peercam_session_call              (PeercamSession  *self,
                                                           GError         **error);
void                    peercam_session_hang_up           (PeercamSession  *self);
GListModel             *peercam_session_get_viewers       (PeercamSession  *self);
/* The listed viewer with @id (NULL: the implicit viewer of a relay that
 * names nobody), or NULL; the list holds it. */
PeercamViewer          *peercam_session_lookup_viewer     (PeercamSession  *self,
                                                           const char      *id);
guint                   peercam_session_get_n_viewers     (PeercamSession  *self);
gboolean                peercam_session_call_viewer       (PeercamSession  *self,
                                                           PeercamViewer   *viewer,
                                                           GError         **error);
void                    peercam_session_disconnect_viewer (PeercamSession  *self,
                                                           PeercamViewer   *viewer);

/* Builds (in a thread) and throws away the pipelines a first call needs,
 * so that call starts fast; stop() waits for it (application shutdown). */
void                    peercam_session_warm_up           (void);
void                    peercam_session_warm_up_stop      (void);

G_END_DECLS
