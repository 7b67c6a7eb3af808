/* Unit tests for worker/src/dtls/sfu_dtls (+ sfu_dtls_ctx): two sfu_dtls_t,
 * each with its own certificate and DTLS context, on one real libuv loop,
 * wired back to back through a small simulated network (a queue delivered by
 * a timer) that can drop, reorder, duplicate and refragment (invalid and
 * damaged records: test_dtls_record.c). Covers roles, fingerprints, retransmission, handshake timeout, application
 * data, close_notify, closing from callbacks, and the whole DTLS-SRTP chain
 * into sfu_srtp sessions for every suite. Every test leaves the loop closed.
 * SFU_TEST_LOG=1 prints the worker's debug log; SFU_TEST_FILTER=pattern runs
 * only the matching tests. */
#include "dtls_fixture.h"

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
