/* peercam-web.c — serves the browser pages from the web resource bundle
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "peercam-web.h"
#include "peercam-web-resources.h"

typedef struct {
  const char *path;
  const char *resource;
  const char *content_type;
} WebPage;

static const WebPage pages[] = {
  { "/",                  "index.html",        "text/html; charset=utf-8" },
  { "/userA",             "userA.html",        "text/html; charset=utf-8" },
  { "/userB",             "userB.html",        "text/html; charset=utf-8" },
  { "/peercam-socket.js", "peercam-socket.js", "text/javascript; charset=utf-8" },
  { "/peercam-call.js",   "peercam-call.js",   "text/javascript; charset=utf-8" },
  { "/peercam-index.js",  "peercam-index.js",  "text/javascript; charset=utf-8" },
  { "/style.css",         "style.css",         "text/css; charset=utf-8" },
};

static void
ensure_resources (void)
{
  static gsize registered = 0;

  /* Manually registered: a static library drops a resource constructor
   * nobody references. */
  if (g_once_init_enter (&registered))
    {
      peercam_web_register_resource ();
      g_once_init_leave (&registered, 1);
    }
}

static const WebPage *
find_page (const char *path)
{
  for (gsize i = 0; i < G_N_ELEMENTS (pages); i++)
    if (strcmp (path, pages[i].path) == 0)
      return &pages[i];
  return NULL;
}

/* Host names and literal addresses only: the value ends up in a header. */
static gboolean
is_plain_host (const char *host)
{
  if (host == NULL || *host == '\0' || strlen (host) > 255)
    return FALSE;
  for (const char *p = host; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr (".-:[]", *p) == NULL)
      return FALSE;
  return TRUE;
}

/* "http://host:port" of a ?server= URL the page may signal through, as the
 * two origins connect-src must allow, or NULL when it is not one. */
static char *
foreign_connect_sources (GUri *request_uri)
{
  g_autoptr(GHashTable) query = NULL;
  g_autoptr(GUri) uri = NULL;
  const char *server, *scheme, *host;
  gboolean secure;
  int port;

  if (g_uri_get_query (request_uri) == NULL)
    return NULL;
  query = g_uri_parse_params (g_uri_get_query (request_uri), -1, "&", G_URI_PARAMS_NONE, NULL);
  if (query == NULL || (server = g_hash_table_lookup (query, "server")) == NULL)
    return NULL;

  uri = g_uri_parse (server, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    return NULL;
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") == 0)
    secure = FALSE;
  else if (g_ascii_strcasecmp (scheme, "https") == 0)
    secure = TRUE;
  else
    return NULL;

  host = g_uri_get_host (uri);
  if (!is_plain_host (host) || g_uri_get_userinfo (uri) != NULL)
    return NULL;
  port = g_uri_get_port (uri);
  if (port <= 0)
    port = secure ? 443 : 80;

  /* GUri strips the brackets of an IPv6 literal. */
  if (strchr (host, ':') != NULL && host[0] != '[')
    return g_strdup_printf ("%s://[%s]:%d %s://[%s]:%d",
                            secure ? "https" : "http", host, port,
                            secure ? "wss" : "ws", host, port);
  return g_strdup_printf ("%s://%s:%d %s://%s:%d",
                          secure ? "https" : "http", host, port,
                          secure ? "wss" : "ws", host, port);
}

static void
set_security_headers (SoupServerMessage *msg,
                      GUri              *request_uri)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *host = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Host");
  g_autoptr(GString) connect_src = g_string_new ("'self'");
  g_autofree char *foreign = foreign_connect_sources (request_uri);
  g_autofree char *csp = NULL;

  /* 'self' covers this origin's ws:/wss: in CSP 3; older Safari needs them
   * spelled out. */
  if (is_plain_host (host))
    g_string_append_printf (connect_src, " ws://%s wss://%s", host, host);
  if (foreign != NULL)
    g_string_append_printf (connect_src, " %s", foreign);

  csp = g_strdup_printf ("default-src 'self'; connect-src %s; media-src 'self' blob: mediastream:; "
                         "img-src 'self' data:; style-src 'self'; script-src 'self'; "
                         "object-src 'none'; base-uri 'none'; form-action 'self'; "
                         "frame-ancestors 'none'",
                         connect_src->str);

  soup_message_headers_replace (headers, "Content-Security-Policy", csp);
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (headers, "X-Frame-Options", "DENY");
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
}

static void
set_text_response (SoupServerMessage *msg,
                   guint              status,
                   const char        *text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_COPY,
                                    text, strlen (text));
}

static void
web_handler (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  GUri *request_uri = soup_server_message_get_uri (msg);
  const char *method = soup_server_message_get_method (msg);
  const WebPage *page;
  g_autofree char *resource_path = NULL;
  g_autoptr(GBytes) bytes = NULL;

  set_security_headers (msg, request_uri);

  page = find_page (path);
  if (page == NULL)
    {
      set_text_response (msg, SOUP_STATUS_NOT_FOUND, "Not found\n");
      return;
    }

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET, HEAD");
      set_text_response (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Method not allowed\n");
      return;
    }

  ensure_resources ();
  resource_path = g_strconcat (PEERCAM_WEB_RESOURCE_PATH "/", page->resource, NULL);
  bytes = g_resources_lookup_data (resource_path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (bytes == NULL)
    {
      set_text_response (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "Missing page\n");
      return;
    }

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, page->content_type, SOUP_MEMORY_COPY,
                                    g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/**
 * peercam_web_install:
 * @server: the signaling server's #SoupServer
 *
 * Adds the pages as @server's default handler: the more specific
 * /socket.io/ handler keeps its path.
 */
void
peercam_web_install (SoupServer *server)
{
  g_return_if_fail (SOUP_IS_SERVER (server));

  ensure_resources ();
  soup_server_add_handler (server, NULL, web_handler, NULL, NULL);
}
