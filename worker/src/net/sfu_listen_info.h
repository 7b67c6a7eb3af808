/* Where a transport (or WebRtcServer) listens: mediasoup's
 * FBS.Transport.ListenInfo as a plain C struct. The transports fill it from
 * the FlatBuffers request (setters take the string pointer + length the
 * FlatBuffers reader gives), call sfu_listen_info_validate(), and hand it to
 * the socket constructors, which bind through the port manager.
 *
 * Port selection (mediasoup's rules):
 *   port != 0                        that exact port;
 *   port == 0, port_range min and max both != 0
 *                                    a free port in [min, max];
 *   otherwise                        a free port in the worker's
 *                                    --rtcMinPort..--rtcMaxPort. */
#ifndef SFU_LISTEN_INFO_H
#define SFU_LISTEN_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu_tuple.h" /* sfu_proto_t */

#define SFU_LISTEN_INFO_IP_MAX 64         /* buffer size, NUL included */
#define SFU_LISTEN_INFO_ANNOUNCED_MAX 256 /* buffer size, NUL included (a DNS name is <= 253) */

typedef struct sfu_listen_flags {
  bool ipv6_only;      /* IPV6_V6ONLY (ignored for IPv4 addresses) */
  bool udp_reuse_port; /* SO_REUSEPORT (+ SO_REUSEADDR); ignored for TCP */
} sfu_listen_flags_t;

typedef struct sfu_listen_info {
  sfu_proto_t protocol;
  char ip[SFU_LISTEN_INFO_IP_MAX];                       /* canonical after validate() */
  char announced_address[SFU_LISTEN_INFO_ANNOUNCED_MAX]; /* "" = none */
  bool expose_internal_ip;
  uint16_t port; /* 0 = pick one */
  struct {
    uint16_t min, max; /* both 0 = the worker's range */
  } port_range;
  sfu_listen_flags_t flags;
  uint32_t send_buffer_size; /* SO_SNDBUF; 0 = system default */
  uint32_t recv_buffer_size; /* SO_RCVBUF; 0 = system default */
} sfu_listen_info_t;

/* Zeroes li and sets protocol, ip (may be NULL) and port. 0 or SFU_EINVAL
 * (ip too long for the buffer; li->ip is then ""). */
int sfu_listen_info_init(sfu_listen_info_t *li, sfu_proto_t protocol, const char *ip, uint16_t port);

/* Copy a (not NUL-terminated) string into li->ip / li->announced_address.
 * SFU_EINVAL if it does not fit or contains a NUL byte. */
int sfu_listen_info_set_ip(sfu_listen_info_t *li, const char *s, size_t len);
int sfu_listen_info_set_announced_address(sfu_listen_info_t *li, const char *s, size_t len);

/* Checks protocol, ip (IPv4 or IPv6, rewritten in canonical form), port range
 * (min > max with both set is an error; one of them 0 means "worker range",
 * as in mediasoup) and buffer sizes (<= INT_MAX). 0, or SFU_EINVAL with a
 * reason in err (err may be NULL). */
int sfu_listen_info_validate(sfu_listen_info_t *li, char *err, size_t err_len);

/* True when li asks for its own port range (port 0, min and max set). */
bool sfu_listen_info_has_port_range(const sfu_listen_info_t *li);

/* Net-layer internal: writes the formatted reason into err (if not NULL) and
 * returns code. */
int sfu__net_fail(char *err, size_t err_len, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "udp" / "tcp" / "?" */
const char *sfu_proto_name(sfu_proto_t proto);

#endif
