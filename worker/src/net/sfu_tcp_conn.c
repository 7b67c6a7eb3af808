#include "sfu_tcp_conn.h"

#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"
#include "sfu_sockaddr.h"
#include "sfu_tcp_server.h"

/* One queued write: the request and the unwritten bytes, one allocation. */
typedef struct sfu__tcp_write {
  uv_write_t req;
  size_t len;     /* bytes in `bytes` */
  size_t payload; /* payload length of the packet */
  uint8_t bytes[];
} sfu__tcp_write_t;

const char *sfu_tcp_close_reason_name(sfu_tcp_close_reason_t reason) {
  switch (reason) {
    case SFU_TCP_CLOSE_LOCAL:
      return "local";
    case SFU_TCP_CLOSE_PEER:
      return "peer";
    case SFU_TCP_CLOSE_ERROR:
      return "error";
    case SFU_TCP_CLOSE_SERVER:
      return "server";
  }
  return "?";
}

static void sfu__tcp_conn_on_close(uv_handle_t *h) {
  sfu_tcp_conn_t *conn = sfu_container_of((uv_tcp_t *)h, sfu_tcp_conn_t, handle);

  if (conn->server != NULL) {
    sfu_list_remove(&conn->link);
    conn->server = NULL;
  }
  if (conn->notify && conn->on_closed != NULL) conn->on_closed(conn, conn->reason);
  if (conn->close_cb != NULL) conn->close_cb(conn);
  sfu_rfc4571_decoder_free(&conn->decoder);
  free(conn);
}

/* Starts closing: no more reads or packets, queued writes dropped, the
 * server's open count updated. Callbacks come from the close phase. */
static void sfu__tcp_conn_begin_close(sfu_tcp_conn_t *conn, sfu_tcp_close_reason_t reason, bool notify) {
  if (conn->closing) return;
  conn->closing = true;
  conn->reason = reason;
  conn->notify = notify;
  sfu_rfc4571_decoder_stop(&conn->decoder);
  conn->stats.dropped_on_close += conn->stats.queued_writes;
  conn->stats.queued_writes = 0;
  conn->stats.queued_bytes = 0;
  if (conn->server != NULL && conn->server->num_conns > 0) conn->server->num_conns--;
  conn->handle.data = NULL;
  uv_close((uv_handle_t *)&conn->handle, sfu__tcp_conn_on_close);
}

void sfu__tcp_conn_close_silent(sfu_tcp_conn_t *conn, sfu_tcp_close_reason_t reason) {
  sfu__tcp_conn_begin_close(conn, reason, false);
  conn->notify = false; /* also for one that was already closing */
  if (conn->server != NULL) {
    sfu_list_remove(&conn->link);
    conn->server = NULL;
  }
}

void sfu_tcp_conn_close(sfu_tcp_conn_t *conn, sfu_tcp_conn_close_cb cb) {
  if (conn == NULL || conn->closing) return;
  conn->close_cb = cb;
  sfu__tcp_conn_begin_close(conn, SFU_TCP_CLOSE_LOCAL, true);
}

static sfu_tcp_close_reason_t sfu__tcp_reason_for(int uverr) {
  return (uverr == UV_EOF || uverr == UV_ECONNRESET || uverr == UV_EPIPE || uverr == UV_ENOTCONN)
             ? SFU_TCP_CLOSE_PEER
             : SFU_TCP_CLOSE_ERROR;
}

static void sfu__tcp_conn_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  sfu_tcp_conn_t *conn = h->data;
  uint8_t *p;
  size_t avail;
  (void)suggested;

  buf->base = NULL;
  buf->len = 0;
  if (conn == NULL) return;
  if (sfu_rfc4571_decoder_reserve(&conn->decoder, SFU_TCP_CONN_READ_MIN, &p, &avail) != 0) return; /* UV_ENOBUFS */
  buf->base = (char *)p;
  buf->len = avail;
}

static void sfu__tcp_conn_on_frame(void *arg, const uint8_t *p, size_t len) {
  sfu_tcp_conn_t *conn = arg;
  /* The decoder stops as soon as the connection closes: conn is open here. */
  conn->stats.packets_in++;
  if (conn->on_packet != NULL) conn->on_packet(conn, p, len);
}

static void sfu__tcp_conn_on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  sfu_tcp_conn_t *conn = stream->data;
  (void)buf; /* the bytes are in the decoder's buffer already */

  if (conn == NULL) return;
  if (nread > 0) {
    conn->stats.bytes_in += (uint64_t)nread;
    (void)sfu_rfc4571_decoder_commit(&conn->decoder, (size_t)nread, sfu__tcp_conn_on_frame, conn);
    conn->stats.empty_in = conn->decoder.empty;
    return;
  }
  if (nread == 0) return; /* EAGAIN */
  sfu__tcp_conn_begin_close(conn, sfu__tcp_reason_for((int)nread), true);
}

static void sfu__tcp_conn_on_write(uv_write_t *req, int status) {
  sfu__tcp_write_t *w = sfu_container_of(req, sfu__tcp_write_t, req);
  sfu_tcp_conn_t *conn = req->handle->data;
  size_t len = w->len, payload = w->payload;

  free(w);
  if (conn == NULL) return; /* closing: counted in dropped_on_close */
  conn->stats.queued_bytes -= len;
  conn->stats.queued_writes--;
  if (status == 0) {
    conn->stats.packets_out++;
    conn->stats.bytes_out += payload;
    return;
  }
  conn->stats.write_errors++;
  sfu__tcp_conn_begin_close(conn, sfu__tcp_reason_for(status), true);
}

int sfu_tcp_conn_send(sfu_tcp_conn_t *conn, const uint8_t *p, size_t len) {
  uint8_t hdr[SFU_RFC4571_HEADER_LEN];
  sfu__tcp_write_t *w;
  uv_stream_t *stream;
  uv_buf_t bufs[2], rest;
  size_t total, done = 0, rest_len;
  int r;

  if (conn == NULL || conn->closing) return SFU_ESTATE;
  if (p == NULL || len == 0 || len > SFU_RFC4571_MAX_LEN) return SFU_EINVAL;

  total = SFU_RFC4571_HEADER_LEN + len;
  if (conn->stats.queued_bytes > conn->max_queued || total > conn->max_queued - conn->stats.queued_bytes) {
    conn->stats.dropped_queue_full++;
    return SFU_ENOMEM;
  }
  sfu_rfc4571_write_header(hdr, len);
  stream = (uv_stream_t *)&conn->handle;

  if (conn->stats.queued_writes == 0) {
    bufs[0] = uv_buf_init((char *)hdr, SFU_RFC4571_HEADER_LEN);
    bufs[1] = uv_buf_init((char *)(uintptr_t)p, (unsigned)len);
    r = uv_try_write(stream, bufs, 2);
    if (r >= 0) {
      done = (size_t)r;
    } else if (r != UV_EAGAIN) {
      conn->stats.write_errors++;
      sfu__tcp_conn_begin_close(conn, sfu__tcp_reason_for(r), true);
      return SFU_EIO;
    }
    if (done == total) {
      conn->stats.packets_out++;
      conn->stats.bytes_out += len;
      return 0;
    }
  }

  rest_len = total - done;
  if ((w = malloc(sizeof(*w) + rest_len)) == NULL) {
    conn->stats.dropped_queue_full++;
    /* Part of the frame is in the stream already: the peer would lose sync. */
    if (done > 0) sfu__tcp_conn_begin_close(conn, SFU_TCP_CLOSE_ERROR, true);
    return SFU_ENOMEM;
  }
  w->len = rest_len;
  w->payload = len;
  if (done < SFU_RFC4571_HEADER_LEN) {
    memcpy(w->bytes, hdr + done, SFU_RFC4571_HEADER_LEN - done);
    memcpy(w->bytes + (SFU_RFC4571_HEADER_LEN - done), p, len);
  } else {
    memcpy(w->bytes, p + (done - SFU_RFC4571_HEADER_LEN), rest_len);
  }
  rest = uv_buf_init((char *)w->bytes, (unsigned)rest_len);
  if ((r = uv_write(&w->req, stream, &rest, 1, sfu__tcp_conn_on_write)) != 0) {
    free(w);
    conn->stats.write_errors++;
    sfu__tcp_conn_begin_close(conn, sfu__tcp_reason_for(r), true);
    return SFU_EIO;
  }
  conn->stats.queued_bytes += rest_len;
  conn->stats.queued_writes++;
  return 0;
}

void sfu_tcp_conn_tuple(sfu_tcp_conn_t *conn, sfu_tuple_t *out) {
  memset(out, 0, sizeof(*out));
  out->proto = SFU_PROTO_TCP;
  out->sock = conn;
  out->remote = conn->remote;
}

int sfu__tcp_conn_accept(sfu_tcp_server_t *srv, uv_loop_t *loop, sfu_tcp_conn_t **out) {
  sfu_tcp_conn_t *conn;
  int r, namelen;

  *out = NULL;
  if ((conn = calloc(1, sizeof(*conn))) == NULL) return SFU_ENOMEM;
  sfu_list_init(&conn->link);
  sfu_rfc4571_decoder_init(&conn->decoder);
  conn->max_queued = SFU_TCP_CONN_MAX_QUEUED;
  if (uv_tcp_init(loop, &conn->handle) != 0) {
    free(conn);
    return SFU_EIO;
  }
  conn->handle.data = conn;
  if ((r = uv_accept((uv_stream_t *)&srv->handle, (uv_stream_t *)&conn->handle)) != 0) goto fail;
  namelen = (int)sizeof(conn->remote);
  if ((r = uv_tcp_getpeername(&conn->handle, (struct sockaddr *)&conn->remote, &namelen)) != 0) goto fail;
  namelen = (int)sizeof(conn->local);
  if ((r = uv_tcp_getsockname(&conn->handle, (struct sockaddr *)&conn->local, &namelen)) != 0) goto fail;
  sfu_sockaddr_to_str((const struct sockaddr *)&conn->remote, conn->remote_ip, &conn->remote_port);
  sfu_sockaddr_to_str((const struct sockaddr *)&conn->local, conn->local_ip, &conn->local_port);
  (void)uv_tcp_nodelay(&conn->handle, 1); /* small media packets: no Nagle delay */
  *out = conn;
  return 0;

fail:
  sfu__tcp_conn_begin_close(conn, SFU_TCP_CLOSE_ERROR, false); /* freed in the close phase */
  return SFU_EIO;
}

int sfu__tcp_conn_start(sfu_tcp_conn_t *conn) {
  if (conn->closing) return SFU_ESTATE;
  return uv_read_start((uv_stream_t *)&conn->handle, sfu__tcp_conn_on_alloc, sfu__tcp_conn_on_read) == 0 ? 0
                                                                                                        : SFU_EIO;
}
