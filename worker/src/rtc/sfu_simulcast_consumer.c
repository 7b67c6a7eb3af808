/* Simulcast consumer (mediasoup's SimulcastConsumer): forwards one of the
 * producer's encodings at a time under one SSRC, the highest active one at
 * or below the preferred spatial layer, and switches on a key frame of the
 * new encoding (asking for one), with sequence numbers and timestamps kept
 * continuous across the switch. */
#include "sfu_consumer_ops.h"

/* Highest active encoding at or below the preferred spatial layer. */
static int16_t sfu__pick_target(const sfu_consumer_t *c) {
  if (c->producer == NULL) return c->preferred_spatial;
  int16_t best = -1;
  for (int16_t i = 0; i < (int16_t)c->nsources; i++) {
    for (size_t k = 0; k < c->producer->nencodings; k++) {
      const sfu_producer_encoding_t *pe = &c->producer->encodings[k];
      if (pe->mapped_ssrc == c->source_ssrcs[i] && pe->stream_active && i <= c->preferred_spatial) best = i;
    }
  }
  return best >= 0 ? best : c->preferred_spatial;
}

static void sfu__simulcast_send_rtp(sfu_consumer_t *c, const sfu_rtp_packet_t *in, uint64_t now_ms) {
  int16_t target = sfu__pick_target(c);
  if (target != c->target_spatial) c->target_spatial = target;
  if (target < 0 || target >= (int16_t)c->nsources) return;
  uint32_t want = c->source_ssrcs[target];
  if (in->ssrc != want) return;
  if (c->current_spatial != target) {
    if (!sfu_rtp_is_keyframe(in, c->stream.params.codec)) {
      if (c->producer != NULL) sfu_producer_request_key_frame(c->producer, want, now_ms);
      return;
    }
    c->current_spatial = target;
    c->source_ssrc = want;
    c->sync_required = true;
    c->keyframe_required = false;
    sfu__consumer_notify_layers(c);
  }
  sfu__consumer_forward(c, in, now_ms);
}

const sfu_consumer_ops_t sfu__simulcast_consumer_ops = {
    .name = "simulcast",
    .layered = true,
    .send_rtp = sfu__simulcast_send_rtp,
};
