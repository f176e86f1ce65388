/* peercam-remote-media.h — what a viewer receives: each stream a webrtcbin
 * hands out is decoded and goes to the video sink, an audio output, or a
 * sink that discards it. No GTK, no signaling.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define PEERCAM_TYPE_REMOTE_MEDIA (peercam_remote_media_get_type ())
G_DECLARE_FINAL_TYPE (PeercamRemoteMedia, peercam_remote_media, PEERCAM, REMOTE_MEDIA, GObject)

/* Signals (on the GMainContext that was thread-default at creation, none
 * after close()):
 *   void (*first_frame) (PeercamRemoteMedia *self, int width, int height, gpointer user_data);
 */

/* Adds @video_sink (or a non-syncing fakesink when NULL) to @bin, and
 * decodes what @webrtcbin (in @bin) receives. */
PeercamRemoteMedia *peercam_remote_media_new        (GstBin      *bin,
                                                     GstElement  *webrtcbin,
                                                     GstElement  *video_sink,
                                                     gboolean     play_audio);
/* Frames are shown when decoded (@limit_ms 0, the default) or on a
 * schedule: at their arrival time plus a delay that covers how late frames
 * came recently, at most @limit_ms; the delay moves gradually
 * (peercam-playout.h). */
void                peercam_remote_media_set_playout_limit (PeercamRemoteMedia *self,
                                                            guint               limit_ms);
/* The current playout delay, ms. */
double              peercam_remote_media_get_playout_delay (PeercamRemoteMedia *self);
/* Video frames the video sink got. */
guint64             peercam_remote_media_get_frames (PeercamRemoteMedia *self);
/* The longest wait between two of those frames since the previous call,
 * or the one going on now (µs); starts over. */
gint64              peercam_remote_media_take_max_gap (PeercamRemoteMedia *self);
/* Frames the video decoder took in and never gave out (it failed on them
 * or discarded them waiting for a keyframe). */
guint64             peercam_remote_media_get_undecoded_frames (PeercamRemoteMedia *self);
gboolean            peercam_remote_media_get_frame_size (PeercamRemoteMedia *self,
                                                         int                *width,
                                                         int                *height);
/* Stops counting and signalling; the elements go with the bin. */
void                peercam_remote_media_close      (PeercamRemoteMedia *self);

G_END_DECLS
