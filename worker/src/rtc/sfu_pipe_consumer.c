/* Pipe consumer (mediasoup 3.27's pipe consumer): every encoding of the
 * producer towards a PipeTransport of another router, each as its own stream
 * under this consumer's SSRC for that encoding (one lane per encoding: send
 * stream with its retransmission buffer, sequence numbers, key frame sync).
 * Timestamps and markers pass unchanged; after the transport connects or the
 * consumer resumes, a video lane waits for a key frame (and asks for one) and
 * its sequence numbers go on from the last one it sent. Packets without
 * payload are not forwarded. No layers, no bandwidth allocation. */
#include <stdlib.h>
#include <string.h>

#include "sfu_consumer_ops.h"
#include "sfu_error.h"

static int sfu__pipe_init(sfu_consumer_t *c, const sfu_rtp_stream_params_t *sp) {
  size_t n = c->nsources;
  if ((c->lanes = calloc(n, sizeof(*c->lanes))) == NULL) return SFU_ENOMEM;
  c->nlanes = n;
  for (size_t i = 0; i < n; i++) {
    sfu_pipe_lane_t *l = &c->lanes[i];
    sfu_seq_map_init(&l->seq_map, 16);
    l->sync_required = true;
    if (i == 0) {
      l->stream = &c->stream;
      continue;
    }
    sfu_rtp_stream_params_t p = *sp;
    const sfu_rtp_encoding_t *e = &c->params.encodings[i];
    p.encoding_idx = (uint32_t)i;
    p.ssrc = e->ssrc;
    p.has_rtx = sp->has_rtx && e->has_rtx;
    p.rtx_ssrc = e->rtx_ssrc;
    sfu_rtp_stream_init(&l->own, &p, true);
    l->stream = &l->own;
  }
  return 0;
}

static void sfu__pipe_destroy(sfu_consumer_t *c) {
  for (size_t i = 1; i < c->nlanes; i++) sfu_rtp_stream_destroy(&c->lanes[i].own);
  free(c->lanes);
  c->lanes = NULL;
  c->nlanes = 0;
}

static sfu_rtp_stream_t *sfu__pipe_stream_for_ssrc(sfu_consumer_t *c, uint32_t ssrc, size_t *lane) {
  for (size_t i = 0; i < c->nlanes; i++) {
    sfu_rtp_stream_t *s = c->lanes[i].stream;
    if (s->params.ssrc == ssrc || (s->params.has_rtx && s->params.rtx_ssrc == ssrc)) {
      if (lane != NULL) *lane = i;
      return s;
    }
  }
  return NULL;
}

static void sfu__pipe_resync(sfu_consumer_t *c) {
  for (size_t i = 0; i < c->nlanes; i++) c->lanes[i].sync_required = true;
}

/* Every encoding's key frame (mediasoup asks for all of them). */
static void sfu__pipe_request_key_frame(sfu_consumer_t *c, uint64_t now_ms) {
  if (c->kind != SFU_KIND_VIDEO || c->producer == NULL) return;
  for (size_t i = 0; i < c->nsources; i++) sfu_producer_request_key_frame(c->producer, c->source_ssrcs[i], now_ms);
}

static void sfu__pipe_send_rtp(sfu_consumer_t *c, const sfu_rtp_packet_t *in, uint64_t now_ms) {
  sfu_rtp_packet_t pkt;
  size_t i;
  for (i = 0; i < c->nsources && i < c->nlanes; i++)
    if (in->ssrc == c->source_ssrcs[i]) break;
  if (i == c->nsources || i == c->nlanes) return;
  sfu_pipe_lane_t *l = &c->lanes[i];

  if (l->sync_required && l->stream->params.codec != SFU_CODEC_OPUS && l->stream->params.codec != SFU_CODEC_OTHER &&
      !sfu_rtp_is_keyframe(in, l->stream->params.codec)) {
    if (c->producer != NULL) sfu_producer_request_key_frame(c->producer, in->ssrc, now_ms);
    return;
  }
  if (in->payload_len == 0) {
    if (!l->sync_required) sfu_seq_map_drop(&l->seq_map, in->seq);
    return;
  }
  if (l->sync_required) {
    sfu_seq_map_sync(&l->seq_map, in->seq);
    l->sync_required = false;
  }
  uint32_t seq32;
  if (!sfu_seq_map_input(&l->seq_map, in->seq, &seq32)) return;
  if (sfu_rtp_copy(&pkt, c->send_buf, c->send_cap - 64, in) != 0) return;
  sfu_rtp_set_ssrc(&pkt, l->stream->params.ssrc);
  sfu_rtp_set_payload_type(&pkt, c->codec->payload_type);
  sfu_rtp_set_sequence_number(&pkt, (uint16_t)seq32);
  if (pkt.ext_count > 0 && sfu_rtp_map_extensions(&pkt, c->src_ext_map) != 0) return;
  sfu_rtp_stream_sent(l->stream, &pkt, now_ms);
  sfu__consumer_trace_rtp(c, &pkt); /* before the parent may protect the buffer in place */
  c->listener->send_rtp(c->listener_arg, c, &pkt, false);
}

const sfu_consumer_ops_t sfu__pipe_consumer_ops = {
    .name = "pipe",
    .layered = false,
    .send_rtp = sfu__pipe_send_rtp,
    .desired_bitrate = sfu__consumer_flat_desired,
    .increase_layer = sfu__consumer_flat_increase,
    .apply_layers = sfu__consumer_flat_apply,
    .init = sfu__pipe_init,
    .destroy = sfu__pipe_destroy,
    .stream_for_ssrc = sfu__pipe_stream_for_ssrc,
    .resync = sfu__pipe_resync,
    .request_key_frame = sfu__pipe_request_key_frame,
};
