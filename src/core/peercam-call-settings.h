/* peercam-call-settings.h — the command line and the preferences (GSettings)
 * mapped onto a call engine, in one place for the windows and --headless
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "peercam-call-engine.h"
#include "peercam-options.h"

G_BEGIN_DECLS

/* What the command line sets for every call: ICE addresses, STUN/TURN, the
 * video size (--video-size) and, with --audio, sound both ways. Options it leaves unset change nothing. */
void peercam_call_settings_apply_options (PeercamCallEngine    *engine,
                                          const PeercamOptions *options);

/* The preferences: codec, resolution, frame rate, jitter buffer, STUN/TURN,
 * audio. Applied now, then each key again when it changes (a call in
 * progress keeps what it started with; the next one uses the change), so
 * a command-line override lasts until that preference itself changes. */
void peercam_call_settings_follow        (PeercamCallEngine    *engine,
                                          GSettings            *settings);

G_END_DECLS
