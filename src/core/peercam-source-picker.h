/* peercam-source-picker.h — what a caller can send: its cameras, the
 * screen (through the ScreenCast portal), the test pattern, or a file or
 * GStreamer source from the command line
 *
 * The caller window's source menu as core API: the camera list as a
 * GListModel, the camera portal's access flow and the screen's portal
 * dialog as async calls with GError, and which entry the session's source
 * is. Items are objects of peercam_source_picker_get_item_type() with the
 * string properties "name" (for people) and "id" (the --source value).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "peercam-session.h"

G_BEGIN_DECLS

#define PEERCAM_TYPE_SOURCE_PICKER (peercam_source_picker_get_type ())
G_DECLARE_FINAL_TYPE (PeercamSourcePicker, peercam_source_picker, PEERCAM, SOURCE_PICKER, GObject)

/* Properties: "loading" (the cameras are being listed).
 * Signals: "screen-closed" (the desktop ended the screen's session). */

PeercamSourcePicker *peercam_source_picker_new              (PeercamSession       *session);
GType                peercam_source_picker_get_item_type    (void);
const char          *peercam_source_picker_item_get_name    (gpointer              item);
const char          *peercam_source_picker_item_get_id      (gpointer              item);
/* An entry that names a source (e.g. a saved camera not plugged in). */
gpointer             peercam_source_picker_item_new         (const char           *name,
                                                             const char           *id);
/* The cameras alone (hot-plugged), for lists outside a call (preferences). */
GListModel          *peercam_source_picker_new_camera_list  (void);

/* The cameras, hot-plugged; then the extra entries: "Screen", "Test
 * Pattern" and the command line's source. */
GListModel          *peercam_source_picker_get_cameras      (PeercamSourcePicker  *self);
GListModel          *peercam_source_picker_get_extras       (PeercamSourcePicker  *self);
gpointer             peercam_source_picker_get_no_camera_item (PeercamSourcePicker *self);
gpointer             peercam_source_picker_get_screen_item  (PeercamSourcePicker  *self);
gpointer             peercam_source_picker_get_test_item    (PeercamSourcePicker  *self);
gpointer             peercam_source_picker_get_custom_item  (PeercamSourcePicker  *self);
gboolean             peercam_source_picker_get_loading      (PeercamSourcePicker  *self);
/* The first camera listed, or NULL. */
gpointer             peercam_source_picker_get_first_camera (PeercamSourcePicker  *self);
/* No camera to list, and none hidden behind a portal not asked yet. */
gboolean             peercam_source_picker_no_camera_listed (PeercamSourcePicker  *self);

/* "test", "camera" (the first one), a camera's id, "screen", or a "file:"
 * / "gst:" source (which gets an extra entry of its own). */
void                 peercam_source_picker_set_source       (PeercamSourcePicker  *self,
                                                             const char           *source);
/* The entry that stands for the session's source (NULL: none listed). */
gpointer             peercam_source_picker_get_current      (PeercamSourcePicker  *self);
/* The session uses @item's source; the test pattern keeps a pattern that
 * is already chosen (SMPTE from the tests); leaving the screen ends its
 * portal session. */
void                 peercam_source_picker_apply            (PeercamSourcePicker  *self,
                                                             gpointer              item);

/* Sandboxed (or with a desktop portal): cameras need the user's consent
 * first. Granted, the camera list restarts on the portal's PipeWire remote:
 * "loading" turns FALSE once its cameras are listed. */
gboolean             peercam_source_picker_needs_camera_access (PeercamSourcePicker *self);
void                 peercam_source_picker_access_cameras_async  (PeercamSourcePicker  *self,
                                                                  GCancellable         *cancellable,
                                                                  GAsyncReadyCallback   callback,
                                                                  gpointer              user_data);
gboolean             peercam_source_picker_access_cameras_finish (PeercamSourcePicker  *self,
                                                                  GAsyncResult         *result,
                                                                  GError              **error);

/* The screen: the desktop asks which screen or window each time sharing
 * starts; the choice is kept until another source is applied. */
gboolean             peercam_source_picker_has_screen       (PeercamSourcePicker  *self);
void                 peercam_source_picker_choose_screen_async  (PeercamSourcePicker  *self,
                                                                 GCancellable         *cancellable,
                                                                 GAsyncReadyCallback   callback,
                                                                 gpointer              user_data);
gboolean             peercam_source_picker_choose_screen_finish (PeercamSourcePicker  *self,
                                                                 GAsyncResult         *result,
                                                                 GError              **error);
void                 peercam_source_picker_close_screen     (PeercamSourcePicker  *self);

G_END_DECLS
