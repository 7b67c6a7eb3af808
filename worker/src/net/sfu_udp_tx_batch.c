#include "sfu_udp_tx_batch.h"

#include <stdlib.h>
#include <string.h>

sfu_udp_tx_batch_t *sfu_udp_tx_batch_new(void) {
  /* not calloc: the 48 KiB of slots need no zeroing (each is written before
   * it is sent), only the headers are set up */
  sfu_udp_tx_batch_t *b = malloc(sizeof(*b));
  if (b == NULL) return NULL;
  b->owner = NULL;
  b->count = 0;
  memset(b->msgs, 0, sizeof(b->msgs));
  for (unsigned i = 0; i < SFU_UDP_TX_BATCH_MAX; i++) {
    b->iov[i].iov_base = b->buf[i];
    b->iov[i].iov_len = 0;
    b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
    b->msgs[i].msg_hdr.msg_iovlen = 1;
  }
  return b;
}

void sfu_udp_tx_batch_free(sfu_udp_tx_batch_t *b) { free(b); }

void sfu_udp_tx_batch_add(sfu_udp_tx_batch_t *b, const uint8_t *p, size_t len, const struct sockaddr *to,
                          socklen_t to_len) {
  unsigned i = b->count++;
  memcpy(b->buf[i], p, len);
  b->iov[i].iov_len = len;
  if (to != NULL) {
    memcpy(&b->to[i], to, to_len);
    b->msgs[i].msg_hdr.msg_name = &b->to[i];
    b->msgs[i].msg_hdr.msg_namelen = to_len;
  } else {
    b->msgs[i].msg_hdr.msg_name = NULL;
    b->msgs[i].msg_hdr.msg_namelen = 0;
  }
}

void sfu_udp_tx_batch_consume(sfu_udp_tx_batch_t *b, unsigned n) {
  if (n >= b->count) {
    b->count = 0;
    return;
  }
  /* rare (EAGAIN part-way): move the rest to the front */
  for (unsigned i = n, j = 0; i < b->count; i++, j++) {
    memcpy(b->buf[j], b->buf[i], b->iov[i].iov_len);
    b->iov[j].iov_len = b->iov[i].iov_len;
    if (b->msgs[i].msg_hdr.msg_name != NULL) {
      memcpy(&b->to[j], &b->to[i], b->msgs[i].msg_hdr.msg_namelen);
      b->msgs[j].msg_hdr.msg_name = &b->to[j];
    } else {
      b->msgs[j].msg_hdr.msg_name = NULL;
    }
    b->msgs[j].msg_hdr.msg_namelen = b->msgs[i].msg_hdr.msg_namelen;
  }
  b->count -= n;
}
