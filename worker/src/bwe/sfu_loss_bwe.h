/* Loss-based send-side estimate (libwebrtc's SendSideBandwidthEstimation,
 * the classic path GoogCC runs by default): the final target rate. Every
 * loss report (at least 20 packets) updates the loss fraction; then
 *   loss <= 2 %  -> +8 % of the lowest rate of the last second, + 1 kbit/s;
 *   2..10 %      -> hold;
 *   loss > 10 %  -> rate x (1 - loss / 2), at most once per 300 ms + rtt.
 * In the first 2 s without loss the rate jumps to the delay-based or REMB
 * estimate if higher. The result is capped by the delay-based estimate, the
 * receiver's REMB (when given) and the configured bounds. Not ported: the
 * RTT-based backoff (off unless a field trial sets a limit) and the newer
 * LossBasedBandwidthEstimation (field trial), and the link capacity tracker
 * (only used for the "stable" estimate experiment). */
#ifndef SFU_LOSS_BWE_H
#define SFU_LOSS_BWE_H

#include <stdbool.h>
#include <stdint.h>

#define SFU_LOSS_BWE_HISTORY 128

typedef struct sfu_loss_bwe {
  int64_t current_bps;
  int64_t min_bps, max_bps;
  int64_t delay_based_bps; /* 0: none */
  int64_t remb_bps;        /* 0: none */
  int64_t acked_bps;       /* < 0: none */
  int lost_since_update, expected_since_update;
  uint8_t last_fraction_loss; /* /256 */
  bool has_decreased_since_last_loss;
  int64_t last_loss_feedback_ms, last_loss_report_ms, last_decrease_ms, first_report_ms; /* INT64_MIN: never */
  int64_t rtt_ms;
  /* (time, rate) pairs, rates increasing from the front: the minimum of the last second */
  int64_t hist_ms[SFU_LOSS_BWE_HISTORY];
  int64_t hist_bps[SFU_LOSS_BWE_HISTORY];
  int hist_head, hist_len;
} sfu_loss_bwe_t;

void sfu_loss_bwe_init(sfu_loss_bwe_t *l);
/* Bounds (max 0: 1 Gbit/s) and, when start_bps > 0, a new starting rate. */
void sfu_loss_bwe_set_bitrates(sfu_loss_bwe_t *l, int64_t start_bps, int64_t min_bps, int64_t max_bps,
                               int64_t now_ms);
void sfu_loss_bwe_set_send_bitrate(sfu_loss_bwe_t *l, int64_t bps, int64_t now_ms);
void sfu_loss_bwe_set_min_max(sfu_loss_bwe_t *l, int64_t min_bps, int64_t max_bps);
void sfu_loss_bwe_update_remb(sfu_loss_bwe_t *l, int64_t bps, int64_t now_ms);
void sfu_loss_bwe_update_delay_based(sfu_loss_bwe_t *l, int64_t bps, int64_t now_ms);
void sfu_loss_bwe_set_acked(sfu_loss_bwe_t *l, int64_t bps);
void sfu_loss_bwe_update_packets_lost(sfu_loss_bwe_t *l, int lost, int expected, int64_t now_ms);
/* From an RTCP receiver report block: fraction lost /256 of n packets. */
void sfu_loss_bwe_update_receiver_block(sfu_loss_bwe_t *l, uint8_t fraction_lost, int64_t rtt_ms, int n,
                                        int64_t now_ms);
void sfu_loss_bwe_update_rtt(sfu_loss_bwe_t *l, int64_t rtt_ms, int64_t now_ms);
/* The periodic update (GoogCC's process interval) and after each loss report. */
void sfu_loss_bwe_update_estimate(sfu_loss_bwe_t *l, int64_t now_ms);
int64_t sfu_loss_bwe_estimate(const sfu_loss_bwe_t *l);
static inline uint8_t sfu_loss_bwe_fraction_loss(const sfu_loss_bwe_t *l) { return l->last_fraction_loss; }

#endif
