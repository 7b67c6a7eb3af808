#include "sfu_tuple_map.h"

#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"

#define SFU_TUPLE_MAP_MIN_CAP 16

void sfu_tuple_map_init(sfu_tuple_map_t *m) { memset(m, 0, sizeof(*m)); }

void sfu_tuple_map_free(sfu_tuple_map_t *m) {
  free(m->slots);
  memset(m, 0, sizeof(*m));
}

static uint64_t sfu__mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

uint32_t sfu_tuple_hash(const sfu_tuple_t *t) {
  uint64_t h = sfu__mix((uint64_t)t->proto, (uint64_t)(uintptr_t)t->sock);
  const struct sockaddr *sa = (const struct sockaddr *)&t->remote;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    h = sfu__mix(h, ((uint64_t)a->sin_addr.s_addr << 16) | a->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
    uint64_t w[2];
    memcpy(w, &a->sin6_addr, sizeof(w));
    h = sfu__mix(sfu__mix(sfu__mix(h, w[0]), w[1]), a->sin6_port);
  }
  /* final avalanche (splitmix64's) so that the low bits index well */
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return (uint32_t)h;
}

static sfu_tuple_map_slot_t *sfu__find(const sfu_tuple_map_t *m, const sfu_tuple_t *t, uint32_t h) {
  if (m->cap == 0) return NULL;
  size_t mask = m->cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    sfu_tuple_map_slot_t *s = &m->slots[i];
    if (s->value == NULL) return NULL;
    if (s->hash == h && sfu_tuple_equal(&s->tuple, t)) return s;
  }
}

void *sfu_tuple_map_get(const sfu_tuple_map_t *m, const sfu_tuple_t *t) {
  sfu_tuple_map_slot_t *s = sfu__find(m, t, sfu_tuple_hash(t));
  return s != NULL ? s->value : NULL;
}

static void sfu__insert(sfu_tuple_map_slot_t *slots, size_t cap, const sfu_tuple_map_slot_t *src) {
  size_t mask = cap - 1;
  size_t i = src->hash & mask;
  while (slots[i].value != NULL) i = (i + 1) & mask;
  slots[i] = *src;
}

static int sfu__grow(sfu_tuple_map_t *m) {
  size_t cap = m->cap ? m->cap * 2 : SFU_TUPLE_MAP_MIN_CAP;
  sfu_tuple_map_slot_t *slots = calloc(cap, sizeof(*slots));
  if (slots == NULL) return SFU_ENOMEM;
  for (size_t i = 0; i < m->cap; i++)
    if (m->slots[i].value != NULL) sfu__insert(slots, cap, &m->slots[i]);
  free(m->slots);
  m->slots = slots;
  m->cap = cap;
  return 0;
}

int sfu_tuple_map_put(sfu_tuple_map_t *m, const sfu_tuple_t *t, void *value) {
  if (value == NULL) return SFU_EINVAL;
  uint32_t h = sfu_tuple_hash(t);
  if (sfu__find(m, t, h) != NULL) return SFU_EEXIST;
  if ((m->count + 1) * 2 > m->cap) {
    int r = sfu__grow(m);
    if (r != 0) return r;
  }
  sfu_tuple_map_slot_t s = {.tuple = *t, .value = value, .hash = h};
  sfu__insert(m->slots, m->cap, &s);
  m->count++;
  return 0;
}

/* Backward-shift deletion: move later members of the probe run into the hole
 * when their home slot is not between the hole and themselves. */
static void sfu__remove_at(sfu_tuple_map_t *m, size_t hole) {
  size_t mask = m->cap - 1;
  size_t i = hole;
  for (;;) {
    i = (i + 1) & mask;
    if (m->slots[i].value == NULL) break;
    size_t home = m->slots[i].hash & mask;
    /* distance from home to i vs from home to hole, cyclically */
    if (((i - home) & mask) >= ((i - hole) & mask)) {
      m->slots[hole] = m->slots[i];
      hole = i;
    }
  }
  memset(&m->slots[hole], 0, sizeof(m->slots[hole]));
  m->count--;
}

int sfu_tuple_map_del(sfu_tuple_map_t *m, const sfu_tuple_t *t) {
  sfu_tuple_map_slot_t *s = sfu__find(m, t, sfu_tuple_hash(t));
  if (s == NULL) return SFU_ENOTFOUND;
  sfu__remove_at(m, (size_t)(s - m->slots));
  return 0;
}

size_t sfu_tuple_map_del_value(sfu_tuple_map_t *m, const void *value) {
  size_t n = 0;
  for (size_t i = 0; i < m->cap;) {
    if (m->slots[i].value == value && value != NULL) {
      sfu__remove_at(m, i); /* a later entry may have moved into i: look again */
      n++;
    } else {
      i++;
    }
  }
  return n;
}
