#include "sfu_speaker.h"

#include <math.h>
#include <string.h>

#define SFU__N1 13 /* quantisation steps of an immediate */
#define SFU__N2 5  /* immediates per medium */
#define SFU__N3 10 /* mediums per long */
#define SFU__MIN_LEVEL 0
#define SFU__MIN_LEVEL_WINDOW (15 * 1000 / 20) /* samples the next noise floor is watched for */
#define SFU__MEDIUM_THRESHOLD 7
#define SFU__LONG_THRESHOLD 4
#define SFU__SUBUNIT ((SFU_SPEAKER_MAX_LEVEL - SFU__MIN_LEVEL + SFU__N1 - 1) / SFU__N1)
#define SFU__MIN_SCORE 1e-10

/* n over r, exactly (n <= 13 here). */
static int64_t sfu__binomial(int32_t n, int32_t r) {
  int32_t m = n - r;
  int64_t t = 1;
  if (m > r) r = m;
  for (int64_t i = n, j = 1; i > r; i--, j++) t = t * i / j;
  return t;
}

/* log P(v | speech: binomial(n, p)) - log P(v | noise: exponential(lambda)). */
static double sfu__activity_score(uint8_t v, uint32_t n, double p, double lambda) {
  double s = log((double)sfu__binomial((int32_t)n, v)) + v * log(p) + ((double)n - v) * log(1 - p) - log(lambda) +
             lambda * v;
  return s < SFU__MIN_SCORE ? SFU__MIN_SCORE : s;
}

/* bigs[b]: how many of its littles exceed threshold. Whether any changed. */
static bool sfu__bigs(const uint8_t *littles, uint32_t nl, uint8_t *bigs, uint32_t nb, uint8_t threshold) {
  uint32_t per = nl / nb;
  bool changed = false;
  for (uint32_t b = 0, l = 0; b < nb; b++) {
    uint8_t sum = 0;
    for (uint32_t end = l + per; l < end; l++)
      if (littles[l] > threshold) sum++;
    if (bigs[b] != sum) {
      bigs[b] = sum;
      changed = true;
    }
  }
  return changed;
}

void sfu_speaker_init(sfu_speaker_t *s, uint64_t now_ms) {
  memset(s, 0, sizeof(*s));
  for (unsigned i = 0; i < 3; i++) s->score[i] = SFU__MIN_SCORE;
  s->last_level_ms = now_ms;
  s->min_level = SFU__MIN_LEVEL;
  s->next_min_level = SFU__MIN_LEVEL;
}

static void sfu__update_min_level(sfu_speaker_t *s, int8_t level) {
  if (level == SFU__MIN_LEVEL) return;
  if (s->min_level == SFU__MIN_LEVEL || s->min_level > level) {
    s->min_level = level;
    s->next_min_level = SFU__MIN_LEVEL;
    s->next_min_level_window = 0;
    return;
  }
  if (s->next_min_level == SFU__MIN_LEVEL) {
    s->next_min_level = level;
    s->next_min_level_window = 1;
    return;
  }
  if (level < s->next_min_level) s->next_min_level = level;
  if (++s->next_min_level_window >= SFU__MIN_LEVEL_WINDOW) {
    double m = sqrt((double)(s->min_level * s->next_min_level));
    if (m < SFU__MIN_LEVEL) m = SFU__MIN_LEVEL;
    if (m > SFU_SPEAKER_MAX_LEVEL) m = SFU_SPEAKER_MAX_LEVEL;
    s->min_level = (int8_t)m;
    s->next_min_level = SFU__MIN_LEVEL;
    s->next_min_level_window = 0;
  }
}

void sfu_speaker_level(sfu_speaker_t *s, uint32_t level, uint64_t now_ms) {
  if (now_ms < s->last_level_ms) return;
  uint64_t elapsed = now_ms - s->last_level_ms;
  s->last_level_ms = now_ms;
  int8_t b = (int8_t)(level > SFU_SPEAKER_MAX_LEVEL ? SFU_SPEAKER_MAX_LEVEL : level);
  uint64_t n = elapsed / 20;
  if (n < 1) n = 1;
  if (n > SFU_SPEAKER_LEVELS) n = SFU_SPEAKER_LEVELS;
  for (uint64_t i = 0; i < n; i++) {
    s->levels[s->next_level] = (uint8_t)b;
    s->next_level = (s->next_level + 1) % SFU_SPEAKER_LEVELS;
  }
  sfu__update_min_level(s, b);
}

/* Newest first: immediates[0] is the last sample, quantised above the noise floor. */
static bool sfu__immediates(sfu_speaker_t *s) {
  int floor = s->min_level + SFU__SUBUNIT;
  bool changed = false;
  for (uint32_t i = 0; i < SFU_SPEAKER_IMMEDIATES; i++) {
    uint32_t idx = (s->next_level + SFU_SPEAKER_LEVELS - 1 - i) % SFU_SPEAKER_LEVELS;
    uint8_t level = s->levels[idx];
    if (level < floor) level = SFU__MIN_LEVEL;
    uint8_t v = (uint8_t)(level / SFU__SUBUNIT);
    if (s->immediates[i] != v) {
      s->immediates[i] = v;
      changed = true;
    }
  }
  return changed;
}

void sfu_speaker_eval(sfu_speaker_t *s) {
  if (!sfu__immediates(s)) return;
  s->score[0] = sfu__activity_score(s->immediates[0], SFU__N1, 0.5, 0.78);
  if (!sfu__bigs(s->immediates, SFU_SPEAKER_IMMEDIATES, s->mediums, SFU_SPEAKER_MEDIUMS, SFU__MEDIUM_THRESHOLD)) return;
  s->score[1] = sfu__activity_score(s->mediums[0], SFU__N2, 0.5, 24);
  if (!sfu__bigs(s->mediums, SFU_SPEAKER_MEDIUMS, s->longs, SFU_SPEAKER_LONGS, SFU__LONG_THRESHOLD)) return;
  s->score[2] = sfu__activity_score(s->longs[0], SFU__N3, 0.5, 47);
}

double sfu_speaker_score(const sfu_speaker_t *s, unsigned i) { return i < 3 ? s->score[i] : SFU__MIN_SCORE; }
