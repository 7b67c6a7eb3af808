/* The worker's loop context: the only "global" state, passed to every object
 * that needs it. It owns the loop pointer, the settings, the logger, the
 * channel, the FlatBuffers builders, the registry of channel handlers (objects
 * addressed by id from Node) and the queue of closing objects. */
#ifndef SFU_CTX_H
#define SFU_CTX_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "fb.h"
#include "sfu_channel.h"
#include "sfu_hmap.h"
#include "sfu_list.h"
#include "sfu_log.h"
#include "sfu_settings.h"

typedef struct sfu_ctx sfu_ctx_t;
typedef struct sfu_request sfu_request_t;
typedef struct sfu_notification sfu_notification_t;

/* An object Node addresses by id (router, transport, producer, ...). */
typedef struct sfu_handler {
  sfu_hnode_t node; /* key: the object's id */
  sfu_list_t link;  /* ctx->handler_list, in registration order (for dumps) */
  void (*on_request)(struct sfu_handler *h, sfu_request_t *req);
  void (*on_notification)(struct sfu_handler *h, sfu_notification_t *n); /* may be NULL */
  bool registered;
} sfu_handler_t;

/* Something waiting for the end of the loop turn to be freed (asynchronous
 * close, libuv's uv_close idea: mark, queue, reap later). */
typedef struct sfu_closing {
  sfu_list_t link;
  void (*reap)(struct sfu_closing *c);
} sfu_closing_t;

typedef struct sfu_ctx_stats {
  uint64_t requests;
  uint64_t notifications;
  uint64_t malformed;  /* frames that failed verification */
  uint64_t unexpected; /* valid frames of a kind the worker does not take */
} sfu_ctx_stats_t;

struct sfu_ctx {
  uv_loop_t *loop;
  sfu_settings_t *settings;
  sfu_log_t log;
  sfu_channel_t *channel; /* NULL when closed */
  fb_builder_t fbb;       /* responses and notifications */
  fb_builder_t log_fbb;   /* Log messages: a log line may be written while fbb holds a half-built body */
  sfu_hmap_t handlers;
  sfu_list_t handler_list;
  sfu_handler_t *root; /* the Worker: WORKER_* requests and WORKER_CLOSE */
  sfu_list_t closing;
  uv_idle_t reaper;
  bool reaper_active;
  sfu_ctx_stats_t stats;
  char pid_str[24];
};

int sfu_ctx_init(sfu_ctx_t *ctx, uv_loop_t *loop, sfu_settings_t *settings);
/* Frees builders and the registry; call after every object was closed. */
void sfu_ctx_destroy(sfu_ctx_t *ctx);

/* Attaches the channel: incoming frames are verified and dispatched, logs go out as Log messages. */
void sfu_ctx_attach_channel(sfu_ctx_t *ctx, sfu_channel_t *ch);
void sfu_ctx_detach_channel(sfu_ctx_t *ctx);

/* Handles one frame from the channel (verification first). Exposed for tests and fuzzing. */
void sfu_ctx_on_frame(sfu_ctx_t *ctx, const uint8_t *msg, size_t len);

int sfu_ctx_register(sfu_ctx_t *ctx, sfu_handler_t *h, const char *id, size_t id_len);
void sfu_ctx_unregister(sfu_ctx_t *ctx, sfu_handler_t *h);
sfu_handler_t *sfu_ctx_find(sfu_ctx_t *ctx, const char *id, size_t id_len);

/* Sends a notification from the worker. body_type 0 = none (body_ref ignored). The body
 * must have been built in ctx->fbb. Returns 0 or a negative code. */
int sfu_ctx_notify(sfu_ctx_t *ctx, const char *handler_id, uint8_t event, uint8_t body_type, fb_ref_t body_ref);

/* Queues c; c->reap runs at the end of the loop turn. */
void sfu_ctx_defer(sfu_ctx_t *ctx, sfu_closing_t *c, void (*reap)(sfu_closing_t *c));
/* Runs every pending reap now (shutdown) and closes the reaper handle. */
void sfu_ctx_close(sfu_ctx_t *ctx);

#endif
