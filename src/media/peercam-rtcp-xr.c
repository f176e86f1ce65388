/* peercam-rtcp-xr.c — receiver RTT through RTCP XR (see the header)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-rtcp-xr.h"

#include <string.h>

#define RTCP_SR        200
#define RTCP_XR        207
#define XR_BLOCK_RRTR  4
#define XR_BLOCK_DLRR  5
/* A viewer is one receiver; a few SSRCs are plenty. */
#define MAX_PENDING    8

typedef struct {
  guint32 ssrc;      /* who sent the RRTR */
  guint32 lrr;       /* the middle 32 bits of its NTP timestamp */
  gint64  received_us;
} Rrtr;

struct _PeercamRrtrResponder {
  Rrtr    pending[MAX_PENDING];
  guint   n_pending;
  guint64 answered;
};

PeercamRrtrResponder *
peercam_rrtr_responder_new (void)
{
  return g_new0 (PeercamRrtrResponder, 1);
}

void
peercam_rrtr_responder_free (PeercamRrtrResponder *self)
{
  g_free (self);
}

static guint32
read32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static void
write32 (guint8  *p,
         guint32  v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static void
remember (PeercamRrtrResponder *self,
          guint32               ssrc,
          guint32               lrr,
          gint64                now_us)
{
  guint i;

  for (i = 0; i < self->n_pending && self->pending[i].ssrc != ssrc; i++)
    ;
  if (i == self->n_pending)
    {
      if (self->n_pending == MAX_PENDING)
        {
          /* the oldest goes */
          memmove (&self->pending[0], &self->pending[1], (MAX_PENDING - 1) * sizeof (Rrtr));
          i = MAX_PENDING - 1;
        }
      else
        self->n_pending++;
    }
  self->pending[i] = (Rrtr) { ssrc, lrr, now_us };
}

guint
peercam_rrtr_responder_on_rtcp (PeercamRrtrResponder *self,
                                const guint8         *data,
                                gsize                 size,
                                gint64                now_us)
{
  guint found = 0;
  gsize offset = 0;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (data != NULL || size == 0, 0);

  /* each packet: V=2, P, count | PT | length in 32-bit words minus one */
  while (offset + 4 <= size)
    {
      const guint8 *p = data + offset;
      gsize len = ((gsize) ((p[2] << 8) | p[3]) + 1) * 4;

      if ((p[0] >> 6) != 2 || len > size - offset)
        break;
      if (p[1] == RTCP_XR && len >= 8)
        {
          guint32 ssrc = read32 (p + 4);
          gsize block = 8;

          /* report blocks: BT | type-specific | length in words (after this header) */
          while (block + 4 <= len)
            {
              const guint8 *b = p + block;
              gsize block_len = ((gsize) ((b[2] << 8) | b[3]) + 1) * 4;

              if (block_len > len - block)
                break;
              if (b[0] == XR_BLOCK_RRTR && block_len == 12)
                {
                  /* NTP seconds (b+4) and fraction (b+8): their middle 32 bits */
                  guint32 lrr = (read32 (b + 4) << 16) | (read32 (b + 8) >> 16);

                  remember (self, ssrc, lrr, now_us);
                  found++;
                }
              block += block_len;
            }
        }
      offset += len;
    }
  return found;
}

guint
peercam_rrtr_responder_get_pending (PeercamRrtrResponder *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_pending;
}

GBytes *
peercam_rrtr_responder_take_dlrr (PeercamRrtrResponder *self,
                                  guint32               sender_ssrc,
                                  gint64                now_us)
{
  guint8 *packet;
  gsize size;

  g_return_val_if_fail (self != NULL, NULL);
  if (self->n_pending == 0)
    return NULL;

  /* XR header (8) + DLRR block header (4) + 12 per sub-block */
  size = 12 + 12 * self->n_pending;
  packet = g_malloc0 (size);
  packet[0] = 2 << 6;
  packet[1] = RTCP_XR;
  packet[2] = (size / 4 - 1) >> 8;
  packet[3] = (size / 4 - 1) & 0xff;
  write32 (packet + 4, sender_ssrc);
  packet[8] = XR_BLOCK_DLRR;
  packet[10] = (3 * self->n_pending) >> 8;
  packet[11] = (3 * self->n_pending) & 0xff;
  for (guint i = 0; i < self->n_pending; i++)
    {
      const Rrtr *r = &self->pending[i];
      guint8 *sub = packet + 12 + 12 * i;
      /* DLRR: how long we held it, in 1/65536 s */
      guint64 delay = (guint64) MAX (0, now_us - r->received_us) * 65536 / G_USEC_PER_SEC;

      write32 (sub, r->ssrc);
      write32 (sub + 4, r->lrr);
      write32 (sub + 8, (guint32) MIN (delay, G_MAXUINT32));
    }
  self->answered += self->n_pending;
  self->n_pending = 0;
  return g_bytes_new_take (packet, size);
}

guint64
peercam_rrtr_responder_get_answered (PeercamRrtrResponder *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->answered;
}

gboolean
peercam_rtcp_sender_report_ssrc (const guint8 *data,
                                 gsize         size,
                                 guint32      *ssrc)
{
  g_return_val_if_fail (ssrc != NULL, FALSE);
  /* header and sender SSRC, then the 20-byte sender info */
  if (data == NULL || size < 28 || (data[0] >> 6) != 2 || data[1] != RTCP_SR)
    return FALSE;
  *ssrc = read32 (data + 4);
  return TRUE;
}
