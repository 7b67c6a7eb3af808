#include "sfu_rtp_params.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fbs_generated.h"
#include "sfu_error.h"

static const struct {
  const char *mime;
  sfu_codec_id_t id;
} sfu__mimes[] = {
    {"audio/opus", SFU_CID_OPUS},   {"audio/multiopus", SFU_CID_MULTIOPUS}, {"audio/PCMU", SFU_CID_PCMU},
    {"audio/PCMA", SFU_CID_PCMA},   {"audio/G722", SFU_CID_G722},           {"video/VP8", SFU_CID_VP8},
    {"video/VP9", SFU_CID_VP9},     {"video/H264", SFU_CID_H264},           {"video/H264-SVC", SFU_CID_H264},
    {"video/H265", SFU_CID_H265},   {"video/AV1", SFU_CID_AV1},             {"audio/rtx", SFU_CID_RTX},
    {"video/rtx", SFU_CID_RTX},     {"audio/red", SFU_CID_RED},             {"video/red", SFU_CID_RED},
    {"video/ulpfec", SFU_CID_ULPFEC}, {"video/flexfec-03", SFU_CID_FLEXFEC},
};

const char *sfu_canonical_mime(const char *mime, size_t len) {
  for (size_t i = 0; i < sizeof(sfu__mimes) / sizeof(sfu__mimes[0]); i++) {
    if (strlen(sfu__mimes[i].mime) == len && strncasecmp(sfu__mimes[i].mime, mime, len) == 0) return sfu__mimes[i].mime;
  }
  return NULL;
}

sfu_codec_id_t sfu_codec_from_mime(const char *mime, size_t len) {
  for (size_t i = 0; i < sizeof(sfu__mimes) / sizeof(sfu__mimes[0]); i++) {
    if (strlen(sfu__mimes[i].mime) == len && strncasecmp(sfu__mimes[i].mime, mime, len) == 0) return sfu__mimes[i].id;
  }
  return SFU_CID_OTHER;
}

static int sfu__fail(char *err, size_t err_len, const char *msg) {
  snprintf(err, err_len, "%s", msg);
  return SFU_EINVAL;
}

static bool sfu__str_is(fb_str_t s, const char *lit) {
  return s.ptr != NULL && s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

/* Integer value of a codec parameter (Integer32, or a numeric String, or Boolean). */
static bool sfu__param_int(fb_table_t param, int64_t *out) {
  fb_table_t v = FBS_RtpParameters_Parameter_value(param);
  switch (FBS_RtpParameters_Parameter_value_type(param)) {
    case FBS_RtpParameters_Value_Integer32:
      *out = FBS_RtpParameters_Integer32_value(v);
      return true;
    case FBS_RtpParameters_Value_Boolean:
      *out = FBS_RtpParameters_Boolean_value(v);
      return true;
    case FBS_RtpParameters_Value_Double:
      *out = (int64_t)FBS_RtpParameters_Double_value(v);
      return true;
    case FBS_RtpParameters_Value_String: {
      fb_str_t s = FBS_RtpParameters_String_value(v);
      int64_t n = 0;
      if (s.len == 0 || s.len > 9) return false;
      for (uint32_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') return false;
        n = n * 10 + (s.ptr[i] - '0');
      }
      *out = n;
      return true;
    }
    default:
      return false;
  }
}

static int sfu__codec_parse(sfu_rtp_codec_t *c, fb_table_t t, char *err, size_t err_len) {
  memset(c, 0, sizeof(*c));
  c->table = t;
  c->mime_type = FBS_RtpParameters_RtpCodecParameters_mime_type(t);
  c->id = sfu_codec_from_mime(c->mime_type.ptr, c->mime_type.len);
  c->payload_type = FBS_RtpParameters_RtpCodecParameters_payload_type(t);
  c->clock_rate = FBS_RtpParameters_RtpCodecParameters_clock_rate(t);
  c->channels = FBS_RtpParameters_RtpCodecParameters_channels(t);
  c->packetization_mode = -1;
  if (c->payload_type > 127) return sfu__fail(err, err_len, "invalid codec payload type");
  if (c->clock_rate == 0) return sfu__fail(err, err_len, "invalid codec clock rate");

  fb_vec_t params = FBS_RtpParameters_RtpCodecParameters_parameters(t);
  for (uint32_t i = 0; i < params.len; i++) {
    fb_table_t p = fb_vec_table(params, i);
    fb_str_t name = FBS_RtpParameters_Parameter_name(p);
    int64_t v;
    if (!sfu__param_int(p, &v)) continue;
    if (sfu__str_is(name, "apt")) {
      if (v < 0 || v > 127) return sfu__fail(err, err_len, "invalid apt parameter");
      c->has_apt = true;
      c->apt = (uint8_t)v;
    } else if (sfu__str_is(name, "useinbandfec")) {
      c->useinbandfec = v == 1;
    } else if (sfu__str_is(name, "usedtx")) {
      c->usedtx = v == 1;
    } else if (sfu__str_is(name, "packetization-mode")) {
      c->packetization_mode = (int32_t)v;
    }
  }
  if (c->id == SFU_CID_RTX && !c->has_apt) return sfu__fail(err, err_len, "missing apt parameter in RTX codec");

  fb_vec_t fbs = FBS_RtpParameters_RtpCodecParameters_rtcp_feedback(t);
  for (uint32_t i = 0; i < fbs.len; i++) {
    fb_table_t f = fb_vec_table(fbs, i);
    fb_str_t type = FBS_RtpParameters_RtcpFeedback_type(f);
    fb_str_t param = FBS_RtpParameters_RtcpFeedback_parameter(f);
    bool no_param = param.ptr == NULL || param.len == 0;
    if (sfu__str_is(type, "nack") && no_param)
      c->rtcp_fb |= SFU_RTCP_FB_NACK;
    else if (sfu__str_is(type, "nack") && sfu__str_is(param, "pli"))
      c->rtcp_fb |= SFU_RTCP_FB_NACK_PLI;
    else if (sfu__str_is(type, "ccm") && sfu__str_is(param, "fir"))
      c->rtcp_fb |= SFU_RTCP_FB_CCM_FIR;
    else if (sfu__str_is(type, "transport-cc"))
      c->rtcp_fb |= SFU_RTCP_FB_TRANSPORT_CC;
    else if (sfu__str_is(type, "goog-remb"))
      c->rtcp_fb |= SFU_RTCP_FB_GOOG_REMB;
  }
  return 0;
}

int sfu_parse_scalability_mode(const char *s, size_t len, uint8_t *spatial, uint8_t *temporal, bool *ksvc) {
  /* ^[LS]([1-9]\d?)T([1-9]\d?)(_KEY)? as mediasoup's Node side matches it (a prefix match). */
  size_t i = 1;
  unsigned sp = 0, tp = 0;
  *ksvc = false;
  if (len < 4 || (s[0] != 'L' && s[0] != 'S')) return SFU_EINVAL;
  if (s[i] < '1' || s[i] > '9') return SFU_EINVAL;
  sp = (unsigned)(s[i++] - '0');
  if (i < len && s[i] >= '0' && s[i] <= '9') sp = sp * 10 + (unsigned)(s[i++] - '0');
  if (i >= len || s[i] != 'T') return SFU_EINVAL;
  i++;
  if (i >= len || s[i] < '1' || s[i] > '9') return SFU_EINVAL;
  tp = (unsigned)(s[i++] - '0');
  if (i < len && s[i] >= '0' && s[i] <= '9') tp = tp * 10 + (unsigned)(s[i++] - '0');
  if (len - i >= 4 && memcmp(s + i, "_KEY", 4) == 0) *ksvc = true;
  *spatial = (uint8_t)sp;
  *temporal = (uint8_t)tp;
  return 0;
}

int sfu_rtp_encoding_parse(sfu_rtp_encoding_t *e, fb_table_t t, char *err, size_t err_len) {
  memset(e, 0, sizeof(*e));
  e->has_ssrc = FBS_RtpParameters_RtpEncodingParameters_has_ssrc(t);
  e->ssrc = FBS_RtpParameters_RtpEncodingParameters_ssrc(t);
  e->rid = FBS_RtpParameters_RtpEncodingParameters_rid(t);
  if (e->rid.ptr != NULL && e->rid.len == 0) e->rid.ptr = NULL;
  e->has_codec_pt = FBS_RtpParameters_RtpEncodingParameters_has_codec_payload_type(t);
  e->codec_pt = FBS_RtpParameters_RtpEncodingParameters_codec_payload_type(t);
  fb_table_t rtx = FBS_RtpParameters_RtpEncodingParameters_rtx(t);
  if (rtx.buf != NULL) {
    e->has_rtx = true;
    e->rtx_ssrc = FBS_RtpParameters_Rtx_ssrc(rtx);
  }
  e->dtx = FBS_RtpParameters_RtpEncodingParameters_dtx(t);
  e->max_bitrate = FBS_RtpParameters_RtpEncodingParameters_max_bitrate(t);
  e->spatial_layers = 1;
  e->temporal_layers = 1;
  fb_str_t sm = FBS_RtpParameters_RtpEncodingParameters_scalability_mode(t);
  if (sm.ptr != NULL && sm.len > 0 &&
      sfu_parse_scalability_mode(sm.ptr, sm.len, &e->spatial_layers, &e->temporal_layers, &e->ksvc) != 0) {
    /* Unparseable: one spatial and one temporal layer, as mediasoup. */
    e->spatial_layers = 1;
    e->temporal_layers = 1;
  }
  return 0;
}

int sfu_rtp_params_parse(sfu_rtp_params_t *p, fb_table_t t, char *err, size_t err_len) {
  int r;
  memset(p, 0, sizeof(*p));
  p->mid = FBS_RtpParameters_RtpParameters_mid(t);
  if (p->mid.ptr != NULL && p->mid.len == 0) p->mid.ptr = NULL;

  fb_vec_t codecs = FBS_RtpParameters_RtpParameters_codecs(t);
  if (codecs.len > SFU_RTP_MAX_CODECS) return sfu__fail(err, err_len, "too many codecs");
  for (uint32_t i = 0; i < codecs.len; i++) {
    if ((r = sfu__codec_parse(&p->codecs[i], fb_vec_table(codecs, i), err, err_len)) != 0) return r;
    for (uint32_t j = 0; j < i; j++)
      if (p->codecs[j].payload_type == p->codecs[i].payload_type)
        return sfu__fail(err, err_len, "duplicated codec payload type");
  }
  p->ncodecs = codecs.len;

  fb_vec_t exts = FBS_RtpParameters_RtpParameters_header_extensions(t);
  for (uint32_t i = 0; i < exts.len; i++) {
    fb_table_t x = fb_vec_table(exts, i);
    uint8_t uri = FBS_RtpParameters_RtpHeaderExtensionParameters_uri(x);
    uint8_t id = FBS_RtpParameters_RtpHeaderExtensionParameters_id(x);
    if (id == 0) return sfu__fail(err, err_len, "invalid header extension id");
    if (uri < SFU_RTP_EXT_COUNT) p->ext_id[uri] = id;
  }

  fb_vec_t encs = FBS_RtpParameters_RtpParameters_encodings(t);
  if (encs.len > SFU_RTP_MAX_ENCODINGS) return sfu__fail(err, err_len, "too many encodings");
  for (uint32_t i = 0; i < encs.len; i++)
    if ((r = sfu_rtp_encoding_parse(&p->encodings[i], fb_vec_table(encs, i), err, err_len)) != 0) return r;
  p->nencodings = encs.len;

  fb_table_t rtcp = FBS_RtpParameters_RtpParameters_rtcp(t);
  p->cname = FBS_RtpParameters_RtcpParameters_cname(rtcp);
  p->reduced_size = FBS_RtpParameters_RtcpParameters_reduced_size(rtcp);
  return 0;
}

const sfu_rtp_codec_t *sfu_rtp_params_codec_by_pt(const sfu_rtp_params_t *p, uint8_t pt) {
  for (size_t i = 0; i < p->ncodecs; i++)
    if (p->codecs[i].payload_type == pt) return &p->codecs[i];
  return NULL;
}

const sfu_rtp_codec_t *sfu_rtp_params_rtx_for(const sfu_rtp_params_t *p, uint8_t pt) {
  for (size_t i = 0; i < p->ncodecs; i++)
    if (p->codecs[i].id == SFU_CID_RTX && p->codecs[i].apt == pt) return &p->codecs[i];
  return NULL;
}

fb_ref_t sfu_rtp_encoding_build(fb_builder_t *b, fb_table_t orig, const sfu_rtp_encoding_t *e) {
  fb_ref_t rid = e->rid.ptr != NULL ? fb_create_string(b, e->rid.ptr, e->rid.len) : 0;
  fb_str_t sm = FBS_RtpParameters_RtpEncodingParameters_scalability_mode(orig);
  fb_ref_t smr = sm.ptr != NULL ? fb_create_string(b, sm.ptr, sm.len) : 0;
  fb_ref_t rtx = 0;
  if (e->has_rtx) {
    FBS_RtpParameters_Rtx_start(b);
    FBS_RtpParameters_Rtx_add_ssrc(b, e->rtx_ssrc);
    rtx = FBS_RtpParameters_Rtx_end(b);
  }
  FBS_RtpParameters_RtpEncodingParameters_start(b);
  if (e->has_ssrc) FBS_RtpParameters_RtpEncodingParameters_add_ssrc(b, e->ssrc);
  FBS_RtpParameters_RtpEncodingParameters_add_rid(b, rid);
  if (e->has_codec_pt) FBS_RtpParameters_RtpEncodingParameters_add_codec_payload_type(b, e->codec_pt);
  FBS_RtpParameters_RtpEncodingParameters_add_rtx(b, rtx);
  FBS_RtpParameters_RtpEncodingParameters_add_dtx(b, e->dtx);
  FBS_RtpParameters_RtpEncodingParameters_add_scalability_mode(b, smr);
  if (FBS_RtpParameters_RtpEncodingParameters_has_max_bitrate(orig))
    FBS_RtpParameters_RtpEncodingParameters_add_max_bitrate(b, e->max_bitrate);
  return FBS_RtpParameters_RtpEncodingParameters_end(b);
}

/* A codec as mediasoup dumps it: canonical MIME type, the rest as given. */
static fb_ref_t sfu__codec_build(fb_builder_t *b, fb_table_t c) {
  fb_ref_t tmp[64];
  fb_vec_t v;
  uint32_t i;
  fb_str_t mime = FBS_RtpParameters_RtpCodecParameters_mime_type(c);
  const char *canon = sfu_canonical_mime(mime.ptr, mime.len);
  fb_ref_t mref = canon != NULL ? fb_create_cstring(b, canon) : fb_create_string(b, mime.ptr, mime.len);
  fb_ref_t params, fbs;
  /* Always present in dumps (mediasoup writes empty vectors). */
  v = FBS_RtpParameters_RtpCodecParameters_parameters(c);
  for (i = 0; i < v.len && i < 64; i++) tmp[i] = FBS_RtpParameters_Parameter_clone(b, fb_vec_table(v, i));
  params = fb_create_vec_refs(b, tmp, i);
  v = FBS_RtpParameters_RtpCodecParameters_rtcp_feedback(c);
  for (i = 0; i < v.len && i < 64; i++) {
    /* An empty parameter is left out, as mediasoup dumps it. */
    fb_table_t f = fb_vec_table(v, i);
    fb_str_t type = FBS_RtpParameters_RtcpFeedback_type(f);
    fb_str_t param = FBS_RtpParameters_RtcpFeedback_parameter(f);
    fb_ref_t tr = fb_create_string(b, type.ptr, type.len);
    fb_ref_t pr = param.ptr != NULL && param.len > 0 ? fb_create_string(b, param.ptr, param.len) : 0;
    FBS_RtpParameters_RtcpFeedback_start(b);
    FBS_RtpParameters_RtcpFeedback_add_type(b, tr);
    FBS_RtpParameters_RtcpFeedback_add_parameter(b, pr);
    tmp[i] = FBS_RtpParameters_RtcpFeedback_end(b);
  }
  fbs = fb_create_vec_refs(b, tmp, i);
  FBS_RtpParameters_RtpCodecParameters_start(b);
  FBS_RtpParameters_RtpCodecParameters_add_mime_type(b, mref);
  FBS_RtpParameters_RtpCodecParameters_add_payload_type(b, FBS_RtpParameters_RtpCodecParameters_payload_type(c));
  FBS_RtpParameters_RtpCodecParameters_add_clock_rate(b, FBS_RtpParameters_RtpCodecParameters_clock_rate(c));
  /* mediasoup reports channels only when there is more than one. */
  if (FBS_RtpParameters_RtpCodecParameters_channels(c) > 1)
    FBS_RtpParameters_RtpCodecParameters_add_channels(b, FBS_RtpParameters_RtpCodecParameters_channels(c));
  FBS_RtpParameters_RtpCodecParameters_add_parameters(b, params);
  FBS_RtpParameters_RtpCodecParameters_add_rtcp_feedback(b, fbs);
  return FBS_RtpParameters_RtpCodecParameters_end(b);
}

fb_ref_t sfu_rtp_parameters_build(fb_builder_t *b, fb_table_t orig, const sfu_rtp_params_t *params) {
  fb_ref_t refs[64] = {0};
  fb_vec_t v;
  uint32_t i;

  fb_str_t mid_s = FBS_RtpParameters_RtpParameters_mid(orig);
  fb_ref_t mid = mid_s.ptr != NULL ? fb_create_string(b, mid_s.ptr, mid_s.len) : 0;
  fb_str_t msid_s = FBS_RtpParameters_RtpParameters_msid(orig);
  fb_ref_t msid = msid_s.ptr != NULL ? fb_create_string(b, msid_s.ptr, msid_s.len) : 0;
  v = FBS_RtpParameters_RtpParameters_codecs(orig);
  for (i = 0; i < v.len && i < 64; i++) refs[i] = sfu__codec_build(b, fb_vec_table(v, i));
  fb_ref_t codecs = fb_create_vec_refs(b, refs, i);
  v = FBS_RtpParameters_RtpParameters_header_extensions(orig);
  for (i = 0; i < v.len && i < 64; i++)
    refs[i] = FBS_RtpParameters_RtpHeaderExtensionParameters_clone(b, fb_vec_table(v, i));
  fb_ref_t exts = fb_create_vec_refs(b, refs, i);
  v = FBS_RtpParameters_RtpParameters_encodings(orig);
  for (i = 0; i < params->nencodings && i < v.len; i++)
    refs[i] = sfu_rtp_encoding_build(b, fb_vec_table(v, i), &params->encodings[i]);
  fb_ref_t encs = fb_create_vec_refs(b, refs, i);
  fb_ref_t rtcp = FBS_RtpParameters_RtcpParameters_clone(b, FBS_RtpParameters_RtpParameters_rtcp(orig));
  FBS_RtpParameters_RtpParameters_start(b);
  FBS_RtpParameters_RtpParameters_add_mid(b, mid);
  FBS_RtpParameters_RtpParameters_add_codecs(b, codecs);
  FBS_RtpParameters_RtpParameters_add_header_extensions(b, exts);
  FBS_RtpParameters_RtpParameters_add_encodings(b, encs);
  FBS_RtpParameters_RtpParameters_add_rtcp(b, rtcp);
  FBS_RtpParameters_RtpParameters_add_msid(b, msid);
  return FBS_RtpParameters_RtpParameters_end(b);
}
