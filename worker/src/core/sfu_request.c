#include "sfu_request.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_error.h"

/* Builds Message{Response{...}} around whatever body is already in ctx->fbb and sends it. */
static void sfu__respond(sfu_request_t *req, bool accepted, uint8_t body_type, fb_ref_t body, const char *error,
                         const char *reason) {
  sfu_ctx_t *ctx = req->ctx;
  fb_builder_t *b = &ctx->fbb;
  const uint8_t *out;
  size_t out_len;

  if (req->replied) {
    SFU_ERROR(&ctx->log, "request already replied [method:%s, id:%u]", req->method_name, req->id);
    fb_builder_clear(b);
    return;
  }
  req->replied = true;
  if (ctx->channel == NULL) {
    fb_builder_clear(b);
    return;
  }

  fb_ref_t err_ref = error != NULL ? fb_create_cstring(b, error) : 0;
  fb_ref_t reason_ref = reason != NULL ? fb_create_cstring(b, reason) : 0;
  FBS_Response_Response_start(b);
  FBS_Response_Response_add_id(b, req->id);
  FBS_Response_Response_add_accepted(b, accepted);
  if (body_type != 0) FBS_Response_Response_add_body(b, body_type, body);
  FBS_Response_Response_add_error(b, err_ref);
  FBS_Response_Response_add_reason(b, reason_ref);
  fb_ref_t resp = FBS_Response_Response_end(b);
  FBS_Message_Message_start(b);
  FBS_Message_Message_add_data(b, FBS_Message_Body_Response, resp);
  fb_ref_t msg = FBS_Message_Message_end(b);

  int r = fb_builder_finish(b, msg, &out, &out_len);
  if (r != 0) {
    int berr = fb_builder_error(b);
    fb_builder_clear(b);
    SFU_ERROR(&ctx->log, "could not build response [method:%s]: %s", req->method_name, fb_strerror(berr ? berr : r));
    if (accepted) {
      /* Tell Node something went wrong rather than leaving the request pending. */
      req->replied = false;
      sfu__respond(req, false, 0, 0, "Error", "internal error building the response");
    }
    return;
  }
  if (sfu_channel_send(ctx->channel, out, out_len) != 0)
    SFU_ERROR(&ctx->log, "could not send response [method:%s]", req->method_name);
  fb_builder_clear(b);
}

void sfu_request_accept(sfu_request_t *req) { sfu__respond(req, true, 0, 0, NULL, NULL); }

void sfu_request_accept_body(sfu_request_t *req, uint8_t body_type, fb_ref_t body) {
  sfu__respond(req, true, body_type, body, NULL, NULL);
}

void sfu_request_fail(sfu_request_t *req, int err, const char *fmt, ...) {
  char reason[512];
  char full[600];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(reason, sizeof(reason), fmt, ap);
  va_end(ap);
  snprintf(full, sizeof(full), "%s [method:%s]", reason, req->method_name);
  SFU_WARN(&req->ctx->log, "request failed [id:%u]: %s", req->id, full);
  /* Whatever the handler had started to build is dropped. */
  fb_builder_clear(&req->ctx->fbb);
  sfu__respond(req, false, 0, 0, sfu_error_kind(err), full);
}

void sfu_request_not_implemented(sfu_request_t *req) {
  sfu_request_fail(req, SFU_ENOTSUP, "method not implemented by this worker");
}

bool sfu_request_body(sfu_request_t *req, uint8_t body_type, fb_table_t *out) {
  if (req->body_type != body_type || req->body.buf == NULL) {
    sfu_request_fail(req, SFU_EINVAL, "missing or wrong request body");
    return false;
  }
  *out = req->body;
  return true;
}

char *sfu_strdup_fb(fb_str_t s) {
  if (s.ptr == NULL) return NULL;
  char *p = malloc((size_t)s.len + 1);
  if (p == NULL) return NULL;
  memcpy(p, s.ptr, s.len);
  p[s.len] = '\0';
  return p;
}
