/* libFuzzer target: arbitrary channel frames into a live worker (verification,
 * dispatch, every request handler), the path every byte from Node takes.
 * The worker and its channel (over socketpairs) persist across inputs and are
 * rebuilt every few hundred inputs so state (routers) stays bounded. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sfu_cert.h"
#include "sfu_ctx.h"
#include "sfu_worker.h"

typedef struct harness {
  uv_loop_t loop;
  sfu_settings_t settings;
  sfu_ctx_t ctx;
  sfu_worker_t worker;
  sfu_cert_t cert;
  int peer_in, peer_out;
  unsigned runs;
  int up;
} harness_t;

static harness_t h;

static void drain(void) {
  char buf[65536];
  while (read(h.peer_out, buf, sizeof(buf)) > 0) {
  }
}

static void harness_down(void) {
  if (!h.up) return;
  if (!h.worker.closing) sfu_worker_close(&h.worker, NULL);
  uv_run(&h.loop, UV_RUN_DEFAULT);
  sfu_ctx_destroy(&h.ctx);
  if (uv_loop_close(&h.loop) != 0) abort();
  sfu_settings_free(&h.settings);
  close(h.peer_in);
  close(h.peer_out);
  h.up = 0;
}

static void harness_up(void) {
  int in[2], out[2];
  if (h.cert.x509 == NULL && sfu_cert_generate(&h.cert) != 0) abort();
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, in) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, out) != 0) abort();
  h.peer_in = in[0];
  h.peer_out = out[0];
  fcntl(h.peer_out, F_SETFL, O_NONBLOCK);
  if (uv_loop_init(&h.loop) != 0) abort();
  sfu_settings_init(&h.settings);
  h.settings.log_level = SFU_LOG_LEVEL_DEBUG; /* exercise every log line */
  h.settings.log_tags = 0xffffffffu;
  if (sfu_ctx_init(&h.ctx, &h.loop, &h.settings) != 0) abort();
  if (sfu_worker_init(&h.worker, &h.ctx, &h.cert, in[1], out[1]) != 0) abort();
  h.up = 1;
  h.runs = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!h.up || h.worker.closing || ++h.runs > 300) {
    harness_down();
    harness_up();
  }
  sfu_ctx_on_frame(&h.ctx, data, size);
  uv_run(&h.loop, UV_RUN_NOWAIT); /* reap closed objects, flush writes */
  drain();
  return 0;
}
