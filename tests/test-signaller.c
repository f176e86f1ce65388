/* test-signaller.c — the signaller interface through its loopback pair:
 * what each end sees, bad values, and a real call (two webrtcbin peer
 * connections, videotestsrc, ICE on 127.0.0.1) negotiated over it with typed
 * values only.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-loopback-signaller.h"
#include "peercam-peer-connection.h"
#include "peercam-test-wait.h"

#include <gst/gst.h>
#include <string.h>

/* ---- a recorder of everything an end reports ----------------------------- */

typedef struct {
  GPtrArray *events;   /* char *: "kind peer …" */
  GPtrArray *errors;   /* GError */
} Recorder;

static void
record (Recorder *r, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
record (Recorder *r, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (r->events, g_strdup_vprintf (format, args));
  va_end (args);
}

static void on_joined (PeercamSignaller *s, const char *peer, Recorder *r) { record (r, "joined %s", peer ? peer : "-"); }
static void on_left (PeercamSignaller *s, const char *peer, Recorder *r) { record (r, "left %s", peer ? peer : "-"); }
static void on_requested (PeercamSignaller *s, const char *peer, Recorder *r) { record (r, "requested %s", peer ? peer : "-"); }
static void on_ended (PeercamSignaller *s, const char *peer, Recorder *r) { record (r, "ended %s", peer ? peer : "-"); }

static void
on_description (PeercamSignaller *s, const char *peer, PeercamDescriptionType type,
                const char *sdp, Recorder *r)
{
  record (r, "description %s %s %s", peer ? peer : "-", peercam_description_type_to_string (type), sdp);
}

static void
on_candidate (PeercamSignaller *s, const char *peer, int mline, const char *mid,
              const char *candidate, Recorder *r)
{
  record (r, "candidate %s %d %s %s", peer ? peer : "-", mline, mid ? mid : "-", candidate);
}

static void
on_error (PeercamSignaller *s, GError *error, Recorder *r)
{
  g_ptr_array_add (r->errors, g_error_copy (error));
}

static void
recorder_init (Recorder *r, gpointer signaller)
{
  r->events = g_ptr_array_new_with_free_func (g_free);
  r->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_signal_connect (signaller, "peer-joined", G_CALLBACK (on_joined), r);
  g_signal_connect (signaller, "peer-left", G_CALLBACK (on_left), r);
  g_signal_connect (signaller, "session-requested", G_CALLBACK (on_requested), r);
  g_signal_connect (signaller, "session-description", G_CALLBACK (on_description), r);
  g_signal_connect (signaller, "candidate", G_CALLBACK (on_candidate), r);
  g_signal_connect (signaller, "session-ended", G_CALLBACK (on_ended), r);
  g_signal_connect (signaller, "error", G_CALLBACK (on_error), r);
}

static void
recorder_clear (Recorder *r)
{
  g_clear_pointer (&r->events, g_ptr_array_unref);
  g_clear_pointer (&r->errors, g_ptr_array_unref);
}

static char *
recorder_text (Recorder *r)
{
  g_ptr_array_add (r->events, NULL);
  g_autofree char *text = g_strjoinv ("|", (char **) r->events->pdata);
  g_ptr_array_remove_index (r->events, r->events->len - 1);
  return g_steal_pointer (&text);
}

/* ---- the pair's behaviour ------------------------------------------------ */

static void
check_pair (const char *id_a,
            const char *id_b)
{
  g_autoptr(PeercamLoopbackSignaller) a = NULL;
  g_autoptr(PeercamLoopbackSignaller) b = NULL;
  PeercamSignaller *sa, *sb;
  Recorder ra = { 0 }, rb = { 0 };
  g_autofree char *text_a = NULL, *text_b = NULL, *expect_a = NULL, *expect_b = NULL;
  g_autoptr(GError) error = NULL;
  const char *na = id_a ? id_a : "-", *nb = id_b ? id_b : "-";

  peercam_loopback_signaller_new_pair (id_a, id_b, &a, &b);
  sa = PEERCAM_SIGNALLER (a);
  sb = PEERCAM_SIGNALLER (b);
  g_assert_cmpstr (peercam_loopback_signaller_get_id (a), ==, id_a);
  recorder_init (&ra, a);
  recorder_init (&rb, b);

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
  g_assert_true (WAIT_UNTIL (ra.events->len == 2 && rb.events->len == 1, 2000));

  /* Each end sent to the other, by name and to "the peer". */
  peercam_signaller_send_description (sa, id_b, PEERCAM_DESCRIPTION_OFFER, "v=0 offer");
  peercam_signaller_send_candidate (sa, NULL, 0, NULL, "candidate:1 1 udp 1 127.0.0.1 9 typ host");
  peercam_signaller_send_candidate (sa, id_b, -1, "video0", "candidate:2 1 udp 1 127.0.0.1 9 typ host");
  peercam_signaller_send_candidate (sa, NULL, 0, "0", "");  /* end of candidates */
  peercam_signaller_send_description (sb, id_a, PEERCAM_DESCRIPTION_ANSWER, "v=0 answer");
  peercam_signaller_end_session (sb, NULL);
  g_assert_true (WAIT_UNTIL (ra.events->len == 4 && rb.events->len == 5, 2000));
  /* Someone by a name the pair does not know. */
  peercam_signaller_end_session (sa, "nobody");
  g_assert_cmpuint (ra.errors->len, ==, 3);

  peercam_signaller_stop (sb);
  g_assert_true (WAIT_UNTIL (ra.events->len == 5, 2000));
  peercam_signaller_stop (sb);  /* twice is harmless */

  text_a = recorder_text (&ra);
  text_b = recorder_text (&rb);
  expect_a = g_strdup_printf ("joined %s|requested %s|description %s answer v=0 answer|ended %s|left %s",
                              nb, nb, nb, nb, nb);
  expect_b = g_strdup_printf ("joined %s|description %s offer v=0 offer|"
                              "candidate %s 0 - candidate:1 1 udp 1 127.0.0.1 9 typ host|"
                              "candidate %s -1 video0 candidate:2 1 udp 1 127.0.0.1 9 typ host|"
                              "candidate %s 0 0 ",
                              na, na, na, na, na);
  g_assert_cmpstr (text_a, ==, expect_a);
  g_assert_cmpstr (text_b, ==, expect_b);
  g_assert_cmpuint (rb.errors->len, ==, 0);

  /* Messages in flight to an end being dropped die with it. */
  peercam_signaller_start (sb, NULL);
  g_assert_true (WAIT_UNTIL (rb.events->len == 6, 2000));
  peercam_signaller_send_description (sa, NULL, PEERCAM_DESCRIPTION_OFFER, "v=0 late");
  g_clear_object (&b);
  peercam_test_tick (NULL);
  g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (rb.events->len, ==, 6);
  peercam_signaller_end_session (sa, NULL);
  g_assert_cmpuint (ra.errors->len, ==, 4);

  recorder_clear (&ra);
  recorder_clear (&rb);
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
  Recorder r = { 0 };
  PeercamDescriptionType type = PEERCAM_DESCRIPTION_ANSWER;

  peercam_loopback_signaller_new_pair (NULL, NULL, &a, &b);
  recorder_init (&r, a);
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
  recorder_clear (&r);
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
  g_assert_true (e->caller);
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  g_test_add_func ("/signaller/loopback/unnamed", test_pair_unnamed);
  g_test_add_func ("/signaller/loopback/named", test_pair_named);
  g_test_add_func ("/signaller/incomplete-values", test_incomplete_values);
  g_test_add_func ("/signaller/loopback/call", test_call);

  return g_test_run ();
}
