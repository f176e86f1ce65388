/* test-sdp.c — peercam_sdp_normalize_bundle() on the offers foreign peers make
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include "peercam-init.h"
#include "peercam-sdp.h"

/* aiortc 1.4's initial offer, shortened: one BUNDLE group whose m-lines
 * each carry their own ICE credentials, port and candidates (and one
 * certificate's fingerprint). */
static const char aiortc_offer[] =
  "v=0\r\n"
  "o=- 3911111111 3911111111 IN IP4 0.0.0.0\r\n"
  "s=-\r\n"
  "t=0 0\r\n"
  "a=group:BUNDLE 0 1\r\n"
  "a=msid-semantic:WMS *\r\n"
  "m=video 40001 UDP/TLS/RTP/SAVPF 97\r\n"
  "c=IN IP4 127.0.0.1\r\n"
  "a=sendrecv\r\n"
  "a=mid:0\r\n"
  "a=msid:a b\r\n"
  "a=rtcp:9 IN IP4 0.0.0.0\r\n"
  "a=rtcp-mux\r\n"
  "a=rtpmap:97 VP8/90000\r\n"
  "a=rtcp-fb:97 nack\r\n"
  "a=rtcp-fb:97 nack pli\r\n"
  "a=rtcp-fb:97 goog-remb\r\n"
  "a=candidate:1 1 udp 2130706431 127.0.0.1 40001 typ host\r\n"
  "a=end-of-candidates\r\n"
  "a=ice-ufrag:vUfr\r\n"
  "a=ice-pwd:videopasswordvideopassword\r\n"
  "a=fingerprint:sha-256 11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11\r\n"
  "a=setup:actpass\r\n"
  "m=audio 40002 UDP/TLS/RTP/SAVPF 96\r\n"
  "c=IN IP4 127.0.0.1\r\n"
  "a=sendrecv\r\n"
  "a=mid:1\r\n"
  "a=msid:a c\r\n"
  "a=rtcp:9 IN IP4 0.0.0.0\r\n"
  "a=rtcp-mux\r\n"
  "a=rtpmap:96 opus/48000/2\r\n"
  "a=candidate:2 1 udp 2130706431 127.0.0.1 40002 typ host\r\n"
  "a=end-of-candidates\r\n"
  "a=ice-ufrag:aUfr\r\n"
  "a=ice-pwd:audiopasswordaudiopassword\r\n"
  "a=fingerprint:sha-256 11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11\r\n"
  "a=setup:actpass\r\n";

static GstSDPMessage *
parse (const char *text)
{
  GstSDPMessage *sdp = NULL;

  g_assert_cmpint (gst_sdp_message_new_from_text (text, &sdp), ==, GST_SDP_OK);
  return sdp;
}

static guint
count_attributes (const GstSDPMedia *media,
                  const char        *key)
{
  guint n = 0;

  while (gst_sdp_media_get_attribute_val_n (media, key, n) != NULL)
    n++;
  return n;
}

static void
test_aiortc_offer (void)
{
  g_autoptr(GstSDPMessage) sdp = parse (aiortc_offer);
  g_autoptr(GstSDPMessage) original = parse (aiortc_offer);
  g_autofree char *before = gst_sdp_message_as_text (original);
  g_autofree char *tag_after = NULL;
  g_autofree char *tag_before = NULL;
  const GstSDPMedia *video, *audio;

  g_assert_cmpuint (peercam_sdp_normalize_bundle (sdp), ==, 1);
  video = gst_sdp_message_get_media (sdp, 0);
  audio = gst_sdp_message_get_media (sdp, 1);

  /* The tag m-line keeps everything, candidates included. */
  tag_before = gst_sdp_media_as_text (gst_sdp_message_get_media (original, 0));
  tag_after = gst_sdp_media_as_text (video);
  g_assert_cmpstr (tag_after, ==, tag_before);

  /* The other one is on the tag's transport. */
  g_assert_cmpstr (gst_sdp_media_get_attribute_val (audio, "ice-ufrag"), ==, "vUfr");
  g_assert_cmpstr (gst_sdp_media_get_attribute_val (audio, "ice-pwd"), ==, "videopasswordvideopassword");
  g_assert_cmpstr (gst_sdp_media_get_attribute_val (audio, "fingerprint"), ==,
                   gst_sdp_media_get_attribute_val (video, "fingerprint"));
  g_assert_cmpstr (gst_sdp_media_get_attribute_val (audio, "setup"), ==, "actpass");
  g_assert_cmpuint (count_attributes (audio, "ice-ufrag"), ==, 1);
  g_assert_cmpuint (count_attributes (audio, "fingerprint"), ==, 1);
  g_assert_cmpuint (count_attributes (audio, "candidate"), ==, 0);
  g_assert_cmpuint (count_attributes (audio, "end-of-candidates"), ==, 0);
  g_assert_cmpuint (gst_sdp_media_get_port (audio), ==, 40001);
  /* What is not transport stays. */
  g_assert_cmpstr (gst_sdp_media_get_attribute_val (audio, "mid"), ==, "1");
  g_assert_cmpstr (gst_sdp_media_get_attribute_val (audio, "rtpmap"), ==, "96 opus/48000/2");
  g_assert_cmpstr (gst_sdp_media_get_attribute_val (audio, "sendrecv"), ==, "");

  /* A second pass finds nothing to do; the input string was not touched. */
  g_assert_cmpuint (peercam_sdp_normalize_bundle (sdp), ==, 0);
  g_assert_nonnull (strstr (before, "aUfr"));
}

/* Chromium's and Firefox's offers already share one transport. */
static void
test_shared_transport_unchanged (void)
{
  g_autoptr(GstSDPMessage) sdp = NULL;
  g_autoptr(GString) text = g_string_new (aiortc_offer);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  g_string_replace (text, "aUfr", "vUfr", 0);
  g_string_replace (text, "audiopasswordaudiopassword", "videopasswordvideopassword", 0);
  g_string_replace (text, "a=candidate:2 1 udp 2130706431 127.0.0.1 40002 typ host\r\na=end-of-candidates\r\n", "", 0);
  g_string_replace (text, "m=audio 40002", "m=audio 40001", 0);
  sdp = parse (text->str);
  before = gst_sdp_message_as_text (sdp);

  g_assert_cmpuint (peercam_sdp_normalize_bundle (sdp), ==, 0);
  after = gst_sdp_message_as_text (sdp);
  g_assert_cmpstr (after, ==, before);
}

/* No BUNDLE, or a group naming m-lines that are not there: nothing to do. */
static void
test_no_bundle (void)
{
  g_autoptr(GString) text = g_string_new (aiortc_offer);
  g_autoptr(GstSDPMessage) sdp = NULL;
  g_autoptr(GstSDPMessage) dangling = NULL;

  g_string_replace (text, "a=group:BUNDLE 0 1\r\n", "", 0);
  sdp = parse (text->str);
  g_assert_cmpuint (peercam_sdp_normalize_bundle (sdp), ==, 0);
  g_assert_cmpstr (gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (sdp, 1), "ice-ufrag"), ==, "aUfr");

  g_string_assign (text, aiortc_offer);
  g_string_replace (text, "a=group:BUNDLE 0 1\r\n", "a=group:BUNDLE 7 1 \r\na=group:LS 0 1\r\na=group:BUNDLE\r\n", 0);
  dangling = parse (text->str);
  g_assert_cmpuint (peercam_sdp_normalize_bundle (dangling), ==, 0);
}

/* The tag is the first mid of the group, wherever its m-line is. */
static void
test_tag_not_first_mline (void)
{
  g_autoptr(GString) text = g_string_new (aiortc_offer);
  g_autoptr(GstSDPMessage) sdp = NULL;

  g_string_replace (text, "a=group:BUNDLE 0 1", "a=group:BUNDLE 1 0", 0);
  sdp = parse (text->str);
  g_assert_cmpuint (peercam_sdp_normalize_bundle (sdp), ==, 1);
  g_assert_cmpstr (gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (sdp, 0), "ice-ufrag"), ==, "aUfr");
  g_assert_cmpuint (gst_sdp_media_get_port (gst_sdp_message_get_media (sdp, 0)), ==, 40002);
  g_assert_cmpuint (count_attributes (gst_sdp_message_get_media (sdp, 1), "candidate"), ==, 1);
}

/* What webrtcbin makes of @sdp as a remote offer: NULL when accepted. */
static char *
webrtcbin_refusal (GstSDPMessage *sdp)
{
  g_autoptr(GstElement) webrtc = gst_element_factory_make ("webrtcbin", NULL);
  GstWebRTCSessionDescription *offer;
  GstPromise *promise;
  const GstStructure *reply;
  GError *error = NULL;
  char *message = NULL;

  g_assert_nonnull (webrtc);
  gst_object_ref_sink (webrtc);
  g_assert_cmpint (gst_element_set_state (webrtc, GST_STATE_READY), !=, GST_STATE_CHANGE_FAILURE);

  offer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  promise = gst_promise_new ();
  g_signal_emit_by_name (webrtc, "set-remote-description", offer, promise);
  g_assert_cmpint (gst_promise_wait (promise), ==, GST_PROMISE_RESULT_REPLIED);
  reply = gst_promise_get_reply (promise);
  if (reply != NULL && gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL))
    {
      message = g_strdup (error->message);
      g_error_free (error);
    }
  gst_promise_unref (promise);
  /* The description owns @sdp now. */
  gst_webrtc_session_description_free (offer);
  gst_element_set_state (webrtc, GST_STATE_NULL);

  return message;
}

static void
test_webrtcbin_accepts (void)
{
  GstSDPMessage *as_is = parse (aiortc_offer);
  GstSDPMessage *normalized = parse (aiortc_offer);
  g_autofree char *refused = NULL;
  g_autofree char *after = NULL;

  if (gst_element_factory_find ("webrtcbin") == NULL)
    {
      g_test_skip ("webrtcbin is missing (gstreamer1.0-plugins-bad)");
      gst_sdp_message_free (as_is);
      gst_sdp_message_free (normalized);
      return;
    }

  refused = webrtcbin_refusal (as_is);
  g_test_message ("as aiortc sends it: %s", refused ? refused : "accepted");
  g_assert_nonnull (refused);
  g_assert_nonnull (strstr (refused, "different ice-ufrag values in bundle"));

  g_assert_cmpuint (peercam_sdp_normalize_bundle (normalized), ==, 1);
  after = webrtcbin_refusal (normalized);
  g_assert_null (after);

  /* A fingerprint per m-line (allowed too) is refused first, and taken the
   * same way. */
  {
    g_autoptr(GString) text = g_string_new (aiortc_offer);
    GstSDPMessage *sdp;
    g_autofree char *second = NULL;
    char *at = strstr (text->str, "a=ice-ufrag:aUfr");

    g_assert_nonnull (at);
    g_string_insert (text, at - text->str, "a=fingerprint:sha-256 22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22:22\r\n");
    g_string_replace (text, "a=ice-pwd:audiopasswordaudiopassword\r\na=fingerprint:sha-256 11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11\r\n",
                      "a=ice-pwd:audiopasswordaudiopassword\r\n", 0);
    sdp = parse (text->str);
    g_assert_cmpuint (count_attributes (gst_sdp_message_get_media (sdp, 1), "fingerprint"), ==, 1);
    second = webrtcbin_refusal (sdp);
    g_assert_nonnull (second);
    g_assert_nonnull (strstr (second, "ingerprint"));

    sdp = parse (text->str);
    g_assert_cmpuint (peercam_sdp_normalize_bundle (sdp), ==, 1);
    g_clear_pointer (&second, g_free);
    second = webrtcbin_refusal (sdp);
    g_assert_null (second);
  }
}

int
main (int   argc,
      char *argv[])
{
  peercam_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sdp/bundle/aiortc-offer", test_aiortc_offer);
  g_test_add_func ("/sdp/bundle/shared-transport-unchanged", test_shared_transport_unchanged);
  g_test_add_func ("/sdp/bundle/no-bundle", test_no_bundle);
  g_test_add_func ("/sdp/bundle/tag-not-first-mline", test_tag_not_first_mline);
  g_test_add_func ("/sdp/bundle/webrtcbin-accepts", test_webrtcbin_accepts);

  return g_test_run ();
}
