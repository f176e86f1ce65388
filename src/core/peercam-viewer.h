/* peercam-viewer.h — one viewer in a caller's room, as the session sees
 * it: what windows list (no GTK, no media)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "peercam-session-types.h"

G_BEGIN_DECLS

#define PEERCAM_TYPE_VIEWER (peercam_viewer_get_type ())
G_DECLARE_FINAL_TYPE (PeercamViewer, peercam_viewer, PEERCAM, VIEWER, GObject)

/* @id: the viewer's Socket.IO id, or NULL for the one viewer a relay that
 * names nobody addresses implicitly. @name: what people read. */
PeercamViewer    *peercam_viewer_new        (const char       *id,
                                             const char       *name);
const char       *peercam_viewer_get_id     (PeercamViewer    *self);
const char       *peercam_viewer_get_name   (PeercamViewer    *self);
/* The call with this viewer: PREVIEW while it is in the room uncalled. */
PeercamSessionState peercam_viewer_get_state  (PeercamViewer    *self);
void              peercam_viewer_set_state  (PeercamViewer    *self,
                                             PeercamSessionState state);
/* What the call sends it, from the last statistics (0 outside a call). */
double            peercam_viewer_get_kbps   (PeercamViewer    *self);
double            peercam_viewer_get_fps    (PeercamViewer    *self);
void              peercam_viewer_set_rates  (PeercamViewer    *self,
                                             double            kbps,
                                             double            fps);

G_END_DECLS
