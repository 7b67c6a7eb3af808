/*
 * The estimators on synthetic traces (tests/unit/bwe_sim.h): what a user
 * notices is how fast the video gets the link, how far below capacity it
 * settles, how long it takes to back off when the link shrinks or loses
 * packets, and how much queuing delay that costs.
 * BWE_SIM_VERBOSE=1 prints the per-second trace of each scenario.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bwe_sim.h"

#define KBPS 1000
#define C_HIGH (2500 * KBPS)
#define C_LOW (600 * KBPS)

static sim_t *new_sim(bool remb, bool probes, const sim_phase_t *ph, size_t n) {
  sim_t *s = malloc(sizeof(*s));

  assert_non_null(s);
  sim_init(s, remb, probes, 300 * KBPS, 4000 * KBPS, ph, n);
  return s;
}

static void done(sim_t *s) {
  sim_free(s);
  free(s);
}

/* 2.5 Mbit/s from 300 kbit/s with GoogCC's initial probes (3 x and 6 x the
 * start, then 2 x each good result): within 15 % of capacity in 1-2 s,
 * then the AIMD sawtooth (0.85 x throughput on overuse, +8 %/s, additive
 * near the link capacity) averages about 92 % of it with queuing below
 * 100 ms. */
static void test_ramp_up_with_probing(void **state) {
  static const sim_phase_t ph[] = {{0, C_HIGH, 0}};
  sim_t *s = new_sim(false, true, ph, 1);
  int t;

  (void)state;
  sim_run(s, 40000);
  sim_print(s, "steady 2.5 Mbit/s, probing", 40);
  assert_true(s->clusters_sent >= 2);
  t = sim_first_reach(s, 0, 40, C_HIGH * 85 / 100);
  assert_true(t >= 0 && t <= 3);
  assert_true(sim_mean_est(s, 5, 40) >= C_HIGH * 88 / 100);
  assert_true(sim_mean_est(s, 5, 40) <= C_HIGH);
  assert_true(sim_max_est(s, 5, 40) <= C_HIGH * 110 / 100);
  assert_true(sim_max_queue_ms(s, 5, 40) < 100);
  done(s);
}

/* The same without sending the probe clusters: the multiplicative increase
 * alone (8 %/s) takes ln(2125 / 300) / ln(1.08) = 25 s. */
static void test_ramp_up_without_probing(void **state) {
  static const sim_phase_t ph[] = {{0, C_HIGH, 0}};
  sim_t *s = new_sim(false, false, ph, 1);
  int t;

  (void)state;
  sim_run(s, 60000);
  sim_print(s, "steady 2.5 Mbit/s, no probe sent", 60);
  t = sim_first_reach(s, 0, 60, C_HIGH * 85 / 100);
  assert_true(t >= 15 && t <= 30);
  assert_true(sim_mean_est(s, t, 60) >= C_HIGH * 85 / 100);
  assert_true(sim_max_queue_ms(s, 0, 60) < 100);
  done(s);
}

/* 2.5 Mbit/s, 600 kbit/s at 20 s, 2.5 Mbit/s again at 50 s. */
static void test_capacity_drop_and_return(void **state) {
  static const sim_phase_t ph[] = {{0, C_HIGH, 0}, {20000, C_LOW, 0}, {50000, C_HIGH, 0}};
  sim_t *s = new_sim(false, true, ph, 3);
  int t;

  (void)state;
  sim_run(s, 90000);
  sim_print(s, "2.5 Mbit/s, 600 kbit/s at 20 s, 2.5 Mbit/s at 50 s", 90);
  /* below the new capacity within 2 s, and not above it by more than 5 % after */
  assert_true(s->est_bps[21] < C_LOW);
  assert_true(sim_max_est(s, 22, 50) <= C_LOW * 105 / 100);
  /* the 64 KiB queue filled (870 ms at 600 kbit/s) drains within 5 s and stays short */
  assert_true(sim_max_queue_ms(s, 25, 50) < 100);
  assert_true(sim_mean_est(s, 25, 50) >= C_LOW * 85 / 100);
  /* capacity back: within 15 % in 20 s (link capacity forgotten, 8 %/s) */
  t = sim_first_reach(s, 50, 90, C_HIGH * 85 / 100);
  assert_true(t >= 50 && t <= 70);
  assert_true(sim_max_queue_ms(s, 50, 90) < 100);
  done(s);
}

/* 10 % random loss from 20 s to 40 s at 2.5 Mbit/s: the loss-based part
 * backs off (x (1 - loss / 2) per report above 10 %, no increase above 2 %);
 * once loss stops it climbs back. */
static void test_random_loss(void **state) {
  static const sim_phase_t ph[] = {{0, C_HIGH, 0}, {20000, C_HIGH, 0.10}, {40000, C_HIGH, 0}};
  sim_t *s = new_sim(false, true, ph, 3);
  int t, i;

  (void)state;
  sim_run(s, 80000);
  sim_print(s, "2.5 Mbit/s, 10 % loss from 20 s to 40 s", 80);
  assert_true(s->est_bps[39] < s->est_bps[19] * 70 / 100);
  for (i = 21; i < 40; i++) assert_true(s->est_bps[i] <= s->est_bps[i - 1]); /* never increases under loss */
  t = sim_first_reach(s, 40, 80, C_HIGH * 85 / 100);
  assert_true(t >= 40 && t <= 50);
  assert_true(sim_mean_est(s, 50, 80) >= C_HIGH * 85 / 100);
  done(s);
}

/* The application sends only 400 kbit/s (a still screen share): periodic
 * ALR probes (2 x the estimate every 5 s) keep the estimate near the
 * 2.5 Mbit/s the link could carry instead of letting it decay to what is
 * sent, so a new consumer can get it at once. */
static void test_alr_probing(void **state) {
  static const sim_phase_t ph[] = {{0, C_HIGH, 0}};
  sim_t *s = new_sim(false, true, ph, 1);

  (void)state;
  s->media_cap_bps = 400 * KBPS;
  sim_run(s, 60000);
  sim_print(s, "2.5 Mbit/s, application sends 400 kbit/s", 60);
  assert_true(s->clusters_sent >= 2 + 8);
  assert_true(sim_mean_est(s, 10, 60) >= C_HIGH * 70 / 100);
  assert_true(sim_max_est(s, 10, 60) <= C_HIGH * 110 / 100);
  assert_true(sim_max_queue_ms(s, 10, 60) < 100);
  done(s);
}

/* An SFU's case: the application sends 1 Mbit/s (application limited
 * under a 2.4 Mbit/s estimate) and the path narrows to 600 kbit/s with a
 * 300 ms drop-tail queue. Backing off by 0.85 a round trip from the last
 * target (ALR) takes seconds to get below the path (1234, 1049, 842, 700,
 * 635 kbit/s at the end of the next 5 s; 107 packets lost in 3 s); with the
 * queue dropping a tenth of a feedback's packets the backoff is from the
 * acknowledged rate (what the path carries): 484 kbit/s after 1 s, 20 lost. */
static void test_alr_path_narrows(void **state) {
  static const sim_phase_t ph[] = {{0, C_HIGH, 0}, {20000, C_LOW, 0}};
  sim_t *s = new_sim(false, true, ph, 2);
  int64_t lost = 0;
  int i;

  (void)state;
  s->media_cap_bps = 1000 * KBPS;
  s->queue_limit_bytes = C_LOW / 8 * 300 / 1000;
  sim_run(s, 40000);
  sim_print(s, "2.5 Mbit/s, application sends 1 Mbit/s, 600 kbit/s at 20 s", 40);
  assert_true(s->est_bps[18] >= C_HIGH * 70 / 100); /* ALR probes kept it up before */
  assert_true(s->est_bps[20] < C_LOW);               /* 1 s after the drop */
  for (i = 20; i < 23; i++) lost += s->lost[i];
  assert_true(lost < 40);
  assert_true(sim_mean_est(s, 25, 40) >= C_LOW * 70 / 100);
  assert_true(sim_max_est(s, 22, 40) <= C_LOW * 110 / 100);
  done(s);
}

/* A REMB-only sender (rate = the last REMB) over the same link, 600 kbit/s at 40 s. */
static void test_remb_trace(void **state) {
  static const sim_phase_t ph[] = {{0, C_HIGH, 0}, {40000, C_LOW, 0}};
  sim_t *s = new_sim(true, false, ph, 2);
  int t;

  (void)state;
  sim_run(s, 70000);
  sim_print(s, "REMB: 2.5 Mbit/s, 600 kbit/s at 40 s", 70);
  t = sim_first_reach(s, 0, 40, C_HIGH * 85 / 100);
  assert_true(t >= 0 && t <= 30);
  assert_true(sim_mean_est(s, t, 40) >= C_HIGH * 85 / 100);
  assert_true(sim_max_est(s, t, 40) <= C_HIGH * 110 / 100);
  assert_true(s->est_bps[41] < C_LOW);
  assert_true(sim_max_est(s, 41, 70) <= C_LOW * 110 / 100);
  assert_true(sim_max_queue_ms(s, 48, 70) < 100);
  done(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ramp_up_with_probing), cmocka_unit_test(test_ramp_up_without_probing),
      cmocka_unit_test(test_capacity_drop_and_return), cmocka_unit_test(test_random_loss),
      cmocka_unit_test(test_alr_probing), cmocka_unit_test(test_alr_path_narrows), cmocka_unit_test(test_remb_trace),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
