/* Probe result estimator (libwebrtc's ProbeBitrateEstimator): aggregates
 * the feedback of the packets of each probe cluster; once 80 % of the
 * cluster's packets and bytes are acknowledged it takes the send rate (bytes
 * less the last sent, over the send interval) and the receive rate (bytes
 * less the first received, over the receive interval), rejects intervals of
 * zero or above 1 s and receive/send ratios above 2, and gives min(send,
 * receive), or 95 % of the receive rate when it is below 90 % of the send
 * rate (the probe saturated the link). Clusters without feedback for 1 s are
 * forgotten. */
#ifndef SFU_PROBE_ESTIMATOR_H
#define SFU_PROBE_ESTIMATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFU_PROBE_ESTIMATOR_CLUSTERS 8

typedef struct sfu__probe_agg {
  int id; /* < 0: free */
  int64_t first_send_us, last_send_us, first_recv_us, last_recv_us;
  int64_t size_last_send, size_first_recv, size_total;
  int num_probes;
} sfu__probe_agg_t;

typedef struct sfu_probe_estimator {
  sfu__probe_agg_t clusters[SFU_PROBE_ESTIMATOR_CLUSTERS];
  int64_t estimate_bps; /* fetched and reset; < 0: none */
  int64_t last_estimate_bps;
} sfu_probe_estimator_t;

void sfu_probe_estimator_init(sfu_probe_estimator_t *p);
/* One acknowledged probe packet; returns the cluster's rate once it has
 * enough feedback (and keeps it for _fetch), else -1. */
int64_t sfu_probe_estimator_on_packet(sfu_probe_estimator_t *p, int cluster_id, int min_probes, int64_t min_bytes,
                                      int64_t send_us, int64_t recv_us, size_t size);
/* The last result since the previous fetch, or -1. */
int64_t sfu_probe_estimator_fetch(sfu_probe_estimator_t *p);

#endif
