/* A 5-tuple as the media path sees it: which of our sockets a packet came in
 * on (or goes out of) and the remote address. For UDP `sock` is the
 * sfu_udp_socket_t, for TCP the sfu_tcp_conn_t (the connection already pins
 * the remote address). Tuples are small values: copy them, compare them with
 * sfu_tuple_equal(). */
#ifndef SFU_TUPLE_H
#define SFU_TUPLE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

typedef enum sfu_proto { SFU_PROTO_UDP = 1, SFU_PROTO_TCP = 2 } sfu_proto_t; /* = FBS.Transport.Protocol */

typedef struct sfu_tuple {
  sfu_proto_t proto;
  void *sock; /* sfu_udp_socket_t * or sfu_tcp_conn_t * */
  struct sockaddr_storage remote;
} sfu_tuple_t;

static inline socklen_t sfu_sockaddr_len(const struct sockaddr *sa) {
  return sa->sa_family == AF_INET6 ? (socklen_t)sizeof(struct sockaddr_in6) : (socklen_t)sizeof(struct sockaddr_in);
}

/* Same family, address and port (IPv6 scope ignored). */
static inline bool sfu_sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b) {
  if (a->sa_family != b->sa_family) return false;
  if (a->sa_family == AF_INET) {
    const struct sockaddr_in *x = (const struct sockaddr_in *)a, *y = (const struct sockaddr_in *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->sa_family == AF_INET6) {
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a, *y = (const struct sockaddr_in6 *)b;
    return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
  }
  return false;
}

static inline bool sfu_tuple_equal(const sfu_tuple_t *a, const sfu_tuple_t *b) {
  return a->proto == b->proto && a->sock == b->sock &&
         sfu_sockaddr_equal((const struct sockaddr *)&a->remote, (const struct sockaddr *)&b->remote);
}

#endif
