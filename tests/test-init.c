/* test-init.c — peercam_init() keeps OpenSSL from tearing itself down at
 * exit
 *
 * GStreamer's streaming threads (webrtcbin's DTLS) use OpenSSL and live in
 * thread pools; some are still ending when a process exits right after a
 * call. OpenSSL 3.0's exit handler frees every thread's thread-local state
 * without a lock, and a thread ending at that moment frees its own again: a
 * double free on the way out (seen in CI under AddressSanitizer, in
 * test-call-engine, once in many runs). The race itself cannot be lined up
 * from outside OpenSSL; what removes it can be checked every time: after
 * peercam_init() no OpenSSL exit handler runs, even once a DTLS element and
 * threads using OpenSSL existed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gst/gst.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <unistd.h>

#include "peercam-init.h"

static gpointer
openssl_thread (gpointer data)
{
  /* Gives this thread OpenSSL thread-local state, as DTLS threads have. */
  ERR_clear_error ();
  return NULL;
}

/* Registered before peercam_init(), so it runs after any exit handler that
 * OpenSSL registers: OpenSSL refuses to initialise again once torn down. */
static void
check_openssl_alive_at_exit (void)
{
  if (OPENSSL_init_crypto (0, NULL) != 1)
    {
      g_printerr ("OpenSSL's exit handler ran\n");
      _exit (1);
    }
}

static void
test_no_openssl_exit_handler (void)
{
  if (g_test_subprocess ())
    {
      GstElement *dtls;

      atexit (check_openssl_alive_at_exit);
      peercam_init (NULL, NULL);

      /* What a call does: DTLS elements, and streaming threads that use
       * OpenSSL (one still alive at exit). */
      dtls = gst_element_factory_make ("dtlsenc", NULL);
      g_assert_nonnull (dtls);
      gst_object_unref (dtls);
      g_thread_join (g_thread_new ("openssl-user", openssl_thread, NULL));

      exit (0);
    }

  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr_unmatched ("*exit handler ran*");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/init/no-openssl-exit-handler", test_no_openssl_exit_handler);

  return g_test_run ();
}
