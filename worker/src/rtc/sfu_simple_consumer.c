/* Simple consumer (mediasoup's SimpleConsumer): the producer's one stream as
 * it is, DTX packets dropped for receivers that asked (ignoreDtx). */
#include "sfu_consumer_ops.h"

static void sfu__simple_send_rtp(sfu_consumer_t *c, const sfu_rtp_packet_t *in, uint64_t now_ms) {
  if (in->ssrc != c->source_ssrc) return;
  /* An Opus DTX packet carries at most one byte of payload. */
  if (c->ignore_dtx && c->kind == SFU_KIND_AUDIO && in->payload_len <= 1) {
    sfu__consumer_skip(c, in); /* no hole in the receiver's sequence numbers */
    return;
  }
  sfu__consumer_forward(c, in, now_ms);
}

const sfu_consumer_ops_t sfu__simple_consumer_ops = {
    .name = "simple",
    .layered = false,
    .send_rtp = sfu__simple_send_rtp,
    .desired_bitrate = sfu__consumer_flat_desired,
    .increase_layer = sfu__consumer_flat_increase,
    .apply_layers = sfu__consumer_flat_apply,
};
