#include "sfu_pipe_transport.h"

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
#include "sfu_transport_data.h"
#include "sfu_udp_socket.h"

/* mediasoup's PipeTransport uses this one suite, with a 44-byte master key (32 + 12 salt). */
#define SFU_PIPE_SRTP_SUITE SFU_SRTP_AEAD_AES_256_GCM
#define SFU_PIPE_SRTP_KEY_LEN 44

typedef struct sfu_pipe_transport {
  sfu_transport_t base;
  sfu_udp_socket_t *sock;
  char address[SFU_LISTEN_INFO_ANNOUNCED_MAX];
  bool rtx;
  bool has_tuple;
  struct sockaddr_storage remote;
  /* SRTP */
  bool enable_srtp;
  uint8_t local_key[SFU_PIPE_SRTP_KEY_LEN];
  char local_key_b64[64];
  sfu_srtp_t *srtp_in, *srtp_out;
  int pending_closes;
} sfu_pipe_transport_t;

#define PIPE(t) ((sfu_pipe_transport_t *)(t))

static bool sfu__connected(const sfu_transport_t *t) { return ((const sfu_pipe_transport_t *)t)->has_tuple; }

static void sfu__send(sfu_pipe_transport_t *pt, const uint8_t *p, size_t len) {
  (void)sfu_udp_socket_send(pt->sock, p, len, (const struct sockaddr *)&pt->remote);
  sfu_transport_account_sent(&pt->base, len, false);
}

static void sfu__send_rtp(sfu_transport_t *t, uint8_t *buf, size_t len, size_t cap) {
  sfu_pipe_transport_t *pt = PIPE(t);
  if (!pt->has_tuple) return;
  if (pt->srtp_out != NULL && sfu_srtp_protect_rtp(pt->srtp_out, buf, &len, cap) != 0) return;
  sfu__send(pt, buf, len);
  t->stats.rtp_bytes_sent += len;
  sfu_rate_add(&t->stats.rtp_send_rate, sfu_now_ms(t), len);
}

static void sfu__send_rtcp(sfu_transport_t *t, uint8_t *buf, size_t len, size_t cap) {
  sfu_pipe_transport_t *pt = PIPE(t);
  if (!pt->has_tuple) return;
  if (pt->srtp_out != NULL && sfu_srtp_protect_rtcp(pt->srtp_out, buf, &len, cap) != 0) return;
  sfu__send(pt, buf, len);
}

static void sfu__send_sctp(sfu_transport_t *t, const uint8_t *buf, size_t len) {
  sfu_pipe_transport_t *pt = PIPE(t);
  if (!pt->has_tuple) return;
  sfu__send(pt, buf, len);
}

static fb_ref_t sfu__tuple(sfu_pipe_transport_t *pt, fb_builder_t *b) {
  const struct sockaddr *remote = pt->has_tuple ? (const struct sockaddr *)&pt->remote : NULL;
  return sfu_tuple_build(b, pt->address, sfu_udp_socket_local_port(pt->sock), remote, SFU_PROTO_UDP);
}

/* Everything from anyone but the connected peer, and everything before
 * connect(), is dropped (mediasoup's PipeTransport). */
static void sfu__packet(sfu_udp_socket_t *sock, const uint8_t *data, size_t len, const struct sockaddr *from) {
  sfu_pipe_transport_t *pt = sock->data;
  uint8_t *p = (uint8_t *)data;
  if (pt == NULL || pt->base.closed) return;
  bool is_rtcp = sfu_rtcp_is_rtcp(p, len);
  bool is_rtp = !is_rtcp && sfu_rtp_is_rtp(p, len);
  if (!pt->has_tuple || !sfu_sockaddr_equal(from, (const struct sockaddr *)&pt->remote)) return;
  if (!is_rtp && !is_rtcp) {
    /* SCTP over the pipe's UDP, never encrypted (as mediasoup's pipes:
     * enableSrtp covers RTP and RTCP only); anything else is counted and
     * dropped. */
    pt->base.stats.bytes_received += len;
    sfu_rate_add(&pt->base.stats.recv_rate, sfu_now_ms(&pt->base), len);
    if (sfu_sctp_is_packet(p, len)) sfu_transport_receive_sctp(&pt->base, p, len);
    return;
  }
  if (pt->srtp_in != NULL) {
    int r = is_rtcp ? sfu_srtp_unprotect_rtcp(pt->srtp_in, p, &len) : sfu_srtp_unprotect_rtp(pt->srtp_in, p, &len);
    if (r != 0) {
      SFU_DEBUG_TAG(&pt->base.ctx->log, srtp, "cannot unprotect %s packet [len:%zu]", is_rtcp ? "RTCP" : "RTP", len);
      return;
    }
  }
  if (is_rtcp)
    sfu_transport_receive_rtcp(&pt->base, p, len);
  else
    sfu_transport_receive_rtp(&pt->base, p, len, sfu_udp_packet_cap(len));
}

/* ---- requests ---- */

static fb_ref_t sfu__srtp_params(sfu_pipe_transport_t *pt, fb_builder_t *b) {
  fb_ref_t key = fb_create_cstring(b, pt->local_key_b64);
  FBS_SrtpParameters_SrtpParameters_start(b);
  FBS_SrtpParameters_SrtpParameters_add_crypto_suite(b, (uint8_t)SFU_PIPE_SRTP_SUITE);
  FBS_SrtpParameters_SrtpParameters_add_key_base64(b, key);
  return FBS_SrtpParameters_SrtpParameters_end(b);
}

static fb_ref_t sfu__dump(sfu_transport_t *t, fb_builder_t *b, uint8_t *body_type) {
  sfu_pipe_transport_t *pt = PIPE(t);
  fb_ref_t base = sfu_transport_dump_base(t, b);
  fb_ref_t tuple = sfu__tuple(pt, b);
  fb_ref_t srtp = pt->enable_srtp ? sfu__srtp_params(pt, b) : 0;
  FBS_PipeTransport_DumpResponse_start(b);
  FBS_PipeTransport_DumpResponse_add_base(b, base);
  FBS_PipeTransport_DumpResponse_add_tuple(b, tuple);
  FBS_PipeTransport_DumpResponse_add_rtx(b, pt->rtx);
  if (srtp) FBS_PipeTransport_DumpResponse_add_srtp_parameters(b, srtp);
  *body_type = FBS_Response_Body_PipeTransport_DumpResponse;
  return FBS_PipeTransport_DumpResponse_end(b);
}

static void sfu__get_stats(sfu_pipe_transport_t *pt, sfu_request_t *req) {
  fb_builder_t *b = &pt->base.ctx->fbb;
  fb_ref_t base = sfu_transport_stats_base(&pt->base, b);
  fb_ref_t tuple = sfu__tuple(pt, b);
  FBS_PipeTransport_GetStatsResponse_start(b);
  FBS_PipeTransport_GetStatsResponse_add_base(b, base);
  FBS_PipeTransport_GetStatsResponse_add_tuple(b, tuple);
  sfu_request_accept_body(req, FBS_Response_Body_PipeTransport_GetStatsResponse,
                          FBS_PipeTransport_GetStatsResponse_end(b));
}

/* Decodes the remote's base64 key: 0 and raw[SFU_PIPE_SRTP_KEY_LEN], or SFU_EINVAL. */
static int sfu__decode_key(fb_str_t key, uint8_t raw[SFU_PIPE_SRTP_KEY_LEN]) {
  uint8_t tmp[96];
  if (key.ptr == NULL || key.len == 0 || key.len % 4 != 0 || key.len > 4 * (sizeof(tmp) / 3)) return SFU_EINVAL;
  int n = EVP_DecodeBlock(tmp, (const unsigned char *)key.ptr, (int)key.len);
  /* EVP_DecodeBlock counts padding bytes as output: strip them. */
  for (size_t i = key.len; n > 0 && i > 0 && key.ptr[i - 1] == '='; i--) n--;
  if (n != SFU_PIPE_SRTP_KEY_LEN) return SFU_EINVAL;
  memcpy(raw, tmp, SFU_PIPE_SRTP_KEY_LEN);
  return 0;
}

static void sfu__connect(sfu_pipe_transport_t *pt, sfu_request_t *req) {
  fb_table_t body;
  struct sockaddr_storage remote;
  char ipbuf[64];

  if (!sfu_request_body(req, FBS_Request_Body_PipeTransport_ConnectRequest, &body)) return;
  if (pt->has_tuple) {
    sfu_request_fail(req, SFU_ESTATE, "connect() already called");
    return;
  }
  fb_table_t sp = FBS_PipeTransport_ConnectRequest_srtp_parameters(body);
  if (!pt->enable_srtp && sp.buf != NULL) {
    sfu_request_fail(req, SFU_EINVAL, "invalid srtpParameters (SRTP not enabled)");
    return;
  }
  if (pt->enable_srtp && sp.buf == NULL) {
    sfu_request_fail(req, SFU_EINVAL, "missing srtpParameters (SRTP enabled)");
    return;
  }
  fb_str_t ip = FBS_PipeTransport_ConnectRequest_ip(body);
  if (ip.ptr == NULL || ip.len == 0 || ip.len >= sizeof(ipbuf)) {
    sfu_request_fail(req, SFU_EINVAL, "missing ip");
    return;
  }
  memcpy(ipbuf, ip.ptr, ip.len);
  ipbuf[ip.len] = '\0';
  if (!FBS_PipeTransport_ConnectRequest_has_port(body)) {
    sfu_request_fail(req, SFU_EINVAL, "missing port");
    return;
  }
  if (sfu_sockaddr_from_str(ipbuf, FBS_PipeTransport_ConnectRequest_port(body), &remote) != 0) {
    sfu_request_fail(req, SFU_EINVAL, "invalid IP '%s'", ipbuf);
    return;
  }
  if (pt->enable_srtp) {
    uint8_t raw[SFU_PIPE_SRTP_KEY_LEN];
    if (FBS_SrtpParameters_SrtpParameters_crypto_suite(sp) != (uint8_t)SFU_PIPE_SRTP_SUITE) {
      sfu_request_fail(req, SFU_EINVAL, "invalid/unsupported srtpParameters.cryptoSuite");
      return;
    }
    if (sfu__decode_key(FBS_SrtpParameters_SrtpParameters_key_base64(sp), raw) != 0) {
      sfu_request_fail(req, SFU_EINVAL, "invalid decoded SRTP key length");
      return;
    }
    if (sfu_srtp_create(&pt->srtp_out, SFU_SRTP_OUTBOUND, SFU_PIPE_SRTP_SUITE, pt->local_key, sizeof(pt->local_key)) !=
        0) {
      sfu_request_fail(req, SFU_ECRYPTO, "error creating SRTP sending session");
      return;
    }
    if (sfu_srtp_create(&pt->srtp_in, SFU_SRTP_INBOUND, SFU_PIPE_SRTP_SUITE, raw, sizeof(raw)) != 0) {
      sfu_srtp_destroy(pt->srtp_out);
      pt->srtp_out = NULL;
      sfu_request_fail(req, SFU_ECRYPTO, "error creating SRTP receiving session");
      return;
    }
  }
  pt->remote = remote;
  pt->has_tuple = true;
  /* Only this peer from now on: the kernel filters the rest and caches our route. */
  (void)sfu_udp_socket_connect(pt->sock, (const struct sockaddr *)&remote);

  fb_builder_t *b = &pt->base.ctx->fbb;
  fb_ref_t tuple = sfu__tuple(pt, b);
  FBS_PipeTransport_ConnectResponse_start(b);
  FBS_PipeTransport_ConnectResponse_add_tuple(b, tuple);
  sfu_request_accept_body(req, FBS_Response_Body_PipeTransport_ConnectResponse, FBS_PipeTransport_ConnectResponse_end(b));
  /* As mediasoup: connected as soon as the remote is known. */
  sfu_transport_on_connected(&pt->base);
}

static bool sfu__on_request(sfu_transport_t *t, sfu_request_t *req) {
  switch (req->method) {
    case FBS_Request_Method_TRANSPORT_GET_STATS:
      sfu__get_stats(PIPE(t), req);
      return true;
    case FBS_Request_Method_PIPETRANSPORT_CONNECT:
      sfu__connect(PIPE(t), req);
      return true;
    default:
      return false;
  }
}

/* ---- lifecycle ---- */

static void sfu__sock_closed(sfu_udp_socket_t *s) {
  sfu_pipe_transport_t *pt = s->data;
  if (--pt->pending_closes == 0) sfu_transport_released(&pt->base);
}

static void sfu__close(sfu_transport_t *t) {
  sfu_pipe_transport_t *pt = PIPE(t);
  pt->pending_closes = 1;
  if (pt->sock != NULL) {
    pt->pending_closes++;
    pt->sock->data = pt;
    sfu_udp_socket_close(pt->sock, sfu__sock_closed);
  }
  if (--pt->pending_closes == 0) sfu_transport_released(t);
}

static void sfu__destroy(sfu_transport_t *t) {
  sfu_pipe_transport_t *pt = PIPE(t);
  if (pt->srtp_in != NULL) sfu_srtp_destroy(pt->srtp_in);
  if (pt->srtp_out != NULL) sfu_srtp_destroy(pt->srtp_out);
  OPENSSL_cleanse(pt->local_key, sizeof(pt->local_key));
  free(pt);
}

static const sfu_transport_ops_t sfu__ops = {
    .name = "PipeTransport",
    .send_rtp = sfu__send_rtp,
    .send_rtcp = sfu__send_rtcp,
    .send_sctp = sfu__send_sctp,
    .connected = sfu__connected,
    .on_request = sfu__on_request,
    .dump = sfu__dump,
    .close = sfu__close,
    .destroy = sfu__destroy,
};

int sfu_pipe_transport_create(const sfu_transport_parent_t *parent, const char *id, size_t id_len, fb_table_t opts,
                              sfu_transport_t **out, char *err, size_t err_len) {
  sfu_pipe_transport_t *pt;
  sfu_listen_info_t li;
  int r;

  if ((pt = calloc(1, sizeof(*pt))) == NULL) return SFU_ENOMEM;
  if ((r = sfu_transport_init(&pt->base, parent, &sfu__ops, id, id_len,
                              FBS_PipeTransport_PipeTransportOptions_base(opts))) != 0) {
    free(pt);
    return r;
  }
  /* enableSctp: the base creates the association (ops->send_sctp), started
   * by sfu_transport_on_connected() at connect(). */
  pt->base.pipe = true;
  pt->rtx = FBS_PipeTransport_PipeTransportOptions_enable_rtx(opts);
  pt->enable_srtp = FBS_PipeTransport_PipeTransportOptions_enable_srtp(opts);
  if (pt->enable_srtp) {
    if (RAND_bytes(pt->local_key, (int)sizeof(pt->local_key)) != 1) {
      snprintf(err, err_len, "cannot create the SRTP key");
      r = SFU_ECRYPTO;
      goto fail;
    }
    EVP_EncodeBlock((unsigned char *)pt->local_key_b64, pt->local_key, (int)sizeof(pt->local_key));
  }
  if ((r = sfu_listen_info_from_fbs(&li, FBS_PipeTransport_PipeTransportOptions_listen_info(opts), err, err_len)) != 0)
    goto fail;
  if (li.protocol != SFU_PROTO_UDP) {
    snprintf(err, err_len, "unsupported listen protocol");
    r = SFU_EINVAL;
    goto fail;
  }
  if ((r = sfu_udp_socket_open(&pt->sock, parent->ctx->loop, parent->env->ports, &li, sfu__packet, pt, err, err_len)) !=
      0)
    goto fail;
  snprintf(pt->address, sizeof(pt->address), "%s", li.announced_address[0] ? li.announced_address : li.ip);
  *out = &pt->base;
  return 0;

fail:
  sfu_transport_close(&pt->base);
  return r;
}
