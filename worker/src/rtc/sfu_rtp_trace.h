/* The FBS.RtpPacket.Dump of a packet that producer and consumer trace events
 * ('rtp', 'keyframe') carry, as mediasoup fills it. */
#ifndef SFU_RTP_TRACE_H
#define SFU_RTP_TRACE_H

#include <stdint.h>

#include "fb.h"
#include "sfu_rtp_packet.h"

/* The header extension ids to read MID, RID, repaired RID and the
 * transport-wide sequence number with (0: not negotiated). */
typedef struct sfu_rtp_trace_ids {
  uint8_t mid, rid, rrid, twcc;
} sfu_rtp_trace_ids_t;

fb_ref_t sfu_rtp_trace_dump(fb_builder_t *b, const sfu_rtp_packet_t *pkt, sfu_codec_t codec,
                            const sfu_rtp_trace_ids_t *ids);

#endif
