/* Paces the packets of one probe cluster (libwebrtc's BitrateProber, one
 * cluster at a time): packet k goes out when the bytes already sent, at the
 * cluster rate, have taken their time since the first one; the cluster is
 * done after min_probes packets and min_bytes bytes (or after 5 s, a
 * cluster the transport could not fill). The transport sends padding or RTX
 * of about 1200 bytes for each due packet, tagged with the cluster id. */
#ifndef SFU_PROBE_SENDER_H
#define SFU_PROBE_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu_probe_controller.h"

typedef struct sfu_probe_sender {
  bool active;
  sfu_probe_cluster_t cluster;
  int sent;
  int64_t bytes;
  int64_t start_us;
} sfu_probe_sender_t;

void sfu_probe_sender_init(sfu_probe_sender_t *p);
void sfu_probe_sender_start(sfu_probe_sender_t *p, const sfu_probe_cluster_t *c, int64_t now_us);
/* Microseconds until the next probe packet is due (0: now), or -1 when no
 * cluster is being sent (done: start the next one). */
int64_t sfu_probe_sender_time_until_next(sfu_probe_sender_t *p, int64_t now_us);
/* A probe packet of size bytes went out. */
void sfu_probe_sender_on_sent(sfu_probe_sender_t *p, size_t size, int64_t now_us);
/* The id to pass to sfu_send_bwe_on_packet_sent(), -1 when idle. */
static inline int sfu_probe_sender_cluster_id(const sfu_probe_sender_t *p) { return p->active ? p->cluster.id : -1; }

#endif
