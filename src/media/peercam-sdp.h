/* peercam-sdp.h — pure rewrites of remote session descriptions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/sdp/sdp.h>

G_BEGIN_DECLS

guint peercam_sdp_normalize_bundle (GstSDPMessage *sdp);

G_END_DECLS
