/* peercam-test-recorder.c — what a PeercamSignalingClient reports, recorded
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-test-recorder.h"
#include "peercam-test-wait.h"

static void
on_created (PeercamSignalingClient *client, const char *room, const char *id, PeercamTestRecorder *r)
{
  g_assert_nonnull (id);
  g_assert_cmpstr (id, ==, peercam_signaling_client_get_id (client));
  g_ptr_array_add (r->created, g_strdup (room));
}

static void
on_joined (PeercamSignalingClient *client, const char *room, const char *id, PeercamTestRecorder *r)
{
  g_assert_nonnull (id);
  g_assert_cmpstr (id, ==, peercam_signaling_client_get_id (client));
  g_ptr_array_add (r->joined, g_strdup (room));
}

static void
on_call (PeercamSignalingClient *client, const char *id, PeercamTestRecorder *r)
{
  r->calls++;
}

static void
on_full (PeercamSignalingClient *client, const char *room, PeercamTestRecorder *r)
{
  g_ptr_array_add (r->full, g_strdup (room));
}

static void
on_signal (PeercamSignalingClient *client, JsonNode *node, const char *from, PeercamTestRecorder *r)
{
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  g_ptr_array_add (r->signals, json_node_copy (node));
}

static void
on_ice (PeercamSignalingClient *client, JsonNode *node, const char *from, PeercamTestRecorder *r)
{
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  g_ptr_array_add (r->ices, json_node_copy (node));
}

static void
on_bye (PeercamSignalingClient *client, const char *id, PeercamTestRecorder *r)
{
  g_ptr_array_add (r->byes, g_strdup (id ? id : ""));
}

static void
on_server_error (PeercamSignalingClient *client, const char *message, PeercamTestRecorder *r)
{
  g_ptr_array_add (r->server_errors, g_strdup (message));
}

static void
on_error (PeercamSignalingClient *client, const GError *error, PeercamTestRecorder *r)
{
  g_test_message ("client error: %s", error->message);
  g_ptr_array_add (r->errors, g_error_copy (error));
}

static void
on_event (PeercamSignalingClient *client, const char *name, JsonArray *args, PeercamTestRecorder *r)
{
  g_autoptr(JsonNode) node = json_node_init_array (json_node_alloc (), args);
  g_autofree char *json = json_to_string (node, FALSE);

  g_ptr_array_add (r->events, g_strdup_printf ("%s:%s", name, json));
}

static void
on_state (PeercamSignalingClient *client, GParamSpec *pspec, PeercamTestRecorder *r)
{
  PeercamSignalingState state = peercam_signaling_client_get_state (client);

  g_array_append_val (r->states, state);
}

PeercamTestRecorder *
peercam_test_recorder_new (const char *url)
{
  PeercamTestRecorder *r = g_new0 (PeercamTestRecorder, 1);

  r->client = peercam_signaling_client_new (url);
  r->created = g_ptr_array_new_with_free_func (g_free);
  r->joined = g_ptr_array_new_with_free_func (g_free);
  r->full = g_ptr_array_new_with_free_func (g_free);
  r->byes = g_ptr_array_new_with_free_func (g_free);
  r->server_errors = g_ptr_array_new_with_free_func (g_free);
  r->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  r->signals = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  r->ices = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  r->events = g_ptr_array_new_with_free_func (g_free);
  r->states = g_array_new (FALSE, FALSE, sizeof (PeercamSignalingState));

  g_signal_connect (r->client, "created", G_CALLBACK (on_created), r);
  g_signal_connect (r->client, "joined", G_CALLBACK (on_joined), r);
  g_signal_connect (r->client, "call", G_CALLBACK (on_call), r);
  g_signal_connect (r->client, "full", G_CALLBACK (on_full), r);
  g_signal_connect (r->client, "signal", G_CALLBACK (on_signal), r);
  g_signal_connect (r->client, "ice", G_CALLBACK (on_ice), r);
  g_signal_connect (r->client, "bye", G_CALLBACK (on_bye), r);
  g_signal_connect (r->client, "server-error", G_CALLBACK (on_server_error), r);
  g_signal_connect (r->client, "error", G_CALLBACK (on_error), r);
  g_signal_connect (r->client, "event", G_CALLBACK (on_event), r);
  g_signal_connect (r->client, "notify::state", G_CALLBACK (on_state), r);

  return r;
}

void
peercam_test_recorder_free (PeercamTestRecorder *r)
{
  if (r->client != NULL)
    {
      g_signal_handlers_disconnect_by_data (r->client, r);
      peercam_signaling_client_disconnect (r->client);
      g_clear_object (&r->client);
    }
  g_ptr_array_unref (r->created);
  g_ptr_array_unref (r->joined);
  g_ptr_array_unref (r->full);
  g_ptr_array_unref (r->byes);
  g_ptr_array_unref (r->server_errors);
  g_ptr_array_unref (r->errors);
  g_ptr_array_unref (r->signals);
  g_ptr_array_unref (r->ices);
  g_ptr_array_unref (r->events);
  g_array_unref (r->states);
  g_free (r);
}

PeercamSignalingState
peercam_test_recorder_state (PeercamTestRecorder *r)
{
  return peercam_signaling_client_get_state (r->client);
}

gboolean
peercam_test_recorder_saw_state (PeercamTestRecorder *r,
           PeercamSignalingState state)
{
  for (guint i = 0; i < r->states->len; i++)
    if (g_array_index (r->states, PeercamSignalingState, i) == state)
      return TRUE;
  return FALSE;
}

GError *
peercam_test_recorder_error_at (PeercamTestRecorder *r, guint i)
{
  g_assert_cmpuint (i, <, r->errors->len);
  return g_ptr_array_index (r->errors, i);
}

gboolean
peercam_test_recorder_has_error (PeercamTestRecorder *r, GQuark domain, int code)
{
  for (guint i = 0; i < r->errors->len; i++)
    if (g_error_matches (g_ptr_array_index (r->errors, i), domain, code))
      return TRUE;
  return FALSE;
}

void
peercam_test_recorder_connect (PeercamTestRecorder *r)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (peercam_signaling_client_connect (r->client, &error));
  g_assert_no_error (error);
}

void
peercam_test_recorder_join (PeercamTestRecorder *r, const char *room)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (peercam_signaling_client_join (r->client, room, &error));
  g_assert_no_error (error);
}

JsonNode *
peercam_test_json (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  return node;
}

const char *
peercam_test_member_string (JsonNode *node, const char *member)
{
  return json_object_get_string_member (json_node_get_object (node), member);
}

void
peercam_test_recorder_exchange (PeercamTestRecorder *a,
                                PeercamTestRecorder *b,
                                JsonNode            *offer,
                                JsonNode            *cand_a,
                                JsonNode            *answer,
                                JsonNode            *cand_b,
                                guint                timeout_ms)
{
  g_assert_true (peercam_signaling_client_send_signal (a->client, offer));
  g_assert_true (peercam_signaling_client_send_ice (a->client, cand_a));
  g_assert_true (WAIT_UNTIL (b->signals->len == 1 && b->ices->len == 1, timeout_ms));
  g_assert_true (json_node_equal (g_ptr_array_index (b->signals, 0), offer));
  g_assert_true (json_node_equal (g_ptr_array_index (b->ices, 0), cand_a));

  g_assert_true (peercam_signaling_client_send_signal (b->client, answer));
  g_assert_true (peercam_signaling_client_send_ice (b->client, cand_b));
  g_assert_true (WAIT_UNTIL (a->signals->len == 1 && a->ices->len == 1, timeout_ms));
  g_assert_true (json_node_equal (g_ptr_array_index (a->signals, 0), answer));
  g_assert_true (json_node_equal (g_ptr_array_index (a->ices, 0), cand_b));
}

/* ------------------------------------------------------------------------ */
/* What a PeercamSignaller reports                                           */

static void
record (PeercamTestSignallerLog *r, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
record (PeercamTestSignallerLog *r, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (r->events, g_strdup_vprintf (format, args));
  va_end (args);
}

static void sl_on_joined (PeercamSignaller *s, const char *peer, PeercamTestSignallerLog *r) { record (r, "joined %s", peer ? peer : "-"); }
static void sl_on_left (PeercamSignaller *s, const char *peer, PeercamTestSignallerLog *r) { record (r, "left %s", peer ? peer : "-"); }
static void sl_on_requested (PeercamSignaller *s, const char *peer, PeercamTestSignallerLog *r) { record (r, "requested %s", peer ? peer : "-"); }
static void sl_on_ended (PeercamSignaller *s, const char *peer, PeercamTestSignallerLog *r) { record (r, "ended %s", peer ? peer : "-"); }

static void
sl_on_description (PeercamSignaller *s, const char *peer, PeercamDescriptionType type,
                const char *sdp, PeercamTestSignallerLog *r)
{
  record (r, "description %s %s %s", peer ? peer : "-", peercam_description_type_to_string (type), sdp);
}

static void
sl_on_candidate (PeercamSignaller *s, const char *peer, int mline, const char *mid,
              const char *candidate, PeercamTestSignallerLog *r)
{
  record (r, "candidate %s %d %s %s", peer ? peer : "-", mline, mid ? mid : "-", candidate);
}

static void
sl_on_error (PeercamSignaller *s, GError *error, PeercamTestSignallerLog *r)
{
  g_ptr_array_add (r->errors, g_error_copy (error));
}

void
peercam_test_signaller_log_init (PeercamTestSignallerLog *r, gpointer signaller)
{
  r->events = g_ptr_array_new_with_free_func (g_free);
  r->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_signal_connect (signaller, "peer-joined", G_CALLBACK (sl_on_joined), r);
  g_signal_connect (signaller, "peer-left", G_CALLBACK (sl_on_left), r);
  g_signal_connect (signaller, "session-requested", G_CALLBACK (sl_on_requested), r);
  g_signal_connect (signaller, "session-description", G_CALLBACK (sl_on_description), r);
  g_signal_connect (signaller, "candidate", G_CALLBACK (sl_on_candidate), r);
  g_signal_connect (signaller, "session-ended", G_CALLBACK (sl_on_ended), r);
  g_signal_connect (signaller, "error", G_CALLBACK (sl_on_error), r);
}

void
peercam_test_signaller_log_clear (PeercamTestSignallerLog *r)
{
  g_clear_pointer (&r->events, g_ptr_array_unref);
  g_clear_pointer (&r->errors, g_ptr_array_unref);
}

char *
peercam_test_signaller_log_text (PeercamTestSignallerLog *r)
{
  g_ptr_array_add (r->events, NULL);
  g_autofree char *text = g_strjoinv ("|", (char **) r->events->pdata);
  g_ptr_array_remove_index (r->events, r->events->len - 1);
  return g_steal_pointer (&text);
}
