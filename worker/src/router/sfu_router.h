/* Router: the media "room". It owns its transports and RTP observers, keeps
 * the producers of all its transports by id (consumers find their producer
 * here), links each consumer to its producer and fans every producer's
 * packets out to its consumers, and closes everything below it when it
 * closes. Its transports reach it through the transport listener it fills
 * in; it gives them the worker's environment. */
#ifndef SFU_ROUTER_H
#define SFU_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "sfu_ctx.h"
#include "sfu_hmap.h"
#include "sfu_list.h"
#include "sfu_transport.h"

typedef struct sfu_router sfu_router_t;
typedef struct sfu_rtp_observer sfu_rtp_observer_t;
typedef void (*sfu_router_close_cb)(sfu_router_t *r);

struct sfu_router {
  sfu_ctx_t *ctx;
  const sfu_transport_env_t *env; /* the worker's, given to transports */
  void *data;                     /* owner's */
  sfu_handler_t handler;  /* channel handler, keyed by id */
  sfu_hnode_t owner_node; /* in the worker's router map */
  sfu_list_t owner_link;  /* in the worker's router list */
  char *id;
  size_t id_len;
  sfu_hmap_t transports_by_id;
  sfu_list_t transports;
  sfu_hmap_t producers; /* by id, across all transports */
  sfu_hmap_t data_producers; /* by id, across all transports (sfu_router_data.c) */
  sfu_list_t rtp_observers;
  sfu_closing_t closing;
  sfu_router_close_cb close_cb;
  bool closed;
};

/* 0, SFU_EEXIST (id used by another handler), SFU_ENOMEM. env outlives the router. */
int sfu_router_create(sfu_ctx_t *ctx, const sfu_transport_env_t *env, const char *id, size_t id_len,
                      sfu_router_t **out);
/* Closes children, leaves the channel registry at once; frees after the loop turn, then cb. */
void sfu_router_close(sfu_router_t *r, sfu_router_close_cb cb);

#endif
