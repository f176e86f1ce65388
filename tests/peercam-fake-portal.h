/* peercam-fake-portal.h — a fake XDG desktop portal for the tests: the
 * org.freedesktop.portal.Camera interface (AccessCamera, OpenPipeWireRemote,
 * IsCameraPresent) and org.freedesktop.portal.ScreenCast, owned as
 * org.freedesktop.portal.Desktop on a private bus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Request::Response codes the fake answers AccessCamera with. */
#define PEERCAM_FAKE_PORTAL_GRANT      0   /* the user allowed the camera */
#define PEERCAM_FAKE_PORTAL_DENY       1   /* the user said no */
#define PEERCAM_FAKE_PORTAL_DENY_OTHER 2   /* refused otherwise (stored permission) */

/* Serves the portal from a thread of its own, on its own connection to
 * @bus_address (libportal makes blocking calls, which a service on the
 * caller's main context could never answer). Returns once the name is owned;
 * a second call does nothing. */
void       peercam_fake_portal_start            (const char *bus_address);
void       peercam_fake_portal_stop             (void);
gboolean   peercam_fake_portal_is_running       (void);

void       peercam_fake_portal_set_response     (int         response);
int        peercam_fake_portal_get_access_calls (void);
int        peercam_fake_portal_get_open_calls   (void);
/* The Request object path of the last AccessCamera call, or NULL. */
char      *peercam_fake_portal_dup_last_handle  (void);

/* org.freedesktop.portal.ScreenCast (CreateSession, SelectSources, Start,
 * OpenPipeWireRemote): SelectSources and Start answer with these Response
 * codes (0 by default: the user picked a screen); Start hands out one
 * stream, PipeWire node peercam_fake_portal_get_screencast_node(), and
 * OpenPipeWireRemote a socket nobody serves. */
void       peercam_fake_portal_set_screencast_responses (int select_response,
                                                         int start_response);
/* 0: Start hands out one stream; 1: no "streams" at all; 2: "streams" of
 * the wrong type. */
void       peercam_fake_portal_set_screencast_streams   (int         kind);
/* TRUE: OpenPipeWireRemote hands out a socket whose peer stays open and
 * silent (a PipeWire daemon that hangs) instead of one that hangs up.
 * FALSE again closes the silent peers handed out so far. */
void       peercam_fake_portal_set_screencast_silent    (gboolean    silent);
int        peercam_fake_portal_get_screencast_calls     (const char *method);
guint32    peercam_fake_portal_get_screencast_types     (void);
guint32    peercam_fake_portal_get_screencast_node      (void);

G_END_DECLS
