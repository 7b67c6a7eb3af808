/* sfu-worker: a media worker that the mediasoup 3.27.1 Node library drives as
 * its own mediasoup-worker. Exit codes as mediasoup's: 0 after a clean close,
 * 40 unexpected failure, 41 run without MEDIASOUP_VERSION (not spawned by the
 * library), 42 bad settings (the library turns it into a TypeError). */
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "sfu_cert.h"
#include "sfu_ctx.h"
#include "sfu_error.h"
#include "sfu_settings.h"
#include "sfu_srtp.h"
#include "sfu_worker.h"

#define SFU_CONSUMER_CHANNEL_FD 3 /* Node writes, we read */
#define SFU_PRODUCER_CHANNEL_FD 4 /* we write, Node reads */

enum { SFU_EXIT_OK = 0, SFU_EXIT_FAILURE = 40, SFU_EXIT_NO_PARENT = 41, SFU_EXIT_SETTINGS = 42 };

static void sfu__ignore_signals(void) {
  static const int sigs[] = {SIGPIPE, SIGHUP, SIGALRM, SIGUSR1, SIGUSR2};
  struct sigaction act;
  memset(&act, 0, sizeof(act));
  act.sa_handler = SIG_IGN;
  sigemptyset(&act.sa_mask);
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) sigaction(sigs[i], &act, NULL);
}

int main(int argc, char **argv) {
  sfu_settings_t settings;
  sfu_cert_t cert;
  sfu_ctx_t ctx;
  sfu_worker_t worker;
  uv_loop_t loop;
  char err[512] = "";
  int code = SFU_EXIT_FAILURE;

  if (getenv("MEDIASOUP_VERSION") == NULL) {
    fprintf(stderr, "sfu-worker: MEDIASOUP_VERSION is not set: this program is spawned by the mediasoup library\n");
    return SFU_EXIT_NO_PARENT;
  }

  sfu_settings_init(&settings);
  if (sfu_settings_parse(&settings, argc, argv, err, sizeof(err)) != 0) {
    fprintf(stderr, "sfu-worker: settings error: %s\n", err);
    sfu_settings_free(&settings);
    return SFU_EXIT_SETTINGS;
  }

  OPENSSL_init_ssl(0, NULL);
  if (settings.dtls_certificate_file != NULL) {
    if (sfu_cert_load(&cert, settings.dtls_certificate_file, settings.dtls_private_key_file, err, sizeof(err)) != 0) {
      fprintf(stderr, "sfu-worker: settings error: %s\n", err);
      sfu_settings_free(&settings);
      return SFU_EXIT_SETTINGS;
    }
  } else if (sfu_cert_generate(&cert) != 0) {
    fprintf(stderr, "sfu-worker: cannot generate the DTLS certificate\n");
    sfu_settings_free(&settings);
    return SFU_EXIT_FAILURE;
  }

  sfu__ignore_signals();
  if (sfu_srtp_init() != 0) {
    fprintf(stderr, "sfu-worker: cannot initialize libsrtp\n");
    sfu_cert_free(&cert);
    sfu_settings_free(&settings);
    return SFU_EXIT_FAILURE;
  }

  if (uv_loop_init(&loop) != 0) goto out_cert;
  if (sfu_ctx_init(&ctx, &loop, &settings) != 0) goto out_loop;
  if (sfu_worker_init(&worker, &ctx, &cert, SFU_CONSUMER_CHANNEL_FD, SFU_PRODUCER_CHANNEL_FD) != 0) {
    fprintf(stderr, "sfu-worker: cannot open the channel on fds %d and %d\n", SFU_CONSUMER_CHANNEL_FD,
            SFU_PRODUCER_CHANNEL_FD);
    sfu_ctx_close(&ctx);
    uv_run(&loop, UV_RUN_DEFAULT);
    goto out_ctx;
  }

  SFU_DEBUG(&ctx.log, "worker running [pid:%s, logLevel:%s]", ctx.pid_str,
            sfu_settings_log_level_name(settings.log_level));
  uv_run(&loop, UV_RUN_DEFAULT);
  code = SFU_EXIT_OK;

out_ctx:
  sfu_ctx_destroy(&ctx);
out_loop:
  if (uv_loop_close(&loop) != 0) {
    fprintf(stderr, "sfu-worker: handles left open at exit\n");
    if (code == SFU_EXIT_OK) code = SFU_EXIT_FAILURE;
  }
out_cert:
  sfu_srtp_shutdown();
  sfu_cert_free(&cert);
  sfu_settings_free(&settings);
  return code;
}
