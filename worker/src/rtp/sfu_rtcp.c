#include "sfu_rtcp.h"

#include <string.h>

#include "sfu_byte.h"
#include "sfu_error.h"

#define SFU__RTCP_RB_LEN 24u
#define SFU__RTCP_SR_INFO_LEN 24u /* sender SSRC + sender info */
#define SFU__RTCP_MAX_PACKET_LEN (4u * 65536u)

bool sfu_rtcp_is_rtcp(const uint8_t *p, size_t len) {
  uint8_t pt;

  if (len < SFU_RTCP_HEADER_LEN) return false;
  if (p[0] < 128 || p[0] > 191) return false;
  pt = p[1] & 0x7f;
  return pt >= 64 && pt <= 95;
}

/* ---- compound iterator ---- */

void sfu_rtcp_iter_init(sfu_rtcp_iter_t *it, const uint8_t *p, size_t len) {
  it->p = p;
  it->len = len;
  it->pos = 0;
  it->err = 0;
}

int sfu_rtcp_iter_next(sfu_rtcp_iter_t *it, sfu_rtcp_hdr_t *h) {
  const uint8_t *q;
  size_t rest, plen, pad = 0;

  if (it->err != 0) return it->err;
  rest = it->len - it->pos;
  if (rest == 0) return 0;
  q = it->p + it->pos;
  if (rest < SFU_RTCP_HEADER_LEN || (q[0] >> 6) != 2) goto malformed;
  plen = 4u * ((size_t)sfu_rd16(q + 2) + 1u);
  if (plen > rest) goto malformed;
  if (q[0] & 0x20) {
    pad = q[plen - 1];
    if (pad == 0 || pad > plen - SFU_RTCP_HEADER_LEN) goto malformed;
  }
  h->version = 2;
  h->padding = (q[0] & 0x20) != 0;
  h->count = q[0] & 0x1f;
  h->pt = q[1];
  h->packet = q;
  h->packet_len = plen;
  h->body = q + SFU_RTCP_HEADER_LEN;
  h->body_len = plen - SFU_RTCP_HEADER_LEN - pad;
  it->pos += plen;
  return 1;

malformed:
  it->err = SFU_EPROTO;
  return it->err;
}

int sfu_rtcp_validate(const uint8_t *p, size_t len) {
  sfu_rtcp_iter_t it;
  sfu_rtcp_hdr_t h;
  int rc, n = 0;

  sfu_rtcp_iter_init(&it, p, len);
  while ((rc = sfu_rtcp_iter_next(&it, &h)) == 1) n++;
  if (rc < 0) return rc;
  return n > 0 ? n : SFU_EPROTO;
}

void sfu__rtcp_write_header(uint8_t *out, uint8_t count, uint8_t pt, size_t total_len) {
  out[0] = (uint8_t)(0x80 | (count & 0x1f));
  out[1] = pt;
  sfu_wr16(out + 2, (uint16_t)(total_len / 4 - 1));
}

/* ---- report blocks, SR, RR ---- */

static void sfu__rtcp_rb_read(const uint8_t *p, sfu_rtcp_rb_t *rb) {
  uint32_t lost = sfu_rd24(p + 5);

  rb->ssrc = sfu_rd32(p);
  rb->fraction_lost = p[4];
  /* sign-extend the 24-bit two's complement value */
  rb->cumulative_lost = (lost & 0x800000u) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
  rb->highest_seq = sfu_rd32(p + 8);
  rb->jitter = sfu_rd32(p + 12);
  rb->lsr = sfu_rd32(p + 16);
  rb->dlsr = sfu_rd32(p + 20);
}

static void sfu__rtcp_rb_write(uint8_t *p, const sfu_rtcp_rb_t *rb) {
  int32_t lost = rb->cumulative_lost;

  if (lost > 0x7fffff) lost = 0x7fffff;
  if (lost < -0x800000) lost = -0x800000;
  sfu_wr32(p, rb->ssrc);
  p[4] = rb->fraction_lost;
  sfu_wr24(p + 5, (uint32_t)lost & 0xffffffu);
  sfu_wr32(p + 8, rb->highest_seq);
  sfu_wr32(p + 12, rb->jitter);
  sfu_wr32(p + 16, rb->lsr);
  sfu_wr32(p + 20, rb->dlsr);
}

int sfu_rtcp_sr_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_sr_t *sr) {
  const uint8_t *b = h->body;
  size_t i;

  if (h->pt != SFU_RTCP_PT_SR) return SFU_EINVAL;
  if (h->body_len < SFU__RTCP_SR_INFO_LEN + SFU__RTCP_RB_LEN * (size_t)h->count) return SFU_EPROTO;
  sr->ssrc = sfu_rd32(b);
  sr->ntp_sec = sfu_rd32(b + 4);
  sr->ntp_frac = sfu_rd32(b + 8);
  sr->rtp_ts = sfu_rd32(b + 12);
  sr->packet_count = sfu_rd32(b + 16);
  sr->octet_count = sfu_rd32(b + 20);
  sr->report_count = h->count;
  for (i = 0; i < h->count; i++)
    sfu__rtcp_rb_read(b + SFU__RTCP_SR_INFO_LEN + SFU__RTCP_RB_LEN * i, &sr->reports[i]);
  return 0;
}

int sfu_rtcp_rr_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_rr_t *rr) {
  size_t i;

  if (h->pt != SFU_RTCP_PT_RR) return SFU_EINVAL;
  if (h->body_len < 4 + SFU__RTCP_RB_LEN * (size_t)h->count) return SFU_EPROTO;
  rr->ssrc = sfu_rd32(h->body);
  rr->report_count = h->count;
  for (i = 0; i < h->count; i++) sfu__rtcp_rb_read(h->body + 4 + SFU__RTCP_RB_LEN * i, &rr->reports[i]);
  return 0;
}

int sfu_rtcp_sr_build(uint8_t *out, size_t cap, const sfu_rtcp_sr_t *sr) {
  size_t total, i;
  uint8_t *b;

  if (sr->report_count > SFU_RTCP_MAX_COUNT) return SFU_EINVAL;
  total = SFU_RTCP_HEADER_LEN + SFU__RTCP_SR_INFO_LEN + SFU__RTCP_RB_LEN * (size_t)sr->report_count;
  if (cap < total) return SFU_ETOOBIG;
  sfu__rtcp_write_header(out, sr->report_count, SFU_RTCP_PT_SR, total);
  b = out + SFU_RTCP_HEADER_LEN;
  sfu_wr32(b, sr->ssrc);
  sfu_wr32(b + 4, sr->ntp_sec);
  sfu_wr32(b + 8, sr->ntp_frac);
  sfu_wr32(b + 12, sr->rtp_ts);
  sfu_wr32(b + 16, sr->packet_count);
  sfu_wr32(b + 20, sr->octet_count);
  for (i = 0; i < sr->report_count; i++)
    sfu__rtcp_rb_write(b + SFU__RTCP_SR_INFO_LEN + SFU__RTCP_RB_LEN * i, &sr->reports[i]);
  return (int)total;
}

int sfu_rtcp_rr_build(uint8_t *out, size_t cap, const sfu_rtcp_rr_t *rr) {
  size_t total, i;

  if (rr->report_count > SFU_RTCP_MAX_COUNT) return SFU_EINVAL;
  total = SFU_RTCP_HEADER_LEN + 4 + SFU__RTCP_RB_LEN * (size_t)rr->report_count;
  if (cap < total) return SFU_ETOOBIG;
  sfu__rtcp_write_header(out, rr->report_count, SFU_RTCP_PT_RR, total);
  sfu_wr32(out + 4, rr->ssrc);
  for (i = 0; i < rr->report_count; i++) sfu__rtcp_rb_write(out + 8 + SFU__RTCP_RB_LEN * i, &rr->reports[i]);
  return (int)total;
}

/* ---- SDES ---- */

int sfu_rtcp_sdes_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_sdes_t *sdes) {
  const uint8_t *b = h->body;
  size_t len = h->body_len, pos = 0, n, i;
  sfu_rtcp_sdes_chunk_t *c;
  uint8_t type;

  if (h->pt != SFU_RTCP_PT_SDES) return SFU_EINVAL;
  sdes->count = h->count;
  for (i = 0; i < h->count; i++) {
    c = &sdes->chunks[i];
    if (len - pos < 4) return SFU_EPROTO;
    c->ssrc = sfu_rd32(b + pos);
    c->cname = NULL;
    c->cname_len = 0;
    pos += 4;
    for (;;) {
      if (len - pos < 1) return SFU_EPROTO; /* no null octet */
      type = b[pos];
      if (type == SFU_RTCP_SDES_END) break;
      if (len - pos < 2) return SFU_EPROTO;
      n = b[pos + 1];
      if (len - pos - 2 < n) return SFU_EPROTO;
      if (type == SFU_RTCP_SDES_CNAME && c->cname == NULL) {
        c->cname = b + pos + 2;
        c->cname_len = (uint8_t)n;
      }
      pos += 2 + n;
    }
    /* the null octet, then up to the next 32-bit boundary */
    pos = (pos + 4) & ~(size_t)3;
    if (pos > len) return SFU_EPROTO;
  }
  return 0;
}

static size_t sfu__rtcp_sdes_chunk_len(const sfu_rtcp_sdes_chunk_t *c) {
  size_t n = 4 + (c->cname != NULL ? 2u + c->cname_len : 0u) + 1u; /* ssrc, item, END */
  return (n + 3) & ~(size_t)3;
}

int sfu_rtcp_sdes_build(uint8_t *out, size_t cap, const sfu_rtcp_sdes_t *sdes) {
  size_t total = SFU_RTCP_HEADER_LEN, i, pos, end;
  const sfu_rtcp_sdes_chunk_t *c;

  if (sdes->count > SFU_RTCP_MAX_COUNT) return SFU_EINVAL;
  for (i = 0; i < sdes->count; i++) total += sfu__rtcp_sdes_chunk_len(&sdes->chunks[i]);
  if (cap < total) return SFU_ETOOBIG;
  sfu__rtcp_write_header(out, sdes->count, SFU_RTCP_PT_SDES, total);
  pos = SFU_RTCP_HEADER_LEN;
  for (i = 0; i < sdes->count; i++) {
    c = &sdes->chunks[i];
    end = pos + sfu__rtcp_sdes_chunk_len(c);
    sfu_wr32(out + pos, c->ssrc);
    pos += 4;
    if (c->cname != NULL) {
      out[pos] = SFU_RTCP_SDES_CNAME;
      out[pos + 1] = c->cname_len;
      if (c->cname_len > 0) memcpy(out + pos + 2, c->cname, c->cname_len);
      pos += 2u + c->cname_len;
    }
    memset(out + pos, 0, end - pos); /* END and padding */
    pos = end;
  }
  return (int)total;
}

/* ---- BYE ---- */

int sfu_rtcp_bye_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_bye_t *bye) {
  size_t i, pos, n;

  if (h->pt != SFU_RTCP_PT_BYE) return SFU_EINVAL;
  if (h->body_len < 4u * h->count) return SFU_EPROTO;
  bye->count = h->count;
  for (i = 0; i < h->count; i++) bye->ssrcs[i] = sfu_rd32(h->body + 4 * i);
  bye->reason = NULL;
  bye->reason_len = 0;
  pos = 4u * h->count;
  if (h->body_len > pos) {
    n = h->body[pos];
    if (h->body_len - pos - 1 < n) return SFU_EPROTO;
    bye->reason = h->body + pos + 1;
    bye->reason_len = (uint8_t)n;
  }
  return 0;
}

int sfu_rtcp_bye_build(uint8_t *out, size_t cap, const sfu_rtcp_bye_t *bye) {
  size_t total, i, pos, reason = 0;

  if (bye->count > SFU_RTCP_MAX_COUNT) return SFU_EINVAL;
  if (bye->reason != NULL) reason = (1u + bye->reason_len + 3u) & ~(size_t)3;
  total = SFU_RTCP_HEADER_LEN + 4u * bye->count + reason;
  if (cap < total) return SFU_ETOOBIG;
  sfu__rtcp_write_header(out, bye->count, SFU_RTCP_PT_BYE, total);
  for (i = 0; i < bye->count; i++) sfu_wr32(out + 4 + 4 * i, bye->ssrcs[i]);
  pos = 4 + 4u * bye->count;
  if (bye->reason != NULL) {
    memset(out + pos, 0, reason);
    out[pos] = bye->reason_len;
    if (bye->reason_len > 0) memcpy(out + pos + 1, bye->reason, bye->reason_len);
  }
  return (int)total;
}

/* ---- XR ---- */

int sfu_rtcp_xr_parse(const sfu_rtcp_hdr_t *h, sfu_rtcp_xr_t *xr) {
  if (h->pt != SFU_RTCP_PT_XR) return SFU_EINVAL;
  if (h->body_len < 4) return SFU_EPROTO;
  xr->ssrc = sfu_rd32(h->body);
  xr->blocks = h->body + 4;
  xr->blocks_len = h->body_len - 4;
  xr->pos = 0;
  return 0;
}

int sfu_rtcp_xr_next(sfu_rtcp_xr_t *xr, sfu_rtcp_xr_block_t *b) {
  size_t rest = xr->blocks_len - xr->pos, n;
  const uint8_t *q = xr->blocks + xr->pos;

  if (rest == 0) return 0;
  if (rest < 4) return SFU_EPROTO;
  n = 4u * sfu_rd16(q + 2);
  if (rest - 4 < n) return SFU_EPROTO;
  b->type = q[0];
  b->type_specific = q[1];
  b->body = q + 4;
  b->body_len = n;
  xr->pos += 4 + n;
  return 1;
}

int sfu_rtcp_xr_rrtr_parse(const sfu_rtcp_xr_block_t *b, uint32_t *ntp_sec, uint32_t *ntp_frac) {
  if (b->type != SFU_RTCP_XR_RRTR) return SFU_EINVAL;
  if (b->body_len != 8) return SFU_EPROTO;
  *ntp_sec = sfu_rd32(b->body);
  *ntp_frac = sfu_rd32(b->body + 4);
  return 0;
}

int sfu_rtcp_xr_dlrr_count(const sfu_rtcp_xr_block_t *b) {
  if (b->type != SFU_RTCP_XR_DLRR) return SFU_EINVAL;
  if (b->body_len % 12 != 0) return SFU_EPROTO;
  return (int)(b->body_len / 12);
}

void sfu_rtcp_xr_dlrr_item(const sfu_rtcp_xr_block_t *b, size_t i, sfu_rtcp_dlrr_item_t *item) {
  const uint8_t *q = b->body + 12 * i;

  item->ssrc = sfu_rd32(q);
  item->lrr = sfu_rd32(q + 4);
  item->dlrr = sfu_rd32(q + 8);
}

int sfu_rtcp_xr_rrtr_build(uint8_t *out, size_t cap, uint32_t ssrc, uint32_t ntp_sec, uint32_t ntp_frac) {
  const size_t total = SFU_RTCP_HEADER_LEN + 4 + 4 + 8;

  if (cap < total) return SFU_ETOOBIG;
  sfu__rtcp_write_header(out, 0, SFU_RTCP_PT_XR, total);
  sfu_wr32(out + 4, ssrc);
  out[8] = SFU_RTCP_XR_RRTR;
  out[9] = 0;
  sfu_wr16(out + 10, 2);
  sfu_wr32(out + 12, ntp_sec);
  sfu_wr32(out + 16, ntp_frac);
  return (int)total;
}

int sfu_rtcp_xr_dlrr_build(uint8_t *out, size_t cap, uint32_t ssrc, const sfu_rtcp_dlrr_item_t *items,
                           size_t n) {
  size_t total, i;
  uint8_t *q;

  if (n == 0 || n > 65535 / 3) return SFU_EINVAL;
  total = SFU_RTCP_HEADER_LEN + 4 + 4 + 12 * n;
  if (total > SFU__RTCP_MAX_PACKET_LEN) return SFU_EINVAL;
  if (cap < total) return SFU_ETOOBIG;
  sfu__rtcp_write_header(out, 0, SFU_RTCP_PT_XR, total);
  sfu_wr32(out + 4, ssrc);
  out[8] = SFU_RTCP_XR_DLRR;
  out[9] = 0;
  sfu_wr16(out + 10, (uint16_t)(3 * n));
  for (i = 0; i < n; i++) {
    q = out + 12 + 12 * i;
    sfu_wr32(q, items[i].ssrc);
    sfu_wr32(q + 4, items[i].lrr);
    sfu_wr32(q + 8, items[i].dlrr);
  }
  return (int)total;
}

/* ---- compound writer ---- */

void sfu_rtcp_writer_init(sfu_rtcp_writer_t *w, uint8_t *buf, size_t cap) {
  w->buf = buf;
  w->cap = cap;
  w->len = 0;
  w->count = 0;
}

int sfu_rtcp_writer_commit(sfu_rtcp_writer_t *w, int built) {
  if (built < 0) return built;
  if ((size_t)built > w->cap - w->len) return SFU_ETOOBIG; /* a builder overran room: caller bug */
  w->len += (size_t)built;
  w->count++;
  return built;
}

int sfu_rtcp_writer_append(sfu_rtcp_writer_t *w, const uint8_t *pkt, size_t len) {
  if (len > w->cap - w->len || len > (size_t)SFU__RTCP_MAX_PACKET_LEN) return SFU_ETOOBIG;
  memmove(w->buf + w->len, pkt, len);
  w->len += len;
  w->count++;
  return (int)len;
}
