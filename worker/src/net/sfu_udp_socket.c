#include "sfu_udp_socket.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sfu_error.h"
#include "sfu_sockaddr.h"
#include "sfu_udp_tx_batch.h"

/* One queued datagram: its destination and bytes in one allocation. */
typedef struct sfu__udp_send {
  sfu_list_t link;
  struct sockaddr_storage to;
  size_t len;
  uint8_t bytes[];
} sfu__udp_send_t;

static void sfu__udp_on_close(uv_handle_t *h) {
  sfu_udp_socket_t *sock = sfu_container_of((uv_poll_t *)h, sfu_udp_socket_t, handle);
  if (sock->close_cb != NULL) sock->close_cb(sock);
  free(sock);
}

/* Drops every queued datagram (close) and returns how many there were. */
static size_t sfu__udp_queue_free(sfu_udp_socket_t *sock) {
  sfu_list_t *pos, *tmp;
  size_t n = 0;
  sfu_list_foreach_safe(pos, tmp, &sock->send_queue) {
    sfu_list_remove(pos);
    free(sfu_container_of(pos, sfu__udp_send_t, link));
    n++;
  }
  return n;
}

/* sendto() without blocking: >= 0 sent, -EAGAIN full (also ENOBUFS), other
 * negative errno: refused. */
static int sfu__udp_sendto(int fd, const uint8_t *p, size_t len, const struct sockaddr *to) {
  ssize_t n;
  do n = sendto(fd, p, len, MSG_DONTWAIT, to, to != NULL ? sfu_sockaddr_len(to) : 0);
  while (n < 0 && errno == EINTR);
  if (n >= 0) return 0;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return -EAGAIN;
  return -errno;
}

static void sfu__udp_on_poll(uv_poll_t *h, int status, int events);

/* (Re)starts the poll: readable always, writable while datagrams are queued. */
static void sfu__udp_poll_start(sfu_udp_socket_t *sock) {
  (void)uv_poll_start(&sock->handle, UV_READABLE | (sock->polling_writable ? UV_WRITABLE : 0), sfu__udp_on_poll);
}

static void sfu__udp_poll(sfu_udp_socket_t *sock, bool writable) {
  if (writable == sock->polling_writable) return;
  sock->polling_writable = writable;
  sfu__udp_poll_start(sock);
}

/* To the connected peer: send() (the kernel uses the route cached by
 * connect()); anywhere else: sendto(). */
static int sfu__udp_send_to(sfu_udp_socket_t *sock, const uint8_t *p, size_t len, const struct sockaddr *to) {
  if (sock->connected && sfu_sockaddr_equal(to, (const struct sockaddr *)&sock->peer)) to = NULL;
  return sfu__udp_sendto(sock->fd, p, len, to);
}

/* Writable: the queue is sent in order until the kernel is full again. */
static void sfu__udp_flush(sfu_udp_socket_t *sock) {
  while (!sfu_list_empty(&sock->send_queue)) {
    sfu__udp_send_t *s = sfu_container_of(sock->send_queue.next, sfu__udp_send_t, link);
    int r = sfu__udp_send_to(sock, s->bytes, s->len, (const struct sockaddr *)&s->to);
    if (r == -EAGAIN) return;
    if (r == 0) {
      sock->stats.packets_out++;
      sock->stats.bytes_out += s->len;
    } else {
      sock->stats.send_errors++;
    }
    sock->stats.queued_bytes -= s->len;
    sock->stats.queued_packets--;
    sfu_list_remove(&s->link);
    free(s);
  }
  sfu__udp_poll(sock, false);
}

/* Appends a copy to the ordered send queue and polls for writable. */
static int sfu__udp_queue_push(sfu_udp_socket_t *sock, const uint8_t *p, size_t len, const struct sockaddr *to) {
  sfu__udp_send_t *s;
  if (sock->stats.queued_bytes > sock->max_queued || len > sock->max_queued - sock->stats.queued_bytes) {
    sock->stats.dropped_queue_full++;
    return SFU_ENOMEM;
  }
  if ((s = malloc(sizeof(*s) + len)) == NULL) {
    sock->stats.dropped_queue_full++;
    return SFU_ENOMEM;
  }
  s->len = len;
  memcpy(&s->to, to, sfu_sockaddr_len(to));
  memcpy(s->bytes, p, len);
  sfu_list_insert_tail(&sock->send_queue, &s->link);
  sock->stats.queued++;
  sock->stats.queued_bytes += len;
  sock->stats.queued_packets++;
  sfu__udp_poll(sock, true);
  return 0;
}

/* Hands the batch filled during our read to the kernel: sendmmsg() until it
 * is empty; a datagram the kernel refuses is counted and dropped (as sendto()
 * would), and when the kernel is full the rest goes to the queue in order. */
static void sfu__udp_tx_flush(sfu_udp_socket_t *sock) {
  sfu_udp_tx_batch_t *b = sock->pm->udp_tx;
  while (b->count > 0) {
    int n;
    do n = sendmmsg(sock->fd, b->msgs, b->count, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
      sock->stats.send_batches++;
      for (int i = 0; i < n; i++) {
        sock->stats.packets_out++;
        sock->stats.bytes_out += b->iov[i].iov_len;
      }
      sfu_udp_tx_batch_consume(b, (unsigned)n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      for (unsigned i = 0; i < b->count; i++) {
        const struct sockaddr *to = b->msgs[i].msg_hdr.msg_name != NULL ? (const struct sockaddr *)b->msgs[i].msg_hdr.msg_name
                                                                        : (const struct sockaddr *)&sock->peer;
        (void)sfu__udp_queue_push(sock, b->buf[i], b->iov[i].iov_len, to);
      }
      b->count = 0;
      break;
    }
    sock->stats.send_errors++;
    sfu_udp_tx_batch_consume(b, 1);
  }
}

static void sfu__udp_tx_end(sfu_udp_socket_t *sock) {
  if (!sock->batching) return;
  if (sock->fd >= 0) sfu__udp_tx_flush(sock);
  sock->pm->udp_tx->count = 0;
  sock->pm->udp_tx->owner = NULL;
  sock->batching = false;
}

/* Readable: one recvmmsg() of up to SFU_PORT_MANAGER_UDP_CHUNKS datagrams per
 * wakeup (bounded work; the poll is level-triggered, so what is left wakes
 * the loop again at once). Unlike libuv's reader it does not call again until
 * EAGAIN, which costs an empty syscall per wakeup. */
static void sfu__udp_read(sfu_udp_socket_t *sock) {
  sfu_udp_rx_batch_t *rx = sfu_port_manager_udp_rx(sock->pm);
  int n;

  if (rx == NULL) {
    sock->stats.recv_errors++;
    return;
  }
  do n = recvmmsg(sock->fd, rx->msgs, SFU_PORT_MANAGER_UDP_CHUNKS, MSG_DONTWAIT, NULL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
      sock->stats.socket_errors++; /* an ICMP error on a connected socket */
    else if (errno != EAGAIN && errno != EWOULDBLOCK)
      sock->stats.recv_errors++;
    return;
  }
  sock->stats.recv_calls++;
  for (int i = 0; i < n; i++) rx->msgs[i].msg_hdr.msg_namelen = sizeof(rx->from[i]); /* for the next call */
  if (n > 1) {
    sfu_udp_tx_batch_t *tx = sfu_port_manager_udp_tx(sock->pm);
    if (tx != NULL && tx->owner == NULL) {
      tx->owner = sock;
      sock->batching = true;
    }
  }
  for (int i = 0; i < n && sock->handle.data != NULL; i++) {
    size_t len = rx->msgs[i].msg_len;
    const struct sockaddr *addr = (const struct sockaddr *)&rx->from[i];
    if (rx->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
      sock->stats.truncated_in++;
      continue;
    }
    if (len == 0 || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)) continue;
    sock->stats.packets_in++;
    sock->stats.bytes_in += (uint64_t)len;
    sock->on_packet(sock, rx->iov[i].iov_base, len, addr);
  }
  sfu__udp_tx_end(sock); /* also when a callback closed us: close() flushed already */
}

static void sfu__udp_on_poll(uv_poll_t *h, int status, int events) {
  sfu_udp_socket_t *sock = h->data;
  if (sock == NULL) return;
  if (status < 0) {
    /* EPOLLERR: a pending socket error (an ICMP error on a connected
     * socket). libuv has stopped the handle: take the error off the socket
     * (so it does not come back at once), count it, and poll again. */
    int e = 0;
    socklen_t sl = sizeof(e);
    (void)getsockopt(sock->fd, SOL_SOCKET, SO_ERROR, &e, &sl);
    sock->stats.socket_errors++;
    sfu__udp_poll_start(sock);
    return;
  }
  if (events & UV_WRITABLE) sfu__udp_flush(sock);
  if ((events & UV_READABLE) && h->data != NULL) sfu__udp_read(sock);
}

static int sfu__udp_fail_open(sfu_udp_socket_t *sock, int fd, int uverr, const char *what, char *err,
                              size_t err_len) {
  close(fd);
  sfu_port_manager_release(sock->pm, &sock->binding);
  free(sock);
  return sfu__net_fail(err, err_len, SFU_EIO, "%s failed: %s", what, uv_strerror(uverr));
}

int sfu_udp_socket_open(sfu_udp_socket_t **out, uv_loop_t *loop, sfu_port_manager_t *pm,
                        const sfu_listen_info_t *li, sfu_udp_socket_packet_cb on_packet, void *data, char *err,
                        size_t err_len) {
  sfu_udp_socket_t *sock;
  sfu_bound_socket_t bs;
  socklen_t namelen;
  int r;

  *out = NULL;
  if (loop == NULL || pm == NULL || li == NULL || on_packet == NULL)
    return sfu__net_fail(err, err_len, SFU_EINVAL, "invalid argument");
  if (li->protocol != SFU_PROTO_UDP) return sfu__net_fail(err, err_len, SFU_EINVAL, "not a UDP listen info");
  if ((sock = calloc(1, sizeof(*sock))) == NULL) return sfu__net_fail(err, err_len, SFU_ENOMEM, "out of memory");
  sock->pm = pm;
  sock->data = data;
  sock->on_packet = on_packet;
  sock->max_queued = SFU_UDP_SOCKET_MAX_QUEUED;
  sfu_list_init(&sock->send_queue);

  /* The port manager's socket is non-blocking and close-on-exec. */
  if ((r = sfu_port_manager_bind(pm, li, &sock->binding, &bs, err, err_len)) != 0) {
    free(sock);
    return r;
  }
  sock->fd = bs.fd;
  sock->send_buffer_size = bs.send_buffer_size;
  sock->recv_buffer_size = bs.recv_buffer_size;

  namelen = sizeof(sock->local);
  if (getsockname(bs.fd, (struct sockaddr *)&sock->local, &namelen) != 0)
    return sfu__udp_fail_open(sock, bs.fd, uv_translate_sys_error(errno), "getsockname()", err, err_len);
  sfu_sockaddr_to_str((const struct sockaddr *)&sock->local, sock->local_ip, &sock->local_port);

  if ((r = uv_poll_init_socket(loop, &sock->handle, bs.fd)) != 0)
    return sfu__udp_fail_open(sock, bs.fd, r, "uv_poll_init_socket()", err, err_len);
  sock->handle.data = sock;
  if ((r = uv_poll_start(&sock->handle, UV_READABLE, sfu__udp_on_poll)) != 0) { /* polling_writable is false */
    /* The handle was initialized: it must go through uv_close; memory is
     * freed in the close callback, without calling any user callback. */
    sfu_port_manager_release(pm, &sock->binding);
    sock->handle.data = NULL;
    sock->closing = true;
    uv_close((uv_handle_t *)&sock->handle, sfu__udp_on_close);
    close(bs.fd);
    return sfu__net_fail(err, err_len, SFU_EIO, "uv_poll_start() failed: %s", uv_strerror(r));
  }
  *out = sock;
  return 0;
}

int sfu_udp_socket_send(sfu_udp_socket_t *sock, const uint8_t *p, size_t len, const struct sockaddr *to) {
  int r;

  if (sock == NULL || sock->closing) return SFU_ESTATE;
  if (p == NULL || len == 0 || len > UINT32_MAX || to == NULL ||
      (to->sa_family != AF_INET && to->sa_family != AF_INET6))
    return SFU_EINVAL;

  /* From inside our own read: into the shared batch, one sendmmsg() later. */
  if (sock->batching && sfu_list_empty(&sock->send_queue)) {
    sfu_udp_tx_batch_t *tx = sock->pm->udp_tx;
    if (len <= SFU_UDP_TX_SLOT && tx->count == SFU_UDP_TX_BATCH_MAX) sfu__udp_tx_flush(sock);
    if (len > SFU_UDP_TX_SLOT) sfu__udp_tx_flush(sock); /* keep the order, then send it alone */
    else if (sfu_list_empty(&sock->send_queue)) {
      bool peer = sock->connected && sfu_sockaddr_equal(to, (const struct sockaddr *)&sock->peer);
      sfu_udp_tx_batch_add(tx, p, len, peer ? NULL : to, sfu_sockaddr_len(to));
      return 0;
    }
  }

  /* Behind a non-empty queue a datagram queues too: order is kept. */
  if (sfu_list_empty(&sock->send_queue)) {
    r = sfu__udp_send_to(sock, p, len, to);
    if (r == 0) {
      sock->stats.packets_out++;
      sock->stats.bytes_out += len;
      return 0;
    }
    if (r != -EAGAIN) {
      sock->stats.send_errors++;
      return SFU_EIO;
    }
  }

  return sfu__udp_queue_push(sock, p, len, to);
}

int sfu_udp_socket_connect(sfu_udp_socket_t *sock, const struct sockaddr *peer) {
  if (sock == NULL || sock->closing) return SFU_ESTATE;
  if (peer == NULL || (peer->sa_family != AF_INET && peer->sa_family != AF_INET6)) return SFU_EINVAL;
  if (connect(sock->fd, peer, sfu_sockaddr_len(peer)) != 0) return SFU_EIO;
  memcpy(&sock->peer, peer, sfu_sockaddr_len(peer));
  sock->connected = true;
  return 0;
}

void sfu_udp_socket_close(sfu_udp_socket_t *sock, sfu_udp_socket_close_cb cb) {
  if (sock == NULL || sock->closing) return;
  sfu__udp_tx_end(sock); /* what our read batched so far still goes out */
  sock->closing = true;
  sock->close_cb = cb;
  sock->stats.dropped_on_close += sfu__udp_queue_free(sock);
  sock->stats.queued_packets = 0;
  sock->stats.queued_bytes = 0;
  sfu_port_manager_release(sock->pm, &sock->binding);
  sock->handle.data = NULL;
  /* uv_close stops the poll (the fd leaves epoll) synchronously, so the fd
   * can be closed now: the port is free at once. */
  uv_close((uv_handle_t *)&sock->handle, sfu__udp_on_close);
  close(sock->fd);
  sock->fd = -1;
}

void sfu_udp_socket_tuple(sfu_udp_socket_t *sock, const struct sockaddr *remote, sfu_tuple_t *out) {
  memset(out, 0, sizeof(*out));
  out->proto = SFU_PROTO_UDP;
  out->sock = sock;
  memcpy(&out->remote, remote, sfu_sockaddr_len(remote));
}
