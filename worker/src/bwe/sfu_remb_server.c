#include "sfu_remb_server.h"

#include <math.h>
#include <string.h>

#define SFU__RS_GROUP_US 5000
#define SFU__RS_INITIAL_PROBING_MS 2000
#define SFU__RS_MIN_CLUSTER 4
#define SFU__RS_EXPECTED_PROBES 3
#define SFU__RS_MIN_PROBE_SIZE 200
#define SFU__RS_STREAM_TIMEOUT_MS 2000

static void sfu__rs_filters_reset(sfu_remb_server_t *s) {
  sfu_inter_arrival_init(&s->ia, SFU__RS_GROUP_US);
  sfu_overuse_estimator_init(&s->est);
}

void sfu_remb_server_init(sfu_remb_server_t *s) {
  memset(s, 0, sizeof(*s));
  sfu__rs_filters_reset(s);
  sfu_overuse_detector_init(&s->det);
  sfu_aimd_init(&s->aimd);
  s->first_packet_ms = s->last_update_ms = -1;
}

/* ---- incoming bitrate (libwebrtc's RateStatistics, 1 s, bytes -> bps) ---- */

static void sfu__rs_rate_erase(sfu_remb_server_t *s, int64_t now_ms) {
  int64_t new_oldest = now_ms - SFU_REMB_SERVER_RATE_WINDOW_MS + 1, *b;

  if (s->rate_samples == 0 || new_oldest <= s->rate_oldest_ms) return;
  while (s->rate_samples > 0 && s->rate_oldest_ms < new_oldest) {
    b = &s->buckets[s->rate_oldest_ms % SFU_REMB_SERVER_RATE_WINDOW_MS];
    if (*b > 0) {
      s->rate_total -= *b;
      *b = 0;
    }
    s->rate_oldest_ms++;
  }
  if (s->rate_total == 0) s->rate_samples = 0;
  s->rate_oldest_ms = new_oldest;
}

static void sfu__rs_rate_reset(sfu_remb_server_t *s) {
  memset(s->buckets, 0, sizeof(s->buckets));
  s->rate_total = s->rate_samples = 0;
}

static void sfu__rs_rate_update(sfu_remb_server_t *s, size_t bytes, int64_t now_ms) {
  if (s->rate_samples > 0 && now_ms < s->rate_oldest_ms) return; /* time went back */
  sfu__rs_rate_erase(s, now_ms);
  if (s->rate_samples == 0) {
    memset(s->buckets, 0, sizeof(s->buckets));
    s->rate_total = 0;
    s->rate_oldest_ms = now_ms;
  }
  s->buckets[now_ms % SFU_REMB_SERVER_RATE_WINDOW_MS] += (int64_t)bytes;
  s->rate_total += (int64_t)bytes;
  s->rate_samples++;
}

int64_t sfu_remb_server_incoming_bps(sfu_remb_server_t *s, int64_t now_ms) {
  int64_t active;

  sfu__rs_rate_erase(s, now_ms);
  if (s->rate_samples == 0) return -1;
  active = now_ms - s->rate_oldest_ms + 1;
  if (active <= 1 || (s->rate_samples <= 1 && active < SFU_REMB_SERVER_RATE_WINDOW_MS)) return -1;
  return (int64_t)((double)s->rate_total * 8000.0 / (double)active + 0.5);
}

/* ---- probe clusters ---- */

typedef struct sfu__rs_cluster {
  double send_mean_ms, recv_mean_ms, mean_size;
  int count, num_above_min_delta;
} sfu__rs_cluster_t;

static int64_t sfu__rs_send_bps(const sfu__rs_cluster_t *c) { return (int64_t)(c->mean_size * 8 * 1000 / c->send_mean_ms); }
static int64_t sfu__rs_recv_bps(const sfu__rs_cluster_t *c) { return (int64_t)(c->mean_size * 8 * 1000 / c->recv_mean_ms); }

static bool sfu__rs_add_cluster(sfu__rs_cluster_t *out, int *n, const sfu__rs_cluster_t *c) {
  if (c->count < SFU__RS_MIN_CLUSTER || c->send_mean_ms <= 0 || c->recv_mean_ms <= 0) return false;
  out[*n] = *c;
  out[*n].send_mean_ms /= c->count;
  out[*n].recv_mean_ms /= c->count;
  out[*n].mean_size /= c->count;
  (*n)++;
  return true;
}

/* Groups the probes into clusters of similar send spacing, then takes the
 * best rate (min of send and receive) of the clusters in order up to the
 * first that failed (received much slower than sent). -1 if none;
 * *n_clusters: how many clusters were found. */
static int64_t sfu__rs_best_probe(const sfu_remb_server_t *s, int *n_clusters) {
  sfu__rs_cluster_t clusters[SFU_REMB_SERVER_MAX_PROBES], cur = {0}, *c;
  int64_t best = -1, r;
  int i, n = 0, send_delta, recv_delta;

  for (i = 1; i < s->probe_len; i++) {
    send_delta = (int)(s->probes[i].send_ms - s->probes[i - 1].send_ms);
    recv_delta = (int)(s->probes[i].recv_ms - s->probes[i - 1].recv_ms);
    if (send_delta >= 1 && recv_delta >= 1) cur.num_above_min_delta++;
    if (cur.count > 0 && fabs((double)send_delta - cur.send_mean_ms / cur.count) >= 2.5) {
      (void)sfu__rs_add_cluster(clusters, &n, &cur);
      memset(&cur, 0, sizeof(cur));
    }
    cur.send_mean_ms += send_delta;
    cur.recv_mean_ms += recv_delta;
    cur.mean_size += (double)s->probes[i].size;
    cur.count++;
  }
  (void)sfu__rs_add_cluster(clusters, &n, &cur);
  *n_clusters = n;
  for (i = 0; i < n; i++) {
    c = &clusters[i];
    if (!(c->num_above_min_delta > c->count / 2 && c->recv_mean_ms - c->send_mean_ms <= 2.0 &&
          c->send_mean_ms - c->recv_mean_ms <= 5.0))
      break;
    r = sfu__rs_send_bps(c) < sfu__rs_recv_bps(c) ? sfu__rs_send_bps(c) : sfu__rs_recv_bps(c);
    if (r > best) best = r;
  }
  return best;
}

static bool sfu__rs_process_clusters(sfu_remb_server_t *s, int64_t now_ms) {
  int n;
  int64_t best = sfu__rs_best_probe(s, &n);

  if (n == 0) {
    if (s->probe_len >= SFU_REMB_SERVER_MAX_PROBES) {
      memmove(s->probes, s->probes + 1, sizeof(s->probes[0]) * (size_t)(s->probe_len - 1));
      s->probe_len--;
    }
    return false;
  }
  if (best > 0 && (!sfu_aimd_valid(&s->aimd) || best > sfu_aimd_estimate(&s->aimd))) {
    sfu_aimd_set_estimate(&s->aimd, best, now_ms);
    return true;
  }
  if (n >= SFU__RS_EXPECTED_PROBES) s->probe_len = 0;
  return false;
}

/* ---- streams ---- */

static void sfu__rs_timeout_streams(sfu_remb_server_t *s, int64_t now_ms) {
  int i = 0;

  while (i < s->ssrc_count) {
    if (now_ms - s->ssrc_seen_ms[i] > SFU__RS_STREAM_TIMEOUT_MS) {
      s->ssrcs[i] = s->ssrcs[s->ssrc_count - 1];
      s->ssrc_seen_ms[i] = s->ssrc_seen_ms[s->ssrc_count - 1];
      s->ssrc_count--;
    } else {
      i++;
    }
  }
  if (s->ssrc_count == 0) sfu__rs_filters_reset(s);
}

static void sfu__rs_touch_ssrc(sfu_remb_server_t *s, uint32_t ssrc, int64_t now_ms) {
  int i, oldest = 0;

  for (i = 0; i < s->ssrc_count; i++) {
    if (s->ssrcs[i] == ssrc) {
      s->ssrc_seen_ms[i] = now_ms;
      return;
    }
    if (s->ssrc_seen_ms[i] < s->ssrc_seen_ms[oldest]) oldest = i;
  }
  i = s->ssrc_count < SFU_REMB_SERVER_MAX_SSRCS ? s->ssrc_count++ : oldest;
  s->ssrcs[i] = ssrc;
  s->ssrc_seen_ms[i] = now_ms;
}

size_t sfu_remb_server_ssrcs(const sfu_remb_server_t *s, uint32_t *out, size_t cap) {
  size_t i;

  for (i = 0; i < (size_t)s->ssrc_count && i < cap; i++) out[i] = s->ssrcs[i];
  return (size_t)s->ssrc_count;
}

void sfu_remb_server_set_max_incoming_bitrate(sfu_remb_server_t *s, int64_t bps) {
  s->max_incoming_bps = bps > 0 ? bps : 0;
}

static int64_t sfu__rs_cap(const sfu_remb_server_t *s, int64_t bps) {
  return s->max_incoming_bps > 0 && bps > s->max_incoming_bps ? s->max_incoming_bps : bps;
}

int64_t sfu_remb_server_estimate(const sfu_remb_server_t *s) { return sfu__rs_cap(s, s->last_bps); }

bool sfu_remb_server_on_packet(sfu_remb_server_t *s, uint32_t ssrc, uint32_t abs_send_time, size_t payload_size,
                               int64_t now_ms, int64_t *bps) {
  sfu_inter_arrival_delta_t d;
  int64_t send_us, send_ms, rate, incoming;
  uint32_t diff;
  bool update = false;

  if (abs_send_time >= (1u << 24)) return false;
  /* unwrap the 24-bit 6.18 seconds (64 s period) */
  if (!s->has_abs) {
    s->has_abs = true;
    s->abs_ext = abs_send_time;
  } else {
    diff = (abs_send_time - s->last_abs) & 0xffffffu;
    s->abs_ext += diff < 0x800000u ? (int64_t)diff : (int64_t)diff - 0x1000000;
  }
  s->last_abs = abs_send_time;
  send_us = (s->abs_ext * 1000000) >> 18;
  send_ms = send_us / 1000;

  incoming = sfu_remb_server_incoming_bps(s, now_ms);
  if (incoming >= 0) {
    s->rate_initialized = true;
  } else if (s->rate_initialized) {
    sfu__rs_rate_reset(s);
    s->rate_initialized = false;
  }
  sfu__rs_rate_update(s, payload_size, now_ms);
  if (s->first_packet_ms < 0) s->first_packet_ms = now_ms;

  sfu__rs_timeout_streams(s, now_ms);
  sfu__rs_touch_ssrc(s, ssrc, now_ms);

  if (payload_size > SFU__RS_MIN_PROBE_SIZE &&
      (!sfu_aimd_valid(&s->aimd) || now_ms - s->first_packet_ms < SFU__RS_INITIAL_PROBING_MS)) {
    if (s->total_probes < SFU_REMB_SERVER_MAX_PROBES) {
      if (s->probe_len == SFU_REMB_SERVER_MAX_PROBES) {
        memmove(s->probes, s->probes + 1, sizeof(s->probes[0]) * (SFU_REMB_SERVER_MAX_PROBES - 1));
        s->probe_len--;
      }
      s->probes[s->probe_len].send_ms = send_ms;
      s->probes[s->probe_len].recv_ms = now_ms;
      s->probes[s->probe_len].size = payload_size;
      s->probe_len++;
      s->total_probes++;
      if (sfu__rs_process_clusters(s, now_ms)) update = true;
    }
  }

  if (sfu_inter_arrival_add(&s->ia, send_us, now_ms * 1000, now_ms * 1000, payload_size, &d)) {
    sfu_overuse_estimator_update(&s->est, d.arrival_delta_ms, d.send_delta_ms, d.size_delta, s->det.state);
    {
      int n = s->est.num_deltas < 60 ? s->est.num_deltas : 60;
      sfu_overuse_detector_detect(&s->det, n * s->est.offset, s->est.offset, d.send_delta_ms, s->est.num_deltas,
                                  now_ms);
    }
  }

  if (!update) {
    if (s->last_update_ms < 0 || now_ms - s->last_update_ms > sfu_aimd_feedback_interval_ms(&s->aimd)) {
      update = true;
    } else if (s->det.state == SFU_BW_OVERUSING) {
      rate = sfu_remb_server_incoming_bps(s, now_ms);
      if (rate >= 0 && sfu_aimd_time_to_reduce_further(&s->aimd, now_ms, rate)) update = true;
    }
  }
  if (!update) return false;
  rate = sfu_aimd_update(&s->aimd, s->det.state, sfu_remb_server_incoming_bps(s, now_ms), now_ms);
  if (!sfu_aimd_valid(&s->aimd)) return false;
  s->last_update_ms = now_ms;
  s->last_bps = rate;
  *bps = sfu__rs_cap(s, rate);
  return true;
}
