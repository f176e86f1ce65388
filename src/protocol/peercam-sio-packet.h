/* peercam-sio-packet.h — Engine.IO 4 / Socket.IO 5 text codec (pure: GLib + json-glib)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Engine.IO packets are one type digit followed by a payload:
 *   0 open, 1 close, 2 ping, 3 pong, 4 message, 5 upgrade, 6 noop.
 * HTTP long-polling bodies join several packets with 0x1e (record separator).
 *
 * A Socket.IO packet travels as the payload of an Engine.IO message:
 *   <type>[<nsp>,][<ack id>][<json>]      e.g. 2/admin,17["x"]
 *   0 CONNECT (optional auth object), 1 DISCONNECT, 2 EVENT (array, first
 *   element the event name), 3 ACK (array, needs an id), 4 CONNECT_ERROR
 *   ({"message":…} or a string).
 *
 * Only text is supported: binary Engine.IO packets ("b…") and Socket.IO
 * BINARY_EVENT / BINARY_ACK (5/6) are refused with
 * PEERCAM_PROTOCOL_ERROR_BINARY_UNSUPPORTED.
 *
 * Every decoder accepts arbitrary bytes (not NUL-terminated, possibly
 * invalid UTF-8) and either succeeds or returns a PEERCAM_PROTOCOL_ERROR;
 * it never aborts. JSON nesting is limited to PEERCAM_SIO_MAX_DEPTH and ack
 * ids to 0…PEERCAM_SIO_MAX_ACK_ID.
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define PEERCAM_PROTOCOL_ERROR (peercam_protocol_error_quark ())

typedef enum {
  PEERCAM_PROTOCOL_ERROR_EMPTY,               /* zero-length packet */
  PEERCAM_PROTOCOL_ERROR_INVALID_UTF8,        /* not UTF-8, or contains NUL */
  PEERCAM_PROTOCOL_ERROR_UNKNOWN_TYPE,        /* type digit out of range */
  PEERCAM_PROTOCOL_ERROR_BINARY_UNSUPPORTED,  /* "b…" or Socket.IO 5/6 */
  PEERCAM_PROTOCOL_ERROR_MALFORMED,           /* structure wrong for the type */
  PEERCAM_PROTOCOL_ERROR_INVALID_JSON,        /* JSON syntax or too deep */
  PEERCAM_PROTOCOL_ERROR_ACK_ID,              /* ack id out of range */
  PEERCAM_PROTOCOL_ERROR_INVALID_EVENT,       /* event name missing or not a string */
} PeercamProtocolError;

/* JSON deeper than this is refused before json-glib (which recurses) sees it. */
#define PEERCAM_SIO_MAX_DEPTH 32
#define PEERCAM_SIO_MAX_ACK_ID G_MAXINT32

GQuark peercam_protocol_error_quark (void);

/* --- Engine.IO ----------------------------------------------------------- */

typedef enum {
  PEERCAM_EIO_OPEN    = 0,
  PEERCAM_EIO_CLOSE   = 1,
  PEERCAM_EIO_PING    = 2,
  PEERCAM_EIO_PONG    = 3,
  PEERCAM_EIO_MESSAGE = 4,
  PEERCAM_EIO_UPGRADE = 5,
  PEERCAM_EIO_NOOP    = 6,
} PeercamEioType;

#define PEERCAM_EIO_RECORD_SEPARATOR '\x1e'

typedef struct {
  PeercamEioType  type;
  char           *payload;  /* never NULL; "" when absent */
} PeercamEioPacket;

GType             peercam_eio_packet_get_type (void) G_GNUC_CONST;
#define PEERCAM_TYPE_EIO_PACKET (peercam_eio_packet_get_type ())
PeercamEioPacket *peercam_eio_packet_new      (PeercamEioType          type,
                                               const char             *payload);
PeercamEioPacket *peercam_eio_packet_copy     (const PeercamEioPacket *packet);
void              peercam_eio_packet_free     (PeercamEioPacket       *packet);

/* Decodes one packet; @payload (out, transfer full, optional) is the text
 * after the type digit. */
gboolean   peercam_eio_decode          (const char        *data,
                                        gsize              len,
                                        PeercamEioType    *type,
                                        char             **payload,
                                        GError           **error);
/* @payload may be NULL (no payload). */
char      *peercam_eio_encode          (PeercamEioType     type,
                                        const char        *payload);
/* Splits a polling body on 0x1e. Returns (element-type PeercamEioPacket)
 * with a free func, or NULL and @error if any packet is invalid. */
GPtrArray *peercam_eio_payload_decode  (const char        *data,
                                        gsize              len,
                                        GError           **error);
/* Joins (element-type PeercamEioPacket) with 0x1e. Payloads must not
 * contain 0x1e; Socket.IO payloads from peercam_sio_packet_encode() never do. */
char      *peercam_eio_payload_encode  (GPtrArray         *packets);

/* --- Socket.IO ----------------------------------------------------------- */

typedef enum {
  PEERCAM_SIO_CONNECT       = 0,
  PEERCAM_SIO_DISCONNECT    = 1,
  PEERCAM_SIO_EVENT         = 2,
  PEERCAM_SIO_ACK           = 3,
  PEERCAM_SIO_CONNECT_ERROR = 4,
  PEERCAM_SIO_BINARY_EVENT  = 5,  /* refused */
  PEERCAM_SIO_BINARY_ACK    = 6,  /* refused */
} PeercamSioType;

typedef struct {
  PeercamSioType  type;
  char           *nsp;   /* never NULL; "/" by default */
  gint64          id;    /* ack id, -1 when none */
  JsonNode       *data;  /* NULL when absent */
} PeercamSioPacket;

GType             peercam_sio_packet_get_type    (void) G_GNUC_CONST;
#define PEERCAM_TYPE_SIO_PACKET (peercam_sio_packet_get_type ())

/* @nsp NULL means "/"; @data is consumed (transfer full), may be NULL. */
PeercamSioPacket *peercam_sio_packet_new           (PeercamSioType          type,
                                                    const char             *nsp,
                                                    gint64                  id,
                                                    JsonNode               *data);
/* EVENT [event, args…]; the NULL-terminated JsonNode* args are consumed
 * (@first_arg NULL: no arguments). */
PeercamSioPacket *peercam_sio_packet_new_event     (const char             *nsp,
                                                    const char             *event,
                                                    JsonNode               *first_arg,
                                                    ...);
/* ACK with @id and NULL-terminated consumed args. */
PeercamSioPacket *peercam_sio_packet_new_ack       (const char             *nsp,
                                                    gint64                  id,
                                                    JsonNode               *first_arg,
                                                    ...);
/* CONNECT_ERROR {"message": @message}. */
PeercamSioPacket *peercam_sio_packet_new_connect_error (const char         *nsp,
                                                        const char         *message);
PeercamSioPacket *peercam_sio_packet_copy          (const PeercamSioPacket *packet);
void              peercam_sio_packet_free          (PeercamSioPacket       *packet);

PeercamSioPacket *peercam_sio_packet_decode        (const char             *data,
                                                    gsize                   len,
                                                    GError                **error);
/* The Socket.IO text (without the Engine.IO "4" prefix). */
char             *peercam_sio_packet_encode        (const PeercamSioPacket *packet);

/* EVENT helpers. The event name is element 0 and must be a string. */
const char       *peercam_sio_packet_get_event     (const PeercamSioPacket *packet,
                                                    GError                **error);
/* Arguments after the event name (EVENT) or all elements (ACK). */
guint             peercam_sio_packet_get_n_args    (const PeercamSioPacket *packet);
/* (transfer none) or NULL when out of range. */
JsonNode         *peercam_sio_packet_get_arg       (const PeercamSioPacket *packet,
                                                    guint                   index);
/* Convenience for an argument that must be a string; NULL otherwise. */
const char       *peercam_sio_packet_get_string_arg (const PeercamSioPacket *packet,
                                                     guint                   index);

/* Structural equality (type, nsp, id, data by json_node_equal). */
gboolean          peercam_sio_packet_equal         (const PeercamSioPacket *a,
                                                    const PeercamSioPacket *b);

/* --- relay fast path ------------------------------------------------------ */

typedef enum {
  PEERCAM_SIO_ARG_NONE,    /* no argument after the event name */
  PEERCAM_SIO_ARG_OBJECT,
  PEERCAM_SIO_ARG_ARRAY,
  PEERCAM_SIO_ARG_STRING,
  PEERCAM_SIO_ARG_OTHER,   /* number, true, false, null */
} PeercamSioArgKind;

typedef struct {
  gint64             id;                  /* ack id, -1 when none */
  const char        *event;               /* points into the packet; not NUL-terminated */
  gsize              event_len;
  PeercamSioArgKind  arg;                 /* the first argument */
  gboolean           arg_type_is_string;  /* object whose member "type" is a string */
  guint              n_args;              /* arguments after the event name */
} PeercamSioEventPeek;

/* Looks at a Socket.IO EVENT on "/" (no namespace prefix) without building
 * a JSON tree, so a relayed packet can be forwarded as it came.
 *
 * TRUE means peercam_sio_packet_decode() would succeed on the same bytes
 * (they are valid UTF-8 without NUL, and the JSON passes the same strict
 * checks) and yield an EVENT on "/" that @peek describes. FALSE only means
 * "not answered here" (an error, a namespace, escapes in the event name or
 * in a key of the first argument, duplicate "type" keys…): decode the
 * packet with peercam_sio_packet_decode() for the verdict. No UTF-8
 * validation is needed beforehand; it is done on the way. */
gboolean          peercam_sio_event_peek           (const char             *data,
                                                    gsize                   len,
                                                    PeercamSioEventPeek    *peek);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamEioPacket, peercam_eio_packet_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamSioPacket, peercam_sio_packet_free)

G_END_DECLS
