/* peercam-video-paintable.h — video frames from GStreamer as a GdkPaintable
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gtk/gtk.h>

G_BEGIN_DECLS

#define PEERCAM_TYPE_VIDEO_PAINTABLE (peercam_video_paintable_get_type ())

G_DECLARE_FINAL_TYPE (PeercamVideoPaintable, peercam_video_paintable, PEERCAM, VIDEO_PAINTABLE, GObject)

PeercamVideoPaintable *peercam_video_paintable_new         (void);
GstElement            *peercam_video_paintable_get_sink    (PeercamVideoPaintable *self);
GdkTexture            *peercam_video_paintable_get_texture (PeercamVideoPaintable *self);
guint64                peercam_video_paintable_get_frames  (PeercamVideoPaintable *self);
void                   peercam_video_paintable_clear       (PeercamVideoPaintable *self);

G_END_DECLS
