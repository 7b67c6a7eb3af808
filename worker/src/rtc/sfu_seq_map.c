#include "sfu_seq_map.h"

#include <string.h>

void sfu_seq_map_init(sfu_seq_map_t *m, uint8_t bits) {
  memset(m, 0, sizeof(*m));
  m->bits = bits;
  m->mask = bits >= 32 ? UINT32_MAX : (1u << bits) - 1;
}

/* Drops far enough behind the newest input are behind every input to come:
 * folded into the base. */
static void sfu__fold(sfu_seq_map_t *m) {
  uint32_t window = (m->mask >> 2) < 1000 ? (m->mask >> 2) : 1000;
  while (m->ndrops > 0 && ((m->max_in - m->drops[m->head]) & m->mask) > window) {
    m->base = (m->base - 1) & m->mask;
    m->head = (m->head + 1) % SFU_SEQ_MAP_DROPS;
    m->ndrops--;
  }
}

void sfu_seq_map_sync(sfu_seq_map_t *m, uint32_t in) {
  m->base = m->started ? (m->max_out + 1 - in) & m->mask : 0;
  m->max_in = (in - 1) & m->mask;
  m->head = m->ndrops = 0;
}

void sfu_seq_map_drop(sfu_seq_map_t *m, uint32_t in) {
  in &= m->mask;
  if (!sfu_seq_map_newer(m, in, m->max_in)) return;
  if (m->ndrops == SFU_SEQ_MAP_DROPS) {
    m->base = (m->base - 1) & m->mask; /* the oldest one: behind everything to come */
    m->head = (m->head + 1) % SFU_SEQ_MAP_DROPS;
    m->ndrops--;
  }
  m->drops[(m->head + m->ndrops) % SFU_SEQ_MAP_DROPS] = in;
  m->ndrops++;
  m->max_in = in;
  sfu__fold(m);
}

bool sfu__seq_map_input_slow(sfu_seq_map_t *m, uint32_t in, uint32_t *out) {
  uint32_t before = 0;
  in &= m->mask;
  if (m->ndrops > 0 && sfu_seq_map_newer(m, in, m->drops[(m->head + m->ndrops - 1) % SFU_SEQ_MAP_DROPS])) {
    before = (uint32_t)m->ndrops; /* the usual case: newer than every drop */
  } else {
    for (size_t i = 0; i < m->ndrops; i++) {
      uint32_t d = m->drops[(m->head + i) % SFU_SEQ_MAP_DROPS];
      if (d == in) return false;
      if (sfu_seq_map_newer(m, in, d)) before++;
    }
  }
  *out = (in + m->base - before) & m->mask;
  if (!m->started || sfu_seq_map_newer(m, in, m->max_in)) m->max_in = in;
  if (!m->started || sfu_seq_map_newer(m, *out, m->max_out)) m->max_out = *out;
  m->started = true;
  sfu__fold(m);
  return true;
}
