/* peercam-viewer-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "peercam-application.h"
#include "peercam-session.h"

G_BEGIN_DECLS

#define PEERCAM_TYPE_VIEWER_WINDOW (peercam_viewer_window_get_type ())

G_DECLARE_FINAL_TYPE (PeercamViewerWindow, peercam_viewer_window, PEERCAM, VIEWER_WINDOW, AdwApplicationWindow)

PeercamViewerWindow *peercam_viewer_window_new       (PeercamApplication  *application);
PeercamSession      *peercam_viewer_window_get_session (PeercamViewerWindow *self);
void                 peercam_viewer_window_join        (PeercamViewerWindow *self,
                                                        const char          *server_url,
                                                        const char          *room,
                                                        const char          *token,
                                                        const char          *pin);

void                 peercam_viewer_window_show_error (PeercamViewerWindow *self,
                                                        const char          *message);

G_END_DECLS
