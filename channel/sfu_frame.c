/*
 * sfu_frame: decoder for length-prefixed channel frames. See sfu_frame.h for
 * the buffering, resync and callback rules.
 */
#include "sfu_frame.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* feed() copies its input in pieces of at most this size. */
#define SFU__FRAME_FEED_CHUNK (64u * 1024u)
/* After a delivery, a buffer larger than SHRINK_ABOVE is cut back to
 * SHRINK_TO when what is still buffered (plus the rest of its frame) fits
 * in SHRINK_TO. 128 KiB is the steady state for 64 KiB reads. */
#define SFU__FRAME_SHRINK_ABOVE (256u * 1024u)
#define SFU__FRAME_SHRINK_TO (128u * 1024u)

void sfu_frame_header_write(uint8_t out[SFU_FRAME_HEADER_LEN], uint32_t len) {
  out[0] = (uint8_t)(len & 0xffu);
  out[1] = (uint8_t)((len >> 8) & 0xffu);
  out[2] = (uint8_t)((len >> 16) & 0xffu);
  out[3] = (uint8_t)((len >> 24) & 0xffu);
}

uint32_t sfu_frame_header_read(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}

void sfu_frame_decoder_init(sfu_frame_decoder_t *d) {
  memset(d, 0, sizeof(*d));
}

static void sfu__frame_release(sfu_frame_decoder_t *d) {
  free(d->buf);
  d->buf = NULL;
  d->len = 0;
  d->cap = 0;
}

void sfu_frame_decoder_free(sfu_frame_decoder_t *d) {
  if (d == NULL)
    return;
  sfu__frame_release(d);
}

void sfu_frame_decoder_stop(sfu_frame_decoder_t *d) {
  if (d == NULL)
    return;
  d->stopped = 1;
  /* Inside a delivery the buffer is still being walked; the delivery loop
   * releases it when it returns. */
  if (!d->busy)
    sfu__frame_release(d);
}

/* Bytes the buffered partial frame will occupy once complete (or what is
 * buffered if even its prefix is incomplete). Between calls any buffered
 * prefix has already been checked against SFU_FRAME_MAX_LEN. */
static size_t sfu__frame_needed(const sfu_frame_decoder_t *d) {
  if (d->len < SFU_FRAME_HEADER_LEN)
    return d->len;
  return SFU_FRAME_HEADER_LEN + (size_t)sfu_frame_header_read(d->buf);
}

static void sfu__frame_shrink(sfu_frame_decoder_t *d) {
  uint8_t *nb;

  if (d->cap <= SFU__FRAME_SHRINK_ABOVE)
    return;
  if (sfu__frame_needed(d) > SFU__FRAME_SHRINK_TO)
    return;
  nb = realloc(d->buf, SFU__FRAME_SHRINK_TO);
  if (nb == NULL)
    return; /* keep the larger buffer; nothing lost */
  d->buf = nb;
  d->cap = SFU__FRAME_SHRINK_TO;
}

int sfu_frame_decoder_reserve(sfu_frame_decoder_t *d, size_t min, uint8_t **p,
                              size_t *avail) {
  size_t want, frame, limit, grow, newcap;
  uint8_t *nb;

  if (d == NULL || p == NULL || avail == NULL)
    return -EINVAL;
  if (d->stopped)
    return -ECANCELED;
  if (d->busy)
    return -EBUSY;

  /* Grow when `min` does not fit, and also when the pending frame's prefix
   * says it will not fit: then room for the whole frame is made at once, so
   * a large frame costs one realloc and few reads. */
  frame = sfu__frame_needed(d);
  if (d->buf == NULL || d->cap - d->len < min || frame > d->cap) {
    /* len <= HEADER + MAX between calls, so this also rules out overflow
     * in every sum below. */
    if (min > SIZE_MAX - d->len - SFU_FRAME_HEADER_LEN - SFU_FRAME_MAX_LEN)
      return -ENOMEM;
    want = d->len + min;
    if (frame > want)
      want = frame;
    /* Double for amortized growth, but never beyond one maximal frame plus
     * one read. */
    limit = SFU_FRAME_HEADER_LEN + SFU_FRAME_MAX_LEN + min;
    grow = d->cap <= limit / 2 ? d->cap * 2 : limit;
    newcap = want > grow ? want : grow;
    if (newcap == 0)
      newcap = 1; /* min == 0 on an empty decoder: still hand out a buffer */
    nb = realloc(d->buf, newcap);
    if (nb == NULL)
      return -ENOMEM;
    d->buf = nb;
    d->cap = newcap;
  }

  *p = d->buf + d->len;
  *avail = d->cap - d->len;
  return 0;
}

/* Walk the buffer and deliver every complete frame. */
static int sfu__frame_deliver(sfu_frame_decoder_t *d, sfu_frame_cb cb,
                              void *arg) {
  size_t off, left;
  uint32_t plen;
  int delivered, rc;

  off = 0;
  delivered = 0;
  rc = 0;
  d->busy = 1;

  while (!d->stopped) {
    left = d->len - off;
    if (left < SFU_FRAME_HEADER_LEN)
      break;
    plen = sfu_frame_header_read(d->buf + off);
    if (plen > SFU_FRAME_MAX_LEN) {
      /* Lost sync: drop everything buffered, including the rest of this
       * read, and start over with the next read. */
      d->oversized++;
      d->len = 0;
      off = 0;
      rc = -EMSGSIZE;
      break;
    }
    if (left - SFU_FRAME_HEADER_LEN < plen)
      break; /* partial frame: keep it */
    d->frames++;
    if (delivered < INT_MAX)
      delivered++;
    cb(arg, d->buf + off + SFU_FRAME_HEADER_LEN, plen);
    off += SFU_FRAME_HEADER_LEN + plen;
  }

  d->busy = 0;

  if (d->stopped) {
    sfu__frame_release(d);
  } else {
    if (off > 0) {
      memmove(d->buf, d->buf + off, d->len - off);
      d->len -= off;
    }
    sfu__frame_shrink(d);
  }

  return rc < 0 ? rc : delivered;
}

int sfu_frame_decoder_commit(sfu_frame_decoder_t *d, size_t n, sfu_frame_cb cb,
                             void *arg) {
  if (d == NULL || cb == NULL)
    return -EINVAL;
  if (d->busy)
    return -EBUSY;
  if (d->stopped)
    return -ECANCELED;
  if (n > d->cap - d->len)
    return -EINVAL;
  d->len += n;
  return sfu__frame_deliver(d, cb, arg);
}

int sfu_frame_decoder_feed(sfu_frame_decoder_t *d, const uint8_t *p, size_t n,
                           sfu_frame_cb cb, void *arg) {
  uint8_t *dst;
  size_t chunk, avail;
  int total, rc;

  if (d == NULL || cb == NULL || (p == NULL && n > 0))
    return -EINVAL;
  if (d->busy)
    return -EBUSY;
  if (d->stopped)
    return -ECANCELED;

  total = 0;
  while (n > 0) {
    chunk = n < SFU__FRAME_FEED_CHUNK ? n : SFU__FRAME_FEED_CHUNK;
    rc = sfu_frame_decoder_reserve(d, chunk, &dst, &avail);
    if (rc < 0)
      return rc;
    if (avail > n)
      avail = n;
    memcpy(dst, p, avail);
    rc = sfu_frame_decoder_commit(d, avail, cb, arg);
    if (rc < 0)
      return rc; /* -EMSGSIZE: the rest of this read is dropped too */
    total = rc > INT_MAX - total ? INT_MAX : total + rc;
    p += avail;
    n -= avail;
    if (d->stopped)
      break;
  }
  return total;
}
