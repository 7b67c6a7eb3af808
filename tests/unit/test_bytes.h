/* Helpers shared by the packet parser tests: hex fixtures and a small
 * deterministic PRNG (xorshift64*). Include after <cmocka.h>. */
#ifndef TEST_BYTES_H
#define TEST_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* Decodes hex digits into out, ignoring spaces and newlines; an odd digit count fails the test. */
static inline size_t hex(const char *s, uint8_t *out) {
  size_t n = 0;
  int hi = -1, v;

  for (; *s; s++) {
    char c = *s;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else continue;
    if (hi < 0) {
      hi = v;
    } else {
      out[n++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  assert_int_equal(hi, -1);
  return n;
}

static inline uint64_t rng(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

#endif
