/* peercam-headless.c
 *
 * `peercam --headless` and `peercam --host-only`: the same session and server
 * objects the windows use, driven from the command line, with no GTK at all
 * so it runs on machines without a display. With --events every event is one
 * JSON object per line on stdout, each with t_ms since start.
 *
 * PEERCAM_FRAME_LOG=FILE (viewer, for tools/bench network): one line per
 * decoded frame as it reaches the remote sink, "T_US WIDTH HEIGHT", T_US on
 * the same clock as t_ms. Receiver-side fps and freezes come from these.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <errno.h>
#include <stdio.h>
#include <gio/gio.h>

#include "peercam-headless.h"
#include "peercam-options.h"
#include "peercam-session-private.h"
#include "peercam-call-settings.h"
#include "peercam-host-private.h"
#include "peercam-screencast-portal.h"
#include "peercam-web.h"

#define DEFAULT_SERVER_URL "http://127.0.0.1:8080"
#define DEFAULT_ROOM       "room"
#define DEFAULT_PORT       8080

typedef struct {
  GApplication           *app;
  PeercamOptions         *options;
  PeercamHost            *host;
  PeercamSession         *session;
  gint64                  start_us;
  FILE                   *frame_log;     /* PEERCAM_FRAME_LOG */
  int                     status;
  PeercamScreencastPortal *screencast;   /* --source screen */
  char                   *server_url;    /* joined once the screen is picked */
} Headless;

/* On the streaming thread; stdio locks the stream itself. */
static GstPadProbeReturn
log_frame_probe (GstPad          *pad,
                 GstPadProbeInfo *info,
                 gpointer         data)
{
  Headless *h = data;
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  GstStructure *structure = caps ? gst_caps_get_structure (caps, 0) : NULL;
  int width = 0, height = 0;

  if (structure != NULL)
    {
      gst_structure_get_int (structure, "width", &width);
      gst_structure_get_int (structure, "height", &height);
    }
  fprintf (h->frame_log, "%" G_GINT64_FORMAT " %d %d\n",
           g_get_monotonic_time () - h->start_us, width, height);
  return GST_PAD_PROBE_OK;
}

/* The engine's own headless sink, plus a probe that logs each frame. */
static gboolean
set_frame_log_sink (Headless           *h,
                    PeercamCallEngine  *engine,
                    const char         *path,
                    GError            **error)
{
  GstElement *sink;
  g_autoptr(GstPad) pad = NULL;

  h->frame_log = fopen (path, "w");
  if (h->frame_log == NULL)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot write the frame log “%s”: %s"), path, g_strerror (saved));
      return FALSE;
    }
  setvbuf (h->frame_log, NULL, _IOLBF, 0);
  sink = gst_element_factory_make ("fakesink", "remote-sink");
  g_object_set (sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, NULL);
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, log_frame_probe, h, NULL);
  peercam_call_engine_set_remote_sink (engine, sink);
  return TRUE;
}

static void
print_event (Headless   *h,
             const char *name,
             JsonObject *fields)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *line = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "event");
  json_builder_add_string_value (builder, name);
  json_builder_set_member_name (builder, "t_ms");
  json_builder_add_int_value (builder, (g_get_monotonic_time () - h->start_us) / 1000);

  if (fields != NULL)
    {
      JsonObjectIter iter;
      const char *member;
      JsonNode *value;

      json_object_iter_init (&iter, fields);
      while (json_object_iter_next (&iter, &member, &value))
        {
          json_builder_set_member_name (builder, member);
          json_builder_add_value (builder, json_node_copy (value));
        }
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  line = json_generator_to_data (generator, NULL);

  if (h->options->events)
    {
      g_print ("%s\n", line);
      fflush (stdout);
    }
  else if (g_str_equal (name, "error"))
    {
      g_printerr ("peercam: %s\n", json_object_get_string_member_with_default (fields, "message", ""));
    }
  else if (!g_str_equal (name, "stats"))
    {
      g_message ("%s", line);
    }
}

static void
print_simple_event (Headless   *h,
                    const char *name,
                    const char *key,
                    const char *value)
{
  g_autoptr(JsonObject) fields = json_object_new ();

  if (key != NULL)
    json_object_set_string_member (fields, key, value);
  print_event (h, name, fields);
}

/* The session's typed signals as --events lines: each signal is the event
 * of its name, with the members it always had (tests, scripts and the
 * interop peers read them). */

/* @fields and, when the event is about a caller's viewer that has an id,
 * "viewer" last: copied member by member first, as the session's JSON
 * events always were, so that the members print in the same order. */
static void
print_viewer_event (Headless   *h,
                    const char *name,
                    JsonObject *fields,
                    const char *viewer)
{
  g_autoptr(JsonObject) copy = NULL;
  JsonObjectIter iter;
  const char *member;
  JsonNode *node;

  if (viewer == NULL)
    {
      print_event (h, name, fields);
      return;
    }
  copy = json_object_new ();
  json_object_iter_init (&iter, fields);
  while (json_object_iter_next (&iter, &member, &node))
    json_object_set_member (copy, member, json_node_copy (node));
  json_object_set_string_member (copy, "viewer", viewer);
  print_event (h, name, copy);
}

static void
on_session_joined (PeercamSession *session,
                   const char     *room,
                   const char     *id,
                   gboolean        first,
                   Headless       *h)
{
  g_autoptr(JsonObject) fields = json_object_new ();

  json_object_set_string_member (fields, "room", room);
  json_object_set_string_member (fields, "id", id);
  json_object_set_boolean_member (fields, "first", first);
  print_event (h, "joined", fields);
}

/* "peer-joined", "calling", "connected", "hangup": the viewer alone. */
static void
on_session_call_event (PeercamSession *session,
                       const char     *viewer,
                       Headless       *h)
{
  GSignalInvocationHint *hint = g_signal_get_invocation_hint (session);
  g_autoptr(JsonObject) fields = json_object_new ();

  print_viewer_event (h, g_signal_name (hint->signal_id), fields, viewer);
}

static void
on_session_bye (PeercamSession *session,
                const char     *viewer,
                const char     *peer,
                Headless       *h)
{
  g_autoptr(JsonObject) fields = json_object_new ();

  json_object_set_string_member (fields, "id", peer ? peer : "");
  print_viewer_event (h, "bye", fields, viewer);
}

static void
on_session_first_frame (PeercamSession *session,
                        int             width,
                        int             height,
                        Headless       *h)
{
  g_autoptr(JsonObject) fields = json_object_new ();

  json_object_set_int_member (fields, "width", width);
  json_object_set_int_member (fields, "height", height);
  print_event (h, "first-frame", fields);
}

static void
on_session_error (PeercamSession *session,
                  const char     *viewer,
                  const GError   *error,
                  Headless       *h)
{
  g_autoptr(JsonObject) fields = json_object_new ();

  json_object_set_string_member (fields, "message", error->message);
  print_viewer_event (h, "error", fields, viewer);
}

/* The one place statistics become JSON: the `stats` event, its members in
 * the order and types they always had (tests and scripts read them). */
static void
on_session_stats (PeercamSession   *session,
                  const char       *viewer,
                  PeercamCallStats *stats,
                  Headless         *h)
{
  g_autoptr(JsonObject) fields = json_object_new ();

  json_object_set_double_member (fields, "fps", stats->fps);
  json_object_set_double_member (fields, "kbps", stats->kbps);
  json_object_set_int_member (fields, "width", stats->width);
  json_object_set_int_member (fields, "height", stats->height);
  json_object_set_double_member (fields, "rtt_ms", stats->rtt_ms);
  if (stats->has_send)
    {
      json_object_set_int_member (fields, "estimate_kbps", stats->estimate_kbps);
      json_object_set_int_member (fields, "send_width", stats->send_width);
      json_object_set_int_member (fields, "send_height", stats->send_height);
      json_object_set_double_member (fields, "send_fps", stats->send_fps);
      json_object_set_double_member (fields, "send_kbps", stats->send_kbps);
      json_object_set_double_member (fields, "loss_pct", stats->send_loss_pct);
      json_object_set_int_member (fields, "retransmissions", stats->send_retransmissions);
      json_object_set_int_member (fields, "nacks_refused", stats->nacks_refused);
      json_object_set_int_member (fields, "keyframe_requests", stats->keyframe_requests);
      json_object_set_int_member (fields, "frames_dropped", stats->frames_dropped);
      json_object_set_int_member (fields, "probes", stats->probes);
      json_object_set_int_member (fields, "probe_kbps", stats->probe_kbps);
      json_object_set_int_member (fields, "probe_bytes", stats->probe_bytes);
    }
  if (stats->has_receive)
    {
      json_object_set_double_member (fields, "loss_pct", stats->loss_pct);
      json_object_set_double_member (fields, "jitter_ms", stats->jitter_ms);
      json_object_set_int_member (fields, "latency_ms", stats->latency_ms);
      json_object_set_int_member (fields, "retransmissions", stats->retransmissions);
    }
  if (stats->playout_ms >= 0)
    json_object_set_double_member (fields, "playout_ms", stats->playout_ms);
  /* Glitches across a change (issue 15), appended: readers take members
   * by name, but keep the older ones first. */
  json_object_set_int_member (fields, "frames", stats->frames);
  if (stats->max_gap_ms >= 0)
    {
      json_object_set_double_member (fields, "max_gap_ms", stats->max_gap_ms);
      json_object_set_int_member (fields, "frames_undecoded", stats->frames_undecoded);
    }
  if (stats->has_receive)
    json_object_set_int_member (fields, "packets_lost", stats->packets_lost);
  print_viewer_event (h, "stats", fields, viewer);
}

/* The viewer's "Poor connection" (no video for seconds, call goes on) */
static void
on_poor_connection (PeercamSession *session,
                    GParamSpec     *pspec,
                    Headless       *h)
{
  g_autoptr(JsonObject) fields = json_object_new ();

  json_object_set_boolean_member (fields, "poor", peercam_session_get_poor_connection (session));
  print_event (h, "connection-quality", fields);
}

static void
on_client_state (PeercamSignalingClient *client,
                 GParamSpec             *pspec,
                 Headless               *h)
{
  /* Unrecoverable signaling failures (bad token, bad certificate) end the run;
   * lost connections reconnect on their own. */
  if (peercam_signaling_client_get_state (client) == PEERCAM_SIGNALING_STATE_FAILED)
    {
      h->status = 1;
      g_application_release (h->app);
    }
}

static void
print_membership (Headless   *h,
                  const char *event,
                  const char *room,
                  const char *id)
{
  g_autoptr(JsonObject) fields = json_object_new ();

  json_object_set_string_member (fields, "room", room);
  json_object_set_string_member (fields, "id", id);
  print_event (h, event, fields);
}

static void
on_server_client_joined (PeercamSignalingServer *server,
                         const char             *room,
                         const char             *id,
                         Headless               *h)
{
  print_membership (h, "client-joined", room, id);
}

static void
on_server_client_left (PeercamSignalingServer *server,
                       const char             *room,
                       const char             *id,
                       Headless               *h)
{
  print_membership (h, "client-left", room, id);
}

static gboolean
on_quit_signal (gpointer data)
{
  Headless *h = data;

  print_simple_event (h, "quit", NULL, NULL);
  /* Leaving hangs up; the disconnect is the room's one bye. */
  if (h->session != NULL)
    peercam_session_leave (h->session);
  g_application_quit (h->app);

  return G_SOURCE_CONTINUE;
}

static gboolean
start_server (Headless  *h,
              GError   **error)
{
  g_autoptr(JsonObject) fields = json_object_new ();

  h->host = peercam_host_new_for_options (h->options);
  if (h->options->port < 0)
    peercam_host_set_port (h->host, DEFAULT_PORT);
  if (!peercam_host_start (h->host, error))
    return FALSE;
  g_signal_connect (peercam_host_get_server (h->host), "client-joined", G_CALLBACK (on_server_client_joined), h);
  g_signal_connect (peercam_host_get_server (h->host), "client-left", G_CALLBACK (on_server_client_left), h);

  json_object_set_int_member (fields, "port", peercam_host_get_port (h->host));
  json_object_set_string_member (fields, "bind", h->options->bind ? h->options->bind : "*");
  json_object_set_string_member (fields, "scheme", h->options->tls ? "https" : "http");   /* web */
  if (peercam_host_get_fingerprint (h->host) != NULL)
    json_object_set_string_member (fields, "fingerprint", peercam_host_get_fingerprint (h->host));
  print_event (h, "hosting", fields);

  return TRUE;
}

static gboolean start_and_join (Headless    *h,
                                const char  *server_url,
                                GError     **error);

static void
fail (Headless     *h,
      const GError *error)
{
  print_simple_event (h, "error", "message", error->message);
  h->status = 1;
  g_application_release (h->app);
}

static void
on_screen_chosen (GObject      *object,
                  GAsyncResult *result,
                  gpointer      data)
{
  Headless *h = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GstDevice) device = peercam_screencast_portal_start_finish (PEERCAM_SCREENCAST_PORTAL (object),
                                                                        result, &error);

  if (device == NULL || h->session == NULL)
    {
      if (error != NULL)
        fail (h, error);
      return;
    }
  peercam_call_engine_set_source_device (peercam_session_get_engine (h->session), device);
  if (!start_and_join (h, h->server_url, &error))
    fail (h, error);
}

/* The desktop ended the share (stopped from the shell): as an unplugged
 * camera. */
static void
on_screen_closed (PeercamScreencastPortal *portal,
                  GstDevice               *device,
                  Headless                *h)
{
  if (h->session != NULL)
    peercam_call_engine_device_removed (peercam_session_get_engine (h->session), device);
}

static gboolean
start_session (Headless  *h,
               GError   **error)
{
  PeercamCallRole role = h->options->mode == PEERCAM_MODE_VIEWER ? PEERCAM_CALL_ROLE_VIEWER
                                                                 : PEERCAM_CALL_ROLE_CALLER;
  PeercamCallEngine *engine;
  g_autofree char *server_url = NULL;

  if (h->options->server != NULL)
    server_url = g_strdup (h->options->server);
  else if (h->host != NULL)
    server_url = peercam_host_dup_local_url (h->host);
  else
    server_url = g_strdup (DEFAULT_SERVER_URL);

  h->session = peercam_session_new ((PeercamSessionRole) role);
  engine = peercam_session_get_engine (h->session);
  peercam_call_engine_set_source (engine, h->options->source ? h->options->source : "camera");
  peercam_call_settings_apply_options (engine, h->options);
  peercam_session_set_auto_call (h->session, h->options->call);

  g_signal_connect (h->session, "joined", G_CALLBACK (on_session_joined), h);
  g_signal_connect (h->session, "peer-joined", G_CALLBACK (on_session_call_event), h);
  g_signal_connect (h->session, "calling", G_CALLBACK (on_session_call_event), h);
  g_signal_connect (h->session, "connected", G_CALLBACK (on_session_call_event), h);
  g_signal_connect (h->session, "hangup", G_CALLBACK (on_session_call_event), h);
  g_signal_connect (h->session, "bye", G_CALLBACK (on_session_bye), h);
  g_signal_connect (h->session, "first-frame", G_CALLBACK (on_session_first_frame), h);
  g_signal_connect (h->session, "error", G_CALLBACK (on_session_error), h);
  g_signal_connect (h->session, "stats", G_CALLBACK (on_session_stats), h);
  g_signal_connect (h->session, "notify::poor-connection", G_CALLBACK (on_poor_connection), h);

  if (role == PEERCAM_CALL_ROLE_VIEWER && g_getenv ("PEERCAM_FRAME_LOG") != NULL &&
      !set_frame_log_sink (h, engine, g_getenv ("PEERCAM_FRAME_LOG"), error))
    return FALSE;

  /* The screen: the desktop's portal asks which one first (as in the
   * window); the rest starts once the user picked one. */
  if (role == PEERCAM_CALL_ROLE_CALLER && g_strcmp0 (h->options->source, "screen") == 0)
    {
      h->server_url = g_steal_pointer (&server_url);
      h->screencast = peercam_screencast_portal_new ();
      g_signal_connect (h->screencast, "closed", G_CALLBACK (on_screen_closed), h);
      peercam_screencast_portal_start_async (h->screencast, NULL, on_screen_chosen, h);
      return TRUE;
    }

  return start_and_join (h, server_url, error);
}

static gboolean
start_and_join (Headless    *h,
                const char  *server_url,
                GError     **error)
{
  const char *room = h->options->room ? h->options->room : DEFAULT_ROOM;

  if (peercam_session_get_role (h->session) == PEERCAM_SESSION_ROLE_CALLER &&
      !peercam_session_start_local_video (h->session, error))
    return FALSE;

  if (!peercam_session_join (h->session, server_url, room, h->options->token,
                             /* web: our own certificate when joining our own --tls room */
                             h->options->pin ? h->options->pin : (h->options->server || !h->host ? NULL : peercam_host_get_fingerprint (h->host)),
                             error))
    return FALSE;

  g_signal_connect (peercam_session_get_client (h->session), "notify::state",
                    G_CALLBACK (on_client_state), h);

  return TRUE;
}

static int
handle_local_options (GApplication *app,
                      GVariantDict *dict,
                      Headless     *h)
{
  g_autoptr(GError) error = NULL;

  if (g_variant_dict_contains (dict, "version"))
    {
      g_print ("peercam %s\n", PACKAGE_VERSION);
      return 0;
    }

  h->options = peercam_options_new_from_dict (dict, &error);
  if (h->options == NULL)
    {
      g_printerr ("peercam: %s\n", error->message);
      return 2;
    }

  return -1;
}

static void
activate (GApplication *app,
          Headless     *h)
{
  g_autoptr(GError) error = NULL;

  g_application_hold (app);

  if (h->options->host && !start_server (h, &error))
    goto fail;

  if (!h->options->host_only)
    peercam_call_engine_warm_up ();

  if (!h->options->host_only && !start_session (h, &error))
    goto fail;

  return;

fail:
  fail (h, error);
}

int
peercam_headless_main (int    argc,
                       char **argv)
{
  Headless h = { 0 };
  guint sigint, sigterm;
  int status;

  h.start_us = g_get_monotonic_time ();
  h.app = g_application_new (APP_ID ".Headless", G_APPLICATION_NON_UNIQUE);
  g_application_add_main_option_entries (h.app, peercam_options_get_entries ());
  g_signal_connect (h.app, "handle-local-options", G_CALLBACK (handle_local_options), &h);
  g_signal_connect (h.app, "activate", G_CALLBACK (activate), &h);

  sigint = g_unix_signal_add (SIGINT, on_quit_signal, &h);
  sigterm = g_unix_signal_add (SIGTERM, on_quit_signal, &h);

  status = g_application_run (h.app, argc, argv);
  if (status == 0)
    status = h.status;

  g_source_remove (sigint);
  g_source_remove (sigterm);

  if (h.session != NULL)
    {
      g_signal_handlers_disconnect_by_data (h.session, &h);
      g_signal_handlers_disconnect_by_data (peercam_session_get_engine (h.session), &h);
      if (peercam_session_get_client (h.session))
        g_signal_handlers_disconnect_by_data (peercam_session_get_client (h.session), &h);
    }
  g_clear_object (&h.session);
  if (h.screencast != NULL)
    {
      g_signal_handlers_disconnect_by_data (h.screencast, &h);
      peercam_screencast_portal_close (h.screencast);
      g_clear_object (&h.screencast);
    }
  g_clear_pointer (&h.server_url, g_free);
  /* After the session: its pipeline, and so the probe, are gone. */
  g_clear_pointer (&h.frame_log, fclose);
  if (h.host != NULL && peercam_host_get_server (h.host) != NULL)
    {
      g_signal_handlers_disconnect_by_data (peercam_host_get_server (h.host), &h);
      peercam_host_stop (h.host);
    }
  g_clear_object (&h.host);
  g_clear_pointer (&h.options, peercam_options_free);
  g_clear_object (&h.app);
  peercam_call_engine_warm_up_stop ();

  return status;
}
