/* peercam-fake-portal.c — see peercam-fake-portal.h
 *
 * The fake is a GDBus object on a private bus (GTestDBus), served from its own
 * thread and connection: libportal makes blocking calls, which a service on
 * the test's own main context could never answer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-fake-portal.h"

#include <sys/socket.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>

static const char fake_portal_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.portal.Camera'>"
  "    <method name='AccessCamera'>"
  "      <arg type='a{sv}' name='options' direction='in'/>"
  "      <arg type='o' name='handle' direction='out'/>"
  "    </method>"
  "    <method name='OpenPipeWireRemote'>"
  "      <arg type='a{sv}' name='options' direction='in'/>"
  "      <arg type='h' name='fd' direction='out'/>"
  "    </method>"
  "    <property name='IsCameraPresent' type='b' access='read'/>"
  "    <property name='version' type='u' access='read'/>"
  "  </interface>"
  "  <interface name='org.freedesktop.portal.ScreenCast'>"
  "    <method name='CreateSession'>"
  "      <arg type='a{sv}' name='options' direction='in'/>"
  "      <arg type='o' name='handle' direction='out'/>"
  "    </method>"
  "    <method name='SelectSources'>"
  "      <arg type='o' name='session_handle' direction='in'/>"
  "      <arg type='a{sv}' name='options' direction='in'/>"
  "      <arg type='o' name='handle' direction='out'/>"
  "    </method>"
  "    <method name='Start'>"
  "      <arg type='o' name='session_handle' direction='in'/>"
  "      <arg type='s' name='parent_window' direction='in'/>"
  "      <arg type='a{sv}' name='options' direction='in'/>"
  "      <arg type='o' name='handle' direction='out'/>"
  "    </method>"
  "    <method name='OpenPipeWireRemote'>"
  "      <arg type='o' name='session_handle' direction='in'/>"
  "      <arg type='a{sv}' name='options' direction='in'/>"
  "      <arg type='h' name='fd' direction='out'/>"
  "    </method>"
  "    <property name='AvailableSourceTypes' type='u' access='read'/>"
  "    <property name='AvailableCursorModes' type='u' access='read'/>"
  "    <property name='version' type='u' access='read'/>"
  "  </interface>"
  "</node>";

typedef struct {
  char            *bus_address;
  GThread         *thread;
  GMainContext    *context;
  GMainLoop       *loop;
  GDBusConnection *connection;
  GDBusNodeInfo   *info;
  guint            registration;
  guint            screencast_registration;

  GMutex           lock;
  GCond            cond;
  gboolean         ready;

  /* set by the test, read by the service thread */
  int              response;          /* 0 granted, 1 cancelled by user, 2 other */
  int              access_calls;
  int              open_calls;
  char            *last_handle;
  /* ScreenCast */
  int              select_response;
  int              start_response;
  guint32          node_id;
  int              streams_kind;          /* 0 one stream, 1 none, 2 wrong type */
  int              screencast_calls[4];   /* CreateSession, SelectSources, Start, OpenPipeWireRemote */
  char            *last_session;
  guint32          last_types;
  gboolean         silent_remote;         /* OpenPipeWireRemote: a socket nobody answers on */
  GPtrArray       *silent_peers;          /* their other ends, held open */
} FakePortal;

static FakePortal fake;

/* The Request path the portal spec promises: the caller's unique name
 * without ':' and with '.' → '_', then the caller's token. */
static char *
object_path_for (const char *kind,
                 const char *sender,
                 GVariant   *options,
                 const char *key)
{
  g_autofree char *escaped = g_strdup (sender + 1);
  const char *token = "t";

  g_variant_lookup (options, key, "&s", &token);
  g_strdelimit (escaped, ".", '_');
  return g_strdup_printf ("/org/freedesktop/portal/desktop/%s/%s/%s", kind, escaped, token);
}

/* Like xdg-desktop-portal: a unicast Request::Response to the caller
 * (libportal adds no match rule), from the connection that owns the name. */
static void
respond (GDBusConnection *connection,
         const char      *sender,
         const char      *handle,
         int              response,
         GVariant        *results)
{
  if (results == NULL)
    results = g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0);
  g_dbus_connection_emit_signal (connection, sender, handle,
                                 "org.freedesktop.portal.Request", "Response",
                                 g_variant_new ("(u@a{sv})", response, results), NULL);
}

static void
return_dead_socket (GDBusMethodInvocation *invocation)
{
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  int pair[2];

  /* A socket whose peer is gone: any PipeWire client on it sees a hang-up
   * at once instead of waiting for a daemon. */
  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair));
  g_unix_fd_list_append (fds, pair[0], NULL);
  close (pair[0]);
  close (pair[1]);
  g_dbus_method_invocation_return_value_with_unix_fd_list (invocation, g_variant_new ("(h)", 0), fds);
}

/* A socket whose peer stays open but never reads or writes: a PipeWire
 * client on it waits for an answer that does not come (a daemon that
 * hangs). The peer ends are closed when the fake stops. */
static void
return_silent_socket (GDBusMethodInvocation *invocation)
{
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  int pair[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair));
  g_unix_fd_list_append (fds, pair[0], NULL);
  close (pair[0]);
  g_mutex_lock (&fake.lock);
  if (fake.silent_peers == NULL)
    fake.silent_peers = g_ptr_array_new ();
  g_ptr_array_add (fake.silent_peers, GINT_TO_POINTER (pair[1]));
  g_mutex_unlock (&fake.lock);
  g_dbus_method_invocation_return_value_with_unix_fd_list (invocation, g_variant_new ("(h)", 0), fds);
}

static void
screencast_method_call (GDBusConnection       *connection,
                        const char            *sender,
                        const char            *method_name,
                        GVariant              *parameters,
                        GDBusMethodInvocation *invocation)
{
  g_autoptr(GVariant) options = NULL;
  g_autofree char *handle = NULL;
  const char *session = NULL;
  int response = 0;

  if (g_str_equal (method_name, "CreateSession"))
    {
      g_autofree char *session_path = NULL;
      GVariantBuilder results;

      g_variant_get (parameters, "(@a{sv})", &options);
      handle = object_path_for ("request", sender, options, "handle_token");
      session_path = object_path_for ("session", sender, options, "session_handle_token");
      g_mutex_lock (&fake.lock);
      fake.screencast_calls[0]++;
      g_free (fake.last_session);
      fake.last_session = g_strdup (session_path);
      g_mutex_unlock (&fake.lock);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", handle));
      g_variant_builder_init (&results, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&results, "{sv}", "session_handle", g_variant_new_string (session_path));
      respond (connection, sender, handle, 0, g_variant_builder_end (&results));
      return;
    }

  if (g_str_equal (method_name, "OpenPipeWireRemote"))
    {
      gboolean silent;

      g_mutex_lock (&fake.lock);
      fake.screencast_calls[3]++;
      silent = fake.silent_remote;
      g_mutex_unlock (&fake.lock);
      if (silent)
        return_silent_socket (invocation);
      else
        return_dead_socket (invocation);
      return;
    }

  if (g_str_equal (method_name, "SelectSources"))
    g_variant_get (parameters, "(&o@a{sv})", &session, &options);
  else if (g_str_equal (method_name, "Start"))
    g_variant_get (parameters, "(&o&s@a{sv})", &session, NULL, &options);
  else
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                             "no method %s", method_name);
      return;
    }

  handle = object_path_for ("request", sender, options, "handle_token");
  g_mutex_lock (&fake.lock);
  if (g_strcmp0 (session, fake.last_session) != 0)
    {
      g_mutex_unlock (&fake.lock);
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                             "no session %s", session);
      return;
    }
  if (g_str_equal (method_name, "SelectSources"))
    {
      fake.screencast_calls[1]++;
      response = fake.select_response;
      g_variant_lookup (options, "types", "u", &fake.last_types);
    }
  else
    {
      fake.screencast_calls[2]++;
      response = fake.start_response;
    }
  g_mutex_unlock (&fake.lock);

  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", handle));
  if (g_str_equal (method_name, "Start") && response == 0 && fake.streams_kind != 0)
    {
      GVariantBuilder results;

      /* A portal that answers without a usable stream. */
      g_variant_builder_init (&results, G_VARIANT_TYPE_VARDICT);
      if (fake.streams_kind == 2)
        g_variant_builder_add (&results, "{sv}", "streams", g_variant_new_string ("garbage"));
      respond (connection, sender, handle, 0, g_variant_builder_end (&results));
    }
  else if (g_str_equal (method_name, "Start") && response == 0)
    {
      GVariantBuilder results, streams, props;

      g_variant_builder_init (&props, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&props, "{sv}", "source_type", g_variant_new_uint32 (1));
      g_variant_builder_add (&props, "{sv}", "size", g_variant_new ("(ii)", 1280, 720));
      g_variant_builder_init (&streams, G_VARIANT_TYPE ("a(ua{sv})"));
      g_variant_builder_add (&streams, "(u@a{sv})", fake.node_id, g_variant_builder_end (&props));
      g_variant_builder_init (&results, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&results, "{sv}", "streams", g_variant_builder_end (&streams));
      respond (connection, sender, handle, 0, g_variant_builder_end (&results));
    }
  else
    respond (connection, sender, handle, response, NULL);
}

static void
fake_method_call (GDBusConnection       *connection,
                  const char            *sender,
                  const char            *object_path,
                  const char            *interface_name,
                  const char            *method_name,
                  GVariant              *parameters,
                  GDBusMethodInvocation *invocation,
                  gpointer               user_data)
{
  if (g_str_equal (interface_name, "org.freedesktop.portal.ScreenCast"))
    screencast_method_call (connection, sender, method_name, parameters, invocation);
  else if (g_str_equal (method_name, "AccessCamera"))
    {
      g_autoptr(GVariant) options = NULL;
      g_autofree char *escaped = NULL;
      g_autofree char *handle = NULL;
      const char *token = "t";
      int response;

      g_variant_get (parameters, "(@a{sv})", &options);
      g_variant_lookup (options, "handle_token", "&s", &token);

      /* The Request path the portal spec promises: the caller's unique name
       * without ':' and with '.' → '_', then the caller's token. */
      escaped = g_strdup (sender + 1);
      g_strdelimit (escaped, ".", '_');
      handle = g_strdup_printf ("/org/freedesktop/portal/desktop/request/%s/%s", escaped, token);

      g_mutex_lock (&fake.lock);
      fake.access_calls++;
      response = fake.response;
      g_free (fake.last_handle);
      fake.last_handle = g_strdup (handle);
      g_mutex_unlock (&fake.lock);

      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", handle));

      /* Like xdg-desktop-portal: a unicast signal to the caller (libportal
       * adds no match rule), sent from the connection that owns the name. */
      g_dbus_connection_emit_signal (connection, sender, handle,
                                     "org.freedesktop.portal.Request", "Response",
                                     g_variant_new ("(u@a{sv})", response,
                                                    g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)),
                                     NULL);
    }
  else if (g_str_equal (method_name, "OpenPipeWireRemote"))
    {
      g_mutex_lock (&fake.lock);
      fake.open_calls++;
      g_mutex_unlock (&fake.lock);
      return_dead_socket (invocation);
    }
  else
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                             "no method %s", method_name);
    }
}

static GVariant *
fake_get_property (GDBusConnection  *connection,
                   const char       *sender,
                   const char       *object_path,
                   const char       *interface_name,
                   const char       *property_name,
                   GError          **error,
                   gpointer          user_data)
{
  if (g_str_equal (property_name, "IsCameraPresent"))
    return g_variant_new_boolean (TRUE);
  if (g_str_equal (property_name, "AvailableSourceTypes"))
    return g_variant_new_uint32 (1 | 2);   /* monitor, window */
  if (g_str_equal (property_name, "AvailableCursorModes"))
    return g_variant_new_uint32 (1 | 2 | 4);
  if (g_str_equal (property_name, "version"))
    return g_variant_new_uint32 (g_str_equal (interface_name, "org.freedesktop.portal.ScreenCast") ? 4 : 1);
  return NULL;
}

static const GDBusInterfaceVTable fake_vtable = {
  .method_call = fake_method_call,
  .get_property = fake_get_property,
};

static gpointer
fake_thread (gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint32 result = 0;

  g_main_context_push_thread_default (fake.context);

  fake.connection = g_dbus_connection_new_for_address_sync (
      fake.bus_address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);

  fake.info = g_dbus_node_info_new_for_xml (fake_portal_xml, &error);
  g_assert_no_error (error);
  fake.registration = g_dbus_connection_register_object (fake.connection,
                                                         "/org/freedesktop/portal/desktop",
                                                         fake.info->interfaces[0],
                                                         &fake_vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  fake.screencast_registration = g_dbus_connection_register_object (fake.connection,
                                                                    "/org/freedesktop/portal/desktop",
                                                                    fake.info->interfaces[1],
                                                                    &fake_vtable, NULL, NULL, &error);
  g_assert_no_error (error);

  /* Owned synchronously so the name is there before the first test looks. */
  reply = g_dbus_connection_call_sync (fake.connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", "org.freedesktop.portal.Desktop", 4 /* DO_NOT_QUEUE */),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &result);
  g_assert_cmpuint (result, ==, 1 /* PRIMARY_OWNER */);

  g_mutex_lock (&fake.lock);
  fake.ready = TRUE;
  g_cond_signal (&fake.cond);
  g_mutex_unlock (&fake.lock);

  g_main_loop_run (fake.loop);

  g_dbus_connection_unregister_object (fake.connection, fake.registration);
  g_dbus_connection_unregister_object (fake.connection, fake.screencast_registration);
  g_dbus_connection_close_sync (fake.connection, NULL, NULL);
  g_clear_object (&fake.connection);
  g_clear_pointer (&fake.info, g_dbus_node_info_unref);
  g_main_context_pop_thread_default (fake.context);

  return NULL;
}

void
peercam_fake_portal_start (const char *bus_address)
{
  g_return_if_fail (bus_address != NULL);

  if (fake.thread != NULL)
    return;

  fake.ready = FALSE;
  fake.node_id = 42;
  fake.bus_address = g_strdup (bus_address);
  fake.context = g_main_context_new ();
  fake.loop = g_main_loop_new (fake.context, FALSE);
  fake.thread = g_thread_new ("fake-portal", fake_thread, NULL);

  g_mutex_lock (&fake.lock);
  while (!fake.ready)
    g_cond_wait (&fake.cond, &fake.lock);
  g_mutex_unlock (&fake.lock);
}

static void close_silent_peers (void);

void
peercam_fake_portal_stop (void)
{
  if (fake.thread == NULL)
    return;

  g_main_loop_quit (fake.loop);
  g_thread_join (fake.thread);
  fake.thread = NULL;
  g_clear_pointer (&fake.loop, g_main_loop_unref);
  g_clear_pointer (&fake.context, g_main_context_unref);
  g_clear_pointer (&fake.last_handle, g_free);
  g_clear_pointer (&fake.last_session, g_free);
  g_clear_pointer (&fake.bus_address, g_free);
  close_silent_peers ();
}

gboolean
peercam_fake_portal_is_running (void)
{
  return fake.thread != NULL;
}

void
peercam_fake_portal_set_response (int response)
{
  g_mutex_lock (&fake.lock);
  fake.response = response;
  g_mutex_unlock (&fake.lock);
}

int
peercam_fake_portal_get_access_calls (void)
{
  int calls;

  g_mutex_lock (&fake.lock);
  calls = fake.access_calls;
  g_mutex_unlock (&fake.lock);
  return calls;
}

int
peercam_fake_portal_get_open_calls (void)
{
  int calls;

  g_mutex_lock (&fake.lock);
  calls = fake.open_calls;
  g_mutex_unlock (&fake.lock);
  return calls;
}

char *
peercam_fake_portal_dup_last_handle (void)
{
  char *handle;

  g_mutex_lock (&fake.lock);
  handle = g_strdup (fake.last_handle);
  g_mutex_unlock (&fake.lock);
  return handle;
}

void
peercam_fake_portal_set_screencast_responses (int select_response,
                                              int start_response)
{
  g_mutex_lock (&fake.lock);
  fake.select_response = select_response;
  fake.start_response = start_response;
  g_mutex_unlock (&fake.lock);
}

void
peercam_fake_portal_set_screencast_streams (int kind)
{
  g_mutex_lock (&fake.lock);
  fake.streams_kind = kind;
  g_mutex_unlock (&fake.lock);
}

static void
close_silent_peers (void)
{
  for (guint i = 0; fake.silent_peers != NULL && i < fake.silent_peers->len; i++)
    close (GPOINTER_TO_INT (g_ptr_array_index (fake.silent_peers, i)));
  g_clear_pointer (&fake.silent_peers, g_ptr_array_unref);
}

void
peercam_fake_portal_set_screencast_silent (gboolean silent)
{
  g_mutex_lock (&fake.lock);
  fake.silent_remote = silent;
  /* The silent "daemon" goes away: its clients see a hang-up. */
  if (!silent)
    close_silent_peers ();
  g_mutex_unlock (&fake.lock);
}

int
peercam_fake_portal_get_screencast_calls (const char *method)
{
  const char *methods[] = { "CreateSession", "SelectSources", "Start", "OpenPipeWireRemote" };
  int calls = -1;

  g_mutex_lock (&fake.lock);
  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_str_equal (method, methods[i]))
      calls = fake.screencast_calls[i];
  g_mutex_unlock (&fake.lock);
  return calls;
}

guint32
peercam_fake_portal_get_screencast_types (void)
{
  guint32 types;

  g_mutex_lock (&fake.lock);
  types = fake.last_types;
  g_mutex_unlock (&fake.lock);
  return types;
}

guint32
peercam_fake_portal_get_screencast_node (void)
{
  return 42;
}
