/* peercam-file-source.h — a video file as a live source: decoded in a
 * pipeline of its own at the file's frame rate, looped without a seam, and
 * handed to the caller's pipeline through an appsrc. No GTK.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/gst.h>

#include "peercam-call-error.h"

G_BEGIN_DECLS

#define PEERCAM_TYPE_FILE_SOURCE (peercam_file_source_get_type ())
G_DECLARE_FINAL_TYPE (PeercamFileSource, peercam_file_source, PEERCAM, FILE_SOURCE, GObject)

/* Signals (emitted on the GMainContext that was thread-default at creation):
 *   void (*error) (PeercamFileSource *self, GError *error, gpointer user_data);
 *          the file cannot be played (not a video, unreadable, decoder
 *          missing); the source stops pushing, the caller's pipeline stays.
 * Properties (read-only): "loops" (guint, times the file started over).
 */

/* Fails at once when @path is no readable regular file. */
PeercamFileSource *peercam_file_source_new          (const char         *path,
                                                     GError            **error);
/* The appsrc to put in the caller's pipeline (live, time format, one name per
 * object); owned by @self until added to a bin. */
GstElement        *peercam_file_source_get_element  (PeercamFileSource  *self);
/* Starts decoding; frames are pushed into the element from then on. */
gboolean           peercam_file_source_start        (PeercamFileSource  *self,
                                                     GError            **error);
void               peercam_file_source_stop         (PeercamFileSource  *self);
guint              peercam_file_source_get_loops    (PeercamFileSource  *self);

G_END_DECLS
