/* Kalman filter of the receive-side estimator (libwebrtc's
 * OveruseEstimator, used by RemoteBitrateEstimatorAbsSendTime): models each
 * inter-group delay variation as slope * size delta + offset + noise and
 * tracks both, with the measurement noise variance estimated from the
 * residuals (outliers clamped at 3 sigma) while the detector says normal.
 * The offset (ms) is the queuing delay gradient fed to the detector. */
#ifndef SFU_OVERUSE_ESTIMATOR_H
#define SFU_OVERUSE_ESTIMATOR_H

#include <stdint.h>

#include "sfu_bwe_types.h"

#define SFU_OVERUSE_ESTIMATOR_FRAME_HISTORY 60

typedef struct sfu_overuse_estimator {
  int num_deltas;
  double slope, offset, prev_offset;
  double e[2][2];
  double process_noise[2];
  double avg_noise, var_noise;
  double ts_hist[SFU_OVERUSE_ESTIMATOR_FRAME_HISTORY]; /* send deltas, for the min frame period */
  int ts_len, ts_pos;
} sfu_overuse_estimator_t;

void sfu_overuse_estimator_init(sfu_overuse_estimator_t *e);
void sfu_overuse_estimator_update(sfu_overuse_estimator_t *e, double recv_delta_ms, double send_delta_ms,
                                  int64_t size_delta, sfu_bw_usage_t current);

#endif
