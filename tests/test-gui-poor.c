/* test-gui-poor.c — a real caller+viewer call on loopback; the caller's
 * packets are dropped and the viewer window says "Poor connection" in its
 * subtitle and over the picture, then not once frames come back.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "peercam-application.h"
#include "peercam-caller-window.h"
#include "peercam-viewer-window.h"
#include "peercam-video-paintable.h"
#include "peercam-test-util.h"

static PeercamApplication *app;

static void
save_and_check (GtkWidget  *window,
                const char *name)
{
  const char *lang = g_getenv ("LANGUAGE");
  g_autofree char *file = g_strdup_printf ("%s-%s.png", name, lang && *lang ? lang : "en");
  g_autofree char *path = peercam_test_save_screenshot (window, file);
  g_autoptr(GdkTexture) texture = gdk_texture_new_from_filename (path, NULL);

  g_assert_nonnull (texture);
  g_assert_false (peercam_test_texture_is_blank (texture));
}


static gint drop_media;

static GstPadProbeReturn
drop_media_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  return g_atomic_int_get (&drop_media) ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

/* Every RTP/RTCP packet the caller sends passes a nicesink; ICE's own
 * checks do not, so dropping there is total media loss on a live path. */
static guint
lose_caller_packets (GstElement *pipeline)
{
  g_autoptr(GstIterator) it = gst_bin_iterate_recurse (GST_BIN (pipeline));
  GValue item = G_VALUE_INIT;
  guint probes = 0;

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK)
    {
      GstElement *element = g_value_get_object (&item);
      GstElementFactory *factory = gst_element_get_factory (element);

      if (factory && g_str_equal (GST_OBJECT_NAME (factory), "nicesink"))
        {
          g_autoptr(GstPad) pad = gst_element_get_static_pad (element, "sink");

          gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                             drop_media_probe, NULL, NULL);
          probes++;
        }
      g_value_reset (&item);
    }
  g_value_unset (&item);
  return probes;
}

static gboolean
notice_shown (gpointer data)
{
  return gtk_widget_get_visible (peercam_test_template_child (data, PEERCAM_TYPE_VIEWER_WINDOW,
                                                              "poor_connection_label"));
}

static gboolean
notice_hidden (gpointer data)
{
  return !notice_shown (data);
}

static const char *
subtitle (GtkWindow *window, GType type)
{
  return adw_window_title_get_subtitle (ADW_WINDOW_TITLE (peercam_test_template_child (window, type,
                                                                                      "window_title")));
}

static void
test_poor_connection (void)
{
  g_autoptr(GError) error = NULL;
  GtkWindow *caller, *viewer;
  PeercamSession *caller_session, *viewer_session;
  GtkPicture *preview;
  GstElement *sink;
  g_autoptr(GstObject) pipeline = NULL;
  gint64 lost_at;

  g_assert_true (peercam_application_start_hosting (app, 0, NULL, FALSE, &error));
  g_assert_no_error (error);

  viewer = peercam_application_new_viewer_window (app);
  caller = peercam_application_new_caller_window (app);
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, viewer, 5000));
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, caller, 5000));
  caller_session = peercam_caller_window_get_session (PEERCAM_CALLER_WINDOW (caller));
  viewer_session = peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (viewer));
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, viewer_session, 10000));
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, caller_session, 10000));
  g_assert_true (peercam_test_wait_until (peercam_test_peer_present, caller_session, 10000));

  peercam_caller_window_set_source (PEERCAM_CALLER_WINDOW (caller), "smpte");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.get-local-video", NULL));
  g_assert_true (peercam_test_wait_until (peercam_test_is_sensitive, peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "call_button"), 10000));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.call", NULL));
  g_assert_true (peercam_test_wait_until (peercam_test_viewer_shows_video, viewer, 30000));
  peercam_test_spin (500);
  g_assert_false (peercam_session_get_poor_connection (viewer_session));
  g_assert_false (notice_shown (viewer));
  g_assert_null (strstr (subtitle (viewer, PEERCAM_TYPE_VIEWER_WINDOW), _("Poor connection")));

  /* The caller's pipeline holds its preview sink and its webrtcbin. */
  preview = GTK_PICTURE (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "preview_picture"));
  sink = peercam_video_paintable_get_sink (PEERCAM_VIDEO_PAINTABLE (gtk_picture_get_paintable (preview)));
  pipeline = gst_object_get_parent (GST_OBJECT (sink));
  g_assert_nonnull (pipeline);
  g_assert_cmpuint (lose_caller_packets (GST_ELEMENT (pipeline)), >, 0);

  /* The caller stops getting through: the viewer says so within 6 s. */
  g_atomic_int_set (&drop_media, 1);
  lost_at = g_get_monotonic_time ();
  g_assert_true (peercam_test_wait_until (notice_shown, viewer, 6000));
  g_test_message ("notice shown %.0f ms after the loss", (g_get_monotonic_time () - lost_at) / 1000.0);
  g_assert_true (peercam_session_get_poor_connection (viewer_session));
  g_assert_nonnull (strstr (subtitle (viewer, PEERCAM_TYPE_VIEWER_WINDOW), _("Poor connection")));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (peercam_test_template_child (viewer, PEERCAM_TYPE_VIEWER_WINDOW, "poor_connection_label"))),
                   ==, _("Poor connection — waiting for the video to come back"));
  peercam_test_spin (300);
  save_and_check (GTK_WIDGET (viewer), "viewer-poor-connection");

  /* Frames come back: the notice goes. */
  g_atomic_int_set (&drop_media, 0);
  g_assert_true (peercam_test_wait_until (notice_hidden, viewer, 6000));
  g_assert_false (peercam_session_get_poor_connection (viewer_session));
  g_assert_null (strstr (subtitle (viewer, PEERCAM_TYPE_VIEWER_WINDOW), _("Poor connection")));
  g_assert_true (peercam_test_viewer_shows_video (viewer));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.hang-up", NULL));
  g_assert_true (peercam_test_wait_until (peercam_test_viewer_waiting, viewer, 10000));
  g_assert_false (notice_shown (viewer));
  gtk_window_destroy (caller);
  gtk_window_destroy (viewer);
  peercam_test_spin (200);
  peercam_application_stop_hosting (app);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *localedir = NULL;
  int ret;

  setlocale (LC_ALL, "");
  localedir = g_build_filename (g_getenv ("PEERCAM_BUILD_ROOT"), "po", NULL);
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_test_init (&argc, &argv, NULL);

  app = peercam_test_app_new ();

  g_test_add_func ("/gui/poor-connection", test_poor_connection);

  ret = g_test_run ();

  g_clear_pointer (&app, peercam_test_app_free);
  return ret;
}
