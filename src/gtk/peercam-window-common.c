/* peercam-window-common.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "peercam-application.h"
#include "peercam-join-dialog.h"
#include "peercam-tls.h"
#include "peercam-window-common.h"

char *
_peercam_window_describe_signaling (PeercamSession *session)
{
  PeercamSignalingClient *client = peercam_session_get_client (session);
  const char *room = peercam_session_get_room (session);

  if (client == NULL)
    return g_strdup (_("Not in a room"));

  switch (peercam_signaling_client_get_state (client))
    {
    case PEERCAM_SIGNALING_STATE_CONNECTING:
    case PEERCAM_SIGNALING_STATE_CONNECTED:
      return g_strdup_printf (_("Connecting to %s…"), peercam_session_get_server_url (session));
    case PEERCAM_SIGNALING_STATE_JOINED:
      return g_strdup_printf (_("Room “%s”"), room);
    case PEERCAM_SIGNALING_STATE_RECONNECTING:
      return g_strdup_printf (_("Reconnecting to %s…"), peercam_session_get_server_url (session));
    case PEERCAM_SIGNALING_STATE_FAILED:
      return g_strdup (_("Could not join the room"));
    case PEERCAM_SIGNALING_STATE_DISCONNECTED:
    default:
      return g_strdup (_("Not in a room"));
    }
}

/* One row of the statistics popover: a title, and its value from the
 * engine's `stats` event, or NULL when the event lacks the field (a caller
 * has no jitter buffer, a viewer no estimate). */
typedef char *(*StatsFormat) (JsonObject *stats, const char *key);

static char *
format_size (JsonObject *stats,
             const char *key)
{
  g_autofree char *width_key = g_strconcat (key, "width", NULL);
  g_autofree char *height_key = g_strconcat (key, "height", NULL);

  if (!json_object_has_member (stats, width_key))
    return NULL;
  return g_strdup_printf ("%d×%d", (int) json_object_get_int_member (stats, width_key),
                          (int) json_object_get_int_member_with_default (stats, height_key, 0));
}

static char *
format_sending (JsonObject *stats,
                const char *key)
{
  g_autofree char *size = format_size (stats, "send_");

  if (size == NULL)
    return NULL;
  /* TRANSLATORS: the resolution the caller sends now and its frame rate,
   * e.g. "960×540 at 30 fps" */
  return g_strdup_printf (_("%s at %.0f fps"), size,
                          json_object_get_double_member_with_default (stats, "send_fps", 0));
}

static char *
format_fps (JsonObject *stats,
            const char *key)
{
  return json_object_has_member (stats, key)
         ? g_strdup_printf (_("%.1f fps"), json_object_get_double_member (stats, key)) : NULL;
}

static char *
format_kbps (JsonObject *stats,
             const char *key)
{
  return json_object_has_member (stats, key)
         ? g_strdup_printf (_("%.0f kbit/s"), json_object_get_double_member (stats, key)) : NULL;
}

static char *
format_ms (JsonObject *stats,
           const char *key)
{
  double ms;

  if (!json_object_has_member (stats, key))
    return NULL;
  ms = json_object_get_double_member (stats, key);
  return ms >= 0 ? g_strdup_printf (_("%.0f ms"), ms) : g_strdup (_("unknown"));
}

static char *
format_percent (JsonObject *stats,
                const char *key)
{
  return json_object_has_member (stats, key)
         ? g_strdup_printf (_("%.1f %%"), json_object_get_double_member (stats, key)) : NULL;
}

static char *
format_count (JsonObject *stats,
              const char *key)
{
  return json_object_has_member (stats, key)
         ? g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (stats, key)) : NULL;
}

static const struct {
  const char  *key;      /* the stats field; also the value label's widget name */
  const char  *title;
  StatsFormat  format;
} stats_rows[] = {
  { "",                N_("Resolution"),      format_size },
  { "fps",             N_("Frame rate"),      format_fps },
  { "kbps",            N_("Bitrate"),         format_kbps },
  { "estimate_kbps",   N_("Estimate"),        format_kbps },
  { "send_width",      N_("Sending"),         format_sending },
  { "send_kbps",       N_("Send rate"),       format_kbps },
  { "loss_pct",        N_("Loss"),            format_percent },
  { "rtt_ms",          N_("Round trip"),      format_ms },
  { "jitter_ms",       N_("Jitter"),          format_ms },
  { "latency_ms",      N_("Jitter buffer"),   format_ms },
  { "retransmissions", N_("Retransmissions"), format_count },
};

/* Fills @grid (two columns: titles, values) with the rows @stats has;
 * rows of fields it lacks are hidden. The value labels are named after
 * their field ("resolution" for the first), so tests can find them. */
void
_peercam_window_show_stats (GtkGrid    *grid,
                            JsonObject *stats)
{
  for (guint i = 0; i < G_N_ELEMENTS (stats_rows); i++)
    {
      GtkWidget *title = gtk_grid_get_child_at (grid, 0, (int) i);
      GtkWidget *value = gtk_grid_get_child_at (grid, 1, (int) i);
      g_autofree char *text = stats_rows[i].format (stats, stats_rows[i].key);

      if (title == NULL)
        {
          title = gtk_label_new (_(stats_rows[i].title));
          gtk_label_set_xalign (GTK_LABEL (title), 0);
          gtk_widget_add_css_class (title, "dim-label");
          gtk_grid_attach (grid, title, 0, (int) i, 1, 1);
          value = gtk_label_new (NULL);
          gtk_label_set_xalign (GTK_LABEL (value), 1);
          gtk_widget_set_name (value, stats_rows[i].key[0] ? stats_rows[i].key : "resolution");
          gtk_grid_attach (grid, value, 1, (int) i, 1, 1);
        }
      gtk_label_set_label (GTK_LABEL (value), text ? text : "");
      gtk_widget_set_visible (title, text != NULL);
      gtk_widget_set_visible (value, text != NULL);
    }
}

void
_peercam_window_show_error (AdwToastOverlay *overlay,
                            const char      *message)
{
  AdwToast *toast = adw_toast_new (message);

  adw_toast_set_timeout (toast, 6);
  adw_toast_overlay_add_toast (overlay, toast);
}

/* The lowest number no other window of @window's role has: two viewers
 * are "Viewer" and "Viewer 2", never twins. */
void
_peercam_window_number (GtkWindow *window)
{
  GtkApplication *app = gtk_window_get_application (window);
  guint number = 1;
  gboolean taken = TRUE;

  while (taken)
    {
      taken = FALSE;
      for (GList *l = gtk_application_get_windows (app); l != NULL; l = l->next)
        if (l->data != window && G_OBJECT_TYPE (l->data) == G_OBJECT_TYPE (window) &&
            GPOINTER_TO_UINT (g_object_get_data (l->data, "peercam-window-number")) == number)
          {
            taken = TRUE;
            number++;
            break;
          }
    }
  g_object_set_data (G_OBJECT (window), "peercam-window-number", GUINT_TO_POINTER (number));
}

/* The title names the role (numbered when there are several windows of
 * one role: "Viewer 2") and, for the window list, the room. */
void
_peercam_window_set_titles (GtkWindow      *window,
                            AdwWindowTitle *title,
                            PeercamSession *session,
                            const char     *subtitle)
{
  guint number = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (window), "peercam-window-number"));
  gboolean caller = peercam_session_get_role (session) == PEERCAM_CALL_ROLE_CALLER;
  g_autofree char *role = NULL;
  g_autofree char *full = NULL;
  PeercamSignalingClient *client = peercam_session_get_client (session);

  if (number > 1)
    role = g_strdup_printf (caller ? _("Caller %u") : _("Viewer %u"), number);
  else
    role = g_strdup (caller ? _("Caller") : _("Viewer"));
  adw_window_title_set_title (title, role);
  adw_window_title_set_subtitle (title, subtitle);

  if (client != NULL && peercam_signaling_client_get_state (client) == PEERCAM_SIGNALING_STATE_JOINED)
    /* Translators: a window's title: its role, then its room */
    full = g_strdup_printf (_("%s — Room “%s”"), role, peercam_session_get_room (session));
  else
    full = g_strdup_printf ("%s — %s", role, subtitle);
  gtk_window_set_title (window, full);
}

typedef struct {
  PeercamSession  *session;
  AdwToastOverlay *overlay;
} JoinTarget;

static void
join_target_free (gpointer data, GClosure *closure)
{
  JoinTarget *target = data;

  g_object_unref (target->session);
  g_object_unref (target->overlay);
  g_free (target);
}

static void
on_join (PeercamJoinDialog *dialog,
         const char        *url,
         const char        *room,
         const char        *token,
         const char        *pin,
         JoinTarget        *target)
{
  g_autoptr(GError) error = NULL;

  if (!peercam_session_join (target->session, url, room, token, pin, &error))
    _peercam_window_show_error (target->overlay, error->message);
}

/* Join a Room…: a Join in the dialog joins @session; errors go to @overlay. */
void
_peercam_window_present_join_dialog (GtkWindow       *window,
                                     PeercamSession  *session,
                                     AdwToastOverlay *overlay)
{
  GtkApplication *app = gtk_window_get_application (window);
  PeercamJoinDialog *dialog =
    peercam_join_dialog_new (window, peercam_application_get_settings (PEERCAM_APPLICATION (app)));
  JoinTarget *target = g_new0 (JoinTarget, 1);

  g_autofree char *hosted = peercam_application_dup_hosted_invite (PEERCAM_APPLICATION (app), TRUE);

  /* This computer hosts: its own room (https and pin included) is the
   * likeliest one to join. */
  if (hosted != NULL)
    peercam_join_dialog_set_link (dialog, hosted);
  target->session = g_object_ref (session);
  target->overlay = g_object_ref (overlay);
  g_signal_connect_data (dialog, "join", G_CALLBACK (on_join), target, join_target_free, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_client_changed (PeercamSession *session,
                   GParamSpec     *pspec,
                   GtkWidget      *window)
{
  PeercamSignalingClient *client = peercam_session_get_client (session);
  GCallback update = g_object_get_data (G_OBJECT (window), "peercam-update");

  if (client != NULL)
    g_signal_connect_object (client, "notify::state", update, window, G_CONNECT_SWAPPED);
  ((void (*) (GtkWidget *)) update) (window);
}

/* Calls @update (window) whenever the session gets another signaling client
 * or its client changes state (connecting, joined, reconnecting…). The
 * handlers have @window as data, so the window's dispose disconnects them. */
void
_peercam_window_follow_signaling (GtkWidget      *window,
                                  PeercamSession *session,
                                  GCallback       update)
{
  g_object_set_data (G_OBJECT (window), "peercam-update", update);
  g_signal_connect_object (session, "notify::client", G_CALLBACK (on_client_changed), window, 0);
}

/* ------------------------------------------------------------------------ */
/* Why the window is not in its room                                          */

struct _PeercamRoomProblem
{
  GtkWidget      *window;          /* unowned: the problem lives as long */
  PeercamSession *session;         /* unowned, likewise */
  GCallback       update;

  /* The certificate of the server a join failed on, fetched to compare. */
  GCancellable   *probe;
  char           *probed_url;      /* what was probed: scheme://host:port */
  char           *fingerprint;     /* AB:CD:…, NULL: not TLS or not known */
  gboolean        probed;
};

static void
problem_update (PeercamRoomProblem *problem)
{
  ((void (*) (GtkWidget *)) problem->update) (problem->window);
}

static void
on_join_error (PeercamRoomProblem *problem)
{
  problem_update (problem);
}

PeercamRoomProblem *
_peercam_room_problem_new (GtkWidget      *window,
                           PeercamSession *session,
                           GCallback       update)
{
  PeercamRoomProblem *problem = g_new0 (PeercamRoomProblem, 1);

  problem->window = window;
  problem->session = session;
  problem->update = update;
  g_signal_connect_swapped (session, "notify::join-error", G_CALLBACK (on_join_error), problem);
  return problem;
}

void
_peercam_room_problem_free (PeercamRoomProblem *problem)
{
  if (problem == NULL)
    return;
  g_signal_handlers_disconnect_by_data (problem->session, problem);
  g_cancellable_cancel (problem->probe);
  g_clear_object (&problem->probe);
  g_free (problem->probed_url);
  g_free (problem->fingerprint);
  g_free (problem);
}

void
_peercam_problem_clear (PeercamProblem *problem)
{
  g_clear_pointer (&problem->title, g_free);
  g_clear_pointer (&problem->description, g_free);
  g_clear_pointer (&problem->details, g_free);
  g_clear_pointer (&problem->subtitle, g_free);
}

typedef struct {
  PeercamRoomProblem *problem;
  GTlsCertificate    *certificate;
} Probe;

static gboolean
on_probe_accept (GTlsConnection       *connection,
                 GTlsCertificate      *certificate,
                 GTlsCertificateFlags  errors,
                 Probe                *probe)
{
  /* Only looked at, never used to send anything. */
  g_set_object (&probe->certificate, certificate);
  return TRUE;
}

static void
on_probe_event (GSocketClient      *client,
                GSocketClientEvent  event,
                GSocketConnectable *connectable,
                GIOStream          *connection,
                Probe              *probe)
{
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING)
    g_signal_connect (connection, "accept-certificate", G_CALLBACK (on_probe_accept), probe);
}

static void
on_probed (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  Probe *probe = data;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  connection = g_socket_client_connect_to_uri_finish (G_SOCKET_CLIENT (source), result, &error);
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      PeercamRoomProblem *problem = probe->problem;

      g_clear_object (&problem->probe);
      problem->probed = TRUE;
      if (connection != NULL && probe->certificate != NULL)
        problem->fingerprint = peercam_tls_fingerprint_sha256 (probe->certificate);
      g_debug ("certificate of %s: %s", problem->probed_url,
               problem->fingerprint ? problem->fingerprint : error ? error->message : "none");
      problem_update (problem);
    }
  if (connection != NULL)
    g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  g_clear_object (&probe->certificate);
  g_free (probe);
}

/* Fetches the certificate of @url's host and port over TLS (also for an
 * http:// address: a secure server answers plain HTTP with a reset). */
static void
problem_probe (PeercamRoomProblem *problem,
               const char         *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_autoptr(GSocketClient) client = NULL;
  g_autofree char *target = NULL;
  Probe *probe;
  int port;

  if (g_strcmp0 (problem->probed_url, url) == 0 || uri == NULL)
    return;
  g_cancellable_cancel (problem->probe);
  g_clear_object (&problem->probe);
  g_clear_pointer (&problem->fingerprint, g_free);
  g_free (problem->probed_url);
  problem->probed_url = g_strdup (url);
  problem->probed = FALSE;

  port = g_uri_get_port (uri);
  if (port < 0)
    port = g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0 ||
           g_ascii_strcasecmp (g_uri_get_scheme (uri), "wss") == 0 ? 443 : 80;
  target = g_uri_join (G_URI_FLAGS_NONE, "https", NULL, g_uri_get_host (uri), port, "", NULL, NULL);

  probe = g_new0 (Probe, 1);
  probe->problem = problem;
  problem->probe = g_cancellable_new ();
  client = g_socket_client_new ();
  g_socket_client_set_tls (client, TRUE);
  g_socket_client_set_timeout (client, 5);
  g_signal_connect (client, "event", G_CALLBACK (on_probe_event), probe);
  g_socket_client_connect_to_uri_async (client, target, port, problem->probe, on_probed, probe);
}

/* AB:CD:… (32 pairs) on two lines of 16, to compare at a glance and to
 * fit a narrow window. */
static char *
fingerprint_lines (const char *fingerprint)
{
  GString *text = g_string_new (NULL);
  guint pairs = 0;

  for (const char *p = fingerprint; *p != '\0'; p++)
    {
      if (*p == ':' && ++pairs == 16)
        {
          g_string_append_c (text, '\n');
          continue;
        }
      g_string_append_c (text, *p);
    }
  return g_string_free (text, FALSE);
}

static gboolean
is_certificate_error (const GError *error)
{
  return g_error_matches (error, PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_CERTIFICATE) ||
         g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
}

static gboolean
is_http (const char *url)
{
  return g_ascii_strncasecmp (url, "http:", 5) == 0 || g_ascii_strncasecmp (url, "ws:", 3) == 0;
}

gboolean
_peercam_room_problem_describe (PeercamRoomProblem *problem,
                                PeercamProblem     *out)
{
  const GError *error = peercam_session_get_join_error (problem->session);
  PeercamSignalingClient *client = peercam_session_get_client (problem->session);
  const char *url = peercam_session_get_server_url (problem->session);
  const char *room = peercam_session_get_room (problem->session);
  PeercamSignalingState state;

  memset (out, 0, sizeof *out);
  if (error == NULL || client == NULL)
    return FALSE;
  state = peercam_signaling_client_get_state (client);
  if (state == PEERCAM_SIGNALING_STATE_JOINED)
    return FALSE;

  if (g_error_matches (error, PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_ROOM_FULL))
    {
      out->icon_name = "system-users-symbolic";
      out->title = g_strdup (_("The Room Is Full"));
      out->description = g_strdup_printf (_("Room “%s” already has a caller and a viewer. "
                                            "Try again when one of them leaves, or join another room."), room);
      out->subtitle = g_strdup (_("Room is full"));
      out->can_retry = TRUE;
      return TRUE;
    }

  if (g_error_matches (error, PEERCAM_SIGNALING_CLIENT_ERROR, PEERCAM_SIGNALING_CLIENT_ERROR_AUTH))
    {
      const char *token = peercam_signaling_client_get_token (client);

      out->icon_name = "dialog-password-symbolic";
      out->title = g_strdup (token != NULL ? _("Wrong Access Token") : _("This Room Needs an Access Token"));
      out->description = g_strdup (_("The host of this room let only people with its access token in. "
                                     "Ask the host for the invite link and paste it into Join a Room…"));
      out->subtitle = g_strdup (_("Access token refused"));
      return TRUE;
    }

  if (is_certificate_error (error) || (is_http (url) && problem->fingerprint != NULL &&
                                       g_strcmp0 (problem->probed_url, url) == 0))
    {
      const char *pinned = peercam_signaling_client_get_pinned_certificate (client);

      problem_probe (problem, url);
      out->icon_name = "channel-insecure-symbolic";
      if (is_http (url))
        {
          out->title = g_strdup (_("This Room Uses a Secure Connection"));
          out->description = g_strdup (_("The address starts with http://, but the host hosts with HTTPS. "
                                         "Compare the fingerprint below with the one the host shows under "
                                         "Host a Room, then trust it to join securely."));
        }
      else
        {
          out->title = g_strdup (_("Check the Host’s Certificate"));
          out->description = g_strdup (pinned != NULL
                                       ? _("This server’s certificate is not the one in the invite: someone else may be answering. "
                                           "Only trust it if the host confirms its fingerprint.")
                                       : _("This computer does not know this server’s certificate. "
                                           "Compare the fingerprint below with the one the host shows under "
                                           "Host a Room before you trust it."));
        }
      if (problem->fingerprint != NULL)
        {
          if (pinned != NULL)
            {
              g_autofree char *expected = NULL;
              GString *pairs = g_string_new (NULL);

              /* The pin as the host shows it: AB:CD:… */
              for (const char *p = pinned; *p != '\0'; p++)
                if (g_ascii_isxdigit (*p))
                  {
                    if (pairs->len % 3 == 2)
                      g_string_append_c (pairs, ':');
                    g_string_append_c (pairs, g_ascii_toupper (*p));
                  }
              expected = g_string_free (pairs, FALSE);
              {
                g_autofree char *server_lines = fingerprint_lines (problem->fingerprint);
                g_autofree char *expected_lines = fingerprint_lines (expected);

                out->details = g_strdup_printf (_("This server:\n%s\n\nThe invite expects:\n%s"),
                                                server_lines, expected_lines);
              }
            }
          else
            {
              g_autofree char *server_lines = fingerprint_lines (problem->fingerprint);

              out->details = g_strdup_printf (_("This server:\n%s"), server_lines);
            }
          out->can_trust = TRUE;
        }
      else if (!problem->probed)
        out->details = g_strdup (_("Fetching the certificate…"));
      out->subtitle = g_strdup (_("Certificate not trusted"));
      return TRUE;
    }

  if (state == PEERCAM_SIGNALING_STATE_RECONNECTING || state == PEERCAM_SIGNALING_STATE_FAILED)
    {
      /* A secure server answers plain HTTP by closing: find out. */
      if (is_http (url))
        problem_probe (problem, url);
      out->icon_name = "network-offline-symbolic";
      out->title = g_strdup (_("Cannot Reach the Host"));
      out->description = g_strdup_printf (state == PEERCAM_SIGNALING_STATE_RECONNECTING
                                          ? _("Nothing answers at %s. Check that the other computer is hosting "
                                              "and on the same network. Peercam keeps trying.")
                                          : _("Nothing answers at %s. Check that the other computer is hosting "
                                              "and on the same network."),
                                          url);
      out->subtitle = g_strdup (state == PEERCAM_SIGNALING_STATE_RECONNECTING ? _("Trying to reach the host…")
                                                                               : _("Cannot reach the host"));
      out->can_retry = TRUE;
      out->can_stop = TRUE;
      return TRUE;
    }

  return FALSE;
}

void
_peercam_problem_apply (const PeercamProblem *problem,
                        AdwStatusPage        *page,
                        GtkLabel             *details,
                        GtkWidget            *retry,
                        GtkWidget            *stop,
                        GtkWidget            *trust)
{
  adw_status_page_set_icon_name (page, problem->icon_name);
  adw_status_page_set_title (page, problem->title);
  adw_status_page_set_description (page, problem->description);
  gtk_label_set_label (details, problem->details ? problem->details : "");
  gtk_widget_set_visible (GTK_WIDGET (details), problem->details != NULL);
  gtk_widget_set_visible (retry, problem->can_retry);
  gtk_widget_set_visible (stop, problem->can_stop);
  gtk_widget_set_visible (trust, problem->can_trust);
}

static void
rejoin (PeercamRoomProblem *problem,
        const char         *url,
        const char         *pin)
{
  PeercamSignalingClient *client = peercam_session_get_client (problem->session);
  g_autofree char *room = g_strdup (peercam_session_get_room (problem->session));
  g_autofree char *token = client ? g_strdup (peercam_signaling_client_get_token (client)) : NULL;
  g_autoptr(GError) error = NULL;

  if (room == NULL || url == NULL)
    return;
  if (!peercam_session_join (problem->session, url, room, token, pin, &error))
    g_warning ("Could not join again: %s", error->message);
  problem_update (problem);
}

void
_peercam_room_problem_retry (PeercamRoomProblem *problem)
{
  PeercamSignalingClient *client = peercam_session_get_client (problem->session);
  g_autofree char *url = g_strdup (peercam_session_get_server_url (problem->session));
  g_autofree char *pin = client ? g_strdup (peercam_signaling_client_get_pinned_certificate (client)) : NULL;

  rejoin (problem, url, pin);
}

void
_peercam_room_problem_stop (PeercamRoomProblem *problem)
{
  peercam_session_leave (problem->session);
  problem_update (problem);
}

/* Join again with the certificate the user compared, over HTTPS. */
void
_peercam_room_problem_trust (PeercamRoomProblem *problem)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *url = NULL;
  g_autofree char *pin = g_strdup (problem->fingerprint);

  if (pin == NULL || problem->probed_url == NULL)
    return;
  uri = g_uri_parse (problem->probed_url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    return;
  url = g_uri_join (G_URI_FLAGS_NONE, "https", NULL, g_uri_get_host (uri), g_uri_get_port (uri), "", NULL, NULL);
  rejoin (problem, url, pin);
}
