/* peercam-certificate-probe.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "peercam-certificate-probe.h"
#include "peercam-tls.h"

typedef struct {
  GTlsCertificate *certificate;
} Probe;

static void
probe_free (Probe *probe)
{
  g_clear_object (&probe->certificate);
  g_free (probe);
}

static gboolean
on_accept_certificate (GTlsConnection       *connection,
                       GTlsCertificate      *certificate,
                       GTlsCertificateFlags  errors,
                       Probe                *probe)
{
  /* Only looked at, never used to send anything. */
  g_set_object (&probe->certificate, certificate);
  return TRUE;
}

static void
on_event (GSocketClient      *client,
          GSocketClientEvent  event,
          GSocketConnectable *connectable,
          GIOStream          *connection,
          GTask              *task)
{
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING)
    g_signal_connect (connection, "accept-certificate", G_CALLBACK (on_accept_certificate),
                      g_task_get_task_data (task));
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  g_autoptr(GTask) task = data;
  Probe *probe = g_task_get_task_data (task);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  connection = g_socket_client_connect_to_uri_finish (G_SOCKET_CLIENT (source), result, &error);
  g_signal_handlers_disconnect_by_data (source, task);
  if (connection != NULL)
    g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  if (connection != NULL && probe->certificate != NULL)
    g_task_return_pointer (task, peercam_tls_fingerprint_sha256 (probe->certificate), g_free);
  else if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "No certificate");
}

void
peercam_certificate_probe_async (const char          *url,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_autoptr(GSocketClient) client = NULL;
  g_autofree char *target = NULL;
  int port;

  g_task_set_source_tag (task, peercam_certificate_probe_async);
  g_task_set_task_data (task, g_new0 (Probe, 1), (GDestroyNotify) probe_free);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "Not an address: %s", url);
      return;
    }
  port = g_uri_get_port (uri);
  if (port < 0)
    port = g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0 ||
           g_ascii_strcasecmp (g_uri_get_scheme (uri), "wss") == 0 ? 443 : 80;
  target = g_uri_join (G_URI_FLAGS_NONE, "https", NULL, g_uri_get_host (uri), port, "", NULL, NULL);

  client = g_socket_client_new ();
  g_socket_client_set_tls (client, TRUE);
  g_socket_client_set_timeout (client, 5);
  g_signal_connect (client, "event", G_CALLBACK (on_event), task);
  g_socket_client_connect_to_uri_async (client, target, port, cancellable, on_connected, g_object_ref (task));
}

char *
peercam_certificate_probe_finish (GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
