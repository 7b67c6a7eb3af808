/* sfu_subchannels_codec: the route a pipe's SCTP message carries
 * (mediasoup 3.27's layout: magic, flags, count, subchannels, required,
 * ignored, all big-endian). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sfu_subchannels_codec.h"

static const uint8_t subs_be[] = {0x00, 0x7b, 0x02, 0x9a}; /* 123, 666 */

static void test_round_trip(void **state) {
  (void)state;
  sfu_data_route_t r = {0}, back;
  uint8_t buf[64];
  r.sub_be = subs_be, r.nsub_be = 2;
  r.has_required = true, r.required = 777;
  r.has_ignored = true, r.ignored = 5;
  assert_int_equal(sfu_subchannels_header_len(&r, NULL, NULL), 10 + 4 + 2 + 2);
  size_t n = sfu_subchannels_encode(&r, NULL, NULL, buf, sizeof(buf));
  assert_int_equal(n, 18);
  static const uint8_t want[] = {0xa5, 0xf0, 0x9c, 0xb3, 0xd6, 0xe1, 0xf2, 0x8f, 0x00, 0x02, 0x00, 0x7b, 0x02,
                                 0x9a, 0x03, 0x09, 0x00, 0x05};
  assert_memory_equal(buf, want, sizeof(want));
  memcpy(buf + n, "hi", 2);
  assert_int_equal(sfu_subchannels_decode(buf, n + 2, &back), n);
  assert_int_equal(sfu_data_route_count(&back), 2);
  assert_int_equal(sfu_data_route_sub(&back, 0), 123);
  assert_int_equal(sfu_data_route_sub(&back, 1), 666);
  assert_true(back.has_required && back.required == 777);
  assert_true(back.has_ignored && back.ignored == 5);
}

static bool only_666(const void *arg, uint16_t s) {
  (void)arg;
  return s == 666;
}

static void test_reduced_and_empty(void **state) {
  (void)state;
  sfu_data_route_t r = {0}, back;
  uint8_t buf[32];
  assert_int_equal(sfu_subchannels_header_len(&r, NULL, NULL), 0); /* nothing to carry */
  assert_int_equal(sfu_subchannels_encode(&r, NULL, NULL, buf, sizeof(buf)), 0);
  r.sub_be = subs_be, r.nsub_be = 2;
  size_t n = sfu_subchannels_encode(&r, only_666, NULL, buf, sizeof(buf));
  assert_int_equal(n, 12);
  assert_int_equal(buf[7], 0x8c); /* no flags */
  assert_int_equal(sfu_subchannels_decode(buf, n, &back), 12);
  assert_int_equal(sfu_data_route_count(&back), 1);
  assert_int_equal(sfu_data_route_sub(&back, 0), 666);
  assert_false(back.has_required || back.has_ignored);
  assert_int_equal(sfu_subchannels_encode(&r, NULL, NULL, buf, 13), 0); /* no room: nothing written */
}

static void test_not_a_header(void **state) {
  (void)state;
  sfu_data_route_t back = {0};
  uint8_t buf[32] = {0xa5, 0xf0, 0x9c, 0xb3, 0xd6, 0xe1, 0xf2, 0x8e, 0x00, 0x03, 0x00, 0x01};
  assert_int_equal(sfu_subchannels_decode((const uint8_t *)"hello", 5, &back), 0); /* a plain message */
  assert_int_equal(sfu_subchannels_decode(buf, 9, &back), 0);                     /* shorter than magic + count */
  assert_int_equal(sfu_subchannels_decode(buf, 15, &back), 0); /* 3 subchannels + required announced: 18 bytes */
  assert_null(back.sub_be);
  assert_int_equal(sfu_subchannels_decode(buf, 20, &back), 18); /* with all of them there */
  assert_true(back.has_required && !back.has_ignored);
  buf[0] = 0xa4;
  assert_int_equal(sfu_subchannels_decode(buf, 20, &back), 0); /* wrong magic */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_reduced_and_empty),
      cmocka_unit_test(test_not_a_header),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
