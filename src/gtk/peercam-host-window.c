/* peercam-host-window.c — start and stop the embedded server, and say where to join
 *
 * The server belongs to the application, so hosting goes on when this
 * window (or any other) is closed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <qrencode.h>
#include <string.h>

#include "peercam-host-window.h"
#include "peercam-window-common.h"

struct _PeercamHostWindow
{
  AdwWindow           parent_instance;

  PeercamApplication *application;
  GPtrArray          *url_rows;

  AdwToastOverlay    *toast_overlay;
  AdwPreferencesGroup *server_group;
  GtkSpinButton      *port_spin;
  GtkSpinButton      *max_viewers_spin;   /* issue 15 */
  AdwEntryRow        *token_row;
  AdwActionRow       *tls_row;
  GtkSwitch          *tls_switch;
  AdwActionRow       *fingerprint_row;
  GtkWidget          *fingerprint_copy;
  GtkButton          *toggle_button;
  AdwPreferencesGroup *join_group;
  AdwActionRow       *room_row;
  GtkPicture         *qr_picture;
};

G_DEFINE_FINAL_TYPE (PeercamHostWindow, peercam_host_window, ADW_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_APPLICATION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define QR_SCALE  6
#define QR_MARGIN 4

static GdkTexture *
make_qr_texture (const char *text)
{
  QRcode *code = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  g_autoptr(GBytes) bytes = NULL;
  guchar *pixels;
  int size, stride;
  GdkTexture *texture;

  if (code == NULL)
    return NULL;

  size = (code->width + 2 * QR_MARGIN) * QR_SCALE;
  stride = size * 4;
  pixels = g_malloc (stride * size);
  memset (pixels, 0xff, stride * size);

  for (int y = 0; y < code->width; y++)
    for (int x = 0; x < code->width; x++)
      {
        if (!(code->data[y * code->width + x] & 1))
          continue;
        for (int dy = 0; dy < QR_SCALE; dy++)
          {
            guchar *row = pixels + ((y + QR_MARGIN) * QR_SCALE + dy) * stride;

            for (int dx = 0; dx < QR_SCALE; dx++)
              {
                guchar *p = row + ((x + QR_MARGIN) * QR_SCALE + dx) * 4;

                p[0] = p[1] = p[2] = 0;
              }
          }
      }
  QRcode_free (code);

  bytes = g_bytes_new_take (pixels, stride * size);
  texture = gdk_memory_texture_new (size, size, GDK_MEMORY_R8G8B8A8_PREMULTIPLIED, bytes, stride);

  return texture;
}

static void
copy_clicked (GtkButton         *button,
              PeercamHostWindow *self)
{
  const char *text = g_object_get_data (G_OBJECT (button), "text");

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
  adw_toast_overlay_add_toast (self->toast_overlay, _peercam_toast_new (_("Copied to clipboard")));
}

static GtkWidget *
copy_button_new (PeercamHostWindow *self,
                 const char        *text)
{
  GtkWidget *button = gtk_button_new_from_icon_name ("edit-copy-symbolic");

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (button, _("Copy"));
  gtk_widget_add_css_class (button, "flat");
  g_object_set_data_full (G_OBJECT (button), "text", g_strdup (text), g_free);
  g_signal_connect (button, "clicked", G_CALLBACK (copy_clicked), self);

  return button;
}

static void
peercam_host_window_update (PeercamHostWindow *self)
{
  PeercamHost *host = peercam_application_get_host (self->application);
  gboolean hosting = host != NULL;
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autofree char *room = g_settings_get_string (settings, "room");

  for (guint i = 0; i < self->url_rows->len; i++)
    adw_preferences_group_remove (self->join_group, g_ptr_array_index (self->url_rows, i));
  g_ptr_array_set_size (self->url_rows, 0);

  gtk_button_set_label (self->toggle_button, hosting ? _("_Stop Hosting") : _("_Start Hosting"));
  if (hosting)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->toggle_button), "suggested-action");
      gtk_widget_add_css_class (GTK_WIDGET (self->toggle_button), "destructive-action");
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->toggle_button), "destructive-action");
      gtk_widget_add_css_class (GTK_WIDGET (self->toggle_button), "suggested-action");
    }
  gtk_widget_set_sensitive (GTK_WIDGET (self->port_spin), !hosting);
  gtk_widget_set_sensitive (GTK_WIDGET (self->max_viewers_spin), !hosting);
  gtk_widget_set_sensitive (GTK_WIDGET (self->token_row), !hosting);
  gtk_widget_set_sensitive (GTK_WIDGET (self->tls_row), !hosting);
  if (self->fingerprint_copy != NULL)
    {
      adw_action_row_remove (self->fingerprint_row, self->fingerprint_copy);
      self->fingerprint_copy = NULL;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->fingerprint_row), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->join_group), hosting);
  gtk_widget_set_visible (GTK_WIDGET (self->qr_picture), hosting);

  if (!hosting)
    return;

  {
    const char *fingerprint = peercam_host_get_fingerprint (host);
    g_auto(GStrv) invites = peercam_host_dup_invites (host, room);
    g_autoptr(GdkTexture) qr = NULL;

    adw_action_row_set_subtitle (self->room_row, room);
    if (fingerprint != NULL)
      {
        /* Browsers show it in their certificate warning; the invites carry it. */
        adw_action_row_set_subtitle (self->fingerprint_row, fingerprint);
        self->fingerprint_copy = copy_button_new (self, fingerprint);
        adw_action_row_add_suffix (self->fingerprint_row, self->fingerprint_copy);
        gtk_widget_set_visible (GTK_WIDGET (self->fingerprint_row), TRUE);
      }
    /* One invite per address: room, token and pin included, so whoever
     * gets it joins without typing anything else. LAN addresses come first
     * (loopback only when there is no LAN), so the QR code holds one that
     * a phone can reach. */
    for (guint i = 0; invites[i] != NULL; i++)
      {
        const char *link = invites[i];
        GtkWidget *row = adw_action_row_new ();

        adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), link);
        adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
        gtk_widget_add_css_class (row, "property");
        gtk_widget_add_css_class (row, "invite");
        adw_action_row_add_suffix (ADW_ACTION_ROW (row), copy_button_new (self, link));
        adw_preferences_group_add (self->join_group, row);
        g_ptr_array_add (self->url_rows, row);

        if (i == 0 && (qr = make_qr_texture (link)) != NULL)
          {
            gtk_picture_set_paintable (self->qr_picture, GDK_PAINTABLE (qr));
            g_object_set_data_full (G_OBJECT (self->qr_picture), "peercam-qr-text", g_strdup (link), g_free);
          }
      }
  }
}

static void
toggle_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  PeercamHostWindow *self = PEERCAM_HOST_WINDOW (widget);
  g_autoptr(GError) error = NULL;

  if (peercam_application_get_host (self->application) != NULL)
    {
      peercam_application_stop_hosting (self->application);
      return;
    }

  if (!peercam_application_start_hosting (self->application,
                                          (guint) gtk_spin_button_get_value_as_int (self->port_spin),
                                          gtk_editable_get_text (GTK_EDITABLE (self->token_row)),
                                          gtk_switch_get_active (self->tls_switch),
                                          &error))
    adw_toast_overlay_add_toast (self->toast_overlay, _peercam_toast_new (error->message));
}

static void
peercam_host_window_constructed (GObject *object)
{
  PeercamHostWindow *self = PEERCAM_HOST_WINDOW (object);
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);

  G_OBJECT_CLASS (peercam_host_window_parent_class)->constructed (object);

  gtk_window_set_application (GTK_WINDOW (self), GTK_APPLICATION (self->application));
  gtk_spin_button_set_value (self->port_spin, g_settings_get_uint (settings, "host-port"));
  g_settings_bind (settings, "host-port", self->port_spin, "value", G_SETTINGS_BIND_DEFAULT);
  gtk_spin_button_set_value (self->max_viewers_spin, g_settings_get_uint (settings, "max-viewers"));
  g_settings_bind (settings, "max-viewers", self->max_viewers_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "host-token", self->token_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "host-tls", self->tls_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_signal_connect_object (self->application, "notify::host",
                           G_CALLBACK (peercam_host_window_update), self, G_CONNECT_SWAPPED);
  peercam_host_window_update (self);
}

static void
peercam_host_window_dispose (GObject *object)
{
  PeercamHostWindow *self = PEERCAM_HOST_WINDOW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), PEERCAM_TYPE_HOST_WINDOW);
  g_clear_pointer (&self->url_rows, g_ptr_array_unref);
  g_clear_object (&self->application);

  G_OBJECT_CLASS (peercam_host_window_parent_class)->dispose (object);
}

static void
peercam_host_window_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  PeercamHostWindow *self = PEERCAM_HOST_WINDOW (object);

  switch (prop_id)
    {
    case PROP_APPLICATION:
      self->application = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_host_window_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  PeercamHostWindow *self = PEERCAM_HOST_WINDOW (object);

  switch (prop_id)
    {
    case PROP_APPLICATION:
      g_value_set_object (value, self->application);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_host_window_class_init (PeercamHostWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = peercam_host_window_constructed;
  object_class->dispose = peercam_host_window_dispose;
  object_class->get_property = peercam_host_window_get_property;
  object_class->set_property = peercam_host_window_set_property;

  /* Named "peercam-application" so it does not shadow GtkWindow:application. */
  properties[PROP_APPLICATION] =
    g_param_spec_object ("peercam-application", NULL, NULL,
                         PEERCAM_TYPE_APPLICATION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/peercam/Peercam/peercam-host-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PeercamHostWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PeercamHostWindow, server_group);
  gtk_widget_class_bind_template_child (widget_class, PeercamHostWindow, port_spin);
  gtk_widget_class_bind_template_child (widget_class, PeercamHostWindow, max_viewers_spin);
  gtk_widget_class_bind_template_child (widget_class, PeercamHostWindow, token_row);
  gtk_widget_class_bind_template_child (widget_class, PeercamHostWindow, tls_row);
  gtk_widget_class_bind_template_child (widget_class, PeercamHostWindow, tls_switch);
  gtk_widget_class_bind_template_child (widget_class, PeercamHostWindow, fingerprint_row);
  gtk_widget_class_bind_template_child (widget_class, PeercamHostWindow, toggle_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamHostWindow, join_group);
  gtk_widget_class_bind_template_child (widget_class, PeercamHostWindow, room_row);
  gtk_widget_class_bind_template_child (widget_class, PeercamHostWindow, qr_picture);

  gtk_widget_class_install_action (widget_class, "host.toggle", NULL, toggle_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
peercam_host_window_init (PeercamHostWindow *self)
{
  self->url_rows = g_ptr_array_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
}

PeercamHostWindow *
peercam_host_window_new (PeercamApplication *application)
{
  return g_object_new (PEERCAM_TYPE_HOST_WINDOW,
                       "peercam-application", application,
                       NULL);
}
