/* The worker's request dispatch end to end in one process: a real loop, the
 * real channel over socketpairs, the Worker object, and FlatBuffers built and
 * verified with the generated code. Runs plain, under ASan/UBSan and valgrind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fb.h"
#include "fbs_generated.h"
#include "sfu_cert.h"
#include "sfu_ctx.h"
#include "sfu_worker.h"

typedef struct fixture {
  uv_loop_t loop;
  sfu_settings_t settings;
  sfu_ctx_t ctx;
  sfu_worker_t worker;
  sfu_cert_t cert;
  int to_worker;   /* we write requests here */
  int from_worker; /* we read responses here */
  uint8_t buf[1 << 16];
  size_t buf_len;
  bool closed;
} fixture_t;

static void on_worker_closed(sfu_worker_t *w) { (void)w; }

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof(*f));
  int in[2], out[2];
  assert_non_null(f);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, in), 0);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, out), 0);
  f->to_worker = in[0];
  f->from_worker = out[0];
  assert_int_equal(uv_loop_init(&f->loop), 0);
  sfu_settings_init(&f->settings);
  f->settings.log_level = SFU_LOG_LEVEL_DEBUG;
  assert_int_equal(sfu_cert_generate(&f->cert), 0);
  assert_int_equal(sfu_ctx_init(&f->ctx, &f->loop, &f->settings), 0);
  assert_int_equal(sfu_worker_init(&f->worker, &f->ctx, &f->cert, in[1], out[1]), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  if (!f->worker.closing) sfu_worker_close(&f->worker, on_worker_closed);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  sfu_ctx_destroy(&f->ctx);
  sfu_cert_free(&f->cert);
  sfu_settings_free(&f->settings);
  close(f->to_worker);
  close(f->from_worker);
  free(f);
  return 0;
}

static void send_bytes(fixture_t *f, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n > 0) {
    ssize_t w = write(f->to_worker, b, n);
    assert_true(w > 0);
    b += w;
    n -= (size_t)w;
  }
}

static void send_frame(fixture_t *f, const uint8_t *p, size_t n) {
  uint8_t hdr[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
  send_bytes(f, hdr, 4);
  send_bytes(f, p, n);
}

/* Runs the loop until one whole non-Log message arrives; returns its payload in f->buf. */
static size_t next_message(fixture_t *f) {
  for (int spins = 0; spins < 1000; spins++) {
    while (f->buf_len >= 4) {
      uint32_t len = (uint32_t)f->buf[0] | (uint32_t)f->buf[1] << 8 | (uint32_t)f->buf[2] << 16 | (uint32_t)f->buf[3] << 24;
      if (f->buf_len < 4 + (size_t)len) break;
      assert_int_equal(FBS_Message_Message_verify_root(f->buf + 4, len), 0);
      fb_table_t m = FBS_Message_Message_root(f->buf + 4, len);
      if (FBS_Message_Message_data_type(m) == FBS_Message_Body_Log) {
        memmove(f->buf, f->buf + 4 + len, f->buf_len - 4 - len);
        f->buf_len -= 4 + len;
        continue;
      }
      memmove(f->buf, f->buf + 4, f->buf_len - 4);
      f->buf_len -= 4;
      return len; /* caller consumes with consume() */
    }
    uv_run(&f->loop, UV_RUN_NOWAIT);
    struct pollfd p = {.fd = f->from_worker, .events = POLLIN};
    if (poll(&p, 1, 10) == 1) {
      ssize_t r = read(f->from_worker, f->buf + f->buf_len, sizeof(f->buf) - f->buf_len);
      if (r > 0) f->buf_len += (size_t)r;
    }
  }
  fail_msg("no message from the worker");
  return 0;
}

static void consume(fixture_t *f, size_t len) {
  memmove(f->buf, f->buf + len, f->buf_len - len);
  f->buf_len -= len;
}

/* Sends Message{Request} with an optional body built by body_fn. */
static void send_request(fixture_t *f, uint32_t id, uint8_t method, const char *handler_id,
                         fb_ref_t (*body_fn)(fb_builder_t *b, const char *arg), uint8_t body_type, const char *arg) {
  fb_builder_t b;
  const uint8_t *out;
  size_t out_len;
  assert_int_equal(fb_builder_init(&b, 256), 0);
  fb_ref_t body = body_fn != NULL ? body_fn(&b, arg) : 0;
  fb_ref_t hid = fb_create_cstring(&b, handler_id);
  FBS_Request_Request_start(&b);
  FBS_Request_Request_add_id(&b, id);
  FBS_Request_Request_add_method(&b, method);
  FBS_Request_Request_add_handler_id(&b, hid);
  if (body_fn != NULL) FBS_Request_Request_add_body(&b, body_type, body);
  fb_ref_t req = FBS_Request_Request_end(&b);
  FBS_Message_Message_start(&b);
  FBS_Message_Message_add_data(&b, FBS_Message_Body_Request, req);
  fb_ref_t msg = FBS_Message_Message_end(&b);
  assert_int_equal(fb_builder_finish(&b, msg, &out, &out_len), 0);
  send_frame(f, out, out_len);
  fb_builder_free(&b);
}

static fb_ref_t create_router_body(fb_builder_t *b, const char *id) {
  fb_ref_t s = fb_create_cstring(b, id);
  FBS_Worker_CreateRouterRequest_start(b);
  FBS_Worker_CreateRouterRequest_add_router_id(b, s);
  return FBS_Worker_CreateRouterRequest_end(b);
}

static fb_ref_t close_router_body(fb_builder_t *b, const char *id) {
  fb_ref_t s = fb_create_cstring(b, id);
  FBS_Worker_CloseRouterRequest_start(b);
  FBS_Worker_CloseRouterRequest_add_router_id(b, s);
  return FBS_Worker_CloseRouterRequest_end(b);
}

/* Reads the next Response, checks id and acceptance, returns it (valid until consume). */
static fb_table_t expect_response(fixture_t *f, uint32_t id, bool accepted, size_t *len_out) {
  size_t len = next_message(f);
  fb_table_t m = FBS_Message_Message_root(f->buf, len);
  assert_int_equal(FBS_Message_Message_data_type(m), FBS_Message_Body_Response);
  fb_table_t r = FBS_Message_Message_data(m);
  assert_int_equal(FBS_Response_Response_id(r), id);
  assert_int_equal(FBS_Response_Response_accepted(r), accepted);
  *len_out = len;
  return r;
}

static void expect_running(fixture_t *f) {
  size_t len = next_message(f);
  fb_table_t m = FBS_Message_Message_root(f->buf, len);
  assert_int_equal(FBS_Message_Message_data_type(m), FBS_Message_Body_Notification);
  fb_table_t n = FBS_Message_Message_data(m);
  assert_int_equal(FBS_Notification_Notification_event(n), FBS_Notification_Event_WORKER_RUNNING);
  assert_string_equal(FBS_Notification_Notification_handler_id(n).ptr, f->ctx.pid_str);
  consume(f, len);
}

static void test_running_and_dump(void **state) {
  fixture_t *f = *state;
  size_t len;
  expect_running(f);
  send_request(f, 7, FBS_Request_Method_WORKER_DUMP, "", NULL, 0, NULL);
  fb_table_t r = expect_response(f, 7, true, &len);
  assert_int_equal(FBS_Response_Response_body_type(r), FBS_Response_Body_Worker_DumpResponse);
  fb_table_t d = FBS_Response_Response_body(r);
  assert_int_equal(FBS_Worker_DumpResponse_pid(d), (uint32_t)getpid());
  assert_int_equal(FBS_Worker_DumpResponse_router_ids(d).len, 0);
  consume(f, len);
}

static void test_router_lifecycle(void **state) {
  fixture_t *f = *state;
  size_t len;
  fb_table_t r;
  expect_running(f);

  send_request(f, 1, FBS_Request_Method_WORKER_CREATE_ROUTER, "", create_router_body,
               FBS_Request_Body_Worker_CreateRouterRequest, "router-a");
  expect_response(f, 1, true, &len);
  consume(f, len);
  send_request(f, 2, FBS_Request_Method_WORKER_CREATE_ROUTER, "", create_router_body,
               FBS_Request_Body_Worker_CreateRouterRequest, "router-a");
  r = expect_response(f, 2, false, &len);
  assert_string_equal(FBS_Response_Response_error(r).ptr, "Error");
  consume(f, len);

  send_request(f, 3, FBS_Request_Method_ROUTER_DUMP, "router-a", NULL, 0, NULL);
  r = expect_response(f, 3, true, &len);
  fb_table_t d = FBS_Response_Response_body(r);
  assert_string_equal(FBS_Router_DumpResponse_id(d).ptr, "router-a");
  assert_int_equal(FBS_Router_DumpResponse_transport_ids(d).len, 0);
  consume(f, len);

  send_request(f, 4, FBS_Request_Method_WORKER_DUMP, "", NULL, 0, NULL);
  r = expect_response(f, 4, true, &len);
  d = FBS_Response_Response_body(r);
  fb_vec_t ids = FBS_Worker_DumpResponse_router_ids(d);
  assert_int_equal(ids.len, 1);
  assert_string_equal(fb_vec_str(ids, 0).ptr, "router-a");
  fb_table_t h = FBS_Worker_DumpResponse_channel_message_handlers(d);
  assert_int_equal(FBS_Worker_ChannelMessageHandlers_channel_request_handlers(h).len, 1);
  consume(f, len);

  /* A transport method on the router: not implemented, named in the reason. */
  send_request(f, 5, FBS_Request_Method_ROUTER_CREATE_WEBRTCTRANSPORT, "router-a", NULL, 0, NULL);
  r = expect_response(f, 5, false, &len);
  assert_non_null(strstr(FBS_Response_Response_reason(r).ptr, "ROUTER_CREATE_WEBRTCTRANSPORT"));
  consume(f, len);

  send_request(f, 6, FBS_Request_Method_WORKER_CLOSE_ROUTER, "", close_router_body,
               FBS_Request_Body_Worker_CloseRouterRequest, "router-a");
  expect_response(f, 6, true, &len);
  consume(f, len);
  send_request(f, 7, FBS_Request_Method_ROUTER_DUMP, "router-a", NULL, 0, NULL);
  r = expect_response(f, 7, false, &len);
  assert_string_equal(FBS_Response_Response_error(r).ptr, "NotFoundError");
  consume(f, len);
  send_request(f, 8, FBS_Request_Method_WORKER_CLOSE_ROUTER, "", close_router_body,
               FBS_Request_Body_Worker_CloseRouterRequest, "router-a");
  r = expect_response(f, 8, false, &len);
  assert_string_equal(FBS_Response_Response_error(r).ptr, "NotFoundError");
  consume(f, len);
  /* Leave one router open: closing the worker must free it (valgrind checks). */
  send_request(f, 9, FBS_Request_Method_WORKER_CREATE_ROUTER, "", create_router_body,
               FBS_Request_Body_Worker_CreateRouterRequest, "router-b");
  expect_response(f, 9, true, &len);
  consume(f, len);
}

static void test_malformed_frames_are_dropped(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t junk[300];
  expect_running(f);
  for (int i = 0; i < 50; i++) {
    for (size_t j = 0; j < sizeof(junk); j++) junk[j] = (uint8_t)(rand() >> 7);
    send_frame(f, junk, 1 + (size_t)(rand() % (int)sizeof(junk)));
  }
  send_frame(f, junk, 0);
  send_request(f, 42, FBS_Request_Method_WORKER_DUMP, "", NULL, 0, NULL);
  expect_response(f, 42, true, &len);
  consume(f, len);
  assert_true(f->ctx.stats.malformed >= 45); /* a random body may, rarely, verify */
}

static void test_worker_close_notification(void **state) {
  fixture_t *f = *state;
  fb_builder_t b;
  const uint8_t *out;
  size_t out_len;
  expect_running(f);
  assert_int_equal(fb_builder_init(&b, 128), 0);
  fb_ref_t hid = fb_create_cstring(&b, "");
  FBS_Notification_Notification_start(&b);
  FBS_Notification_Notification_add_handler_id(&b, hid);
  FBS_Notification_Notification_add_event(&b, FBS_Notification_Event_WORKER_CLOSE);
  fb_ref_t n = FBS_Notification_Notification_end(&b);
  FBS_Message_Message_start(&b);
  FBS_Message_Message_add_data(&b, FBS_Message_Body_Notification, n);
  fb_ref_t msg = FBS_Message_Message_end(&b);
  assert_int_equal(fb_builder_finish(&b, msg, &out, &out_len), 0);
  send_frame(f, out, out_len);
  fb_builder_free(&b);
  for (int i = 0; i < 200 && !f->worker.closing; i++) uv_run(&f->loop, UV_RUN_NOWAIT);
  assert_true(f->worker.closing);
  /* The loop ends on its own: no handle left behind. */
  assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
}

static void test_peer_eof_closes_worker(void **state) {
  fixture_t *f = *state;
  expect_running(f);
  shutdown(f->to_worker, SHUT_WR);
  assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
  assert_true(f->worker.closing);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_running_and_dump, setup, teardown),
      cmocka_unit_test_setup_teardown(test_router_lifecycle, setup, teardown),
      cmocka_unit_test_setup_teardown(test_malformed_frames_are_dropped, setup, teardown),
      cmocka_unit_test_setup_teardown(test_worker_close_notification, setup, teardown),
      cmocka_unit_test_setup_teardown(test_peer_eof_closes_worker, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
