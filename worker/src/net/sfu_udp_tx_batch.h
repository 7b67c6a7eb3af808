/* The shared UDP send batch: while a socket's read callback handles the
 * datagrams of one recvmmsg(), what that same socket sends (a WebRtcServer's
 * socket forwarding every call's packets) is copied here and handed to the
 * kernel with one sendmmsg() at the end of the batch instead of one sendto()
 * per datagram. One batch per worker (reads never nest); owned by the port
 * manager like the receive batch. */
#ifndef SFU_UDP_TX_BATCH_H
#define SFU_UDP_TX_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SFU_UDP_TX_BATCH_MAX 32u
/* Larger datagrams bypass the batch (they flush it first, keeping order). */
#define SFU_UDP_TX_SLOT 1536u

typedef struct sfu_udp_tx_batch {
  void *owner; /* the socket filling it, NULL when idle */
  unsigned count;
  struct mmsghdr msgs[SFU_UDP_TX_BATCH_MAX];
  struct iovec iov[SFU_UDP_TX_BATCH_MAX];
  struct sockaddr_storage to[SFU_UDP_TX_BATCH_MAX];
  uint8_t buf[SFU_UDP_TX_BATCH_MAX][SFU_UDP_TX_SLOT];
} sfu_udp_tx_batch_t;

sfu_udp_tx_batch_t *sfu_udp_tx_batch_new(void);
void sfu_udp_tx_batch_free(sfu_udp_tx_batch_t *b);
/* Appends a copy (len <= SFU_UDP_TX_SLOT, count < MAX). to NULL: the
 * connected peer. */
void sfu_udp_tx_batch_add(sfu_udp_tx_batch_t *b, const uint8_t *p, size_t len, const struct sockaddr *to,
                          socklen_t to_len);
/* Drops the first n entries (sent or refused), keeping the order of the rest. */
void sfu_udp_tx_batch_consume(sfu_udp_tx_batch_t *b, unsigned n);

#endif
