#include "sfu_direct_transport.h"

#include <stdio.h>
#include <stdlib.h>

#include "fbs_generated.h"
#include "sfu_error.h"

typedef struct sfu_direct_transport {
  sfu_transport_t base;
} sfu_direct_transport_t;

static void sfu__send_rtp(sfu_transport_t *t, uint8_t *buf, size_t len, size_t cap) {
  (void)t, (void)buf, (void)len, (void)cap; /* every packet goes through send_consumer_rtp */
}

static void sfu__send_consumer_rtp(sfu_transport_t *t, sfu_consumer_t *c, const uint8_t *buf, size_t len) {
  fb_builder_t *b = &t->ctx->fbb;
  fb_ref_t data = fb_create_vec_scalars(b, buf, 1, len);
  FBS_Consumer_RtpNotification_start(b);
  FBS_Consumer_RtpNotification_add_data(b, data);
  if (sfu_ctx_notify(t->ctx, c->id, FBS_Notification_Event_CONSUMER_RTP, FBS_Notification_Body_Consumer_RtpNotification,
                     FBS_Consumer_RtpNotification_end(b)) != 0)
    return;
  sfu_transport_account_sent(t, len, false);
  t->stats.rtp_bytes_sent += len;
  sfu_rate_add(&t->stats.rtp_send_rate, sfu_now_ms(t), len);
}

static void sfu__send_rtcp(sfu_transport_t *t, uint8_t *buf, size_t len, size_t cap) {
  (void)cap;
  fb_builder_t *b = &t->ctx->fbb;
  fb_ref_t data = fb_create_vec_scalars(b, buf, 1, len);
  FBS_DirectTransport_RtcpNotification_start(b);
  FBS_DirectTransport_RtcpNotification_add_data(b, data);
  if (sfu_ctx_notify(t->ctx, t->id, FBS_Notification_Event_DIRECTTRANSPORT_RTCP,
                     FBS_Notification_Body_DirectTransport_RtcpNotification,
                     FBS_DirectTransport_RtcpNotification_end(b)) == 0)
    sfu_transport_account_sent(t, len, false);
}

static bool sfu__connected(const sfu_transport_t *t) {
  (void)t;
  return true;
}

static fb_ref_t sfu__dump(sfu_transport_t *t, fb_builder_t *b, uint8_t *body_type) {
  fb_ref_t base = sfu_transport_dump_base(t, b);
  FBS_DirectTransport_DumpResponse_start(b);
  FBS_DirectTransport_DumpResponse_add_base(b, base);
  *body_type = FBS_Response_Body_DirectTransport_DumpResponse;
  return FBS_DirectTransport_DumpResponse_end(b);
}

static bool sfu__on_request(sfu_transport_t *t, sfu_request_t *req) {
  fb_builder_t *b = &t->ctx->fbb;
  switch (req->method) {
    case FBS_Request_Method_TRANSPORT_GET_STATS: {
      fb_ref_t base = sfu_transport_stats_base(t, b);
      FBS_DirectTransport_GetStatsResponse_start(b);
      FBS_DirectTransport_GetStatsResponse_add_base(b, base);
      sfu_request_accept_body(req, FBS_Response_Body_DirectTransport_GetStatsResponse,
                              FBS_DirectTransport_GetStatsResponse_end(b));
      return true;
    }
    default:
      return false;
  }
}

static void sfu__close(sfu_transport_t *t) { sfu_transport_released(t); }

static void sfu__destroy(sfu_transport_t *t) { free(t); }

static const sfu_transport_ops_t sfu__ops = {
    .name = "DirectTransport",
    .send_rtp = sfu__send_rtp,
    .send_rtcp = sfu__send_rtcp,
    .send_consumer_rtp = sfu__send_consumer_rtp,
    .connected = sfu__connected,
    .on_request = sfu__on_request,
    .dump = sfu__dump,
    .close = sfu__close,
    .destroy = sfu__destroy,
};

int sfu_direct_transport_create(const sfu_transport_parent_t *parent, const char *id, size_t id_len, fb_table_t opts,
                                sfu_transport_t **out, char *err, size_t err_len) {
  sfu_direct_transport_t *dt;
  int r;
  fb_table_t base = FBS_DirectTransport_DirectTransportOptions_base(opts);
  if (base.buf == NULL) {
    snprintf(err, err_len, "missing base transport options");
    return SFU_EINVAL;
  }
  if ((dt = calloc(1, sizeof(*dt))) == NULL) return SFU_ENOMEM;
  if ((r = sfu_transport_init(&dt->base, parent, &sfu__ops, id, id_len, base)) != 0) {
    free(dt);
    return r;
  }
  dt->base.direct = true;
  dt->base.enable_sctp = false;
  dt->base.max_message_size = dt->base.sctp_max_send_message_size;
  sfu_transport_on_connected(&dt->base);
  *out = &dt->base;
  return 0;
}
