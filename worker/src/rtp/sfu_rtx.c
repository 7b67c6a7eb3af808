#include "sfu_rtx.h"

#include <string.h>

#include "sfu_byte.h"
#include "sfu_error.h"

int sfu_rtx_encode(sfu_rtp_packet_t *pkt, uint8_t rtx_pt, uint32_t rtx_ssrc, uint16_t rtx_seq) {
  uint8_t *payload = sfu_rtp_payload(pkt);
  size_t new_len = pkt->header_len + pkt->payload_len + 2;

  if (new_len > pkt->cap) return SFU_ETOOBIG;
  sfu_rtp_remove_padding(pkt);
  memmove(payload + 2, payload, pkt->payload_len);
  sfu_wr16(payload, pkt->seq);
  pkt->payload_len += 2;
  pkt->len = new_len;
  sfu_rtp_set_payload_type(pkt, rtx_pt);
  sfu_rtp_set_ssrc(pkt, rtx_ssrc);
  sfu_rtp_set_sequence_number(pkt, rtx_seq);
  return 0;
}

int sfu_rtx_decode(sfu_rtp_packet_t *pkt, uint8_t media_pt, uint32_t media_ssrc) {
  uint8_t *payload = sfu_rtp_payload(pkt);
  uint16_t osn;

  if (pkt->payload_len == 0) return SFU_RTX_PADDING_ONLY;
  if (pkt->payload_len < 2) return SFU_EPROTO;
  osn = sfu_rd16(payload);
  sfu_rtp_remove_padding(pkt);
  memmove(payload, payload + 2, pkt->payload_len - 2);
  pkt->payload_len -= 2;
  pkt->len = pkt->header_len + pkt->payload_len;
  sfu_rtp_set_payload_type(pkt, media_pt);
  sfu_rtp_set_ssrc(pkt, media_ssrc);
  sfu_rtp_set_sequence_number(pkt, osn);
  return 0;
}
