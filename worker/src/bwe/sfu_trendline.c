#include "sfu_trendline.h"

#include <stdbool.h>
#include <string.h>

#define SFU__TL_SMOOTHING 0.9
#define SFU__TL_GAIN 4.0
#define SFU__TL_MIN_NUM_DELTAS 60
#define SFU__TL_DELTA_COUNTER_MAX 1000

void sfu_trendline_init(sfu_trendline_t *t) {
  memset(t, 0, sizeof(*t));
  t->first_arrival_ms = -1;
  sfu_overuse_detector_init(&t->detector);
}

static bool sfu__tl_slope(const sfu_trendline_t *t, double *slope) {
  double sx = 0, sy = 0, xa, ya, num = 0, den = 0;
  int i;

  for (i = 0; i < t->hist_len; i++) {
    sx += t->hist_x[i];
    sy += t->hist_y[i];
  }
  xa = sx / t->hist_len;
  ya = sy / t->hist_len;
  for (i = 0; i < t->hist_len; i++) {
    num += (t->hist_x[i] - xa) * (t->hist_y[i] - ya);
    den += (t->hist_x[i] - xa) * (t->hist_x[i] - xa);
  }
  if (den == 0) return false;
  *slope = num / den;
  return true;
}

sfu_bw_usage_t sfu_trendline_update(sfu_trendline_t *t, double recv_delta_ms, double send_delta_ms,
                                    int64_t arrival_ms) {
  double trend = t->prev_trend, modified;
  int n;

  if (t->num_deltas < SFU__TL_DELTA_COUNTER_MAX) t->num_deltas++;
  if (t->first_arrival_ms < 0) t->first_arrival_ms = arrival_ms;
  t->accumulated_delay += recv_delta_ms - send_delta_ms;
  t->smoothed_delay = SFU__TL_SMOOTHING * t->smoothed_delay + (1 - SFU__TL_SMOOTHING) * t->accumulated_delay;
  /* the ring's order does not matter to a least-squares fit */
  t->hist_x[t->hist_pos] = (double)(arrival_ms - t->first_arrival_ms);
  t->hist_y[t->hist_pos] = t->smoothed_delay;
  t->hist_pos = (t->hist_pos + 1) % SFU_TRENDLINE_WINDOW;
  if (t->hist_len < SFU_TRENDLINE_WINDOW) t->hist_len++;
  if (t->hist_len == SFU_TRENDLINE_WINDOW) (void)sfu__tl_slope(t, &trend);

  n = t->num_deltas < SFU__TL_MIN_NUM_DELTAS ? t->num_deltas : SFU__TL_MIN_NUM_DELTAS;
  modified = n * trend * SFU__TL_GAIN;
  if (t->num_deltas >= 2) t->last_modified_trend = modified;
  sfu_overuse_detector_detect(&t->detector, modified, trend, send_delta_ms, t->num_deltas, arrival_ms);
  if (t->num_deltas >= 2) t->prev_trend = trend;
  return t->detector.state;
}
