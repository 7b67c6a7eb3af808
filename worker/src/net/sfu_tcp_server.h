/* TCP listener of a transport: bound (and listening) through the port
 * manager, accepts passive RFC 4571 connections (sfu_tcp_conn_t), at most
 * max_conns open at once (default SFU_TCP_SERVER_MAX_CONNS, as mediasoup);
 * connections beyond that are accepted and closed at once (counted in
 * stats.rejected), so the client sees a clean close instead of hanging.
 *
 * A new connection starts with the server's on_packet/on_closed callbacks;
 * on_connection (may be NULL) can set conn->data, change those callbacks or
 * close it. Reading starts after on_connection returns.
 *
 * sfu_tcp_server_close() closes every connection (without their on_closed:
 * see sfu_tcp_conn.h), releases the port at once, and calls cb from libuv's
 * close phase before freeing the server. */
#ifndef SFU_TCP_SERVER_H
#define SFU_TCP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sfu_list.h"
#include "sfu_listen_info.h"
#include "sfu_port_manager.h"
#include "sfu_tcp_conn.h"

#define SFU_TCP_SERVER_MAX_CONNS 1000u

typedef void (*sfu_tcp_server_conn_cb)(sfu_tcp_server_t *srv, sfu_tcp_conn_t *conn);
typedef void (*sfu_tcp_server_close_cb)(sfu_tcp_server_t *srv);

typedef struct sfu_tcp_server_cbs {
  sfu_tcp_server_conn_cb on_connection; /* may be NULL */
  sfu_tcp_conn_packet_cb on_packet;     /* a connection's initial on_packet */
  sfu_tcp_conn_closed_cb on_closed;     /* a connection's initial on_closed */
} sfu_tcp_server_cbs_t;

typedef struct sfu_tcp_server_stats {
  uint64_t accepted;
  uint64_t rejected;      /* over max_conns */
  uint64_t accept_errors; /* failed accepts */
} sfu_tcp_server_stats_t;

struct sfu_tcp_server {
  void *data; /* owner's */
  uv_tcp_t handle; /* handle.data = this server while open, NULL once closing */
  uv_loop_t *loop;
  sfu_port_manager_t *pm;
  sfu_port_binding_t binding;
  sfu_tcp_server_cbs_t cbs;
  sfu_list_t conns; /* sfu_tcp_conn_t.link: open and closing-not-yet-freed */
  size_t num_conns; /* open ones */
  size_t max_conns; /* may be changed at any time */
  struct sockaddr_storage local;
  char local_ip[INET6_ADDRSTRLEN];
  uint16_t local_port;
  int send_buffer_size; /* SO_SNDBUF in effect; accepted connections inherit it */
  int recv_buffer_size;
  sfu_tcp_server_close_cb close_cb;
  sfu_tcp_server_stats_t stats;
  bool closing;
};

/* li->protocol must be TCP (li validated). 0, or SFU_EINVAL / SFU_EIO /
 * SFU_ENOMEM with the reason in err (may be NULL). */
int sfu_tcp_server_open(sfu_tcp_server_t **out, uv_loop_t *loop, sfu_port_manager_t *pm,
                        const sfu_listen_info_t *li, const sfu_tcp_server_cbs_t *cbs, void *data, char *err,
                        size_t err_len);

/* Asynchronous close (see above); cb may be NULL. Idempotent. */
void sfu_tcp_server_close(sfu_tcp_server_t *srv, sfu_tcp_server_close_cb cb);

static inline const struct sockaddr *sfu_tcp_server_local_addr(const sfu_tcp_server_t *srv) {
  return (const struct sockaddr *)&srv->local;
}
static inline const char *sfu_tcp_server_local_ip(const sfu_tcp_server_t *srv) { return srv->local_ip; }
static inline uint16_t sfu_tcp_server_local_port(const sfu_tcp_server_t *srv) { return srv->local_port; }

#endif
