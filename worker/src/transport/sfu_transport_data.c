#include "sfu_transport_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_data_consumer.h"
#include "sfu_data_producer.h"
#include "sfu_error.h"
#include "sfu_subchannels_codec.h"
#include "sfu_transport.h"

#define TD(t) (&(t)->data)

/* ---- what the association tells us ---- */

static void sfu__sctp_send(void *arg, const uint8_t *p, size_t len) {
  sfu_transport_t *t = arg;
  t->ops->send_sctp(t, p, len);
}

static void sfu__sctp_state(void *arg, sfu_sctp_state_t state) {
  sfu_transport_t *t = arg;
  fb_builder_t *b = &t->ctx->fbb;
  TD(t)->sctp_state = state;
  if (t->closed) return;
  if (state == SFU_SCTP_CONNECTED) {
    fb_ref_t caps = sfu_transport_data_sctp_caps(t, b);
    FBS_Transport_SctpNegotiatedCapabilitiesNotification_start(b);
    FBS_Transport_SctpNegotiatedCapabilitiesNotification_add_negotiated_capabilities(b, caps);
    sfu_ctx_notify(t->ctx, t->id, FBS_Notification_Event_TRANSPORT_SCTP_NEGOTIATED_CAPABILITIES,
                   FBS_Notification_Body_Transport_SctpNegotiatedCapabilitiesNotification,
                   FBS_Transport_SctpNegotiatedCapabilitiesNotification_end(b));
  }
  FBS_Transport_SctpStateChangeNotification_start(b);
  FBS_Transport_SctpStateChangeNotification_add_sctp_state(b, (uint8_t)state);
  sfu_ctx_notify(t->ctx, t->id, FBS_Notification_Event_TRANSPORT_SCTP_STATE_CHANGE,
                 FBS_Notification_Body_Transport_SctpStateChangeNotification,
                 FBS_Transport_SctpStateChangeNotification_end(b));
}

static void sfu__sctp_message(void *arg, uint16_t sid, uint32_t ppid, const uint8_t *p, size_t len) {
  sfu_transport_t *t = arg;
  char key[2] = {(char)(sid >> 8), (char)(sid & 0xff)};
  sfu_hnode_t *n = sfu_hmap_get(&TD(t)->streams, key, 2);
  if (n == NULL) {
    SFU_DEBUG_TAG(&t->ctx->log, sctp, "SCTP message on a stream without DataProducer dropped [streamId:%u, ppid:%u]",
                  sid, ppid);
    return;
  }
  sfu_data_route_t route;
  size_t hdr = t->pipe ? sfu_subchannels_decode(p, len, &route) : 0;
  sfu_data_producer_receive(sfu_container_of(n, sfu_data_producer_t, stream_node), ppid, p + hdr, len - hdr,
                            hdr > 0 ? &route : NULL);
}

static void sfu__sctp_buffered(void *arg, uint32_t amount) {
  sfu_transport_t *t = arg;
  sfu_list_t *it, *tmp;
  sfu_list_foreach_safe(it, tmp, &TD(t)->consumer_list) {
    sfu_data_consumer_t *dc = sfu_container_of(it, sfu_data_consumer_t, transport_link);
    if (dc->type == SFU_DATA_SCTP) sfu_data_consumer_buffered_amount(dc, amount);
  }
}

static const sfu_sctp_assoc_listener_t sfu__sctp_listener = {
    .send = sfu__sctp_send,
    .on_state = sfu__sctp_state,
    .on_message = sfu__sctp_message,
    .on_buffered_amount = sfu__sctp_buffered,
};

/* ---- what data producers and consumers tell us ---- */

static void sfu__dp_message(void *arg, sfu_data_producer_t *dp, uint32_t ppid, const uint8_t *p, size_t len,
                            const sfu_data_route_t *route) {
  sfu_transport_t *t = arg;
  t->listener->on_data_producer_message(t->listener_arg, dp, ppid, p, len, route);
}

static void sfu__dp_paused(void *arg, sfu_data_producer_t *dp, bool paused) {
  sfu_transport_t *t = arg;
  t->listener->on_data_producer_paused(t->listener_arg, dp, paused);
}

static const sfu_data_producer_listener_t sfu__dp_listener = {.on_message = sfu__dp_message,
                                                              .on_paused = sfu__dp_paused};

static int sfu__dc_send_sctp(void *arg, sfu_data_consumer_t *dc, uint32_t ppid, const uint8_t *p, size_t len) {
  sfu_transport_t *t = arg;
  if (TD(t)->sctp == NULL) return SFU_ESTATE;
  return sfu_sctp_assoc_send(TD(t)->sctp, dc->stream.stream_id, ppid, p, len, &dc->stream.send);
}

static bool sfu__dc_ready(void *arg, sfu_data_consumer_t *dc) {
  sfu_transport_t *t = arg;
  (void)dc;
  /* while the association connects usrsctp queues what is sent */
  return TD(t)->sctp != NULL && (TD(t)->sctp_state == SFU_SCTP_CONNECTED || TD(t)->sctp_state == SFU_SCTP_CONNECTING) &&
         t->ops->connected(t);
}

static void sfu__remove_consumer(sfu_transport_t *t, sfu_data_consumer_t *dc) {
  sfu_hmap_del(&TD(t)->consumers, &dc->transport_node);
  sfu_list_remove(&dc->transport_link);
  t->listener->on_data_consumer_closed(t->listener_arg, dc);
  if (dc->type == SFU_DATA_SCTP && TD(t)->sctp != NULL && !t->closed)
    sfu_sctp_assoc_reset_stream(TD(t)->sctp, dc->stream.stream_id);
  sfu_data_consumer_close(dc);
}

static void sfu__dc_producer_closed(void *arg, sfu_data_consumer_t *dc) { sfu__remove_consumer(arg, dc); }

static const sfu_data_consumer_listener_t sfu__dc_listener = {
    .send_sctp = sfu__dc_send_sctp, .sctp_ready = sfu__dc_ready, .on_producer_closed = sfu__dc_producer_closed};

static void sfu__remove_producer(sfu_transport_t *t, sfu_data_producer_t *dp) {
  sfu_hmap_del(&TD(t)->producers, &dp->transport_node);
  if (dp->type == SFU_DATA_SCTP) sfu_hmap_del(&TD(t)->streams, &dp->stream_node);
  sfu_list_remove(&dp->transport_link);
  t->listener->on_data_producer_closed(t->listener_arg, t, dp);
  if (dp->type == SFU_DATA_SCTP && TD(t)->sctp != NULL && !t->closed)
    sfu_sctp_assoc_reset_stream(TD(t)->sctp, dp->stream.stream_id);
  sfu_data_producer_close(dp);
}

/* ---- lifecycle ---- */

int sfu_transport_data_init(sfu_transport_t *t, fb_table_t base) {
  sfu_transport_data_t *d = TD(t);
  int r;
  sfu_list_init(&d->producer_list);
  sfu_list_init(&d->consumer_list);
  d->default_low_threshold = base.buf != NULL
                                 ? FBS_Transport_Options_sctp_default_stream_buffered_amount_low_threshold(base)
                                 : 0;
  if ((r = sfu_hmap_init(&d->producers)) != 0) return r;
  if ((r = sfu_hmap_init(&d->streams)) != 0) goto fail_streams;
  if ((r = sfu_hmap_init(&d->consumers)) != 0) goto fail_consumers;
  if (t->enable_sctp && !t->direct && t->ops->send_sctp != NULL) {
    sfu_sctp_options_t o = {
        .max_send_message_size = t->sctp_max_send_message_size,
        .max_receive_message_size = t->sctp_max_receive_message_size,
        .send_buffer_size = t->sctp_send_buffer_size,
        .per_stream_send_queue_limit = t->sctp_per_stream_send_queue_limit,
        .max_receiver_window_buffer_size = t->sctp_max_receiver_window_buffer_size,
        .is_data_channel = t->sctp_is_data_channel,
    };
    if ((r = sfu_sctp_assoc_create(t->ctx, &o, &sfu__sctp_listener, t, &d->sctp)) != 0) goto fail_sctp;
  }
  return 0;
fail_sctp:
  sfu_hmap_free(&d->consumers);
fail_consumers:
  sfu_hmap_free(&d->streams);
fail_streams:
  sfu_hmap_free(&d->producers);
  return r;
}

void sfu_transport_data_close(sfu_transport_t *t) {
  sfu_transport_data_t *d = TD(t);
  while (!sfu_list_empty(&d->producer_list))
    sfu__remove_producer(t, sfu_container_of(d->producer_list.next, sfu_data_producer_t, transport_link));
  while (!sfu_list_empty(&d->consumer_list))
    sfu__remove_consumer(t, sfu_container_of(d->consumer_list.next, sfu_data_consumer_t, transport_link));
  if (d->sctp != NULL) {
    sfu_sctp_assoc_t *a = d->sctp;
    sfu_sctp_assoc_destroy(a); /* its ABORT still goes out through ops->send_sctp */
    d->sctp = NULL;
  }
}

void sfu_transport_data_free(sfu_transport_t *t) {
  sfu_hmap_free(&TD(t)->producers);
  sfu_hmap_free(&TD(t)->streams);
  sfu_hmap_free(&TD(t)->consumers);
}

void sfu_transport_data_on_connected(sfu_transport_t *t) {
  if (TD(t)->sctp != NULL) sfu_sctp_assoc_connect(TD(t)->sctp);
}

void sfu_transport_receive_sctp(sfu_transport_t *t, const uint8_t *p, size_t len) {
  if (t->closed || TD(t)->sctp == NULL) {
    SFU_DEBUG_TAG(&t->ctx->log, sctp, "SCTP packet on a transport without SCTP dropped [len:%zu]", len);
    return;
  }
  sfu_sctp_assoc_receive(TD(t)->sctp, p, len);
}

/* ---- requests ---- */

static void sfu__produce_data(sfu_transport_t *t, sfu_request_t *req) {
  fb_table_t body;
  sfu_data_producer_t *dp;
  char err[256] = "";
  int r;
  if (!sfu_request_body(req, FBS_Request_Body_Transport_ProduceDataRequest, &body)) return;
  sfu_data_type_t type = FBS_Transport_ProduceDataRequest_type(body) == FBS_DataProducer_Type_DIRECT ? SFU_DATA_DIRECT
                                                                                                   : SFU_DATA_SCTP;
  if (type == SFU_DATA_SCTP && TD(t)->sctp == NULL) {
    sfu_request_fail(req, SFU_EINVAL, "cannot create a DataProducer of type 'sctp': SCTP not enabled in this transport");
    return;
  }
  if (type == SFU_DATA_DIRECT && !t->direct) {
    sfu_request_fail(req, SFU_EINVAL, "a DataProducer of type 'direct' needs a DirectTransport");
    return;
  }
  fb_str_t id = FBS_Transport_ProduceDataRequest_data_producer_id(body);
  if (sfu_ctx_find(t->ctx, id.ptr, id.len) != NULL) {
    sfu_request_fail(req, SFU_EEXIST, "a DataProducer with same dataProducerId already exists");
    return;
  }
  if ((r = sfu_data_producer_create(t->ctx, &sfu__dp_listener, t, body, type, t->sctp_max_receive_message_size, &dp, err,
                                    sizeof(err))) != 0) {
    sfu_request_fail(req, r, "%s", err[0] ? err : sfu_strerror(r));
    return;
  }
  if (type == SFU_DATA_SCTP && sfu_hmap_get(&TD(t)->streams, dp->stream_key, 2) != NULL) {
    sfu_request_fail(req, SFU_EEXIST, "streamId already exists in SCTP listener [streamId:%u]", dp->stream.stream_id);
    sfu_data_producer_close(dp);
    return;
  }
  if (t->listener->on_data_producer_new(t->listener_arg, t, dp) != 0) {
    sfu_request_fail(req, SFU_EEXIST, "a DataProducer with same dataProducerId already exists");
    sfu_data_producer_close(dp);
    return;
  }
  sfu_hmap_put(&TD(t)->producers, &dp->transport_node);
  if (type == SFU_DATA_SCTP) sfu_hmap_put(&TD(t)->streams, &dp->stream_node);
  sfu_list_insert_tail(&TD(t)->producer_list, &dp->transport_link);
  sfu_request_accept_body(req, FBS_Response_Body_DataProducer_DumpResponse, sfu_data_producer_dump(dp, &t->ctx->fbb));
}

static void sfu__consume_data(sfu_transport_t *t, sfu_request_t *req) {
  fb_table_t body;
  sfu_data_consumer_t *dc;
  char err[256] = "";
  int r;
  if (!sfu_request_body(req, FBS_Request_Body_Transport_ConsumeDataRequest, &body)) return;
  sfu_data_type_t type = FBS_Transport_ConsumeDataRequest_type(body) == FBS_DataConsumer_Type_DIRECT ? SFU_DATA_DIRECT
                                                                                                   : SFU_DATA_SCTP;
  fb_str_t pid = FBS_Transport_ConsumeDataRequest_data_producer_id(body);
  sfu_data_producer_t *dp = t->listener->get_data_producer(t->listener_arg, pid.ptr, pid.len);
  if (dp == NULL) {
    sfu_request_fail(req, SFU_ENOTFOUND, "DataProducer not found [dataProducerId:%.*s]", (int)pid.len, pid.ptr);
    return;
  }
  if (type == SFU_DATA_SCTP && TD(t)->sctp == NULL) {
    sfu_request_fail(req, SFU_EINVAL, "cannot create a DataConsumer of type 'sctp': SCTP not enabled in this transport");
    return;
  }
  if (type == SFU_DATA_DIRECT && !t->direct) {
    sfu_request_fail(req, SFU_EINVAL, "a DataConsumer of type 'direct' needs a DirectTransport");
    return;
  }
  fb_str_t id = FBS_Transport_ConsumeDataRequest_data_consumer_id(body);
  if (sfu_ctx_find(t->ctx, id.ptr, id.len) != NULL) {
    sfu_request_fail(req, SFU_EEXIST, "a DataConsumer with same dataConsumerId already exists");
    return;
  }
  uint32_t max = t->sctp_max_send_message_size;
  if ((r = sfu_data_consumer_create(t->ctx, &sfu__dc_listener, t, body, dp, type, max, TD(t)->default_low_threshold,
                                    &dc, err, sizeof(err))) != 0) {
    sfu_request_fail(req, r, "%s", err[0] ? err : sfu_strerror(r));
    return;
  }
  dc->pipe = t->pipe && type == SFU_DATA_SCTP;
  sfu_hmap_put(&TD(t)->consumers, &dc->transport_node);
  sfu_list_insert_tail(&TD(t)->consumer_list, &dc->transport_link);
  t->listener->on_data_consumer_new(t->listener_arg, dc, dp);
  if (TD(t)->sctp != NULL) dc->buffered_amount = TD(t)->sctp->buffered_amount;
  sfu_request_accept_body(req, FBS_Response_Body_DataConsumer_DumpResponse, sfu_data_consumer_dump(dc, &t->ctx->fbb));
}

bool sfu_transport_data_on_request(sfu_transport_t *t, sfu_request_t *req) {
  fb_table_t body;
  sfu_hnode_t *n;
  switch (req->method) {
    case FBS_Request_Method_TRANSPORT_PRODUCE_DATA:
      sfu__produce_data(t, req);
      return true;
    case FBS_Request_Method_TRANSPORT_CONSUME_DATA:
      sfu__consume_data(t, req);
      return true;
    case FBS_Request_Method_TRANSPORT_CLOSE_DATAPRODUCER: {
      if (!sfu_request_body(req, FBS_Request_Body_Transport_CloseDataProducerRequest, &body)) return true;
      fb_str_t id = FBS_Transport_CloseDataProducerRequest_data_producer_id(body);
      if ((n = sfu_hmap_get(&TD(t)->producers, id.ptr, id.len)) == NULL) {
        sfu_request_fail(req, SFU_ENOTFOUND, "DataProducer not found");
        return true;
      }
      sfu__remove_producer(t, sfu_container_of(n, sfu_data_producer_t, transport_node));
      sfu_request_accept(req);
      return true;
    }
    case FBS_Request_Method_TRANSPORT_CLOSE_DATACONSUMER: {
      if (!sfu_request_body(req, FBS_Request_Body_Transport_CloseDataConsumerRequest, &body)) return true;
      fb_str_t id = FBS_Transport_CloseDataConsumerRequest_data_consumer_id(body);
      if ((n = sfu_hmap_get(&TD(t)->consumers, id.ptr, id.len)) == NULL) {
        sfu_request_fail(req, SFU_ENOTFOUND, "DataConsumer not found");
        return true;
      }
      sfu__remove_consumer(t, sfu_container_of(n, sfu_data_consumer_t, transport_node));
      sfu_request_accept(req);
      return true;
    }
    default:
      return false;
  }
}

/* ---- dumps ---- */

fb_ref_t sfu_transport_data_producer_ids(sfu_transport_t *t, fb_builder_t *b) {
  size_t n = 0, cap = sfu_list_count(&TD(t)->producer_list);
  fb_ref_t *refs = malloc((cap + 1) * sizeof(*refs));
  sfu_list_t *it;
  if (refs == NULL) return fb_create_vec_refs(b, NULL, 0);
  sfu_list_foreach(it, &TD(t)->producer_list) {
    sfu_data_producer_t *dp = sfu_container_of(it, sfu_data_producer_t, transport_link);
    refs[n++] = fb_create_string(b, dp->id, dp->id_len);
  }
  fb_ref_t v = fb_create_vec_refs(b, refs, n);
  free(refs);
  return v;
}

fb_ref_t sfu_transport_data_consumer_ids(sfu_transport_t *t, fb_builder_t *b) {
  size_t n = 0, cap = sfu_list_count(&TD(t)->consumer_list);
  fb_ref_t *refs = malloc((cap + 1) * sizeof(*refs));
  sfu_list_t *it;
  if (refs == NULL) return fb_create_vec_refs(b, NULL, 0);
  sfu_list_foreach(it, &TD(t)->consumer_list) {
    sfu_data_consumer_t *dc = sfu_container_of(it, sfu_data_consumer_t, transport_link);
    refs[n++] = fb_create_string(b, dc->id, dc->id_len);
  }
  fb_ref_t v = fb_create_vec_refs(b, refs, n);
  free(refs);
  return v;
}

fb_ref_t sfu_transport_data_sctp_listener(sfu_transport_t *t, fb_builder_t *b) {
  size_t n = 0, cap = sfu_list_count(&TD(t)->producer_list);
  fb_ref_t *refs = malloc((cap + 1) * sizeof(*refs));
  sfu_list_t *it;
  fb_ref_t v;
  if (refs == NULL) {
    v = fb_create_vec_refs(b, NULL, 0);
  } else {
    sfu_list_foreach(it, &TD(t)->producer_list) {
      sfu_data_producer_t *dp = sfu_container_of(it, sfu_data_producer_t, transport_link);
      if (dp->type != SFU_DATA_SCTP) continue;
      fb_ref_t val = fb_create_string(b, dp->id, dp->id_len);
      FBS_Common_Uint16String_start(b);
      FBS_Common_Uint16String_add_key(b, dp->stream.stream_id);
      FBS_Common_Uint16String_add_value(b, val);
      refs[n++] = FBS_Common_Uint16String_end(b);
    }
    v = fb_create_vec_refs(b, refs, n);
    free(refs);
  }
  FBS_Transport_SctpListener_start(b);
  FBS_Transport_SctpListener_add_stream_id_table(b, v);
  return FBS_Transport_SctpListener_end(b);
}

fb_ref_t sfu_transport_data_sctp_caps(sfu_transport_t *t, fb_builder_t *b) {
  const sfu_sctp_assoc_t *a = TD(t)->sctp;
  FBS_SctpAssociation_SctpNegotiatedCapabilities_start(b);
  if (a != NULL && a->state == SFU_SCTP_CONNECTED) {
    FBS_SctpAssociation_SctpNegotiatedCapabilities_add_negotiated_max_outbound_streams(b, a->out_streams);
    FBS_SctpAssociation_SctpNegotiatedCapabilities_add_negotiated_max_inbound_streams(b, a->in_streams);
  }
  return FBS_SctpAssociation_SctpNegotiatedCapabilities_end(b);
}
