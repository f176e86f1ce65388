/* peercam-test-util.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-camera-list.h"
#include "peercam-caller-window.h"
#include "peercam-test-util.h"
#include "peercam-viewer-window.h"

PeercamApplication *
peercam_test_app_new (void)
{
  g_autoptr(GError) error = NULL;
  PeercamApplication *app = peercam_application_new ();

  g_application_set_flags (G_APPLICATION (app),
                           g_application_get_flags (G_APPLICATION (app)) | G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  /* Alive with no window between tests. */
  g_application_hold (G_APPLICATION (app));
  return app;
}

PeercamSignalingServer *
peercam_test_app_get_server (PeercamApplication *app)
{
  PeercamHost *host = peercam_application_get_host (app);

  return host != NULL ? peercam_host_get_server (host) : NULL;
}

void
peercam_test_app_free (PeercamApplication *app)
{
  g_application_release (G_APPLICATION (app));
  g_object_unref (app);
}

static gboolean
timeout_cb (gpointer data)
{
  gboolean *timed_out = data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
peercam_test_wait_until (gboolean (*condition) (gpointer data),
                         gpointer   data,
                         guint      timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, timeout_cb, &timed_out);
  gboolean result;

  while (!(result = condition (data)) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (id);

  return result;
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

void
peercam_test_spin (guint ms)
{
  peercam_test_wait_until (never, NULL, ms);
}

/* For peercam_test_wait_until (): shown and laid out. */
gboolean
peercam_test_is_mapped (gpointer widget)
{
  return gtk_widget_get_mapped (GTK_WIDGET (widget)) && gtk_widget_get_width (GTK_WIDGET (widget)) > 0;
}

/* A composite template's child of @window's @type; it must exist. */
GtkWidget *
peercam_test_template_child (gpointer    window,
                             GType       type,
                             const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (window), type, name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

/* Position of the entry called @name in a caller window's source drop-down,
 * or GTK_INVALID_LIST_POSITION. */
guint
peercam_test_source_position (GtkWidget  *caller_window,
                              const char *name)
{
  GtkWidget *dropdown = peercam_test_template_child (caller_window, PEERCAM_TYPE_CALLER_WINDOW,
                                                     "source_dropdown");
  GListModel *model = gtk_drop_down_get_model (GTK_DROP_DOWN (dropdown));

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(PeercamCamera) item = g_list_model_get_item (model, i);

      if (g_str_equal (peercam_camera_get_name (item), name))
        return i;
    }
  return GTK_INVALID_LIST_POSITION;
}

GtkWidget *
peercam_test_find_with_text (GtkWidget  *widget,
                             GType       type,
                             const char *text)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    {
      const char *now = GTK_IS_BUTTON (widget) ? gtk_button_get_label (GTK_BUTTON (widget))
                      : GTK_IS_LABEL (widget) ? gtk_label_get_label (GTK_LABEL (widget))
                      : NULL;

      if (g_strcmp0 (now, text) == 0)
        return widget;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = peercam_test_find_with_text (c, type, text);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static GskRenderer *
software_renderer (void)
{
  static GskRenderer *renderer;

  if (renderer == NULL)
    {
      g_autoptr(GError) error = NULL;

      renderer = gsk_cairo_renderer_new ();
      g_assert_true (gsk_renderer_realize (renderer, NULL, &error));
      g_assert_no_error (error);
    }
  return renderer;
}

static void
on_after_paint (GdkFrameClock *clock,
                gpointer       data)
{
  *(gboolean *) data = TRUE;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

void
peercam_test_wait_for_layout (GtkWidget *widget)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
  gboolean painted = FALSE;
  gulong id;

  if (clock == NULL)
    return;
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), &painted);
  gdk_frame_clock_request_phase (clock, GDK_FRAME_CLOCK_PHASE_LAYOUT);
  if (!peercam_test_wait_until (flag_set, &painted, 2000))
    g_test_message ("render: no frame clock cycle within 2 s");
  g_signal_handler_disconnect (clock, id);
}

GdkTexture *
peercam_test_render_widget (GtkWidget *widget)
{
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  g_return_val_if_fail (width > 0 && height > 0, NULL);

  /* A GtkWidgetPaintable draws the widget with its CSS background, but gives
   * nothing while a video keeps invalidating it; then fall back to the
   * widget's own snapshot vfunc over the window's background colour. */
  {
    g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);

    gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
    node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  }
  if (node == NULL)
    {
      snapshot = gtk_snapshot_new ();
      gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 0.98, 0.98, 0.98, 1.0 },
                                 &GRAPHENE_RECT_INIT (0, 0, width, height));
      GTK_WIDGET_GET_CLASS (widget)->snapshot (widget, snapshot);
      node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
    }
  if (node == NULL)
    {
      g_test_message ("render: %s %dx%d gave no render node", G_OBJECT_TYPE_NAME (widget), width, height);
      return NULL;
    }

  /* Rendered in software: a GL texture from the window's renderer has to be
   * read back for every check, and on Xvfb's llvmpipe that read-back once
   * spun for minutes in gdk_texture_save_to_png(). */
  return gsk_renderer_render_texture (software_renderer (), node, &GRAPHENE_RECT_INIT (0, 0, width, height));
}

gboolean
peercam_test_texture_is_blank (GdkTexture *texture)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  gsize stride = (gsize) width * 4;
  g_autofree guchar *data = g_malloc (stride * height);
  guint32 first;

  gdk_texture_download (texture, data, stride);
  memcpy (&first, data, 4);
  for (gsize i = 0; i < stride * height; i += 4)
    {
      guint32 pixel;

      memcpy (&pixel, data + i, 4);
      if (pixel != first)
        return FALSE;
    }

  return TRUE;
}

char *
peercam_test_save_screenshot (GtkWidget  *widget,
                              const char *name)
{
  g_autoptr(GdkTexture) texture = peercam_test_render_widget (widget);
  g_autofree char *dir = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                                           "screenshots", NULL);
  g_autofree char *path = NULL;

  g_assert_nonnull (texture);
  g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot saved to %s", path);

  return g_steal_pointer (&path);
}

gboolean
peercam_test_session_joined (gpointer session)
{
  PeercamSignalingClient *client = peercam_session_get_client (session);

  return client != NULL && peercam_signaling_client_get_state (client) == PEERCAM_SIGNALING_STATE_JOINED;
}

gboolean
peercam_test_peer_present (gpointer session)
{
  return peercam_session_get_peer_present (session);
}

gboolean
peercam_test_is_sensitive (gpointer widget)
{
  return gtk_widget_get_sensitive (widget);
}

gboolean
peercam_test_viewer_shows_video (gpointer viewer_window)
{
  GtkStack *stack = GTK_STACK (peercam_test_template_child (viewer_window, PEERCAM_TYPE_VIEWER_WINDOW, "video_stack"));

  return g_strcmp0 (gtk_stack_get_visible_child_name (stack), "video") == 0;
}

gboolean
peercam_test_viewer_waiting (gpointer viewer_window)
{
  return !peercam_test_viewer_shows_video (viewer_window);
}
