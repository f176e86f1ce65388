/* test-camera-list.c — PeercamCameraList and the engine's device sources,
 * with fake cameras from a test-only GstDeviceProvider
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-call-engine.h"
#include "peercam-camera-list.h"
#include "peercam-fake-camera.h"
#include "peercam-init.h"

#include <string.h>

#define WAIT_MS 10000

static gboolean
wait_until (gboolean (*condition) (gpointer data),
            gpointer   data,
            guint      timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!condition (data) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  return condition (data);
}

static gboolean
list_loaded (gpointer data)
{
  return !peercam_camera_list_get_loading (data);
}

typedef struct {
  PeercamCameraList *list;
  const char        *id;
} Lookup;

static gboolean
camera_listed (gpointer data)
{
  Lookup *lookup = data;

  return peercam_camera_list_find (lookup->list, lookup->id) != NULL;
}

static gboolean
camera_unlisted (gpointer data)
{
  return !camera_listed (data);
}

typedef struct {
  guint added;
  guint removed;
  guint signals;
} Changes;

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Changes    *changes)
{
  g_assert_cmpuint (position + added, <=, g_list_model_get_n_items (model));
  changes->added += added;
  changes->removed += removed;
  changes->signals++;
}

static PeercamCameraList *
loaded_list (void)
{
  PeercamCameraList *list = peercam_camera_list_new ();

  /* Starting never blocks the caller: the worker reports later. */
  g_assert_true (peercam_camera_list_get_loading (list));
  g_assert_true (wait_until (list_loaded, list, WAIT_MS));
  return list;
}

static void
test_lists_cameras (void)
{
  g_autoptr(PeercamCameraList) list = NULL;
  GstDevice *device = peercam_fake_camera_add ("Test Camera A");
  Lookup lookup = { NULL, "/peercam-test/Test Camera A" };
  g_autoptr(PeercamCamera) first = NULL;
  PeercamCamera *camera;

  lookup.list = list = loaded_list ();
  g_assert_true (wait_until (camera_listed, &lookup, WAIT_MS));

  camera = peercam_camera_list_find (list, lookup.id);
  g_assert_cmpstr (peercam_camera_get_name (camera), ==, "Test Camera A");
  g_assert_cmpstr (peercam_camera_get_id (camera), ==, "/peercam-test/Test Camera A");
  g_assert_cmpstr (peercam_camera_get_provider (camera), ==, "peercamtest");
  g_assert_true (peercam_camera_get_device (camera) == device);
  g_assert_true (peercam_camera_list_find (list, "Test Camera A") == camera);
  g_assert_true (peercam_camera_list_find_device (list, device) == camera);
  g_assert_cmpint (peercam_camera_list_get_pipewire_fd (list), ==, -1);

  /* A GListModel of cameras, and nothing but cameras. */
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (list)) == PEERCAM_TYPE_CAMERA);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), >=, 1);
  first = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_true (PEERCAM_IS_CAMERA (first));
  g_assert_true (gst_device_has_classes (peercam_camera_get_device (first), "Video/Source"));
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (list), g_list_model_get_n_items (G_LIST_MODEL (list))));

  peercam_fake_camera_remove_all ();
}

static void
on_camera_removed (PeercamCameraList *list,
                   PeercamCamera     *camera,
                   GPtrArray         *removed)
{
  /* Still listed when the signal comes. */
  g_assert_true (peercam_camera_list_find_device (list, peercam_camera_get_device (camera)) == camera);
  g_ptr_array_add (removed, g_object_ref (camera));
}

static void
test_hotplug (void)
{
  g_autoptr(PeercamCameraList) list = loaded_list ();
  g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func (g_object_unref);
  Changes changes = { 0 };
  Lookup lookup = { list, "/peercam-test/Hot Camera" };
  guint before = g_list_model_get_n_items (G_LIST_MODEL (list));
  GstDevice *device;

  g_signal_connect (list, "items-changed", G_CALLBACK (on_items_changed), &changes);
  g_signal_connect (list, "camera-removed", G_CALLBACK (on_camera_removed), removed);
  g_assert_null (peercam_camera_list_find (list, lookup.id));

  device = peercam_fake_camera_add ("Hot Camera");
  g_assert_true (wait_until (camera_listed, &lookup, WAIT_MS));
  g_assert_cmpuint (changes.added, ==, 1);
  g_assert_cmpuint (changes.removed, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, before + 1);

  peercam_fake_camera_remove (device);
  g_assert_true (wait_until (camera_unlisted, &lookup, WAIT_MS));
  g_assert_cmpuint (changes.removed, ==, 1);
  g_assert_cmpuint (changes.signals, ==, 2);
  g_assert_cmpuint (removed->len, ==, 1);
  g_assert_cmpstr (peercam_camera_get_id (g_ptr_array_index (removed, 0)), ==, lookup.id);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, before);
}

static gboolean
has_local_frames (gpointer data)
{
  return peercam_call_engine_get_local_frames (data) > 10;
}

static void
on_engine_error (PeercamCallEngine *engine,
                 GError            *error,
                 GError           **out)
{
  if (*out == NULL)
    *out = g_error_copy (error);
}

static gboolean
engine_failed (gpointer data)
{
  return peercam_call_engine_get_state (data) == PEERCAM_CALL_STATE_FAILED;
}

static void
forward_removed (PeercamCameraList *list,
                 PeercamCamera     *camera,
                 PeercamCallEngine *engine)
{
  /* What the caller window does: the list tells the engine. */
  peercam_call_engine_device_removed (engine, peercam_camera_get_device (camera));
}

static void
test_engine_device_preview (void)
{
  g_autoptr(PeercamCameraList) list = loaded_list ();
  g_autoptr(PeercamCallEngine) engine = peercam_call_engine_new (PEERCAM_CALL_ROLE_CALLER);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) reported = NULL;
  Lookup lookup = { list, "/peercam-test/Preview Camera" };
  g_autoptr(PeercamCamera) camera = NULL;
  GstDevice *device;
  guint64 frames;

  device = peercam_fake_camera_add ("Preview Camera");
  g_assert_true (wait_until (camera_listed, &lookup, WAIT_MS));
  camera = g_object_ref (peercam_camera_list_find (list, lookup.id));
  g_assert_true (peercam_camera_get_device (camera) == device);

  g_signal_connect_object (list, "camera-removed", G_CALLBACK (forward_removed), engine, 0);
  g_signal_connect (engine, "error", G_CALLBACK (on_engine_error), &reported);

  peercam_call_engine_set_video_size (engine, 320, 240, 30);
  /* The device wins over the "source" string. */
  peercam_call_engine_set_source (engine, "no-such-camera");
  peercam_call_engine_set_source_device (engine, device);
  g_assert_true (peercam_call_engine_get_source_device (engine) == device);

  g_assert_true (peercam_call_engine_start_local_video (engine, &error));
  g_assert_no_error (error);
  g_assert_cmpint (peercam_call_engine_get_state (engine), ==, PEERCAM_CALL_STATE_PREVIEW);
  g_assert_true (wait_until (has_local_frames, engine, WAIT_MS));

  /* A device that is not the preview's changes nothing. */
  peercam_call_engine_device_removed (engine, peercam_fake_camera_add ("Other Camera"));
  g_assert_cmpint (peercam_call_engine_get_state (engine), ==, PEERCAM_CALL_STATE_PREVIEW);
  g_assert_null (reported);

  /* Unplugged during the preview: a clear error and state, frames stop. */
  peercam_fake_camera_remove (device);
  g_assert_true (wait_until (engine_failed, engine, WAIT_MS));
  g_assert_error (reported, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_CAMERA_DISCONNECTED);
  g_assert_nonnull (strstr (reported->message, "Preview Camera"));
  frames = peercam_call_engine_get_local_frames (engine);
  g_assert_cmpuint (frames, >, 10);
  g_usleep (200 * 1000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (peercam_call_engine_get_local_frames (engine), ==, frames);

  /* Back to a source that exists: the engine is usable again. */
  peercam_call_engine_set_source_device (engine, NULL);
  peercam_call_engine_set_source (engine, "test");
  g_assert_true (peercam_call_engine_start_local_video (engine, &error));
  g_assert_no_error (error);
  g_assert_true (wait_until (has_local_frames, engine, WAIT_MS));
  peercam_call_engine_stop_local_video (engine);

  peercam_fake_camera_remove_all ();
}

static void
test_engine_source_id (void)
{
  g_autoptr(PeercamCameraList) list = loaded_list ();
  g_autoptr(PeercamCallEngine) engine = peercam_call_engine_new (PEERCAM_CALL_ROLE_CALLER);
  g_autoptr(GError) error = NULL;
  Lookup lookup = { list, "/peercam-test/Id Camera" };

  /* The id a list gives (and GSettings stores) works as the engine's
   * "source" string too, found again through a device monitor. */
  peercam_fake_camera_add ("Id Camera");
  g_assert_true (wait_until (camera_listed, &lookup, WAIT_MS));
  peercam_call_engine_set_video_size (engine, 320, 240, 30);
  peercam_call_engine_set_source (engine, peercam_camera_get_id (peercam_camera_list_find (list, lookup.id)));
  g_assert_true (peercam_call_engine_start_local_video (engine, &error));
  g_assert_no_error (error);
  g_assert_true (wait_until (has_local_frames, engine, WAIT_MS));
  peercam_call_engine_stop_local_video (engine);

  peercam_fake_camera_remove_all ();
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  peercam_init (&argc, &argv);
  peercam_fake_camera_register ();

  g_test_add_func ("/camera-list/lists-cameras", test_lists_cameras);
  g_test_add_func ("/camera-list/hotplug", test_hotplug);
  g_test_add_func ("/camera-list/engine-device-preview", test_engine_device_preview);
  g_test_add_func ("/camera-list/engine-source-id", test_engine_source_id);

  ret = g_test_run ();
  gst_deinit ();
  return ret;
}
