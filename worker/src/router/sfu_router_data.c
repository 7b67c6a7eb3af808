#include "sfu_router_data.h"

#include <stdlib.h>

#include "fbs_generated.h"

int sfu__router_on_data_producer_new(void *arg, sfu_transport_t *t, sfu_data_producer_t *dp) {
  sfu_router_t *r = arg;
  (void)t;
  if (sfu_hmap_get(&r->data_producers, dp->id, dp->id_len) != NULL) return -3;
  return sfu_hmap_put(&r->data_producers, &dp->router_node);
}

void sfu__router_on_data_producer_closed(void *arg, sfu_transport_t *t, sfu_data_producer_t *dp) {
  sfu_router_t *r = arg;
  (void)t;
  if (sfu_hmap_get(&r->data_producers, dp->id, dp->id_len) == &dp->router_node)
    sfu_hmap_del(&r->data_producers, &dp->router_node);
  while (!sfu_list_empty(&dp->consumers)) {
    sfu_data_consumer_t *dc = sfu_container_of(dp->consumers.next, sfu_data_consumer_t, producer_link);
    sfu_list_remove(&dc->producer_link);
    sfu_data_consumer_producer_closed(dc); /* its transport closes it */
  }
}

void sfu__router_on_data_producer_paused(void *arg, sfu_data_producer_t *dp, bool paused) {
  sfu_list_t *it;
  (void)arg;
  sfu_list_foreach(it, &dp->consumers) {
    sfu_data_consumer_producer_paused(sfu_container_of(it, sfu_data_consumer_t, producer_link), paused);
  }
}

void sfu__router_on_data_producer_message(void *arg, sfu_data_producer_t *dp, uint32_t ppid, const uint8_t *p,
                                          size_t len, const sfu_data_route_t *route) {
  sfu_list_t *it, *tmp;
  (void)arg;
  sfu_list_foreach_safe(it, tmp, &dp->consumers) {
    sfu_data_consumer_send(sfu_container_of(it, sfu_data_consumer_t, producer_link), ppid, p, len, route);
  }
}

sfu_data_producer_t *sfu__router_get_data_producer(void *arg, const char *id, size_t len) {
  sfu_router_t *r = arg;
  sfu_hnode_t *n = sfu_hmap_get(&r->data_producers, id, len);
  return n != NULL ? sfu_container_of(n, sfu_data_producer_t, router_node) : NULL;
}

void sfu__router_on_data_consumer_new(void *arg, sfu_data_consumer_t *dc, sfu_data_producer_t *dp) {
  (void)arg;
  sfu_list_insert_tail(&dp->consumers, &dc->producer_link);
}

void sfu__router_on_data_consumer_closed(void *arg, sfu_data_consumer_t *dc) {
  (void)arg;
  sfu_list_remove(&dc->producer_link); /* safe when already unlinked */
}

typedef struct sfu__ddump {
  fb_builder_t *b;
  fb_ref_t *refs;
  size_t n, cap;
} sfu__ddump_t;

static void sfu__count(sfu_hnode_t *n, void *arg) {
  size_t *c = arg;
  *c += 1 + sfu_list_count(&sfu_container_of(n, sfu_data_producer_t, router_node)->consumers);
}

static void sfu__p2c(sfu_hnode_t *n, void *arg) {
  sfu__ddump_t *d = arg;
  sfu_data_producer_t *dp = sfu_container_of(n, sfu_data_producer_t, router_node);
  size_t nc = sfu_list_count(&dp->consumers), i = 0;
  fb_ref_t *ids = malloc((nc + 1) * sizeof(*ids));
  sfu_list_t *it;
  if (ids == NULL) return;
  sfu_list_foreach(it, &dp->consumers) {
    sfu_data_consumer_t *dc = sfu_container_of(it, sfu_data_consumer_t, producer_link);
    ids[i++] = fb_create_string(d->b, dc->id, dc->id_len);
  }
  fb_ref_t v = fb_create_vec_refs(d->b, ids, i);
  free(ids);
  fb_ref_t key = fb_create_string(d->b, dp->id, dp->id_len);
  FBS_Common_StringStringArray_start(d->b);
  FBS_Common_StringStringArray_add_key(d->b, key);
  FBS_Common_StringStringArray_add_values(d->b, v);
  if (d->n < d->cap) d->refs[d->n++] = FBS_Common_StringStringArray_end(d->b);
}

static void sfu__c2p(sfu_hnode_t *n, void *arg) {
  sfu__ddump_t *d = arg;
  sfu_data_producer_t *dp = sfu_container_of(n, sfu_data_producer_t, router_node);
  sfu_list_t *it;
  sfu_list_foreach(it, &dp->consumers) {
    sfu_data_consumer_t *dc = sfu_container_of(it, sfu_data_consumer_t, producer_link);
    fb_ref_t k = fb_create_string(d->b, dc->id, dc->id_len);
    fb_ref_t v = fb_create_string(d->b, dp->id, dp->id_len);
    FBS_Common_StringString_start(d->b);
    FBS_Common_StringString_add_key(d->b, k);
    FBS_Common_StringString_add_value(d->b, v);
    if (d->n < d->cap) d->refs[d->n++] = FBS_Common_StringString_end(d->b);
  }
}

static fb_ref_t sfu__dump(sfu_router_t *r, fb_builder_t *b, void (*fn)(sfu_hnode_t *, void *)) {
  size_t cap = 0;
  sfu_hmap_foreach(&r->data_producers, sfu__count, &cap);
  sfu__ddump_t d = {.b = b, .refs = malloc((cap + 1) * sizeof(fb_ref_t)), .n = 0, .cap = cap};
  if (d.refs == NULL) return fb_create_vec_refs(b, NULL, 0);
  sfu_hmap_foreach(&r->data_producers, fn, &d);
  fb_ref_t v = fb_create_vec_refs(b, d.refs, d.n);
  free(d.refs);
  return v;
}

fb_ref_t sfu__router_dump_data_producers(sfu_router_t *r, fb_builder_t *b) { return sfu__dump(r, b, sfu__p2c); }
fb_ref_t sfu__router_dump_data_consumers(sfu_router_t *r, fb_builder_t *b) { return sfu__dump(r, b, sfu__c2p); }
