#include "sfu_listen_info.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sfu_error.h"
#include "sfu_sockaddr.h"

int sfu__net_fail(char *err, size_t err_len, int code, const char *fmt, ...) {
  if (err != NULL && err_len > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
  }
  return code;
}

static int sfu__li_copy(char *dst, size_t cap, const char *s, size_t len) {
  if (len >= cap || (len > 0 && memchr(s, '\0', len) != NULL)) {
    dst[0] = '\0';
    return SFU_EINVAL;
  }
  if (len > 0) memcpy(dst, s, len);
  dst[len] = '\0';
  return 0;
}

int sfu_listen_info_init(sfu_listen_info_t *li, sfu_proto_t protocol, const char *ip, uint16_t port) {
  memset(li, 0, sizeof(*li));
  li->protocol = protocol;
  li->port = port;
  if (ip == NULL) return 0;
  return sfu__li_copy(li->ip, sizeof(li->ip), ip, strlen(ip));
}

int sfu_listen_info_set_ip(sfu_listen_info_t *li, const char *s, size_t len) {
  return sfu__li_copy(li->ip, sizeof(li->ip), s, len);
}

int sfu_listen_info_set_announced_address(sfu_listen_info_t *li, const char *s, size_t len) {
  return sfu__li_copy(li->announced_address, sizeof(li->announced_address), s, len);
}

bool sfu_listen_info_has_port_range(const sfu_listen_info_t *li) {
  return li->port == 0 && li->port_range.min != 0 && li->port_range.max != 0;
}

const char *sfu_proto_name(sfu_proto_t proto) {
  switch (proto) {
    case SFU_PROTO_UDP:
      return "udp";
    case SFU_PROTO_TCP:
      return "tcp";
    default:
      return "?";
  }
}

int sfu_listen_info_validate(sfu_listen_info_t *li, char *err, size_t err_len) {
  char canon[INET6_ADDRSTRLEN];

  if (li->protocol != SFU_PROTO_UDP && li->protocol != SFU_PROTO_TCP)
    return sfu__net_fail(err, err_len, SFU_EINVAL, "invalid protocol");
  if (li->ip[0] == '\0') return sfu__net_fail(err, err_len, SFU_EINVAL, "missing ip");
  if (sfu_ip_normalize(li->ip, canon) != 0) return sfu__net_fail(err, err_len, SFU_EINVAL, "invalid IP '%s'", li->ip);
  memcpy(li->ip, canon, strlen(canon) + 1);
  if (li->port_range.min != 0 && li->port_range.max != 0 && li->port_range.min > li->port_range.max)
    return sfu__net_fail(err, err_len, SFU_EINVAL, "maxPort cannot be less than minPort [min:%u, max:%u]",
                        (unsigned)li->port_range.min, (unsigned)li->port_range.max);
  if (li->send_buffer_size > INT_MAX)
    return sfu__net_fail(err, err_len, SFU_EINVAL, "invalid sendBufferSize %u", (unsigned)li->send_buffer_size);
  if (li->recv_buffer_size > INT_MAX)
    return sfu__net_fail(err, err_len, SFU_EINVAL, "invalid recvBufferSize %u", (unsigned)li->recv_buffer_size);
  return 0;
}
