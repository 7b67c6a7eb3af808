/*
 * Unit tests for the GoogCC building blocks of worker/src/bwe: inter-arrival
 * grouping, trendline + adaptive threshold detector, Kalman estimator, AIMD,
 * acknowledged bitrate, loss-based estimate, ALR detector, probe controller
 * and probe result estimator. Numbers are GoogCC's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sfu_ack_bitrate.h"
#include "sfu_aimd.h"
#include "sfu_alr_detector.h"
#include "sfu_delay_bwe.h"
#include "sfu_inter_arrival.h"
#include "sfu_loss_bwe.h"
#include "sfu_overuse_detector.h"
#include "sfu_overuse_estimator.h"
#include "sfu_probe_controller.h"
#include "sfu_probe_estimator.h"
#include "sfu_probe_sender.h"
#include "sfu_trendline.h"

static void test_inter_arrival(void **state) {
  sfu_inter_arrival_t ia;
  sfu_inter_arrival_delta_t d;
  int n = 0, i;

  (void)state;
  sfu_inter_arrival_init(&ia, 5000);
  /* groups of 3 packets 1 ms apart every 20 ms, arriving 30 ms later */
  for (i = 0; i < 30; i++) {
    int64_t send = (i / 3) * 20000 + (i % 3) * 1000;
    if (sfu_inter_arrival_add(&ia, send, send + 30000, send + 30000, 1000, &d)) {
      n++;
      assert_true(d.send_delta_ms == 20.0);
      assert_true(d.arrival_delta_ms == 20.0);
      assert_int_equal(d.size_delta, 0);
    }
  }
  assert_int_equal(n, 8); /* 10 groups, the first two complete nothing */
  /* a packet sent before the current group is ignored */
  assert_false(sfu_inter_arrival_add(&ia, 1000, 500000, 500000, 1000, &d));
  /* burst: sent 10 ms apart but arriving 1 ms apart (a queue drained): one group */
  sfu_inter_arrival_init(&ia, 5000);
  n = 0;
  for (i = 0; i < 10; i++)
    if (sfu_inter_arrival_add(&ia, i * 10000, 200000 + i * 1000, 200000, 1000, &d)) n++;
  assert_int_equal(n, 0);
}

static void test_trendline(void **state) {
  sfu_trendline_t t;
  int i;
  sfu_bw_usage_t u = SFU_BW_NORMAL;
  bool over = false, under = false;

  (void)state;
  /* constant delay: normal */
  sfu_trendline_init(&t);
  for (i = 0; i < 200; i++) u = sfu_trendline_update(&t, 20.0, 20.0, 1000 + 20 * i);
  assert_int_equal(u, SFU_BW_NORMAL);
  /* each group arrives 2 ms later than sent spacing: a growing queue */
  for (i = 0; i < 40 && !over; i++) over = sfu_trendline_update(&t, 22.0, 20.0, 5000 + 22 * i) == SFU_BW_OVERUSING;
  assert_true(over);
  assert_true(i < 30);
  /* the queue drains */
  for (i = 0; i < 60 && !under; i++) under = sfu_trendline_update(&t, 15.0, 20.0, 7000 + 15 * i) == SFU_BW_UNDERUSING;
  assert_true(under);
  assert_true(t.detector.threshold >= 6.0 && t.detector.threshold <= 600.0);
}

static void test_detector_threshold(void **state) {
  sfu_overuse_detector_t d;
  int i;

  (void)state;
  sfu_overuse_detector_init(&d);
  assert_int_equal(sfu_overuse_detector_detect(&d, 100, 1, 20, 1, 0), SFU_BW_NORMAL); /* < 2 deltas */
  /* small values pull the threshold down to its floor of 6 */
  for (i = 1; i < 500; i++) sfu_overuse_detector_detect(&d, 1.0, 0.01, 20, 10, i * 20);
  assert_true(d.threshold >= 6.0 && d.threshold < 6.5);
  /* values within 15 of the threshold raise it slowly; overuse needs > 10 ms and 2 samples */
  assert_int_equal(sfu_overuse_detector_detect(&d, 10, 0.1, 5, 10, 10020), SFU_BW_NORMAL);
  assert_int_equal(sfu_overuse_detector_detect(&d, 10, 0.1, 5, 10, 10025), SFU_BW_NORMAL);
  assert_int_equal(sfu_overuse_detector_detect(&d, 10, 0.1, 5, 10, 10030), SFU_BW_OVERUSING);
  assert_int_equal(sfu_overuse_detector_detect(&d, -30, -0.3, 5, 10, 10035), SFU_BW_UNDERUSING);
}

static void test_overuse_estimator(void **state) {
  sfu_overuse_estimator_t e;
  int i;

  (void)state;
  sfu_overuse_estimator_init(&e);
  for (i = 0; i < 100; i++) sfu_overuse_estimator_update(&e, 33.0, 33.0, 0, SFU_BW_NORMAL);
  assert_true(e.offset > -0.5 && e.offset < 0.5);
  for (i = 0; i < 30; i++) sfu_overuse_estimator_update(&e, 36.0, 33.0, 0, SFU_BW_NORMAL);
  /* 3 ms per group of queue growth: the offset rises; times 60 (the
   * detector's scaling) it is far over the initial threshold of 12.5 */
  assert_true(e.offset > 0.5 && e.offset < 3.0);
  assert_true(60 * e.offset > 25);
  assert_int_equal(e.num_deltas, 130);
}

static void test_aimd(void **state) {
  sfu_aimd_t a;
  int64_t r;
  int i;

  (void)state;
  sfu_aimd_init(&a);
  assert_false(sfu_aimd_valid(&a));
  sfu_aimd_set_start(&a, 1000000);
  sfu_aimd_set_min(&a, 30000);
  /* 10 s of normal at 100 ms feedback, throughput following: ~8 %/s */
  for (i = 1; i <= 100; i++) r = sfu_aimd_update(&a, SFU_BW_NORMAL, sfu_aimd_estimate(&a), i * 100);
  assert_true(r > 1000000 * 2.0 && r < 1000000 * 2.3); /* 1.08^10 = 2.16 */
  /* overuse: 0.85 x the throughput */
  r = sfu_aimd_update(&a, SFU_BW_OVERUSING, 1500000, 10100);
  assert_int_equal(r, 1275000);
  assert_int_equal(sfu_aimd_link_capacity(&a), 1500000);
  /* not again within the rtt (200 ms default) unless the throughput halved */
  assert_false(sfu_aimd_time_to_reduce_further(&a, 10200, 1200000));
  assert_true(sfu_aimd_time_to_reduce_further(&a, 10200, 600000));
  assert_true(sfu_aimd_time_to_reduce_further(&a, 10300, 1200000));
  /* hold on underuse; additive increase near the link capacity */
  assert_int_equal(sfu_aimd_update(&a, SFU_BW_UNDERUSING, 1200000, 10400), 1275000);
  r = sfu_aimd_update(&a, SFU_BW_NORMAL, 1200000, 10500);
  assert_int_equal(r, 1275000); /* hold -> increase starts now */
  r = sfu_aimd_update(&a, SFU_BW_NORMAL, 1200000, 11500);
  assert_true(r > 1275000 && r < 1275000 + 20000); /* ~ one packet per 2 x (rtt + 100 ms) */
  /* never above 1.5 x throughput + 10 kbit/s when increasing */
  r = sfu_aimd_update(&a, SFU_BW_NORMAL, 100000, 12500);
  assert_true(r <= 1300000);
  /* floors and the REMB interval */
  r = sfu_aimd_update(&a, SFU_BW_OVERUSING, 1000, 20000);
  assert_int_equal(r, 30000);
  assert_int_equal(sfu_aimd_feedback_interval_ms(&a), 426); /* 640 bit / 1.5 kbit/s */
  sfu_aimd_set_estimate(&a, 100000000, 30000);
  assert_int_equal(sfu_aimd_feedback_interval_ms(&a), 200);
  /* receive side: not valid before 5 s of throughput */
  sfu_aimd_init(&a);
  assert_int_equal(sfu_aimd_update(&a, SFU_BW_NORMAL, 500000, 0), 30000000);
  assert_false(sfu_aimd_valid(&a));
  (void)sfu_aimd_update(&a, SFU_BW_NORMAL, 500000, 5001);
  assert_true(sfu_aimd_valid(&a));
  assert_true(sfu_aimd_estimate(&a) <= 760000);
}

/* A delay-based estimate at 2 Mbit/s whose queue then grows (packets sent
 * every 10 ms arrive 12 ms apart) until the detector says overuse. */
static void overused_delay_bwe(sfu_delay_bwe_t *d, int64_t *now_ms) {
  sfu_delay_bwe_result_t r;
  int64_t send = 0, arrival = 50000;
  int i;

  sfu_delay_bwe_init(d);
  sfu_aimd_set_start(&d->aimd, 2000000);
  sfu_aimd_set_min(&d->aimd, 30000);
  for (i = 0; i < 100; i++, send += 10000, arrival += 10000) sfu_delay_bwe_on_packet(d, send, arrival, 1200, arrival / 1000);
  sfu_delay_bwe_update(d, 1900000, -1, false, false, arrival / 1000, &r);
  for (i = 0; i < 200 && sfu_delay_bwe_state(d) != SFU_BW_OVERUSING; i++, send += 10000, arrival += 12000)
    sfu_delay_bwe_on_packet(d, send, arrival, 1200, arrival / 1000);
  assert_int_equal(sfu_delay_bwe_state(d), SFU_BW_OVERUSING);
  *now_ms = arrival / 1000 + 300;
}

/* Overuse while the sender is application limited backs off from the last
 * target, not from the (small) acknowledged bitrate: the encoders sent 300
 * kbit/s of a 2 Mbit/s estimate, which says nothing about the link. */
static void test_delay_bwe_alr_backoff(void **state) {
  sfu_delay_bwe_t d;
  sfu_delay_bwe_result_t r;
  int64_t now, prev;

  (void)state;
  overused_delay_bwe(&d, &now);
  prev = d.prev_bps;
  assert_true(prev >= 1900000);
  sfu_delay_bwe_update(&d, 300000, -1, false, true, now, &r);
  assert_true(r.updated && r.backoff_in_alr);
  assert_int_equal(r.target_bps, (int64_t)(prev * 0.85));
  /* not application limited: 0.85 x the acknowledged bitrate */
  overused_delay_bwe(&d, &now);
  sfu_delay_bwe_update(&d, 300000, -1, false, false, now, &r);
  assert_true(r.updated && !r.backoff_in_alr);
  assert_int_equal(r.target_bps, 255000);
}

static void test_ack_bitrate(void **state) {
  sfu_ack_bitrate_t b;
  int64_t t;

  (void)state;
  sfu_ack_bitrate_init(&b);
  assert_int_equal(sfu_ack_bitrate_bps(&b), -1);
  /* 1200-byte packets every 4 ms: 2.4 Mbit/s */
  for (t = 0; t < 3000; t += 4) sfu_ack_bitrate_on_packet(&b, t, t + 30, 1200);
  assert_true(sfu_ack_bitrate_bps(&b) > 2300000 && sfu_ack_bitrate_bps(&b) < 2500000);
  /* the rate halves: the estimate follows within a second or two */
  for (; t < 5000; t += 8) sfu_ack_bitrate_on_packet(&b, t, t + 30, 1200);
  assert_true(sfu_ack_bitrate_bps(&b) > 1100000 && sfu_ack_bitrate_bps(&b) < 1400000);
  assert_true(sfu_ack_bitrate_peek_bps(&b) >= 0);
}

static void test_loss_bwe(void **state) {
  sfu_loss_bwe_t l;
  int64_t t = 0;

  (void)state;
  sfu_loss_bwe_init(&l);
  sfu_loss_bwe_set_bitrates(&l, 1000000, 30000, 5000000, 0);
  assert_int_equal(sfu_loss_bwe_estimate(&l), 1000000);
  /* start phase: jumps to the delay-based estimate when higher and no loss */
  sfu_loss_bwe_update_packets_lost(&l, 0, 100, 0);
  sfu_loss_bwe_update_delay_based(&l, 2000000, 100);
  sfu_loss_bwe_update_estimate(&l, 200);
  assert_int_equal(sfu_loss_bwe_estimate(&l), 2000000);
  /* capped by the delay-based estimate */
  sfu_loss_bwe_update_delay_based(&l, 1500000, 300);
  assert_int_equal(sfu_loss_bwe_estimate(&l), 1500000);
  sfu_loss_bwe_update_delay_based(&l, 10000000, 3000);
  /* < 2 % loss: +8 % of the last second's minimum + 1 kbit/s */
  t = 3000;
  sfu_loss_bwe_update_packets_lost(&l, 1, 100, t);
  assert_int_equal(sfu_loss_bwe_estimate(&l), 1500000 * 108 / 100 + 1000);
  /* 5 %: hold */
  t += 1000;
  sfu_loss_bwe_update_packets_lost(&l, 5, 100, t);
  assert_int_equal(sfu_loss_bwe_estimate(&l), 1500000 * 108 / 100 + 1000);
  /* 20 %: x (1 - 0.2 / 2), not again before 300 ms + rtt */
  t += 1000;
  sfu_loss_bwe_update_packets_lost(&l, 20, 100, t);
  assert_int_equal(sfu_loss_bwe_fraction_loss(&l), 51);
  assert_int_equal(sfu_loss_bwe_estimate(&l), (int64_t)(1621000.0 * (512 - 51) / 512));
  sfu_loss_bwe_update_packets_lost(&l, 20, 100, t + 100);
  assert_int_equal(sfu_loss_bwe_estimate(&l), (int64_t)(1621000.0 * (512 - 51) / 512));
  /* fewer than 20 packets wait for more */
  sfu_loss_bwe_update_packets_lost(&l, 10, 10, t + 1000);
  assert_int_equal(sfu_loss_bwe_fraction_loss(&l), 51);
  /* bounds */
  sfu_loss_bwe_update_remb(&l, 10000, t + 2000);
  assert_int_equal(sfu_loss_bwe_estimate(&l), 30000);
  sfu_loss_bwe_update_receiver_block(&l, 0, 50, 100, t + 3000);
  assert_int_equal(l.rtt_ms, 50);
}

static void test_alr(void **state) {
  sfu_alr_detector_t d;
  int64_t t, start = -1;

  (void)state;
  sfu_alr_detector_init(&d);
  sfu_alr_detector_set_estimate(&d, 1000000);
  /* sending at the estimate: not application limited */
  for (t = 0; t < 2000; t += 10) sfu_alr_detector_on_bytes_sent(&d, 1250, t);
  assert_false(sfu_alr_detector_in_alr(&d, &start));
  /* sending at 10 % of it: ALR */
  for (; t < 4000; t += 100) sfu_alr_detector_on_bytes_sent(&d, 1250, t);
  assert_true(sfu_alr_detector_in_alr(&d, &start));
  assert_true(start > 2000 && start < 4000);
  for (; t < 6000; t += 5) sfu_alr_detector_on_bytes_sent(&d, 1250, t);
  assert_false(sfu_alr_detector_in_alr(&d, NULL));
  /* silence for more than 3 s */
  assert_false(sfu_alr_detector_in_alr_at(&d, t + 2900, &start));
  assert_true(sfu_alr_detector_in_alr_at(&d, t + 3100, &start));
  assert_int_equal(start, t + 3100);
}

static void test_probe_controller(void **state) {
  sfu_probe_controller_t p;
  sfu_probe_list_t l;

  (void)state;
  sfu_probe_controller_init(&p, 0);
  memset(&l, 0, sizeof(l));
  sfu_probe_controller_set_bitrates(&p, 30000, 300000, 0, 0, &l);
  assert_int_equal(l.n, 2);
  assert_int_equal(l.c[0].bitrate_bps, 900000);
  assert_int_equal(l.c[1].bitrate_bps, 1800000);
  assert_int_equal(l.c[0].min_probes, 5);
  assert_int_equal(l.c[1].min_bytes, 1800000 * 15 / 8000);
  assert_true(l.c[0].id != l.c[1].id);
  /* a result above 70 % of the last probe: probe 2 x further */
  memset(&l, 0, sizeof(l));
  sfu_probe_controller_set_estimate(&p, 1700000, 100, &l);
  assert_int_equal(l.n, 1);
  assert_int_equal(l.c[0].bitrate_bps, 3400000);
  /* short of 70 % of 3.4 M: done */
  memset(&l, 0, sizeof(l));
  sfu_probe_controller_set_estimate(&p, 2000000, 200, &l);
  assert_int_equal(l.n, 0);
  sfu_probe_controller_process(&p, 1300, &l);
  assert_int_equal(l.n, 0);
  /* allocation above the estimate: 1 x and 2 x it, capped at 2 x allocated */
  sfu_probe_controller_on_max_total_allocated(&p, 3000000, 1400, &l);
  assert_int_equal(l.n, 2);
  assert_int_equal(l.c[0].bitrate_bps, 3000000);
  assert_int_equal(l.c[1].bitrate_bps, 5000000); /* 6 M capped at the 5 M default maximum */
  /* ALR: 2 x the estimate 5 s after ALR started */
  memset(&l, 0, sizeof(l));
  sfu_probe_controller_set_alr_start(&p, true, 2000);
  sfu_probe_controller_process(&p, 6000, &l);
  assert_int_equal(l.n, 0);
  sfu_probe_controller_process(&p, 7000, &l);
  assert_int_equal(l.n, 1);
  assert_int_equal(l.c[0].bitrate_bps, 4000000);
  /* a large drop, then recovery in ALR: 85 % of the rate before it */
  memset(&l, 0, sizeof(l));
  sfu_probe_controller_process(&p, 8100, &l); /* the ALR probe's wait ends */
  sfu_probe_controller_set_estimate(&p, 2000000, 8200, &l);
  memset(&l, 0, sizeof(l));
  sfu_probe_controller_set_estimate(&p, 1000000, 8300, &l);
  sfu_probe_controller_request_probe(&p, 13400, &l);
  assert_int_equal(l.n, 0); /* more than 5 s after the drop */
  sfu_probe_controller_set_estimate(&p, 2000000, 14000, &l);
  sfu_probe_controller_set_estimate(&p, 1000000, 14100, &l);
  sfu_probe_controller_request_probe(&p, 14200, &l);
  assert_int_equal(l.n, 1);
  assert_int_equal(l.c[0].bitrate_bps, 1700000);
  /* a raised maximum above the estimate: probe it */
  memset(&l, 0, sizeof(l));
  sfu_probe_controller_set_bitrates(&p, 30000, -1, 2000000, 15000, &l);
  assert_int_equal(l.n, 1); /* none before */
  memset(&l, 0, sizeof(l));
  sfu_probe_controller_set_bitrates(&p, 30000, -1, 1500000, 15050, &l);
  assert_int_equal(l.n, 0); /* lowered */
  sfu_probe_controller_set_bitrates(&p, 30000, -1, 3000000, 15100, &l);
  assert_int_equal(l.n, 1);
  assert_int_equal(l.c[0].bitrate_bps, 3000000);
  /* the allocation limited by the estimate: every 1.5 s, 2 x the estimate, at
   * most 2 x what the consumers want (room for their switch up) */
  sfu_probe_controller_set_estimate(&p, 1000000, 15200, &l);
  sfu_probe_controller_on_max_total_allocated(&p, 900000, 15200, &l);
  memset(&l, 0, sizeof(l));
  sfu_probe_controller_set_allocation_limited(&p, true, 16000);
  sfu_probe_controller_process(&p, 17400, &l);
  assert_int_equal(l.n, 0);
  sfu_probe_controller_process(&p, 17500, &l);
  assert_int_equal(l.n, 1);
  assert_int_equal(l.c[0].bitrate_bps, 1800000);
  sfu_probe_controller_process(&p, 20100, &l); /* that probe's wait ends */
  memset(&l, 0, sizeof(l));
  sfu_probe_controller_set_allocation_limited(&p, false, 21000);
  sfu_probe_controller_process(&p, 23000, &l);
  assert_int_equal(l.n, 0);
}

static void test_probe_estimator(void **state) {
  sfu_probe_estimator_t p;
  int64_t r = -1;
  int i;

  (void)state;
  sfu_probe_estimator_init(&p);
  /* 10 x 1200 bytes sent at 2 Mbit/s (4.8 ms apart), received at 1 Mbit/s */
  for (i = 0; i < 10; i++) r = sfu_probe_estimator_on_packet(&p, 7, 5, 3750, 1000000 + i * 4800, 1030000 + i * 9600, 1200);
  assert_true(r > 0);
  assert_true(r > 950000 * 98 / 100 && r < 950000 * 102 / 100); /* 95 % of the receive rate */
  assert_int_equal(sfu_probe_estimator_fetch(&p), r);
  assert_int_equal(sfu_probe_estimator_fetch(&p), -1);
  /* received at the send rate: min(send, receive) */
  for (i = 0; i < 10; i++) r = sfu_probe_estimator_on_packet(&p, 8, 5, 3750, 2000000 + i * 4800, 2030000 + i * 4800, 1200);
  assert_true(r > 1950000 && r <= 2000000);
  /* receive faster than 2 x send: rejected */
  for (i = 0; i < 10; i++) r = sfu_probe_estimator_on_packet(&p, 9, 5, 3750, 3000000 + i * 4800, 3030000 + i * 1000, 1200);
  assert_int_equal(r, -1);
  /* not a probe, or too few packets yet */
  assert_int_equal(sfu_probe_estimator_on_packet(&p, -1, 5, 3750, 0, 0, 1200), -1);
  assert_int_equal(sfu_probe_estimator_on_packet(&p, 10, 5, 3750, 4000000, 4030000, 1200), -1);
}

static void test_probe_sender(void **state) {
  sfu_probe_sender_t p;
  sfu_probe_cluster_t c = {3, 2000000, 5, 2000000 * 15 / 8000, 0};
  int64_t t = 1000000, sent_at[16];
  int n = 0;

  (void)state;
  sfu_probe_sender_init(&p);
  assert_int_equal(sfu_probe_sender_time_until_next(&p, t), -1);
  assert_int_equal(sfu_probe_sender_cluster_id(&p), -1);
  sfu_probe_sender_start(&p, &c, t);
  assert_int_equal(sfu_probe_sender_cluster_id(&p), 3);
  /* 1000-byte packets at 2 Mbit/s: 4 ms apart, until 5 packets and 3750 bytes */
  for (; t < 1100000; t += 250) {
    while (sfu_probe_sender_time_until_next(&p, t) == 0) {
      sent_at[n++] = t;
      sfu_probe_sender_on_sent(&p, 1000, t);
    }
  }
  assert_int_equal(n, 5);
  assert_int_equal(sent_at[1] - sent_at[0], 4000);
  assert_int_equal(sent_at[4] - sent_at[0], 16000);
  assert_int_equal(sfu_probe_sender_time_until_next(&p, t), -1);
  /* a cluster nobody fills ends after 5 s */
  sfu_probe_sender_start(&p, &c, t);
  sfu_probe_sender_on_sent(&p, 100, t);
  assert_int_equal(sfu_probe_sender_time_until_next(&p, t + 100), 300); /* 100 bytes at 2 Mbit/s: 400 us */
  assert_int_equal(sfu_probe_sender_time_until_next(&p, t + 5000001), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_inter_arrival), cmocka_unit_test(test_trendline),
      cmocka_unit_test(test_detector_threshold), cmocka_unit_test(test_overuse_estimator),
      cmocka_unit_test(test_aimd), cmocka_unit_test(test_delay_bwe_alr_backoff),
      cmocka_unit_test(test_ack_bitrate),
      cmocka_unit_test(test_loss_bwe), cmocka_unit_test(test_alr),
      cmocka_unit_test(test_probe_controller), cmocka_unit_test(test_probe_estimator),
      cmocka_unit_test(test_probe_sender),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
