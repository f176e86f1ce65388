/* peercam-fake-camera.h — a fake GStreamer device provider for the tests:
 * "cameras" that are videotestsrc inside, plugged and unplugged at will
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Registered once per process (rank PRIMARY, class "Video/Source"). */
#define PEERCAM_FAKE_CAMERA_PROVIDER "peercamtestdeviceprovider"

void       peercam_fake_camera_register (void);
/* Plugs a camera in: its device path is "/peercam-test/<name>". Returns the
 * device (transfer none: owned by the provider while plugged). */
GstDevice *peercam_fake_camera_add      (const char *name);
void       peercam_fake_camera_remove   (GstDevice  *device);
void       peercam_fake_camera_remove_all (void);

G_END_DECLS
