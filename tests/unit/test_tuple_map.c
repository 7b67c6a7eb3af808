/* The WebRtcServer's tuple -> transport map (worker/src/net/sfu_tuple_map.c),
 * checked against a plain array model under random puts and deletes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"
#include "sfu_tuple_map.h"

static sfu_tuple_t mk(int i, void *sock) {
  sfu_tuple_t t;
  memset(&t, 0, sizeof(t));
  t.proto = (i % 7 == 0) ? SFU_PROTO_TCP : SFU_PROTO_UDP;
  t.sock = sock;
  if (i % 5 == 0) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&t.remote;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)(1000 + i));
    a->sin6_addr.s6_addr[15] = (uint8_t)i;
    a->sin6_addr.s6_addr[0] = 0xfe;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&t.remote;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)(1000 + i % 300));
    a->sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(i / 300));
  }
  return t;
}

static void test_put_get_del(void **state) {
  sfu_tuple_map_t m;
  int sock_a, sock_b;
  static int vals[3000];
  sfu_tuple_map_init(&m);
  assert_null(sfu_tuple_map_get(&m, &(sfu_tuple_t){0}));
  for (int i = 0; i < 3000; i++) {
    sfu_tuple_t t = mk(i, &sock_a);
    assert_int_equal(sfu_tuple_map_put(&m, &t, &vals[i]), 0);
  }
  assert_int_equal(m.count, 3000);
  assert_true(m.cap >= 6000);
  for (int i = 0; i < 3000; i++) {
    sfu_tuple_t t = mk(i, &sock_a);
    assert_ptr_equal(sfu_tuple_map_get(&m, &t), &vals[i]);
    sfu_tuple_t other = mk(i, &sock_b); /* same remote, another socket */
    assert_null(sfu_tuple_map_get(&m, &other));
  }
  sfu_tuple_t t0 = mk(0, &sock_a);
  assert_int_equal(sfu_tuple_map_put(&m, &t0, &vals[1]), SFU_EEXIST);
  assert_int_equal(sfu_tuple_map_put(&m, &t0, NULL), SFU_EINVAL);
  assert_ptr_equal(sfu_tuple_map_get(&m, &t0), &vals[0]);
  for (int i = 0; i < 3000; i += 2) {
    sfu_tuple_t t = mk(i, &sock_a);
    assert_int_equal(sfu_tuple_map_del(&m, &t), 0);
    assert_int_equal(sfu_tuple_map_del(&m, &t), SFU_ENOTFOUND);
  }
  for (int i = 0; i < 3000; i++) {
    sfu_tuple_t t = mk(i, &sock_a);
    assert_ptr_equal(sfu_tuple_map_get(&m, &t), i % 2 ? &vals[i] : NULL);
  }
  sfu_tuple_map_free(&m);
}

/* Random operations against an array model; values shared by several tuples
 * (a transport with several tuples) removed with del_value. */
static void test_model(void **state) {
  enum { N = 600, V = 40, OPS = 200000 };
  sfu_tuple_map_t m;
  void *model[N] = {0};
  static int vals[V];
  int sock;
  uint64_t rng = 12345;
  sfu_tuple_map_init(&m);
  for (int op = 0; op < OPS; op++) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t r = (uint32_t)(rng >> 33);
    int i = (int)(r % N);
    sfu_tuple_t t = mk(i, &sock);
    switch ((r >> 16) % 8) {
    case 0: case 1: case 2: {
      void *v = &vals[(r >> 8) % V];
      int rc = sfu_tuple_map_put(&m, &t, v);
      assert_int_equal(rc, model[i] ? SFU_EEXIST : 0);
      if (!model[i]) model[i] = v;
      break;
    }
    case 3: case 4:
      assert_int_equal(sfu_tuple_map_del(&m, &t), model[i] ? 0 : SFU_ENOTFOUND);
      model[i] = NULL;
      break;
    case 5: {
      void *v = &vals[(r >> 8) % V];
      size_t want = 0;
      for (int j = 0; j < N; j++)
        if (model[j] == v) model[j] = NULL, want++;
      assert_int_equal(sfu_tuple_map_del_value(&m, v), want);
      break;
    }
    default:
      assert_ptr_equal(sfu_tuple_map_get(&m, &t), model[i]);
    }
  }
  size_t count = 0;
  for (int j = 0; j < N; j++) {
    sfu_tuple_t t = mk(j, &sock);
    assert_ptr_equal(sfu_tuple_map_get(&m, &t), model[j]);
    count += model[j] != NULL;
  }
  assert_int_equal(m.count, count);
  sfu_tuple_map_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_put_get_del), cmocka_unit_test(test_model)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
