/* peercam-playout.c — the viewer's playout delay (see the header)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-playout.h"

struct _PeercamPlayoutDelay
{
  guint   limit_ms;
  double  current_ms;
  gint64  last_us;      /* 0: not started */
  /* the largest lateness of each of the last seconds, a ring */
  gint64  late_max_us[PEERCAM_PLAYOUT_WINDOW_S];
  gint64  late_second[PEERCAM_PLAYOUT_WINDOW_S];
};

PeercamPlayoutDelay *
peercam_playout_delay_new (void)
{
  PeercamPlayoutDelay *self = g_new0 (PeercamPlayoutDelay, 1);

  for (guint i = 0; i < PEERCAM_PLAYOUT_WINDOW_S; i++)
    self->late_second[i] = -1;
  return self;
}

void
peercam_playout_delay_free (PeercamPlayoutDelay *self)
{
  g_free (self);
}

void
peercam_playout_delay_set_limit (PeercamPlayoutDelay *self,
                                 guint                limit_ms)
{
  g_return_if_fail (self != NULL);
  self->limit_ms = limit_ms;
}

guint
peercam_playout_delay_get_limit (PeercamPlayoutDelay *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->limit_ms;
}

void
peercam_playout_delay_add_lateness (PeercamPlayoutDelay *self,
                                    gint64               now_us,
                                    gint64               lateness_us)
{
  gint64 second = now_us / G_USEC_PER_SEC;
  guint slot;

  g_return_if_fail (self != NULL);
  if (second < 0)
    return;
  slot = second % PEERCAM_PLAYOUT_WINDOW_S;
  if (self->late_second[slot] != second)
    {
      self->late_second[slot] = second;
      self->late_max_us[slot] = 0;
    }
  self->late_max_us[slot] = MAX (self->late_max_us[slot], lateness_us);
}

guint
peercam_playout_delay_get_target (PeercamPlayoutDelay *self,
                                  gint64               now_us)
{
  gint64 second = now_us / G_USEC_PER_SEC;
  gint64 late_us = 0;

  g_return_val_if_fail (self != NULL, 0);
  if (self->limit_ms == 0)
    return 0;
  for (guint i = 0; i < PEERCAM_PLAYOUT_WINDOW_S; i++)
    if (self->late_second[i] >= 0 && second - self->late_second[i] < PEERCAM_PLAYOUT_WINDOW_S)
      late_us = MAX (late_us, self->late_max_us[i]);
  if (late_us < PEERCAM_PLAYOUT_MIN_LATE_MS * 1000)
    return 0;
  return (guint) MIN ((gint64) self->limit_ms, late_us / 1000 + PEERCAM_PLAYOUT_MARGIN_MS);
}

double
peercam_playout_delay_advance (PeercamPlayoutDelay *self,
                               gint64               now_us)
{
  double target, step;

  g_return_val_if_fail (self != NULL, 0);

  if (self->last_us == 0 || now_us <= self->last_us)
    {
      if (self->last_us == 0)
        self->last_us = now_us;
      return self->current_ms;
    }
  /* A long pause between calls (a stalled main loop) must not allow a
   * jump: at most a quarter second's worth at once. */
  step = PEERCAM_PLAYOUT_MAX_CHANGE_MS_PER_S * MIN (now_us - self->last_us, G_USEC_PER_SEC / 4) / G_USEC_PER_SEC;
  self->last_us = now_us;
  target = peercam_playout_delay_get_target (self, now_us);
  if (self->current_ms < target)
    self->current_ms = MIN (self->current_ms + step, target);
  else if (self->current_ms > target)
    self->current_ms = MAX (self->current_ms - step, target);
  return self->current_ms;
}

double
peercam_playout_delay_get_current (PeercamPlayoutDelay *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->current_ms;
}

gboolean
peercam_playout_delay_is_active (PeercamPlayoutDelay *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->limit_ms > 0 || self->current_ms > 0;
}
