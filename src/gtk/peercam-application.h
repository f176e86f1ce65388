/* peercam-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "peercam-host.h"
#include "peercam-launch.h"

G_BEGIN_DECLS

#define PEERCAM_TYPE_APPLICATION (peercam_application_get_type ())

G_DECLARE_FINAL_TYPE (PeercamApplication, peercam_application, PEERCAM, APPLICATION, AdwApplication)

PeercamApplication *peercam_application_new              (void);
GtkWindow          *peercam_application_new_caller_window (PeercamApplication *self);
GtkWindow          *peercam_application_new_viewer_window (PeercamApplication *self);
PeercamLaunch      *peercam_application_get_launch        (PeercamApplication *self);
GSettings          *peercam_application_get_settings      (PeercamApplication *self);
PeercamHost        *peercam_application_get_host          (PeercamApplication *self);
gboolean            peercam_application_start_hosting     (PeercamApplication *self,
                                                           guint               port,
                                                           const char         *token,
                                                           gboolean            tls,
                                                           GError            **error);
void                peercam_application_stop_hosting      (PeercamApplication *self);
char               *peercam_application_dup_local_url     (PeercamApplication *self);
gboolean            peercam_application_open_invite       (PeercamApplication *self,
                                                           const char         *link,
                                                           GError            **error);
char               *peercam_application_dup_hosted_invite (PeercamApplication *self,
                                                           gboolean            local);

G_END_DECLS
