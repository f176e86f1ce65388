/* peercam-window-common.h — what the caller and viewer windows share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "peercam-session.h"

G_BEGIN_DECLS

void  _peercam_window_configure_engine   (PeercamCallEngine      *engine,
                                          GSettings              *settings);
char *_peercam_window_describe_signaling (PeercamSession         *session);
char *_peercam_window_format_stats       (JsonObject             *stats);
void  _peercam_window_show_error         (AdwToastOverlay        *overlay,
                                          const char             *message);
/* The join dialog with the application's remembered server and room. */
void  _peercam_window_present_join_dialog (GtkWindow            *window,
                                           PeercamSession       *session,
                                           AdwToastOverlay      *overlay);
void  _peercam_window_follow_signaling   (GtkWidget              *window,
                                          PeercamSession         *session,
                                          GCallback               update);

G_END_DECLS
