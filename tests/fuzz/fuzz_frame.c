/*
 * libFuzzer target for channel/sfu_frame.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ichannel \
 *       tests/fuzz/fuzz_frame.c channel/sfu_frame.c -o fuzz_frame
 *   tests/fuzz/gen_frame_seeds.sh tests/fuzz/corpus-frame
 *   ./fuzz_frame tests/fuzz/corpus-frame
 *
 * Input layout:
 *   [0]            k = in[0] % 16 + 1: number of chunk descriptors
 *   [1 .. 2k]      k little-endian u16 descriptors, used in a cycle:
 *                  bits 0-13 = chunk size (0 allowed), bit 14 = size x 8
 *                  (reads up to 128 KiB, so feed() splits internally),
 *                  bit 15 = use reserve()+commit() instead of feed()
 *   [2k+1]         stop_at: stop the decoder from the callback when that
 *                  many frames have been delivered (0: never)
 *   [2k+2 ..]      the byte stream
 * Missing header bytes read as 0.
 *
 * A small reference model (independent of the decoder's buffer handling)
 * predicts, for every chunk, which frames are delivered, the return value,
 * and exactly which bytes stay buffered; any difference aborts. Also
 * checked: delivered lengths <= 4 MiB, payloads inside the buffered bytes,
 * len <= cap, cap bounded by one maximal frame plus one read, nothing
 * delivered after stop.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_frame.h"

#define CHECK(x)                                                               \
  do {                                                                         \
    if (!(x))                                                                  \
      __builtin_trap();                                                        \
  } while (0)

/* The largest `min` reserve() ever sees here: feed() reads in 64 KiB pieces,
 * commit chunks are at most 16383 * 8 bytes. */
#define FUZZ_MAX_READ (128u * 1024u)

typedef struct fuzz_state {
  sfu_frame_decoder_t d;
  const uint8_t *stream;
  size_t *exp_off; /* expected frames of the current chunk */
  size_t *exp_len;
  size_t exp_count, exp_next;
  size_t delivered; /* over the whole run */
  size_t stop_at;
  int stopped;
} fuzz_state_t;

static void fuzz_cb(void *arg, const uint8_t *payload, size_t len) {
  fuzz_state_t *st = arg;

  CHECK(!st->stopped);
  CHECK(len <= SFU_FRAME_MAX_LEN);
  CHECK(payload >= st->d.buf && payload + len <= st->d.buf + st->d.len);
  CHECK(st->d.len <= st->d.cap);
  CHECK(st->exp_next < st->exp_count);
  CHECK(len == st->exp_len[st->exp_next]);
  CHECK(len == 0 ||
        memcmp(payload, st->stream + st->exp_off[st->exp_next], len) == 0);
  st->exp_next++;
  st->delivered++;
  if (st->stop_at != 0 && st->delivered == st->stop_at) {
    st->stopped = 1;
    sfu_frame_decoder_stop(&st->d);
  }
}

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_state_t st;
  uint8_t hdr[1 + 32 + 1];
  size_t k, i, ci, pos, end, n, start, hlen, avail, model_delivered;
  uint16_t desc;
  uint32_t plen;
  uint8_t *p;
  int rc, expect_rc, commit_path, all_zero;

  memset(hdr, 0, sizeof(hdr));
  k = (size > 0 ? data[0] : 0) % 16 + 1;
  hlen = 1 + 2 * k + 1;
  memcpy(hdr, data, size < hlen ? size : hlen);
  all_zero = 1;
  for (i = 0; i < k; i++)
    if ((hdr[1 + 2 * i] | (hdr[2 + 2 * i] & 0x3f)) != 0)
      all_zero = 0;

  memset(&st, 0, sizeof(st));
  sfu_frame_decoder_init(&st.d);
  st.stream = size >= hlen ? data + hlen : data;
  size = size >= hlen ? size - hlen : 0;
  st.stop_at = hdr[hlen - 1];
  /* at most one frame per 4 bytes of a chunk, plus slack */
  st.exp_off = malloc(sizeof(size_t) * (FUZZ_MAX_READ / 4 + 2));
  st.exp_len = malloc(sizeof(size_t) * (FUZZ_MAX_READ / 4 + 2));
  if (st.exp_off == NULL || st.exp_len == NULL)
    goto cleanup;

  start = 0; /* model: stream offset of the first buffered byte */
  pos = 0;
  model_delivered = 0;
  for (ci = 0; pos < size || ci == 0; ci++) {
    desc = (uint16_t)(hdr[1 + 2 * (ci % k)] | (hdr[2 + 2 * (ci % k)] << 8));
    commit_path = (desc & 0x8000u) != 0;
    n = desc & 0x3fffu;
    if (desc & 0x4000u)
      n *= 8;
    if (all_zero && ci >= k)
      n = size - pos; /* after k empty reads, the rest in one go */
    if (n > size - pos)
      n = size - pos;
    end = pos + n;

    /* Model: what this read delivers. */
    st.exp_count = 0;
    st.exp_next = 0;
    expect_rc = 0;
    if (!st.stopped) {
      while (end - start >= 4) {
        if (st.stop_at != 0 && model_delivered == st.stop_at)
          break;
        plen = rd32(st.stream + start);
        if (plen > SFU_FRAME_MAX_LEN) {
          start = end; /* drop all, including the rest of this read */
          expect_rc = -EMSGSIZE;
          break;
        }
        if (end - start - 4 < plen)
          break;
        CHECK(st.exp_count < FUZZ_MAX_READ / 4 + 2);
        st.exp_off[st.exp_count] = start + 4;
        st.exp_len[st.exp_count] = plen;
        st.exp_count++;
        model_delivered++;
        start += 4 + (size_t)plen;
      }
      if (expect_rc == 0)
        expect_rc = (int)st.exp_count;
    } else {
      expect_rc = -ECANCELED;
    }

    /* Decoder. */
    if (commit_path) {
      rc = sfu_frame_decoder_reserve(&st.d, n, &p, &avail);
      if (st.stopped) {
        CHECK(rc == -ECANCELED);
        rc = sfu_frame_decoder_commit(&st.d, n, fuzz_cb, &st);
      } else {
        CHECK(rc == 0);
        CHECK(avail >= n);
        CHECK(p == st.d.buf + st.d.len);
        CHECK(st.d.len + avail == st.d.cap);
        if (n > 0)
          memcpy(p, st.stream + pos, n);
        rc = sfu_frame_decoder_commit(&st.d, n, fuzz_cb, &st);
      }
    } else {
      rc = sfu_frame_decoder_feed(&st.d, st.stream + pos, n, fuzz_cb, &st);
    }

    CHECK(rc == expect_rc);
    CHECK(st.exp_next == st.exp_count);
    CHECK(st.d.len <= st.d.cap);
    CHECK(st.d.cap <= SFU_FRAME_HEADER_LEN + SFU_FRAME_MAX_LEN + FUZZ_MAX_READ);
    CHECK(st.d.frames == st.delivered);
    if (st.stopped) {
      CHECK(st.d.buf == NULL && st.d.len == 0);
    } else {
      /* exactly the model's partial frame is buffered */
      CHECK(st.d.len == end - start);
      CHECK(st.d.len == 0 || memcmp(st.d.buf, st.stream + start, st.d.len) == 0);
      CHECK(st.d.len < SFU_FRAME_HEADER_LEN ||
            rd32(st.d.buf) <= SFU_FRAME_MAX_LEN);
    }
    pos = end;
  }

cleanup:
  sfu_frame_decoder_free(&st.d);
  free(st.exp_off);
  free(st.exp_len);
  return 0;
}
