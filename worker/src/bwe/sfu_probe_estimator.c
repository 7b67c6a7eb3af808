#include "sfu_probe_estimator.h"

#include <string.h>

#define SFU__PE_MIN_PROBES_RATIO 0.80
#define SFU__PE_MIN_BYTES_RATIO 0.80
#define SFU__PE_MAX_VALID_RATIO 2.0
#define SFU__PE_MIN_RATIO_UNSATURATED 0.9
#define SFU__PE_TARGET_UTILIZATION 0.95
#define SFU__PE_MAX_HISTORY_US 1000000
#define SFU__PE_MAX_INTERVAL_US 1000000

void sfu_probe_estimator_init(sfu_probe_estimator_t *p) {
  int i;

  memset(p, 0, sizeof(*p));
  for (i = 0; i < SFU_PROBE_ESTIMATOR_CLUSTERS; i++) p->clusters[i].id = -1;
  p->estimate_bps = p->last_estimate_bps = -1;
}

static sfu__probe_agg_t *sfu__pe_cluster(sfu_probe_estimator_t *p, int id, int64_t now_us) {
  sfu__probe_agg_t *c, *free_c = NULL, *oldest = NULL;
  int i;

  for (i = 0; i < SFU_PROBE_ESTIMATOR_CLUSTERS; i++) {
    c = &p->clusters[i];
    if (c->id >= 0 && c->last_recv_us + SFU__PE_MAX_HISTORY_US < now_us) c->id = -1; /* erase old */
    if (c->id == id) return c;
  }
  for (i = 0; i < SFU_PROBE_ESTIMATOR_CLUSTERS; i++) {
    c = &p->clusters[i];
    if (c->id < 0 && free_c == NULL) free_c = c;
    if (c->id >= 0 && (oldest == NULL || c->last_recv_us < oldest->last_recv_us)) oldest = c;
  }
  c = free_c != NULL ? free_c : oldest;
  memset(c, 0, sizeof(*c));
  c->id = id;
  c->first_send_us = c->first_recv_us = INT64_MAX;
  c->last_send_us = c->last_recv_us = INT64_MIN;
  return c;
}

int64_t sfu_probe_estimator_on_packet(sfu_probe_estimator_t *p, int cluster_id, int min_probes, int64_t min_bytes,
                                      int64_t send_us, int64_t recv_us, size_t size) {
  sfu__probe_agg_t *c;
  int64_t send_iv, recv_iv, res;
  double send_rate, recv_rate;

  if (cluster_id < 0) return -1;
  c = sfu__pe_cluster(p, cluster_id, recv_us);
  if (send_us < c->first_send_us) c->first_send_us = send_us;
  if (send_us > c->last_send_us) {
    c->last_send_us = send_us;
    c->size_last_send = (int64_t)size;
  }
  if (recv_us < c->first_recv_us) {
    c->first_recv_us = recv_us;
    c->size_first_recv = (int64_t)size;
  }
  if (recv_us > c->last_recv_us) c->last_recv_us = recv_us;
  c->size_total += (int64_t)size;
  c->num_probes++;
  if (min_probes <= 0 || min_bytes <= 0) return -1;
  if (c->num_probes < (int)(min_probes * SFU__PE_MIN_PROBES_RATIO) ||
      (double)c->size_total < (double)min_bytes * SFU__PE_MIN_BYTES_RATIO)
    return -1;
  send_iv = c->last_send_us - c->first_send_us;
  recv_iv = c->last_recv_us - c->first_recv_us;
  if (send_iv <= 0 || send_iv > SFU__PE_MAX_INTERVAL_US || recv_iv <= 0 || recv_iv > SFU__PE_MAX_INTERVAL_US)
    return -1;
  send_rate = (double)(c->size_total - c->size_last_send) * 8e6 / (double)send_iv;
  recv_rate = (double)(c->size_total - c->size_first_recv) * 8e6 / (double)recv_iv;
  if (recv_rate / send_rate > SFU__PE_MAX_VALID_RATIO) return -1;
  res = (int64_t)(send_rate < recv_rate ? send_rate : recv_rate);
  if (recv_rate < SFU__PE_MIN_RATIO_UNSATURATED * send_rate) res = (int64_t)(SFU__PE_TARGET_UTILIZATION * recv_rate);
  p->estimate_bps = p->last_estimate_bps = res;
  return res;
}

int64_t sfu_probe_estimator_fetch(sfu_probe_estimator_t *p) {
  int64_t v = p->estimate_bps;

  p->estimate_bps = -1;
  return v;
}
