/* peercam-launch.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "peercam-call-settings.h"
#include "peercam-host-private.h"
#include "peercam-invite.h"
#include "peercam-launch.h"
#include "peercam-options.h"
#include "peercam-session-private.h"

struct _PeercamLaunch
{
  GObject         parent_instance;

  PeercamOptions *options;
};

G_DEFINE_FINAL_TYPE (PeercamLaunch, peercam_launch, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_VIEWER,
  PROP_SERVER,
  PROP_ROOM,
  PROP_TOKEN,
  PROP_PIN,
  PROP_SOURCE,
  PROP_CALL,
  PROP_HOST,
  PROP_TLS,
  PROP_PORT,
  PROP_MAX_VIEWERS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
peercam_launch_finalize (GObject *object)
{
  PeercamLaunch *self = PEERCAM_LAUNCH (object);

  g_clear_pointer (&self->options, peercam_options_free);

  G_OBJECT_CLASS (peercam_launch_parent_class)->finalize (object);
}

static void
peercam_launch_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  PeercamLaunch *self = PEERCAM_LAUNCH (object);
  PeercamOptions *options = self->options;

  switch (prop_id)
    {
    case PROP_VIEWER: g_value_set_boolean (value, options->mode == PEERCAM_MODE_VIEWER); break;
    case PROP_SERVER: g_value_set_string (value, options->server); break;
    case PROP_ROOM: g_value_set_string (value, options->room); break;
    case PROP_TOKEN: g_value_set_string (value, options->token); break;
    case PROP_PIN: g_value_set_string (value, options->pin); break;
    case PROP_SOURCE: g_value_set_string (value, options->source); break;
    case PROP_CALL: g_value_set_boolean (value, options->call); break;
    case PROP_HOST: g_value_set_boolean (value, options->host); break;
    case PROP_TLS: g_value_set_boolean (value, options->tls); break;
    case PROP_PORT: g_value_set_int (value, options->port); break;
    case PROP_MAX_VIEWERS: g_value_set_int (value, options->max_viewers); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_launch_class_init (PeercamLaunchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = peercam_launch_finalize;
  object_class->get_property = peercam_launch_get_property;

  properties[PROP_VIEWER] = g_param_spec_boolean ("viewer", NULL, NULL, FALSE, ro);
  properties[PROP_SERVER] = g_param_spec_string ("server", NULL, NULL, NULL, ro);
  properties[PROP_ROOM] = g_param_spec_string ("room", NULL, NULL, NULL, ro);
  properties[PROP_TOKEN] = g_param_spec_string ("token", NULL, NULL, NULL, ro);
  properties[PROP_PIN] = g_param_spec_string ("pin", NULL, NULL, NULL, ro);
  properties[PROP_SOURCE] = g_param_spec_string ("source", NULL, NULL, NULL, ro);
  properties[PROP_CALL] = g_param_spec_boolean ("call", NULL, NULL, FALSE, ro);
  properties[PROP_HOST] = g_param_spec_boolean ("host", NULL, NULL, FALSE, ro);
  properties[PROP_TLS] = g_param_spec_boolean ("tls", NULL, NULL, FALSE, ro);
  properties[PROP_PORT] = g_param_spec_int ("port", NULL, NULL, -1, 65535, -1, ro);
  properties[PROP_MAX_VIEWERS] = g_param_spec_int ("max-viewers", NULL, NULL, 0, G_MAXINT, 0, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
peercam_launch_init (PeercamLaunch *self)
{
}

const GOptionEntry *
peercam_launch_get_entries (void)
{
  return peercam_options_get_entries ();
}

PeercamLaunch *
peercam_launch_new (void)
{
  PeercamLaunch *self = g_object_new (PEERCAM_TYPE_LAUNCH, NULL);

  self->options = peercam_options_new ();
  return self;
}

PeercamLaunch *
peercam_launch_new_from_dict (GVariantDict  *dict,
                              GError       **error)
{
  PeercamOptions *options = peercam_options_new_from_dict (dict, error);
  PeercamLaunch *self;

  if (options == NULL)
    return NULL;
  self = g_object_new (PEERCAM_TYPE_LAUNCH, NULL);
  self->options = options;
  return self;
}

#define GETTER(type, name, expr)                         \
  type                                                   \
  peercam_launch_get_##name (PeercamLaunch *self)        \
  {                                                      \
    g_return_val_if_fail (PEERCAM_IS_LAUNCH (self), 0);  \
    return (expr);                                       \
  }

GETTER (gboolean, viewer, self->options->mode == PEERCAM_MODE_VIEWER)
GETTER (const char *, server, self->options->server)
GETTER (const char *, room, self->options->room)
GETTER (const char *, token, self->options->token)
GETTER (const char *, pin, self->options->pin)
GETTER (const char *, source, self->options->source)
GETTER (gboolean, call, self->options->call)
GETTER (gboolean, host, self->options->host)
GETTER (gboolean, tls, self->options->tls)
GETTER (int, port, self->options->port)
GETTER (int, max_viewers, self->options->max_viewers)

void
peercam_launch_forget_join (PeercamLaunch *self)
{
  g_return_if_fail (PEERCAM_IS_LAUNCH (self));

  if (self->options->server != NULL)
    {
      g_clear_pointer (&self->options->server, g_free);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER]);
    }
  if (self->options->call)
    {
      self->options->call = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CALL]);
    }
}

void
peercam_launch_configure_session (PeercamLaunch  *self,
                                  PeercamSession *session)
{
  g_return_if_fail (PEERCAM_IS_LAUNCH (self));
  g_return_if_fail (PEERCAM_IS_SESSION (session));

  peercam_call_settings_apply_options (peercam_session_get_engine (session), self->options);
}

PeercamHost *
peercam_launch_new_host (PeercamLaunch *self)
{
  g_return_val_if_fail (PEERCAM_IS_LAUNCH (self), NULL);

  return peercam_host_new_for_options (self->options);
}

gboolean
peercam_launch_parse_invite (const char  *link,
                             char       **server_url,
                             char       **room,
                             char       **token,
                             char       **pin,
                             GError     **error)
{
  g_autoptr(PeercamInvite) invite = NULL;

  g_return_val_if_fail (link != NULL, FALSE);

  invite = peercam_invite_parse (link, error);
  if (invite == NULL)
    return FALSE;
  if (server_url)
    *server_url = g_steal_pointer (&invite->server_url);
  if (room)
    *room = g_steal_pointer (&invite->room);
  if (token)
    *token = g_steal_pointer (&invite->token);
  if (pin)
    *pin = g_steal_pointer (&invite->pin);
  return TRUE;
}

gboolean
peercam_launch_validate_url (const char  *url,
                             GError     **error)
{
  return peercam_options_validate_url (url, error);
}
