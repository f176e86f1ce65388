/* peercam-screencast-portal.h — the screen or a window through the XDG
 * ScreenCast portal (libportal's GIO API, no GTK), as a GstDevice the local
 * media opens like a camera
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define PEERCAM_SCREENCAST_PORTAL_ERROR (peercam_screencast_portal_error_quark ())
typedef enum {
  PEERCAM_SCREENCAST_PORTAL_ERROR_UNAVAILABLE,  /* no ScreenCast portal on this desktop */
  PEERCAM_SCREENCAST_PORTAL_ERROR_CANCELLED,    /* the user closed the dialog */
  PEERCAM_SCREENCAST_PORTAL_ERROR_FAILED,       /* the portal answered with an error */
} PeercamScreencastPortalError;

GQuark peercam_screencast_portal_error_quark (void);

#define PEERCAM_TYPE_SCREENCAST_PORTAL (peercam_screencast_portal_get_type ())
G_DECLARE_FINAL_TYPE (PeercamScreencastPortal, peercam_screencast_portal, PEERCAM, SCREENCAST_PORTAL, GObject)

/* Signals (emitted on the main context the portal was used from):
 *   void (*closed) (PeercamScreencastPortal *self, GstDevice *device, gpointer user_data);
 *          the desktop ended the session (the user stopped sharing from
 *          the shell): @device, once returned by start_finish(), is gone.
 */

PeercamScreencastPortal *peercam_screencast_portal_new          (void);

/* Whether a ScreenCast portal runs (inside Flatpak: always). Probed once,
 * blocking for at most a few seconds, then cached. */
gboolean                 peercam_screencast_portal_is_available (PeercamScreencastPortal *self);

/* Asks the user for a screen or a window (CreateSession, SelectSources,
 * Start) and opens the PipeWire remote. Any earlier session is closed. */
void                     peercam_screencast_portal_start_async  (PeercamScreencastPortal *self,
                                                                 GCancellable            *cancellable,
                                                                 GAsyncReadyCallback      callback,
                                                                 gpointer                 user_data);
/* Returns: (transfer full): a device whose element is
 * `pipewiresrc fd=… path=<node>` (the fd stays valid as long as the device),
 * display name "Screen"; NULL with @error set. */
GstDevice               *peercam_screencast_portal_start_finish (PeercamScreencastPortal *self,
                                                                 GAsyncResult            *result,
                                                                 GError                 **error);
/* Ends the session, if any (the device stops delivering frames). */
void                     peercam_screencast_portal_close        (PeercamScreencastPortal *self);

/* The PipeWire node of @device (a device made by start_finish()), or 0. */
guint32                  peercam_screencast_device_get_node     (GstDevice               *device);

G_END_DECLS
