/* String-keyed hash map with intrusive nodes (chained buckets). The node sits
 * inside the object and points at the object's own copy of the key, so
 * inserting never allocates except when the bucket array grows. Used to find
 * channel handlers, routers, transports... by id. */
#ifndef SFU_HMAP_H
#define SFU_HMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct sfu_hnode {
  struct sfu_hnode *next;
  const char *key; /* not owned: the object's own id */
  size_t key_len;
  uint32_t hash;
} sfu_hnode_t;

typedef struct sfu_hmap {
  sfu_hnode_t **buckets;
  size_t nbuckets; /* power of two */
  size_t count;
} sfu_hmap_t;

int sfu_hmap_init(sfu_hmap_t *m);
void sfu_hmap_free(sfu_hmap_t *m); /* frees buckets only; nodes are the owners' */
sfu_hnode_t *sfu_hmap_get(const sfu_hmap_t *m, const char *key, size_t key_len);
/* 0, SFU_EEXIST if the key is present, SFU_ENOMEM. `n->key`/`n->key_len` set by the caller. */
int sfu_hmap_put(sfu_hmap_t *m, sfu_hnode_t *n);
/* Removes the node if it is in the map; returns 0 or SFU_ENOTFOUND. */
int sfu_hmap_del(sfu_hmap_t *m, sfu_hnode_t *n);

/* Iteration: calls fn for every node; fn must not modify the map. */
void sfu_hmap_foreach(const sfu_hmap_t *m, void (*fn)(sfu_hnode_t *n, void *arg), void *arg);

#endif
