/* peercam-viewer-list.h — the viewers of a caller's room, one row each
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define PEERCAM_TYPE_VIEWER_LIST (peercam_viewer_list_get_type ())
G_DECLARE_FINAL_TYPE (PeercamViewerList, peercam_viewer_list, PEERCAM, VIEWER_LIST, GtkWidget)

/* Shows @model (PeercamViewer items, e.g. a session's "viewers"): name,
 * call state and bitrate, and a Disconnect button that activates
 * "caller.disconnect-viewer" with the viewer's id ("" for a viewer
 * without one). */
GtkWidget  *peercam_viewer_list_new       (void);
void        peercam_viewer_list_set_model (PeercamViewerList *self,
                                           GListModel        *model);

G_END_DECLS
