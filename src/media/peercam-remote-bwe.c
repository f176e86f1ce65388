/* peercam-remote-bwe.c — receive-side bandwidth estimation and REMB (see the header)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-remote-bwe.h"

#include <math.h>
#include <string.h>

/* abs-send-time: 6.18 fixed-point seconds in 24 bits, wrapping every 64 s. */
#define ABS_SEND_TIME_BITS     24
#define ABS_SEND_TIME_FRACTION 18
#define REMB_INTERVAL_US       G_USEC_PER_SEC
#define REMB_DROP              0.97     /* a fall below this share goes out at once */
#define VALID_AFTER_US         G_USEC_PER_SEC
/* A jump in the sequence numbers larger than this is a restarted stream,
 * not that many lost packets. */
#define MAX_GAP                1000
#define CHUNK                  64
/* Loss while a queue stands: a drop-tail buffer kept full by a sender a few
 * per cent over the link (tbf at 350 kbit/s, aiortc at 370) loses those
 * few per cent and shows a long but steady delay: no trend for the
 * overuse detector, and loss the loss controller holds at (2-10 %). Over
 * a window of a second, 2 % loss or more while the packets waited 20 ms
 * or more above the least delay of the last 10 s is the link's end: the
 * estimate goes to 0.85 of what arrived (BETA), at most halving it. Once per queue: the next
 * cut needs the queue drained first (under half that), so random loss on
 * a jittery link costs one cut, not one a second. Afterwards it grows
 * 8 %/s, as the loss controller does. */
#define WINDOW_US              G_USEC_PER_SEC
#define QUEUE_LOSS             0.02
#define QUEUE_US               20000
#define QUEUE_WINDOWS          10
#define QUEUE_BETA             0.85
#define QUEUE_GROWTH_PER_S     1.08
#define NO_CAP                 G_MAXUINT64

struct _PeercamRemoteBwe {
  PeercamBwe *bwe;
  /* send times, unwrapped, in µs on the sender's clock */
  gboolean    have_send;
  guint32     last_raw;
  gint64      send_ticks;          /* unwrapped raw units */
  guint       clock_rate;          /* 0: abs-send-time */
  /* sequence numbers */
  gint64      highest_seq;         /* unwrapped; -1: none yet */
  double      avg_size;
  double      payload_share;       /* payload bytes / wire bytes, smoothed; 0: none yet */
  gint64      first_arrival_us;    /* -1: none yet */
  gint64      last_arrival_us;
  /* loss while a queue stands */
  gint64      window_start_us;     /* -1: none */
  guint       window_received, window_lost;
  guint64     window_bytes;
  double      window_queue_us;     /* sum over the received packets */
  gint64      window_min_offset;
  gint64      window_max_queue_us;
  gint64      min_offsets[QUEUE_WINDOWS];  /* arrival - send, per window */
  gint64      max_queues_us[QUEUE_WINDOWS];  /* the longest wait above the least, per window */
  guint       n_min_offsets, min_offset_pos;
  gboolean    queue_drained;
  guint64     queue_cap_bps;       /* NO_CAP: none */
  /* REMB rhythm */
  gint64      last_remb_us;        /* -1: none sent */
  guint64     last_remb_bps;
  guint       rembs;
};

PeercamRemoteBwe *
peercam_remote_bwe_new (const PeercamBweConfig *config)
{
  PeercamRemoteBwe *self = g_new0 (PeercamRemoteBwe, 1);

  self->bwe = peercam_bwe_new (config);
  self->highest_seq = -1;
  self->first_arrival_us = -1;
  self->last_remb_us = -1;
  self->window_start_us = -1;
  self->window_min_offset = G_MAXINT64;
  self->queue_drained = TRUE;
  self->queue_cap_bps = NO_CAP;
  return self;
}

void
peercam_remote_bwe_free (PeercamRemoteBwe *self)
{
  if (!self)
    return;
  peercam_bwe_free (self->bwe);
  g_free (self);
}

/* The unwrapped send time in µs of a @bits-wide timestamp @raw at @rate
 * units per second. A stream switching between the two kinds starts its
 * clock afresh. */
static gint64
unwrap_send_us (PeercamRemoteBwe *self,
                guint32           raw,
                guint             bits,
                guint             clock_rate,
                double            rate)
{
  if (!self->have_send || self->clock_rate != clock_rate)
    {
      self->have_send = TRUE;
      self->clock_rate = clock_rate;
      self->send_ticks = raw;
    }
  else
    {
      guint64 modulus = G_GUINT64_CONSTANT (1) << bits;
      gint64 delta = (gint64) (((guint64) raw - self->last_raw) & (modulus - 1));

      /* the nearest: half the range either way */
      if (delta >= (gint64) (modulus / 2))
        delta -= (gint64) modulus;
      self->send_ticks += delta;
    }
  self->last_raw = raw;
  return (gint64) (self->send_ticks * (G_USEC_PER_SEC / rate));
}

static gint64
base_offset (PeercamRemoteBwe *self)
{
  gint64 base = self->window_min_offset;

  for (guint i = 0; i < self->n_min_offsets; i++)
    base = MIN (base, self->min_offsets[i]);
  return base;
}

/* A new window's counts from @start_us (its delays are kept by the caller). */
static void
window_restart (PeercamRemoteBwe *self,
                gint64            start_us)
{
  self->window_start_us = start_us;
  self->window_received = self->window_lost = 0;
  self->window_bytes = 0;
  self->window_queue_us = 0;
}

static void
window_end (PeercamRemoteBwe *self,
            gint64            now_us)
{
  double duration_s = (now_us - self->window_start_us) / 1e6;
  guint total = self->window_received + self->window_lost;
  double loss = total ? (double) self->window_lost / total : 0;
  double queue_us = self->window_received ? self->window_queue_us / self->window_received : 0;
  /* What got through: over the window, or over the last 250 ms (the
   * acknowledged rate) when that is more, as it is with the queue full at
   * the window's end. */
  double rate = MAX (self->window_bytes * 8 / duration_s, (double) peercam_bwe_get_acked_bitrate (self->bwe));

  if (loss >= QUEUE_LOSS && queue_us >= QUEUE_US && self->queue_drained && total >= 10)
    {
      /* No more than halving the estimate: a window with keyframe bursts
       * into a short buffer (100 ms at 350 kbit/s holds 4 packets) and the
       * repairs after them carries less than the link can. */
      guint64 cap = (guint64) MAX (QUEUE_BETA * rate, 0.5 * peercam_remote_bwe_get_estimate (self));

      g_debug ("remote-bwe: %.1f %% loss with %.0f ms queued: %" G_GUINT64_FORMAT " kbit/s arrive, cap %" G_GUINT64_FORMAT,
               loss * 100, queue_us / 1000, (guint64) rate / 1000, cap / 1000);
      self->queue_cap_bps = MIN (self->queue_cap_bps, cap);
      self->queue_drained = FALSE;
    }
  else
    {
      if (queue_us < QUEUE_US / 2)
        self->queue_drained = TRUE;
      if (self->queue_cap_bps != NO_CAP && loss < QUEUE_LOSS)
        {
          double grown = self->queue_cap_bps * pow (QUEUE_GROWTH_PER_S, MIN (duration_s, 2.0));

          self->queue_cap_bps = grown > 2.0 * peercam_bwe_get_target_bitrate (self->bwe) ? NO_CAP : (guint64) grown;
        }
    }
  if (self->n_min_offsets < QUEUE_WINDOWS)
    self->n_min_offsets++;
  self->min_offsets[self->min_offset_pos] = self->window_min_offset;
  self->max_queues_us[self->min_offset_pos] = self->window_max_queue_us;
  self->min_offset_pos = (self->min_offset_pos + 1) % QUEUE_WINDOWS;
  self->window_max_queue_us = 0;
  self->window_min_offset = G_MAXINT64;
  window_restart (self, now_us);
}

static void
window_add (PeercamRemoteBwe *self,
            gint64            send_us,
            gsize             size,
            gint64            lost,
            gint64            arrival_us)
{
  gint64 offset = arrival_us - send_us;
  gint64 queue_us;

  /* A gap (a stalled sender): the window says nothing; start afresh. */
  if (self->window_start_us >= 0 && arrival_us - self->window_start_us > 2 * WINDOW_US)
    window_restart (self, arrival_us);
  if (self->window_start_us < 0)
    self->window_start_us = arrival_us;
  else if (arrival_us - self->window_start_us >= WINDOW_US)
    window_end (self, arrival_us);
  self->window_min_offset = MIN (self->window_min_offset, offset);
  self->window_received++;
  self->window_lost += (guint) lost;
  self->window_bytes += size;
  queue_us = offset - base_offset (self);
  self->window_queue_us += queue_us;
  self->window_max_queue_us = MAX (self->window_max_queue_us, queue_us);
}

static void
feed (PeercamRemoteBwe *self,
      guint16           seq,
      gint64            send_us,
      gsize             size,
      gsize             payload_size,
      gint64            arrival_us)
{
  PeercamBweArrival arrivals[CHUNK + 1];
  guint n = 0;
  gint64 u, lost_from = 0, lost = 0;

  if (self->highest_seq < 0)
    u = seq;
  else
    {
      gint64 delta = (gint16) (guint16) (seq - (guint16) self->highest_seq);
      u = self->highest_seq + delta;
    }
  /* Reordered or repeated: it was counted lost already (reordering on one
   * path is rare; retransmissions come on the RTX stream). */
  if (self->highest_seq >= 0 && u <= self->highest_seq)
    return;
  if (self->highest_seq >= 0 && u - self->highest_seq - 1 <= MAX_GAP)
    {
      lost_from = self->highest_seq + 1;
      lost = u - self->highest_seq - 1;
    }
  self->highest_seq = u;
  if (self->first_arrival_us < 0)
    self->first_arrival_us = arrival_us;
  self->last_arrival_us = arrival_us;
  size = MAX (size, 1);
  self->avg_size = self->avg_size > 0 ? 0.9 * self->avg_size + 0.1 * size : size;
  self->payload_share = 0.99 * (self->payload_share > 0 ? self->payload_share : 1.0) +
                        0.01 * MIN (1.0, (double) payload_size / size);
  window_add (self, send_us, size, lost, arrival_us);

  /* Lost packets: "sent" with this one (their bytes count in the send
   * rate) and reported lost, CHUNK at a time. */
  for (gint64 l = 0; l < lost; l++)
    {
      guint16 s = (guint16) (lost_from + l);

      peercam_bwe_on_packet_sent (self->bwe, s, send_us, (gsize) self->avg_size);
      arrivals[n++] = (PeercamBweArrival) { .seq = s, .received = FALSE };
      if (n == CHUNK)
        {
          peercam_bwe_on_transport_feedback (self->bwe, arrivals, n, arrival_us);
          n = 0;
        }
    }
  peercam_bwe_on_packet_sent (self->bwe, seq, send_us, size);
  arrivals[n++] = (PeercamBweArrival) { .seq = seq, .received = TRUE, .arrival_us = arrival_us };
  peercam_bwe_on_transport_feedback (self->bwe, arrivals, n, arrival_us);
}

void
peercam_remote_bwe_on_abs_send_time (PeercamRemoteBwe *self,
                                     guint16           seq,
                                     guint32           abs_send_time,
                                     gsize             size,
                                     gsize             payload_size,
                                     gint64            arrival_us)
{
  gint64 send_us;

  g_return_if_fail (self != NULL);
  send_us = unwrap_send_us (self, abs_send_time & ((1u << ABS_SEND_TIME_BITS) - 1),
                            ABS_SEND_TIME_BITS, 0, 1 << ABS_SEND_TIME_FRACTION);
  feed (self, seq, send_us, size, payload_size, arrival_us);
}

void
peercam_remote_bwe_on_rtp_timestamp (PeercamRemoteBwe *self,
                                     guint16           seq,
                                     guint32           rtp_timestamp,
                                     guint             clock_rate,
                                     gsize             size,
                                     gsize             payload_size,
                                     gint64            arrival_us)
{
  gint64 send_us;

  g_return_if_fail (self != NULL);
  if (clock_rate == 0)
    return;
  send_us = unwrap_send_us (self, rtp_timestamp, 32, clock_rate, clock_rate);
  feed (self, seq, send_us, size, payload_size, arrival_us);
}

guint64
peercam_remote_bwe_get_estimate (PeercamRemoteBwe *self)
{
  g_return_val_if_fail (self != NULL, 0);

  /* Like libwebrtc's remote estimator, nothing until the incoming rate is
   * known: the start rate is a guess, and a guess sent as REMB would set
   * the sender's encoder. */
  if (self->first_arrival_us < 0 || self->last_arrival_us - self->first_arrival_us < VALID_AFTER_US)
    return 0;
  return MIN (peercam_bwe_get_target_bitrate (self->bwe), self->queue_cap_bps);
}

double
peercam_remote_bwe_get_loss_fraction (PeercamRemoteBwe *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return peercam_bwe_get_loss_fraction (self->bwe);
}

gint64
peercam_remote_bwe_get_max_queue_us (PeercamRemoteBwe *self)
{
  gint64 queue;

  g_return_val_if_fail (self != NULL, 0);
  queue = self->window_max_queue_us;
  for (guint i = 0; i < self->n_min_offsets; i++)
    queue = MAX (queue, self->max_queues_us[i]);
  return queue;
}

gboolean
peercam_remote_bwe_poll_remb (PeercamRemoteBwe *self,
                              gint64            now_us,
                              guint64          *bps)
{
  guint64 estimate;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (bps != NULL, FALSE);

  estimate = peercam_remote_bwe_get_estimate (self);
  if (estimate == 0)
    return FALSE;
  if (self->last_remb_us >= 0 && now_us - self->last_remb_us < REMB_INTERVAL_US &&
      estimate >= self->last_remb_bps * REMB_DROP)
    return FALSE;
  self->last_remb_us = now_us;
  self->last_remb_bps = estimate;
  self->rembs++;
  *bps = (guint64) (estimate * (self->payload_share > 0 ? self->payload_share : 1.0));
  return TRUE;
}

guint
peercam_remote_bwe_get_rembs (PeercamRemoteBwe *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->rembs;
}

/* ---- the packet ----------------------------------------------------------- */

#define RTCP_PSFB 206
#define PSFB_AFB  15

GBytes *
peercam_remb_build (guint32        sender_ssrc,
                    guint64        bps,
                    const guint32 *ssrcs,
                    guint          n_ssrcs)
{
  guint8 *p;
  gsize size;
  guint exponent = 0;
  guint64 mantissa = bps;

  g_return_val_if_fail (ssrcs != NULL, NULL);
  g_return_val_if_fail (n_ssrcs >= 1 && n_ssrcs <= 255, NULL);

  while (mantissa > 0x3ffff && exponent < 63)
    {
      mantissa >>= 1;
      exponent++;
    }
  mantissa = MIN (mantissa, 0x3ffff);
  size = 20 + 4 * n_ssrcs;
  p = g_malloc0 (size);
  p[0] = 0x80 | PSFB_AFB;                  /* V=2, P=0, FMT=15 */
  p[1] = RTCP_PSFB;
  p[2] = (guint8) ((size / 4 - 1) >> 8);   /* length in words, minus one */
  p[3] = (guint8) (size / 4 - 1);
  p[4] = sender_ssrc >> 24;
  p[5] = sender_ssrc >> 16;
  p[6] = sender_ssrc >> 8;
  p[7] = sender_ssrc;
  /* media SSRC 0: the streams are in the FCI */
  memcpy (p + 12, "REMB", 4);
  p[16] = (guint8) n_ssrcs;
  p[17] = (guint8) ((exponent << 2) | (mantissa >> 16));
  p[18] = (guint8) (mantissa >> 8);
  p[19] = (guint8) mantissa;
  for (guint i = 0; i < n_ssrcs; i++)
    {
      p[20 + 4 * i] = ssrcs[i] >> 24;
      p[21 + 4 * i] = ssrcs[i] >> 16;
      p[22 + 4 * i] = ssrcs[i] >> 8;
      p[23 + 4 * i] = ssrcs[i];
    }
  return g_bytes_new_take (p, size);
}

gboolean
peercam_remb_parse (const guint8 *data,
                    gsize         size,
                    guint64      *bps,
                    guint32      *ssrcs,
                    guint         max_ssrcs,
                    guint        *n_ssrcs)
{
  gsize length;
  guint n;

  if (data == NULL || size < 20)
    return FALSE;
  if ((data[0] >> 6) != 2 || (data[0] & 0x1f) != PSFB_AFB || data[1] != RTCP_PSFB)
    return FALSE;
  length = 4 * ((gsize) ((data[2] << 8) | data[3]) + 1);
  if (length > size || length < 20)
    return FALSE;
  /* the FCI from byte 12: "REMB", the SSRC count, the bitrate, the SSRCs */
  n = data[16];
  if (20 + 4 * (gsize) n > length)
    return FALSE;
  return peercam_remb_parse_fci (data + 12, length - 12, bps, ssrcs, max_ssrcs, n_ssrcs);
}

gboolean
peercam_remb_parse_fci (const guint8 *fci,
                        gsize         size,
                        guint64      *bps,
                        guint32      *ssrcs,
                        guint         max_ssrcs,
                        guint        *n_ssrcs)
{
  guint n;

  if (fci == NULL || size < 8 || memcmp (fci, "REMB", 4) != 0)
    return FALSE;
  n = fci[4];
  if (bps)
    *bps = ((guint64) (((fci[5] & 0x03) << 16) | (fci[6] << 8) | fci[7])) << (fci[5] >> 2);
  for (guint i = 0; ssrcs && i < MIN (n, max_ssrcs) && 12 + 4 * (gsize) i <= size; i++)
    ssrcs[i] = ((guint32) fci[8 + 4 * i] << 24) | ((guint32) fci[9 + 4 * i] << 16) |
               ((guint32) fci[10 + 4 * i] << 8) | fci[11 + 4 * i];
  if (n_ssrcs)
    *n_ssrcs = n;
  return TRUE;
}
