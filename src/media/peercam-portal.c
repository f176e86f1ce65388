/* peercam-portal.c — what the camera and ScreenCast portals share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "peercam-portal.h"

#define PORTAL_BUS_NAME    "org.freedesktop.portal.Desktop"
#define PORTAL_OBJECT_PATH "/org/freedesktop/portal/desktop"

/* The probes run on the caller's thread. */
#define PROBE_TIMEOUT_MS 2000

GDBusConnection *
peercam_portal_get_bus (void)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr(GVariant) owner = NULL;
  gboolean has_owner = FALSE;

  if (bus == NULL || g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
    return g_steal_pointer (&bus);

  owner = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", PORTAL_BUS_NAME),
                                       G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE,
                                       PROBE_TIMEOUT_MS, NULL, NULL);
  if (owner != NULL)
    g_variant_get (owner, "(b)", &has_owner);
  return has_owner ? g_steal_pointer (&bus) : NULL;
}

GVariant *
peercam_portal_get_property (GDBusConnection *bus,
                             const char      *interface,
                             const char      *property)
{
  g_autoptr(GVariant) reply = NULL;
  GVariant *value = NULL;

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (bus), NULL);

  reply = g_dbus_connection_call_sync (bus, PORTAL_BUS_NAME, PORTAL_OBJECT_PATH,
                                       "org.freedesktop.DBus.Properties", "Get",
                                       g_variant_new ("(ss)", interface, property),
                                       G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                       PROBE_TIMEOUT_MS, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(v)", &value);
  return value;
}

guint32
peercam_portal_get_uint (GDBusConnection *bus,
                         const char      *interface,
                         const char      *property)
{
  g_autoptr(GVariant) value = peercam_portal_get_property (bus, interface, property);

  return value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32) ? g_variant_get_uint32 (value) : 0;
}

gboolean
peercam_portal_ensure (int         *available,
                       XdpPortal  **portal,
                       gboolean   (*probe) (gpointer data),
                       gpointer     data)
{
  if (*available < 0)
    *available = probe (data);
  if (*available && *portal == NULL)
    *portal = xdp_portal_new ();
  return *available;
}

PeercamPortalAnswer
peercam_portal_answer_of (GTask        *task,
                          const GError *error)
{
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    return PEERCAM_PORTAL_ANSWER_CANCELLED;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return PEERCAM_PORTAL_ANSWER_DISMISSED;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_FAILED))
    return PEERCAM_PORTAL_ANSWER_REFUSED;
  return PEERCAM_PORTAL_ANSWER_FAILED;
}
