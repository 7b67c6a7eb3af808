#include "sfu_aimd.h"

#include <math.h>
#include <string.h>

#define SFU__AIMD_BETA 0.85
#define SFU__AIMD_HOLD 0
#define SFU__AIMD_INCREASE 1
#define SFU__AIMD_DECREASE 2
#define SFU__AIMD_NEVER INT64_MIN

void sfu_aimd_init(sfu_aimd_t *a) {
  memset(a, 0, sizeof(*a));
  a->min_bps = SFU_BWE_MIN_BITRATE;
  a->max_bps = 30000000;
  a->current_bps = (double)a->max_bps;
  a->latest_throughput_bps = a->current_bps;
  a->state = SFU__AIMD_HOLD;
  a->last_change_ms = a->last_decrease_ms = a->first_throughput_ms = SFU__AIMD_NEVER;
  a->rtt_ms = 200;
  a->last_decrease_bps = -1;
}

void sfu_aimd_set_start(sfu_aimd_t *a, int64_t bps) {
  a->current_bps = (double)bps;
  a->latest_throughput_bps = a->current_bps;
  a->initialized = true;
}

void sfu_aimd_set_min(sfu_aimd_t *a, int64_t bps) {
  a->min_bps = bps;
  if (a->current_bps < (double)bps) a->current_bps = (double)bps;
}

void sfu_aimd_set_rtt(sfu_aimd_t *a, int64_t rtt_ms) { a->rtt_ms = rtt_ms; }
bool sfu_aimd_valid(const sfu_aimd_t *a) { return a->initialized; }
int64_t sfu_aimd_estimate(const sfu_aimd_t *a) { return (int64_t)a->current_bps; }

int64_t sfu_aimd_link_capacity(const sfu_aimd_t *a) { return a->cap_valid ? (int64_t)(a->cap_kbps * 1000) : 0; }

static double sfu__aimd_cap_dev(const sfu_aimd_t *a) { return sqrt(a->cap_dev_kbps * a->cap_kbps); }

static double sfu__aimd_cap_upper(const sfu_aimd_t *a) {
  return a->cap_valid ? (a->cap_kbps + 3 * sfu__aimd_cap_dev(a)) * 1000 : INFINITY;
}

static double sfu__aimd_cap_lower(const sfu_aimd_t *a) {
  double v;

  if (!a->cap_valid) return 0;
  v = a->cap_kbps - 3 * sfu__aimd_cap_dev(a);
  return v > 0 ? v * 1000 : 0;
}

static void sfu__aimd_cap_update(sfu_aimd_t *a, double sample_bps, double alpha) {
  double sample = sample_bps / 1000, norm, err;

  if (!a->cap_valid) {
    a->cap_kbps = sample;
    a->cap_valid = true;
  } else {
    a->cap_kbps = (1 - alpha) * a->cap_kbps + alpha * sample;
  }
  norm = a->cap_kbps > 1.0 ? a->cap_kbps : 1.0;
  err = a->cap_kbps - sample;
  a->cap_dev_kbps = (1 - alpha) * a->cap_dev_kbps + alpha * err * err / norm;
  if (a->cap_dev_kbps < 0.4) a->cap_dev_kbps = 0.4;
  if (a->cap_dev_kbps > 2.5) a->cap_dev_kbps = 2.5;
}

static double sfu__aimd_clamp(const sfu_aimd_t *a, double bps, double throughput) {
  double max = 1.5 * throughput + 10000;

  if (bps > a->current_bps && bps > max) bps = a->current_bps > max ? a->current_bps : max;
  if (bps < (double)a->min_bps) bps = (double)a->min_bps;
  return bps;
}

void sfu_aimd_set_estimate(sfu_aimd_t *a, int64_t bps, int64_t now_ms) {
  double prev = a->current_bps;

  a->initialized = true;
  a->current_bps = sfu__aimd_clamp(a, (double)bps, (double)bps);
  a->last_change_ms = now_ms;
  if (a->current_bps < prev) a->last_decrease_ms = now_ms;
}

bool sfu_aimd_time_to_reduce_further(const sfu_aimd_t *a, int64_t now_ms, int64_t throughput_bps) {
  int64_t interval = a->rtt_ms < 10 ? 10 : a->rtt_ms > 200 ? 200 : a->rtt_ms;

  if (a->last_change_ms == SFU__AIMD_NEVER || now_ms - a->last_change_ms >= interval) return true;
  if (a->initialized) return (double)throughput_bps < 0.5 * a->current_bps;
  return false;
}

bool sfu_aimd_initial_time_to_reduce_further(const sfu_aimd_t *a, int64_t now_ms) {
  return a->initialized && sfu_aimd_time_to_reduce_further(a, now_ms, (int64_t)(a->current_bps / 2) - 1);
}

int64_t sfu_aimd_feedback_interval_ms(const sfu_aimd_t *a) {
  double rtcp_bps = a->current_bps * 0.05, ms;

  ms = rtcp_bps > 0 ? 80.0 * 8 * 1000 / rtcp_bps : 1000;
  if (ms < 200) ms = 200;
  if (ms > 1000) ms = 1000;
  return (int64_t)ms;
}

static double sfu__aimd_near_max_increase(const sfu_aimd_t *a) {
  double frame_bits = a->current_bps / 30.0, packets, avg_packet_bits, response_s, r;

  packets = ceil(frame_bits / (1200.0 * 8));
  if (packets < 1) packets = 1;
  avg_packet_bits = frame_bits / packets;
  response_s = 2.0 * (double)(a->rtt_ms + 100) / 1000.0; /* adaptive threshold on: twice */
  r = avg_packet_bits / response_s;
  return r > 4000 ? r : 4000;
}

int64_t sfu_aimd_update(sfu_aimd_t *a, sfu_bw_usage_t usage, int64_t throughput_bps, int64_t now_ms) {
  bool has_tp = throughput_bps >= 0;
  double tp, bps = a->current_bps, alpha, secs;

  if (!a->initialized) {
    if (a->first_throughput_ms == SFU__AIMD_NEVER) {
      if (has_tp) a->first_throughput_ms = now_ms;
    } else if (now_ms - a->first_throughput_ms > 5000 && has_tp) {
      a->current_bps = (double)throughput_bps;
      a->initialized = true;
    }
  }
  tp = has_tp ? (double)throughput_bps : a->latest_throughput_bps;
  if (has_tp) a->latest_throughput_bps = (double)throughput_bps;
  if (!a->initialized && usage != SFU_BW_OVERUSING) return (int64_t)a->current_bps;

  switch (usage) {
  case SFU_BW_NORMAL:
    if (a->state == SFU__AIMD_HOLD) {
      a->last_change_ms = now_ms;
      a->state = SFU__AIMD_INCREASE;
    }
    break;
  case SFU_BW_OVERUSING: a->state = SFU__AIMD_DECREASE; break;
  case SFU_BW_UNDERUSING: a->state = SFU__AIMD_HOLD; break;
  }

  bps = a->current_bps;
  if (a->state == SFU__AIMD_INCREASE) {
    if (tp > sfu__aimd_cap_upper(a)) a->cap_valid = false;
    if (a->cap_valid) {
      secs = a->last_change_ms == SFU__AIMD_NEVER ? 0 : (double)(now_ms - a->last_change_ms) / 1000.0;
      bps += sfu__aimd_near_max_increase(a) * secs;
    } else {
      alpha = 1.08;
      if (a->last_change_ms != SFU__AIMD_NEVER) {
        secs = (double)(now_ms - a->last_change_ms) / 1000.0;
        alpha = pow(alpha, secs < 1.0 ? secs : 1.0);
      }
      bps += fmax(bps * (alpha - 1.0), 1000.0);
    }
    a->last_change_ms = now_ms;
  } else if (a->state == SFU__AIMD_DECREASE) {
    bps = tp * SFU__AIMD_BETA;
    if (bps > a->current_bps && a->cap_valid) bps = SFU__AIMD_BETA * a->cap_kbps * 1000;
    if (bps > a->current_bps) bps = a->current_bps;
    if (a->initialized && tp < a->current_bps) a->last_decrease_bps = a->current_bps - bps;
    if (tp < sfu__aimd_cap_lower(a)) a->cap_valid = false;
    a->initialized = true;
    sfu__aimd_cap_update(a, tp, 0.05);
    a->state = SFU__AIMD_HOLD;
    a->last_change_ms = now_ms;
    a->last_decrease_ms = now_ms;
  }
  a->current_bps = sfu__aimd_clamp(a, bps, tp);
  return (int64_t)a->current_bps;
}
