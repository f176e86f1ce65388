/* test-rtcp-xr.c — the answer to a receive-only viewer's RTT request
 * (RTCP XR RRTR → DLRR, RFC 3611), as a Chromium viewer asks for it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-rtcp-xr.h"

#include <gst/rtp/rtp.h>

#define VIEWER_SSRC 0x0000a11c
#define SENDER_SSRC 0x5e4d0001

static void
put32 (GByteArray *a,
       guint32     v)
{
  guint8 b[4] = { v >> 24, v >> 16, v >> 8, v };

  g_byte_array_append (a, b, 4);
}

/* What a Chromium viewer sends: a receiver report about our stream, then
 * an XR packet with its reference time (NTP @ntp_s.@ntp_frac). */
static GByteArray *
viewer_compound (guint32 viewer_ssrc,
                 guint32 ntp_s,
                 guint32 ntp_frac)
{
  GByteArray *a = g_byte_array_new ();
  const guint8 rr[] = { 0x81, 201, 0, 7 };
  const guint8 xr[] = { 0x80, 207, 0, 4 };
  const guint8 rrtr[] = { 4, 0, 0, 2 };

  /* RR with one report block (6 words) */
  g_byte_array_append (a, rr, 4);
  put32 (a, viewer_ssrc);
  put32 (a, SENDER_SSRC);
  for (guint i = 0; i < 5; i++)
    put32 (a, 0);
  /* XR: header, sender, one RRTR block */
  g_byte_array_append (a, xr, 4);
  put32 (a, viewer_ssrc);
  g_byte_array_append (a, rrtr, 4);
  put32 (a, ntp_s);
  put32 (a, ntp_frac);
  return a;
}

static guint32
get32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

/* The viewer's RTT from the answer, as libwebrtc computes it: now minus
 * the reference time it sent minus the time the sender held it, in the
 * compact NTP format (1/65536 s). */
static void
test_answer (void)
{
  g_autoptr(PeercamRrtrResponder) r = peercam_rrtr_responder_new ();
  g_autoptr(GByteArray) in = NULL;
  g_autoptr(GBytes) out = NULL;
  const guint8 *p;
  gsize size;
  /* the viewer's clock when it sent the RRTR: 1000.5 s */
  guint32 ntp_s = 1000, ntp_frac = 0x80000000u;
  guint32 sent_compact = (ntp_s << 16) | (ntp_frac >> 16);
  gint64 arrived_us = 7000000, answered_us = arrived_us + 300000;
  guint32 now_compact, rtt_compact;

  in = viewer_compound (VIEWER_SSRC, ntp_s, ntp_frac);
  g_assert_cmpuint (peercam_rrtr_responder_take_dlrr (r, SENDER_SSRC, 0) == NULL, ==, TRUE);
  g_assert_cmpuint (peercam_rrtr_responder_on_rtcp (r, in->data, in->len, arrived_us), ==, 1);
  g_assert_cmpuint (peercam_rrtr_responder_get_pending (r), ==, 1);

  out = peercam_rrtr_responder_take_dlrr (r, SENDER_SSRC, answered_us);
  g_assert_nonnull (out);
  p = g_bytes_get_data (out, &size);
  g_assert_cmpuint (size, ==, 24);
  g_assert_cmpuint (p[0], ==, 0x80);
  g_assert_cmpuint (p[1], ==, 207);
  g_assert_cmpuint ((p[2] << 8) | p[3], ==, size / 4 - 1);
  g_assert_cmphex (get32 (p + 4), ==, SENDER_SSRC);
  g_assert_cmpuint (p[8], ==, 5);                      /* DLRR */
  g_assert_cmpuint ((p[10] << 8) | p[11], ==, 3);      /* one sub-block */
  g_assert_cmphex (get32 (p + 12), ==, VIEWER_SSRC);
  g_assert_cmphex (get32 (p + 16), ==, sent_compact);  /* LRR: the middle 32 bits */
  g_assert_cmpuint (get32 (p + 20), ==, (guint64) 300000 * 65536 / 1000000);

  /* 50 ms each way: the answer reaches the viewer 400 ms after its RRTR */
  now_compact = sent_compact + (guint32) (0.4 * 65536);
  rtt_compact = now_compact - get32 (p + 16) - get32 (p + 20);
  g_assert_cmpfloat_with_epsilon (rtt_compact / 65536.0, 0.1, 2.0 / 65536);

  /* once each */
  g_assert_cmpuint (peercam_rrtr_responder_get_pending (r), ==, 0);
  g_assert_null (peercam_rrtr_responder_take_dlrr (r, SENDER_SSRC, answered_us + 1000000));
  g_assert_cmpuint (peercam_rrtr_responder_get_answered (r), ==, 1);
}

/* GStreamer's own RTCP reader agrees on the packet: a valid compound
 * after our sender report, with the DLRR block it parses. */
static void
test_gstreamer_reads_it (void)
{
  g_autoptr(PeercamRrtrResponder) r = peercam_rrtr_responder_new ();
  g_autoptr(GByteArray) in = viewer_compound (VIEWER_SSRC, 2000, 0x00010000);
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GstBuffer) buffer = gst_rtcp_buffer_new (1400);
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket packet;
  guint32 ssrc = 0, lrr = 0, dlrr = 0, sr_ssrc = 0;
  GstMapInfo map;

  peercam_rrtr_responder_on_rtcp (r, in->data, in->len, 0);
  out = peercam_rrtr_responder_take_dlrr (r, SENDER_SSRC, 1000000);

  /* what rtpsession sends: a sender report (and SDES), then ours */
  g_assert_true (gst_rtcp_buffer_map (buffer, GST_MAP_READWRITE, &rtcp));
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_SR, &packet));
  gst_rtcp_packet_sr_set_sender_info (&packet, SENDER_SSRC, 0, 0, 0, 0);
  gst_rtcp_buffer_unmap (&rtcp);
  g_assert_true (gst_buffer_map (buffer, &map, GST_MAP_READ));
  g_assert_true (peercam_rtcp_sender_report_ssrc (map.data, map.size, &sr_ssrc));
  g_assert_cmphex (sr_ssrc, ==, SENDER_SSRC);
  gst_buffer_unmap (buffer, &map);
  {
    gsize n;
    gpointer data = g_bytes_unref_to_data (g_steal_pointer (&out), &n);

    gst_buffer_append_memory (buffer, gst_memory_new_wrapped (0, data, n, 0, n, data, g_free));
  }
  g_assert_true (gst_rtcp_buffer_validate (buffer));

  g_assert_true (gst_rtcp_buffer_map (buffer, GST_MAP_READ, &rtcp));
  g_assert_true (gst_rtcp_buffer_get_first_packet (&rtcp, &packet));
  g_assert_true (gst_rtcp_packet_move_to_next (&packet));
  g_assert_cmpint (gst_rtcp_packet_get_type (&packet), ==, GST_RTCP_TYPE_XR);
  g_assert_cmphex (gst_rtcp_packet_xr_get_ssrc (&packet), ==, SENDER_SSRC);
  g_assert_true (gst_rtcp_packet_xr_first_rb (&packet));
  g_assert_cmpint (gst_rtcp_packet_xr_get_block_type (&packet), ==, GST_RTCP_XR_TYPE_DLRR);
  g_assert_true (gst_rtcp_packet_xr_get_dlrr_block (&packet, 0, &ssrc, &lrr, &dlrr));
  g_assert_cmphex (ssrc, ==, VIEWER_SSRC);
  g_assert_cmphex (lrr, ==, (2000u << 16) | 1);
  g_assert_cmpuint (dlrr, ==, 65536);
  g_assert_false (gst_rtcp_packet_move_to_next (&packet));
  gst_rtcp_buffer_unmap (&rtcp);
}

/* The latest reference time per viewer SSRC; several viewers' in one answer. */
static void
test_latest_per_ssrc (void)
{
  g_autoptr(PeercamRrtrResponder) r = peercam_rrtr_responder_new ();
  g_autoptr(GByteArray) a1 = viewer_compound (1, 10, 0);
  g_autoptr(GByteArray) a2 = viewer_compound (1, 11, 0);
  g_autoptr(GByteArray) b = viewer_compound (2, 12, 0);
  g_autoptr(GBytes) out = NULL;
  const guint8 *p;
  gsize size;

  peercam_rrtr_responder_on_rtcp (r, a1->data, a1->len, 0);
  peercam_rrtr_responder_on_rtcp (r, a2->data, a2->len, 1000);
  peercam_rrtr_responder_on_rtcp (r, b->data, b->len, 2000);
  g_assert_cmpuint (peercam_rrtr_responder_get_pending (r), ==, 2);
  out = peercam_rrtr_responder_take_dlrr (r, SENDER_SSRC, 2000);
  p = g_bytes_get_data (out, &size);
  g_assert_cmpuint (size, ==, 12 + 2 * 12);
  g_assert_cmpuint ((p[10] << 8) | p[11], ==, 6);
  g_assert_cmpuint (get32 (p + 12), ==, 1);
  g_assert_cmphex (get32 (p + 16), ==, 11u << 16);
  g_assert_cmpuint (get32 (p + 20), ==, 1000 * 65536 / 1000000);
  g_assert_cmpuint (get32 (p + 24), ==, 2);
  g_assert_cmphex (get32 (p + 28), ==, 12u << 16);
  g_assert_cmpuint (get32 (p + 32), ==, 0);

  /* many viewers: bounded, the newest kept */
  for (guint32 ssrc = 100; ssrc < 120; ssrc++)
    {
      g_autoptr(GByteArray) c = viewer_compound (ssrc, ssrc, 0);
      peercam_rrtr_responder_on_rtcp (r, c->data, c->len, 0);
    }
  g_assert_cmpuint (peercam_rrtr_responder_get_pending (r), ==, 8);
  g_clear_pointer (&out, g_bytes_unref);
  out = peercam_rrtr_responder_take_dlrr (r, SENDER_SSRC, 0);
  p = g_bytes_get_data (out, &size);
  g_assert_cmpuint (size, ==, 12 + 8 * 12);
  g_assert_cmpuint (get32 (p + 12 + 7 * 12), ==, 119);
}

/* Bad input never crashes, never reads past the end, never invents an RRTR. */
static void
test_malformed (void)
{
  g_autoptr(PeercamRrtrResponder) r = peercam_rrtr_responder_new ();
  g_autoptr(GByteArray) good = viewer_compound (VIEWER_SSRC, 1, 2);
  guint32 ssrc;

  /* every truncation: the RR alone parses, a cut XR does not */
  for (gsize n = 0; n < good->len; n++)
    {
      g_autofree guint8 *copy = g_memdup2 (good->data, n);

      g_assert_cmpuint (peercam_rrtr_responder_on_rtcp (r, copy, n, 0), ==, 0);
    }
  g_assert_cmpuint (peercam_rrtr_responder_on_rtcp (r, NULL, 0, 0), ==, 0);

  /* a wrong version, a packet length past the end, a block length past
   * its packet, an RRTR of the wrong size */
  {
    g_autoptr(GByteArray) bad = viewer_compound (VIEWER_SSRC, 1, 2);
    bad->data[0] = 0x41;
    g_assert_cmpuint (peercam_rrtr_responder_on_rtcp (r, bad->data, bad->len, 0), ==, 0);
  }
  {
    g_autoptr(GByteArray) bad = viewer_compound (VIEWER_SSRC, 1, 2);
    bad->data[32 + 3] = 200;
    g_assert_cmpuint (peercam_rrtr_responder_on_rtcp (r, bad->data, bad->len, 0), ==, 0);
  }
  {
    g_autoptr(GByteArray) bad = viewer_compound (VIEWER_SSRC, 1, 2);
    bad->data[32 + 8 + 3] = 9;
    g_assert_cmpuint (peercam_rrtr_responder_on_rtcp (r, bad->data, bad->len, 0), ==, 0);
  }
  {
    g_autoptr(GByteArray) bad = viewer_compound (VIEWER_SSRC, 1, 2);
    bad->data[32 + 8 + 3] = 1;   /* 8 bytes: a short block, then 4 stray bytes */
    g_assert_cmpuint (peercam_rrtr_responder_on_rtcp (r, bad->data, bad->len, 0), ==, 0);
  }
  /* random bytes */
  for (guint i = 0; i < 2000; i++)
    {
      guint8 junk[64];
      gsize n = g_random_int_range (0, sizeof junk + 1);

      for (gsize j = 0; j < n; j++)
        junk[j] = g_random_int_range (0, 256);
      if (n >= 2)
        junk[1] = 207;
      peercam_rrtr_responder_on_rtcp (r, junk, n, 0);
    }
  /* whatever the junk left is answered in a well-formed packet */
  if (peercam_rrtr_responder_get_pending (r) > 0)
    {
      g_autoptr(GBytes) out = peercam_rrtr_responder_take_dlrr (r, SENDER_SSRC, 0);
      gsize size;
      const guint8 *p = g_bytes_get_data (out, &size);

      g_assert_cmpuint (((p[2] << 8) | p[3]) + 1, ==, size / 4);
    }

  /* only a sender report names the answering stream */
  g_assert_false (peercam_rtcp_sender_report_ssrc (good->data, good->len, &ssrc));
  g_assert_false (peercam_rtcp_sender_report_ssrc (NULL, 0, &ssrc));
  g_assert_false (peercam_rtcp_sender_report_ssrc ((const guint8 *) "\x80\xc8\x00\x06", 4, &ssrc));
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rtcp-xr/answer", test_answer);
  g_test_add_func ("/rtcp-xr/gstreamer-reads-it", test_gstreamer_reads_it);
  g_test_add_func ("/rtcp-xr/latest-per-ssrc", test_latest_per_ssrc);
  g_test_add_func ("/rtcp-xr/malformed", test_malformed);
  return g_test_run ();
}
