/* peercam-call-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "peercam-call-error"

#include "config.h"

#include <glib-object.h>

#include "peercam-call-error.h"

G_DEFINE_QUARK (peercam-call-error-quark, peercam_call_error)

void
peercam_call_error_emit (gpointer          instance,
                         guint             signal_id,
                         PeercamCallError  code,
                         const char       *format,
                         ...)
{
  g_autoptr(GError) error = NULL;
  va_list args;

  g_return_if_fail (G_IS_OBJECT (instance));

  va_start (args, format);
  error = g_error_new_valist (PEERCAM_CALL_ERROR, code, format, args);
  va_end (args);
  g_debug ("%s: error: %s", G_OBJECT_TYPE_NAME (instance), error->message);
  g_signal_emit (instance, signal_id, 0, error);
}
