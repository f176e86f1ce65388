/* test-tls.c — the host's self-signed certificate files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The certificate's fingerprint is what everyone pins, so the files are
 * reused as they are, refused with a reason when they are unsafe or
 * broken, and replaced only on request.
 */
#include "peercam-tls.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
  char *tmp;
  char *dir;
  char *cert;
  char *key;
} Files;

static void
files_setup (Files *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = g_dir_make_tmp ("peercam-tls-XXXXXX", &error);
  g_assert_no_error (error);
  f->dir = g_build_filename (f->tmp, "peercam", NULL);
  f->cert = g_build_filename (f->dir, "cert.pem", NULL);
  f->key = g_build_filename (f->dir, "key.pem", NULL);
}

static void
files_teardown (Files *f, gconstpointer data)
{
  g_chmod (f->dir, 0700);
  g_remove (f->cert);
  g_remove (f->key);
  g_rmdir (f->dir);
  g_rmdir (f->tmp);
  g_free (f->tmp);
  g_free (f->dir);
  g_free (f->cert);
  g_free (f->key);
}

static char *
fingerprint (Files *f, PeercamTlsFlags flags)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) certificate = peercam_tls_load_or_create_certificate_full (f->dir, flags, &error);

  g_assert_no_error (error);
  g_assert_nonnull (certificate);
  return peercam_tls_fingerprint_sha256 (certificate);
}

/* Refused with @expected in the message, and nothing written. */
static void
expect_refusal (Files *f, const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autofree char *cert_before = NULL, *cert_after = NULL;

  g_file_get_contents (f->cert, &cert_before, NULL, NULL);
  certificate = peercam_tls_load_or_create_certificate (f->dir, &error);
  g_assert_null (certificate);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, expected));
  g_file_get_contents (f->cert, &cert_after, NULL, NULL);
  g_assert_cmpstr (cert_before, ==, cert_after);
}

static void
test_create_reuse (Files *f, gconstpointer data)
{
  g_autofree char *first = fingerprint (f, PEERCAM_TLS_FLAGS_NONE);
  g_autofree char *second = fingerprint (f, PEERCAM_TLS_FLAGS_NONE);
  g_autofree char *renewed = NULL;
  GStatBuf st;

  g_assert_cmpstr (first, ==, second);
  g_assert_cmpint (g_stat (f->key, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (g_stat (f->dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  /* Only on request: a new pair, a new fingerprint. */
  renewed = fingerprint (f, PEERCAM_TLS_FLAGS_NEW_CERTIFICATE);
  g_assert_cmpstr (renewed, !=, first);
  g_assert_cmpint (g_stat (f->key, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
}

static void
test_unsafe_permissions (Files *f, gconstpointer data)
{
  g_autofree char *first = fingerprint (f, PEERCAM_TLS_FLAGS_NONE);
  g_autofree char *again = NULL;

  g_assert_cmpint (g_chmod (f->key, 0644), ==, 0);
  expect_refusal (f, "chmod 600");
  g_assert_cmpint (g_chmod (f->key, 0640), ==, 0);
  expect_refusal (f, "chmod 600");
  g_assert_cmpint (g_chmod (f->key, 0600), ==, 0);

  g_assert_cmpint (g_chmod (f->dir, 0755), ==, 0);
  expect_refusal (f, "chmod 700");
  g_assert_cmpint (g_chmod (f->dir, 0700), ==, 0);

  /* Fixed as the message says: the same certificate again. */
  again = fingerprint (f, PEERCAM_TLS_FLAGS_NONE);
  g_assert_cmpstr (again, ==, first);
}

static void
test_broken_files (Files *f, gconstpointer data)
{
  g_autofree char *first = fingerprint (f, PEERCAM_TLS_FLAGS_NONE);
  g_autofree char *cert_pem = NULL, *key_pem = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_get_contents (f->cert, &cert_pem, NULL, NULL));
  g_assert_true (g_file_get_contents (f->key, &key_pem, NULL, NULL));

  /* A corrupt certificate is not silently replaced. */
  g_assert_true (g_file_set_contents (f->cert, "-----BEGIN CERTIFICATE-----\ngarbage\n", -1, &error));
  expect_refusal (f, "--new-certificate");
  g_assert_true (g_file_set_contents (f->cert, cert_pem, -1, &error));

  /* Nor a corrupt key. */
  g_assert_true (g_file_set_contents_full (f->key, "not a key\n", -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error));
  expect_refusal (f, "--new-certificate");

  /* Half a pair. */
  g_assert_cmpint (g_remove (f->key), ==, 0);
  expect_refusal (f, "is missing");

  g_assert_true (g_file_set_contents_full (f->key, key_pem, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error));
  {
    g_autofree char *again = fingerprint (f, PEERCAM_TLS_FLAGS_NONE);

    g_assert_cmpstr (again, ==, first);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/tls/create-reuse-renew", Files, NULL, files_setup, test_create_reuse, files_teardown);
  g_test_add ("/tls/unsafe-permissions", Files, NULL, files_setup, test_unsafe_permissions, files_teardown);
  g_test_add ("/tls/broken-files", Files, NULL, files_setup, test_broken_files, files_teardown);

  return g_test_run ();
}
