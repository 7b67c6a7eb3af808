/* DataProducer: messages that enter the router from one endpoint, over an
 * SCTP stream of its transport or sent from Node (type direct, or
 * DATAPRODUCER_SEND). Its transport owns it; the router links its data
 * consumers. It reaches them only through its listener. */
#ifndef SFU_DATA_PRODUCER_H
#define SFU_DATA_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu_ctx.h"
#include "sfu_data_types.h"
#include "sfu_hmap.h"
#include "sfu_list.h"

typedef struct sfu_data_producer sfu_data_producer_t;

/* Which consumers a message is for (DataProducer.send's subchannels, or
 * what a pipe message carried: sfu_subchannels_codec.h). */
typedef struct sfu_data_route {
  fb_vec_t subchannels;  /* uint16s of a FlatBuffers body; len 0: none */
  const uint8_t *sub_be; /* or nsub_be big-endian uint16s (a pipe message) */
  size_t nsub_be;
  bool has_required;
  uint16_t required;
  bool has_ignored; /* not for consumers subscribed to it (pipes excepted) */
  uint16_t ignored;
} sfu_data_route_t;

static inline size_t sfu_data_route_count(const sfu_data_route_t *r) {
  return r->sub_be != NULL ? r->nsub_be : r->subchannels.len;
}
static inline uint16_t sfu_data_route_sub(const sfu_data_route_t *r, size_t i) {
  if (r->sub_be != NULL) return (uint16_t)((r->sub_be[2 * i] << 8) | r->sub_be[2 * i + 1]);
  return fb_vec_u16(r->subchannels, (uint32_t)i);
}

typedef struct sfu_data_producer_listener {
  void (*on_message)(void *arg, sfu_data_producer_t *dp, uint32_t ppid, const uint8_t *p, size_t len,
                     const sfu_data_route_t *route);
  void (*on_paused)(void *arg, sfu_data_producer_t *dp, bool paused);
} sfu_data_producer_listener_t;

struct sfu_data_producer {
  sfu_ctx_t *ctx;
  const sfu_data_producer_listener_t *listener;
  void *arg;
  sfu_handler_t handler;
  char *id;
  size_t id_len;
  sfu_hnode_t transport_node; /* the transport's map, key id */
  sfu_list_t transport_link;
  sfu_hnode_t router_node; /* the router's map, key id */
  sfu_list_t consumers;    /* sfu_data_consumer_t.producer_link, the router's */
  sfu_hnode_t stream_node; /* the transport's SCTP listener, key stream_key */
  char stream_key[2];
  sfu_data_type_t type;
  sfu_sctp_stream_t stream;
  char *label, *protocol;
  size_t label_len, protocol_len;
  bool paused;
  uint32_t max_message_size;
  uint64_t messages_received, bytes_received;
  bool closed;
  sfu_closing_t closing;
};

/* From a TRANSPORT_PRODUCE_DATA body. 0, SFU_EINVAL (err), SFU_EEXIST, SFU_ENOMEM. */
int sfu_data_producer_create(sfu_ctx_t *ctx, const sfu_data_producer_listener_t *l, void *arg, fb_table_t req,
                             sfu_data_type_t type, uint32_t max_message_size, sfu_data_producer_t **out, char *err,
                             size_t err_len);
/* A message from its endpoint: counted, dropped when paused or over the limit, else to the consumers. */
void sfu_data_producer_receive(sfu_data_producer_t *dp, uint32_t ppid, const uint8_t *p, size_t len,
                               const sfu_data_route_t *route);
/* FBS.DataProducer.DumpResponse (also the produceData answer). */
fb_ref_t sfu_data_producer_dump(sfu_data_producer_t *dp, fb_builder_t *b);
/* Unregisters at once, frees after the loop turn. The transport unlinked it. */
void sfu_data_producer_close(sfu_data_producer_t *dp);

#endif
