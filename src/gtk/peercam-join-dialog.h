/* peercam-join-dialog.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define PEERCAM_TYPE_JOIN_DIALOG (peercam_join_dialog_get_type ())

G_DECLARE_FINAL_TYPE (PeercamJoinDialog, peercam_join_dialog, PEERCAM, JOIN_DIALOG, AdwMessageDialog)

/* Signals:
 *   void (*join) (PeercamJoinDialog *self, const char *server_url, const char *room,
 *                 const char *token, const char *pin, gpointer user_data);
 *        pin: the certificate fingerprint an invite link carried, or NULL
 */
PeercamJoinDialog *peercam_join_dialog_new (GtkWindow *parent,
                                            GSettings *settings);
void               peercam_join_dialog_set_link (PeercamJoinDialog *self,
                                                 const char        *link);

G_END_DECLS
