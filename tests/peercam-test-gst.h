/* peercam-test-gst.h — looking into a pipeline from the tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/gst.h>

/* Elements made by @factory_name anywhere in @bin (recursively). */
static inline guint
peercam_test_count_elements (GstBin     *bin,
                             const char *factory_name)
{
  GstIterator *it = gst_bin_iterate_recurse (bin);
  GValue item = G_VALUE_INIT;
  guint n = 0;

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK)
    {
      GstElementFactory *factory = gst_element_get_factory (g_value_get_object (&item));

      if (factory && g_str_equal (GST_OBJECT_NAME (factory), factory_name))
        n++;
      g_value_reset (&item);
    }
  g_value_unset (&item);
  gst_iterator_free (it);
  return n;
}
