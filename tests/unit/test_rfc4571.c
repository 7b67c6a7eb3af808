/*
 * Unit tests for worker/src/net/sfu_rfc4571 (RFC 4571 frame decoder): splits
 * at every byte, many frames per chunk, maximal frames, null packets, stop
 * from the callback, the zero-copy reserve/commit path and its bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sfu_error.h"
#include "sfu_rfc4571.h"

typedef struct got {
  size_t count;
  size_t lens[4096];
  uint32_t sums[4096];
  size_t stop_at; /* stop the decoder when this many frames arrived (0: never) */
  sfu_rfc4571_decoder_t *d;
  int reentry_rc;
} got_t;

static uint32_t sum(const uint8_t *p, size_t len) {
  uint32_t s = 2166136261u;
  for (size_t i = 0; i < len; i++) s = (s ^ p[i]) * 16777619u;
  return s;
}

static void on_frame(void *arg, const uint8_t *p, size_t len) {
  got_t *g = arg;
  assert_true(len > 0 && len <= SFU_RFC4571_MAX_LEN);
  assert_true(g->count < 4096);
  g->lens[g->count] = len;
  g->sums[g->count] = sum(p, len);
  g->count++;
  if (g->d != NULL) {
    uint8_t *q;
    size_t avail;
    g->reentry_rc = sfu_rfc4571_decoder_reserve(g->d, 16, &q, &avail);
    if (g->stop_at != 0 && g->count == g->stop_at) sfu_rfc4571_decoder_stop(g->d);
  }
}

static void fill(uint8_t *p, size_t len, uint32_t seed) {
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (uint8_t)x;
  }
}

/* Builds a stream of frames with the given payload lengths; payload i is
 * fill(.., i). Returns the stream (caller frees) and its length. */
static uint8_t *build(const size_t *lens, size_t n, size_t *out_len) {
  size_t total = 0, off = 0;
  for (size_t i = 0; i < n; i++) total += SFU_RFC4571_HEADER_LEN + lens[i];
  uint8_t *s = malloc(total > 0 ? total : 1);
  assert_non_null(s);
  for (size_t i = 0; i < n; i++) {
    sfu_rfc4571_write_header(s + off, lens[i]);
    fill(s + off + SFU_RFC4571_HEADER_LEN, lens[i], (uint32_t)i);
    off += SFU_RFC4571_HEADER_LEN + lens[i];
  }
  *out_len = total;
  return s;
}

/* The non-empty frames of lens[] arrived, in order, intact. */
static void check_got(const got_t *g, const size_t *lens, size_t n) {
  size_t k = 0;
  uint8_t *tmp = malloc(SFU_RFC4571_MAX_LEN);
  assert_non_null(tmp);
  for (size_t i = 0; i < n; i++) {
    if (lens[i] == 0) continue;
    assert_true(k < g->count);
    assert_int_equal(g->lens[k], lens[i]);
    fill(tmp, lens[i], (uint32_t)i);
    assert_int_equal(g->sums[k], sum(tmp, lens[i]));
    k++;
  }
  assert_int_equal(g->count, k);
  free(tmp);
}

static void test_header(void **state) {
  (void)state;
  uint8_t h[2];
  sfu_rfc4571_write_header(h, 0x1234);
  assert_int_equal(h[0], 0x12);
  assert_int_equal(h[1], 0x34);
  assert_int_equal(sfu_rfc4571_read_header(h), 0x1234);
  sfu_rfc4571_write_header(h, 65535);
  assert_int_equal(h[0], 0xff);
  assert_int_equal(h[1], 0xff);
  assert_int_equal(sfu_rfc4571_read_header(h), 65535);
}

static const size_t k_lens[] = {1, 0, 20, 3, 0, 0, 200, 1, 2, 1500, 0, 7};
#define K_N (sizeof(k_lens) / sizeof(k_lens[0]))

static void test_split_every_byte_two_chunks(void **state) {
  (void)state;
  size_t len;
  uint8_t *s = build(k_lens, K_N, &len);
  for (size_t cut = 0; cut <= len; cut++) {
    sfu_rfc4571_decoder_t d;
    got_t g;
    memset(&g, 0, sizeof(g));
    sfu_rfc4571_decoder_init(&d);
    int r1 = sfu_rfc4571_decoder_feed(&d, s, cut, on_frame, &g);
    assert_true(r1 >= 0);
    int r2 = sfu_rfc4571_decoder_feed(&d, s + cut, len - cut, on_frame, &g);
    assert_true(r2 >= 0);
    assert_int_equal((size_t)(r1 + r2), g.count);
    check_got(&g, k_lens, K_N);
    assert_int_equal(d.len, 0);
    assert_int_equal(d.empty, 4);
    assert_int_equal(d.frames, K_N - 4);
    sfu_rfc4571_decoder_free(&d);
  }
  free(s);
}

static void test_one_byte_at_a_time(void **state) {
  (void)state;
  size_t len;
  uint8_t *s = build(k_lens, K_N, &len);
  sfu_rfc4571_decoder_t d;
  got_t g;
  memset(&g, 0, sizeof(g));
  sfu_rfc4571_decoder_init(&d);
  for (size_t i = 0; i < len; i++) {
    size_t before = g.count;
    int r = sfu_rfc4571_decoder_feed(&d, s + i, 1, on_frame, &g);
    assert_int_equal((size_t)r, g.count - before);
  }
  check_got(&g, k_lens, K_N);
  assert_int_equal(d.len, 0);
  sfu_rfc4571_decoder_free(&d);
  free(s);
}

/* Every chunk size from 1 to 64 over the reserve/commit path. */
static void test_commit_chunk_sizes(void **state) {
  (void)state;
  size_t len;
  uint8_t *s = build(k_lens, K_N, &len);
  for (size_t cs = 1; cs <= 64; cs++) {
    sfu_rfc4571_decoder_t d;
    got_t g;
    memset(&g, 0, sizeof(g));
    sfu_rfc4571_decoder_init(&d);
    for (size_t off = 0; off < len; off += cs) {
      size_t n = len - off < cs ? len - off : cs;
      uint8_t *p;
      size_t avail;
      assert_int_equal(sfu_rfc4571_decoder_reserve(&d, n, &p, &avail), 0);
      assert_true(avail >= n);
      assert_ptr_equal(p, d.buf + d.len);
      memcpy(p, s + off, n);
      assert_true(sfu_rfc4571_decoder_commit(&d, n, on_frame, &g) >= 0);
    }
    check_got(&g, k_lens, K_N);
    assert_true(d.cap <= SFU_RFC4571_INITIAL_CAP);
    sfu_rfc4571_decoder_free(&d);
  }
  free(s);
}

static void test_many_frames_one_chunk(void **state) {
  (void)state;
  size_t lens[3000], len;
  for (size_t i = 0; i < 3000; i++) lens[i] = (i * 7) % 41; /* includes zeros */
  uint8_t *s = build(lens, 3000, &len);
  sfu_rfc4571_decoder_t d;
  got_t g;
  memset(&g, 0, sizeof(g));
  sfu_rfc4571_decoder_init(&d);
  int r = sfu_rfc4571_decoder_feed(&d, s, len, on_frame, &g);
  assert_int_equal((size_t)r, g.count);
  check_got(&g, lens, 3000);
  assert_int_equal(d.frames + d.empty, 3000);
  assert_int_equal(d.len, 0);
  sfu_rfc4571_decoder_free(&d);
  free(s);
}

static void test_max_frames(void **state) {
  (void)state;
  const size_t lens[] = {65535, 65535, 1, 65535, 0, 65534};
  size_t len;
  uint8_t *s = build(lens, 6, &len);

  /* all at once */
  sfu_rfc4571_decoder_t d;
  got_t g;
  memset(&g, 0, sizeof(g));
  sfu_rfc4571_decoder_init(&d);
  assert_int_equal(sfu_rfc4571_decoder_feed(&d, s, len, on_frame, &g), 5);
  check_got(&g, lens, 6);
  assert_true(d.cap <= SFU_RFC4571_HEADER_LEN + SFU_RFC4571_MAX_LEN + SFU_RFC4571_FEED_CHUNK);
  sfu_rfc4571_decoder_free(&d);

  /* in reads of 4096 via reserve/commit (what a TCP connection does): the
   * buffer grows once to hold a whole frame and stays bounded */
  memset(&g, 0, sizeof(g));
  sfu_rfc4571_decoder_init(&d);
  size_t off = 0;
  while (off < len) {
    uint8_t *p;
    size_t avail;
    assert_int_equal(sfu_rfc4571_decoder_reserve(&d, 4096, &p, &avail), 0);
    size_t n = len - off < avail ? len - off : avail;
    memcpy(p, s + off, n);
    off += n;
    assert_true(sfu_rfc4571_decoder_commit(&d, n, on_frame, &g) >= 0);
    assert_true(d.cap <= SFU_RFC4571_HEADER_LEN + SFU_RFC4571_MAX_LEN + 4096);
  }
  check_got(&g, lens, 6);
  sfu_rfc4571_decoder_free(&d);
  free(s);
}

static void test_only_null_packets(void **state) {
  (void)state;
  uint8_t zeros[100];
  memset(zeros, 0, sizeof(zeros));
  sfu_rfc4571_decoder_t d;
  got_t g;
  memset(&g, 0, sizeof(g));
  sfu_rfc4571_decoder_init(&d);
  assert_int_equal(sfu_rfc4571_decoder_feed(&d, zeros, 99, on_frame, &g), 0);
  assert_int_equal(g.count, 0);
  assert_int_equal(d.empty, 49);
  assert_int_equal(d.len, 1); /* half a LENGTH */
  assert_int_equal(sfu_rfc4571_decoder_feed(&d, zeros, 1, on_frame, &g), 0);
  assert_int_equal(d.empty, 50);
  assert_int_equal(d.len, 0);
  sfu_rfc4571_decoder_free(&d);
}

static void test_partial_kept(void **state) {
  (void)state;
  const size_t lens[] = {10, 300};
  size_t len;
  uint8_t *s = build(lens, 2, &len);
  sfu_rfc4571_decoder_t d;
  got_t g;
  memset(&g, 0, sizeof(g));
  sfu_rfc4571_decoder_init(&d);
  /* first frame + 100 bytes of the second */
  assert_int_equal(sfu_rfc4571_decoder_feed(&d, s, 12 + 100, on_frame, &g), 1);
  assert_int_equal(d.len, 100);
  assert_memory_equal(d.buf, s + 12, 100);
  assert_int_equal(sfu_rfc4571_decoder_feed(&d, s + 112, len - 112, on_frame, &g), 1);
  check_got(&g, lens, 2);
  sfu_rfc4571_decoder_free(&d);
  free(s);
}

static void test_stop_from_callback(void **state) {
  (void)state;
  size_t lens[10], len;
  for (size_t i = 0; i < 10; i++) lens[i] = 5 + i;
  uint8_t *s = build(lens, 10, &len);
  sfu_rfc4571_decoder_t d;
  got_t g;
  memset(&g, 0, sizeof(g));
  sfu_rfc4571_decoder_init(&d);
  g.d = &d;
  g.stop_at = 3;
  assert_int_equal(sfu_rfc4571_decoder_feed(&d, s, len, on_frame, &g), 3);
  assert_int_equal(g.count, 3);
  assert_int_equal(g.reentry_rc, SFU_ESTATE); /* reserve from the callback is refused */
  assert_true(d.stopped);
  assert_null(d.buf);
  assert_int_equal(sfu_rfc4571_decoder_feed(&d, s, len, on_frame, &g), SFU_ESTATE);
  uint8_t *p;
  size_t avail;
  assert_int_equal(sfu_rfc4571_decoder_reserve(&d, 10, &p, &avail), SFU_ESTATE);
  assert_int_equal(sfu_rfc4571_decoder_commit(&d, 0, on_frame, &g), SFU_ESTATE);
  assert_int_equal(g.count, 3);
  sfu_rfc4571_decoder_free(&d);
  free(s);
}

static void test_args(void **state) {
  (void)state;
  sfu_rfc4571_decoder_t d;
  got_t g;
  uint8_t *p;
  size_t avail;
  memset(&g, 0, sizeof(g));
  sfu_rfc4571_decoder_init(&d);
  assert_int_equal(sfu_rfc4571_decoder_reserve(&d, 0, &p, &avail), SFU_EINVAL);
  assert_int_equal(sfu_rfc4571_decoder_reserve(NULL, 1, &p, &avail), SFU_EINVAL);
  assert_int_equal(sfu_rfc4571_decoder_feed(&d, NULL, 1, on_frame, &g), SFU_EINVAL);
  assert_int_equal(sfu_rfc4571_decoder_feed(&d, NULL, 0, on_frame, &g), 0);
  assert_int_equal(sfu_rfc4571_decoder_reserve(&d, 1, &p, &avail), 0);
  assert_int_equal(avail, SFU_RFC4571_INITIAL_CAP);
  assert_int_equal(sfu_rfc4571_decoder_commit(&d, avail + 1, on_frame, &g), SFU_EINVAL);
  assert_int_equal(sfu_rfc4571_decoder_commit(&d, 0, NULL, &g), SFU_EINVAL);
  assert_int_equal(sfu_rfc4571_decoder_reserve(&d, SIZE_MAX, &p, &avail), SFU_ENOMEM);
  sfu_rfc4571_decoder_stop(&d);
  sfu_rfc4571_decoder_stop(&d);
  sfu_rfc4571_decoder_free(&d);
  sfu_rfc4571_decoder_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header),
      cmocka_unit_test(test_split_every_byte_two_chunks),
      cmocka_unit_test(test_one_byte_at_a_time),
      cmocka_unit_test(test_commit_chunk_sizes),
      cmocka_unit_test(test_many_frames_one_chunk),
      cmocka_unit_test(test_max_frames),
      cmocka_unit_test(test_only_null_packets),
      cmocka_unit_test(test_partial_kept),
      cmocka_unit_test(test_stop_from_callback),
      cmocka_unit_test(test_args),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
