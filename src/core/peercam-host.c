/* peercam-host.c — hosting a room: the embedded server with its pages,
 * token, origins and certificate, and the links that lead to it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "peercam-host-private.h"
#include "peercam-invite.h"
#include "peercam-network.h"
#include "peercam-tls.h"
#include "peercam-web.h"

struct _PeercamHost
{
  GObject                 parent_instance;

  guint                   port;
  char                   *bind_address;
  char                   *token;
  GStrv                   allowed_origins;
  gboolean                tls;
  gboolean                new_certificate;
  guint                   max_viewers;

  PeercamSignalingServer *server;        /* while running */
  char                   *fingerprint;   /* while running with tls */
};

G_DEFINE_FINAL_TYPE (PeercamHost, peercam_host, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PORT,
  PROP_BIND_ADDRESS,
  PROP_TOKEN,
  PROP_ALLOWED_ORIGINS,
  PROP_TLS,
  PROP_NEW_CERTIFICATE,
  PROP_MAX_VIEWERS,
  PROP_RUNNING,
  PROP_FINGERPRINT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* g_set_str() is GLib 2.76. */
static gboolean
set_str (char       **field,
         const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

static void
peercam_host_dispose (GObject *object)
{
  peercam_host_stop (PEERCAM_HOST (object));

  G_OBJECT_CLASS (peercam_host_parent_class)->dispose (object);
}

static void
peercam_host_finalize (GObject *object)
{
  PeercamHost *self = PEERCAM_HOST (object);

  g_clear_pointer (&self->bind_address, g_free);
  g_clear_pointer (&self->token, g_free);
  g_clear_pointer (&self->allowed_origins, g_strfreev);

  G_OBJECT_CLASS (peercam_host_parent_class)->finalize (object);
}

static void
peercam_host_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  PeercamHost *self = PEERCAM_HOST (object);

  switch (prop_id)
    {
    case PROP_PORT: g_value_set_uint (value, peercam_host_get_port (self)); break;
    case PROP_BIND_ADDRESS: g_value_set_string (value, self->bind_address); break;
    case PROP_TOKEN: g_value_set_string (value, self->token); break;
    case PROP_ALLOWED_ORIGINS: g_value_set_boxed (value, self->allowed_origins); break;
    case PROP_TLS: g_value_set_boolean (value, self->tls); break;
    case PROP_NEW_CERTIFICATE: g_value_set_boolean (value, self->new_certificate); break;
    case PROP_MAX_VIEWERS: g_value_set_uint (value, self->max_viewers); break;
    case PROP_RUNNING: g_value_set_boolean (value, self->server != NULL); break;
    case PROP_FINGERPRINT: g_value_set_string (value, self->fingerprint); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_host_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  PeercamHost *self = PEERCAM_HOST (object);

  switch (prop_id)
    {
    case PROP_PORT: peercam_host_set_port (self, g_value_get_uint (value)); break;
    case PROP_BIND_ADDRESS: peercam_host_set_bind_address (self, g_value_get_string (value)); break;
    case PROP_TOKEN: peercam_host_set_token (self, g_value_get_string (value)); break;
    case PROP_ALLOWED_ORIGINS: peercam_host_set_allowed_origins (self, g_value_get_boxed (value)); break;
    case PROP_TLS: peercam_host_set_tls (self, g_value_get_boolean (value)); break;
    case PROP_NEW_CERTIFICATE: peercam_host_set_new_certificate (self, g_value_get_boolean (value)); break;
    case PROP_MAX_VIEWERS: peercam_host_set_max_viewers (self, g_value_get_uint (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_host_class_init (PeercamHostClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = peercam_host_dispose;
  object_class->finalize = peercam_host_finalize;
  object_class->get_property = peercam_host_get_property;
  object_class->set_property = peercam_host_set_property;

  properties[PROP_PORT] = g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 8080, rw);
  properties[PROP_BIND_ADDRESS] = g_param_spec_string ("bind-address", NULL, NULL, NULL, rw);
  properties[PROP_TOKEN] = g_param_spec_string ("token", NULL, NULL, NULL, rw);
  properties[PROP_ALLOWED_ORIGINS] = g_param_spec_boxed ("allowed-origins", NULL, NULL, G_TYPE_STRV, rw);
  properties[PROP_TLS] = g_param_spec_boolean ("tls", NULL, NULL, FALSE, rw);
  properties[PROP_NEW_CERTIFICATE] = g_param_spec_boolean ("new-certificate", NULL, NULL, FALSE, rw);
  properties[PROP_MAX_VIEWERS] = g_param_spec_uint ("max-viewers", NULL, NULL, 1, PEERCAM_OPTIONS_MAX_VIEWERS,
                                                   PEERCAM_OPTIONS_DEFAULT_MAX_VIEWERS, rw);
  properties[PROP_RUNNING] = g_param_spec_boolean ("running", NULL, NULL, FALSE, ro);
  properties[PROP_FINGERPRINT] = g_param_spec_string ("fingerprint", NULL, NULL, NULL, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
peercam_host_init (PeercamHost *self)
{
  self->port = 8080;
  self->max_viewers = PEERCAM_OPTIONS_DEFAULT_MAX_VIEWERS;
}

PeercamHost *
peercam_host_new (void)
{
  return g_object_new (PEERCAM_TYPE_HOST, NULL);
}

/* The command line's hosting options, in one place for the app and headless. */
PeercamHost *
peercam_host_new_for_options (const PeercamOptions *options)
{
  PeercamHost *self = peercam_host_new ();

  if (options->port >= 0)
    peercam_host_set_port (self, (guint) options->port);
  peercam_host_set_bind_address (self, options->bind);
  peercam_host_set_token (self, options->token);
  peercam_host_set_allowed_origins (self, (const char * const *) options->allow_origins);
  peercam_host_set_tls (self, options->tls);
  peercam_host_set_new_certificate (self, options->new_certificate);
  if (options->max_viewers > 0)
    peercam_host_set_max_viewers (self, (guint) options->max_viewers);
  return self;
}

guint
peercam_host_get_port (PeercamHost *self)
{
  g_return_val_if_fail (PEERCAM_IS_HOST (self), 0);

  return self->server ? peercam_signaling_server_get_port (self->server) : self->port;
}

void
peercam_host_set_port (PeercamHost *self,
                       guint        port)
{
  g_return_if_fail (PEERCAM_IS_HOST (self));

  if (self->port == port)
    return;
  self->port = port;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
}

const char *
peercam_host_get_bind_address (PeercamHost *self)
{
  g_return_val_if_fail (PEERCAM_IS_HOST (self), NULL);

  return self->bind_address;
}

void
peercam_host_set_bind_address (PeercamHost *self,
                               const char  *address)
{
  g_return_if_fail (PEERCAM_IS_HOST (self));

  if (set_str (&self->bind_address, address))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BIND_ADDRESS]);
}

const char *
peercam_host_get_token (PeercamHost *self)
{
  g_return_val_if_fail (PEERCAM_IS_HOST (self), NULL);

  return self->token;
}

/* An empty token is no token: anyone may join. */
void
peercam_host_set_token (PeercamHost *self,
                        const char  *token)
{
  g_return_if_fail (PEERCAM_IS_HOST (self));

  if (token != NULL && *token == '\0')
    token = NULL;
  if (set_str (&self->token, token))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKEN]);
}

void
peercam_host_set_allowed_origins (PeercamHost        *self,
                                  const char * const *origins)
{
  g_return_if_fail (PEERCAM_IS_HOST (self));

  g_strfreev (self->allowed_origins);
  self->allowed_origins = g_strdupv ((char **) origins);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALLOWED_ORIGINS]);
}

gboolean
peercam_host_get_tls (PeercamHost *self)
{
  g_return_val_if_fail (PEERCAM_IS_HOST (self), FALSE);

  return self->tls;
}

void
peercam_host_set_tls (PeercamHost *self,
                      gboolean     tls)
{
  g_return_if_fail (PEERCAM_IS_HOST (self));

  tls = !!tls;
  if (self->tls == tls)
    return;
  self->tls = tls;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS]);
}

void
peercam_host_set_new_certificate (PeercamHost *self,
                                  gboolean     new_certificate)
{
  g_return_if_fail (PEERCAM_IS_HOST (self));

  new_certificate = !!new_certificate;
  if (self->new_certificate == new_certificate)
    return;
  self->new_certificate = new_certificate;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NEW_CERTIFICATE]);
}

guint
peercam_host_get_max_viewers (PeercamHost *self)
{
  g_return_val_if_fail (PEERCAM_IS_HOST (self), 0);

  return self->max_viewers;
}

/* Read when the host starts; a running room keeps its capacity. */
void
peercam_host_set_max_viewers (PeercamHost *self,
                              guint        max_viewers)
{
  g_return_if_fail (PEERCAM_IS_HOST (self));

  max_viewers = CLAMP (max_viewers, 1, PEERCAM_OPTIONS_MAX_VIEWERS);
  if (self->max_viewers == max_viewers)
    return;
  self->max_viewers = max_viewers;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_VIEWERS]);
}

static void
log_client_joined (PeercamSignalingServer *server,
                   const char             *room,
                   const char             *id)
{
  g_info ("Room “%s”: %s joined", room, id);
}

static void
log_client_left (PeercamSignalingServer *server,
                 const char             *room,
                 const char             *id)
{
  g_info ("Room “%s”: %s left", room, id);
}

gboolean
peercam_host_start (PeercamHost  *self,
                    GError      **error)
{
  g_autoptr(PeercamSignalingServer) server = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *fingerprint = NULL;

  g_return_val_if_fail (PEERCAM_IS_HOST (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->server != NULL)
    return TRUE;

  server = peercam_signaling_server_new ();
  peercam_signaling_server_set_port (server, self->port);
  /* A room: one caller and its viewers (issue 15). */
  peercam_signaling_server_set_room_capacity (server, 1 + self->max_viewers);
  if (self->bind_address != NULL)
    peercam_signaling_server_set_bind_address (server, self->bind_address);
  if (self->token != NULL)
    peercam_signaling_server_set_token (server, self->token);
  peercam_signaling_server_set_allowed_origins (server, (const char * const *) self->allowed_origins);

  /* The browser pages, and HTTPS/WSS with a self-signed certificate. */
  peercam_web_install (peercam_signaling_server_get_soup_server (server));
  if (self->tls)
    {
      g_autoptr(GTlsCertificate) certificate = peercam_tls_load_or_create_certificate_full (NULL,
        self->new_certificate ? PEERCAM_TLS_FLAGS_NEW_CERTIFICATE : PEERCAM_TLS_FLAGS_NONE, error);

      if (certificate == NULL)
        return FALSE;
      peercam_signaling_server_set_tls_certificate (server, certificate);
      fingerprint = peercam_tls_fingerprint_sha256 (certificate);
    }

  if (!peercam_signaling_server_start (server, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        g_set_error (error, local_error->domain, local_error->code,
                     _("Could not host a room: port %u is already in use"), self->port);
      else
        g_set_error (error, local_error->domain, local_error->code,
                     _("Could not host a room on port %u: %s"), self->port, local_error->message);
      return FALSE;
    }

  g_signal_connect (server, "client-joined", G_CALLBACK (log_client_joined), NULL);
  g_signal_connect (server, "client-left", G_CALLBACK (log_client_left), NULL);
  self->server = g_steal_pointer (&server);
  self->fingerprint = g_steal_pointer (&fingerprint);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  if (self->fingerprint != NULL)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FINGERPRINT]);
  if (self->port == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  return TRUE;
}

void
peercam_host_stop (PeercamHost *self)
{
  g_return_if_fail (PEERCAM_IS_HOST (self));

  if (self->server == NULL)
    return;

  peercam_signaling_server_stop (self->server);
  g_clear_object (&self->server);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  if (self->fingerprint != NULL)
    {
      g_clear_pointer (&self->fingerprint, g_free);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FINGERPRINT]);
    }
}

gboolean
peercam_host_get_running (PeercamHost *self)
{
  g_return_val_if_fail (PEERCAM_IS_HOST (self), FALSE);

  return self->server != NULL;
}

PeercamSignalingServer *
peercam_host_get_server (PeercamHost *self)
{
  g_return_val_if_fail (PEERCAM_IS_HOST (self), NULL);

  return self->server;
}

const char *
peercam_host_get_fingerprint (PeercamHost *self)
{
  g_return_val_if_fail (PEERCAM_IS_HOST (self), NULL);

  return self->fingerprint;
}

static const char *
scheme (PeercamHost *self)
{
  return self->fingerprint != NULL ? "https" : "http";
}

char *
peercam_host_dup_local_url (PeercamHost *self)
{
  const char *bind;
  guint port;

  g_return_val_if_fail (PEERCAM_IS_HOST (self), NULL);

  if (self->server == NULL)
    return NULL;

  bind = self->bind_address;
  port = peercam_host_get_port (self);
  if (bind != NULL && strchr (bind, ':') != NULL && !g_str_equal (bind, "::"))
    return g_strdup_printf ("%s://[%s]:%u", scheme (self), bind, port);
  if (bind != NULL && !g_str_equal (bind, "0.0.0.0") && !g_str_equal (bind, "::"))
    return g_strdup_printf ("%s://%s:%u", scheme (self), bind, port);
  return g_strdup_printf ("%s://127.0.0.1:%u", scheme (self), port);
}

static char *
dup_invite (PeercamHost *self,
            const char  *url,
            const char  *room)
{
  g_autoptr(PeercamInvite) invite = peercam_invite_new (url, room, self->token, self->fingerprint);

  return peercam_invite_to_string (invite);
}

GStrv
peercam_host_dup_invites (PeercamHost *self,
                          const char  *room)
{
  g_auto(GStrv) urls = NULL;
  g_autoptr(GStrvBuilder) invites = g_strv_builder_new ();

  g_return_val_if_fail (PEERCAM_IS_HOST (self), NULL);

  if (self->server == NULL)
    return g_strv_builder_end (invites);

  urls = peercam_network_get_join_urls (scheme (self), peercam_host_get_port (self), self->bind_address);
  for (guint i = 0; urls[i] != NULL; i++)
    {
      g_autofree char *invite = dup_invite (self, urls[i], room);

      g_strv_builder_add (invites, invite);
    }
  return g_strv_builder_end (invites);
}

char *
peercam_host_dup_local_invite (PeercamHost *self,
                               const char  *room)
{
  g_autofree char *url = NULL;

  g_return_val_if_fail (PEERCAM_IS_HOST (self), NULL);

  url = peercam_host_dup_local_url (self);
  return url ? dup_invite (self, url, room) : NULL;
}
