/* Trendline filter (libwebrtc's TrendlineEstimator, GoogCC's delay-based
 * detector): accumulates the inter-group delay variation (arrival delta -
 * send delta), smooths it exponentially (0.9), and fits a least-squares line
 * through the last 20 (arrival time, smoothed delay) points. The slope,
 * times min(samples, 60) and the threshold gain 4, goes to the adaptive
 * threshold overuse detector. */
#ifndef SFU_TRENDLINE_H
#define SFU_TRENDLINE_H

#include <stdint.h>

#include "sfu_bwe_types.h"
#include "sfu_overuse_detector.h"

#define SFU_TRENDLINE_WINDOW 20

typedef struct sfu_trendline {
  int num_deltas;
  int64_t first_arrival_ms; /* < 0: none yet */
  double accumulated_delay;
  double smoothed_delay;
  double hist_x[SFU_TRENDLINE_WINDOW]; /* ring: arrival time since the first, ms */
  double hist_y[SFU_TRENDLINE_WINDOW]; /* smoothed delay, ms */
  int hist_len, hist_pos;
  double prev_trend;
  double last_modified_trend;
  sfu_overuse_detector_t detector;
} sfu_trendline_t;

void sfu_trendline_init(sfu_trendline_t *t);
/* One inter-group delta; returns the detector state. */
sfu_bw_usage_t sfu_trendline_update(sfu_trendline_t *t, double recv_delta_ms, double send_delta_ms,
                                    int64_t arrival_ms);
static inline sfu_bw_usage_t sfu_trendline_state(const sfu_trendline_t *t) { return t->detector.state; }

#endif
