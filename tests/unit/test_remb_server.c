/*
 * Unit tests for worker/src/bwe/sfu_remb_server: the abs-send-time REMB
 * estimate (initial probe clusters, the 5 s start without them, SSRC list and
 * timeout, the max incoming bitrate cap, abs-send-time wrap, overuse). The
 * estimate on traces is in test_bwe_sim.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sfu_remb_server.h"

static uint32_t abs_of(int64_t us) { return (uint32_t)(((us << 18) / 1000000) & 0xffffff); }

static void test_initial_probe(void **state) {
  sfu_remb_server_t s;
  uint32_t ssrcs[4];
  int64_t bps = 0, t;
  int i, first = -1;

  (void)state;
  sfu_remb_server_init(&s);
  /* 1200-byte packets 5 ms apart on both sides: 1.92 Mbit/s */
  for (i = 0; i < 12; i++) {
    t = 1000000 + i * 5000;
    if (sfu_remb_server_on_packet(&s, 0x1234, abs_of(t), 1200, 40000 + t / 1000, &bps) && first < 0) first = i;
  }
  assert_true(first >= 4 && first < 12);
  assert_true(bps > 1800000 && bps <= 1921000); /* the cluster rate, + the 1 kbit/s minimum increase */
  assert_int_equal(sfu_remb_server_ssrcs(&s, ssrcs, 4), 1);
  assert_int_equal(ssrcs[0], 0x1234);
  /* the cap */
  sfu_remb_server_set_max_incoming_bitrate(&s, 1000000);
  assert_int_equal(sfu_remb_server_estimate(&s), 1000000);
  assert_false(sfu_remb_server_on_packet(&s, 0x1234, 1u << 24, 1200, 50000, &bps)); /* not 24-bit */
}

static void test_start_without_probes(void **state) {
  sfu_remb_server_t s;
  int64_t bps = 0, t, first = -1;
  uint32_t ssrcs[4];

  (void)state;
  sfu_remb_server_init(&s);
  /* 150-byte packets every 2 ms (600 kbit/s), two streams: no probe clusters,
   * the estimate starts from the incoming rate after 5 s */
  for (t = 0; t < 8000000; t += 2000) {
    if (sfu_remb_server_on_packet(&s, (t / 2000) % 2 ? 1 : 2, abs_of(t), 150, 10000 + t / 1000, &bps) &&
        first < 0)
      first = t;
  }
  assert_true(first >= 5000000 && first < 5200000);
  assert_true(bps > 550000 && bps < 1000000);
  assert_int_equal(sfu_remb_server_ssrcs(&s, ssrcs, 4), 2);
  /* stream 2 stops: gone from the list after 2 s */
  for (; t < 11000000; t += 2000) (void)sfu_remb_server_on_packet(&s, 1, abs_of(t), 150, 10000 + t / 1000, &bps);
  assert_int_equal(sfu_remb_server_ssrcs(&s, ssrcs, 4), 1);
  assert_int_equal(ssrcs[0], 1);
}

static void test_wrap_and_overuse(void **state) {
  sfu_remb_server_t s;
  int64_t bps = 0, t, last = 0, queue = 0;
  int over = 0;

  (void)state;
  sfu_remb_server_init(&s);
  /* steady 1 Mbit/s across the 64 s abs-send-time wrap: no overuse */
  for (t = 60000000; t < 70000000; t += 4000) {
    if (sfu_remb_server_on_packet(&s, 7, abs_of(t), 500, t / 1000 + 30, &bps)) last = bps;
    if (s.det.state == SFU_BW_OVERUSING) over++;
  }
  assert_int_equal(over, 0);
  assert_true(last > 0);
  /* then a queue grows 0.5 ms per packet: overuse, and the estimate drops
   * below the incoming rate */
  for (; t < 71000000; t += 4000) {
    queue += 500;
    if (sfu_remb_server_on_packet(&s, 7, abs_of(t), 500, (t + queue) / 1000 + 30, &bps)) last = bps;
    if (s.det.state == SFU_BW_OVERUSING) over++;
  }
  assert_true(over > 0);
  assert_true(last < 1000000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_initial_probe),
      cmocka_unit_test(test_start_without_probes),
      cmocka_unit_test(test_wrap_and_overuse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
