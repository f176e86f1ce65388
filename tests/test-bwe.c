/* test-bwe.c — the bandwidth estimator against synthetic links
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A small link simulator in 1 ms steps: the sender emits 1200-byte packets at
 * the estimator's target (evenly: a paced sender), a bottleneck of a given
 * rate with a drop-tail buffer (like tc tbf's `latency`), Bernoulli loss, a
 * one-way delay each way; the receiver sends transport-cc feedback every
 * 50 ms and a receiver report (fraction lost, RTT) every second.
 * BWE_SEED and BWE_OWD_MS (default 42 and 10) vary the loss pattern and the
 * one-way delay by hand; the assertions hold for seeds 1–5 and 2–50 ms.
 */
#include "peercam-bwe.h"

#include <math.h>
#include <stdlib.h>

#define PACKET_BYTES 1200
#define STEP_US      1000
#define SEQ_START    65000   /* wraps the 16-bit sequence number early */

typedef struct {
  gint64 send_us;
  gint64 arrive_us;   /* -1: lost */
} SimPacket;

typedef struct {
  gint64              deliver_us;
  GArray             *arrivals;  /* PeercamBweArrival */
} Feedback;

typedef struct {
  /* link */
  guint64    capacity_bps;           /* 0: unlimited */
  guint64    step_capacity_bps;      /* after step_us, if non-zero */
  gint64     step_us;
  gint64     buffer_us;              /* drop-tail: max queueing delay */
  gint64     one_way_us;
  double     loss;
  double     burst_loss;             /* instead of loss in [burst_from_us, burst_to_us) */
  gint64     burst_from_us, burst_to_us;
  guint64    remb_bps;               /* receiver sends REMB when non-zero */
  double     app_limit;              /* 0: sends the target; else this share of it
                                      * (an encoder undershooting on easy content) */
  /* state */
  PeercamBwe *bwe;
  GRand      *rand;
  GArray     *packets;               /* SimPacket, index = seq - SEQ_START */
  GQueue      feedback;
  gint64      bottleneck_free_us;
  double      send_budget;
  guint       next_fb_index;
  guint       rr_first_index;
  /* record: target every 10 ms */
  GArray     *targets;               /* guint64 */
} Sim;

static void
sim_init (Sim *sim, const PeercamBweConfig *config)
{
  sim->bwe = peercam_bwe_new (config);
  sim->rand = g_rand_new_with_seed (g_getenv ("BWE_SEED") ? atoi (g_getenv ("BWE_SEED")) : 42);
  sim->packets = g_array_new (FALSE, FALSE, sizeof (SimPacket));
  g_queue_init (&sim->feedback);
  sim->targets = g_array_new (FALSE, FALSE, sizeof (guint64));
  if (sim->buffer_us == 0)
    sim->buffer_us = 100000;
  if (sim->one_way_us == 0)
    sim->one_way_us = g_getenv ("BWE_OWD_MS") ? atoi (g_getenv ("BWE_OWD_MS")) * 1000 : 10000;
}

static void
feedback_free (gpointer data)
{
  Feedback *fb = data;
  g_array_unref (fb->arrivals);
  g_free (fb);
}

static void
sim_clear (Sim *sim)
{
  peercam_bwe_free (sim->bwe);
  g_rand_free (sim->rand);
  g_array_unref (sim->packets);
  g_queue_clear_full (&sim->feedback, feedback_free);
  g_array_unref (sim->targets);
}

static guint64
sim_capacity (Sim *sim, gint64 now)
{
  if (sim->step_capacity_bps && now >= sim->step_us)
    return sim->step_capacity_bps;
  return sim->capacity_bps;
}

static void
sim_send (Sim *sim, gint64 now)
{
  guint64 cap = sim_capacity (sim, now);
  SimPacket p = { now, -1 };
  guint16 seq = (guint16) (SEQ_START + sim->packets->len);

  peercam_bwe_on_packet_sent (sim->bwe, seq, now, PACKET_BYTES);
  double loss = now >= sim->burst_from_us && now < sim->burst_to_us ? sim->burst_loss : sim->loss;

  if (g_rand_double (sim->rand) >= loss)
    {
      gint64 start = MAX (now, sim->bottleneck_free_us);
      gint64 tx = cap ? (gint64) (PACKET_BYTES * 8 * (double) G_USEC_PER_SEC / cap) : 0;

      if (start - now <= sim->buffer_us)
        {
          sim->bottleneck_free_us = start + tx;
          p.arrive_us = start + tx + sim->one_way_us;
        }
    }
  g_array_append_val (sim->packets, p);
}

/* At receiver time @now: feedback for everything up to the newest arrival. */
static void
sim_receiver (Sim *sim, gint64 now)
{
  guint last = sim->next_fb_index;
  gboolean found = FALSE;
  Feedback *fb;

  for (guint i = sim->next_fb_index; i < sim->packets->len; i++)
    {
      SimPacket *p = &g_array_index (sim->packets, SimPacket, i);
      if (p->arrive_us >= 0 && p->arrive_us <= now)
        {
          last = i;
          found = TRUE;
        }
      if (p->send_us > now)
        break;
    }
  if (!found)
    return;
  fb = g_new0 (Feedback, 1);
  fb->deliver_us = now + sim->one_way_us;
  fb->arrivals = g_array_new (FALSE, FALSE, sizeof (PeercamBweArrival));
  for (guint i = sim->next_fb_index; i <= last; i++)
    {
      SimPacket *p = &g_array_index (sim->packets, SimPacket, i);
      PeercamBweArrival a = {
        .seq = (guint16) (SEQ_START + i),
        .received = p->arrive_us >= 0,
        /* a receiver clock far from ours: only differences matter */
        .arrival_us = p->arrive_us + 123456789,
      };
      g_array_append_val (fb->arrivals, a);
    }
  sim->next_fb_index = last + 1;
  g_queue_push_tail (&sim->feedback, fb);
}

static void
sim_report (Sim *sim, gint64 now)
{
  guint lost = 0, total = 0;

  for (guint i = sim->rr_first_index; i < sim->next_fb_index; i++)
    {
      total++;
      if (g_array_index (sim->packets, SimPacket, i).arrive_us < 0)
        lost++;
    }
  sim->rr_first_index = sim->next_fb_index;
  if (total)
    {
      gint64 queue = MAX (0, sim->bottleneck_free_us - now);
      peercam_bwe_on_receiver_report (sim->bwe, (double) lost / total,
                                      2 * sim->one_way_us + queue, now);
    }
}

static void
sim_run (Sim *sim, gint64 until_us)
{
  gint64 now = sim->targets->len * 10 * STEP_US;

  for (; now < until_us; now += STEP_US)
    {
      guint64 target = peercam_bwe_get_target_bitrate (sim->bwe);

      sim->send_budget += target * (sim->app_limit > 0 ? sim->app_limit : 1.0) * (STEP_US / 1e6) / 8;
      while (sim->send_budget >= PACKET_BYTES)
        {
          sim_send (sim, now);
          sim->send_budget -= PACKET_BYTES;
        }
      if (now % 50000 == 0)
        sim_receiver (sim, now);
      while (!g_queue_is_empty (&sim->feedback) &&
             ((Feedback *) g_queue_peek_head (&sim->feedback))->deliver_us <= now)
        {
          Feedback *fb = g_queue_pop_head (&sim->feedback);
          peercam_bwe_on_transport_feedback (sim->bwe, (PeercamBweArrival *) fb->arrivals->data,
                                             fb->arrivals->len, now);
          feedback_free (fb);
        }
      if (now % 1000000 == 500000)
        sim_report (sim, now);
      if (sim->remb_bps && now % 250000 == 0)
        peercam_bwe_on_remb (sim->bwe, sim->remb_bps, now);
      if (now % 10000 == 0)
        {
          target = peercam_bwe_get_target_bitrate (sim->bwe);
          g_array_append_val (sim->targets, target);
        }
    }
}

static guint64
target_at (Sim *sim, double seconds)
{
  guint i = (guint) (seconds * 100);
  g_assert_cmpuint (i, <, sim->targets->len);
  return g_array_index (sim->targets, guint64, i);
}

/* The longest run (s) after @from_s with the target above @limit. */
static double
longest_above (Sim *sim, double from_s, guint64 limit)
{
  guint run = 0, longest = 0;

  for (guint i = (guint) (from_s * 100); i < sim->targets->len; i++)
    {
      run = g_array_index (sim->targets, guint64, i) > limit ? run + 1 : 0;
      longest = MAX (longest, run);
    }
  return longest / 100.0;
}

static double
mean_from (Sim *sim, double from_s)
{
  double sum = 0;
  guint n = 0;

  for (guint i = (guint) (from_s * 100); i < sim->targets->len; i++, n++)
    sum += g_array_index (sim->targets, guint64, i);
  return n ? sum / n : 0;
}

static void
test_clean_ramp (void)
{
  Sim sim = { .capacity_bps = 0, .one_way_us = 2000 };
  double reached = -1;

  sim_init (&sim, NULL);
  g_assert_cmpuint (peercam_bwe_get_target_bitrate (sim.bwe), ==, PEERCAM_BWE_DEFAULT_START_BPS);
  sim_run (&sim, 6 * G_USEC_PER_SEC);
  for (guint i = 0; i < sim.targets->len && reached < 0; i++)
    if (g_array_index (sim.targets, guint64, i) >= PEERCAM_BWE_DEFAULT_MAX_BPS * 95 / 100)
      reached = i / 100.0;
  g_test_message ("clean link: 95%% of max after %.2f s", reached);
  g_assert_cmpfloat (reached, >=, 0);
  g_assert_cmpfloat (reached, <=, 2.0);
  /* and it stays there: nothing on a clean link looks like overuse */
  g_assert_cmpuint (target_at (&sim, 5.9), >=, PEERCAM_BWE_DEFAULT_MAX_BPS * 95 / 100);
  g_assert_cmpint (peercam_bwe_get_usage (sim.bwe), !=, PEERCAM_BWE_OVERUSING);
  g_assert_cmpfloat (peercam_bwe_get_loss_fraction (sim.bwe), ==, 0);
  g_assert_cmpint (peercam_bwe_get_rtt_us (sim.bwe), ==, 4000);
  g_assert_cmpuint (peercam_bwe_get_acked_bitrate (sim.bwe), >=, PEERCAM_BWE_DEFAULT_MAX_BPS * 9 / 10);
  sim_clear (&sim);
}

/* The sender starts in the format the start rate carries, and an encoder
 * there undershoots its target on easy content (640x360 sent 350 kbit/s of
 * 600 in tools/bench network). Held at 1.5x the acknowledged rate, the
 * estimate would never reach what 960x540 or 1280x720 need; the fast start
 * must still find a clean link's capacity in about 2 s. */
static void
test_app_limited_clean (void)
{
  Sim sim = { .capacity_bps = 0, .one_way_us = 2000, .app_limit = 0.58 };
  double reached = -1;

  sim_init (&sim, NULL);
  sim_run (&sim, 6 * G_USEC_PER_SEC);
  for (guint i = 0; i < sim.targets->len && reached < 0; i++)
    if (g_array_index (sim.targets, guint64, i) >= 1700000)
      reached = i / 100.0;
  g_test_message ("clean link, sender at 58 %% of the target: 1.7 Mbit/s after %.2f s", reached);
  g_assert_cmpfloat (reached, >=, 0);
  g_assert_cmpfloat (reached, <=, 2.0);
  g_assert_true (peercam_bwe_is_ramping_up (sim.bwe));
  sim_clear (&sim);
}

/* The same undershooting sender on a 1 Mbit/s link: the fast start still
 * ends at the link, and after it the estimate stays within the usual
 * 1.5x of what gets through. */
static void
test_app_limited_bottleneck (void)
{
  Sim sim = { .capacity_bps = 1000000, .app_limit = 0.58 };

  sim_init (&sim, NULL);
  sim_run (&sim, 20 * G_USEC_PER_SEC);
  g_test_message ("1 Mbit/s, sender at 58 %%: %.0f kbit/s at 5 s, %.2f s above 1.6 Mbit/s after 5 s",
                  target_at (&sim, 5.0) / 1000.0, longest_above (&sim, 5.0, 1600000));
  g_assert_false (peercam_bwe_is_ramping_up (sim.bwe));
  g_assert_cmpfloat (longest_above (&sim, 5.0, 1600000) + longest_above (&sim, 5.0, 1750000), <=, 1.0);
  sim_clear (&sim);
}

static void
test_bottleneck (void)
{
  Sim sim = { .capacity_bps = 1000000 };
  double converged = -1;
  guint64 peak = 0;

  sim_init (&sim, NULL);
  sim_run (&sim, 20 * G_USEC_PER_SEC);
  /* converged: back under the cap after the ramp-up first crossed it */
  for (guint i = 0, above = FALSE; i < sim.targets->len && converged < 0; i++)
    {
      guint64 t = g_array_index (sim.targets, guint64, i);
      if (t > 1000000)
        above = TRUE;
      else if (above)
        converged = i / 100.0;
    }
  g_test_message ("1 Mbit/s bottleneck: under the cap after %.2f s, then %.2f s at most above +10%%, "
                  "mean %.0f kbit/s", converged, longest_above (&sim, converged, 1100000),
                  mean_from (&sim, converged) / 1000);
  /* The fast start ends where the link delivers clearly less than it is
   * sent (not only when the queue shows in the delay): it never got to
   * twice the link on its way up. */
  for (guint i = 0; i < sim.targets->len; i++)
    peak = MAX (peak, g_array_index (sim.targets, guint64, i));
  g_test_message ("peak estimate %" G_GUINT64_FORMAT " kbit/s", peak / 1000);
  g_assert_cmpuint (peak, <=, 1600000);
  g_assert_cmpfloat (converged, >=, 0);
  g_assert_cmpfloat (converged, <=, 4.0);
  g_assert_cmpfloat (longest_above (&sim, converged, 1100000), <=, 1.0);
  /* it converged to the link, not to nothing */
  g_assert_cmpfloat (mean_from (&sim, converged), >=, 600000);
  g_assert_cmpfloat (mean_from (&sim, 10), <=, 1050000);
  sim_clear (&sim);
}

/* A policer (a token bucket with almost no queue) drops what exceeds the
 * rate instead of delaying it: the delay never grows. The fast start ends
 * on what the link delivers against what was sent into it. */
static void
test_policer (void)
{
  Sim sim = { .capacity_bps = 1000000, .buffer_us = 1000 };
  guint64 peak = 0;

  sim_init (&sim, NULL);
  sim_run (&sim, 10 * G_USEC_PER_SEC);
  for (guint i = 0; i < sim.targets->len; i++)
    peak = MAX (peak, g_array_index (sim.targets, guint64, i));
  g_test_message ("1 Mbit/s policer: peak %" G_GUINT64_FORMAT " kbit/s, %.0f kbit/s at 2 s, "
                  "%.2f s above +10%% after 2 s, mean %.0f kbit/s from 2 s",
                  peak / 1000, target_at (&sim, 2.0) / 1000.0, longest_above (&sim, 2.0, 1100000),
                  mean_from (&sim, 2.0) / 1000);
  g_assert_cmpuint (peak, <=, 1600000);
  g_assert_cmpuint (target_at (&sim, 2.0), <=, 1100000);
  g_assert_cmpfloat (longest_above (&sim, 2.0, 1100000), <=, 1.0);
  g_assert_cmpfloat (mean_from (&sim, 2.0), >=, 500000);
  sim_clear (&sim);
}

static void
test_step_down (void)
{
  PeercamBweConfig config = { .max_bps = 6000000 };
  Sim sim = { .capacity_bps = 4000000, .step_capacity_bps = 700000, .step_us = 10 * G_USEC_PER_SEC };

  sim_init (&sim, &config);
  sim_run (&sim, 20 * G_USEC_PER_SEC);
  g_test_message ("4 Mbit/s: %.0f kbit/s before the step; 0.7 Mbit/s: %.0f kbit/s 3 s after, mean %.0f",
                  target_at (&sim, 9.9) / 1000.0, target_at (&sim, 13.0) / 1000.0,
                  mean_from (&sim, 13) / 1000);
  g_assert_cmpuint (target_at (&sim, 9.9), >=, 2500000);
  g_assert_cmpuint (target_at (&sim, 9.9), <=, 4400000);
  g_assert_cmpuint (target_at (&sim, 13.0), <, 700000);
  g_assert_cmpfloat (longest_above (&sim, 13.0, 770000), <=, 1.0);
  g_assert_cmpfloat (mean_from (&sim, 13), >=, 400000);
  sim_clear (&sim);
}

static void
run_random_loss (double loss)
{
  Sim sim = { .capacity_bps = 0, .one_way_us = 5000, .loss = loss };

  sim_init (&sim, NULL);
  sim_run (&sim, 10 * G_USEC_PER_SEC);
  g_test_message ("%.0f%% random loss: %.0f kbit/s after 10 s (loss seen %.3f)", loss * 100,
                  target_at (&sim, 9.9) / 1000.0, peercam_bwe_get_loss_fraction (sim.bwe));
  g_assert_cmpfloat (fabs (peercam_bwe_get_loss_fraction (sim.bwe) - loss), <, 0.04);
  g_assert_cmpfloat (mean_from (&sim, 3), >=, PEERCAM_BWE_DEFAULT_MAX_BPS * 0.6);
  sim_clear (&sim);
}

static void
test_loss_1 (void)
{
  run_random_loss (0.01);
}

static void
test_loss_5 (void)
{
  run_random_loss (0.05);
}

/* 30 % loss is a broken link: the loss controller must back off. */
static void
test_loss_heavy (void)
{
  Sim sim = { .capacity_bps = 0, .one_way_us = 5000, .loss = 0.3 };

  sim_init (&sim, NULL);
  sim_run (&sim, 8 * G_USEC_PER_SEC);
  g_test_message ("30%% random loss: %.0f kbit/s after 8 s", target_at (&sim, 7.9) / 1000.0);
  g_assert_cmpuint (target_at (&sim, 7.9), <=, PEERCAM_BWE_DEFAULT_START_BPS);
  g_assert_cmpuint (target_at (&sim, 7.9), >=, PEERCAM_BWE_DEFAULT_MIN_BPS);
  sim_clear (&sim);
}

/* A loss burst cuts the rate; once it ends, the cutting stops at the next
 * report and the rate grows again (smoothing must not drag it down). */
static void
test_loss_burst (void)
{
  Sim sim = { .capacity_bps = 0, .one_way_us = 5000, .burst_loss = 0.4,
              .burst_from_us = 3 * G_USEC_PER_SEC, .burst_to_us = 5 * G_USEC_PER_SEC };
  guint64 low;

  sim_init (&sim, NULL);
  sim_run (&sim, 12 * G_USEC_PER_SEC);
  low = target_at (&sim, 6.5);
  g_test_message ("40%% loss 3-5 s: %.0f kbit/s at 2.9 s, %.0f at 5.0, %.0f at 6.5, %.0f at 11.9",
                  target_at (&sim, 2.9) / 1000.0, target_at (&sim, 5.0) / 1000.0, low / 1000.0,
                  target_at (&sim, 11.9) / 1000.0);
  g_assert_cmpuint (target_at (&sim, 5.0), <, target_at (&sim, 2.9) * 3 / 4);
  for (double t = 6.5; t < 11.9; t += 0.1)
    g_assert_cmpuint (target_at (&sim, t), >=, low);
  g_assert_cmpuint (target_at (&sim, 11.9), >, low);
  sim_clear (&sim);
}

/* The receiver goes silent: the estimate halves once a second, and the
 * fast start is over; feedback coming back lets it grow again. */
static void
test_feedback_timeout (void)
{
  Sim sim = { .capacity_bps = 0, .one_way_us = 5000 };
  guint64 before;

  sim_init (&sim, NULL);
  sim_run (&sim, 3 * G_USEC_PER_SEC);
  before = peercam_bwe_get_target_bitrate (sim.bwe);
  g_assert_true (peercam_bwe_is_ramping_up (sim.bwe));
  /* no feedback from 3 s on: updates only */
  peercam_bwe_update (sim.bwe, 3 * G_USEC_PER_SEC + 500000);
  g_assert_cmpuint (peercam_bwe_get_target_bitrate (sim.bwe), ==, before);
  peercam_bwe_update (sim.bwe, 4 * G_USEC_PER_SEC + 100000);
  g_assert_cmpuint (peercam_bwe_get_target_bitrate (sim.bwe), ==, before / 2);
  g_assert_false (peercam_bwe_is_ramping_up (sim.bwe));
  peercam_bwe_update (sim.bwe, 4 * G_USEC_PER_SEC + 600000);
  g_assert_cmpuint (peercam_bwe_get_target_bitrate (sim.bwe), ==, before / 2);
  peercam_bwe_update (sim.bwe, 5 * G_USEC_PER_SEC + 200000);
  g_assert_cmpuint (peercam_bwe_get_target_bitrate (sim.bwe), ==, before / 4);
  for (int i = 0; i < 20; i++)
    peercam_bwe_update (sim.bwe, (6 + i) * G_USEC_PER_SEC);
  g_assert_cmpuint (peercam_bwe_get_target_bitrate (sim.bwe), ==, PEERCAM_BWE_DEFAULT_MIN_BPS);
  sim_clear (&sim);
}

static void
test_remb_cap (void)
{
  Sim sim = { .capacity_bps = 0, .one_way_us = 5000, .remb_bps = 800000 };

  sim_init (&sim, NULL);
  sim_run (&sim, 5 * G_USEC_PER_SEC);
  for (guint i = 0; i < sim.targets->len; i++)
    g_assert_cmpuint (g_array_index (sim.targets, guint64, i), <=, 800000);
  g_assert_cmpuint (target_at (&sim, 4.9), ==, 800000);
  /* Lifting the cap lets the estimate grow again. */
  sim.remb_bps = 0;
  peercam_bwe_on_remb (sim.bwe, 0, 5 * G_USEC_PER_SEC);
  sim_run (&sim, 8 * G_USEC_PER_SEC);
  g_assert_cmpuint (target_at (&sim, 7.9), >, 1500000);
  sim_clear (&sim);
}

static void
test_bad_input (void)
{
  g_autoptr(PeercamBwe) bwe = NULL;
  PeercamBweConfig config = { .min_bps = 200000, .start_bps = 50000, .max_bps = 100000 };
  PeercamBweArrival unknown[] = { { 7, TRUE, 1000 }, { 8, FALSE, 0 } };

  /* A config that contradicts itself is clamped, never inverted. */
  bwe = peercam_bwe_new (&config);
  g_assert_cmpuint (peercam_bwe_get_target_bitrate (bwe), ==, 200000);
  g_clear_pointer (&bwe, peercam_bwe_free);

  bwe = peercam_bwe_new (NULL);
  /* Feedback about packets never sent changes nothing. */
  peercam_bwe_on_transport_feedback (bwe, unknown, G_N_ELEMENTS (unknown), 1000);
  peercam_bwe_on_transport_feedback (bwe, NULL, 0, 2000);
  g_assert_cmpuint (peercam_bwe_get_target_bitrate (bwe), ==, PEERCAM_BWE_DEFAULT_START_BPS);
  g_assert_cmpuint (peercam_bwe_get_acked_bitrate (bwe), ==, 0);
  /* A NaN loss fraction is ignored; out-of-range ones are clamped. */
  peercam_bwe_on_receiver_report (bwe, NAN, 30000, 3000);
  g_assert_cmpfloat (peercam_bwe_get_loss_fraction (bwe), ==, 0);
  g_assert_cmpint (peercam_bwe_get_rtt_us (bwe), ==, 30000);
  peercam_bwe_on_receiver_report (bwe, 7.0, -1, 4000);
  g_assert_cmpfloat (peercam_bwe_get_loss_fraction (bwe), ==, 0.25);  /* 1.0, smoothed */
  g_assert_cmpint (peercam_bwe_get_rtt_us (bwe), ==, 30000);
  g_assert_cmpuint (peercam_bwe_get_target_bitrate (bwe), >=, PEERCAM_BWE_DEFAULT_MIN_BPS);
  g_assert_cmpuint (peercam_bwe_get_target_bitrate (bwe), <, PEERCAM_BWE_DEFAULT_START_BPS);
}

/* ---- degradation policy ---- */

static void
test_degradation_balanced (void)
{
  const PeercamVideoFormat hd = { 1280, 720, 30 };
  static const struct { guint64 bps; guint w, h, fps; } cases[] = {
    { 2500000, 1280, 720, 30 },
    { 1300000, 1280, 720, 30 },
    { 1000000, 960, 540, 30 },
    {  850000, 960, 540, 30 },  /* what Chromium sends at 720p under a 1 Mbit/s cap */
    {  500000, 640, 360, 30 },
    {  200000, 480, 270, 30 },
    {  100000, 320, 180, 30 },
    {   40000, 320, 180, 14 },  /* below the smallest rung: the frame rate goes */
    {    1000, 320, 180, 5 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PeercamVideoFormat f = peercam_degradation_apply (PEERCAM_DEGRADATION_BALANCED, &hd, cases[i].bps);
      g_assert_cmpuint (f.width, ==, cases[i].w);
      g_assert_cmpuint (f.height, ==, cases[i].h);
      g_assert_cmpuint (f.fps, ==, cases[i].fps);
    }
}

static void
test_degradation_other (void)
{
  const PeercamVideoFormat hd = { 1280, 720, 30 };
  const PeercamVideoFormat odd = { 641, 479, 15 };
  PeercamDegradation policy;
  PeercamVideoFormat f;
  guint last_fps = 30;

  g_assert_true (peercam_degradation_from_string ("balanced", &policy));
  g_assert_cmpint (policy, ==, PEERCAM_DEGRADATION_BALANCED);
  g_assert_true (peercam_degradation_from_string ("maintain-resolution", &policy));
  g_assert_cmpint (policy, ==, PEERCAM_DEGRADATION_MAINTAIN_RESOLUTION);
  g_assert_true (peercam_degradation_from_string ("maintain-framerate", &policy));
  g_assert_cmpint (policy, ==, PEERCAM_DEGRADATION_MAINTAIN_FRAMERATE);
  g_assert_false (peercam_degradation_from_string ("fastest", &policy));
  g_assert_false (peercam_degradation_from_string (NULL, &policy));

  /* maintain-resolution: 1280x720 always, fewer frames as the rate falls */
  for (guint64 bps = 3000000; bps >= 50000; bps -= 50000)
    {
      f = peercam_degradation_apply (PEERCAM_DEGRADATION_MAINTAIN_RESOLUTION, &hd, bps);
      g_assert_cmpuint (f.width, ==, 1280);
      g_assert_cmpuint (f.height, ==, 720);
      g_assert_cmpuint (f.fps, <=, last_fps);
      g_assert_cmpuint (f.fps, >=, 5);
      last_fps = f.fps;
    }
  f = peercam_degradation_apply (PEERCAM_DEGRADATION_MAINTAIN_RESOLUTION, &hd, 650000);
  g_assert_cmpuint (f.fps, ==, 30);
  f = peercam_degradation_apply (PEERCAM_DEGRADATION_MAINTAIN_RESOLUTION, &hd, 325000);
  g_assert_cmpuint (f.fps, ==, 15);

  /* maintain-framerate: never fewer frames, the smallest rung at worst */
  f = peercam_degradation_apply (PEERCAM_DEGRADATION_MAINTAIN_FRAMERATE, &hd, 1000);
  g_assert_cmpuint (f.width, ==, 320);
  g_assert_cmpuint (f.height, ==, 180);
  g_assert_cmpuint (f.fps, ==, 30);
  f = peercam_degradation_apply (PEERCAM_DEGRADATION_MAINTAIN_FRAMERATE, &hd, 1000000);
  g_assert_cmpuint (f.width, ==, 960);

  /* Odd sources give even sizes; the rungs scale from the source. */
  f = peercam_degradation_apply (PEERCAM_DEGRADATION_BALANCED, &odd, 10000000);
  g_assert_cmpuint (f.width, ==, 640);
  g_assert_cmpuint (f.height, ==, 478);
  g_assert_cmpuint (f.fps, ==, 15);
  f = peercam_degradation_apply (PEERCAM_DEGRADATION_BALANCED, &odd, 120000);
  g_assert_cmpuint (f.width % 2, ==, 0);
  g_assert_cmpuint (f.height % 2, ==, 0);
  g_assert_cmpuint (f.width, <, 641);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bwe/clean-ramp", test_clean_ramp);
  g_test_add_func ("/bwe/app-limited-clean", test_app_limited_clean);
  g_test_add_func ("/bwe/app-limited-1mbit", test_app_limited_bottleneck);
  g_test_add_func ("/bwe/bottleneck-1mbit", test_bottleneck);
  g_test_add_func ("/bwe/policer-1mbit", test_policer);
  g_test_add_func ("/bwe/step-4-to-0.7mbit", test_step_down);
  g_test_add_func ("/bwe/loss-1pct", test_loss_1);
  g_test_add_func ("/bwe/loss-5pct", test_loss_5);
  g_test_add_func ("/bwe/loss-30pct", test_loss_heavy);
  g_test_add_func ("/bwe/loss-burst", test_loss_burst);
  g_test_add_func ("/bwe/feedback-timeout", test_feedback_timeout);
  g_test_add_func ("/bwe/remb-cap", test_remb_cap);
  g_test_add_func ("/bwe/bad-input", test_bad_input);
  g_test_add_func ("/degradation/balanced", test_degradation_balanced);
  g_test_add_func ("/degradation/other", test_degradation_other);
  return g_test_run ();
}
