/* Receive-side estimate for peers that negotiated goog-remb but not
 * transport-cc (libwebrtc's RemoteBitrateEstimatorAbs SendTime, which
 * mediasoup's TransportCongestionControlServer runs in REMB mode): from the
 * abs-send-time header extension (24-bit, 6.18 fixed-point seconds, unwrapped
 * here) and the arrival time of every packet:
 *   - inter-arrival groups of 5 ms, a Kalman filter of the delay variation
 *     (sfu_overuse_estimator), the adaptive threshold detector;
 *   - AIMD on the incoming bitrate (1 s window): the REMB value;
 *   - in the first 2 s, or before any estimate, packets above 200 bytes are
 *     checked as probe clusters (send spacing within 2.5 ms of the cluster
 *     mean, at least 4 packets); the best cluster's rate starts the estimate;
 *   - a REMB is due at the AIMD feedback interval (5 % of the rate for 80-byte
 *     packets, 200..1000 ms), or at once on overuse when it is time to reduce;
 *   - streams not seen for 2 s are dropped (all gone: filters reset).
 * The value is capped by the max incoming bitrate (setMaxIncomingBitrate). */
#ifndef SFU_REMB_SERVER_H
#define SFU_REMB_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu_aimd.h"
#include "sfu_inter_arrival.h"
#include "sfu_overuse_detector.h"
#include "sfu_overuse_estimator.h"

#define SFU_REMB_SERVER_MAX_SSRCS 16
#define SFU_REMB_SERVER_RATE_WINDOW_MS 1000
#define SFU_REMB_SERVER_MAX_PROBES 15

typedef struct sfu__remb_probe {
  int64_t send_ms, recv_ms;
  size_t size;
} sfu__remb_probe_t;

typedef struct sfu_remb_server {
  sfu_inter_arrival_t ia;
  sfu_overuse_estimator_t est;
  sfu_overuse_detector_t det;
  sfu_aimd_t aimd;
  /* incoming bitrate: bytes per ms over the last second */
  int64_t buckets[SFU_REMB_SERVER_RATE_WINDOW_MS];
  int64_t rate_total, rate_samples, rate_oldest_ms; /* rate_samples 0: empty */
  bool rate_initialized;
  /* abs-send-time unwrapping */
  bool has_abs;
  uint32_t last_abs;
  int64_t abs_ext;
  sfu__remb_probe_t probes[SFU_REMB_SERVER_MAX_PROBES];
  int probe_len;
  int total_probes;
  int64_t first_packet_ms, last_update_ms; /* -1: none */
  uint32_t ssrcs[SFU_REMB_SERVER_MAX_SSRCS];
  int64_t ssrc_seen_ms[SFU_REMB_SERVER_MAX_SSRCS];
  int ssrc_count;
  int64_t max_incoming_bps;
  int64_t last_bps;
} sfu_remb_server_t;

void sfu_remb_server_init(sfu_remb_server_t *s);
/* One RTP packet with abs-send-time (payload_size without headers, as
 * libwebrtc counts), arrival now_ms. True and *bps when a REMB is due. */
bool sfu_remb_server_on_packet(sfu_remb_server_t *s, uint32_t ssrc, uint32_t abs_send_time, size_t payload_size,
                               int64_t now_ms, int64_t *bps);
/* The SSRCs to list in the REMB: their count (<= cap written). */
size_t sfu_remb_server_ssrcs(const sfu_remb_server_t *s, uint32_t *out, size_t cap);
void sfu_remb_server_set_max_incoming_bitrate(sfu_remb_server_t *s, int64_t bps);
/* Current estimate (capped), 0 before the first one. */
int64_t sfu_remb_server_estimate(const sfu_remb_server_t *s);
/* Incoming bitrate over the last second, -1 if too little data. */
int64_t sfu_remb_server_incoming_bps(sfu_remb_server_t *s, int64_t now_ms);

#endif
