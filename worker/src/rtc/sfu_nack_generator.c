#include "sfu_nack_generator.h"

#include <string.h>

/* a is newer than b in 16-bit sequence space */
static bool sfu__newer(uint16_t a, uint16_t b) { return a != b && (uint16_t)(a - b) < 0x8000; }

static sfu_nack_item_t *sfu__at(sfu_nack_generator_t *g, size_t i) {
  return &g->items[(g->head + i) % SFU_NACK_MAX_PACKETS];
}

static void sfu__pop_front(sfu_nack_generator_t *g) {
  g->head = (g->head + 1) % SFU_NACK_MAX_PACKETS;
  g->count--;
}

static void sfu__remove_at(sfu_nack_generator_t *g, size_t i) {
  /* Keep the order: shift the newer ones down (rare: a late or repaired packet). */
  for (size_t j = i; j + 1 < g->count; j++) *sfu__at(g, j) = *sfu__at(g, j + 1);
  g->count--;
}

static void sfu__add_keyframe(sfu_nack_generator_t *g, uint16_t seq) {
  if (g->kf_count == SFU_NACK_MAX_KEYFRAMES) {
    g->kf_head = (g->kf_head + 1) % SFU_NACK_MAX_KEYFRAMES;
    g->kf_count--;
  }
  g->keyframes[(g->kf_head + g->kf_count) % SFU_NACK_MAX_KEYFRAMES] = seq;
  g->kf_count++;
}

void sfu_nack_generator_init(sfu_nack_generator_t *g) { memset(g, 0, sizeof(*g)); }

/* Forgets holes older than the newest key frame before seq_end, oldest first:
 * what came before a key frame is not needed to decode what follows it. */
static bool sfu__drop_until_keyframe(sfu_nack_generator_t *g) {
  while (g->kf_count > 0) {
    uint16_t kf = g->keyframes[g->kf_head];
    g->kf_head = (g->kf_head + 1) % SFU_NACK_MAX_KEYFRAMES;
    g->kf_count--;
    size_t before = g->count;
    while (g->count > 0 && sfu__newer(kf, sfu__at(g, 0)->seq)) {
      sfu__pop_front(g);
      g->given_up++;
    }
    if (g->count < before) return true;
  }
  return false;
}

static size_t sfu__batch(sfu_nack_generator_t *g, uint64_t now_ms, uint32_t rtt_ms, bool only_new, uint16_t *out,
                         size_t max) {
  size_t n = 0, i = 0;
  while (i < g->count && n < max) {
    sfu_nack_item_t *it = sfu__at(g, i);
    bool due = only_new ? it->sent_ms == 0 : (it->sent_ms == 0 || now_ms >= it->sent_ms + rtt_ms);
    if (!due) {
      i++;
      continue;
    }
    out[n++] = it->seq;
    g->nacked_packets++;
    it->sent_ms = now_ms != 0 ? now_ms : 1;
    if (++it->retries >= SFU_NACK_MAX_RETRIES) {
      sfu__remove_at(g, i);
      g->given_up++;
      continue;
    }
    i++;
  }
  return n;
}

sfu_nack_result_t sfu_nack_generator_on_packet(sfu_nack_generator_t *g, uint16_t seq, bool is_keyframe, bool repaired,
                                               uint64_t now_ms, uint16_t *out, size_t max, size_t *n,
                                               bool *keyframe_needed) {
  *n = 0;
  *keyframe_needed = false;
  if (!g->started) {
    g->started = true;
    g->last_seq = seq;
    if (is_keyframe) sfu__add_keyframe(g, seq);
    return SFU_NACK_NEW;
  }
  if (seq == g->last_seq) return SFU_NACK_DUPLICATE;

  if (!sfu__newer(seq, g->last_seq)) {
    /* older: one we are waiting for? */
    for (size_t i = 0; i < g->count; i++) {
      if (sfu__at(g, i)->seq == seq) {
        sfu__remove_at(g, i);
        g->recovered++;
        if (is_keyframe) sfu__add_keyframe(g, seq);
        return SFU_NACK_RECOVERED;
      }
    }
    (void)repaired;
    return SFU_NACK_OLD;
  }

  /* newer: every sequence number in between is missing */
  if (is_keyframe) sfu__add_keyframe(g, seq);
  /* forget holes too old to matter */
  while (g->count > 0 && (uint16_t)(seq - sfu__at(g, 0)->seq) > SFU_NACK_MAX_AGE) {
    sfu__pop_front(g);
    g->given_up++;
  }
  uint16_t missing = (uint16_t)(seq - g->last_seq - 1);
  if (missing > 0) {
    while (g->count + missing > SFU_NACK_MAX_PACKETS && sfu__drop_until_keyframe(g)) {
    }
    if (g->count + missing > SFU_NACK_MAX_PACKETS) {
      g->given_up += g->count;
      g->count = 0;
      g->head = 0;
      g->keyframes_needed++;
      *keyframe_needed = true;
      g->last_seq = seq;
      return SFU_NACK_NEW;
    }
    for (uint16_t s = (uint16_t)(g->last_seq + 1); s != seq; s++) {
      sfu_nack_item_t *it = sfu__at(g, g->count++);
      it->seq = s;
      it->retries = 0;
      it->sent_ms = 0;
    }
  }
  g->last_seq = seq;
  if (missing > 0) *n = sfu__batch(g, now_ms, 0, true, out, max);
  return SFU_NACK_NEW;
}

size_t sfu_nack_generator_on_timer(sfu_nack_generator_t *g, uint64_t now_ms, uint32_t rtt_ms, uint16_t *out,
                                   size_t max) {
  if (rtt_ms == 0) rtt_ms = SFU_NACK_DEFAULT_RTT_MS;
  return sfu__batch(g, now_ms, rtt_ms, false, out, max);
}
