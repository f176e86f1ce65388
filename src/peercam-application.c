/* peercam-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "peercam-application.h"
#include "peercam-caller-window.h"
#include "peercam-resources.h"
#include "peercam-viewer-window.h"

struct _PeercamApplication
{
  AdwApplication  parent_instance;

  PeercamOptions *options;
  GSettings      *settings;
};

G_DEFINE_FINAL_TYPE (PeercamApplication, peercam_application, ADW_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "caller", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Open a caller window (sends video; the default)"), NULL },
  { "viewer", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Open a viewer window (shows the remote video)"), NULL },
  { "server", 's', 0, G_OPTION_ARG_STRING, NULL,
    N_("Signaling server to join, e.g. http://127.0.0.1:8080"), N_("URL") },
  { "room", 'r', 0, G_OPTION_ARG_STRING, NULL,
    N_("Room to join on the signaling server"), N_("NAME") },
  { "source", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Video source: “test”, “camera” or a device name"), N_("test|camera|DEVICE") },
  { "call", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Call as soon as local video runs and a viewer is in the room"), NULL },
  { "host", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Host a room with the embedded signaling server (--host=PORT sets the port)"), NULL },
  { "host-only", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Run only the signaling server, without a window"), NULL },
  { "port", 'p', 0, G_OPTION_ARG_STRING, NULL,
    N_("Port of the hosted signaling server (default 8080)"), N_("N") },
  { "bind", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Address the hosted server listens on (default: all)"), N_("ADDR") },
  { "token", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Access token for the room (hosting and joining)"), N_("TOKEN") },
  { "pin", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Accept the server's self-signed certificate with this SHA-256 fingerprint"), N_("SHA256") },
  { "ice-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL,
    N_("Gather ICE candidates only on this local address (repeatable)"), N_("ADDR") },
  { "headless", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Run the caller or viewer without a window"), NULL },
  { "events", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("With --headless: print one JSON event per line on standard output"), NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Print the version and exit"), NULL },
  { NULL }
};

PeercamApplication *
peercam_application_new (void)
{
  return g_object_new (PEERCAM_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_COMMAND_LINE,
                       "resource-base-path", "/io/github/peercam/Peercam",
                       NULL);
}

const PeercamOptions *
peercam_application_get_options (PeercamApplication *self)
{
  g_return_val_if_fail (PEERCAM_IS_APPLICATION (self), NULL);

  return self->options;
}

GtkWindow *
peercam_application_new_caller_window (PeercamApplication *self)
{
  GtkWindow *window;

  g_return_val_if_fail (PEERCAM_IS_APPLICATION (self), NULL);

  window = GTK_WINDOW (peercam_caller_window_new (self));
  gtk_window_present (window);
  return window;
}

GtkWindow *
peercam_application_new_viewer_window (PeercamApplication *self)
{
  GtkWindow *window;

  g_return_val_if_fail (PEERCAM_IS_APPLICATION (self), NULL);

  window = GTK_WINDOW (peercam_viewer_window_new (self));
  gtk_window_present (window);
  return window;
}

static int
peercam_application_handle_local_options (GApplication *app,
                                          GVariantDict *dict)
{
  g_autoptr(PeercamOptions) options = NULL;
  g_autoptr(GError) error = NULL;

  if (g_variant_dict_contains (dict, "version"))
    {
      g_print ("peercam %s\n", PACKAGE_VERSION);
      return 0;
    }

  options = peercam_options_new_from_dict (dict, &error);
  if (options == NULL)
    {
      g_printerr ("peercam: %s\n", error->message);
      g_printerr (_("Run “%s --help” to see all options.\n"), g_get_prgname ());
      return 2;
    }

  /* Without a window there is nothing to share with a running instance:
   * headless runs and servers are processes of their own. */
  if (options->headless || options->host_only)
    g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);

  return -1;
}

static int
peercam_application_command_line (GApplication            *app,
                                  GApplicationCommandLine *command_line)
{
  PeercamApplication *self = PEERCAM_APPLICATION (app);
  g_autoptr(PeercamOptions) options = NULL;
  g_autoptr(GError) error = NULL;
  GVariantDict *dict = g_application_command_line_get_options_dict (command_line);

  options = peercam_options_new_from_dict (dict, &error);
  if (options == NULL)
    {
      g_application_command_line_printerr (command_line, "peercam: %s\n", error->message);
      return 2;
    }

  g_clear_pointer (&self->options, peercam_options_free);
  self->options = g_steal_pointer (&options);

  if (self->options->headless || self->options->host_only)
    {
      g_application_command_line_printerr (command_line, "peercam: %s\n",
                                           _("Headless mode is not available in this build"));
      return 1;
    }

  if (self->options->mode == PEERCAM_MODE_VIEWER)
    peercam_application_new_viewer_window (self);
  else
    peercam_application_new_caller_window (self);

  return 0;
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
  /* Filled in by the hosting work; the menu entry exists from the start. */
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
}

static const GActionEntry app_actions[] = {
  { "new-caller", new_caller_action },
  { "new-viewer", new_viewer_action },
  { "host", host_action },
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
peercam_application_finalize (GObject *object)
{
  PeercamApplication *self = PEERCAM_APPLICATION (object);

  g_clear_pointer (&self->options, peercam_options_free);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (peercam_application_parent_class)->finalize (object);
}

static void
peercam_application_class_init (PeercamApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = peercam_application_finalize;

  peercam_register_resource ();

  app_class->handle_local_options = peercam_application_handle_local_options;
  app_class->command_line = peercam_application_command_line;
  app_class->activate = peercam_application_activate;
  app_class->startup = peercam_application_startup;
}

static void
peercam_application_init (PeercamApplication *self)
{
  self->options = peercam_options_new ();

  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Send live camera video to another computer over WebRTC."));
}
