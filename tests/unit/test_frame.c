/*
 * Unit tests for channel/sfu_frame (the length-prefix frame decoder).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sfu_frame.h"

/* ---- a serialized stream of frames and the frames it should yield ---- */

typedef struct stream {
  uint8_t *bytes;
  size_t len, cap;
  size_t *offs; /* payload offset of frame i in bytes */
  size_t *lens; /* payload length of frame i */
  size_t count, count_cap;
} stream_t;

static uint64_t rng_next(uint64_t *s) {
  /* xorshift64*: deterministic, good enough for test data */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

static void stream_reserve(stream_t *s, size_t more) {
  while (s->cap - s->len < more) {
    s->cap = s->cap ? s->cap * 2 : 1024;
    s->bytes = realloc(s->bytes, s->cap);
    assert_non_null(s->bytes);
  }
}

static void stream_raw(stream_t *s, const uint8_t *p, size_t n) {
  stream_reserve(s, n);
  memcpy(s->bytes + s->len, p, n);
  s->len += n;
}

static void stream_header(stream_t *s, uint32_t len) {
  uint8_t h[SFU_FRAME_HEADER_LEN];
  sfu_frame_header_write(h, len);
  stream_raw(s, h, sizeof(h));
}

/* Appends a frame (payload filled from a pattern) and records it. */
static void stream_frame(stream_t *s, size_t len, uint64_t seed) {
  size_t i;

  if (s->count == s->count_cap) {
    s->count_cap = s->count_cap ? s->count_cap * 2 : 16;
    s->offs = realloc(s->offs, s->count_cap * sizeof(*s->offs));
    s->lens = realloc(s->lens, s->count_cap * sizeof(*s->lens));
    assert_non_null(s->offs);
    assert_non_null(s->lens);
  }
  stream_header(s, (uint32_t)len);
  stream_reserve(s, len);
  seed = seed * 2 + 1;
  for (i = 0; i < len; i++)
    s->bytes[s->len + i] = (uint8_t)(rng_next(&seed) >> 56);
  s->offs[s->count] = s->len;
  s->lens[s->count] = len;
  s->count++;
  s->len += len;
}

static void stream_free(stream_t *s) {
  free(s->bytes);
  free(s->offs);
  free(s->lens);
  memset(s, 0, sizeof(*s));
}

/* ---- callback that checks each delivered frame against a stream ---- */

typedef struct check {
  const stream_t *s;
  sfu_frame_decoder_t *d;
  size_t first; /* index in s of the first frame expected */
  size_t got;
  size_t stop_at;  /* call stop() once got reaches this (0: never) */
  int try_reenter; /* call feed() from the callback, expect -EBUSY */
} check_t;

static void check_cb(void *arg, const uint8_t *payload, size_t len) {
  check_t *c = arg;
  size_t i;
  uint8_t byte = 0;

  i = c->first + c->got;
  assert_true(i < c->s->count);
  assert_int_equal(len, c->s->lens[i]);
  assert_true(len <= SFU_FRAME_MAX_LEN);
  /* payload lies inside the decoder's buffered bytes */
  assert_non_null(payload);
  assert_true(payload >= c->d->buf);
  assert_true(payload + len <= c->d->buf + c->d->len);
  if (len > 0)
    assert_memory_equal(payload, c->s->bytes + c->s->offs[i], len);
  c->got++;

  if (c->try_reenter) {
    assert_int_equal(sfu_frame_decoder_feed(c->d, &byte, 1, check_cb, c),
                     -EBUSY);
  }
  if (c->stop_at != 0 && c->got == c->stop_at)
    sfu_frame_decoder_stop(c->d);
}

static void never_cb(void *arg, const uint8_t *payload, size_t len) {
  (void)arg;
  (void)payload;
  (void)len;
  fail_msg("no frame expected");
}

static void check_init(check_t *c, const stream_t *s, sfu_frame_decoder_t *d) {
  memset(c, 0, sizeof(*c));
  c->s = s;
  c->d = d;
}

/* ---- tests ---- */

static void test_header_le(void **state) {
  uint8_t h[4];
  (void)state;

  sfu_frame_header_write(h, 0x01020304u);
  assert_int_equal(h[0], 0x04);
  assert_int_equal(h[1], 0x03);
  assert_int_equal(h[2], 0x02);
  assert_int_equal(h[3], 0x01);
  assert_int_equal(sfu_frame_header_read(h), 0x01020304u);
  h[3] = 0xff;
  assert_int_equal(sfu_frame_header_read(h), 0xff020304u);
}

static void test_split_every_boundary(void **state) {
  sfu_frame_decoder_t d;
  stream_t s = {0};
  check_t c;
  size_t i, j;
  int r1, r2;
  (void)state;

  stream_frame(&s, 5, 1);
  stream_frame(&s, 0, 2);
  stream_frame(&s, 1, 3);
  stream_frame(&s, 300, 4);
  stream_frame(&s, 7, 5);

  /* one split point anywhere, including 0 and len */
  for (i = 0; i <= s.len; i++) {
    sfu_frame_decoder_init(&d);
    check_init(&c, &s, &d);
    r1 = sfu_frame_decoder_feed(&d, s.bytes, i, check_cb, &c);
    r2 = sfu_frame_decoder_feed(&d, s.bytes + i, s.len - i, check_cb, &c);
    assert_true(r1 >= 0 && r2 >= 0);
    assert_int_equal((size_t)(r1 + r2), s.count);
    assert_int_equal(c.got, s.count);
    assert_int_equal(d.len, 0);
    assert_int_equal(d.frames, s.count);
    sfu_frame_decoder_free(&d);
  }

  /* two split points, every pair */
  for (i = 0; i <= s.len; i += 3) {
    for (j = i; j <= s.len; j += 5) {
      sfu_frame_decoder_init(&d);
      check_init(&c, &s, &d);
      assert_true(sfu_frame_decoder_feed(&d, s.bytes, i, check_cb, &c) >= 0);
      assert_true(sfu_frame_decoder_feed(&d, s.bytes + i, j - i, check_cb,
                                         &c) >= 0);
      assert_true(sfu_frame_decoder_feed(&d, s.bytes + j, s.len - j, check_cb,
                                         &c) >= 0);
      assert_int_equal(c.got, s.count);
      sfu_frame_decoder_free(&d);
    }
  }

  /* byte by byte */
  sfu_frame_decoder_init(&d);
  check_init(&c, &s, &d);
  for (i = 0; i < s.len; i++)
    assert_true(sfu_frame_decoder_feed(&d, s.bytes + i, 1, check_cb, &c) >= 0);
  assert_int_equal(c.got, s.count);
  sfu_frame_decoder_free(&d);

  stream_free(&s);
}

static void test_many_frames_one_feed(void **state) {
  sfu_frame_decoder_t d;
  stream_t s = {0};
  check_t c;
  size_t i;
  int r;
  (void)state;

  /* ~300 KiB: more than one internal feed chunk */
  for (i = 0; i < 3000; i++)
    stream_frame(&s, i % 200, i);
  sfu_frame_decoder_init(&d);
  check_init(&c, &s, &d);
  r = sfu_frame_decoder_feed(&d, s.bytes, s.len, check_cb, &c);
  assert_int_equal(r, 3000);
  assert_int_equal(c.got, 3000);
  assert_int_equal(d.frames, 3000);
  assert_int_equal(d.len, 0);
  sfu_frame_decoder_free(&d);
  stream_free(&s);
}

static void test_zero_length_frame(void **state) {
  sfu_frame_decoder_t d;
  stream_t s = {0};
  check_t c;
  (void)state;

  stream_frame(&s, 0, 0);
  stream_frame(&s, 0, 0);
  sfu_frame_decoder_init(&d);
  check_init(&c, &s, &d);
  assert_int_equal(sfu_frame_decoder_feed(&d, s.bytes, 4, check_cb, &c), 1);
  assert_int_equal(sfu_frame_decoder_feed(&d, s.bytes + 4, 3, check_cb, &c),
                   0);
  assert_int_equal(sfu_frame_decoder_feed(&d, s.bytes + 7, 1, check_cb, &c),
                   1);
  assert_int_equal(c.got, 2);
  /* empty feed is a no-op */
  assert_int_equal(sfu_frame_decoder_feed(&d, NULL, 0, check_cb, &c), 0);
  sfu_frame_decoder_free(&d);
  stream_free(&s);
}

static void test_max_frame_accepted(void **state) {
  sfu_frame_decoder_t d;
  stream_t s = {0};
  check_t c;
  uint8_t *p;
  size_t avail, off, n;
  int r, total;
  (void)state;

  stream_frame(&s, SFU_FRAME_MAX_LEN, 42);
  stream_frame(&s, 3, 43);

  /* copying path, one call */
  sfu_frame_decoder_init(&d);
  check_init(&c, &s, &d);
  r = sfu_frame_decoder_feed(&d, s.bytes, s.len, check_cb, &c);
  assert_int_equal(r, 2);
  assert_int_equal(d.oversized, 0);
  /* shrunk back after the large frame */
  assert_true(d.cap <= 256u * 1024u);
  sfu_frame_decoder_free(&d);

  /* zero-copy path, 64 KiB reads */
  sfu_frame_decoder_init(&d);
  check_init(&c, &s, &d);
  total = 0;
  for (off = 0; off < s.len; off += n) {
    assert_int_equal(sfu_frame_decoder_reserve(&d, 65536, &p, &avail), 0);
    assert_true(avail >= 65536);
    /* never more than one maximal frame plus one read */
    assert_true(d.cap <= SFU_FRAME_HEADER_LEN + SFU_FRAME_MAX_LEN + 65536);
    n = s.len - off < 65536 ? s.len - off : 65536;
    memcpy(p, s.bytes + off, n);
    r = sfu_frame_decoder_commit(&d, n, check_cb, &c);
    assert_true(r >= 0);
    total += r;
  }
  assert_int_equal(total, 2);
  assert_int_equal(c.got, 2);
  assert_true(d.cap <= 256u * 1024u);
  sfu_frame_decoder_free(&d);
  stream_free(&s);
}

static void test_oversized_resync(void **state) {
  sfu_frame_decoder_t d;
  stream_t s = {0}, bad = {0};
  check_t c;
  uint8_t junk[100];
  (void)state;

  memset(junk, 0, sizeof(junk)); /* would parse as 25 empty frames */
  stream_frame(&s, 10, 1);
  stream_frame(&s, 20, 2);

  /* frame A, then a 4 MiB + 1 prefix, then bytes that look like frames,
   * all in one read: A is delivered, the rest dropped. */
  stream_raw(&bad, s.bytes, 4 + 10);
  stream_header(&bad, SFU_FRAME_MAX_LEN + 1);
  stream_raw(&bad, junk, sizeof(junk));

  sfu_frame_decoder_init(&d);
  check_init(&c, &s, &d);
  assert_int_equal(sfu_frame_decoder_feed(&d, bad.bytes, bad.len, check_cb, &c),
                   -EMSGSIZE);
  assert_int_equal(c.got, 1);
  assert_int_equal(d.frames, 1);
  assert_int_equal(d.oversized, 1);
  assert_int_equal(d.len, 0);
  /* the next read starts fresh */
  assert_int_equal(
      sfu_frame_decoder_feed(&d, s.bytes + 14, s.len - 14, check_cb, &c), 1);
  assert_int_equal(c.got, 2);

  /* prefix split across reads: the read that completes it is dropped */
  sfu_frame_decoder_free(&d);
  sfu_frame_decoder_init(&d);
  check_init(&c, &s, &d);
  c.first = 1;
  assert_int_equal(
      sfu_frame_decoder_feed(&d, bad.bytes + 14, 2, never_cb, NULL), 0);
  assert_int_equal(sfu_frame_decoder_feed(&d, bad.bytes + 16, 2 + 40,
                                          never_cb, NULL),
                   -EMSGSIZE);
  assert_int_equal(d.oversized, 1);
  assert_int_equal(d.len, 0);
  assert_int_equal(
      sfu_frame_decoder_feed(&d, s.bytes + 14, s.len - 14, check_cb, &c), 1);
  assert_int_equal(c.got, 1);

  /* exactly 0xffffffff */
  stream_free(&bad);
  stream_header(&bad, 0xffffffffu);
  assert_int_equal(sfu_frame_decoder_feed(&d, bad.bytes, bad.len, never_cb,
                                          NULL),
                   -EMSGSIZE);
  assert_int_equal(d.oversized, 2);

  sfu_frame_decoder_free(&d);
  stream_free(&bad);
  stream_free(&s);
}

static void test_garbage_then_resync(void **state) {
  sfu_frame_decoder_t d;
  stream_t s = {0};
  check_t c;
  uint8_t garbage[5000];
  size_t i;
  uint64_t seed = 99;
  (void)state;

  for (i = 0; i < sizeof(garbage); i++)
    garbage[i] = (uint8_t)(rng_next(&seed) >> 56) | 0x80u;
  for (i = 0; i < 50; i++)
    stream_frame(&s, i * 7, i);

  sfu_frame_decoder_init(&d);
  check_init(&c, &s, &d);
  assert_int_equal(sfu_frame_decoder_feed(&d, garbage, sizeof(garbage),
                                          never_cb, NULL),
                   -EMSGSIZE);
  assert_int_equal(d.oversized, 1);
  /* garbage again, as several reads */
  assert_int_equal(sfu_frame_decoder_feed(&d, garbage, 2, never_cb, NULL), 0);
  assert_int_equal(sfu_frame_decoder_feed(&d, garbage + 2, 10, never_cb, NULL),
                   -EMSGSIZE);
  assert_int_equal(d.oversized, 2);
  /* clean stream afterwards is decoded in full */
  assert_int_equal(sfu_frame_decoder_feed(&d, s.bytes, s.len, check_cb, &c),
                   50);
  assert_int_equal(c.got, 50);
  sfu_frame_decoder_free(&d);
  stream_free(&s);
}

static void test_stop_from_callback(void **state) {
  sfu_frame_decoder_t d;
  stream_t s = {0};
  check_t c;
  uint8_t *p;
  size_t avail, i;
  (void)state;

  for (i = 0; i < 5; i++)
    stream_frame(&s, 10 + i, i);

  sfu_frame_decoder_init(&d);
  check_init(&c, &s, &d);
  c.stop_at = 2;
  c.try_reenter = 1;
  assert_int_equal(sfu_frame_decoder_feed(&d, s.bytes, s.len, check_cb, &c),
                   2);
  assert_int_equal(c.got, 2);
  assert_int_equal(d.frames, 2);
  assert_true(d.stopped);
  /* buffer released, and nothing is ever delivered again */
  assert_null(d.buf);
  assert_int_equal(sfu_frame_decoder_feed(&d, s.bytes, s.len, never_cb, NULL),
                   -ECANCELED);
  assert_int_equal(sfu_frame_decoder_reserve(&d, 16, &p, &avail), -ECANCELED);
  assert_int_equal(sfu_frame_decoder_commit(&d, 0, never_cb, NULL),
                   -ECANCELED);
  sfu_frame_decoder_free(&d);

  /* stop in the middle of a multi-chunk feed */
  stream_free(&s);
  for (i = 0; i < 2000; i++)
    stream_frame(&s, 100, i);
  sfu_frame_decoder_init(&d);
  check_init(&c, &s, &d);
  c.stop_at = 1500;
  assert_int_equal(sfu_frame_decoder_feed(&d, s.bytes, s.len, check_cb, &c),
                   1500);
  assert_int_equal(c.got, 1500);
  assert_int_equal(d.frames, 1500);
  sfu_frame_decoder_free(&d);

  /* stop outside a callback releases at once */
  sfu_frame_decoder_init(&d);
  check_init(&c, &s, &d);
  assert_int_equal(sfu_frame_decoder_feed(&d, s.bytes, 50, check_cb, &c), 0);
  assert_non_null(d.buf);
  sfu_frame_decoder_stop(&d);
  assert_null(d.buf);
  sfu_frame_decoder_free(&d);

  stream_free(&s);
}

static void test_reserve_commit(void **state) {
  sfu_frame_decoder_t d;
  stream_t s = {0};
  check_t c;
  uint8_t *p;
  size_t avail;
  (void)state;

  stream_frame(&s, 1000, 1);
  stream_frame(&s, 200000, 2);
  stream_frame(&s, 1, 3);

  sfu_frame_decoder_init(&d);
  check_init(&c, &s, &d);

  assert_int_equal(sfu_frame_decoder_reserve(&d, 16, &p, &avail), 0);
  assert_true(avail >= 16);
  /* commit more than reserved */
  assert_int_equal(sfu_frame_decoder_commit(&d, avail + 1, check_cb, &c),
                   -EINVAL);
  /* first frame and the first 10 bytes of the second (its full prefix) */
  assert_int_equal(sfu_frame_decoder_reserve(&d, 1014, &p, &avail), 0);
  memcpy(p, s.bytes, 1014);
  assert_int_equal(sfu_frame_decoder_commit(&d, 1014, check_cb, &c), 1);
  assert_int_equal(d.len, 10); /* leftover moved to the start */
  assert_memory_equal(d.buf, s.bytes + 1004, 10);

  /* the prefix is known: reserve offers room for the whole frame at once */
  assert_int_equal(sfu_frame_decoder_reserve(&d, 16, &p, &avail), 0);
  assert_int_equal(avail, 200004 - 10);
  memcpy(p, s.bytes + 1014, avail);
  assert_int_equal(sfu_frame_decoder_commit(&d, avail, check_cb, &c), 1);
  assert_int_equal(c.got, 2);
  assert_int_equal(d.len, 0);
  /* a read of 16 bytes does not keep the 200 KiB buffer alive */
  assert_int_equal(sfu_frame_decoder_reserve(&d, 16, &p, &avail), 0);
  assert_true(d.cap <= 256u * 1024u);
  memcpy(p, s.bytes + 1004 + 200004, 5);
  assert_int_equal(sfu_frame_decoder_commit(&d, 5, check_cb, &c), 1);
  assert_int_equal(c.got, 3);
  assert_int_equal(d.len, 0);

  /* commit of 0 bytes delivers nothing and is fine */
  assert_int_equal(sfu_frame_decoder_reserve(&d, 1, &p, &avail), 0);
  assert_int_equal(sfu_frame_decoder_commit(&d, 0, never_cb, NULL), 0);

  /* argument checks */
  assert_int_equal(sfu_frame_decoder_reserve(&d, 1, NULL, &avail), -EINVAL);
  assert_int_equal(sfu_frame_decoder_reserve(&d, SIZE_MAX, &p, &avail),
                   -ENOMEM);
  assert_int_equal(sfu_frame_decoder_feed(&d, NULL, 3, check_cb, &c), -EINVAL);
  assert_int_equal(sfu_frame_decoder_commit(&d, 0, NULL, NULL), -EINVAL);

  sfu_frame_decoder_free(&d);
  sfu_frame_decoder_free(&d); /* idempotent */
  sfu_frame_decoder_free(NULL);
  stream_free(&s);
}

/* Random frames, random chunking, both paths: identical payloads. */
static void run_random(uint64_t seed, size_t max_chunk) {
  sfu_frame_decoder_t d;
  stream_t s = {0};
  check_t c;
  uint8_t *p;
  size_t i, off, n, avail, len;
  uint64_t r;
  int rc, total;

  for (i = 0; i < 400; i++) {
    r = rng_next(&seed);
    switch (r % 8) {
    case 0:
      len = 0;
      break;
    case 1:
      len = (size_t)(r >> 8) % 70000; /* around the read size */
      break;
    case 2:
      if ((r >> 8) % 50 == 0) {
        len = SFU_FRAME_MAX_LEN - (size_t)((r >> 16) % 3);
        break;
      }
      /* fall through */
    default:
      len = (size_t)(r >> 8) % 300;
      break;
    }
    stream_frame(&s, len, r);
  }

  sfu_frame_decoder_init(&d);
  check_init(&c, &s, &d);
  total = 0;
  for (off = 0; off < s.len; off += n) {
    r = rng_next(&seed);
    n = 1 + (size_t)(r % max_chunk);
    if (n > s.len - off)
      n = s.len - off;
    if (r & (1ull << 40)) {
      rc = sfu_frame_decoder_feed(&d, s.bytes + off, n, check_cb, &c);
    } else {
      assert_int_equal(sfu_frame_decoder_reserve(&d, n, &p, &avail), 0);
      assert_true(avail >= n);
      memcpy(p, s.bytes + off, n);
      rc = sfu_frame_decoder_commit(&d, n, check_cb, &c);
    }
    assert_true(rc >= 0);
    total += rc;
    assert_true(d.len <= d.cap);
    assert_true(d.cap <= SFU_FRAME_HEADER_LEN + SFU_FRAME_MAX_LEN + max_chunk);
    assert_true(d.len < SFU_FRAME_HEADER_LEN + SFU_FRAME_MAX_LEN);
  }
  assert_int_equal((size_t)total, s.count);
  assert_int_equal(c.got, s.count);
  assert_int_equal(d.frames, s.count);
  assert_int_equal(d.oversized, 0);
  assert_int_equal(d.len, 0);
  sfu_frame_decoder_free(&d);
  stream_free(&s);
}

static void test_random_chunking(void **state) {
  uint64_t seed;
  (void)state;

  for (seed = 1; seed <= 6; seed++) {
    run_random(seed * 0x9e3779b97f4a7c15ull, 17);
    run_random(seed * 0x9e3779b97f4a7c15ull + 1, 1500);
    run_random(seed * 0x9e3779b97f4a7c15ull + 2, 70000);
    run_random(seed * 0x9e3779b97f4a7c15ull + 3, 3u * 1024u * 1024u);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header_le),
      cmocka_unit_test(test_split_every_boundary),
      cmocka_unit_test(test_many_frames_one_feed),
      cmocka_unit_test(test_zero_length_frame),
      cmocka_unit_test(test_max_frame_accepted),
      cmocka_unit_test(test_oversized_resync),
      cmocka_unit_test(test_garbage_then_resync),
      cmocka_unit_test(test_stop_from_callback),
      cmocka_unit_test(test_reserve_commit),
      cmocka_unit_test(test_random_chunking),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
