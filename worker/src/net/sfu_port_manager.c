#include "sfu_port_manager.h"
#include "sfu_udp_tx_batch.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sfu_error.h"
#include "sfu_sockaddr.h"

static uint64_t sfu__pm_next(sfu_port_manager_t *pm) {
  /* xorshift64*: plenty for spreading start offsets; the state never is 0. */
  uint64_t x = pm->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  pm->rng = x;
  return x * 0x2545F4914F6CDD1DULL;
}

int sfu_port_manager_init(sfu_port_manager_t *pm, uint16_t min_port, uint16_t max_port) {
  uint64_t seed = 0;

  memset(pm, 0, sizeof(*pm));
  sfu_list_init(&pm->bindings);
  if (min_port == 0 || min_port > max_port) return SFU_EINVAL;
  pm->min_port = min_port;
  pm->max_port = max_port;
  if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)pm;
  }
  pm->rng = seed != 0 ? seed : 0x9E3779B97F4A7C15ULL;
  return 0;
}

void sfu_port_manager_destroy(sfu_port_manager_t *pm) {
  if (pm->udp_rx != NULL) free(pm->udp_rx->buf);
  free(pm->udp_rx);
  pm->udp_rx = NULL;
  sfu_udp_tx_batch_free(pm->udp_tx);
  pm->udp_tx = NULL;
}

sfu_udp_tx_batch_t *sfu_port_manager_udp_tx(sfu_port_manager_t *pm) {
  if (pm->udp_tx == NULL) pm->udp_tx = sfu_udp_tx_batch_new();
  return pm->udp_tx;
}

sfu_udp_rx_batch_t *sfu_port_manager_udp_rx(sfu_port_manager_t *pm) {
  sfu_udp_rx_batch_t *rx;
  if (pm->udp_rx != NULL) return pm->udp_rx;
  if ((rx = calloc(1, sizeof(*rx))) == NULL) return NULL;
  if ((rx->buf = malloc((size_t)SFU_PORT_MANAGER_UDP_CHUNK * SFU_PORT_MANAGER_UDP_CHUNKS)) == NULL) {
    free(rx);
    return NULL;
  }
  for (unsigned i = 0; i < SFU_PORT_MANAGER_UDP_CHUNKS; i++) {
    rx->iov[i].iov_base = rx->buf + (size_t)i * SFU_PORT_MANAGER_UDP_CHUNK;
    rx->iov[i].iov_len = SFU_PORT_MANAGER_UDP_CHUNK;
    rx->msgs[i].msg_hdr.msg_iov = &rx->iov[i];
    rx->msgs[i].msg_hdr.msg_iovlen = 1;
    rx->msgs[i].msg_hdr.msg_name = &rx->from[i];
    rx->msgs[i].msg_hdr.msg_namelen = sizeof(rx->from[i]);
  }
  pm->udp_rx = rx;
  return rx;
}

size_t sfu_port_manager_count(const sfu_port_manager_t *pm) { return sfu_list_count(&pm->bindings); }

void sfu_port_manager_release(sfu_port_manager_t *pm, sfu_port_binding_t *b) {
  (void)pm;
  if (b == NULL || !b->active) return;
  sfu_list_remove(&b->link);
  b->active = false;
}

/* Sets a buffer size; if the kernel capped it (it stores twice the value
 * asked), tries the FORCE variant, which ignores the sysctl cap with
 * CAP_NET_ADMIN. Then reads back what is in effect. */
static int sfu__pm_buffer(int fd, int opt, int force_opt, uint32_t want, int *effective) {
  int v, got = 0;
  socklen_t sl = sizeof(got);

  if (want > 0) {
    v = (int)want;
    if (setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)) != 0) return -errno;
    if (getsockopt(fd, SOL_SOCKET, opt, &got, &sl) != 0) return -errno;
    int64_t target = (int64_t)(want > INT_MAX / 2 ? INT_MAX / 2 : want) * 2;
    if ((int64_t)got < target) {
      v = (int)want;
      (void)setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof(v)); /* EPERM without CAP_NET_ADMIN */
    }
  }
  sl = sizeof(got);
  if (getsockopt(fd, SOL_SOCKET, opt, &got, &sl) != 0) return -errno;
  *effective = got;
  return 0;
}

/* One attempt on one address: 0 with out->fd set, or -errno (nothing left open). */
static int sfu__pm_try(const sfu_listen_info_t *li, const struct sockaddr *addr, sfu_bound_socket_t *out) {
  const int one = 1;
  int fd, r;
  int type = li->protocol == SFU_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;

  fd = socket(addr->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (addr->sa_family == AF_INET6 && li->flags.ipv6_only &&
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
    goto fail_errno;
  if (li->protocol == SFU_PROTO_UDP && li->flags.udp_reuse_port) {
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) goto fail_errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) goto fail_errno;
  }
  if (li->protocol == SFU_PROTO_TCP && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
    goto fail_errno;
  if (bind(fd, addr, sfu_sockaddr_len(addr)) != 0) goto fail_errno;
  /* Sizes before listen(): accepted TCP sockets inherit the listener's. */
  if ((r = sfu__pm_buffer(fd, SO_SNDBUF, SO_SNDBUFFORCE, li->send_buffer_size, &out->send_buffer_size)) != 0 ||
      (r = sfu__pm_buffer(fd, SO_RCVBUF, SO_RCVBUFFORCE, li->recv_buffer_size, &out->recv_buffer_size)) != 0) {
    close(fd);
    return r;
  }
  if (li->protocol == SFU_PROTO_TCP && listen(fd, SFU_PORT_MANAGER_TCP_BACKLOG) != 0) goto fail_errno;
  out->fd = fd;
  return 0;

fail_errno:
  r = -errno;
  close(fd);
  return r;
}

static void sfu__pm_record(sfu_port_manager_t *pm, sfu_port_binding_t *b, const sfu_listen_info_t *li,
                           const struct sockaddr_storage *addr) {
  b->proto = li->protocol;
  b->addr = *addr;
  b->active = true;
  sfu_list_insert_tail(&pm->bindings, &b->link);
  pm->stats.binds++;
}

int sfu_port_manager_bind(sfu_port_manager_t *pm, const sfu_listen_info_t *li, sfu_port_binding_t *b,
                          sfu_bound_socket_t *out, char *err, size_t err_len) {
  struct sockaddr_storage addr;
  uint64_t used[65536 / 64];
  uint32_t n, start, i;
  uint16_t lo, hi, port;
  const char *proto = sfu_proto_name(li->protocol);
  int r;

  memset(out, 0, sizeof(*out));
  out->fd = -1;
  b->active = false;
  sfu_list_init(&b->link);

  if (li->protocol != SFU_PROTO_UDP && li->protocol != SFU_PROTO_TCP) {
    pm->stats.failures++;
    return sfu__net_fail(err, err_len, SFU_EINVAL, "invalid protocol");
  }
  if (sfu_sockaddr_from_str(li->ip, 0, &addr) != 0) {
    pm->stats.failures++;
    return sfu__net_fail(err, err_len, SFU_EINVAL, "invalid IP '%s'", li->ip);
  }

  if (li->port != 0) {
    sfu_sockaddr_set_port((struct sockaddr *)&addr, li->port);
    pm->stats.bind_attempts++;
    out->attempts = 1;
    if ((r = sfu__pm_try(li, (const struct sockaddr *)&addr, out)) != 0) {
      pm->stats.failures++;
      return sfu__net_fail(err, err_len, SFU_EIO, "bind() failed [protocol:%s, ip:'%s', port:%u]: %s", proto,
                           li->ip, (unsigned)li->port, strerror(-r));
    }
    out->port = li->port;
    sfu__pm_record(pm, b, li, &addr);
    return 0;
  }

  if (sfu_listen_info_has_port_range(li)) {
    lo = li->port_range.min;
    hi = li->port_range.max;
    if (lo > hi) {
      pm->stats.failures++;
      return sfu__net_fail(err, err_len, SFU_EINVAL, "maxPort cannot be less than minPort");
    }
  } else {
    lo = pm->min_port;
    hi = pm->max_port;
  }

  /* Ports this manager already holds for the same protocol and IP. */
  memset(used, 0, sizeof(used));
  sfu_list_t *pos;
  sfu_list_foreach(pos, &pm->bindings) {
    const sfu_port_binding_t *o = sfu_container_of(pos, sfu_port_binding_t, link);
    if (o->proto != li->protocol || !sfu_sockaddr_same_ip((const struct sockaddr *)&o->addr, (const struct sockaddr *)&addr))
      continue;
    uint16_t p = sfu_sockaddr_port((const struct sockaddr *)&o->addr);
    used[p / 64] |= (uint64_t)1 << (p % 64);
  }

  n = (uint32_t)hi - lo + 1;
  start = (uint32_t)(sfu__pm_next(pm) % n);
  for (i = 0; i < n; i++) {
    port = (uint16_t)(lo + (start + i) % n);
    if (used[port / 64] & ((uint64_t)1 << (port % 64))) continue;
    sfu_sockaddr_set_port((struct sockaddr *)&addr, port);
    pm->stats.bind_attempts++;
    out->attempts++;
    r = sfu__pm_try(li, (const struct sockaddr *)&addr, out);
    if (r == 0) {
      out->port = port;
      sfu__pm_record(pm, b, li, &addr);
      return 0;
    }
    if (r == -EADDRINUSE || r == -EACCES) continue;
    pm->stats.failures++;
    return sfu__net_fail(err, err_len, SFU_EIO, "port bind failed [protocol:%s, ip:'%s', port:%u, attempt:%u/%u]: %s",
                         proto, li->ip, (unsigned)port, (unsigned)out->attempts, (unsigned)n, strerror(-r));
  }
  pm->stats.failures++;
  return sfu__net_fail(err, err_len, SFU_EIO, "no more available ports [protocol:%s, ip:'%s', numAttempt:%u]", proto,
                       li->ip, (unsigned)n);
}
