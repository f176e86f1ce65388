/* bench-signaling.c — Socket.IO 4 signaling load generator, Peercam vs Node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One thread, epoll, raw non-blocking TCP sockets to 127.0.0.1 and a minimal
 * RFC 6455 client (upgrade handshake, masked text frames out, unmasked
 * frames in). It speaks raw Engine.IO 4 / Socket.IO 4: waits for the open
 * packet "0{…}", sends "40", waits for "40{…}", answers every ping "2" with
 * "3", sends 42["create or join",…] and 42["signal",{…}].
 *
 * Each server (--server NAME=COMMAND, repeatable) is started afresh for every
 * phase with `/bin/sh -c "exec COMMAND"`; its first stdout line gives the
 * port (a bare number, or JSON with "port":N). Its stdin is a pipe the
 * benchmark holds, so servers that exit on stdin EOF cannot outlive it; it
 * is SIGKILLed at the end of each phase.
 *
 * Phases (every loop is bounded in count and in time):
 *   hold N   open N connections (at most --connect-window handshaking at a
 *            time), hold them --hold seconds answering pings; count the ones
 *            still connected; server VmRSS before/after → KB per connection.
 *   relay    --rooms rooms × 2 members; every member sends ~2 KB `signal`
 *            messages to its peer, at most --window unacknowledged (counted by
 *            the peer's receipts), for --relay-seconds; then drains and checks
 *            every message arrived exactly once and in order.
 *   storm    --storm clients connect at once and `create or join` 2-member
 *            rooms; time until all got create/join, failures, peak RSS
 *            (VmHWM).
 * For each phase the server's CPU time (utime+stime from /proc/PID/stat) is
 * recorded. This is a benchmark: it prints figures and never fails on them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVERS 4

/* --- options ------------------------------------------------------------------ */

static struct {
  int hold_counts[4];
  int n_hold_counts;
  double hold_seconds;
  int connect_window;
  int rooms;
  int window;
  double relay_seconds;
  int storm;
  double storm_timeout;
  int sdp_bytes;
  const char *phases;     /* comma list: hold,relay,storm */
  int verbose;
} opt = {
  .hold_counts = { 1000, 10000 },
  .n_hold_counts = 2,
  .hold_seconds = 10,
  .connect_window = 32,
  .rooms = 500,
  .window = 64,
  .relay_seconds = 10,
  .storm = 5000,
  .storm_timeout = 60,
  .sdp_bytes = 2000,
  .phases = "hold,relay,storm",
};

typedef struct {
  const char *name;
  const char *command;
} ServerSpec;

static ServerSpec servers[MAX_SERVERS];
static int n_servers;

/* --- time, /proc ---------------------------------------------------------------- */

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
log_msg (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  fprintf (stderr, "[bench] ");
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
}

/* VmRSS or VmHWM in KB, -1 if gone. */
static long
proc_status_kb (pid_t pid, const char *field)
{
  char path[64], line[256];
  size_t flen = strlen (field);
  long kb = -1;
  FILE *f;

  snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
  f = fopen (path, "r");
  if (f == NULL)
    return -1;
  while (fgets (line, sizeof line, f) != NULL)
    if (strncmp (line, field, flen) == 0 && line[flen] == ':')
      {
        kb = strtol (line + flen + 1, NULL, 10);
        break;
      }
  fclose (f);
  return kb;
}

/* utime+stime in seconds, -1 if gone. */
static double
proc_cpu_seconds (pid_t pid)
{
  char path[64], buf[2048];
  unsigned long utime = 0, stime = 0;
  ssize_t n;
  char *p;
  int fd;

  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY);
  if (fd < 0)
    return -1;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  p = strrchr (buf, ')');
  if (p == NULL)
    return -1;
  /* After ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt
   * majflt cmajflt utime(14) stime(15). */
  if (sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
    return -1;
  return (double) (utime + stime) / (double) sysconf (_SC_CLK_TCK);
}

static double
self_cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* --- server processes ----------------------------------------------------------- */

typedef struct {
  pid_t pid;
  int stdin_fd;     /* write end held open; EOF tells the server to go */
  int port;
  long rss_start_kb;
} Server;

static int
server_start (const ServerSpec *spec, Server *srv)
{
  char out_path[] = "/tmp/bench-signaling-out-XXXXXX";
  int out_fd = mkstemp (out_path);
  int in_pipe[2];
  double deadline;
  pid_t pid;

  memset (srv, 0, sizeof *srv);
  if (out_fd < 0 || pipe2 (in_pipe, O_CLOEXEC) < 0)
    {
      perror ("bench: mkstemp/pipe");
      return -1;
    }
  unlink (out_path);  /* still open; the child writes to it, we read it */

  pid = fork ();
  if (pid < 0)
    {
      perror ("bench: fork");
      return -1;
    }
  if (pid == 0)
    {
      char *cmd;
      int devnull = open ("/dev/null", O_WRONLY);

      dup2 (in_pipe[0], 0);
      dup2 (out_fd, 1);
      if (!opt.verbose && devnull >= 0)
        dup2 (devnull, 2);
      if (asprintf (&cmd, "exec %s", spec->command) < 0)
        _exit (127);
      execl ("/bin/sh", "sh", "-c", cmd, (char *) NULL);
      _exit (127);
    }
  close (in_pipe[0]);
  srv->pid = pid;
  srv->stdin_fd = in_pipe[1];

  /* First line of stdout: the port. */
  deadline = now () + 20;
  while (now () < deadline)
    {
      char buf[512];
      ssize_t n = pread (out_fd, buf, sizeof buf - 1, 0);
      int status;

      if (n > 0)
        {
          char *nl;

          buf[n] = '\0';
          nl = strchr (buf, '\n');
          if (nl != NULL)
            {
              char *p = strstr (buf, "\"port\":");

              *nl = '\0';
              srv->port = p ? atoi (p + 7) : atoi (buf);
              break;
            }
        }
      if (waitpid (pid, &status, WNOHANG) == pid)
        {
          log_msg ("%s exited before printing its port", spec->name);
          srv->pid = 0;
          close (out_fd);
          return -1;
        }
      usleep (20000);
    }
  close (out_fd);
  if (srv->port <= 0 || srv->port > 65535)
    {
      log_msg ("%s: no port on its first stdout line", spec->name);
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      srv->pid = 0;
      return -1;
    }
  usleep (300000);  /* let it settle before the baseline */
  if (opt.verbose)
    log_msg ("%s: pid %d port %d", spec->name, (int) pid, srv->port);
  srv->rss_start_kb = proc_status_kb (pid, "VmRSS");
  return 0;
}

static void
server_stop (Server *srv)
{
  if (srv->pid > 0)
    {
      /* SIGTERM first (lets a `perf record` wrapper write its data), then
       * SIGKILL after 3 s. */
      double deadline = now () + 3;
      int gone = 0;

      kill (srv->pid, SIGTERM);
      while (!gone && now () < deadline)
        {
          if (waitpid (srv->pid, NULL, WNOHANG) == srv->pid)
            gone = 1;
          else
            usleep (10000);
        }
      if (!gone)
        {
          kill (srv->pid, SIGKILL);
          waitpid (srv->pid, NULL, 0);
        }
      srv->pid = 0;
    }
  if (srv->stdin_fd > 0)
    close (srv->stdin_fd);
  srv->stdin_fd = -1;
}

/* --- clients -------------------------------------------------------------------- */

enum { ST_IDLE, ST_CONNECTING, ST_HTTP, ST_EIO, ST_SIO, ST_READY, ST_DEAD };
enum { MODE_HOLD, MODE_RELAY, MODE_STORM };
enum { JOIN_NONE, JOIN_CREATE, JOIN_JOIN, JOIN_FULL };

typedef struct {
  int fd;
  int idx;
  uint8_t state;
  uint8_t joined;
  uint8_t got_call;
  uint8_t epollout;
  uint8_t dirty;
  uint8_t mask[4];
  char *in;
  size_t in_len, in_cap;
  char *frag;           /* fragmented message being reassembled */
  size_t frag_len, frag_cap;
  char *out;
  size_t out_off, out_len, out_cap;
  uint64_t sent, recv, expect, bad_order;
  double t_join;
} Client;

static struct {
  int epfd;
  int port;
  int mode;
  Client *c;
  int n;
  int next_to_connect;   /* paced connects */
  int n_handshaking;
  int n_ready;
  int n_dead;
  int n_joined;
  int n_full;
  int n_connect_fail;
  uint64_t pings;
  uint64_t total_recv;
  uint64_t errors;       /* 42["error",…] received */
  int relaying;
  int *dirty;
  int n_dirty;
  char *signal_head;     /* 42["signal",{"type":"offer","n":   */
  char *signal_tail;     /* ,"sdp":"…"}]                        */
  size_t head_len, tail_len;
  char *scratch;
} g;

static const char ws_request_fmt[] =
  "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
  "Host: 127.0.0.1:%d\r\n"
  "Upgrade: websocket\r\n"
  "Connection: Upgrade\r\n"
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
  "Sec-WebSocket-Version: 13\r\n"
  "\r\n";

static void
ensure (char **buf, size_t *cap, size_t need)
{
  if (need <= *cap)
    return;
  size_t n = *cap ? *cap : 4096;
  while (n < need)
    n *= 2;
  *buf = realloc (*buf, n);
  if (*buf == NULL)
    abort ();
  *cap = n;
}

static void
set_events (Client *c, int want_out)
{
  struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.u32 = (uint32_t) c->idx };

  if (c->epollout == want_out)
    return;
  c->epollout = (uint8_t) want_out;
  epoll_ctl (g.epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
client_kill (Client *c)
{
  if (c->state == ST_DEAD || c->state == ST_IDLE)
    return;
  if (c->state == ST_CONNECTING || c->state == ST_HTTP || c->state == ST_EIO || c->state == ST_SIO)
    g.n_handshaking--;
  if (c->state == ST_READY)
    g.n_ready--;
  c->state = ST_DEAD;
  g.n_dead++;
  if (c->fd >= 0)
    {
      struct linger lg = { 1, 0 };   /* RST: no TIME_WAIT eating ephemeral ports */

      setsockopt (c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      close (c->fd);
      c->fd = -1;
    }
  free (c->in); c->in = NULL; c->in_len = c->in_cap = 0;
  free (c->out); c->out = NULL; c->out_len = c->out_off = c->out_cap = 0;
  free (c->frag); c->frag = NULL; c->frag_len = c->frag_cap = 0;
}

static void
client_flush (Client *c)
{
  while (c->out_off < c->out_len)
    {
      ssize_t n = write (c->fd, c->out + c->out_off, c->out_len - c->out_off);

      if (n > 0)
        c->out_off += (size_t) n;
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
          set_events (c, 1);
          return;
        }
      else
        {
          client_kill (c);
          return;
        }
    }
  c->out_off = c->out_len = 0;
  if (c->out_cap > (1 << 20))
    {
      free (c->out);
      c->out = NULL;
      c->out_cap = 0;
    }
  set_events (c, 0);
}

/* Appends one masked text frame; @parts are concatenated into its payload. */
static void
ws_queue_text (Client *c, int n_parts, const char **parts, const size_t *lens)
{
  size_t len = 0, hdr, off;
  unsigned char *f;

  for (int i = 0; i < n_parts; i++)
    len += lens[i];
  hdr = len < 126 ? 2 : len < 65536 ? 4 : 10;
  ensure (&c->out, &c->out_cap, c->out_len + hdr + 4 + len);
  f = (unsigned char *) c->out + c->out_len;
  f[0] = 0x81;
  if (len < 126)
    f[1] = 0x80 | (unsigned char) len;
  else if (len < 65536)
    {
      f[1] = 0x80 | 126;
      f[2] = (unsigned char) (len >> 8);
      f[3] = (unsigned char) len;
    }
  else
    {
      f[1] = 0x80 | 127;
      for (int i = 0; i < 8; i++)
        f[2 + i] = (unsigned char) ((uint64_t) len >> (56 - 8 * i));
    }
  memcpy (f + hdr, c->mask, 4);
  off = hdr + 4;
  for (int i = 0; i < n_parts; i++)
    {
      memcpy (f + off, parts[i], lens[i]);
      off += lens[i];
    }
  /* Mask 8 bytes at a time (the 4-byte key repeated). */
  {
    unsigned char *p = f + hdr + 4;
    uint64_t key8;
    size_t i = 0;

    memcpy (&key8, c->mask, 4);
    memcpy ((char *) &key8 + 4, c->mask, 4);
    for (; i + 8 <= len; i += 8)
      {
        uint64_t w;

        memcpy (&w, p + i, 8);
        w ^= key8;
        memcpy (p + i, &w, 8);
      }
    for (; i < len; i++)
      p[i] ^= c->mask[i & 3];
  }
  c->out_len += hdr + 4 + len;
}

static void
ws_send_str (Client *c, const char *s)
{
  size_t len = strlen (s);

  ws_queue_text (c, 1, &s, &len);
  client_flush (c);
}

static void
mark_dirty (Client *c)
{
  if (!c->dirty)
    {
      c->dirty = 1;
      g.dirty[g.n_dirty++] = c->idx;
    }
}

/* Relay: fills @c's window toward its peer. */
static void
relay_refill (Client *c)
{
  Client *peer = &g.c[c->idx ^ 1];
  char num[24];
  int queued = 0;

  if (!g.relaying || c->state != ST_READY || peer->state != ST_READY)
    return;
  while (c->sent - peer->recv < (uint64_t) opt.window && c->out_len - c->out_off < (512u << 10))
    {
      size_t nlen = (size_t) snprintf (num, sizeof num, "%llu", (unsigned long long) c->sent);
      const char *parts[3] = { g.signal_head, num, g.signal_tail };
      size_t lens[3] = { g.head_len, nlen, g.tail_len };

      ws_queue_text (c, 3, parts, lens);
      c->sent++;
      queued++;
    }
  if (queued && !c->epollout)
    client_flush (c);
}

static void
send_join (Client *c)
{
  char msg[64];

  snprintf (msg, sizeof msg, "42[\"create or join\",\"r%d\"]", c->idx / 2);
  ws_send_str (c, msg);
}

static void
on_ready (Client *c)
{
  g.n_handshaking--;
  g.n_ready++;
  c->state = ST_READY;
  if (g.mode == MODE_RELAY || g.mode == MODE_STORM)
    send_join (c);
}

#define HAS_PREFIX(p, len, lit) ((len) >= sizeof (lit) - 1 && memcmp ((p), (lit), sizeof (lit) - 1) == 0)

static void
handle_message (Client *c, const char *p, size_t len)
{
  if (len == 0)
    return;
  switch (p[0])
    {
    case '0':  /* Engine.IO open */
      if (c->state == ST_EIO)
        {
          c->state = ST_SIO;
          ws_send_str (c, "40");
        }
      return;
    case '1':  /* Engine.IO close */
      client_kill (c);
      return;
    case '2':  /* ping → pong */
      {
        const char *parts[2] = { "3", p + 1 };
        size_t lens[2] = { 1, len - 1 };

        g.pings++;
        ws_queue_text (c, 2, parts, lens);
        if (!c->epollout)
          client_flush (c);
      }
      return;
    case '4':
      break;
    default:
      return;
    }

  if (len < 2)
    return;
  if (p[1] == '0')
    {
      if (c->state == ST_SIO)
        on_ready (c);
      return;
    }
  if (p[1] == '1' || p[1] == '4')  /* disconnect, connect error */
    {
      client_kill (c);
      return;
    }
  if (p[1] != '2')
    return;

  if (HAS_PREFIX (p, len, "42[\"signal\""))
    {
      const char *n = memmem (p, len < 64 ? len : 64, "\"n\":", 4);
      uint64_t seq = n ? strtoull (n + 4, NULL, 10) : UINT64_MAX;

      if (seq != c->expect)
        c->bad_order++;
      c->expect = seq + 1;
      c->recv++;
      g.total_recv++;
      mark_dirty (&g.c[c->idx ^ 1]);
    }
  else if (HAS_PREFIX (p, len, "42[\"create\"") || HAS_PREFIX (p, len, "42[\"join\"")
           || HAS_PREFIX (p, len, "42[\"full\""))
    {
      if (c->joined == JOIN_NONE)
        {
          c->joined = p[4] == 'c' ? JOIN_CREATE : p[4] == 'j' ? JOIN_JOIN : JOIN_FULL;
          c->t_join = now ();
          if (c->joined == JOIN_FULL)
            g.n_full++;
          else
            g.n_joined++;
        }
    }
  else if (HAS_PREFIX (p, len, "42[\"call\""))
    c->got_call = 1;
  else if (HAS_PREFIX (p, len, "42[\"error\""))
    {
      if (g.errors++ < 3)
        log_msg ("client %d got %.*s", c->idx, (int) (len < 120 ? len : 120), p);
    }
}

/* Parses whole frames out of c->in. */
static void
parse_frames (Client *c)
{
  size_t pos = 0;

  while (c->state != ST_DEAD)
    {
      const unsigned char *f = (const unsigned char *) c->in + pos;
      size_t avail = c->in_len - pos, hdr = 2, len;
      int opcode, fin;

      if (avail < 2)
        break;
      fin = f[0] & 0x80;
      opcode = f[0] & 0x0f;
      len = f[1] & 0x7f;
      if (len == 126)
        {
          if (avail < 4)
            break;
          len = ((size_t) f[2] << 8) | f[3];
          hdr = 4;
        }
      else if (len == 127)
        {
          if (avail < 10)
            break;
          len = 0;
          for (int i = 0; i < 8; i++)
            len = (len << 8) | f[2 + i];
          hdr = 10;
        }
      if (f[1] & 0x80)   /* servers never mask */
        {
          client_kill (c);
          return;
        }
      if (avail < hdr + len)
        break;
      pos += hdr + len;

      switch (opcode)
        {
        case 0x1:
        case 0x0:
          if (opcode == 0x1 && fin)
            handle_message (c, (const char *) f + hdr, len);
          else
            {
              ensure (&c->frag, &c->frag_cap, c->frag_len + len);
              memcpy (c->frag + c->frag_len, f + hdr, len);
              c->frag_len += len;
              if (fin)
                {
                  handle_message (c, c->frag, c->frag_len);
                  c->frag_len = 0;
                }
            }
          break;
        case 0x8:  /* close */
          client_kill (c);
          return;
        case 0x9:  /* ping → pong */
          {
            unsigned char hdr2[6] = { 0x8a, 0x80 | (unsigned char) (len & 0x7f), 0, 0, 0, 0 };

            if (len < 126)
              {
                ensure (&c->out, &c->out_cap, c->out_len + 6 + len);
                memcpy (c->out + c->out_len, hdr2, 6);
                memcpy (c->out + c->out_len + 6, f + hdr, len);
                c->out_len += 6 + len;
                client_flush (c);
              }
          }
          break;
        default:
          break;
        }
    }
  if (c->state == ST_DEAD)
    return;
  if (pos > 0)
    {
      memmove (c->in, c->in + pos, c->in_len - pos);
      c->in_len -= pos;
    }
  if (c->in_len == 0 && c->in_cap > 65536 * 4)
    {
      free (c->in);
      c->in = NULL;
      c->in_cap = 0;
    }
}

static void
client_readable (Client *c)
{
  for (int rounds = 0; rounds < 4 && c->state != ST_DEAD; rounds++)
    {
      ssize_t n;

      ensure (&c->in, &c->in_cap, c->in_len + 65536);
      n = read (c->fd, c->in + c->in_len, c->in_cap - c->in_len);
      if (n == 0)
        {
          client_kill (c);
          return;
        }
      if (n < 0)
        {
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            client_kill (c);
          return;
        }
      c->in_len += (size_t) n;

      if (c->state == ST_HTTP)
        {
          char *end = memmem (c->in, c->in_len, "\r\n\r\n", 4);
          size_t hlen;

          if (end == NULL)
            {
              if (c->in_len > 16384)
                client_kill (c);
              continue;
            }
          if (c->in_len < 12 || memcmp (c->in + 9, "101", 3) != 0)
            {
              if (opt.verbose)
                log_msg ("client %d: handshake refused: %.*s", c->idx, (int) (strchr (c->in, '\r') - c->in), c->in);
              client_kill (c);
              return;
            }
          hlen = (size_t) (end - c->in) + 4;
          memmove (c->in, c->in + hlen, c->in_len - hlen);
          c->in_len -= hlen;
          c->state = ST_EIO;
        }
      parse_frames (c);
      if ((size_t) n < 65536)
        return;
    }
}

static void
client_connect (Client *c)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) g.port) };
  struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t) c->idx };
  int one = 1;

  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  c->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    {
      c->state = ST_DEAD;
      g.n_dead++;
      g.n_connect_fail++;
      return;
    }
  setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  g.n_handshaking++;
  c->state = ST_CONNECTING;
  c->epollout = 1;
  if (connect (c->fd, (struct sockaddr *) &sa, sizeof sa) < 0 && errno != EINPROGRESS)
    {
      g.n_connect_fail++;
      client_kill (c);
      return;
    }
  epoll_ctl (g.epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

static void
client_event (Client *c, uint32_t events)
{
  if (c->state == ST_CONNECTING)
    {
      int err = 0;
      socklen_t elen = sizeof err;
      char req[sizeof ws_request_fmt + 16];
      int n;

      if (getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0)
        {
          g.n_connect_fail++;
          client_kill (c);
          return;
        }
      c->state = ST_HTTP;
      n = snprintf (req, sizeof req, ws_request_fmt, g.port);
      ensure (&c->out, &c->out_cap, (size_t) n);
      memcpy (c->out, req, (size_t) n);
      c->out_len = (size_t) n;
      client_flush (c);
      return;
    }
  if ((events & EPOLLOUT) && c->state != ST_DEAD)
    {
      client_flush (c);
      if (c->state != ST_DEAD && !c->epollout)
        relay_refill (c);
    }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->state != ST_DEAD)
    client_readable (c);
}

static void
clients_init (int n, int mode, int port)
{
  g.c = calloc ((size_t) n, sizeof *g.c);
  g.dirty = calloc ((size_t) n, sizeof *g.dirty);
  g.n = n;
  g.mode = mode;
  g.port = port;
  g.next_to_connect = g.n_handshaking = g.n_ready = g.n_dead = 0;
  g.n_joined = g.n_full = g.n_connect_fail = 0;
  g.pings = g.total_recv = g.errors = 0;
  g.relaying = 0;
  g.n_dirty = 0;
  for (int i = 0; i < n; i++)
    {
      uint32_t r = (uint32_t) random ();

      g.c[i].idx = i;
      g.c[i].fd = -1;
      memcpy (g.c[i].mask, &r, 4);
    }
}

static void
clients_free (void)
{
  for (int i = 0; i < g.n; i++)
    client_kill (&g.c[i]);
  free (g.c);
  free (g.dirty);
  g.c = NULL;
  g.dirty = NULL;
  g.n = 0;
}

typedef int (*DoneFunc) (void);

/* Runs the event loop until @done returns true or @seconds pass. Starts paced
 * connects (at most @window handshaking) while some are left. */
static void
run_loop (double seconds, DoneFunc done, int window)
{
  struct epoll_event events[1024];
  double deadline = now () + seconds;

  while (now () < deadline)
    {
      int n;

      while (g.next_to_connect < g.n && g.n_handshaking < window)
        client_connect (&g.c[g.next_to_connect++]);
      if (done != NULL && done ())
        return;

      n = epoll_wait (g.epfd, events, 1024, 20);
      for (int i = 0; i < n; i++)
        client_event (&g.c[events[i].data.u32], events[i].events);
      for (int i = 0; i < g.n_dirty; i++)
        {
          Client *c = &g.c[g.dirty[i]];

          c->dirty = 0;
          if (!c->epollout)
            relay_refill (c);
        }
      g.n_dirty = 0;
    }
}

static int
all_settled (void)
{
  return g.next_to_connect >= g.n && g.n_handshaking == 0;
}

static int
all_joined (void)
{
  return g.next_to_connect >= g.n && g.n_joined + g.n_full + g.n_dead >= g.n;
}

static int
relay_drained (void)
{
  for (int i = 0; i < g.n; i++)
    if (g.c[i].state == ST_READY && g.c[i ^ 1].state == ST_READY && g.c[i].sent != g.c[i ^ 1].recv)
      return 0;
  return 1;
}

static int
rooms_ready (void)
{
  /* Every creator has seen its peer join (got "call"), or someone died. */
  if (!all_joined ())
    return 0;
  for (int i = 0; i < g.n; i++)
    if (g.c[i].state == ST_READY && g.c[i].joined == JOIN_CREATE && !g.c[i].got_call)
      return 0;
  return 1;
}

/* --- phases -------------------------------------------------------------------- */

#define NA (-1.0)

typedef struct {
  /* hold */
  int hold_n[4];
  int hold_ok[4];
  double hold_connect_s[4];
  double hold_rss_kb_per_conn[4];
  long hold_rss_before[4], hold_rss_after[4];
  double hold_cpu[4];
  /* relay */
  double relay_rate;
  uint64_t relay_sent, relay_recv, relay_lost, relay_bad;
  int relay_clients_ok;
  double relay_cpu, relay_cpu_per_kmsg;
  long relay_rss_peak;
  double relay_gen_cpu;
  /* storm */
  int storm_joined, storm_failed, storm_full;
  double storm_seconds, storm_p50, storm_p99;
  long storm_rss_peak;
  double storm_cpu;
  int done_hold, done_relay, done_storm;
} Result;

static Result results[MAX_SERVERS];

static int
epoll_setup (void)
{
  g.epfd = epoll_create1 (EPOLL_CLOEXEC);
  return g.epfd;
}

static void
phase_hold (const ServerSpec *spec, Result *r, int slot, int n)
{
  Server srv;
  double t0, cpu0;

  r->hold_n[slot] = n;
  r->hold_ok[slot] = 0;
  r->hold_rss_kb_per_conn[slot] = NA;
  if (server_start (spec, &srv) < 0)
    return;
  epoll_setup ();
  clients_init (n, MODE_HOLD, srv.port);
  cpu0 = proc_cpu_seconds (srv.pid);
  r->hold_rss_before[slot] = srv.rss_start_kb;
  t0 = now ();
  run_loop (90, all_settled, opt.connect_window);
  r->hold_connect_s[slot] = now () - t0;
  log_msg ("%s hold %d: %d connected in %.2f s (%d failed), holding %.0f s",
           spec->name, n, g.n_ready, r->hold_connect_s[slot], g.n_dead, opt.hold_seconds);
  run_loop (opt.hold_seconds, NULL, opt.connect_window);
  r->hold_ok[slot] = g.n_ready;
  r->hold_rss_after[slot] = proc_status_kb (srv.pid, "VmRSS");
  r->hold_cpu[slot] = proc_cpu_seconds (srv.pid) - cpu0;
  if (g.n_ready > 0 && r->hold_rss_after[slot] > 0)
    r->hold_rss_kb_per_conn[slot] = (double) (r->hold_rss_after[slot] - r->hold_rss_before[slot]) / g.n_ready;
  log_msg ("%s hold %d: %d still connected, %llu pings answered, RSS %ld → %ld KB",
           spec->name, n, g.n_ready, (unsigned long long) g.pings,
           r->hold_rss_before[slot], r->hold_rss_after[slot]);
  server_stop (&srv);
  clients_free ();
  close (g.epfd);
}

static void
phase_relay (const ServerSpec *spec, Result *r)
{
  Server srv;
  double t0, t1, cpu0, cpu1, gen0;
  uint64_t recv0, recv1;
  int n = opt.rooms * 2;

  r->relay_rate = NA;
  if (server_start (spec, &srv) < 0)
    return;
  epoll_setup ();
  clients_init (n, MODE_RELAY, srv.port);
  run_loop (60, rooms_ready, opt.connect_window);
  r->relay_clients_ok = g.n_ready;
  log_msg ("%s relay: %d/%d clients in rooms (%d full), relaying %.0f s",
           spec->name, g.n_joined, n, g.n_full, opt.relay_seconds);

  g.relaying = 1;
  for (int i = 0; i < n; i++)
    relay_refill (&g.c[i]);
  cpu0 = proc_cpu_seconds (srv.pid);
  gen0 = self_cpu_seconds ();
  recv0 = g.total_recv;
  t0 = now ();
  run_loop (opt.relay_seconds, NULL, opt.connect_window);
  t1 = now ();
  recv1 = g.total_recv;
  cpu1 = proc_cpu_seconds (srv.pid);
  r->relay_gen_cpu = self_cpu_seconds () - gen0;
  g.relaying = 0;
  run_loop (15, relay_drained, opt.connect_window);

  r->relay_rate = (double) (recv1 - recv0) / (t1 - t0);
  r->relay_cpu = cpu1 - cpu0;
  r->relay_cpu_per_kmsg = recv1 > recv0 ? r->relay_cpu / ((double) (recv1 - recv0) / 1000.0) * 1000.0 : NA;
  r->relay_sent = r->relay_recv = r->relay_lost = r->relay_bad = 0;
  for (int i = 0; i < n; i++)
    {
      Client *c = &g.c[i], *peer = &g.c[i ^ 1];

      r->relay_sent += c->sent;
      r->relay_recv += peer->recv;
      if (peer->recv < c->sent)
        r->relay_lost += c->sent - peer->recv;
      r->relay_bad += c->bad_order;
    }
  r->relay_clients_ok = g.n_ready;
  r->relay_rss_peak = proc_status_kb (srv.pid, "VmHWM");
  log_msg ("%s relay: %.0f msgs/s, sent %llu, received %llu, lost %llu, out of order %llu, "
           "%d clients still connected, server CPU %.2f s, generator CPU %.2f s",
           spec->name, r->relay_rate, (unsigned long long) r->relay_sent,
           (unsigned long long) r->relay_recv, (unsigned long long) r->relay_lost,
           (unsigned long long) r->relay_bad, g.n_ready, r->relay_cpu, r->relay_gen_cpu);
  server_stop (&srv);
  clients_free ();
  close (g.epfd);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
phase_storm (const ServerSpec *spec, Result *r)
{
  Server srv;
  double t0, cpu0, last = 0;
  double *lat;
  int n = opt.storm, nl = 0;

  r->storm_seconds = NA;
  if (server_start (spec, &srv) < 0)
    return;
  epoll_setup ();
  clients_init (n, MODE_STORM, srv.port);
  cpu0 = proc_cpu_seconds (srv.pid);
  t0 = now ();
  /* All at once: every connect() is issued before the first event is read. */
  run_loop (opt.storm_timeout, all_joined, n);
  lat = calloc ((size_t) n, sizeof *lat);
  for (int i = 0; i < n; i++)
    if (g.c[i].joined == JOIN_CREATE || g.c[i].joined == JOIN_JOIN)
      {
        lat[nl++] = g.c[i].t_join - t0;
        if (g.c[i].t_join > last)
          last = g.c[i].t_join;
      }
  qsort (lat, (size_t) nl, sizeof *lat, cmp_double);
  r->storm_joined = g.n_joined;
  r->storm_full = g.n_full;
  r->storm_failed = n - g.n_joined;
  r->storm_seconds = nl == n ? last - t0 : NA;
  r->storm_p50 = nl ? lat[nl / 2] : NA;
  r->storm_p99 = nl ? lat[(int) (nl * 0.99) < nl ? (int) (nl * 0.99) : nl - 1] : NA;
  /* Dropped after joining (e.g. ping timeouts) also count as failed. */
  for (int i = 0; i < n; i++)
    if ((g.c[i].joined == JOIN_CREATE || g.c[i].joined == JOIN_JOIN) && g.c[i].state == ST_DEAD)
      r->storm_failed++;
  r->storm_rss_peak = proc_status_kb (srv.pid, "VmHWM");
  r->storm_cpu = proc_cpu_seconds (srv.pid) - cpu0;
  log_msg ("%s storm: %d/%d joined (%d full, %d dropped) in %.2f s (p50 %.3f s, p99 %.3f s), peak RSS %ld KB",
           spec->name, g.n_joined, n, g.n_full, g.n_dead, now () - t0, r->storm_p50, r->storm_p99,
           r->storm_rss_peak);
  free (lat);
  server_stop (&srv);
  clients_free ();
  close (g.epfd);
}

/* --- report ---------------------------------------------------------------------- */

static void
fmt_num (char *buf, size_t size, double v, const char *fmt)
{
  if (v < 0)
    snprintf (buf, size, "-");
  else
    snprintf (buf, size, fmt, v);
}

static void
row (const char *label, double a, double b, const char *fmt, const char *ratio_note, int ratio_kind)
{
  char sa[32], sb[32], sr[64] = "";

  fmt_num (sa, sizeof sa, a, fmt);
  fmt_num (sb, sizeof sb, b, fmt);
  if (ratio_kind && a >= 0 && b > 0)
    snprintf (sr, sizeof sr, ratio_kind == 2 ? "%.2fx" : "%.2f", a / b);
  if (n_servers < 2)
    {
      printf ("%-26s %12s\n", label, sa);
      return;
    }
  printf ("%-26s %12s %12s %8s %s\n", label, sa, sb, sr, sr[0] ? ratio_note : "");
}

static void
report (void)
{
  Result *a = &results[0], *b = n_servers > 1 ? &results[1] : &results[0];
  char label[64];

  if (n_servers > 1)
    {
      printf ("\n%-26s %12s %12s %8s\n", "phase", servers[0].name, servers[1].name, "ratio");
      printf ("%-26s %12s %12s %8s\n", "--------------------------", "------------", "------------", "--------");
    }
  else
    {
      printf ("\n%-26s %12s\n", "phase", servers[0].name);
      printf ("%-26s %12s\n", "--------------------------", "------------");
    }
  if (a->done_hold)
    for (int i = 0; i < opt.n_hold_counts; i++)
      {
        int n = opt.hold_counts[i];

        snprintf (label, sizeof label, "conns held (%d)", n);
        row (label, a->hold_ok[i], b->hold_ok[i], "%.0f", "", 0);
        snprintf (label, sizeof label, "  connect time (s)");
        row (label, a->hold_connect_s[i], b->hold_connect_s[i], "%.2f", "", 1);
        snprintf (label, sizeof label, "  RSS before/after (MB)");
        {
          char sa[32], sb[32];

          snprintf (sa, sizeof sa, "%.1f/%.1f", a->hold_rss_before[i] / 1024.0, a->hold_rss_after[i] / 1024.0);
          snprintf (sb, sizeof sb, "%.1f/%.1f", b->hold_rss_before[i] / 1024.0, b->hold_rss_after[i] / 1024.0);
          printf ("%-26s %12s %12s\n", label, sa, n_servers > 1 ? sb : "");
        }
        snprintf (label, sizeof label, "  RSS/conn (KB)");
        row (label, a->hold_rss_kb_per_conn[i], b->hold_rss_kb_per_conn[i], "%.1f", "(target <= 0.20)", 1);
        snprintf (label, sizeof label, "  server CPU (s)");
        row (label, a->hold_cpu[i], b->hold_cpu[i], "%.2f", "", 1);
      }
  if (a->done_relay)
    {
      snprintf (label, sizeof label, "relay msgs/s (%d rooms)", opt.rooms);
      row (label, a->relay_rate, b->relay_rate, "%.0f", "(target >= 3x)", 2);
      row ("  sent", (double) a->relay_sent, (double) b->relay_sent, "%.0f", "", 0);
      row ("  lost after drain", (double) a->relay_lost, (double) b->relay_lost, "%.0f", "", 0);
      row ("  out of order", (double) a->relay_bad, (double) b->relay_bad, "%.0f", "", 0);
      row ("  clients connected", a->relay_clients_ok, b->relay_clients_ok, "%.0f", "", 0);
      row ("  server CPU (s)", a->relay_cpu, b->relay_cpu, "%.2f", "", 1);
      row ("  server CPU us/msg", a->relay_cpu_per_kmsg, b->relay_cpu_per_kmsg, "%.2f", "", 1);
      row ("  generator CPU (s)", a->relay_gen_cpu, b->relay_gen_cpu, "%.2f", "", 0);
      row ("  server peak RSS (MB)", a->relay_rss_peak / 1024.0, b->relay_rss_peak / 1024.0, "%.1f", "", 1);
    }
  if (a->done_storm)
    {
      snprintf (label, sizeof label, "join storm (%d) all in s", opt.storm);
      row (label, a->storm_seconds, b->storm_seconds, "%.2f", "", 1);
      row ("  joined", a->storm_joined, b->storm_joined, "%.0f", "", 0);
      row ("  failed/dropped", a->storm_failed, b->storm_failed, "%.0f", "", 0);
      row ("  join latency p50 (s)", a->storm_p50, b->storm_p50, "%.3f", "", 1);
      row ("  join latency p99 (s)", a->storm_p99, b->storm_p99, "%.3f", "", 1);
      row ("  server peak RSS (MB)", a->storm_rss_peak / 1024.0, b->storm_rss_peak / 1024.0, "%.1f", "", 1);
      row ("  server CPU (s)", a->storm_cpu, b->storm_cpu, "%.2f", "", 1);
    }
  if (n_servers > 1)
    printf ("\nratio = %s / %s; '-' = not measured or not all clients finished.\n",
            servers[0].name, servers[1].name);
  fflush (stdout);
}

/* --- main ------------------------------------------------------------------------ */

static void
usage (void)
{
  fprintf (stderr,
           "usage: bench-signaling --server NAME=COMMAND [--server NAME=COMMAND]\n"
           "  [--phases hold,relay,storm] [--hold-counts 1000,10000] [--hold SECONDS]\n"
           "  [--rooms N] [--window N] [--relay-seconds S] [--storm N] [--storm-timeout S]\n"
           "  [--sdp-bytes N] [--connect-window N] [--verbose]\n"
           "Each COMMAND is run as `sh -c \"exec COMMAND\"` afresh per phase and must print\n"
           "its port (a number, or JSON with \"port\":N) as its first stdout line.\n");
  exit (2);
}

int
main (int argc, char **argv)
{
  double t_start = now ();

  signal (SIGPIPE, SIG_IGN);
  srandom ((unsigned) time (NULL));
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const char *v = i + 1 < argc ? argv[i + 1] : NULL;

#define ARG(name) (strcmp (a, name) == 0 && v != NULL && (i++, 1))
      if (ARG ("--server"))
        {
          char *eq = strchr (v, '=');

          if (eq == NULL || n_servers == MAX_SERVERS)
            usage ();
          servers[n_servers].name = strndup (v, (size_t) (eq - v));
          servers[n_servers].command = eq + 1;
          n_servers++;
        }
      else if (ARG ("--phases"))
        opt.phases = v;
      else if (ARG ("--hold-counts"))
        {
          char *copy = strdup (v), *save = NULL;

          opt.n_hold_counts = 0;
          for (char *t = strtok_r (copy, ",", &save); t && opt.n_hold_counts < 4; t = strtok_r (NULL, ",", &save))
            opt.hold_counts[opt.n_hold_counts++] = atoi (t);
        }
      else if (ARG ("--hold"))
        opt.hold_seconds = atof (v);
      else if (ARG ("--rooms"))
        opt.rooms = atoi (v);
      else if (ARG ("--window"))
        opt.window = atoi (v);
      else if (ARG ("--relay-seconds"))
        opt.relay_seconds = atof (v);
      else if (ARG ("--storm"))
        opt.storm = atoi (v);
      else if (ARG ("--storm-timeout"))
        opt.storm_timeout = atof (v);
      else if (ARG ("--sdp-bytes"))
        opt.sdp_bytes = atoi (v);
      else if (ARG ("--connect-window"))
        opt.connect_window = atoi (v);
      else if (strcmp (a, "--verbose") == 0)
        opt.verbose = 1;
      else
        usage ();
#undef ARG
    }
  if (n_servers == 0 || opt.rooms < 1 || opt.window < 1 || opt.storm < 2 || opt.hold_seconds > 120
      || opt.relay_seconds > 120 || opt.storm_timeout > 300 || opt.sdp_bytes < 16 || opt.sdp_bytes > 500000)
    usage ();

  /* The relayed message: 42["signal",{"type":"offer","n":SEQ,"sdp":"v=0\r\n…"}] */
  {
    static const char line[] = "a=candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host\\r\\n";
    size_t cap = (size_t) opt.sdp_bytes + 128, len;

    g.signal_head = strdup ("42[\"signal\",{\"type\":\"offer\",\"n\":");
    g.head_len = strlen (g.signal_head);
    g.signal_tail = malloc (cap);
    len = (size_t) snprintf (g.signal_tail, cap, ",\"sdp\":\"v=0\\r\\n");
    while (len + sizeof line - 1 + 3 < (size_t) opt.sdp_bytes)
      {
        memcpy (g.signal_tail + len, line, sizeof line - 1);
        len += sizeof line - 1;
      }
    while (len + 3 < (size_t) opt.sdp_bytes)
      g.signal_tail[len++] = 'x';
    memcpy (g.signal_tail + len, "\"}]", 4);
    g.tail_len = len + 3;
  }

  {
    struct rlimit rl;

    getrlimit (RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit (RLIMIT_NOFILE, &rl);
    log_msg ("open files limit %llu, signal message %zu bytes", (unsigned long long) rl.rlim_cur,
             g.head_len + 1 + g.tail_len);
  }

  for (int s = 0; s < n_servers; s++)
    {
      if (strstr (opt.phases, "hold"))
        {
          for (int i = 0; i < opt.n_hold_counts; i++)
            phase_hold (&servers[s], &results[s], i, opt.hold_counts[i]);
          results[s].done_hold = 1;
        }
      if (strstr (opt.phases, "relay"))
        {
          phase_relay (&servers[s], &results[s]);
          results[s].done_relay = 1;
        }
      if (strstr (opt.phases, "storm"))
        {
          phase_storm (&servers[s], &results[s]);
          results[s].done_storm = 1;
        }
    }
  report ();
  log_msg ("total %.0f s", now () - t_start);
  return 0;
}
