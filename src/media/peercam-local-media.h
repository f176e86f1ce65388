/* peercam-local-media.h — one caller's local video: source → one conversion
 * → tee, a preview branch, and branches (encoders) added and removed while it
 * runs. No GTK, no WebRTC.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/gst.h>

#include "peercam-call-error.h"

G_BEGIN_DECLS

#define PEERCAM_TYPE_LOCAL_MEDIA (peercam_local_media_get_type ())
G_DECLARE_FINAL_TYPE (PeercamLocalMedia, peercam_local_media, PEERCAM, LOCAL_MEDIA, GObject)

/* Signals (emitted on the GMainContext that was thread-default at creation):
 *   void (*bus_error) (PeercamLocalMedia *self, GstObject *source, GError *error, gpointer user_data);
 *          an error message from any element in the pipeline, branches too:
 *          whoever owns the element decides; the local media does nothing itself.
 * Property "running" (read-only) follows start()/stop().
 */

PeercamLocalMedia *peercam_local_media_new              (void);

/* Take effect at the next start(). */
void               peercam_local_media_set_source       (PeercamLocalMedia *self,
                                                         const char        *source);
void               peercam_local_media_set_source_device (PeercamLocalMedia *self,
                                                          GstDevice         *device);
void               peercam_local_media_set_video_size   (PeercamLocalMedia *self,
                                                         int                width,
                                                         int                height,
                                                         int                framerate);
void               peercam_local_media_set_preview_sink (PeercamLocalMedia *self,
                                                         GstElement        *sink);

gboolean           peercam_local_media_start            (PeercamLocalMedia *self,
                                                         GError           **error);
void               peercam_local_media_stop             (PeercamLocalMedia *self);
gboolean           peercam_local_media_is_running       (PeercamLocalMedia *self);

/* While running: the pipeline branches live in, and the device it runs from
 * (NULL for the test pattern or a source found by name). */
GstElement        *peercam_local_media_get_pipeline     (PeercamLocalMedia *self);
GstDevice         *peercam_local_media_get_device       (PeercamLocalMedia *self);
/* The raw video size at the tee (0×0 before the first caps). */
void               peercam_local_media_get_frame_size   (PeercamLocalMedia *self,
                                                         int               *width,
                                                         int               *height);
/* Frames the preview sink got since creation, over all starts. */
guint64            peercam_local_media_get_preview_frames (PeercamLocalMedia *self);

/* A branch: @head is already in the pipeline (its downstream linked and in
 * the pipeline's state). The local media puts a leaky queue of its own in
 * front, so a slow branch never stalls the source or the other branches,
 * and links it to a new tee pad. Returns the branch id (never 0). */
guint              peercam_local_media_add_branch       (PeercamLocalMedia *self,
                                                         GstElement        *head,
                                                         GError           **error);
/* The same at another tee in the pipeline (a shared encoder's, whose
 * viewers' payloaders are branches): a leaky queue of @max_buffers. */
guint              peercam_local_media_add_branch_at    (PeercamLocalMedia *self,
                                                         GstElement        *tee,
                                                         GstElement        *head,
                                                         guint              max_buffers,
                                                         GError           **error);
/* Unlinks the branch from the tee (while no buffer passes) and removes its
 * queue; the owner removes @head and what follows, before or after. */
/* Stops feeding branch @id (its buffers are dropped at the tee) so its
 * elements can be shut down while the source keeps running; remove it after. */
void               peercam_local_media_stop_branch      (PeercamLocalMedia *self,
                                                         guint              id);
void               peercam_local_media_remove_branch    (PeercamLocalMedia *self,
                                                         guint              id);

G_END_DECLS
