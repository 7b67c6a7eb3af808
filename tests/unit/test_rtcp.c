/*
 * Unit tests for worker/src/rtp/sfu_rtcp (compound iterator, SR, RR, SDES,
 * BYE, XR, writer) and sfu_rtcp_feedback (NACK, transport-cc, PLI, FIR,
 * REMB).
 *
 * Fixtures are hex dumps of compound packets laid out as Chrome sends them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_bytes.h"

#include "sfu_error.h"
#include "sfu_rtcp.h"
#include "sfu_rtcp_feedback.h"



/* RR with one report block + SDES with a 16-character CNAME. */
#define RR_1 \
  "81c90007 00000001" \
  "12345678 05 00000a 00011a2b 00000020 a1b2c3d4 00010000"
#define SDES_1 "81ca0006 00000001 0110 61626364 65666768 696a6b6c 6d6e6f70 0000"
static const char *RR_SDES = RR_1 SDES_1;
/* SR without blocks + the same SDES. */
static const char *SR_SDES =
    "80c80006 00000002 e7a1b2c3 12345678 0001e240 00000064 00002710" SDES_1;
/* SR with one block (cumulative lost -2). */
static const char *SR_BLOCK =
    "81c8000c 00000002 e7a1b2c3 12345678 0001e240 00000064 00002710"
    "00000009 40 fffffe 0000ffff 00000003 00000000 00000000";
/* Empty RR + REMB of 1.5 Mbps for one SSRC. */
static const char *RR_REMB =
    "80c90001 00000001"
    "8fce0005 00000001 00000000 52454d42 010edc6c 12345678";
/* Empty RR + generic NACK: (100, 0x0005) and (200, 0x8000). */
static const char *RR_NACK =
    "80c90001 00000001"
    "81cd0004 00000001 12345678 00640005 00c88000";
static const char *PLI = "81ce0002 00000001 12345678";
/* FIR for SSRC 0x12345678, command sequence number 7. */
static const char *FIR = "84ce0004 00000001 00000000 12345678 07000000";
/* Transport-cc with three padding bytes (P bit, as libwebrtc pads it):
 * base 1, 3 packets, reference time 16, fb count 1, one run-length chunk. */
static const char *TCC = "afcd0006 00000001 12345678 00010003 00001001 20030404 04000003";
/* XR with an RRTR block; BYE with a reason. */
static const char *XR_RRTR = "80cf0004 00000001 04000002 e7a1b2c3 12345678";
static const char *BYE_REASON = "81cb0003 00000001 05627965 21210000";

typedef struct fix {
  uint8_t buf[512];
  size_t len;
  sfu_rtcp_iter_t it;
} fix_t;

static void load(fix_t *f, const char *hx) {
  f->len = hex(hx, f->buf);
  assert_true(sfu_rtcp_is_rtcp(f->buf, f->len));
  sfu_rtcp_iter_init(&f->it, f->buf, f->len);
}

static void next(fix_t *f, sfu_rtcp_hdr_t *h, uint8_t pt) {
  assert_int_equal(sfu_rtcp_iter_next(&f->it, h), 1);
  assert_int_equal(h->pt, pt);
  assert_int_equal(h->version, 2);
}

static void end(fix_t *f) {
  sfu_rtcp_hdr_t h;
  assert_int_equal(sfu_rtcp_iter_next(&f->it, &h), 0);
  assert_int_equal(sfu_rtcp_iter_next(&f->it, &h), 0);
}

/* ---- fixtures ---- */

static void check_sdes_1(const sfu_rtcp_hdr_t *h) {
  sfu_rtcp_sdes_t sdes;

  assert_int_equal(sfu_rtcp_sdes_parse(h, &sdes), 0);
  assert_int_equal(sdes.count, 1);
  assert_int_equal(sdes.chunks[0].ssrc, 1);
  assert_int_equal(sdes.chunks[0].cname_len, 16);
  assert_memory_equal(sdes.chunks[0].cname, "abcdefghijklmnop", 16);
}

static void test_rr_sdes(void **state) {
  fix_t f;
  sfu_rtcp_hdr_t h;
  sfu_rtcp_rr_t rr;
  sfu_rtcp_sr_t sr;

  (void)state;
  load(&f, RR_SDES);
  assert_int_equal(sfu_rtcp_validate(f.buf, f.len), 2);
  next(&f, &h, SFU_RTCP_PT_RR);
  assert_int_equal(h.count, 1);
  assert_int_equal(h.packet_len, 32);
  assert_int_equal(h.body_len, 28);
  assert_ptr_equal(h.packet, f.buf);
  assert_int_equal(sfu_rtcp_rr_parse(&h, &rr), 0);
  assert_int_equal(sfu_rtcp_sr_parse(&h, &sr), SFU_EINVAL);
  assert_int_equal(rr.ssrc, 1);
  assert_int_equal(rr.report_count, 1);
  assert_int_equal(rr.reports[0].ssrc, 0x12345678);
  assert_int_equal(rr.reports[0].fraction_lost, 5);
  assert_int_equal(rr.reports[0].cumulative_lost, 10);
  assert_int_equal(rr.reports[0].highest_seq, 0x11a2b);
  assert_int_equal(rr.reports[0].jitter, 0x20);
  assert_int_equal(rr.reports[0].lsr, 0xa1b2c3d4);
  assert_int_equal(rr.reports[0].dlsr, 0x10000);
  next(&f, &h, SFU_RTCP_PT_SDES);
  assert_int_equal(h.body_len, 24);
  check_sdes_1(&h);
  end(&f);
}

static void test_sr_sdes(void **state) {
  fix_t f;
  sfu_rtcp_hdr_t h;
  sfu_rtcp_sr_t sr;

  (void)state;
  load(&f, SR_SDES);
  next(&f, &h, SFU_RTCP_PT_SR);
  assert_int_equal(sfu_rtcp_sr_parse(&h, &sr), 0);
  assert_int_equal(sr.ssrc, 2);
  assert_int_equal(sr.ntp_sec, 0xe7a1b2c3);
  assert_int_equal(sr.ntp_frac, 0x12345678);
  assert_int_equal(sr.rtp_ts, 123456);
  assert_int_equal(sr.packet_count, 100);
  assert_int_equal(sr.octet_count, 10000);
  assert_int_equal(sr.report_count, 0);
  next(&f, &h, SFU_RTCP_PT_SDES);
  check_sdes_1(&h);
  end(&f);

  load(&f, SR_BLOCK);
  next(&f, &h, SFU_RTCP_PT_SR);
  assert_int_equal(sfu_rtcp_sr_parse(&h, &sr), 0);
  assert_int_equal(sr.report_count, 1);
  assert_int_equal(sr.reports[0].ssrc, 9);
  assert_int_equal(sr.reports[0].fraction_lost, 0x40);
  assert_int_equal(sr.reports[0].cumulative_lost, -2);
  assert_int_equal(sr.reports[0].highest_seq, 0xffff);
  end(&f);
}

static void test_rr_remb(void **state) {
  fix_t f;
  sfu_rtcp_hdr_t h;
  sfu_rtcp_rr_t rr;
  sfu_rtcp_remb_t remb;
  sfu_rtcp_fb_t fb;

  (void)state;
  load(&f, RR_REMB);
  next(&f, &h, SFU_RTCP_PT_RR);
  assert_int_equal(sfu_rtcp_rr_parse(&h, &rr), 0);
  assert_int_equal(rr.report_count, 0);
  next(&f, &h, SFU_RTCP_PT_PSFB);
  assert_int_equal(h.count, SFU_RTCP_PSFB_AFB);
  assert_int_equal(sfu_rtcp_fb_parse(&h, &fb), 0);
  assert_int_equal(fb.sender_ssrc, 1);
  assert_int_equal(fb.media_ssrc, 0);
  assert_int_equal(fb.fci_len, 12);
  assert_int_equal(sfu_rtcp_remb_parse(&h, &remb), 0);
  assert_int_equal(remb.bitrate, 1500000);
  assert_int_equal(remb.ssrc_count, 1);
  assert_int_equal(sfu_rtcp_remb_ssrc(&remb, 0), 0x12345678);
  assert_int_equal(sfu_rtcp_pli_parse(&h, &fb), SFU_EINVAL);
  end(&f);
}

static void test_nack(void **state) {
  fix_t f;
  sfu_rtcp_hdr_t h;
  sfu_rtcp_nack_t nack;
  uint16_t pid, blp, seqs[17];
  size_t n;

  (void)state;
  load(&f, RR_NACK);
  next(&f, &h, SFU_RTCP_PT_RR);
  next(&f, &h, SFU_RTCP_PT_RTPFB);
  assert_int_equal(sfu_rtcp_nack_parse(&h, &nack), 0);
  assert_int_equal(nack.fb.sender_ssrc, 1);
  assert_int_equal(nack.fb.media_ssrc, 0x12345678);
  assert_int_equal(nack.item_count, 2);
  sfu_rtcp_nack_item(&nack, 0, &pid, &blp);
  assert_int_equal(pid, 100);
  assert_int_equal(blp, 5);
  n = sfu_rtcp_nack_expand(pid, blp, seqs);
  assert_int_equal(n, 3);
  assert_int_equal(seqs[0], 100);
  assert_int_equal(seqs[1], 101);
  assert_int_equal(seqs[2], 103);
  sfu_rtcp_nack_item(&nack, 1, &pid, &blp);
  n = sfu_rtcp_nack_expand(pid, blp, seqs);
  assert_int_equal(n, 2);
  assert_int_equal(seqs[0], 200);
  assert_int_equal(seqs[1], 216);
  /* wrap and full mask */
  n = sfu_rtcp_nack_expand(65530, 0xffff, seqs);
  assert_int_equal(n, 17);
  assert_int_equal(seqs[5], 65535);
  assert_int_equal(seqs[6], 0);
  assert_int_equal(seqs[16], 10);
  end(&f);
}

static void test_pli_fir_tcc(void **state) {
  fix_t f;
  sfu_rtcp_hdr_t h;
  sfu_rtcp_fb_t fb;
  sfu_rtcp_fir_t fir;
  sfu_rtcp_fir_entry_t e;
  sfu_rtcp_tcc_t tcc;
  sfu_rtcp_nack_t nack;

  (void)state;
  load(&f, PLI);
  next(&f, &h, SFU_RTCP_PT_PSFB);
  assert_int_equal(sfu_rtcp_pli_parse(&h, &fb), 0);
  assert_int_equal(fb.fmt, SFU_RTCP_PSFB_PLI);
  assert_int_equal(fb.sender_ssrc, 1);
  assert_int_equal(fb.media_ssrc, 0x12345678);
  assert_int_equal(fb.fci_len, 0);
  assert_int_equal(sfu_rtcp_fir_parse(&h, &fir), SFU_EINVAL);
  assert_int_equal(sfu_rtcp_nack_parse(&h, &nack), SFU_EINVAL);
  end(&f);

  load(&f, FIR);
  next(&f, &h, SFU_RTCP_PT_PSFB);
  assert_int_equal(sfu_rtcp_fir_parse(&h, &fir), 0);
  assert_int_equal(fir.count, 1);
  assert_int_equal(fir.fb.media_ssrc, 0);
  sfu_rtcp_fir_entry(&fir, 0, &e);
  assert_int_equal(e.ssrc, 0x12345678);
  assert_int_equal(e.seq, 7);
  end(&f);

  load(&f, TCC);
  next(&f, &h, SFU_RTCP_PT_RTPFB);
  assert_true(h.padding);
  assert_int_equal(h.packet_len, 28);
  assert_int_equal(h.body_len, 21);
  assert_int_equal(sfu_rtcp_tcc_parse(&h, &tcc), 0);
  assert_int_equal(tcc.fb.sender_ssrc, 1);
  assert_int_equal(tcc.fb.media_ssrc, 0x12345678);
  assert_int_equal(tcc.fb.fci_len, 13);
  assert_int_equal(tcc.base_seq, 1);
  assert_int_equal(tcc.status_count, 3);
  assert_int_equal(tcc.reference_time, 16);
  assert_int_equal(tcc.fb_count, 1);
  assert_int_equal(sfu_rtcp_nack_parse(&h, &nack), SFU_EINVAL);
  end(&f);
}

static void test_xr_bye(void **state) {
  fix_t f;
  sfu_rtcp_hdr_t h;
  sfu_rtcp_xr_t xr;
  sfu_rtcp_xr_block_t b;
  sfu_rtcp_bye_t bye;
  uint32_t sec, frac;

  (void)state;
  load(&f, XR_RRTR);
  next(&f, &h, SFU_RTCP_PT_XR);
  assert_int_equal(sfu_rtcp_xr_parse(&h, &xr), 0);
  assert_int_equal(xr.ssrc, 1);
  assert_int_equal(sfu_rtcp_xr_next(&xr, &b), 1);
  assert_int_equal(b.type, SFU_RTCP_XR_RRTR);
  assert_int_equal(sfu_rtcp_xr_rrtr_parse(&b, &sec, &frac), 0);
  assert_int_equal(sec, 0xe7a1b2c3);
  assert_int_equal(frac, 0x12345678);
  assert_int_equal(sfu_rtcp_xr_dlrr_count(&b), SFU_EINVAL);
  assert_int_equal(sfu_rtcp_xr_next(&xr, &b), 0);
  end(&f);

  load(&f, BYE_REASON);
  next(&f, &h, SFU_RTCP_PT_BYE);
  assert_int_equal(sfu_rtcp_bye_parse(&h, &bye), 0);
  assert_int_equal(bye.count, 1);
  assert_int_equal(bye.ssrcs[0], 1);
  assert_int_equal(bye.reason_len, 5);
  assert_memory_equal(bye.reason, "bye!!", 5);
  end(&f);
}

/* ---- the iterator on malformed compounds ---- */

static void test_iter_malformed(void **state) {
  uint8_t b[256];
  sfu_rtcp_iter_t it;
  sfu_rtcp_hdr_t h;
  size_t n;

  (void)state;
  n = hex(RR_SDES, b);
  /* the SDES length runs one word past the end: the RR comes out, then the error */
  b[32 + 3] = 7;
  sfu_rtcp_iter_init(&it, b, n);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
  assert_int_equal(h.pt, SFU_RTCP_PT_RR);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), SFU_EPROTO);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), SFU_EPROTO); /* sticky */
  assert_int_equal(sfu_rtcp_validate(b, n), SFU_EPROTO);
  b[32 + 3] = 6;
  assert_int_equal(sfu_rtcp_validate(b, n), 2);
  /* every truncation that is not at a packet boundary is malformed */
  for (size_t l = 0; l < n; l++) {
    int rc = sfu_rtcp_validate(b, l);
    if (l == 32) assert_int_equal(rc, 1);
    else assert_int_equal(rc, SFU_EPROTO);
  }
  /* trailing bytes shorter than a header */
  b[n] = 0x80;
  b[n + 1] = 0xc9;
  assert_int_equal(sfu_rtcp_validate(b, n + 2), SFU_EPROTO);
  /* version 1 in the second packet */
  b[32] = 0x41;
  assert_int_equal(sfu_rtcp_validate(b, n), SFU_EPROTO);
  b[32] = 0x81;
  /* padding: count 0, count past the body, count == whole body (accepted) */
  n = hex(PLI, b);
  b[0] |= 0x20;
  b[n - 1] = 0;
  assert_int_equal(sfu_rtcp_validate(b, n), SFU_EPROTO);
  b[n - 1] = 9;
  assert_int_equal(sfu_rtcp_validate(b, n), SFU_EPROTO);
  b[n - 1] = 8;
  sfu_rtcp_iter_init(&it, b, n);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
  assert_int_equal(h.body_len, 0);
  assert_int_equal(sfu_rtcp_pli_parse(&h, &(sfu_rtcp_fb_t){0}), SFU_EPROTO);
  /* empty */
  assert_int_equal(sfu_rtcp_validate(b, 0), SFU_EPROTO);
  sfu_rtcp_iter_init(&it, b, 0);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 0);
  /* unknown packet types are handed out (readers decide) */
  n = hex("80cc0000 80ff0000", b);
  assert_int_equal(sfu_rtcp_validate(b, n), 2);
}

/* ---- readers on malformed bodies ---- */

static int first(const char *hx, uint8_t *b, sfu_rtcp_hdr_t *h) {
  sfu_rtcp_iter_t it;
  size_t n = hex(hx, b);

  sfu_rtcp_iter_init(&it, b, n);
  return sfu_rtcp_iter_next(&it, h);
}

static void test_readers_malformed(void **state) {
  uint8_t b[256];
  sfu_rtcp_hdr_t h;
  sfu_rtcp_sr_t sr;
  sfu_rtcp_rr_t rr;
  sfu_rtcp_sdes_t sdes;
  sfu_rtcp_bye_t bye;
  sfu_rtcp_nack_t nack;
  sfu_rtcp_fir_t fir;
  sfu_rtcp_remb_t remb;
  sfu_rtcp_tcc_t tcc;
  sfu_rtcp_fb_t fb;
  sfu_rtcp_xr_t xr;
  sfu_rtcp_xr_block_t blk;

  (void)state;
  /* SR announcing a block it lacks; SR shorter than the sender info */
  assert_int_equal(first("81c80006 00000002 e7a1b2c3 12345678 0001e240 00000064 00002710", b, &h), 1);
  assert_int_equal(sfu_rtcp_sr_parse(&h, &sr), SFU_EPROTO);
  assert_int_equal(first("80c80005 00000002 e7a1b2c3 12345678 0001e240 00000064", b, &h), 1);
  assert_int_equal(sfu_rtcp_sr_parse(&h, &sr), SFU_EPROTO);
  /* RR with an empty body */
  assert_int_equal(first("80c90000", b, &h), 1);
  assert_int_equal(sfu_rtcp_rr_parse(&h, &rr), SFU_EPROTO);
  /* SDES: no null octet; item longer than the packet; fewer chunks than SC */
  assert_int_equal(first("81ca0002 00000001 01026162", b, &h), 1);
  assert_int_equal(sfu_rtcp_sdes_parse(&h, &sdes), SFU_EPROTO);
  assert_int_equal(first("81ca0002 00000001 01096162", b, &h), 1);
  assert_int_equal(sfu_rtcp_sdes_parse(&h, &sdes), SFU_EPROTO);
  assert_int_equal(first("82ca0002 00000001 00000000", b, &h), 1);
  assert_int_equal(sfu_rtcp_sdes_parse(&h, &sdes), SFU_EPROTO);
  /* SDES with a NOTE item before the CNAME, and a chunk with no items */
  assert_int_equal(first("82ca0005 00000001 07016101 02616200 00000002 00000000", b, &h), 1);
  assert_int_equal(sfu_rtcp_sdes_parse(&h, &sdes), 0);
  assert_int_equal(sdes.count, 2);
  assert_int_equal(sdes.chunks[0].cname_len, 2);
  assert_memory_equal(sdes.chunks[0].cname, "ab", 2);
  assert_int_equal(sdes.chunks[1].ssrc, 2);
  assert_null(sdes.chunks[1].cname);
  /* BYE: missing SSRC; reason past the end; no SSRC and no reason */
  assert_int_equal(first("82cb0001 00000001", b, &h), 1);
  assert_int_equal(sfu_rtcp_bye_parse(&h, &bye), SFU_EPROTO);
  assert_int_equal(first("81cb0002 00000001 09616263", b, &h), 1);
  assert_int_equal(sfu_rtcp_bye_parse(&h, &bye), SFU_EPROTO);
  assert_int_equal(first("80cb0000", b, &h), 1);
  assert_int_equal(sfu_rtcp_bye_parse(&h, &bye), 0);
  assert_int_equal(bye.count, 0);
  assert_null(bye.reason);
  /* feedback shorter than its two SSRCs */
  assert_int_equal(first("81cd0001 00000001", b, &h), 1);
  assert_int_equal(sfu_rtcp_fb_parse(&h, &fb), SFU_EPROTO);
  assert_int_equal(sfu_rtcp_nack_parse(&h, &nack), SFU_EPROTO);
  /* NACK with no item */
  assert_int_equal(first("81cd0002 00000001 00000002", b, &h), 1);
  assert_int_equal(sfu_rtcp_nack_parse(&h, &nack), SFU_EPROTO);
  /* NACK whose FCI is not a multiple of 4 (cut by padding) */
  assert_int_equal(first("a1cd0003 00000001 00000002 00640002", b, &h), 1);
  assert_int_equal(sfu_rtcp_nack_parse(&h, &nack), SFU_EPROTO);
  /* FIR with a half entry */
  assert_int_equal(first("84ce0003 00000001 00000000 12345678", b, &h), 1);
  assert_int_equal(sfu_rtcp_fir_parse(&h, &fir), SFU_EPROTO);
  /* transport-cc shorter than its fixed part */
  assert_int_equal(first("8fcd0003 00000001 00000002 00010003", b, &h), 1);
  assert_int_equal(sfu_rtcp_tcc_parse(&h, &tcc), SFU_EPROTO);
  /* negative reference time */
  assert_int_equal(first("8fcd0004 00000001 00000002 00010000 ffffff00", b, &h), 1);
  assert_int_equal(sfu_rtcp_tcc_parse(&h, &tcc), 0);
  assert_int_equal(tcc.reference_time, -1);
  /* AFB that is not REMB; REMB announcing two SSRCs with one; REMB cut; overflow */
  assert_int_equal(first("8fce0004 00000001 00000000 41424344 00000000", b, &h), 1);
  assert_int_equal(sfu_rtcp_remb_parse(&h, &remb), SFU_ENOTSUP);
  assert_int_equal(first("8fce0005 00000001 00000000 52454d42 020edc6c 12345678", b, &h), 1);
  assert_int_equal(sfu_rtcp_remb_parse(&h, &remb), SFU_EPROTO);
  assert_int_equal(first("8fce0003 00000001 00000000 52454d42", b, &h), 1);
  assert_int_equal(sfu_rtcp_remb_parse(&h, &remb), SFU_EPROTO);
  assert_int_equal(first("8fce0004 00000001 00000000 52454d42 00ffffff", b, &h), 1);
  assert_int_equal(sfu_rtcp_remb_parse(&h, &remb), SFU_EPROTO); /* 2^18-1 << 63 */
  assert_int_equal(first("8fce0004 00000001 00000000 52454d42 00b80001", b, &h), 1);
  assert_int_equal(sfu_rtcp_remb_parse(&h, &remb), 0); /* 1 << 46: fits */
  assert_int_equal(remb.bitrate, 1ull << 46);
  assert_int_equal(remb.ssrc_count, 0);
  /* XR: empty body; a block overrunning the packet; RRTR of the wrong size; DLRR not /12 */
  assert_int_equal(first("80cf0000", b, &h), 1);
  assert_int_equal(sfu_rtcp_xr_parse(&h, &xr), SFU_EPROTO);
  assert_int_equal(first("80cf0003 00000001 04000002 e7a1b2c3", b, &h), 1);
  assert_int_equal(sfu_rtcp_xr_parse(&h, &xr), 0);
  assert_int_equal(sfu_rtcp_xr_next(&xr, &blk), SFU_EPROTO);
  assert_int_equal(first("80cf0003 00000001 04000001 e7a1b2c3", b, &h), 1);
  assert_int_equal(sfu_rtcp_xr_parse(&h, &xr), 0);
  assert_int_equal(sfu_rtcp_xr_next(&xr, &blk), 1);
  assert_int_equal(sfu_rtcp_xr_rrtr_parse(&blk, &(uint32_t){0}, &(uint32_t){0}), SFU_EPROTO);
  assert_int_equal(first("80cf0003 00000001 05000001 e7a1b2c3", b, &h), 1);
  assert_int_equal(sfu_rtcp_xr_parse(&h, &xr), 0);
  assert_int_equal(sfu_rtcp_xr_next(&xr, &blk), 1);
  assert_int_equal(sfu_rtcp_xr_dlrr_count(&blk), SFU_EPROTO);
  assert_int_equal(first("a0cf0002 00000001 05000002", b, &h), 1); /* 2-byte block tail */
  assert_int_equal(sfu_rtcp_xr_parse(&h, &xr), 0);
  assert_int_equal(sfu_rtcp_xr_next(&xr, &blk), SFU_EPROTO);
  /* a reader given another type */
  assert_int_equal(first(PLI, b, &h), 1);
  assert_int_equal(sfu_rtcp_rr_parse(&h, &rr), SFU_EINVAL);
  assert_int_equal(sfu_rtcp_sdes_parse(&h, &sdes), SFU_EINVAL);
  assert_int_equal(sfu_rtcp_bye_parse(&h, &bye), SFU_EINVAL);
  assert_int_equal(sfu_rtcp_xr_parse(&h, &xr), SFU_EINVAL);
  assert_int_equal(sfu_rtcp_tcc_parse(&h, &tcc), SFU_EINVAL);
  assert_int_equal(sfu_rtcp_remb_parse(&h, &remb), SFU_EINVAL);
  assert_int_equal(first(RR_1, b, &h), 1);
  assert_int_equal(sfu_rtcp_fb_parse(&h, &fb), SFU_EINVAL);
}

/* ---- builders: build, parse, compare ---- */

/* Builds with cap = exact length (ok) and exact - 1 (SFU_ETOOBIG), then
 * checks the packet is one valid RTCP packet; returns its header. */
typedef int (*build_fn)(uint8_t *out, size_t cap, const void *arg);

static sfu_rtcp_hdr_t build_check(uint8_t *out, size_t outcap, build_fn fn, const void *arg) {
  sfu_rtcp_iter_t it;
  sfu_rtcp_hdr_t h;
  int n = fn(out, outcap, arg), m;

  assert_true(n >= 4);
  assert_int_equal(n % 4, 0);
  memset(out, 0xee, (size_t)n);
  assert_int_equal(fn(out, (size_t)n - 1, arg), SFU_ETOOBIG);
  m = fn(out, (size_t)n, arg);
  assert_int_equal(m, n);
  assert_true(sfu_rtcp_is_rtcp(out, (size_t)n));
  assert_int_equal(sfu_rtcp_validate(out, (size_t)n), 1);
  sfu_rtcp_iter_init(&it, out, (size_t)n);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
  assert_int_equal(h.packet_len, (size_t)n);
  return h;
}

static int b_sr(uint8_t *o, size_t c, const void *a) { return sfu_rtcp_sr_build(o, c, a); }
static int b_rr(uint8_t *o, size_t c, const void *a) { return sfu_rtcp_rr_build(o, c, a); }
static int b_sdes(uint8_t *o, size_t c, const void *a) { return sfu_rtcp_sdes_build(o, c, a); }
static int b_bye(uint8_t *o, size_t c, const void *a) { return sfu_rtcp_bye_build(o, c, a); }

static void random_rb(uint64_t *seed, sfu_rtcp_rb_t *rb) {
  rb->ssrc = (uint32_t)rng(seed);
  rb->fraction_lost = (uint8_t)rng(seed);
  rb->cumulative_lost = (int32_t)(rng(seed) % 0x1000000) - 0x800000;
  rb->highest_seq = (uint32_t)rng(seed);
  rb->jitter = (uint32_t)rng(seed);
  rb->lsr = (uint32_t)rng(seed);
  rb->dlsr = (uint32_t)rng(seed);
}

static void test_build_reports(void **state) {
  uint8_t out[1024];
  uint64_t seed = 42;
  sfu_rtcp_sr_t sr, sr2;
  sfu_rtcp_rr_t rr, rr2;
  sfu_rtcp_hdr_t h;
  size_t i, k;

  (void)state;
  for (k = 0; k <= SFU_RTCP_MAX_COUNT; k++) {
    memset(&sr, 0, sizeof(sr));
    sr.ssrc = (uint32_t)rng(&seed);
    sr.ntp_sec = (uint32_t)rng(&seed);
    sr.ntp_frac = (uint32_t)rng(&seed);
    sr.rtp_ts = (uint32_t)rng(&seed);
    sr.packet_count = (uint32_t)rng(&seed);
    sr.octet_count = (uint32_t)rng(&seed);
    sr.report_count = (uint8_t)k;
    for (i = 0; i < k; i++) random_rb(&seed, &sr.reports[i]);
    h = build_check(out, sizeof(out), b_sr, &sr);
    assert_int_equal(h.packet_len, 28 + 24 * k);
    memset(&sr2, 0, sizeof(sr2));
    assert_int_equal(sfu_rtcp_sr_parse(&h, &sr2), 0);
    assert_memory_equal(&sr, &sr2, sizeof(sr));

    memset(&rr, 0, sizeof(rr));
    rr.ssrc = (uint32_t)rng(&seed);
    rr.report_count = (uint8_t)k;
    for (i = 0; i < k; i++) random_rb(&seed, &rr.reports[i]);
    h = build_check(out, sizeof(out), b_rr, &rr);
    memset(&rr2, 0, sizeof(rr2));
    assert_int_equal(sfu_rtcp_rr_parse(&h, &rr2), 0);
    assert_memory_equal(&rr, &rr2, sizeof(rr));
  }
  /* cumulative lost is clamped to 24 bits */
  memset(&rr, 0, sizeof(rr));
  rr.report_count = 2;
  rr.reports[0].cumulative_lost = 100000000;
  rr.reports[1].cumulative_lost = -100000000;
  h = build_check(out, sizeof(out), b_rr, &rr);
  assert_int_equal(sfu_rtcp_rr_parse(&h, &rr2), 0);
  assert_int_equal(rr2.reports[0].cumulative_lost, 0x7fffff);
  assert_int_equal(rr2.reports[1].cumulative_lost, -0x800000);
  rr.report_count = 32;
  assert_int_equal(sfu_rtcp_rr_build(out, sizeof(out), &rr), SFU_EINVAL);
  sr.report_count = 32;
  assert_int_equal(sfu_rtcp_sr_build(out, sizeof(out), &sr), SFU_EINVAL);
}

static void test_build_sdes_bye(void **state) {
  uint8_t out[9000], names[SFU_RTCP_MAX_COUNT][255];
  uint64_t seed = 7;
  sfu_rtcp_sdes_t s, s2;
  sfu_rtcp_bye_t bye, bye2;
  sfu_rtcp_hdr_t h;
  size_t i, j, k;

  (void)state;
  for (k = 0; k < 200; k++) {
    memset(&s, 0, sizeof(s));
    s.count = (uint8_t)(rng(&seed) % 32);
    for (i = 0; i < s.count; i++) {
      s.chunks[i].ssrc = (uint32_t)rng(&seed);
      if (rng(&seed) % 5 == 0) continue; /* no CNAME */
      s.chunks[i].cname_len = (uint8_t)(k < 100 ? rng(&seed) % 20 : rng(&seed) % 256);
      for (j = 0; j < s.chunks[i].cname_len; j++) names[i][j] = (uint8_t)('a' + rng(&seed) % 26);
      s.chunks[i].cname = names[i];
    }
    h = build_check(out, sizeof(out), b_sdes, &s);
    assert_int_equal(sfu_rtcp_sdes_parse(&h, &s2), 0);
    assert_int_equal(s2.count, s.count);
    for (i = 0; i < s.count; i++) {
      assert_int_equal(s2.chunks[i].ssrc, s.chunks[i].ssrc);
      if (s.chunks[i].cname == NULL) {
        assert_null(s2.chunks[i].cname);
      } else {
        assert_int_equal(s2.chunks[i].cname_len, s.chunks[i].cname_len);
        assert_memory_equal(s2.chunks[i].cname, s.chunks[i].cname, s.chunks[i].cname_len);
      }
    }

    memset(&bye, 0, sizeof(bye));
    bye.count = (uint8_t)(rng(&seed) % 32);
    for (i = 0; i < bye.count; i++) bye.ssrcs[i] = (uint32_t)rng(&seed);
    if (k % 2) {
      bye.reason = names[0];
      bye.reason_len = (uint8_t)(k % 256);
      for (j = 0; j < bye.reason_len; j++) names[0][j] = (uint8_t)rng(&seed);
    }
    h = build_check(out, sizeof(out), b_bye, &bye);
    assert_int_equal(sfu_rtcp_bye_parse(&h, &bye2), 0);
    assert_int_equal(bye2.count, bye.count);
    assert_memory_equal(bye2.ssrcs, bye.ssrcs, 4 * bye.count);
    if (bye.reason == NULL) {
      assert_null(bye2.reason);
    } else {
      assert_int_equal(bye2.reason_len, bye.reason_len);
      if (bye.reason_len) assert_memory_equal(bye2.reason, bye.reason, bye.reason_len);
    }
  }
  /* SDES CNAME as Chrome sends it: the fixture's exact bytes */
  memset(&s, 0, sizeof(s));
  s.count = 1;
  s.chunks[0].ssrc = 1;
  s.chunks[0].cname = (const uint8_t *)"abcdefghijklmnop";
  s.chunks[0].cname_len = 16;
  {
    uint8_t ref[64];
    size_t n = hex(SDES_1, ref);
    assert_int_equal(sfu_rtcp_sdes_build(out, sizeof(out), &s), (int)n);
    assert_memory_equal(out, ref, n);
  }
}

typedef struct fb_args {
  uint32_t sender, media;
  const uint16_t *seqs;
  size_t n;
  const sfu_rtcp_fir_entry_t *fir;
  uint64_t bitrate;
  const uint32_t *ssrcs;
} fb_args_t;

static int b_pli(uint8_t *o, size_t c, const void *a) {
  const fb_args_t *x = a;
  return sfu_rtcp_pli_build(o, c, x->sender, x->media);
}
static int b_fir(uint8_t *o, size_t c, const void *a) {
  const fb_args_t *x = a;
  return sfu_rtcp_fir_build(o, c, x->sender, x->media, x->fir, x->n);
}
static int b_remb(uint8_t *o, size_t c, const void *a) {
  const fb_args_t *x = a;
  return sfu_rtcp_remb_build(o, c, x->sender, x->bitrate, x->ssrcs, x->n);
}

static void test_build_feedback(void **state) {
  uint8_t out[2048], ref[64];
  fb_args_t a;
  sfu_rtcp_hdr_t h;
  sfu_rtcp_fb_t fb;
  sfu_rtcp_fir_t fir;
  sfu_rtcp_fir_entry_t entries[10], e;
  sfu_rtcp_remb_t remb;
  uint32_t ssrcs[255];
  uint64_t seed = 99, br;
  size_t i, k, n;

  (void)state;
  memset(&a, 0, sizeof(a));
  a.sender = 1;
  a.media = 0x12345678;
  h = build_check(out, sizeof(out), b_pli, &a);
  n = hex(PLI, ref);
  assert_memory_equal(out, ref, n);
  assert_int_equal(sfu_rtcp_pli_parse(&h, &fb), 0);
  assert_int_equal(fb.media_ssrc, 0x12345678);

  for (i = 0; i < 10; i++) {
    entries[i].ssrc = (uint32_t)rng(&seed);
    entries[i].seq = (uint8_t)rng(&seed);
  }
  a.fir = entries;
  a.media = 0;
  for (k = 1; k <= 10; k++) {
    a.n = k;
    h = build_check(out, sizeof(out), b_fir, &a);
    assert_int_equal(sfu_rtcp_fir_parse(&h, &fir), 0);
    assert_int_equal(fir.count, k);
    for (i = 0; i < k; i++) {
      sfu_rtcp_fir_entry(&fir, i, &e);
      assert_int_equal(e.ssrc, entries[i].ssrc);
      assert_int_equal(e.seq, entries[i].seq);
    }
  }
  a.n = 1;
  entries[0].ssrc = 0x12345678;
  entries[0].seq = 7;
  build_check(out, sizeof(out), b_fir, &a);
  n = hex(FIR, ref);
  assert_memory_equal(out, ref, n);
  assert_int_equal(sfu_rtcp_fir_build(out, sizeof(out), 1, 0, entries, 0), SFU_EINVAL);

  /* REMB: the fixture's bytes, representable values exactly, others rounded down */
  a.bitrate = 1500000;
  ssrcs[0] = 0x12345678;
  a.ssrcs = ssrcs;
  a.n = 1;
  build_check(out, sizeof(out), b_remb, &a);
  n = hex(RR_REMB, ref);
  assert_memory_equal(out, ref + 8, n - 8);
  for (k = 0; k < 2000; k++) {
    if (k < 64) {
      br = k < 63 ? (0x3ffffull << k) : UINT64_MAX;
    } else {
      br = rng(&seed) >> (rng(&seed) % 64);
    }
    a.bitrate = br;
    a.n = (size_t)(rng(&seed) % 256);
    for (i = 0; i < a.n; i++) ssrcs[i] = (uint32_t)rng(&seed);
    h = build_check(out, sizeof(out), b_remb, &a);
    assert_int_equal(sfu_rtcp_remb_parse(&h, &remb), 0);
    assert_int_equal(remb.ssrc_count, a.n);
    for (i = 0; i < a.n; i++) assert_int_equal(sfu_rtcp_remb_ssrc(&remb, i), ssrcs[i]);
    assert_true(remb.bitrate <= br);
    if (k < 63) assert_true(remb.bitrate == br);
    /* 18 significant bits: the error is below 2^-17 of the value */
    assert_true(br - remb.bitrate <= br >> 17);
  }
  assert_int_equal(sfu_rtcp_remb_build(out, sizeof(out), 1, 1, ssrcs, 256), SFU_EINVAL);
}

/* ---- NACK packing ---- */

static void test_nack_pack_basic(void **state) {
  uint8_t out[256];
  uint16_t seqs[40], pid, blp;
  sfu_rtcp_iter_t it;
  sfu_rtcp_hdr_t h;
  sfu_rtcp_nack_t nack;
  size_t consumed, i;
  int n;

  (void)state;
  /* 17 consecutive: one item; 18: two */
  for (i = 0; i < 18; i++) seqs[i] = (uint16_t)(65530 + i);
  n = sfu_rtcp_nack_build(out, sizeof(out), 1, 2, seqs, 17, &consumed);
  assert_int_equal(n, 16);
  assert_int_equal(consumed, 17);
  n = sfu_rtcp_nack_build(out, sizeof(out), 1, 2, seqs, 18, &consumed);
  assert_int_equal(n, 20);
  sfu_rtcp_iter_init(&it, out, (size_t)n);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
  assert_int_equal(sfu_rtcp_nack_parse(&h, &nack), 0);
  assert_int_equal(nack.item_count, 2);
  sfu_rtcp_nack_item(&nack, 0, &pid, &blp);
  assert_int_equal(pid, 65530);
  assert_int_equal(blp, 0xffff);
  sfu_rtcp_nack_item(&nack, 1, &pid, &blp);
  assert_int_equal(pid, 11);
  assert_int_equal(blp, 0);
  /* the fixture's items */
  seqs[0] = 100, seqs[1] = 101, seqs[2] = 103, seqs[3] = 200, seqs[4] = 216;
  n = sfu_rtcp_nack_build(out, sizeof(out), 1, 0x12345678, seqs, 5, NULL);
  {
    uint8_t ref[64];
    size_t m = hex(RR_NACK, ref);
    assert_int_equal(n, (int)(m - 8));
    assert_memory_equal(out, ref + 8, m - 8);
  }
  /* limits */
  assert_int_equal(sfu_rtcp_nack_build(out, sizeof(out), 1, 2, seqs, 0, &consumed), SFU_EINVAL);
  assert_int_equal(sfu_rtcp_nack_build(out, 15, 1, 2, seqs, 1, &consumed), SFU_ETOOBIG);
  assert_int_equal(consumed, 0);
  /* split: room for one item only */
  n = sfu_rtcp_nack_build(out, 19, 1, 2, seqs, 5, &consumed);
  assert_int_equal(n, 16);
  assert_int_equal(consumed, 3);
  /* repeats are absorbed */
  seqs[0] = 5, seqs[1] = 5, seqs[2] = 6, seqs[3] = 5;
  n = sfu_rtcp_nack_build(out, sizeof(out), 1, 2, seqs, 4, &consumed);
  assert_int_equal(n, 16);
  assert_int_equal(consumed, 4);
}

/* Random lost sets, in order or shuffled, split over packets of random room:
 * the union of what the packets expand to is exactly the set. */
static void test_nack_pack_random(void **state) {
  uint64_t seed = 2024;
  uint16_t seqs[600], got[17];
  uint8_t out[512], want[65536 / 8], have[65536 / 8], asked[65536 / 8];
  sfu_rtcp_iter_t it;
  sfu_rtcp_hdr_t h;
  sfu_rtcp_nack_t nack;
  size_t iter, n, i, j, pos, consumed, k, cap, m;
  uint16_t base, pid, blp, t;
  int len;

  (void)state;
  for (iter = 0; iter < 1000; iter++) {
    memset(want, 0, sizeof(want));
    base = (uint16_t)rng(&seed);
    n = 1 + rng(&seed) % 600;
    for (i = 0; i < n; i++) {
      /* spread: dense, sparse or wide, around a base (wrapping) */
      uint16_t span = (uint16_t)(iter % 3 == 0 ? 40 : iter % 3 == 1 ? 1000 : 30000);
      seqs[i] = (uint16_t)(base + rng(&seed) % span);
    }
    if (iter % 2 == 0) { /* ascending from base */
      for (i = 1; i < n; i++)
        for (j = i; j > 0 && (uint16_t)(seqs[j] - base) < (uint16_t)(seqs[j - 1] - base); j--) {
          t = seqs[j];
          seqs[j] = seqs[j - 1];
          seqs[j - 1] = t;
        }
    }
    for (i = 0; i < n; i++) want[seqs[i] >> 3] |= (uint8_t)(1u << (seqs[i] & 7));
    memset(have, 0, sizeof(have));
    pos = 0;
    memset(asked, 0, sizeof(asked));
    while (pos < n) {
      cap = 16 + 4 * (rng(&seed) % 100);
      len = sfu_rtcp_nack_build(out, cap, 0xaa, 0xbb, seqs + pos, n - pos, &consumed);
      assert_true(len >= 16 && (size_t)len <= cap);
      assert_true(consumed >= 1);
      sfu_rtcp_iter_init(&it, out, (size_t)len);
      assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
      assert_int_equal(sfu_rtcp_iter_next(&it, &h), 0);
      sfu_rtcp_iter_init(&it, out, (size_t)len);
      sfu_rtcp_iter_next(&it, &h);
      assert_int_equal(sfu_rtcp_nack_parse(&h, &nack), 0);
      assert_int_equal(nack.fb.sender_ssrc, 0xaa);
      assert_int_equal(nack.fb.media_ssrc, 0xbb);
      for (i = pos; i < pos + consumed; i++) asked[seqs[i] >> 3] |= (uint8_t)(1u << (seqs[i] & 7));
      for (k = 0; k < nack.item_count; k++) {
        sfu_rtcp_nack_item(&nack, k, &pid, &blp);
        m = sfu_rtcp_nack_expand(pid, blp, got);
        for (j = 0; j < m; j++) {
          /* every expanded number was asked for, among the consumed ones */
          assert_true(asked[got[j] >> 3] & (1u << (got[j] & 7)));
          have[got[j] >> 3] |= (uint8_t)(1u << (got[j] & 7));
        }
      }
      for (i = pos; i < pos + consumed; i++) asked[seqs[i] >> 3] = 0;
      pos += consumed;
    }
    assert_memory_equal(have, want, sizeof(want));
  }
}

/* ---- XR builders and the compound writer ---- */

static void test_xr_build_and_writer(void **state) {
  uint8_t buf[256];
  sfu_rtcp_writer_t w;
  sfu_rtcp_rr_t rr;
  sfu_rtcp_sdes_t sdes;
  sfu_rtcp_dlrr_item_t items[3] = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}, it2;
  sfu_rtcp_iter_t it;
  sfu_rtcp_hdr_t h;
  sfu_rtcp_xr_t xr;
  sfu_rtcp_xr_block_t blk;
  sfu_rtcp_remb_t remb;
  uint32_t sec, frac, ssrc = 0x12345678;
  uint8_t pli[12];
  size_t len0, i;
  int rc;

  (void)state;
  memset(&rr, 0, sizeof(rr));
  rr.ssrc = 1;
  memset(&sdes, 0, sizeof(sdes));
  sdes.count = 1;
  sdes.chunks[0].ssrc = 1;
  sdes.chunks[0].cname = (const uint8_t *)"abcdefghijklmnop";
  sdes.chunks[0].cname_len = 16;

  sfu_rtcp_writer_init(&w, buf, sizeof(buf));
  assert_int_equal(sfu_rtcp_writer_commit(&w, sfu_rtcp_rr_build(sfu_rtcp_writer_tail(&w),
                                                                  sfu_rtcp_writer_room(&w), &rr)),
                   8);
  assert_true(sfu_rtcp_writer_commit(&w, sfu_rtcp_sdes_build(sfu_rtcp_writer_tail(&w),
                                                              sfu_rtcp_writer_room(&w), &sdes)) > 0);
  assert_true(sfu_rtcp_writer_commit(&w, sfu_rtcp_remb_build(sfu_rtcp_writer_tail(&w),
                                                              sfu_rtcp_writer_room(&w), 1, 300000, &ssrc,
                                                              1)) > 0);
  assert_true(sfu_rtcp_writer_commit(&w, sfu_rtcp_xr_rrtr_build(sfu_rtcp_writer_tail(&w),
                                                                 sfu_rtcp_writer_room(&w), 1, 10, 20)) > 0);
  assert_true(sfu_rtcp_writer_commit(&w, sfu_rtcp_xr_dlrr_build(sfu_rtcp_writer_tail(&w),
                                                                 sfu_rtcp_writer_room(&w), 1, items, 3)) > 0);
  assert_int_equal(sfu_rtcp_pli_build(pli, sizeof(pli), 1, 2), 12);
  assert_int_equal(sfu_rtcp_writer_append(&w, pli, sizeof(pli)), 12);
  assert_int_equal(w.count, 6);
  len0 = w.len;
  /* does not fit: nothing added */
  w.cap = w.len + 11;
  assert_int_equal(sfu_rtcp_writer_append(&w, pli, sizeof(pli)), SFU_ETOOBIG);
  rc = sfu_rtcp_writer_commit(&w, sfu_rtcp_pli_build(sfu_rtcp_writer_tail(&w), sfu_rtcp_writer_room(&w), 1, 2));
  assert_int_equal(rc, SFU_ETOOBIG);
  assert_int_equal(w.len, len0);
  assert_int_equal(w.count, 6);

  /* read it all back */
  assert_int_equal(sfu_rtcp_validate(buf, w.len), 6);
  sfu_rtcp_iter_init(&it, buf, w.len);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
  assert_int_equal(sfu_rtcp_rr_parse(&h, &rr), 0);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
  check_sdes_1(&h);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
  assert_int_equal(sfu_rtcp_remb_parse(&h, &remb), 0);
  assert_int_equal(remb.bitrate, 300000);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
  assert_int_equal(sfu_rtcp_xr_parse(&h, &xr), 0);
  assert_int_equal(sfu_rtcp_xr_next(&xr, &blk), 1);
  assert_int_equal(sfu_rtcp_xr_rrtr_parse(&blk, &sec, &frac), 0);
  assert_int_equal(sec, 10);
  assert_int_equal(frac, 20);
  assert_int_equal(sfu_rtcp_xr_next(&xr, &blk), 0);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
  assert_int_equal(sfu_rtcp_xr_parse(&h, &xr), 0);
  assert_int_equal(sfu_rtcp_xr_next(&xr, &blk), 1);
  assert_int_equal(sfu_rtcp_xr_rrtr_parse(&blk, &sec, &frac), SFU_EINVAL);
  assert_int_equal(sfu_rtcp_xr_dlrr_count(&blk), 3);
  for (i = 0; i < 3; i++) {
    sfu_rtcp_xr_dlrr_item(&blk, i, &it2);
    assert_int_equal(it2.ssrc, items[i].ssrc);
    assert_int_equal(it2.lrr, items[i].lrr);
    assert_int_equal(it2.dlrr, items[i].dlrr);
  }
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
  assert_int_equal(sfu_rtcp_pli_parse(&h, &(sfu_rtcp_fb_t){0}), 0);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 0);

  /* XR fixture bytes; builder limits */
  {
    uint8_t ref[64];
    size_t n = hex(XR_RRTR, ref);
    assert_int_equal(sfu_rtcp_xr_rrtr_build(buf, sizeof(buf), 1, 0xe7a1b2c3, 0x12345678), (int)n);
    assert_memory_equal(buf, ref, n);
  }
  assert_int_equal(sfu_rtcp_xr_rrtr_build(buf, 19, 1, 2, 3), SFU_ETOOBIG);
  assert_int_equal(sfu_rtcp_xr_dlrr_build(buf, sizeof(buf), 1, items, 0), SFU_EINVAL);
  assert_int_equal(sfu_rtcp_xr_dlrr_build(buf, 47, 1, items, 3), SFU_ETOOBIG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rr_sdes),
      cmocka_unit_test(test_sr_sdes),
      cmocka_unit_test(test_rr_remb),
      cmocka_unit_test(test_nack),
      cmocka_unit_test(test_pli_fir_tcc),
      cmocka_unit_test(test_xr_bye),
      cmocka_unit_test(test_iter_malformed),
      cmocka_unit_test(test_readers_malformed),
      cmocka_unit_test(test_build_reports),
      cmocka_unit_test(test_build_sdes_bye),
      cmocka_unit_test(test_build_feedback),
      cmocka_unit_test(test_nack_pack_basic),
      cmocka_unit_test(test_nack_pack_random),
      cmocka_unit_test(test_xr_build_and_writer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
