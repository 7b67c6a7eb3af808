#include "sfu_plain_transport.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_error.h"
#include "sfu_listen_info_fbs.h"
#include "sfu_rtcp.h"
#include "sfu_rtp_packet.h"
#include "sfu_sctp_assoc.h"
#include "sfu_sockaddr.h"
#include "sfu_srtp.h"
#include "sfu_udp_socket.h"

typedef struct sfu_plain_transport {
  sfu_transport_t base;
  sfu_udp_socket_t *rtp_sock;
  sfu_udp_socket_t *rtcp_sock; /* NULL with rtcpMux */
  char rtp_address[SFU_LISTEN_INFO_ANNOUNCED_MAX], rtcp_address[SFU_LISTEN_INFO_ANNOUNCED_MAX];
  bool rtcp_mux, comedia;
  bool has_tuple, has_rtcp_tuple;
  struct sockaddr_storage remote, rtcp_remote;
  bool connect_called;
  /* SRTP */
  bool enable_srtp;
  sfu_srtp_suite_t suite;
  uint8_t local_key[64];
  size_t key_len;
  char local_key_b64[96];
  sfu_srtp_t *srtp_in, *srtp_out;
  int pending_closes;
} sfu_plain_transport_t;

#define PT(t) ((sfu_plain_transport_t *)(t))

static bool sfu__connected(const sfu_transport_t *t) {
  const sfu_plain_transport_t *pt = (const sfu_plain_transport_t *)t;
  if (!pt->has_tuple) return false;
  if (pt->enable_srtp && pt->srtp_out == NULL) return false;
  return true;
}

static void sfu__send(sfu_plain_transport_t *pt, const uint8_t *p, size_t len, bool rtcp) {
  if (rtcp && !pt->rtcp_mux) {
    if (pt->has_rtcp_tuple) (void)sfu_udp_socket_send(pt->rtcp_sock, p, len, (const struct sockaddr *)&pt->rtcp_remote);
  } else {
    (void)sfu_udp_socket_send(pt->rtp_sock, p, len, (const struct sockaddr *)&pt->remote);
  }
  sfu_transport_account_sent(&pt->base, len, false);
}

static void sfu__send_rtp(sfu_transport_t *t, uint8_t *buf, size_t len, size_t cap) {
  sfu_plain_transport_t *pt = PT(t);
  if (!sfu__connected(t)) return;
  if (pt->srtp_out != NULL && sfu_srtp_protect_rtp(pt->srtp_out, buf, &len, cap) != 0) return;
  sfu__send(pt, buf, len, false);
  t->stats.rtp_bytes_sent += len;
  sfu_rate_add(&t->stats.rtp_send_rate, sfu_now_ms(t), len);
}

static void sfu__send_rtcp(sfu_transport_t *t, uint8_t *buf, size_t len, size_t cap) {
  sfu_plain_transport_t *pt = PT(t);
  if (!sfu__connected(t)) return;
  if (pt->srtp_out != NULL && sfu_srtp_protect_rtcp(pt->srtp_out, buf, &len, cap) != 0) return;
  sfu__send(pt, buf, len, true);
}

static void sfu__send_sctp(sfu_transport_t *t, const uint8_t *buf, size_t len) {
  sfu_plain_transport_t *pt = PT(t);
  if (!pt->has_tuple) return;
  sfu__send(pt, buf, len, false);
}

static fb_ref_t sfu__tuple(sfu_plain_transport_t *pt, fb_builder_t *b, bool rtcp) {
  sfu_udp_socket_t *s = rtcp ? pt->rtcp_sock : pt->rtp_sock;
  const char *addr = rtcp ? pt->rtcp_address : pt->rtp_address;
  bool has = rtcp ? pt->has_rtcp_tuple : pt->has_tuple;
  const struct sockaddr *remote = has ? (const struct sockaddr *)(rtcp ? &pt->rtcp_remote : &pt->remote) : NULL;
  return sfu_tuple_build(b, addr, sfu_udp_socket_local_port(s), remote, SFU_PROTO_UDP);
}

static void sfu__notify_tuple(sfu_plain_transport_t *pt, bool rtcp) {
  fb_builder_t *b = &pt->base.ctx->fbb;
  fb_ref_t tr = sfu__tuple(pt, b, rtcp);
  if (rtcp) {
    FBS_PlainTransport_RtcpTupleNotification_start(b);
    FBS_PlainTransport_RtcpTupleNotification_add_tuple(b, tr);
    sfu_ctx_notify(pt->base.ctx, pt->base.id, FBS_Notification_Event_PLAINTRANSPORT_RTCP_TUPLE,
                   FBS_Notification_Body_PlainTransport_RtcpTupleNotification,
                   FBS_PlainTransport_RtcpTupleNotification_end(b));
  } else {
    FBS_PlainTransport_TupleNotification_start(b);
    FBS_PlainTransport_TupleNotification_add_tuple(b, tr);
    sfu_ctx_notify(pt->base.ctx, pt->base.id, FBS_Notification_Event_PLAINTRANSPORT_TUPLE,
                   FBS_Notification_Body_PlainTransport_TupleNotification, FBS_PlainTransport_TupleNotification_end(b));
  }
}

static void sfu__receive(sfu_plain_transport_t *pt, uint8_t *p, size_t len, size_t cap, const struct sockaddr *from,
                         bool rtcp_sock) {
  bool is_rtcp = sfu_rtcp_is_rtcp(p, len);
  bool is_rtp = !is_rtcp && sfu_rtp_is_rtp(p, len);
  bool is_sctp = !is_rtp && !is_rtcp && !rtcp_sock && sfu_sctp_is_packet(p, len);
  if (!is_rtp && !is_rtcp && !is_sctp) {
    pt->base.stats.bytes_received += len;
    return;
  }
  if (rtcp_sock) {
    if (!is_rtcp) return;
    if (!pt->has_rtcp_tuple) {
      if (!pt->comedia) return;
      memcpy(&pt->rtcp_remote, from, sfu_sockaddr_len(from));
      pt->has_rtcp_tuple = true;
      (void)sfu_udp_socket_connect(pt->rtcp_sock, from); /* only this peer from now on */
      sfu__notify_tuple(pt, true);
    } else if (!sfu_sockaddr_equal(from, (const struct sockaddr *)&pt->rtcp_remote)) {
      return;
    }
  } else {
    if (!pt->has_tuple) {
      if (!pt->comedia) return;
      memcpy(&pt->remote, from, sfu_sockaddr_len(from));
      pt->has_tuple = true;
      (void)sfu_udp_socket_connect(pt->rtp_sock, from); /* only this peer from now on */
      sfu__notify_tuple(pt, false);
      if (pt->rtcp_mux && !pt->has_rtcp_tuple) {
        pt->rtcp_remote = pt->remote;
        pt->has_rtcp_tuple = true;
      }
      if (sfu__connected(&pt->base)) sfu_transport_on_connected(&pt->base);
    } else if (!sfu_sockaddr_equal(from, (const struct sockaddr *)&pt->remote)) {
      return;
    }
  }
  if (is_sctp) {
    pt->base.stats.bytes_received += len;
    sfu_rate_add(&pt->base.stats.recv_rate, sfu_now_ms(&pt->base), len);
    sfu_transport_receive_sctp(&pt->base, p, len);
    return;
  }
  if (pt->enable_srtp) {
    if (pt->srtp_in == NULL) return;
    int r = is_rtcp ? sfu_srtp_unprotect_rtcp(pt->srtp_in, p, &len) : sfu_srtp_unprotect_rtp(pt->srtp_in, p, &len);
    if (r != 0) return;
  }
  if (is_rtcp)
    sfu_transport_receive_rtcp(&pt->base, p, len);
  else
    sfu_transport_receive_rtp(&pt->base, p, len, cap);
}

static void sfu__rtp_packet(sfu_udp_socket_t *sock, const uint8_t *p, size_t len, const struct sockaddr *from) {
  sfu_plain_transport_t *pt = sock->data;
  if (pt == NULL || pt->base.closed) return;
  sfu__receive(pt, (uint8_t *)p, len, sfu_udp_packet_cap(len), from, false);
}

static void sfu__rtcp_packet(sfu_udp_socket_t *sock, const uint8_t *p, size_t len, const struct sockaddr *from) {
  sfu_plain_transport_t *pt = sock->data;
  if (pt == NULL || pt->base.closed) return;
  sfu__receive(pt, (uint8_t *)p, len, len, from, true);
}

/* ---- SRTP parameters ---- */


static fb_ref_t sfu__srtp_params(sfu_plain_transport_t *pt, fb_builder_t *b) {
  fb_ref_t key = fb_create_cstring(b, pt->local_key_b64);
  FBS_SrtpParameters_SrtpParameters_start(b);
  FBS_SrtpParameters_SrtpParameters_add_crypto_suite(b, (uint8_t)pt->suite);
  FBS_SrtpParameters_SrtpParameters_add_key_base64(b, key);
  return FBS_SrtpParameters_SrtpParameters_end(b);
}

static int sfu__make_local_key(sfu_plain_transport_t *pt) {
  pt->key_len = sfu_srtp_key_len(pt->suite);
  if (pt->key_len == 0 || pt->key_len > sizeof(pt->local_key)) return SFU_EINVAL;
  if (RAND_bytes(pt->local_key, (int)pt->key_len) != 1) return SFU_ECRYPTO;
  EVP_EncodeBlock((unsigned char *)pt->local_key_b64, pt->local_key, (int)pt->key_len);
  return 0;
}

/* ---- requests ---- */

static fb_ref_t sfu__dump(sfu_transport_t *t, fb_builder_t *b, uint8_t *body_type) {
  sfu_plain_transport_t *pt = PT(t);
  fb_ref_t base = sfu_transport_dump_base(t, b);
  fb_ref_t tuple = sfu__tuple(pt, b, false);
  fb_ref_t rtcp_tuple = !pt->rtcp_mux ? sfu__tuple(pt, b, true) : 0;
  fb_ref_t srtp = pt->enable_srtp ? sfu__srtp_params(pt, b) : 0;
  FBS_PlainTransport_DumpResponse_start(b);
  FBS_PlainTransport_DumpResponse_add_base(b, base);
  FBS_PlainTransport_DumpResponse_add_rtcp_mux(b, pt->rtcp_mux);
  FBS_PlainTransport_DumpResponse_add_comedia(b, pt->comedia);
  FBS_PlainTransport_DumpResponse_add_tuple(b, tuple);
  FBS_PlainTransport_DumpResponse_add_rtcp_tuple(b, rtcp_tuple);
  FBS_PlainTransport_DumpResponse_add_srtp_parameters(b, srtp);
  *body_type = FBS_Response_Body_PlainTransport_DumpResponse;
  return FBS_PlainTransport_DumpResponse_end(b);
}

static void sfu__get_stats(sfu_plain_transport_t *pt, sfu_request_t *req) {
  fb_builder_t *b = &pt->base.ctx->fbb;
  fb_ref_t base = sfu_transport_stats_base(&pt->base, b);
  fb_ref_t tuple = sfu__tuple(pt, b, false);
  fb_ref_t rtcp_tuple = !pt->rtcp_mux ? sfu__tuple(pt, b, true) : 0;
  FBS_PlainTransport_GetStatsResponse_start(b);
  FBS_PlainTransport_GetStatsResponse_add_base(b, base);
  FBS_PlainTransport_GetStatsResponse_add_rtcp_mux(b, pt->rtcp_mux);
  FBS_PlainTransport_GetStatsResponse_add_comedia(b, pt->comedia);
  FBS_PlainTransport_GetStatsResponse_add_tuple(b, tuple);
  FBS_PlainTransport_GetStatsResponse_add_rtcp_tuple(b, rtcp_tuple);
  sfu_request_accept_body(req, FBS_Response_Body_PlainTransport_GetStatsResponse,
                          FBS_PlainTransport_GetStatsResponse_end(b));
}

static void sfu__connect(sfu_plain_transport_t *pt, sfu_request_t *req) {
  fb_table_t body;
  struct sockaddr_storage remote, rtcp_remote;
  bool have_rtcp = false;

  if (!sfu_request_body(req, FBS_Request_Body_PlainTransport_ConnectRequest, &body)) return;
  if (pt->connect_called) {
    sfu_request_fail(req, SFU_ESTATE, "connect() already called");
    return;
  }
  fb_table_t sp = FBS_PlainTransport_ConnectRequest_srtp_parameters(body);
  if (pt->enable_srtp) {
    if (sp.buf == NULL) {
      sfu_request_fail(req, SFU_EINVAL, "missing srtpParameters (SRTP enabled)");
      return;
    }
  } else if (sp.buf != NULL) {
    sfu_request_fail(req, SFU_EINVAL, "invalid srtpParameters (SRTP not enabled)");
    return;
  }
  if (!pt->comedia) {
    fb_str_t ip = FBS_PlainTransport_ConnectRequest_ip(body);
    char ipbuf[64];
    if (ip.ptr == NULL || ip.len == 0 || ip.len >= sizeof(ipbuf)) {
      sfu_request_fail(req, SFU_EINVAL, "missing ip");
      return;
    }
    memcpy(ipbuf, ip.ptr, ip.len);
    ipbuf[ip.len] = '\0';
    if (!FBS_PlainTransport_ConnectRequest_has_port(body) || FBS_PlainTransport_ConnectRequest_port(body) == 0) {
      sfu_request_fail(req, SFU_EINVAL, "missing port");
      return;
    }
    if (sfu_sockaddr_from_str(ipbuf, FBS_PlainTransport_ConnectRequest_port(body), &remote) != 0) {
      sfu_request_fail(req, SFU_EINVAL, "invalid ip '%s'", ipbuf);
      return;
    }
    if (!pt->rtcp_mux) {
      if (!FBS_PlainTransport_ConnectRequest_has_rtcp_port(body) || FBS_PlainTransport_ConnectRequest_rtcp_port(body) == 0) {
        sfu_request_fail(req, SFU_EINVAL, "missing rtcpPort (required with rtcpMux disabled)");
        return;
      }
      (void)sfu_sockaddr_from_str(ipbuf, FBS_PlainTransport_ConnectRequest_rtcp_port(body), &rtcp_remote);
      have_rtcp = true;
    }
  }
  if (pt->enable_srtp) {
    uint8_t suite = FBS_SrtpParameters_SrtpParameters_crypto_suite(sp);
    fb_str_t key = FBS_SrtpParameters_SrtpParameters_key_base64(sp);
    uint8_t raw[128];
    if (suite >= SFU_SRTP_SUITE_COUNT) {
      sfu_request_fail(req, SFU_EINVAL, "invalid srtpParameters.cryptoSuite");
      return;
    }
    size_t klen = sfu_srtp_key_len((sfu_srtp_suite_t)suite);
    if (key.len == 0 || key.len > 160) {
      sfu_request_fail(req, SFU_EINVAL, "invalid srtpParameters.keyBase64");
      return;
    }
    int n = EVP_DecodeBlock(raw, (const unsigned char *)key.ptr, (int)key.len);
    /* EVP_DecodeBlock counts padding bytes as output: strip them. */
    for (size_t i = key.len; n > 0 && i > 0 && key.ptr[i - 1] == '='; i--) n--;
    if (n < 0 || (size_t)n != klen) {
      sfu_request_fail(req, SFU_EINVAL, "invalid srtpParameters.keyBase64 (wrong length)");
      return;
    }
    if (suite != pt->suite) {
      /* The remote chose another suite: use it for our side too. */
      pt->suite = (sfu_srtp_suite_t)suite;
      if (sfu__make_local_key(pt) != 0) {
        sfu_request_fail(req, SFU_ECRYPTO, "cannot create SRTP key");
        return;
      }
    }
    if (sfu_srtp_create(&pt->srtp_in, SFU_SRTP_INBOUND, pt->suite, raw, klen) != 0 ||
        sfu_srtp_create(&pt->srtp_out, SFU_SRTP_OUTBOUND, pt->suite, pt->local_key, pt->key_len) != 0) {
      if (pt->srtp_in) sfu_srtp_destroy(pt->srtp_in);
      pt->srtp_in = NULL;
      sfu_request_fail(req, SFU_ECRYPTO, "cannot create SRTP sessions");
      return;
    }
  }
  if (!pt->comedia) {
    /* Packets from anyone but the tuple are ignored anyway: let the kernel
     * filter them, and cache the route for our sends (a failure here only
     * loses that saving). */
    pt->remote = remote;
    pt->has_tuple = true;
    (void)sfu_udp_socket_connect(pt->rtp_sock, (const struct sockaddr *)&remote);
    if (have_rtcp) {
      pt->rtcp_remote = rtcp_remote;
      pt->has_rtcp_tuple = true;
      (void)sfu_udp_socket_connect(pt->rtcp_sock, (const struct sockaddr *)&rtcp_remote);
    } else {
      pt->rtcp_remote = remote;
      pt->has_rtcp_tuple = true;
    }
  }
  pt->connect_called = true;

  fb_builder_t *b = &pt->base.ctx->fbb;
  fb_ref_t tuple = pt->has_tuple ? sfu__tuple(pt, b, false) : 0;
  fb_ref_t rtcp_tuple = (!pt->rtcp_mux && pt->has_rtcp_tuple) ? sfu__tuple(pt, b, true) : 0;
  fb_ref_t srtp = pt->enable_srtp ? sfu__srtp_params(pt, b) : 0;
  FBS_PlainTransport_ConnectResponse_start(b);
  FBS_PlainTransport_ConnectResponse_add_tuple(b, tuple);
  FBS_PlainTransport_ConnectResponse_add_rtcp_tuple(b, rtcp_tuple);
  FBS_PlainTransport_ConnectResponse_add_srtp_parameters(b, srtp);
  sfu_request_accept_body(req, FBS_Response_Body_PlainTransport_ConnectResponse, FBS_PlainTransport_ConnectResponse_end(b));
  if (sfu__connected(&pt->base)) sfu_transport_on_connected(&pt->base);
}

static bool sfu__on_request(sfu_transport_t *t, sfu_request_t *req) {
  switch (req->method) {
    case FBS_Request_Method_TRANSPORT_GET_STATS:
      sfu__get_stats(PT(t), req);
      return true;
    case FBS_Request_Method_PLAINTRANSPORT_CONNECT:
      sfu__connect(PT(t), req);
      return true;
    default:
      return false;
  }
}

/* ---- lifecycle ---- */

static void sfu__sock_closed(sfu_udp_socket_t *s) {
  sfu_plain_transport_t *pt = s->data;
  if (--pt->pending_closes == 0) sfu_transport_released(&pt->base);
}

static void sfu__close(sfu_transport_t *t) {
  sfu_plain_transport_t *pt = PT(t);
  pt->pending_closes = 1;
  if (pt->rtp_sock != NULL) {
    pt->pending_closes++;
    pt->rtp_sock->data = pt;
    sfu_udp_socket_close(pt->rtp_sock, sfu__sock_closed);
  }
  if (pt->rtcp_sock != NULL) {
    pt->pending_closes++;
    pt->rtcp_sock->data = pt;
    sfu_udp_socket_close(pt->rtcp_sock, sfu__sock_closed);
  }
  if (--pt->pending_closes == 0) sfu_transport_released(t);
}

static void sfu__destroy(sfu_transport_t *t) {
  sfu_plain_transport_t *pt = PT(t);
  if (pt->srtp_in != NULL) sfu_srtp_destroy(pt->srtp_in);
  if (pt->srtp_out != NULL) sfu_srtp_destroy(pt->srtp_out);
  free(pt);
}

static const sfu_transport_ops_t sfu__ops = {
    .name = "PlainTransport",
    .send_rtp = sfu__send_rtp,
    .send_rtcp = sfu__send_rtcp,
    .send_sctp = sfu__send_sctp,
    .connected = sfu__connected,
    .on_request = sfu__on_request,
    .dump = sfu__dump,
    .close = sfu__close,
    .destroy = sfu__destroy,
};

int sfu_plain_transport_create(const sfu_transport_parent_t *parent, const char *id, size_t id_len, fb_table_t opts,
                               sfu_transport_t **out, char *err, size_t err_len) {
  sfu_plain_transport_t *pt;
  sfu_listen_info_t li, rli;
  int r;

  if ((pt = calloc(1, sizeof(*pt))) == NULL) return SFU_ENOMEM;
  if ((r = sfu_transport_init(&pt->base, parent, &sfu__ops, id, id_len,
                              FBS_PlainTransport_PlainTransportOptions_base(opts))) != 0) {
    free(pt);
    return r;
  }
  pt->rtcp_mux = FBS_PlainTransport_PlainTransportOptions_rtcp_mux(opts);
  pt->comedia = FBS_PlainTransport_PlainTransportOptions_comedia(opts);
  pt->enable_srtp = FBS_PlainTransport_PlainTransportOptions_enable_srtp(opts);
  if (pt->enable_srtp) {
    pt->suite = FBS_PlainTransport_PlainTransportOptions_has_srtp_crypto_suite(opts)
                    ? (sfu_srtp_suite_t)FBS_PlainTransport_PlainTransportOptions_srtp_crypto_suite(opts)
                    : SFU_SRTP_AES_CM_128_HMAC_SHA1_80;
    if ((unsigned)pt->suite >= SFU_SRTP_SUITE_COUNT) {
      snprintf(err, err_len, "invalid srtpCryptoSuite");
      r = SFU_EINVAL;
      goto fail;
    }
    if ((r = sfu__make_local_key(pt)) != 0) {
      snprintf(err, err_len, "cannot create the SRTP key");
      goto fail;
    }
  }
  if ((r = sfu_listen_info_from_fbs(&li, FBS_PlainTransport_PlainTransportOptions_listen_info(opts), err, err_len)) != 0)
    goto fail;
  if (li.protocol != SFU_PROTO_UDP) {
    snprintf(err, err_len, "PlainTransport only supports UDP");
    r = SFU_EINVAL;
    goto fail;
  }
  if ((r = sfu_udp_socket_open(&pt->rtp_sock, parent->ctx->loop, parent->env->ports, &li, sfu__rtp_packet, pt,
                               err, err_len)) != 0)
    goto fail;
  snprintf(pt->rtp_address, sizeof(pt->rtp_address), "%s", li.announced_address[0] ? li.announced_address : li.ip);
  if (!pt->rtcp_mux) {
    fb_table_t rt = FBS_PlainTransport_PlainTransportOptions_rtcp_listen_info(opts);
    if (rt.buf != NULL) {
      if ((r = sfu_listen_info_from_fbs(&rli, rt, err, err_len)) != 0) goto fail;
    } else {
      rli = li;
      rli.port = 0;
    }
    if ((r = sfu_udp_socket_open(&pt->rtcp_sock, parent->ctx->loop, parent->env->ports, &rli, sfu__rtcp_packet,
                                 pt, err, err_len)) != 0)
      goto fail;
    snprintf(pt->rtcp_address, sizeof(pt->rtcp_address), "%s", rli.announced_address[0] ? rli.announced_address : rli.ip);
  }
  *out = &pt->base;
  return 0;

fail:
  sfu_transport_close(&pt->base);
  return r;
}
