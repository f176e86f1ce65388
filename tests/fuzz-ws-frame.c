/* fuzz-ws-frame.c — libFuzzer target for the WebSocket frame codec
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The first byte picks the size limit; the rest is read as the hub reads a
 * socket: client frame after client frame until one is incomplete or
 * refused. Every header must parse exactly as a plain reference reading of
 * RFC 6455 §5.2 says; every payload is unmasked (checked against a byte
 * loop) and its UTF-8 check compared with GLib's; close payloads go through
 * the close parser, also checked against a reference.
 *
 * Then the same bytes go through a real hub connection over a socketpair,
 * written in chunks of 1–509 bytes (from the first byte and the size;
 * tests/test-ws-hub.c covers byte-at-a-time and long streams): whatever they
 * are, the hub must not crash, leak or hang, must report the end at most
 * once, and every message it delivers must fit the limit (text: UTF-8).
 */
#include "peercam-ws-hub.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

#define CHECK(cond)                                                           \
  G_STMT_START {                                                              \
    if (G_UNLIKELY (!(cond)))                                                 \
      {                                                                       \
        fprintf (stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
        abort ();                                                             \
      }                                                                       \
  } G_STMT_END

static guint64
pick_limit (guint8 b)
{
  switch (b >> 6)
    {
    case 0:
      return 65536;
    case 1:
      return b & 0x3f;                       /* tiny limits: 0…63 */
    case 2:
      return (guint64) 1 << (b & 0x3f);      /* 1 … 2^63 */
    default:
      return G_MAXUINT64;
    }
}

/* UTF-8 as RFC 3629 has it. g_utf8_validate_len() is exact except that it
 * refuses NUL bytes, which are valid (U+0000): check between them. */
static gboolean
ref_utf8_valid (const guint8 *data,
                gsize         len)
{
  gsize start = 0;

  for (gsize i = 0; i <= len; i++)
    if (i == len || data[i] == 0)
      {
        if (!g_utf8_validate_len ((const char *) data + start, i - start, NULL))
          return FALSE;
        start = i + 1;
      }
  return TRUE;
}

static gboolean
is_control (guint8 opcode)
{
  return opcode >= 0x8;
}

static gboolean
is_known_opcode (guint8 opcode)
{
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);
}

/* A plain reading of §5.2 for a server: errors that the first two bytes
 * show come first, then the length. *@full_len is the header's size. */
static PeercamWsParseResult
ref_parse (const guint8         *d,
           gsize                 len,
           guint64               max_payload,
           PeercamWsFrameHeader *h,
           gushort              *code,
           gsize                *full_len)
{
  guint8 opcode, len7;
  guint64 plen;
  gsize hl;

  *full_len = 2;
  if (len < 2)
    return PEERCAM_WS_PARSE_NEED_MORE;
  opcode = d[0] & 0x0f;
  len7 = d[1] & 0x7f;
  hl = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
  *full_len = hl;

  if ((d[0] & 0x70) != 0 || !is_known_opcode (opcode) || !(d[1] & 0x80) ||
      (is_control (opcode) && (!(d[0] & 0x80) || len7 > 125)))
    {
      *code = PEERCAM_WS_CLOSE_PROTOCOL_ERROR;
      return PEERCAM_WS_PARSE_ERROR;
    }
  if (len < hl)
    return PEERCAM_WS_PARSE_NEED_MORE;

  plen = len7;
  if (len7 == 126)
    plen = ((guint64) d[2] << 8) | d[3];
  else if (len7 == 127)
    {
      plen = 0;
      for (int i = 0; i < 8; i++)
        plen = (plen << 8) | d[2 + i];
    }
  if (plen >> 63)
    {
      *code = PEERCAM_WS_CLOSE_PROTOCOL_ERROR;
      return PEERCAM_WS_PARSE_ERROR;
    }
  if (plen > max_payload)
    {
      *code = PEERCAM_WS_CLOSE_TOO_BIG;
      return PEERCAM_WS_PARSE_ERROR;
    }

  h->opcode = opcode;
  h->fin = (d[0] & 0x80) != 0;
  h->masked = TRUE;
  memcpy (h->mask, d + hl - 4, 4);
  h->header_len = hl;
  h->payload_len = plen;
  return PEERCAM_WS_PARSE_OK;
}

static PeercamWsParseResult
parse (const guint8         *d,
       gsize                 len,
       guint64               max_payload,
       PeercamWsFrameHeader *h,
       gushort              *code,
       const char          **reason)
{
  *code = 0;
  *reason = NULL;
  memset (h, 0, sizeof *h);
  return peercam_ws_parse_client_header (d, len, max_payload, h, code, reason);
}

/* Returns the header when it is a whole, valid one. */
static gboolean
check_header (const guint8         *d,
              gsize                 len,
              guint64               max_payload,
              PeercamWsFrameHeader *out)
{
  PeercamWsFrameHeader h, ref;
  PeercamWsParseResult r, expect;
  gushort code, ref_code = 0;
  const char *reason;
  gsize full_len;

  r = parse (d, len, max_payload, &h, &code, &reason);
  expect = ref_parse (d, len, max_payload, &ref, &ref_code, &full_len);
  CHECK (r == PEERCAM_WS_PARSE_OK || r == PEERCAM_WS_PARSE_ERROR || r == PEERCAM_WS_PARSE_NEED_MORE);

  switch (r)
    {
    case PEERCAM_WS_PARSE_OK:
      CHECK (expect == PEERCAM_WS_PARSE_OK);
      CHECK (h.header_len == 6 || h.header_len == 8 || h.header_len == 14);
      CHECK (h.header_len == ref.header_len && h.header_len <= len);
      CHECK (h.opcode == ref.opcode && is_known_opcode (h.opcode));
      CHECK (!!h.fin == !!ref.fin);
      CHECK (h.masked);
      CHECK (memcmp (h.mask, ref.mask, 4) == 0);
      CHECK (h.payload_len == ref.payload_len);
      CHECK (h.payload_len <= max_payload && (h.payload_len >> 63) == 0);
      if (is_control (h.opcode))
        CHECK (h.fin && h.payload_len <= 125);
      /* Every shorter prefix of a valid header asks for more. */
      for (gsize cut = 0; cut < h.header_len; cut++)
        {
          PeercamWsFrameHeader p;

          CHECK (parse (d, cut, max_payload, &p, &code, &reason) == PEERCAM_WS_PARSE_NEED_MORE);
        }
      /* With no limit, the same header. */
      {
        PeercamWsFrameHeader p;

        CHECK (parse (d, len, G_MAXUINT64, &p, &code, &reason) == PEERCAM_WS_PARSE_OK);
        CHECK (p.payload_len == h.payload_len && p.header_len == h.header_len);
      }
      *out = h;
      return TRUE;

    case PEERCAM_WS_PARSE_ERROR:
      CHECK (expect == PEERCAM_WS_PARSE_ERROR);
      CHECK (code == ref_code);
      CHECK (reason != NULL);
      CHECK (strlen (reason) <= 123 && g_utf8_validate (reason, -1, NULL));
      if (code == PEERCAM_WS_CLOSE_TOO_BIG)
        {
          /* Only the limit was wrong with it. */
          PeercamWsFrameHeader p;

          CHECK (parse (d, len, G_MAXUINT64, &p, &code, &reason) == PEERCAM_WS_PARSE_OK);
          CHECK (p.payload_len > max_payload);
        }
      return FALSE;

    case PEERCAM_WS_PARSE_NEED_MORE:
      /* An error may wait for the whole header, nothing else may. */
      CHECK (expect == PEERCAM_WS_PARSE_NEED_MORE || (expect == PEERCAM_WS_PARSE_ERROR && len < full_len));
      CHECK (len < 14);
      return FALSE;

    default:
      CHECK (FALSE);
      return FALSE;
    }
}

static void
check_utf8 (const guint8 *data,
            gsize         len)
{
  /* An exact-size copy, so reads past the end are caught. */
  g_autofree char *copy = g_malloc (MAX (len, 1));

  memcpy (copy, data, len);
  CHECK (!!peercam_ws_utf8_valid (copy, len) == !!ref_utf8_valid (data, len));
}

static gboolean
close_code_must_pass (gushort code)
{
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
}

static gboolean
close_code_may_pass (gushort code)
{
  /* 1012–1014 are registered with IANA after RFC 6455: either way. */
  return close_code_must_pass (code) || (code >= 1012 && code <= 1014);
}

static void
check_close (const guint8 *payload,
             gsize         len)
{
  g_autofree guint8 *copy = g_malloc (MAX (len, 1));
  gushort code = 0, error_code = 0;
  const char *reason = NULL;
  gsize reason_len = G_MAXSIZE;
  gboolean ok;

  memcpy (copy, payload, len);
  ok = peercam_ws_parse_close (copy, len, &code, &reason, &reason_len, &error_code);

  if (len == 0)
    {
      CHECK (ok && code == PEERCAM_WS_CLOSE_NO_STATUS && reason_len == 0);
      return;
    }
  if (len == 1)
    {
      CHECK (!ok && error_code == PEERCAM_WS_CLOSE_PROTOCOL_ERROR);
      return;
    }

  {
    gushort wire = (gushort) ((payload[0] << 8) | payload[1]);
    gboolean text_ok = ref_utf8_valid (payload + 2, len - 2);

    if (ok)
      {
        CHECK (code == wire && close_code_may_pass (wire) && text_ok);
        CHECK (reason_len == len - 2);
        CHECK (reason != NULL && memcmp (reason, payload + 2, reason_len) == 0);
      }
    else
      {
        CHECK (error_code == PEERCAM_WS_CLOSE_PROTOCOL_ERROR || error_code == PEERCAM_WS_CLOSE_BAD_DATA);
        if (!close_code_may_pass (wire))
          CHECK (error_code == PEERCAM_WS_CLOSE_PROTOCOL_ERROR);
        else if (close_code_must_pass (wire))
          CHECK (error_code == PEERCAM_WS_CLOSE_BAD_DATA && !text_ok);
      }
  }
}

static void
check_unmask (const guint8 *payload,
              gsize         len,
              const guint8  mask[4],
              gsize         cut,
              guint8       *out)
{
  g_autofree guint8 *whole = g_malloc (MAX (len, 1));
  g_autofree guint8 *pieces = g_malloc (MAX (len, 1));

  for (gsize i = 0; i < len; i++)
    out[i] = payload[i] ^ mask[i % 4];

  memcpy (whole, payload, len);
  peercam_ws_unmask (whole, len, mask, 0);
  CHECK (memcmp (whole, out, len) == 0);

  /* In two pieces, as when a payload comes in two reads. */
  cut = len > 0 ? cut % (len + 1) : 0;
  memcpy (pieces, payload, len);
  peercam_ws_unmask (pieces, cut, mask, 0);
  peercam_ws_unmask (pieces + cut, len - cut, mask, cut);
  CHECK (memcmp (pieces, out, len) == 0);
}

/* A server header for @len must be what a client header would be without
 * the mask bit and key. */
static void
check_write_header (guint8  opcode,
                    guint64 len)
{
  g_autofree guint8 *out = g_malloc (10);
  guint8 expect[10];
  gsize n, expect_n;

  expect[0] = 0x80 | opcode;
  if (len < 126)
    {
      expect[1] = (guint8) len;
      expect_n = 2;
    }
  else if (len < 65536)
    {
      expect[1] = 126;
      expect[2] = (guint8) (len >> 8);
      expect[3] = (guint8) len;
      expect_n = 4;
    }
  else
    {
      expect[1] = 127;
      for (int i = 0; i < 8; i++)
        expect[2 + i] = (guint8) (len >> (56 - 8 * i));
      expect_n = 10;
    }
  n = peercam_ws_write_header (out, opcode, len);
  CHECK (n == expect_n);
  CHECK (memcmp (out, expect, n) == 0);
}


/* --- a real connection ---------------------------------------------------- */

typedef struct {
  guint64  limit;
  guint    n_messages;
  guint    n_closed;
  gboolean gone;
} ConnState;

static void
on_message (PeercamWsConn *conn,
            gboolean       binary,
            const char    *data,
            gsize          len,
            gpointer       user_data)
{
  ConnState *st = user_data;

  CHECK (!st->gone);
  CHECK (len <= st->limit);
  CHECK (binary || ref_utf8_valid ((const guint8 *) data, len));
  st->n_messages++;
  /* Answer some, as the server does. */
  if (len > 0 && data[0] == '2')
    peercam_ws_conn_send_text (conn, "3", 1);
}

static void
on_closed (PeercamWsConn *conn,
           gushort        code,
           const char    *reason,
           gpointer       user_data)
{
  ConnState *st = user_data;

  CHECK (!st->gone);
  CHECK (reason != NULL);
  st->n_closed++;
  st->gone = TRUE;
}

static const PeercamWsConnFuncs conn_funcs = { on_message, on_closed };

static void
drain (int fd)
{
  guint8 buf[65536];

  while (recv (fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
    ;
}

static void
run_connection (const guint8 *data,
                gsize         size,
                guint64       limit,
                gsize         chunk)
{
  /* One hub for every run, as a server keeps one for every client. */
  static PeercamWsHub *hub;
  ConnState st = { .limit = MIN (limit, 1 << 20) };
  int sv[2];
  gsize off = 0;

  if (hub == NULL)
    hub = peercam_ws_hub_new (NULL, st.limit);
  peercam_ws_hub_set_max_message_size (hub, st.limit);

  CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0);
  CHECK (peercam_ws_hub_adopt_fd (hub, sv[0], &conn_funcs, &st) != NULL);

  /* Bounded: every round writes or the hub has stopped reading. */
  for (guint round = 0; round < 4096 && off < size; round++)
    {
      gssize n = send (sv[1], data + off, MIN (chunk, size - off), MSG_NOSIGNAL);

      if (n > 0)
        off += (gsize) n;
      else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        break;  /* the hub closed its end */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      drain (sv[1]);
    }
  /* A few more rounds for what is in flight, then our end goes. */
  for (guint round = 0; round < 8; round++)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      drain (sv[1]);
    }
  /* Whatever state it is in, a connection whose peer is gone is released. */
  close (sv[1]);
  for (guint round = 0; round < 64 && peercam_ws_hub_get_n_connections (hub) > 0; round++)
    while (g_main_context_iteration (NULL, FALSE))
      ;
  CHECK (peercam_ws_hub_get_n_connections (hub) == 0);
  CHECK (st.n_closed <= 1);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  guint64 max_payload;
  gsize pos = 1;

  if (size == 0)
    return 0;
  max_payload = pick_limit (data[0]);

  /* The raw bytes too: the fuzzer steers them directly. */
  check_utf8 (data, size);
  check_close (data + 1, size - 1);
  if (size >= 9)
    {
      guint64 len = 0;

      for (int i = 1; i < 9; i++)
        len = (len << 8) | data[i];
      check_write_header (data[1] & 0x0f, len >> (data[0] & 0x3f));
    }

  /* Frame after frame. */
  while (pos < size)
    {
      PeercamWsFrameHeader h;
      g_autofree guint8 *payload = NULL;
      gsize avail = size - pos;

      if (!check_header (data + pos, avail, max_payload, &h))
        break;
      if (h.payload_len > avail - h.header_len)
        break;  /* incomplete */

      payload = g_malloc (MAX (h.payload_len, 1));
      check_unmask (data + pos + h.header_len, h.payload_len, h.mask, data[pos + 1], payload);
      check_utf8 (payload, h.payload_len);
      if (h.opcode == PEERCAM_WS_OPCODE_CLOSE)
        check_close (payload, h.payload_len);
      pos += h.header_len + h.payload_len;
    }

  /* Small inputs only: a connection costs a socketpair, an epoll set and
   * main loop iterations, and bigger inputs add little behaviour. */
  if (size <= 2048)
    run_connection (data + 1, size - 1, max_payload, 1 + (data[0] * 31u + size) % 509);
  return 0;
}
