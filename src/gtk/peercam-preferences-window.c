/* peercam-preferences-window.c — every setting is a GSettings key, bound live
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "peercam-source-picker.h"
#include "peercam-preferences-window.h"

struct _PeercamPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;

  AdwEntryRow          *server_row;
  AdwEntryRow          *room_row;
  AdwComboRow          *camera_row;
  /* The camera choices: "First Camera Found", the cameras found now, the
   * test pattern, and a saved camera that is not connected. */
  GListModel           *cameras;
  GListStore           *absent;
  GListModel           *camera_choices;
  gboolean              syncing_camera;
  AdwComboRow          *resolution_row;
  GtkSpinButton        *framerate_spin;
  AdwComboRow          *codec_row;
  GtkSpinButton        *latency_spin;
  GtkSwitch            *send_audio_switch;
  GtkSwitch            *play_audio_switch;
  AdwEntryRow          *stun_row;
  AdwEntryRow          *turn_row;
};

G_DEFINE_FINAL_TYPE (PeercamPreferencesWindow, peercam_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

enum {
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* AdwComboRow's "selected" is a position in a GtkStringList; the key holds
 * the item's text. */
static gboolean
string_to_position (GValue   *value,
                    GVariant *variant,
                    gpointer  user_data)
{
  GListModel *model = G_LIST_MODEL (user_data);
  const char *wanted = g_variant_get_string (variant, NULL);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      const char *item = gtk_string_list_get_string (GTK_STRING_LIST (model), i);

      if (g_ascii_strcasecmp (item, wanted) == 0)
        {
          g_value_set_uint (value, i);
          return TRUE;
        }
    }

  g_value_set_uint (value, 0);
  return TRUE;
}

static GVariant *
position_to_string (const GValue       *value,
                    const GVariantType *expected_type,
                    gpointer            user_data)
{
  GListModel *model = G_LIST_MODEL (user_data);
  guint position = g_value_get_uint (value);

  if (position >= g_list_model_get_n_items (model))
    return NULL;

  return g_variant_new_string (gtk_string_list_get_string (GTK_STRING_LIST (model), position));
}

static gboolean
codec_to_position (GValue   *value,
                   GVariant *variant,
                   gpointer  user_data)
{
  g_value_set_uint (value, g_str_equal (g_variant_get_string (variant, NULL), "h264") ? 1 : 0);
  return TRUE;
}

static GVariant *
position_to_codec (const GValue       *value,
                   const GVariantType *expected_type,
                   gpointer            user_data)
{
  return g_variant_new_string (g_value_get_uint (value) == 1 ? "h264" : "vp8");
}

static void
select_saved_camera (PeercamPreferencesWindow *self)
{
  g_autofree char *saved = g_settings_get_string (self->settings, "camera");
  guint n = g_list_model_get_n_items (self->camera_choices);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) camera = g_list_model_get_item (self->camera_choices, i);

      if (g_strcmp0 (peercam_source_picker_item_get_id (camera), saved) == 0 ||
          (g_str_equal (saved, "camera") && *peercam_source_picker_item_get_id (camera) == '\0'))
        {
          self->syncing_camera = TRUE;
          adw_combo_row_set_selected (self->camera_row, i);
          self->syncing_camera = FALSE;
          return;
        }
    }

  /* Saved, but not plugged in now: still shown, so it is not lost. */
  if (g_list_model_get_n_items (G_LIST_MODEL (self->absent)) == 0)
    {
      g_autofree char *name = g_strdup_printf (_("%s (not connected)"), saved);
      g_autoptr(GObject) camera = peercam_source_picker_item_new (name, saved);

      g_list_store_append (self->absent, camera);
      select_saved_camera (self);
    }
}

static void
on_camera_selected (PeercamPreferencesWindow *self)
{
  gpointer camera = adw_combo_row_get_selected_item (self->camera_row);
  g_autofree char *saved = NULL;

  if (self->syncing_camera || camera == NULL)
    return;
  saved = g_settings_get_string (self->settings, "camera");
  if (g_strcmp0 (saved, peercam_source_picker_item_get_id (camera)) != 0)
    g_settings_set_string (self->settings, "camera", peercam_source_picker_item_get_id (camera));
}

static void
on_saved_camera_changed (PeercamPreferencesWindow *self)
{
  /* The selection moves as the list changes: that is no choice. */
  self->syncing_camera = TRUE;
  g_list_store_remove_all (self->absent);
  self->syncing_camera = FALSE;
  select_saved_camera (self);
}

static void
setup_camera_choices (PeercamPreferencesWindow *self)
{
  g_autoptr(GListStore) parts = g_list_store_new (G_TYPE_LIST_MODEL);
  GType item_type = peercam_source_picker_get_item_type ();
  g_autoptr(GListStore) first = g_list_store_new (item_type);
  g_autoptr(GListStore) test = g_list_store_new (item_type);
  g_autoptr(GObject) first_item = peercam_source_picker_item_new (_("First Camera Found"), "");
  g_autoptr(GObject) test_item = peercam_source_picker_item_new (_("Test Pattern"), "test");
  g_autoptr(GtkExpression) name = gtk_property_expression_new (item_type, NULL, "name");

  self->cameras = peercam_source_picker_new_camera_list ();
  self->absent = g_list_store_new (item_type);
  g_list_store_append (first, first_item);
  g_list_store_append (test, test_item);
  g_list_store_append (parts, first);
  g_list_store_append (parts, self->cameras);
  g_list_store_append (parts, test);
  g_list_store_append (parts, self->absent);
  self->camera_choices = G_LIST_MODEL (gtk_flatten_list_model_new (G_LIST_MODEL (g_steal_pointer (&parts))));

  adw_combo_row_set_expression (self->camera_row, name);
  adw_combo_row_set_model (self->camera_row, self->camera_choices);
  select_saved_camera (self);
  g_signal_connect_object (self->camera_row, "notify::selected", G_CALLBACK (on_camera_selected), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::camera", G_CALLBACK (on_saved_camera_changed), self, G_CONNECT_SWAPPED);
  /* Hot-plug: the saved camera may appear (or go). */
  g_signal_connect_object (self->cameras, "items-changed", G_CALLBACK (on_saved_camera_changed), self,
                           G_CONNECT_SWAPPED | G_CONNECT_AFTER);
}

static void
peercam_preferences_window_constructed (GObject *object)
{
  PeercamPreferencesWindow *self = PEERCAM_PREFERENCES_WINDOW (object);
  GListModel *resolutions = adw_combo_row_get_model (self->resolution_row);

  G_OBJECT_CLASS (peercam_preferences_window_parent_class)->constructed (object);

  g_settings_bind (self->settings, "server-url", self->server_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "room", self->room_row, "text", G_SETTINGS_BIND_DEFAULT);
  setup_camera_choices (self);
  g_settings_bind (self->settings, "stun-server", self->stun_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "turn-server", self->turn_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "framerate", self->framerate_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "latency", self->latency_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "send-audio", self->send_audio_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "play-audio", self->play_audio_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (self->settings, "resolution", self->resolution_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, string_to_position, position_to_string,
                                g_object_ref (resolutions), g_object_unref);
  g_settings_bind_with_mapping (self->settings, "codec", self->codec_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, codec_to_position, position_to_codec,
                                NULL, NULL);
}

static void
peercam_preferences_window_dispose (GObject *object)
{
  PeercamPreferencesWindow *self = PEERCAM_PREFERENCES_WINDOW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), PEERCAM_TYPE_PREFERENCES_WINDOW);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  g_clear_object (&self->camera_choices);
  g_clear_object (&self->absent);
  g_clear_object (&self->cameras);

  G_OBJECT_CLASS (peercam_preferences_window_parent_class)->dispose (object);
}

static void
peercam_preferences_window_set_property (GObject      *object,
                                         guint         prop_id,
                                         const GValue *value,
                                         GParamSpec   *pspec)
{
  PeercamPreferencesWindow *self = PEERCAM_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_preferences_window_get_property (GObject    *object,
                                         guint       prop_id,
                                         GValue     *value,
                                         GParamSpec *pspec)
{
  PeercamPreferencesWindow *self = PEERCAM_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_preferences_window_class_init (PeercamPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = peercam_preferences_window_constructed;
  object_class->dispose = peercam_preferences_window_dispose;
  object_class->get_property = peercam_preferences_window_get_property;
  object_class->set_property = peercam_preferences_window_set_property;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL,
                         G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/peercam/Peercam/peercam-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PeercamPreferencesWindow, server_row);
  gtk_widget_class_bind_template_child (widget_class, PeercamPreferencesWindow, room_row);
  gtk_widget_class_bind_template_child (widget_class, PeercamPreferencesWindow, camera_row);
  gtk_widget_class_bind_template_child (widget_class, PeercamPreferencesWindow, resolution_row);
  gtk_widget_class_bind_template_child (widget_class, PeercamPreferencesWindow, framerate_spin);
  gtk_widget_class_bind_template_child (widget_class, PeercamPreferencesWindow, codec_row);
  gtk_widget_class_bind_template_child (widget_class, PeercamPreferencesWindow, latency_spin);
  gtk_widget_class_bind_template_child (widget_class, PeercamPreferencesWindow, send_audio_switch);
  gtk_widget_class_bind_template_child (widget_class, PeercamPreferencesWindow, play_audio_switch);
  gtk_widget_class_bind_template_child (widget_class, PeercamPreferencesWindow, stun_row);
  gtk_widget_class_bind_template_child (widget_class, PeercamPreferencesWindow, turn_row);
}

static void
peercam_preferences_window_init (PeercamPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

PeercamPreferencesWindow *
peercam_preferences_window_new (GtkWindow *parent,
                                GSettings *settings)
{
  return g_object_new (PEERCAM_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "modal", TRUE,
                       "settings", settings,
                       NULL);
}
