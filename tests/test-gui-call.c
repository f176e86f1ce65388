/* test-gui-call.c — one process hosts a room; a caller window calls a viewer
 * window through it, driven by their actions, and the viewer's picture shows
 * the caller's test pattern. Screenshots of both windows are saved.
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
#include "peercam-test-util.h"

static PeercamApplication *app;

/* A toast on @window's overlay says @text. */
static gboolean
toast_says (gpointer    window,
            GType       type,
            const char *text)
{
  GtkWidget *overlay = peercam_test_template_child (window, type, "toast_overlay");

  return peercam_test_find_with_text (overlay, GTK_TYPE_LABEL, text) != NULL;
}

/* The news names the viewer as the list does: the test's one viewer is
 * the room's first. */
static gboolean
viewer_joined_shown (gpointer caller)
{
  g_autofree char *name = g_strdup_printf (_("Viewer %u"), 1);
  g_autofree char *news = g_strdup_printf (_("%s joined the room"), name);

  return toast_says (caller, PEERCAM_TYPE_CALLER_WINDOW, news);
}

static gboolean
viewer_left_shown (gpointer caller)
{
  g_autofree char *name = g_strdup_printf (_("Viewer %u"), 1);
  g_autofree char *news = g_strdup_printf (_("%s left the room"), name);

  return toast_says (caller, PEERCAM_TYPE_CALLER_WINDOW, news);
}

/* The news toast says it now, no longer that a viewer joined (the same
 * toast says the newest news). */
static gboolean
only_viewer_left_shown (gpointer caller)
{
  return viewer_left_shown (caller) && !viewer_joined_shown (caller);
}

static gboolean
no_viewer_left (gpointer session)
{
  return !peercam_session_get_peer_present (session) && peercam_session_get_n_viewers (session) == 0;
}

/* Hang Up gone, Call back but disabled, saying what it waits for. */
static gboolean
call_waits_for_viewer (gpointer caller)
{
  GtkWidget *call = peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "call_button");
  GtkWidget *hang_up = peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "hang_up_button");

  return !gtk_widget_get_visible (hang_up) && gtk_widget_get_visible (call) && !gtk_widget_get_sensitive (call) &&
         g_strcmp0 (gtk_widget_get_tooltip_text (call), _("Waiting for a viewer to join")) == 0;
}

static gboolean
call_ended_shown (gpointer viewer)
{
  return toast_says (viewer, PEERCAM_TYPE_VIEWER_WINDOW, _("Call ended"));
}

static gboolean
picture_has_frame (gpointer data)
{
  GtkPicture *picture = GTK_PICTURE (peercam_test_template_child (data, PEERCAM_TYPE_VIEWER_WINDOW, "remote_picture"));
  GdkPaintable *paintable = gtk_picture_get_paintable (picture);

  return paintable != NULL && gdk_paintable_get_intrinsic_width (paintable) > 0;
}

static void
check_rendered_video (GtkWidget *picture)
{
  g_autoptr(GdkTexture) texture = NULL;
  int width, height;
  g_autofree guchar *data = NULL;
  guint distinct = 0;
  guint32 previous = 0;

  /* the sender climbs the ladder: the picture may have just changed size */
  peercam_test_wait_for_layout (picture);
  texture = peercam_test_render_widget (picture);
  g_assert_nonnull (texture);
  width = gdk_texture_get_width (texture);
  height = gdk_texture_get_height (texture);
  data = g_malloc ((gsize) width * height * 4);
  gdk_texture_download (texture, data, (gsize) width * 4);

  /* The test pattern has many colours; an empty or frozen-black picture has one. */
  for (int y = height / 4; y < 3 * height / 4; y += 8)
    for (int x = width / 4; x < 3 * width / 4; x += 8)
      {
        guint32 pixel;

        memcpy (&pixel, data + ((gsize) y * width + x) * 4, 4);
        if (pixel != previous)
          distinct++;
        previous = pixel;
      }

  g_test_message ("distinct pixel runs in the viewer picture: %u", distinct);
  g_assert_cmpuint (distinct, >, 10);
}

static void
save_and_check (GtkWidget  *window,
                const char *name)
{
  const char *lang = g_getenv ("LANGUAGE");
  g_autofree char *file = g_strdup_printf ("%s-%s.png", name, lang && *lang ? lang : "en");
  g_autofree char *path = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  peercam_test_wait_for_layout (window);
  path = peercam_test_save_screenshot (window, file);
  texture = gdk_texture_new_from_filename (path, NULL);
  g_assert_nonnull (texture);
  g_assert_false (peercam_test_texture_is_blank (texture));
}

/* A value in a window's statistics popover: its label is named after
 * the stats field (see _peercam_window_show_stats). */
static GtkWidget *
stats_value (gpointer    window,
             GType       type,
             const char *key)
{
  GtkWidget *grid = peercam_test_template_child (window, type, "stats_grid");

  for (GtkWidget *child = gtk_widget_get_first_child (grid); child; child = gtk_widget_get_next_sibling (child))
    if (g_strcmp0 (gtk_widget_get_name (child), key) == 0)
      return child;
  return NULL;
}

static gboolean
caller_stats_shown (gpointer window)
{
  GtkWidget *v = stats_value (window, PEERCAM_TYPE_CALLER_WINDOW, "estimate_kbps");
  return v != NULL && gtk_widget_get_visible (v);
}

static gboolean
viewer_stats_shown (gpointer window)
{
  GtkWidget *v = stats_value (window, PEERCAM_TYPE_VIEWER_WINDOW, "jitter_ms");
  return v != NULL && gtk_widget_get_visible (v);
}

/* Opens the statistics popover, checks that each of @keys shows a value,
 * saves a picture of it. */
static void
check_stats_popover (gpointer            window,
                     GType               type,
                     const char * const *keys,
                     const char         *name)
{
  GtkWidget *button = peercam_test_template_child (window, type, "stats_button");
  GtkPopover *popover;

  gtk_menu_button_popup (GTK_MENU_BUTTON (button));
  popover = gtk_menu_button_get_popover (GTK_MENU_BUTTON (button));
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, popover, 5000));
  peercam_test_spin (300);
  for (guint i = 0; keys[i]; i++)
    {
      GtkWidget *value = stats_value (window, type, keys[i]);

      g_assert_nonnull (value);
      g_assert_true (gtk_widget_get_mapped (value));
      g_test_message ("%s: %s = %s", name, keys[i], gtk_label_get_label (GTK_LABEL (value)));
      g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (value)), !=, "");
    }
  save_and_check (GTK_WIDGET (popover), name);
  gtk_popover_popdown (popover);
}

static void
test_call (void)
{
  g_autoptr(GError) error = NULL;
  GtkWindow *caller, *viewer;
  PeercamSession *caller_session, *viewer_session;

  g_assert_true (peercam_application_start_hosting (app, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_nonnull (peercam_test_app_get_server (app));

  viewer = peercam_application_new_viewer_window (app);
  caller = peercam_application_new_caller_window (app);
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, viewer, 5000));
  g_assert_true (peercam_test_wait_until (peercam_test_is_mapped, caller, 5000));
  caller_session = peercam_caller_window_get_session (PEERCAM_CALLER_WINDOW (caller));
  viewer_session = peercam_viewer_window_get_session (PEERCAM_VIEWER_WINDOW (viewer));

  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, viewer_session, 10000));
  g_assert_true (peercam_test_wait_until (peercam_test_session_joined, caller_session, 10000));
  g_assert_true (peercam_test_wait_until (peercam_test_peer_present, caller_session, 10000));
  /* The session's peer-joined, told in the caller window. */
  g_assert_true (peercam_test_wait_until (viewer_joined_shown, caller, 5000));
  save_and_check (GTK_WIDGET (viewer), "viewer-waiting");

  /* The demo's rules: Call needs local video. */
  g_assert_false (gtk_widget_get_sensitive (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "call_button")));
  g_assert_false (gtk_widget_get_sensitive (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "hang_up_button")));
  /* SMPTE bars: many colours wherever the picture is sampled. */
  peercam_caller_window_set_source (PEERCAM_CALLER_WINDOW (caller), "smpte");

  for (guint round = 0; round < 2; round++)
    {
      g_test_message ("call round %u", round);
      if (round == 0)
        g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.get-local-video", NULL));
      g_assert_true (peercam_test_wait_until (peercam_test_is_sensitive, peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "call_button"), 10000));
      /* Highlighted: a viewer is in the room. */
      g_assert_true (gtk_widget_has_css_class (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "call_button"), "suggested-action"));

      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.call", NULL));
      g_assert_true (peercam_test_wait_until (peercam_test_viewer_shows_video, viewer, 30000));
      g_assert_true (peercam_test_wait_until (picture_has_frame, viewer, 10000));
      peercam_test_spin (500);
      /* Rendered as the user sees it: the whole window, sampled where the
       * video sits. */
      check_rendered_video (GTK_WIDGET (viewer));
      g_assert_true (gtk_widget_get_sensitive (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "hang_up_button")));
      g_assert_false (gtk_widget_get_sensitive (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "call_button")));

      if (round == 0)
        {
          static const char * const caller_keys[] = {
            "estimate_kbps", "send_width", "fps", "send_kbps", "loss_pct", "rtt_ms", "retransmissions", NULL
          };
          static const char * const viewer_keys[] = {
            "resolution", "fps", "kbps", "loss_pct", "jitter_ms", "latency_ms", "retransmissions", NULL
          };

          save_and_check (GTK_WIDGET (caller), "caller-in-call");
          save_and_check (GTK_WIDGET (viewer), "viewer-in-call");
          /* The stats event comes every 2 s. */
          g_assert_true (peercam_test_wait_until (caller_stats_shown, caller, 10000));
          g_assert_true (peercam_test_wait_until (viewer_stats_shown, viewer, 10000));
          check_stats_popover (caller, PEERCAM_TYPE_CALLER_WINDOW, caller_keys, "caller-stats");
          check_stats_popover (viewer, PEERCAM_TYPE_VIEWER_WINDOW, viewer_keys, "viewer-stats");
        }

      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.hang-up", NULL));
      g_assert_true (peercam_test_wait_until (peercam_test_viewer_waiting, viewer, 10000));
      /* The session's bye, told in the viewer window. */
      g_assert_true (peercam_test_wait_until (call_ended_shown, viewer, 5000));
      /* Preview stays; Call works again. */
      g_assert_true (peercam_test_wait_until (peercam_test_is_sensitive, peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "call_button"), 10000));
      g_assert_false (gtk_widget_get_sensitive (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "hang_up_button")));
    }

  /* A third call, and the viewer closes its window in the middle of it:
   * the room's bye, told in the caller window; the caller's call ends, its
   * preview goes on, and Call waits for a viewer again. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (caller), "caller.call", NULL));
  g_assert_true (peercam_test_wait_until (peercam_test_viewer_shows_video, viewer, 30000));
  g_assert_false (viewer_left_shown (caller));
  gtk_window_destroy (viewer);
  g_assert_true (peercam_test_wait_until (viewer_left_shown, caller, 15000));
  g_assert_true (peercam_test_wait_until (no_viewer_left, caller_session, 5000));
  g_assert_true (peercam_test_wait_until (call_waits_for_viewer, caller, 10000));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (peercam_test_template_child (caller, PEERCAM_TYPE_CALLER_WINDOW, "video_stack"))),
                   ==, "preview");
  g_assert_true (peercam_test_wait_until (only_viewer_left_shown, caller, 10000));
  save_and_check (GTK_WIDGET (caller), "caller-viewer-left");

  gtk_window_destroy (caller);
  peercam_test_spin (200);
  peercam_application_stop_hosting (app);
  g_assert_null (peercam_test_app_get_server (app));
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

  g_test_add_func ("/gui/call", test_call);

  ret = g_test_run ();

  g_clear_pointer (&app, peercam_test_app_free);
  return ret;
}
