/* peercam-sio-packet.c — Engine.IO 4 / Socket.IO 5 text codec
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-sio-packet.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (peercam-protocol-error-quark, peercam_protocol_error)

G_DEFINE_BOXED_TYPE (PeercamEioPacket, peercam_eio_packet,
                     peercam_eio_packet_copy, peercam_eio_packet_free)
G_DEFINE_BOXED_TYPE (PeercamSioPacket, peercam_sio_packet,
                     peercam_sio_packet_copy, peercam_sio_packet_free)

/* --- strict JSON validation ------------------------------------------------
 *
 * json-glib 1.6 parses recursively (deep input overflows the stack) and is
 * lenient in places, so input is checked against RFC 8259 first. This also
 * guarantees that a valid packet never contains a raw 0x1e, so a packet can
 * be relayed verbatim inside a polling payload.
 */

typedef struct {
  const char *p;
  const char *end;
  guint depth;
  /* Reject numbers that overflow a double here: the relay fast path has no
   * json-glib tree for json_node_is_finite() to look at. */
  gboolean check_finite;
} JsonCursor;

/* Bytes that may appear in a JSON string unescaped and need no further
 * look: printable ASCII except '"' and '\\'. Everything else (quote,
 * backslash, control characters, UTF-8 lead bytes) leaves the fast loop. */
static const guint8 json_plain[256] = {
#define R4(x) x, x, x, x
#define R16(x) R4 (x), R4 (x), R4 (x), R4 (x)
  R16 (0), R16 (0),                                        /* 0x00-0x1f */
  1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,          /* 0x20-0x2f: '"' */
  R16 (1), R16 (1),                                        /* 0x30-0x4f */
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,          /* 0x50-0x5f: '\\' */
  R16 (1), R16 (1),                                        /* 0x60-0x7f */
  R16 (0), R16 (0), R16 (0), R16 (0),                      /* 0x80-0xbf */
  R16 (0), R16 (0), R16 (0), R16 (0),                      /* 0xc0-0xff */
#undef R16
#undef R4
};

/* Length of the UTF-8 sequence at @p if it is one g_utf8_validate() accepts
 * (shortest form, no surrogates, at most U+10FFFF), else 0. Non-ASCII is
 * only legal inside JSON strings, so checking it there validates a whole
 * packet without a separate pass. */
static gsize
utf8_sequence (const guchar *p, const guchar *end)
{
  gunichar ch;
  gsize n;

  if (p[0] < 0xc2)
    return 0;                       /* ASCII handled by caller; stray continuation; overlong 2-byte */
  else if (p[0] < 0xe0)
    n = 2, ch = p[0] & 0x1f;
  else if (p[0] < 0xf0)
    n = 3, ch = p[0] & 0x0f;
  else if (p[0] < 0xf5)
    n = 4, ch = p[0] & 0x07;
  else
    return 0;
  if ((gsize) (end - p) < n)
    return 0;
  for (gsize i = 1; i < n; i++)
    {
      if ((p[i] & 0xc0) != 0x80)
        return 0;
      ch = (ch << 6) | (p[i] & 0x3f);
    }
  if ((n == 3 && (ch < 0x800 || (ch >= 0xd800 && ch <= 0xdfff)))
      || (n == 4 && (ch < 0x10000 || ch > 0x10ffff)))
    return 0;
  return n;
}

static gboolean json_value (JsonCursor *c);

static void
json_ws (JsonCursor *c)
{
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static gboolean
json_literal (JsonCursor *c, const char *word)
{
  gsize n = strlen (word);

  if ((gsize) (c->end - c->p) < n || memcmp (c->p, word, n) != 0)
    return FALSE;
  c->p += n;
  return TRUE;
}

static gboolean
json_hex4 (JsonCursor *c, gunichar *unit)
{
  *unit = 0;
  for (guint i = 0; i < 4; i++, c->p++)
    {
      if (c->p >= c->end || !g_ascii_isxdigit (*c->p))
        return FALSE;
      *unit = (*unit << 4) | (gunichar) g_ascii_xdigit_value (*c->p);
    }
  return TRUE;
}

/* @escaped (optional) is set when the string holds a backslash escape, i.e.
 * its raw bytes differ from its value. */
static gboolean
json_string_full (JsonCursor *c, gboolean *escaped)
{
  c->p++;  /* opening quote */
  while (c->p < c->end)
    {
      const guchar *u = (const guchar *) c->p;
      const guchar *uend = (const guchar *) c->end;
      guchar ch;

      /* SDP and ICE payloads are long runs of printable ASCII: skip them a
       * word at a time, stopping at any word that may hold a quote, a
       * backslash, a control character or a non-ASCII byte (the usual
       * has-zero-byte / has-byte-less-than tricks: never a false negative). */
      while (uend - u >= 8)
        {
          const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
          const guint64 highs = G_GUINT64_CONSTANT (0x8080808080808080);
          guint64 w, quote, backslash;

          memcpy (&w, u, sizeof w);
          quote = w ^ (ones * '"');
          backslash = w ^ (ones * '\\');
          if ((((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote)
               | ((backslash - ones) & ~backslash) | w) & highs)
            break;
          u += 8;
        }
      while (u < uend && json_plain[*u])
        u++;
      c->p = (const char *) u;
      if (u >= uend)
        return FALSE;

      ch = *u;
      if (ch >= 0x80)
        {
          gsize n = utf8_sequence (u, uend);

          if (n == 0)
            return FALSE;
          c->p += n;
          continue;
        }
      c->p++;
      if (ch == '"')
        return TRUE;
      if (ch < 0x20)
        return FALSE;
      if (ch == '\\')
        {
          if (escaped != NULL)
            *escaped = TRUE;
          if (c->p >= c->end)
            return FALSE;
          ch = (guchar) *c->p++;
          if (ch == 'u')
            {
              gunichar unit;

              if (!json_hex4 (c, &unit))
                return FALSE;
              /* Unpaired surrogates are no characters: refuse them.
               * U+0000 is one (the stock server relays it). */
              if (unit >= 0xdc00 && unit <= 0xdfff)
                return FALSE;
              if (unit >= 0xd800 && unit <= 0xdbff)
                {
                  if (c->end - c->p < 2 || c->p[0] != '\\' || c->p[1] != 'u')
                    return FALSE;
                  c->p += 2;
                  if (!json_hex4 (c, &unit) || unit < 0xdc00 || unit > 0xdfff)
                    return FALSE;
                }
            }
          else if (strchr ("\"\\/bfnrt", ch) == NULL || ch == 0)
            return FALSE;
        }
    }
  return FALSE;
}

static gboolean
json_string (JsonCursor *c)
{
  return json_string_full (c, NULL);
}

static gboolean
json_digits (JsonCursor *c)
{
  const char *start = c->p;

  while (c->p < c->end && g_ascii_isdigit (*c->p))
    c->p++;
  return c->p > start;
}

static gboolean
json_number (JsonCursor *c)
{
  const char *start = c->p;
  gboolean integer = TRUE;

  if (*c->p == '-')
    c->p++;
  if (c->p < c->end && *c->p == '0')
    c->p++;
  else if (!json_digits (c))
    return FALSE;
  if (c->p < c->end && *c->p == '.')
    {
      integer = FALSE;
      c->p++;
      if (!json_digits (c))
        return FALSE;
    }
  if (c->p < c->end && (*c->p == 'e' || *c->p == 'E'))
    {
      integer = FALSE;
      c->p++;
      if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
        c->p++;
      if (!json_digits (c))
        return FALSE;
    }

  /* json-glib silently wraps integers beyond 64 bits. */
  if (integer && c->p - start > 18)
    {
      char buf[24];
      gint64 value;

      if (c->p - start > 20)
        return FALSE;
      memcpy (buf, start, (gsize) (c->p - start));
      buf[c->p - start] = '\0';
      if (!g_ascii_string_to_signed (buf, 10, G_MININT64, G_MAXINT64, &value, NULL))
        return FALSE;
    }

  /* Only a fraction or exponent can make a double overflow to ±inf; such
   * numbers are rare in signaling, so parsing them again costs nothing. */
  if (!integer && c->check_finite)
    {
      g_autofree char *copy = g_strndup (start, (gsize) (c->p - start));

      if (!isfinite (g_ascii_strtod (copy, NULL)))
        return FALSE;
    }
  return TRUE;
}

static gboolean
json_container (JsonCursor *c, char close, gboolean object)
{
  if (++c->depth > PEERCAM_SIO_MAX_DEPTH)
    return FALSE;
  c->p++;
  json_ws (c);
  if (c->p < c->end && *c->p == close)
    {
      c->p++;
      c->depth--;
      return TRUE;
    }
  for (;;)
    {
      if (object)
        {
          if (c->p >= c->end || *c->p != '"' || !json_string (c))
            return FALSE;
          json_ws (c);
          if (c->p >= c->end || *c->p != ':')
            return FALSE;
          c->p++;
          json_ws (c);
        }
      if (!json_value (c))
        return FALSE;
      json_ws (c);
      if (c->p >= c->end)
        return FALSE;
      if (*c->p == close)
        {
          c->p++;
          c->depth--;
          return TRUE;
        }
      if (*c->p != ',')
        return FALSE;
      c->p++;
      json_ws (c);
    }
}

/* Recursion is bounded by PEERCAM_SIO_MAX_DEPTH. */
static gboolean
json_value (JsonCursor *c)
{
  if (c->p >= c->end)
    return FALSE;
  switch (*c->p)
    {
    case '{': return json_container (c, '}', TRUE);
    case '[': return json_container (c, ']', FALSE);
    case '"': return json_string (c);
    case 't': return json_literal (c, "true");
    case 'f': return json_literal (c, "false");
    case 'n': return json_literal (c, "null");
    default:
      if (*c->p == '-' || g_ascii_isdigit (*c->p))
        return json_number (c);
      return FALSE;
    }
}

static gboolean
json_validate (const char *data, gsize len)
{
  JsonCursor c = { data, data + len, 0, FALSE };

  json_ws (&c);
  if (!json_value (&c))
    return FALSE;
  json_ws (&c);
  return c.p == c.end;
}

/* --- JSON trees -------------------------------------------------------------
 *
 * Validated text becomes a json-glib tree here rather than in JsonParser:
 * json-glib ends a string at an escaped U+0000 (its strings are C
 * strings), which would make "a\u0000b" and "a" the same room name. A
 * decoded U+0000 is kept as the two bytes C0 80 (the "modified UTF-8" of
 * Java's JNI), which no valid UTF-8 contains, so a string keeps its length
 * and json_write_string() turns it back into \u0000.
 */

static void
json_build_string (JsonCursor *c, GString *out)
{
  g_string_truncate (out, 0);
  c->p++;  /* opening quote */
  for (;;)
    {
      const char *run = c->p;
      gunichar unit;

      while (*c->p != '"' && *c->p != '\\')
        c->p++;
      g_string_append_len (out, run, c->p - run);
      if (*c->p++ == '"')
        return;
      switch (*c->p++)
        {
        case 'b': g_string_append_c (out, '\b'); break;
        case 'f': g_string_append_c (out, '\f'); break;
        case 'n': g_string_append_c (out, '\n'); break;
        case 'r': g_string_append_c (out, '\r'); break;
        case 't': g_string_append_c (out, '\t'); break;
        case 'u':
          json_hex4 (c, &unit);
          if (unit >= 0xd800 && unit <= 0xdbff)
            {
              gunichar low;

              c->p += 2;  /* validated: "\\u" and a low surrogate follow */
              json_hex4 (c, &low);
              unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
            }
          if (unit == 0)
            g_string_append_len (out, "\xc0\x80", 2);
          else
            g_string_append_unichar (out, unit);
          break;
        default:  /* '"', '\\', '/' */
          g_string_append_c (out, c->p[-1]);
        }
    }
}

/* @c holds validated JSON: only numbers can still fail (out of range). */
static JsonNode *
json_build (JsonCursor *c, GString *buf)
{
  JsonNode *node;

  json_ws (c);
  switch (*c->p)
    {
    case '{':
      {
        JsonObject *object = json_object_new ();

        c->p++;
        json_ws (c);
        while (*c->p != '}')
          {
            g_autofree char *name = NULL;
            JsonNode *member;

            json_build_string (c, buf);
            name = g_strndup (buf->str, buf->len);
            json_ws (c);
            c->p++;  /* ':' */
            member = json_build (c, buf);
            if (member == NULL)
              {
                json_object_unref (object);
                return NULL;
              }
            /* The last of duplicate members wins, as in JsonParser. */
            json_object_set_member (object, name, member);
            json_ws (c);
            if (*c->p == ',')
              c->p++;
            json_ws (c);
          }
        c->p++;
        node = json_node_init_object (json_node_alloc (), object);
        json_object_unref (object);
      }
      break;

    case '[':
      {
        JsonArray *array = json_array_new ();

        c->p++;
        json_ws (c);
        while (*c->p != ']')
          {
            JsonNode *element = json_build (c, buf);

            if (element == NULL)
              {
                json_array_unref (array);
                return NULL;
              }
            json_array_add_element (array, element);
            json_ws (c);
            if (*c->p == ',')
              c->p++;
            json_ws (c);
          }
        c->p++;
        node = json_node_init_array (json_node_alloc (), array);
        json_array_unref (array);
      }
      break;

    case '"':
      json_build_string (c, buf);
      node = json_node_init_string (json_node_alloc (), buf->str);
      break;

    case 't':
      c->p += 4;
      node = json_node_init_boolean (json_node_alloc (), TRUE);
      break;

    case 'f':
      c->p += 5;
      node = json_node_init_boolean (json_node_alloc (), FALSE);
      break;

    case 'n':
      c->p += 4;
      node = json_node_init_null (json_node_alloc ());
      break;

    default:
      {
        const char *start = c->p;
        gboolean integer = TRUE;
        g_autofree char *text = NULL;

        json_number (c);  /* validated; only moves the cursor here */
        for (const char *q = start; q < c->p; q++)
          if (*q == '.' || *q == 'e' || *q == 'E')
            integer = FALSE;
        text = g_strndup (start, (gsize) (c->p - start));
        if (integer)
          node = json_node_init_int (json_node_alloc (), g_ascii_strtoll (text, NULL, 10));
        else
          {
            /* JSON has no Inf/NaN: "1e999" must not decode into something
             * that cannot be encoded again. */
            double value = g_ascii_strtod (text, NULL);

            if (!isfinite (value))
              return NULL;
            node = json_node_init_double (json_node_alloc (), value);
          }
      }
    }
  return node;
}

static JsonNode *
json_parse (const char *data, gsize len, GError **error)
{
  JsonCursor c = { data, data + len, 0, FALSE };
  g_autoptr(GString) buf = NULL;
  JsonNode *root;

  if (!json_validate (data, len))
    {
      g_set_error (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_INVALID_JSON,
                   "Invalid JSON (or nested deeper than %d)", PEERCAM_SIO_MAX_DEPTH);
      return NULL;
    }

  buf = g_string_new (NULL);
  root = json_build (&c, buf);
  if (root == NULL)
    {
      g_set_error_literal (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_INVALID_JSON,
                           "Invalid JSON: number out of range");
      return NULL;
    }
  json_node_seal (root);
  return root;
}

/* --- JSON output ---------------------------------------------------------
 *
 * json-glib 1.6's generator writes doubles such as 2e67 as "2e+67.0", which
 * is not JSON; this writer produces strict, compact JSON that decodes back
 * to the same node. Recursion is bounded by how the node was built (decoded
 * input is at most PEERCAM_SIO_MAX_DEPTH deep).
 */

static void
json_write_string (GString *out, const char *str)
{
  static const char hex[] = "0123456789abcdef";
  const char *run = str;

  g_string_append_c (out, '"');
  for (const char *p = str; *p; p++)
    {
      guchar ch = (guchar) *p;

      if (ch == 0xc0 && (guchar) p[1] == 0x80)
        {
          /* A decoded U+0000 (see json_build_string()). */
          g_string_append_len (out, run, p - run);
          g_string_append (out, "\\u0000");
          run = ++p + 1;
          continue;
        }
      if (ch >= 0x20 && ch != '"' && ch != '\\')
        continue;
      g_string_append_len (out, run, p - run);
      run = p + 1;
      switch (ch)
        {
        case '"':  g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          g_string_append (out, "\\u00");
          g_string_append_c (out, hex[ch >> 4]);
          g_string_append_c (out, hex[ch & 0xf]);
        }
    }
  g_string_append (out, run);
  g_string_append_c (out, '"');
}

static void
json_write_double (GString *out, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* Shortest of %.15g / %.17g that reads back exactly. */
  g_ascii_formatd (buf, sizeof buf, "%.15g", value);
  if (g_ascii_strtod (buf, NULL) != value)
    g_ascii_formatd (buf, sizeof buf, "%.17g", value);
  g_string_append (out, buf);
  /* Keep it a double when read back. */
  if (strpbrk (buf, ".eE") == NULL)
    g_string_append (out, ".0");
}

static void
json_write (GString *out, JsonNode *node)
{
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;
        gboolean first = TRUE;

        g_string_append_c (out, '{');
        json_object_iter_init_ordered (&iter, json_node_get_object (node));
        while (json_object_iter_next_ordered (&iter, &name, &member))
          {
            if (!first)
              g_string_append_c (out, ',');
            first = FALSE;
            json_write_string (out, name);
            g_string_append_c (out, ':');
            json_write (out, member);
          }
        g_string_append_c (out, '}');
      }
      break;

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);
        guint n = json_array_get_length (array);

        g_string_append_c (out, '[');
        for (guint i = 0; i < n; i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            json_write (out, json_array_get_element (array, i));
          }
        g_string_append_c (out, ']');
      }
      break;

    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_INT64:
          g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
          break;
        case G_TYPE_DOUBLE:
          json_write_double (out, json_node_get_double (node));
          break;
        case G_TYPE_BOOLEAN:
          g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
          break;
        case G_TYPE_STRING:
          json_write_string (out, json_node_get_string (node));
          break;
        default:
          g_string_append (out, "null");
        }
      break;

    case JSON_NODE_NULL:
    default:
      g_string_append (out, "null");
    }
}

static gboolean
check_text (const char *data, gsize len, GError **error)
{
  if (len == 0)
    {
      g_set_error_literal (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_EMPTY,
                           "Empty packet");
      return FALSE;
    }
  /* NUL is valid UTF-8 but would silently truncate the C strings we hand out. */
  if (memchr (data, '\0', len) != NULL || !g_utf8_validate_len (data, len, NULL))
    {
      g_set_error_literal (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_INVALID_UTF8,
                           "Packet is not valid UTF-8 text");
      return FALSE;
    }
  return TRUE;
}

/* --- Engine.IO ------------------------------------------------------------ */

PeercamEioPacket *
peercam_eio_packet_new (PeercamEioType  type,
                        const char     *payload)
{
  PeercamEioPacket *packet = g_new0 (PeercamEioPacket, 1);

  packet->type = type;
  packet->payload = g_strdup (payload ? payload : "");
  return packet;
}

PeercamEioPacket *
peercam_eio_packet_copy (const PeercamEioPacket *packet)
{
  g_return_val_if_fail (packet != NULL, NULL);
  return peercam_eio_packet_new (packet->type, packet->payload);
}

void
peercam_eio_packet_free (PeercamEioPacket *packet)
{
  if (packet == NULL)
    return;
  g_free (packet->payload);
  g_free (packet);
}

gboolean
peercam_eio_decode (const char      *data,
                    gsize            len,
                    PeercamEioType  *type,
                    char           **payload,
                    GError         **error)
{
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (len > 0 && data[0] == 'b')
    {
      g_set_error_literal (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_BINARY_UNSUPPORTED,
                           "Binary Engine.IO packets are not supported");
      return FALSE;
    }
  if (!check_text (data, len, error))
    return FALSE;
  if (data[0] < '0' || data[0] > '6')
    {
      g_set_error (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_UNKNOWN_TYPE,
                   "Unknown Engine.IO packet type '%c'",
                   g_ascii_isprint (data[0]) ? data[0] : '?');
      return FALSE;
    }

  if (type != NULL)
    *type = (PeercamEioType) (data[0] - '0');
  if (payload != NULL)
    *payload = g_strndup (data + 1, len - 1);
  return TRUE;
}

char *
peercam_eio_encode (PeercamEioType  type,
                    const char     *payload)
{
  g_return_val_if_fail (type <= PEERCAM_EIO_NOOP, NULL);
  return g_strdup_printf ("%c%s", '0' + (int) type, payload ? payload : "");
}

GPtrArray *
peercam_eio_payload_decode (const char  *data,
                            gsize        len,
                            GError     **error)
{
  g_autoptr(GPtrArray) packets = NULL;
  const char *p = data;
  const char *end = data + len;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len == 0)
    {
      g_set_error_literal (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_EMPTY,
                           "Empty payload");
      return NULL;
    }

  packets = g_ptr_array_new_with_free_func ((GDestroyNotify) peercam_eio_packet_free);
  for (;;)
    {
      const char *sep = memchr (p, PEERCAM_EIO_RECORD_SEPARATOR, (gsize) (end - p));
      const char *stop = sep ? sep : end;
      PeercamEioType type;
      char *payload = NULL;
      PeercamEioPacket *packet;

      if (!peercam_eio_decode (p, (gsize) (stop - p), &type, &payload, error))
        return NULL;
      packet = g_new0 (PeercamEioPacket, 1);
      packet->type = type;
      packet->payload = payload;
      g_ptr_array_add (packets, packet);

      if (sep == NULL)
        break;
      p = sep + 1;
    }

  return g_steal_pointer (&packets);
}

char *
peercam_eio_payload_encode (GPtrArray *packets)
{
  GString *out;

  g_return_val_if_fail (packets != NULL, NULL);

  out = g_string_new (NULL);
  for (guint i = 0; i < packets->len; i++)
    {
      const PeercamEioPacket *packet = g_ptr_array_index (packets, i);

      if (i > 0)
        g_string_append_c (out, PEERCAM_EIO_RECORD_SEPARATOR);
      g_string_append_c (out, (char) ('0' + (int) packet->type));
      g_string_append (out, packet->payload);
    }
  return g_string_free (out, FALSE);
}

/* --- Socket.IO ------------------------------------------------------------ */

PeercamSioPacket *
peercam_sio_packet_new (PeercamSioType  type,
                        const char     *nsp,
                        gint64          id,
                        JsonNode       *data)
{
  PeercamSioPacket *packet = g_new0 (PeercamSioPacket, 1);

  packet->type = type;
  packet->nsp = g_strdup (nsp ? nsp : "/");
  packet->id = id < 0 ? -1 : id;
  packet->data = data;
  return packet;
}

static JsonNode *
array_from_va (const char *first_string,
               JsonNode   *first_arg,
               va_list     args)
{
  g_autoptr(JsonArray) array = json_array_new ();
  JsonNode *node;

  if (first_string != NULL)
    json_array_add_string_element (array, first_string);
  for (node = first_arg; node != NULL; node = va_arg (args, JsonNode *))
    json_array_add_element (array, node);

  return json_node_init_array (json_node_alloc (), array);
}

PeercamSioPacket *
peercam_sio_packet_new_event (const char *nsp,
                              const char *event,
                              JsonNode   *first_arg,
                              ...)
{
  JsonNode *data;
  va_list args;

  g_return_val_if_fail (event != NULL, NULL);

  va_start (args, first_arg);
  data = array_from_va (event, first_arg, args);
  va_end (args);

  return peercam_sio_packet_new (PEERCAM_SIO_EVENT, nsp, -1, data);
}

PeercamSioPacket *
peercam_sio_packet_new_ack (const char *nsp,
                            gint64      id,
                            JsonNode   *first_arg,
                            ...)
{
  JsonNode *data;
  va_list args;

  g_return_val_if_fail (id >= 0 && id <= PEERCAM_SIO_MAX_ACK_ID, NULL);

  va_start (args, first_arg);
  data = array_from_va (NULL, first_arg, args);
  va_end (args);

  return peercam_sio_packet_new (PEERCAM_SIO_ACK, nsp, id, data);
}

PeercamSioPacket *
peercam_sio_packet_new_connect_error (const char *nsp,
                                      const char *message)
{
  g_autoptr(JsonObject) object = json_object_new ();

  json_object_set_string_member (object, "message", message ? message : "");
  return peercam_sio_packet_new (PEERCAM_SIO_CONNECT_ERROR, nsp, -1,
                                 json_node_init_object (json_node_alloc (), object));
}

PeercamSioPacket *
peercam_sio_packet_copy (const PeercamSioPacket *packet)
{
  g_return_val_if_fail (packet != NULL, NULL);
  return peercam_sio_packet_new (packet->type, packet->nsp, packet->id,
                                 packet->data ? json_node_copy (packet->data) : NULL);
}

void
peercam_sio_packet_free (PeercamSioPacket *packet)
{
  if (packet == NULL)
    return;
  g_free (packet->nsp);
  g_clear_pointer (&packet->data, json_node_unref);
  g_free (packet);
}

static gboolean
set_malformed (GError **error, const char *message)
{
  g_set_error_literal (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_MALFORMED, message);
  return FALSE;
}

/* Which payloads each type may carry (mirrors socket.io-parser's isPayloadValid). */
static gboolean
check_payload (PeercamSioType type, gint64 id, JsonNode *data, GError **error)
{
  switch (type)
    {
    case PEERCAM_SIO_CONNECT:
      if (id >= 0)
        return set_malformed (error, "CONNECT cannot carry an ack id");
      if (data != NULL && !JSON_NODE_HOLDS_OBJECT (data))
        return set_malformed (error, "CONNECT payload must be an object");
      return TRUE;
    case PEERCAM_SIO_DISCONNECT:
      if (id >= 0 || data != NULL)
        return set_malformed (error, "DISCONNECT carries no payload");
      return TRUE;
    case PEERCAM_SIO_EVENT:
      if (data == NULL || !JSON_NODE_HOLDS_ARRAY (data)
          || json_array_get_length (json_node_get_array (data)) == 0)
        return set_malformed (error, "EVENT payload must be a non-empty array");
      return TRUE;
    case PEERCAM_SIO_ACK:
      if (id < 0)
        return set_malformed (error, "ACK needs an ack id");
      if (data == NULL || !JSON_NODE_HOLDS_ARRAY (data))
        return set_malformed (error, "ACK payload must be an array");
      return TRUE;
    case PEERCAM_SIO_CONNECT_ERROR:
      if (id >= 0)
        return set_malformed (error, "CONNECT_ERROR cannot carry an ack id");
      if (data == NULL
          || !(JSON_NODE_HOLDS_OBJECT (data)
               || (JSON_NODE_HOLDS_VALUE (data) && json_node_get_value_type (data) == G_TYPE_STRING)))
        return set_malformed (error, "CONNECT_ERROR payload must be an object or a string");
      return TRUE;
    case PEERCAM_SIO_BINARY_EVENT:
    case PEERCAM_SIO_BINARY_ACK:
    default:
      g_assert_not_reached ();
    }
}

PeercamSioPacket *
peercam_sio_packet_decode (const char  *data,
                           gsize        len,
                           GError     **error)
{
  g_autoptr(JsonNode) json = NULL;
  g_autofree char *nsp = NULL;
  const char *p = data;
  const char *end = data + len;
  PeercamSioType type;
  gint64 id = -1;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (!check_text (data, len, error))
    return NULL;

  if (*p < '0' || *p > '6')
    {
      g_set_error (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_UNKNOWN_TYPE,
                   "Unknown Socket.IO packet type '%c'", g_ascii_isprint (*p) ? *p : '?');
      return NULL;
    }
  type = (PeercamSioType) (*p++ - '0');
  if (type == PEERCAM_SIO_BINARY_EVENT || type == PEERCAM_SIO_BINARY_ACK)
    {
      g_set_error_literal (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_BINARY_UNSUPPORTED,
                           "Binary Socket.IO packets are not supported");
      return NULL;
    }

  /* Namespace: from '/' up to ',' (consumed) or the end. */
  if (p < end && *p == '/')
    {
      const char *comma = memchr (p, ',', (gsize) (end - p));
      const char *stop = comma ? comma : end;

      for (const char *q = p; q < stop; q++)
        if ((guchar) *q < 0x20)
          {
            set_malformed (error, "Namespace contains control characters");
            return NULL;
          }
      nsp = g_strndup (p, (gsize) (stop - p));
      p = comma ? comma + 1 : end;
    }

  if (p < end && g_ascii_isdigit (*p))
    {
      id = 0;
      while (p < end && g_ascii_isdigit (*p))
        {
          id = id * 10 + (*p++ - '0');
          if (id > PEERCAM_SIO_MAX_ACK_ID)
            {
              g_set_error (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_ACK_ID,
                           "Ack id larger than %d", PEERCAM_SIO_MAX_ACK_ID);
              return NULL;
            }
        }
    }

  if (p < end)
    {
      json = json_parse (p, (gsize) (end - p), error);
      if (json == NULL)
        return NULL;
    }

  if (!check_payload (type, id, json, error))
    return NULL;

  return peercam_sio_packet_new (type, nsp, id, g_steal_pointer (&json));
}

char *
peercam_sio_packet_encode (const PeercamSioPacket *packet)
{
  GString *out;

  g_return_val_if_fail (packet != NULL, NULL);
  g_return_val_if_fail (packet->type <= PEERCAM_SIO_CONNECT_ERROR, NULL);

  out = g_string_sized_new (64);
  g_string_append_c (out, (char) ('0' + (int) packet->type));
  if (packet->nsp != NULL && strcmp (packet->nsp, "/") != 0)
    {
      g_string_append (out, packet->nsp);
      g_string_append_c (out, ',');
    }
  if (packet->id >= 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, packet->id);
  if (packet->data != NULL)
    json_write (out, packet->data);
  return g_string_free (out, FALSE);
}

const char *
peercam_sio_packet_get_event (const PeercamSioPacket  *packet,
                              GError                 **error)
{
  JsonArray *array;
  JsonNode *name;

  g_return_val_if_fail (packet != NULL, NULL);

  if (packet->type != PEERCAM_SIO_EVENT || packet->data == NULL
      || !JSON_NODE_HOLDS_ARRAY (packet->data))
    {
      g_set_error_literal (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_INVALID_EVENT,
                           "Not an event packet");
      return NULL;
    }
  array = json_node_get_array (packet->data);
  name = json_array_get_length (array) > 0 ? json_array_get_element (array, 0) : NULL;
  if (name == NULL || !JSON_NODE_HOLDS_VALUE (name)
      || json_node_get_value_type (name) != G_TYPE_STRING)
    {
      g_set_error_literal (error, PEERCAM_PROTOCOL_ERROR, PEERCAM_PROTOCOL_ERROR_INVALID_EVENT,
                           "Event name must be a string");
      return NULL;
    }
  return json_node_get_string (name);
}

static guint
args_offset (const PeercamSioPacket *packet)
{
  return packet->type == PEERCAM_SIO_EVENT ? 1 : 0;
}

guint
peercam_sio_packet_get_n_args (const PeercamSioPacket *packet)
{
  guint n, offset;

  g_return_val_if_fail (packet != NULL, 0);

  if (packet->data == NULL || !JSON_NODE_HOLDS_ARRAY (packet->data))
    return 0;
  n = json_array_get_length (json_node_get_array (packet->data));
  offset = args_offset (packet);
  return n > offset ? n - offset : 0;
}

JsonNode *
peercam_sio_packet_get_arg (const PeercamSioPacket *packet,
                            guint                   index)
{
  g_return_val_if_fail (packet != NULL, NULL);

  if (index >= peercam_sio_packet_get_n_args (packet))
    return NULL;
  return json_array_get_element (json_node_get_array (packet->data),
                                 index + args_offset (packet));
}

const char *
peercam_sio_packet_get_string_arg (const PeercamSioPacket *packet,
                                   guint                   index)
{
  JsonNode *node = peercam_sio_packet_get_arg (packet, index);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

gboolean
peercam_sio_packet_equal (const PeercamSioPacket *a,
                          const PeercamSioPacket *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  if (a->type != b->type || a->id != b->id || g_strcmp0 (a->nsp, b->nsp) != 0)
    return FALSE;
  if (a->data == NULL || b->data == NULL)
    return a->data == b->data;
  return json_node_equal (a->data, b->data);
}

/* --- relay fast path ---------------------------------------------------------
 *
 * A relayed signal is forwarded byte for byte, so building a json-glib tree
 * for it (and re-encoding nothing) is wasted work. This does the strict
 * validation of json_validate() and the checks json-glib and check_text()
 * would add, in one pass, and remembers only what the server inspects.
 */

/* The first argument's top-level object: like json_container() for an
 * object, noting whether a member "type" holds a string. */
static gboolean
peek_object (JsonCursor *c,
             gboolean   *type_is_string,
             gboolean   *unsure)
{
  guint n_type = 0;

  if (++c->depth > PEERCAM_SIO_MAX_DEPTH)
    return FALSE;
  c->p++;
  json_ws (c);
  if (c->p < c->end && *c->p == '}')
    {
      c->p++;
      c->depth--;
      return TRUE;
    }
  for (;;)
    {
      const char *key;
      gboolean escaped = FALSE;
      gboolean is_type;

      if (c->p >= c->end || *c->p != '"')
        return FALSE;
      key = c->p + 1;
      if (!json_string_full (c, &escaped))
        return FALSE;
      /* An escaped key might spell "type"; leave that to the full decoder. */
      if (escaped)
        *unsure = TRUE;
      is_type = c->p - 1 - key == 4 && memcmp (key, "type", 4) == 0;
      json_ws (c);
      if (c->p >= c->end || *c->p != ':')
        return FALSE;
      c->p++;
      json_ws (c);
      if (is_type)
        {
          /* json-glib keeps the last of duplicate members: leave that to it. */
          if (++n_type > 1)
            *unsure = TRUE;
          *type_is_string = c->p < c->end && *c->p == '"';
        }
      if (!json_value (c))
        return FALSE;
      json_ws (c);
      if (c->p >= c->end)
        return FALSE;
      if (*c->p == '}')
        {
          c->p++;
          c->depth--;
          return TRUE;
        }
      if (*c->p != ',')
        return FALSE;
      c->p++;
      json_ws (c);
    }
}

gboolean
peercam_sio_event_peek (const char         *data,
                        gsize               len,
                        PeercamSioEventPeek *peek)
{
  JsonCursor c = { data, data + len, 0, TRUE };
  PeercamSioEventPeek out = { -1, NULL, 0, PEERCAM_SIO_ARG_NONE, FALSE, 0 };
  gboolean escaped = FALSE, unsure = FALSE;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (peek != NULL, FALSE);

  if (len < 2 || data[0] != '2')
    return FALSE;
  c.p++;

  /* No namespace ("/…,"): only "/" events are relayed; others go the long way. */
  if (g_ascii_isdigit (*c.p))
    {
      out.id = 0;
      while (c.p < c.end && g_ascii_isdigit (*c.p))
        {
          out.id = out.id * 10 + (*c.p++ - '0');
          if (out.id > PEERCAM_SIO_MAX_ACK_ID)
            return FALSE;
        }
    }

  json_ws (&c);
  if (c.p >= c.end || *c.p != '[')
    return FALSE;
  c.p++;
  c.depth = 1;
  json_ws (&c);
  if (c.p >= c.end || *c.p != '"')
    return FALSE;
  out.event = c.p + 1;
  if (!json_string_full (&c, &escaped) || escaped)
    return FALSE;
  out.event_len = (gsize) (c.p - 1 - out.event);
  json_ws (&c);

  if (c.p < c.end && *c.p == ',')
    {
      c.p++;
      json_ws (&c);
      if (c.p >= c.end)
        return FALSE;
      out.n_args = 1;
      switch (*c.p)
        {
        case '{':
          out.arg = PEERCAM_SIO_ARG_OBJECT;
          if (!peek_object (&c, &out.arg_type_is_string, &unsure))
            return FALSE;
          break;
        case '[':
          out.arg = PEERCAM_SIO_ARG_ARRAY;
          if (!json_value (&c))
            return FALSE;
          break;
        case '"':
          out.arg = PEERCAM_SIO_ARG_STRING;
          if (!json_value (&c))
            return FALSE;
          break;
        default:
          out.arg = PEERCAM_SIO_ARG_OTHER;
          if (!json_value (&c))
            return FALSE;
        }
      json_ws (&c);
      while (c.p < c.end && *c.p == ',')
        {
          c.p++;
          json_ws (&c);
          if (!json_value (&c))
            return FALSE;
          json_ws (&c);
          out.n_args++;
        }
    }

  if (c.p >= c.end || *c.p != ']')
    return FALSE;
  c.p++;
  json_ws (&c);
  if (c.p != c.end || unsure)
    return FALSE;

  *peek = out;
  return TRUE;
}
