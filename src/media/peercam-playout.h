/* peercam-playout.h — when the viewer shows a decoded frame (issue 11).
 *
 * A Peercam viewer shows each frame as soon as it is decoded: on a quiet
 * LAN that is the lowest glass-to-glass latency. On a lossy link a frame
 * whose packet is being retransmitted holds every frame behind it, and
 * showing them all at once when it arrives is a freeze followed by a burst.
 * A browser plays out on a schedule instead: each frame at its arrival time
 * plus a delay with room for a retransmission (libwebrtc's target delay
 * adds the RTT once it sends NACKs), and the delay moves towards its
 * target by at most 100 ms per second, so a change is a slight slowing or
 * speeding of the picture, never a jump.
 *
 * PeercamPlayoutDelay is that schedule's delay: pure (GLib only, not
 * thread-safe), driven by the caller's clock. Its target is how late
 * frames came recently (the largest lateness, decoded frame against its
 * arrival time, over the last PEERCAM_PLAYOUT_WINDOW_S seconds, plus a
 * margin) when that is enough to freeze the picture
 * (PEERCAM_PLAYOUT_MIN_LATE_MS), never above the limit: the jitter
 * buffer's deadline, after which a frame is lost anyway. A limit of 0 means "show frames when they
 * are decoded" (a quiet link).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* libwebrtc's VCMTiming: the current delay moves by at most this much per
 * second of playout. */
#define PEERCAM_PLAYOUT_MAX_CHANGE_MS_PER_S 100.0
#define PEERCAM_PLAYOUT_WINDOW_S            10
#define PEERCAM_PLAYOUT_MARGIN_MS           15
/* Frames less late than this are shown when decoded even under a limit:
 * with 33 ms between frames they can't make a 150 ms freeze, and on a busy
 * machine a late packet or a slow decode otherwise put a late frame's delay
 * on every frame for 10 s (tools/bench call, display sink: 37 ms median
 * instead of 4). */
#define PEERCAM_PLAYOUT_MIN_LATE_MS         100

typedef struct _PeercamPlayoutDelay PeercamPlayoutDelay;

PeercamPlayoutDelay *peercam_playout_delay_new          (void);
void                 peercam_playout_delay_free         (PeercamPlayoutDelay *self);

/* The most delay allowed (ms); 0: none, frames show when decoded. */
void                 peercam_playout_delay_set_limit    (PeercamPlayoutDelay *self,
                                                         guint                limit_ms);
guint                peercam_playout_delay_get_limit    (PeercamPlayoutDelay *self);
/* A frame was decoded @lateness_us after its arrival time. */
void                 peercam_playout_delay_add_lateness (PeercamPlayoutDelay *self,
                                                         gint64               now_us,
                                                         gint64               lateness_us);
/* The delay wanted at @now_us (ms). */
guint                peercam_playout_delay_get_target   (PeercamPlayoutDelay *self,
                                                         gint64               now_us);
/* Moves the current delay towards the target for the time since the last
 * call (the first call only starts the clock) and returns it in ms. */
double               peercam_playout_delay_advance      (PeercamPlayoutDelay *self,
                                                         gint64               now_us);
double               peercam_playout_delay_get_current  (PeercamPlayoutDelay *self);
/* FALSE once there is no limit and the current delay is back at 0. */
gboolean             peercam_playout_delay_is_active    (PeercamPlayoutDelay *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamPlayoutDelay, peercam_playout_delay_free)

G_END_DECLS
