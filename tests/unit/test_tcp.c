/*
 * Unit tests for worker/src/net/sfu_tcp_server and sfu_tcp_conn (RFC 4571
 * over TCP), with plain libuv TCP clients: framed packets both ways, split
 * and coalesced writes, maximal packets, addresses and tuples, peer close and
 * reset, local close, close from inside on_packet, server close closing its
 * connections, the connection limit, the bounded send queue against a client
 * that stops reading, buffer sizes inherited from the listener, IPv6.
 * Every test ends with uv_loop_close() == 0. Only 127.0.0.1 and ::1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "net_test_util.h"
#include "sfu_error.h"
#include "sfu_rfc4571.h"
#include "sfu_sockaddr.h"
#include "sfu_tcp_server.h"

#define MAX_PKTS 4096
#define MAX_CONNS 8

typedef struct pkts {
  size_t count;
  size_t lens[MAX_PKTS];
  uint32_t seqs[MAX_PKTS];
  uint32_t sums[MAX_PKTS];
} pkts_t;

typedef struct fx fx_t;

typedef struct client {
  uv_tcp_t tcp;
  uv_connect_t creq;
  sfu_rfc4571_decoder_t dec;
  fx_t *fx;
  bool connected, eof, closed;
  int connect_status, read_status;
  pkts_t rx;
} client_t;

struct fx {
  uv_loop_t loop;
  sfu_port_manager_t pm;
  sfu_tcp_server_t *srv;
  bool srv_closed;
  sfu_tcp_conn_t *conns[MAX_CONNS];
  size_t nconns;
  pkts_t srv_rx;
  size_t srv_want;
  bool srv_done;
  bool echo;
  int close_in_packet; /* close the conn at this packet (1-based) */
  int closed_count;
  sfu_tcp_close_reason_t last_reason;
  sfu_tcp_conn_t *last_closed;
  int conn_close_cbs;
  bool closed_flag;
};

static uint32_t fnv(const uint8_t *p, size_t len) {
  uint32_t s = 2166136261u;
  for (size_t i = 0; i < len; i++) s = (s ^ p[i]) * 16777619u;
  return s;
}
static uint32_t rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
static void pkts_add(pkts_t *k, const uint8_t *p, size_t len) {
  assert_true(k->count < MAX_PKTS);
  k->lens[k->count] = len;
  k->seqs[k->count] = len >= 4 ? rd32(p) : 0;
  k->sums[k->count] = fnv(p, len);
  k->count++;
}

/* payload of packet `seq` with length len (>= 4): seq then a pattern */
static void make_payload(uint8_t *p, size_t len, uint32_t seq) {
  for (size_t i = 0; i < len; i++) p[i] = (uint8_t)(seq * 31u + i * 7u);
  wr32(p, seq);
}

/* ---- server callbacks ---- */

static void srv_on_packet(sfu_tcp_conn_t *conn, const uint8_t *p, size_t len) {
  fx_t *fx = conn->data;
  pkts_add(&fx->srv_rx, p, len);
  if (fx->echo) assert_int_equal(sfu_tcp_conn_send(conn, p, len), 0);
  if (fx->close_in_packet != 0 && (int)fx->srv_rx.count == fx->close_in_packet) sfu_tcp_conn_close(conn, NULL);
  if (fx->srv_want != 0 && fx->srv_rx.count >= fx->srv_want) fx->srv_done = true;
}

static void srv_on_closed(sfu_tcp_conn_t *conn, sfu_tcp_close_reason_t reason) {
  fx_t *fx = conn->data;
  assert_true(conn->closing);
  assert_int_equal(sfu_tcp_conn_send(conn, (const uint8_t *)"x", 1), SFU_ESTATE);
  fx->closed_count++;
  fx->last_reason = reason;
  fx->last_closed = conn;
  fx->closed_flag = true;
  for (size_t i = 0; i < fx->nconns; i++)
    if (fx->conns[i] == conn) fx->conns[i] = NULL;
}

static void srv_on_connection(sfu_tcp_server_t *srv, sfu_tcp_conn_t *conn) {
  fx_t *fx = srv->data;
  assert_true(fx->nconns < MAX_CONNS);
  conn->data = fx;
  fx->conns[fx->nconns++] = conn;
}

static void srv_closed_cb(sfu_tcp_server_t *srv) {
  fx_t *fx = srv->data;
  fx->srv_closed = true;
}

static void conn_close_cb(sfu_tcp_conn_t *conn) {
  fx_t *fx = conn->data;
  fx->conn_close_cbs++;
}

static void open_server(fx_t *fx, const char *ip, uint32_t sndbuf, uint32_t rcvbuf) {
  sfu_listen_info_t li;
  char err[256];
  sfu_tcp_server_cbs_t cbs = {srv_on_connection, srv_on_packet, srv_on_closed};
  assert_int_equal(sfu_listen_info_init(&li, SFU_PROTO_TCP, ip, 0), 0);
  li.send_buffer_size = sndbuf;
  li.recv_buffer_size = rcvbuf;
  assert_int_equal(sfu_listen_info_validate(&li, err, sizeof(err)), 0);
  int r = sfu_tcp_server_open(&fx->srv, &fx->loop, &fx->pm, &li, &cbs, fx, err, sizeof(err));
  if (r != 0) print_error("server open: %s\n", err);
  assert_int_equal(r, 0);
  assert_string_equal(sfu_tcp_server_local_ip(fx->srv), ip);
}

static void close_server(fx_t *fx) {
  if (fx->srv == NULL) return;
  fx->srv_closed = false;
  sfu_tcp_server_close(fx->srv, srv_closed_cb);
  sfu_tcp_server_close(fx->srv, srv_closed_cb); /* idempotent */
  assert_true(ntu_run_until(&fx->loop, &fx->srv_closed, 2000));
  fx->srv = NULL;
}

static int setup(void **state) {
  fx_t *fx = calloc(1, sizeof(*fx));
  if (fx == NULL) return -1;
  if (uv_loop_init(&fx->loop) != 0) return -1;
  uint16_t base = ntu_free_range(4);
  if (base == 0 || sfu_port_manager_init(&fx->pm, base, (uint16_t)(base + 3)) != 0) return -1;
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fx_t *fx = *state;
  close_server(fx);
  assert_int_equal(ntu_loop_finish(&fx->loop), 0);
  assert_int_equal(sfu_port_manager_count(&fx->pm), 0);
  sfu_port_manager_destroy(&fx->pm);
  free(fx);
  return 0;
}

/* ---- the test's libuv client ---- */

static void cl_on_connect(uv_connect_t *req, int status) {
  client_t *c = req->data;
  c->connect_status = status;
  c->connected = true;
}

static void cl_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  client_t *c = h->data;
  uint8_t *p;
  size_t avail;
  (void)suggested;
  assert_int_equal(sfu_rfc4571_decoder_reserve(&c->dec, 4096, &p, &avail), 0);
  buf->base = (char *)p;
  buf->len = avail;
}

static void cl_on_frame(void *arg, const uint8_t *p, size_t len) { pkts_add(&((client_t *)arg)->rx, p, len); }

static void cl_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  client_t *c = s->data;
  (void)buf;
  if (nread > 0) {
    assert_true(sfu_rfc4571_decoder_commit(&c->dec, (size_t)nread, cl_on_frame, c) >= 0);
  } else if (nread < 0) {
    c->eof = true;
    c->read_status = (int)nread;
    uv_read_stop(s);
  }
}

static void client_connect(fx_t *fx, client_t *c, const struct sockaddr *to) {
  memset(c, 0, sizeof(*c));
  c->fx = fx;
  sfu_rfc4571_decoder_init(&c->dec);
  assert_int_equal(uv_tcp_init(&fx->loop, &c->tcp), 0);
  c->tcp.data = c;
  c->creq.data = c;
  assert_int_equal(uv_tcp_connect(&c->creq, &c->tcp, to, cl_on_connect), 0);
  assert_true(ntu_run_until(&fx->loop, &c->connected, 2000));
  assert_int_equal(c->connect_status, 0);
  assert_int_equal(uv_read_start((uv_stream_t *)&c->tcp, cl_on_alloc, cl_on_read), 0);
}

typedef struct cl_write {
  uv_write_t req;
  uint8_t bytes[];
} cl_write_t;

static void cl_on_write(uv_write_t *req, int status) {
  (void)status;
  free(sfu_container_of(req, cl_write_t, req));
}

static void client_write(client_t *c, const uint8_t *p, size_t len) {
  cl_write_t *w = malloc(sizeof(*w) + len);
  assert_non_null(w);
  memcpy(w->bytes, p, len);
  uv_buf_t b = uv_buf_init((char *)w->bytes, (unsigned)len);
  assert_int_equal(uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, cl_on_write), 0);
}

/* frames seq0..seq0+n-1 with lengths lens[i] into one buffer */
static uint8_t *build_frames(const size_t *lens, size_t n, uint32_t seq0, size_t *out_len) {
  size_t total = 0, off = 0;
  for (size_t i = 0; i < n; i++) total += 2 + lens[i];
  uint8_t *s = malloc(total);
  assert_non_null(s);
  for (size_t i = 0; i < n; i++) {
    sfu_rfc4571_write_header(s + off, lens[i]);
    make_payload(s + off + 2, lens[i], seq0 + (uint32_t)i);
    off += 2 + lens[i];
  }
  *out_len = total;
  return s;
}

static void cl_on_close(uv_handle_t *h) { ((client_t *)h->data)->closed = true; }

static void client_close(fx_t *fx, client_t *c) {
  if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, cl_on_close);
  assert_true(ntu_run_until(&fx->loop, &c->closed, 2000));
  sfu_rfc4571_decoder_free(&c->dec);
}

static void wait_conns(fx_t *fx, size_t n) {
  for (int i = 0; i < 2000 && fx->nconns < n; i++) ntu_run_for(&fx->loop, 1);
  assert_int_equal(fx->nconns, n);
}

/* ---- tests ---- */

static void check_pkts(const pkts_t *k, const size_t *lens, size_t n, uint32_t seq0) {
  uint8_t *tmp = malloc(65535);
  assert_int_equal(k->count, n);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(k->lens[i], lens[i]);
    assert_int_equal(k->seqs[i], seq0 + i);
    make_payload(tmp, lens[i], seq0 + (uint32_t)i);
    assert_int_equal(k->sums[i], fnv(tmp, lens[i]));
  }
  free(tmp);
}

static void echo_roundtrip(fx_t *fx, const char *ip) {
  client_t c;
  open_server(fx, ip, 0, 0);
  client_connect(fx, &c, sfu_tcp_server_local_addr(fx->srv));
  wait_conns(fx, 1);
  sfu_tcp_conn_t *conn = fx->conns[0];
  assert_int_equal(fx->srv->num_conns, 1);

  /* addresses: the connection's remote is the client's local, and back */
  struct sockaddr_storage cl_local;
  int nl = (int)sizeof(cl_local);
  assert_int_equal(uv_tcp_getsockname(&c.tcp, (struct sockaddr *)&cl_local, &nl), 0);
  assert_true(sfu_sockaddr_equal(sfu_tcp_conn_remote_addr(conn), (struct sockaddr *)&cl_local));
  assert_true(sfu_sockaddr_equal(sfu_tcp_conn_local_addr(conn), sfu_tcp_server_local_addr(fx->srv)));
  assert_string_equal(conn->remote_ip, ip);
  assert_int_equal(conn->remote_port, sfu_sockaddr_port((struct sockaddr *)&cl_local));
  assert_int_equal(conn->local_port, sfu_tcp_server_local_port(fx->srv));
  sfu_tuple_t t;
  sfu_tcp_conn_tuple(conn, &t);
  assert_int_equal(t.proto, SFU_PROTO_TCP);
  assert_ptr_equal(t.sock, conn);
  assert_true(sfu_sockaddr_equal((struct sockaddr *)&t.remote, (struct sockaddr *)&cl_local));

  fx->echo = true;
  size_t lens[40];
  for (size_t i = 0; i < 40; i++) lens[i] = 4 + (i * 97) % 1400;
  lens[5] = 65535;
  lens[17] = 65535;
  size_t len;
  uint8_t *s = build_frames(lens, 40, 0, &len);
  /* all coalesced in one write */
  client_write(&c, s, len);
  fx->srv_want = 40;
  assert_true(ntu_run_until(&fx->loop, &fx->srv_done, 5000));
  for (int i = 0; i < 2000 && c.rx.count < 40; i++) ntu_run_for(&fx->loop, 1);
  check_pkts(&fx->srv_rx, lens, 40, 0);
  check_pkts(&c.rx, lens, 40, 0);
  assert_int_equal(conn->stats.packets_in, 40);
  assert_int_equal(conn->stats.packets_out, 40);
  assert_int_equal(conn->stats.bytes_in, len);
  assert_int_equal(conn->stats.queued_writes, 0);
  free(s);

  client_close(fx, &c);
  assert_true(ntu_run_until(&fx->loop, &fx->closed_flag, 2000));
  assert_int_equal(fx->closed_count, 1);
  assert_int_equal(fx->last_reason, SFU_TCP_CLOSE_PEER);
  assert_int_equal(fx->srv->num_conns, 0);
}

static void test_echo_ipv4(void **state) { echo_roundtrip(*state, "127.0.0.1"); }
static void test_echo_ipv6(void **state) { echo_roundtrip(*state, "::1"); }

/* The client writes frames split at awkward places (one byte at a time,
 * across prefixes), with loop turns in between so the server reads pieces. */
static void test_split_writes(void **state) {
  fx_t *fx = *state;
  client_t c;
  open_server(fx, "127.0.0.1", 0, 0);
  client_connect(fx, &c, sfu_tcp_server_local_addr(fx->srv));
  wait_conns(fx, 1);

  const size_t lens[] = {4, 5, 300, 4, 2000, 65535, 7};
  size_t len;
  uint8_t *s = build_frames(lens, 7, 100, &len);
  /* also a null packet in the middle: skipped */
  uint8_t *s2 = malloc(len + 2);
  size_t cut = 2 + 4 + 2 + 5;
  memcpy(s2, s, cut);
  s2[cut] = 0;
  s2[cut + 1] = 0;
  memcpy(s2 + cut + 2, s + cut, len - cut);
  len += 2;

  fx->srv_want = 7;
  size_t off = 0, step = 1;
  while (off < len) {
    size_t n = len - off < step ? len - off : step;
    client_write(&c, s2 + off, n);
    off += n;
    ntu_run_for(&fx->loop, 0);
    step = step < 3000 ? step * 2 + 1 : 1; /* 1, 3, 7, ... then again from 1 */
  }
  assert_true(ntu_run_until(&fx->loop, &fx->srv_done, 5000));
  check_pkts(&fx->srv_rx, lens, 7, 100);
  assert_int_equal(fx->conns[0]->stats.empty_in, 1);
  /* server -> client, also split by the kernel as it likes */
  for (size_t i = 0; i < 7; i++) {
    uint8_t *p = malloc(lens[i]);
    make_payload(p, lens[i], 500 + (uint32_t)i);
    assert_int_equal(sfu_tcp_conn_send(fx->conns[0], p, lens[i]), 0);
    free(p);
  }
  for (int i = 0; i < 2000 && c.rx.count < 7; i++) ntu_run_for(&fx->loop, 1);
  check_pkts(&c.rx, lens, 7, 500);
  free(s);
  free(s2);
  client_close(fx, &c);
  assert_true(ntu_run_until(&fx->loop, &fx->closed_flag, 2000));
}

static void test_local_close(void **state) {
  fx_t *fx = *state;
  client_t c;
  open_server(fx, "127.0.0.1", 0, 0);
  client_connect(fx, &c, sfu_tcp_server_local_addr(fx->srv));
  wait_conns(fx, 1);
  sfu_tcp_conn_t *conn = fx->conns[0];
  assert_int_equal(sfu_tcp_conn_send(conn, (const uint8_t *)"hello", 5), 0);
  sfu_tcp_conn_close(conn, conn_close_cb);
  sfu_tcp_conn_close(conn, conn_close_cb); /* idempotent */
  assert_int_equal(sfu_tcp_conn_send(conn, (const uint8_t *)"x", 1), SFU_ESTATE);
  assert_int_equal(fx->closed_count, 0); /* never from inside the call */
  assert_int_equal(fx->srv->num_conns, 0);
  assert_true(ntu_run_until(&fx->loop, &c.eof, 2000));
  assert_int_equal(c.read_status, UV_EOF);
  assert_int_equal(c.rx.count, 1); /* what was written before the close arrived */
  assert_int_equal(fx->closed_count, 1);
  assert_int_equal(fx->last_reason, SFU_TCP_CLOSE_LOCAL);
  assert_int_equal(fx->conn_close_cbs, 1);
  assert_string_equal(sfu_tcp_close_reason_name(SFU_TCP_CLOSE_LOCAL), "local");
  client_close(fx, &c);
}

static void test_peer_reset(void **state) {
  fx_t *fx = *state;
  client_t c;
  open_server(fx, "127.0.0.1", 0, 0);
  client_connect(fx, &c, sfu_tcp_server_local_addr(fx->srv));
  wait_conns(fx, 1);
  /* RST instead of FIN */
  assert_int_equal(uv_tcp_close_reset(&c.tcp, cl_on_close), 0);
  assert_true(ntu_run_until(&fx->loop, &fx->closed_flag, 2000));
  assert_int_equal(fx->last_reason, SFU_TCP_CLOSE_PEER);
  assert_true(ntu_run_until(&fx->loop, &c.closed, 2000));
  sfu_rfc4571_decoder_free(&c.dec);
}

static void test_close_in_packet(void **state) {
  fx_t *fx = *state;
  client_t c;
  open_server(fx, "127.0.0.1", 0, 0);
  client_connect(fx, &c, sfu_tcp_server_local_addr(fx->srv));
  wait_conns(fx, 1);
  size_t lens[10];
  for (int i = 0; i < 10; i++) lens[i] = 10;
  size_t len;
  uint8_t *s = build_frames(lens, 10, 0, &len);
  fx->close_in_packet = 2;
  client_write(&c, s, len);
  assert_true(ntu_run_until(&fx->loop, &fx->closed_flag, 2000));
  assert_int_equal(fx->srv_rx.count, 2);
  assert_int_equal(fx->last_reason, SFU_TCP_CLOSE_LOCAL);
  free(s);
  assert_true(ntu_run_until(&fx->loop, &c.eof, 2000));
  client_close(fx, &c);
}

static void test_server_close_closes_conns(void **state) {
  fx_t *fx = *state;
  client_t c[3];
  open_server(fx, "127.0.0.1", 0, 0);
  for (int i = 0; i < 3; i++) client_connect(fx, &c[i], sfu_tcp_server_local_addr(fx->srv));
  wait_conns(fx, 3);
  assert_int_equal(fx->srv->num_conns, 3);
  /* one of them is already closing when the server closes */
  sfu_tcp_conn_close(fx->conns[1], conn_close_cb);
  uint16_t port = sfu_tcp_server_local_port(fx->srv);
  close_server(fx);
  /* no on_closed after the server closed, not even for the closing one; its
   * close callback still runs */
  assert_int_equal(fx->closed_count, 0);
  assert_int_equal(fx->conn_close_cbs, 1);
  for (int i = 0; i < 3; i++) {
    assert_true(ntu_run_until(&fx->loop, &c[i].eof, 2000));
    client_close(fx, &c[i]);
  }
  /* the port is free again (for a listener with SO_REUSEADDR, as ours: the
   * server side of the closed connections is in TIME_WAIT) */
  sfu_listen_info_t li;
  sfu_tcp_server_cbs_t cbs = {srv_on_connection, srv_on_packet, srv_on_closed};
  sfu_listen_info_init(&li, SFU_PROTO_TCP, "127.0.0.1", port);
  assert_int_equal(sfu_tcp_server_open(&fx->srv, &fx->loop, &fx->pm, &li, &cbs, fx, NULL, 0), 0);
  assert_int_equal(sfu_tcp_server_local_port(fx->srv), port);
}

static void test_max_connections(void **state) {
  fx_t *fx = *state;
  client_t c[4];
  open_server(fx, "127.0.0.1", 0, 0);
  fx->srv->max_conns = 2;
  for (int i = 0; i < 3; i++) client_connect(fx, &c[i], sfu_tcp_server_local_addr(fx->srv));
  wait_conns(fx, 2);
  /* the third was accepted and closed at once */
  assert_true(ntu_run_until(&fx->loop, &c[2].eof, 2000));
  ntu_run_for(&fx->loop, 5);
  assert_int_equal(fx->nconns, 2);
  assert_int_equal(fx->srv->stats.rejected, 1);
  assert_int_equal(fx->srv->stats.accepted, 2);
  assert_false(c[0].eof);
  assert_false(c[1].eof);
  /* one leaves: room for a new one */
  client_close(fx, &c[0]);
  assert_true(ntu_run_until(&fx->loop, &fx->closed_flag, 2000));
  assert_int_equal(fx->srv->num_conns, 1);
  client_connect(fx, &c[3], sfu_tcp_server_local_addr(fx->srv));
  wait_conns(fx, 3);
  ntu_run_for(&fx->loop, 5);
  assert_false(c[3].eof);
  assert_int_equal(fx->srv->num_conns, 2);
  assert_int_equal(fx->srv->stats.accepted, 3);
  client_close(fx, &c[1]);
  client_close(fx, &c[2]);
  client_close(fx, &c[3]);
}

/* A client that stops reading: sends never block, the queue is bounded,
 * whole packets are dropped, and what was queued arrives intact later. */
static void test_send_queue_bounded(void **state) {
  fx_t *fx = *state;
  client_t c;
  open_server(fx, "127.0.0.1", 0, 0);
  client_connect(fx, &c, sfu_tcp_server_local_addr(fx->srv));
  wait_conns(fx, 1);
  sfu_tcp_conn_t *conn = fx->conns[0];
  uv_read_stop((uv_stream_t *)&c.tcp);

  uint8_t *p = malloc(60000);
  size_t accepted = 0, dropped = 0;
  uint32_t seq = 0;
  for (int i = 0; i < 1000; i++) { /* 60 MB at a client that reads nothing */
    make_payload(p, 60000, seq);
    int r = sfu_tcp_conn_send(conn, p, 60000);
    if (r == 0) {
      accepted++;
      seq++;
    } else {
      assert_int_equal(r, SFU_ENOMEM);
      dropped++;
    }
    assert_true(conn->stats.queued_bytes <= conn->max_queued);
  }
  print_message("      accepted %zu, dropped %zu, queued %zu bytes in %zu writes\n", accepted, dropped,
                conn->stats.queued_bytes, conn->stats.queued_writes);
  assert_true(dropped > 0);
  assert_int_equal(conn->stats.dropped_queue_full, dropped);
  assert_true(conn->stats.queued_writes > 0);

  /* the client reads again: every accepted packet arrives, in order, whole */
  assert_int_equal(uv_read_start((uv_stream_t *)&c.tcp, cl_on_alloc, cl_on_read), 0);
  for (int i = 0; i < 5000 && c.rx.count < accepted; i++) ntu_run_for(&fx->loop, 1);
  assert_int_equal(c.rx.count, accepted);
  for (size_t i = 0; i < accepted; i++) {
    assert_int_equal(c.rx.seqs[i], i);
    assert_int_equal(c.rx.lens[i], 60000);
  }
  assert_int_equal(conn->stats.queued_writes, 0);
  assert_int_equal(conn->stats.queued_bytes, 0);
  assert_int_equal(conn->stats.packets_out, accepted);

  /* closing with a queue: counted */
  uv_read_stop((uv_stream_t *)&c.tcp);
  for (int i = 0; i < 200; i++) (void)sfu_tcp_conn_send(conn, p, 60000);
  size_t q = conn->stats.queued_writes;
  assert_true(q > 0);
  sfu_tcp_conn_close(conn, NULL);
  assert_int_equal(conn->stats.dropped_on_close, q);
  free(p);
  assert_true(ntu_run_until(&fx->loop, &fx->closed_flag, 2000));
  client_close(fx, &c);
}

static void test_send_args(void **state) {
  fx_t *fx = *state;
  client_t c;
  open_server(fx, "127.0.0.1", 0, 0);
  client_connect(fx, &c, sfu_tcp_server_local_addr(fx->srv));
  wait_conns(fx, 1);
  sfu_tcp_conn_t *conn = fx->conns[0];
  uint8_t *big = calloc(1, 65536);
  assert_int_equal(sfu_tcp_conn_send(conn, big, 65536), SFU_EINVAL);
  assert_int_equal(sfu_tcp_conn_send(conn, big, 0), SFU_EINVAL);
  assert_int_equal(sfu_tcp_conn_send(conn, NULL, 5), SFU_EINVAL);
  assert_int_equal(sfu_tcp_conn_send(NULL, big, 5), SFU_ESTATE);
  conn->max_queued = 0; /* a packet larger than the cap is refused before any byte is written */
  assert_int_equal(sfu_tcp_conn_send(conn, big, 100), SFU_ENOMEM);
  conn->max_queued = SFU_TCP_CONN_MAX_QUEUED;
  assert_int_equal(sfu_tcp_conn_send(conn, big, 100), 0);
  free(big);
  for (int i = 0; i < 2000 && c.rx.count < 1; i++) ntu_run_for(&fx->loop, 1);
  assert_int_equal(c.rx.count, 1);
  client_close(fx, &c);
  assert_true(ntu_run_until(&fx->loop, &fx->closed_flag, 2000));
}

static void test_buffer_sizes_inherited(void **state) {
  fx_t *fx = *state;
  client_t c;
  open_server(fx, "127.0.0.1", 500000, 600000);
  assert_int_equal(fx->srv->send_buffer_size, 1000000);
  assert_int_equal(fx->srv->recv_buffer_size, 1200000);
  client_connect(fx, &c, sfu_tcp_server_local_addr(fx->srv));
  wait_conns(fx, 1);
  uv_os_fd_t fd;
  int v;
  socklen_t sl = sizeof(v);
  assert_int_equal(uv_fileno((uv_handle_t *)&fx->conns[0]->handle, &fd), 0);
  assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &sl), 0);
  assert_int_equal(v, 1200000);
  sl = sizeof(v);
  assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &sl), 0);
  assert_int_equal(v, 1000000);
  client_close(fx, &c);
  assert_true(ntu_run_until(&fx->loop, &fx->closed_flag, 2000));
}

static void test_open_errors(void **state) {
  fx_t *fx = *state;
  sfu_listen_info_t li;
  sfu_tcp_server_t *s = NULL, *s2 = NULL;
  char err[256];
  sfu_tcp_server_cbs_t cbs = {NULL, srv_on_packet, srv_on_closed};
  sfu_listen_info_init(&li, SFU_PROTO_UDP, "127.0.0.1", 0);
  assert_int_equal(sfu_tcp_server_open(&s, &fx->loop, &fx->pm, &li, &cbs, fx, err, sizeof(err)), SFU_EINVAL);
  sfu_listen_info_init(&li, SFU_PROTO_TCP, "127.0.0.1", 0);
  assert_int_equal(sfu_tcp_server_open(&s, &fx->loop, &fx->pm, &li, NULL, fx, err, sizeof(err)), SFU_EINVAL);
  assert_int_equal(sfu_tcp_server_open(&s, &fx->loop, &fx->pm, &li, &cbs, fx, err, sizeof(err)), 0);
  /* same explicit port twice */
  li.port = sfu_tcp_server_local_port(s);
  assert_int_equal(sfu_tcp_server_open(&s2, &fx->loop, &fx->pm, &li, &cbs, fx, err, sizeof(err)), SFU_EIO);
  assert_null(s2);
  assert_non_null(strstr(err, "in use"));
  fx->srv = s; /* teardown closes it */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_echo_ipv4, setup, teardown),
      cmocka_unit_test_setup_teardown(test_echo_ipv6, setup, teardown),
      cmocka_unit_test_setup_teardown(test_split_writes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_local_close, setup, teardown),
      cmocka_unit_test_setup_teardown(test_peer_reset, setup, teardown),
      cmocka_unit_test_setup_teardown(test_close_in_packet, setup, teardown),
      cmocka_unit_test_setup_teardown(test_server_close_closes_conns, setup, teardown),
      cmocka_unit_test_setup_teardown(test_max_connections, setup, teardown),
      cmocka_unit_test_setup_teardown(test_send_queue_bounded, setup, teardown),
      cmocka_unit_test_setup_teardown(test_send_args, setup, teardown),
      cmocka_unit_test_setup_teardown(test_buffer_sizes_inherited, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
