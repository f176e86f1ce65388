/* peercam-session-types.h — the values the session layer shows windows
 *
 * Core's own enums: a window never sees the media or signaling layers'
 * (the session maps them; their values are checked equal at build time).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
  PEERCAM_SESSION_ROLE_CALLER,    /* sends video ("user A") */
  PEERCAM_SESSION_ROLE_VIEWER,    /* receives video ("user B") */
} PeercamSessionRole;

/* A call (a viewer's state in the caller's list, or the furthest call). */
typedef enum {
  PEERCAM_SESSION_STATE_IDLE,
  PEERCAM_SESSION_STATE_PREVIEW,     /* caller: local video running, no call */
  PEERCAM_SESSION_STATE_CALLING,     /* caller: offer sent, answer pending */
  PEERCAM_SESSION_STATE_CONNECTING,  /* both descriptions set, ICE/DTLS running */
  PEERCAM_SESSION_STATE_CONNECTED,
  PEERCAM_SESSION_STATE_ENDED,       /* viewer: the call ended, waiting for the next offer */
  PEERCAM_SESSION_STATE_FAILED,
} PeercamSessionState;

/* Where the room stands: NONE before any join (and after leaving). */
typedef enum {
  PEERCAM_ROOM_STATE_NONE,
  PEERCAM_ROOM_STATE_DISCONNECTED,
  PEERCAM_ROOM_STATE_CONNECTING,
  PEERCAM_ROOM_STATE_CONNECTED,
  PEERCAM_ROOM_STATE_JOINED,
  PEERCAM_ROOM_STATE_RECONNECTING,
  PEERCAM_ROOM_STATE_FAILED,
} PeercamRoomState;

/* What the join error (PeercamSession:join-error) is about. */
typedef enum {
  PEERCAM_JOIN_PROBLEM_NONE,
  PEERCAM_JOIN_PROBLEM_ROOM_FULL,
  PEERCAM_JOIN_PROBLEM_AUTH,          /* the access token was refused or missing */
  PEERCAM_JOIN_PROBLEM_CERTIFICATE,   /* the server's certificate is not trusted */
  PEERCAM_JOIN_PROBLEM_OTHER,         /* unreachable, closed… */
} PeercamJoinProblem;

/* What starting the local video (or a source) failed on. */
typedef enum {
  PEERCAM_SOURCE_PROBLEM_OTHER,
  PEERCAM_SOURCE_PROBLEM_NO_CAMERA,      /* none found: offer the test pattern */
  PEERCAM_SOURCE_PROBLEM_CANNOT_RUN,     /* the screen refused, a source or plugin fails */
  PEERCAM_SOURCE_PROBLEM_CAMERA_DENIED,  /* the camera portal said no */
} PeercamSourceProblem;

/* One call's statistics, every second (the session's "stats" signal): the
 * media layer's typed struct, read here field by field. */
typedef struct _PeercamCallStats PeercamCallStats;

typedef enum {
  PEERCAM_STAT_FPS,
  PEERCAM_STAT_KBPS,               /* both ways */
  PEERCAM_STAT_WIDTH,              /* the video's size */
  PEERCAM_STAT_HEIGHT,
  PEERCAM_STAT_RTT_MS,             /* -1: unknown */
  PEERCAM_STAT_ESTIMATE_KBPS,      /* a caller's congestion control: */
  PEERCAM_STAT_SEND_WIDTH,         /*   the format it sends now */
  PEERCAM_STAT_SEND_HEIGHT,
  PEERCAM_STAT_SEND_FPS,
  PEERCAM_STAT_SEND_KBPS,
  PEERCAM_STAT_LOSS_PCT,           /* what the viewer lost (either side's view) */
  PEERCAM_STAT_JITTER_MS,          /* a viewer's receive side */
  PEERCAM_STAT_LATENCY_MS,         /*   its jitter buffer */
  PEERCAM_STAT_RETRANSMISSIONS,    /* sent (caller) or asked for (viewer) */
  PEERCAM_STAT_FRAMES,             /* since the call began: shown (viewer) or into the encoder (caller) */
  PEERCAM_STAT_MAX_GAP_MS,         /* a viewer's longest wait for a frame since the last stats */
  PEERCAM_STAT_PACKETS_LOST,       /*   packets lost for good (after retransmissions) */
  PEERCAM_STAT_FRAMES_UNDECODED,   /*   frames its decoder failed on */
} PeercamStat;

/* FALSE when @stats lacks @stat (a caller has no jitter buffer, a viewer
 * no estimate). */
gboolean peercam_call_stats_lookup (const PeercamCallStats *stats,
                                    PeercamStat             stat,
                                    double                 *value);

#define PEERCAM_TYPE_SESSION_ROLE (peercam_session_role_get_type ())
#define PEERCAM_TYPE_SESSION_STATE (peercam_session_state_get_type ())
#define PEERCAM_TYPE_ROOM_STATE (peercam_room_state_get_type ())
GType peercam_session_role_get_type  (void);
GType peercam_session_state_get_type (void);
GType peercam_room_state_get_type    (void);

G_END_DECLS
