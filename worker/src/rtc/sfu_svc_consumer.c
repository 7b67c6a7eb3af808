/* SVC consumer (mediasoup's SvcConsumer): the producer's one SVC stream
 * (VP9, AV1, or VP8/H264 with temporal layers). */
#include "sfu_consumer_ops.h"

static void sfu__svc_send_rtp(sfu_consumer_t *c, const sfu_rtp_packet_t *in, uint64_t now_ms) {
  if (in->ssrc != c->source_ssrc) return;
  if (c->current_spatial < 0) {
    c->current_spatial = c->preferred_spatial;
    sfu__consumer_notify_layers(c);
  }
  sfu__consumer_forward(c, in, now_ms);
}

const sfu_consumer_ops_t sfu__svc_consumer_ops = {
    .name = "svc",
    .layered = true,
    .send_rtp = sfu__svc_send_rtp,
    .desired_bitrate = sfu__consumer_flat_desired,
    .increase_layer = sfu__consumer_flat_increase,
    .apply_layers = sfu__consumer_flat_apply,
};
