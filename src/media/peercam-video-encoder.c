/* peercam-video-encoder.c — the caller's video encoder chain
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "peercam-video-encoder"

#include "config.h"

#include "peercam-video-encoder.h"

#include <glib/gi18n.h>

GstCaps *
peercam_video_encoder_rtp_caps (const char *codec)
{
  /* rtcp-fb makes browsers send PLI/FIR and NACK; webrtcbin turns those into
   * force-key-unit events for the encoder and retransmissions. */
  if (g_strcmp0 (codec, "h264") == 0)
    return gst_caps_from_string ("application/x-rtp,media=video,encoding-name=H264,"
                                 "payload=96,clock-rate=90000,packetization-mode=(string)1,"
                                 "rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true,"
                                 "rtcp-fb-nack=(boolean)true");
  return gst_caps_from_string ("application/x-rtp,media=video,encoding-name=VP8,"
                               "payload=96,clock-rate=90000,"
                               "rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true,"
                               "rtcp-fb-nack=(boolean)true");
}

guint
peercam_video_encoder_bitrate_kbps (int width,
                                    int height,
                                    int framerate)
{
  double pixels = (double) width * height * MAX (framerate, 1);

  return (guint) CLAMP (pixels / (1280.0 * 720 * 30) * 1800, 300, 4000);
}

static GstElement *
make_element (const char  *factory,
              GError     **error)
{
  GstElement *element = gst_element_factory_make (factory, NULL);

  if (element == NULL)
    g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_MISSING_PLUGIN,
                 _("The GStreamer element “%s” is missing"), factory);
  return element;
}

gboolean
peercam_video_encoder_build (GstBin      *bin,
                             const char  *codec,
                             guint        kbps,
                             GPtrArray   *chain,
                             GstElement **encoder_out,
                             GError     **error)
{
  GstElement *convert, *encoder, *parse = NULL, *filter = NULL;
  guint first = chain->len;

  convert = gst_element_factory_make ("videoconvert", NULL);

  if (g_strcmp0 (codec, "h264") != 0)
    {
      if (!(encoder = make_element ("vp8enc", error)))
        goto fail;
      /* threads 1: on 2 cores libvpx's second thread mostly spins waiting
       * for the first (measured at 720p30: ~2x the CPU of one thread, and
       * up to a full core on simple pictures), with no gain in speed. */
      g_object_set (encoder, "deadline", (gint64) 1, "cpu-used", 16, "target-bitrate", kbps * 1000,
                    "lag-in-frames", 0, "threads", 1, "keyframe-max-dist", 3000,
                    "error-resilient", 1, NULL);
      gst_util_set_object_arg (G_OBJECT (encoder), "end-usage", "cbr");
      /* A browser's rate control buffer (libwebrtc: 500/600/1000 ms, 15 %
       * overshoot). libvpx's defaults (4/5/6 s) keep the bits saved at the
       * old rate when congestion control cuts the target, and spend them
       * over the next second: a cut from 874 to 506 kbit/s made frames of
       * twice the old size, 1.45 Mbit/s for 250 ms into a 1 Mbit/s link
       * (test-congestion-netns, issue 11). */
      g_object_set (encoder, "buffer-initial-size", 500, "buffer-optimal-size", 600,
                    "buffer-size", 1000, "overshoot", 15, NULL);
    }
  else
    {
      g_autoptr(GstCaps) caps = gst_caps_from_string ("video/x-h264,profile=constrained-baseline");

      if ((encoder = gst_element_factory_make ("x264enc", NULL)))
        {
          gst_util_set_object_arg (G_OBJECT (encoder), "tune", "zerolatency");
          gst_util_set_object_arg (G_OBJECT (encoder), "speed-preset", "ultrafast");
          g_object_set (encoder, "bitrate", kbps, "key-int-max", 3000, NULL);
        }
      else if ((encoder = make_element ("openh264enc", error)))
        {
          g_object_set (encoder, "bitrate", kbps * 1000, "gop-size", 3000, NULL);
          gst_util_set_object_arg (G_OBJECT (encoder), "rate-control", "bitrate");
          gst_util_set_object_arg (G_OBJECT (encoder), "complexity", "low");
        }
      else
        goto fail;
      filter = gst_element_factory_make ("capsfilter", NULL);
      g_object_set (filter, "caps", caps, NULL);
      parse = gst_element_factory_make ("h264parse", NULL);
    }

  g_ptr_array_add (chain, convert);
  g_ptr_array_add (chain, encoder);
  if (filter)
    g_ptr_array_add (chain, filter);
  if (parse)
    g_ptr_array_add (chain, parse);
  if (encoder_out)
    *encoder_out = encoder;

  for (guint i = first; i < chain->len; i++)
    gst_bin_add (bin, chain->pdata[i]);
  for (guint i = first; i + 1 < chain->len; i++)
    if (!gst_element_link (chain->pdata[i], chain->pdata[i + 1]))
      {
        g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_PIPELINE,
                             _("Could not build the encoder"));
        return FALSE;
      }
  return TRUE;

fail:
  gst_object_unref (gst_object_ref_sink (convert));
  return FALSE;
}

GstElement *
peercam_video_encoder_make_payloader (const char *codec)
{
  GstElement *pay;

  if (g_strcmp0 (codec, "h264") != 0)
    {
      pay = gst_element_factory_make ("rtpvp8pay", NULL);
      if (pay)
        gst_util_set_object_arg (G_OBJECT (pay), "picture-id-mode", "15-bit");
    }
  else
    {
      pay = gst_element_factory_make ("rtph264pay", NULL);
      if (pay)
        {
          g_object_set (pay, "config-interval", -1, NULL);
          gst_util_set_object_arg (G_OBJECT (pay), "aggregate-mode", "zero-latency");
        }
    }
  if (pay)
    g_object_set (pay, "pt", 96, NULL);
  return pay;
}
