/* peercam-signaller.h — how two ends of a call find each other and trade
 * session descriptions and ICE candidates, independent of the wire
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A signaller carries the call's negotiation and nothing else: typed values
 * in, typed values out, no GStreamer and no wire format. The media layer
 * never sees how they travel; the session (core/) glues a signaller to a
 * call engine. Implementations:
 *   PeercamSioSignaller      the Socket.IO room protocol (the demo's JSON)
 *   PeercamLoopbackSignaller a linked in-process pair, for tests
 * (WHIP/WHEP would be another, without touching media.)
 *
 * Peers are named by an id string that means something to the
 * implementation (a Socket.IO id). NULL names "the peer" where the wire
 * names nobody (the reference relay: two members, messages to the room).
 *
 * Methods, all from the thread whose main context was thread-default when
 * the signaller was made:
 *   start ()            join the rendezvous (connect, join the room)
 *   stop ()             leave it; no signals after this
 *   send_description (peer, type, sdp)
 *   send_candidate (peer, mline, mid, candidate)
 *          @mline -1: unknown (then @mid names the m-line); @mid may be
 *          NULL; an empty @candidate is the end of candidates
 *   end_session (peer)  hang up the call with @peer ("bye")
 *
 * Signals, on that same main context:
 *   peer-joined (const char *peer)
 *          someone is in the rendezvous with us (also those already there)
 *   peer-left (const char *peer)
 *          they left the rendezvous (their calls are over)
 *   session-requested (const char *peer)
 *          @peer is ready for a call: whoever offers (the caller) makes the
 *          offer now; the one that answers waits for it
 *   session-description (const char *peer, PeercamDescriptionType type,
 *                        const char *sdp)
 *   candidate (const char *peer, int mline, const char *mid,
 *              const char *candidate)
 *          as for send_candidate(); at least one of @mline ≥ 0 and @mid
 *          (but for the end-of-candidates marker)
 *   session-ended (const char *peer)
 *          @peer hung up, but may still be in the rendezvous
 *   error (GError *error)
 *          anything the wire got wrong (malformed messages arrive here,
 *          never as half-filled values) or that could not be sent
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  PEERCAM_DESCRIPTION_OFFER,
  PEERCAM_DESCRIPTION_ANSWER,
} PeercamDescriptionType;

#define PEERCAM_TYPE_DESCRIPTION_TYPE (peercam_description_type_get_type ())
GType       peercam_description_type_get_type    (void) G_GNUC_CONST;
const char *peercam_description_type_to_string   (PeercamDescriptionType  type);
gboolean    peercam_description_type_from_string (const char             *text,
                                                  PeercamDescriptionType *type);

#define PEERCAM_SIGNALLER_ERROR (peercam_signaller_error_quark ())

typedef enum {
  PEERCAM_SIGNALLER_ERROR_INVALID_DESCRIPTION,  /* not an offer/answer with SDP text */
  PEERCAM_SIGNALLER_ERROR_INVALID_CANDIDATE,    /* no candidate text, no m-line */
  PEERCAM_SIGNALLER_ERROR_NOT_STARTED,
} PeercamSignallerError;

GQuark peercam_signaller_error_quark (void);

#define PEERCAM_TYPE_SIGNALLER (peercam_signaller_get_type ())
G_DECLARE_INTERFACE (PeercamSignaller, peercam_signaller, PEERCAM, SIGNALLER, GObject)

struct _PeercamSignallerInterface
{
  GTypeInterface parent_iface;

  gboolean (*start)            (PeercamSignaller        *self,
                                GError                 **error);
  void     (*stop)             (PeercamSignaller        *self);
  void     (*send_description) (PeercamSignaller        *self,
                                const char              *peer,
                                PeercamDescriptionType   type,
                                const char              *sdp);
  void     (*send_candidate)   (PeercamSignaller        *self,
                                const char              *peer,
                                int                      mline,
                                const char              *mid,
                                const char              *candidate);
  void     (*end_session)      (PeercamSignaller        *self,
                                const char              *peer);
};

gboolean peercam_signaller_start            (PeercamSignaller       *self,
                                             GError                **error);
void     peercam_signaller_stop             (PeercamSignaller       *self);
void     peercam_signaller_send_description (PeercamSignaller       *self,
                                             const char             *peer,
                                             PeercamDescriptionType  type,
                                             const char             *sdp);
void     peercam_signaller_send_candidate   (PeercamSignaller       *self,
                                             const char             *peer,
                                             int                     mline,
                                             const char             *mid,
                                             const char             *candidate);
void     peercam_signaller_end_session      (PeercamSignaller       *self,
                                             const char             *peer);

/* For implementations: emit the interface's signals. */
void     peercam_signaller_emit_peer_joined         (PeercamSignaller       *self,
                                                     const char             *peer);
void     peercam_signaller_emit_peer_left           (PeercamSignaller       *self,
                                                     const char             *peer);
void     peercam_signaller_emit_session_requested   (PeercamSignaller       *self,
                                                     const char             *peer);
void     peercam_signaller_emit_session_description (PeercamSignaller       *self,
                                                     const char             *peer,
                                                     PeercamDescriptionType  type,
                                                     const char             *sdp);
void     peercam_signaller_emit_candidate           (PeercamSignaller       *self,
                                                     const char             *peer,
                                                     int                     mline,
                                                     const char             *mid,
                                                     const char             *candidate);
void     peercam_signaller_emit_session_ended       (PeercamSignaller       *self,
                                                     const char             *peer);
void     peercam_signaller_emit_error               (PeercamSignaller       *self,
                                                     const GError           *error);

G_END_DECLS
