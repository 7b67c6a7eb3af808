#include "sfu_data_types.h"

#include <stdio.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_error.h"

int sfu_sctp_stream_parse(fb_table_t t, sfu_sctp_stream_t *out, char *err, size_t err_len) {
  memset(out, 0, sizeof(*out));
  if (t.buf == NULL) {
    snprintf(err, err_len, "missing sctpStreamParameters");
    return SFU_EINVAL;
  }
  out->stream_id = FBS_SctpParameters_SctpStreamParameters_stream_id(t);
  out->send.has_max_packet_life_time = FBS_SctpParameters_SctpStreamParameters_has_max_packet_life_time(t);
  out->send.has_max_retransmits = FBS_SctpParameters_SctpStreamParameters_has_max_retransmits(t);
  if (out->send.has_max_packet_life_time)
    out->send.max_packet_life_time = FBS_SctpParameters_SctpStreamParameters_max_packet_life_time(t);
  if (out->send.has_max_retransmits) out->send.max_retransmits = FBS_SctpParameters_SctpStreamParameters_max_retransmits(t);
  if (out->send.has_max_packet_life_time && out->send.has_max_retransmits) {
    snprintf(err, err_len, "cannot provide both maxPacketLifeTime and maxRetransmits");
    return SFU_EINVAL;
  }
  bool partial = out->send.has_max_packet_life_time || out->send.has_max_retransmits;
  if (FBS_SctpParameters_SctpStreamParameters_has_ordered(t)) {
    out->send.ordered = FBS_SctpParameters_SctpStreamParameters_ordered(t);
    if (out->send.ordered && partial) {
      snprintf(err, err_len, "cannot be ordered with maxPacketLifeTime or maxRetransmits");
      return SFU_EINVAL;
    }
  } else {
    out->send.ordered = !partial;
  }
  return 0;
}

fb_ref_t sfu_sctp_stream_build(const sfu_sctp_stream_t *s, fb_builder_t *b) {
  FBS_SctpParameters_SctpStreamParameters_start(b);
  FBS_SctpParameters_SctpStreamParameters_add_stream_id(b, s->stream_id);
  FBS_SctpParameters_SctpStreamParameters_add_ordered(b, s->send.ordered);
  if (s->send.has_max_packet_life_time)
    FBS_SctpParameters_SctpStreamParameters_add_max_packet_life_time(b, s->send.max_packet_life_time);
  if (s->send.has_max_retransmits) FBS_SctpParameters_SctpStreamParameters_add_max_retransmits(b, s->send.max_retransmits);
  return FBS_SctpParameters_SctpStreamParameters_end(b);
}
