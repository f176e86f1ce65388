/* test-web.c — the browser pages and the host's certificate: a real server
 * on 127.0.0.1, port 0, fetched with libsoup.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "peercam-signaling-client.h"
#include "peercam-signaling-server.h"
#include "peercam-tls.h"
#include "peercam-web.h"

#define TIMEOUT_S 10

typedef struct {
  PeercamSignalingServer *server;
  SoupSession            *session;
  char                   *base;
} Fixture;

typedef struct {
  guint               status;
  char               *content_type;
  char               *csp;
  char               *nosniff;
  char               *referrer_policy;
  GBytes             *body;
  GError             *error;
} Response;

static void
response_clear (Response *r)
{
  g_clear_pointer (&r->content_type, g_free);
  g_clear_pointer (&r->csp, g_free);
  g_clear_pointer (&r->nosniff, g_free);
  g_clear_pointer (&r->referrer_policy, g_free);
  g_clear_pointer (&r->body, g_bytes_unref);
  g_clear_error (&r->error);
}

static gboolean
on_timeout (gpointer user_data)
{
  g_error ("test-web: timed out after %d s", TIMEOUT_S);
  return G_SOURCE_REMOVE;
}

static void
on_read (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  GBytes *body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);

  if (body != NULL)
    g_task_return_pointer (task, body, (GDestroyNotify) g_bytes_unref);
  else
    g_task_return_error (task, error);
  g_object_unref (task);
}

static gboolean
on_accept_pinned (SoupMessage          *msg,
                  GTlsCertificate      *certificate,
                  GTlsCertificateFlags  errors,
                  gpointer              pin)
{
  g_autofree char *fingerprint = peercam_tls_fingerprint_sha256 (certificate);

  return g_strcmp0 (fingerprint, pin) == 0;
}

/* Fetches @url while the server runs on this thread's main context. */
static void
fetch (SoupSession *session,
       const char  *method,
       const char  *url,
       const char  *pin,
       Response    *r)
{
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GTask) task = NULL;
  SoupMessageHeaders *headers;
  guint timeout;

  g_assert_nonnull (msg);
  if (pin != NULL)
    g_signal_connect (msg, "accept-certificate", G_CALLBACK (on_accept_pinned), (gpointer) pin);

  task = g_task_new (NULL, NULL, NULL, NULL);
  timeout = g_timeout_add_seconds (TIMEOUT_S, on_timeout, NULL);
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, on_read, g_object_ref (task));
  while (!g_task_get_completed (task))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);

  r->body = g_task_propagate_pointer (task, &r->error);
  r->status = soup_message_get_status (msg);
  headers = soup_message_get_response_headers (msg);
  r->content_type = g_strdup (soup_message_headers_get_one (headers, "Content-Type"));
  r->csp = g_strdup (soup_message_headers_get_one (headers, "Content-Security-Policy"));
  r->nosniff = g_strdup (soup_message_headers_get_one (headers, "X-Content-Type-Options"));
  r->referrer_policy = g_strdup (soup_message_headers_get_one (headers, "Referrer-Policy"));
}

static void
fixture_start (Fixture         *f,
               GTlsCertificate *certificate)
{
  g_autoptr(GError) error = NULL;

  f->server = peercam_signaling_server_new ();
  peercam_signaling_server_set_port (f->server, 0);
  peercam_signaling_server_set_bind_address (f->server, "127.0.0.1");
  peercam_web_install (peercam_signaling_server_get_soup_server (f->server));
  if (certificate != NULL)
    peercam_signaling_server_set_tls_certificate (f->server, certificate);
  g_assert_true (peercam_signaling_server_start (f->server, &error));
  g_assert_no_error (error);

  f->session = soup_session_new ();
  f->base = g_strdup_printf ("%s://127.0.0.1:%u", certificate ? "https" : "http",
                             peercam_signaling_server_get_port (f->server));
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  fixture_start (f, NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->session);
  peercam_signaling_server_stop (f->server);
  g_clear_object (&f->server);
  g_clear_pointer (&f->base, g_free);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static char *
url (Fixture    *f,
     const char *path)
{
  return g_strconcat (f->base, path, NULL);
}

static gboolean
body_contains (Response   *r,
               const char *needle)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body));

  return strstr (text, needle) != NULL;
}

/* --- pages ---------------------------------------------------------------- */

static void
test_pages (Fixture       *f,
            gconstpointer  data)
{
  static const struct {
    const char *path;
    const char *content_type;
    const char *marker;
  } pages[] = {
    { "/",                  "text/html; charset=utf-8",       "href=\"/style.css\"" },
    { "/userA",             "text/html; charset=utf-8",       "id=\"callButton\"" },
    { "/userB",             "text/html; charset=utf-8",       "id=\"remoteVideo\"" },
    { "/userB?room=x&transport=polling", "text/html; charset=utf-8", "peercam-call.js" },
    { "/peercam-socket.js", "text/javascript; charset=utf-8", "class PeercamSocket" },
    { "/peercam-call.js",   "text/javascript; charset=utf-8", "create or join" },
    { "/peercam-index.js",  "text/javascript; charset=utf-8", "room" },
    { "/style.css",         "text/css; charset=utf-8",        "video" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_autofree char *u = url (f, pages[i].path);
      Response r = { 0 };

      g_test_message ("GET %s", pages[i].path);
      fetch (f->session, "GET", u, NULL, &r);
      g_assert_no_error (r.error);
      g_assert_cmpuint (r.status, ==, 200);
      g_assert_cmpstr (r.content_type, ==, pages[i].content_type);
      g_assert_nonnull (r.csp);
      g_assert_nonnull (strstr (r.csp, "default-src 'self'"));
      g_assert_nonnull (strstr (r.csp, "script-src 'self'"));
      g_assert_nonnull (strstr (r.csp, "object-src 'none'"));
      g_assert_nonnull (strstr (r.csp, "frame-ancestors 'none'"));
      g_assert_null (strstr (r.csp, "unsafe"));
      g_assert_cmpstr (r.nosniff, ==, "nosniff");
      g_assert_cmpstr (r.referrer_policy, ==, "no-referrer");
      g_assert_true (body_contains (&r, pages[i].marker));
      response_clear (&r);
    }
}

static void
test_head (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *u = url (f, "/userB");
  Response r = { 0 };

  fetch (f->session, "HEAD", u, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpuint (g_bytes_get_size (r.body), ==, 0);
  response_clear (&r);

  g_free (u);
  u = url (f, "/");
  fetch (f->session, "POST", u, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, 405);
  response_clear (&r);
}

static void
test_not_found (Fixture       *f,
                gconstpointer  data)
{
  static const char *paths[] = {
    "/etc/passwd", "/../x", "/userC", "/socket.io.js", "/userA/", "/useRA", "/index.html",
    "/userA.html", "/peercam-web.gresource.xml", "//userA", "/%2e%2e/etc/passwd", "/style.css/x",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autofree char *u = url (f, paths[i]);
      Response r = { 0 };

      g_test_message ("GET %s", paths[i]);
      fetch (f->session, "GET", u, NULL, &r);
      g_assert_no_error (r.error);
      g_assert_cmpuint (r.status, ==, 404);
      g_assert_cmpstr (r.nosniff, ==, "nosniff");
      g_assert_cmpstr (r.content_type, ==, "text/plain; charset=utf-8");
      response_clear (&r);
    }
}

/* The pages do not take over the server's own endpoint. */
static void
test_socket_io_kept (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *u = url (f, "/socket.io/?EIO=4&transport=polling");
  Response r = { 0 };

  fetch (f->session, "GET", u, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_true (body_contains (&r, "0{"));
  g_assert_true (body_contains (&r, "\"sid\""));
  response_clear (&r);
}

/* ?server= adds that origin (only) to connect-src. */
static void
test_csp_server_param (Fixture       *f,
                       gconstpointer  data)
{
  static const struct {
    const char *query;
    const char *expect;   /* NULL: nothing foreign */
  } cases[] = {
    { "?server=http%3A%2F%2F127.0.0.1%3A3000", "http://127.0.0.1:3000 ws://127.0.0.1:3000" },
    { "?room=a&server=https://relay.example:8443/x?y", "https://relay.example:8443 wss://relay.example:8443" },
    { "?server=http://[::1]:4000", "http://[::1]:4000 ws://[::1]:4000" },
    { "?server=javascript:alert(1)", NULL },
    { "?server=http://a%0d%0aSet-Cookie:x:1", NULL },
    { "?server=http://a%20b:1", NULL },
    { "?server=http://user:pw@host:1", NULL },
    { "?server=ftp://host:21", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strconcat ("/userB", cases[i].query, NULL);
      g_autofree char *u = url (f, path);
      Response r = { 0 };

      g_test_message ("GET %s", path);
      fetch (f->session, "GET", u, NULL, &r);
      g_assert_no_error (r.error);
      g_assert_cmpuint (r.status, ==, 200);
      g_assert_nonnull (r.csp);
      g_test_message ("CSP: %s", r.csp);
      if (cases[i].expect != NULL)
        g_assert_nonnull (strstr (r.csp, cases[i].expect));
      else
        {
          g_autofree char *own = g_strdup_printf ("connect-src 'self' ws://127.0.0.1:%u wss://127.0.0.1:%u;",
                                                  peercam_signaling_server_get_port (f->server),
                                                  peercam_signaling_server_get_port (f->server));
          g_assert_nonnull (strstr (r.csp, own));
        }
      response_clear (&r);
    }
}

/* --- TLS ------------------------------------------------------------------ */

static char *
make_tmp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("peercam-test-web-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_tmp_dir (const char *dir)
{
  g_autofree char *certs = g_build_filename (dir, "peercam", NULL);
  g_autofree char *cert = g_build_filename (certs, "cert.pem", NULL);
  g_autofree char *key = g_build_filename (certs, "key.pem", NULL);

  g_unlink (cert);
  g_unlink (key);
  g_rmdir (certs);
  g_rmdir (dir);
}

static gboolean
is_fingerprint (const char *text)
{
  if (strlen (text) != 32 * 3 - 1)
    return FALSE;
  for (int i = 0; i < 32 * 3 - 1; i++)
    if (i % 3 == 2 ? text[i] != ':' : !(g_ascii_isdigit (text[i]) || (text[i] >= 'A' && text[i] <= 'F')))
      return FALSE;
  return TRUE;
}

static void
test_tls_create_reuse (void)
{
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *dir = g_build_filename (tmp, "peercam", NULL);
  g_autofree char *key = g_build_filename (dir, "key.pem", NULL);
  g_autoptr(GTlsCertificate) first = NULL;
  g_autoptr(GTlsCertificate) second = NULL;
  g_autofree char *fp1 = NULL;
  g_autofree char *fp2 = NULL;
  g_autofree char *hex = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) sans = NULL;
  GStatBuf st;

  first = peercam_tls_load_or_create_certificate (dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (first);

  g_assert_cmpint (g_stat (key, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  fp1 = peercam_tls_fingerprint_sha256 (first);
  g_assert_true (is_fingerprint (fp1));

  /* The same form the client pins, just spelled with colons. */
  hex = peercam_signaling_client_certificate_fingerprint (first);
  {
    g_autofree char *lower = g_ascii_strdown (fp1, -1);
    g_auto(GStrv) parts = g_strsplit (lower, ":", -1);
    g_autofree char *joined = g_strjoinv ("", parts);

    g_assert_cmpstr (joined, ==, hex);
  }

  g_object_get (first, "ip-addresses", &sans, NULL);
  g_assert_nonnull (sans);
  {
    gboolean loopback = FALSE;

    for (guint i = 0; i < sans->len; i++)
      {
        g_autofree char *s = g_inet_address_to_string (g_ptr_array_index (sans, i));

        loopback |= g_str_equal (s, "127.0.0.1");
      }
    g_assert_true (loopback);
  }

  second = peercam_tls_load_or_create_certificate (dir, &error);
  g_assert_no_error (error);
  fp2 = peercam_tls_fingerprint_sha256 (second);
  g_assert_cmpstr (fp1, ==, fp2);

  remove_tmp_dir (tmp);
}

static void
test_tls_https (void)
{
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *dir = g_build_filename (tmp, "peercam", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) certificate = peercam_tls_load_or_create_certificate (dir, &error);
  g_autofree char *pin = NULL;
  g_autofree char *u = NULL;
  g_autofree char *wrong = g_strdup ("00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                                     "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF");
  Fixture f = { 0 };
  Response r = { 0 };

  g_assert_no_error (error);
  pin = peercam_tls_fingerprint_sha256 (certificate);
  fixture_start (&f, certificate);
  u = url (&f, "/userA");

  /* Pinned: accepted. */
  fetch (f.session, "GET", u, pin, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (r.content_type, ==, "text/html; charset=utf-8");
  response_clear (&r);

  /* No pin, or the wrong one: refused (new sessions: no kept-alive
   * connection from the pinned request). */
  {
    g_autoptr(SoupSession) unpinned = soup_session_new ();
    g_autoptr(SoupSession) mispinned = soup_session_new ();

    fetch (unpinned, "GET", u, NULL, &r);
    g_assert_error (r.error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
    response_clear (&r);
    fetch (mispinned, "GET", u, wrong, &r);
    g_assert_error (r.error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
    response_clear (&r);
  }

  /* Plain HTTP to an HTTPS port gets no page. */
  {
    g_autofree char *plain = g_strdup_printf ("http://127.0.0.1:%u/userA", peercam_signaling_server_get_port (f.server));

    g_autoptr(SoupSession) session = soup_session_new ();

    fetch (session, "GET", plain, NULL, &r);
    g_assert_true (r.error != NULL || r.status != 200);
    response_clear (&r);
  }

  fixture_teardown (&f, NULL);
  remove_tmp_dir (tmp);
}

typedef struct {
  PeercamSignalingState wanted;
  gboolean              reached;
} StateWait;

static void
on_client_state (PeercamSignalingClient *client,
                 GParamSpec             *pspec,
                 StateWait              *wait)
{
  PeercamSignalingState state = peercam_signaling_client_get_state (client);

  if (state == wait->wanted || state == PEERCAM_SIGNALING_STATE_FAILED)
    wait->reached = TRUE;
}

/* The signaling client joins over WSS with --pin, and fails without it. */
static void
test_tls_client_pin (void)
{
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *dir = g_build_filename (tmp, "peercam", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) certificate = peercam_tls_load_or_create_certificate (dir, &error);
  g_autofree char *pin = NULL;
  Fixture f = { 0 };

  g_assert_no_error (error);
  pin = peercam_tls_fingerprint_sha256 (certificate);
  fixture_start (&f, certificate);

  for (int pinned = 1; pinned >= 0; pinned--)
    {
      g_autoptr(PeercamSignalingClient) client = peercam_signaling_client_new (f.base);
      StateWait wait = { PEERCAM_SIGNALING_STATE_JOINED, FALSE };
      guint timeout = g_timeout_add_seconds (TIMEOUT_S, on_timeout, NULL);

      peercam_signaling_client_set_reconnect (client, FALSE);
      if (pinned)
        peercam_signaling_client_set_pinned_certificate (client, pin);
      g_signal_connect (client, "notify::state", G_CALLBACK (on_client_state), &wait);
      g_assert_true (peercam_signaling_client_connect (client, &error));
      g_assert_no_error (error);
      g_assert_true (peercam_signaling_client_join (client, "tls", &error));
      g_assert_no_error (error);
      while (!wait.reached)
        g_main_context_iteration (NULL, TRUE);
      g_source_remove (timeout);

      g_assert_cmpint (peercam_signaling_client_get_state (client), ==,
                       pinned ? PEERCAM_SIGNALING_STATE_JOINED : PEERCAM_SIGNALING_STATE_FAILED);
      g_signal_handlers_disconnect_by_data (client, &wait);
      peercam_signaling_client_disconnect (client);
    }

  fixture_teardown (&f, NULL);
  remove_tmp_dir (tmp);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/web/pages", Fixture, NULL, fixture_setup, test_pages, fixture_teardown);
  g_test_add ("/web/head-and-post", Fixture, NULL, fixture_setup, test_head, fixture_teardown);
  g_test_add ("/web/not-found", Fixture, NULL, fixture_setup, test_not_found, fixture_teardown);
  g_test_add ("/web/socket-io-kept", Fixture, NULL, fixture_setup, test_socket_io_kept, fixture_teardown);
  g_test_add ("/web/csp-server-param", Fixture, NULL, fixture_setup, test_csp_server_param, fixture_teardown);
  g_test_add_func ("/tls/create-and-reuse", test_tls_create_reuse);
  g_test_add_func ("/tls/https-pinned", test_tls_https);
  g_test_add_func ("/tls/client-pin", test_tls_client_pin);

  return g_test_run ();
}
