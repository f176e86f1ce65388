/* peercam-init.h — set up the libraries below the session once per process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Initialises GStreamer (as gst_init() does, with the same arguments) after
 * telling OpenSSL, before anything else loads it, not to tear itself down at
 * process exit.
 *
 * Why: webrtcbin's DTLS elements use OpenSSL from GStreamer's streaming
 * threads, which are pooled and may still be leaving when the process exits.
 * OpenSSL 3.0's exit handler (OPENSSL_cleanup) frees every thread's
 * thread-local state, and a pooled thread that ends a moment later frees its
 * own again from its thread-exit destructor: a double free that aborts the
 * process on its way out (seen under AddressSanitizer in CI). Without the
 * exit handler each thread frees only its own state and what is left at exit
 * is the process's to drop. Call it first thing in main(); later calls are
 * harmless. */
void peercam_init (int    *argc,
                         char ***argv);

G_END_DECLS
