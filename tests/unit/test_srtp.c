/* Unit tests for worker/src/srtp/sfu_srtp (libsrtp2 sessions): for every
 * suite, RTP and RTCP round trips, tampering, replay, wrong key, buffers too
 * small (buffers are allocated to the exact size so ASan/valgrind see any
 * write past the trailer), plus the suite tables and argument checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sfu_error.h"
#include "sfu_srtp.h"

static const sfu_srtp_suite_t all_suites[] = {SFU_SRTP_AEAD_AES_256_GCM, SFU_SRTP_AEAD_AES_128_GCM,
                                              SFU_SRTP_AES_CM_128_HMAC_SHA1_80, SFU_SRTP_AES_CM_128_HMAC_SHA1_32};
#define N_SUITES (sizeof(all_suites) / sizeof(all_suites[0]))

static void make_key(uint8_t *key, size_t len, uint8_t seed) {
  for (size_t i = 0; i < len; i++) key[i] = (uint8_t)(seed + i * 7u);
}

typedef struct pair {
  sfu_srtp_t *out;
  sfu_srtp_t *in;
  sfu_srtp_suite_t suite;
} pair_t;

static void pair_open(pair_t *p, sfu_srtp_suite_t suite, uint8_t out_seed, uint8_t in_seed) {
  uint8_t key[64];
  size_t len = sfu_srtp_key_len(suite);
  assert_true(len > 0 && len <= sizeof(key));
  p->suite = suite;
  make_key(key, len, out_seed);
  assert_int_equal(sfu_srtp_create(&p->out, SFU_SRTP_OUTBOUND, suite, key, len), 0);
  make_key(key, len, in_seed);
  assert_int_equal(sfu_srtp_create(&p->in, SFU_SRTP_INBOUND, suite, key, len), 0);
}

static void pair_close(pair_t *p) {
  sfu_srtp_destroy(p->out);
  sfu_srtp_destroy(p->in);
}

/* RTP header (no CSRC, no extension) + payload; returns the length. */
static size_t make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload) {
  buf[0] = 0x80;
  buf[1] = 111;
  buf[2] = (uint8_t)(seq >> 8);
  buf[3] = (uint8_t)seq;
  buf[4] = 0;
  buf[5] = 0;
  buf[6] = (uint8_t)(seq >> 8);
  buf[7] = (uint8_t)seq;
  buf[8] = (uint8_t)(ssrc >> 24);
  buf[9] = (uint8_t)(ssrc >> 16);
  buf[10] = (uint8_t)(ssrc >> 8);
  buf[11] = (uint8_t)ssrc;
  for (size_t i = 0; i < payload; i++) buf[12 + i] = (uint8_t)(i ^ seq);
  return 12 + payload;
}

/* Sender Report without report blocks (28 bytes). */
static size_t make_rtcp(uint8_t *buf, uint32_t ssrc, uint32_t stamp) {
  memset(buf, 0, 28);
  buf[0] = 0x80;
  buf[1] = 200;
  buf[3] = 6;
  buf[4] = (uint8_t)(ssrc >> 24);
  buf[5] = (uint8_t)(ssrc >> 16);
  buf[6] = (uint8_t)(ssrc >> 8);
  buf[7] = (uint8_t)ssrc;
  buf[16] = (uint8_t)(stamp >> 24);
  buf[17] = (uint8_t)(stamp >> 16);
  buf[18] = (uint8_t)(stamp >> 8);
  buf[19] = (uint8_t)stamp;
  return 28;
}

/* Protects an RTP packet in a buffer of exactly len + trailer bytes; returns it (caller frees). */
static uint8_t *protect_rtp_exact(pair_t *p, uint16_t seq, uint32_t ssrc, size_t payload, size_t *len) {
  size_t cap = 12 + payload + sfu_srtp_rtp_trailer_len(p->suite);
  uint8_t *buf = malloc(cap);
  assert_non_null(buf);
  *len = make_rtp(buf, seq, ssrc, payload);
  assert_int_equal(sfu_srtp_protect_rtp(p->out, buf, len, cap), 0);
  assert_int_equal(*len, cap);
  return buf;
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

/* ---- tables ---- */

static void test_suite_tables(void **state) {
  (void)state;
  assert_int_equal(sfu_srtp_key_len(SFU_SRTP_AEAD_AES_256_GCM), 44);
  assert_int_equal(sfu_srtp_key_len(SFU_SRTP_AEAD_AES_128_GCM), 28);
  assert_int_equal(sfu_srtp_key_len(SFU_SRTP_AES_CM_128_HMAC_SHA1_80), 30);
  assert_int_equal(sfu_srtp_key_len(SFU_SRTP_AES_CM_128_HMAC_SHA1_32), 30);
  assert_int_equal(sfu_srtp_key_len((sfu_srtp_suite_t)9), 0);
  assert_int_equal(sfu_srtp_master_key_len(SFU_SRTP_AEAD_AES_256_GCM), 32);
  assert_int_equal(sfu_srtp_master_salt_len(SFU_SRTP_AEAD_AES_256_GCM), 12);
  assert_int_equal(sfu_srtp_master_salt_len(SFU_SRTP_AES_CM_128_HMAC_SHA1_32), 14);
  assert_int_equal(sfu_srtp_rtp_trailer_len(SFU_SRTP_AES_CM_128_HMAC_SHA1_32), 4);
  assert_int_equal(sfu_srtp_rtcp_trailer_len(SFU_SRTP_AES_CM_128_HMAC_SHA1_32), 14);
  assert_int_equal(sfu_srtp_rtcp_trailer_len(SFU_SRTP_AEAD_AES_128_GCM), SFU_SRTP_MAX_TRAILER);
  assert_string_equal(sfu_srtp_suite_name(SFU_SRTP_AES_CM_128_HMAC_SHA1_80), "AES_CM_128_HMAC_SHA1_80");
  assert_string_equal(sfu_srtp_suite_name((sfu_srtp_suite_t)7), "unknown");

  sfu_srtp_suite_t s;
  assert_int_equal(sfu_srtp_suite_from_dtls_profile(0x0001, &s), 0);
  assert_int_equal(s, SFU_SRTP_AES_CM_128_HMAC_SHA1_80);
  assert_int_equal(sfu_srtp_suite_from_dtls_profile(0x0002, &s), 0);
  assert_int_equal(s, SFU_SRTP_AES_CM_128_HMAC_SHA1_32);
  assert_int_equal(sfu_srtp_suite_from_dtls_profile(0x0007, &s), 0);
  assert_int_equal(s, SFU_SRTP_AEAD_AES_128_GCM);
  assert_int_equal(sfu_srtp_suite_from_dtls_profile(0x0008, &s), 0);
  assert_int_equal(s, SFU_SRTP_AEAD_AES_256_GCM);
  assert_int_equal(sfu_srtp_suite_from_dtls_profile(0x0005, &s), SFU_ENOTSUP);
}

static void test_create_rejects_bad_args(void **state) {
  uint8_t key[64] = {0};
  sfu_srtp_t *s = NULL;
  (void)state;
  assert_int_equal(sfu_srtp_create(&s, SFU_SRTP_OUTBOUND, SFU_SRTP_AEAD_AES_256_GCM, key, 43), SFU_EINVAL);
  assert_int_equal(sfu_srtp_create(&s, SFU_SRTP_OUTBOUND, SFU_SRTP_AES_CM_128_HMAC_SHA1_80, key, 44), SFU_EINVAL);
  assert_int_equal(sfu_srtp_create(&s, SFU_SRTP_OUTBOUND, (sfu_srtp_suite_t)4, key, 30), SFU_EINVAL);
  assert_int_equal(sfu_srtp_create(&s, (sfu_srtp_direction_t)5, SFU_SRTP_AEAD_AES_128_GCM, key, 28), SFU_EINVAL);
  assert_int_equal(sfu_srtp_create(&s, SFU_SRTP_INBOUND, SFU_SRTP_AEAD_AES_128_GCM, NULL, 28), SFU_EINVAL);
  assert_null(s);
  sfu_srtp_destroy(NULL);
}

/* ---- per suite ---- */

static void test_rtp_round_trip(void **state) {
  (void)state;
  for (size_t i = 0; i < N_SUITES; i++) {
    pair_t p;
    pair_open(&p, all_suites[i], 1, 1);
    assert_int_equal(sfu_srtp_suite(p.out), all_suites[i]);
    for (uint16_t seq = 65530; seq != 10; seq++) { /* across the rollover */
      uint8_t plain[300];
      size_t len;
      size_t plain_len = make_rtp(plain, seq, 0x11223344, 160 + seq % 7);
      uint8_t *buf = protect_rtp_exact(&p, seq, 0x11223344, 160 + seq % 7, &len);
      assert_int_equal(len, plain_len + sfu_srtp_rtp_trailer_len(all_suites[i]));
      assert_memory_equal(buf, plain, 12); /* header in the clear */
      assert_memory_not_equal(buf + 12, plain + 12, plain_len - 12);
      assert_int_equal(sfu_srtp_unprotect_rtp(p.in, buf, &len), 0);
      assert_int_equal(len, plain_len);
      assert_memory_equal(buf, plain, plain_len);
      free(buf);
    }
    assert_int_equal(sfu_srtp_stats(p.in)->ok, 16);
    assert_int_equal(sfu_srtp_last_status(p.in), SFU_SRTP_OK);
    pair_close(&p);
  }
}

static void test_rtp_with_csrc_and_extension(void **state) {
  (void)state;
  for (size_t i = 0; i < N_SUITES; i++) {
    pair_t p;
    uint8_t buf[200], plain[200];
    size_t len = make_rtp(buf, 7, 42, 0);
    /* two CSRCs and a one-byte-header extension of one word, then 20 bytes of payload */
    buf[0] = 0x80 | 0x10 | 2;
    memset(buf + 12, 0xcc, 8);
    buf[20] = 0xbe;
    buf[21] = 0xde;
    buf[22] = 0;
    buf[23] = 1;
    memset(buf + 24, 0x11, 4);
    memset(buf + 28, 0x5a, 20);
    len = 48;
    memcpy(plain, buf, len);
    pair_open(&p, all_suites[i], 3, 3);
    assert_int_equal(sfu_srtp_protect_rtp(p.out, buf, &len, sizeof(buf)), 0);
    assert_memory_equal(buf, plain, 28);
    assert_int_equal(sfu_srtp_unprotect_rtp(p.in, buf, &len), 0);
    assert_int_equal(len, 48);
    assert_memory_equal(buf, plain, 48);
    pair_close(&p);
  }
}

static void test_rtcp_round_trip(void **state) {
  (void)state;
  for (size_t i = 0; i < N_SUITES; i++) {
    pair_t p;
    pair_open(&p, all_suites[i], 2, 2);
    for (uint32_t k = 0; k < 5; k++) {
      size_t trailer = sfu_srtp_rtcp_trailer_len(all_suites[i]);
      uint8_t plain[28];
      uint8_t *buf = malloc(28 + trailer);
      size_t len = make_rtcp(buf, 0xabcdef01, k);
      assert_non_null(buf);
      memcpy(plain, buf, 28);
      assert_int_equal(sfu_srtp_protect_rtcp(p.out, buf, &len, 28 + trailer), 0);
      assert_int_equal(len, 28 + trailer);
      assert_memory_equal(buf, plain, 8); /* first header word and SSRC in the clear */
      assert_int_equal(sfu_srtp_unprotect_rtcp(p.in, buf, &len), 0);
      assert_int_equal(len, 28);
      assert_memory_equal(buf, plain, 28);
      free(buf);
    }
    pair_close(&p);
  }
}

static void test_tamper_fails_auth(void **state) {
  (void)state;
  for (size_t i = 0; i < N_SUITES; i++) {
    pair_t p;
    pair_open(&p, all_suites[i], 4, 4);
    /* one flipped bit in the payload, in the tag, in the header */
    size_t where[3];
    for (int w = 0; w < 3; w++) {
      size_t len;
      uint8_t *buf = protect_rtp_exact(&p, (uint16_t)(100 + w), 0x01020304, 50, &len);
      where[0] = 30;
      where[1] = len - 1;
      where[2] = 9;
      buf[where[w]] ^= 0x01;
      assert_int_equal(sfu_srtp_unprotect_rtp(p.in, buf, &len), SFU_EPROTO);
      assert_int_equal(sfu_srtp_last_status(p.in), SFU_SRTP_AUTH_FAIL);
      free(buf);
    }
    /* RTCP too */
    uint8_t rtcp[64];
    size_t len = make_rtcp(rtcp, 0x01020304, 1);
    assert_int_equal(sfu_srtp_protect_rtcp(p.out, rtcp, &len, sizeof(rtcp)), 0);
    rtcp[12] ^= 0x80;
    assert_int_equal(sfu_srtp_unprotect_rtcp(p.in, rtcp, &len), SFU_EPROTO);
    assert_int_equal(sfu_srtp_last_status(p.in), SFU_SRTP_AUTH_FAIL);
    /* truncated tag */
    len = make_rtcp(rtcp, 0x01020304, 2);
    assert_int_equal(sfu_srtp_protect_rtcp(p.out, rtcp, &len, sizeof(rtcp)), 0);
    len -= 1;
    assert_int_equal(sfu_srtp_unprotect_rtcp(p.in, rtcp, &len), SFU_EPROTO);
    assert_int_equal(sfu_srtp_stats(p.in)->auth_fail + sfu_srtp_stats(p.in)->malformed +
                         sfu_srtp_stats(p.in)->other,
                     5);
    pair_close(&p);
  }
}

static void test_replay_rejected(void **state) {
  (void)state;
  for (size_t i = 0; i < N_SUITES; i++) {
    pair_t p;
    uint8_t copy[300];
    size_t len, len2;
    pair_open(&p, all_suites[i], 5, 5);

    uint8_t *buf = protect_rtp_exact(&p, 5000, 0x55, 100, &len);
    memcpy(copy, buf, len);
    len2 = len;
    assert_int_equal(sfu_srtp_unprotect_rtp(p.in, buf, &len), 0);
    assert_int_equal(sfu_srtp_unprotect_rtp(p.in, copy, &len2), SFU_EPROTO);
    assert_int_equal(sfu_srtp_last_status(p.in), SFU_SRTP_REPLAY);
    assert_int_equal(sfu_srtp_stats(p.in)->replay, 1);
    free(buf);

    /* Far ahead, then one older than the 1024-packet window. */
    uint8_t *old = protect_rtp_exact(&p, 5001, 0x55, 100, &len2);
    buf = protect_rtp_exact(&p, 7000, 0x55, 100, &len);
    assert_int_equal(sfu_srtp_unprotect_rtp(p.in, buf, &len), 0);
    assert_int_equal(sfu_srtp_unprotect_rtp(p.in, old, &len2), SFU_EPROTO);
    assert_int_equal(sfu_srtp_last_status(p.in), SFU_SRTP_REPLAY);
    free(buf);
    free(old);

    /* Out of order within the window is fine. */
    uint8_t *a = protect_rtp_exact(&p, 7010, 0x55, 10, &len);
    uint8_t *b = protect_rtp_exact(&p, 7005, 0x55, 10, &len2);
    assert_int_equal(sfu_srtp_unprotect_rtp(p.in, a, &len), 0);
    assert_int_equal(sfu_srtp_unprotect_rtp(p.in, b, &len2), 0);
    free(a);
    free(b);

    /* SRTCP replay. */
    uint8_t rtcp[64], rcopy[64];
    len = make_rtcp(rtcp, 0x55, 9);
    assert_int_equal(sfu_srtp_protect_rtcp(p.out, rtcp, &len, sizeof(rtcp)), 0);
    memcpy(rcopy, rtcp, len);
    len2 = len;
    assert_int_equal(sfu_srtp_unprotect_rtcp(p.in, rtcp, &len), 0);
    assert_int_equal(sfu_srtp_unprotect_rtcp(p.in, rcopy, &len2), SFU_EPROTO);
    assert_int_equal(sfu_srtp_last_status(p.in), SFU_SRTP_REPLAY);
    pair_close(&p);
  }
}

static void test_wrong_key_fails(void **state) {
  (void)state;
  for (size_t i = 0; i < N_SUITES; i++) {
    pair_t p;
    size_t len;
    pair_open(&p, all_suites[i], 6, 77);
    uint8_t *buf = protect_rtp_exact(&p, 1, 0x66, 80, &len);
    assert_int_equal(sfu_srtp_unprotect_rtp(p.in, buf, &len), SFU_EPROTO);
    assert_int_equal(sfu_srtp_last_status(p.in), SFU_SRTP_AUTH_FAIL);
    free(buf);
    uint8_t rtcp[64];
    len = make_rtcp(rtcp, 0x66, 1);
    assert_int_equal(sfu_srtp_protect_rtcp(p.out, rtcp, &len, sizeof(rtcp)), 0);
    assert_int_equal(sfu_srtp_unprotect_rtcp(p.in, rtcp, &len), SFU_EPROTO);
    assert_int_equal(sfu_srtp_last_status(p.in), SFU_SRTP_AUTH_FAIL);
    pair_close(&p);
  }
}

static void test_cap_too_small(void **state) {
  (void)state;
  for (size_t i = 0; i < N_SUITES; i++) {
    pair_t p;
    uint8_t buf[256], plain[256];
    size_t len = make_rtp(buf, 9, 0x77, 100);
    size_t rtp_trailer = sfu_srtp_rtp_trailer_len(all_suites[i]);
    size_t rtcp_trailer = sfu_srtp_rtcp_trailer_len(all_suites[i]);
    memcpy(plain, buf, len);
    pair_open(&p, all_suites[i], 8, 8);
    assert_int_equal(sfu_srtp_protect_rtp(p.out, buf, &len, len + rtp_trailer - 1), SFU_ETOOBIG);
    assert_int_equal(sfu_srtp_last_status(p.out), SFU_SRTP_NO_ROOM);
    assert_int_equal(len, 112);
    assert_memory_equal(buf, plain, len); /* untouched */
    assert_int_equal(sfu_srtp_protect_rtp(p.out, buf, &len, len - 1), SFU_ETOOBIG);
    assert_int_equal(sfu_srtp_protect_rtp(p.out, buf, &len, 0), SFU_ETOOBIG);

    len = make_rtcp(buf, 0x77, 3);
    assert_int_equal(sfu_srtp_protect_rtcp(p.out, buf, &len, len + rtcp_trailer - 1), SFU_ETOOBIG);
    assert_int_equal(len, 28);
    assert_int_equal(sfu_srtp_protect_rtcp(p.out, buf, &len, len + rtcp_trailer), 0);
    assert_int_equal(len, 28 + rtcp_trailer);
    pair_close(&p);
  }
}

/* ---- misc ---- */

static void test_wrong_direction_and_malformed(void **state) {
  pair_t p;
  uint8_t buf[128];
  size_t len;
  (void)state;
  pair_open(&p, SFU_SRTP_AES_CM_128_HMAC_SHA1_80, 9, 9);

  len = make_rtp(buf, 1, 1, 10);
  assert_int_equal(sfu_srtp_protect_rtp(p.in, buf, &len, sizeof(buf)), SFU_ESTATE);
  assert_int_equal(sfu_srtp_last_status(p.in), SFU_SRTP_WRONG_DIRECTION);
  assert_int_equal(sfu_srtp_unprotect_rtp(p.out, buf, &len), SFU_ESTATE);
  assert_int_equal(sfu_srtp_protect_rtcp(p.in, buf, &len, sizeof(buf)), SFU_ESTATE);
  assert_int_equal(sfu_srtp_unprotect_rtcp(p.out, buf, &len), SFU_ESTATE);

  /* too short, wrong version, CSRCs or extension past the end */
  len = 11;
  assert_int_equal(sfu_srtp_protect_rtp(p.out, buf, &len, sizeof(buf)), SFU_EPROTO);
  assert_int_equal(sfu_srtp_last_status(p.out), SFU_SRTP_MALFORMED);
  assert_int_equal(sfu_srtp_unprotect_rtp(p.in, buf, &len), SFU_EPROTO);
  len = make_rtp(buf, 1, 1, 10);
  buf[0] = 0x40;
  assert_int_equal(sfu_srtp_protect_rtp(p.out, buf, &len, sizeof(buf)), SFU_EPROTO);
  buf[0] = 0x8f; /* 15 CSRCs = 60 bytes > 22 */
  assert_int_equal(sfu_srtp_protect_rtp(p.out, buf, &len, sizeof(buf)), SFU_EPROTO);
  assert_int_equal(sfu_srtp_unprotect_rtp(p.in, buf, &len), SFU_EPROTO);
  buf[0] = 0x90; /* extension header present... */
  buf[14] = 0x00;
  buf[15] = 0x09; /* ...claiming 9 words */
  assert_int_equal(sfu_srtp_protect_rtp(p.out, buf, &len, sizeof(buf)), SFU_EPROTO);
  len = 14; /* extension header itself cut */
  assert_int_equal(sfu_srtp_protect_rtp(p.out, buf, &len, sizeof(buf)), SFU_EPROTO);
  len = 7;
  assert_int_equal(sfu_srtp_protect_rtcp(p.out, buf, &len, sizeof(buf)), SFU_EPROTO);
  assert_int_equal(sfu_srtp_unprotect_rtcp(p.in, buf, &len), SFU_EPROTO);
  /* an RTCP packet too short for index + tag */
  len = make_rtcp(buf, 1, 1);
  len = 12;
  assert_int_equal(sfu_srtp_unprotect_rtcp(p.in, buf, &len), SFU_EPROTO);
  assert_true(sfu_srtp_stats(p.in)->malformed + sfu_srtp_stats(p.in)->auth_fail +
                  sfu_srtp_stats(p.in)->other >= 4);
  assert_string_equal(sfu_srtp_status_name(SFU_SRTP_REPLAY), "replayed or too old");
  pair_close(&p);
}

/* Outbound sessions take new SSRCs as they come; inbound ones too. Resending
 * the same packet (retransmission without RTX) is allowed on the way out. */
static void test_many_ssrcs_and_repeat_tx(void **state) {
  (void)state;
  for (size_t i = 0; i < N_SUITES; i++) {
    pair_t p;
    pair_open(&p, all_suites[i], 10, 10);
    for (uint32_t ssrc = 1; ssrc <= 20; ssrc++) {
      for (uint16_t seq = 0; seq < 3; seq++) {
        size_t len;
        uint8_t *buf = protect_rtp_exact(&p, seq, ssrc * 1000u, 30, &len);
        assert_int_equal(sfu_srtp_unprotect_rtp(p.in, buf, &len), 0);
        free(buf);
      }
    }
    uint8_t a[100], b[100];
    size_t la = make_rtp(a, 50, 5000, 40), lb = make_rtp(b, 50, 5000, 40);
    assert_int_equal(sfu_srtp_protect_rtp(p.out, a, &la, sizeof(a)), 0);
    assert_int_equal(sfu_srtp_protect_rtp(p.out, b, &lb, sizeof(b)), 0);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    assert_int_equal(sfu_srtp_unprotect_rtp(p.in, a, &la), 0);
    assert_int_equal(sfu_srtp_unprotect_rtp(p.in, b, &lb), SFU_EPROTO); /* the receiver still rejects it */
    pair_close(&p);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_suite_tables),
      cmocka_unit_test(test_create_rejects_bad_args),
      cmocka_unit_test(test_rtp_round_trip),
      cmocka_unit_test(test_rtp_with_csrc_and_extension),
      cmocka_unit_test(test_rtcp_round_trip),
      cmocka_unit_test(test_tamper_fails_auth),
      cmocka_unit_test(test_replay_rejected),
      cmocka_unit_test(test_wrong_key_fails),
      cmocka_unit_test(test_cap_too_small),
      cmocka_unit_test(test_wrong_direction_and_malformed),
      cmocka_unit_test(test_many_ssrcs_and_repeat_tx),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
