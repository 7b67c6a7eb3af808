#include "sfu_data_producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_error.h"
#include "sfu_request.h"

static void sfu__on_request(sfu_handler_t *h, sfu_request_t *req);
static void sfu__on_notification(sfu_handler_t *h, sfu_notification_t *n);

static char *sfu__dup(fb_str_t s, size_t *len) {
  char *d = malloc(s.len + 1);
  if (d == NULL) return NULL;
  if (s.len) memcpy(d, s.ptr, s.len);
  d[s.len] = '\0';
  *len = s.len;
  return d;
}

int sfu_data_producer_create(sfu_ctx_t *ctx, const sfu_data_producer_listener_t *l, void *arg, fb_table_t req,
                             sfu_data_type_t type, uint32_t max_message_size, sfu_data_producer_t **out, char *err,
                             size_t err_len) {
  sfu_data_producer_t *dp;
  fb_str_t id = FBS_Transport_ProduceDataRequest_data_producer_id(req);
  int r;
  if (id.len == 0) {
    snprintf(err, err_len, "empty dataProducerId");
    return SFU_EINVAL;
  }
  if ((dp = calloc(1, sizeof(*dp))) == NULL) return SFU_ENOMEM;
  dp->ctx = ctx;
  dp->listener = l;
  dp->arg = arg;
  dp->type = type;
  dp->max_message_size = max_message_size;
  dp->paused = FBS_Transport_ProduceDataRequest_paused(req);
  sfu_list_init(&dp->transport_link);
  sfu_list_init(&dp->consumers);
  if (type == SFU_DATA_SCTP &&
      (r = sfu_sctp_stream_parse(FBS_Transport_ProduceDataRequest_sctp_stream_parameters(req), &dp->stream, err,
                                 err_len)) != 0)
    goto fail;
  dp->id = sfu__dup(id, &dp->id_len);
  dp->label = sfu__dup(FBS_Transport_ProduceDataRequest_label(req), &dp->label_len);
  dp->protocol = sfu__dup(FBS_Transport_ProduceDataRequest_protocol(req), &dp->protocol_len);
  if (dp->id == NULL || dp->label == NULL || dp->protocol == NULL) {
    r = SFU_ENOMEM;
    goto fail;
  }
  dp->handler.on_request = sfu__on_request;
  dp->handler.on_notification = sfu__on_notification;
  if ((r = sfu_ctx_register(ctx, &dp->handler, dp->id, dp->id_len)) != 0) {
    snprintf(err, err_len, "a DataProducer with same dataProducerId already exists");
    goto fail;
  }
  dp->transport_node.key = dp->router_node.key = dp->id;
  dp->transport_node.key_len = dp->router_node.key_len = dp->id_len;
  dp->stream_key[0] = (char)(dp->stream.stream_id >> 8);
  dp->stream_key[1] = (char)(dp->stream.stream_id & 0xff);
  dp->stream_node.key = dp->stream_key;
  dp->stream_node.key_len = 2;
  *out = dp;
  return 0;
fail:
  free(dp->id);
  free(dp->label);
  free(dp->protocol);
  free(dp);
  return r;
}

void sfu_data_producer_receive(sfu_data_producer_t *dp, uint32_t ppid, const uint8_t *p, size_t len,
                               const sfu_data_route_t *route) {
  static const sfu_data_route_t none = {0};
  dp->messages_received++;
  dp->bytes_received += len;
  if (dp->max_message_size != 0 && len > dp->max_message_size) {
    SFU_WARN_TAG(&dp->ctx->log, message, "message larger than maxMessageSize dropped [len:%zu, maxMessageSize:%u]",
                 len, dp->max_message_size);
    return;
  }
  if (dp->paused) return;
  dp->listener->on_message(dp->arg, dp, ppid, p, len, route != NULL ? route : &none);
}

fb_ref_t sfu_data_producer_dump(sfu_data_producer_t *dp, fb_builder_t *b) {
  fb_ref_t id = fb_create_string(b, dp->id, dp->id_len);
  fb_ref_t label = fb_create_string(b, dp->label, dp->label_len);
  fb_ref_t protocol = fb_create_string(b, dp->protocol, dp->protocol_len);
  fb_ref_t sp = dp->type == SFU_DATA_SCTP ? sfu_sctp_stream_build(&dp->stream, b) : 0;
  FBS_DataProducer_DumpResponse_start(b);
  FBS_DataProducer_DumpResponse_add_id(b, id);
  FBS_DataProducer_DumpResponse_add_type(b, (uint8_t)dp->type);
  if (sp) FBS_DataProducer_DumpResponse_add_sctp_stream_parameters(b, sp);
  FBS_DataProducer_DumpResponse_add_label(b, label);
  FBS_DataProducer_DumpResponse_add_protocol(b, protocol);
  FBS_DataProducer_DumpResponse_add_paused(b, dp->paused);
  return FBS_DataProducer_DumpResponse_end(b);
}

static void sfu__set_paused(sfu_data_producer_t *dp, bool paused) {
  if (dp->paused == paused) return;
  dp->paused = paused;
  dp->listener->on_paused(dp->arg, dp, paused);
}

static void sfu__on_request(sfu_handler_t *h, sfu_request_t *req) {
  sfu_data_producer_t *dp = sfu_container_of(h, sfu_data_producer_t, handler);
  fb_builder_t *b = &dp->ctx->fbb;
  switch (req->method) {
    case FBS_Request_Method_DATAPRODUCER_DUMP:
      sfu_request_accept_body(req, FBS_Response_Body_DataProducer_DumpResponse, sfu_data_producer_dump(dp, b));
      return;
    case FBS_Request_Method_DATAPRODUCER_GET_STATS: {
      fb_ref_t label = fb_create_string(b, dp->label, dp->label_len);
      fb_ref_t protocol = fb_create_string(b, dp->protocol, dp->protocol_len);
      FBS_DataProducer_GetStatsResponse_start(b);
      FBS_DataProducer_GetStatsResponse_add_timestamp(b, uv_now(dp->ctx->loop));
      FBS_DataProducer_GetStatsResponse_add_label(b, label);
      FBS_DataProducer_GetStatsResponse_add_protocol(b, protocol);
      FBS_DataProducer_GetStatsResponse_add_messages_received(b, dp->messages_received);
      FBS_DataProducer_GetStatsResponse_add_bytes_received(b, dp->bytes_received);
      FBS_DataProducer_GetStatsResponse_add_buffered_amount(b, 0);
      sfu_request_accept_body(req, FBS_Response_Body_DataProducer_GetStatsResponse,
                              FBS_DataProducer_GetStatsResponse_end(b));
      return;
    }
    case FBS_Request_Method_DATAPRODUCER_PAUSE:
      sfu__set_paused(dp, true);
      sfu_request_accept(req);
      return;
    case FBS_Request_Method_DATAPRODUCER_RESUME:
      sfu__set_paused(dp, false);
      sfu_request_accept(req);
      return;
    default:
      sfu_request_not_implemented(req);
      return;
  }
}

static void sfu__on_notification(sfu_handler_t *h, sfu_notification_t *n) {
  sfu_data_producer_t *dp = sfu_container_of(h, sfu_data_producer_t, handler);
  if (n->event != FBS_Notification_Event_DATAPRODUCER_SEND ||
      n->body_type != FBS_Notification_Body_DataProducer_SendNotification) {
    SFU_DEBUG(&dp->ctx->log, "unexpected DataProducer notification dropped [event:%s]", n->event_name);
    return;
  }
  fb_vec_t data = FBS_DataProducer_SendNotification_data(n->body);
  sfu_data_route_t route = {
      .subchannels = FBS_DataProducer_SendNotification_subchannels(n->body),
      .has_required = FBS_DataProducer_SendNotification_has_required_subchannel(n->body),
      .required = FBS_DataProducer_SendNotification_required_subchannel(n->body),
      .has_ignored = FBS_DataProducer_SendNotification_has_ignored_subchannel(n->body),
      .ignored = FBS_DataProducer_SendNotification_ignored_subchannel(n->body),
  };
  sfu_data_producer_receive(dp, FBS_DataProducer_SendNotification_ppid(n->body), data.buf + data.pos, data.len, &route);
}

static void sfu__reap(sfu_closing_t *c) {
  sfu_data_producer_t *dp = sfu_container_of(c, sfu_data_producer_t, closing);
  free(dp->id);
  free(dp->label);
  free(dp->protocol);
  free(dp);
}

void sfu_data_producer_close(sfu_data_producer_t *dp) {
  if (dp->closed) return;
  dp->closed = true;
  sfu_ctx_unregister(dp->ctx, &dp->handler);
  sfu_ctx_defer(dp->ctx, &dp->closing, sfu__reap);
}
