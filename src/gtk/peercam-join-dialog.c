/* peercam-join-dialog.c — server URL, room and token; remembered in GSettings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "peercam-join-dialog.h"
#include "peercam-launch.h"

struct _PeercamJoinDialog
{
  AdwMessageDialog  parent_instance;

  GSettings        *settings;

  AdwEntryRow      *server_row;
  AdwEntryRow      *room_row;
  AdwEntryRow      *token_row;
  AdwActionRow     *pin_row;

  char             *server_url;   /* what the server row holds, as a server address */
  char             *pin;          /* from a pasted invite */
};

G_DEFINE_FINAL_TYPE (PeercamJoinDialog, peercam_join_dialog, ADW_TYPE_MESSAGE_DIALOG)

enum {
  JOIN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The server row takes an address or a whole invite link; an invite fills
 * the room and token rows and brings its certificate pin. */
static void
validate (PeercamJoinDialog *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->server_row));
  const char *room = gtk_editable_get_text (GTK_EDITABLE (self->room_row));
  g_autofree char *server_url = NULL;
  g_autofree char *invite_room = NULL;
  g_autofree char *token = NULL;
  g_autofree char *pin = NULL;
  gboolean url_ok = peercam_launch_parse_invite (text, &server_url, &invite_room, &token, &pin, NULL) &&
                    peercam_launch_validate_url (server_url, NULL);
  gboolean room_ok;

  g_clear_pointer (&self->server_url, g_free);
  g_clear_pointer (&self->pin, g_free);
  if (url_ok)
    {
      self->server_url = g_steal_pointer (&server_url);
      self->pin = g_steal_pointer (&pin);
      if (invite_room != NULL && g_strcmp0 (room, invite_room) != 0)
        gtk_editable_set_text (GTK_EDITABLE (self->room_row), invite_room);   /* validates again */
      if (token != NULL)
        gtk_editable_set_text (GTK_EDITABLE (self->token_row), token);
    }
  adw_action_row_set_subtitle (self->pin_row, self->pin ? self->pin : "");
  gtk_widget_set_visible (GTK_WIDGET (self->pin_row), self->pin != NULL);

  room = gtk_editable_get_text (GTK_EDITABLE (self->room_row));
  room_ok = *room != '\0' && strlen (room) <= 128;
  if (url_ok)
    gtk_widget_remove_css_class (GTK_WIDGET (self->server_row), "error");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->server_row), "error");

  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "join", url_ok && room_ok);
}

static void
peercam_join_dialog_response (AdwMessageDialog *dialog,
                              const char       *response)
{
  PeercamJoinDialog *self = PEERCAM_JOIN_DIALOG (dialog);

  /* libadwaita 1.2's AdwPasswordEntryRow follows its text's focus with a
   * handler that outlives the row: when the dialog closes and is disposed
   * with the focus still there (Enter in the token field), that handler
   * casts a finalized row to GtkEditable and the app dies. Drop the focus
   * while every row is still alive. */
  gtk_window_set_focus (GTK_WINDOW (self), NULL);

  if (g_str_equal (response, "join"))
    {
      g_autofree char *url = g_strdup (self->server_url);
      g_autofree char *pin = g_strdup (self->pin);
      const char *room = gtk_editable_get_text (GTK_EDITABLE (self->room_row));
      const char *token = gtk_editable_get_text (GTK_EDITABLE (self->token_row));

      if (url == NULL)
        return;
      /* The address and room, never the token, are remembered. */
      g_settings_set_string (self->settings, "server-url", url);
      g_settings_set_string (self->settings, "room", room);
      g_signal_emit (self, signals[JOIN], 0, url, room, token, pin);
    }

  /* libadwaita 1.2 has no default handler to chain up to. */
  if (ADW_MESSAGE_DIALOG_CLASS (peercam_join_dialog_parent_class)->response != NULL)
    ADW_MESSAGE_DIALOG_CLASS (peercam_join_dialog_parent_class)->response (dialog, response);
}

static void
peercam_join_dialog_dispose (GObject *object)
{
  PeercamJoinDialog *self = PEERCAM_JOIN_DIALOG (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), PEERCAM_TYPE_JOIN_DIALOG);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->server_url, g_free);
  g_clear_pointer (&self->pin, g_free);

  G_OBJECT_CLASS (peercam_join_dialog_parent_class)->dispose (object);
}

static void
peercam_join_dialog_class_init (PeercamJoinDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  AdwMessageDialogClass *dialog_class = ADW_MESSAGE_DIALOG_CLASS (klass);

  object_class->dispose = peercam_join_dialog_dispose;
  dialog_class->response = peercam_join_dialog_response;

  signals[JOIN] =
    g_signal_new ("join",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 4, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/peercam/Peercam/peercam-join-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, PeercamJoinDialog, server_row);
  gtk_widget_class_bind_template_child (widget_class, PeercamJoinDialog, room_row);
  gtk_widget_class_bind_template_child (widget_class, PeercamJoinDialog, token_row);
  gtk_widget_class_bind_template_child (widget_class, PeercamJoinDialog, pin_row);
}

static void
peercam_join_dialog_init (PeercamJoinDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_swapped (self->server_row, "changed", G_CALLBACK (validate), self);
  g_signal_connect_swapped (self->room_row, "changed", G_CALLBACK (validate), self);
}

PeercamJoinDialog *
peercam_join_dialog_new (GtkWindow *parent,
                         GSettings *settings)
{
  PeercamJoinDialog *self = g_object_new (PEERCAM_TYPE_JOIN_DIALOG,
                                          "transient-for", parent,
                                          "modal", TRUE,
                                          NULL);
  g_autofree char *url = g_settings_get_string (settings, "server-url");
  g_autofree char *room = g_settings_get_string (settings, "room");

  self->settings = g_object_ref (settings);
  gtk_editable_set_text (GTK_EDITABLE (self->server_row), url);
  gtk_editable_set_text (GTK_EDITABLE (self->room_row), room);
  validate (self);

  return self;
}

/* Pre-fills the server row with @link: an address or an invite. */
void
peercam_join_dialog_set_link (PeercamJoinDialog *self,
                              const char        *link)
{
  g_return_if_fail (PEERCAM_IS_JOIN_DIALOG (self));

  gtk_editable_set_text (GTK_EDITABLE (self->server_row), link);
  validate (self);
}
