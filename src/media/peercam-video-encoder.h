/* peercam-video-encoder.h — the caller's video encoder chain, built the same
 * way for every call and for the start-up warm-up call
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/gst.h>

#include "peercam-call-error.h"

G_BEGIN_DECLS

/* "vp8" (default) or "h264": the RTP caps webrtcbin negotiates for it. */
GstCaps  *peercam_video_encoder_rtp_caps     (const char *codec);
/* ~1.8 Mbit/s at 720p30, scaled by pixels, within 300 kbit/s … 4 Mbit/s. */
guint     peercam_video_encoder_bitrate_kbps (int         width,
                                              int         height,
                                              int         framerate);
/* videoconvert ! encoder [! capsfilter ! h264parse], added to
 * @bin and linked; the elements are appended to @chain upstream first (also
 * on failure, for the caller to remove), the encoder is put in @encoder. */
gboolean  peercam_video_encoder_build        (GstBin      *bin,
                                              const char  *codec,
                                              guint        kbps,
                                              GPtrArray   *chain,
                                              GstElement **encoder,
                                              GError     **error);

/* The payloader for @codec's encoder output (one per viewer: its own SSRC,
 * sequence numbers and header extensions); NULL when the plugin is missing. */
GstElement *peercam_video_encoder_make_payloader (const char *codec);

G_END_DECLS
