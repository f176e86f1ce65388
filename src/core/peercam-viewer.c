/* peercam-viewer.c — one viewer in a caller's room
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "peercam-viewer.h"

struct _PeercamViewer
{
  GObject           parent_instance;

  char             *id;
  char             *name;
  PeercamSessionState  state;
  double            kbps;
  double            fps;
};

G_DEFINE_FINAL_TYPE (PeercamViewer, peercam_viewer, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_STATE,
  PROP_KBPS,
  PROP_FPS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
peercam_viewer_finalize (GObject *object)
{
  PeercamViewer *self = PEERCAM_VIEWER (object);

  g_free (self->id);
  g_free (self->name);

  G_OBJECT_CLASS (peercam_viewer_parent_class)->finalize (object);
}

static void
peercam_viewer_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  PeercamViewer *self = PEERCAM_VIEWER (object);

  switch (prop_id)
    {
    case PROP_ID: g_value_set_string (value, self->id); break;
    case PROP_NAME: g_value_set_string (value, self->name); break;
    case PROP_STATE: g_value_set_enum (value, self->state); break;
    case PROP_KBPS: g_value_set_double (value, self->kbps); break;
    case PROP_FPS: g_value_set_double (value, self->fps); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_viewer_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  PeercamViewer *self = PEERCAM_VIEWER (object);

  switch (prop_id)
    {
    case PROP_ID: self->id = g_value_dup_string (value); break;
    case PROP_NAME: self->name = g_value_dup_string (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
peercam_viewer_class_init (PeercamViewerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = peercam_viewer_finalize;
  object_class->get_property = peercam_viewer_get_property;
  object_class->set_property = peercam_viewer_set_property;

  properties[PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL, construct);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, construct);
  properties[PROP_STATE] = g_param_spec_enum ("state", NULL, NULL, PEERCAM_TYPE_SESSION_STATE,
                                              PEERCAM_SESSION_STATE_PREVIEW, ro);
  properties[PROP_KBPS] = g_param_spec_double ("kbps", NULL, NULL, 0, G_MAXDOUBLE, 0, ro);
  properties[PROP_FPS] = g_param_spec_double ("fps", NULL, NULL, 0, G_MAXDOUBLE, 0, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
peercam_viewer_init (PeercamViewer *self)
{
  self->state = PEERCAM_SESSION_STATE_PREVIEW;
}

PeercamViewer *
peercam_viewer_new (const char *id,
                    const char *name)
{
  return g_object_new (PEERCAM_TYPE_VIEWER, "id", id, "name", name, NULL);
}

const char *
peercam_viewer_get_id (PeercamViewer *self)
{
  g_return_val_if_fail (PEERCAM_IS_VIEWER (self), NULL);
  return self->id;
}

const char *
peercam_viewer_get_name (PeercamViewer *self)
{
  g_return_val_if_fail (PEERCAM_IS_VIEWER (self), NULL);
  return self->name;
}

PeercamSessionState
peercam_viewer_get_state (PeercamViewer *self)
{
  g_return_val_if_fail (PEERCAM_IS_VIEWER (self), PEERCAM_SESSION_STATE_PREVIEW);
  return self->state;
}

void
peercam_viewer_set_state (PeercamViewer    *self,
                          PeercamSessionState  state)
{
  g_return_if_fail (PEERCAM_IS_VIEWER (self));

  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  if (state != PEERCAM_SESSION_STATE_CONNECTED)
    peercam_viewer_set_rates (self, 0, 0);
}

double
peercam_viewer_get_kbps (PeercamViewer *self)
{
  g_return_val_if_fail (PEERCAM_IS_VIEWER (self), 0);
  return self->kbps;
}

double
peercam_viewer_get_fps (PeercamViewer *self)
{
  g_return_val_if_fail (PEERCAM_IS_VIEWER (self), 0);
  return self->fps;
}

void
peercam_viewer_set_rates (PeercamViewer *self,
                          double         kbps,
                          double         fps)
{
  g_return_if_fail (PEERCAM_IS_VIEWER (self));

  if (self->kbps != kbps)
    {
      self->kbps = kbps;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KBPS]);
    }
  if (self->fps != fps)
    {
      self->fps = fps;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FPS]);
    }
}
