#include "sfu_rtcp_tcc.h"

#include <string.h>

#include "sfu_byte.h"
#include "sfu_error.h"

#define SFU__TCC_HEADER_LEN 20u /* common header, two SSRCs, fixed part */
#define SFU__TCC_MAX_LEN (4u * 65536u)
#define SFU__TCC_MAX_RUN 0x1fffu
#define SFU__TCC_ONE_BIT_CAP 14u
#define SFU__TCC_TWO_BIT_CAP 7u
#define SFU__TCC_RESERVED 3u

/* ---- chunk words ---- */

static unsigned sfu__tcc_chunk_count(uint16_t w, uint32_t remaining) {
  unsigned n;

  if (!(w & 0x8000)) n = w & SFU__TCC_MAX_RUN;
  else if (!(w & 0x4000)) n = SFU__TCC_ONE_BIT_CAP;
  else n = SFU__TCC_TWO_BIT_CAP;
  return n < remaining ? n : (unsigned)remaining;
}

static unsigned sfu__tcc_chunk_symbol(uint16_t w, unsigned i) {
  if (!(w & 0x8000)) return (w >> 13) & 3u;
  if (!(w & 0x4000)) return (w >> (13 - i)) & 1u;
  return (w >> (12 - 2 * i)) & 3u;
}

/* ---- reader ---- */

int sfu_rtcp_tcc_read(const sfu_rtcp_hdr_t *h, sfu_rtcp_tcc_msg_t *msg) {
  const uint8_t *p;
  size_t rest, chunks = 0, need = 0, avail;
  uint32_t covered = 0, received = 0, total;
  unsigned n, i, s;
  uint16_t w;
  int err;

  if ((err = sfu_rtcp_tcc_parse(h, &msg->tcc)) != 0) return err;
  total = msg->tcc.status_count;
  if (total == 0) return SFU_EPROTO;
  p = msg->tcc.fb.fci + 8;
  rest = msg->tcc.fb.fci_len - 8;
  while (covered < total) {
    if (rest - 2 * chunks < 2) return SFU_EPROTO;
    w = sfu_rd16(p + 2 * chunks);
    chunks++;
    n = sfu__tcc_chunk_count(w, total - covered);
    if (!(w & 0x8000)) {
      s = sfu__tcc_chunk_symbol(w, 0);
      if (s == SFU__TCC_RESERVED) return SFU_EPROTO;
      if (s != SFU_RTCP_TCC_NOT_RECEIVED) {
        need += (size_t)n * s; /* small: 1 byte, large: 2 */
        received += n;
      }
    } else {
      for (i = 0; i < n; i++) {
        s = sfu__tcc_chunk_symbol(w, i);
        if (s == SFU__TCC_RESERVED) return SFU_EPROTO;
        if (s != SFU_RTCP_TCC_NOT_RECEIVED) {
          need += s;
          received++;
        }
      }
    }
    covered += n;
  }
  avail = rest - 2 * chunks;
  if (avail < need) return SFU_EPROTO;
  if (avail - need > 3) return SFU_EPROTO;
  msg->chunks = p;
  msg->chunk_count = chunks;
  msg->deltas = p + 2 * chunks;
  msg->deltas_len = need;
  msg->received_count = (uint16_t)received;
  return 0;
}

void sfu_rtcp_tcc_iter_init(sfu_rtcp_tcc_iter_t *it, const sfu_rtcp_tcc_msg_t *msg) {
  memset(it, 0, sizeof(*it));
  it->msg = msg;
  it->time_us = (int64_t)msg->tcc.reference_time * SFU_RTCP_TCC_REF_US;
}

int sfu_rtcp_tcc_iter_next(sfu_rtcp_tcc_iter_t *it, sfu_rtcp_tcc_pkt_t *pkt) {
  const sfu_rtcp_tcc_msg_t *m = it->msg;
  unsigned s;

  if (it->done >= m->tcc.status_count) return 0;
  while (it->pos >= it->n) {
    /* sfu_rtcp_tcc_read() checked that the chunks cover status_count */
    it->word = sfu_rd16(m->chunks + 2 * it->chunk);
    it->chunk++;
    it->n = sfu__tcc_chunk_count(it->word, m->tcc.status_count - it->done);
    it->pos = 0;
  }
  s = sfu__tcc_chunk_symbol(it->word, it->pos);
  it->pos++;
  pkt->seq = (uint16_t)(m->tcc.base_seq + it->done);
  it->done++;
  pkt->symbol = (uint8_t)s;
  pkt->received = s != SFU_RTCP_TCC_NOT_RECEIVED;
  pkt->delta = 0;
  if (s == SFU_RTCP_TCC_SMALL_DELTA) {
    pkt->delta = m->deltas[it->delta_pos];
    it->delta_pos += 1;
  } else if (s == SFU_RTCP_TCC_LARGE_DELTA) {
    pkt->delta = (int16_t)sfu_rd16(m->deltas + it->delta_pos);
    it->delta_pos += 2;
  }
  if (pkt->received) it->time_us += (int64_t)pkt->delta * SFU_RTCP_TCC_DELTA_US;
  pkt->arrival_us = pkt->received ? it->time_us : 0;
  return 1;
}

int64_t sfu_rtcp_tcc_unwrap_ref(int32_t ref, int64_t prev) {
  const int64_t period = 1ll << 24;
  int64_t r = ref & (period - 1), k, c;

  if (prev == INT64_MIN) return ref;
  /* closest value congruent to r modulo 2^24 */
  k = (prev - r) / period;
  c = r + k * period;
  while (c - prev > period / 2) c -= period;
  while (prev - c > period / 2) c += period;
  return c;
}

/* ---- builder: the last chunk being filled (libwebrtc's scheme) ---- */

typedef struct sfu__tcc_last {
  uint8_t sym[SFU__TCC_ONE_BIT_CAP];
  unsigned size;
  bool all_same;
  bool has_large;
} sfu__tcc_last_t;

static void sfu__tcc_last_clear(sfu__tcc_last_t *l) {
  l->size = 0;
  l->all_same = true;
  l->has_large = false;
}

static bool sfu__tcc_last_can_add(const sfu__tcc_last_t *l, unsigned s) {
  if (l->size < SFU__TCC_TWO_BIT_CAP) return true;
  if (l->size < SFU__TCC_ONE_BIT_CAP && !l->has_large && s != SFU_RTCP_TCC_LARGE_DELTA) return true;
  if (l->size < SFU__TCC_MAX_RUN && l->all_same && l->sym[0] == s) return true;
  return false;
}

static void sfu__tcc_last_add(sfu__tcc_last_t *l, unsigned s) {
  if (l->size < SFU__TCC_ONE_BIT_CAP) l->sym[l->size] = (uint8_t)s;
  if (l->size == 0) l->all_same = true;
  else l->all_same = l->all_same && l->sym[0] == s;
  l->has_large = l->has_large || s == SFU_RTCP_TCC_LARGE_DELTA;
  l->size++;
}

static uint16_t sfu__tcc_run(const sfu__tcc_last_t *l) {
  return (uint16_t)(((unsigned)l->sym[0] << 13) | l->size);
}

static uint16_t sfu__tcc_one_bit(const sfu__tcc_last_t *l, unsigned n) {
  uint16_t w = 0x8000;
  unsigned i;

  for (i = 0; i < n; i++) w |= (uint16_t)((unsigned)l->sym[i] << (13 - i));
  return w;
}

static uint16_t sfu__tcc_two_bit(const sfu__tcc_last_t *l, unsigned n) {
  uint16_t w = 0xc000;
  unsigned i;

  for (i = 0; i < n; i++) w |= (uint16_t)((unsigned)l->sym[i] << (12 - 2 * i));
  return w;
}

/* A full chunk when the next symbol does not fit. */
static uint16_t sfu__tcc_last_emit(sfu__tcc_last_t *l) {
  uint16_t w;
  unsigned i, rest;

  if (l->all_same) {
    w = sfu__tcc_run(l);
    sfu__tcc_last_clear(l);
    return w;
  }
  if (l->size == SFU__TCC_ONE_BIT_CAP) {
    w = sfu__tcc_one_bit(l, SFU__TCC_ONE_BIT_CAP);
    sfu__tcc_last_clear(l);
    return w;
  }
  /* 7..13 mixed symbols with a large delta: the first 7 as a 2-bit vector */
  w = sfu__tcc_two_bit(l, SFU__TCC_TWO_BIT_CAP);
  rest = l->size - SFU__TCC_TWO_BIT_CAP;
  sfu__tcc_last_clear(l);
  for (i = 0; i < rest; i++) sfu__tcc_last_add(l, l->sym[SFU__TCC_TWO_BIT_CAP + i]);
  return w;
}

/* The final chunk of a message (size >= 1). */
static uint16_t sfu__tcc_last_final(const sfu__tcc_last_t *l) {
  if (l->all_same) return sfu__tcc_run(l);
  if (l->size <= SFU__TCC_TWO_BIT_CAP) return sfu__tcc_two_bit(l, l->size);
  return sfu__tcc_one_bit(l, l->size);
}

/* Round to the nearest 250 us (half away from zero). */
static int64_t sfu__tcc_ticks(int64_t diff_us) {
  const int64_t q = SFU_RTCP_TCC_DELTA_US;
  return diff_us >= 0 ? (diff_us + q / 2) / q : -((-diff_us + q / 2) / q);
}

typedef struct sfu__tcc_enc {
  uint8_t *out;
  size_t cap;
  size_t chunks;
  sfu__tcc_last_t last;
} sfu__tcc_enc_t;

static bool sfu__tcc_push(sfu__tcc_enc_t *e, unsigned s) {
  if (!sfu__tcc_last_can_add(&e->last, s)) {
    if (SFU__TCC_HEADER_LEN + 2 * (e->chunks + 1) > e->cap) return false;
    sfu_wr16(e->out + SFU__TCC_HEADER_LEN + 2 * e->chunks, sfu__tcc_last_emit(&e->last));
    e->chunks++;
  }
  sfu__tcc_last_add(&e->last, s);
  return true;
}

int sfu_rtcp_tcc_build(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                       uint16_t base_seq, uint8_t fb_count, const sfu_rtcp_tcc_arrival_t *pkts, size_t n,
                       size_t *consumed) {
  sfu__tcc_enc_t e, saved;
  int64_t base_us, last_us, ticks;
  uint32_t status = 0, missing, d, j;
  size_t i, count = 0, delta_bytes = 0, size, pos;
  uint16_t prev = base_seq;
  unsigned s;
  bool fits;

  if (consumed != NULL) *consumed = 0;
  if (n == 0 || pkts[0].arrival_us < 0) return SFU_EINVAL;
  if ((uint16_t)(pkts[0].seq - base_seq) >= 0x8000) return SFU_EINVAL;
  if (cap > SFU__TCC_MAX_LEN) cap = SFU__TCC_MAX_LEN;
  if (cap < SFU_RTCP_TCC_MIN_LEN) return SFU_ETOOBIG;

  e.out = out;
  e.cap = cap;
  e.chunks = 0;
  sfu__tcc_last_clear(&e.last);
  base_us = pkts[0].arrival_us / SFU_RTCP_TCC_REF_US * SFU_RTCP_TCC_REF_US;
  last_us = base_us;

  for (i = 0; i < n; i++) {
    if (pkts[i].arrival_us < 0) break;
    if (i == 0) {
      missing = (uint16_t)(pkts[0].seq - base_seq);
    } else {
      d = (uint16_t)(pkts[i].seq - prev);
      if (d == 0 || d >= 0x8000) break;
      missing = d - 1;
    }
    if (status + missing + 1 > 0xffffu) break;
    ticks = sfu__tcc_ticks(pkts[i].arrival_us - last_us);
    if (ticks < INT16_MIN || ticks > INT16_MAX) break;
    s = (ticks >= 0 && ticks <= 255) ? SFU_RTCP_TCC_SMALL_DELTA : SFU_RTCP_TCC_LARGE_DELTA;

    saved = e;
    fits = true;
    for (j = 0; j < missing && fits; j++) fits = sfu__tcc_push(&e, SFU_RTCP_TCC_NOT_RECEIVED);
    if (fits) fits = sfu__tcc_push(&e, s);
    if (fits) {
      size = SFU__TCC_HEADER_LEN + 2 * (e.chunks + 1) + delta_bytes + s;
      size = (size + 3) & ~(size_t)3;
      fits = size <= cap;
    }
    if (!fits) {
      e = saved;
      break;
    }
    delta_bytes += s;
    status += missing + 1;
    prev = pkts[i].seq;
    last_us += ticks * SFU_RTCP_TCC_DELTA_US;
    count++;
  }
  if (count == 0) return SFU_ETOOBIG; /* cap >= 24 always holds one packet: not reached */

  sfu_wr16(out + SFU__TCC_HEADER_LEN + 2 * e.chunks, sfu__tcc_last_final(&e.last));
  e.chunks++;
  pos = SFU__TCC_HEADER_LEN + 2 * e.chunks;
  last_us = base_us;
  for (i = 0; i < count; i++) {
    ticks = sfu__tcc_ticks(pkts[i].arrival_us - last_us);
    last_us += ticks * SFU_RTCP_TCC_DELTA_US;
    if (ticks >= 0 && ticks <= 255) {
      out[pos++] = (uint8_t)ticks;
    } else {
      sfu_wr16(out + pos, (uint16_t)(int16_t)ticks);
      pos += 2;
    }
  }
  while (pos % 4 != 0) out[pos++] = 0;

  sfu__rtcp_write_header(out, SFU_RTCP_RTPFB_TCC, SFU_RTCP_PT_RTPFB, pos);
  sfu_wr32(out + 4, sender_ssrc);
  sfu_wr32(out + 8, media_ssrc);
  sfu_wr16(out + 12, base_seq);
  sfu_wr16(out + 14, (uint16_t)status);
  sfu_wr24(out + 16, (uint32_t)(base_us / SFU_RTCP_TCC_REF_US) & 0xffffffu);
  out[19] = fb_count;
  if (consumed != NULL) *consumed = count;
  return (int)pos;
}
