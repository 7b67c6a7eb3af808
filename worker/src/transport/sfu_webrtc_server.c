#include "sfu_webrtc_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_error.h"
#include "sfu_listen_info_fbs.h"
#include "sfu_listen_sock.h"
#include "sfu_request.h"
#include "sfu_stun.h"
#include "sfu_tcp_conn.h"
#include "sfu_tcp_server.h"
#include "sfu_tuple_map.h"
#include "sfu_udp_socket.h"
#include "sfu_webrtc_transport.h"

#define SFU_WRS_MAX_SOCKS 16

typedef struct sfu__ufrag_entry {
  char ufrag[257];
  size_t len;
  sfu_webrtc_transport_t *wt;
} sfu__ufrag_entry_t;

struct sfu_webrtc_server {
  sfu_ctx_t *ctx;
  sfu_handler_t handler;
  sfu_list_t worker_link;
  char *id;
  size_t id_len;
  sfu_listen_sock_t socks[SFU_WRS_MAX_SOCKS];
  size_t nsocks;
  sfu_list_t transports;
  sfu__ufrag_entry_t *ufrags;
  size_t nufrags, ufrags_cap;
  sfu_tuple_map_t tuples; /* every validated tuple -> its transport */
  int pending_closes;
  bool closed;
  sfu_closing_t closing;
};

const char *sfu_webrtc_server_id(const sfu_webrtc_server_t *srv, size_t *len) {
  *len = srv->id_len;
  return srv->id;
}

/* ---- routing tables ---- */

static sfu_webrtc_transport_t *sfu__by_tuple(sfu_webrtc_server_t *srv, const sfu_tuple_t *t) {
  return sfu_tuple_map_get(&srv->tuples, t);
}

static void sfu__add_tuple(sfu_webrtc_server_t *srv, const sfu_tuple_t *t, sfu_webrtc_transport_t *wt) {
  (void)sfu_tuple_map_put(&srv->tuples, t, wt); /* present: the first owner keeps it, as before */
}

void sfu_webrtc_server_add_ufrag(sfu_webrtc_server_t *srv, sfu_webrtc_transport_t *wt, const char *ufrag, size_t len) {
  if (len > 256) return;
  if (srv->nufrags == srv->ufrags_cap) {
    size_t cap = srv->ufrags_cap ? srv->ufrags_cap * 2 : 8;
    sfu__ufrag_entry_t *n = realloc(srv->ufrags, cap * sizeof(*n));
    if (n == NULL) return;
    srv->ufrags = n;
    srv->ufrags_cap = cap;
  }
  sfu__ufrag_entry_t *e = &srv->ufrags[srv->nufrags++];
  memcpy(e->ufrag, ufrag, len);
  e->ufrag[len] = '\0';
  e->len = len;
  e->wt = wt;
}

void sfu_webrtc_server_remove_ufrag(sfu_webrtc_server_t *srv, sfu_webrtc_transport_t *wt, const char *ufrag,
                                    size_t len) {
  for (size_t i = 0; i < srv->nufrags; i++) {
    sfu__ufrag_entry_t *e = &srv->ufrags[i];
    if (e->wt == wt && e->len == len && memcmp(e->ufrag, ufrag, len) == 0) {
      srv->ufrags[i] = srv->ufrags[--srv->nufrags];
      return;
    }
  }
}

void sfu_webrtc_server_add_transport(sfu_webrtc_server_t *srv, sfu_webrtc_transport_t *wt) {
  sfu_list_insert_tail(&srv->transports, sfu_webrtc_transport_server_link(wt));
}

void sfu_webrtc_server_remove_transport(sfu_webrtc_server_t *srv, sfu_webrtc_transport_t *wt) {
  sfu_list_remove(sfu_webrtc_transport_server_link(wt));
  sfu_tuple_map_del_value(&srv->tuples, wt);
  size_t j = 0;
  for (size_t i = 0; i < srv->nufrags; i++)
    if (srv->ufrags[i].wt != wt) srv->ufrags[j++] = srv->ufrags[i];
  srv->nufrags = j;
}

/* ---- packets ---- */

static void sfu__dispatch(sfu_webrtc_server_t *srv, const sfu_tuple_t *tuple, uint8_t *p, size_t len, size_t cap) {
  sfu_webrtc_transport_t *wt = sfu__by_tuple(srv, tuple);
  if (wt == NULL && sfu_stun_is_stun(p, len)) {
    sfu_stun_msg_t m;
    if (sfu_stun_parse(&m, p, len) != 0 || m.username == NULL) return;
    const uint8_t *colon = memchr(m.username, ':', m.username_len);
    size_t ulen = colon != NULL ? (size_t)(colon - m.username) : m.username_len;
    for (size_t i = 0; i < srv->nufrags; i++) {
      if (srv->ufrags[i].len == ulen && memcmp(srv->ufrags[i].ufrag, m.username, ulen) == 0) {
        wt = srv->ufrags[i].wt;
        break;
      }
    }
    if (wt == NULL) return;
    sfu_webrtc_transport_receive(wt, tuple, p, len, cap);
    if (sfu_webrtc_transport_owns_tuple(wt, tuple)) sfu__add_tuple(srv, tuple, wt);
    return;
  }
  if (wt != NULL) sfu_webrtc_transport_receive(wt, tuple, p, len, cap);
}

static void sfu__udp_packet(sfu_udp_socket_t *sock, const uint8_t *p, size_t len, const struct sockaddr *from) {
  sfu_listen_sock_t *s = sock->data;
  sfu_webrtc_server_t *srv = s != NULL ? s->owner : NULL;
  sfu_tuple_t tuple;
  if (srv == NULL || srv->closed) return;
  sfu_udp_socket_tuple(sock, from, &tuple);
  sfu__dispatch(srv, &tuple, (uint8_t *)p, len, sfu_udp_packet_cap(len));
}

static void sfu__tcp_packet(sfu_tcp_conn_t *conn, const uint8_t *p, size_t len) {
  sfu_listen_sock_t *s = conn->server != NULL ? conn->server->data : NULL;
  sfu_webrtc_server_t *srv = s != NULL ? s->owner : NULL;
  sfu_tuple_t tuple;
  uint8_t buf[2048];
  if (srv == NULL || srv->closed || len > sizeof(buf) - 256) return;
  memcpy(buf, p, len);
  sfu_tcp_conn_tuple(conn, &tuple);
  sfu__dispatch(srv, &tuple, buf, len, sizeof(buf));
}

static void sfu__tcp_closed(sfu_tcp_conn_t *conn, sfu_tcp_close_reason_t reason) {
  sfu_listen_sock_t *s = conn->server != NULL ? conn->server->data : NULL;
  sfu_webrtc_server_t *srv = s != NULL ? s->owner : NULL;
  sfu_tuple_t tuple;
  (void)reason;
  if (srv == NULL) return;
  sfu_tcp_conn_tuple(conn, &tuple);
  sfu_webrtc_transport_t *wt = sfu__by_tuple(srv, &tuple);
  (void)sfu_tuple_map_del(&srv->tuples, &tuple);
  if (wt != NULL) sfu_webrtc_transport_tuple_gone(wt, &tuple);
}

/* ---- candidates, dump ---- */

size_t sfu_webrtc_server_candidates(sfu_webrtc_server_t *srv, fb_builder_t *b, bool enable_udp, bool enable_tcp,
                                    bool prefer_udp, bool prefer_tcp, fb_ref_t *out, size_t max) {
  return sfu_listen_sock_candidates(srv->socks, srv->nsocks, b, enable_udp, enable_tcp, prefer_udp, prefer_tcp, out,
                                    max);
}

static void sfu__dump(sfu_webrtc_server_t *srv, sfu_request_t *req) {
  fb_builder_t *b = &srv->ctx->fbb;
  size_t nt = sfu_list_count(&srv->transports);
  size_t cap = srv->nsocks + nt + srv->nufrags + 1;
  fb_ref_t *refs = malloc(cap * sizeof(*refs));
  size_t n;
  sfu_list_t *it;
  if (refs == NULL) {
    sfu_request_fail(req, SFU_ENOMEM, "out of memory");
    return;
  }
  fb_ref_t id = fb_create_string(b, srv->id, srv->id_len);
  n = 0;
  for (size_t i = 0; i < srv->nsocks; i++) {
    if (srv->socks[i].proto != SFU_PROTO_UDP) continue;
    fb_ref_t ip = fb_create_cstring(b, srv->socks[i].ip);
    FBS_WebRtcServer_IpPort_start(b);
    FBS_WebRtcServer_IpPort_add_ip(b, ip);
    FBS_WebRtcServer_IpPort_add_port(b, srv->socks[i].port);
    refs[n++] = FBS_WebRtcServer_IpPort_end(b);
  }
  fb_ref_t udp = fb_create_vec_refs(b, refs, n);
  n = 0;
  for (size_t i = 0; i < srv->nsocks; i++) {
    if (srv->socks[i].proto != SFU_PROTO_TCP) continue;
    fb_ref_t ip = fb_create_cstring(b, srv->socks[i].ip);
    FBS_WebRtcServer_IpPort_start(b);
    FBS_WebRtcServer_IpPort_add_ip(b, ip);
    FBS_WebRtcServer_IpPort_add_port(b, srv->socks[i].port);
    refs[n++] = FBS_WebRtcServer_IpPort_end(b);
  }
  fb_ref_t tcp = fb_create_vec_refs(b, refs, n);
  n = 0;
  sfu_list_foreach(it, &srv->transports) {
    size_t len;
    const char *tid = sfu_webrtc_transport_id(sfu_webrtc_transport_from_server_link(it), &len);
    refs[n++] = fb_create_string(b, tid, len);
  }
  fb_ref_t tids = fb_create_vec_refs(b, refs, n);
  n = 0;
  for (size_t i = 0; i < srv->nufrags; i++) {
    size_t len;
    const char *tid = sfu_webrtc_transport_id(srv->ufrags[i].wt, &len);
    fb_ref_t u = fb_create_string(b, srv->ufrags[i].ufrag, srv->ufrags[i].len);
    fb_ref_t t = fb_create_string(b, tid, len);
    FBS_WebRtcServer_IceUserNameFragment_start(b);
    FBS_WebRtcServer_IceUserNameFragment_add_local_ice_username_fragment(b, u);
    FBS_WebRtcServer_IceUserNameFragment_add_web_rtc_transport_id(b, t);
    refs[n++] = FBS_WebRtcServer_IceUserNameFragment_end(b);
  }
  fb_ref_t ufrags = fb_create_vec_refs(b, refs, n);
  free(refs);
  FBS_WebRtcServer_DumpResponse_start(b);
  FBS_WebRtcServer_DumpResponse_add_id(b, id);
  FBS_WebRtcServer_DumpResponse_add_udp_sockets(b, udp);
  FBS_WebRtcServer_DumpResponse_add_tcp_servers(b, tcp);
  FBS_WebRtcServer_DumpResponse_add_web_rtc_transport_ids(b, tids);
  FBS_WebRtcServer_DumpResponse_add_local_ice_username_fragments(b, ufrags);
  sfu_request_accept_body(req, FBS_Response_Body_WebRtcServer_DumpResponse, FBS_WebRtcServer_DumpResponse_end(b));
}

static void sfu__on_request(sfu_handler_t *h, sfu_request_t *req) {
  sfu_webrtc_server_t *srv = sfu_container_of(h, sfu_webrtc_server_t, handler);
  if (req->method == FBS_Request_Method_WEBRTCSERVER_DUMP)
    sfu__dump(srv, req);
  else
    sfu_request_not_implemented(req);
}

/* ---- lifecycle ---- */

static void sfu__reap(sfu_closing_t *c) {
  sfu_webrtc_server_t *srv = sfu_container_of(c, sfu_webrtc_server_t, closing);
  free(srv->ufrags);
  sfu_tuple_map_free(&srv->tuples);
  free(srv->id);
  free(srv);
}

static void sfu__maybe_done(sfu_webrtc_server_t *srv) {
  if (--srv->pending_closes == 0) sfu_ctx_defer(srv->ctx, &srv->closing, sfu__reap);
}

static void sfu__sock_closed(void *owner) { sfu__maybe_done(owner); }

void sfu_webrtc_server_close(sfu_webrtc_server_t *srv) {
  if (srv->closed) return;
  srv->closed = true;
  sfu_ctx_unregister(srv->ctx, &srv->handler);
  while (!sfu_list_empty(&srv->transports))
    sfu_webrtc_transport_server_closed(sfu_webrtc_transport_from_server_link(srv->transports.next));
  srv->pending_closes = 1;
  for (size_t i = 0; i < srv->nsocks; i++) srv->pending_closes += sfu_listen_sock_close(&srv->socks[i], srv, sfu__sock_closed);
  sfu__maybe_done(srv);
}

int sfu_webrtc_server_create(sfu_ctx_t *ctx, sfu_port_manager_t *ports, fb_table_t req, sfu_webrtc_server_t **out,
                             char *err, size_t err_len) {
  sfu_webrtc_server_t *srv;
  fb_str_t id = FBS_Worker_CreateWebRtcServerRequest_web_rtc_server_id(req);
  fb_vec_t infos = FBS_Worker_CreateWebRtcServerRequest_listen_infos(req);
  int r;

  if (id.len == 0) {
    snprintf(err, err_len, "empty webRtcServerId");
    return SFU_EINVAL;
  }
  if (infos.len == 0) {
    snprintf(err, err_len, "empty listenInfos");
    return SFU_EINVAL;
  }
  if (infos.len > SFU_WRS_MAX_SOCKS) {
    snprintf(err, err_len, "too many listenInfos");
    return SFU_EINVAL;
  }
  if ((srv = calloc(1, sizeof(*srv))) == NULL) return SFU_ENOMEM;
  srv->ctx = ctx;
  sfu_list_init(&srv->transports);
  sfu_list_init(&srv->worker_link);
  sfu_tuple_map_init(&srv->tuples);
  if ((srv->id = sfu_strdup_fb(id)) == NULL) {
    free(srv);
    return SFU_ENOMEM;
  }
  srv->id_len = id.len;
  for (uint32_t i = 0; i < infos.len; i++) {
    sfu_listen_info_t li;
    const sfu_tcp_server_cbs_t cbs = {.on_connection = NULL, .on_packet = sfu__tcp_packet, .on_closed = sfu__tcp_closed};
    if ((r = sfu_listen_info_from_fbs(&li, fb_vec_table(infos, i), err, err_len)) != 0) goto fail;
    if ((r = sfu_listen_sock_open(&srv->socks[srv->nsocks], srv->ctx->loop, ports, &li, sfu__udp_packet,
                                  &cbs, srv, err, err_len)) != 0)
      goto fail;
    srv->nsocks++;
  }
  srv->handler.on_request = sfu__on_request;
  if ((r = sfu_ctx_register(srv->ctx, &srv->handler, srv->id, srv->id_len)) != 0) {
    snprintf(err, err_len, "a WebRtcServer with same webRtcServerId already exists");
    goto fail;
  }
  *out = srv;
  return 0;

fail:
  srv->closed = false;
  srv->handler.registered = false;
  sfu_webrtc_server_close(srv);
  return r;
}
