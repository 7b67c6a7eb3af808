/* RTX (RFC 4588) encapsulation of an RTP packet in place: the retransmission
 * carries the original sequence number (OSN) as the first two payload bytes,
 * on the RTX payload type, SSRC and sequence space. */
#ifndef SFU_RTX_H
#define SFU_RTX_H

#include <stdint.h>

#include "sfu_rtp_packet.h"

/* sfu_rtx_decode(): the RTX packet carries no payload (padding only: Chrome's
 * bandwidth probes); nothing to restore, the packet is unchanged. */
#define SFU_RTX_PADDING_ONLY 1

/* Turns a media packet into its retransmission: inserts the OSN before the
 * payload (moving it 2 bytes, needs pkt->cap >= header + payload + 2), then
 * rewrites payload type, SSRC and sequence number. Padding is dropped.
 * 0 or SFU_ETOOBIG (packet unchanged). */
int sfu_rtx_encode(sfu_rtp_packet_t *pkt, uint8_t rtx_pt, uint32_t rtx_ssrc, uint16_t rtx_seq);

/* Restores the original packet from an RTX packet: sequence number from the
 * OSN, the given payload type and SSRC, payload moved back 2 bytes, padding
 * dropped. 0, SFU_RTX_PADDING_ONLY (empty payload; unchanged) or SFU_EPROTO
 * (a 1-byte payload; unchanged). */
int sfu_rtx_decode(sfu_rtp_packet_t *pkt, uint8_t media_pt, uint32_t media_ssrc);

#endif
