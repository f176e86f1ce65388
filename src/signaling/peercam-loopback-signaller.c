/* peercam-loopback-signaller.c — two signallers linked in-process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-loopback-signaller.h"

#include <glib/gi18n.h>

struct _PeercamLoopbackSignaller
{
  GObject parent_instance;

  char *id;
  PeercamLoopbackSignaller *other;   /* weak */
  GMainContext *context;
  gboolean started;
  GPtrArray *in_flight;              /* GSources delivering to us */
};

static void peercam_loopback_signaller_iface_init (PeercamSignallerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PeercamLoopbackSignaller, peercam_loopback_signaller, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (PEERCAM_TYPE_SIGNALLER,
                                                      peercam_loopback_signaller_iface_init))

typedef enum {
  MESSAGE_JOINED,
  MESSAGE_LEFT,
  MESSAGE_REQUESTED,
  MESSAGE_DESCRIPTION,
  MESSAGE_CANDIDATE,
  MESSAGE_ENDED,
} MessageKind;

typedef struct {
  PeercamLoopbackSignaller *to;   /* weak: the source dies with it */
  GSource *source;
  MessageKind kind;
  char *from;
  PeercamDescriptionType type;
  int mline;
  char *mid;
  char *text;
} Message;

static void
message_free (gpointer data)
{
  Message *m = data;

  g_free (m->from);
  g_free (m->mid);
  g_free (m->text);
  g_free (m);
}

static gboolean
deliver_cb (gpointer data)
{
  Message *m = data;
  PeercamLoopbackSignaller *self = g_object_ref (m->to);
  PeercamSignaller *signaller = PEERCAM_SIGNALLER (self);

  g_ptr_array_remove_fast (self->in_flight, m->source);
  if (self->started)
    {
      switch (m->kind)
        {
        case MESSAGE_JOINED: peercam_signaller_emit_peer_joined (signaller, m->from); break;
        case MESSAGE_LEFT: peercam_signaller_emit_peer_left (signaller, m->from); break;
        case MESSAGE_REQUESTED: peercam_signaller_emit_session_requested (signaller, m->from); break;
        case MESSAGE_DESCRIPTION:
          peercam_signaller_emit_session_description (signaller, m->from, m->type, m->text);
          break;
        case MESSAGE_CANDIDATE:
          peercam_signaller_emit_candidate (signaller, m->from, m->mline, m->mid, m->text);
          break;
        case MESSAGE_ENDED: peercam_signaller_emit_session_ended (signaller, m->from); break;
        default: g_assert_not_reached ();
        }
    }
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* Queues @m (taken) for @to, as sent by @from. */
static void
post (PeercamLoopbackSignaller *to,
      PeercamLoopbackSignaller *from,
      Message                  *m)
{
  m->to = to;
  m->from = g_strdup (from->id);
  m->source = g_idle_source_new ();
  g_source_set_callback (m->source, deliver_cb, m, message_free);
  g_source_attach (m->source, to->context);
  g_ptr_array_add (to->in_flight, m->source);  /* owns the source's ref */
}

static Message *
message_new (MessageKind kind)
{
  Message *m = g_new0 (Message, 1);

  m->kind = kind;
  m->mline = -1;
  return m;
}

static PeercamLoopbackSignaller *
peer_for (PeercamLoopbackSignaller *self,
          const char               *peer)
{
  g_autoptr(GError) error = NULL;

  if (!self->started)
    error = g_error_new_literal (PEERCAM_SIGNALLER_ERROR, PEERCAM_SIGNALLER_ERROR_NOT_STARTED,
                                 _("Not connected to a signaling server"));
  else if (self->other == NULL || !self->other->started ||
           (peer != NULL && g_strcmp0 (peer, self->other->id) != 0))
    error = g_error_new (PEERCAM_SIGNALLER_ERROR, PEERCAM_SIGNALLER_ERROR_NOT_STARTED,
                         _("No peer “%s” to send to"), peer ? peer : "");
  if (error)
    {
      peercam_signaller_emit_error (PEERCAM_SIGNALLER (self), error);
      return NULL;
    }
  return self->other;
}

static gboolean
loopback_start (PeercamSignaller  *signaller,
                GError           **error)
{
  PeercamLoopbackSignaller *self = PEERCAM_LOOPBACK_SIGNALLER (signaller);
  PeercamLoopbackSignaller *other = self->other;

  if (self->started)
    return TRUE;
  self->started = TRUE;
  if (other && other->started)
    {
      /* Each sees the other, ready for a call, as on a Socket.IO room:
       * the one already there first. */
      post (other, self, message_new (MESSAGE_JOINED));
      post (other, self, message_new (MESSAGE_REQUESTED));
      post (self, other, message_new (MESSAGE_JOINED));
      post (self, other, message_new (MESSAGE_REQUESTED));
    }
  return TRUE;
}

static void
drop_in_flight (PeercamLoopbackSignaller *self)
{
  for (guint i = 0; i < self->in_flight->len; i++)
    g_source_destroy (g_ptr_array_index (self->in_flight, i));
  g_ptr_array_set_size (self->in_flight, 0);
}

static void
loopback_stop (PeercamSignaller *signaller)
{
  PeercamLoopbackSignaller *self = PEERCAM_LOOPBACK_SIGNALLER (signaller);

  if (!self->started)
    return;
  self->started = FALSE;
  drop_in_flight (self);
  if (self->other && self->other->started)
    post (self->other, self, message_new (MESSAGE_LEFT));
}

static void
loopback_send_description (PeercamSignaller       *signaller,
                           const char             *peer,
                           PeercamDescriptionType  type,
                           const char             *sdp)
{
  PeercamLoopbackSignaller *self = PEERCAM_LOOPBACK_SIGNALLER (signaller);
  PeercamLoopbackSignaller *to = peer_for (self, peer);
  Message *m;

  if (to == NULL)
    return;
  m = message_new (MESSAGE_DESCRIPTION);
  m->type = type;
  m->text = g_strdup (sdp);
  post (to, self, m);
}

static void
loopback_send_candidate (PeercamSignaller *signaller,
                         const char       *peer,
                         int               mline,
                         const char       *mid,
                         const char       *candidate)
{
  PeercamLoopbackSignaller *self = PEERCAM_LOOPBACK_SIGNALLER (signaller);
  PeercamLoopbackSignaller *to = peer_for (self, peer);
  Message *m;

  if (to == NULL)
    return;
  m = message_new (MESSAGE_CANDIDATE);
  m->mline = mline;
  m->mid = g_strdup (mid);
  m->text = g_strdup (candidate);
  post (to, self, m);
}

static void
loopback_end_session (PeercamSignaller *signaller,
                      const char       *peer)
{
  PeercamLoopbackSignaller *self = PEERCAM_LOOPBACK_SIGNALLER (signaller);
  PeercamLoopbackSignaller *to = peer_for (self, peer);

  if (to)
    post (to, self, message_new (MESSAGE_ENDED));
}

static void
peercam_loopback_signaller_iface_init (PeercamSignallerInterface *iface)
{
  iface->start = loopback_start;
  iface->stop = loopback_stop;
  iface->send_description = loopback_send_description;
  iface->send_candidate = loopback_send_candidate;
  iface->end_session = loopback_end_session;
}

static void
peercam_loopback_signaller_dispose (GObject *object)
{
  PeercamLoopbackSignaller *self = PEERCAM_LOOPBACK_SIGNALLER (object);

  drop_in_flight (self);
  if (self->other)
    {
      g_object_remove_weak_pointer (G_OBJECT (self->other), (gpointer *) &self->other);
      self->other = NULL;
    }

  G_OBJECT_CLASS (peercam_loopback_signaller_parent_class)->dispose (object);
}

static void
peercam_loopback_signaller_finalize (GObject *object)
{
  PeercamLoopbackSignaller *self = PEERCAM_LOOPBACK_SIGNALLER (object);

  g_ptr_array_unref (self->in_flight);
  g_main_context_unref (self->context);
  g_free (self->id);

  G_OBJECT_CLASS (peercam_loopback_signaller_parent_class)->finalize (object);
}

static void
peercam_loopback_signaller_class_init (PeercamLoopbackSignallerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = peercam_loopback_signaller_dispose;
  object_class->finalize = peercam_loopback_signaller_finalize;
}

static void
peercam_loopback_signaller_init (PeercamLoopbackSignaller *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->in_flight = g_ptr_array_new_with_free_func ((GDestroyNotify) g_source_unref);
}

void
peercam_loopback_signaller_new_pair (const char                *id_a,
                                     const char                *id_b,
                                     PeercamLoopbackSignaller **a,
                                     PeercamLoopbackSignaller **b)
{
  g_return_if_fail (a != NULL && b != NULL);

  *a = g_object_new (PEERCAM_TYPE_LOOPBACK_SIGNALLER, NULL);
  *b = g_object_new (PEERCAM_TYPE_LOOPBACK_SIGNALLER, NULL);
  (*a)->id = g_strdup (id_a);
  (*b)->id = g_strdup (id_b);
  (*a)->other = *b;
  (*b)->other = *a;
  g_object_add_weak_pointer (G_OBJECT (*b), (gpointer *) &(*a)->other);
  g_object_add_weak_pointer (G_OBJECT (*a), (gpointer *) &(*b)->other);
}

const char *
peercam_loopback_signaller_get_id (PeercamLoopbackSignaller *self)
{
  g_return_val_if_fail (PEERCAM_IS_LOOPBACK_SIGNALLER (self), NULL);

  return self->id;
}
