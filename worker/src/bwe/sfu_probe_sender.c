#include "sfu_probe_sender.h"

#include <string.h>

#define SFU__PS_TIMEOUT_US 5000000

void sfu_probe_sender_init(sfu_probe_sender_t *p) { memset(p, 0, sizeof(*p)); }

void sfu_probe_sender_start(sfu_probe_sender_t *p, const sfu_probe_cluster_t *c, int64_t now_us) {
  memset(p, 0, sizeof(*p));
  if (c->bitrate_bps <= 0) return;
  p->active = true;
  p->cluster = *c;
  p->start_us = now_us;
}

static bool sfu__ps_done(const sfu_probe_sender_t *p, int64_t now_us) {
  return (p->sent >= p->cluster.min_probes && p->bytes >= p->cluster.min_bytes) ||
         now_us - p->start_us > SFU__PS_TIMEOUT_US;
}

int64_t sfu_probe_sender_time_until_next(sfu_probe_sender_t *p, int64_t now_us) {
  int64_t due;

  if (!p->active) return -1;
  if (sfu__ps_done(p, now_us)) {
    p->active = false;
    return -1;
  }
  if (p->sent == 0) return 0;
  due = p->start_us + p->bytes * 8 * 1000000 / p->cluster.bitrate_bps;
  return due > now_us ? due - now_us : 0;
}

void sfu_probe_sender_on_sent(sfu_probe_sender_t *p, size_t size, int64_t now_us) {
  if (!p->active) return;
  if (p->sent == 0) p->start_us = now_us;
  p->sent++;
  p->bytes += (int64_t)size;
  if (sfu__ps_done(p, now_us)) p->active = false;
}
