/* Temporal (VP8, VP9) and SVC spatial (VP9) layer dropping for a consumer,
 * with the rewriting that keeps what it forwards decodable (mediasoup's VP8
 * and VP9 EncodingContexts): frames of temporal layers above the target are
 * dropped whole (decided at a frame's first packet, by RTP timestamp); a
 * switch to a higher temporal layer waits for a frame that allows it (VP8's
 * layer sync bit Y, VP9's switching-up point U, or a key frame), a switch
 * down happens at the next frame. VP9 SVC: spatial layers above the target
 * are dropped, a switch up waits for a key frame, and the RTP marker moves
 * to the end of the highest layer forwarded. Picture ids stay consecutive
 * (dropped pictures removed, sources switched: sfu_seq_map) and TL0PICIDX
 * continuous across source switches. Codecs without temporal information
 * pass through. Pure, no allocation. */
#ifndef SFU_VPX_LAYERS_H
#define SFU_VPX_LAYERS_H

#include <stdbool.h>
#include <stdint.h>

#include "sfu_rtp_packet.h"
#include "sfu_seq_map.h"

typedef struct sfu_vpx_layers {
  sfu_codec_t codec;        /* SFU_CODEC_VP8 or SFU_CODEC_VP9; anything else passes */
  int16_t target_temporal;  /* highest temporal layer to forward, -1: all */
  int16_t current_temporal; /* highest forwarded now */
  int16_t target_spatial;   /* VP9 SVC: highest spatial layer to forward, -1: all */
  int16_t current_spatial;
  /* the frame being decided (by RTP timestamp) */
  bool have_frame;
  uint32_t frame_ts;
  bool frame_dropped;
  /* picture ids and TL0PICIDX */
  sfu_seq_map_t pid;
  bool pid_ready, pid_15bit, resync;
  bool tl0_ready;
  uint8_t tl0_offset, max_tl0;
} sfu_vpx_layers_t;

/* What filter() read, for rewrite(). */
typedef struct sfu_vpx_info {
  bool parsed;
  bool has_pid, pid_15bit;
  uint16_t pid;
  size_t pid_off; /* in the payload */
  bool has_tl0;
  uint8_t tl0;
  size_t tl0_off;
  uint8_t tid, sid;
  bool keyframe;
  bool marker; /* the RTP marker to send */
} sfu_vpx_info_t;

void sfu_vpx_layers_init(sfu_vpx_layers_t *l, sfu_codec_t codec);
/* The source changes (a simulcast switch, a resume): the next packet starts
 * new picture id and TL0PICIDX offsets. */
void sfu_vpx_layers_resync(sfu_vpx_layers_t *l);
/* false: drop this packet (the caller drops its sequence number too). */
bool sfu_vpx_layers_filter(sfu_vpx_layers_t *l, const sfu_rtp_packet_t *in, sfu_vpx_info_t *info);
/* On the copy about to be sent: picture id, TL0PICIDX, marker. */
void sfu_vpx_layers_rewrite(sfu_vpx_layers_t *l, const sfu_vpx_info_t *info, sfu_rtp_packet_t *out);
/* The temporal and spatial (VP9) layers of a packet; false if it carries none. */
bool sfu_vpx_packet_layers(const sfu_rtp_packet_t *pkt, sfu_codec_t codec, uint8_t *sid, uint8_t *tid);

#endif
