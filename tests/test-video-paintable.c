/* test-video-paintable.c — frames from a GStreamer pipeline become textures
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-init.h"
#include "peercam-video-paintable.h"

#include <gst/gst.h>

static gboolean
timeout_reached (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
spin_until_frames (PeercamVideoPaintable *paintable,
                   guint64                frames)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (5000, timeout_reached, &timed_out);

  while (peercam_video_paintable_get_frames (paintable) < frames && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_cmpuint (peercam_video_paintable_get_frames (paintable), >=, frames);
}

static GstElement *
red_pipeline (GstElement *sink)
{
  g_autoptr(GError) error = NULL;
  GstElement *pipeline = gst_parse_launch ("videotestsrc is-live=true pattern=red ! "
                                           "video/x-raw,width=64,height=48,framerate=30/1 ! "
                                           "identity name=last", &error);
  g_autoptr(GstElement) last = NULL;

  g_assert_no_error (error);
  last = gst_bin_get_by_name (GST_BIN (pipeline), "last");
  gst_bin_add (GST_BIN (pipeline), sink);  /* the paintable keeps its own ref */
  g_assert_true (gst_element_link (last, sink));
  return pipeline;
}

static void
test_frames (void)
{
  g_autoptr(PeercamVideoPaintable) paintable = peercam_video_paintable_new ();
  g_autoptr(GstElement) pipeline = red_pipeline (peercam_video_paintable_get_sink (paintable));
  GdkTexture *texture;
  g_autofree guchar *pixel = g_malloc (64 * 48 * 4);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  spin_until_frames (paintable, 5);

  texture = peercam_video_paintable_get_texture (paintable);
  g_assert_nonnull (texture);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, 64);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, 48);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (GDK_PAINTABLE (paintable)), ==, 64);
  gdk_texture_download (texture, pixel, 64 * 4);
  /* Cairo's ARGB32 in memory order on little endian: B, G, R, A. */
  g_assert_cmpint (pixel[2], >, 200);
  g_assert_cmpint (pixel[1], <, 50);
  g_assert_cmpint (pixel[0], <, 50);

  gst_element_set_state (pipeline, GST_STATE_NULL);
}

/* The paintable goes away while the pipeline still streams into its sink. */
static void
test_finalize_in_flight (void)
{
  for (guint i = 0; i < 20; i++)
    {
      PeercamVideoPaintable *paintable = peercam_video_paintable_new ();
      g_autoptr(GstElement) pipeline = red_pipeline (peercam_video_paintable_get_sink (paintable));
      gboolean done = FALSE;

      gst_element_set_state (pipeline, GST_STATE_PLAYING);
      spin_until_frames (paintable, 1);
      g_object_unref (paintable);
      g_timeout_add (30, timeout_reached, &done);
      while (!done)
        g_main_context_iteration (NULL, TRUE);
      gst_element_set_state (pipeline, GST_STATE_NULL);
    }
}

int
main (int argc, char **argv)
{
  peercam_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gui/video-paintable/frames", test_frames);
  g_test_add_func ("/gui/video-paintable/finalize-in-flight", test_finalize_in_flight);

  return g_test_run ();
}
