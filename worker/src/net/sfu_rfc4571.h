/* RFC 4571 framing: RTP, RTCP, STUN and DTLS over a TCP stream, each packet
 * preceded by a 16-bit big-endian LENGTH. Pure code (no libuv, no I/O).
 *
 * Decoder rules
 *   - Any number of frames per read; all complete ones are delivered in
 *     order; a trailing partial frame (or partial LENGTH) is kept.
 *   - LENGTH 0 is RFC 4571's null packet: skipped (counted in `empty`).
 *   - Every 16-bit LENGTH is valid, so the stream never loses sync and there
 *     is no error path for content.
 *   - Memory: the buffer is allocated on the first reserve() and never
 *     exceeds max(SFU_RFC4571_INITIAL_CAP, HEADER + MAX + the largest `min`
 *     asked of reserve()); feed() reads in SFU_RFC4571_FEED_CHUNK pieces.
 *
 * Callback rules
 *   The payload pointer is valid only during the callback. The callback may
 *   call sfu_rfc4571_decoder_stop() (its connection closed): no further
 *   frame is delivered, ever. It must not call reserve/commit/feed/free on
 *   the same decoder (they return SFU_ESTATE). */
#ifndef SFU_RFC4571_H
#define SFU_RFC4571_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFU_RFC4571_HEADER_LEN 2u
#define SFU_RFC4571_MAX_LEN 65535u
#define SFU_RFC4571_INITIAL_CAP 65536u
#define SFU_RFC4571_FEED_CHUNK 65536u

typedef void (*sfu_rfc4571_cb)(void *arg, const uint8_t *payload, size_t len);

typedef struct sfu_rfc4571_decoder {
  uint8_t *buf;    /* buffered bytes start at buf[0] */
  size_t len;      /* bytes buffered: a partial frame between calls */
  size_t cap;      /* allocated size of buf */
  uint64_t frames; /* non-empty frames delivered */
  uint64_t empty;  /* zero-length frames skipped */
  bool stopped;    /* sticky, set by stop() */
  bool busy;       /* inside a delivery loop */
} sfu_rfc4571_decoder_t;

void sfu_rfc4571_decoder_init(sfu_rfc4571_decoder_t *d);
void sfu_rfc4571_decoder_free(sfu_rfc4571_decoder_t *d);

/* Room for at least `min` (>= 1) bytes after the buffered data, for libuv's
 * alloc callback: *p = buf + len, *avail = cap - len (>= min; larger when the
 * buffer already has room, or to hold the whole pending frame at once).
 * 0, SFU_EINVAL, SFU_ENOMEM, SFU_ESTATE (stopped or inside a callback). */
int sfu_rfc4571_decoder_reserve(sfu_rfc4571_decoder_t *d, size_t min, uint8_t **p, size_t *avail);

/* Account n bytes written at the last reserve()d position and deliver every
 * complete frame. Returns the number of non-empty frames delivered (capped
 * at INT_MAX), SFU_EINVAL (n > room), SFU_ESTATE (stopped or busy). */
int sfu_rfc4571_decoder_commit(sfu_rfc4571_decoder_t *d, size_t n, sfu_rfc4571_cb cb, void *arg);

/* Copying path (tests, fuzzer): append p[0..n) and deliver. Same returns as
 * commit() plus SFU_ENOMEM. */
int sfu_rfc4571_decoder_feed(sfu_rfc4571_decoder_t *d, const uint8_t *p, size_t n, sfu_rfc4571_cb cb, void *arg);

/* No more frames, ever; the buffer is released (after the current delivery
 * loop if called from the callback). */
void sfu_rfc4571_decoder_stop(sfu_rfc4571_decoder_t *d);

/* LENGTH field helpers (big-endian). write_header: caller checks len <= MAX. */
void sfu_rfc4571_write_header(uint8_t out[SFU_RFC4571_HEADER_LEN], size_t len);
uint16_t sfu_rfc4571_read_header(const uint8_t *p);

#endif
