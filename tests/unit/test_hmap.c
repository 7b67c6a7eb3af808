/* The id-keyed intrusive hash map behind the channel handler registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "sfu_error.h"
#include "sfu_hmap.h"
#include "sfu_list.h"

typedef struct item {
  sfu_hnode_t node;
  char id[32];
} item_t;

static void test_put_get_del(void **state) {
  sfu_hmap_t m;
  static item_t items[1000];
  assert_int_equal(sfu_hmap_init(&m), 0);
  for (int i = 0; i < 1000; i++) {
    snprintf(items[i].id, sizeof(items[i].id), "id-%d", i);
    items[i].node.key = items[i].id;
    items[i].node.key_len = strlen(items[i].id);
    assert_int_equal(sfu_hmap_put(&m, &items[i].node), 0);
  }
  assert_int_equal(m.count, 1000);
  assert_true(m.nbuckets >= 1000); /* grew */
  for (int i = 0; i < 1000; i++) {
    sfu_hnode_t *n = sfu_hmap_get(&m, items[i].id, strlen(items[i].id));
    assert_ptr_equal(n, &items[i].node);
  }
  /* Same key again, prefix of a key, absent key. */
  item_t dup = {.node = {.key = "id-7", .key_len = 4}};
  assert_int_equal(sfu_hmap_put(&m, &dup.node), SFU_EEXIST);
  assert_null(sfu_hmap_get(&m, "id-", 3));
  assert_null(sfu_hmap_get(&m, "", 0));
  for (int i = 0; i < 1000; i += 2) assert_int_equal(sfu_hmap_del(&m, &items[i].node), 0);
  assert_int_equal(sfu_hmap_del(&m, &items[0].node), SFU_ENOTFOUND);
  assert_int_equal(m.count, 500);
  for (int i = 0; i < 1000; i++) {
    sfu_hnode_t *n = sfu_hmap_get(&m, items[i].id, strlen(items[i].id));
    if (i % 2 == 0)
      assert_null(n);
    else
      assert_ptr_equal(n, &items[i].node);
  }
  sfu_hmap_free(&m);
}

static void test_binary_keys(void **state) {
  sfu_hmap_t m;
  item_t a = {.node = {.key = "a\0b", .key_len = 3}};
  item_t b = {.node = {.key = "a\0c", .key_len = 3}};
  assert_int_equal(sfu_hmap_init(&m), 0);
  assert_int_equal(sfu_hmap_put(&m, &a.node), 0);
  assert_int_equal(sfu_hmap_put(&m, &b.node), 0);
  assert_ptr_equal(sfu_hmap_get(&m, "a\0c", 3), &b.node);
  assert_null(sfu_hmap_get(&m, "a", 1));
  sfu_hmap_free(&m);
}

typedef struct litem {
  sfu_list_t link;
  int v;
} litem_t;

static void test_list(void **state) {
  sfu_list_t h, h2, *p, *tmp;
  litem_t it[5];
  sfu_list_init(&h);
  sfu_list_init(&h2);
  assert_true(sfu_list_empty(&h));
  for (int i = 0; i < 5; i++) {
    it[i].v = i;
    sfu_list_insert_tail(&h, &it[i].link);
  }
  assert_int_equal(sfu_list_count(&h), 5);
  int expect = 0;
  sfu_list_foreach_safe(p, tmp, &h) {
    litem_t *x = sfu_container_of(p, litem_t, link);
    assert_int_equal(x->v, expect++);
    if (x->v % 2 == 0) sfu_list_remove(p);
  }
  assert_int_equal(sfu_list_count(&h), 2);
  sfu_list_move(&h, &h2);
  assert_true(sfu_list_empty(&h));
  assert_int_equal(sfu_list_count(&h2), 2);
  assert_int_equal(sfu_container_of(h2.next, litem_t, link)->v, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_put_get_del),
      cmocka_unit_test(test_binary_keys),
      cmocka_unit_test(test_list),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
