#include "sfu_router.h"

#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_error.h"
#include "sfu_request.h"

static void sfu__router_dump(sfu_router_t *r, sfu_request_t *req) {
  fb_builder_t *b = &r->ctx->fbb;
  fb_ref_t id = fb_create_string(b, r->id, r->id_len);
  fb_ref_t empty = fb_create_vec_refs(b, NULL, 0);

  FBS_Router_DumpResponse_start(b);
  FBS_Router_DumpResponse_add_id(b, id);
  FBS_Router_DumpResponse_add_transport_ids(b, empty);
  FBS_Router_DumpResponse_add_rtp_observer_ids(b, empty);
  FBS_Router_DumpResponse_add_map_producer_id_consumer_ids(b, empty);
  FBS_Router_DumpResponse_add_map_consumer_id_producer_id(b, empty);
  FBS_Router_DumpResponse_add_map_producer_id_observer_ids(b, empty);
  FBS_Router_DumpResponse_add_map_data_producer_id_data_consumer_ids(b, empty);
  FBS_Router_DumpResponse_add_map_data_consumer_id_data_producer_id(b, empty);
  fb_ref_t dump = FBS_Router_DumpResponse_end(b);
  sfu_request_accept_body(req, FBS_Response_Body_Router_DumpResponse, dump);
}

static void sfu__router_on_request(sfu_handler_t *h, sfu_request_t *req) {
  sfu_router_t *r = sfu_container_of(h, sfu_router_t, handler);

  switch (req->method) {
    case FBS_Request_Method_ROUTER_DUMP:
      sfu__router_dump(r, req);
      break;
    default:
      sfu_request_not_implemented(req);
      break;
  }
}

int sfu_router_create(sfu_ctx_t *ctx, const char *id, size_t id_len, sfu_router_t **out) {
  sfu_router_t *r;
  int err;

  if (id_len == 0) return SFU_EINVAL;
  if ((r = calloc(1, sizeof(*r))) == NULL) return SFU_ENOMEM;
  if ((r->id = malloc(id_len + 1)) == NULL) {
    free(r);
    return SFU_ENOMEM;
  }
  memcpy(r->id, id, id_len);
  r->id[id_len] = '\0';
  r->id_len = id_len;
  r->ctx = ctx;
  sfu_list_init(&r->transports);
  sfu_list_init(&r->rtp_observers);
  sfu_list_init(&r->owner_link);
  r->handler.on_request = sfu__router_on_request;
  if ((err = sfu_ctx_register(ctx, &r->handler, r->id, r->id_len)) != 0) {
    free(r->id);
    free(r);
    return err;
  }
  SFU_DEBUG(&ctx->log, "router created [id:%s]", r->id);
  *out = r;
  return 0;
}

static void sfu__router_reap(sfu_closing_t *c) {
  sfu_router_t *r = sfu_container_of(c, sfu_router_t, closing);
  if (r->close_cb != NULL) r->close_cb(r);
  free(r->id);
  free(r);
}

void sfu_router_close(sfu_router_t *r, sfu_router_close_cb cb) {
  if (r->closed) return;
  r->closed = true;
  r->close_cb = cb;
  sfu_ctx_unregister(r->ctx, &r->handler);
  SFU_DEBUG(&r->ctx->log, "router closed [id:%s]", r->id);
  sfu_ctx_defer(r->ctx, &r->closing, sfu__router_reap);
}
