#include "sfu_transport_cc.h"

#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_consumer.h"
#include "sfu_error.h"
#include "sfu_layer_allocation.h"
#include "sfu_producer.h"
#include "sfu_rtcp_feedback.h"
#include "sfu_rtcp_tcc.h"
#include "sfu_transport.h"

#define SFU__CC_TICK_MS 25
#define SFU__CC_FEEDBACK_TICKS (SFU_TCC_SERVER_INTERVAL_MS / SFU__CC_TICK_MS)
#define SFU__CC_DISTRIBUTE_TICKS (1000 / SFU__CC_TICK_MS)
#define SFU__CC_PROBE_SIZE 1200
#define SFU__CC_PROBE_MIN_CARRIED 16   /* media packets a consumer sent before it carries probes */
#define SFU__CC_PROBE_RECENT_MS 1000   /* ... the last one this recently */
#define SFU__CC_MAX_CONSUMERS 256
#define SFU__CC_DEFAULT_INITIAL_BPS 600000

static int64_t sfu__now_us(void) { return (int64_t)(uv_hrtime() / 1000u); }
static uint64_t sfu__now_ms(const sfu_transport_cc_t *cc) { return uv_now(cc->t->ctx->loop); }

static void sfu__cc_distribute(sfu_transport_cc_t *cc);
static void sfu__cc_maybe_probe(sfu_transport_cc_t *cc);

/* ---- trace events ---- */

static bool sfu__trace_on(const sfu_transport_cc_t *cc, uint8_t type) {
  return (cc->t->trace_types & (1u << type)) != 0;
}

static void sfu__trace_bwe(sfu_transport_cc_t *cc, const sfu_send_bwe_bitrates_t *br) {
  fb_builder_t *b = &cc->t->ctx->fbb;
  FBS_Transport_BweTraceInfo_start(b);
  FBS_Transport_BweTraceInfo_add_bwe_type(b, (uint8_t)cc->send_mode);
  FBS_Transport_BweTraceInfo_add_desired_bitrate(b, (uint64_t)br->desired_bps);
  FBS_Transport_BweTraceInfo_add_effective_desired_bitrate(b, (uint64_t)br->effective_desired_bps);
  FBS_Transport_BweTraceInfo_add_min_bitrate(b, (uint64_t)br->min_bps);
  FBS_Transport_BweTraceInfo_add_max_bitrate(b, (uint64_t)br->max_bps);
  FBS_Transport_BweTraceInfo_add_start_bitrate(b, (uint64_t)br->start_bps);
  FBS_Transport_BweTraceInfo_add_max_padding_bitrate(b, (uint64_t)br->max_padding_bps);
  FBS_Transport_BweTraceInfo_add_available_bitrate(b, (uint64_t)br->available_bps);
  fb_ref_t info = FBS_Transport_BweTraceInfo_end(b);
  FBS_Transport_TraceNotification_start(b);
  FBS_Transport_TraceNotification_add_type(b, FBS_Transport_TraceEventType_BWE);
  FBS_Transport_TraceNotification_add_timestamp(b, sfu__now_ms(cc));
  FBS_Transport_TraceNotification_add_direction(b, FBS_Common_TraceDirection_DIRECTION_OUT);
  FBS_Transport_TraceNotification_add_info(b, FBS_Transport_TraceInfo_BweTraceInfo, info);
  sfu_ctx_notify(cc->t->ctx, cc->t->id, FBS_Notification_Event_TRANSPORT_TRACE,
                 FBS_Notification_Body_Transport_TraceNotification, FBS_Transport_TraceNotification_end(b));
}

static void sfu__trace_probation(sfu_transport_cc_t *cc) {
  fb_builder_t *b = &cc->t->ctx->fbb;
  FBS_Transport_TraceNotification_start(b);
  FBS_Transport_TraceNotification_add_type(b, FBS_Transport_TraceEventType_PROBATION);
  FBS_Transport_TraceNotification_add_timestamp(b, sfu__now_ms(cc));
  FBS_Transport_TraceNotification_add_direction(b, FBS_Common_TraceDirection_DIRECTION_OUT);
  sfu_ctx_notify(cc->t->ctx, cc->t->id, FBS_Notification_Event_TRANSPORT_TRACE,
                 FBS_Notification_Body_Transport_TraceNotification, FBS_Transport_TraceNotification_end(b));
}

/* ---- the send-side estimator's listener ---- */

static void sfu__on_bitrates(void *arg, const sfu_send_bwe_bitrates_t *br) {
  sfu_transport_cc_t *cc = arg;
  cc->available_bps = br->available_bps;
  if (sfu__trace_on(cc, FBS_Transport_TraceEventType_BWE)) sfu__trace_bwe(cc, br);
  sfu__cc_distribute(cc);
}

static const sfu_send_bwe_listener_t sfu__bwe_listener = {.on_bitrates = sfu__on_bitrates};

/* ---- lifecycle ---- */

static void sfu__timer_closed(uv_handle_t *h) { free(h); }

static void sfu__close_timer(uv_timer_t **t) {
  if (*t == NULL) return;
  uv_timer_stop(*t);
  (*t)->data = NULL;
  uv_close((uv_handle_t *)*t, sfu__timer_closed);
  *t = NULL;
}

static uv_timer_t *sfu__new_timer(sfu_transport_cc_t *cc) {
  uv_timer_t *t = malloc(sizeof(*t));
  if (t == NULL) return NULL;
  if (uv_timer_init(cc->t->ctx->loop, t) != 0) {
    free(t);
    return NULL;
  }
  t->data = cc;
  return t;
}

int sfu_transport_cc_create(sfu_transport_t *t, sfu_transport_cc_t **out) {
  sfu_transport_cc_t *cc = calloc(1, sizeof(*cc));
  if (cc == NULL) return SFU_ENOMEM;
  cc->t = t;
  cc->recv_mode = cc->send_mode = SFU_BWE_NONE;
  sfu_probe_sender_init(&cc->prober);
  if ((cc->timer = sfu__new_timer(cc)) == NULL || (cc->probe_timer = sfu__new_timer(cc)) == NULL) {
    sfu__close_timer(&cc->timer);
    free(cc);
    return SFU_ENOMEM;
  }
  *out = cc;
  return 0;
}

void sfu_transport_cc_close(sfu_transport_cc_t *cc) {
  sfu__close_timer(&cc->timer);
  sfu__close_timer(&cc->probe_timer);
  if (cc->tcc_ready) sfu_tcc_server_destroy(&cc->tcc);
  if (cc->bwe_ready) sfu_send_bwe_destroy(&cc->bwe);
  free(cc->remb);
  free(cc);
}

static void sfu__tick(uv_timer_t *timer);

static void sfu__maybe_run_timer(sfu_transport_cc_t *cc) {
  if (cc->timer == NULL) return;
  bool want = cc->connected && (cc->recv_mode != SFU_BWE_NONE || cc->send_mode != SFU_BWE_NONE);
  bool active = uv_is_active((uv_handle_t *)cc->timer) != 0;
  if (want && !active) uv_timer_start(cc->timer, sfu__tick, SFU__CC_TICK_MS, SFU__CC_TICK_MS);
  if (!want && active) uv_timer_stop(cc->timer);
}

/* The mode a set of RTP parameters negotiated: transport-cc first, then REMB. */
static sfu_bwe_mode_t sfu__mode_of(const sfu_rtp_params_t *p) {
  uint32_t fb = 0;
  for (size_t i = 0; i < p->ncodecs; i++) fb |= p->codecs[i].rtcp_fb;
  if (p->ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_TransportWideCcDraft01] != 0 && (fb & SFU_RTCP_FB_TRANSPORT_CC))
    return SFU_BWE_TRANSPORT_CC;
  if (p->ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_AbsSendTime] != 0 && (fb & SFU_RTCP_FB_GOOG_REMB))
    return SFU_BWE_REMB;
  return SFU_BWE_NONE;
}

void sfu_transport_cc_on_producer(sfu_transport_cc_t *cc, const sfu_producer_t *p) {
  if (cc->recv_mode != SFU_BWE_NONE) return;
  cc->recv_mode = sfu__mode_of(&p->params);
  if (cc->recv_mode == SFU_BWE_TRANSPORT_CC) {
    if (sfu_tcc_server_init(&cc->tcc, 1200) != 0) {
      cc->recv_mode = SFU_BWE_NONE;
      return;
    }
    cc->tcc_ready = true;
    if (cc->t->max_incoming_bitrate != 0) sfu_tcc_server_set_max_incoming_bitrate(&cc->tcc, (int64_t)cc->t->max_incoming_bitrate);
  } else if (cc->recv_mode == SFU_BWE_REMB) {
    if ((cc->remb = malloc(sizeof(*cc->remb))) == NULL) {
      cc->recv_mode = SFU_BWE_NONE;
      return;
    }
    sfu_remb_server_init(cc->remb);
    if (cc->t->max_incoming_bitrate != 0) sfu_remb_server_set_max_incoming_bitrate(cc->remb, (int64_t)cc->t->max_incoming_bitrate);
  }
  sfu__maybe_run_timer(cc);
}

void sfu_transport_cc_on_consumer(sfu_transport_cc_t *cc, sfu_consumer_t *c) {
  uint64_t now = sfu__now_ms(cc);
  if (cc->send_mode == SFU_BWE_NONE) {
    sfu_bwe_mode_t mode = sfu__mode_of(&c->params);
    if (mode != SFU_BWE_NONE) {
      sfu_send_bwe_config_t cfg = {
          .initial_bps = cc->t->initial_available_outgoing_bitrate != 0 ? (int64_t)cc->t->initial_available_outgoing_bitrate
                                                                        : SFU__CC_DEFAULT_INITIAL_BPS,
          .min_bps = (int64_t)cc->t->min_outgoing_bitrate,
          .max_bps = (int64_t)cc->t->max_outgoing_bitrate,
      };
      if (sfu_send_bwe_init(&cc->bwe, &cfg, &sfu__bwe_listener, cc, (int64_t)now) == 0) {
        cc->bwe_ready = true;
        cc->send_mode = mode;
        if (cc->connected) sfu_send_bwe_on_connected(&cc->bwe, (int64_t)now);
        /* every consumer so far is allocated from now on */
        sfu_list_t *it;
        sfu_list_foreach(it, &cc->t->consumer_list) {
          sfu_consumer_t *o = sfu_container_of(it, sfu_consumer_t, transport_link);
          sfu_consumer_set_bwe_managed(o);
        }
      }
    }
  }
  if (cc->send_mode != SFU_BWE_NONE) sfu_consumer_set_bwe_managed(c);
  sfu__maybe_run_timer(cc);
  sfu__cc_distribute(cc);
}

void sfu_transport_cc_on_consumers_changed(sfu_transport_cc_t *cc) { sfu__cc_distribute(cc); }

void sfu_transport_cc_on_connected(sfu_transport_cc_t *cc) {
  if (cc->connected) return;
  cc->connected = true;
  if (cc->bwe_ready) sfu_send_bwe_on_connected(&cc->bwe, (int64_t)sfu__now_ms(cc));
  sfu__maybe_run_timer(cc);
  sfu__cc_maybe_probe(cc);
}

void sfu_transport_cc_on_disconnected(sfu_transport_cc_t *cc) {
  if (!cc->connected) return;
  cc->connected = false;
  if (cc->bwe_ready) sfu_send_bwe_on_disconnected(&cc->bwe, (int64_t)sfu__now_ms(cc));
  if (cc->tcc_ready) sfu_tcc_server_reset(&cc->tcc);
  sfu_probe_sender_init(&cc->prober);
  if (cc->probe_timer != NULL) uv_timer_stop(cc->probe_timer);
  sfu__maybe_run_timer(cc);
}

/* ---- receive side ---- */

static void sfu__send_remb(sfu_transport_cc_t *cc, int64_t bps, const uint32_t *ssrcs, size_t n) {
  uint8_t buf[128];
  int len = sfu_rtcp_remb_build(buf, sizeof(buf), 0, bps > 0 ? (uint64_t)bps : 0, ssrcs, n);
  if (len > 0) sfu_transport_send_rtcp(cc->t, buf, (size_t)len);
}

static void sfu__flush_feedback(sfu_transport_cc_t *cc) {
  uint8_t buf[1200];
  int len, guard = 0;
  while (guard++ < 16 && (len = sfu_tcc_server_build_feedback(&cc->tcc, buf, sizeof(buf))) > 0)
    sfu_transport_send_rtcp(cc->t, buf, (size_t)len);
}

void sfu_transport_cc_on_rtp_in(sfu_transport_cc_t *cc, const sfu_rtp_packet_t *pkt, uint64_t now_ms) {
  sfu_transport_t *t = cc->t;
  int64_t bps;
  if (cc->recv_mode == SFU_BWE_TRANSPORT_CC && t->recv_twcc_id != 0) {
    uint16_t seq;
    if (!sfu_rtp_read_twcc_seq(pkt, t->recv_twcc_id, &seq)) return;
    if (sfu_tcc_server_on_packet(&cc->tcc, seq, pkt->ssrc, sfu__now_us()) && cc->connected) sfu__flush_feedback(cc);
    if (cc->connected && sfu_tcc_server_limitation_remb(&cc->tcc, (int64_t)now_ms, &bps)) sfu__send_remb(cc, bps, NULL, 0);
  } else if (cc->recv_mode == SFU_BWE_REMB && t->recv_abs_send_time_id != 0) {
    uint32_t abs;
    if (!sfu_rtp_read_abs_send_time(pkt, t->recv_abs_send_time_id, &abs)) return;
    if (sfu_remb_server_on_packet(cc->remb, pkt->ssrc, abs, pkt->payload_len, (int64_t)now_ms, &bps) && cc->connected) {
      uint32_t ssrcs[SFU_REMB_SERVER_MAX_SSRCS];
      size_t n = sfu_remb_server_ssrcs(cc->remb, ssrcs, SFU_REMB_SERVER_MAX_SSRCS);
      cc->remb_in_bps = bps;
      sfu__send_remb(cc, bps, ssrcs, n);
    }
  }
}

/* ---- send side ---- */

void sfu_transport_cc_on_rtp_out(sfu_transport_cc_t *cc, uint16_t twcc_seq, size_t len, bool is_rtx) {
  if (!cc->bwe_ready) return;
  sfu_rate_add(&cc->sent_rate, sfu__now_ms(cc), len);
  /* every packet sent while a cluster is being paced belongs to it, its
   * probes and the media between them (libwebrtc's pacer tags them all): a
   * cluster that counted only its own packets measured what the media left
   * of the path (~300 of 600 kbit/s, taken as the estimate) */
  sfu_send_bwe_on_packet_sent(&cc->bwe, twcc_seq, len, sfu_probe_sender_cluster_id(&cc->prober), is_rtx, sfu__now_us());
}

void sfu_transport_cc_on_rtcp(sfu_transport_cc_t *cc, const sfu_rtcp_hdr_t *h) {
  if (!cc->bwe_ready) return;
  if (h->pt == SFU_RTCP_PT_RTPFB && h->count == SFU_RTCP_RTPFB_TCC) {
    sfu_rtcp_tcc_msg_t msg;
    if (cc->send_mode != SFU_BWE_TRANSPORT_CC || sfu_rtcp_tcc_read(h, &msg) != 0) return;
    sfu_send_bwe_on_feedback(&cc->bwe, &msg, sfu__now_us());
    sfu__cc_maybe_probe(cc);
  } else if (h->pt == SFU_RTCP_PT_PSFB && h->count == SFU_RTCP_PSFB_AFB) {
    sfu_rtcp_remb_t remb;
    if (cc->send_mode != SFU_BWE_REMB || sfu_rtcp_remb_parse(h, &remb) != 0) return;
    sfu_send_bwe_on_remb(&cc->bwe, remb.bitrate > INT64_MAX ? INT64_MAX : (int64_t)remb.bitrate,
                         (int64_t)sfu__now_ms(cc));
  }
}

void sfu_transport_cc_on_report(sfu_transport_cc_t *cc, const sfu_rtcp_rb_t *rb, int64_t rtt_ms) {
  if (!cc->bwe_ready || cc->send_mode != SFU_BWE_REMB) return;
  sfu_send_bwe_on_receiver_report(&cc->bwe, rb->fraction_lost, 50, rtt_ms, (int64_t)sfu__now_ms(cc));
}

/* ---- probes ---- */

static void sfu__probe_timer_cb(uv_timer_t *timer);

/* A video consumer that can send RTX probes, round robin from the last one used. */
static sfu_consumer_t *sfu__probe_consumer(sfu_transport_cc_t *cc, sfu_rtp_packet_t *pkt, uint64_t now_ms) {
  sfu_list_t *it;
  sfu_list_foreach(it, &cc->t->consumer_list) {
    sfu_consumer_t *c = sfu_container_of(it, sfu_consumer_t, transport_link);
    if (c->kind != SFU_KIND_VIDEO) continue;
    if (sfu_consumer_build_probe(c, SFU__CC_PROBE_SIZE, now_ms, pkt) == 0) return c;
  }
  return NULL;
}

/* Whether a cluster can start: some video consumer has sent enough media
 * to carry probes (RTX copies of recent packets, or padding on its RTX
 * stream). A cluster started before (the first ones are created when the
 * transport connects, before any consumer sent a packet) found nothing to
 * send and was dropped having measured nothing; it waits now, as libwebrtc's
 * prober waits for media before probing (the prober gives up after 5 s). */
static bool sfu__probe_carriers_ready(sfu_transport_cc_t *cc, uint64_t now_ms) {
  sfu_list_t *it;
  sfu_list_foreach(it, &cc->t->consumer_list) {
    sfu_consumer_t *c = sfu_container_of(it, sfu_consumer_t, transport_link);
    if (c->kind == SFU_KIND_VIDEO && c->rtx_codec != NULL && c->stream.params.has_rtx &&
        c->stream.packets >= SFU__CC_PROBE_MIN_CARRIED && now_ms - c->stream.last_ts_ms < SFU__CC_PROBE_RECENT_MS)
      return true;
  }
  return false;
}

/* Sends the probe packets that are due; arms the pacing timer for the next. */
static void sfu__probe_run(sfu_transport_cc_t *cc) {
  uint64_t now_ms = sfu__now_ms(cc);
  for (int guard = 0; guard < 64; guard++) {
    int64_t now_us = sfu__now_us();
    int64_t wait = sfu_probe_sender_time_until_next(&cc->prober, now_us);
    if (wait < 0) {
      sfu_probe_cluster_t c;
      if (!cc->bwe_ready || !sfu_send_bwe_next_probe(&cc->bwe, &c)) return;
      sfu_probe_sender_start(&cc->prober, &c, now_us);
      continue;
    }
    if (wait > 0) {
      uv_timer_start(cc->probe_timer, sfu__probe_timer_cb, (uint64_t)((wait + 999) / 1000), 0);
      return;
    }
    if (cc->prober.sent == 0 && !sfu__probe_carriers_ready(cc, now_ms)) return; /* the tick retries */
    sfu_rtp_packet_t pkt;
    sfu_consumer_t *c = sfu__probe_consumer(cc, &pkt, now_ms);
    if (c == NULL) {
      /* nothing can carry probes now: drop the cluster */
      sfu_probe_sender_init(&cc->prober);
      return;
    }
    size_t len = pkt.len;
    sfu__transport_send_consumer_rtp(cc->t, c, &pkt, true);
    cc->probation_bytes += len;
    sfu_rate_add(&cc->probation_rate, now_ms, len);
    sfu_probe_sender_on_sent(&cc->prober, len, now_us);
    if (sfu__trace_on(cc, FBS_Transport_TraceEventType_PROBATION)) sfu__trace_probation(cc);
  }
  uv_timer_start(cc->probe_timer, sfu__probe_timer_cb, 1, 0);
}

static void sfu__probe_timer_cb(uv_timer_t *timer) {
  sfu_transport_cc_t *cc = timer->data;
  if (cc == NULL || !cc->connected) return;
  sfu__probe_run(cc);
}

static void sfu__cc_maybe_probe(sfu_transport_cc_t *cc) {
  if (!cc->bwe_ready || !cc->connected || cc->probe_timer == NULL) return;
  if (uv_is_active((uv_handle_t *)cc->probe_timer)) return; /* a cluster is being paced */
  sfu__probe_run(cc);
}

/* ---- the timer ---- */

static void sfu__tick(uv_timer_t *timer) {
  sfu_transport_cc_t *cc = timer->data;
  if (cc == NULL || !cc->connected) return;
  uint64_t now = sfu__now_ms(cc);
  cc->ticks++;
  if (cc->bwe_ready) {
    sfu_send_bwe_on_timer(&cc->bwe, (int64_t)now);
    /* no padding outside probe clusters: mediasoup's pacer sends padding
     * only while probing; padding the link up to the estimate whenever the
     * consumers want more (as this did) filled a path whose estimate was
     * still falling after the path narrowed, and the queue it overran lost
     * media that was NACKed and resent into the same queue */
    sfu__cc_maybe_probe(cc);
  }
  if (cc->tcc_ready && cc->ticks % SFU__CC_FEEDBACK_TICKS == 0) sfu__flush_feedback(cc);
  if (cc->bwe_ready && cc->ticks % SFU__CC_DISTRIBUTE_TICKS == 0) sfu__cc_distribute(cc);
}

/* ---- distribution (mediasoup's Transport::DistributeAvailableOutgoingBitrate) ---- */

static void sfu__cc_distribute(sfu_transport_cc_t *cc) {
  sfu_consumer_t *order[SFU__CC_MAX_CONSUMERS];
  size_t n = 0;
  sfu_list_t *it;
  if (!cc->bwe_ready || cc->distributing) return;
  cc->distributing = true;
  uint64_t now = sfu__now_ms(cc);
  /* audio first, then by priority (highest first), creation order otherwise */
  for (int pass = 0; pass < 2; pass++) {
    sfu_list_foreach(it, &cc->t->consumer_list) {
      sfu_consumer_t *c = sfu_container_of(it, sfu_consumer_t, transport_link);
      if ((c->kind == SFU_KIND_AUDIO) != (pass == 0) || n == SFU__CC_MAX_CONSUMERS) continue;
      size_t j = n++;
      while (pass == 1 && j > 0 && order[j - 1]->kind == SFU_KIND_VIDEO && order[j - 1]->priority < c->priority) {
        order[j] = order[j - 1];
        j--;
      }
      order[j] = c;
    }
  }
  for (size_t i = 0; i < n; i++) sfu_consumer_start_allocation(order[i]);
  int64_t avail = sfu_send_bwe_available_bitrate(&cc->bwe);
  uint32_t left = avail <= 0 ? 0 : avail > UINT32_MAX ? UINT32_MAX : (uint32_t)avail;
  bool base = true;
  for (int round = 0; round < 64; round++) {
    bool moved = false;
    for (size_t i = 0; i < n; i++) {
      /* a consumer of priority p gets p tries per round */
      for (unsigned k = 0; k < order[i]->priority; k++) {
        int16_t before_s = order[i]->provisional_spatial, before_t = order[i]->provisional_temporal;
        bool had = order[i]->provisional_allocated;
        uint32_t used = sfu_consumer_increase_layer(order[i], left, base, now);
        left -= used < left ? used : left;
        /* a move of either layer (or a flat stream taken) keeps the rounds going */
        if (order[i]->provisional_spatial != before_s || order[i]->provisional_temporal != before_t ||
            order[i]->provisional_allocated != had)
          moved = true;
        else
          break;
      }
    }
    base = false;
    if (!moved) break;
  }
  uint64_t desired = 0;
  for (size_t i = 0; i < n; i++) {
    sfu_consumer_apply_layers(order[i], now);
    desired += sfu_consumer_desired_bitrate(order[i], now);
  }
  cc->desired_bps = (int64_t)desired;
  sfu_send_bwe_set_desired_bitrate(&cc->bwe, (int64_t)desired, false, (int64_t)now);
  /* limited also when the estimate covers what they want but not with the
   * headroom a layer switch up needs: probing is how that room is found */
  sfu_send_bwe_set_allocation_limited(&cc->bwe, (double)cc->desired_bps > SFU_LAYERS_UP_HEADROOM * (double)avail,
                                      (int64_t)now);
  cc->distributing = false;
}

/* ---- limits and stats ---- */

void sfu_transport_cc_set_max_incoming(sfu_transport_cc_t *cc, uint64_t bps) {
  int64_t now = (int64_t)sfu__now_ms(cc), r;
  if (cc->recv_mode == SFU_BWE_TRANSPORT_CC) {
    sfu_tcc_server_set_max_incoming_bitrate(&cc->tcc, (int64_t)bps);
    if (cc->connected && sfu_tcc_server_limitation_remb(&cc->tcc, now, &r)) sfu__send_remb(cc, r, NULL, 0);
  } else if (cc->recv_mode == SFU_BWE_REMB) {
    sfu_remb_server_set_max_incoming_bitrate(cc->remb, (int64_t)bps);
  }
}

void sfu_transport_cc_set_max_outgoing(sfu_transport_cc_t *cc, uint64_t bps) {
  if (cc->bwe_ready) sfu_send_bwe_set_max_outgoing(&cc->bwe, (int64_t)bps, (int64_t)sfu__now_ms(cc));
}

void sfu_transport_cc_set_min_outgoing(sfu_transport_cc_t *cc, uint64_t bps) {
  if (cc->bwe_ready) sfu_send_bwe_set_min_outgoing(&cc->bwe, (int64_t)bps, (int64_t)sfu__now_ms(cc));
}

bool sfu_transport_cc_may_retransmit(sfu_transport_cc_t *cc, size_t len) {
  if (!cc->bwe_ready) return true;
  uint64_t now = sfu__now_ms(cc);
  int64_t max = sfu_send_bwe_available_bitrate(&cc->bwe);
  if ((int64_t)sfu_rate_bps(&cc->retransmit_rate, now) + (int64_t)len * 8 > max) return false;
  sfu_rate_add(&cc->retransmit_rate, now, len);
  return true;
}

uint64_t sfu_transport_cc_available_outgoing(const sfu_transport_cc_t *cc) {
  if (!cc->bwe_ready) return 0;
  int64_t v = sfu_send_bwe_available_bitrate(&cc->bwe);
  return v > 0 ? (uint64_t)v : 0;
}

uint64_t sfu_transport_cc_available_incoming(const sfu_transport_cc_t *cc) {
  if (cc->recv_mode != SFU_BWE_REMB) return 0;
  int64_t v = sfu_remb_server_estimate(cc->remb);
  return v > 0 ? (uint64_t)v : 0;
}

double sfu_transport_cc_loss_sent(const sfu_transport_cc_t *cc) {
  return cc->bwe_ready ? sfu_send_bwe_packet_loss(&cc->bwe) : -1;
}

double sfu_transport_cc_loss_received(const sfu_transport_cc_t *cc) {
  return cc->tcc_ready ? sfu_tcc_server_packet_loss(&cc->tcc) : -1;
}
