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
typedef enum {
  PEERCAM_TLS_FLAGS_NONE            = 0,
  PEERCAM_TLS_FLAGS_NEW_CERTIFICATE = 1 << 0,  /* replace whatever is there */
} PeercamTlsFlags;

/* Reuses cert.pem and key.pem in @dir (NULL: the user data dir's
 * "peercam"), or creates them if neither exists. A directory or key other
 * users can read, a corrupt, unreadable or expiring certificate, or half a
 * pair is an error saying how to fix it; only NEW_CERTIFICATE replaces. */
GTlsCertificate *peercam_tls_load_or_create_certificate      (const char       *dir,
                                                              GError          **error);
GTlsCertificate *peercam_tls_load_or_create_certificate_full (const char       *dir,
                                                              PeercamTlsFlags   flags,
                                                              GError          **error);

/* SHA-256 of the DER certificate as upper-case hex pairs joined by colons
 * ("AB:CD:…"), the form `--pin` and browsers show. */
char            *peercam_tls_fingerprint_sha256         (GTlsCertificate  *certificate);

G_END_DECLS
