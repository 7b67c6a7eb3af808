/*
 * Unit tests for worker/src/net/sfu_udp_socket: two sockets on 127.0.0.1 (and
 * ::1) exchanging datagrams, a 10,000-datagram burst to a peer that never
 * reads, batched reads (one recvmmsg for many datagrams), the send queue
 * (EAGAIN forced by interposing sendto, see below) with its byte cap, order and drain, errors for unreachable or
 * invalid destinations, buffer sizes, close (from inside on_packet too),
 * port release, sendmmsg batches of what a socket sends from its own read
 * (and their fallback to the queue). Every test ends with uv_loop_close() == 0.
 */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <uv.h>

#include "net_test_util.h"
#include "sfu_error.h"
#include "sfu_sockaddr.h"
#include "sfu_udp_socket.h"

/* The kernel hardly ever says EAGAIN to a UDP send on loopback, so the queue
 * path is reached by interposing libc's sendto (the executable's definition
 * wins over the shared libc's and forwards to the real one). */
static int g_force_eagain;
static unsigned g_sendto_calls;

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr, socklen_t alen) {
  typedef ssize_t (*fn_t)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
  static fn_t real;
  g_sendto_calls++;
  if (g_force_eagain) {
    errno = EAGAIN;
    return -1;
  }
  if (real == NULL) {
    void *sym = dlsym(RTLD_NEXT, "sendto");
    assert_non_null(sym);
    memcpy(&real, &sym, sizeof(real));
  }
  return real(fd, buf, len, flags, addr, alen);
}

/* sendmmsg, interposed the same way: the sends a socket makes from inside its
 * own read go out in one sendmmsg() per batch; g_mmsg_eagain makes the first
 * call of each flush fail with EAGAIN (the rest must then queue, in order). */
static int g_mmsg_eagain;
static unsigned g_sendmmsg_calls, g_sendmmsg_msgs;

int sendmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags) {
  typedef int (*fn_t)(int, struct mmsghdr *, unsigned int, int);
  static fn_t real;
  g_sendmmsg_calls++;
  if (g_mmsg_eagain) {
    errno = EAGAIN;
    return -1;
  }
  if (real == NULL) {
    void *sym = dlsym(RTLD_NEXT, "sendmmsg");
    assert_non_null(sym);
    memcpy(&real, &sym, sizeof(real));
  }
  int n = real(fd, msgs, vlen, flags);
  if (n > 0) g_sendmmsg_msgs += (unsigned)n;
  return n;
}

#define MAX_RX 2048

typedef struct rx {
  size_t count;
  size_t lens[MAX_RX];
  uint32_t seqs[MAX_RX];
  struct sockaddr_storage last_from;
  bool close_in_cb; /* close the socket from on_packet */
  bool echo;
  bool done;
  size_t want;
} rx_t;

typedef struct fx {
  uv_loop_t loop;
  sfu_port_manager_t pm;
  uint16_t base;
  int closed;
  rx_t rx_a, rx_b;
} fx_t;

static int setup(void **state) {
  fx_t *fx = calloc(1, sizeof(*fx));
  if (fx == NULL) return -1;
  if (uv_loop_init(&fx->loop) != 0) return -1;
  fx->base = ntu_free_range(4);
  if (fx->base == 0) return -1;
  if (sfu_port_manager_init(&fx->pm, fx->base, (uint16_t)(fx->base + 3)) != 0) return -1;
  g_force_eagain = 0;
  g_mmsg_eagain = 0;
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fx_t *fx = *state;
  assert_int_equal(ntu_loop_finish(&fx->loop), 0);
  assert_int_equal(sfu_port_manager_count(&fx->pm), 0);
  sfu_port_manager_destroy(&fx->pm);
  free(fx);
  g_force_eagain = 0;
  return 0;
}

static uint32_t rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void on_packet(sfu_udp_socket_t *sock, const uint8_t *p, size_t len, const struct sockaddr *from) {
  rx_t *rx = sock->data;
  assert_true(rx->count < MAX_RX);
  rx->lens[rx->count] = len;
  rx->seqs[rx->count] = len >= 4 ? rd32(p) : 0;
  rx->count++;
  memcpy(&rx->last_from, from, sfu_sockaddr_len(from));
  if (rx->echo) assert_int_equal(sfu_udp_socket_send(sock, p, len, from), 0);
  if (rx->close_in_cb) sfu_udp_socket_close(sock, NULL);
  if (rx->want != 0 && rx->count >= rx->want) rx->done = true;
}

static int g_close_count;
static void count_close(sfu_udp_socket_t *sock) {
  (void)sock;
  g_close_count++;
}

static sfu_udp_socket_t *open_sock(fx_t *fx, const char *ip, uint16_t port, rx_t *rx) {
  sfu_listen_info_t li;
  sfu_udp_socket_t *s = NULL;
  char err[256];
  assert_int_equal(sfu_listen_info_init(&li, SFU_PROTO_UDP, ip, port), 0);
  assert_int_equal(sfu_listen_info_validate(&li, err, sizeof(err)), 0);
  int r = sfu_udp_socket_open(&s, &fx->loop, &fx->pm, &li, on_packet, rx, err, sizeof(err));
  if (r != 0) print_error("open failed: %s\n", err);
  assert_int_equal(r, 0);
  assert_non_null(s);
  return s;
}

static void close_and_wait(fx_t *fx, sfu_udp_socket_t *s) {
  int before = g_close_count;
  sfu_udp_socket_close(s, count_close);
  for (int i = 0; i < 10 && g_close_count == before; i++) uv_run(&fx->loop, UV_RUN_NOWAIT);
  assert_int_equal(g_close_count, before + 1);
}

static void exchange(fx_t *fx, const char *ip) {
  sfu_udp_socket_t *a = open_sock(fx, ip, 0, &fx->rx_a);
  sfu_udp_socket_t *b = open_sock(fx, ip, 0, &fx->rx_b);
  uint8_t buf[1200];

  assert_string_equal(sfu_udp_socket_local_ip(a), ip);
  assert_true(sfu_udp_socket_local_port(a) >= fx->base && sfu_udp_socket_local_port(a) <= fx->base + 3);
  assert_true(sfu_udp_socket_local_port(a) != sfu_udp_socket_local_port(b));
  assert_int_equal(sfu_sockaddr_port(sfu_udp_socket_local_addr(a)), sfu_udp_socket_local_port(a));

  fx->rx_b.echo = true;
  fx->rx_a.want = 50;
  unsigned mmsg0 = g_sendmmsg_msgs;
  for (uint32_t i = 0; i < 50; i++) {
    memset(buf, (int)i, sizeof(buf));
    wr32(buf, i);
    assert_int_equal(sfu_udp_socket_send(a, buf, 100 + i * 20, sfu_udp_socket_local_addr(b)), 0);
  }
  assert_true(ntu_run_until(&fx->loop, &fx->rx_a.done, 5000));
  assert_int_equal(fx->rx_b.count, 50);
  assert_int_equal(fx->rx_a.count, 50);
  for (uint32_t i = 0; i < 50; i++) {
    assert_int_equal(fx->rx_a.seqs[i], i);
    assert_int_equal(fx->rx_a.lens[i], 100 + i * 20);
  }
  /* the echo came from b's address, b saw a's */
  assert_true(sfu_sockaddr_equal((struct sockaddr *)&fx->rx_a.last_from, sfu_udp_socket_local_addr(b)));
  assert_true(sfu_sockaddr_equal((struct sockaddr *)&fx->rx_b.last_from, sfu_udp_socket_local_addr(a)));
  assert_int_equal(a->stats.packets_out, 50);
  assert_int_equal(b->stats.packets_in, 50);
  assert_int_equal(b->stats.packets_out, 50);
  assert_int_equal(a->stats.packets_in, 50);
  assert_int_equal(a->stats.bytes_out, b->stats.bytes_in);
  assert_int_equal(a->stats.bytes_in, b->stats.bytes_out);
  /* the 50 were all sent before the loop ran: b read them in batches of up
   * to 32 per recvmmsg (2 calls), never one call per datagram */
  assert_true(b->stats.recv_calls >= 2 && b->stats.recv_calls <= 25);
  assert_int_equal(b->stats.recv_errors, 0);
  /* b's echoes, sent from inside its own reads, went out in sendmmsg()
   * batches (a read of one datagram sends it at once), still in order */
  assert_true(b->stats.send_batches >= 1 && b->stats.send_batches <= b->stats.recv_calls);
  assert_true(g_sendmmsg_msgs - mmsg0 >= 2);
  assert_int_equal(a->stats.send_batches, 0);

  sfu_tuple_t t1, t2;
  sfu_udp_socket_tuple(a, (struct sockaddr *)&fx->rx_a.last_from, &t1);
  sfu_udp_socket_tuple(a, sfu_udp_socket_local_addr(b), &t2);
  assert_int_equal(t1.proto, SFU_PROTO_UDP);
  assert_ptr_equal(t1.sock, a);
  assert_true(sfu_tuple_equal(&t1, &t2));

  close_and_wait(fx, a);
  close_and_wait(fx, b);
}

static void test_exchange_ipv4(void **state) { exchange(*state, "127.0.0.1"); }

/* The kernel full during a batch flush: the batch goes to the queue in order
 * and drains once writable (sendto works again). */
static void test_batch_eagain_queues(void **state) {
  fx_t *fx = *state;
  sfu_udp_socket_t *a = open_sock(fx, "127.0.0.1", 0, &fx->rx_a);
  sfu_udp_socket_t *b = open_sock(fx, "127.0.0.1", 0, &fx->rx_b);
  uint8_t buf[300];
  fx->rx_b.echo = true;
  fx->rx_a.want = 20;
  g_mmsg_eagain = 1;
  for (uint32_t i = 0; i < 20; i++) {
    memset(buf, (int)i, sizeof(buf));
    wr32(buf, i);
    assert_int_equal(sfu_udp_socket_send(a, buf, 100 + i, sfu_udp_socket_local_addr(b)), 0);
  }
  assert_true(ntu_run_until(&fx->loop, &fx->rx_a.done, 5000));
  g_mmsg_eagain = 0;
  assert_int_equal(fx->rx_a.count, 20);
  for (uint32_t i = 0; i < 20; i++) {
    assert_int_equal(fx->rx_a.seqs[i], i);
    assert_int_equal(fx->rx_a.lens[i], 100 + i);
  }
  assert_true(b->stats.queued >= 2); /* the refused batch went through the queue */
  assert_int_equal(b->stats.packets_out, 20);
  assert_int_equal(b->stats.send_errors, 0);
  assert_int_equal(b->stats.queued_packets, 0);
  close_and_wait(fx, a);
  close_and_wait(fx, b);
}
static void test_exchange_ipv6(void **state) { exchange(*state, "::1"); }

static int raw_udp(const char *ip, struct sockaddr_storage *addr) {
  assert_int_equal(sfu_sockaddr_from_str(ip, 0, addr), 0);
  int fd = socket(addr->ss_family, SOCK_DGRAM, 0);
  assert_true(fd >= 0);
  assert_int_equal(bind(fd, (struct sockaddr *)addr, sfu_sockaddr_len((struct sockaddr *)addr)), 0);
  socklen_t sl = sizeof(*addr);
  assert_int_equal(getsockname(fd, (struct sockaddr *)addr, &sl), 0);
  return fd;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* 10,000 datagrams at a peer that never reads: every send returns at once. */
static void test_burst_to_non_reading_peer(void **state) {
  fx_t *fx = *state;
  struct sockaddr_storage peer;
  int fd = raw_udp("127.0.0.1", &peer);
  sfu_udp_socket_t *a = open_sock(fx, "127.0.0.1", 0, &fx->rx_a);
  uint8_t buf[1200];
  memset(buf, 0xab, sizeof(buf));

  double t0 = now_ms();
  for (uint32_t i = 0; i < 10000; i++) {
    wr32(buf, i);
    int r = sfu_udp_socket_send(a, buf, sizeof(buf), (struct sockaddr *)&peer);
    assert_true(r == 0 || r == SFU_ENOMEM);
  }
  double dt = now_ms() - t0;
  print_message("      10000 sends in %.1f ms: out %llu, queued %llu, dropped %llu\n", dt,
                (unsigned long long)a->stats.packets_out, (unsigned long long)a->stats.queued,
                (unsigned long long)a->stats.dropped_queue_full);
  assert_true(dt < 5000.0);
  assert_int_equal(a->stats.packets_out + a->stats.queued_packets + a->stats.dropped_queue_full, 10000);
  assert_int_equal(a->stats.send_errors, 0);
  ntu_run_for(&fx->loop, 20);
  assert_int_equal(a->stats.queued_packets, 0);
  close_and_wait(fx, a);
  close(fd);
}

/* EAGAIN: copies are queued up to max_queued bytes, the rest dropped; the
 * queue drains in order; a non-forced send behind a queue still queues. */
static void test_queue_cap_and_order(void **state) {
  fx_t *fx = *state;
  sfu_udp_socket_t *a = open_sock(fx, "127.0.0.1", 0, &fx->rx_a);
  sfu_udp_socket_t *b = open_sock(fx, "127.0.0.1", 0, &fx->rx_b);
  uint8_t buf[1000];
  memset(buf, 0x5a, sizeof(buf));

  a->max_queued = 10 * 1000 + 500;
  g_force_eagain = 1;
  for (uint32_t i = 0; i < 12; i++) {
    wr32(buf, i);
    int r = sfu_udp_socket_send(a, buf, sizeof(buf), sfu_udp_socket_local_addr(b));
    assert_int_equal(r, i < 10 ? 0 : SFU_ENOMEM);
  }
  assert_int_equal(a->stats.queued_packets, 10);
  assert_int_equal(a->stats.queued_bytes, 10000);
  assert_int_equal(a->stats.dropped_queue_full, 2);
  /* the queue is not empty: the next datagram queues behind it, so order holds */
  g_force_eagain = 0;
  wr32(buf, 12);
  assert_int_equal(sfu_udp_socket_send(a, buf, 400, sfu_udp_socket_local_addr(b)), 0);
  assert_int_equal(a->stats.queued_packets, 11);
  assert_int_equal(a->stats.queued, 11);

  fx->rx_b.want = 11;
  assert_true(ntu_run_until(&fx->loop, &fx->rx_b.done, 5000));
  for (uint32_t i = 0; i < 10; i++) assert_int_equal(fx->rx_b.seqs[i], i);
  assert_int_equal(fx->rx_b.seqs[10], 12);
  assert_int_equal(fx->rx_b.lens[10], 400);
  assert_int_equal(a->stats.queued_packets, 0);
  assert_int_equal(a->stats.queued_bytes, 0);
  assert_int_equal(a->stats.packets_out, 11);
  assert_int_equal(a->stats.bytes_out, 10400);

  /* queue empty again: direct sends */
  assert_int_equal(sfu_udp_socket_send(a, buf, 10, sfu_udp_socket_local_addr(b)), 0);
  assert_int_equal(a->stats.queued, 11);
  assert_int_equal(a->stats.packets_out, 12);
  close_and_wait(fx, a);
  close_and_wait(fx, b);
}

/* 10,000 forced-EAGAIN sends against the default 1 MiB cap: no blocking,
 * bounded memory, everything accounted for, the queue drains. */
static void test_queue_burst(void **state) {
  fx_t *fx = *state;
  struct sockaddr_storage peer;
  int fd = raw_udp("127.0.0.1", &peer);
  sfu_udp_socket_t *a = open_sock(fx, "127.0.0.1", 0, &fx->rx_a);
  uint8_t buf[1000];
  memset(buf, 1, sizeof(buf));

  g_force_eagain = 1;
  double t0 = now_ms();
  size_t ok = 0, dropped = 0;
  for (int i = 0; i < 10000; i++) {
    int r = sfu_udp_socket_send(a, buf, sizeof(buf), (struct sockaddr *)&peer);
    if (r == 0) ok++;
    else if (r == SFU_ENOMEM) dropped++;
    else fail();
  }
  g_force_eagain = 0;
  assert_true(now_ms() - t0 < 5000.0);
  assert_int_equal(ok, SFU_UDP_SOCKET_MAX_QUEUED / 1000);
  assert_int_equal(dropped, 10000 - ok);
  assert_true(a->stats.queued_bytes <= SFU_UDP_SOCKET_MAX_QUEUED);
  ntu_run_for(&fx->loop, 100);
  assert_int_equal(a->stats.queued_packets, 0);
  assert_int_equal(a->stats.packets_out + a->stats.send_errors, ok);
  close_and_wait(fx, a);
  close(fd);
}

static void test_send_errors(void **state) {
  fx_t *fx = *state;
  sfu_udp_socket_t *a = open_sock(fx, "127.0.0.1", 0, &fx->rx_a);
  sfu_udp_socket_t *b = open_sock(fx, "127.0.0.1", 0, &fx->rx_b);
  struct sockaddr_storage to;
  uint8_t buf[100] = {0};

  /* port 0: the kernel refuses it */
  sfu_sockaddr_from_str("127.0.0.1", 0, &to);
  assert_int_equal(sfu_udp_socket_send(a, buf, sizeof(buf), (struct sockaddr *)&to), SFU_EIO);
  /* an IPv6 destination from an IPv4 socket */
  sfu_sockaddr_from_str("::1", 9, &to);
  assert_int_equal(sfu_udp_socket_send(a, buf, sizeof(buf), (struct sockaddr *)&to), SFU_EIO);
  assert_int_equal(a->stats.send_errors, 2);
  /* too big for a datagram */
  uint8_t *big = calloc(1, 70000);
  assert_int_equal(sfu_udp_socket_send(a, big, 70000, sfu_udp_socket_local_addr(b)), SFU_EIO);
  free(big);
  assert_int_equal(a->stats.send_errors, 3);
  /* bad arguments */
  struct sockaddr_storage unspec;
  memset(&unspec, 0, sizeof(unspec));
  assert_int_equal(sfu_udp_socket_send(a, buf, 0, sfu_udp_socket_local_addr(b)), SFU_EINVAL);
  assert_int_equal(sfu_udp_socket_send(a, NULL, 10, sfu_udp_socket_local_addr(b)), SFU_EINVAL);
  assert_int_equal(sfu_udp_socket_send(a, buf, 10, NULL), SFU_EINVAL);
  assert_int_equal(sfu_udp_socket_send(a, buf, 10, (struct sockaddr *)&unspec), SFU_EINVAL);
  assert_int_equal(sfu_udp_socket_send(NULL, buf, 10, sfu_udp_socket_local_addr(b)), SFU_ESTATE);
  /* a closed port on loopback: accepted (no ICMP error on unconnected sockets) */
  struct sockaddr_storage closed_peer;
  int fd = raw_udp("127.0.0.1", &closed_peer);
  close(fd);
  assert_int_equal(sfu_udp_socket_send(a, buf, sizeof(buf), (struct sockaddr *)&closed_peer), 0);

  /* still works afterwards */
  fx->rx_b.want = 1;
  assert_int_equal(sfu_udp_socket_send(a, buf, 10, sfu_udp_socket_local_addr(b)), 0);
  assert_true(ntu_run_until(&fx->loop, &fx->rx_b.done, 5000));
  close_and_wait(fx, a);
  close_and_wait(fx, b);

  /* an IPv6-only socket cannot reach an IPv4 address: ENETUNREACH */
  sfu_listen_info_t li;
  sfu_udp_socket_t *c = NULL;
  sfu_listen_info_init(&li, SFU_PROTO_UDP, "::1", 0);
  li.flags.ipv6_only = true;
  assert_int_equal(sfu_udp_socket_open(&c, &fx->loop, &fx->pm, &li, on_packet, &fx->rx_a, NULL, 0), 0);
  sfu_sockaddr_from_str("127.0.0.1", 9, &to);
  assert_int_equal(sfu_udp_socket_send(c, buf, 10, (struct sockaddr *)&to), SFU_EIO);
  assert_int_equal(c->stats.send_errors, 1);
  close_and_wait(fx, c);
}

static int fd_int_opt(const uv_poll_t *h, int opt) {
  uv_os_fd_t fd;
  int v = -1;
  socklen_t sl = sizeof(v);
  assert_int_equal(uv_fileno((const uv_handle_t *)h, &fd), 0);
  assert_int_equal(getsockopt(fd, SOL_SOCKET, opt, &v, &sl), 0);
  return v;
}

static void test_buffer_sizes(void **state) {
  fx_t *fx = *state;
  sfu_listen_info_t li;
  sfu_udp_socket_t *a = NULL;
  char err[256];
  sfu_listen_info_init(&li, SFU_PROTO_UDP, "127.0.0.1", 0);
  li.send_buffer_size = 1000000;
  li.recv_buffer_size = 2000000;
  assert_int_equal(sfu_udp_socket_open(&a, &fx->loop, &fx->pm, &li, on_packet, &fx->rx_a, err, sizeof(err)), 0);
  /* read back with getsockopt: the kernel doubles them */
  assert_int_equal(fd_int_opt(&a->handle, SO_SNDBUF), 2000000);
  assert_int_equal(fd_int_opt(&a->handle, SO_RCVBUF), 4000000);
  assert_int_equal(a->send_buffer_size, 2000000);
  assert_int_equal(a->recv_buffer_size, 4000000);
  /* not reuse: uv_udp_open's SO_REUSEADDR was turned off again */
  assert_int_equal(fd_int_opt(&a->handle, SO_REUSEADDR), 0);
  close_and_wait(fx, a);
}

/* Closing from on_packet: nothing more is delivered, memory freed later. */
static void test_close_in_callback(void **state) {
  fx_t *fx = *state;
  sfu_udp_socket_t *a = open_sock(fx, "127.0.0.1", 0, &fx->rx_a);
  sfu_udp_socket_t *b = open_sock(fx, "127.0.0.1", 0, &fx->rx_b);
  uint8_t buf[64] = {0};
  struct sockaddr_storage bto;
  memcpy(&bto, sfu_udp_socket_local_addr(b), sizeof(bto));
  fx->rx_b.close_in_cb = true;
  fx->rx_b.want = 1;
  for (int i = 0; i < 20; i++) assert_int_equal(sfu_udp_socket_send(a, buf, sizeof(buf), (struct sockaddr *)&bto), 0);
  assert_true(ntu_run_until(&fx->loop, &fx->rx_b.done, 5000));
  ntu_run_for(&fx->loop, 10);
  assert_int_equal(fx->rx_b.count, 1);
  /* b is gone (freed in the close phase); its port was released */
  assert_int_equal(sfu_port_manager_count(&fx->pm), 1);
  close_and_wait(fx, a);
}

/* Close with queued datagrams: dropped and counted, cb called, all freed. */
static void test_close_with_queue(void **state) {
  fx_t *fx = *state;
  struct sockaddr_storage peer;
  int fd = raw_udp("127.0.0.1", &peer);
  sfu_udp_socket_t *a = open_sock(fx, "127.0.0.1", 0, &fx->rx_a);
  uint8_t buf[500] = {0};
  g_force_eagain = 1;
  for (int i = 0; i < 50; i++) assert_int_equal(sfu_udp_socket_send(a, buf, sizeof(buf), (struct sockaddr *)&peer), 0);
  g_force_eagain = 0;
  /* all 50 wait in the queue for a writable socket; close before that */
  int before = g_close_count;
  sfu_udp_socket_close(a, count_close);
  sfu_udp_socket_close(a, count_close); /* idempotent */
  assert_int_equal(sfu_udp_socket_send(a, buf, 10, (struct sockaddr *)&peer), SFU_ESTATE);
  assert_int_equal(a->stats.dropped_on_close, 50);
  assert_int_equal(a->stats.queued_packets, 0);
  ntu_run_for(&fx->loop, 5);
  assert_int_equal(g_close_count, before + 1);
  close(fd);
}


/* connect(): datagrams from the peer only; sends to the peer (send()) and to
 * others (sendto()) both work; an ICMP error (the peer's port closed) is
 * counted and the socket keeps reading. */
static void test_connect(void **state) {
  fx_t *fx = *state;
  sfu_udp_socket_t *a = open_sock(fx, "127.0.0.1", 0, &fx->rx_a);
  struct sockaddr_storage peer, other;
  int pfd = raw_udp("127.0.0.1", &peer);
  int ofd = raw_udp("127.0.0.1", &other);
  const struct sockaddr *aaddr = sfu_udp_socket_local_addr(a);
  socklen_t alen = sfu_sockaddr_len(aaddr);
  uint8_t buf[64], in[128];

  assert_int_equal(sfu_udp_socket_connect(a, NULL), SFU_EINVAL);
  assert_int_equal(sfu_udp_socket_connect(a, (struct sockaddr *)&peer), 0);
  assert_true(a->connected);

  /* the other socket's datagram is dropped by the kernel, the peer's arrives */
  memset(buf, 0, sizeof(buf));
  wr32(buf, 1);
  assert_int_equal(sendto(ofd, buf, sizeof(buf), 0, aaddr, alen), (ssize_t)sizeof(buf));
  wr32(buf, 2);
  assert_int_equal(sendto(pfd, buf, sizeof(buf), 0, aaddr, alen), (ssize_t)sizeof(buf));
  fx->rx_a.want = 1;
  assert_true(ntu_run_until(&fx->loop, &fx->rx_a.done, 5000));
  ntu_run_for(&fx->loop, 20);
  assert_int_equal(fx->rx_a.count, 1);
  assert_int_equal(fx->rx_a.seqs[0], 2);
  assert_true(sfu_sockaddr_equal((struct sockaddr *)&fx->rx_a.last_from, (struct sockaddr *)&peer));

  /* sends: to the peer and to someone else */
  wr32(buf, 3);
  assert_int_equal(sfu_udp_socket_send(a, buf, 30, (struct sockaddr *)&peer), 0);
  wr32(buf, 4);
  assert_int_equal(sfu_udp_socket_send(a, buf, 40, (struct sockaddr *)&other), 0);
  assert_int_equal(recv(pfd, in, sizeof(in), 0), 30);
  assert_int_equal(rd32(in), 3);
  assert_int_equal(recv(ofd, in, sizeof(in), 0), 40);
  assert_int_equal(rd32(in), 4);
  assert_int_equal(a->stats.packets_out, 2);

  /* the peer goes away: ICMP port unreachable comes back to the connected
   * socket. Keep sending: some sends fail or the error is seen by the poll;
   * nothing else changes. */
  close(pfd);
  for (int i = 0; i < 20; i++) {
    int r = sfu_udp_socket_send(a, buf, 20, (struct sockaddr *)&peer);
    assert_true(r == 0 || r == SFU_EIO);
    ntu_run_for(&fx->loop, 2);
  }
  print_message("      after ICMP: send_errors %llu, socket_errors %llu\n", (unsigned long long)a->stats.send_errors,
                (unsigned long long)a->stats.socket_errors);
  assert_true(a->stats.send_errors + a->stats.socket_errors > 0);
  assert_int_equal(a->stats.recv_errors, 0);

  /* the peer comes back on the same port: a still reads */
  pfd = socket(AF_INET, SOCK_DGRAM, 0);
  assert_true(pfd >= 0);
  assert_int_equal(bind(pfd, (struct sockaddr *)&peer, sizeof(struct sockaddr_in)), 0);
  wr32(buf, 5);
  assert_int_equal(sendto(pfd, buf, sizeof(buf), 0, aaddr, alen), (ssize_t)sizeof(buf));
  fx->rx_a.done = false;
  fx->rx_a.want = 2;
  assert_true(ntu_run_until(&fx->loop, &fx->rx_a.done, 5000));
  assert_int_equal(fx->rx_a.seqs[1], 5);
  assert_int_equal(sfu_udp_socket_send(a, buf, 50, (struct sockaddr *)&peer), 0);
  assert_int_equal(recv(pfd, in, sizeof(in), 0), 50);

  close_and_wait(fx, a);
  assert_int_equal(sfu_udp_socket_connect(NULL, (struct sockaddr *)&peer), SFU_ESTATE);
  close(pfd);
  close(ofd);
}

static void test_port_released(void **state) {
  fx_t *fx = *state;
  uint16_t port = (uint16_t)(fx->base + 2);
  sfu_udp_socket_t *a = open_sock(fx, "127.0.0.1", port, &fx->rx_a);
  assert_int_equal(sfu_udp_socket_local_port(a), port);
  sfu_listen_info_t li;
  sfu_udp_socket_t *b = NULL;
  char err[256];
  sfu_listen_info_init(&li, SFU_PROTO_UDP, "127.0.0.1", port);
  assert_int_equal(sfu_udp_socket_open(&b, &fx->loop, &fx->pm, &li, on_packet, &fx->rx_b, err, sizeof(err)), SFU_EIO);
  assert_null(b);
  assert_non_null(strstr(err, "in use"));
  /* the port is free as soon as close is called */
  sfu_udp_socket_close(a, NULL);
  b = open_sock(fx, "127.0.0.1", port, &fx->rx_b);
  close_and_wait(fx, b);
}

static void test_open_args(void **state) {
  fx_t *fx = *state;
  sfu_listen_info_t li;
  sfu_udp_socket_t *s = (sfu_udp_socket_t *)1;
  char err[128];
  sfu_listen_info_init(&li, SFU_PROTO_TCP, "127.0.0.1", 0);
  assert_int_equal(sfu_udp_socket_open(&s, &fx->loop, &fx->pm, &li, on_packet, NULL, err, sizeof(err)), SFU_EINVAL);
  assert_null(s);
  sfu_listen_info_init(&li, SFU_PROTO_UDP, "127.0.0.1", 0);
  assert_int_equal(sfu_udp_socket_open(&s, &fx->loop, &fx->pm, &li, NULL, NULL, err, sizeof(err)), SFU_EINVAL);
  assert_int_equal(sfu_udp_socket_open(&s, &fx->loop, NULL, &li, on_packet, NULL, err, sizeof(err)), SFU_EINVAL);
  sfu_listen_info_init(&li, SFU_PROTO_UDP, "bad", 0);
  assert_int_equal(sfu_udp_socket_open(&s, &fx->loop, &fx->pm, &li, on_packet, NULL, err, sizeof(err)), SFU_EINVAL);
  sfu_udp_socket_close(NULL, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_exchange_ipv4, setup, teardown),
      cmocka_unit_test_setup_teardown(test_exchange_ipv6, setup, teardown),
      cmocka_unit_test_setup_teardown(test_batch_eagain_queues, setup, teardown),
      cmocka_unit_test_setup_teardown(test_burst_to_non_reading_peer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_queue_cap_and_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_queue_burst, setup, teardown),
      cmocka_unit_test_setup_teardown(test_send_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_buffer_sizes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_close_in_callback, setup, teardown),
      cmocka_unit_test_setup_teardown(test_close_with_queue, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connect, setup, teardown),
      cmocka_unit_test_setup_teardown(test_port_released, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_args, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
