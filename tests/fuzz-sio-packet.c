/* fuzz-sio-packet.c — libFuzzer target for the Engine.IO and Socket.IO decoders
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Any input must decode or fail cleanly, and anything that decodes must
 * encode to text that decodes to the same packet. The relay fast path may
 * only accept what the full decoder accepts, and must describe it the same.
 */
#include "peercam-sio-packet.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
check_sio (const char *text, gsize len)
{
  g_autoptr(PeercamSioPacket) packet = peercam_sio_packet_decode (text, len, NULL);
  g_autoptr(PeercamSioPacket) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *encoded = NULL;

  if (packet == NULL)
    return;

  encoded = peercam_sio_packet_encode (packet);
  g_assert_nonnull (encoded);
  /* Relayed verbatim inside polling payloads: must never hold a separator. */
  g_assert_null (strchr (encoded, PEERCAM_EIO_RECORD_SEPARATOR));
  again = peercam_sio_packet_decode (encoded, strlen (encoded), &error);
  g_assert_no_error (error);
  if (!peercam_sio_packet_equal (packet, again))
    g_error ("round trip changed the packet: %.*s → %s", (int) len, text, encoded);

  /* The event helpers must cope with any decoded packet. */
  if (packet->type == PEERCAM_SIO_EVENT)
    {
      const char *event = peercam_sio_packet_get_event (packet, NULL);
      guint n = peercam_sio_packet_get_n_args (packet);

      (void) event;
      for (guint i = 0; i <= n; i++)
        (void) peercam_sio_packet_get_string_arg (packet, i);
    }
}

static void
check_peek (const char *text, gsize len)
{
  PeercamSioEventPeek peek;
  g_autoptr(PeercamSioPacket) packet = NULL;
  JsonNode *arg;

  if (!peercam_sio_event_peek (text, len, &peek))
    return;

  packet = peercam_sio_packet_decode (text, len, NULL);
  if (packet == NULL)
    g_error ("peek accepted what decode refuses: %.*s", (int) len, text);
  g_assert_cmpint (packet->type, ==, PEERCAM_SIO_EVENT);
  g_assert_cmpstr (packet->nsp, ==, "/");
  g_assert_cmpint (packet->id, ==, peek.id);
  g_assert_cmpmem (peercam_sio_packet_get_event (packet, NULL),
                   strlen (peercam_sio_packet_get_event (packet, NULL)),
                   peek.event, peek.event_len);

  g_assert_cmpuint (peek.n_args, ==, peercam_sio_packet_get_n_args (packet));
  arg = peercam_sio_packet_get_arg (packet, 0);
  switch (peek.arg)
    {
    case PEERCAM_SIO_ARG_NONE:
      g_assert_null (arg);
      break;
    case PEERCAM_SIO_ARG_OBJECT:
      g_assert_true (arg != NULL && JSON_NODE_HOLDS_OBJECT (arg));
      g_assert_cmpint (peek.arg_type_is_string, ==,
                       json_object_has_member (json_node_get_object (arg), "type") &&
                       JSON_NODE_HOLDS_VALUE (json_object_get_member (json_node_get_object (arg), "type")) &&
                       json_node_get_value_type (json_object_get_member (json_node_get_object (arg), "type")) == G_TYPE_STRING);
      break;
    case PEERCAM_SIO_ARG_ARRAY:
      g_assert_true (arg != NULL && JSON_NODE_HOLDS_ARRAY (arg));
      break;
    case PEERCAM_SIO_ARG_STRING:
      g_assert_true (arg != NULL && JSON_NODE_HOLDS_VALUE (arg) &&
                     json_node_get_value_type (arg) == G_TYPE_STRING);
      break;
    case PEERCAM_SIO_ARG_OTHER:
      g_assert_true (arg != NULL && (JSON_NODE_HOLDS_NULL (arg) ||
                     (JSON_NODE_HOLDS_VALUE (arg) && json_node_get_value_type (arg) != G_TYPE_STRING)));
      break;
    default:
      g_assert_not_reached ();
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  const char *text = (const char *) data;
  g_autoptr(GPtrArray) packets = NULL;
  PeercamEioType type;
  g_autofree char *payload = NULL;

  if (peercam_eio_decode (text, size, &type, &payload, NULL))
    {
      g_autofree char *encoded = peercam_eio_encode (type, payload);

      g_assert_cmpmem (encoded, strlen (encoded), text, size);
    }

  packets = peercam_eio_payload_decode (text, size, NULL);
  if (packets != NULL)
    {
      g_autofree char *encoded = peercam_eio_payload_encode (packets);
      g_autoptr(GPtrArray) again = peercam_eio_payload_decode (encoded, strlen (encoded), NULL);

      g_assert_nonnull (again);
      g_assert_cmpuint (again->len, ==, packets->len);
      for (guint i = 0; i < packets->len; i++)
        {
          PeercamEioPacket *a = g_ptr_array_index (packets, i);
          PeercamEioPacket *b = g_ptr_array_index (again, i);

          g_assert_cmpint (a->type, ==, b->type);
          g_assert_cmpstr (a->payload, ==, b->payload);
          if (a->type == PEERCAM_EIO_MESSAGE)
            check_sio (a->payload, strlen (a->payload));
        }
    }

  check_sio (text, size);
  check_peek (text, size);
  return 0;
}
