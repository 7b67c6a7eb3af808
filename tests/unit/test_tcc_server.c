/*
 * Unit tests for worker/src/bwe/sfu_tcc_server: the transport-cc receive
 * side (what it reports, reordering, duplicates, wrap, bounded window,
 * message size) and mediasoup's limitation REMB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sfu_error.h"
#include "sfu_rtcp.h"
#include "sfu_rtcp_tcc.h"
#include "sfu_tcc_server.h"

typedef struct seen {
  uint16_t seq[20000];
  bool received[20000];
  int64_t arrival_us[20000];
  size_t n;
  int msgs;
  uint16_t base;
  uint8_t fb_count;
} seen_t;

/* Builds every waiting message and reads them back into *out. */
static void drain(sfu_tcc_server_t *s, size_t cap, seen_t *out) {
  uint8_t buf[2048];
  sfu_rtcp_iter_t it;
  sfu_rtcp_hdr_t h;
  sfu_rtcp_tcc_msg_t m;
  sfu_rtcp_tcc_iter_t ti;
  sfu_rtcp_tcc_pkt_t p;
  int64_t ref;
  int len;

  memset(out, 0, sizeof(*out));
  while ((len = sfu_tcc_server_build_feedback(s, buf, cap)) > 0) {
    assert_true((size_t)len <= cap);
    sfu_rtcp_iter_init(&it, buf, (size_t)len);
    assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
    assert_int_equal(sfu_rtcp_tcc_read(&h, &m), 0);
    assert_int_equal(m.tcc.fb.sender_ssrc, 0);
    assert_int_equal(m.tcc.fb.media_ssrc, 0xabc);
    if (out->msgs == 0) {
      out->base = m.tcc.base_seq;
      out->fb_count = m.tcc.fb_count;
    } else {
      assert_int_equal(m.tcc.fb_count, (uint8_t)(out->fb_count + out->msgs));
    }
    ref = m.tcc.reference_time;
    sfu_rtcp_tcc_iter_init(&ti, &m);
    while (sfu_rtcp_tcc_iter_next(&ti, &p) == 1) {
      assert_true(out->n < 20000);
      out->seq[out->n] = p.seq;
      out->received[out->n] = p.received;
      out->arrival_us[out->n] = p.arrival_us - ref * SFU_RTCP_TCC_REF_US + ref * SFU_RTCP_TCC_REF_US;
      out->n++;
    }
    out->msgs++;
  }
  assert_int_equal(len, 0);
}

static void test_in_order_and_loss(void **state) {
  static seen_t r;
  sfu_tcc_server_t s;
  uint16_t i;

  (void)state;
  assert_int_equal(sfu_tcc_server_init(&s, 23), SFU_EINVAL);
  assert_int_equal(sfu_tcc_server_init(&s, 1500), 0);
  drain(&s, 1500, &r);
  assert_int_equal(r.msgs, 0); /* nothing yet */
  for (i = 100; i < 110; i++)
    if (i != 103 && i != 104) assert_false(sfu_tcc_server_on_packet(&s, i, 0xabc, 1000000 + 2000 * (int64_t)i));
  drain(&s, 1500, &r);
  assert_int_equal(r.msgs, 1);
  assert_int_equal(r.base, 100);
  assert_int_equal(r.n, 10);
  for (i = 0; i < 10; i++) {
    assert_int_equal(r.seq[i], 100 + i);
    assert_int_equal(r.received[i], i != 3 && i != 4);
    if (r.received[i]) assert_int_equal(r.arrival_us[i], 1000000 + 2000 * (int64_t)(100 + i));
  }
  assert_true(sfu_tcc_server_packet_loss(&s) > 0.199 && sfu_tcc_server_packet_loss(&s) < 0.201);
  drain(&s, 1500, &r);
  assert_int_equal(r.msgs, 0);

  /* the next message continues the range and the feedback count */
  assert_false(sfu_tcc_server_on_packet(&s, 111, 0xabc, 1300000));
  drain(&s, 1500, &r);
  assert_int_equal(r.msgs, 1);
  assert_int_equal(r.base, 110);
  assert_int_equal(r.fb_count, 1);
  assert_int_equal(r.n, 2);
  assert_false(r.received[0]);
  assert_true(r.received[1]);
  {
    uint8_t small[20];
    assert_int_equal(sfu_tcc_server_build_feedback(&s, small, sizeof(small)), SFU_ETOOBIG);
  }
  sfu_tcc_server_destroy(&s);
}

static void test_duplicates_reorder_wrap(void **state) {
  static seen_t r;
  sfu_tcc_server_t s;
  uint16_t i;

  (void)state;
  assert_int_equal(sfu_tcc_server_init(&s, 1500), 0);
  /* wrap: 65530..65535, 0..5; a duplicate keeps the first arrival */
  for (i = 65530; i != 6; i++) (void)sfu_tcc_server_on_packet(&s, i, 0xabc, 5000000 + 1000 * (int64_t)(uint16_t)(i + 6));
  (void)sfu_tcc_server_on_packet(&s, 2, 0xabc, 9000000);
  assert_int_equal(s.duplicates, 1);
  drain(&s, 1500, &r);
  assert_int_equal(r.base, 65530);
  assert_int_equal(r.n, 12);
  for (i = 0; i < 12; i++) {
    assert_true(r.received[i]);
    assert_int_equal(r.seq[i], (uint16_t)(65530 + i));
    assert_int_equal(r.arrival_us[i], 5000000 + 1000 * (int64_t)i);
  }
  /* 6..9 without 7; 7 arrives after the feedback: the next feedback starts
   * at 7 again (received), with 8 and 9 repeated */
  for (i = 6; i < 10; i++)
    if (i != 7) (void)sfu_tcc_server_on_packet(&s, i, 0xabc, 6000000 + 1000 * (int64_t)i);
  drain(&s, 1500, &r);
  assert_int_equal(r.n, 4);
  assert_false(r.received[1]);
  (void)sfu_tcc_server_on_packet(&s, 7, 0xabc, 6100000);
  (void)sfu_tcc_server_on_packet(&s, 10, 0xabc, 6101000);
  drain(&s, 1500, &r);
  assert_int_equal(r.base, 7);
  assert_int_equal(r.n, 4);
  for (i = 0; i < 4; i++) assert_true(r.received[i]);
  assert_int_equal(r.arrival_us[0], 6100000);
  sfu_tcc_server_destroy(&s);
}

#define SFU__N (SFU_TCC_SERVER_WINDOW * 3 / 4) /* packets that fit the window */

static void test_window_bounds(void **state) {
  static seen_t r;
  sfu_tcc_server_t s;
  bool due = false;
  int i, first_due = -1;

  (void)state;
  assert_int_equal(sfu_tcc_server_init(&s, 300), 0);
  for (i = 0; i < SFU__N; i++) {
    due = sfu_tcc_server_on_packet(&s, (uint16_t)(60000 + i), 0xabc, 100000 + 500 * (int64_t)i);
    if (due && first_due < 0) first_due = i;
  }
  assert_int_equal(first_due, SFU_TCC_SERVER_WINDOW / 2 - 1);
  drain(&s, 300, &r); /* small messages: many of them, everything once, in order */
  assert_true(r.msgs > 3);
  assert_int_equal(r.n, SFU__N);
  for (i = 0; i < SFU__N; i++) {
    assert_int_equal(r.seq[i], (uint16_t)(60000 + i));
    assert_true(r.received[i]);
  }
  /* a jump far ahead reports at most a window of losses; far behind is dropped */
  (void)sfu_tcc_server_on_packet(&s, (uint16_t)(60000 + SFU__N + 20000), 0xabc, 5000000);
  (void)sfu_tcc_server_on_packet(&s, (uint16_t)(60000 + SFU__N + 20000 - 9000), 0xabc, 5000001);
  assert_int_equal(s.dropped_old, 1);
  drain(&s, 1500, &r);
  assert_true(r.n <= SFU_TCC_SERVER_WINDOW);
  assert_true(r.received[r.n - 1]);
  assert_int_equal(r.seq[r.n - 1], (uint16_t)(60000 + SFU__N + 20000));
  sfu_tcc_server_destroy(&s);
}

#undef SFU__N

static void test_limitation_remb(void **state) {
  sfu_tcc_server_t s;
  int64_t bps = -1, t;
  int i;

  (void)state;
  assert_int_equal(sfu_tcc_server_init(&s, 1500), 0);
  assert_false(sfu_tcc_server_limitation_remb(&s, 0, &bps)); /* no limit: none */
  sfu_tcc_server_set_max_incoming_bitrate(&s, 1000000);
  assert_true(sfu_tcc_server_limitation_remb(&s, 10000, &bps));
  assert_int_equal(bps, 1000000);
  assert_false(sfu_tcc_server_limitation_remb(&s, 11000, &bps));
  assert_false(sfu_tcc_server_limitation_remb(&s, 11500, &bps));
  assert_true(sfu_tcc_server_limitation_remb(&s, 11501, &bps));
  /* unset: 4 REMBs of 0, the first at once, then every 1.5 s */
  sfu_tcc_server_set_max_incoming_bitrate(&s, 0);
  assert_true(sfu_tcc_server_limitation_remb(&s, 11600, &bps));
  assert_int_equal(bps, 0);
  for (t = 11600, i = 1; i < 4; i++) {
    assert_false(sfu_tcc_server_limitation_remb(&s, t + 1500, &bps));
    t += 1501;
    assert_true(sfu_tcc_server_limitation_remb(&s, t, &bps));
    assert_int_equal(bps, 0);
  }
  assert_false(sfu_tcc_server_limitation_remb(&s, 30000, &bps));
  sfu_tcc_server_destroy(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_in_order_and_loss),
      cmocka_unit_test(test_duplicates_reorder_wrap),
      cmocka_unit_test(test_window_bounds),
      cmocka_unit_test(test_limitation_remb),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
