/* Probe controller (libwebrtc's ProbeController with GoogCC's defaults and
 * periodic ALR probing on, as mediasoup enables it). Decides when to probe
 * and at what rates; each decision is a cluster: a rate, sent for at least
 * 15 ms and 5 packets.
 *   start:      when the network is up with a start rate, 3 x and 6 x it,
 *               then ("exponential") 2 x any result above 70 % of the last
 *               probe, until a result falls short or 1 s passes;
 *   max raised: the new maximum when the estimate is below it;
 *   allocation: 1 x and 2 x a new total allocated rate above the estimate;
 *   ALR:        2 x the estimate every 5 s while application limited;
 *   limited:    2 x the estimate (at most the total allocated rate) every
 *               1.5 s while the allocation is limited by the estimate (the
 *               consumers want more than it): ours, as LiveKit's stream
 *               allocator probes when it is deficient; found room then grows
 *               exponentially like the start probes (a path that widens again
 *               is seen within 1.5 s: a cluster is a few dozen packets);
 *   drop:       after a large drop (below 66 %) and recovery from overuse in
 *               or just after ALR, 85 % of the rate before the drop (at most
 *               every 5 s, within 5 s of the drop).
 * Probes are capped at the maximum (5 Mbit/s if none) and 2 x the total
 * allocated rate. */
#ifndef SFU_PROBE_CONTROLLER_H
#define SFU_PROBE_CONTROLLER_H

#include <stdbool.h>
#include <stdint.h>

#define SFU_PROBE_MIN_PACKETS 5
#define SFU_PROBE_MIN_DURATION_MS 15

typedef struct sfu_probe_cluster {
  int id;
  int64_t bitrate_bps;
  int min_probes;       /* packets to send, at least */
  int64_t min_bytes;    /* bytes to send, at least: bitrate x 15 ms */
  int64_t created_ms;
} sfu_probe_cluster_t;

/* Probes created by one call (at most 2). */
typedef struct sfu_probe_list {
  int n;
  sfu_probe_cluster_t c[2];
} sfu_probe_list_t;

typedef struct sfu_probe_controller {
  bool network_available;
  int state; /* init, waiting for result, complete */
  int64_t min_to_probe_further_bps; /* 0: disabled */
  int64_t last_probing_ms;
  int64_t estimate_bps, start_bps, max_bps;
  int64_t last_drop_probing_ms;
  bool has_alr_start, has_alr_end;
  int64_t alr_start_ms, alr_end_ms;
  bool mid_call_waiting;
  int64_t mid_call_threshold_bps;
  int64_t last_large_drop_ms, bitrate_before_drop_bps;
  int64_t max_total_allocated_bps;
  bool periodic_alr_probing;
  bool alloc_limited;
  int64_t alloc_limited_since_ms;
  int next_id;
} sfu_probe_controller_t;

void sfu_probe_controller_init(sfu_probe_controller_t *p, int64_t now_ms);
void sfu_probe_controller_reset(sfu_probe_controller_t *p, int64_t now_ms);
/* start_bps <= 0: keep; max_bps <= 0: none. */
void sfu_probe_controller_set_bitrates(sfu_probe_controller_t *p, int64_t min_bps, int64_t start_bps,
                                       int64_t max_bps, int64_t now_ms, sfu_probe_list_t *out);
void sfu_probe_controller_on_max_total_allocated(sfu_probe_controller_t *p, int64_t bps, int64_t now_ms,
                                                 sfu_probe_list_t *out);
void sfu_probe_controller_on_network_available(sfu_probe_controller_t *p, bool available, int64_t now_ms,
                                               sfu_probe_list_t *out);
void sfu_probe_controller_set_estimate(sfu_probe_controller_t *p, int64_t bps, int64_t now_ms,
                                       sfu_probe_list_t *out);
void sfu_probe_controller_set_alr_start(sfu_probe_controller_t *p, bool in_alr, int64_t start_ms);
void sfu_probe_controller_set_alr_end(sfu_probe_controller_t *p, int64_t end_ms);
/* Whether the allocation is limited by the estimate (see "limited" above). */
void sfu_probe_controller_set_allocation_limited(sfu_probe_controller_t *p, bool limited, int64_t now_ms);
void sfu_probe_controller_request_probe(sfu_probe_controller_t *p, int64_t now_ms, sfu_probe_list_t *out);
/* The periodic call (GoogCC's 25 ms process interval). */
void sfu_probe_controller_process(sfu_probe_controller_t *p, int64_t now_ms, sfu_probe_list_t *out);

#endif
