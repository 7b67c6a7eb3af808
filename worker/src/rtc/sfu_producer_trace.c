/* A producer's trace events (enableTraceEvent), PRODUCER_TRACE notifications
 * as mediasoup's: 'rtp' / 'keyframe' for every packet taken while not paused
 * (direction in, before it is rewritten to router form), 'pli' / 'fir' for
 * every key frame request sent and 'nack' for every NACK sent (direction
 * out), 'sr' for every sender report received (direction in). */
#include "fbs_generated.h"
#include "sfu_producer.h"
#include "sfu_rtp_trace.h"

#define SFU__ON(p, t) (((p)->trace_types & (1u << (t))) != 0)

static void sfu__notify(sfu_producer_t *p, uint8_t type, uint8_t dir, uint8_t info_type, fb_ref_t info) {
  fb_builder_t *b = &p->ctx->fbb;
  FBS_Producer_TraceNotification_start(b);
  FBS_Producer_TraceNotification_add_type(b, type);
  FBS_Producer_TraceNotification_add_timestamp(b, uv_now(p->ctx->loop));
  FBS_Producer_TraceNotification_add_direction(b, dir);
  if (info_type != 0) FBS_Producer_TraceNotification_add_info(b, info_type, info);
  sfu_ctx_notify(p->ctx, p->id, FBS_Notification_Event_PRODUCER_TRACE, FBS_Notification_Body_Producer_TraceNotification,
                 FBS_Producer_TraceNotification_end(b));
}

void sfu__producer_trace_rtp(sfu_producer_t *p, const sfu_rtp_packet_t *pkt, sfu_codec_t codec, bool is_rtx) {
  if (p->trace_types == 0) return;
  bool key = SFU__ON(p, FBS_Producer_TraceEventType_KEYFRAME) && sfu_rtp_is_keyframe(pkt, codec);
  if (!key && !SFU__ON(p, FBS_Producer_TraceEventType_RTP)) return;
  fb_builder_t *b = &p->ctx->fbb;
  sfu_rtp_trace_ids_t ids = {
      .mid = p->params.ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_Mid],
      .rid = p->rid_ext_id,
      .rrid = p->rrid_ext_id,
      .twcc = p->params.ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_TransportWideCcDraft01],
  };
  fb_ref_t dump = sfu_rtp_trace_dump(b, pkt, codec, &ids);
  if (key) {
    FBS_Producer_KeyFrameTraceInfo_start(b);
    FBS_Producer_KeyFrameTraceInfo_add_rtp_packet(b, dump);
    FBS_Producer_KeyFrameTraceInfo_add_is_rtx(b, is_rtx);
    sfu__notify(p, FBS_Producer_TraceEventType_KEYFRAME, FBS_Common_TraceDirection_DIRECTION_IN,
                FBS_Producer_TraceInfo_KeyFrameTraceInfo, FBS_Producer_KeyFrameTraceInfo_end(b));
  } else {
    FBS_Producer_RtpTraceInfo_start(b);
    FBS_Producer_RtpTraceInfo_add_rtp_packet(b, dump);
    FBS_Producer_RtpTraceInfo_add_is_rtx(b, is_rtx);
    sfu__notify(p, FBS_Producer_TraceEventType_RTP, FBS_Common_TraceDirection_DIRECTION_IN,
                FBS_Producer_TraceInfo_RtpTraceInfo, FBS_Producer_RtpTraceInfo_end(b));
  }
}

void sfu__producer_trace_key_frame_request(sfu_producer_t *p, uint32_t ssrc, bool fir) {
  fb_builder_t *b = &p->ctx->fbb;
  if (fir) {
    if (!SFU__ON(p, FBS_Producer_TraceEventType_FIR)) return;
    FBS_Producer_FirTraceInfo_start(b);
    FBS_Producer_FirTraceInfo_add_ssrc(b, ssrc);
    sfu__notify(p, FBS_Producer_TraceEventType_FIR, FBS_Common_TraceDirection_DIRECTION_OUT,
                FBS_Producer_TraceInfo_FirTraceInfo, FBS_Producer_FirTraceInfo_end(b));
  } else {
    if (!SFU__ON(p, FBS_Producer_TraceEventType_PLI)) return;
    FBS_Producer_PliTraceInfo_start(b);
    FBS_Producer_PliTraceInfo_add_ssrc(b, ssrc);
    sfu__notify(p, FBS_Producer_TraceEventType_PLI, FBS_Common_TraceDirection_DIRECTION_OUT,
                FBS_Producer_TraceInfo_PliTraceInfo, FBS_Producer_PliTraceInfo_end(b));
  }
}

void sfu__producer_trace_nack(sfu_producer_t *p) {
  if (SFU__ON(p, FBS_Producer_TraceEventType_NACK))
    sfu__notify(p, FBS_Producer_TraceEventType_NACK, FBS_Common_TraceDirection_DIRECTION_OUT, 0, 0);
}

void sfu__producer_trace_sr(sfu_producer_t *p, const sfu_rtcp_sr_t *sr) {
  if (!SFU__ON(p, FBS_Producer_TraceEventType_SR)) return;
  fb_builder_t *b = &p->ctx->fbb;
  FBS_Producer_SrTraceInfo_start(b);
  FBS_Producer_SrTraceInfo_add_ssrc(b, sr->ssrc);
  FBS_Producer_SrTraceInfo_add_ntp_sec(b, sr->ntp_sec);
  FBS_Producer_SrTraceInfo_add_ntp_frac(b, sr->ntp_frac);
  FBS_Producer_SrTraceInfo_add_rtp_ts(b, sr->rtp_ts);
  FBS_Producer_SrTraceInfo_add_packet_count(b, sr->packet_count);
  FBS_Producer_SrTraceInfo_add_octet_count(b, sr->octet_count);
  sfu__notify(p, FBS_Producer_TraceEventType_SR, FBS_Common_TraceDirection_DIRECTION_IN,
              FBS_Producer_TraceInfo_SrTraceInfo, FBS_Producer_SrTraceInfo_end(b));
}
