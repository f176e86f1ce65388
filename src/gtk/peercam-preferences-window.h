/* peercam-preferences-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define PEERCAM_TYPE_PREFERENCES_WINDOW (peercam_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (PeercamPreferencesWindow, peercam_preferences_window, PEERCAM, PREFERENCES_WINDOW, AdwPreferencesWindow)

PeercamPreferencesWindow *peercam_preferences_window_new (GtkWindow *parent,
                                                          GSettings *settings);

G_END_DECLS
