/* A sequence number space that is rewritten and may drop numbers (as
 * mediasoup's SeqManager): what a consumer forwards keeps consecutive
 * output numbers although it skips input packets (temporal layers above
 * its target, DTX) and jumps between sources (simulcast streams, resumes).
 *
 * Numbers are `bits` wide (16 for RTP sequence numbers, 15 or 7 for VP8/VP9
 * picture ids). sync(in) makes `in` follow the highest output so far;
 * drop(in) removes a number newer than any seen; input(in) gives its output
 * (for late and repeated inputs too, within SFU_SEQ_MAP_DROPS drops and
 * half the number space), or false for a dropped one. Pure, no allocation. */
#ifndef SFU_SEQ_MAP_H
#define SFU_SEQ_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFU_SEQ_MAP_DROPS 512 /* drops remembered for late inputs (a few seconds of temporal layers) */

typedef struct sfu_seq_map {
  uint8_t bits;
  uint32_t mask;
  bool started;      /* an output was given */
  uint32_t base;     /* output = input + base - (drops before it) */
  uint32_t max_in;   /* newest input seen (kept or dropped) */
  uint32_t max_out;  /* newest output given */
  uint32_t drops[SFU_SEQ_MAP_DROPS]; /* dropped inputs, oldest first (a ring) */
  size_t head, ndrops;
} sfu_seq_map_t;

void sfu_seq_map_init(sfu_seq_map_t *m, uint8_t bits);
/* The next input (in) continues right after the highest output given (or,
 * before any, maps to itself). Forgets the drops. */
void sfu_seq_map_sync(sfu_seq_map_t *m, uint32_t in);
/* in (newer than any input seen) is skipped: later ones close the gap. */
void sfu_seq_map_drop(sfu_seq_map_t *m, uint32_t in);
/* a is newer than b in this space. */
static inline bool sfu_seq_map_newer(const sfu_seq_map_t *m, uint32_t a, uint32_t b) {
  uint32_t d = (a - b) & m->mask;
  return d != 0 && d < ((m->mask >> 1) + 1);
}

bool sfu__seq_map_input_slow(sfu_seq_map_t *m, uint32_t in, uint32_t *out);

/* true and *out for a kept input; false for a dropped one. */
static inline bool sfu_seq_map_input(sfu_seq_map_t *m, uint32_t in, uint32_t *out) {
  if (m->ndrops == 0 && m->started) {
    /* the per-packet path: nothing dropped since the last fold */
    in &= m->mask;
    *out = (in + m->base) & m->mask;
    if (sfu_seq_map_newer(m, in, m->max_in)) m->max_in = in;
    if (sfu_seq_map_newer(m, *out, m->max_out)) m->max_out = *out;
    return true;
  }
  return sfu__seq_map_input_slow(m, in, out);
}

#endif
