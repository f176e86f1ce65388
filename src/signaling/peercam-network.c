/* peercam-network.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "peercam-network.h"

static gboolean
strv_contains (GPtrArray  *array,
               const char *value)
{
  for (guint i = 0; i < array->len; i++)
    if (g_str_equal (g_ptr_array_index (array, i), value))
      return TRUE;
  return FALSE;
}

/* Up, non-loopback interfaces first (IPv4 before IPv6); link-local IPv6 is
 * left out because a URL with a zone id is useless to another machine. */
char **
peercam_network_get_lan_addresses (gboolean include_loopback)
{
  g_autoptr(GPtrArray) v4 = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) v6 = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) loopback = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  struct ifaddrs *list = NULL;

  if (getifaddrs (&list) == 0)
    {
      for (struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next)
        {
          g_autoptr(GSocketAddress) sockaddr = NULL;
          GInetAddress *address;
          g_autofree char *text = NULL;
          gsize len;

          if (ifa->ifa_addr == NULL || !(ifa->ifa_flags & IFF_UP))
            continue;
          if (ifa->ifa_addr->sa_family == AF_INET)
            len = sizeof (struct sockaddr_in);
          else if (ifa->ifa_addr->sa_family == AF_INET6)
            len = sizeof (struct sockaddr_in6);
          else
            continue;

          sockaddr = g_socket_address_new_from_native (ifa->ifa_addr, len);
          if (sockaddr == NULL)
            continue;
          address = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sockaddr));
          if (g_inet_address_get_is_link_local (address))
            continue;

          text = g_inet_address_to_string (address);
          if (g_inet_address_get_is_loopback (address))
            {
              if (!strv_contains (loopback, text))
                g_ptr_array_add (loopback, g_steal_pointer (&text));
            }
          else if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4)
            {
              if (!strv_contains (v4, text))
                g_ptr_array_add (v4, g_steal_pointer (&text));
            }
          else if (!strv_contains (v6, text))
            {
              g_ptr_array_add (v6, g_steal_pointer (&text));
            }
        }
      freeifaddrs (list);
    }

  for (guint i = 0; i < v4->len; i++)
    g_strv_builder_add (builder, g_ptr_array_index (v4, i));
  for (guint i = 0; i < v6->len; i++)
    g_strv_builder_add (builder, g_ptr_array_index (v6, i));
  if (include_loopback || (v4->len == 0 && v6->len == 0))
    {
      if (loopback->len == 0)
        g_ptr_array_add (loopback, g_strdup ("127.0.0.1"));
      for (guint i = 0; i < loopback->len; i++)
        g_strv_builder_add (builder, g_ptr_array_index (loopback, i));
    }

  return g_strv_builder_end (builder);
}

char **
peercam_network_get_join_urls (const char *scheme,
                               guint       port,
                               const char *bind_address)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) addresses = NULL;
  g_autoptr(GInetAddress) bound = NULL;

  if (bind_address != NULL)
    bound = g_inet_address_new_from_string (bind_address);

  if (bound != NULL && !g_inet_address_get_is_any (bound))
    {
      addresses = g_new0 (char *, 2);
      addresses[0] = g_strdup (bind_address);
    }
  else
    {
      addresses = peercam_network_get_lan_addresses (FALSE);
    }

  for (guint i = 0; addresses[i] != NULL; i++)
    {
      g_autofree char *url = NULL;

      if (strchr (addresses[i], ':') != NULL)
        url = g_strdup_printf ("%s://[%s]:%u", scheme, addresses[i], port);
      else
        url = g_strdup_printf ("%s://%s:%u", scheme, addresses[i], port);
      g_strv_builder_add (builder, url);
    }

  return g_strv_builder_end (builder);
}
