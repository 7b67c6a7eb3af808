/* A channel request from Node and the one answer it gets. Handlers read the
 * verified body, build a response body in ctx->fbb if they have one, and call
 * exactly one of accept / accept_body / fail. */
#ifndef SFU_REQUEST_H
#define SFU_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "fb.h"
#include "sfu_ctx.h"

struct sfu_request {
  sfu_ctx_t *ctx;
  uint32_t id;
  uint8_t method;
  const char *method_name; /* "WORKER_DUMP"... or "UNKNOWN" */
  fb_str_t handler_id;
  uint8_t body_type;
  fb_table_t body;
  bool replied;
};

struct sfu_notification {
  sfu_ctx_t *ctx;
  uint8_t event;
  const char *event_name;
  fb_str_t handler_id;
  uint8_t body_type;
  fb_table_t body;
};

void sfu_request_accept(sfu_request_t *req);
void sfu_request_accept_body(sfu_request_t *req, uint8_t body_type, fb_ref_t body);
/* Rejects with the error kind of `err` (TypeError, NotFoundError, Error) and a reason. */
void sfu_request_fail(sfu_request_t *req, int err, const char *fmt, ...) SFU__PRINTF(3, 4);
/* Standard rejection of a method this object does not (yet) implement. */
void sfu_request_not_implemented(sfu_request_t *req);

/* Body of the expected type, or fails the request with TypeError and returns false. */
bool sfu_request_body(sfu_request_t *req, uint8_t body_type, fb_table_t *out);

/* Copies an fb_str_t into a NUL-terminated heap string (NULL on failure). */
char *sfu_strdup_fb(fb_str_t s);

#endif
