/*
 * Unit tests for worker/src/bwe/sfu_send_bwe: configuration, the initial
 * probes, mediasoup's desired/max/available bitrate layer and event cadence,
 * feedback bookkeeping (wrap, repeats, unknown numbers, loss) and probe
 * results. The estimator's behaviour on traces is in test_bwe_sim.c.
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
#include "sfu_send_bwe.h"

typedef struct rec {
  int bitrate_events;
  sfu_send_bwe_bitrates_t last;
  int clusters;
  sfu_probe_cluster_t cl[8];
  int results;
  int result_id;
  int64_t result_bps;
} rec_t;

static void on_bitrates(void *arg, const sfu_send_bwe_bitrates_t *b) {
  rec_t *r = arg;
  r->bitrate_events++;
  r->last = *b;
}

static void on_cluster(void *arg, const sfu_probe_cluster_t *c) {
  rec_t *r = arg;
  if (r->clusters < 8) r->cl[r->clusters] = *c;
  r->clusters++;
}

static void on_result(void *arg, int id, int64_t bps) {
  rec_t *r = arg;
  r->results++;
  r->result_id = id;
  r->result_bps = bps;
}

static const sfu_send_bwe_listener_t listener = {on_bitrates, on_cluster, on_result};

/* Feeds a feedback message for arrivals a[0..n) (base a[0].seq). */
static void feed(sfu_send_bwe_t *b, const sfu_rtcp_tcc_arrival_t *a, size_t n, uint8_t count, int64_t now_us) {
  uint8_t buf[4096];
  sfu_rtcp_iter_t it;
  sfu_rtcp_hdr_t h;
  sfu_rtcp_tcc_msg_t m;
  size_t consumed;
  int len;

  len = sfu_rtcp_tcc_build(buf, sizeof(buf), 0, 1, a[0].seq, count, a, n, &consumed);
  assert_true(len > 0);
  assert_int_equal(consumed, n);
  sfu_rtcp_iter_init(&it, buf, (size_t)len);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
  assert_int_equal(sfu_rtcp_tcc_read(&h, &m), 0);
  sfu_send_bwe_on_feedback(b, &m, now_us);
}

static void test_config_and_start(void **state) {
  sfu_send_bwe_t b;
  sfu_send_bwe_config_t bad = {600000, 2000000, 1000000}, low = {1000, 0, 0}, cfg = {300000, 0, 0};
  sfu_probe_cluster_t c;
  rec_t r;

  (void)state;
  assert_int_equal(sfu_send_bwe_init(&b, &bad, NULL, NULL, 0), SFU_EINVAL);
  assert_int_equal(sfu_send_bwe_init(&b, &low, NULL, NULL, 0), 0);
  assert_int_equal(sfu_send_bwe_available_bitrate(&b), 30000);
  sfu_send_bwe_destroy(&b);

  memset(&r, 0, sizeof(r));
  assert_int_equal(sfu_send_bwe_init(&b, &cfg, &listener, &r, 1000), 0);
  assert_false(sfu_send_bwe_next_probe(&b, &c));
  sfu_send_bwe_on_timer(&b, 1000); /* not connected: nothing */
  assert_int_equal(r.bitrate_events, 0);
  sfu_send_bwe_on_connected(&b, 1000);
  /* GoogCC's initial probes: 3 x and 6 x the start */
  assert_int_equal(r.clusters, 2);
  assert_true(sfu_send_bwe_next_probe(&b, &c));
  assert_int_equal(c.bitrate_bps, 900000);
  assert_int_equal(c.min_probes, 5);
  assert_int_equal(c.min_bytes, 900000 * 15 / 8000);
  assert_true(sfu_send_bwe_next_probe(&b, &c));
  assert_int_equal(c.bitrate_bps, 1800000);
  assert_false(sfu_send_bwe_next_probe(&b, &c));
  /* the first event at connection, then once a second while nothing moves */
  assert_int_equal(r.bitrate_events, 1);
  assert_int_equal(r.last.available_bps, 300000);
  sfu_send_bwe_on_timer(&b, 1025);
  sfu_send_bwe_on_timer(&b, 1975);
  assert_int_equal(r.bitrate_events, 1);
  sfu_send_bwe_on_timer(&b, 2000);
  assert_int_equal(r.bitrate_events, 2);
  sfu_send_bwe_destroy(&b);
}

static void test_desired_and_limits(void **state) {
  sfu_send_bwe_t b;
  sfu_send_bwe_config_t cfg = {600000, 100000, 0};
  sfu_send_bwe_bitrates_t br;
  sfu_probe_cluster_t c;
  rec_t r;

  (void)state;
  memset(&r, 0, sizeof(r));
  assert_int_equal(sfu_send_bwe_init(&b, &cfg, &listener, &r, 0), 0);
  sfu_send_bwe_on_connected(&b, 0);
  while (sfu_send_bwe_next_probe(&b, &c)) {
  }
  sfu_send_bwe_set_desired_bitrate(&b, 2000000, false, 100);
  sfu_send_bwe_get_bitrates(&b, &br);
  assert_int_equal(br.desired_bps, 2000000);
  assert_int_equal(br.max_bps, 2700000); /* 1.35 x */
  assert_int_equal(br.max_padding_bps, 2295000);
  assert_int_equal(br.min_bps, 100000);
  assert_int_equal(br.start_bps, 600000);
  /* within 10 %: the max stays */
  sfu_send_bwe_set_desired_bitrate(&b, 2100000, false, 200);
  sfu_send_bwe_get_bitrates(&b, &br);
  assert_int_equal(br.max_bps, 2700000);
  /* the desired trend falls by at most 5 %/s of its peak */
  sfu_send_bwe_set_desired_bitrate(&b, 0, false, 2200);
  sfu_send_bwe_get_bitrates(&b, &br);
  assert_int_equal(br.desired_bps, 0);
  assert_int_equal(br.effective_desired_bps, 2100000 - 2100000 / 10);
  sfu_send_bwe_set_desired_bitrate(&b, 0, true, 2300);
  sfu_send_bwe_get_bitrates(&b, &br);
  assert_int_equal(br.effective_desired_bps, 0);
  assert_int_equal(br.max_bps, 600000); /* the initial rate when nothing is desired */
  /* maxOutgoingBitrate caps the max and the available bitrate */
  sfu_send_bwe_set_desired_bitrate(&b, 5000000, false, 2400);
  sfu_send_bwe_set_max_outgoing(&b, 400000, 2500);
  sfu_send_bwe_get_bitrates(&b, &br);
  assert_int_equal(br.max_bps, 400000);
  assert_true(sfu_send_bwe_available_bitrate(&b) <= 400000);
  sfu_send_bwe_on_timer(&b, 2525);
  assert_true(sfu_send_bwe_available_bitrate(&b) <= 400000);
  sfu_send_bwe_set_min_outgoing(&b, 200000, 2600);
  sfu_send_bwe_get_bitrates(&b, &br);
  assert_int_equal(br.min_bps, 200000);
  sfu_send_bwe_on_disconnected(&b, 3000);
  sfu_send_bwe_get_bitrates(&b, &br);
  assert_int_equal(br.desired_bps, 0);
  sfu_send_bwe_destroy(&b);

  /* a desired bitrate set before the connection applies at connection,
   * after the initial probes (3 x and 6 x the start, capped only by the
   * 5 Mbit/s default: the controller learns the allocation afterwards) */
  memset(&r, 0, sizeof(r));
  assert_int_equal(sfu_send_bwe_init(&b, &cfg, &listener, &r, 0), 0);
  sfu_send_bwe_set_desired_bitrate(&b, 500000, false, 0);
  sfu_send_bwe_on_connected(&b, 10);
  sfu_send_bwe_get_bitrates(&b, &br);
  assert_int_equal(br.max_bps, 675000);
  assert_int_equal(b.applied_max_bps, 675000);
  assert_int_equal(r.clusters, 2);
  assert_int_equal(r.cl[0].bitrate_bps, 1800000);
  assert_int_equal(r.cl[1].bitrate_bps, 3600000);
  sfu_send_bwe_destroy(&b);
}

static void test_feedback_bookkeeping(void **state) {
  static sfu_rtcp_tcc_arrival_t a[400];
  sfu_send_bwe_t b;
  sfu_send_bwe_config_t cfg = {1000000, 0, 0};
  sfu_probe_cluster_t c;
  rec_t r;
  int i, n;
  int64_t t0 = 10000000;

  (void)state;
  memset(&r, 0, sizeof(r));
  assert_int_equal(sfu_send_bwe_init(&b, &cfg, &listener, &r, t0 / 1000), 0);
  sfu_send_bwe_on_connected(&b, t0 / 1000);
  assert_true(sfu_send_bwe_next_probe(&b, &c));
  /* the 3 Mbit/s probe: 10 x 1200 bytes 3.2 ms apart, numbers wrapping past 65535 */
  for (i = 0; i < 10; i++) sfu_send_bwe_on_packet_sent(&b, (uint16_t)(65530 + i), 1200, c.id, false, t0 + i * 3200);
  /* then 100 media packets, every other one lost */
  for (i = 10; i < 110; i++) sfu_send_bwe_on_packet_sent(&b, (uint16_t)(65530 + i), 1000, -1, i == 50, t0 + 40000 + i * 1000);
  for (n = 0, i = 0; i < 10; i++, n++) {
    a[n].seq = (uint16_t)(65530 + i);
    a[n].arrival_us = 5000000 + i * 3200; /* received at the same spacing */
  }
  feed(&b, a, n, 0, t0 + 80000);
  assert_int_equal(r.results, 1);
  assert_int_equal(r.result_id, c.id);
  assert_true(r.result_bps > 2900000 && r.result_bps <= 3000000);
  assert_true(sfu_send_bwe_available_bitrate(&b) > 2500000); /* the probe moved the estimate */
  /* the same feedback again changes nothing */
  feed(&b, a, n, 1, t0 + 90000);
  assert_int_equal(r.results, 1);
  for (n = 0, i = 10; i < 110; i += 2, n++) {
    a[n].seq = (uint16_t)(65530 + i);
    a[n].arrival_us = 5040000 + i * 1000;
  }
  feed(&b, a, n, 2, t0 + 200000);
  assert_true(sfu_send_bwe_packet_loss(&b) > 0.15); /* weighted: 0, 0, 0.49... */
  /* numbers never sent are ignored */
  a[0].seq = 30000;
  a[0].arrival_us = 6000000;
  feed(&b, a, 1, 3, t0 + 300000);
  assert_true(sfu_send_bwe_delay_state(&b) == SFU_BW_NORMAL);
  sfu_send_bwe_destroy(&b);
}

/* The sent-packet history starts small, stays small for a steady audio-like
 * flow acknowledged every 100 ms, and doubles (keeping what it remembers)
 * when more packets wait for feedback than it holds. */
static void test_history_grows(void **state) {
  static sfu_rtcp_tcc_arrival_t a[8];
  sfu_send_bwe_t b;
  sfu_send_bwe_config_t cfg = {1000000, 0, 0};
  int i;
  int64_t t0 = 10000000, t;

  (void)state;
  assert_int_equal(sfu_send_bwe_init(&b, &cfg, NULL, NULL, t0 / 1000), 0);
  sfu_send_bwe_on_connected(&b, t0 / 1000);
  assert_int_equal(b.hist_cap, SFU_SEND_BWE_HISTORY_MIN);
  /* 50 packets/s for 60 s, each acknowledged within 100 ms */
  for (i = 0; i < 3000; i++) {
    t = t0 + (int64_t)i * 20000;
    sfu_send_bwe_on_packet_sent(&b, (uint16_t)i, 200, -1, false, t);
    if (i % 5 == 4) {
      int k;
      for (k = 0; k < 5; k++) {
        a[k].seq = (uint16_t)(i - 4 + k);
        a[k].arrival_us = 1000000 + (int64_t)(i - 4 + k) * 20000;
      }
      feed(&b, a, 5, (uint8_t)(i / 5), t + 30000);
    }
  }
  assert_int_equal(b.hist_cap, SFU_SEND_BWE_HISTORY_MIN);
  /* then 3000 packets within 300 ms and no feedback yet: the ring doubles */
  t = t0 + 60000000;
  for (i = 0; i < 3000; i++) sfu_send_bwe_on_packet_sent(&b, (uint16_t)(3000 + i), 1200, -1, false, t + i * 100);
  assert_int_equal(b.hist_cap, 4096);
  /* the first of them is still known: its feedback is used, not ignored */
  a[0].seq = 3000;
  a[0].arrival_us = 70000000;
  a[1].seq = 3001;
  a[1].arrival_us = 70000100;
  feed(&b, a, 2, 200, t + 400000);
  assert_int_equal(b.hist[3000 & (b.hist_cap - 1)].state, 2 /* acknowledged */);
  /* never beyond the maximum */
  for (i = 0; i < 40000; i++) sfu_send_bwe_on_packet_sent(&b, (uint16_t)(6000 + i), 1200, -1, false, t + 500000 + i * 10);
  assert_int_equal(b.hist_cap, SFU_SEND_BWE_HISTORY);
  sfu_send_bwe_destroy(&b);
}

static void test_remb_and_rr(void **state) {
  sfu_send_bwe_t b;
  sfu_send_bwe_config_t cfg = {1000000, 0, 0};
  int i;

  (void)state;
  assert_int_equal(sfu_send_bwe_init(&b, &cfg, NULL, NULL, 0), 0);
  sfu_send_bwe_on_remb(&b, 500000, 0); /* not started: ignored */
  assert_int_equal(sfu_send_bwe_available_bitrate(&b), 1000000);
  sfu_send_bwe_on_connected(&b, 0);
  sfu_send_bwe_on_remb(&b, 500000, 10);
  assert_int_equal(sfu_send_bwe_available_bitrate(&b), 500000);
  /* receiver reports with 30 % loss: the loss-based part backs off */
  for (i = 1; i <= 5; i++) sfu_send_bwe_on_receiver_report(&b, 77, 100, 50, 3000 + i * 1000);
  assert_true(sfu_send_bwe_available_bitrate(&b) < 500000 * 7 / 10);
  sfu_send_bwe_destroy(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_and_start),
      cmocka_unit_test(test_desired_and_limits),
      cmocka_unit_test(test_feedback_bookkeeping),
      cmocka_unit_test(test_history_grows),
      cmocka_unit_test(test_remb_and_rr),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
