/* peercam-call-engine.c — one WebRTC call over GStreamer's webrtcbin
 *
 * Threading: webrtcbin signals, promise replies, pad probes and decodebin
 * callbacks run on streaming threads. They never touch the engine: they only
 * hop to the engine's main context through a refcounted CallLink that holds a
 * weak reference to the engine and identifies the call (or preview) it
 * belongs to, so late callbacks from a torn-down call are dropped.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "peercam-call-engine"

#include "config.h"

#include "peercam-call-engine.h"
#include "peercam-sdp.h"
#include "peercam-congestion.h"  /* congestion control (issue 11) */

#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

#include <glib/gi18n.h>

#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#define GST_USE_UNSTABLE_API 1
#include <gst/webrtc/webrtc.h>
#include <agent.h>

#define STATS_INTERVAL_S 2
#define DISCONNECT_GRACE_S 4
/* A viewer whose video stops this many stats ticks (2 s each) in a row while
 * connected treats the caller as gone: libnice 0.1.21 has no consent
 * freshness, so ICE may never report a vanished peer. */
#define STALL_TICKS 3

G_DEFINE_QUARK (peercam-call-error-quark, peercam_call_error)

G_DEFINE_ENUM_TYPE (PeercamCallRole, peercam_call_role,
  G_DEFINE_ENUM_VALUE (PEERCAM_CALL_ROLE_CALLER, "caller"),
  G_DEFINE_ENUM_VALUE (PEERCAM_CALL_ROLE_VIEWER, "viewer"))

G_DEFINE_ENUM_TYPE (PeercamCallState, peercam_call_state,
  G_DEFINE_ENUM_VALUE (PEERCAM_CALL_STATE_IDLE, "idle"),
  G_DEFINE_ENUM_VALUE (PEERCAM_CALL_STATE_PREVIEW, "preview"),
  G_DEFINE_ENUM_VALUE (PEERCAM_CALL_STATE_CALLING, "calling"),
  G_DEFINE_ENUM_VALUE (PEERCAM_CALL_STATE_CONNECTING, "connecting"),
  G_DEFINE_ENUM_VALUE (PEERCAM_CALL_STATE_CONNECTED, "connected"),
  G_DEFINE_ENUM_VALUE (PEERCAM_CALL_STATE_ENDED, "ended"),
  G_DEFINE_ENUM_VALUE (PEERCAM_CALL_STATE_FAILED, "failed"))

/* Shared between the engine (main context) and streaming threads. */
typedef struct {
  gatomicrefcount  ref;
  GWeakRef         engine;
  GMainContext    *context;
  GstElement      *remote_sink;    /* viewer call: where decoded video goes */
  int              remote_linked;  /* atomic */
  int              first_frame;    /* atomic */
  gsize            frames;         /* atomic: frames at this link's sink/encoder */
  gboolean         play_audio;     /* viewer: play received audio (fixed per call) */
} CallLink;

typedef struct {
  guint  mline;
  char  *mid;
  char  *candidate;
} PendingCandidate;

struct _PeercamCallEngine
{
  GObject           parent_instance;

  GMainContext     *context;

  PeercamCallRole   role;
  PeercamCallState  state;
  char             *source;
  GstDevice        *source_device;  /* when set, used instead of "source" */
  char             *codec;
  char             *stun_server;
  char             *turn_server;
  GStrv             ice_addresses;
  guint             latency;
  guint             ice_timeout;
  int               width;
  int               height;
  int               framerate;
  gboolean          play_audio;     /* viewer: play received audio */
  gboolean          send_audio;     /* caller: send the microphone */

  GstElement       *local_sink;     /* as given by the app, or NULL */
  GstElement       *remote_sink;

  /* caller: lives as long as the preview; viewer: one per call */
  GstElement       *pipeline;
  GSource          *bus_source;

  /* preview (caller) */
  CallLink         *preview;
  GstElement       *tee;
  GstElement       *local_sink_in_use;
  GstDevice        *preview_device; /* the device the preview runs from */
  GstPad           *local_probe_pad;
  gulong            local_probe_id;
  guint64           local_frames_done;

  /* the call */
  CallLink         *call;
  GstElement       *webrtc;
  GPtrArray        *branch;          /* caller: queue ! convert ! encoder ! pay */
  GstElement       *encoder;
  GstPad           *tee_pad;
  GstElement       *remote_sink_in_use;
  GstPad           *remote_probe_pad;
  gulong            remote_probe_id;
  guint64           remote_frames_done;
  GPtrArray        *local_mids;
  GPtrArray        *local_ufrags;
  GPtrArray        *remote_mids;
  gboolean          remote_set;
  GQueue            pending;         /* PendingCandidate: before the remote description */
  guint             ice_timeout_id;
  guint             disconnect_id;
  guint             stats_id;
  guint64           last_bytes;
  gint64            last_stats_us;
  guint64           last_frames;
  guint             stalled_ticks;
  int               frame_width;
  int               frame_height;
  /* congestion control (issue 11): one per call; the sender's scaler filter */
  PeercamCongestion *congestion;
  GstElement       *send_filter;
};

G_DEFINE_FINAL_TYPE (PeercamCallEngine, peercam_call_engine, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ROLE,
  PROP_STATE,
  PROP_SOURCE,
  PROP_CODEC,
  PROP_LATENCY,
  PROP_STUN_SERVER,
  PROP_TURN_SERVER,
  PROP_ICE_ADDRESSES,
  PROP_ICE_TIMEOUT,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_FRAMERATE,
  PROP_PLAY_AUDIO,
  PROP_SEND_AUDIO,
  N_PROPS
};

enum {
  SIGNAL_SEND_SIGNAL,
  SIGNAL_SEND_ICE,
  SIGNAL_SEND_BYE,
  SIGNAL_FIRST_FRAME,
  SIGNAL_STATS,
  SIGNAL_ERROR,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void call_teardown (PeercamCallEngine *self);
static gboolean add_microphone (PeercamCallEngine *self, GError **error);

/* ---- CallLink and the hop to the main context ------------------------- */

static CallLink *
call_link_new (PeercamCallEngine *self)
{
  CallLink *link = g_new0 (CallLink, 1);

  g_atomic_ref_count_init (&link->ref);
  g_weak_ref_init (&link->engine, self);
  link->context = g_main_context_ref (self->context);
  link->play_audio = self->play_audio;
  return link;
}

static CallLink *
call_link_ref (CallLink *link)
{
  g_atomic_ref_count_inc (&link->ref);
  return link;
}

static void
call_link_unref (gpointer data)
{
  CallLink *link = data;

  if (!g_atomic_ref_count_dec (&link->ref))
    return;
  g_weak_ref_clear (&link->engine);
  g_main_context_unref (link->context);
  g_clear_object (&link->remote_sink);
  g_free (link);
}

static void
call_link_closure_unref (gpointer data, GClosure *closure)
{
  call_link_unref (data);
}

typedef void (*HopFunc) (PeercamCallEngine *self, gpointer data);

typedef struct {
  CallLink       *link;
  HopFunc         func;
  gpointer        data;
  GDestroyNotify  destroy;
} Hop;

static void
hop_free (gpointer data)
{
  Hop *hop = data;

  if (hop->destroy)
    hop->destroy (hop->data);
  call_link_unref (hop->link);
  g_free (hop);
}

static gboolean
hop_dispatch (gpointer data)
{
  Hop *hop = data;
  g_autoptr(PeercamCallEngine) self = g_weak_ref_get (&hop->link->engine);

  /* Drop news from a call or preview that has been replaced meanwhile. */
  if (self && (hop->link == self->call || hop->link == self->preview))
    hop->func (self, hop->data);
  return G_SOURCE_REMOVE;
}

/* Always through an idle source, never run in place: a promise may be
 * replied to on the main thread during a state change, and running the
 * callback there would re-enter the engine in the middle of a teardown. */
static void
hop (CallLink       *link,
     HopFunc         func,
     gpointer        data,
     GDestroyNotify  destroy)
{
  g_autoptr(GSource) source = g_idle_source_new ();
  Hop *h = g_new0 (Hop, 1);

  h->link = call_link_ref (link);
  h->func = func;
  h->data = data;
  h->destroy = destroy;
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, hop_dispatch, h, hop_free);
  g_source_set_static_name (source, "[peercam] call engine hop");
  g_source_attach (source, link->context);
}

/* ---- small helpers ------------------------------------------------------ */

static void
set_state (PeercamCallEngine *self,
           PeercamCallState   state)
{
  if (self->state == state)
    return;
  g_debug ("state %d -> %d", self->state, state);
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
emit_error (PeercamCallEngine *self,
            PeercamCallError   code,
            const char        *format,
            ...) G_GNUC_PRINTF (3, 4);

static void
emit_error (PeercamCallEngine *self,
            PeercamCallError   code,
            const char        *format,
            ...)
{
  g_autoptr(GError) error = NULL;
  va_list args;

  va_start (args, format);
  error = g_error_new_valist (PEERCAM_CALL_ERROR, code, format, args);
  va_end (args);
  g_debug ("error: %s", error->message);
  g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
}

/* The state a caller returns to when a call ends: its preview keeps running. */
static PeercamCallState
idle_state (PeercamCallEngine *self)
{
  if (self->role == PEERCAM_CALL_ROLE_CALLER && self->preview)
    return PEERCAM_CALL_STATE_PREVIEW;
  return self->role == PEERCAM_CALL_ROLE_CALLER ? PEERCAM_CALL_STATE_IDLE
                                                : PEERCAM_CALL_STATE_ENDED;
}

static void
end_call (PeercamCallEngine *self,
          PeercamCallState   state)
{
  call_teardown (self);
  set_state (self, state);
}

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

static gboolean
element_has_property (gpointer    object,
                      const char *name)
{
  return g_object_class_find_property (G_OBJECT_GET_CLASS (object), name) != NULL;
}

static gboolean
have_non_loopback_interface (void)
{
  struct ifaddrs *list = NULL;
  gboolean found = FALSE;

  if (getifaddrs (&list) != 0)
    return TRUE;  /* unknown: let libnice pick */
  for (struct ifaddrs *ifa = list; ifa && !found; ifa = ifa->ifa_next)
    {
      if (ifa->ifa_addr == NULL || !(ifa->ifa_flags & IFF_UP) || (ifa->ifa_flags & IFF_LOOPBACK))
        continue;
      if (ifa->ifa_addr->sa_family == AF_INET || ifa->ifa_addr->sa_family == AF_INET6)
        found = TRUE;
    }
  freeifaddrs (list);
  return found;
}

/* ---- the pipeline's bus ------------------------------------------------- */

static gboolean
on_bus_message (GstBus     *bus,
                GstMessage *message,
                gpointer    user_data)
{
  PeercamCallEngine *self = user_data;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_LATENCY:
      if (self->pipeline)
        gst_bin_recalculate_latency (GST_BIN (self->pipeline));
      break;

    case GST_MESSAGE_ERROR:
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *debug = NULL;
        gboolean from_source;

        /* A message posted by a branch torn down meanwhile is stale. */
        if (self->pipeline == NULL ||
            !gst_object_has_as_ancestor (GST_MESSAGE_SRC (message), GST_OBJECT (self->pipeline)))
          break;
        gst_message_parse_error (message, &error, &debug);
        g_debug ("bus error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (message),
                 error->message, debug ? debug : "");
        from_source = self->preview != NULL &&
                      (self->call == NULL || self->webrtc == NULL ||
                       !gst_object_has_as_ancestor (GST_MESSAGE_SRC (message),
                                                    GST_OBJECT (self->webrtc)));
        emit_error (self, PEERCAM_CALL_ERROR_PIPELINE, "%s", error->message);
        if (self->role == PEERCAM_CALL_ROLE_CALLER && from_source)
          peercam_call_engine_stop_local_video (self);
        else
          call_teardown (self);
        set_state (self, PEERCAM_CALL_STATE_FAILED);
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
pipeline_new (PeercamCallEngine *self,
              const char        *name)
{
  GstElement *pipeline = gst_pipeline_new (name);
  g_autoptr(GstBus) bus = gst_pipeline_get_bus (GST_PIPELINE (pipeline));

  g_assert (self->bus_source == NULL);
  self->bus_source = gst_bus_create_watch (bus);
  /* The source is destroyed before the engine goes away. */
  g_source_set_callback (self->bus_source, (GSourceFunc) (GCallback) on_bus_message, self, NULL);
  g_source_attach (self->bus_source, self->context);
  return pipeline;
}

static void
pipeline_destroy (PeercamCallEngine *self)
{
  if (self->bus_source)
    {
      g_source_destroy (self->bus_source);
      g_clear_pointer (&self->bus_source, g_source_unref);
    }
  if (self->pipeline)
    {
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      g_clear_object (&self->pipeline);
    }
}

/* ---- frame counting ----------------------------------------------------- */

typedef struct {
  int width;
  int height;
} FrameSize;

static void
first_frame_main (PeercamCallEngine *self,
                  gpointer           data)
{
  FrameSize *size = data;

  self->frame_width = size->width;
  self->frame_height = size->height;
  g_signal_emit (self, signals[SIGNAL_FIRST_FRAME], 0, size->width, size->height);
}

static GstPadProbeReturn
count_frames_probe (GstPad          *pad,
                    GstPadProbeInfo *info,
                    gpointer         user_data)
{
  CallLink *link = user_data;

  g_atomic_pointer_add (&link->frames, 1);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
remote_frames_probe (GstPad          *pad,
                     GstPadProbeInfo *info,
                     gpointer         user_data)
{
  CallLink *link = user_data;

  g_atomic_pointer_add (&link->frames, 1);
  if (g_atomic_int_compare_and_exchange (&link->first_frame, 0, 1))
    {
      g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
      FrameSize *size = g_new0 (FrameSize, 1);

      if (caps && gst_caps_get_size (caps) > 0)
        {
          GstStructure *s = gst_caps_get_structure (caps, 0);

          gst_structure_get_int (s, "width", &size->width);
          gst_structure_get_int (s, "height", &size->height);
        }
      hop (link, first_frame_main, size, g_free);
    }
  return GST_PAD_PROBE_OK;
}

static GstElement *
headless_sink (const char *name)
{
  GstElement *sink = gst_element_factory_make ("fakesink", name);

  /* Headless: no clock sync, so frames are counted as soon as they exist. */
  g_object_set (sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, NULL);
  return sink;
}

/* ---- local video (caller) ----------------------------------------------- */

static void
on_caller_element (GstBin     *bin,
                   GstBin     *sub_bin,
                   GstElement *element,
                   gpointer    user_data)
{
  GstElementFactory *factory = gst_element_get_factory (element);

  /* webrtcbin puts a clocksync behind each sink pad. It paces to the
   * pipeline clock plus the configured latency, which a live source already
   * did: behind videotestsrc (1 frame of latency) it held every encoded
   * frame until the next one was captured, ~33 ms glass-to-glass. */
  if (factory && g_str_equal (GST_OBJECT_NAME (factory), "clocksync") &&
      sub_bin && g_str_equal (G_OBJECT_TYPE_NAME (sub_bin), "GstWebRTCBin"))
    g_object_set (element, "sync", FALSE, NULL);
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

gboolean
peercam_call_engine_start_local_video (PeercamCallEngine  *self,
                                       GError            **error)
{
  g_autoptr(GstElement) source = NULL;
  g_autoptr(GstCaps) caps = NULL;
  GstElement *filter, *convert, *i420, *queue, *sink;
  const char *wanted = self->source ? self->source : "test";
  g_autofree char *device_name = self->source_device ? gst_device_get_display_name (self->source_device) : NULL;
  gboolean test = self->source_device == NULL &&
                  (g_str_equal (wanted, "test") || g_str_equal (wanted, "smpte") ||
                   g_str_equal (wanted, "ball") || g_str_equal (wanted, "pinwheel"));

  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), FALSE);

  if (self->role != PEERCAM_CALL_ROLE_CALLER)
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_WRONG_STATE,
                           _("Only a caller sends local video"));
      return FALSE;
    }
  if (self->preview)
    return TRUE;

  if (test)
    {
      source = gst_object_ref_sink (make_element ("videotestsrc", "source", error));
      if (source == NULL)
        return FALSE;
      g_object_set (source, "is-live", TRUE, NULL);
      /* Drawing costs a core at 720p30: "ball" ~20%, SMPTE ~10%, "pinwheel"
       * ~3%. Plain "test" is SMPTE: its moving noise shows a person that
       * the video is live, which a still pinwheel cannot. */
      gst_util_set_object_arg (G_OBJECT (source), "pattern",
                               g_str_equal (wanted, "ball") ? "ball" :
                               g_str_equal (wanted, "pinwheel") ? "pinwheel" : "smpte");
      /* The test source obeys the requested size exactly, and draws I420,
       * what the encoder takes, so nothing converts on the way there. */
      caps = gst_caps_new_simple ("video/x-raw",
                                  "format", G_TYPE_STRING, "I420",
                                  "width", G_TYPE_INT, self->width,
                                  "height", G_TYPE_INT, self->height,
                                  "framerate", GST_TYPE_FRACTION, self->framerate, 1,
                                  "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1,
                                  NULL);
    }
  else
    {
      GstElement *camera;

      if (self->source_device != NULL)
        {
          /* A listed device (e.g. a PipeWire node behind the camera portal)
           * knows how to make its own source, fd and all. */
          wanted = device_name;
          camera = gst_device_create_element (self->source_device, "source");
          if (camera == NULL)
            {
              g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                           _("The camera “%s” cannot make a video source"), device_name);
              return FALSE;
            }
        }
      else
        camera = find_camera (g_str_equal (wanted, "camera") ? NULL : wanted, error);

      if (camera == NULL)
        return FALSE;
      source = gst_object_ref_sink (camera);
      /* Cameras offer what they offer: prefer the requested size, take any. */
      caps = gst_caps_new_simple ("video/x-raw",
                                  "width", G_TYPE_INT, self->width,
                                  "height", G_TYPE_INT, self->height,
                                  NULL);
      gst_caps_append (caps, gst_caps_new_empty_simple ("video/x-raw"));
    }

  filter = gst_element_factory_make ("capsfilter", NULL);
  g_object_set (filter, "caps", caps, NULL);
  /* Convert once, to I420, ahead of the tee: the encoder branch then passes
   * through, and only a preview sink that wants RGBA converts (the app's
   * videoconvert ! appsink; a headless fakesink takes I420 as it is).
   * Without this, the source could negotiate whatever the preview prefers
   * and both branches would convert. */
  convert = gst_element_factory_make ("videoconvert", NULL);
  i420 = gst_element_factory_make ("capsfilter", NULL);
  {
    g_autoptr(GstCaps) i420_caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420", NULL);

    g_object_set (i420, "caps", i420_caps, NULL);
  }
  self->tee = gst_element_factory_make ("tee", "tee");
  /* Branches come and go with calls; an unlinked moment must not stop the source. */
  g_object_set (self->tee, "allow-not-linked", TRUE, NULL);
  queue = gst_element_factory_make ("queue", NULL);
  g_object_set (queue, "leaky", 2, "max-size-buffers", 2, "max-size-bytes", 0,
                "max-size-time", (guint64) 0, NULL);

  if (self->local_sink)
    sink = g_object_ref (self->local_sink);
  else
    sink = gst_object_ref_sink (headless_sink ("local-sink"));
  self->local_sink_in_use = sink;

  self->pipeline = gst_object_ref_sink (pipeline_new (self, "peercam-caller"));
  g_signal_connect (self->pipeline, "deep-element-added", G_CALLBACK (on_caller_element), NULL);
  gst_bin_add_many (GST_BIN (self->pipeline), source, filter, convert, i420,
                    self->tee, queue, sink, NULL);
  if (!gst_element_link_many (source, filter, convert, i420, self->tee, queue, sink, NULL))
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                           _("The video source cannot produce raw video"));
      goto fail;
    }
  /* The encoder's tee pad exists before any data flows and lives as long as
   * the preview; calls only link and unlink it. A pad requested from a
   * running tee can miss the first stream-start/caps/segment (the tee
   * forwards them only to pads it already has), and the next buffer then
   * hits "Got data flow before segment event". An unlinked pad still keeps
   * the sticky events, and linking it resends them before the next buffer. */
  self->tee_pad = gst_element_request_pad_simple (self->tee, "src_%u");

  self->preview = call_link_new (self);
  self->local_probe_pad = gst_element_get_static_pad (queue, "src");
  self->local_probe_id = gst_pad_add_probe (self->local_probe_pad, GST_PAD_PROBE_TYPE_BUFFER,
                                            count_frames_probe,
                                            call_link_ref (self->preview), call_link_unref);

  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE,
                   _("The video source “%s” could not be started"), wanted);
      goto fail;
    }

  g_set_object (&self->preview_device, self->source_device);
  set_state (self, PEERCAM_CALL_STATE_PREVIEW);
  return TRUE;

fail:
  peercam_call_engine_stop_local_video (self);
  return FALSE;
}

void
peercam_call_engine_stop_local_video (PeercamCallEngine *self)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));

  if (self->role != PEERCAM_CALL_ROLE_CALLER)
    return;

  call_teardown (self);
  if (self->tee_pad)
    {
      gst_element_release_request_pad (self->tee, self->tee_pad);
      g_clear_object (&self->tee_pad);
    }
  if (self->local_probe_pad)
    {
      gst_pad_remove_probe (self->local_probe_pad, self->local_probe_id);
      self->local_probe_id = 0;
      g_clear_object (&self->local_probe_pad);
    }
  if (self->preview)
    self->local_frames_done += g_atomic_pointer_get (&self->preview->frames);
  pipeline_destroy (self);
  if (self->local_sink_in_use && GST_OBJECT_PARENT (self->local_sink_in_use) == NULL)
    gst_element_set_state (self->local_sink_in_use, GST_STATE_NULL);
  g_clear_object (&self->local_sink_in_use);
  self->tee = NULL;
  g_clear_pointer (&self->preview, call_link_unref);
  g_clear_object (&self->preview_device);
  set_state (self, PEERCAM_CALL_STATE_IDLE);
}

/* ---- webrtcbin ---------------------------------------------------------- */

static void
configure_ice (PeercamCallEngine *self,
               GstElement        *webrtc)
{
  g_autoptr(GObject) ice = NULL;
  g_autoptr(GObject) agent = NULL;  /* NiceAgent has no autoptr in 0.1.21 */
  g_autoptr(GPtrArray) addresses = g_ptr_array_new ();

  g_object_get (webrtc, "ice-agent", &ice, NULL);
  if (ice == NULL || !element_has_property (ice, "agent"))
    return;
  g_object_get (ice, "agent", &agent, NULL);
  if (agent == NULL)
    return;

  /* SSDP multicast for UPnP is no use on a LAN and slows gathering; the
   * default 20 ms pacing dominates ICE time on a LAN. */
  g_object_set (agent, "upnp", FALSE, "stun-pacing-timer", 5, NULL);
  if (element_has_property (ice, "ice-tcp"))
    g_object_set (ice, "ice-tcp", FALSE, NULL);

  for (guint i = 0; self->ice_addresses && self->ice_addresses[i]; i++)
    if (*self->ice_addresses[i])
      g_ptr_array_add (addresses, self->ice_addresses[i]);
  /* libnice skips loopback interfaces: with nothing else up it would gather
   * no candidate at all and ICE would wait forever. */
  if (addresses->len == 0 && !have_non_loopback_interface ())
    g_ptr_array_add (addresses, (gpointer) "127.0.0.1");

  for (guint i = 0; i < addresses->len; i++)
    {
      NiceAddress address;

      nice_address_init (&address);
      if (!nice_address_set_from_string (&address, addresses->pdata[i]))
        {
          g_warning ("Ignoring invalid ICE address “%s”", (char *) addresses->pdata[i]);
          continue;
        }
      /* Adding any address turns automatic gathering off. */
      nice_agent_add_local_address (NICE_AGENT (agent), &address);
    }
}

static void
store_mids (const GstSDPMessage  *sdp,
            GPtrArray           **mids,
            GPtrArray           **ufrags)
{
  const char *session_ufrag = gst_sdp_message_get_attribute_val (sdp, "ice-ufrag");

  g_clear_pointer (mids, g_ptr_array_unref);
  *mids = g_ptr_array_new_with_free_func (g_free);
  if (ufrags)
    {
      g_clear_pointer (ufrags, g_ptr_array_unref);
      *ufrags = g_ptr_array_new_with_free_func (g_free);
    }
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++)
    {
      const GstSDPMedia *media = gst_sdp_message_get_media (sdp, i);
      const char *mid = gst_sdp_media_get_attribute_val (media, "mid");
      const char *ufrag = gst_sdp_media_get_attribute_val (media, "ice-ufrag");

      g_ptr_array_add (*mids, mid ? g_strdup (mid) : g_strdup_printf ("%u", i));
      if (ufrags)
        g_ptr_array_add (*ufrags, g_strdup (ufrag ? ufrag : session_ufrag));
    }
}

typedef struct {
  guint  mline;
  char  *candidate;
} LocalCandidate;

static void
local_candidate_free (gpointer data)
{
  LocalCandidate *c = data;

  g_free (c->candidate);
  g_free (c);
}

static void
local_candidate_main (PeercamCallEngine *self,
                      gpointer           data)
{
  LocalCandidate *c = data;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  const char *mid = NULL, *ufrag = NULL;

  if (self->local_mids && c->mline < self->local_mids->len)
    mid = self->local_mids->pdata[c->mline];
  if (self->local_ufrags && c->mline < self->local_ufrags->len)
    ufrag = self->local_ufrags->pdata[c->mline];

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "candidate");
  json_builder_add_string_value (builder, c->candidate);
  json_builder_set_member_name (builder, "sdpMid");
  if (mid)
    json_builder_add_string_value (builder, mid);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "sdpMLineIndex");
  json_builder_add_int_value (builder, c->mline);
  if (ufrag)
    {
      json_builder_set_member_name (builder, "usernameFragment");
      json_builder_add_string_value (builder, ufrag);
    }
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  g_signal_emit (self, signals[SIGNAL_SEND_ICE], 0, node);
}

static void
on_ice_candidate (GstElement *webrtc,
                  guint       mline,
                  const char *candidate,
                  gpointer    user_data)
{
  LocalCandidate *c;

  if (candidate == NULL || *candidate == '\0')
    return;
  c = g_new0 (LocalCandidate, 1);
  c->mline = mline;
  /* Browsers expect "candidate:…" without the SDP "a=" prefix. */
  c->candidate = g_strdup (g_str_has_prefix (candidate, "a=") ? candidate + 2 : candidate);
  hop (user_data, local_candidate_main, c, local_candidate_free);
}

static gboolean
ice_timeout_cb (gpointer user_data)
{
  PeercamCallEngine *self = user_data;

  self->ice_timeout_id = 0;
  emit_error (self, PEERCAM_CALL_ERROR_ICE_TIMEOUT,
              _("No connection to the peer within %u s"), self->ice_timeout);
  end_call (self, PEERCAM_CALL_STATE_FAILED);
  return G_SOURCE_REMOVE;
}

static gboolean
disconnect_grace_cb (gpointer user_data)
{
  PeercamCallEngine *self = user_data;

  self->disconnect_id = 0;
  emit_error (self, PEERCAM_CALL_ERROR_ICE_FAILED, _("The connection to the peer was lost"));
  end_call (self, idle_state (self));
  return G_SOURCE_REMOVE;
}

static void
start_ice_timer (PeercamCallEngine *self)
{
  GSource *source;

  g_clear_handle_id (&self->ice_timeout_id, g_source_remove);
  if (self->ice_timeout == 0)
    return;
  source = g_timeout_source_new_seconds (self->ice_timeout);
  g_source_set_callback (source, ice_timeout_cb, self, NULL);
  self->ice_timeout_id = g_source_attach (source, self->context);
  g_source_unref (source);
}

static guint
attach_timeout (PeercamCallEngine *self,
                guint              ms,
                GSourceFunc        func)
{
  GSource *source = g_timeout_source_new (ms);
  guint id;

  g_source_set_callback (source, func, self, NULL);
  id = g_source_attach (source, self->context);
  g_source_unref (source);
  return id;
}

/* ---- stats -------------------------------------------------------------- */

typedef struct {
  guint64 bytes;
  double  rtt_ms;
} StatsSample;

static gboolean
collect_stat (GQuark        field,
              const GValue *value,
              gpointer      user_data)
{
  StatsSample *sample = user_data;
  const GstStructure *s;
  GstWebRTCStatsType type;
  guint64 bytes = 0;
  double rtt;

  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  s = gst_value_get_structure (value);
  if (!gst_structure_get (s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL))
    return TRUE;

  if (type == GST_WEBRTC_STATS_OUTBOUND_RTP && gst_structure_get_uint64 (s, "bytes-sent", &bytes))
    sample->bytes += bytes;
  else if (type == GST_WEBRTC_STATS_INBOUND_RTP && gst_structure_get_uint64 (s, "bytes-received", &bytes))
    sample->bytes += bytes;
  else if (type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP && gst_structure_get_double (s, "round-trip-time", &rtt))
    sample->rtt_ms = rtt * 1000.0;
  return TRUE;
}

static void
stats_main (PeercamCallEngine *self,
            gpointer           data)
{
  StatsSample *sample = data;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  gint64 now = g_get_monotonic_time ();
  double seconds = self->last_stats_us ? (now - self->last_stats_us) / 1e6 : STATS_INTERVAL_S;
  guint64 frames = g_atomic_pointer_get (&self->call->frames);
  double fps = seconds > 0 ? (frames - self->last_frames) / seconds : 0;
  double kbps = seconds > 0 && sample->bytes >= self->last_bytes
                ? (sample->bytes - self->last_bytes) * 8.0 / 1000.0 / seconds : 0;

  self->last_stats_us = now;
  self->last_frames = frames;
  self->last_bytes = sample->bytes;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "fps");
  json_builder_add_double_value (builder, fps);
  json_builder_set_member_name (builder, "kbps");
  json_builder_add_double_value (builder, kbps);
  json_builder_set_member_name (builder, "width");
  json_builder_add_int_value (builder, self->frame_width);
  json_builder_set_member_name (builder, "height");
  json_builder_add_int_value (builder, self->frame_height);
  json_builder_set_member_name (builder, "rtt_ms");
  json_builder_add_double_value (builder, sample->rtt_ms);
  if (self->congestion)  /* congestion control (issue 11): added fields */
    peercam_congestion_add_stats (self->congestion, builder);
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  g_signal_emit (self, signals[SIGNAL_STATS], 0, node);

  if (self->role == PEERCAM_CALL_ROLE_VIEWER && self->state == PEERCAM_CALL_STATE_CONNECTED)
    {
      self->stalled_ticks = fps > 0 ? 0 : self->stalled_ticks + 1;
      if (self->stalled_ticks >= STALL_TICKS)
        {
          emit_error (self, PEERCAM_CALL_ERROR_ICE_FAILED, _("The caller stopped sending video"));
          end_call (self, PEERCAM_CALL_STATE_ENDED);
        }
    }
}

static void
on_stats_reply (GstPromise *promise,
                gpointer    user_data)
{
  const GstStructure *reply;
  StatsSample *sample;

  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED)
    return;
  reply = gst_promise_get_reply (promise);
  if (reply == NULL)
    return;
  sample = g_new0 (StatsSample, 1);
  sample->rtt_ms = -1;
  gst_structure_foreach (reply, collect_stat, sample);
  hop (user_data, stats_main, sample, g_free);
}

static gboolean
stats_tick (gpointer user_data)
{
  PeercamCallEngine *self = user_data;
  GstPromise *promise;

  if (self->webrtc == NULL || self->call == NULL)
    {
      self->stats_id = 0;
      return G_SOURCE_REMOVE;
    }
  if (self->frame_width == 0 && self->role == PEERCAM_CALL_ROLE_CALLER && self->tee)
    {
      g_autoptr(GstPad) pad = gst_element_get_static_pad (self->tee, "sink");
      g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);

      if (caps)
        {
          GstStructure *s = gst_caps_get_structure (caps, 0);

          gst_structure_get_int (s, "width", &self->frame_width);
          gst_structure_get_int (s, "height", &self->frame_height);
        }
    }
  promise = gst_promise_new_with_change_func (on_stats_reply, call_link_ref (self->call),
                                              call_link_unref);
  g_signal_emit_by_name (self->webrtc, "get-stats", NULL, promise);
  gst_promise_unref (promise);
  return G_SOURCE_CONTINUE;
}

/* ---- connection state --------------------------------------------------- */

static void
force_key_unit (PeercamCallEngine *self)
{
  g_autoptr(GstPad) pad = NULL;

  if (self->encoder == NULL)
    return;
  pad = gst_element_get_static_pad (self->encoder, "src");
  gst_pad_send_event (pad, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
                                                                       TRUE, 0));
}

static void
ice_state_main (PeercamCallEngine *self,
                gpointer           data)
{
  GstWebRTCICEConnectionState ice_state = GPOINTER_TO_INT (data);

  g_debug ("ICE connection state %d", ice_state);
  switch (ice_state)
    {
    case GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED:
    case GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED:
      g_clear_handle_id (&self->ice_timeout_id, g_source_remove);
      g_clear_handle_id (&self->disconnect_id, g_source_remove);
      if (self->state == PEERCAM_CALL_STATE_CONNECTED)
        break;
      set_state (self, PEERCAM_CALL_STATE_CONNECTED);
      if (self->pipeline)
        gst_bin_recalculate_latency (GST_BIN (self->pipeline));
      /* The first keyframe was encoded before DTLS was up and is lost. */
      force_key_unit (self);
      if (self->stats_id == 0)
        {
          GSource *source = g_timeout_source_new_seconds (STATS_INTERVAL_S);

          g_source_set_callback (source, stats_tick, self, NULL);
          self->stats_id = g_source_attach (source, self->context);
          g_source_unref (source);
        }
      break;

    case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED:
      emit_error (self, PEERCAM_CALL_ERROR_ICE_FAILED, _("The connection to the peer failed"));
      end_call (self, self->state == PEERCAM_CALL_STATE_CONNECTED ? idle_state (self)
                                                                  : PEERCAM_CALL_STATE_FAILED);
      break;

    case GST_WEBRTC_ICE_CONNECTION_STATE_DISCONNECTED:
      /* Often transient: give it a moment to come back. */
      if (self->disconnect_id == 0)
        self->disconnect_id = attach_timeout (self, DISCONNECT_GRACE_S * 1000, disconnect_grace_cb);
      break;

    case GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED:
      end_call (self, idle_state (self));
      break;

    default:
      break;
    }
}

/* DTLS is up (the peer connection is "connected"): only now does SRTP carry
 * media, and the keyframe forced when ICE connected may have been encoded
 * before this and lost. Another one now makes the first picture come at the
 * next frame instead of at a PLI round trip or the next natural keyframe. */
static void
pc_state_main (PeercamCallEngine *self,
               gpointer           data)
{
  GstWebRTCPeerConnectionState pc_state = GPOINTER_TO_INT (data);

  g_debug ("peer connection state %d", pc_state);
  if (pc_state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
    force_key_unit (self);
}

static void
on_pc_state (GstElement *webrtc,
             GParamSpec *pspec,
             gpointer    user_data)
{
  GstWebRTCPeerConnectionState pc_state;

  g_object_get (webrtc, "connection-state", &pc_state, NULL);
  hop (user_data, pc_state_main, GINT_TO_POINTER (pc_state), NULL);
}

static void
on_ice_connection_state (GstElement *webrtc,
                         GParamSpec *pspec,
                         gpointer    user_data)
{
  GstWebRTCICEConnectionState ice_state;

  g_object_get (webrtc, "ice-connection-state", &ice_state, NULL);
  hop (user_data, ice_state_main, GINT_TO_POINTER (ice_state), NULL);
}

/* ---- remote candidates -------------------------------------------------- */

/* webrtcbin 1.22 drops a malformed candidate with only a log line, so check
 * the grammar here (RFC 8839 §5.1) and tell the app. */
static gboolean
candidate_is_valid (const char *candidate)
{
  g_auto(GStrv) tokens = NULL;
  guint64 value;

  if (g_str_has_prefix (candidate, "a="))
    candidate += 2;
  if (!g_str_has_prefix (candidate, "candidate:"))
    return FALSE;
  tokens = g_strsplit (candidate + strlen ("candidate:"), " ", -1);
  if (g_strv_length (tokens) < 8)
    return FALSE;
  if (*tokens[0] == '\0' || strlen (tokens[0]) > 32)
    return FALSE;
  if (!g_ascii_string_to_unsigned (tokens[1], 10, 1, 256, &value, NULL))
    return FALSE;
  if (g_ascii_strcasecmp (tokens[2], "udp") != 0 && g_ascii_strcasecmp (tokens[2], "tcp") != 0)
    return FALSE;
  if (!g_ascii_string_to_unsigned (tokens[3], 10, 0, G_MAXUINT32, &value, NULL))
    return FALSE;
  if (*tokens[4] == '\0' ||
      !(g_hostname_is_ip_address (tokens[4]) || g_str_has_suffix (tokens[4], ".local")))
    return FALSE;
  if (!g_ascii_string_to_unsigned (tokens[5], 10, 0, 65535, &value, NULL))
    return FALSE;
  if (!g_str_equal (tokens[6], "typ"))
    return FALSE;
  return g_str_equal (tokens[7], "host") || g_str_equal (tokens[7], "srflx") ||
         g_str_equal (tokens[7], "prflx") || g_str_equal (tokens[7], "relay");
}

static void
pending_candidate_free (gpointer data)
{
  PendingCandidate *c = data;

  g_free (c->mid);
  g_free (c->candidate);
  g_free (c);
}

static void
add_remote_candidate (PeercamCallEngine *self,
                      PendingCandidate  *c)
{
  guint mline = c->mline;

  if (c->mid && self->remote_mids)
    for (guint i = 0; i < self->remote_mids->len; i++)
      if (g_str_equal (c->mid, self->remote_mids->pdata[i]))
        mline = i;

  if (self->remote_mids && mline >= self->remote_mids->len)
    {
      emit_error (self, PEERCAM_CALL_ERROR_INVALID_CANDIDATE,
                  _("The peer sent a candidate for media line %u, which does not exist"), mline);
      return;
    }
  g_signal_emit_by_name (self->webrtc, "add-ice-candidate", mline, c->candidate);
}

static void
flush_pending_candidates (PeercamCallEngine *self)
{
  PendingCandidate *c;

  while ((c = g_queue_pop_head (&self->pending)))
    {
      add_remote_candidate (self, c);
      pending_candidate_free (c);
    }
}

void
peercam_call_engine_handle_ice (PeercamCallEngine *self,
                                JsonNode          *node)
{
  JsonObject *object;
  const char *candidate;
  const char *mid = NULL;
  gint64 mline = -1;
  PendingCandidate *c;

  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      emit_error (self, PEERCAM_CALL_ERROR_INVALID_CANDIDATE, _("The peer sent an ICE message that is not an object"));
      return;
    }
  object = json_node_get_object (node);
  candidate = json_object_get_string_member_with_default (object, "candidate", NULL);
  if (json_object_has_member (object, "sdpMid") &&
      JSON_NODE_HOLDS_VALUE (json_object_get_member (object, "sdpMid")))
    mid = json_object_get_string_member_with_default (object, "sdpMid", NULL);
  if (json_object_has_member (object, "sdpMLineIndex") &&
      JSON_NODE_HOLDS_VALUE (json_object_get_member (object, "sdpMLineIndex")))
    mline = json_object_get_int_member_with_default (object, "sdpMLineIndex", -1);

  /* An empty candidate is a browser's end-of-candidates marker. */
  if (candidate && *candidate == '\0')
    return;
  if (candidate == NULL || !candidate_is_valid (candidate))
    {
      emit_error (self, PEERCAM_CALL_ERROR_INVALID_CANDIDATE,
                  _("The peer sent an invalid ICE candidate “%.80s”"), candidate ? candidate : "(none)");
      return;
    }
  if ((mline < 0 || mline > 255) && mid == NULL)
    {
      emit_error (self, PEERCAM_CALL_ERROR_INVALID_CANDIDATE,
                  _("The peer sent an ICE candidate without a media line"));
      return;
    }

  c = g_new0 (PendingCandidate, 1);
  c->mline = mline < 0 ? 0 : (guint) mline;
  c->mid = g_strdup (mid);
  c->candidate = g_strdup (candidate);
  if (self->webrtc && self->remote_set)
    {
      add_remote_candidate (self, c);
      pending_candidate_free (c);
    }
  else
    g_queue_push_tail (&self->pending, c);
}

/* ---- descriptions ------------------------------------------------------- */

static GstSDPMessage *
parse_sdp (PeercamCallEngine  *self,
           const char         *text,
           GError            **error)
{
  g_autoptr(GstSDPMessage) sdp = NULL;

  if (text == NULL || !g_str_has_prefix (text, "v=0"))
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_INVALID_SIGNAL,
                           _("The peer sent a session description that is not SDP"));
      return NULL;
    }
  if (gst_sdp_message_new_from_text (text, &sdp) != GST_SDP_OK ||
      gst_sdp_message_medias_len (sdp) == 0)
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_INVALID_SIGNAL,
                           _("The peer sent a session description without media"));
      return NULL;
    }
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++)
    {
      const GstSDPMedia *media = gst_sdp_message_get_media (sdp, i);

      if (gst_sdp_media_get_media (media) == NULL || gst_sdp_media_get_proto (media) == NULL ||
          gst_sdp_media_formats_len (media) == 0)
        {
          g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_INVALID_SIGNAL,
                       _("The peer’s session description has a broken media line %u"), i);
          return NULL;
        }
    }
  return g_steal_pointer (&sdp);
}

typedef struct {
  GstWebRTCSessionDescription *desc;
  char                        *error;
} DescReply;

static void
desc_reply_free (gpointer data)
{
  DescReply *reply = data;

  g_clear_pointer (&reply->desc, gst_webrtc_session_description_free);
  g_free (reply->error);
  g_free (reply);
}

/* Reads a promise reply on webrtcbin's thread: the description asked for
 * (field), or the error webrtcbin put there. */
static DescReply *
desc_reply_from_promise (GstPromise *promise,
                         const char *field)
{
  DescReply *reply = g_new0 (DescReply, 1);
  const GstStructure *s;

  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED)
    {
      reply->error = g_strdup ("webrtcbin gave no reply");
      return reply;
    }
  /* Setting a description replies with no structure on success. */
  s = gst_promise_get_reply (promise);
  if (s == NULL)
    {
      if (field)
        reply->error = g_strdup_printf ("webrtcbin created no %s", field);
    }
  else if (gst_structure_has_field (s, "error"))
    {
      g_autoptr(GError) error = NULL;

      gst_structure_get (s, "error", G_TYPE_ERROR, &error, NULL);
      reply->error = g_strdup (error ? error->message : "unknown error");
    }
  else if (field)
    {
      gst_structure_get (s, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &reply->desc, NULL);
      if (reply->desc == NULL)
        reply->error = g_strdup_printf ("webrtcbin created no %s", field);
    }
  return reply;
}

static void
send_description (PeercamCallEngine           *self,
                  GstWebRTCSessionDescription *desc)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *text = gst_sdp_message_as_text (desc->sdp);

  store_mids (desc->sdp, &self->local_mids, &self->local_ufrags);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, gst_webrtc_sdp_type_to_string (desc->type));
  json_builder_set_member_name (builder, "sdp");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  g_signal_emit (self, signals[SIGNAL_SEND_SIGNAL], 0, node);
}

static void
offer_created_main (PeercamCallEngine *self,
                    gpointer           data)
{
  DescReply *reply = data;

  if (reply->error)
    {
      emit_error (self, PEERCAM_CALL_ERROR_NEGOTIATION, _("Could not create an offer: %s"), reply->error);
      end_call (self, PEERCAM_CALL_STATE_FAILED);
      return;
    }
  g_signal_emit_by_name (self->webrtc, "set-local-description", reply->desc, NULL);
  set_state (self, PEERCAM_CALL_STATE_CALLING);
  send_description (self, reply->desc);
}

static void
on_offer_created (GstPromise *promise,
                  gpointer    user_data)
{
  hop (user_data, offer_created_main, desc_reply_from_promise (promise, "offer"), desc_reply_free);
}

static void
answer_created_main (PeercamCallEngine *self,
                     gpointer           data)
{
  DescReply *reply = data;

  if (reply->error)
    {
      emit_error (self, PEERCAM_CALL_ERROR_NEGOTIATION, _("Could not answer the offer: %s"), reply->error);
      end_call (self, PEERCAM_CALL_STATE_FAILED);
      return;
    }
  g_signal_emit_by_name (self->webrtc, "set-local-description", reply->desc, NULL);
  send_description (self, reply->desc);
  set_state (self, PEERCAM_CALL_STATE_CONNECTING);
  start_ice_timer (self);
}

static void
on_answer_created (GstPromise *promise,
                   gpointer    user_data)
{
  hop (user_data, answer_created_main, desc_reply_from_promise (promise, "answer"), desc_reply_free);
}

static void
remote_set_main (PeercamCallEngine *self,
                 gpointer           data)
{
  DescReply *reply = data;

  if (reply->error)
    {
      emit_error (self, PEERCAM_CALL_ERROR_NEGOTIATION,
                  _("The peer’s session description was refused: %s"), reply->error);
      end_call (self, self->role == PEERCAM_CALL_ROLE_CALLER ? PEERCAM_CALL_STATE_FAILED
                                                             : PEERCAM_CALL_STATE_ENDED);
      return;
    }
  self->remote_set = TRUE;
  flush_pending_candidates (self);

  if (self->role == PEERCAM_CALL_ROLE_VIEWER)
    {
      GstPromise *promise = gst_promise_new_with_change_func (on_answer_created,
                                                              call_link_ref (self->call),
                                                              call_link_unref);

      g_signal_emit_by_name (self->webrtc, "create-answer", NULL, promise);
      gst_promise_unref (promise);
    }
  else
    {
      set_state (self, PEERCAM_CALL_STATE_CONNECTING);
      start_ice_timer (self);
    }
}

static void
on_remote_set (GstPromise *promise,
               gpointer    user_data)
{
  hop (user_data, remote_set_main, desc_reply_from_promise (promise, NULL), desc_reply_free);
}

static void
set_remote_description (PeercamCallEngine *self,
                        GstWebRTCSDPType   type,
                        GstSDPMessage     *sdp)
{
  GstWebRTCSessionDescription *desc;
  GstPromise *promise;

  GstSDPMessage *copy = NULL;

  store_mids (sdp, &self->remote_mids, NULL);
  gst_sdp_message_copy (sdp, &copy);
  desc = gst_webrtc_session_description_new (type, copy);  /* takes the copy */
  promise = gst_promise_new_with_change_func (on_remote_set, call_link_ref (self->call),
                                              call_link_unref);
  g_signal_emit_by_name (self->webrtc, "set-remote-description", desc, promise);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (desc);
}

static GstElement *
webrtc_new (PeercamCallEngine  *self,
            GError            **error)
{
  GstElement *webrtc = make_element ("webrtcbin", "webrtc", error);

  if (webrtc == NULL)
    return NULL;
  gst_util_set_object_arg (G_OBJECT (webrtc), "bundle-policy", "max-bundle");
  g_object_set (webrtc, "latency", self->latency, NULL);
  if (self->stun_server && *self->stun_server)
    g_object_set (webrtc, "stun-server", self->stun_server, NULL);
  if (self->turn_server && *self->turn_server)
    g_object_set (webrtc, "turn-server", self->turn_server, NULL);
  configure_ice (self, webrtc);

  g_signal_connect_data (webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate),
                         call_link_ref (self->call), call_link_closure_unref, 0);
  g_signal_connect_data (webrtc, "notify::ice-connection-state",
                         G_CALLBACK (on_ice_connection_state),
                         call_link_ref (self->call), call_link_closure_unref, 0);
  if (self->role == PEERCAM_CALL_ROLE_CALLER)
    g_signal_connect_data (webrtc, "notify::connection-state", G_CALLBACK (on_pc_state),
                           call_link_ref (self->call), call_link_closure_unref, 0);
  return webrtc;
}

static void
call_teardown (PeercamCallEngine *self)
{
  g_clear_handle_id (&self->ice_timeout_id, g_source_remove);
  g_clear_handle_id (&self->disconnect_id, g_source_remove);
  g_clear_handle_id (&self->stats_id, g_source_remove);
  g_queue_clear_full (&self->pending, pending_candidate_free);
  g_clear_pointer (&self->local_mids, g_ptr_array_unref);
  g_clear_pointer (&self->local_ufrags, g_ptr_array_unref);
  g_clear_pointer (&self->remote_mids, g_ptr_array_unref);
  self->remote_set = FALSE;
  self->last_bytes = 0;
  self->last_frames = 0;
  self->last_stats_us = 0;
  self->stalled_ticks = 0;
  self->frame_width = self->frame_height = 0;
  g_clear_object (&self->congestion);  /* congestion control (issue 11) */
  self->send_filter = NULL;

  if (self->call == NULL)
    return;

  if (self->role == PEERCAM_CALL_ROLE_CALLER)
    {
      if (self->tee_pad)
        {
          g_autoptr(GstPad) peer = gst_pad_get_peer (self->tee_pad);

          /* The branch queue is leaky, so the tee never blocks on it and the
           * unlink and release happen promptly while the source streams on. */
          if (peer)
            gst_pad_unlink (self->tee_pad, peer);
        }
      /* Downstream first, like a bin does: until DTLS is up webrtcbin holds
       * the encoder's thread in a blocking probe, and only its own shutdown
       * releases it; stopping the queue first would wait for that thread. */
      if (self->webrtc)
        {
          gst_element_set_locked_state (self->webrtc, TRUE);
          gst_element_set_state (self->webrtc, GST_STATE_NULL);
          gst_bin_remove (GST_BIN (self->pipeline), self->webrtc);
          g_clear_object (&self->webrtc);
        }
      for (guint i = self->branch ? self->branch->len : 0; i > 0; i--)
        {
          GstElement *element = self->branch->pdata[i - 1];

          gst_element_set_locked_state (element, TRUE);
          gst_element_set_state (element, GST_STATE_NULL);
          gst_bin_remove (GST_BIN (self->pipeline), element);
        }
      g_clear_pointer (&self->branch, g_ptr_array_unref);
      self->encoder = NULL;
    }
  else
    {
      if (self->remote_probe_pad)
        {
          gst_pad_remove_probe (self->remote_probe_pad, self->remote_probe_id);
          self->remote_probe_id = 0;
          g_clear_object (&self->remote_probe_pad);
        }
      g_clear_object (&self->webrtc);
      pipeline_destroy (self);
      g_clear_object (&self->remote_sink_in_use);
    }

  if (self->role == PEERCAM_CALL_ROLE_VIEWER)
    self->remote_frames_done += g_atomic_pointer_get (&self->call->frames);
  g_clear_pointer (&self->call, call_link_unref);
}

/* ---- caller ------------------------------------------------------------- */

static GstCaps *
rtp_caps_for_codec (const char *codec)
{
  /* rtcp-fb makes browsers send PLI/FIR and NACK; webrtcbin turns those into
   * force-key-unit events for the encoder and retransmissions. */
  if (g_strcmp0 (codec, "h264") == 0)
    return gst_caps_from_string ("application/x-rtp,media=video,encoding-name=H264,"
                                 "payload=96,clock-rate=90000,packetization-mode=(string)1,"
                                 "rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true,"
                                 "rtcp-fb-nack=(boolean)true");
  return gst_caps_from_string ("application/x-rtp,media=video,encoding-name=VP8,"
                               "payload=96,clock-rate=90000,"
                               "rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true,"
                               "rtcp-fb-nack=(boolean)true");
}

static guint
target_bitrate_kbps (PeercamCallEngine *self)
{
  /* ~1.8 Mbit/s at 720p30, scaled by pixels, within 300 kbit/s … 4 Mbit/s. */
  double pixels = (double) self->width * self->height * MAX (self->framerate, 1);

  return (guint) CLAMP (pixels / (1280.0 * 720 * 30) * 1800, 300, 4000);
}

static gboolean
build_encoder_branch (PeercamCallEngine  *self,
                      GError            **error)
{
  GstElement *queue, *convert, *encoder, *parse = NULL, *filter = NULL, *pay;
  guint kbps = target_bitrate_kbps (self);
  gboolean h264 = g_strcmp0 (self->codec, "h264") == 0;

  queue = gst_element_factory_make ("queue", NULL);
  /* Leaky so a stalled network never backs up into the preview. */
  g_object_set (queue, "leaky", 2, "max-size-buffers", 2, "max-size-bytes", 0,
                "max-size-time", (guint64) 0, NULL);
  convert = gst_element_factory_make ("videoconvert", NULL);

  if (!h264)
    {
      if (!(encoder = make_element ("vp8enc", NULL, error)))
        goto fail;
      /* threads 1: on 2 cores libvpx's second thread mostly spins waiting
       * for the first (measured at 720p30: ~2x the CPU of one thread, and
       * up to a full core on simple pictures), with no gain in speed. */
      g_object_set (encoder, "deadline", (gint64) 1, "cpu-used", 16, "target-bitrate", kbps * 1000,
                    "lag-in-frames", 0, "threads", 1, "keyframe-max-dist", 3000,
                    "error-resilient", 1, NULL);
      gst_util_set_object_arg (G_OBJECT (encoder), "end-usage", "cbr");
      pay = gst_element_factory_make ("rtpvp8pay", NULL);
      gst_util_set_object_arg (G_OBJECT (pay), "picture-id-mode", "15-bit");
    }
  else
    {
      g_autoptr(GstCaps) caps = gst_caps_from_string ("video/x-h264,profile=constrained-baseline");

      if ((encoder = gst_element_factory_make ("x264enc", NULL)))
        {
          gst_util_set_object_arg (G_OBJECT (encoder), "tune", "zerolatency");
          gst_util_set_object_arg (G_OBJECT (encoder), "speed-preset", "ultrafast");
          g_object_set (encoder, "bitrate", kbps, "key-int-max", 3000, NULL);
        }
      else if ((encoder = make_element ("openh264enc", NULL, error)))
        {
          g_clear_error (error);
          g_object_set (encoder, "bitrate", kbps * 1000, "gop-size", 3000, NULL);
          gst_util_set_object_arg (G_OBJECT (encoder), "rate-control", "bitrate");
          gst_util_set_object_arg (G_OBJECT (encoder), "complexity", "low");
        }
      else
        goto fail;
      filter = gst_element_factory_make ("capsfilter", NULL);
      g_object_set (filter, "caps", caps, NULL);
      parse = gst_element_factory_make ("h264parse", NULL);
      pay = gst_element_factory_make ("rtph264pay", NULL);
      g_object_set (pay, "config-interval", -1, NULL);
      gst_util_set_object_arg (G_OBJECT (pay), "aggregate-mode", "zero-latency");
    }
  g_object_set (pay, "pt", 96, NULL);

  self->branch = g_ptr_array_new ();
  g_ptr_array_add (self->branch, queue);
  g_ptr_array_add (self->branch, convert);
  /* congestion control (issue 11): the degradation policy's scaler; passes
   * through until the filter gets caps. */
  self->send_filter = gst_element_factory_make ("capsfilter", NULL);
  g_ptr_array_add (self->branch, gst_element_factory_make ("videoscale", NULL));
  g_ptr_array_add (self->branch, self->send_filter);
  g_ptr_array_add (self->branch, encoder);
  if (filter)
    g_ptr_array_add (self->branch, filter);
  if (parse)
    g_ptr_array_add (self->branch, parse);
  g_ptr_array_add (self->branch, pay);
  self->encoder = encoder;

  for (guint i = 0; i < self->branch->len; i++)
    gst_bin_add (GST_BIN (self->pipeline), self->branch->pdata[i]);
  for (guint i = 0; i + 1 < self->branch->len; i++)
    if (!gst_element_link (self->branch->pdata[i], self->branch->pdata[i + 1]))
      {
        g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_PIPELINE,
                             _("Could not build the encoder"));
        return FALSE;
      }
  return TRUE;

fail:
  gst_object_unref (gst_object_ref_sink (queue));
  gst_object_unref (gst_object_ref_sink (convert));
  return FALSE;
}

gboolean
peercam_call_engine_call (PeercamCallEngine  *self,
                          GError            **error)
{
  g_autoptr(GstCaps) caps = NULL;
  g_autoptr(GstPad) sink_pad = NULL;
  g_autoptr(GstPad) queue_pad = NULL;
  g_autoptr(GstWebRTCRTPTransceiver) transceiver = NULL;
  GstPadTemplate *templ;
  GstElement *pay;
  GstPromise *promise;

  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), FALSE);

  if (self->role != PEERCAM_CALL_ROLE_CALLER)
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_WRONG_STATE,
                           _("Only a caller places calls"));
      return FALSE;
    }
  if (self->preview == NULL && !peercam_call_engine_start_local_video (self, error))
    return FALSE;

  /* Calling again replaces the call. */
  call_teardown (self);
  self->call = call_link_new (self);

  self->webrtc = webrtc_new (self, error);
  if (self->webrtc == NULL)
    goto fail;
  gst_object_ref_sink (self->webrtc);
  gst_bin_add (GST_BIN (self->pipeline), self->webrtc);
  if (!build_encoder_branch (self, error))
    goto fail;

  caps = rtp_caps_for_codec (self->codec);
  templ = gst_element_get_pad_template (self->webrtc, "sink_%u");
  sink_pad = gst_element_request_pad (self->webrtc, templ, NULL, caps);
  pay = self->branch->pdata[self->branch->len - 1];
  if (sink_pad == NULL || !gst_element_link_pads (pay, "src", self->webrtc, GST_PAD_NAME (sink_pad)))
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_PIPELINE,
                           _("Could not link the encoder to webrtcbin"));
      goto fail;
    }
  g_object_get (sink_pad, "transceiver", &transceiver, NULL);
  g_object_set (transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
                "codec-preferences", caps, NULL);
  if (element_has_property (transceiver, "do-nack"))
    g_object_set (transceiver, "do-nack", TRUE, NULL);
  /* congestion control (issue 11): TWCC, pacer, estimate -> encoder/scaler */
  self->congestion = peercam_congestion_new (self->context);
  peercam_congestion_attach_sender (self->congestion, self->webrtc, transceiver, self->encoder, pay,
                                    self->send_filter,
                                    &(PeercamVideoFormat) { self->width, self->height, self->framerate });

  if (self->send_audio && !add_microphone (self, error))
    goto fail;

  /* Count what goes to the encoder: the caller's fps in stats. */
  queue_pad = gst_element_get_static_pad (self->branch->pdata[0], "src");
  gst_pad_add_probe (queue_pad, GST_PAD_PROBE_TYPE_BUFFER, count_frames_probe,
                     call_link_ref (self->call), call_link_unref);

  gst_element_sync_state_with_parent (self->webrtc);
  for (guint i = self->branch->len; i > 0; i--)
    gst_element_sync_state_with_parent (self->branch->pdata[i - 1]);

  {
    g_autoptr(GstPad) branch_sink = gst_element_get_static_pad (self->branch->pdata[0], "sink");

    if (self->tee_pad == NULL || gst_pad_link (self->tee_pad, branch_sink) != GST_PAD_LINK_OK)
      {
        g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_PIPELINE,
                             _("Could not link the encoder to the video source"));
        goto fail;
      }
  }

  promise = gst_promise_new_with_change_func (on_offer_created, call_link_ref (self->call),
                                              call_link_unref);
  g_signal_emit_by_name (self->webrtc, "create-offer", NULL, promise);
  gst_promise_unref (promise);
  return TRUE;

fail:
  call_teardown (self);
  return FALSE;
}

void
peercam_call_engine_hang_up (PeercamCallEngine *self)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));

  if (self->call == NULL)
    return;
  end_call (self, idle_state (self));
  g_signal_emit (self, signals[SIGNAL_SEND_BYE], 0);
}

static void
handle_answer (PeercamCallEngine *self,
               const char        *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GstSDPMessage) sdp = NULL;

  if (self->role != PEERCAM_CALL_ROLE_CALLER || self->call == NULL ||
      self->state != PEERCAM_CALL_STATE_CALLING)
    {
      emit_error (self, PEERCAM_CALL_ERROR_WRONG_STATE, _("Got an answer without having sent an offer"));
      return;
    }
  if (!(sdp = parse_sdp (self, text, &error)))
    {
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
      return;
    }
  set_remote_description (self, GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
}

/* ---- viewer ------------------------------------------------------------- */

static void
link_to_sink (GstElement *pipeline,
              GstPad     *pad,
              GstElement *sink)
{
  g_autoptr(GstPad) sink_pad = NULL;

  gst_bin_add (GST_BIN (pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  sink_pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sink_pad);
}

/* audioconvert ! audioresample ! autoaudiosink, or a fakesink when this
 * machine has no way to play sound (a call never fails for that). */
static GstElement *
audio_sink_new (void)
{
  GstElement *bin = gst_bin_new (NULL);
  GstElement *convert = gst_element_factory_make ("audioconvert", NULL);
  GstElement *resample = gst_element_factory_make ("audioresample", NULL);
  GstElement *sink = gst_element_factory_make ("autoaudiosink", NULL);
  g_autoptr(GstPad) pad = NULL;

  if (convert == NULL || resample == NULL || sink == NULL ||
      gst_element_set_state (sink, GST_STATE_READY) == GST_STATE_CHANGE_FAILURE)
    {
      g_debug ("no audio output: received audio is dropped");
      g_clear_pointer (&convert, gst_object_unref);
      g_clear_pointer (&resample, gst_object_unref);
      if (sink)
        {
          gst_element_set_state (sink, GST_STATE_NULL);
          gst_object_unref (sink);
        }
      gst_object_unref (bin);
      return headless_sink (NULL);
    }

  gst_bin_add_many (GST_BIN (bin), convert, resample, sink, NULL);
  gst_element_link_many (convert, resample, sink, NULL);
  pad = gst_element_get_static_pad (convert, "sink");
  gst_element_add_pad (bin, gst_ghost_pad_new ("sink", pad));
  return bin;
}

static gboolean
have_microphone (void)
{
  g_autoptr(GstDeviceMonitor) monitor = gst_device_monitor_new ();
  GList *devices;
  gboolean found;

  gst_device_monitor_add_filter (monitor, "Audio/Source", NULL);
  if (!gst_device_monitor_start (monitor))
    return FALSE;
  devices = gst_device_monitor_get_devices (monitor);
  found = devices != NULL;
  g_list_free_full (devices, gst_object_unref);
  gst_device_monitor_stop (monitor);

  return found;
}

/* Caller: autoaudiosrc ! … ! opusenc ! rtpopuspay into webrtcbin as a second,
 * send-only transceiver. Its elements join self->branch, so hanging up tears
 * them down with the video encoder. */
static gboolean
add_microphone (PeercamCallEngine  *self,
                GError            **error)
{
  static const char *factories[] = {
    "autoaudiosrc", "queue", "audioconvert", "audioresample", "opusenc", "rtpopuspay",
  };
  GstElement *elements[G_N_ELEMENTS (factories)] = { NULL, };
  g_autoptr(GstCaps) caps = gst_caps_from_string ("application/x-rtp,media=audio,encoding-name=OPUS,"
                                                  "clock-rate=48000,payload=111");
  g_autoptr(GstPad) sink_pad = NULL;
  g_autoptr(GstWebRTCRTPTransceiver) transceiver = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (factories); i++)
    if (!(elements[i] = make_element (factories[i], NULL, error)))
      {
        for (guint j = 0; j < i; j++)
          gst_object_unref (gst_object_ref_sink (elements[j]));
        return FALSE;
      }

  /* No microphone is no reason to fail the call: say so, send video only.
   * (autoaudiosrc only fails once PLAYING, so ask the device monitor.) */
  if (!have_microphone ())
    {
      for (guint i = 0; i < G_N_ELEMENTS (elements); i++)
        gst_object_unref (gst_object_ref_sink (elements[i]));
      emit_error (self, PEERCAM_CALL_ERROR_SOURCE, _("No microphone found: calling with video only"));
      return TRUE;
    }

  g_object_set (elements[1], "leaky", 2, "max-size-time", (guint64) 200 * GST_MSECOND, NULL);
  g_object_set (elements[5], "pt", 111, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (elements); i++)
    {
      gst_bin_add (GST_BIN (self->pipeline), elements[i]);
      g_ptr_array_add (self->branch, elements[i]);
    }
  for (guint i = 0; i + 1 < G_N_ELEMENTS (elements); i++)
    if (!gst_element_link (elements[i], elements[i + 1]))
      goto fail;

  sink_pad = gst_element_request_pad (self->webrtc,
                                      gst_element_get_pad_template (self->webrtc, "sink_%u"),
                                      NULL, caps);
  if (sink_pad == NULL ||
      !gst_element_link_pads (elements[5], "src", self->webrtc, GST_PAD_NAME (sink_pad)))
    goto fail;
  g_object_get (sink_pad, "transceiver", &transceiver, NULL);
  g_object_set (transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
                "codec-preferences", caps, NULL);

  for (guint i = G_N_ELEMENTS (elements); i > 0; i--)
    gst_element_sync_state_with_parent (elements[i - 1]);
  return TRUE;

fail:
  g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_PIPELINE,
                       _("Could not send the microphone"));
  return FALSE;
}

static void
on_decoded_pad (GstElement *decodebin,
                GstPad     *pad,
                gpointer    user_data)
{
  CallLink *link = user_data;
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  g_autoptr(GstObject) pipeline = gst_object_get_parent (GST_OBJECT (decodebin));
  const char *name;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (pipeline == NULL || caps == NULL || gst_caps_is_empty (caps))
    return;
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));

  if (g_str_has_prefix (name, "video/") && link->remote_sink &&
      g_atomic_int_compare_and_exchange (&link->remote_linked, 0, 1))
    {
      g_autoptr(GstPad) sink_pad = gst_element_get_static_pad (link->remote_sink, "sink");

      if (gst_pad_link (pad, sink_pad) != GST_PAD_LINK_OK)
        g_debug ("could not link decoded video to the remote sink");
      return;
    }

  if (g_str_has_prefix (name, "audio/") && link->play_audio)
    {
      link_to_sink (GST_ELEMENT (pipeline), pad, audio_sink_new ());
      return;
    }

  /* Audio nobody listens to, or a second video: consume it so it never
   * stalls the bundle. */
  link_to_sink (GST_ELEMENT (pipeline), pad, headless_sink (NULL));
}

static void
on_decodebin_element (GstBin     *bin,
                      GstBin     *sub_bin,
                      GstElement *element,
                      gpointer    user_data)
{
  /* Ask the caller for a keyframe instead of showing smeared frames. */
  if (element_has_property (element, "request-keyframe"))
    g_object_set (element, "request-keyframe", TRUE, NULL);
  if (element_has_property (element, "wait-for-keyframe"))
    g_object_set (element, "wait-for-keyframe", TRUE, NULL);
}

static void
on_viewer_element (GstBin     *bin,
                   GstBin     *sub_bin,
                   GstElement *element,
                   gpointer    user_data)
{
  GstElementFactory *factory = gst_element_get_factory (element);

  /* The jitter buffer holds the first packet for its whole latency unless
   * it may start on a run of consecutive packets (a keyframe is several). */
  if (factory && g_str_equal (GST_OBJECT_NAME (factory), "rtpjitterbuffer") &&
      element_has_property (element, "faststart-min-packets"))
    g_object_set (element, "faststart-min-packets", 2, NULL);
}

static void
on_webrtc_pad_added (GstElement *webrtc,
                     GstPad     *pad,
                     gpointer    user_data)
{
  CallLink *link = user_data;
  g_autoptr(GstObject) pipeline = NULL;
  g_autoptr(GstPad) sink_pad = NULL;
  GstElement *decodebin;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  pipeline = gst_object_get_parent (GST_OBJECT (webrtc));
  if (pipeline == NULL)
    return;

  /* Runs on webrtcbin's streaming thread: the pad must be linked before
   * data flows, so build here and leave the engine alone. */
  decodebin = gst_element_factory_make ("decodebin", NULL);
  g_signal_connect_data (decodebin, "pad-added", G_CALLBACK (on_decoded_pad),
                         call_link_ref (link), call_link_closure_unref, 0);
  g_signal_connect (decodebin, "deep-element-added", G_CALLBACK (on_decodebin_element), NULL);
  gst_bin_add (GST_BIN (pipeline), decodebin);
  gst_element_sync_state_with_parent (decodebin);
  sink_pad = gst_element_get_static_pad (decodebin, "sink");
  gst_pad_link (pad, sink_pad);
}

static GstCaps *
recv_caps_for_kind (const char *kind)
{
  if (g_str_equal (kind, "video"))
    return gst_caps_from_string ("application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000;"
                                 "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000;"
                                 "application/x-rtp,media=video,encoding-name=VP9,clock-rate=90000");
  if (g_str_equal (kind, "audio"))
    return gst_caps_from_string ("application/x-rtp,media=audio");
  return NULL;
}

static void
handle_offer (PeercamCallEngine *self,
              const char        *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GstSDPMessage) sdp = NULL;
  gboolean has_video = FALSE;

  if (self->role != PEERCAM_CALL_ROLE_VIEWER)
    {
      emit_error (self, PEERCAM_CALL_ERROR_WRONG_STATE, _("A caller does not take offers"));
      return;
    }
  if (!(sdp = parse_sdp (self, text, &error)))
    {
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
      return;
    }
  /* Only the BUNDLE tag's transport is used; webrtcbin wants them all alike. */
  peercam_sdp_normalize_bundle (sdp);
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++)
    if (g_str_equal (gst_sdp_media_get_media (gst_sdp_message_get_media (sdp, i)), "video"))
      has_video = TRUE;
  if (!has_video)
    {
      emit_error (self, PEERCAM_CALL_ERROR_INVALID_SIGNAL, _("The peer offered no video"));
      return;
    }

  /* A new offer replaces the call, but keeps candidates that came first. */
  {
    GQueue pending = self->pending;

    g_queue_init (&self->pending);
    call_teardown (self);
    self->pending = pending;
  }

  self->call = call_link_new (self);
  self->webrtc = webrtc_new (self, &error);
  if (self->webrtc == NULL)
    {
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
      end_call (self, PEERCAM_CALL_STATE_FAILED);
      return;
    }
  gst_object_ref_sink (self->webrtc);
  g_signal_connect_data (self->webrtc, "pad-added", G_CALLBACK (on_webrtc_pad_added),
                         call_link_ref (self->call), call_link_closure_unref, 0);
  /* congestion control (issue 11): adaptive jitter buffer, merged PLIs */
  self->congestion = peercam_congestion_new (self->context);
  peercam_congestion_attach_viewer (self->congestion, self->webrtc, self->latency);

  self->pipeline = gst_object_ref_sink (pipeline_new (self, "peercam-viewer"));
  g_signal_connect (self->pipeline, "deep-element-added", G_CALLBACK (on_viewer_element), NULL);
  gst_bin_add (GST_BIN (self->pipeline), self->webrtc);

  self->remote_sink_in_use = self->remote_sink ? g_object_ref (self->remote_sink)
                                               : gst_object_ref_sink (headless_sink ("remote-sink"));
  self->call->remote_sink = g_object_ref (self->remote_sink_in_use);
  gst_bin_add (GST_BIN (self->pipeline), self->remote_sink_in_use);
  self->remote_probe_pad = gst_element_get_static_pad (self->remote_sink_in_use, "sink");
  self->remote_probe_id = gst_pad_add_probe (self->remote_probe_pad, GST_PAD_PROBE_TYPE_BUFFER,
                                             remote_frames_probe,
                                             call_link_ref (self->call), call_link_unref);

  /* One receive-only transceiver per offered m-line, in order, so webrtcbin
   * associates them instead of inventing send-receive ones. */
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++)
    {
      g_autoptr(GstCaps) caps = recv_caps_for_kind (gst_sdp_media_get_media (gst_sdp_message_get_media (sdp, i)));
      GstWebRTCRTPTransceiver *transceiver = NULL;

      if (caps == NULL)
        continue;
      g_signal_emit_by_name (self->webrtc, "add-transceiver",
                             GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &transceiver);
      if (transceiver && element_has_property (transceiver, "do-nack"))
        g_object_set (transceiver, "do-nack", TRUE, NULL);
      if (transceiver)  /* congestion control (issue 11): answer transport-cc */
        peercam_congestion_accept_twcc (transceiver, gst_sdp_message_get_media (sdp, i));
      g_clear_object (&transceiver);
    }

  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      emit_error (self, PEERCAM_CALL_ERROR_PIPELINE, _("Could not start receiving video"));
      end_call (self, PEERCAM_CALL_STATE_FAILED);
      return;
    }
  set_state (self, PEERCAM_CALL_STATE_CONNECTING);
  set_remote_description (self, GST_WEBRTC_SDP_TYPE_OFFER, sdp);
}

void
peercam_call_engine_handle_bye (PeercamCallEngine *self)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));

  g_queue_clear_full (&self->pending, pending_candidate_free);
  if (self->call == NULL)
    return;
  end_call (self, idle_state (self));
}

void
peercam_call_engine_handle_signal (PeercamCallEngine *self,
                                   JsonNode          *node)
{
  JsonObject *object;
  const char *type, *sdp;

  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      emit_error (self, PEERCAM_CALL_ERROR_INVALID_SIGNAL, _("The peer sent a signal that is not an object"));
      return;
    }
  object = json_node_get_object (node);
  type = json_object_get_string_member_with_default (object, "type", NULL);
  sdp = json_object_get_string_member_with_default (object, "sdp", NULL);

  if (g_strcmp0 (type, "offer") == 0)
    handle_offer (self, sdp);
  else if (g_strcmp0 (type, "answer") == 0)
    handle_answer (self, sdp);
  else if (g_strcmp0 (type, "bye") == 0)
    peercam_call_engine_handle_bye (self);
  else
    emit_error (self, PEERCAM_CALL_ERROR_INVALID_SIGNAL,
                _("The peer sent a signal of unknown type “%s”"), type ? type : "(none)");
}

/* ---- warm-up ------------------------------------------------------------ */

/* The warm-up call must not reach the network: loopback only, no UPnP. */
static void
warm_up_restrict_ice (GstElement *webrtc)
{
  g_autoptr(GObject) ice = NULL;
  g_autoptr(GObject) agent = NULL;
  NiceAddress address;

  g_object_get (webrtc, "ice-agent", &ice, NULL);
  if (ice == NULL || !element_has_property (ice, "agent"))
    return;
  g_object_get (ice, "agent", &agent, NULL);
  if (agent == NULL)
    return;
  g_object_set (agent, "upnp", FALSE, "stun-pacing-timer", 5, NULL);
  nice_address_init (&address);
  nice_address_set_from_string (&address, "127.0.0.1");
  nice_agent_add_local_address (NICE_AGENT (agent), &address);
}

/* The warm-up loopback call: a sender and a receiver webrtcbin in one private
 * pipeline, on 127.0.0.1 only, until the first decoded frame or a deadline. */
typedef struct {
  GMutex      lock;
  GCond       cond;
  gboolean    frame;
  GstElement *pipeline;
  GstElement *sink;
  GstElement *peer[2];   /* [0] sends, [1] receives */
} WarmUp;

static void
warm_up_on_candidate (GstElement *webrtc,
                      guint       mline,
                      char       *candidate,
                      gpointer    user_data)
{
  WarmUp *w = user_data;

  /* webrtcbin queues candidates that come before a remote description. */
  g_signal_emit_by_name (webrtc == w->peer[0] ? w->peer[1] : w->peer[0],
                         "add-ice-candidate", mline, candidate);
}

static void
warm_up_on_decoded_pad (GstElement *decodebin,
                        GstPad     *pad,
                        gpointer    user_data)
{
  WarmUp *w = user_data;
  g_autoptr(GstPad) sink_pad = gst_element_get_static_pad (w->sink, "sink");

  if (!gst_pad_is_linked (sink_pad))
    gst_pad_link (pad, sink_pad);
}

static void
warm_up_on_pad_added (GstElement *webrtc,
                      GstPad     *pad,
                      gpointer    user_data)
{
  WarmUp *w = user_data;
  GstElement *decodebin;
  g_autoptr(GstPad) sink_pad = NULL;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  decodebin = gst_element_factory_make ("decodebin", NULL);
  if (decodebin == NULL)
    return;
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (warm_up_on_decoded_pad), w);
  gst_bin_add (GST_BIN (w->pipeline), decodebin);
  gst_element_sync_state_with_parent (decodebin);
  sink_pad = gst_element_get_static_pad (decodebin, "sink");
  gst_pad_link (pad, sink_pad);
}

static GstPadProbeReturn
warm_up_frame_probe (GstPad          *pad,
                     GstPadProbeInfo *info,
                     gpointer         user_data)
{
  WarmUp *w = user_data;

  g_mutex_lock (&w->lock);
  w->frame = TRUE;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
  return GST_PAD_PROBE_REMOVE;
}

/* Runs on the warm-up thread, so it may wait for webrtcbin's promises. */
static GstWebRTCSessionDescription *
warm_up_describe (GstElement                  *webrtc,
                  const char                  *create,
                  const char                  *field,
                  GstWebRTCSessionDescription *remote)
{
  GstWebRTCSessionDescription *desc = NULL;
  GstPromise *promise;

  if (remote)
    {
      promise = gst_promise_new ();
      g_signal_emit_by_name (webrtc, "set-remote-description", remote, promise);
      gst_promise_wait (promise);
      gst_promise_unref (promise);
    }
  promise = gst_promise_new ();
  g_signal_emit_by_name (webrtc, create, NULL, promise);
  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED && gst_promise_get_reply (promise))
    gst_structure_get (gst_promise_get_reply (promise), field,
                       GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL);
  gst_promise_unref (promise);
  if (desc)
    {
      promise = gst_promise_new ();
      g_signal_emit_by_name (webrtc, "set-local-description", desc, promise);
      gst_promise_wait (promise);
      gst_promise_unref (promise);
    }
  return desc;
}

static gpointer
warm_up_thread (gpointer data)
{
  static const char * const factories[] = {
    "webrtcbin", "rtpbin", "rtpjitterbuffer", "nicesrc", "nicesink",
    "dtlssrtpenc", "dtlssrtpdec", "srtpenc", "srtpdec",
    "vp8enc", "vp8dec", "rtpvp8pay", "rtpvp8depay", "decodebin",
    "videotestsrc", "videoconvert", "tee", "queue", "fakesink", "appsink",
  };
  WarmUp w = { 0 };
  GstElement *source, *filter, *encoder, *pay;
  GstWebRTCRTPTransceiver *transceiver = NULL;
  g_autoptr(GstCaps) caps = rtp_caps_for_codec ("vp8");
  g_autoptr(GstCaps) raw = gst_caps_from_string ("video/x-raw,format=I420,width=320,height=240,framerate=30/1");
  g_autoptr(GstPad) sink_pad = NULL;
  g_autoptr(GstPad) probe_pad = NULL;
  GstWebRTCSessionDescription *offer = NULL, *answer = NULL;
  gint64 deadline;

  gint64 started = g_get_monotonic_time ();

  /* Loading plugins is the first cost … */
  for (guint i = 0; i < G_N_ELEMENTS (factories); i++)
    {
      GstElement *element = gst_element_factory_make (factories[i], NULL);

      if (element)
        gst_object_unref (gst_object_ref_sink (element));
    }

  /* … the DTLS certificate the second (generated once per process, for the
   * first DTLS transport), and the first run of the receive side (decodebin
   * plugging vp8dec, the jitter buffer, SRTP) the third: one short call to
   * ourselves, on 127.0.0.1 only, pays them all before the user's call. */
  g_mutex_init (&w.lock);
  g_cond_init (&w.cond);
  w.pipeline = gst_object_ref_sink (gst_pipeline_new ("peercam-warm-up"));
  source = gst_element_factory_make ("videotestsrc", NULL);
  filter = gst_element_factory_make ("capsfilter", NULL);
  encoder = gst_element_factory_make ("vp8enc", NULL);
  pay = gst_element_factory_make ("rtpvp8pay", NULL);
  w.peer[0] = gst_element_factory_make ("webrtcbin", NULL);
  w.peer[1] = gst_element_factory_make ("webrtcbin", NULL);
  w.sink = gst_element_factory_make ("fakesink", NULL);
  if (!source || !filter || !encoder || !pay || !w.peer[0] || !w.peer[1] || !w.sink)
    {
      GstElement *made[] = { source, filter, encoder, pay, w.peer[0], w.peer[1], w.sink };

      for (guint i = 0; i < G_N_ELEMENTS (made); i++)
        if (made[i])
          gst_object_unref (gst_object_ref_sink (made[i]));
      w.peer[0] = w.peer[1] = NULL;
      goto out;
    }
  g_object_set (source, "is-live", TRUE, NULL);
  gst_util_set_object_arg (G_OBJECT (source), "pattern", "black");
  g_object_set (filter, "caps", raw, NULL);
  g_object_set (encoder, "deadline", (gint64) 1, "cpu-used", 16, "lag-in-frames", 0,
                "threads", 1, NULL);
  g_object_set (pay, "pt", 96, NULL);
  g_object_set (w.sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add_many (GST_BIN (w.pipeline), source, filter, encoder, pay,
                    w.peer[0], w.peer[1], w.sink, NULL);
  gst_element_link_many (source, filter, encoder, pay, NULL);
  for (guint i = 0; i < 2; i++)
    {
      gst_util_set_object_arg (G_OBJECT (w.peer[i]), "bundle-policy", "max-bundle");
      g_object_set (w.peer[i], "latency", 0, NULL);
      warm_up_restrict_ice (w.peer[i]);
      g_signal_connect (w.peer[i], "on-ice-candidate", G_CALLBACK (warm_up_on_candidate), &w);
    }
  g_signal_connect (w.peer[1], "pad-added", G_CALLBACK (warm_up_on_pad_added), &w);
  sink_pad = gst_element_request_pad (w.peer[0], gst_element_get_pad_template (w.peer[0], "sink_%u"),
                                      NULL, caps);
  if (sink_pad == NULL || !gst_element_link_pads (pay, "src", w.peer[0], GST_PAD_NAME (sink_pad)))
    goto out;
  g_object_get (sink_pad, "transceiver", &transceiver, NULL);
  if (transceiver)
    g_object_set (transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
                  "codec-preferences", caps, NULL);
  g_clear_object (&transceiver);
  {
    g_autoptr(GstCaps) recv = recv_caps_for_kind ("video");

    g_signal_emit_by_name (w.peer[1], "add-transceiver",
                           GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, recv, &transceiver);
    g_clear_object (&transceiver);
  }
  probe_pad = gst_element_get_static_pad (w.sink, "sink");
  gst_pad_add_probe (probe_pad, GST_PAD_PROBE_TYPE_BUFFER, warm_up_frame_probe, &w, NULL);

  if (gst_element_set_state (w.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    goto out;
  offer = warm_up_describe (w.peer[0], "create-offer", "offer", NULL);
  if (offer == NULL)
    goto out;
  answer = warm_up_describe (w.peer[1], "create-answer", "answer", offer);
  if (answer)
    {
      GstPromise *promise = gst_promise_new ();

      g_signal_emit_by_name (w.peer[0], "set-remote-description", answer, promise);
      gst_promise_wait (promise);
      gst_promise_unref (promise);
    }

  /* Bounded: with no loopback at all (or a broken plugin) give up. */
  deadline = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
  g_mutex_lock (&w.lock);
  while (!w.frame && answer)
    if (!g_cond_wait_until (&w.cond, &w.lock, deadline))
      break;
  g_mutex_unlock (&w.lock);
  g_debug ("warm-up call: %s after %" G_GINT64_FORMAT " ms", w.frame ? "decoded a frame" : "gave up",
           (g_get_monotonic_time () - started) / 1000);

out:
  if (w.pipeline)
    {
      gst_element_set_state (w.pipeline, GST_STATE_NULL);
      /* Streaming threads are gone: no callback can reach w any more. */
      for (guint i = 0; i < 2; i++)
        if (w.peer[i])
          g_signal_handlers_disconnect_by_data (w.peer[i], &w);
      gst_object_unref (w.pipeline);
    }
  g_clear_pointer (&offer, gst_webrtc_session_description_free);
  g_clear_pointer (&answer, gst_webrtc_session_description_free);
  g_mutex_clear (&w.lock);
  g_cond_clear (&w.cond);
  return NULL;
}

void
peercam_call_engine_warm_up (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      g_thread_unref (g_thread_new ("peercam-warm-up", warm_up_thread, NULL));
      g_once_init_leave (&once, 1);
    }
}

/* ---- GObject ------------------------------------------------------------ */

static void
peercam_call_engine_dispose (GObject *object)
{
  PeercamCallEngine *self = PEERCAM_CALL_ENGINE (object);

  call_teardown (self);
  if (self->role == PEERCAM_CALL_ROLE_CALLER)
    {
      if (self->local_probe_pad)
        {
          gst_pad_remove_probe (self->local_probe_pad, self->local_probe_id);
          g_clear_object (&self->local_probe_pad);
        }
      pipeline_destroy (self);
      g_clear_object (&self->local_sink_in_use);
      g_clear_pointer (&self->preview, call_link_unref);
    }
  pipeline_destroy (self);
  g_clear_object (&self->local_sink);
  g_clear_object (&self->remote_sink);

  G_OBJECT_CLASS (peercam_call_engine_parent_class)->dispose (object);
}

static void
peercam_call_engine_finalize (GObject *object)
{
  PeercamCallEngine *self = PEERCAM_CALL_ENGINE (object);

  g_free (self->source);
  g_clear_object (&self->source_device);
  g_clear_object (&self->preview_device);
  g_free (self->codec);
  g_free (self->stun_server);
  g_free (self->turn_server);
  g_strfreev (self->ice_addresses);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (peercam_call_engine_parent_class)->finalize (object);
}

static void
peercam_call_engine_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  PeercamCallEngine *self = PEERCAM_CALL_ENGINE (object);

  switch (prop_id)
    {
    case PROP_ROLE: g_value_set_enum (value, self->role); break;
    case PROP_STATE: g_value_set_enum (value, self->state); break;
    case PROP_SOURCE: g_value_set_string (value, self->source); break;
    case PROP_CODEC: g_value_set_string (value, self->codec); break;
    case PROP_LATENCY: g_value_set_uint (value, self->latency); break;
    case PROP_STUN_SERVER: g_value_set_string (value, self->stun_server); break;
    case PROP_TURN_SERVER: g_value_set_string (value, self->turn_server); break;
    case PROP_ICE_ADDRESSES: g_value_set_boxed (value, self->ice_addresses); break;
    case PROP_ICE_TIMEOUT: g_value_set_uint (value, self->ice_timeout); break;
    case PROP_WIDTH: g_value_set_int (value, self->width); break;
    case PROP_HEIGHT: g_value_set_int (value, self->height); break;
    case PROP_FRAMERATE: g_value_set_int (value, self->framerate); break;
    case PROP_PLAY_AUDIO: g_value_set_boolean (value, self->play_audio); break;
    case PROP_SEND_AUDIO: g_value_set_boolean (value, self->send_audio); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_string (PeercamCallEngine *self,
            char             **field,
            const char        *value,
            guint              prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
set_int (PeercamCallEngine *self,
         int               *field,
         int                value,
         guint              prop)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
peercam_call_engine_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  PeercamCallEngine *self = PEERCAM_CALL_ENGINE (object);

  switch (prop_id)
    {
    case PROP_ROLE: self->role = g_value_get_enum (value); break;
    case PROP_SOURCE: peercam_call_engine_set_source (self, g_value_get_string (value)); break;
    case PROP_CODEC: peercam_call_engine_set_codec (self, g_value_get_string (value)); break;
    case PROP_LATENCY: peercam_call_engine_set_latency (self, g_value_get_uint (value)); break;
    case PROP_STUN_SERVER: peercam_call_engine_set_stun_server (self, g_value_get_string (value)); break;
    case PROP_TURN_SERVER: peercam_call_engine_set_turn_server (self, g_value_get_string (value)); break;
    case PROP_ICE_ADDRESSES: peercam_call_engine_set_ice_addresses (self, g_value_get_boxed (value)); break;
    case PROP_ICE_TIMEOUT: peercam_call_engine_set_ice_timeout (self, g_value_get_uint (value)); break;
    case PROP_WIDTH: set_int (self, &self->width, g_value_get_int (value), PROP_WIDTH); break;
    case PROP_HEIGHT: set_int (self, &self->height, g_value_get_int (value), PROP_HEIGHT); break;
    case PROP_FRAMERATE: set_int (self, &self->framerate, g_value_get_int (value), PROP_FRAMERATE); break;
    case PROP_PLAY_AUDIO: peercam_call_engine_set_play_audio (self, g_value_get_boolean (value)); break;
    case PROP_SEND_AUDIO: peercam_call_engine_set_send_audio (self, g_value_get_boolean (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_call_engine_class_init (PeercamCallEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = peercam_call_engine_dispose;
  object_class->finalize = peercam_call_engine_finalize;
  object_class->get_property = peercam_call_engine_get_property;
  object_class->set_property = peercam_call_engine_set_property;

  properties[PROP_ROLE] =
    g_param_spec_enum ("role", NULL, NULL, PEERCAM_TYPE_CALL_ROLE, PEERCAM_CALL_ROLE_CALLER,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, PEERCAM_TYPE_CALL_STATE, PEERCAM_CALL_STATE_IDLE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* "test" (also "ball", "smpte"), "camera", or a device name or path. */
  properties[PROP_SOURCE] = g_param_spec_string ("source", NULL, NULL, "test", rw);
  properties[PROP_CODEC] = g_param_spec_string ("codec", NULL, NULL, "vp8", rw);
  /* The receive jitter buffer: LAN-sized; webrtcbin's 200 ms is for the internet. */
  properties[PROP_LATENCY] = g_param_spec_uint ("latency", NULL, NULL, 0, 10000, 30, rw);
  properties[PROP_STUN_SERVER] = g_param_spec_string ("stun-server", NULL, NULL, NULL, rw);
  properties[PROP_TURN_SERVER] = g_param_spec_string ("turn-server", NULL, NULL, NULL, rw);
  properties[PROP_ICE_ADDRESSES] = g_param_spec_boxed ("ice-addresses", NULL, NULL, G_TYPE_STRV, rw);
  properties[PROP_ICE_TIMEOUT] = g_param_spec_uint ("ice-timeout", NULL, NULL, 0, 3600, 10, rw);
  properties[PROP_WIDTH] = g_param_spec_int ("width", NULL, NULL, 16, 7680, 1280, rw);
  properties[PROP_HEIGHT] = g_param_spec_int ("height", NULL, NULL, 16, 4320, 720, rw);
  properties[PROP_FRAMERATE] = g_param_spec_int ("framerate", NULL, NULL, 1, 240, 30, rw);
  /* Off by default, like the demo; take effect at the next call. */
  properties[PROP_PLAY_AUDIO] = g_param_spec_boolean ("play-audio", NULL, NULL, FALSE, rw);
  properties[PROP_SEND_AUDIO] = g_param_spec_boolean ("send-audio", NULL, NULL, FALSE, rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_SEND_SIGNAL] =
    g_signal_new ("send-signal", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, JSON_TYPE_NODE | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_SEND_ICE] =
    g_signal_new ("send-ice", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, JSON_TYPE_NODE | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_SEND_BYE] =
    g_signal_new ("send-bye", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_FIRST_FRAME] =
    g_signal_new ("first-frame", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
  signals[SIGNAL_STATS] =
    g_signal_new ("stats", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, JSON_TYPE_NODE | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
peercam_call_engine_init (PeercamCallEngine *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->source = g_strdup ("test");
  self->codec = g_strdup ("vp8");
  self->latency = 30;
  self->ice_timeout = 10;
  self->width = 1280;
  self->height = 720;
  self->framerate = 30;
  g_queue_init (&self->pending);
}

/* ---- public API --------------------------------------------------------- */

PeercamCallEngine *
peercam_call_engine_new (PeercamCallRole role)
{
  return g_object_new (PEERCAM_TYPE_CALL_ENGINE, "role", role, NULL);
}

PeercamCallRole
peercam_call_engine_get_role (PeercamCallEngine *self)
{
  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), PEERCAM_CALL_ROLE_CALLER);
  return self->role;
}

PeercamCallState
peercam_call_engine_get_state (PeercamCallEngine *self)
{
  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), PEERCAM_CALL_STATE_IDLE);
  return self->state;
}

const char *
peercam_call_engine_get_source (PeercamCallEngine *self)
{
  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), NULL);
  return self->source;
}

/* Takes effect at the next start_local_video(). */
void
peercam_call_engine_set_source (PeercamCallEngine *self,
                                const char        *source)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));
  set_string (self, &self->source, source ? source : "test", PROP_SOURCE);
}

GstDevice *
peercam_call_engine_get_source_device (PeercamCallEngine *self)
{
  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), NULL);
  return self->source_device;
}

/* Takes effect at the next start_local_video(); a device (from a
 * GstDeviceMonitor, e.g. PeercamCameraList) wins over "source", NULL
 * goes back to "source". */
void
peercam_call_engine_set_source_device (PeercamCallEngine *self,
                                       GstDevice         *device)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));
  g_return_if_fail (device == NULL || GST_IS_DEVICE (device));
  g_set_object (&self->source_device, device);
}

/* GStreamer 1.22 devices tell nobody they are gone except the monitor's bus,
 * so whoever watches it reports here. A source that keeps running (PipeWire
 * may just stall) must not leave a frozen preview behind. */
void
peercam_call_engine_device_removed (PeercamCallEngine *self,
                                    GstDevice         *device)
{
  g_autofree char *name = NULL;

  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));
  g_return_if_fail (GST_IS_DEVICE (device));

  if (self->preview == NULL || self->preview_device != device)
    return;

  name = gst_device_get_display_name (device);
  emit_error (self, PEERCAM_CALL_ERROR_CAMERA_DISCONNECTED, _("The camera “%s” was disconnected"), name);
  peercam_call_engine_stop_local_video (self);
  set_state (self, PEERCAM_CALL_STATE_FAILED);
}

const char *
peercam_call_engine_get_codec (PeercamCallEngine *self)
{
  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), NULL);
  return self->codec;
}

/* Takes effect at the next call(). */
void
peercam_call_engine_set_codec (PeercamCallEngine *self,
                               const char        *codec)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));
  set_string (self, &self->codec, g_strcmp0 (codec, "h264") == 0 ? "h264" : "vp8", PROP_CODEC);
}

guint
peercam_call_engine_get_latency (PeercamCallEngine *self)
{
  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), 0);
  return self->latency;
}

void
peercam_call_engine_set_latency (PeercamCallEngine *self,
                                 guint              latency_ms)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));
  if (self->latency == latency_ms)
    return;
  self->latency = latency_ms;
  if (self->webrtc)
    g_object_set (self->webrtc, "latency", latency_ms, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LATENCY]);
}

guint
peercam_call_engine_get_ice_timeout (PeercamCallEngine *self)
{
  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), 0);
  return self->ice_timeout;
}

void
peercam_call_engine_set_ice_timeout (PeercamCallEngine *self,
                                     guint              seconds)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));
  if (self->ice_timeout == seconds)
    return;
  self->ice_timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ICE_TIMEOUT]);
}

void
peercam_call_engine_set_ice_addresses (PeercamCallEngine  *self,
                                       const char * const *addresses)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));
  if (addresses == NULL && self->ice_addresses == NULL)
    return;
  if (addresses && self->ice_addresses && g_strv_equal (addresses, (const char * const *) self->ice_addresses))
    return;
  g_strfreev (self->ice_addresses);
  self->ice_addresses = g_strdupv ((char **) addresses);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ICE_ADDRESSES]);
}

void
peercam_call_engine_set_stun_server (PeercamCallEngine *self,
                                     const char        *uri)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));
  set_string (self, &self->stun_server, uri, PROP_STUN_SERVER);
}

void
peercam_call_engine_set_turn_server (PeercamCallEngine *self,
                                     const char        *uri)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));
  set_string (self, &self->turn_server, uri, PROP_TURN_SERVER);
}

void
peercam_call_engine_set_video_size (PeercamCallEngine *self,
                                    int                width,
                                    int                height,
                                    int                framerate)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));
  g_object_set (self, "width", width, "height", height, "framerate", framerate, NULL);
}

static void
replace_sink (GstElement **slot,
              GstElement  *sink)
{
  if (sink)
    gst_object_ref_sink (sink);
  g_clear_object (slot);
  *slot = sink;
}

/* The sink takes effect at the next start_local_video() (caller). */
void
peercam_call_engine_set_local_sink (PeercamCallEngine *self,
                                    GstElement        *sink)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));
  g_return_if_fail (sink == NULL || GST_IS_ELEMENT (sink));
  replace_sink (&self->local_sink, sink);
}

/* The sink takes effect at the next offer (viewer). */
void
peercam_call_engine_set_remote_sink (PeercamCallEngine *self,
                                     GstElement        *sink)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));
  g_return_if_fail (sink == NULL || GST_IS_ELEMENT (sink));
  replace_sink (&self->remote_sink, sink);
}

guint64
peercam_call_engine_get_local_frames (PeercamCallEngine *self)
{
  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), 0);
  return self->local_frames_done +
         (self->preview ? g_atomic_pointer_get (&self->preview->frames) : 0);
}

guint64
peercam_call_engine_get_remote_frames (PeercamCallEngine *self)
{
  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), 0);
  return self->remote_frames_done +
         (self->call && self->role == PEERCAM_CALL_ROLE_VIEWER
          ? g_atomic_pointer_get (&self->call->frames) : 0);
}

void
peercam_call_engine_set_play_audio (PeercamCallEngine *self,
                                    gboolean           play_audio)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));

  if (self->play_audio == !!play_audio)
    return;
  self->play_audio = !!play_audio;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAY_AUDIO]);
}

void
peercam_call_engine_set_send_audio (PeercamCallEngine *self,
                                    gboolean           send_audio)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));

  if (self->send_audio == !!send_audio)
    return;
  self->send_audio = !!send_audio;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEND_AUDIO]);
}
