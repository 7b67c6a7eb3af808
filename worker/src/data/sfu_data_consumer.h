/* DataConsumer: delivers one data producer's messages to one endpoint, over
 * an SCTP stream of its transport (type sctp) or to Node as
 * DATACONSUMER_MESSAGE notifications (type direct). Filters by subchannels,
 * pauses on its own and with its producer, reports the association's
 * buffered amount against its threshold. Its transport owns it; the router
 * links it to its producer. */
#ifndef SFU_DATA_CONSUMER_H
#define SFU_DATA_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu_ctx.h"
#include "sfu_data_producer.h"
#include "sfu_data_types.h"
#include "sfu_hmap.h"
#include "sfu_list.h"

typedef struct sfu_data_consumer sfu_data_consumer_t;

typedef struct sfu_data_consumer_listener {
  /* Sends on the transport's association (type sctp): sfu_sctp_assoc_send's codes, SFU_ESTATE without one. */
  int (*send_sctp)(void *arg, sfu_data_consumer_t *dc, uint32_t ppid, const uint8_t *p, size_t len);
  /* true when the transport and its association are connected. */
  bool (*sctp_ready)(void *arg, sfu_data_consumer_t *dc);
  /* Its producer closed (Node was told): the transport unlinks and closes it. */
  void (*on_producer_closed)(void *arg, sfu_data_consumer_t *dc);
} sfu_data_consumer_listener_t;

struct sfu_data_consumer {
  sfu_ctx_t *ctx;
  const sfu_data_consumer_listener_t *listener;
  void *arg;
  sfu_handler_t handler;
  char *id, *producer_id;
  size_t id_len, producer_id_len;
  sfu_hnode_t transport_node;
  sfu_list_t transport_link;
  sfu_list_t producer_link; /* the router's */
  sfu_data_type_t type;
  bool pipe; /* on a PipeTransport: carries routes, never applies ignored */
  sfu_sctp_stream_t stream;
  char *label, *protocol;
  size_t label_len, protocol_len;
  bool paused, producer_paused;
  uint16_t *subchannels; /* sorted, unique */
  size_t nsub, sub_cap;
  uint32_t max_message_size;
  uint32_t buffered_amount, buffered_amount_low_threshold;
  uint64_t messages_sent, bytes_sent;
  bool closed;
  sfu_closing_t closing;
};

/* From a TRANSPORT_CONSUME_DATA body and its producer. */
int sfu_data_consumer_create(sfu_ctx_t *ctx, const sfu_data_consumer_listener_t *l, void *arg, fb_table_t req,
                             const sfu_data_producer_t *dp, sfu_data_type_t type, uint32_t max_message_size,
                             uint32_t buffered_amount_low_threshold, sfu_data_consumer_t **out, char *err,
                             size_t err_len);
/* One message of its producer (filtered, counted, sent). */
void sfu_data_consumer_send(sfu_data_consumer_t *dc, uint32_t ppid, const uint8_t *p, size_t len,
                            const sfu_data_route_t *route);
void sfu_data_consumer_producer_paused(sfu_data_consumer_t *dc, bool paused);
/* Its producer closed: tells Node (dataproducerclose); the transport closes it next. */
void sfu_data_consumer_producer_closed(sfu_data_consumer_t *dc);
/* The association's buffered amount changed (type sctp). */
void sfu_data_consumer_buffered_amount(sfu_data_consumer_t *dc, uint32_t amount);
/* The association could not take a message. */
void sfu_data_consumer_send_buffer_full(sfu_data_consumer_t *dc);
fb_ref_t sfu_data_consumer_dump(sfu_data_consumer_t *dc, fb_builder_t *b);
void sfu_data_consumer_close(sfu_data_consumer_t *dc);

/* Subchannel set operations (exposed for tests): insert keeps it sorted and unique. */
int sfu_data_consumer_add_subchannel(sfu_data_consumer_t *dc, uint16_t s);
void sfu_data_consumer_remove_subchannel(sfu_data_consumer_t *dc, uint16_t s);
bool sfu_data_consumer_has_subchannel(const sfu_data_consumer_t *dc, uint16_t s);
/* Whether a message with this route is for dc (mediasoup's subchannel rules). */
bool sfu_data_consumer_wants(const sfu_data_consumer_t *dc, const sfu_data_route_t *route);

#endif
