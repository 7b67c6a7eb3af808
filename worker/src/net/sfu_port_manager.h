/* Port manager: the network layer's per-worker state, owned by the loop
 * context (no globals). It picks and binds ports, and holds the UDP receive
 * buffer all UDP sockets of the loop share.
 *
 * sfu_port_manager_bind() returns a socket that is already bound (and, for
 * TCP, listening), so there is no window between choosing a port and taking
 * it. Options are applied before bind: IPV6_V6ONLY (flags.ipv6_only, IPv6
 * only), SO_REUSEPORT + SO_REUSEADDR (flags.udp_reuse_port, UDP only),
 * SO_REUSEADDR for TCP listeners (as libuv's uv_tcp_bind does), and
 * SO_SNDBUF / SO_RCVBUF when sizes are given: if the kernel caps them at
 * net.core.{w,r}mem_max, SO_SNDBUFFORCE / SO_RCVBUFFORCE are tried (they
 * need CAP_NET_ADMIN); the sizes really in effect are reported back.
 *
 * Random ports: a random start in [min, max], then every port once,
 * wrapping around; ports held by this manager's live bindings for the same
 * protocol and IP are skipped without a syscall (this matters for
 * SO_REUSEPORT sockets, which the kernel would let share a port). EADDRINUSE
 * and EACCES move on to the next port; other errors (EADDRNOTAVAIL, EMFILE,
 * ...) fail at once. A full range fails with "no more available ports".
 *
 * Every successful bind records the port in a caller-owned
 * sfu_port_binding_t; the caller releases it when it closes the socket. */
#ifndef SFU_PORT_MANAGER_H
#define SFU_PORT_MANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sfu_list.h"
#include "sfu_listen_info.h"
#include "sfu_tuple.h"

#define SFU_PORT_MANAGER_TCP_BACKLOG 512
/* The shared UDP receive buffer of every sfu_udp_socket: one 64 KiB chunk
 * per datagram, 32 chunks = up to 32 datagrams per recvmmsg() (2 MiB of
 * address space; only the pages datagrams land in are ever touched). */
#define SFU_PORT_MANAGER_UDP_CHUNK (64u * 1024u)
#define SFU_PORT_MANAGER_UDP_CHUNKS 32u

typedef struct sfu_port_binding {
  sfu_list_t link; /* in pm->bindings while active */
  sfu_proto_t proto;
  struct sockaddr_storage addr; /* bound ip + port */
  bool active;
} sfu_port_binding_t;

typedef struct sfu_bound_socket {
  int fd;               /* non-blocking, close-on-exec, bound; TCP: listening */
  int send_buffer_size; /* SO_SNDBUF in effect (what getsockopt reports: the kernel doubles) */
  int recv_buffer_size; /* SO_RCVBUF in effect */
  uint16_t port;
  uint32_t attempts; /* bind() calls made */
} sfu_bound_socket_t;

/* The shared UDP receive batch: one recvmmsg() header per chunk, with its
 * iovec and source address buffer wired once at allocation. After a call a
 * reader resets msg_namelen of the entries the kernel filled. */
typedef struct sfu_udp_rx_batch {
  struct mmsghdr msgs[SFU_PORT_MANAGER_UDP_CHUNKS];
  struct iovec iov[SFU_PORT_MANAGER_UDP_CHUNKS];
  struct sockaddr_storage from[SFU_PORT_MANAGER_UDP_CHUNKS];
  uint8_t *buf; /* SFU_PORT_MANAGER_UDP_CHUNK * _CHUNKS bytes */
} sfu_udp_rx_batch_t;

typedef struct sfu_udp_tx_batch sfu_udp_tx_batch_t;

typedef struct sfu_port_manager_stats {
  uint64_t binds;         /* successful */
  uint64_t bind_attempts; /* bind() calls */
  uint64_t failures;      /* failed sfu_port_manager_bind() calls */
} sfu_port_manager_stats_t;

typedef struct sfu_port_manager {
  uint16_t min_port, max_port; /* the worker's --rtcMinPort..--rtcMaxPort */
  uint64_t rng;                /* xorshift64* state */
  sfu_list_t bindings;
  sfu_udp_rx_batch_t *udp_rx; /* lazily allocated */
  sfu_udp_tx_batch_t *udp_tx; /* lazily allocated (sfu_udp_tx_batch.h) */
  sfu_port_manager_stats_t stats;
} sfu_port_manager_t;

/* 0, or SFU_EINVAL when min == 0 or min > max. */
int sfu_port_manager_init(sfu_port_manager_t *pm, uint16_t min_port, uint16_t max_port);
/* Frees the UDP receive batch. Call after every socket was closed. */
void sfu_port_manager_destroy(sfu_port_manager_t *pm);

/* Binds a socket for li (validated: sfu_listen_info_validate()) and records
 * it in *b. On failure nothing is left open and err holds the reason:
 * SFU_EINVAL (bad ip / range), SFU_EIO (port in use, no more available
 * ports, address not available, too many open files, other socket errors). */
int sfu_port_manager_bind(sfu_port_manager_t *pm, const sfu_listen_info_t *li, sfu_port_binding_t *b,
                          sfu_bound_socket_t *out, char *err, size_t err_len);

/* Forget a binding (the socket is being closed). Idempotent. */
void sfu_port_manager_release(sfu_port_manager_t *pm, sfu_port_binding_t *b);

/* Number of live bindings. */
size_t sfu_port_manager_count(const sfu_port_manager_t *pm);

/* The shared UDP receive batch (NULL if it cannot be allocated). */
sfu_udp_rx_batch_t *sfu_port_manager_udp_rx(sfu_port_manager_t *pm);
/* The shared UDP send batch (NULL if it cannot be allocated). */
sfu_udp_tx_batch_t *sfu_port_manager_udp_tx(sfu_port_manager_t *pm);

#endif
