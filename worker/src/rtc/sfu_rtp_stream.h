/* Per-SSRC RTP stream state: a receive stream (a producer's encoding) or a
 * send stream (a consumer's output). Sequence tracking, loss and jitter
 * (RFC 3550 A.1, A.3, A.8), byte rate, score, RTCP report inputs and outputs,
 * and for send streams the retransmission buffer that answers NACKs. */
#ifndef SFU_RTP_STREAM_H
#define SFU_RTP_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "fb.h"
#include "sfu_rtcp.h"
#include "sfu_rtp_packet.h"
#include "sfu_rtp_params.h"

#define SFU_RATE_BUCKETS 10 /* 10 x 100 ms */
#define SFU_RTP_STREAM_MAX_TL 4
#define SFU_RTP_STREAM_MAX_SL 3

typedef struct sfu_rate {
  uint64_t bucket_bytes[SFU_RATE_BUCKETS];
  uint64_t bucket_start; /* ms of the current bucket */
  unsigned cur;
} sfu_rate_t;

void sfu_rate_add(sfu_rate_t *r, uint64_t now_ms, size_t bytes);
uint64_t sfu_rate_bps(sfu_rate_t *r, uint64_t now_ms);

typedef struct sfu_rtp_stream_params {
  sfu_media_kind_t kind;
  uint32_t encoding_idx;
  uint32_t ssrc;
  uint8_t payload_type;
  fb_str_t mime_type;
  uint32_t clock_rate;
  fb_str_t rid;
  fb_str_t cname;
  bool has_rtx;
  uint32_t rtx_ssrc;
  uint8_t rtx_payload_type;
  bool use_nack, use_pli, use_fir, use_in_band_fec, use_dtx;
  uint8_t spatial_layers, temporal_layers;
  sfu_codec_t codec; /* for key frame detection */
} sfu_rtp_stream_params_t;

typedef struct sfu_rtx_slot {
  uint8_t *data;
  uint16_t len;
  uint16_t cap;
  uint16_t seq;
  bool used;
  uint64_t sent_ms;
  uint64_t resent_ms; /* last retransmission, 0: none */
  uint32_t resent;
} sfu_rtx_slot_t;

typedef struct sfu_rtp_stream {
  sfu_rtp_stream_params_t params;
  /* counters */
  uint64_t packets, bytes;
  uint64_t payload_bytes; /* send side: for the SR's octet count */
  uint64_t packets_discarded, packets_retransmitted, packets_repaired;
  uint64_t nack_count, nack_packet_count, pli_count, fir_count;
  uint64_t rtx_packets_discarded;
  int32_t packets_lost;
  uint8_t fraction_lost;
  uint32_t jitter;
  float rtt_ms;
  uint8_t score;
  bool inactive; /* no RTP for a while (receive side): score 0 until the next packet */
  sfu_rate_t rate;
  /* receive side, video with temporal (and VP9 spatial) layers: bytes per layer */
  bool has_tl;
  uint8_t max_tid, max_sid; /* highest temporal / spatial layer seen */
  sfu_rate_t layer_rate[SFU_RTP_STREAM_MAX_SL][SFU_RTP_STREAM_MAX_TL]; /* [spatial][temporal] */
  /* receive side: RFC 3550 A.1 */
  bool started;
  uint16_t max_seq;
  uint32_t cycles;
  uint32_t base_seq;
  uint16_t bad_seq; /* RFC 3550 A.1: the sequence number that would confirm a jump */
  bool has_bad_seq;
  uint32_t expected_prior, received_prior;
  uint64_t received; /* in-order + out-of-order packets counted for loss */
  int64_t transit;   /* for jitter, in clock units */
  double jitter_acc;
  uint32_t last_sr_mid; /* middle 32 bits of the last SR's NTP */
  uint64_t last_sr_ms;
  uint64_t last_recv_ms; /* receive side: when the last packet came */
  uint64_t active_since_ms; /* receive side: flowing since (first packet, or the first after a silence) */
  /* send side */
  uint32_t last_ts;
  uint64_t last_ts_ms;
  uint16_t last_seq;
  sfu_rtx_slot_t *rtx; /* NULL when NACK is off */
  uint16_t rtx_nslots;
  uint16_t rtx_seq;
} sfu_rtp_stream_t;

void sfu_rtp_stream_init(sfu_rtp_stream_t *s, const sfu_rtp_stream_params_t *p, bool send_side);
void sfu_rtp_stream_destroy(sfu_rtp_stream_t *s);

/* A receive stream that got a packet in the last second (mediasoup marks
 * streams inactive after a silence; allocation skips them). */
static inline bool sfu_rtp_stream_flowing(const sfu_rtp_stream_t *s, uint64_t now_ms) {
  return s->packets > 0 && now_ms - s->last_recv_ms < 1000;
}
/* How long it has been flowing, 0 when it is not. */
static inline uint64_t sfu_rtp_stream_active_ms(const sfu_rtp_stream_t *s, uint64_t now_ms) {
  return sfu_rtp_stream_flowing(s, now_ms) ? now_ms - s->active_since_ms : 0;
}

/* Receive side: account one media packet. Returns false for a packet to drop
 * (duplicate or far out of order). */
bool sfu_rtp_stream_recv(sfu_rtp_stream_t *s, const sfu_rtp_packet_t *pkt, uint64_t now_ms);
void sfu_rtp_stream_on_sr(sfu_rtp_stream_t *s, const sfu_rtcp_sr_t *sr, uint64_t now_ms);
void sfu_rtp_stream_fill_rr(sfu_rtp_stream_t *s, sfu_rtcp_rb_t *rb, uint64_t now_ms);

/* Send side: account one sent packet; stores it for retransmission when NACK is on. */
void sfu_rtp_stream_sent(sfu_rtp_stream_t *s, const sfu_rtp_packet_t *pkt, uint64_t now_ms);
void sfu_rtp_stream_on_rr(sfu_rtp_stream_t *s, const sfu_rtcp_rb_t *rb, uint64_t now_ms);
void sfu_rtp_stream_fill_sr(sfu_rtp_stream_t *s, sfu_rtcp_sr_t *sr, uint64_t now_ms);
/* The stored packet with this sequence number, or NULL. */
sfu_rtx_slot_t *sfu_rtp_stream_rtx_get(sfu_rtp_stream_t *s, uint16_t seq);

/* FBS.RtpStream.Dump and Stats (RecvStats or SendStats) into b. */
fb_ref_t sfu_rtp_stream_dump(const sfu_rtp_stream_t *s, fb_builder_t *b);
fb_ref_t sfu_rtp_stream_stats(sfu_rtp_stream_t *s, fb_builder_t *b, bool recv, uint64_t now_ms);

/* Wall clock as NTP (RFC 3550 4). */
void sfu_ntp_now(uint32_t *sec, uint32_t *frac);

#endif
