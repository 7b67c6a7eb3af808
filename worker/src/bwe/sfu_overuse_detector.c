#include "sfu_overuse_detector.h"

#include <math.h>

#define SFU__OD_K_UP 0.0087
#define SFU__OD_K_DOWN 0.039
#define SFU__OD_MAX_ADAPT_OFFSET 15.0
#define SFU__OD_OVERUSING_TIME_MS 10.0
#define SFU__OD_MAX_TIME_DELTA_MS 100

void sfu_overuse_detector_init(sfu_overuse_detector_t *d) {
  d->threshold = 12.5;
  d->time_over_using_ms = -1;
  d->overuse_counter = 0;
  d->prev_value = 0;
  d->last_update_ms = -1;
  d->state = SFU_BW_NORMAL;
}

static void sfu__od_update_threshold(sfu_overuse_detector_t *d, double modified, int64_t now_ms) {
  double k;
  int64_t dt;

  if (d->last_update_ms < 0) d->last_update_ms = now_ms;
  if (fabs(modified) > d->threshold + SFU__OD_MAX_ADAPT_OFFSET) {
    d->last_update_ms = now_ms;
    return;
  }
  k = fabs(modified) < d->threshold ? SFU__OD_K_DOWN : SFU__OD_K_UP;
  dt = now_ms - d->last_update_ms;
  if (dt > SFU__OD_MAX_TIME_DELTA_MS) dt = SFU__OD_MAX_TIME_DELTA_MS;
  if (dt < 0) dt = 0;
  d->threshold += k * (fabs(modified) - d->threshold) * (double)dt;
  if (d->threshold < 6.0) d->threshold = 6.0;
  if (d->threshold > 600.0) d->threshold = 600.0;
  d->last_update_ms = now_ms;
}

sfu_bw_usage_t sfu_overuse_detector_detect(sfu_overuse_detector_t *d, double modified, double value,
                                           double send_delta_ms, int num_deltas, int64_t now_ms) {
  if (num_deltas < 2) {
    d->state = SFU_BW_NORMAL;
    return d->state;
  }
  if (modified > d->threshold) {
    if (d->time_over_using_ms < 0) d->time_over_using_ms = send_delta_ms / 2;
    else d->time_over_using_ms += send_delta_ms;
    d->overuse_counter++;
    if (d->time_over_using_ms > SFU__OD_OVERUSING_TIME_MS && d->overuse_counter > 1 && value >= d->prev_value) {
      d->time_over_using_ms = 0;
      d->overuse_counter = 0;
      d->state = SFU_BW_OVERUSING;
    }
  } else if (modified < -d->threshold) {
    d->time_over_using_ms = -1;
    d->overuse_counter = 0;
    d->state = SFU_BW_UNDERUSING;
  } else {
    d->time_over_using_ms = -1;
    d->overuse_counter = 0;
    d->state = SFU_BW_NORMAL;
  }
  d->prev_value = value;
  sfu__od_update_threshold(d, modified, now_ms);
  return d->state;
}
