/* peercam-ws-hub.c — server-side WebSocket connections on one event source
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libsoup's SoupWebsocketConnection costs a GSource, two GIO streams and a
 * few kilobytes per connection, one write() per message and a walk over
 * every connection's source on each main loop iteration. The signaling
 * server holds thousands of mostly idle connections and relays bursts of
 * small messages, so it drives them itself:
 *   - every plain socket sits in one epoll set, which is the only fd the
 *     main loop polls (TLS streams keep a pollable source each);
 *   - reads go to one shared buffer; a connection keeps bytes only while a
 *     frame is incomplete, and sends only while the socket is full;
 *   - frames queued during an iteration leave in one send() per connection
 *     at its end.
 * Connections are freed only by the hub's own dispatch (or by freeing the
 * hub), never under a caller's feet.
 */
#define G_LOG_DOMAIN "peercam-ws"

#include "peercam-ws-hub.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK        (256 * 1024)
#define MAX_EVENTS        256
#define CLOSE_TIMEOUT_US  (5 * G_TIME_SPAN_SECOND)
/* A connection's share of one wakeup: at most one read (of up to
 * READ_CHUNK, or of the rest of a large frame) and this many frames; what
 * is left waits for the next wakeup, so a flood of tiny frames on one
 * connection cannot hold up the others (or the rest of the main loop). */
#define FRAME_BUDGET      1024
/* An incomplete frame up to this size is completed through the shared
 * buffer (one large read); a larger one by reads of just what it lacks. */
#define SMALL_FRAME       (READ_CHUNK / 2)
/* A peer that stops reading may owe this much before it is dropped. */
#define MIN_SEND_QUEUE    (4 * 1024 * 1024)

/* --- codec -------------------------------------------------------------- */

PeercamWsParseResult
peercam_ws_parse_client_header (const guint8         *data,
                                gsize                 len,
                                guint64               max_payload,
                                PeercamWsFrameHeader *header,
                                gushort              *close_code,
                                const char          **reason)
{
  guint8 b0, b1, opcode;
  gsize need = 2;
  guint64 plen;

#define FAIL(code, why) G_STMT_START { *close_code = (code); *reason = (why); return PEERCAM_WS_PARSE_ERROR; } G_STMT_END

  if (len < 2)
    return PEERCAM_WS_PARSE_NEED_MORE;
  b0 = data[0];
  b1 = data[1];
  opcode = b0 & 0x0f;

  if (b0 & 0x70)
    FAIL (PEERCAM_WS_CLOSE_PROTOCOL_ERROR, "reserved bits set");
  if ((opcode > PEERCAM_WS_OPCODE_BINARY && opcode < PEERCAM_WS_OPCODE_CLOSE) || opcode > PEERCAM_WS_OPCODE_PONG)
    FAIL (PEERCAM_WS_CLOSE_PROTOCOL_ERROR, "unknown opcode");
  if (!(b1 & 0x80))
    FAIL (PEERCAM_WS_CLOSE_PROTOCOL_ERROR, "unmasked client frame");

  plen = b1 & 0x7f;
  if (opcode >= PEERCAM_WS_OPCODE_CLOSE)
    {
      if (!(b0 & 0x80))
        FAIL (PEERCAM_WS_CLOSE_PROTOCOL_ERROR, "fragmented control frame");
      if (plen > 125)
        FAIL (PEERCAM_WS_CLOSE_PROTOCOL_ERROR, "control frame too long");
    }

  if (plen == 126)
    need += 2;
  else if (plen == 127)
    need += 8;
  need += 4;
  if (len < need)
    return PEERCAM_WS_PARSE_NEED_MORE;

  if (plen == 126)
    plen = ((guint64) data[2] << 8) | data[3];
  else if (plen == 127)
    {
      plen = 0;
      for (int i = 0; i < 8; i++)
        plen = (plen << 8) | data[2 + i];
      if (plen >> 63)
        FAIL (PEERCAM_WS_CLOSE_PROTOCOL_ERROR, "frame length out of range");
    }
  if (plen > max_payload)
    FAIL (PEERCAM_WS_CLOSE_TOO_BIG, "message larger than max-message-size");

  header->opcode = opcode;
  header->fin = (b0 & 0x80) != 0;
  header->masked = TRUE;
  memcpy (header->mask, data + need - 4, 4);
  header->header_len = need;
  header->payload_len = plen;
  return PEERCAM_WS_PARSE_OK;
#undef FAIL
}

void
peercam_ws_unmask (guint8       *data,
                   gsize         len,
                   const guint8  mask[4],
                   gsize         offset)
{
  guint8 key[8];
  guint64 key8;
  gsize i = 0;

  for (int k = 0; k < 8; k++)
    key[k] = mask[(offset + k) & 3];
  memcpy (&key8, key, 8);
  for (; i + 8 <= len; i += 8)
    {
      guint64 w;

      memcpy (&w, data + i, 8);
      w ^= key8;
      memcpy (data + i, &w, 8);
    }
  for (; i < len; i++)
    data[i] ^= key[i & 7];
}

gsize
peercam_ws_write_header (guint8  *out,
                         guint8   opcode,
                         guint64  payload_len)
{
  out[0] = 0x80 | (opcode & 0x0f);
  if (payload_len < 126)
    {
      out[1] = (guint8) payload_len;
      return 2;
    }
  if (payload_len < 65536)
    {
      out[1] = 126;
      out[2] = (guint8) (payload_len >> 8);
      out[3] = (guint8) payload_len;
      return 4;
    }
  out[1] = 127;
  for (int i = 0; i < 8; i++)
    out[2 + i] = (guint8) (payload_len >> (56 - 8 * i));
  return 10;
}

static gboolean
close_code_valid (gushort code)
{
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

gboolean
peercam_ws_parse_close (const guint8 *payload,
                        gsize         len,
                        gushort      *code,
                        const char  **reason,
                        gsize        *reason_len,
                        gushort      *error_code)
{
  *reason = "";
  *reason_len = 0;
  if (len == 0)
    {
      *code = PEERCAM_WS_CLOSE_NO_STATUS;
      return TRUE;
    }
  if (len == 1)
    {
      *error_code = PEERCAM_WS_CLOSE_PROTOCOL_ERROR;
      return FALSE;
    }
  *code = (gushort) ((payload[0] << 8) | payload[1]);
  if (!close_code_valid (*code))
    {
      *error_code = PEERCAM_WS_CLOSE_PROTOCOL_ERROR;
      return FALSE;
    }
  if (!peercam_ws_utf8_valid ((const char *) payload + 2, len - 2))
    {
      *error_code = PEERCAM_WS_CLOSE_BAD_DATA;
      return FALSE;
    }
  *reason = (const char *) payload + 2;
  *reason_len = len - 2;
  return TRUE;
}

gboolean
peercam_ws_utf8_valid (const char *data,
                       gsize       len)
{
  gsize i = 0;

  for (; i + 8 <= len; i += 8)
    {
      guint64 w;

      memcpy (&w, data + i, 8);
      if (w & G_GUINT64_CONSTANT (0x8080808080808080))
        break;
    }
  for (; i < len; i++)
    if ((guchar) data[i] & 0x80)
      break;

  /* g_utf8_validate_len() refuses NUL, which is valid UTF-8: check the
   * runs between NULs. */
  while (i < len)
    {
      const char *nul = memchr (data + i, '\0', len - i);
      gsize run = nul != NULL ? (gsize) (nul - (data + i)) : len - i;

      if (run > 0 && !g_utf8_validate_len (data + i, run, NULL))
        return FALSE;
      i += run + 1;
    }
  return TRUE;
}

/* --- connections ---------------------------------------------------------- */

typedef enum {
  CONN_OPEN,
  CONN_CLOSE_SENT,   /* our close frame queued; waiting for the peer's */
  CONN_DRAINING,     /* handshake over: send what is left, then close */
  CONN_FAILED,       /* we failed it: close frame out, then input is
                      * discarded until the peer closes (closing with
                      * unread input would reset the connection) */
  CONN_DEAD,         /* released; freed at the end of the dispatch */
} ConnState;

struct _PeercamWsConn
{
  PeercamWsHub             *hub;
  PeercamWsConn            *prev, *next;   /* hub->conns */
  int                       fd;            /* -1 for streams */
  GIOStream                *stream;
  GSource                  *in_source;     /* streams: pollable sources */
  GSource                  *out_source;
  const PeercamWsConnFuncs *funcs;         /* NULL once detached */
  gpointer                  user_data;

  guint8                   *in;            /* an incomplete frame */
  gsize                     in_len, in_cap;
  guint8                   *out;           /* not yet sent */
  gsize                     out_off, out_len, out_cap;
  GByteArray               *fragments;     /* a fragmented message so far */
  guint8                    fragments_opcode;

  GList                     closing_link;  /* data = this, in hub->closing */
  gint64                    close_deadline;
  ConnState                 state;
  guint                     dirty : 1;     /* in hub->dirty */
  guint                     backlogged : 1; /* in hub->backlog */
  guint                     want_out : 1;  /* EPOLLOUT / out_source armed */
  guint                     writable : 1;  /* EPOLLOUT fired */
  guint                     readable : 1;  /* streams: input ready */
  guint                     overflow : 1;  /* peer stopped reading: drop it */
  guint                     shut : 1;      /* shutdown(SHUT_WR) done */
};

struct _PeercamWsHub
{
  GSource        source;
  int            epfd;
  gpointer       epfd_tag;
  guint64        max_message_size;
  guint8        *scratch;
  PeercamWsConn *conns;
  guint          n_conns;
  GPtrArray     *dirty;     /* PeercamWsConn: output queued, or streams readable */
  GPtrArray     *dead;      /* PeercamWsConn, freed at the end of dispatch */
  GPtrArray     *backlog;   /* PeercamWsConn: complete frames left for the next wakeup */
  GQueue         closing;   /* PeercamWsConn by close_deadline */
  gboolean       dispatching;
  gboolean       freed;
};

static void conn_flush (PeercamWsConn *conn);
static void stream_watch_in (PeercamWsConn *conn);

static void
hub_wake (PeercamWsHub *hub)
{
  if (!hub->dispatching && !hub->freed)
    g_source_set_ready_time (&hub->source, 0);
}

static void
conn_mark_dirty (PeercamWsConn *conn)
{
  if (conn->dirty)
    return;
  conn->dirty = TRUE;
  g_ptr_array_add (conn->hub->dirty, conn);
  hub_wake (conn->hub);
}

static void
conn_free (PeercamWsConn *conn)
{
  g_free (conn->in);
  g_free (conn->out);
  if (conn->fragments != NULL)
    g_byte_array_unref (conn->fragments);
  g_free (conn);
}

static void
conn_destroy_sources (PeercamWsConn *conn)
{
  if (conn->in_source != NULL)
    {
      g_source_destroy (conn->in_source);
      g_clear_pointer (&conn->in_source, g_source_unref);
    }
  if (conn->out_source != NULL)
    {
      g_source_destroy (conn->out_source);
      g_clear_pointer (&conn->out_source, g_source_unref);
    }
}

/* Closes the transport and forgets @conn; the memory goes at the end of the
 * dispatch (or now, outside one). */
static void
conn_release (PeercamWsConn *conn)
{
  PeercamWsHub *hub = conn->hub;

  if (conn->state == CONN_DEAD)
    return;
  conn->state = CONN_DEAD;
  conn->funcs = NULL;

  if (conn->closing_link.data != NULL)
    {
      g_queue_unlink (&hub->closing, &conn->closing_link);
      conn->closing_link.data = NULL;
    }
  if (conn->fd >= 0)
    {
      epoll_ctl (hub->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
      close (conn->fd);
      conn->fd = -1;
    }
  conn_destroy_sources (conn);
  if (conn->stream != NULL)
    {
      g_io_stream_close_async (conn->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
      g_clear_object (&conn->stream);
    }

  if (conn->prev != NULL)
    conn->prev->next = conn->next;
  else
    hub->conns = conn->next;
  if (conn->next != NULL)
    conn->next->prev = conn->prev;
  conn->prev = conn->next = NULL;
  hub->n_conns--;
  if (conn->backlogged)
    {
      g_ptr_array_remove_fast (hub->backlog, conn);
      conn->backlogged = FALSE;
    }

  if (hub->dispatching || conn->dirty)
    g_ptr_array_add (hub->dead, conn);
  else
    conn_free (conn);
}

static gsize
send_queue_limit (PeercamWsHub *hub)
{
  return MAX (MIN_SEND_QUEUE, 4 * hub->max_message_size);
}

static void
conn_queue_frame (PeercamWsConn *conn,
                  guint8         opcode,
                  const void    *payload,
                  gsize          len)
{
  gsize need = conn->out_len + 10 + len;

  /* A peer that stopped reading: dropped by the next dispatch (not here,
   * inside the caller's send). */
  if (conn->overflow)
    return;
  if (conn->out_len - conn->out_off + len > send_queue_limit (conn->hub))
    {
      conn->overflow = TRUE;
      conn_mark_dirty (conn);
      return;
    }

  if (need > conn->out_cap)
    {
      gsize cap = MAX (conn->out_cap * 2, 256);

      /* Compact first: what was sent need not be kept. */
      if (conn->out_off > 0)
        {
          memmove (conn->out, conn->out + conn->out_off, conn->out_len - conn->out_off);
          conn->out_len -= conn->out_off;
          conn->out_off = 0;
          need = conn->out_len + 10 + len;
        }
      while (cap < need)
        cap *= 2;
      if (cap > conn->out_cap)
        {
          conn->out = g_realloc (conn->out, cap);
          conn->out_cap = cap;
        }
    }
  conn->out_len += peercam_ws_write_header (conn->out + conn->out_len, opcode, len);
  if (len > 0)
    memcpy (conn->out + conn->out_len, payload, len);
  conn->out_len += len;
  conn_mark_dirty (conn);
}

static void
conn_queue_close (PeercamWsConn *conn,
                  gushort        code,
                  const char    *reason,
                  gsize          reason_len)
{
  guint8 payload[125];
  gsize len = 0;

  if (code != PEERCAM_WS_CLOSE_NO_STATUS && code != PEERCAM_WS_CLOSE_ABNORMAL)
    {
      payload[0] = (guint8) (code >> 8);
      payload[1] = (guint8) code;
      len = 2;
      if (reason != NULL)
        {
          /* Cut at 123 bytes, on a character boundary. */
          const char *end = reason + MIN (reason_len, sizeof payload - 2);

          if (end < reason + reason_len)
            end = g_utf8_find_prev_char (reason, end + 1);
          if (end == NULL)
            end = reason;
          memcpy (payload + 2, reason, end - reason);
          len += end - reason;
        }
    }
  conn_queue_frame (conn, PEERCAM_WS_OPCODE_CLOSE, payload, len);
}

static void
conn_start_closing (PeercamWsConn *conn,
                    ConnState      state)
{
  PeercamWsHub *hub = conn->hub;

  conn->state = state;
  conn->funcs = NULL;
  g_clear_pointer (&conn->fragments, g_byte_array_unref);
  if (conn->closing_link.data == NULL)
    {
      conn->close_deadline = g_get_monotonic_time () + CLOSE_TIMEOUT_US;
      conn->closing_link.data = conn;
      /* The close frame queued before this wakes the hub, and its
       * dispatch arms the earliest deadline. */
      g_queue_push_tail_link (&hub->closing, &conn->closing_link);
    }
}

/* Tells the user the connection is over (once), then closes it: with a
 * close frame when @send_close, else at once. */
static void
conn_fail (PeercamWsConn *conn,
           gushort        code,
           const char    *reason,
           gboolean       send_close)
{
  const PeercamWsConnFuncs *funcs = conn->funcs;
  gpointer user_data = conn->user_data;

  if (conn->state == CONN_DEAD)
    return;
  if (send_close && conn->state == CONN_OPEN)
    {
      conn_queue_close (conn, code, reason, strlen (reason));
      conn_start_closing (conn, CONN_FAILED);
    }
  else
    conn_release (conn);
  conn->funcs = NULL;
  if (funcs != NULL && funcs->closed != NULL)
    funcs->closed (conn, code, reason, user_data);
}

static void
conn_deliver (PeercamWsConn *conn,
              guint8         opcode,
              const guint8  *data,
              gsize          len)
{
  gboolean binary = opcode == PEERCAM_WS_OPCODE_BINARY;

  if (!binary && !peercam_ws_utf8_valid ((const char *) data, len))
    {
      conn_fail (conn, PEERCAM_WS_CLOSE_BAD_DATA, "invalid UTF-8 in a text message", TRUE);
      return;
    }
  if (conn->funcs != NULL && conn->funcs->message != NULL)
    conn->funcs->message (conn, binary, (const char *) data, len, conn->user_data);
}

static void
conn_handle_close_frame (PeercamWsConn *conn,
                         const guint8  *payload,
                         gsize          len)
{
  gushort code = PEERCAM_WS_CLOSE_NO_STATUS, error_code = 0;
  const char *reason;
  gsize reason_len;

  if (!peercam_ws_parse_close (payload, len, &code, &reason, &reason_len, &error_code))
    {
      conn_fail (conn, error_code, "malformed close frame", TRUE);
      return;
    }

  if (conn->state == CONN_OPEN)
    {
      g_autofree char *text = g_strndup (reason, reason_len);
      const PeercamWsConnFuncs *funcs = conn->funcs;
      gpointer user_data = conn->user_data;

      /* Echo the code, then close once it is out. */
      conn_queue_close (conn, code, NULL, 0);
      conn_start_closing (conn, CONN_DRAINING);
      if (funcs != NULL && funcs->closed != NULL)
        funcs->closed (conn, code, text, user_data);
      return;
    }

  /* The answer to ours: done once our frames are out. */
  conn->state = CONN_DRAINING;
  if (conn->out_len == conn->out_off)
    conn_release (conn);
}

/* Handles the complete frames at the start of @buf (unmasking them in
 * place); returns how many bytes it used. Stops early once @conn is no
 * longer reading. */
static gsize
conn_process (PeercamWsConn *conn,
              guint8        *buf,
              gsize          len)
{
  PeercamWsHub *hub = conn->hub;
  gsize pos = 0;
  guint budget = FRAME_BUDGET;

  while (pos < len && budget > 0 && (conn->state == CONN_OPEN || conn->state == CONN_CLOSE_SENT) && !hub->freed)
    {
      PeercamWsFrameHeader h;
      gushort code = 0;
      const char *reason = NULL;
      guint64 limit = hub->max_message_size;
      PeercamWsParseResult r;
      guint8 *payload;

      if (conn->fragments != NULL)
        limit = limit > conn->fragments->len ? limit - conn->fragments->len : 0;
      r = peercam_ws_parse_client_header (buf + pos, len - pos, limit, &h, &code, &reason);
      if (r == PEERCAM_WS_PARSE_ERROR)
        {
          conn_fail (conn, code, reason, TRUE);
          break;
        }
      if (r == PEERCAM_WS_PARSE_NEED_MORE || len - pos - h.header_len < h.payload_len)
        break;

      payload = buf + pos + h.header_len;
      pos += h.header_len + h.payload_len;
      budget--;
      peercam_ws_unmask (payload, h.payload_len, h.mask, 0);

      if (conn->state == CONN_CLOSE_SENT && h.opcode != PEERCAM_WS_OPCODE_CLOSE)
        continue;  /* closing: only the peer's close frame matters */

      switch (h.opcode)
        {
        case PEERCAM_WS_OPCODE_TEXT:
        case PEERCAM_WS_OPCODE_BINARY:
          if (conn->fragments != NULL)
            {
              conn_fail (conn, PEERCAM_WS_CLOSE_PROTOCOL_ERROR, "new message inside a fragmented one", TRUE);
              break;
            }
          if (h.fin)
            conn_deliver (conn, h.opcode, payload, h.payload_len);
          else
            {
              conn->fragments = g_byte_array_sized_new (MIN (h.payload_len * 2, hub->max_message_size));
              conn->fragments_opcode = h.opcode;
              g_byte_array_append (conn->fragments, payload, h.payload_len);
            }
          break;

        case PEERCAM_WS_OPCODE_CONTINUATION:
          if (conn->fragments == NULL)
            {
              conn_fail (conn, PEERCAM_WS_CLOSE_PROTOCOL_ERROR, "continuation without a message", TRUE);
              break;
            }
          g_byte_array_append (conn->fragments, payload, h.payload_len);
          if (h.fin)
            {
              g_autoptr(GByteArray) message = g_steal_pointer (&conn->fragments);

              conn_deliver (conn, conn->fragments_opcode, message->data, message->len);
            }
          break;

        case PEERCAM_WS_OPCODE_PING:
          conn_queue_frame (conn, PEERCAM_WS_OPCODE_PONG, payload, h.payload_len);
          break;

        case PEERCAM_WS_OPCODE_PONG:
          break;

        case PEERCAM_WS_OPCODE_CLOSE:
          conn_handle_close_frame (conn, payload, h.payload_len);
          break;

        default:
          g_assert_not_reached ();
        }
    }
  return pos;
}

/* One non-blocking read: > 0 bytes read, 0 end of stream, -1 nothing to
 * read now, -2 error. */
static gssize
conn_recv (PeercamWsConn *conn,
           guint8        *buf,
           gsize          size)
{
  gssize n;

  if (conn->fd >= 0)
    {
      do
        n = recv (conn->fd, buf, size, 0);
      while (n < 0 && errno == EINTR);
      if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
      return n;
    }
  else
    {
      g_autoptr(GError) error = NULL;
      GInputStream *input = g_io_stream_get_input_stream (conn->stream);

      n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (input), buf, size, NULL, &error);
      if (n < 0)
        return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK) ? -1 : -2;
      return n;
    }
}

/* Bytes @conn->in must hold to finish its first frame, or its header. */
static gsize
conn_in_target (PeercamWsConn *conn)
{
  PeercamWsFrameHeader h;
  gushort code;
  const char *reason;

  switch (peercam_ws_parse_client_header (conn->in, conn->in_len, conn->hub->max_message_size,
                                          &h, &code, &reason))
    {
    case PEERCAM_WS_PARSE_OK:
      return MAX (h.header_len + h.payload_len, conn->in_len);
    case PEERCAM_WS_PARSE_NEED_MORE:
      return MAX (conn->in_len, 14);  /* the longest header */
    case PEERCAM_WS_PARSE_ERROR:
    default:
      return conn->in_len;  /* conn_process() says what is wrong */
    }
}

/* Keeps @len bytes of an incomplete frame, in a buffer of its size. */
static void
conn_keep (PeercamWsConn *conn,
           const guint8  *data,
           gsize          len)
{
  if (len == 0)
    {
      conn->in_len = conn->in_cap = 0;
      g_clear_pointer (&conn->in, g_free);
      return;
    }
  if (data != conn->in)
    {
      if (conn->in_cap < len)
        {
          g_free (conn->in);
          conn->in = g_malloc (len);
          conn->in_cap = len;
        }
      memmove (conn->in, data, len);
    }
  conn->in_len = len;
}

/* The transport ended (0: end of stream) or broke: nothing more can be
 * said either way. Outside CONN_OPEN nobody is told (funcs is NULL). */
static void
conn_lost (PeercamWsConn *conn,
           gssize         n)
{
  conn_fail (conn, PEERCAM_WS_CLOSE_ABNORMAL, n == 0 ? "connection closed" : "connection lost", FALSE);
}

static gboolean
conn_reading (PeercamWsConn *conn)
{
  return (conn->state == CONN_OPEN || conn->state == CONN_CLOSE_SENT) && !conn->hub->freed;
}

/* Whether @conn->in starts with a complete frame (or with bytes that are
 * no frame at all), which conn_process() can handle without a read. */
static gboolean
conn_has_frame (PeercamWsConn *conn)
{
  return conn->in_len > 0 && conn_in_target (conn) <= conn->in_len;
}

/* Frames left over by the budget: handled in the next wakeup. */
static void
conn_backlog (PeercamWsConn *conn)
{
  if (conn->backlogged || !conn_reading (conn) || !conn_has_frame (conn))
    return;
  conn->backlogged = TRUE;
  g_ptr_array_add (conn->hub->backlog, conn);
}

/* Handles frames from @conn->in, up to the budget. */
static void
conn_process_kept (PeercamWsConn *conn)
{
  gsize used = conn_process (conn, conn->in, conn->in_len);

  if (!conn_reading (conn))
    {
      if (conn->state == CONN_FAILED)
        conn_keep (conn, NULL, 0);
      return;
    }
  conn_keep (conn, conn->in + used, conn->in_len - used);
  conn_backlog (conn);
}

/* One turn of @conn: at most one read and FRAME_BUDGET frames. Frames
 * left in the buffer wait in the backlog; bytes left in the socket make
 * epoll (level-triggered) or the stream's source report it again. An
 * incomplete frame is kept in a buffer of its own size; a small one is
 * completed through the hub's shared buffer together with whatever
 * follows it, a large one by reads of just the bytes it lacks. An idle
 * connection holds no buffer at all. */
static void
conn_read (PeercamWsConn *conn)
{
  PeercamWsHub *hub = conn->hub;
  gsize used, off = 0;
  gssize n;

  conn->readable = FALSE;

  if (conn->state == CONN_FAILED)
    {
      /* Whatever the peer still says is dropped until it closes. */
      conn_keep (conn, NULL, 0);
      n = conn_recv (conn, hub->scratch, READ_CHUNK);
      if (n == 0 || n == -2)
        conn_lost (conn, n);
      else
        goto wait;
      return;
    }
  if (!conn_reading (conn))
    return;

  if (conn->in_len > 0)
    {
      gsize target = conn_in_target (conn);

      if (conn->in_len >= target)
        {
          /* Frames left from the last turn: no read until they are done. */
          conn_process_kept (conn);
          goto wait;
        }
      if (target > SMALL_FRAME)
        {
          if (conn->in_cap < target)
            {
              conn->in = g_realloc (conn->in, target);
              conn->in_cap = target;
            }
          n = conn_recv (conn, conn->in + conn->in_len, target - conn->in_len);
          if (n == -1)
            goto wait;
          if (n <= 0)
            {
              conn_lost (conn, n);
              return;
            }
          conn->in_len += (gsize) n;
          if (conn->in_len >= target)
            conn_process_kept (conn);
          goto wait;
        }
      off = conn->in_len;
      memcpy (hub->scratch, conn->in, off);
    }

  n = conn_recv (conn, hub->scratch + off, READ_CHUNK - off);
  if (n == -1)
    goto wait;  /* conn->in still holds the first @off bytes */
  if (n <= 0)
    {
      conn_lost (conn, n);
      return;
    }
  used = conn_process (conn, hub->scratch, off + (gsize) n);
  if (!conn_reading (conn))
    {
      if (conn->state == CONN_FAILED)
        {
          conn_keep (conn, NULL, 0);
          goto wait;
        }
      return;
    }
  conn_keep (conn, hub->scratch + used, off + (gsize) n - used);
  conn_backlog (conn);

wait:
  if (conn->stream != NULL && conn->state != CONN_DEAD)
    stream_watch_in (conn);
}

static gboolean
stream_in_cb (GObject  *pollable,
              gpointer  user_data)
{
  PeercamWsConn *conn = user_data;

  g_clear_pointer (&conn->in_source, g_source_unref);  /* the source goes on return */
  conn->readable = TRUE;
  conn_mark_dirty (conn);
  return G_SOURCE_REMOVE;
}

static void
stream_watch_in (PeercamWsConn *conn)
{
  GInputStream *input;

  if (conn->in_source != NULL || conn->readable || conn->state == CONN_DEAD || conn->state == CONN_DRAINING)
    return;
  input = g_io_stream_get_input_stream (conn->stream);
  conn->in_source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (input), NULL);
  g_source_set_callback (conn->in_source, (GSourceFunc) (void (*) (void)) stream_in_cb, conn, NULL);
  g_source_attach (conn->in_source, g_source_get_context (&conn->hub->source));
}

static gboolean
stream_out_cb (GObject  *pollable,
               gpointer  user_data)
{
  PeercamWsConn *conn = user_data;

  g_clear_pointer (&conn->out_source, g_source_unref);
  conn->want_out = FALSE;
  conn_mark_dirty (conn);
  return G_SOURCE_REMOVE;
}

static void
conn_want_out (PeercamWsConn *conn,
               gboolean       want)
{
  PeercamWsHub *hub = conn->hub;

  if (conn->want_out == want)
    return;
  conn->want_out = want;
  if (conn->fd >= 0)
    {
      struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = conn };

      epoll_ctl (hub->epfd, EPOLL_CTL_MOD, conn->fd, &ev);
    }
  else if (want)
    {
      GOutputStream *output = g_io_stream_get_output_stream (conn->stream);

      conn->out_source = g_pollable_output_stream_create_source (G_POLLABLE_OUTPUT_STREAM (output), NULL);
      g_source_set_callback (conn->out_source, (GSourceFunc) (void (*) (void)) stream_out_cb, conn, NULL);
      g_source_attach (conn->out_source, g_source_get_context (&hub->source));
    }
}

/* Ends our direction of the transport, keeping the other open. */
static gboolean
conn_shutdown_write (PeercamWsConn *conn)
{
  GIOStream *stream = conn->stream;

  if (conn->fd >= 0)
    return shutdown (conn->fd, SHUT_WR) == 0;

  /* A TLS stream ends without close_notify here: the connection failed. */
  if (G_IS_TLS_CONNECTION (stream))
    {
      GIOStream *base = NULL;

      g_object_get (stream, "base-io-stream", &base, NULL);
      if (G_IS_SOCKET_CONNECTION (base))
        {
          gboolean done = g_socket_shutdown (g_socket_connection_get_socket (G_SOCKET_CONNECTION (base)),
                                             FALSE, TRUE, NULL);

          g_object_unref (base);
          return done;
        }
      g_clear_object (&base);
      return FALSE;
    }
  if (G_IS_SOCKET_CONNECTION (stream))
    return g_socket_shutdown (g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream)), FALSE, TRUE, NULL);
  return FALSE;
}

/* A full socket waits for EPOLLOUT before it is written again. */
static gboolean
conn_waiting_for_epollout (PeercamWsConn *conn)
{
  return conn->fd >= 0 && conn->want_out && !conn->writable;
}

static void
conn_flush (PeercamWsConn *conn)
{
  conn->writable = FALSE;
  while (conn->state != CONN_DEAD && conn->out_off < conn->out_len)
    {
      gssize n;

      if (conn->fd >= 0)
        {
          n = send (conn->fd, conn->out + conn->out_off, conn->out_len - conn->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            n = 0;
        }
      else
        {
          g_autoptr(GError) error = NULL;
          GOutputStream *output = g_io_stream_get_output_stream (conn->stream);

          n = g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (output),
                                                          conn->out + conn->out_off,
                                                          conn->out_len - conn->out_off, NULL, &error);
          if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            n = 0;
        }

      if (n < 0)
        {
          conn_lost (conn, n);
          return;
        }
      if (n == 0)
        {
          conn_want_out (conn, TRUE);
          return;
        }
      conn->out_off += (gsize) n;
    }

  if (conn->state == CONN_DEAD)
    return;
  /* All out: hold no buffer while idle. */
  conn->out_off = conn->out_len = 0;
  if (conn->out_cap > 0)
    {
      g_clear_pointer (&conn->out, g_free);
      conn->out_cap = 0;
    }
  conn_want_out (conn, FALSE);
  if (conn->state == CONN_DRAINING)
    conn_release (conn);
  else if (conn->state == CONN_FAILED && !conn->shut)
    {
      /* Our close frame is out: the peer sees the end of the stream and
       * closes; its answer is discarded. */
      conn->shut = TRUE;
      if (!conn_shutdown_write (conn))
        conn_release (conn);
    }
}

/* --- the hub's source ------------------------------------------------------- */

static void
hub_free_dead (PeercamWsHub *hub)
{
  for (guint i = 0; i < hub->dead->len; i++)
    conn_free (g_ptr_array_index (hub->dead, i));
  g_ptr_array_set_size (hub->dead, 0);
}

static gboolean
hub_dispatch (GSource     *source,
              GSourceFunc  callback,
              gpointer     user_data)
{
  PeercamWsHub *hub = (PeercamWsHub *) source;
  struct epoll_event events[MAX_EVENTS];
  gint64 now;

  hub->dispatching = TRUE;
  g_source_set_ready_time (source, -1);

  /* Connections with frames left from the last wakeup get their next
   * turn; those that still have some go back in, for the next one. */
  if (hub->backlog->len > 0)
    {
      g_autoptr(GPtrArray) backlog = g_steal_pointer (&hub->backlog);

      hub->backlog = g_ptr_array_new ();
      for (guint i = 0; i < backlog->len; i++)
        ((PeercamWsConn *) g_ptr_array_index (backlog, i))->backlogged = FALSE;
      for (guint i = 0; i < backlog->len && !hub->freed; i++)
        {
          PeercamWsConn *conn = g_ptr_array_index (backlog, i);

          if (conn->state != CONN_DEAD)
            conn_read (conn);
        }
    }

  if (g_source_query_unix_fd (source, hub->epfd_tag) & G_IO_IN)
    {
      int n = epoll_wait (hub->epfd, events, MAX_EVENTS, 0);

      for (int i = 0; i < n && !hub->freed; i++)
        {
          PeercamWsConn *conn = events[i].data.ptr;

          if (conn->state == CONN_DEAD)
            continue;
          if (events[i].events & EPOLLOUT)
            {
              conn->writable = TRUE;
              conn_mark_dirty (conn);
            }
          /* A backlogged connection had its turn above. */
          if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !conn->backlogged)
            conn_read (conn);
        }
    }

  /* Streams that became readable, and everything with output queued
   * (including what the reads above queued): one send each. Handlers may
   * queue more, and mark more connections, while this runs. */
  for (guint i = 0; i < hub->dirty->len && !hub->freed; i++)
    {
      PeercamWsConn *conn = g_ptr_array_index (hub->dirty, i);

      conn->dirty = FALSE;
      if (conn->state == CONN_DEAD)
        continue;
      if (conn->overflow)
        {
          conn_fail (conn, PEERCAM_WS_CLOSE_POLICY_VIOLATION, "peer is not reading", FALSE);
          continue;
        }
      if (conn->readable && !conn->backlogged)
        conn_read (conn);
      if (conn->state != CONN_DEAD && !conn_waiting_for_epollout (conn))
        conn_flush (conn);
    }
  if (!hub->freed)
    g_ptr_array_set_size (hub->dirty, 0);

  now = g_get_monotonic_time ();
  while (!hub->freed && hub->closing.head != NULL)
    {
      PeercamWsConn *conn = hub->closing.head->data;

      if (conn->close_deadline > now)
        {
          g_source_set_ready_time (source, conn->close_deadline);
          break;
        }
      conn_release (conn);
    }

  if (!hub->freed && hub->backlog->len > 0)
    g_source_set_ready_time (source, 0);
  hub->dispatching = FALSE;
  hub_free_dead (hub);
  return G_SOURCE_CONTINUE;
}

static void
hub_finalize (GSource *source)
{
  PeercamWsHub *hub = (PeercamWsHub *) source;

  hub_free_dead (hub);
  g_ptr_array_unref (hub->dead);
  g_ptr_array_unref (hub->dirty);
  g_ptr_array_unref (hub->backlog);
  g_free (hub->scratch);
  if (hub->epfd >= 0)
    close (hub->epfd);
}

static GSourceFuncs hub_funcs = {
  .dispatch = hub_dispatch,
  .finalize = hub_finalize,
};

PeercamWsHub *
peercam_ws_hub_new (GMainContext *context,
                    guint64       max_message_size)
{
  PeercamWsHub *hub = (PeercamWsHub *) g_source_new (&hub_funcs, sizeof (PeercamWsHub));

  g_source_set_static_name (&hub->source, "PeercamWsHub");
  hub->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (hub->epfd < 0)
    g_error ("epoll_create1: %s", g_strerror (errno));
  hub->max_message_size = max_message_size;
  hub->scratch = g_malloc (READ_CHUNK);
  hub->dirty = g_ptr_array_new ();
  hub->dead = g_ptr_array_new ();
  hub->backlog = g_ptr_array_new ();
  g_queue_init (&hub->closing);
  hub->epfd_tag = g_source_add_unix_fd (&hub->source, hub->epfd, G_IO_IN);
  g_source_attach (&hub->source, context);
  return hub;
}

void
peercam_ws_hub_free (PeercamWsHub *hub)
{
  if (hub == NULL)
    return;

  while (hub->conns != NULL)
    conn_release (hub->conns);
  /* A dispatch under way sees this and stops; its source reference keeps
   * the memory until it returns. */
  hub->freed = TRUE;
  if (!hub->dispatching)
    hub_free_dead (hub);
  g_source_destroy (&hub->source);
  g_source_unref (&hub->source);
}

void
peercam_ws_hub_set_max_message_size (PeercamWsHub *hub,
                                     guint64       max_message_size)
{
  hub->max_message_size = max_message_size;
}

void
peercam_ws_hub_flush (PeercamWsHub *hub)
{
  g_return_if_fail (hub != NULL);

  if (hub->dispatching || hub->freed)
    return;  /* the dispatch under way flushes at its end */
  /* As in a dispatch: connections released meanwhile stay allocated
   * until the end. */
  hub->dispatching = TRUE;
  for (PeercamWsConn *conn = hub->conns, *next; conn != NULL; conn = next)
    {
      next = conn->next;
      if (conn->out_len > conn->out_off && !conn_waiting_for_epollout (conn))
        conn_flush (conn);
    }
  hub->dispatching = FALSE;
  /* What handlers queued meanwhile goes with the next dispatch, which also
   * frees what was released (it may still be listed as dirty). */
  if (!hub->freed && (hub->dirty->len > 0 || hub->dead->len > 0))
    g_source_set_ready_time (&hub->source, 0);
}

guint
peercam_ws_hub_get_n_connections (PeercamWsHub *hub)
{
  return hub->n_conns;
}

static PeercamWsConn *
conn_new (PeercamWsHub             *hub,
          const PeercamWsConnFuncs *funcs,
          gpointer                  user_data)
{
  PeercamWsConn *conn = g_new0 (PeercamWsConn, 1);

  conn->hub = hub;
  conn->fd = -1;
  conn->funcs = funcs;
  conn->user_data = user_data;
  conn->next = hub->conns;
  if (hub->conns != NULL)
    hub->conns->prev = conn;
  hub->conns = conn;
  hub->n_conns++;
  return conn;
}

PeercamWsConn *
peercam_ws_hub_adopt_fd (PeercamWsHub             *hub,
                         int                       fd,
                         const PeercamWsConnFuncs *funcs,
                         gpointer                  user_data)
{
  PeercamWsConn *conn;
  struct epoll_event ev = { .events = EPOLLIN };
  int flags;

  g_return_val_if_fail (hub != NULL && !hub->freed, NULL);
  g_return_val_if_fail (fd >= 0, NULL);

  flags = fcntl (fd, F_GETFL);
  if (flags >= 0 && !(flags & O_NONBLOCK))
    fcntl (fd, F_SETFL, flags | O_NONBLOCK);

  conn = conn_new (hub, funcs, user_data);
  conn->fd = fd;
  ev.data.ptr = conn;
  if (epoll_ctl (hub->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    {
      g_warning ("epoll_ctl: %s", g_strerror (errno));
      conn->fd = -1;
      close (fd);
      conn_fail (conn, PEERCAM_WS_CLOSE_SERVER_ERROR, "internal error", FALSE);
      return NULL;
    }
  return conn;
}

PeercamWsConn *
peercam_ws_hub_adopt_stream (PeercamWsHub             *hub,
                             GIOStream                *stream,
                             const PeercamWsConnFuncs *funcs,
                             gpointer                  user_data)
{
  PeercamWsConn *conn;

  g_return_val_if_fail (hub != NULL && !hub->freed, NULL);
  g_return_val_if_fail (G_IS_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream)), NULL);
  g_return_val_if_fail (G_IS_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream)), NULL);

  conn = conn_new (hub, funcs, user_data);
  conn->stream = g_object_ref (stream);
  /* Whatever is already buffered is read in the next dispatch. */
  conn->readable = TRUE;
  conn_mark_dirty (conn);
  return conn;
}

gboolean
peercam_ws_conn_send_text (PeercamWsConn *conn,
                           const char    *data,
                           gsize          len)
{
  g_return_val_if_fail (conn != NULL, FALSE);

  if (conn->state != CONN_OPEN)
    return FALSE;
  conn_queue_frame (conn, PEERCAM_WS_OPCODE_TEXT, data, len);
  return !conn->overflow;
}

void
peercam_ws_conn_close (PeercamWsConn *conn,
                       gushort        code,
                       const char    *reason)
{
  g_return_if_fail (conn != NULL);

  conn->funcs = NULL;
  if (conn->state != CONN_OPEN)
    return;
  conn_queue_close (conn, code, reason, reason ? strlen (reason) : 0);
  conn_start_closing (conn, CONN_CLOSE_SENT);
}
