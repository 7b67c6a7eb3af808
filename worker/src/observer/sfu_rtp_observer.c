#include "sfu_rtp_observer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_error.h"
#include "sfu_producer.h"

static void sfu__reap(sfu_closing_t *c) {
  sfu_rtp_observer_t *o = sfu_container_of(c, sfu_rtp_observer_t, closing);
  free(o->id);
  o->ops->free_fn(o);
}

static sfu_producer_t *sfu__producer(sfu_rtp_observer_t *o, sfu_request_t *req, uint8_t body_type) {
  fb_table_t body;
  fb_str_t id;
  if (!sfu_request_body(req, body_type, &body)) return NULL;
  id = body_type == FBS_Request_Body_RtpObserver_AddProducerRequest ? FBS_RtpObserver_AddProducerRequest_producer_id(body)
                                                                     : FBS_RtpObserver_RemoveProducerRequest_producer_id(body);
  sfu_producer_t *p = o->listener->get_producer(o->listener_arg, id.ptr, id.len);
  if (p == NULL) sfu_request_fail(req, SFU_ENOTFOUND, "Producer not found [producerId:%.*s]", (int)id.len, id.ptr);
  return p;
}

static void sfu__on_request(sfu_handler_t *h, sfu_request_t *req) {
  sfu_rtp_observer_t *o = sfu_container_of(h, sfu_rtp_observer_t, handler);
  sfu_producer_t *p;
  char err[256] = "";
  int r;

  switch (req->method) {
    case FBS_Request_Method_RTPOBSERVER_PAUSE:
    case FBS_Request_Method_RTPOBSERVER_RESUME: {
      bool pause = req->method == FBS_Request_Method_RTPOBSERVER_PAUSE;
      if (o->paused != pause) {
        o->paused = pause;
        if (o->timer != NULL) {
          if (pause)
            uv_timer_stop(o->timer);
          else
            uv_timer_again(o->timer);
        }
        if (o->ops->paused != NULL) o->ops->paused(o, pause);
      }
      sfu_request_accept(req);
      break;
    }
    case FBS_Request_Method_RTPOBSERVER_ADD_PRODUCER:
      if ((p = sfu__producer(o, req, FBS_Request_Body_RtpObserver_AddProducerRequest)) == NULL) return;
      if ((r = sfu_rtp_observer_add_producer(o, p, err, sizeof(err))) != 0) {
        sfu_request_fail(req, r, "%s", err[0] ? err : sfu_strerror(r));
        return;
      }
      sfu_request_accept(req);
      break;
    case FBS_Request_Method_RTPOBSERVER_REMOVE_PRODUCER:
      if ((p = sfu__producer(o, req, FBS_Request_Body_RtpObserver_RemoveProducerRequest)) == NULL) return;
      o->ops->remove_producer(o, p);
      sfu_request_accept(req);
      break;
    default:
      sfu_request_not_implemented(req);
      break;
  }
}

int sfu_rtp_observer_init(sfu_rtp_observer_t *o, sfu_ctx_t *ctx, const sfu_rtp_observer_ops_t *ops,
                          const sfu_rtp_observer_listener_t *listener, void *listener_arg, const char *id, size_t id_len,
                          char *err, size_t err_len) {
  int r;
  if (id_len == 0) {
    snprintf(err, err_len, "empty rtpObserverId");
    return SFU_EINVAL;
  }
  o->ctx = ctx;
  o->ops = ops;
  o->listener = listener;
  o->listener_arg = listener_arg;
  sfu_list_init(&o->router_link);
  if ((o->id = malloc(id_len + 1)) == NULL) return SFU_ENOMEM;
  memcpy(o->id, id, id_len);
  o->id[id_len] = '\0';
  o->id_len = id_len;
  o->handler.on_request = sfu__on_request;
  if ((r = sfu_ctx_register(ctx, &o->handler, o->id, o->id_len)) != 0) {
    snprintf(err, err_len, "an RtpObserver with same rtpObserverId already exists");
    free(o->id);
    o->id = NULL;
    return r;
  }
  return 0;
}

static void sfu__tick(uv_timer_t *t) {
  sfu_rtp_observer_t *o = t->data;
  if (o == NULL || o->closed || o->paused) return;
  o->ops->tick(o);
}

static void sfu__timer_closed(uv_handle_t *h) { free(h); }

int sfu_rtp_observer_start(sfu_rtp_observer_t *o, uint64_t interval_ms) {
  if ((o->timer = malloc(sizeof(*o->timer))) == NULL) return SFU_ENOMEM;
  uv_timer_init(o->ctx->loop, o->timer);
  o->timer->data = o;
  o->interval_ms = interval_ms;
  uv_timer_start(o->timer, sfu__tick, interval_ms, interval_ms);
  return 0;
}

void sfu_rtp_observer_close(sfu_rtp_observer_t *o) {
  if (o->closed) return;
  o->closed = true;
  sfu_ctx_unregister(o->ctx, &o->handler);
  if (o->timer != NULL) {
    o->timer->data = NULL;
    uv_close((uv_handle_t *)o->timer, sfu__timer_closed);
    o->timer = NULL;
  }
  o->ops->close(o);
  sfu_ctx_defer(o->ctx, &o->closing, sfu__reap);
}

bool sfu_rtp_observer_has_producer(const sfu_rtp_observer_t *o, const sfu_producer_t *p) {
  return !o->closed && o->ops->has_producer(o, p);
}

void sfu_rtp_observer_remove_producer(sfu_rtp_observer_t *o, sfu_producer_t *p) {
  if (!o->closed) o->ops->remove_producer(o, p);
}

int sfu_rtp_observer_add_producer(sfu_rtp_observer_t *o, sfu_producer_t *p, char *err, size_t err_len) {
  if (p->kind != SFU_KIND_AUDIO) {
    snprintf(err, err_len, "not an audio Producer");
    return SFU_EINVAL;
  }
  return o->ops->add_producer(o, p, err, err_len);
}

void sfu_rtp_observer_audio_level_at(sfu_rtp_observer_t *o, sfu_producer_t *p, uint8_t level, uint64_t now_ms) {
  if (o->closed || o->paused) return;
  o->ops->audio_level(o, p, level, now_ms);
}

void sfu_rtp_observer_on_audio_level(sfu_rtp_observer_t *o, sfu_producer_t *p, uint8_t level) {
  sfu_rtp_observer_audio_level_at(o, p, level, uv_now(o->ctx->loop));
}

void sfu_rtp_observer_producer_paused(sfu_rtp_observer_t *o, sfu_producer_t *p, bool paused) {
  if (!o->closed && o->ops->producer_paused != NULL) o->ops->producer_paused(o, p, paused);
}
