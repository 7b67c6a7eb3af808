/*
 * libFuzzer target for worker/src/rtp/sfu_rtcp and sfu_rtcp_feedback.
 *
 * The input is one RTCP compound packet (in a heap buffer of exactly its
 * size). The iterator walks it; every packet goes through every reader
 * (each must answer 0, SFU_EINVAL, SFU_ENOTSUP or SFU_EPROTO and keep its
 * pointers inside the packet). What parses is built again and parsed back:
 * SR, RR, SDES, BYE, FIR, REMB and XR RRTR/DLRR must round-trip exactly, a
 * NACK's expanded sequence numbers must pack into items naming the same set.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"
#include "sfu_rtcp.h"
#include "sfu_rtcp_feedback.h"

#define CHECK(x)          \
  do {                    \
    if (!(x)) __builtin_trap(); \
  } while (0)

#define INSIDE(h, ptr, n) ((ptr) >= (h)->body && (ptr) + (n) <= (h)->body + (h)->body_len)

static uint8_t out[1u << 18]; /* scratch for rebuilt packets (largest RTCP packet) */

static bool one_packet(const uint8_t *p, int n, sfu_rtcp_hdr_t *h) {
  sfu_rtcp_iter_t it;

  CHECK(n >= 4 && n % 4 == 0);
  CHECK(sfu_rtcp_validate(p, (size_t)n) == 1);
  sfu_rtcp_iter_init(&it, p, (size_t)n);
  return sfu_rtcp_iter_next(&it, h) == 1;
}

static void do_reports(const sfu_rtcp_hdr_t *h) {
  sfu_rtcp_sr_t sr, sr2;
  sfu_rtcp_rr_t rr, rr2;
  sfu_rtcp_hdr_t h2;
  int rc;

  rc = sfu_rtcp_sr_parse(h, &sr);
  CHECK(rc == 0 || rc == SFU_EINVAL || rc == SFU_EPROTO);
  if (rc == 0) {
    CHECK(h->pt == SFU_RTCP_PT_SR && sr.report_count == h->count);
    rc = sfu_rtcp_sr_build(out, sizeof(out), &sr);
    CHECK(rc > 0 && one_packet(out, rc, &h2));
    CHECK(sfu_rtcp_sr_parse(&h2, &sr2) == 0);
    CHECK(sr2.ssrc == sr.ssrc && sr2.ntp_sec == sr.ntp_sec && sr2.ntp_frac == sr.ntp_frac &&
          sr2.rtp_ts == sr.rtp_ts && sr2.packet_count == sr.packet_count && sr2.octet_count == sr.octet_count &&
          sr2.report_count == sr.report_count);
    for (size_t i = 0; i < sr.report_count; i++) {
      const sfu_rtcp_rb_t *a = &sr.reports[i], *b = &sr2.reports[i];
      CHECK(a->cumulative_lost >= -0x800000 && a->cumulative_lost <= 0x7fffff);
      CHECK(a->ssrc == b->ssrc && a->fraction_lost == b->fraction_lost && a->cumulative_lost == b->cumulative_lost &&
            a->highest_seq == b->highest_seq && a->jitter == b->jitter && a->lsr == b->lsr && a->dlsr == b->dlsr);
    }
  }
  rc = sfu_rtcp_rr_parse(h, &rr);
  CHECK(rc == 0 || rc == SFU_EINVAL || rc == SFU_EPROTO);
  if (rc == 0) {
    rc = sfu_rtcp_rr_build(out, sizeof(out), &rr);
    CHECK(rc > 0 && one_packet(out, rc, &h2));
    CHECK(sfu_rtcp_rr_parse(&h2, &rr2) == 0);
    CHECK(rr2.ssrc == rr.ssrc && rr2.report_count == rr.report_count);
    for (size_t i = 0; i < rr.report_count; i++)
      CHECK(rr.reports[i].cumulative_lost == rr2.reports[i].cumulative_lost &&
            rr.reports[i].highest_seq == rr2.reports[i].highest_seq && rr.reports[i].dlsr == rr2.reports[i].dlsr);
  }
}

static void do_sdes_bye(const sfu_rtcp_hdr_t *h) {
  sfu_rtcp_sdes_t s, s2;
  sfu_rtcp_bye_t b, b2;
  sfu_rtcp_hdr_t h2;
  size_t i;
  int rc;

  rc = sfu_rtcp_sdes_parse(h, &s);
  CHECK(rc == 0 || rc == SFU_EINVAL || rc == SFU_EPROTO);
  if (rc == 0) {
    for (i = 0; i < s.count; i++)
      if (s.chunks[i].cname != NULL) CHECK(INSIDE(h, s.chunks[i].cname, s.chunks[i].cname_len));
    rc = sfu_rtcp_sdes_build(out, sizeof(out), &s);
    CHECK(rc > 0 && one_packet(out, rc, &h2));
    CHECK(sfu_rtcp_sdes_parse(&h2, &s2) == 0 && s2.count == s.count);
    for (i = 0; i < s.count; i++) {
      CHECK(s2.chunks[i].ssrc == s.chunks[i].ssrc);
      CHECK((s2.chunks[i].cname == NULL) == (s.chunks[i].cname == NULL));
      CHECK(s2.chunks[i].cname_len == s.chunks[i].cname_len);
      if (s.chunks[i].cname_len)
        CHECK(memcmp(s2.chunks[i].cname, s.chunks[i].cname, s.chunks[i].cname_len) == 0);
    }
  }
  rc = sfu_rtcp_bye_parse(h, &b);
  CHECK(rc == 0 || rc == SFU_EINVAL || rc == SFU_EPROTO);
  if (rc == 0) {
    if (b.reason != NULL) CHECK(INSIDE(h, b.reason, b.reason_len));
    rc = sfu_rtcp_bye_build(out, sizeof(out), &b);
    CHECK(rc > 0 && one_packet(out, rc, &h2));
    CHECK(sfu_rtcp_bye_parse(&h2, &b2) == 0 && b2.count == b.count);
    CHECK(memcmp(b2.ssrcs, b.ssrcs, 4u * b.count) == 0);
    CHECK((b2.reason == NULL) == (b.reason == NULL) && b2.reason_len == b.reason_len);
    if (b.reason_len) CHECK(memcmp(b2.reason, b.reason, b.reason_len) == 0);
  }
}

static void do_xr(const sfu_rtcp_hdr_t *h) {
  sfu_rtcp_xr_t xr, xr2;
  sfu_rtcp_xr_block_t blk, blk2;
  sfu_rtcp_dlrr_item_t items[64], it2;
  sfu_rtcp_hdr_t h2;
  uint32_t sec, frac, sec2, frac2;
  int rc, n, i;

  rc = sfu_rtcp_xr_parse(h, &xr);
  CHECK(rc == 0 || rc == SFU_EINVAL || rc == SFU_EPROTO);
  if (rc != 0) return;
  while ((rc = sfu_rtcp_xr_next(&xr, &blk)) == 1) {
    CHECK(INSIDE(h, blk.body, blk.body_len));
    if (sfu_rtcp_xr_rrtr_parse(&blk, &sec, &frac) == 0) {
      rc = sfu_rtcp_xr_rrtr_build(out, sizeof(out), xr.ssrc, sec, frac);
      CHECK(rc > 0 && one_packet(out, rc, &h2));
      CHECK(sfu_rtcp_xr_parse(&h2, &xr2) == 0 && sfu_rtcp_xr_next(&xr2, &blk2) == 1);
      CHECK(sfu_rtcp_xr_rrtr_parse(&blk2, &sec2, &frac2) == 0 && sec2 == sec && frac2 == frac);
    }
    n = sfu_rtcp_xr_dlrr_count(&blk);
    if (n > 0) {
      if (n > 64) n = 64;
      for (i = 0; i < n; i++) sfu_rtcp_xr_dlrr_item(&blk, (size_t)i, &items[i]);
      rc = sfu_rtcp_xr_dlrr_build(out, sizeof(out), xr.ssrc, items, (size_t)n);
      CHECK(rc > 0 && one_packet(out, rc, &h2));
      CHECK(sfu_rtcp_xr_parse(&h2, &xr2) == 0 && sfu_rtcp_xr_next(&xr2, &blk2) == 1);
      CHECK(sfu_rtcp_xr_dlrr_count(&blk2) == n);
      for (i = 0; i < n; i++) {
        sfu_rtcp_xr_dlrr_item(&blk2, (size_t)i, &it2);
        CHECK(it2.ssrc == items[i].ssrc && it2.lrr == items[i].lrr && it2.dlrr == items[i].dlrr);
      }
    }
  }
  CHECK(rc == 0 || rc == SFU_EPROTO);
}

static void do_feedback(const sfu_rtcp_hdr_t *h) {
  sfu_rtcp_fb_t fb;
  sfu_rtcp_nack_t nack, nack2;
  sfu_rtcp_tcc_t tcc;
  sfu_rtcp_fir_t fir, fir2;
  sfu_rtcp_fir_entry_t e, e2, entries[128];
  sfu_rtcp_remb_t remb, remb2;
  sfu_rtcp_hdr_t h2;
  uint32_t ssrcs[255];
  static uint16_t seqs[65536u * 17u]; /* at most 65533 items of 17 */
  static uint8_t want[65536 / 8], have[65536 / 8];
  uint16_t pid, blp, got[17];
  size_t i, j, k, n, m, consumed;
  int rc;

  rc = sfu_rtcp_fb_parse(h, &fb);
  CHECK(rc == 0 || rc == SFU_EINVAL || rc == SFU_EPROTO);
  if (rc == 0) CHECK(fb.fci_len == 0 || INSIDE(h, fb.fci, fb.fci_len));

  rc = sfu_rtcp_nack_parse(h, &nack);
  CHECK(rc == 0 || rc == SFU_EINVAL || rc == SFU_EPROTO);
  if (rc == 0) {
    memset(want, 0, sizeof(want));
    n = 0;
    for (i = 0; i < nack.item_count; i++) {
      sfu_rtcp_nack_item(&nack, i, &pid, &blp);
      m = sfu_rtcp_nack_expand(pid, blp, seqs + n);
      CHECK(m >= 1 && m <= 17 && seqs[n] == pid);
      for (j = n; j < n + m; j++) want[seqs[j] >> 3] |= (uint8_t)(1u << (seqs[j] & 7));
      n += m;
    }
    memset(have, 0, sizeof(have));
    for (k = 0; k < n; k += consumed) {
      rc = sfu_rtcp_nack_build(out, 16 + 4 * 64, nack.fb.sender_ssrc, nack.fb.media_ssrc, seqs + k, n - k,
                               &consumed);
      CHECK(rc > 0 && consumed >= 1 && one_packet(out, rc, &h2));
      CHECK(sfu_rtcp_nack_parse(&h2, &nack2) == 0 && nack2.fb.media_ssrc == nack.fb.media_ssrc);
      CHECK(nack2.item_count <= consumed);
      for (i = 0; i < nack2.item_count; i++) {
        sfu_rtcp_nack_item(&nack2, i, &pid, &blp);
        m = sfu_rtcp_nack_expand(pid, blp, got);
        for (j = 0; j < m; j++) {
          CHECK(want[got[j] >> 3] & (1u << (got[j] & 7)));
          have[got[j] >> 3] |= (uint8_t)(1u << (got[j] & 7));
        }
      }
    }
    CHECK(memcmp(want, have, sizeof(want)) == 0);
  }

  rc = sfu_rtcp_tcc_parse(h, &tcc);
  CHECK(rc == 0 || rc == SFU_EINVAL || rc == SFU_EPROTO);
  if (rc == 0) CHECK(tcc.reference_time >= -0x800000 && tcc.reference_time <= 0x7fffff);

  rc = sfu_rtcp_pli_parse(h, &fb);
  CHECK(rc == 0 || rc == SFU_EINVAL || rc == SFU_EPROTO);
  if (rc == 0) {
    rc = sfu_rtcp_pli_build(out, sizeof(out), fb.sender_ssrc, fb.media_ssrc);
    CHECK(rc == 12 && one_packet(out, rc, &h2) && sfu_rtcp_pli_parse(&h2, &fb) == 0);
  }

  rc = sfu_rtcp_fir_parse(h, &fir);
  CHECK(rc == 0 || rc == SFU_EINVAL || rc == SFU_EPROTO);
  if (rc == 0) {
    n = fir.count < 128 ? fir.count : 128;
    for (i = 0; i < n; i++) sfu_rtcp_fir_entry(&fir, i, &entries[i]);
    rc = sfu_rtcp_fir_build(out, sizeof(out), fir.fb.sender_ssrc, fir.fb.media_ssrc, entries, n);
    CHECK(rc > 0 && one_packet(out, rc, &h2));
    CHECK(sfu_rtcp_fir_parse(&h2, &fir2) == 0 && fir2.count == n);
    for (i = 0; i < n; i++) {
      sfu_rtcp_fir_entry(&fir, i, &e);
      sfu_rtcp_fir_entry(&fir2, i, &e2);
      CHECK(e.ssrc == e2.ssrc && e.seq == e2.seq);
    }
  }

  rc = sfu_rtcp_remb_parse(h, &remb);
  CHECK(rc == 0 || rc == SFU_EINVAL || rc == SFU_ENOTSUP || rc == SFU_EPROTO);
  if (rc == 0) {
    CHECK(remb.ssrc_count == 0 || INSIDE(h, remb.ssrcs, 4u * remb.ssrc_count));
    for (i = 0; i < remb.ssrc_count; i++) ssrcs[i] = sfu_rtcp_remb_ssrc(&remb, i);
    rc = sfu_rtcp_remb_build(out, sizeof(out), remb.fb.sender_ssrc, remb.bitrate, ssrcs, remb.ssrc_count);
    CHECK(rc > 0 && one_packet(out, rc, &h2));
    CHECK(sfu_rtcp_remb_parse(&h2, &remb2) == 0);
    /* every parsed value has at most 18 significant bits: exact */
    CHECK(remb2.bitrate == remb.bitrate && remb2.ssrc_count == remb.ssrc_count);
    for (i = 0; i < remb.ssrc_count; i++) CHECK(sfu_rtcp_remb_ssrc(&remb2, i) == ssrcs[i]);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sfu_rtcp_iter_t it;
  sfu_rtcp_hdr_t h;
  uint8_t *buf;
  size_t total = 0;
  int rc, count = 0, v;

  if ((buf = malloc(size ? size : 1)) == NULL) return 0;
  if (size) memcpy(buf, data, size);
  (void)sfu_rtcp_is_rtcp(buf, size);
  v = sfu_rtcp_validate(buf, size);
  sfu_rtcp_iter_init(&it, buf, size);
  while ((rc = sfu_rtcp_iter_next(&it, &h)) == 1) {
    count++;
    CHECK(h.version == 2 && h.count <= 31);
    CHECK(h.packet == buf + total && h.packet_len >= 4 && h.packet_len % 4 == 0);
    CHECK(h.body == h.packet + 4 && h.body_len + 4 <= h.packet_len);
    if (!h.padding) CHECK(h.body_len + 4 == h.packet_len);
    total += h.packet_len;
    CHECK(total <= size);
    do_reports(&h);
    do_sdes_bye(&h);
    do_xr(&h);
    do_feedback(&h);
  }
  CHECK(rc == 0 || rc == SFU_EPROTO);
  CHECK(sfu_rtcp_iter_next(&it, &h) == rc);
  if (rc == 0) CHECK(total == size && (count > 0 ? v == count : v == SFU_EPROTO));
  else CHECK(v == SFU_EPROTO);
  free(buf);
  return 0;
}
