/* peercam-window-common.h — what the caller and viewer windows share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "peercam-session.h"

G_BEGIN_DECLS

char *_peercam_window_describe_signaling (PeercamSession         *session);
void  _peercam_window_number             (GtkWindow              *window);
void  _peercam_window_set_titles         (GtkWindow              *window,
                                          AdwWindowTitle         *title,
                                          PeercamSession         *session,
                                          const char             *subtitle);
/* Fills the statistics popover's @grid and shows it instead of @placeholder. */
void  _peercam_window_show_stats         (GtkGrid                *grid,
                                          GtkWidget              *placeholder,
                                          const PeercamCallStats *stats);
void  _peercam_window_show_error         (AdwToastOverlay        *overlay,
                                          const char             *message);
/* libadwaita 1.2 reads a toast's title and a status page's description as
 * Pango markup: a room name, an address, a file name or an error with "&"
 * or "<" in it ("R&D", "Tom & Jerry.mp4") would show as nothing. These
 * take @text as the text it is. */
AdwToast *_peercam_toast_new             (const char             *text);
void  _peercam_status_page_set_description (AdwStatusPage        *page,
                                          const char             *text);
/* News of the room or the call ("A viewer joined the room", "Call
 * ended"): it says what is true now, so it takes the place of the
 * previous news on @overlay, if that is still shown or waiting, instead
 * of queueing behind it (errors are not news: they stay). Returns the
 * toast, owned by @overlay. */
AdwToast *_peercam_window_show_news      (AdwToastOverlay        *overlay,
                                          const char             *text);
/* Joins @session to a room; an error shows on @overlay. */
void  _peercam_window_join               (PeercamSession         *session,
                                          AdwToastOverlay        *overlay,
                                          const char             *server_url,
                                          const char             *room,
                                          const char             *token,
                                          const char             *pin);
/* The join dialog with the application's remembered server and room. */
void  _peercam_window_present_join_dialog (GtkWindow            *window,
                                           PeercamSession       *session,
                                           AdwToastOverlay      *overlay);
/* The session signals a call window follows, in one GSignalGroup: "stats"
 * (@on_stats), the call's state (@on_state) and @update (window) when the
 * room's state or the connection's quality changes, all swapped with
 * @window first; its "error"s as toasts on @overlay, except one that keeps
 * it out of its room (the problem page shows that). The window connects
 * the other typed signals it shows ("peer-joined", "bye", "first-frame"…),
 * then sets the group's target to its session (and to NULL in dispose). */
GSignalGroup *_peercam_window_follow_session (GtkWidget          *window,
                                              AdwToastOverlay    *overlay,
                                              GCallback           update,
                                              GCallback           on_state,
                                              GCallback           on_stats);

/* Fullscreen, shared by the caller and viewer windows: the header bar
 * hides, the pointer's motion shows the window's controls (@show_controls
 * (window, TRUE)) and two seconds without motion hide them and the pointer
 * (@show_controls (window, FALSE)); @changed (window, fullscreen) runs on
 * entering and leaving, after the header bar and before the controls show.
 * @leave_action is enabled in fullscreen only. Call
 * _peercam_window_stop_fullscreen() from dispose. */
typedef void (*PeercamShowControls) (GtkWidget *window,
                                     gboolean   shown);
void  _peercam_window_setup_fullscreen   (GtkWidget              *window,
                                          GtkWidget              *header_bar,
                                          const char             *leave_action,
                                          PeercamShowControls     show_controls,
                                          PeercamShowControls     changed);
void  _peercam_window_stop_fullscreen    (GtkWidget              *window);
/* The window actions "…fullscreen" (toggles) and "…leave-fullscreen". */
void  _peercam_window_fullscreen_action  (GtkWidget              *widget,
                                          const char             *action_name,
                                          GVariant               *parameter);
void  _peercam_window_leave_fullscreen_action (GtkWidget         *widget,
                                          const char             *action_name,
                                          GVariant               *parameter);

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
                                                  AdwToastOverlay    *overlay,
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
/* The problem page: the "problem" child of @stack, with @page's title and
 * description, @details, and which of the buttons show. */
void                _peercam_room_problem_set_page (PeercamRoomProblem *problem,
                                                    GtkStack           *stack,
                                                    AdwStatusPage      *page,
                                                    GtkLabel           *details,
                                                    GtkWidget          *retry,
                                                    GtkWidget          *stop,
                                                    GtkWidget          *trust);
/* Out of the room: shows the page and puts its short form in *@subtitle
 * (replacing it); FALSE (nothing changed) in the room. */
gboolean            _peercam_room_problem_show   (PeercamRoomProblem *problem,
                                                  char              **subtitle);
/* The actions room.join (Join a Room…), room.retry, room.stop and
 * room.trust, on the window's problem (_peercam_room_problem_new()). */
void                _peercam_window_install_room_actions (GtkWidgetClass *widget_class);

G_END_DECLS
