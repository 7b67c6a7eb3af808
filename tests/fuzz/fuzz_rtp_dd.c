/*
 * libFuzzer target for worker/src/rtp/sfu_rtp_dd (Dependency Descriptor).
 *
 * The input is the descriptors of one RTP stream, in order: a length byte,
 * then that many bytes (the last one takes what is left). Each one, in a
 * heap buffer of exactly its size, goes through sfu_rtp_dd_parse() with the
 * stream's one structure. Checked:
 *   - the answer is 0, SFU_EPROTO or SFU_ESTATE; on an error the structure
 *     is byte for byte what it was; on SFU_ESTATE the mandatory fields are
 *     those of the first 3 bytes;
 *   - on 0, the structure is within its limits (templates, decode targets,
 *     chains, layer ids, fdiffs, chain diffs, DTIs, in the order the syntax
 *     codes them), a packet without a structure left it alone, and the
 *     descriptor is resolved against it: its template index from the id and
 *     the offset, the template's layer, the template's DTIs, fdiffs and chain
 *     diffs unless custom ones came, the active decode targets within the
 *     decode target count, the resolution of its spatial layer, zeros past
 *     every count;
 *   - the descriptor, written again (tests/unit/dd_writer.h) from what was
 *     read, is no longer than the input and reads back, from the structure
 *     before, to the same descriptor and the same structure.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/dd_writer.h"
#include "sfu_error.h"
#include "sfu_rtp_dd.h"

#define CHECK(x)                \
  do {                          \
    if (!(x)) __builtin_trap(); \
  } while (0)

static bool all_zero(const uint8_t *p, size_t n) {
  size_t i;

  for (i = 0; i < n; i++)
    if (p[i]) return false;
  return true;
}

static void check_structure(const sfu_rtp_dd_structure_t *s) {
  const sfu_rtp_dd_template_t *t, *prev;
  unsigned i, j, max_tid = 0;

  CHECK(s->template_count >= 1 && s->template_count <= SFU_RTP_DD_MAX_TEMPLATES);
  CHECK(s->decode_target_count >= 1 && s->decode_target_count <= SFU_RTP_DD_MAX_DECODE_TARGETS);
  CHECK(s->chain_count <= s->decode_target_count);
  CHECK(s->template_id_offset < SFU_RTP_DD_MAX_TEMPLATES);
  CHECK(s->max_spatial_id < SFU_RTP_DD_MAX_SPATIAL_IDS && s->max_temporal_id < SFU_RTP_DD_MAX_TEMPORAL_IDS);
  CHECK(s->templates[0].spatial_id == 0 && s->templates[0].temporal_id == 0);
  for (i = 0; i < s->template_count; i++) {
    t = &s->templates[i];
    if (i > 0) { /* same layer, next temporal id, or next spatial id at temporal id 0 */
      prev = t - 1;
      CHECK((t->spatial_id == prev->spatial_id &&
             (t->temporal_id == prev->temporal_id || t->temporal_id == prev->temporal_id + 1)) ||
            (t->spatial_id == prev->spatial_id + 1 && t->temporal_id == 0));
    }
    if (t->temporal_id > max_tid) max_tid = t->temporal_id;
    for (j = 0; j < s->decode_target_count; j++) CHECK(t->dtis[j] <= SFU_RTP_DD_DTI_REQUIRED);
    CHECK(all_zero(t->dtis + s->decode_target_count, SFU_RTP_DD_MAX_DECODE_TARGETS - s->decode_target_count));
    CHECK(t->fdiff_count <= SFU_RTP_DD_MAX_FDIFFS);
    for (j = 0; j < t->fdiff_count; j++) CHECK(t->fdiffs[j] >= 1 && t->fdiffs[j] <= 16);
    CHECK(all_zero(t->fdiffs + t->fdiff_count, SFU_RTP_DD_MAX_FDIFFS - t->fdiff_count));
    for (j = 0; j < s->chain_count; j++) CHECK(t->chain_diffs[j] <= 15);
    CHECK(all_zero(t->chain_diffs + s->chain_count, SFU_RTP_DD_MAX_CHAINS - s->chain_count));
  }
  CHECK(s->templates[s->template_count - 1].spatial_id == s->max_spatial_id);
  CHECK(max_tid == s->max_temporal_id);
  for (j = 0; j < s->decode_target_count; j++) {
    CHECK(s->chain_count == 0 ? s->decode_target_protected_by_chain[j] == 0
                              : s->decode_target_protected_by_chain[j] < s->chain_count);
    CHECK(s->decode_target_spatial_id[j] <= s->max_spatial_id);
    CHECK(s->decode_target_temporal_id[j] <= s->max_temporal_id);
  }
  for (j = 0; j < SFU_RTP_DD_MAX_SPATIAL_IDS; j++) {
    if (s->has_resolutions && j <= s->max_spatial_id)
      CHECK(s->resolutions[j].width >= 1 && s->resolutions[j].width <= 65536 && s->resolutions[j].height >= 1 &&
            s->resolutions[j].height <= 65536);
    else CHECK(s->resolutions[j].width == 0 && s->resolutions[j].height == 0);
  }
  for (i = s->template_count; i < SFU_RTP_DD_MAX_TEMPLATES; i++)
    CHECK(all_zero((const uint8_t *)&s->templates[i], sizeof(s->templates[i])));
}

static void check_descriptor(const uint8_t *p, const sfu_rtp_dd_structure_t *s, const sfu_rtp_dd_t *d) {
  const sfu_rtp_dd_template_t *t;
  uint32_t all = s->decode_target_count == 32 ? 0xffffffffu : (1u << s->decode_target_count) - 1;
  unsigned j;

  CHECK(d->start_of_frame == ((p[0] & 0x80) != 0) && d->end_of_frame == ((p[0] & 0x40) != 0));
  CHECK(d->template_id == (p[0] & 0x3f) && d->frame_number == ((p[1] << 8) | p[2]));
  CHECK(d->template_index < s->template_count);
  CHECK((d->template_id + 64u - s->template_id_offset) % 64u == d->template_index);
  t = &s->templates[d->template_index];
  CHECK(d->spatial_id == t->spatial_id && d->temporal_id == t->temporal_id);
  CHECK((d->active_decode_targets & ~all) == 0);
  if (d->has_structure && !d->active_decode_targets_present) CHECK(d->active_decode_targets == all);
  if (!d->has_structure && !d->active_decode_targets_present) CHECK(d->active_decode_targets == 0);
  for (j = 0; j < s->decode_target_count; j++) CHECK(d->dtis[j] <= SFU_RTP_DD_DTI_REQUIRED);
  if (!d->custom_dtis) CHECK(memcmp(d->dtis, t->dtis, s->decode_target_count) == 0);
  CHECK(all_zero(d->dtis + s->decode_target_count, SFU_RTP_DD_MAX_DECODE_TARGETS - s->decode_target_count));
  CHECK(d->fdiff_count <= SFU_RTP_DD_MAX_FDIFFS);
  for (j = 0; j < d->fdiff_count; j++) {
    CHECK(d->fdiffs[j] >= 1 && d->fdiffs[j] <= 4096);
    if (!d->custom_fdiffs) CHECK(d->fdiffs[j] == t->fdiffs[j]);
  }
  if (!d->custom_fdiffs) CHECK(d->fdiff_count == t->fdiff_count);
  for (j = d->fdiff_count; j < SFU_RTP_DD_MAX_FDIFFS; j++) CHECK(d->fdiffs[j] == 0);
  if (!d->custom_chains) CHECK(memcmp(d->chain_diffs, t->chain_diffs, s->chain_count) == 0);
  CHECK(all_zero(d->chain_diffs + s->chain_count, SFU_RTP_DD_MAX_CHAINS - s->chain_count));
  CHECK(d->has_resolution == s->has_resolutions);
  if (d->has_resolution)
    CHECK(d->resolution.width == s->resolutions[d->spatial_id].width &&
          d->resolution.height == s->resolutions[d->spatial_id].height);
  else CHECK(d->resolution.width == 0 && d->resolution.height == 0);
}

static bool same_descriptor(const sfu_rtp_dd_t *a, const sfu_rtp_dd_t *b) {
  return a->start_of_frame == b->start_of_frame && a->end_of_frame == b->end_of_frame &&
         a->template_id == b->template_id && a->frame_number == b->frame_number &&
         a->has_structure == b->has_structure && a->active_decode_targets_present == b->active_decode_targets_present &&
         a->active_decode_targets == b->active_decode_targets && a->custom_dtis == b->custom_dtis &&
         a->custom_fdiffs == b->custom_fdiffs && a->custom_chains == b->custom_chains &&
         a->template_index == b->template_index && a->spatial_id == b->spatial_id &&
         a->temporal_id == b->temporal_id && a->fdiff_count == b->fdiff_count &&
         memcmp(a->fdiffs, b->fdiffs, sizeof(a->fdiffs)) == 0 && memcmp(a->dtis, b->dtis, sizeof(a->dtis)) == 0 &&
         memcmp(a->chain_diffs, b->chain_diffs, sizeof(a->chain_diffs)) == 0 &&
         a->has_resolution == b->has_resolution && a->resolution.width == b->resolution.width &&
         a->resolution.height == b->resolution.height;
}

/* Written again from what was read, and read back from the structure before. */
static void rewrite(const sfu_rtp_dd_structure_t *before, const sfu_rtp_dd_structure_t *after, const sfu_rtp_dd_t *d,
                    size_t len, bool extended) {
  static sfu_rtp_dd_structure_t s;
  sfu_rtp_dd_t again;
  dd_writer_t w;
  uint8_t *buf;
  size_t n;

  dd_init(&w);
  n = dd_put_descriptor(&w, after, d, extended);
  CHECK(!w.overflow && n <= len);
  CHECK((buf = malloc(n)) != NULL);
  memcpy(buf, w.buf, n);
  s = *before;
  CHECK(sfu_rtp_dd_parse(buf, n, &s, &again) == 0);
  CHECK(same_descriptor(d, &again));
  CHECK(memcmp(&s, after, sizeof(s)) == 0);
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static sfu_rtp_dd_structure_t structure, before;
  sfu_rtp_dd_t d;
  uint8_t *buf;
  size_t n;
  int rc;

  memset(&structure, 0, sizeof(structure));
  while (size > 0) {
    n = data[0];
    data++;
    size--;
    if (n > size) n = size;
    CHECK((buf = malloc(n ? n : 1)) != NULL);
    if (n) memcpy(buf, data, n);
    before = structure;
    rc = sfu_rtp_dd_parse(buf, n, &structure, &d);
    CHECK(rc == 0 || rc == SFU_EPROTO || rc == SFU_ESTATE);
    if (rc != 0) {
      CHECK(memcmp(&structure, &before, sizeof(structure)) == 0);
      if (rc == SFU_ESTATE) {
        CHECK(n >= SFU_RTP_DD_MIN_LEN);
        CHECK(d.template_id == (buf[0] & 0x3f) && d.frame_number == ((buf[1] << 8) | buf[2]));
        CHECK(d.start_of_frame == ((buf[0] & 0x80) != 0) && d.end_of_frame == ((buf[0] & 0x40) != 0));
      }
    } else {
      CHECK(n >= SFU_RTP_DD_MIN_LEN && n <= SFU_RTP_DD_MAX_LEN);
      check_structure(&structure);
      if (!d.has_structure) CHECK(memcmp(&structure, &before, sizeof(structure)) == 0);
      check_descriptor(buf, &structure, &d);
      rewrite(&before, &structure, &d, n, n > SFU_RTP_DD_MIN_LEN);
    }
    free(buf);
    data += n;
    size -= n;
  }
  return 0;
}
