/* One accepted TCP connection (passive only) carrying RFC 4571 frames: a
 * 16-bit big-endian length before every STUN/DTLS/RTP/RTCP packet.
 *
 * Receiving: each read goes straight into the RFC 4571 decoder's buffer;
 * every complete non-empty frame is passed to on_packet (null packets are
 * skipped). A packet is at most 65535 bytes, so the buffer stays under
 * 64 KiB + one read.
 *
 * Sending: sfu_tcp_conn_send() writes prefix + payload with uv_try_write();
 * what the kernel does not take is queued with uv_write() (a copy) as long as
 * the queue stays under max_queued bytes (default SFU_TCP_CONN_MAX_QUEUED);
 * beyond that the whole packet is dropped (never part of one) and counted.
 * It never blocks.
 *
 * Closing: a connection ends on peer EOF/reset (SFU_TCP_CLOSE_PEER), on a
 * read or write error (SFU_TCP_CLOSE_ERROR) or with sfu_tcp_conn_close()
 * (SFU_TCP_CLOSE_LOCAL). In every case the handle's data pointer is cleared
 * and uv_close() called at once (queued writes are dropped and counted), no
 * further on_packet is delivered, and later, from libuv's close phase (never
 * from inside a call into this module), on_closed(conn, reason) runs, then
 * the close callback given to sfu_tcp_conn_close() if any, then the memory is
 * freed. Exception: after sfu_tcp_server_close() no on_closed is called for
 * any of that server's connections (the owner is going away). */
#ifndef SFU_TCP_CONN_H
#define SFU_TCP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sfu_list.h"
#include "sfu_rfc4571.h"
#include "sfu_tuple.h"

#define SFU_TCP_CONN_MAX_QUEUED (1024u * 1024u)
#define SFU_TCP_CONN_READ_MIN 4096u /* least room offered to a read */

typedef struct sfu_tcp_conn sfu_tcp_conn_t;
typedef struct sfu_tcp_server sfu_tcp_server_t;

typedef enum sfu_tcp_close_reason {
  SFU_TCP_CLOSE_LOCAL = 0, /* sfu_tcp_conn_close() */
  SFU_TCP_CLOSE_PEER = 1,  /* EOF, reset, broken pipe */
  SFU_TCP_CLOSE_ERROR = 2, /* other read/write error, out of memory */
  SFU_TCP_CLOSE_SERVER = 3 /* the server closed (no on_closed then) */
} sfu_tcp_close_reason_t;

typedef void (*sfu_tcp_conn_packet_cb)(sfu_tcp_conn_t *conn, const uint8_t *p, size_t len);
typedef void (*sfu_tcp_conn_closed_cb)(sfu_tcp_conn_t *conn, sfu_tcp_close_reason_t reason);
typedef void (*sfu_tcp_conn_close_cb)(sfu_tcp_conn_t *conn);

typedef struct sfu_tcp_conn_stats {
  uint64_t packets_in, bytes_in;   /* bytes_in: raw stream bytes */
  uint64_t empty_in;               /* null packets skipped */
  uint64_t packets_out, bytes_out; /* packets (payload bytes) fully handed to the kernel */
  uint64_t dropped_queue_full;     /* send() over max_queued */
  uint64_t dropped_on_close;       /* writes still queued when the connection closed */
  uint64_t write_errors;
  size_t queued_bytes, queued_writes;
} sfu_tcp_conn_stats_t;

struct sfu_tcp_conn {
  void *data;       /* owner's: set it in the server's on_connection */
  uv_tcp_t handle;  /* handle.data = this connection while open, NULL once closing */
  sfu_tcp_server_t *server; /* NULL once the server closed */
  sfu_list_t link;  /* in server->conns until freed or the server closes */
  sfu_rfc4571_decoder_t decoder;
  sfu_tcp_conn_packet_cb on_packet; /* from the server's callbacks; may be changed */
  sfu_tcp_conn_closed_cb on_closed;
  sfu_tcp_conn_close_cb close_cb;
  struct sockaddr_storage local, remote;
  char local_ip[INET6_ADDRSTRLEN], remote_ip[INET6_ADDRSTRLEN];
  uint16_t local_port, remote_port;
  size_t max_queued; /* bytes; may be changed at any time */
  sfu_tcp_conn_stats_t stats;
  sfu_tcp_close_reason_t reason;
  bool closing;
  bool notify; /* call on_closed from the close callback */
};

/* Never blocks. 0 = written or queued; SFU_EINVAL (len 0 or > 65535, p NULL);
 * SFU_ESTATE (closing); SFU_ENOMEM (queue full: dropped); SFU_EIO (write
 * error: the connection is closing with SFU_TCP_CLOSE_ERROR/PEER). */
int sfu_tcp_conn_send(sfu_tcp_conn_t *conn, const uint8_t *p, size_t len);

/* Local close (see above); cb may be NULL. Idempotent. */
void sfu_tcp_conn_close(sfu_tcp_conn_t *conn, sfu_tcp_conn_close_cb cb);

static inline const struct sockaddr *sfu_tcp_conn_local_addr(const sfu_tcp_conn_t *c) {
  return (const struct sockaddr *)&c->local;
}
static inline const struct sockaddr *sfu_tcp_conn_remote_addr(const sfu_tcp_conn_t *c) {
  return (const struct sockaddr *)&c->remote;
}
void sfu_tcp_conn_tuple(sfu_tcp_conn_t *conn, sfu_tuple_t *out);

const char *sfu_tcp_close_reason_name(sfu_tcp_close_reason_t reason);

/* Internal to sfu_tcp_server.c. */
/* Accepts the pending connection of srv into a new conn (not yet reading).
 * On failure nothing is left for the caller to clean up. */
int sfu__tcp_conn_accept(sfu_tcp_server_t *srv, uv_loop_t *loop, sfu_tcp_conn_t **out);
int sfu__tcp_conn_start(sfu_tcp_conn_t *conn);
/* Closes (if open) without on_closed, and detaches from the server. */
void sfu__tcp_conn_close_silent(sfu_tcp_conn_t *conn, sfu_tcp_close_reason_t reason);

#endif
