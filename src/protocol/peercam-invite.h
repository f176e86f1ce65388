/* peercam-invite.h — one link that carries everything needed to join a room
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* http://192.168.1.20:8080/?room=kitchen#token=SECRET&pin=AB:CD:…
 *
 * The server's address and room are what a browser needs to open the page
 * (the pages read ?room= and, from the fragment, the token). The token and
 * the certificate's SHA-256 pin ride in the fragment, which a browser never
 * sends, so they reach no server log. peercam:// is the same link for the
 * desktop's URI handler: https when it carries a pin (or tls=1), else http.
 */
typedef struct {
  char *server_url;   /* scheme://host[:port], no path */
  char *room;         /* NULL: the link names none */
  char *token;        /* NULL: none */
  char *pin;          /* NULL: none; AB:CD:… as the host shows it */
} PeercamInvite;

PeercamInvite *peercam_invite_new        (const char           *server_url,
                                          const char           *room,
                                          const char           *token,
                                          const char           *pin);
PeercamInvite *peercam_invite_parse      (const char           *text,
                                          GError              **error);
char          *peercam_invite_to_string  (const PeercamInvite  *invite);
void           peercam_invite_free       (PeercamInvite        *invite);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamInvite, peercam_invite_free)

G_END_DECLS
