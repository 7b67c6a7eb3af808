#include "sfu_data_consumer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_error.h"
#include "sfu_request.h"
#include "sfu_subchannels_codec.h"

static void sfu__on_request(sfu_handler_t *h, sfu_request_t *req);

static char *sfu__dup(const char *s, size_t len) {
  char *d = malloc(len + 1);
  if (d == NULL) return NULL;
  if (len) memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

/* ---- subchannels: a sorted set of uint16 ---- */

static size_t sfu__sub_pos(const sfu_data_consumer_t *dc, uint16_t s) {
  size_t lo = 0, hi = dc->nsub;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (dc->subchannels[mid] < s)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

bool sfu_data_consumer_has_subchannel(const sfu_data_consumer_t *dc, uint16_t s) {
  size_t i = sfu__sub_pos(dc, s);
  return i < dc->nsub && dc->subchannels[i] == s;
}

int sfu_data_consumer_add_subchannel(sfu_data_consumer_t *dc, uint16_t s) {
  size_t i = sfu__sub_pos(dc, s);
  if (i < dc->nsub && dc->subchannels[i] == s) return 0;
  if (dc->nsub == dc->sub_cap) {
    size_t cap = dc->sub_cap ? dc->sub_cap * 2 : 8;
    uint16_t *n = realloc(dc->subchannels, cap * sizeof(*n));
    if (n == NULL) return SFU_ENOMEM;
    dc->subchannels = n;
    dc->sub_cap = cap;
  }
  memmove(dc->subchannels + i + 1, dc->subchannels + i, (dc->nsub - i) * sizeof(uint16_t));
  dc->subchannels[i] = s;
  dc->nsub++;
  return 0;
}

void sfu_data_consumer_remove_subchannel(sfu_data_consumer_t *dc, uint16_t s) {
  size_t i = sfu__sub_pos(dc, s);
  if (i >= dc->nsub || dc->subchannels[i] != s) return;
  memmove(dc->subchannels + i, dc->subchannels + i + 1, (dc->nsub - i - 1) * sizeof(uint16_t));
  dc->nsub--;
}

static int sfu__set_subchannels(sfu_data_consumer_t *dc, fb_vec_t v) {
  dc->nsub = 0;
  for (uint32_t i = 0; i < v.len; i++) {
    int r = sfu_data_consumer_add_subchannel(dc, fb_vec_u16(v, i));
    if (r != 0) return r;
  }
  return 0;
}

bool sfu_data_consumer_wants(const sfu_data_consumer_t *dc, const sfu_data_route_t *route) {
  size_t n = sfu_data_route_count(route);
  /* a pipe subscribed to nothing carries everything: the far side filters */
  if (dc->pipe && dc->nsub == 0) return true;
  if (route->has_required && !sfu_data_consumer_has_subchannel(dc, route->required)) return false;
  /* a pipe does not apply ignored: it carries it for the consumers behind it */
  if (!dc->pipe && route->has_ignored && sfu_data_consumer_has_subchannel(dc, route->ignored)) return false;
  if (n == 0) return true;
  for (size_t i = 0; i < n; i++)
    if (sfu_data_consumer_has_subchannel(dc, sfu_data_route_sub(route, i))) return true;
  return false;
}

static bool sfu__subscribed(const void *arg, uint16_t s) { return sfu_data_consumer_has_subchannel(arg, s); }

/* ---- lifecycle ---- */

int sfu_data_consumer_create(sfu_ctx_t *ctx, const sfu_data_consumer_listener_t *l, void *arg, fb_table_t req,
                             const sfu_data_producer_t *dp, sfu_data_type_t type, uint32_t max_message_size,
                             uint32_t threshold, sfu_data_consumer_t **out, char *err, size_t err_len) {
  sfu_data_consumer_t *dc;
  fb_str_t id = FBS_Transport_ConsumeDataRequest_data_consumer_id(req);
  int r;
  if (id.len == 0) {
    snprintf(err, err_len, "empty dataConsumerId");
    return SFU_EINVAL;
  }
  if ((dc = calloc(1, sizeof(*dc))) == NULL) return SFU_ENOMEM;
  dc->ctx = ctx;
  dc->listener = l;
  dc->arg = arg;
  dc->type = type;
  dc->max_message_size = max_message_size;
  dc->buffered_amount_low_threshold = threshold;
  dc->paused = FBS_Transport_ConsumeDataRequest_paused(req);
  dc->producer_paused = dp->paused;
  sfu_list_init(&dc->transport_link);
  sfu_list_init(&dc->producer_link);
  if (type == SFU_DATA_SCTP &&
      (r = sfu_sctp_stream_parse(FBS_Transport_ConsumeDataRequest_sctp_stream_parameters(req), &dc->stream, err,
                                 err_len)) != 0)
    goto fail;
  fb_str_t label = FBS_Transport_ConsumeDataRequest_label(req), protocol = FBS_Transport_ConsumeDataRequest_protocol(req);
  /* The library sends the producer's label and protocol; keep the producer's when absent. */
  dc->label_len = label.ptr ? label.len : dp->label_len;
  dc->label = sfu__dup(label.ptr ? label.ptr : dp->label, dc->label_len);
  dc->protocol_len = protocol.ptr ? protocol.len : dp->protocol_len;
  dc->protocol = sfu__dup(protocol.ptr ? protocol.ptr : dp->protocol, dc->protocol_len);
  dc->id_len = id.len;
  dc->id = sfu__dup(id.ptr, id.len);
  dc->producer_id_len = dp->id_len;
  dc->producer_id = sfu__dup(dp->id, dp->id_len);
  if (dc->label == NULL || dc->protocol == NULL || dc->id == NULL || dc->producer_id == NULL ||
      sfu__set_subchannels(dc, FBS_Transport_ConsumeDataRequest_subchannels(req)) != 0) {
    r = SFU_ENOMEM;
    goto fail;
  }
  dc->handler.on_request = sfu__on_request;
  if ((r = sfu_ctx_register(ctx, &dc->handler, dc->id, dc->id_len)) != 0) {
    snprintf(err, err_len, "a DataConsumer with same dataConsumerId already exists");
    goto fail;
  }
  dc->transport_node.key = dc->id;
  dc->transport_node.key_len = dc->id_len;
  *out = dc;
  return 0;
fail:
  free(dc->label);
  free(dc->protocol);
  free(dc->id);
  free(dc->producer_id);
  free(dc->subchannels);
  free(dc);
  return r;
}

static void sfu__reap(sfu_closing_t *c) {
  sfu_data_consumer_t *dc = sfu_container_of(c, sfu_data_consumer_t, closing);
  free(dc->label);
  free(dc->protocol);
  free(dc->id);
  free(dc->producer_id);
  free(dc->subchannels);
  free(dc);
}

void sfu_data_consumer_close(sfu_data_consumer_t *dc) {
  if (dc->closed) return;
  dc->closed = true;
  sfu_ctx_unregister(dc->ctx, &dc->handler);
  sfu_ctx_defer(dc->ctx, &dc->closing, sfu__reap);
}

/* ---- messages ---- */

static bool sfu__active(sfu_data_consumer_t *dc) {
  if (dc->closed || dc->paused || dc->producer_paused) return false;
  return dc->type == SFU_DATA_DIRECT || dc->listener->sctp_ready(dc->arg, dc);
}

static int sfu__deliver(sfu_data_consumer_t *dc, uint32_t ppid, const uint8_t *p, size_t len) {
  if (dc->type == SFU_DATA_DIRECT) {
    fb_builder_t *b = &dc->ctx->fbb;
    fb_ref_t data = fb_create_vec_scalars(b, p, 1, len);
    FBS_DataConsumer_MessageNotification_start(b);
    FBS_DataConsumer_MessageNotification_add_ppid(b, ppid);
    FBS_DataConsumer_MessageNotification_add_data(b, data);
    int r = sfu_ctx_notify(dc->ctx, dc->id, FBS_Notification_Event_DATACONSUMER_MESSAGE,
                           FBS_Notification_Body_DataConsumer_MessageNotification,
                           FBS_DataConsumer_MessageNotification_end(b));
    if (r != 0) return r;
  } else {
    int r = dc->listener->send_sctp(dc->arg, dc, ppid, p, len);
    if (r == SFU_EIO) sfu_data_consumer_send_buffer_full(dc);
    if (r != 0) return r;
  }
  dc->messages_sent++;
  dc->bytes_sent += len;
  return 0;
}

void sfu_data_consumer_send(sfu_data_consumer_t *dc, uint32_t ppid, const uint8_t *p, size_t len,
                            const sfu_data_route_t *route) {
  if (!sfu__active(dc) || !sfu_data_consumer_wants(dc, route)) return;
  /* A pipe prefixes the route (only the subchannels it is subscribed to, if
   * any) so the far router's consumers can apply it. */
  size_t hdr = 0;
  uint8_t *buf = NULL;
  if (dc->pipe) {
    bool (*keep)(const void *, uint16_t) = dc->nsub > 0 ? sfu__subscribed : NULL;
    hdr = sfu_subchannels_header_len(route, keep, dc);
    if (hdr > 0) {
      if (len > SIZE_MAX - hdr || (buf = malloc(hdr + len)) == NULL) return;
      (void)sfu_subchannels_encode(route, keep, dc, buf, hdr);
      if (len > 0) memcpy(buf + hdr, p, len);
      p = buf;
      len += hdr;
    }
  }
  if (dc->max_message_size != 0 && len > dc->max_message_size) {
    SFU_WARN_TAG(&dc->ctx->log, message, "message larger than maxMessageSize not sent [len:%zu, maxMessageSize:%u]",
                 len, dc->max_message_size);
  } else {
    (void)sfu__deliver(dc, ppid, p, len);
  }
  free(buf);
}

void sfu_data_consumer_producer_paused(sfu_data_consumer_t *dc, bool paused) {
  if (dc->producer_paused == paused) return;
  dc->producer_paused = paused;
  sfu_ctx_notify(dc->ctx, dc->id,
                 paused ? FBS_Notification_Event_DATACONSUMER_DATAPRODUCER_PAUSE
                        : FBS_Notification_Event_DATACONSUMER_DATAPRODUCER_RESUME,
                 0, 0);
}

void sfu_data_consumer_producer_closed(sfu_data_consumer_t *dc) {
  sfu_ctx_notify(dc->ctx, dc->id, FBS_Notification_Event_DATACONSUMER_DATAPRODUCER_CLOSE, 0, 0);
  dc->listener->on_producer_closed(dc->arg, dc);
}

static void sfu__notify_low(sfu_data_consumer_t *dc) {
  fb_builder_t *b = &dc->ctx->fbb;
  FBS_DataConsumer_BufferedAmountLowNotification_start(b);
  FBS_DataConsumer_BufferedAmountLowNotification_add_buffered_amount(b, dc->buffered_amount);
  sfu_ctx_notify(dc->ctx, dc->id, FBS_Notification_Event_DATACONSUMER_BUFFERED_AMOUNT_LOW,
                 FBS_Notification_Body_DataConsumer_BufferedAmountLowNotification,
                 FBS_DataConsumer_BufferedAmountLowNotification_end(b));
}

void sfu_data_consumer_buffered_amount(sfu_data_consumer_t *dc, uint32_t amount) {
  uint32_t prev = dc->buffered_amount;
  dc->buffered_amount = amount;
  if (prev > dc->buffered_amount_low_threshold && amount <= dc->buffered_amount_low_threshold) sfu__notify_low(dc);
}

void sfu_data_consumer_send_buffer_full(sfu_data_consumer_t *dc) {
  sfu_ctx_notify(dc->ctx, dc->id, FBS_Notification_Event_DATACONSUMER_SCTP_SENDBUFFER_FULL, 0, 0);
}

/* ---- requests ---- */

static fb_ref_t sfu__subchannels(sfu_data_consumer_t *dc, fb_builder_t *b) {
  return fb_create_vec_scalars(b, dc->subchannels, sizeof(uint16_t), dc->nsub);
}

fb_ref_t sfu_data_consumer_dump(sfu_data_consumer_t *dc, fb_builder_t *b) {
  fb_ref_t id = fb_create_string(b, dc->id, dc->id_len);
  fb_ref_t pid = fb_create_string(b, dc->producer_id, dc->producer_id_len);
  fb_ref_t label = fb_create_string(b, dc->label, dc->label_len);
  fb_ref_t protocol = fb_create_string(b, dc->protocol, dc->protocol_len);
  fb_ref_t subs = sfu__subchannels(dc, b);
  fb_ref_t sp = dc->type == SFU_DATA_SCTP ? sfu_sctp_stream_build(&dc->stream, b) : 0;
  FBS_DataConsumer_DumpResponse_start(b);
  FBS_DataConsumer_DumpResponse_add_id(b, id);
  FBS_DataConsumer_DumpResponse_add_data_producer_id(b, pid);
  FBS_DataConsumer_DumpResponse_add_type(b, (uint8_t)dc->type);
  if (sp) FBS_DataConsumer_DumpResponse_add_sctp_stream_parameters(b, sp);
  FBS_DataConsumer_DumpResponse_add_label(b, label);
  FBS_DataConsumer_DumpResponse_add_protocol(b, protocol);
  FBS_DataConsumer_DumpResponse_add_buffered_amount(b, dc->buffered_amount);
  FBS_DataConsumer_DumpResponse_add_buffered_amount_low_threshold(b, dc->buffered_amount_low_threshold);
  FBS_DataConsumer_DumpResponse_add_paused(b, dc->paused);
  FBS_DataConsumer_DumpResponse_add_data_producer_paused(b, dc->producer_paused);
  FBS_DataConsumer_DumpResponse_add_subchannels(b, subs);
  return FBS_DataConsumer_DumpResponse_end(b);
}

static void sfu__send_request(sfu_data_consumer_t *dc, sfu_request_t *req) {
  fb_table_t body;
  if (!sfu_request_body(req, FBS_Request_Body_DataConsumer_SendRequest, &body)) return;
  if (dc->type != SFU_DATA_SCTP) {
    sfu_request_fail(req, SFU_EINVAL, "invalid DataConsumer type (send() needs type 'sctp')");
    return;
  }
  fb_vec_t data = FBS_DataConsumer_SendRequest_data(body);
  if (data.len == 0) {
    sfu_request_fail(req, SFU_EINVAL, "empty message");
    return;
  }
  if (dc->max_message_size != 0 && data.len > dc->max_message_size) {
    sfu_request_fail(req, SFU_EINVAL, "given message exceeds maxMessageSize value [maxMessageSize:%u, len:%u]",
                     dc->max_message_size, data.len);
    return;
  }
  if (!sfu__active(dc)) {
    sfu_request_fail(req, SFU_ESTATE, "DataConsumer not active (paused, DataProducer paused or SCTP not connected)");
    return;
  }
  int r = sfu__deliver(dc, FBS_DataConsumer_SendRequest_ppid(body), data.buf + data.pos, data.len);
  if (r == SFU_EIO) {
    sfu_request_fail(req, r, "sctpsendbufferfull: the SCTP send buffer is full");
    return;
  }
  if (r != 0) {
    sfu_request_fail(req, r, "message not sent: %s", sfu_strerror(r));
    return;
  }
  fb_builder_t *b = &dc->ctx->fbb;
  FBS_DataConsumer_SendResponse_start(b);
  FBS_DataConsumer_SendResponse_add_buffered_amount(b, dc->buffered_amount);
  sfu_request_accept_body(req, FBS_Response_Body_DataConsumer_SendResponse, FBS_DataConsumer_SendResponse_end(b));
}

static void sfu__on_request(sfu_handler_t *h, sfu_request_t *req) {
  sfu_data_consumer_t *dc = sfu_container_of(h, sfu_data_consumer_t, handler);
  fb_builder_t *b = &dc->ctx->fbb;
  fb_table_t body;
  switch (req->method) {
    case FBS_Request_Method_DATACONSUMER_DUMP:
      sfu_request_accept_body(req, FBS_Response_Body_DataConsumer_DumpResponse, sfu_data_consumer_dump(dc, b));
      return;
    case FBS_Request_Method_DATACONSUMER_GET_STATS: {
      fb_ref_t label = fb_create_string(b, dc->label, dc->label_len);
      fb_ref_t protocol = fb_create_string(b, dc->protocol, dc->protocol_len);
      FBS_DataConsumer_GetStatsResponse_start(b);
      FBS_DataConsumer_GetStatsResponse_add_timestamp(b, uv_now(dc->ctx->loop));
      FBS_DataConsumer_GetStatsResponse_add_label(b, label);
      FBS_DataConsumer_GetStatsResponse_add_protocol(b, protocol);
      FBS_DataConsumer_GetStatsResponse_add_messages_sent(b, dc->messages_sent);
      FBS_DataConsumer_GetStatsResponse_add_bytes_sent(b, dc->bytes_sent);
      FBS_DataConsumer_GetStatsResponse_add_buffered_amount(b, dc->buffered_amount);
      sfu_request_accept_body(req, FBS_Response_Body_DataConsumer_GetStatsResponse,
                              FBS_DataConsumer_GetStatsResponse_end(b));
      return;
    }
    case FBS_Request_Method_DATACONSUMER_PAUSE:
      dc->paused = true;
      sfu_request_accept(req);
      return;
    case FBS_Request_Method_DATACONSUMER_RESUME:
      dc->paused = false;
      sfu_request_accept(req);
      return;
    case FBS_Request_Method_DATACONSUMER_GET_BUFFERED_AMOUNT:
      FBS_DataConsumer_GetBufferedAmountResponse_start(b);
      FBS_DataConsumer_GetBufferedAmountResponse_add_buffered_amount(b, dc->buffered_amount);
      sfu_request_accept_body(req, FBS_Response_Body_DataConsumer_GetBufferedAmountResponse,
                              FBS_DataConsumer_GetBufferedAmountResponse_end(b));
      return;
    case FBS_Request_Method_DATACONSUMER_SET_BUFFERED_AMOUNT_LOW_THRESHOLD:
      if (!sfu_request_body(req, FBS_Request_Body_DataConsumer_SetBufferedAmountLowThresholdRequest, &body)) return;
      dc->buffered_amount_low_threshold = FBS_DataConsumer_SetBufferedAmountLowThresholdRequest_threshold(body);
      sfu_request_accept(req);
      /* Already at or below it: say so now, as the library expects. */
      if (dc->type == SFU_DATA_SCTP && dc->buffered_amount <= dc->buffered_amount_low_threshold) sfu__notify_low(dc);
      return;
    case FBS_Request_Method_DATACONSUMER_SEND:
      sfu__send_request(dc, req);
      return;
    case FBS_Request_Method_DATACONSUMER_SET_SUBCHANNELS:
      if (!sfu_request_body(req, FBS_Request_Body_DataConsumer_SetSubchannelsRequest, &body)) return;
      if (sfu__set_subchannels(dc, FBS_DataConsumer_SetSubchannelsRequest_subchannels(body)) != 0) {
        sfu_request_fail(req, SFU_ENOMEM, "out of memory");
        return;
      }
      {
        fb_ref_t subs = sfu__subchannels(dc, b);
        FBS_DataConsumer_SetSubchannelsResponse_start(b);
        FBS_DataConsumer_SetSubchannelsResponse_add_subchannels(b, subs);
        sfu_request_accept_body(req, FBS_Response_Body_DataConsumer_SetSubchannelsResponse,
                                FBS_DataConsumer_SetSubchannelsResponse_end(b));
      }
      return;
    case FBS_Request_Method_DATACONSUMER_ADD_SUBCHANNEL:
      if (!sfu_request_body(req, FBS_Request_Body_DataConsumer_AddSubchannelRequest, &body)) return;
      if (sfu_data_consumer_add_subchannel(dc, FBS_DataConsumer_AddSubchannelRequest_subchannel(body)) != 0) {
        sfu_request_fail(req, SFU_ENOMEM, "out of memory");
        return;
      }
      {
        fb_ref_t subs = sfu__subchannels(dc, b);
        FBS_DataConsumer_AddSubchannelResponse_start(b);
        FBS_DataConsumer_AddSubchannelResponse_add_subchannels(b, subs);
        sfu_request_accept_body(req, FBS_Response_Body_DataConsumer_AddSubchannelResponse,
                                FBS_DataConsumer_AddSubchannelResponse_end(b));
      }
      return;
    case FBS_Request_Method_DATACONSUMER_REMOVE_SUBCHANNEL:
      if (!sfu_request_body(req, FBS_Request_Body_DataConsumer_RemoveSubchannelRequest, &body)) return;
      sfu_data_consumer_remove_subchannel(dc, FBS_DataConsumer_RemoveSubchannelRequest_subchannel(body));
      {
        fb_ref_t subs = sfu__subchannels(dc, b);
        FBS_DataConsumer_RemoveSubchannelResponse_start(b);
        FBS_DataConsumer_RemoveSubchannelResponse_add_subchannels(b, subs);
        sfu_request_accept_body(req, FBS_Response_Body_DataConsumer_RemoveSubchannelResponse,
                                FBS_DataConsumer_RemoveSubchannelResponse_end(b));
      }
      return;
    default:
      sfu_request_not_implemented(req);
      return;
  }
}
