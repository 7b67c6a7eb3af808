#include "sfu_loss_bwe.h"

#include <string.h>

#include "sfu_bwe_types.h"

#define SFU__LB_NEVER INT64_MIN
#define SFU__LB_INCREASE_INTERVAL_MS 1000
#define SFU__LB_DECREASE_INTERVAL_MS 300
#define SFU__LB_START_PHASE_MS 2000
#define SFU__LB_LIMIT_NUM_PACKETS 20
#define SFU__LB_DEFAULT_MAX 1000000000
#define SFU__LB_MAX_RTCP_INTERVAL_MS 5000
#define SFU__LB_LOW_LOSS (0.02f)
#define SFU__LB_HIGH_LOSS (0.1f)

void sfu_loss_bwe_init(sfu_loss_bwe_t *l) {
  memset(l, 0, sizeof(*l));
  l->min_bps = SFU_BWE_MIN_BITRATE;
  l->max_bps = SFU__LB_DEFAULT_MAX;
  l->acked_bps = -1;
  l->last_loss_feedback_ms = l->last_loss_report_ms = l->last_decrease_ms = l->first_report_ms = SFU__LB_NEVER;
}

static void sfu__lb_hist_clear(sfu_loss_bwe_t *l) { l->hist_head = l->hist_len = 0; }

static void sfu__lb_hist_push(sfu_loss_bwe_t *l, int64_t ms, int64_t bps) {
  int i;

  if (l->hist_len == SFU_LOSS_BWE_HISTORY) { /* drop the oldest */
    l->hist_head = (l->hist_head + 1) % SFU_LOSS_BWE_HISTORY;
    l->hist_len--;
  }
  i = (l->hist_head + l->hist_len) % SFU_LOSS_BWE_HISTORY;
  l->hist_ms[i] = ms;
  l->hist_bps[i] = bps;
  l->hist_len++;
}

static void sfu__lb_cap(sfu_loss_bwe_t *l, int64_t bps) {
  if (l->remb_bps > 0 && bps > l->remb_bps) bps = l->remb_bps;
  if (l->delay_based_bps > 0 && bps > l->delay_based_bps) bps = l->delay_based_bps;
  if (bps > l->max_bps) bps = l->max_bps;
  if (bps < l->min_bps) bps = l->min_bps;
  l->current_bps = bps;
}

void sfu_loss_bwe_set_min_max(sfu_loss_bwe_t *l, int64_t min_bps, int64_t max_bps) {
  l->min_bps = min_bps > SFU_BWE_MIN_BITRATE ? min_bps : SFU_BWE_MIN_BITRATE;
  l->max_bps = max_bps > 0 ? (max_bps > l->min_bps ? max_bps : l->min_bps) : SFU__LB_DEFAULT_MAX;
}

void sfu_loss_bwe_set_send_bitrate(sfu_loss_bwe_t *l, int64_t bps, int64_t now_ms) {
  (void)now_ms;
  l->delay_based_bps = 0;
  sfu__lb_cap(l, bps);
  sfu__lb_hist_clear(l);
}

void sfu_loss_bwe_set_bitrates(sfu_loss_bwe_t *l, int64_t start_bps, int64_t min_bps, int64_t max_bps,
                               int64_t now_ms) {
  sfu_loss_bwe_set_min_max(l, min_bps, max_bps);
  if (start_bps > 0) sfu_loss_bwe_set_send_bitrate(l, start_bps, now_ms);
}

void sfu_loss_bwe_update_remb(sfu_loss_bwe_t *l, int64_t bps, int64_t now_ms) {
  (void)now_ms;
  l->remb_bps = bps;
  sfu__lb_cap(l, l->current_bps);
}

void sfu_loss_bwe_update_delay_based(sfu_loss_bwe_t *l, int64_t bps, int64_t now_ms) {
  (void)now_ms;
  l->delay_based_bps = bps;
  sfu__lb_cap(l, l->current_bps);
}

void sfu_loss_bwe_set_acked(sfu_loss_bwe_t *l, int64_t bps) { l->acked_bps = bps; }

void sfu_loss_bwe_update_rtt(sfu_loss_bwe_t *l, int64_t rtt_ms, int64_t now_ms) {
  (void)now_ms;
  if (rtt_ms > 0) l->rtt_ms = rtt_ms;
}

void sfu_loss_bwe_update_packets_lost(sfu_loss_bwe_t *l, int lost, int expected, int64_t now_ms) {
  int64_t total, lost_q8;

  l->last_loss_feedback_ms = now_ms;
  if (l->first_report_ms == SFU__LB_NEVER) l->first_report_ms = now_ms;
  if (expected <= 0) return;
  total = (int64_t)l->expected_since_update + expected;
  if (total < SFU__LB_LIMIT_NUM_PACKETS) {
    l->expected_since_update = (int)total;
    l->lost_since_update += lost;
    return;
  }
  l->has_decreased_since_last_loss = false;
  lost_q8 = (int64_t)(l->lost_since_update + lost);
  if (lost_q8 < 0) lost_q8 = 0;
  lost_q8 <<= 8;
  l->last_fraction_loss = (uint8_t)(lost_q8 / total < 255 ? lost_q8 / total : 255);
  l->lost_since_update = 0;
  l->expected_since_update = 0;
  l->last_loss_report_ms = now_ms;
  sfu_loss_bwe_update_estimate(l, now_ms);
}

void sfu_loss_bwe_update_receiver_block(sfu_loss_bwe_t *l, uint8_t fraction_lost, int64_t rtt_ms, int n,
                                        int64_t now_ms) {
  int lost = ((int)fraction_lost * n + 128) >> 8;

  sfu_loss_bwe_update_packets_lost(l, lost, n, now_ms);
  sfu_loss_bwe_update_rtt(l, rtt_ms, now_ms);
}

static bool sfu__lb_in_start_phase(const sfu_loss_bwe_t *l, int64_t now_ms) {
  return l->first_report_ms == SFU__LB_NEVER || now_ms - l->first_report_ms < SFU__LB_START_PHASE_MS;
}

static void sfu__lb_update_min_history(sfu_loss_bwe_t *l, int64_t now_ms) {
  int last;

  while (l->hist_len > 0 && now_ms - l->hist_ms[l->hist_head] + 1 > SFU__LB_INCREASE_INTERVAL_MS) {
    l->hist_head = (l->hist_head + 1) % SFU_LOSS_BWE_HISTORY;
    l->hist_len--;
  }
  while (l->hist_len > 0) {
    last = (l->hist_head + l->hist_len - 1) % SFU_LOSS_BWE_HISTORY;
    if (l->current_bps > l->hist_bps[last]) break;
    l->hist_len--;
  }
  sfu__lb_hist_push(l, now_ms, l->current_bps);
}

void sfu_loss_bwe_update_estimate(sfu_loss_bwe_t *l, int64_t now_ms) {
  int64_t bps = l->current_bps;
  float loss;

  if (l->last_fraction_loss == 0 && sfu__lb_in_start_phase(l, now_ms)) {
    if (l->remb_bps > bps) bps = l->remb_bps;
    if (l->delay_based_bps > bps) bps = l->delay_based_bps;
    if (bps != l->current_bps) {
      sfu__lb_hist_clear(l);
      sfu__lb_hist_push(l, now_ms, l->current_bps);
      sfu__lb_cap(l, bps);
      return;
    }
  }
  sfu__lb_update_min_history(l, now_ms);
  if (l->last_loss_report_ms == SFU__LB_NEVER) {
    sfu__lb_cap(l, l->current_bps);
    return;
  }
  if (now_ms - l->last_loss_report_ms < (SFU__LB_MAX_RTCP_INTERVAL_MS * 12) / 10) {
    loss = (float)l->last_fraction_loss / 256.0f;
    if (loss <= SFU__LB_LOW_LOSS) {
      bps = (int64_t)((double)l->hist_bps[l->hist_head] * 1.08 + 0.5) + 1000;
    } else if (loss > SFU__LB_HIGH_LOSS) {
      if (!l->has_decreased_since_last_loss &&
          (l->last_decrease_ms == SFU__LB_NEVER ||
           now_ms - l->last_decrease_ms >= SFU__LB_DECREASE_INTERVAL_MS + l->rtt_ms)) {
        l->last_decrease_ms = now_ms;
        bps = (int64_t)((double)l->current_bps * (double)(512 - l->last_fraction_loss) / 512.0);
        l->has_decreased_since_last_loss = true;
      }
    }
  }
  sfu__lb_cap(l, bps);
}

int64_t sfu_loss_bwe_estimate(const sfu_loss_bwe_t *l) {
  return l->current_bps > l->min_bps ? l->current_bps : l->min_bps;
}
