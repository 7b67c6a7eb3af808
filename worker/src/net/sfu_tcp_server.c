#include "sfu_tcp_server.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sfu_error.h"
#include "sfu_sockaddr.h"

static void sfu__tcp_server_on_close(uv_handle_t *h) {
  sfu_tcp_server_t *srv = sfu_container_of((uv_tcp_t *)h, sfu_tcp_server_t, handle);
  if (srv->close_cb != NULL) srv->close_cb(srv);
  free(srv);
}

static void sfu__tcp_server_on_connection(uv_stream_t *stream, int status) {
  sfu_tcp_server_t *srv = stream->data;
  sfu_tcp_conn_t *conn;

  if (srv == NULL) return;
  if (status != 0) {
    srv->stats.accept_errors++;
    return;
  }
  if (sfu__tcp_conn_accept(srv, srv->loop, &conn) != 0) {
    srv->stats.accept_errors++;
    return;
  }
  if (srv->num_conns >= srv->max_conns) {
    srv->stats.rejected++;
    sfu__tcp_conn_close_silent(conn, SFU_TCP_CLOSE_LOCAL);
    return;
  }
  srv->stats.accepted++;
  conn->server = srv;
  sfu_list_insert_tail(&srv->conns, &conn->link);
  srv->num_conns++;
  conn->on_packet = srv->cbs.on_packet;
  conn->on_closed = srv->cbs.on_closed;
  if (srv->cbs.on_connection != NULL) srv->cbs.on_connection(srv, conn);
  /* on_connection may have closed the connection, or even the server. */
  if (!conn->closing && sfu__tcp_conn_start(conn) != 0) sfu_tcp_conn_close(conn, NULL);
}

static int sfu__tcp_server_abort(sfu_tcp_server_t *srv, int uverr, const char *what, char *err, size_t err_len) {
  sfu_port_manager_release(srv->pm, &srv->binding);
  srv->handle.data = NULL;
  srv->closing = true;
  srv->close_cb = NULL;
  uv_close((uv_handle_t *)&srv->handle, sfu__tcp_server_on_close);
  return sfu__net_fail(err, err_len, SFU_EIO, "%s failed: %s", what, uv_strerror(uverr));
}

int sfu_tcp_server_open(sfu_tcp_server_t **out, uv_loop_t *loop, sfu_port_manager_t *pm,
                        const sfu_listen_info_t *li, const sfu_tcp_server_cbs_t *cbs, void *data, char *err,
                        size_t err_len) {
  sfu_tcp_server_t *srv;
  sfu_bound_socket_t bs;
  int r, namelen;

  *out = NULL;
  if (loop == NULL || pm == NULL || li == NULL || cbs == NULL)
    return sfu__net_fail(err, err_len, SFU_EINVAL, "invalid argument");
  if (li->protocol != SFU_PROTO_TCP) return sfu__net_fail(err, err_len, SFU_EINVAL, "not a TCP listen info");
  if ((srv = calloc(1, sizeof(*srv))) == NULL) return sfu__net_fail(err, err_len, SFU_ENOMEM, "out of memory");
  srv->loop = loop;
  srv->pm = pm;
  srv->data = data;
  srv->cbs = *cbs;
  srv->max_conns = SFU_TCP_SERVER_MAX_CONNS;
  sfu_list_init(&srv->conns);

  if ((r = sfu_port_manager_bind(pm, li, &srv->binding, &bs, err, err_len)) != 0) {
    free(srv);
    return r;
  }
  srv->send_buffer_size = bs.send_buffer_size;
  srv->recv_buffer_size = bs.recv_buffer_size;

  if ((r = uv_tcp_init_ex(loop, &srv->handle, AF_UNSPEC)) != 0) {
    close(bs.fd);
    sfu_port_manager_release(pm, &srv->binding);
    free(srv);
    return sfu__net_fail(err, err_len, SFU_EIO, "uv_tcp_init_ex() failed: %s", uv_strerror(r));
  }
  srv->handle.data = NULL;
  if ((r = uv_tcp_open(&srv->handle, bs.fd)) != 0) {
    close(bs.fd);
    return sfu__tcp_server_abort(srv, r, "uv_tcp_open()", err, err_len);
  }
  namelen = (int)sizeof(srv->local);
  if ((r = uv_tcp_getsockname(&srv->handle, (struct sockaddr *)&srv->local, &namelen)) != 0)
    return sfu__tcp_server_abort(srv, r, "uv_tcp_getsockname()", err, err_len);
  sfu_sockaddr_to_str((const struct sockaddr *)&srv->local, srv->local_ip, &srv->local_port);

  srv->handle.data = srv;
  /* The socket already listens (port manager); this registers the callback. */
  if ((r = uv_listen((uv_stream_t *)&srv->handle, SFU_PORT_MANAGER_TCP_BACKLOG, sfu__tcp_server_on_connection)) != 0)
    return sfu__tcp_server_abort(srv, r, "uv_listen()", err, err_len);
  *out = srv;
  return 0;
}

void sfu_tcp_server_close(sfu_tcp_server_t *srv, sfu_tcp_server_close_cb cb) {
  if (srv == NULL || srv->closing) return;
  srv->closing = true;
  srv->close_cb = cb;
  while (!sfu_list_empty(&srv->conns)) {
    sfu_tcp_conn_t *conn = sfu_container_of(srv->conns.next, sfu_tcp_conn_t, link);
    sfu__tcp_conn_close_silent(conn, SFU_TCP_CLOSE_SERVER); /* unlinks it */
  }
  srv->num_conns = 0;
  sfu_port_manager_release(srv->pm, &srv->binding);
  srv->handle.data = NULL;
  uv_close((uv_handle_t *)&srv->handle, sfu__tcp_server_on_close);
}
