/* RTCP feedback messages (RFC 4585 section 6): transport layer (RTPFB, PT
 * 205) generic NACK and transport-cc; payload-specific (PSFB, PT 206) PLI,
 * FIR (RFC 5104) and the REMB application layer message
 * (draft-alvestrand-rmcat-remb). Readers work on one sfu_rtcp_hdr_t from
 * sfu_rtcp_iter_next() and return 0, SFU_EINVAL (another packet type or
 * format), SFU_ENOTSUP (sfu_rtcp_remb_parse: an AFB message that is not
 * REMB) or SFU_EPROTO (malformed). Builders return the packet length,
 * SFU_ETOOBIG or SFU_EINVAL, like those of sfu_rtcp.h. */
#ifndef SFU_RTCP_FEEDBACK_H
#define SFU_RTCP_FEEDBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu_rtcp.h"

/* FMT values */
enum {
  SFU_RTCP_RTPFB_NACK = 1,
  SFU_RTCP_RTPFB_TCC = 15, /* draft-holmer-rmcat-transport-wide-cc-extensions-01 */
  SFU_RTCP_PSFB_PLI = 1,
  SFU_RTCP_PSFB_SLI = 2,
  SFU_RTCP_PSFB_RPSI = 3,
  SFU_RTCP_PSFB_FIR = 4,
  SFU_RTCP_PSFB_AFB = 15
};

/* Common part of every feedback message. */
typedef struct sfu_rtcp_fb {
  uint8_t pt;  /* SFU_RTCP_PT_RTPFB or SFU_RTCP_PT_PSFB */
  uint8_t fmt;
  uint32_t sender_ssrc;
  uint32_t media_ssrc;
  const uint8_t *fci; /* feedback control information */
  size_t fci_len;
} sfu_rtcp_fb_t;

/* Any RTPFB/PSFB message (body >= 8 bytes). */
int sfu_rtcp_fb_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_fb_t *fb);

/* ---- generic NACK (RTPFB 1) ---- */

typedef struct sfu_rtcp_nack {
  sfu_rtcp_fb_t fb;
  size_t item_count; /* >= 1 */
} sfu_rtcp_nack_t;

/* FCI: one or more (PID, BLP) items, 4 bytes each. */
int sfu_rtcp_nack_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_nack_t *nack);
/* Item i (< item_count). */
void sfu_rtcp_nack_item(const sfu_rtcp_nack_t *nack, size_t i, uint16_t *pid, uint16_t *blp);
/* The lost sequence numbers an item names (pid, then pid+1..pid+16 for each
 * BLP bit, in order, wrapping): their count (1..17). */
size_t sfu_rtcp_nack_expand(uint16_t pid, uint16_t blp, uint16_t out[17]);
/* Packs lost sequence numbers into (PID, BLP) items, in the given order: an
 * item starts at the first number it does not cover and takes the following
 * numbers within the next 16 (repeats of covered numbers are absorbed), so
 * ascending input (in sequence-number order) packs tightly and any input
 * expands back to the same set. Writes as many items as fit in cap and sets
 * *consumed (if not NULL) to how many of seqs they cover; build the rest into
 * another packet. SFU_EINVAL for n == 0, SFU_ETOOBIG if not even one item fits. */
int sfu_rtcp_nack_build(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                        const uint16_t *seqs, size_t n, size_t *consumed);

/* ---- transport-cc (RTPFB 15): the fixed part only (the whole message,
 * read and built: sfu_rtcp_tcc.h) ---- */

typedef struct sfu_rtcp_tcc {
  sfu_rtcp_fb_t fb;
  uint16_t base_seq;
  uint16_t status_count;
  int32_t reference_time; /* 24-bit signed, multiples of 64 ms */
  uint8_t fb_count;
  /* packet chunks and receive deltas: fb.fci + 8 .. fb.fci + fb.fci_len */
} sfu_rtcp_tcc_t;

int sfu_rtcp_tcc_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_tcc_t *tcc);

/* ---- PLI (PSFB 1) ---- */

int sfu_rtcp_pli_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_fb_t *fb);
int sfu_rtcp_pli_build(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);

/* ---- FIR (PSFB 4, RFC 5104 4.3.1) ---- */

typedef struct sfu_rtcp_fir_entry {
  uint32_t ssrc;
  uint8_t seq; /* command sequence number */
} sfu_rtcp_fir_entry_t;

typedef struct sfu_rtcp_fir {
  sfu_rtcp_fb_t fb;
  size_t count; /* >= 1 */
} sfu_rtcp_fir_t;

int sfu_rtcp_fir_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_fir_t *fir);
void sfu_rtcp_fir_entry(const sfu_rtcp_fir_t *fir, size_t i, sfu_rtcp_fir_entry_t *e);
/* RFC 5104 wants media_ssrc 0 (the entries name the targets). n >= 1. */
int sfu_rtcp_fir_build(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                       const sfu_rtcp_fir_entry_t *entries, size_t n);

/* ---- REMB (PSFB 15, "REMB") ---- */

typedef struct sfu_rtcp_remb {
  sfu_rtcp_fb_t fb;
  uint64_t bitrate; /* bps: mantissa << exponent */
  uint8_t ssrc_count;
  const uint8_t *ssrcs; /* ssrc_count x 4 bytes; read with sfu_rtcp_remb_ssrc() */
} sfu_rtcp_remb_t;

/* SFU_EPROTO also when mantissa << exponent does not fit in 64 bits. */
int sfu_rtcp_remb_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_remb_t *remb);
uint32_t sfu_rtcp_remb_ssrc(const sfu_rtcp_remb_t *remb, size_t i);
/* The bitrate is rounded down to 18 significant bits. media_ssrc is 0
 * (draft-alvestrand-rmcat-remb). n <= 255. */
int sfu_rtcp_remb_build(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
                        const uint32_t *ssrcs, size_t n);

#endif
