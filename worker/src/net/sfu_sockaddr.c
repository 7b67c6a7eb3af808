#include "sfu_sockaddr.h"

#include <arpa/inet.h>
#include <string.h>

#include "sfu_error.h"

int sfu_ip_family(const char *ip) {
  uint8_t buf[sizeof(struct in6_addr)];
  if (ip == NULL) return 0;
  if (inet_pton(AF_INET, ip, buf) == 1) return AF_INET;
  if (inet_pton(AF_INET6, ip, buf) == 1) return AF_INET6;
  return 0;
}

int sfu_sockaddr_from_str(const char *ip, uint16_t port, struct sockaddr_storage *out) {
  memset(out, 0, sizeof(*out));
  if (ip == NULL) return SFU_EINVAL;
  struct sockaddr_in *in4 = (struct sockaddr_in *)out;
  if (inet_pton(AF_INET, ip, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    return 0;
  }
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
  if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    return 0;
  }
  memset(out, 0, sizeof(*out));
  return SFU_EINVAL;
}

int sfu_sockaddr_to_str(const struct sockaddr *sa, char ip[INET6_ADDRSTRLEN], uint16_t *port) {
  const void *addr;
  uint16_t p;

  ip[0] = '\0';
  if (port != NULL) *port = 0;
  if (sa == NULL) return SFU_EINVAL;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
    addr = &in4->sin_addr;
    p = ntohs(in4->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    addr = &in6->sin6_addr;
    p = ntohs(in6->sin6_port);
  } else {
    return SFU_EINVAL;
  }
  if (inet_ntop(sa->sa_family, addr, ip, INET6_ADDRSTRLEN) == NULL) {
    ip[0] = '\0';
    return SFU_EINVAL;
  }
  if (port != NULL) *port = p;
  return 0;
}

int sfu_ip_normalize(const char *ip, char out[INET6_ADDRSTRLEN]) {
  struct sockaddr_storage ss;
  char tmp[INET6_ADDRSTRLEN];
  int r;

  if ((r = sfu_sockaddr_from_str(ip, 0, &ss)) != 0) return r;
  if ((r = sfu_sockaddr_to_str((const struct sockaddr *)&ss, tmp, NULL)) != 0) return r;
  memcpy(out, tmp, strlen(tmp) + 1);
  return 0;
}

uint16_t sfu_sockaddr_port(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET) return ntohs(((const struct sockaddr_in *)sa)->sin_port);
  if (sa->sa_family == AF_INET6) return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
  return 0;
}

void sfu_sockaddr_set_port(struct sockaddr *sa, uint16_t port) {
  if (sa->sa_family == AF_INET)
    ((struct sockaddr_in *)sa)->sin_port = htons(port);
  else if (sa->sa_family == AF_INET6)
    ((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
}

int sfu_sockaddr_same_ip(const struct sockaddr *a, const struct sockaddr *b) {
  if (a->sa_family != b->sa_family) return 0;
  if (a->sa_family == AF_INET)
    return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
  if (a->sa_family == AF_INET6)
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr,
                  sizeof(struct in6_addr)) == 0;
  return 0;
}
