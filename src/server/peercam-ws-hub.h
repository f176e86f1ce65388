/* peercam-ws-hub.h — server-side WebSocket connections on one event source
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* RFC 6455 §7.4.1 close codes (the same numbers as SoupWebsocketCloseCode). */
typedef enum {
  PEERCAM_WS_CLOSE_NORMAL           = 1000,
  PEERCAM_WS_CLOSE_GOING_AWAY       = 1001,
  PEERCAM_WS_CLOSE_PROTOCOL_ERROR   = 1002,
  PEERCAM_WS_CLOSE_UNSUPPORTED_DATA = 1003,
  PEERCAM_WS_CLOSE_NO_STATUS        = 1005,
  PEERCAM_WS_CLOSE_ABNORMAL         = 1006,
  PEERCAM_WS_CLOSE_BAD_DATA         = 1007,
  PEERCAM_WS_CLOSE_POLICY_VIOLATION = 1008,
  PEERCAM_WS_CLOSE_TOO_BIG          = 1009,
  PEERCAM_WS_CLOSE_SERVER_ERROR     = 1011,
} PeercamWsCloseCode;

typedef enum {
  PEERCAM_WS_OPCODE_CONTINUATION = 0x0,
  PEERCAM_WS_OPCODE_TEXT         = 0x1,
  PEERCAM_WS_OPCODE_BINARY       = 0x2,
  PEERCAM_WS_OPCODE_CLOSE        = 0x8,
  PEERCAM_WS_OPCODE_PING         = 0x9,
  PEERCAM_WS_OPCODE_PONG         = 0xA,
} PeercamWsOpcode;

/* --- pure frame codec (no I/O) ------------------------------------------- */

typedef struct {
  guint8   opcode;       /* PeercamWsOpcode */
  gboolean fin;
  gboolean masked;
  guint8   mask[4];
  gsize    header_len;   /* bytes before the payload, mask key included */
  guint64  payload_len;
} PeercamWsFrameHeader;

typedef enum {
  PEERCAM_WS_PARSE_ERROR = -1,
  PEERCAM_WS_PARSE_NEED_MORE = 0,
  PEERCAM_WS_PARSE_OK = 1,
} PeercamWsParseResult;

/* Reads one frame header a client sent (so masking is required). On ERROR,
 * *@close_code and *@reason say how to close: 1002 for a malformed header,
 * 1009 when the payload is over @max_payload. NEED_MORE: give more bytes. */
PeercamWsParseResult peercam_ws_parse_client_header (const guint8         *data,
                                                     gsize                 len,
                                                     guint64               max_payload,
                                                     PeercamWsFrameHeader *header,
                                                     gushort              *close_code,
                                                     const char          **reason);

/* XORs @len bytes with the key, as if they started @offset bytes into the
 * payload. */
void     peercam_ws_unmask (guint8       *data,
                            gsize         len,
                            const guint8  mask[4],
                            gsize         offset);

/* Writes an unmasked server frame header for @payload_len bytes into @out
 * (at least 10 bytes); returns its length. */
gsize    peercam_ws_write_header (guint8  *out,
                                  guint8   opcode,
                                  guint64  payload_len);

/* A close frame's payload: status code and UTF-8 reason. FALSE (with the
 * code to answer) when it is malformed; an empty payload is code 1005. */
gboolean peercam_ws_parse_close (const guint8 *payload,
                                 gsize         len,
                                 gushort      *code,
                                 const char  **reason,
                                 gsize        *reason_len,
                                 gushort      *error_code);

/* UTF-8 check with an ASCII fast path (text frames are nearly all ASCII). */
gboolean peercam_ws_utf8_valid (const char *data,
                                gsize       len);

/* --- connections ------------------------------------------------------------ */

typedef struct _PeercamWsHub  PeercamWsHub;
typedef struct _PeercamWsConn PeercamWsConn;

typedef struct {
  /* One complete message. @data is only valid during the call. */
  void (*message) (PeercamWsConn *conn,
                   gboolean       binary,
                   const char    *data,
                   gsize          len,
                   gpointer       user_data);
  /* The connection ended by itself: the peer closed it or vanished, it
   * broke the protocol, sent a message over the size limit, or stopped
   * reading what it is sent. @code and @reason are the close frame sent or
   * received; 1006 when the connection broke without one, 1008 "peer is not
   * reading" when it owed more than the send queue holds. Not called after
   * peercam_ws_conn_close(). @conn is gone when this returns. */
  void (*closed)  (PeercamWsConn *conn,
                   gushort        code,
                   const char    *reason,
                   gpointer       user_data);
} PeercamWsConnFuncs;

/* Serves WebSocket connections, after the HTTP upgrade, from one GSource on
 * @context: plain sockets through one epoll fd (thousands of connections
 * cost one poll entry), other streams (TLS) through their pollable sources.
 * Outgoing frames are batched per main loop iteration. */
PeercamWsHub  *peercam_ws_hub_new                  (GMainContext *context,
                                                    guint64       max_message_size);
/* Closes every connection at once (no close handshake, no callbacks) and
 * frees the hub. */
void           peercam_ws_hub_free                 (PeercamWsHub *hub);
void           peercam_ws_hub_set_max_message_size (PeercamWsHub *hub,
                                                    guint64       max_message_size);
/* Sends what is queued now, without waiting (before the process or the
 * hub goes away, so peers get their close frames). */
void           peercam_ws_hub_flush                (PeercamWsHub *hub);
/* Connections open or finishing their close handshake. */
guint          peercam_ws_hub_get_n_connections    (PeercamWsHub *hub);

/* Takes @fd (a connected, upgraded stream socket; made non-blocking). */
PeercamWsConn *peercam_ws_hub_adopt_fd             (PeercamWsHub             *hub,
                                                    int                       fd,
                                                    const PeercamWsConnFuncs *funcs,
                                                    gpointer                  user_data);
/* For streams without a plain fd (TLS): must be pollable both ways. */
PeercamWsConn *peercam_ws_hub_adopt_stream         (PeercamWsHub             *hub,
                                                    GIOStream                *stream,
                                                    const PeercamWsConnFuncs *funcs,
                                                    gpointer                  user_data);

/* Queues a text frame; FALSE if the connection is no longer open or its
 * peer stopped reading (the closed callback follows from the hub). */
gboolean       peercam_ws_conn_send_text           (PeercamWsConn *conn,
                                                    const char    *data,
                                                    gsize          len);
/* Starts the close handshake. The connection belongs to the hub from now
 * on: no more callbacks, and @conn must not be used again. */
void           peercam_ws_conn_close               (PeercamWsConn *conn,
                                                    gushort        code,
                                                    const char    *reason);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamWsHub, peercam_ws_hub_free)

G_END_DECLS
