/* bench-call.c — media benchmark of the call engine (issue 4): call setup,
 * glass-to-glass latency and CPU per side. Prints figures; never a test.
 *
 * Everything runs on loopback (ICE only on 127.0.0.1, no STUN/TURN) and is
 * bounded in time. Phases:
 *   setup   call pressed -> first decoded buffer at the viewer's appsink:
 *           cold (fresh process, no warm-up), first call after warm_up(), and
 *           warm (in-process, after warm_up() and one discarded call).
 *   g2g     the caller's videotestsrc toggles black/white; a probe on the
 *           source pad stamps the first white frame leaving the source, the
 *           viewer's appsink (RGBA, like the app's paintable) stamps the first
 *           white frame it gets. Display-like sink (sync=false, as the app)
 *           and a clock-syncing sink, at latency 30 (default) and 0.
 *   cpu     caller and viewer engines in two child processes of this binary,
 *           glued over a socketpair carrying the JSON the engines emit;
 *           utime+stime from /proc/PID/stat over a steady window.
 *
 * The caller's source element is reached without an engine hook: the local
 * sink we hand to the engine sits in the caller pipeline, whose live source
 * (videotestsrc for --source test) we find there.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-call-engine.h"
#include "peercam-init.h"

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>
#include <gst/app/gstappsink.h>
#include <gst/base/gstbasesink.h>
#include <gst/video/video.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char * const loopback[] = { "127.0.0.1", NULL };
static gboolean trace;   /* BENCH_CALL_TRACE=1: per-frame brightness on stderr */

/* ---- options -------------------------------------------------------------- */

static int    opt_runs = 12;
static int    opt_cold_runs = 3;
static int    opt_transitions = 12;
static int    opt_cpu_seconds = 10;
static char  *opt_phases = NULL;
static char  *opt_size = NULL;       /* setup/g2g size, default 640x480 */
static char  *opt_child = NULL;      /* internal: caller|viewer|cold */
static int    opt_fd = -1;
static gboolean opt_warm_up = FALSE;
static gboolean opt_headless_sinks = FALSE;
static int    opt_latency = -1;
static char  *opt_source = NULL;     /* cpu: the caller's source (default: the engine's "test") */
static char  *opt_cpu_out = NULL;    /* cpu: "CALLER VIEWER" percentages of the last size, for tools/bench */

static GOptionEntry entries[] = {
  { "phases", 0, 0, G_OPTION_ARG_STRING, &opt_phases, "Comma list: setup,g2g,cpu (default all)", "LIST" },
  { "runs", 0, 0, G_OPTION_ARG_INT, &opt_runs, "Warm setup runs (default 12)", "N" },
  { "cold-runs", 0, 0, G_OPTION_ARG_INT, &opt_cold_runs, "Cold processes per cold figure (default 3)", "N" },
  { "transitions", 0, 0, G_OPTION_ARG_INT, &opt_transitions, "Black->white transitions per g2g figure (default 12)", "N" },
  { "cpu-seconds", 0, 0, G_OPTION_ARG_INT, &opt_cpu_seconds, "CPU measuring window (default 10)", "S" },
  { "size", 0, 0, G_OPTION_ARG_STRING, &opt_size, "Video size for setup/g2g (default 640x480)", "WxH" },
  { "headless-sinks", 0, 0, G_OPTION_ARG_NONE, &opt_headless_sinks, "cpu: the engines' fakesinks instead of RGBA appsinks like the app", NULL },
  { "source", 0, 0, G_OPTION_ARG_STRING, &opt_source, "cpu: the caller's source, e.g. ball, smpte or file:PATH (default test)", "NAME" },
  { "cpu-out", 0, 0, G_OPTION_ARG_FILENAME, &opt_cpu_out, "cpu: write \"CALLER VIEWER\" (% of a core) of the last size here", "FILE" },
  { "latency", 0, 0, G_OPTION_ARG_INT, &opt_latency, "Engine latency for setup/cpu (default: the engine's)", "MS" },
  { "child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &opt_child, NULL, NULL },
  { "fd", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &opt_fd, NULL, NULL },
  { "warm-up", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &opt_warm_up, NULL, NULL },
  { NULL }
};

static gboolean
phase_enabled (const char *name)
{
  g_auto(GStrv) list = NULL;

  if (opt_phases == NULL)
    return TRUE;
  list = g_strsplit (opt_phases, ",", -1);
  return g_strv_contains ((const char * const *) list, name);
}

static void
parse_size (const char *text, int *w, int *h)
{
  if (text == NULL || sscanf (text, "%dx%d", w, h) != 2 || *w < 16 || *h < 16)
    {
      if (text)
        g_printerr ("bench-call: bad size “%s”, using 640x480\n", text);
      *w = 640;
      *h = 480;
    }
}

/* ---- helpers -------------------------------------------------------------- */

static gboolean
flag_true (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the default main context until cond holds or timeout_ms passed;
 * evaluates to cond. Some conditions change on streaming threads without
 * waking the context: a 5 ms tick re-checks them (timestamps are taken on
 * the streaming threads, so the tick never enters a figure). */
#define RUN_UNTIL(cond, timeout_ms) ({ \
  gboolean _to = FALSE; \
  guint _id = g_timeout_add (timeout_ms, flag_true, &_to); \
  guint _tick = g_timeout_add (5, tick, NULL); \
  while (!(cond) && !_to) \
    g_main_context_iteration (NULL, TRUE); \
  if (!_to) \
    g_source_remove (_id); \
  g_source_remove (_tick); \
  (cond); })

static void
spin (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, flag_true, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

typedef struct {
  guint  n;
  double median, min, max;
} Summary;

static Summary
summarize (GArray *values)
{
  Summary s = { 0 };

  s.n = values->len;
  if (s.n == 0)
    return s;
  g_array_sort (values, cmp_double);
  s.min = g_array_index (values, double, 0);
  s.max = g_array_index (values, double, s.n - 1);
  s.median = s.n % 2 ? g_array_index (values, double, s.n / 2)
                     : (g_array_index (values, double, s.n / 2 - 1) + g_array_index (values, double, s.n / 2)) / 2;
  return s;
}

static char *
loadavg (void)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) parts = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return g_strdup ("?");
  parts = g_strsplit (text, " ", 4);
  return g_strdup (parts[0] ? parts[0] : "?");
}

/* Luma-ish brightness (0…255) of the centre pixel, any raw format. */
static int
centre_brightness (GstCaps *caps, GstBuffer *buffer)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  const GstVideoFormatInfo *finfo;
  gpointer line;
  int x, value;

  if (caps == NULL || !gst_video_info_from_caps (&info, caps))
    return -1;
  if (!gst_video_frame_map (&frame, &info, buffer, GST_MAP_READ))
    return -1;
  finfo = info.finfo;
  x = GST_VIDEO_INFO_WIDTH (&info) / 2;
  line = g_malloc0 ((gsize) GST_VIDEO_INFO_WIDTH (&info) * 8 + 64);
  finfo->unpack_func (finfo, GST_VIDEO_PACK_FLAG_NONE, line, frame.data, frame.info.stride,
                      0, GST_VIDEO_INFO_HEIGHT (&info) / 2, GST_VIDEO_INFO_WIDTH (&info));
  /* AYUV / ARGB (8 bit) or AYUV64 / ARGB64 (16 bit): Y or R is component 1. */
  if (GST_VIDEO_FORMAT_INFO_BITS (finfo) > 8 ||
      finfo->unpack_format == GST_VIDEO_FORMAT_AYUV64 || finfo->unpack_format == GST_VIDEO_FORMAT_ARGB64)
    value = ((guint16 *) line)[x * 4 + 1] >> 8;
  else
    value = ((guint8 *) line)[x * 4 + 1];
  g_free (line);
  gst_video_frame_unmap (&frame);
  return value;
}

/* The app's display sink (peercam-video-paintable): videoconvert -> RGBA
 * appsink, max-buffers 1, drop, no clock sync. */
static GstElement *
display_sink_new (gboolean sync, GstAppSinkCallbacks *callbacks, gpointer data, GstElement **appsink_out)
{
  GstElement *bin = gst_bin_new (NULL);
  GstElement *convert = gst_element_factory_make ("videoconvert", NULL);
  GstElement *appsink = gst_element_factory_make ("appsink", NULL);
  g_autoptr(GstCaps) caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "RGBA", NULL);
  g_autoptr(GstPad) pad = NULL;

  g_object_set (appsink, "caps", caps, "max-buffers", 1, "drop", TRUE, "sync", sync,
                "enable-last-sample", FALSE, NULL);
  if (callbacks)
    gst_app_sink_set_callbacks (GST_APP_SINK (appsink), callbacks, data, NULL);
  gst_bin_add_many (GST_BIN (bin), convert, appsink, NULL);
  gst_element_link (convert, appsink);
  pad = gst_element_get_static_pad (convert, "sink");
  gst_element_add_pad (bin, gst_ghost_pad_new ("sink", pad));
  if (appsink_out)
    *appsink_out = appsink;
  return bin;
}

/* ---- in-process pair -------------------------------------------------------- */

typedef struct {
  PeercamCallEngine *caller;
  PeercamCallEngine *viewer;
  GstElement *appsink;
  GstElement *local_sink;

  /* setup */
  gint64 call_us;
  gint64 offer_us;
  gint64 connected_us;
  gint64 first_frame_signal_us;
  gint64 first_buffer_us;        /* atomic-ish: written on a streaming thread */
  volatile int got_first;
  guint errors;

  /* g2g */
  volatile int measuring;
  GMutex lock;
  GArray *white_pushed;          /* gint64 us, source side */
  GArray *white_seen;            /* gint64 us, viewer side */
  gboolean src_bright;
  gboolean sink_bright;
} Pair;

static void
caller_send_description (PeercamCallEngine *e, GstWebRTCSDPType type, const char *sdp, Pair *p)
{
  if (p->offer_us == 0)
    p->offer_us = g_get_monotonic_time ();
  peercam_call_engine_handle_description (p->viewer, NULL, type, sdp);
}

static void
viewer_send_description (PeercamCallEngine *e, GstWebRTCSDPType type, const char *sdp, Pair *p)
{
  peercam_call_engine_handle_description (p->caller, NULL, type, sdp);
}

static void
caller_send_candidate (PeercamCallEngine *e, guint mline, const char *mid, const char *candidate, Pair *p)
{
  peercam_call_engine_handle_candidate (p->viewer, NULL, (int) mline, mid, candidate);
}

static void
viewer_send_candidate (PeercamCallEngine *e, guint mline, const char *mid, const char *candidate, Pair *p)
{
  peercam_call_engine_handle_candidate (p->caller, NULL, (int) mline, mid, candidate);
}

static void
caller_send_bye (PeercamCallEngine *e, Pair *p)
{
  peercam_call_engine_handle_bye (p->viewer);
}

static void
viewer_first_frame (PeercamCallEngine *e, int w, int h, Pair *p)
{
  p->first_frame_signal_us = g_get_monotonic_time ();
}

static void
caller_state (GObject *object, GParamSpec *pspec, Pair *p)
{
  if (peercam_call_engine_get_state (p->caller) == PEERCAM_CALL_STATE_CONNECTED && p->connected_us == 0)
    p->connected_us = g_get_monotonic_time ();
}

static void
on_error (PeercamCallEngine *e, GError *error, Pair *p)
{
  p->errors++;
  g_printerr ("bench-call: %s error: %s\n",
              peercam_call_engine_get_role (e) == PEERCAM_CALL_ROLE_CALLER ? "caller" : "viewer",
              error->message);
}

static GstFlowReturn
viewer_new_sample (GstAppSink *appsink, gpointer data)
{
  Pair *p = data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample (appsink);
  gint64 now = g_get_monotonic_time ();

  if (sample == NULL)
    return GST_FLOW_OK;
  if (g_atomic_int_compare_and_exchange (&p->got_first, 0, 1))
    p->first_buffer_us = now;
  if (g_atomic_int_get (&p->measuring))
    {
      int value = centre_brightness (gst_sample_get_caps (sample), gst_sample_get_buffer (sample));
      gboolean bright = value > 160, dark = value >= 0 && value < 96;

      if (trace)
        g_printerr ("sink  %" G_GINT64_FORMAT " pts %" G_GUINT64_FORMAT " %d\n", now / 1000,
                    GST_BUFFER_PTS (gst_sample_get_buffer (sample)) / GST_MSECOND, value);

      g_mutex_lock (&p->lock);
      if (bright && !p->sink_bright)
        {
          p->sink_bright = TRUE;
          g_array_append_val (p->white_seen, now);
        }
      else if (dark)
        p->sink_bright = FALSE;
      g_mutex_unlock (&p->lock);
    }
  return GST_FLOW_OK;
}

static void
pair_init (Pair *p, int width, int height, gboolean sync_sink)
{
  GstAppSinkCallbacks callbacks = { .new_sample = viewer_new_sample };

  memset (p, 0, sizeof *p);
  g_mutex_init (&p->lock);
  p->white_pushed = g_array_new (FALSE, FALSE, sizeof (gint64));
  p->white_seen = g_array_new (FALSE, FALSE, sizeof (gint64));

  p->caller = peercam_call_engine_new (PEERCAM_CALL_ROLE_CALLER);
  peercam_call_engine_set_ice_addresses (p->caller, loopback);
  peercam_call_engine_set_video_size (p->caller, width, height, 30);
  peercam_call_engine_set_source (p->caller, "test");
  p->local_sink = gst_element_factory_make ("fakesink", "bench-local-sink");
  g_object_set (p->local_sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, NULL);
  peercam_call_engine_set_local_sink (p->caller, p->local_sink);
  g_signal_connect (p->caller, "send-description", G_CALLBACK (caller_send_description), p);
  g_signal_connect (p->caller, "send-candidate", G_CALLBACK (caller_send_candidate), p);
  g_signal_connect (p->caller, "send-bye", G_CALLBACK (caller_send_bye), p);
  g_signal_connect (p->caller, "notify::state", G_CALLBACK (caller_state), p);
  g_signal_connect (p->caller, "error", G_CALLBACK (on_error), p);

  p->viewer = peercam_call_engine_new (PEERCAM_CALL_ROLE_VIEWER);
  peercam_call_engine_set_ice_addresses (p->viewer, loopback);
  peercam_call_engine_set_remote_sink (p->viewer, display_sink_new (sync_sink, &callbacks, p, &p->appsink));
  g_signal_connect (p->viewer, "send-description", G_CALLBACK (viewer_send_description), p);
  g_signal_connect (p->viewer, "send-candidate", G_CALLBACK (viewer_send_candidate), p);
  g_signal_connect (p->viewer, "first-frame", G_CALLBACK (viewer_first_frame), p);
  g_signal_connect (p->viewer, "error", G_CALLBACK (on_error), p);
  if (opt_latency >= 0)
    {
      peercam_call_engine_set_latency (p->caller, opt_latency);
      peercam_call_engine_set_latency (p->viewer, opt_latency);
    }
}

static void
pair_clear (Pair *p)
{
  g_atomic_int_set (&p->measuring, 0);
  if (p->caller)
    peercam_call_engine_hang_up (p->caller);
  g_clear_object (&p->caller);
  g_clear_object (&p->viewer);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_pointer (&p->white_pushed, g_array_unref);
  g_clear_pointer (&p->white_seen, g_array_unref);
  g_mutex_clear (&p->lock);
}

static gboolean
pair_start_preview (Pair *p)
{
  g_autoptr(GError) error = NULL;

  if (!peercam_call_engine_start_local_video (p->caller, &error))
    {
      g_printerr ("bench-call: local video: %s\n", error->message);
      return FALSE;
    }
  return RUN_UNTIL (peercam_call_engine_get_local_frames (p->caller) > 3, 10000);
}

/* One call; returns call -> first decoded buffer at the viewer in ms, or -1. */
static double
pair_call (Pair *p, double *to_offer, double *to_connected, double *to_signal)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  g_atomic_int_set (&p->got_first, 0);
  p->first_buffer_us = p->first_frame_signal_us = p->offer_us = p->connected_us = 0;
  p->call_us = g_get_monotonic_time ();
  if (!peercam_call_engine_call (p->caller, &error))
    {
      g_printerr ("bench-call: call: %s\n", error->message);
      return -1;
    }
  ok = RUN_UNTIL (g_atomic_int_get (&p->got_first) && p->first_frame_signal_us != 0, 10000);
  if (!ok)
    return -1;
  if (to_offer)
    *to_offer = p->offer_us ? (p->offer_us - p->call_us) / 1000.0 : NAN;
  if (to_connected)
    *to_connected = p->connected_us ? (p->connected_us - p->call_us) / 1000.0 : NAN;
  if (to_signal)
    *to_signal = (p->first_frame_signal_us - p->call_us) / 1000.0;
  return (p->first_buffer_us - p->call_us) / 1000.0;
}

/* ---- children --------------------------------------------------------------- */

/* cold: one fresh process, one call; prints "setup_ms" (and the signal's). */
static int
child_cold (void)
{
  Pair p;
  double ms, sig;
  int w, h;

  parse_size (opt_size, &w, &h);
  if (opt_warm_up)
    {
      peercam_call_engine_warm_up ();
      spin (2000);  /* the app warms up at start-up, long before Call */
    }
  pair_init (&p, w, h, FALSE);
  if (!pair_start_preview (&p))
    return 1;
  ms = pair_call (&p, NULL, NULL, &sig);
  g_print ("%.1f %.1f\n", ms, sig);
  pair_clear (&p);
  return ms < 0;
}

/* caller|viewer: one engine, glued to the other process over --fd. */
typedef struct {
  PeercamCallEngine *engine;
  GOutputStream *out;
  GDataInputStream *in;
  GMainLoop *loop;
  gboolean viewer;
} Child;

static void
child_send (Child *c, const char *kind, JsonNode *data)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kind);
  if (data)
    {
      json_builder_set_member_name (b, "data");
      json_builder_add_value (b, json_node_copy (data));
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  text = json_to_string (root, FALSE);
  line = g_strconcat (text, "\n", NULL);
  g_output_stream_write_all (c->out, line, strlen (line), NULL, NULL, NULL);
}

/* The pipe between the bench's processes carries the values as JSON lines. */
static void
child_send_description (PeercamCallEngine *e, GstWebRTCSDPType type, const char *sdp, Child *c)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_int_member (object, "type", type);
  json_object_set_string_member (object, "sdp", sdp);
  json_node_set_object (node, object);
  child_send (c, "description", node);
}

static void
child_send_candidate (PeercamCallEngine *e, guint mline, const char *mid, const char *candidate, Child *c)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_int_member (object, "mline", mline);
  if (mid)
    json_object_set_string_member (object, "mid", mid);
  json_object_set_string_member (object, "candidate", candidate);
  json_node_set_object (node, object);
  child_send (c, "candidate", node);
}
static void child_send_bye (PeercamCallEngine *e, Child *c) { child_send (c, "bye", NULL); }

static void
child_first_frame (PeercamCallEngine *e, int w, int h, Child *c)
{
  g_print ("{\"event\":\"first-frame\",\"width\":%d,\"height\":%d}\n", w, h);
}

static void
child_stats (PeercamCallEngine *e, PeercamCallStats *stats, Child *c)
{
  g_autoptr(JsonObject) data = json_object_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;

  json_object_set_double_member (data, "fps", stats->fps);
  json_object_set_double_member (data, "kbps", stats->kbps);
  json_object_set_int_member (data, "width", stats->width);
  json_object_set_int_member (data, "height", stats->height);
  json_object_set_double_member (data, "rtt_ms", stats->rtt_ms);
  json_node_set_object (node, data);
  text = json_to_string (node, FALSE);
  g_print ("{\"event\":\"stats\",\"data\":%s}\n", text);
}

static void
child_error (PeercamCallEngine *e, GError *error, Child *c)
{
  g_printerr ("bench-call child: %s\n", error->message);
}

static void child_read (Child *c);

static void
child_line (GObject *source, GAsyncResult *result, gpointer data)
{
  Child *c = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish (c->in, result, NULL, &error);
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;
  const char *kind;

  if (line == NULL)
    {
      g_main_loop_quit (c->loop);
      return;
    }
  root = json_from_string (line, NULL);
  if (root && JSON_NODE_HOLDS_OBJECT (root))
    {
      object = json_node_get_object (root);
      kind = json_object_get_string_member_with_default (object, "kind", "");
      JsonObject *data = json_object_has_member (object, "data")
                         ? json_object_get_object_member (object, "data") : NULL;

      if (g_str_equal (kind, "description") && data)
        peercam_call_engine_handle_description (c->engine, NULL,
                                                json_object_get_int_member (data, "type"),
                                                json_object_get_string_member (data, "sdp"));
      else if (g_str_equal (kind, "candidate") && data)
        peercam_call_engine_handle_candidate (c->engine, NULL,
                                              json_object_get_int_member (data, "mline"),
                                              json_object_get_string_member_with_default (data, "mid", NULL),
                                              json_object_get_string_member (data, "candidate"));
      else if (g_str_equal (kind, "bye"))
        peercam_call_engine_handle_bye (c->engine);
      else if (g_str_equal (kind, "ready") && !c->viewer)
        {
          g_autoptr(GError) err = NULL;

          if (!peercam_call_engine_call (c->engine, &err))
            {
              g_printerr ("bench-call child: call: %s\n", err->message);
              g_main_loop_quit (c->loop);
            }
        }
    }
  child_read (c);
}

static void
child_read (Child *c)
{
  g_data_input_stream_read_line_async (c->in, G_PRIORITY_DEFAULT, NULL, child_line, c);
}

static gboolean
child_quit (gpointer data)
{
  g_main_loop_quit (((Child *) data)->loop);
  return G_SOURCE_REMOVE;
}

static int
child_engine (void)
{
  Child c = { 0 };
  g_autoptr(GInputStream) raw_in = NULL;
  int w, h;

  parse_size (opt_size, &w, &h);
  c.viewer = g_str_equal (opt_child, "viewer");
  c.loop = g_main_loop_new (NULL, FALSE);
  c.out = g_unix_output_stream_new (opt_fd, FALSE);
  raw_in = g_unix_input_stream_new (opt_fd, FALSE);
  c.in = g_data_input_stream_new (raw_in);

  c.engine = peercam_call_engine_new (c.viewer ? PEERCAM_CALL_ROLE_VIEWER : PEERCAM_CALL_ROLE_CALLER);
  peercam_call_engine_set_ice_addresses (c.engine, loopback);
  if (opt_latency >= 0)
    peercam_call_engine_set_latency (c.engine, opt_latency);
  if (c.viewer)
    {
      if (!opt_headless_sinks)
        peercam_call_engine_set_remote_sink (c.engine, display_sink_new (FALSE, NULL, NULL, NULL));
    }
  else
    {
      g_autoptr(GError) error = NULL;

      peercam_call_engine_set_video_size (c.engine, w, h, 30);
      if (opt_source)
        peercam_call_engine_set_source (c.engine, opt_source);
      if (!opt_headless_sinks)
        peercam_call_engine_set_local_sink (c.engine, display_sink_new (FALSE, NULL, NULL, NULL));
      if (!peercam_call_engine_start_local_video (c.engine, &error))
        {
          g_printerr ("bench-call child: %s\n", error->message);
          return 1;
        }
    }
  g_signal_connect (c.engine, "send-description", G_CALLBACK (child_send_description), &c);
  g_signal_connect (c.engine, "send-candidate", G_CALLBACK (child_send_candidate), &c);
  g_signal_connect (c.engine, "send-bye", G_CALLBACK (child_send_bye), &c);
  g_signal_connect (c.engine, "first-frame", G_CALLBACK (child_first_frame), &c);
  g_signal_connect (c.engine, "stats", G_CALLBACK (child_stats), &c);
  g_signal_connect (c.engine, "error", G_CALLBACK (child_error), &c);

  g_unix_signal_add (SIGTERM, child_quit, &c);
  g_unix_signal_add (SIGINT, child_quit, &c);
  g_timeout_add_seconds (120, child_quit, &c);  /* never outlive a lost parent */
  child_read (&c);
  if (c.viewer)
    child_send (&c, "ready", NULL);
  g_print ("{\"event\":\"started\"}\n");
  g_main_loop_run (c.loop);

  peercam_call_engine_hang_up (c.engine);
  g_clear_object (&c.engine);
  g_clear_object (&c.in);
  g_clear_object (&c.out);
  g_main_loop_unref (c.loop);
  return 0;
}

/* ---- parent: child processes -------------------------------------------------- */

static char *self_exe;

typedef struct {
  GSubprocess *proc;
  GDataInputStream *out;
  gboolean first_frame;
  double fps;
  guint stats;
  gboolean done;
} Proc;

static void proc_read (Proc *p);

static void
proc_line (GObject *source, GAsyncResult *result, gpointer data)
{
  Proc *p = data;
  g_autofree char *line = g_data_input_stream_read_line_finish (p->out, result, NULL, NULL);
  g_autoptr(JsonNode) root = NULL;

  if (line == NULL)
    {
      p->done = TRUE;
      return;
    }
  root = json_from_string (line, NULL);
  if (root && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *o = json_node_get_object (root);
      const char *event = json_object_get_string_member_with_default (o, "event", "");

      if (g_str_equal (event, "first-frame"))
        p->first_frame = TRUE;
      else if (g_str_equal (event, "stats") && json_object_has_member (o, "data"))
        {
          p->fps = json_object_get_double_member_with_default (json_object_get_object_member (o, "data"), "fps", 0);
          p->stats++;
        }
    }
  proc_read (p);
}

static void
proc_read (Proc *p)
{
  g_data_input_stream_read_line_async (p->out, G_PRIORITY_DEFAULT, NULL, proc_line, p);
}

static gboolean
proc_spawn (Proc *p, int fd, char **argv)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GError) error = NULL;

  memset (p, 0, sizeof *p);
  if (fd >= 0)
    g_subprocess_launcher_take_fd (launcher, fd, 3);
  p->proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv, &error);
  if (p->proc == NULL)
    {
      g_printerr ("bench-call: spawn: %s\n", error->message);
      return FALSE;
    }
  p->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p->proc));
  proc_read (p);
  return TRUE;
}

static void
proc_stop (Proc *p)
{
  if (p->proc == NULL)
    return;
  g_subprocess_send_signal (p->proc, SIGTERM);
  if (!RUN_UNTIL (p->done && g_subprocess_get_identifier (p->proc) == NULL, 5000))
    g_subprocess_force_exit (p->proc);
  g_subprocess_wait (p->proc, NULL, NULL);
  g_clear_object (&p->out);
  g_clear_object (&p->proc);
}

/* utime+stime of a process in seconds. */
static double
proc_cpu_seconds (GSubprocess *proc)
{
  const char *id = g_subprocess_get_identifier (proc);
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  const char *rest;
  unsigned long utime = 0, stime = 0;

  if (id == NULL)
    return NAN;
  path = g_strdup_printf ("/proc/%s/stat", id);
  if (!g_file_get_contents (path, &text, NULL, NULL) || !(rest = strrchr (text, ')')))
    return NAN;
  /* After "pid (comm)": state is field 3, utime 14, stime 15. */
  if (sscanf (rest + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
    return NAN;
  return (double) (utime + stime) / sysconf (_SC_CLK_TCK);
}

/* ---- phases -------------------------------------------------------------------- */

static GString *report;

static void
row (const char *figure, const char *value, const char *detail, const char *target, const char *verdict)
{
  g_string_append_printf (report, "%-33s %-10s %-38s %-10s %s\n", figure, value,
                          detail ? detail : "", target ? target : "", verdict ? verdict : "");
}

static void
phase_setup (int w, int h)
{
  GArray *cold = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *cold_sig = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *first = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *warm = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *warm_sig = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *warm_offer = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *warm_conn = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *size = g_strdup_printf ("%dx%d", w, h);
  g_autofree char *lat = g_strdup_printf ("--latency=%d", opt_latency);
  char value[64], detail[128], target[32];
  Summary s;
  Pair p;

  /* Fresh processes: really cold, and the first call after warm_up(). */
  for (int warmed = 0; warmed < 2; warmed++)
    for (int i = 0; i < opt_cold_runs; i++)
      {
        const char *argv[] = { self_exe, "--child", "cold", "--size", size, lat,
                               warmed ? "--warm-up" : NULL, NULL };
        g_autofree char *out = NULL;
        double ms = -1, sig = -1;

        if (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, NULL, NULL) &&
            out && sscanf (out, "%lf %lf", &ms, &sig) == 2 && ms >= 0)
          {
            g_array_append_val (warmed ? first : cold, ms);
            if (!warmed)
              g_array_append_val (cold_sig, sig);
          }
        else
          g_printerr ("bench-call: a cold run failed\n");
      }

  /* In-process warm calls. */
  peercam_call_engine_warm_up ();
  spin (2000);
  pair_init (&p, w, h, FALSE);
  if (pair_start_preview (&p) && pair_call (&p, NULL, NULL, NULL) >= 0)  /* discarded */
    {
      for (int i = 0; i < opt_runs; i++)
        {
          double offer, conn, sig, ms;

          peercam_call_engine_hang_up (p.caller);
          spin (300);
          ms = pair_call (&p, &offer, &conn, &sig);
          if (ms < 0)
            {
              g_printerr ("bench-call: warm call %d timed out\n", i);
              continue;
            }
          g_array_append_val (warm, ms);
          g_array_append_val (warm_sig, sig);
          g_array_append_val (warm_offer, offer);
          g_array_append_val (warm_conn, conn);
        }
    }
  pair_clear (&p);

  s = summarize (warm);
  g_snprintf (value, sizeof value, "%.0f ms", s.median);
  g_snprintf (detail, sizeof detail, "(min %.0f, max %.0f)", s.min, s.max);
  g_snprintf (target, sizeof target, "<=100 ms");
  {
    g_autofree char *figure = g_strdup_printf ("setup warm %s (median of %u)", size, s.n);
    row (figure, value, detail, target, s.n == 0 ? "FAIL" : s.median <= 100 ? "ok" : "MISS");
  }
  s = summarize (warm_offer);
  {
    Summary c = summarize (warm_conn), f = summarize (warm_sig);

    g_snprintf (detail, sizeof detail, "offer %.0f, ICE+DTLS up %.0f", s.median, c.median);
    g_snprintf (value, sizeof value, "%.0f ms", f.median);
    row ("  first-frame signal / phases", value, detail, NULL, NULL);
  }
  s = summarize (cold);
  g_snprintf (value, sizeof value, "%.0f ms", s.median);
  g_snprintf (detail, sizeof detail, "(min %.0f, max %.0f, %u procs)", s.min, s.max, s.n);
  row ("setup cold (no warm-up)", value, detail, NULL, NULL);
  s = summarize (first);
  g_snprintf (value, sizeof value, "%.0f ms", s.median);
  g_snprintf (detail, sizeof detail, "(min %.0f, max %.0f, %u procs)", s.min, s.max, s.n);
  row ("setup 1st call after warm_up()", value, detail, NULL, NULL);

  g_array_unref (cold);
  g_array_unref (cold_sig);
  g_array_unref (first);
  g_array_unref (warm);
  g_array_unref (warm_sig);
  g_array_unref (warm_offer);
  g_array_unref (warm_conn);
}

/* Source side: stamp the first bright frame leaving the test source. */
static GstPadProbeReturn
source_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Pair *p = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  gint64 now = g_get_monotonic_time ();
  g_autoptr(GstCaps) caps = NULL;
  int value;

  if (!g_atomic_int_get (&p->measuring))
    return GST_PAD_PROBE_OK;
  caps = gst_pad_get_current_caps (pad);
  value = centre_brightness (caps, buffer);
  if (trace)
    g_printerr ("src   %" G_GINT64_FORMAT " pts %" G_GUINT64_FORMAT " %d\n", now / 1000,
                GST_BUFFER_PTS (buffer) / GST_MSECOND, value);
  g_mutex_lock (&p->lock);
  if (value > 160 && !p->src_bright)
    {
      p->src_bright = TRUE;
      g_array_append_val (p->white_pushed, now);
    }
  else if (value >= 0 && value < 96)
    p->src_bright = FALSE;
  g_mutex_unlock (&p->lock);
  return GST_PAD_PROBE_OK;
}

static GstElement *
find_test_source (Pair *p)
{
  g_autoptr(GstObject) pipeline = gst_object_get_parent (GST_OBJECT (p->local_sink));
  g_autoptr(GstIterator) it = NULL;
  GValue item = G_VALUE_INIT;
  GstElement *found = NULL;

  if (pipeline == NULL || !GST_IS_BIN (pipeline))
    return NULL;
  it = gst_bin_iterate_sources (GST_BIN (pipeline));
  while (found == NULL && gst_iterator_next (it, &item) == GST_ITERATOR_OK)
    {
      GstElement *e = g_value_get_object (&item);

      if (g_object_class_find_property (G_OBJECT_GET_CLASS (e), "pattern"))
        found = gst_object_ref (e);
      g_value_reset (&item);
    }
  g_value_unset (&item);
  return found;
}

/* BENCH_CALL_TRACE=1: when each stage along the way lets a buffer go. */
static GstPadProbeReturn
stage_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstBuffer *buffer;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    {
      GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);

      if (gst_buffer_list_length (list) == 0)
        return GST_PAD_PROBE_OK;
      buffer = gst_buffer_list_get (list, gst_buffer_list_length (list) - 1);
    }
  else
    buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  g_printerr ("%-5s %" G_GINT64_FORMAT " pts %" G_GUINT64_FORMAT " %s%s\n", (const char *) data,
              g_get_monotonic_time () / 1000,
              GST_BUFFER_PTS_IS_VALID (buffer) ? GST_BUFFER_PTS (buffer) / GST_MSECOND : 0,
              GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_MARKER) ? "M" : "",
              GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT) ? "" : " key");
  return GST_PAD_PROBE_OK;
}

static void
trace_stages (GstElement *element)
{
  static const struct { const char *factory, *pad, *label; } stages[] = {
    { "queue", "src", "queue" }, { "vp8enc", "src", "enc" }, { "rtpvp8pay", "src", "pay" },
    { "rtpjitterbuffer", "sink", "jbin" }, { "rtpjitterbuffer", "src", "jbuf" },
    { "nicesink", "sink", "nice" }, { "nicesrc", "src", "nsrc" }, { "rtpvp8depay", "sink", "depin" },
    { "rtpvp8depay", "src", "depay" }, { "vp8dec", "src", "dec" },
  };
  g_autoptr(GstObject) pipeline = gst_object_ref (GST_OBJECT (element));
  g_autoptr(GstIterator) it = NULL;
  GValue item = G_VALUE_INIT;

  for (GstObject *up; (up = gst_object_get_parent (pipeline)); )
    {
      gst_object_unref (pipeline);
      pipeline = up;
    }
  if (!GST_IS_BIN (pipeline))
    return;
  it = gst_bin_iterate_recurse (GST_BIN (pipeline));
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK)
    {
      GstElement *e = g_value_get_object (&item);
      GstElementFactory *f = gst_element_get_factory (e);

      if (g_getenv ("BENCH_CALL_TRACE_ALL") && f)
        {
          GList *pads = NULL;

          GST_OBJECT_LOCK (e);
          for (GList *l = e->srcpads; l; l = l->next)
            pads = g_list_prepend (pads, gst_object_ref (l->data));
          GST_OBJECT_UNLOCK (e);
          for (GList *l = pads; l; l = l->next)
            gst_pad_add_probe (l->data, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                               stage_probe, g_strdup_printf ("%s.%s", GST_OBJECT_NAME (e),
                                                             GST_OBJECT_NAME (l->data)), g_free);
          g_list_free_full (pads, gst_object_unref);
        }
      for (guint i = 0; f && i < G_N_ELEMENTS (stages); i++)
        if (g_str_equal (GST_OBJECT_NAME (f), stages[i].factory))
          {
            g_autoptr(GstPad) pad = gst_element_get_static_pad (e, stages[i].pad);

            if (pad)
              gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, stage_probe,
                                 (gpointer) stages[i].label, NULL);
          }
      g_value_reset (&item);
    }
  g_value_unset (&item);
}

static void
phase_g2g_one (int w, int h, guint latency, gboolean sync, const char *label, gboolean with_target)
{
  Pair p;
  g_autoptr(GstElement) source = NULL;
  g_autoptr(GstPad) pad = NULL;
  GArray *lat = g_array_new (FALSE, FALSE, sizeof (double));
  char value[64], detail[128];
  guint lost = 0;
  guint64 frames0 = 0;
  gint64 t0 = 0;
  double fps = 0;
  Summary s;

  pair_init (&p, w, h, sync);
  peercam_call_engine_set_latency (p.caller, latency);
  peercam_call_engine_set_latency (p.viewer, latency);
  if (!pair_start_preview (&p) || !(source = find_test_source (&p)))
    {
      g_printerr ("bench-call: no test source in the caller pipeline\n");
      goto out;
    }
  pad = gst_element_get_static_pad (source, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, source_probe, &p, NULL);
  gst_util_set_object_arg (G_OBJECT (source), "pattern", "black");
  if (pair_call (&p, NULL, NULL, NULL) < 0)
    goto out;
  spin (1000);   /* steady state */
  if (trace)
    {
      trace_stages (p.local_sink);
      trace_stages (p.appsink);
      g_autoptr(GstObject) pipeline = gst_object_get_parent (GST_OBJECT (p.local_sink));
      g_autoptr(GstIterator) it = gst_bin_iterate_recurse (GST_BIN (pipeline));
      GValue item = G_VALUE_INIT;
      GstClockTime min = 0, max = 0;
      g_autoptr(GstQuery) q = gst_query_new_latency ();

      while (gst_iterator_next (it, &item) == GST_ITERATOR_OK)
        {
          GstElement *e = g_value_get_object (&item);

          if (GST_IS_BASE_SINK (e) && gst_base_sink_get_sync (GST_BASE_SINK (e)))
            g_printerr ("syncing sink in caller: %s (%s)\n", GST_OBJECT_NAME (e),
                        G_OBJECT_TYPE_NAME (e));
          g_value_reset (&item);
        }
      g_value_unset (&item);
      if (gst_element_query (GST_ELEMENT (pipeline), q))
        {
          gst_query_parse_latency (q, NULL, &min, &max);
          g_printerr ("caller pipeline latency: min %" GST_TIME_FORMAT "\n", GST_TIME_ARGS (min));
        }
    }

  frames0 = peercam_call_engine_get_remote_frames (p.viewer);
  t0 = g_get_monotonic_time ();
  g_atomic_int_set (&p.measuring, 1);
  spin (200);
  for (int i = 0; i < opt_transitions; i++)
    {
      gst_util_set_object_arg (G_OBJECT (source), "pattern", "white");
      spin (300);
      gst_util_set_object_arg (G_OBJECT (source), "pattern", "black");
      spin (300);
    }
  spin (300);
  g_atomic_int_set (&p.measuring, 0);
  fps = (peercam_call_engine_get_remote_frames (p.viewer) - frames0) / ((g_get_monotonic_time () - t0) / 1e6);

  g_mutex_lock (&p.lock);
  /* Pair each pushed edge with the first seen edge after it (and before the next push). */
  for (guint i = 0, j = 0; i < p.white_pushed->len; i++)
    {
      gint64 pushed = g_array_index (p.white_pushed, gint64, i);
      gint64 next = i + 1 < p.white_pushed->len ? g_array_index (p.white_pushed, gint64, i + 1) : G_MAXINT64;

      while (j < p.white_seen->len && g_array_index (p.white_seen, gint64, j) < pushed)
        j++;
      if (j < p.white_seen->len && g_array_index (p.white_seen, gint64, j) < next)
        {
          double ms = (g_array_index (p.white_seen, gint64, j) - pushed) / 1000.0;

          g_array_append_val (lat, ms);
          j++;
        }
      else
        lost++;
    }
  g_mutex_unlock (&p.lock);

out:
  s = summarize (lat);
  g_snprintf (value, sizeof value, s.n ? "%.1f ms" : "n/a", s.median);
  g_snprintf (detail, sizeof detail, "(min %.1f, max %.1f, n %u%s, %.0f fps)", s.min, s.max, s.n,
              lost ? ", some lost" : "", fps);
  row (label, value, detail, with_target ? "<=50 ms" : NULL,
       with_target ? (s.n == 0 ? "FAIL" : s.median <= 50 ? "ok" : "MISS") : NULL);
  g_array_unref (lat);
  pair_clear (&p);
}

static void
phase_g2g (int w, int h)
{
  /* --latency N: only that latency (display sink), e.g. to bisect. */
  if (opt_latency >= 0)
    {
      g_autofree char *l = g_strdup_printf ("g2g %dx%d lat=%d display sink", w, h, opt_latency);

      phase_g2g_one (w, h, opt_latency, FALSE, l, FALSE);
      return;
    }
  for (int sync = 0; sync < 2; sync++)
    for (int i = 0; i < 2; i++)
      {
        guint latency = i == 0 ? 30 : 0;
        g_autofree char *l = g_strdup_printf ("g2g %dx%d lat=%u%s %s", w, h, latency,
                                              latency ? "" : " ", sync ? "syncing sink" : "display sink");

        phase_g2g_one (w, h, latency, sync, l, latency == 30);
      }
}

static void
phase_cpu_one (int w, int h)
{
  int sv[2];
  Proc caller, viewer;
  g_autofree char *size = g_strdup_printf ("%dx%d", w, h);
  g_autofree char *lat = g_strdup_printf ("--latency=%d", opt_latency);
  g_autofree char *src = g_strdup_printf ("--source=%s", opt_source ? opt_source : "test");
  char *cargv[] = { self_exe, "--child", "caller", "--fd", "3", "--size", size, lat, src,
                    opt_headless_sinks ? "--headless-sinks" : NULL, NULL };
  char *vargv[] = { self_exe, "--child", "viewer", "--fd", "3", "--size", size, lat,
                    opt_headless_sinks ? "--headless-sinks" : NULL, NULL };
  double c0, v0, c1, v1, cpct, vpct;
  gint64 t0, t1;
  char value[64], detail[160], figure[64];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return;
  if (!proc_spawn (&caller, sv[0], cargv) || !proc_spawn (&viewer, sv[1], vargv))
    return;
  if (!RUN_UNTIL (viewer.first_frame, 20000))
    {
      g_printerr ("bench-call: cpu %s: no first frame\n", size);
      goto out;
    }
  spin (3000);   /* past start-up and the first keyframes */
  t0 = g_get_monotonic_time ();
  c0 = proc_cpu_seconds (caller.proc);
  v0 = proc_cpu_seconds (viewer.proc);
  spin (opt_cpu_seconds * 1000);
  t1 = g_get_monotonic_time ();
  c1 = proc_cpu_seconds (caller.proc);
  v1 = proc_cpu_seconds (viewer.proc);
  cpct = 100.0 * (c1 - c0) / ((t1 - t0) / 1e6);
  vpct = 100.0 * (v1 - v0) / ((t1 - t0) / 1e6);

  if (opt_cpu_out != NULL)
    {
      g_autofree char *line = g_strdup_printf ("%.1f %.1f\n", cpct, vpct);

      g_file_set_contents (opt_cpu_out, line, -1, NULL);
    }
  g_snprintf (figure, sizeof figure, "cpu %s caller / viewer", size);
  g_snprintf (value, sizeof value, "%.0f%% / %.0f%%", cpct, vpct);
  g_snprintf (detail, sizeof detail, "(fps %.0f / %.0f, %ds window)", caller.fps, viewer.fps, opt_cpu_seconds);
  row (figure, value, detail, NULL, NULL);
  g_snprintf (figure, sizeof figure, "cpu %s caller+viewer", size);
  g_snprintf (value, sizeof value, "%.0f%%", cpct + vpct);
  if (w == 1280 && h == 720)
    row (figure, value, "(of one core)", "<=40%", cpct + vpct <= 40 ? "ok" : "MISS");
  else
    row (figure, value, "(of one core)", NULL, NULL);

out:
  proc_stop (&caller);
  proc_stop (&viewer);
}

static void
phase_cpu (void)
{
  /* A file plays at its own size (the Y4M of tools/bench call: 720p). */
  if (opt_source != NULL && g_str_has_prefix (opt_source, "file:"))
    {
      phase_cpu_one (1280, 720);
      return;
    }
  phase_cpu_one (640, 480);
  phase_cpu_one (1280, 720);
}

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("— Peercam call media benchmark");
  g_autoptr(GError) error = NULL;
  g_autofree char *load0 = NULL;
  g_autofree char *load1 = NULL;
  int w, h;

  /* First, before GStreamer's options are parsed (that initialises it). */
  peercam_init (&argc, &argv);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-call: %s\n", error->message);
      return 2;
    }
  trace = g_getenv ("BENCH_CALL_TRACE") != NULL;
  self_exe = g_file_read_link ("/proc/self/exe", NULL);
  if (self_exe == NULL)
    self_exe = g_strdup (argv[0]);

  if (opt_child)
    {
      if (g_str_equal (opt_child, "cold"))
        return child_cold ();
      if ((g_str_equal (opt_child, "caller") || g_str_equal (opt_child, "viewer")) && opt_fd >= 0)
        return child_engine ();
      g_printerr ("bench-call: bad --child\n");
      return 2;
    }

  parse_size (opt_size, &w, &h);
  report = g_string_new (NULL);
  load0 = loadavg ();
  if (phase_enabled ("setup"))
    phase_setup (w, h);
  if (phase_enabled ("g2g"))
    phase_g2g (w, h);
  if (phase_enabled ("cpu"))
    phase_cpu ();
  load1 = loadavg ();

  g_print ("\nPeercam call bench (%ld cores, load %s -> %s, VP8, loopback ICE, %s)\n",
           sysconf (_SC_NPROCESSORS_ONLN), load0, load1, gst_version_string ());
  g_print ("%s", report->str);
  g_string_free (report, TRUE);
  return 0;
}
