/* peercam-session.h — one side of a call: a signaller (Socket.IO) glued to a call engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "peercam-call-engine.h"
#include "peercam-signaling-client.h"
#include "peercam-signaller.h"
#include "peercam-viewer.h"

G_BEGIN_DECLS

#define PEERCAM_TYPE_SESSION (peercam_session_get_type ())

G_DECLARE_FINAL_TYPE (PeercamSession, peercam_session, PEERCAM, SESSION, GObject)

/* Signals:
 *   void (*event) (PeercamSession *self, const char *name, JsonNode *object, gpointer user_data);
 *        name is one of "joined", "peer-joined", "peer-left", "calling", "connected",
 *        "first-frame", "stats", "hangup", "bye", "error"; object holds the
 *        details (always an object, possibly empty). A caller's events
 *        about one viewer that has an id carry it as "viewer".
 */

PeercamSession         *peercam_session_new               (PeercamCallRole  role);
PeercamCallRole         peercam_session_get_role          (PeercamSession  *self);
PeercamCallEngine      *peercam_session_get_engine        (PeercamSession  *self);
PeercamSignalingClient *peercam_session_get_client        (PeercamSession  *self);
const char             *peercam_session_get_room          (PeercamSession  *self);
const char             *peercam_session_get_server_url    (PeercamSession  *self);
gboolean                peercam_session_get_peer_present  (PeercamSession  *self);
const GError           *peercam_session_get_join_error    (PeercamSession  *self);
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
gboolean                peercam_session_join_signaller    (PeercamSession  *self,
                                                           PeercamSignaller *signaller,
                                                           GError         **error);
void                    peercam_session_leave             (PeercamSession  *self);
gboolean                peercam_session_start_local_video (PeercamSession  *self,
                                                           GError         **error);
gboolean                peercam_session_call              (PeercamSession  *self,
                                                           GError         **error);
void                    peercam_session_hang_up           (PeercamSession  *self);
GListModel             *peercam_session_get_viewers       (PeercamSession  *self);
guint                   peercam_session_get_n_viewers     (PeercamSession  *self);
gboolean                peercam_session_call_viewer       (PeercamSession  *self,
                                                           PeercamViewer   *viewer,
                                                           GError         **error);
void                    peercam_session_disconnect_viewer (PeercamSession  *self,
                                                           PeercamViewer   *viewer);

G_END_DECLS
