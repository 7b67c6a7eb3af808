#include "sfu_ctx.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fbs_generated.h"
#include "sfu_error.h"
#include "sfu_request.h"

#define SFU_BUILDER_INITIAL 4096

/* Log lines become protocol Log messages. */
static void sfu__log_sink(void *arg, const char *line, size_t len) {
  sfu_ctx_t *ctx = arg;
  fb_builder_t *b = &ctx->log_fbb;
  const uint8_t *out;
  size_t out_len;

  if (ctx->channel == NULL) return;
  fb_builder_clear(b);
  fb_ref_t data = fb_create_string(b, line, len);
  FBS_Log_Log_start(b);
  FBS_Log_Log_add_data(b, data);
  fb_ref_t log = FBS_Log_Log_end(b);
  FBS_Message_Message_start(b);
  FBS_Message_Message_add_data(b, FBS_Message_Body_Log, log);
  fb_ref_t msg = FBS_Message_Message_end(b);
  if (fb_builder_finish(b, msg, &out, &out_len) != 0 || sfu_channel_send(ctx->channel, out, out_len) != 0)
    ctx->log.dropped++;
  fb_builder_clear(b);
}

static void sfu__reaper_cb(uv_idle_t *handle) {
  sfu_ctx_t *ctx = handle->data;
  sfu_list_t batch;
  if (ctx == NULL) return;

  /* Reap what was queued before this turn; reaps may queue more. */
  sfu_list_init(&batch);
  sfu_list_move(&ctx->closing, &batch);
  while (!sfu_list_empty(&batch)) {
    sfu_closing_t *c = sfu_container_of(batch.next, sfu_closing_t, link);
    sfu_list_remove(&c->link);
    c->reap(c);
  }
  if (sfu_list_empty(&ctx->closing)) {
    uv_idle_stop(&ctx->reaper);
    ctx->reaper_active = false;
  }
}

int sfu_ctx_init(sfu_ctx_t *ctx, uv_loop_t *loop, sfu_settings_t *settings) {
  int r;
  memset(ctx, 0, sizeof(*ctx));
  ctx->loop = loop;
  ctx->settings = settings;
  sfu_log_init(&ctx->log, settings->log_level, settings->log_tags);
  sfu_list_init(&ctx->handler_list);
  sfu_list_init(&ctx->closing);
  snprintf(ctx->pid_str, sizeof(ctx->pid_str), "%ld", (long)getpid());

  if (fb_builder_init(&ctx->fbb, SFU_BUILDER_INITIAL) != 0) return SFU_ENOMEM;
  if (fb_builder_init(&ctx->log_fbb, 1024) != 0) {
    r = SFU_ENOMEM;
    goto fail_log_fbb;
  }
  if ((r = sfu_hmap_init(&ctx->handlers)) != 0) goto fail_hmap;
  if (uv_idle_init(loop, &ctx->reaper) != 0) {
    r = SFU_EIO;
    goto fail_idle;
  }
  ctx->reaper.data = ctx;
  return 0;

fail_idle:
  sfu_hmap_free(&ctx->handlers);
fail_hmap:
  fb_builder_free(&ctx->log_fbb);
fail_log_fbb:
  fb_builder_free(&ctx->fbb);
  return r;
}

void sfu_ctx_close(sfu_ctx_t *ctx) {
  while (!sfu_list_empty(&ctx->closing)) sfu__reaper_cb(&ctx->reaper);
  ctx->reaper.data = NULL;
  uv_close((uv_handle_t *)&ctx->reaper, NULL);
}

void sfu_ctx_destroy(sfu_ctx_t *ctx) {
  fb_builder_free(&ctx->fbb);
  fb_builder_free(&ctx->log_fbb);
  sfu_hmap_free(&ctx->handlers);
}

void sfu_ctx_defer(sfu_ctx_t *ctx, sfu_closing_t *c, void (*reap)(sfu_closing_t *c)) {
  c->reap = reap;
  if (ctx->reaper.data == NULL) {
    /* Shutting down (the reaper is closed): objects released by late close
     * callbacks are reaped at once; nothing runs after them in this turn. */
    reap(c);
    return;
  }
  sfu_list_insert_tail(&ctx->closing, &c->link);
  if (!ctx->reaper_active && ctx->reaper.data != NULL) {
    uv_idle_start(&ctx->reaper, sfu__reaper_cb);
    ctx->reaper_active = true;
  }
}

void sfu_ctx_attach_channel(sfu_ctx_t *ctx, sfu_channel_t *ch) {
  ctx->channel = ch;
  sfu_log_set_sink(&ctx->log, sfu__log_sink, ctx);
}

void sfu_ctx_detach_channel(sfu_ctx_t *ctx) {
  ctx->channel = NULL;
  sfu_log_set_sink(&ctx->log, NULL, NULL);
}

int sfu_ctx_register(sfu_ctx_t *ctx, sfu_handler_t *h, const char *id, size_t id_len) {
  int r;
  h->node.key = id;
  h->node.key_len = id_len;
  if ((r = sfu_hmap_put(&ctx->handlers, &h->node)) != 0) return r;
  sfu_list_insert_tail(&ctx->handler_list, &h->link);
  h->registered = true;
  return 0;
}

void sfu_ctx_unregister(sfu_ctx_t *ctx, sfu_handler_t *h) {
  if (!h->registered) return;
  sfu_hmap_del(&ctx->handlers, &h->node);
  sfu_list_remove(&h->link);
  h->registered = false;
}

sfu_handler_t *sfu_ctx_find(sfu_ctx_t *ctx, const char *id, size_t id_len) {
  sfu_hnode_t *n = sfu_hmap_get(&ctx->handlers, id, id_len);
  return n != NULL ? sfu_container_of(n, sfu_handler_t, node) : NULL;
}

int sfu_ctx_notify(sfu_ctx_t *ctx, const char *handler_id, uint8_t event, uint8_t body_type, fb_ref_t body_ref) {
  fb_builder_t *b = &ctx->fbb;
  const uint8_t *out;
  size_t out_len;
  int r;

  if (ctx->channel == NULL) {
    fb_builder_clear(b);
    return SFU_ESTATE;
  }
  fb_ref_t hid = fb_create_cstring(b, handler_id);
  FBS_Notification_Notification_start(b);
  FBS_Notification_Notification_add_handler_id(b, hid);
  FBS_Notification_Notification_add_event(b, event);
  if (body_type != 0) FBS_Notification_Notification_add_body(b, body_type, body_ref);
  fb_ref_t notif = FBS_Notification_Notification_end(b);
  FBS_Message_Message_start(b);
  FBS_Message_Message_add_data(b, FBS_Message_Body_Notification, notif);
  fb_ref_t msg = FBS_Message_Message_end(b);
  r = fb_builder_finish(b, msg, &out, &out_len);
  if (r == 0) r = sfu_channel_send(ctx->channel, out, out_len) == 0 ? 0 : SFU_EIO;
  else r = SFU_EPROTO;
  if (r != 0) SFU_ERROR(&ctx->log, "could not send notification [event:%s]", FBS_Notification_Event_name(event));
  fb_builder_clear(b);
  return r;
}

static bool sfu__is_worker_method(uint8_t method) {
  return method <= FBS_Request_Method_WORKER_CLOSE_ROUTER;
}

static void sfu__dispatch_request(sfu_ctx_t *ctx, fb_table_t t) {
  sfu_request_t req;
  const char *name;

  memset(&req, 0, sizeof(req));
  req.ctx = ctx;
  req.id = FBS_Request_Request_id(t);
  req.method = FBS_Request_Request_method(t);
  name = FBS_Request_Method_name(req.method);
  req.method_name = name != NULL ? name : "UNKNOWN";
  req.handler_id = FBS_Request_Request_handler_id(t);
  req.body_type = FBS_Request_Request_body_type(t);
  req.body = FBS_Request_Request_body(t);
  ctx->stats.requests++;

  SFU_DEBUG(&ctx->log, "request [method:%s, id:%u]", req.method_name, req.id);

  if (name == NULL) {
    sfu_request_fail(&req, SFU_EINVAL, "unknown method %u", (unsigned)req.method);
  } else if (sfu__is_worker_method(req.method)) {
    if (ctx->root != NULL)
      ctx->root->on_request(ctx->root, &req);
    else
      sfu_request_fail(&req, SFU_ESTATE, "worker closed");
  } else {
    sfu_handler_t *h = sfu_ctx_find(ctx, req.handler_id.ptr, req.handler_id.len);
    if (h == NULL)
      sfu_request_fail(&req, SFU_ENOTFOUND, "Channel request handler with ID %.*s not found", (int)req.handler_id.len,
                       req.handler_id.ptr);
    else
      h->on_request(h, &req);
  }
  if (!req.replied) sfu_request_fail(&req, SFU_ESTATE, "request not answered");
}

static void sfu__dispatch_notification(sfu_ctx_t *ctx, fb_table_t t) {
  sfu_notification_t n;
  const char *name;

  memset(&n, 0, sizeof(n));
  n.ctx = ctx;
  n.event = FBS_Notification_Notification_event(t);
  name = FBS_Notification_Event_name(n.event);
  n.event_name = name != NULL ? name : "UNKNOWN";
  n.handler_id = FBS_Notification_Notification_handler_id(t);
  n.body_type = FBS_Notification_Notification_body_type(t);
  n.body = FBS_Notification_Notification_body(t);
  ctx->stats.notifications++;

  if (n.event == FBS_Notification_Event_WORKER_CLOSE) {
    if (ctx->root != NULL && ctx->root->on_notification != NULL) ctx->root->on_notification(ctx->root, &n);
    return;
  }
  sfu_handler_t *h = sfu_ctx_find(ctx, n.handler_id.ptr, n.handler_id.len);
  if (h == NULL || h->on_notification == NULL) {
    SFU_DEBUG(&ctx->log, "notification for unknown handler dropped [event:%s, handler:%.*s]", n.event_name,
              (int)n.handler_id.len, n.handler_id.ptr);
    return;
  }
  h->on_notification(h, &n);
}

void sfu_ctx_on_frame(sfu_ctx_t *ctx, const uint8_t *msg, size_t len) {
  int r = FBS_Message_Message_verify_root(msg, len);
  if (r != 0) {
    ctx->stats.malformed++;
    SFU_ERROR(&ctx->log, "dropping malformed channel message [len:%zu]: %s", len, fb_strerror(r));
    return;
  }
  fb_table_t m = FBS_Message_Message_root(msg, len);
  switch (FBS_Message_Message_data_type(m)) {
    case FBS_Message_Body_Request:
      sfu__dispatch_request(ctx, FBS_Message_Message_data(m));
      break;
    case FBS_Message_Body_Notification:
      sfu__dispatch_notification(ctx, FBS_Message_Message_data(m));
      break;
    default:
      ctx->stats.unexpected++;
      SFU_ERROR(&ctx->log, "dropping unexpected channel message [type:%u]", (unsigned)FBS_Message_Message_data_type(m));
      break;
  }
}
