/* peercam-netem.c — a tiny netem for kernels without the netem qdisc.
 *
 * Copies Ethernet frames between two interfaces (normally two veth ends in a
 * middle network namespace) on AF_PACKET sockets, adding per direction a
 * Bernoulli loss and a delay D ± J. Each direction is one FIFO whose release
 * time is max(previous release, arrival + D + jitter): jitter never reorders
 * the packets of one path (netem's does, real single paths don't). Rate caps
 * are the kernel's job: a tbf qdisc on the egress interface, which the frames
 * we send go through.
 *
 *   peercam-netem --a IF_A --b IF_B [--delay MS --jitter MS --loss PCT]
 *                 [--ab D,J,L] [--ba D,J,L] [--seed N] [--stats-ms MS]
 *                 [--timeout S]
 *   peercam-netem --self-check [--seconds S] [--max-late-ms MS]
 *
 * "ab" is what arrives on IF_A and leaves on IF_B. With --stats-ms it prints
 * one JSON object per interval on stdout (t_ms since start, wall_ms the
 * real-time clock, to line them up with other logs): per direction the frames/bytes in,
 * lost (our loss), sent, refused by the egress qdisc (tbf drops), the egress
 * interface's tx_bytes after the qdisc, and our own lateness (actual send
 * minus planned release). It runs with SCHED_FIFO when it can (its lateness
 * stays < 1 ms then; up to ~20 ms on a busy machine without).
 *
 * --self-check runs the same scheduler on two socketpairs, no interfaces and
 * no privileges needed: a generator sends timestamped packets at 1000/s per
 * direction; it checks order, loss rate, mean delay and (under SCHED_FIFO)
 * that its worst lateness stays under --max-late-ms (default 1), prints
 * them and exits 1 when they are off. On a heavily loaded VM even
 * SCHED_FIFO sees a few ms now and then, so the test passes a looser bound.
 *
 * Frames keep their virtio-net header (PACKET_VNET_HDR): veth hands over
 * TCP super-frames and UDP with the checksum left to offload, which the
 * kernel then finishes on the way out exactly as between two veths.
 *
 * A bench tool, not part of the app: plain C, no GLib.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define MAX_FRAME   (65536 + 1024)
#define MAX_QUEUED  20000          /* per direction; beyond that we drop ("overflow") */
#define LATE_BUCKET_US 50
#define LATE_BUCKETS   400          /* 0..20 ms, the last bucket holds the rest */

typedef struct Packet {
  struct Packet *next;
  int64_t        release_ns;
  size_t         len;
  unsigned char  data[];
} Packet;

typedef struct {
  const char *name;              /* "ab" or "ba" */
  int         in_fd, out_fd;
  const char *out_ifname;        /* for tx_bytes after the qdisc; NULL in self-check */
  double      delay_ms, jitter_ms, loss;   /* loss: 0..1 */
  uint64_t    rng;
  Packet     *head, *tail;
  int64_t     last_release_ns;
  unsigned    queued;
  /* counters (since start) */
  uint64_t    in_pkts, in_bytes, lost, overflow, sent, sent_bytes, refused, send_errors;
  /* lateness since the last report */
  int64_t     late_max_ns;
  uint64_t    late_hist[LATE_BUCKETS];
  uint64_t    late_count;
} Direction;

static volatile sig_atomic_t stop_requested;

static int64_t
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* xorshift64*: fast, reproducible from --seed, plenty for loss and jitter. */
static double
rng_uniform (uint64_t *state)
{
  uint64_t x = *state;

  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return (double) ((x * 0x2545F4914F6CDD1DULL) >> 11) / (double) (1ULL << 53);
}

static void
on_signal (int sig)
{
  (void) sig;
  stop_requested = 1;
}

static void
direction_enqueue (Direction           *d,
                   const unsigned char *data,
                   size_t               len,
                   int64_t              arrival_ns)
{
  Packet *p;
  double delay_ms;
  int64_t release;

  d->in_pkts++;
  d->in_bytes += len;
  if (d->loss > 0 && rng_uniform (&d->rng) < d->loss)
    {
      d->lost++;
      return;
    }
  if (d->queued >= MAX_QUEUED)
    {
      d->overflow++;
      return;
    }
  delay_ms = d->delay_ms;
  if (d->jitter_ms > 0)
    delay_ms += (rng_uniform (&d->rng) * 2 - 1) * d->jitter_ms;
  if (delay_ms < 0)
    delay_ms = 0;
  release = arrival_ns + (int64_t) (delay_ms * 1e6);
  if (release < d->last_release_ns)
    release = d->last_release_ns;       /* one path: never overtake */
  d->last_release_ns = release;

  p = malloc (sizeof (Packet) + len);
  if (p == NULL)
    {
      d->overflow++;
      return;
    }
  p->next = NULL;
  p->release_ns = release;
  p->len = len;
  memcpy (p->data, data, len);
  if (d->tail)
    d->tail->next = p;
  else
    d->head = p;
  d->tail = p;
  d->queued++;
}

static void
direction_release (Direction *d,
                   int64_t    now)
{
  while (d->head != NULL && d->head->release_ns <= now)
    {
      Packet *p = d->head;
      int64_t late = now_ns () - p->release_ns;
      unsigned bucket = (unsigned) (late / 1000 / LATE_BUCKET_US);

      if (send (d->out_fd, p->data, p->len, MSG_DONTWAIT) < 0)
        {
          /* ENOBUFS: the egress qdisc (tbf) dropped it, as a router would. */
          if (errno == ENOBUFS || errno == EAGAIN)
            d->refused++;
          else
            d->send_errors++;
        }
      else
        {
          d->sent++;
          d->sent_bytes += p->len;
        }
      if (late > d->late_max_ns)
        d->late_max_ns = late;
      d->late_hist[bucket < LATE_BUCKETS ? bucket : LATE_BUCKETS - 1]++;
      d->late_count++;

      d->head = p->next;
      if (d->head == NULL)
        d->tail = NULL;
      d->queued--;
      free (p);
    }
}

static double
late_percentile_ms (const Direction *d,
                    double           q)
{
  uint64_t want = (uint64_t) (q * (double) d->late_count), seen = 0;

  for (unsigned i = 0; i < LATE_BUCKETS; i++)
    {
      seen += d->late_hist[i];
      if (seen > want)
        return (i + 1) * LATE_BUCKET_US / 1000.0;
    }
  return LATE_BUCKETS * LATE_BUCKET_US / 1000.0;
}

static uint64_t
read_tx_bytes (const char *ifname)
{
  char path[256], buf[64];
  uint64_t value = 0;
  FILE *f;

  if (ifname == NULL)
    return 0;
  snprintf (path, sizeof path, "/sys/class/net/%s/statistics/tx_bytes", ifname);
  f = fopen (path, "r");
  if (f == NULL)
    return 0;
  if (fgets (buf, sizeof buf, f) != NULL)
    value = strtoull (buf, NULL, 10);
  fclose (f);
  return value;
}

static void
print_direction (FILE      *out,
                 Direction *d)
{
  fprintf (out, "\"%s\":{\"in_pkts\":%" PRIu64 ",\"in_bytes\":%" PRIu64 ",\"lost\":%" PRIu64
           ",\"overflow\":%" PRIu64 ",\"sent\":%" PRIu64 ",\"sent_bytes\":%" PRIu64
           ",\"refused\":%" PRIu64 ",\"send_errors\":%" PRIu64 ",\"queued\":%u"
           ",\"tx_bytes\":%" PRIu64 ",\"late_max_ms\":%.3f,\"late_p99_ms\":%.3f}",
           d->name, d->in_pkts, d->in_bytes, d->lost, d->overflow, d->sent, d->sent_bytes,
           d->refused, d->send_errors, d->queued, read_tx_bytes (d->out_ifname),
           d->late_max_ns / 1e6, d->late_count ? late_percentile_ms (d, 0.99) : 0.0);
}

static void
print_stats (FILE      *out,
             int64_t    start_ns,
             Direction *dirs,
             const char *sched)
{
  struct timespec wall;

  clock_gettime (CLOCK_REALTIME, &wall);
  fprintf (out, "{\"t_ms\":%" PRId64 ",\"wall_ms\":%" PRId64 ",\"sched\":\"%s\",",
           (now_ns () - start_ns) / 1000000,
           (int64_t) wall.tv_sec * 1000 + wall.tv_nsec / 1000000, sched);
  print_direction (out, &dirs[0]);
  fputc (',', out);
  print_direction (out, &dirs[1]);
  fputs ("}\n", out);
  fflush (out);
  for (int i = 0; i < 2; i++)
    {
      dirs[i].late_max_ns = 0;
      dirs[i].late_count = 0;
      memset (dirs[i].late_hist, 0, sizeof dirs[i].late_hist);
    }
}

static const char *
go_realtime (void)
{
  struct sched_param param = { .sched_priority = 50 };

  if (sched_setscheduler (0, SCHED_FIFO, &param) != 0)
    return "other";
  mlockall (MCL_CURRENT | MCL_FUTURE);
  return "fifo";
}

/* The forwarding loop: read whatever arrived, queue it, send what is due,
 * sleep until the next release or the next frame. */
static void
run (Direction *dirs,
     int64_t    stats_ns,
     int64_t    end_ns,
     FILE      *stats_out,
     const char *sched,
     int64_t   (*tick) (void *data),
     void      *tick_data)
{
  static unsigned char buf[MAX_FRAME];
  int64_t start = now_ns (), next_stats = start + stats_ns;
  struct pollfd fds[2] = {
    { .fd = dirs[0].in_fd, .events = POLLIN },
    { .fd = dirs[1].in_fd, .events = POLLIN },
  };

  while (!stop_requested)
    {
      int64_t now = now_ns (), wake = now + 100 * 1000000LL;
      struct timespec timeout;

      for (int i = 0; i < 2; i++)
        {
          for (int n = 0; n < 256; n++)
            {
              ssize_t len = recv (dirs[i].in_fd, buf, sizeof buf, MSG_DONTWAIT);

              if (len < 0)
                break;
              direction_enqueue (&dirs[i], buf, (size_t) len, now);
            }
        }
      now = now_ns ();
      for (int i = 0; i < 2; i++)
        direction_release (&dirs[i], now);

      if (stats_ns > 0 && now >= next_stats)
        {
          print_stats (stats_out, start, dirs, sched);
          next_stats += stats_ns;
        }
      if (end_ns > 0 && now >= end_ns)
        break;
      if (tick)
        {
          int64_t want = tick (tick_data);

          if (want < 0)
            break;
          if (want > 0 && want < wake)
            wake = want;
        }

      for (int i = 0; i < 2; i++)
        if (dirs[i].head && dirs[i].head->release_ns < wake)
          wake = dirs[i].head->release_ns;
      if (stats_ns > 0 && next_stats < wake)
        wake = next_stats;
      if (end_ns > 0 && end_ns < wake)
        wake = end_ns;
      now = now_ns ();
      if (wake <= now)
        continue;
      timeout.tv_sec = (wake - now) / 1000000000;
      timeout.tv_nsec = (wake - now) % 1000000000;
      if (ppoll (fds, 2, &timeout, NULL) < 0 && errno != EINTR)
        {
          perror ("peercam-netem: ppoll");
          break;
        }
    }
  if (stats_ns > 0)
    print_stats (stats_out, start, dirs, sched);
}

static int
open_packet_socket (const char *ifname)
{
  struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_protocol = htons (ETH_P_ALL) };
  int one = 1, size = 4 << 20;
  int fd = socket (AF_PACKET, SOCK_RAW, htons (ETH_P_ALL));

  if (fd < 0)
    {
      perror ("peercam-netem: socket(AF_PACKET) (needs CAP_NET_RAW)");
      return -1;
    }
  addr.sll_ifindex = (int) if_nametoindex (ifname);
  if (addr.sll_ifindex == 0)
    {
      fprintf (stderr, "peercam-netem: no interface “%s”\n", ifname);
      close (fd);
      return -1;
    }
  if (setsockopt (fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) != 0 ||
      setsockopt (fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0)
    {
      perror ("peercam-netem: setsockopt(PACKET_VNET_HDR/IGNORE_OUTGOING)");
      close (fd);
      return -1;
    }
  /* Big buffers: a burst must wait in our FIFO or the qdisc, not here. */
  setsockopt (fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  setsockopt (fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) != 0)
    {
      fprintf (stderr, "peercam-netem: bind to %s: %s\n", ifname, strerror (errno));
      close (fd);
      return -1;
    }
  return fd;
}

static bool
parse_triple (const char *text,
              Direction  *d)
{
  char *end;

  d->delay_ms = strtod (text, &end);
  if (*end != ',')
    return false;
  d->jitter_ms = strtod (end + 1, &end);
  if (*end != ',')
    return false;
  d->loss = strtod (end + 1, &end) / 100.0;
  return *end == '\0' && d->delay_ms >= 0 && d->jitter_ms >= 0 && d->loss >= 0 && d->loss <= 1;
}

/* ---- self-check ------------------------------------------------------------ */

#define CHECK_RATE     1000      /* packets per second per direction */
#define CHECK_DELAY    20.0
#define CHECK_JITTER   5.0
#define CHECK_LOSS     0.05

typedef struct {
  int      gen_fd[2];      /* we write here: what the forwarder reads */
  int      sink_fd[2];     /* we read here: what the forwarder sent */
  int64_t  next_send_ns;
  uint64_t seq[2];
  uint64_t received[2], reordered[2], last_seq[2];
  double   delay_sum_ms[2];
  int64_t  end_ns;
} Check;

typedef struct {
  uint64_t seq;
  int64_t  sent_ns;
} CheckPayload;

/* Returns when it wants to run next, or -1 when the check is over. */
static int64_t
check_tick (void *data)
{
  Check *c = data;
  int64_t now = now_ns ();

  /* Generate at the rate, catching up in bursts if we slept. */
  while (c->next_send_ns <= now && now < c->end_ns)
    {
      for (int i = 0; i < 2; i++)
        {
          CheckPayload p = { ++c->seq[i], c->next_send_ns };
          if (send (c->gen_fd[i], &p, sizeof p, MSG_DONTWAIT) < 0)
            perror ("peercam-netem: self-check send");
        }
      c->next_send_ns += 1000000000 / CHECK_RATE;
    }
  for (int i = 0; i < 2; i++)
    {
      CheckPayload p;

      while (recv (c->sink_fd[i], &p, sizeof p, MSG_DONTWAIT) == sizeof p)
        {
          c->received[i]++;
          if (p.seq <= c->last_seq[i])
            c->reordered[i]++;
          c->last_seq[i] = p.seq;
          c->delay_sum_ms[i] += (now_ns () - p.sent_ns) / 1e6;
        }
    }
  if (now >= c->end_ns + 200000000)    /* the last packets are due by then */
    return -1;
  return c->next_send_ns < c->end_ns ? c->next_send_ns : c->end_ns + 200000000;
}

static int
self_check (int    seconds,
            double max_late_ms)
{
  Direction dirs[2] = {
    { .name = "ab", .delay_ms = CHECK_DELAY, .jitter_ms = CHECK_JITTER, .loss = CHECK_LOSS, .rng = 1 },
    { .name = "ba", .delay_ms = CHECK_DELAY, .jitter_ms = CHECK_JITTER, .loss = CHECK_LOSS, .rng = 2 },
  };
  Check c = { 0 };
  const char *sched = go_realtime ();
  int64_t late_max = 0;
  bool ok = true;
  int in[2][2], out[2][2];

  for (int i = 0; i < 2; i++)
    {
      if (socketpair (AF_UNIX, SOCK_DGRAM, 0, in[i]) != 0 ||
          socketpair (AF_UNIX, SOCK_DGRAM, 0, out[i]) != 0)
        {
          perror ("peercam-netem: socketpair");
          return 1;
        }
      c.gen_fd[i] = in[i][0];
      dirs[i].in_fd = in[i][1];
      dirs[i].out_fd = out[i][0];
      c.sink_fd[i] = out[i][1];
    }
  c.next_send_ns = now_ns ();
  c.end_ns = c.next_send_ns + (int64_t) seconds * 1000000000;

  /* The generator shares the loop and wakes it for every packet, so the
   * lateness we report includes its work too. */
  run (dirs, 0, 0, stdout, sched, check_tick, &c);
  for (int i = 0; i < 2; i++)
    if (dirs[i].late_max_ns > late_max)
      late_max = dirs[i].late_max_ns;
  check_tick (&c);

  printf ("{\"self_check\":true,\"sched\":\"%s\",\"seconds\":%d,\"rate_pps\":%d,"
          "\"delay_ms\":%.1f,\"jitter_ms\":%.1f,\"loss_pct\":%.1f,\"late_max_ms\":%.3f,\"late_p99_ms\":%.3f,\"max_late_ms\":%.1f",
          sched, seconds, CHECK_RATE, CHECK_DELAY, CHECK_JITTER, CHECK_LOSS * 100,
          late_max / 1e6, late_percentile_ms (&dirs[0], 0.99), max_late_ms);
  for (int i = 0; i < 2; i++)
    {
      double loss = 1.0 - (double) c.received[i] / (double) c.seq[i];
      double mean = c.received[i] ? c.delay_sum_ms[i] / (double) c.received[i] : 0;

      printf (",\"%s\":{\"sent\":%" PRIu64 ",\"received\":%" PRIu64 ",\"loss_pct\":%.2f,"
              "\"mean_delay_ms\":%.2f,\"reordered\":%" PRIu64 "}",
              dirs[i].name, c.seq[i], c.received[i], loss * 100, mean, c.reordered[i]);
      /* Bernoulli 5 % over ≥ 1000 packets: well inside 3–7 %; the mean of
       * a FIFO'd D ± J sits a little above D. */
      if (c.reordered[i] != 0 || loss < 0.03 || loss > 0.07 ||
          mean < CHECK_DELAY - 1 || mean > CHECK_DELAY + CHECK_JITTER + 2)
        ok = false;
    }
  if (late_max / 1e6 >= max_late_ms && strcmp (sched, "fifo") == 0)
    ok = false;
  printf (",\"ok\":%s}\n", ok ? "true" : "false");
  if (!ok)
    fprintf (stderr, "peercam-netem: self-check FAILED (see the figures above)\n");
  return ok ? 0 : 1;
}

/* ---- main ------------------------------------------------------------------ */

static void
usage (void)
{
  fputs ("usage: peercam-netem --a IF_A --b IF_B [--delay MS] [--jitter MS] [--loss PCT]\n"
         "                     [--ab D,J,L] [--ba D,J,L] [--seed N] [--stats-ms MS] [--timeout S]\n"
         "       peercam-netem --self-check [--seconds S] [--max-late-ms MS]\n", stderr);
}

int
main (int    argc,
      char **argv)
{
  Direction dirs[2] = { { .name = "ab" }, { .name = "ba" } };
  const char *if_a = NULL, *if_b = NULL, *sched;
  double delay = 0, jitter = 0, loss = 0;
  const char *ab = NULL, *ba = NULL;
  uint64_t seed = 0;
  long stats_ms = 0, timeout_s = 0, seconds = 3;
  double max_late_ms = 1.0;
  bool check = false;
  struct sigaction sa = { .sa_handler = on_signal };
  int64_t end_ns = 0;

  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
      bool takes = true;

      if (strcmp (arg, "--self-check") == 0)
        check = true, takes = false;
      else if (value == NULL)
        {
          usage ();
          return 2;
        }
      else if (strcmp (arg, "--a") == 0)
        if_a = value;
      else if (strcmp (arg, "--b") == 0)
        if_b = value;
      else if (strcmp (arg, "--delay") == 0)
        delay = atof (value);
      else if (strcmp (arg, "--jitter") == 0)
        jitter = atof (value);
      else if (strcmp (arg, "--loss") == 0)
        loss = atof (value);
      else if (strcmp (arg, "--ab") == 0)
        ab = value;
      else if (strcmp (arg, "--ba") == 0)
        ba = value;
      else if (strcmp (arg, "--seed") == 0)
        seed = strtoull (value, NULL, 10);
      else if (strcmp (arg, "--stats-ms") == 0)
        stats_ms = atol (value);
      else if (strcmp (arg, "--timeout") == 0)
        timeout_s = atol (value);
      else if (strcmp (arg, "--seconds") == 0)
        seconds = atol (value);
      else if (strcmp (arg, "--max-late-ms") == 0)
        max_late_ms = atof (value);
      else
        {
          usage ();
          return 2;
        }
      if (takes)
        i++;
    }

  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  setvbuf (stdout, NULL, _IOLBF, 0);

  if (check)
    return self_check (seconds > 0 ? (int) seconds : 3, max_late_ms > 0 ? max_late_ms : 1.0);

  if (if_a == NULL || if_b == NULL || delay < 0 || jitter < 0 || loss < 0 || loss > 100)
    {
      usage ();
      return 2;
    }
  for (int i = 0; i < 2; i++)
    {
      dirs[i].delay_ms = delay;
      dirs[i].jitter_ms = jitter;
      dirs[i].loss = loss / 100.0;
    }
  if ((ab && !parse_triple (ab, &dirs[0])) || (ba && !parse_triple (ba, &dirs[1])))
    {
      fputs ("peercam-netem: --ab/--ba take DELAY_MS,JITTER_MS,LOSS_PCT\n", stderr);
      return 2;
    }
  if (seed == 0)
    seed = (uint64_t) now_ns ();
  dirs[0].rng = seed | 1;
  dirs[1].rng = (seed * 0x9E3779B97F4A7C15ULL) | 1;

  {
    int fd_a = open_packet_socket (if_a), fd_b = open_packet_socket (if_b);

    if (fd_a < 0 || fd_b < 0)
      return 1;
    dirs[0].in_fd = fd_a, dirs[0].out_fd = fd_b, dirs[0].out_ifname = if_b;
    dirs[1].in_fd = fd_b, dirs[1].out_fd = fd_a, dirs[1].out_ifname = if_a;
  }

  sched = go_realtime ();
  if (strcmp (sched, "fifo") != 0)
    fprintf (stderr, "peercam-netem: no SCHED_FIFO (%s): expect up to ~20 ms of extra jitter\n",
             strerror (errno));
  if (timeout_s > 0)
    end_ns = now_ns () + (int64_t) timeout_s * 1000000000;
  run (dirs, stats_ms * 1000000LL, end_ns, stdout, sched, NULL, NULL);
  return 0;
}
