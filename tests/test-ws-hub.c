/* test-ws-hub.c — RFC 6455 frame codec and hub connections
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The codec is checked byte for byte against hand-written frames. The
 * connections run over socketpair(): the hub serves one end on the default
 * main context, the test plays the client on the other end with raw,
 * non-blocking I/O (masked frames out, server frames parsed by hand), so
 * nothing here trusts the codec under test to check the hub.
 */
#include "peercam-ws-hub.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_TIMEOUT_US (5 * G_TIME_SPAN_SECOND)

/* --- codec: helpers ------------------------------------------------------- */

/* A client frame header (masked unless @masked is FALSE), with the length in
 * the shortest form unless @len_form forces 126 or 127. */
static gsize
make_header (guint8       *out,
             guint8        b0,
             guint64       len,
             gboolean      masked,
             const guint8  key[4],
             int           len_form)
{
  guint8 mbit = masked ? 0x80 : 0;
  gsize n = 0;

  out[n++] = b0;
  if (len_form == 127 || (len_form == 0 && len > 65535))
    {
      out[n++] = mbit | 127;
      for (int i = 7; i >= 0; i--)
        out[n++] = (guint8) (len >> (8 * i));
    }
  else if (len_form == 126 || (len_form == 0 && len > 125))
    {
      out[n++] = mbit | 126;
      out[n++] = (guint8) (len >> 8);
      out[n++] = (guint8) len;
    }
  else
    out[n++] = mbit | (guint8) len;
  if (masked)
    {
      memcpy (out + n, key, 4);
      n += 4;
    }
  return n;
}

/* Parses exactly @len bytes from a heap copy, so that ASan catches any read
 * past what the parser was given. */
static PeercamWsParseResult
parse_exact (const guint8         *data,
             gsize                 len,
             guint64               max_payload,
             PeercamWsFrameHeader *header,
             gushort              *code,
             const char          **reason)
{
  g_autofree guint8 *copy = g_malloc (MAX (len, 1));

  memcpy (copy, data, len);
  *code = 0;
  *reason = NULL;
  return peercam_ws_parse_client_header (copy, len, max_payload, header, code, reason);
}

static void
check_header_ok (guint8   b0,
                 guint64  len,
                 gsize    expect_header_len,
                 guint64  max_payload)
{
  static const guint8 key[4] = { 0x37, 0xfa, 0x21, 0x3d };
  guint8 buf[14];
  gsize n = make_header (buf, b0, len, TRUE, key, 0);
  PeercamWsFrameHeader h;
  gushort code;
  const char *reason;

  g_assert_cmpuint (n, ==, expect_header_len);
  memset (&h, 0xa5, sizeof h);
  g_assert_cmpint (parse_exact (buf, n, max_payload, &h, &code, &reason), ==, PEERCAM_WS_PARSE_OK);
  g_assert_cmpuint (h.opcode, ==, b0 & 0x0f);
  g_assert_cmpint (!!h.fin, ==, !!(b0 & 0x80));
  g_assert_true (h.masked);
  g_assert_cmpmem (h.mask, 4, key, 4);
  g_assert_cmpuint (h.header_len, ==, expect_header_len);
  g_assert_cmpuint (h.payload_len, ==, len);

  /* Trailing payload bytes change nothing. */
  {
    guint8 more[14 + 8];

    memcpy (more, buf, n);
    memset (more + n, 'x', 8);
    memset (&h, 0, sizeof h);
    g_assert_cmpint (parse_exact (more, n + 8, max_payload, &h, &code, &reason), ==, PEERCAM_WS_PARSE_OK);
    g_assert_cmpuint (h.header_len, ==, expect_header_len);
    g_assert_cmpuint (h.payload_len, ==, len);
  }

  /* Every truncated prefix asks for more. */
  for (gsize cut = 0; cut < n; cut++)
    {
      PeercamWsParseResult r = parse_exact (buf, cut, max_payload, &h, &code, &reason);

      if (r != PEERCAM_WS_PARSE_NEED_MORE)
        g_test_message ("b0 %02x len %" G_GUINT64_FORMAT " cut at %" G_GSIZE_FORMAT, b0, len, cut);
      g_assert_cmpint (r, ==, PEERCAM_WS_PARSE_NEED_MORE);
    }
}

/* --- codec ------------------------------------------------------------------ */

static const guint8 every_opcode_fin[] = { 0x81, 0x82, 0x80, 0x01, 0x02, 0x00, 0x88, 0x89, 0x8a };

static void
test_codec_header_7bit (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (every_opcode_fin); i++)
    {
      guint8 b0 = every_opcode_fin[i];

      check_header_ok (b0, 0, 6, 65536);
      check_header_ok (b0, 1, 6, 65536);
      check_header_ok (b0, 125, 6, 65536);
      check_header_ok (b0, 125, 6, 125);  /* exactly at the limit */
    }
}

static void
test_codec_header_16bit (void)
{
  static const guint8 data_b0[] = { 0x81, 0x82, 0x80, 0x01, 0x02, 0x00 };

  for (guint i = 0; i < G_N_ELEMENTS (data_b0); i++)
    {
      check_header_ok (data_b0[i], 126, 8, 65536);
      check_header_ok (data_b0[i], 127, 8, 65536);
      check_header_ok (data_b0[i], 0x1234, 8, 65536);
      check_header_ok (data_b0[i], 65535, 8, 65536);
      check_header_ok (data_b0[i], 65535, 8, 65535);
    }
}

static void
test_codec_header_64bit (void)
{
  static const guint8 data_b0[] = { 0x81, 0x82, 0x80, 0x01, 0x02, 0x00 };

  for (guint i = 0; i < G_N_ELEMENTS (data_b0); i++)
    {
      check_header_ok (data_b0[i], 65536, 14, 65536);
      check_header_ok (data_b0[i], 200 * 1024, 14, 1 << 20);
      check_header_ok (data_b0[i], G_GUINT64_CONSTANT (0x0102030405060708), 14, G_MAXUINT64);
      check_header_ok (data_b0[i], G_GUINT64_CONSTANT (0x7fffffffffffffff), 14, G_MAXUINT64);
    }

  /* The bytes are big-endian: 0x0102030405060708, not the other way. */
  {
    static const guint8 frame[] = { 0x82, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9 };
    PeercamWsFrameHeader h;
    gushort code;
    const char *reason;

    g_assert_cmpint (parse_exact (frame, sizeof frame, G_MAXUINT64, &h, &code, &reason), ==, PEERCAM_WS_PARSE_OK);
    g_assert_cmphex (h.payload_len, ==, G_GUINT64_CONSTANT (0x0102030405060708));
    g_assert_cmpuint (h.header_len, ==, 14);
    g_assert_cmpmem (h.mask, 4, ((guint8[]) { 9, 9, 9, 9 }), 4);
  }
}

/* Non-minimal length forms are accepted (as browsers and libsoup do); the
 * length they carry is what counts. */
static void
test_codec_header_long_forms (void)
{
  static const guint8 key[4] = { 1, 2, 3, 4 };
  guint8 buf[14];
  PeercamWsFrameHeader h;
  gushort code;
  const char *reason;
  gsize n;

  n = make_header (buf, 0x81, 5, TRUE, key, 126);
  g_assert_cmpint (parse_exact (buf, n, 65536, &h, &code, &reason), ==, PEERCAM_WS_PARSE_OK);
  g_assert_cmpuint (h.header_len, ==, 8);
  g_assert_cmpuint (h.payload_len, ==, 5);

  n = make_header (buf, 0x81, 5, TRUE, key, 127);
  g_assert_cmpint (parse_exact (buf, n, 65536, &h, &code, &reason), ==, PEERCAM_WS_PARSE_OK);
  g_assert_cmpuint (h.header_len, ==, 14);
  g_assert_cmpuint (h.payload_len, ==, 5);
}

static void
check_header_error (const guint8 *frame,
                    gsize         len,
                    guint64       max_payload,
                    gushort       expect_code)
{
  PeercamWsFrameHeader h;
  gushort code;
  const char *reason;

  PeercamWsParseResult r = parse_exact (frame, len, max_payload, &h, &code, &reason);

  if (r != PEERCAM_WS_PARSE_ERROR || code != expect_code)
    g_test_message ("frame %02x %02x…, %" G_GSIZE_FORMAT " bytes, max %" G_GUINT64_FORMAT,
                    frame[0], frame[1], len, max_payload);
  g_assert_cmpint (r, ==, PEERCAM_WS_PARSE_ERROR);
  g_assert_cmpuint (code, ==, expect_code);
  g_assert_nonnull (reason);
  g_assert_true (g_utf8_validate (reason, -1, NULL));
  g_assert_cmpuint (strlen (reason), <=, 123);  /* fits in a close frame */
}

static void
test_codec_header_errors (void)
{
  static const guint8 key[4] = { 0xde, 0xad, 0xbe, 0xef };
  guint8 buf[14];
  gsize n;

  /* Unmasked client frames, in each length form. */
  n = make_header (buf, 0x81, 5, FALSE, key, 0);
  check_header_error (buf, n, 65536, 1002);
  memset (buf + n, 0, sizeof buf - n);
  check_header_error (buf, sizeof buf, 65536, 1002);
  n = make_header (buf, 0x82, 300, FALSE, key, 0);
  memset (buf + n, 0, sizeof buf - n);
  check_header_error (buf, sizeof buf, 65536, 1002);
  n = make_header (buf, 0x82, 70000, FALSE, key, 0);
  check_header_error (buf, n, G_MAXUINT64, 1002);
  n = make_header (buf, 0x89, 0, FALSE, key, 0);
  check_header_error (buf, n, 65536, 1002);

  /* RSV1, RSV2, RSV3 and all of them, on data and control frames. */
  for (guint8 rsv = 0x10; rsv <= 0x70; rsv += 0x10)
    {
      n = make_header (buf, 0x81 | rsv, 5, TRUE, key, 0);
      check_header_error (buf, n, 65536, 1002);
      n = make_header (buf, 0x89 | rsv, 0, TRUE, key, 0);
      check_header_error (buf, n, 65536, 1002);
      n = make_header (buf, 0x00 | rsv, 5, TRUE, key, 0);
      check_header_error (buf, n, 65536, 1002);
    }

  /* Reserved opcodes, with and without FIN. */
  for (guint8 op = 3; op <= 0xf; op++)
    {
      if (op >= 8 && op <= 0xa)
        continue;
      n = make_header (buf, 0x80 | op, 0, TRUE, key, 0);
      check_header_error (buf, n, 65536, 1002);
      n = make_header (buf, op, 3, TRUE, key, 0);
      check_header_error (buf, n, 65536, 1002);
    }

  /* Fragmented control frames. */
  for (guint8 op = 8; op <= 0xa; op++)
    {
      n = make_header (buf, op, 0, TRUE, key, 0);
      check_header_error (buf, n, 65536, 1002);
      n = make_header (buf, op, 4, TRUE, key, 0);
      check_header_error (buf, n, 65536, 1002);
    }

  /* Control frames over 125 bytes, whatever the limit. */
  for (guint8 op = 8; op <= 0xa; op++)
    {
      n = make_header (buf, 0x80 | op, 126, TRUE, key, 0);
      check_header_error (buf, n, 65536, 1002);
      n = make_header (buf, 0x80 | op, 126, TRUE, key, 0);
      check_header_error (buf, n, G_MAXUINT64, 1002);
      n = make_header (buf, 0x80 | op, 5, TRUE, key, 126);  /* small, but long form */
      memset (buf + 2, 0, 2);
      buf[3] = 200;
      check_header_error (buf, n, 65536, 1002);
      n = make_header (buf, 0x80 | op, 70000, TRUE, key, 0);
      check_header_error (buf, n, G_MAXUINT64, 1002);
    }

  /* A 64-bit length with the most significant bit set, even with no limit. */
  n = make_header (buf, 0x82, G_GUINT64_CONSTANT (0x8000000000000000), TRUE, key, 0);
  check_header_error (buf, n, 65536, 1002);
  check_header_error (buf, n, G_MAXUINT64, 1002);
  n = make_header (buf, 0x81, G_MAXUINT64, TRUE, key, 0);
  check_header_error (buf, n, G_MAXUINT64, 1002);
  n = make_header (buf, 0x00, G_GUINT64_CONSTANT (0x8000000000000005), TRUE, key, 0);
  check_header_error (buf, n, G_MAXUINT64, 1002);
}

static void
test_codec_header_too_big (void)
{
  static const guint8 key[4] = { 0, 0, 0, 0 };
  static const guint8 data_b0[] = { 0x81, 0x82, 0x01, 0x02, 0x00, 0x80 };
  guint8 buf[14];
  gsize n;

  for (guint i = 0; i < G_N_ELEMENTS (data_b0); i++)
    {
      guint8 b0 = data_b0[i];

      n = make_header (buf, b0, 1, TRUE, key, 0);
      check_header_error (buf, n, 0, 1009);
      n = make_header (buf, b0, 101, TRUE, key, 0);
      check_header_error (buf, n, 100, 1009);
      n = make_header (buf, b0, 1001, TRUE, key, 0);
      check_header_error (buf, n, 1000, 1009);
      n = make_header (buf, b0, 65536, TRUE, key, 0);
      check_header_error (buf, n, 65535, 1009);
      n = make_header (buf, b0, G_GUINT64_CONSTANT (0x7fffffffffffffff), TRUE, key, 0);
      check_header_error (buf, n, 1 << 20, 1009);
    }

  /* An empty frame always fits. */
  {
    PeercamWsFrameHeader h;
    gushort code;
    const char *reason;

    n = make_header (buf, 0x81, 0, TRUE, key, 0);
    g_assert_cmpint (parse_exact (buf, n, 0, &h, &code, &reason), ==, PEERCAM_WS_PARSE_OK);
    g_assert_cmpuint (h.payload_len, ==, 0);
  }
}

static void
naive_unmask (guint8       *data,
              gsize         len,
              const guint8  key[4],
              gsize         offset)
{
  for (gsize i = 0; i < len; i++)
    data[i] ^= key[(offset + i) % 4];
}

static void
test_codec_unmask (void)
{
  static const guint8 keys[][4] = {
    { 0x37, 0xfa, 0x21, 0x3d }, { 0, 0, 0, 0 }, { 0xff, 0xff, 0xff, 0xff }, { 1, 0x80, 0x7f, 0xfe },
  };
  static const gsize offsets[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 13, 1001, G_MAXSIZE - 2 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (6455);
  guint8 original[80], expect[80];
  guint8 storage[80 + 8];

  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    for (guint o = 0; o < G_N_ELEMENTS (offsets); o++)
      for (gsize len = 0; len <= 70; len++)
        for (gsize align = 0; align < 8; align += 3)
          {
            guint8 *data = storage + align;

            for (gsize i = 0; i < len; i++)
              original[i] = (guint8) g_rand_int (rand);
            memcpy (expect, original, len);
            naive_unmask (expect, len, keys[k], offsets[o]);

            memcpy (data, original, len);
            peercam_ws_unmask (data, len, keys[k], offsets[o]);
            g_assert_cmpmem (data, len, expect, len);

            /* XOR twice is the identity. */
            peercam_ws_unmask (data, len, keys[k], offsets[o]);
            g_assert_cmpmem (data, len, original, len);

            /* Two pieces, the second at its own offset, make the same. */
            if (len > 0)
              {
                gsize cut = g_rand_int_range (rand, 0, (gint32) len + 1);

                memcpy (data, original, len);
                peercam_ws_unmask (data, cut, keys[k], offsets[o]);
                peercam_ws_unmask (data + cut, len - cut, keys[k], offsets[o] + cut);
                g_assert_cmpmem (data, len, expect, len);
              }
          }

  /* Only @len bytes are touched. */
  {
    guint8 buf[16];

    memset (buf, 0x55, sizeof buf);
    peercam_ws_unmask (buf + 1, 9, keys[0], 0);
    g_assert_cmphex (buf[0], ==, 0x55);
    for (gsize i = 10; i < sizeof buf; i++)
      g_assert_cmphex (buf[i], ==, 0x55);
  }
}

static void
test_codec_write_header (void)
{
  static const struct {
    guint64 len;
    gsize n;
    guint8 bytes[10];
  } cases[] = {
    { 0,      2,  { 0, 0 } },
    { 1,      2,  { 0, 1 } },
    { 125,    2,  { 0, 125 } },
    { 126,    4,  { 0, 126, 0x00, 0x7e } },
    { 127,    4,  { 0, 126, 0x00, 0x7f } },
    { 65535,  4,  { 0, 126, 0xff, 0xff } },
    { 65536,  10, { 0, 127, 0, 0, 0, 0, 0, 1, 0, 0 } },
    { G_GUINT64_CONSTANT (0x100000000), 10, { 0, 127, 0, 0, 0, 1, 0, 0, 0, 0 } },
    { G_GUINT64_CONSTANT (0x0102030405060708), 10, { 0, 127, 1, 2, 3, 4, 5, 6, 7, 8 } },
  };
  static const guint8 opcodes[] = { 0x1, 0x2, 0x8, 0x9, 0xa };

  for (guint o = 0; o < G_N_ELEMENTS (opcodes); o++)
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autofree guint8 *out = g_malloc (10);  /* exactly the documented minimum */
        guint8 expect[10];
        gsize n;

        if (opcodes[o] >= 0x8 && cases[i].len > 125)
          continue;
        memcpy (expect, cases[i].bytes, sizeof expect);
        expect[0] = 0x80 | opcodes[o];  /* FIN, no RSV */
        memset (out, 0xaa, 10);
        n = peercam_ws_write_header (out, opcodes[o], cases[i].len);
        if (n != cases[i].n || memcmp (out, expect, n) != 0)
          g_test_message ("opcode %x len %" G_GUINT64_FORMAT, opcodes[o], cases[i].len);
        g_assert_cmpuint (n, ==, cases[i].n);
        g_assert_cmpmem (out, n, expect, cases[i].n);
        g_assert_cmphex (out[1] & 0x80, ==, 0);  /* servers never mask */
      }
}

static void
test_codec_close (void)
{
  gushort code, error_code;
  const char *reason;
  gsize reason_len;

  /* Empty: no status. */
  code = 0;
  g_assert_true (peercam_ws_parse_close ((const guint8 *) "", 0, &code, &reason, &reason_len, &error_code));
  g_assert_cmpuint (code, ==, 1005);
  g_assert_cmpuint (reason_len, ==, 0);

  /* One byte cannot hold a code. */
  error_code = 0;
  g_assert_false (peercam_ws_parse_close ((const guint8 *) "\x03", 1, &code, &reason, &reason_len, &error_code));
  g_assert_cmpuint (error_code, ==, 1002);

  /* 1000 "bye". */
  {
    static const guint8 payload[] = { 0x03, 0xe8, 'b', 'y', 'e' };

    g_assert_true (peercam_ws_parse_close (payload, sizeof payload, &code, &reason, &reason_len, &error_code));
    g_assert_cmpuint (code, ==, 1000);
    g_assert_cmpuint (reason_len, ==, 3);
    g_assert_cmpmem (reason, reason_len, "bye", 3);
  }

  /* A code alone. */
  g_assert_true (peercam_ws_parse_close ((const guint8 *) "\x03\xe9", 2, &code, &reason, &reason_len, &error_code));
  g_assert_cmpuint (code, ==, 1001);
  g_assert_cmpuint (reason_len, ==, 0);

  /* Multibyte reason, and the longest that fits in a control frame. */
  {
    static const guint8 payload[] = { 0x0f, 0xa0, 0xc3, 0xa9, 0xe6, 0xbc, 0xa2, 0xf0, 0x9f, 0x98, 0x80 };
    guint8 big[125];

    g_assert_true (peercam_ws_parse_close (payload, sizeof payload, &code, &reason, &reason_len, &error_code));
    g_assert_cmpuint (code, ==, 4000);
    g_assert_cmpmem (reason, reason_len, payload + 2, sizeof payload - 2);

    big[0] = 0x0b;
    big[1] = 0xb8;  /* 3000 */
    memset (big + 2, 'r', sizeof big - 2);
    g_assert_true (peercam_ws_parse_close (big, sizeof big, &code, &reason, &reason_len, &error_code));
    g_assert_cmpuint (code, ==, 3000);
    g_assert_cmpuint (reason_len, ==, 123);
  }

  /* Codes a peer may send. */
  {
    static const gushort valid[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999 };

    for (guint i = 0; i < G_N_ELEMENTS (valid); i++)
      {
        guint8 payload[4] = { valid[i] >> 8, valid[i] & 0xff, 'o', 'k' };

        if (!peercam_ws_parse_close (payload, sizeof payload, &code, &reason, &reason_len, &error_code))
          g_error ("close code %u refused", valid[i]);
        g_assert_cmpuint (code, ==, valid[i]);
        g_assert_cmpmem (reason, reason_len, "ok", 2);
      }
  }

  /* Codes that must never be on the wire. */
  {
    static const gushort invalid[] = { 0, 1, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535 };

    for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
      {
        guint8 payload[2] = { invalid[i] >> 8, invalid[i] & 0xff };

        error_code = 0;
        if (peercam_ws_parse_close (payload, sizeof payload, &code, &reason, &reason_len, &error_code))
          g_error ("close code %u accepted", invalid[i]);
        g_assert_cmpuint (error_code, ==, 1002);
      }
  }

  /* Reasons that are not UTF-8. */
  {
    static const char *bad[] = { "\xff", "ok\xc3", "\xc0\xaf", "\xed\xa0\x80", "a\x80z" };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        guint8 payload[16] = { 0x03, 0xe8 };
        gsize len = strlen (bad[i]);

        memcpy (payload + 2, bad[i], len);
        error_code = 0;
        g_assert_false (peercam_ws_parse_close (payload, 2 + len, &code, &reason, &reason_len, &error_code));
        g_assert_cmpuint (error_code, ==, 1007);
      }
  }
}

/* --- codec: UTF-8 --------------------------------------------------------- */

static const char *valid_chars[] = {
  "\xc3\xa9",                 /* é */
  "\xe6\xbc\xa2",             /* 漢 */
  "\xf0\x9f\x98\x80",         /* 😀 */
  "\xc2\x80",                 /* U+0080, the first two-byte */
  "\xdf\xbf",                 /* U+07FF */
  "\xe0\xa0\x80",             /* U+0800, the first three-byte */
  "\xed\x9f\xbf",             /* U+D7FF, just below the surrogates */
  "\xee\x80\x80",             /* U+E000, just above them */
  "\xef\xbf\xbf",             /* U+FFFF */
  "\xf0\x90\x80\x80",         /* U+10000 */
  "\xf4\x8f\xbf\xbf",         /* U+10FFFF, the last */
  "\x7f",
};

static const char *invalid_seqs[] = {
  "\x80",                     /* lone continuation */
  "\xbf",
  "\xc0\xaf",                 /* overlong '/' */
  "\xc1\xbf",                 /* overlong */
  "\xe0\x80\xaf",             /* overlong, three bytes */
  "\xf0\x80\x80\xaf",         /* overlong, four bytes */
  "\xed\xa0\x80",             /* U+D800, a surrogate */
  "\xed\xbf\xbf",             /* U+DFFF */
  "\xf4\x90\x80\x80",         /* U+110000 */
  "\xf5\x80\x80\x80",
  "\xff",
  "\xfe",
  "\xc3\x41",                 /* continuation missing */
  "\xe6\xbc\x41",
  "\xf0\x9f\x98\x41",
};

static void
check_utf8 (const char *data,
            gsize       len,
            gboolean    expect)
{
  g_autofree char *copy = g_malloc (MAX (len, 1));  /* exact size, for ASan */

  memcpy (copy, data, len);

  if (peercam_ws_utf8_valid (copy, len) != expect)
    {
      g_autoptr(GString) hex = g_string_new (NULL);

      for (gsize i = 0; i < len; i++)
        g_string_append_printf (hex, "%02x ", (guchar) data[i]);
      g_test_message ("%" G_GSIZE_FORMAT " bytes: %s", len, hex->str);
      g_assert_cmpint (peercam_ws_utf8_valid (copy, len), ==, expect);
    }
}

static void
test_codec_utf8 (void)
{
  char buf[64];
  g_autoptr(GRand) rand = g_rand_new_with_seed (20);

  /* ASCII of every length around the 8-byte stride. */
  for (gsize len = 0; len <= 40; len++)
    {
      for (gsize i = 0; i < len; i++)
        buf[i] = (char) (0x20 + (i * 7) % 0x5f);
      check_utf8 (buf, len, TRUE);
    }

  /* A valid character at every position of an ASCII run, across the 8-byte
   * boundaries; also at the very end. */
  for (guint c = 0; c < G_N_ELEMENTS (valid_chars); c++)
    {
      gsize clen = strlen (valid_chars[c]);

      for (gsize total = clen; total <= 26; total++)
        for (gsize at = 0; at + clen <= total; at++)
          {
            memset (buf, 'a', total);
            memcpy (buf + at, valid_chars[c], clen);
            check_utf8 (buf, total, TRUE);
          }
    }

  /* Many characters in a row, and mixed. */
  {
    g_autoptr(GString) s = g_string_new (NULL);

    for (guint i = 0; i < 40; i++)
      {
        g_string_append (s, valid_chars[i % G_N_ELEMENTS (valid_chars)]);
        if (i % 3 == 0)
          g_string_append (s, "abcdefghi");
      }
    check_utf8 (s->str, s->len, TRUE);
  }

  /* An invalid sequence anywhere makes the whole text invalid. */
  for (guint c = 0; c < G_N_ELEMENTS (invalid_seqs); c++)
    {
      gsize clen = strlen (invalid_seqs[c]);

      for (gsize total = clen; total <= 26; total++)
        for (gsize at = 0; at + clen <= total; at++)
          {
            memset (buf, 'a', total);
            memcpy (buf + at, invalid_seqs[c], clen);
            check_utf8 (buf, total, FALSE);
            /* After a valid multibyte character too. */
            if (at >= 2)
              {
                memcpy (buf + at - 2, "\xc3\xa9", 2);
                check_utf8 (buf, total, FALSE);
              }
          }
    }

  /* A character cut by the end of the text, at every length. */
  for (guint c = 0; c < G_N_ELEMENTS (valid_chars); c++)
    {
      gsize clen = strlen (valid_chars[c]);

      for (gsize cut = 1; cut < clen; cut++)
        for (gsize lead = 0; lead <= 17; lead++)
          {
            memset (buf, 'z', lead);
            memcpy (buf + lead, valid_chars[c], cut);
            check_utf8 (buf, lead + cut, FALSE);
          }
    }

  /* Random mixes agree with GLib (no NUL bytes: GLib refuses those). */
  for (guint round = 0; round < 20000; round++)
    {
      gsize len = g_rand_int_range (rand, 0, 40);

      for (gsize i = 0; i < len; i++)
        {
          guint r = g_rand_int_range (rand, 0, 10);

          if (r < 6)
            buf[i] = (char) g_rand_int_range (rand, 1, 0x80);
          else if (r < 8)
            buf[i] = (char) g_rand_int_range (rand, 0x80, 0xc0);
          else
            buf[i] = (char) g_rand_int_range (rand, 0xc0, 0x100);
        }
      /* Often splice in a whole valid character. */
      if (len >= 4 && g_rand_boolean (rand))
        {
          const char *ch = valid_chars[g_rand_int_range (rand, 0, G_N_ELEMENTS (valid_chars))];

          memcpy (buf + g_rand_int_range (rand, 0, (gint32) (len - strlen (ch) + 1)), ch, strlen (ch));
        }
      check_utf8 (buf, len, g_utf8_validate_len (buf, len, NULL));
    }
}

/* U+0000 is a valid character: RFC 6455 text is any UTF-8, and browsers send
 * "\u0000" as a 0x00 byte. It must be accepted wherever it is. */
static void
test_codec_utf8_nul (void)
{
  check_utf8 ("\0", 1, TRUE);
  check_utf8 ("a\0b", 3, TRUE);
  check_utf8 ("\0\0\0\0\0\0\0\0\0", 9, TRUE);
  check_utf8 ("\0\xc3\xa9", 3, TRUE);
  check_utf8 ("\xc3\xa9\0", 3, TRUE);
  check_utf8 ("abcdefgh\xe6\xbc\xa2\0x", 13, TRUE);
  check_utf8 ("\xf0\x9f\x98\x80\0", 5, TRUE);
  /* …without hiding what follows it. */
  check_utf8 ("\xc3\xa9\0\xff", 4, FALSE);
  check_utf8 ("\0\xc0\xaf", 3, FALSE);
}

/* --- connections: the client side ------------------------------------------ */

typedef struct {
  gboolean  binary;
  GBytes   *data;
} Message;

static void
message_free (Message *m)
{
  g_bytes_unref (m->data);
  g_free (m);
}

typedef struct {
  guint8      opcode;
  gboolean    fin;
  GByteArray *payload;
} ServerFrame;

static void
server_frame_clear (ServerFrame *f)
{
  g_clear_pointer (&f->payload, g_byte_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ServerFrame, server_frame_clear)

/* One connection: what the hub told us about it, and the client socket. */
typedef struct {
  PeercamWsConn *conn;           /* NULL once closed() said it is gone */
  GPtrArray     *messages;       /* Message */
  guint          n_closed;
  gushort        close_code;
  char          *close_reason;
  gboolean       closed_by_us;   /* peercam_ws_conn_close() was called */

  /* what the callbacks do */
  gboolean        echo;
  gboolean        close_on_message;
  PeercamWsHub  **free_hub_on_message;

  int             fd;            /* the client end, non-blocking */
  GByteArray     *in;
  gsize           in_off;
  gboolean        eof;
  int             error;         /* errno of a failed recv() */
  guint           key_counter;
} Peer;

static void
on_message (PeercamWsConn *conn,
            gboolean       binary,
            const char    *data,
            gsize          len,
            gpointer       user_data)
{
  Peer *p = user_data;
  Message *m = g_new0 (Message, 1);

  g_assert_nonnull (conn);
  g_assert_true (conn == p->conn);
  g_assert_cmpuint (p->n_closed, ==, 0);
  g_assert_false (p->closed_by_us);
  g_assert_true (data != NULL || len == 0);

  m->binary = binary;
  m->data = g_bytes_new (data, len);
  g_ptr_array_add (p->messages, m);

  if (p->echo && !binary)
    g_assert_true (peercam_ws_conn_send_text (conn, data, len));
  if (p->close_on_message)
    {
      p->closed_by_us = TRUE;
      peercam_ws_conn_close (conn, 1000, "enough");
    }
  if (p->free_hub_on_message != NULL)
    {
      p->conn = NULL;
      g_clear_pointer (p->free_hub_on_message, peercam_ws_hub_free);
    }
}

static void
on_closed (PeercamWsConn *conn,
           gushort        code,
           const char    *reason,
           gpointer       user_data)
{
  Peer *p = user_data;

  g_assert_nonnull (conn);
  g_assert_true (conn == p->conn);
  g_assert_false (p->closed_by_us);
  p->n_closed++;
  p->close_code = code;
  g_free (p->close_reason);
  p->close_reason = g_strdup (reason != NULL ? reason : "");
  p->conn = NULL;  /* gone when we return */
}

static const PeercamWsConnFuncs peer_funcs = { on_message, on_closed };

static Peer *
peer_alloc (int fd)
{
  Peer *p = g_new0 (Peer, 1);
  int flags = fcntl (fd, F_GETFL);

  g_assert_cmpint (fcntl (fd, F_SETFL, flags | O_NONBLOCK), ==, 0);
  p->fd = fd;
  p->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) message_free);
  p->in = g_byte_array_new ();
  return p;
}

static Peer *
peer_new_fd (PeercamWsHub *hub)
{
  int sv[2];
  Peer *p;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
  p = peer_alloc (sv[1]);
  p->conn = peercam_ws_hub_adopt_fd (hub, sv[0], &peer_funcs, p);
  g_assert_nonnull (p->conn);
  return p;
}

static Peer *
peer_new_stream (PeercamWsHub *hub)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) stream = NULL;
  int sv[2];
  Peer *p;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
  socket = g_socket_new_from_fd (sv[0], &error);
  g_assert_no_error (error);
  stream = g_socket_connection_factory_create_connection (socket);
  g_assert_true (G_IS_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (G_IO_STREAM (stream))));

  p = peer_alloc (sv[1]);
  p->conn = peercam_ws_hub_adopt_stream (hub, G_IO_STREAM (stream), &peer_funcs, p);
  g_assert_nonnull (p->conn);
  return p;
}

static void
peer_free (Peer *p)
{
  if (p->fd >= 0)
    close (p->fd);
  g_ptr_array_unref (p->messages);
  g_byte_array_unref (p->in);
  g_free (p->close_reason);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Peer, peer_free)

static void
iterate (void)
{
  /* Whatever is ready now, then a short pause for the other side. */
  for (guint i = 0; i < 8 && g_main_context_iteration (NULL, FALSE); i++)
    ;
  g_usleep (500);
}

/* Iterates the default context until @cond holds; fails after @us (5 s for
 * WAIT_FOR). @cond is evaluated once per round and never again after it
 * held. */
#define WAIT_FOR(cond) WAIT_FOR_US (cond, WAIT_TIMEOUT_US)
#define WAIT_FOR_US(cond, us)                                                 \
  G_STMT_START {                                                              \
    gint64 _end = g_get_monotonic_time () + (us);                             \
    while (!(cond))                                                           \
      {                                                                       \
        if (g_get_monotonic_time () > _end)                                   \
          g_error ("%s:%d: timed out waiting for %s", __FILE__, __LINE__, #cond); \
        iterate ();                                                           \
      }                                                                       \
  } G_STMT_END

static void
iterate_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    iterate ();
}

static void
client_send (Peer         *p,
             const guint8 *data,
             gsize         len)
{
  gint64 end = g_get_monotonic_time () + WAIT_TIMEOUT_US;
  gsize off = 0;

  while (off < len)
    {
      gssize n = send (p->fd, data + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);

      if (n > 0)
        {
          off += n;
          continue;
        }
      g_assert_cmpint (n, <, 0);
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        g_error ("client send: %s", g_strerror (errno));
      if (g_get_monotonic_time () > end)
        g_error ("client send: the server is not reading");
      iterate ();  /* the server reads */
    }
}

/* A client frame: masked (with a key that changes every frame) unless
 * @masked is FALSE. */
static void
append_frame (Peer       *p,
              GByteArray *out,
              guint8      b0,
              const void *payload,
              gsize       len,
              gboolean    masked)
{
  guint8 key[4], hdr[14];
  gsize n, start;

  p->key_counter++;
  key[0] = (guint8) (0x5a + p->key_counter * 31);
  key[1] = (guint8) (p->key_counter * 7);
  key[2] = (p->key_counter & 1) ? 0xff : 0x00;
  key[3] = (guint8) (0xc3 ^ p->key_counter);
  n = make_header (hdr, b0, len, masked, key, 0);
  g_byte_array_append (out, hdr, n);
  start = out->len;
  if (len > 0)
    g_byte_array_append (out, payload, len);
  if (masked)
    naive_unmask (out->data + start, len, key, 0);
}

static void
client_send_frame (Peer       *p,
                   guint8      b0,
                   const void *payload,
                   gsize       len)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  append_frame (p, out, b0, payload, len, TRUE);
  client_send (p, out->data, out->len);
}

static void
client_send_close (Peer       *p,
                   gushort     code,
                   const char *reason)
{
  guint8 payload[125] = { code >> 8, code & 0xff };
  gsize len = strlen (reason);

  memcpy (payload + 2, reason, len);
  client_send_frame (p, 0x88, payload, 2 + len);
}

static void
client_pump (Peer *p)
{
  guint8 buf[65536];

  while (!p->eof)
    {
      gssize n = recv (p->fd, buf, sizeof buf, MSG_DONTWAIT);

      if (n > 0)
        {
          /* Drop what was parsed before growing. */
          if (p->in_off > 0)
            {
              g_byte_array_remove_range (p->in, 0, p->in_off);
              p->in_off = 0;
            }
          g_byte_array_append (p->in, buf, n);
        }
      else if (n == 0)
        p->eof = TRUE;
      else if (errno == EINTR)
        continue;
      else if (errno == EAGAIN || errno == EWOULDBLOCK)
        return;
      else
        {
          p->error = errno;
          p->eof = TRUE;
        }
    }
}

/* Parses one server frame by hand, if a whole one is there. */
static gboolean
client_try_frame (Peer        *p,
                  ServerFrame *f)
{
  const guint8 *d;
  gsize n, hl;
  guint64 plen;

  client_pump (p);
  d = p->in->data + p->in_off;
  n = p->in->len - p->in_off;
  if (n < 2)
    return FALSE;

  g_assert_cmphex (d[0] & 0x70, ==, 0);  /* no RSV bits from the server */
  g_assert_cmphex (d[1] & 0x80, ==, 0);  /* server frames are never masked */
  plen = d[1] & 0x7f;
  hl = 2;
  if (plen == 126)
    {
      if (n < 4)
        return FALSE;
      plen = ((guint64) d[2] << 8) | d[3];
      hl = 4;
      g_assert_cmpuint (plen, >=, 126);  /* the shortest form */
    }
  else if (plen == 127)
    {
      if (n < 10)
        return FALSE;
      plen = 0;
      for (int i = 0; i < 8; i++)
        plen = (plen << 8) | d[2 + i];
      hl = 10;
      g_assert_cmpuint (plen, >=, 65536);
      g_assert_cmpuint (plen >> 63, ==, 0);
    }
  if (n - hl < plen)
    return FALSE;

  f->opcode = d[0] & 0x0f;
  f->fin = (d[0] & 0x80) != 0;
  f->payload = g_byte_array_sized_new (plen);
  g_byte_array_append (f->payload, d + hl, plen);
  p->in_off += hl + plen;
  if (f->opcode >= 0x8)
    {
      g_assert_true (f->fin);
      g_assert_cmpuint (plen, <=, 125);
    }
  return TRUE;
}

static void
client_read_frame (Peer        *p,
                   ServerFrame *f)
{
  gint64 end = g_get_monotonic_time () + WAIT_TIMEOUT_US;

  while (!client_try_frame (p, f))
    {
      if (p->eof)
        g_error ("the connection ended (%s) with no whole frame (%" G_GSIZE_FORMAT " bytes pending)",
                 p->error ? g_strerror (p->error) : "EOF", p->in->len - p->in_off);
      if (g_get_monotonic_time () > end)
        g_error ("timed out waiting for a server frame (%" G_GSIZE_FORMAT " bytes pending)",
                 p->in->len - p->in_off);
      iterate ();
    }
}

/* Reads a close frame and checks its code (and reason, unless NULL). */
static void
client_expect_close (Peer       *p,
                     gushort     code,
                     const char *reason)
{
  g_auto(ServerFrame) f = { 0 };
  gushort got;

  client_read_frame (p, &f);
  g_assert_cmphex (f.opcode, ==, 0x8);
  g_assert_true (f.fin);
  g_assert_cmpuint (f.payload->len, >=, 2);
  got = (gushort) ((f.payload->data[0] << 8) | f.payload->data[1]);
  g_assert_cmpuint (got, ==, code);
  g_assert_true (g_utf8_validate_len ((const char *) f.payload->data + 2, f.payload->len - 2, NULL));
  if (reason != NULL)
    g_assert_cmpmem (f.payload->data + 2, f.payload->len - 2, reason, strlen (reason));
}

/* Waits for the server to close its end; with @discard, frames still on the
 * way are dropped, else there must be none. The bound is well under the
 * hub's 5 s close-handshake timeout: the socket must close because the
 * handshake is over, not because the hub gave up waiting. */
static void
client_expect_eof (Peer     *p,
                   gboolean  discard)
{
  WAIT_FOR_US ((client_pump (p), discard && (p->in_off = p->in->len), p->eof), 2 * G_TIME_SPAN_SECOND);
  g_assert_cmpint (p->error, ==, 0);
  g_assert_cmpuint (p->in->len - p->in_off, ==, 0);
}

static void
assert_no_eof_yet (Peer *p)
{
  client_pump (p);
  g_assert_false (p->eof);
}

static void
assert_message (Peer       *p,
                guint       i,
                gboolean    binary,
                const void *data,
                gsize       len)
{
  Message *m;

  g_assert_cmpuint (i, <, p->messages->len);
  m = g_ptr_array_index (p->messages, i);
  g_assert_cmpint (m->binary, ==, binary);
  g_assert_cmpmem (g_bytes_get_data (m->data, NULL), g_bytes_get_size (m->data), data, len);
}

/* --- connections ------------------------------------------------------------ */

static void
test_conn_text (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);
  static const char text[] = "Hello, WebSocket \xe6\xbc\xa2\xe5\xad\x97";

  g_assert_cmpuint (peercam_ws_hub_get_n_connections (hub), ==, 1);
  client_send_frame (p, 0x81, text, strlen (text));
  WAIT_FOR (p->messages->len >= 1);
  assert_message (p, 0, FALSE, text, strlen (text));

  /* An empty message is a message. */
  client_send_frame (p, 0x81, NULL, 0);
  WAIT_FOR (p->messages->len >= 2);
  assert_message (p, 1, FALSE, "", 0);

  iterate_for (20);
  g_assert_cmpuint (p->messages->len, ==, 2);
  g_assert_cmpuint (p->n_closed, ==, 0);
  g_assert_cmpuint (peercam_ws_hub_get_n_connections (hub), ==, 1);
}

static void
test_conn_batch (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < 50; i++)
    {
      /* 7-bit, 16-bit and 64-bit lengths mixed. */
      gsize len = i % 10 == 9 ? 70000 : i % 3 == 0 ? 300 + i : i;
      char *text = g_malloc (len + 1);

      for (gsize k = 0; k < len; k++)
        text[k] = (char) ('a' + (i + k) % 26);
      text[len] = '\0';
      g_ptr_array_add (texts, text);
      append_frame (p, out, 0x81, text, len, TRUE);
    }
  client_send (p, out->data, out->len);  /* as one write() where it fits */

  WAIT_FOR (p->messages->len >= texts->len);
  iterate_for (20);
  g_assert_cmpuint (p->messages->len, ==, texts->len);
  for (guint i = 0; i < texts->len; i++)
    assert_message (p, i, FALSE, texts->pdata[i], strlen (texts->pdata[i]));
  g_assert_cmpuint (p->n_closed, ==, 0);
}

static void
test_conn_split (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);
  static const gsize sizes[] = { 5, 300, 70000 };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      g_autoptr(GByteArray) out = g_byte_array_new ();
      g_autofree char *text = g_malloc (sizes[s]);
      gsize step;

      for (gsize k = 0; k < sizes[s]; k++)
        text[k] = (char) ('A' + (k * 13) % 26);
      append_frame (p, out, 0x81, text, sizes[s], TRUE);

      /* Byte by byte (the header always; big payloads in 1000-byte steps),
       * letting the hub run after each write. */
      for (gsize off = 0; off < out->len; off += step)
        {
          step = (off < 14 || sizes[s] < 1000) ? 1 : MIN (1000, out->len - off);
          g_assert_cmpuint (p->messages->len, ==, s);
          client_send (p, out->data + off, step);
          g_main_context_iteration (NULL, FALSE);
          g_main_context_iteration (NULL, FALSE);
        }
      WAIT_FOR (p->messages->len >= s + 1);
      assert_message (p, s, FALSE, text, sizes[s]);
    }
  iterate_for (20);
  g_assert_cmpuint (p->messages->len, ==, G_N_ELEMENTS (sizes));
  g_assert_cmpuint (p->n_closed, ==, 0);
}

static void
check_pong (Peer       *p,
            const char *payload)
{
  g_auto(ServerFrame) f = { 0 };

  client_read_frame (p, &f);
  g_assert_cmphex (f.opcode, ==, 0xa);
  g_assert_true (f.fin);
  g_assert_cmpmem (f.payload->data, f.payload->len, payload, strlen (payload));
}

/* Many frames of every size class (7-, 16- and 64-bit lengths), fragmented
 * messages with pings between the fragments, written in chunks cut at
 * random places with the server reading in between: each message arrives
 * once, whole and in order, and every ping gets its pong. Exercises the
 * buffering of incomplete frames across reads. */
static void
test_conn_random_chunks (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261124);
  guint n_pings = 0, n_pongs = 0;
  gsize off = 0;

  for (guint m = 0; m < 120; m++)
    {
      static const gsize sizes[] = { 0, 1, 125, 126, 127, 2000, 65535, 65536, 70000 };
      gsize len = sizes[g_rand_int_range (rand, 0, G_N_ELEMENTS (sizes))];
      char *text = g_malloc (len + 1);

      for (gsize i = 0; i < len; i++)
        text[i] = (char) ('a' + (m + i) % 26);
      text[len] = '\0';
      g_ptr_array_add (expected, text);

      if (len >= 2 && g_rand_boolean (rand))
        {
          gsize cut = (gsize) g_rand_int_range (rand, 1, (gint32) len);

          append_frame (p, out, 0x01, text, cut, TRUE);
          append_frame (p, out, 0x89, "ping", 4, TRUE);
          n_pings++;
          append_frame (p, out, 0x80, text + cut, len - cut, TRUE);
        }
      else
        append_frame (p, out, 0x81, text, len, TRUE);
    }

  while (off < out->len)
    {
      gsize cut = (gsize) g_rand_int_range (rand, 1, 90000);  /* not inside MIN(): evaluated twice */
      gsize chunk = MIN (cut, out->len - off);

      client_send (p, out->data + off, chunk);
      off += chunk;
      iterate ();
    }
  WAIT_FOR (p->messages->len >= expected->len);

  g_assert_cmpuint (p->messages->len, ==, expected->len);
  for (guint m = 0; m < expected->len; m++)
    assert_message (p, m, FALSE, g_ptr_array_index (expected, m), strlen (g_ptr_array_index (expected, m)));

  while (n_pongs < n_pings)
    {
      g_auto(ServerFrame) f = { 0 };

      client_read_frame (p, &f);
      g_assert_cmphex (f.opcode, ==, 0xA);
      g_assert_cmpmem (f.payload->data, f.payload->len, "ping", 4);
      n_pongs++;
    }
  g_assert_cmpuint (p->n_closed, ==, 0);
}

static void
test_conn_fragmented (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);

  /* Separate writes, the hub running in between. */
  client_send_frame (p, 0x01, "Hello, ", 7);
  iterate_for (10);
  client_send_frame (p, 0x89, "ping-1", 6);
  check_pong (p, "ping-1");
  g_assert_cmpuint (p->messages->len, ==, 0);
  client_send_frame (p, 0x00, "wor", 3);
  iterate_for (10);
  g_assert_cmpuint (p->messages->len, ==, 0);
  client_send_frame (p, 0x80, "ld", 2);
  WAIT_FOR (p->messages->len >= 1);
  assert_message (p, 0, FALSE, "Hello, world", 12);

  /* All in one write, with a character split between fragments. */
  {
    g_autoptr(GByteArray) out = g_byte_array_new ();

    append_frame (p, out, 0x01, "caf\xc3", 4, TRUE);
    append_frame (p, out, 0x89, "", 0, TRUE);
    append_frame (p, out, 0x00, "\xa9 \xe6", 3, TRUE);
    append_frame (p, out, 0x8a, "unsolicited pong", 16, TRUE);  /* ignored */
    append_frame (p, out, 0x89, "ping-2", 6, TRUE);
    append_frame (p, out, 0x80, "\xbc\xa2", 2, TRUE);
    client_send (p, out->data, out->len);
  }
  WAIT_FOR (p->messages->len >= 2);
  assert_message (p, 1, FALSE, "caf\xc3\xa9 \xe6\xbc\xa2", 9);
  check_pong (p, "");
  check_pong (p, "ping-2");

  /* Fragmented binary. */
  client_send_frame (p, 0x02, "\x00\xff", 2);
  client_send_frame (p, 0x00, "\x80", 1);
  client_send_frame (p, 0x80, "\xc0", 1);
  WAIT_FOR (p->messages->len >= 3);
  assert_message (p, 2, TRUE, "\x00\xff\x80\xc0", 4);

  iterate_for (20);
  g_assert_cmpuint (p->messages->len, ==, 3);
  g_assert_cmpuint (p->n_closed, ==, 0);
  g_assert_false (client_try_frame (p, &(ServerFrame) { 0 }));  /* nothing more */
}

static void
test_conn_ping (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);
  char payload[126];

  for (guint i = 0; i < 125; i++)
    payload[i] = (char) ('0' + i % 10);
  payload[125] = '\0';
  client_send_frame (p, 0x89, payload, 125);
  check_pong (p, payload);
  g_assert_cmpuint (p->messages->len, ==, 0);
}

static void
test_conn_binary (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);
  guint8 bytes[256];

  for (guint i = 0; i < 256; i++)
    bytes[i] = (guint8) (255 - i);  /* not UTF-8, NULs included */
  client_send_frame (p, 0x82, bytes, sizeof bytes);
  WAIT_FOR (p->messages->len >= 1);
  assert_message (p, 0, TRUE, bytes, sizeof bytes);
  iterate_for (10);
  g_assert_cmpuint (p->n_closed, ==, 0);
}

static void
test_conn_send_text (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);

  {
    g_auto(ServerFrame) f = { 0 };

    g_assert_true (peercam_ws_conn_send_text (p->conn, "hi \xc3\xa9", 5));
    client_read_frame (p, &f);
    g_assert_cmphex (f.opcode, ==, 0x1);
    g_assert_true (f.fin);
    g_assert_cmpmem (f.payload->data, f.payload->len, "hi \xc3\xa9", 5);
  }

  /* Many in one iteration: all of them, in order, whole. */
  for (guint i = 0; i < 1000; i++)
    {
      char *text = i % 250 == 7 ? g_strnfill (70000, 'L') :
                   i % 10 == 3 ? g_strnfill (126 + i, 'm') :
                   g_strdup_printf ("message %u", i);

      g_ptr_array_add (texts, text);
      g_assert_true (peercam_ws_conn_send_text (p->conn, text, strlen (text)));
    }
  for (guint i = 0; i < texts->len; i++)
    {
      g_auto(ServerFrame) f = { 0 };

      client_read_frame (p, &f);
      g_assert_cmphex (f.opcode, ==, 0x1);
      g_assert_true (f.fin);
      g_assert_cmpmem (f.payload->data, f.payload->len, texts->pdata[i], strlen (texts->pdata[i]));
    }
  iterate_for (20);
  g_assert_false (client_try_frame (p, &(ServerFrame) { 0 }));
  g_assert_cmpuint (p->n_closed, ==, 0);

  /* Echo from inside the message callback. */
  p->echo = TRUE;
  client_send_frame (p, 0x81, "echo me", 7);
  {
    g_auto(ServerFrame) f = { 0 };

    client_read_frame (p, &f);
    g_assert_cmphex (f.opcode, ==, 0x1);
    g_assert_cmpmem (f.payload->data, f.payload->len, "echo me", 7);
  }
}

static void
test_conn_large (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);
  gsize len = 200 * 1024;
  g_autofree char *text = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    text[i] = (char) (' ' + (i * 31 + i / 1000) % 95);

  client_send_frame (p, 0x81, text, len);
  WAIT_FOR (p->messages->len >= 1);
  assert_message (p, 0, FALSE, text, len);

  /* Exactly at the limit, in fragments. */
  peercam_ws_hub_set_max_message_size (hub, len);
  client_send_frame (p, 0x01, text, len / 2);
  client_send_frame (p, 0x80, text + len / 2, len - len / 2);
  WAIT_FOR (p->messages->len >= 2);
  assert_message (p, 1, FALSE, text, len);

  /* And back. */
  {
    g_auto(ServerFrame) f = { 0 };

    g_assert_true (peercam_ws_conn_send_text (p->conn, text, len));
    client_read_frame (p, &f);
    g_assert_cmphex (f.opcode, ==, 0x1);
    g_assert_cmpmem (f.payload->data, f.payload->len, text, len);
  }
  g_assert_cmpuint (p->n_closed, ==, 0);
}

/* After a protocol error: closed() once with @code, a close frame with
 * @code, then the end of the stream (the server half-closes and drops
 * whatever the client still sends, its close frame included); once the
 * client closes too, @n_left connections remain. */
static void
expect_failed (PeercamWsHub *hub,
               Peer         *p,
               gushort       code,
               guint         n_messages,
               guint         n_left)
{
  WAIT_FOR (p->n_closed > 0);
  g_assert_cmpuint (p->n_closed, ==, 1);
  g_assert_cmpuint (p->close_code, ==, code);
  g_assert_null (p->conn);
  client_expect_close (p, code, NULL);

  client_send_close (p, code, "");
  client_expect_eof (p, FALSE);
  close (p->fd);
  p->fd = -1;
  WAIT_FOR_US (peercam_ws_hub_get_n_connections (hub) == n_left, 2 * G_TIME_SPAN_SECOND);
  iterate_for (10);
  g_assert_cmpuint (p->n_closed, ==, 1);
  g_assert_cmpuint (p->messages->len, ==, n_messages);
}

static void
test_conn_too_big (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1024);
  g_autoptr(Peer) p = peer_new_fd (hub);
  g_autofree char *text = g_strnfill (2000, 'x');

  client_send_frame (p, 0x81, text, 1024);  /* at the limit: fine */
  WAIT_FOR (p->messages->len >= 1);
  client_send_frame (p, 0x81, text, 1025);
  expect_failed (hub, p, 1009, 1, 0);
}

static void
test_conn_too_big_fragmented (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1024);
  g_autoptr(Peer) p = peer_new_fd (hub);
  g_autofree char *text = g_strnfill (600, 'y');

  client_send_frame (p, 0x01, text, 600);
  client_send_frame (p, 0x00, text, 400);
  client_send_frame (p, 0x80, text, 100);
  expect_failed (hub, p, 1009, 0, 0);
}

static void
test_conn_unmasked (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);
  g_autoptr(GByteArray) out = g_byte_array_new ();

  append_frame (p, out, 0x81, "plain", 5, FALSE);
  client_send (p, out->data, out->len);
  expect_failed (hub, p, 1002, 0, 0);
}

static void
test_conn_bad_utf8 (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);

  client_send_frame (p, 0x81, "ok", 2);
  client_send_frame (p, 0x81, "bad \xed\xa0\x80 surrogate", 16);
  client_send_frame (p, 0x81, "never delivered", 15);
  expect_failed (hub, p, 1007, 1, 0);
  assert_message (p, 0, FALSE, "ok", 2);
}

/* Sequences of well-formed frames that break the protocol: each closes
 * with its code and delivers nothing. */
static void
test_conn_protocol_errors (void)
{
  static const struct {
    const char *what;
    struct { guint8 b0; const char *payload; } frames[3];
    gushort code;
  } cases[] = {
    { "fragments that end inside a character",
      { { 0x01, "abc" }, { 0x80, "\xe6\xbc" } }, 1007 },
    { "a continuation without a message",
      { { 0x80, "lost" } }, 1002 },
    { "a new data frame while a fragmented message is open",
      { { 0x01, "first " }, { 0x81, "second" } }, 1002 },
    { "a reserved opcode",
      { { 0x83, "?" } }, 1002 },
  };

  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
      g_autoptr(Peer) p = peer_new_fd (hub);

      g_test_message ("%s", cases[c].what);
      for (gsize f = 0; f < G_N_ELEMENTS (cases[c].frames) && cases[c].frames[f].payload != NULL; f++)
        client_send_frame (p, cases[c].frames[f].b0, cases[c].frames[f].payload,
                           strlen (cases[c].frames[f].payload));
      expect_failed (hub, p, cases[c].code, 0, 0);
    }
}

static void
test_conn_bad_close (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);

  /* 1005 may not be sent. The client then closes its socket as any
   * client does after the closing handshake: waiting for the hub's own
   * 5 s close deadline raced the test's 5 s wait under load. */
  client_send_frame (p, 0x88, "\x03\xed", 2);
  expect_failed (hub, p, 1002, 0, 0);
}

static void
test_conn_client_close (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);
  g_autoptr(GByteArray) out = g_byte_array_new ();

  append_frame (p, out, 0x81, "last words", 10, TRUE);
  append_frame (p, out, 0x88, "\x03\xe8" "bye", 5, TRUE);
  append_frame (p, out, 0x81, "after close", 11, TRUE);  /* ignored */
  client_send (p, out->data, out->len);

  WAIT_FOR (p->n_closed > 0);
  g_assert_cmpuint (p->close_code, ==, 1000);
  g_assert_cmpstr (p->close_reason, ==, "bye");
  g_assert_cmpuint (p->messages->len, ==, 1);
  assert_message (p, 0, FALSE, "last words", 10);

  client_expect_close (p, 1000, NULL);
  client_expect_eof (p, FALSE);
  WAIT_FOR (peercam_ws_hub_get_n_connections (hub) == 0);
  iterate_for (10);
  g_assert_cmpuint (p->n_closed, ==, 1);
  g_assert_cmpuint (p->messages->len, ==, 1);
}

static void
test_conn_client_close_empty (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);
  g_auto(ServerFrame) f = { 0 };

  /* No status code: the callback hears 1005; the answer carries none. */
  client_send_frame (p, 0x88, NULL, 0);
  WAIT_FOR (p->n_closed > 0);
  g_assert_cmpuint (p->close_code, ==, 1005);
  client_read_frame (p, &f);
  g_assert_cmphex (f.opcode, ==, 0x8);
  g_assert_cmpuint (f.payload->len, ==, 0);
  client_expect_eof (p, FALSE);
  WAIT_FOR (peercam_ws_hub_get_n_connections (hub) == 0);
}

static void
test_conn_eof (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);
  g_autoptr(Peer) q = peer_new_fd (hub);

  /* Half a frame, then gone. */
  client_send (p, (const guint8 *) "\x81\x85", 2);
  iterate_for (10);
  close (p->fd);
  p->fd = -1;
  WAIT_FOR (p->n_closed > 0);
  g_assert_cmpuint (p->close_code, ==, 1006);
  WAIT_FOR (peercam_ws_hub_get_n_connections (hub) == 1);

  /* Gone between two frames. */
  client_send_frame (q, 0x81, "one", 3);
  WAIT_FOR (q->messages->len == 1);
  shutdown (q->fd, SHUT_WR);
  WAIT_FOR (q->n_closed > 0);
  g_assert_cmpuint (q->close_code, ==, 1006);
  WAIT_FOR (peercam_ws_hub_get_n_connections (hub) == 0);
  iterate_for (10);
  g_assert_cmpuint (p->n_closed, ==, 1);
  g_assert_cmpuint (q->n_closed, ==, 1);
}

static void
test_conn_write_error (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);

  /* The client stops receiving: the server's send() fails with EPIPE (and
   * must not raise SIGPIPE). */
  g_assert_cmpint (shutdown (p->fd, SHUT_RD), ==, 0);
  g_assert_true (peercam_ws_conn_send_text (p->conn, "into the void", 13));
  WAIT_FOR (p->n_closed > 0);
  g_assert_cmpuint (p->close_code, ==, 1006);
  WAIT_FOR (peercam_ws_hub_get_n_connections (hub) == 0);
}

static void
test_conn_server_close (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);

  g_assert_true (peercam_ws_conn_send_text (p->conn, "before", 6));
  p->closed_by_us = TRUE;
  peercam_ws_conn_close (p->conn, 1001, "going");

  {
    g_auto(ServerFrame) f = { 0 };

    client_read_frame (p, &f);
    g_assert_cmphex (f.opcode, ==, 0x1);
    g_assert_cmpmem (f.payload->data, f.payload->len, "before", 6);
  }
  client_expect_close (p, 1001, "going");

  /* Still there: the handshake is not over. Data now is not delivered. */
  iterate_for (20);
  assert_no_eof_yet (p);
  g_assert_cmpuint (peercam_ws_hub_get_n_connections (hub), ==, 1);
  client_send_frame (p, 0x81, "too late", 8);
  client_send_frame (p, 0x89, "late ping", 9);
  iterate_for (20);
  g_assert_cmpuint (p->messages->len, ==, 0);

  client_send_close (p, 1001, "");
  client_expect_eof (p, TRUE);
  WAIT_FOR (peercam_ws_hub_get_n_connections (hub) == 0);
  iterate_for (10);
  g_assert_cmpuint (p->n_closed, ==, 0);
  g_assert_cmpuint (p->messages->len, ==, 0);
}

static void
test_conn_server_close_then_eof (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);

  p->closed_by_us = TRUE;
  peercam_ws_conn_close (p->conn, 1000, NULL);
  client_expect_close (p, 1000, "");
  /* The client vanishes instead of answering: no callback either. */
  close (p->fd);
  p->fd = -1;
  WAIT_FOR (peercam_ws_hub_get_n_connections (hub) == 0);
  iterate_for (10);
  g_assert_cmpuint (p->n_closed, ==, 0);
}

static void
test_conn_close_in_callback (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);
  g_autoptr(GByteArray) out = g_byte_array_new ();

  /* Three messages in one read; the first closes the connection. */
  p->close_on_message = TRUE;
  append_frame (p, out, 0x81, "1", 1, TRUE);
  append_frame (p, out, 0x81, "2", 1, TRUE);
  append_frame (p, out, 0x81, "3", 1, TRUE);
  client_send (p, out->data, out->len);

  client_expect_close (p, 1000, "enough");
  g_assert_cmpuint (p->messages->len, ==, 1);
  client_send_close (p, 1000, "");
  client_expect_eof (p, FALSE);
  WAIT_FOR (peercam_ws_hub_get_n_connections (hub) == 0);
  g_assert_cmpuint (p->messages->len, ==, 1);
  g_assert_cmpuint (p->n_closed, ==, 0);
}

static void
test_conn_many (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(GPtrArray) peers = g_ptr_array_new_with_free_func ((GDestroyNotify) peer_free);

  for (guint i = 0; i < 64; i++)
    {
      Peer *p = i % 8 == 7 ? peer_new_stream (hub) : peer_new_fd (hub);

      p->echo = TRUE;
      g_ptr_array_add (peers, p);
    }
  g_assert_cmpuint (peercam_ws_hub_get_n_connections (hub), ==, 64);

  for (guint i = 0; i < peers->len; i++)
    {
      g_autofree char *text = g_strdup_printf ("peer %u", i);

      client_send_frame (peers->pdata[i], 0x81, text, strlen (text));
    }
  for (guint i = 0; i < peers->len; i++)
    {
      g_autofree char *text = g_strdup_printf ("peer %u", i);
      g_auto(ServerFrame) f = { 0 };

      client_read_frame (peers->pdata[i], &f);
      g_assert_cmpmem (f.payload->data, f.payload->len, text, strlen (text));
    }

  /* Half of them leave. */
  for (guint i = 0; i < peers->len; i += 2)
    client_send_close (peers->pdata[i], 1000, "");
  for (guint i = 0; i < peers->len; i += 2)
    {
      client_expect_close (peers->pdata[i], 1000, NULL);
      client_expect_eof (peers->pdata[i], FALSE);
    }
  WAIT_FOR (peercam_ws_hub_get_n_connections (hub) == 32);
  for (guint i = 0; i < peers->len; i++)
    {
      Peer *p = peers->pdata[i];

      g_assert_cmpuint (p->n_closed, ==, i % 2 == 0 ? 1 : 0);
      g_assert_cmpuint (p->messages->len, ==, 1);
    }
}

static void
test_hub_free (void)
{
  PeercamWsHub *hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) partial = peer_new_fd (hub);
  g_autoptr(Peer) fragments = peer_new_fd (hub);
  g_autoptr(Peer) queued = peer_new_fd (hub);
  g_autoptr(Peer) backlog = peer_new_fd (hub);
  g_autoptr(Peer) closing = peer_new_fd (hub);
  g_autoptr(Peer) stream = peer_new_stream (hub);
  g_autoptr(Peer) stream_partial = peer_new_stream (hub);
  g_autofree char *big = g_strnfill (256 * 1024, 'b');
  Peer *all[] = { partial, fragments, queued, backlog, closing, stream, stream_partial };

  /* Leave each connection in a different state. */
  client_send (partial, (const guint8 *) "\x81\xfe\x01", 3);
  client_send_frame (fragments, 0x01, "abc", 3);
  /* More than the socket holds, far less than a reason to drop the peer. */
  for (guint i = 0; i < 4; i++)
    g_assert_true (peercam_ws_conn_send_text (backlog->conn, big, 256 * 1024));
  closing->closed_by_us = TRUE;
  peercam_ws_conn_close (closing->conn, 1001, "bye");
  client_send_frame (stream, 0x81, "hello", 5);
  client_send (stream_partial, (const guint8 *) "\x82\x83\x00", 3);
  WAIT_FOR (stream->messages->len == 1);
  iterate_for (20);
  client_expect_close (closing, 1001, "bye");
  g_assert_true (peercam_ws_conn_send_text (queued->conn, "never sent", 10));  /* no iteration after */
  g_assert_cmpuint (peercam_ws_hub_get_n_connections (hub), ==, G_N_ELEMENTS (all));

  peercam_ws_hub_free (hub);

  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    {
      client_expect_eof (all[i], TRUE);
      g_assert_cmpuint (all[i]->n_closed, ==, 0);
    }
  /* Let stream closes finish. */
  iterate_for (20);
}

static void
test_hub_free_in_callback (void)
{
  PeercamWsHub *hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);
  g_autoptr(Peer) other = peer_new_fd (hub);
  g_autoptr(Peer) stream = peer_new_stream (hub);
  g_autoptr(GByteArray) out = g_byte_array_new ();

  p->free_hub_on_message = &hub;
  append_frame (p, out, 0x81, "shut down", 9, TRUE);
  append_frame (p, out, 0x81, "never", 5, TRUE);
  client_send (p, out->data, out->len);
  g_assert_true (peercam_ws_conn_send_text (other->conn, "queued", 6));

  WAIT_FOR (hub == NULL);
  g_assert_cmpuint (p->messages->len, ==, 1);
  client_expect_eof (p, TRUE);
  client_expect_eof (other, TRUE);
  client_expect_eof (stream, TRUE);
  iterate_for (20);
  g_assert_cmpuint (p->messages->len, ==, 1);
  g_assert_cmpuint (p->n_closed + other->n_closed + stream->n_closed, ==, 0);
  g_assert_cmpuint (other->messages->len, ==, 0);
}

static gboolean
count_tick (gpointer data)
{
  (*(guint *) data)++;
  return G_SOURCE_CONTINUE;
}

static void
test_conn_slow_reader (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 64 * 1024);
  g_autoptr(Peer) slow = peer_new_fd (hub);
  g_autoptr(Peer) fast = peer_new_fd (hub);
  g_autofree char *chunk = g_strnfill (64 * 1024, 's');
  guint ticks = 0, sent = 0, tick_id;
  gboolean refused = FALSE;
  gint64 worst_call = 0, worst_iteration = 0, start = g_get_monotonic_time ();

  tick_id = g_timeout_add (1, count_tick, &ticks);
  fast->echo = TRUE;

  /* 400 × 64 KB to a client that never reads. */
  for (guint i = 0; i < 400 && slow->n_closed == 0; i++)
    {
      gint64 t0 = g_get_monotonic_time (), t1, t2;

      /* FALSE: the peer owes more than the send queue holds; closed()
       * follows from the hub's next dispatch. */
      if (!peercam_ws_conn_send_text (slow->conn, chunk, 64 * 1024))
        {
          refused = TRUE;
          break;
        }
      sent++;
      t1 = g_get_monotonic_time ();
      g_main_context_iteration (NULL, FALSE);
      g_main_context_iteration (NULL, FALSE);
      t2 = g_get_monotonic_time ();
      worst_call = MAX (worst_call, t1 - t0);
      worst_iteration = MAX (worst_iteration, t2 - t1);
      if (i % 100 == 0)
        g_usleep (2000);
    }
  if (refused)
    WAIT_FOR (slow->n_closed == 1);
  g_test_message ("%u sends, slow reader %s, worst send_text %" G_GINT64_FORMAT " us, worst iteration %"
                  G_GINT64_FORMAT " us, %u ticks in %" G_GINT64_FORMAT " ms", sent,
                  slow->n_closed ? "dropped" : "kept", worst_call, worst_iteration, ticks,
                  (g_get_monotonic_time () - start) / 1000);
  /* A blocking send() would hang here for good; the bounds only leave room
   * for a loaded machine running ASan. */
  g_assert_cmpint (worst_call, <, G_TIME_SPAN_SECOND);
  g_assert_cmpint (worst_iteration, <, G_TIME_SPAN_SECOND);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_TIME_SPAN_SECOND);
  g_assert_cmpuint (ticks, >, 0);  /* the loop kept running */

  /* Meanwhile another connection on the same hub is served. */
  client_send_frame (fast, 0x81, "still here", 10);
  {
    g_auto(ServerFrame) f = { 0 };

    client_read_frame (fast, &f);
    g_assert_cmpmem (f.payload->data, f.payload->len, "still here", 10);
  }

  if (slow->n_closed > 0)
    {
      /* Dropped for not reading: reported once; the connection is gone. */
      g_assert_cmpuint (slow->n_closed, ==, 1);
      g_assert_true (slow->close_code == 1008 || slow->close_code == 1006);
      WAIT_FOR (peercam_ws_hub_get_n_connections (hub) == 1);
    }
  else
    g_assert_cmpuint (peercam_ws_hub_get_n_connections (hub), ==, 2);
  g_assert_cmpuint (fast->n_closed, ==, 0);
  g_source_remove (tick_id);
}

/* A peer that reads nothing while 32 MB (512 of the largest messages, eight
 * times any sane queue limit) are sent to it must be dropped with closed(),
 * not buffered for ever. */
static void
test_conn_slow_reader_dropped (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 64 * 1024);
  g_autoptr(Peer) slow = peer_new_fd (hub);
  g_autofree char *chunk = g_strnfill (64 * 1024, 'd');
  guint sent = 0;

  for (guint i = 0; i < 512 && slow->n_closed == 0; i++)
    {
      if (!peercam_ws_conn_send_text (slow->conn, chunk, 64 * 1024))
        break;  /* refused: the queue is full, closed() follows */
      sent++;
      g_main_context_iteration (NULL, FALSE);
      g_main_context_iteration (NULL, FALSE);
    }
  iterate_for (20);
  g_test_message ("%u x 64 KB sent before the peer was %s", sent, slow->n_closed ? "dropped" : "still kept");
  g_assert_cmpuint (slow->n_closed, ==, 1);
  g_assert_true (slow->close_code == 1008 || slow->close_code == 1006);
  WAIT_FOR (peercam_ws_hub_get_n_connections (hub) == 0);
  client_expect_eof (slow, TRUE);
}

/* --- stream-backed connections ------------------------------------------- */

static void
test_stream_basic (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (g_main_context_default (), 1 << 20);
  g_autoptr(Peer) p = peer_new_stream (hub);

  g_assert_cmpuint (peercam_ws_hub_get_n_connections (hub), ==, 1);

  client_send_frame (p, 0x81, "over a stream", 13);
  WAIT_FOR (p->messages->len >= 1);
  assert_message (p, 0, FALSE, "over a stream", 13);

  {
    g_auto(ServerFrame) f = { 0 };

    g_assert_true (peercam_ws_conn_send_text (p->conn, "and back", 8));
    client_read_frame (p, &f);
    g_assert_cmphex (f.opcode, ==, 0x1);
    g_assert_true (f.fin);
    g_assert_cmpmem (f.payload->data, f.payload->len, "and back", 8);
  }

  /* A frame split across writes, and a ping. */
  {
    g_autoptr(GByteArray) out = g_byte_array_new ();

    append_frame (p, out, 0x81, "split", 5, TRUE);
    append_frame (p, out, 0x89, "sp", 2, TRUE);
    for (guint i = 0; i < out->len; i++)
      {
        client_send (p, out->data + i, 1);
        g_main_context_iteration (NULL, FALSE);
      }
    WAIT_FOR (p->messages->len >= 2);
    assert_message (p, 1, FALSE, "split", 5);
    check_pong (p, "sp");
  }

  client_send_close (p, 1000, "bye");
  WAIT_FOR (p->n_closed > 0);
  g_assert_cmpuint (p->close_code, ==, 1000);
  g_assert_cmpstr (p->close_reason, ==, "bye");
  client_expect_close (p, 1000, NULL);
  client_expect_eof (p, FALSE);
  WAIT_FOR (peercam_ws_hub_get_n_connections (hub) == 0);
  iterate_for (20);
  g_assert_cmpuint (p->n_closed, ==, 1);
  g_assert_cmpuint (p->messages->len, ==, 2);
}

static void
test_stream_large (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_stream (hub);
  gsize len = 300 * 1024;
  g_autofree char *text = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    text[i] = (char) ('a' + i % 23);
  client_send_frame (p, 0x81, text, len);
  WAIT_FOR (p->messages->len >= 1);
  assert_message (p, 0, FALSE, text, len);

  /* More than the socket buffer holds: the rest waits for POLLOUT. */
  for (guint i = 0; i < 8; i++)
    g_assert_true (peercam_ws_conn_send_text (p->conn, text, len));
  for (guint i = 0; i < 8; i++)
    {
      g_auto(ServerFrame) f = { 0 };

      client_read_frame (p, &f);
      g_assert_cmpmem (f.payload->data, f.payload->len, text, len);
    }
}

static void
test_stream_server_close (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_stream (hub);

  p->closed_by_us = TRUE;
  peercam_ws_conn_close (p->conn, 1001, "going");
  client_expect_close (p, 1001, "going");
  iterate_for (20);
  assert_no_eof_yet (p);
  g_assert_cmpuint (peercam_ws_hub_get_n_connections (hub), ==, 1);
  client_send_close (p, 1001, "");
  client_expect_eof (p, FALSE);
  WAIT_FOR (peercam_ws_hub_get_n_connections (hub) == 0);
  iterate_for (20);
  g_assert_cmpuint (p->n_closed, ==, 0);
}

static void
test_stream_errors (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_stream (hub);
  g_autoptr(Peer) q = peer_new_stream (hub);
  g_autoptr(GByteArray) out = g_byte_array_new ();

  append_frame (p, out, 0x81, "plain", 5, FALSE);
  client_send (p, out->data, out->len);
  expect_failed (hub, p, 1002, 0, 1);  /* q stays */
  g_assert_cmpuint (peercam_ws_hub_get_n_connections (hub), ==, 1);

  close (q->fd);
  q->fd = -1;
  WAIT_FOR (q->n_closed > 0);
  g_assert_cmpuint (q->close_code, ==, 1006);
  WAIT_FOR (peercam_ws_hub_get_n_connections (hub) == 0);
  iterate_for (20);
}

/* peercam_ws_hub_flush() sends what is queued without a main loop
 * iteration (a server that stops right before the process exits). */
static void
test_hub_flush (void)
{
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) p = peer_new_fd (hub);
  static const guint8 expected[] = { 0x81, 3, 'n', 'o', 'w', 0x88, 5, 0x03, 0xe9, 'b', 'y', 'e' };
  guint8 buf[64];
  gsize got = 0;
  struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

  g_assert_true (peercam_ws_conn_send_text (p->conn, "now", 3));
  p->closed_by_us = TRUE;
  peercam_ws_conn_close (p->conn, 1001, "bye");
  p->conn = NULL;
  peercam_ws_hub_flush (hub);

  /* Read straight from the socket: no iteration of the main context. */
  while (got < sizeof expected && poll (&pfd, 1, 1000) == 1)
    {
      gssize n = recv (p->fd, buf + got, sizeof buf - got, MSG_DONTWAIT);

      if (n <= 0)
        break;
      got += (gsize) n;
    }
  g_assert_cmpmem (buf, got, expected, sizeof expected);
  g_assert_cmpuint (p->n_closed, ==, 0);
}

/* --- fairness ---------------------------------------------------------------- */

typedef struct {
  int       fd;          /* blocking client end */
  gint64    until;       /* monotonic µs */
  guint64   n_sent;      /* frames written */
  GByteArray *frames;    /* one batch of tiny frames */
  guint     batch_frames;
  gint      done;
} Flood;

static gpointer
flood_thread (gpointer data)
{
  Flood *flood = data;

  while (g_get_monotonic_time () < flood->until)
    {
      gsize off = 0;

      while (off < flood->frames->len)
        {
          gssize n = send (flood->fd, flood->frames->data + off, flood->frames->len - off, MSG_NOSIGNAL);

          if (n < 0 && errno == EINTR)
            continue;
          g_assert_cmpint (n, >, 0);
          off += (gsize) n;
        }
      flood->n_sent += flood->batch_frames;
    }
  g_atomic_int_set (&flood->done, 1);
  return NULL;
}

static void
count_message (PeercamWsConn *conn,
               gboolean       binary,
               const char    *data,
               gsize          len,
               gpointer       user_data)
{
  (*(guint64 *) user_data)++;
}

static void
count_closed (PeercamWsConn *conn,
              gushort        code,
              const char    *reason,
              gpointer       user_data)
{
  g_error ("the flooding connection was closed (%u %s)", code, reason);
}

static const PeercamWsConnFuncs count_funcs = { count_message, count_closed };

/* Connections that write 6-, 9- or 10-byte frames back to back as fast as
 * they can get a bounded share of each wakeup: another connection's round
 * trips stay fast, and every frame of the floods still arrives. */
static void
test_conn_tiny_frame_flood (void)
{
  static const gsize sizes[] = { 0, 3, 4 };  /* payloads of 6-, 9- and 10-byte frames */
  g_autoptr(PeercamWsHub) hub = peercam_ws_hub_new (NULL, 1 << 20);
  g_autoptr(Peer) honest = peer_new_fd (hub);
  Flood floods[G_N_ELEMENTS (sizes)] = { 0 };
  guint64 received[G_N_ELEMENTS (sizes)] = { 0 };
  GThread *threads[G_N_ELEMENTS (sizes)];
  gint64 until = g_get_monotonic_time () + 1500 * G_TIME_SPAN_MILLISECOND;
  gint64 worst = 0;
  guint rounds = 0;

  honest->echo = TRUE;
  for (guint k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      Peer shape = { 0 };  /* only numbers the masks */
      int sv[2];

      g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
      g_assert_nonnull (peercam_ws_hub_adopt_fd (hub, sv[0], &count_funcs, &received[k]));
      floods[k].fd = sv[1];
      floods[k].until = until;
      floods[k].frames = g_byte_array_new ();
      for (; floods[k].frames->len < 60000; floods[k].batch_frames++)
        append_frame (&shape, floods[k].frames, 0x81, "abcd", sizes[k], TRUE);
      threads[k] = g_thread_new ("flood", flood_thread, &floods[k]);
    }

  while (g_get_monotonic_time () < until)
    {
      g_auto(ServerFrame) f = { 0 };
      gint64 start = g_get_monotonic_time ();

      client_send_frame (honest, 0x81, "ping", 4);
      client_read_frame (honest, &f);
      g_assert_cmpmem (f.payload->data, f.payload->len, "ping", 4);
      worst = MAX (worst, g_get_monotonic_time () - start);
      rounds++;
    }
  for (guint k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      /* The last batch may wait for the hub to read. */
      WAIT_FOR (g_atomic_int_get (&floods[k].done));
      g_thread_join (threads[k]);
    }
  g_test_message ("%u round trips, the slowest %" G_GINT64_FORMAT " us", rounds, worst);
  g_assert_cmpint (worst, <, 300 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (rounds, >=, 5);

  /* Nothing of the floods was lost. */
  for (guint k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      WAIT_FOR (received[k] >= floods[k].n_sent);
      iterate_for (20);
      g_assert_cmpuint (received[k], ==, floods[k].n_sent);
    }
  g_assert_cmpuint (honest->n_closed, ==, 0);
  for (guint k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      close (floods[k].fd);
      g_byte_array_unref (floods[k].frames);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ws-hub/codec/header-7bit", test_codec_header_7bit);
  g_test_add_func ("/ws-hub/codec/header-16bit", test_codec_header_16bit);
  g_test_add_func ("/ws-hub/codec/header-64bit", test_codec_header_64bit);
  g_test_add_func ("/ws-hub/codec/header-long-forms", test_codec_header_long_forms);
  g_test_add_func ("/ws-hub/codec/header-errors", test_codec_header_errors);
  g_test_add_func ("/ws-hub/codec/header-too-big", test_codec_header_too_big);
  g_test_add_func ("/ws-hub/codec/unmask", test_codec_unmask);
  g_test_add_func ("/ws-hub/codec/write-header", test_codec_write_header);
  g_test_add_func ("/ws-hub/codec/close", test_codec_close);
  g_test_add_func ("/ws-hub/codec/utf8", test_codec_utf8);
  g_test_add_func ("/ws-hub/codec/utf8-nul", test_codec_utf8_nul);

  g_test_add_func ("/ws-hub/conn/text", test_conn_text);
  g_test_add_func ("/ws-hub/conn/batch", test_conn_batch);
  g_test_add_func ("/ws-hub/conn/split", test_conn_split);
  g_test_add_func ("/ws-hub/conn/fragmented", test_conn_fragmented);
  g_test_add_func ("/ws-hub/conn/random-chunks", test_conn_random_chunks);
  g_test_add_func ("/ws-hub/conn/ping", test_conn_ping);
  g_test_add_func ("/ws-hub/conn/binary", test_conn_binary);
  g_test_add_func ("/ws-hub/conn/send-text", test_conn_send_text);
  g_test_add_func ("/ws-hub/conn/large", test_conn_large);
  g_test_add_func ("/ws-hub/conn/too-big", test_conn_too_big);
  g_test_add_func ("/ws-hub/conn/too-big-fragmented", test_conn_too_big_fragmented);
  g_test_add_func ("/ws-hub/conn/unmasked", test_conn_unmasked);
  g_test_add_func ("/ws-hub/conn/bad-utf8", test_conn_bad_utf8);
  g_test_add_func ("/ws-hub/conn/protocol-errors", test_conn_protocol_errors);
  g_test_add_func ("/ws-hub/conn/bad-close", test_conn_bad_close);
  g_test_add_func ("/ws-hub/conn/client-close", test_conn_client_close);
  g_test_add_func ("/ws-hub/conn/client-close-empty", test_conn_client_close_empty);
  g_test_add_func ("/ws-hub/conn/eof", test_conn_eof);
  g_test_add_func ("/ws-hub/conn/write-error", test_conn_write_error);
  g_test_add_func ("/ws-hub/conn/server-close", test_conn_server_close);
  g_test_add_func ("/ws-hub/conn/server-close-then-eof", test_conn_server_close_then_eof);
  g_test_add_func ("/ws-hub/conn/close-in-callback", test_conn_close_in_callback);
  g_test_add_func ("/ws-hub/conn/many", test_conn_many);
  g_test_add_func ("/ws-hub/conn/slow-reader", test_conn_slow_reader);
  g_test_add_func ("/ws-hub/conn/slow-reader-dropped", test_conn_slow_reader_dropped);
  g_test_add_func ("/ws-hub/conn/tiny-frame-flood", test_conn_tiny_frame_flood);
  g_test_add_func ("/ws-hub/hub/free", test_hub_free);
  g_test_add_func ("/ws-hub/hub/flush", test_hub_flush);
  g_test_add_func ("/ws-hub/hub/free-in-callback", test_hub_free_in_callback);

  g_test_add_func ("/ws-hub/stream/basic", test_stream_basic);
  g_test_add_func ("/ws-hub/stream/large", test_stream_large);
  g_test_add_func ("/ws-hub/stream/server-close", test_stream_server_close);
  g_test_add_func ("/ws-hub/stream/errors", test_stream_errors);

  return g_test_run ();
}
