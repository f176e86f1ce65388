/* peercam-call-stats.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "peercam-call-stats.h"

G_DEFINE_BOXED_TYPE (PeercamCallStats, peercam_call_stats, peercam_call_stats_copy, peercam_call_stats_free)

PeercamCallStats *
peercam_call_stats_copy (const PeercamCallStats *stats)
{
  return g_memdup2 (stats, sizeof *stats);
}

void
peercam_call_stats_free (PeercamCallStats *stats)
{
  g_free (stats);
}
