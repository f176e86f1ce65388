/* peercam-portal.h — what the camera and ScreenCast portals share: finding
 * the desktop portal without starting one, and reading what a Request's
 * Response meant from libportal's error
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <libportal/portal.h>

G_BEGIN_DECLS

/* What became of a portal Request. */
typedef enum {
  PEERCAM_PORTAL_ANSWER_CANCELLED,  /* the caller's own GCancellable fired */
  PEERCAM_PORTAL_ANSWER_DISMISSED,  /* Response 1: the user closed the dialog or said no */
  PEERCAM_PORTAL_ANSWER_REFUSED,    /* Response 2: ended otherwise (a stored permission) */
  PEERCAM_PORTAL_ANSWER_FAILED,     /* a D-Bus error, or any other */
} PeercamPortalAnswer;

/* The session bus, when a desktop portal is there to ask: inside Flatpak
 * always (it is D-Bus activated); outside, only when one already runs
 * (NameHasOwner rather than a call that would start a portal the desktop
 * does not run). Blocks for a bounded time. NULL otherwise. */
GDBusConnection     *peercam_portal_get_bus          (void);

/* @interface's @property on the portal, or NULL (no such interface or
 * property, or no answer within a few seconds): a dead or wedged portal
 * must not freeze the window for D-Bus's default 25 s. */
GVariant            *peercam_portal_get_property     (GDBusConnection *bus,
                                                      const char      *interface,
                                                      const char      *property);
guint32              peercam_portal_get_uint         (GDBusConnection *bus,
                                                      const char      *interface,
                                                      const char      *property);

/* Probes once (@available: -1 until then) and creates @portal once the
 * probe found one: libportal's constructor takes the session bus without
 * an error path. Returns the cached answer. */
gboolean             peercam_portal_ensure           (int             *available,
                                                      XdpPortal      **portal,
                                                      gboolean       (*probe) (gpointer data),
                                                      gpointer          data);

/* What the error of @task's Request meant: libportal turns Response 1 into
 * G_IO_ERROR_CANCELLED and 2 into G_IO_ERROR_FAILED; @task's own
 * cancellation comes as G_IO_ERROR_CANCELLED too. */
PeercamPortalAnswer  peercam_portal_answer_of        (GTask           *task,
                                                      const GError    *error);

G_END_DECLS
