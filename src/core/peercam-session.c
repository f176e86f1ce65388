/* peercam-session.c
 *
 * The session is the only place that knows both the signaling events of the
 * browser demo and the call engine: it relays `signal`, `ice` and `bye`
 * between them, decides when the caller may call, and tells what happens
 * as typed signals (joined, peer-joined, calling, connected, hangup, bye,
 * first-frame, error, stats) and properties. Windows observe those; only
 * --headless --events turns them into JSON (peercam-headless.c).
 *
 * A caller serves every viewer in its room (issue 15): on Peercam's server
 * it learns each viewer's id (an addressed room) and keeps one call per
 * viewer, listed in the "viewers" model; on a relay that names nobody there
 * is one implicit viewer (id NULL), as in the demo. A viewer answers the
 * caller whose offer it took and ignores the other viewers' messages.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "peercam-call-settings.h"
#include "peercam-camera-portal.h"
#include "peercam-screencast-portal.h"
#include "peercam-session-private.h"
#include "peercam-sio-signaller.h"
#include "peercam-viewer.h"

struct _PeercamSession
{
  GObject                 parent_instance;

  PeercamSessionRole      role;
  PeercamCallEngine      *engine;
  PeercamSignalingClient *client;       /* the room: created, joined, full, state */
  PeercamSignaller       *signaller;    /* the calls' negotiation, over client */
  char                   *room;
  char                   *server_url;
  GError                 *join_error;   /* what keeps us out of the room */
  GListStore             *viewers;      /* caller: PeercamViewer, in arrival order */
  GHashTable             *auto_call_pending; /* caller: PeercamViewer → arrived, not called yet */
  guint                   n_arrivals;   /* caller: numbers the viewers' names */
  char                   *caller_id;    /* viewer: whose offer we took, when the server said */

  guint                   peer_present : 1;
  guint                   auto_call : 1;
  guint                   in_call : 1;            /* caller: Call pressed; arrivals are called too */
  guint                   connected : 1;
  guint                   leaving : 1;            /* in peercam_session_leave() */
};

/* Core's enums are the layers' below, value for value: the session hands
 * them on with a cast. */
G_STATIC_ASSERT ((int) PEERCAM_SESSION_ROLE_CALLER == (int) PEERCAM_CALL_ROLE_CALLER);
G_STATIC_ASSERT ((int) PEERCAM_SESSION_ROLE_VIEWER == (int) PEERCAM_CALL_ROLE_VIEWER);
G_STATIC_ASSERT ((int) PEERCAM_SESSION_STATE_IDLE == (int) PEERCAM_CALL_STATE_IDLE);
G_STATIC_ASSERT ((int) PEERCAM_SESSION_STATE_PREVIEW == (int) PEERCAM_CALL_STATE_PREVIEW);
G_STATIC_ASSERT ((int) PEERCAM_SESSION_STATE_CALLING == (int) PEERCAM_CALL_STATE_CALLING);
G_STATIC_ASSERT ((int) PEERCAM_SESSION_STATE_CONNECTING == (int) PEERCAM_CALL_STATE_CONNECTING);
G_STATIC_ASSERT ((int) PEERCAM_SESSION_STATE_CONNECTED == (int) PEERCAM_CALL_STATE_CONNECTED);
G_STATIC_ASSERT ((int) PEERCAM_SESSION_STATE_ENDED == (int) PEERCAM_CALL_STATE_ENDED);
G_STATIC_ASSERT ((int) PEERCAM_SESSION_STATE_FAILED == (int) PEERCAM_CALL_STATE_FAILED);
G_STATIC_ASSERT ((int) PEERCAM_ROOM_STATE_DISCONNECTED == (int) PEERCAM_SIGNALING_STATE_DISCONNECTED + 1);
G_STATIC_ASSERT ((int) PEERCAM_ROOM_STATE_CONNECTING == (int) PEERCAM_SIGNALING_STATE_CONNECTING + 1);
G_STATIC_ASSERT ((int) PEERCAM_ROOM_STATE_CONNECTED == (int) PEERCAM_SIGNALING_STATE_CONNECTED + 1);
G_STATIC_ASSERT ((int) PEERCAM_ROOM_STATE_JOINED == (int) PEERCAM_SIGNALING_STATE_JOINED + 1);
G_STATIC_ASSERT ((int) PEERCAM_ROOM_STATE_RECONNECTING == (int) PEERCAM_SIGNALING_STATE_RECONNECTING + 1);
G_STATIC_ASSERT ((int) PEERCAM_ROOM_STATE_FAILED == (int) PEERCAM_SIGNALING_STATE_FAILED + 1);

G_DEFINE_ENUM_TYPE (PeercamSessionRole, peercam_session_role,
  G_DEFINE_ENUM_VALUE (PEERCAM_SESSION_ROLE_CALLER, "caller"),
  G_DEFINE_ENUM_VALUE (PEERCAM_SESSION_ROLE_VIEWER, "viewer"))
G_DEFINE_ENUM_TYPE (PeercamSessionState, peercam_session_state,
  G_DEFINE_ENUM_VALUE (PEERCAM_SESSION_STATE_IDLE, "idle"),
  G_DEFINE_ENUM_VALUE (PEERCAM_SESSION_STATE_PREVIEW, "preview"),
  G_DEFINE_ENUM_VALUE (PEERCAM_SESSION_STATE_CALLING, "calling"),
  G_DEFINE_ENUM_VALUE (PEERCAM_SESSION_STATE_CONNECTING, "connecting"),
  G_DEFINE_ENUM_VALUE (PEERCAM_SESSION_STATE_CONNECTED, "connected"),
  G_DEFINE_ENUM_VALUE (PEERCAM_SESSION_STATE_ENDED, "ended"),
  G_DEFINE_ENUM_VALUE (PEERCAM_SESSION_STATE_FAILED, "failed"))
G_DEFINE_ENUM_TYPE (PeercamRoomState, peercam_room_state,
  G_DEFINE_ENUM_VALUE (PEERCAM_ROOM_STATE_NONE, "none"),
  G_DEFINE_ENUM_VALUE (PEERCAM_ROOM_STATE_DISCONNECTED, "disconnected"),
  G_DEFINE_ENUM_VALUE (PEERCAM_ROOM_STATE_CONNECTING, "connecting"),
  G_DEFINE_ENUM_VALUE (PEERCAM_ROOM_STATE_CONNECTED, "connected"),
  G_DEFINE_ENUM_VALUE (PEERCAM_ROOM_STATE_JOINED, "joined"),
  G_DEFINE_ENUM_VALUE (PEERCAM_ROOM_STATE_RECONNECTING, "reconnecting"),
  G_DEFINE_ENUM_VALUE (PEERCAM_ROOM_STATE_FAILED, "failed"))

G_DEFINE_FINAL_TYPE (PeercamSession, peercam_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ROLE,
  PROP_STATE,
  PROP_ROOM_STATE,
  PROP_ENGINE,
  PROP_CLIENT,
  PROP_ROOM,
  PROP_SERVER_URL,
  PROP_PEER_PRESENT,
  PROP_AUTO_CALL,
  PROP_JOIN_ERROR,
  PROP_POOR_CONNECTION,
  PROP_VIEWERS,
  PROP_N_VIEWERS,
  N_PROPS
};

enum {
  JOINED,
  PEER_JOINED,
  CALLING,
  CONNECTED,
  HANGUP,
  BYE,
  FIRST_FRAME,
  ERROR,
  STATS,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* An error about one of a caller's viewers (@viewer) or the session. */
static void
emit_error (PeercamSession *self,
            const char     *viewer,
            const GError   *error)
{
  g_signal_emit (self, signals[ERROR], 0, viewer, error);
}

static void
set_peer_present (PeercamSession *self,
                  gboolean        present)
{
  if (self->peer_present == !!present)
    return;

  self->peer_present = !!present;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PEER_PRESENT]);
}

static void
set_join_error (PeercamSession *self,
                const GError   *error)
{
  if (self->join_error == NULL && error == NULL)
    return;
  g_clear_error (&self->join_error);
  self->join_error = error ? g_error_copy (error) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_JOIN_ERROR]);
}

static PeercamViewer *
find_viewer (PeercamSession *self,
             const char     *id,
             guint          *position)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->viewers));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PeercamViewer) viewer = g_list_model_get_item (G_LIST_MODEL (self->viewers), i);

      if (g_strcmp0 (peercam_viewer_get_id (viewer), id) == 0)
        {
          if (position)
            *position = i;
          return viewer;  /* the store holds it */
        }
    }
  return NULL;
}

static void
update_peer_present (PeercamSession *self)
{
  set_peer_present (self, g_list_model_get_n_items (G_LIST_MODEL (self->viewers)) > 0);
}

static void maybe_auto_call (PeercamSession *self);

/* A viewer arrived (caller): listed, and called when the session calls. */
static void
add_viewer (PeercamSession *self,
            const char     *id)
{
  g_autoptr(PeercamViewer) viewer = NULL;
  g_autofree char *name = NULL;

  if (find_viewer (self, id, NULL) != NULL)
    {
      /* The implicit viewer again: a new member joined the demo's relay. */
      g_hash_table_add (self->auto_call_pending, find_viewer (self, id, NULL));
      return;
    }
  /* Translators: a viewer in the caller's list; %u numbers them in order of arrival */
  name = g_strdup_printf (_("Viewer %u"), ++self->n_arrivals);
  viewer = peercam_viewer_new (id, name);
  g_hash_table_add (self->auto_call_pending, viewer);
  g_list_store_append (self->viewers, viewer);
  update_peer_present (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_VIEWERS]);
}

static void
remove_viewer (PeercamSession *self,
               PeercamViewer  *viewer)
{
  guint position;

  if (viewer == NULL || find_viewer (self, peercam_viewer_get_id (viewer), &position) != viewer)
    return;
  g_hash_table_remove (self->auto_call_pending, viewer);
  g_list_store_remove (self->viewers, position);
  update_peer_present (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_VIEWERS]);
}

static void
clear_viewers (PeercamSession *self)
{
  if (g_list_model_get_n_items (G_LIST_MODEL (self->viewers)) == 0)
    return;
  g_hash_table_remove_all (self->auto_call_pending);
  g_list_store_remove_all (self->viewers);
  update_peer_present (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_VIEWERS]);
}

static gboolean
local_video_runs (PeercamSession *self)
{
  PeercamCallState state = peercam_call_engine_get_state (self->engine);

  return state != PEERCAM_CALL_STATE_IDLE && state != PEERCAM_CALL_STATE_FAILED;
}

/* Calls each viewer that arrived and was not called yet, once: with
 * auto-call, or while the session is in a call (a viewer arriving during a
 * call gets it too). After a hang-up the user decides. */
static void
maybe_auto_call (PeercamSession *self)
{
  guint n;

  if (self->role != PEERCAM_SESSION_ROLE_CALLER || !(self->auto_call || self->in_call) ||
      g_hash_table_size (self->auto_call_pending) == 0 || !local_video_runs (self))
    return;

  n = g_list_model_get_n_items (G_LIST_MODEL (self->viewers));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PeercamViewer) viewer = g_list_model_get_item (G_LIST_MODEL (self->viewers), i);
      g_autoptr(GError) error = NULL;

      if (!g_hash_table_remove (self->auto_call_pending, viewer))
        continue;
      self->in_call = TRUE;
      if (!peercam_call_engine_call_viewer (self->engine, peercam_viewer_get_id (viewer), &error))
        emit_error (self, NULL, error);
      /* The list may have changed under the call's signals. */
      n = g_list_model_get_n_items (G_LIST_MODEL (self->viewers));
    }
}

/* Signaling → session */

/* "joined" for both of the demo's answers: create (@first) and join. */
static void
emit_joined (PeercamSession *self,
             const char     *room,
             const char     *id,
             gboolean        first)
{
  set_join_error (self, NULL);
  g_signal_emit (self, signals[JOINED], 0, room, id, first);
}

static void
on_client_created (PeercamSession *self,
                   const char     *room,
                   const char     *id)
{
  /* Alone in the room, even if an overdue answer had us guess otherwise:
   * an offer made on that guess reached nobody, so the next viewer to
   * arrive gets a fresh call. */
  clear_viewers (self);
  set_peer_present (self, FALSE);
  /* Any call, also one whose offer is still being made (the engine says
   * CALLING only once it is out). */
  if (self->role == PEERCAM_SESSION_ROLE_CALLER && peercam_call_engine_get_n_calls (self->engine) > 0)
    peercam_call_engine_hang_up (self->engine);
  emit_joined (self, room, id, TRUE);
}

static void
on_client_joined (PeercamSession *self,
                  const char     *room,
                  const char     *id)
{
  /* The signaller names who was there next (peer-joined). */
  emit_joined (self, room, id, FALSE);
}

/* Someone is in the room with us: a caller lists it as a viewer. */
static void
on_peer_joined (PeercamSession *self,
                const char     *peer)
{
  if (self->role == PEERCAM_SESSION_ROLE_CALLER)
    add_viewer (self, peer);
  set_peer_present (self, TRUE);
  g_signal_emit (self, signals[PEER_JOINED], 0, peer);
}

/* A peer is ready for a call: a caller calls it when the session calls. */
static void
on_session_requested (PeercamSession *self,
                      const char     *peer)
{
  maybe_auto_call (self);
}

/* Alone after all (a late "created"): on_client_created cleared the room. */
static void
on_peer_left (PeercamSession *self,
              const char     *peer)
{
  if (self->role == PEERCAM_SESSION_ROLE_CALLER)
    remove_viewer (self, find_viewer (self, peer, NULL));
}

static void
on_client_full (PeercamSession *self,
                const char     *room)
{
  g_autofree char *message = g_strdup_printf (_("Room “%s” is full"), room);
  g_autoptr(GError) error = g_error_new_literal (PEERCAM_SIGNALING_CLIENT_ERROR,
                                                 PEERCAM_SIGNALING_CLIENT_ERROR_ROOM_FULL, message);

  set_join_error (self, error);
  emit_error (self, NULL, error);
}

/* Viewer: is this message from our caller? An offer from anyone makes
 * its sender our caller; the other viewers' answers and candidates (a
 * stock client broadcasts them to the room) are not for us. */
static gboolean
from_our_caller (PeercamSession *self,
                 const char     *from,
                 gboolean        is_offer)
{
  if (from == NULL)
    return TRUE;
  if (is_offer)
    {
      g_free (self->caller_id);
      self->caller_id = g_strdup (from);
      return TRUE;
    }
  if (self->caller_id == NULL || g_strcmp0 (self->caller_id, from) == 0)
    return TRUE;
  g_debug ("ignoring a message from %s, not our caller %s", from, self->caller_id);
  return FALSE;
}

static GstWebRTCSDPType
sdp_type_for (PeercamDescriptionType type)
{
  return type == PEERCAM_DESCRIPTION_OFFER ? GST_WEBRTC_SDP_TYPE_OFFER : GST_WEBRTC_SDP_TYPE_ANSWER;
}

static void
on_session_description (PeercamSession         *self,
                        const char             *from,
                        PeercamDescriptionType  type,
                        const char             *sdp)
{
  if (self->role == PEERCAM_SESSION_ROLE_VIEWER)
    {
      if (from_our_caller (self, from, type == PEERCAM_DESCRIPTION_OFFER))
        peercam_call_engine_handle_description (self->engine, NULL, sdp_type_for (type), sdp);
      return;
    }
  /* A caller's viewer without an id is the implicit one. */
  peercam_call_engine_handle_description (self->engine, find_viewer (self, from, NULL) ? from : NULL,
                                          sdp_type_for (type), sdp);
}

static void
on_candidate (PeercamSession *self,
              const char     *from,
              int             mline,
              const char     *mid,
              const char     *candidate)
{
  if (self->role == PEERCAM_SESSION_ROLE_VIEWER)
    {
      if (from_our_caller (self, from, FALSE))
        peercam_call_engine_handle_candidate (self->engine, NULL, mline, mid, candidate);
      return;
    }
  peercam_call_engine_handle_candidate (self->engine, find_viewer (self, from, NULL) ? from : NULL,
                                        mline, mid, candidate);
}

static void
on_session_ended (PeercamSession *self,
                  const char     *id)
{
  if (self->role == PEERCAM_SESSION_ROLE_CALLER)
    {
      /* One viewer left or hung up: end its call alone, keep the preview.
       * An id we do not know is the implicit viewer's (the demo's relay). */
      PeercamViewer *viewer = find_viewer (self, id, NULL);
      const char *viewer_id = viewer ? id : NULL;

      if (viewer == NULL)
        viewer = find_viewer (self, NULL, NULL);
      g_signal_emit (self, signals[BYE], 0, viewer_id, id);
      if (viewer_id == NULL)
        self->connected = FALSE;
      /* The engine's bye is not relayed for a call the viewer already ended. */
      peercam_call_engine_end_viewer (self->engine, viewer_id, FALSE);
      remove_viewer (self, viewer);
      return;
    }

  /* Viewer: another viewer leaving is none of our business. */
  if (id != NULL && self->caller_id != NULL && strcmp (id, self->caller_id) != 0)
    {
      g_debug ("bye from %s, not our caller", id);
      return;
    }
  g_signal_emit (self, signals[BYE], 0, NULL, id);
  set_peer_present (self, FALSE);
  self->connected = FALSE;
  g_clear_pointer (&self->caller_id, g_free);
  peercam_call_engine_handle_bye (self->engine);
}

static void
on_client_server_error (PeercamSession *self,
                        const char     *message)
{
  /* The server's own words, about nothing a window could act on. */
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, message);

  emit_error (self, NULL, error);
}

static void
on_signaller_error (PeercamSession *self,
                    GError         *error)
{
  /* Reported with the state it leaves: reconnecting or failed. */
  if (self->client && peercam_signaling_client_get_state (self->client) != PEERCAM_SIGNALING_STATE_JOINED)
    set_join_error (self, error);
  emit_error (self, NULL, error);
}

/* Engine → session */

static PeercamDescriptionType
description_type_for (GstWebRTCSDPType type)
{
  return type == GST_WEBRTC_SDP_TYPE_OFFER ? PEERCAM_DESCRIPTION_OFFER : PEERCAM_DESCRIPTION_ANSWER;
}

/* A viewer answers its caller alone, when the server said who it is. */
static const char *
our_peer (PeercamSession *self)
{
  return self->role == PEERCAM_SESSION_ROLE_VIEWER ? self->caller_id : NULL;
}

static void
on_engine_send_description (PeercamSession   *self,
                            GstWebRTCSDPType  type,
                            const char       *sdp)
{
  if (self->signaller)
    peercam_signaller_send_description (self->signaller, our_peer (self), description_type_for (type), sdp);
  if (type == GST_WEBRTC_SDP_TYPE_OFFER)
    g_signal_emit (self, signals[CALLING], 0, NULL);
}

static void
on_engine_send_candidate (PeercamSession *self,
                          guint           mline,
                          const char     *mid,
                          const char     *candidate)
{
  if (self->signaller)
    peercam_signaller_send_candidate (self->signaller, our_peer (self), (int) mline, mid, candidate);
}

static void
on_engine_send_bye (PeercamSession *self)
{
  /* A leaving client's disconnect makes the server tell the room `bye` with
   * the same id (Peercam's server and the demo's relay do; the reference
   * relay forwards no bye at all): saying it ourselves too would end the
   * peer's call twice. */
  if (self->signaller && self->peer_present && !self->leaving)
    peercam_signaller_end_session (self->signaller, our_peer (self));
  self->connected = FALSE;
  g_signal_emit (self, signals[HANGUP], 0, NULL);
}

/* The calls with viewers that have ids (caller, Peercam's server). */
static void
on_engine_viewer_description (PeercamSession   *self,
                              const char       *viewer,
                              GstWebRTCSDPType  type,
                              const char       *sdp)
{
  if (self->signaller)
    peercam_signaller_send_description (self->signaller, viewer, description_type_for (type), sdp);
  if (type == GST_WEBRTC_SDP_TYPE_OFFER)
    g_signal_emit (self, signals[CALLING], 0, viewer);
}

static void
on_engine_viewer_candidate (PeercamSession *self,
                            const char     *viewer,
                            guint           mline,
                            const char     *mid,
                            const char     *candidate)
{
  if (self->signaller)
    peercam_signaller_send_candidate (self->signaller, viewer, (int) mline, mid, candidate);
}

static void
on_engine_viewer_bye (PeercamSession *self,
                      const char     *viewer)
{
  if (self->signaller && find_viewer (self, viewer, NULL) != NULL && !self->leaving)
    peercam_signaller_end_session (self->signaller, viewer);
  g_signal_emit (self, signals[HANGUP], 0, viewer);
}

static void
on_engine_viewer_state (PeercamSession   *self,
                        const char       *viewer_id,
                        PeercamCallState  state)
{
  PeercamViewer *viewer = find_viewer (self, viewer_id, NULL);

  if (viewer == NULL)
    return;
  if (state == PEERCAM_CALL_STATE_CONNECTED && peercam_viewer_get_state (viewer) != (PeercamSessionState) state)
    g_signal_emit (self, signals[CONNECTED], 0, viewer_id);
  peercam_viewer_set_state (viewer, (PeercamSessionState) state);
}

static void
on_engine_viewer_stats (PeercamSession   *self,
                        const char       *viewer_id,
                        PeercamCallStats *stats)
{
  PeercamViewer *viewer = find_viewer (self, viewer_id, NULL);

  if (viewer)
    peercam_viewer_set_rates (viewer, stats->kbps, stats->fps);
  g_signal_emit (self, signals[STATS], 0, viewer_id, stats);
}

static void
on_engine_viewer_error (PeercamSession *self,
                        const char     *viewer,
                        GError         *error)
{
  emit_error (self, viewer, error);
}

static void
on_engine_first_frame (PeercamSession *self,
                       int             width,
                       int             height)
{
  g_signal_emit (self, signals[FIRST_FRAME], 0, width, height);
}

static void
on_engine_stats (PeercamSession   *self,
                 PeercamCallStats *stats)
{
  PeercamViewer *viewer = self->role == PEERCAM_SESSION_ROLE_CALLER ? find_viewer (self, NULL, NULL) : NULL;

  if (viewer)
    peercam_viewer_set_rates (viewer, stats->kbps, stats->fps);
  g_signal_emit (self, signals[STATS], 0, NULL, stats);
}

static void
on_engine_error (PeercamSession *self,
                 GError         *error)
{
  /* The engine's own text names the device in English; this one is for users. */
  if (g_error_matches (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_CAMERA_DISCONNECTED))
    {
      g_autoptr(GError) told = g_error_new_literal (error->domain, error->code, _("Camera disconnected"));

      emit_error (self, NULL, told);
    }
  else
    {
      emit_error (self, NULL, error);
    }
}

static void
on_engine_state (PeercamSession *self)
{
  PeercamCallState state = peercam_call_engine_get_state (self->engine);
  PeercamViewer *implicit = find_viewer (self, NULL, NULL);
  gboolean addressed = g_list_model_get_n_items (G_LIST_MODEL (self->viewers)) > 0 && implicit == NULL;

  /* One "connected" per call: the addressed viewers' come with their ids. */
  if (state == PEERCAM_CALL_STATE_CONNECTED && !self->connected)
    {
      self->connected = TRUE;
      if (!addressed)
        g_signal_emit (self, signals[CONNECTED], 0, NULL);
    }
  else if (state != PEERCAM_CALL_STATE_CONNECTED)
    {
      self->connected = FALSE;
    }
  if (implicit)
    peercam_viewer_set_state (implicit, (PeercamSessionState) peercam_call_engine_get_viewer_state (self->engine, NULL));
  /* The last call ended: the next viewer waits for Call (or auto-call). */
  if (self->role == PEERCAM_SESSION_ROLE_CALLER && peercam_call_engine_get_n_calls (self->engine) == 0)
    self->in_call = FALSE;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  if (state == PEERCAM_CALL_STATE_PREVIEW)
    maybe_auto_call (self);
}

static void
on_engine_poor_connection (PeercamSession *self)
{
  /* Re-announced with the session as the source, so windows never need the engine. */
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POOR_CONNECTION]);
}

static void
on_client_state (PeercamSession *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROOM_STATE]);
}

static void
disconnect_client (PeercamSession *self)
{
  if (self->signaller == NULL)
    return;

  g_signal_handlers_disconnect_by_data (self->signaller, self);
  if (self->client)
    g_signal_handlers_disconnect_by_data (self->client, self);
  peercam_signaller_stop (self->signaller);
  g_clear_object (&self->signaller);
  g_clear_object (&self->client);
}

static void
peercam_session_dispose (GObject *object)
{
  PeercamSession *self = PEERCAM_SESSION (object);

  disconnect_client (self);
  if (self->engine != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->engine, self);
      g_clear_object (&self->engine);
    }
  g_clear_pointer (&self->auto_call_pending, g_hash_table_unref);
  g_clear_object (&self->viewers);

  G_OBJECT_CLASS (peercam_session_parent_class)->dispose (object);
}

static void
peercam_session_finalize (GObject *object)
{
  PeercamSession *self = PEERCAM_SESSION (object);

  g_clear_pointer (&self->room, g_free);
  g_clear_pointer (&self->server_url, g_free);
  g_clear_pointer (&self->caller_id, g_free);
  g_clear_error (&self->join_error);

  G_OBJECT_CLASS (peercam_session_parent_class)->finalize (object);
}

static void
peercam_session_constructed (GObject *object)
{
  PeercamSession *self = PEERCAM_SESSION (object);

  G_OBJECT_CLASS (peercam_session_parent_class)->constructed (object);

  self->engine = peercam_call_engine_new ((PeercamCallRole) self->role);
  g_signal_connect_swapped (self->engine, "send-description", G_CALLBACK (on_engine_send_description), self);
  g_signal_connect_swapped (self->engine, "send-candidate", G_CALLBACK (on_engine_send_candidate), self);
  g_signal_connect_swapped (self->engine, "send-bye", G_CALLBACK (on_engine_send_bye), self);
  g_signal_connect_swapped (self->engine, "first-frame", G_CALLBACK (on_engine_first_frame), self);
  g_signal_connect_swapped (self->engine, "stats", G_CALLBACK (on_engine_stats), self);
  g_signal_connect_swapped (self->engine, "error", G_CALLBACK (on_engine_error), self);
  g_signal_connect_swapped (self->engine, "notify::state", G_CALLBACK (on_engine_state), self);
  g_signal_connect_swapped (self->engine, "notify::poor-connection",
                            G_CALLBACK (on_engine_poor_connection), self);
  g_signal_connect_swapped (self->engine, "viewer-description", G_CALLBACK (on_engine_viewer_description), self);
  g_signal_connect_swapped (self->engine, "viewer-candidate", G_CALLBACK (on_engine_viewer_candidate), self);
  g_signal_connect_swapped (self->engine, "viewer-bye", G_CALLBACK (on_engine_viewer_bye), self);
  g_signal_connect_swapped (self->engine, "viewer-state", G_CALLBACK (on_engine_viewer_state), self);
  g_signal_connect_swapped (self->engine, "viewer-stats", G_CALLBACK (on_engine_viewer_stats), self);
  g_signal_connect_swapped (self->engine, "viewer-error", G_CALLBACK (on_engine_viewer_error), self);
}

static void
peercam_session_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  PeercamSession *self = PEERCAM_SESSION (object);

  switch (prop_id)
    {
    case PROP_ROLE:
      g_value_set_enum (value, self->role);
      break;
    case PROP_STATE:
      g_value_set_enum (value, peercam_session_get_state (self));
      break;
    case PROP_ROOM_STATE:
      g_value_set_enum (value, peercam_session_get_room_state (self));
      break;
    case PROP_ENGINE:
      g_value_set_object (value, self->engine);
      break;
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;
    case PROP_ROOM:
      g_value_set_string (value, self->room);
      break;
    case PROP_SERVER_URL:
      g_value_set_string (value, self->server_url);
      break;
    case PROP_PEER_PRESENT:
      g_value_set_boolean (value, self->peer_present);
      break;
    case PROP_AUTO_CALL:
      g_value_set_boolean (value, self->auto_call);
      break;
    case PROP_JOIN_ERROR:
      g_value_set_boxed (value, self->join_error);
      break;
    case PROP_POOR_CONNECTION:
      g_value_set_boolean (value, peercam_session_get_poor_connection (self));
      break;
    case PROP_VIEWERS:
      g_value_set_object (value, self->viewers);
      break;
    case PROP_N_VIEWERS:
      g_value_set_uint (value, g_list_model_get_n_items (G_LIST_MODEL (self->viewers)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_session_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  PeercamSession *self = PEERCAM_SESSION (object);

  switch (prop_id)
    {
    case PROP_ROLE:
      self->role = g_value_get_enum (value);
      break;
    case PROP_AUTO_CALL:
      peercam_session_set_auto_call (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_session_class_init (PeercamSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = peercam_session_constructed;
  object_class->dispose = peercam_session_dispose;
  object_class->finalize = peercam_session_finalize;
  object_class->get_property = peercam_session_get_property;
  object_class->set_property = peercam_session_set_property;

  properties[PROP_ROLE] =
    g_param_spec_enum ("role", NULL, NULL,
                       PEERCAM_TYPE_SESSION_ROLE, PEERCAM_SESSION_ROLE_CALLER,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /* The furthest call in progress (a caller's preview without one). */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       PEERCAM_TYPE_SESSION_STATE, PEERCAM_SESSION_STATE_IDLE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Where the room stands: follows the signaling client, NONE without one. */
  properties[PROP_ROOM_STATE] =
    g_param_spec_enum ("room-state", NULL, NULL,
                       PEERCAM_TYPE_ROOM_STATE, PEERCAM_ROOM_STATE_NONE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ENGINE] =
    g_param_spec_object ("engine", NULL, NULL,
                         PEERCAM_TYPE_CALL_ENGINE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL,
                         PEERCAM_TYPE_SIGNALING_CLIENT,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ROOM] =
    g_param_spec_string ("room", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SERVER_URL] =
    g_param_spec_string ("server-url", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PEER_PRESENT] =
    g_param_spec_boolean ("peer-present", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_AUTO_CALL] =
    g_param_spec_boolean ("auto-call", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Why the session is not in its room (full, refused token, unreachable
   * server, untrusted certificate), or NULL; cleared on joining. */
  properties[PROP_JOIN_ERROR] =
    g_param_spec_boxed ("join-error", NULL, NULL, G_TYPE_ERROR,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Follows the engine's: no video for a while, or ICE disconnected, in a live call. */
  properties[PROP_POOR_CONNECTION] =
    g_param_spec_boolean ("poor-connection", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /* Caller: the viewers in the room (PeercamViewer), in order of arrival. */
  properties[PROP_VIEWERS] =
    g_param_spec_object ("viewers", NULL, NULL, G_TYPE_LIST_MODEL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_VIEWERS] =
    g_param_spec_uint ("n-viewers", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* In the room (@first: we made it, alone) as @id. */
  signals[JOINED] =
    g_signal_new ("joined",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_BOOLEAN);
  /* Someone came into the room: @peer is its id (NULL when the server
   * names nobody); a caller lists it as a viewer. */
  signals[PEER_JOINED] =
    g_signal_new ("peer-joined",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
  /* In the signals about a call, @viewer is the caller's viewer it is
   * about (NULL: the one call without an id, or a viewer's own call).
   * calling: an offer went out; connected: media flows; hangup: we ended it. */
  signals[CALLING] =
    g_signal_new ("calling",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[CONNECTED] =
    g_signal_new ("connected",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[HANGUP] =
    g_signal_new ("hangup",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
  /* The other side ended the call or left: @peer as the room named it
   * (NULL: unnamed), @viewer the caller's viewer whose call ends. */
  signals[BYE] =
    g_signal_new ("bye",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /* Viewer: the first decoded frame of a call, its size. */
  signals[FIRST_FRAME] =
    g_signal_new ("first-frame",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
  /* Something failed: about @viewer's call, or the session's (NULL). An
   * error that keeps the session out of its room is also its join-error. */
  signals[ERROR] =
    g_signal_new ("error",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[STATS] =
    g_signal_new ("stats",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, PEERCAM_TYPE_CALL_STATS | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
peercam_session_init (PeercamSession *self)
{
  self->viewers = g_list_store_new (PEERCAM_TYPE_VIEWER);
  self->auto_call_pending = g_hash_table_new (NULL, NULL);
}

PeercamSession *
peercam_session_new (PeercamSessionRole role)
{
  return g_object_new (PEERCAM_TYPE_SESSION, "role", role, NULL);
}

PeercamSessionRole
peercam_session_get_role (PeercamSession *self)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), PEERCAM_SESSION_ROLE_CALLER);
  return self->role;
}

PeercamSessionState
peercam_session_get_state (PeercamSession *self)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), PEERCAM_SESSION_STATE_IDLE);
  return (PeercamSessionState) peercam_call_engine_get_state (self->engine);
}

PeercamRoomState
peercam_session_get_room_state (PeercamSession *self)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), PEERCAM_ROOM_STATE_NONE);

  if (self->client == NULL)
    return PEERCAM_ROOM_STATE_NONE;
  return (PeercamRoomState) (peercam_signaling_client_get_state (self->client) + 1);
}

const char *
peercam_session_get_token (PeercamSession *self)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), NULL);
  return self->client ? peercam_signaling_client_get_token (self->client) : NULL;
}

const char *
peercam_session_get_pin (PeercamSession *self)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), NULL);
  return self->client ? peercam_signaling_client_get_pinned_certificate (self->client) : NULL;
}

PeercamJoinProblem
peercam_session_get_join_problem (PeercamSession *self)
{
  const GError *error;

  g_return_val_if_fail (PEERCAM_IS_SESSION (self), PEERCAM_JOIN_PROBLEM_NONE);

  error = self->join_error;
  if (error == NULL)
    return PEERCAM_JOIN_PROBLEM_NONE;
  if (g_error_matches (error, PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_ROOM_FULL))
    return PEERCAM_JOIN_PROBLEM_ROOM_FULL;
  if (g_error_matches (error, PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_AUTH))
    return PEERCAM_JOIN_PROBLEM_AUTH;
  if (g_error_matches (error, PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_CERTIFICATE) ||
      g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE))
    return PEERCAM_JOIN_PROBLEM_CERTIFICATE;
  return PEERCAM_JOIN_PROBLEM_OTHER;
}

PeercamCallEngine *
peercam_session_get_engine (PeercamSession *self)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), NULL);
  return self->engine;
}

PeercamSignalingClient *
peercam_session_get_client (PeercamSession *self)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), NULL);
  return self->client;
}

const char *
peercam_session_get_room (PeercamSession *self)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), NULL);
  return self->room;
}

const char *
peercam_session_get_server_url (PeercamSession *self)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), NULL);
  return self->server_url;
}

gboolean
peercam_session_get_peer_present (PeercamSession *self)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), FALSE);
  return self->peer_present;
}

const GError *
peercam_session_get_join_error (PeercamSession *self)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), NULL);

  return self->join_error;
}

gboolean
peercam_session_get_poor_connection (PeercamSession *self)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), FALSE);

  return peercam_call_engine_get_poor_connection (self->engine);
}

gboolean
peercam_session_get_auto_call (PeercamSession *self)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), FALSE);
  return self->auto_call;
}

void
peercam_session_set_auto_call (PeercamSession *self,
                               gboolean        auto_call)
{
  g_return_if_fail (PEERCAM_IS_SESSION (self));

  if (self->auto_call == !!auto_call)
    return;

  self->auto_call = !!auto_call;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AUTO_CALL]);
  maybe_auto_call (self);
}

/* Follows @signaller and starts it; on success it is ours. */
static gboolean
start_signaller (PeercamSession    *self,
                 PeercamSignaller  *signaller,
                 GError           **error)
{
  g_signal_connect_swapped (signaller, "peer-joined", G_CALLBACK (on_peer_joined), self);
  g_signal_connect_swapped (signaller, "peer-left", G_CALLBACK (on_peer_left), self);
  g_signal_connect_swapped (signaller, "session-requested", G_CALLBACK (on_session_requested), self);
  g_signal_connect_swapped (signaller, "session-description", G_CALLBACK (on_session_description), self);
  g_signal_connect_swapped (signaller, "candidate", G_CALLBACK (on_candidate), self);
  g_signal_connect_swapped (signaller, "session-ended", G_CALLBACK (on_session_ended), self);
  g_signal_connect_swapped (signaller, "error", G_CALLBACK (on_signaller_error), self);

  if (!peercam_signaller_start (signaller, error))
    {
      g_signal_handlers_disconnect_by_data (signaller, self);
      return FALSE;
    }
  self->signaller = g_object_ref (signaller);
  return TRUE;
}

/**
 * peercam_session_join_signaller:
 * @signaller: any #PeercamSignaller (e.g. a loopback pair's end in tests)
 *
 * Like peercam_session_join() without a Socket.IO room: the session has no
 * #PeercamSession:client and hears only what the signaller says.
 */
gboolean
peercam_session_join_signaller (PeercamSession    *self,
                                PeercamSignaller  *signaller,
                                GError           **error)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), FALSE);
  g_return_val_if_fail (PEERCAM_IS_SIGNALLER (signaller), FALSE);

  peercam_session_leave (self);
  if (!start_signaller (self, signaller, error))
    return FALSE;
  set_join_error (self, NULL);
  return TRUE;
}

gboolean
peercam_session_join (PeercamSession  *self,
                      const char      *server_url,
                      const char      *room,
                      const char      *token,
                      const char      *pin,
                      GError         **error)
{
  g_autoptr(PeercamSignalingClient) client = NULL;
  g_autoptr(PeercamSignaller) signaller = NULL;

  g_return_val_if_fail (PEERCAM_IS_SESSION (self), FALSE);
  g_return_val_if_fail (server_url != NULL, FALSE);
  g_return_val_if_fail (room != NULL, FALSE);

  if (!peercam_signaling_client_validate_url (server_url, error))
    return FALSE;

  peercam_session_leave (self);

  client = peercam_signaling_client_new (server_url);
  if (token != NULL && *token != '\0')
    peercam_signaling_client_set_token (client, token);
  if (pin != NULL && *pin != '\0')
    peercam_signaling_client_set_pinned_certificate (client, pin);

  /* The room itself on the client; the calls' negotiation on the
   * signaller, which hears of the room after us. */
  g_signal_connect_swapped (client, "created", G_CALLBACK (on_client_created), self);
  g_signal_connect_swapped (client, "joined", G_CALLBACK (on_client_joined), self);
  g_signal_connect_swapped (client, "full", G_CALLBACK (on_client_full), self);
  g_signal_connect_swapped (client, "server-error", G_CALLBACK (on_client_server_error), self);
  signaller = PEERCAM_SIGNALLER (peercam_sio_signaller_new (client, room));
  if (!start_signaller (self, signaller, error))
    {
      g_signal_handlers_disconnect_by_data (client, self);
      return FALSE;
    }

  self->client = g_steal_pointer (&client);
  g_signal_connect_swapped (self->client, "notify::state", G_CALLBACK (on_client_state), self);
  set_join_error (self, NULL);
  g_free (self->room);
  self->room = g_strdup (room);
  g_free (self->server_url);
  self->server_url = g_strdup (server_url);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLIENT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROOM_STATE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROOM]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_URL]);

  return TRUE;
}

void
peercam_session_leave (PeercamSession *self)
{
  gboolean had_client;

  g_return_if_fail (PEERCAM_IS_SESSION (self));

  if (self->signaller == NULL)
    return;

  had_client = self->client != NULL;
  self->leaving = TRUE;
  peercam_session_hang_up (self);
  disconnect_client (self);
  self->leaving = FALSE;
  clear_viewers (self);
  g_clear_pointer (&self->caller_id, g_free);
  set_peer_present (self, FALSE);
  set_join_error (self, NULL);
  if (had_client)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLIENT]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROOM_STATE]);
    }
}

gboolean
peercam_session_start_local_video (PeercamSession  *self,
                                   GError         **error)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), FALSE);

  return peercam_call_engine_start_local_video (self->engine, error);
}

void
peercam_session_stop_local_video (PeercamSession *self)
{
  g_return_if_fail (PEERCAM_IS_SESSION (self));

  peercam_call_engine_stop_local_video (self->engine);
}

void
peercam_session_close (PeercamSession *self)
{
  g_return_if_fail (PEERCAM_IS_SESSION (self));

  peercam_session_leave (self);
  if (self->role == PEERCAM_SESSION_ROLE_CALLER)
    peercam_call_engine_stop_local_video (self->engine);
  else
    peercam_call_engine_handle_bye (self->engine);
}

gboolean
peercam_call_stats_lookup (const PeercamCallStats *stats,
                           PeercamStat             stat,
                           double                 *value)
{
  double v;

  g_return_val_if_fail (stats != NULL, FALSE);

  switch (stat)
    {
    case PEERCAM_STAT_FPS: v = stats->fps; break;
    case PEERCAM_STAT_KBPS: v = stats->kbps; break;
    case PEERCAM_STAT_WIDTH: v = stats->width; break;
    case PEERCAM_STAT_HEIGHT: v = stats->height; break;
    case PEERCAM_STAT_RTT_MS: v = stats->rtt_ms; break;
    case PEERCAM_STAT_ESTIMATE_KBPS:
      if (!stats->has_send)
        return FALSE;
      v = stats->estimate_kbps;
      break;
    case PEERCAM_STAT_SEND_WIDTH:
      if (!stats->has_send)
        return FALSE;
      v = stats->send_width;
      break;
    case PEERCAM_STAT_SEND_HEIGHT:
      if (!stats->has_send)
        return FALSE;
      v = stats->send_height;
      break;
    case PEERCAM_STAT_SEND_FPS:
      if (!stats->has_send)
        return FALSE;
      v = stats->send_fps;
      break;
    case PEERCAM_STAT_SEND_KBPS:
      if (!stats->has_send)
        return FALSE;
      v = stats->send_kbps;
      break;
    case PEERCAM_STAT_LOSS_PCT:
      if (!stats->has_send && !stats->has_receive)
        return FALSE;
      v = stats->has_receive ? stats->loss_pct : stats->send_loss_pct;
      break;
    case PEERCAM_STAT_JITTER_MS:
      if (!stats->has_receive)
        return FALSE;
      v = stats->jitter_ms;
      break;
    case PEERCAM_STAT_LATENCY_MS:
      if (!stats->has_receive)
        return FALSE;
      v = stats->latency_ms;
      break;
    case PEERCAM_STAT_RETRANSMISSIONS:
      if (!stats->has_send && !stats->has_receive)
        return FALSE;
      v = stats->has_receive ? stats->retransmissions : stats->send_retransmissions;
      break;
    case PEERCAM_STAT_FRAMES: v = stats->frames; break;
    case PEERCAM_STAT_MAX_GAP_MS:
      if (stats->max_gap_ms < 0)
        return FALSE;
      v = stats->max_gap_ms;
      break;
    case PEERCAM_STAT_PACKETS_LOST:
      if (!stats->has_receive)
        return FALSE;
      v = stats->packets_lost;
      break;
    case PEERCAM_STAT_FRAMES_UNDECODED:
      if (stats->max_gap_ms < 0)
        return FALSE;
      v = stats->frames_undecoded;
      break;
    default:
      g_return_val_if_reached (FALSE);
    }
  if (value)
    *value = v;
  return TRUE;
}

PeercamSourceProblem
peercam_session_classify_source_error (const GError *error)
{
  g_return_val_if_fail (error != NULL, PEERCAM_SOURCE_PROBLEM_OTHER);

  if (g_error_matches (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_NO_CAMERA))
    return PEERCAM_SOURCE_PROBLEM_NO_CAMERA;
  if (error->domain == PEERCAM_SCREENCAST_PORTAL_ERROR ||
      g_error_matches (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE) ||
      g_error_matches (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_MISSING_PLUGIN))
    return PEERCAM_SOURCE_PROBLEM_CANNOT_RUN;
  if (g_error_matches (error, PEERCAM_CAMERA_PORTAL_ERROR, PEERCAM_CAMERA_PORTAL_ERROR_DENIED))
    return PEERCAM_SOURCE_PROBLEM_CAMERA_DENIED;
  return PEERCAM_SOURCE_PROBLEM_OTHER;
}

void
peercam_session_follow_settings (PeercamSession *self,
                                 GSettings      *settings)
{
  g_return_if_fail (PEERCAM_IS_SESSION (self));
  g_return_if_fail (G_IS_SETTINGS (settings));

  peercam_call_settings_follow (self->engine, settings);
}

void
peercam_session_set_local_sink (PeercamSession *self,
                                GstElement     *sink)
{
  g_return_if_fail (PEERCAM_IS_SESSION (self));

  peercam_call_engine_set_local_sink (self->engine, sink);
}

void
peercam_session_set_remote_sink (PeercamSession *self,
                                 GstElement     *sink)
{
  g_return_if_fail (PEERCAM_IS_SESSION (self));

  peercam_call_engine_set_remote_sink (self->engine, sink);
}

void
peercam_session_warm_up (void)
{
  peercam_call_engine_warm_up ();
}

void
peercam_session_warm_up_stop (void)
{
  peercam_call_engine_warm_up_stop ();
}

/* Caller: calls every viewer in the room that is not in a call, or the
 * room itself when nobody is known to be in it (a relay that says
 * nothing); viewers arriving later are called too, until Hang Up. */
gboolean
peercam_session_call (PeercamSession  *self,
                      GError         **error)
{
  guint n;

  g_return_val_if_fail (PEERCAM_IS_SESSION (self), FALSE);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->viewers));
  if (self->role != PEERCAM_SESSION_ROLE_CALLER || n == 0)
    return peercam_call_engine_call (self->engine, error);

  self->in_call = TRUE;
  g_hash_table_remove_all (self->auto_call_pending);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PeercamViewer) viewer = g_list_model_get_item (G_LIST_MODEL (self->viewers), i);
      const char *id = peercam_viewer_get_id (viewer);
      PeercamCallState state = peercam_call_engine_get_viewer_state (self->engine, id);

      /* A viewer already in a call keeps it (the implicit one is called
       * again, as the demo's Call always did). */
      if (id != NULL && (state == PEERCAM_CALL_STATE_CALLING || state == PEERCAM_CALL_STATE_CONNECTING ||
                         state == PEERCAM_CALL_STATE_CONNECTED))
        continue;
      if (!peercam_call_engine_call_viewer (self->engine, id, error))
        return FALSE;
      n = g_list_model_get_n_items (G_LIST_MODEL (self->viewers));
    }
  return TRUE;
}

void
peercam_session_hang_up (PeercamSession *self)
{
  g_return_if_fail (PEERCAM_IS_SESSION (self));

  self->in_call = FALSE;
  if (self->role == PEERCAM_SESSION_ROLE_CALLER && peercam_call_engine_get_n_calls (self->engine) > 0)
    peercam_call_engine_hang_up (self->engine);
}

/**
 * peercam_session_call_viewer:
 * @viewer: one of #PeercamSession:viewers
 *
 * Calls this viewer alone (again); the others' calls go on.
 */
gboolean
peercam_session_call_viewer (PeercamSession  *self,
                             PeercamViewer   *viewer,
                             GError         **error)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), FALSE);
  g_return_val_if_fail (PEERCAM_IS_VIEWER (viewer), FALSE);

  g_hash_table_remove (self->auto_call_pending, viewer);
  self->in_call = TRUE;
  return peercam_call_engine_call_viewer (self->engine, peercam_viewer_get_id (viewer), error);
}

/**
 * peercam_session_disconnect_viewer:
 * @viewer: one of #PeercamSession:viewers
 *
 * Ends the call with this viewer alone (it hears bye); the others go on.
 */
void
peercam_session_disconnect_viewer (PeercamSession *self,
                                   PeercamViewer  *viewer)
{
  g_return_if_fail (PEERCAM_IS_SESSION (self));
  g_return_if_fail (PEERCAM_IS_VIEWER (viewer));

  g_hash_table_remove (self->auto_call_pending, viewer);
  peercam_call_engine_end_viewer (self->engine, peercam_viewer_get_id (viewer), TRUE);
}

GListModel *
peercam_session_get_viewers (PeercamSession *self)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), NULL);
  return G_LIST_MODEL (self->viewers);
}

PeercamViewer *
peercam_session_lookup_viewer (PeercamSession *self,
                               const char     *id)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), NULL);
  return find_viewer (self, id, NULL);
}

guint
peercam_session_get_n_viewers (PeercamSession *self)
{
  g_return_val_if_fail (PEERCAM_IS_SESSION (self), 0);
  return g_list_model_get_n_items (G_LIST_MODEL (self->viewers));
}
