/* peercam-test-glitch.h — did a viewer that stays lose anything while
 * another left or joined (issue 15)? Across a window: every frame the
 * caller sent it was shown (less the few in flight at either end), no RTP
 * packet was lost for good, its decoder failed on no frame, and it never
 * waited long for a frame. Read from the viewer session's typed stats and
 * frame counters and the caller engine's frames for that viewer: the
 * tests keep every session in their own process.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <string.h>

#include "peercam-session-private.h"
#include "peercam-test-wait.h"

typedef struct {
  PeercamSession *session;      /* the viewer */
  gulong          handler;
  guint           n_stats;
  gint64          stats_us;     /* when the last stats came */
  double          lost;         /* the last stats' packets lost */
  double          undecoded;    /* and frames undecoded */
  double          max_gap_ms;   /* the longest in the stats since the window began */
  /* the window */
  guint64         shown0, sent0;
  double          lost0, undecoded0;
  gint64          end_us;
  gint64          shown, sent, new_lost, new_undecoded;
} PeercamTestGlitch;

static inline void
peercam_test_glitch_on_stats (PeercamSession   *session,
                              const char       *viewer,
                              PeercamCallStats *stats,
                              gpointer          data)
{
  PeercamTestGlitch *g = data;
  double gap = 0;

  g_assert_true (peercam_call_stats_lookup (stats, PEERCAM_STAT_PACKETS_LOST, &g->lost));
  g_assert_true (peercam_call_stats_lookup (stats, PEERCAM_STAT_FRAMES_UNDECODED, &g->undecoded));
  g_assert_true (peercam_call_stats_lookup (stats, PEERCAM_STAT_MAX_GAP_MS, &gap));
  g->max_gap_ms = MAX (g->max_gap_ms, gap);
  g->stats_us = g_get_monotonic_time ();
  g->n_stats++;
}

/* From now on @g follows @viewer's stats (every 2 s in a call). */
static inline void
peercam_test_glitch_watch (PeercamTestGlitch *g,
                           PeercamSession    *viewer)
{
  memset (g, 0, sizeof *g);
  g->session = viewer;
  g->handler = g_signal_connect (viewer, "stats", G_CALLBACK (peercam_test_glitch_on_stats), g);
}

static inline void
peercam_test_glitch_unwatch (PeercamTestGlitch *g)
{
  if (g->session && g->handler)
    g_signal_handler_disconnect (g->session, g->handler);
  g->session = NULL;
  g->handler = 0;
}

static inline guint64
peercam_test_glitch_sent (PeercamTestGlitch *g,
                          PeercamCallEngine *caller)
{
  const char *id = peercam_signaling_client_get_id (peercam_session_get_client (g->session));

  return peercam_call_engine_get_viewer_frames (caller, id);
}

/* The window begins. Its baseline of losses is the last stats before it
 * (up to 2.5 s old: a loss just before the window counts against it). */
static inline void
peercam_test_glitch_begin (PeercamTestGlitch *g,
                           PeercamCallEngine *caller)
{
  g_assert_cmpuint (g->n_stats, >, 0);
  g->shown0 = peercam_call_engine_get_remote_frames (peercam_session_get_engine (g->session));
  g->sent0 = peercam_test_glitch_sent (g, caller);
  g->lost0 = g->lost;
  g->undecoded0 = g->undecoded;
  g->max_gap_ms = 0;
}

/* The window ends: frames are counted now; losses once a stats report has
 * come from past the congestion controller's next tick (500 ms). */
static inline void
peercam_test_glitch_end (PeercamTestGlitch *g,
                         PeercamCallEngine *caller)
{
  g->end_us = g_get_monotonic_time ();
  g->shown = (gint64) (peercam_call_engine_get_remote_frames (peercam_session_get_engine (g->session)) - g->shown0);
  g->sent = (gint64) (peercam_test_glitch_sent (g, caller) - g->sent0);
}

static inline gboolean
peercam_test_glitch_reported (PeercamTestGlitch *g)
{
  return g->stats_us >= g->end_us + 600 * 1000;
}

/* Waits for the report after the window of each of @n, then holds each to
 * the window: no new loss, no undecoded frame, no wait of @freeze_ms or
 * more, and every frame sent shown but @in_flight. */
static inline void
peercam_test_glitch_check (PeercamTestGlitch *glitches,
                           guint              n,
                           guint              in_flight,
                           guint              freeze_ms)
{
  for (guint i = 0; i < n; i++)
    {
      PeercamTestGlitch *g = &glitches[i];

      g_assert_true (WAIT_UNTIL (peercam_test_glitch_reported (g), 5000));
      g->new_lost = (gint64) (g->lost - g->lost0);
      g->new_undecoded = (gint64) (g->undecoded - g->undecoded0);
      g_test_message ("staying viewer %u: %" G_GINT64_FORMAT " frames shown of %" G_GINT64_FORMAT " sent, "
                      "%" G_GINT64_FORMAT " packets lost, %" G_GINT64_FORMAT " frames undecoded, "
                      "longest wait %.0f ms (its stats)",
                      i, g->shown, g->sent, g->new_lost, g->new_undecoded, g->max_gap_ms);
    }
  for (guint i = 0; i < n; i++)
    {
      PeercamTestGlitch *g = &glitches[i];

      g_assert_cmpint (g->sent, >, 0);
      g_assert_cmpint (g->new_lost, ==, 0);
      g_assert_cmpint (g->new_undecoded, ==, 0);
      g_assert_cmpint (g->shown + (gint64) in_flight, >=, g->sent);
      g_assert_cmpint (g->shown, <=, g->sent + (gint64) in_flight);
      g_assert_cmpfloat (g->max_gap_ms, >, 0);
      g_assert_cmpfloat (g->max_gap_ms, <, freeze_ms);
    }
}
