/* main.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <gst/gst.h>
#include <locale.h>

#include "peercam-application.h"
#include "peercam-headless.h"
#include "peercam-init.h"
#include "peercam-options.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(PeercamApplication) app = NULL;
  g_auto(GStrv) args = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  peercam_init (NULL, NULL);

  args = peercam_options_normalize_args (argc, argv);
  if (peercam_options_wants_headless (g_strv_length (args), args))
    return peercam_headless_main (g_strv_length (args), args);

  app = peercam_application_new ();

  return g_application_run (G_APPLICATION (app), g_strv_length (args), args);
}
