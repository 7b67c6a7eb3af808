/* Unit tests for worker/src/dtls/sfu_dtls_record and for what sfu_dtls does
 * with records that are not valid for the receiver: whatever arrives, before
 * or after the handshake, the association stays up and a connected one keeps
 * exchanging application data (RFC 6347 4.1.2.7: invalid records are
 * silently discarded). Pinned independently of OpenSSL's patch level: the
 * checks run before OpenSSL, and one test hands OpenSSL the records
 * unfiltered to show that a record OpenSSL itself fails on still does not end
 * a connected association. Every test leaves the loop closed.
 * SFU_TEST_LOG=1 prints the worker's debug log; SFU_TEST_FILTER=pattern runs
 * only the matching tests. */
#include "dtls_fixture.h"

#include <openssl/opensslv.h>

#include "sfu_dtls_record.h"

static const sfu_dtls_ctx_options_t fast_opts = {.initial_rto_ms = 10};

/* ---- the parser and the checks, without OpenSSL ---- */

static size_t put_record(uint8_t *p, uint8_t type, uint16_t version, uint16_t epoch, uint64_t seq,
                         const uint8_t *body, size_t body_len) {
  p[0] = type;
  p[1] = (uint8_t)(version >> 8), p[2] = (uint8_t)version;
  p[3] = (uint8_t)(epoch >> 8), p[4] = (uint8_t)epoch;
  for (int i = 0; i < 6; i++) p[5 + i] = (uint8_t)(seq >> (8 * (5 - i)));
  p[11] = (uint8_t)(body_len >> 8), p[12] = (uint8_t)body_len;
  if (body_len > 0) memcpy(p + 13, body, body_len);
  return 13 + body_len;
}

/* A handshake fragment header: type, msg length, seq, frag offset, frag length. */
static size_t put_hs(uint8_t *p, uint8_t type, uint32_t msg_len, uint16_t seq, uint32_t frag_off, uint32_t frag_len) {
  p[0] = type;
  p[1] = (uint8_t)(msg_len >> 16), p[2] = (uint8_t)(msg_len >> 8), p[3] = (uint8_t)msg_len;
  p[4] = (uint8_t)(seq >> 8), p[5] = (uint8_t)seq;
  p[6] = (uint8_t)(frag_off >> 16), p[7] = (uint8_t)(frag_off >> 8), p[8] = (uint8_t)frag_off;
  p[9] = (uint8_t)(frag_len >> 16), p[10] = (uint8_t)(frag_len >> 8), p[11] = (uint8_t)frag_len;
  return 12;
}

static void test_record_next(void **state) {
  (void)state;
  uint8_t dg[128], body[40];
  sfu_dtls_record_t r;
  size_t len = 0, off = 0;

  for (size_t i = 0; i < sizeof(body); i++) body[i] = (uint8_t)i;
  len += put_record(dg + len, 22, SFU_DTLS_VERSION_1_2, 0, 0x010203040506ull, body, 20);
  len += put_record(dg + len, 23, SFU_DTLS_VERSION_1_2, 1, 7, body, 0);
  assert_int_equal(sfu_dtls_record_next(dg, len, &off, &r), SFU_DTLS_REC_OK);
  assert_int_equal(r.type, 22);
  assert_int_equal(r.version, 0xfefd);
  assert_int_equal(r.epoch, 0);
  assert_true(r.seq == 0x010203040506ull);
  assert_int_equal(r.body_len, 20);
  assert_ptr_equal(r.body, dg + 13);
  assert_int_equal(off, 33);
  assert_int_equal(sfu_dtls_record_next(dg, len, &off, &r), SFU_DTLS_REC_OK);
  assert_int_equal(r.epoch, 1);
  assert_int_equal(r.body_len, 0);
  assert_int_equal(off, 46);
  assert_int_equal(sfu_dtls_record_next(dg, len, &off, &r), SFU_DTLS_REC_END);

  /* truncated: a partial header, then a body shorter than its length */
  for (size_t cut = 1; cut < 13; cut++) {
    off = 0;
    assert_int_equal(sfu_dtls_record_next(dg, cut, &off, &r), SFU_DTLS_REC_TRUNCATED);
    assert_int_equal(off, 0);
  }
  off = 0;
  assert_int_equal(sfu_dtls_record_next(dg, 32, &off, &r), SFU_DTLS_REC_TRUNCATED);
  off = 33;
  assert_int_equal(sfu_dtls_record_next(dg, 40, &off, &r), SFU_DTLS_REC_TRUNCATED);
  assert_int_equal(off, 33);
  off = 0;
  assert_int_equal(sfu_dtls_record_next(dg, 0, &off, &r), SFU_DTLS_REC_END);
}

static sfu_dtls_rec_verdict_t check(uint8_t type, uint16_t version, uint16_t epoch, const uint8_t *body, size_t n,
                                    bool hs_done, bool awaiting_hello, size_t min_body) {
  sfu_dtls_record_t r = {.type = type, .version = version, .epoch = epoch, .body = body, .body_len = n};
  sfu_dtls_record_policy_t pol = {.hs_done = hs_done, .awaiting_hello = awaiting_hello, .min_body = min_body};
  return sfu_dtls_record_check(&r, &pol);
}

static void test_record_check(void **state) {
  (void)state;
  uint8_t b[256];
  const uint16_t V12 = SFU_DTLS_VERSION_1_2, V10 = SFU_DTLS_VERSION_1_0;
  memset(b, 0xab, sizeof(b));

  /* connected (epoch 1, AES-GCM: 24 bytes at least) */
  assert_int_equal(check(23, V12, 1, b, 24, true, false, 24), SFU_DTLS_REC_ACCEPT);
  assert_int_equal(check(21, V12, 1, b, 26, true, false, 24), SFU_DTLS_REC_ACCEPT);
  assert_int_equal(check(22, V12, 1, b, 40, true, false, 24), SFU_DTLS_REC_ACCEPT);
  for (size_t n = 1; n < 24; n++) assert_int_equal(check(23, V12, 1, b, n, true, false, 24), SFU_DTLS_REC_BAD_LENGTH);
  assert_int_equal(check(23, V12, 1, b, 0, true, false, 24), SFU_DTLS_REC_BAD_LENGTH);
  assert_int_equal(check(23, V12, 1, b, SFU_DTLS_RECORD_MAX_BODY + 1, true, false, 24), SFU_DTLS_REC_BAD_LENGTH);
  assert_int_equal(check(20, V12, 1, b, 24, true, false, 24), SFU_DTLS_REC_UNEXPECTED);
  assert_int_equal(check(24, V12, 1, b, 24, true, false, 24), SFU_DTLS_REC_BAD_TYPE);
  assert_int_equal(check(19, V12, 1, b, 24, true, false, 24), SFU_DTLS_REC_BAD_TYPE);
  assert_int_equal(check(63, V12, 1, b, 24, true, false, 24), SFU_DTLS_REC_BAD_TYPE);
  assert_int_equal(check(23, V10, 1, b, 24, true, false, 24), SFU_DTLS_REC_BAD_VERSION);
  assert_int_equal(check(23, 0x0303, 1, b, 24, true, false, 24), SFU_DTLS_REC_BAD_VERSION);
  assert_int_equal(check(23, V12, 0, b, 24, true, false, 24), SFU_DTLS_REC_BAD_EPOCH);
  assert_int_equal(check(22, V12, 0, b, 24, true, false, 24), SFU_DTLS_REC_BAD_EPOCH);
  assert_int_equal(check(23, V12, 2, b, 24, true, false, 24), SFU_DTLS_REC_BAD_EPOCH);
  assert_int_equal(check(23, V12, 0xffff, b, 24, true, false, 24), SFU_DTLS_REC_BAD_EPOCH);

  /* handshake: epoch 1 needs a cipher */
  assert_int_equal(check(22, V12, 1, b, 40, false, false, 0), SFU_DTLS_REC_NO_CIPHER);
  assert_int_equal(check(22, V12, 1, b, 40, false, false, 24), SFU_DTLS_REC_ACCEPT);
  assert_int_equal(check(22, V12, 1, b, 40, false, true, 24), SFU_DTLS_REC_NO_CIPHER);
  assert_int_equal(check(23, V12, 1, b, 10, false, false, 24), SFU_DTLS_REC_BAD_LENGTH);
  assert_int_equal(check(22, V12, 2, b, 40, false, false, 24), SFU_DTLS_REC_BAD_EPOCH);
  /* epoch 0 in the clear */
  assert_int_equal(check(20, V12, 0, b, 1, false, false, 0), SFU_DTLS_REC_ACCEPT);
  assert_int_equal(check(20, V12, 0, b, 2, false, false, 0), SFU_DTLS_REC_BAD_LENGTH);
  assert_int_equal(check(21, V12, 0, b, 2, false, false, 0), SFU_DTLS_REC_ACCEPT);
  assert_int_equal(check(21, V12, 0, b, 3, false, false, 0), SFU_DTLS_REC_BAD_LENGTH);
  assert_int_equal(check(23, V12, 0, b, 30, false, false, 0), SFU_DTLS_REC_UNEXPECTED);
  assert_int_equal(check(20, V12, 0, b, 1, false, true, 0), SFU_DTLS_REC_UNEXPECTED);
  assert_int_equal(check(21, V12, 0, b, 2, false, true, 0), SFU_DTLS_REC_UNEXPECTED);
  assert_int_equal(check(22, 0x0303, 0, b, 30, false, false, 0), SFU_DTLS_REC_BAD_VERSION);

  /* handshake fragments: two messages in one record, exact */
  {
    size_t n = 0;
    n += put_hs(b + n, 2, 10, 1, 0, 10);
    memset(b + n, 0, 10), n += 10;
    n += put_hs(b + n, 11, 100, 2, 20, 30);
    memset(b + n, 0, 30), n += 30;
    assert_int_equal(check(22, V12, 0, b, n, false, false, 0), SFU_DTLS_REC_ACCEPT);
    assert_int_equal(check(22, V12, 0, b, n - 1, false, false, 0), SFU_DTLS_REC_BAD_LENGTH);
    assert_int_equal(check(22, V12, 0, b, n + 5, false, false, 0), SFU_DTLS_REC_BAD_LENGTH); /* trailing bytes */
    assert_int_equal(check(22, V12, 0, b, 11, false, false, 0), SFU_DTLS_REC_BAD_LENGTH);
    put_hs(b, 2, 10, 1, 5, 10); /* fragment beyond its message */
    assert_int_equal(check(22, V12, 0, b, n, false, false, 0), SFU_DTLS_REC_BAD_LENGTH);
    put_hs(b, 2, 0xffffff, 1, 0xfffff0, 10); /* offset + length past 2^24: no overflow */
    assert_int_equal(check(22, V12, 0, b, n, false, false, 0), SFU_DTLS_REC_ACCEPT);
  }
  /* a server waiting for its ClientHello takes only ClientHello fragments of seq 0 */
  {
    size_t n = put_hs(b, 1, 100, 0, 0, 40);
    b[12] = 0xfe, b[13] = 0xfd;
    n += 40;
    assert_int_equal(check(22, V12, 0, b, n, false, true, 0), SFU_DTLS_REC_ACCEPT);
    assert_int_equal(check(22, V10, 0, b, n, false, true, 0), SFU_DTLS_REC_ACCEPT);
    b[13] = 0xff;
    assert_int_equal(check(22, V12, 0, b, n, false, true, 0), SFU_DTLS_REC_ACCEPT);
    b[12] = 0x03, b[13] = 0x03;
    assert_int_equal(check(22, V12, 0, b, n, false, true, 0), SFU_DTLS_REC_BAD_VERSION);
    assert_int_equal(check(22, V12, 0, b, n, false, false, 0), SFU_DTLS_REC_ACCEPT);
    put_hs(b, 1, 100, 0, 60, 40); /* a later fragment: no version to check */
    assert_int_equal(check(22, V12, 0, b, n, false, true, 0), SFU_DTLS_REC_ACCEPT);
    put_hs(b, 1, 100, 1, 60, 40);
    assert_int_equal(check(22, V12, 0, b, n, false, true, 0), SFU_DTLS_REC_UNEXPECTED);
    put_hs(b, 16, 100, 0, 60, 40);
    assert_int_equal(check(22, V12, 0, b, n, false, true, 0), SFU_DTLS_REC_UNEXPECTED);
  }

  /* smallest bodies per cipher family */
  assert_int_equal(sfu_dtls_record_min_body(true, false, false, 16, 0), 24);  /* AES-GCM, AES-CCM */
  assert_int_equal(sfu_dtls_record_min_body(true, false, true, 16, 0), 16);   /* AES-CCM8 */
  assert_int_equal(sfu_dtls_record_min_body(true, true, false, 0, 0), 16);    /* ChaCha20-Poly1305 */
  assert_int_equal(sfu_dtls_record_min_body(false, false, false, 16, 20), 48); /* AES-CBC + SHA1 */
  assert_int_equal(sfu_dtls_record_min_body(false, false, false, 16, 32), 64); /* AES-CBC + SHA256 */
  assert_int_equal(sfu_dtls_record_min_body(false, false, false, 8, 20), 32); /* 3DES + SHA1 */
  for (int v = 0; v <= SFU_DTLS_REC_UNEXPECTED; v++) assert_non_null(sfu_dtls_rec_verdict_name(v));
}

/* ---- garbage ---- */

#define N_KINDS 5

/* Datagrams that pass the RFC 7983 test but are not valid records for the receiver. */
static size_t make_garbage(fixture_t *f, uint8_t *g, int kind) {
  size_t len = 13 + rnd(f) % 200;
  for (size_t i = 0; i < len; i++) g[i] = (uint8_t)rnd(f);
  g[0] = (uint8_t)(20 + rnd(f) % 44);
  switch (kind % N_KINDS) {
    case 0: /* random */
      break;
    case 1: /* handshake header announcing more than there is */
      g[0] = 22, g[1] = 0xfe, g[2] = 0xfd, g[3] = 0, g[4] = 0, g[11] = 0xff, g[12] = 0xff;
      break;
    case 2: /* application data of epoch 1 that does not authenticate (some shorter than a GCM tag) */
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

static int garbage_kind; /* what add_garbage adds: 0..4, or -1 for one of each */

static bool add_garbage(peer_t *me, const uint8_t *p, size_t len) {
  uint8_t g[256];
  (void)p;
  (void)len;
  for (int k = 0; k < 5; k++) {
    int kind = garbage_kind < 0 ? k : garbage_kind;
    enqueue(me->f, 1 - me->idx, g, make_garbage(me->f, g, kind));
  }
  return false;
}

static int want_msgs[2];
static bool msgs_reached(fixture_t *f) {
  return f->p[0].n_msgs >= want_msgs[0] && f->p[1].n_msgs >= want_msgs[1];
}

/* Both ends send one message; each must arrive intact. */
static void exchange(fixture_t *f, uint8_t tag) {
  peer_t *a = &f->p[0], *b = &f->p[1];
  uint8_t m[100];
  memset(m, tag, sizeof(m));
  m[0] = 'a', m[99] = tag;
  want_msgs[0] = a->n_msgs + 1;
  want_msgs[1] = b->n_msgs + 1;
  assert_int_equal(sfu_dtls_send_app_data(a->d, m, sizeof(m)), 0);
  m[0] = 'b';
  assert_int_equal(sfu_dtls_send_app_data(b->d, m, sizeof(m)), 0);
  run_until(f, msgs_reached, 5000);
  assert_int_equal(a->msg_len[a->n_msgs - 1], 100);
  assert_int_equal(a->msg_first[a->n_msgs - 1], 'b');
  assert_int_equal(a->msg_last[a->n_msgs - 1], tag);
  assert_int_equal(b->msg_first[b->n_msgs - 1], 'a');
  assert_int_equal(b->msg_last[b->n_msgs - 1], tag);
}

/* One fixture per kind: garbage before the ClientHello, during the
 * handshake (five garbage datagrams before every real one, both ways) and
 * after it, with application data exchanged every 20 datagrams. */
static void garbage_run(int kind) {
  fixture_t *f = fixture_open(&fast_opts, &fast_opts);
  peer_t *a = &f->p[0], *b = &f->p[1];
  uint8_t g[256];
  uint64_t dropped0[2];

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
  assert_int_equal(sfu_dtls_process(a->d, g, make_garbage(f, g, kind)), SFU_ESTATE);
  assert_int_equal(a->d->stats.not_running, 1);

  /* a server waiting for its ClientHello swallows garbage, sends nothing and
   * does not start its handshake clock */
  set_fingerprints(f);
  assert_int_equal(sfu_dtls_run(b->d, SFU_DTLS_ROLE_SERVER), 0);
  for (int k = 0; k < 200; k++) assert_int_equal(sfu_dtls_process(b->d, g, make_garbage(f, g, kind)), 0);
  assert_int_equal(b->d->state, SFU_DTLS_CONNECTING);
  assert_int_equal(b->sent, 0);
  assert_int_equal(b->d->hs_deadline, 0);
  if (kind != 0) assert_true(b->d->stats.records_dropped >= 200); /* nothing of it reached OpenSSL */

  garbage_kind = kind;
  a->filter = add_garbage;
  b->filter = add_garbage;
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), 0);
  run_until(f, both_connected, 5000);
  assert_keys_match(f);
  a->filter = b->filter = NULL;
  exchange(f, 0);

  dropped0[0] = a->d->stats.records_dropped;
  dropped0[1] = b->d->stats.records_dropped;
  for (int k = 0; k < 200; k++) {
    assert_int_equal(sfu_dtls_process(a->d, g, make_garbage(f, g, kind)), 0);
    assert_int_equal(sfu_dtls_process(b->d, g, make_garbage(f, g, kind)), 0);
    if (k % 20 == 19) exchange(f, (uint8_t)(k / 20 + 1));
  }
  assert_true(both_connected(f));
  assert_false(a->d->broken);
  assert_false(b->d->broken);
  assert_int_equal(a->d->stats.record_errors, 0);
  assert_int_equal(b->d->stats.record_errors, 0);
  if (kind == 1 || kind == 3 || kind == 4) { /* none is valid; a datagram may hold several */
    assert_true(a->d->stats.records_dropped - dropped0[0] >= 200);
    assert_true(b->d->stats.records_dropped - dropped0[1] >= 200);
  } else {
    assert_true(a->d->stats.records_dropped > dropped0[0]);
  }
  assert_int_equal(a->n_states, 2); /* CONNECTING, CONNECTED: nothing else */
  assert_int_equal(b->n_states, 2);
  fixture_close(f);
}

static void test_garbage_random(void **state) {
  (void)state;
  garbage_run(0);
}
static void test_garbage_truncated_handshake(void **state) {
  (void)state;
  garbage_run(1);
}
static void test_garbage_epoch1_unauthenticated(void **state) {
  (void)state;
  garbage_run(2);
}
static void test_garbage_bad_version(void **state) {
  (void)state;
  garbage_run(3);
}
static void test_garbage_future_epoch(void **state) {
  (void)state;
  garbage_run(4);
}

/* Every kind mixed, before and during the handshake (the sequence that left
 * OpenSSL 3.0.19 unable to finish a handshake). */
static void test_garbage_mixed(void **state) {
  (void)state;
  fixture_t *f = fixture_open(&fast_opts, &fast_opts);
  peer_t *a = &f->p[0], *b = &f->p[1];
  uint8_t g[256];

  set_fingerprints(f);
  assert_int_equal(sfu_dtls_run(b->d, SFU_DTLS_ROLE_SERVER), 0);
  for (int k = 0; k < 1000; k++) assert_int_equal(sfu_dtls_process(b->d, g, make_garbage(f, g, k)), 0);
  assert_int_equal(b->sent, 0);
  garbage_kind = -1;
  a->filter = add_garbage;
  b->filter = add_garbage;
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), 0);
  run_until(f, both_connected, 5000);
  for (int k = 0; k < 1000; k++) {
    assert_int_equal(sfu_dtls_process(a->d, g, make_garbage(f, g, k)), 0);
    assert_int_equal(sfu_dtls_process(b->d, g, make_garbage(f, g, k)), 0);
  }
  a->filter = b->filter = NULL;
  exchange(f, 7);
  assert_true(both_connected(f));
  fixture_close(f);
}

/* ---- real records, damaged ---- */

/* Keeps a copy of what the peer sends and does not deliver it. */
static uint8_t captured[2048];
static size_t captured_len;
static bool capture(peer_t *me, const uint8_t *p, size_t len) {
  (void)me;
  assert_true(len <= sizeof(captured));
  memcpy(captured, p, len);
  captured_len = len;
  return true;
}

/* One application-data datagram from a to b, captured, not delivered. */
static size_t capture_app_data(fixture_t *f, uint8_t *out, const char *msg) {
  peer_t *a = &f->p[0];
  captured_len = 0;
  a->filter = capture;
  assert_int_equal(sfu_dtls_send_app_data(a->d, (const uint8_t *)msg, strlen(msg)), 0);
  a->filter = NULL;
  assert_true(captured_len > 13);
  memcpy(out, captured, captured_len);
  return captured_len;
}

/* Runs the loop a little and checks b took no message from it. */
static void assert_b_gets_nothing(fixture_t *f, int before) {
  run_for(f, 20);
  assert_int_equal(f->p[1].n_msgs, before);
  assert_true(both_connected(f));
}

/* The smallest record body of the cipher the pair agreed on. */
static size_t expected_min_body(fixture_t *f) {
  const char *name = SSL_get_cipher_name(f->p[1].d->ssl);
  assert_non_null(name);
  if (strstr(name, "CHACHA20") != NULL) return 16;
  if (strstr(name, "GCM") != NULL) return 24;
  fail_msg("unexpected cipher %s", name);
  return 0;
}

static void connect_fast(fixture_t *f) {
  connect_pair(f, SFU_DTLS_ROLE_CLIENT, SFU_DTLS_ROLE_SERVER, 5000);
  exchange(f, 1);
  if (!f->p[1].dc.opts.unfiltered_records) assert_int_equal(f->p[1].d->min_body, expected_min_body(f));
}

static void test_truncated_records(void **state) {
  (void)state;
  fixture_t *f = fixture_open(&fast_opts, &fast_opts);
  peer_t *b = &f->p[1];
  uint8_t rec[2048], two[4096];
  size_t n, cuts[6];
  int before;

  connect_fast(f);
  n = capture_app_data(f, rec, "hello");
  assert_true(n >= 13 + 16 + 5);
  cuts[0] = 13, cuts[1] = 14, cuts[2] = 13 + 8, cuts[3] = n - 16, cuts[4] = n - 8, cuts[5] = n - 1;
  before = b->n_msgs;
  for (int i = 0; i < 6; i++) {
    uint64_t d0 = b->d->stats.records_dropped;
    assert_int_equal(sfu_dtls_process(b->d, rec, cuts[i]), 0);
    assert_int_equal(b->d->stats.records_dropped, d0 + 1);
  }
  assert_int_equal(sfu_dtls_process(b->d, rec, 12), SFU_EPROTO); /* not even a header */
  assert_b_gets_nothing(f, before);
  /* the whole record is still good after all that */
  assert_int_equal(sfu_dtls_process(b->d, rec, n), 0);
  assert_int_equal(b->n_msgs, before + 1);
  assert_int_equal(b->msg_len[before], 5);

  /* a good record followed by a truncated one in the same datagram: the good one is taken */
  n = capture_app_data(f, rec, "second");
  memcpy(two, rec, n);
  memcpy(two + n, rec, n - 3);
  assert_int_equal(sfu_dtls_process(b->d, two, 2 * n - 3), 0);
  assert_int_equal(b->n_msgs, before + 2);
  assert_int_equal(b->msg_len[before + 1], 6);
  exchange(f, 2);
  fixture_close(f);
}

static void test_replayed_records(void **state) {
  (void)state;
  fixture_t *f = fixture_open(&fast_opts, &fast_opts);
  peer_t *b = &f->p[1];
  uint8_t r1[2048], r2[2048], dup[4096];
  size_t n1, n2;
  int before;

  connect_fast(f);
  n1 = capture_app_data(f, r1, "one");
  n2 = capture_app_data(f, r2, "three");
  before = b->n_msgs;
  /* out of order, then replayed many times, and twice in one datagram */
  assert_int_equal(sfu_dtls_process(b->d, r2, n2), 0);
  assert_int_equal(sfu_dtls_process(b->d, r1, n1), 0);
  assert_int_equal(b->n_msgs, before + 2);
  assert_int_equal(b->msg_len[before], 5);
  assert_int_equal(b->msg_len[before + 1], 3);
  for (int i = 0; i < 50; i++) {
    assert_int_equal(sfu_dtls_process(b->d, r1, n1), 0);
    assert_int_equal(sfu_dtls_process(b->d, r2, n2), 0);
  }
  memcpy(dup, r1, n1);
  memcpy(dup + n1, r1, n1);
  assert_int_equal(sfu_dtls_process(b->d, dup, 2 * n1), 0);
  assert_b_gets_nothing(f, before + 2);
  exchange(f, 3);
  fixture_close(f);
}

static void test_wrong_epoch_records(void **state) {
  (void)state;
  fixture_t *f = fixture_open(&fast_opts, &fast_opts);
  peer_t *b = &f->p[1];
  uint8_t rec[2048];
  const uint16_t epochs[4] = {2, 3, 0x1234, 0xffff};
  size_t n;
  int before;

  connect_fast(f);
  n = capture_app_data(f, rec, "epoch");
  before = b->n_msgs;
  for (int i = 0; i < 4; i++) {
    uint64_t d0 = b->d->stats.records_dropped;
    rec[3] = (uint8_t)(epochs[i] >> 8), rec[4] = (uint8_t)epochs[i];
    assert_int_equal(sfu_dtls_process(b->d, rec, n), 0);
    assert_int_equal(b->d->stats.records_dropped, d0 + 1);
  }
  /* epoch 0 after the handshake: a plaintext alert or handshake message is not taken */
  {
    uint8_t alert[2] = {2, 40}, dg[64];
    size_t m = put_record(dg, 21, SFU_DTLS_VERSION_1_2, 0, 99, alert, 2);
    assert_int_equal(sfu_dtls_process(b->d, dg, m), 0);
    m = put_record(dg, 20, SFU_DTLS_VERSION_1_2, 0, 100, alert, 1);
    assert_int_equal(sfu_dtls_process(b->d, dg, m), 0);
  }
  assert_b_gets_nothing(f, before);
  rec[3] = 0, rec[4] = 1;
  assert_int_equal(sfu_dtls_process(b->d, rec, n), 0);
  assert_int_equal(b->n_msgs, before + 1);
  exchange(f, 4);
  fixture_close(f);
}

static void test_flipped_bytes(void **state) {
  (void)state;
  fixture_t *f = fixture_open(&fast_opts, &fast_opts);
  peer_t *b = &f->p[1];
  uint8_t rec[2048], bad[2048];
  size_t n;
  int before;

  connect_fast(f);
  n = capture_app_data(f, rec, "integrity");
  before = b->n_msgs;
  /* the tag's last byte, the first ciphertext byte, the explicit nonce, the
   * sequence number (part of the AAD), the content type */
  const size_t at[6] = {n - 1, n - 16, 13 + 8, 13, 10, 0};
  for (int i = 0; i < 6; i++) {
    memcpy(bad, rec, n);
    bad[at[i]] ^= at[i] == 0 ? 0x03 : 0x40; /* 23 -> 20: a CCS in epoch 1 */
    assert_int_equal(sfu_dtls_process(b->d, bad, n), 0);
  }
  assert_b_gets_nothing(f, before);
  assert_int_equal(b->d->stats.record_errors, 0);
  /* the untouched record still opens: the failures did not move the replay window */
  assert_int_equal(sfu_dtls_process(b->d, rec, n), 0);
  assert_int_equal(b->n_msgs, before + 1);
  assert_int_equal(b->msg_len[before], 9);
  exchange(f, 5);
  fixture_close(f);
}

/* OpenSSL given every record as it came: whether this patch level fails on
 * an epoch-1 record shorter than the AEAD tag (3.0.19 does, with a fatal
 * internal_error alert; 3.0.22 does not), the
 * association stays CONNECTED, no alert goes to the peer, and the SRTP keys
 * stay. */
static void test_openssl_failure_keeps_connection(void **state) {
  (void)state;
  const sfu_dtls_ctx_options_t raw = {.initial_rto_ms = 10, .unfiltered_records = true};
  fixture_t *f = fixture_open(&fast_opts, &raw);
  peer_t *a = &f->p[0], *b = &f->p[1];
  uint8_t dg[64], body[40];
  uint8_t local[64];
  int sent0;

  connect_fast(f);
  memcpy(local, b->local, b->local_len);
  sent0 = b->sent;
  for (size_t len = 1; len < expected_min_body(f); len++) {
    for (size_t i = 0; i < len; i++) body[i] = (uint8_t)rnd(f);
    size_t m = put_record(dg, 23, SFU_DTLS_VERSION_1_2, 1, 1000 + len, body, len);
    assert_int_equal(sfu_dtls_process(b->d, dg, m), 0);
  }
  run_for(f, 20);
  assert_int_equal(b->sent, sent0); /* no alert */
  assert_true(both_connected(f));
  assert_int_equal(b->n_states, 2);
  assert_int_equal(a->n_states, 2);
  assert_int_equal(b->keys_calls, 1);
  assert_memory_equal(b->local, local, b->local_len);
  if (b->d->broken) {
    /* This OpenSSL failed on one: DTLS records stop, the call's media does not. */
    fprintf(stderr, "  %s failed on a short record: connection kept for SRTP (record_errors %llu)\n",
            OPENSSL_VERSION_TEXT, (unsigned long long)b->d->stats.record_errors);
    assert_int_equal(b->d->stats.record_errors, 1);
    assert_int_equal(sfu_dtls_send_app_data(b->d, (const uint8_t *)"x", 1), SFU_ESTATE);
    uint64_t d0 = b->d->stats.records_dropped;
    size_t m = put_record(dg, 23, SFU_DTLS_VERSION_1_2, 1, 5000, body, 30);
    assert_int_equal(sfu_dtls_process(b->d, dg, m), 0);
    assert_int_equal(b->d->stats.records_dropped, d0 + 1);
  } else {
    fprintf(stderr, "  %s discarded every short record\n", OPENSSL_VERSION_TEXT);
    assert_int_equal(b->d->stats.record_errors, 0);
    exchange(f, 6);
  }
  fixture_close(f);
}

/* A server that has not taken a ClientHello: forged ClientHello fragments
 * (random fragment fields) do not keep it from taking the real one. */
static void test_forged_client_hello_fragments(void **state) {
  (void)state;
  fixture_t *f = fixture_open(&fast_opts, &fast_opts);
  peer_t *a = &f->p[0], *b = &f->p[1];
  uint8_t dg[512], body[480];

  set_fingerprints(f);
  assert_int_equal(sfu_dtls_run(b->d, SFU_DTLS_ROLE_SERVER), 0);
  for (int k = 0; k < 500; k++) {
    size_t frag_len = rnd(f) % 400, n;
    uint32_t msg_len = (k % 3 == 0) ? (uint32_t)frag_len : (uint32_t)(frag_len + rnd(f) % 2000);
    uint32_t frag_off = (k % 3 == 0) ? 0 : rnd(f) % (msg_len - frag_len + 1);
    put_hs(body, 1, msg_len, 0, frag_off, (uint32_t)frag_len);
    for (size_t i = 0; i < frag_len; i++) body[12 + i] = (uint8_t)rnd(f);
    if (frag_off == 0 && frag_len >= 2) body[12] = 0xfe, body[13] = 0xfd;
    n = put_record(dg, 22, (k & 1) ? SFU_DTLS_VERSION_1_0 : SFU_DTLS_VERSION_1_2, 0, (uint64_t)k, body, 12 + frag_len);
    assert_int_equal(sfu_dtls_process(b->d, dg, n), 0);
    assert_int_equal(b->d->state, SFU_DTLS_CONNECTING);
  }
  /* what it may have answered to the forgeries is lost: a starts afresh */
  net_clear(f);
  b->sent = 0;
  assert_int_equal(sfu_dtls_run(a->d, SFU_DTLS_ROLE_CLIENT), 0);
  run_until(f, both_connected, 5000);
  assert_keys_match(f);
  exchange(f, 8);
  fixture_close(f);
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
      cmocka_unit_test(test_record_next),
      cmocka_unit_test(test_record_check),
      cmocka_unit_test(test_garbage_random),
      cmocka_unit_test(test_garbage_truncated_handshake),
      cmocka_unit_test(test_garbage_epoch1_unauthenticated),
      cmocka_unit_test(test_garbage_bad_version),
      cmocka_unit_test(test_garbage_future_epoch),
      cmocka_unit_test(test_garbage_mixed),
      cmocka_unit_test(test_truncated_records),
      cmocka_unit_test(test_replayed_records),
      cmocka_unit_test(test_wrong_epoch_records),
      cmocka_unit_test(test_flipped_bytes),
      cmocka_unit_test(test_openssl_failure_keeps_connection),
      cmocka_unit_test(test_forged_client_hello_fragments),
  };
  if (getenv("SFU_TEST_FILTER") != NULL) cmocka_set_test_filter(getenv("SFU_TEST_FILTER"));
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
