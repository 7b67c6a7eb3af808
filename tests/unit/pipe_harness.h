/* A worker in this process driven over its real channel (socketpairs) for
 * the PipeTransport tests and the pipe fuzzer: requests built with the
 * generated FlatBuffers builders, responses read back and verified, and
 * UDP sockets of the test as the pipe's peers. Failures call PH_FAIL (the
 * cmocka test defines it as fail_msg, the fuzzer as abort). */
#ifndef PIPE_HARNESS_H
#define PIPE_HARNESS_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fb.h"
#include "fbs_generated.h"
#include "sfu_cert.h"
#include "sfu_ctx.h"
#include "sfu_worker.h"

#ifndef PH_FAIL
#define PH_FAIL(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), abort())
#endif

typedef struct ph {
  uv_loop_t loop;
  sfu_settings_t settings;
  sfu_ctx_t ctx;
  sfu_worker_t worker;
  sfu_cert_t cert;
  int to_worker, from_worker;
  uint8_t buf[1 << 17];
  size_t buf_len;
  /* the last response: its bytes (a Message) and its Response table */
  uint8_t resp[1 << 16];
  size_t resp_len;
  fb_table_t response;
  uint32_t next_id;
} ph_t;

static inline void ph_up(ph_t *h, sfu_log_level_t level) {
  int in[2], out[2];
  memset(h, 0, sizeof(*h));
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, in) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, out) != 0) PH_FAIL("socketpair");
  h->to_worker = in[0];
  h->from_worker = out[0];
  fcntl(h->from_worker, F_SETFL, O_NONBLOCK);
  if (uv_loop_init(&h->loop) != 0) PH_FAIL("uv_loop_init");
  sfu_settings_init(&h->settings);
  h->settings.log_level = level;
  h->settings.log_tags = 0xffffffffu;
  if (sfu_cert_generate(&h->cert) != 0) PH_FAIL("cert");
  if (sfu_ctx_init(&h->ctx, &h->loop, &h->settings) != 0) PH_FAIL("ctx");
  if (sfu_worker_init(&h->worker, &h->ctx, &h->cert, in[1], out[1]) != 0) PH_FAIL("worker");
  h->next_id = 1;
}

static inline void ph_down(ph_t *h) {
  if (!h->worker.closing) sfu_worker_close(&h->worker, NULL);
  uv_run(&h->loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&h->loop) != 0) PH_FAIL("loop not closed: a handle was left behind");
  sfu_ctx_destroy(&h->ctx);
  sfu_cert_free(&h->cert);
  sfu_settings_free(&h->settings);
  close(h->to_worker);
  close(h->from_worker);
}

/* Runs the loop a little and reads what the worker wrote. */
static inline void ph_pump(ph_t *h, int spins) {
  for (int i = 0; i < spins; i++) {
    uv_run(&h->loop, UV_RUN_NOWAIT);
    ssize_t r;
    while (h->buf_len < sizeof(h->buf) &&
           (r = read(h->from_worker, h->buf + h->buf_len, sizeof(h->buf) - h->buf_len)) > 0)
      h->buf_len += (size_t)r;
  }
}

/* Drops every whole message read so far (notifications, logs). */
static inline void ph_drain(ph_t *h) {
  ph_pump(h, 2);
  size_t off = 0;
  while (h->buf_len - off >= 4) {
    uint32_t len = (uint32_t)h->buf[off] | (uint32_t)h->buf[off + 1] << 8 | (uint32_t)h->buf[off + 2] << 16 |
                   (uint32_t)h->buf[off + 3] << 24;
    if (h->buf_len - off - 4 < len) break;
    off += 4 + len;
  }
  memmove(h->buf, h->buf + off, h->buf_len - off);
  h->buf_len -= off;
}

/* Sends a request and waits for its response: h->response, accepted or not. */
static inline bool ph_request(ph_t *h, uint8_t method, const char *handler, uint8_t body_type,
                              fb_ref_t (*body)(fb_builder_t *b, void *arg), void *arg) {
  fb_builder_t b;
  const uint8_t *out;
  size_t out_len;
  uint32_t id = h->next_id++;
  if (fb_builder_init(&b, 1024) != 0) PH_FAIL("builder");
  fb_ref_t bref = body != NULL ? body(&b, arg) : 0;
  fb_ref_t hid = fb_create_cstring(&b, handler);
  FBS_Request_Request_start(&b);
  FBS_Request_Request_add_id(&b, id);
  FBS_Request_Request_add_method(&b, method);
  FBS_Request_Request_add_handler_id(&b, hid);
  if (body != NULL) FBS_Request_Request_add_body(&b, body_type, bref);
  fb_ref_t req = FBS_Request_Request_end(&b);
  FBS_Message_Message_start(&b);
  FBS_Message_Message_add_data(&b, FBS_Message_Body_Request, req);
  if (fb_builder_finish(&b, FBS_Message_Message_end(&b), &out, &out_len) != 0) PH_FAIL("finish");
  uint8_t hdr[4] = {(uint8_t)out_len, (uint8_t)(out_len >> 8), (uint8_t)(out_len >> 16), (uint8_t)(out_len >> 24)};
  if (write(h->to_worker, hdr, 4) != 4 || write(h->to_worker, out, out_len) != (ssize_t)out_len) PH_FAIL("write");
  fb_builder_free(&b);
  for (int spins = 0; spins < 2000; spins++) {
    ph_pump(h, 1);
    size_t off = 0;
    while (h->buf_len - off >= 4) {
      uint32_t len = (uint32_t)h->buf[off] | (uint32_t)h->buf[off + 1] << 8 | (uint32_t)h->buf[off + 2] << 16 |
                     (uint32_t)h->buf[off + 3] << 24;
      if (h->buf_len - off - 4 < len) break;
      const uint8_t *m = h->buf + off + 4;
      if (FBS_Message_Message_verify_root(m, len) != 0) PH_FAIL("worker wrote an invalid message");
      fb_table_t msg = FBS_Message_Message_root(m, len);
      off += 4 + len;
      if (FBS_Message_Message_data_type(msg) != FBS_Message_Body_Response) continue;
      fb_table_t r = FBS_Message_Message_data(msg);
      if (FBS_Response_Response_id(r) != id) continue;
      if (len > sizeof(h->resp)) PH_FAIL("response too large");
      memcpy(h->resp, m, len);
      h->resp_len = len;
      h->response = FBS_Message_Message_data(FBS_Message_Message_root(h->resp, len));
      memmove(h->buf, h->buf + off, h->buf_len - off);
      h->buf_len -= off;
      return FBS_Response_Response_accepted(h->response);
    }
    memmove(h->buf, h->buf + off, h->buf_len - off);
    h->buf_len -= off;
  }
  PH_FAIL("no response to request %u", id);
  return false;
}

static inline const char *ph_reason(ph_t *h, char *out, size_t cap) {
  fb_str_t r = FBS_Response_Response_reason(h->response);
  snprintf(out, cap, "%.*s", (int)r.len, r.ptr ? r.ptr : "");
  return out;
}

/* ---- request bodies ---- */

static inline fb_ref_t ph_router_body(fb_builder_t *b, void *arg) {
  fb_ref_t s = fb_create_cstring(b, arg);
  FBS_Worker_CreateRouterRequest_start(b);
  FBS_Worker_CreateRouterRequest_add_router_id(b, s);
  return FBS_Worker_CreateRouterRequest_end(b);
}

static inline fb_ref_t ph_router_close_body(fb_builder_t *b, void *arg) {
  fb_ref_t s = fb_create_cstring(b, arg);
  FBS_Worker_CloseRouterRequest_start(b);
  FBS_Worker_CloseRouterRequest_add_router_id(b, s);
  return FBS_Worker_CloseRouterRequest_end(b);
}

typedef struct ph_pipe_opts {
  const char *id;
  bool tcp, srtp, rtx;
} ph_pipe_opts_t;

static inline fb_ref_t ph_pipe_body(fb_builder_t *b, void *arg) {
  const ph_pipe_opts_t *o = arg;
  fb_ref_t id = fb_create_cstring(b, o->id);
  fb_ref_t ip = fb_create_cstring(b, "127.0.0.1");
  FBS_Transport_PortRange_start(b);
  fb_ref_t range = FBS_Transport_PortRange_end(b);
  FBS_Transport_SocketFlags_start(b);
  fb_ref_t flags = FBS_Transport_SocketFlags_end(b);
  FBS_Transport_ListenInfo_start(b);
  FBS_Transport_ListenInfo_add_protocol(b, o->tcp ? FBS_Transport_Protocol_TCP : FBS_Transport_Protocol_UDP);
  FBS_Transport_ListenInfo_add_ip(b, ip);
  FBS_Transport_ListenInfo_add_port_range(b, range);
  FBS_Transport_ListenInfo_add_flags(b, flags);
  fb_ref_t li = FBS_Transport_ListenInfo_end(b);
  FBS_Transport_Options_start(b);
  FBS_Transport_Options_add_enable_sctp(b, true);
  FBS_Transport_Options_add_max_send_message_size(b, 262144);
  FBS_Transport_Options_add_max_receive_message_size(b, 262144);
  fb_ref_t base = FBS_Transport_Options_end(b);
  FBS_PipeTransport_PipeTransportOptions_start(b);
  FBS_PipeTransport_PipeTransportOptions_add_base(b, base);
  FBS_PipeTransport_PipeTransportOptions_add_listen_info(b, li);
  FBS_PipeTransport_PipeTransportOptions_add_enable_rtx(b, o->rtx);
  FBS_PipeTransport_PipeTransportOptions_add_enable_srtp(b, o->srtp);
  fb_ref_t opts = FBS_PipeTransport_PipeTransportOptions_end(b);
  FBS_Router_CreatePipeTransportRequest_start(b);
  FBS_Router_CreatePipeTransportRequest_add_transport_id(b, id);
  FBS_Router_CreatePipeTransportRequest_add_options(b, opts);
  return FBS_Router_CreatePipeTransportRequest_end(b);
}

typedef struct ph_connect {
  uint16_t port;
  const char *ip;
  const char *key_b64; /* NULL: no srtpParameters */
  uint8_t suite;
} ph_connect_t;

static inline fb_ref_t ph_connect_body(fb_builder_t *b, void *arg) {
  const ph_connect_t *c = arg;
  fb_ref_t ip = fb_create_cstring(b, c->ip ? c->ip : "127.0.0.1");
  fb_ref_t srtp = 0;
  if (c->key_b64 != NULL) {
    fb_ref_t key = fb_create_cstring(b, c->key_b64);
    FBS_SrtpParameters_SrtpParameters_start(b);
    FBS_SrtpParameters_SrtpParameters_add_crypto_suite(b, c->suite);
    FBS_SrtpParameters_SrtpParameters_add_key_base64(b, key);
    srtp = FBS_SrtpParameters_SrtpParameters_end(b);
  }
  FBS_PipeTransport_ConnectRequest_start(b);
  FBS_PipeTransport_ConnectRequest_add_ip(b, ip);
  FBS_PipeTransport_ConnectRequest_add_port(b, c->port);
  if (srtp) FBS_PipeTransport_ConnectRequest_add_srtp_parameters(b, srtp);
  return FBS_PipeTransport_ConnectRequest_end(b);
}

/* A body that is a copy of a finished table (clone = the generated clone function). */
typedef struct ph_clone {
  fb_ref_t (*clone)(fb_builder_t *b, fb_table_t t);
  fb_table_t t;
} ph_clone_t;

static inline fb_ref_t ph_clone_body(fb_builder_t *b, void *arg) {
  ph_clone_t *c = arg;
  return c->clone(b, c->t);
}

/* The pipe transport's (create or dump) response: local port and SRTP key. */
static inline uint16_t ph_pipe_port(ph_t *h, char *key_b64, size_t cap) {
  fb_table_t d = FBS_Response_Response_body(h->response);
  fb_table_t tuple = FBS_PipeTransport_DumpResponse_tuple(d);
  fb_table_t sp = FBS_PipeTransport_DumpResponse_srtp_parameters(d);
  if (key_b64 != NULL) {
    fb_str_t k = FBS_SrtpParameters_SrtpParameters_key_base64(sp);
    snprintf(key_b64, cap, "%.*s", (int)k.len, k.ptr ? k.ptr : "");
  }
  return FBS_Transport_Tuple_local_port(tuple);
}

/* ---- UDP peers ---- */

static inline int ph_udp(uint16_t *port) {
  struct sockaddr_in a;
  socklen_t alen = sizeof(a);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) PH_FAIL("udp bind");
  getsockname(fd, (struct sockaddr *)&a, &alen);
  *port = ntohs(a.sin_port);
  return fd;
}

static inline void ph_sendto(int fd, uint16_t port, const uint8_t *p, size_t len) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  (void)sendto(fd, p, len, 0, (struct sockaddr *)&a, sizeof(a));
}

/* One datagram received on fd within the loop's next spins, or 0. */
static inline size_t ph_recv(ph_t *h, int fd, uint8_t *buf, size_t cap, int spins) {
  for (int i = 0; i < spins; i++) {
    ssize_t r = recv(fd, buf, cap, 0);
    /* the pipe's SCTP association (enableSctp, as pipeToRouter() makes
     * them) sends its INIT to these raw sockets: only RTP/RTCP is read */
    if (r > 0 && (buf[0] & 0xc0) != 0x80) continue;
    if (r > 0) return (size_t)r;
    ph_pump(h, 1);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    (void)poll(&p, 1, 1);
  }
  return 0;
}

#endif
