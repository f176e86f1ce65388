/* peercam-signaller.c — the signaller interface (see the header)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-signaller.h"

#include <glib/gi18n.h>

G_DEFINE_INTERFACE (PeercamSignaller, peercam_signaller, G_TYPE_OBJECT)

G_DEFINE_QUARK (peercam-signaller-error-quark, peercam_signaller_error)

enum {
  SIGNAL_PEER_JOINED,
  SIGNAL_PEER_LEFT,
  SIGNAL_SESSION_REQUESTED,
  SIGNAL_SESSION_DESCRIPTION,
  SIGNAL_CANDIDATE,
  SIGNAL_SESSION_ENDED,
  SIGNAL_ERROR,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

GType
peercam_description_type_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      static const GEnumValue values[] = {
        { PEERCAM_DESCRIPTION_OFFER, "PEERCAM_DESCRIPTION_OFFER", "offer" },
        { PEERCAM_DESCRIPTION_ANSWER, "PEERCAM_DESCRIPTION_ANSWER", "answer" },
        { 0, NULL, NULL }
      };
      GType id = g_enum_register_static (g_intern_static_string ("PeercamDescriptionType"), values);

      g_once_init_leave (&type_id, id);
    }

  return type_id;
}

/* The names RTCSessionDescription uses. */
const char *
peercam_description_type_to_string (PeercamDescriptionType type)
{
  return type == PEERCAM_DESCRIPTION_OFFER ? "offer" : "answer";
}

gboolean
peercam_description_type_from_string (const char             *text,
                                      PeercamDescriptionType *type)
{
  if (g_strcmp0 (text, "offer") == 0)
    *type = PEERCAM_DESCRIPTION_OFFER;
  else if (g_strcmp0 (text, "answer") == 0)
    *type = PEERCAM_DESCRIPTION_ANSWER;
  else
    return FALSE;
  return TRUE;
}

static void
peercam_signaller_default_init (PeercamSignallerInterface *iface)
{
  signals[SIGNAL_PEER_JOINED] =
    g_signal_new ("peer-joined", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_PEER_LEFT] =
    g_signal_new ("peer-left", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_SESSION_REQUESTED] =
    g_signal_new ("session-requested", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_SESSION_DESCRIPTION] =
    g_signal_new ("session-description", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_STRING, PEERCAM_TYPE_DESCRIPTION_TYPE, G_TYPE_STRING);
  signals[SIGNAL_CANDIDATE] =
    g_signal_new ("candidate", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                  G_TYPE_STRING, G_TYPE_INT, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_SESSION_ENDED] =
    g_signal_new ("session-ended", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

gboolean
peercam_signaller_start (PeercamSignaller  *self,
                         GError           **error)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALLER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return PEERCAM_SIGNALLER_GET_IFACE (self)->start (self, error);
}

void
peercam_signaller_stop (PeercamSignaller *self)
{
  g_return_if_fail (PEERCAM_IS_SIGNALLER (self));

  PEERCAM_SIGNALLER_GET_IFACE (self)->stop (self);
}

void
peercam_signaller_send_description (PeercamSignaller       *self,
                                    const char             *peer,
                                    PeercamDescriptionType  type,
                                    const char             *sdp)
{
  g_return_if_fail (PEERCAM_IS_SIGNALLER (self));
  g_return_if_fail (type == PEERCAM_DESCRIPTION_OFFER || type == PEERCAM_DESCRIPTION_ANSWER);
  g_return_if_fail (sdp != NULL);

  PEERCAM_SIGNALLER_GET_IFACE (self)->send_description (self, peer, type, sdp);
}

void
peercam_signaller_send_candidate (PeercamSignaller *self,
                                  const char       *peer,
                                  int               mline,
                                  const char       *mid,
                                  const char       *candidate)
{
  g_return_if_fail (PEERCAM_IS_SIGNALLER (self));
  g_return_if_fail (candidate != NULL);
  g_return_if_fail (mline >= 0 || mid != NULL || *candidate == '\0');

  PEERCAM_SIGNALLER_GET_IFACE (self)->send_candidate (self, peer, mline, mid, candidate);
}

void
peercam_signaller_end_session (PeercamSignaller *self,
                               const char       *peer)
{
  g_return_if_fail (PEERCAM_IS_SIGNALLER (self));

  PEERCAM_SIGNALLER_GET_IFACE (self)->end_session (self, peer);
}

void
peercam_signaller_emit_peer_joined (PeercamSignaller *self,
                                    const char       *peer)
{
  g_signal_emit (self, signals[SIGNAL_PEER_JOINED], 0, peer);
}

void
peercam_signaller_emit_peer_left (PeercamSignaller *self,
                                  const char       *peer)
{
  g_signal_emit (self, signals[SIGNAL_PEER_LEFT], 0, peer);
}

void
peercam_signaller_emit_session_requested (PeercamSignaller *self,
                                          const char       *peer)
{
  g_signal_emit (self, signals[SIGNAL_SESSION_REQUESTED], 0, peer);
}

void
peercam_signaller_emit_error (PeercamSignaller *self,
                              const GError     *error)
{
  g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
}

/* The checks every implementation would otherwise repeat: what reaches a
 * handler is whole, or it is an error. */
void
peercam_signaller_emit_session_description (PeercamSignaller       *self,
                                            const char             *peer,
                                            PeercamDescriptionType  type,
                                            const char             *sdp)
{
  if (sdp == NULL || (type != PEERCAM_DESCRIPTION_OFFER && type != PEERCAM_DESCRIPTION_ANSWER))
    {
      g_autoptr(GError) error = g_error_new_literal (PEERCAM_SIGNALLER_ERROR,
                                                     PEERCAM_SIGNALLER_ERROR_INVALID_DESCRIPTION,
                                                     _("The peer sent a session description without SDP"));

      peercam_signaller_emit_error (self, error);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_SESSION_DESCRIPTION], 0, peer, type, sdp);
}

void
peercam_signaller_emit_candidate (PeercamSignaller *self,
                                  const char       *peer,
                                  int               mline,
                                  const char       *mid,
                                  const char       *candidate)
{
  g_autoptr(GError) error = NULL;

  if (candidate == NULL)
    error = g_error_new_literal (PEERCAM_SIGNALLER_ERROR, PEERCAM_SIGNALLER_ERROR_INVALID_CANDIDATE,
                                 _("The peer sent an ICE message without a candidate"));
  else if (mline < 0 && mid == NULL && *candidate != '\0')
    error = g_error_new_literal (PEERCAM_SIGNALLER_ERROR, PEERCAM_SIGNALLER_ERROR_INVALID_CANDIDATE,
                                 _("The peer sent an ICE candidate without a media line"));
  if (error)
    {
      peercam_signaller_emit_error (self, error);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_CANDIDATE], 0, peer, mline, mid, candidate);
}

void
peercam_signaller_emit_session_ended (PeercamSignaller *self,
                                      const char       *peer)
{
  g_signal_emit (self, signals[SIGNAL_SESSION_ENDED], 0, peer);
}
