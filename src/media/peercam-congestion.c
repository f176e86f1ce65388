/* peercam-congestion.c — congestion control for one call (see the header)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-congestion.h"

#include "peercam-pacer.h"
#include "peercam-pacer-element.h"
#include "peercam-remote-bwe.h"
#include "peercam-rtcp-xr.h"

#include <gst/rtp/rtp.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>

#define TICK_MS              500
#define OVERSHOOT            1.3   /* encoder output / its target: it can't go lower */
#define OVERSHOOT_AFTER_US   (TICK_MS * 1000)
#define DOWNGRADE_AFTER_US   G_USEC_PER_SEC
#define UPGRADE_AFTER_US     (3 * G_USEC_PER_SEC)
#define ENCODER_SHARE        0.9   /* of the estimate: headers and RTX need the rest */
/* 200 ms left no room for a second try at 100 ms RTT (1 % loss: 4.4 s
 * frozen in 20, tools/bench network); 300 ms still not when the gap shows
 * only with the next frame (a frame's last packet lost): 0.5-1 s keyframe
 * waits, up to 2.9 s frozen in 20. */
#define MAX_LATENCY_MS       450
/* At the first missing packet, straight to the bound (see viewer_tick):
 * the deadline costs nothing on screen (frames show when decoded, or on
 * the playout schedule of peercam-remote-media, which follows how late
 * frames really come), and 120 ms left no room for a second try: at 100 ms
 * RTT not even for one, each such loss a keyframe wait. */
#define RECOVERY_LATENCY_MS  MAX_LATENCY_MS
#define VIEWER_TICK_MS       250
/* The REMB estimate's start (peercam-remote-bwe.h): under aiortc's 500
 * kbit/s, so a link that delivers less than 3/4 of what was sent into it
 * ends the fast start at once. */
#define REMB_START_BPS       300000
/* What the link carries besides an RTP packet: IPv4 (20), UDP (8), SRTP's
 * tag (10). */
#define REMB_TRANSPORT_OVERHEAD 38
/* Keyframe requests merged to one per 500 ms (or 2 x RTT): when a
 * retransmission fails, the picture waits for the next keyframe, and at
 * one a second each such wait was a freeze of up to a second (tools/bench
 * network, 5 % loss); a Chromium receiver asks again after 200 ms. */
#define KEYFRAME_INTERVAL_US (G_USEC_PER_SEC / 2)
#define CLEAN_BURST_US       40000
#define LATENCY_SHRINK_US    (10 * G_USEC_PER_SEC)  /* without loss or retransmissions */
/* What a packet carries besides its RTP payload: RTP header (12), the
 * transport-cc extension block (8), SRTP's tag (10), UDP (8), IPv4 (20). */
#define PACKET_OVERHEAD      58

/* What streaming threads hold: never the object itself. */
typedef struct {
  gatomicrefcount ref;
  GWeakRef        self;
  GMainContext   *context;
  gsize           frames;   /* atomic: encoded frames sent */
  gsize           encoded;  /* atomic: their bytes */
  gsize           dropped;  /* atomic: frames not encoded, the pacer's queue was long */
  GMutex          lock;
  /* what the scaler probe applies, between two frames (guarded by lock) */
  GstElement     *filter;
  GstCaps        *pending_caps;
  guint           fps;        /* 0: every frame */
  GstClockTime    last_kept;
  /* sender: the payloader's SSRC, from its caps (guarded by lock) */
  guint32         media_ssrc;
  gboolean        have_media_ssrc;
  /* sender: the pacer the pushback probe asks (guarded by lock; see there) */
  PeercamPacerElement *pacer;
  gboolean        detached;
} Link;

struct _PeercamCongestion
{
  GObject              parent_instance;

  GMainContext        *context;
  Link                *link;
  guint                tick_id;
  gboolean             sender;
  PeercamDegradation   degradation;

  GstElement          *webrtc;
  GstElement          *rtpbin;
  GObject             *session;       /* internal RTPSession 0 */
  gulong               feedback_id;
  gulong               rtcp_in_id;    /* sender: the viewer's RRTR ... */
  gulong               rtcp_out_id;   /* ... answered in our next report */

  /* guarded by lock: touched from streaming threads */
  GMutex               lock;
  PeercamBwe          *bwe;
  gint64               last_fed_seq;  /* unwrapped transport-wide seq; -1: none */
  gint64               first_feedback_us;
  gboolean             ramping;       /* the estimator's fast start */
  PeercamKeyframeLimiter *keyframes;
  guint64              keyframe_requests; /* that came upstream (see keyframe_probe) */
  GPtrArray           *jitterbuffers; /* GWeakRef*: viewer */
  GWeakRef             keyframe_pad;  /* where the last merged request went */
  PeercamRrtrResponder *rrtr;         /* sender: the viewer's RTT (RTCP XR) */

  /* sender, main context only */
  GstElement          *encoder;
  struct _Share       *share;         /* the encoder's, shared with other viewers' controllers */
  GstElement          *filter;
  GstPad              *encoder_src;
  gulong               keyframe_probe;
  gulong               frames_probe;
  GstPad              *encoder_sink;
  gulong               pushback_probe;
  GstPad              *payloader_src; /* its caps name the SSRC the RTT answer goes with */
  gulong               ssrc_probe;
  PeercamPacerElement *pacer;         /* from request-aux-sender (lock) */
  PeercamVideoFormat   source;
  PeercamVideoFormat   sending;
  PeercamVideoFormat   wanted;
  gint64               wanted_since_us;
  gboolean             was_ramping;   /* the last tick was in the fast start */
  gint64               first_sent_us; /* the first tick that saw packets leave; 0: none yet */
  gboolean             feedback_checked;
  gint64               overshoot_since_us;
  gint64               format_changed_us;
  PeercamVideoFormat   overshot;      /* the smallest format the encoder overshot at */
  double               overshot_kbps; /* what it sent there; 0: never */
  double               content_factor; /* how much more than the ladder this picture needs */
  guint64              applied_bps;
  guint64              encoder_bps;   /* what the encoder was given last */
  double               rtx_bps;       /* retransmissions lately (smoothed) */
  guint64              last_rtx_bytes;
  guint64              last_stale_nacks;
  guint                keyframe_id;
  int                  apply_pending; /* atomic */
  guint64              last_sent_bytes;
  guint64              last_frames;
  guint64              last_dropped;
  gint64               last_tick_us;
  double               send_kbps;     /* through the pacer: media, RTX, headers */
  double               encoder_kbps;  /* what the encoder made, and would have for the frames pushed back */
  guint64              last_encoded;
  guint64              tick_encoder_bps;  /* the largest encoder target in the tick */
  double               send_fps;
  guint                last_rb_seq;
  gboolean             have_rb;

  /* viewer, main context only */
  guint                min_latency_ms;
  guint                latency_ms;
  gint64               latency_low_since_us;
  double               jitter_ms;
  double               rtt_ms;
  double               loss_pct;
  guint64              retransmissions;
  guint64              last_pushed, last_lost, last_late, last_rtx_ok;
  gboolean             remb_checked;  /* viewer_setup_remb() decided */
  GstPad              *remb_pad;      /* rtpbin's RTP input */
  gulong               remb_probe_id;
  gulong               remb_rtcp_id;
  /* guarded by lock: the REMB estimate, non-NULL for a REMB-only caller */
  PeercamRemoteBwe    *remote_bwe;
  guint32              remb_pts[4];   /* the media's payload types, a bit each */
  guint                remb_abs_id;   /* abs-send-time's extension id; 0: none */
  guint                remb_clock_rate;
  guint32              remb_ssrc;     /* the media stream's, as it arrives */
};

G_DEFINE_FINAL_TYPE (PeercamCongestion, peercam_congestion, G_TYPE_OBJECT)

/* ---- Link and the hop to the main context -------------------------------- */

static Link *
link_new (PeercamCongestion *self,
          GMainContext      *context)
{
  Link *link = g_new0 (Link, 1);

  g_atomic_ref_count_init (&link->ref);
  g_weak_ref_init (&link->self, self);
  link->context = g_main_context_ref (context);
  g_mutex_init (&link->lock);
  link->last_kept = GST_CLOCK_TIME_NONE;
  return link;
}

static Link *
link_ref (Link *link)
{
  g_atomic_ref_count_inc (&link->ref);
  return link;
}

static void
link_unref (gpointer data)
{
  Link *link = data;

  if (!g_atomic_ref_count_dec (&link->ref))
    return;
  g_weak_ref_clear (&link->self);
  g_main_context_unref (link->context);
  g_clear_object (&link->filter);
  gst_clear_caps (&link->pending_caps);
  g_clear_object (&link->pacer);
  g_mutex_clear (&link->lock);
  g_free (link);
}

static void
link_closure_unref (gpointer data, GClosure *closure)
{
  link_unref (data);
}

/* ---- one encoder, several controllers ------------------------------------
 *
 * Viewers alike share one encoder chain (peercam-sender): each viewer's
 * controller estimates its own link, and the encoder runs at the smallest
 * of their bitrates, the scaler at the smallest of their formats. The share
 * lives on the encoder (qdata, no reference), one reference per attached
 * controller; it owns the one scaler probe. Main context only, but for its
 * link (the probe's state). With one controller it is today's behaviour. */
typedef struct {
  guint64            bps;       /* this controller's encoder target; 0: none yet */
  PeercamVideoFormat format;    /* the format its policy asks for */
} Member;

typedef struct _Share {
  int                 ref;
  GstElement         *encoder;  /* no reference: the share lives on it */
  GHashTable         *members;  /* PeercamCongestion* (no ref) -> Member* */
  guint64             applied_bps;
  PeercamVideoFormat  applied;
  PeercamVideoFormat  source;
  Link               *link;     /* the scaler probe's: filter, pending caps, fps */
  GstPad             *scaler_sink;
  gulong              scaler_probe;
} Share;

static GQuark
share_quark (void)
{
  return g_quark_from_static_string ("peercam-congestion-share");
}

static void
share_unref (Share *share)
{
  if (--share->ref > 0)
    return;
  if (share->scaler_sink && share->scaler_probe)
    gst_pad_remove_probe (share->scaler_sink, share->scaler_probe);
  g_clear_object (&share->scaler_sink);
  g_object_set_qdata (G_OBJECT (share->encoder), share_quark (), NULL);
  g_hash_table_unref (share->members);
  link_unref (share->link);
  g_free (share);
}

static guint64
format_pixels (const PeercamVideoFormat *f)
{
  return (guint64) f->width * f->height * f->fps;
}

static void share_apply_bitrate (Share *share);
static void share_apply_format  (Share *share);

typedef void (*HopFunc) (PeercamCongestion *self);

typedef struct {
  Link    *link;
  HopFunc  func;
} Hop;

static gboolean
hop_dispatch (gpointer data)
{
  Hop *hop = data;
  g_autoptr(PeercamCongestion) self = g_weak_ref_get (&hop->link->self);

  /* A detached controller gets no more news. */
  if (self && self->link == hop->link)
    hop->func (self);
  return G_SOURCE_REMOVE;
}

static void
hop_free (gpointer data)
{
  Hop *hop = data;

  link_unref (hop->link);
  g_free (hop);
}

static void
hop (Link    *link,
     HopFunc  func)
{
  Hop *h = g_new (Hop, 1);
  GSource *source = g_idle_source_new ();

  h->link = link_ref (link);
  h->func = func;
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, hop_dispatch, h, hop_free);
  g_source_attach (source, link->context);
  g_source_unref (source);
}

/* ---- sender: applying the estimate --------------------------------------- */

/* The rate the ladder needs for a format (see peercam_degradation_apply). */
static guint64
peercam_congestion_format_bps (const PeercamVideoFormat *f)
{
  return (guint64) ((double) f->width * f->height * f->fps * 0.047);
}

static gboolean
same_format (const PeercamVideoFormat *a,
             const PeercamVideoFormat *b)
{
  return a->width == b->width && a->height == b->height && a->fps == b->fps;
}

/* What the encoder may use of @bps: its share, less what retransmissions
 * take now (as libwebrtc allocates media after protection), never under
 * half its share. A Peercam viewer losing 5 % at 500 kbit/s NACKs every
 * loss: 90 % media and up to 25 % repairs put the sender over the cap,
 * and the drops fed the repairs (tools/bench network, 1.06x the cap). */
static guint64
encoder_target (PeercamCongestion *self,
                guint64            bps)
{
  double share = bps * ENCODER_SHARE;

  return (guint64) MAX (share - self->rtx_bps, share / 2);
}

static void
set_encoder_bitrate (PeercamCongestion *self,
                     guint64            bps)
{
  guint64 encoder_bps = encoder_target (self, bps);
  Member *member = g_hash_table_lookup (self->share->members, self);

  self->encoder_bps = encoder_bps;
  self->tick_encoder_bps = MAX (self->tick_encoder_bps, encoder_bps);
  member->bps = encoder_bps;
  share_apply_bitrate (self->share);
}

/* The smallest target of the controllers sharing the encoder. */
static void
share_apply_bitrate (Share *share)
{
  GObjectClass *klass = G_OBJECT_GET_CLASS (share->encoder);
  const char *name = GST_OBJECT_NAME (gst_element_get_factory (share->encoder));
  guint64 encoder_bps = 0;
  GHashTableIter iter;
  Member *member;

  g_hash_table_iter_init (&iter, share->members);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &member))
    if (member->bps > 0 && (encoder_bps == 0 || member->bps < encoder_bps))
      encoder_bps = member->bps;
  if (encoder_bps == 0 || encoder_bps == share->applied_bps)
    return;
  share->applied_bps = encoder_bps;
  g_debug ("congestion: encoder %s at %" G_GUINT64_FORMAT " bit/s (%u viewers)", name, encoder_bps,
           g_hash_table_size (share->members));
  if (g_str_equal (name, "vp8enc") || g_str_equal (name, "vp9enc"))
    g_object_set (share->encoder, "target-bitrate", (int) MIN (encoder_bps, G_MAXINT), NULL);
  else if (g_str_equal (name, "x264enc"))
    g_object_set (share->encoder, "bitrate", (guint) MAX (encoder_bps / 1000, 1), NULL);   /* kbit/s */
  else if (g_object_class_find_property (klass, "bitrate"))
    g_object_set (share->encoder, "bitrate", (guint) MIN (encoder_bps, G_MAXUINT), NULL); /* openh264: bit/s */
}

/* The smallest format the sharing controllers' policies ask for, applied
 * by the scaler probe between two frames. */
static void
share_apply_format (Share *share)
{
  g_autoptr(GstCaps) caps = NULL;
  PeercamVideoFormat format = { 0 };
  GHashTableIter iter;
  Member *member;

  if (share->link->filter == NULL)
    return;
  g_hash_table_iter_init (&iter, share->members);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &member))
    if (format.width == 0 || format_pixels (&member->format) < format_pixels (&format))
      format = member->format;
  if (format.width == 0 || same_format (&format, &share->applied))
    return;
  share->applied = format;
  /* Only the size: scaler_probe drops frames for a lower rate. A frame
   * rate in these caps would renegotiate the source, and so the preview and
   * every other viewer (the tee's format is fixed, so it fails: "not
   * negotiated"); a file's or a screen's rate is not the configured one. */
  caps = gst_caps_new_simple ("video/x-raw",
                              "width", G_TYPE_INT, (int) format.width,
                              "height", G_TYPE_INT, (int) format.height,
                              "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1,
                              NULL);
  g_debug ("congestion: sending %ux%u@%u", format.width, format.height, format.fps);
  /* Applied by scaler_probe between two frames: a caps change while a frame
   * is between the scaler and the encoder fails negotiation ("Internal data
   * stream error"). The frame rate is thinned there too, never renegotiated. */
  g_mutex_lock (&share->link->lock);
  gst_caps_replace (&share->link->pending_caps, caps);
  share->link->fps = format.fps < share->source.fps ? format.fps : 0;
  g_mutex_unlock (&share->link->lock);
}

/* An encoder sending more than asked is at its coarsest quantizer: this
 * picture needs send/ladder times the ladder's rate (noise, a busy scene).
 * The policy then sees the estimate divided by that. */
static void
learn_content (PeercamCongestion *self)
{
  double need = peercam_congestion_format_bps (&self->sending);
  double factor;

  if (need <= 0 || self->encoder_kbps * 1000 <= OVERSHOOT * self->tick_encoder_bps)
    return;
  factor = CLAMP (self->encoder_kbps * 1000 / need, 1.0, 3.0);
  if (factor > self->content_factor)
    {
      g_debug ("congestion: this picture needs %.2fx the ladder's rate", factor);
      self->content_factor = factor;
    }
}

static void
set_send_format (PeercamCongestion        *self,
                 const PeercamVideoFormat *format)
{
  Member *member;

  if (self->filter == NULL || same_format (format, &self->sending))
    return;
  /* Leaving a format the encoder could not fit in its target (noise at the
   * coarsest quantizer): remember what it really needed there. */
  if (self->encoder_kbps * 1000 > OVERSHOOT * self->tick_encoder_bps &&
      (self->overshot_kbps == 0 ||
       (guint64) self->sending.width * self->sending.height * self->sending.fps <=
       (guint64) self->overshot.width * self->overshot.height * self->overshot.fps))
    {
      self->overshot = self->sending;
      self->overshot_kbps = self->encoder_kbps;
    }
  learn_content (self);
  member = g_hash_table_lookup (self->share->members, self);
  member->format = *format;
  share_apply_format (self->share);
  self->sending = *format;
  self->format_changed_us = g_get_monotonic_time ();
  self->overshoot_since_us = 0;
}

/* One rung down the ladder from what is sent now (balanced and
 * maintain-framerate), or a third fewer frames (maintain-resolution). */
static PeercamVideoFormat
step_down (PeercamCongestion *self,
           guint64            bps_now)
{
  PeercamVideoFormat f = peercam_degradation_apply (self->degradation, &self->source,
                                                    (guint64) (bps_now / self->content_factor));

  /* what the learned content factor says fits, if that is smaller */
  if ((guint64) f.width * f.height * f.fps <
      (guint64) self->sending.width * self->sending.height * self->sending.fps)
    return f;
  f = self->sending;
  for (guint64 bps = peercam_congestion_format_bps (&self->sending); bps > 10000; bps = bps * 3 / 4)
    {
      f = peercam_degradation_apply (self->degradation, &self->source, bps);
      if ((guint64) f.width * f.height * f.fps <
          (guint64) self->sending.width * self->sending.height * self->sending.fps)
        break;
    }
  return f;
}

/* The degradation policy, with hysteresis: down after 1 s, up after 3 s, and
 * nothing during the start-up ramp. An encoder that sends far more than the
 * estimate for a second (a noisy picture at its coarsest quantizer) gets the
 * next smaller format at once. */
static void
update_format (PeercamCongestion *self,
               guint64            bps,
               gboolean           ramping,
               gint64             now)
{
  guint64 content_bps = (guint64) (bps / self->content_factor);
  PeercamVideoFormat wanted = peercam_degradation_apply (self->degradation, &self->source, content_bps);
  guint64 now_pixels = (guint64) self->sending.width * self->sending.height * self->sending.fps;
  gboolean smaller = (guint64) wanted.width * wanted.height * wanted.fps < now_pixels;

  /* Up only when 80 % of the estimate would still carry the bigger format:
   * a switch costs a keyframe, and one at the edge of the link is lost. */
  if (!smaller && !same_format (&wanted, &self->sending))
    {
      PeercamVideoFormat cautious = peercam_degradation_apply (self->degradation, &self->source,
                                                               content_bps * 4 / 5);

      if ((guint64) cautious.width * cautious.height * cautious.fps <= now_pixels)
        wanted = self->sending;
      /* Nor back to a format the encoder could not fit, until the estimate
       * covers what it really sent there. */
      else if (self->overshot_kbps > 0 &&
               (guint64) wanted.width * wanted.height * wanted.fps >=
               (guint64) self->overshot.width * self->overshot.height * self->overshot.fps &&
               bps * ENCODER_SHARE < self->overshot_kbps * 1000 * 1.1)
        wanted = self->sending;
    }

  /* (the send rate of the first 1.5 s after a change mixes two formats) */
  if (!ramping && now - self->format_changed_us >= 3 * TICK_MS * 1000 &&
      self->encoder_kbps * 1000 > OVERSHOOT * self->tick_encoder_bps)
    {
      if (self->overshoot_since_us == 0)
        self->overshoot_since_us = now;
      else if (now - self->overshoot_since_us >= OVERSHOOT_AFTER_US)
        {
          PeercamVideoFormat smaller_format;

          learn_content (self);
          smaller_format = step_down (self, bps);
          self->overshoot_since_us = 0;
          g_debug ("congestion: the encoder overshoots (%.0f kbit/s for %" G_GUINT64_FORMAT ")",
                   self->encoder_kbps, self->tick_encoder_bps / 1000);
          set_send_format (self, &smaller_format);
          self->wanted = self->sending;
          self->wanted_since_us = now;
          return;
        }
    }
  else
    self->overshoot_since_us = 0;

  /* The fast start climbs the ladder with the estimate, from the format
   * the start rate carries up to the source's, a rung as soon as 80 % of
   * the estimate carries it (no hysteresis: a browser starts the same
   * way). On a clean link that is full quality within a second; on a
   * capped one the first frames already fit the link. */
  if (ramping)
    {
      self->was_ramping = TRUE;
      if (!smaller && !same_format (&wanted, &self->sending))
        set_send_format (self, &wanted);
      self->wanted = self->sending;
      self->wanted_since_us = now;
      return;
    }
  if (same_format (&wanted, &self->sending))
    {
      self->was_ramping = FALSE;
      self->wanted = self->sending;
      self->wanted_since_us = now;
      return;
    }
  if (!same_format (&wanted, &self->wanted))
    {
      self->wanted = wanted;
      self->wanted_since_us = now;
    }
  /* The fast start just found the link's end below what the source format
   * needs: no second of hysteresis, the format it found is no guess (a
   * 1280x720 noisy picture at 2x a 1 Mbit/s link froze the start for a
   * second, tools/bench network). */
  if (smaller && self->was_ramping)
    self->wanted_since_us = 0;
  /* Nor when the estimate fell to under 2/3 of what the format needs (a
   * link that shrank, 4 -> 0.7 Mbit/s): a second more of 1280x720 into it
   * is a second of losses, and the keyframe the viewer then asks for is
   * the big one (tools/bench network: 1.1 s frozen after the step). */
  if (smaller && bps * 3 < peercam_congestion_format_bps (&self->sending) * self->content_factor * 2)
    self->wanted_since_us = 0;
  self->was_ramping = FALSE;
  if (now - self->wanted_since_us >= (smaller ? DOWNGRADE_AFTER_US : UPGRADE_AFTER_US))
    set_send_format (self, &wanted);
}

static void
apply_estimate (PeercamCongestion *self)
{
  guint64 bps;
  gboolean ramping;
  gint64 now = g_get_monotonic_time ();

  g_atomic_int_set (&self->apply_pending, 0);
  if (self->encoder == NULL)
    return;
  g_mutex_lock (&self->lock);
  bps = peercam_bwe_get_target_bitrate (self->bwe);
  ramping = peercam_bwe_is_ramping_up (self->bwe);
  g_mutex_unlock (&self->lock);

  /* Encoders reconfigure on each change: only for 5 % or more. */
  if (self->applied_bps == 0 || bps > self->applied_bps * 21 / 20 || bps < self->applied_bps * 19 / 20 ||
      encoder_target (self, bps) > self->encoder_bps * 21 / 20 ||
      encoder_target (self, bps) < self->encoder_bps * 19 / 20)
    {
      set_encoder_bitrate (self, bps);
      self->applied_bps = bps;
    }
  update_format (self, bps, ramping, now);
}

/* ---- sender: feedback from streaming threads ----------------------------- */

static gboolean
get_clock_time (const GstStructure *s,
                const char         *field,
                GstClockTime       *time)
{
  guint64 v;

  if (!gst_structure_get_uint64 (s, field, &v) || v == GST_CLOCK_TIME_NONE)
    return FALSE;
  *time = v;
  return TRUE;
}

/* A probe cluster the estimator asks for goes to the pacer (any thread;
 * @pacer may be NULL: then the probe fails at once). */
static void
start_probe (PeercamCongestion   *self,
             PeercamPacerElement *pacer,
             gint64               now)
{
  PeercamBweProbe probe;
  gboolean due;

  g_mutex_lock (&self->lock);
  due = peercam_bwe_poll_probe (self->bwe, now, &probe);
  if (due && pacer == NULL)
    peercam_bwe_on_probe_sent (self->bwe, probe.id, now, now, 0);
  g_mutex_unlock (&self->lock);
  if (due && pacer)
    {
      g_debug ("congestion: probe %u at %" G_GUINT64_FORMAT " kbit/s", probe.id, probe.bps / 1000);
      peercam_pacer_element_start_probe (pacer, probe.id, probe.bps, probe.duration_us, probe.min_packets);
    }
}

/* The pacer sent a probe cluster (its streaming thread). Its send times are
 * g_get_monotonic_time; the estimator's are rtpsession's, from the system
 * clock, which is CLOCK_MONOTONIC too: the windows compare. */
static void
on_probe_sent (guint    id,
               gint64   first_us,
               gint64   last_us,
               guint    n_packets,
               gpointer user_data)
{
  Link *link = user_data;
  g_autoptr(PeercamCongestion) self = g_weak_ref_get (&link->self);

  if (self == NULL)
    return;
  g_debug ("congestion: probe %u sent, %u packets in %.1f ms (from %" G_GINT64_FORMAT ")", id, n_packets,
           (last_us - first_us) / 1000.0, first_us);
  g_mutex_lock (&self->lock);
  peercam_bwe_on_probe_sent (self->bwe, id, first_us, last_us, n_packets);
  g_mutex_unlock (&self->lock);
}

/* rtpsession's parsed transport-cc feedback: one structure per packet with
 * seqnum, local-ts (its send time), remote-ts (arrival), size, lost. */
static void
on_twcc_packets (const GstStructure *packets,
                 gpointer            user_data)
{
  Link *link = user_data;
  g_autoptr(PeercamCongestion) self = g_weak_ref_get (&link->self);
  const GValue *list = gst_structure_get_value (packets, "packets");
  g_autoptr(GArray) arrivals = NULL;
  PeercamPacerElement *pacer = NULL;
  gint64 now = g_get_monotonic_time ();
  guint64 target;
  gboolean ramping;
  GValueArray *array;

  if (self == NULL || list == NULL)
    return;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (!G_VALUE_HOLDS (list, g_value_array_get_type ()))
    return;
  array = g_value_get_boxed (list);
  arrivals = g_array_sized_new (FALSE, FALSE, sizeof (PeercamBweArrival), array ? array->n_values : 0);

  g_mutex_lock (&self->lock);
  for (guint i = 0; array && i < array->n_values; i++)
    {
      const GValue *v = g_value_array_get_nth (array, i);
      const GstStructure *p;
      guint seq = 0, size = 0;
      gboolean lost = FALSE;
      GstClockTime local = 0, remote = 0;
      PeercamBweArrival a;
      gint64 u;

      if (!GST_VALUE_HOLDS_STRUCTURE (v))
        continue;
      p = gst_value_get_structure (v);
      if (!gst_structure_get_uint (p, "seqnum", &seq) || !get_clock_time (p, "local-ts", &local))
        continue;
      gst_structure_get_uint (p, "size", &size);
      /* rtpsession reports the RTP payload only; the link carries the rest
       * too. Without it every rate the estimator measured was ~6 % under
       * the link's, and the estimate sat that much above a 500 kbit/s cap
       * (tools/bench network: 4 % tbf drops for 12 s). */
      size += PACKET_OVERHEAD;
      gst_structure_get_boolean (p, "lost", &lost);
      if (!lost && !get_clock_time (p, "remote-ts", &remote))
        lost = TRUE;

      /* The event carries the send times too: the first report of a
       * packet registers it. */
      u = self->last_fed_seq < 0 ? seq : self->last_fed_seq + (gint16) (seq - (guint16) self->last_fed_seq);
      if (u > self->last_fed_seq)
        {
          peercam_bwe_on_packet_sent (self->bwe, (guint16) seq, (gint64) (local / 1000), size);
          self->last_fed_seq = u;
        }
      a.seq = (guint16) seq;
      a.received = !lost;
      a.arrival_us = lost ? 0 : (gint64) (remote / 1000);
      g_array_append_val (arrivals, a);
    }
  G_GNUC_END_IGNORE_DEPRECATIONS
  peercam_bwe_on_transport_feedback (self->bwe, (PeercamBweArrival *) arrivals->data, arrivals->len, now);
  if (self->first_feedback_us < 0 && arrivals->len > 0)
    self->first_feedback_us = now;
  target = peercam_bwe_get_target_bitrate (self->bwe);
  ramping = peercam_bwe_is_ramping_up (self->bwe);
  if (self->pacer)
    pacer = g_object_ref (self->pacer);
  g_mutex_unlock (&self->lock);

  start_probe (self, pacer, now);
  if (pacer)
    {
      /* Until the link has shown a queue, a frame may leave in one burst of
       * up to 40 ms of the pacing rate (libwebrtc's send-burst interval):
       * pacing a clean LAN only adds latency. After that, 5 ms. */
      peercam_pacer_element_set_burst_us (pacer, ramping ? CLEAN_BURST_US : 0);
      /* Once the fast start is over the estimate is the link's: media,
       * repairs and keyframes share it (a keyframe, its repairs and a
       * format change's keyframe each on top of it made one second 145-151 %
       * of a 500 kbit/s cap, tools/bench network). While it ramps, the
       * estimate lags the link by design: a budget at it froze the climb
       * to 1280x720 for 0.5 s. */
      peercam_pacer_element_set_budget_us (pacer, ramping ? -1 : 0);
      peercam_pacer_element_set_target_bitrate (pacer, target);
      g_object_unref (pacer);
    }
  if (g_atomic_int_compare_and_exchange (&self->apply_pending, 0, 1))
    hop (link, apply_estimate);
}

/* REMB (Chromium receivers): PSFB, FMT 15, FCI "REMB" + count + exponent
 * and mantissa of the bitrate (peercam_remb_parse_fci). */
static void
on_feedback_rtcp (GObject   *session,
                  guint      type,
                  guint      fbtype,
                  guint      sender_ssrc,
                  guint      media_ssrc,
                  GstBuffer *fci,
                  gpointer   user_data)
{
  Link *link = user_data;
  g_autoptr(PeercamCongestion) self = NULL;
  GstMapInfo map;
  guint64 bps;
  gboolean remb;

  if (type != GST_RTCP_TYPE_PSFB || fbtype != GST_RTCP_PSFB_TYPE_AFB || fci == NULL)
    return;
  if (!gst_buffer_map (fci, &map, GST_MAP_READ))
    return;
  remb = peercam_remb_parse_fci (map.data, map.size, &bps, NULL, 0, NULL);
  gst_buffer_unmap (fci, &map);
  if (!remb)
    return;

  self = g_weak_ref_get (&link->self);
  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  peercam_bwe_on_remb (self->bwe, bps, g_get_monotonic_time ());
  g_mutex_unlock (&self->lock);
  if (g_atomic_int_compare_and_exchange (&self->apply_pending, 0, 1))
    hop (link, apply_estimate);
}

static GstElement *
on_request_aux_sender (GstElement *webrtc,
                       GObject    *transport,
                       gpointer    user_data)
{
  Link *link = user_data;
  g_autoptr(PeercamCongestion) self = g_weak_ref_get (&link->self);
  GstElement *element;

  if (self == NULL || !self->sender)
    return NULL;
  element = peercam_pacer_element_new ();
  g_debug ("congestion: pacing the sender");
  peercam_pacer_element_set_feedback_func (PEERCAM_PACER_ELEMENT (element), on_twcc_packets,
                                           link_ref (link), link_unref);
  peercam_pacer_element_set_probe_func (PEERCAM_PACER_ELEMENT (element), on_probe_sent,
                                        link_ref (link), link_unref);
  g_mutex_lock (&self->lock);
  peercam_pacer_element_set_target_bitrate (PEERCAM_PACER_ELEMENT (element),
                                            peercam_bwe_get_target_bitrate (self->bwe));
  if (peercam_bwe_is_ramping_up (self->bwe))
    peercam_pacer_element_set_budget_us (PEERCAM_PACER_ELEMENT (element), -1);
  /* One transport (bundle): one pacer. */
  g_clear_object (&self->pacer);
  self->pacer = g_object_ref (PEERCAM_PACER_ELEMENT (element));
  g_mutex_unlock (&self->lock);
  g_mutex_lock (&link->lock);
  if (!link->detached)
    g_set_object (&link->pacer, PEERCAM_PACER_ELEMENT (element));
  g_mutex_unlock (&link->lock);
  return element;
}

/* ---- keyframe requests ------------------------------------------------- */

/* Every keyframe request goes through keyframe_probe, which merges them to
 * one per interval and sends the merged one when the interval ends. Our
 * own requests name the controller's link in the event: the merged one
 * sent later has passed the limiter already, and the keyframe for a stale
 * NACK (request_keyframe) is the sender's decision, not a request the
 * stats count. Another controller sharing the encoder takes either as a
 * request (its own probe on the same pad). */
#define OWN_KEYFRAME_FIELD "peercam-congestion-link"
#define DEFERRED_FIELD     "peercam-congestion-deferred"

static GstEvent *
own_keyframe_event (Link     *link,
                    gboolean  deferred)
{
  GstEvent *event = gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE, 0);

  gst_structure_set (gst_event_writable_structure (event),
                     OWN_KEYFRAME_FIELD, G_TYPE_POINTER, link,
                     DEFERRED_FIELD, G_TYPE_BOOLEAN, deferred, NULL);
  return event;
}

static void
send_deferred_keyframe (PeercamCongestion *self)
{
  g_autoptr(GstPad) pad = g_weak_ref_get (&self->keyframe_pad);

  if (pad == NULL)
    return;
  gst_pad_send_event (pad, own_keyframe_event (self->link, TRUE));
}

static gboolean
keyframe_due (gpointer user_data)
{
  PeercamCongestion *self = user_data;
  gboolean due;

  self->keyframe_id = 0;
  g_mutex_lock (&self->lock);
  due = peercam_keyframe_limiter_poll (self->keyframes, g_get_monotonic_time ());
  g_mutex_unlock (&self->lock);
  if (due)
    send_deferred_keyframe (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_keyframe (PeercamCongestion *self)
{
  gint64 due;

  if (self->keyframe_id)
    return;
  g_mutex_lock (&self->lock);
  due = peercam_keyframe_limiter_next_due_us (self->keyframes);
  g_mutex_unlock (&self->lock);
  if (due >= 0)
    {
      GSource *source = g_timeout_source_new ((guint) MAX (0, (due - g_get_monotonic_time () + 999) / 1000));

      g_source_set_callback (source, keyframe_due, self, NULL);
      self->keyframe_id = g_source_attach (source, self->context);
      g_source_unref (source);
    }
}

/* A NACK for a packet older than retransmissions go means a frame the
 * viewer waits for and can no longer complete. A Peercam viewer asks for a
 * keyframe when its jitter buffer gives up, a Chromium viewer only after
 * 3 s without a decodable frame (4 -> 0.7 Mbit/s into Chromium: the
 * losses at the step went over the retransmission budget, then too old,
 * and the picture froze 3.4 s in 2 of 7 runs). It gets one now, within
 * the keyframe interval like a PLI: up the encoder's source pad, through
 * keyframe_probe. Main context. */
static void
request_keyframe (PeercamCongestion *self)
{
  if (self->encoder_src == NULL)
    return;
  g_debug ("congestion: the viewer asks for packets too old to repair: a keyframe");
  gst_pad_send_event (self->encoder_src, own_keyframe_event (self->link, FALSE));
}

/* Upstream force-key-unit events (PLI/FIR from the viewer, a payloader's
 * gate, our own decoder on the viewer side, request_keyframe): one per
 * interval, the rest merged into one sent when it ends. Any thread: the
 * streaming thread of whoever asks, the main context for our own. */
static GstPadProbeReturn
keyframe_probe (GstPad          *pad,
                GstPadProbeInfo *info,
                gpointer         user_data)
{
  Link *link = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  const GstStructure *s;
  g_autoptr(PeercamCongestion) self = NULL;
  gpointer origin = NULL;
  gboolean deferred = FALSE;
  gboolean own, pass;

  if (!gst_video_event_is_force_key_unit (event))
    return GST_PAD_PROBE_OK;
  self = g_weak_ref_get (&link->self);
  if (self == NULL)
    return GST_PAD_PROBE_OK;
  s = gst_event_get_structure (event);
  own = gst_structure_get (s, OWN_KEYFRAME_FIELD, G_TYPE_POINTER, &origin,
                           DEFERRED_FIELD, G_TYPE_BOOLEAN, &deferred, NULL) && origin == link;
  if (own && deferred)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&self->lock);
  if (!own)
    self->keyframe_requests++;
  pass = peercam_keyframe_limiter_request (self->keyframes, g_get_monotonic_time ());
  g_mutex_unlock (&self->lock);
  if (pass)
    return GST_PAD_PROBE_OK;
  if (own)
    g_debug ("congestion: a keyframe when the interval allows");
  g_weak_ref_set (&self->keyframe_pad, pad);
  hop (link, schedule_keyframe);
  return GST_PAD_PROBE_DROP;
}

/* In front of the scaler, on the encoder branch's thread: no frame is
 * between here and the encoder. */
static GstPadProbeReturn
scaler_probe (GstPad          *pad,
              GstPadProbeInfo *info,
              gpointer         user_data)
{
  Link *link = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  GstCaps *caps = NULL;
  gboolean drop = FALSE;

  g_mutex_lock (&link->lock);
  caps = g_steal_pointer (&link->pending_caps);
  if (link->fps > 0 && GST_CLOCK_TIME_IS_VALID (pts))
    {
      /* keep a frame once 1/fps has passed (less 10 %, for jittery sources) */
      GstClockTime period = GST_SECOND / link->fps;

      if (GST_CLOCK_TIME_IS_VALID (link->last_kept) && pts > link->last_kept &&
          pts - link->last_kept < period * 9 / 10)
        drop = TRUE;
      else
        link->last_kept = pts;
    }
  g_mutex_unlock (&link->lock);
  if (caps)
    {
      if (link->filter)
        g_object_set (link->filter, "caps", caps, NULL);
      gst_caps_unref (caps);
    }
  return drop ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

/* In front of the encoder: a frame that would join a long pacer queue is
 * dropped before it is encoded (libwebrtc's pacer pushback and frame
 * dropper do the same). Without it an encoder over its target, as libvpx
 * is for a while after a cut, filled the queue past its bound and the
 * pacer drained it at 2-5x the estimate into a capped link
 * (test-congestion-netns: 1.3-1.7 Mbit/s for a second at a 1 Mbit/s cap,
 * the drops then repaired and asked for again as keyframes).
 *
 * Every raw frame, on the encoder branch's streaming thread: it asks the
 * pacer the Link holds, under the Link's lock only (not the controller's,
 * which feedback holds while it runs the estimator, and no reference
 * taken per frame). request-aux-sender (webrtcbin's thread) sets that
 * pacer; detach (main context) first removes this probe, then clears it
 * under the lock and marks the Link detached, so a frame still in here
 * either finishes before or finds none, and a pacer made during a detach
 * is never kept (the pacer holds the Link: kept, neither would be freed).
 * Lock order: the Link's, then the pacer's; nothing takes them the other
 * way round. */
static GstPadProbeReturn
pushback_probe (GstPad          *pad,
                GstPadProbeInfo *info,
                gpointer         user_data)
{
  Link *link = user_data;
  gboolean drop;

  g_mutex_lock (&link->lock);
  drop = link->pacer && peercam_pacer_element_should_drop_frame (link->pacer);
  g_mutex_unlock (&link->lock);
  if (!drop)
    return GST_PAD_PROBE_OK;
  g_atomic_pointer_add (&link->dropped, 1);
  return GST_PAD_PROBE_DROP;
}

static GstPadProbeReturn
frames_probe (GstPad          *pad,
              GstPadProbeInfo *info,
              gpointer         user_data)
{
  Link *link = user_data;

  g_atomic_pointer_add (&link->frames, 1);
  g_atomic_pointer_add (&link->encoded, gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info)));
  return GST_PAD_PROBE_OK;
}

/* ---- the viewer's RTT -------------------------------------------------- */

/* A receive-only viewer measures the RTT only through RTCP XR: it sends a
 * reference time (RRTR), the sender answers with DLRR (RFC 3611). A
 * Chromium viewer's jitter buffer adds that RTT to its playout delay once
 * frames needed retransmissions; without it a retransmitted frame is late
 * and the picture freezes (100 ms RTT, 1 % loss: 0.6-2.3 s frozen against
 * Chromium's own sender's 0.0-0.2 s). rtpsession ignores XR, so the
 * answer is ours, added to the compound RTCP rtpsession sends. */
static void
on_receiving_rtcp (GObject   *session,
                   GstBuffer *buffer,
                   gpointer   user_data)
{
  Link *link = user_data;
  g_autoptr(PeercamCongestion) self = NULL;
  GstMapInfo map;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return;
  self = g_weak_ref_get (&link->self);
  if (self)
    {
      g_mutex_lock (&self->lock);
      if (self->rrtr)
        peercam_rrtr_responder_on_rtcp (self->rrtr, map.data, map.size, g_get_monotonic_time ());
      g_mutex_unlock (&self->lock);
    }
  gst_buffer_unmap (buffer, &map);
}

/* The payloader's SSRC as its caps name it. It changes only with new
 * caps: rtpbasepayload takes an SSRC the downstream caps ask for when it
 * negotiates, and after a collision rtpsession reports it picks another
 * and pushes new caps. Keeping it here spares on_sending_rtcp() the
 * payloader's whole stats structure every report. Any thread. */
static void
link_set_media_ssrc (Link     *link,
                     GstCaps  *caps,
                     gboolean  unless_known)
{
  const GstStructure *s = caps && gst_caps_get_size (caps) > 0 ? gst_caps_get_structure (caps, 0) : NULL;
  guint ssrc = 0;
  gboolean have = s && gst_structure_get_uint (s, "ssrc", &ssrc);
  gboolean changed = FALSE;

  g_mutex_lock (&link->lock);
  if (!unless_known || !link->have_media_ssrc)
    {
      changed = have != link->have_media_ssrc || ssrc != link->media_ssrc;
      link->media_ssrc = ssrc;
      link->have_media_ssrc = have;
    }
  g_mutex_unlock (&link->lock);
  if (changed && have)
    g_debug ("congestion: the media stream's SSRC is %08x", ssrc);
}

/* On the payloader's source pad, its streaming thread. */
static GstPadProbeReturn
ssrc_probe (GstPad          *pad,
            GstPadProbeInfo *info,
            gpointer         user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstCaps *caps;

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS)
    {
      gst_event_parse_caps (event, &caps);
      link_set_media_ssrc (user_data, caps, FALSE);
    }
  return GST_PAD_PROBE_OK;
}

static gboolean
on_sending_rtcp (GObject   *session,
                 GstBuffer *buffer,
                 gboolean   early,
                 gpointer   user_data)
{
  Link *link = user_data;
  g_autoptr(PeercamCongestion) self = NULL;
  g_autoptr(GBytes) dlrr = NULL;
  GstMapInfo map;
  guint32 ssrc;
  gboolean have_ssrc, other;

  /* Early packets carry feedback and may be suppressed: the answer goes
   * with the regular report (~1 s, as libwebrtc's). */
  if (early || !gst_buffer_is_writable (buffer) || !gst_buffer_map (buffer, &map, GST_MAP_READ))
    return FALSE;
  have_ssrc = peercam_rtcp_sender_report_ssrc (map.data, map.size, &ssrc);
  gst_buffer_unmap (buffer, &map);
  self = g_weak_ref_get (&link->self);
  if (!have_ssrc || self == NULL)
    return FALSE;
  /* The media stream's report, not the RTX stream's (each sends its own):
   * Chromium counts the RTT as the video stream's. */
  g_mutex_lock (&link->lock);
  other = link->have_media_ssrc && link->media_ssrc != ssrc;
  g_mutex_unlock (&link->lock);
  if (other)
    return FALSE;
  g_mutex_lock (&self->lock);
  if (self->rrtr)
    dlrr = peercam_rrtr_responder_take_dlrr (self->rrtr, ssrc, g_get_monotonic_time ());
  g_mutex_unlock (&self->lock);
  if (dlrr)
    {
      gsize size = g_bytes_get_size (dlrr);

      g_debug ("congestion: answering the viewer's RTT request (%" G_GSIZE_FORMAT " bytes after the report of %08x)",
               size, ssrc);
      gst_buffer_append_memory (buffer, gst_memory_new_wrapped (GST_MEMORY_FLAG_READONLY,
                                                                (gpointer) g_bytes_get_data (dlrr, NULL), size,
                                                                0, size, g_bytes_ref (dlrr),
                                                                (GDestroyNotify) g_bytes_unref));
    }
  return FALSE;
}

/* ---- the periodic tick -------------------------------------------------- */

static GObject *
internal_session (PeercamCongestion *self)
{
  GObject *session = NULL;

  if (self->session)
    return self->session;
  if (self->rtpbin == NULL)
    self->rtpbin = gst_bin_get_by_name (GST_BIN (self->webrtc), "rtpbin");
  if (self->rtpbin == NULL)
    return NULL;
  g_signal_emit_by_name (self->rtpbin, "get-internal-session", 0, &session);
  if (session == NULL)
    return NULL;
  self->session = session;
  if (self->sender)
    {
      self->feedback_id = g_signal_connect_data (session, "on-feedback-rtcp", G_CALLBACK (on_feedback_rtcp),
                                                 link_ref (self->link), link_closure_unref, 0);
      self->rtcp_in_id = g_signal_connect_data (session, "on-receiving-rtcp", G_CALLBACK (on_receiving_rtcp),
                                                link_ref (self->link), link_closure_unref, 0);
      self->rtcp_out_id = g_signal_connect_data (session, "on-sending-rtcp", G_CALLBACK (on_sending_rtcp),
                                                 link_ref (self->link), link_closure_unref, 0);
    }
  return session;
}

/* The receiver reports about our stream: fraction lost and RTT. */
static void
read_receiver_reports (PeercamCongestion *self)
{
  GObject *session = internal_session (self);
  g_autoptr(GstStructure) stats = NULL;
  const GValue *sources;
  GValueArray *array;

  if (session == NULL)
    return;
  g_object_get (session, "stats", &stats, NULL);
  if (stats == NULL || !(sources = gst_structure_get_value (stats, "source-stats")))
    return;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  array = g_value_get_boxed (sources);
  for (guint i = 0; array && i < array->n_values; i++)
    {
      const GstStructure *s = gst_value_get_structure (g_value_array_get_nth (array, i));
      gboolean internal = FALSE, is_sender = FALSE, have_rb = FALSE;
      guint fraction = 0, rtt = 0, seq = 0;

      gst_structure_get_boolean (s, "internal", &internal);
      gst_structure_get_boolean (s, "is-sender", &is_sender);
      gst_structure_get_boolean (s, "have-rb", &have_rb);
      if (!internal || !is_sender || !have_rb)
        continue;
      gst_structure_get_uint (s, "rb-fractionlost", &fraction);
      gst_structure_get_uint (s, "rb-round-trip", &rtt);
      gst_structure_get_uint (s, "rb-exthighestseq", &seq);
      if (self->have_rb && seq == self->last_rb_seq)
        continue;  /* the same report again */
      self->have_rb = TRUE;
      self->last_rb_seq = seq;
      {
        /* rb-round-trip is in 1/65536 s */
        gint64 rtt_us = (gint64) rtt * G_USEC_PER_SEC / 65536;
        PeercamPacerElement *pacer;

        g_mutex_lock (&self->lock);
        peercam_bwe_on_receiver_report (self->bwe, fraction / 256.0, rtt > 0 ? rtt_us : -1,
                                        g_get_monotonic_time ());
        if (rtt > 0)
          peercam_keyframe_limiter_set_rtt (self->keyframes, rtt_us);
        pacer = self->pacer ? g_object_ref (self->pacer) : NULL;
        g_mutex_unlock (&self->lock);
        if (pacer && rtt > 0)
          peercam_pacer_element_set_rtt (pacer, rtt_us);
        g_clear_object (&pacer);
      }
      break;
    }
  G_GNUC_END_IGNORE_DEPRECATIONS
}

/* A viewer that answers no transport-cc feedback (aiortc: REMB only)
 * leaves the estimate at the start rate and the fast start unfinished for
 * good, and the start format would stay. 1.5 s after the first packets
 * left without any feedback, the source's own format goes out again (as
 * before the start format: a LAN is the likely case). */
#define NO_FEEDBACK_US (3 * TICK_MS * 1000)

static void
check_feedback (PeercamCongestion *self,
                guint64            sent,
                gint64             now)
{
  gboolean have;

  if (self->feedback_checked || self->filter == NULL || sent == 0)
    return;
  if (self->first_sent_us == 0)
    {
      self->first_sent_us = now;
      return;
    }
  if (now - self->first_sent_us < NO_FEEDBACK_US)
    return;
  self->feedback_checked = TRUE;
  g_mutex_lock (&self->lock);
  have = self->first_feedback_us >= 0;
  g_mutex_unlock (&self->lock);
  if (!have && !same_format (&self->source, &self->sending))
    {
      g_debug ("congestion: no transport-cc feedback; sending the source format");
      set_send_format (self, &self->source);
      self->wanted = self->sending;
      self->wanted_since_us = now;
    }
}

static void
sender_tick (PeercamCongestion *self,
             gint64             now)
{
  PeercamPacerElement *pacer;
  guint64 sent = 0, frames, dropped;
  double seconds = self->last_tick_us ? (now - self->last_tick_us) / 1e6 : 0;

  read_receiver_reports (self);
  g_mutex_lock (&self->lock);
  peercam_bwe_update (self->bwe, now);
  pacer = self->pacer ? g_object_ref (self->pacer) : NULL;
  g_mutex_unlock (&self->lock);
  /* a retry after a failed probe comes due without feedback's help */
  if (pacer)
    start_probe (self, pacer, now);
  frames = g_atomic_pointer_get (&self->link->frames);
  dropped = g_atomic_pointer_get (&self->link->dropped);
  if (pacer)
    {
      guint64 rtx = peercam_pacer_element_get_rtx_bytes (pacer);
      guint64 stale = peercam_pacer_element_get_stale_nacks (pacer);

      if (stale > self->last_stale_nacks)
        request_keyframe (self);
      self->last_stale_nacks = stale;
      sent = peercam_pacer_element_get_sent_bytes (pacer);
      if (seconds > 0)
        self->rtx_bps = 0.5 * self->rtx_bps + 0.5 * (rtx - self->last_rtx_bytes) * 8 / seconds;
      self->last_rtx_bytes = rtx;
    }
  g_clear_object (&pacer);
  if (seconds > 0)
    {
      guint64 encoded = g_atomic_pointer_get (&self->link->encoded);

      self->send_kbps = (sent - self->last_sent_bytes) * 8 / 1000.0 / seconds;
      self->encoder_kbps = (encoded - self->last_encoded) * 8 / 1000.0 / seconds;
      /* Frames the pacer's queue pushed back are part of what this format
       * costs: an encoder over its target by 20 % (a noisy 960x540 at a 1
       * Mbit/s cap) kept the queue at the pushback threshold and sent 16 fps
       * instead of the next smaller format at 30 (test-congestion-netns).
       * Counted as what the frames encoded cost on average, the overshoot
       * steps the format down as a browser's quality scaler does on frame
       * drops. */
      if (frames > self->last_frames && dropped > self->last_dropped)
        self->encoder_kbps *= (double) (frames - self->last_frames + dropped - self->last_dropped) /
                              (frames - self->last_frames);
      self->last_encoded = encoded;
      self->send_fps = (frames - self->last_frames) / seconds;
    }
  self->last_sent_bytes = sent;
  self->last_frames = frames;
  self->last_dropped = dropped;
  apply_estimate (self);
  check_feedback (self, sent, now);
  /* The next tick's encoder output is judged against the largest target
   * the encoder had during it, starting with the present one. */
  self->tick_encoder_bps = self->encoder_bps;
}

typedef struct {
  guint64 pushed, lost, rtx, rtx_ok, late;
  double  jitter_ms, rtt_ms;
} JitterSample;

static gboolean viewer_setup_remb (PeercamCongestion *self);

static void
viewer_tick (PeercamCongestion *self,
             gint64             now)
{
  JitterSample total = { 0 };
  guint wanted;
  gboolean adapt = self->min_latency_ms > 0;  /* 0: the user wants no buffering at all */

  if (!self->remb_checked)
    self->remb_checked = viewer_setup_remb (self);

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->jitterbuffers->len; i++)
    {
      g_autoptr(GstElement) jb = g_weak_ref_get (self->jitterbuffers->pdata[i]);
      g_autoptr(GstStructure) stats = NULL;
      guint64 v = 0;

      if (jb == NULL)
        continue;
      g_object_get (jb, "stats", &stats, NULL);
      if (stats == NULL)
        continue;
      if (gst_structure_get_uint64 (stats, "num-pushed", &v))
        total.pushed += v;
      if (gst_structure_get_uint64 (stats, "num-lost", &v))
        total.lost += v;
      if (gst_structure_get_uint64 (stats, "rtx-count", &v))
        total.rtx += v;
      if (gst_structure_get_uint64 (stats, "rtx-success-count", &v))
        total.rtx_ok += v;
      if (gst_structure_get_uint64 (stats, "num-late", &v))
        total.late += v;
      if (gst_structure_get_uint64 (stats, "avg-jitter", &v))
        total.jitter_ms = MAX (total.jitter_ms, v / 1e6);
      if (gst_structure_get_uint64 (stats, "rtx-rtt", &v) && v != GST_CLOCK_TIME_NONE)
        total.rtt_ms = MAX (total.rtt_ms, v / 1e6);
    }
  g_mutex_unlock (&self->lock);

  /* more than 1 % of this tick's packets too late for playout */
  guint64 pushed_now = total.pushed - MIN (total.pushed, self->last_pushed);
  guint64 late_now = total.late - MIN (total.late, self->last_late);
  guint64 lost_now = total.lost - MIN (total.lost, self->last_lost);
  /* Too late for playout, or lost for good (its retransmission too late):
   * each packet lost for good costs a frame and a keyframe wait, so one is
   * enough (at 1 % loss they came one per tick, under the old bar of three
   * and 1 %, and the buffer stayed at 120 ms: 3.6 s frozen in 20). */
  gboolean late = lost_now > 0 || (late_now >= 3 && late_now * 100 > pushed_now);
  /* A retransmission repaired a loss, or a packet is lost for good. (Not
   * merely asked for: on a busy loopback packets come late and the jitter
   * buffer asks for them, then the original arrives; counting those moved a
   * clean call's glass-to-glass from 51 to 141 ms, tools/bench call.) */
  gboolean missing = lost_now > 0 || total.rtx_ok > self->last_rtx_ok;
  gboolean trouble = late || missing;

  if (total.pushed + total.lost > self->last_pushed + self->last_lost)
    self->loss_pct = 100.0 * (total.lost - MIN (total.lost, self->last_lost)) /
                     ((total.pushed + total.lost) - (self->last_pushed + self->last_lost));
  self->last_pushed = total.pushed;
  self->last_lost = total.lost;
  /* rtx-rtt is measured on retransmissions only and then kept: without new
   * ones, let the old figure (often taken while a queue was full) fade. */
  if (total.rtx >= self->retransmissions + 3)  /* one slow answer on a busy CPU says little */
    self->rtt_ms = total.rtt_ms;
  else
    self->rtt_ms *= 0.95;
  self->retransmissions = total.rtx;
  self->last_rtx_ok = total.rtx_ok;
  self->last_late = total.late;
  self->jitter_ms = total.jitter_ms;

  /* Room for jitter (three times its mean), never below the configured
   * latency nor above MAX_LATENCY_MS: on a quiet LAN the configured latency itself.
   * (rtx-rtt is no RTT to plan with: it includes the jitter buffer's own
   * retransmission delays, 130-150 ms on a busy loopback.) */
  wanted = (guint) CLAMP (3 * total.jitter_ms,
                          self->min_latency_ms, MAX (self->min_latency_ms, MAX_LATENCY_MS));
  /* A REMB-only caller (aiortc) probes past the link now and then and fills
   * its buffer (100 ms on a tbf), and retransmits every packet asked for:
   * with the buffer shrunk to 30 ms after a quiet 10 s, the frames behind
   * that queue came late, were asked for, and the retransmissions made a
   * second's rate 2.4x the cap (test-remb-netns, 1 run in 6). Room for
   * the longest queue of the last 10 s, and half as much again. */
  g_mutex_lock (&self->lock);
  if (self->remote_bwe)
    {
      double queue_ms = peercam_remote_bwe_get_max_queue_us (self->remote_bwe) / 1000.0;

      if (queue_ms > 0)
        wanted = MAX (wanted, (guint) MIN (1.5 * queue_ms + self->min_latency_ms,
                                           MAX (self->min_latency_ms, MAX_LATENCY_MS)));
    }
  g_mutex_unlock (&self->lock);
  /* A packet went missing: its retransmission needs an RTT and the
   * sender's pacing, more than a LAN's 30 ms. Straight to room for one: at
   * 30 ms every loss became a lost frame and a keyframe wait (5 % loss,
   * 40 ms RTT: 8 s frozen in 20, tools/bench network), and growing by
   * doubling took 1.5 s. A 90 ms move of the playout is one late frame,
   * not a freeze; "late" below grows it further. */
  if (missing)
    wanted = MAX (wanted, MIN (RECOVERY_LATENCY_MS, MAX (self->min_latency_ms, MAX_LATENCY_MS)));
  /* Packets came too late for playout (or their retransmissions did): a
   * queue somewhere holds more than the jitter says (a bottleneck buffer
   * filling). Twice as much, up to the bound. */
  if (late)
    wanted = MIN (MAX (wanted, self->latency_ms * 2), MAX (self->min_latency_ms, MAX_LATENCY_MS));
  if (!adapt)
    return;
  if (wanted > self->latency_ms + 5)
    {
      g_debug ("congestion: jitter buffer %u -> %u ms (rtt %.1f, jitter %.1f, %" G_GUINT64_FORMAT " late)",
               self->latency_ms, wanted, self->rtt_ms, total.jitter_ms, late_now);
      self->latency_ms = wanted;
      self->latency_low_since_us = 0;
      g_object_set (self->webrtc, "latency", self->latency_ms, NULL);
    }
  else if (wanted + 10 < self->latency_ms && !trouble)
    {
      /* Shrink only after a quiet while: each change moves playout. */
      if (self->latency_low_since_us == 0)
        self->latency_low_since_us = now;
      else if (now - self->latency_low_since_us >= LATENCY_SHRINK_US)
        {
          self->latency_ms = wanted;
          self->latency_low_since_us = 0;
          g_object_set (self->webrtc, "latency", self->latency_ms, NULL);
        }
    }
  else
    self->latency_low_since_us = 0;
  if (trouble)
    self->latency_low_since_us = 0;
}

static gboolean
tick (gpointer user_data)
{
  PeercamCongestion *self = user_data;
  gint64 now = g_get_monotonic_time ();

  if (self->sender)
    sender_tick (self, now);
  else
    viewer_tick (self, now);
  self->last_tick_us = now;
  return G_SOURCE_CONTINUE;
}

static void
start_tick (PeercamCongestion *self)
{
  /* The viewer looks more often: its jitter buffer has to grow before the
   * next lost packet's deadline. */
  GSource *source = g_timeout_source_new (self->sender ? TICK_MS : VIEWER_TICK_MS);

  g_source_set_callback (source, tick, self, NULL);
  self->tick_id = g_source_attach (source, self->context);
  g_source_unref (source);
}

/* ---- viewer --------------------------------------------------------------- */

/* RTCP carries the viewer's NACKs and transport-cc feedback. rtpsession
 * follows RFC 4585: one early packet per regular interval, the regular
 * interval from an RTCP share of 5 % of a 64 kbit/s session bandwidth
 * (~0.5 s). NACKs waited for the next regular report and lost packets
 * stayed lost (5 % loss: 4 s frozen after the first frame); libwebrtc
 * sends feedback at once. Given both shares, rtpsession takes their sum
 * as the RTCP bandwidth (in bit/s, whatever the property blurbs say):
 * 60 kbit/s gives a report every ~50 ms (~25 kbit/s sent; a Chromium
 * viewer sends 15-20), and a NACK leaves within that. */
#define VIEWER_RTCP_RR_BPS       50000
#define VIEWER_RTCP_RS_BPS       10000
#define VIEWER_RTCP_MIN_INTERVAL (20 * GST_MSECOND)

/* A sender reports once a second, as libwebrtc's video sender does
 * (rtpsession's minimum is 5 s): its reports carry the answer to a
 * viewer's RTT request (RTCP XR, above), and a Chromium viewer without
 * one freezes on each retransmission. */
#define SENDER_RTCP_MIN_INTERVAL GST_SECOND

static void
tune_feedback (GstElement *element,
               gboolean    sender)
{
  GstElementFactory *factory = gst_element_get_factory (element);

  if (factory == NULL || !g_str_equal (GST_OBJECT_NAME (factory), "rtpsession"))
    return;
  g_debug ("congestion: quicker RTCP %s from %s", sender ? "reports" : "feedback", GST_OBJECT_NAME (element));
  if (sender)
    g_object_set (element, "rtcp-min-interval", (guint64) SENDER_RTCP_MIN_INTERVAL, NULL);
  else
    g_object_set (element,
                  "rtcp-rr-bandwidth", VIEWER_RTCP_RR_BPS,
                  "rtcp-rs-bandwidth", VIEWER_RTCP_RS_BPS,
                  "rtcp-min-interval", (guint64) VIEWER_RTCP_MIN_INTERVAL,
                  NULL);
}

static void
on_rtpbin_element_added (GstBin     *rtpbin,
                         GstElement *element,
                         gpointer    user_data)
{
  Link *link = user_data;
  g_autoptr(PeercamCongestion) self = g_weak_ref_get (&link->self);

  if (self)
    tune_feedback (element, self->sender);
}

static void
tune_existing (const GValue *value,
               gpointer      user_data)
{
  tune_feedback (g_value_get_object (value), GPOINTER_TO_INT (user_data));
}

/* Both kinds of call tune the rtpsession webrtcbin makes (now or later). */
static void
tune_rtpbin (PeercamCongestion *self)
{
  g_autoptr(GstIterator) it = NULL;

  if (self->rtpbin == NULL)
    self->rtpbin = gst_bin_get_by_name (GST_BIN (self->webrtc), "rtpbin");
  if (self->rtpbin == NULL)
    return;
  g_signal_connect_data (self->rtpbin, "element-added", G_CALLBACK (on_rtpbin_element_added),
                         link_ref (self->link), link_closure_unref, 0);
  it = gst_bin_iterate_elements (GST_BIN (self->rtpbin));
  while (gst_iterator_foreach (it, tune_existing, GINT_TO_POINTER (self->sender)) == GST_ITERATOR_RESYNC)
    gst_iterator_resync (it);
}

static void
on_new_jitterbuffer (GstElement *rtpbin,
                     GstElement *jitterbuffer,
                     guint       session,
                     guint       ssrc,
                     gpointer    user_data)
{
  Link *link = user_data;
  g_autoptr(PeercamCongestion) self = g_weak_ref_get (&link->self);
  GWeakRef *ref;

  if (self == NULL)
    return;
  /* NACK: webrtcbin 1.22 enables it only for SSRCs the offer announced
   * (a=ssrc), which GStreamer's own offers don't carry. Lost packets are
   * asked for again while they can still make their playout time; only
   * then does the depayloader's keyframe request go out. A latency of 0
   * leaves no time for that: the jitter buffer would stall waiting.
   * Only a gap in the sequence numbers says a packet is missing, as in
   * libwebrtc: rtx-next-seqnum asks for the next packet once a frame
   * interval has passed since its frame's timestamp, and a frame's packets
   * behind a bottleneck or a pacer come later than that. A Chromium sender
   * got ~15 such NACKs a second on a clean link and, at 500 kbit/s,
   * retransmitted packets still in the queue: 28 % of its bytes, 126 % of
   * the cap offered (tools/bench network, c2p); a Peercam caller under a
   * 1 Mbit/s cap got NACKs for packets it had not sent yet, a quarter of
   * the link in repairs (test-congestion-netns). */
  if (self->min_latency_ms > 0)
    g_object_set (jitterbuffer, "do-retransmission", TRUE, "do-lost", TRUE,
                  "rtx-next-seqnum", FALSE, NULL);
  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, jitterbuffer);
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->jitterbuffers, ref);
  g_mutex_unlock (&self->lock);
}

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

static void
on_webrtc_pad_added (GstElement *webrtc,
                     GstPad     *pad,
                     gpointer    user_data)
{
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, keyframe_probe,
                     link_ref (user_data), link_unref);
}

/* ---- viewer: REMB for a sender that adapts from it alone ------------------ */

/* A caller whose offer has goog-remb and no transport-cc (aiortc 1.4) sets
 * its encoder from REMB and from nothing else: without one it sends its
 * start rate whatever the link (500 kbit/s into a 350 kbit/s cap: 790
 * kbit/s offered with its retransmissions, no frame decoded,
 * test-remb-netns). GStreamer 1.22's rtpsession makes no REMB, so the
 * viewer estimates (PeercamRemoteBwe, from abs-send-time, which
 * accept_offer_extensions() answers) and sends it with its regular RTCP.
 * Callers with transport-cc (Chromium, Firefox, Peercam) get none, as
 * before: their own estimators work from the feedback. */

static gboolean
media_has_feedback (const GstSDPMedia *media,
                    const char        *type)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++)
    {
      const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
      const char *space;

      /* a=rtcp-fb:<pt> <type>[ <parameter>] */
      if (g_strcmp0 (attr->key, "rtcp-fb") != 0 || attr->value == NULL ||
          (space = strchr (attr->value, ' ')) == NULL)
        continue;
      if (g_str_has_prefix (space + 1, type) &&
          (space[1 + strlen (type)] == '\0' || space[1 + strlen (type)] == ' '))
        return TRUE;
    }
  return FALSE;
}

/* The id of @uri's a=extmap in @media; 0: none. Ids over 14 need
 * two-byte headers: only transport-cc may have them here (webrtcbin
 * writes its sequence numbers either way); the viewer reads abs-send-time
 * itself, from one-byte headers. */
static guint
media_extmap_id (const GstSDPMedia *media,
                 const char        *uri)
{
  guint max_id = g_str_equal (uri, PEERCAM_TWCC_URI) ? 255 : 14;

  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++)
    {
      const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
      guint id;
      char found[256];

      /* a=extmap:<id>[/<direction>] <uri> */
      if (g_strcmp0 (attr->key, "extmap") != 0 || attr->value == NULL)
        continue;
      if (sscanf (attr->value, "%u%*[^ ] %255s", &id, found) != 2 &&
          sscanf (attr->value, "%u %255s", &id, found) != 2)
        continue;
      if (g_str_equal (found, uri) && id >= 1 && id <= max_id)
        return id;
    }
  return 0;
}

static void
remb_add_packet (PeercamCongestion *self,
                 GstBuffer         *buffer,
                 gint64             arrival_us)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  guint pt;
  gpointer data;
  guint size;

  if (!gst_rtp_buffer_map (buffer, GST_MAP_READ, &rtp))
    return;
  pt = gst_rtp_buffer_get_payload_type (&rtp);
  if (pt < 128 && (self->remb_pts[pt / 32] & (1u << (pt % 32))))
    {
      guint16 seq = gst_rtp_buffer_get_seq (&rtp);
      gsize bytes = gst_buffer_get_size (buffer) + REMB_TRANSPORT_OVERHEAD;
      gsize payload = gst_rtp_buffer_get_payload_len (&rtp);
      const guint8 *abs;

      self->remb_ssrc = gst_rtp_buffer_get_ssrc (&rtp);
      if (self->remb_abs_id != 0 &&
          gst_rtp_buffer_get_extension_onebyte_header (&rtp, self->remb_abs_id, 0, &data, &size) &&
          size == 3)
        {
          abs = data;
          peercam_remote_bwe_on_abs_send_time (self->remote_bwe, seq, (abs[0] << 16) | (abs[1] << 8) | abs[2],
                                               bytes, payload, arrival_us);
        }
      else
        peercam_remote_bwe_on_rtp_timestamp (self->remote_bwe, seq, gst_rtp_buffer_get_timestamp (&rtp),
                                             self->remb_clock_rate, bytes, payload, arrival_us);
    }
  gst_rtp_buffer_unmap (&rtp);
}

static gboolean
remb_add_listed (GstBuffer **buffer,
                 guint       idx,
                 gpointer    user_data)
{
  PeercamCongestion *self = user_data;

  remb_add_packet (self, *buffer, g_get_monotonic_time ());
  return TRUE;
}

/* Every RTP packet into the rtpsession (after SRTP), on the streaming thread. */
static GstPadProbeReturn
remb_rtp_probe (GstPad          *pad,
                GstPadProbeInfo *info,
                gpointer         user_data)
{
  Link *link = user_data;
  g_autoptr(PeercamCongestion) self = g_weak_ref_get (&link->self);

  if (self == NULL)
    return GST_PAD_PROBE_REMOVE;
  g_mutex_lock (&self->lock);
  if (self->remote_bwe)
    {
      if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
        gst_buffer_list_foreach (GST_PAD_PROBE_INFO_BUFFER_LIST (info), remb_add_listed, self);
      else if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
        remb_add_packet (self, GST_PAD_PROBE_INFO_BUFFER (info), g_get_monotonic_time ());
    }
  g_mutex_unlock (&self->lock);
  return GST_PAD_PROBE_OK;
}

/* Our RTCP: the REMB goes with it when due (rtpsession sends a report
 * every ~50 ms, VIEWER_RTCP_RR_BPS). Early packets too: while packets are
 * lost nearly all are early ones (NACKs), and the regular reports waited
 * 2.5 s behind them (test-remb-netns): the REMB that should have stopped
 * the losses waited with them. A packet with a REMB is not to be
 * suppressed (TRUE). */
static gboolean
remb_on_sending_rtcp (GObject   *session,
                      GstBuffer *buffer,
                      gboolean   early,
                      gpointer   user_data)
{
  Link *link = user_data;
  g_autoptr(PeercamCongestion) self = NULL;
  g_autoptr(GBytes) remb = NULL;
  GstMapInfo map;
  guint32 sender_ssrc = 0, media_ssrc = 0;
  guint64 bps = 0;
  gboolean have_sender = FALSE;

  if (!gst_buffer_is_writable (buffer) || !gst_buffer_map (buffer, &map, GST_MAP_READ))
    return FALSE;
  /* The compound starts with our receiver (or sender) report: its SSRC
   * is ours. */
  if (map.size >= 8 && (map.data[0] >> 6) == 2 && (map.data[1] == 200 || map.data[1] == 201))
    {
      sender_ssrc = GST_READ_UINT32_BE (map.data + 4);
      have_sender = TRUE;
    }
  gst_buffer_unmap (buffer, &map);
  self = g_weak_ref_get (&link->self);
  if (self == NULL || !have_sender)
    return FALSE;
  g_mutex_lock (&self->lock);
  if (self->remote_bwe && self->remb_ssrc != 0 &&
      peercam_remote_bwe_poll_remb (self->remote_bwe, g_get_monotonic_time (), &bps))
    {
      media_ssrc = self->remb_ssrc;
      remb = peercam_remb_build (sender_ssrc, bps, &media_ssrc, 1);
    }
  g_mutex_unlock (&self->lock);
  if (remb)
    {
      gsize size = g_bytes_get_size (remb);

      g_debug ("congestion: REMB %" G_GUINT64_FORMAT " kbit/s for %08x", bps / 1000, media_ssrc);
      gst_buffer_append_memory (buffer, gst_memory_new_wrapped (GST_MEMORY_FLAG_READONLY,
                                                                (gpointer) g_bytes_get_data (remb, NULL), size,
                                                                0, size, g_bytes_ref (remb),
                                                                (GDestroyNotify) g_bytes_unref));
      return TRUE;
    }
  return FALSE;
}

/* Once the answer is set: whether the caller wants REMB, and if so start
 * estimating. Returns FALSE to be asked again later (no answer yet). */
static gboolean
viewer_setup_remb (PeercamCongestion *self)
{
  g_autoptr(GstWebRTCSessionDescription) remote = NULL;
  g_autoptr(GstWebRTCSessionDescription) local = NULL;
  GObject *session;

  g_object_get (self->webrtc, "remote-description", &remote, "local-description", &local, NULL);
  if (remote == NULL || local == NULL || remote->type != GST_WEBRTC_SDP_TYPE_OFFER)
    return remote != NULL && local != NULL;  /* we made the offer: no foreign REMB sender */
  for (guint i = 0; i < gst_sdp_message_medias_len (remote->sdp) && i < gst_sdp_message_medias_len (local->sdp); i++)
    {
      const GstSDPMedia *offer = gst_sdp_message_get_media (remote->sdp, i);
      const GstSDPMedia *answer = gst_sdp_message_get_media (local->sdp, i);
      guint32 pts[4] = { 0 };
      guint clock_rate = 90000;
      gboolean any = FALSE;

      if (g_strcmp0 (gst_sdp_media_get_media (offer), "video") != 0 || gst_sdp_media_get_port (answer) == 0)
        continue;
      if (!media_has_feedback (offer, "goog-remb") || media_has_feedback (offer, "transport-cc") ||
          media_extmap_id (offer, PEERCAM_TWCC_URI) != 0)
        return TRUE;
      /* The payload types of the media (not its RTX, RED or FEC). */
      for (guint f = 0; f < gst_sdp_media_formats_len (answer); f++)
        {
          guint pt = (guint) g_ascii_strtoull (gst_sdp_media_get_format (answer, f), NULL, 10);
          g_autoptr(GstCaps) caps = gst_sdp_media_get_caps_from_media (answer, (gint) pt);
          const GstStructure *s = caps && gst_caps_get_size (caps) > 0 ? gst_caps_get_structure (caps, 0) : NULL;
          const char *name = s ? gst_structure_get_string (s, "encoding-name") : NULL;
          gint rate;

          if (pt >= 128 || name == NULL || g_ascii_strcasecmp (name, "rtx") == 0 ||
              g_ascii_strcasecmp (name, "red") == 0 || g_ascii_strcasecmp (name, "ulpfec") == 0)
            continue;
          if (gst_structure_get_int (s, "clock-rate", &rate) && rate > 0)
            clock_rate = (guint) rate;
          pts[pt / 32] |= 1u << (pt % 32);
          any = TRUE;
        }
      if (!any)
        return TRUE;
      if ((session = internal_session (self)) == NULL)
        return FALSE;  /* not yet */
      self->remb_pad = gst_element_get_static_pad (self->rtpbin, "recv_rtp_sink_0");
      if (self->remb_pad == NULL)
        return FALSE;
      g_mutex_lock (&self->lock);
      self->remote_bwe = peercam_remote_bwe_new (&(PeercamBweConfig) { .start_bps = REMB_START_BPS });
      memcpy (self->remb_pts, pts, sizeof pts);
      self->remb_abs_id = media_extmap_id (answer, PEERCAM_ABS_SEND_TIME_URI);
      self->remb_clock_rate = clock_rate;
      g_mutex_unlock (&self->lock);
      self->remb_probe_id = gst_pad_add_probe (self->remb_pad,
                                               GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                                               remb_rtp_probe, link_ref (self->link), link_unref);
      self->remb_rtcp_id = g_signal_connect_data (session, "on-sending-rtcp", G_CALLBACK (remb_on_sending_rtcp),
                                                  link_ref (self->link), link_closure_unref, 0);
      g_debug ("congestion: the caller adapts from REMB only: estimating from %s",
               self->remb_abs_id ? "abs-send-time" : "RTP timestamps");
      return TRUE;
    }
  return TRUE;
}

/* ---- public ----------------------------------------------------------------- */

/* The probes this controller puts on its encoder's pads. */
static void
add_encoder_probes (PeercamCongestion *self,
                    GstElement        *encoder)
{
  self->encoder_src = gst_element_get_static_pad (encoder, "src");
  self->keyframe_probe = gst_pad_add_probe (self->encoder_src, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
                                            keyframe_probe, link_ref (self->link), link_unref);
  self->frames_probe = gst_pad_add_probe (self->encoder_src, GST_PAD_PROBE_TYPE_BUFFER,
                                          frames_probe, link_ref (self->link), link_unref);
  self->encoder_sink = gst_element_get_static_pad (encoder, "sink");
  if (self->encoder_sink)
    self->pushback_probe = gst_pad_add_probe (self->encoder_sink, GST_PAD_PROBE_TYPE_BUFFER,
                                              pushback_probe, link_ref (self->link), link_unref);
}

static void
release_encoder_pads (PeercamCongestion *self)
{
  if (self->encoder_src)
    {
      if (self->keyframe_probe)
        gst_pad_remove_probe (self->encoder_src, self->keyframe_probe);
      if (self->frames_probe)
        gst_pad_remove_probe (self->encoder_src, self->frames_probe);
    }
  if (self->encoder_sink && self->pushback_probe)
    gst_pad_remove_probe (self->encoder_sink, self->pushback_probe);
  self->keyframe_probe = self->frames_probe = self->pushback_probe = 0;
  g_clear_object (&self->encoder_src);
  g_clear_object (&self->encoder_sink);
}

static void
attach_common (PeercamCongestion *self,
               GstElement        *webrtc)
{
  peercam_congestion_detach (self);
  self->link = link_new (self, self->context);
  self->webrtc = gst_object_ref (webrtc);
}

static void
share_join (PeercamCongestion        *self,
            GstElement               *encoder,
            GstElement               *filter,
            const PeercamVideoFormat *source)
{
  self->share = g_object_get_qdata (G_OBJECT (encoder), share_quark ());
  if (self->share)
    self->share->ref++;
  else
    {
      self->share = g_new0 (Share, 1);
      self->share->ref = 1;
      self->share->encoder = encoder;
      self->share->members = g_hash_table_new_full (NULL, NULL, NULL, g_free);
      self->share->source = *source;
      self->share->applied = *source;
      self->share->link = link_new (NULL, self->context);
      g_object_set_qdata (G_OBJECT (encoder), share_quark (), self->share);
      if (filter)
        {
          /* the scaler: whatever feeds the filter */
          g_autoptr(GstPad) filter_sink = gst_element_get_static_pad (filter, "sink");
          g_autoptr(GstPad) peer = gst_pad_get_peer (filter_sink);
          g_autoptr(GstElement) scaler = peer ? gst_pad_get_parent_element (peer) : NULL;

          self->share->link->filter = gst_object_ref (filter);
          if (scaler)
            self->share->scaler_sink = gst_element_get_static_pad (scaler, "sink");
          if (self->share->scaler_sink)
            self->share->scaler_probe = gst_pad_add_probe (self->share->scaler_sink,
                                                           GST_PAD_PROBE_TYPE_BUFFER, scaler_probe,
                                                           link_ref (self->share->link), link_unref);
          else
            g_warning ("congestion: nothing feeds the scaler's filter; sending at the source format");
        }
    }
  g_hash_table_insert (self->share->members, self,
                       g_memdup2 (&(Member) { 0, *source }, sizeof (Member)));
}

static void
share_leave (PeercamCongestion *self)
{
  if (self->share == NULL)
    return;
  /* The others may take more now. */
  g_hash_table_remove (self->share->members, self);
  if (g_hash_table_size (self->share->members) > 0)
    {
      share_apply_bitrate (self->share);
      share_apply_format (self->share);
    }
  share_unref (self->share);
  self->share = NULL;
}

void
peercam_congestion_attach_sender (PeercamCongestion        *self,
                                  GstElement               *webrtc,
                                  GstWebRTCRTPTransceiver  *transceiver,
                                  GstElement               *encoder,
                                  GstElement               *payloader,
                                  GstElement               *filter,
                                  const PeercamVideoFormat *source)
{
  PeercamBweConfig config = { 0 };
  g_autoptr(GstRTPHeaderExtension) twcc = NULL;
  g_autoptr(GstCaps) prefs = NULL;
  double full_bps;

  g_return_if_fail (PEERCAM_IS_CONGESTION (self));
  g_return_if_fail (GST_IS_ELEMENT (webrtc) && GST_IS_ELEMENT (encoder) && GST_IS_ELEMENT (payloader));
  g_return_if_fail (source != NULL && source->width > 0 && source->height > 0 && source->fps > 0);

  attach_common (self, webrtc);
  self->sender = TRUE;
  self->encoder = gst_object_ref (encoder);
  self->filter = filter ? gst_object_ref (filter) : NULL;
  self->payloader_src = gst_element_get_static_pad (payloader, "src");
  if (self->payloader_src)
    {
      g_autoptr(GstCaps) caps = NULL;

      self->ssrc_probe = gst_pad_add_probe (self->payloader_src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                                            ssrc_probe, link_ref (self->link), link_unref);
      /* caps from before the probe, unless it has seen newer ones */
      caps = gst_pad_get_current_caps (self->payloader_src);
      link_set_media_ssrc (self->link, caps, TRUE);
    }
  share_join (self, encoder, filter, source);
  self->source = *source;
  self->sending = *source;
  self->wanted = *source;

  /* Full quality is twice the rate the ladder needs for the source format
   * (720p30: 2.6 Mbit/s). Start conservatively and ramp up. */
  full_bps = (double) source->width * source->height * source->fps * 0.047 * 2;
  config.max_bps = (guint64) CLAMP (full_bps, 300000, 4000000);
  config.start_bps = MIN (PEERCAM_BWE_DEFAULT_START_BPS, config.max_bps);
  /* The first frames in the format the start rate carries, like a
   * browser: the source's own would overflow a capped link before the
   * estimate knows it (a 1280x720 test pattern needs ~1.6 Mbit/s even at
   * VP8's coarsest quantizer). The fast start climbs from there. */
  if (self->filter)
    {
      PeercamVideoFormat start = peercam_degradation_apply (self->degradation, source,
                                                            config.start_bps);

      if (!same_format (&start, source))
        set_send_format (self, &start);
      self->wanted = self->sending;
    }
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->bwe, peercam_bwe_free);
  self->bwe = peercam_bwe_new (&config);
  self->last_fed_seq = -1;
  self->first_feedback_us = -1;
  g_mutex_unlock (&self->lock);
  self->first_sent_us = 0;
  self->feedback_checked = FALSE;
  set_encoder_bitrate (self, config.start_bps);
  self->applied_bps = config.start_bps;
  /* A keyframe of at most four average frames: paced at 2.5x the estimate
   * it still fits a 100 ms bottleneck buffer (an unlimited one is lost). */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (encoder), "max-intra-bitrate"))
    g_object_set (encoder, "max-intra-bitrate", 400, NULL);

  /* Transport-wide sequence numbers on every packet, and the extmap in the
   * offer: the payloader writes them, the rtpsession answers feedback.
   * The offer also asks for the viewer's RTT requests (a=rtcp-xr, RFC
   * 3611), which on_sending_rtcp() answers; the reports go every second. */
  twcc = gst_rtp_header_extension_create_from_uri (PEERCAM_TWCC_URI);
  if (twcc)
    {
      gst_rtp_header_extension_set_id (twcc, 1);
      g_signal_emit_by_name (payloader, "add-extension", twcc);
    }
  else
    g_warning ("congestion: no transport-wide-cc header extension; sending at the start rate");
  if (transceiver)
    g_object_get (transceiver, "codec-preferences", &prefs, NULL);
  if (prefs)
    {
      g_autoptr(GstCaps) offer_caps = gst_caps_copy (prefs);

      if (twcc)
        gst_caps_set_simple (offer_caps, "extmap-1", G_TYPE_STRING, PEERCAM_TWCC_URI, NULL);
      gst_caps_set_simple (offer_caps, "a-rtcp-xr", G_TYPE_STRING, PEERCAM_RTCP_XR_RCVR_RTT, NULL);
      g_object_set (transceiver, "codec-preferences", offer_caps, NULL);
    }
  tune_rtpbin (self);

  g_signal_connect_data (webrtc, "request-aux-sender", G_CALLBACK (on_request_aux_sender),
                         link_ref (self->link), link_closure_unref, 0);
  add_encoder_probes (self, encoder);
  start_tick (self);
}

void
peercam_congestion_attach_viewer (PeercamCongestion *self,
                                  GstElement        *webrtc,
                                  guint              min_latency_ms)
{
  g_return_if_fail (PEERCAM_IS_CONGESTION (self));
  g_return_if_fail (GST_IS_ELEMENT (webrtc));

  attach_common (self, webrtc);
  self->sender = FALSE;
  self->min_latency_ms = min_latency_ms;
  self->latency_ms = min_latency_ms;
  tune_rtpbin (self);
  if (self->rtpbin)
    g_signal_connect_data (self->rtpbin, "new-jitterbuffer", G_CALLBACK (on_new_jitterbuffer),
                           link_ref (self->link), link_closure_unref, 0);
  else
    g_warning ("congestion: webrtcbin has no rtpbin; the jitter buffer stays at %u ms", min_latency_ms);
  g_signal_connect_data (webrtc, "pad-added", G_CALLBACK (on_webrtc_pad_added),
                         link_ref (self->link), link_closure_unref, 0);
  start_tick (self);
}

/* Answer @uri's extension with the offer's id, through the transceiver's
 * codec preferences (webrtcbin answers the extmaps listed there). */
static gboolean
answer_extension (GstWebRTCRTPTransceiver *transceiver,
                  const GstSDPMedia       *offer,
                  const char              *uri)
{
  g_autoptr(GstCaps) prefs = NULL;
  g_autofree char *field = NULL;
  guint id = media_extmap_id (offer, uri);

  if (id == 0)
    return FALSE;
  g_object_get (transceiver, "codec-preferences", &prefs, NULL);
  if (prefs == NULL)
    return FALSE;
  field = g_strdup_printf ("extmap-%u", id);
  prefs = gst_caps_make_writable (prefs);
  gst_caps_set_simple (prefs, field, G_TYPE_STRING, uri, NULL);
  g_object_set (transceiver, "codec-preferences", prefs, NULL);
  return TRUE;
}

gboolean
peercam_congestion_accept_twcc (GstWebRTCRTPTransceiver *transceiver,
                                const GstSDPMedia       *offer)
{
  g_return_val_if_fail (GST_IS_WEBRTC_RTP_TRANSCEIVER (transceiver), FALSE);
  g_return_val_if_fail (offer != NULL, FALSE);

  if (answer_extension (transceiver, offer, PEERCAM_TWCC_URI))
    return TRUE;
  /* A caller that adapts from REMB (goog-remb, no transport-cc: aiortc)
   * stamps abs-send-time only when the answer has it, and the viewer's
   * REMB estimate needs it (viewer_setup_remb). */
  if (media_has_feedback (offer, "goog-remb") && !media_has_feedback (offer, "transport-cc"))
    answer_extension (transceiver, offer, PEERCAM_ABS_SEND_TIME_URI);
  return FALSE;
}

/* The sources live on self->context, which need not be the global default
 * one (the start-up warm-up call runs on a thread of its own), so
 * g_source_remove() would not find them. */
static void
clear_source_id (PeercamCongestion *self,
                 guint             *id)
{
  GSource *source;

  if (*id == 0)
    return;
  source = g_main_context_find_source_by_id (self->context, *id);
  if (source)
    g_source_destroy (source);
  *id = 0;
}

void
peercam_congestion_detach (PeercamCongestion *self)
{
  g_return_if_fail (PEERCAM_IS_CONGESTION (self));

  clear_source_id (self, &self->tick_id);
  clear_source_id (self, &self->keyframe_id);
  release_encoder_pads (self);
  share_leave (self);
  if (self->webrtc && self->link)
    g_signal_handlers_disconnect_by_data (self->webrtc, self->link);
  if (self->rtpbin && self->link)
    g_signal_handlers_disconnect_by_data (self->rtpbin, self->link);
  if (self->session && self->feedback_id)
    g_signal_handler_disconnect (self->session, self->feedback_id);
  if (self->session && self->rtcp_in_id)
    g_signal_handler_disconnect (self->session, self->rtcp_in_id);
  if (self->session && self->rtcp_out_id)
    g_signal_handler_disconnect (self->session, self->rtcp_out_id);
  if (self->session && self->remb_rtcp_id)
    g_signal_handler_disconnect (self->session, self->remb_rtcp_id);
  self->remb_rtcp_id = 0;
  if (self->remb_pad && self->remb_probe_id)
    gst_pad_remove_probe (self->remb_pad, self->remb_probe_id);
  self->remb_probe_id = 0;
  g_clear_object (&self->remb_pad);
  self->feedback_id = self->rtcp_in_id = self->rtcp_out_id = 0;
  g_clear_object (&self->session);
  g_clear_object (&self->rtpbin);
  g_clear_object (&self->webrtc);
  g_clear_object (&self->encoder);
  g_clear_object (&self->filter);
  if (self->payloader_src && self->ssrc_probe)
    gst_pad_remove_probe (self->payloader_src, self->ssrc_probe);
  self->ssrc_probe = 0;
  g_clear_object (&self->payloader_src);
  g_mutex_lock (&self->lock);
  g_clear_object (&self->pacer);
  g_ptr_array_set_size (self->jitterbuffers, 0);
  g_mutex_unlock (&self->lock);
  if (self->link)
    {
      g_mutex_lock (&self->link->lock);
      g_clear_object (&self->link->pacer);
      self->link->detached = TRUE;
      g_mutex_unlock (&self->link->lock);
    }
  /* Streaming threads still holding the link find it stale. */
  g_clear_pointer (&self->link, link_unref);
}

void
peercam_congestion_move_encoder (PeercamCongestion *self,
                                 GstElement        *encoder,
                                 GstElement        *filter)
{
  g_return_if_fail (PEERCAM_IS_CONGESTION (self));
  g_return_if_fail (GST_IS_ELEMENT (encoder));

  if (!self->sender || self->encoder == NULL || self->encoder == encoder)
    return;
  share_leave (self);
  release_encoder_pads (self);
  g_set_object (&self->encoder, encoder);
  g_set_object (&self->filter, filter);
  share_join (self, encoder, filter, &self->source);
  /* This controller's rate and format, at once. */
  {
    Member *member = g_hash_table_lookup (self->share->members, self);

    member->bps = self->encoder_bps ? self->encoder_bps : (guint64) (self->applied_bps * ENCODER_SHARE);
    member->format = self->sending;
    share_apply_bitrate (self->share);
    share_apply_format (self->share);
  }
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (encoder), "max-intra-bitrate"))
    g_object_set (encoder, "max-intra-bitrate", 400, NULL);
  add_encoder_probes (self, encoder);
}

void
peercam_congestion_fill_stats (PeercamCongestion *self,
                               PeercamCallStats  *stats)
{
  g_return_if_fail (PEERCAM_IS_CONGESTION (self));

  if (self->webrtc == NULL)
    return;
  if (self->sender)
    {
      PeercamPacerElement *pacer;
      guint64 rtx = 0, refused = 0, requests, probe_bps, probe_bytes = 0;
      guint64 estimate;
      guint probes;
      double loss;

      g_mutex_lock (&self->lock);
      estimate = peercam_bwe_get_target_bitrate (self->bwe);
      probes = peercam_bwe_get_probes (self->bwe);
      probe_bps = peercam_bwe_get_probe_result (self->bwe);
      loss = peercam_bwe_get_loss_fraction (self->bwe);
      requests = self->keyframe_requests;
      pacer = self->pacer ? g_object_ref (self->pacer) : NULL;
      g_mutex_unlock (&self->lock);
      if (pacer)
        {
          rtx = peercam_pacer_element_get_retransmissions (pacer);
          refused = peercam_pacer_element_get_refused_nacks (pacer);
          probe_bytes = peercam_pacer_element_get_probe_bytes (pacer);
        }
      g_clear_object (&pacer);

      stats->has_send = TRUE;
      stats->estimate_kbps = (gint64) (estimate / 1000);
      stats->send_width = self->sending.width;
      stats->send_height = self->sending.height;
      stats->send_fps = self->send_fps;
      stats->send_kbps = self->send_kbps;
      stats->send_loss_pct = loss * 100;
      stats->send_retransmissions = (gint64) rtx;
      stats->nacks_refused = (gint64) refused;
      stats->keyframe_requests = (gint64) requests;
      stats->frames_dropped = (gint64) g_atomic_pointer_get (&self->link->dropped);
      stats->probes = probes;
      stats->probe_kbps = (gint64) (probe_bps / 1000);
      stats->probe_bytes = (gint64) probe_bytes;
    }
  else
    {
      stats->has_receive = TRUE;
      stats->loss_pct = self->loss_pct;
      stats->jitter_ms = self->jitter_ms;
      stats->latency_ms = self->latency_ms;
      stats->retransmissions = (gint64) self->retransmissions;
      /* The jitter buffers' num-lost: packets they gave up on after asking
       * for retransmissions (as of the last tick, ≤ TICK_MS ago). Not
       * inbound-rtp's packets-lost: the RTP session counts gaps in the
       * original stream before retransmissions fill them, so a packet that
       * came on a second try counts there but was never missing from the
       * picture. A packet that comes after its give-up is dropped (num-late)
       * and stays counted here. */
      stats->packets_lost = (gint64) self->last_lost;
    }
}

PeercamDegradation
peercam_congestion_get_degradation (PeercamCongestion *self)
{
  g_return_val_if_fail (PEERCAM_IS_CONGESTION (self), PEERCAM_DEGRADATION_BALANCED);
  return self->degradation;
}

void
peercam_congestion_set_degradation (PeercamCongestion  *self,
                                    PeercamDegradation  degradation)
{
  g_return_if_fail (PEERCAM_IS_CONGESTION (self));
  self->degradation = degradation;
}

guint
peercam_congestion_get_estimate_kbps (PeercamCongestion *self)
{
  guint64 bps;

  g_return_val_if_fail (PEERCAM_IS_CONGESTION (self), 0);
  g_mutex_lock (&self->lock);
  bps = self->bwe ? peercam_bwe_get_target_bitrate (self->bwe) : 0;
  g_mutex_unlock (&self->lock);
  return (guint) (bps / 1000);
}

guint
peercam_congestion_get_latency_ms (PeercamCongestion *self)
{
  g_return_val_if_fail (PEERCAM_IS_CONGESTION (self), 0);
  return self->latency_ms;
}

/* ---- GObject ------------------------------------------------------------------ */

static void
peercam_congestion_dispose (GObject *object)
{
  PeercamCongestion *self = PEERCAM_CONGESTION (object);

  peercam_congestion_detach (self);
  G_OBJECT_CLASS (peercam_congestion_parent_class)->dispose (object);
}

static void
peercam_congestion_finalize (GObject *object)
{
  PeercamCongestion *self = PEERCAM_CONGESTION (object);

  g_clear_pointer (&self->bwe, peercam_bwe_free);
  g_clear_pointer (&self->keyframes, peercam_keyframe_limiter_free);
  g_clear_pointer (&self->rrtr, peercam_rrtr_responder_free);
  g_clear_pointer (&self->remote_bwe, peercam_remote_bwe_free);
  g_ptr_array_unref (self->jitterbuffers);
  g_weak_ref_clear (&self->keyframe_pad);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (peercam_congestion_parent_class)->finalize (object);
}

static void
peercam_congestion_class_init (PeercamCongestionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = peercam_congestion_dispose;
  object_class->finalize = peercam_congestion_finalize;
}

static void
peercam_congestion_init (PeercamCongestion *self)
{
  g_mutex_init (&self->lock);
  self->bwe = peercam_bwe_new (NULL);
  self->last_fed_seq = -1;
  self->first_feedback_us = -1;
  self->keyframes = peercam_keyframe_limiter_new (KEYFRAME_INTERVAL_US);
  self->rrtr = peercam_rrtr_responder_new ();
  self->jitterbuffers = g_ptr_array_new_with_free_func (weak_ref_free);
  g_weak_ref_init (&self->keyframe_pad, NULL);
  self->degradation = PEERCAM_DEGRADATION_BALANCED;
  self->content_factor = 1.0;
}

PeercamCongestion *
peercam_congestion_new (GMainContext *context)
{
  PeercamCongestion *self = g_object_new (PEERCAM_TYPE_CONGESTION, NULL);

  self->context = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  return self;
}
