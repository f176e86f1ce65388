/* peercam-peer-connection.c — one webrtcbin
 *
 * Threading: webrtcbin's signals, promise replies and property notifications
 * come on its threads. They never touch the object: they hop to its main
 * context through a refcounted PcLink holding a weak reference, and the hop
 * is dropped once the connection is closed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "peercam-peer-connection"

#include "config.h"

#include "peercam-peer-connection.h"
#include "peercam-congestion.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

#include <glib/gi18n.h>

#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <agent.h>

/* Bounds on what a peer may make us hold (see the call engine's notes):
 * browsers send candidates of ~100–250 bytes, a dozen or two per call. */
#define MAX_CANDIDATE_BYTES   1024
#define MAX_PENDING           64
#define MAX_CANDIDATES        256

G_DEFINE_BOXED_TYPE (PeercamPeerStats, peercam_peer_stats, peercam_peer_stats_copy, peercam_peer_stats_free)

PeercamPeerStats *
peercam_peer_stats_copy (const PeercamPeerStats *stats)
{
  return g_memdup2 (stats, sizeof *stats);
}

void
peercam_peer_stats_free (PeercamPeerStats *stats)
{
  g_free (stats);
}

typedef struct {
  gatomicrefcount  ref;
  GWeakRef         pc;
  GMainContext    *context;
  GMutex           lock;
  GHashTable      *promises;  /* (owned) the ones webrtcbin has not answered yet */
} PcLink;

typedef struct {
  guint  mline;
  char  *mid;
  char  *candidate;
} Candidate;

struct _PeercamPeerConnection
{
  GObject                       parent_instance;

  GMainContext                 *context;
  PcLink                       *link;
  GstBin                       *bin;
  GstElement                   *webrtc;
  gboolean                      closed;
  gint64                        closed_us;

  GstWebRTCICEConnectionState   ice_state;
  GstWebRTCPeerConnectionState  pc_state;
  GPtrArray                    *local_mids;
  GPtrArray                    *local_ufrags;
  GPtrArray                    *remote_mids;
  gboolean                      remote_set;
  gboolean                      remote_is_offer;
  GQueue                        pending;      /* Candidate */
  gboolean                      pending_full_reported;
  guint                         candidates;   /* remote ones added */
  gboolean                      candidates_full_reported;
};

G_DEFINE_FINAL_TYPE (PeercamPeerConnection, peercam_peer_connection, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ICE_CONNECTION_STATE,
  PROP_CONNECTION_STATE,
  N_PROPS
};

enum {
  SIGNAL_LOCAL_DESCRIPTION,
  SIGNAL_LOCAL_CANDIDATE,
  SIGNAL_REMOTE_DESCRIPTION_SET,
  SIGNAL_REMOTE_BYE,
  SIGNAL_STATS,
  SIGNAL_ERROR,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* ---- PcLink and the hop to the main context ----------------------------- */

static PcLink *
pc_link_ref (PcLink *link)
{
  g_atomic_ref_count_inc (&link->ref);
  return link;
}

static void
pc_link_unref (gpointer data)
{
  PcLink *link = data;

  if (!g_atomic_ref_count_dec (&link->ref))
    return;
  g_clear_pointer (&link->promises, g_hash_table_unref);
  g_mutex_clear (&link->lock);
  g_weak_ref_clear (&link->pc);
  g_main_context_unref (link->context);
  g_free (link);
}

static void
pc_link_closure_unref (gpointer data, GClosure *closure)
{
  pc_link_unref (data);
}

/* ---- promises ----------------------------------------------------------- */

/* GStreamer 1.22's webrtcbin frees the operations still queued when it
 * stops, and with them the last reference to their promises: a promise
 * freed unanswered is a warning (fatal in the tests; seen when a call was
 * hung up while a stats request was queued). So every promise handed to
 * webrtcbin is kept until it is answered, and the ones still waiting when
 * webrtcbin is torn down are interrupted first. */
static GstPromise *
new_promise (PcLink              *link,
             GstPromiseChangeFunc func)
{
  GstPromise *promise = gst_promise_new_with_change_func (func, pc_link_ref (link), pc_link_unref);

  g_mutex_lock (&link->lock);
  g_hash_table_add (link->promises, gst_promise_ref (promise));
  g_mutex_unlock (&link->lock);
  return promise;
}

/* From a change function: the promise got its answer (or was interrupted). */
static void
promise_done (PcLink     *link,
              GstPromise *promise)
{
  g_mutex_lock (&link->lock);
  g_hash_table_remove (link->promises, promise);
  g_mutex_unlock (&link->lock);
}

static void
interrupt_promises (PcLink *link)
{
  g_autoptr(GPtrArray) waiting = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_promise_unref);
  GHashTableIter iter;
  gpointer promise;

  g_mutex_lock (&link->lock);
  g_hash_table_iter_init (&iter, link->promises);
  while (g_hash_table_iter_next (&iter, &promise, NULL))
    {
      g_ptr_array_add (waiting, promise);
      g_hash_table_iter_steal (&iter);
    }
  g_mutex_unlock (&link->lock);
  /* Outside the lock: the change function runs in here and takes it. An
   * answered promise ignores the interruption. */
  for (guint i = 0; i < waiting->len; i++)
    gst_promise_interrupt (waiting->pdata[i]);
}

typedef void (*HopFunc) (PeercamPeerConnection *self, gpointer data);

typedef struct {
  PcLink         *link;
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
  pc_link_unref (hop->link);
  g_free (hop);
}

static gboolean
hop_dispatch (gpointer data)
{
  Hop *hop = data;
  g_autoptr(PeercamPeerConnection) self = g_weak_ref_get (&hop->link->pc);

  if (self && !self->closed)
    hop->func (self, hop->data);
  return G_SOURCE_REMOVE;
}

/* Always through an idle source, never in place: a promise may be replied
 * to on the main thread during a state change, and running the callback
 * there would re-enter the owner in the middle of a teardown. */
static void
hop (PcLink         *link,
     HopFunc         func,
     gpointer        data,
     GDestroyNotify  destroy)
{
  g_autoptr(GSource) source = g_idle_source_new ();
  Hop *h = g_new0 (Hop, 1);

  h->link = pc_link_ref (link);
  h->func = func;
  h->data = data;
  h->destroy = destroy;
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, hop_dispatch, h, hop_free);
  g_source_set_static_name (source, "[peercam] peer connection hop");
  g_source_attach (source, link->context);
}

/* ---- helpers ------------------------------------------------------------ */

#define emit_error(self, ...) peercam_call_error_emit ((self), signals[SIGNAL_ERROR], __VA_ARGS__)

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

static void
configure_ice (GstElement         *webrtc,
               const char * const *ice_addresses)
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
  /* Keepalives as connectivity checks: a peer that vanished without a
   * word (killed, unplugged) then fails ICE (~50 s in 0.1.21); plain
   * keepalives need no answer, and ICE stayed "connected" for good. */
  if (element_has_property (agent, "keepalive-conncheck"))
    g_object_set (agent, "keepalive-conncheck", TRUE, NULL);
  if (element_has_property (ice, "ice-tcp"))
    g_object_set (ice, "ice-tcp", FALSE, NULL);

  for (guint i = 0; ice_addresses && ice_addresses[i]; i++)
    if (*ice_addresses[i])
      g_ptr_array_add (addresses, (gpointer) ice_addresses[i]);
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

/* ---- webrtcbin's inner elements ----------------------------------------- */

static gboolean
made_by (GstElement *element,
         const char *factory_name)
{
  GstElementFactory *factory = gst_element_get_factory (element);

  return factory != NULL && g_str_equal (GST_OBJECT_NAME (factory), factory_name);
}

typedef void (*ElementFunc) (GstElement *element, gpointer data);

/* Calls @func on each element of @bin, at any depth, that @factory_name made. */
static void
for_each_made_by (GstBin      *bin,
                  const char  *factory_name,
                  ElementFunc  func,
                  gpointer     data)
{
  g_autoptr(GstIterator) it = gst_bin_iterate_recurse (bin);
  GValue item = G_VALUE_INIT;

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK)
    {
      GstElement *element = g_value_get_object (&item);

      if (made_by (element, factory_name))
        func (element, data);
      g_value_reset (&item);
    }
  g_value_unset (&item);
}

/* GStreamer 1.22's srtpdec has two sink pads, and when a packet reaches one
 * of its source pads with no stream-start on either, it makes a stream id
 * with gst_pad_create_stream_id(), which refuses elements with more than one
 * sink pad: a critical (fatal in the tests). That happens at teardown: going
 * to READY deactivates srtpdec's source pads first (clearing their sticky
 * events), then waits for the sink pad's stream lock while a packet is still
 * inside srtpdec's chain function (core dump: the main thread in
 * remove_webrtc() → srtpdec change_state → gst_pad_set_active waiting, the
 * transport's queue thread in srtpdec chain → gst_pad_create_stream_id).
 * So before a webrtcbin is stopped, its srtpdecs drop what still arrives,
 * and the packet already inside is waited for (the stream lock the state
 * change would wait for anyway). */
typedef struct {
  int closing;  /* atomic */
} SrtpGuard;

static GstPadProbeReturn
srtpdec_guard_probe (GstPad          *sinkpad,
                     GstPadProbeInfo *info,
                     gpointer         user_data)
{
  SrtpGuard *guard = user_data;

  return g_atomic_int_get (&guard->closing) ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

static void
guard_srtpdec (GstElement *element,
               gpointer    data)
{
  g_autoptr(GstPad) sinkpad = NULL;
  SrtpGuard *guard;

  if (g_object_get_data (G_OBJECT (element), "peercam-srtp-guard") != NULL)
    return;
  sinkpad = gst_element_get_static_pad (element, "rtp_sink");
  if (sinkpad == NULL)
    return;
  /* The probe owns the guard; the element only points at it. */
  guard = g_new0 (SrtpGuard, 1);
  g_object_set_data (G_OBJECT (element), "peercam-srtp-guard", guard);
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                     srtpdec_guard_probe, guard, g_free);
}

static void
quiesce_srtpdec (GstElement *element,
                 gpointer    data)
{
  SrtpGuard *guard = g_object_get_data (G_OBJECT (element), "peercam-srtp-guard");
  g_autoptr(GstPad) sinkpad = gst_element_get_static_pad (element, "rtp_sink");

  if (guard == NULL || sinkpad == NULL)
    return;
  g_atomic_int_set (&guard->closing, 1);
  /* The chain function runs under the stream lock: once we hold it, the
   * packet that was inside has left, and the next ones meet the probe. */
  GST_PAD_STREAM_LOCK (sinkpad);
  GST_PAD_STREAM_UNLOCK (sinkpad);
}

/* Before @bin (a webrtcbin, or a pipeline holding some) goes to NULL. */
void
peercam_peer_connection_quiesce_bin (GstBin *bin)
{
  g_return_if_fail (GST_IS_BIN (bin));

  for_each_made_by (bin, "srtpdec", quiesce_srtpdec, NULL);
}

/* An element added to webrtcbin: an srtpdec, or a bin that already holds one. */
static void
guard_srtpdecs_in (GstElement *element)
{
  if (made_by (element, "srtpdec"))
    guard_srtpdec (element, NULL);
  else if (GST_IS_BIN (element))
    for_each_made_by (GST_BIN (element), "srtpdec", guard_srtpdec, NULL);
}

static void
on_deep_element_added (GstBin     *bin,
                       GstBin     *sub_bin,
                       GstElement *element,
                       gpointer    user_data)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  const char *name = factory ? GST_OBJECT_NAME (factory) : "";

  /* webrtcbin puts a clocksync behind each sink pad. It paces to the
   * pipeline clock plus the configured latency, which a live source already
   * did: behind videotestsrc (1 frame of latency) it held every encoded
   * frame until the next one was captured, ~33 ms glass-to-glass. */
  if (g_str_equal (name, "clocksync") && sub_bin == bin)
    g_object_set (element, "sync", FALSE, NULL);

  /* The jitter buffer holds the first packet for its whole latency unless
   * it may start on a run of consecutive packets (a keyframe is several). */
  if (g_str_equal (name, "rtpjitterbuffer") && element_has_property (element, "faststart-min-packets"))
    g_object_set (element, "faststart-min-packets", 2, NULL);
  /* Ask for a missing packet as soon as the gap shows, as libwebrtc does:
   * the automatic delay (half a frame interval, ~17 ms) came on top of the
   * wait for the next RTCP packet and the RTT, and at 100 ms RTT a second
   * try then missed the jitter buffer's deadline (issue 11). A single
   * network path does not reorder; rtx-delay-reorder still covers a
   * packet a few places late. */
  if (g_str_equal (name, "rtpjitterbuffer") && element_has_property (element, "rtx-delay"))
    g_object_set (element, "rtx-delay", 5, NULL);

  guard_srtpdecs_in (element);
}

static void
remote_bye_main (PeercamPeerConnection *self,
                 gpointer               data)
{
  g_debug ("RTCP BYE from the peer");
  g_signal_emit (self, signals[SIGNAL_REMOTE_BYE], 0);
}

static void
on_bye_ssrc (GstElement *rtpbin,
             guint       session,
             guint       ssrc,
             gpointer    user_data)
{
  hop (user_data, remote_bye_main, NULL, NULL);
}

/* The peer's webrtcbin sends RTCP BYE when its call is torn down, a browser
 * when its track or connection closes. */
static void
watch_rtpbin_bye (GstElement *rtpbin,
                  gpointer    data)
{
  PeercamPeerConnection *self = data;

  g_signal_connect_data (rtpbin, "on-bye-ssrc", G_CALLBACK (on_bye_ssrc),
                         pc_link_ref (self->link), pc_link_closure_unref, 0);
}

static void
watch_rtcp_bye (PeercamPeerConnection *self)
{
  for_each_made_by (GST_BIN (self->webrtc), "rtpbin", watch_rtpbin_bye, self);
}

/* ---- state and local candidates ----------------------------------------- */

static void
ice_state_main (PeercamPeerConnection *self,
                gpointer               data)
{
  GstWebRTCICEConnectionState state = GPOINTER_TO_INT (data);

  if (self->ice_state == state)
    return;
  g_debug ("ICE connection state %d", state);
  self->ice_state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ICE_CONNECTION_STATE]);
}

static void
on_ice_connection_state (GstElement *webrtc,
                         GParamSpec *pspec,
                         gpointer    user_data)
{
  GstWebRTCICEConnectionState state;

  g_object_get (webrtc, "ice-connection-state", &state, NULL);
  hop (user_data, ice_state_main, GINT_TO_POINTER (state), NULL);
}

static void
pc_state_main (PeercamPeerConnection *self,
               gpointer               data)
{
  GstWebRTCPeerConnectionState state = GPOINTER_TO_INT (data);

  if (self->pc_state == state)
    return;
  g_debug ("peer connection state %d", state);
  self->pc_state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTION_STATE]);
}

static void
on_pc_state (GstElement *webrtc,
             GParamSpec *pspec,
             gpointer    user_data)
{
  GstWebRTCPeerConnectionState state;

  g_object_get (webrtc, "connection-state", &state, NULL);
  hop (user_data, pc_state_main, GINT_TO_POINTER (state), NULL);
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
local_candidate_main (PeercamPeerConnection *self,
                      gpointer               data)
{
  LocalCandidate *c = data;

  g_signal_emit (self, signals[SIGNAL_LOCAL_CANDIDATE], 0, c->mline, c->candidate);
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

/* ---- descriptions ------------------------------------------------------- */

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
set_local_and_emit (PeercamPeerConnection       *self,
                    GstWebRTCSessionDescription *desc)
{
  g_signal_emit_by_name (self->webrtc, "set-local-description", desc, NULL);
  store_mids (desc->sdp, &self->local_mids, &self->local_ufrags);
  g_signal_emit (self, signals[SIGNAL_LOCAL_DESCRIPTION], 0, desc);
}

static void
offer_created_main (PeercamPeerConnection *self,
                    gpointer               data)
{
  DescReply *reply = data;

  if (reply->error)
    {
      emit_error (self, PEERCAM_CALL_ERROR_NEGOTIATION, _("Could not create an offer: %s"), reply->error);
      return;
    }
  set_local_and_emit (self, reply->desc);
}

static void
on_offer_created (GstPromise *promise,
                  gpointer    user_data)
{
  hop (user_data, offer_created_main, desc_reply_from_promise (promise, "offer"), desc_reply_free);
  promise_done (user_data, promise);
}

static void
answer_created_main (PeercamPeerConnection *self,
                     gpointer               data)
{
  DescReply *reply = data;

  if (reply->error)
    {
      emit_error (self, PEERCAM_CALL_ERROR_NEGOTIATION, _("Could not answer the offer: %s"), reply->error);
      return;
    }
  set_local_and_emit (self, reply->desc);
}

static void
on_answer_created (GstPromise *promise,
                   gpointer    user_data)
{
  hop (user_data, answer_created_main, desc_reply_from_promise (promise, "answer"), desc_reply_free);
  promise_done (user_data, promise);
}

static void
add_candidate_now (PeercamPeerConnection *self,
                   guint                  mline,
                   const char            *mid,
                   const char            *candidate,
                   GError               **error);

static void
remote_set_main (PeercamPeerConnection *self,
                 gpointer               data)
{
  DescReply *reply = data;
  Candidate *c;

  if (reply->error)
    {
      emit_error (self, PEERCAM_CALL_ERROR_NEGOTIATION,
                  _("The peer’s session description was refused: %s"), reply->error);
      return;
    }
  self->remote_set = TRUE;
  while ((c = g_queue_pop_head (&self->pending)))
    {
      g_autoptr(GError) error = NULL;

      add_candidate_now (self, c->mline, c->mid, c->candidate, &error);
      if (error)
        g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
      g_free (c->mid);
      g_free (c->candidate);
      g_free (c);
      if (self->closed)
        return;
    }
  self->pending_full_reported = FALSE;
  g_signal_emit (self, signals[SIGNAL_REMOTE_DESCRIPTION_SET], 0);
  if (self->closed || !self->remote_is_offer)
    return;

  {
    GstPromise *promise = new_promise (self->link, on_answer_created);

    g_signal_emit_by_name (self->webrtc, "create-answer", NULL, promise);
    gst_promise_unref (promise);
  }
}

static void
on_remote_set (GstPromise *promise,
               gpointer    user_data)
{
  hop (user_data, remote_set_main, desc_reply_from_promise (promise, NULL), desc_reply_free);
  promise_done (user_data, promise);
}

void
peercam_peer_connection_create_offer (PeercamPeerConnection *self)
{
  GstPromise *promise;

  g_return_if_fail (PEERCAM_IS_PEER_CONNECTION (self));
  g_return_if_fail (!self->closed);

  promise = new_promise (self->link, on_offer_created);
  g_signal_emit_by_name (self->webrtc, "create-offer", NULL, promise);
  gst_promise_unref (promise);
}

void
peercam_peer_connection_set_remote_description (PeercamPeerConnection       *self,
                                                GstWebRTCSessionDescription *desc)
{
  GstPromise *promise;

  g_return_if_fail (PEERCAM_IS_PEER_CONNECTION (self));
  g_return_if_fail (desc != NULL);
  g_return_if_fail (!self->closed);

  store_mids (desc->sdp, &self->remote_mids, NULL);
  self->remote_is_offer = desc->type == GST_WEBRTC_SDP_TYPE_OFFER;
  promise = new_promise (self->link, on_remote_set);
  g_signal_emit_by_name (self->webrtc, "set-remote-description", desc, promise);
  gst_promise_unref (promise);
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

gboolean
peercam_peer_connection_check_candidate (const char  *candidate,
                                         GError     **error)
{
  if (candidate && strlen (candidate) > MAX_CANDIDATE_BYTES)
    {
      g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_INVALID_CANDIDATE,
                   _("The peer sent an ICE candidate longer than %u bytes"), MAX_CANDIDATE_BYTES);
      return FALSE;
    }
  if (candidate == NULL || !candidate_is_valid (candidate))
    {
      g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_INVALID_CANDIDATE,
                   _("The peer sent an invalid ICE candidate “%.80s”"), candidate ? candidate : "(none)");
      return FALSE;
    }
  return TRUE;
}

static void
add_candidate_now (PeercamPeerConnection  *self,
                   guint                   mline,
                   const char             *mid,
                   const char             *candidate,
                   GError                **error)
{
  if (mid && self->remote_mids)
    for (guint i = 0; i < self->remote_mids->len; i++)
      if (g_str_equal (mid, self->remote_mids->pdata[i]))
        mline = i;

  if (self->remote_mids && mline >= self->remote_mids->len)
    {
      g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_INVALID_CANDIDATE,
                   _("The peer sent a candidate for media line %u, which does not exist"), mline);
      return;
    }
  if (self->candidates >= MAX_CANDIDATES)
    {
      /* Once per connection: a flood must not become a flood of errors. */
      if (!self->candidates_full_reported)
        g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_INVALID_CANDIDATE,
                     _("The peer sent more than %u ICE candidates for one call; ignoring the rest"),
                     MAX_CANDIDATES);
      self->candidates_full_reported = TRUE;
      return;
    }
  self->candidates++;
  g_signal_emit_by_name (self->webrtc, "add-ice-candidate", mline, candidate);
}

gboolean
peercam_peer_connection_add_remote_candidate (PeercamPeerConnection  *self,
                                              guint                   mline,
                                              const char             *mid,
                                              const char             *candidate,
                                              GError                **error)
{
  g_autoptr(GError) local_error = NULL;
  Candidate *c;

  g_return_val_if_fail (PEERCAM_IS_PEER_CONNECTION (self), FALSE);

  if (!peercam_peer_connection_check_candidate (candidate, error))
    return FALSE;
  if (self->closed)
    return TRUE;
  if (self->remote_set)
    {
      add_candidate_now (self, mline, mid, candidate, &local_error);
      if (local_error)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      return TRUE;
    }
  if (self->pending.length >= MAX_PENDING)
    {
      gboolean report = !self->pending_full_reported;

      self->pending_full_reported = TRUE;
      if (!report)
        return TRUE;
      g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_INVALID_CANDIDATE,
                   _("The peer sent more than %u ICE candidates before its session description; ignoring the rest"),
                   MAX_PENDING);
      return FALSE;
    }
  c = g_new0 (Candidate, 1);
  c->mline = mline;
  c->mid = g_strdup (mid);
  c->candidate = g_strdup (candidate);
  g_queue_push_tail (&self->pending, c);
  return TRUE;
}

/* ---- transceivers ------------------------------------------------------- */

GstPad *
peercam_peer_connection_add_send_transceiver (PeercamPeerConnection *self,
                                              GstCaps               *caps)
{
  g_autoptr(GstWebRTCRTPTransceiver) transceiver = NULL;
  GstPad *pad;

  g_return_val_if_fail (PEERCAM_IS_PEER_CONNECTION (self), NULL);

  pad = gst_element_request_pad (self->webrtc,
                                 gst_element_get_pad_template (self->webrtc, "sink_%u"),
                                 NULL, caps);
  if (pad == NULL)
    return NULL;
  g_object_get (pad, "transceiver", &transceiver, NULL);
  if (transceiver)
    {
      g_object_set (transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
                    "codec-preferences", caps, NULL);
      if (element_has_property (transceiver, "do-nack"))
        g_object_set (transceiver, "do-nack", TRUE, NULL);
    }
  return pad;
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

gboolean
peercam_peer_connection_add_recv_transceiver (PeercamPeerConnection *self,
                                              const char            *kind,
                                              const GstSDPMedia     *offer)
{
  g_autoptr(GstCaps) caps = NULL;
  GstWebRTCRTPTransceiver *transceiver = NULL;

  g_return_val_if_fail (PEERCAM_IS_PEER_CONNECTION (self), FALSE);

  caps = recv_caps_for_kind (kind);
  if (caps == NULL)
    return FALSE;
  g_signal_emit_by_name (self->webrtc, "add-transceiver",
                         GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &transceiver);
  if (transceiver && element_has_property (transceiver, "do-nack"))
    g_object_set (transceiver, "do-nack", TRUE, NULL);
  if (transceiver && offer)  /* congestion control (issue 11) */
    peercam_congestion_accept_twcc (transceiver, offer);
  g_clear_object (&transceiver);
  return TRUE;
}

/* ---- stats and keyframes ------------------------------------------------ */

static gboolean
collect_stat (GQuark        field,
              const GValue *value,
              gpointer      user_data)
{
  PeercamPeerStats *stats = user_data;
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
    stats->bytes_sent += bytes;
  else if (type == GST_WEBRTC_STATS_INBOUND_RTP && gst_structure_get_uint64 (s, "bytes-received", &bytes))
    stats->bytes_received += bytes;
  else if (type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP && gst_structure_get_double (s, "round-trip-time", &rtt))
    stats->rtt_ms = rtt * 1000.0;
  return TRUE;
}

static void
stats_main (PeercamPeerConnection *self,
            gpointer               data)
{
  g_signal_emit (self, signals[SIGNAL_STATS], 0, data);
}

static void
on_stats_reply (GstPromise *promise,
                gpointer    user_data)
{
  const GstStructure *reply;
  PeercamPeerStats *stats;

  promise_done (user_data, promise);
  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED)
    return;
  reply = gst_promise_get_reply (promise);
  if (reply == NULL)
    return;
  stats = g_new0 (PeercamPeerStats, 1);
  stats->rtt_ms = -1;
  gst_structure_foreach (reply, collect_stat, stats);
  hop (user_data, stats_main, stats, g_free);
}

void
peercam_peer_connection_request_stats (PeercamPeerConnection *self)
{
  GstPromise *promise;

  g_return_if_fail (PEERCAM_IS_PEER_CONNECTION (self));
  if (self->closed)
    return;
  promise = new_promise (self->link, on_stats_reply);
  g_signal_emit_by_name (self->webrtc, "get-stats", NULL, promise);
  gst_promise_unref (promise);
}

void
peercam_peer_connection_request_keyframe (PeercamPeerConnection *self)
{
  g_autoptr(GstIterator) it = NULL;
  GValue item = G_VALUE_INIT;

  g_return_if_fail (PEERCAM_IS_PEER_CONNECTION (self));
  if (self->closed)
    return;
  /* Upstream from each sender pad, to whatever encoder feeds it. */
  it = gst_element_iterate_sink_pads (self->webrtc);
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK)
    {
      g_autoptr(GstPad) peer = gst_pad_get_peer (g_value_get_object (&item));

      if (peer)
        gst_pad_send_event (peer, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
                                                                               TRUE, 0));
      g_value_reset (&item);
    }
  g_value_unset (&item);
}

/* ---- closing ------------------------------------------------------------ */

static void
candidate_free (gpointer data)
{
  Candidate *c = data;

  g_free (c->mid);
  g_free (c->candidate);
  g_free (c);
}


static void
remove_webrtc (PeercamPeerConnection *self)
{
  if (self->webrtc == NULL)
    return;
  g_signal_handlers_disconnect_by_func (self->webrtc, on_deep_element_added, NULL);
  interrupt_promises (self->link);
  peercam_peer_connection_quiesce_bin (GST_BIN (self->webrtc));
  gst_element_set_locked_state (self->webrtc, TRUE);
  gst_element_set_state (self->webrtc, GST_STATE_NULL);
  if (GST_OBJECT_PARENT (self->webrtc) == GST_OBJECT (self->bin))
    gst_bin_remove (self->bin, self->webrtc);
  g_clear_object (&self->webrtc);
}

static gboolean
bye_sent_main (gpointer data)
{
  PcLink *link = data;
  g_autoptr(PeercamPeerConnection) self = g_weak_ref_get (&link->pc);

  if (self && self->webrtc)
    {
      g_debug ("RTCP BYE sent %.1f ms after closing",
               (g_get_monotonic_time () - self->closed_us) / 1000.0);
      remove_webrtc (self);
    }
  return G_SOURCE_REMOVE;
}

/* A compound RTCP packet (RFC 3550 §6) that holds a BYE (PT 203). */
static gboolean
rtcp_has_bye (GstBuffer *buffer)
{
  GstMapInfo map;
  gboolean bye = FALSE;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return FALSE;
  for (gsize at = 0; at + 4 <= map.size && !bye; )
    {
      guint length = ((map.data[at + 2] << 8) | map.data[at + 3]) + 1;

      if ((map.data[at] >> 6) != 2)
        break;
      bye = map.data[at + 1] == 203;
      at += length * 4;
    }
  gst_buffer_unmap (buffer, &map);
  return bye;
}

/* The RTP session hands its BYE to the transport on this thread right
 * after the probe; the connection goes a moment later. */
static GstPadProbeReturn
rtcp_bye_out_probe (GstPad          *pad,
                    GstPadProbeInfo *info,
                    gpointer         user_data)
{
  PcLink *link = user_data;
  g_autoptr(GSource) source = NULL;

  if (!rtcp_has_bye (GST_PAD_PROBE_INFO_BUFFER (info)))
    return GST_PAD_PROBE_OK;
  source = g_timeout_source_new (5);
  g_source_set_callback (source, bye_sent_main, pc_link_ref (link), pc_link_unref);
  g_source_set_static_name (source, "[peercam] peer connection bye sent");
  g_source_attach (source, link->context);
  return GST_PAD_PROBE_REMOVE;
}

static void
watch_rtpbin_bye_out (GstElement *rtpbin,
                      gpointer    data)
{
  PeercamPeerConnection *self = data;
  g_autoptr(GstIterator) pads = gst_element_iterate_src_pads (rtpbin);
  GValue item = G_VALUE_INIT;

  while (gst_iterator_next (pads, &item) == GST_ITERATOR_OK)
    {
      GstPad *pad = g_value_get_object (&item);

      if (g_str_has_prefix (GST_PAD_NAME (pad), "send_rtcp_src"))
        gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, rtcp_bye_out_probe,
                           pc_link_ref (self->link), pc_link_unref);
      g_value_reset (&item);
    }
  g_value_unset (&item);
}

static void
watch_rtcp_bye_out (PeercamPeerConnection *self)
{
  for_each_made_by (GST_BIN (self->webrtc), "rtpbin", watch_rtpbin_bye_out, self);
}

gboolean
peercam_peer_connection_close (PeercamPeerConnection *self)
{
  g_autoptr(GstIterator) it = NULL;
  GValue item = G_VALUE_INIT;

  g_return_val_if_fail (PEERCAM_IS_PEER_CONNECTION (self), FALSE);

  if (self->closed)
    return FALSE;
  self->closed = TRUE;
  g_queue_clear_full (&self->pending, candidate_free);

  /* Until DTLS is up webrtcbin may hold a sender's thread in a blocking
   * probe; only its own shutdown releases it. */
  if (self->pc_state != GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
    {
      remove_webrtc (self);
      return FALSE;
    }

  /* End-of-stream into webrtcbin: its RTP session sends RTCP BYE, which
   * tells the peer the call is over even when no "bye" comes through
   * signaling (the demo's relay never sends one). The connection goes as
   * soon as the BYE has left: its port may already belong to the peer's
   * next call, which must not get our packets. */
  self->closed_us = g_get_monotonic_time ();
  watch_rtcp_bye_out (self);
  it = gst_element_iterate_sink_pads (self->webrtc);
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK)
    {
      GstPad *pad = g_value_get_object (&item);
      g_autoptr(GstPad) peer = gst_pad_get_peer (pad);

      /* The sender's thread stops at the unlinked pad. */
      if (peer)
        gst_pad_unlink (peer, pad);
      gst_pad_send_event (pad, gst_event_new_eos ());
      g_value_reset (&item);
    }
  g_value_unset (&item);
  return TRUE;
}

void
peercam_peer_connection_finish_close (PeercamPeerConnection *self)
{
  g_return_if_fail (PEERCAM_IS_PEER_CONNECTION (self));

  self->closed = TRUE;
  remove_webrtc (self);
}

/* ---- GObject ------------------------------------------------------------ */

static void
peercam_peer_connection_dispose (GObject *object)
{
  PeercamPeerConnection *self = PEERCAM_PEER_CONNECTION (object);

  peercam_peer_connection_finish_close (self);
  g_clear_object (&self->bin);

  G_OBJECT_CLASS (peercam_peer_connection_parent_class)->dispose (object);
}

static void
peercam_peer_connection_finalize (GObject *object)
{
  PeercamPeerConnection *self = PEERCAM_PEER_CONNECTION (object);

  g_queue_clear_full (&self->pending, candidate_free);
  g_clear_pointer (&self->local_mids, g_ptr_array_unref);
  g_clear_pointer (&self->local_ufrags, g_ptr_array_unref);
  g_clear_pointer (&self->remote_mids, g_ptr_array_unref);
  pc_link_unref (self->link);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (peercam_peer_connection_parent_class)->finalize (object);
}

static void
peercam_peer_connection_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  PeercamPeerConnection *self = PEERCAM_PEER_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_ICE_CONNECTION_STATE: g_value_set_enum (value, self->ice_state); break;
    case PROP_CONNECTION_STATE: g_value_set_enum (value, self->pc_state); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_peer_connection_class_init (PeercamPeerConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = peercam_peer_connection_dispose;
  object_class->finalize = peercam_peer_connection_finalize;
  object_class->get_property = peercam_peer_connection_get_property;

  properties[PROP_ICE_CONNECTION_STATE] =
    g_param_spec_enum ("ice-connection-state", NULL, NULL, GST_TYPE_WEBRTC_ICE_CONNECTION_STATE,
                       GST_WEBRTC_ICE_CONNECTION_STATE_NEW, ro);
  properties[PROP_CONNECTION_STATE] =
    g_param_spec_enum ("connection-state", NULL, NULL, GST_TYPE_WEBRTC_PEER_CONNECTION_STATE,
                       GST_WEBRTC_PEER_CONNECTION_STATE_NEW, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_LOCAL_DESCRIPTION] =
    g_signal_new ("local-description", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1,
                  GST_TYPE_WEBRTC_SESSION_DESCRIPTION | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_LOCAL_CANDIDATE] =
    g_signal_new ("local-candidate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_REMOTE_DESCRIPTION_SET] =
    g_signal_new ("remote-description-set", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_REMOTE_BYE] =
    g_signal_new ("remote-bye", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_STATS] =
    g_signal_new ("stats", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, PEERCAM_TYPE_PEER_STATS | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
peercam_peer_connection_init (PeercamPeerConnection *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->link = g_new0 (PcLink, 1);
  g_atomic_ref_count_init (&self->link->ref);
  g_weak_ref_init (&self->link->pc, self);
  self->link->context = g_main_context_ref (self->context);
  g_mutex_init (&self->link->lock);
  self->link->promises = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) gst_promise_unref, NULL);
  g_queue_init (&self->pending);
}

/* ---- public API --------------------------------------------------------- */

PeercamPeerConnection *
peercam_peer_connection_new (GstBin             *bin,
                             guint               latency_ms,
                             const char         *stun_server,
                             const char         *turn_server,
                             const char * const *ice_addresses,
                             GError            **error)
{
  g_autoptr(PeercamPeerConnection) self = NULL;
  GstElement *webrtc;

  g_return_val_if_fail (GST_IS_BIN (bin), NULL);

  /* Unnamed: a closing connection's webrtcbin may still be in the bin. */
  webrtc = gst_element_factory_make ("webrtcbin", NULL);
  if (webrtc == NULL)
    {
      g_set_error (error, PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_MISSING_PLUGIN,
                   _("The GStreamer element “%s” is missing"), "webrtcbin");
      return NULL;
    }

  self = g_object_new (PEERCAM_TYPE_PEER_CONNECTION, NULL);
  self->bin = g_object_ref (bin);
  self->webrtc = gst_object_ref_sink (webrtc);
  gst_util_set_object_arg (G_OBJECT (webrtc), "bundle-policy", "max-bundle");
  g_object_set (webrtc, "latency", latency_ms, NULL);
  if (stun_server && *stun_server)
    g_object_set (webrtc, "stun-server", stun_server, NULL);
  if (turn_server && *turn_server)
    g_object_set (webrtc, "turn-server", turn_server, NULL);
  configure_ice (webrtc, ice_addresses);

  g_signal_connect (webrtc, "deep-element-added", G_CALLBACK (on_deep_element_added), NULL);
  g_signal_connect_data (webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate),
                         pc_link_ref (self->link), pc_link_closure_unref, 0);
  g_signal_connect_data (webrtc, "notify::ice-connection-state", G_CALLBACK (on_ice_connection_state),
                         pc_link_ref (self->link), pc_link_closure_unref, 0);
  g_signal_connect_data (webrtc, "notify::connection-state", G_CALLBACK (on_pc_state),
                         pc_link_ref (self->link), pc_link_closure_unref, 0);
  watch_rtcp_bye (self);
  gst_bin_add (bin, webrtc);
  return g_steal_pointer (&self);
}

GstElement *
peercam_peer_connection_get_webrtcbin (PeercamPeerConnection *self)
{
  g_return_val_if_fail (PEERCAM_IS_PEER_CONNECTION (self), NULL);
  return self->webrtc;
}

void
peercam_peer_connection_set_latency (PeercamPeerConnection *self,
                                     guint                  latency_ms)
{
  g_return_if_fail (PEERCAM_IS_PEER_CONNECTION (self));
  if (self->webrtc)
    g_object_set (self->webrtc, "latency", latency_ms, NULL);
}

const char *
peercam_peer_connection_get_local_mid (PeercamPeerConnection *self,
                                       guint                  mline)
{
  g_return_val_if_fail (PEERCAM_IS_PEER_CONNECTION (self), NULL);
  return self->local_mids && mline < self->local_mids->len ? self->local_mids->pdata[mline] : NULL;
}

const char *
peercam_peer_connection_get_local_ufrag (PeercamPeerConnection *self,
                                         guint                  mline)
{
  g_return_val_if_fail (PEERCAM_IS_PEER_CONNECTION (self), NULL);
  return self->local_ufrags && mline < self->local_ufrags->len ? self->local_ufrags->pdata[mline] : NULL;
}

GstWebRTCICEConnectionState
peercam_peer_connection_get_ice_connection_state (PeercamPeerConnection *self)
{
  g_return_val_if_fail (PEERCAM_IS_PEER_CONNECTION (self), GST_WEBRTC_ICE_CONNECTION_STATE_NEW);
  return self->ice_state;
}

GstWebRTCPeerConnectionState
peercam_peer_connection_get_connection_state (PeercamPeerConnection *self)
{
  g_return_val_if_fail (PEERCAM_IS_PEER_CONNECTION (self), GST_WEBRTC_PEER_CONNECTION_STATE_NEW);
  return self->pc_state;
}
