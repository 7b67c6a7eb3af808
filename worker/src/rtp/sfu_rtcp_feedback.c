#include "sfu_rtcp_feedback.h"

#include <string.h>

#include "sfu_byte.h"
#include "sfu_error.h"

#define SFU__RTCP_FB_HEADER_LEN 12u /* common header + sender SSRC + media SSRC */
#define SFU__RTCP_MAX_PACKET_LEN (4u * 65536u)

int sfu_rtcp_fb_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_fb_t *fb) {
  if (h->pt != SFU_RTCP_PT_RTPFB && h->pt != SFU_RTCP_PT_PSFB) return SFU_EINVAL;
  if (h->body_len < 8) return SFU_EPROTO;
  fb->pt = h->pt;
  fb->fmt = h->count;
  fb->sender_ssrc = sfu_rd32(h->body);
  fb->media_ssrc = sfu_rd32(h->body + 4);
  fb->fci = h->body + 8;
  fb->fci_len = h->body_len - 8;
  return 0;
}

static int sfu__rtcp_fb_expect(const sfu_rtcp_hdr_t *h, uint8_t pt, uint8_t fmt, sfu_rtcp_fb_t *fb) {
  if (h->pt != pt || h->count != fmt) return SFU_EINVAL;
  return sfu_rtcp_fb_parse(h, fb);
}

static void sfu__rtcp_fb_write(uint8_t *out, uint8_t fmt, uint8_t pt, size_t total, uint32_t sender,
                               uint32_t media) {
  sfu__rtcp_write_header(out, fmt, pt, total);
  sfu_wr32(out + 4, sender);
  sfu_wr32(out + 8, media);
}

/* ---- NACK ---- */

int sfu_rtcp_nack_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_nack_t *nack) {
  int err;

  if ((err = sfu__rtcp_fb_expect(h, SFU_RTCP_PT_RTPFB, SFU_RTCP_RTPFB_NACK, &nack->fb)) != 0) return err;
  if (nack->fb.fci_len == 0 || nack->fb.fci_len % 4 != 0) return SFU_EPROTO;
  nack->item_count = nack->fb.fci_len / 4;
  return 0;
}

void sfu_rtcp_nack_item(const sfu_rtcp_nack_t *nack, size_t i, uint16_t *pid, uint16_t *blp) {
  *pid = sfu_rd16(nack->fb.fci + 4 * i);
  *blp = sfu_rd16(nack->fb.fci + 4 * i + 2);
}

size_t sfu_rtcp_nack_expand(uint16_t pid, uint16_t blp, uint16_t out[17]) {
  size_t n = 0;
  unsigned i;

  out[n++] = pid;
  for (i = 0; i < 16; i++)
    if (blp & (1u << i)) out[n++] = (uint16_t)(pid + i + 1);
  return n;
}

int sfu_rtcp_nack_build(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                        const uint16_t *seqs, size_t n, size_t *consumed) {
  size_t i = 0, pos = SFU__RTCP_FB_HEADER_LEN, max_pos;
  uint16_t pid, blp, d;

  if (consumed != NULL) *consumed = 0;
  if (n == 0) return SFU_EINVAL;
  max_pos = cap < SFU__RTCP_MAX_PACKET_LEN ? cap : SFU__RTCP_MAX_PACKET_LEN;
  if (max_pos < pos + 4) return SFU_ETOOBIG;
  while (i < n && max_pos - pos >= 4) {
    pid = seqs[i++];
    blp = 0;
    while (i < n) {
      d = (uint16_t)(seqs[i] - pid);
      if (d > 16) break;
      if (d > 0) blp |= (uint16_t)(1u << (d - 1));
      i++;
    }
    sfu_wr16(out + pos, pid);
    sfu_wr16(out + pos + 2, blp);
    pos += 4;
  }
  sfu__rtcp_fb_write(out, SFU_RTCP_RTPFB_NACK, SFU_RTCP_PT_RTPFB, pos, sender_ssrc, media_ssrc);
  if (consumed != NULL) *consumed = i;
  return (int)pos;
}

/* ---- transport-cc ---- */

int sfu_rtcp_tcc_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_tcc_t *tcc) {
  const uint8_t *f;
  uint32_t ref;
  int err;

  if ((err = sfu__rtcp_fb_expect(h, SFU_RTCP_PT_RTPFB, SFU_RTCP_RTPFB_TCC, &tcc->fb)) != 0) return err;
  if (tcc->fb.fci_len < 8) return SFU_EPROTO;
  f = tcc->fb.fci;
  tcc->base_seq = sfu_rd16(f);
  tcc->status_count = sfu_rd16(f + 2);
  ref = sfu_rd24(f + 4);
  tcc->reference_time = (ref & 0x800000u) ? (int32_t)ref - 0x1000000 : (int32_t)ref;
  tcc->fb_count = f[7];
  return 0;
}

/* ---- PLI ---- */

int sfu_rtcp_pli_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_fb_t *fb) {
  return sfu__rtcp_fb_expect(h, SFU_RTCP_PT_PSFB, SFU_RTCP_PSFB_PLI, fb);
}

int sfu_rtcp_pli_build(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc) {
  if (cap < SFU__RTCP_FB_HEADER_LEN) return SFU_ETOOBIG;
  sfu__rtcp_fb_write(out, SFU_RTCP_PSFB_PLI, SFU_RTCP_PT_PSFB, SFU__RTCP_FB_HEADER_LEN, sender_ssrc, media_ssrc);
  return (int)SFU__RTCP_FB_HEADER_LEN;
}

/* ---- FIR ---- */

int sfu_rtcp_fir_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_fir_t *fir) {
  int err;

  if ((err = sfu__rtcp_fb_expect(h, SFU_RTCP_PT_PSFB, SFU_RTCP_PSFB_FIR, &fir->fb)) != 0) return err;
  if (fir->fb.fci_len == 0 || fir->fb.fci_len % 8 != 0) return SFU_EPROTO;
  fir->count = fir->fb.fci_len / 8;
  return 0;
}

void sfu_rtcp_fir_entry(const sfu_rtcp_fir_t *fir, size_t i, sfu_rtcp_fir_entry_t *e) {
  e->ssrc = sfu_rd32(fir->fb.fci + 8 * i);
  e->seq = fir->fb.fci[8 * i + 4];
}

int sfu_rtcp_fir_build(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                       const sfu_rtcp_fir_entry_t *entries, size_t n) {
  size_t total, i;
  uint8_t *q;

  if (n == 0 || n > (SFU__RTCP_MAX_PACKET_LEN - SFU__RTCP_FB_HEADER_LEN) / 8) return SFU_EINVAL;
  total = SFU__RTCP_FB_HEADER_LEN + 8 * n;
  if (cap < total) return SFU_ETOOBIG;
  sfu__rtcp_fb_write(out, SFU_RTCP_PSFB_FIR, SFU_RTCP_PT_PSFB, total, sender_ssrc, media_ssrc);
  for (i = 0; i < n; i++) {
    q = out + SFU__RTCP_FB_HEADER_LEN + 8 * i;
    sfu_wr32(q, entries[i].ssrc);
    q[4] = entries[i].seq;
    q[5] = q[6] = q[7] = 0;
  }
  return (int)total;
}

/* ---- REMB ---- */

int sfu_rtcp_remb_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_remb_t *remb) {
  const uint8_t *f;
  uint64_t mantissa;
  unsigned exp;
  int err;

  if ((err = sfu__rtcp_fb_expect(h, SFU_RTCP_PT_PSFB, SFU_RTCP_PSFB_AFB, &remb->fb)) != 0) return err;
  f = remb->fb.fci;
  if (remb->fb.fci_len < 4 || memcmp(f, "REMB", 4) != 0) return SFU_ENOTSUP;
  if (remb->fb.fci_len < 8) return SFU_EPROTO;
  remb->ssrc_count = f[4];
  if (remb->fb.fci_len - 8 < 4u * remb->ssrc_count) return SFU_EPROTO;
  exp = f[5] >> 2;
  mantissa = ((uint64_t)(f[5] & 0x03) << 16) | sfu_rd16(f + 6);
  if (exp > 0 && (mantissa >> (64 - exp)) != 0) return SFU_EPROTO;
  remb->bitrate = mantissa << exp;
  remb->ssrcs = f + 8;
  return 0;
}

uint32_t sfu_rtcp_remb_ssrc(const sfu_rtcp_remb_t *remb, size_t i) { return sfu_rd32(remb->ssrcs + 4 * i); }

int sfu_rtcp_remb_build(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
                        const uint32_t *ssrcs, size_t n) {
  size_t total, i;
  uint64_t mantissa = bitrate;
  unsigned exp = 0;
  uint8_t *f;

  if (n > 255) return SFU_EINVAL;
  total = SFU__RTCP_FB_HEADER_LEN + 8 + 4 * n;
  if (cap < total) return SFU_ETOOBIG;
  while (mantissa > 0x3ffffu) {
    mantissa >>= 1;
    exp++;
  }
  sfu__rtcp_fb_write(out, SFU_RTCP_PSFB_AFB, SFU_RTCP_PT_PSFB, total, sender_ssrc, 0);
  f = out + SFU__RTCP_FB_HEADER_LEN;
  memcpy(f, "REMB", 4);
  f[4] = (uint8_t)n;
  f[5] = (uint8_t)((exp << 2) | (unsigned)(mantissa >> 16));
  sfu_wr16(f + 6, (uint16_t)mantissa);
  for (i = 0; i < n; i++) sfu_wr32(f + 8 + 4 * i, ssrcs[i]);
  return (int)total;
}
