/* RTCP (RFC 3550, RFC 3611): the one compound-packet iterator, and readers
 * and builders for SR, RR, SDES, BYE and XR (RRTR, DLRR). Feedback messages
 * (RFC 4585, 5104, REMB, transport-cc) are in sfu_rtcp_feedback.h.
 *
 * sfu_rtcp_iter_next() is the only code that walks a compound packet: it
 * checks the common header and the length and padding of every packet and
 * hands out one sfu_rtcp_hdr_t per packet. Each reader takes such a header,
 * checks its own body lengths and fills a plain struct (pointers into the
 * packet where noted: they live as long as the packet bytes).
 *
 * Readers return 0, SFU_EINVAL when the header is not of their packet type
 * (a dispatch error, not the peer's), or SFU_EPROTO when the body is
 * malformed. Builders write one packet into (out, cap) and return its length,
 * SFU_ETOOBIG when it does not fit, or SFU_EINVAL for impossible input (more
 * than 31 report blocks...). Everything is big-endian, read and written byte
 * by byte. */
#ifndef SFU_RTCP_H
#define SFU_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFU_RTCP_HEADER_LEN 4u
#define SFU_RTCP_MAX_COUNT 31u /* the 5-bit RC/SC field */

enum {
  SFU_RTCP_PT_SR = 200,
  SFU_RTCP_PT_RR = 201,
  SFU_RTCP_PT_SDES = 202,
  SFU_RTCP_PT_BYE = 203,
  SFU_RTCP_PT_APP = 204,
  SFU_RTCP_PT_RTPFB = 205,
  SFU_RTCP_PT_PSFB = 206,
  SFU_RTCP_PT_XR = 207
};

/* RFC 7983 + RFC 5761 demultiplexing: first byte 128..191, second byte &
 * 0x7f in 64..95 (RTCP packet types 192..223), at least a common header. */
bool sfu_rtcp_is_rtcp(const uint8_t *p, size_t len);

/* ---- compound iterator ---- */

typedef struct sfu_rtcp_hdr {
  uint8_t version; /* always 2 */
  bool padding;    /* P bit */
  uint8_t count;   /* RC / SC / FMT: the low 5 bits of the first byte */
  uint8_t pt;
  const uint8_t *body; /* after the 4-byte common header */
  size_t body_len;     /* padding excluded */
  const uint8_t *packet; /* the whole packet, header and padding included */
  size_t packet_len;
} sfu_rtcp_hdr_t;

typedef struct sfu_rtcp_iter {
  const uint8_t *p;
  size_t len;
  size_t pos;
  int err; /* sticky once a malformed packet was met */
} sfu_rtcp_iter_t;

void sfu_rtcp_iter_init(sfu_rtcp_iter_t *it, const uint8_t *p, size_t len);
/* 1 and *h filled for the next packet, 0 at the end, SFU_EPROTO for a
 * malformed compound (fewer than 4 bytes left, version != 2, length field
 * past the end, P bit with a padding count of 0 or beyond the body); the
 * error repeats on later calls. Packets before the bad one were valid. */
int sfu_rtcp_iter_next(sfu_rtcp_iter_t *it, sfu_rtcp_hdr_t *h);
/* Walks the whole compound: the number of packets (>= 1) or SFU_EPROTO
 * (also for an empty buffer). */
int sfu_rtcp_validate(const uint8_t *p, size_t len);

/* ---- report blocks, SR, RR ---- */

typedef struct sfu_rtcp_rb {
  uint32_t ssrc;
  uint8_t fraction_lost;   /* 8-bit fixed point fraction */
  int32_t cumulative_lost; /* 24-bit signed; builders clamp to -2^23..2^23-1 */
  uint32_t highest_seq;    /* extended highest sequence number received */
  uint32_t jitter;
  uint32_t lsr;  /* middle 32 bits of the last SR's NTP time */
  uint32_t dlsr; /* 1/65536 s */
} sfu_rtcp_rb_t;

typedef struct sfu_rtcp_sr {
  uint32_t ssrc;
  uint32_t ntp_sec;
  uint32_t ntp_frac;
  uint32_t rtp_ts;
  uint32_t packet_count;
  uint32_t octet_count;
  uint8_t report_count;
  sfu_rtcp_rb_t reports[SFU_RTCP_MAX_COUNT];
} sfu_rtcp_sr_t;

typedef struct sfu_rtcp_rr {
  uint32_t ssrc;
  uint8_t report_count;
  sfu_rtcp_rb_t reports[SFU_RTCP_MAX_COUNT];
} sfu_rtcp_rr_t;

/* Bytes after the report blocks (profile-specific extensions) are ignored. */
int sfu_rtcp_sr_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_sr_t *sr);
int sfu_rtcp_rr_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_rr_t *rr);
int sfu_rtcp_sr_build(uint8_t *out, size_t cap, const sfu_rtcp_sr_t *sr);
int sfu_rtcp_rr_build(uint8_t *out, size_t cap, const sfu_rtcp_rr_t *rr);

/* ---- SDES ---- */

#define SFU_RTCP_SDES_END 0
#define SFU_RTCP_SDES_CNAME 1

typedef struct sfu_rtcp_sdes_chunk {
  uint32_t ssrc;
  const uint8_t *cname; /* first CNAME item's text (not NUL-terminated), NULL if none */
  uint8_t cname_len;
} sfu_rtcp_sdes_chunk_t;

typedef struct sfu_rtcp_sdes {
  uint8_t count;
  sfu_rtcp_sdes_chunk_t chunks[SFU_RTCP_MAX_COUNT];
} sfu_rtcp_sdes_t;

/* Every chunk's items must fit and end with a null octet, the chunk padded to
 * 32 bits; other item types are skipped. */
int sfu_rtcp_sdes_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_sdes_t *sdes);
/* One CNAME item per chunk (none when cname is NULL). */
int sfu_rtcp_sdes_build(uint8_t *out, size_t cap, const sfu_rtcp_sdes_t *sdes);

/* ---- BYE ---- */

typedef struct sfu_rtcp_bye {
  uint8_t count;
  uint32_t ssrcs[SFU_RTCP_MAX_COUNT];
  const uint8_t *reason; /* NULL if none */
  uint8_t reason_len;
} sfu_rtcp_bye_t;

int sfu_rtcp_bye_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_bye_t *bye);
int sfu_rtcp_bye_build(uint8_t *out, size_t cap, const sfu_rtcp_bye_t *bye);

/* ---- XR (RFC 3611) ---- */

#define SFU_RTCP_XR_RRTR 4
#define SFU_RTCP_XR_DLRR 5

typedef struct sfu_rtcp_xr {
  uint32_t ssrc;
  const uint8_t *blocks;
  size_t blocks_len;
  size_t pos; /* block iterator */
} sfu_rtcp_xr_t;

typedef struct sfu_rtcp_xr_block {
  uint8_t type;
  uint8_t type_specific;
  const uint8_t *body; /* after the 4-byte block header */
  size_t body_len;
} sfu_rtcp_xr_block_t;

typedef struct sfu_rtcp_dlrr_item {
  uint32_t ssrc;
  uint32_t lrr;
  uint32_t dlrr;
} sfu_rtcp_dlrr_item_t;

int sfu_rtcp_xr_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_xr_t *xr);
/* 1 and *b for the next report block, 0 at the end, SFU_EPROTO if a block
 * overruns the packet. */
int sfu_rtcp_xr_next(sfu_rtcp_xr_t *xr, sfu_rtcp_xr_block_t *b);
/* Receiver Reference Time block: 0, SFU_EINVAL (other type), SFU_EPROTO. */
int sfu_rtcp_xr_rrtr_parse(const sfu_rtcp_xr_block_t *b, uint32_t *ntp_sec, uint32_t *ntp_frac);
/* DLRR block: the number of sub-blocks (body_len / 12) or SFU_EINVAL/SFU_EPROTO;
 * then sfu_rtcp_xr_dlrr_item() reads sub-block i. */
int sfu_rtcp_xr_dlrr_count(const sfu_rtcp_xr_block_t *b);
void sfu_rtcp_xr_dlrr_item(const sfu_rtcp_xr_block_t *b, size_t i, sfu_rtcp_dlrr_item_t *item);
/* XR packets with one block each. */
int sfu_rtcp_xr_rrtr_build(uint8_t *out, size_t cap, uint32_t ssrc, uint32_t ntp_sec, uint32_t ntp_frac);
int sfu_rtcp_xr_dlrr_build(uint8_t *out, size_t cap, uint32_t ssrc, const sfu_rtcp_dlrr_item_t *items,
                           size_t n);

/* ---- compound writer ---- */

/* Appends packets built by the builders above into one buffer:
 *   sfu_rtcp_writer_commit(&w, sfu_rtcp_rr_build(sfu_rtcp_writer_tail(&w),
 *                                                sfu_rtcp_writer_room(&w), &rr));
 */
typedef struct sfu_rtcp_writer {
  uint8_t *buf;
  size_t cap;
  size_t len;
  size_t count; /* packets written */
} sfu_rtcp_writer_t;

void sfu_rtcp_writer_init(sfu_rtcp_writer_t *w, uint8_t *buf, size_t cap);
static inline uint8_t *sfu_rtcp_writer_tail(const sfu_rtcp_writer_t *w) { return w->buf + w->len; }
static inline size_t sfu_rtcp_writer_room(const sfu_rtcp_writer_t *w) { return w->cap - w->len; }
/* Takes a builder's return value: a length is added to the compound (and
 * returned), a negative code is returned unchanged and nothing is added. */
int sfu_rtcp_writer_commit(sfu_rtcp_writer_t *w, int built);
/* Appends an already serialized packet. Its length or SFU_ETOOBIG. */
int sfu_rtcp_writer_append(sfu_rtcp_writer_t *w, const uint8_t *pkt, size_t len);

/* Writes a common header for a packet of total_len bytes (a multiple of 4,
 * at least 4). For the builders of sfu_rtcp_feedback.c. */
void sfu__rtcp_write_header(uint8_t *out, uint8_t count, uint8_t pt, size_t total_len);

#endif
