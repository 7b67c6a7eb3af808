#include "sfu_hmap.h"

#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"

#define SFU_HMAP_MIN_BUCKETS 16

/* FNV-1a, 32 bits. */
static uint32_t sfu__hash(const char *key, size_t len) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) {
    h ^= (uint8_t)key[i];
    h *= 16777619u;
  }
  return h;
}

int sfu_hmap_init(sfu_hmap_t *m) {
  m->buckets = calloc(SFU_HMAP_MIN_BUCKETS, sizeof(*m->buckets));
  if (m->buckets == NULL) return SFU_ENOMEM;
  m->nbuckets = SFU_HMAP_MIN_BUCKETS;
  m->count = 0;
  return 0;
}

void sfu_hmap_free(sfu_hmap_t *m) {
  free(m->buckets);
  m->buckets = NULL;
  m->nbuckets = 0;
  m->count = 0;
}

sfu_hnode_t *sfu_hmap_get(const sfu_hmap_t *m, const char *key, size_t key_len) {
  if (m->nbuckets == 0) return NULL;
  uint32_t h = sfu__hash(key, key_len);
  for (sfu_hnode_t *n = m->buckets[h & (m->nbuckets - 1)]; n != NULL; n = n->next) {
    if (n->hash == h && n->key_len == key_len && memcmp(n->key, key, key_len) == 0) return n;
  }
  return NULL;
}

static int sfu__grow(sfu_hmap_t *m) {
  size_t nb = m->nbuckets * 2;
  sfu_hnode_t **b = calloc(nb, sizeof(*b));
  if (b == NULL) return SFU_ENOMEM;
  for (size_t i = 0; i < m->nbuckets; i++) {
    sfu_hnode_t *n = m->buckets[i];
    while (n != NULL) {
      sfu_hnode_t *next = n->next;
      size_t j = n->hash & (nb - 1);
      n->next = b[j];
      b[j] = n;
      n = next;
    }
  }
  free(m->buckets);
  m->buckets = b;
  m->nbuckets = nb;
  return 0;
}

int sfu_hmap_put(sfu_hmap_t *m, sfu_hnode_t *n) {
  if (m->nbuckets == 0) return SFU_ENOMEM;
  if (sfu_hmap_get(m, n->key, n->key_len) != NULL) return SFU_EEXIST;
  if (m->count + 1 > m->nbuckets) {
    /* Growing is best effort: a full table still works, only slower. */
    (void)sfu__grow(m);
  }
  n->hash = sfu__hash(n->key, n->key_len);
  size_t i = n->hash & (m->nbuckets - 1);
  n->next = m->buckets[i];
  m->buckets[i] = n;
  m->count++;
  return 0;
}

int sfu_hmap_del(sfu_hmap_t *m, sfu_hnode_t *n) {
  if (m->nbuckets == 0) return SFU_ENOTFOUND;
  sfu_hnode_t **pp = &m->buckets[n->hash & (m->nbuckets - 1)];
  for (; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == n) {
      *pp = n->next;
      n->next = NULL;
      m->count--;
      return 0;
    }
  }
  return SFU_ENOTFOUND;
}

void sfu_hmap_foreach(const sfu_hmap_t *m, void (*fn)(sfu_hnode_t *n, void *arg), void *arg) {
  for (size_t i = 0; i < m->nbuckets; i++) {
    for (sfu_hnode_t *n = m->buckets[i]; n != NULL; n = n->next) fn(n, arg);
  }
}
