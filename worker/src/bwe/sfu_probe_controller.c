#include "sfu_probe_controller.h"

#include <string.h>

#define SFU__PC_INIT 0
#define SFU__PC_WAITING 1
#define SFU__PC_COMPLETE 2
#define SFU__PC_MAX_WAIT_MS 1000
#define SFU__PC_DEFAULT_MAX_PROBING 5000000
#define SFU__PC_DROP_THRESHOLD 0.66
#define SFU__PC_DROP_TIMEOUT_MS 5000
#define SFU__PC_FRACTION_AFTER_DROP 0.85
#define SFU__PC_ALR_ENDED_TIMEOUT_MS 3000
#define SFU__PC_MIN_TIME_BETWEEN_ALR_PROBES_MS 5000
#define SFU__PC_UNCERTAINTY 0.05
#define SFU__PC_P1 3.0
#define SFU__PC_P2 6.0
#define SFU__PC_STEP 2.0
#define SFU__PC_FURTHER_THRESHOLD 0.7
#define SFU__PC_ALR_INTERVAL_MS 5000
#define SFU__PC_ALR_SCALE 2.0
#define SFU__PC_LIMITED_INTERVAL_MS 1500
#define SFU__PC_LIMITED_SCALE 2.0
#define SFU__PC_ALLOC_P1 1.0
#define SFU__PC_ALLOC_P2 2.0

void sfu_probe_controller_reset(sfu_probe_controller_t *p, int64_t now_ms) {
  bool periodic = p->periodic_alr_probing;
  int next_id = p->next_id;

  memset(p, 0, sizeof(*p));
  p->network_available = true;
  p->state = SFU__PC_INIT;
  p->last_drop_probing_ms = now_ms;
  p->last_large_drop_ms = now_ms;
  p->periodic_alr_probing = periodic;
  p->next_id = next_id;
}

void sfu_probe_controller_init(sfu_probe_controller_t *p, int64_t now_ms) {
  memset(p, 0, sizeof(*p));
  p->periodic_alr_probing = true;
  p->next_id = 1;
  sfu_probe_controller_reset(p, now_ms);
}

static void sfu__pc_initiate(sfu_probe_controller_t *p, int64_t now_ms, const int64_t *rates, int n,
                             bool further, sfu_probe_list_t *out) {
  int64_t max_probe = p->max_bps > 0 ? p->max_bps : SFU__PC_DEFAULT_MAX_PROBING, r;
  sfu_probe_cluster_t *c;
  int i;

  if (p->max_total_allocated_bps > 0 && p->max_total_allocated_bps * 2 < max_probe)
    max_probe = p->max_total_allocated_bps * 2;
  for (i = 0; i < n; i++) {
    r = rates[i];
    if (r > max_probe) {
      r = max_probe;
      further = false;
    }
    if (out->n < 2) {
      c = &out->c[out->n++];
      c->id = p->next_id;
      c->bitrate_bps = r;
      c->min_probes = SFU_PROBE_MIN_PACKETS;
      c->min_bytes = r * SFU_PROBE_MIN_DURATION_MS / 8000;
      c->created_ms = now_ms;
    }
    p->next_id = p->next_id == 0x7fffffff ? 1 : p->next_id + 1;
  }
  p->last_probing_ms = now_ms;
  if (further) {
    p->state = SFU__PC_WAITING;
    p->min_to_probe_further_bps = (int64_t)((double)rates[n - 1] * SFU__PC_FURTHER_THRESHOLD);
  } else {
    p->state = SFU__PC_COMPLETE;
    p->min_to_probe_further_bps = 0;
  }
}

static void sfu__pc_exponential(sfu_probe_controller_t *p, int64_t now_ms, sfu_probe_list_t *out) {
  int64_t rates[2] = {(int64_t)(SFU__PC_P1 * (double)p->start_bps), (int64_t)(SFU__PC_P2 * (double)p->start_bps)};

  sfu__pc_initiate(p, now_ms, rates, 2, true, out);
}

void sfu_probe_controller_set_bitrates(sfu_probe_controller_t *p, int64_t min_bps, int64_t start_bps,
                                       int64_t max_bps, int64_t now_ms, sfu_probe_list_t *out) {
  int64_t old_max = p->max_bps, t;

  if (start_bps > 0) {
    p->start_bps = start_bps;
    p->estimate_bps = start_bps;
  } else if (p->start_bps == 0) {
    p->start_bps = min_bps;
  }
  p->max_bps = max_bps;
  switch (p->state) {
  case SFU__PC_INIT:
    if (p->network_available) sfu__pc_exponential(p, now_ms, out);
    break;
  case SFU__PC_COMPLETE:
    if (p->estimate_bps != 0 && old_max < p->max_bps && p->estimate_bps < p->max_bps) {
      t = (int64_t)((double)p->estimate_bps * 1.2);
      if ((double)t > (double)p->max_bps * 0.9) t = (int64_t)((double)p->max_bps * 0.9);
      p->mid_call_threshold_bps = t;
      p->mid_call_waiting = true;
      sfu__pc_initiate(p, now_ms, &p->max_bps, 1, false, out);
    }
    break;
  default: break;
  }
}

void sfu_probe_controller_on_max_total_allocated(sfu_probe_controller_t *p, int64_t bps, int64_t now_ms,
                                                 sfu_probe_list_t *out) {
  int64_t rates[2];

  if (p->state == SFU__PC_COMPLETE && bps != p->max_total_allocated_bps && p->estimate_bps != 0 &&
      (p->max_bps <= 0 || p->estimate_bps < p->max_bps) && p->estimate_bps < bps) {
    p->max_total_allocated_bps = bps;
    rates[0] = (int64_t)(SFU__PC_ALLOC_P1 * (double)bps);
    rates[1] = (int64_t)(SFU__PC_ALLOC_P2 * (double)bps);
    sfu__pc_initiate(p, now_ms, rates, 2, false, out);
    return;
  }
  p->max_total_allocated_bps = bps;
}

void sfu_probe_controller_on_network_available(sfu_probe_controller_t *p, bool available, int64_t now_ms,
                                               sfu_probe_list_t *out) {
  p->network_available = available;
  if (!available && p->state == SFU__PC_WAITING) {
    p->state = SFU__PC_COMPLETE;
    p->min_to_probe_further_bps = 0;
  }
  if (available && p->state == SFU__PC_INIT && p->start_bps > 0) sfu__pc_exponential(p, now_ms, out);
}

void sfu_probe_controller_set_estimate(sfu_probe_controller_t *p, int64_t bps, int64_t now_ms,
                                       sfu_probe_list_t *out) {
  int64_t r;

  if (p->mid_call_waiting && bps >= p->mid_call_threshold_bps) p->mid_call_waiting = false;
  if (p->state == SFU__PC_WAITING && p->min_to_probe_further_bps != 0 && bps > p->min_to_probe_further_bps) {
    r = (int64_t)(SFU__PC_STEP * (double)bps);
    sfu__pc_initiate(p, now_ms, &r, 1, true, out);
  }
  if ((double)bps < SFU__PC_DROP_THRESHOLD * (double)p->estimate_bps) {
    p->last_large_drop_ms = now_ms;
    p->bitrate_before_drop_bps = p->estimate_bps;
  }
  p->estimate_bps = bps;
}

void sfu_probe_controller_set_alr_start(sfu_probe_controller_t *p, bool in_alr, int64_t start_ms) {
  p->has_alr_start = in_alr;
  p->alr_start_ms = start_ms;
}

void sfu_probe_controller_set_alr_end(sfu_probe_controller_t *p, int64_t end_ms) {
  p->has_alr_end = true;
  p->alr_end_ms = end_ms;
}

void sfu_probe_controller_request_probe(sfu_probe_controller_t *p, int64_t now_ms, sfu_probe_list_t *out) {
  bool ended_recently = p->has_alr_end && now_ms - p->alr_end_ms < SFU__PC_ALR_ENDED_TIMEOUT_MS;
  int64_t suggested, min_expected;

  if (!(p->has_alr_start || ended_recently) || p->state != SFU__PC_COMPLETE) return;
  suggested = (int64_t)(SFU__PC_FRACTION_AFTER_DROP * (double)p->bitrate_before_drop_bps);
  min_expected = (int64_t)((1 - SFU__PC_UNCERTAINTY) * (double)suggested);
  if (min_expected > p->estimate_bps && now_ms - p->last_large_drop_ms < SFU__PC_DROP_TIMEOUT_MS &&
      now_ms - p->last_drop_probing_ms > SFU__PC_MIN_TIME_BETWEEN_ALR_PROBES_MS) {
    p->last_drop_probing_ms = now_ms;
    sfu__pc_initiate(p, now_ms, &suggested, 1, false, out);
  }
}

void sfu_probe_controller_set_allocation_limited(sfu_probe_controller_t *p, bool limited, int64_t now_ms) {
  if (limited && !p->alloc_limited) p->alloc_limited_since_ms = now_ms;
  p->alloc_limited = limited;
}

void sfu_probe_controller_process(sfu_probe_controller_t *p, int64_t now_ms, sfu_probe_list_t *out) {
  int64_t next, r;

  if (now_ms - p->last_probing_ms > SFU__PC_MAX_WAIT_MS) {
    p->mid_call_waiting = false;
    if (p->state == SFU__PC_WAITING) {
      p->state = SFU__PC_COMPLETE;
      p->min_to_probe_further_bps = 0;
    }
  }
  if (p->periodic_alr_probing && p->state == SFU__PC_COMPLETE && p->has_alr_start && p->estimate_bps > 0) {
    next = (p->alr_start_ms > p->last_probing_ms ? p->alr_start_ms : p->last_probing_ms) + SFU__PC_ALR_INTERVAL_MS;
    if (now_ms >= next) {
      r = (int64_t)((double)p->estimate_bps * SFU__PC_ALR_SCALE);
      sfu__pc_initiate(p, now_ms, &r, 1, true, out);
      return;
    }
  }
  if (p->alloc_limited && p->state == SFU__PC_COMPLETE && p->estimate_bps > 0) {
    next = (p->alloc_limited_since_ms > p->last_probing_ms ? p->alloc_limited_since_ms : p->last_probing_ms) +
           SFU__PC_LIMITED_INTERVAL_MS;
    r = (int64_t)((double)p->estimate_bps * SFU__PC_LIMITED_SCALE);
    /* up to twice what the consumers want: a result at the allocation
     * itself would leave no headroom for their switch up */
    if (p->max_total_allocated_bps > 0 && r > (int64_t)(SFU__PC_ALLOC_P2 * (double)p->max_total_allocated_bps))
      r = (int64_t)(SFU__PC_ALLOC_P2 * (double)p->max_total_allocated_bps);
    if (now_ms >= next && r > p->estimate_bps) sfu__pc_initiate(p, now_ms, &r, 1, true, out);
  }
}
