/* peercam-call-stats.h — one call's statistics, typed: what the call
 * engine reports every second (its peer connection, its sender and
 * congestion control), for the session's windows and the headless edge
 * (which alone turns them into JSON)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

struct _PeercamCallStats
{
  /* Every call */
  double   fps;                /* frames shown (viewer) or sent (caller) per second */
  double   kbps;               /* RTP bytes both ways, kbit/s */
  int      width;              /* the video's size */
  int      height;
  double   rtt_ms;             /* round trip from receiver reports; -1: unknown */

  /* A caller's sender under congestion control (has_send) */
  gboolean has_send;
  gint64   estimate_kbps;      /* the estimator's target */
  int      send_width;         /* what the encoder sends now */
  int      send_height;
  double   send_fps;
  double   send_kbps;
  double   send_loss_pct;      /* loss the viewer reports */
  gint64   send_retransmissions;
  gint64   nacks_refused;
  gint64   keyframe_requests;
  gint64   frames_dropped;     /* not encoded: the pacer's queue was long */
  guint    probes;             /* probe clusters sent */
  gint64   probe_kbps;         /* the last probe's delivered rate */
  gint64   probe_bytes;        /* padding sent for probes */

  /* A viewer's receive side (has_receive) */
  gboolean has_receive;
  double   loss_pct;
  double   jitter_ms;
  gint64   latency_ms;         /* the jitter buffer */
  gint64   retransmissions;    /* asked for */
  double   playout_ms;         /* frames held for a late retransmission; -1: not a viewer */

  /* Glitches (issue 15): what a viewer lost, for checks across a change */
  gint64   frames;             /* since the call began: shown (viewer) or into the encoder (caller) */
  double   max_gap_ms;         /* the longest wait between two shown frames since the previous
                                * report, or the one still open; -1: not a viewer */
  gint64   packets_lost;       /* (has_receive) RTP packets lost for good, since the call began */
  gint64   frames_undecoded;   /* (viewer) frames the decoder took in and gave nothing for */
};

typedef struct _PeercamCallStats PeercamCallStats;

#define PEERCAM_TYPE_CALL_STATS (peercam_call_stats_get_type ())
GType             peercam_call_stats_get_type (void);
PeercamCallStats *peercam_call_stats_copy     (const PeercamCallStats *stats);
void              peercam_call_stats_free     (PeercamCallStats       *stats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamCallStats, peercam_call_stats_free)

G_END_DECLS
