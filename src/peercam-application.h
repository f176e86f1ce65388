/* peercam-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "peercam-options.h"

G_BEGIN_DECLS

#define PEERCAM_TYPE_APPLICATION (peercam_application_get_type ())

G_DECLARE_FINAL_TYPE (PeercamApplication, peercam_application, PEERCAM, APPLICATION, AdwApplication)

PeercamApplication *peercam_application_new              (void);
GtkWindow          *peercam_application_new_caller_window (PeercamApplication *self);
GtkWindow          *peercam_application_new_viewer_window (PeercamApplication *self);
const PeercamOptions *peercam_application_get_options    (PeercamApplication *self);

G_END_DECLS
