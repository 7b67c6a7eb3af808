#include "sfu_producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_error.h"
#include "sfu_request.h"
#include "sfu_rtcp_feedback.h"
#include "sfu_rtp_dd.h"
#include "sfu_rtx.h"
#include "sfu_vpx_layers.h"

#define SFU_KEYFRAME_REQUEST_MIN_MS 500
#define SFU_RTCP_SENDER_SSRC 1u

static int sfu__fail(char *err, size_t err_len, const char *msg) {
  snprintf(err, err_len, "%s", msg);
  return SFU_EINVAL;
}

static bool sfu__is_media_codec(sfu_codec_id_t id) {
  return id != SFU_CID_RTX && id != SFU_CID_RED && id != SFU_CID_ULPFEC && id != SFU_CID_FLEXFEC;
}

sfu_codec_t sfu_codec_for_keyframes(sfu_codec_id_t id) {
  switch (id) {
    case SFU_CID_VP8:
      return SFU_CODEC_VP8;
    case SFU_CID_VP9:
      return SFU_CODEC_VP9;
    case SFU_CID_H264:
      return SFU_CODEC_H264;
    case SFU_CID_OPUS:
    case SFU_CID_MULTIOPUS:
      return SFU_CODEC_OPUS;
    default:
      return SFU_CODEC_OTHER;
  }
}

/* Valid RTP "type" for a media codec (mediasoup's Codecs::Tools::IsValidTypeForCodec). */
static bool sfu__valid_type(sfu_rtp_type_t type, sfu_codec_id_t id) {
  switch (type) {
    case SFU_RTP_SIMPLE:
    case SFU_RTP_PIPE:
      return true;
    case SFU_RTP_SIMULCAST:
      return id == SFU_CID_VP8 || id == SFU_CID_H264;
    case SFU_RTP_SVC:
      /* mediasoup 3.27 also takes a single VP8/H264 encoding with temporal layers as SVC. */
      return id == SFU_CID_VP9 || id == SFU_CID_AV1 || id == SFU_CID_VP8 || id == SFU_CID_H264;
  }
  return false;
}

int sfu_rtp_params_validate_encodings(sfu_rtp_params_t *p, char *err, size_t err_len) {
  const sfu_rtp_codec_t *first_media = NULL;
  if (p->ncodecs == 0) return sfu__fail(err, err_len, "empty rtpParameters.codecs");
  if (p->nencodings == 0) return sfu__fail(err, err_len, "empty rtpParameters.encodings");
  for (size_t i = 0; i < p->ncodecs; i++) {
    const sfu_rtp_codec_t *c = &p->codecs[i];
    if (c->id == SFU_CID_RTX) {
      const sfu_rtp_codec_t *a = sfu_rtp_params_codec_by_pt(p, c->apt);
      if (a == NULL) return sfu__fail(err, err_len, "apt in RTX codec points to a non existing codec");
      if (!sfu__is_media_codec(a->id)) return sfu__fail(err, err_len, "apt in RTX codec points to a non media codec");
    }
    if (first_media == NULL && sfu__is_media_codec(c->id)) first_media = c;
  }
  if (first_media == NULL) return sfu__fail(err, err_len, "no media codecs found");
  for (size_t i = 0; i < p->nencodings; i++) {
    sfu_rtp_encoding_t *e = &p->encodings[i];
    if (e->spatial_layers > 1 && p->nencodings > 1)
      return sfu__fail(err, err_len, "cannot use both simulcast and encodings with multiple SVC spatial layers");
    if (!e->has_codec_pt) {
      e->has_codec_pt = true;
      e->codec_pt = first_media->payload_type;
    } else {
      const sfu_rtp_codec_t *c = sfu_rtp_params_codec_by_pt(p, e->codec_pt);
      if (c == NULL) return sfu__fail(err, err_len, "unknown codecPayloadType");
      if (!sfu__is_media_codec(c->id)) return sfu__fail(err, err_len, "invalid codecPayloadType");
    }
  }
  return 0;
}

static void sfu__producer_on_request(sfu_handler_t *h, sfu_request_t *req);
static void sfu__producer_on_notification(sfu_handler_t *h, sfu_notification_t *n);

static void sfu__reap(sfu_closing_t *c) {
  sfu_producer_t *p = sfu_container_of(c, sfu_producer_t, closing);
  for (size_t i = 0; i < p->nencodings; i++) {
    sfu_rtp_stream_destroy(&p->encodings[i].stream);
    free(p->encodings[i].nack);
    free(p->encodings[i].dd);
  }
  sfu_fbcopy_free(&p->request);
  free(p->id);
  free(p);
}

int sfu_producer_create(sfu_ctx_t *ctx, const sfu_producer_listener_t *listener, void *listener_arg, fb_table_t req,
                        sfu_producer_t **out, char *err, size_t err_len) {
  sfu_producer_t *p;
  int r;

  if ((p = calloc(1, sizeof(*p))) == NULL) return SFU_ENOMEM;
  p->ctx = ctx;
  p->listener = listener;
  p->listener_arg = listener_arg;
  sfu_list_init(&p->consumers);
  sfu_list_init(&p->transport_link);
  if ((r = sfu_fbcopy_make(&p->request, FBS_Transport_ProduceRequest_clone, req)) != 0) goto fail;
  req = p->request.root;

  fb_str_t id = FBS_Transport_ProduceRequest_producer_id(req);
  if (id.len == 0) {
    r = sfu__fail(err, err_len, "empty producerId");
    goto fail;
  }
  if ((p->id = sfu_strdup_fb(id)) == NULL) {
    r = SFU_ENOMEM;
    goto fail;
  }
  p->id_len = id.len;
  p->kind = FBS_Transport_ProduceRequest_kind(req) == FBS_RtpParameters_MediaKind_VIDEO ? SFU_KIND_VIDEO : SFU_KIND_AUDIO;
  p->paused = FBS_Transport_ProduceRequest_paused(req);
  p->key_frame_request_delay = FBS_Transport_ProduceRequest_key_frame_request_delay(req);

  if ((r = sfu_rtp_params_parse(&p->params, FBS_Transport_ProduceRequest_rtp_parameters(req), err, err_len)) != 0)
    goto fail;
  if ((r = sfu_rtp_params_validate_encodings(&p->params, err, err_len)) != 0) goto fail;

  /* Type, as mediasoup's RtpParameters::GetType. */
  const sfu_rtp_codec_t *media = sfu_rtp_params_codec_by_pt(&p->params, p->params.encodings[0].codec_pt);
  if (p->params.nencodings == 1) {
    const sfu_rtp_encoding_t *e = &p->params.encodings[0];
    if (e->spatial_layers > 1 || e->temporal_layers > 1) {
      if (sfu__valid_type(SFU_RTP_SVC, media->id))
        p->type = SFU_RTP_SVC;
      else if (sfu__valid_type(SFU_RTP_SIMULCAST, media->id))
        p->type = SFU_RTP_SIMULCAST;
      else {
        r = sfu__fail(err, err_len, "invalid RTP parameters");
        goto fail;
      }
    } else {
      p->type = SFU_RTP_SIMPLE;
    }
  } else {
    p->type = SFU_RTP_SIMULCAST;
  }
  if (!sfu__valid_type(p->type, media->id)) {
    snprintf(err, err_len, "%.*s codec not supported for %s", (int)media->mime_type.len, media->mime_type.ptr,
             p->type == SFU_RTP_SIMULCAST ? "simulcast" : "svc");
    r = SFU_EINVAL;
    goto fail;
  }

  /* RTP mapping. */
  memset(p->pt_map, 0xff, sizeof(p->pt_map));
  fb_table_t mapping = FBS_Transport_ProduceRequest_rtp_mapping(req);
  fb_vec_t cmaps = FBS_RtpParameters_RtpMapping_codecs(mapping);
  for (uint32_t i = 0; i < cmaps.len; i++) {
    fb_table_t m = fb_vec_table(cmaps, i);
    uint8_t pt = FBS_RtpParameters_CodecMapping_payload_type(m);
    uint8_t mpt = FBS_RtpParameters_CodecMapping_mapped_payload_type(m);
    if (pt > 127 || mpt > 127) {
      r = sfu__fail(err, err_len, "invalid payload type in rtpMapping.codecs");
      goto fail;
    }
    p->pt_map[pt] = mpt;
  }
  fb_vec_t emaps = FBS_RtpParameters_RtpMapping_encodings(mapping);
  if (emaps.len != p->params.nencodings) {
    r = sfu__fail(err, err_len, "rtpParameters.encodings size does not match rtpMapping.encodings size");
    goto fail;
  }
  p->nencodings = emaps.len;
  for (uint32_t i = 0; i < emaps.len; i++) {
    fb_table_t m = fb_vec_table(emaps, i);
    sfu_producer_encoding_t *pe = &p->encodings[i];
    bool has_ssrc = FBS_RtpParameters_EncodingMapping_has_ssrc(m);
    bool has_rid = FBS_RtpParameters_EncodingMapping_has_rid(m);
    if (emaps.len > 1 && !has_ssrc && !has_rid) {
      r = sfu__fail(err, err_len, "wrong entry in rtpMapping.encodings (missing ssrc or rid)");
      goto fail;
    }
    if (p->params.mid.ptr == NULL && emaps.len == 1 && !has_ssrc && !has_rid) {
      r = sfu__fail(err, err_len, "wrong entry in rtpMapping.encodings (missing ssrc or rid, or rtpParameters.mid)");
      goto fail;
    }
    pe->mapped_ssrc = FBS_RtpParameters_EncodingMapping_mapped_ssrc(m);
    if (pe->mapped_ssrc == 0) {
      r = sfu__fail(err, err_len, "wrong entry in rtpMapping.encodings (missing mappedSsrc)");
      goto fail;
    }
    pe->has_ssrc = p->params.encodings[i].has_ssrc;
    pe->ssrc = p->params.encodings[i].ssrc;
    pe->rid = p->params.encodings[i].rid;
  }

  /* Header extensions: original id -> internal id; MID/RID/RRID stay on this hop. */
  for (unsigned uri = 0; uri < SFU_RTP_EXT_COUNT; uri++) {
    uint8_t xid = p->params.ext_id[uri];
    if (xid == 0) continue;
    if (uri == FBS_RtpParameters_RtpHeaderExtensionUri_Mid || uri == FBS_RtpParameters_RtpHeaderExtensionUri_RtpStreamId ||
        uri == FBS_RtpParameters_RtpHeaderExtensionUri_RepairRtpStreamId ||
        uri == FBS_RtpParameters_RtpHeaderExtensionUri_TransportWideCcDraft01)
      continue;
    p->ext_map[xid] = SFU_EXT_INTERNAL(uri);
  }
  p->audio_level_ext_id = p->params.ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_SsrcAudioLevel];
  p->rid_ext_id = p->params.ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_RtpStreamId];
  p->rrid_ext_id = p->params.ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_RepairRtpStreamId];
  if (p->kind == SFU_KIND_VIDEO) p->dd_ext_id = p->params.ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_DependencyDescriptor];

  p->handler.on_request = sfu__producer_on_request;
  p->handler.on_notification = sfu__producer_on_notification;
  if ((r = sfu_ctx_register(ctx, &p->handler, p->id, p->id_len)) != 0) {
    snprintf(err, err_len, "a Producer with same producerId already exists");
    goto fail;
  }
  p->transport_node.key = p->id;
  p->transport_node.key_len = p->id_len;
  p->router_node.key = p->id;
  p->router_node.key_len = p->id_len;
  *out = p;
  return 0;

fail:
  sfu_fbcopy_free(&p->request);
  free(p->id);
  free(p);
  return r;
}

bool sfu_producer_has_ssrc(const sfu_producer_t *p, uint32_t ssrc) {
  for (size_t i = 0; i < p->params.nencodings; i++) {
    const sfu_rtp_encoding_t *e = &p->params.encodings[i];
    if ((e->has_ssrc && e->ssrc == ssrc) || (e->has_rtx && e->rtx_ssrc == ssrc)) return true;
  }
  return false;
}

static void sfu__timer_closed(uv_handle_t *h) { free(h); }

void sfu_producer_close(sfu_producer_t *p) {
  if (p->closed) return;
  p->closed = true;
  sfu_ctx_unregister(p->ctx, &p->handler);
  if (p->nack_timer != NULL) {
    p->nack_timer->data = NULL;
    uv_close((uv_handle_t *)p->nack_timer, sfu__timer_closed);
    p->nack_timer = NULL;
  }
  if (p->activity_timer != NULL) {
    p->activity_timer->data = NULL;
    uv_close((uv_handle_t *)p->activity_timer, sfu__timer_closed);
    p->activity_timer = NULL;
  }
  sfu_ctx_defer(p->ctx, &p->closing, sfu__reap);
}

/* ---- media ---- */

static void sfu__init_stream(sfu_producer_t *p, size_t idx) {
  sfu_producer_encoding_t *pe = &p->encodings[idx];
  const sfu_rtp_encoding_t *e = &p->params.encodings[idx];
  const sfu_rtp_codec_t *c = sfu_rtp_params_codec_by_pt(&p->params, e->codec_pt);
  const sfu_rtp_codec_t *rtx = sfu_rtp_params_rtx_for(&p->params, e->codec_pt);
  sfu_rtp_stream_params_t sp;

  memset(&sp, 0, sizeof(sp));
  sp.kind = p->kind;
  sp.encoding_idx = (uint32_t)idx;
  sp.ssrc = pe->ssrc;
  sp.payload_type = c->payload_type;
  sp.mime_type = c->mime_type;
  sp.clock_rate = c->clock_rate;
  sp.rid = e->rid;
  sp.cname = p->params.cname;
  if (e->has_rtx) {
    sp.has_rtx = true;
    sp.rtx_ssrc = e->rtx_ssrc;
    sp.rtx_payload_type = rtx != NULL ? rtx->payload_type : 0;
  }
  sp.use_nack = (c->rtcp_fb & SFU_RTCP_FB_NACK) != 0;
  sp.use_pli = (c->rtcp_fb & SFU_RTCP_FB_NACK_PLI) != 0;
  sp.use_fir = (c->rtcp_fb & SFU_RTCP_FB_CCM_FIR) != 0;
  sp.use_in_band_fec = c->useinbandfec;
  sp.use_dtx = c->usedtx;
  sp.spatial_layers = e->spatial_layers;
  sp.temporal_layers = e->temporal_layers;
  sp.codec = sfu_codec_for_keyframes(c->id);
  sfu_rtp_stream_init(&pe->stream, &sp, false);
  pe->stream_active = true;
  if (sp.use_nack && pe->nack == NULL && (pe->nack = malloc(sizeof(*pe->nack))) != NULL)
    sfu_nack_generator_init(pe->nack);
}

/* ---- NACKs ---- */

static void sfu__send_nacks(sfu_producer_t *p, sfu_producer_encoding_t *pe, const uint16_t *seqs, size_t n) {
  uint8_t buf[512];
  size_t off = 0;
  while (off < n) {
    size_t consumed = 0;
    int len = sfu_rtcp_nack_build(buf, sizeof(buf), SFU_RTCP_SENDER_SSRC, pe->ssrc, seqs + off, n - off, &consumed);
    if (len <= 0 || consumed == 0) break;
    pe->stream.nack_count++;
    pe->stream.nack_packet_count += consumed;
    p->listener->send_rtcp(p->listener_arg, p, buf, (size_t)len);
    sfu__producer_trace_nack(p);
    off += consumed;
  }
}

static void sfu__nack_timer_cb(uv_timer_t *t) {
  sfu_producer_t *p = t->data;
  uint16_t seqs[256];
  bool pending = false;
  if (p == NULL || p->closed) return;
  uint64_t now = uv_now(p->ctx->loop);
  for (size_t i = 0; i < p->nencodings; i++) {
    sfu_producer_encoding_t *pe = &p->encodings[i];
    if (pe->nack == NULL || !sfu_nack_generator_pending(pe->nack)) continue;
    size_t n = sfu_nack_generator_on_timer(pe->nack, now, (uint32_t)pe->stream.rtt_ms, seqs, 256);
    if (n > 0) sfu__send_nacks(p, pe, seqs, n);
    if (sfu_nack_generator_pending(pe->nack)) pending = true;
  }
  if (!pending) uv_timer_stop(t);
}

static void sfu__nack_timer_start(sfu_producer_t *p) {
  if (p->nack_timer == NULL) {
    if ((p->nack_timer = malloc(sizeof(*p->nack_timer))) == NULL) return;
    if (uv_timer_init(p->ctx->loop, p->nack_timer) != 0) {
      free(p->nack_timer);
      p->nack_timer = NULL;
      return;
    }
    p->nack_timer->data = p;
  }
  if (!uv_is_active((uv_handle_t *)p->nack_timer))
    uv_timer_start(p->nack_timer, sfu__nack_timer_cb, SFU_NACK_TIMER_MS, SFU_NACK_TIMER_MS);
}

/* Tells the stream's NACK generator about a packet: NACKs for new holes go
 * out at once, a key frame is asked for when too much was lost. */
static sfu_nack_result_t sfu__nack_on_packet(sfu_producer_t *p, sfu_producer_encoding_t *pe, const sfu_rtp_packet_t *pkt,
                                             bool repaired, uint64_t now_ms) {
  uint16_t seqs[256];
  size_t n = 0;
  bool kf_needed = false;
  bool key = p->kind == SFU_KIND_VIDEO && sfu_rtp_is_keyframe(pkt, pe->stream.params.codec);
  sfu_nack_result_t r = sfu_nack_generator_on_packet(pe->nack, pkt->seq, key, repaired, now_ms, seqs, 256, &n, &kf_needed);
  if (n > 0) sfu__send_nacks(p, pe, seqs, n);
  if (kf_needed) {
    pe->last_keyframe_request_ms = 0; /* not throttled: the stream cannot be repaired */
    sfu_producer_request_key_frame(p, pe->mapped_ssrc, now_ms);
  }
  if (sfu_nack_generator_pending(pe->nack)) sfu__nack_timer_start(p);
  return r;
}

static void sfu__send_score(sfu_producer_t *p) {
  fb_builder_t *b = &p->ctx->fbb;
  fb_ref_t scores[SFU_RTP_MAX_ENCODINGS];
  size_t n = 0;
  for (size_t i = 0; i < p->nencodings; i++) {
    sfu_producer_encoding_t *pe = &p->encodings[i];
    if (!pe->stream_active) continue;
    fb_ref_t rid = pe->rid.ptr != NULL ? fb_create_string(b, pe->rid.ptr, pe->rid.len) : 0;
    FBS_Producer_Score_start(b);
    FBS_Producer_Score_add_encoding_idx(b, (uint32_t)i);
    FBS_Producer_Score_add_ssrc(b, pe->ssrc);
    FBS_Producer_Score_add_rid(b, rid);
    FBS_Producer_Score_add_score(b, pe->stream.score);
    scores[n++] = FBS_Producer_Score_end(b);
  }
  fb_ref_t vec = fb_create_vec_refs(b, scores, n);
  FBS_Producer_ScoreNotification_start(b);
  FBS_Producer_ScoreNotification_add_scores(b, vec);
  fb_ref_t body = FBS_Producer_ScoreNotification_end(b);
  sfu_ctx_notify(p->ctx, p->id, FBS_Notification_Event_PRODUCER_SCORE, FBS_Notification_Body_Producer_ScoreNotification,
                 body);
}

/* H264 says nothing of its layers in the payload: the Dependency
 * Descriptor does (libwebrtc sends one when it is negotiated and the encoder
 * runs a scalability mode). The packet is annotated for the consumers; a
 * descriptor that needs a structure we lack asks for a key frame. */
static void sfu__read_dd(sfu_producer_t *p, sfu_producer_encoding_t *pe, sfu_rtp_packet_t *pkt, uint64_t now_ms) {
  size_t len;
  const uint8_t *v = sfu_rtp_get_extension(pkt, p->dd_ext_id, &len);
  sfu_rtp_dd_t dd;
  if (v == NULL) return;
  if (pe->dd == NULL && (pe->dd = calloc(1, sizeof(*pe->dd))) == NULL) return;
  int r = sfu_rtp_dd_parse(v, len, pe->dd, &dd);
  if (r == SFU_ESTATE) {
    sfu_producer_request_key_frame(p, pe->mapped_ssrc, now_ms);
    return;
  }
  if (r != 0 || dd.spatial_id >= SFU_RTP_STREAM_MAX_SL || dd.temporal_id >= SFU_RTP_STREAM_MAX_TL) return;
  pkt->dd_layers = true;
  pkt->dd_frame_start = dd.start_of_frame;
  pkt->dd_frame_end = dd.end_of_frame;
  pkt->dd_key = dd.has_structure;
  pkt->dd_sid = dd.spatial_id;
  pkt->dd_tid = dd.temporal_id;
  pkt->dd_switch_up = 0;
  for (uint8_t i = 0; i < pe->dd->decode_target_count; i++) {
    if (pe->dd->decode_target_spatial_id[i] != dd.spatial_id || dd.dtis[i] != SFU_RTP_DD_DTI_SWITCH) continue;
    uint8_t t = pe->dd->decode_target_temporal_id[i];
    if (t < 8) pkt->dd_switch_up |= (uint8_t)(1u << t);
  }
}

/* ---- activity ---- */

static void sfu__score_changed(sfu_producer_t *p) {
  sfu__send_score(p);
  if (p->listener->on_score != NULL) p->listener->on_score(p->listener_arg, p);
}

void sfu_producer_check_activity(sfu_producer_t *p, uint64_t now_ms) {
  bool changed = false;
  for (size_t i = 0; i < p->nencodings; i++) {
    sfu_rtp_stream_t *s = &p->encodings[i].stream;
    uint64_t limit = s->params.use_dtx ? SFU_PRODUCER_INACTIVE_DTX_MS : SFU_PRODUCER_INACTIVE_MS;
    if (!p->encodings[i].stream_active || s->inactive || s->packets == 0 || now_ms - s->last_recv_ms < limit) continue;
    s->inactive = true;
    if (s->score != 0) changed = true;
    s->score = 0;
  }
  if (changed) sfu__score_changed(p);
}

static void sfu__activity_timer_cb(uv_timer_t *t) {
  sfu_producer_t *p = t->data;
  if (p == NULL || p->closed) return;
  sfu_producer_check_activity(p, uv_now(p->ctx->loop));
}

static void sfu__activity_timer_start(sfu_producer_t *p) {
  if (p->activity_timer != NULL) return;
  if ((p->activity_timer = malloc(sizeof(*p->activity_timer))) == NULL) return;
  if (uv_timer_init(p->ctx->loop, p->activity_timer) != 0) {
    free(p->activity_timer);
    p->activity_timer = NULL;
    return;
  }
  p->activity_timer->data = p;
  uv_timer_start(p->activity_timer, sfu__activity_timer_cb, SFU_PRODUCER_ACTIVITY_CHECK_MS, SFU_PRODUCER_ACTIVITY_CHECK_MS);
}

/* The tail of the media path: observers, router form, fan-out. */
static inline void sfu__forward(sfu_producer_t *p, sfu_producer_encoding_t *pe, sfu_rtp_packet_t *pkt, uint8_t mapped_pt,
                                bool is_rtx, uint64_t now_ms) {
  uint8_t sid, tid;
  if (p->dd_ext_id != 0 && pe->stream.params.codec == SFU_CODEC_H264) sfu__read_dd(p, pe, pkt, now_ms);
  /* Bitrate per temporal (and SVC spatial) layer, for the consumers' allocation. */
  if (p->kind == SFU_KIND_VIDEO && sfu_vpx_packet_layers(pkt, pe->stream.params.codec, &sid, &tid) &&
      tid < SFU_RTP_STREAM_MAX_TL && sid < SFU_RTP_STREAM_MAX_SL) {
    pe->stream.has_tl = true;
    if (tid > pe->stream.max_tid) pe->stream.max_tid = tid;
    if (sid > pe->stream.max_sid) pe->stream.max_sid = sid;
    sfu_rate_add(&pe->stream.layer_rate[sid][tid], now_ms, pkt->len);
  }
  if (!p->scored) {
    p->scored = true;
    sfu__send_score(p);
    sfu__activity_timer_start(p);
  }
  if (pe->stream.inactive) {
    /* media again after a silence */
    pe->stream.inactive = false;
    pe->stream.score = 10;
    sfu__score_changed(p);
  }
  /* Audio level for observers (before ids are rewritten). */
  if (p->audio_level_ext_id != 0 && p->observer_count > 0) {
    uint8_t level;
    bool voice;
    if (sfu_rtp_read_audio_level(pkt, p->audio_level_ext_id, &level, &voice))
      p->listener->on_audio_level(p->listener_arg, p, level);
  }
  if (p->trace_types != 0 && !p->paused) sfu__producer_trace_rtp(p, pkt, pe->stream.params.codec, is_rtx);
  /* Router form: mapped payload type and SSRC. Header extensions keep their
   * original ids: each consumer maps them (through p->ext_map) when it
   * rebuilds the block anyway, so a packet is rebuilt once, not twice. */
  sfu_rtp_set_payload_type(pkt, mapped_pt);
  sfu_rtp_set_ssrc(pkt, pe->mapped_ssrc);
  if (p->paused) return;
  p->listener->on_rtp(p->listener_arg, p, pkt, now_ms);
}

/* A retransmission for encoding idx: restored and forwarded if it repairs a
 * packet we asked for or brings one we have not seen yet; anything else
 * (padding probes, repeats of packets we have) is counted and dropped. */
static sfu_producer_rtp_result_t sfu__receive_rtx(sfu_producer_t *p, size_t idx, sfu_rtp_packet_t *pkt,
                                                  uint64_t now_ms) {
  sfu_producer_encoding_t *pe = &p->encodings[idx];
  if (!pe->stream_active) return SFU_PRODUCER_RTP_RTX;
  const sfu_rtp_codec_t *rtx = sfu_rtp_params_codec_by_pt(&p->params, pkt->payload_type);
  uint8_t media_pt = pe->stream.params.payload_type;
  if (pe->nack == NULL || rtx == NULL || rtx->id != SFU_CID_RTX || rtx->apt != media_pt ||
      sfu_rtx_decode(pkt, media_pt, pe->ssrc) != 0) {
    pe->stream.rtx_packets_discarded++;
    return SFU_PRODUCER_RTP_RTX;
  }
  /* A packet we asked for, or one newer than any we have (Chromium's RTX
   * probes resend recent packets, and one of them may be a packet whose
   * original was lost and not missed yet): forwarded. Repeats are not. */
  sfu_nack_result_t r = sfu__nack_on_packet(p, pe, pkt, true, now_ms);
  if (r != SFU_NACK_RECOVERED && r != SFU_NACK_NEW) {
    pe->stream.rtx_packets_discarded++;
    return SFU_PRODUCER_RTP_RTX;
  }
  pe->stream.packets_repaired++;
  (void)sfu_rtp_stream_recv(&pe->stream, pkt, now_ms);
  sfu__forward(p, pe, pkt, p->pt_map[media_pt & 0x7f], true, now_ms);
  return SFU_PRODUCER_RTP_RTX;
}

sfu_producer_rtp_result_t sfu_producer_receive_rtp(sfu_producer_t *p, sfu_rtp_packet_t *pkt, uint64_t now_ms) {
  size_t idx = SIZE_MAX;

  p->packets_in++;
  /* Which encoding: known SSRC, RTX SSRC, RID, or the only one. */
  for (size_t i = 0; i < p->nencodings; i++) {
    if (p->encodings[i].has_ssrc && p->encodings[i].ssrc == pkt->ssrc) {
      idx = i;
      break;
    }
    const sfu_rtp_encoding_t *e = &p->params.encodings[i];
    if ((e->has_rtx && e->rtx_ssrc == pkt->ssrc) || (p->encodings[i].has_rtx_ssrc && p->encodings[i].rtx_ssrc == pkt->ssrc))
      return sfu__receive_rtx(p, i, pkt, now_ms);
  }
  if (idx == SIZE_MAX) {
    const char *rid = NULL;
    size_t rid_len = 0;
    if (p->rrid_ext_id != 0 && sfu_rtp_read_string(pkt, p->rrid_ext_id, &rid, &rid_len)) {
      /* RTX by repaired RID: its SSRC is learned for the packets without it */
      for (size_t i = 0; i < p->nencodings; i++) {
        fb_str_t r = p->encodings[i].rid;
        if (r.ptr != NULL && r.len == rid_len && memcmp(r.ptr, rid, rid_len) == 0) {
          p->encodings[i].has_rtx_ssrc = true;
          p->encodings[i].rtx_ssrc = pkt->ssrc;
          return sfu__receive_rtx(p, i, pkt, now_ms);
        }
      }
      return SFU_PRODUCER_RTP_RTX;
    }
    if (p->rid_ext_id != 0 && sfu_rtp_read_string(pkt, p->rid_ext_id, &rid, &rid_len)) {
      for (size_t i = 0; i < p->nencodings; i++) {
        fb_str_t r = p->encodings[i].rid;
        if (r.ptr != NULL && r.len == rid_len && memcmp(r.ptr, rid, rid_len) == 0 && !p->encodings[i].has_ssrc) {
          idx = i;
          break;
        }
      }
    } else if (p->nencodings == 1 && !p->encodings[0].has_ssrc && p->encodings[0].rid.ptr == NULL) {
      idx = 0;
    }
    if (idx == SIZE_MAX) return SFU_PRODUCER_RTP_DISCARDED;
    p->encodings[idx].has_ssrc = true;
    p->encodings[idx].ssrc = pkt->ssrc;
  }
  sfu_producer_encoding_t *pe = &p->encodings[idx];

  /* Payload type: must be the encoding's media codec (RTX/FEC payloads are not forwarded). */
  uint8_t mapped_pt = pkt->payload_type < 128 ? p->pt_map[pkt->payload_type] : 0xff;
  const sfu_rtp_codec_t *codec = sfu_rtp_params_codec_by_pt(&p->params, pkt->payload_type);
  if (mapped_pt == 0xff || codec == NULL || codec->id == SFU_CID_RTX) return SFU_PRODUCER_RTP_DISCARDED;

  if (!pe->stream_active) sfu__init_stream(p, idx);
  if (pe->nack != NULL && sfu__nack_on_packet(p, pe, pkt, false, now_ms) == SFU_NACK_DUPLICATE) {
    pe->stream.packets_discarded++;
    return SFU_PRODUCER_RTP_DISCARDED;
  }
  if (!sfu_rtp_stream_recv(&pe->stream, pkt, now_ms)) return SFU_PRODUCER_RTP_DISCARDED;
  sfu__forward(p, pe, pkt, mapped_pt, false, now_ms);
  return SFU_PRODUCER_RTP_MEDIA;
}

void sfu_producer_receive_sr(sfu_producer_t *p, const sfu_rtcp_sr_t *sr, uint64_t now_ms) {
  for (size_t i = 0; i < p->nencodings; i++) {
    if (p->encodings[i].stream_active && p->encodings[i].ssrc == sr->ssrc) {
      sfu_rtp_stream_on_sr(&p->encodings[i].stream, sr, now_ms);
      sfu__producer_trace_sr(p, sr);
      return;
    }
  }
}

size_t sfu_producer_fill_rr(sfu_producer_t *p, sfu_rtcp_rb_t *rbs, size_t max, uint64_t now_ms) {
  size_t n = 0;
  for (size_t i = 0; i < p->nencodings && n < max; i++) {
    if (!p->encodings[i].stream_active) continue;
    uint8_t before = p->encodings[i].stream.score;
    sfu_rtp_stream_fill_rr(&p->encodings[i].stream, &rbs[n++], now_ms);
    if (p->encodings[i].stream.score != before) sfu__score_changed(p);
  }
  return n;
}

void sfu_producer_request_key_frame(sfu_producer_t *p, uint32_t mapped_ssrc, uint64_t now_ms) {
  uint8_t buf[64];
  int len;
  if (p->kind != SFU_KIND_VIDEO) return;
  for (size_t i = 0; i < p->nencodings; i++) {
    sfu_producer_encoding_t *pe = &p->encodings[i];
    if (pe->mapped_ssrc != mapped_ssrc || !pe->stream_active) continue;
    uint64_t min_gap = p->key_frame_request_delay > SFU_KEYFRAME_REQUEST_MIN_MS ? p->key_frame_request_delay
                                                                                 : SFU_KEYFRAME_REQUEST_MIN_MS;
    if (pe->last_keyframe_request_ms != 0 && now_ms - pe->last_keyframe_request_ms < min_gap) return;
    pe->last_keyframe_request_ms = now_ms;
    if (pe->stream.params.use_pli || !pe->stream.params.use_fir) {
      len = sfu_rtcp_pli_build(buf, sizeof(buf), SFU_RTCP_SENDER_SSRC, pe->ssrc);
      pe->stream.pli_count++;
      sfu__producer_trace_key_frame_request(p, pe->ssrc, false);
    } else {
      sfu_rtcp_fir_entry_t e = {.ssrc = pe->ssrc, .seq = (uint8_t)pe->stream.fir_count};
      len = sfu_rtcp_fir_build(buf, sizeof(buf), SFU_RTCP_SENDER_SSRC, 0, &e, 1);
      pe->stream.fir_count++;
      sfu__producer_trace_key_frame_request(p, pe->ssrc, true);
    }
    if (len > 0) p->listener->send_rtcp(p->listener_arg, p, buf, (size_t)len);
    return;
  }
}

/* ---- dumps and requests ---- */

fb_ref_t sfu_producer_build_rtp_parameters(const sfu_producer_t *p, fb_builder_t *b) {
  return sfu_rtp_parameters_build(b, FBS_Transport_ProduceRequest_rtp_parameters(p->request.root), &p->params);
}

static void sfu__dump(sfu_producer_t *p, sfu_request_t *req) {
  fb_builder_t *b = &p->ctx->fbb;
  fb_ref_t streams[SFU_RTP_MAX_ENCODINGS];
  size_t n = 0;
  fb_ref_t id = fb_create_string(b, p->id, p->id_len);
  fb_ref_t rtp = sfu_producer_build_rtp_parameters(p, b);
  fb_ref_t mapping = FBS_RtpParameters_RtpMapping_clone(b, FBS_Transport_ProduceRequest_rtp_mapping(p->request.root));
  for (size_t i = 0; i < p->nencodings; i++)
    if (p->encodings[i].stream_active) streams[n++] = sfu_rtp_stream_dump(&p->encodings[i].stream, b);
  fb_ref_t vstreams = fb_create_vec_refs(b, streams, n);
  uint8_t types[8];
  size_t nt = 0;
  for (uint8_t i = 0; i < 8; i++)
    if (p->trace_types & (1u << i)) types[nt++] = i;
  fb_ref_t vtypes = fb_create_vec_scalars(b, types, 1, nt);
  FBS_Producer_DumpResponse_start(b);
  FBS_Producer_DumpResponse_add_id(b, id);
  FBS_Producer_DumpResponse_add_kind(b, (uint8_t)p->kind);
  FBS_Producer_DumpResponse_add_type(b, (uint8_t)p->type);
  FBS_Producer_DumpResponse_add_rtp_parameters(b, rtp);
  FBS_Producer_DumpResponse_add_rtp_mapping(b, mapping);
  FBS_Producer_DumpResponse_add_rtp_streams(b, vstreams);
  FBS_Producer_DumpResponse_add_trace_event_types(b, vtypes);
  FBS_Producer_DumpResponse_add_paused(b, p->paused);
  sfu_request_accept_body(req, FBS_Response_Body_Producer_DumpResponse, FBS_Producer_DumpResponse_end(b));
}

static void sfu__stats(sfu_producer_t *p, sfu_request_t *req) {
  fb_builder_t *b = &p->ctx->fbb;
  fb_ref_t stats[SFU_RTP_MAX_ENCODINGS];
  size_t n = 0;
  uint64_t now = uv_now(p->ctx->loop);
  for (size_t i = 0; i < p->nencodings; i++)
    if (p->encodings[i].stream_active) stats[n++] = sfu_rtp_stream_stats(&p->encodings[i].stream, b, true, now);
  fb_ref_t v = fb_create_vec_refs(b, stats, n);
  FBS_Producer_GetStatsResponse_start(b);
  FBS_Producer_GetStatsResponse_add_stats(b, v);
  sfu_request_accept_body(req, FBS_Response_Body_Producer_GetStatsResponse, FBS_Producer_GetStatsResponse_end(b));
}

static void sfu__producer_on_request(sfu_handler_t *h, sfu_request_t *req) {
  sfu_producer_t *p = sfu_container_of(h, sfu_producer_t, handler);
  fb_table_t body;

  switch (req->method) {
    case FBS_Request_Method_PRODUCER_DUMP:
      sfu__dump(p, req);
      break;
    case FBS_Request_Method_PRODUCER_GET_STATS:
      sfu__stats(p, req);
      break;
    case FBS_Request_Method_PRODUCER_PAUSE:
      if (!p->paused) {
        p->paused = true;
        p->listener->on_paused(p->listener_arg, p, true);
      }
      sfu_request_accept(req);
      break;
    case FBS_Request_Method_PRODUCER_RESUME:
      if (p->paused) {
        p->paused = false;
        p->listener->on_paused(p->listener_arg, p, false);
      }
      sfu_request_accept(req);
      break;
    case FBS_Request_Method_PRODUCER_ENABLE_TRACE_EVENT: {
      if (!sfu_request_body(req, FBS_Request_Body_Producer_EnableTraceEventRequest, &body)) return;
      fb_vec_t ev = FBS_Producer_EnableTraceEventRequest_events(body);
      uint8_t types = 0;
      for (uint32_t i = 0; i < ev.len; i++)
        if (fb_vec_u8(ev, i) < 8) types |= (uint8_t)(1u << fb_vec_u8(ev, i));
      p->trace_types = types;
      sfu_request_accept(req);
      break;
    }
    default:
      sfu_request_not_implemented(req);
      break;
  }
}

/* PRODUCER_SEND: an RTP packet from Node (DirectTransport), to the transport. */
static void sfu__producer_on_notification(sfu_handler_t *h, sfu_notification_t *n) {
  sfu_producer_t *p = sfu_container_of(h, sfu_producer_t, handler);
  if (n->event != FBS_Notification_Event_PRODUCER_SEND || n->body_type != FBS_Notification_Body_Producer_SendNotification ||
      p->listener->on_send == NULL) {
    SFU_DEBUG(&p->ctx->log, "unexpected Producer notification dropped [event:%s]", n->event_name);
    return;
  }
  fb_vec_t data = FBS_Producer_SendNotification_data(n->body);
  p->listener->on_send(p->listener_arg, p, data.buf + data.pos, data.len);
}
