/* peercam-call-engine.c — one WebRTC call: the caller's or viewer's state
 * machine and the demo's JSON, over the media pieces
 *
 *   caller: PeercamLocalMedia (source, tee, preview) + per call an encoder
 *           branch and a PeercamPeerConnection in the same pipeline;
 *   viewer: per call a pipeline with a PeercamPeerConnection and a
 *           PeercamRemoteMedia (decoding into the remote sink).
 *
 * Threading: the pieces hop their streaming-thread callbacks to the main
 * context themselves and say nothing once closed, so everything here runs on
 * the engine's main context.
 *
 * A caller has one call per viewer (issue 15): a peer connection and a
 * sender each, all fed from the one local media; they start and end
 * independently, and the engine's state is the furthest of them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "peercam-call-engine"

#include "config.h"

#include "peercam-call-engine.h"
#include "peercam-sdp.h"
#include "peercam-local-media.h"
#include "peercam-peer-connection.h"
#include "peercam-remote-media.h"
#include "peercam-sender.h"
#include "peercam-congestion.h"
#include "peercam-video-encoder.h"

#include <string.h>

#include <glib/gi18n.h>

#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#define GST_USE_UNSTABLE_API 1
#include <gst/webrtc/webrtc.h>

#define STATS_INTERVAL_S 2
#define DISCONNECT_GRACE_S 4
/* A connected viewer that sees no video for this long says "poor
 * connection" but keeps the call: seconds of loss on a live path must not
 * end it (issue 11). The call ends when the caller says so in RTCP (BYE,
 * sent by its webrtcbin's teardown) or ICE fails or closes. */
#define POOR_AFTER_MS     3000
/* How long an ended call's webrtcbin stays for its RTCP BYE to leave. */
#define RETIRE_MS         100
#define MEDIA_CHECK_MS    250

/* Bounds on what a peer (or a hostile server) may make us hold or build.
 * Browsers send candidates of ~100–250 bytes, a dozen or two per call, and
 * offers of 2–4 m-lines in ~6 KB. Unbounded, 2 000 candidates of 400 KB
 * before an offer took a viewer to 828 MB, 1 000 unbundled m-lines made
 * 3 000 threads, and an offer per millisecond kept a core busy. */
#define MAX_CANDIDATE_BYTES   1024
#define MAX_PENDING           64    /* candidates held until the offer/answer */
#define MAX_CANDIDATES_CALL   256   /* remote candidates added to one call */
#define MAX_SDP_BYTES         (256 * 1024)
#define MAX_MLINES            8
/* New calls from offers: a burst of OFFER_BURST, then one per
 * OFFER_INTERVAL_MS; offers in between are coalesced to the newest. */
#define OFFER_BURST           4
#define OFFER_INTERVAL_MS     200

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

typedef struct {
  guint  mline;
  char  *mid;
  char  *candidate;
} PendingCandidate;

/* One call: a caller has one per viewer, a viewer one with its caller.
 * The viewer's id is NULL for the peer the demo's protocol addresses
 * implicitly (a viewer's caller; the one viewer of a caller on a relay that
 * names nobody); such a peer is reported on the engine's plain signals,
 * one with an id on the viewer-* signals (issue 15). */
typedef struct {
  PeercamCallEngine     *engine;          /* unowned: it owns this */
  char                  *viewer;
  PeercamCallState       state;
  PeercamPeerConnection *pc;
  PeercamSender         *sender;          /* caller: this viewer's encoders */
  guint                  ice_timeout_id;
  guint                  disconnect_id;
  guint                  stats_id;
  guint64                last_bytes;
  gint64                 last_stats_us;
  guint64                last_frames;
  int                    frame_width;
  int                    frame_height;
} Peer;

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

  /* caller: the preview; its pipeline (self->pipeline, a reference while
   * it runs) also holds the calls' elements */
  PeercamLocalMedia *local;

  GPtrArray        *peers;           /* Peer: the calls in progress (a viewer: at most one) */
  GPtrArray        *retiring;        /* caller: ended calls' connections, sending RTCP BYE */
  guint             retire_id;
  PeercamCongestion *congestion;     /* viewer: adaptive jitter buffer, merged PLIs */
  PeercamRemoteMedia *remote;        /* viewer: the call's decoding */
  guint64           remote_frames_done;
  GQueue            pending;         /* viewer: PendingCandidate, before the call they belong to */
  gboolean          pending_full_reported;
  char             *deferred_offer;  /* the newest offer waiting for the rate limit */
  guint             deferred_offer_id;
  double            offer_tokens;
  gint64            offer_tokens_us;
  guint             media_check_id;
  guint64           media_frames;    /* frames at the last media check */
  gint64            media_seen_us;   /* when frames last grew */
  gboolean          poor_connection;
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
  PROP_POOR_CONNECTION,
  N_PROPS
};

enum {
  SIGNAL_SEND_DESCRIPTION,
  SIGNAL_SEND_CANDIDATE,
  SIGNAL_SEND_BYE,
  SIGNAL_FIRST_FRAME,
  SIGNAL_STATS,
  SIGNAL_ERROR,
  SIGNAL_VIEWER_DESCRIPTION,
  SIGNAL_VIEWER_CANDIDATE,
  SIGNAL_VIEWER_BYE,
  SIGNAL_VIEWER_STATS,
  SIGNAL_VIEWER_ERROR,
  SIGNAL_VIEWER_STATE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void call_teardown (PeercamCallEngine *self);
static void end_peer (Peer *p, PeercamCallState state);
static void set_poor_connection (PeercamCallEngine *self, gboolean poor);

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

static gboolean
state_is_active (PeercamCallState state)
{
  return state == PEERCAM_CALL_STATE_CALLING || state == PEERCAM_CALL_STATE_CONNECTING ||
         state == PEERCAM_CALL_STATE_CONNECTED;
}

/* The engine's state: the furthest call in progress (connected before
 * connecting before calling), or @otherwise when none is. With one viewer
 * it is that call's state, as before there were several. */
static void
update_state (PeercamCallEngine *self,
              PeercamCallState   otherwise)
{
  PeercamCallState best = otherwise;
  gboolean active = FALSE;

  for (guint i = 0; i < self->peers->len; i++)
    {
      Peer *p = g_ptr_array_index (self->peers, i);

      if (!state_is_active (p->state))
        continue;
      if (!active || p->state > best)
        best = p->state;
      active = TRUE;
    }
  set_state (self, best);
}

static void
set_peer_state (Peer             *p,
                PeercamCallState  state)
{
  PeercamCallEngine *self = p->engine;

  if (p->state != state)
    {
      p->state = state;
      if (p->viewer)
        g_signal_emit (self, signals[SIGNAL_VIEWER_STATE], 0, p->viewer, state);
    }
  update_state (self, state_is_active (state) ? self->state : state);
}

static Peer *
find_peer (PeercamCallEngine *self,
           const char        *viewer)
{
  for (guint i = 0; i < self->peers->len; i++)
    {
      Peer *p = g_ptr_array_index (self->peers, i);

      if (g_strcmp0 (p->viewer, viewer) == 0)
        return p;
    }
  return NULL;
}

/* A viewer's one call, if any. */
static Peer *
viewer_peer (PeercamCallEngine *self)
{
  return self->peers->len > 0 ? g_ptr_array_index (self->peers, 0) : NULL;
}

#define emit_error(self, ...) peercam_call_error_emit ((self), signals[SIGNAL_ERROR], __VA_ARGS__)

/* An error about one viewer's call: on ::viewer-error when it has an id. */
static void
peer_signal_error (Peer   *p,
                   GError *error)
{
  if (p->viewer)
    g_signal_emit (p->engine, signals[SIGNAL_VIEWER_ERROR], 0, p->viewer, error);
  else
    g_signal_emit (p->engine, signals[SIGNAL_ERROR], 0, error);
}

static void
peer_error (Peer             *p,
            PeercamCallError  code,
            const char       *format,
            ...) G_GNUC_PRINTF (3, 4);

static void
peer_error (Peer             *p,
            PeercamCallError  code,
            const char       *format,
            ...)
{
  g_autoptr(GError) error = NULL;
  va_list args;

  va_start (args, format);
  error = g_error_new_valist (PEERCAM_CALL_ERROR, code, format, args);
  va_end (args);
  g_debug ("error (%s): %s", p->viewer ? p->viewer : "-", error->message);
  peer_signal_error (p, error);
}

/* The state a caller returns to when a call ends: its preview keeps running. */
static PeercamCallState
idle_state (PeercamCallEngine *self)
{
  if (self->role == PEERCAM_CALL_ROLE_CALLER && peercam_local_media_is_running (self->local))
    return PEERCAM_CALL_STATE_PREVIEW;
  return self->role == PEERCAM_CALL_ROLE_CALLER ? PEERCAM_CALL_STATE_IDLE
                                                : PEERCAM_CALL_STATE_ENDED;
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

        /* A message posted by a branch torn down meanwhile is stale. */
        if (self->pipeline == NULL ||
            !gst_object_has_as_ancestor (GST_MESSAGE_SRC (message), GST_OBJECT (self->pipeline)))
          break;
        gst_message_parse_error (message, &error, &debug);
        g_debug ("bus error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (message),
                 error->message, debug ? debug : "");
        emit_error (self, PEERCAM_CALL_ERROR_PIPELINE, "%s", error->message);
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

static void destroy_retired (PeercamCallEngine *self);

static void
pipeline_destroy (PeercamCallEngine *self)
{
  destroy_retired (self);
  if (self->bus_source)
    {
      g_source_destroy (self->bus_source);
      g_clear_pointer (&self->bus_source, g_source_unref);
    }
  if (self->pipeline)
    {
      peercam_peer_connection_quiesce_bin (GST_BIN (self->pipeline));
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      g_clear_object (&self->pipeline);
    }
}

/* ---- frame counting ----------------------------------------------------- */

/* This call's frames: into the caller's encoder, at the viewer's sink. */
static guint64
call_frames (Peer *p)
{
  PeercamCallEngine *self = p->engine;

  if (self->role == PEERCAM_CALL_ROLE_VIEWER)
    return self->remote ? peercam_remote_media_get_frames (self->remote) : 0;
  return p->sender ? peercam_sender_get_frames (p->sender) : 0;
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

static gboolean
in_retiring (PeercamCallEngine *self,
             GstObject         *object)
{
  for (guint i = 0; self->retiring && i < self->retiring->len; i++)
    {
      GstElement *webrtc = peercam_peer_connection_get_webrtcbin (self->retiring->pdata[i]);

      if (webrtc && gst_object_has_as_ancestor (object, GST_OBJECT (webrtc)))
        return TRUE;
    }
  return FALSE;
}

/* An error anywhere in the caller's pipeline: a call's webrtcbin fails
 * that call, anything else (source, preview, encoder) the local video. */
static void
on_local_bus_error (PeercamLocalMedia *local,
                    GstObject         *source,
                    GError            *error,
                    PeercamCallEngine *self)
{
  if (in_retiring (self, source))
    return;
  for (guint i = 0; i < self->peers->len; i++)
    {
      Peer *p = g_ptr_array_index (self->peers, i);

      if (gst_object_has_as_ancestor (source, GST_OBJECT (peercam_peer_connection_get_webrtcbin (p->pc))))
        {
          peer_error (p, PEERCAM_CALL_ERROR_PIPELINE, "%s", error->message);
          end_peer (p, PEERCAM_CALL_STATE_FAILED);
          return;
        }
    }
  emit_error (self, PEERCAM_CALL_ERROR_PIPELINE, "%s", error->message);
  peercam_call_engine_stop_local_video (self);
  set_state (self, PEERCAM_CALL_STATE_FAILED);
}

gboolean
peercam_call_engine_start_local_video (PeercamCallEngine  *self,
                                       GError            **error)
{
  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), FALSE);

  if (self->role != PEERCAM_CALL_ROLE_CALLER)
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_WRONG_STATE,
                           _("Only a caller sends local video"));
      return FALSE;
    }
  if (peercam_local_media_is_running (self->local))
    return TRUE;

  peercam_local_media_set_source (self->local, self->source);
  peercam_local_media_set_source_device (self->local, self->source_device);
  peercam_local_media_set_video_size (self->local, self->width, self->height, self->framerate);
  peercam_local_media_set_preview_sink (self->local, self->local_sink);
  if (!peercam_local_media_start (self->local, error))
    return FALSE;
  self->pipeline = g_object_ref (peercam_local_media_get_pipeline (self->local));
  g_signal_connect (self->pipeline, "deep-element-added", G_CALLBACK (on_caller_element), NULL);
  set_state (self, PEERCAM_CALL_STATE_PREVIEW);
  return TRUE;
}

void
peercam_call_engine_stop_local_video (PeercamCallEngine *self)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));

  if (self->role != PEERCAM_CALL_ROLE_CALLER)
    return;

  call_teardown (self);
  destroy_retired (self);
  if (self->pipeline)
    g_signal_handlers_disconnect_by_func (self->pipeline, on_caller_element, NULL);
  g_clear_object (&self->pipeline);
  peercam_local_media_stop (self->local);
  set_state (self, PEERCAM_CALL_STATE_IDLE);
}

/* ---- timers ------------------------------------------------------------- */

static guint
attach_timeout (PeercamCallEngine *self,
                guint              ms,
                GSourceFunc        func,
                gpointer           data)
{
  GSource *source = g_timeout_source_new (ms);
  guint id;

  g_source_set_callback (source, func, data, NULL);
  id = g_source_attach (source, self->context);
  g_source_unref (source);
  return id;
}

static gboolean
ice_timeout_cb (gpointer user_data)
{
  Peer *p = user_data;

  p->ice_timeout_id = 0;
  peer_error (p, PEERCAM_CALL_ERROR_ICE_TIMEOUT,
              _("No connection to the peer within %u s"), p->engine->ice_timeout);
  end_peer (p, PEERCAM_CALL_STATE_FAILED);
  return G_SOURCE_REMOVE;
}

static gboolean
disconnect_grace_cb (gpointer user_data)
{
  Peer *p = user_data;

  p->disconnect_id = 0;
  peer_error (p, PEERCAM_CALL_ERROR_ICE_FAILED, _("The connection to the peer was lost"));
  end_peer (p, idle_state (p->engine));
  return G_SOURCE_REMOVE;
}

static void
start_ice_timer (Peer *p)
{
  g_clear_handle_id (&p->ice_timeout_id, g_source_remove);
  if (p->engine->ice_timeout == 0)
    return;
  p->ice_timeout_id = attach_timeout (p->engine, p->engine->ice_timeout * 1000, ice_timeout_cb, p);
}

/* ---- stats -------------------------------------------------------------- */

static void
on_pc_stats (PeercamPeerConnection *pc,
             PeercamPeerStats      *stats,
             Peer                  *p)
{
  PeercamCallEngine *self = p->engine;
  PeercamCallStats out = { 0, };
  gint64 now = g_get_monotonic_time ();
  double seconds = p->last_stats_us ? (now - p->last_stats_us) / 1e6 : STATS_INTERVAL_S;
  guint64 frames = call_frames (p);
  guint64 bytes = stats->bytes_sent + stats->bytes_received;
  double fps = seconds > 0 ? (frames - p->last_frames) / seconds : 0;
  double kbps = seconds > 0 && bytes >= p->last_bytes
                ? (bytes - p->last_bytes) * 8.0 / 1000.0 / seconds : 0;

  p->last_stats_us = now;
  p->last_frames = frames;
  p->last_bytes = bytes;

  out.fps = fps;
  out.kbps = kbps;
  out.width = p->frame_width;
  out.height = p->frame_height;
  out.rtt_ms = stats->rtt_ms;
  /* Congestion control (issue 11): estimate, send format, loss, … */
  if (p->sender)
    peercam_sender_fill_stats (p->sender, &out);
  if (self->congestion)
    peercam_congestion_fill_stats (self->congestion, &out);
  out.playout_ms = -1;
  out.max_gap_ms = -1;
  if (!p->sender && self->remote)
    {
      out.playout_ms = peercam_remote_media_get_playout_delay (self->remote);
      out.max_gap_ms = peercam_remote_media_take_max_gap (self->remote) / 1000.0;
      out.frames_undecoded = (gint64) peercam_remote_media_get_undecoded_frames (self->remote);
    }
  out.frames = (gint64) frames;
  if (p->viewer)
    g_signal_emit (self, signals[SIGNAL_VIEWER_STATS], 0, p->viewer, &out);
  else
    g_signal_emit (self, signals[SIGNAL_STATS], 0, &out);
}

static gboolean
stats_tick (gpointer user_data)
{
  Peer *p = user_data;
  PeercamCallEngine *self = p->engine;

  if (p->frame_width == 0 && self->role == PEERCAM_CALL_ROLE_CALLER)
    peercam_local_media_get_frame_size (self->local, &p->frame_width, &p->frame_height);
  /* A viewer reports the size it decodes now: the sender's congestion
   * control changes it mid-call. */
  if (self->role == PEERCAM_CALL_ROLE_VIEWER && self->remote)
    peercam_remote_media_get_frame_size (self->remote, &p->frame_width, &p->frame_height);
  peercam_peer_connection_request_stats (p->pc);
  return G_SOURCE_CONTINUE;
}

/* ---- connection state --------------------------------------------------- */

static void
set_poor_connection (PeercamCallEngine *self,
                     gboolean           poor)
{
  if (self->poor_connection == poor)
    return;
  g_debug ("poor connection: %d", poor);
  self->poor_connection = poor;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POOR_CONNECTION]);
}

/* Viewer, while connected: is video still arriving? */
static gboolean
media_check_tick (gpointer user_data)
{
  PeercamCallEngine *self = user_data;
  Peer *p = viewer_peer (self);
  guint64 frames;
  gint64 now = g_get_monotonic_time ();

  if (p == NULL)
    {
      self->media_check_id = 0;
      return G_SOURCE_REMOVE;
    }
  frames = call_frames (p);
  if (frames != self->media_frames || self->media_seen_us == 0)
    {
      self->media_frames = frames;
      self->media_seen_us = now;
    }
  set_poor_connection (self, p->disconnect_id != 0 ||
                             now - self->media_seen_us >= POOR_AFTER_MS * 1000);
  return G_SOURCE_CONTINUE;
}

static void
force_key_unit (Peer *p)
{
  if (p->sender)
    peercam_sender_request_keyframe (p->sender);
}

static void
on_pc_ice_state (PeercamPeerConnection *pc,
                 GParamSpec            *pspec,
                 Peer                  *p)
{
  PeercamCallEngine *self = p->engine;

  switch (peercam_peer_connection_get_ice_connection_state (pc))
    {
    case GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED:
    case GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED:
      g_clear_handle_id (&p->ice_timeout_id, g_source_remove);
      g_clear_handle_id (&p->disconnect_id, g_source_remove);
      if (p->state == PEERCAM_CALL_STATE_CONNECTED)
        break;
      set_peer_state (p, PEERCAM_CALL_STATE_CONNECTED);
      if (self->pipeline)
        gst_bin_recalculate_latency (GST_BIN (self->pipeline));
      /* The first keyframe was encoded before DTLS was up and is lost. */
      force_key_unit (p);
      if (p->stats_id == 0)
        p->stats_id = attach_timeout (self, STATS_INTERVAL_S * 1000, stats_tick, p);
      if (self->role == PEERCAM_CALL_ROLE_VIEWER && self->media_check_id == 0)
        {
          self->media_seen_us = 0;
          self->media_check_id = attach_timeout (self, MEDIA_CHECK_MS, media_check_tick, self);
        }
      break;

    case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED:
      peer_error (p, PEERCAM_CALL_ERROR_ICE_FAILED, _("The connection to the peer failed"));
      end_peer (p, p->state == PEERCAM_CALL_STATE_CONNECTED ? idle_state (self)
                                                            : PEERCAM_CALL_STATE_FAILED);
      break;

    case GST_WEBRTC_ICE_CONNECTION_STATE_DISCONNECTED:
      /* Often transient: give it a moment to come back. */
      if (p->disconnect_id == 0)
        p->disconnect_id = attach_timeout (self, DISCONNECT_GRACE_S * 1000, disconnect_grace_cb, p);
      if (self->role == PEERCAM_CALL_ROLE_VIEWER && p->state == PEERCAM_CALL_STATE_CONNECTED)
        set_poor_connection (self, TRUE);
      break;

    case GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED:
      end_peer (p, idle_state (self));
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
on_pc_connection_state (PeercamPeerConnection *pc,
                        GParamSpec            *pspec,
                        Peer                  *p)
{
  if (peercam_peer_connection_get_connection_state (pc) == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
    force_key_unit (p);
}

/* The caller's RTCP BYE ends the viewer's call at once, even when no "bye"
 * comes through signaling (the demo's relay never sends one). */
static void
on_pc_remote_bye (PeercamPeerConnection *pc,
                  Peer                  *p)
{
  if (p->engine->role == PEERCAM_CALL_ROLE_VIEWER)
    end_peer (p, PEERCAM_CALL_STATE_ENDED);
}

static void
on_pc_error (PeercamPeerConnection *pc,
             GError                *error,
             Peer                  *p)
{
  peer_signal_error (p, error);
  /* A refused or unmade description ends the call; a refused candidate
   * does not. */
  if (g_error_matches (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_NEGOTIATION))
    end_peer (p, p->engine->role == PEERCAM_CALL_ROLE_CALLER ? PEERCAM_CALL_STATE_FAILED
                                                             : PEERCAM_CALL_STATE_ENDED);
}

/* ---- what goes to the peer -------------------------------------------- */

static void
on_pc_local_candidate (PeercamPeerConnection *pc,
                       guint                  mline,
                       const char            *candidate,
                       Peer                  *p)
{
  const char *mid = peercam_peer_connection_get_local_mid (pc, mline);

  if (p->viewer)
    g_signal_emit (p->engine, signals[SIGNAL_VIEWER_CANDIDATE], 0, p->viewer, mline, mid, candidate);
  else
    g_signal_emit (p->engine, signals[SIGNAL_SEND_CANDIDATE], 0, mline, mid, candidate);
}

static void
send_description (Peer                        *p,
                  GstWebRTCSessionDescription *desc)
{
  g_autofree char *text = gst_sdp_message_as_text (desc->sdp);

  if (p->viewer)
    g_signal_emit (p->engine, signals[SIGNAL_VIEWER_DESCRIPTION], 0, p->viewer, desc->type, text);
  else
    g_signal_emit (p->engine, signals[SIGNAL_SEND_DESCRIPTION], 0, desc->type, text);
}

static void
on_pc_local_description (PeercamPeerConnection       *pc,
                         GstWebRTCSessionDescription *desc,
                         Peer                        *p)
{
  if (desc->type == GST_WEBRTC_SDP_TYPE_OFFER)
    {
      set_peer_state (p, PEERCAM_CALL_STATE_CALLING);
      send_description (p, desc);
    }
  else
    {
      send_description (p, desc);
      set_peer_state (p, PEERCAM_CALL_STATE_CONNECTING);
      start_ice_timer (p);
    }
}

static void
on_pc_remote_description_set (PeercamPeerConnection *pc,
                              Peer                  *p)
{
  /* A viewer's answer follows as a local description. */
  if (p->engine->role == PEERCAM_CALL_ROLE_CALLER)
    {
      set_peer_state (p, PEERCAM_CALL_STATE_CONNECTING);
      start_ice_timer (p);
    }
}

/* ---- remote candidates -------------------------------------------------- */

static void
pending_candidate_free (gpointer data)
{
  PendingCandidate *c = data;

  g_free (c->mid);
  g_free (c->candidate);
  g_free (c);
}

static void
give_candidate (Peer       *p,
                guint       mline,
                const char *mid,
                const char *candidate)
{
  g_autoptr(GError) error = NULL;

  if (!peercam_peer_connection_add_remote_candidate (p->pc, mline, mid, candidate, &error))
    peer_signal_error (p, error);
}

/* Candidates that came before the call they belong to: the new call gets
 * them (it holds them until the remote description is set). */
static void
flush_pending_candidates (PeercamCallEngine *self)
{
  Peer *p = viewer_peer (self);
  PendingCandidate *c;

  while ((c = g_queue_pop_head (&self->pending)))
    {
      if (p && p->pc)
        give_candidate (p, c->mline, c->mid, c->candidate);
      pending_candidate_free (c);
    }
  self->pending_full_reported = FALSE;
}

/* A viewer's candidate for a caller: its call with that viewer (none left
 * means the call ended meanwhile: late candidates are normal then). A
 * viewer's: its call, or held for the offer to come. */

/**
 * peercam_call_engine_handle_candidate:
 * @viewer: (nullable): who sent it (a caller's viewer); ignored by a viewer
 * @mline: the m-line index, -1 when only @mid names it
 * @mid: (nullable): the m-line's id
 * @candidate: "candidate:…" (no "a="); "" ends the candidates
 */
void
peercam_call_engine_handle_candidate (PeercamCallEngine *self,
                                      const char        *viewer,
                                      int                mline,
                                      const char        *mid,
                                      const char        *candidate)
{
  g_autoptr(GError) error = NULL;
  PendingCandidate *c;
  Peer *p;

  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));

  p = self->role == PEERCAM_CALL_ROLE_CALLER ? find_peer (self, viewer) : viewer_peer (self);

  /* An empty candidate is a browser's end-of-candidates marker. */
  if (candidate && *candidate == '\0')
    return;
  if (!peercam_peer_connection_check_candidate (candidate, &error))
    {
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
      return;
    }
  if ((mline < 0 || mline > 255) && mid == NULL)
    {
      emit_error (self, PEERCAM_CALL_ERROR_INVALID_CANDIDATE,
                  _("The peer sent an ICE candidate without a media line"));
      return;
    }
  if (mid && strlen (mid) > 64)
    {
      emit_error (self, PEERCAM_CALL_ERROR_INVALID_CANDIDATE,
                  _("The peer sent an ICE candidate with an invalid media id"));
      return;
    }

  if (p && p->pc && self->deferred_offer == NULL)
    {
      give_candidate (p, mline < 0 ? 0 : (guint) mline, mid, candidate);
      return;
    }
  if (self->role == PEERCAM_CALL_ROLE_CALLER)
    {
      g_debug ("candidate from %s, in no call: dropped", viewer ? viewer : "the viewer");
      return;
    }
  if (self->pending.length >= MAX_PENDING)
    {
      /* Once per episode: a flood must not become a flood of errors. */
      if (!self->pending_full_reported)
        emit_error (self, PEERCAM_CALL_ERROR_INVALID_CANDIDATE,
                    _("The peer sent more than %u ICE candidates before its session description; ignoring the rest"),
                    MAX_PENDING);
      self->pending_full_reported = TRUE;
      return;
    }
  c = g_new0 (PendingCandidate, 1);
  c->mline = mline < 0 ? 0 : (guint) mline;
  c->mid = g_strdup (mid);
  c->candidate = g_strdup (candidate);
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
  if (strlen (text) > MAX_SDP_BYTES)
    {
      g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_INVALID_SIGNAL,
                   _("The peer sent a session description larger than %u KB"), MAX_SDP_BYTES / 1024);
      return NULL;
    }
  if (gst_sdp_message_new_from_text (text, &sdp) != GST_SDP_OK ||
      gst_sdp_message_medias_len (sdp) == 0)
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_INVALID_SIGNAL,
                           _("The peer sent a session description without media"));
      return NULL;
    }
  if (gst_sdp_message_medias_len (sdp) > MAX_MLINES)
    {
      g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_INVALID_SIGNAL,
                   _("The peer’s session description has %u media lines, more than the %u Peercam takes"),
                   gst_sdp_message_medias_len (sdp), MAX_MLINES);
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

static void
set_remote_description (Peer             *p,
                        GstWebRTCSDPType  type,
                        GstSDPMessage    *sdp)
{
  GstWebRTCSessionDescription *desc;
  GstSDPMessage *copy = NULL;

  gst_sdp_message_copy (sdp, &copy);
  desc = gst_webrtc_session_description_new (type, copy);  /* takes the copy */
  peercam_peer_connection_set_remote_description (p->pc, desc);
  gst_webrtc_session_description_free (desc);
}

static Peer *
peer_new (PeercamCallEngine *self,
          const char        *viewer)
{
  Peer *p = g_new0 (Peer, 1);

  p->engine = self;
  p->viewer = g_strdup (viewer);
  p->state = self->role == PEERCAM_CALL_ROLE_CALLER ? PEERCAM_CALL_STATE_PREVIEW : PEERCAM_CALL_STATE_IDLE;
  g_ptr_array_add (self->peers, p);
  return p;
}

static gboolean
peer_connection_new (Peer        *p,
                     GstElement  *pipeline,
                     GError     **error)
{
  PeercamCallEngine *self = p->engine;

  p->pc = peercam_peer_connection_new (GST_BIN (pipeline), self->latency,
                                       self->stun_server, self->turn_server,
                                       (const char * const *) self->ice_addresses,
                                       error);
  if (p->pc == NULL)
    return FALSE;
  g_signal_connect (p->pc, "local-description", G_CALLBACK (on_pc_local_description), p);
  g_signal_connect (p->pc, "local-candidate", G_CALLBACK (on_pc_local_candidate), p);
  g_signal_connect (p->pc, "remote-description-set", G_CALLBACK (on_pc_remote_description_set), p);
  g_signal_connect (p->pc, "remote-bye", G_CALLBACK (on_pc_remote_bye), p);
  g_signal_connect (p->pc, "stats", G_CALLBACK (on_pc_stats), p);
  g_signal_connect (p->pc, "error", G_CALLBACK (on_pc_error), p);
  g_signal_connect (p->pc, "notify::ice-connection-state", G_CALLBACK (on_pc_ice_state), p);
  g_signal_connect (p->pc, "notify::connection-state", G_CALLBACK (on_pc_connection_state), p);
  return TRUE;
}

/* Connections of ended calls, still sending their RTCP BYE. */
static void
destroy_retired (PeercamCallEngine *self)
{
  g_clear_handle_id (&self->retire_id, g_source_remove);
  for (guint i = 0; self->retiring && i < self->retiring->len; i++)
    peercam_peer_connection_finish_close (self->retiring->pdata[i]);
  g_clear_pointer (&self->retiring, g_ptr_array_unref);
}

static gboolean
retire_cb (gpointer user_data)
{
  PeercamCallEngine *self = user_data;

  self->retire_id = 0;
  destroy_retired (self);
  return G_SOURCE_REMOVE;
}

/* Ends one call's media and timers and forgets it; the others go on. */
static void
peer_free (Peer *p)
{
  PeercamCallEngine *self = p->engine;

  g_clear_handle_id (&p->ice_timeout_id, g_source_remove);
  g_clear_handle_id (&p->disconnect_id, g_source_remove);
  g_clear_handle_id (&p->stats_id, g_source_remove);

  if (p->pc)
    {
      gboolean lingers;

      g_signal_handlers_disconnect_by_data (p->pc, p);
      /* Downstream first, like a bin does: until DTLS is up webrtcbin holds
       * the encoder's thread in a blocking probe, and only its own shutdown
       * releases it; stopping the branch first would wait for that thread.
       * A connected one unlinks its senders and stays a moment for its
       * RTCP BYE to leave. */
      lingers = p->sender ? peercam_sender_stop (p->sender)
                          : peercam_peer_connection_close (p->pc);
      g_clear_object (&p->sender);
      if (lingers && self->role == PEERCAM_CALL_ROLE_CALLER)
        {
          if (self->retiring == NULL)
            self->retiring = g_ptr_array_new_with_free_func (g_object_unref);
          g_ptr_array_add (self->retiring, g_object_ref (p->pc));
          if (self->retire_id == 0)
            self->retire_id = attach_timeout (self, RETIRE_MS, retire_cb, self);
        }
      else
        peercam_peer_connection_finish_close (p->pc);
      g_clear_object (&p->pc);
    }
  g_free (p->viewer);
  g_free (p);
}

/* The viewer's side of its call: decoding, its pipeline, the checks. */
static void
viewer_teardown (PeercamCallEngine *self)
{
  g_queue_clear_full (&self->pending, pending_candidate_free);
  self->pending_full_reported = FALSE;
  g_clear_handle_id (&self->media_check_id, g_source_remove);
  set_poor_connection (self, FALSE);
  g_clear_object (&self->congestion);
  if (self->role != PEERCAM_CALL_ROLE_VIEWER)
    return;
  if (self->remote)
    {
      self->remote_frames_done += peercam_remote_media_get_frames (self->remote);
      g_signal_handlers_disconnect_by_data (self->remote, self);
      peercam_remote_media_close (self->remote);
    }
  pipeline_destroy (self);
  g_clear_object (&self->remote);
}

/* Ends the call @p in @state (a caller's other calls go on). */
static void
end_peer (Peer             *p,
          PeercamCallState  state)
{
  PeercamCallEngine *self = p->engine;

  if (p->viewer && p->state != state)
    g_signal_emit (self, signals[SIGNAL_VIEWER_STATE], 0, p->viewer, state);
  g_ptr_array_remove (self->peers, p);   /* frees it */
  if (self->role == PEERCAM_CALL_ROLE_VIEWER)
    viewer_teardown (self);
  update_state (self, state);
}

/* Every call, no state change. */
static void
call_teardown (PeercamCallEngine *self)
{
  g_ptr_array_set_size (self->peers, 0);
  viewer_teardown (self);
}

/* ---- caller ------------------------------------------------------------- */

/**
 * peercam_call_engine_call_viewer:
 * @viewer: (nullable): the viewer's id; NULL: the one viewer the demo's
 *   protocol addresses implicitly
 *
 * Offers a call to one viewer; calling a viewer again replaces its call.
 * Other viewers' calls go on.
 */
gboolean
peercam_call_engine_call_viewer (PeercamCallEngine  *self,
                                 const char         *viewer,
                                 GError            **error)
{
  Peer *p;

  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), FALSE);

  if (self->role != PEERCAM_CALL_ROLE_CALLER)
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_WRONG_STATE,
                           _("Only a caller places calls"));
      return FALSE;
    }
  if (!peercam_local_media_is_running (self->local) &&
      !peercam_call_engine_start_local_video (self, error))
    return FALSE;

  /* Calling again replaces the call. */
  if ((p = find_peer (self, viewer)))
    g_ptr_array_remove (self->peers, p);
  p = peer_new (self, viewer);

  if (!peer_connection_new (p, self->pipeline, error))
    goto fail;
  p->sender = peercam_sender_new (self->local, p->pc, self->codec,
                                  peercam_video_encoder_bitrate_kbps (self->width, self->height,
                                                                      self->framerate),
                                  self->send_audio,
                                  &(PeercamVideoFormat) { self->width, self->height, self->framerate },
                                  error);
  if (p->sender == NULL)
    goto fail;
  if (self->send_audio && !peercam_sender_get_sends_audio (p->sender))
    peer_error (p, PEERCAM_CALL_ERROR_SOURCE, _("No microphone found: calling with video only"));

  peercam_peer_connection_create_offer (p->pc);
  return TRUE;

fail:
  g_ptr_array_remove (self->peers, p);
  update_state (self, idle_state (self));
  return FALSE;
}

gboolean
peercam_call_engine_call (PeercamCallEngine  *self,
                          GError            **error)
{
  return peercam_call_engine_call_viewer (self, NULL, error);
}

/**
 * peercam_call_engine_end_viewer:
 * @say_bye: emit bye for it (a hang-up), or not (the viewer left)
 *
 * Ends one viewer's call; the others go on.
 */
void
peercam_call_engine_end_viewer (PeercamCallEngine *self,
                                const char        *viewer,
                                gboolean           say_bye)
{
  g_autofree char *id = g_strdup (viewer);
  Peer *p;

  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));

  if ((p = find_peer (self, viewer)) == NULL)
    return;
  end_peer (p, idle_state (self));
  if (!say_bye)
    return;
  if (id)
    g_signal_emit (self, signals[SIGNAL_VIEWER_BYE], 0, id);
  else
    g_signal_emit (self, signals[SIGNAL_SEND_BYE], 0);
}

/* Ends every call, saying bye to each viewer. */
void
peercam_call_engine_hang_up (PeercamCallEngine *self)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));

  while (self->peers->len > 0)
    {
      Peer *p = g_ptr_array_index (self->peers, self->peers->len - 1);
      g_autofree char *id = g_strdup (p->viewer);

      if (self->role == PEERCAM_CALL_ROLE_VIEWER)
        {
          end_peer (p, idle_state (self));
          g_signal_emit (self, signals[SIGNAL_SEND_BYE], 0);
        }
      else
        peercam_call_engine_end_viewer (self, id, TRUE);
    }
}

static void
handle_answer (PeercamCallEngine *self,
               Peer              *p,
               const char        *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GstSDPMessage) sdp = NULL;

  if (self->role != PEERCAM_CALL_ROLE_CALLER || p == NULL ||
      p->state != PEERCAM_CALL_STATE_CALLING)
    {
      if (p)
        peer_error (p, PEERCAM_CALL_ERROR_WRONG_STATE, _("Got an answer without having sent an offer"));
      else
        emit_error (self, PEERCAM_CALL_ERROR_WRONG_STATE, _("Got an answer without having sent an offer"));
      return;
    }
  if (!(sdp = parse_sdp (self, text, &error)))
    {
      peer_signal_error (p, error);
      return;
    }
  set_remote_description (p, GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
}

/* ---- viewer ------------------------------------------------------------- */

static void
on_remote_first_frame (PeercamRemoteMedia *remote,
                       int                 width,
                       int                 height,
                       PeercamCallEngine  *self)
{
  Peer *p = viewer_peer (self);

  if (p)
    {
      p->frame_width = width;
      p->frame_height = height;
    }
  g_signal_emit (self, signals[SIGNAL_FIRST_FRAME], 0, width, height);
}

/* The viewer's jitter buffer grows beyond the configured latency when
 * packets go missing (peercam-congestion): then frames play out on a
 * schedule with that much room, so one waiting for its retransmission
 * does not freeze the picture; back at the configured latency, each frame
 * shows when decoded again (issue 11). The latency is set on the main
 * context. */
static void
on_viewer_latency (GstElement        *webrtc,
                   GParamSpec        *pspec,
                   PeercamCallEngine *self)
{
  guint latency = 0;

  if (self->remote == NULL)
    return;
  g_object_get (webrtc, "latency", &latency, NULL);
  peercam_remote_media_set_playout_limit (self->remote, latency > self->latency ? latency : 0);
}

static GstSDPMessage *
parse_offer (PeercamCallEngine  *self,
             const char         *text,
             GError            **error)
{
  g_autoptr(GstSDPMessage) sdp = NULL;
  gboolean has_video = FALSE;

  if (!(sdp = parse_sdp (self, text, error)))
    return NULL;
  /* Only the BUNDLE tag's transport is used; webrtcbin wants them all alike. */
  peercam_sdp_normalize_bundle (sdp);
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++)
    if (g_str_equal (gst_sdp_media_get_media (gst_sdp_message_get_media (sdp, i)), "video"))
      has_video = TRUE;
  if (!has_video)
    {
      g_set_error_literal (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_INVALID_SIGNAL,
                           _("The peer offered no video"));
      return NULL;
    }
  return g_steal_pointer (&sdp);
}

/* A token bucket: OFFER_BURST offers at once, then one per OFFER_INTERVAL_MS. */
static gboolean
take_offer_token (PeercamCallEngine *self)
{
  gint64 now = g_get_monotonic_time ();

  if (self->offer_tokens_us == 0)
    self->offer_tokens = OFFER_BURST;
  else
    self->offer_tokens = MIN (OFFER_BURST, self->offer_tokens +
                              (now - self->offer_tokens_us) / (OFFER_INTERVAL_MS * 1000.0));
  self->offer_tokens_us = now;
  if (self->offer_tokens < 1)
    return FALSE;
  self->offer_tokens -= 1;
  return TRUE;
}

static void start_offered_call (PeercamCallEngine *self, GstSDPMessage *sdp);

static gboolean
deferred_offer_cb (gpointer user_data)
{
  PeercamCallEngine *self = user_data;
  g_autofree char *text = NULL;
  g_autoptr(GstSDPMessage) sdp = NULL;

  self->deferred_offer_id = 0;
  if (!take_offer_token (self))
    {
      self->deferred_offer_id = attach_timeout (self, OFFER_INTERVAL_MS / 4, deferred_offer_cb, self);
      return G_SOURCE_REMOVE;
    }
  text = g_steal_pointer (&self->deferred_offer);
  sdp = parse_offer (self, text, NULL);  /* checked when it came */
  if (sdp)
    start_offered_call (self, sdp);
  return G_SOURCE_REMOVE;
}

static void
clear_deferred_offer (PeercamCallEngine *self)
{
  g_clear_handle_id (&self->deferred_offer_id, g_source_remove);
  g_clear_pointer (&self->deferred_offer, g_free);
}

static void
handle_offer (PeercamCallEngine *self,
              const char        *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GstSDPMessage) sdp = NULL;

  if (self->role != PEERCAM_CALL_ROLE_VIEWER)
    {
      emit_error (self, PEERCAM_CALL_ERROR_WRONG_STATE, _("A caller does not take offers"));
      return;
    }
  if (!(sdp = parse_offer (self, text, &error)))
    {
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
      return;
    }

  /* Each offer replaces the call: a whole webrtcbin, its threads and
   * sockets. A peer renegotiating faster than that is coalesced to its
   * newest offer, and the candidates meanwhile wait for it. */
  if (self->deferred_offer || !take_offer_token (self))
    {
      g_free (self->deferred_offer);
      self->deferred_offer = g_strdup (text);
      if (self->deferred_offer_id == 0)
        self->deferred_offer_id = attach_timeout (self, OFFER_INTERVAL_MS, deferred_offer_cb, self);
      return;
    }
  start_offered_call (self, sdp);
}

static void
start_offered_call (PeercamCallEngine *self,
                    GstSDPMessage     *sdp)
{
  g_autoptr(GError) error = NULL;
  Peer *p;

  /* A new offer replaces the call, but keeps candidates that came first. */
  {
    GQueue pending = self->pending;

    g_queue_init (&self->pending);
    call_teardown (self);
    self->pending = pending;
  }

  p = peer_new (self, NULL);
  self->pipeline = gst_object_ref_sink (pipeline_new (self, "peercam-viewer"));
  if (!peer_connection_new (p, self->pipeline, &error))
    {
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
      end_peer (p, PEERCAM_CALL_STATE_FAILED);
      return;
    }
  /* Congestion control (issue 11): adaptive jitter buffer, merged PLIs. */
  self->congestion = peercam_congestion_new (self->context);
  peercam_congestion_attach_viewer (self->congestion, peercam_peer_connection_get_webrtcbin (p->pc),
                                    self->latency);
  self->remote = peercam_remote_media_new (GST_BIN (self->pipeline),
                                           peercam_peer_connection_get_webrtcbin (p->pc),
                                           self->remote_sink, self->play_audio);
  g_signal_connect (self->remote, "first-frame", G_CALLBACK (on_remote_first_frame), self);
  g_signal_connect_object (peercam_peer_connection_get_webrtcbin (p->pc), "notify::latency",
                           G_CALLBACK (on_viewer_latency), self, 0);

  /* One receive-only transceiver per offered m-line, in order, so webrtcbin
   * associates them instead of inventing send-receive ones. */
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++)
    {
      const GstSDPMedia *media = gst_sdp_message_get_media (sdp, i);

      peercam_peer_connection_add_recv_transceiver (p->pc, gst_sdp_media_get_media (media), media);
    }

  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      emit_error (self, PEERCAM_CALL_ERROR_PIPELINE, _("Could not start receiving video"));
      end_peer (p, PEERCAM_CALL_STATE_FAILED);
      return;
    }
  set_peer_state (p, PEERCAM_CALL_STATE_CONNECTING);
  flush_pending_candidates (self);
  set_remote_description (p, GST_WEBRTC_SDP_TYPE_OFFER, sdp);
}

void
peercam_call_engine_handle_bye (PeercamCallEngine *self)
{
  Peer *p;

  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));

  if (self->role == PEERCAM_CALL_ROLE_CALLER)
    {
      peercam_call_engine_end_viewer (self, NULL, FALSE);
      return;
    }
  g_queue_clear_full (&self->pending, pending_candidate_free);
  self->pending_full_reported = FALSE;
  clear_deferred_offer (self);
  if ((p = viewer_peer (self)) == NULL)
    return;
  end_peer (p, idle_state (self));
}

/**
 * peercam_call_engine_handle_description:
 * @viewer: (nullable): who sent it (a caller's viewer); ignored by a viewer
 * @type: an offer (to a viewer) or an answer (to a caller)
 * @sdp: the SDP text
 */
void
peercam_call_engine_handle_description (PeercamCallEngine *self,
                                        const char        *viewer,
                                        GstWebRTCSDPType   type,
                                        const char        *sdp)
{
  g_return_if_fail (PEERCAM_IS_CALL_ENGINE (self));

  if (type == GST_WEBRTC_SDP_TYPE_OFFER)
    handle_offer (self, sdp);
  else if (type == GST_WEBRTC_SDP_TYPE_ANSWER)
    handle_answer (self, find_peer (self, self->role == PEERCAM_CALL_ROLE_CALLER ? viewer : NULL), sdp);
  else
    emit_error (self, PEERCAM_CALL_ERROR_INVALID_SIGNAL,
                _("The peer sent a signal of unknown type “%s”"), gst_webrtc_sdp_type_to_string (type));
}

/* ---- warm-up ------------------------------------------------------------ */

/* The warm-up thread is joinable: exit() must not run OpenSSL's cleanup
 * while it still makes DTLS elements (a SIGSEGV in 8 of 20 early exits). */
static GMutex        warm_up_lock;
static gboolean      warm_up_stopping;
static GThread      *warm_up_thread_handle;
static GMainContext *warm_up_context;   /* the thread's, while it runs a call */

static gboolean
warm_up_stopped (void)
{
  gboolean stopping;

  g_mutex_lock (&warm_up_lock);
  stopping = warm_up_stopping;
  g_mutex_unlock (&warm_up_lock);
  return stopping;
}

/* A loopback call to ourselves, built from the same pieces as a real one. */
typedef struct {
  PeercamPeerConnection *pc[2];   /* [0] sends, [1] receives */
  gboolean               frame;
} WarmUp;

static void
warm_up_on_description (PeercamPeerConnection       *pc,
                        GstWebRTCSessionDescription *desc,
                        WarmUp                      *w)
{
  peercam_peer_connection_set_remote_description (pc == w->pc[0] ? w->pc[1] : w->pc[0], desc);
}

static void
warm_up_on_candidate (PeercamPeerConnection *pc,
                      guint                  mline,
                      const char            *candidate,
                      WarmUp                *w)
{
  peercam_peer_connection_add_remote_candidate (pc == w->pc[0] ? w->pc[1] : w->pc[0],
                                                mline, NULL, candidate, NULL);
}

static void
warm_up_on_first_frame (PeercamRemoteMedia *remote,
                        int                 width,
                        int                 height,
                        WarmUp             *w)
{
  w->frame = TRUE;
}

static gboolean
warm_up_deadline (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
warm_up_call (void)
{
  static const char * const loopback[] = { "127.0.0.1", NULL };
  g_autoptr(PeercamLocalMedia) local = peercam_local_media_new ();
  g_autoptr(PeercamRemoteMedia) remote = NULL;
  g_autoptr(GstElement) receiver = NULL;
  g_autoptr(PeercamSender) encoders = NULL;
  g_autoptr(GSource) deadline = NULL;
  WarmUp w = { { NULL, }, FALSE };
  gboolean timed_out = FALSE;
  GstElement *sender;
  gint64 started = g_get_monotonic_time ();

  /* The test pattern cheapest to draw, small: what is warmed up is the
   * code path, not the size. */
  peercam_local_media_set_source (local, "pinwheel");
  peercam_local_media_set_video_size (local, 320, 240, 30);
  if (!peercam_local_media_start (local, NULL))
    return;
  sender = peercam_local_media_get_pipeline (local);
  receiver = gst_object_ref_sink (gst_pipeline_new ("peercam-warm-up"));

  w.pc[0] = peercam_peer_connection_new (GST_BIN (sender), 0, NULL, NULL, loopback, NULL);
  w.pc[1] = peercam_peer_connection_new (GST_BIN (receiver), 0, NULL, NULL, loopback, NULL);
  if (w.pc[0] == NULL || w.pc[1] == NULL)
    goto out;
  for (guint i = 0; i < 2; i++)
    {
      g_signal_connect (w.pc[i], "local-description", G_CALLBACK (warm_up_on_description), &w);
      g_signal_connect (w.pc[i], "local-candidate", G_CALLBACK (warm_up_on_candidate), &w);
    }

  encoders = peercam_sender_new (local, w.pc[0], "vp8", peercam_video_encoder_bitrate_kbps (320, 240, 30),
                                 FALSE, &(PeercamVideoFormat) { 320, 240, 30 }, NULL);
  if (encoders == NULL)
    goto out;

  peercam_peer_connection_add_recv_transceiver (w.pc[1], "video", NULL);
  remote = peercam_remote_media_new (GST_BIN (receiver), peercam_peer_connection_get_webrtcbin (w.pc[1]),
                                     NULL, FALSE);
  g_signal_connect (remote, "first-frame", G_CALLBACK (warm_up_on_first_frame), &w);
  if (gst_element_set_state (receiver, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    goto out;

  peercam_peer_connection_create_offer (w.pc[0]);
  /* Bounded: with no loopback at all (or a broken plugin) give up. */
  deadline = g_timeout_source_new_seconds (5);
  g_source_set_callback (deadline, warm_up_deadline, &timed_out, NULL);
  g_source_attach (deadline, g_main_context_get_thread_default ());
  while (!w.frame && !timed_out && !warm_up_stopped ())
    g_main_context_iteration (g_main_context_get_thread_default (), TRUE);
  g_source_destroy (deadline);
  g_debug ("warm-up call: %s after %" G_GINT64_FORMAT " ms", w.frame ? "decoded a frame" : "gave up",
           (g_get_monotonic_time () - started) / 1000);

out:
  if (remote)
    peercam_remote_media_close (remote);
  if (encoders)
    peercam_sender_stop (encoders);
  for (guint i = 0; i < 2; i++)
    if (w.pc[i])
      {
        g_signal_handlers_disconnect_by_data (w.pc[i], &w);
        peercam_peer_connection_close (w.pc[i]);
        peercam_peer_connection_finish_close (w.pc[i]);
      }
  peercam_local_media_stop (local);
  peercam_peer_connection_quiesce_bin (GST_BIN (receiver));
  gst_element_set_state (receiver, GST_STATE_NULL);
  for (guint i = 0; i < 2; i++)
    g_clear_object (&w.pc[i]);
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
  GMainContext *context;

  /* Loading plugins is the first cost … */
  for (guint i = 0; i < G_N_ELEMENTS (factories); i++)
    {
      GstElement *element;

      if (warm_up_stopped ())
        return NULL;
      element = gst_element_factory_make (factories[i], NULL);
      if (element)
        gst_object_unref (gst_object_ref_sink (element));
    }

  /* … the DTLS certificate the second (generated once per process, for the
   * first DTLS transport), and the first run of the receive side (decodebin
   * plugging vp8dec, the jitter buffer, SRTP) the third: one short call to
   * ourselves, on 127.0.0.1 only, pays them all before the user's call. It
   * runs on this thread's own main context. */
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  g_mutex_lock (&warm_up_lock);
  warm_up_context = warm_up_stopping ? NULL : context;
  g_mutex_unlock (&warm_up_lock);
  if (!warm_up_stopped ())
    warm_up_call ();
  g_mutex_lock (&warm_up_lock);
  warm_up_context = NULL;
  g_mutex_unlock (&warm_up_lock);
  /* Hops of the closed call still queued here hold references. */
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

/* Once per process; a no-op after peercam_call_engine_warm_up_stop(). */
void
peercam_call_engine_warm_up (void)
{
  g_mutex_lock (&warm_up_lock);
  if (warm_up_thread_handle == NULL && !warm_up_stopping)
    warm_up_thread_handle = g_thread_new ("peercam-warm-up", warm_up_thread, NULL);
  g_mutex_unlock (&warm_up_lock);
}

/* Before the process exits: cuts the warm-up short and waits for its thread,
 * so no GStreamer/OpenSSL work runs during exit(). */
void
peercam_call_engine_warm_up_stop (void)
{
  GThread *thread;

  g_mutex_lock (&warm_up_lock);
  warm_up_stopping = TRUE;
  if (warm_up_context)
    g_main_context_wakeup (warm_up_context);
  thread = g_steal_pointer (&warm_up_thread_handle);
  g_mutex_unlock (&warm_up_lock);
  if (thread)
    g_thread_join (thread);
}

/* ---- GObject ------------------------------------------------------------ */

static void
peercam_call_engine_dispose (GObject *object)
{
  PeercamCallEngine *self = PEERCAM_CALL_ENGINE (object);

  clear_deferred_offer (self);
  call_teardown (self);
  if (self->role == PEERCAM_CALL_ROLE_CALLER)
    {
      destroy_retired (self);
      if (self->pipeline)
        g_signal_handlers_disconnect_by_func (self->pipeline, on_caller_element, NULL);
      g_clear_object (&self->pipeline);
    }
  if (self->local)
    {
      g_signal_handlers_disconnect_by_data (self->local, self);
      peercam_local_media_stop (self->local);
      g_clear_object (&self->local);
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
  g_free (self->codec);
  g_free (self->stun_server);
  g_free (self->turn_server);
  g_strfreev (self->ice_addresses);
  g_ptr_array_unref (self->peers);
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
    case PROP_POOR_CONNECTION: g_value_set_boolean (value, self->poor_connection); break;
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
  /* Viewer, connected: no video for a few seconds, or ICE disconnected; the
   * call goes on (a window says "Poor connection") until ICE or the caller
   * ends it. */
  properties[PROP_POOR_CONNECTION] =
    g_param_spec_boolean ("poor-connection", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_SEND_DESCRIPTION] =
    g_signal_new ("send-description", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, GST_TYPE_WEBRTC_SDP_TYPE, G_TYPE_STRING);
  signals[SIGNAL_SEND_CANDIDATE] =
    g_signal_new ("send-candidate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_SEND_BYE] =
    g_signal_new ("send-bye", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_FIRST_FRAME] =
    g_signal_new ("first-frame", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
  signals[SIGNAL_STATS] =
    g_signal_new ("stats", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, PEERCAM_TYPE_CALL_STATS | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
  /* The same, about the call with one viewer that has an id (issue 15). */
  signals[SIGNAL_VIEWER_DESCRIPTION] =
    g_signal_new ("viewer-description", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 3, G_TYPE_STRING, GST_TYPE_WEBRTC_SDP_TYPE, G_TYPE_STRING);
  signals[SIGNAL_VIEWER_CANDIDATE] =
    g_signal_new ("viewer-candidate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 4, G_TYPE_STRING, G_TYPE_UINT, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_VIEWER_BYE] =
    g_signal_new ("viewer-bye", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_VIEWER_STATS] =
    g_signal_new ("viewer-stats", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_STRING, PEERCAM_TYPE_CALL_STATS | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_VIEWER_ERROR] =
    g_signal_new ("viewer-error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_VIEWER_STATE] =
    g_signal_new ("viewer-state", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_STRING, PEERCAM_TYPE_CALL_STATE);
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
  self->peers = g_ptr_array_new_with_free_func ((GDestroyNotify) peer_free);
  self->local = peercam_local_media_new ();
  g_signal_connect (self->local, "bus-error", G_CALLBACK (on_local_bus_error), self);
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

  if (!peercam_local_media_is_running (self->local) ||
      peercam_local_media_get_device (self->local) != device)
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
  for (guint i = 0; i < self->peers->len; i++)
    peercam_peer_connection_set_latency (((Peer *) g_ptr_array_index (self->peers, i))->pc, latency_ms);
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

/* Viewer: TRUE while connected but no video came for a few seconds or ICE
 * is disconnected. */
PeercamCallState
peercam_call_engine_get_viewer_state (PeercamCallEngine *self,
                                      const char        *viewer)
{
  Peer *p;

  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), PEERCAM_CALL_STATE_IDLE);
  p = find_peer (self, viewer);
  return p ? p->state : idle_state (self);
}

/* Frames that went into this viewer's encoder. */
guint64
peercam_call_engine_get_viewer_frames (PeercamCallEngine *self,
                                       const char        *viewer)
{
  Peer *p;

  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), 0);
  p = find_peer (self, viewer);
  return p ? call_frames (p) : 0;
}

guint
peercam_call_engine_get_n_calls (PeercamCallEngine *self)
{
  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), 0);
  return self->peers->len;
}

gboolean
peercam_call_engine_get_poor_connection (PeercamCallEngine *self)
{
  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), FALSE);
  return self->poor_connection;
}

guint64
peercam_call_engine_get_local_frames (PeercamCallEngine *self)
{
  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), 0);
  return peercam_local_media_get_preview_frames (self->local);
}

guint64
peercam_call_engine_get_remote_frames (PeercamCallEngine *self)
{
  g_return_val_if_fail (PEERCAM_IS_CALL_ENGINE (self), 0);
  return self->remote_frames_done +
         (self->remote ? peercam_remote_media_get_frames (self->remote) : 0);
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
