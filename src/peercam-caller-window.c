/* peercam-caller-window.c — "user A": local preview, Get Local Video, Call, Hang Up
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "peercam-caller-window.h"

struct _PeercamCallerWindow
{
  AdwApplicationWindow  parent_instance;

  /* Template widgets */
  AdwWindowTitle       *window_title;
  GtkMenuButton        *menu_button;
  GtkMenuButton        *stats_button;
  GtkLabel             *stats_label;
  GtkDropDown          *source_dropdown;
  AdwToastOverlay      *toast_overlay;
  GtkStack             *video_stack;
  AdwStatusPage        *empty_page;
  GtkPicture           *preview_picture;
  GtkButton            *get_local_video_button;
  GtkButton            *call_button;
  GtkButton            *hang_up_button;
};

G_DEFINE_FINAL_TYPE (PeercamCallerWindow, peercam_caller_window, ADW_TYPE_APPLICATION_WINDOW)

static void
peercam_caller_window_update_actions (PeercamCallerWindow *self)
{
  /* The call engine is not wired yet: nothing to start, call or hang up. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "caller.get-local-video", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "caller.call", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "caller.hang-up", FALSE);
}

static void
get_local_video_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
}

static void
call_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
}

static void
hang_up_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
}

static void
join_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
}

static void
peercam_caller_window_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), PEERCAM_TYPE_CALLER_WINDOW);

  G_OBJECT_CLASS (peercam_caller_window_parent_class)->dispose (object);
}

static void
peercam_caller_window_class_init (PeercamCallerWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = peercam_caller_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/peercam/Peercam/peercam-caller-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, menu_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, stats_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, stats_label);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, source_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, video_stack);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, preview_picture);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, get_local_video_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, call_button);
  gtk_widget_class_bind_template_child (widget_class, PeercamCallerWindow, hang_up_button);

  gtk_widget_class_install_action (widget_class, "caller.get-local-video", NULL, get_local_video_action);
  gtk_widget_class_install_action (widget_class, "caller.call", NULL, call_action);
  gtk_widget_class_install_action (widget_class, "caller.hang-up", NULL, hang_up_action);
  gtk_widget_class_install_action (widget_class, "room.join", NULL, join_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, GDK_CONTROL_MASK, "caller.get-local-video", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK, "caller.call", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, "caller.hang-up", NULL);
}

static void
peercam_caller_window_init (PeercamCallerWindow *self)
{
  g_autoptr(GtkBuilder) builder = NULL;
  g_autoptr(GtkStringList) sources = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  builder = gtk_builder_new_from_resource ("/io/github/peercam/Peercam/primary-menu.ui");
  gtk_menu_button_set_menu_model (self->menu_button,
                                  G_MENU_MODEL (gtk_builder_get_object (builder, "primary_menu")));

  sources = gtk_string_list_new ((const char *[]) { _("Test Pattern"), NULL });
  gtk_drop_down_set_model (self->source_dropdown, G_LIST_MODEL (sources));

  peercam_caller_window_update_actions (self);
}

PeercamCallerWindow *
peercam_caller_window_new (PeercamApplication *application)
{
  return g_object_new (PEERCAM_TYPE_CALLER_WINDOW,
                       "application", application,
                       NULL);
}
