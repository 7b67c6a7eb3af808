/*
 * libFuzzer target for worker/src/dtls/sfu_dtls (OpenSSL behind it).
 *
 * Input: [0] mode: bit 0 = we are the client (our ClientHello goes out
 * first), else the server; bit 1 = a remote fingerprint is set (a wrong
 * one). Then datagrams, each as a big-endian u16 length + bytes (a short
 * tail is one last datagram). Every datagram goes to sfu_dtls_process();
 * the timer is not run. Checked: every datagram we send passes the RFC 7983
 * test and fits the MTU, states only move forward, nothing leaks after close.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "sfu_cert.h"
#include "sfu_ctx.h"
#include "sfu_dtls.h"
#include "sfu_dtls_ctx.h"
#include "sfu_error.h"

#define CHECK(x)          \
  do {                    \
    if (!(x)) __builtin_trap(); \
  } while (0)

static uv_loop_t loop;
static sfu_settings_t settings;
static sfu_ctx_t ctx;
static sfu_cert_t cert;
static sfu_dtls_ctx_t dc;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  CHECK(uv_loop_init(&loop) == 0);
  sfu_settings_init(&settings);
  settings.log_level = SFU_LOG_LEVEL_NONE;
  CHECK(sfu_ctx_init(&ctx, &loop, &settings) == 0);
  CHECK(sfu_cert_generate(&cert) == 0);
  CHECK(sfu_dtls_ctx_init(&dc, &ctx, &cert, NULL) == 0);
  return 0;
}

static void on_send(sfu_dtls_t *d, const uint8_t *p, size_t len) {
  CHECK(sfu_dtls_is_dtls(p, len));
  CHECK(len <= d->dc->opts.mtu);
}

static void on_state(sfu_dtls_t *d, sfu_dtls_state_t st) {
  int *last = d->data;
  CHECK((int)st > *last || st == SFU_DTLS_CONNECTING);
  *last = (int)st;
}

static void on_keys(sfu_dtls_t *d, sfu_srtp_suite_t suite, const uint8_t *l, size_t ll, const uint8_t *r, size_t rl) {
  (void)d, (void)l, (void)r;
  CHECK(ll == sfu_srtp_key_len(suite) && rl == ll);
}

static void on_app_data(sfu_dtls_t *d, const uint8_t *p, size_t len) {
  (void)p;
  CHECK(d->state == SFU_DTLS_CONNECTED && len > 0);
}

static void on_closed(sfu_dtls_t *d) {
  (void)d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const sfu_dtls_callbacks_t cb = {on_send, on_state, on_keys, on_app_data};
  sfu_dtls_t *d = NULL;
  int last = 0;
  if (size < 1) return 0;
  uint8_t mode = data[0];
  CHECK(sfu_dtls_create(&dc, &cb, &last, &d) == 0);
  if (mode & 2) CHECK(sfu_dtls_set_remote_fingerprint(d, SFU_FP_SHA256, cert.fingerprints[SFU_FP_SHA256]) == 0);
  CHECK(sfu_dtls_run(d, (mode & 1) ? SFU_DTLS_ROLE_CLIENT : SFU_DTLS_ROLE_SERVER) == 0);
  size_t off = 1;
  while (off < size) {
    size_t len;
    if (size - off >= 2) {
      len = ((size_t)data[off] << 8) | data[off + 1];
      off += 2;
      if (len > size - off) len = size - off;
    } else {
      len = size - off;
    }
    int r = sfu_dtls_process(d, data + off, len);
    CHECK(r == 0 || r == SFU_EPROTO || r == SFU_ESTATE);
    off += len;
  }
  if (d->state == SFU_DTLS_CONNECTED) CHECK(sfu_dtls_send_app_data(d, (const uint8_t *)"x", 1) == 0);
  sfu_dtls_close(d, on_closed);
  while (!sfu_list_empty(&ctx.closing)) uv_run(&loop, UV_RUN_NOWAIT);
  uv_run(&loop, UV_RUN_NOWAIT);
  return 0;
}
