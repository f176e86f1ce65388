/* peercam-viewer-window.c — "user B": shows the caller's video
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "peercam-viewer-window.h"

struct _PeercamViewerWindow
{
  AdwApplicationWindow  parent_instance;

  /* Template widgets */
  AdwWindowTitle       *window_title;
  GtkMenuButton        *menu_button;
  GtkButton            *fullscreen_button;
  AdwToastOverlay      *toast_overlay;
  GtkStack             *video_stack;
  AdwStatusPage        *waiting_page;
  GtkPicture           *remote_picture;
};

G_DEFINE_FINAL_TYPE (PeercamViewerWindow, peercam_viewer_window, ADW_TYPE_APPLICATION_WINDOW)

static void
fullscreen_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  GtkWindow *window = GTK_WINDOW (widget);

  if (gtk_window_is_fullscreen (window))
    gtk_window_unfullscreen (window);
  else
    gtk_window_fullscreen (window);
}

static void
join_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
}

static void
peercam_viewer_window_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), PEERCAM_TYPE_VIEWER_WINDOW);

  G_OBJECT_CLASS (peercam_viewer_window_parent_class)->dispose (object);
}

static void
peercam_viewer_window_class_init (PeercamViewerWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = peercam_viewer_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/peercam/Peercam/peercam-viewer-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, menu_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, fullscreen_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, video_stack);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, waiting_page);
  gtk_widget_class_bind_template_child (widget_class, PeercamViewerWindow, remote_picture);

  gtk_widget_class_install_action (widget_class, "viewer.fullscreen", NULL, fullscreen_action);
  gtk_widget_class_install_action (widget_class, "room.join", NULL, join_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F11, 0, "viewer.fullscreen", NULL);
}

static void
peercam_viewer_window_init (PeercamViewerWindow *self)
{
  g_autoptr(GtkBuilder) builder = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  builder = gtk_builder_new_from_resource ("/io/github/peercam/Peercam/primary-menu.ui");
  gtk_menu_button_set_menu_model (self->menu_button,
                                  G_MENU_MODEL (gtk_builder_get_object (builder, "primary_menu")));
}

PeercamViewerWindow *
peercam_viewer_window_new (PeercamApplication *application)
{
  return g_object_new (PEERCAM_TYPE_VIEWER_WINDOW,
                       "application", application,
                       NULL);
}
