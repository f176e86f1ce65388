/* peercam-tls.c — creates and reuses the host's self-signed certificate
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "peercam-network.h"
#include "peercam-signaling-client.h"
#include "peercam-tls.h"

#define VALIDITY_SECONDS (365 * 24 * 60 * 60)

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_privkey_t, gnutls_x509_privkey_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_crt_t, gnutls_x509_crt_deinit, NULL)

static gboolean
gnutls_failed (int       rc,
               const char *what,
               GError  **error)
{
  if (rc >= 0)
    return FALSE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
               "Could not create a certificate (%s): %s", what, gnutls_strerror (rc));
  return TRUE;
}

static void
add_ip_san (gnutls_x509_crt_t  crt,
            const char        *address)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);

  if (inet == NULL)
    return;
  gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS,
                                        g_inet_address_to_bytes (inet),
                                        g_inet_address_get_native_size (inet),
                                        GNUTLS_FSAN_APPEND);
}

static gboolean
create_pair (char   **cert_pem,
             char   **key_pem,
             GError **error)
{
  g_auto(gnutls_x509_privkey_t) key = NULL;
  g_auto(gnutls_x509_crt_t) crt = NULL;
  g_auto(GStrv) addresses = NULL;
  gnutls_datum_t cert_data = { NULL, 0 }, key_data = { NULL, 0 };
  unsigned char serial[16];
  time_t now = time (NULL);
  const char *cn = "Peercam";

  if (gnutls_failed (gnutls_x509_privkey_init (&key), "key", error) ||
      gnutls_failed (gnutls_x509_privkey_generate (key, GNUTLS_PK_ECDSA,
                                                   GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1), 0),
                     "key", error) ||
      gnutls_failed (gnutls_x509_crt_init (&crt), "certificate", error))
    return FALSE;

  if (gnutls_failed (gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof serial), "serial", error))
    return FALSE;
  serial[0] &= 0x7f;   /* a positive serial number */
  serial[0] |= 0x01;

  gnutls_x509_crt_set_version (crt, 3);
  gnutls_x509_crt_set_serial (crt, serial, sizeof serial);
  gnutls_x509_crt_set_activation_time (crt, now - 60 * 60);
  gnutls_x509_crt_set_expiration_time (crt, now + VALIDITY_SECONDS);
  gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen (cn));
  gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, "localhost", strlen ("localhost"),
                                        GNUTLS_FSAN_APPEND);
  add_ip_san (crt, "127.0.0.1");
  add_ip_san (crt, "::1");
  addresses = peercam_network_get_lan_addresses (FALSE);
  for (gsize i = 0; addresses != NULL && addresses[i] != NULL; i++)
    add_ip_san (crt, addresses[i]);
  gnutls_x509_crt_set_basic_constraints (crt, 0, -1);
  gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
  gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_SERVER, 0);

  if (gnutls_failed (gnutls_x509_crt_set_key (crt, key), "public key", error) ||
      gnutls_failed (gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0), "signature", error) ||
      gnutls_failed (gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &cert_data), "export", error))
    return FALSE;
  if (gnutls_failed (gnutls_x509_privkey_export2_pkcs8 (key, GNUTLS_X509_FMT_PEM, NULL,
                                                        GNUTLS_PKCS_PLAIN, &key_data),
                     "export", error))
    {
      gnutls_free (cert_data.data);
      return FALSE;
    }

  *cert_pem = g_strndup ((const char *) cert_data.data, cert_data.size);
  *key_pem = g_strndup ((const char *) key_data.data, key_data.size);
  gnutls_memset (key_data.data, 0, key_data.size);
  gnutls_free (cert_data.data);
  gnutls_free (key_data.data);

  return TRUE;
}

/* A directory or key others can read, or that is not ours: refused, not
 * repaired behind the user's back (the key may already have leaked). */
static gboolean
check_private (const char  *path,
               gboolean     directory,
               GError     **error)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Cannot read %s: %s"), path, g_strerror (saved_errno));
      return FALSE;
    }
  if (st.st_uid != getuid ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("%s belongs to another user; it must be yours (chown it, or remove it to start afresh with --new-certificate)"),
                   path);
      return FALSE;
    }
  if (st.st_mode & 077)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   directory
                   ? _("%s can be read by other users (mode %04o); make it private with “chmod 700 %s”")
                   : _("The private key %s can be read by other users (mode %04o); make it private with “chmod 600 %s”, "
                       "or replace the certificate with --new-certificate if others may have copied it"),
                   path, (guint) (st.st_mode & 07777), path);
      return FALSE;
    }
  return TRUE;
}

static GTlsCertificate *
load_pair (const char  *cert_path,
           const char  *key_path,
           GError     **error)
{
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GDateTime) not_after = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(GError) local_error = NULL;

  if (!check_private (key_path, FALSE, error))
    return NULL;

  certificate = g_tls_certificate_new_from_files (cert_path, key_path, &local_error);
  if (certificate == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Cannot use the certificate in %s and %s: %s. Fix or restore them, or replace them with "
                     "--new-certificate (its fingerprint changes: everyone who pinned it must pin the new one)"),
                   cert_path, key_path, local_error->message);
      return NULL;
    }

  g_object_get (certificate, "not-valid-after", &not_after, NULL);
  now = g_date_time_new_now_utc ();
  if (not_after != NULL && g_date_time_difference (not_after, now) < G_TIME_SPAN_DAY)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The certificate in %s has expired or expires within a day; replace it with "
                     "--new-certificate (its fingerprint changes: everyone who pinned it must pin the new one)"),
                   cert_path);
      return NULL;
    }

  return g_steal_pointer (&certificate);
}

GTlsCertificate *
peercam_tls_load_or_create_certificate (const char  *dir,
                                        GError     **error)
{
  return peercam_tls_load_or_create_certificate_full (dir, PEERCAM_TLS_FLAGS_NONE, error);
}

GTlsCertificate *
peercam_tls_load_or_create_certificate_full (const char      *dir,
                                             PeercamTlsFlags  flags,
                                             GError         **error)
{
  g_autofree char *default_dir = NULL;
  g_autofree char *cert_path = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *cert_pem = NULL;
  g_autofree char *key_pem = NULL;
  gboolean have_cert, have_key;

  if (dir == NULL)
    dir = default_dir = g_build_filename (g_get_user_data_dir (), "peercam", NULL);

  cert_path = g_build_filename (dir, "cert.pem", NULL);
  key_path = g_build_filename (dir, "key.pem", NULL);

  if (g_file_test (dir, G_FILE_TEST_EXISTS))
    {
      if (!check_private (dir, TRUE, error))
        return NULL;
    }
  else if (g_mkdir_with_parents (dir, 0700) != 0 || g_chmod (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not create %s: %s"), dir, g_strerror (saved_errno));
      return NULL;
    }

  /* What is there is used, or refused with the reason: a new certificate
   * changes the fingerprint everyone pinned, so only on request. */
  have_cert = g_file_test (cert_path, G_FILE_TEST_EXISTS);
  have_key = g_file_test (key_path, G_FILE_TEST_EXISTS);
  if (!(flags & PEERCAM_TLS_FLAGS_NEW_CERTIFICATE))
    {
      if (have_cert && have_key)
        return load_pair (cert_path, key_path, error);
      if (have_cert || have_key)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       _("%s is missing (%s is there); restore it, or replace both with --new-certificate"),
                       have_cert ? key_path : cert_path, have_cert ? cert_path : key_path);
          return NULL;
        }
    }

  if (!create_pair (&cert_pem, &key_pem, error))
    return NULL;

  /* The key first, so a cert.pem never exists without its key. */
  if (!g_file_set_contents_full (key_path, key_pem, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, error) ||
      !g_file_set_contents_full (cert_path, cert_pem, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0644, error))
    {
      explicit_bzero (key_pem, strlen (key_pem));
      return NULL;
    }
  explicit_bzero (key_pem, strlen (key_pem));

  return g_tls_certificate_new_from_files (cert_path, key_path, error);
}

char *
peercam_tls_fingerprint_sha256 (GTlsCertificate *certificate)
{
  g_autofree char *hex = NULL;
  GString *pairs;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);

  hex = peercam_signaling_client_certificate_fingerprint (certificate);
  if (hex == NULL)
    return NULL;

  pairs = g_string_sized_new (96);
  for (gsize i = 0; hex[i] != '\0' && hex[i + 1] != '\0'; i += 2)
    {
      if (i > 0)
        g_string_append_c (pairs, ':');
      g_string_append_c (pairs, g_ascii_toupper (hex[i]));
      g_string_append_c (pairs, g_ascii_toupper (hex[i + 1]));
    }

  return g_string_free (pairs, FALSE);
}
