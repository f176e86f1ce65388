/* peercam-window-common.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "peercam-application.h"
#include "peercam-certificate-probe.h"
#include "peercam-join-dialog.h"
#include "peercam-window-common.h"

char *
_peercam_window_describe_signaling (PeercamSession *session)
{
  const char *room = peercam_session_get_room (session);

  switch (peercam_session_get_room_state (session))
    {
    case PEERCAM_ROOM_STATE_CONNECTING:
    case PEERCAM_ROOM_STATE_CONNECTED:
      return g_strdup_printf (_("Connecting to %s…"), peercam_session_get_server_url (session));
    case PEERCAM_ROOM_STATE_JOINED:
      return g_strdup_printf (_("Room “%s”"), room);
    case PEERCAM_ROOM_STATE_RECONNECTING:
      return g_strdup_printf (_("Reconnecting to %s…"), peercam_session_get_server_url (session));
    case PEERCAM_ROOM_STATE_FAILED:
      return g_strdup (_("Could not join the room"));
    case PEERCAM_ROOM_STATE_NONE:
    case PEERCAM_ROOM_STATE_DISCONNECTED:
    default:
      return g_strdup (_("Not in a room"));
    }
}

/* One row of the statistics popover: a title, and its value from the
 * call's statistics, or NULL when they lack the field (a caller has no
 * jitter buffer, a viewer no estimate). */
typedef char *(*StatsFormat) (const PeercamCallStats *stats, PeercamStat stat);

static char *
format_size (const PeercamCallStats *stats,
             PeercamStat             stat)
{
  double width, height = 0;

  /* @stat is the width; the height follows it. */
  if (!peercam_call_stats_lookup (stats, stat, &width))
    return NULL;
  peercam_call_stats_lookup (stats, stat + 1, &height);
  return g_strdup_printf ("%d×%d", (int) width, (int) height);
}

static char *
format_sending (const PeercamCallStats *stats,
                PeercamStat             stat)
{
  g_autofree char *size = format_size (stats, PEERCAM_STAT_SEND_WIDTH);
  double fps = 0;

  if (size == NULL)
    return NULL;
  peercam_call_stats_lookup (stats, PEERCAM_STAT_SEND_FPS, &fps);
  /* TRANSLATORS: the resolution the caller sends now and its frame rate,
   * e.g. "960×540 at 30 fps" */
  return g_strdup_printf (_("%s at %.0f fps"), size, fps);
}

static char *
format_fps (const PeercamCallStats *stats,
            PeercamStat             stat)
{
  double value;

  return peercam_call_stats_lookup (stats, stat, &value) ? g_strdup_printf (_("%.1f fps"), value) : NULL;
}

static char *
format_kbps (const PeercamCallStats *stats,
             PeercamStat             stat)
{
  double value;

  return peercam_call_stats_lookup (stats, stat, &value) ? g_strdup_printf (_("%.0f kbit/s"), value) : NULL;
}

static char *
format_ms (const PeercamCallStats *stats,
           PeercamStat             stat)
{
  double ms;

  if (!peercam_call_stats_lookup (stats, stat, &ms))
    return NULL;
  return ms >= 0 ? g_strdup_printf (_("%.0f ms"), ms) : g_strdup (_("unknown"));
}

static char *
format_percent (const PeercamCallStats *stats,
                PeercamStat             stat)
{
  double value;

  return peercam_call_stats_lookup (stats, stat, &value) ? g_strdup_printf (_("%.1f %%"), value) : NULL;
}

static char *
format_count (const PeercamCallStats *stats,
              PeercamStat             stat)
{
  double value;

  return peercam_call_stats_lookup (stats, stat, &value)
         ? g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) value) : NULL;
}

static const struct {
  PeercamStat  stat;
  const char  *name;     /* the value label's widget name, for tests */
  const char  *title;
  StatsFormat  format;
} stats_rows[] = {
  { PEERCAM_STAT_WIDTH,           "resolution",      N_("Resolution"),      format_size },
  { PEERCAM_STAT_FPS,             "fps",             N_("Frame rate"),      format_fps },
  { PEERCAM_STAT_KBPS,            "kbps",            N_("Bitrate"),         format_kbps },
  { PEERCAM_STAT_ESTIMATE_KBPS,   "estimate_kbps",   N_("Estimate"),        format_kbps },
  { PEERCAM_STAT_SEND_WIDTH,      "send_width",      N_("Sending"),         format_sending },
  { PEERCAM_STAT_SEND_KBPS,       "send_kbps",       N_("Send rate"),       format_kbps },
  { PEERCAM_STAT_LOSS_PCT,        "loss_pct",        N_("Loss"),            format_percent },
  { PEERCAM_STAT_RTT_MS,          "rtt_ms",          N_("Round trip"),      format_ms },
  { PEERCAM_STAT_JITTER_MS,       "jitter_ms",       N_("Jitter"),          format_ms },
  { PEERCAM_STAT_LATENCY_MS,      "latency_ms",      N_("Jitter buffer"),   format_ms },
  { PEERCAM_STAT_RETRANSMISSIONS, "retransmissions", N_("Retransmissions"), format_count },
};

/* Fills @grid (two columns: titles, values) with the rows @stats has;
 * rows of fields it lacks are hidden. The value labels are named after
 * their field ("resolution" for the first), so tests can find them. */
void
_peercam_window_show_stats (GtkGrid                *grid,
                            GtkWidget              *placeholder,
                            const PeercamCallStats *stats)
{
  for (guint i = 0; i < G_N_ELEMENTS (stats_rows); i++)
    {
      GtkWidget *title = gtk_grid_get_child_at (grid, 0, (int) i);
      GtkWidget *value = gtk_grid_get_child_at (grid, 1, (int) i);
      g_autofree char *text = stats_rows[i].format (stats, stats_rows[i].stat);

      if (title == NULL)
        {
          title = gtk_label_new (_(stats_rows[i].title));
          gtk_label_set_xalign (GTK_LABEL (title), 0);
          gtk_widget_add_css_class (title, "dim-label");
          gtk_grid_attach (grid, title, 0, (int) i, 1, 1);
          value = gtk_label_new (NULL);
          gtk_label_set_xalign (GTK_LABEL (value), 1);
          gtk_widget_set_name (value, stats_rows[i].name);
          gtk_grid_attach (grid, value, 1, (int) i, 1, 1);
        }
      gtk_label_set_label (GTK_LABEL (value), text ? text : "");
      gtk_widget_set_visible (title, text != NULL);
      gtk_widget_set_visible (value, text != NULL);
    }
  gtk_widget_set_visible (GTK_WIDGET (grid), TRUE);
  gtk_widget_set_visible (placeholder, FALSE);
}

AdwToast *
_peercam_toast_new (const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  return adw_toast_new (escaped);
}

void
_peercam_status_page_set_description (AdwStatusPage *page,
                                      const char    *text)
{
  g_autofree char *escaped = text ? g_markup_escape_text (text, -1) : NULL;

  adw_status_page_set_description (page, escaped);
}

static void
forget_news (AdwToastOverlay *overlay)
{
  g_object_set_data (G_OBJECT (overlay), "peercam-news", NULL);
}

AdwToast *
_peercam_window_show_news (AdwToastOverlay *overlay,
                           const char      *text)
{
  AdwToast *news = g_object_get_data (G_OBJECT (overlay), "peercam-news");

  /* Still shown or waiting: it says the newest now, for a whole timeout
   * again (adding an added toast restarts it). Dismissing it for a new
   * one instead crashed libadwaita 1.2 when news came within 0.2 s (a
   * toast dismissed while it still appears is freed before its show
   * animation ends): three viewers joining at once. */
  if (news != NULL)
    {
      g_autofree char *escaped = g_markup_escape_text (text, -1);

      adw_toast_set_title (news, escaped);
      adw_toast_overlay_add_toast (overlay, g_object_ref (news));
      return news;
    }
  news = _peercam_toast_new (text);
  g_signal_connect_object (news, "dismissed", G_CALLBACK (forget_news), overlay, G_CONNECT_SWAPPED);
  g_object_set_data_full (G_OBJECT (overlay), "peercam-news", g_object_ref (news), g_object_unref);
  adw_toast_overlay_add_toast (overlay, news);
  return news;
}

void
_peercam_window_show_error (AdwToastOverlay *overlay,
                            const char      *message)
{
  AdwToast *toast = _peercam_toast_new (message);

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
  gboolean caller = peercam_session_get_role (session) == PEERCAM_SESSION_ROLE_CALLER;
  g_autofree char *role = NULL;
  g_autofree char *full = NULL;

  if (number > 1)
    role = g_strdup_printf (caller ? _("Caller %u") : _("Viewer %u"), number);
  else
    role = g_strdup (caller ? _("Caller") : _("Viewer"));
  adw_window_title_set_title (title, role);
  adw_window_title_set_subtitle (title, subtitle);

  if (peercam_session_get_room_state (session) == PEERCAM_ROOM_STATE_JOINED)
    /* Translators: a window's title: its role, then its room */
    full = g_strdup_printf (_("%s — Room “%s”"), role, peercam_session_get_room (session));
  else
    full = g_strdup_printf ("%s — %s", role, subtitle);
  gtk_window_set_title (window, full);
}

void
_peercam_window_join (PeercamSession  *session,
                      AdwToastOverlay *overlay,
                      const char      *server_url,
                      const char      *room,
                      const char      *token,
                      const char      *pin)
{
  g_autoptr(GError) error = NULL;

  if (!peercam_session_join (session, server_url, room, token, pin, &error))
    _peercam_window_show_error (overlay, error->message);
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
  _peercam_window_join (target->session, target->overlay, url, room, token, pin);
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

/* Swapped: the session comes last. */
static void
on_session_error (AdwToastOverlay *overlay,
                  const char      *viewer,
                  const GError    *error,
                  PeercamSession  *session)
{
  /* What keeps the window out of its room shows on the page instead. */
  if (peercam_session_get_join_error (session) == NULL)
    _peercam_window_show_error (overlay, error->message);
}

GSignalGroup *
_peercam_window_follow_session (GtkWidget       *window,
                                AdwToastOverlay *overlay,
                                GCallback        update,
                                GCallback        on_state,
                                GCallback        on_stats)
{
  GSignalGroup *group = g_signal_group_new (PEERCAM_TYPE_SESSION);

  g_signal_group_connect_object (group, "error", G_CALLBACK (on_session_error), overlay, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (group, "stats", on_stats, window, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (group, "notify::state", on_state, window, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (group, "notify::room-state", update, window, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (group, "notify::poor-connection", update, window, G_CONNECT_SWAPPED);
  return group;
}

/* ------------------------------------------------------------------------ */
/* Why the window is not in its room                                          */

struct _PeercamRoomProblem
{
  GtkWidget      *window;          /* unowned: the problem lives as long */
  PeercamSession *session;         /* unowned, likewise */
  AdwToastOverlay *overlay;        /* unowned, likewise: Join a Room…'s errors */
  GCallback       update;

  /* The page (the window's template children) */
  GtkStack       *stack;
  AdwStatusPage  *page;
  GtkLabel       *details;
  GtkWidget      *retry;
  GtkWidget      *stop;
  GtkWidget      *trust;

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
_peercam_room_problem_new (GtkWidget       *window,
                           PeercamSession  *session,
                           AdwToastOverlay *overlay,
                           GCallback        update)
{
  PeercamRoomProblem *problem = g_new0 (PeercamRoomProblem, 1);

  problem->window = window;
  problem->session = session;
  problem->overlay = overlay;
  problem->update = update;
  g_object_set_data (G_OBJECT (window), "peercam-room-problem", problem);
  g_signal_connect_swapped (session, "notify::join-error", G_CALLBACK (on_join_error), problem);
  return problem;
}

void
_peercam_room_problem_free (PeercamRoomProblem *problem)
{
  if (problem == NULL)
    return;
  g_signal_handlers_disconnect_by_data (problem->session, problem);
  g_object_set_data (G_OBJECT (problem->window), "peercam-room-problem", NULL);
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

static void
on_probed (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  PeercamRoomProblem *problem = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *fingerprint = peercam_certificate_probe_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;   /* the problem is gone, or probes another address */
  g_clear_object (&problem->probe);
  problem->probed = TRUE;
  problem->fingerprint = g_steal_pointer (&fingerprint);
  g_debug ("certificate of %s: %s", problem->probed_url,
           problem->fingerprint ? problem->fingerprint : error ? error->message : "none");
  problem_update (problem);
}

/* Fetches the certificate of @url's host and port over TLS. */
static void
problem_probe (PeercamRoomProblem *problem,
               const char         *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  if (g_strcmp0 (problem->probed_url, url) == 0 || uri == NULL)
    return;
  g_cancellable_cancel (problem->probe);
  g_clear_object (&problem->probe);
  g_clear_pointer (&problem->fingerprint, g_free);
  g_free (problem->probed_url);
  problem->probed_url = g_strdup (url);
  problem->probed = FALSE;
  problem->probe = g_cancellable_new ();
  peercam_certificate_probe_async (url, problem->probe, on_probed, problem);
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
is_http (const char *url)
{
  return g_ascii_strncasecmp (url, "http:", 5) == 0 || g_ascii_strncasecmp (url, "ws:", 3) == 0;
}

gboolean
_peercam_room_problem_describe (PeercamRoomProblem *problem,
                                PeercamProblem     *out)
{
  PeercamJoinProblem kind = peercam_session_get_join_problem (problem->session);
  const char *url = peercam_session_get_server_url (problem->session);
  const char *room = peercam_session_get_room (problem->session);
  PeercamRoomState state = peercam_session_get_room_state (problem->session);

  memset (out, 0, sizeof *out);
  if (kind == PEERCAM_JOIN_PROBLEM_NONE || state == PEERCAM_ROOM_STATE_NONE)
    return FALSE;
  if (state == PEERCAM_ROOM_STATE_JOINED)
    return FALSE;

  if (kind == PEERCAM_JOIN_PROBLEM_ROOM_FULL)
    {
      out->icon_name = "system-users-symbolic";
      out->title = g_strdup (_("The Room Is Full"));
      out->description = g_strdup_printf (_("Room “%s” already has a caller and a viewer. "
                                            "Try again when one of them leaves, or join another room."), room);
      out->subtitle = g_strdup (_("Room is full"));
      out->can_retry = TRUE;
      return TRUE;
    }

  if (kind == PEERCAM_JOIN_PROBLEM_AUTH)
    {
      const char *token = peercam_session_get_token (problem->session);

      out->icon_name = "dialog-password-symbolic";
      out->title = g_strdup (token != NULL ? _("Wrong Access Token") : _("This Room Needs an Access Token"));
      out->description = g_strdup (_("The host of this room let only people with its access token in. "
                                     "Ask the host for the invite link and paste it into Join a Room…"));
      out->subtitle = g_strdup (_("Access token refused"));
      return TRUE;
    }

  if (kind == PEERCAM_JOIN_PROBLEM_CERTIFICATE || (is_http (url) && problem->fingerprint != NULL &&
                                       g_strcmp0 (problem->probed_url, url) == 0))
    {
      const char *pinned = peercam_session_get_pin (problem->session);

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

  if (state == PEERCAM_ROOM_STATE_RECONNECTING || state == PEERCAM_ROOM_STATE_FAILED)
    {
      /* A secure server answers plain HTTP by closing: find out. */
      if (is_http (url))
        problem_probe (problem, url);
      out->icon_name = "network-offline-symbolic";
      out->title = g_strdup (_("Cannot Reach the Host"));
      out->description = g_strdup_printf (state == PEERCAM_ROOM_STATE_RECONNECTING
                                          ? _("Nothing answers at %s. Check that the other computer is hosting "
                                              "and on the same network. Peercam keeps trying.")
                                          : _("Nothing answers at %s. Check that the other computer is hosting "
                                              "and on the same network."),
                                          url);
      out->subtitle = g_strdup (state == PEERCAM_ROOM_STATE_RECONNECTING ? _("Trying to reach the host…")
                                                                               : _("Cannot reach the host"));
      out->can_retry = TRUE;
      out->can_stop = TRUE;
      return TRUE;
    }

  return FALSE;
}

void
_peercam_room_problem_set_page (PeercamRoomProblem *problem,
                                GtkStack           *stack,
                                AdwStatusPage      *page,
                                GtkLabel           *details,
                                GtkWidget          *retry,
                                GtkWidget          *stop,
                                GtkWidget          *trust)
{
  problem->stack = stack;
  problem->page = page;
  problem->details = details;
  problem->retry = retry;
  problem->stop = stop;
  problem->trust = trust;
}

gboolean
_peercam_room_problem_show (PeercamRoomProblem  *problem,
                            char               **subtitle)
{
  PeercamProblem out;

  if (problem == NULL || problem->stack == NULL || !_peercam_room_problem_describe (problem, &out))
    return FALSE;
  adw_status_page_set_icon_name (problem->page, out.icon_name);
  adw_status_page_set_title (problem->page, out.title);
  _peercam_status_page_set_description (problem->page, out.description);
  gtk_label_set_label (problem->details, out.details ? out.details : "");
  gtk_widget_set_visible (GTK_WIDGET (problem->details), out.details != NULL);
  gtk_widget_set_visible (problem->retry, out.can_retry);
  gtk_widget_set_visible (problem->stop, out.can_stop);
  gtk_widget_set_visible (problem->trust, out.can_trust);
  gtk_stack_set_visible_child_name (problem->stack, "problem");
  g_free (*subtitle);
  *subtitle = g_steal_pointer (&out.subtitle);
  _peercam_problem_clear (&out);
  return TRUE;
}

static void
rejoin (PeercamRoomProblem *problem,
        const char         *url,
        const char         *pin)
{
  g_autofree char *room = g_strdup (peercam_session_get_room (problem->session));
  g_autofree char *token = g_strdup (peercam_session_get_token (problem->session));
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
  g_autofree char *url = g_strdup (peercam_session_get_server_url (problem->session));
  g_autofree char *pin = g_strdup (peercam_session_get_pin (problem->session));

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

static PeercamRoomProblem *
window_problem (GtkWidget *window)
{
  return g_object_get_data (G_OBJECT (window), "peercam-room-problem");
}

static void
room_join_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  PeercamRoomProblem *problem = window_problem (widget);

  if (problem != NULL)
    _peercam_window_present_join_dialog (GTK_WINDOW (widget), problem->session, problem->overlay);
}

static void
room_retry_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  if (window_problem (widget) != NULL)
    _peercam_room_problem_retry (window_problem (widget));
}

static void
room_stop_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  if (window_problem (widget) != NULL)
    _peercam_room_problem_stop (window_problem (widget));
}

static void
room_trust_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  if (window_problem (widget) != NULL)
    _peercam_room_problem_trust (window_problem (widget));
}

void
_peercam_window_install_room_actions (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "room.join", NULL, room_join_action);
  gtk_widget_class_install_action (widget_class, "room.retry", NULL, room_retry_action);
  gtk_widget_class_install_action (widget_class, "room.stop", NULL, room_stop_action);
  gtk_widget_class_install_action (widget_class, "room.trust", NULL, room_trust_action);
}

/* ------------------------------------------------------------------------ */
/* Fullscreen                                                                 */

typedef struct {
  GtkWidget           *window;          /* unowned: it holds this */
  GtkWidget           *header_bar;
  const char          *leave_action;
  PeercamShowControls  show_controls;
  PeercamShowControls  changed;
  guint                hide_id;         /* the controls fade out */
} Fullscreen;

static void
fullscreen_free (Fullscreen *fullscreen)
{
  g_clear_handle_id (&fullscreen->hide_id, g_source_remove);
  g_free (fullscreen);
}

static gboolean
hide_controls (gpointer data)
{
  Fullscreen *fullscreen = data;

  fullscreen->hide_id = 0;
  fullscreen->show_controls (fullscreen->window, FALSE);
  /* Nothing but the picture: the pointer goes too, until it moves. */
  gtk_widget_set_cursor_from_name (fullscreen->window, "none");
  return G_SOURCE_REMOVE;
}

/* Fullscreen: the controls show while the pointer moves, then go (with
 * the pointer) after two seconds. */
static void
show_controls (Fullscreen *fullscreen)
{
  if (!gtk_window_is_fullscreen (GTK_WINDOW (fullscreen->window)))
    return;
  gtk_widget_set_cursor (fullscreen->window, NULL);
  fullscreen->show_controls (fullscreen->window, TRUE);
  g_clear_handle_id (&fullscreen->hide_id, g_source_remove);
  fullscreen->hide_id = g_timeout_add_seconds (2, hide_controls, fullscreen);
}

static void
on_pointer_motion (GtkEventControllerMotion *controller,
                   double                    x,
                   double                    y,
                   Fullscreen               *fullscreen)
{
  show_controls (fullscreen);
}

/* Fullscreen is the picture alone: no header bar and no window controls,
 * the window's own controls floating over it, and Escape. */
static void
on_fullscreened (GtkWidget  *window,
                 GParamSpec *pspec,
                 Fullscreen *fullscreen)
{
  gboolean is_fullscreen = gtk_window_is_fullscreen (GTK_WINDOW (window));

  gtk_widget_set_visible (fullscreen->header_bar, !is_fullscreen);
  gtk_widget_action_set_enabled (window, fullscreen->leave_action, is_fullscreen);
  if (!is_fullscreen)
    {
      g_clear_handle_id (&fullscreen->hide_id, g_source_remove);
      gtk_widget_set_cursor (window, NULL);
    }
  fullscreen->changed (window, is_fullscreen);
  if (is_fullscreen)
    show_controls (fullscreen);
}

void
_peercam_window_setup_fullscreen (GtkWidget           *window,
                                  GtkWidget           *header_bar,
                                  const char          *leave_action,
                                  PeercamShowControls  show_controls,
                                  PeercamShowControls  changed)
{
  Fullscreen *fullscreen = g_new0 (Fullscreen, 1);
  GtkEventController *motion = gtk_event_controller_motion_new ();

  fullscreen->window = window;
  fullscreen->header_bar = header_bar;
  fullscreen->leave_action = leave_action;
  fullscreen->show_controls = show_controls;
  fullscreen->changed = changed;
  g_object_set_data_full (G_OBJECT (window), "peercam-fullscreen", fullscreen, (GDestroyNotify) fullscreen_free);

  g_signal_connect (motion, "motion", G_CALLBACK (on_pointer_motion), fullscreen);
  gtk_widget_add_controller (window, motion);
  g_signal_connect (window, "notify::fullscreened", G_CALLBACK (on_fullscreened), fullscreen);
  gtk_widget_action_set_enabled (window, leave_action, FALSE);
}

void
_peercam_window_stop_fullscreen (GtkWidget *window)
{
  Fullscreen *fullscreen = g_object_get_data (G_OBJECT (window), "peercam-fullscreen");

  if (fullscreen == NULL)
    return;
  g_signal_handlers_disconnect_by_data (window, fullscreen);
  g_clear_handle_id (&fullscreen->hide_id, g_source_remove);
}

void
_peercam_window_fullscreen_action (GtkWidget  *widget,
                                   const char *action_name,
                                   GVariant   *parameter)
{
  if (gtk_window_is_fullscreen (GTK_WINDOW (widget)))
    gtk_window_unfullscreen (GTK_WINDOW (widget));
  else
    gtk_window_fullscreen (GTK_WINDOW (widget));
}

void
_peercam_window_leave_fullscreen_action (GtkWidget  *widget,
                                         const char *action_name,
                                         GVariant   *parameter)
{
  gtk_window_unfullscreen (GTK_WINDOW (widget));
}
