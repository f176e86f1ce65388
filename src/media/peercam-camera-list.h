/* peercam-camera-list.h — the cameras Peercam can open, live (hot-plug), as a
 * GListModel of PeercamCamera (no GTK)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define PEERCAM_TYPE_CAMERA (peercam_camera_get_type ())
G_DECLARE_FINAL_TYPE (PeercamCamera, peercam_camera, PEERCAM, CAMERA, GObject)

/* Properties (construct-only):
 *   "name"      char*      what the user sees
 *   "id"        char*      what the call engine's "source" takes: a device path
 *                          or another stable id of the device ("test" and
 *                          "camera" for the pseudo entries a UI adds itself)
 *   "provider"  char*      "v4l2", "pipewire", … (NULL for pseudo entries)
 *   "device"    GstDevice  the device (NULL for pseudo entries)
 */
PeercamCamera *peercam_camera_new             (const char    *name,
                                               const char    *id,
                                               const char    *provider,
                                               GstDevice     *device);
PeercamCamera *peercam_camera_new_for_device  (GstDevice     *device);
const char    *peercam_camera_get_name        (PeercamCamera *self);
const char    *peercam_camera_get_id          (PeercamCamera *self);
const char    *peercam_camera_get_provider    (PeercamCamera *self);
GstDevice     *peercam_camera_get_device      (PeercamCamera *self);

#define PEERCAM_TYPE_CAMERA_LIST (peercam_camera_list_get_type ())
G_DECLARE_FINAL_TYPE (PeercamCameraList, peercam_camera_list, PEERCAM, CAMERA_LIST, GObject)

/* Properties (read-only, notified on change):
 *   "loading"      gboolean  the device monitor is (re)starting
 *   "pipewire-fd"  int       the portal's PipeWire remote being listed, or -1
 * Signals (on the main context the list was created on):
 *   void (*camera_removed) (PeercamCameraList *self, PeercamCamera *camera, gpointer user_data);
 *          emitted just before @camera leaves the list (items-changed follows)
 */

PeercamCameraList *peercam_camera_list_new              (void);
gboolean           peercam_camera_list_get_loading      (PeercamCameraList *self);
int                peercam_camera_list_get_pipewire_fd  (PeercamCameraList *self);
void               peercam_camera_list_set_pipewire_fd  (PeercamCameraList *self,
                                                         int                fd);
PeercamCamera     *peercam_camera_list_find             (PeercamCameraList *self,
                                                         const char        *id);
PeercamCamera     *peercam_camera_list_find_device      (PeercamCameraList *self,
                                                         GstDevice         *device);

G_END_DECLS
