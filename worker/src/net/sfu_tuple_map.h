/* A hash map from 5-tuple (sfu_tuple_t, compared with sfu_tuple_equal) to an
 * owner's pointer: open addressing with linear probing and backward-shift
 * deletion (no tombstones), grown at 50 % load. What a WebRtcServer routes
 * every non-STUN datagram with (mediasoup's mapTupleWebRtcTransport), so a
 * lookup costs one hash and about one probe whatever the number of
 * transports. Values are never NULL. */
#ifndef SFU_TUPLE_MAP_H
#define SFU_TUPLE_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "sfu_tuple.h"

typedef struct sfu_tuple_map_slot {
  sfu_tuple_t tuple;
  void *value; /* NULL: empty slot */
  uint32_t hash;
} sfu_tuple_map_slot_t;

typedef struct sfu_tuple_map {
  sfu_tuple_map_slot_t *slots;
  size_t cap; /* 0 or a power of two */
  size_t count;
} sfu_tuple_map_t;

void sfu_tuple_map_init(sfu_tuple_map_t *m);
void sfu_tuple_map_free(sfu_tuple_map_t *m);
uint32_t sfu_tuple_hash(const sfu_tuple_t *t);
/* The value stored for t, or NULL. */
void *sfu_tuple_map_get(const sfu_tuple_map_t *m, const sfu_tuple_t *t);
/* 0; SFU_EEXIST if t is present (the old value stays); SFU_EINVAL for a NULL
 * value; SFU_ENOMEM. */
int sfu_tuple_map_put(sfu_tuple_map_t *m, const sfu_tuple_t *t, void *value);
/* 0 or SFU_ENOTFOUND. */
int sfu_tuple_map_del(sfu_tuple_map_t *m, const sfu_tuple_t *t);
/* Removes every entry whose value is `value` (a transport going away); the
 * number removed. Walks the whole table: not for the packet path. */
size_t sfu_tuple_map_del_value(sfu_tuple_map_t *m, const void *value);

#endif
