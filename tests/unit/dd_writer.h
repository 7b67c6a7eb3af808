/* A Dependency Descriptor writer for the tests of worker/src/rtp/sfu_rtp_dd
 * (test_rtp_dd.c) and its fuzzer (fuzz_rtp_dd.c): f(n) and ns(n) put bit by
 * bit, and the fields in the order of the AV1 RTP specification's A.8.2
 * syntax, written from the spec, not from the reader. Header-only, no
 * cmocka. */
#ifndef DD_WRITER_H
#define DD_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sfu_rtp_dd.h"

typedef struct dd_writer {
  uint8_t buf[SFU_RTP_DD_MAX_LEN + 1];
  size_t bits;
  bool overflow; /* more than SFU_RTP_DD_MAX_LEN bytes, or a structure the syntax cannot express */
} dd_writer_t;

static inline void dd_init(dd_writer_t *w) { memset(w, 0, sizeof(*w)); }

static inline size_t dd_len(const dd_writer_t *w) { return (w->bits + 7) / 8; }

/* f(n): n <= 32 bits of v, high bit first. */
static inline void dd_put(dd_writer_t *w, unsigned n, uint32_t v) {
  unsigned i;

  for (i = n; i-- > 0;) {
    if (w->bits >= 8 * SFU_RTP_DD_MAX_LEN) {
      w->overflow = true;
      return;
    }
    if ((v >> i) & 1u) w->buf[w->bits >> 3] |= (uint8_t)(0x80u >> (w->bits & 7));
    w->bits++;
  }
}

/* write_ns(n, v) of A.8.2. */
static inline void dd_put_ns(dd_writer_t *w, uint32_t n, uint32_t v) {
  uint32_t x = n, m;
  unsigned bits = 0;

  if (n == 1) return;
  while (x != 0) {
    x >>= 1;
    bits++;
  }
  m = (1u << bits) - n;
  if (v < m) dd_put(w, bits - 1, v);
  else dd_put(w, bits, v + m);
}

static inline void dd_put_mandatory(dd_writer_t *w, bool sof, bool eof, unsigned template_id, unsigned frame_number) {
  dd_put(w, 1, sof);
  dd_put(w, 1, eof);
  dd_put(w, 6, template_id);
  dd_put(w, 16, frame_number);
}

/* template_dependency_structure(): the templates must be ordered as the
 * syntax codes them (each one the same layer, the next temporal id, or the
 * next spatial id at temporal id 0, as its predecessor). */
static inline void dd_put_structure(dd_writer_t *w, const sfu_rtp_dd_structure_t *s) {
  const sfu_rtp_dd_template_t *t, *n;
  unsigned i, j, idc;

  dd_put(w, 6, s->template_id_offset);
  dd_put(w, 5, s->decode_target_count - 1u);
  if (s->template_count == 0 || s->templates[0].spatial_id != 0 || s->templates[0].temporal_id != 0)
    w->overflow = true;
  for (i = 0; i < s->template_count; i++) { /* template_layers() */
    t = &s->templates[i];
    n = t + 1;
    if (i + 1 == s->template_count) idc = 3;
    else if (n->spatial_id == t->spatial_id && n->temporal_id == t->temporal_id) idc = 0;
    else if (n->spatial_id == t->spatial_id && n->temporal_id == t->temporal_id + 1) idc = 1;
    else if (n->spatial_id == t->spatial_id + 1 && n->temporal_id == 0) idc = 2;
    else {
      w->overflow = true;
      idc = 3;
    }
    dd_put(w, 2, idc);
  }
  for (i = 0; i < s->template_count; i++) /* template_dtis() */
    for (j = 0; j < s->decode_target_count; j++) dd_put(w, 2, s->templates[i].dtis[j]);
  for (i = 0; i < s->template_count; i++) { /* template_fdiffs() */
    t = &s->templates[i];
    for (j = 0; j < t->fdiff_count; j++) {
      dd_put(w, 1, 1);
      dd_put(w, 4, t->fdiffs[j] - 1u);
    }
    dd_put(w, 1, 0);
  }
  dd_put_ns(w, s->decode_target_count + 1u, s->chain_count); /* template_chains() */
  if (s->chain_count > 0) {
    for (j = 0; j < s->decode_target_count; j++) dd_put_ns(w, s->chain_count, s->decode_target_protected_by_chain[j]);
    for (i = 0; i < s->template_count; i++)
      for (j = 0; j < s->chain_count; j++) dd_put(w, 4, s->templates[i].chain_diffs[j]);
  }
  dd_put(w, 1, s->has_resolutions);
  if (s->has_resolutions) {
    for (i = 0; i <= s->templates[s->template_count - 1].spatial_id; i++) {
      if (i >= SFU_RTP_DD_MAX_SPATIAL_IDS) { /* a structure past the limit, for the reader to refuse */
        dd_put(w, 32, 0);
        continue;
      }
      dd_put(w, 16, s->resolutions[i].width - 1u);
      dd_put(w, 16, s->resolutions[i].height - 1u);
    }
  }
}

/* frame_fdiffs(): each value in the fewest 4-bit units. */
static inline void dd_put_frame_fdiffs(dd_writer_t *w, const uint16_t *fdiffs, unsigned count) {
  unsigned i, size;

  for (i = 0; i < count; i++) {
    size = fdiffs[i] <= 16 ? 1 : fdiffs[i] <= 256 ? 2 : 3;
    dd_put(w, 2, size);
    dd_put(w, 4 * size, fdiffs[i] - 1u);
  }
  dd_put(w, 2, 0);
}

/* A whole descriptor from a parsed one: d's mandatory fields and flags, the
 * structure `s` when d->has_structure, the active decode targets when
 * d->active_decode_targets_present, d's custom DTIs, fdiffs and chain diffs
 * when flagged (counts from `s`, the structure that d resolves against).
 * Extended fields only when something needs them, unless `extended`. */
static inline size_t dd_put_descriptor(dd_writer_t *w, const sfu_rtp_dd_structure_t *s, const sfu_rtp_dd_t *d,
                                       bool extended) {
  unsigned i;

  dd_put_mandatory(w, d->start_of_frame, d->end_of_frame, d->template_id, d->frame_number);
  if (extended || d->has_structure || d->active_decode_targets_present || d->custom_dtis || d->custom_fdiffs ||
      d->custom_chains) {
    dd_put(w, 1, d->has_structure);
    dd_put(w, 1, d->active_decode_targets_present);
    dd_put(w, 1, d->custom_dtis);
    dd_put(w, 1, d->custom_fdiffs);
    dd_put(w, 1, d->custom_chains);
    if (d->has_structure) dd_put_structure(w, s);
    if (d->active_decode_targets_present) dd_put(w, s->decode_target_count, d->active_decode_targets);
    if (d->custom_dtis)
      for (i = 0; i < s->decode_target_count; i++) dd_put(w, 2, d->dtis[i]);
    if (d->custom_fdiffs) dd_put_frame_fdiffs(w, d->fdiffs, d->fdiff_count);
    if (d->custom_chains)
      for (i = 0; i < s->chain_count; i++) dd_put(w, 8, d->chain_diffs[i]);
  }
  return dd_len(w);
}

#endif
