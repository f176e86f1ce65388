/* test-sio-packet.c — Engine.IO / Socket.IO codec
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-sio-packet.h"

#include <string.h>

static void
test_eio_every_type (void)
{
  static const char *frames[] = { "0{\"sid\":\"a\"}", "1", "2", "3", "4hello", "5", "6" };

  for (guint i = 0; i < G_N_ELEMENTS (frames); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *payload = NULL;
      g_autofree char *again = NULL;
      PeercamEioType type;

      g_assert_true (peercam_eio_decode (frames[i], strlen (frames[i]), &type, &payload, &error));
      g_assert_no_error (error);
      g_assert_cmpint (type, ==, i);
      g_assert_cmpstr (payload, ==, frames[i] + 1);

      again = peercam_eio_encode (type, payload);
      g_assert_cmpstr (again, ==, frames[i]);
    }

  {
    g_autofree char *probe = peercam_eio_encode (PEERCAM_EIO_PING, "probe");
    g_autofree char *bare = peercam_eio_encode (PEERCAM_EIO_NOOP, NULL);

    g_assert_cmpstr (probe, ==, "2probe");
    g_assert_cmpstr (bare, ==, "6");
  }
}

static void
test_eio_errors (void)
{
  static const struct { const char *data; gsize len; int code; } cases[] = {
    { "", 0, PEERCAM_PROTOCOL_ERROR_EMPTY },
    { "7", 1, PEERCAM_PROTOCOL_ERROR_UNKNOWN_TYPE },
    { "x", 1, PEERCAM_PROTOCOL_ERROR_UNKNOWN_TYPE },
    { "b4AAEC", 6, PEERCAM_PROTOCOL_ERROR_BINARY_UNSUPPORTED },
    { "4\xff\xfe", 3, PEERCAM_PROTOCOL_ERROR_INVALID_UTF8 },
    { "4a\0b", 4, PEERCAM_PROTOCOL_ERROR_INVALID_UTF8 },
    { "\xc3", 1, PEERCAM_PROTOCOL_ERROR_INVALID_UTF8 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *payload = NULL;
      PeercamEioType type;

      g_assert_false (peercam_eio_decode (cases[i].data, cases[i].len, &type, &payload, &error));
      g_assert_error (error, PEERCAM_PROTOCOL_ERROR, cases[i].code);
      g_assert_null (payload);
    }
}

static void
test_eio_payload (void)
{
  const char body[] = "0{\"sid\":\"x\"}\x1e" "42[\"a\"]\x1e" "2\x1e" "6";
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) packets = peercam_eio_payload_decode (body, strlen (body), &error);
  g_autofree char *encoded = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (packets);
  g_assert_cmpuint (packets->len, ==, 4);
  g_assert_cmpint (((PeercamEioPacket *) packets->pdata[0])->type, ==, PEERCAM_EIO_OPEN);
  g_assert_cmpstr (((PeercamEioPacket *) packets->pdata[0])->payload, ==, "{\"sid\":\"x\"}");
  g_assert_cmpint (((PeercamEioPacket *) packets->pdata[1])->type, ==, PEERCAM_EIO_MESSAGE);
  g_assert_cmpstr (((PeercamEioPacket *) packets->pdata[1])->payload, ==, "2[\"a\"]");
  g_assert_cmpint (((PeercamEioPacket *) packets->pdata[2])->type, ==, PEERCAM_EIO_PING);
  g_assert_cmpstr (((PeercamEioPacket *) packets->pdata[2])->payload, ==, "");
  g_assert_cmpint (((PeercamEioPacket *) packets->pdata[3])->type, ==, PEERCAM_EIO_NOOP);

  encoded = peercam_eio_payload_encode (packets);
  g_assert_cmpstr (encoded, ==, body);

  /* A single packet is a valid payload too. */
  {
    g_autoptr(GPtrArray) one = peercam_eio_payload_decode ("3", 1, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (one->len, ==, 1);
  }
}

static void
test_eio_payload_errors (void)
{
  static const char *bodies[] = {
    "",                 /* empty */
    "\x1e",             /* two empty packets */
    "2\x1e",            /* trailing separator: empty packet */
    "\x1e" "2",
    "2\x1e\x1e" "3",
    "2\x1e" "b4AAE=",   /* binary inside */
    "2\x1e" "9",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) packets = peercam_eio_payload_decode (bodies[i], strlen (bodies[i]), &error);

      g_assert_null (packets);
      g_assert_nonnull (error);
      g_assert_true (error->domain == PEERCAM_PROTOCOL_ERROR);
    }
}

static PeercamSioPacket *
decode_ok (const char *text)
{
  g_autoptr(GError) error = NULL;
  PeercamSioPacket *packet = peercam_sio_packet_decode (text, strlen (text), &error);

  g_assert_no_error (error);
  g_assert_nonnull (packet);
  return packet;
}

/* Decodes @text and checks that encoding gives back @canonical (or @text). */
static PeercamSioPacket *
round_trip (const char *text,
            const char *canonical)
{
  PeercamSioPacket *packet = decode_ok (text);
  g_autofree char *encoded = peercam_sio_packet_encode (packet);
  g_autoptr(PeercamSioPacket) again = decode_ok (encoded);

  g_assert_cmpstr (encoded, ==, canonical ? canonical : text);
  g_assert_true (peercam_sio_packet_equal (packet, again));
  return packet;
}

static void
test_sio_connect (void)
{
  g_autoptr(PeercamSioPacket) bare = round_trip ("0", NULL);
  g_autoptr(PeercamSioPacket) auth = round_trip ("0{\"token\":\"s3cret\"}", NULL);
  g_autoptr(PeercamSioPacket) nsp = round_trip ("0/admin,", NULL);
  g_autoptr(PeercamSioPacket) nsp_auth = round_trip ("0/admin,{\"token\":\"t\"}", NULL);
  g_autoptr(PeercamSioPacket) reply = round_trip ("0{\"sid\":\"398Z\"}", NULL);

  g_assert_cmpint (bare->type, ==, PEERCAM_SIO_CONNECT);
  g_assert_cmpstr (bare->nsp, ==, "/");
  g_assert_cmpint (bare->id, ==, -1);
  g_assert_null (bare->data);

  g_assert_true (JSON_NODE_HOLDS_OBJECT (auth->data));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (auth->data), "token"), ==, "s3cret");

  g_assert_cmpstr (nsp->nsp, ==, "/admin");
  g_assert_null (nsp->data);
  g_assert_cmpstr (nsp_auth->nsp, ==, "/admin");
  g_assert_true (JSON_NODE_HOLDS_OBJECT (nsp_auth->data));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (reply->data), "sid"), ==, "398Z");

  /* A namespace without the comma runs to the end; "/" is the default. */
  {
    g_autoptr(PeercamSioPacket) open_nsp = round_trip ("0/admin", "0/admin,");
    g_autoptr(PeercamSioPacket) root = round_trip ("0/,", "0");

    g_assert_cmpstr (open_nsp->nsp, ==, "/admin");
    g_assert_cmpstr (root->nsp, ==, "/");
  }
}

static void
test_sio_disconnect (void)
{
  g_autoptr(PeercamSioPacket) root = round_trip ("1", NULL);
  g_autoptr(PeercamSioPacket) nsp = round_trip ("1/admin,", NULL);

  g_assert_cmpint (root->type, ==, PEERCAM_SIO_DISCONNECT);
  g_assert_null (root->data);
  g_assert_cmpstr (nsp->nsp, ==, "/admin");
}

static void
test_sio_event (void)
{
  g_autoptr(PeercamSioPacket) join = round_trip ("2[\"create or join\",\"room\"]", NULL);
  g_autoptr(PeercamSioPacket) signal = round_trip ("2[\"signal\",{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}]", NULL);
  g_autoptr(PeercamSioPacket) call = round_trip ("2[\"call\"]", NULL);
  g_autoptr(PeercamSioPacket) spaced = round_trip ("2[ \"x\" , 1 ]", "2[\"x\",1]");
  g_autoptr(GError) error = NULL;
  JsonNode *arg;

  g_assert_cmpint (join->type, ==, PEERCAM_SIO_EVENT);
  g_assert_cmpstr (peercam_sio_packet_get_event (join, &error), ==, "create or join");
  g_assert_no_error (error);
  g_assert_cmpuint (peercam_sio_packet_get_n_args (join), ==, 1);
  g_assert_cmpstr (peercam_sio_packet_get_string_arg (join, 0), ==, "room");
  g_assert_null (peercam_sio_packet_get_arg (join, 1));
  g_assert_null (peercam_sio_packet_get_string_arg (join, 1));

  arg = peercam_sio_packet_get_arg (signal, 0);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (arg));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (arg), "sdp"), ==, "v=0\r\n");
  g_assert_null (peercam_sio_packet_get_string_arg (signal, 0));

  g_assert_cmpstr (peercam_sio_packet_get_event (call, NULL), ==, "call");
  g_assert_cmpuint (peercam_sio_packet_get_n_args (call), ==, 0);
  g_assert_cmpstr (peercam_sio_packet_get_event (spaced, NULL), ==, "x");
}

static void
test_sio_event_name (void)
{
  static const char *bad[] = { "2[1]", "2[null,\"x\"]", "2[{\"a\":1}]", "2[[\"x\"]]", "2[true]" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(PeercamSioPacket) packet = decode_ok (bad[i]);
      g_autoptr(GError) error = NULL;

      g_assert_null (peercam_sio_packet_get_event (packet, &error));
      g_assert_error (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_INVALID_EVENT);
    }

  {
    g_autoptr(PeercamSioPacket) connect = decode_ok ("0");
    g_autoptr(GError) error = NULL;

    g_assert_null (peercam_sio_packet_get_event (connect, &error));
    g_assert_error (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_INVALID_EVENT);
    g_assert_cmpuint (peercam_sio_packet_get_n_args (connect), ==, 0);
  }
}

static void
test_sio_ack (void)
{
  g_autoptr(PeercamSioPacket) request = round_trip ("217[\"x\"]", NULL);
  g_autoptr(PeercamSioPacket) answer = round_trip ("317[\"ok\",2]", NULL);
  g_autoptr(PeercamSioPacket) empty = round_trip ("30[]", NULL);
  g_autoptr(PeercamSioPacket) nsp = round_trip ("2/admin,17[\"x\"]", NULL);
  g_autoptr(PeercamSioPacket) max = round_trip ("32147483647[]", NULL);
  g_autoptr(PeercamSioPacket) zeros = round_trip ("3007[]", "37[]");

  g_assert_cmpint (request->id, ==, 17);
  g_assert_cmpint (request->type, ==, PEERCAM_SIO_EVENT);
  g_assert_cmpint (answer->type, ==, PEERCAM_SIO_ACK);
  g_assert_cmpint (answer->id, ==, 17);
  g_assert_cmpuint (peercam_sio_packet_get_n_args (answer), ==, 2);
  g_assert_cmpstr (peercam_sio_packet_get_string_arg (answer, 0), ==, "ok");
  g_assert_cmpint (empty->id, ==, 0);
  g_assert_cmpuint (peercam_sio_packet_get_n_args (empty), ==, 0);
  g_assert_cmpstr (nsp->nsp, ==, "/admin");
  g_assert_cmpint (nsp->id, ==, 17);
  g_assert_cmpint (max->id, ==, G_MAXINT32);
  g_assert_cmpint (zeros->id, ==, 7);
}

static void
test_sio_connect_error (void)
{
  g_autoptr(PeercamSioPacket) object = round_trip ("4{\"message\":\"Invalid namespace\"}", NULL);
  g_autoptr(PeercamSioPacket) nsp = round_trip ("4/admin,{\"message\":\"Invalid namespace\"}", NULL);
  g_autoptr(PeercamSioPacket) string = round_trip ("4\"Not authorized\"", NULL);
  g_autoptr(PeercamSioPacket) made = peercam_sio_packet_new_connect_error ("/admin", "Invalid namespace");
  g_autofree char *encoded = peercam_sio_packet_encode (made);

  g_assert_cmpint (object->type, ==, PEERCAM_SIO_CONNECT_ERROR);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (object->data), "message"),
                   ==, "Invalid namespace");
  g_assert_true (JSON_NODE_HOLDS_VALUE (string->data));
  g_assert_cmpstr (encoded, ==, "4/admin,{\"message\":\"Invalid namespace\"}");
  g_assert_true (peercam_sio_packet_equal (made, nsp));
}

static void
test_sio_builders (void)
{
  g_autoptr(PeercamSioPacket) event =
    peercam_sio_packet_new_event (NULL, "create", json_node_init_string (json_node_alloc (), "r"),
                                  json_node_init_int (json_node_alloc (), 5), NULL);
  g_autoptr(PeercamSioPacket) bare = peercam_sio_packet_new_event ("/admin", "call", NULL);
  g_autoptr(PeercamSioPacket) ack = peercam_sio_packet_new_ack (NULL, 9, json_node_init_boolean (json_node_alloc (), TRUE), NULL);
  g_autoptr(PeercamSioPacket) copy = peercam_sio_packet_copy (event);
  g_autofree char *e1 = peercam_sio_packet_encode (event);
  g_autofree char *e2 = peercam_sio_packet_encode (bare);
  g_autofree char *e3 = peercam_sio_packet_encode (ack);
  g_autofree char *eio = peercam_eio_encode (PEERCAM_EIO_MESSAGE, e1);

  g_assert_cmpstr (e1, ==, "2[\"create\",\"r\",5]");
  g_assert_cmpstr (e2, ==, "2/admin,[\"call\"]");
  g_assert_cmpstr (e3, ==, "39[true]");
  g_assert_cmpstr (eio, ==, "42[\"create\",\"r\",5]");
  g_assert_true (peercam_sio_packet_equal (event, copy));
  g_assert_false (peercam_sio_packet_equal (event, bare));

  /* Strings with control characters are escaped, so a packet never carries
   * a raw 0x1e that would split a polling payload. */
  {
    g_autoptr(PeercamSioPacket) tricky =
      peercam_sio_packet_new_event (NULL, "x", json_node_init_string (json_node_alloc (), "a\x1e" "b\n"), NULL);
    g_autofree char *text = peercam_sio_packet_encode (tricky);
    g_autoptr(PeercamSioPacket) back = decode_ok (text);

    g_assert_null (strchr (text, '\x1e'));
    g_assert_true (peercam_sio_packet_equal (tricky, back));
  }
}

static void
test_sio_unicode (void)
{
  g_autoptr(PeercamSioPacket) packet = decode_ok ("2[\"x\",\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00\"]");

  g_assert_cmpstr (peercam_sio_packet_get_string_arg (packet, 0), ==, "caf\xc3\xa9 \xc3\xa9 \xf0\x9f\x98\x80");

  {
    g_autoptr(PeercamSioPacket) limits = round_trip ("2[\"x\",9223372036854775807,-9223372036854775808,0.5,-0.25e-3]",
                                                           "2[\"x\",9223372036854775807,-9223372036854775808,0.5,-0.00025]");

    g_assert_cmpint (json_node_get_int (peercam_sio_packet_get_arg (limits, 0)), ==, G_MAXINT64);
    g_assert_cmpint (json_node_get_int (peercam_sio_packet_get_arg (limits, 1)), ==, G_MININT64);
  }
}

/* An escaped U+0000 decodes into a string that keeps it (as C0 80, so the
 * C string keeps its length), stays distinct from the string without it,
 * and encodes back to \u0000. */
static void
test_sio_nul (void)
{
  g_autoptr(PeercamSioPacket) packet = round_trip ("2[\"create or join\",\"a\\u0000b\",{\"k\\u0000\":\"\\u0000\"}]",
                                                    "2[\"create or join\",\"a\\u0000b\",{\"k\\u0000\":\"\\u0000\"}]");
  g_autoptr(PeercamSioPacket) plain = decode_ok ("2[\"create or join\",\"a\"]");
  JsonObject *object;

  g_assert_cmpstr (peercam_sio_packet_get_string_arg (packet, 0), ==, "a\xc0\x80" "b");
  g_assert_cmpstr (peercam_sio_packet_get_string_arg (packet, 0), !=, peercam_sio_packet_get_string_arg (plain, 0));
  object = json_node_get_object (peercam_sio_packet_get_arg (packet, 1));
  g_assert_cmpstr (json_object_get_string_member (object, "k\xc0\x80"), ==, "\xc0\x80");
  g_assert_false (peercam_sio_packet_equal (packet, plain));

  /* Raw NUL bytes are still no text. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(PeercamSioPacket) raw = peercam_sio_packet_decode ("2[\"a\0\"]", 6, &error);

    g_assert_null (raw);
    g_assert_error (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_INVALID_UTF8);
  }
}

static void
test_sio_garbage (void)
{
  static const struct { const char *data; int code; } cases[] = {
    { "", PEERCAM_PROTOCOL_ERROR_EMPTY },
    { "7", PEERCAM_PROTOCOL_ERROR_UNKNOWN_TYPE },
    { "a[\"x\"]", PEERCAM_PROTOCOL_ERROR_UNKNOWN_TYPE },
    { "-1", PEERCAM_PROTOCOL_ERROR_UNKNOWN_TYPE },
    { "51-[\"x\",{\"_placeholder\":true,\"num\":0}]", PEERCAM_PROTOCOL_ERROR_BINARY_UNSUPPORTED },
    { "61-0[]", PEERCAM_PROTOCOL_ERROR_BINARY_UNSUPPORTED },
    { "2", PEERCAM_PROTOCOL_ERROR_MALFORMED },               /* event without data */
    { "2[]", PEERCAM_PROTOCOL_ERROR_MALFORMED },             /* no event name */
    { "2{\"a\":1}", PEERCAM_PROTOCOL_ERROR_MALFORMED },
    { "2\"x\"", PEERCAM_PROTOCOL_ERROR_MALFORMED },
    { "3[]", PEERCAM_PROTOCOL_ERROR_MALFORMED },             /* ack without id */
    { "31", PEERCAM_PROTOCOL_ERROR_MALFORMED },
    { "31{}", PEERCAM_PROTOCOL_ERROR_MALFORMED },
    { "0[]", PEERCAM_PROTOCOL_ERROR_MALFORMED },             /* auth not an object */
    { "0\"x\"", PEERCAM_PROTOCOL_ERROR_MALFORMED },
    { "01{}", PEERCAM_PROTOCOL_ERROR_MALFORMED },            /* connect with id */
    { "1[]", PEERCAM_PROTOCOL_ERROR_MALFORMED },
    { "11", PEERCAM_PROTOCOL_ERROR_MALFORMED },
    { "4", PEERCAM_PROTOCOL_ERROR_MALFORMED },
    { "4[]", PEERCAM_PROTOCOL_ERROR_MALFORMED },
    { "41{}", PEERCAM_PROTOCOL_ERROR_MALFORMED },
    { "2/a\x1e,[\"x\"]", PEERCAM_PROTOCOL_ERROR_MALFORMED },  /* control char in namespace */
    { "22147483648[\"x\"]", PEERCAM_PROTOCOL_ERROR_ACK_ID },
    { "299999999999999999999999999999[\"x\"]", PEERCAM_PROTOCOL_ERROR_ACK_ID },
    { "2[\"x\"", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"x\"]]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"x\"] x", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"x\",]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"x\",01]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2['x']", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"x\",NaN]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"x\",Infinity]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"x\",1e999]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"x\",-1e999]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"x\",1.]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"x\",.5]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"x\",1e]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"x\",tru]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"x\",undefined]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"x\" /* c */]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"a\tb\"]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },   /* raw control char */
    { "2[\"a\x1e" "b\"]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"\\x41\"]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"\\udc00\"]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },          /* lone low surrogate */
    { "2[\"\\ud83dx\"]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },         /* unpaired high */
    { "2[\"\\ud83d\\u0041\"]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"x\",9223372036854775808]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },  /* beyond int64 */
    { "2[\"x\",-9223372036854775809]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"\\u12\"]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[\"\\", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[{\"a\"}]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[{1:2}]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2[{\"a\":1,}]", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "0{\"token\":}", PEERCAM_PROTOCOL_ERROR_INVALID_JSON },
    { "2\xff[]", PEERCAM_PROTOCOL_ERROR_INVALID_UTF8 },
    { "2[\"\xed\xa0\x80\"]", PEERCAM_PROTOCOL_ERROR_INVALID_UTF8 },  /* UTF-16 surrogate */
    { "2[\"\xc0\xaf\"]", PEERCAM_PROTOCOL_ERROR_INVALID_UTF8 },      /* overlong */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PeercamSioPacket) packet = peercam_sio_packet_decode (cases[i].data, strlen (cases[i].data), &error);

      PeercamSioEventPeek peek;

      if (packet != NULL || !g_error_matches (error, PEERCAM_PROTOCOL_ERROR, cases[i].code))
        g_error ("case %u (%s): expected error %d, got %s", i, cases[i].data, cases[i].code,
                 error ? error->message : "success");
      g_assert_nonnull (error->message);
      g_assert_cmpstr (error->message, !=, "");
      /* The relay fast path must never accept what decoding refuses. */
      if (peercam_sio_event_peek (cases[i].data, strlen (cases[i].data), &peek))
        g_error ("case %u (%s): peek accepted a refused packet", i, cases[i].data);
    }

  /* Embedded NUL. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(PeercamSioPacket) packet = peercam_sio_packet_decode ("2[\"a\0\"]", 6, &error);

    g_assert_null (packet);
    g_assert_error (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_INVALID_UTF8);
  }
}

static void
test_sio_event_peek (void)
{
  static const struct {
    const char        *data;
    gint64             id;
    const char        *event;
    PeercamSioArgKind  arg;
    gboolean           type_is_string;
  } ok[] = {
    { "2[\"signal\",{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}]", -1, "signal", PEERCAM_SIO_ARG_OBJECT, TRUE },
    { "27[\"signal\",{\"sdp\":\"x\",\"type\":\"\"}]", 7, "signal", PEERCAM_SIO_ARG_OBJECT, TRUE },
    { "2[\"signal\",{\"type\":1}]", -1, "signal", PEERCAM_SIO_ARG_OBJECT, FALSE },
    { "2[\"signal\",{\"type\":null}]", -1, "signal", PEERCAM_SIO_ARG_OBJECT, FALSE },
    { "2[\"signal\",{\"types\":\"x\",\"o\":{\"type\":\"x\"}}]", -1, "signal", PEERCAM_SIO_ARG_OBJECT, FALSE },
    { "2[\"ice\",{\"candidate\":\"candidate:1 1 udp 1 ::1 9 typ host\",\"sdpMLineIndex\":0}]",
      -1, "ice", PEERCAM_SIO_ARG_OBJECT, FALSE },
    { "2 [ \"ice\" , { } , 1.5e3 , [ true , null ] ] \n", -1, "ice", PEERCAM_SIO_ARG_OBJECT, FALSE },
    { "2[\"bye\"]", -1, "bye", PEERCAM_SIO_ARG_NONE, FALSE },
    { "22147483647[\"bye\",\"id\"]", G_MAXINT32, "bye", PEERCAM_SIO_ARG_STRING, FALSE },
    { "2[\"bye\",[]]", -1, "bye", PEERCAM_SIO_ARG_ARRAY, FALSE },
    { "2[\"bye\",-0.5]", -1, "bye", PEERCAM_SIO_ARG_OTHER, FALSE },
    { "2[\"caf\xc3\xa9 \xf0\x9f\x93\xb7\",\"\\ud83d\\udcf7\"]", -1, "caf\xc3\xa9 \xf0\x9f\x93\xb7", PEERCAM_SIO_ARG_STRING, FALSE },
    /* U+0000 is a character: relayed like any other (as the stock server does). */
    { "2[\"signal\",{\"type\":\"a\\u0000\",\"sdp\":\"\\u0000\"}]", -1, "signal", PEERCAM_SIO_ARG_OBJECT, TRUE },
    { "2[\"bye\",\"\\u0000\"]", -1, "bye", PEERCAM_SIO_ARG_STRING, FALSE },
    /* Addressed (issue 15): a routing object after the payload. */
    { "2[\"signal\",{\"type\":\"offer\"},{\"to\":\"abc\"}]", -1, "signal", PEERCAM_SIO_ARG_OBJECT, TRUE },
    { "2[\"bye\",{\"to\":\"abc\"}]", -1, "bye", PEERCAM_SIO_ARG_OBJECT, FALSE },
  };
  /* Valid packets the fast path leaves to peercam_sio_packet_decode(). */
  static const char *const unanswered[] = {
    "2/,[\"signal\",{\"type\":\"x\"}]",           /* namespace */
    "2/admin,[\"signal\",{\"type\":\"x\"}]",
    "2[\"sig\\u006eal\",{\"type\":\"x\"}]",      /* escaped event name */
    "2[\"signal\",{\"typ\\u0065\":\"x\"}]",      /* escaped key */
    "2[\"signal\",{\"type\":\"x\",\"type\":1}]",  /* duplicate "type" */
    "2[1]",
    "0{}",
    "31[\"x\"]",
    "4\"oops\"",
  };

  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autoptr(PeercamSioPacket) packet = decode_ok (ok[i].data);
      PeercamSioEventPeek peek;

      if (!peercam_sio_event_peek (ok[i].data, strlen (ok[i].data), &peek))
        g_error ("case %u (%s): not peeked", i, ok[i].data);
      g_assert_cmpint (peek.id, ==, ok[i].id);
      g_assert_cmpint (peek.id, ==, packet->id);
      g_assert_cmpmem (peek.event, peek.event_len, ok[i].event, strlen (ok[i].event));
      g_assert_cmpstr (peercam_sio_packet_get_event (packet, NULL), ==, ok[i].event);
      g_assert_cmpint (peek.arg, ==, ok[i].arg);
      g_assert_cmpint (peek.arg == PEERCAM_SIO_ARG_NONE, ==, peercam_sio_packet_get_n_args (packet) == 0);
      /* The routing object of addressed messages is an extra argument. */
      g_assert_cmpuint (peek.n_args, ==, peercam_sio_packet_get_n_args (packet));
      if (peek.arg == PEERCAM_SIO_ARG_OBJECT)
        g_assert_cmpint (peek.arg_type_is_string, ==, ok[i].type_is_string);
    }

  for (guint i = 0; i < G_N_ELEMENTS (unanswered); i++)
    {
      g_autoptr(PeercamSioPacket) packet = decode_ok (unanswered[i]);
      PeercamSioEventPeek peek;

      if (peercam_sio_event_peek (unanswered[i], strlen (unanswered[i]), &peek))
        g_error ("case %u (%s): peeked", i, unanswered[i]);
    }

  /* Not NUL-terminated: the peek must stay inside the given length. */
  {
    const char *text = "2[\"bye\"]]]]";
    PeercamSioEventPeek peek;

    g_assert_true (peercam_sio_event_peek (text, 8, &peek));
    g_assert_false (peercam_sio_event_peek (text, 7, &peek));
    g_assert_false (peercam_sio_event_peek ("2[\"a\0\"]", 6, &peek));
  }
}

static void
test_sio_deep_and_huge (void)
{
  g_autoptr(GString) deep = g_string_new ("2[\"x\",");
  g_autoptr(GString) ok = g_string_new ("2[\"x\",");
  g_autoptr(GString) long_id = g_string_new ("2");
  g_autoptr(GString) big_number = g_string_new ("2[\"x\",");
  g_autoptr(GError) error = NULL;
  g_autoptr(PeercamSioPacket) packet = NULL;

  /* 100k nesting levels must not reach json-glib's recursive parser. */
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, i % 2 ? '[' : '{');
  packet = peercam_sio_packet_decode (deep->str, deep->len, &error);
  g_assert_null (packet);
  g_assert_error (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_INVALID_JSON);
  g_clear_error (&error);

  /* The limit itself is fine: the outer array is level 1. */
  for (guint i = 0; i < PEERCAM_SIO_MAX_DEPTH - 1; i++)
    g_string_append_c (ok, '[');
  for (guint i = 0; i < PEERCAM_SIO_MAX_DEPTH - 1; i++)
    g_string_append_c (ok, ']');
  g_string_append_c (ok, ']');
  packet = peercam_sio_packet_decode (ok->str, ok->len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (packet);
  g_clear_pointer (&packet, peercam_sio_packet_free);

  /* One more level is refused. */
  g_string_insert_c (ok, 6, '[');
  g_string_insert_c (ok, ok->len - 1, ']');
  packet = peercam_sio_packet_decode (ok->str, ok->len, &error);
  g_assert_null (packet);
  g_assert_error (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_INVALID_JSON);
  g_clear_error (&error);

  for (guint i = 0; i < 10000; i++)
    g_string_append_c (long_id, '9');
  g_string_append (long_id, "[\"x\"]");
  packet = peercam_sio_packet_decode (long_id->str, long_id->len, &error);
  g_assert_null (packet);
  g_assert_error (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_ACK_ID);
  g_clear_error (&error);

  /* A 400-digit integer is valid JSON; it must decode to something that
   * encodes again, or be refused — never crash. */
  for (guint i = 0; i < 400; i++)
    g_string_append_c (big_number, '7');
  g_string_append_c (big_number, ']');
  packet = peercam_sio_packet_decode (big_number->str, big_number->len, &error);
  if (packet != NULL)
    {
      g_autofree char *text = peercam_sio_packet_encode (packet);
      g_autoptr(PeercamSioPacket) again = peercam_sio_packet_decode (text, strlen (text), NULL);

      g_assert_nonnull (again);
    }
  else
    g_assert_error (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_INVALID_JSON);
}

static void
test_boxed (void)
{
  g_autoptr(PeercamSioPacket) packet = decode_ok ("2/a,3[\"x\",{\"k\":[1,2]}]");
  g_autoptr(PeercamEioPacket) eio = peercam_eio_packet_new (PEERCAM_EIO_MESSAGE, "2[\"x\"]");
  PeercamSioPacket *copy = g_boxed_copy (PEERCAM_TYPE_SIO_PACKET, packet);
  PeercamEioPacket *eio_copy = g_boxed_copy (PEERCAM_TYPE_EIO_PACKET, eio);

  g_assert_true (peercam_sio_packet_equal (packet, copy));
  g_assert_true (copy->data != packet->data);
  g_assert_cmpstr (eio_copy->payload, ==, "2[\"x\"]");
  g_boxed_free (PEERCAM_TYPE_SIO_PACKET, copy);
  g_boxed_free (PEERCAM_TYPE_EIO_PACKET, eio_copy);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/eio/every-type", test_eio_every_type);
  g_test_add_func ("/eio/errors", test_eio_errors);
  g_test_add_func ("/eio/payload", test_eio_payload);
  g_test_add_func ("/eio/payload-errors", test_eio_payload_errors);
  g_test_add_func ("/sio/connect", test_sio_connect);
  g_test_add_func ("/sio/disconnect", test_sio_disconnect);
  g_test_add_func ("/sio/event", test_sio_event);
  g_test_add_func ("/sio/event-name", test_sio_event_name);
  g_test_add_func ("/sio/ack", test_sio_ack);
  g_test_add_func ("/sio/connect-error", test_sio_connect_error);
  g_test_add_func ("/sio/builders", test_sio_builders);
  g_test_add_func ("/sio/unicode", test_sio_unicode);
  g_test_add_func ("/sio/nul", test_sio_nul);
  g_test_add_func ("/sio/garbage", test_sio_garbage);
  g_test_add_func ("/sio/deep-and-huge", test_sio_deep_and_huge);
  g_test_add_func ("/sio/event-peek", test_sio_event_peek);
  g_test_add_func ("/sio/boxed", test_boxed);

  return g_test_run ();
}
