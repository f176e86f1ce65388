/* peercam-call-error.h — the error domain of the media layer (local media,
 * peer connection, remote media and the call engine on top of them)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PEERCAM_CALL_ERROR (peercam_call_error_quark ())
typedef enum {
  PEERCAM_CALL_ERROR_NO_CAMERA,        /* "No camera found": offer the test pattern */
  PEERCAM_CALL_ERROR_SOURCE,           /* the video source could not be built/started */
  PEERCAM_CALL_ERROR_MISSING_PLUGIN,
  PEERCAM_CALL_ERROR_WRONG_STATE,      /* e.g. an answer without an offer */
  PEERCAM_CALL_ERROR_INVALID_SIGNAL,   /* malformed offer/answer or SDP */
  PEERCAM_CALL_ERROR_INVALID_CANDIDATE,
  PEERCAM_CALL_ERROR_NEGOTIATION,      /* webrtcbin refused a description */
  PEERCAM_CALL_ERROR_ICE_TIMEOUT,
  PEERCAM_CALL_ERROR_ICE_FAILED,
  PEERCAM_CALL_ERROR_PIPELINE,         /* an error message on the bus */
  PEERCAM_CALL_ERROR_CAMERA_DISCONNECTED, /* the preview's device went away */
} PeercamCallError;

GQuark peercam_call_error_quark (void);

/* Emits @signal_id, an "error" signal with one GError argument, on
 * @instance (a GObject) with a PEERCAM_CALL_ERROR of @code, and logs it:
 * the media objects' errors, made and told in one place. */
void   peercam_call_error_emit  (gpointer          instance,
                                 guint             signal_id,
                                 PeercamCallError  code,
                                 const char       *format,
                                 ...) G_GNUC_PRINTF (4, 5);

G_END_DECLS
