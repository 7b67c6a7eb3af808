/*
 * Unit tests for worker/src/rtp/sfu_rtcp_tcc: the full transport-cc
 * feedback reader (chunks, deltas, padding) and builder (chunk choice, size
 * limit, sequence and reference time wrap, delta range).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_bytes.h"

#include "sfu_byte.h"
#include "sfu_error.h"
#include "sfu_rtcp.h"
#include "sfu_rtcp_feedback.h"
#include "sfu_rtcp_tcc.h"

/* As in test_rtcp.c: base 1, 3 packets, reference time 16, fb count 1, one
 * run-length chunk of 3 small deltas of 1 ms, P-bit padding. */
static const char *TCC_RUN = "afcd0006 00000001 12345678 00010003 00001001 20030404 04000003";

/* base 0xfffe (wraps), 16 packets, reference -2 (0xfffffe), fb count 9:
 *   1-bit vector 1011 1111 1111 11: 14 packets, seq 0xffff lost
 *   2-bit vector (2 symbols count): large, small
 * deltas: 13 small (1,2,..,13 ticks), large -4 ticks (-1 ms), small 255. */
static const char *TCC_VEC =
    "8fcd0009 00000000 0000abcd fffe0010 fffffe09"
    "afff e400 0102030405060708090a0b0c0d fffc ff";

typedef struct pk {
  uint8_t buf[2048];
  size_t len;
  sfu_rtcp_hdr_t h;
} pk_t;

static void load(pk_t *p, const char *hx) {
  sfu_rtcp_iter_t it;

  p->len = hex(hx, p->buf);
  sfu_rtcp_iter_init(&it, p->buf, p->len);
  assert_int_equal(sfu_rtcp_iter_next(&it, &p->h), 1);
}

static void hdr_of(const uint8_t *buf, size_t len, sfu_rtcp_hdr_t *h) {
  sfu_rtcp_iter_t it;

  assert_int_equal(sfu_rtcp_validate(buf, len), 1);
  sfu_rtcp_iter_init(&it, buf, len);
  assert_int_equal(sfu_rtcp_iter_next(&it, h), 1);
}

static size_t all_packets(const sfu_rtcp_tcc_msg_t *m, sfu_rtcp_tcc_pkt_t *out, size_t cap) {
  sfu_rtcp_tcc_iter_t it;
  size_t n = 0;

  sfu_rtcp_tcc_iter_init(&it, m);
  while (n < cap && sfu_rtcp_tcc_iter_next(&it, &out[n]) == 1) n++;
  return n;
}

static void test_read_run_length(void **state) {
  pk_t p;
  sfu_rtcp_tcc_msg_t m;
  sfu_rtcp_tcc_pkt_t r[8];
  size_t i;

  (void)state;
  load(&p, TCC_RUN);
  assert_int_equal(sfu_rtcp_tcc_read(&p.h, &m), 0);
  assert_int_equal(m.tcc.base_seq, 1);
  assert_int_equal(m.tcc.status_count, 3);
  assert_int_equal(m.chunk_count, 1);
  assert_int_equal(m.deltas_len, 3);
  assert_int_equal(m.received_count, 3);
  assert_int_equal(all_packets(&m, r, 8), 3);
  for (i = 0; i < 3; i++) {
    assert_int_equal(r[i].seq, 1 + i);
    assert_true(r[i].received);
    assert_int_equal(r[i].symbol, SFU_RTCP_TCC_SMALL_DELTA);
    assert_int_equal(r[i].delta, 4);
    assert_int_equal(r[i].arrival_us, 16 * 64000 + 1000 * (int64_t)(i + 1));
  }
}

static void test_read_vectors(void **state) {
  pk_t p;
  sfu_rtcp_tcc_msg_t m;
  sfu_rtcp_tcc_pkt_t r[20];
  int64_t t = -2 * 64000;
  size_t i;

  (void)state;
  load(&p, TCC_VEC);
  assert_false(p.h.padding);
  assert_int_equal(sfu_rtcp_tcc_read(&p.h, &m), 0);
  assert_int_equal(m.tcc.reference_time, -2);
  assert_int_equal(m.tcc.fb_count, 9);
  assert_int_equal(m.tcc.fb.media_ssrc, 0xabcd);
  assert_int_equal(m.chunk_count, 2);
  assert_int_equal(m.received_count, 15);
  assert_int_equal(m.deltas_len, 13 + 2 + 1);
  assert_int_equal(all_packets(&m, r, 20), 16);
  assert_int_equal(r[0].seq, 0xfffe);
  assert_true(r[0].received);
  assert_int_equal(r[1].seq, 0xffff);
  assert_false(r[1].received);
  assert_int_equal(r[1].symbol, SFU_RTCP_TCC_NOT_RECEIVED);
  assert_int_equal(r[2].seq, 0);
  for (i = 0; i < 14; i++) {
    if (i == 1) continue;
    t += 250 * (int64_t)r[i].delta;
    assert_int_equal(r[i].delta, i == 0 ? 1 : (int)i);
    assert_int_equal(r[i].arrival_us, t);
  }
  assert_int_equal(r[14].symbol, SFU_RTCP_TCC_LARGE_DELTA);
  assert_int_equal(r[14].delta, -4);
  assert_int_equal(r[14].arrival_us, t - 1000);
  assert_int_equal(r[15].seq, 0xd);
  assert_int_equal(r[15].delta, 255);
  assert_int_equal(r[15].arrival_us, t - 1000 + 63750);
}

static void expect_proto(const char *hx) {
  pk_t p;
  sfu_rtcp_tcc_msg_t m;

  load(&p, hx);
  assert_int_equal(sfu_rtcp_tcc_read(&p.h, &m), SFU_EPROTO);
}

static void test_read_malformed(void **state) {
  pk_t p;
  sfu_rtcp_tcc_msg_t m;

  (void)state;
  /* fixed part truncated (4 of 8 bytes) */
  expect_proto("8fcd0003 00000001 00000002 00010003");
  /* status count 0 */
  expect_proto("8fcd0005 00000001 00000002 00010000 00000001 00000000");
  /* no chunk at all for 3 packets */
  expect_proto("8fcd0004 00000001 00000002 00010003 00000001");
  /* status count larger than the chunks: 20 packets, a run of 3, a run of
   * 0, nothing more */
  expect_proto("8fcd0005 00000001 00000002 00010014 00000001 20030000");
  /* run of 3 small deltas, only 2 deltas */
  expect_proto("8fcd0005 00000001 00000002 00010003 00000001 20030101");
  /* a large delta with 1 of its 2 bytes (P bit: the last byte is padding) */
  expect_proto("afcd0005 00000001 00000002 00010001 00000001 40010101");
  /* reserved symbol 3 in a run length */
  expect_proto("8fcd0005 00000001 00000002 00010001 00000001 60010000");
  /* reserved symbol 3 in a 2-bit vector */
  expect_proto("8fcd0005 00000001 00000002 00010002 00000001 f0000000");
  /* 5 bytes after the deltas */
  expect_proto("8fcd0006 00000001 00000002 00010001 00000001 20010100 00000000");
  /* not transport-cc */
  load(&p, "81cd0003 00000001 12345678 00640005");
  assert_int_equal(sfu_rtcp_tcc_read(&p.h, &m), SFU_EINVAL);

  /* a reserved symbol beyond the status count is ignored; so are up to 3
   * padding bytes without the P bit; a zero-length run is skipped */
  load(&p, "8fcd0005 00000001 00000002 00010001 00000001 f3ff0000");
  assert_int_equal(sfu_rtcp_tcc_read(&p.h, &m), SFU_EPROTO); /* first symbol 3 */
  load(&p, "8fcd0005 00000001 00000002 00010001 00000001 dfff0100");
  assert_int_equal(sfu_rtcp_tcc_read(&p.h, &m), 0);
  assert_int_equal(m.received_count, 1);
  load(&p, "8fcd0006 00000001 00000002 00010002 00000001 20002002 01020000");
  assert_int_equal(sfu_rtcp_tcc_read(&p.h, &m), 0);
  assert_int_equal(m.chunk_count, 2);
  assert_int_equal(m.received_count, 2);
  /* a run longer than the status count covers only what remains */
  load(&p, "8fcd0005 00000001 00000002 00010002 00000001 3fff0101");
  assert_int_equal(sfu_rtcp_tcc_read(&p.h, &m), 0);
  assert_int_equal(m.received_count, 2);
  assert_int_equal(m.deltas_len, 2);
}

/* Builds all of pkts into messages (cap bytes each) and checks that reading
 * them back gives every listed packet received at its time within 125 us
 * (never drifting) and every other covered packet lost. Returns the number
 * of messages. */
static size_t round_trip(const sfu_rtcp_tcc_arrival_t *pkts, size_t n, uint16_t base, size_t cap) {
  static uint8_t buf[1u << 18];
  sfu_rtcp_tcc_msg_t m;
  sfu_rtcp_tcc_iter_t it;
  sfu_rtcp_tcc_pkt_t r;
  sfu_rtcp_hdr_t h;
  size_t done = 0, consumed, msgs = 0, k;
  int64_t ref = pkts[0].arrival_us / SFU_RTCP_TCC_REF_US, at; /* the receiver's clock, roughly */
  int len;

  while (done < n) {
    len = sfu_rtcp_tcc_build(buf, cap, 7, 9, done == 0 ? base : pkts[done].seq, (uint8_t)msgs, pkts + done,
                             n - done, &consumed);
    assert_true(len >= (int)SFU_RTCP_TCC_MIN_LEN);
    assert_true((size_t)len <= cap);
    assert_true(consumed >= 1);
    hdr_of(buf, (size_t)len, &h);
    assert_false(h.padding);
    assert_int_equal(sfu_rtcp_tcc_read(&h, &m), 0);
    assert_int_equal(m.tcc.fb_count, (uint8_t)msgs);
    assert_int_equal(m.tcc.fb.sender_ssrc, 7);
    assert_int_equal(m.tcc.fb.media_ssrc, 9);
    assert_int_equal(m.received_count, consumed);
    ref = sfu_rtcp_tcc_unwrap_ref(m.tcc.reference_time, ref);
    sfu_rtcp_tcc_iter_init(&it, &m);
    k = done;
    while (sfu_rtcp_tcc_iter_next(&it, &r) == 1) {
      if (!r.received) {
        assert_true(k < n);
        assert_int_not_equal(r.seq, pkts[k].seq);
        continue;
      }
      assert_int_equal(r.seq, pkts[k].seq);
      at = ref * SFU_RTCP_TCC_REF_US + (r.arrival_us - (int64_t)m.tcc.reference_time * SFU_RTCP_TCC_REF_US);
      assert_true(llabs(at - pkts[k].arrival_us) <= 125);
      k++;
    }
    assert_int_equal(k, done + consumed);
    assert_int_equal((uint16_t)(r.seq), pkts[k - 1].seq); /* the last status is the last packet */
    done += consumed;
    msgs++;
  }
  return msgs;
}

static void test_build_fixture(void **state) {
  /* the vector fixture back from its packets */
  sfu_rtcp_tcc_arrival_t a[15];
  uint8_t buf[128], ref[128];
  size_t n = 0, consumed, rl;
  int64_t t = 0x1000000ll * 64000 - 2 * 64000; /* reference -2 wraps to 0xfffffe */
  uint16_t seq = 0xfffe;
  int i, len;

  (void)state;
  for (i = 0; i < 16; i++, seq++) {
    if (i == 1) continue;
    t += i == 0 ? 250 : i < 14 ? 250 * i : i == 14 ? -1000 : 63750;
    a[n].seq = seq;
    a[n].arrival_us = t;
    n++;
  }
  len = sfu_rtcp_tcc_build(buf, sizeof(buf), 0, 0xabcd, 0xfffe, 9, a, n, &consumed);
  rl = hex(TCC_VEC, ref);
  assert_int_equal(len, (int)rl);
  assert_int_equal(consumed, 15);
  assert_memory_equal(buf, ref, rl);

  /* 3 small deltas: one run-length chunk, as libwebrtc writes (but zero
   * padded without the P bit) */
  for (i = 0; i < 3; i++) {
    a[i].seq = (uint16_t)(1 + i);
    a[i].arrival_us = 16 * 64000 + 1000 * (i + 1);
  }
  len = sfu_rtcp_tcc_build(buf, sizeof(buf), 1, 0x12345678, 1, 1, a, 3, &consumed);
  assert_int_equal(len, 28);
  rl = hex("8fcd0006 00000001 12345678 00010003 00001001 20030404 04000000", ref);
  assert_memory_equal(buf, ref, rl);
}

static void test_build_chunk_choice(void **state) {
  sfu_rtcp_tcc_arrival_t a[64];
  sfu_rtcp_tcc_msg_t m;
  sfu_rtcp_hdr_t h;
  uint8_t buf[512];
  size_t consumed, n;
  int len, i;

  (void)state;
  /* 40 consecutive small deltas: one run length */
  for (i = 0; i < 40; i++) {
    a[i].seq = (uint16_t)(100 + i);
    a[i].arrival_us = 1000000 + 2000 * i;
  }
  len = sfu_rtcp_tcc_build(buf, sizeof(buf), 0, 0, 100, 0, a, 40, &consumed);
  hdr_of(buf, (size_t)len, &h);
  assert_int_equal(sfu_rtcp_tcc_read(&h, &m), 0);
  assert_int_equal(m.chunk_count, 1);
  assert_int_equal(sfu_rd16(m.chunks), 0x2000 | 40);

  /* every other packet lost, 28 statuses: two 1-bit vectors */
  for (i = 0; i < 14; i++) {
    a[i].seq = (uint16_t)(2 * i);
    a[i].arrival_us = 1000000 + 4000 * i;
  }
  len = sfu_rtcp_tcc_build(buf, sizeof(buf), 0, 0, 0, 0, a, 14, &consumed);
  hdr_of(buf, (size_t)len, &h);
  assert_int_equal(sfu_rtcp_tcc_read(&h, &m), 0);
  assert_int_equal(m.tcc.status_count, 27);
  assert_int_equal(m.chunk_count, 2);
  assert_int_equal(sfu_rd16(m.chunks), 0xaaaa);

  /* a large delta among small ones: 2-bit vectors of 7 */
  n = 14;
  for (i = 0; i < 14; i++) {
    a[i].seq = (uint16_t)i;
    a[i].arrival_us = 1000000 + 1000 * i + (i >= 3 ? 100000 : 0);
  }
  len = sfu_rtcp_tcc_build(buf, sizeof(buf), 0, 0, 0, 0, a, n, &consumed);
  hdr_of(buf, (size_t)len, &h);
  assert_int_equal(sfu_rtcp_tcc_read(&h, &m), 0);
  assert_int_equal(m.chunk_count, 2); /* 2-bit (S S S L S S S), then a run of 7 small */
  assert_int_equal(sfu_rd16(m.chunks), 0xc000 | 0x1000 | 0x0400 | 0x0100 | 0x0080 | 0x0010 | 0x0004 | 0x0001);
  assert_int_equal(sfu_rd16(m.chunks + 2), 0x2000 | 7);
  assert_int_equal(m.deltas_len, 15);

  /* a gap of 10000 lost packets: runs of 8191 and the rest */
  a[0].seq = 5;
  a[0].arrival_us = 0;
  a[1].seq = 10006;
  a[1].arrival_us = 1000;
  len = sfu_rtcp_tcc_build(buf, sizeof(buf), 0, 0, 5, 0, a, 2, &consumed);
  hdr_of(buf, (size_t)len, &h);
  assert_int_equal(sfu_rtcp_tcc_read(&h, &m), 0);
  assert_int_equal(m.tcc.status_count, 10002);
  assert_int_equal(m.chunk_count, 4); /* 1-bit (S + 13 lost), runs of 8191 and 1796 lost, run of 1 */
  assert_int_equal(round_trip(a, 2, 5, 1500), 1);
}

static void test_build_limits(void **state) {
  static sfu_rtcp_tcc_arrival_t a[70000];
  uint8_t buf[64];
  size_t consumed, i;
  int len;

  (void)state;
  a[0].seq = 1;
  a[0].arrival_us = 5000;
  assert_int_equal(sfu_rtcp_tcc_build(buf, sizeof(buf), 0, 0, 1, 0, a, 0, &consumed), SFU_EINVAL);
  assert_int_equal(sfu_rtcp_tcc_build(buf, 23, 0, 0, 1, 0, a, 1, &consumed), SFU_ETOOBIG);
  assert_int_equal(sfu_rtcp_tcc_build(buf, sizeof(buf), 0, 0, (uint16_t)(1 - 0x8000), 0, a, 1, &consumed),
                   SFU_EINVAL);
  a[0].arrival_us = -1;
  assert_int_equal(sfu_rtcp_tcc_build(buf, sizeof(buf), 0, 0, 1, 0, a, 1, &consumed), SFU_EINVAL);
  a[0].arrival_us = 5000;
  len = sfu_rtcp_tcc_build(buf, 24, 0, 0, 1, 0, a, 1, &consumed);
  assert_int_equal(len, 24);
  assert_int_equal(consumed, 1);

  /* deltas beyond 16 bits start a new message; so does a repeated or older
   * sequence number */
  a[1].seq = 2;
  a[1].arrival_us = 5000 + 8192000;
  a[2].seq = 3;
  a[2].arrival_us = 5000 + 8192000 + 1000;
  a[3].seq = 3;
  a[3].arrival_us = 5000 + 8192000 + 2000;
  a[4].seq = 2;
  a[4].arrival_us = 5000 + 8192000 + 3000;
  len = sfu_rtcp_tcc_build(buf, sizeof(buf), 0, 0, 1, 0, a, 5, &consumed);
  assert_true(len > 0);
  assert_int_equal(consumed, 1);
  len = sfu_rtcp_tcc_build(buf, sizeof(buf), 0, 0, 2, 1, a + 1, 4, &consumed);
  assert_int_equal(consumed, 2);
  assert_int_equal(round_trip(a, 3, 1, 64), 2);
  /* -8192 ms fits exactly, +8191.75 ms too */
  a[1].arrival_us = a[0].arrival_us + 8191750;
  a[2].arrival_us = a[1].arrival_us - 8192000;
  assert_int_equal(round_trip(a, 3, 1, 64), 1);

  /* sizes: 1000 packets with large deltas into 200-byte messages */
  for (i = 0; i < 1000; i++) {
    a[i].seq = (uint16_t)(65000 + i); /* wraps */
    a[i].arrival_us = 1000000 + (int64_t)i * 70000;
  }
  assert_true(round_trip(a, 1000, 65000, 200) >= 1000 * 2 / (200 - 20));

  /* more than 65535 statuses */
  for (i = 0; i < 70000; i++) {
    a[i].seq = (uint16_t)i;
    a[i].arrival_us = (int64_t)i * 10;
  }
  assert_int_equal(round_trip(a, 70000, 0, 1u << 18), 2);

  /* reference time wrap: arrivals across 2^24 x 64 ms */
  for (i = 0; i < 300; i++) {
    a[i].seq = (uint16_t)(i * 3);
    a[i].arrival_us = SFU_RTCP_TCC_REF_WRAP_US - 3000000 + (int64_t)i * 20000;
  }
  assert_true(round_trip(a, 300, 0, 100) >= 5);
}

static void test_round_trip_random(void **state) {
  static sfu_rtcp_tcc_arrival_t a[5000];
  uint64_t s = 0x9e3779b97f4a7c15ull;
  size_t n, i, iter;
  uint16_t seq;
  int64_t t;

  (void)state;
  for (iter = 0; iter < 200; iter++) {
    n = 1 + rng(&s) % 5000;
    seq = (uint16_t)rng(&s);
    t = (int64_t)(rng(&s) % 100000000000ull);
    for (i = 0; i < n; i++) {
      uint64_t r = rng(&s);
      seq = (uint16_t)(seq + 1 + ((r & 7) == 0 ? (r >> 8) % 40 : 0) + ((r & 1023) == 1 ? 20000 : 0));
      a[i].seq = seq;
      /* mostly small steps, some jitter backwards, some long pauses */
      switch ((r >> 20) & 15) {
      case 0: t -= (int64_t)((r >> 24) % 30000); break;
      case 1: t += (int64_t)((r >> 24) % 9000000); break;
      default: t += (int64_t)((r >> 24) % 20000); break;
      }
      if (t < 0) t = 0;
      a[i].arrival_us = t;
    }
    (void)round_trip(a, n, (uint16_t)(a[0].seq - (rng(&s) % 5)), 100 + rng(&s) % 1400);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_read_run_length), cmocka_unit_test(test_read_vectors),
      cmocka_unit_test(test_read_malformed),  cmocka_unit_test(test_build_fixture),
      cmocka_unit_test(test_build_chunk_choice), cmocka_unit_test(test_build_limits),
      cmocka_unit_test(test_round_trip_random),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
