/* The router's data part: data producers of all its transports by id, each
 * linked to its data consumers, messages fanned out to them, and the two
 * data maps of the router dump. sfu_router.c puts these in its transport
 * listener. */
#ifndef SFU_ROUTER_DATA_H
#define SFU_ROUTER_DATA_H

#include "sfu_data_consumer.h"
#include "sfu_data_producer.h"
#include "sfu_router.h"

int sfu__router_on_data_producer_new(void *arg, sfu_transport_t *t, sfu_data_producer_t *dp);
void sfu__router_on_data_producer_closed(void *arg, sfu_transport_t *t, sfu_data_producer_t *dp);
void sfu__router_on_data_producer_paused(void *arg, sfu_data_producer_t *dp, bool paused);
void sfu__router_on_data_producer_message(void *arg, sfu_data_producer_t *dp, uint32_t ppid, const uint8_t *p,
                                          size_t len, const sfu_data_route_t *route);
sfu_data_producer_t *sfu__router_get_data_producer(void *arg, const char *id, size_t len);
void sfu__router_on_data_consumer_new(void *arg, sfu_data_consumer_t *dc, sfu_data_producer_t *dp);
void sfu__router_on_data_consumer_closed(void *arg, sfu_data_consumer_t *dc);
/* mapDataProducerIdDataConsumerIds and mapDataConsumerIdDataProducerId. */
fb_ref_t sfu__router_dump_data_producers(sfu_router_t *r, fb_builder_t *b);
fb_ref_t sfu__router_dump_data_consumers(sfu_router_t *r, fb_builder_t *b);

#endif
