#include "sfu_rtp_dd.h"

#include <string.h>

#include "sfu_byte.h"
#include "sfu_error.h"

/* next_layer_idc (table A.2); 0: the same spatial and temporal id */
#define SFU__DD_NEXT_TEMPORAL 1u /* temporal id + 1 */
#define SFU__DD_NEXT_SPATIAL 2u  /* spatial id + 1, temporal id 0 */
#define SFU__DD_NO_MORE 3u       /* end of the templates */

/* ---- bit reader: f(n) and ns(n) of A.8.2, every read bounds-checked ---- */

typedef struct sfu__dd_bits {
  const uint8_t *p;
  size_t pos; /* next bit */
  size_t end; /* len * 8 (len <= SFU_RTP_DD_MAX_LEN: no overflow) */
} sfu__dd_bits_t;

/* f(n), n <= 32, high bit first. 0 or SFU_EPROTO (past the end). */
static int sfu__dd_read(sfu__dd_bits_t *b, unsigned n, uint32_t *v) {
  uint32_t x = 0;
  size_t pos = b->pos;
  unsigned i;

  if (n > b->end - pos) return SFU_EPROTO;
  for (i = 0; i < n; i++, pos++) x = (x << 1) | ((b->p[pos >> 3] >> (7 - (pos & 7))) & 1u);
  b->pos = pos;
  *v = x;
  return 0;
}

static int sfu__dd_read_flag(sfu__dd_bits_t *b, bool *flag) {
  uint32_t v;
  int err;

  if ((err = sfu__dd_read(b, 1, &v)) != 0) return err;
  *flag = v != 0;
  return 0;
}

/* ns(n), 1 <= n <= 33: a value in 0..n-1, one bit shorter for the low
 * values when n is not a power of two. */
static int sfu__dd_read_ns(sfu__dd_bits_t *b, uint32_t n, uint32_t *v) {
  uint32_t x = n, m, r, extra;
  unsigned w = 0;
  int err;

  while (x != 0) {
    x >>= 1;
    w++;
  }
  m = (1u << w) - n;
  if ((err = sfu__dd_read(b, w - 1, &r)) != 0) return err;
  if (r < m) {
    *v = r;
    return 0;
  }
  if ((err = sfu__dd_read(b, 1, &extra)) != 0) return err;
  *v = (r << 1) - m + extra;
  return 0;
}

static uint32_t sfu__dd_all_targets(unsigned count) {
  return count >= 32 ? 0xffffffffu : (1u << count) - 1;
}

/* ---- template dependency structure (A.8.2 template_dependency_structure) ---- */

static int sfu__dd_read_layers(sfu__dd_bits_t *b, sfu_rtp_dd_structure_t *s) {
  unsigned sid = 0, tid = 0;
  uint32_t idc;
  int err;

  do {
    if (s->template_count == SFU_RTP_DD_MAX_TEMPLATES) return SFU_EPROTO;
    s->templates[s->template_count].spatial_id = (uint8_t)sid;
    s->templates[s->template_count].temporal_id = (uint8_t)tid;
    s->template_count++;
    if ((err = sfu__dd_read(b, 2, &idc)) != 0) return err;
    if (idc == SFU__DD_NEXT_TEMPORAL) {
      if (++tid >= SFU_RTP_DD_MAX_TEMPORAL_IDS) return SFU_EPROTO;
      if (tid > s->max_temporal_id) s->max_temporal_id = (uint8_t)tid;
    } else if (idc == SFU__DD_NEXT_SPATIAL) {
      if (++sid >= SFU_RTP_DD_MAX_SPATIAL_IDS) return SFU_EPROTO;
      tid = 0;
    }
  } while (idc != SFU__DD_NO_MORE);
  s->max_spatial_id = (uint8_t)sid;
  return 0;
}

static int sfu__dd_read_template_dtis(sfu__dd_bits_t *b, sfu_rtp_dd_structure_t *s) {
  unsigned t, dt;
  uint32_t v;
  int err;

  for (t = 0; t < s->template_count; t++) {
    for (dt = 0; dt < s->decode_target_count; dt++) {
      if ((err = sfu__dd_read(b, 2, &v)) != 0) return err;
      s->templates[t].dtis[dt] = (uint8_t)v;
    }
  }
  return 0;
}

static int sfu__dd_read_template_fdiffs(sfu__dd_bits_t *b, sfu_rtp_dd_structure_t *s) {
  sfu_rtp_dd_template_t *tpl;
  unsigned t;
  uint32_t v;
  bool follows;
  int err;

  for (t = 0; t < s->template_count; t++) {
    tpl = &s->templates[t];
    if ((err = sfu__dd_read_flag(b, &follows)) != 0) return err;
    while (follows) {
      if (tpl->fdiff_count == SFU_RTP_DD_MAX_FDIFFS) return SFU_EPROTO;
      if ((err = sfu__dd_read(b, 4, &v)) != 0) return err;
      tpl->fdiffs[tpl->fdiff_count++] = (uint8_t)(v + 1);
      if ((err = sfu__dd_read_flag(b, &follows)) != 0) return err;
    }
  }
  return 0;
}

static int sfu__dd_read_template_chains(sfu__dd_bits_t *b, sfu_rtp_dd_structure_t *s) {
  unsigned t, dt, c;
  uint32_t v;
  int err;

  if ((err = sfu__dd_read_ns(b, s->decode_target_count + 1u, &v)) != 0) return err;
  s->chain_count = (uint8_t)v;
  if (s->chain_count == 0) return 0;
  for (dt = 0; dt < s->decode_target_count; dt++) {
    if ((err = sfu__dd_read_ns(b, s->chain_count, &v)) != 0) return err;
    s->decode_target_protected_by_chain[dt] = (uint8_t)v;
  }
  for (t = 0; t < s->template_count; t++) {
    for (c = 0; c < s->chain_count; c++) {
      if ((err = sfu__dd_read(b, 4, &v)) != 0) return err;
      s->templates[t].chain_diffs[c] = (uint8_t)v;
    }
  }
  return 0;
}

/* decode_target_layers(): derived, nothing read. */
static void sfu__dd_decode_target_layers(sfu_rtp_dd_structure_t *s) {
  const sfu_rtp_dd_template_t *tpl;
  unsigned t, dt;

  for (dt = 0; dt < s->decode_target_count; dt++) {
    for (t = 0; t < s->template_count; t++) {
      tpl = &s->templates[t];
      if (tpl->dtis[dt] == SFU_RTP_DD_DTI_NOT_PRESENT) continue;
      if (tpl->spatial_id > s->decode_target_spatial_id[dt]) s->decode_target_spatial_id[dt] = tpl->spatial_id;
      if (tpl->temporal_id > s->decode_target_temporal_id[dt]) s->decode_target_temporal_id[dt] = tpl->temporal_id;
    }
  }
}

static int sfu__dd_read_resolutions(sfu__dd_bits_t *b, sfu_rtp_dd_structure_t *s) {
  unsigned sid;
  uint32_t w, h;
  int err;

  if ((err = sfu__dd_read_flag(b, &s->has_resolutions)) != 0) return err;
  if (!s->has_resolutions) return 0;
  for (sid = 0; sid <= s->max_spatial_id; sid++) {
    if ((err = sfu__dd_read(b, 16, &w)) != 0) return err;
    if ((err = sfu__dd_read(b, 16, &h)) != 0) return err;
    s->resolutions[sid].width = w + 1;
    s->resolutions[sid].height = h + 1;
  }
  return 0;
}

static int sfu__dd_read_structure(sfu__dd_bits_t *b, sfu_rtp_dd_structure_t *s) {
  uint32_t v;
  int err;

  memset(s, 0, sizeof(*s));
  if ((err = sfu__dd_read(b, 6, &v)) != 0) return err;
  s->template_id_offset = (uint8_t)v;
  if ((err = sfu__dd_read(b, 5, &v)) != 0) return err;
  s->decode_target_count = (uint8_t)(v + 1);
  if ((err = sfu__dd_read_layers(b, s)) != 0) return err;
  if ((err = sfu__dd_read_template_dtis(b, s)) != 0) return err;
  if ((err = sfu__dd_read_template_fdiffs(b, s)) != 0) return err;
  if ((err = sfu__dd_read_template_chains(b, s)) != 0) return err;
  sfu__dd_decode_target_layers(s);
  return sfu__dd_read_resolutions(b, s);
}

/* ---- frame dependency definition (A.8.2 frame_dependency_definition) ---- */

/* frame_fdiffs(), into d->fdiffs (zeroed by the caller). */
static int sfu__dd_read_frame_fdiffs(sfu__dd_bits_t *b, sfu_rtp_dd_t *d) {
  uint32_t size, v;
  int err;

  if ((err = sfu__dd_read(b, 2, &size)) != 0) return err;
  while (size != 0) {
    if (d->fdiff_count == SFU_RTP_DD_MAX_FDIFFS) return SFU_EPROTO;
    if ((err = sfu__dd_read(b, 4 * size, &v)) != 0) return err;
    d->fdiffs[d->fdiff_count++] = (uint16_t)(v + 1);
    if ((err = sfu__dd_read(b, 2, &size)) != 0) return err;
  }
  return 0;
}

/* The template's layer, and its DTIs, fdiffs and chain diffs unless the
 * packet has custom ones. */
static int sfu__dd_read_frame(sfu__dd_bits_t *b, const sfu_rtp_dd_structure_t *s, sfu_rtp_dd_t *d) {
  const sfu_rtp_dd_template_t *tpl = &s->templates[d->template_index];
  unsigned i;
  uint32_t v;
  int err;

  d->spatial_id = tpl->spatial_id;
  d->temporal_id = tpl->temporal_id;
  if (d->custom_dtis) {
    for (i = 0; i < s->decode_target_count; i++) {
      if ((err = sfu__dd_read(b, 2, &v)) != 0) return err;
      d->dtis[i] = (uint8_t)v;
    }
  } else {
    memcpy(d->dtis, tpl->dtis, s->decode_target_count);
  }
  if (d->custom_fdiffs) {
    if ((err = sfu__dd_read_frame_fdiffs(b, d)) != 0) return err;
  } else {
    d->fdiff_count = tpl->fdiff_count;
    for (i = 0; i < tpl->fdiff_count; i++) d->fdiffs[i] = tpl->fdiffs[i];
  }
  if (d->custom_chains) {
    for (i = 0; i < s->chain_count; i++) {
      if ((err = sfu__dd_read(b, 8, &v)) != 0) return err;
      d->chain_diffs[i] = (uint8_t)v;
    }
  } else {
    memcpy(d->chain_diffs, tpl->chain_diffs, s->chain_count);
  }
  if (s->has_resolutions) {
    d->has_resolution = true;
    d->resolution = s->resolutions[d->spatial_id];
  }
  return 0;
}

/* ---- descriptor ---- */

int sfu_rtp_dd_parse(const uint8_t *p, size_t len, sfu_rtp_dd_structure_t *structure, sfu_rtp_dd_t *out) {
  sfu_rtp_dd_structure_t attached; /* the packet's own, kept only if all of it parses */
  const sfu_rtp_dd_structure_t *s = structure;
  sfu__dd_bits_t b;
  uint32_t v;
  bool structure_present = false;
  int err;

  memset(out, 0, sizeof(*out));
  if (len < SFU_RTP_DD_MIN_LEN || len > SFU_RTP_DD_MAX_LEN) return SFU_EPROTO;
  /* mandatory_descriptor_fields() */
  out->start_of_frame = (p[0] & 0x80) != 0;
  out->end_of_frame = (p[0] & 0x40) != 0;
  out->template_id = p[0] & 0x3f;
  out->frame_number = sfu_rd16(p + 1);

  b.p = p;
  b.pos = 8 * SFU_RTP_DD_MIN_LEN;
  b.end = 8 * len;
  if (len > SFU_RTP_DD_MIN_LEN) {
    /* extended_descriptor_fields() */
    if ((err = sfu__dd_read_flag(&b, &structure_present)) != 0) return err;
    if ((err = sfu__dd_read_flag(&b, &out->active_decode_targets_present)) != 0) return err;
    if ((err = sfu__dd_read_flag(&b, &out->custom_dtis)) != 0) return err;
    if ((err = sfu__dd_read_flag(&b, &out->custom_fdiffs)) != 0) return err;
    if ((err = sfu__dd_read_flag(&b, &out->custom_chains)) != 0) return err;
    if (structure_present) {
      if ((err = sfu__dd_read_structure(&b, &attached)) != 0) return err;
      s = &attached;
      out->has_structure = true;
      out->active_decode_targets = sfu__dd_all_targets(attached.decode_target_count);
    }
  }
  if (s->template_count == 0) return SFU_ESTATE;
  if (out->active_decode_targets_present) {
    if ((err = sfu__dd_read(&b, s->decode_target_count, &v)) != 0) return err;
    out->active_decode_targets = v;
  }
  v = (out->template_id + SFU_RTP_DD_MAX_TEMPLATES - s->template_id_offset) % SFU_RTP_DD_MAX_TEMPLATES;
  if (v >= s->template_count) return structure_present ? SFU_EPROTO : SFU_ESTATE;
  out->template_index = (uint8_t)v;
  if ((err = sfu__dd_read_frame(&b, s, out)) != 0) return err;
  if (structure_present) memcpy(structure, &attached, sizeof(attached));
  return 0;
}
