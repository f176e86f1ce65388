/* peercam-test-recorder.h — what a PeercamSignalingClient reports, recorded
 * for the signaling client tests (our server and the stock node relay)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "peercam-signaling-client.h"
#include "peercam-signaller.h"

G_BEGIN_DECLS

/* Every signal of one client, in arrival order. The client is made by
 * peercam_test_recorder_new() and disconnected by _free(). */
typedef struct {
  PeercamSignalingClient *client;
  GPtrArray *created;      /* room names */
  GPtrArray *joined;
  GPtrArray *full;
  GPtrArray *byes;         /* ids, "" for none */
  GPtrArray *server_errors;
  GPtrArray *errors;       /* GError* */
  GPtrArray *signals;      /* JsonNode* */
  GPtrArray *ices;
  GPtrArray *events;       /* "name:args-json" */
  GArray *states;          /* PeercamSignalingState history */
  guint calls;
} PeercamTestRecorder;

PeercamTestRecorder   *peercam_test_recorder_new       (const char          *url);
void                   peercam_test_recorder_free      (PeercamTestRecorder *r);
PeercamSignalingState  peercam_test_recorder_state     (PeercamTestRecorder *r);
/* Whether the client ever went through @state. */
gboolean               peercam_test_recorder_saw_state (PeercamTestRecorder  *r,
                                                        PeercamSignalingState state);
GError                *peercam_test_recorder_error_at  (PeercamTestRecorder *r,
                                                        guint                i);
gboolean               peercam_test_recorder_has_error (PeercamTestRecorder *r,
                                                        GQuark               domain,
                                                        int                  code);
/* Connect / join, asserting that they start. */
void                   peercam_test_recorder_connect   (PeercamTestRecorder *r);
void                   peercam_test_recorder_join      (PeercamTestRecorder *r,
                                                        const char          *room);

/* The call set-up exchange through a relay: @a sends @offer and @cand_a,
 * @b receives exactly them first; @b answers with @answer and @cand_b, and
 * @a receives exactly those first. */
void                   peercam_test_recorder_exchange  (PeercamTestRecorder *a,
                                                        PeercamTestRecorder *b,
                                                        JsonNode            *offer,
                                                        JsonNode            *cand_a,
                                                        JsonNode            *answer,
                                                        JsonNode            *cand_b,
                                                        guint                timeout_ms);

/* Parses @text, asserting it is JSON. */
JsonNode              *peercam_test_json               (const char          *text);
const char            *peercam_test_member_string      (JsonNode            *node,
                                                        const char          *member);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamTestRecorder, peercam_test_recorder_free)

/* Every signal of one PeercamSignaller, in arrival order, as text:
 * "joined PEER", "left PEER", "requested PEER", "ended PEER",
 * "description PEER TYPE SDP", "candidate PEER MLINE MID TEXT" ("-" for
 * NULL); errors apart. */
typedef struct {
  GPtrArray *events;   /* char * */
  GPtrArray *errors;   /* GError */
} PeercamTestSignallerLog;

void  peercam_test_signaller_log_init  (PeercamTestSignallerLog *r,
                                        gpointer                 signaller);
void  peercam_test_signaller_log_clear (PeercamTestSignallerLog *r);
/* The events joined by "|". */
char *peercam_test_signaller_log_text  (PeercamTestSignallerLog *r);

G_END_DECLS
