/* test-signaller.c — the signaller interface through its loopback pair:
 * what each end sees, bad values, and a real call (two webrtcbin peer
 * connections, videotestsrc, ICE on 127.0.0.1) negotiated over it with typed
 * values only; and the Socket.IO signaller against the embedded server on
 * 127.0.0.1: the demo's JSON both ways, addressed, and garbage from a peer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-init.h"
#include "peercam-loopback-signaller.h"
#include "peercam-peer-connection.h"
#include "peercam-session-private.h"
#include "peercam-signaling-server.h"
#include "peercam-sio-signaller.h"
#include "peercam-test-recorder.h"
#include "peercam-test-wait.h"

#include <gst/gst.h>
#include <string.h>

/* ---- the pair's behaviour ------------------------------------------------ */

static void
check_pair (const char *id_a,
            const char *id_b)
{
  g_autoptr(PeercamLoopbackSignaller) a = NULL;
  g_autoptr(PeercamLoopbackSignaller) b = NULL;
  PeercamSignaller *sa, *sb;
  PeercamTestSignallerLog ra = { 0 }, rb = { 0 };
  g_autofree char *text_a = NULL, *text_b = NULL, *expect_a = NULL, *expect_b = NULL;
  g_autoptr(GError) error = NULL;
  const char *na = id_a ? id_a : "-", *nb = id_b ? id_b : "-";

  peercam_loopback_signaller_new_pair (id_a, id_b, &a, &b);
  sa = PEERCAM_SIGNALLER (a);
  sb = PEERCAM_SIGNALLER (b);
  g_assert_cmpstr (peercam_loopback_signaller_get_id (a), ==, id_a);
  peercam_test_signaller_log_init (&ra, a);
  peercam_test_signaller_log_init (&rb, b);

  /* Sending before start: an error, nothing sent. */
  peercam_signaller_send_description (sa, NULL, PEERCAM_DESCRIPTION_OFFER, "v=0\r\n");
  g_assert_cmpuint (ra.errors->len, ==, 1);
  g_assert_true (g_error_matches (ra.errors->pdata[0], PEERCAM_SIGNALLER_ERROR,
                                  PEERCAM_SIGNALLER_ERROR_NOT_STARTED));

  g_assert_true (peercam_signaller_start (sa, &error));
  g_assert_no_error (error);
  /* Alone: nobody to send to. */
  peercam_signaller_end_session (sa, NULL);
  g_assert_cmpuint (ra.errors->len, ==, 2);
  g_assert_true (peercam_signaller_start (sb, &error));
  /* Nothing arrives re-entrantly, like a wire. */
  g_assert_cmpuint (ra.events->len, ==, 0);
  g_assert_cmpuint (rb.events->len, ==, 0);
  g_assert_true (WAIT_UNTIL (ra.events->len == 2 && rb.events->len == 2, 2000));

  /* Each end sent to the other, by name and to "the peer". */
  peercam_signaller_send_description (sa, id_b, PEERCAM_DESCRIPTION_OFFER, "v=0 offer");
  peercam_signaller_send_candidate (sa, NULL, 0, NULL, "candidate:1 1 udp 1 127.0.0.1 9 typ host");
  peercam_signaller_send_candidate (sa, id_b, -1, "video0", "candidate:2 1 udp 1 127.0.0.1 9 typ host");
  peercam_signaller_send_candidate (sa, NULL, 0, "0", "");  /* end of candidates */
  peercam_signaller_send_description (sb, id_a, PEERCAM_DESCRIPTION_ANSWER, "v=0 answer");
  peercam_signaller_end_session (sb, NULL);
  g_assert_true (WAIT_UNTIL (ra.events->len == 4 && rb.events->len == 6, 2000));
  /* Someone by a name the pair does not know. */
  peercam_signaller_end_session (sa, "nobody");
  g_assert_cmpuint (ra.errors->len, ==, 3);

  peercam_signaller_stop (sb);
  g_assert_true (WAIT_UNTIL (ra.events->len == 5, 2000));
  peercam_signaller_stop (sb);  /* twice is harmless */

  text_a = peercam_test_signaller_log_text (&ra);
  text_b = peercam_test_signaller_log_text (&rb);
  expect_a = g_strdup_printf ("joined %s|requested %s|description %s answer v=0 answer|ended %s|left %s",
                              nb, nb, nb, nb, nb);
  expect_b = g_strdup_printf ("joined %s|requested %s|description %s offer v=0 offer|"
                              "candidate %s 0 - candidate:1 1 udp 1 127.0.0.1 9 typ host|"
                              "candidate %s -1 video0 candidate:2 1 udp 1 127.0.0.1 9 typ host|"
                              "candidate %s 0 0 ",
                              na, na, na, na, na, na);
  g_assert_cmpstr (text_a, ==, expect_a);
  g_assert_cmpstr (text_b, ==, expect_b);
  g_assert_cmpuint (rb.errors->len, ==, 0);

  /* Messages in flight to an end being dropped die with it. */
  peercam_signaller_start (sb, NULL);
  g_assert_true (WAIT_UNTIL (rb.events->len == 8, 2000));
  peercam_signaller_send_description (sa, NULL, PEERCAM_DESCRIPTION_OFFER, "v=0 late");
  g_clear_object (&b);
  g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (rb.events->len, ==, 8);
  peercam_signaller_end_session (sa, NULL);
  g_assert_cmpuint (ra.errors->len, ==, 4);

  peercam_test_signaller_log_clear (&ra);
  peercam_test_signaller_log_clear (&rb);
}

static void
test_pair_unnamed (void)
{
  check_pair (NULL, NULL);
}

static void
test_pair_named (void)
{
  check_pair ("caller-1", "viewer-7");
}

/* What implementations hand to emit_*() is checked once, in the interface. */
static void
test_incomplete_values (void)
{
  g_autoptr(PeercamLoopbackSignaller) a = NULL;
  g_autoptr(PeercamLoopbackSignaller) b = NULL;
  PeercamTestSignallerLog r = { 0 };
  PeercamDescriptionType type = PEERCAM_DESCRIPTION_ANSWER;

  peercam_loopback_signaller_new_pair (NULL, NULL, &a, &b);
  peercam_test_signaller_log_init (&r, a);
  peercam_signaller_emit_session_description (PEERCAM_SIGNALLER (a), NULL, PEERCAM_DESCRIPTION_OFFER, NULL);
  peercam_signaller_emit_session_description (PEERCAM_SIGNALLER (a), NULL, (PeercamDescriptionType) 7, "v=0");
  peercam_signaller_emit_candidate (PEERCAM_SIGNALLER (a), NULL, 0, NULL, NULL);
  peercam_signaller_emit_candidate (PEERCAM_SIGNALLER (a), NULL, -1, NULL, "candidate:1 1 udp 1 127.0.0.1 9 typ host");
  g_assert_cmpuint (r.events->len, ==, 0);
  g_assert_cmpuint (r.errors->len, ==, 4);
  g_assert_true (g_error_matches (r.errors->pdata[0], PEERCAM_SIGNALLER_ERROR,
                                  PEERCAM_SIGNALLER_ERROR_INVALID_DESCRIPTION));
  g_assert_true (g_error_matches (r.errors->pdata[1], PEERCAM_SIGNALLER_ERROR,
                                  PEERCAM_SIGNALLER_ERROR_INVALID_DESCRIPTION));
  g_assert_true (g_error_matches (r.errors->pdata[3], PEERCAM_SIGNALLER_ERROR,
                                  PEERCAM_SIGNALLER_ERROR_INVALID_CANDIDATE));

  g_assert_true (peercam_description_type_from_string ("offer", &type));
  g_assert_cmpint (type, ==, PEERCAM_DESCRIPTION_OFFER);
  g_assert_false (peercam_description_type_from_string ("bye", &type));
  g_assert_false (peercam_description_type_from_string (NULL, &type));
  g_assert_cmpint (type, ==, PEERCAM_DESCRIPTION_OFFER);
  peercam_test_signaller_log_clear (&r);
}

/* ---- a real call over the pair ------------------------------------------- */

static const char * const loopback_addresses[] = { "127.0.0.1", NULL };

typedef struct {
  PeercamSignaller *signaller;
  PeercamPeerConnection *pc;
  GstElement *pipeline;
  gboolean caller;
  guint frames;           /* decoded, atomic */
  guint candidates_sent;
  guint errors;
} End;

static void
end_local_description (PeercamPeerConnection *pc, GstWebRTCSessionDescription *desc, End *e)
{
  g_autofree char *text = gst_sdp_message_as_text (desc->sdp);

  g_assert_true (desc->type == GST_WEBRTC_SDP_TYPE_OFFER || desc->type == GST_WEBRTC_SDP_TYPE_ANSWER);
  peercam_signaller_send_description (e->signaller, NULL,
                                      desc->type == GST_WEBRTC_SDP_TYPE_OFFER ? PEERCAM_DESCRIPTION_OFFER
                                                                              : PEERCAM_DESCRIPTION_ANSWER,
                                      text);
}

static void
end_local_candidate (PeercamPeerConnection *pc, guint mline, const char *candidate, End *e)
{
  e->candidates_sent++;
  peercam_signaller_send_candidate (e->signaller, NULL, (int) mline,
                                    peercam_peer_connection_get_local_mid (pc, mline), candidate);
}

static void
end_pc_error (PeercamPeerConnection *pc, GError *error, End *e)
{
  g_printerr ("# peer connection error: %s\n", error->message);
  e->errors++;
}

static GstPadProbeReturn
count_frame (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  End *e = data;

  g_atomic_int_inc (&e->frames);
  return GST_PAD_PROBE_OK;
}

/* Streaming thread: decode what arrives and count the frames. */
static void
on_webrtc_pad_added (GstElement *webrtc, GstPad *pad, End *e)
{
  GstElement *decode;
  g_autoptr(GstPad) sink = NULL;
  g_autoptr(GstElement) fakesink = NULL;
  g_autoptr(GstPad) fakesink_pad = NULL;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  decode = gst_parse_bin_from_description ("rtpvp8depay ! vp8dec ! fakesink name=frames sync=false",
                                           TRUE, NULL);
  g_assert_nonnull (decode);
  gst_bin_add (GST_BIN (e->pipeline), decode);
  fakesink = gst_bin_get_by_name (GST_BIN (decode), "frames");
  fakesink_pad = gst_element_get_static_pad (fakesink, "sink");
  gst_pad_add_probe (fakesink_pad, GST_PAD_PROBE_TYPE_BUFFER, count_frame, e, NULL);
  gst_element_sync_state_with_parent (decode);
  sink = gst_element_get_static_pad (decode, "sink");
  g_assert_cmpint (gst_pad_link (pad, sink), ==, GST_PAD_LINK_OK);
}

static void
end_session_requested (PeercamSignaller *s, const char *peer, End *e)
{
  if (e->caller)
    peercam_peer_connection_create_offer (e->pc);
}

static void
end_session_description (PeercamSignaller *s, const char *peer, PeercamDescriptionType type,
                         const char *sdp, End *e)
{
  g_autoptr(GstSDPMessage) message = NULL;
  GstWebRTCSessionDescription *desc;

  g_assert_cmpint (gst_sdp_message_new_from_text (sdp, &message), ==, GST_SDP_OK);
  if (type == PEERCAM_DESCRIPTION_OFFER)
    {
      g_assert_false (e->caller);
      for (guint i = 0; i < gst_sdp_message_medias_len (message); i++)
        {
          const GstSDPMedia *media = gst_sdp_message_get_media (message, i);

          g_assert_true (peercam_peer_connection_add_recv_transceiver (e->pc, gst_sdp_media_get_media (media), media));
        }
    }
  desc = gst_webrtc_session_description_new (type == PEERCAM_DESCRIPTION_OFFER ? GST_WEBRTC_SDP_TYPE_OFFER
                                                                               : GST_WEBRTC_SDP_TYPE_ANSWER,
                                             g_steal_pointer (&message));
  peercam_peer_connection_set_remote_description (e->pc, desc);
  gst_webrtc_session_description_free (desc);
}

static void
end_candidate (PeercamSignaller *s, const char *peer, int mline, const char *mid,
               const char *candidate, End *e)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (mline, >=, 0);
  if (!peercam_peer_connection_add_remote_candidate (e->pc, (guint) mline, mid, candidate, &error))
    g_error ("candidate refused: %s", error->message);
}

static void
end_init (End *e, PeercamLoopbackSignaller *signaller, gboolean caller)
{
  g_autoptr(GError) error = NULL;

  e->caller = caller;
  e->signaller = PEERCAM_SIGNALLER (signaller);
  e->pipeline = gst_pipeline_new (caller ? "signaller-caller" : "signaller-viewer");
  e->pc = peercam_peer_connection_new (GST_BIN (e->pipeline), 200, NULL, NULL, loopback_addresses, &error);
  g_assert_no_error (error);
  g_signal_connect (e->pc, "local-description", G_CALLBACK (end_local_description), e);
  g_signal_connect (e->pc, "local-candidate", G_CALLBACK (end_local_candidate), e);
  g_signal_connect (e->pc, "error", G_CALLBACK (end_pc_error), e);
  g_signal_connect (e->signaller, "session-requested", G_CALLBACK (end_session_requested), e);
  g_signal_connect (e->signaller, "session-description", G_CALLBACK (end_session_description), e);
  g_signal_connect (e->signaller, "candidate", G_CALLBACK (end_candidate), e);

  if (caller)
    {
      g_autoptr(GstCaps) caps = gst_caps_from_string ("application/x-rtp,media=video,encoding-name=VP8,"
                                                      "payload=96,clock-rate=90000");
      GstElement *source = gst_parse_bin_from_description (
          "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=15/1 ! "
          "vp8enc deadline=1 cpu-used=8 ! rtpvp8pay pt=96 ! queue",
          TRUE, &error);
      g_autoptr(GstPad) sink = peercam_peer_connection_add_send_transceiver (e->pc, caps);
      g_autoptr(GstPad) src = NULL;

      g_assert_no_error (error);
      g_assert_nonnull (sink);
      gst_bin_add (GST_BIN (e->pipeline), source);
      src = gst_element_get_static_pad (source, "src");
      g_assert_cmpint (gst_pad_link (src, sink), ==, GST_PAD_LINK_OK);
    }
  else
    {
      g_signal_connect (peercam_peer_connection_get_webrtcbin (e->pc), "pad-added",
                        G_CALLBACK (on_webrtc_pad_added), e);
    }
  g_assert_cmpint (gst_element_set_state (e->pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
}

static void
end_clear (End *e)
{
  if (peercam_peer_connection_close (e->pc))
    {
      g_usleep (100 * 1000);
      peercam_peer_connection_finish_close (e->pc);
    }
  gst_element_set_state (e->pipeline, GST_STATE_NULL);
  g_clear_object (&e->pc);
  g_clear_object (&e->pipeline);
}

static gboolean
frames_arrived (End *viewer)
{
  return g_atomic_int_get (&viewer->frames) >= 10;
}

static void
test_call (void)
{
  g_autoptr(PeercamLoopbackSignaller) a = NULL;
  g_autoptr(PeercamLoopbackSignaller) b = NULL;
  End caller = { 0 }, viewer = { 0 };

  peercam_loopback_signaller_new_pair (NULL, NULL, &a, &b);
  end_init (&caller, a, TRUE);
  end_init (&viewer, b, FALSE);

  /* The caller waits in the room; the viewer's arrival starts the call. */
  g_assert_true (peercam_signaller_start (PEERCAM_SIGNALLER (a), NULL));
  g_assert_true (peercam_signaller_start (PEERCAM_SIGNALLER (b), NULL));
  g_assert_true (WAIT_UNTIL (frames_arrived (&viewer), 15000));
  g_assert_true (WAIT_UNTIL (peercam_peer_connection_get_connection_state (caller.pc) ==
                             GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED, 5000));
  g_assert_cmpuint (caller.candidates_sent, >, 0);
  g_assert_cmpuint (viewer.candidates_sent, >, 0);
  g_assert_cmpuint (caller.errors + viewer.errors, ==, 0);

  peercam_signaller_stop (PEERCAM_SIGNALLER (b));
  peercam_signaller_stop (PEERCAM_SIGNALLER (a));
  end_clear (&viewer);
  end_clear (&caller);
}

/* ---- two sessions over the pair -------------------------------------------- */

static const char *
last_event (GPtrArray *events)
{
  return events->len ? events->pdata[events->len - 1] : "";
}

/* The session's typed signals, logged by name. */
typedef struct {
  PeercamSession *session;
  GPtrArray      *events;
} SessionLog;

/* Swapped: only the log is read, so one handler fits every signature. */
static void
on_session_signal (SessionLog *log)
{
  GSignalInvocationHint *hint = g_signal_get_invocation_hint (log->session);

  g_ptr_array_add (log->events, g_strdup (g_signal_name (hint->signal_id)));
}

static void
follow_session (SessionLog *log)
{
  const char *names[] = { "joined", "peer-joined", "calling", "connected", "hangup", "bye", "first-frame", "error" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_signal_connect_swapped (log->session, names[i], G_CALLBACK (on_session_signal), log);
}

static gboolean
has_event (GPtrArray *events, const char *name)
{
  for (guint i = 0; i < events->len; i++)
    if (g_str_equal (events->pdata[i], name))
      return TRUE;
  return FALSE;
}

/* The session glues any signaller to the engine: a caller and a viewer
 * session call each other through the loopback pair (peers by name, or
 * unnamed like the reference relay), frames arrive, and a hang-up reaches
 * the viewer. */
static void
test_sessions (gconstpointer data)
{
  gboolean named = GPOINTER_TO_INT (data);
  g_autoptr(PeercamLoopbackSignaller) a = NULL;
  g_autoptr(PeercamLoopbackSignaller) b = NULL;
  g_autoptr(PeercamSession) caller = peercam_session_new (PEERCAM_SESSION_ROLE_CALLER);
  g_autoptr(PeercamSession) viewer = peercam_session_new (PEERCAM_SESSION_ROLE_VIEWER);
  g_autoptr(GPtrArray) caller_events = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) viewer_events = g_ptr_array_new_with_free_func (g_free);
  SessionLog caller_log = { caller, caller_events };
  SessionLog viewer_log = { viewer, viewer_events };
  PeercamCallEngine *caller_engine = peercam_session_get_engine (caller);
  PeercamCallEngine *viewer_engine = peercam_session_get_engine (viewer);
  g_autoptr(GError) error = NULL;

  peercam_loopback_signaller_new_pair (named ? "caller-1" : NULL, named ? "viewer-1" : NULL, &a, &b);
  follow_session (&caller_log);
  follow_session (&viewer_log);
  g_object_set (caller_engine, "ice-addresses", loopback_addresses, "width", 320, "height", 240, NULL);
  g_object_set (viewer_engine, "ice-addresses", loopback_addresses, NULL);
  peercam_call_engine_set_source (caller_engine, "test");
  peercam_session_set_auto_call (caller, TRUE);
  g_assert_true (peercam_session_start_local_video (caller, &error));
  g_assert_no_error (error);

  g_assert_true (peercam_session_join_signaller (caller, PEERCAM_SIGNALLER (a), &error));
  g_assert_true (peercam_session_join_signaller (viewer, PEERCAM_SIGNALLER (b), &error));
  g_assert_no_error (error);
  g_assert_null (peercam_session_get_client (caller));

  g_assert_true (WAIT_UNTIL (peercam_call_engine_get_remote_frames (viewer_engine) >= 10, 15000));
  g_assert_true (peercam_session_get_peer_present (caller));
  g_assert_true (peercam_session_get_peer_present (viewer));
  g_assert_cmpuint (peercam_session_get_n_viewers (caller), ==, 1);
  {
    g_autoptr(PeercamViewer) listed = g_list_model_get_item (peercam_session_get_viewers (caller), 0);

    g_assert_cmpstr (peercam_viewer_get_id (listed), ==, named ? "viewer-1" : NULL);
  }
  g_assert_true (has_event (caller_events, "calling"));
  g_assert_false (has_event (caller_events, "error"));
  g_assert_false (has_event (viewer_events, "error"));

  /* Hang up: the viewer hears bye through the pair and its call ends. */
  peercam_session_hang_up (caller);
  g_assert_true (WAIT_UNTIL (peercam_call_engine_get_state (viewer_engine) == PEERCAM_CALL_STATE_ENDED, 5000));
  g_assert_true (WAIT_UNTIL (has_event (viewer_events, "bye"), 2000));
  g_assert_cmpstr (last_event (caller_events), !=, "error");

  peercam_session_leave (viewer);
  peercam_session_leave (caller);
  peercam_session_leave (caller);  /* twice is harmless */
}

/* ---- the Socket.IO signaller ---------------------------------------------- */

#define WAIT_MS 5000

static PeercamSignalingServer *
server_start (void)
{
  g_autoptr(GError) error = NULL;
  PeercamSignalingServer *server = peercam_signaling_server_new ();

  peercam_signaling_server_set_bind_address (server, "127.0.0.1");
  peercam_signaling_server_set_port (server, 0);
  g_assert_true (peercam_signaling_server_start (server, &error));
  g_assert_no_error (error);
  return server;
}

typedef struct {
  PeercamSignalingClient *client;
  PeercamSioSignaller *signaller;
  PeercamTestSignallerLog log;
} SioEnd;

static void
sio_end_start (SioEnd *e, PeercamSignalingServer *server, const char *room)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u", peercam_signaling_server_get_port (server));
  g_autoptr(GError) error = NULL;

  e->client = peercam_signaling_client_new (url);
  e->signaller = peercam_sio_signaller_new (e->client, room);
  g_assert_true (peercam_sio_signaller_get_client (e->signaller) == e->client);
  g_assert_cmpstr (peercam_sio_signaller_get_room (e->signaller), ==, room);
  peercam_test_signaller_log_init (&e->log, e->signaller);
  g_assert_true (peercam_signaller_start (PEERCAM_SIGNALLER (e->signaller), &error));
  g_assert_no_error (error);
  g_assert_true (WAIT_UNTIL (peercam_signaling_client_get_state (e->client) == PEERCAM_SIGNALING_STATE_JOINED,
                             WAIT_MS));
}

static void
sio_end_clear (SioEnd *e)
{
  peercam_signaller_stop (PEERCAM_SIGNALLER (e->signaller));
  g_clear_object (&e->signaller);
  g_clear_object (&e->client);
  peercam_test_signaller_log_clear (&e->log);
}

static const char *
id_of (SioEnd *e)
{
  return peercam_signaling_client_get_id (e->client);
}

static gboolean
log_has (SioEnd *e, const char *event)
{
  for (guint i = 0; i < e->log.events->len; i++)
    if (g_strcmp0 (e->log.events->pdata[i], event) == 0)
      return TRUE;
  return FALSE;
}

static void
test_sio_exchange (void)
{
  g_autoptr(PeercamSignalingServer) server = server_start ();
  SioEnd a = { 0 }, b = { 0 };
  g_autofree char *text_a = NULL, *text_b = NULL, *expect_a = NULL, *expect_b = NULL;
  g_autofree char *ida = NULL, *idb = NULL;

  sio_end_start (&a, server, "room");
  sio_end_start (&b, server, "room");
  ida = g_strdup (id_of (&a));
  idb = g_strdup (id_of (&b));
  /* Peercam's server names who is who: the one there hears "call" with
   * the newcomer's id; the newcomer, the members. */
  g_assert_true (WAIT_UNTIL (a.log.events->len == 2 && b.log.events->len == 2, WAIT_MS));

  /* To one member by id, and to the room: both arrive with the sender's id. */
  peercam_signaller_send_description (PEERCAM_SIGNALLER (a.signaller), idb, PEERCAM_DESCRIPTION_OFFER,
                                      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n");
  peercam_signaller_send_candidate (PEERCAM_SIGNALLER (a.signaller), NULL, 0, "0",
                                    "candidate:1 1 UDP 2122260223 127.0.0.1 35115 typ host");
  peercam_signaller_send_candidate (PEERCAM_SIGNALLER (a.signaller), idb, -1, "video0",
                                    "candidate:2 1 UDP 2122260223 127.0.0.1 35116 typ host");
  peercam_signaller_send_candidate (PEERCAM_SIGNALLER (a.signaller), idb, 1, NULL,
                                    "candidate:3 1 UDP 2122260223 127.0.0.1 35117 typ host");
  g_assert_true (WAIT_UNTIL (b.log.events->len == 6, WAIT_MS));
  peercam_signaller_send_description (PEERCAM_SIGNALLER (b.signaller), ida, PEERCAM_DESCRIPTION_ANSWER,
                                      "v=0 answer");
  peercam_signaller_end_session (PEERCAM_SIGNALLER (b.signaller), ida);
  g_assert_true (WAIT_UNTIL (a.log.events->len == 4, WAIT_MS));

  text_a = peercam_test_signaller_log_text (&a.log);
  text_b = peercam_test_signaller_log_text (&b.log);
  expect_a = g_strdup_printf ("joined %s|requested %s|description %s answer v=0 answer|ended %s",
                              idb, idb, idb, idb);
  expect_b = g_strdup_printf ("joined %s|requested %s|"
                              "description %s offer v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n|"
                              "candidate %s 0 0 candidate:1 1 UDP 2122260223 127.0.0.1 35115 typ host|"
                              "candidate %s -1 video0 candidate:2 1 UDP 2122260223 127.0.0.1 35116 typ host|"
                              "candidate %s 1 - candidate:3 1 UDP 2122260223 127.0.0.1 35117 typ host",
                              ida, ida, ida, ida, ida, ida);
  g_assert_cmpstr (text_a, ==, expect_a);
  g_assert_cmpstr (text_b, ==, expect_b);
  g_assert_cmpuint (a.log.errors->len, ==, 0);
  g_assert_cmpuint (b.log.errors->len, ==, 0);

  /* Leaving: the server's bye for a disconnected member ends its session. */
  sio_end_clear (&b);
  g_assert_true (WAIT_UNTIL (a.log.events->len == 5, WAIT_MS));
  g_clear_pointer (&expect_a, g_free);
  expect_a = g_strdup_printf ("ended %s", idb);
  g_assert_cmpstr (a.log.events->pdata[4], ==, expect_a);
  sio_end_clear (&a);
  peercam_signaling_server_stop (server);
}

static void
count_server_error (guint *n)
{
  (*n)++;
}

/* Raw JSON from a peer that is not a signaller: everything malformed is an
 * error at the receiving signaller, never a value, never a crash. */
static void
test_sio_garbage (void)
{
  static const char * const bad_signals[] = {
    "{\"type\": \"offer\"}",
    "{\"type\": \"offer\", \"sdp\": 5}",
    "{\"type\": \"answer\", \"sdp\": null}",
    "{\"type\": \"answer\", \"sdp\": {\"a\": 1}}",
    "{\"type\": \"pranswer\", \"sdp\": \"v=0\"}",
    "{\"type\": \"rollback\"}",
  };
  static const char * const bad_ices[] = {
    "{}",
    "{\"candidate\": 5, \"sdpMLineIndex\": 0}",
    "{\"candidate\": null, \"sdpMLineIndex\": 0}",
    "{\"candidate\": [\"candidate:1\"], \"sdpMLineIndex\": 0}",
    "{\"candidate\": \"candidate:1 1 udp 1 127.0.0.1 9 typ host\"}",
    "{\"candidate\": \"candidate:1 1 udp 1 127.0.0.1 9 typ host\", \"sdpMid\": null, \"sdpMLineIndex\": null}",
    "{\"candidate\": \"candidate:1 1 udp 1 127.0.0.1 9 typ host\", \"sdpMid\": 7}",
    "{\"candidate\": \"candidate:1 1 udp 1 127.0.0.1 9 typ host\", \"sdpMid\": \"0000000000000000000000000000000000000000000000000000000000000000x\"}",
    "{\"candidate\": \"candidate:1 1 udp 1 127.0.0.1 9 typ host\", \"sdpMLineIndex\": \"0\"}",
    "{\"candidate\": \"candidate:1 1 udp 1 127.0.0.1 9 typ host\", \"sdpMLineIndex\": -1}",
    "{\"candidate\": \"candidate:1 1 udp 1 127.0.0.1 9 typ host\", \"sdpMLineIndex\": 1e9}",
    "{\"candidate\": \"candidate:1 1 udp 1 127.0.0.1 9 typ host\", \"sdpMLineIndex\": 99999999999}",
  };
  g_autoptr(PeercamSignalingServer) server = server_start ();
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u", peercam_signaling_server_get_port (server));
  g_autoptr(PeercamSignalingClient) raw = peercam_signaling_client_new (url);
  g_autofree char *from_raw = NULL;
  g_autofree char *expect = NULL;
  SioEnd a = { 0 };
  guint n_bad = G_N_ELEMENTS (bad_signals) + G_N_ELEMENTS (bad_ices);
  guint n_refused = 0;

  sio_end_start (&a, server, "garbage");
  g_assert_true (peercam_signaling_client_connect (raw, NULL));
  g_assert_true (peercam_signaling_client_join (raw, "garbage", NULL));
  g_assert_true (WAIT_UNTIL (a.log.events->len == 2, WAIT_MS));
  from_raw = g_strdup (peercam_signaling_client_get_id (raw));

  for (guint i = 0; i < G_N_ELEMENTS (bad_signals); i++)
    {
      g_autoptr(JsonNode) node = json_from_string (bad_signals[i], NULL);

      g_assert_nonnull (node);
      g_assert_true (peercam_signaling_client_emit (raw, "signal", node));
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_ices); i++)
    {
      g_autoptr(JsonNode) node = json_from_string (bad_ices[i], NULL);

      g_assert_nonnull (node);
      g_assert_true (peercam_signaling_client_emit (raw, "ice", node));
    }
  /* Our server refuses a signal with no string type itself (the relays
   * pass anything: their garbage reaches the client, whose tests cover it). */
  {
    static const char * const refused[] = { "{}", "{\"type\": 5, \"sdp\": \"v=0\"}", "\"v=0\"" };

    g_signal_connect_swapped (raw, "server-error", G_CALLBACK (count_server_error), &n_refused);
    for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
      {
        g_autoptr(JsonNode) node = json_from_string (refused[i], NULL);

        g_assert_true (peercam_signaling_client_emit (raw, "signal", node));
      }
    g_assert_true (WAIT_UNTIL (n_refused == G_N_ELEMENTS (refused), WAIT_MS));
  }
  g_assert_true (WAIT_UNTIL (a.log.errors->len == n_bad, WAIT_MS));
  g_assert_cmpuint (a.log.events->len, ==, 2);
  for (guint i = 0; i < a.log.errors->len; i++)
    g_assert_true (g_error_matches (a.log.errors->pdata[i], PEERCAM_SIGNALLER_ERROR,
                                    i < G_N_ELEMENTS (bad_signals) ? PEERCAM_SIGNALLER_ERROR_INVALID_DESCRIPTION
                                                                   : PEERCAM_SIGNALLER_ERROR_INVALID_CANDIDATE));

  /* What is well formed still gets through after all that: the
   * end-of-candidates marker, and the demo's "bye" as a signal. */
  {
    g_autoptr(JsonNode) end = json_from_string ("{\"candidate\": \"\", \"sdpMid\": \"0\", \"sdpMLineIndex\": 0}", NULL);
    g_autoptr(JsonNode) bye = json_from_string ("{\"type\": \"bye\"}", NULL);

    g_assert_true (peercam_signaling_client_emit (raw, "ice", end));
    g_assert_true (peercam_signaling_client_emit (raw, "signal", bye));
  }
  g_assert_true (WAIT_UNTIL (a.log.events->len == 4, WAIT_MS));
  expect = g_strdup_printf ("candidate %s 0 0 ", from_raw);
  g_assert_cmpstr (a.log.events->pdata[2], ==, expect);
  g_free (expect);
  expect = g_strdup_printf ("ended %s", from_raw);
  g_assert_cmpstr (a.log.events->pdata[3], ==, expect);
  g_assert_cmpuint (a.log.errors->len, ==, n_bad);

  peercam_signaling_client_disconnect (raw);
  sio_end_clear (&a);
  peercam_signaling_server_stop (server);
}

/* A caller joining a room where viewers wait: peer-joined and
 * session-requested for each member the server names. */
static void
test_sio_members (void)
{
  g_autoptr(PeercamSignalingServer) server = server_start ();
  SioEnd v1 = { 0 }, v2 = { 0 }, caller = { 0 };
  g_autofree char *r1 = NULL, *r2 = NULL;

  peercam_signaling_server_set_room_capacity (server, 3);
  sio_end_start (&v1, server, "members");
  sio_end_start (&v2, server, "members");
  sio_end_start (&caller, server, "members");
  r1 = g_strdup_printf ("requested %s", id_of (&v1));
  r2 = g_strdup_printf ("requested %s", id_of (&v2));
  g_assert_true (WAIT_UNTIL (log_has (&caller, r1) && log_has (&caller, r2), WAIT_MS));
  g_assert_cmpuint (caller.log.events->len, ==, 4);
  g_assert_cmpuint (caller.log.errors->len, ==, 0);

  sio_end_clear (&caller);
  sio_end_clear (&v2);
  sio_end_clear (&v1);
  peercam_signaling_server_stop (server);
}

int
main (int argc, char **argv)
{
  /* libproxy throws C++ exceptions that ASan cannot intercept in a C
   * program; these tests only talk to loopback anyway. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, NULL);
  peercam_init (&argc, &argv);

  g_test_add_func ("/signaller/loopback/unnamed", test_pair_unnamed);
  g_test_add_func ("/signaller/loopback/named", test_pair_named);
  g_test_add_func ("/signaller/incomplete-values", test_incomplete_values);
  g_test_add_func ("/signaller/loopback/call", test_call);
  g_test_add_data_func ("/signaller/loopback/sessions-named", GINT_TO_POINTER (TRUE), test_sessions);
  g_test_add_data_func ("/signaller/loopback/sessions-unnamed", GINT_TO_POINTER (FALSE), test_sessions);
  g_test_add_func ("/signaller/sio/exchange", test_sio_exchange);
  g_test_add_func ("/signaller/sio/garbage", test_sio_garbage);
  g_test_add_func ("/signaller/sio/members", test_sio_members);

  return g_test_run ();
}
