/* peercam-options.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "peercam-options.h"

G_DEFINE_QUARK (peercam-options-error-quark, peercam_options_error)

static const GOptionEntry option_entries[] = {
  /* Parsed by GApplication into a GVariantDict: see peercam_options_new_from_dict(). */
  { "caller", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Open a caller window (sends video; the default)"), NULL },
  { "viewer", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Open a viewer window (shows the remote video)"), NULL },
  { "server", 's', 0, G_OPTION_ARG_STRING, NULL,
    N_("Signaling server to join, e.g. http://127.0.0.1:8080"), N_("URL") },
  { "room", 'r', 0, G_OPTION_ARG_STRING, NULL,
    N_("Room to join on the signaling server"), N_("NAME") },
  { "source", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Video source: “test”, “camera” or a device name"), N_("test|camera|DEVICE") },
  { "call", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Call as soon as local video runs and a viewer is in the room"), NULL },
  { "host", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Host a room with the embedded signaling server (--host=PORT sets the port)"), NULL },
  { "host-only", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Run only the signaling server, without a window"), NULL },
  { "port", 'p', 0, G_OPTION_ARG_STRING, NULL,
    N_("Port of the hosted signaling server (default 8080)"), N_("N") },
  { "max-viewers", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Hosted server: viewers per room besides the caller (default 4; 1 is the demo’s two-member room)"), N_("N") },
  { "bind", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Address the hosted server listens on (default: all)"), N_("ADDR") },
  { "tls", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Host with HTTPS and secure WebSockets, using a self-signed certificate"), NULL },
  { "new-certificate", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("With --tls: replace the stored certificate with a new one (its fingerprint changes)"), NULL },
  { "token", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Access token for the room (hosting and joining)"), N_("TOKEN") },
  { "allow-origin", 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL,
    N_("Hosted server: also let pages from this origin connect, e.g. https://example.org (repeatable)"), N_("ORIGIN") },
  { "pin", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Accept the server's self-signed certificate with this SHA-256 fingerprint"), N_("SHA256") },
  { "ice-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL,
    N_("Gather ICE candidates only on this local address (repeatable)"), N_("ADDR") },
  { "stun", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("STUN server for calls beyond the local network, e.g. stun://host:3478"), N_("URI") },
  { "turn", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("TURN relay, e.g. turn://user:password@host:3478"), N_("URI") },
  { "audio", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Send the microphone (caller) or play received audio (viewer); off by default"), NULL },
  { "headless", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Run the caller or viewer without a window"), NULL },
  { "events", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("With --headless: print one JSON event per line on standard output"), NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Print the version and exit"), NULL },
  { NULL }
};

const GOptionEntry *
peercam_options_get_entries (void)
{
  return option_entries;
}

/* Headless runs and servers need no display: main() sends them down a path
 * that never initialises GTK. */
gboolean
peercam_options_wants_headless (int          argc,
                                char * const *argv)
{
  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--"))
        break;
      if (g_str_equal (argv[i], "--headless") || g_str_equal (argv[i], "--host-only"))
        return TRUE;
    }

  return FALSE;
}

PeercamOptions *
peercam_options_new (void)
{
  PeercamOptions *options = g_new0 (PeercamOptions, 1);

  options->mode = PEERCAM_MODE_CALLER;
  options->port = -1;
  return options;
}

void
peercam_options_free (PeercamOptions *options)
{
  if (options == NULL)
    return;

  g_free (options->server);
  g_free (options->room);
  g_free (options->source);
  g_free (options->token);
  g_free (options->pin);
  g_strfreev (options->ice_addresses);
  g_strfreev (options->allow_origins);
  g_free (options->bind);
  g_free (options->stun);
  g_free (options->turn);
  g_free (options);
}

gboolean
peercam_options_parse_port (const char  *text,
                            int         *port,
                            GError     **error)
{
  guint64 value = 0;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, 65535, &value, NULL))
    {
      g_set_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                   _("Invalid port “%s”: expected a number from 0 to 65535"),
                   text ? text : "");
      return FALSE;
    }

  *port = (int) value;
  return TRUE;
}

gboolean
peercam_options_validate_url (const char  *url,
                              GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    {
      g_set_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                   _("Invalid server address “%s”: expected a URL such as http://127.0.0.1:8080"),
                   url);
      return FALSE;
    }

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 &&
      g_ascii_strcasecmp (scheme, "https") != 0 &&
      g_ascii_strcasecmp (scheme, "ws") != 0 &&
      g_ascii_strcasecmp (scheme, "wss") != 0)
    {
      g_set_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                   _("Unsupported server address “%s”: use http:// or https://"),
                   url);
      return FALSE;
    }

  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                   _("Server address “%s” has no host"), url);
      return FALSE;
    }

  return TRUE;
}

static gboolean
is_valid_room (const char *room)
{
  gsize len = strlen (room);

  return len > 0 && len <= 128 && g_utf8_validate (room, -1, NULL);
}

static gboolean
is_valid_fingerprint (const char *pin)
{
  guint hex = 0;

  /* Accept "AB:CD:…" and "abcd…" spellings of a SHA-256 digest. */
  for (const char *p = pin; *p; p++)
    {
      if (g_ascii_isxdigit (*p))
        hex++;
      else if (*p != ':')
        return FALSE;
    }

  return hex == 64;
}

gboolean
peercam_options_validate (PeercamOptions  *options,
                          GError         **error)
{
  g_return_val_if_fail (options != NULL, FALSE);

  if (options->server != NULL && !peercam_options_validate_url (options->server, error))
    return FALSE;

  if (options->room != NULL && !is_valid_room (options->room))
    {
      g_set_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                   _("Invalid room name “%s”: use 1 to 128 characters"), options->room);
      return FALSE;
    }

  if (options->token != NULL && *options->token == '\0')
    {
      /* An empty token would silently host an open room. */
      g_set_error_literal (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                           _("Invalid token: it is empty; give a token, or leave out --token for an open room"));
      return FALSE;
    }

  if (options->source != NULL && *options->source == '\0')
    {
      g_set_error_literal (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                           _("Invalid source: use “test”, “camera” or a device name"));
      return FALSE;
    }

  if (options->port > 65535 || options->port < -1)
    {
      g_set_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                   _("Invalid port “%d”: expected a number from 0 to 65535"), options->port);
      return FALSE;
    }

  if (options->bind != NULL)
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (options->bind);

      if (address == NULL)
        {
          g_set_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                       _("Invalid bind address “%s”: expected an IPv4 or IPv6 address"),
                       options->bind);
          return FALSE;
        }
    }

  for (guint i = 0; options->ice_addresses && options->ice_addresses[i]; i++)
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (options->ice_addresses[i]);

      if (address == NULL)
        {
          g_set_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                       _("Invalid ICE address “%s”: expected an IPv4 or IPv6 address"),
                       options->ice_addresses[i]);
          return FALSE;
        }
    }

  for (guint i = 0; options->allow_origins && options->allow_origins[i]; i++)
    {
      const char *origin = options->allow_origins[i];
      g_autoptr(GUri) uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);

      if (uri == NULL || (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)
          || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' || g_uri_get_userinfo (uri) != NULL
          || (*g_uri_get_path (uri) != '\0' && strcmp (g_uri_get_path (uri), "/") != 0)
          || g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
        {
          g_set_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                       _("Invalid origin “%s”: expected http:// or https:// with a host and an optional port, e.g. https://example.org:8443"),
                       origin);
          return FALSE;
        }
    }

  if (options->stun != NULL && !g_str_has_prefix (options->stun, "stun://"))
    {
      g_set_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                   _("Invalid STUN server “%s”: expected stun://host:port"), options->stun);
      return FALSE;
    }

  if (options->turn != NULL && !g_str_has_prefix (options->turn, "turn://") &&
      !g_str_has_prefix (options->turn, "turns://"))
    {
      g_set_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                   _("Invalid TURN server “%s”: expected turn://user:password@host:port"), options->turn);
      return FALSE;
    }

  if (options->pin != NULL && !is_valid_fingerprint (options->pin))
    {
      g_set_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                   _("Invalid certificate fingerprint “%s”: expected 64 hexadecimal digits (SHA-256)"),
                   options->pin);
      return FALSE;
    }

  if (options->host_only && (options->call || options->mode_given))
    {
      g_set_error_literal (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                           _("--host-only runs only the signaling server; it cannot be combined with --caller, --viewer or --call"));
      return FALSE;
    }

  if (options->call && options->mode == PEERCAM_MODE_VIEWER)
    {
      g_set_error_literal (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                           _("--call is for the caller; the viewer answers calls"));
      return FALSE;
    }

  if (options->events && !options->headless && !options->host_only)
    {
      g_set_error_literal (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                           _("--events needs --headless"));
      return FALSE;
    }

  if (options->new_certificate && !options->tls)
    {
      g_set_error_literal (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                           _("--new-certificate replaces the certificate of --tls; give both"));
      return FALSE;
    }

  if ((options->port >= 0 || options->bind != NULL || options->tls || options->max_viewers > 0) &&
      !options->host && !options->host_only)
    {
      /* --port, --bind and --tls describe the hosted server; they imply hosting. */
      options->host = TRUE;
    }

  if (options->host_only)
    options->host = TRUE;

  return TRUE;
}

/* GOption supports an optional argument only through callbacks, which
 * GApplication cannot forward to the primary instance. `--host=PORT` is
 * therefore rewritten to `--host --port=PORT` before parsing. */
char **
peercam_options_normalize_args (int    argc,
                                char **argv)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (int i = 0; i < argc; i++)
    {
      if (g_str_has_prefix (argv[i], "--host="))
        {
          g_autofree char *port = g_strconcat ("--port=", argv[i] + strlen ("--host="), NULL);

          g_strv_builder_add (builder, "--host");
          g_strv_builder_add (builder, port);
        }
      else
        {
          g_strv_builder_add (builder, argv[i]);
        }
    }

  return g_strv_builder_end (builder);
}

static char *
dup_string_option (GVariantDict *dict,
                   const char   *name)
{
  const char *value = NULL;

  if (g_variant_dict_lookup (dict, name, "&s", &value))
    return g_strdup (value);
  return NULL;
}

PeercamOptions *
peercam_options_new_from_dict (GVariantDict  *dict,
                               GError       **error)
{
  g_autoptr(PeercamOptions) options = peercam_options_new ();
  gboolean caller = FALSE, viewer = FALSE;
  const char *port = NULL;
  const char *max_viewers = NULL;

  caller = g_variant_dict_contains (dict, "caller");
  viewer = g_variant_dict_contains (dict, "viewer");
  if (caller && viewer)
    {
      g_set_error_literal (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                           _("Choose either --caller or --viewer, not both"));
      return NULL;
    }
  options->mode = viewer ? PEERCAM_MODE_VIEWER : PEERCAM_MODE_CALLER;
  options->mode_given = caller || viewer;

  options->server = dup_string_option (dict, "server");
  options->room = dup_string_option (dict, "room");
  options->source = dup_string_option (dict, "source");
  options->token = dup_string_option (dict, "token");
  options->pin = dup_string_option (dict, "pin");
  options->bind = dup_string_option (dict, "bind");
  options->stun = dup_string_option (dict, "stun");
  options->turn = dup_string_option (dict, "turn");
  g_variant_dict_lookup (dict, "ice-address", "^as", &options->ice_addresses);
  g_variant_dict_lookup (dict, "allow-origin", "^as", &options->allow_origins);
  options->call = g_variant_dict_contains (dict, "call");
  options->host = g_variant_dict_contains (dict, "host");
  options->host_only = g_variant_dict_contains (dict, "host-only");
  options->headless = g_variant_dict_contains (dict, "headless");
  options->audio = g_variant_dict_contains (dict, "audio");
  options->events = g_variant_dict_contains (dict, "events");
  options->tls = g_variant_dict_contains (dict, "tls");
  options->new_certificate = g_variant_dict_contains (dict, "new-certificate");

  if (g_variant_dict_lookup (dict, "port", "&s", &port) &&
      !peercam_options_parse_port (port, &options->port, error))
    return NULL;
  if (g_variant_dict_lookup (dict, "max-viewers", "&s", &max_viewers))
    {
      guint64 value = 0;

      if (!g_ascii_string_to_unsigned (max_viewers, 10, 1, PEERCAM_OPTIONS_MAX_VIEWERS, &value, NULL))
        {
          g_set_error (error, PEERCAM_OPTIONS_ERROR, PEERCAM_OPTIONS_ERROR_INVALID,
                       _("Invalid number of viewers “%s”: expected a number from 1 to %u"),
                       max_viewers, PEERCAM_OPTIONS_MAX_VIEWERS);
          return NULL;
        }
      options->max_viewers = (int) value;
    }

  if (!peercam_options_validate (options, error))
    return NULL;

  return g_steal_pointer (&options);
}
