/* RFC 4571 frame decoder. See sfu_rfc4571.h for the rules. */
#include "sfu_rfc4571.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"

void sfu_rfc4571_write_header(uint8_t out[SFU_RFC4571_HEADER_LEN], size_t len) {
  out[0] = (uint8_t)((len >> 8) & 0xffu);
  out[1] = (uint8_t)(len & 0xffu);
}

uint16_t sfu_rfc4571_read_header(const uint8_t *p) { return (uint16_t)(((unsigned)p[0] << 8) | (unsigned)p[1]); }

void sfu_rfc4571_decoder_init(sfu_rfc4571_decoder_t *d) { memset(d, 0, sizeof(*d)); }

static void sfu__rfc4571_release(sfu_rfc4571_decoder_t *d) {
  free(d->buf);
  d->buf = NULL;
  d->len = 0;
  d->cap = 0;
}

void sfu_rfc4571_decoder_free(sfu_rfc4571_decoder_t *d) {
  if (d != NULL) sfu__rfc4571_release(d);
}

void sfu_rfc4571_decoder_stop(sfu_rfc4571_decoder_t *d) {
  if (d == NULL) return;
  d->stopped = true;
  if (!d->busy) sfu__rfc4571_release(d); /* else the delivery loop releases it */
}

/* Bytes the buffered partial frame occupies once complete (what is buffered
 * if even its LENGTH is incomplete). */
static size_t sfu__rfc4571_needed(const sfu_rfc4571_decoder_t *d) {
  if (d->len < SFU_RFC4571_HEADER_LEN) return d->len;
  return SFU_RFC4571_HEADER_LEN + (size_t)sfu_rfc4571_read_header(d->buf);
}

int sfu_rfc4571_decoder_reserve(sfu_rfc4571_decoder_t *d, size_t min, uint8_t **p, size_t *avail) {
  size_t want, frame;
  uint8_t *nb;

  if (d == NULL || p == NULL || avail == NULL || min == 0) return SFU_EINVAL;
  if (d->stopped || d->busy) return SFU_ESTATE;
  /* Between calls len < HEADER + MAX, so len + min only overflows for absurd min. */
  if (min > SIZE_MAX - SFU_RFC4571_HEADER_LEN - SFU_RFC4571_MAX_LEN) return SFU_ENOMEM;

  frame = sfu__rfc4571_needed(d);
  if (d->buf == NULL || d->cap - d->len < min || frame > d->cap) {
    want = d->len + min;
    if (frame > want) want = frame; /* the whole pending frame in one go */
    if (d->buf == NULL && want < SFU_RFC4571_INITIAL_CAP) want = SFU_RFC4571_INITIAL_CAP;
    nb = realloc(d->buf, want);
    if (nb == NULL) return SFU_ENOMEM;
    d->buf = nb;
    d->cap = want;
  }
  *p = d->buf + d->len;
  *avail = d->cap - d->len;
  return 0;
}

static int sfu__rfc4571_deliver(sfu_rfc4571_decoder_t *d, sfu_rfc4571_cb cb, void *arg) {
  size_t off = 0, left, plen;
  int delivered = 0;

  d->busy = true;
  while (!d->stopped) {
    left = d->len - off;
    if (left < SFU_RFC4571_HEADER_LEN) break;
    plen = sfu_rfc4571_read_header(d->buf + off);
    if (left - SFU_RFC4571_HEADER_LEN < plen) break; /* partial: keep it */
    if (plen == 0) {
      d->empty++;
    } else {
      d->frames++;
      if (delivered < INT_MAX) delivered++;
      cb(arg, d->buf + off + SFU_RFC4571_HEADER_LEN, plen);
    }
    off += SFU_RFC4571_HEADER_LEN + plen;
  }
  d->busy = false;

  if (d->stopped) {
    sfu__rfc4571_release(d);
  } else if (off > 0) {
    memmove(d->buf, d->buf + off, d->len - off);
    d->len -= off;
  }
  return delivered;
}

int sfu_rfc4571_decoder_commit(sfu_rfc4571_decoder_t *d, size_t n, sfu_rfc4571_cb cb, void *arg) {
  if (d == NULL || cb == NULL) return SFU_EINVAL;
  if (d->stopped || d->busy) return SFU_ESTATE;
  if (n > d->cap - d->len) return SFU_EINVAL;
  d->len += n;
  return sfu__rfc4571_deliver(d, cb, arg);
}

int sfu_rfc4571_decoder_feed(sfu_rfc4571_decoder_t *d, const uint8_t *p, size_t n, sfu_rfc4571_cb cb, void *arg) {
  uint8_t *dst;
  size_t chunk, avail;
  int total = 0, r;

  if (d == NULL || cb == NULL || (p == NULL && n > 0)) return SFU_EINVAL;
  if (d->stopped || d->busy) return SFU_ESTATE;
  while (n > 0) {
    chunk = n < SFU_RFC4571_FEED_CHUNK ? n : SFU_RFC4571_FEED_CHUNK;
    if ((r = sfu_rfc4571_decoder_reserve(d, chunk, &dst, &avail)) != 0) return r;
    if (avail > chunk) avail = chunk;
    memcpy(dst, p, avail);
    r = sfu_rfc4571_decoder_commit(d, avail, cb, arg);
    if (r < 0) return r;
    total = r > INT_MAX - total ? INT_MAX : total + r;
    p += avail;
    n -= avail;
    if (d->stopped) break;
  }
  return total;
}
