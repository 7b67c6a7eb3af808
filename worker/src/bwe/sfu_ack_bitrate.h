/* Acknowledged bitrate estimator (libwebrtc's AcknowledgedBitrateEstimator
 * over BitrateEstimator): the rate at which the receiver got our packets,
 * from the bytes acknowledged by transport-cc feedback per window of receive
 * time (500 ms for the first sample, then 150 ms), smoothed by a Bayesian
 * update whose sample uncertainty grows with its distance from the estimate
 * (scale 10). After an application-limited period ends the variance is
 * raised so the estimate can follow the faster rate. */
#ifndef SFU_ACK_BITRATE_H
#define SFU_ACK_BITRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sfu_ack_bitrate {
  int64_t sum_bytes;
  int64_t window_ms; /* accumulated in the current window */
  int64_t prev_ms;   /* < 0: none */
  double estimate_kbps; /* < 0: none */
  double var;
  bool in_alr;
  bool alr_ended;
  int64_t alr_ended_ms;
} sfu_ack_bitrate_t;

void sfu_ack_bitrate_init(sfu_ack_bitrate_t *b);
/* One acknowledged packet, in receive time order. */
void sfu_ack_bitrate_on_packet(sfu_ack_bitrate_t *b, int64_t send_ms, int64_t arrival_ms, size_t size);
void sfu_ack_bitrate_set_alr(sfu_ack_bitrate_t *b, bool in_alr);
void sfu_ack_bitrate_set_alr_ended(sfu_ack_bitrate_t *b, int64_t at_ms);
/* bps, or -1 while there is no estimate yet. */
int64_t sfu_ack_bitrate_bps(const sfu_ack_bitrate_t *b);
/* The rate of the window being filled, or -1. */
int64_t sfu_ack_bitrate_peek_bps(const sfu_ack_bitrate_t *b);

#endif
