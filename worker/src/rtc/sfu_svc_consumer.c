/* SVC consumer (mediasoup's SvcConsumer): the producer's one SVC stream
 * (VP9 with spatial and temporal layers, or VP8/H264 with temporal ones),
 * with the spatial (VP9) and temporal (VP8, VP9) layers above the target
 * dropped (sfu_vpx_layers: a spatial switch up waits for a key frame, which
 * is asked for). The target is the bandwidth allocation's
 * (sfu_layer_allocation) when its transport estimates the bandwidth, else
 * the preferred layers. */
#include "sfu_consumer_ops.h"
#include "sfu_layer_allocation.h"

static sfu_rtp_stream_t *sfu__source(const sfu_consumer_t *c) { return sfu__consumer_source_stream(c, c->source_ssrc); }

static int16_t sfu__spatial_count(const sfu_consumer_t *c) {
  sfu_rtp_stream_t *st = sfu__source(c);
  if (st != NULL && st->has_tl && c->stream.params.codec == SFU_CODEC_VP9) return (int16_t)(st->max_sid + 1);
  return 1;
}

static int16_t sfu__max_temporal(const sfu_consumer_t *c, int16_t s) {
  sfu_rtp_stream_t *st = sfu__source(c);
  (void)s;
  return st != NULL && st->has_tl ? st->max_tid : -1;
}

/* Spatial layers up to s (each builds on the ones below) with temporal layers up to t. */
static uint32_t sfu__bitrate(const sfu_consumer_t *c, int16_t s, int16_t t, uint64_t now_ms) {
  sfu_rtp_stream_t *st = sfu__source(c);
  uint64_t bps = 0;
  if (st == NULL || !sfu_rtp_stream_flowing(st, now_ms)) return 0;
  if (!st->has_tl) return s == 0 ? (uint32_t)sfu_rate_bps(&st->rate, now_ms) : 0;
  for (int16_t i = 0; i <= s && i < SFU_RTP_STREAM_MAX_SL; i++)
    for (int16_t j = 0; j <= (t < 0 ? st->max_tid : t) && j < SFU_RTP_STREAM_MAX_TL; j++)
      bps += sfu_rate_bps(&st->layer_rate[i][j], now_ms);
  return bps > UINT32_MAX ? UINT32_MAX : (uint32_t)bps;
}

static int16_t sfu__fallback(const sfu_consumer_t *c, uint64_t now_ms) {
  (void)now_ms;
  return c->preferred_spatial;
}

static const sfu_layer_source_t sfu__layers = {
    .spatial_count = sfu__spatial_count,
    .max_temporal = sfu__max_temporal,
    .bitrate = sfu__bitrate,
    .fallback = sfu__fallback,
};

static void sfu__svc_send_rtp(sfu_consumer_t *c, const sfu_rtp_packet_t *in, uint64_t now_ms) {
  if (in->ssrc != c->source_ssrc) return;
  if (!c->bwe_managed) {
    c->target_spatial = c->preferred_spatial;
    c->target_temporal = c->preferred_temporal;
  }
  c->vpx.target_spatial = c->spatial_layers > 1 ? c->target_spatial : -1;
  c->vpx.target_temporal = c->target_temporal;
  int16_t before = c->vpx.current_spatial;
  sfu__consumer_forward(c, in, now_ms);
  int16_t now_spatial = c->spatial_layers > 1 && c->vpx.current_spatial >= 0 ? c->vpx.current_spatial : c->preferred_spatial;
  if (c->current_spatial != now_spatial || (before != c->vpx.current_spatial && c->spatial_layers > 1)) {
    c->current_spatial = now_spatial;
    sfu__consumer_notify_layers(c);
  }
}

static uint32_t sfu__svc_desired(sfu_consumer_t *c, uint64_t now_ms) { return sfu_layers_desired(c, &sfu__layers, now_ms); }

static uint32_t sfu__svc_increase(sfu_consumer_t *c, uint32_t bitrate, bool base, uint64_t now_ms) {
  return sfu_layers_increase(c, &sfu__layers, bitrate, base, now_ms);
}

static void sfu__svc_apply(sfu_consumer_t *c, uint64_t now_ms) {
  int16_t before = c->target_spatial;
  if (sfu_layers_apply(c, &sfu__layers, now_ms) && c->target_spatial > before && c->spatial_layers > 1)
    sfu__consumer_request_key_frame(c, now_ms); /* a spatial switch up needs a key frame */
}

const sfu_consumer_ops_t sfu__svc_consumer_ops = {
    .name = "svc",
    .layered = true,
    .send_rtp = sfu__svc_send_rtp,
    .desired_bitrate = sfu__svc_desired,
    .increase_layer = sfu__svc_increase,
    .apply_layers = sfu__svc_apply,
    .layers = &sfu__layers,
};
