/*
 * libFuzzer target for worker/src/rtp/sfu_rtp_packet and sfu_rtx.
 *
 * Input layout:
 *   [0]     seed for the extension id map and the values written
 *   [1]     spare capacity after the packet (x 4 bytes; 0..1020)
 *   [2 ..]  the RTP packet
 *
 * Each packet is parsed in a heap buffer of exactly len + spare bytes (so
 * ASan sees any write past the capacity). When it parses, the invariants of
 * the view are checked, every accessor and payload helper runs, and copies
 * go through map_extensions, set_extension_value, remove_extension and an
 * RTX encode/decode round trip; each rewrite must leave a packet that parses
 * back to the same view and keeps the payload and padding bytes. The VP8
 * and VP9 layer filter (sfu_vpx_layers) runs over the packet twice, as two
 * frames of one stream, and its rewrite of picture id / TL0PICIDX / marker
 * on a copy must leave the length, the sequence number and everything past the
 * descriptor alone.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"
#include "sfu_rtcp.h"
#include "sfu_rtp_packet.h"
#include "sfu_rtx.h"
#include "sfu_vpx_layers.h"

#define CHECK(x)          \
  do {                    \
    if (!(x)) __builtin_trap(); \
  } while (0)

static void check_view(const sfu_rtp_packet_t *p) {
  size_t i, start, end;

  CHECK(p->len <= p->cap && p->len <= SFU_RTP_MAX_LEN);
  CHECK(p->header_len + p->payload_len + p->padding_len == p->len);
  CHECK(p->header_len >= SFU_RTP_HEADER_LEN + 4u * p->csrc_count);
  CHECK(((p->buf[0] & 0x20) != 0) == (p->padding_len != 0));
  CHECK(((p->buf[0] & 0x10) != 0) == (p->ext_off != 0));
  CHECK((p->buf[0] >> 6) == 2);
  CHECK(p->payload_type == (p->buf[1] & 0x7f));
  CHECK(p->marker == ((p->buf[1] & 0x80) != 0));
  CHECK(p->seq == (uint16_t)((p->buf[2] << 8) | p->buf[3]));
  if (p->padding_len) CHECK(p->buf[p->len - 1] == p->padding_len);
  if (p->ext_off == 0) {
    CHECK(p->ext_count == 0 && p->ext_form == SFU_RTP_EXT_NONE);
    CHECK(p->header_len == SFU_RTP_HEADER_LEN + 4u * p->csrc_count);
    return;
  }
  CHECK(p->ext_off == SFU_RTP_HEADER_LEN + 4u * p->csrc_count);
  CHECK(p->header_len == p->ext_off + 4 + p->ext_len);
  CHECK(p->ext_len % 4 == 0);
  CHECK(p->ext_count <= SFU_RTP_MAX_EXTENSIONS);
  start = p->ext_off + 4;
  end = start + p->ext_len;
  for (i = 0; i < p->ext_count; i++) {
    CHECK(p->exts[i].id != 0);
    CHECK(p->exts[i].off >= start && (size_t)p->exts[i].off + p->exts[i].len <= end);
    if (p->ext_form == SFU_RTP_EXT_ONE_BYTE) CHECK(p->exts[i].id <= 14 && p->exts[i].len >= 1 && p->exts[i].len <= 16);
  }
}

static void check_reparse(const sfu_rtp_packet_t *p) {
  sfu_rtp_packet_t q;
  size_t i;

  check_view(p);
  CHECK(sfu_rtp_parse(&q, p->buf, p->len, p->cap) == 0);
  CHECK(q.header_len == p->header_len && q.payload_len == p->payload_len && q.padding_len == p->padding_len);
  CHECK(q.ext_count == p->ext_count && q.ext_form == p->ext_form);
  CHECK(q.seq == p->seq && q.ssrc == p->ssrc && q.timestamp == p->timestamp);
  for (i = 0; i < q.ext_count; i++)
    CHECK(q.exts[i].id == p->exts[i].id && q.exts[i].len == p->exts[i].len && q.exts[i].off == p->exts[i].off);
}

static void run_accessors(const sfu_rtp_packet_t *p) {
  unsigned id;
  size_t n;
  const uint8_t *v;
  const char *s;
  uint8_t level;
  bool b1, b2;
  uint16_t u16;
  uint32_t u32;
  sfu_rtp_vp8_desc_t d8;
  sfu_rtp_vp9_desc_t d9;
  int c;

  for (id = 0; id < 256; id++) {
    v = sfu_rtp_get_extension(p, (uint8_t)id, &n);
    if (v != NULL) CHECK(v >= p->buf + p->ext_off && v + n <= p->buf + p->header_len);
    if (sfu_rtp_read_string(p, (uint8_t)id, &s, &n)) CHECK(n >= 1 && s[n - 1] != 0);
    (void)sfu_rtp_read_audio_level(p, (uint8_t)id, &level, &b1);
    (void)sfu_rtp_read_abs_send_time(p, (uint8_t)id, &u32);
    (void)sfu_rtp_read_twcc_seq(p, (uint8_t)id, &u16);
    (void)sfu_rtp_read_video_orientation(p, (uint8_t)id, &b1, &b2, &u16);
  }
  for (c = SFU_CODEC_OPUS; c <= SFU_CODEC_OTHER; c++) (void)sfu_rtp_is_keyframe(p, (sfu_codec_t)c);
  if (sfu_rtp_vp8_parse(sfu_rtp_payload(p), p->payload_len, &d8) == 0) CHECK(d8.len <= p->payload_len);
  if (sfu_rtp_vp9_parse(sfu_rtp_payload(p), p->payload_len, &d9) == 0) CHECK(d9.len <= p->payload_len);
  for (n = 0; n < p->csrc_count; n++) (void)sfu_rtp_csrc(p, n);
}

static void run_vpx(const sfu_rtp_packet_t *p, uint8_t *buf2, size_t cap, uint8_t seed) {
  static const sfu_codec_t codecs[2] = {SFU_CODEC_VP8, SFU_CODEC_VP9};
  for (int k = 0; k < 2; k++) {
    sfu_vpx_layers_t l;
    sfu_vpx_info_t info;
    sfu_rtp_packet_t q;
    uint8_t sid, tid;
    if (sfu_vpx_packet_layers(p, codecs[k], &sid, &tid)) CHECK(tid < 8 && sid < 8);
    sfu_vpx_layers_init(&l, codecs[k]);
    l.target_temporal = (int16_t)(seed % 4) - 1;
    l.target_spatial = (int16_t)((seed >> 2) % 4) - 1;
    for (int round = 0; round < 2; round++) {
      if (!sfu_vpx_layers_filter(&l, p, &info)) continue;
      CHECK(sfu_rtp_copy(&q, buf2, cap, p) == 0);
      sfu_vpx_layers_rewrite(&l, &info, &q);
      check_reparse(&q);
      CHECK(q.len == p->len && q.seq == p->seq && q.payload_type == p->payload_type);
      if (info.parsed) {
        size_t end = (info.has_tl0 ? info.tl0_off + 1 : 0);
        if (info.has_pid && info.pid_off + (info.pid_15bit ? 2u : 1u) > end) end = info.pid_off + (info.pid_15bit ? 2u : 1u);
        CHECK(end <= p->payload_len);
        CHECK(memcmp(sfu_rtp_payload(&q) + end, sfu_rtp_payload(p) + end, p->len - p->header_len - end) == 0);
      }
      if (round == 0) sfu_vpx_layers_resync(&l);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sfu_rtp_packet_t p, q;
  uint8_t *buf = NULL, *buf2 = NULL, *tail = NULL, map[256], val[32];
  size_t len, spare, cap, tail_len, i, n;
  uint8_t seed;
  uint16_t seq;
  int rc;

  if (size < 2) return 0;
  seed = data[0];
  spare = 4u * data[1];
  len = size - 2;
  if (len > SFU_RTP_MAX_LEN) return 0;
  cap = len + spare;
  if ((buf = malloc(cap ? cap : 1)) == NULL || (buf2 = malloc(cap ? cap : 1)) == NULL) goto cleanup;
  memcpy(buf, data + 2, len);

  (void)sfu_rtp_is_rtp(buf, len);
  (void)sfu_rtcp_is_rtcp(buf, len);
  rc = sfu_rtp_parse(&p, buf, len, cap);
  if (rc != 0) {
    CHECK(rc == SFU_EPROTO);
    goto cleanup;
  }
  CHECK(len >= SFU_RTP_HEADER_LEN);
  check_view(&p);
  run_accessors(&p);
  run_vpx(&p, buf2, cap, seed);

  /* payload + padding, to compare after rewrites */
  tail_len = p.len - p.header_len;
  if ((tail = malloc(tail_len ? tail_len : 1)) == NULL) goto cleanup;
  memcpy(tail, buf + p.header_len, tail_len);

  /* map_extensions on a copy */
  for (i = 0; i < 256; i++) {
    uint8_t h = (uint8_t)(i * 37u + seed * 11u);
    map[i] = (h % 5 == 0) ? 0 : (uint8_t)(seed & 1 ? (h % 14) + 1 : h);
  }
  CHECK(sfu_rtp_copy(&q, buf2, cap, &p) == 0);
  rc = sfu_rtp_map_extensions(&q, map);
  if (rc == 0) {
    check_reparse(&q);
    CHECK(q.len - q.header_len == tail_len && memcmp(buf2 + q.header_len, tail, tail_len) == 0);
    for (i = 0; i < q.ext_count; i++) {
      /* every new element came from an old one with the same value */
      bool found = false;
      size_t j;
      for (j = 0; j < p.ext_count && !found; j++)
        found = map[p.exts[j].id] == q.exts[i].id && p.exts[j].len == q.exts[i].len &&
                memcmp(buf + p.exts[j].off, buf2 + q.exts[i].off, q.exts[i].len) == 0;
      CHECK(found);
    }
    run_accessors(&q);
  } else {
    CHECK(rc == SFU_ETOOBIG);
    CHECK(memcmp(buf2, buf, len) == 0 && q.len == len);
  }

  /* set_extension_value / remove_extension on a copy */
  CHECK(sfu_rtp_copy(&q, buf2, cap, &p) == 0);
  n = (size_t)(seed % 20);
  for (i = 0; i < n; i++) val[i] = (uint8_t)(seed + i);
  rc = sfu_rtp_set_extension_value(&q, (uint8_t)(seed | 1), val, n);
  if (rc == 0) {
    size_t l;
    const uint8_t *v = sfu_rtp_get_extension(&q, (uint8_t)(seed | 1), &l);
    check_reparse(&q);
    CHECK(v != NULL && l == n && (n == 0 || memcmp(v, val, n) == 0));
    CHECK(q.len - q.header_len == tail_len && memcmp(buf2 + q.header_len, tail, tail_len) == 0);
    CHECK(sfu_rtp_remove_extension(&q, (uint8_t)(seed | 1)) == 0); /* never grows */
    check_reparse(&q);
    CHECK(sfu_rtp_get_extension(&q, (uint8_t)(seed | 1), NULL) == NULL);
  } else {
    CHECK(rc == SFU_ETOOBIG || rc == SFU_ERANGE);
  }
  if (p.ext_count > 0) {
    CHECK(sfu_rtp_copy(&q, buf2, cap, &p) == 0);
    CHECK(sfu_rtp_remove_extension(&q, p.exts[seed % p.ext_count].id) == 0);
    check_reparse(&q);
    CHECK(q.len <= p.len);
  }

  /* setters */
  CHECK(sfu_rtp_copy(&q, buf2, cap, &p) == 0);
  sfu_rtp_set_marker(&q, seed & 1);
  sfu_rtp_set_payload_type(&q, seed);
  sfu_rtp_set_sequence_number(&q, (uint16_t)(seed * 257u));
  sfu_rtp_set_timestamp(&q, seed * 0x01010101u);
  sfu_rtp_set_ssrc(&q, ~(uint32_t)seed);
  check_reparse(&q);

  /* RTX round trip on a copy */
  CHECK(sfu_rtp_copy(&q, buf2, cap, &p) == 0);
  seq = p.seq;
  rc = sfu_rtx_encode(&q, 97, 0xabcdef01u, (uint16_t)(seq + 1000));
  if (rc == 0) {
    check_reparse(&q);
    CHECK(q.padding_len == 0 && q.payload_len == p.payload_len + 2);
    rc = sfu_rtx_decode(&q, p.payload_type, p.ssrc);
    CHECK(rc == 0);
    check_reparse(&q);
    CHECK(q.seq == seq && q.payload_len == p.payload_len);
    CHECK(memcmp(sfu_rtp_payload(&q), tail, p.payload_len) == 0);
  } else {
    CHECK(rc == SFU_ETOOBIG);
  }
  /* decoding the original as if it were RTX */
  CHECK(sfu_rtp_copy(&q, buf2, cap, &p) == 0);
  rc = sfu_rtx_decode(&q, 96, 1);
  if (rc == 0) {
    check_reparse(&q);
    CHECK(q.payload_len + 2 == p.payload_len);
  } else {
    CHECK((rc == SFU_RTX_PADDING_ONLY && p.payload_len == 0) || (rc == SFU_EPROTO && p.payload_len == 1));
  }

cleanup:
  free(buf);
  free(buf2);
  free(tail);
  return 0;
}
