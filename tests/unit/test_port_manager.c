/*
 * Unit tests for worker/src/net/sfu_port_manager (and sfu_listen_info
 * validation): random ports in a small range, exhaustion, explicit ports in
 * use, release, ports taken by other sockets, SO_REUSEPORT, IPV6_V6ONLY and
 * socket buffer sizes. Only 127.0.0.1 and ::1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net_test_util.h"
#include "sfu_error.h"
#include "sfu_listen_info.h"
#include "sfu_port_manager.h"
#include "sfu_sockaddr.h"

#define RANGE_N 5

typedef struct fx {
  sfu_port_manager_t pm;
  uint16_t base;
} fx_t;

static int setup(void **state) {
  fx_t *fx = calloc(1, sizeof(*fx));
  if (fx == NULL) return -1;
  fx->base = ntu_free_range(RANGE_N);
  if (fx->base == 0) return -1;
  if (sfu_port_manager_init(&fx->pm, fx->base, (uint16_t)(fx->base + RANGE_N - 1)) != 0) return -1;
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fx_t *fx = *state;
  assert_int_equal(sfu_port_manager_count(&fx->pm), 0);
  sfu_port_manager_destroy(&fx->pm);
  free(fx);
  return 0;
}

static void li_make(sfu_listen_info_t *li, sfu_proto_t proto, const char *ip, uint16_t port) {
  assert_int_equal(sfu_listen_info_init(li, proto, ip, port), 0);
  assert_int_equal(sfu_listen_info_validate(li, NULL, 0), 0);
}

static void unbind(fx_t *fx, sfu_port_binding_t *b, sfu_bound_socket_t *s) {
  sfu_port_manager_release(&fx->pm, b);
  close(s->fd);
  s->fd = -1;
}

static int sock_int_opt(int fd, int level, int opt) {
  int v = -1;
  socklen_t sl = sizeof(v);
  assert_int_equal(getsockopt(fd, level, opt, &v, &sl), 0);
  return v;
}

static void test_init_args(void **state) {
  (void)state;
  sfu_port_manager_t pm;
  assert_int_equal(sfu_port_manager_init(&pm, 0, 10), SFU_EINVAL);
  assert_int_equal(sfu_port_manager_init(&pm, 20, 10), SFU_EINVAL);
  assert_int_equal(sfu_port_manager_init(&pm, 10, 10), 0);
  sfu_port_manager_destroy(&pm);
}

static void test_listen_info_validate(void **state) {
  (void)state;
  sfu_listen_info_t li;
  char err[128];

  assert_int_equal(sfu_listen_info_init(&li, SFU_PROTO_UDP, "0:0::1", 0), 0);
  assert_int_equal(sfu_listen_info_validate(&li, err, sizeof(err)), 0);
  assert_string_equal(li.ip, "::1"); /* canonical form */
  assert_int_equal(sfu_listen_info_init(&li, SFU_PROTO_TCP, "127.0.0.1", 0), 0);
  assert_int_equal(sfu_listen_info_validate(&li, err, sizeof(err)), 0);

  assert_int_equal(sfu_listen_info_init(&li, SFU_PROTO_UDP, "1.2.3", 0), 0);
  assert_int_equal(sfu_listen_info_validate(&li, err, sizeof(err)), SFU_EINVAL);
  assert_non_null(strstr(err, "invalid IP"));
  assert_int_equal(sfu_listen_info_init(&li, SFU_PROTO_UDP, "localhost", 0), 0);
  assert_int_equal(sfu_listen_info_validate(&li, err, sizeof(err)), SFU_EINVAL);
  assert_int_equal(sfu_listen_info_init(&li, SFU_PROTO_UDP, "fe80::1%lo", 0), 0);
  assert_int_equal(sfu_listen_info_validate(&li, err, sizeof(err)), SFU_EINVAL);
  assert_int_equal(sfu_listen_info_init(&li, SFU_PROTO_UDP, "", 0), 0);
  assert_int_equal(sfu_listen_info_validate(&li, err, sizeof(err)), SFU_EINVAL);
  assert_int_equal(sfu_listen_info_init(&li, (sfu_proto_t)7, "127.0.0.1", 0), 0);
  assert_int_equal(sfu_listen_info_validate(&li, err, sizeof(err)), SFU_EINVAL);
  assert_non_null(strstr(err, "protocol"));

  li_make(&li, SFU_PROTO_UDP, "127.0.0.1", 0);
  li.port_range.min = 4000;
  li.port_range.max = 3000;
  assert_int_equal(sfu_listen_info_validate(&li, err, sizeof(err)), SFU_EINVAL);
  assert_non_null(strstr(err, "maxPort cannot be less than minPort"));
  li.port_range.min = 0; /* one side 0: the worker's range, as mediasoup */
  assert_int_equal(sfu_listen_info_validate(&li, err, sizeof(err)), 0);
  assert_false(sfu_listen_info_has_port_range(&li));
  li.port_range.min = 3000;
  li.port_range.max = 3000;
  assert_true(sfu_listen_info_has_port_range(&li));
  li.send_buffer_size = 0x80000000u;
  assert_int_equal(sfu_listen_info_validate(&li, err, sizeof(err)), SFU_EINVAL);
  li.send_buffer_size = 0;
  li.recv_buffer_size = 0xffffffffu;
  assert_int_equal(sfu_listen_info_validate(&li, NULL, 0), SFU_EINVAL);

  /* setters take FlatBuffers strings (pointer + length) */
  assert_int_equal(sfu_listen_info_set_ip(&li, "127.0.0.1xyz", 9), 0);
  assert_string_equal(li.ip, "127.0.0.1");
  assert_int_equal(sfu_listen_info_set_ip(&li, "1\0002", 3), SFU_EINVAL);
  char big[300];
  memset(big, 'a', sizeof(big));
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(sfu_listen_info_set_ip(&li, big, SFU_LISTEN_INFO_IP_MAX), SFU_EINVAL);
  assert_int_equal(sfu_listen_info_set_announced_address(&li, big, 253), 0);
  assert_int_equal(strlen(li.announced_address), 253);
  assert_int_equal(sfu_listen_info_set_announced_address(&li, big, 256), SFU_EINVAL);
  assert_int_equal(sfu_listen_info_init(&li, SFU_PROTO_UDP, big, 0), SFU_EINVAL);
  assert_string_equal(sfu_proto_name(SFU_PROTO_UDP), "udp");
  assert_string_equal(sfu_proto_name(SFU_PROTO_TCP), "tcp");
}

static void test_sockaddr_helpers(void **state) {
  (void)state;
  struct sockaddr_storage ss;
  char ip[INET6_ADDRSTRLEN];
  uint16_t port;

  assert_int_equal(sfu_sockaddr_from_str("127.0.0.1", 4321, &ss), 0);
  assert_int_equal(ss.ss_family, AF_INET);
  assert_int_equal(sfu_sockaddr_to_str((struct sockaddr *)&ss, ip, &port), 0);
  assert_string_equal(ip, "127.0.0.1");
  assert_int_equal(port, 4321);
  assert_int_equal(sfu_sockaddr_port((struct sockaddr *)&ss), 4321);
  sfu_sockaddr_set_port((struct sockaddr *)&ss, 9);
  assert_int_equal(sfu_sockaddr_port((struct sockaddr *)&ss), 9);

  assert_int_equal(sfu_sockaddr_from_str("0::0:1", 65535, &ss), 0);
  assert_int_equal(ss.ss_family, AF_INET6);
  assert_int_equal(sfu_sockaddr_to_str((struct sockaddr *)&ss, ip, &port), 0);
  assert_string_equal(ip, "::1");
  assert_int_equal(port, 65535);

  assert_int_equal(sfu_sockaddr_from_str("::ffff:1.2.3.4", 1, &ss), 0);
  assert_int_equal(sfu_sockaddr_to_str((struct sockaddr *)&ss, ip, NULL), 0);
  assert_string_equal(ip, "::ffff:1.2.3.4");

  assert_int_equal(sfu_sockaddr_from_str("nope", 1, &ss), SFU_EINVAL);
  assert_int_equal(ss.ss_family, 0);
  assert_int_equal(sfu_sockaddr_to_str((struct sockaddr *)&ss, ip, &port), SFU_EINVAL);
  assert_string_equal(ip, "");
  assert_int_equal(port, 0);
  assert_int_equal(sfu_ip_family("::1"), AF_INET6);
  assert_int_equal(sfu_ip_family("10.0.0.1"), AF_INET);
  assert_int_equal(sfu_ip_family("10.0.0.256"), 0);
  assert_int_equal(sfu_ip_family(NULL), 0);
  assert_int_equal(sfu_ip_normalize("::FFFF:10.0.0.1", ip), 0);
  assert_string_equal(ip, "::ffff:10.0.0.1");
  assert_int_equal(sfu_ip_normalize("x", ip), SFU_EINVAL);

  struct sockaddr_storage a, b;
  sfu_sockaddr_from_str("127.0.0.1", 1, &a);
  sfu_sockaddr_from_str("127.0.0.1", 2, &b);
  assert_true(sfu_sockaddr_same_ip((struct sockaddr *)&a, (struct sockaddr *)&b));
  assert_false(sfu_sockaddr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
  sfu_sockaddr_from_str("::1", 1, &b);
  assert_false(sfu_sockaddr_same_ip((struct sockaddr *)&a, (struct sockaddr *)&b));
}

/* Fills the whole range with proto on ip, checks uniqueness, then exhaustion. */
static void exhaust(fx_t *fx, sfu_proto_t proto, const char *ip) {
  sfu_listen_info_t li;
  sfu_port_binding_t b[RANGE_N + 1];
  sfu_bound_socket_t s[RANGE_N + 1];
  char err[256];
  bool seen[RANGE_N] = {false};

  li_make(&li, proto, ip, 0);
  for (int i = 0; i < RANGE_N; i++) {
    assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b[i], &s[i], err, sizeof(err)), 0);
    assert_true(s[i].fd >= 0);
    assert_true(s[i].port >= fx->base && s[i].port < fx->base + RANGE_N);
    assert_false(seen[s[i].port - fx->base]);
    seen[s[i].port - fx->base] = true;
    /* the socket really is bound there */
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    assert_int_equal(getsockname(s[i].fd, (struct sockaddr *)&ss, &sl), 0);
    assert_int_equal(sfu_sockaddr_port((struct sockaddr *)&ss), s[i].port);
    assert_int_equal(sock_int_opt(s[i].fd, SOL_SOCKET, SO_TYPE), proto == SFU_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM);
    if (proto == SFU_PROTO_TCP) assert_int_equal(sock_int_opt(s[i].fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
  }
  assert_int_equal(sfu_port_manager_count(&fx->pm), RANGE_N);
  err[0] = '\0';
  assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b[RANGE_N], &s[RANGE_N], err, sizeof(err)), SFU_EIO);
  assert_non_null(strstr(err, "no more available ports"));
  assert_int_equal(s[RANGE_N].fd, -1);
  assert_false(b[RANGE_N].active);

  /* release one: the next bind gets exactly that port */
  uint16_t freed = s[2].port;
  unbind(fx, &b[2], &s[2]);
  assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b[2], &s[2], err, sizeof(err)), 0);
  assert_int_equal(s[2].port, freed);
  for (int i = 0; i < RANGE_N; i++) unbind(fx, &b[i], &s[i]);
}

static void test_udp_range_exhaustion(void **state) { exhaust(*state, SFU_PROTO_UDP, "127.0.0.1"); }
static void test_tcp_range_exhaustion(void **state) { exhaust(*state, SFU_PROTO_TCP, "127.0.0.1"); }
static void test_udp6_range_exhaustion(void **state) { exhaust(*state, SFU_PROTO_UDP, "::1"); }

/* Same ports, different protocol or IP: independent. */
static void test_protocols_independent(void **state) {
  fx_t *fx = *state;
  sfu_listen_info_t lu, lt;
  sfu_port_binding_t bu[RANGE_N], bt[RANGE_N];
  sfu_bound_socket_t su[RANGE_N], st[RANGE_N];
  li_make(&lu, SFU_PROTO_UDP, "127.0.0.1", 0);
  li_make(&lt, SFU_PROTO_TCP, "127.0.0.1", 0);
  for (int i = 0; i < RANGE_N; i++) {
    assert_int_equal(sfu_port_manager_bind(&fx->pm, &lu, &bu[i], &su[i], NULL, 0), 0);
    assert_int_equal(sfu_port_manager_bind(&fx->pm, &lt, &bt[i], &st[i], NULL, 0), 0);
  }
  for (int i = 0; i < RANGE_N; i++) {
    unbind(fx, &bu[i], &su[i]);
    unbind(fx, &bt[i], &st[i]);
  }
}

static void test_random_start(void **state) {
  fx_t *fx = *state;
  sfu_listen_info_t li;
  sfu_port_binding_t b;
  sfu_bound_socket_t s;
  bool seen[RANGE_N] = {false};
  int distinct = 0;
  li_make(&li, SFU_PROTO_UDP, "127.0.0.1", 0);
  for (int i = 0; i < 60; i++) {
    assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b, &s, NULL, 0), 0);
    if (!seen[s.port - fx->base]) distinct++;
    seen[s.port - fx->base] = true;
    unbind(fx, &b, &s);
  }
  assert_true(distinct >= 3); /* (1/5)^59 chance of a single port with a fair start */
}

/* Own port range of the listen info overrides the manager's. */
static void test_listen_info_range(void **state) {
  fx_t *fx = *state;
  sfu_listen_info_t li;
  sfu_port_binding_t b[3];
  sfu_bound_socket_t s[3];
  char err[256];
  sfu_port_manager_t pm;
  /* a manager whose own range is elsewhere (ports not bound here) */
  assert_int_equal(sfu_port_manager_init(&pm, 1, 1), 0);
  li_make(&li, SFU_PROTO_UDP, "127.0.0.1", 0);
  li.port_range.min = (uint16_t)(fx->base + 1);
  li.port_range.max = (uint16_t)(fx->base + 2);
  assert_int_equal(sfu_port_manager_bind(&pm, &li, &b[0], &s[0], err, sizeof(err)), 0);
  assert_int_equal(sfu_port_manager_bind(&pm, &li, &b[1], &s[1], err, sizeof(err)), 0);
  assert_true(s[0].port != s[1].port);
  assert_true(s[0].port >= fx->base + 1 && s[0].port <= fx->base + 2);
  assert_true(s[1].port >= fx->base + 1 && s[1].port <= fx->base + 2);
  assert_int_equal(sfu_port_manager_bind(&pm, &li, &b[2], &s[2], err, sizeof(err)), SFU_EIO);
  assert_non_null(strstr(err, "numAttempt:2"));
  for (int i = 0; i < 2; i++) {
    sfu_port_manager_release(&pm, &b[i]);
    close(s[i].fd);
  }
  assert_int_equal(pm.stats.binds, 2);
  assert_int_equal(pm.stats.failures, 1);
  sfu_port_manager_destroy(&pm);
}

static int raw_bind(int type, const char *ip, uint16_t port) {
  struct sockaddr_storage ss;
  assert_int_equal(sfu_sockaddr_from_str(ip, port, &ss), 0);
  int fd = socket(ss.ss_family, type, 0);
  assert_true(fd >= 0);
  assert_int_equal(bind(fd, (struct sockaddr *)&ss, sfu_sockaddr_len((struct sockaddr *)&ss)), 0);
  if (type == SOCK_STREAM) assert_int_equal(listen(fd, 4), 0);
  return fd;
}

/* Ports held by sockets outside the manager are skipped (bind fails, next port). */
static void test_skips_foreign_ports(void **state) {
  fx_t *fx = *state;
  int fds[RANGE_N - 1];
  sfu_listen_info_t li;
  sfu_port_binding_t b;
  sfu_bound_socket_t s;
  char err[256];
  const int types[2] = {SOCK_DGRAM, SOCK_STREAM};
  for (int t = 0; t < 2; t++) {
    for (int i = 0; i < RANGE_N - 1; i++) fds[i] = raw_bind(types[t], "127.0.0.1", (uint16_t)(fx->base + i));
    li_make(&li, t == 0 ? SFU_PROTO_UDP : SFU_PROTO_TCP, "127.0.0.1", 0);
    for (int k = 0; k < 10; k++) {
      assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b, &s, err, sizeof(err)), 0);
      assert_int_equal(s.port, fx->base + RANGE_N - 1);
      assert_true(s.attempts >= 1 && s.attempts <= RANGE_N);
      unbind(fx, &b, &s);
    }
    for (int i = 0; i < RANGE_N - 1; i++) close(fds[i]);
  }
}

static void test_explicit_port(void **state) {
  fx_t *fx = *state;
  sfu_listen_info_t li;
  sfu_port_binding_t b1, b2;
  sfu_bound_socket_t s1, s2;
  char err[256], want[64];
  uint16_t port = (uint16_t)(fx->base + 3);

  for (int t = 0; t < 2; t++) {
    sfu_proto_t proto = t == 0 ? SFU_PROTO_UDP : SFU_PROTO_TCP;
    li_make(&li, proto, "127.0.0.1", port);
    assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b1, &s1, err, sizeof(err)), 0);
    assert_int_equal(s1.port, port);
    assert_int_equal(s1.attempts, 1);
    /* in use: fails cleanly, nothing left open */
    assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b2, &s2, err, sizeof(err)), SFU_EIO);
    snprintf(want, sizeof(want), "port:%u]", (unsigned)port);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, proto == SFU_PROTO_UDP ? "protocol:udp" : "protocol:tcp"));
    assert_non_null(strstr(err, "in use"));
    assert_int_equal(s2.fd, -1);
    assert_int_equal(sfu_port_manager_count(&fx->pm), 1);
    /* released on close: binding again succeeds */
    unbind(fx, &b1, &s1);
    assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b2, &s2, err, sizeof(err)), 0);
    assert_int_equal(s2.port, port);
    unbind(fx, &b2, &s2);
  }

  /* explicit port held by a foreign socket */
  int fd = raw_bind(SOCK_DGRAM, "127.0.0.1", port);
  li_make(&li, SFU_PROTO_UDP, "127.0.0.1", port);
  assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b1, &s1, err, sizeof(err)), SFU_EIO);
  close(fd);

  /* TCP listener on a port with an established connection: SO_REUSEADDR lets
   * a new listener bind once the old listener is gone */
  li_make(&li, SFU_PROTO_TCP, "127.0.0.1", port);
  assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b1, &s1, err, sizeof(err)), 0);
  struct sockaddr_storage ss;
  sfu_sockaddr_from_str("127.0.0.1", port, &ss);
  int cl = socket(AF_INET, SOCK_STREAM, 0);
  assert_int_equal(connect(cl, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), 0);
  int acc = accept(s1.fd, NULL, NULL);
  if (acc < 0) { /* non-blocking listener: the connection may need a moment */
    usleep(10000);
    acc = accept(s1.fd, NULL, NULL);
  }
  assert_true(acc >= 0);
  unbind(fx, &b1, &s1);
  assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b2, &s2, err, sizeof(err)), 0);
  unbind(fx, &b2, &s2);
  close(acc);
  close(cl);
}

static void test_reuse_port(void **state) {
  fx_t *fx = *state;
  sfu_listen_info_t li;
  sfu_port_binding_t b[3];
  sfu_bound_socket_t s[3];
  char err[256];
  uint16_t port = (uint16_t)(fx->base + 1);

  /* two sockets share an explicit port when both ask for it */
  li_make(&li, SFU_PROTO_UDP, "127.0.0.1", port);
  li.flags.udp_reuse_port = true;
  assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b[0], &s[0], err, sizeof(err)), 0);
  assert_int_equal(sock_int_opt(s[0].fd, SOL_SOCKET, SO_REUSEPORT), 1);
  assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b[1], &s[1], err, sizeof(err)), 0);
  /* but not with one that did not */
  li.flags.udp_reuse_port = false;
  assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b[2], &s[2], err, sizeof(err)), SFU_EIO);
  unbind(fx, &b[0], &s[0]);
  unbind(fx, &b[1], &s[1]);

  /* random ports with reuse: the manager's own ports are skipped even
   * though the kernel would let them be shared */
  sfu_port_manager_t pm;
  assert_int_equal(sfu_port_manager_init(&pm, fx->base, (uint16_t)(fx->base + 1)), 0);
  li_make(&li, SFU_PROTO_UDP, "127.0.0.1", 0);
  li.flags.udp_reuse_port = true;
  assert_int_equal(sfu_port_manager_bind(&pm, &li, &b[0], &s[0], err, sizeof(err)), 0);
  assert_int_equal(sfu_port_manager_bind(&pm, &li, &b[1], &s[1], err, sizeof(err)), 0);
  assert_true(s[0].port != s[1].port);
  assert_int_equal(sfu_port_manager_bind(&pm, &li, &b[2], &s[2], err, sizeof(err)), SFU_EIO);
  assert_non_null(strstr(err, "no more available ports"));
  assert_int_equal(pm.stats.bind_attempts, 2); /* skipped without syscalls */
  for (int i = 0; i < 2; i++) {
    sfu_port_manager_release(&pm, &b[i]);
    sfu_port_manager_release(&pm, &b[i]); /* idempotent */
    close(s[i].fd);
  }
  sfu_port_manager_destroy(&pm);

  /* TCP ignores udp_reuse_port */
  li_make(&li, SFU_PROTO_TCP, "127.0.0.1", port);
  li.flags.udp_reuse_port = true;
  assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b[0], &s[0], err, sizeof(err)), 0);
  assert_int_equal(sock_int_opt(s[0].fd, SOL_SOCKET, SO_REUSEPORT), 0);
  assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b[1], &s[1], err, sizeof(err)), SFU_EIO);
  unbind(fx, &b[0], &s[0]);
}

static void test_ipv6_only(void **state) {
  fx_t *fx = *state;
  sfu_listen_info_t li;
  sfu_port_binding_t b;
  sfu_bound_socket_t s;
  for (int t = 0; t < 2; t++) {
    sfu_proto_t proto = t == 0 ? SFU_PROTO_UDP : SFU_PROTO_TCP;
    li_make(&li, proto, "::1", 0);
    li.flags.ipv6_only = true;
    assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b, &s, NULL, 0), 0);
    assert_int_equal(sock_int_opt(s.fd, IPPROTO_IPV6, IPV6_V6ONLY), 1);
    unbind(fx, &b, &s);
    /* ignored for IPv4 */
    li_make(&li, proto, "127.0.0.1", 0);
    li.flags.ipv6_only = true;
    assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b, &s, NULL, 0), 0);
    unbind(fx, &b, &s);
  }
}

static int read_proc_int(const char *path) {
  FILE *f = fopen(path, "r");
  int v = 0;
  if (f == NULL) return 0;
  if (fscanf(f, "%d", &v) != 1) v = 0;
  fclose(f);
  return v;
}

static void test_buffer_sizes(void **state) {
  fx_t *fx = *state;
  sfu_listen_info_t li;
  sfu_port_binding_t b;
  sfu_bound_socket_t s;
  for (int t = 0; t < 2; t++) {
    li_make(&li, t == 0 ? SFU_PROTO_UDP : SFU_PROTO_TCP, "127.0.0.1", 0);
    li.send_buffer_size = 300000;
    li.recv_buffer_size = 400000;
    assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b, &s, NULL, 0), 0);
    /* the kernel stores (and reports) twice the value asked for */
    assert_int_equal(sock_int_opt(s.fd, SOL_SOCKET, SO_SNDBUF), 600000);
    assert_int_equal(sock_int_opt(s.fd, SOL_SOCKET, SO_RCVBUF), 800000);
    assert_int_equal(s.send_buffer_size, 600000);
    assert_int_equal(s.recv_buffer_size, 800000);
    unbind(fx, &b, &s);

    /* above net.core.rmem_max: the FORCE variant applies it when we may
     * (CAP_NET_ADMIN), else the capped value is reported */
    int rmax = read_proc_int("/proc/sys/net/core/rmem_max");
    if (rmax > 0 && rmax < 64 * 1024 * 1024) {
      li.recv_buffer_size = (uint32_t)rmax + 1000000u;
      assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b, &s, NULL, 0), 0);
      int got = sock_int_opt(s.fd, SOL_SOCKET, SO_RCVBUF);
      assert_int_equal(s.recv_buffer_size, got);
      assert_true(got == 2 * rmax || got == 2 * (rmax + 1000000));
      print_message("      recv buffer %u asked, %d in effect (rmem_max %d)\n", li.recv_buffer_size, got, rmax);
      unbind(fx, &b, &s);
    }

    /* not given: system default, reported */
    li.send_buffer_size = 0;
    li.recv_buffer_size = 0;
    assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b, &s, NULL, 0), 0);
    assert_true(s.send_buffer_size > 0 && s.recv_buffer_size > 0);
    unbind(fx, &b, &s);
  }
}

static void test_bad_args(void **state) {
  fx_t *fx = *state;
  sfu_listen_info_t li;
  sfu_port_binding_t b;
  sfu_bound_socket_t s;
  char err[128];
  sfu_listen_info_init(&li, SFU_PROTO_UDP, "999.1.1.1", 0);
  assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b, &s, err, sizeof(err)), SFU_EINVAL);
  assert_non_null(strstr(err, "invalid IP"));
  sfu_listen_info_init(&li, (sfu_proto_t)0, "127.0.0.1", 0);
  assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b, &s, err, sizeof(err)), SFU_EINVAL);
  li_make(&li, SFU_PROTO_UDP, "127.0.0.1", 0);
  li.port_range.min = 10;
  li.port_range.max = 5; /* not validated: the manager checks too */
  assert_int_equal(sfu_port_manager_bind(&fx->pm, &li, &b, &s, err, sizeof(err)), SFU_EINVAL);
  assert_int_equal(s.fd, -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_init_args),
      cmocka_unit_test(test_listen_info_validate),
      cmocka_unit_test(test_sockaddr_helpers),
      cmocka_unit_test_setup_teardown(test_udp_range_exhaustion, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tcp_range_exhaustion, setup, teardown),
      cmocka_unit_test_setup_teardown(test_udp6_range_exhaustion, setup, teardown),
      cmocka_unit_test_setup_teardown(test_protocols_independent, setup, teardown),
      cmocka_unit_test_setup_teardown(test_random_start, setup, teardown),
      cmocka_unit_test_setup_teardown(test_listen_info_range, setup, teardown),
      cmocka_unit_test_setup_teardown(test_skips_foreign_ports, setup, teardown),
      cmocka_unit_test_setup_teardown(test_explicit_port, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reuse_port, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ipv6_only, setup, teardown),
      cmocka_unit_test_setup_teardown(test_buffer_sizes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
