/* A consumer's trace events (enableTraceEvent): 'rtp' and 'keyframe' for
 * every packet sent (a key frame's packets as 'keyframe' when that type is
 * on), 'nack' for every NACK received, 'pli' and 'fir' for key frame
 * requests received, each a CONSUMER_TRACE notification as mediasoup's. */
#include "fbs_generated.h"
#include "sfu_consumer_ops.h"
#include "sfu_rtp_trace.h"

#define SFU__ON(c, t) (((c)->trace_types & (1u << (t))) != 0)

static void sfu__notify(sfu_consumer_t *c, uint8_t type, uint8_t dir, uint8_t info_type, fb_ref_t info) {
  fb_builder_t *b = &c->ctx->fbb;
  FBS_Consumer_TraceNotification_start(b);
  FBS_Consumer_TraceNotification_add_type(b, type);
  FBS_Consumer_TraceNotification_add_timestamp(b, uv_now(c->ctx->loop));
  FBS_Consumer_TraceNotification_add_direction(b, dir);
  if (info_type != 0) FBS_Consumer_TraceNotification_add_info(b, info_type, info);
  sfu_ctx_notify(c->ctx, c->id, FBS_Notification_Event_CONSUMER_TRACE, FBS_Notification_Body_Consumer_TraceNotification,
                 FBS_Consumer_TraceNotification_end(b));
}

void sfu__consumer_trace_rtp_rtx(sfu_consumer_t *c, const sfu_rtp_packet_t *pkt, bool is_rtx) {
  if (c->trace_types == 0) return;
  bool key = SFU__ON(c, FBS_Consumer_TraceEventType_KEYFRAME) && !is_rtx &&
             sfu_rtp_is_keyframe(pkt, c->stream.params.codec);
  if (!key && !SFU__ON(c, FBS_Consumer_TraceEventType_RTP)) return;
  fb_builder_t *b = &c->ctx->fbb;
  /* traced before the parent writes the transport-wide sequence number: none given */
  sfu_rtp_trace_ids_t ids = {.mid = c->mid_ext_id};
  fb_ref_t dump = sfu_rtp_trace_dump(b, pkt, c->stream.params.codec, &ids);
  fb_ref_t info;
  if (key) {
    FBS_Consumer_KeyFrameTraceInfo_start(b);
    FBS_Consumer_KeyFrameTraceInfo_add_rtp_packet(b, dump);
    FBS_Consumer_KeyFrameTraceInfo_add_is_rtx(b, is_rtx);
    info = FBS_Consumer_KeyFrameTraceInfo_end(b);
    sfu__notify(c, FBS_Consumer_TraceEventType_KEYFRAME, FBS_Common_TraceDirection_DIRECTION_OUT,
                FBS_Consumer_TraceInfo_KeyFrameTraceInfo, info);
  } else {
    FBS_Consumer_RtpTraceInfo_start(b);
    FBS_Consumer_RtpTraceInfo_add_rtp_packet(b, dump);
    FBS_Consumer_RtpTraceInfo_add_is_rtx(b, is_rtx);
    info = FBS_Consumer_RtpTraceInfo_end(b);
    sfu__notify(c, FBS_Consumer_TraceEventType_RTP, FBS_Common_TraceDirection_DIRECTION_OUT,
                FBS_Consumer_TraceInfo_RtpTraceInfo, info);
  }
}

void sfu__consumer_trace_rtp(sfu_consumer_t *c, const sfu_rtp_packet_t *pkt) { sfu__consumer_trace_rtp_rtx(c, pkt, false); }

void sfu__consumer_trace_nack(sfu_consumer_t *c) {
  if (SFU__ON(c, FBS_Consumer_TraceEventType_NACK))
    sfu__notify(c, FBS_Consumer_TraceEventType_NACK, FBS_Common_TraceDirection_DIRECTION_IN, 0, 0);
}

void sfu__consumer_trace_key_frame_request(sfu_consumer_t *c, uint32_t ssrc, bool fir) {
  fb_builder_t *b = &c->ctx->fbb;
  if (fir) {
    if (!SFU__ON(c, FBS_Consumer_TraceEventType_FIR)) return;
    FBS_Consumer_FirTraceInfo_start(b);
    FBS_Consumer_FirTraceInfo_add_ssrc(b, ssrc);
    sfu__notify(c, FBS_Consumer_TraceEventType_FIR, FBS_Common_TraceDirection_DIRECTION_IN,
                FBS_Consumer_TraceInfo_FirTraceInfo, FBS_Consumer_FirTraceInfo_end(b));
  } else {
    if (!SFU__ON(c, FBS_Consumer_TraceEventType_PLI)) return;
    FBS_Consumer_PliTraceInfo_start(b);
    FBS_Consumer_PliTraceInfo_add_ssrc(b, ssrc);
    sfu__notify(c, FBS_Consumer_TraceEventType_PLI, FBS_Common_TraceDirection_DIRECTION_IN,
                FBS_Consumer_TraceInfo_PliTraceInfo, FBS_Consumer_PliTraceInfo_end(b));
  }
}
