#include "sfu_send_bwe.h"

#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"

#define SFU__SB_MASK(b) ((int64_t)(b)->hist_cap - 1)
#define SFU__SB_SENT 0
#define SFU__SB_LOST 1
#define SFU__SB_ACKED 2
#define SFU__SB_LOSS_UPDATE_US 1000000
#define SFU__SB_MAX_BITRATE_MARGIN 0.1
#define SFU__SB_MAX_BITRATE_INCREMENT 1.35
#define SFU__SB_MAX_PADDING_FACTOR 0.85
#define SFU__SB_EVENT_INTERVAL_MS 1000
#define SFU__SB_TREND_DECREASE 0.05 /* per second */
#define SFU__SB_CONGESTED_LOSS 0.1  /* of a feedback's packets: an overuse is the path's, not ALR's */

static int64_t sfu__sb_max64(int64_t a, int64_t b) { return a > b ? a : b; }

static int64_t sfu__sb_min_bps(const sfu_send_bwe_t *b) {
  return sfu__sb_max64(b->cfg.min_bps, SFU_BWE_MEDIASOUP_MIN_BITRATE);
}

/* ---- probe clusters ---- */

static void sfu__sb_queue_probes(sfu_send_bwe_t *b, const sfu_probe_list_t *l) {
  int i;

  for (i = 0; i < l->n; i++) {
    b->clusters[b->cluster_pos] = l->c[i];
    b->cluster_pos = (b->cluster_pos + 1) % SFU_SEND_BWE_PROBE_QUEUE;
    if (b->queue_len < SFU_SEND_BWE_PROBE_QUEUE) {
      b->queue[(b->queue_head + b->queue_len) % SFU_SEND_BWE_PROBE_QUEUE] = l->c[i];
      b->queue_len++;
    }
    if (b->listener != NULL && b->listener->on_probe_cluster != NULL) b->listener->on_probe_cluster(b->arg, &l->c[i]);
  }
}

static const sfu_probe_cluster_t *sfu__sb_cluster(const sfu_send_bwe_t *b, int id) {
  int i;

  for (i = 0; i < SFU_SEND_BWE_PROBE_QUEUE; i++)
    if (b->clusters[i].id == id && id > 0) return &b->clusters[i];
  return NULL;
}

bool sfu_send_bwe_next_probe(sfu_send_bwe_t *b, sfu_probe_cluster_t *c) {
  if (b->queue_len == 0) return false;
  *c = b->queue[b->queue_head];
  b->queue_head = (b->queue_head + 1) % SFU_SEND_BWE_PROBE_QUEUE;
  b->queue_len--;
  return true;
}

/* ---- mediasoup's available bitrate event ---- */

static void sfu__sb_may_emit(sfu_send_bwe_t *b, int64_t prev_bps, int64_t now_ms) {
  bool notify = false;
  int64_t avail = b->bitrates.available_bps;

  if (b->last_event_ms == INT64_MIN) { /* the first one happens inside the constructor in mediasoup */
    b->last_event_ms = now_ms;
    return;
  }
  if (!b->event_called) {
    b->event_called = true;
    notify = true;
  } else if (now_ms - b->last_event_ms >= SFU__SB_EVENT_INTERVAL_MS) {
    notify = true;
  } else if ((double)avail < (double)prev_bps * 0.75) {
    notify = true;
  } else if ((double)avail > (double)prev_bps * 1.50) {
    notify = true;
  }
  if (!notify) return;
  b->last_event_ms = now_ms;
  if (b->listener != NULL && b->listener->on_bitrates != NULL) b->listener->on_bitrates(b->arg, &b->bitrates);
}

/* GoogCC's MaybeTriggerOnNetworkChanged + mediasoup's OnTargetTransferRate. */
static void sfu__sb_maybe_trigger(sfu_send_bwe_t *b, int64_t now_ms) {
  int64_t bps = sfu_loss_bwe_estimate(&b->loss), prev;
  uint8_t fl = sfu_loss_bwe_fraction_loss(&b->loss);
  sfu_probe_list_t pl = {0};

  if (bps == b->last_target_bps && fl == b->last_fraction_loss && b->loss.rtt_ms == b->last_rtt_ms) return;
  b->last_target_bps = bps;
  b->last_fraction_loss = fl;
  b->last_rtt_ms = b->loss.rtt_ms;
  sfu_alr_detector_set_estimate(&b->alr, bps);
  sfu_probe_controller_set_estimate(&b->probes, bps, now_ms, &pl);
  sfu__sb_queue_probes(b, &pl);
  prev = b->bitrates.available_bps;
  b->bitrates.available_bps = bps;
  sfu__sb_may_emit(b, prev, now_ms);
}

/* GoogCC's ResetConstraints. */
static void sfu__sb_reset_constraints(sfu_send_bwe_t *b, int64_t min_bps, int64_t start_bps, int64_t max_bps,
                                      int64_t now_ms) {
  sfu_probe_list_t pl = {0};

  if (max_bps > 0 && max_bps < min_bps) max_bps = min_bps;
  if (start_bps > 0 && start_bps < min_bps) start_bps = min_bps;
  sfu_loss_bwe_set_bitrates(&b->loss, start_bps, min_bps, max_bps, now_ms);
  if (start_bps > 0) sfu_aimd_set_start(&b->delay.aimd, start_bps);
  sfu_aimd_set_min(&b->delay.aimd, min_bps);
  sfu_probe_controller_set_bitrates(&b->probes, min_bps, start_bps, max_bps, now_ms, &pl);
  sfu__sb_queue_probes(b, &pl);
  sfu__sb_maybe_trigger(b, now_ms);
}

/* mediasoup's ApplyBitrateUpdates: the max from the desired trend, then
 * what the controller gets: the allocation limits (a new max total
 * allocated rate may start allocation probes) and the constraints (applied
 * when min or max changed, with the start rate when that changed: what
 * libwebrtc's RtpBitrateConfigurator and OnStreamsConfig pass on). */
static void sfu__sb_apply(sfu_send_bwe_t *b, bool new_start, int64_t now_ms) {
  int64_t cur_max = b->bitrates.max_bps, new_max, start = -1;
  double margin;
  sfu_probe_list_t pl = {0};

  if (b->trend_value > 0) {
    new_max = sfu__sb_max64(b->cfg.initial_bps, (int64_t)((double)b->trend_value * SFU__SB_MAX_BITRATE_INCREMENT));
    margin = (double)new_max * SFU__SB_MAX_BITRATE_MARGIN;
    if ((double)cur_max > (double)new_max - margin && (double)cur_max < (double)new_max + margin) new_max = cur_max;
  } else {
    new_max = b->cfg.initial_bps;
  }
  if (b->cfg.max_bps > 0 && new_max > b->cfg.max_bps) new_max = b->cfg.max_bps;
  if (new_max != cur_max) {
    b->bitrates.max_padding_bps = (int64_t)((double)new_max * SFU__SB_MAX_PADDING_FACTOR);
    b->bitrates.max_bps = new_max;
  }
  b->bitrates.min_bps = sfu__sb_min_bps(b);
  if (!b->started) return;
  if (b->bitrates.max_bps != b->applied_alloc_bps) {
    b->applied_alloc_bps = b->bitrates.max_bps;
    sfu_probe_controller_on_max_total_allocated(&b->probes, b->bitrates.max_bps, now_ms, &pl);
    sfu__sb_queue_probes(b, &pl);
  }
  if (new_start && b->bitrates.start_bps != b->last_start_bps) start = b->last_start_bps = b->bitrates.start_bps;
  if (start < 0 && b->bitrates.min_bps == b->applied_min_bps && b->bitrates.max_bps == b->applied_max_bps) return;
  b->applied_min_bps = b->bitrates.min_bps;
  b->applied_max_bps = b->bitrates.max_bps;
  sfu__sb_reset_constraints(b, b->bitrates.min_bps, start, b->bitrates.max_bps, now_ms);
}

/* ---- lifetime ---- */

int sfu_send_bwe_init(sfu_send_bwe_t *b, const sfu_send_bwe_config_t *cfg, const sfu_send_bwe_listener_t *listener,
                      void *arg, int64_t now_ms) {
  size_t i;

  memset(b, 0, sizeof(*b));
  if (cfg->initial_bps < 0 || cfg->min_bps < 0 || cfg->max_bps < 0) return SFU_EINVAL;
  if (cfg->max_bps > 0 && cfg->min_bps > cfg->max_bps) return SFU_EINVAL;
  b->hist = malloc(sizeof(*b->hist) * SFU_SEND_BWE_HISTORY_MIN);
  b->results = malloc(sizeof(*b->results) * SFU_SEND_BWE_HISTORY_MIN);
  if (b->hist == NULL || b->results == NULL) {
    free(b->hist);
    free(b->results);
    b->hist = NULL;
    b->results = NULL;
    return SFU_ENOMEM;
  }
  b->hist_cap = SFU_SEND_BWE_HISTORY_MIN;
  for (i = 0; i < b->hist_cap; i++) b->hist[i].ext_seq = -1;
  b->cfg = *cfg;
  b->cfg.initial_bps = sfu__sb_max64(cfg->initial_bps, SFU_BWE_MEDIASOUP_MIN_BITRATE);
  b->listener = listener;
  b->arg = arg;
  b->last_sent_ext = -1;
  b->last_ref = INT64_MIN;
  sfu_delay_bwe_init(&b->delay);
  sfu_ack_bitrate_init(&b->ack);
  sfu_loss_bwe_init(&b->loss);
  sfu_alr_detector_init(&b->alr);
  sfu_probe_controller_init(&b->probes, now_ms);
  sfu_probe_estimator_init(&b->probe_est);
  b->next_loss_update_us = INT64_MIN;
  b->last_event_ms = INT64_MIN;
  b->bitrates.available_bps = b->cfg.initial_bps;
  b->bitrates.start_bps = b->cfg.initial_bps;
  b->bitrates.min_bps = sfu__sb_min_bps(b);
  b->bitrates.max_bps = b->cfg.max_bps > 0 && b->cfg.max_bps < b->cfg.initial_bps ? b->cfg.max_bps : b->cfg.initial_bps;
  b->bitrates.max_padding_bps = (int64_t)((double)b->bitrates.max_bps * SFU__SB_MAX_PADDING_FACTOR);
  b->last_target_bps = -1;
  return 0;
}

void sfu_send_bwe_destroy(sfu_send_bwe_t *b) {
  free(b->hist);
  free(b->results);
  b->hist = NULL;
  b->results = NULL;
}

void sfu_send_bwe_on_connected(sfu_send_bwe_t *b, int64_t now_ms) {
  sfu_probe_list_t pl = {0};

  b->connected = true;
  if (!b->started) {
    /* the controller's initial constraints: start at the initial rate,
     * bounded by maxOutgoingBitrate only (mediasoup creates it so) */
    b->started = true;
    b->last_start_bps = b->cfg.initial_bps;
    b->applied_min_bps = sfu__sb_min_bps(b);
    b->applied_max_bps = b->cfg.max_bps;
    sfu__sb_reset_constraints(b, b->applied_min_bps, b->cfg.initial_bps, b->cfg.max_bps, now_ms);
    /* then a desired bitrate the transport set before (mediasoup would wait
     * for its next call) */
    if (b->trend_value > 0) sfu__sb_apply(b, false, now_ms);
    sfu__sb_may_emit(b, b->bitrates.available_bps, now_ms);
    return;
  }
  sfu_probe_controller_on_network_available(&b->probes, true, now_ms, &pl);
  sfu__sb_queue_probes(b, &pl);
}

void sfu_send_bwe_on_disconnected(sfu_send_bwe_t *b, int64_t now_ms) {
  sfu_probe_list_t pl = {0};

  b->connected = false;
  b->bitrates.desired_bps = 0;
  b->bitrates.effective_desired_bps = 0;
  b->trend_value = b->trend_highest = 0;
  b->trend_highest_ms = now_ms;
  sfu_probe_controller_on_network_available(&b->probes, false, now_ms, &pl);
  sfu__sb_queue_probes(b, &pl);
}

/* ---- sending ---- */

/* Doubles the history, keeping every remembered packet; false: no memory
 * (the ring stays as it is and the oldest packet is forgotten). */
static bool sfu__sb_grow(sfu_send_bwe_t *b) {
  size_t cap = b->hist_cap * 2, i;
  sfu__sent_pkt_t *h = malloc(sizeof(*h) * cap);
  sfu__pkt_result_t *r = malloc(sizeof(*r) * cap);

  if (h == NULL || r == NULL) {
    free(h);
    free(r);
    return false;
  }
  for (i = 0; i < cap; i++) h[i].ext_seq = -1;
  for (i = 0; i < b->hist_cap; i++)
    if (b->hist[i].ext_seq >= 0) h[b->hist[i].ext_seq & (int64_t)(cap - 1)] = b->hist[i];
  free(b->hist);
  free(b->results);
  b->hist = h;
  b->results = r;
  b->hist_cap = cap;
  return true;
}

void sfu_send_bwe_on_packet_sent(sfu_send_bwe_t *b, uint16_t transport_seq, size_t size, int probe_cluster_id,
                                 bool is_rtx, int64_t now_us) {
  sfu__sent_pkt_t *p;
  int64_t ext;

  if (b->last_sent_ext < 0) ext = transport_seq;
  else ext = b->last_sent_ext + (int16_t)(uint16_t)(transport_seq - (uint16_t)b->last_sent_ext);
  if (ext < 0) return; /* before the first packet: nothing to learn */
  if (ext > b->last_sent_ext) b->last_sent_ext = ext;
  p = &b->hist[ext & SFU__SB_MASK(b)];
  if (p->ext_seq >= 0 && p->ext_seq != ext && p->state == SFU__SB_SENT && now_us - p->send_us < SFU_SEND_BWE_GROW_AGE_US &&
      b->hist_cap < SFU_SEND_BWE_HISTORY && sfu__sb_grow(b))
    p = &b->hist[ext & SFU__SB_MASK(b)];
  p->ext_seq = ext;
  p->send_us = now_us;
  p->size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
  p->cluster_id = probe_cluster_id > 0 ? probe_cluster_id : -1;
  p->state = SFU__SB_SENT;
  p->is_rtx = is_rtx;
  /* a probe cluster's packets are not what the application would send: a
   * cluster at twice the estimate would end application-limited mode by
   * itself, and the overuse it may cause would then back off from the
   * (application-limited) acknowledged rate instead of the target */
  if (probe_cluster_id <= 0) sfu_alr_detector_on_bytes_sent(&b->alr, size, now_us / 1000);
  sfu_ack_bitrate_set_alr(&b->ack, sfu_alr_detector_in_alr(&b->alr, NULL));
}

/* ---- feedback ---- */

static int sfu__sb_cmp_arrival(const void *x, const void *y) {
  const sfu__pkt_result_t *a = x, *c = y;

  if (a->arrival_us != c->arrival_us) return a->arrival_us < c->arrival_us ? -1 : 1;
  return a->ext_seq < c->ext_seq ? -1 : a->ext_seq > c->ext_seq;
}

static void sfu__sb_update_packet_loss(sfu_send_bwe_t *b, double loss) {
  double total = 0;
  size_t w = 0, samples = 0;
  int i;

  if (b->loss_len == SFU_SEND_BWE_LOSS_HISTORY) {
    memmove(b->loss_hist, b->loss_hist + 1, sizeof(b->loss_hist[0]) * (SFU_SEND_BWE_LOSS_HISTORY - 1));
    b->loss_len--;
  }
  b->loss_hist[b->loss_len++] = loss;
  for (i = 0; i < b->loss_len; i++) {
    w++;
    samples += w;
    total += (double)w * b->loss_hist[i];
  }
  b->packet_loss = total / (double)samples;
}

void sfu_send_bwe_on_feedback(sfu_send_bwe_t *b, const sfu_rtcp_tcc_msg_t *msg, int64_t now_us) {
  sfu_rtcp_tcc_iter_t it;
  sfu_rtcp_tcc_pkt_t pkt;
  sfu__sent_pkt_t *s;
  sfu__pkt_result_t *r;
  const sfu_probe_cluster_t *cl;
  sfu_delay_bwe_result_t dr;
  sfu_probe_list_t pl = {0};
  int64_t now_ms = now_us / 1000, ref, base_local, ext, max_recv = INT64_MIN, rtt, pending, max_rtt = INT64_MIN;
  int64_t min_rtt = INT64_MAX, acked, probe_bps, alr_start = 0, sum;
  size_t n = 0, i;
  int expected = 0, lost = 0, msg_lost = 0, probe_id = -1;
  sfu_bw_usage_t prev_state;
  bool recovered = false, in_alr;

  if (!b->started || b->last_sent_ext < 0) return;
  ref = sfu_rtcp_tcc_unwrap_ref(msg->tcc.reference_time, b->last_ref);
  if (b->last_ref == INT64_MIN) b->clock_offset_us = now_us - ref * SFU_RTCP_TCC_REF_US;
  b->last_ref = ref;
  /* iterator arrival = reference_time x 64 ms + deltas: move onto our clock */
  base_local = (ref - msg->tcc.reference_time) * SFU_RTCP_TCC_REF_US + b->clock_offset_us;

  sfu_rtcp_tcc_iter_init(&it, msg);
  while (sfu_rtcp_tcc_iter_next(&it, &pkt) == 1) {
    if (!pkt.received) msg_lost++;
    ext = b->last_sent_ext + (int16_t)(uint16_t)(pkt.seq - (uint16_t)b->last_sent_ext);
    if (ext < 0) continue;
    s = &b->hist[ext & SFU__SB_MASK(b)];
    if (s->ext_seq != ext) continue; /* never sent, or forgotten */
    if (pkt.received) {
      if (s->state == SFU__SB_ACKED) continue; /* reported again */
      if (s->state == SFU__SB_SENT) expected++;
      s->state = SFU__SB_ACKED;
      r = &b->results[n++];
      r->ext_seq = ext;
      r->send_us = s->send_us;
      r->arrival_us = pkt.arrival_us + base_local;
      r->size = s->size;
      r->cluster_id = s->cluster_id;
    } else if (s->state == SFU__SB_SENT) {
      expected++;
      lost++;
      s->state = SFU__SB_LOST;
    }
  }
  sfu__sb_update_packet_loss(b, (double)msg_lost / (double)msg->tcc.status_count);
  if (n == 0 && expected == 0) return;
  qsort(b->results, n, sizeof(*b->results), sfu__sb_cmp_arrival);

  /* round trip: the largest feedback delay, and the smallest after taking out
   * the time a packet waited at the receiver for the feedback */
  for (i = 0; i < n; i++)
    if (b->results[i].arrival_us > max_recv) max_recv = b->results[i].arrival_us;
  for (i = 0; i < n; i++) {
    rtt = now_us - b->results[i].send_us;
    pending = max_recv - b->results[i].arrival_us;
    if (rtt > max_rtt) max_rtt = rtt;
    if (rtt - pending < min_rtt) min_rtt = rtt - pending;
  }
  if (n > 0) {
    b->rtts[b->rtt_pos] = max_rtt / 1000;
    b->rtt_pos = (b->rtt_pos + 1) % SFU_SEND_BWE_RTT_WINDOW;
    if (b->rtt_len < SFU_SEND_BWE_RTT_WINDOW) b->rtt_len++;
    for (sum = 0, i = 0; i < (size_t)b->rtt_len; i++) sum += b->rtts[i];
    sfu_aimd_set_rtt(&b->delay.aimd, sum / b->rtt_len);
    sfu_loss_bwe_update_rtt(&b->loss, min_rtt / 1000, now_ms);
  }

  /* loss, reported once a second */
  b->expected_since_update += expected;
  b->lost_since_update += lost;
  if (b->next_loss_update_us == INT64_MIN || now_us > b->next_loss_update_us) {
    b->next_loss_update_us = now_us + SFU__SB_LOSS_UPDATE_US;
    sfu_loss_bwe_update_packets_lost(&b->loss, b->lost_since_update, b->expected_since_update, now_ms);
    b->expected_since_update = 0;
    b->lost_since_update = 0;
  }

  in_alr = sfu_alr_detector_in_alr(&b->alr, &alr_start);
  if (b->previously_in_alr && !in_alr) {
    sfu_ack_bitrate_set_alr_ended(&b->ack, now_ms);
    sfu_probe_controller_set_alr_end(&b->probes, now_ms);
  }
  b->previously_in_alr = in_alr;

  for (i = 0; i < n; i++) {
    r = &b->results[i];
    sfu_ack_bitrate_on_packet(&b->ack, r->send_us / 1000, r->arrival_us / 1000, r->size);
  }
  acked = sfu_ack_bitrate_bps(&b->ack);
  for (i = 0; i < n; i++) {
    r = &b->results[i];
    if (r->cluster_id < 0) continue;
    cl = sfu__sb_cluster(b, r->cluster_id);
    if (sfu_probe_estimator_on_packet(&b->probe_est, r->cluster_id, cl != NULL ? cl->min_probes : 0,
                                      cl != NULL ? cl->min_bytes : 0, r->send_us, r->arrival_us, r->size) >= 0)
      probe_id = r->cluster_id;
  }
  probe_bps = sfu_probe_estimator_fetch(&b->probe_est);
  if (probe_bps >= 0 && b->listener != NULL && b->listener->on_probe_result != NULL)
    b->listener->on_probe_result(b->arg, probe_id, probe_bps);
  sfu_loss_bwe_set_acked(&b->loss, acked);

  if (n == 0) { /* only losses: the delay-based part has nothing to do */
    sfu__sb_maybe_trigger(b, now_ms);
    return;
  }
  prev_state = sfu_delay_bwe_state(&b->delay);
  for (i = 0; i < n; i++) {
    r = &b->results[i];
    sfu_delay_bwe_on_packet(&b->delay, r->send_us, r->arrival_us, r->size, now_ms);
    if (prev_state == SFU_BW_UNDERUSING && sfu_delay_bwe_state(&b->delay) == SFU_BW_NORMAL) recovered = true;
    prev_state = sfu_delay_bwe_state(&b->delay);
  }
  /* Application limited, an overuse backs off from the last target (the
   * acknowledged rate is only what the encoders had): unless this feedback
   * also lost a tenth of its packets. Then the path carries less than we
   * send, the acknowledged rate is what it carries, and backing off by 0.85
   * a round trip from an estimate several times too high keeps its queue
   * full and dropping for seconds (a path that just narrowed). */
  bool limited = in_alr && !(msg->tcc.status_count > 0 &&
                              (double)msg_lost >= SFU__SB_CONGESTED_LOSS * (double)msg->tcc.status_count);
  sfu_delay_bwe_update(&b->delay, acked, probe_bps, recovered, limited, now_ms, &dr);
  if (dr.updated) {
    if (dr.probe) sfu_loss_bwe_set_send_bitrate(&b->loss, dr.target_bps, now_ms);
    sfu_loss_bwe_update_delay_based(&b->loss, dr.target_bps, now_ms);
  }
  sfu__sb_maybe_trigger(b, now_ms);
  if (dr.recovered_from_overuse) {
    sfu_probe_controller_set_alr_start(&b->probes, in_alr, alr_start);
    sfu_probe_controller_request_probe(&b->probes, now_ms, &pl);
    sfu__sb_queue_probes(b, &pl);
  }
}

void sfu_send_bwe_on_timer(sfu_send_bwe_t *b, int64_t now_ms) {
  sfu_probe_list_t pl = {0};
  int64_t start = 0;
  bool in_alr;

  if (!b->started) return;
  sfu_loss_bwe_update_estimate(&b->loss, now_ms);
  in_alr = sfu_alr_detector_in_alr_at(&b->alr, now_ms, &start);
  sfu_probe_controller_set_alr_start(&b->probes, in_alr, start);
  sfu_probe_controller_process(&b->probes, now_ms, &pl);
  sfu__sb_queue_probes(b, &pl);
  sfu__sb_maybe_trigger(b, now_ms);
  sfu__sb_may_emit(b, b->bitrates.available_bps, now_ms);
}

void sfu_send_bwe_on_remb(sfu_send_bwe_t *b, int64_t bps, int64_t now_ms) {
  if (!b->started) return;
  sfu_loss_bwe_update_remb(&b->loss, bps, now_ms);
  sfu__sb_maybe_trigger(b, now_ms);
}

void sfu_send_bwe_on_receiver_report(sfu_send_bwe_t *b, uint8_t fraction_lost, int num_packets, int64_t rtt_ms,
                                     int64_t now_ms) {
  if (!b->started) return;
  sfu_aimd_set_rtt(&b->delay.aimd, rtt_ms);
  sfu_loss_bwe_update_receiver_block(&b->loss, fraction_lost, rtt_ms, num_packets, now_ms);
  sfu__sb_maybe_trigger(b, now_ms);
}

/* ---- mediasoup's layer ---- */

void sfu_send_bwe_set_desired_bitrate(sfu_send_bwe_t *b, int64_t bps, bool force, int64_t now_ms) {
  int64_t sub, floor_v;

  if (bps < 0) bps = 0;
  if (force || b->trend_value == 0 || bps >= b->trend_value) {
    b->trend_value = b->trend_highest = bps;
    b->trend_highest_ms = now_ms;
  } else {
    sub = (int64_t)((double)b->trend_highest * SFU__SB_TREND_DECREASE * (double)(now_ms - b->trend_highest_ms) / 1000.0);
    floor_v = b->trend_highest > sub ? b->trend_highest - sub : bps;
    b->trend_value = bps > floor_v ? bps : floor_v;
  }
  b->bitrates.desired_bps = bps;
  b->bitrates.effective_desired_bps = b->trend_value;
  b->bitrates.start_bps = sfu__sb_max64(SFU_BWE_MEDIASOUP_MIN_BITRATE, b->bitrates.available_bps);
  sfu__sb_apply(b, true, now_ms);
}

void sfu_send_bwe_set_max_outgoing(sfu_send_bwe_t *b, int64_t bps, int64_t now_ms) {
  b->cfg.max_bps = bps > 0 ? bps : 0;
  sfu__sb_apply(b, false, now_ms);
  if (b->cfg.max_bps > 0 && b->bitrates.available_bps > b->cfg.max_bps) b->bitrates.available_bps = b->cfg.max_bps;
}

void sfu_send_bwe_set_min_outgoing(sfu_send_bwe_t *b, int64_t bps, int64_t now_ms) {
  b->cfg.min_bps = bps > 0 ? bps : 0;
  sfu__sb_apply(b, false, now_ms);
}

void sfu_send_bwe_set_allocation_limited(sfu_send_bwe_t *b, bool limited, int64_t now_ms) {
  sfu_probe_controller_set_allocation_limited(&b->probes, limited, now_ms);
}

int64_t sfu_send_bwe_available_bitrate(const sfu_send_bwe_t *b) { return b->bitrates.available_bps; }
void sfu_send_bwe_get_bitrates(const sfu_send_bwe_t *b, sfu_send_bwe_bitrates_t *out) { *out = b->bitrates; }
double sfu_send_bwe_packet_loss(const sfu_send_bwe_t *b) { return b->packet_loss; }
sfu_bw_usage_t sfu_send_bwe_delay_state(const sfu_send_bwe_t *b) { return sfu_delay_bwe_state(&b->delay); }
