/* peercam-test-wait.h — waiting on the default main context in non-GUI tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

static inline gboolean
peercam_test_tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the default context until @cond holds or @ms pass; evaluates to
 * the final value of @cond. The ticker bounds each blocking iteration. */
#define WAIT_UNTIL(cond, ms)                                                  \
  ({                                                                          \
    gint64 _deadline = g_get_monotonic_time () + (gint64) (ms) * 1000;        \
    guint _ticker = g_timeout_add (10, peercam_test_tick, NULL);              \
    while (!(cond) && g_get_monotonic_time () < _deadline)                    \
      g_main_context_iteration (NULL, TRUE);                                  \
    g_source_remove (_ticker);                                                \
    (cond);                                                                   \
  })
