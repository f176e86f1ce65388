/* peercam-loopback-signaller.h — two signallers linked in-process, for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What one end sends, the other receives on the next main-loop iteration
 * (like a wire: never re-entrantly). Once both ends are started each sees
 * peer-joined and session-requested for the other (the end started first
 * hears first), as on a Socket.IO room. An end stopped says peer-left to the
 * other.
 */
#pragma once

#include "peercam-signaller.h"

G_BEGIN_DECLS

#define PEERCAM_TYPE_LOOPBACK_SIGNALLER (peercam_loopback_signaller_get_type ())
G_DECLARE_FINAL_TYPE (PeercamLoopbackSignaller, peercam_loopback_signaller, PEERCAM, LOOPBACK_SIGNALLER, GObject)

/* @id_a, @id_b: how each end is named to the other; NULL names nobody (the
 * relay that addresses no one). */
void        peercam_loopback_signaller_new_pair (const char                *id_a,
                                                 const char                *id_b,
                                                 PeercamLoopbackSignaller **a,
                                                 PeercamLoopbackSignaller **b);
const char *peercam_loopback_signaller_get_id   (PeercamLoopbackSignaller  *self);

G_END_DECLS
