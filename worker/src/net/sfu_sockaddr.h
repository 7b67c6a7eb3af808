/* Socket address helpers shared by the network layer: textual IP <-> sockaddr
 * (IPv4 and IPv6 only), and the canonical form of an IP string (what
 * inet_ntop prints, as mediasoup's Utils::IP::NormalizeIp does). No scope ids:
 * "fe80::1%eth0" is rejected, like mediasoup. */
#ifndef SFU_SOCKADDR_H
#define SFU_SOCKADDR_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

/* Family of an IP string: AF_INET, AF_INET6, or 0 if it is neither. */
int sfu_ip_family(const char *ip);

/* Canonical text of `ip` into out ("::0:1" -> "::1"). 0 or SFU_EINVAL. out
 * may alias ip. */
int sfu_ip_normalize(const char *ip, char out[INET6_ADDRSTRLEN]);

/* "ip" + port -> sockaddr_in / sockaddr_in6 in *out (zeroed first). 0 or SFU_EINVAL. */
int sfu_sockaddr_from_str(const char *ip, uint16_t port, struct sockaddr_storage *out);

/* sockaddr -> canonical ip text + port (host order). 0, or SFU_EINVAL for a
 * family other than AF_INET/AF_INET6 (then ip is "" and *port 0). port may be NULL. */
int sfu_sockaddr_to_str(const struct sockaddr *sa, char ip[INET6_ADDRSTRLEN], uint16_t *port);

/* Port of an AF_INET/AF_INET6 address (host order), 0 otherwise. */
uint16_t sfu_sockaddr_port(const struct sockaddr *sa);
void sfu_sockaddr_set_port(struct sockaddr *sa, uint16_t port);

/* Same family and address, ports ignored. */
int sfu_sockaddr_same_ip(const struct sockaddr *a, const struct sockaddr *b);

#endif
