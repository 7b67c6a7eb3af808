/*
 * libFuzzer target for worker/src/net/sfu_rfc4571 (RFC 4571 decoder) over
 * arbitrarily chunked input.
 *
 * Input layout:
 *   [0]          k = in[0] % 16 + 1: number of chunk descriptors
 *   [1 .. 2k]    k little-endian u16 descriptors, used in a cycle:
 *                bits 0-13 = chunk size (0 allowed), bit 14 = size x 8
 *                (reads up to 128 KiB, so feed() splits internally),
 *                bit 15 = reserve()+commit() instead of feed()
 *   [2k+1]       stop_at: stop the decoder from the callback when that many
 *                frames have been delivered (0: never)
 *   [2k+2 ..]    the byte stream
 * Missing header bytes read as 0.
 *
 * A reference model (a plain walk over the stream) predicts for every chunk
 * which frames are delivered, how many null packets are skipped, the return
 * value and exactly which bytes stay buffered; any difference traps. Also
 * checked: payloads lie inside the buffered bytes, len <= cap, cap bounded
 * by max(initial, one maximal frame + one read), nothing after stop.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"
#include "sfu_rfc4571.h"

#define CHECK(x)                  \
  do {                            \
    if (!(x)) __builtin_trap();   \
  } while (0)

#define FUZZ_MAX_READ (16383u * 8u)

typedef struct fuzz_state {
  sfu_rfc4571_decoder_t d;
  const uint8_t *stream;
  size_t *exp_off, *exp_len;
  size_t exp_count, exp_next;
  size_t delivered;
  size_t stop_at;
  int stopped;
} fuzz_state_t;

static void fuzz_cb(void *arg, const uint8_t *p, size_t len) {
  fuzz_state_t *st = arg;
  CHECK(!st->stopped);
  CHECK(len >= 1 && len <= SFU_RFC4571_MAX_LEN);
  CHECK(p >= st->d.buf && p + len <= st->d.buf + st->d.len);
  CHECK(st->d.len <= st->d.cap);
  CHECK(st->exp_next < st->exp_count);
  CHECK(len == st->exp_len[st->exp_next]);
  CHECK(memcmp(p, st->stream + st->exp_off[st->exp_next], len) == 0);
  st->exp_next++;
  st->delivered++;
  if (st->stop_at != 0 && st->delivered == st->stop_at) {
    st->stopped = 1;
    sfu_rfc4571_decoder_stop(&st->d);
  }
}

static size_t rd16(const uint8_t *p) { return ((size_t)p[0] << 8) | p[1]; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_state_t st;
  uint8_t hdr[1 + 32 + 1];
  size_t k, hlen, i, ci, pos, end, n, start, plen, avail, model_delivered;
  uint64_t model_empty;
  uint16_t desc;
  uint8_t *p;
  int rc, expect_rc, all_zero;

  memset(hdr, 0, sizeof(hdr));
  k = (size > 0 ? data[0] : 0) % 16 + 1;
  hlen = 1 + 2 * k + 1;
  memcpy(hdr, data, size < hlen ? size : hlen);
  all_zero = 1;
  for (i = 0; i < k; i++)
    if ((hdr[1 + 2 * i] | (hdr[2 + 2 * i] & 0x3f)) != 0) all_zero = 0;

  memset(&st, 0, sizeof(st));
  sfu_rfc4571_decoder_init(&st.d);
  st.stream = size >= hlen ? data + hlen : data;
  size = size >= hlen ? size - hlen : 0;
  st.stop_at = hdr[hlen - 1];
  /* at most one non-empty frame per 3 bytes of a read */
  st.exp_off = malloc(sizeof(size_t) * (FUZZ_MAX_READ / 3 + 2));
  st.exp_len = malloc(sizeof(size_t) * (FUZZ_MAX_READ / 3 + 2));
  if (st.exp_off == NULL || st.exp_len == NULL) goto cleanup;

  start = 0; /* model: stream offset of the first buffered byte */
  pos = 0;
  model_delivered = 0;
  model_empty = 0;
  for (ci = 0; pos < size || ci == 0; ci++) {
    desc = (uint16_t)(hdr[1 + 2 * (ci % k)] | (hdr[2 + 2 * (ci % k)] << 8));
    int commit_path = (desc & 0x8000u) != 0;
    n = desc & 0x3fffu;
    if (desc & 0x4000u) n *= 8;
    if (all_zero && ci >= k) n = size - pos; /* after k empty reads, the rest at once */
    if (n > size - pos) n = size - pos;
    end = pos + n;

    /* Model: what this read delivers. */
    st.exp_count = 0;
    st.exp_next = 0;
    if (!st.stopped) {
      while (end - start >= 2) {
        if (st.stop_at != 0 && model_delivered == st.stop_at) break;
        plen = rd16(st.stream + start);
        if (end - start - 2 < plen) break;
        if (plen == 0) {
          model_empty++;
        } else {
          CHECK(st.exp_count < FUZZ_MAX_READ / 3 + 2);
          st.exp_off[st.exp_count] = start + 2;
          st.exp_len[st.exp_count] = plen;
          st.exp_count++;
          model_delivered++;
        }
        start += 2 + plen;
      }
      expect_rc = (int)st.exp_count;
    } else {
      expect_rc = SFU_ESTATE;
    }

    /* Decoder. */
    if (commit_path) {
      rc = sfu_rfc4571_decoder_reserve(&st.d, n > 0 ? n : 1, &p, &avail);
      if (st.stopped) {
        CHECK(rc == SFU_ESTATE);
        rc = sfu_rfc4571_decoder_commit(&st.d, n, fuzz_cb, &st);
      } else {
        CHECK(rc == 0);
        CHECK(avail >= n && avail >= 1);
        CHECK(p == st.d.buf + st.d.len);
        CHECK(st.d.len + avail == st.d.cap);
        if (n > 0) memcpy(p, st.stream + pos, n);
        rc = sfu_rfc4571_decoder_commit(&st.d, n, fuzz_cb, &st);
      }
    } else {
      rc = sfu_rfc4571_decoder_feed(&st.d, st.stream + pos, n, fuzz_cb, &st);
    }

    CHECK(rc == expect_rc);
    CHECK(st.exp_next == st.exp_count);
    CHECK(st.d.frames == st.delivered);
    CHECK(st.d.len <= st.d.cap);
    CHECK(st.d.cap <= SFU_RFC4571_INITIAL_CAP || st.d.cap <= SFU_RFC4571_HEADER_LEN + SFU_RFC4571_MAX_LEN + FUZZ_MAX_READ);
    if (st.stopped) {
      CHECK(st.d.buf == NULL && st.d.len == 0);
    } else {
      CHECK(st.d.empty == model_empty);
      CHECK(st.d.len == end - start); /* exactly the partial frame is kept */
      CHECK(st.d.len == 0 || memcmp(st.d.buf, st.stream + start, st.d.len) == 0);
      CHECK(st.d.len < SFU_RFC4571_HEADER_LEN + SFU_RFC4571_MAX_LEN + 1);
    }
    pos = end;
  }

cleanup:
  sfu_rfc4571_decoder_free(&st.d);
  free(st.exp_off);
  free(st.exp_len);
  return 0;
}
