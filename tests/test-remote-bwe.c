/* test-remote-bwe.c — the receive-side estimate (REMB) against synthetic links
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A sender like aiortc 1.4: 30 frames a second, each frame's 1200-byte
 * packets (1080 of payload) sent back to back (no pacing), its encoder's
 * payload at the last REMB bitrate (500 kbit/s until one comes, clamped to 250 kbit/s-1.5 Mbit/s),
 * stamping abs-send-time. A bottleneck of a given rate with a drop-tail
 * buffer of 100 ms (tc tbf's `latency`), Bernoulli loss, 10 ms one way; the
 * receiver feeds PeercamRemoteBwe and polls for REMB every 50 ms (the
 * viewer's RTCP interval), which reaches the sender 10 ms later. 1 ms steps.
 */
#include "peercam-remote-bwe.h"

#include <math.h>
#include <string.h>

#define PACKET_BYTES 1200
#define PAYLOAD_BYTES 1080  /* 10 % headers */
#define STEP_US      1000
#define USEC         G_GINT64_CONSTANT (1000000)
#define ONE_WAY_US   10000
#define BUFFER_US    100000
#define FRAME_US     33333
#define SENDER_MIN   250000
#define SENDER_MAX   1500000
#define SENDER_START 500000

typedef struct {
  gint64  arrive_us;
  guint16 seq;
  guint32 stamp;       /* abs-send-time or RTP timestamp */
} InFlight;

typedef struct {
  /* link */
  guint64  capacity_bps;     /* 0: unlimited */
  double   loss;
  gint64   jitter_us;        /* each packet up to this late, in order */
  gint64   stall_from_us, stall_to_us;  /* the sender sends nothing */
  gboolean rtp_timestamps;   /* no abs-send-time */
  gint64   clock_offset_us;  /* the sender's clock at the start (abs-send-time wraps every 64 s) */
  /* state */
  PeercamRemoteBwe *remote;
  GRand   *rand;
  GQueue   flight;           /* InFlight*, in arrival order */
  gint64   bottleneck_free_us;
  gint64   last_arrival_us;
  guint64  target_bps;       /* the sender's encoder */
  gint64   remb_due_us;      /* a REMB on its way; -1: none */
  guint64  remb_bps;
  guint    rembs;
  guint16  seq;
  gint64   now_us;
  double   budget;
  gint64   next_frame_us;
  /* what left the sender, per 100 ms slot */
  guint64  sent_bytes[1000];
} Sim;

static void
sim_init (Sim *sim)
{
  PeercamBweConfig config = { .min_bps = 100000, .start_bps = 300000, .max_bps = 2500000 };

  sim->remote = peercam_remote_bwe_new (&config);
  sim->rand = g_rand_new_with_seed (42);
  g_queue_init (&sim->flight);
  sim->target_bps = SENDER_START;
  sim->remb_due_us = -1;
  sim->seq = 65500;  /* wraps early */
}

static void
sim_clear (Sim *sim)
{
  g_queue_clear_full (&sim->flight, g_free);
  g_rand_free (sim->rand);
  peercam_remote_bwe_free (sim->remote);
}

static guint32
stamp_for (Sim   *sim,
           gint64 now_us)
{
  gint64 sender_us = now_us + sim->clock_offset_us;

  if (sim->rtp_timestamps)
    return (guint32) (sender_us * 90 / 1000);
  /* 6.18 fixed-point seconds, 24 bits */
  return (guint32) ((sender_us * 262144 / G_USEC_PER_SEC) & 0xffffff);
}

static void
send_frame (Sim   *sim,
            gint64 now_us)
{
  guint packets;

  /* the encoder's budget, carried over from frame to frame: its target is
   * what it makes, the headers come on top (as aiortc's) */
  sim->budget += (double) sim->target_bps * FRAME_US / 8 / USEC;
  packets = (guint) MAX (1.0, floor (sim->budget / PAYLOAD_BYTES));
  sim->budget -= packets * PAYLOAD_BYTES;
  guint32 frame_stamp = stamp_for (sim, now_us);

  for (guint i = 0; i < packets; i++)
    {
      /* back to back at 100 Mbit/s on the first link */
      gint64 sent_us = now_us + i * (PACKET_BYTES * 8 * USEC / 100000000);
      gint64 at = sent_us + ONE_WAY_US / 2;
      InFlight *p;

      sim->sent_bytes[MIN (now_us / 100000, 999)] += PACKET_BYTES;
      sim->seq++;
      if (sim->loss > 0 && g_rand_double (sim->rand) < sim->loss)
        continue;
      if (sim->capacity_bps > 0)
        {
          gint64 start = MAX (at, sim->bottleneck_free_us);

          if (start - at > BUFFER_US)
            continue;  /* drop-tail */
          sim->bottleneck_free_us = start + PACKET_BYTES * 8 * USEC / (gint64) sim->capacity_bps;
          at = sim->bottleneck_free_us;
        }
      p = g_new (InFlight, 1);
      p->arrive_us = at + ONE_WAY_US / 2;
      if (sim->jitter_us > 0)
        p->arrive_us += g_rand_int_range (sim->rand, 0, (gint32) sim->jitter_us);
      p->arrive_us = MAX (p->arrive_us, sim->last_arrival_us);
      sim->last_arrival_us = p->arrive_us;
      p->seq = sim->seq;
      p->stamp = sim->rtp_timestamps ? frame_stamp : stamp_for (sim, sent_us);
      g_queue_push_tail (&sim->flight, p);
    }
}

/* Runs until @until_us (from wherever it stopped). */
static void
sim_run (Sim   *sim,
         gint64 until_us)
{
  for (; sim->now_us < until_us; sim->now_us += STEP_US)
    {
      gint64 now_us = sim->now_us;
      InFlight *p;
      guint64 bps;
      gboolean stalled = now_us >= sim->stall_from_us && now_us < sim->stall_to_us;
      if (now_us >= sim->next_frame_us)
        {
          if (!stalled)
            send_frame (sim, now_us);
          sim->next_frame_us += FRAME_US;
        }
      while ((p = g_queue_peek_head (&sim->flight)) && p->arrive_us <= now_us)
        {
          g_queue_pop_head (&sim->flight);
          if (sim->rtp_timestamps)
            peercam_remote_bwe_on_rtp_timestamp (sim->remote, p->seq, p->stamp, 90000, PACKET_BYTES, PAYLOAD_BYTES, now_us);
          else
            peercam_remote_bwe_on_abs_send_time (sim->remote, p->seq, p->stamp, PACKET_BYTES, PAYLOAD_BYTES, now_us);
          g_free (p);
        }
      if (now_us % 50000 == 0 && peercam_remote_bwe_poll_remb (sim->remote, now_us, &bps))
        {
          sim->remb_due_us = now_us + ONE_WAY_US;
          sim->remb_bps = bps;
          sim->rembs++;
        }
      if (sim->remb_due_us >= 0 && now_us >= sim->remb_due_us)
        {
          sim->target_bps = CLAMP (sim->remb_bps, SENDER_MIN, SENDER_MAX);
          sim->remb_due_us = -1;
        }
    }
}

/* The sender's rate over [from, to) in kbit/s, and the largest 1-s rate. */
static double
sent_kbps (Sim    *sim,
           gint64  from_us,
           gint64  to_us,
           double *max_1s)
{
  guint64 total = 0;
  guint a = from_us / 100000, b = to_us / 100000;

  *max_1s = 0;
  for (guint i = a; i < b; i++)
    {
      total += sim->sent_bytes[i];
      if (i + 10 <= b)
        {
          guint64 s = 0;
          for (guint k = i; k < i + 10; k++)
            s += sim->sent_bytes[k];
          *max_1s = MAX (*max_1s, s * 8 / 1000.0);
        }
    }
  return total * 8 / 1000.0 / ((to_us - from_us) / 1e6);
}

static void
test_clean (void)
{
  Sim sim = { 0 };

  sim_init (&sim);
  sim_run (&sim, 900000);
  g_assert_cmpuint (peercam_remote_bwe_get_estimate (sim.remote), ==, 0);  /* not yet valid */
  g_assert_cmpuint (sim.rembs, ==, 0);
  sim_run (&sim, 12 * G_USEC_PER_SEC);
  g_test_message ("clean: estimate %" G_GUINT64_FORMAT " kbit/s, sender at %" G_GUINT64_FORMAT ", %u REMB",
                  peercam_remote_bwe_get_estimate (sim.remote) / 1000, sim.target_bps / 1000, sim.rembs);
  /* climbs: the sender reaches its own maximum */
  g_assert_cmpuint (sim.target_bps, ==, SENDER_MAX);
  g_assert_cmpuint (peercam_remote_bwe_get_estimate (sim.remote), >=, SENDER_MAX);
  /* no queue on a clean link */
  g_assert_cmpint (peercam_remote_bwe_get_max_queue_us (sim.remote), <, 5000);
  /* about once a second (more while it changes) */
  g_assert_cmpuint (sim.rembs, >=, 10);
  g_assert_cmpuint (sim.rembs, <=, 40);
  sim_clear (&sim);
}

static void
check_cap (guint64  cap_bps,
           gboolean rtp_timestamps)
{
  Sim sim = { 0 };
  double mean, max_1s;

  sim_init (&sim);
  sim.capacity_bps = cap_bps;
  sim.rtp_timestamps = rtp_timestamps;
  sim_run (&sim, 30 * G_USEC_PER_SEC);
  mean = sent_kbps (&sim, 6 * G_USEC_PER_SEC, 30 * G_USEC_PER_SEC, &max_1s);
  g_test_message ("cap %" G_GUINT64_FORMAT " kbit/s%s: sender mean %.0f, max 1-s %.0f kbit/s, estimate %" G_GUINT64_FORMAT,
                  cap_bps / 1000, rtp_timestamps ? " (RTP timestamps)" : "", mean, max_1s,
                  peercam_remote_bwe_get_estimate (sim.remote) / 1000);
  /* holds near the cap: under it on average, never far over, and uses it */
  g_assert_cmpfloat (mean, <=, cap_bps / 1000.0 * 1.05);
  g_assert_cmpfloat (max_1s, <=, cap_bps / 1000.0 * 1.25);
  g_assert_cmpfloat (mean, >=, cap_bps / 1000.0 * 0.6);
  /* its probing fills the 100 ms buffer now and then: the jitter buffer
   * needs room for that */
  g_assert_cmpint (peercam_remote_bwe_get_max_queue_us (sim.remote), >=, 30000);
  g_assert_cmpint (peercam_remote_bwe_get_max_queue_us (sim.remote), <=, BUFFER_US + 20000);
  sim_clear (&sim);
}

static void
test_cap_350k (void)
{
  check_cap (350000, FALSE);
}

static void
test_cap_1mbit (void)
{
  check_cap (1000000, FALSE);
}

static void
test_cap_rtp_timestamps (void)
{
  check_cap (1000000, TRUE);
}

static void
test_loss (void)
{
  Sim sim = { 0 }, light = { 0 };

  /* 20 % random loss cuts it, about 10 % a second (the loss controller:
   * by half the loss, when a report and the smoothed loss say > 10 %),
   * while the clean link's climbed to the sender's maximum */
  sim_init (&sim);
  sim.loss = 0.2;
  sim_run (&sim, 5 * G_USEC_PER_SEC);
  guint64 at_5s = peercam_remote_bwe_get_estimate (sim.remote);
  sim_run (&sim, 10 * G_USEC_PER_SEC);
  g_test_message ("20 %% loss: estimate %" G_GUINT64_FORMAT " kbit/s, loss %.2f",
                  peercam_remote_bwe_get_estimate (sim.remote) / 1000,
                  peercam_remote_bwe_get_loss_fraction (sim.remote));
  g_assert_cmpfloat (peercam_remote_bwe_get_loss_fraction (sim.remote), >, 0.1);
  g_assert_cmpuint (peercam_remote_bwe_get_estimate (sim.remote), <=, SENDER_MAX * 6 / 10);
  g_assert_cmpuint (peercam_remote_bwe_get_estimate (sim.remote), <, at_5s * 8 / 10);
  sim_clear (&sim);

  /* 1 % does not */
  sim_init (&light);
  light.loss = 0.01;
  sim_run (&light, 12 * G_USEC_PER_SEC);
  g_assert_cmpuint (light.target_bps, ==, SENDER_MAX);
  sim_clear (&light);
}

static void
test_random_loss_jitter (void)
{
  Sim sim = { 0 };

  /* 5 % random loss on a link with up to 40 ms of jitter and no cap: the
   * loss controller holds (2-10 %), and the delay above the least looks
   * like a queue, but one that never drains: one cut, not one a second */
  sim_init (&sim);
  sim.loss = 0.05;
  sim.jitter_us = 40000;
  sim_run (&sim, 20 * G_USEC_PER_SEC);
  g_test_message ("5 %% loss, 40 ms jitter: estimate %" G_GUINT64_FORMAT " kbit/s, sender at %" G_GUINT64_FORMAT,
                  peercam_remote_bwe_get_estimate (sim.remote) / 1000, sim.target_bps / 1000);
  g_assert_cmpuint (sim.target_bps, >=, 600000);
  sim_clear (&sim);
}

static void
test_stall (void)
{
  Sim sim = { 0 };
  guint64 before;

  /* A sender that sends nothing for 3 s (a stalled host) and then goes on:
   * the estimate holds across the gap and after it. */
  sim_init (&sim);
  sim.capacity_bps = 1000000;
  sim.stall_from_us = 10 * G_USEC_PER_SEC;
  sim.stall_to_us = 13 * G_USEC_PER_SEC;
  sim_run (&sim, 10 * G_USEC_PER_SEC);
  before = peercam_remote_bwe_get_estimate (sim.remote);
  g_assert_cmpuint (before, >=, 600000);
  sim_run (&sim, 13 * G_USEC_PER_SEC);
  g_assert_cmpuint (peercam_remote_bwe_get_estimate (sim.remote), >=, before * 9 / 10);
  sim_run (&sim, 13500000);
  g_test_message ("stall: %" G_GUINT64_FORMAT " kbit/s before, %" G_GUINT64_FORMAT " right after",
                  before / 1000, peercam_remote_bwe_get_estimate (sim.remote) / 1000);
  g_assert_cmpuint (peercam_remote_bwe_get_estimate (sim.remote), >=, before * 8 / 10);
  sim_run (&sim, 16 * G_USEC_PER_SEC);
  g_assert_cmpuint (peercam_remote_bwe_get_estimate (sim.remote), >=, before * 7 / 10);
  sim_clear (&sim);
}

static void
test_abs_send_time_wrap (void)
{
  Sim sim = { 0 };

  /* abs-send-time wraps at 64 s: start 2 s before it */
  sim_init (&sim);
  sim.clock_offset_us = 62 * G_USEC_PER_SEC;
  sim.capacity_bps = 1000000;
  sim_run (&sim, 12 * G_USEC_PER_SEC);
  g_assert_cmpuint (peercam_remote_bwe_get_estimate (sim.remote), >=, 600000);
  g_assert_cmpuint (peercam_remote_bwe_get_estimate (sim.remote), <=, 1200000);
  sim_clear (&sim);
}

static void
test_rhythm (void)
{
  g_autoptr(PeercamRemoteBwe) remote = NULL;
  guint64 bps = 0, first;
  guint32 abs = 0;
  guint16 seq = 0;
  gint64 t = 0;

  remote = peercam_remote_bwe_new (NULL);
  g_assert_false (peercam_remote_bwe_poll_remb (remote, 0, &bps));
  /* 1.2 s of a steady 500 kbit/s: 50 packets a second, 1250 bytes */
  for (; t <= 1200000; t += 20000)
    {
      peercam_remote_bwe_on_abs_send_time (remote, seq++, abs, 1250, 1250, t);
      abs += G_GINT64_CONSTANT (20000) * 262144 / USEC;
    }
  g_assert_true (peercam_remote_bwe_poll_remb (remote, t, &first));
  g_assert_cmpuint (first, >, 0);
  g_assert_false (peercam_remote_bwe_poll_remb (remote, t + 500000, &bps));
  g_assert_true (peercam_remote_bwe_poll_remb (remote, t + G_USEC_PER_SEC, &bps));
  g_assert_cmpuint (peercam_remote_bwe_get_rembs (remote), ==, 2);

  /* a fall of over 3 %: at once. 40 % loss from here. */
  for (gint64 end = t + 3 * G_USEC_PER_SEC; t <= end; t += 20000)
    {
      seq += (seq % 5 < 2) ? 1 : 0;  /* every other few go missing */
      peercam_remote_bwe_on_abs_send_time (remote, seq++, abs, 1250, 1250, t);
      abs += G_GINT64_CONSTANT (20000) * 262144 / USEC;
      if (peercam_remote_bwe_get_estimate (remote) < bps * 0.97)
        break;
    }
  g_assert_cmpuint (peercam_remote_bwe_get_estimate (remote), <, bps * 0.97);
  g_assert_true (peercam_remote_bwe_poll_remb (remote, t, &first));
  g_assert_cmpuint (first, <, bps);
}

static void
test_remb_packet (void)
{
  const guint32 ssrcs[] = { 0x11223344, 0xdeadbeef };
  const guint8 expected[] = {
    0x8f, 206, 0x00, 0x05,   /* PSFB FMT 15, 6 words */
    0xca, 0xfe, 0xba, 0xbe,  /* sender */
    0x00, 0x00, 0x00, 0x00,  /* media SSRC 0 */
    'R', 'E', 'M', 'B',
    0x01,                    /* one SSRC */
    0x00, 0x00, 0x00,        /* exponent and mantissa: checked below */
    0x11, 0x22, 0x33, 0x44,
  };
  g_autoptr(GBytes) one = NULL, two = NULL;
  guint64 bps = 0;
  guint32 got[4];
  guint n = 0;
  gsize size;
  const guint8 *data;

  /* 1234567 bit/s: mantissa 0x25ad3 (154323) exponent 3 = 1234584 */
  one = peercam_remb_build (0xcafebabe, 1234567, ssrcs, 1);
  data = g_bytes_get_data (one, &size);
  g_assert_cmpuint (size, ==, sizeof expected);
  g_assert_cmpmem (data, 17, expected, 17);
  g_assert_cmpuint (data[17] >> 2, ==, 3);
  g_assert_cmpuint (((data[17] & 3) << 16) | (data[18] << 8) | data[19], ==, 1234567 >> 3);
  g_assert_cmpmem (data + 20, 4, expected + 20, 4);
  g_assert_true (peercam_remb_parse (data, size, &bps, got, G_N_ELEMENTS (got), &n));
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (got[0], ==, 0x11223344);
  g_assert_cmpuint (bps, <=, 1234567);
  g_assert_cmpuint (bps, >=, 1234567 - 8);
  /* its FCI alone, as the sender's rtpsession hands it over */
  {
    guint64 fci_bps = 0;

    g_assert_true (peercam_remb_parse_fci (data + 12, size - 12, &fci_bps, got, G_N_ELEMENTS (got), &n));
    g_assert_cmpuint (fci_bps, ==, bps);
    g_assert_cmpuint (n, ==, 1);
    g_assert_cmpuint (got[0], ==, 0x11223344);
    g_assert_false (peercam_remb_parse_fci (data + 12, 7, &fci_bps, NULL, 0, NULL));
    g_assert_false (peercam_remb_parse_fci (data + 8, size - 8, &fci_bps, NULL, 0, NULL));
    g_assert_false (peercam_remb_parse_fci (NULL, 0, &fci_bps, NULL, 0, NULL));
  }

  two = peercam_remb_build (1, 300000, ssrcs, 2);
  data = g_bytes_get_data (two, &size);
  g_assert_cmpuint (size, ==, 28);
  g_assert_true (peercam_remb_parse (data, size, &bps, got, G_N_ELEMENTS (got), &n));
  g_assert_cmpuint (bps, ==, 300000);  /* fits 18 bits after one halving */
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpuint (got[1], ==, 0xdeadbeef);

  /* bad input: short, not REMB, an SSRC count past the end */
  g_assert_false (peercam_remb_parse (NULL, 0, &bps, NULL, 0, NULL));
  g_assert_false (peercam_remb_parse (data, 19, &bps, NULL, 0, NULL));
  {
    guint8 copy[28];

    memcpy (copy, data, sizeof copy);
    copy[12] = 'X';
    g_assert_false (peercam_remb_parse (copy, sizeof copy, &bps, NULL, 0, NULL));
    memcpy (copy, data, sizeof copy);
    copy[16] = 3;
    g_assert_false (peercam_remb_parse (copy, sizeof copy, &bps, NULL, 0, NULL));
    memcpy (copy, data, sizeof copy);
    copy[3] = 9;  /* longer than the buffer */
    g_assert_false (peercam_remb_parse (copy, sizeof copy, &bps, NULL, 0, NULL));
  }
}

static void
test_bad_input (void)
{
  g_autoptr(PeercamRemoteBwe) remote = peercam_remote_bwe_new (NULL);

  /* clock rate 0, repeated and far-jumping sequence numbers, timestamps
   * going backwards: no crash, and no estimate from nonsense */
  peercam_remote_bwe_on_rtp_timestamp (remote, 1, 1000, 0, 1200, 1100, 0);
  for (guint i = 0; i < 100; i++)
    {
      peercam_remote_bwe_on_abs_send_time (remote, (guint16) (i * 7919), 0xffffff - i * 1000, 1200, 1100, i * 1000);
      peercam_remote_bwe_on_abs_send_time (remote, (guint16) (i * 7919), 0, 0, 5000, i * 1000);
    }
  g_assert_cmpuint (peercam_remote_bwe_get_estimate (remote), ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/remote-bwe/clean-climbs", test_clean);
  g_test_add_func ("/remote-bwe/cap-350k", test_cap_350k);
  g_test_add_func ("/remote-bwe/cap-1mbit", test_cap_1mbit);
  g_test_add_func ("/remote-bwe/cap-rtp-timestamps", test_cap_rtp_timestamps);
  g_test_add_func ("/remote-bwe/loss-cuts", test_loss);
  g_test_add_func ("/remote-bwe/random-loss-jitter", test_random_loss_jitter);
  g_test_add_func ("/remote-bwe/stall-holds", test_stall);
  g_test_add_func ("/remote-bwe/abs-send-time-wrap", test_abs_send_time_wrap);
  g_test_add_func ("/remote-bwe/remb-rhythm", test_rhythm);
  g_test_add_func ("/remote-bwe/remb-packet", test_remb_packet);
  g_test_add_func ("/remote-bwe/bad-input", test_bad_input);
  return g_test_run ();
}
