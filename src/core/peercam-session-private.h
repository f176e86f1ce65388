/* peercam-session-private.h — the session's parts in the layers below
 *
 * For core code (headless mode) and tests that drive the media and
 * signaling layers directly. A window cannot include this header: it
 * includes media and signaling headers, which the gtk layer's build does
 * not see.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "peercam-call-engine.h"
#include "peercam-session.h"
#include "peercam-signaling-client.h"
#include "peercam-signaller.h"

G_BEGIN_DECLS

PeercamCallEngine      *peercam_session_get_engine        (PeercamSession   *self);
PeercamSignalingClient *peercam_session_get_client        (PeercamSession   *self);
gboolean                peercam_session_join_signaller    (PeercamSession   *self,
                                                           PeercamSignaller *signaller,
                                                           GError          **error);

G_END_DECLS
