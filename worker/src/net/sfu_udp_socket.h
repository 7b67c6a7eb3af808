/* UDP socket of a transport: bound through the port manager, watched with a
 * uv_poll_t, read with one recvmmsg() of up to SFU_PORT_MANAGER_UDP_CHUNKS
 * datagrams per wakeup into the port manager's shared buffer, and written
 * with sendto() without ever blocking. (libuv's uv_udp_t reads until EAGAIN,
 * one empty recvmmsg per wakeup: measured as the largest per-packet overhead
 * left at fan-out K = 1, hence our own reader.)
 *
 * Sending: sendto() first; when the kernel says EAGAIN (or ENOBUFS), or
 * datagrams are already queued, a copy is queued as long as the queue stays
 * under max_queued bytes (default SFU_UDP_SOCKET_MAX_QUEUED), and the queue
 * is sent in order when the socket becomes writable; beyond the cap the
 * datagram is dropped and counted. Datagrams queued when the socket closes
 * are dropped and counted.
 *
 * Lifetime: sfu_udp_socket_close() is asynchronous. The handle's data
 * pointer is cleared at once (every libuv callback checks it), the fd is
 * closed and the port released at once, and the close callback runs from
 * libuv's close phase, after which the memory is freed. No on_packet is
 * delivered after close, even from within on_packet. */
#ifndef SFU_UDP_SOCKET_H
#define SFU_UDP_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sfu_list.h"
#include "sfu_listen_info.h"
#include "sfu_port_manager.h"
#include "sfu_tuple.h"

#define SFU_UDP_SOCKET_MAX_QUEUED (1024u * 1024u)

typedef struct sfu_udp_socket sfu_udp_socket_t;

/* p is valid only during the call; from is the sender. */
typedef void (*sfu_udp_socket_packet_cb)(sfu_udp_socket_t *sock, const uint8_t *p, size_t len,
                                         const struct sockaddr *from);
typedef void (*sfu_udp_socket_close_cb)(sfu_udp_socket_t *sock);

typedef struct sfu_udp_socket_stats {
  uint64_t packets_in, bytes_in;
  uint64_t packets_out, bytes_out; /* handed to the kernel (directly or from the queue) */
  uint64_t queued;                 /* datagrams that went through the queue */
  uint64_t dropped_queue_full;     /* send() over max_queued */
  uint64_t dropped_on_close;       /* still queued when the socket closed */
  uint64_t send_errors;            /* refused by the kernel (unreachable, bad address, ...) */
  uint64_t recv_errors;
  uint64_t recv_calls;    /* recvmmsg() calls that returned datagrams */
  uint64_t socket_errors; /* asynchronous errors (ICMP unreachable on a connected socket) */
  uint64_t truncated_in; /* datagrams larger than a receive chunk (cannot happen with 64 KiB chunks) */
  uint64_t send_batches; /* sendmmsg() calls of datagrams sent from inside this socket's own read */
  size_t queued_bytes, queued_packets;
} sfu_udp_socket_stats_t;

struct sfu_udp_socket {
  void *data; /* owner's */
  uv_poll_t handle; /* handle.data = this socket while open, NULL once closing */
  int fd;           /* -1 once closed */
  sfu_list_t send_queue;
  bool polling_writable;
  bool connected; /* sfu_udp_socket_connect() done: peer is set */
  struct sockaddr_storage peer;
  sfu_port_manager_t *pm;
  sfu_port_binding_t binding;
  sfu_udp_socket_packet_cb on_packet;
  sfu_udp_socket_close_cb close_cb;
  struct sockaddr_storage local;
  char local_ip[INET6_ADDRSTRLEN];
  uint16_t local_port;
  int send_buffer_size; /* SO_SNDBUF in effect (kernel-doubled value) */
  int recv_buffer_size; /* SO_RCVBUF in effect */
  size_t max_queued;    /* bytes; may be changed at any time */
  sfu_udp_socket_stats_t stats;
  bool batching; /* inside our read callback: sends go to the shared tx batch */
  bool closing;
};

/* Opens a UDP socket as li says (li->protocol must be UDP; li validated with
 * sfu_listen_info_validate()). on_packet is required. 0, or SFU_EINVAL /
 * SFU_EIO / SFU_ENOMEM with the reason in err (may be NULL). */
int sfu_udp_socket_open(sfu_udp_socket_t **out, uv_loop_t *loop, sfu_port_manager_t *pm,
                        const sfu_listen_info_t *li, sfu_udp_socket_packet_cb on_packet, void *data, char *err,
                        size_t err_len);

/* Never blocks. 0 = sent or queued; SFU_EINVAL (empty, no address, not
 * AF_INET/AF_INET6); SFU_ESTATE (closing); SFU_ENOMEM (queue full or no
 * memory: dropped); SFU_EIO (the kernel refused it, e.g. unreachable). */
int sfu_udp_socket_send(sfu_udp_socket_t *sock, const uint8_t *p, size_t len, const struct sockaddr *to);

/* connect(): from now on the kernel delivers datagrams from `peer` only and
 * sends to `peer` use the route cached at connect time (send() without an
 * address; measured 5-18 % cheaper per datagram on loopback than sendto()).
 * For owners that accept nothing but this peer anyway (a PlainTransport
 * once its tuple is fixed). Sends to other addresses still work. ICMP
 * errors now reach the socket: a send after one may fail (SFU_EIO, counted
 * in send_errors) and socket_errors counts the rest; reading goes on.
 * 0, SFU_EINVAL, SFU_ESTATE (closing) or SFU_EIO. */
int sfu_udp_socket_connect(sfu_udp_socket_t *sock, const struct sockaddr *peer);

/* Asynchronous close (see above); cb may be NULL. Idempotent. */
void sfu_udp_socket_close(sfu_udp_socket_t *sock, sfu_udp_socket_close_cb cb);

static inline const struct sockaddr *sfu_udp_socket_local_addr(const sfu_udp_socket_t *sock) {
  return (const struct sockaddr *)&sock->local;
}
static inline const char *sfu_udp_socket_local_ip(const sfu_udp_socket_t *sock) { return sock->local_ip; }
static inline uint16_t sfu_udp_socket_local_port(const sfu_udp_socket_t *sock) { return sock->local_port; }

/* The tuple of a datagram received from `remote` on this socket. */
/* Writable capacity of a received datagram's buffer (on_packet's p): each
 * datagram has its own SFU_PORT_MANAGER_UDP_CHUNK chunk, so receivers may grow
 * a packet in place (header extension rewrites) by up to 256 bytes. */
static inline size_t sfu_udp_packet_cap(size_t len) {
  return len + 256 <= SFU_PORT_MANAGER_UDP_CHUNK ? len + 256 : len;
}

void sfu_udp_socket_tuple(sfu_udp_socket_t *sock, const struct sockaddr *remote, sfu_tuple_t *out);

#endif
