/* peercam-sdp.c — pure rewrites of remote session descriptions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * No GObject, no pipeline: functions over a GstSDPMessage, unit-tested in
 * tests/test-sdp.c.
 */
#include "config.h"

#include <string.h>

#include "peercam-sdp.h"

/* The transport of a BUNDLE group: the tag m-line's values win. */
static const char *const transport_keys[] = {
  "ice-ufrag", "ice-pwd", "ice-options", "fingerprint", "setup",
};

/* Candidates only mean something on the tag's transport. */
static const char *const dropped_keys[] = {
  "candidate", "end-of-candidates",
};

static gint
media_with_mid (const GstSDPMessage *sdp,
                const char          *mid)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++)
    if (g_strcmp0 (gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (sdp, i), "mid"), mid) == 0)
      return (gint) i;
  return -1;
}

static gboolean
remove_attributes (GstSDPMedia *media,
                   const char  *key)
{
  gboolean removed = FALSE;

  for (guint a = gst_sdp_media_attributes_len (media); a > 0; a--)
    if (g_strcmp0 (gst_sdp_media_get_attribute (media, a - 1)->key, key) == 0)
      {
        gst_sdp_media_remove_attribute (media, a - 1);
        removed = TRUE;
      }
  return removed;
}

/* Whether @media has exactly @tag's values for @key, in order. */
static gboolean
same_values (const GstSDPMedia *media,
             const GstSDPMedia *tag,
             const char        *key)
{
  guint n = 0;

  for (const char *value; (value = gst_sdp_media_get_attribute_val_n (tag, key, n)) != NULL; n++)
    if (g_strcmp0 (gst_sdp_media_get_attribute_val_n (media, key, n), value) != 0)
      return FALSE;
  return gst_sdp_media_get_attribute_val_n (media, key, n) == NULL;
}

/* Rewrites @media, bundled with @tag, onto @tag's transport. */
static gboolean
adopt_transport (GstSDPMedia       *media,
                 const GstSDPMedia *tag)
{
  gboolean changed = FALSE;

  for (guint k = 0; k < G_N_ELEMENTS (transport_keys); k++)
    {
      const char *key = transport_keys[k];

      /* Session-level values, if any, already apply to both. */
      if (gst_sdp_media_get_attribute_val (tag, key) == NULL || same_values (media, tag, key))
        continue;
      remove_attributes (media, key);
      for (guint n = 0; gst_sdp_media_get_attribute_val_n (tag, key, n) != NULL; n++)
        gst_sdp_media_add_attribute (media, key, gst_sdp_media_get_attribute_val_n (tag, key, n));
      changed = TRUE;
    }

  for (guint k = 0; k < G_N_ELEMENTS (dropped_keys); k++)
    changed |= remove_attributes (media, dropped_keys[k]);

  /* Port 0 stays: a rejected or bundle-only m-line. */
  if (gst_sdp_media_get_port (media) != 0 &&
      gst_sdp_media_get_port (media) != gst_sdp_media_get_port (tag))
    {
      gst_sdp_media_set_port_info (media, gst_sdp_media_get_port (tag), gst_sdp_media_get_num_ports (tag));
      changed = TRUE;
    }

  return changed;
}

/**
 * peercam_sdp_normalize_bundle:
 * @sdp: a remote offer
 *
 * An initial offer may give every m-line of a BUNDLE group its own ICE
 * credentials, DTLS fingerprint and port (RFC 8843 §7.2: the answerer picks
 * the group's transport, that of the tag m-line, the first one named);
 * aiortc 1.4 does. webrtcbin 1.22 refuses such an offer ("media 1 has
 * different ice-ufrag values in bundle"), though it would only use the tag's
 * transport anyway. This rewrites every other m-line of each group onto the
 * tag's transport: its ice-ufrag, ice-pwd, ice-options, fingerprint and setup
 * are copied over, its own candidates dropped, and its port
 * set to the tag's. An offer that already shares one transport is left as is.
 *
 * Returns: how many m-lines were rewritten.
 */
guint
peercam_sdp_normalize_bundle (GstSDPMessage *sdp)
{
  guint changed = 0;

  g_return_val_if_fail (sdp != NULL, 0);

  for (guint n = 0; ; n++)
    {
      const char *group = gst_sdp_message_get_attribute_val_n (sdp, "group", n);
      g_auto(GStrv) mids = NULL;
      const GstSDPMedia *tag;
      gint tag_index;

      if (group == NULL)
        break;
      if (!g_str_has_prefix (group, "BUNDLE "))
        continue;

      mids = g_strsplit_set (group + strlen ("BUNDLE "), " ", -1);
      if (mids[0] == NULL || (tag_index = media_with_mid (sdp, mids[0])) < 0)
        continue;
      tag = gst_sdp_message_get_media (sdp, tag_index);

      for (guint m = 1; mids[m] != NULL; m++)
        {
          gint index;

          if (*mids[m] == '\0' || (index = media_with_mid (sdp, mids[m])) < 0 || index == tag_index)
            continue;
          /* The message owns its medias; only their attributes change. */
          if (adopt_transport ((GstSDPMedia *) gst_sdp_message_get_media (sdp, index), tag))
            changed++;
        }
    }

  return changed;
}
