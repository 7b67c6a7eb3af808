/* AIMD rate control (libwebrtc's AimdRateControl with its defaults, as both
 * GoogCC's delay-based estimate and the REMB receiver use it):
 *   normal    -> increase: multiplicative, 8 %/s, while no link capacity is
 *                known; additive (about one packet per response time, 2 x
 *                (rtt + 100 ms), at least 4 kbit/s per second) near it;
 *   overusing -> decrease to 0.85 x the measured throughput (0.85 x the link
 *                capacity if that is lower than the current rate), hold;
 *   underusing-> hold.
 * The link capacity estimate is an average of the throughputs at overuse
 * (with its deviation; reset when the throughput leaves +-3 deviations).
 * The rate never exceeds 1.5 x throughput + 10 kbit/s when increasing, and
 * never falls below the minimum. Before an initial rate is set (send side:
 * always set; receive side: first probe, or 5 s of throughput) only overuse
 * changes it. */
#ifndef SFU_AIMD_H
#define SFU_AIMD_H

#include <stdbool.h>
#include <stdint.h>

#include "sfu_bwe_types.h"

typedef struct sfu_aimd {
  int64_t min_bps, max_bps;
  double current_bps;
  double latest_throughput_bps;
  bool initialized;
  int state; /* hold, increase, decrease */
  int64_t last_change_ms;  /* INT64_MIN: never */
  int64_t last_decrease_ms;
  int64_t first_throughput_ms;
  int64_t rtt_ms;
  double last_decrease_bps; /* < 0: none */
  /* link capacity estimator */
  bool cap_valid;
  double cap_kbps, cap_dev_kbps;
} sfu_aimd_t;

void sfu_aimd_init(sfu_aimd_t *a);
void sfu_aimd_set_start(sfu_aimd_t *a, int64_t bps);
void sfu_aimd_set_min(sfu_aimd_t *a, int64_t bps);
void sfu_aimd_set_rtt(sfu_aimd_t *a, int64_t rtt_ms);
/* A probe result or a forced value. */
void sfu_aimd_set_estimate(sfu_aimd_t *a, int64_t bps, int64_t now_ms);
bool sfu_aimd_valid(const sfu_aimd_t *a);
int64_t sfu_aimd_estimate(const sfu_aimd_t *a);
/* throughput_bps < 0: none measured. Returns the new rate. */
int64_t sfu_aimd_update(sfu_aimd_t *a, sfu_bw_usage_t usage, int64_t throughput_bps, int64_t now_ms);
bool sfu_aimd_time_to_reduce_further(const sfu_aimd_t *a, int64_t now_ms, int64_t throughput_bps);
bool sfu_aimd_initial_time_to_reduce_further(const sfu_aimd_t *a, int64_t now_ms);
/* RTCP interval at 5 % of the rate for 80-byte packets, 200..1000 ms (REMB cadence). */
int64_t sfu_aimd_feedback_interval_ms(const sfu_aimd_t *a);
/* Link capacity estimate, 0 if none. */
int64_t sfu_aimd_link_capacity(const sfu_aimd_t *a);

#endif
