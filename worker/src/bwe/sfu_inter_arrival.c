#include "sfu_inter_arrival.h"

#include <string.h>

#define SFU__IA_BURST_DELTA_US 5000
#define SFU__IA_MAX_BURST_US 100000
#define SFU__IA_OFFSET_THRESHOLD_US 3000000
#define SFU__IA_REORDERED_RESET 3

void sfu_inter_arrival_init(sfu_inter_arrival_t *ia, int64_t group_len_us) {
  memset(ia, 0, sizeof(*ia));
  ia->group_len_us = group_len_us;
}

void sfu_inter_arrival_reset(sfu_inter_arrival_t *ia) { sfu_inter_arrival_init(ia, ia->group_len_us); }

static bool sfu__ia_belongs_to_burst(const sfu_inter_arrival_t *ia, int64_t send_us, int64_t arrival_us) {
  int64_t arrival_delta, send_delta_ms, propagation;

  if (!ia->cur.complete) return false;
  arrival_delta = arrival_us - ia->cur.complete_us;
  send_delta_ms = (send_us - ia->cur.send_us + 500) / 1000; /* rounded, as libwebrtc */
  if (send_delta_ms == 0) return true;
  propagation = arrival_delta - send_delta_ms * 1000;
  return propagation < 0 && arrival_delta <= SFU__IA_BURST_DELTA_US &&
         arrival_us - ia->cur.first_arrival_us < SFU__IA_MAX_BURST_US;
}

bool sfu_inter_arrival_add(sfu_inter_arrival_t *ia, int64_t send_us, int64_t arrival_us, int64_t system_us,
                           size_t size, sfu_inter_arrival_delta_t *d) {
  bool computed = false;
  int64_t arrival_delta, system_delta;

  if (!ia->cur.valid) {
    ia->cur.valid = true;
    ia->cur.first_send_us = ia->cur.send_us = send_us;
    ia->cur.first_arrival_us = arrival_us;
  } else if (send_us < ia->cur.first_send_us) {
    return false; /* sent before the current group: out of order */
  } else if (!sfu__ia_belongs_to_burst(ia, send_us, arrival_us) &&
             send_us - ia->cur.first_send_us > ia->group_len_us) {
    if (ia->prev.complete) {
      arrival_delta = ia->cur.complete_us - ia->prev.complete_us;
      system_delta = ia->cur.last_system_us - ia->prev.last_system_us;
      if (arrival_delta - system_delta >= SFU__IA_OFFSET_THRESHOLD_US) {
        sfu_inter_arrival_reset(ia);
        return false;
      }
      if (arrival_delta < 0) {
        if (++ia->reordered >= SFU__IA_REORDERED_RESET) sfu_inter_arrival_reset(ia);
        return false;
      }
      ia->reordered = 0;
      d->send_delta_ms = (double)(ia->cur.send_us - ia->prev.send_us) / 1000.0;
      d->arrival_delta_ms = (double)arrival_delta / 1000.0;
      d->size_delta = ia->cur.size - ia->prev.size;
      computed = true;
    }
    ia->prev = ia->cur;
    memset(&ia->cur, 0, sizeof(ia->cur));
    ia->cur.valid = true;
    ia->cur.first_send_us = ia->cur.send_us = send_us;
    ia->cur.first_arrival_us = arrival_us;
  } else if (send_us > ia->cur.send_us) {
    ia->cur.send_us = send_us;
  }
  ia->cur.size += (int64_t)size;
  ia->cur.complete = true;
  ia->cur.complete_us = arrival_us;
  ia->cur.last_system_us = system_us;
  return computed;
}
