/* peercam-camera-portal.h — camera access through the XDG camera portal
 * (libportal's GIO API, no GTK), and camera listing that follows it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define PEERCAM_CAMERA_PORTAL_ERROR (peercam_camera_portal_error_quark ())
typedef enum {
  PEERCAM_CAMERA_PORTAL_ERROR_DENIED,       /* "Camera access was denied": offer "Retry" */
  PEERCAM_CAMERA_PORTAL_ERROR_UNAVAILABLE,  /* no camera portal: use the cameras directly */
  PEERCAM_CAMERA_PORTAL_ERROR_FAILED,       /* the portal answered with an error */
} PeercamCameraPortalError;

GQuark peercam_camera_portal_error_quark (void);

#define PEERCAM_TYPE_CAMERA_PORTAL (peercam_camera_portal_get_type ())
G_DECLARE_FINAL_TYPE (PeercamCameraPortal, peercam_camera_portal, PEERCAM, CAMERA_PORTAL, GObject)

/* Properties (read-only, notified on change):
 *   "granted"        gboolean  the last access request was granted
 *   "pipewire-fd"    int       the portal's PipeWire remote, -1 until opened;
 *                              owned by the portal object, valid until it is
 *                              finalized (pipewiresrc/the device provider dup it)
 */

PeercamCameraPortal *peercam_camera_portal_new                 (void);

gboolean             peercam_camera_portal_is_available        (PeercamCameraPortal  *self);

void                 peercam_camera_portal_access_async        (PeercamCameraPortal  *self,
                                                                GCancellable         *cancellable,
                                                                GAsyncReadyCallback   callback,
                                                                gpointer              user_data);
gboolean             peercam_camera_portal_access_finish       (PeercamCameraPortal  *self,
                                                                GAsyncResult         *result,
                                                                GError              **error);
gboolean             peercam_camera_portal_get_granted         (PeercamCameraPortal  *self);

int                  peercam_camera_portal_open_pipewire_remote (PeercamCameraPortal *self,
                                                                 GError             **error);
int                  peercam_camera_portal_get_pipewire_fd     (PeercamCameraPortal  *self);

GList               *peercam_camera_portal_list_cameras        (PeercamCameraPortal  *self);

G_END_DECLS
