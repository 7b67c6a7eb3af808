/* The Worker object: answers WORKER_* requests, owns the routers (and later
 * the WebRtcServers), and shuts the process down on WORKER_CLOSE, channel EOF,
 * SIGINT or SIGTERM. */
#ifndef SFU_WORKER_H
#define SFU_WORKER_H

#include <stdbool.h>
#include <uv.h>

#include "sfu_cert.h"
#include "sfu_channel.h"
#include "sfu_ctx.h"
#include "sfu_dtls_ctx.h"
#include "sfu_port_manager.h"
#include "sfu_transport.h"

typedef struct sfu_webrtc_server sfu_webrtc_server_t;

typedef struct sfu_worker sfu_worker_t;
typedef void (*sfu_worker_close_cb)(sfu_worker_t *w);

struct sfu_worker {
  sfu_ctx_t *ctx;
  sfu_cert_t *cert;
  sfu_channel_t channel;
  sfu_handler_t handler; /* root handler of ctx */
  sfu_hmap_t routers_by_id;
  sfu_list_t routers;
  sfu_webrtc_server_t **servers; /* WebRtcServers, creation order */
  size_t nservers, servers_cap;
  sfu_port_manager_t port_manager;
  sfu_dtls_ctx_t dtls_ctx;
  bool dtls_ctx_ready;
  sfu_transport_env_t transport_env; /* what routers give their transports */
  uv_signal_t sigint;
  uv_signal_t sigterm;
  sfu_worker_close_cb close_cb;
  int pending_closes;
  bool closing;
};

/* Opens the channel on (read_fd, write_fd), installs signal handlers and sends WORKER_RUNNING. */
int sfu_worker_init(sfu_worker_t *w, sfu_ctx_t *ctx, sfu_cert_t *cert, uv_file read_fd, uv_file write_fd);
sfu_webrtc_server_t *sfu_worker_get_webrtc_server(sfu_worker_t *w, const char *id, size_t len);

/* Closes everything; cb runs once every handle of the worker is closed. Idempotent. */
void sfu_worker_close(sfu_worker_t *w, sfu_worker_close_cb cb);

#endif
