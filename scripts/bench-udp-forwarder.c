/*
 * bench-udp-forwarder.c - the kernel's own cost of UDP fan-out: the baseline
 * for scripts/bench-fanout.mjs.  Loopback (127.0.0.1) only.
 *
 *   bench-udp-forwarder [--rcvbuf BYTES] [--one-socket | --sendmmsg | --connect] [--srtp SUITE] SINK_PORT...
 *
 * Binds one receiving UDP socket on 127.0.0.1 (random port, SO_RCVBUF 4 MiB
 * by default) and prints "port P".  Every datagram it receives (recvmmsg,
 * up to 32 per call as libuv does) is sent unchanged with one sendto() to
 * each of the K sink ports on 127.0.0.1.  As the SFU worker does (one
 * PlainTransport socket per consumer, unconnected sendto with the
 * destination address), each sink gets its own sending socket; --one-socket
 * sends all K copies from the receiving socket instead, and --sendmmsg does
 * that with one sendmmsg() of K messages per packet (what an SFU whose
 * consumers share a socket, as WebRtcServer transports do, could do);
 * --connect connect()s each sink's socket to its sink and uses send()
 * (the kernel then caches the route instead of looking it up per packet).
 *
 * No parsing, no rewriting: what is left is the cost of the syscalls (and,
 * on loopback, the receiving side's softirq work that the kernel charges to
 * the sending task).  Built with -DBENCH_SRTP against libsrtp2, --srtp
 * AEAD_AES_128_GCM or AES_CM_128_HMAC_SHA1_80 gives each sink its own
 * outbound SRTP session (as each consumer PlainTransport has) and protects
 * a copy of the packet for each sink before its sendto(): the kernel plus
 * libsrtp baseline for the SRTP variants.
 *
 * stdin: "c" prints "stats IN OUT ERRORS UTIME_US STIME_US" (getrusage);
 * EOF ends the process.
 *
 * Build (from the repo root; the second form adds --srtp):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -o build/bench/bench-udp-forwarder scripts/bench-udp-forwarder.c
 *   cc -O2 -std=c11 -D_GNU_SOURCE -DBENCH_SRTP -Ibuild/deps/srtp/include -o build/bench/bench-udp-forwarder \
 *      scripts/bench-udp-forwarder.c build/deps/srtp/lib/libsrtp2.a -lcrypto
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef BENCH_SRTP
#include <srtp2/srtp.h>
#endif

#define BATCH 32
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

int main(int argc, char **argv) {
  static uint8_t bufs[BATCH][MAX_PKT];
  static struct sockaddr_in dst[MAX_SINKS];
  static int out_fd[MAX_SINKS];
  struct mmsghdr m[BATCH];
  struct iovec iov[BATCH];
  static struct mmsghdr om[MAX_SINKS];
  struct iovec oiov;
  int rcvbuf = 4 * 1024 * 1024, one_socket = 0, use_mmsg = 0, use_connect = 0, k = 0;
  const char *suite = NULL;
  uint64_t in = 0, out = 0, errors = 0;
  uint16_t port;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--rcvbuf") == 0 && i + 1 < argc) {
      rcvbuf = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--one-socket") == 0) {
      one_socket = 1;
    } else if (strcmp(argv[i], "--sendmmsg") == 0) {
      one_socket = use_mmsg = 1;
    } else if (strcmp(argv[i], "--connect") == 0) {
      use_connect = 1;
    } else if (strcmp(argv[i], "--srtp") == 0 && i + 1 < argc) {
      suite = argv[++i];
    } else if (argv[i][0] != '-' && k < MAX_SINKS) {
      long p = strtol(argv[i], NULL, 10);
      if (p <= 0 || p > 65535) goto usage;
      memset(&dst[k], 0, sizeof(dst[k]));
      dst[k].sin_family = AF_INET;
      dst[k].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      dst[k].sin_port = htons((uint16_t)p);
      k++;
    } else {
      goto usage;
    }
  }
  if (k == 0) goto usage;
  if (use_connect && one_socket) goto usage;
  if (use_mmsg && suite != NULL) {
    fprintf(stderr, "--sendmmsg and --srtp: not supported together\n");
    return 2;
  }
#ifdef BENCH_SRTP
  static srtp_t sess[MAX_SINKS];
  static uint8_t prot[MAX_PKT + SRTP_MAX_TRAILER_LEN];
  if (suite != NULL) {
    srtp_policy_t pol;
    uint8_t key[SRTP_MAX_KEY_LEN];
    if (srtp_init() != srtp_err_status_ok) {
      fprintf(stderr, "srtp_init failed\n");
      return 1;
    }
    memset(&pol, 0, sizeof(pol));
    if (strcmp(suite, "AEAD_AES_128_GCM") == 0) {
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
    } else if (strcmp(suite, "AES_CM_128_HMAC_SHA1_80") == 0) {
      srtp_crypto_policy_set_rtp_default(&pol.rtp);
      srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
    } else {
      goto usage;
    }
    pol.ssrc.type = ssrc_any_outbound;
    pol.key = key;
    pol.window_size = 1024;
    for (int i = 0; i < k; i++) {
      for (size_t b = 0; b < sizeof(key); b++) key[b] = (uint8_t)(b * 13 + (size_t)i * 7 + 1);
      if (srtp_create(&sess[i], &pol) != srtp_err_status_ok) {
        fprintf(stderr, "srtp_create failed\n");
        return 1;
      }
    }
  }
#else
  if (suite != NULL) {
    fprintf(stderr, "--srtp: built without -DBENCH_SRTP\n");
    return 2;
  }
#endif

  int fd = open_udp(rcvbuf, &port);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  for (int i = 0; i < k; i++) {
    uint16_t unused;
    out_fd[i] = one_socket ? fd : open_udp(0, &unused);
    if (out_fd[i] < 0 || (use_connect && connect(out_fd[i], (const struct sockaddr *)&dst[i], sizeof(dst[i])) != 0)) {
      perror("socket");
      return 1;
    }
  }
  printf("port %u\n", port);
  fflush(stdout);

  struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN}, {.fd = STDIN_FILENO, .events = POLLIN}};
  for (;;) {
    if (poll(pfd, 2, -1) < 0) {
      if (errno == EINTR) continue;
      perror("poll");
      return 1;
    }
    if (pfd[0].revents & POLLIN) {
      /* Bounded work per wakeup, as in the worker: one recvmmsg of up to 32. */
      for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = MAX_PKT;
        memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
      }
      int r = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
      for (int i = 0; i < r; i++) {
        in++;
        if (use_mmsg) {
          oiov.iov_base = bufs[i];
          oiov.iov_len = m[i].msg_len;
          for (int j = 0; j < k; j++) {
            memset(&om[j].msg_hdr, 0, sizeof(om[j].msg_hdr));
            om[j].msg_hdr.msg_iov = &oiov;
            om[j].msg_hdr.msg_iovlen = 1;
            om[j].msg_hdr.msg_name = &dst[j];
            om[j].msg_hdr.msg_namelen = sizeof(dst[j]);
          }
          for (int j = 0; j < k;) {
            int n = sendmmsg(fd, om + j, (unsigned)(k - j), 0);
            if (n <= 0) {
              errors += (uint64_t)(k - j);
              break;
            }
            out += (uint64_t)n;
            j += n;
          }
          continue;
        }
        for (int j = 0; j < k; j++) {
          const uint8_t *p = bufs[i];
          size_t len = m[i].msg_len;
#ifdef BENCH_SRTP
          if (suite != NULL) {
            int plen = (int)len;
            if (len > MAX_PKT) continue;
            memcpy(prot, bufs[i], len);
            if (srtp_protect(sess[j], prot, &plen) != srtp_err_status_ok) {
              errors++;
              continue;
            }
            p = prot;
            len = (size_t)plen;
          }
#endif
          if ((use_connect ? send(out_fd[j], p, len, 0)
                           : sendto(out_fd[j], p, len, 0, (const struct sockaddr *)&dst[j], sizeof(dst[j]))) < 0)
            errors++;
          else
            out++;
        }
      }
    }
    if (pfd[1].revents & (POLLIN | POLLHUP)) {
      char line[64];
      ssize_t len = read(STDIN_FILENO, line, sizeof(line));
      if (len <= 0) break;
      for (ssize_t c = 0; c < len; c++) {
        if (line[c] != 'c') continue;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("stats %llu %llu %llu %lld %lld\n", (unsigned long long)in, (unsigned long long)out,
               (unsigned long long)errors, (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
               (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
        fflush(stdout);
      }
    }
  }
  return 0;
usage:
  fprintf(stderr, "usage: %s [--rcvbuf BYTES] [--one-socket | --sendmmsg | --connect] [--srtp SUITE] SINK_PORT...\n",
          argv[0]);
  return 2;
}
