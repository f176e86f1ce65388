/* peercam-sio-signaller.c — the signaller over the Socket.IO room protocol
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "peercam-sio-signaller"

#include "peercam-sio-signaller.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* Browsers' ids are a few characters ("0", "video0"); the bound keeps a
 * hostile one from being carried along. */
#define MAX_MID_LENGTH 64

struct _PeercamSioSignaller
{
  GObject parent_instance;

  PeercamSignalingClient *client;
  char *room;
  GHashTable *peers;           /* announced, "" for the unnamed peer */
};

static void peercam_sio_signaller_iface_init (PeercamSignallerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PeercamSioSignaller, peercam_sio_signaller, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (PEERCAM_TYPE_SIGNALLER,
                                                      peercam_sio_signaller_iface_init))

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_ROOM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
protocol_error (PeercamSioSignaller   *self,
                PeercamSignallerError  code,
                const char            *message)
{
  g_autoptr(GError) error = g_error_new_literal (PEERCAM_SIGNALLER_ERROR, code, message);

  peercam_signaller_emit_error (PEERCAM_SIGNALLER (self), error);
}

static void
announce (PeercamSioSignaller *self,
          const char          *peer)
{
  g_hash_table_add (self->peers, g_strdup (peer ? peer : ""));
  peercam_signaller_emit_peer_joined (PEERCAM_SIGNALLER (self), peer);
  peercam_signaller_emit_session_requested (PEERCAM_SIGNALLER (self), peer);
}

/* ---- the wire → typed values ---------------------------------------------- */

static void
on_client_signal (PeercamSioSignaller *self,
                  JsonNode            *node,
                  const char          *from)
{
  JsonObject *object = json_node_get_object (node);  /* the client checked */
  JsonNode *type_node = json_object_get_member (object, "type");
  JsonNode *sdp_node = json_object_get_member (object, "sdp");
  const char *type = NULL;
  PeercamDescriptionType description_type;

  if (type_node && JSON_NODE_HOLDS_VALUE (type_node) && json_node_get_value_type (type_node) == G_TYPE_STRING)
    type = json_node_get_string (type_node);

  if (g_strcmp0 (type, "bye") == 0)
    {
      g_hash_table_remove (self->peers, from ? from : "");
      peercam_signaller_emit_session_ended (PEERCAM_SIGNALLER (self), from);
      return;
    }
  if (!peercam_description_type_from_string (type, &description_type))
    {
      g_autofree char *message = g_strdup_printf (_("The peer sent a signal of unknown type “%s”"),
                                                  type ? type : "(none)");

      protocol_error (self, PEERCAM_SIGNALLER_ERROR_INVALID_DESCRIPTION, message);
      return;
    }
  if (sdp_node == NULL || !JSON_NODE_HOLDS_VALUE (sdp_node) ||
      json_node_get_value_type (sdp_node) != G_TYPE_STRING)
    {
      protocol_error (self, PEERCAM_SIGNALLER_ERROR_INVALID_DESCRIPTION, _("The peer sent a session description without SDP"));
      return;
    }
  peercam_signaller_emit_session_description (PEERCAM_SIGNALLER (self), from, description_type,
                                              json_node_get_string (sdp_node));
}

static void
on_client_ice (PeercamSioSignaller *self,
               JsonNode            *node,
               const char          *from)
{
  JsonObject *object = json_node_get_object (node);  /* the client checked */
  JsonNode *candidate = json_object_get_member (object, "candidate");
  JsonNode *mid = json_object_get_member (object, "sdpMid");
  JsonNode *mline = json_object_get_member (object, "sdpMLineIndex");
  gint64 index = -1;

  if (candidate == NULL || !JSON_NODE_HOLDS_VALUE (candidate) ||
      json_node_get_value_type (candidate) != G_TYPE_STRING)
    {
      protocol_error (self, PEERCAM_SIGNALLER_ERROR_INVALID_CANDIDATE, _("The peer sent an ICE message without a candidate"));
      return;
    }
  /* sdpMid and sdpMLineIndex may each be null or missing, not another type. */
  if (mid && !JSON_NODE_HOLDS_NULL (mid) &&
      (!JSON_NODE_HOLDS_VALUE (mid) || json_node_get_value_type (mid) != G_TYPE_STRING ||
       strlen (json_node_get_string (mid)) > MAX_MID_LENGTH))
    {
      protocol_error (self, PEERCAM_SIGNALLER_ERROR_INVALID_CANDIDATE, _("The peer sent an ICE candidate with an invalid media id"));
      return;
    }
  if (mline && !JSON_NODE_HOLDS_NULL (mline))
    {
      if (!JSON_NODE_HOLDS_VALUE (mline) || json_node_get_value_type (mline) != G_TYPE_INT64 ||
          json_node_get_int (mline) < 0 || json_node_get_int (mline) > G_MAXUINT8)
        {
          protocol_error (self, PEERCAM_SIGNALLER_ERROR_INVALID_CANDIDATE, _("The peer sent an ICE candidate without a media line"));
          return;
        }
      index = json_node_get_int (mline);
    }
  /* The interface refuses a candidate that names no m-line. */
  peercam_signaller_emit_candidate (PEERCAM_SIGNALLER (self), from, (int) index,
                                    mid && !JSON_NODE_HOLDS_NULL (mid) ? json_node_get_string (mid) : NULL,
                                    json_node_get_string (candidate));
}

static void
on_client_call (PeercamSioSignaller *self,
                const char          *id)
{
  announce (self, id);
}

static void
on_client_joined (PeercamSioSignaller *self,
                  const char          *room,
                  const char          *id)
{
  const char * const *members = peercam_signaling_client_get_members (self->client);

  /* Peercam's server names who was there; the relays name nobody. */
  if (members == NULL)
    {
      announce (self, NULL);
      return;
    }
  for (guint i = 0; members[i] != NULL; i++)
    announce (self, members[i]);
}

static void
on_client_created (PeercamSioSignaller *self,
                   const char          *room,
                   const char          *id)
{
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer peer;

  /* Alone after all (an overdue answer had us guess otherwise). */
  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, &peer, NULL))
    {
      g_ptr_array_add (gone, peer);
      g_hash_table_iter_steal (&iter);
    }
  for (guint i = 0; i < gone->len; i++)
    {
      const char *name = g_ptr_array_index (gone, i);

      peercam_signaller_emit_peer_left (PEERCAM_SIGNALLER (self), *name ? name : NULL);
    }
}

static void
on_client_bye (PeercamSioSignaller *self,
               const char          *id)
{
  g_hash_table_remove (self->peers, id ? id : "");
  peercam_signaller_emit_session_ended (PEERCAM_SIGNALLER (self), id);
}

static void
on_client_error (PeercamSioSignaller *self,
                 GError              *error)
{
  peercam_signaller_emit_error (PEERCAM_SIGNALLER (self), error);
}

/* ---- typed values → the wire ---------------------------------------------- */

static gboolean
sio_start (PeercamSignaller  *signaller,
           GError           **error)
{
  PeercamSioSignaller *self = PEERCAM_SIO_SIGNALLER (signaller);

  return peercam_signaling_client_connect (self->client, error) &&
         peercam_signaling_client_join (self->client, self->room, error);
}

static void
sio_stop (PeercamSignaller *signaller)
{
  PeercamSioSignaller *self = PEERCAM_SIO_SIGNALLER (signaller);

  g_hash_table_remove_all (self->peers);
  peercam_signaling_client_disconnect (self->client);
}

static void
sio_send_description (PeercamSignaller       *signaller,
                      const char             *peer,
                      PeercamDescriptionType  type,
                      const char             *sdp)
{
  PeercamSioSignaller *self = PEERCAM_SIO_SIGNALLER (signaller);
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (object, "type", peercam_description_type_to_string (type));
  json_object_set_string_member (object, "sdp", sdp);
  json_node_set_object (node, object);
  /* The client reports what it cannot send on its ::error. */
  peercam_signaling_client_send_signal_to (self->client, node, peer);
}

static void
sio_send_candidate (PeercamSignaller *signaller,
                    const char       *peer,
                    int               mline,
                    const char       *mid,
                    const char       *candidate)
{
  PeercamSioSignaller *self = PEERCAM_SIO_SIGNALLER (signaller);
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  /* RTCIceCandidateInit, as browsers send it. */
  json_object_set_string_member (object, "candidate", candidate);
  if (mid)
    json_object_set_string_member (object, "sdpMid", mid);
  else
    json_object_set_null_member (object, "sdpMid");
  if (mline >= 0)
    json_object_set_int_member (object, "sdpMLineIndex", mline);
  else
    json_object_set_null_member (object, "sdpMLineIndex");
  json_node_set_object (node, object);
  peercam_signaling_client_send_ice_to (self->client, node, peer);
}

static void
sio_end_session (PeercamSignaller *signaller,
                 const char       *peer)
{
  PeercamSioSignaller *self = PEERCAM_SIO_SIGNALLER (signaller);

  peercam_signaling_client_send_bye_to (self->client, peer);
}

static void
peercam_sio_signaller_iface_init (PeercamSignallerInterface *iface)
{
  iface->start = sio_start;
  iface->stop = sio_stop;
  iface->send_description = sio_send_description;
  iface->send_candidate = sio_send_candidate;
  iface->end_session = sio_end_session;
}

/* ---- GObject ------------------------------------------------------------- */

static void
peercam_sio_signaller_constructed (GObject *object)
{
  PeercamSioSignaller *self = PEERCAM_SIO_SIGNALLER (object);

  G_OBJECT_CLASS (peercam_sio_signaller_parent_class)->constructed (object);

  g_assert (self->client != NULL && self->room != NULL);
  /* After the client's other handlers: whoever watches the room (created,
   * joined) hears of it before the peers it brings. */
  g_signal_connect_object (self->client, "signal", G_CALLBACK (on_client_signal), self,
                           G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  g_signal_connect_object (self->client, "ice", G_CALLBACK (on_client_ice), self,
                           G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  g_signal_connect_object (self->client, "call", G_CALLBACK (on_client_call), self,
                           G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  g_signal_connect_object (self->client, "joined", G_CALLBACK (on_client_joined), self,
                           G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  g_signal_connect_object (self->client, "created", G_CALLBACK (on_client_created), self,
                           G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  g_signal_connect_object (self->client, "bye", G_CALLBACK (on_client_bye), self,
                           G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  g_signal_connect_object (self->client, "error", G_CALLBACK (on_client_error), self,
                           G_CONNECT_SWAPPED | G_CONNECT_AFTER);
}

static void
peercam_sio_signaller_dispose (GObject *object)
{
  PeercamSioSignaller *self = PEERCAM_SIO_SIGNALLER (object);

  if (self->client)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (peercam_sio_signaller_parent_class)->dispose (object);
}

static void
peercam_sio_signaller_finalize (GObject *object)
{
  PeercamSioSignaller *self = PEERCAM_SIO_SIGNALLER (object);

  g_free (self->room);
  g_hash_table_unref (self->peers);

  G_OBJECT_CLASS (peercam_sio_signaller_parent_class)->finalize (object);
}

static void
peercam_sio_signaller_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  PeercamSioSignaller *self = PEERCAM_SIO_SIGNALLER (object);

  switch (prop_id)
    {
    case PROP_CLIENT: g_value_set_object (value, self->client); break;
    case PROP_ROOM: g_value_set_string (value, self->room); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_sio_signaller_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  PeercamSioSignaller *self = PEERCAM_SIO_SIGNALLER (object);

  switch (prop_id)
    {
    case PROP_CLIENT: self->client = g_value_dup_object (value); break;
    case PROP_ROOM: self->room = g_value_dup_string (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_sio_signaller_class_init (PeercamSioSignallerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = peercam_sio_signaller_constructed;
  object_class->dispose = peercam_sio_signaller_dispose;
  object_class->finalize = peercam_sio_signaller_finalize;
  object_class->get_property = peercam_sio_signaller_get_property;
  object_class->set_property = peercam_sio_signaller_set_property;

  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, PEERCAM_TYPE_SIGNALING_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ROOM] =
    g_param_spec_string ("room", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
peercam_sio_signaller_init (PeercamSioSignaller *self)
{
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

PeercamSioSignaller *
peercam_sio_signaller_new (PeercamSignalingClient *client,
                           const char             *room)
{
  g_return_val_if_fail (PEERCAM_IS_SIGNALING_CLIENT (client), NULL);
  g_return_val_if_fail (room != NULL, NULL);

  return g_object_new (PEERCAM_TYPE_SIO_SIGNALLER, "client", client, "room", room, NULL);
}

PeercamSignalingClient *
peercam_sio_signaller_get_client (PeercamSioSignaller *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIO_SIGNALLER (self), NULL);
  return self->client;
}

const char *
peercam_sio_signaller_get_room (PeercamSioSignaller *self)
{
  g_return_val_if_fail (PEERCAM_IS_SIO_SIGNALLER (self), NULL);
  return self->room;
}
