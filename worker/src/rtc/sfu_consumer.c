/* What every consumer type shares: creation from the ConsumeRequest, the
 * forwarding path (sfu__consumer_forward), RTCP from the receiver (RR, NACK,
 * PLI/FIR), sender reports, scores, requests, dump and stats. */
#include "sfu_consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_consumer_ops.h"
#include "sfu_error.h"
#include "sfu_layer_allocation.h"
#include "sfu_request.h"
#include "sfu_rtx.h"

static void sfu__consumer_on_request(sfu_handler_t *h, sfu_request_t *req);

static int sfu__fail(char *err, size_t err_len, int code, const char *msg) {
  snprintf(err, err_len, "%s", msg);
  return code;
}

static void sfu__reap(sfu_closing_t *cl) {
  sfu_consumer_t *c = sfu_container_of(cl, sfu_consumer_t, closing);
  if (c->ops->destroy != NULL) c->ops->destroy(c);
  sfu_rtp_stream_destroy(&c->stream);
  sfu_fbcopy_free(&c->request);
  free(c->producer_id);
  free(c->id);
  free(c);
}

static const sfu_consumer_ops_t *sfu__ops_for(sfu_rtp_type_t type) {
  switch (type) {
    case SFU_RTP_SIMPLE:
      return &sfu__simple_consumer_ops;
    case SFU_RTP_SIMULCAST:
      return &sfu__simulcast_consumer_ops;
    case SFU_RTP_SVC:
      return &sfu__svc_consumer_ops;
    case SFU_RTP_PIPE:
      return &sfu__pipe_consumer_ops;
  }
  return NULL;
}

int sfu_consumer_create(sfu_ctx_t *ctx, const sfu_consumer_listener_t *listener, void *listener_arg, uint8_t *send_buf,
                        size_t send_cap, sfu_producer_t *producer, fb_table_t req, sfu_consumer_t **out, char *err,
                        size_t err_len) {
  sfu_consumer_t *c;
  int r;

  if ((c = calloc(1, sizeof(*c))) == NULL) return SFU_ENOMEM;
  c->ctx = ctx;
  c->listener = listener;
  c->listener_arg = listener_arg;
  c->send_buf = send_buf;
  c->send_cap = send_cap;
  sfu_list_init(&c->transport_link);
  sfu_list_init(&c->producer_link);
  if ((r = sfu_fbcopy_make(&c->request, FBS_Transport_ConsumeRequest_clone, req)) != 0) goto fail;
  req = c->request.root;

  fb_str_t id = FBS_Transport_ConsumeRequest_consumer_id(req);
  if (id.len == 0) {
    r = sfu__fail(err, err_len, SFU_EINVAL, "empty consumerId");
    goto fail;
  }
  c->id = sfu_strdup_fb(id);
  c->producer_id = sfu_strdup_fb(FBS_Transport_ConsumeRequest_producer_id(req));
  if (c->id == NULL || c->producer_id == NULL) {
    r = SFU_ENOMEM;
    goto fail;
  }
  c->id_len = id.len;
  c->kind = FBS_Transport_ConsumeRequest_kind(req) == FBS_RtpParameters_MediaKind_VIDEO ? SFU_KIND_VIDEO : SFU_KIND_AUDIO;
  c->type = (sfu_rtp_type_t)FBS_Transport_ConsumeRequest_type(req);
  if (c->type > SFU_RTP_PIPE) {
    r = sfu__fail(err, err_len, SFU_EINVAL, "invalid consumer type");
    goto fail;
  }
  c->ops = sfu__ops_for(c->type);
  if (c->kind != producer->kind) {
    r = sfu__fail(err, err_len, SFU_EINVAL, "consumer kind does not match the producer's");
    goto fail;
  }
  c->paused = FBS_Transport_ConsumeRequest_paused(req);
  c->ignore_dtx = FBS_Transport_ConsumeRequest_ignore_dtx(req);
  c->priority = 1;

  if ((r = sfu_rtp_params_parse(&c->params, FBS_Transport_ConsumeRequest_rtp_parameters(req), err, err_len)) != 0)
    goto fail;
  if (c->params.nencodings == 0 || !c->params.encodings[0].has_ssrc ||
      (c->type != SFU_RTP_PIPE && c->params.nencodings != 1)) {
    r = sfu__fail(err, err_len, SFU_EINVAL, "invalid rtpParameters.encodings");
    goto fail;
  }
  if ((r = sfu_rtp_params_validate_encodings(&c->params, err, err_len)) != 0) goto fail;
  for (size_t i = 0; i < c->params.ncodecs && c->codec == NULL; i++)
    if (c->params.codecs[i].id != SFU_CID_RTX) c->codec = &c->params.codecs[i];
  if (c->codec == NULL) {
    r = sfu__fail(err, err_len, SFU_EINVAL, "no media codec in rtpParameters.codecs");
    goto fail;
  }
  c->rtx_codec = sfu_rtp_params_rtx_for(&c->params, c->codec->payload_type);
  if (!c->params.encodings[0].has_rtx) c->rtx_codec = NULL;

  fb_vec_t consumable = FBS_Transport_ConsumeRequest_consumable_rtp_encodings(req);
  if (consumable.len == 0) {
    r = sfu__fail(err, err_len, SFU_EINVAL, "empty consumableRtpEncodings");
    goto fail;
  }
  if (consumable.len > SFU_RTP_MAX_ENCODINGS) {
    r = sfu__fail(err, err_len, SFU_EINVAL, "too many consumableRtpEncodings");
    goto fail;
  }
  c->temporal_layers = 1;
  for (uint32_t i = 0; i < consumable.len; i++) {
    sfu_rtp_encoding_t e;
    if ((r = sfu_rtp_encoding_parse(&e, fb_vec_table(consumable, i), err, err_len)) != 0) goto fail;
    if (!e.has_ssrc) {
      r = sfu__fail(err, err_len, SFU_EINVAL, "missing ssrc in consumableRtpEncodings");
      goto fail;
    }
    c->source_ssrcs[i] = e.ssrc;
    if (i == 0) {
      c->spatial_layers = e.spatial_layers;
      c->temporal_layers = e.temporal_layers;
    }
  }
  c->nsources = consumable.len;
  c->source_ssrc = c->source_ssrcs[0];
  /* our own encoding's scalabilityMode rules when it has one (mediasoup
   * gives a simulcast consumer of L1T3 encodings "L3T3") */
  if (c->params.nencodings > 0 && (c->params.encodings[0].spatial_layers > 1 || c->params.encodings[0].temporal_layers > 1)) {
    c->spatial_layers = c->params.encodings[0].spatial_layers;
    c->temporal_layers = c->params.encodings[0].temporal_layers;
  }
  if (c->type == SFU_RTP_SIMULCAST) c->spatial_layers = (uint8_t)c->nsources;
  if (c->type == SFU_RTP_PIPE && c->params.nencodings < c->nsources) {
    r = sfu__fail(err, err_len, SFU_EINVAL, "too few rtpParameters.encodings for a pipe consumer");
    goto fail;
  }
  c->preferred_spatial = c->preferred_temporal = -1;
  c->target_spatial = c->current_spatial = -1;
  if (c->ops->layered) {
    fb_table_t pl = FBS_Transport_ConsumeRequest_preferred_layers(req);
    c->preferred_spatial = (int16_t)(c->spatial_layers - 1);
    c->preferred_temporal = (int16_t)(c->temporal_layers - 1);
    if (pl.buf != NULL) {
      uint8_t sl = FBS_Consumer_ConsumerLayers_spatial_layer(pl);
      c->preferred_spatial = sl < c->spatial_layers ? sl : (int16_t)(c->spatial_layers - 1);
      if (FBS_Consumer_ConsumerLayers_has_temporal_layer(pl)) {
        uint8_t tl = FBS_Consumer_ConsumerLayers_temporal_layer(pl);
        c->preferred_temporal = tl < c->temporal_layers ? tl : (int16_t)(c->temporal_layers - 1);
      }
    }
    c->target_spatial = c->preferred_spatial;
  }
  c->target_temporal = -1;
  c->notified_spatial = c->notified_temporal = -1;
  sfu_seq_map_init(&c->seq_map, 16);

  for (unsigned uri = 0; uri < SFU_RTP_EXT_COUNT; uri++) {
    uint8_t xid = c->params.ext_id[uri];
    if (xid == 0) continue;
    if (uri == FBS_RtpParameters_RtpHeaderExtensionUri_Mid)
      c->mid_ext_id = xid;
    else if (uri == FBS_RtpParameters_RtpHeaderExtensionUri_AbsSendTime)
      c->abs_send_time_ext_id = xid;
    else if (uri == FBS_RtpParameters_RtpHeaderExtensionUri_TransportWideCcDraft01)
      c->twcc_ext_id = xid;
    if (uri != FBS_RtpParameters_RtpHeaderExtensionUri_Mid && uri != FBS_RtpParameters_RtpHeaderExtensionUri_RtpStreamId &&
        uri != FBS_RtpParameters_RtpHeaderExtensionUri_RepairRtpStreamId)
      c->ext_map[SFU_EXT_INTERNAL(uri)] = xid;
  }

  sfu_rtp_stream_params_t sp;
  memset(&sp, 0, sizeof(sp));
  sp.kind = c->kind;
  sp.ssrc = c->params.encodings[0].ssrc;
  sp.payload_type = c->codec->payload_type;
  sp.mime_type = c->codec->mime_type;
  sp.clock_rate = c->codec->clock_rate;
  sp.cname = c->params.cname;
  if (c->rtx_codec != NULL) {
    sp.has_rtx = true;
    sp.rtx_ssrc = c->params.encodings[0].rtx_ssrc;
    sp.rtx_payload_type = c->rtx_codec->payload_type;
  }
  sp.use_nack = (c->codec->rtcp_fb & SFU_RTCP_FB_NACK) != 0;
  sp.use_pli = (c->codec->rtcp_fb & SFU_RTCP_FB_NACK_PLI) != 0;
  sp.use_fir = (c->codec->rtcp_fb & SFU_RTCP_FB_CCM_FIR) != 0;
  sp.use_in_band_fec = c->codec->useinbandfec;
  sp.use_dtx = c->codec->usedtx;
  sp.spatial_layers = c->type == SFU_RTP_SIMPLE ? 1 : c->spatial_layers;
  sp.temporal_layers = c->type == SFU_RTP_SIMPLE ? 1 : c->temporal_layers;
  sp.codec = sfu_codec_for_keyframes(c->codec->id);
  sfu_rtp_stream_init(&c->stream, &sp, true);
  if (c->ops->init != NULL && (r = c->ops->init(c, &sp)) != 0) {
    sfu_rtp_stream_destroy(&c->stream);
    goto fail;
  }
  /* Layered types drop VP8/VP9 temporal (and VP9 SVC spatial) layers. */
  sfu_vpx_layers_init(&c->vpx, c->ops->layered ? sp.codec : SFU_CODEC_OTHER);

  c->handler.on_request = sfu__consumer_on_request;
  if ((r = sfu_ctx_register(ctx, &c->handler, c->id, c->id_len)) != 0) {
    if (c->ops->destroy != NULL) c->ops->destroy(c);
    sfu_rtp_stream_destroy(&c->stream);
    snprintf(err, err_len, "a Consumer with same consumerId already exists");
    goto fail;
  }
  /* Packets keep the producer's original extension ids until here: one map
   * from those ids to ours, so each packet is rebuilt once, in the consumer. */
  for (unsigned x = 1; x < 256; x++)
    if (producer->ext_map[x] != 0) c->src_ext_map[x] = c->ext_map[producer->ext_map[x]];
  c->producer = producer;
  c->producer_paused = producer->paused;
  c->sync_required = true;
  c->keyframe_required = c->kind == SFU_KIND_VIDEO;
  c->transport_node.key = c->id;
  c->transport_node.key_len = c->id_len;
  *out = c;
  return 0;

fail:
  sfu_fbcopy_free(&c->request);
  free(c->producer_id);
  free(c->id);
  free(c);
  return r;
}

void sfu_consumer_close(sfu_consumer_t *c) {
  if (c->closed) return;
  c->closed = true;
  c->producer = NULL;
  sfu_ctx_unregister(c->ctx, &c->handler);
  sfu_ctx_defer(c->ctx, &c->closing, sfu__reap);
}

void sfu_consumer_producer_closed(sfu_consumer_t *c) {
  if (c->closed) return;
  c->producer = NULL;
  sfu_ctx_notify(c->ctx, c->id, FBS_Notification_Event_CONSUMER_PRODUCER_CLOSE, 0, 0);
  c->listener->on_producer_closed(c->listener_arg, c);
}

/* The send stream an SSRC (media or RTX) of ours belongs to, or NULL; *lane its index. */
static sfu_rtp_stream_t *sfu__stream_for_ssrc(sfu_consumer_t *c, uint32_t ssrc, size_t *lane) {
  if (c->ops->stream_for_ssrc != NULL) return c->ops->stream_for_ssrc(c, ssrc, lane);
  if (lane != NULL) *lane = 0;
  if (c->stream.params.ssrc == ssrc || (c->stream.params.has_rtx && c->stream.params.rtx_ssrc == ssrc)) return &c->stream;
  return NULL;
}

bool sfu_consumer_has_ssrc(const sfu_consumer_t *c, uint32_t ssrc) {
  return sfu__stream_for_ssrc((sfu_consumer_t *)c, ssrc, NULL) != NULL;
}

size_t sfu_consumer_streams(sfu_consumer_t *c, sfu_rtp_stream_t **out, size_t max) {
  size_t n = 0;
  if (c->lanes == NULL) {
    if (max > 0) out[n++] = &c->stream;
    return n;
  }
  for (size_t i = 0; i < c->nlanes && n < max; i++) out[n++] = c->lanes[i].stream;
  return n;
}

fb_ref_t sfu_consumer_build_preferred_layers(const sfu_consumer_t *c, fb_builder_t *b) {
  if (!c->ops->layered) return 0;
  FBS_Consumer_ConsumerLayers_start(b);
  FBS_Consumer_ConsumerLayers_add_spatial_layer(b, (uint8_t)c->preferred_spatial);
  FBS_Consumer_ConsumerLayers_add_temporal_layer(b, (uint8_t)c->preferred_temporal);
  return FBS_Consumer_ConsumerLayers_end(b);
}

void sfu__consumer_skip(sfu_consumer_t *c, const sfu_rtp_packet_t *in) {
  if (!c->sync_required) sfu_seq_map_drop(&c->seq_map, in->seq);
}

int16_t sfu__consumer_current_temporal(const sfu_consumer_t *c) {
  if (c->current_spatial < 0) return -1;
  if (c->vpx.current_temporal >= 0) return c->vpx.current_temporal;
  return c->preferred_temporal >= 0 ? c->preferred_temporal : 0;
}

void sfu__consumer_notify_layers(sfu_consumer_t *c) {
  fb_builder_t *b = &c->ctx->fbb;
  fb_ref_t layers = 0;
  c->notified_spatial = c->current_spatial;
  c->notified_temporal = sfu__consumer_current_temporal(c);
  if (c->current_spatial >= 0) {
    FBS_Consumer_ConsumerLayers_start(b);
    FBS_Consumer_ConsumerLayers_add_spatial_layer(b, (uint8_t)c->current_spatial);
    FBS_Consumer_ConsumerLayers_add_temporal_layer(b, (uint8_t)c->notified_temporal);
    layers = FBS_Consumer_ConsumerLayers_end(b);
  }
  FBS_Consumer_LayersChangeNotification_start(b);
  FBS_Consumer_LayersChangeNotification_add_layers(b, layers);
  sfu_ctx_notify(c->ctx, c->id, FBS_Notification_Event_CONSUMER_LAYERS_CHANGE,
                 FBS_Notification_Body_Consumer_LayersChangeNotification, FBS_Consumer_LayersChangeNotification_end(b));
}

static void sfu__need_bitrate(sfu_consumer_t *c) {
  if (c->listener->on_need_bitrate_change != NULL) c->listener->on_need_bitrate_change(c->listener_arg, c);
}

bool sfu__consumer_active(const sfu_consumer_t *c) {
  return !c->paused && !c->producer_paused && c->producer != NULL && c->transport_connected;
}

void sfu__consumer_request_key_frame(sfu_consumer_t *c, uint64_t now_ms) {
  if (c->ops->request_key_frame != NULL) {
    c->ops->request_key_frame(c, now_ms);
    return;
  }
  if (c->kind == SFU_KIND_VIDEO && c->producer != NULL) sfu_producer_request_key_frame(c->producer, c->source_ssrc, now_ms);
}

/* ---- bandwidth allocation ---- */

sfu_rtp_stream_t *sfu__consumer_source_stream(const sfu_consumer_t *c, uint32_t mapped_ssrc) {
  if (c->producer == NULL) return NULL;
  for (size_t k = 0; k < c->producer->nencodings; k++) {
    sfu_producer_encoding_t *pe = &c->producer->encodings[k];
    if (pe->mapped_ssrc == mapped_ssrc && pe->stream_active) return &pe->stream;
  }
  return NULL;
}

uint32_t sfu__consumer_source_bitrate(const sfu_consumer_t *c, uint32_t mapped_ssrc, uint64_t now_ms) {
  sfu_rtp_stream_t *s = sfu__consumer_source_stream(c, mapped_ssrc);
  if (s == NULL || !sfu_rtp_stream_flowing(s, now_ms)) return 0;
  uint64_t bps = sfu_rate_bps(&s->rate, now_ms);
  return bps > UINT32_MAX ? UINT32_MAX : (uint32_t)bps;
}

uint32_t sfu__consumer_layer_bitrate(const sfu_consumer_t *c, int16_t s, int16_t t, uint64_t now_ms) {
  return c->ops->layers != NULL ? c->ops->layers->bitrate(c, s, t, now_ms) : 0;
}

uint32_t sfu__consumer_flat_desired(sfu_consumer_t *c, uint64_t now_ms) {
  return sfu__consumer_active(c) ? sfu__consumer_source_bitrate(c, c->source_ssrc, now_ms) : 0;
}

uint32_t sfu__consumer_flat_increase(sfu_consumer_t *c, uint32_t bitrate, bool base, uint64_t now_ms) {
  (void)bitrate;
  if (!base || c->provisional_allocated || !sfu__consumer_active(c)) return 0;
  c->provisional_allocated = true;
  return sfu__consumer_source_bitrate(c, c->source_ssrc, now_ms);
}

void sfu__consumer_flat_apply(sfu_consumer_t *c, uint64_t now_ms) { (void)c, (void)now_ms; }

void sfu_consumer_set_bwe_managed(sfu_consumer_t *c) { c->bwe_managed = c->ops->layered; }

void sfu_consumer_start_allocation(sfu_consumer_t *c) {
  c->provisional_spatial = -1;
  c->provisional_temporal = -1;
  c->provisional_allocated = false;
  c->layer_up_possible = false;
}

uint32_t sfu_consumer_increase_layer(sfu_consumer_t *c, uint32_t bitrate, bool base, uint64_t now_ms) {
  return c->ops->increase_layer(c, bitrate, base, now_ms);
}

void sfu_consumer_apply_layers(sfu_consumer_t *c, uint64_t now_ms) { c->ops->apply_layers(c, now_ms); }

/* What the type measures, and for video at least the consumer's
 * encodings[0].maxBitrate (the largest of the producer's encodings): with
 * the top layer not yet flowing, or still ramping up at its sender, the
 * estimate must be allowed and probed up to it (mediasoup's
 * Consumer::GetDesiredBitrate does the same). */
uint32_t sfu_consumer_desired_bitrate(sfu_consumer_t *c, uint64_t now_ms) {
  uint32_t bps = c->ops->desired_bitrate(c, now_ms);
  if (c->kind != SFU_KIND_VIDEO || c->ops == &sfu__pipe_consumer_ops || !sfu__consumer_active(c)) return bps;
  uint64_t max = c->params.nencodings > 0 ? c->params.encodings[0].max_bitrate : 0;
  if (max > UINT32_MAX) max = UINT32_MAX;
  return (uint32_t)max > bps ? (uint32_t)max : bps;
}

static bool sfu__ts_newer(uint32_t a, uint32_t b) { return a != b && (uint32_t)(a - b) < 0x80000000u; }

void sfu_consumer_send_rtp(sfu_consumer_t *c, const sfu_rtp_packet_t *in, uint64_t now_ms) {
  if (!sfu__consumer_active(c)) return;
  c->ops->send_rtp(c, in, now_ms);
}

void sfu__consumer_forward(sfu_consumer_t *c, const sfu_rtp_packet_t *in, uint64_t now_ms) {
  sfu_rtp_packet_t pkt;

  if (c->sync_required) {
    if (c->keyframe_required && !sfu_rtp_is_keyframe(in, c->stream.params.codec)) {
      sfu__consumer_request_key_frame(c, now_ms);
      return;
    }
    if (!c->started) {
      c->ts_offset = 0;
      c->started = true;
    } else {
      uint32_t gap = (uint32_t)((now_ms - c->max_out_ts_ms) * c->stream.params.clock_rate / 1000);
      if (gap == 0) gap = 1;
      c->ts_offset = c->max_out_ts + gap - in->timestamp;
    }
    /* sequence numbers go on after the last one sent (the first time: as they are) */
    sfu_seq_map_sync(&c->seq_map, in->seq);
    sfu_vpx_layers_resync(&c->vpx);
    c->sync_required = false;
    c->keyframe_required = false;
  }

  /* Temporal/SVC layers above the target: dropped, their numbers closed up. */
  sfu_vpx_info_t vi;
  vi.parsed = false;
  if (c->vpx.codec != SFU_CODEC_OTHER) {
    if (!sfu_vpx_layers_filter(&c->vpx, in, &vi)) {
      sfu_seq_map_drop(&c->seq_map, in->seq);
      return;
    }
    if (sfu__consumer_current_temporal(c) != c->notified_temporal) sfu__consumer_notify_layers(c);
  }
  uint32_t seq32;
  if (!sfu_seq_map_input(&c->seq_map, in->seq, &seq32)) return; /* a late copy of a dropped one */

  /* Built in place in the parent's send buffer (no second copy). */
  if (sfu_rtp_copy(&pkt, c->send_buf, c->send_cap - 64, in) != 0) return;
  uint16_t seq = (uint16_t)seq32;
  uint32_t ts = in->timestamp + c->ts_offset;
  sfu_rtp_set_ssrc(&pkt, c->stream.params.ssrc);
  sfu_rtp_set_payload_type(&pkt, c->codec->payload_type);
  sfu_rtp_set_sequence_number(&pkt, seq);
  sfu_rtp_set_timestamp(&pkt, ts);

  /* One rebuild of the extension block: the producer's extensions under our
   * ids, then our MID and room for the transport-wide sequence number (the
   * parent writes it when it sends). Values point into the source packet,
   * which is not modified. */
  sfu_rtp_ext_value_t exts[SFU_RTP_MAX_EXTENSIONS + 2];
  size_t nx = 0;
  static const uint8_t twcc[2] = {0, 0};
  for (size_t i = 0; i < in->ext_count; i++) {
    uint8_t id = c->src_ext_map[in->exts[i].id];
    if (id == 0 || id == c->mid_ext_id || id == c->twcc_ext_id) continue;
    exts[nx].id = id;
    exts[nx].len = in->exts[i].len;
    exts[nx].value = in->buf + in->exts[i].off;
    nx++;
  }
  if (c->mid_ext_id != 0 && c->params.mid.ptr != NULL && c->params.mid.len <= 16) {
    exts[nx].id = c->mid_ext_id;
    exts[nx].len = (uint8_t)c->params.mid.len;
    exts[nx].value = (const uint8_t *)c->params.mid.ptr;
    nx++;
  }
  if (c->twcc_ext_id != 0) {
    exts[nx].id = c->twcc_ext_id;
    exts[nx].len = 2;
    exts[nx].value = twcc;
    nx++;
  }
  if ((nx > 0 || pkt.ext_count > 0) && sfu_rtp_set_extensions(&pkt, exts, nx) != 0) return;
  if (c->abs_send_time_ext_id != 0)
    (void)sfu_rtp_write_abs_send_time(&pkt, c->abs_send_time_ext_id, sfu_rtp_abs_send_time_from_ms(now_ms));
  if (vi.parsed) sfu_vpx_layers_rewrite(&c->vpx, &vi, &pkt);

  if (sfu__ts_newer(ts, c->max_out_ts) || c->stream.packets == 0) {
    c->max_out_ts = ts;
    c->max_out_ts_ms = now_ms;
  }
  /* A key frame makes everything before it useless to the receiver's
   * decoder: resending that (the old encoding's losses after a switch, on a
   * path already dropping) would only delay the key frame's own repair. Its
   * first packet by RTP timestamp: an H264 IDR's SPS/PPS come before the
   * NAL unit that says IDR. VP8/VP9: what the layer filter already read. */
  if (c->kind == SFU_KIND_VIDEO && c->lanes == NULL &&
      (vi.parsed && !vi.dd ? vi.keyframe : sfu_rtp_is_keyframe(in, c->stream.params.codec)) &&
      (!c->nack_floor_set || ts != c->nack_floor_ts)) {
    c->nack_floor_set = true;
    c->nack_floor = seq;
    c->nack_floor_ts = ts;
    c->nack_floor_ms = now_ms;
  }
  sfu_rtp_stream_sent(&c->stream, &pkt, now_ms);
  /* traced before it is sent: the parent may protect the buffer in place */
  sfu__consumer_trace_rtp(c, &pkt);
  c->listener->send_rtp(c->listener_arg, c, &pkt, false);
}

void sfu_consumer_producer_paused(sfu_consumer_t *c, bool paused) {
  if (c->producer_paused == paused) return;
  c->producer_paused = paused;
  sfu_ctx_notify(c->ctx, c->id,
                 paused ? FBS_Notification_Event_CONSUMER_PRODUCER_PAUSE : FBS_Notification_Event_CONSUMER_PRODUCER_RESUME, 0,
                 0);
  if (!paused) {
    c->sync_required = true;
    if (c->ops->resync != NULL) c->ops->resync(c);
    c->keyframe_required = c->kind == SFU_KIND_VIDEO;
    if (sfu__consumer_active(c)) sfu__consumer_request_key_frame(c, uv_now(c->ctx->loop));
  }
  sfu__need_bitrate(c);
}

void sfu_consumer_transport_connected(sfu_consumer_t *c, uint64_t now_ms) {
  c->transport_connected = true;
  c->sync_required = true;
  if (c->ops->resync != NULL) c->ops->resync(c);
  c->keyframe_required = c->kind == SFU_KIND_VIDEO;
  if (sfu__consumer_active(c)) sfu__consumer_request_key_frame(c, now_ms);
}

void sfu_consumer_transport_disconnected(sfu_consumer_t *c) { c->transport_connected = false; }

static void sfu__send_score(sfu_consumer_t *c) {
  fb_builder_t *b = &c->ctx->fbb;
  fb_ref_t score = sfu_consumer_build_score(c, b);
  FBS_Consumer_ScoreNotification_start(b);
  FBS_Consumer_ScoreNotification_add_score(b, score);
  fb_ref_t body = FBS_Consumer_ScoreNotification_end(b);
  sfu_ctx_notify(c->ctx, c->id, FBS_Notification_Event_CONSUMER_SCORE, FBS_Notification_Body_Consumer_ScoreNotification,
                 body);
}

void sfu_consumer_producer_score(sfu_consumer_t *c) {
  if (!c->closed) sfu__send_score(c);
}

void sfu_consumer_on_rr(sfu_consumer_t *c, const sfu_rtcp_rb_t *rb, uint64_t now_ms) {
  sfu_rtp_stream_t *s = sfu__stream_for_ssrc(c, rb->ssrc, NULL);
  if (s == NULL) return;
  uint8_t before = c->stream.score;
  sfu_rtp_stream_on_rr(s, rb, now_ms);
  /* a pipe consumer's score is always 10 (mediasoup sends none) */
  if (c->lanes == NULL && c->stream.score != before) sfu__send_score(c);
}

/* A packet already resent within the last round trip is not resent again:
 * the receiver NACKs a hole again before our copy can have reached it, and
 * on a congested path each repeat adds to the queue that lost it (mediasoup's
 * RtpStreamSend does the same; 100 ms until an RTT is known). */
#define SFU__NACK_DEFAULT_RTT_MS 100

void sfu_consumer_on_nack(sfu_consumer_t *c, const sfu_rtcp_nack_t *nack, uint64_t now_ms) {
  uint8_t buf[SFU_SEND_BUF];
  size_t lane = 0;
  sfu_rtp_stream_t *s = sfu__stream_for_ssrc(c, nack->fb.media_ssrc, &lane);
  uint16_t *rtx_seq = c->lanes != NULL ? &c->lanes[lane].rtx_seq : &c->rtx_seq;
  if (s == NULL) return;
  uint64_t rtt = s->rtt_ms > 0 ? (uint64_t)s->rtt_ms : SFU__NACK_DEFAULT_RTT_MS;
  sfu__consumer_trace_nack(c);
  s->nack_count++;
  for (size_t i = 0; i < nack->item_count; i++) {
    uint16_t pid, blp, seqs[17];
    sfu_rtcp_nack_item(nack, i, &pid, &blp);
    size_t n = sfu_rtcp_nack_expand(pid, blp, seqs);
    s->nack_packet_count += n;
    for (size_t j = 0; j < n; j++) {
      sfu_rtx_slot_t *slot = sfu_rtp_stream_rtx_get(s, seqs[j]);
      sfu_rtp_packet_t pkt;
      if (slot == NULL || now_ms - slot->sent_ms > 2000 || slot->resent > 8) continue;
      /* (only a recent floor: nothing older than 2 s is resent anyway, and
       * within 2 s the numbers cannot have wrapped past it) */
      if (c->nack_floor_set && now_ms - c->nack_floor_ms <= 2000 &&
          (int16_t)(uint16_t)(seqs[j] - c->nack_floor) < 0)
        continue;
      if (slot->resent_ms != 0 && now_ms - slot->resent_ms <= rtt) continue;
      if (slot->len > sizeof(buf) - 64) continue;
      if (c->listener->may_retransmit != NULL && !c->listener->may_retransmit(c->listener_arg, c, slot->len + 2u)) continue;
      memcpy(buf, slot->data, slot->len);
      if (sfu_rtp_parse(&pkt, buf, slot->len, sizeof(buf) - 64) != 0) continue;
      if (c->rtx_codec != NULL && s->params.has_rtx) {
        if (sfu_rtx_encode(&pkt, c->rtx_codec->payload_type, s->params.rtx_ssrc, ++*rtx_seq) != 0) continue;
      }
      slot->resent++;
      slot->resent_ms = now_ms;
      s->packets_retransmitted++;
      sfu__consumer_trace_rtp_rtx(c, &pkt, c->rtx_codec != NULL && s->params.has_rtx);
      c->listener->send_rtp(c->listener_arg, c, &pkt, c->rtx_codec != NULL && s->params.has_rtx);
    }
  }
}

int sfu_consumer_build_probe(sfu_consumer_t *c, size_t max_len, uint64_t now_ms, sfu_rtp_packet_t *pkt) {
  if (c->rtx_codec == NULL || !c->stream.params.has_rtx) return SFU_ENOTSUP;
  if (!sfu__consumer_active(c) || c->stream.packets == 0) return SFU_ESTATE;
  if (max_len > c->send_cap - 64) max_len = c->send_cap - 64;
  /* An RTX copy of one of the last 32 packets sent, newest first, round robin. */
  for (int tries = 0; tries < 32; tries++) {
    uint16_t seq = (uint16_t)(c->stream.last_seq - (c->probe_cursor++ % 32));
    sfu_rtx_slot_t *slot = sfu_rtp_stream_rtx_get(&c->stream, seq);
    if (slot == NULL || (size_t)slot->len + 2 > max_len) continue;
    memcpy(c->send_buf, slot->data, slot->len);
    if (sfu_rtp_parse(pkt, c->send_buf, slot->len, c->send_cap - 64) != 0) continue;
    if (sfu_rtx_encode(pkt, c->rtx_codec->payload_type, c->stream.params.rtx_ssrc, ++c->rtx_seq) != 0) continue;
    if (c->abs_send_time_ext_id != 0)
      (void)sfu_rtp_write_abs_send_time(pkt, c->abs_send_time_ext_id, sfu_rtp_abs_send_time_from_ms(now_ms));
    return 0;
  }
  /* Padding only: header, the transport-wide sequence number and
   * abs-send-time extensions, 255 bytes of padding. */
  uint8_t *p = c->send_buf;
  size_t off = 12, x = 16;
  uint32_t ssrc = c->stream.params.rtx_ssrc, ts = c->max_out_ts;
  uint16_t seq = ++c->rtx_seq;
  p[0] = 0x80 | 0x20;
  p[1] = c->rtx_codec->payload_type & 0x7f;
  p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
  p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16), p[6] = (uint8_t)(ts >> 8), p[7] = (uint8_t)ts;
  p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16), p[10] = (uint8_t)(ssrc >> 8), p[11] = (uint8_t)ssrc;
  if (c->twcc_ext_id != 0 || c->abs_send_time_ext_id != 0) {
    p[0] |= 0x10;
    if (c->twcc_ext_id != 0) p[x++] = (uint8_t)(c->twcc_ext_id << 4 | 1), p[x++] = 0, p[x++] = 0;
    if (c->abs_send_time_ext_id != 0) {
      uint32_t v = sfu_rtp_abs_send_time_from_ms(now_ms);
      p[x++] = (uint8_t)(c->abs_send_time_ext_id << 4 | 2);
      p[x++] = (uint8_t)(v >> 16), p[x++] = (uint8_t)(v >> 8), p[x++] = (uint8_t)v;
    }
    while ((x - 16) % 4 != 0) p[x++] = 0;
    p[12] = 0xbe, p[13] = 0xde, p[14] = 0, p[15] = (uint8_t)((x - 16) / 4);
    off = x;
  }
  memset(p + off, 0, 254);
  p[off + 254] = 255;
  return sfu_rtp_parse(pkt, p, off + 255, c->send_cap - 64) == 0 ? 0 : SFU_EPROTO;
}

void sfu_consumer_on_key_frame_request(sfu_consumer_t *c, uint32_t ssrc, bool fir, uint64_t now_ms) {
  sfu_rtp_stream_t *s = sfu__stream_for_ssrc(c, ssrc, NULL);
  if (c->kind != SFU_KIND_VIDEO) return;
  sfu__consumer_trace_key_frame_request(c, ssrc, fir);
  if (s == NULL) s = &c->stream;
  if (fir)
    s->fir_count++;
  else
    s->pli_count++;
  if (sfu__consumer_active(c)) sfu__consumer_request_key_frame(c, now_ms);
}

static void sfu__write_stream_sr(sfu_consumer_t *c, sfu_rtp_stream_t *s, sfu_rtcp_writer_t *w, uint64_t now_ms) {
  sfu_rtcp_sr_t sr;
  sfu_rtcp_sdes_t sdes;
  if (s->packets == 0) return;
  sfu_rtp_stream_fill_sr(s, &sr, now_ms);
  if (sfu_rtcp_writer_commit(w, sfu_rtcp_sr_build(sfu_rtcp_writer_tail(w), sfu_rtcp_writer_room(w), &sr)) < 0) return;
  memset(&sdes, 0, sizeof(sdes));
  sdes.count = 1;
  sdes.chunks[0].ssrc = s->params.ssrc;
  if (c->params.cname.ptr != NULL && c->params.cname.len > 0 && c->params.cname.len < 256) {
    sdes.chunks[0].cname = (const uint8_t *)c->params.cname.ptr;
    sdes.chunks[0].cname_len = (uint8_t)c->params.cname.len;
  }
  (void)sfu_rtcp_writer_commit(w, sfu_rtcp_sdes_build(sfu_rtcp_writer_tail(w), sfu_rtcp_writer_room(w), &sdes));
}

void sfu_consumer_write_sr(sfu_consumer_t *c, sfu_rtcp_writer_t *w, uint64_t now_ms) {
  sfu_rtp_stream_t *streams[SFU_RTP_MAX_ENCODINGS];
  size_t n = sfu_consumer_streams(c, streams, SFU_RTP_MAX_ENCODINGS);
  for (size_t i = 0; i < n; i++) sfu__write_stream_sr(c, streams[i], w, now_ms);
}

/* ---- requests ---- */

fb_ref_t sfu_consumer_build_score(sfu_consumer_t *c, fb_builder_t *b) {
  uint8_t pscores[SFU_RTP_MAX_ENCODINGS] = {0};
  uint8_t pscore = 0;
  size_t n = 0;
  if (c->producer != NULL) {
    for (size_t i = 0; i < c->producer->nencodings; i++) {
      const sfu_producer_encoding_t *pe = &c->producer->encodings[i];
      pscores[n++] = pe->stream_active ? pe->stream.score : 0;
      if (pe->mapped_ssrc == c->source_ssrc && pe->stream_active) pscore = pe->stream.score;
    }
  }
  if (c->type == SFU_RTP_PIPE) pscore = 10; /* as mediasoup's PipeConsumer */
  fb_ref_t scores = fb_create_vec_scalars(b, pscores, 1, n);
  FBS_Consumer_ConsumerScore_start(b);
  FBS_Consumer_ConsumerScore_add_score(b, c->stream.score);
  FBS_Consumer_ConsumerScore_add_producer_score(b, pscore);
  FBS_Consumer_ConsumerScore_add_producer_scores(b, scores);
  return FBS_Consumer_ConsumerScore_end(b);
}

static void sfu__dump(sfu_consumer_t *c, sfu_request_t *req) {
  fb_builder_t *b = &c->ctx->fbb;
  fb_table_t r = c->request.root;
  fb_ref_t id = fb_create_string(b, c->id, c->id_len);
  fb_ref_t pid = fb_create_cstring(b, c->producer_id);
  fb_ref_t rtp = sfu_rtp_parameters_build(b, FBS_Transport_ConsumeRequest_rtp_parameters(r), &c->params);
  fb_vec_t ce = FBS_Transport_ConsumeRequest_consumable_rtp_encodings(r);
  fb_ref_t refs[SFU_RTP_MAX_ENCODINGS];
  uint32_t n = 0;
  for (; n < ce.len && n < SFU_RTP_MAX_ENCODINGS; n++)
    refs[n] = FBS_RtpParameters_RtpEncodingParameters_clone(b, fb_vec_table(ce, n));
  fb_ref_t consumable = fb_create_vec_refs(b, refs, n);
  uint8_t pts[SFU_RTP_MAX_CODECS];
  size_t npts = 0;
  for (size_t i = 0; i < c->params.ncodecs; i++)
    if (c->params.codecs[i].id != SFU_CID_RTX) pts[npts++] = c->params.codecs[i].payload_type;
  fb_ref_t supported = fb_create_vec_scalars(b, pts, 1, npts);
  uint8_t types[8];
  size_t nt = 0;
  for (uint8_t i = 0; i < 8; i++)
    if (c->trace_types & (1u << i)) types[nt++] = i;
  fb_ref_t vtypes = fb_create_vec_scalars(b, types, 1, nt);
  FBS_Consumer_BaseConsumerDump_start(b);
  FBS_Consumer_BaseConsumerDump_add_id(b, id);
  FBS_Consumer_BaseConsumerDump_add_type(b, (uint8_t)c->type);
  FBS_Consumer_BaseConsumerDump_add_producer_id(b, pid);
  FBS_Consumer_BaseConsumerDump_add_kind(b, (uint8_t)c->kind);
  FBS_Consumer_BaseConsumerDump_add_rtp_parameters(b, rtp);
  FBS_Consumer_BaseConsumerDump_add_consumable_rtp_encodings(b, consumable);
  FBS_Consumer_BaseConsumerDump_add_supported_codec_payload_types(b, supported);
  FBS_Consumer_BaseConsumerDump_add_trace_event_types(b, vtypes);
  FBS_Consumer_BaseConsumerDump_add_paused(b, c->paused);
  FBS_Consumer_BaseConsumerDump_add_producer_paused(b, c->producer_paused);
  FBS_Consumer_BaseConsumerDump_add_priority(b, c->priority);
  fb_ref_t base = FBS_Consumer_BaseConsumerDump_end(b);
  sfu_rtp_stream_t *ss[SFU_RTP_MAX_ENCODINGS];
  fb_ref_t srefs[SFU_RTP_MAX_ENCODINGS];
  size_t ns = sfu_consumer_streams(c, ss, SFU_RTP_MAX_ENCODINGS);
  for (size_t i = 0; i < ns; i++) srefs[i] = sfu_rtp_stream_dump(ss[i], b);
  fb_ref_t streams = fb_create_vec_refs(b, srefs, ns);
  FBS_Consumer_ConsumerDump_start(b);
  FBS_Consumer_ConsumerDump_add_base(b, base);
  FBS_Consumer_ConsumerDump_add_rtp_streams(b, streams);
  if (c->ops->layered) {
    FBS_Consumer_ConsumerDump_add_preferred_spatial_layer(b, c->preferred_spatial);
    FBS_Consumer_ConsumerDump_add_target_spatial_layer(b, c->target_spatial);
    FBS_Consumer_ConsumerDump_add_current_spatial_layer(b, c->current_spatial);
    FBS_Consumer_ConsumerDump_add_preferred_temporal_layer(b, c->preferred_temporal);
    FBS_Consumer_ConsumerDump_add_target_temporal_layer(b, c->target_temporal >= 0 ? c->target_temporal : c->preferred_temporal);
    FBS_Consumer_ConsumerDump_add_current_temporal_layer(b, sfu__consumer_current_temporal(c));
  }
  fb_ref_t data = FBS_Consumer_ConsumerDump_end(b);
  FBS_Consumer_DumpResponse_start(b);
  FBS_Consumer_DumpResponse_add_data(b, data);
  sfu_request_accept_body(req, FBS_Response_Body_Consumer_DumpResponse, FBS_Consumer_DumpResponse_end(b));
}

static void sfu__stats(sfu_consumer_t *c, sfu_request_t *req) {
  fb_builder_t *b = &c->ctx->fbb;
  uint64_t now = uv_now(c->ctx->loop);
  fb_ref_t stats[SFU_RTP_MAX_ENCODINGS + 1];
  sfu_rtp_stream_t *ss[SFU_RTP_MAX_ENCODINGS];
  size_t n = 0, ns = sfu_consumer_streams(c, ss, SFU_RTP_MAX_ENCODINGS);
  for (size_t i = 0; i < ns; i++) stats[n++] = sfu_rtp_stream_stats(ss[i], b, false, now);
  if (c->producer != NULL && c->lanes == NULL)
    for (size_t i = 0; i < c->producer->nencodings; i++)
      if (c->producer->encodings[i].mapped_ssrc == c->source_ssrc && c->producer->encodings[i].stream_active)
        stats[n++] = sfu_rtp_stream_stats(&c->producer->encodings[i].stream, b, true, now);
  fb_ref_t v = fb_create_vec_refs(b, stats, n);
  FBS_Consumer_GetStatsResponse_start(b);
  FBS_Consumer_GetStatsResponse_add_stats(b, v);
  sfu_request_accept_body(req, FBS_Response_Body_Consumer_GetStatsResponse, FBS_Consumer_GetStatsResponse_end(b));
}

static void sfu__consumer_on_request(sfu_handler_t *h, sfu_request_t *req) {
  sfu_consumer_t *c = sfu_container_of(h, sfu_consumer_t, handler);
  fb_table_t body;
  fb_builder_t *b = &c->ctx->fbb;

  switch (req->method) {
    case FBS_Request_Method_CONSUMER_DUMP:
      sfu__dump(c, req);
      break;
    case FBS_Request_Method_CONSUMER_GET_STATS:
      sfu__stats(c, req);
      break;
    case FBS_Request_Method_CONSUMER_PAUSE:
      c->paused = true;
      sfu_request_accept(req);
      sfu__need_bitrate(c);
      break;
    case FBS_Request_Method_CONSUMER_RESUME:
      if (c->paused) {
        c->paused = false;
        c->sync_required = true;
        if (c->ops->resync != NULL) c->ops->resync(c);
        c->keyframe_required = c->kind == SFU_KIND_VIDEO;
        if (sfu__consumer_active(c)) sfu__consumer_request_key_frame(c, uv_now(c->ctx->loop));
      }
      sfu_request_accept(req);
      sfu__need_bitrate(c);
      break;
    case FBS_Request_Method_CONSUMER_REQUEST_KEY_FRAME:
      if (sfu__consumer_active(c)) sfu__consumer_request_key_frame(c, uv_now(c->ctx->loop));
      sfu_request_accept(req);
      break;
    case FBS_Request_Method_CONSUMER_SET_PREFERRED_LAYERS: {
      if (!sfu_request_body(req, FBS_Request_Body_Consumer_SetPreferredLayersRequest, &body)) return;
      if (!c->ops->layered) {
        /* Simple and pipe consumers have no layers: accepted, nothing to report. */
        FBS_Consumer_SetPreferredLayersResponse_start(b);
        sfu_request_accept_body(req, FBS_Response_Body_Consumer_SetPreferredLayersResponse,
                                FBS_Consumer_SetPreferredLayersResponse_end(b));
        break;
      }
      fb_table_t pl = FBS_Consumer_SetPreferredLayersRequest_preferred_layers(body);
      uint8_t sl = FBS_Consumer_ConsumerLayers_spatial_layer(pl);
      c->preferred_spatial = sl < c->spatial_layers ? sl : (int16_t)(c->spatial_layers - 1);
      if (FBS_Consumer_ConsumerLayers_has_temporal_layer(pl)) {
        uint8_t tl = FBS_Consumer_ConsumerLayers_temporal_layer(pl);
        c->preferred_temporal = tl < c->temporal_layers ? tl : (int16_t)(c->temporal_layers - 1);
      } else {
        c->preferred_temporal = (int16_t)(c->temporal_layers - 1);
      }
      fb_ref_t layers = sfu_consumer_build_preferred_layers(c, b);
      FBS_Consumer_SetPreferredLayersResponse_start(b);
      FBS_Consumer_SetPreferredLayersResponse_add_preferred_layers(b, layers);
      sfu_request_accept_body(req, FBS_Response_Body_Consumer_SetPreferredLayersResponse,
                              FBS_Consumer_SetPreferredLayersResponse_end(b));
      sfu__need_bitrate(c);
      break;
    }
    case FBS_Request_Method_CONSUMER_SET_PRIORITY: {
      if (!sfu_request_body(req, FBS_Request_Body_Consumer_SetPriorityRequest, &body)) return;
      uint8_t prio = FBS_Consumer_SetPriorityRequest_priority(body);
      if (prio < 1) {
        sfu_request_fail(req, SFU_EINVAL, "wrong priority (must be higher than 0)");
        return;
      }
      c->priority = prio;
      FBS_Consumer_SetPriorityResponse_start(b);
      FBS_Consumer_SetPriorityResponse_add_priority(b, prio);
      sfu_request_accept_body(req, FBS_Response_Body_Consumer_SetPriorityResponse, FBS_Consumer_SetPriorityResponse_end(b));
      sfu__need_bitrate(c);
      break;
    }
    case FBS_Request_Method_CONSUMER_ENABLE_TRACE_EVENT: {
      if (!sfu_request_body(req, FBS_Request_Body_Consumer_EnableTraceEventRequest, &body)) return;
      fb_vec_t ev = FBS_Consumer_EnableTraceEventRequest_events(body);
      uint8_t types = 0;
      for (uint32_t i = 0; i < ev.len; i++)
        if (fb_vec_u8(ev, i) < 8) types |= (uint8_t)(1u << fb_vec_u8(ev, i));
      c->trace_types = types;
      sfu_request_accept(req);
      break;
    }
    default:
      sfu_request_not_implemented(req);
      break;
  }
}
