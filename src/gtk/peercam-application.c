/* peercam-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <gst/gst.h>
#include <libportal/portal.h>
#include <string.h>

#include "peercam-application.h"
#include "peercam-caller-window.h"
#include "peercam-host-window.h"
#include "peercam-init.h"
#include "peercam-preferences-window.h"
#include "peercam-resources.h"
#include "peercam-session.h"
#include "peercam-viewer-window.h"

struct _PeercamApplication
{
  AdwApplication  parent_instance;

  PeercamLaunch  *launch;            /* the command line */
  GSettings      *settings;
  PeercamHost    *host;              /* while hosting a room */
  PeercamHostWindow *host_window;
  XdpPortal      *portal;            /* background permission, sandboxed */
};

G_DEFINE_FINAL_TYPE (PeercamApplication, peercam_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_HOST,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];


PeercamApplication *
peercam_application_new (void)
{
  return g_object_new (PEERCAM_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/io/github/peercam/Peercam",
                       NULL);
}

PeercamLaunch *
peercam_application_get_launch (PeercamApplication *self)
{
  g_return_val_if_fail (PEERCAM_IS_APPLICATION (self), NULL);

  return self->launch;
}

GSettings *
peercam_application_get_settings (PeercamApplication *self)
{
  g_return_val_if_fail (PEERCAM_IS_APPLICATION (self), NULL);

  if (self->settings == NULL)
    self->settings = g_settings_new (APP_ID);
  return self->settings;
}

/* The room this instance hosts, or NULL. */
PeercamHost *
peercam_application_get_host (PeercamApplication *self)
{
  g_return_val_if_fail (PEERCAM_IS_APPLICATION (self), NULL);

  return self->host;
}

static void join_idle_windows (PeercamApplication *self);

gboolean
peercam_application_start_hosting (PeercamApplication  *self,
                                   guint                port,
                                   const char          *token,
                                   gboolean             tls,
                                   GError             **error)
{
  g_autoptr(PeercamHost) host = NULL;

  g_return_val_if_fail (PEERCAM_IS_APPLICATION (self), FALSE);

  if (self->host != NULL)
    return TRUE;

  host = peercam_launch_new_host (self->launch);
  peercam_host_set_port (host, port);
  peercam_host_set_token (host, token);
  peercam_host_set_tls (host, tls);
  if (peercam_launch_get_max_viewers (self->launch) <= 0)
    peercam_host_set_max_viewers (host, g_settings_get_uint (peercam_application_get_settings (self), "max-viewers"));
  if (!peercam_host_start (host, error))
    return FALSE;

  self->host = g_steal_pointer (&host);
  /* Hosting outlives every window. */
  g_application_hold (G_APPLICATION (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOST]);
  join_idle_windows (self);

  return TRUE;
}

void
peercam_application_stop_hosting (PeercamApplication *self)
{
  g_return_if_fail (PEERCAM_IS_APPLICATION (self));

  if (self->host == NULL)
    return;

  peercam_host_stop (self->host);
  g_clear_object (&self->host);
  g_application_withdraw_notification (G_APPLICATION (self), "hosting");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOST]);
  g_application_release (G_APPLICATION (self));
}

/* The address this instance's own windows use to join the room it hosts. */
char *
peercam_application_dup_local_url (PeercamApplication *self)
{
  g_return_val_if_fail (PEERCAM_IS_APPLICATION (self), NULL);

  return self->host ? peercam_host_dup_local_url (self->host) : NULL;
}

static char *
dup_room (PeercamApplication *self)
{
  if (peercam_launch_get_room (self->launch) != NULL)
    return g_strdup (peercam_launch_get_room (self->launch));
  return g_settings_get_string (peercam_application_get_settings (self), "room");
}

static PeercamSession *
window_get_session (GtkWindow *window)
{
  if (PEERCAM_IS_CALLER_WINDOW (window))
    return peercam_caller_window_get_session (PEERCAM_CALLER_WINDOW (window));
  if (PEERCAM_IS_VIEWER_WINDOW (window))
    return peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (window));
  return NULL;
}

static void
window_join (GtkWindow  *window,
             const char *url,
             const char *room,
             const char *token,
             const char *pin)
{
  if (PEERCAM_IS_CALLER_WINDOW (window))
    peercam_caller_window_join (PEERCAM_CALLER_WINDOW (window), url, room, token, pin);
  else if (PEERCAM_IS_VIEWER_WINDOW (window))
    peercam_viewer_window_join (PEERCAM_VIEWER_WINDOW (window), url, room, token, pin);
}

static gboolean
session_in_a_room (PeercamSession *session)
{
  switch (peercam_session_get_room_state (session))
    {
    case PEERCAM_ROOM_STATE_NONE:
    case PEERCAM_ROOM_STATE_DISCONNECTED:
    case PEERCAM_ROOM_STATE_FAILED:
      return FALSE;
    default:
      return TRUE;
    }
}

/* The host's own windows join the room it hosts with its token and its
 * certificate pinned, whatever the command line said. */
static gboolean
join_hosted_room (PeercamApplication *self,
                  GtkWindow          *window)
{
  g_autofree char *url = peercam_application_dup_local_url (self);
  g_autofree char *room = NULL;

  if (url == NULL)
    return FALSE;
  room = dup_room (self);
  window_join (window, url, room, peercam_host_get_token (self->host), peercam_host_get_fingerprint (self->host));
  return TRUE;
}

/* The invite to the hosted room: for this computer's own windows
 * (@local: the loopback address), or the first of the host window's. */
char *
peercam_application_dup_hosted_invite (PeercamApplication *self,
                                       gboolean            local)
{
  g_autofree char *room = NULL;
  g_auto(GStrv) invites = NULL;

  g_return_val_if_fail (PEERCAM_IS_APPLICATION (self), NULL);

  if (self->host == NULL)
    return NULL;
  room = dup_room (self);
  if (local)
    return peercam_host_dup_local_invite (self->host, room);
  invites = peercam_host_dup_invites (self->host, room);
  return invites[0] ? g_strdup (invites[0]) : NULL;
}

/* Where a new window joins: the server named on the command line, else the
 * room this instance hosts; with neither, the window waits for Join a Room…
 * rather than failing against a server that may not exist. */
static void
join_new_window (PeercamApplication *self,
                 GtkWindow          *window)
{
  if (peercam_launch_get_server (self->launch) != NULL)
    {
      g_autofree char *room = dup_room (self);

      window_join (window, peercam_launch_get_server (self->launch), room,
                   peercam_launch_get_token (self->launch), peercam_launch_get_pin (self->launch));
      return;
    }
  join_hosted_room (self, window);
}

/* Hosting started: every window that is in no room joins the hosted one. */
static void
join_idle_windows (PeercamApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    {
      PeercamSession *session = window_get_session (l->data);

      if (session != NULL && !session_in_a_room (session))
        join_hosted_room (self, l->data);
    }
}

static void
configure_session (PeercamApplication *self,
                   PeercamSession     *session)
{
  peercam_launch_configure_session (self->launch, session);
}

GtkWindow *
peercam_application_new_caller_window (PeercamApplication *self)
{
  PeercamCallerWindow *window;

  g_return_val_if_fail (PEERCAM_IS_APPLICATION (self), NULL);

  window = peercam_caller_window_new (self);
  configure_session (self, peercam_caller_window_get_session (window));
  if (peercam_launch_get_source (self->launch) != NULL)
    peercam_caller_window_set_source (window, peercam_launch_get_source (self->launch));

  join_new_window (self, GTK_WINDOW (window));

  gtk_window_present (GTK_WINDOW (window));
  return GTK_WINDOW (window);
}

GtkWindow *
peercam_application_new_viewer_window (PeercamApplication *self)
{
  PeercamViewerWindow *window;

  g_return_val_if_fail (PEERCAM_IS_APPLICATION (self), NULL);

  window = peercam_viewer_window_new (self);
  configure_session (self, peercam_viewer_window_get_session (window));

  join_new_window (self, GTK_WINDOW (window));

  gtk_window_present (GTK_WINDOW (window));
  return GTK_WINDOW (window);
}

static int
peercam_application_handle_local_options (GApplication *app,
                                          GVariantDict *dict)
{
  g_autoptr(PeercamLaunch) launch = NULL;
  g_autoptr(GError) error = NULL;

  if (g_variant_dict_contains (dict, "version"))
    {
      g_print ("peercam %s\n", PACKAGE_VERSION);
      return 0;
    }

  launch = peercam_launch_new_from_dict (dict, &error);
  if (launch == NULL)
    {
      g_printerr ("peercam: %s\n", error->message);
      g_printerr (_("Run “%s --help” to see all options.\n"), g_get_prgname ());
      return 2;
    }

  return -1;
}

static int
peercam_application_command_line (GApplication            *app,
                                  GApplicationCommandLine *command_line)
{
  PeercamApplication *self = PEERCAM_APPLICATION (app);
  g_autoptr(PeercamLaunch) launch = NULL;
  g_autoptr(GError) error = NULL;
  GVariantDict *dict = g_application_command_line_get_options_dict (command_line);

  launch = peercam_launch_new_from_dict (dict, &error);
  if (launch == NULL)
    {
      g_application_command_line_printerr (command_line, "peercam: %s\n", error->message);
      return 2;
    }

  g_set_object (&self->launch, launch);

  /* `peercam LINK…` (the desktop file's %U): each is an invite. */
  {
    int argc = 0;
    g_auto(GStrv) argv = g_application_command_line_get_arguments (command_line, &argc);

    if (argc > 1)
      {
        for (int i = 1; i < argc; i++)
          if (!peercam_application_open_invite (self, argv[i], &error))
            {
              g_application_command_line_printerr (command_line, "peercam: %s\n", error->message);
              return 2;
            }
        return 0;
      }
  }

  if (peercam_launch_get_host (self->launch))
    {
      GSettings *settings = peercam_application_get_settings (self);
      g_autofree char *token = g_settings_get_string (settings, "host-token");
      int port = peercam_launch_get_port (self->launch);
      const char *given_token = peercam_launch_get_token (self->launch);

      if (!peercam_application_start_hosting (self, port >= 0 ? (guint) port
                                                              : g_settings_get_uint (settings, "host-port"),
                                              given_token ? given_token : token,
                                              peercam_launch_get_tls (self->launch) ||
                                              g_settings_get_boolean (settings, "host-tls"),
                                              &error))
        g_application_command_line_printerr (command_line, "peercam: %s\n", error->message);
    }

  if (peercam_launch_get_viewer (self->launch))
    {
      GtkWindow *window = peercam_application_new_viewer_window (self);

      if (error != NULL)
        peercam_viewer_window_show_error (PEERCAM_VIEWER_WINDOW (window), error->message);
    }
  else
    {
      GtkWindow *window = peercam_application_new_caller_window (self);

      if (error != NULL)
        peercam_caller_window_show_error (PEERCAM_CALLER_WINDOW (window), error->message);

      if (peercam_launch_get_call (self->launch))
        {
          PeercamSession *session = peercam_caller_window_get_session (PEERCAM_CALLER_WINDOW (window));

          /* --call: start local video now, call when a viewer is in the room. */
          peercam_session_set_auto_call (session, TRUE);
          gtk_widget_activate_action (GTK_WIDGET (window), "caller.get-local-video", NULL);
        }
    }

  /* Options describe this command line only; windows opened later from the
   * menu start from the settings. */
  peercam_launch_forget_join (self->launch);

  return 0;
}

/* ------------------------------------------------------------------------ */
/* Hosting with no window                                                    */

static gboolean
is_main_window (gpointer window)
{
  return PEERCAM_IS_CALLER_WINDOW (window) || PEERCAM_IS_VIEWER_WINDOW (window) ||
         PEERCAM_IS_HOST_WINDOW (window);
}

static guint
count_main_windows (PeercamApplication *self)
{
  guint n = 0;

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (is_main_window (l->data) && gtk_widget_get_visible (l->data))
      n++;
  return n;
}

static void
on_background_granted (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!xdp_portal_request_background_finish (XDP_PORTAL (object), result, &error))
    g_info ("Background permission not granted: %s", error ? error->message : "refused");
}

/* Hosting goes on with no window: the desktop is told (a notification that
 * can stop it; in a sandbox, the background portal's permission). */
static void
keep_hosting_in_background (PeercamApplication *self)
{
  g_autoptr(GNotification) notification = g_notification_new (_("Peercam is hosting a room"));
  g_autofree char *room = dup_room (self);
  g_autofree char *body = g_strdup_printf (_("Others can join room “%s” on this computer."), room);

  g_notification_set_body (notification, body);
  g_notification_set_default_action (notification, "app.host");
  g_notification_add_button (notification, _("Stop Hosting"), "app.stop-hosting");
  g_application_send_notification (G_APPLICATION (self), "hosting", notification);

  if (xdp_portal_running_under_sandbox ())
    {
      g_autoptr(GPtrArray) commandline = g_ptr_array_new_with_free_func (g_free);

      if (self->portal == NULL)
        self->portal = xdp_portal_new ();
      g_ptr_array_add (commandline, g_strdup ("peercam"));
      g_ptr_array_add (commandline, g_strdup ("--host"));
      xdp_portal_request_background (self->portal, NULL, _("Peercam hosts a room others can join"),
                                     commandline, XDP_BACKGROUND_FLAG_NONE, NULL,
                                     on_background_granted, NULL);
    }
}

static gboolean
destroy_window_idle (gpointer window)
{
  gtk_window_destroy (window);
  return G_SOURCE_REMOVE;
}

static void
on_last_window_response (AdwMessageDialog *dialog,
                         const char       *response,
                         GtkWindow        *window)
{
  PeercamApplication *self = PEERCAM_APPLICATION (gtk_window_get_application (window));

  if (g_str_equal (response, "cancel"))
    return;
  if (g_str_equal (response, "stop"))
    peercam_application_stop_hosting (self);
  else if (self->host != NULL)
    keep_hosting_in_background (self);
  /* After the dialog finished its own response handling; it goes with
   * the window. */
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, destroy_window_idle, g_object_ref (window), g_object_unref);
}

/* Closing the last window while hosting would leave a server listening
 * with nothing on screen: ask. */
static gboolean
on_close_request (GtkWindow          *window,
                  PeercamApplication *self)
{
  AdwMessageDialog *dialog;
  g_autofree char *room = NULL;

  if (self->host == NULL || count_main_windows (self) > 1)
    return FALSE;

  room = dup_room (self);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (window, _("Keep Hosting in the Background?"), NULL));
  adw_message_dialog_format_body (dialog,
                                  _("Others can still join room “%s” on this computer while Peercam runs "
                                    "without a window. A notification lets you stop hosting later."),
                                  room);
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "stop", _("_Stop Hosting"),
                                    "keep", _("_Keep Hosting"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "stop", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_appearance (dialog, "keep", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "keep");
  adw_message_dialog_set_close_response (dialog, "cancel");
  gtk_window_set_destroy_with_parent (GTK_WINDOW (dialog), TRUE);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_last_window_response), window, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  return TRUE;
}

static void
peercam_application_window_added (GtkApplication *app,
                                  GtkWindow      *window)
{
  GTK_APPLICATION_CLASS (peercam_application_parent_class)->window_added (app, window);

  if (is_main_window (window))
    g_signal_connect_object (window, "close-request", G_CALLBACK (on_close_request), app, 0);
}

static void
stop_hosting_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  peercam_application_stop_hosting (PEERCAM_APPLICATION (user_data));
}

/* An invite opened from elsewhere (a peercam:// link, or `peercam LINK`):
 * join it in the active window if that is in no room, else in a new viewer
 * window, the usual role of whoever gets an invite. */
gboolean
peercam_application_open_invite (PeercamApplication  *self,
                                 const char          *link,
                                 GError             **error)
{
  g_autofree char *server_url = NULL;
  g_autofree char *invite_room = NULL;
  g_autofree char *token = NULL;
  g_autofree char *pin = NULL;
  GtkWindow *window;
  PeercamSession *session;
  g_autofree char *room = NULL;

  g_return_val_if_fail (PEERCAM_IS_APPLICATION (self), FALSE);

  if (!peercam_launch_parse_invite (link, &server_url, &invite_room, &token, &pin, error))
    return FALSE;
  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  session = window ? window_get_session (window) : NULL;
  if (session == NULL || session_in_a_room (session))
    {
      window = GTK_WINDOW (peercam_viewer_window_new (self));
      configure_session (self, window_get_session (window));
    }
  room = invite_room ? g_strdup (invite_room) : dup_room (self);
  window_join (window, server_url, room, token, pin);
  gtk_window_present (window);
  return TRUE;
}

static void
peercam_application_open (GApplication  *app,
                          GFile        **files,
                          int            n_files,
                          const char    *hint)
{
  PeercamApplication *self = PEERCAM_APPLICATION (app);

  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *uri = g_file_get_uri (files[i]);
      g_autoptr(GError) error = NULL;

      if (!peercam_application_open_invite (self, uri, &error))
        g_warning ("%s", error->message);
    }
}

static void
peercam_application_activate (GApplication *app)
{
  PeercamApplication *self = PEERCAM_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    window = peercam_application_new_caller_window (self);

  gtk_window_present (window);
}

static void
new_caller_action (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  peercam_application_new_caller_window (PEERCAM_APPLICATION (user_data));
}

static void
new_viewer_action (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  peercam_application_new_viewer_window (PEERCAM_APPLICATION (user_data));
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  PeercamApplication *self = PEERCAM_APPLICATION (user_data);
  static const char *developers[] = { "The Peercam developers", NULL };

  adw_show_about_window (gtk_application_get_active_window (GTK_APPLICATION (self)),
                         "application-name", _("Peercam"),
                         "application-icon", APP_ID,
                         "developer-name", _("The Peercam developers"),
                         "version", PACKAGE_VERSION,
                         "website", "https://github.com/peercam/peercam",
                         "issue-url", "https://github.com/peercam/peercam/issues",
                         "comments", _("Send live camera video to another computer"),
                         "developers", developers,
                         /* Translators: Replace "translator-credits" with your names, one name per line */
                         "translator-credits", _("translator-credits"),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         NULL);
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
host_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  PeercamApplication *self = PEERCAM_APPLICATION (user_data);

  if (self->host_window == NULL)
    {
      self->host_window = peercam_host_window_new (self);
      g_object_add_weak_pointer (G_OBJECT (self->host_window), (gpointer *) &self->host_window);
    }

  gtk_window_present (GTK_WINDOW (self->host_window));
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  PeercamApplication *self = PEERCAM_APPLICATION (user_data);
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  PeercamPreferencesWindow *window;

  window = peercam_preferences_window_new (parent, peercam_application_get_settings (self));
  gtk_window_set_application (GTK_WINDOW (window), GTK_APPLICATION (self));
  gtk_window_present (GTK_WINDOW (window));
}

static const GActionEntry app_actions[] = {
  { "new-caller", new_caller_action },
  { "new-viewer", new_viewer_action },
  { "host", host_action },
  { "stop-hosting", stop_hosting_action },
  { "preferences", preferences_action },
  { "about", about_action },
  { "quit", quit_action },
};

static void
peercam_application_startup (GApplication *app)
{
  PeercamApplication *self = PEERCAM_APPLICATION (app);
  GtkApplication *gtk_app = GTK_APPLICATION (app);

  G_APPLICATION_CLASS (peercam_application_parent_class)->startup (app);

  /* Plugins and the DTLS certificate load in the background now, so the
   * first call is as fast as the ones after it. */
  peercam_session_warm_up ();

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);

  gtk_application_set_accels_for_action (gtk_app, "app.new-caller", (const char *[]) { "<Control>n", NULL });
  gtk_application_set_accels_for_action (gtk_app, "app.new-viewer", (const char *[]) { "<Control><Shift>n", NULL });
  gtk_application_set_accels_for_action (gtk_app, "app.host", (const char *[]) { "<Control><Shift>h", NULL });
  gtk_application_set_accels_for_action (gtk_app, "app.preferences", (const char *[]) { "<Control>comma", NULL });
  gtk_application_set_accels_for_action (gtk_app, "app.quit", (const char *[]) { "<Control>q", NULL });
  gtk_application_set_accels_for_action (gtk_app, "window.close", (const char *[]) { "<Control>w", NULL });
  gtk_application_set_accels_for_action (gtk_app, "room.join", (const char *[]) { "<Control>j", NULL });
}

static void
peercam_application_shutdown (GApplication *app)
{
  PeercamApplication *self = PEERCAM_APPLICATION (app);

  if (self->host != NULL)
    {
      peercam_host_stop (self->host);
      g_clear_object (&self->host);
    }
  peercam_session_warm_up_stop ();

  G_APPLICATION_CLASS (peercam_application_parent_class)->shutdown (app);
}

static void
peercam_application_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  PeercamApplication *self = PEERCAM_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_HOST:
      g_value_set_object (value, self->host);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_application_finalize (GObject *object)
{
  PeercamApplication *self = PEERCAM_APPLICATION (object);

  g_clear_object (&self->launch);
  g_clear_object (&self->settings);
  g_clear_object (&self->host);
  g_clear_object (&self->portal);

  G_OBJECT_CLASS (peercam_application_parent_class)->finalize (object);
}

static void
peercam_application_class_init (PeercamApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);
  GtkApplicationClass *gtk_app_class = GTK_APPLICATION_CLASS (klass);

  object_class->finalize = peercam_application_finalize;
  object_class->get_property = peercam_application_get_property;

  properties[PROP_HOST] =
    g_param_spec_object ("host", NULL, NULL,
                         PEERCAM_TYPE_HOST,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  peercam_register_resource ();

  app_class->handle_local_options = peercam_application_handle_local_options;
  app_class->command_line = peercam_application_command_line;
  app_class->activate = peercam_application_activate;
  app_class->open = peercam_application_open;
  app_class->startup = peercam_application_startup;
  app_class->shutdown = peercam_application_shutdown;
  gtk_app_class->window_added = peercam_application_window_added;
}

static void
peercam_application_init (PeercamApplication *self)
{
  /* Idempotent (main() has done it first); the windows' call engines need
   * it, and tests that make an application without main() get it here. */
  peercam_init (NULL, NULL);

  self->launch = peercam_launch_new ();

  g_application_add_main_option_entries (G_APPLICATION (self), peercam_launch_get_entries ());
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Send live camera video to another computer over WebRTC."));
}
