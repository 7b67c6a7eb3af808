/* The data part of the transport base: its data producers and consumers,
 * its SCTP association (when the transport enables SCTP and its concrete
 * type can carry SCTP, ops->send_sctp), the TRANSPORT_*_DATA requests and
 * the data fields of dumps. The base calls these hooks; concrete transports
 * call sfu_transport_receive_sctp() with the SCTP packets they receive. */
#ifndef SFU_TRANSPORT_DATA_H
#define SFU_TRANSPORT_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "fb.h"
#include "sfu_hmap.h"
#include "sfu_list.h"
#include "sfu_request.h"
#include "sfu_sctp_assoc.h"

typedef struct sfu_transport sfu_transport_t;
typedef struct sfu_data_producer sfu_data_producer_t;
typedef struct sfu_data_consumer sfu_data_consumer_t;
typedef struct sfu_data_route sfu_data_route_t;

typedef struct sfu_transport_data {
  sfu_hmap_t producers; /* by id */
  sfu_list_t producer_list;
  sfu_hmap_t streams; /* SCTP listener: stream id -> data producer */
  sfu_hmap_t consumers;
  sfu_list_t consumer_list;
  sfu_sctp_assoc_t *sctp;
  sfu_sctp_state_t sctp_state;
  uint32_t default_low_threshold;
} sfu_transport_data_t;

int sfu_transport_data_init(sfu_transport_t *t, fb_table_t base_options);
/* Closes data producers and consumers (telling the router) and the association. */
void sfu_transport_data_close(sfu_transport_t *t);
void sfu_transport_data_free(sfu_transport_t *t);
/* The transport became connected: the association starts. */
void sfu_transport_data_on_connected(sfu_transport_t *t);
/* TRANSPORT_PRODUCE_DATA, CONSUME_DATA, CLOSE_DATAPRODUCER, CLOSE_DATACONSUMER; false if not one. */
bool sfu_transport_data_on_request(sfu_transport_t *t, sfu_request_t *req);

/* SCTP packet from the peer (DTLS application data, or UDP for plain and pipe
 * transports); the caller has counted its bytes in t->stats. */
void sfu_transport_receive_sctp(sfu_transport_t *t, const uint8_t *p, size_t len);

/* Dump fields. */
fb_ref_t sfu_transport_data_producer_ids(sfu_transport_t *t, fb_builder_t *b);
fb_ref_t sfu_transport_data_consumer_ids(sfu_transport_t *t, fb_builder_t *b);
fb_ref_t sfu_transport_data_sctp_listener(sfu_transport_t *t, fb_builder_t *b);
fb_ref_t sfu_transport_data_sctp_caps(sfu_transport_t *t, fb_builder_t *b);

#endif
