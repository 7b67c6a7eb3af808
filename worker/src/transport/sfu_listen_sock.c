#include "sfu_listen_sock.h"

#include <stdio.h>
#include <string.h>

#include "sfu_listen_info_fbs.h"

int sfu_listen_sock_open(sfu_listen_sock_t *s, uv_loop_t *loop, sfu_port_manager_t *pm, const sfu_listen_info_t *li,
                         sfu_udp_socket_packet_cb on_udp, const sfu_tcp_server_cbs_t *tcp_cbs, void *owner, char *err,
                         size_t err_len) {
  int r;

  memset(s, 0, sizeof(*s));
  s->proto = li->protocol;
  if (li->protocol == SFU_PROTO_UDP) {
    if ((r = sfu_udp_socket_open(&s->udp, loop, pm, li, on_udp, s, err, err_len)) != 0) return r;
    s->port = sfu_udp_socket_local_port(s->udp);
  } else {
    if ((r = sfu_tcp_server_open(&s->tcp, loop, pm, li, tcp_cbs, s, err, err_len)) != 0) return r;
    s->port = sfu_tcp_server_local_port(s->tcp);
  }
  s->owner = owner;
  snprintf(s->ip, sizeof(s->ip), "%s", li->ip);
  snprintf(s->address, sizeof(s->address), "%s", li->announced_address[0] ? li->announced_address : li->ip);
  s->expose_internal = li->expose_internal_ip && li->announced_address[0] != '\0';
  return 0;
}

size_t sfu_listen_sock_candidates(const sfu_listen_sock_t *socks, size_t n, fb_builder_t *b, bool enable_udp,
                                  bool enable_tcp, bool prefer_udp, bool prefer_tcp, fb_ref_t *out, size_t max) {
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    const sfu_listen_sock_t *s = &socks[i];
    if ((s->proto == SFU_PROTO_UDP && !enable_udp) || (s->proto == SFU_PROTO_TCP && !enable_tcp)) continue;
    bool preferred = (prefer_udp && s->proto == SFU_PROTO_UDP) || (prefer_tcp && s->proto == SFU_PROTO_TCP);
    for (int internal = 0; internal < (s->expose_internal ? 2 : 1) && count < max; internal++, count++)
      out[count] = sfu_ice_candidate_build(b, s->proto, internal ? s->ip : s->address, s->port,
                                           sfu_ice_candidate_priority((uint32_t)count, preferred));
  }
  return count;
}

static void sfu__ls_udp_closed(sfu_udp_socket_t *u) {
  sfu_listen_sock_t *s = u->data;
  s->udp = NULL;
  s->closed_cb(s->closing_owner);
}

static void sfu__ls_tcp_closed(sfu_tcp_server_t *t) {
  sfu_listen_sock_t *s = t->data;
  s->tcp = NULL;
  s->closed_cb(s->closing_owner);
}

int sfu_listen_sock_close(sfu_listen_sock_t *s, void *owner, sfu_listen_sock_closed_cb closed) {
  s->owner = NULL;
  s->closing_owner = owner;
  s->closed_cb = closed;
  if (s->udp != NULL) {
    sfu_udp_socket_close(s->udp, sfu__ls_udp_closed);
    return 1;
  }
  if (s->tcp != NULL) {
    sfu_tcp_server_close(s->tcp, sfu__ls_tcp_closed);
    return 1;
  }
  return 0;
}
