/* peercam-host-private.h — the host's parts in the layers below, for core
 * code (headless mode, the launch options) and tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "peercam-host.h"
#include "peercam-options.h"
#include "peercam-signaling-server.h"

G_BEGIN_DECLS

PeercamHost            *peercam_host_new_for_options     (const PeercamOptions *options);
/* The running server (its client-joined/-left signals), or NULL. */
PeercamSignalingServer *peercam_host_get_server          (PeercamHost          *self);

G_END_DECLS
