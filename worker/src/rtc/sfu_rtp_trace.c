#include "sfu_rtp_trace.h"

#include "fbs_generated.h"
#include "sfu_vpx_layers.h"

static fb_ref_t sfu__ext_string(fb_builder_t *b, const sfu_rtp_packet_t *pkt, uint8_t id) {
  const char *s;
  size_t len;
  if (id == 0 || !sfu_rtp_read_string(pkt, id, &s, &len) || len == 0) return 0;
  return fb_create_string(b, s, len);
}

fb_ref_t sfu_rtp_trace_dump(fb_builder_t *b, const sfu_rtp_packet_t *pkt, sfu_codec_t codec,
                            const sfu_rtp_trace_ids_t *ids) {
  uint16_t wide = 0;
  bool has_wide = ids->twcc != 0 && sfu_rtp_read_twcc_seq(pkt, ids->twcc, &wide);
  fb_ref_t mid = sfu__ext_string(b, pkt, ids->mid);
  fb_ref_t rid = sfu__ext_string(b, pkt, ids->rid);
  fb_ref_t rrid = sfu__ext_string(b, pkt, ids->rrid);
  FBS_RtpPacket_Dump_start(b);
  FBS_RtpPacket_Dump_add_payload_type(b, pkt->payload_type);
  FBS_RtpPacket_Dump_add_sequence_number(b, pkt->seq);
  FBS_RtpPacket_Dump_add_timestamp(b, pkt->timestamp);
  FBS_RtpPacket_Dump_add_marker(b, pkt->marker);
  FBS_RtpPacket_Dump_add_ssrc(b, pkt->ssrc);
  FBS_RtpPacket_Dump_add_is_key_frame(b, sfu_rtp_is_keyframe(pkt, codec));
  FBS_RtpPacket_Dump_add_size(b, pkt->len);
  FBS_RtpPacket_Dump_add_payload_size(b, pkt->payload_len);
  /* from the Dependency Descriptor, else the VP8/VP9 payload descriptor (as mediasoup's dump) */
  uint8_t sid = 0, tid = 0;
  (void)sfu_vpx_packet_layers(pkt, codec, &sid, &tid);
  FBS_RtpPacket_Dump_add_spatial_layer(b, sid);
  FBS_RtpPacket_Dump_add_temporal_layer(b, tid);
  if (mid) FBS_RtpPacket_Dump_add_mid(b, mid);
  if (rid) FBS_RtpPacket_Dump_add_rid(b, rid);
  if (rrid) FBS_RtpPacket_Dump_add_rrid(b, rrid);
  if (has_wide) FBS_RtpPacket_Dump_add_wide_sequence_number(b, wide);
  return FBS_RtpPacket_Dump_end(b);
}
