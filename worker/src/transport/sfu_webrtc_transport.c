#include "sfu_webrtc_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_dtls.h"
#include "sfu_error.h"
#include "sfu_ice_server.h"
#include "sfu_listen_info_fbs.h"
#include "sfu_listen_sock.h"
#include "sfu_rtcp.h"
#include "sfu_rtp_packet.h"
#include "sfu_sockaddr.h"
#include "sfu_srtp.h"
#include "sfu_stun.h"
#include "sfu_tcp_conn.h"
#include "sfu_tcp_server.h"
#include "sfu_udp_socket.h"
#include "sfu_webrtc_server.h"

#define SFU_WRT_MAX_SOCKS 16

struct sfu_webrtc_transport {
  sfu_transport_t base;
  sfu_webrtc_server_t *server; /* NULL: own sockets */
  sfu_list_t server_link;
  sfu_listen_sock_t socks[SFU_WRT_MAX_SOCKS];
  size_t nsocks;
  sfu_ice_server_t *ice;
  sfu_dtls_t *dtls;
  sfu_srtp_t *srtp_in, *srtp_out;
  sfu_dtls_role_t dtls_role; /* AUTO until connect() */
  bool enable_udp, enable_tcp, prefer_udp, prefer_tcp;
  bool connect_called;
  int pending_closes;
  bool releasing;
};

#define WT(t) ((sfu_webrtc_transport_t *)(t))

static const uint8_t sfu__fp_fbs[SFU_FP_COUNT] = {
    FBS_WebRtcTransport_FingerprintAlgorithm_SHA1, FBS_WebRtcTransport_FingerprintAlgorithm_SHA224,
    FBS_WebRtcTransport_FingerprintAlgorithm_SHA256, FBS_WebRtcTransport_FingerprintAlgorithm_SHA384,
    FBS_WebRtcTransport_FingerprintAlgorithm_SHA512};

static uint8_t sfu__dtls_role_fbs(sfu_dtls_role_t r) {
  return r == SFU_DTLS_ROLE_CLIENT ? FBS_WebRtcTransport_DtlsRole_CLIENT
         : r == SFU_DTLS_ROLE_SERVER ? FBS_WebRtcTransport_DtlsRole_SERVER
                                     : FBS_WebRtcTransport_DtlsRole_AUTO;
}

static bool sfu__connected(const sfu_transport_t *t) {
  const sfu_webrtc_transport_t *wt = (const sfu_webrtc_transport_t *)t;
  if (wt->ice == NULL || wt->dtls == NULL || wt->srtp_out == NULL) return false;
  sfu_ice_state_t s = sfu_ice_server_state(wt->ice);
  return (s == SFU_ICE_CONNECTED || s == SFU_ICE_COMPLETED) && wt->dtls->state == SFU_DTLS_CONNECTED;
}

/* ---- sending ---- */

static void sfu__send_tuple(sfu_webrtc_transport_t *wt, const sfu_tuple_t *tuple, const uint8_t *p, size_t len) {
  if (tuple->proto == SFU_PROTO_UDP)
    (void)sfu_udp_socket_send(tuple->sock, p, len, (const struct sockaddr *)&tuple->remote);
  else
    (void)sfu_tcp_conn_send(tuple->sock, p, len);
  sfu_transport_account_sent(&wt->base, len, false);
}

static void sfu__send_selected(sfu_webrtc_transport_t *wt, const uint8_t *p, size_t len) {
  const sfu_tuple_t *tuple = wt->ice != NULL ? sfu_ice_server_selected_tuple(wt->ice) : NULL;
  if (tuple != NULL) sfu__send_tuple(wt, tuple, p, len);
}

static void sfu__send_rtp(sfu_transport_t *t, uint8_t *buf, size_t len, size_t cap) {
  sfu_webrtc_transport_t *wt = WT(t);
  if (!sfu__connected(t)) return;
  if (sfu_srtp_protect_rtp(wt->srtp_out, buf, &len, cap) != 0) return;
  sfu__send_selected(wt, buf, len);
  t->stats.rtp_bytes_sent += len;
  sfu_rate_add(&t->stats.rtp_send_rate, sfu_now_ms(t), len);
}

static void sfu__send_rtcp(sfu_transport_t *t, uint8_t *buf, size_t len, size_t cap) {
  sfu_webrtc_transport_t *wt = WT(t);
  if (!sfu__connected(t)) return;
  if (sfu_srtp_protect_rtcp(wt->srtp_out, buf, &len, cap) != 0) return;
  sfu__send_selected(wt, buf, len);
}

/* ---- notifications ---- */

static fb_ref_t sfu__build_tuple(sfu_webrtc_transport_t *wt, fb_builder_t *b, const sfu_tuple_t *tuple) {
  char lip[INET6_ADDRSTRLEN] = "";
  uint16_t lport = 0;
  const struct sockaddr *local = tuple->proto == SFU_PROTO_UDP ? sfu_udp_socket_local_addr(tuple->sock)
                                                               : sfu_tcp_conn_local_addr(tuple->sock);
  sfu_sockaddr_to_str(local, lip, &lport);
  const char *addr = lip;
  for (size_t i = 0; i < wt->nsocks; i++) {
    /* The announced address of the listen info the socket belongs to. */
    if ((wt->socks[i].udp != NULL && wt->socks[i].udp == tuple->sock) ||
        (wt->socks[i].tcp != NULL && tuple->proto == SFU_PROTO_TCP &&
         ((sfu_tcp_conn_t *)tuple->sock)->server == wt->socks[i].tcp))
      addr = wt->socks[i].address;
  }
  return sfu_tuple_build(b, addr, lport, (const struct sockaddr *)&tuple->remote, tuple->proto);
}

static void sfu__ice_send(sfu_ice_server_t *srv, const sfu_tuple_t *tuple, const uint8_t *p, size_t len) {
  sfu__send_tuple(srv->data, tuple, p, len);
}

static void sfu__ice_tuple_added(sfu_ice_server_t *srv, const sfu_tuple_t *tuple) { (void)srv, (void)tuple; }

static void sfu__ice_tuple_removed(sfu_ice_server_t *srv, const sfu_tuple_t *tuple) {
  if (tuple->proto == SFU_PROTO_TCP) sfu_tcp_conn_close(tuple->sock, NULL);
  (void)srv;
}

static void sfu__ice_selected(sfu_ice_server_t *srv, const sfu_tuple_t *tuple) {
  sfu_webrtc_transport_t *wt = srv->data;
  fb_builder_t *b = &wt->base.ctx->fbb;
  fb_ref_t tr = sfu__build_tuple(wt, b, tuple);
  FBS_WebRtcTransport_IceSelectedTupleChangeNotification_start(b);
  FBS_WebRtcTransport_IceSelectedTupleChangeNotification_add_tuple(b, tr);
  fb_ref_t body = FBS_WebRtcTransport_IceSelectedTupleChangeNotification_end(b);
  sfu_ctx_notify(wt->base.ctx, wt->base.id, FBS_Notification_Event_WEBRTCTRANSPORT_ICE_SELECTED_TUPLE_CHANGE,
                 FBS_Notification_Body_WebRtcTransport_IceSelectedTupleChangeNotification, body);
}

static void sfu__maybe_run_dtls(sfu_webrtc_transport_t *wt) {
  if (!wt->connect_called || wt->dtls == NULL || wt->dtls->state != SFU_DTLS_NEW) return;
  sfu_ice_state_t s = sfu_ice_server_state(wt->ice);
  if (s != SFU_ICE_CONNECTED && s != SFU_ICE_COMPLETED) return;
  (void)sfu_dtls_run(wt->dtls, wt->dtls_role);
}

static void sfu__ice_state(sfu_ice_server_t *srv, sfu_ice_state_t state) {
  sfu_webrtc_transport_t *wt = srv->data;
  fb_builder_t *b = &wt->base.ctx->fbb;
  FBS_WebRtcTransport_IceStateChangeNotification_start(b);
  FBS_WebRtcTransport_IceStateChangeNotification_add_ice_state(b, (uint8_t)state);
  fb_ref_t body = FBS_WebRtcTransport_IceStateChangeNotification_end(b);
  sfu_ctx_notify(wt->base.ctx, wt->base.id, FBS_Notification_Event_WEBRTCTRANSPORT_ICE_STATE_CHANGE,
                 FBS_Notification_Body_WebRtcTransport_IceStateChangeNotification, body);
  if (state == SFU_ICE_CONNECTED || state == SFU_ICE_COMPLETED) {
    sfu__maybe_run_dtls(wt);
    if (sfu__connected(&wt->base)) sfu_transport_on_connected(&wt->base);
  } else if (state == SFU_ICE_DISCONNECTED) {
    sfu_transport_on_disconnected(&wt->base);
  }
}

static void sfu__ice_ufrag_added(sfu_ice_server_t *srv, const char *ufrag, size_t len) {
  sfu_webrtc_transport_t *wt = srv->data;
  if (wt != NULL && wt->server != NULL) sfu_webrtc_server_add_ufrag(wt->server, wt, ufrag, len);
}

static void sfu__ice_ufrag_removed(sfu_ice_server_t *srv, const char *ufrag, size_t len) {
  sfu_webrtc_transport_t *wt = srv->data;
  if (wt != NULL && wt->server != NULL) sfu_webrtc_server_remove_ufrag(wt->server, wt, ufrag, len);
}

static void sfu__dtls_send(sfu_dtls_t *d, const uint8_t *p, size_t len) { sfu__send_selected(d->data, p, len); }

static void sfu__dtls_state(sfu_dtls_t *d, sfu_dtls_state_t state) {
  sfu_webrtc_transport_t *wt = d->data;
  fb_builder_t *b = &wt->base.ctx->fbb;
  const char *cert = state == SFU_DTLS_CONNECTED ? sfu_dtls_remote_cert(d) : NULL;
  fb_ref_t cref = cert != NULL ? fb_create_cstring(b, cert) : 0;
  FBS_WebRtcTransport_DtlsStateChangeNotification_start(b);
  FBS_WebRtcTransport_DtlsStateChangeNotification_add_dtls_state(b, (uint8_t)state);
  FBS_WebRtcTransport_DtlsStateChangeNotification_add_remote_cert(b, cref);
  fb_ref_t body = FBS_WebRtcTransport_DtlsStateChangeNotification_end(b);
  sfu_ctx_notify(wt->base.ctx, wt->base.id, FBS_Notification_Event_WEBRTCTRANSPORT_DTLS_STATE_CHANGE,
                 FBS_Notification_Body_WebRtcTransport_DtlsStateChangeNotification, body);
  if (state == SFU_DTLS_CONNECTED && sfu__connected(&wt->base))
    sfu_transport_on_connected(&wt->base);
  else if (state == SFU_DTLS_FAILED || state == SFU_DTLS_CLOSED)
    sfu_transport_on_disconnected(&wt->base);
}

static void sfu__dtls_keys(sfu_dtls_t *d, sfu_srtp_suite_t suite, const uint8_t *lk, size_t ll, const uint8_t *rk,
                           size_t rl) {
  sfu_webrtc_transport_t *wt = d->data;
  if (wt->srtp_out != NULL) sfu_srtp_destroy(wt->srtp_out);
  if (wt->srtp_in != NULL) sfu_srtp_destroy(wt->srtp_in);
  wt->srtp_out = wt->srtp_in = NULL;
  if (sfu_srtp_create(&wt->srtp_out, SFU_SRTP_OUTBOUND, suite, lk, ll) != 0 ||
      sfu_srtp_create(&wt->srtp_in, SFU_SRTP_INBOUND, suite, rk, rl) != 0)
    SFU_ERROR(&wt->base.ctx->log, "cannot create SRTP sessions [transport:%s]", wt->base.id);
}

static void sfu__dtls_app_data(sfu_dtls_t *d, const uint8_t *p, size_t len) {
  sfu_webrtc_transport_t *wt = d->data;
  if (wt != NULL && !wt->base.closed) sfu_transport_receive_sctp(&wt->base, p, len);
}

static void sfu__send_sctp(sfu_transport_t *t, const uint8_t *buf, size_t len) {
  sfu_webrtc_transport_t *wt = WT(t);
  if (wt->dtls == NULL || wt->dtls->state != SFU_DTLS_CONNECTED) return;
  (void)sfu_dtls_send_app_data(wt->dtls, buf, len);
}

/* ---- receiving (RFC 7983 demultiplexing) ---- */

void sfu_webrtc_transport_receive(sfu_webrtc_transport_t *wt, const sfu_tuple_t *tuple, uint8_t *p, size_t len,
                                  size_t cap) {
  if (wt->base.closed || wt->ice == NULL) return;
  if (sfu_stun_is_stun(p, len)) {
    (void)sfu_ice_server_process(wt->ice, tuple, p, len);
    return;
  }
  if (!sfu_ice_server_is_valid_tuple(wt->ice, tuple)) {
    wt->base.stats.bytes_received += len;
    return;
  }
  if (sfu_rtcp_is_rtcp(p, len)) {
    if (wt->srtp_in == NULL || wt->dtls->state != SFU_DTLS_CONNECTED) return;
    sfu_ice_server_may_force_selected_tuple(wt->ice, tuple);
    if (sfu_srtp_unprotect_rtcp(wt->srtp_in, p, &len) != 0) return;
    sfu_transport_receive_rtcp(&wt->base, p, len);
  } else if (sfu_rtp_is_rtp(p, len)) {
    if (wt->srtp_in == NULL || wt->dtls->state != SFU_DTLS_CONNECTED) return;
    sfu_ice_server_may_force_selected_tuple(wt->ice, tuple);
    if (sfu_srtp_unprotect_rtp(wt->srtp_in, p, &len) != 0) return;
    sfu_transport_receive_rtp(&wt->base, p, len, cap);
  } else if (sfu_dtls_is_dtls(p, len)) {
    sfu_ice_server_may_force_selected_tuple(wt->ice, tuple);
    wt->base.stats.bytes_received += len;
    (void)sfu_dtls_process(wt->dtls, p, len);
  } else {
    wt->base.stats.bytes_received += len;
  }
}

static void sfu__udp_packet(sfu_udp_socket_t *sock, const uint8_t *p, size_t len, const struct sockaddr *from) {
  sfu_listen_sock_t *s = sock->data;
  sfu_webrtc_transport_t *wt = s != NULL ? s->owner : NULL;
  sfu_tuple_t tuple;
  if (wt == NULL) return;
  sfu_udp_socket_tuple(sock, from, &tuple);
  /* The receive buffer is the port manager's scratch: mutable, 64 KiB per datagram. */
  sfu_webrtc_transport_receive(wt, &tuple, (uint8_t *)p, len, sfu_udp_packet_cap(len));
}

static void sfu__tcp_packet(sfu_tcp_conn_t *conn, const uint8_t *p, size_t len) {
  sfu_listen_sock_t *s = conn->server != NULL ? conn->server->data : NULL;
  sfu_webrtc_transport_t *wt = s != NULL ? s->owner : NULL;
  sfu_tuple_t tuple;
  uint8_t buf[SFU_SEND_BUF];
  if (wt == NULL || len > sizeof(buf)) return;
  memcpy(buf, p, len);
  sfu_tcp_conn_tuple(conn, &tuple);
  sfu_webrtc_transport_receive(wt, &tuple, buf, len, sizeof(buf));
}

static void sfu__tcp_closed(sfu_tcp_conn_t *conn, sfu_tcp_close_reason_t reason) {
  sfu_listen_sock_t *s = conn->server != NULL ? conn->server->data : NULL;
  sfu_webrtc_transport_t *wt = s != NULL ? s->owner : NULL;
  sfu_tuple_t tuple;
  (void)reason;
  if (wt == NULL || wt->ice == NULL) return;
  sfu_tcp_conn_tuple(conn, &tuple);
  sfu_ice_server_remove_tuple(wt->ice, &tuple);
}

bool sfu_webrtc_transport_owns_tuple(sfu_webrtc_transport_t *wt, const sfu_tuple_t *tuple) {
  return wt->ice != NULL && sfu_ice_server_is_valid_tuple(wt->ice, tuple);
}

const char *sfu_webrtc_transport_id(const sfu_webrtc_transport_t *wt, size_t *len) {
  *len = wt->base.id_len;
  return wt->base.id;
}

sfu_list_t *sfu_webrtc_transport_server_link(sfu_webrtc_transport_t *wt) { return &wt->server_link; }

sfu_webrtc_transport_t *sfu_webrtc_transport_from_server_link(sfu_list_t *link) {
  return sfu_container_of(link, sfu_webrtc_transport_t, server_link);
}

void sfu_webrtc_transport_tuple_gone(sfu_webrtc_transport_t *wt, const sfu_tuple_t *tuple) {
  if (wt->ice != NULL) sfu_ice_server_remove_tuple(wt->ice, tuple);
}

/* ---- requests ---- */

static fb_ref_t sfu__build_ice_params(sfu_webrtc_transport_t *wt, fb_builder_t *b) {
  fb_ref_t ufrag = fb_create_cstring(b, sfu_ice_server_ufrag(wt->ice));
  fb_ref_t pwd = fb_create_cstring(b, sfu_ice_server_pwd(wt->ice));
  FBS_WebRtcTransport_IceParameters_start(b);
  FBS_WebRtcTransport_IceParameters_add_username_fragment(b, ufrag);
  FBS_WebRtcTransport_IceParameters_add_password(b, pwd);
  FBS_WebRtcTransport_IceParameters_add_ice_lite(b, true);
  return FBS_WebRtcTransport_IceParameters_end(b);
}

static fb_ref_t sfu__build_candidates(sfu_webrtc_transport_t *wt, fb_builder_t *b) {
  fb_ref_t refs[SFU_WRT_MAX_SOCKS * 2 + 2];
  size_t n = 0;
  if (wt->server != NULL) {
    n = sfu_webrtc_server_candidates(wt->server, b, wt->enable_udp, wt->enable_tcp, wt->prefer_udp, wt->prefer_tcp, refs,
                                     SFU_WRT_MAX_SOCKS * 2);
    return fb_create_vec_refs(b, refs, n);
  }
  /* Priorities follow the listenInfos order (Node already ordered them by
   * preferUdp/preferTcp when it converted listenIps). */
  n = sfu_listen_sock_candidates(wt->socks, wt->nsocks, b, true, true, false, false, refs, SFU_WRT_MAX_SOCKS * 2);
  return fb_create_vec_refs(b, refs, n);
}

static fb_ref_t sfu__build_dtls_params(sfu_webrtc_transport_t *wt, fb_builder_t *b) {
  const sfu_cert_t *cert = wt->base.env->cert;
  fb_ref_t fps[SFU_FP_COUNT];
  for (int i = 0; i < SFU_FP_COUNT; i++) {
    fb_ref_t v = fb_create_cstring(b, cert->fingerprints[i]);
    FBS_WebRtcTransport_Fingerprint_start(b);
    FBS_WebRtcTransport_Fingerprint_add_algorithm(b, sfu__fp_fbs[i]);
    FBS_WebRtcTransport_Fingerprint_add_value(b, v);
    fps[i] = FBS_WebRtcTransport_Fingerprint_end(b);
  }
  fb_ref_t v = fb_create_vec_refs(b, fps, SFU_FP_COUNT);
  FBS_WebRtcTransport_DtlsParameters_start(b);
  FBS_WebRtcTransport_DtlsParameters_add_fingerprints(b, v);
  FBS_WebRtcTransport_DtlsParameters_add_role(b, sfu__dtls_role_fbs(wt->dtls_role));
  return FBS_WebRtcTransport_DtlsParameters_end(b);
}

static fb_ref_t sfu__dump(sfu_transport_t *t, fb_builder_t *b, uint8_t *body_type) {
  sfu_webrtc_transport_t *wt = WT(t);
  fb_ref_t base = sfu_transport_dump_base(t, b);
  fb_ref_t ice = sfu__build_ice_params(wt, b);
  fb_ref_t cands = sfu__build_candidates(wt, b);
  const sfu_tuple_t *sel = sfu_ice_server_selected_tuple(wt->ice);
  fb_ref_t tuple = sel != NULL ? sfu__build_tuple(wt, b, sel) : 0;
  fb_ref_t dtls = sfu__build_dtls_params(wt, b);
  FBS_WebRtcTransport_DumpResponse_start(b);
  FBS_WebRtcTransport_DumpResponse_add_base(b, base);
  FBS_WebRtcTransport_DumpResponse_add_ice_role(b, FBS_WebRtcTransport_IceRole_CONTROLLED);
  FBS_WebRtcTransport_DumpResponse_add_ice_parameters(b, ice);
  FBS_WebRtcTransport_DumpResponse_add_ice_candidates(b, cands);
  FBS_WebRtcTransport_DumpResponse_add_ice_state(b, (uint8_t)sfu_ice_server_state(wt->ice));
  FBS_WebRtcTransport_DumpResponse_add_ice_selected_tuple(b, tuple);
  FBS_WebRtcTransport_DumpResponse_add_dtls_parameters(b, dtls);
  FBS_WebRtcTransport_DumpResponse_add_dtls_state(b, (uint8_t)wt->dtls->state);
  *body_type = FBS_Response_Body_WebRtcTransport_DumpResponse;
  return FBS_WebRtcTransport_DumpResponse_end(b);
}

static void sfu__get_stats(sfu_webrtc_transport_t *wt, sfu_request_t *req) {
  fb_builder_t *b = &wt->base.ctx->fbb;
  fb_ref_t base = sfu_transport_stats_base(&wt->base, b);
  const sfu_tuple_t *sel = sfu_ice_server_selected_tuple(wt->ice);
  fb_ref_t tuple = sel != NULL ? sfu__build_tuple(wt, b, sel) : 0;
  FBS_WebRtcTransport_GetStatsResponse_start(b);
  FBS_WebRtcTransport_GetStatsResponse_add_base(b, base);
  FBS_WebRtcTransport_GetStatsResponse_add_ice_role(b, FBS_WebRtcTransport_IceRole_CONTROLLED);
  FBS_WebRtcTransport_GetStatsResponse_add_ice_state(b, (uint8_t)sfu_ice_server_state(wt->ice));
  FBS_WebRtcTransport_GetStatsResponse_add_ice_selected_tuple(b, tuple);
  FBS_WebRtcTransport_GetStatsResponse_add_dtls_state(b, (uint8_t)wt->dtls->state);
  sfu_request_accept_body(req, FBS_Response_Body_WebRtcTransport_GetStatsResponse,
                          FBS_WebRtcTransport_GetStatsResponse_end(b));
}

static void sfu__connect(sfu_webrtc_transport_t *wt, sfu_request_t *req) {
  fb_table_t body;
  if (!sfu_request_body(req, FBS_Request_Body_WebRtcTransport_ConnectRequest, &body)) return;
  if (wt->connect_called) {
    sfu_request_fail(req, SFU_ESTATE, "connect() already called");
    return;
  }
  fb_table_t dp = FBS_WebRtcTransport_ConnectRequest_dtls_parameters(body);
  fb_vec_t fps = FBS_WebRtcTransport_DtlsParameters_fingerprints(dp);
  int alg = -1;
  fb_str_t value = {NULL, 0};
  for (uint32_t i = 0; i < fps.len && alg < 0; i++) {
    fb_table_t fp = fb_vec_table(fps, i);
    uint8_t a = FBS_WebRtcTransport_Fingerprint_algorithm(fp);
    for (int k = 0; k < SFU_FP_COUNT; k++)
      if (sfu__fp_fbs[k] == a) {
        alg = k;
        value = FBS_WebRtcTransport_Fingerprint_value(fp);
      }
  }
  if (alg < 0) {
    sfu_request_fail(req, SFU_EINVAL, "no valid DTLS fingerprint given");
    return;
  }
  if (sfu_dtls_set_remote_fingerprint(wt->dtls, (sfu_fingerprint_alg_t)alg, value.ptr) != 0) {
    sfu_request_fail(req, SFU_EINVAL, "invalid DTLS fingerprint");
    return;
  }
  uint8_t remote = FBS_WebRtcTransport_DtlsParameters_role(dp);
  sfu_dtls_role_t rrole = remote == FBS_WebRtcTransport_DtlsRole_CLIENT   ? SFU_DTLS_ROLE_CLIENT
                          : remote == FBS_WebRtcTransport_DtlsRole_SERVER ? SFU_DTLS_ROLE_SERVER
                                                                          : SFU_DTLS_ROLE_AUTO;
  wt->dtls_role = sfu_dtls_role_for_remote(rrole);
  wt->connect_called = true;
  fb_builder_t *b = &wt->base.ctx->fbb;
  FBS_WebRtcTransport_ConnectResponse_start(b);
  FBS_WebRtcTransport_ConnectResponse_add_dtls_local_role(b, sfu__dtls_role_fbs(wt->dtls_role));
  sfu_request_accept_body(req, FBS_Response_Body_WebRtcTransport_ConnectResponse,
                          FBS_WebRtcTransport_ConnectResponse_end(b));
  sfu__maybe_run_dtls(wt);
}

static bool sfu__on_request(sfu_transport_t *t, sfu_request_t *req) {
  sfu_webrtc_transport_t *wt = WT(t);
  switch (req->method) {
    case FBS_Request_Method_TRANSPORT_GET_STATS:
      sfu__get_stats(wt, req);
      return true;
    case FBS_Request_Method_WEBRTCTRANSPORT_CONNECT:
      sfu__connect(wt, req);
      return true;
    case FBS_Request_Method_TRANSPORT_RESTART_ICE: {
      if (sfu_ice_server_restart(wt->ice, NULL, 0, NULL, 0) != 0) {
        sfu_request_fail(req, SFU_ESTATE, "ICE restart failed");
        return true;
      }
      fb_builder_t *b = &t->ctx->fbb;
      fb_ref_t ufrag = fb_create_cstring(b, sfu_ice_server_ufrag(wt->ice));
      fb_ref_t pwd = fb_create_cstring(b, sfu_ice_server_pwd(wt->ice));
      FBS_Transport_RestartIceResponse_start(b);
      FBS_Transport_RestartIceResponse_add_username_fragment(b, ufrag);
      FBS_Transport_RestartIceResponse_add_password(b, pwd);
      FBS_Transport_RestartIceResponse_add_ice_lite(b, true);
      sfu_request_accept_body(req, FBS_Response_Body_Transport_RestartIceResponse, FBS_Transport_RestartIceResponse_end(b));
      return true;
    }
    default:
      return false;
  }
}

/* ---- lifecycle ---- */

static void sfu__maybe_released(sfu_webrtc_transport_t *wt) {
  if (wt->releasing && wt->pending_closes == 0) {
    wt->releasing = false;
    sfu_transport_released(&wt->base);
  }
}

static void sfu__sock_closed(void *owner) {
  sfu_webrtc_transport_t *wt = owner;
  wt->pending_closes--;
  sfu__maybe_released(wt);
}

static void sfu__ice_closed(sfu_ice_server_t *srv) {
  sfu_webrtc_transport_t *wt = srv->data;
  wt->pending_closes--;
  sfu__maybe_released(wt);
}

static void sfu__dtls_closed(sfu_dtls_t *d) {
  sfu_webrtc_transport_t *wt = d->data;
  wt->pending_closes--;
  sfu__maybe_released(wt);
}

static void sfu__close(sfu_transport_t *t) {
  sfu_webrtc_transport_t *wt = WT(t);
  wt->releasing = true;
  wt->pending_closes++; /* guard */
  if (wt->server != NULL) {
    sfu_webrtc_server_remove_transport(wt->server, wt);
    wt->server = NULL;
  }
  if (wt->dtls != NULL) {
    wt->pending_closes++;
    sfu_dtls_close(wt->dtls, sfu__dtls_closed);
  }
  if (wt->ice != NULL) {
    wt->pending_closes++;
    sfu_ice_server_close(wt->ice, sfu__ice_closed);
  }
  for (size_t i = 0; i < wt->nsocks; i++) wt->pending_closes += sfu_listen_sock_close(&wt->socks[i], wt, sfu__sock_closed);
  wt->pending_closes--;
  sfu__maybe_released(wt);
}

static void sfu__destroy(sfu_transport_t *t) {
  sfu_webrtc_transport_t *wt = WT(t);
  if (wt->srtp_in != NULL) sfu_srtp_destroy(wt->srtp_in);
  if (wt->srtp_out != NULL) sfu_srtp_destroy(wt->srtp_out);
  free(wt);
}

void sfu_webrtc_transport_server_closed(sfu_webrtc_transport_t *wt) {
  if (wt->server != NULL) sfu_webrtc_server_remove_transport(wt->server, wt);
  wt->server = NULL;
  /* The router unlinks and closes it; Node learns it from its WebRtcServer's close. */
  wt->base.listener->on_listen_server_closed(wt->base.listener_arg, &wt->base);
}

static const sfu_transport_ops_t sfu__ops = {
    .name = "WebRtcTransport",
    .send_rtp = sfu__send_rtp,
    .send_rtcp = sfu__send_rtcp,
    .send_sctp = sfu__send_sctp,
    .connected = sfu__connected,
    .on_request = sfu__on_request,
    .dump = sfu__dump,
    .close = sfu__close,
    .destroy = sfu__destroy,
};

static int sfu__open_socks(sfu_webrtc_transport_t *wt, fb_table_t opts, fb_vec_t infos, char *err, size_t err_len) {
  /* With individual listenInfos every entry is used (enableUdp/enableTcp only
   * shape listenIps on the Node side, and WebRtcServer candidates). */
  int r;

  if (infos.len == 0) {
    snprintf(err, err_len, "empty listenInfos");
    return SFU_EINVAL;
  }
  for (uint32_t i = 0; i < infos.len; i++) {
    sfu_listen_info_t li;
    if ((r = sfu_listen_info_from_fbs(&li, fb_vec_table(infos, i), err, err_len)) != 0) return r;
    if (wt->nsocks == SFU_WRT_MAX_SOCKS) {
      snprintf(err, err_len, "too many listenInfos");
      return SFU_EINVAL;
    }
    const sfu_tcp_server_cbs_t cbs = {.on_connection = NULL, .on_packet = sfu__tcp_packet, .on_closed = sfu__tcp_closed};
    if ((r = sfu_listen_sock_open(&wt->socks[wt->nsocks], wt->base.ctx->loop, wt->base.env->ports, &li,
                                  sfu__udp_packet, &cbs, wt, err, err_len)) != 0)
      return r;
    wt->nsocks++;
  }
  if (wt->nsocks == 0) {
    snprintf(err, err_len, "no UDP or TCP listenInfo enabled");
    return SFU_EINVAL;
  }
  return 0;
}

int sfu_webrtc_transport_create(const sfu_transport_parent_t *parent, const char *id, size_t id_len, fb_table_t opts,
                                bool with_server, sfu_transport_t **out, char *err, size_t err_len) {
  sfu_webrtc_transport_t *wt;
  sfu_ctx_t *ctx = parent->ctx;
  int r;

  if ((wt = calloc(1, sizeof(*wt))) == NULL) return SFU_ENOMEM;
  sfu_list_init(&wt->server_link);
  if ((r = sfu_transport_init(&wt->base, parent, &sfu__ops, id, id_len,
                              FBS_WebRtcTransport_WebRtcTransportOptions_base(opts))) != 0) {
    free(wt);
    snprintf(err, err_len, "cannot create transport: %s", sfu_strerror(r));
    return r;
  }

  wt->enable_udp = FBS_WebRtcTransport_WebRtcTransportOptions_enable_udp(opts);
  wt->enable_tcp = FBS_WebRtcTransport_WebRtcTransportOptions_enable_tcp(opts);
  wt->prefer_udp = FBS_WebRtcTransport_WebRtcTransportOptions_prefer_udp(opts);
  wt->prefer_tcp = FBS_WebRtcTransport_WebRtcTransportOptions_prefer_tcp(opts);
  uint8_t ltype = FBS_WebRtcTransport_WebRtcTransportOptions_listen_type(opts);
  fb_table_t listen = FBS_WebRtcTransport_WebRtcTransportOptions_listen(opts);
  if (with_server != (ltype == FBS_WebRtcTransport_Listen_ListenServer)) {
    snprintf(err, err_len, "wrong listen options for this request");
    r = SFU_EINVAL;
    goto fail;
  }
  if (with_server) {
    fb_str_t sid = FBS_WebRtcTransport_ListenServer_web_rtc_server_id(listen);
    wt->server = parent->env->find_webrtc_server(parent->env->arg, sid.ptr, sid.len);
    if (wt->server == NULL) {
      snprintf(err, err_len, "WebRtcServer not found");
      r = SFU_ENOTFOUND;
      goto fail;
    }
  } else if ((r = sfu__open_socks(wt, opts, FBS_WebRtcTransport_ListenIndividual_listen_infos(listen), err, err_len)) !=
             0) {
    goto fail;
  }

  sfu_ice_server_options_t io;
  memset(&io, 0, sizeof(io));
  io.consent_timeout_sec = FBS_WebRtcTransport_WebRtcTransportOptions_ice_consent_timeout(opts);
  sfu_ice_server_callbacks_t icb = {.send = sfu__ice_send,
                                    .on_tuple_added = sfu__ice_tuple_added,
                                    .on_tuple_removed = sfu__ice_tuple_removed,
                                    .on_selected_tuple = sfu__ice_selected,
                                    .on_state = sfu__ice_state,
                                    .on_ufrag_added = sfu__ice_ufrag_added,
                                    .on_ufrag_removed = sfu__ice_ufrag_removed};
  if (wt->server != NULL) sfu_webrtc_server_add_transport(wt->server, wt);
  if ((r = sfu_ice_server_create(ctx, &io, &icb, wt, &wt->ice)) != 0) {
    snprintf(err, err_len, "cannot create the ICE server: %s", sfu_strerror(r));
    goto fail;
  }
  sfu_dtls_callbacks_t dcb = {
      .send = sfu__dtls_send, .on_state = sfu__dtls_state, .on_srtp_keys = sfu__dtls_keys, .on_app_data = sfu__dtls_app_data};
  if ((r = sfu_dtls_create(parent->env->dtls_ctx, &dcb, wt, &wt->dtls)) != 0) {
    snprintf(err, err_len, "cannot create the DTLS transport: %s", sfu_strerror(r));
    goto fail;
  }
  *out = &wt->base;
  return 0;

fail:
  /* Unwinds through the normal close path (sockets close asynchronously). */
  sfu_transport_close(&wt->base);
  return r;
}
