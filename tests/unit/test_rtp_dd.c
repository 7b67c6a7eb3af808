/*
 * Unit tests for worker/src/rtp/sfu_rtp_dd: the Dependency Descriptor
 * reader. Real Chrome descriptors (libwebrtc's L1T3 and L1T2 structures),
 * descriptors built bit by bit after the AV1 RTP specification's A.8.2
 * syntax (dd_writer.h), the layer of every frame of L1T3 and L3T3 streams,
 * active decode targets, template id offset wrap, custom DTIs/fdiffs/chains,
 * the structure limits, truncation at every length (with the stream's
 * structure left alone), and a random write/read round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dd_writer.h"
#include "test_bytes.h"

#include "sfu_error.h"
#include "sfu_rtp_dd.h"

/* Chrome's first packet of an L1T3 key frame (frame 303, template 0, not the
 * last packet of the frame): libwebrtc's ScalabilityStructureL1T3. From
 * https://issues.webrtc.org/issues/42225660, as in mediasoup's
 * worker/test/src/RTC/RTP/Codecs/TestDependencyDescriptor.cpp. */
static const uint8_t CHROME_L1T3_KEY[] = {0x80, 0x01, 0x2f, 0x80, 0x02, 0x14, 0xea, 0xa8,
                                          0x60, 0x41, 0x4d, 0x14, 0x10, 0x20, 0x84, 0x26};
/* An L1T2 key frame's first packet (frame 232) with a 1280x720 render
 * resolution, and the next packet of that frame (mandatory fields only);
 * also from mediasoup's test. */
static const uint8_t CHROME_L1T2_KEY[] = {0x80, 0x00, 0xe8, 0x80, 0x01, 0x1e, 0xa8, 0x51,
                                          0x41, 0x01, 0x0c, 0x13, 0xfc, 0x0b, 0x3c};
static const uint8_t CHROME_L1T2_NEXT[] = {0x00, 0x00, 0xe8};

/* ---- structures written the way libwebrtc's ScalabilityStructure* classes declare them ---- */

/* Appends a template: DTIs as symbols ("-DSR"), fdiffs and chain diffs as
 * comma-separated numbers. The decode target and chain counts follow from
 * the strings. */
static void tpl(sfu_rtp_dd_structure_t *s, unsigned sid, unsigned tid, const char *dtis, const char *fdiffs,
                const char *chains) {
  sfu_rtp_dd_template_t *t = &s->templates[s->template_count++];
  const char *sym = "-DSR";
  char *end;
  unsigned i, n;

  t->spatial_id = (uint8_t)sid;
  t->temporal_id = (uint8_t)tid;
  for (i = 0; dtis[i]; i++) t->dtis[i] = (uint8_t)(strchr(sym, dtis[i]) - sym);
  s->decode_target_count = (uint8_t)i;
  for (n = 0; *fdiffs; n++) {
    t->fdiffs[n] = (uint8_t)strtoul(fdiffs, &end, 10);
    fdiffs = *end == ',' ? end + 1 : end;
  }
  t->fdiff_count = (uint8_t)n;
  for (n = 0; *chains; n++) {
    t->chain_diffs[n] = (uint8_t)strtoul(chains, &end, 10);
    chains = *end == ',' ? end + 1 : end;
  }
  s->chain_count = (uint8_t)n;
}

static void l1t3(sfu_rtp_dd_structure_t *s, unsigned offset) {
  memset(s, 0, sizeof(*s));
  s->template_id_offset = (uint8_t)offset;
  tpl(s, 0, 0, "SSS", "", "0");
  tpl(s, 0, 0, "SSS", "4", "4");
  tpl(s, 0, 1, "-DS", "2", "2");
  tpl(s, 0, 2, "--D", "1", "1");
  tpl(s, 0, 2, "--D", "1", "3");
}

/* Sorted by (spatial id, temporal id) as the descriptor codes them. */
static void l3t3(sfu_rtp_dd_structure_t *s, unsigned offset) {
  static const unsigned prot[9] = {0, 0, 0, 1, 1, 1, 2, 2, 2};
  unsigned i;

  memset(s, 0, sizeof(*s));
  s->template_id_offset = (uint8_t)offset;
  tpl(s, 0, 0, "SSSRRRRRR", "12", "12,11,10");
  tpl(s, 0, 0, "SSSSSSSSS", "", "0,0,0");
  tpl(s, 0, 1, "-DS-RR-RR", "6", "6,5,4");
  tpl(s, 0, 2, "--D--R--R", "3", "3,2,1");
  tpl(s, 0, 2, "--D--R--R", "3", "9,8,7");
  tpl(s, 1, 0, "---SSSRRR", "12,1", "1,1,1");
  tpl(s, 1, 0, "---SSSSSS", "1", "1,1,1");
  tpl(s, 1, 1, "----DS-RR", "6,1", "7,6,5");
  tpl(s, 1, 2, "-----D--R", "3,1", "4,3,2");
  tpl(s, 1, 2, "-----D--R", "3,1", "10,9,8");
  tpl(s, 2, 0, "------SSS", "12,1", "2,1,1");
  tpl(s, 2, 0, "------SSS", "1", "2,1,1");
  tpl(s, 2, 1, "-------DS", "6,1", "8,7,6");
  tpl(s, 2, 2, "--------D", "3,1", "5,4,3");
  tpl(s, 2, 2, "--------D", "3,1", "11,10,9");
  for (i = 0; i < 9; i++) s->decode_target_protected_by_chain[i] = (uint8_t)prot[i];
  s->has_resolutions = true;
  s->resolutions[0] = (sfu_rtp_dd_resolution_t){320, 180};
  s->resolutions[1] = (sfu_rtp_dd_resolution_t){640, 360};
  s->resolutions[2] = (sfu_rtp_dd_resolution_t){1280, 720};
}

/* What was written, as read back (the derived fields are checked where
 * they matter). */
static void assert_same_structure(const sfu_rtp_dd_structure_t *want, const sfu_rtp_dd_structure_t *got) {
  const sfu_rtp_dd_template_t *a, *b;
  unsigned i;

  assert_int_equal(got->template_id_offset, want->template_id_offset);
  assert_int_equal(got->template_count, want->template_count);
  assert_int_equal(got->decode_target_count, want->decode_target_count);
  assert_int_equal(got->chain_count, want->chain_count);
  assert_int_equal(got->has_resolutions, want->has_resolutions);
  if (want->chain_count > 0)
    assert_memory_equal(got->decode_target_protected_by_chain, want->decode_target_protected_by_chain,
                        want->decode_target_count);
  for (i = 0; i < want->template_count; i++) {
    a = &want->templates[i];
    b = &got->templates[i];
    assert_int_equal(b->spatial_id, a->spatial_id);
    assert_int_equal(b->temporal_id, a->temporal_id);
    assert_memory_equal(b->dtis, a->dtis, want->decode_target_count);
    assert_int_equal(b->fdiff_count, a->fdiff_count);
    if (a->fdiff_count) assert_memory_equal(b->fdiffs, a->fdiffs, a->fdiff_count);
    if (want->chain_count) assert_memory_equal(b->chain_diffs, a->chain_diffs, want->chain_count);
  }
  if (want->has_resolutions) {
    for (i = 0; i <= got->max_spatial_id; i++) {
      assert_int_equal(got->resolutions[i].width, want->resolutions[i].width);
      assert_int_equal(got->resolutions[i].height, want->resolutions[i].height);
    }
  }
}

/* The first packet of a key frame: structure attached, template `id`. */
static size_t key_packet(uint8_t *out, const sfu_rtp_dd_structure_t *s, unsigned id, unsigned frame) {
  dd_writer_t w;

  dd_init(&w);
  dd_put_mandatory(&w, true, false, id, frame);
  dd_put(&w, 1, 1); /* template_dependency_structure_present_flag */
  dd_put(&w, 4, 0); /* active decode targets, custom dtis/fdiffs/chains */
  dd_put_structure(&w, s);
  assert_false(w.overflow);
  memcpy(out, w.buf, dd_len(&w));
  return dd_len(&w);
}

/* A parse from a heap buffer of exactly len bytes (ASan sees any over-read). */
static int parse(const uint8_t *p, size_t len, sfu_rtp_dd_structure_t *s, sfu_rtp_dd_t *d) {
  uint8_t *copy = malloc(len ? len : 1);
  int rc;

  assert_non_null(copy);
  if (len) memcpy(copy, p, len);
  rc = sfu_rtp_dd_parse(copy, len, s, d);
  free(copy);
  return rc;
}

static void three(uint8_t *b, bool sof, bool eof, unsigned id, unsigned frame) {
  b[0] = (uint8_t)((sof ? 0x80 : 0) | (eof ? 0x40 : 0) | (id & 0x3f));
  b[1] = (uint8_t)(frame >> 8);
  b[2] = (uint8_t)frame;
}

/* ---- tests ---- */

static void test_chrome_l1t3(void **state) {
  sfu_rtp_dd_structure_t s, want;
  sfu_rtp_dd_t d;
  uint8_t b[3];
  /* the frames after the key frame: T2 (template 3), T1 (2), T2 (4), T0 (1), T2 ... */
  static const unsigned ids[] = {3, 2, 4, 1, 3, 2, 4, 1};
  static const unsigned tids[] = {2, 1, 2, 0, 2, 1, 2, 0};
  unsigned i;

  (void)state;
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse(CHROME_L1T3_KEY, sizeof(CHROME_L1T3_KEY), &s, &d), 0);
  assert_true(d.start_of_frame);
  assert_false(d.end_of_frame);
  assert_int_equal(d.template_id, 0);
  assert_int_equal(d.frame_number, 303);
  assert_true(d.has_structure);
  assert_false(d.active_decode_targets_present);
  assert_int_equal(d.active_decode_targets, 0x7); /* implicitly all three */
  assert_false(d.custom_dtis || d.custom_fdiffs || d.custom_chains);
  assert_int_equal(d.spatial_id, 0);
  assert_int_equal(d.temporal_id, 0);
  assert_int_equal(d.fdiff_count, 0);
  assert_false(d.has_resolution);

  l1t3(&want, 0);
  assert_same_structure(&want, &s);
  assert_int_equal(s.max_spatial_id, 0);
  assert_int_equal(s.max_temporal_id, 2);
  for (i = 0; i < 3; i++) {
    assert_int_equal(s.decode_target_spatial_id[i], 0);
    assert_int_equal(s.decode_target_temporal_id[i], i); /* 7.5, 15, 30 fps */
  }

  for (i = 0; i < 8; i++) {
    three(b, true, true, ids[i], 304 + i);
    assert_int_equal(parse(b, 3, &s, &d), 0);
    assert_false(d.has_structure);
    assert_false(d.active_decode_targets_present);
    assert_int_equal(d.active_decode_targets, 0);
    assert_int_equal(d.frame_number, 304 + i);
    assert_int_equal(d.template_index, ids[i]);
    assert_int_equal(d.temporal_id, tids[i]);
    assert_int_equal(d.spatial_id, 0);
    assert_int_equal(d.fdiff_count, 1);
    assert_int_equal(d.fdiffs[0], want.templates[ids[i]].fdiffs[0]);
    assert_int_equal(d.chain_diffs[0], want.templates[ids[i]].chain_diffs[0]);
    assert_memory_equal(d.dtis, want.templates[ids[i]].dtis, 3);
  }
  /* a T1 frame is discardable for 15 fps and a switch point for 30 fps */
  three(b, true, true, 2, 400);
  assert_int_equal(parse(b, 3, &s, &d), 0);
  assert_int_equal(d.dtis[0], SFU_RTP_DD_DTI_NOT_PRESENT);
  assert_int_equal(d.dtis[1], SFU_RTP_DD_DTI_DISCARDABLE);
  assert_int_equal(d.dtis[2], SFU_RTP_DD_DTI_SWITCH);
}

/* dd_writer.h, written from the spec, produces Chrome's bytes exactly. */
static void test_writer_matches_chrome(void **state) {
  sfu_rtp_dd_structure_t s;
  uint8_t buf[SFU_RTP_DD_MAX_LEN];
  size_t n;

  (void)state;
  l1t3(&s, 0);
  n = key_packet(buf, &s, 0, 303);
  assert_int_equal(n, sizeof(CHROME_L1T3_KEY));
  assert_memory_equal(buf, CHROME_L1T3_KEY, n);
}

static void test_chrome_l1t2_resolution(void **state) {
  sfu_rtp_dd_structure_t s;
  sfu_rtp_dd_t d;

  (void)state;
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse(CHROME_L1T2_KEY, sizeof(CHROME_L1T2_KEY), &s, &d), 0);
  assert_int_equal(d.frame_number, 232);
  assert_true(d.has_structure);
  assert_int_equal(d.active_decode_targets, 0x3);
  assert_int_equal(s.template_count, 3);
  assert_int_equal(s.decode_target_count, 2);
  assert_int_equal(s.chain_count, 1);
  assert_int_equal(s.max_temporal_id, 1);
  assert_true(s.has_resolutions);
  assert_int_equal(s.resolutions[0].width, 1280);
  assert_int_equal(s.resolutions[0].height, 720);
  assert_true(d.has_resolution);
  assert_int_equal(d.resolution.width, 1280);
  assert_int_equal(d.resolution.height, 720);
  assert_int_equal(s.templates[2].temporal_id, 1);
  assert_int_equal(s.templates[2].dtis[0], SFU_RTP_DD_DTI_NOT_PRESENT);
  assert_int_equal(s.templates[2].dtis[1], SFU_RTP_DD_DTI_DISCARDABLE);

  assert_int_equal(parse(CHROME_L1T2_NEXT, sizeof(CHROME_L1T2_NEXT), &s, &d), 0);
  assert_false(d.start_of_frame);
  assert_false(d.end_of_frame);
  assert_int_equal(d.frame_number, 232);
  assert_int_equal(d.temporal_id, 0);
  assert_false(d.has_structure);
  assert_true(d.has_resolution);
}

/* Mandatory fields only, against a known structure: everything from the template. */
static void test_mandatory_only(void **state) {
  sfu_rtp_dd_structure_t s, before;
  sfu_rtp_dd_t d;
  static const uint8_t b[3] = {0x43, 0xbe, 0xef}; /* end of frame, template 3, frame 0xbeef */

  (void)state;
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse(CHROME_L1T3_KEY, sizeof(CHROME_L1T3_KEY), &s, &d), 0);
  before = s;
  assert_int_equal(parse(b, 3, &s, &d), 0);
  assert_false(d.start_of_frame);
  assert_true(d.end_of_frame);
  assert_int_equal(d.template_id, 3);
  assert_int_equal(d.frame_number, 0xbeef);
  assert_false(d.has_structure || d.active_decode_targets_present);
  assert_false(d.custom_dtis || d.custom_fdiffs || d.custom_chains);
  assert_int_equal(d.temporal_id, 2);
  assert_int_equal(d.fdiff_count, 1);
  assert_int_equal(d.fdiffs[0], 1);
  assert_int_equal(d.chain_diffs[0], 1);
  assert_memory_equal(&s, &before, sizeof(s));

  /* the same with the extended flags present and all zero: same result */
  {
    static const uint8_t b4[4] = {0x43, 0xbe, 0xef, 0x00};
    sfu_rtp_dd_t d4;
    assert_int_equal(parse(b4, 4, &s, &d4), 0);
    assert_int_equal(d4.template_index, 3);
    assert_int_equal(d4.temporal_id, 2);
  }
}

/* No structure yet: SFU_ESTATE, with the mandatory fields. */
static void test_needs_structure(void **state) {
  sfu_rtp_dd_structure_t s, zero;
  sfu_rtp_dd_t d;
  uint8_t b[3];
  dd_writer_t w;

  (void)state;
  memset(&s, 0, sizeof(s));
  memset(&zero, 0, sizeof(zero));
  three(b, true, false, 5, 1234);
  assert_int_equal(parse(b, 3, &s, &d), SFU_ESTATE);
  assert_true(d.start_of_frame);
  assert_false(d.end_of_frame);
  assert_int_equal(d.template_id, 5);
  assert_int_equal(d.frame_number, 1234);
  /* extended fields, active decode targets but no structure to size them */
  dd_init(&w);
  dd_put_mandatory(&w, false, true, 1, 7);
  dd_put(&w, 5, 0x08); /* active_decode_targets_present_flag */
  dd_put(&w, 3, 0x5);
  assert_int_equal(parse(w.buf, dd_len(&w), &s, &d), SFU_ESTATE);
  assert_int_equal(d.frame_number, 7);
  assert_true(d.end_of_frame);
  assert_memory_equal(&s, &zero, sizeof(s));
  /* Chrome's second L1T2 packet before its first one */
  assert_int_equal(parse(CHROME_L1T2_NEXT, sizeof(CHROME_L1T2_NEXT), &s, &d), SFU_ESTATE);
  assert_memory_equal(&s, &zero, sizeof(s));
}

/* L3T3: spatial ids, derived decode target layers, resolutions per layer. */
static void test_l3t3(void **state) {
  sfu_rtp_dd_structure_t want, s;
  sfu_rtp_dd_t d;
  uint8_t buf[SFU_RTP_DD_MAX_LEN], b[3];
  size_t n;
  unsigned i, id;

  (void)state;
  l3t3(&want, 20);
  n = key_packet(buf, &want, 20 + 1, 1000); /* the S0 key frame: template 1 */
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse(buf, n, &s, &d), 0);
  assert_same_structure(&want, &s);
  assert_int_equal(d.template_index, 1);
  assert_int_equal(d.spatial_id, 0);
  assert_int_equal(d.active_decode_targets, 0x1ff);
  assert_true(d.has_resolution);
  assert_int_equal(d.resolution.width, 320);
  assert_int_equal(s.max_spatial_id, 2);
  assert_int_equal(s.max_temporal_id, 2);
  for (i = 0; i < 9; i++) {
    assert_int_equal(s.decode_target_spatial_id[i], i / 3);
    assert_int_equal(s.decode_target_temporal_id[i], i % 3);
    assert_int_equal(s.decode_target_protected_by_chain[i], i / 3);
  }
  /* every template, by its id */
  for (i = 0; i < 15; i++) {
    id = 20 + i;
    three(b, true, true, id, 1001 + i);
    assert_int_equal(parse(b, 3, &s, &d), 0);
    assert_int_equal(d.template_index, i);
    assert_int_equal(d.spatial_id, want.templates[i].spatial_id);
    assert_int_equal(d.temporal_id, want.templates[i].temporal_id);
    assert_int_equal(d.fdiff_count, want.templates[i].fdiff_count);
    assert_memory_equal(d.chain_diffs, want.templates[i].chain_diffs, 3);
    assert_int_equal(d.resolution.width, want.resolutions[d.spatial_id].width);
    assert_int_equal(d.resolution.height, want.resolutions[d.spatial_id].height);
  }
  /* the key frame's upper spatial layers: templates 6 and 11 */
  three(b, true, true, 20 + 6, 1001);
  assert_int_equal(parse(b, 3, &s, &d), 0);
  assert_int_equal(d.spatial_id, 1);
  assert_int_equal(d.temporal_id, 0);
  assert_int_equal(d.fdiffs[0], 1); /* the S0 frame just before */
  three(b, true, true, 20 + 11, 1002);
  assert_int_equal(parse(b, 3, &s, &d), 0);
  assert_int_equal(d.spatial_id, 2);
  assert_int_equal(d.resolution.width, 1280);
  /* an id below the offset is out of range */
  three(b, true, true, 19, 1003);
  assert_int_equal(parse(b, 3, &s, &d), SFU_ESTATE);
  three(b, true, true, 20 + 15, 1003);
  assert_int_equal(parse(b, 3, &s, &d), SFU_ESTATE);
}

static void test_active_decode_targets(void **state) {
  sfu_rtp_dd_structure_t s, one;
  sfu_rtp_dd_t d;
  dd_writer_t w;
  unsigned i;

  (void)state;
  l1t3(&one, 0);
  /* with the structure: explicit value instead of "all" */
  dd_init(&w);
  dd_put_mandatory(&w, true, false, 0, 10);
  dd_put(&w, 5, 0x18); /* structure present, active decode targets present */
  dd_put_structure(&w, &one);
  dd_put(&w, 3, 0x3); /* 7.5 and 15 fps only */
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse(w.buf, dd_len(&w), &s, &d), 0);
  assert_true(d.has_structure);
  assert_true(d.active_decode_targets_present);
  assert_int_equal(d.active_decode_targets, 0x3);
  /* on a later packet, sized by the known structure */
  dd_init(&w);
  dd_put_mandatory(&w, true, true, 1, 11);
  dd_put(&w, 5, 0x08);
  dd_put(&w, 3, 0x1);
  assert_int_equal(dd_len(&w), 4);
  assert_int_equal(parse(w.buf, 4, &s, &d), 0);
  assert_false(d.has_structure);
  assert_true(d.active_decode_targets_present);
  assert_int_equal(d.active_decode_targets, 0x1);
  assert_int_equal(d.temporal_id, 0);

  /* 32 decode targets: all 32 bits, implicitly and explicitly */
  memset(&one, 0, sizeof(one));
  tpl(&one, 0, 0, "SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS", "", "");
  assert_int_equal(one.decode_target_count, 32);
  dd_init(&w);
  dd_put_mandatory(&w, true, false, 0, 1);
  dd_put(&w, 5, 0x10);
  dd_put_structure(&w, &one);
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse(w.buf, dd_len(&w), &s, &d), 0);
  assert_int_equal(d.active_decode_targets, 0xffffffffu);
  for (i = 0; i < 32; i++) assert_int_equal(d.dtis[i], SFU_RTP_DD_DTI_SWITCH);
  dd_init(&w);
  dd_put_mandatory(&w, true, false, 0, 2);
  dd_put(&w, 5, 0x08);
  dd_put(&w, 32, 0x80000001u);
  assert_int_equal(parse(w.buf, dd_len(&w), &s, &d), 0);
  assert_int_equal(d.active_decode_targets, 0x80000001u);
  /* one bit short */
  assert_int_equal(parse(w.buf, dd_len(&w) - 1, &s, &d), SFU_EPROTO);
}

/* template index = (template_id + 64 - template_id_offset) % 64 */
static void test_template_offset_wrap(void **state) {
  sfu_rtp_dd_structure_t want, s, before;
  sfu_rtp_dd_t d;
  uint8_t buf[SFU_RTP_DD_MAX_LEN], b[3];
  size_t n;
  static const unsigned ids[5] = {62, 63, 0, 1, 2};
  unsigned i;

  (void)state;
  l1t3(&want, 62);
  n = key_packet(buf, &want, 62, 65535);
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse(buf, n, &s, &d), 0);
  assert_int_equal(s.template_id_offset, 62);
  assert_int_equal(d.frame_number, 65535);
  for (i = 0; i < 5; i++) {
    three(b, true, true, ids[i], i); /* the frame number wraps too */
    assert_int_equal(parse(b, 3, &s, &d), 0);
    assert_int_equal(d.template_index, i);
    assert_int_equal(d.temporal_id, want.templates[i].temporal_id);
  }
  three(b, true, true, 3, 9);
  assert_int_equal(parse(b, 3, &s, &d), SFU_ESTATE);
  three(b, true, true, 61, 9);
  assert_int_equal(parse(b, 3, &s, &d), SFU_ESTATE);

  /* a key packet whose own structure lacks its template: malformed, not kept */
  before = s;
  l1t3(&want, 10);
  n = key_packet(buf, &want, 15, 100);
  assert_int_equal(parse(buf, n, &s, &d), SFU_EPROTO);
  assert_memory_equal(&s, &before, sizeof(s));
  n = key_packet(buf, &want, 9, 100);
  assert_int_equal(parse(buf, n, &s, &d), SFU_EPROTO);
  assert_memory_equal(&s, &before, sizeof(s));
  n = key_packet(buf, &want, 14, 100);
  assert_int_equal(parse(buf, n, &s, &d), 0);
  assert_int_equal(s.template_id_offset, 10);
  assert_int_equal(d.template_index, 4);
}

static void test_template_out_of_range(void **state) {
  sfu_rtp_dd_structure_t s, before;
  sfu_rtp_dd_t d;
  uint8_t b[3];
  unsigned id;

  (void)state;
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse(CHROME_L1T3_KEY, sizeof(CHROME_L1T3_KEY), &s, &d), 0);
  before = s;
  for (id = 0; id < 64; id++) {
    three(b, false, false, id, 42);
    assert_int_equal(parse(b, 3, &s, &d), id < 5 ? 0 : SFU_ESTATE);
    assert_int_equal(d.frame_number, 42);
    assert_int_equal(d.template_id, id);
  }
  assert_memory_equal(&s, &before, sizeof(s));
}

/* Custom DTIs, fdiffs (1, 2 and 3 nibbles) and chain diffs override the template. */
static void test_custom_fields(void **state) {
  sfu_rtp_dd_structure_t s;
  sfu_rtp_dd_t d;
  dd_writer_t w;
  unsigned i;

  (void)state;
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse(CHROME_L1T3_KEY, sizeof(CHROME_L1T3_KEY), &s, &d), 0);

  dd_init(&w);
  dd_put_mandatory(&w, true, true, 2, 500); /* T1 template: -DS, fdiff 2, chain 2 */
  dd_put(&w, 5, 0x07);                      /* custom dtis, fdiffs, chains */
  dd_put(&w, 2, 3);                         /* dtis: R S D */
  dd_put(&w, 2, 2);
  dd_put(&w, 2, 1);
  dd_put(&w, 2, 1); /* fdiff 1: 1 nibble */
  dd_put(&w, 4, 0);
  dd_put(&w, 2, 2); /* fdiff 17: 2 nibbles */
  dd_put(&w, 8, 16);
  dd_put(&w, 2, 3); /* fdiff 300: 3 nibbles */
  dd_put(&w, 12, 299);
  dd_put(&w, 2, 3); /* fdiff 4096, the largest */
  dd_put(&w, 12, 4095);
  dd_put(&w, 2, 0); /* no more */
  dd_put(&w, 8, 200); /* chain diff */
  assert_int_equal(parse(w.buf, dd_len(&w), &s, &d), 0);
  assert_true(d.custom_dtis && d.custom_fdiffs && d.custom_chains);
  assert_int_equal(d.temporal_id, 1); /* still the template's layer */
  assert_int_equal(d.dtis[0], SFU_RTP_DD_DTI_REQUIRED);
  assert_int_equal(d.dtis[1], SFU_RTP_DD_DTI_SWITCH);
  assert_int_equal(d.dtis[2], SFU_RTP_DD_DTI_DISCARDABLE);
  assert_int_equal(d.fdiff_count, 4);
  assert_int_equal(d.fdiffs[0], 1);
  assert_int_equal(d.fdiffs[1], 17);
  assert_int_equal(d.fdiffs[2], 300);
  assert_int_equal(d.fdiffs[3], 4096);
  assert_int_equal(d.chain_diffs[0], 200);
  /* the structure's template is unchanged */
  assert_int_equal(s.templates[2].fdiff_count, 1);
  assert_int_equal(s.templates[2].fdiffs[0], 2);
  assert_int_equal(s.templates[2].chain_diffs[0], 2);

  /* each flag alone */
  dd_init(&w);
  dd_put_mandatory(&w, true, true, 1, 501);
  dd_put(&w, 5, 0x02); /* custom fdiffs: none at all (an independent frame) */
  dd_put(&w, 2, 0);
  assert_int_equal(parse(w.buf, dd_len(&w), &s, &d), 0);
  assert_true(d.custom_fdiffs && !d.custom_dtis && !d.custom_chains);
  assert_int_equal(d.fdiff_count, 0);
  assert_int_equal(d.chain_diffs[0], 4);
  dd_init(&w);
  dd_put_mandatory(&w, true, true, 1, 502);
  dd_put(&w, 5, 0x01); /* custom chains */
  dd_put(&w, 8, 0);
  assert_int_equal(parse(w.buf, dd_len(&w), &s, &d), 0);
  assert_int_equal(d.chain_diffs[0], 0);
  assert_int_equal(d.fdiffs[0], 4);
  dd_init(&w);
  dd_put_mandatory(&w, true, true, 1, 503);
  dd_put(&w, 5, 0x04); /* custom dtis */
  dd_put(&w, 6, 0);
  assert_int_equal(parse(w.buf, dd_len(&w), &s, &d), 0);
  for (i = 0; i < 3; i++) assert_int_equal(d.dtis[i], SFU_RTP_DD_DTI_NOT_PRESENT);

  /* SFU_RTP_DD_MAX_FDIFFS custom fdiffs parse, one more does not */
  for (i = SFU_RTP_DD_MAX_FDIFFS; i <= SFU_RTP_DD_MAX_FDIFFS + 1; i++) {
    unsigned k;
    dd_init(&w);
    dd_put_mandatory(&w, true, true, 1, 504);
    dd_put(&w, 5, 0x02);
    for (k = 0; k < i; k++) {
      dd_put(&w, 2, 1);
      dd_put(&w, 4, k);
    }
    dd_put(&w, 2, 0);
    assert_int_equal(parse(w.buf, dd_len(&w), &s, &d), i <= SFU_RTP_DD_MAX_FDIFFS ? 0 : SFU_EPROTO);
  }
}

/* chain_cnt = ns(DtCnt + 1): with 4 decode targets, ns(5), coded as in the
 * spec's table (00, 01, 10, 110, 111); decode_target_protected_by = ns(chain_cnt). */
static void test_ns_chain_count(void **state) {
  static const struct {
    unsigned bits, code, value;
  } ns5[] = {{2, 0x0, 0}, {2, 0x1, 1}, {2, 0x2, 2}, {3, 0x6, 3}, {3, 0x7, 4}};
  sfu_rtp_dd_structure_t s;
  sfu_rtp_dd_t d;
  dd_writer_t w, w2;
  unsigned i, dt, c;

  (void)state;
  for (i = 0; i < 5; i++) {
    /* the test writer's ns() agrees with the table */
    dd_init(&w2);
    dd_put_ns(&w2, 5, ns5[i].value);
    assert_int_equal(w2.bits, ns5[i].bits);
    assert_int_equal(w2.buf[0] >> (8 - ns5[i].bits), ns5[i].code);

    dd_init(&w);
    dd_put_mandatory(&w, true, false, 0, 1);
    dd_put(&w, 5, 0x10);
    dd_put(&w, 6, 0);       /* template_id_offset */
    dd_put(&w, 5, 3);       /* 4 decode targets */
    dd_put(&w, 2, 3);       /* one template */
    dd_put(&w, 8, 0xaa);    /* its DTIs: SSSS */
    dd_put(&w, 1, 0);       /* no fdiffs */
    dd_put(&w, ns5[i].bits, ns5[i].code);
    c = ns5[i].value;
    for (dt = 0; c > 0 && dt < 4; dt++) dd_put_ns(&w, c, (dt + 1) % c); /* protected by */
    for (dt = 0; dt < c; dt++) dd_put(&w, 4, dt + 1);                   /* chain diffs */
    dd_put(&w, 1, 0); /* no resolutions */
    memset(&s, 0, sizeof(s));
    assert_int_equal(parse(w.buf, dd_len(&w), &s, &d), 0);
    assert_int_equal(s.chain_count, c);
    for (dt = 0; dt < 4; dt++) assert_int_equal(s.decode_target_protected_by_chain[dt], c ? (dt + 1) % c : 0);
    for (dt = 0; dt < c; dt++) assert_int_equal(d.chain_diffs[dt], dt + 1);
  }
  /* chain_cnt(ns(5)) and protected_by(ns(3)) spelled in bits: 110, then
   * 0, 10, 11, 0 (values 0, 1, 2, 0; ns(3) codes 0 as 0, 1 as 10, 2 as 11) */
  dd_init(&w);
  dd_put_mandatory(&w, true, false, 0, 1);
  dd_put(&w, 5, 0x10);
  dd_put(&w, 6, 0);
  dd_put(&w, 5, 3);
  dd_put(&w, 2, 3);
  dd_put(&w, 8, 0xaa);
  dd_put(&w, 1, 0);
  dd_put(&w, 3, 0x6);
  dd_put(&w, 6, 0x16); /* 0 10 11 0 */
  dd_put(&w, 12, 0x123);
  dd_put(&w, 1, 0);
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse(w.buf, dd_len(&w), &s, &d), 0);
  assert_int_equal(s.chain_count, 3);
  assert_int_equal(s.decode_target_protected_by_chain[0], 0);
  assert_int_equal(s.decode_target_protected_by_chain[1], 1);
  assert_int_equal(s.decode_target_protected_by_chain[2], 2);
  assert_int_equal(s.decode_target_protected_by_chain[3], 0);
  assert_int_equal(d.chain_diffs[0], 1);
  assert_int_equal(d.chain_diffs[1], 2);
  assert_int_equal(d.chain_diffs[2], 3);
}

/* 64 templates, temporal id 7, spatial id 3, 16 template fdiffs: at the
 * limits; one past each: SFU_EPROTO. */
static void test_structure_limits(void **state) {
  sfu_rtp_dd_structure_t s, big;
  sfu_rtp_dd_t d;
  uint8_t buf[SFU_RTP_DD_MAX_LEN];
  dd_writer_t w;
  size_t n;
  unsigned i, k;

  (void)state;
  for (k = 64; k <= 65; k++) { /* templates: all the same layer */
    dd_init(&w);
    dd_put_mandatory(&w, true, false, 63, 1);
    dd_put(&w, 5, 0x10);
    dd_put(&w, 6, 0);
    dd_put(&w, 5, 0);
    for (i = 0; i + 1 < k; i++) dd_put(&w, 2, 0);
    dd_put(&w, 2, 3);
    for (i = 0; i < k; i++) dd_put(&w, 2, 2); /* DTI */
    for (i = 0; i < k; i++) dd_put(&w, 1, 0); /* fdiffs */
    dd_put(&w, 1, 0);                         /* ns(2): no chains */
    dd_put(&w, 1, 0);                         /* resolutions */
    memset(&s, 0, sizeof(s));
    assert_int_equal(parse(w.buf, dd_len(&w), &s, &d), k == 64 ? 0 : SFU_EPROTO);
  }
  assert_int_equal(s.template_count, 0); /* the 65-template one was not kept */

  for (k = 7; k <= 8; k++) { /* temporal ids 0..k */
    memset(&big, 0, sizeof(big));
    for (i = 0; i <= k; i++) tpl(&big, 0, i, "S", "", "");
    dd_init(&w);
    dd_put_mandatory(&w, true, false, 0, 1);
    dd_put(&w, 5, 0x10);
    dd_put_structure(&w, &big);
    memset(&s, 0, sizeof(s));
    assert_int_equal(parse(w.buf, dd_len(&w), &s, &d), k == 7 ? 0 : SFU_EPROTO);
    if (k == 7) assert_int_equal(s.max_temporal_id, 7);
  }
  for (k = 3; k <= 4; k++) { /* spatial ids 0..k */
    memset(&big, 0, sizeof(big));
    for (i = 0; i <= k; i++) tpl(&big, i, 0, "S", "", "");
    big.has_resolutions = true;
    for (i = 0; i <= k && i < SFU_RTP_DD_MAX_SPATIAL_IDS; i++)
      big.resolutions[i] = (sfu_rtp_dd_resolution_t){65536, 1u + i};
    dd_init(&w);
    dd_put_mandatory(&w, true, false, 0, 1);
    dd_put(&w, 5, 0x10);
    dd_put_structure(&w, &big);
    memset(&s, 0, sizeof(s));
    assert_int_equal(parse(w.buf, dd_len(&w), &s, &d), k == 3 ? 0 : SFU_EPROTO);
    if (k == 3) {
      assert_int_equal(s.max_spatial_id, 3);
      assert_int_equal(s.resolutions[3].width, 65536);
      assert_int_equal(s.resolutions[3].height, 4);
    }
  }
  for (k = 16; k <= 17; k++) { /* template fdiffs */
    dd_init(&w);
    dd_put_mandatory(&w, true, false, 0, 1);
    dd_put(&w, 5, 0x10);
    dd_put(&w, 6, 0);
    dd_put(&w, 5, 0);
    dd_put(&w, 2, 3);
    dd_put(&w, 2, 2);
    for (i = 0; i < k; i++) {
      dd_put(&w, 1, 1);
      dd_put(&w, 4, 15);
    }
    dd_put(&w, 1, 0);
    dd_put(&w, 1, 0);
    dd_put(&w, 1, 0);
    memset(&s, 0, sizeof(s));
    assert_int_equal(parse(w.buf, dd_len(&w), &s, &d), k == 16 ? 0 : SFU_EPROTO);
    if (k == 16) {
      assert_int_equal(d.fdiff_count, 16);
      assert_int_equal(d.fdiffs[15], 16);
    }
  }

  /* lengths: 255 bytes (padding) parse, 256 do not */
  memset(buf, 0, sizeof(buf));
  three(buf, true, true, 0, 1);
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse(CHROME_L1T3_KEY, sizeof(CHROME_L1T3_KEY), &s, &d), 0);
  assert_int_equal(parse(buf, SFU_RTP_DD_MAX_LEN, &s, &d), 0);
  {
    uint8_t over[SFU_RTP_DD_MAX_LEN + 1] = {0};
    memcpy(over, buf, 3);
    assert_int_equal(parse(over, sizeof(over), &s, &d), SFU_EPROTO);
  }
  /* trailing bytes after Chrome's key packet are padding (ignored, even non-zero) */
  memcpy(buf, CHROME_L1T3_KEY, sizeof(CHROME_L1T3_KEY));
  memset(buf + sizeof(CHROME_L1T3_KEY), 0xff, 8);
  n = sizeof(CHROME_L1T3_KEY) + 8;
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse(buf, n, &s, &d), 0);
  assert_int_equal(s.template_count, 5);
}

/* Every truncation of valid descriptors: an error (or, cut to the 3
 * mandatory bytes, a valid mandatory-only descriptor), never a read past the
 * end, and the stream's structure untouched. */
static void test_truncated_every_length(void **state) {
  sfu_rtp_dd_structure_t known, s, l3;
  sfu_rtp_dd_t d;
  uint8_t bufs[4][SFU_RTP_DD_MAX_LEN];
  size_t lens[4], n;
  bool carries[4] = {true, true, false, false};
  dd_writer_t w;
  unsigned v, k;
  int rc;

  (void)state;
  memcpy(bufs[0], CHROME_L1T3_KEY, sizeof(CHROME_L1T3_KEY));
  lens[0] = sizeof(CHROME_L1T3_KEY);
  l3t3(&l3, 7);
  lens[1] = key_packet(bufs[1], &l3, 7, 9);
  /* against L1T3: active decode targets and all custom fields */
  dd_init(&w);
  dd_put_mandatory(&w, true, true, 4, 77);
  dd_put(&w, 5, 0x0f);
  dd_put(&w, 3, 0x5);
  dd_put(&w, 6, 0x1b);
  dd_put(&w, 2, 3);
  dd_put(&w, 12, 1000);
  dd_put(&w, 2, 1);
  dd_put(&w, 4, 2);
  dd_put(&w, 2, 0);
  dd_put(&w, 8, 9);
  lens[2] = dd_len(&w);
  memcpy(bufs[2], w.buf, lens[2]);
  dd_init(&w);
  dd_put_mandatory(&w, false, true, 2, 78);
  dd_put(&w, 5, 0x08);
  dd_put(&w, 3, 0x7);
  lens[3] = dd_len(&w);
  memcpy(bufs[3], w.buf, lens[3]);

  memset(&known, 0, sizeof(known));
  assert_int_equal(parse(CHROME_L1T3_KEY, sizeof(CHROME_L1T3_KEY), &known, &d), 0);
  for (v = 0; v < 4; v++) {
    s = known;
    assert_int_equal(parse(bufs[v], lens[v], &s, &d), 0); /* whole: fine */
    for (k = 0; k < 2; k++) {                              /* k = 0: no structure yet; 1: L1T3 known */
      for (n = 0; n < lens[v]; n++) {
        if (k == 0) memset(&s, 0, sizeof(s));
        else s = known;
        rc = parse(bufs[v], n, &s, &d);
        if (n < 3) assert_int_equal(rc, SFU_EPROTO);
        else if (n == 3 && k == 1) assert_true(rc == 0 || rc == SFU_ESTATE);
        else if (k == 0 && (n == 3 || !carries[v])) assert_int_equal(rc, SFU_ESTATE);
        else assert_int_equal(rc, SFU_EPROTO);
        if (k == 0) assert_int_equal(s.template_count, 0);
        else assert_memory_equal(&s, &known, sizeof(s));
      }
    }
  }
}

/* A new structure, truncated, leaves the previous one in place; whole, it replaces it. */
static void test_truncated_structure_keeps_previous(void **state) {
  sfu_rtp_dd_structure_t s, before, l3;
  sfu_rtp_dd_t d;
  uint8_t buf[SFU_RTP_DD_MAX_LEN], b[3];
  size_t n, len;

  (void)state;
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse(CHROME_L1T3_KEY, sizeof(CHROME_L1T3_KEY), &s, &d), 0);
  before = s;
  l3t3(&l3, 5); /* ids 5..19 overlap L1T3's 0..4 at none */
  len = key_packet(buf, &l3, 6, 2000);
  for (n = 4; n < len; n++) {
    assert_int_equal(parse(buf, n, &s, &d), SFU_EPROTO);
    assert_memory_equal(&s, &before, sizeof(s));
    /* the old structure still resolves the old stream's packets */
    three(b, true, true, 3, 2001);
    assert_int_equal(parse(b, 3, &s, &d), 0);
    assert_int_equal(d.temporal_id, 2);
    three(b, true, true, 5 + 14, 2001);
    assert_int_equal(parse(b, 3, &s, &d), SFU_ESTATE);
  }
  assert_int_equal(parse(buf, len, &s, &d), 0);
  assert_same_structure(&l3, &s);
  three(b, true, true, 5 + 14, 2001);
  assert_int_equal(parse(b, 3, &s, &d), 0);
  assert_int_equal(d.spatial_id, 2);
  assert_int_equal(d.temporal_id, 2);
  three(b, true, true, 3, 2002);
  assert_int_equal(parse(b, 3, &s, &d), SFU_ESTATE);
}

/* Random structures and descriptors: written, read back the same. */
static void test_random_round_trip(void **state) {
  sfu_rtp_dd_structure_t want, s;
  sfu_rtp_dd_t d, got;
  dd_writer_t w;
  uint64_t seed = 0x5eed0dd;
  unsigned iter, i, j, sid, tid, written = 0, nt;
  size_t len;

  (void)state;
  for (iter = 0; iter < 3000; iter++) {
    memset(&want, 0, sizeof(want));
    want.template_id_offset = (uint8_t)(rng(&seed) % 64);
    want.decode_target_count = (uint8_t)(1 + rng(&seed) % (rng(&seed) % 4 == 0 ? 32 : 6));
    nt = 1 + (unsigned)(rng(&seed) % (rng(&seed) % 4 == 0 ? 64 : 8));
    sid = tid = 0;
    for (i = 0; i < nt; i++) {
      want.templates[i].spatial_id = (uint8_t)sid;
      want.templates[i].temporal_id = (uint8_t)tid;
      switch (rng(&seed) % 3) {
      case 1:
        if (tid < 7) tid++;
        break;
      case 2:
        if (sid < 3) {
          sid++;
          tid = 0;
        }
        break;
      default: break;
      }
    }
    want.template_count = (uint8_t)nt;
    want.chain_count = (uint8_t)(rng(&seed) % (want.decode_target_count + 1u));
    for (j = 0; j < want.decode_target_count && want.chain_count; j++)
      want.decode_target_protected_by_chain[j] = (uint8_t)(rng(&seed) % want.chain_count);
    for (i = 0; i < nt; i++) {
      sfu_rtp_dd_template_t *t = &want.templates[i];
      for (j = 0; j < want.decode_target_count; j++) t->dtis[j] = (uint8_t)(rng(&seed) % 4);
      t->fdiff_count = (uint8_t)(rng(&seed) % 4);
      for (j = 0; j < t->fdiff_count; j++) t->fdiffs[j] = (uint8_t)(1 + rng(&seed) % 16);
      for (j = 0; j < want.chain_count; j++) t->chain_diffs[j] = (uint8_t)(rng(&seed) % 16);
    }
    want.has_resolutions = rng(&seed) % 2;
    for (i = 0; i <= want.templates[nt - 1].spatial_id; i++)
      want.resolutions[i] = (sfu_rtp_dd_resolution_t){1 + (uint32_t)(rng(&seed) % 65536), 1 + (uint32_t)(rng(&seed) % 65536)};

    memset(&d, 0, sizeof(d));
    d.start_of_frame = rng(&seed) % 2;
    d.end_of_frame = rng(&seed) % 2;
    d.frame_number = (uint16_t)rng(&seed);
    d.template_index = (uint8_t)(rng(&seed) % nt);
    d.template_id = (uint8_t)((want.template_id_offset + d.template_index) % 64);
    d.has_structure = true;
    d.active_decode_targets_present = rng(&seed) % 2;
    if (d.active_decode_targets_present)
      d.active_decode_targets = (uint32_t)rng(&seed) & (want.decode_target_count == 32 ? 0xffffffffu : (1u << want.decode_target_count) - 1);
    d.custom_dtis = rng(&seed) % 2;
    d.custom_fdiffs = rng(&seed) % 2;
    d.custom_chains = rng(&seed) % 2;
    for (j = 0; j < want.decode_target_count; j++) d.dtis[j] = (uint8_t)(rng(&seed) % 4);
    d.fdiff_count = (uint8_t)(rng(&seed) % (SFU_RTP_DD_MAX_FDIFFS + 1));
    for (j = 0; j < d.fdiff_count; j++) d.fdiffs[j] = (uint16_t)(1 + rng(&seed) % 4096);
    for (j = 0; j < want.chain_count; j++) d.chain_diffs[j] = (uint8_t)rng(&seed);

    dd_init(&w);
    len = dd_put_descriptor(&w, &want, &d, false);
    if (w.overflow) continue; /* more than 255 bytes */
    written++;
    memset(&s, 0, sizeof(s));
    assert_int_equal(parse(w.buf, len, &s, &got), 0);
    assert_same_structure(&want, &s);
    assert_true(got.has_structure);
    assert_int_equal(got.start_of_frame, d.start_of_frame);
    assert_int_equal(got.end_of_frame, d.end_of_frame);
    assert_int_equal(got.frame_number, d.frame_number);
    assert_int_equal(got.template_id, d.template_id);
    assert_int_equal(got.template_index, d.template_index);
    assert_int_equal(got.spatial_id, want.templates[d.template_index].spatial_id);
    assert_int_equal(got.temporal_id, want.templates[d.template_index].temporal_id);
    assert_int_equal(got.active_decode_targets_present, d.active_decode_targets_present);
    if (d.active_decode_targets_present) assert_int_equal(got.active_decode_targets, d.active_decode_targets);
    else assert_int_equal(got.active_decode_targets, want.decode_target_count == 32 ? 0xffffffffu : (1u << want.decode_target_count) - 1);
    assert_memory_equal(got.dtis, d.custom_dtis ? d.dtis : want.templates[d.template_index].dtis, want.decode_target_count);
    if (d.custom_fdiffs) {
      assert_int_equal(got.fdiff_count, d.fdiff_count);
      for (j = 0; j < d.fdiff_count; j++) assert_int_equal(got.fdiffs[j], d.fdiffs[j]);
    } else {
      assert_int_equal(got.fdiff_count, want.templates[d.template_index].fdiff_count);
      for (j = 0; j < got.fdiff_count; j++) assert_int_equal(got.fdiffs[j], want.templates[d.template_index].fdiffs[j]);
    }
    if (want.chain_count)
      assert_memory_equal(got.chain_diffs, d.custom_chains ? d.chain_diffs : want.templates[d.template_index].chain_diffs,
                          want.chain_count);
    assert_int_equal(got.has_resolution, want.has_resolutions);

    /* the same frame again as a packet without the structure */
    d.has_structure = false;
    dd_init(&w);
    len = dd_put_descriptor(&w, &want, &d, rng(&seed) % 2);
    assert_false(w.overflow);
    assert_int_equal(parse(w.buf, len, &s, &got), 0);
    assert_false(got.has_structure);
    assert_int_equal(got.template_index, d.template_index);
    assert_int_equal(got.temporal_id, want.templates[d.template_index].temporal_id);
  }
  assert_true(written > 2000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chrome_l1t3),
      cmocka_unit_test(test_writer_matches_chrome),
      cmocka_unit_test(test_chrome_l1t2_resolution),
      cmocka_unit_test(test_mandatory_only),
      cmocka_unit_test(test_needs_structure),
      cmocka_unit_test(test_l3t3),
      cmocka_unit_test(test_active_decode_targets),
      cmocka_unit_test(test_template_offset_wrap),
      cmocka_unit_test(test_template_out_of_range),
      cmocka_unit_test(test_custom_fields),
      cmocka_unit_test(test_ns_chain_count),
      cmocka_unit_test(test_structure_limits),
      cmocka_unit_test(test_truncated_every_length),
      cmocka_unit_test(test_truncated_structure_keeps_previous),
      cmocka_unit_test(test_random_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
