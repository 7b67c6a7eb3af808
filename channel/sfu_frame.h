/*
 * sfu_frame: decoder for the length-prefixed frames of the worker channel.
 *
 * Wire format (mediasoup worker channel): every message is a 4-byte
 * little-endian unsigned length followed by that many payload bytes. The
 * decoder does not look inside the payload.
 *
 * Pure code: no libuv, no I/O. Errors are negative errno values, which on
 * Unix are identical to libuv's UV_E* codes (UV_EINVAL == -EINVAL, ...).
 *
 * Buffering rules
 *   - Any number of frames may arrive in one read; all complete ones are
 *     delivered in order. A trailing partial frame is kept (moved to the
 *     start of the buffer) until the rest arrives.
 *   - The buffer never holds more than one partial frame plus one read:
 *     at most SFU_FRAME_HEADER_LEN + SFU_FRAME_MAX_LEN + the read size.
 *     After a large frame it is shrunk back (see sfu_frame.c).
 *   - A zero-length frame is delivered with len == 0; rejecting it is the
 *     consumer's business.
 *
 * Resync rule
 *   A length prefix greater than SFU_FRAME_MAX_LEN means the stream lost
 *   sync (there is no way to find the next frame boundary). The decoder
 *   counts it in `oversized`, drops every byte buffered so far *and the rest
 *   of the read that contained the prefix*, and starts fresh with the next
 *   read: the first 4 bytes of the next read are taken as a length prefix.
 *   Frames completed earlier in the same read have already been delivered.
 *   A "read" is one commit() call, or one whole feed() call.
 *
 * Callback rules
 *   The payload pointer is valid only during the callback. The callback may
 *   call sfu_frame_decoder_stop() (e.g. because the consumer closed); then no
 *   further frame is delivered, ever. It must not call feed/commit/reserve/
 *   free on the same decoder (feed/commit return -EBUSY if it does).
 */
#ifndef SFU_FRAME_H
#define SFU_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define SFU_FRAME_HEADER_LEN 4u
#define SFU_FRAME_MAX_LEN (4u * 1024u * 1024u) /* payload cap: 4 MiB */

typedef void (*sfu_frame_cb)(void *arg, const uint8_t *payload, size_t len);

typedef struct sfu_frame_decoder {
  uint8_t *buf;       /* buffered bytes start at buf[0] */
  size_t len;         /* bytes buffered (a partial frame between calls) */
  size_t cap;         /* allocated size of buf */
  uint64_t frames;    /* frames delivered */
  uint64_t oversized; /* length prefixes > SFU_FRAME_MAX_LEN (resyncs) */
  int stopped;        /* set by sfu_frame_decoder_stop(); sticky */
  int busy;           /* inside a delivery loop */
} sfu_frame_decoder_t;

void sfu_frame_decoder_init(sfu_frame_decoder_t *d);
void sfu_frame_decoder_free(sfu_frame_decoder_t *d);

/*
 * Zero-copy path for libuv's alloc_cb: make room for at least `min` bytes at
 * the end of the buffered data and return it in *p / *avail (*avail >= min;
 * it may be larger, e.g. the rest of a large frame whose prefix is known).
 * Returns 0, -EINVAL, -ENOMEM, or -ECANCELED after stop.
 */
int sfu_frame_decoder_reserve(sfu_frame_decoder_t *d, size_t min, uint8_t **p,
                              size_t *avail);

/*
 * Account `n` bytes written into the space returned by the last reserve()
 * and deliver every complete frame. Returns the number of frames delivered,
 * or: -EMSGSIZE (oversized prefix, resync as described above; frames before
 * it were delivered and are counted in d->frames), -EINVAL (n larger than the
 * reserved space), -EBUSY (called from the callback), -ECANCELED (stopped
 * before the call).
 */
int sfu_frame_decoder_commit(sfu_frame_decoder_t *d, size_t n, sfu_frame_cb cb,
                             void *arg);

/*
 * Copying path (tests, fuzzer): append p[0..n) and deliver. Same return
 * values as commit(), plus -ENOMEM. The whole call is one "read" for the
 * resync rule. Input is copied in bounded pieces, so memory stays bounded
 * whatever n is.
 */
int sfu_frame_decoder_feed(sfu_frame_decoder_t *d, const uint8_t *p, size_t n,
                           sfu_frame_cb cb, void *arg);

/* Stop delivering: the current delivery loop returns after the callback in
 * progress, and every later feed/commit/reserve returns -ECANCELED. */
void sfu_frame_decoder_stop(sfu_frame_decoder_t *d);

/* Write the 4-byte little-endian length prefix for a payload of `len`. */
void sfu_frame_header_write(uint8_t out[SFU_FRAME_HEADER_LEN], uint32_t len);

/* Read a 4-byte little-endian length prefix (caller checks len >= 4). */
uint32_t sfu_frame_header_read(const uint8_t *p);

#endif /* SFU_FRAME_H */
