/* test-playout.c — the viewer's playout delay (issue 11)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-playout.h"

#define MS  1000
#define FRAME_US 33333

static void
test_playout_off (void)
{
  g_autoptr(PeercamPlayoutDelay) d = peercam_playout_delay_new ();

  /* No limit: frames show when decoded, however late they came. */
  peercam_playout_delay_add_lateness (d, G_USEC_PER_SEC, 200 * MS);
  g_assert_cmpuint (peercam_playout_delay_get_target (d, G_USEC_PER_SEC), ==, 0);
  for (gint64 t = G_USEC_PER_SEC; t < 3 * G_USEC_PER_SEC; t += 10 * MS)
    g_assert_cmpfloat (peercam_playout_delay_advance (d, t), ==, 0);
  g_assert_false (peercam_playout_delay_is_active (d));
}

static void
test_playout_ramp (void)
{
  g_autoptr(PeercamPlayoutDelay) d = peercam_playout_delay_new ();
  double last = 0;
  gint64 reached_us = -1;

  peercam_playout_delay_set_limit (d, 300);
  g_assert_true (peercam_playout_delay_is_active (d));
  /* late enough to freeze the picture */
  peercam_playout_delay_add_lateness (d, G_USEC_PER_SEC, 90 * MS);
  g_assert_cmpuint (peercam_playout_delay_get_target (d, G_USEC_PER_SEC), ==, 0);
  peercam_playout_delay_add_lateness (d, G_USEC_PER_SEC, 120 * MS);
  g_assert_cmpuint (peercam_playout_delay_get_target (d, G_USEC_PER_SEC), ==, 120 + PEERCAM_PLAYOUT_MARGIN_MS);
  for (gint64 t = G_USEC_PER_SEC; t <= 3 * G_USEC_PER_SEC; t += 10 * MS)
    {
      double now = peercam_playout_delay_advance (d, t);

      /* never faster than 100 ms per second: 1 ms per 10 ms step */
      g_assert_cmpfloat (now - last, <=, 1.0 + 1e-9);
      g_assert_cmpfloat (now, >=, last);
      if (reached_us < 0 && now >= 120 + PEERCAM_PLAYOUT_MARGIN_MS)
        reached_us = t;
      last = now;
    }
  g_assert_cmpfloat (last, ==, 120 + PEERCAM_PLAYOUT_MARGIN_MS);
  /* 135 ms at 100 ms/s, the first call only starting the clock */
  g_assert_cmpint (reached_us, >=, G_USEC_PER_SEC + 1340 * MS);
  g_assert_cmpint (reached_us, <=, G_USEC_PER_SEC + 1370 * MS);
}

static void
test_playout_limit_and_window (void)
{
  g_autoptr(PeercamPlayoutDelay) d = peercam_playout_delay_new ();
  gint64 t = G_USEC_PER_SEC;

  peercam_playout_delay_set_limit (d, 300);
  /* A frame a second late: never more than the jitter buffer's deadline. */
  peercam_playout_delay_add_lateness (d, t, 1000 * MS);
  g_assert_cmpuint (peercam_playout_delay_get_target (d, t), ==, 300);
  /* It counts for the window, then only what came since does: 5 ms late
   * frames are shown when decoded (a slow decode, no freeze). */
  for (; t < G_USEC_PER_SEC * (1 + PEERCAM_PLAYOUT_WINDOW_S + 1); t += FRAME_US)
    peercam_playout_delay_add_lateness (d, t, 5 * MS);
  g_assert_cmpuint (peercam_playout_delay_get_target (d, t), ==, 0);
  peercam_playout_delay_add_lateness (d, t, 150 * MS);
  g_assert_cmpuint (peercam_playout_delay_get_target (d, t), ==, 150 + PEERCAM_PLAYOUT_MARGIN_MS);

  /* A stalled main loop does not make the delay jump. */
  peercam_playout_delay_set_limit (d, 300);
  peercam_playout_delay_add_lateness (d, t, 250 * MS);
  peercam_playout_delay_advance (d, t);
  g_assert_cmpfloat (peercam_playout_delay_advance (d, t + 3 * G_USEC_PER_SEC), <=, 25.0 + 1e-9);

  /* Back to no limit: down to 0 at the same pace, then inactive. */
  peercam_playout_delay_set_limit (d, 0);
  t += 3 * G_USEC_PER_SEC;
  for (guint i = 0; i < 100 && peercam_playout_delay_is_active (d); i++)
    {
      double before = peercam_playout_delay_get_current (d);

      t += 10 * MS;
      g_assert_cmpfloat (before - peercam_playout_delay_advance (d, t), <=, 1.0 + 1e-9);
    }
  g_assert_false (peercam_playout_delay_is_active (d));
  g_assert_cmpfloat (peercam_playout_delay_get_current (d), ==, 0);
}

/* A 30 fps stream on a lossy link, as the jitter buffer hands it on: a
 * frame with a missing packet comes when its retransmission does (50 ms
 * after its time; 110 or 170 ms when the first or second try is lost too),
 * and holds every frame behind it. Frames show at max(decoded, time +
 * current delay). Counts freezes as libwebrtc (and tools/bench network)
 * do after @skip_us: an interval over max(3 x the mean of the previous 30,
 * 150 ms). */
static guint
simulate (gboolean  schedule,
          gint64    skip_us,
          double   *max_delay_ms)
{
  g_autoptr(PeercamPlayoutDelay) d = peercam_playout_delay_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autoptr(GArray) intervals = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 released = 0, last_shown = -1;
  guint freezes = 0;

  *max_delay_ms = 0;
  if (schedule)
    peercam_playout_delay_set_limit (d, 300);
  for (gint64 pts = G_USEC_PER_SEC; pts < 21 * G_USEC_PER_SEC; pts += FRAME_US)
    {
      gint64 repair = 0, shown;
      double r = g_rand_double (rand);

      if (r < 0.01)
        repair = 170 * MS;
      else if (r < 0.03)
        repair = 110 * MS;
      else if (r < 0.15)
        repair = 50 * MS;
      /* decoded 5 ms after it is complete, never before the one in front */
      released = MAX (released, pts + repair) + 5 * MS;
      peercam_playout_delay_add_lateness (d, released, released - pts);
      shown = MAX (released, pts + (gint64) (peercam_playout_delay_advance (d, released) * MS));
      *max_delay_ms = MAX (*max_delay_ms, (shown - pts) / 1000.0);
      if (last_shown >= 0 && pts >= skip_us)
        {
          gint64 interval = shown - last_shown;
          gint64 sum = 0;
          guint n = MIN (intervals->len, 30);

          for (guint i = intervals->len - n; i < intervals->len; i++)
            sum += g_array_index (intervals, gint64, i);
          if (interval > MAX (n ? 3 * sum / n : 3 * FRAME_US, 150 * MS))
            freezes++;
          g_array_append_val (intervals, interval);
        }
      last_shown = shown;
    }
  return freezes;
}

static void
test_playout_lossy_link (void)
{
  double max_delay_off, max_delay_on;
  guint off = simulate (FALSE, 3 * G_USEC_PER_SEC, &max_delay_off);
  guint on = simulate (TRUE, 3 * G_USEC_PER_SEC, &max_delay_on);

  g_test_message ("freezes without a schedule %u, with %u (max delay %.0f / %.0f ms)",
                  off, on, max_delay_off, max_delay_on);
  /* Showing frames when decoded, every second try is a freeze. */
  g_assert_cmpuint (off, >=, 3);
  /* On the schedule, once it has grown (2 s at 100 ms/s), none. */
  g_assert_cmpuint (on, ==, 0);
  g_assert_cmpfloat (max_delay_on, <=, 300 + 5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/playout/off", test_playout_off);
  g_test_add_func ("/playout/ramp", test_playout_ramp);
  g_test_add_func ("/playout/limit-and-window", test_playout_limit_and_window);
  g_test_add_func ("/playout/lossy-link", test_playout_lossy_link);
  return g_test_run ();
}
