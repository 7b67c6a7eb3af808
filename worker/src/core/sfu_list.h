/* Intrusive doubly linked list (circular, with a sentinel head), in the style
 * of libuv's queue.h: the node lives inside the object and sfu_container_of()
 * gets the object back, so linking never allocates. */
#ifndef SFU_LIST_H
#define SFU_LIST_H

#include <stddef.h>

typedef struct sfu_list {
  struct sfu_list *next;
  struct sfu_list *prev;
} sfu_list_t;

#define sfu_container_of(ptr, type, member) \
  ((type *)((char *)(ptr) - offsetof(type, member)))

static inline void sfu_list_init(sfu_list_t *h) { h->next = h->prev = h; }

static inline int sfu_list_empty(const sfu_list_t *h) { return h->next == h; }

static inline void sfu_list_insert_tail(sfu_list_t *h, sfu_list_t *n) {
  n->next = h;
  n->prev = h->prev;
  h->prev->next = n;
  h->prev = n;
}

static inline void sfu_list_remove(sfu_list_t *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->next = n->prev = n;
}

/* Moves every node of `from` to the tail of `to`, leaving `from` empty. */
static inline void sfu_list_move(sfu_list_t *from, sfu_list_t *to) {
  if (sfu_list_empty(from)) return;
  from->next->prev = to->prev;
  to->prev->next = from->next;
  from->prev->next = to;
  to->prev = from->prev;
  sfu_list_init(from);
}

static inline size_t sfu_list_count(const sfu_list_t *h) {
  size_t n = 0;
  for (const sfu_list_t *p = h->next; p != h; p = p->next) n++;
  return n;
}

#define sfu_list_foreach(pos, head) \
  for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

/* Safe against removal of `pos` inside the body. */
#define sfu_list_foreach_safe(pos, tmp, head) \
  for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
       (pos) = (tmp), (tmp) = (pos)->next)

#endif
