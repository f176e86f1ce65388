/* peercam-host-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "peercam-application.h"

G_BEGIN_DECLS

#define PEERCAM_TYPE_HOST_WINDOW (peercam_host_window_get_type ())

G_DECLARE_FINAL_TYPE (PeercamHostWindow, peercam_host_window, PEERCAM, HOST_WINDOW, AdwWindow)

PeercamHostWindow *peercam_host_window_new (PeercamApplication *application);

G_END_DECLS
