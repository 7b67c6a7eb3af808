#include "sfu_worker.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fbs_generated.h"
#include "sfu_error.h"
#include "sfu_request.h"
#include "sfu_router.h"
#include "sfu_webrtc_server.h"

#define SFU_WORKER_FROM_HANDLER(h) sfu_container_of((h), sfu_worker_t, handler)

static void sfu__worker_maybe_done(sfu_worker_t *w) {
  if (--w->pending_closes != 0) return;
  /* Every handle is closed: what remains is memory. */
  if (w->dtls_ctx_ready) {
    sfu_dtls_ctx_destroy(&w->dtls_ctx);
    w->dtls_ctx_ready = false;
  }
  sfu_port_manager_destroy(&w->port_manager);
  if (w->close_cb != NULL) w->close_cb(w);
}

static void sfu__handle_closed(uv_handle_t *h) {
  sfu_worker_t *w = h->data;
  h->data = NULL;
  if (w != NULL) sfu__worker_maybe_done(w);
}

static void sfu__channel_closed(sfu_channel_t *ch) {
  sfu_worker_t *w = ch->data;
  ch->data = NULL;
  if (w != NULL) sfu__worker_maybe_done(w);
}

/* ---- WORKER_* requests ---- */

static void sfu__worker_dump(sfu_worker_t *w, sfu_request_t *req) {
  fb_builder_t *b = &w->ctx->fbb;
  sfu_list_t *p;
  size_t n_routers = sfu_list_count(&w->routers);
  size_t n_handlers = sfu_list_count(&w->ctx->handler_list);
  size_t cap = (n_routers > n_handlers ? n_routers : n_handlers) + 1;
  fb_ref_t *refs = malloc(cap * sizeof(*refs));
  size_t i;

  if (refs == NULL) {
    sfu_request_fail(req, SFU_ENOMEM, "out of memory");
    return;
  }
  fb_ref_t empty = fb_create_vec_refs(b, NULL, 0);
  fb_ref_t *srefs = malloc((w->nservers + 1) * sizeof(*srefs));
  if (srefs == NULL) {
    free(refs);
    sfu_request_fail(req, SFU_ENOMEM, "out of memory");
    return;
  }
  for (i = 0; i < w->nservers; i++) {
    size_t len;
    const char *sid = sfu_webrtc_server_id(w->servers[i], &len);
    srefs[i] = fb_create_string(b, sid, len);
  }
  fb_ref_t server_ids = fb_create_vec_refs(b, srefs, w->nservers);
  free(srefs);
  i = 0;
  sfu_list_foreach(p, &w->routers) {
    sfu_router_t *r = sfu_container_of(p, sfu_router_t, owner_link);
    refs[i++] = fb_create_string(b, r->id, r->id_len);
  }
  fb_ref_t router_ids = fb_create_vec_refs(b, refs, i);
  i = 0;
  sfu_list_foreach(p, &w->ctx->handler_list) {
    sfu_handler_t *h = sfu_container_of(p, sfu_handler_t, link);
    refs[i++] = fb_create_string(b, h->node.key, h->node.key_len);
  }
  fb_ref_t req_handlers = fb_create_vec_refs(b, refs, i);
  free(refs);

  FBS_Worker_ChannelMessageHandlers_start(b);
  FBS_Worker_ChannelMessageHandlers_add_channel_request_handlers(b, req_handlers);
  FBS_Worker_ChannelMessageHandlers_add_channel_notification_handlers(b, empty);
  fb_ref_t handlers = FBS_Worker_ChannelMessageHandlers_end(b);

  FBS_Worker_DumpResponse_start(b);
  FBS_Worker_DumpResponse_add_pid(b, (uint32_t)getpid());
  FBS_Worker_DumpResponse_add_web_rtc_server_ids(b, server_ids);
  FBS_Worker_DumpResponse_add_router_ids(b, router_ids);
  FBS_Worker_DumpResponse_add_channel_message_handlers(b, handlers);
  fb_ref_t dump = FBS_Worker_DumpResponse_end(b);
  sfu_request_accept_body(req, FBS_Response_Body_Worker_DumpResponse, dump);
}

static uint64_t sfu__tv_ms(uv_timeval_t tv) {
  return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

static void sfu__worker_resource_usage(sfu_worker_t *w, sfu_request_t *req) {
  fb_builder_t *b = &w->ctx->fbb;
  uv_rusage_t ru;

  if (uv_getrusage(&ru) != 0) {
    sfu_request_fail(req, SFU_EIO, "uv_getrusage() failed");
    return;
  }
  FBS_Worker_ResourceUsageResponse_start(b);
  FBS_Worker_ResourceUsageResponse_add_ru_utime(b, sfu__tv_ms(ru.ru_utime));
  FBS_Worker_ResourceUsageResponse_add_ru_stime(b, sfu__tv_ms(ru.ru_stime));
  FBS_Worker_ResourceUsageResponse_add_ru_maxrss(b, ru.ru_maxrss);
  FBS_Worker_ResourceUsageResponse_add_ru_ixrss(b, ru.ru_ixrss);
  FBS_Worker_ResourceUsageResponse_add_ru_idrss(b, ru.ru_idrss);
  FBS_Worker_ResourceUsageResponse_add_ru_isrss(b, ru.ru_isrss);
  FBS_Worker_ResourceUsageResponse_add_ru_minflt(b, ru.ru_minflt);
  FBS_Worker_ResourceUsageResponse_add_ru_majflt(b, ru.ru_majflt);
  FBS_Worker_ResourceUsageResponse_add_ru_nswap(b, ru.ru_nswap);
  FBS_Worker_ResourceUsageResponse_add_ru_inblock(b, ru.ru_inblock);
  FBS_Worker_ResourceUsageResponse_add_ru_oublock(b, ru.ru_oublock);
  FBS_Worker_ResourceUsageResponse_add_ru_msgsnd(b, ru.ru_msgsnd);
  FBS_Worker_ResourceUsageResponse_add_ru_msgrcv(b, ru.ru_msgrcv);
  FBS_Worker_ResourceUsageResponse_add_ru_nsignals(b, ru.ru_nsignals);
  FBS_Worker_ResourceUsageResponse_add_ru_nvcsw(b, ru.ru_nvcsw);
  FBS_Worker_ResourceUsageResponse_add_ru_nivcsw(b, ru.ru_nivcsw);
  fb_ref_t body = FBS_Worker_ResourceUsageResponse_end(b);
  sfu_request_accept_body(req, FBS_Response_Body_Worker_ResourceUsageResponse, body);
}

static void sfu__worker_update_settings(sfu_worker_t *w, sfu_request_t *req) {
  sfu_ctx_t *ctx = w->ctx;
  fb_table_t body;
  sfu_log_level_t level = ctx->log.level;
  uint32_t tags = ctx->log.tags;

  if (!sfu_request_body(req, FBS_Request_Body_Worker_UpdateSettingsRequest, &body)) return;
  fb_str_t lvl = FBS_Worker_UpdateSettingsRequest_log_level(body);
  if (lvl.ptr != NULL && sfu_settings_parse_log_level(lvl.ptr, lvl.len, &level) != 0) {
    sfu_request_fail(req, SFU_EINVAL, "invalid value '%.*s' for logLevel", (int)lvl.len, lvl.ptr);
    return;
  }
  if (FBS_Worker_UpdateSettingsRequest_has_log_tags(body)) {
    fb_vec_t v = FBS_Worker_UpdateSettingsRequest_log_tags(body);
    tags = 0;
    for (uint32_t i = 0; i < v.len; i++) {
      fb_str_t t = fb_vec_str(v, i);
      tags |= sfu_settings_log_tag_bit(t.ptr, t.len);
    }
  }
  /* Applied only once everything validated: a bad request changes nothing. */
  ctx->log.level = level;
  ctx->log.tags = tags;
  ctx->settings->log_level = level;
  ctx->settings->log_tags = tags;
  SFU_DEBUG(&ctx->log, "settings updated [logLevel:%s]", sfu_settings_log_level_name(level));
  sfu_request_accept(req);
}

static void sfu__router_closed(sfu_router_t *r) { (void)r; }

static void sfu__worker_remove_router(sfu_worker_t *w, sfu_router_t *r) {
  sfu_hmap_del(&w->routers_by_id, &r->owner_node);
  sfu_list_remove(&r->owner_link);
  sfu_router_close(r, sfu__router_closed);
}

static void sfu__worker_create_router(sfu_worker_t *w, sfu_request_t *req) {
  fb_table_t body;
  sfu_router_t *r;
  int err;

  if (!sfu_request_body(req, FBS_Request_Body_Worker_CreateRouterRequest, &body)) return;
  fb_str_t id = FBS_Worker_CreateRouterRequest_router_id(body);
  if (id.len == 0) {
    sfu_request_fail(req, SFU_EINVAL, "empty routerId");
    return;
  }
  if (sfu_hmap_get(&w->routers_by_id, id.ptr, id.len) != NULL) {
    sfu_request_fail(req, SFU_EEXIST, "a Router with same routerId already exists");
    return;
  }
  if ((err = sfu_router_create(w->ctx, &w->transport_env, id.ptr, id.len, &r)) != 0) {
    sfu_request_fail(req, err, "cannot create Router: %s", sfu_strerror(err));
    return;
  }
  r->owner_node.key = r->id;
  r->owner_node.key_len = r->id_len;
  if ((err = sfu_hmap_put(&w->routers_by_id, &r->owner_node)) != 0) {
    sfu_router_close(r, sfu__router_closed);
    sfu_request_fail(req, err, "cannot create Router: %s", sfu_strerror(err));
    return;
  }
  sfu_list_insert_tail(&w->routers, &r->owner_link);
  sfu_request_accept(req);
}

static void sfu__worker_close_router(sfu_worker_t *w, sfu_request_t *req) {
  fb_table_t body;
  if (!sfu_request_body(req, FBS_Request_Body_Worker_CloseRouterRequest, &body)) return;
  fb_str_t id = FBS_Worker_CloseRouterRequest_router_id(body);
  sfu_hnode_t *n = sfu_hmap_get(&w->routers_by_id, id.ptr, id.len);
  if (n == NULL) {
    sfu_request_fail(req, SFU_ENOTFOUND, "Router not found");
    return;
  }
  sfu__worker_remove_router(w, sfu_container_of(n, sfu_router_t, owner_node));
  sfu_request_accept(req);
}

sfu_webrtc_server_t *sfu_worker_get_webrtc_server(sfu_worker_t *w, const char *id, size_t len) {
  for (size_t i = 0; i < w->nservers; i++) {
    size_t l;
    const char *sid = sfu_webrtc_server_id(w->servers[i], &l);
    if (l == len && memcmp(sid, id, len) == 0) return w->servers[i];
  }
  return NULL;
}

static void sfu__worker_create_webrtc_server(sfu_worker_t *w, sfu_request_t *req) {
  fb_table_t body;
  sfu_webrtc_server_t *srv;
  char err[256] = "";
  int r;
  if (!sfu_request_body(req, FBS_Request_Body_Worker_CreateWebRtcServerRequest, &body)) return;
  fb_str_t id = FBS_Worker_CreateWebRtcServerRequest_web_rtc_server_id(body);
  if (sfu_worker_get_webrtc_server(w, id.ptr, id.len) != NULL) {
    sfu_request_fail(req, SFU_EEXIST, "a WebRtcServer with same webRtcServerId already exists");
    return;
  }
  if (w->nservers == w->servers_cap) {
    size_t cap = w->servers_cap ? w->servers_cap * 2 : 4;
    sfu_webrtc_server_t **n = realloc(w->servers, cap * sizeof(*n));
    if (n == NULL) {
      sfu_request_fail(req, SFU_ENOMEM, "out of memory");
      return;
    }
    w->servers = n;
    w->servers_cap = cap;
  }
  if ((r = sfu_webrtc_server_create(w->ctx, &w->port_manager, body, &srv, err, sizeof(err))) != 0) {
    sfu_request_fail(req, r, "%s", err[0] ? err : sfu_strerror(r));
    return;
  }
  w->servers[w->nservers++] = srv;
  sfu_request_accept(req);
}

static void sfu__worker_remove_server(sfu_worker_t *w, size_t i) {
  sfu_webrtc_server_t *srv = w->servers[i];
  memmove(&w->servers[i], &w->servers[i + 1], (w->nservers - i - 1) * sizeof(*w->servers));
  w->nservers--;
  sfu_webrtc_server_close(srv);
}

static void sfu__worker_close_webrtc_server(sfu_worker_t *w, sfu_request_t *req) {
  fb_table_t body;
  if (!sfu_request_body(req, FBS_Request_Body_Worker_CloseWebRtcServerRequest, &body)) return;
  fb_str_t id = FBS_Worker_CloseWebRtcServerRequest_web_rtc_server_id(body);
  for (size_t i = 0; i < w->nservers; i++) {
    size_t l;
    const char *sid = sfu_webrtc_server_id(w->servers[i], &l);
    if (l == id.len && memcmp(sid, id.ptr, l) == 0) {
      sfu__worker_remove_server(w, i);
      sfu_request_accept(req);
      return;
    }
  }
  sfu_request_fail(req, SFU_ENOTFOUND, "WebRtcServer not found");
}

static void sfu__worker_on_request(sfu_handler_t *h, sfu_request_t *req) {
  sfu_worker_t *w = SFU_WORKER_FROM_HANDLER(h);

  switch (req->method) {
    case FBS_Request_Method_WORKER_DUMP:
      sfu__worker_dump(w, req);
      break;
    case FBS_Request_Method_WORKER_GET_RESOURCE_USAGE:
      sfu__worker_resource_usage(w, req);
      break;
    case FBS_Request_Method_WORKER_UPDATE_SETTINGS:
      sfu__worker_update_settings(w, req);
      break;
    case FBS_Request_Method_WORKER_CREATE_ROUTER:
      sfu__worker_create_router(w, req);
      break;
    case FBS_Request_Method_WORKER_CLOSE_ROUTER:
      sfu__worker_close_router(w, req);
      break;
    case FBS_Request_Method_WORKER_CREATE_WEBRTCSERVER:
      sfu__worker_create_webrtc_server(w, req);
      break;
    case FBS_Request_Method_WORKER_WEBRTCSERVER_CLOSE:
      sfu__worker_close_webrtc_server(w, req);
      break;
    default:
      sfu_request_not_implemented(req);
      break;
  }
}

static void sfu__worker_on_notification(sfu_handler_t *h, sfu_notification_t *n) {
  sfu_worker_t *w = SFU_WORKER_FROM_HANDLER(h);
  if (n->event == FBS_Notification_Event_WORKER_CLOSE) {
    SFU_DEBUG(&w->ctx->log, "WORKER_CLOSE received");
    sfu_worker_close(w, w->close_cb);
  }
}

/* ---- channel and signals ---- */

static void sfu__on_channel_msg(sfu_channel_t *ch, const uint8_t *msg, size_t len) {
  sfu_worker_t *w = ch->data;
  if (w == NULL || w->closing) return;
  sfu_ctx_on_frame(w->ctx, msg, len);
}

static void sfu__on_channel_eof(sfu_channel_t *ch, int status) {
  sfu_worker_t *w = ch->data;
  (void)status;
  if (w == NULL) return;
  /* Node went away: nothing can be reported any more. */
  sfu_worker_close(w, w->close_cb);
}

static void sfu__on_signal(uv_signal_t *s, int signum) {
  sfu_worker_t *w = s->data;
  if (w == NULL) return;
  SFU_DEBUG(&w->ctx->log, "signal %d received, closing", signum);
  sfu_worker_close(w, w->close_cb);
}

static sfu_webrtc_server_t *sfu__find_webrtc_server(void *arg, const char *id, size_t len) {
  return sfu_worker_get_webrtc_server(arg, id, len);
}

int sfu_worker_init(sfu_worker_t *w, sfu_ctx_t *ctx, sfu_cert_t *cert, uv_file read_fd, uv_file write_fd) {
  int err;

  memset(w, 0, sizeof(*w));
  w->ctx = ctx;
  w->cert = cert;
  sfu_list_init(&w->routers);
  if ((err = sfu_hmap_init(&w->routers_by_id)) != 0) return err;
  w->handler.on_request = sfu__worker_on_request;
  w->handler.on_notification = sfu__worker_on_notification;
  /* mediasoup accepts rtcMinPort 0; a port range starts at 1 here. */
  if ((err = sfu_port_manager_init(&w->port_manager, ctx->settings->rtc_min_port ? ctx->settings->rtc_min_port : 1,
                                   ctx->settings->rtc_max_port ? ctx->settings->rtc_max_port : 1)) != 0) {
    sfu_hmap_free(&w->routers_by_id);
    return err;
  }
  if ((err = sfu_dtls_ctx_init(&w->dtls_ctx, ctx, cert, NULL)) != 0) {
    sfu_port_manager_destroy(&w->port_manager);
    sfu_hmap_free(&w->routers_by_id);
    return err;
  }
  w->dtls_ctx_ready = true;
  w->transport_env.ports = &w->port_manager;
  w->transport_env.dtls_ctx = &w->dtls_ctx;
  w->transport_env.cert = cert;
  w->transport_env.find_webrtc_server = sfu__find_webrtc_server;
  w->transport_env.arg = w;

  if (sfu_channel_init(ctx->loop, &w->channel, read_fd, write_fd, sfu__on_channel_msg, sfu__on_channel_eof) != 0) {
    sfu_dtls_ctx_destroy(&w->dtls_ctx);
    sfu_port_manager_destroy(&w->port_manager);
    sfu_hmap_free(&w->routers_by_id);
    return SFU_EIO;
  }
  w->channel.data = w;
  w->pending_closes++;

  uv_signal_init(ctx->loop, &w->sigint);
  uv_signal_init(ctx->loop, &w->sigterm);
  w->sigint.data = w;
  w->sigterm.data = w;
  w->pending_closes += 2;
  uv_signal_start(&w->sigint, sfu__on_signal, SIGINT);
  uv_signal_start(&w->sigterm, sfu__on_signal, SIGTERM);

  ctx->root = &w->handler;
  sfu_ctx_attach_channel(ctx, &w->channel);
  /* A failed send shows up as channel EOF/error soon after; nothing else to do here. */
  (void)sfu_ctx_notify(ctx, ctx->pid_str, FBS_Notification_Event_WORKER_RUNNING, 0, 0);
  return 0;
}

void sfu_worker_close(sfu_worker_t *w, sfu_worker_close_cb cb) {
  if (w->closing) return;
  w->closing = true;
  w->close_cb = cb;

  while (!sfu_list_empty(&w->routers)) {
    sfu_router_t *r = sfu_container_of(w->routers.next, sfu_router_t, owner_link);
    sfu__worker_remove_router(w, r);
  }
  sfu_hmap_free(&w->routers_by_id);
  while (w->nservers > 0) sfu__worker_remove_server(w, w->nservers - 1);
  free(w->servers);
  w->servers = NULL;
  w->ctx->root = NULL;
  sfu_ctx_detach_channel(w->ctx);
  sfu_ctx_close(w->ctx);

  w->pending_closes++; /* guard: callbacks may fire synchronously */
  sfu_channel_close(&w->channel, sfu__channel_closed);
  uv_close((uv_handle_t *)&w->sigint, sfu__handle_closed);
  uv_close((uv_handle_t *)&w->sigterm, sfu__handle_closed);
  sfu__worker_maybe_done(w);
}
