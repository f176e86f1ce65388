/* peercam-caller-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "peercam-application.h"
#include "peercam-session.h"

G_BEGIN_DECLS

#define PEERCAM_TYPE_CALLER_WINDOW (peercam_caller_window_get_type ())

G_DECLARE_FINAL_TYPE (PeercamCallerWindow, peercam_caller_window, PEERCAM, CALLER_WINDOW, AdwApplicationWindow)

PeercamCallerWindow *peercam_caller_window_new       (PeercamApplication  *application);
PeercamSession      *peercam_caller_window_get_session (PeercamCallerWindow *self);
void                 peercam_caller_window_set_source  (PeercamCallerWindow *self,
                                                        const char          *source);
void                 peercam_caller_window_join        (PeercamCallerWindow *self,
                                                        const char          *server_url,
                                                        const char          *room,
                                                        const char          *token,
                                                        const char          *pin);

void                 peercam_caller_window_show_error (PeercamCallerWindow *self,
                                                        const char          *message);

G_END_DECLS
