/* peercam-invite.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "peercam-invite.h"

PeercamInvite *
peercam_invite_new (const char *server_url,
                    const char *room,
                    const char *token,
                    const char *pin)
{
  PeercamInvite *invite = g_new0 (PeercamInvite, 1);

  g_return_val_if_fail (server_url != NULL, NULL);

  invite->server_url = g_strdup (server_url);
  invite->room = room && *room ? g_strdup (room) : NULL;
  invite->token = token && *token ? g_strdup (token) : NULL;
  invite->pin = pin && *pin ? g_strdup (pin) : NULL;
  return invite;
}

void
peercam_invite_free (PeercamInvite *invite)
{
  if (invite == NULL)
    return;
  g_free (invite->server_url);
  g_free (invite->room);
  g_free (invite->token);
  g_free (invite->pin);
  g_free (invite);
}

static GHashTable *
parse_params (const char  *text,
              GError     **error)
{
  if (text == NULL || *text == '\0')
    return g_hash_table_new (g_str_hash, g_str_equal);
  return g_uri_parse_params (text, -1, "&", G_URI_PARAMS_NONE, error);
}

static gboolean
valid_pin (const char *pin)
{
  guint digits = 0;

  for (const char *p = pin; *p != '\0'; p++)
    {
      if (*p == ':')
        continue;
      if (!g_ascii_isxdigit (*p))
        return FALSE;
      digits++;
    }
  return digits == 64;
}

/* Accepts a pasted link or a bare address, with whitespace around it. */
PeercamInvite *
peercam_invite_parse (const char  *text,
                      GError     **error)
{
  g_autofree char *stripped = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GHashTable) query = NULL;
  g_autoptr(GHashTable) fragment = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *server_url = NULL;
  g_autofree char *lower = NULL;
  const char *scheme;
  const char *host;
  const char *pin;
  const char *path;

  g_return_val_if_fail (text != NULL, NULL);

  stripped = g_strstrip (g_strdup (text));
  uri = g_uri_parse (stripped, G_URI_FLAGS_ENCODED_QUERY | G_URI_FLAGS_ENCODED_FRAGMENT, &local_error);
  if (uri == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a link or an address"), stripped);
      return NULL;
    }

  host = g_uri_get_host (uri);
  if (host == NULL || *host == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” has no computer name or address"), stripped);
      return NULL;
    }

  query = parse_params (g_uri_get_query (uri), error);
  if (query == NULL)
    return NULL;
  fragment = parse_params (g_uri_get_fragment (uri), error);
  if (fragment == NULL)
    return NULL;

  pin = g_hash_table_lookup (fragment, "pin");
  if (pin != NULL && !valid_pin (pin))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("The link’s certificate fingerprint is damaged: copy the whole link again"));
      return NULL;
    }

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "peercam") == 0)
    scheme = pin != NULL || g_strcmp0 (g_hash_table_lookup (fragment, "tls"), "1") == 0 ? "https" : "http";
  else if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0 &&
           g_ascii_strcasecmp (scheme, "ws") != 0 && g_ascii_strcasecmp (scheme, "wss") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a Peercam link: it should start with http://, https:// or peercam://"),
                   stripped);
      return NULL;
    }

  /* The pages live at /, /userA and /userB; none of them is a namespace. */
  path = g_uri_get_path (uri);
  if (path != NULL && *path != '\0' && !g_str_equal (path, "/") &&
      !g_str_equal (path, "/userA") && !g_str_equal (path, "/userB"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a room’s link: it names the page “%s”"), stripped, path);
      return NULL;
    }

  lower = g_ascii_strdown (scheme, -1);
  server_url = g_uri_join (G_URI_FLAGS_NONE, lower, NULL, host, g_uri_get_port (uri), "", NULL, NULL);

  return peercam_invite_new (server_url,
                             g_hash_table_lookup (query, "room"),
                             g_hash_table_lookup (fragment, "token"),
                             pin);
}

static void
append_param (GString    *string,
              const char *name,
              const char *value)
{
  g_autofree char *escaped = g_uri_escape_string (value, ":", FALSE);

  if (string->len > 0)
    g_string_append_c (string, '&');
  g_string_append_printf (string, "%s=%s", name, escaped);
}

char *
peercam_invite_to_string (const PeercamInvite *invite)
{
  g_autoptr(GString) link = NULL;
  g_autoptr(GString) fragment = g_string_new (NULL);

  g_return_val_if_fail (invite != NULL, NULL);

  link = g_string_new (invite->server_url);
  if (!g_str_has_suffix (link->str, "/"))
    g_string_append_c (link, '/');
  if (invite->room != NULL)
    {
      g_autofree char *room = g_uri_escape_string (invite->room, NULL, FALSE);

      g_string_append_printf (link, "?room=%s", room);
    }
  if (invite->token != NULL)
    append_param (fragment, "token", invite->token);
  if (invite->pin != NULL)
    append_param (fragment, "pin", invite->pin);
  if (fragment->len > 0)
    g_string_append_printf (link, "#%s", fragment->str);

  return g_string_free (g_steal_pointer (&link), FALSE);
}
