/* Unit tests for worker/src/dtls/sfu_dtls (+ sfu_dtls_ctx): two sfu_dtls_t,
 * each with its own certificate and DTLS context, on one real libuv loop,
 * wired back to back through a small simulated network (a queue delivered by
 * a timer) that can drop, reorder, duplicate, refragment and add garbage.
 * Covers roles, fingerprints, retransmission, handshake timeout, application
 * data, close_notify, closing from callbacks, and the whole DTLS-SRTP chain
 * into sfu_srtp sessions for every suite. Every test leaves the loop closed.
 * SFU_TEST_LOG=1 prints the worker's debug log; SFU_TEST_FILTER=pattern runs
 * only the matching tests. */
#include <setjmp.h>
#include <stdarg.h>
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

static uint32_t rnd(fixture_t *f) {
  f->rng = f->rng * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(f->rng >> 33);
}

static void log_sink(void *arg, const char *line, size_t len) {
  fixture_t *f = arg;
  f->log_lines++;
  if (f->log_print) fprintf(stderr, "%.*s\n", (int)len, line);
}

static void net_deliver(uv_timer_t *t);

static void enqueue(fixture_t *f, int to, const uint8_t *p, size_t len) {
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

static void net_clear(fixture_t *f) {
  while (f->head != NULL) {
    pkt_t *k = f->head;
    f->head = k->next;
    free(k);
  }
  f->tail = NULL;
}

static void net_deliver(uv_timer_t *t) {
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

static void peer_send(sfu_dtls_t *d, const uint8_t *p, size_t len) {
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

static void peer_on_state(sfu_dtls_t *d, sfu_dtls_state_t state) {
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

static void peer_on_keys(sfu_dtls_t *d, sfu_srtp_suite_t suite, const uint8_t *local, size_t local_len,
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

static void peer_on_app_data(sfu_dtls_t *d, const uint8_t *p, size_t len) {
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

static void peer_closed(sfu_dtls_t *d) {
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
static fixture_t *fixture_open(const sfu_dtls_ctx_options_t *opts0, const sfu_dtls_ctx_options_t *opts1) {
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

static void on_handle_closed(uv_handle_t *h) { (void)h; }

static void fixture_close(fixture_t *f) {
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

static void set_fingerprints(fixture_t *f) {
  for (int i = 0; i < 2; i++)
    assert_int_equal(
        sfu_dtls_set_remote_fingerprint(f->p[i].d, SFU_FP_SHA256, f->certs[1 - i].fingerprints[SFU_FP_SHA256]), 0);
}

static void guard_cb(uv_timer_t *t) { (void)t; }

typedef bool (*pred_fn)(fixture_t *f);

/* Runs the loop until pred holds; fails after max_ms of wall time. Returns elapsed ms. */
static double run_until(fixture_t *f, pred_fn pred, uint64_t max_ms) {
  uint64_t start = uv_hrtime();
  uv_timer_start(&f->guard, guard_cb, 5, 5);
  while (!pred(f)) {
    if ((uv_hrtime() - start) / 1000000u > max_ms) fail_msg("condition not reached within %u ms", (unsigned)max_ms);
    uv_run(&f->loop, UV_RUN_ONCE);
  }
  uv_timer_stop(&f->guard);
  return (double)(uv_hrtime() - start) / 1e6;
}

static void run_for(fixture_t *f, uint64_t ms) {
  uint64_t start = uv_hrtime();
  uv_timer_start(&f->guard, guard_cb, 5, 5);
  while ((uv_hrtime() - start) / 1000000u < ms) uv_run(&f->loop, UV_RUN_ONCE);
  uv_timer_stop(&f->guard);
}

static bool state_is(const peer_t *p, sfu_dtls_state_t s) {
  return p->d != NULL ? p->d->state == s : (p->n_states > 0 && p->states[p->n_states - 1] == s);
}

static bool both_connected(fixture_t *f) {
  return state_is(&f->p[0], SFU_DTLS_CONNECTED) && state_is(&f->p[1], SFU_DTLS_CONNECTED);
}

static bool both_ended(fixture_t *f) {
  for (int i = 0; i < 2; i++)
    if (!state_is(&f->p[i], SFU_DTLS_FAILED) && !state_is(&f->p[i], SFU_DTLS_CLOSED)) return false;
  return true;
}

static bool p0_ended(fixture_t *f) {
  return state_is(&f->p[0], SFU_DTLS_FAILED) || state_is(&f->p[0], SFU_DTLS_CLOSED);
}

static bool p1_ended(fixture_t *f) {
  return state_is(&f->p[1], SFU_DTLS_FAILED) || state_is(&f->p[1], SFU_DTLS_CLOSED);
}

static void assert_keys_match(fixture_t *f) {
  peer_t *a = &f->p[0], *b = &f->p[1];
  assert_int_equal(a->keys_calls, 1);
  assert_int_equal(b->keys_calls, 1);
  assert_int_equal(a->suite, b->suite);
  assert_int_equal(a->local_len, b->remote_len);
  assert_memory_equal(a->local, b->remote, a->local_len);
  assert_memory_equal(a->remote, b->local, a->remote_len);
  assert_memory_not_equal(a->local, a->remote, a->local_len);
}

static void connect_pair(fixture_t *f, sfu_dtls_role_t r0, sfu_dtls_role_t r1, uint64_t max_ms) {
  set_fingerprints(f);
  assert_int_equal(sfu_dtls_run(f->p[1].d, r1), 0);
  assert_int_equal(sfu_dtls_run(f->p[0].d, r0), 0);
  run_until(f, both_connected, max_ms);
  assert_keys_match(f);
}

/* ---- handshakes ---- */

static void test_client_server_handshake(void **state) {
  (void)state;
  fixture_t *f = fixture_open(NULL, NULL);
  peer_t *a = &f->p[0], *b = &f->p[1];

  set_fingerprints(f);
  uint64_t t0 = uv_hrtime();
  assert_int_equal(sfu_dtls_run(b->d, SFU_DTLS_ROLE_SERVER), 0);
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), 0);
  assert_int_equal(a->d->state, SFU_DTLS_CONNECTING);
  assert_int_equal(a->sent, 1); /* the ClientHello went out at once */
  assert_int_equal(b->sent, 0);
  run_until(f, both_connected, 5000);
  double ms = (double)(uv_hrtime() - t0) / 1e6;
  print_message("  in-process DTLS 1.2 handshake (ECDSA P-256, default options): %.2f ms, %d+%d datagrams\n", ms,
                a->sent, b->sent);

  assert_keys_match(f);
  /* Both default: the server's first preference. */
  assert_int_equal(a->suite, SFU_SRTP_AEAD_AES_256_GCM);
  assert_int_equal(a->local_len, 44);
  assert_int_equal(a->n_states, 2);
  assert_int_equal(a->states[0], SFU_DTLS_CONNECTING);
  assert_int_equal(a->states[1], SFU_DTLS_CONNECTED);
  assert_int_equal(b->n_states, 2);
  assert_int_equal(a->d->role, SFU_DTLS_ROLE_CLIENT);
  assert_int_equal(b->d->role, SFU_DTLS_ROLE_SERVER);
  assert_int_equal(a->d->stats.datagrams_out, (uint64_t)a->sent);
  /* The PEM of the other side's certificate. */
  const char *pem = sfu_dtls_remote_cert(a->d);
  assert_non_null(pem);
  assert_true(strncmp(pem, "-----BEGIN CERTIFICATE-----", 27) == 0);
  assert_non_null(sfu_dtls_remote_cert(b->d));
  assert_true(b->max_datagram <= SFU_DTLS_DEFAULT_MTU);
  assert_true(f->log_lines > 0);
  /* run again with the same role: nothing happens */
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), 0);
  assert_int_equal(a->d->state, SFU_DTLS_CONNECTED);
  fixture_close(f);
}

static void test_auto_role(void **state) {
  (void)state;
  assert_int_equal(sfu_dtls_role_for_remote(SFU_DTLS_ROLE_CLIENT), SFU_DTLS_ROLE_SERVER);
  assert_int_equal(sfu_dtls_role_for_remote(SFU_DTLS_ROLE_SERVER), SFU_DTLS_ROLE_CLIENT);
  assert_int_equal(sfu_dtls_role_for_remote(SFU_DTLS_ROLE_AUTO), SFU_DTLS_ROLE_CLIENT);
  assert_string_equal(sfu_dtls_role_name(SFU_DTLS_ROLE_AUTO), "auto");
  assert_string_equal(sfu_dtls_state_name(SFU_DTLS_CONNECTED), "connected");

  fixture_t *f = fixture_open(NULL, NULL);
  /* p0 is 'auto' (never told the peer's role) and runs when ICE connects:
   * server. p1 was told the remote role is 'auto': client. */
  connect_pair(f, SFU_DTLS_ROLE_AUTO, sfu_dtls_role_for_remote(SFU_DTLS_ROLE_AUTO), 5000);
  assert_int_equal(f->p[0].d->role, SFU_DTLS_ROLE_SERVER);
  assert_int_equal(f->p[1].d->role, SFU_DTLS_ROLE_CLIENT);
  assert_int_equal(sfu_dtls_run(f->p[0].d, (sfu_dtls_role_t)9), SFU_EINVAL);
  fixture_close(f);
}

/* Running with another role drops the association and starts over. */
static void test_role_change_restarts(void **state) {
  (void)state;
  fixture_t *f = fixture_open(NULL, NULL);
  peer_t *a = &f->p[0], *b = &f->p[1];
  set_fingerprints(f);
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), 0);
  net_clear(f); /* that ClientHello never arrives */
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_SERVER), 0);
  assert_int_equal(sfu_dtls_run(b->d, SFU_DTLS_ROLE_CLIENT), 0);
  run_until(f, both_connected, 5000);
  assert_keys_match(f);
  assert_int_equal(a->d->role, SFU_DTLS_ROLE_SERVER);
  assert_int_equal(a->n_states, 3);
  assert_int_equal(a->states[0], SFU_DTLS_CONNECTING);
  assert_int_equal(a->states[1], SFU_DTLS_CONNECTING);
  assert_int_equal(a->states[2], SFU_DTLS_CONNECTED);
  fixture_close(f);
}

static void test_both_clients_fail(void **state) {
  (void)state;
  fixture_t *f = fixture_open(NULL, NULL);
  set_fingerprints(f);
  assert_int_equal(sfu_dtls_run(f->p[0].d, SFU_DTLS_ROLE_CLIENT), 0);
  assert_int_equal(sfu_dtls_run(f->p[1].d, SFU_DTLS_ROLE_CLIENT), 0);
  run_until(f, both_ended, 5000);
  assert_true(state_is(&f->p[0], SFU_DTLS_FAILED));
  assert_true(state_is(&f->p[1], SFU_DTLS_FAILED));
  assert_int_equal(f->p[0].keys_calls + f->p[1].keys_calls, 0);
  assert_null(f->p[0].d->ssl);
  /* not running any more: datagrams are refused */
  uint8_t rec[13] = {22, 0xfe, 0xfd};
  assert_int_equal(sfu_dtls_process(f->p[0].d, rec, sizeof(rec)), SFU_ESTATE);
  fixture_close(f);
}

/* ---- fingerprints ---- */

static void test_fingerprint_mismatch_on_server(void **state) {
  (void)state;
  fixture_t *f = fixture_open(NULL, NULL);
  peer_t *a = &f->p[0], *b = &f->p[1];
  /* b expects its own certificate from a */
  assert_int_equal(sfu_dtls_set_remote_fingerprint(a->d, SFU_FP_SHA256, f->certs[1].fingerprints[SFU_FP_SHA256]), 0);
  assert_int_equal(sfu_dtls_set_remote_fingerprint(b->d, SFU_FP_SHA256, f->certs[1].fingerprints[SFU_FP_SHA256]), 0);
  assert_int_equal(sfu_dtls_run(b->d, SFU_DTLS_ROLE_SERVER), 0);
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), 0);
  run_until(f, p1_ended, 5000);
  run_until(f, p0_ended, 5000);
  assert_true(state_is(b, SFU_DTLS_FAILED));
  assert_int_equal(b->keys_calls, 0);
  assert_null(sfu_dtls_remote_cert(b->d));
  /* The client finished its side, then got the server's close_notify. */
  assert_true(state_is(a, SFU_DTLS_CLOSED));
  assert_int_equal(a->states[1], SFU_DTLS_CONNECTED);
  fixture_close(f);
}

static void test_fingerprint_mismatch_on_client(void **state) {
  (void)state;
  fixture_t *f = fixture_open(NULL, NULL);
  peer_t *a = &f->p[0], *b = &f->p[1];
  /* right algorithm, a's own value */
  assert_int_equal(sfu_dtls_set_remote_fingerprint(a->d, SFU_FP_SHA1, f->certs[0].fingerprints[SFU_FP_SHA1]), 0);
  assert_int_equal(sfu_dtls_set_remote_fingerprint(b->d, SFU_FP_SHA256, f->certs[0].fingerprints[SFU_FP_SHA256]), 0);
  assert_int_equal(sfu_dtls_run(b->d, SFU_DTLS_ROLE_SERVER), 0);
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), 0);
  run_until(f, both_ended, 5000);
  assert_true(state_is(a, SFU_DTLS_FAILED));
  assert_int_equal(a->keys_calls, 0);
  assert_true(state_is(b, SFU_DTLS_CLOSED)); /* connected, then close_notify */
  fixture_close(f);
}


static bool p0_connected_p1_done(fixture_t *f) {
  return state_is(&f->p[0], SFU_DTLS_CONNECTED) && f->p[1].d->hs_done;
}

/* Signaling may give the fingerprint after the handshake: checked then. Any
 * hash, any letter case. */
static void test_fingerprint_late_and_formats(void **state) {
  (void)state;
  fixture_t *f = fixture_open(NULL, NULL);
  peer_t *a = &f->p[0], *b = &f->p[1];
  char lower[SFU_FINGERPRINT_MAX + 1];
  const char *fp = f->certs[1].fingerprints[SFU_FP_SHA512];
  for (size_t i = 0; i <= strlen(fp); i++) lower[i] = (char)(fp[i] >= 'A' && fp[i] <= 'F' ? fp[i] + 32 : fp[i]);

  assert_int_equal(sfu_dtls_set_remote_fingerprint(a->d, (sfu_fingerprint_alg_t)7, lower), SFU_EINVAL);
  assert_int_equal(sfu_dtls_set_remote_fingerprint(a->d, SFU_FP_SHA1, ""), SFU_EINVAL);
  assert_int_equal(sfu_dtls_set_remote_fingerprint(a->d, SFU_FP_SHA1, "AB:CD:XY"), SFU_EINVAL);
  assert_int_equal(sfu_dtls_set_remote_fingerprint(a->d, SFU_FP_SHA1, NULL), SFU_EINVAL);
  assert_int_equal(sfu_dtls_set_remote_fingerprint(a->d, SFU_FP_SHA512, lower), 0);
  assert_int_equal(sfu_dtls_run(b->d, SFU_DTLS_ROLE_SERVER), 0);
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), 0);
  run_until(f, p0_connected_p1_done, 5000);
  assert_int_equal(b->d->state, SFU_DTLS_CONNECTING);
  assert_int_equal(b->keys_calls, 0);
  /* b does not take application data before it checked the fingerprint */
  assert_int_equal(sfu_dtls_send_app_data(a->d, (const uint8_t *)"early", 5), 0);
  run_for(f, 20);
  assert_int_equal(b->n_msgs, 0);
  assert_int_equal(sfu_dtls_set_remote_fingerprint(b->d, SFU_FP_SHA224, f->certs[0].fingerprints[SFU_FP_SHA224]), 0);
  assert_int_equal(b->d->state, SFU_DTLS_CONNECTED);
  assert_keys_match(f);
  fixture_close(f);
}

/* ---- loss, reordering, fragmentation ---- */

static const sfu_dtls_ctx_options_t fast_opts = {.initial_rto_ms = 10};

static bool has_epoch(const uint8_t *p, size_t len, unsigned epoch) {
  size_t off = 0;
  while (len - off >= 13) {
    if ((((unsigned)p[off + 3] << 8) | p[off + 4]) == epoch) return true;
    off += 13 + (((size_t)p[off + 11] << 8) | p[off + 12]);
    if (off > len) break;
  }
  return false;
}

/* Drops the first datagram that carries an epoch-1 record (a final flight). */
static bool drop_first_epoch1(peer_t *me, const uint8_t *p, size_t len) {
  if (me->refrag_state == 0 && has_epoch(p, len, 1)) {
    me->refrag_state = 1;
    return true;
  }
  return false;
}

static void test_retransmission(void **state) {
  (void)state;
  /* 1: the ClientHello, 2: the server's first flight, 3: the client's second
   * flight, 4: the server's final flight (only the client's timer can fix it). */
  for (int scenario = 1; scenario <= 4; scenario++) {
    fixture_t *f = fixture_open(&fast_opts, &fast_opts);
    peer_t *a = &f->p[0], *b = &f->p[1];
    if (scenario == 1) a->drop_mask = 1u << 0;
    if (scenario == 2) b->drop_mask = 1u << 0;
    if (scenario == 3) a->drop_mask = 1u << 1;
    if (scenario == 4) b->filter = drop_first_epoch1;
    connect_pair(f, SFU_DTLS_ROLE_CLIENT, SFU_DTLS_ROLE_SERVER, 5000);
    assert_true(a->dropped + b->dropped == 1);
    /* Without loss: 2 + 2 datagrams. (stats.retransmits only counts resends
     * from our timer; OpenSSL also resends from inside SSL_read when a
     * datagram arrives after its timer expired.) */
    assert_true(a->sent + b->sent >= 5);
    if (scenario == 4) assert_true(a->sent >= 3); /* only the client's timer can do it */
    fixture_close(f);
  }
}

/* A 300-byte MTU splits the server's flight into several datagrams: all
 * within the MTU; with one held back (reordered) and one lost. */
static void test_small_mtu_reorder_loss(void **state) {
  (void)state;
  const sfu_dtls_ctx_options_t opts = {.mtu = 300, .initial_rto_ms = 10};
  fixture_t *f = fixture_open(&opts, &opts);
  peer_t *a = &f->p[0], *b = &f->p[1];
  b->hold_index = 0;
  b->drop_mask = 1u << 2;
  a->hold_index = 1;
  connect_pair(f, SFU_DTLS_ROLE_CLIENT, SFU_DTLS_ROLE_SERVER, 5000);
  assert_true(b->sent >= 4);
  assert_true(a->max_datagram <= 300);
  assert_true(b->max_datagram <= 300);
  assert_true(b->max_datagram > 200); /* records were packed up to the MTU */
  fixture_close(f);
}

static void test_random_loss_and_duplication(void **state) {
  (void)state;
  uint64_t retransmits = 0;
  double total_ms = 0;
  for (uint64_t seed = 1; seed <= 6; seed++) {
    fixture_t *f = fixture_open(&fast_opts, &fast_opts);
    f->rng = seed * 7919u;
    for (int i = 0; i < 2; i++) {
      f->p[i].loss_pct = 25;
      f->p[i].dup_pct = 15;
    }
    set_fingerprints(f);
    assert_int_equal(sfu_dtls_run(f->p[1].d, SFU_DTLS_ROLE_SERVER), 0);
    assert_int_equal(sfu_dtls_run(f->p[0].d, SFU_DTLS_ROLE_CLIENT), 0);
    total_ms += run_until(f, both_connected, 20000);
    assert_keys_match(f);
    retransmits += f->p[0].d->stats.retransmits + f->p[1].d->stats.retransmits;
    fixture_close(f);
  }
  print_message("  25%% loss + 15%% duplication, 6 runs: %.1f ms on average, %llu retransmissions in all\n",
                total_ms / 6, (unsigned long long)retransmits);
}

/* The ClientHello arrives as two handshake fragments in two datagrams, the
 * second one first (what a 1.4 kB Chromium ClientHello looks like, and
 * reordered): OpenSSL must reassemble it. Later epoch-0 records of the client
 * are renumbered so that the extra record does not look like a replay. */
static bool refragment_client_hello(peer_t *me, const uint8_t *p, size_t len) {
  fixture_t *f = me->f;
  uint8_t out[4096];

  assert_true(len <= sizeof(out));
  if (me->refrag_state == 0) {
    size_t rec_len = ((size_t)p[11] << 8) | p[12];
    assert_true(len >= 25 && p[0] == 22 && p[13] == 1);
    assert_int_equal(13 + rec_len, len);
    size_t body = rec_len - 12;
    size_t h1 = body / 2, h2 = body - h1;
    assert_int_equal(((size_t)p[14] << 16) | ((size_t)p[15] << 8) | p[16], body);
    /* second fragment: record seq + 1, fragment_offset h1 */
    memcpy(out, p, 25);
    out[10] = (uint8_t)(out[10] + 1);
    out[11] = (uint8_t)((12 + h2) >> 8);
    out[12] = (uint8_t)(12 + h2);
    out[19] = (uint8_t)(h1 >> 16);
    out[20] = (uint8_t)(h1 >> 8);
    out[21] = (uint8_t)h1;
    out[22] = (uint8_t)(h2 >> 16);
    out[23] = (uint8_t)(h2 >> 8);
    out[24] = (uint8_t)h2;
    memcpy(out + 25, p + 25 + h1, h2);
    enqueue(f, 1 - me->idx, out, 25 + h2);
    /* first fragment */
    memcpy(out, p, 25);
    out[11] = (uint8_t)((12 + h1) >> 8);
    out[12] = (uint8_t)(12 + h1);
    out[22] = (uint8_t)(h1 >> 16);
    out[23] = (uint8_t)(h1 >> 8);
    out[24] = (uint8_t)h1;
    memcpy(out + 25, p + 25, h1);
    enqueue(f, 1 - me->idx, out, 25 + h1);
    me->refrag_state = 1;
    return true;
  }
  memcpy(out, p, len);
  for (size_t off = 0; len - off >= 13;) {
    if (out[off + 3] == 0 && out[off + 4] == 0) {
      for (int i = 10; i >= 5; i--) /* 48-bit sequence number + 1 */
        if (++out[off + i] != 0) break;
    }
    off += 13 + (((size_t)out[off + 11] << 8) | out[off + 12]);
    if (off > len) break;
  }
  enqueue(f, 1 - me->idx, out, len);
  return true;
}

static void test_fragmented_client_hello(void **state) {
  (void)state;
  /* Slow timers: the handshake must succeed from the two fragments, not from a retransmission. */
  const sfu_dtls_ctx_options_t slow = {.initial_rto_ms = SFU_DTLS_MAX_RTO_MS};
  fixture_t *f = fixture_open(&slow, &slow);
  f->p[0].filter = refragment_client_hello;
  connect_pair(f, SFU_DTLS_ROLE_CLIENT, SFU_DTLS_ROLE_SERVER, 3000);
  assert_int_equal(f->p[0].refrag_state, 1);
  assert_int_equal(f->p[0].d->stats.retransmits + f->p[1].d->stats.retransmits, 0);
  assert_int_equal(f->p[1].d->stats.datagrams_in, f->p[0].sent + 1);
  fixture_close(f);
}

/* A ClientHello of about 1.4 kB (Chromium's DTLS 1.3 ClientHello with its
 * post-quantum key share has that size; here a long ALPN list makes
 * OpenSSL's one as big): the client itself splits it into two fragments in
 * two datagrams within the MTU, delivered in reverse order. */
static void test_large_client_hello(void **state) {
  (void)state;
  const sfu_dtls_ctx_options_t slow = {.initial_rto_ms = SFU_DTLS_MAX_RTO_MS};
  fixture_t *f = fixture_open(&slow, &slow);
  peer_t *a = &f->p[0], *b = &f->p[1];
  uint8_t alpn[1200];
  size_t n = 0;
  while (n + 50 <= sizeof(alpn)) {
    alpn[n] = 49;
    memset(alpn + n + 1, 'a' + (int)(n / 50) % 26, 49);
    n += 50;
  }
  assert_int_equal(SSL_CTX_set_alpn_protos(a->dc.ssl_ctx, alpn, (unsigned)n), 0);
  a->hold_index = 0;
  set_fingerprints(f);
  assert_int_equal(sfu_dtls_run(b->d, SFU_DTLS_ROLE_SERVER), 0);
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), 0);
  assert_int_equal(a->sent, 2);
  assert_true(a->max_datagram > 1200 && a->max_datagram <= SFU_DTLS_DEFAULT_MTU);
  run_until(f, both_connected, 3000);
  assert_keys_match(f);
  assert_int_equal(a->d->stats.retransmits + b->d->stats.retransmits, 0);
  fixture_close(f);
}

/* ---- garbage ---- */

/* Datagrams that pass the RFC 7983 test but are not valid records for the receiver. */
static size_t make_garbage(fixture_t *f, uint8_t *g, int kind) {
  size_t len = 13 + rnd(f) % 200;
  for (size_t i = 0; i < len; i++) g[i] = (uint8_t)rnd(f);
  g[0] = (uint8_t)(20 + rnd(f) % 44);
  switch (kind % 5) {
    case 0: /* random */
      break;
    case 1: /* handshake header announcing more than there is */
      g[0] = 22, g[1] = 0xfe, g[2] = 0xfd, g[3] = 0, g[4] = 0, g[11] = 0xff, g[12] = 0xff;
      break;
    case 2: /* application data of epoch 1 that does not authenticate */
      g[0] = 23, g[1] = 0xfe, g[2] = 0xfd, g[3] = 0, g[4] = 1;
      g[11] = (uint8_t)((len - 13) >> 8), g[12] = (uint8_t)(len - 13);
      break;
    case 3: /* unknown protocol version */
      g[0] = 22, g[1] = 0x03, g[2] = 0x03;
      break;
    case 4: /* an epoch far in the future */
      g[0] = 22, g[1] = 0xfe, g[2] = 0xfd, g[3] = 0x12, g[4] = 0x34;
      g[11] = (uint8_t)((len - 13) >> 8), g[12] = (uint8_t)(len - 13);
      break;
  }
  return len;
}

static bool add_garbage(peer_t *me, const uint8_t *p, size_t len) {
  uint8_t g[256];
  (void)p;
  (void)len;
  for (int k = 0; k < 5; k++) enqueue(me->f, 1 - me->idx, g, make_garbage(me->f, g, k));
  return false;
}

static bool app_msgs_2(fixture_t *f) {
  return f->p[0].n_msgs >= 1 && f->p[1].n_msgs >= 1;
}

static void test_garbage(void **state) {
  (void)state;
  fixture_t *f = fixture_open(&fast_opts, &fast_opts);
  peer_t *a = &f->p[0], *b = &f->p[1];
  uint8_t g[256];

  /* not DTLS at all (RFC 7983): STUN, RTP, too short, empty */
  memset(g, 0, sizeof(g));
  assert_int_equal(sfu_dtls_process(a->d, g, 20), SFU_EPROTO);
  g[0] = 0x80;
  assert_int_equal(sfu_dtls_process(a->d, g, 20), SFU_EPROTO);
  g[0] = 22;
  assert_int_equal(sfu_dtls_process(a->d, g, 12), SFU_EPROTO);
  assert_int_equal(sfu_dtls_process(a->d, g, 0), SFU_EPROTO);
  g[0] = 64;
  assert_int_equal(sfu_dtls_process(a->d, g, 20), SFU_EPROTO);
  assert_int_equal(a->d->stats.not_dtls, 5);
  /* DTLS before running: refused */
  assert_int_equal(sfu_dtls_process(a->d, g, make_garbage(f, g, 0)), SFU_ESTATE);
  assert_int_equal(a->d->stats.not_running, 1);

  /* a server waiting for its ClientHello swallows garbage */
  set_fingerprints(f);
  assert_int_equal(sfu_dtls_run(b->d, SFU_DTLS_ROLE_SERVER), 0);
  for (int k = 0; k < 200; k++) assert_int_equal(sfu_dtls_process(b->d, g, make_garbage(f, g, k)), 0);
  assert_int_equal(b->d->state, SFU_DTLS_CONNECTING);
  assert_int_equal(b->sent, 0);
  assert_int_equal(b->d->hs_deadline, 0); /* garbage does not start the handshake clock */

  /* five garbage datagrams before every real one, both ways */
  a->filter = add_garbage;
  b->filter = add_garbage;
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), 0);
  run_until(f, both_connected, 5000);
  assert_keys_match(f);

  /* and once connected */
  for (int k = 0; k < 200; k++) {
    assert_int_equal(sfu_dtls_process(a->d, g, make_garbage(f, g, k)), 0);
    assert_int_equal(sfu_dtls_process(b->d, g, make_garbage(f, g, k)), 0);
  }
  assert_true(both_connected(f));
  assert_int_equal(sfu_dtls_send_app_data(a->d, (const uint8_t *)"ping", 4), 0);
  assert_int_equal(sfu_dtls_send_app_data(b->d, (const uint8_t *)"pong", 4), 0);
  run_until(f, app_msgs_2, 5000);
  assert_int_equal(a->msg_first[0], 'p');
  assert_int_equal(a->msg_last[0], 'g');
  fixture_close(f);
}

/* ---- application data ---- */

static bool p0_has_5_msgs(fixture_t *f) {
  return f->p[0].n_msgs >= 5;
}

static void test_app_data(void **state) {
  (void)state;
  fixture_t *f = fixture_open(NULL, NULL);
  peer_t *a = &f->p[0], *b = &f->p[1];
  static uint8_t big[SFU_DTLS_MAX_APP_DATA + 1];
  const size_t sizes[5] = {1, 100, 1200, 1300, SFU_DTLS_MAX_APP_DATA};

  assert_int_equal(sfu_dtls_send_app_data(a->d, big, 10), SFU_ESTATE);
  connect_pair(f, SFU_DTLS_ROLE_CLIENT, SFU_DTLS_ROLE_SERVER, 5000);
  b->echo_app_data = true;
  a->allow_big = b->allow_big = true;
  for (size_t i = 0; i < sizeof(big); i++) big[i] = (uint8_t)(i * 31u);
  for (int i = 0; i < 5; i++) {
    big[0] = (uint8_t)i;
    big[sizes[i] - 1] = (uint8_t)(0xa0 + i);
    assert_int_equal(sfu_dtls_send_app_data(a->d, big, sizes[i]), 0);
  }
  assert_int_equal(sfu_dtls_send_app_data(a->d, big, 0), SFU_EINVAL);
  assert_int_equal(sfu_dtls_send_app_data(a->d, big, SFU_DTLS_MAX_APP_DATA + 1), SFU_ETOOBIG);
  run_until(f, p0_has_5_msgs, 5000);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(b->msg_len[i], sizes[i]);
    assert_int_equal(a->msg_len[i], sizes[i]);
    assert_int_equal(a->msg_first[i], sizes[i] == 1 ? 0xa0 : i);
    assert_int_equal(a->msg_last[i], 0xa0 + i);
  }
  assert_int_equal(a->d->stats.app_data_out, 5);
  assert_int_equal(b->d->stats.app_data_in, 5);
  assert_int_equal(a->d->stats.app_data_in, 5);
  fixture_close(f);
}

/* ---- close ---- */

static void test_close_sends_close_notify(void **state) {
  (void)state;
  fixture_t *f = fixture_open(NULL, NULL);
  peer_t *a = &f->p[0], *b = &f->p[1];
  connect_pair(f, SFU_DTLS_ROLE_CLIENT, SFU_DTLS_ROLE_SERVER, 5000);
  int sent = a->sent;
  sfu_dtls_close(a->d, peer_closed);
  sfu_dtls_close(a->d, peer_closed); /* idempotent */
  assert_int_equal(a->sent, sent + 1); /* the alert */
  assert_int_equal(sfu_dtls_send_app_data(a->d, (const uint8_t *)"x", 1), SFU_ESTATE);
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), SFU_ESTATE);
  assert_non_null(a->d); /* freed after the loop turn */
  run_until(f, p1_ended, 5000);
  assert_true(state_is(b, SFU_DTLS_CLOSED));
  assert_int_equal(b->n_states, 3);
  assert_null(sfu_dtls_remote_cert(b->d));
  assert_null(a->d);
  assert_int_equal(a->close_cbs, 1);
  assert_int_equal(a->n_states, 2); /* no callback after close */
  assert_int_equal(sfu_dtls_send_app_data(b->d, (const uint8_t *)"x", 1), SFU_ESTATE);
  fixture_close(f);
}

static void close_self_on_connected(sfu_dtls_t *d, sfu_dtls_state_t st) {
  peer_t *me = d->data;
  me->states[me->n_states++] = st;
  if (st == SFU_DTLS_CONNECTED) sfu_dtls_close(d, peer_closed);
}

static void close_self_on_keys(sfu_dtls_t *d, sfu_srtp_suite_t suite, const uint8_t *l, size_t ll, const uint8_t *r,
                               size_t rl) {
  peer_t *me = d->data;
  (void)suite, (void)l, (void)ll, (void)r, (void)rl;
  me->keys_calls++;
  sfu_dtls_close(d, peer_closed);
}

static void close_self_on_data(sfu_dtls_t *d, const uint8_t *p, size_t len) {
  peer_t *me = d->data;
  (void)p, (void)len;
  me->n_msgs++;
  sfu_dtls_close(d, peer_closed);
}

static void close_self_on_send(sfu_dtls_t *d, const uint8_t *p, size_t len) {
  peer_send(d, p, len);
  sfu_dtls_close(d, peer_closed);
}

static bool p1_gone(fixture_t *f) {
  return f->p[1].d == NULL;
}

/* The owner closes its object from inside each callback. */
static void test_close_from_callbacks(void **state) {
  (void)state;
  for (int which = 0; which < 4; which++) {
    fixture_t *f = fixture_open(&fast_opts, &fast_opts);
    peer_t *a = &f->p[0], *b = &f->p[1];
    sfu_dtls_callbacks_t cb = callbacks;
    if (which == 0) cb.on_state = close_self_on_connected;
    if (which == 1) cb.on_srtp_keys = close_self_on_keys;
    if (which == 2) cb.on_app_data = close_self_on_data;
    if (which == 3) cb.send = close_self_on_send;
    b->d->cb = cb;
    set_fingerprints(f);
    assert_int_equal(sfu_dtls_run(b->d, SFU_DTLS_ROLE_SERVER), 0);
    assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), 0);
    if (which == 2) {
      run_until(f, both_connected, 5000);
      assert_int_equal(sfu_dtls_send_app_data(a->d, (const uint8_t *)"bye", 3), 0);
    }
    run_until(f, p1_gone, 5000);
    assert_int_equal(b->close_cbs, 1);
    if (which == 0 || which == 2) { /* b was connected: a gets the close_notify */
      run_until(f, p0_ended, 5000);
      assert_true(state_is(a, SFU_DTLS_CLOSED));
    }
    fixture_close(f);
  }
}

/* ---- timeouts ---- */

static void test_handshake_timeout(void **state) {
  (void)state;
  const sfu_dtls_ctx_options_t opts = {.initial_rto_ms = 10, .handshake_timeout_ms = 300};
  fixture_t *f = fixture_open(&opts, &opts);
  peer_t *a = &f->p[0], *b = &f->p[1];
  a->loss_pct = 100; /* a black hole */
  set_fingerprints(f);
  assert_int_equal(sfu_dtls_run(b->d, SFU_DTLS_ROLE_SERVER), 0);
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), 0);
  double ms = run_until(f, p0_ended, 5000);
  assert_true(state_is(a, SFU_DTLS_FAILED));
  assert_true(ms >= 250);
  assert_true(a->d->stats.retransmits >= 2);
  /* the server never heard anything: still waiting, no deadline */
  assert_int_equal(b->d->state, SFU_DTLS_CONNECTING);
  assert_null(a->d->ssl);
  fixture_close(f);
}

/* A client that goes away mid-handshake: the server gives up after its deadline. */
static void test_server_handshake_timeout(void **state) {
  (void)state;
  const sfu_dtls_ctx_options_t opts = {.initial_rto_ms = 10, .handshake_timeout_ms = 200};
  fixture_t *f = fixture_open(&opts, &opts);
  peer_t *a = &f->p[0], *b = &f->p[1];
  set_fingerprints(f);
  a->drop_mask = ~1u; /* only the ClientHello goes through */
  assert_int_equal(sfu_dtls_run(b->d, SFU_DTLS_ROLE_SERVER), 0);
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), 0);
  run_until(f, both_ended, 5000);
  assert_true(state_is(b, SFU_DTLS_FAILED));
  assert_true(b->d->stats.retransmits >= 1);
  fixture_close(f);
}

static void test_close_during_handshake(void **state) {
  (void)state;
  const sfu_dtls_ctx_options_t opts = {.initial_rto_ms = 10, .handshake_timeout_ms = 200};
  fixture_t *f = fixture_open(&opts, &opts);
  peer_t *a = &f->p[0], *b = &f->p[1];
  set_fingerprints(f);
  assert_int_equal(sfu_dtls_run(b->d, SFU_DTLS_ROLE_SERVER), 0);
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), 0);
  uv_run(&f->loop, UV_RUN_NOWAIT); /* ClientHello delivered, server flight queued */
  assert_int_equal(a->d->state, SFU_DTLS_CONNECTING);
  int sent = a->sent;
  sfu_dtls_close(a->d, peer_closed);
  assert_int_equal(a->sent, sent); /* no close_notify before the handshake */
  run_until(f, p1_ended, 5000);
  assert_true(state_is(b, SFU_DTLS_FAILED));
  fixture_close(f);
}

/* ---- SRTP ---- */

static void test_no_common_srtp_profile(void **state) {
  (void)state;
  const sfu_dtls_ctx_options_t o0 = {.srtp_profiles = "SRTP_AES128_CM_SHA1_32"};
  const sfu_dtls_ctx_options_t o1 = {.srtp_profiles = "SRTP_AES128_CM_SHA1_80"};
  fixture_t *f = fixture_open(&o0, &o1);
  set_fingerprints(f);
  assert_int_equal(sfu_dtls_run(f->p[1].d, SFU_DTLS_ROLE_SERVER), 0);
  assert_int_equal(sfu_dtls_run(f->p[0].d, SFU_DTLS_ROLE_CLIENT), 0);
  run_until(f, both_ended, 5000);
  assert_int_equal(f->p[0].keys_calls + f->p[1].keys_calls, 0);
  fixture_close(f);
}

static void make_rtp(uint8_t *buf, uint16_t seq, size_t payload) {
  memset(buf, 0, 12 + payload);
  buf[0] = 0x80;
  buf[1] = 96;
  buf[2] = (uint8_t)(seq >> 8);
  buf[3] = (uint8_t)seq;
  buf[8] = 0xde, buf[9] = 0xad, buf[10] = 0xbe, buf[11] = 0xef;
  for (size_t i = 0; i < payload; i++) buf[12 + i] = (uint8_t)(i + seq);
}

/* The whole chain: DTLS handshake, exported keys, SRTP sessions on both
 * sides, protect on one, unprotect on the other; for every suite. */
static void test_dtls_srtp_chain(void **state) {
  static const struct {
    const char *profile;
    sfu_srtp_suite_t suite;
  } cases[] = {
      {"SRTP_AEAD_AES_256_GCM", SFU_SRTP_AEAD_AES_256_GCM},
      {"SRTP_AEAD_AES_128_GCM", SFU_SRTP_AEAD_AES_128_GCM},
      {"SRTP_AES128_CM_SHA1_80", SFU_SRTP_AES_CM_128_HMAC_SHA1_80},
      {"SRTP_AES128_CM_SHA1_32", SFU_SRTP_AES_CM_128_HMAC_SHA1_32},
  };
  (void)state;
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    /* the client offers one profile, the server everything */
    const sfu_dtls_ctx_options_t client_opts = {.srtp_profiles = cases[c].profile};
    fixture_t *f = fixture_open(&client_opts, NULL);
    peer_t *a = &f->p[0], *b = &f->p[1];
    sfu_srtp_t *a_out, *a_in, *b_out, *b_in, *wrong;
    uint8_t pkt[256], plain[256];
    size_t len;

    connect_pair(f, SFU_DTLS_ROLE_CLIENT, SFU_DTLS_ROLE_SERVER, 5000);
    assert_int_equal(a->suite, cases[c].suite);
    assert_int_equal(sfu_srtp_create(&a_out, SFU_SRTP_OUTBOUND, a->suite, a->local, a->local_len), 0);
    assert_int_equal(sfu_srtp_create(&a_in, SFU_SRTP_INBOUND, a->suite, a->remote, a->remote_len), 0);
    assert_int_equal(sfu_srtp_create(&b_out, SFU_SRTP_OUTBOUND, b->suite, b->local, b->local_len), 0);
    assert_int_equal(sfu_srtp_create(&b_in, SFU_SRTP_INBOUND, b->suite, b->remote, b->remote_len), 0);
    /* b's own sending key cannot open a's packets */
    assert_int_equal(sfu_srtp_create(&wrong, SFU_SRTP_INBOUND, b->suite, b->local, b->local_len), 0);

    for (uint16_t seq = 1; seq <= 3; seq++) {
      make_rtp(pkt, seq, 100);
      memcpy(plain, pkt, 112);
      len = 112;
      assert_int_equal(sfu_srtp_protect_rtp(a_out, pkt, &len, sizeof(pkt)), 0);
      uint8_t copy[256];
      size_t copy_len = len;
      memcpy(copy, pkt, len);
      assert_int_equal(sfu_srtp_unprotect_rtp(b_in, pkt, &len), 0);
      assert_int_equal(len, 112);
      assert_memory_equal(pkt, plain, 112);
      assert_int_equal(sfu_srtp_unprotect_rtp(wrong, copy, &copy_len), SFU_EPROTO);
    }
    /* and RTCP the other way */
    memset(pkt, 0, 28);
    pkt[0] = 0x80, pkt[1] = 200, pkt[3] = 6, pkt[7] = 9;
    memcpy(plain, pkt, 28);
    len = 28;
    assert_int_equal(sfu_srtp_protect_rtcp(b_out, pkt, &len, sizeof(pkt)), 0);
    assert_int_equal(sfu_srtp_unprotect_rtcp(a_in, pkt, &len), 0);
    assert_int_equal(len, 28);
    assert_memory_equal(pkt, plain, 28);

    sfu_srtp_destroy(a_out);
    sfu_srtp_destroy(a_in);
    sfu_srtp_destroy(b_out);
    sfu_srtp_destroy(b_in);
    sfu_srtp_destroy(wrong);
    fixture_close(f);
  }
}

/* ---- context ---- */

static void test_ctx_options(void **state) {
  uv_loop_t loop;
  sfu_settings_t settings;
  sfu_ctx_t ctx;
  sfu_cert_t c1, c2, mixed;
  sfu_dtls_ctx_t dc;
  sfu_dtls_ctx_options_t o;
  (void)state;

  assert_int_equal(uv_loop_init(&loop), 0);
  sfu_settings_init(&settings);
  settings.log_level = SFU_LOG_LEVEL_NONE;
  assert_int_equal(sfu_ctx_init(&ctx, &loop, &settings), 0);
  assert_int_equal(sfu_cert_generate(&c1), 0);
  assert_int_equal(sfu_cert_generate(&c2), 0);

  memset(&o, 0, sizeof(o));
  o.mtu = 100;
  assert_int_equal(sfu_dtls_ctx_init(&dc, &ctx, &c1, &o), SFU_EINVAL);
  o.mtu = 0;
  o.initial_rto_ms = 5000;
  assert_int_equal(sfu_dtls_ctx_init(&dc, &ctx, &c1, &o), SFU_EINVAL);
  o.initial_rto_ms = 0;
  o.srtp_profiles = "SRTP_NONSENSE";
  assert_int_equal(sfu_dtls_ctx_init(&dc, &ctx, &c1, &o), SFU_EINVAL);
  mixed = c1;
  mixed.pkey = c2.pkey;
  assert_true(sfu_dtls_ctx_init(&dc, &ctx, &mixed, NULL) != 0);
  assert_int_equal(sfu_dtls_ctx_init(&dc, &ctx, &c1, NULL), 0);
  assert_int_equal(dc.opts.mtu, SFU_DTLS_DEFAULT_MTU);
  assert_int_equal(dc.opts.initial_rto_ms, SFU_DTLS_DEFAULT_INITIAL_RTO_MS);
  assert_int_equal(dc.opts.handshake_timeout_ms, SFU_DTLS_DEFAULT_HANDSHAKE_TIMEOUT_MS);
  sfu_dtls_t *d = NULL;
  sfu_dtls_callbacks_t no_send = {0};
  assert_int_equal(sfu_dtls_create(&dc, &no_send, NULL, &d), SFU_EINVAL);
  assert_null(d);
  sfu_dtls_ctx_destroy(&dc);

  sfu_cert_free(&c1);
  sfu_cert_free(&c2);
  sfu_ctx_close(&ctx);
  assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&loop), 0);
  sfu_ctx_destroy(&ctx);
  sfu_settings_free(&settings);
}

/* Several handshakes in a row for a steadier time measurement. */
static void test_handshake_time(void **state) {
  (void)state;
  double total = 0, best = 1e9;
  const int n = 5;
  for (int i = 0; i < n; i++) {
    fixture_t *f = fixture_open(NULL, NULL);
    set_fingerprints(f);
    uint64_t t0 = uv_hrtime();
    assert_int_equal(sfu_dtls_run(f->p[1].d, SFU_DTLS_ROLE_SERVER), 0);
    assert_int_equal(sfu_dtls_run(f->p[0].d, SFU_DTLS_ROLE_CLIENT), 0);
    run_until(f, both_connected, 10000);
    double ms = (double)(uv_hrtime() - t0) / 1e6;
    total += ms;
    if (ms < best) best = ms;
    fixture_close(f);
  }
  print_message("  handshake time over %d runs: mean %.2f ms, best %.2f ms\n", n, total / n, best);
}

static int group_setup(void **state) {
  (void)state;
  return sfu_srtp_init();
}

static int group_teardown(void **state) {
  (void)state;
  sfu_srtp_shutdown();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_server_handshake),
      cmocka_unit_test(test_auto_role),
      cmocka_unit_test(test_role_change_restarts),
      cmocka_unit_test(test_both_clients_fail),
      cmocka_unit_test(test_fingerprint_mismatch_on_server),
      cmocka_unit_test(test_fingerprint_mismatch_on_client),
      cmocka_unit_test(test_fingerprint_late_and_formats),
      cmocka_unit_test(test_retransmission),
      cmocka_unit_test(test_small_mtu_reorder_loss),
      cmocka_unit_test(test_random_loss_and_duplication),
      cmocka_unit_test(test_fragmented_client_hello),
      cmocka_unit_test(test_large_client_hello),
      cmocka_unit_test(test_garbage),
      cmocka_unit_test(test_app_data),
      cmocka_unit_test(test_close_sends_close_notify),
      cmocka_unit_test(test_close_from_callbacks),
      cmocka_unit_test(test_handshake_timeout),
      cmocka_unit_test(test_server_handshake_timeout),
      cmocka_unit_test(test_close_during_handshake),
      cmocka_unit_test(test_no_common_srtp_profile),
      cmocka_unit_test(test_dtls_srtp_chain),
      cmocka_unit_test(test_ctx_options),
      cmocka_unit_test(test_handshake_time),
  };
  if (getenv("SFU_TEST_FILTER") != NULL) cmocka_set_test_filter(getenv("SFU_TEST_FILTER"));
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
