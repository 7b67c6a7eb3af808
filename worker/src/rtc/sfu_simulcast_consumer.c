/* Simulcast consumer (mediasoup's SimulcastConsumer): forwards one of the
 * producer's encodings at a time under one SSRC and switches on a key frame
 * of the new encoding (asking for one), with sequence numbers, timestamps
 * and picture ids kept continuous across the switch; within the encoding,
 * VP8/VP9 temporal layers above the target are dropped (sfu_vpx_layers).
 * The layers it aims at are the ones bandwidth allocation chose
 * (sfu_layer_allocation, when its transport estimates the bandwidth), else
 * the highest flowing encoding at or below the preferred spatial layer with
 * the preferred temporal layer; until the new encoding's key frame comes,
 * the current one goes on, so a switch freezes nothing that still flows. */
#include "sfu_consumer_ops.h"
#include "sfu_layer_allocation.h"

static sfu_rtp_stream_t *sfu__encoding(const sfu_consumer_t *c, int16_t s) {
  if (s < 0 || s >= (int16_t)c->nsources) return NULL;
  return sfu__consumer_source_stream(c, c->source_ssrcs[s]);
}

static int16_t sfu__spatial_count(const sfu_consumer_t *c) { return (int16_t)c->nsources; }

static int16_t sfu__max_temporal(const sfu_consumer_t *c, int16_t s) {
  sfu_rtp_stream_t *st = sfu__encoding(c, s);
  return st != NULL && st->has_tl ? st->max_tid : -1;
}

static uint32_t sfu__bitrate(const sfu_consumer_t *c, int16_t s, int16_t t, uint64_t now_ms) {
  sfu_rtp_stream_t *st = sfu__encoding(c, s);
  uint64_t bps = 0;
  if (st == NULL || !sfu_rtp_stream_flowing(st, now_ms)) return 0;
  if (t < 0 || !st->has_tl)
    bps = sfu_rate_bps(&st->rate, now_ms);
  else
    for (int16_t i = 0; i <= t && i < SFU_RTP_STREAM_MAX_TL; i++) bps += sfu_rate_bps(&st->layer_rate[0][i], now_ms);
  return bps > UINT32_MAX ? UINT32_MAX : (uint32_t)bps;
}

/* Highest flowing encoding at or below the preferred spatial layer, else the lowest one that exists. */
static int16_t sfu__pick_target(const sfu_consumer_t *c, uint64_t now_ms) {
  int16_t best = -1, any = -1;
  for (int16_t i = 0; i < (int16_t)c->nsources && i <= c->preferred_spatial; i++) {
    sfu_rtp_stream_t *s = sfu__encoding(c, i);
    if (s == NULL) continue;
    if (any < 0) any = i;
    if (sfu_rtp_stream_flowing(s, now_ms)) best = i;
  }
  return best >= 0 ? best : any;
}

static uint64_t sfu__active_ms(const sfu_consumer_t *c, int16_t s, uint64_t now_ms) {
  sfu_rtp_stream_t *st = sfu__encoding(c, s);
  return st != NULL ? sfu_rtp_stream_active_ms(st, now_ms) : 0;
}

static const sfu_layer_source_t sfu__layers = {
    .spatial_count = sfu__spatial_count,
    .max_temporal = sfu__max_temporal,
    .bitrate = sfu__bitrate,
    .fallback = sfu__pick_target,
    .active_ms = sfu__active_ms,
};

static void sfu__simulcast_send_rtp(sfu_consumer_t *c, const sfu_rtp_packet_t *in, uint64_t now_ms) {
  if (!c->bwe_managed) {
    c->target_spatial = sfu__pick_target(c, now_ms);
    c->target_temporal = c->target_spatial == c->preferred_spatial ? c->preferred_temporal : -1;
  }
  int16_t target = c->target_spatial;
  if (target >= 0 && target < (int16_t)c->nsources && c->current_spatial != target && in->ssrc == c->source_ssrcs[target]) {
    if (!sfu_rtp_is_keyframe(in, c->stream.params.codec)) {
      if (c->producer != NULL) sfu_producer_request_key_frame(c->producer, in->ssrc, now_ms);
    } else {
      c->current_spatial = target;
      c->source_ssrc = in->ssrc;
      c->sync_required = true;
      c->keyframe_required = false;
      c->vpx.current_temporal = -1; /* set again from the key frame */
      c->vpx.target_temporal = c->target_temporal;
      sfu__consumer_notify_layers(c);
    }
  }
  if (c->current_spatial < 0 || in->ssrc != c->source_ssrcs[c->current_spatial]) return;
  /* the temporal target applies to the encoding it was chosen for */
  c->vpx.target_temporal = c->current_spatial == target ? c->target_temporal : -1;
  sfu__consumer_forward(c, in, now_ms);
}

static uint32_t sfu__simulcast_desired(sfu_consumer_t *c, uint64_t now_ms) { return sfu_layers_desired(c, &sfu__layers, now_ms); }

static uint32_t sfu__simulcast_increase(sfu_consumer_t *c, uint32_t bitrate, bool base, uint64_t now_ms) {
  return sfu_layers_increase(c, &sfu__layers, bitrate, base, now_ms);
}

static void sfu__simulcast_apply(sfu_consumer_t *c, uint64_t now_ms) {
  if (!sfu_layers_apply(c, &sfu__layers, now_ms)) return;
  int16_t target = c->target_spatial;
  if (target >= 0 && target != c->current_spatial && c->producer != NULL && sfu__consumer_active(c))
    sfu_producer_request_key_frame(c->producer, c->source_ssrcs[target], now_ms);
}

const sfu_consumer_ops_t sfu__simulcast_consumer_ops = {
    .name = "simulcast",
    .layered = true,
    .send_rtp = sfu__simulcast_send_rtp,
    .desired_bitrate = sfu__simulcast_desired,
    .increase_layer = sfu__simulcast_increase,
    .apply_layers = sfu__simulcast_apply,
    .layers = &sfu__layers,
};
