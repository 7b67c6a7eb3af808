/* One listening socket of a WebRtcServer, or of a WebRtcTransport with its
 * own sockets: UDP, or TCP (passive, RFC 4571), opened from a listen info,
 * with the addresses its ICE host candidates announce.
 *
 * The UDP socket's / TCP server's data pointer is this struct; `owner` is the
 * server or transport while it is open and NULL from sfu_listen_sock_close()
 * on, so packet callbacks check it. The struct lives inside the owner, which
 * is freed only after every close callback has run. */
#ifndef SFU_LISTEN_SOCK_H
#define SFU_LISTEN_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "fb.h"
#include "sfu_listen_info.h"
#include "sfu_port_manager.h"
#include "sfu_tcp_server.h"
#include "sfu_udp_socket.h"

typedef void (*sfu_listen_sock_closed_cb)(void *owner);

typedef struct sfu_listen_sock {
  void *owner;
  sfu_proto_t proto;
  sfu_udp_socket_t *udp; /* one of udp/tcp, by proto */
  sfu_tcp_server_t *tcp;
  char ip[SFU_LISTEN_INFO_IP_MAX];                 /* local ip */
  char address[SFU_LISTEN_INFO_ANNOUNCED_MAX];     /* announced address, else the local ip */
  bool expose_internal;                            /* also a candidate with the local ip */
  uint16_t port;
  /* while closing */
  void *closing_owner;
  sfu_listen_sock_closed_cb closed_cb;
} sfu_listen_sock_t;

/* Opens s (zeroed first) as li says: on_udp for UDP, tcp_cbs for TCP. 0, or
 * the error of sfu_udp_socket_open()/sfu_tcp_server_open() with the reason
 * in err; on error nothing is left open. */
int sfu_listen_sock_open(sfu_listen_sock_t *s, uv_loop_t *loop, sfu_port_manager_t *pm, const sfu_listen_info_t *li,
                         sfu_udp_socket_packet_cb on_udp, const sfu_tcp_server_cbs_t *tcp_cbs, void *owner, char *err,
                         size_t err_len);

/* The ICE host candidates of socks[0..n) into out[0..max), in order (two per
 * socket exposing its internal ip), skipping disabled protocols; priorities
 * as mediasoup's, the preferred protocol's raised. Returns the count. */
size_t sfu_listen_sock_candidates(const sfu_listen_sock_t *socks, size_t n, fb_builder_t *b, bool enable_udp,
                                  bool enable_tcp, bool prefer_udp, bool prefer_tcp, fb_ref_t *out, size_t max);

/* Starts closing s: owner becomes NULL at once; closed(owner) runs from the
 * loop when the socket is closed. Returns 1 if a closed() call is to come,
 * 0 if there was nothing to close. */
int sfu_listen_sock_close(sfu_listen_sock_t *s, void *owner, sfu_listen_sock_closed_cb closed);

#endif
