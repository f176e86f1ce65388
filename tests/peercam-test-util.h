/* peercam-test-util.h — helpers shared by the GUI tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "peercam-application.h"
/* Tests may look below the session layer, which windows may not. */
#include "peercam-host-private.h"
#include "peercam-session-private.h"

G_BEGIN_DECLS

/* A registered, held application (not unique: tests run side by side);
 * peercam_test_app_free() releases and drops it. */
PeercamApplication *peercam_test_app_new      (void);
void                peercam_test_app_free     (PeercamApplication *app);
/* The server of the room @app hosts, or NULL. */
PeercamSignalingServer *peercam_test_app_get_server (PeercamApplication *app);

/* Iterates the default main context until @condition returns TRUE or
 * @timeout_ms passes; returns the last value of @condition. */
gboolean    peercam_test_wait_until      (gboolean   (*condition) (gpointer data),
                                          gpointer     data,
                                          guint        timeout_ms);
void        peercam_test_spin            (guint        ms);
/* Iterates until the next frame clock cycle of @widget has painted (2 s at
 * most): a child queued for resize (a video that changed size, as the
 * sender climbs the resolution ladder) has no allocation before the next
 * layout, and snapshotting it then warns. Not from a frame clock callback. */
void        peercam_test_wait_for_layout (GtkWidget   *widget);
gboolean    peercam_test_is_mapped       (gpointer     widget);
GtkWidget  *peercam_test_template_child  (gpointer     window,
                                          GType        type,
                                          const char  *name);
/* Depth-first: the first descendant of @widget of @type whose text (a
 * button's label or a label's) is @text, or NULL. */
GtkWidget  *peercam_test_find_with_text  (GtkWidget   *widget,
                                          GType        type,
                                          const char  *text);
guint       peercam_test_source_position (GtkWidget   *caller_window,
                                          const char  *name);
GdkTexture *peercam_test_render_widget   (GtkWidget   *widget);
gboolean    peercam_test_texture_is_blank (GdkTexture *texture);
char       *peercam_test_save_screenshot (GtkWidget   *widget,
                                          const char  *name);

/* Conditions for peercam_test_wait_until(). */
/* @session (a PeercamSession) has joined its room. */
gboolean    peercam_test_session_joined  (gpointer     session);
/* The room of @session (a PeercamSession) has a peer. */
gboolean    peercam_test_peer_present    (gpointer     session);
/* @widget (an action's button) is sensitive. */
gboolean    peercam_test_is_sensitive    (gpointer     widget);
/* @viewer_window shows the video, not its waiting/problem pages; and not. */
gboolean    peercam_test_viewer_shows_video (gpointer  viewer_window);
gboolean    peercam_test_viewer_waiting  (gpointer     viewer_window);

G_END_DECLS
