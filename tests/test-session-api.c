/* test-session-api.c — the core API the windows use instead of the layers
 * below (issue 15): the session's call and room states, why a join failed,
 * the source picker, the command line, the certificate probe
 *
 * Uses only core headers for what it tests (as a window must), plus the
 * media layer's error domains to make the errors a source can fail with.
 * Real parts: a hosted room on loopback, a real TLS server, GStreamer's
 * test pattern into a fakesink, a real call between two sessions whose
 * typed signals are checked value by value.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <gst/gst.h>

#include "peercam-certificate-probe.h"
#include "peercam-host.h"
#include "peercam-launch.h"
#include "peercam-session.h"
#include "peercam-source-picker.h"
#include "peercam-test-wait.h"

/* Only to make the errors a source fails with; windows never see these. */
#include "peercam-call-error.h"
#include "peercam-call-stats.h"
#include "peercam-camera-portal.h"
#include "peercam-init.h"

#define WAIT_MS 10000

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              guint      *count)
{
  (*count)++;
}

static PeercamHost *
start_host (gboolean    tls,
            const char *token)
{
  PeercamHost *host = peercam_host_new ();
  g_autoptr(GError) error = NULL;

  peercam_host_set_port (host, 0);
  peercam_host_set_bind_address (host, "127.0.0.1");
  peercam_host_set_tls (host, tls);
  peercam_host_set_token (host, token);
  g_assert_true (peercam_host_start (host, &error));
  g_assert_no_error (error);
  return host;
}

static void
test_enums (void)
{
  g_autoptr(PeercamSession) session = peercam_session_new (PEERCAM_SESSION_ROLE_VIEWER);
  g_autoptr(GEnumClass) states = g_type_class_ref (PEERCAM_TYPE_SESSION_STATE);
  g_autoptr(GEnumClass) rooms = g_type_class_ref (PEERCAM_TYPE_ROOM_STATE);
  GParamSpec *pspec;
  PeercamSessionRole role;

  g_assert_cmpstr (g_enum_get_value (states, PEERCAM_SESSION_STATE_CONNECTED)->value_nick, ==, "connected");
  g_assert_cmpstr (g_enum_get_value (rooms, PEERCAM_ROOM_STATE_RECONNECTING)->value_nick, ==, "reconnecting");

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (session), "state");
  g_assert_nonnull (pspec);
  g_assert_true (G_PARAM_SPEC_VALUE_TYPE (pspec) == PEERCAM_TYPE_SESSION_STATE);
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (session), "room-state");
  g_assert_nonnull (pspec);
  g_assert_true (G_PARAM_SPEC_VALUE_TYPE (pspec) == PEERCAM_TYPE_ROOM_STATE);

  g_object_get (session, "role", &role, NULL);
  g_assert_cmpint (role, ==, PEERCAM_SESSION_ROLE_VIEWER);
  g_assert_cmpint (peercam_session_get_state (session), ==, PEERCAM_SESSION_STATE_IDLE);
  g_assert_cmpint (peercam_session_get_room_state (session), ==, PEERCAM_ROOM_STATE_NONE);
  g_assert_cmpint (peercam_session_get_join_problem (session), ==, PEERCAM_JOIN_PROBLEM_NONE);
  g_assert_null (peercam_session_get_token (session));
  g_assert_null (peercam_session_get_pin (session));
}

static void
test_room_state (void)
{
  g_autoptr(PeercamHost) host = start_host (FALSE, "secret");
  g_autoptr(PeercamSession) session = peercam_session_new (PEERCAM_SESSION_ROLE_CALLER);
  g_autoptr(GError) error = NULL;
  g_autofree char *url = peercam_host_dup_local_url (host);
  guint notifies = 0;

  g_signal_connect (session, "notify::room-state", G_CALLBACK (count_notify), &notifies);
  g_assert_true (peercam_session_join (session, url, "kitchen", "secret", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (peercam_session_get_room_state (session), !=, PEERCAM_ROOM_STATE_NONE);
  g_assert_cmpstr (peercam_session_get_token (session), ==, "secret");
  g_assert_cmpstr (peercam_session_get_room (session), ==, "kitchen");

  g_assert_true (WAIT_UNTIL (peercam_session_get_room_state (session) == PEERCAM_ROOM_STATE_JOINED, WAIT_MS));
  /* Joining, then connecting…joined: each step is announced. */
  g_assert_cmpuint (notifies, >=, 2);
  g_assert_cmpint (peercam_session_get_join_problem (session), ==, PEERCAM_JOIN_PROBLEM_NONE);

  notifies = 0;
  peercam_session_leave (session);
  g_assert_cmpint (peercam_session_get_room_state (session), ==, PEERCAM_ROOM_STATE_NONE);
  g_assert_cmpuint (notifies, >=, 1);
  g_assert_null (peercam_session_get_token (session));

  peercam_host_stop (host);
}

static void
keep_error (PeercamSession *session,
            const char     *viewer,
            const GError   *error,
            GError        **out)
{
  g_assert_null (viewer);
  if (*out == NULL)
    *out = g_error_copy (error);
}

static void
test_join_problem (void)
{
  g_autoptr(PeercamHost) host = start_host (FALSE, "secret");
  g_autoptr(PeercamSession) session = peercam_session_new (PEERCAM_SESSION_ROLE_VIEWER);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) signalled = NULL;
  g_autofree char *url = peercam_host_dup_local_url (host);
  const GError *join_error;

  g_signal_connect (session, "error", G_CALLBACK (keep_error), &signalled);
  g_assert_true (peercam_session_join (session, url, "kitchen", "wrong", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (WAIT_UNTIL (peercam_session_get_join_problem (session) == PEERCAM_JOIN_PROBLEM_AUTH, WAIT_MS));
  join_error = peercam_session_get_join_error (session);
  g_assert_nonnull (join_error);
  g_assert_cmpint (peercam_session_get_room_state (session), !=, PEERCAM_ROOM_STATE_JOINED);
  /* The "error" signal carried the same error, typed (a window shows the
   * join error on its page instead of a toast). */
  g_assert_nonnull (signalled);
  g_assert_true (g_error_matches (signalled, join_error->domain, join_error->code));
  g_assert_cmpstr (signalled->message, ==, join_error->message);
  g_signal_handlers_disconnect_by_data (session, &signalled);

  peercam_session_leave (session);
  g_assert_cmpint (peercam_session_get_join_problem (session), ==, PEERCAM_JOIN_PROBLEM_NONE);
  peercam_host_stop (host);
}

static void
on_probed (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  GAsyncResult **out = data;

  *out = g_object_ref (result);
}

static char *
probe (const char  *url,
       GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  peercam_certificate_probe_async (url, NULL, on_probed, &result);
  g_assert_true (WAIT_UNTIL (result != NULL, WAIT_MS));
  return peercam_certificate_probe_finish (result, error);
}

static void
test_certificate_probe (void)
{
  g_autoptr(PeercamHost) host = start_host (TRUE, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *url = peercam_host_dup_local_url (host);
  g_autofree char *http = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *again = NULL;
  g_autofree char *none = NULL;
  guint port = peercam_host_get_port (host);

  fingerprint = probe (url, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (fingerprint, ==, peercam_host_get_fingerprint (host));

  /* An http:// address of a secure server: the certificate all the same. */
  http = g_strdup_printf ("http://127.0.0.1:%u", port);
  again = probe (http, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, fingerprint);

  /* Nothing listens any more: an error, no fingerprint. */
  peercam_host_stop (host);
  none = probe (url, &error);
  g_assert_null (none);
  g_assert_nonnull (error);
}

static void
test_source_picker (void)
{
  g_autoptr(PeercamSession) session = peercam_session_new (PEERCAM_SESSION_ROLE_CALLER);
  g_autoptr(PeercamSourcePicker) picker = peercam_source_picker_new (session);
  g_autoptr(GError) error = NULL;
  GListModel *extras = peercam_source_picker_get_extras (picker);
  GType item_type = peercam_source_picker_get_item_type ();
  gpointer test = peercam_source_picker_get_test_item (picker);
  gpointer custom;
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  guint state_notifies = 0;

  g_assert_nonnull (g_object_class_find_property (g_type_class_peek (item_type), "name"));
  g_assert_nonnull (g_object_class_find_property (g_type_class_peek (item_type), "id"));
  g_assert_true (g_list_model_get_item_type (peercam_source_picker_get_cameras (picker)) == item_type);
  g_assert_cmpuint (g_list_model_get_n_items (extras), ==, 2);
  g_assert_cmpstr (peercam_source_picker_item_get_id (peercam_source_picker_get_screen_item (picker)), ==, "screen");
  g_assert_cmpstr (peercam_source_picker_item_get_id (test), ==, "test");
  g_assert_null (peercam_source_picker_get_custom_item (picker));

  peercam_source_picker_set_source (picker, "smpte");
  g_assert_true (peercam_source_picker_get_current (picker) == test);
  /* The test pattern keeps the pattern chosen (SMPTE, not the default). */
  peercam_source_picker_apply (picker, test);
  g_assert_true (peercam_source_picker_get_current (picker) == test);

  /* A file gets an entry of its own, named after the file; another
   * replaces it. */
  peercam_source_picker_set_source (picker, "file:/tmp/clip.y4m");
  custom = peercam_source_picker_get_custom_item (picker);
  g_assert_nonnull (custom);
  g_assert_cmpstr (peercam_source_picker_item_get_name (custom), ==, "clip.y4m");
  g_assert_cmpuint (g_list_model_get_n_items (extras), ==, 3);
  g_assert_true (peercam_source_picker_get_current (picker) == custom);
  peercam_source_picker_set_source (picker, "gst:videotestsrc");
  g_assert_cmpuint (g_list_model_get_n_items (extras), ==, 3);
  g_assert_cmpstr (peercam_source_picker_item_get_id (peercam_source_picker_get_custom_item (picker)), ==,
                   "gst:videotestsrc");
  g_assert_false (peercam_source_picker_has_screen (picker));

  /* The chosen source runs: the session's state follows, notified. */
  peercam_source_picker_apply (picker, test);
  g_signal_connect (session, "notify::state", G_CALLBACK (count_notify), &state_notifies);
  peercam_session_set_local_sink (session, sink);
  g_assert_true (peercam_session_start_local_video (session, &error));
  g_assert_no_error (error);
  g_assert_true (WAIT_UNTIL (peercam_session_get_state (session) == PEERCAM_SESSION_STATE_PREVIEW, WAIT_MS));
  g_assert_cmpuint (state_notifies, >=, 1);
  peercam_session_stop_local_video (session);
  g_assert_true (WAIT_UNTIL (peercam_session_get_state (session) == PEERCAM_SESSION_STATE_IDLE, WAIT_MS));
  peercam_session_close (session);
}

static void
test_classify (void)
{
  g_autoptr(GError) none = g_error_new_literal (PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_NO_CAMERA, "none");
  g_autoptr(GError) source = g_error_new_literal (PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_SOURCE, "bad");
  g_autoptr(GError) plugin = g_error_new_literal (PEERCAM_CALL_ERROR, PEERCAM_CALL_ERROR_MISSING_PLUGIN, "x");
  g_autoptr(GError) denied = g_error_new_literal (PEERCAM_CAMERA_PORTAL_ERROR, PEERCAM_CAMERA_PORTAL_ERROR_DENIED, "no");
  g_autoptr(GError) other = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "?");

  g_assert_cmpint (peercam_session_classify_source_error (none), ==, PEERCAM_SOURCE_PROBLEM_NO_CAMERA);
  g_assert_cmpint (peercam_session_classify_source_error (source), ==, PEERCAM_SOURCE_PROBLEM_CANNOT_RUN);
  g_assert_cmpint (peercam_session_classify_source_error (plugin), ==, PEERCAM_SOURCE_PROBLEM_CANNOT_RUN);
  g_assert_cmpint (peercam_session_classify_source_error (denied), ==, PEERCAM_SOURCE_PROBLEM_CAMERA_DENIED);
  g_assert_cmpint (peercam_session_classify_source_error (other), ==, PEERCAM_SOURCE_PROBLEM_OTHER);
}

static void
test_stats_lookup (void)
{
  PeercamCallStats caller = { .fps = 30, .kbps = 1500, .width = 1280, .height = 720, .rtt_ms = 4,
                              .has_send = TRUE, .estimate_kbps = 2598, .send_width = 960, .send_height = 540,
                              .send_fps = 30, .send_kbps = 1400, .send_loss_pct = 1.5,
                              .send_retransmissions = 7, .frames = 300, .max_gap_ms = -1 };
  PeercamCallStats viewer = { .fps = 29, .kbps = 1400, .width = 960, .height = 540, .rtt_ms = -1,
                              .has_receive = TRUE, .loss_pct = 0.5, .jitter_ms = 2, .latency_ms = 120,
                              .retransmissions = 9, .frames = 290, .max_gap_ms = 70,
                              .packets_lost = 2, .frames_undecoded = 1 };
  double value = 0;

  g_assert_true (peercam_call_stats_lookup (&caller, PEERCAM_STAT_ESTIMATE_KBPS, &value));
  g_assert_cmpfloat (value, ==, 2598);
  g_assert_true (peercam_call_stats_lookup (&caller, PEERCAM_STAT_SEND_HEIGHT, &value));
  g_assert_cmpfloat (value, ==, 540);
  g_assert_true (peercam_call_stats_lookup (&caller, PEERCAM_STAT_LOSS_PCT, &value));
  g_assert_cmpfloat (value, ==, 1.5);
  g_assert_true (peercam_call_stats_lookup (&caller, PEERCAM_STAT_RETRANSMISSIONS, &value));
  g_assert_cmpfloat (value, ==, 7);
  /* A caller has no jitter buffer. */
  g_assert_false (peercam_call_stats_lookup (&caller, PEERCAM_STAT_LATENCY_MS, &value));
  g_assert_false (peercam_call_stats_lookup (&caller, PEERCAM_STAT_JITTER_MS, NULL));
  /* Its frames are the encoder's; gaps and losses are a viewer's. */
  g_assert_true (peercam_call_stats_lookup (&caller, PEERCAM_STAT_FRAMES, &value));
  g_assert_cmpfloat (value, ==, 300);
  g_assert_false (peercam_call_stats_lookup (&caller, PEERCAM_STAT_MAX_GAP_MS, NULL));
  g_assert_false (peercam_call_stats_lookup (&caller, PEERCAM_STAT_PACKETS_LOST, NULL));
  g_assert_false (peercam_call_stats_lookup (&caller, PEERCAM_STAT_FRAMES_UNDECODED, NULL));

  /* A viewer has no estimate; its loss and retransmissions are its own. */
  g_assert_false (peercam_call_stats_lookup (&viewer, PEERCAM_STAT_ESTIMATE_KBPS, &value));
  g_assert_false (peercam_call_stats_lookup (&viewer, PEERCAM_STAT_SEND_WIDTH, &value));
  g_assert_true (peercam_call_stats_lookup (&viewer, PEERCAM_STAT_LOSS_PCT, &value));
  g_assert_cmpfloat (value, ==, 0.5);
  g_assert_true (peercam_call_stats_lookup (&viewer, PEERCAM_STAT_LATENCY_MS, &value));
  g_assert_cmpfloat (value, ==, 120);
  g_assert_true (peercam_call_stats_lookup (&viewer, PEERCAM_STAT_RTT_MS, &value));
  g_assert_cmpfloat (value, ==, -1);
  g_assert_true (peercam_call_stats_lookup (&viewer, PEERCAM_STAT_WIDTH, &value));
  g_assert_cmpfloat (value, ==, 960);
  g_assert_true (peercam_call_stats_lookup (&viewer, PEERCAM_STAT_FRAMES, &value));
  g_assert_cmpfloat (value, ==, 290);
  g_assert_true (peercam_call_stats_lookup (&viewer, PEERCAM_STAT_MAX_GAP_MS, &value));
  g_assert_cmpfloat (value, ==, 70);
  g_assert_true (peercam_call_stats_lookup (&viewer, PEERCAM_STAT_PACKETS_LOST, &value));
  g_assert_cmpfloat (value, ==, 2);
  g_assert_true (peercam_call_stats_lookup (&viewer, PEERCAM_STAT_FRAMES_UNDECODED, &value));
  g_assert_cmpfloat (value, ==, 1);
}

static void
test_launch (void)
{
  g_autoptr(GVariantDict) dict = g_variant_dict_new (NULL);
  g_autoptr(PeercamLaunch) launch = NULL;
  g_autoptr(PeercamLaunch) empty = peercam_launch_new ();
  g_autoptr(PeercamHost) host = start_host (FALSE, "secret");
  g_autoptr(PeercamHost) from_launch = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *invite = peercam_host_dup_local_invite (host, "kitchen");
  g_autofree char *expected_url = peercam_host_dup_local_url (host);
  g_autofree char *server_url = NULL;
  g_autofree char *room = NULL;
  g_autofree char *token = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *server = NULL;
  guint notifies = 0;

  g_assert_nonnull (peercam_launch_get_entries ());
  g_assert_null (peercam_launch_get_server (empty));
  g_assert_cmpint (peercam_launch_get_port (empty), ==, -1);
  g_assert_false (peercam_launch_get_viewer (empty));

  g_variant_dict_insert (dict, "viewer", "b", TRUE);
  g_variant_dict_insert (dict, "room", "s", "kitchen");
  g_variant_dict_insert (dict, "server", "s", "http://127.0.0.1:8080");
  g_variant_dict_insert (dict, "port", "s", "8443");
  g_variant_dict_insert (dict, "token", "s", "secret");
  launch = peercam_launch_new_from_dict (dict, &error);
  g_assert_no_error (error);
  g_assert_nonnull (launch);
  g_assert_true (peercam_launch_get_viewer (launch));
  g_assert_cmpstr (peercam_launch_get_room (launch), ==, "kitchen");
  g_assert_cmpint (peercam_launch_get_port (launch), ==, 8443);
  g_object_get (launch, "server", &server, NULL);
  g_assert_cmpstr (server, ==, "http://127.0.0.1:8080");

  /* The host it makes has its port and token. */
  from_launch = peercam_launch_new_host (launch);
  g_assert_cmpuint (peercam_host_get_port (from_launch), ==, 8443);
  g_assert_cmpstr (peercam_host_get_token (from_launch), ==, "secret");

  /* The join is for the first window only. */
  g_signal_connect (launch, "notify::server", G_CALLBACK (count_notify), &notifies);
  peercam_launch_forget_join (launch);
  g_assert_null (peercam_launch_get_server (launch));
  g_assert_cmpuint (notifies, ==, 1);
  g_assert_cmpstr (peercam_launch_get_room (launch), ==, "kitchen");

  /* A bad option is refused with a reason. */
  g_variant_dict_insert (dict, "port", "s", "99999");
  g_assert_null (peercam_launch_new_from_dict (dict, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* Invite links. */
  g_assert_true (peercam_launch_parse_invite (invite, &server_url, &room, &token, &pin, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (server_url, ==, expected_url);
  g_assert_cmpstr (room, ==, "kitchen");
  g_assert_cmpstr (token, ==, "secret");
  g_assert_null (pin);
  g_assert_false (peercam_launch_parse_invite ("not a link at all", NULL, NULL, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_true (peercam_launch_validate_url ("http://127.0.0.1:1", NULL));
  g_assert_false (peercam_launch_validate_url ("ftp://127.0.0.1", NULL));

  peercam_host_stop (host);
}

/* One side of a call as its typed signals tell it. */
typedef struct {
  PeercamSession *session;
  GPtrArray      *log;          /* "name arguments", in order */
  char           *id;           /* "joined": ours in the room */
  int             width;        /* "first-frame" */
  int             height;
  guint           n_stats;      /* "stats" with a size */
  char           *stats_viewer; /* the last "stats"'s viewer */
  GError         *error;        /* the first "error" */
} Side;

static void
side_log (Side       *side,
          const char *format,
          ...) G_GNUC_PRINTF (2, 3);

static void
side_log (Side       *side,
          const char *format,
          ...)
{
  va_list args;
  char *line;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  g_test_message ("%s: %s", peercam_session_get_role (side->session) == PEERCAM_SESSION_ROLE_CALLER
                            ? "caller" : "viewer", line);
  g_ptr_array_add (side->log, line);
}

static void
on_joined (PeercamSession *session,
           const char     *room,
           const char     *id,
           gboolean        first,
           Side           *side)
{
  g_assert_nonnull (id);
  g_free (side->id);
  side->id = g_strdup (id);
  side_log (side, "joined %s %s", room, first ? "first" : "second");
}

/* "peer-joined", "calling", "connected", "hangup" */
static void
on_call_signal (PeercamSession *session,
                const char     *viewer,
                Side           *side)
{
  GSignalInvocationHint *hint = g_signal_get_invocation_hint (session);

  side_log (side, "%s %s", g_signal_name (hint->signal_id), viewer ? viewer : "-");
}

static void
on_bye (PeercamSession *session,
        const char     *viewer,
        const char     *peer,
        Side           *side)
{
  side_log (side, "bye %s %s", viewer ? viewer : "-", peer ? peer : "-");
}

static void
on_first_frame (PeercamSession *session,
                int             width,
                int             height,
                Side           *side)
{
  side->width = width;
  side->height = height;
  side_log (side, "first-frame %dx%d", width, height);
}

static void
on_error (PeercamSession *session,
          const char     *viewer,
          const GError   *error,
          Side           *side)
{
  side_log (side, "error %s %s", viewer ? viewer : "-", error->message);
  if (side->error == NULL)
    side->error = g_error_copy (error);
}

static void
on_stats (PeercamSession   *session,
          const char       *viewer,
          PeercamCallStats *stats,
          Side             *side)
{
  double width = 0;

  g_assert_true (peercam_call_stats_lookup (stats, PEERCAM_STAT_WIDTH, &width));
  if (width > 0)
    side->n_stats++;
  g_free (side->stats_viewer);
  side->stats_viewer = g_strdup (viewer);
}

static void
side_init (Side           *side,
           PeercamSession *session)
{
  side->session = session;
  side->log = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (session, "joined", G_CALLBACK (on_joined), side);
  g_signal_connect (session, "peer-joined", G_CALLBACK (on_call_signal), side);
  g_signal_connect (session, "calling", G_CALLBACK (on_call_signal), side);
  g_signal_connect (session, "connected", G_CALLBACK (on_call_signal), side);
  g_signal_connect (session, "hangup", G_CALLBACK (on_call_signal), side);
  g_signal_connect (session, "bye", G_CALLBACK (on_bye), side);
  g_signal_connect (session, "first-frame", G_CALLBACK (on_first_frame), side);
  g_signal_connect (session, "error", G_CALLBACK (on_error), side);
  g_signal_connect (session, "stats", G_CALLBACK (on_stats), side);
}

static void
side_clear (Side *side)
{
  g_signal_handlers_disconnect_by_data (side->session, side);
  g_clear_pointer (&side->log, g_ptr_array_unref);
  g_clear_pointer (&side->id, g_free);
  g_clear_pointer (&side->stats_viewer, g_free);
  g_clear_error (&side->error);
}

/* Where @line is in the side's log, or -1. */
static int
logged (Side       *side,
        const char *format,
        ...) G_GNUC_PRINTF (2, 3);

static int
logged (Side       *side,
        const char *format,
        ...)
{
  g_autofree char *line = NULL;
  va_list args;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  for (guint i = 0; i < side->log->len; i++)
    if (strcmp (g_ptr_array_index (side->log, i), line) == 0)
      return (int) i;
  return -1;
}

/* A real call through a hosted room, as the windows see it: each typed
 * signal fires with the values it promises, and never as JSON. */
static void
test_call_signals (void)
{
  g_autoptr(PeercamHost) host = start_host (FALSE, NULL);
  g_autofree char *url = peercam_host_dup_local_url (host);
  g_autoptr(GVariantDict) dict = g_variant_dict_new (NULL);
  const char *loopback[] = { "127.0.0.1", NULL };
  g_autoptr(PeercamLaunch) launch = NULL;
  g_autoptr(PeercamSession) caller = peercam_session_new (PEERCAM_SESSION_ROLE_CALLER);
  g_autoptr(PeercamSession) viewer = peercam_session_new (PEERCAM_SESSION_ROLE_VIEWER);
  g_autoptr(PeercamSourcePicker) picker = peercam_source_picker_new (caller);
  g_autoptr(PeercamViewer) listed = NULL;
  GstElement *preview = gst_element_factory_make ("fakesink", NULL);
  GstElement *video = gst_element_factory_make ("fakesink", NULL);
  g_autoptr(GError) error = NULL;
  Side c = { 0 }, v = { 0 };

  /* Loopback only, small and slow: as the command line would set it. */
  g_variant_dict_insert_value (dict, "ice-address", g_variant_new_strv (loopback, -1));
  g_variant_dict_insert (dict, "video-size", "s", "320x240@15");
  launch = peercam_launch_new_from_dict (dict, &error);
  g_assert_no_error (error);
  peercam_launch_configure_session (launch, caller);
  peercam_launch_configure_session (launch, viewer);
  peercam_source_picker_apply (picker, peercam_source_picker_get_test_item (picker));
  g_object_set (preview, "sync", FALSE, "async", FALSE, NULL);
  g_object_set (video, "sync", FALSE, "async", FALSE, NULL);
  peercam_session_set_local_sink (caller, preview);
  peercam_session_set_remote_sink (viewer, video);
  side_init (&c, caller);
  side_init (&v, viewer);

  peercam_session_set_auto_call (caller, TRUE);
  g_assert_true (peercam_session_start_local_video (caller, &error));
  g_assert_no_error (error);
  g_assert_true (peercam_session_join (caller, url, "kitchen", NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (WAIT_UNTIL (c.id != NULL, WAIT_MS));
  g_assert_cmpint (logged (&c, "joined kitchen first"), ==, 0);

  g_assert_true (peercam_session_join (viewer, url, "kitchen", NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (WAIT_UNTIL (v.width > 0, 3 * WAIT_MS));
  g_assert_cmpint (logged (&v, "joined kitchen second"), ==, 0);
  g_assert_cmpstr (v.id, !=, c.id);

  /* The caller heard of this viewer by its id, called it and connected;
   * the viewer's own call has no viewer id. */
  g_assert_cmpint (logged (&c, "peer-joined %s", v.id), >, 0);
  g_assert_cmpint (logged (&v, "peer-joined %s", c.id), >, 0);
  g_assert_cmpint (logged (&c, "calling %s", v.id), >, logged (&c, "peer-joined %s", v.id));
  g_assert_true (WAIT_UNTIL (logged (&c, "connected %s", v.id) > logged (&c, "calling %s", v.id), WAIT_MS));
  g_assert_cmpint (logged (&v, "connected -"), >, 0);
  g_assert_cmpint (logged (&v, "first-frame %dx%d", v.width, v.height), >, 0);
  /* The size the caller sends, at most the one asked for. */
  g_assert_cmpint (v.width, >, 0);
  g_assert_cmpint (v.width, <=, 320);
  g_assert_cmpint (v.height, >, 0);
  g_assert_cmpint (v.height, <=, 240);
  g_assert_cmpint (c.width, ==, 0);   /* a caller decodes nothing */

  /* Statistics, each about its call: the caller's name the viewer. */
  g_assert_true (WAIT_UNTIL (c.n_stats > 0 && v.n_stats > 0, WAIT_MS));
  g_assert_cmpstr (c.stats_viewer, ==, v.id);
  g_assert_null (v.stats_viewer);
  g_assert_no_error (c.error);
  g_assert_no_error (v.error);

  /* The caller ends this viewer's call: its hangup, the viewer's bye from
   * the caller. */
  listed = g_list_model_get_item (peercam_session_get_viewers (caller), 0);
  g_assert_cmpstr (peercam_viewer_get_id (listed), ==, v.id);
  peercam_session_disconnect_viewer (caller, listed);
  g_assert_cmpint (logged (&c, "hangup %s", v.id), >, 0);
  g_assert_true (WAIT_UNTIL (logged (&v, "bye - %s", c.id) > 0, WAIT_MS));

  /* The viewer leaves the room: the caller's bye names it both ways. */
  peercam_session_leave (viewer);
  g_assert_true (WAIT_UNTIL (logged (&c, "bye %s %s", v.id, v.id) > 0, WAIT_MS));
  g_assert_true (WAIT_UNTIL (peercam_session_get_n_viewers (caller) == 0, WAIT_MS));
  g_assert_no_error (c.error);
  g_assert_no_error (v.error);

  side_clear (&v);
  side_clear (&c);
  peercam_session_close (viewer);
  peercam_session_close (caller);
  peercam_host_stop (host);
}

int
main (int argc, char **argv)
{
  peercam_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/session-api/enums", test_enums);
  g_test_add_func ("/session-api/room-state", test_room_state);
  g_test_add_func ("/session-api/join-problem", test_join_problem);
  g_test_add_func ("/session-api/call-signals", test_call_signals);
  g_test_add_func ("/session-api/certificate-probe", test_certificate_probe);
  g_test_add_func ("/session-api/source-picker", test_source_picker);
  g_test_add_func ("/session-api/classify", test_classify);
  g_test_add_func ("/session-api/stats-lookup", test_stats_lookup);
  g_test_add_func ("/session-api/launch", test_launch);

  return g_test_run ();
}
