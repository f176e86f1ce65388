/* peercam-options.h — the command line, parsed and validated (pure, no GTK)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PEERCAM_OPTIONS_ERROR (peercam_options_error_quark ())
typedef enum {
  PEERCAM_OPTIONS_ERROR_INVALID,
} PeercamOptionsError;

typedef enum {
  PEERCAM_MODE_CALLER,
  PEERCAM_MODE_VIEWER,
} PeercamMode;

typedef struct {
  PeercamMode mode;
  gboolean    mode_given;   /* --caller or --viewer was on the command line */
  char       *server;       /* NULL: the GSettings default */
  char       *room;         /* NULL: the GSettings default */
  char       *source;       /* "test", "camera" or a device; NULL: default */
  char       *token;
  char       *pin;          /* SHA-256 fingerprint of a self-signed server certificate */
  char      **ice_addresses;
  char      **allow_origins;
  gboolean    new_certificate;  /* --tls: replace the stored certificate */  /* hosted server: other sites whose pages may connect */
  gboolean    call;
  gboolean    host;         /* host a room in this process */
  gboolean    host_only;    /* host a room, no call, no window */
  gboolean    headless;
  gboolean    audio;        /* caller: send the microphone; viewer: play audio */
  gboolean    events;
  int         port;         /* -1: unset */
  int         max_viewers;  /* hosted rooms: viewers per caller (issue 15); 0: unset */
  char       *bind;
  gboolean    tls;          /* web: host with HTTPS/WSS and a self-signed certificate */
  char       *stun;         /* stun://host:port */
  char       *turn;         /* turn://user:password@host:port */
} PeercamOptions;

/* Viewers per hosted room: a sender (encoder) each on the caller. */
#define PEERCAM_OPTIONS_DEFAULT_MAX_VIEWERS 4
#define PEERCAM_OPTIONS_MAX_VIEWERS 64

GQuark          peercam_options_error_quark   (void);
const GOptionEntry *peercam_options_get_entries (void);
gboolean        peercam_options_wants_headless (int            argc,
                                                char * const  *argv);
PeercamOptions *peercam_options_new           (void);
void            peercam_options_free          (PeercamOptions  *options);
gboolean        peercam_options_parse_port    (const char      *text,
                                               int             *port,
                                               GError         **error);
gboolean        peercam_options_validate      (PeercamOptions  *options,
                                               GError         **error);
gboolean        peercam_options_validate_url  (const char      *url,
                                               GError         **error);
char          **peercam_options_normalize_args (int             argc,
                                               char          **argv);
PeercamOptions *peercam_options_new_from_dict (GVariantDict    *dict,
                                               GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamOptions, peercam_options_free)

G_END_DECLS
