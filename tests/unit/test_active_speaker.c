/* Dominant speaker identification (worker/src/observer/sfu_speaker.c and
 * sfu_active_speaker_observer.c) with synthetic audio levels, one sample
 * every 20 ms as Opus packets carry them, on a clock the test drives. */
#include <math.h>

#include "rtc_test_util.h"
#include "sfu_error.h"
#include "sfu_active_speaker_observer.h"
#include "sfu_producer.h"
#include "sfu_speaker.h"

/* What a microphone gives: speech varies between about -13 and -37 dBov
 * with a pause now and then at the room's noise floor (-87 dBov); a quiet
 * participant stays at that floor. Levels as RFC 6464 carries them (-dBov). */
#define LOUD 1
#define QUIET 0
static uint8_t level_of(int kind, unsigned i) {
  if (kind == QUIET || i % 25 == 0) return 87;
  return (uint8_t)(127 - (90 + (i * 7) % 25));
}

static void test_speaker_scores(void **state) {
  (void)state;
  sfu_speaker_t loud, quiet;
  sfu_speaker_init(&loud, 0);
  sfu_speaker_init(&quiet, 0);
  unsigned i = 0;
  for (uint64_t t = 20; t <= 2000; t += 20, i++) {
    sfu_speaker_level(&loud, 127u - level_of(LOUD, i), t);
    sfu_speaker_level(&quiet, 127u - level_of(QUIET, i), t);
  }
  sfu_speaker_eval(&loud);
  sfu_speaker_eval(&quiet);
  for (unsigned k = 0; k < 3; k++) {
    assert_true(sfu_speaker_score(&quiet, k) < 1e-9); /* the floor */
    assert_true(sfu_speaker_score(&loud, k) > 1.0);
  }
  /* the log ratios the observer compares exceed its thresholds (3, 2, 0) */
  assert_true(log(sfu_speaker_score(&loud, 0) / sfu_speaker_score(&quiet, 0)) > 3);
  assert_true(log(sfu_speaker_score(&loud, 1) / sfu_speaker_score(&quiet, 1)) > 2);
  assert_true(log(sfu_speaker_score(&loud, 2) / sfu_speaker_score(&quiet, 2)) > 0);
  /* the noise floor is the lowest level heard */
  assert_int_equal(loud.min_level, 127 - 87);
  assert_int_equal(quiet.min_level, 127 - 87);
}

static void test_speaker_gap_fills_slots(void **state) {
  (void)state;
  sfu_speaker_t s;
  sfu_speaker_init(&s, 0);
  /* one packet after 200 ms of nothing (DTX, ptime): ten 20 ms slots */
  sfu_speaker_level(&s, 100, 200);
  size_t filled = 0;
  for (size_t i = 0; i < SFU_SPEAKER_LEVELS; i++) filled += s.levels[i] == 100;
  assert_int_equal(filled, 10);
  /* a level from the past is ignored, an out-of-range one clamped */
  sfu_speaker_level(&s, 50, 100);
  sfu_speaker_level(&s, 500, 220);
  filled = 0;
  for (size_t i = 0; i < SFU_SPEAKER_LEVELS; i++) filled += s.levels[i] == 50;
  assert_int_equal(filled, 0);
  assert_int_equal(s.levels[(s.next_level + SFU_SPEAKER_LEVELS - 1) % SFU_SPEAKER_LEVELS], 127);
}

/* ---- the observer ---- */

typedef struct aso_env {
  rtc_env_t env;
  sfu_rtp_observer_t *o;
  sfu_producer_t p[3];
  char ids[3][8];
  uint64_t t;
  unsigned sample;
} aso_env_t;

static sfu_producer_t *no_producer(void *arg, const char *id, size_t len) {
  (void)arg, (void)id, (void)len;
  return NULL;
}

static const sfu_rtp_observer_listener_t listener = {.get_producer = no_producer};

static void aso_open(aso_env_t *a, uint16_t interval) {
  char err[256] = "";
  memset(a, 0, sizeof(*a));
  rtc_env_open(&a->env);
  fb_builder_t b;
  assert_int_equal(fb_builder_init(&b, 256), 0);
  fb_ref_t id = fb_create_cstring(&b, "aso1");
  FBS_ActiveSpeakerObserver_ActiveSpeakerObserverOptions_start(&b);
  FBS_ActiveSpeakerObserver_ActiveSpeakerObserverOptions_add_interval(&b, interval);
  fb_ref_t opts = FBS_ActiveSpeakerObserver_ActiveSpeakerObserverOptions_end(&b);
  FBS_Router_CreateActiveSpeakerObserverRequest_start(&b);
  FBS_Router_CreateActiveSpeakerObserverRequest_add_rtp_observer_id(&b, id);
  FBS_Router_CreateActiveSpeakerObserverRequest_add_options(&b, opts);
  fb_table_t req = rtc_finish(&b, FBS_Router_CreateActiveSpeakerObserverRequest_end(&b));
  fb_builder_free(&b);
  assert_int_equal(sfu_active_speaker_observer_create(&a->env.ctx, &listener, NULL, req, &a->o, err, sizeof(err)), 0);
  for (int i = 0; i < 3; i++) {
    a->ids[i][0] = 'p';
    a->ids[i][1] = (char)('0' + i);
    a->ids[i][2] = '\0';
    a->p[i].id = a->ids[i];
    a->p[i].id_len = strlen(a->ids[i]);
    a->p[i].kind = SFU_KIND_AUDIO;
  }
  a->t = uv_now(&a->env.loop);
}

static void aso_close(aso_env_t *a) {
  sfu_rtp_observer_close(a->o);
  rtc_env_close(&a->env);
  for (int i = 0; i < 3; i++) assert_int_equal(a->p[i].observer_count, 0);
}

/* ms of audio at 20 ms per sample with these levels (n producers), an
 * evaluation every 300 ms; returns the ms after which `want` became
 * dominant, -1 if it did not. */
static long aso_run(aso_env_t *a, const uint8_t *levels, size_t n, uint64_t ms, const sfu_producer_t *want) {
  long at = -1;
  for (uint64_t el = 20; el <= ms; el += 20) {
    a->t += 20;
    a->sample++;
    for (size_t i = 0; i < n; i++) sfu_rtp_observer_audio_level_at(a->o, &a->p[i], level_of(levels[i], a->sample), a->t);
    if (el % 300 == 0) {
      sfu_active_speaker_observer_update(a->o, a->t);
      if (at < 0 && sfu_active_speaker_observer_dominant(a->o) == want) at = (long)el;
    }
  }
  return at;
}

static void test_observer_one_producer(void **state) {
  (void)state;
  aso_env_t a;
  char err[128];
  aso_open(&a, 300);
  assert_null(sfu_active_speaker_observer_dominant(a.o));
  assert_int_equal(sfu_rtp_observer_add_producer(a.o, &a.p[0], err, sizeof(err)), 0);
  assert_int_equal(a.p[0].observer_count, 1);
  /* the same producer twice, and a video producer, are refused */
  assert_int_equal(sfu_rtp_observer_add_producer(a.o, &a.p[0], err, sizeof(err)), SFU_ESTATE);
  a.p[2].kind = SFU_KIND_VIDEO;
  assert_int_equal(sfu_rtp_observer_add_producer(a.o, &a.p[2], err, sizeof(err)), SFU_EINVAL);
  assert_string_equal(err, "not an audio Producer");
  /* alone, even silent, it is the dominant speaker at the first evaluation */
  uint8_t lv[1] = {QUIET};
  assert_int_equal(aso_run(&a, lv, 1, 300, &a.p[0]), 300);
  aso_close(&a);
}

static void test_observer_louder_speaker_takes_over(void **state) {
  (void)state;
  aso_env_t a;
  char err[128];
  aso_open(&a, 300);
  assert_int_equal(sfu_rtp_observer_add_producer(a.o, &a.p[0], err, sizeof(err)), 0);
  assert_int_equal(sfu_rtp_observer_add_producer(a.o, &a.p[1], err, sizeof(err)), 0);
  assert_int_equal(sfu_rtp_observer_add_producer(a.o, &a.p[2], err, sizeof(err)), 0);
  /* p1 talks, p0 and p2 are silent: p0 (the first one) stands in at the
   * start, p1 takes over within a second and a half */
  uint8_t talk1[3] = {QUIET, LOUD, QUIET};
  long at = aso_run(&a, talk1, 3, 3000, &a.p[1]);
  print_message("p1 dominant after %ld ms of speech\n", at);
  assert_true(at > 0 && at <= 900);
  assert_ptr_equal(sfu_active_speaker_observer_dominant(a.o), &a.p[1]);
  /* now p2 talks and p1 stops: p2 takes over, p1 never comes back meanwhile */
  uint8_t talk2[3] = {QUIET, QUIET, LOUD};
  at = aso_run(&a, talk2, 3, 4000, &a.p[2]);
  print_message("p2 dominant after %ld ms of speech\n", at);
  assert_true(at > 0 && at <= 900);
  assert_ptr_equal(sfu_active_speaker_observer_dominant(a.o), &a.p[2]);
  /* both talk: the dominant one keeps the floor (no flapping) */
  uint8_t both[3] = {QUIET, LOUD, LOUD};
  assert_int_equal(aso_run(&a, both, 3, 3000, &a.p[1]), -1);
  assert_ptr_equal(sfu_active_speaker_observer_dominant(a.o), &a.p[2]);
  aso_close(&a);
}

static void test_observer_paused_and_removed(void **state) {
  (void)state;
  aso_env_t a;
  char err[128];
  aso_open(&a, 300);
  assert_int_equal(sfu_rtp_observer_add_producer(a.o, &a.p[0], err, sizeof(err)), 0);
  assert_int_equal(sfu_rtp_observer_add_producer(a.o, &a.p[1], err, sizeof(err)), 0);
  /* a paused producer does not compete, however loud */
  sfu_rtp_observer_producer_paused(a.o, &a.p[1], true);
  uint8_t talk1[2] = {QUIET, LOUD};
  assert_int_equal(aso_run(&a, talk1, 2, 3000, &a.p[1]), -1);
  assert_ptr_equal(sfu_active_speaker_observer_dominant(a.o), &a.p[0]);
  sfu_rtp_observer_producer_paused(a.o, &a.p[1], false);
  assert_true(aso_run(&a, talk1, 2, 3000, &a.p[1]) > 0);
  /* levels stop coming: counted as silence, p0 talks and takes over */
  uint8_t talk0[1] = {LOUD};
  assert_true(aso_run(&a, talk0, 1, 4000, &a.p[0]) > 0);
  /* the dominant one removed: the other is dominant at once */
  sfu_rtp_observer_remove_producer(a.o, &a.p[0]);
  assert_int_equal(a.p[0].observer_count, 0);
  sfu_active_speaker_observer_update(a.o, a.t);
  assert_ptr_equal(sfu_active_speaker_observer_dominant(a.o), &a.p[1]);
  aso_close(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_speaker_scores),
      cmocka_unit_test(test_speaker_gap_fills_slots),
      cmocka_unit_test(test_observer_one_producer),
      cmocka_unit_test(test_observer_louder_speaker_takes_over),
      cmocka_unit_test(test_observer_paused_and_removed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
