/* Pipe consumer (mediasoup's PipeConsumer): every encoding of the producer
 * as it is (no key frame gating, no rewriting of sequence numbers or
 * timestamps), each under this consumer's SSRC for that encoding, towards
 * a PipeTransport of another router. */
#include "sfu_consumer_ops.h"

static void sfu__pipe_send_rtp(sfu_consumer_t *c, const sfu_rtp_packet_t *in, uint64_t now_ms) {
  sfu_rtp_packet_t pkt;
  for (size_t i = 0; i < c->nsources; i++) {
    if (in->ssrc != c->source_ssrcs[i]) continue;
    if (sfu_rtp_copy(&pkt, c->send_buf, c->send_cap - 64, in) != 0) return;
    sfu_rtp_set_ssrc(&pkt, c->params.encodings[i].ssrc);
    sfu_rtp_set_payload_type(&pkt, c->codec->payload_type);
    if (pkt.ext_count > 0 && sfu_rtp_map_extensions(&pkt, c->src_ext_map) != 0) return;
    if (i == 0) sfu_rtp_stream_sent(&c->stream, &pkt, now_ms);
    c->listener->send_rtp(c->listener_arg, c, &pkt, false);
    return;
  }
}

const sfu_consumer_ops_t sfu__pipe_consumer_ops = {
    .name = "pipe",
    .layered = false,
    .send_rtp = sfu__pipe_send_rtp,
    .desired_bitrate = sfu__consumer_flat_desired,
    .increase_layer = sfu__consumer_flat_increase,
    .apply_layers = sfu__consumer_flat_apply,
};
