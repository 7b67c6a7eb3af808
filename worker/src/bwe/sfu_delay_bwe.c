#include "sfu_delay_bwe.h"

#include <string.h>

#define SFU__DB_STREAM_TIMEOUT_MS 2000
#define SFU__DB_GROUP_US 5000

void sfu_delay_bwe_init(sfu_delay_bwe_t *d) {
  memset(d, 0, sizeof(*d));
  sfu_inter_arrival_init(&d->ia, SFU__DB_GROUP_US);
  sfu_trendline_init(&d->trendline);
  sfu_aimd_init(&d->aimd);
  d->last_seen_ms = INT64_MIN;
  d->prev_state = SFU_BW_NORMAL;
}

void sfu_delay_bwe_on_packet(sfu_delay_bwe_t *d, int64_t send_us, int64_t arrival_us, size_t size, int64_t now_ms) {
  sfu_inter_arrival_delta_t delta;

  if (d->last_seen_ms == INT64_MIN || now_ms - d->last_seen_ms > SFU__DB_STREAM_TIMEOUT_MS) {
    sfu_inter_arrival_reset(&d->ia);
    sfu_trendline_init(&d->trendline);
  }
  d->last_seen_ms = now_ms;
  if (sfu_inter_arrival_add(&d->ia, send_us, arrival_us, now_ms * 1000, size, &delta))
    sfu_trendline_update(&d->trendline, delta.arrival_delta_ms, delta.send_delta_ms, arrival_us / 1000);
}

static bool sfu__db_update_estimate(sfu_delay_bwe_t *d, int64_t acked_bps, int64_t now_ms, int64_t *target) {
  *target = sfu_aimd_update(&d->aimd, sfu_delay_bwe_state(d), acked_bps, now_ms);
  return sfu_aimd_valid(&d->aimd);
}

void sfu_delay_bwe_update(sfu_delay_bwe_t *d, int64_t acked_bps, int64_t probe_bps, bool recovered, bool in_alr,
                          int64_t now_ms, sfu_delay_bwe_result_t *r) {
  sfu_bw_usage_t state = sfu_delay_bwe_state(d);

  memset(r, 0, sizeof(*r));
  if (state == SFU_BW_OVERUSING) {
    if (in_alr && d->prev_bps > 0) {
      /* application limited: what was acknowledged is what the encoders
       * had to send, not what the link carries; backing off from it would
       * throw away the estimate, so back off from the last target instead
       * (libwebrtc's AlrLimitedBackoff, which mediasoup enables) */
      if (sfu_aimd_time_to_reduce_further(&d->aimd, now_ms, d->prev_bps)) {
        r->updated = sfu__db_update_estimate(d, d->prev_bps, now_ms, &r->target_bps);
        r->backoff_in_alr = true;
      }
    } else if (acked_bps >= 0 && sfu_aimd_time_to_reduce_further(&d->aimd, now_ms, acked_bps)) {
      r->updated = sfu__db_update_estimate(d, acked_bps, now_ms, &r->target_bps);
    } else if (acked_bps < 0 && sfu_aimd_valid(&d->aimd) && sfu_aimd_initial_time_to_reduce_further(&d->aimd, now_ms)) {
      sfu_aimd_set_estimate(&d->aimd, sfu_aimd_estimate(&d->aimd) / 2, now_ms);
      r->updated = true;
      r->target_bps = sfu_aimd_estimate(&d->aimd);
    }
  } else if (probe_bps >= 0) {
    r->probe = true;
    r->updated = true;
    r->target_bps = probe_bps;
    sfu_aimd_set_estimate(&d->aimd, probe_bps, now_ms);
    r->target_bps = sfu_aimd_estimate(&d->aimd);
  } else {
    r->updated = sfu__db_update_estimate(d, acked_bps, now_ms, &r->target_bps);
    r->recovered_from_overuse = recovered;
  }
  if ((r->updated && d->prev_bps != r->target_bps) || state != d->prev_state) {
    d->prev_bps = r->updated ? r->target_bps : d->prev_bps;
    d->prev_state = state;
  }
}
