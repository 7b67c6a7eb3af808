/* Delay-based estimate (libwebrtc's DelayBasedBwe): feeds the acknowledged
 * packets of each transport-cc feedback, in receive order, through the
 * inter-arrival grouping (5 ms groups) and the trendline detector, then
 * moves the AIMD rate with the detector state and the acknowledged bitrate:
 * on overuse it decreases (at most once per rtt, clamped 10..200 ms, unless
 * the throughput fell below half the estimate); without an acknowledged
 * bitrate yet it halves the estimate; a probe result (not overusing) sets
 * the estimate directly; while application limited, an overuse backs off
 * from the previous target instead of the acknowledged bitrate. Two seconds without feedback reset the detector. */
#ifndef SFU_DELAY_BWE_H
#define SFU_DELAY_BWE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu_aimd.h"
#include "sfu_bwe_types.h"
#include "sfu_inter_arrival.h"
#include "sfu_trendline.h"

typedef struct sfu_delay_bwe {
  sfu_inter_arrival_t ia;
  sfu_trendline_t trendline;
  sfu_aimd_t aimd;
  int64_t last_seen_ms; /* INT64_MIN: none */
  int64_t prev_bps;
  sfu_bw_usage_t prev_state;
} sfu_delay_bwe_t;

typedef struct sfu_delay_bwe_result {
  bool updated;
  bool probe;
  bool recovered_from_overuse;
  bool backoff_in_alr; /* decreased from the last target (application limited) */
  int64_t target_bps;
} sfu_delay_bwe_result_t;

void sfu_delay_bwe_init(sfu_delay_bwe_t *d);
/* One acknowledged packet of the feedback being processed (receive order). */
void sfu_delay_bwe_on_packet(sfu_delay_bwe_t *d, int64_t send_us, int64_t arrival_us, size_t size, int64_t now_ms);
/* After the packets of one feedback: acked/probe bps < 0 for none.
 * recovered: the detector went from underuse to normal during them.
 * in_alr: the sender is application limited (sfu_alr_detector); an overuse
 * then backs off from the previous target rather than the acked bitrate. */
void sfu_delay_bwe_update(sfu_delay_bwe_t *d, int64_t acked_bps, int64_t probe_bps, bool recovered, bool in_alr,
                          int64_t now_ms, sfu_delay_bwe_result_t *r);
static inline sfu_bw_usage_t sfu_delay_bwe_state(const sfu_delay_bwe_t *d) {
  return sfu_trendline_state(&d->trendline);
}

#endif
