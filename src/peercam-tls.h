/* peercam-tls.h — the host's self-signed certificate for HTTPS/WSS
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Loads cert.pem and key.pem from @dir (NULL: the user data dir's
 * "peercam"), creating them on first use: EC P-256, CN=Peercam, valid for a
 * year, for localhost, 127.0.0.1, ::1 and this machine's LAN addresses.
 * The directory is 0700 and the key 0600. An expired or unreadable pair is
 * replaced. */
GTlsCertificate *peercam_tls_load_or_create_certificate (const char       *dir,
                                                         GError          **error);

/* SHA-256 of the DER certificate as upper-case hex pairs joined by colons
 * ("AB:CD:…"), the form `--pin` and browsers show. */
char            *peercam_tls_fingerprint_sha256         (GTlsCertificate  *certificate);

G_END_DECLS
