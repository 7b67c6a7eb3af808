/*
 * sfu_channel: the worker's message channel to the Node library over two
 * pipes (the worker reads fd 3 and writes fd 4). Each message is a 4-byte
 * little-endian length followed by the payload (a FlatBuffer the channel
 * does not interpret); framing is done by sfu_frame.
 *
 * Errors are 0 or negative libuv codes (UV_E*).
 *
 * Lifecycle
 *   sfu_channel_init() takes both fds and starts reading.
 *   sfu_channel_close() stops reading, drops queued writes and closes both
 *   pipes; the close callback runs once both are closed, from the loop. The
 *   memory of the sfu_channel_t must stay valid until then (the struct is
 *   public so it can be embedded; free it in the close callback or later).
 *
 * Writes never block: a frame goes out with uv_try_write() when nothing is
 * queued; what the pipe does not take is copied and queued with uv_write().
 * Queued bytes are capped (SFU_CHANNEL_MAX_QUEUED by default); a send that
 * would exceed the cap is dropped, counted, and fails with UV_ENOBUFS.
 *
 * Writing to a pipe whose reader is gone raises SIGPIPE: the process must
 * ignore SIGPIPE (the worker's main does; the channel leaves process-wide
 * signal state alone). Writes then fail with UV_EPIPE.
 *
 * The channel logs nothing; drops and errors are counted in the stats.
 */
#ifndef SFU_CHANNEL_H
#define SFU_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "sfu_frame.h"

/* Default cap on bytes waiting in the write queue. */
#define SFU_CHANNEL_MAX_QUEUED (64u * 1024u * 1024u)

typedef struct sfu_channel sfu_channel_t;

/* One complete frame payload, unverified; may be empty (len == 0). Valid
 * only during the call. The callback may send, and may close the channel:
 * then no further message is delivered. */
typedef void (*sfu_channel_msg_cb)(sfu_channel_t *ch, const uint8_t *msg,
                                   size_t len);
/* Peer closed (UV_EOF) or read error (other negative code). Called at most
 * once; reading has stopped, sending still works until close. */
typedef void (*sfu_channel_eof_cb)(sfu_channel_t *ch, int status);
typedef void (*sfu_channel_close_cb)(sfu_channel_t *ch);

typedef struct sfu_channel_stats {
  uint64_t frames_in;          /* frames delivered to on_msg */
  uint64_t frames_out;         /* frames completely written to the pipe */
  uint64_t oversized_in;       /* length prefixes > 4 MiB read (resyncs) */
  uint64_t dropped_queue_full; /* sends refused: write queue cap reached */
  uint64_t dropped_on_close;   /* queued frames discarded by close */
  uint64_t write_errors;       /* failed writes (the pipe is then unusable) */
  size_t queued_bytes;         /* bytes waiting in the write queue */
  size_t queued_frames;        /* frames waiting in the write queue */
} sfu_channel_stats_t;

struct sfu__channel_pipe; /* private: a uv_pipe_t kept apart from the channel */

struct sfu_channel {
  void *data; /* user */

  /* Private below: use the functions. */
  uv_loop_t *loop;
  struct sfu__channel_pipe *rd;
  struct sfu__channel_pipe *wr;
  sfu_channel_msg_cb on_msg;
  sfu_channel_eof_cb on_eof;
  sfu_channel_close_cb close_cb;
  sfu_frame_decoder_t decoder;
  size_t max_queued;
  int open_pipes;  /* pipes not yet closed by libuv */
  int closing;     /* sfu_channel_close() called (or init failed) */
  int eof_done;    /* on_eof delivered, or reading otherwise finished */
  int write_error; /* first write error; sends fail from then on */
  sfu_channel_stats_t stats;
};

/*
 * Open read_fd and write_fd as pipes (uv_pipe_open(): both are switched to
 * non-blocking mode) and start reading. read_fd and write_fd must be
 * distinct, open, and readable / writable respectively.
 *
 * On success the channel owns both fds and closes them in
 * sfu_channel_close(). `ch->data` is kept; everything else is reset.
 *
 * On failure (UV_EINVAL, UV_EBADF, UV_ENOMEM, or libuv's error such as
 * UV_EEXIST for an fd this loop already watches) the channel is left closed:
 * send fails with UV_EPIPE, close does nothing and never calls its cb. The
 * fds are checked before libuv takes them and stay open, with one residual
 * exception: if libuv accepted read_fd and then refused write_fd, read_fd
 * is closed with its handle. Internal handles are released on the next
 * loop turn.
 */
int sfu_channel_init(uv_loop_t *loop, sfu_channel_t *ch, uv_file read_fd,
                     uv_file write_fd, sfu_channel_msg_cb on_msg,
                     sfu_channel_eof_cb on_eof);

/*
 * Send one message: writes the 4-byte LE prefix + payload. The payload is
 * copied if it cannot be written at once; never blocks.
 * Returns 0, or UV_EINVAL (bad arguments), UV_EMSGSIZE (len > 4 MiB),
 * UV_EPIPE (channel closing/closed, or an earlier write failed),
 * UV_ENOBUFS (write queue cap reached; counted), UV_ENOMEM, or the error of
 * the immediate write attempt.
 */
int sfu_channel_send(sfu_channel_t *ch, const uint8_t *payload, size_t len);

/*
 * Stop reading, discard pending writes (counted in dropped_on_close), close
 * both pipes; `cb` (may be NULL) runs once both are closed. Safe from inside
 * on_msg / on_eof. Idempotent: later calls do nothing (their cb is ignored).
 */
void sfu_channel_close(sfu_channel_t *ch, sfu_channel_close_cb cb);

/* Change the write queue cap (default SFU_CHANNEL_MAX_QUEUED). */
void sfu_channel_set_max_queued(sfu_channel_t *ch, size_t bytes);

/* Snapshot of the counters. Valid at any time after init, also after
 * close. */
void sfu_channel_get_stats(const sfu_channel_t *ch, sfu_channel_stats_t *out);

#endif /* SFU_CHANNEL_H */
