/* Transport-wide congestion control feedback (RTPFB FMT 15,
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1): the whole
 * message, read and written. sfu_rtcp_feedback.h reads only its fixed part
 * (sfu_rtcp_tcc_parse).
 *
 *   base sequence number (16) | packet status count (16)
 *   reference time (24, signed, 64 ms units) | feedback packet count (8)
 *   packet chunks (16 bits each) ... | receive deltas ... | padding
 *
 * A chunk is a run length (0 | symbol:2 | count:13), a 1-bit status vector
 * (1 0 | 14 symbols: 0 not received, 1 received with a small delta) or a
 * 2-bit status vector (1 1 | 7 symbols: 0 not received, 1 small delta,
 * 2 large delta, 3 reserved). Every received packet has a delta in 250 us
 * units from the previous received packet (the reference time for the
 * first): a small delta is one unsigned byte (0..63.75 ms), a large one two
 * bytes, signed (-8192..8191.75 ms).
 *
 * sfu_rtcp_tcc_read() checks the whole message (every chunk, every delta,
 * the trailing bytes) without allocating; sfu_rtcp_tcc_iter_*() then walk
 * its packets, which cannot fail. sfu_rtcp_tcc_build() encodes as many
 * arrivals as fit into one message, choosing chunks as libwebrtc does
 * (a 2-bit vector only when 7 symbols are not all alike and one is a large
 * delta, a 1-bit vector for 14 mixed small/lost symbols, run lengths for
 * repeats). */
#ifndef SFU_RTCP_TCC_H
#define SFU_RTCP_TCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu_rtcp.h"
#include "sfu_rtcp_feedback.h"

#define SFU_RTCP_TCC_DELTA_US 250              /* receive delta unit */
#define SFU_RTCP_TCC_REF_US 64000              /* reference time unit */
#define SFU_RTCP_TCC_REF_WRAP_US (64000ll << 24) /* reference time period (~12.4 days) */
#define SFU_RTCP_TCC_MIN_LEN 24u                 /* header, fixed part, 1 chunk, 1 delta, padded */

enum {
  SFU_RTCP_TCC_NOT_RECEIVED = 0,
  SFU_RTCP_TCC_SMALL_DELTA = 1,
  SFU_RTCP_TCC_LARGE_DELTA = 2
};

/* A checked message. Pointers are into the packet. */
typedef struct sfu_rtcp_tcc_msg {
  sfu_rtcp_tcc_t tcc;      /* fb, base_seq, status_count (>= 1), reference_time, fb_count */
  const uint8_t *chunks;   /* chunk_count x 2 bytes */
  size_t chunk_count;
  const uint8_t *deltas;   /* deltas_len bytes */
  size_t deltas_len;
  uint16_t received_count; /* packets with a delta */
} sfu_rtcp_tcc_msg_t;

/* 0, SFU_EINVAL (not RTPFB/15), or SFU_EPROTO: fixed part truncated, packet
 * status count 0, chunks ending before the status count is covered, a
 * reserved symbol (3) among the covered ones, deltas missing, or 4 or more
 * bytes after the deltas (up to 3 are padding without the P bit, as
 * mediasoup writes it). A last chunk may name more packets than remain:
 * they are ignored, as libwebrtc does. */
int sfu_rtcp_tcc_read(const sfu_rtcp_hdr_t *h, sfu_rtcp_tcc_msg_t *msg);

/* One packet of a message. */
typedef struct sfu_rtcp_tcc_pkt {
  uint16_t seq;
  bool received;
  uint8_t symbol;     /* SFU_RTCP_TCC_* */
  int16_t delta;      /* 250 us units from the previous received packet (0 if not received) */
  int64_t arrival_us; /* received: reference time + deltas so far, on the receiver's
                         clock modulo SFU_RTCP_TCC_REF_WRAP_US (may be negative) */
} sfu_rtcp_tcc_pkt_t;

typedef struct sfu_rtcp_tcc_iter {
  const sfu_rtcp_tcc_msg_t *msg;
  size_t chunk;      /* current chunk index */
  unsigned pos;      /* symbols of the current chunk already read */
  unsigned n;        /* symbols of the current chunk that count */
  uint16_t word;     /* the current chunk */
  uint32_t done;     /* packets read */
  size_t delta_pos;
  int64_t time_us;
} sfu_rtcp_tcc_iter_t;

void sfu_rtcp_tcc_iter_init(sfu_rtcp_tcc_iter_t *it, const sfu_rtcp_tcc_msg_t *msg);
/* 1 and *pkt for the next packet (status_count of them, base_seq first), 0 at the end. */
int sfu_rtcp_tcc_iter_next(sfu_rtcp_tcc_iter_t *it, sfu_rtcp_tcc_pkt_t *pkt);

/* Unwraps a reference time against the previous unwrapped one (in 64 ms
 * units; pass INT64_MIN for the first): the value congruent to ref modulo
 * 2^24 closest to prev. */
int64_t sfu_rtcp_tcc_unwrap_ref(int32_t ref, int64_t prev);

/* ---- builder ---- */

typedef struct sfu_rtcp_tcc_arrival {
  uint16_t seq;
  int64_t arrival_us; /* >= 0, receiver clock */
} sfu_rtcp_tcc_arrival_t;

/* Builds one message for pkts[0..n): base_seq (at or before pkts[0].seq;
 * the packets in between are reported lost), the reference time from
 * pkts[0] (floor(arrival / 64 ms) modulo 2^24), deltas rounded to 250 us
 * without accumulating rounding error. Packets missing between two listed
 * ones are reported lost. The message ends before the first packet that
 * does not fit: beyond cap (and 256 KiB), past 65535 statuses, not after
 * the previous one within 2^15 sequence numbers, or whose delta from the
 * previous one is beyond a 16-bit large delta (< -8192 ms or >= 8192 ms);
 * *consumed says how many were encoded: build the rest into another message
 * with base_seq = pkts[*consumed].seq and the next feedback packet count.
 * Returns the length (a multiple of 4, zero padded without the P bit),
 * SFU_EINVAL (n == 0, negative arrival, pkts[0] more than 32767 after
 * base_seq) or SFU_ETOOBIG (cap below the smallest message, 24 bytes, or
 * too small for the chunks of the lost packets between base_seq and
 * pkts[0]). */
int sfu_rtcp_tcc_build(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                       uint16_t base_seq, uint8_t fb_count, const sfu_rtcp_tcc_arrival_t *pkts, size_t n,
                       size_t *consumed);

#endif
