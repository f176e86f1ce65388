/* peercam-window-common.h — what the caller and viewer windows share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "peercam-call-settings.h"
#include "peercam-session.h"

G_BEGIN_DECLS

char *_peercam_window_describe_signaling (PeercamSession         *session);
void  _peercam_window_number             (GtkWindow              *window);
void  _peercam_window_set_titles         (GtkWindow              *window,
                                          AdwWindowTitle         *title,
                                          PeercamSession         *session,
                                          const char             *subtitle);
void  _peercam_window_show_stats         (GtkGrid                *grid,
                                          JsonObject             *stats);
void  _peercam_window_show_error         (AdwToastOverlay        *overlay,
                                          const char             *message);
/* The join dialog with the application's remembered server and room. */
void  _peercam_window_present_join_dialog (GtkWindow            *window,
                                           PeercamSession       *session,
                                           AdwToastOverlay      *overlay);
void  _peercam_window_follow_signaling   (GtkWidget              *window,
                                          PeercamSession         *session,
                                          GCallback               update);

/* Why a window is not in its room, in plain words, with what can be done. */
typedef struct {
  const char *icon_name;
  char     *title;
  char     *description;
  char     *details;        /* fingerprints to compare, or NULL */
  char     *subtitle;       /* the header's short form */
  gboolean  can_retry;
  gboolean  can_stop;
  gboolean  can_trust;      /* a fingerprint to accept is known */
} PeercamProblem;

/* The window side of a session's join error: what the problem page shows,
 * and the server certificate's fingerprint fetched to compare. One per
 * window; the window calls update() from its own update function. */
typedef struct _PeercamRoomProblem PeercamRoomProblem;

PeercamRoomProblem *_peercam_room_problem_new    (GtkWidget          *window,
                                                  PeercamSession     *session,
                                                  GCallback           update);
void                _peercam_room_problem_free   (PeercamRoomProblem *problem);
/* FALSE when there is no problem; otherwise fills @out (clear it after). */
gboolean            _peercam_room_problem_describe (PeercamRoomProblem *problem,
                                                    PeercamProblem     *out);
void                _peercam_problem_clear       (PeercamProblem     *problem);
/* The actions room.retry, room.stop, room.trust. */
void                _peercam_room_problem_retry  (PeercamRoomProblem *problem);
void                _peercam_room_problem_stop   (PeercamRoomProblem *problem);
void                _peercam_room_problem_trust  (PeercamRoomProblem *problem);
/* The problem page: @page's title and description, @details, and which
 * of the buttons show. */
void                _peercam_problem_apply       (const PeercamProblem *problem,
                                                  AdwStatusPage      *page,
                                                  GtkLabel           *details,
                                                  GtkWidget          *retry,
                                                  GtkWidget          *stop,
                                                  GtkWidget          *trust);

G_END_DECLS
