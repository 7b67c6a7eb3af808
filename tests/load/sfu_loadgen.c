/* sfu-loadgen: the client side of many WebRTC-like peers for the capacity
 * benchmark (tests/load/calls.mjs). Each endpoint is one UDP socket on
 * 127.0.0.1 talking to one WebRtcTransport: ICE (binding requests with
 * USE-CANDIDATE, MESSAGE-INTEGRITY and FINGERPRINT, then consent checks every
 * 5 s), a DTLS 1.2 client handshake, SRTP both ways, RTCP (an SR or RR every
 * second) and, for a sending endpoint, 50 Opus-sized RTP packets per second.
 * The peer side reuses the worker's own code: worker/src/ice (STUN),
 * worker/src/dtls (client role) and worker/src/srtp.
 *
 * Every RTP payload (160 bytes) carries a magic, the sending endpoint's id,
 * the send time (CLOCK_REALTIME ns taken right before send(), the same clock
 * on this host for both ends) and the measurement window it belongs to, so a
 * receiving endpoint counts delivery and one-way latency through the worker
 * without knowing the consumer's SSRC. The arrival time is the kernel's
 * receive timestamp of the datagram (SO_TIMESTAMPNS), so the latency is the
 * worker's (its scheduling, processing and the loopback path), not how late
 * this process, sharing the machine, got to read its sockets.
 *
 * Driven by lines on stdin, answers on stdout:
 *   at start                   -> "fp <sha-256 fingerprint of our certificate>"
 *   ep ID IP PORT UFRAG PWD FP SEND_SSRC RECV_SSRC
 *                              add an endpoint (SEND_SSRC 0: receive only;
 *                              RECV_SSRC: the SSRC it reports on, 0 none)
 *                              -> "up ID" once DTLS is connected, or
 *                                 "fail ID" if the handshake failed
 *   close ID                   drop an endpoint abruptly (nothing sent)
 *   m MS                       measure for MS ms: -> "stats SENT RECV P50_US
 *                              P99_US MAX_US RTCP_IN" 1 s after the window
 *                              (packets sent in the window and received by
 *                              then; latency of those received)
 *   q                          -> "ok" (the line round trip)
 * EOF ends the program. 127.0.0.1 only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "sfu_cert.h"
#include "sfu_ctx.h"
#include "sfu_dtls.h"
#include "sfu_dtls_ctx.h"
#include "sfu_error.h"
#include "sfu_hmap.h"
#include "sfu_settings.h"
#include "sfu_srtp.h"
#include "sfu_stun.h"

#define LG_PAYLOAD 160
#define LG_MAGIC 0x4c47454eu /* "LGEN" */
#define LG_SLOTS 20          /* 20 ms between packets of one endpoint, spread over 1 ms ticks */
#define LG_HIST_US 10        /* latency histogram bucket */
#define LG_HIST_N 20000      /* up to 200 ms */
#define LG_BATCH 32
#define LG_MAX_EP 65536

typedef struct lg_ep {
  uint32_t id;
  int fd;
  uv_poll_t *poll;
  struct sockaddr_in peer;
  char ufrag[64], pwd[128];
  char username[200];
  uint32_t send_ssrc, recv_ssrc;
  sfu_dtls_t *dtls;
  sfu_srtp_t *out, *in;
  bool ice_ok, up;
  uint16_t seq;
  uint32_t ts;
  uint64_t last_stun_ms;
  uint64_t last_rtcp_ms;
  uint32_t rtp_sent, rtp_recv_total;
  struct lg_ep *next_free;
} lg_ep_t;

typedef struct lg {
  uv_loop_t loop;
  sfu_settings_t settings;
  sfu_ctx_t ctx;
  sfu_cert_t cert;
  sfu_dtls_ctx_t dc;
  uv_pipe_t in;
  uv_timer_t tick;
  uv_timer_t window_end;
  char line[1024];
  size_t line_len;
  lg_ep_t **eps; /* by id */
  uint64_t ticks; /* the last millisecond whose slot ran */
  /* measurement */
  uint32_t window; /* id of the running window, 0 none */
  bool measuring;
  uint64_t sent, recv, rtcp_in;
  uint32_t hist[LG_HIST_N + 1];
  uint32_t lat_max_us;
  uint8_t stdin_buf[65536];
  uint8_t cmsg[LG_BATCH][CMSG_SPACE(sizeof(struct timespec)) + 64];
  uint8_t rx[LG_BATCH][1500 + SFU_SRTP_MAX_TRAILER];
} lg_t;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
static uint32_t get32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)(v >> 32));
  put32(p + 4, (uint32_t)v);
}
static uint64_t get64(const uint8_t *p) { return ((uint64_t)get32(p) << 32) | get32(p + 4); }

static void ep_send(lg_ep_t *e, const uint8_t *p, size_t len) {
  ssize_t n = send(e->fd, p, len, MSG_DONTWAIT);
  (void)n;
}

static void ep_send_stun(lg_t *g, lg_ep_t *e) {
  uint8_t buf[512];
  sfu_stun_writer_t w;
  sfu_stun_writer_init(&w, buf, sizeof(buf), SFU_STUN_REQUEST, SFU_STUN_METHOD_BINDING, NULL);
  sfu_stun_writer_add(&w, SFU_STUN_ATTR_USERNAME, e->username, strlen(e->username));
  sfu_stun_writer_add_u32(&w, SFU_STUN_ATTR_PRIORITY, 0x6e7f1eff);
  sfu_stun_writer_add_u64(&w, SFU_STUN_ATTR_ICE_CONTROLLING, 0x1234567800000000ull | e->id);
  sfu_stun_writer_add(&w, SFU_STUN_ATTR_USE_CANDIDATE, NULL, 0);
  sfu_stun_writer_add_integrity(&w, e->pwd, strlen(e->pwd));
  sfu_stun_writer_add_fingerprint(&w);
  int n = sfu_stun_writer_finish(&w);
  if (n > 0) ep_send(e, buf, (size_t)n);
  e->last_stun_ms = uv_now(&g->loop);
}

/* ---- DTLS callbacks ---- */
static void dtls_send(sfu_dtls_t *d, const uint8_t *p, size_t len) {
  if (d->data != NULL) ep_send(d->data, p, len); /* NULL: closing abruptly, close_notify dropped */
}

static void dtls_keys(sfu_dtls_t *d, sfu_srtp_suite_t suite, const uint8_t *local, size_t local_len,
                      const uint8_t *remote, size_t remote_len) {
  lg_ep_t *e = d->data;
  if (e == NULL) return;
  if (e->out == NULL) (void)sfu_srtp_create(&e->out, SFU_SRTP_OUTBOUND, suite, local, local_len);
  if (e->in == NULL) (void)sfu_srtp_create(&e->in, SFU_SRTP_INBOUND, suite, remote, remote_len);
}

static void dtls_state(sfu_dtls_t *d, sfu_dtls_state_t st) {
  lg_ep_t *e = d->data;
  if (e == NULL) return;
  if (st == SFU_DTLS_CONNECTED && e->out != NULL && e->in != NULL && !e->up) {
    e->up = true;
    printf("up %u\n", e->id);
    fflush(stdout);
  } else if (st == SFU_DTLS_FAILED) {
    printf("fail %u\n", e->id);
    fflush(stdout);
  }
}

static const sfu_dtls_callbacks_t dtls_cb = {
    .send = dtls_send, .on_state = dtls_state, .on_srtp_keys = dtls_keys, .on_app_data = NULL};

/* ---- receive ---- */
static void on_rtp(lg_t *g, lg_ep_t *e, uint8_t *p, size_t len, uint64_t rx_ns) {
  if (e->in == NULL || sfu_srtp_unprotect_rtp(e->in, p, &len) != 0) return;
  if (len < 12) return;
  size_t off = 12 + 4u * (p[0] & 0x0f);
  if (p[0] & 0x10) {
    if (len < off + 4) return;
    off += 4 + 4u * (((size_t)p[off + 2] << 8) | p[off + 3]);
  }
  if (len < off + 20 || get32(p + off) != LG_MAGIC) return;
  e->rtp_recv_total++;
  uint32_t win = get32(p + off + 16);
  if (win == 0 || win != g->window) return;
  uint64_t sent_at = get64(p + off + 8);
  uint64_t now = rx_ns != 0 ? rx_ns : now_ns();
  uint64_t us = now > sent_at ? (now - sent_at) / 1000 : 0;
  if (us > g->lat_max_us) g->lat_max_us = (uint32_t)(us > UINT32_MAX ? UINT32_MAX : us);
  uint64_t b = us / LG_HIST_US;
  g->hist[b > LG_HIST_N ? LG_HIST_N : b]++;
  g->recv++;
}

static void on_datagram(lg_t *g, lg_ep_t *e, uint8_t *p, size_t len, uint64_t rx_ns) {
  if (sfu_stun_is_stun(p, len)) {
    sfu_stun_msg_t m;
    if (sfu_stun_parse(&m, p, len) == 0 && m.klass == SFU_STUN_SUCCESS_RESPONSE && !e->ice_ok) {
      e->ice_ok = true;
      if (e->dtls != NULL) (void)sfu_dtls_run(e->dtls, SFU_DTLS_ROLE_CLIENT);
    }
  } else if (sfu_dtls_is_dtls(p, len)) {
    if (e->dtls != NULL) (void)sfu_dtls_process(e->dtls, p, len);
  } else if (len >= 12 && (p[0] & 0xc0) == 0x80) {
    if (p[1] >= 192 && p[1] <= 223) {
      if (e->in != NULL && sfu_srtp_unprotect_rtcp(e->in, p, &len) == 0) g->rtcp_in++;
    } else {
      on_rtp(g, e, p, len, rx_ns);
    }
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  lg_ep_t *e = h->data;
  if (e == NULL || status < 0) return;
  lg_t *g = h->loop->data;
  uint8_t (*bufs)[1500 + SFU_SRTP_MAX_TRAILER] = g->rx;
  struct mmsghdr msgs[LG_BATCH];
  struct iovec iov[LG_BATCH];
  for (int i = 0; i < LG_BATCH; i++) {
    iov[i].iov_base = bufs[i];
    iov[i].iov_len = 1500;
    memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_control = g->cmsg[i];
    msgs[i].msg_hdr.msg_controllen = sizeof(g->cmsg[i]);
  }
  int n = recvmmsg(e->fd, msgs, LG_BATCH, MSG_DONTWAIT, NULL);
  for (int i = 0; i < n; i++) {
    uint64_t rx_ns = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != NULL; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS && c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof(ts));
        rx_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
      }
    }
    on_datagram(g, e, bufs[i], msgs[i].msg_len, rx_ns);
    if (g->eps[e->id] != e) return; /* closed meanwhile (cannot happen today: no callback closes) */
  }
}

/* ---- send ---- */
static void ep_send_rtp(lg_t *g, lg_ep_t *e) {
  uint8_t p[12 + LG_PAYLOAD + SFU_SRTP_MAX_TRAILER];
  p[0] = 0x80;
  p[1] = 111;
  p[2] = (uint8_t)(e->seq >> 8);
  p[3] = (uint8_t)e->seq;
  put32(p + 4, e->ts);
  put32(p + 8, e->send_ssrc);
  e->seq++;
  e->ts += 960;
  uint8_t *pl = p + 12;
  memset(pl, 0x55, LG_PAYLOAD);
  put32(pl, LG_MAGIC);
  put32(pl + 4, e->id);
  put64(pl + 8, now_ns());
  put32(pl + 16, g->measuring ? g->window : 0);
  size_t len = 12 + LG_PAYLOAD;
  if (sfu_srtp_protect_rtp(e->out, p, &len, sizeof(p)) != 0) return;
  ep_send(e, p, len);
  e->rtp_sent++;
  if (g->measuring) g->sent++;
}

/* SR (sender) or RR (receiver) every second. */
static void ep_send_rtcp(lg_t *g, lg_ep_t *e) {
  uint8_t p[64 + SFU_SRTP_MAX_TRAILER];
  size_t len;
  if (e->send_ssrc != 0) {
    uint64_t ns = now_ns();
    p[0] = 0x80;
    p[1] = 200;
    p[2] = 0;
    p[3] = 6;
    put32(p + 4, e->send_ssrc);
    put32(p + 8, (uint32_t)(ns / 1000000000ull) + 2208988800u);
    put32(p + 12, (uint32_t)(((ns % 1000000000ull) << 32) / 1000000000ull));
    put32(p + 16, e->ts);
    put32(p + 20, e->rtp_sent);
    put32(p + 24, e->rtp_sent * LG_PAYLOAD);
    len = 28;
  } else if (e->recv_ssrc != 0) {
    p[0] = 0x81;
    p[1] = 201;
    p[2] = 0;
    p[3] = 7;
    put32(p + 4, 0x10000000u | e->id);
    put32(p + 8, e->recv_ssrc);
    memset(p + 12, 0, 20);
    len = 32;
  } else {
    return;
  }
  if (sfu_srtp_protect_rtcp(e->out, p, &len, sizeof(p)) != 0) return;
  ep_send(e, p, len);
  e->last_rtcp_ms = uv_now(&g->loop);
}

static void run_slot(lg_t *g, uint32_t slot, uint64_t now) {
  for (uint32_t id = slot; id < LG_MAX_EP; id += LG_SLOTS) {
    lg_ep_t *e = g->eps[id];
    if (e == NULL) continue;
    if (!e->ice_ok) {
      if (now - e->last_stun_ms >= 100) ep_send_stun(g, e);
      continue;
    }
    if (now - e->last_stun_ms >= 5000) ep_send_stun(g, e);
    if (!e->up) continue;
    if (e->send_ssrc != 0) ep_send_rtp(g, e);
    if (now - e->last_rtcp_ms >= 1000) ep_send_rtcp(g, e);
  }
}

/* Every millisecond one slot of endpoints (id % 20) sends; a late tick runs
 * the slots it missed (at most a whole round), so each sender keeps 50
 * packets/s when the loop is late on a loaded machine. */
static void on_tick(uv_timer_t *t) {
  lg_t *g = t->data;
  uint64_t now = uv_now(&g->loop);
  if (g->ticks == 0 || now - g->ticks > LG_SLOTS) g->ticks = now - 1;
  while (g->ticks < now) {
    g->ticks++;
    run_slot(g, (uint32_t)(g->ticks % LG_SLOTS), now);
  }
}

/* ---- endpoints ---- */
static void poll_closed(uv_handle_t *h) { free(h); }

static void ep_free(lg_t *g, lg_ep_t *e) {
  g->eps[e->id] = NULL;
  if (e->poll != NULL) {
    uv_poll_stop(e->poll);
    e->poll->data = NULL;
    uv_close((uv_handle_t *)e->poll, poll_closed);
  }
  if (e->fd >= 0) close(e->fd);
  if (e->dtls != NULL) {
    /* Abrupt: no close_notify reaches the worker (the socket is gone first). */
    e->dtls->data = NULL;
    sfu_dtls_close(e->dtls, NULL);
  }
  if (e->out != NULL) sfu_srtp_destroy(e->out);
  if (e->in != NULL) sfu_srtp_destroy(e->in);
  free(e);
}

static void cmd_ep(lg_t *g, const char *args) {
  unsigned id, port;
  char ip[64], ufrag[64], pwd[128], fp[SFU_FINGERPRINT_MAX + 1];
  unsigned long send_ssrc, recv_ssrc;
  if (sscanf(args, "%u %63s %u %63s %127s %192s %lu %lu", &id, ip, &port, ufrag, pwd, fp, &send_ssrc, &recv_ssrc) !=
          8 ||
      id >= LG_MAX_EP || g->eps[id] != NULL) {
    fprintf(stderr, "loadgen: bad ep line: %s\n", args);
    return;
  }
  lg_ep_t *e = calloc(1, sizeof(*e));
  if (e == NULL) abort();
  e->id = id;
  e->send_ssrc = (uint32_t)send_ssrc;
  e->recv_ssrc = (uint32_t)recv_ssrc;
  e->seq = (uint16_t)(id * 7919u);
  e->ts = id * 104729u;
  snprintf(e->ufrag, sizeof(e->ufrag), "%s", ufrag);
  snprintf(e->pwd, sizeof(e->pwd), "%s", pwd);
  snprintf(e->username, sizeof(e->username), "%s:lg%u", ufrag, id);
  e->peer.sin_family = AF_INET;
  e->peer.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, ip, &e->peer.sin_addr) != 1) {
    fprintf(stderr, "loadgen: bad ip %s\n", ip);
    free(e);
    return;
  }
  e->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in local = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int rcvbuf = 1 << 20;
  int on = 1;
  (void)setsockopt(e->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  (void)setsockopt(e->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
  if (e->fd < 0 || bind(e->fd, (struct sockaddr *)&local, sizeof(local)) != 0 ||
      connect(e->fd, (struct sockaddr *)&e->peer, sizeof(e->peer)) != 0) {
    fprintf(stderr, "loadgen: socket: %s\n", strerror(errno));
    if (e->fd >= 0) close(e->fd);
    free(e);
    return;
  }
  e->poll = malloc(sizeof(*e->poll));
  uv_poll_init(&g->loop, e->poll, e->fd);
  e->poll->data = e;
  uv_poll_start(e->poll, UV_READABLE, on_poll);
  if (sfu_dtls_create(&g->dc, &dtls_cb, e, &e->dtls) != 0 ||
      sfu_dtls_set_remote_fingerprint(e->dtls, SFU_FP_SHA256, fp) != 0) {
    fprintf(stderr, "loadgen: dtls create failed\n");
  }
  g->eps[id] = e;
  ep_send_stun(g, e);
}

static void on_window_end(uv_timer_t *t) {
  lg_t *g = t->data;
  if (g->measuring) {
    /* the window closed: keep counting arrivals of its packets for 1 s */
    g->measuring = false;
    uv_timer_start(&g->window_end, on_window_end, 1000, 0);
    return;
  }
  uint64_t total = 0, p50 = 0, p99 = 0;
  for (int i = 0; i <= LG_HIST_N; i++) total += g->hist[i];
  uint64_t acc = 0;
  bool have50 = false, have99 = false;
  for (int i = 0; i <= LG_HIST_N && total > 0; i++) {
    acc += g->hist[i];
    if (!have50 && acc * 2 >= total) {
      p50 = (uint64_t)i * LG_HIST_US + LG_HIST_US / 2;
      have50 = true;
    }
    if (!have99 && acc * 100 >= total * 99) {
      p99 = (uint64_t)i * LG_HIST_US + LG_HIST_US / 2;
      have99 = true;
    }
  }
  printf("stats %llu %llu %llu %llu %u %llu\n", (unsigned long long)g->sent, (unsigned long long)g->recv,
         (unsigned long long)p50, (unsigned long long)p99, g->lat_max_us, (unsigned long long)g->rtcp_in);
  fflush(stdout);
  g->window++;
}

static void cmd_measure(lg_t *g, unsigned ms) {
  g->sent = g->recv = g->rtcp_in = 0;
  g->lat_max_us = 0;
  memset(g->hist, 0, sizeof(g->hist));
  g->measuring = true;
  uv_timer_start(&g->window_end, on_window_end, ms, 0);
}

static void on_line(lg_t *g, char *l) {
  if (strncmp(l, "ep ", 3) == 0) {
    cmd_ep(g, l + 3);
  } else if (strncmp(l, "close ", 6) == 0) {
    unsigned id = (unsigned)strtoul(l + 6, NULL, 10);
    if (id < LG_MAX_EP && g->eps[id] != NULL) ep_free(g, g->eps[id]);
  } else if (strncmp(l, "m ", 2) == 0) {
    cmd_measure(g, (unsigned)strtoul(l + 2, NULL, 10));
  } else if (strcmp(l, "q") == 0) {
    printf("ok\n");
    fflush(stdout);
  } else if (l[0] != 0) {
    fprintf(stderr, "loadgen: unknown command: %s\n", l);
  }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  lg_t *g = h->data;
  buf->base = (char *)g->stdin_buf;
  buf->len = sizeof(g->stdin_buf);
}

static void on_stdin(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  lg_t *g = s->data;
  if (n < 0) {
    /* EOF: close everything and let the loop end */
    uv_read_stop(s);
    uv_close((uv_handle_t *)s, NULL);
    uv_timer_stop(&g->tick);
    uv_close((uv_handle_t *)&g->tick, NULL);
    uv_timer_stop(&g->window_end);
    uv_close((uv_handle_t *)&g->window_end, NULL);
    for (uint32_t i = 0; i < LG_MAX_EP; i++)
      if (g->eps[i] != NULL) ep_free(g, g->eps[i]);
    sfu_ctx_close(&g->ctx);
    return;
  }
  for (ssize_t i = 0; i < n; i++) {
    char c = buf->base[i];
    if (c == '\n') {
      g->line[g->line_len] = 0;
      on_line(g, g->line);
      g->line_len = 0;
    } else if (g->line_len + 1 < sizeof(g->line)) {
      g->line[g->line_len++] = c;
    }
  }
}

static void log_sink(void *arg, const char *line, size_t len) {
  if (getenv("LOADGEN_LOG") != NULL) fprintf(stderr, "%.*s\n", (int)len, line);
}

int main(void) {
  lg_t *g = calloc(1, sizeof(*g));
  if (g == NULL) return 1;
  g->eps = calloc(LG_MAX_EP, sizeof(*g->eps));
  uv_loop_init(&g->loop);
  g->loop.data = g;
  sfu_settings_init(&g->settings);
  g->settings.log_level = SFU_LOG_LEVEL_WARN;
  if (sfu_ctx_init(&g->ctx, &g->loop, &g->settings) != 0) return 1;
  sfu_log_set_sink(&g->ctx.log, log_sink, g);
  if (sfu_srtp_init() != 0 || sfu_cert_generate(&g->cert) != 0 || sfu_dtls_ctx_init(&g->dc, &g->ctx, &g->cert, NULL) != 0) {
    fprintf(stderr, "loadgen: init failed\n");
    return 1;
  }
  g->window = 1;
  printf("fp %s\n", g->cert.fingerprints[SFU_FP_SHA256]);
  fflush(stdout);
  uv_timer_init(&g->loop, &g->tick);
  g->tick.data = g;
  uv_timer_start(&g->tick, on_tick, 1, 1);
  uv_timer_init(&g->loop, &g->window_end);
  g->window_end.data = g;
  uv_pipe_init(&g->loop, &g->in, 0);
  uv_pipe_open(&g->in, 0);
  g->in.data = g;
  uv_read_start((uv_stream_t *)&g->in, alloc_cb, on_stdin);
  uv_run(&g->loop, UV_RUN_DEFAULT);
  sfu_dtls_ctx_destroy(&g->dc);
  sfu_cert_free(&g->cert);
  sfu_ctx_destroy(&g->ctx);
  sfu_settings_free(&g->settings);
  sfu_srtp_shutdown();
  uv_loop_close(&g->loop);
  free(g->eps);
  free(g);
  return 0;
}
