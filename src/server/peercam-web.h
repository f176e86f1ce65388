/* peercam-web.h — the browser pages the embedded server serves
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   /        landing page: "Watch" (/userB) or "Send my camera" (/userA)
 *   /userA   caller: Get Local Video, Call, Hang Up
 *   /userB   viewer: answers a call, shows the remote video
 *
 * plus their scripts and style sheet, from the bundle under
 * PEERCAM_WEB_RESOURCE_PATH. Every other path is 404, except what more
 * specific handlers (the server's /socket.io/) take.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define PEERCAM_WEB_RESOURCE_PATH "/io/github/peercam/Peercam/web"

void peercam_web_install (SoupServer *server);

G_END_DECLS
