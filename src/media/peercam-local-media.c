/* peercam-local-media.c — one caller's local video
 *
 *   source ! capsfilter ! videoconvert ! I420 ! tee ─ queue ! preview sink
 *                                                  ├ queue ! branch (encoder …)
 *                                                  └ …
 *
 * The source is a test pattern, a camera (a listed GstDevice or one found by
 * name), "file:PATH" (a PeercamFileSource: the file looped, in real time) or
 * "gst:DESCRIPTION" (any GStreamer source bin; paced by the clock when it is
 * not live itself).
 *
 * Converted once, to I420, ahead of the tee: the encoders take it as it is,
 * and only a preview sink that wants RGBA converts (the app's videoconvert !
 * appsink; a headless fakesink takes I420 as it is). Every branch starts with
 * a leaky queue of its own, so a stalled network never backs up into the
 * preview or another branch.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "peercam-local-media"

#include "config.h"

#include "peercam-local-media.h"

#include "peercam-file-source.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

/* A source that can hang its state change (pipewiresrc waits up to 30 s
 * for a PipeWire daemon that does not answer, and then hangs again on the
 * way to NULL) goes to PLAYING on a worker thread; the pipeline is only
 * ever set to NULL from a thread too. Main-context only, but the worker's
 * own fields. */
typedef struct {
  GstElement           *pipeline;
  GstStateChangeReturn  result;      /* the worker's, read once it returned */
  gboolean              abandoned;   /* stopped meanwhile: retire when done */
} StartJob;

struct _PeercamLocalMedia
{
  GObject        parent_instance;

  GMainContext  *context;
  char          *source;
  GstDevice     *source_device;   /* when set, used instead of "source" */
  int            width;
  int            height;
  int            framerate;
  GstElement    *preview_sink;    /* as given, or NULL: a fakesink */

  GstElement    *pipeline;
  GSource       *bus_source;
  GstElement    *tee;
  GstElement    *sink_in_use;
  GstElement    *source_in_use;   /* the source element, for its errors */
  char          *source_label;    /* how errors name it */
  PeercamFileSource *file_source; /* "file:PATH" while running */
  GstDevice     *device_in_use;
  GstPad        *count_pad;
  gulong         count_probe;
  gsize          frames;          /* atomic: this run's preview frames */
  guint64        frames_done;     /* earlier runs */
  GHashTable    *branches;        /* id → Branch */
  guint          next_branch;
  gboolean       may_block;       /* the source can hang its state change */
  StartJob      *start_job;       /* while such a source starts off-thread */
  guint          start_timeout;
};

typedef struct {
  GstElement *tee;       /* the source's, or one a branch added (a shared encoder's) */
  GstElement *queue;
  GstPad     *tee_pad;
  gint       *stopped;   /* atomic; owned by the tee pad's drop probe */
} Branch;

G_DEFINE_FINAL_TYPE (PeercamLocalMedia, peercam_local_media, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_RUNNING,
  N_PROPS
};

enum {
  SIGNAL_BUS_ERROR,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* ---- helpers ------------------------------------------------------------ */

static GstElement *
make_element (const char  *factory,
              const char  *name,
              GError     **error)
{
  GstElement *element = gst_element_factory_make (factory, name);

  if (element == NULL)
    g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_MISSING_PLUGIN,
                 _("The GStreamer element “%s” is missing"), factory);
  return element;
}

static GstElement *
headless_sink (const char *name)
{
  GstElement *sink = gst_element_factory_make ("fakesink", name);

  /* Headless: no clock sync, so frames are counted as soon as they exist. */
  g_object_set (sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, NULL);
  return sink;
}

static GstPadProbeReturn
count_frames_probe (GstPad          *pad,
                    GstPadProbeInfo *info,
                    gpointer         user_data)
{
  PeercamLocalMedia *self = user_data;

  /* The probe goes before the pipeline stops, and stop() runs before the
   * object goes away, so self is alive here. */
  g_atomic_pointer_add (&self->frames, 1);
  return GST_PAD_PROBE_OK;
}

static gboolean
on_bus_message (GstBus     *bus,
                GstMessage *message,
                gpointer    user_data)
{
  PeercamLocalMedia *self = user_data;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_LATENCY:
      /* The latency event takes the pipeline's state lock, which a source
       * starting off-thread holds: on_started() recalculates instead. */
      if (self->pipeline && self->start_job == NULL)
        gst_bin_recalculate_latency (GST_BIN (self->pipeline));
      break;

    case GST_MESSAGE_ERROR:
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *debug = NULL;

        /* A message posted by a branch torn down meanwhile is stale. */
        if (self->pipeline == NULL ||
            !gst_object_has_as_ancestor (GST_MESSAGE_SRC (message), GST_OBJECT (self->pipeline)))
          break;
        gst_message_parse_error (message, &error, &debug);
        g_debug ("bus error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (message),
                 error->message, debug ? debug : "");
        /* The source's own errors say which source failed (a "gst:" bin's
         * elements name nothing a user chose). */
        if (self->source_in_use != NULL &&
            (GST_MESSAGE_SRC (message) == GST_OBJECT (self->source_in_use) ||
             gst_object_has_as_ancestor (GST_MESSAGE_SRC (message), GST_OBJECT (self->source_in_use))))
          {
            g_autoptr(GError) wrapped = g_error_new (PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                                                     _("The video source “%s” failed: %s"),
                                                     self->source_label, error->message);

            g_signal_emit (self, signals[SIGNAL_BUS_ERROR], 0, GST_MESSAGE_SRC (message), wrapped);
            break;
          }
        g_signal_emit (self, signals[SIGNAL_BUS_ERROR], 0, GST_MESSAGE_SRC (message), error);
      }
      break;

    case GST_MESSAGE_WARNING:
      {
        g_autoptr(GError) error = NULL;

        gst_message_parse_warning (message, &error, NULL);
        g_debug ("bus warning from %s: %s", GST_MESSAGE_SRC_NAME (message), error->message);
      }
      break;

    default:
      break;
    }
  return G_SOURCE_CONTINUE;
}

static GstElement *
find_camera (const char  *wanted,
             GError     **error)
{
  g_autoptr(GstDeviceMonitor) monitor = gst_device_monitor_new ();
  g_autolist(GstDevice) devices = NULL;
  GstElement *element = NULL;

  gst_device_monitor_add_filter (monitor, "Video/Source", NULL);
  if (gst_device_monitor_start (monitor))
    {
      devices = gst_device_monitor_get_devices (monitor);
      gst_device_monitor_stop (monitor);
    }

  for (GList *l = devices; l && element == NULL; l = l->next)
    {
      GstDevice *device = l->data;
      g_autofree char *name = gst_device_get_display_name (device);
      g_autoptr(GstStructure) props = gst_device_get_properties (device);
      const char *path = props ? gst_structure_get_string (props, "device.path") : NULL;
      const char *api_path = props ? gst_structure_get_string (props, "api.v4l2.path") : NULL;

      if (wanted == NULL || g_strcmp0 (wanted, name) == 0 ||
          g_strcmp0 (wanted, path) == 0 || g_strcmp0 (wanted, api_path) == 0)
        element = gst_device_create_element (device, "source");
    }

  /* A device node the monitor did not list (no provider for it). */
  if (element == NULL && wanted && g_str_has_prefix (wanted, "/dev/") &&
      g_file_test (wanted, G_FILE_TEST_EXISTS))
    {
      element = gst_element_factory_make ("v4l2src", "source");
      if (element)
        g_object_set (element, "device", wanted, NULL);
    }

  if (element == NULL)
    {
      if (wanted)
        g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_NO_CAMERA,
                     _("No camera found named “%s”"), wanted);
      else
        g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_NO_CAMERA,
                             _("No camera found"));
    }
  return element;
}

static void
on_file_source_error (PeercamFileSource *file_source,
                      GError            *error,
                      gpointer           user_data)
{
  PeercamLocalMedia *self = user_data;

  g_signal_emit (self, signals[SIGNAL_BUS_ERROR], 0,
                 GST_OBJECT (peercam_file_source_get_element (file_source)), error);
}

/* "gst:DESCRIPTION": the description with a pacer behind it, as one bin.
 * A description that is not live (videotestsrc, a file) would run as fast
 * as the CPU allows; an identity with sync on lets its frames go at their
 * time. It is live itself, and a live source's frames are never early, so
 * it holds a camera's back not at all. Linked in the description, it also
 * takes a description that ends in caps ("… ! video/x-raw,width=640") or in
 * an element whose pads come later (uridecodebin). */
static GstElement *
make_description_source (const char  *description,
                         GError     **error)
{
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(GstPad) src_pad = NULL;
  g_autoptr(GstPad) sink_pad = NULL;
  g_autofree char *stripped = g_strstrip (g_strdup (description));
  g_autofree char *full = NULL;
  g_autofree char *shown = NULL;
  GstElement *bin;

  if (*stripped == '\0')
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                           _("The GStreamer source description is empty"));
      return NULL;
    }

  /* Messages show it; the parser takes whatever bytes it is. */
  shown = g_utf8_make_valid (stripped, -1);
  full = g_strdup_printf ("%s ! identity name=peercam-pacer sync=true silent=true", stripped);
  bin = gst_parse_bin_from_description_full (full, TRUE, NULL,
                                             GST_PARSE_FLAG_FATAL_ERRORS, &parse_error);
  if (bin == NULL || parse_error != NULL)
    {
      g_autofree char *why = g_utf8_make_valid (parse_error ? parse_error->message : _("unknown error"), -1);

      if (bin != NULL)
        gst_object_unref (gst_object_ref_sink (bin));
      g_set_error (error, PEERCAM_CALL_ERROR,
                   g_error_matches (parse_error, GST_PARSE_ERROR, GST_PARSE_ERROR_NO_SUCH_ELEMENT)
                     ? PEERCAM_CALL_ERROR_MISSING_PLUGIN : PEERCAM_CALL_ERROR_SOURCE,
                   _("The GStreamer source “%s” is not valid: %s"), shown, why);
      return NULL;
    }
  gst_object_ref_sink (bin);

  /* Unlinked pads are ghosted: a sink pad means it wants input. */
  src_pad = gst_element_get_static_pad (bin, "src");
  sink_pad = gst_element_get_static_pad (bin, "sink");
  if (src_pad == NULL || sink_pad != NULL)
    {
      gst_object_unref (bin);
      g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                   _("The GStreamer source “%s” is not valid: it needs an input"), shown);
      return NULL;
    }
  return bin;
}

static gboolean
is_test_pattern (const char *source)
{
  return g_str_equal (source, "test") || g_str_equal (source, "smpte") ||
         g_str_equal (source, "ball") || g_str_equal (source, "pinwheel");
}

/* The source and the caps it is asked for. */
static GstElement *
make_source (PeercamLocalMedia  *self,
             GstCaps           **caps,
             char              **label,
             GError            **error)
{
  const char *wanted = self->source ? self->source : "test";
  GstElement *source;

  if (self->source_device == NULL && g_str_has_prefix (wanted, "file:"))
    {
      const char *path = wanted + strlen ("file:");

      if (*path == '\0')
        {
          g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                               _("No video file given: use file:PATH"));
          return NULL;
        }
      self->file_source = peercam_file_source_new (path, error);
      if (self->file_source == NULL)
        return NULL;
      g_signal_connect_object (self->file_source, "error", G_CALLBACK (on_file_source_error), self, 0);
      *label = g_filename_display_basename (path);
      /* The file's own size and frame rate. */
      *caps = gst_caps_new_empty_simple ("video/x-raw");
      return gst_object_ref (peercam_file_source_get_element (self->file_source));
    }

  if (self->source_device == NULL && g_str_has_prefix (wanted, "gst:"))
    {
      source = make_description_source (wanted + strlen ("gst:"), error);
      if (source == NULL)
        return NULL;
      *label = g_utf8_make_valid (wanted + strlen ("gst:"), -1);
      *caps = gst_caps_new_empty_simple ("video/x-raw");
      return source;
    }

  if (self->source_device == NULL && g_str_equal (wanted, "screen"))
    {
      /* The screen comes as a device from the ScreenCast portal
       * (PeercamScreencastPortal), which the window or headless mode asks
       * first: "screen" alone cannot be opened. */
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                           _("The screen is shared through the desktop’s ScreenCast portal: choose “Screen” in the caller window"));
      return NULL;
    }

  if (self->source_device == NULL && is_test_pattern (wanted))
    {
      source = make_element ("videotestsrc", "source", error);
      if (source == NULL)
        return NULL;
      g_object_set (source, "is-live", TRUE, NULL);
      /* Drawing costs a core at 720p30: "ball" ~20%, SMPTE ~10%, "pinwheel"
       * ~3%. Plain "test" is SMPTE: its moving noise shows a person that
       * the video is live, which a still pinwheel cannot. */
      gst_util_set_object_arg (G_OBJECT (source), "pattern",
                               g_str_equal (wanted, "ball") ? "ball" :
                               g_str_equal (wanted, "pinwheel") ? "pinwheel" : "smpte");
      /* The test source obeys the requested size exactly, and draws I420,
       * what the encoder takes, so nothing converts on the way there. */
      *caps = gst_caps_new_simple ("video/x-raw",
                                   "format", G_TYPE_STRING, "I420",
                                   "width", G_TYPE_INT, self->width,
                                   "height", G_TYPE_INT, self->height,
                                   "framerate", GST_TYPE_FRACTION, self->framerate, 1,
                                   "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1,
                                   NULL);
      *label = g_strdup (wanted);
      return source;
    }

  if (self->source_device != NULL)
    {
      /* A listed device (e.g. a PipeWire node behind the camera portal)
       * knows how to make its own source, fd and all. */
      *label = gst_device_get_display_name (self->source_device);
      source = gst_device_create_element (self->source_device, "source");
      if (source == NULL)
        {
          g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                       _("The camera “%s” cannot make a video source"), *label);
          return NULL;
        }
    }
  else
    {
      *label = g_strdup (wanted);
      source = find_camera (g_str_equal (wanted, "camera") ? NULL : wanted, error);
      if (source == NULL)
        return NULL;
    }
  /* Cameras offer what they offer: prefer the requested size, take any. */
  *caps = gst_caps_new_simple ("video/x-raw",
                               "width", G_TYPE_INT, self->width,
                               "height", G_TYPE_INT, self->height,
                               NULL);
  gst_caps_append (*caps, gst_caps_new_empty_simple ("video/x-raw"));
  return source;
}

/* ---- branches ----------------------------------------------------------- */

typedef struct {
  GMutex   lock;
  GCond    cond;
  gboolean done;
} Unlink;

static GstPadProbeReturn
unlink_when_idle (GstPad          *pad,
                  GstPadProbeInfo *info,
                  gpointer         user_data)
{
  Unlink *u = user_data;
  g_autoptr(GstPad) peer = gst_pad_get_peer (pad);

  if (peer)
    gst_pad_unlink (pad, peer);
  g_mutex_lock (&u->lock);
  u->done = TRUE;
  g_cond_signal (&u->cond);
  g_mutex_unlock (&u->lock);
  return GST_PAD_PROBE_REMOVE;
}

static void
branch_free (gpointer data)
{
  Branch *branch = data;

  g_clear_object (&branch->tee_pad);
  g_clear_object (&branch->queue);
  g_clear_object (&branch->tee);
  g_free (branch);
}

static void
branch_detach (PeercamLocalMedia *self,
               Branch            *branch)
{
  Unlink u = { 0 };

  /* Unlinked between two buffers: the IDLE probe runs here at once when
   * nothing is being pushed, else right after the push in flight, which
   * into a leaky queue never waits long. */
  g_mutex_init (&u.lock);
  g_cond_init (&u.cond);
  gst_pad_add_probe (branch->tee_pad, GST_PAD_PROBE_TYPE_IDLE, unlink_when_idle, &u, NULL);
  g_mutex_lock (&u.lock);
  while (!u.done)
    g_cond_wait (&u.cond, &u.lock);
  g_mutex_unlock (&u.lock);
  g_mutex_clear (&u.lock);
  g_cond_clear (&u.cond);

  gst_element_release_request_pad (branch->tee, branch->tee_pad);
  gst_element_set_locked_state (branch->queue, TRUE);
  gst_element_set_state (branch->queue, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (self->pipeline), branch->queue);
}

/* A branch whose elements are being shut down answers FLUSHING; the tee
 * would hand that to the source, whose task then pauses for good (no error,
 * no more frames for the preview or any other branch). A stopped branch's
 * buffers are dropped at the tee instead, which answers OK. */
static GstPadProbeReturn
drop_when_stopped (GstPad          *pad,
                   GstPadProbeInfo *info,
                   gpointer         user_data)
{
  gint *stopped = user_data;

  return g_atomic_int_get (stopped) ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

/* The tee's format is fixed (I420 at the capture size): a branch joining
 * or leaving must not make the source renegotiate. Its RECONFIGURE would
 * send a caps query down every branch, and one into a webrtcbin busy
 * setting up a new call holds the source, and so every viewer (issue 15). */
static GstPadProbeReturn
drop_reconfigure (GstPad          *pad,
                  GstPadProbeInfo *info,
                  gpointer         user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  return event && GST_EVENT_TYPE (event) == GST_EVENT_RECONFIGURE ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

guint
peercam_local_media_add_branch (PeercamLocalMedia  *self,
                                GstElement         *head,
                                GError            **error)
{
  g_return_val_if_fail (PEERCAM_IS_LOCAL_MEDIA (self), 0);

  return peercam_local_media_add_branch_at (self, self->tee, head, 2, error);
}

guint
peercam_local_media_add_branch_at (PeercamLocalMedia  *self,
                                   GstElement         *tee,
                                   GstElement         *head,
                                   guint               max_buffers,
                                   GError            **error)
{
  Branch *branch;
  g_autoptr(GstPad) queue_sink = NULL;
  guint id;

  g_return_val_if_fail (PEERCAM_IS_LOCAL_MEDIA (self), 0);
  g_return_val_if_fail (GST_IS_ELEMENT (head), 0);
  g_return_val_if_fail (tee == NULL || GST_IS_ELEMENT (tee), 0);

  if (self->pipeline == NULL)
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_WRONG_STATE,
                           _("Local video is not running"));
      return 0;
    }

  branch = g_new0 (Branch, 1);
  branch->tee = gst_object_ref (tee);
  branch->queue = gst_object_ref (gst_element_factory_make ("queue", NULL));
  g_object_set (branch->queue, "leaky", 2, "max-size-buffers", max_buffers, "max-size-bytes", 0,
                "max-size-time", (guint64) 0, NULL);
  gst_bin_add (GST_BIN (self->pipeline), branch->queue);
  if (!gst_element_link (branch->queue, head))
    {
      gst_bin_remove (GST_BIN (self->pipeline), branch->queue);
      branch_free (branch);
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_PIPELINE,
                           _("Could not link the encoder to the video source"));
      return 0;
    }
  gst_element_sync_state_with_parent (branch->queue);

  /* The tee hands a new pad the stream's sticky events (stream-start,
   * caps, segment) before it gets a buffer. */
  branch->tee_pad = gst_element_request_pad_simple (tee, "src_%u");
  if (branch->tee_pad)
    {
      branch->stopped = g_new0 (gint, 1);
      gst_pad_add_probe (branch->tee_pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                         drop_when_stopped, branch->stopped, g_free);
      gst_pad_add_probe (branch->tee_pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, drop_reconfigure, NULL, NULL);
    }
  queue_sink = gst_element_get_static_pad (branch->queue, "sink");
  if (branch->tee_pad == NULL || gst_pad_link (branch->tee_pad, queue_sink) != GST_PAD_LINK_OK)
    {
      if (branch->tee_pad)
        gst_element_release_request_pad (tee, branch->tee_pad);
      gst_element_unlink (branch->queue, head);
      gst_element_set_locked_state (branch->queue, TRUE);
      gst_element_set_state (branch->queue, GST_STATE_NULL);
      gst_bin_remove (GST_BIN (self->pipeline), branch->queue);
      branch_free (branch);
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_PIPELINE,
                           _("Could not link the encoder to the video source"));
      return 0;
    }

  id = ++self->next_branch;
  g_hash_table_insert (self->branches, GUINT_TO_POINTER (id), branch);
  return id;
}

void
peercam_local_media_stop_branch (PeercamLocalMedia *self,
                                 guint              id)
{
  Branch *branch;

  g_return_if_fail (PEERCAM_IS_LOCAL_MEDIA (self));

  branch = g_hash_table_lookup (self->branches, GUINT_TO_POINTER (id));
  if (branch && branch->stopped)
    g_atomic_int_set (branch->stopped, TRUE);
}

void
peercam_local_media_remove_branch (PeercamLocalMedia *self,
                                   guint              id)
{
  Branch *branch;

  g_return_if_fail (PEERCAM_IS_LOCAL_MEDIA (self));

  branch = g_hash_table_lookup (self->branches, GUINT_TO_POINTER (id));
  if (branch == NULL)
    return;
  branch_detach (self, branch);
  g_hash_table_remove (self->branches, GUINT_TO_POINTER (id));
}

/* ---- sources that can block --------------------------------------------- */

/* How long a source that can block may take to start. A PipeWire daemon
 * answers in milliseconds; pipewiresrc's own wait is 30 s, far too long
 * for a user looking at an empty window. */
#define START_TIMEOUT_MS 5000

static gboolean
is_blocking_factory (GstElement *element)
{
  GstElementFactory *factory = gst_element_get_factory (element);

  return factory != NULL && g_str_equal (GST_OBJECT_NAME (factory), "pipewiresrc");
}

static gboolean
may_block (GstElement *source)
{
  g_autoptr(GstIterator) it = NULL;
  GValue item = G_VALUE_INIT;
  gboolean found = FALSE;

  if (is_blocking_factory (source))
    return TRUE;
  if (!GST_IS_BIN (source))
    return FALSE;
  it = gst_bin_iterate_recurse (GST_BIN (source));
  while (!found && gst_iterator_next (it, &item) == GST_ITERATOR_OK)
    {
      found = is_blocking_factory (g_value_get_object (&item));
      g_value_reset (&item);
    }
  g_value_unset (&item);
  return found;
}

static void
start_job_free (StartJob *job)
{
  gst_object_unref (job->pipeline);
  g_free (job);
}

static void
retire_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  gst_element_set_state (task_data, GST_STATE_NULL);
  g_task_return_boolean (task, TRUE);
}

/* To NULL and gone, off the main context. */
static void
retire_pipeline (GstElement *pipeline)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, NULL, NULL);

  g_task_set_task_data (task, gst_object_ref (pipeline), gst_object_unref);
  g_task_run_in_thread (task, retire_thread);
}

static void
start_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  StartJob *job = task_data;

  job->result = gst_element_set_state (job->pipeline, GST_STATE_PLAYING);
  g_task_return_boolean (task, TRUE);
}

static void emit_start_error (PeercamLocalMedia *self,
                              const char        *why);

static void
on_started (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  StartJob *job = g_task_get_task_data (G_TASK (result));
  PeercamLocalMedia *self = user_data;   /* gone, maybe, once abandoned */

  if (job->abandoned)
    {
      retire_pipeline (job->pipeline);
      return;
    }
  g_assert (self->start_job == job);
  self->start_job = NULL;
  g_clear_handle_id (&self->start_timeout, g_source_remove);
  if (job->result != GST_STATE_CHANGE_FAILURE)
    {
      gst_bin_recalculate_latency (GST_BIN (job->pipeline));
      return;
    }

  /* The element said why on the bus. */
  {
    g_autoptr(GstBus) bus = gst_pipeline_get_bus (GST_PIPELINE (job->pipeline));
    g_autoptr(GstMessage) message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    g_autoptr(GError) why = NULL;

    if (message != NULL)
      gst_message_parse_error (message, &why, NULL);
    emit_start_error (self, why ? why->message : NULL);
  }
}

static gboolean
on_start_timeout (gpointer user_data)
{
  PeercamLocalMedia *self = user_data;
  g_autofree char *why = NULL;

  self->start_timeout = 0;
  why = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "no answer within %u second",
                                      "no answer within %u seconds", START_TIMEOUT_MS / 1000),
                         START_TIMEOUT_MS / 1000);
  emit_start_error (self, why);
  return G_SOURCE_REMOVE;
}

static void
emit_start_error (PeercamLocalMedia *self,
                  const char        *why)
{
  g_autoptr(GError) error = NULL;

  if (why != NULL)
    error = g_error_new (PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                         _("The video source “%s” could not be started: %s"), self->source_label, why);
  else
    error = g_error_new (PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                         _("The video source “%s” could not be started"), self->source_label);
  g_signal_emit (self, signals[SIGNAL_BUS_ERROR], 0, GST_OBJECT (self->source_in_use), error);
}

/* Sets PLAYING on a worker; an answer that does not come within
 * START_TIMEOUT_MS is an error of the source (the owner stops us). */
static void
start_off_thread (PeercamLocalMedia *self)
{
  g_autoptr(GTask) task = NULL;
  GSource *timeout;

  self->start_job = g_new0 (StartJob, 1);
  self->start_job->pipeline = gst_object_ref (self->pipeline);
  task = g_task_new (NULL, NULL, on_started, self);
  g_task_set_task_data (task, self->start_job, (GDestroyNotify) start_job_free);
  g_task_run_in_thread (task, start_thread);

  timeout = g_timeout_source_new (START_TIMEOUT_MS);
  g_source_set_callback (timeout, on_start_timeout, self, NULL);
  self->start_timeout = g_source_attach (timeout, self->context);
  g_source_unref (timeout);
}

/* ---- start and stop ----------------------------------------------------- */

gboolean
peercam_local_media_start (PeercamLocalMedia  *self,
                           GError            **error)
{
  g_autoptr(GstElement) source = NULL;
  g_autoptr(GstCaps) caps = NULL;
  g_autoptr(GstCaps) i420_caps = NULL;
  g_autoptr(GstBus) bus = NULL;
  g_autofree char *label = NULL;
  GstElement *filter, *convert, *i420, *queue;

  g_return_val_if_fail (PEERCAM_IS_LOCAL_MEDIA (self), FALSE);

  if (self->pipeline)
    return TRUE;

  source = make_source (self, &caps, &label, error);
  if (source == NULL)
    {
      g_clear_object (&self->file_source);
      return FALSE;
    }
  /* Made floating, or owned already (a file's appsrc, a parsed bin). */
  if (g_object_is_floating (source))
    gst_object_ref_sink (source);
  self->source_in_use = gst_object_ref (source);
  g_free (self->source_label);
  self->source_label = g_strdup (label);

  filter = gst_element_factory_make ("capsfilter", NULL);
  g_object_set (filter, "caps", caps, NULL);
  convert = gst_element_factory_make ("videoconvert", NULL);
  i420 = gst_element_factory_make ("capsfilter", NULL);
  i420_caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420", NULL);
  g_object_set (i420, "caps", i420_caps, NULL);
  self->tee = gst_element_factory_make ("tee", "tee");
  /* Branches come and go; an unlinked moment must not stop the source. */
  g_object_set (self->tee, "allow-not-linked", TRUE, NULL);
  queue = gst_element_factory_make ("queue", NULL);
  g_object_set (queue, "leaky", 2, "max-size-buffers", 2, "max-size-bytes", 0,
                "max-size-time", (guint64) 0, NULL);
  self->sink_in_use = self->preview_sink ? g_object_ref (self->preview_sink)
                                         : gst_object_ref_sink (headless_sink ("local-sink"));

  self->pipeline = gst_object_ref_sink (gst_pipeline_new ("peercam-caller"));
  bus = gst_pipeline_get_bus (GST_PIPELINE (self->pipeline));
  self->bus_source = gst_bus_create_watch (bus);
  /* The source is destroyed in stop(), before the object goes away. */
  g_source_set_callback (self->bus_source, (GSourceFunc) (GCallback) on_bus_message, self, NULL);
  g_source_attach (self->bus_source, self->context);

  gst_bin_add_many (GST_BIN (self->pipeline), source, filter, convert, i420,
                    self->tee, queue, self->sink_in_use, NULL);
  if (!gst_element_link_many (source, filter, convert, i420, self->tee, queue,
                              self->sink_in_use, NULL))
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                           _("The video source cannot produce raw video"));
      goto fail;
    }

  self->count_pad = gst_element_get_static_pad (queue, "src");
  self->count_probe = gst_pad_add_probe (self->count_pad, GST_PAD_PROBE_TYPE_BUFFER,
                                         count_frames_probe, self, NULL);

  self->may_block = may_block (source);
  if (self->may_block)
    start_off_thread (self);
  else if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      /* The element said why on the bus; the watch has not seen it yet. */
      g_autoptr(GstMessage) message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
      g_autoptr(GError) why = NULL;

      if (message != NULL)
        gst_message_parse_error (message, &why, NULL);
      if (why != NULL)
        g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                     _("The video source “%s” could not be started: %s"), label, why->message);
      else
        g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                     _("The video source “%s” could not be started"), label);
      goto fail;
    }
  if (self->file_source != NULL && !peercam_file_source_start (self->file_source, error))
    goto fail;

  g_set_object (&self->device_in_use, self->source_device);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  return TRUE;

fail:
  peercam_local_media_stop (self);
  return FALSE;
}

void
peercam_local_media_stop (PeercamLocalMedia *self)
{
  gboolean was_running;

  g_return_if_fail (PEERCAM_IS_LOCAL_MEDIA (self));

  was_running = self->pipeline != NULL;
  if (self->file_source)
    {
      peercam_file_source_stop (self->file_source);
      g_signal_handlers_disconnect_by_data (self->file_source, self);
      g_clear_object (&self->file_source);
    }
  g_clear_object (&self->source_in_use);
  if (self->bus_source)
    {
      g_source_destroy (self->bus_source);
      g_clear_pointer (&self->bus_source, g_source_unref);
    }
  if (self->count_pad)
    {
      gst_pad_remove_probe (self->count_pad, self->count_probe);
      self->count_probe = 0;
      g_clear_object (&self->count_pad);
    }
  /* Branches still here go with the pipeline. */
  g_hash_table_remove_all (self->branches);
  g_clear_handle_id (&self->start_timeout, g_source_remove);
  if (self->pipeline && self->may_block)
    {
      /* The preview sink may serve the next pipeline: out of this one now
       * (a sink changes state before the source, so it is not the one a
       * hung source holds). */
      if (self->sink_in_use && GST_OBJECT_PARENT (self->sink_in_use) == GST_OBJECT (self->pipeline))
        {
          gst_element_set_locked_state (self->sink_in_use, TRUE);
          gst_bin_remove (GST_BIN (self->pipeline), self->sink_in_use);
          gst_element_set_state (self->sink_in_use, GST_STATE_NULL);
          gst_element_set_locked_state (self->sink_in_use, FALSE);
        }
      if (self->start_job != NULL)
        self->start_job->abandoned = TRUE;   /* on_started() retires it */
      else
        retire_pipeline (self->pipeline);
      self->start_job = NULL;
      g_clear_object (&self->pipeline);
    }
  else if (self->pipeline)
    {
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      g_clear_object (&self->pipeline);
    }
  self->may_block = FALSE;
  if (self->sink_in_use && GST_OBJECT_PARENT (self->sink_in_use) == NULL)
    gst_element_set_state (self->sink_in_use, GST_STATE_NULL);
  g_clear_object (&self->sink_in_use);
  self->tee = NULL;
  self->frames_done += g_atomic_pointer_get (&self->frames);
  g_atomic_pointer_set (&self->frames, 0);
  g_clear_object (&self->device_in_use);
  if (was_running)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

/* ---- GObject ------------------------------------------------------------ */

static void
peercam_local_media_dispose (GObject *object)
{
  PeercamLocalMedia *self = PEERCAM_LOCAL_MEDIA (object);

  peercam_local_media_stop (self);
  g_clear_object (&self->preview_sink);
  g_clear_object (&self->source_device);

  G_OBJECT_CLASS (peercam_local_media_parent_class)->dispose (object);
}

static void
peercam_local_media_finalize (GObject *object)
{
  PeercamLocalMedia *self = PEERCAM_LOCAL_MEDIA (object);

  g_free (self->source);
  g_free (self->source_label);
  g_hash_table_unref (self->branches);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (peercam_local_media_parent_class)->finalize (object);
}

static void
peercam_local_media_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  PeercamLocalMedia *self = PEERCAM_LOCAL_MEDIA (object);

  switch (prop_id)
    {
    case PROP_RUNNING: g_value_set_boolean (value, self->pipeline != NULL); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_local_media_class_init (PeercamLocalMediaClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = peercam_local_media_dispose;
  object_class->finalize = peercam_local_media_finalize;
  object_class->get_property = peercam_local_media_get_property;

  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_BUS_ERROR] =
    g_signal_new ("bus-error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, GST_TYPE_OBJECT, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
peercam_local_media_init (PeercamLocalMedia *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->source = g_strdup ("test");
  self->width = 1280;
  self->height = 720;
  self->framerate = 30;
  self->branches = g_hash_table_new_full (NULL, NULL, NULL, branch_free);
}

/* ---- public API --------------------------------------------------------- */

PeercamLocalMedia *
peercam_local_media_new (void)
{
  return g_object_new (PEERCAM_TYPE_LOCAL_MEDIA, NULL);
}

void
peercam_local_media_set_source (PeercamLocalMedia *self,
                                const char        *source)
{
  g_return_if_fail (PEERCAM_IS_LOCAL_MEDIA (self));
  g_free (self->source);
  self->source = g_strdup (source ? source : "test");
}

void
peercam_local_media_set_source_device (PeercamLocalMedia *self,
                                       GstDevice         *device)
{
  g_return_if_fail (PEERCAM_IS_LOCAL_MEDIA (self));
  g_return_if_fail (device == NULL || GST_IS_DEVICE (device));
  g_set_object (&self->source_device, device);
}

void
peercam_local_media_set_video_size (PeercamLocalMedia *self,
                                    int                width,
                                    int                height,
                                    int                framerate)
{
  g_return_if_fail (PEERCAM_IS_LOCAL_MEDIA (self));
  self->width = width;
  self->height = height;
  self->framerate = framerate;
}

void
peercam_local_media_set_preview_sink (PeercamLocalMedia *self,
                                      GstElement        *sink)
{
  g_return_if_fail (PEERCAM_IS_LOCAL_MEDIA (self));
  g_return_if_fail (sink == NULL || GST_IS_ELEMENT (sink));
  if (sink)
    gst_object_ref_sink (sink);
  g_clear_object (&self->preview_sink);
  self->preview_sink = sink;
}

gboolean
peercam_local_media_is_running (PeercamLocalMedia *self)
{
  g_return_val_if_fail (PEERCAM_IS_LOCAL_MEDIA (self), FALSE);
  return self->pipeline != NULL;
}

GstElement *
peercam_local_media_get_pipeline (PeercamLocalMedia *self)
{
  g_return_val_if_fail (PEERCAM_IS_LOCAL_MEDIA (self), NULL);
  return self->pipeline;
}

GstDevice *
peercam_local_media_get_device (PeercamLocalMedia *self)
{
  g_return_val_if_fail (PEERCAM_IS_LOCAL_MEDIA (self), NULL);
  return self->device_in_use;
}

void
peercam_local_media_get_frame_size (PeercamLocalMedia *self,
                                    int               *width,
                                    int               *height)
{
  g_autoptr(GstPad) pad = NULL;
  g_autoptr(GstCaps) caps = NULL;

  g_return_if_fail (PEERCAM_IS_LOCAL_MEDIA (self));

  *width = *height = 0;
  if (self->tee == NULL)
    return;
  pad = gst_element_get_static_pad (self->tee, "sink");
  caps = gst_pad_get_current_caps (pad);
  if (caps && gst_caps_get_size (caps) > 0)
    {
      GstStructure *s = gst_caps_get_structure (caps, 0);

      gst_structure_get_int (s, "width", width);
      gst_structure_get_int (s, "height", height);
    }
}

guint64
peercam_local_media_get_preview_frames (PeercamLocalMedia *self)
{
  g_return_val_if_fail (PEERCAM_IS_LOCAL_MEDIA (self), 0);
  return self->frames_done + g_atomic_pointer_get (&self->frames);
}
