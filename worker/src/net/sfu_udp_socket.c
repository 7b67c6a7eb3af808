#include "sfu_udp_socket.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sfu_error.h"
#include "sfu_sockaddr.h"

/* One queued datagram: the request and its bytes in one allocation. */
typedef struct sfu__udp_send {
  uv_udp_send_t req;
  size_t len;
  uint8_t bytes[];
} sfu__udp_send_t;

static void sfu__udp_on_close(uv_handle_t *h) {
  sfu_udp_socket_t *sock = sfu_container_of((uv_udp_t *)h, sfu_udp_socket_t, handle);
  if (sock->close_cb != NULL) sock->close_cb(sock);
  free(sock);
}

static void sfu__udp_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  sfu_udp_socket_t *sock = h->data;
  size_t len = 0;
  (void)suggested;
  buf->base = NULL;
  buf->len = 0;
  if (sock == NULL) return; /* libuv reports UV_ENOBUFS to on_recv, which ignores it */
  uint8_t *p = sfu_port_manager_udp_buffer(sock->pm, &len);
  buf->base = (char *)p;
  buf->len = p != NULL ? len : 0;
}

static void sfu__udp_on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                             unsigned flags) {
  sfu_udp_socket_t *sock = h->data;
  if (sock == NULL) return;
  if (flags & UV_UDP_MMSG_FREE) return; /* the buffer is shared: nothing to free */
  if (nread < 0) {
    sock->stats.recv_errors++;
    return;
  }
  if (nread == 0 || addr == NULL) return; /* nothing more to read, or an empty datagram */
  if (flags & UV_UDP_PARTIAL) {
    sock->stats.truncated_in++;
    return;
  }
  sock->stats.packets_in++;
  sock->stats.bytes_in += (uint64_t)nread;
  sock->on_packet(sock, (const uint8_t *)buf->base, (size_t)nread, addr);
}

static void sfu__udp_on_send(uv_udp_send_t *req, int status) {
  sfu__udp_send_t *s = sfu_container_of(req, sfu__udp_send_t, req);
  sfu_udp_socket_t *sock = req->handle->data;
  size_t len = s->len;

  free(s);
  if (sock == NULL) return; /* closing: counted in dropped_on_close */
  sock->stats.queued_bytes -= len;
  sock->stats.queued_packets--;
  if (status == 0) {
    sock->stats.packets_out++;
    sock->stats.bytes_out += len;
  } else {
    sock->stats.send_errors++;
  }
}

/* Failure after the handle was initialized: it must go through uv_close; the
 * memory is freed in the close callback, without calling any user callback. */
static int sfu__udp_abort(sfu_udp_socket_t *sock, int uverr, const char *what, char *err, size_t err_len) {
  sfu_port_manager_release(sock->pm, &sock->binding);
  sock->handle.data = NULL;
  sock->closing = true;
  sock->close_cb = NULL;
  uv_close((uv_handle_t *)&sock->handle, sfu__udp_on_close);
  return sfu__net_fail(err, err_len, SFU_EIO, "%s failed: %s", what, uv_strerror(uverr));
}

int sfu_udp_socket_open(sfu_udp_socket_t **out, uv_loop_t *loop, sfu_port_manager_t *pm,
                        const sfu_listen_info_t *li, sfu_udp_socket_packet_cb on_packet, void *data, char *err,
                        size_t err_len) {
  sfu_udp_socket_t *sock;
  sfu_bound_socket_t bs;
  const int zero = 0;
  int r, namelen;

  *out = NULL;
  if (loop == NULL || pm == NULL || li == NULL || on_packet == NULL)
    return sfu__net_fail(err, err_len, SFU_EINVAL, "invalid argument");
  if (li->protocol != SFU_PROTO_UDP) return sfu__net_fail(err, err_len, SFU_EINVAL, "not a UDP listen info");
  if ((sock = calloc(1, sizeof(*sock))) == NULL) return sfu__net_fail(err, err_len, SFU_ENOMEM, "out of memory");
  sock->pm = pm;
  sock->data = data;
  sock->on_packet = on_packet;
  sock->max_queued = SFU_UDP_SOCKET_MAX_QUEUED;

  if ((r = sfu_port_manager_bind(pm, li, &sock->binding, &bs, err, err_len)) != 0) {
    free(sock);
    return r;
  }
  sock->send_buffer_size = bs.send_buffer_size;
  sock->recv_buffer_size = bs.recv_buffer_size;

  /* AF_UNSPEC: no socket is created; the bound one is adopted below. */
  if ((r = uv_udp_init_ex(loop, &sock->handle, AF_UNSPEC | UV_UDP_RECVMMSG)) != 0) {
    close(bs.fd);
    sfu_port_manager_release(pm, &sock->binding);
    free(sock);
    return sfu__net_fail(err, err_len, SFU_EIO, "uv_udp_init_ex() failed: %s", uv_strerror(r));
  }
  sock->handle.data = NULL;
  if ((r = uv_udp_open(&sock->handle, bs.fd)) != 0) {
    close(bs.fd);
    return sfu__udp_abort(sock, r, "uv_udp_open()", err, err_len);
  }
  /* uv_udp_open() turns SO_REUSEADDR on, which would let another
   * SO_REUSEADDR socket share this port: undo it unless sharing was asked. */
  if (!li->flags.udp_reuse_port) (void)setsockopt(bs.fd, SOL_SOCKET, SO_REUSEADDR, &zero, sizeof(zero));

  namelen = (int)sizeof(sock->local);
  if ((r = uv_udp_getsockname(&sock->handle, (struct sockaddr *)&sock->local, &namelen)) != 0)
    return sfu__udp_abort(sock, r, "uv_udp_getsockname()", err, err_len);
  sfu_sockaddr_to_str((const struct sockaddr *)&sock->local, sock->local_ip, &sock->local_port);

  sock->handle.data = sock;
  if ((r = uv_udp_recv_start(&sock->handle, sfu__udp_on_alloc, sfu__udp_on_recv)) != 0)
    return sfu__udp_abort(sock, r, "uv_udp_recv_start()", err, err_len);
  *out = sock;
  return 0;
}

int sfu_udp_socket_send(sfu_udp_socket_t *sock, const uint8_t *p, size_t len, const struct sockaddr *to) {
  sfu__udp_send_t *s;
  uv_buf_t b;
  int r;

  if (sock == NULL || sock->closing) return SFU_ESTATE;
  if (p == NULL || len == 0 || len > UINT32_MAX || to == NULL ||
      (to->sa_family != AF_INET && to->sa_family != AF_INET6))
    return SFU_EINVAL;

  b = uv_buf_init((char *)(uintptr_t)p, (unsigned)len);
  r = uv_udp_try_send(&sock->handle, &b, 1, to);
  if (r >= 0) {
    sock->stats.packets_out++;
    sock->stats.bytes_out += len;
    return 0;
  }
  if (r != UV_EAGAIN) {
    sock->stats.send_errors++;
    return SFU_EIO;
  }

  if (sock->stats.queued_bytes > sock->max_queued || len > sock->max_queued - sock->stats.queued_bytes) {
    sock->stats.dropped_queue_full++;
    return SFU_ENOMEM;
  }
  if ((s = malloc(sizeof(*s) + len)) == NULL) {
    sock->stats.dropped_queue_full++;
    return SFU_ENOMEM;
  }
  s->len = len;
  memcpy(s->bytes, p, len);
  b = uv_buf_init((char *)s->bytes, (unsigned)len);
  /* uv_udp_send copies the address; the bytes live in s until the callback. */
  if ((r = uv_udp_send(&s->req, &sock->handle, &b, 1, to, sfu__udp_on_send)) != 0) {
    free(s);
    sock->stats.send_errors++;
    return SFU_EIO;
  }
  sock->stats.queued++;
  sock->stats.queued_bytes += len;
  sock->stats.queued_packets++;
  return 0;
}

void sfu_udp_socket_close(sfu_udp_socket_t *sock, sfu_udp_socket_close_cb cb) {
  if (sock == NULL || sock->closing) return;
  sock->closing = true;
  sock->close_cb = cb;
  /* uv_close cancels the queued sends; their callbacks see data == NULL. */
  sock->stats.dropped_on_close += sock->stats.queued_packets;
  sock->stats.queued_packets = 0;
  sock->stats.queued_bytes = 0;
  sfu_port_manager_release(sock->pm, &sock->binding);
  sock->handle.data = NULL;
  uv_close((uv_handle_t *)&sock->handle, sfu__udp_on_close);
}

void sfu_udp_socket_tuple(sfu_udp_socket_t *sock, const struct sockaddr *remote, sfu_tuple_t *out) {
  memset(out, 0, sizeof(*out));
  out->proto = SFU_PROTO_UDP;
  out->sock = sock;
  memcpy(&out->remote, remote, sfu_sockaddr_len(remote));
}
