/* The DTLS test fixture shared by test_dtls.c and test_dtls_record.c: two
 * sfu_dtls_t, each with its own certificate and DTLS context, on one real
 * libuv loop, wired back to back through a small simulated network (a queue
 * delivered by a timer) that can drop, reorder, duplicate and filter what
 * each peer sends. Every helper is static inline so that a test file may use
 * only some of them. */
#ifndef DTLS_FIXTURE_H
#define DTLS_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "sfu_cert.h"
#include "sfu_ctx.h"
#include "sfu_dtls.h"
#include "sfu_dtls_ctx.h"
#include "sfu_error.h"
#include "sfu_srtp.h"

#define MAX_STATES 16
#define MAX_MSGS 64

typedef struct fixture fixture_t;
typedef struct peer peer_t;

/* Returns true to drop the datagram; may enqueue replacements itself. */
typedef bool (*filter_fn)(peer_t *me, const uint8_t *p, size_t len);

typedef struct pkt {
  struct pkt *next;
  int to;
  size_t len;
  uint8_t data[];
} pkt_t;

struct peer {
  fixture_t *f;
  int idx;
  sfu_dtls_ctx_t dc;
  sfu_dtls_t *d;
  sfu_dtls_state_t states[MAX_STATES];
  int n_states;
  int keys_calls;
  sfu_srtp_suite_t suite;
  uint8_t local[64], remote[64];
  size_t local_len, remote_len;
  size_t msg_len[MAX_MSGS];
  uint8_t msg_first[MAX_MSGS], msg_last[MAX_MSGS];
  int n_msgs;
  int close_cbs;
  /* network behaviour of what this peer sends */
  int sent;          /* datagrams handed to cb.send */
  int dropped;       /* by the filter */
  filter_fn filter;
  uint32_t drop_mask; /* drop datagram #i (i < 32) */
  int hold_index;     /* -1, or hold datagram #i back and deliver it after the next one */
  pkt_t *held;
  uint32_t loss_pct, dup_pct;
  int refrag_state; /* refragment_client_hello: 0 = not yet, 1 = done */
  bool allow_big;   /* app data records may exceed the MTU */
  size_t max_datagram;
  /* behaviour on callbacks */
  bool close_on_connected;
  bool close_on_app_data;
  bool echo_app_data;
};

struct fixture {
  uv_loop_t loop;
  sfu_settings_t settings;
  sfu_ctx_t ctx;
  sfu_cert_t certs[2];
  peer_t p[2];
  uv_timer_t net_timer;
  uv_timer_t guard;
  pkt_t *head, *tail;
  uint64_t rng;
  uint64_t log_lines;
  bool log_print;
};

/* ---- helpers ---- */

static inline uint32_t rnd(fixture_t *f) {
  f->rng = f->rng * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(f->rng >> 33);
}

static inline void log_sink(void *arg, const char *line, size_t len) {
  fixture_t *f = arg;
  f->log_lines++;
  if (f->log_print) fprintf(stderr, "%.*s\n", (int)len, line);
}

static inline void net_deliver(uv_timer_t *t);

static inline void enqueue(fixture_t *f, int to, const uint8_t *p, size_t len) {
  pkt_t *k = malloc(sizeof(*k) + len);
  assert_non_null(k);
  k->next = NULL;
  k->to = to;
  k->len = len;
  memcpy(k->data, p, len);
  if (f->tail != NULL)
    f->tail->next = k;
  else
    f->head = k;
  f->tail = k;
  if (!uv_is_active((uv_handle_t *)&f->net_timer)) uv_timer_start(&f->net_timer, net_deliver, 1, 0);
}

static inline void net_clear(fixture_t *f) {
  while (f->head != NULL) {
    pkt_t *k = f->head;
    f->head = k->next;
    free(k);
  }
  f->tail = NULL;
}

static inline void net_deliver(uv_timer_t *t) {
  fixture_t *f = t->data;
  pkt_t *k = f->head;
  f->head = f->tail = NULL;
  while (k != NULL) {
    pkt_t *next = k->next;
    peer_t *to = &f->p[k->to];
    if (to->d != NULL) (void)sfu_dtls_process(to->d, k->data, k->len);
    free(k);
    k = next;
  }
}

static inline void peer_send(sfu_dtls_t *d, const uint8_t *p, size_t len) {
  peer_t *me = d->data;
  fixture_t *f = me->f;
  int i = me->sent++;

  assert_true(sfu_dtls_is_dtls(p, len));
  if (len > me->max_datagram) me->max_datagram = len;
  if (!me->allow_big) assert_true(len <= me->dc.opts.mtu);
  if ((i < 32 && (me->drop_mask & (1u << i)) != 0) || (me->loss_pct > 0 && rnd(f) % 100 < me->loss_pct) ||
      (me->filter != NULL && me->filter(me, p, len))) {
    me->dropped++;
    return;
  }
  if (i == me->hold_index) {
    me->held = malloc(sizeof(pkt_t) + len);
    assert_non_null(me->held);
    me->held->len = len;
    memcpy(me->held->data, p, len);
    return;
  }
  enqueue(f, 1 - me->idx, p, len);
  if (me->dup_pct > 0 && rnd(f) % 100 < me->dup_pct) enqueue(f, 1 - me->idx, p, len);
  if (me->held != NULL) {
    enqueue(f, 1 - me->idx, me->held->data, me->held->len);
    free(me->held);
    me->held = NULL;
  }
}

static inline void peer_on_state(sfu_dtls_t *d, sfu_dtls_state_t state) {
  peer_t *me = d->data;
  assert_true(me->n_states < MAX_STATES);
  me->states[me->n_states++] = state;
  assert_int_equal(d->state, state);
  if (state == SFU_DTLS_CONNECTED) {
    assert_int_equal(me->keys_calls, 1); /* keys come first */
    assert_non_null(sfu_dtls_remote_cert(d));
    if (me->close_on_connected) sfu_dtls_close(d, NULL);
  }
}

static inline void peer_on_keys(sfu_dtls_t *d, sfu_srtp_suite_t suite, const uint8_t *local, size_t local_len,
                         const uint8_t *remote, size_t remote_len) {
  peer_t *me = d->data;
  me->keys_calls++;
  me->suite = suite;
  assert_int_equal(local_len, sfu_srtp_key_len(suite));
  assert_int_equal(remote_len, sfu_srtp_key_len(suite));
  memcpy(me->local, local, local_len);
  memcpy(me->remote, remote, remote_len);
  me->local_len = local_len;
  me->remote_len = remote_len;
  assert_int_equal(d->state, SFU_DTLS_CONNECTING);
}

static inline void peer_on_app_data(sfu_dtls_t *d, const uint8_t *p, size_t len) {
  peer_t *me = d->data;
  assert_int_equal(d->state, SFU_DTLS_CONNECTED);
  if (me->n_msgs < MAX_MSGS) {
    me->msg_len[me->n_msgs] = len;
    me->msg_first[me->n_msgs] = p[0];
    me->msg_last[me->n_msgs] = p[len - 1];
    me->n_msgs++;
  }
  if (me->echo_app_data) assert_int_equal(sfu_dtls_send_app_data(d, p, len), 0);
  if (me->close_on_app_data) sfu_dtls_close(d, NULL);
}

static inline void peer_closed(sfu_dtls_t *d) {
  peer_t *me = d->data;
  me->close_cbs++;
  me->d = NULL;
}

static const sfu_dtls_callbacks_t callbacks = {
    .send = peer_send,
    .on_state = peer_on_state,
    .on_srtp_keys = peer_on_keys,
    .on_app_data = peer_on_app_data,
};

/* Opens the loop, the worker context and two peers with their own certificate and options. */
static inline fixture_t *fixture_open(const sfu_dtls_ctx_options_t *opts0, const sfu_dtls_ctx_options_t *opts1) {
  fixture_t *f = calloc(1, sizeof(*f));
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  sfu_settings_init(&f->settings);
  f->settings.log_level = SFU_LOG_LEVEL_DEBUG;
  f->settings.log_tags = SFU_LOGTAG_dtls | SFU_LOGTAG_srtp;
  f->log_print = getenv("SFU_TEST_LOG") != NULL;
  f->rng = 0x5eed;
  assert_int_equal(sfu_ctx_init(&f->ctx, &f->loop, &f->settings), 0);
  sfu_log_set_sink(&f->ctx.log, log_sink, f);
  assert_int_equal(uv_timer_init(&f->loop, &f->net_timer), 0);
  f->net_timer.data = f;
  assert_int_equal(uv_timer_init(&f->loop, &f->guard), 0);
  for (int i = 0; i < 2; i++) {
    peer_t *p = &f->p[i];
    p->f = f;
    p->idx = i;
    p->hold_index = -1;
    assert_int_equal(sfu_cert_generate(&f->certs[i]), 0);
    assert_int_equal(sfu_dtls_ctx_init(&p->dc, &f->ctx, &f->certs[i], i == 0 ? opts0 : opts1), 0);
    assert_int_equal(sfu_dtls_create(&p->dc, &callbacks, p, &p->d), 0);
    assert_int_equal(p->d->state, SFU_DTLS_NEW);
  }
  return f;
}

static inline void on_handle_closed(uv_handle_t *h) { (void)h; }

static inline void fixture_close(fixture_t *f) {
  for (int i = 0; i < 2; i++)
    if (f->p[i].d != NULL && !f->p[i].d->closing) sfu_dtls_close(f->p[i].d, peer_closed);
  uv_run(&f->loop, UV_RUN_NOWAIT); /* deliver close_notify replies into closed objects */
  net_clear(f);
  sfu_ctx_close(&f->ctx); /* reaps what is left */
  for (int i = 0; i < 2; i++) {
    assert_null(f->p[i].d);
    free(f->p[i].held);
  }
  uv_close((uv_handle_t *)&f->net_timer, on_handle_closed);
  uv_close((uv_handle_t *)&f->guard, on_handle_closed);
  assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  for (int i = 0; i < 2; i++) {
    sfu_dtls_ctx_destroy(&f->p[i].dc);
    sfu_cert_free(&f->certs[i]);
  }
  sfu_ctx_destroy(&f->ctx);
  sfu_settings_free(&f->settings);
  free(f);
}

static inline void set_fingerprints(fixture_t *f) {
  for (int i = 0; i < 2; i++)
    assert_int_equal(
        sfu_dtls_set_remote_fingerprint(f->p[i].d, SFU_FP_SHA256, f->certs[1 - i].fingerprints[SFU_FP_SHA256]), 0);
}

static inline void guard_cb(uv_timer_t *t) { (void)t; }

typedef bool (*pred_fn)(fixture_t *f);

/* Runs the loop until pred holds; fails after max_ms of wall time. Returns elapsed ms. */
static inline double run_until(fixture_t *f, pred_fn pred, uint64_t max_ms) {
  uint64_t start = uv_hrtime();
  uv_timer_start(&f->guard, guard_cb, 5, 5);
  while (!pred(f)) {
    if ((uv_hrtime() - start) / 1000000u > max_ms) fail_msg("condition not reached within %u ms", (unsigned)max_ms);
    uv_run(&f->loop, UV_RUN_ONCE);
  }
  uv_timer_stop(&f->guard);
  return (double)(uv_hrtime() - start) / 1e6;
}

static inline void run_for(fixture_t *f, uint64_t ms) {
  uint64_t start = uv_hrtime();
  uv_timer_start(&f->guard, guard_cb, 5, 5);
  while ((uv_hrtime() - start) / 1000000u < ms) uv_run(&f->loop, UV_RUN_ONCE);
  uv_timer_stop(&f->guard);
}

static inline bool state_is(const peer_t *p, sfu_dtls_state_t s) {
  return p->d != NULL ? p->d->state == s : (p->n_states > 0 && p->states[p->n_states - 1] == s);
}

static inline bool both_connected(fixture_t *f) {
  return state_is(&f->p[0], SFU_DTLS_CONNECTED) && state_is(&f->p[1], SFU_DTLS_CONNECTED);
}

static inline bool both_ended(fixture_t *f) {
  for (int i = 0; i < 2; i++)
    if (!state_is(&f->p[i], SFU_DTLS_FAILED) && !state_is(&f->p[i], SFU_DTLS_CLOSED)) return false;
  return true;
}

static inline bool p0_ended(fixture_t *f) {
  return state_is(&f->p[0], SFU_DTLS_FAILED) || state_is(&f->p[0], SFU_DTLS_CLOSED);
}

static inline bool p1_ended(fixture_t *f) {
  return state_is(&f->p[1], SFU_DTLS_FAILED) || state_is(&f->p[1], SFU_DTLS_CLOSED);
}

static inline void assert_keys_match(fixture_t *f) {
  peer_t *a = &f->p[0], *b = &f->p[1];
  assert_int_equal(a->keys_calls, 1);
  assert_int_equal(b->keys_calls, 1);
  assert_int_equal(a->suite, b->suite);
  assert_int_equal(a->local_len, b->remote_len);
  assert_memory_equal(a->local, b->remote, a->local_len);
  assert_memory_equal(a->remote, b->local, a->remote_len);
  assert_memory_not_equal(a->local, a->remote, a->local_len);
}

static inline void connect_pair(fixture_t *f, sfu_dtls_role_t r0, sfu_dtls_role_t r1, uint64_t max_ms) {
  set_fingerprints(f);
  assert_int_equal(sfu_dtls_run(f->p[1].d, r1), 0);
  assert_int_equal(sfu_dtls_run(f->p[0].d, r0), 0);
  run_until(f, both_connected, max_ms);
  assert_keys_match(f);
}

#endif
