/*
 * bench-udp-load.c - traffic source and packet-counting sinks for
 * scripts/bench-fanout.mjs.  Loopback (127.0.0.1) only.  Both modes are
 * persistent processes driven by one-line commands on stdin, and exit on EOF.
 *
 *   bench-udp-load send [--rcvbuf BYTES] [--payload N] [--no-ext]
 *     binds one UDP socket on 127.0.0.1 (random port), prints "port P".
 *     "s DST_PORT COUNT RATE SSRC SEQ TS TS_STEP" sends COUNT Opus-like RTP
 *     packets (PT 111, N-byte payload, default 160, plus an RFC 8285
 *     one-byte ssrc-audio-level extension with id 1 unless --no-ext) to
 *     127.0.0.1:DST_PORT, paced at RATE packets/s in 1 ms ticks (sendmmsg of
 *     the packets due at each tick; late ticks catch up), then prints
 *     "done SENT ELAPSED_US ERRORS".  Anything received (RTCP from the SFU)
 *     is read and discarded.
 *
 *   bench-udp-load sink K [--rcvbuf BYTES] [--poll-us US]
 *     binds K UDP sockets on 127.0.0.1 (random ports), prints
 *     "ports P1 P2 ... PK".  Counts RTP (second byte outside 192..223) and
 *     RTCP datagrams per socket with recvmmsg; never decrypts.  Polls every
 *     US microseconds (default 1000) instead of sleeping in epoll_wait, so
 *     that arriving packets do not wake it (see run_sinks).
 *     "c" prints "count RTP_TOTAL RTP_MIN RTP_MAX RTCP_TOTAL";
 *     "r" resets the counters and prints "ok".
 *
 * Build: cc -O2 -std=c11 -D_GNU_SOURCE -o build/bench/bench-udp-load scripts/bench-udp-load.c
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_PKT 1500
#define MAX_SINKS 1024

static int open_udp(int rcvbuf, uint16_t *port) {
  struct sockaddr_in a;
  socklen_t alen = sizeof(a);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reads one line from stdin (blocking); 0 on EOF. */
static int read_cmd(char *line, size_t cap) {
  if (fgets(line, (int)cap, stdin) == NULL) return 0;
  return 1;
}

static void drain(int fd) {
  static uint8_t junk[BATCH][MAX_PKT];
  struct mmsghdr m[BATCH];
  struct iovec iov[BATCH];
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = junk[i];
      iov[i].iov_len = MAX_PKT;
      memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
      m[i].msg_hdr.msg_iov = &iov[i];
      m[i].msg_hdr.msg_iovlen = 1;
    }
    if (recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL) <= 0) return;
  }
}

/* ---- sender ---- */

static size_t build_rtp(uint8_t *b, int ext, size_t payload, uint32_t ssrc, uint16_t seq, uint32_t ts) {
  size_t off = 12;
  b[0] = (uint8_t)(0x80 | (ext ? 0x10 : 0));
  b[1] = 111;
  b[2] = (uint8_t)(seq >> 8);
  b[3] = (uint8_t)seq;
  b[4] = (uint8_t)(ts >> 24);
  b[5] = (uint8_t)(ts >> 16);
  b[6] = (uint8_t)(ts >> 8);
  b[7] = (uint8_t)ts;
  b[8] = (uint8_t)(ssrc >> 24);
  b[9] = (uint8_t)(ssrc >> 16);
  b[10] = (uint8_t)(ssrc >> 8);
  b[11] = (uint8_t)ssrc;
  if (ext) {
    /* 0xBEDE, 1 word: id 1 (ssrc-audio-level), len 1, V=1 level 30, 2 padding bytes */
    b[12] = 0xbe;
    b[13] = 0xde;
    b[14] = 0x00;
    b[15] = 0x01;
    b[16] = 0x10;
    b[17] = 0x80 | 30;
    b[18] = 0;
    b[19] = 0;
    off = 20;
  }
  for (size_t i = 0; i < payload; i++) b[off + i] = (uint8_t)(i * 31 + seq);
  return off + payload;
}

static int run_sender(int rcvbuf, size_t payload, int ext) {
  static uint8_t bufs[BATCH][MAX_PKT];
  struct mmsghdr m[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in to;
  char line[256];
  uint16_t port;
  int fd = open_udp(rcvbuf, &port);

  if (fd < 0) {
    perror("sender socket");
    return 1;
  }
  printf("port %u\n", port);
  fflush(stdout);
  while (read_cmd(line, sizeof(line))) {
    unsigned dst, ssrc, seq, ts, step;
    long count;
    double rate;
    if (sscanf(line, "s %u %ld %lf %u %u %u %u", &dst, &count, &rate, &ssrc, &seq, &ts, &step) != 7 || count < 0 ||
        rate <= 0 || dst == 0 || dst > 65535) {
      printf("error bad command\n");
      fflush(stdout);
      continue;
    }
    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons((uint16_t)dst);
    long sent = 0, errors = 0;
    uint64_t t0 = now_ns();
    uint64_t tick = t0;
    while (sent < count) {
      uint64_t now = now_ns();
      long due = (long)((double)(now - t0) * rate / 1e9) + 1;
      if (due > count) due = count;
      while (sent < due) {
        int n = 0;
        while (n < BATCH && sent + n < due) {
          long k = sent + n;
          size_t len = build_rtp(bufs[n], ext, payload, ssrc, (uint16_t)(seq + k), ts + (uint32_t)k * step);
          iov[n].iov_base = bufs[n];
          iov[n].iov_len = len;
          memset(&m[n].msg_hdr, 0, sizeof(m[n].msg_hdr));
          m[n].msg_hdr.msg_iov = &iov[n];
          m[n].msg_hdr.msg_iovlen = 1;
          m[n].msg_hdr.msg_name = &to;
          m[n].msg_hdr.msg_namelen = sizeof(to);
          n++;
        }
        int r = sendmmsg(fd, m, (unsigned)n, 0);
        if (r <= 0) {
          errors++;
          if (errno != EAGAIN && errno != EINTR && errno != ENOBUFS && errno != ECONNREFUSED) break;
          r = n; /* count the batch as attempted so the run stays bounded */
        }
        sent += r;
      }
      drain(fd);
      if (sent >= count) break;
      tick += 1000000; /* 1 ms */
      if (tick < now) tick = now;
      struct timespec ts_abs = {(time_t)(tick / 1000000000u), (long)(tick % 1000000000u)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts_abs, NULL) == EINTR) {
      }
    }
    printf("done %ld %llu %ld\n", sent, (unsigned long long)((now_ns() - t0) / 1000u), errors);
    fflush(stdout);
  }
  close(fd);
  return 0;
}

/* ---- sinks ---- */

typedef struct {
  int fd;
  uint64_t rtp;
  uint64_t rtcp;
} sink_t;

static void sink_read(sink_t *s) {
  static uint8_t bufs[BATCH][MAX_PKT];
  struct mmsghdr m[BATCH];
  struct iovec iov[BATCH];
  for (int rounds = 0; rounds < 64; rounds++) {
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = MAX_PKT;
      memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
      m[i].msg_hdr.msg_iov = &iov[i];
      m[i].msg_hdr.msg_iovlen = 1;
    }
    int r = recvmmsg(s->fd, m, BATCH, MSG_DONTWAIT, NULL);
    if (r <= 0) return;
    for (int i = 0; i < r; i++) {
      if (m[i].msg_len >= 2 && bufs[i][1] >= 192 && bufs[i][1] <= 223)
        s->rtcp++;
      else if (m[i].msg_len > 0)
        s->rtp++;
    }
    if (r < BATCH) return;
  }
}

static int run_sinks(int k, int rcvbuf, long poll_ns) {
  static sink_t sinks[MAX_SINKS];
  struct epoll_event ev, evs[64];
  char line[64];
  int ep = epoll_create1(EPOLL_CLOEXEC);

  if (ep < 0 || k < 1 || k > MAX_SINKS) {
    fprintf(stderr, "sink: bad K or epoll failure\n");
    return 1;
  }
  printf("ports");
  for (int i = 0; i < k; i++) {
    uint16_t port;
    if ((sinks[i].fd = open_udp(rcvbuf, &port)) < 0) {
      perror("sink socket");
      return 1;
    }
    ev.events = EPOLLIN;
    ev.data.ptr = &sinks[i];
    if (epoll_ctl(ep, EPOLL_CTL_ADD, sinks[i].fd, &ev) != 0) {
      perror("epoll_ctl");
      return 1;
    }
    printf(" %u", port);
  }
  printf("\n");
  fflush(stdout);
  ev.events = EPOLLIN;
  ev.data.ptr = NULL;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) != 0) {
    perror("epoll_ctl stdin");
    return 1;
  }
  /* Never block in epoll_wait: a sink asleep in epoll_wait is woken by every
   * datagram, and on a 2-core machine that wakeup preempts the sending
   * process (the SFU or the forwarder) and charges it a context switch per
   * packet.  Instead, poll every POLL_NS and drain whatever arrived (the
   * receive buffers hold seconds of traffic at these rates). */
  for (;;) {
    int n = epoll_wait(ep, evs, 64, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; i++) {
      if (evs[i].data.ptr != NULL) {
        sink_read(evs[i].data.ptr);
        continue;
      }
      /* A command: read everything pending first so counts are current. */
      for (int j = 0; j < k; j++) sink_read(&sinks[j]);
      ssize_t len = read(STDIN_FILENO, line, sizeof(line) - 1);
      if (len <= 0) return 0;
      for (ssize_t c = 0; c < len; c++) {
        if (line[c] == 'c') {
          uint64_t tot = 0, mn = UINT64_MAX, mx = 0, rtcp = 0;
          for (int j = 0; j < k; j++) {
            tot += sinks[j].rtp;
            rtcp += sinks[j].rtcp;
            if (sinks[j].rtp < mn) mn = sinks[j].rtp;
            if (sinks[j].rtp > mx) mx = sinks[j].rtp;
          }
          printf("count %llu %llu %llu %llu\n", (unsigned long long)tot, (unsigned long long)mn,
                 (unsigned long long)mx, (unsigned long long)rtcp);
          fflush(stdout);
        } else if (line[c] == 'r') {
          for (int j = 0; j < k; j++) sinks[j].rtp = sinks[j].rtcp = 0;
          printf("ok\n");
          fflush(stdout);
        }
      }
    }
    if (n < 64) {
      struct timespec ts = {0, poll_ns};
      while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
      }
    }
  }
}

int main(int argc, char **argv) {
  int rcvbuf = 4 * 1024 * 1024;
  size_t payload = 160;
  int ext = 1;
  int k = 0;
  long poll_us = 1000;

  if (argc < 2) goto usage;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--rcvbuf") == 0 && i + 1 < argc)
      rcvbuf = atoi(argv[++i]);
    else if (strcmp(argv[i], "--payload") == 0 && i + 1 < argc)
      payload = (size_t)atoi(argv[++i]);
    else if (strcmp(argv[i], "--poll-us") == 0 && i + 1 < argc)
      poll_us = atol(argv[++i]);
    else if (strcmp(argv[i], "--no-ext") == 0)
      ext = 0;
    else if (argv[i][0] != '-' && k == 0)
      k = atoi(argv[i]);
    else
      goto usage;
  }
  if (payload > 1200) payload = 1200;
  if (poll_us < 1 || poll_us > 999999) poll_us = 1000;
  if (strcmp(argv[1], "send") == 0) return run_sender(rcvbuf, payload, ext);
  if (strcmp(argv[1], "sink") == 0) return run_sinks(k, rcvbuf, poll_us * 1000);
usage:
  fprintf(stderr, "usage: %s send [--rcvbuf B] [--payload N] [--no-ext] | sink K [--rcvbuf B] [--poll-us US]\n", argv[0]);
  return 2;
}
