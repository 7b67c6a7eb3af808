/* Overuse detector with an adaptive threshold (libwebrtc's
 * TrendlineEstimator::Detect and OveruseDetector, with the adaptive
 * threshold on, as GoogCC ships it): compares a delay-gradient estimate,
 * already scaled by the caller, with a threshold gamma that follows it
 * (k_up 0.0087/ms above, k_down 0.039/ms below, clamped to 6..600, not
 * adapted when the estimate is more than 15 beyond it). Overuse needs the
 * estimate above gamma for more than 10 ms and two samples in a row, and a
 * raw value not decreasing; below -gamma is underuse, in between normal. */
#ifndef SFU_OVERUSE_DETECTOR_H
#define SFU_OVERUSE_DETECTOR_H

#include <stdint.h>

#include "sfu_bwe_types.h"

typedef struct sfu_overuse_detector {
  double threshold;
  double time_over_using_ms; /* < 0: not over */
  int overuse_counter;
  double prev_value;
  int64_t last_update_ms; /* < 0: never */
  sfu_bw_usage_t state;
} sfu_overuse_detector_t;

void sfu_overuse_detector_init(sfu_overuse_detector_t *d);
/* modified: the scaled estimate compared with the threshold; value: the raw
 * estimate (trend or offset) that must not fall for overuse; num_deltas: the
 * samples seen so far (below 2 the state is normal and nothing adapts). */
sfu_bw_usage_t sfu_overuse_detector_detect(sfu_overuse_detector_t *d, double modified, double value,
                                           double send_delta_ms, int num_deltas, int64_t now_ms);

#endif
