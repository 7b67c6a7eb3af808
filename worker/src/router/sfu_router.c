#include "sfu_router.h"

#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_active_speaker_observer.h"
#include "sfu_audio_level_observer.h"
#include "sfu_consumer.h"
#include "sfu_error.h"
#include "sfu_pipe_transport.h"
#include "sfu_plain_transport.h"
#include "sfu_producer.h"
#include "sfu_request.h"
#include "sfu_direct_transport.h"
#include "sfu_router_data.h"
#include "sfu_transport.h"
#include "sfu_webrtc_transport.h"

/* ---- what transports and observers tell us ---- */

static int sfu__on_producer_new(void *arg, sfu_transport_t *t, sfu_producer_t *p) {
  sfu_router_t *r = arg;
  (void)t;
  return sfu_hmap_put(&r->producers, &p->router_node);
}

static sfu_producer_t *sfu__get_producer(void *arg, const char *id, size_t len) {
  sfu_router_t *r = arg;
  sfu_hnode_t *n = sfu_hmap_get(&r->producers, id, len);
  return n != NULL ? sfu_container_of(n, sfu_producer_t, router_node) : NULL;
}

/* Its consumers are unlinked, each told (its transport closes it), and the
 * observers forget it. */
static void sfu__on_producer_closed(void *arg, sfu_transport_t *t, sfu_producer_t *p) {
  sfu_router_t *r = arg;
  sfu_list_t *it;
  (void)t;
  if (sfu_hmap_get(&r->producers, p->id, p->id_len) == &p->router_node) sfu_hmap_del(&r->producers, &p->router_node);
  while (!sfu_list_empty(&p->consumers)) {
    sfu_consumer_t *c = sfu_container_of(p->consumers.next, sfu_consumer_t, producer_link);
    sfu_list_remove(&c->producer_link);
    sfu_consumer_producer_closed(c);
  }
  sfu_list_foreach(it, &r->rtp_observers) {
    sfu_rtp_observer_remove_producer(sfu_container_of(it, sfu_rtp_observer_t, router_link), p);
  }
}

static void sfu__on_producer_paused(void *arg, sfu_producer_t *p, bool paused) {
  sfu_router_t *r = arg;
  sfu_list_t *it;
  sfu_list_foreach(it, &p->consumers) {
    sfu_consumer_producer_paused(sfu_container_of(it, sfu_consumer_t, producer_link), paused);
  }
  sfu_list_foreach(it, &r->rtp_observers) {
    sfu_rtp_observer_producer_paused(sfu_container_of(it, sfu_rtp_observer_t, router_link), p, paused);
  }
}

static void sfu__on_producer_rtp(void *arg, sfu_producer_t *p, const sfu_rtp_packet_t *pkt, uint64_t now_ms) {
  sfu_list_t *it, *tmp;
  (void)arg;
  sfu_list_foreach_safe(it, tmp, &p->consumers) {
    sfu_consumer_send_rtp(sfu_container_of(it, sfu_consumer_t, producer_link), pkt, now_ms);
  }
}

static void sfu__on_producer_score(void *arg, sfu_producer_t *p) {
  sfu_list_t *it;
  (void)arg;
  sfu_list_foreach(it, &p->consumers) {
    sfu_consumer_producer_score(sfu_container_of(it, sfu_consumer_t, producer_link));
  }
}

static void sfu__on_producer_audio_level(void *arg, sfu_producer_t *p, uint8_t level) {
  sfu_router_t *r = arg;
  sfu_list_t *it;
  sfu_list_foreach(it, &r->rtp_observers) {
    sfu_rtp_observer_on_audio_level(sfu_container_of(it, sfu_rtp_observer_t, router_link), p, level);
  }
}

static void sfu__on_consumer_new(void *arg, sfu_consumer_t *c, sfu_producer_t *p) {
  (void)arg;
  sfu_list_insert_tail(&p->consumers, &c->producer_link);
}

static void sfu__on_consumer_closed(void *arg, sfu_consumer_t *c) {
  (void)arg;
  sfu_list_remove(&c->producer_link); /* safe when already unlinked */
}

static void sfu__close_transport(sfu_router_t *r, sfu_transport_t *t);

static void sfu__on_listen_server_closed(void *arg, sfu_transport_t *t) { sfu__close_transport(arg, t); }

static const sfu_transport_listener_t sfu__transport_listener = {
    .on_producer_new = sfu__on_producer_new,
    .on_producer_closed = sfu__on_producer_closed,
    .on_producer_paused = sfu__on_producer_paused,
    .on_producer_rtp = sfu__on_producer_rtp,
    .on_producer_audio_level = sfu__on_producer_audio_level,
    .on_producer_score = sfu__on_producer_score,
    .get_producer = sfu__get_producer,
    .on_consumer_new = sfu__on_consumer_new,
    .on_consumer_closed = sfu__on_consumer_closed,
    .on_listen_server_closed = sfu__on_listen_server_closed,
    .on_data_producer_new = sfu__router_on_data_producer_new,
    .on_data_producer_closed = sfu__router_on_data_producer_closed,
    .on_data_producer_paused = sfu__router_on_data_producer_paused,
    .on_data_producer_message = sfu__router_on_data_producer_message,
    .get_data_producer = sfu__router_get_data_producer,
    .on_data_consumer_new = sfu__router_on_data_consumer_new,
    .on_data_consumer_closed = sfu__router_on_data_consumer_closed,
};

static const sfu_rtp_observer_listener_t sfu__observer_listener = {
    .get_producer = sfu__get_producer,
};

/* ---- dump ---- */

typedef struct sfu__dump_ctx {
  fb_builder_t *b;
  fb_ref_t *refs;
  size_t n;
  sfu_router_t *r;
} sfu__dump_ctx_t;

static void sfu__dump_producer_consumers(sfu_hnode_t *n, void *arg) {
  sfu__dump_ctx_t *d = arg;
  sfu_producer_t *p = sfu_container_of(n, sfu_producer_t, router_node);
  size_t nc = sfu_list_count(&p->consumers), i = 0;
  fb_ref_t *ids = malloc((nc + 1) * sizeof(*ids));
  sfu_list_t *it;
  if (ids == NULL) return;
  sfu_list_foreach(it, &p->consumers) {
    sfu_consumer_t *c = sfu_container_of(it, sfu_consumer_t, producer_link);
    ids[i++] = fb_create_string(d->b, c->id, c->id_len);
  }
  fb_ref_t v = fb_create_vec_refs(d->b, ids, i);
  free(ids);
  fb_ref_t key = fb_create_string(d->b, p->id, p->id_len);
  FBS_Common_StringStringArray_start(d->b);
  FBS_Common_StringStringArray_add_key(d->b, key);
  FBS_Common_StringStringArray_add_values(d->b, v);
  d->refs[d->n++] = FBS_Common_StringStringArray_end(d->b);
}

static void sfu__dump_consumer_producer(sfu_hnode_t *n, void *arg) {
  sfu__dump_ctx_t *d = arg;
  sfu_producer_t *p = sfu_container_of(n, sfu_producer_t, router_node);
  sfu_list_t *it;
  sfu_list_foreach(it, &p->consumers) {
    sfu_consumer_t *c = sfu_container_of(it, sfu_consumer_t, producer_link);
    fb_ref_t k = fb_create_string(d->b, c->id, c->id_len);
    fb_ref_t v = fb_create_string(d->b, p->id, p->id_len);
    FBS_Common_StringString_start(d->b);
    FBS_Common_StringString_add_key(d->b, k);
    FBS_Common_StringString_add_value(d->b, v);
    d->refs[d->n++] = FBS_Common_StringString_end(d->b);
  }
}

static void sfu__dump_producer_observers(sfu_hnode_t *n, void *arg) {
  sfu__dump_ctx_t *d = arg;
  sfu_producer_t *p = sfu_container_of(n, sfu_producer_t, router_node);
  fb_ref_t ids[64];
  size_t i = 0;
  sfu_list_t *it;
  sfu_list_foreach(it, &d->r->rtp_observers) {
    sfu_rtp_observer_t *o = sfu_container_of(it, sfu_rtp_observer_t, router_link);
    if (i < 64 && sfu_rtp_observer_has_producer(o, p)) ids[i++] = fb_create_string(d->b, o->id, o->id_len);
  }
  fb_ref_t v = fb_create_vec_refs(d->b, ids, i);
  fb_ref_t key = fb_create_string(d->b, p->id, p->id_len);
  FBS_Common_StringStringArray_start(d->b);
  FBS_Common_StringStringArray_add_key(d->b, key);
  FBS_Common_StringStringArray_add_values(d->b, v);
  d->refs[d->n++] = FBS_Common_StringStringArray_end(d->b);
}

static void sfu__count_consumers(sfu_hnode_t *n, void *arg) {
  size_t *count = arg;
  *count += sfu_list_count(&sfu_container_of(n, sfu_producer_t, router_node)->consumers);
}

static void sfu__router_dump(sfu_router_t *r, sfu_request_t *req) {
  fb_builder_t *b = &r->ctx->fbb;
  sfu_list_t *it;
  size_t nconsumers = 0;
  sfu_hmap_foreach(&r->producers, sfu__count_consumers, &nconsumers);
  size_t cap = sfu_list_count(&r->transports) + sfu_list_count(&r->rtp_observers) + r->producers.count + nconsumers + 1;
  fb_ref_t *refs = malloc(cap * sizeof(*refs));
  sfu__dump_ctx_t d = {.b = b, .refs = refs, .n = 0, .r = r};
  if (refs == NULL) {
    sfu_request_fail(req, SFU_ENOMEM, "out of memory");
    return;
  }

  fb_ref_t id = fb_create_string(b, r->id, r->id_len);
  d.n = 0;
  sfu_list_foreach(it, &r->transports) {
    sfu_transport_t *t = sfu_container_of(it, sfu_transport_t, router_link);
    refs[d.n++] = fb_create_string(b, t->id, t->id_len);
  }
  fb_ref_t transport_ids = fb_create_vec_refs(b, refs, d.n);
  d.n = 0;
  sfu_list_foreach(it, &r->rtp_observers) {
    sfu_rtp_observer_t *o = sfu_container_of(it, sfu_rtp_observer_t, router_link);
    refs[d.n++] = fb_create_string(b, o->id, o->id_len);
  }
  fb_ref_t observer_ids = fb_create_vec_refs(b, refs, d.n);
  d.n = 0;
  sfu_hmap_foreach(&r->producers, sfu__dump_producer_consumers, &d);
  fb_ref_t p2c = fb_create_vec_refs(b, refs, d.n);
  d.n = 0;
  sfu_hmap_foreach(&r->producers, sfu__dump_consumer_producer, &d);
  fb_ref_t c2p = fb_create_vec_refs(b, refs, d.n);
  d.n = 0;
  sfu_hmap_foreach(&r->producers, sfu__dump_producer_observers, &d);
  fb_ref_t p2o = fb_create_vec_refs(b, refs, d.n);
  free(refs);
  fb_ref_t dp2dc = sfu__router_dump_data_producers(r, b);
  fb_ref_t dc2dp = sfu__router_dump_data_consumers(r, b);

  FBS_Router_DumpResponse_start(b);
  FBS_Router_DumpResponse_add_id(b, id);
  FBS_Router_DumpResponse_add_transport_ids(b, transport_ids);
  FBS_Router_DumpResponse_add_rtp_observer_ids(b, observer_ids);
  FBS_Router_DumpResponse_add_map_producer_id_consumer_ids(b, p2c);
  FBS_Router_DumpResponse_add_map_consumer_id_producer_id(b, c2p);
  FBS_Router_DumpResponse_add_map_producer_id_observer_ids(b, p2o);
  FBS_Router_DumpResponse_add_map_data_producer_id_data_consumer_ids(b, dp2dc);
  FBS_Router_DumpResponse_add_map_data_consumer_id_data_producer_id(b, dc2dp);
  sfu_request_accept_body(req, FBS_Response_Body_Router_DumpResponse, FBS_Router_DumpResponse_end(b));
}

/* ---- transports and observers ---- */

static bool sfu__id_free(sfu_router_t *r, fb_str_t id, sfu_request_t *req, const char *what) {
  if (id.len == 0) {
    sfu_request_fail(req, SFU_EINVAL, "empty %sId", what);
    return false;
  }
  if (sfu_ctx_find(r->ctx, id.ptr, id.len) != NULL) {
    sfu_request_fail(req, SFU_EEXIST, "a %s with same id already exists", what);
    return false;
  }
  return true;
}

static void sfu__add_transport(sfu_router_t *r, sfu_transport_t *t, sfu_request_t *req) {
  uint8_t type = 0;
  sfu_hmap_put(&r->transports_by_id, &t->router_node);
  sfu_list_insert_tail(&r->transports, &t->router_link);
  fb_ref_t dump = t->ops->dump(t, &r->ctx->fbb, &type);
  sfu_request_accept_body(req, type, dump);
}

static void sfu__close_transport(sfu_router_t *r, sfu_transport_t *t) {
  sfu_hmap_del(&r->transports_by_id, &t->router_node);
  sfu_list_remove(&t->router_link);
  sfu_transport_close(t);
}

static sfu_transport_parent_t sfu__parent(sfu_router_t *r) {
  sfu_transport_parent_t p = {.ctx = r->ctx, .listener = &sfu__transport_listener, .arg = r, .env = r->env};
  return p;
}

static void sfu__create_webrtc(sfu_router_t *r, sfu_request_t *req) {
  fb_table_t body;
  sfu_transport_t *t;
  sfu_transport_parent_t parent = sfu__parent(r);
  char err[256] = "";
  int rc;
  if (!sfu_request_body(req, FBS_Request_Body_Router_CreateWebRtcTransportRequest, &body)) return;
  fb_str_t id = FBS_Router_CreateWebRtcTransportRequest_transport_id(body);
  if (!sfu__id_free(r, id, req, "transport")) return;
  bool with_server = req->method == FBS_Request_Method_ROUTER_CREATE_WEBRTCTRANSPORT_WITH_SERVER;
  if ((rc = sfu_webrtc_transport_create(&parent, id.ptr, id.len, FBS_Router_CreateWebRtcTransportRequest_options(body),
                                        with_server, &t, err, sizeof(err))) != 0) {
    sfu_request_fail(req, rc, "%s", err[0] ? err : sfu_strerror(rc));
    return;
  }
  sfu__add_transport(r, t, req);
}

static void sfu__create_plain(sfu_router_t *r, sfu_request_t *req) {
  fb_table_t body;
  sfu_transport_t *t;
  sfu_transport_parent_t parent = sfu__parent(r);
  char err[256] = "";
  int rc;
  if (!sfu_request_body(req, FBS_Request_Body_Router_CreatePlainTransportRequest, &body)) return;
  fb_str_t id = FBS_Router_CreatePlainTransportRequest_transport_id(body);
  if (!sfu__id_free(r, id, req, "transport")) return;
  if ((rc = sfu_plain_transport_create(&parent, id.ptr, id.len, FBS_Router_CreatePlainTransportRequest_options(body), &t, err,
                                       sizeof(err))) != 0) {
    sfu_request_fail(req, rc, "%s", err[0] ? err : sfu_strerror(rc));
    return;
  }
  sfu__add_transport(r, t, req);
}

static void sfu__create_pipe(sfu_router_t *r, sfu_request_t *req) {
  fb_table_t body;
  sfu_transport_t *t;
  sfu_transport_parent_t parent = sfu__parent(r);
  char err[256] = "";
  int rc;
  if (!sfu_request_body(req, FBS_Request_Body_Router_CreatePipeTransportRequest, &body)) return;
  fb_str_t id = FBS_Router_CreatePipeTransportRequest_transport_id(body);
  if (!sfu__id_free(r, id, req, "transport")) return;
  if ((rc = sfu_pipe_transport_create(&parent, id.ptr, id.len, FBS_Router_CreatePipeTransportRequest_options(body), &t, err, sizeof(err))) != 0) {
    sfu_request_fail(req, rc, "%s", err[0] ? err : sfu_strerror(rc));
    return;
  }
  sfu__add_transport(r, t, req);
}

static void sfu__create_direct(sfu_router_t *r, sfu_request_t *req) {
  fb_table_t body;
  sfu_transport_t *t;
  sfu_transport_parent_t parent = sfu__parent(r);
  char err[256] = "";
  int rc;
  if (!sfu_request_body(req, FBS_Request_Body_Router_CreateDirectTransportRequest, &body)) return;
  fb_str_t id = FBS_Router_CreateDirectTransportRequest_transport_id(body);
  if (!sfu__id_free(r, id, req, "transport")) return;
  if ((rc = sfu_direct_transport_create(&parent, id.ptr, id.len, FBS_Router_CreateDirectTransportRequest_options(body), &t, err, sizeof(err))) != 0) {
    sfu_request_fail(req, rc, "%s", err[0] ? err : sfu_strerror(rc));
    return;
  }
  sfu__add_transport(r, t, req);
}

static void sfu__create_alo(sfu_router_t *r, sfu_request_t *req) {
  fb_table_t body;
  sfu_rtp_observer_t *o;
  char err[256] = "";
  int rc;
  if (!sfu_request_body(req, FBS_Request_Body_Router_CreateAudioLevelObserverRequest, &body)) return;
  fb_str_t id = FBS_Router_CreateAudioLevelObserverRequest_rtp_observer_id(body);
  if (!sfu__id_free(r, id, req, "rtpObserver")) return;
  if ((rc = sfu_audio_level_observer_create(r->ctx, &sfu__observer_listener, r, body, &o, err, sizeof(err))) != 0) {
    sfu_request_fail(req, rc, "%s", err[0] ? err : sfu_strerror(rc));
    return;
  }
  sfu_list_insert_tail(&r->rtp_observers, &o->router_link);
  sfu_request_accept(req);
}

static void sfu__create_aso(sfu_router_t *r, sfu_request_t *req) {
  fb_table_t body;
  sfu_rtp_observer_t *o;
  char err[256] = "";
  int rc;
  if (!sfu_request_body(req, FBS_Request_Body_Router_CreateActiveSpeakerObserverRequest, &body)) return;
  fb_str_t id = FBS_Router_CreateActiveSpeakerObserverRequest_rtp_observer_id(body);
  if (!sfu__id_free(r, id, req, "rtpObserver")) return;
  if ((rc = sfu_active_speaker_observer_create(r->ctx, &sfu__observer_listener, r, body, &o, err, sizeof(err))) != 0) {
    sfu_request_fail(req, rc, "%s", err[0] ? err : sfu_strerror(rc));
    return;
  }
  sfu_list_insert_tail(&r->rtp_observers, &o->router_link);
  sfu_request_accept(req);
}

static void sfu__router_on_request(sfu_handler_t *h, sfu_request_t *req) {
  sfu_router_t *r = sfu_container_of(h, sfu_router_t, handler);
  fb_table_t body;

  switch (req->method) {
    case FBS_Request_Method_ROUTER_DUMP:
      sfu__router_dump(r, req);
      break;
    case FBS_Request_Method_ROUTER_CREATE_WEBRTCTRANSPORT:
    case FBS_Request_Method_ROUTER_CREATE_WEBRTCTRANSPORT_WITH_SERVER:
      sfu__create_webrtc(r, req);
      break;
    case FBS_Request_Method_ROUTER_CREATE_PLAINTRANSPORT:
      sfu__create_plain(r, req);
      break;
    case FBS_Request_Method_ROUTER_CREATE_PIPETRANSPORT:
      sfu__create_pipe(r, req);
      break;
    case FBS_Request_Method_ROUTER_CREATE_DIRECTTRANSPORT:
      sfu__create_direct(r, req);
      break;
    case FBS_Request_Method_ROUTER_CREATE_ACTIVESPEAKEROBSERVER:
      sfu__create_aso(r, req);
      break;
    case FBS_Request_Method_ROUTER_CREATE_AUDIOLEVELOBSERVER:
      sfu__create_alo(r, req);
      break;
    case FBS_Request_Method_ROUTER_CLOSE_TRANSPORT: {
      if (!sfu_request_body(req, FBS_Request_Body_Router_CloseTransportRequest, &body)) return;
      fb_str_t id = FBS_Router_CloseTransportRequest_transport_id(body);
      sfu_hnode_t *n = sfu_hmap_get(&r->transports_by_id, id.ptr, id.len);
      if (n == NULL) {
        sfu_request_fail(req, SFU_ENOTFOUND, "Transport not found");
        return;
      }
      sfu__close_transport(r, sfu_container_of(n, sfu_transport_t, router_node));
      sfu_request_accept(req);
      break;
    }
    case FBS_Request_Method_ROUTER_CLOSE_RTPOBSERVER: {
      if (!sfu_request_body(req, FBS_Request_Body_Router_CloseRtpObserverRequest, &body)) return;
      fb_str_t id = FBS_Router_CloseRtpObserverRequest_rtp_observer_id(body);
      sfu_list_t *it;
      sfu_list_foreach(it, &r->rtp_observers) {
        sfu_rtp_observer_t *o = sfu_container_of(it, sfu_rtp_observer_t, router_link);
        if (o->id_len == id.len && memcmp(o->id, id.ptr, id.len) == 0) {
          sfu_list_remove(&o->router_link);
          sfu_rtp_observer_close(o);
          sfu_request_accept(req);
          return;
        }
      }
      sfu_request_fail(req, SFU_ENOTFOUND, "RtpObserver not found");
      break;
    }
    default:
      sfu_request_not_implemented(req);
      break;
  }
}

/* ---- lifecycle ---- */

int sfu_router_create(sfu_ctx_t *ctx, const sfu_transport_env_t *env, const char *id, size_t id_len,
                      sfu_router_t **out) {
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
  r->env = env;
  sfu_list_init(&r->transports);
  sfu_list_init(&r->rtp_observers);
  sfu_list_init(&r->owner_link);
  if ((err = sfu_hmap_init(&r->transports_by_id)) != 0) goto fail_t;
  if ((err = sfu_hmap_init(&r->producers)) != 0) goto fail_p;
  if ((err = sfu_hmap_init(&r->data_producers)) != 0) goto fail_dp;
  r->handler.on_request = sfu__router_on_request;
  if ((err = sfu_ctx_register(ctx, &r->handler, r->id, r->id_len)) != 0) goto fail_reg;
  SFU_DEBUG(&ctx->log, "router created [id:%s]", r->id);
  *out = r;
  return 0;

fail_reg:
  sfu_hmap_free(&r->data_producers);
fail_dp:
  sfu_hmap_free(&r->producers);
fail_p:
  sfu_hmap_free(&r->transports_by_id);
fail_t:
  free(r->id);
  free(r);
  return err;
}

static void sfu__router_reap(sfu_closing_t *c) {
  sfu_router_t *r = sfu_container_of(c, sfu_router_t, closing);
  if (r->close_cb != NULL) r->close_cb(r);
  sfu_hmap_free(&r->transports_by_id);
  sfu_hmap_free(&r->producers);
  sfu_hmap_free(&r->data_producers);
  free(r->id);
  free(r);
}

void sfu_router_close(sfu_router_t *r, sfu_router_close_cb cb) {
  if (r->closed) return;
  r->closed = true;
  r->close_cb = cb;
  sfu_ctx_unregister(r->ctx, &r->handler);
  while (!sfu_list_empty(&r->transports))
    sfu__close_transport(r, sfu_container_of(r->transports.next, sfu_transport_t, router_link));
  while (!sfu_list_empty(&r->rtp_observers)) {
    sfu_rtp_observer_t *o = sfu_container_of(r->rtp_observers.next, sfu_rtp_observer_t, router_link);
    sfu_list_remove(&o->router_link);
    sfu_rtp_observer_close(o);
  }
  SFU_DEBUG(&r->ctx->log, "router closed [id:%s]", r->id);
  sfu_ctx_defer(r->ctx, &r->closing, sfu__router_reap);
}
