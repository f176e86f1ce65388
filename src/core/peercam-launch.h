/* peercam-launch.h — the command line (and invite links) as the
 * application sees them: core API over the protocol layer's options
 *
 * The command line is parsed and validated once (peercam-options, shared
 * with --headless); the application reads what it asked for here and hands
 * the rest on (a session's ICE/STUN/TURN/video size/audio, a host's port,
 * token, origins and certificate) without seeing the options struct.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "peercam-host.h"
#include "peercam-session.h"

G_BEGIN_DECLS

#define PEERCAM_TYPE_LAUNCH (peercam_launch_get_type ())
G_DECLARE_FINAL_TYPE (PeercamLaunch, peercam_launch, PEERCAM, LAUNCH, GObject)

/* Read-only properties, as given (NULL/FALSE/-1/0: not given): "viewer",
 * "server", "room", "token", "pin", "source", "call", "host", "tls",
 * "port", "max-viewers". */

const GOptionEntry *peercam_launch_get_entries       (void);
/* Nothing given. */
PeercamLaunch      *peercam_launch_new               (void);
/* The options GApplication parsed with peercam_launch_get_entries(). */
PeercamLaunch      *peercam_launch_new_from_dict     (GVariantDict   *dict,
                                                      GError        **error);
gboolean            peercam_launch_get_viewer        (PeercamLaunch  *self);
const char         *peercam_launch_get_server        (PeercamLaunch  *self);
const char         *peercam_launch_get_room          (PeercamLaunch  *self);
const char         *peercam_launch_get_token         (PeercamLaunch  *self);
const char         *peercam_launch_get_pin           (PeercamLaunch  *self);
const char         *peercam_launch_get_source        (PeercamLaunch  *self);
gboolean            peercam_launch_get_call          (PeercamLaunch  *self);
gboolean            peercam_launch_get_host          (PeercamLaunch  *self);
gboolean            peercam_launch_get_tls           (PeercamLaunch  *self);
int                 peercam_launch_get_port          (PeercamLaunch  *self);
int                 peercam_launch_get_max_viewers   (PeercamLaunch  *self);
/* The join and --call are for the first window only. */
void                peercam_launch_forget_join       (PeercamLaunch  *self);

/* What the command line sets for every call (ICE addresses, STUN/TURN,
 * --video-size, --audio) onto @session; unset options change nothing. */
void                peercam_launch_configure_session (PeercamLaunch  *self,
                                                      PeercamSession *session);
/* A host with the command line's port, bind address, token, allowed
 * origins, TLS, new certificate and viewers per room. */
PeercamHost        *peercam_launch_new_host          (PeercamLaunch  *self);

/* An invite link (or a bare server address): its parts, NULL where the
 * link names none. */
gboolean            peercam_launch_parse_invite      (const char     *link,
                                                      char          **server_url,
                                                      char          **room,
                                                      char          **token,
                                                      char          **pin,
                                                      GError        **error);
/* A server address a room can be joined at (http/https/ws/wss). */
gboolean            peercam_launch_validate_url      (const char     *url,
                                                      GError        **error);

G_END_DECLS
