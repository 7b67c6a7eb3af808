/*
 * sfu_channel: length-prefixed message channel over two libuv pipes. See
 * sfu_channel.h for the contract.
 *
 * Handles live in their own allocations (struct sfu__channel_pipe), apart
 * from the channel: handle.data points at the channel while it is open and
 * is cleared when closing starts, and every libuv callback checks it. The
 * `owner` field is read only by the close callback, which is how the
 * channel learns that both pipes are gone before calling the user's close
 * callback.
 */
#define _POSIX_C_SOURCE 200809L

#include "sfu_channel.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* sfu_frame returns negative errno values; on Unix they are libuv's codes. */
_Static_assert(UV_EINVAL == -EINVAL, "libuv error codes are not -errno");
_Static_assert(UV_EMSGSIZE == -EMSGSIZE, "libuv error codes are not -errno");
_Static_assert(UV_ENOMEM == -ENOMEM, "libuv error codes are not -errno");
_Static_assert(UV_ECANCELED == -ECANCELED, "libuv error codes are not -errno");

#define SFU__CONTAINER_OF(ptr, type, field)                                    \
  ((type *)(void *)((char *)(ptr) - offsetof(type, field)))

struct sfu__channel_pipe {
  uv_pipe_t handle;     /* handle.data: the channel while open, else NULL */
  sfu_channel_t *owner; /* for on_pipe_close only; NULL if init failed */
};

/* One queued frame: the request and the unwritten bytes, one allocation. */
typedef struct sfu__channel_write {
  uv_write_t req;
  size_t len;
  uint8_t bytes[];
} sfu__channel_write_t;

static void sfu__channel_on_pipe_close(uv_handle_t *handle) {
  struct sfu__channel_pipe *p;
  sfu_channel_t *ch;
  sfu_channel_close_cb cb;

  p = SFU__CONTAINER_OF(handle, struct sfu__channel_pipe, handle);
  ch = p->owner;
  free(p);
  if (ch == NULL)
    return;
  if (--ch->open_pipes > 0)
    return;

  sfu_frame_decoder_free(&ch->decoder);
  cb = ch->close_cb;
  ch->close_cb = NULL;
  if (cb != NULL)
    cb(ch); /* may free ch: touch nothing after this */
}

static void sfu__channel_on_alloc(uv_handle_t *handle, size_t suggested,
                                  uv_buf_t *buf) {
  sfu_channel_t *ch;
  uint8_t *p;
  size_t avail;

  ch = handle->data;
  if (ch == NULL ||
      sfu_frame_decoder_reserve(&ch->decoder, suggested, &p, &avail) != 0) {
    /* libuv reports UV_ENOBUFS to the read callback */
    buf->base = NULL;
    buf->len = 0;
    return;
  }
  buf->base = (char *)p;
  buf->len = avail;
}

static void sfu__channel_on_frame(void *arg, const uint8_t *payload,
                                  size_t len) {
  sfu_channel_t *ch;

  ch = arg;
  /* The decoder stops as soon as the channel closes, so this never runs
   * for a closing channel. */
  ch->on_msg(ch, payload, len);
}

static void sfu__channel_read_done(sfu_channel_t *ch, uv_stream_t *stream,
                                   int status) {
  uv_read_stop(stream);
  if (ch->eof_done)
    return;
  ch->eof_done = 1;
  if (ch->on_eof != NULL)
    ch->on_eof(ch, status);
}

static void sfu__channel_on_read(uv_stream_t *stream, ssize_t nread,
                                 const uv_buf_t *buf) {
  sfu_channel_t *ch;
  int rc;

  (void)buf; /* the bytes are already in the decoder's buffer */
  ch = stream->data;
  if (ch == NULL)
    return;

  if (nread > 0) {
    rc = sfu_frame_decoder_commit(&ch->decoder, (size_t)nread,
                                  sfu__channel_on_frame, ch);
    /* -EMSGSIZE: resynced, counted by the decoder. -ECANCELED: closed from
     * on_msg. Anything else cannot happen, but would leave the stream in an
     * unknown state: stop reading. */
    if (rc < 0 && rc != UV_EMSGSIZE && rc != UV_ECANCELED && !ch->closing)
      sfu__channel_read_done(ch, stream, rc);
    return;
  }
  if (nread == 0)
    return; /* EAGAIN */

  sfu__channel_read_done(ch, stream, (int)nread);
}

static void sfu__channel_on_write(uv_write_t *req, int status) {
  sfu__channel_write_t *w;
  sfu_channel_t *ch;
  size_t len;

  w = SFU__CONTAINER_OF(req, sfu__channel_write_t, req);
  ch = req->handle->data;
  len = w->len;
  free(w);
  if (ch == NULL)
    return; /* closing: already counted in dropped_on_close */

  ch->stats.queued_bytes -= len;
  ch->stats.queued_frames--;
  if (status == 0) {
    ch->stats.frames_out++;
  } else {
    ch->stats.write_errors++;
    if (ch->write_error == 0)
      ch->write_error = status;
  }
}

/* Checks the access mode of an fd: `forbidden` is O_RDONLY or O_WRONLY. */
static int sfu__channel_check_fd(uv_file fd, int forbidden) {
  int flags;

  if (fd < 0)
    return UV_EINVAL;
  flags = fcntl(fd, F_GETFL);
  if (flags == -1)
    return -errno;
  if ((flags & O_ACCMODE) == forbidden)
    return UV_EINVAL;
  return 0;
}

int sfu_channel_init(uv_loop_t *loop, sfu_channel_t *ch, uv_file read_fd,
                     uv_file write_fd, sfu_channel_msg_cb on_msg,
                     sfu_channel_eof_cb on_eof) {
  struct sfu__channel_pipe *rd, *wr;
  void *data;
  int rc;

  if (ch == NULL)
    return UV_EINVAL;

  /* Keep the user's data pointer; start from a closed channel so that a
   * failed init leaves something send/close handle safely. */
  data = ch->data;
  memset(ch, 0, sizeof(*ch));
  ch->data = data;
  ch->closing = 1;
  ch->eof_done = 1;
  ch->max_queued = SFU_CHANNEL_MAX_QUEUED;
  sfu_frame_decoder_init(&ch->decoder);

  if (loop == NULL || on_msg == NULL || read_fd == write_fd)
    return UV_EINVAL;
  rc = sfu__channel_check_fd(read_fd, O_WRONLY);
  if (rc != 0)
    return rc;
  rc = sfu__channel_check_fd(write_fd, O_RDONLY);
  if (rc != 0)
    return rc;

  rd = malloc(sizeof(*rd));
  wr = malloc(sizeof(*wr));
  if (rd == NULL || wr == NULL) {
    free(rd);
    free(wr);
    return UV_ENOMEM;
  }
  rd->owner = NULL;
  wr->owner = NULL;

  /* uv_pipe_init() cannot fail on Unix, but handle it anyway. */
  rc = uv_pipe_init(loop, &rd->handle, 0);
  if (rc != 0) {
    free(rd);
    free(wr);
    return rc;
  }
  rd->handle.data = NULL;
  rc = uv_pipe_init(loop, &wr->handle, 0);
  if (rc != 0) {
    free(wr);
    wr = NULL;
    goto fail;
  }
  wr->handle.data = NULL;

  rc = uv_pipe_open(&rd->handle, read_fd);
  if (rc != 0)
    goto fail;
  rc = uv_pipe_open(&wr->handle, write_fd);
  if (rc != 0)
    goto fail;
  rc = uv_read_start((uv_stream_t *)&rd->handle, sfu__channel_on_alloc,
                     sfu__channel_on_read);
  if (rc != 0)
    goto fail;

  rd->owner = ch;
  wr->owner = ch;
  rd->handle.data = ch;
  wr->handle.data = ch;
  ch->loop = loop;
  ch->rd = rd;
  ch->wr = wr;
  ch->on_msg = on_msg;
  ch->on_eof = on_eof;
  ch->open_pipes = 2;
  ch->closing = 0;
  ch->eof_done = 0;
  return 0;

fail:
  /* owner is NULL: the close callback only frees the wrapper. */
  uv_close((uv_handle_t *)&rd->handle, sfu__channel_on_pipe_close);
  if (wr != NULL)
    uv_close((uv_handle_t *)&wr->handle, sfu__channel_on_pipe_close);
  return rc;
}

int sfu_channel_send(sfu_channel_t *ch, const uint8_t *payload, size_t len) {
  uint8_t prefix[SFU_FRAME_HEADER_LEN];
  sfu__channel_write_t *w;
  uv_stream_t *stream;
  uv_buf_t bufs[2];
  uv_buf_t rest;
  size_t total, done, poff;
  uint8_t *dst;
  int rc;

  if (ch == NULL || (payload == NULL && len > 0))
    return UV_EINVAL;
  if (ch->closing || ch->wr == NULL || ch->write_error != 0)
    return UV_EPIPE;
  if (len > SFU_FRAME_MAX_LEN)
    return UV_EMSGSIZE;

  total = SFU_FRAME_HEADER_LEN + len;
  if (ch->stats.queued_bytes > ch->max_queued ||
      total > ch->max_queued - ch->stats.queued_bytes) {
    ch->stats.dropped_queue_full++;
    return UV_ENOBUFS;
  }

  sfu_frame_header_write(prefix, (uint32_t)len);
  stream = (uv_stream_t *)&ch->wr->handle;
  done = 0;

  if (ch->stats.queued_frames == 0) {
    bufs[0].base = (char *)prefix;
    bufs[0].len = SFU_FRAME_HEADER_LEN;
    bufs[1].base = (char *)payload;
    bufs[1].len = len;
    rc = uv_try_write(stream, bufs, len > 0 ? 2 : 1);
    if (rc >= 0) {
      done = (size_t)rc;
    } else if (rc != UV_EAGAIN) {
      ch->stats.write_errors++;
      ch->write_error = rc;
      return rc;
    }
    if (done == total) {
      ch->stats.frames_out++;
      return 0;
    }
  }

  w = malloc(sizeof(*w) + (total - done));
  if (w == NULL) {
    rc = UV_ENOMEM;
    goto broken_if_partial;
  }
  w->len = total - done;
  dst = w->bytes;
  if (done < SFU_FRAME_HEADER_LEN) {
    memcpy(dst, prefix + done, SFU_FRAME_HEADER_LEN - done);
    dst += SFU_FRAME_HEADER_LEN - done;
    poff = 0;
  } else {
    poff = done - SFU_FRAME_HEADER_LEN;
  }
  if (len > poff)
    memcpy(dst, payload + poff, len - poff);

  rest.base = (char *)w->bytes;
  rest.len = w->len;
  rc = uv_write(&w->req, stream, &rest, 1, sfu__channel_on_write);
  if (rc != 0) {
    free(w);
    ch->stats.write_errors++;
    ch->write_error = rc;
    return rc;
  }
  ch->stats.queued_bytes += total - done;
  ch->stats.queued_frames++;
  return 0;

broken_if_partial:
  /* Part of the frame is already in the pipe: the stream is out of sync
   * for the reader and must not be used any more. */
  if (done > 0) {
    ch->stats.write_errors++;
    ch->write_error = rc;
  }
  return rc;
}

void sfu_channel_close(sfu_channel_t *ch, sfu_channel_close_cb cb) {
  if (ch == NULL || ch->closing)
    return;
  ch->closing = 1;
  ch->eof_done = 1;
  ch->close_cb = cb;

  /* No frame is delivered after this, even if we are inside on_msg. */
  sfu_frame_decoder_stop(&ch->decoder);

  /* uv_close() cancels the queued writes; their callbacks see data == NULL
   * and only free. Count them here. */
  ch->stats.dropped_on_close += ch->stats.queued_frames;
  ch->stats.queued_frames = 0;
  ch->stats.queued_bytes = 0;

  if (ch->rd != NULL) {
    uv_read_stop((uv_stream_t *)&ch->rd->handle);
    ch->rd->handle.data = NULL;
    uv_close((uv_handle_t *)&ch->rd->handle, sfu__channel_on_pipe_close);
    ch->rd = NULL;
  }
  if (ch->wr != NULL) {
    ch->wr->handle.data = NULL;
    uv_close((uv_handle_t *)&ch->wr->handle, sfu__channel_on_pipe_close);
    ch->wr = NULL;
  }
}

void sfu_channel_set_max_queued(sfu_channel_t *ch, size_t bytes) {
  if (ch != NULL)
    ch->max_queued = bytes;
}

void sfu_channel_get_stats(const sfu_channel_t *ch, sfu_channel_stats_t *out) {
  if (ch == NULL || out == NULL)
    return;
  *out = ch->stats;
  out->frames_in = ch->decoder.frames;
  out->oversized_in = ch->decoder.oversized;
}
