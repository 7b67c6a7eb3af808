/*
 * Unit tests for worker/src/ice/sfu_ice_server (ICE-lite, consent freshness)
 * with a real libuv loop. Requests are built with sfu_stun's writer (and the
 * RFC 5769 sample request, whose credentials are "evtj" / the RFC password);
 * every callback is recorded as an event and checked in order. Logging is on
 * (debug, every tag) into a counting sink so the log lines run too.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sfu_ctx.h"
#include "sfu_error.h"
#include "sfu_ice_server.h"
#include "sfu_stun.h"

#define UFRAG "evtj"
#define PWD "VOkJxbRl1RmTxUk/WvJxBt"

static const uint8_t rfc_request[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87,
    0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
    0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f,
    0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
    0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e,
    0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};

/* ---- events ---- */

typedef enum ev_kind { EV_SEND, EV_ADDED, EV_REMOVED, EV_SELECTED, EV_STATE, EV_UFRAG_ADDED, EV_UFRAG_REMOVED } ev_kind_t;

typedef struct ev {
  ev_kind_t kind;
  int tuple; /* index of the test tuple, -1 */
  sfu_ice_state_t state;
  char ufrag[64];
  uint8_t bytes[512]; /* EV_SEND */
  size_t len;
} ev_t;

#define NTUPLES 12

typedef struct fixture {
  uv_loop_t loop;
  sfu_settings_t settings;
  sfu_ctx_t ctx;
  sfu_ice_server_t *srv;
  sfu_tuple_t tuples[NTUPLES];
  int socks[NTUPLES]; /* fake socket objects: tuple.sock points here */
  ev_t ev[256];
  size_t nev;
  size_t next; /* first event not yet checked */
  size_t log_lines;
  int closed_count;
  /* behaviours */
  bool close_on_state;         /* close the server from on_state */
  bool remove_in_removed;      /* call remove_tuple from on_tuple_removed */
  bool close_on_added;         /* close the server from on_tuple_added */
  uv_timer_t pinger;           /* sends checks periodically */
  int ping_tuple, ping_count, ping_max;
  bool ping_stop_on_disconnect;
  int pings_at_disconnect;
  uint64_t disconnected_at;
} fixture_t;

static int tuple_index(fixture_t *f, const sfu_tuple_t *t) {
  int i;
  for (i = 0; i < NTUPLES; i++)
    if (sfu_tuple_equal(&f->tuples[i], t)) return i;
  return -1;
}

static ev_t *push(fixture_t *f, ev_kind_t kind, const sfu_tuple_t *t) {
  ev_t *e;
  assert_true(f->nev < sizeof(f->ev) / sizeof(f->ev[0]));
  e = &f->ev[f->nev++];
  memset(e, 0, sizeof(*e));
  e->kind = kind;
  e->tuple = t != NULL ? tuple_index(f, t) : -1;
  return e;
}

static void cb_send(sfu_ice_server_t *srv, const sfu_tuple_t *t, const uint8_t *p, size_t len) {
  ev_t *e = push(srv->data, EV_SEND, t);
  assert_true(len <= sizeof(e->bytes));
  memcpy(e->bytes, p, len);
  e->len = len;
}

static void cb_added(sfu_ice_server_t *srv, const sfu_tuple_t *t) {
  fixture_t *f = srv->data;
  push(f, EV_ADDED, t);
  if (f->close_on_added) {
    sfu_ice_server_close(srv, NULL);
    f->srv = NULL;
  }
}

static void cb_removed(sfu_ice_server_t *srv, const sfu_tuple_t *t) {
  fixture_t *f = srv->data;
  push(f, EV_REMOVED, t);
  if (f->remove_in_removed) sfu_ice_server_remove_tuple(srv, t); /* ignored */
}

static void cb_selected(sfu_ice_server_t *srv, const sfu_tuple_t *t) {
  assert_ptr_equal(sfu_ice_server_selected_tuple(srv), t);
  push(srv->data, EV_SELECTED, t);
}

static void cb_state(sfu_ice_server_t *srv, sfu_ice_state_t state) {
  fixture_t *f = srv->data;
  push(f, EV_STATE, NULL)->state = state;
  assert_int_equal(sfu_ice_server_state(srv), state);
  if (state == SFU_ICE_DISCONNECTED) {
    f->disconnected_at = uv_now(&f->loop);
    f->pings_at_disconnect = f->ping_count;
    if (f->ping_stop_on_disconnect) uv_timer_stop(&f->pinger);
  }
  if (f->close_on_state) {
    sfu_ice_server_close(srv, NULL);
    f->srv = NULL;
  }
}

static void cb_ufrag(fixture_t *f, ev_kind_t kind, const char *u, size_t len) {
  ev_t *e = push(f, kind, NULL);
  assert_true(len < sizeof(e->ufrag));
  memcpy(e->ufrag, u, len);
  assert_int_equal(u[len], '\0');
}

static void cb_ufrag_added(sfu_ice_server_t *srv, const char *u, size_t len) {
  cb_ufrag(srv->data, EV_UFRAG_ADDED, u, len);
}

static void cb_ufrag_removed(sfu_ice_server_t *srv, const char *u, size_t len) {
  cb_ufrag(srv->data, EV_UFRAG_REMOVED, u, len);
}

static const sfu_ice_server_callbacks_t callbacks = {
    .send = cb_send,
    .on_tuple_added = cb_added,
    .on_tuple_removed = cb_removed,
    .on_selected_tuple = cb_selected,
    .on_state = cb_state,
    .on_ufrag_added = cb_ufrag_added,
    .on_ufrag_removed = cb_ufrag_removed,
};

static void log_sink(void *arg, const char *line, size_t len) {
  fixture_t *f = arg;
  assert_true(len > 0 && line[0] != '\0');
  f->log_lines++;
}

static void on_closed(sfu_ice_server_t *srv) { ((fixture_t *)srv->data)->closed_count++; }

/* Tuples 0..5: UDP on socket A, 10.0.0.i:5000+i; 6..8: UDP IPv6 on socket B;
 * 9..11: TCP, one connection each, all with the same remote address. */
static void make_tuples(fixture_t *f) {
  int i;
  for (i = 0; i < NTUPLES; i++) {
    sfu_tuple_t *t = &f->tuples[i];
    memset(t, 0, sizeof(*t));
    if (i < 6) {
      struct sockaddr_in *a = (struct sockaddr_in *)&t->remote;
      t->proto = SFU_PROTO_UDP;
      t->sock = &f->socks[0];
      a->sin_family = AF_INET;
      a->sin_port = htons((uint16_t)(5000 + i));
      a->sin_addr.s_addr = htonl(0x0A000000u + (uint32_t)i);
    } else if (i < 9) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&t->remote;
      t->proto = SFU_PROTO_UDP;
      t->sock = &f->socks[1];
      a->sin6_family = AF_INET6;
      a->sin6_port = htons((uint16_t)(6000 + i));
      a->sin6_addr.s6_addr[0] = 0x20;
      a->sin6_addr.s6_addr[1] = 0x01;
      a->sin6_addr.s6_addr[15] = (uint8_t)i;
    } else {
      struct sockaddr_in *a = (struct sockaddr_in *)&t->remote;
      t->proto = SFU_PROTO_TCP;
      t->sock = &f->socks[i];
      a->sin_family = AF_INET;
      a->sin_port = htons(7000);
      a->sin_addr.s_addr = htonl(0xC0A80001u);
    }
  }
}

static void create_server(fixture_t *f, const char *ufrag, const char *pwd, uint8_t consent) {
  sfu_ice_server_options_t o = {
      .ufrag = ufrag, .ufrag_len = ufrag ? strlen(ufrag) : 0, .pwd = pwd, .pwd_len = pwd ? strlen(pwd) : 0,
      .consent_timeout_sec = consent};
  assert_int_equal(sfu_ice_server_create(&f->ctx, &o, &callbacks, f, &f->srv), 0);
}

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof(*f));
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  sfu_settings_init(&f->settings);
  f->settings.log_level = SFU_LOG_LEVEL_DEBUG;
  f->settings.log_tags = 0xFFFFFFFFu;
  assert_int_equal(sfu_ctx_init(&f->ctx, &f->loop, &f->settings), 0);
  sfu_log_set_sink(&f->ctx.log, log_sink, f);
  assert_int_equal(uv_timer_init(&f->loop, &f->pinger), 0);
  f->pinger.data = f;
  make_tuples(f);
  create_server(f, UFRAG, PWD, 30);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  if (f->srv != NULL) sfu_ice_server_close(f->srv, on_closed);
  uv_close((uv_handle_t *)&f->pinger, NULL);
  sfu_ctx_close(&f->ctx);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  sfu_ctx_destroy(&f->ctx);
  sfu_settings_free(&f->settings);
  free(f);
  return 0;
}

/* ---- requests ---- */

enum {
  R_USE_CANDIDATE = 1 << 0,
  R_NO_FINGERPRINT = 1 << 1,
  R_NO_PRIORITY = 1 << 2,
  R_NO_USERNAME = 1 << 3,
  R_NO_INTEGRITY = 1 << 4,
  R_CONTROLLED = 1 << 5,
  R_NOMINATION = 1 << 6,     /* 0x0030 */
  R_NOMINATION_OLD = 1 << 7, /* 0xC001 */
  R_BAD_FINGERPRINT = 1 << 8,
  R_NO_CONTROLLING = 1 << 9,
};

typedef struct req {
  uint8_t b[512];
  size_t len;
  uint8_t tid[12];
} req_t;

static void build(req_t *r, sfu_stun_class_t klass, uint16_t method, const char *username, const char *pwd,
                  unsigned flags, uint32_t nomination) {
  sfu_stun_writer_t w;
  int n;
  sfu_stun_writer_init(&w, r->b, sizeof(r->b), klass, method, NULL);
  memcpy(r->tid, r->b + 8, 12);
  if (!(flags & R_NO_USERNAME)) sfu_stun_writer_add(&w, SFU_STUN_ATTR_USERNAME, username, strlen(username));
  if (!(flags & R_NO_PRIORITY)) sfu_stun_writer_add_u32(&w, SFU_STUN_ATTR_PRIORITY, 0x6e0001ff);
  if (!(flags & R_NO_CONTROLLING)) sfu_stun_writer_add_u64(&w, SFU_STUN_ATTR_ICE_CONTROLLING, 0x1122334455667788ull);
  if (flags & R_CONTROLLED) sfu_stun_writer_add_u64(&w, SFU_STUN_ATTR_ICE_CONTROLLED, 1);
  if (flags & R_USE_CANDIDATE) sfu_stun_writer_add(&w, SFU_STUN_ATTR_USE_CANDIDATE, NULL, 0);
  if (flags & R_NOMINATION) sfu_stun_writer_add_u32(&w, SFU_STUN_ATTR_NOMINATION, nomination);
  if (flags & R_NOMINATION_OLD) sfu_stun_writer_add_u32(&w, SFU_STUN_ATTR_NOMINATION_OLD, nomination);
  if (!(flags & R_NO_INTEGRITY)) sfu_stun_writer_add_integrity(&w, pwd, strlen(pwd));
  if (!(flags & R_NO_FINGERPRINT)) sfu_stun_writer_add_fingerprint(&w);
  n = sfu_stun_writer_finish(&w);
  assert_true(n > 0);
  r->len = (size_t)n;
  if (flags & R_BAD_FINGERPRINT) r->b[r->len - 1] ^= 1;
}

static int check(fixture_t *f, int tuple, unsigned flags, uint32_t nomination, req_t *out) {
  req_t r;
  build(&r, SFU_STUN_REQUEST, SFU_STUN_METHOD_BINDING, UFRAG ":peer", PWD, flags, nomination);
  if (out != NULL) *out = r;
  return sfu_ice_server_process(f->srv, &f->tuples[tuple], r.b, r.len);
}

static int check_creds(fixture_t *f, int tuple, const char *username, const char *pwd, unsigned flags) {
  req_t r;
  build(&r, SFU_STUN_REQUEST, SFU_STUN_METHOD_BINDING, username, pwd, flags, 0);
  return sfu_ice_server_process(f->srv, &f->tuples[tuple], r.b, r.len);
}

/* ---- event expectations ---- */

static ev_t *next_ev(fixture_t *f, ev_kind_t kind) {
  ev_t *e;
  if (f->next >= f->nev) fail_msg("expected event %d, got none", (int)kind);
  e = &f->ev[f->next++];
  if (e->kind != kind) fail_msg("expected event %d, got %d (event #%zu)", (int)kind, (int)e->kind, f->next - 1);
  return e;
}

static void expect_none(fixture_t *f) {
  if (f->next != f->nev) fail_msg("unexpected event %d", (int)f->ev[f->next].kind);
}

/* A success response to `tuple`, authenticated with pwd, mapping the tuple's remote address. */
static void expect_success(fixture_t *f, int tuple, const char *pwd) {
  ev_t *e = next_ev(f, EV_SEND);
  sfu_stun_msg_t m;
  struct sockaddr_storage ss;

  assert_int_equal(e->tuple, tuple);
  assert_int_equal(sfu_stun_parse(&m, e->bytes, e->len), 0);
  assert_int_equal(m.klass, SFU_STUN_SUCCESS_RESPONSE);
  assert_int_equal(m.method, SFU_STUN_METHOD_BINDING);
  assert_true(sfu_stun_check_fingerprint(&m, e->bytes, e->len));
  assert_int_equal(sfu_stun_check_integrity(&m, e->bytes, e->len, pwd, strlen(pwd)), 0);
  assert_int_equal(sfu_stun_xor_mapped_address(&m, &ss), 0);
  assert_true(sfu_sockaddr_equal((struct sockaddr *)&ss, (struct sockaddr *)&f->tuples[tuple].remote));
}

static void expect_error(fixture_t *f, int tuple, uint16_t code) {
  ev_t *e = next_ev(f, EV_SEND);
  sfu_stun_msg_t m;
  assert_int_equal(e->tuple, tuple);
  assert_int_equal(sfu_stun_parse(&m, e->bytes, e->len), 0);
  assert_int_equal(m.klass, SFU_STUN_ERROR_RESPONSE);
  assert_int_equal(m.error_code, code);
  assert_true(m.error_reason_len > 0);
  assert_false(sfu_stun_has(&m, SFU_STUN_HAS_INTEGRITY));
  assert_true(sfu_stun_check_fingerprint(&m, e->bytes, e->len));
}

static void expect_tuple_ev(fixture_t *f, ev_kind_t kind, int tuple) { assert_int_equal(next_ev(f, kind)->tuple, tuple); }
static void expect_state(fixture_t *f, sfu_ice_state_t s) { assert_int_equal(next_ev(f, EV_STATE)->state, s); }
static void expect_ufrag(fixture_t *f, ev_kind_t kind, const char *u) { assert_string_equal(next_ev(f, kind)->ufrag, u); }

/* The loop's idea of now, refreshed (a timer started now is due relative to it). */
static uint64_t now_ms(fixture_t *f) {
  uv_update_time(&f->loop);
  return uv_now(&f->loop);
}

static int selected_index(fixture_t *f) {
  const sfu_tuple_t *t = sfu_ice_server_selected_tuple(f->srv);
  return t != NULL ? tuple_index(f, t) : -1;
}

/* ---- tests ---- */

static void test_create_and_credentials(void **state) {
  fixture_t *f = *state;
  sfu_ice_server_t *a, *b;
  sfu_ice_server_options_t o = {0};
  const char *u, *p;
  size_t i;

  expect_ufrag(f, EV_UFRAG_ADDED, UFRAG);
  expect_none(f);
  assert_string_equal(sfu_ice_server_ufrag(f->srv), UFRAG);
  assert_string_equal(sfu_ice_server_pwd(f->srv), PWD);
  assert_int_equal(sfu_ice_server_state(f->srv), SFU_ICE_NEW);
  assert_int_equal(sfu_ice_server_role(f->srv), SFU_ICE_CONTROLLED);
  assert_null(sfu_ice_server_selected_tuple(f->srv));
  assert_int_equal(sfu_ice_server_tuple_count(f->srv), 0);
  assert_string_equal(sfu_ice_state_name(SFU_ICE_COMPLETED), "completed");

  /* random credentials, no callbacks at all */
  assert_int_equal(sfu_ice_server_create(&f->ctx, NULL, NULL, NULL, &a), 0);
  assert_int_equal(sfu_ice_server_create(&f->ctx, &o, NULL, NULL, &b), 0);
  u = sfu_ice_server_ufrag(a);
  p = sfu_ice_server_pwd(a);
  assert_int_equal(strlen(u), SFU_ICE_UFRAG_LEN);
  assert_int_equal(strlen(p), SFU_ICE_PWD_LEN);
  for (i = 0; u[i]; i++) assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", u[i]));
  for (i = 0; p[i]; i++) assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", p[i]));
  assert_string_not_equal(u, sfu_ice_server_ufrag(b));
  assert_string_not_equal(p, sfu_ice_server_pwd(b));
  /* consent: NULL options = 30 s; 0 disables; clamped to 10..60 */
  assert_int_equal(a->consent_timeout_ms, 30000);
  assert_int_equal(b->consent_timeout_ms, 0);
  sfu_ice_server_close(a, NULL);
  sfu_ice_server_close(b, NULL);
  sfu_ice_server_close(b, NULL); /* twice: no-op */

  o.consent_timeout_sec = 5;
  assert_int_equal(sfu_ice_server_create(&f->ctx, &o, NULL, NULL, &a), 0);
  assert_int_equal(a->consent_timeout_ms, 10000);
  sfu_ice_server_close(a, NULL);
  o.consent_timeout_sec = 200;
  assert_int_equal(sfu_ice_server_create(&f->ctx, &o, NULL, NULL, &a), 0);
  assert_int_equal(a->consent_timeout_ms, 60000);
  sfu_ice_server_close(a, NULL);

  /* bad credentials */
  o.ufrag = "";
  o.ufrag_len = 0;
  assert_int_equal(sfu_ice_server_create(&f->ctx, &o, NULL, NULL, &a), SFU_EINVAL);
  o.ufrag = "x";
  o.ufrag_len = SFU_ICE_CRED_MAX + 1;
  assert_int_equal(sfu_ice_server_create(&f->ctx, &o, NULL, NULL, &a), SFU_EINVAL);
  o.ufrag_len = 1;
  o.pwd = "";
  assert_int_equal(sfu_ice_server_create(&f->ctx, &o, NULL, NULL, &a), SFU_EINVAL);

  /* random strings */
  {
    char s[101];
    assert_int_equal(sfu_ice_random_string(s, 100), 0);
    assert_int_equal(strlen(s), 100);
    assert_int_equal(sfu_ice_random_string(s, 0), 0);
    assert_string_equal(s, "");
  }
  uv_run(&f->loop, UV_RUN_DEFAULT); /* the closes complete */
}

/* The RFC 5769 request carries ICE-CONTROLLED: a role conflict, 487. */
static void test_rfc5769_request_role_conflict(void **state) {
  fixture_t *f = *state;
  sfu_stun_msg_t m;
  ev_t *e;

  f->next = f->nev;
  assert_int_equal(sfu_ice_server_process(f->srv, &f->tuples[0], rfc_request, sizeof(rfc_request)), 0);
  e = &f->ev[f->next];
  expect_error(f, 0, 487);
  assert_int_equal(sfu_stun_parse(&m, e->bytes, e->len), 0);
  assert_memory_equal(m.tid, rfc_request + 8, 12);
  expect_none(f);
  assert_int_equal(sfu_ice_server_state(f->srv), SFU_ICE_NEW);
  assert_int_equal(sfu_ice_server_tuple_count(f->srv), 0);
  assert_true(f->log_lines > 0);

  /* with ICE-CONTROLLED from our own builder too */
  assert_int_equal(check(f, 1, R_CONTROLLED, 0, NULL), 0);
  expect_error(f, 1, 487);
  /* a peer that says neither role is fine */
  assert_int_equal(check(f, 1, R_NO_CONTROLLING, 0, NULL), 0);
  expect_success(f, 1, PWD);
}

static void test_connected_then_completed(void **state) {
  fixture_t *f = *state;
  f->next = f->nev;

  /* plain check: NEW -> CONNECTED */
  assert_int_equal(check(f, 0, 0, 0, NULL), 0);
  expect_success(f, 0, PWD);
  expect_tuple_ev(f, EV_ADDED, 0);
  expect_tuple_ev(f, EV_SELECTED, 0);
  expect_state(f, SFU_ICE_CONNECTED);
  expect_none(f);
  assert_int_equal(selected_index(f), 0);
  assert_true(sfu_ice_server_is_valid_tuple(f->srv, &f->tuples[0]));
  assert_false(sfu_ice_server_is_valid_tuple(f->srv, &f->tuples[1]));

  /* same tuple again: just the response */
  assert_int_equal(check(f, 0, 0, 0, NULL), 0);
  expect_success(f, 0, PWD);
  expect_none(f);

  /* plain check on another tuple (IPv6): stored, not selected */
  assert_int_equal(check(f, 6, 0, 0, NULL), 0);
  expect_success(f, 6, PWD);
  expect_tuple_ev(f, EV_ADDED, 6);
  expect_none(f);
  assert_int_equal(selected_index(f), 0);

  /* USE-CANDIDATE on it: CONNECTED -> COMPLETED, selected */
  assert_int_equal(check(f, 6, R_USE_CANDIDATE, 0, NULL), 0);
  expect_success(f, 6, PWD);
  expect_tuple_ev(f, EV_SELECTED, 6);
  expect_state(f, SFU_ICE_COMPLETED);
  expect_none(f);

  /* COMPLETED + USE-CANDIDATE elsewhere: selection moves, no state change */
  assert_int_equal(check(f, 0, R_USE_CANDIDATE, 0, NULL), 0);
  expect_success(f, 0, PWD);
  expect_tuple_ev(f, EV_SELECTED, 0);
  expect_none(f);
  /* COMPLETED + plain check on a new tuple: stored only */
  assert_int_equal(check(f, 9, 0, 0, NULL), 0);
  expect_success(f, 9, PWD);
  expect_tuple_ev(f, EV_ADDED, 9);
  expect_none(f);
  assert_int_equal(sfu_ice_server_tuple_count(f->srv), 3);
}

static void test_use_candidate_first(void **state) {
  fixture_t *f = *state;
  f->next = f->nev;
  assert_int_equal(check(f, 2, R_USE_CANDIDATE, 0, NULL), 0);
  expect_success(f, 2, PWD);
  expect_tuple_ev(f, EV_ADDED, 2);
  expect_tuple_ev(f, EV_SELECTED, 2);
  expect_state(f, SFU_ICE_COMPLETED);
  expect_none(f);
}

static void test_nomination(void **state) {
  fixture_t *f = *state;
  f->next = f->nev;

  /* NEW + NOMINATION 5: COMPLETED */
  assert_int_equal(check(f, 0, R_NOMINATION, 5, NULL), 0);
  expect_success(f, 0, PWD);
  expect_tuple_ev(f, EV_ADDED, 0);
  expect_tuple_ev(f, EV_SELECTED, 0);
  expect_state(f, SFU_ICE_COMPLETED);
  expect_none(f);
  assert_int_equal(f->srv->remote_nomination, 5);

  /* a lower or equal nomination (old attribute type) elsewhere: stored only, even with USE-CANDIDATE
   * absent; with USE-CANDIDATE in COMPLETED it selects (mediasoup) */
  assert_int_equal(check(f, 1, R_NOMINATION_OLD, 5, NULL), 0);
  expect_success(f, 1, PWD);
  expect_tuple_ev(f, EV_ADDED, 1);
  expect_none(f);
  assert_int_equal(check(f, 1, R_NOMINATION_OLD, 6, NULL), 0);
  expect_success(f, 1, PWD);
  expect_tuple_ev(f, EV_SELECTED, 1);
  expect_none(f);
  assert_int_equal(f->srv->remote_nomination, 6);
  assert_int_equal(check(f, 0, R_NOMINATION | R_USE_CANDIDATE, 2, NULL), 0);
  expect_success(f, 0, PWD);
  expect_tuple_ev(f, EV_SELECTED, 0);
  expect_none(f);
  assert_int_equal(f->srv->remote_nomination, 6);
}

/* CONNECTED + USE-CANDIDATE with a stale NOMINATION: stored only (mediasoup). */
static void test_stale_nomination_in_connected(void **state) {
  fixture_t *f = *state;
  f->next = f->nev;
  assert_int_equal(check(f, 0, 0, 0, NULL), 0); /* CONNECTED */
  f->next = f->nev;
  assert_int_equal(check(f, 1, R_USE_CANDIDATE | R_NOMINATION, 0, NULL), 0); /* 0 is not above 0 */
  expect_success(f, 1, PWD);
  expect_tuple_ev(f, EV_ADDED, 1);
  expect_none(f);
  assert_int_equal(sfu_ice_server_state(f->srv), SFU_ICE_CONNECTED);
  assert_int_equal(check(f, 1, R_NOMINATION, 1, NULL), 0);
  expect_success(f, 1, PWD);
  expect_tuple_ev(f, EV_SELECTED, 1);
  expect_state(f, SFU_ICE_COMPLETED);
  expect_none(f);

  /* NEW + stale nomination on a fresh server: tuple stored, still NEW, nothing selected */
  sfu_ice_server_close(f->srv, on_closed);
  create_server(f, UFRAG, PWD, 0);
  f->next = f->nev;
  assert_int_equal(check(f, 3, R_USE_CANDIDATE | R_NOMINATION, 0, NULL), 0);
  expect_success(f, 3, PWD);
  expect_tuple_ev(f, EV_ADDED, 3);
  expect_none(f);
  assert_int_equal(sfu_ice_server_state(f->srv), SFU_ICE_NEW);
  assert_null(sfu_ice_server_selected_tuple(f->srv));
  assert_true(sfu_ice_server_is_valid_tuple(f->srv, &f->tuples[3]));
}

static void test_bad_requests(void **state) {
  fixture_t *f = *state;
  req_t r;
  sfu_stun_writer_t w;

  f->next = f->nev;
  assert_int_equal(check(f, 0, R_NO_FINGERPRINT, 0, NULL), 0);
  expect_error(f, 0, 400);
  assert_int_equal(check(f, 0, R_NO_PRIORITY, 0, NULL), 0);
  expect_error(f, 0, 400);
  assert_int_equal(check(f, 0, R_NO_USERNAME, 0, NULL), 0);
  expect_error(f, 0, 400);
  assert_int_equal(check(f, 0, R_NO_INTEGRITY, 0, NULL), 0);
  expect_error(f, 0, 400);
  assert_int_equal(check_creds(f, 0, "evtX:peer", PWD, 0), 0); /* wrong ufrag */
  expect_error(f, 0, 401);
  assert_int_equal(check_creds(f, 0, "evtj", PWD, 0), 0); /* no ':' */
  expect_error(f, 0, 401);
  assert_int_equal(check_creds(f, 0, "evt:j", PWD, 0), 0);
  expect_error(f, 0, 401);
  assert_int_equal(check_creds(f, 0, "evtjj:peer", PWD, 0), 0);
  expect_error(f, 0, 401);
  assert_int_equal(check_creds(f, 0, "evtj:peer", "wrong password", 0), 0);
  expect_error(f, 0, 401);
  assert_int_equal(check_creds(f, 0, "evtj:", PWD, 0), 0); /* empty remote ufrag is accepted, as mediasoup */
  expect_success(f, 0, PWD);
  f->next = f->nev;

  /* wrong FINGERPRINT: dropped silently */
  assert_int_equal(check(f, 1, R_BAD_FINGERPRINT, 0, NULL), SFU_EPROTO);
  expect_none(f);
  /* not STUN / malformed */
  assert_int_equal(sfu_ice_server_process(f->srv, &f->tuples[1], rfc_request, 19), SFU_EPROTO);
  assert_int_equal(sfu_ice_server_process(f->srv, &f->tuples[1], rfc_request, sizeof(rfc_request) - 4), SFU_EPROTO);
  expect_none(f);
  /* another method: 400 */
  build(&r, SFU_STUN_REQUEST, 0x003, UFRAG ":peer", PWD, 0, 0);
  assert_int_equal(sfu_ice_server_process(f->srv, &f->tuples[1], r.b, r.len), 0);
  expect_error(f, 1, 400);
  /* indications and responses: ignored */
  build(&r, SFU_STUN_INDICATION, SFU_STUN_METHOD_BINDING, UFRAG ":peer", PWD, 0, 0);
  assert_int_equal(sfu_ice_server_process(f->srv, &f->tuples[1], r.b, r.len), 0);
  build(&r, SFU_STUN_SUCCESS_RESPONSE, SFU_STUN_METHOD_BINDING, UFRAG ":peer", PWD, 0, 0);
  assert_int_equal(sfu_ice_server_process(f->srv, &f->tuples[1], r.b, r.len), 0);
  sfu_stun_writer_init(&w, r.b, sizeof(r.b), SFU_STUN_ERROR_RESPONSE, SFU_STUN_METHOD_BINDING, NULL);
  sfu_stun_writer_add_error_code(&w, 401, "x", 1);
  sfu_stun_writer_add_fingerprint(&w);
  assert_int_equal(sfu_ice_server_process(f->srv, &f->tuples[1], r.b, (size_t)sfu_stun_writer_finish(&w)), 0);
  expect_none(f);
  /* tuple NULL */
  build(&r, SFU_STUN_REQUEST, SFU_STUN_METHOD_BINDING, UFRAG ":peer", PWD, 0, 0);
  assert_int_equal(sfu_ice_server_process(f->srv, NULL, r.b, r.len), SFU_EINVAL);

  assert_int_equal(sfu_ice_server_state(f->srv), SFU_ICE_CONNECTED); /* from the "evtj:" check only */
  assert_int_equal(sfu_ice_server_tuple_count(f->srv), 1);
}

static void test_process_msg(void **state) {
  fixture_t *f = *state;
  req_t r;
  sfu_stun_msg_t m;
  const uint8_t *uf;
  size_t uf_len;

  build(&r, SFU_STUN_REQUEST, SFU_STUN_METHOD_BINDING, UFRAG ":peer", PWD, R_USE_CANDIDATE, 0);
  assert_int_equal(sfu_stun_parse(&m, r.b, r.len), 0);
  assert_int_equal(sfu_stun_local_ufrag(&m, &uf, &uf_len), 0);
  assert_int_equal(uf_len, strlen(UFRAG));
  f->next = f->nev;
  assert_int_equal(sfu_ice_server_process_msg(f->srv, &f->tuples[10], &m, r.b, r.len), 0);
  expect_success(f, 10, PWD);
  expect_tuple_ev(f, EV_ADDED, 10);
  expect_tuple_ev(f, EV_SELECTED, 10);
  expect_state(f, SFU_ICE_COMPLETED);
  expect_none(f);
  /* TCP tuples with the same remote address but another connection are other tuples */
  assert_false(sfu_ice_server_is_valid_tuple(f->srv, &f->tuples[11]));
}

static void test_max_tuples(void **state) {
  fixture_t *f = *state;
  sfu_tuple_t extra[6];
  int i;

  f->next = f->nev;
  assert_int_equal(check(f, 0, R_USE_CANDIDATE, 0, NULL), 0); /* selected */
  for (i = 1; i < SFU_ICE_MAX_TUPLES; i++) assert_int_equal(check(f, i, 0, 0, NULL), 0);
  assert_int_equal(sfu_ice_server_tuple_count(f->srv), SFU_ICE_MAX_TUPLES);
  f->next = f->nev;

  /* the 9th: added, then the oldest non-selected one (tuple 1) evicted */
  assert_int_equal(check(f, SFU_ICE_MAX_TUPLES, 0, 0, NULL), 0);
  expect_success(f, SFU_ICE_MAX_TUPLES, PWD);
  expect_tuple_ev(f, EV_ADDED, SFU_ICE_MAX_TUPLES);
  expect_tuple_ev(f, EV_REMOVED, 1);
  expect_none(f);
  assert_int_equal(sfu_ice_server_tuple_count(f->srv), SFU_ICE_MAX_TUPLES);
  assert_false(sfu_ice_server_is_valid_tuple(f->srv, &f->tuples[1]));
  assert_int_equal(selected_index(f), 0);

  /* more: tuple 2, 3, ... go; the selected one (oldest) never does */
  assert_int_equal(check(f, SFU_ICE_MAX_TUPLES + 1, 0, 0, NULL), 0);
  expect_success(f, SFU_ICE_MAX_TUPLES + 1, PWD);
  expect_tuple_ev(f, EV_ADDED, SFU_ICE_MAX_TUPLES + 1);
  expect_tuple_ev(f, EV_REMOVED, 2);
  expect_none(f);
  for (i = 0; i < 6; i++) { /* tuples outside the fixture's table: reported as index -1 */
    extra[i] = f->tuples[0];
    ((struct sockaddr_in *)&extra[i].remote)->sin_port = htons((uint16_t)(9000 + i));
    {
      req_t r;
      build(&r, SFU_STUN_REQUEST, SFU_STUN_METHOD_BINDING, UFRAG ":peer", PWD, 0, 0);
      assert_int_equal(sfu_ice_server_process(f->srv, &extra[i], r.b, r.len), 0);
    }
  }
  assert_int_equal(sfu_ice_server_tuple_count(f->srv), SFU_ICE_MAX_TUPLES);
  assert_int_equal(selected_index(f), 0);
  assert_true(sfu_ice_server_is_valid_tuple(f->srv, &extra[5]));
  assert_true(sfu_ice_server_is_valid_tuple(f->srv, &f->tuples[SFU_ICE_MAX_TUPLES + 1]));
  assert_false(sfu_ice_server_is_valid_tuple(f->srv, &f->tuples[SFU_ICE_MAX_TUPLES - 1]));
}

static void test_remove_tuple(void **state) {
  fixture_t *f = *state;

  f->remove_in_removed = true;
  assert_int_equal(check(f, 0, 0, 0, NULL), 0);        /* CONNECTED, selected 0 */
  assert_int_equal(check(f, 1, 0, 0, NULL), 0);        /* stored */
  assert_int_equal(check(f, 2, 0, 0, NULL), 0);        /* stored, newest */
  f->next = f->nev;

  /* unknown: nothing; non-selected: removed only */
  sfu_ice_server_remove_tuple(f->srv, &f->tuples[5]);
  expect_none(f);
  sfu_ice_server_remove_tuple(f->srv, &f->tuples[1]);
  expect_tuple_ev(f, EV_REMOVED, 1);
  expect_none(f);
  /* the selected one: the newest remaining is selected */
  sfu_ice_server_remove_tuple(f->srv, &f->tuples[0]);
  expect_tuple_ev(f, EV_REMOVED, 0);
  expect_tuple_ev(f, EV_SELECTED, 2);
  expect_none(f);
  assert_int_equal(sfu_ice_server_state(f->srv), SFU_ICE_CONNECTED);
  /* the last one: DISCONNECTED */
  sfu_ice_server_remove_tuple(f->srv, &f->tuples[2]);
  expect_tuple_ev(f, EV_REMOVED, 2);
  expect_state(f, SFU_ICE_DISCONNECTED);
  expect_none(f);
  assert_null(sfu_ice_server_selected_tuple(f->srv));
  assert_int_equal(sfu_ice_server_tuple_count(f->srv), 0);
  assert_false(uv_is_active((uv_handle_t *)f->srv->timer));

  /* DISCONNECTED -> CONNECTED with a plain check; -> COMPLETED from DISCONNECTED with USE-CANDIDATE */
  assert_int_equal(check(f, 3, 0, 0, NULL), 0);
  expect_success(f, 3, PWD);
  expect_tuple_ev(f, EV_ADDED, 3);
  expect_tuple_ev(f, EV_SELECTED, 3);
  expect_state(f, SFU_ICE_CONNECTED);
  expect_none(f);
  sfu_ice_server_remove_tuple(f->srv, &f->tuples[3]);
  f->next = f->nev;
  assert_int_equal(check(f, 4, R_USE_CANDIDATE, 0, NULL), 0);
  expect_success(f, 4, PWD);
  expect_tuple_ev(f, EV_ADDED, 4);
  expect_tuple_ev(f, EV_SELECTED, 4);
  expect_state(f, SFU_ICE_COMPLETED);
  expect_none(f);

  /* a stored tuple in NEW (stale nomination) removed: nothing else happens */
  sfu_ice_server_close(f->srv, on_closed);
  create_server(f, UFRAG, PWD, 30);
  assert_int_equal(check(f, 5, R_USE_CANDIDATE | R_NOMINATION, 0, NULL), 0);
  f->next = f->nev;
  sfu_ice_server_remove_tuple(f->srv, &f->tuples[5]);
  expect_tuple_ev(f, EV_REMOVED, 5);
  expect_none(f);
  assert_int_equal(sfu_ice_server_state(f->srv), SFU_ICE_NEW);
}

static void test_may_force_selected(void **state) {
  fixture_t *f = *state;

  f->next = f->nev;
  sfu_ice_server_may_force_selected_tuple(f->srv, &f->tuples[0]); /* NEW: no */
  expect_none(f);
  assert_int_equal(check(f, 0, 0, 0, NULL), 0);
  assert_int_equal(check(f, 1, 0, 0, NULL), 0);
  f->next = f->nev;
  sfu_ice_server_may_force_selected_tuple(f->srv, &f->tuples[5]); /* unknown */
  expect_none(f);
  sfu_ice_server_may_force_selected_tuple(f->srv, &f->tuples[0]); /* already */
  expect_none(f);
  sfu_ice_server_may_force_selected_tuple(f->srv, &f->tuples[1]);
  expect_tuple_ev(f, EV_SELECTED, 1);
  expect_none(f);
}

static void test_restart_ice(void **state) {
  fixture_t *f = *state;
  static const char *NEW_PWD = "0123456789abcdefghijklmnopqrstuv";

  assert_int_equal(check(f, 0, R_NOMINATION, 3, NULL), 0); /* COMPLETED, nomination 3 */
  f->next = f->nev;

  assert_int_equal(sfu_ice_server_restart(f->srv, "newu", 4, NEW_PWD, strlen(NEW_PWD)), 0);
  expect_ufrag(f, EV_UFRAG_ADDED, "newu");
  expect_none(f);
  assert_string_equal(sfu_ice_server_ufrag(f->srv), "newu");
  assert_string_equal(sfu_ice_server_pwd(f->srv), NEW_PWD);
  assert_int_equal(f->srv->remote_nomination, 0);

  /* the old credentials still work, answered with the old password */
  assert_int_equal(check_creds(f, 0, UFRAG ":peer", PWD, 0), 0);
  expect_success(f, 0, PWD);
  expect_none(f);
  /* old ufrag with the new password, new ufrag with the old one: 401 */
  assert_int_equal(check_creds(f, 0, UFRAG ":peer", NEW_PWD, 0), 0);
  expect_error(f, 0, 401);
  assert_int_equal(check_creds(f, 0, "newu:peer", PWD, 0), 0);
  expect_error(f, 0, 401);
  /* the first request with the new ones retires the old ones */
  assert_int_equal(check_creds(f, 1, "newu:peer", NEW_PWD, 0), 0);
  expect_ufrag(f, EV_UFRAG_REMOVED, UFRAG);
  expect_success(f, 1, NEW_PWD);
  expect_tuple_ev(f, EV_ADDED, 1);
  expect_none(f);
  assert_int_equal(check_creds(f, 0, UFRAG ":peer", PWD, 0), 0);
  expect_error(f, 0, 401);
  /* the nomination counter restarted: 1 now selects */
  {
    req_t r;
    build(&r, SFU_STUN_REQUEST, SFU_STUN_METHOD_BINDING, "newu:peer", NEW_PWD, R_NOMINATION, 1);
    assert_int_equal(sfu_ice_server_process(f->srv, &f->tuples[1], r.b, r.len), 0);
  }
  expect_success(f, 1, NEW_PWD);
  expect_tuple_ev(f, EV_SELECTED, 1);
  expect_none(f);

  /* two restarts in a row: the never-used middle ufrag is removed at the second */
  assert_int_equal(sfu_ice_server_restart(f->srv, NULL, 0, NULL, 0), 0);
  expect_ufrag(f, EV_UFRAG_ADDED, sfu_ice_server_ufrag(f->srv));
  {
    char middle[64];
    snprintf(middle, sizeof(middle), "%s", sfu_ice_server_ufrag(f->srv));
    assert_int_equal(strlen(middle), SFU_ICE_UFRAG_LEN);
    assert_int_equal(sfu_ice_server_restart(f->srv, "third", 5, "third-password-third-password", 29), 0);
    expect_ufrag(f, EV_UFRAG_REMOVED, "newu");
    expect_ufrag(f, EV_UFRAG_ADDED, "third");
    expect_none(f);
    /* the middle one is now the old one; close reports both */
    sfu_ice_server_close(f->srv, on_closed);
    f->srv = NULL;
    expect_ufrag(f, EV_UFRAG_REMOVED, "third");
    expect_ufrag(f, EV_UFRAG_REMOVED, middle);
    expect_tuple_ev(f, EV_REMOVED, 0);
    expect_tuple_ev(f, EV_REMOVED, 1);
    expect_none(f);
  }
}

/* ---- consent ---- */

static void pinger_cb(uv_timer_t *t) {
  fixture_t *f = t->data;
  if (f->srv == NULL) return;
  f->ping_count++;
  assert_int_equal(check(f, f->ping_tuple, 0, 0, NULL), 0);
  if (f->ping_count >= f->ping_max) uv_timer_stop(t);
}

static void test_consent_expires(void **state) {
  fixture_t *f = *state;
  uint64_t t0;

  sfu_ice_server_set_consent_timeout_ms(f->srv, 50);
  t0 = now_ms(f);
  assert_int_equal(check(f, 0, 0, 0, NULL), 0);
  assert_int_equal(check(f, 1, 0, 0, NULL), 0);
  assert_true(uv_is_active((uv_handle_t *)f->srv->timer));
  f->next = f->nev;
  uv_run(&f->loop, UV_RUN_DEFAULT); /* returns once the consent timer fired */
  assert_true(f->disconnected_at - t0 >= 50);
  expect_tuple_ev(f, EV_REMOVED, 0);
  expect_tuple_ev(f, EV_REMOVED, 1);
  expect_state(f, SFU_ICE_DISCONNECTED);
  expect_none(f);
  assert_int_equal(sfu_ice_server_state(f->srv), SFU_ICE_DISCONNECTED);
  assert_int_equal(sfu_ice_server_tuple_count(f->srv), 0);
  assert_null(sfu_ice_server_selected_tuple(f->srv));

  /* and back */
  assert_int_equal(check(f, 1, R_USE_CANDIDATE, 0, NULL), 0);
  expect_success(f, 1, PWD);
  expect_tuple_ev(f, EV_ADDED, 1);
  expect_tuple_ev(f, EV_SELECTED, 1);
  expect_state(f, SFU_ICE_COMPLETED);
  /* consent off: the timer stops and the loop has nothing to wait for */
  sfu_ice_server_set_consent_timeout_ms(f->srv, 0);
  assert_false(uv_is_active((uv_handle_t *)f->srv->timer));
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(sfu_ice_server_state(f->srv), SFU_ICE_COMPLETED);
  /* the fired callback on a state without a selected tuple is a no-op */
  sfu_ice_server_remove_tuple(f->srv, &f->tuples[1]);
  f->next = f->nev;
  sfu__ice_server_consent_expired(f->srv);
  expect_none(f);
}

/* Checks on the selected tuple keep consent; the disconnection comes a timeout after the last one. */
static void test_consent_refreshed_by_selected(void **state) {
  fixture_t *f = *state;
  uint64_t t0;

  sfu_ice_server_set_consent_timeout_ms(f->srv, 100);
  t0 = now_ms(f);
  assert_int_equal(check(f, 0, 0, 0, NULL), 0);
  f->ping_tuple = 0;
  f->ping_max = 6;
  uv_timer_start(&f->pinger, pinger_cb, 30, 30);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(f->ping_count, 6);
  assert_int_equal(f->pings_at_disconnect, 6); /* not before the last ping */
  assert_int_equal(sfu_ice_server_state(f->srv), SFU_ICE_DISCONNECTED);
  assert_true(f->disconnected_at - t0 >= 6 * 30 + 100);
}

/* Checks on another tuple do not refresh the selected tuple's consent. */
static void test_consent_not_refreshed_by_others(void **state) {
  fixture_t *f = *state;

  sfu_ice_server_set_consent_timeout_ms(f->srv, 100);
  now_ms(f);
  assert_int_equal(check(f, 0, R_USE_CANDIDATE, 0, NULL), 0);
  f->ping_tuple = 1; /* plain checks from tuple 1: stored, never selected */
  f->ping_max = 10;
  f->ping_stop_on_disconnect = true;
  uv_timer_start(&f->pinger, pinger_cb, 30, 30);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(sfu_ice_server_state(f->srv), SFU_ICE_DISCONNECTED);
  assert_true(f->pings_at_disconnect <= 3);
  assert_true(f->pings_at_disconnect < f->ping_max);
}

/* A restart re-arms a running consent timer; a new selected tuple gets a full period. */
static void test_consent_restart_and_reselect(void **state) {
  fixture_t *f = *state;
  uint64_t t0;

  sfu_ice_server_set_consent_timeout_ms(f->srv, 60);
  now_ms(f);
  assert_int_equal(check(f, 0, 0, 0, NULL), 0);
  assert_int_equal(check(f, 1, 0, 0, NULL), 0);
  uv_sleep(40);
  t0 = now_ms(f);
  sfu_ice_server_remove_tuple(f->srv, &f->tuples[0]); /* tuple 1 selected: timer re-armed */
  assert_int_equal(selected_index(f), 1);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_true(f->disconnected_at - t0 >= 60);

  now_ms(f);
  assert_int_equal(check(f, 2, 0, 0, NULL), 0);
  uv_sleep(40);
  t0 = now_ms(f);
  assert_int_equal(sfu_ice_server_restart(f->srv, NULL, 0, NULL, 0), 0);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_true(f->disconnected_at - t0 >= 60);
}

/* ---- close ---- */

static void test_close_from_callbacks(void **state) {
  fixture_t *f = *state;

  /* on_state closes: the response went out, nothing else follows */
  f->close_on_state = true;
  f->next = f->nev;
  assert_int_equal(check(f, 0, 0, 0, NULL), 0);
  expect_success(f, 0, PWD);
  expect_tuple_ev(f, EV_ADDED, 0);
  expect_tuple_ev(f, EV_SELECTED, 0);
  expect_state(f, SFU_ICE_CONNECTED);
  expect_ufrag(f, EV_UFRAG_REMOVED, UFRAG);
  expect_tuple_ev(f, EV_REMOVED, 0);
  expect_none(f);
  assert_null(f->srv);
  uv_run(&f->loop, UV_RUN_DEFAULT);

  /* on_tuple_added closes */
  f->close_on_state = false;
  f->close_on_added = true;
  create_server(f, UFRAG, PWD, 30);
  f->next = f->nev;
  assert_int_equal(check(f, 3, R_USE_CANDIDATE, 0, NULL), 0);
  expect_success(f, 3, PWD);
  expect_tuple_ev(f, EV_ADDED, 3);
  expect_ufrag(f, EV_UFRAG_REMOVED, UFRAG);
  expect_tuple_ev(f, EV_REMOVED, 3);
  expect_none(f);
  assert_null(f->srv);

  /* consent expiry that closes from on_state */
  f->close_on_added = false;
  create_server(f, UFRAG, PWD, 30);
  sfu_ice_server_set_consent_timeout_ms(f->srv, 10);
  assert_int_equal(check(f, 4, 0, 0, NULL), 0);
  f->close_on_state = true;
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_null(f->srv);
}

static void test_close_frees_everything(void **state) {
  fixture_t *f = *state;
  sfu_ice_server_t *srv;
  req_t r;

  assert_int_equal(check(f, 0, 0, 0, NULL), 0);
  assert_int_equal(check(f, 9, 0, 0, NULL), 0);
  f->next = f->nev;
  srv = f->srv;
  sfu_ice_server_close(srv, on_closed);
  f->srv = NULL;
  expect_ufrag(f, EV_UFRAG_REMOVED, UFRAG);
  expect_tuple_ev(f, EV_REMOVED, 0);
  expect_tuple_ev(f, EV_REMOVED, 9);
  expect_none(f);
  /* closed but not yet freed: everything is a no-op */
  build(&r, SFU_STUN_REQUEST, SFU_STUN_METHOD_BINDING, UFRAG ":peer", PWD, 0, 0);
  assert_int_equal(sfu_ice_server_process(srv, &f->tuples[0], r.b, r.len), SFU_ESTATE);
  assert_int_equal(sfu_ice_server_restart(srv, NULL, 0, NULL, 0), SFU_ESTATE);
  sfu_ice_server_remove_tuple(srv, &f->tuples[0]);
  sfu_ice_server_may_force_selected_tuple(srv, &f->tuples[0]);
  assert_false(sfu_ice_server_is_valid_tuple(srv, &f->tuples[0]));
  sfu_ice_server_close(srv, on_closed);
  expect_none(f);
  assert_int_equal(f->closed_count, 0);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(f->closed_count, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_create_and_credentials, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rfc5769_request_role_conflict, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connected_then_completed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_use_candidate_first, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nomination, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stale_nomination_in_connected, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
      cmocka_unit_test_setup_teardown(test_process_msg, setup, teardown),
      cmocka_unit_test_setup_teardown(test_max_tuples, setup, teardown),
      cmocka_unit_test_setup_teardown(test_remove_tuple, setup, teardown),
      cmocka_unit_test_setup_teardown(test_may_force_selected, setup, teardown),
      cmocka_unit_test_setup_teardown(test_restart_ice, setup, teardown),
      cmocka_unit_test_setup_teardown(test_consent_expires, setup, teardown),
      cmocka_unit_test_setup_teardown(test_consent_refreshed_by_selected, setup, teardown),
      cmocka_unit_test_setup_teardown(test_consent_not_refreshed_by_others, setup, teardown),
      cmocka_unit_test_setup_teardown(test_consent_restart_and_reselect, setup, teardown),
      cmocka_unit_test_setup_teardown(test_close_from_callbacks, setup, teardown),
      cmocka_unit_test_setup_teardown(test_close_frees_everything, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
