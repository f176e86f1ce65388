/* test-gui-camera.c — the caller window's camera chooser with fake cameras
 * (a test-only GstDeviceProvider): listed, hot-plugged, previewed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "peercam-application.h"
#include "peercam-caller-window.h"
#include "peercam-camera-list.h"
#include "peercam-fake-camera.h"
#include "peercam-init.h"
#include "peercam-test-util.h"

static PeercamApplication *app;

static GtkWidget *
child (gpointer    window,
       const char *name)
{
  return peercam_test_template_child (window, PEERCAM_TYPE_CALLER_WINDOW, name);
}

/* The drop-down's entries as "name|name|…". */
static char *
entries (GtkWidget *window)
{
  GListModel *model = gtk_drop_down_get_model (GTK_DROP_DOWN (child (window, "source_dropdown")));
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) names = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(PeercamCamera) item = g_list_model_get_item (model, i);

      g_strv_builder_add (builder, peercam_camera_get_name (item));
    }
  names = g_strv_builder_end (builder);
  return g_strjoinv ("|", names);
}

typedef struct {
  GtkWidget  *window;
  const char *expected;
} EntriesCheck;

static gboolean
entries_are (gpointer data)
{
  EntriesCheck *check = data;
  g_autofree char *now = entries (check->window);

  return g_strcmp0 (now, check->expected) == 0;
}

static void
assert_entries (GtkWidget  *window,
                const char *expected)
{
  EntriesCheck check = { window, expected };

  if (!peercam_test_wait_until (entries_are, &check, 10000))
    {
      g_autofree char *now = entries (window);

      g_assert_cmpstr (now, ==, expected);
    }
}

static guint
position_of (GtkWidget  *window,
             const char *name)
{
  guint position = peercam_test_source_position (window, name);

  g_assert_cmpuint (position, !=, GTK_INVALID_LIST_POSITION);
  return position;
}

static gboolean
preview_has_frame (gpointer data)
{
  GdkPaintable *paintable = gtk_picture_get_paintable (GTK_PICTURE (child (data, "preview_picture")));
  PeercamCallEngine *engine = peercam_session_get_engine (peercam_caller_window_get_session (data));

  return paintable != NULL && gdk_paintable_get_intrinsic_width (paintable) > 0 &&
         peercam_call_engine_get_local_frames (engine) > 5;
}

static gboolean
engine_failed (gpointer data)
{
  PeercamCallEngine *engine = peercam_session_get_engine (peercam_caller_window_get_session (data));

  return peercam_call_engine_get_state (engine) == PEERCAM_CALL_STATE_FAILED;
}

static void
test_camera_chooser (void)
{
  GstDevice *first = peercam_fake_camera_add ("Fake Camera One");
  GtkWindow *window = peercam_application_new_caller_window (app);
  PeercamCallEngine *engine = peercam_session_get_engine (peercam_caller_window_get_session (PEERCAM_CALLER_WINDOW (window)));
  GtkDropDown *dropdown = GTK_DROP_DOWN (child (window, "source_dropdown"));
  g_autofree char *path = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GstDevice *second;

  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, window, 5000));

  /* The camera shows up, ahead of the test pattern, and is the default
   * (GSettings "camera" is empty: the first camera). */
  assert_entries (GTK_WIDGET (window), "Fake Camera One|Screen|Test Pattern");
  g_assert_cmpuint (gtk_drop_down_get_selected (dropdown), ==, position_of (GTK_WIDGET (window), "Fake Camera One"));

  /* Hot-plug, both ways; the selection stays on the same camera. */
  second = peercam_fake_camera_add ("Fake Camera Two");
  assert_entries (GTK_WIDGET (window), "Fake Camera One|Fake Camera Two|Screen|Test Pattern");
  g_assert_cmpuint (gtk_drop_down_get_selected (dropdown), ==, position_of (GTK_WIDGET (window), "Fake Camera One"));
  peercam_fake_camera_remove (second);
  assert_entries (GTK_WIDGET (window), "Fake Camera One|Screen|Test Pattern");

  /* Test pattern and back: the drop-down drives the engine. */
  gtk_drop_down_set_selected (dropdown, position_of (GTK_WIDGET (window), "Test Pattern"));
  g_assert_cmpstr (peercam_call_engine_get_source (engine), ==, "test");
  g_assert_null (peercam_call_engine_get_source_device (engine));
  gtk_drop_down_set_selected (dropdown, position_of (GTK_WIDGET (window), "Fake Camera One"));
  g_assert_true (peercam_call_engine_get_source_device (engine) == first);
  g_assert_cmpstr (peercam_call_engine_get_source (engine), ==, "/peercam-test/Fake Camera One");

  /* Get Local Video: the fake camera's frames reach the preview. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "caller.get-local-video", NULL));
  g_assert_true (peercam_test_wait_until (preview_has_frame, window, 10000));
  g_assert_cmpint (peercam_call_engine_get_state (engine), ==, PEERCAM_CALL_STATE_PREVIEW);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (child (window, "video_stack"))), ==, "preview");
  peercam_test_spin (300);
  path = peercam_test_save_screenshot (GTK_WIDGET (window), "camera-chooser.png");
  texture = gdk_texture_new_from_filename (path, NULL);
  g_assert_nonnull (texture);
  g_assert_false (peercam_test_texture_is_blank (texture));

  /* Unplugged during the preview: the preview stops, the entry goes, the
   * test pattern (the only entry left besides the placeholder) is offered. */
  peercam_fake_camera_remove (first);
  g_assert_true (peercam_test_wait_until (engine_failed, window, 10000));
  assert_entries (GTK_WIDGET (window), "No Camera Found|Screen|Test Pattern");
  peercam_test_spin (100);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (child (window, "video_stack"))), ==, "empty");
  g_assert_null (peercam_call_engine_get_source_device (engine));
  g_assert_true (gtk_widget_get_sensitive (child (window, "get_local_video_button")));

  /* A re-plugged camera is picked up again, and the old setter still works. */
  first = peercam_fake_camera_add ("Fake Camera One");
  assert_entries (GTK_WIDGET (window), "Fake Camera One|Screen|Test Pattern");
  peercam_caller_window_set_source (PEERCAM_CALLER_WINDOW (window), "smpte");
  g_assert_cmpuint (gtk_drop_down_get_selected (dropdown), ==, position_of (GTK_WIDGET (window), "Test Pattern"));
  g_assert_cmpstr (peercam_call_engine_get_source (engine), ==, "smpte");
  peercam_caller_window_set_source (PEERCAM_CALLER_WINDOW (window), "/peercam-test/Fake Camera One");
  g_assert_cmpuint (gtk_drop_down_get_selected (dropdown), ==, position_of (GTK_WIDGET (window), "Fake Camera One"));
  g_assert_true (peercam_call_engine_get_source_device (engine) == first);

  gtk_window_destroy (window);
  peercam_test_spin (200);
  peercam_fake_camera_remove_all ();
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  peercam_init (&argc, &argv);
  peercam_fake_camera_register ();

  app = peercam_test_app_new ();

  g_test_add_func ("/gui/camera-chooser", test_camera_chooser);

  ret = g_test_run ();

  g_clear_pointer (&app, peercam_test_app_free);
  return ret;
}
