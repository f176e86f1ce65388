/* peercam-viewer-list.c — the viewers of a caller's room (issue 15)
 *
 * Rows follow the PeercamViewer items they show (state, bitrate) through
 * property notifications; the list box follows the model.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <adwaita.h>

#include "peercam-viewer-list.h"
#include "peercam-viewer.h"

struct _PeercamViewerList
{
  GtkWidget   parent_instance;

  GtkWidget  *box;
  GtkLabel   *empty_label;
  GtkListBox *list_box;
  GListModel *model;
};

G_DEFINE_FINAL_TYPE (PeercamViewerList, peercam_viewer_list, GTK_TYPE_WIDGET)

static const char *
state_text (PeercamSessionState state)
{
  switch (state)
    {
    case PEERCAM_SESSION_STATE_CALLING: return _("Calling…");
    case PEERCAM_SESSION_STATE_CONNECTING: return _("Connecting…");
    case PEERCAM_SESSION_STATE_CONNECTED: return _("Connected");
    case PEERCAM_SESSION_STATE_FAILED: return _("Call failed");
    case PEERCAM_SESSION_STATE_IDLE:
    case PEERCAM_SESSION_STATE_PREVIEW:
    case PEERCAM_SESSION_STATE_ENDED:
    default: return _("Not in a call");
    }
}

static void
update_row (AdwActionRow *row,
            GParamSpec   *pspec,
            PeercamViewer *viewer)
{
  PeercamSessionState state = peercam_viewer_get_state (viewer);
  GtkWidget *button = g_object_get_data (G_OBJECT (row), "disconnect");
  GtkWidget *call = g_object_get_data (G_OBJECT (row), "call");
  gboolean in_call = state == PEERCAM_SESSION_STATE_CALLING || state == PEERCAM_SESSION_STATE_CONNECTING ||
                     state == PEERCAM_SESSION_STATE_CONNECTED;
  g_autofree char *subtitle = NULL;

  if (state == PEERCAM_SESSION_STATE_CONNECTED && peercam_viewer_get_kbps (viewer) > 0)
    /* Translators: a viewer's row: call state · what is sent to it */
    subtitle = g_strdup_printf (_("%s · %.1f Mbit/s"), state_text (state), peercam_viewer_get_kbps (viewer) / 1000.0);
  else
    subtitle = g_strdup (state_text (state));
  adw_action_row_set_subtitle (row, subtitle);
  /* One button: Disconnect in a call, Call out of one. */
  gtk_widget_set_visible (button, in_call);
  gtk_widget_set_visible (call, !in_call);
}

static GtkWidget *
create_row (gpointer item,
            gpointer user_data)
{
  PeercamViewer *viewer = item;
  AdwActionRow *row = ADW_ACTION_ROW (adw_action_row_new ());
  GtkWidget *button = gtk_button_new_with_mnemonic (_("_Disconnect"));
  GtkWidget *call;
  const char *id = peercam_viewer_get_id (viewer);

  /* Names and states are text, not markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), peercam_viewer_get_name (viewer));
  gtk_widget_set_tooltip_text (button, _("End the call with this viewer; the others go on"));
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "caller.disconnect-viewer");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_string (id ? id : ""));
  adw_action_row_add_suffix (row, button);
  g_object_set_data (G_OBJECT (row), "disconnect", button);
  call = gtk_button_new_with_mnemonic (_("C_all"));
  gtk_widget_set_tooltip_text (call, _("Call this viewer; the others’ calls go on"));
  gtk_widget_set_valign (call, GTK_ALIGN_CENTER);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (call), "caller.call-viewer");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (call), g_variant_new_string (id ? id : ""));
  adw_action_row_add_suffix (row, call);
  g_object_set_data (G_OBJECT (row), "call", call);

  g_signal_connect_object (viewer, "notify::state", G_CALLBACK (update_row), row, G_CONNECT_SWAPPED);
  g_signal_connect_object (viewer, "notify::kbps", G_CALLBACK (update_row), row, G_CONNECT_SWAPPED);
  update_row (row, NULL, viewer);
  return GTK_WIDGET (row);
}

static void
update_empty (PeercamViewerList *self)
{
  guint n = self->model ? g_list_model_get_n_items (self->model) : 0;

  gtk_widget_set_visible (GTK_WIDGET (self->empty_label), n == 0);
  gtk_widget_set_visible (GTK_WIDGET (self->list_box), n > 0);
}

static void
peercam_viewer_list_dispose (GObject *object)
{
  PeercamViewerList *self = PEERCAM_VIEWER_LIST (object);

  if (self->model)
    g_signal_handlers_disconnect_by_data (self->model, self);
  g_clear_object (&self->model);
  gtk_widget_dispose_template (GTK_WIDGET (self), PEERCAM_TYPE_VIEWER_LIST);

  G_OBJECT_CLASS (peercam_viewer_list_parent_class)->dispose (object);
}

static void
peercam_viewer_list_class_init (PeercamViewerListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = peercam_viewer_list_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/peercam/Peercam/peercam-viewer-list.ui");
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerList, box);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerList, empty_label);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerList, list_box);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
peercam_viewer_list_init (PeercamViewerList *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update_empty (self);
}

GtkWidget *
peercam_viewer_list_new (void)
{
  return g_object_new (PEERCAM_TYPE_VIEWER_LIST, NULL);
}

void
peercam_viewer_list_set_model (PeercamViewerList *self,
                               GListModel        *model)
{
  g_return_if_fail (PEERCAM_IS_VIEWER_LIST (self));
  g_return_if_fail (model == NULL || G_IS_LIST_MODEL (model));

  if (self->model)
    g_signal_handlers_disconnect_by_data (self->model, self);
  g_set_object (&self->model, model);
  gtk_list_box_bind_model (self->list_box, model, create_row, NULL, NULL);
  if (model)
    g_signal_connect_swapped (model, "items-changed", G_CALLBACK (update_empty), self);
  update_empty (self);
}
