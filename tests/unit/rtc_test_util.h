/* Helpers for the tests of worker/src/rtc alone (no transport, router or
 * channel): ProduceRequest / ConsumeRequest FlatBuffers built with the
 * generated builders, RTP packets (Opus, VP8 key and delta frames), and a
 * small context (loop, settings, sfu_ctx) whose notifications go nowhere. */
#ifndef RTC_TEST_UTIL_H
#define RTC_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "fbs_generated.h"
#include "sfu_ctx.h"
#include "sfu_rtp_packet.h"

typedef struct tcodec {
  const char *mime;
  uint8_t pt;
  uint32_t clock;
  uint8_t channels; /* 0: none */
  uint8_t apt;      /* RTX: the associated payload type */
  bool nack, pli, fir;
  bool usedtx; /* Opus: the usedtx=1 parameter */
} tcodec_t;

typedef struct tenc {
  uint32_t ssrc; /* 0: none */
  const char *rid;
  uint32_t rtx_ssrc; /* 0: none */
  const char *scalability;
} tenc_t;

typedef struct text {
  uint8_t uri; /* FBS_RtpParameters_RtpHeaderExtensionUri_* */
  uint8_t id;
} text_t;

typedef struct trtp {
  const char *mid;
  const tcodec_t *codecs;
  size_t ncodecs;
  const tenc_t *encs;
  size_t nencs;
  const text_t *exts;
  size_t nexts;
  const char *cname;
} trtp_t;

static inline fb_ref_t rtc_build_feedback(fb_builder_t *b, const tcodec_t *c) {
  size_t n = 0;
  const char *types[4], *params[4];
  if (c->nack) types[n] = "nack", params[n++] = NULL;
  if (c->pli) types[n] = "nack", params[n++] = "pli";
  if (c->fir) types[n] = "ccm", params[n++] = "fir";
  fb_ref_t refs[4];
  for (size_t i = 0; i < n; i++) {
    fb_ref_t t = fb_create_cstring(b, types[i]);
    fb_ref_t p = params[i] != NULL ? fb_create_cstring(b, params[i]) : 0;
    FBS_RtpParameters_RtcpFeedback_start(b);
    FBS_RtpParameters_RtcpFeedback_add_type(b, t);
    if (p) FBS_RtpParameters_RtcpFeedback_add_parameter(b, p);
    refs[i] = FBS_RtpParameters_RtcpFeedback_end(b);
  }
  return fb_create_vec_refs(b, refs, n);
}

static inline fb_ref_t rtc_build_params(fb_builder_t *b, const trtp_t *r) {
  fb_ref_t codecs[8], encs[8], exts[8];
  for (size_t i = 0; i < r->ncodecs; i++) {
    const tcodec_t *c = &r->codecs[i];
    fb_ref_t mime = fb_create_cstring(b, c->mime);
    fb_ref_t pv[2];
    size_t np = 0;
    const char *pnames[2];
    int32_t pvals[2];
    if (c->apt != 0) pnames[np] = "apt", pvals[np++] = c->apt;
    if (c->usedtx) pnames[np] = "usedtx", pvals[np++] = 1;
    for (size_t k = 0; k < np; k++) {
      fb_ref_t name = fb_create_cstring(b, pnames[k]);
      FBS_RtpParameters_Integer32_start(b);
      FBS_RtpParameters_Integer32_add_value(b, pvals[k]);
      fb_ref_t v = FBS_RtpParameters_Integer32_end(b);
      FBS_RtpParameters_Parameter_start(b);
      FBS_RtpParameters_Parameter_add_name(b, name);
      FBS_RtpParameters_Parameter_add_value(b, FBS_RtpParameters_Value_Integer32, v);
      pv[k] = FBS_RtpParameters_Parameter_end(b);
    }
    fb_ref_t params = fb_create_vec_refs(b, pv, np);
    fb_ref_t fb = rtc_build_feedback(b, c);
    FBS_RtpParameters_RtpCodecParameters_start(b);
    FBS_RtpParameters_RtpCodecParameters_add_mime_type(b, mime);
    FBS_RtpParameters_RtpCodecParameters_add_payload_type(b, c->pt);
    FBS_RtpParameters_RtpCodecParameters_add_clock_rate(b, c->clock);
    if (c->channels) FBS_RtpParameters_RtpCodecParameters_add_channels(b, c->channels);
    FBS_RtpParameters_RtpCodecParameters_add_parameters(b, params);
    FBS_RtpParameters_RtpCodecParameters_add_rtcp_feedback(b, fb);
    codecs[i] = FBS_RtpParameters_RtpCodecParameters_end(b);
  }
  for (size_t i = 0; i < r->nencs; i++) {
    const tenc_t *e = &r->encs[i];
    fb_ref_t rid = e->rid ? fb_create_cstring(b, e->rid) : 0;
    fb_ref_t sm = e->scalability ? fb_create_cstring(b, e->scalability) : 0;
    fb_ref_t rtx = 0;
    if (e->rtx_ssrc) {
      FBS_RtpParameters_Rtx_start(b);
      FBS_RtpParameters_Rtx_add_ssrc(b, e->rtx_ssrc);
      rtx = FBS_RtpParameters_Rtx_end(b);
    }
    FBS_RtpParameters_RtpEncodingParameters_start(b);
    if (e->ssrc) FBS_RtpParameters_RtpEncodingParameters_add_ssrc(b, e->ssrc);
    if (rid) FBS_RtpParameters_RtpEncodingParameters_add_rid(b, rid);
    if (rtx) FBS_RtpParameters_RtpEncodingParameters_add_rtx(b, rtx);
    if (sm) FBS_RtpParameters_RtpEncodingParameters_add_scalability_mode(b, sm);
    encs[i] = FBS_RtpParameters_RtpEncodingParameters_end(b);
  }
  for (size_t i = 0; i < r->nexts; i++) {
    FBS_RtpParameters_RtpHeaderExtensionParameters_start(b);
    FBS_RtpParameters_RtpHeaderExtensionParameters_add_uri(b, r->exts[i].uri);
    FBS_RtpParameters_RtpHeaderExtensionParameters_add_id(b, r->exts[i].id);
    exts[i] = FBS_RtpParameters_RtpHeaderExtensionParameters_end(b);
  }
  fb_ref_t vc = fb_create_vec_refs(b, codecs, r->ncodecs);
  fb_ref_t ve = fb_create_vec_refs(b, encs, r->nencs);
  fb_ref_t vx = fb_create_vec_refs(b, exts, r->nexts);
  fb_ref_t mid = r->mid ? fb_create_cstring(b, r->mid) : 0;
  fb_ref_t cname = fb_create_cstring(b, r->cname ? r->cname : "test-cname");
  FBS_RtpParameters_RtcpParameters_start(b);
  FBS_RtpParameters_RtcpParameters_add_cname(b, cname);
  fb_ref_t rtcp = FBS_RtpParameters_RtcpParameters_end(b);
  FBS_RtpParameters_RtpParameters_start(b);
  if (mid) FBS_RtpParameters_RtpParameters_add_mid(b, mid);
  FBS_RtpParameters_RtpParameters_add_codecs(b, vc);
  FBS_RtpParameters_RtpParameters_add_header_extensions(b, vx);
  FBS_RtpParameters_RtpParameters_add_encodings(b, ve);
  FBS_RtpParameters_RtpParameters_add_rtcp(b, rtcp);
  return FBS_RtpParameters_RtpParameters_end(b);
}

/* A finished FlatBuffer kept until rtc_free_bufs(). */
#define RTC_MAX_BUFS 32
static uint8_t *rtc_bufs[RTC_MAX_BUFS];
static size_t rtc_nbufs;

static inline fb_table_t rtc_finish(fb_builder_t *b, fb_ref_t root) {
  const uint8_t *out;
  size_t len;
  assert_int_equal(fb_builder_finish(b, root, &out, &len), 0);
  assert_true(rtc_nbufs < RTC_MAX_BUFS);
  uint8_t *copy = malloc(len);
  assert_non_null(copy);
  memcpy(copy, out, len);
  rtc_bufs[rtc_nbufs++] = copy;
  fb_builder_clear(b);
  return fb__root(copy, len);
}

static inline void rtc_free_bufs(void) {
  for (size_t i = 0; i < rtc_nbufs; i++) free(rtc_bufs[i]);
  rtc_nbufs = 0;
}

/* The router's payload type for a producer's. */
#define RTC_MAPPED_PT(pt) ((uint8_t)((pt) + 10))

/* A ProduceRequest: codec payload types map to RTC_MAPPED_PT (the router's),
 * encodings' SSRCs to mapped_base + i. */
static inline fb_table_t rtc_produce_req(const char *id, bool video, const trtp_t *r, uint32_t mapped_base,
                                         bool paused) {
  fb_builder_t b;
  assert_int_equal(fb_builder_init(&b, 1024), 0);
  fb_ref_t pid = fb_create_cstring(&b, id);
  fb_ref_t params = rtc_build_params(&b, r);
  fb_ref_t cm[8], em[8];
  for (size_t i = 0; i < r->ncodecs; i++) {
    FBS_RtpParameters_CodecMapping_start(&b);
    FBS_RtpParameters_CodecMapping_add_payload_type(&b, r->codecs[i].pt);
    FBS_RtpParameters_CodecMapping_add_mapped_payload_type(&b, RTC_MAPPED_PT(r->codecs[i].pt));
    cm[i] = FBS_RtpParameters_CodecMapping_end(&b);
  }
  for (size_t i = 0; i < r->nencs; i++) {
    fb_ref_t rid = r->encs[i].rid ? fb_create_cstring(&b, r->encs[i].rid) : 0;
    FBS_RtpParameters_EncodingMapping_start(&b);
    if (rid) FBS_RtpParameters_EncodingMapping_add_rid(&b, rid);
    if (r->encs[i].ssrc) FBS_RtpParameters_EncodingMapping_add_ssrc(&b, r->encs[i].ssrc);
    FBS_RtpParameters_EncodingMapping_add_mapped_ssrc(&b, mapped_base + (uint32_t)i);
    em[i] = FBS_RtpParameters_EncodingMapping_end(&b);
  }
  fb_ref_t vcm = fb_create_vec_refs(&b, cm, r->ncodecs);
  fb_ref_t vem = fb_create_vec_refs(&b, em, r->nencs);
  FBS_RtpParameters_RtpMapping_start(&b);
  FBS_RtpParameters_RtpMapping_add_codecs(&b, vcm);
  FBS_RtpParameters_RtpMapping_add_encodings(&b, vem);
  fb_ref_t mapping = FBS_RtpParameters_RtpMapping_end(&b);
  FBS_Transport_ProduceRequest_start(&b);
  FBS_Transport_ProduceRequest_add_producer_id(&b, pid);
  FBS_Transport_ProduceRequest_add_kind(&b, video ? FBS_RtpParameters_MediaKind_VIDEO : FBS_RtpParameters_MediaKind_AUDIO);
  FBS_Transport_ProduceRequest_add_rtp_parameters(&b, params);
  FBS_Transport_ProduceRequest_add_rtp_mapping(&b, mapping);
  FBS_Transport_ProduceRequest_add_paused(&b, paused);
  fb_table_t t = rtc_finish(&b, FBS_Transport_ProduceRequest_end(&b));
  fb_builder_free(&b);
  return t;
}

/* A ConsumeRequest of producer pid with our rtp parameters r and consumable
 * encodings of the mapped SSRCs mapped_base + i (n of them). */
static inline fb_table_t rtc_consume_req(const char *id, const char *pid, bool video, uint8_t type, const trtp_t *r,
                                         uint32_t mapped_base, size_t n, int preferred_spatial, bool ignore_dtx) {
  fb_builder_t b;
  assert_int_equal(fb_builder_init(&b, 1024), 0);
  fb_ref_t cid = fb_create_cstring(&b, id);
  fb_ref_t prid = fb_create_cstring(&b, pid);
  fb_ref_t params = rtc_build_params(&b, r);
  fb_ref_t ce[8];
  for (size_t i = 0; i < n; i++) {
    FBS_RtpParameters_RtpEncodingParameters_start(&b);
    FBS_RtpParameters_RtpEncodingParameters_add_ssrc(&b, mapped_base + (uint32_t)i);
    ce[i] = FBS_RtpParameters_RtpEncodingParameters_end(&b);
  }
  fb_ref_t vce = fb_create_vec_refs(&b, ce, n);
  fb_ref_t pl = 0;
  if (preferred_spatial >= 0) {
    FBS_Consumer_ConsumerLayers_start(&b);
    FBS_Consumer_ConsumerLayers_add_spatial_layer(&b, (uint8_t)preferred_spatial);
    pl = FBS_Consumer_ConsumerLayers_end(&b);
  }
  FBS_Transport_ConsumeRequest_start(&b);
  FBS_Transport_ConsumeRequest_add_consumer_id(&b, cid);
  FBS_Transport_ConsumeRequest_add_producer_id(&b, prid);
  FBS_Transport_ConsumeRequest_add_kind(&b, video ? FBS_RtpParameters_MediaKind_VIDEO : FBS_RtpParameters_MediaKind_AUDIO);
  FBS_Transport_ConsumeRequest_add_rtp_parameters(&b, params);
  FBS_Transport_ConsumeRequest_add_type(&b, type);
  FBS_Transport_ConsumeRequest_add_consumable_rtp_encodings(&b, vce);
  if (pl) FBS_Transport_ConsumeRequest_add_preferred_layers(&b, pl);
  FBS_Transport_ConsumeRequest_add_ignore_dtx(&b, ignore_dtx);
  fb_table_t t = rtc_finish(&b, FBS_Transport_ConsumeRequest_end(&b));
  fb_builder_free(&b);
  return t;
}

/* ---- packets ---- */

typedef struct tpkt {
  uint8_t buf[SFU_SEND_BUF];
  sfu_rtp_packet_t pkt;
} tpkt_t;

/* An RTP packet: header, optional one-byte extensions, payload. */
static inline void rtc_make_pkt(tpkt_t *t, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc, bool marker,
                                const uint8_t *payload, size_t plen, const sfu_rtp_ext_value_t *exts, size_t nexts) {
  uint8_t *p = t->buf;
  size_t off = 12;
  p[0] = 0x80;
  p[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
  p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
  p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16), p[6] = (uint8_t)(ts >> 8), p[7] = (uint8_t)ts;
  p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16), p[10] = (uint8_t)(ssrc >> 8), p[11] = (uint8_t)ssrc;
  if (nexts > 0) {
    size_t start = off + 4, o = start;
    p[0] |= 0x10;
    p[off] = 0xbe, p[off + 1] = 0xde;
    for (size_t i = 0; i < nexts; i++) {
      p[o++] = (uint8_t)((exts[i].id << 4) | (exts[i].len - 1));
      memcpy(p + o, exts[i].value, exts[i].len);
      o += exts[i].len;
    }
    while ((o - start) % 4 != 0) p[o++] = 0;
    size_t words = (o - start) / 4;
    p[off + 2] = (uint8_t)(words >> 8), p[off + 3] = (uint8_t)words;
    off = o;
  }
  memcpy(p + off, payload, plen);
  assert_int_equal(sfu_rtp_parse(&t->pkt, t->buf, off + plen, sizeof(t->buf) - 64), 0);
}

/* VP8 payloads: descriptor with S=1, PID 0, then a key frame (P=0 + start code) or a delta frame. */
static inline size_t rtc_vp8_payload(uint8_t *out, bool key, size_t len) {
  memset(out, 0x55, len);
  out[0] = 0x10;
  if (key) {
    out[1] = 0x00, out[2] = 0x00, out[3] = 0x00, out[4] = 0x9d, out[5] = 0x01, out[6] = 0x2a;
    out[7] = 0x80, out[8] = 0x02, out[9] = 0x68, out[10] = 0x01; /* 640x360 */
  } else {
    out[1] = 0x01;
  }
  return len;
}

/* ---- a context without a channel ---- */

typedef struct rtc_env {
  uv_loop_t loop;
  sfu_settings_t settings;
  sfu_ctx_t ctx;
} rtc_env_t;

static inline void rtc_env_open(rtc_env_t *e) {
  assert_int_equal(uv_loop_init(&e->loop), 0);
  sfu_settings_init(&e->settings);
  e->settings.log_level = SFU_LOG_LEVEL_NONE;
  assert_int_equal(sfu_ctx_init(&e->ctx, &e->loop, &e->settings), 0);
}

static inline void rtc_env_close(rtc_env_t *e) {
  sfu_ctx_close(&e->ctx);
  assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&e->loop), 0);
  sfu_ctx_destroy(&e->ctx);
  sfu_settings_free(&e->settings);
  rtc_free_bufs();
}

#endif
