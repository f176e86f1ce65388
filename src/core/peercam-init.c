/* peercam-init.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "peercam-init"

#include "config.h"

#include <gst/gst.h>
#include <openssl/crypto.h>

#include "peercam-init.h"

void
peercam_init (int    *argc,
                    char ***argv)
{
  /* Only the first OPENSSL_init_crypto() of a process decides whether the
   * exit handler is registered, so this must run before GStreamer loads the
   * DTLS plugin (or anything else initialises OpenSSL). */
  if (OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, NULL) != 1)
    g_warning ("OpenSSL could not be initialised; DTLS will try again on first use");

  gst_init (argc, argv);
}
