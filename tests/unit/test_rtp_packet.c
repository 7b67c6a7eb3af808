/*
 * Unit tests for worker/src/rtp/sfu_rtp_packet (RTP view, header extensions,
 * key frames) and sfu_rtx (RFC 4588).
 *
 * Fixtures are hex dumps of packets laid out the way Chrome sends them
 * (extension ids as Chrome's default SDP negotiates them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_bytes.h"

#include "sfu_error.h"
#include "sfu_rtcp.h"
#include "sfu_rtp_packet.h"
#include "sfu_rtx.h"

#define BUF_CAP 1600


/* Opus, PT 111, one-byte extensions: 1 ssrc-audio-level (voice, 42 dBov),
 * 2 abs-send-time 0x123456, 3 transport-wide-cc 5, 4 mid "0", one pad byte. */
static const char *OPUS =
    "906f1a2b 0001e240 12345678"
    "bede0003 10aa2212 34563100 05403000"
    "7889fc01 02030405";
/* VP8 key frame start: descriptor X S PID0, I L T, 15-bit picture id 1, TL0PICIDX 0,
 * TID 0 Y; payload header with P = 0 and the 9d 01 2a start code. */
static const char *VP8_KEY =
    "80600001 00000001 0000abcd"
    "90e08001 0020"
    "1002009d 012a8002 e001 0102030405";
/* VP8 delta frame start (P = 1). */
static const char *VP8_DELTA =
    "80600002 00000bb8 0000abcd"
    "90e08002 0020"
    "31020001 02030405";
/* VP8 key frame continuation (S = 0): not a key frame start. */
static const char *VP8_CONT =
    "80e00003 00000001 0000abcd"
    "80e08001 0020"
    "aabbccdd";
/* H264 STAP-A with SPS, PPS and an IDR slice. */
static const char *H264_STAPA =
    "80660100 00015f90 00c0ffee"
    "78"
    "000a 6742c01f da01e008 9b40"
    "0004 68ce3c80"
    "0005 65888400 33";
/* H264 FU-A start of an IDR slice, middle fragment, non-IDR single NAL. */
static const char *H264_FUA_START = "80660101 0001d4c0 00c0ffee 7c85 b8000003 0000";
static const char *H264_FUA_MID = "80660102 0001d4c0 00c0ffee 7c05 01020304";
static const char *H264_NONIDR = "80e60103 0001d4c0 00c0ffee 419a2401 0203";
/* VP9 key frame: I L B V, picture id 5 (15 bit), layer TID0 SID0, TL0PICIDX 0,
 * SS with one 640x480 layer and one picture group. */
static const char *VP9_KEY =
    "80620010 00000010 00010001"
    "aa8005 0000 18 028001e0 01 04 01"
    "82498342 00";
/* VP9 inter frame (P). */
static const char *VP9_DELTA = "80620011 00000020 00010001 ec8006 0001 86000102";
/* VP9 spatial layer 1 of a key picture (not where decoding starts). */
static const char *VP9_SID1 = "80620012 00000010 00010001 a88005 0300 82498342";
/* Two-byte extensions (0x1000): id 1 len 0, id 20 "abc", a pad byte, id 5 aa bb. */
static const char *TWO_BYTE =
    "90600001 00000001 00000002"
    "10000003 01001403 61626300 0502aabb"
    "deadbeef";
/* Padding: 3 payload bytes, 4 padding bytes, two CSRCs. */
static const char *PADDED =
    "a2600005 00000005 00000007 00000011 00000022"
    "010203 00000004";

typedef struct fix {
  uint8_t buf[BUF_CAP];
  size_t len;
  sfu_rtp_packet_t pkt;
} fix_t;

static void load(fix_t *f, const char *hx) {
  memset(f->buf, 0xee, sizeof(f->buf));
  f->len = hex(hx, f->buf);
  assert_int_equal(sfu_rtp_parse(&f->pkt, f->buf, f->len, sizeof(f->buf)), 0);
}

/* Invariants of a successfully parsed packet. */
static void check_consistent(const sfu_rtp_packet_t *p) {
  size_t i, ext_start, ext_end;

  assert_true(p->header_len >= SFU_RTP_HEADER_LEN + 4u * p->csrc_count);
  assert_int_equal(p->header_len + p->payload_len + p->padding_len, p->len);
  assert_true(p->len <= p->cap);
  assert_int_equal((p->buf[0] & 0x20) != 0, p->padding_len != 0);
  assert_int_equal((p->buf[0] & 0x10) != 0, p->ext_off != 0);
  if (p->ext_off == 0) {
    assert_int_equal(p->ext_count, 0);
    assert_int_equal(p->ext_form, SFU_RTP_EXT_NONE);
    assert_int_equal(p->header_len, SFU_RTP_HEADER_LEN + 4u * p->csrc_count);
    return;
  }
  assert_int_equal(p->ext_off, SFU_RTP_HEADER_LEN + 4u * p->csrc_count);
  assert_int_equal(p->ext_len % 4, 0);
  assert_int_equal(p->header_len, p->ext_off + 4 + p->ext_len);
  ext_start = p->ext_off + 4;
  ext_end = ext_start + p->ext_len;
  assert_true(p->ext_count <= SFU_RTP_MAX_EXTENSIONS);
  for (i = 0; i < p->ext_count; i++) {
    assert_true(p->exts[i].id != 0);
    assert_true(p->exts[i].off >= ext_start);
    assert_true((size_t)p->exts[i].off + p->exts[i].len <= ext_end);
    if (p->ext_form == SFU_RTP_EXT_ONE_BYTE) {
      assert_true(p->exts[i].id <= 14);
      assert_true(p->exts[i].len >= 1 && p->exts[i].len <= 16);
    }
  }
}

/* ---- demultiplexing ---- */

static void test_demux(void **state) {
  uint8_t b[12] = {0x80, 0x60};

  (void)state;
  assert_true(sfu_rtp_is_rtp(b, 12));
  assert_false(sfu_rtcp_is_rtcp(b, 12));
  assert_false(sfu_rtp_is_rtp(b, 11));
  b[1] = 0xc8; /* SR */
  assert_false(sfu_rtp_is_rtp(b, 12));
  assert_true(sfu_rtcp_is_rtcp(b, 4));
  assert_false(sfu_rtcp_is_rtcp(b, 3));
  b[1] = 0xdf; /* 223 */
  assert_true(sfu_rtcp_is_rtcp(b, 4));
  b[1] = 0xe0; /* RTP PT 96 with marker */
  assert_true(sfu_rtp_is_rtp(b, 12));
  assert_false(sfu_rtcp_is_rtcp(b, 12));
  b[1] = 0xbf; /* RTP PT 63 with marker */
  assert_true(sfu_rtp_is_rtp(b, 12));
  b[0] = 0x7f; /* below 128: STUN/DTLS range */
  assert_false(sfu_rtp_is_rtp(b, 12));
  assert_false(sfu_rtcp_is_rtcp(b, 12));
  b[0] = 0xc0; /* 192: not RTP/RTCP */
  assert_false(sfu_rtp_is_rtp(b, 12));
}

/* ---- parsing ---- */

static void test_parse_opus(void **state) {
  fix_t f;
  uint8_t level;
  bool voice;
  uint32_t ast;
  uint16_t tw;
  const char *s;
  size_t n;
  const uint8_t *v;

  (void)state;
  load(&f, OPUS);
  check_consistent(&f.pkt);
  assert_int_equal(f.pkt.payload_type, 111);
  assert_false(f.pkt.marker);
  assert_int_equal(f.pkt.seq, 0x1a2b);
  assert_int_equal(f.pkt.timestamp, 123456);
  assert_int_equal(f.pkt.ssrc, 0x12345678);
  assert_int_equal(f.pkt.csrc_count, 0);
  assert_int_equal(f.pkt.ext_form, SFU_RTP_EXT_ONE_BYTE);
  assert_int_equal(f.pkt.ext_profile, 0xbede);
  assert_int_equal(f.pkt.ext_count, 4);
  assert_int_equal(f.pkt.header_len, 28);
  assert_int_equal(f.pkt.payload_len, 8);
  assert_int_equal(f.pkt.padding_len, 0);
  assert_int_equal(sfu_rtp_payload(&f.pkt)[0], 0x78);

  assert_true(sfu_rtp_read_audio_level(&f.pkt, 1, &level, &voice));
  assert_int_equal(level, 42);
  assert_true(voice);
  assert_true(sfu_rtp_read_abs_send_time(&f.pkt, 2, &ast));
  assert_int_equal(ast, 0x123456);
  assert_true(sfu_rtp_read_twcc_seq(&f.pkt, 3, &tw));
  assert_int_equal(tw, 5);
  assert_true(sfu_rtp_read_string(&f.pkt, 4, &s, &n));
  assert_int_equal(n, 1);
  assert_memory_equal(s, "0", 1);
  /* wrong ids / wrong lengths */
  assert_false(sfu_rtp_read_abs_send_time(&f.pkt, 3, &ast));
  assert_false(sfu_rtp_read_twcc_seq(&f.pkt, 2, &tw));
  assert_false(sfu_rtp_read_audio_level(&f.pkt, 9, &level, &voice));
  assert_null(sfu_rtp_get_extension(&f.pkt, 0, &n));
  assert_null(sfu_rtp_get_extension(&f.pkt, 14, &n));
  v = sfu_rtp_get_extension(&f.pkt, 2, &n);
  assert_non_null(v);
  assert_int_equal(n, 3);
  assert_int_equal(v - f.buf, 19);

  /* writers in place */
  assert_true(sfu_rtp_write_abs_send_time(&f.pkt, 2, 0xabcdef));
  assert_true(sfu_rtp_write_twcc_seq(&f.pkt, 3, 0xfffe));
  assert_false(sfu_rtp_write_abs_send_time(&f.pkt, 3, 1));
  assert_false(sfu_rtp_write_twcc_seq(&f.pkt, 1, 1));
  assert_int_equal(f.buf[19], 0xab);
  assert_int_equal(f.buf[21], 0xef);
  assert_int_equal(f.buf[23], 0xff);
  assert_int_equal(f.buf[24], 0xfe);
  assert_true(sfu_rtp_read_twcc_seq(&f.pkt, 3, &tw));
  assert_int_equal(tw, 0xfffe);
}

static void test_parse_two_byte(void **state) {
  fix_t f;
  size_t n;
  const uint8_t *v;

  (void)state;
  load(&f, TWO_BYTE);
  check_consistent(&f.pkt);
  assert_int_equal(f.pkt.ext_form, SFU_RTP_EXT_TWO_BYTE);
  assert_int_equal(f.pkt.ext_count, 3);
  v = sfu_rtp_get_extension(&f.pkt, 1, &n);
  assert_non_null(v);
  assert_int_equal(n, 0);
  v = sfu_rtp_get_extension(&f.pkt, 20, &n);
  assert_int_equal(n, 3);
  assert_memory_equal(v, "abc", 3);
  v = sfu_rtp_get_extension(&f.pkt, 5, &n);
  assert_int_equal(n, 2);
  assert_int_equal(v[0], 0xaa);
  assert_int_equal(f.pkt.payload_len, 4);
  assert_memory_equal(sfu_rtp_payload(&f.pkt), "\xde\xad\xbe\xef", 4);
  /* appbits are allowed */
  f.buf[13] = 0x0f;
  assert_int_equal(sfu_rtp_parse(&f.pkt, f.buf, f.len, BUF_CAP), 0);
  assert_int_equal(f.pkt.ext_form, SFU_RTP_EXT_TWO_BYTE);
  assert_int_equal(f.pkt.ext_profile, 0x100f);
  /* another profile: kept, no elements */
  f.buf[12] = 0x12;
  assert_int_equal(sfu_rtp_parse(&f.pkt, f.buf, f.len, BUF_CAP), 0);
  assert_int_equal(f.pkt.ext_form, SFU_RTP_EXT_OTHER);
  assert_int_equal(f.pkt.ext_count, 0);
  assert_int_equal(f.pkt.payload_len, 4);
}

static void test_parse_padding_csrc(void **state) {
  fix_t f;

  (void)state;
  load(&f, PADDED);
  check_consistent(&f.pkt);
  assert_int_equal(f.pkt.csrc_count, 2);
  assert_int_equal(sfu_rtp_csrc(&f.pkt, 0), 0x11);
  assert_int_equal(sfu_rtp_csrc(&f.pkt, 1), 0x22);
  assert_int_equal(sfu_rtp_csrc(&f.pkt, 2), 0);
  assert_int_equal(f.pkt.padding_len, 4);
  assert_int_equal(f.pkt.payload_len, 3);
  /* padding count equal to the whole payload area: accepted, empty payload */
  f.buf[f.len - 1] = 7;
  assert_int_equal(sfu_rtp_parse(&f.pkt, f.buf, f.len, BUF_CAP), 0);
  assert_int_equal(f.pkt.payload_len, 0);
  /* larger than the payload area, or zero: rejected */
  f.buf[f.len - 1] = 8;
  assert_int_equal(sfu_rtp_parse(&f.pkt, f.buf, f.len, BUF_CAP), SFU_EPROTO);
  f.buf[f.len - 1] = 0;
  assert_int_equal(sfu_rtp_parse(&f.pkt, f.buf, f.len, BUF_CAP), SFU_EPROTO);
  /* P bit on a packet with no byte after the header */
  assert_int_equal(sfu_rtp_parse(&f.pkt, f.buf, 20, BUF_CAP), SFU_EPROTO);
  /* remove_padding */
  f.buf[f.len - 1] = 4;
  assert_int_equal(sfu_rtp_parse(&f.pkt, f.buf, f.len, BUF_CAP), 0);
  sfu_rtp_remove_padding(&f.pkt);
  check_consistent(&f.pkt);
  assert_int_equal(f.pkt.len, 23);
  assert_int_equal(sfu_rtp_parse(&f.pkt, f.buf, 23, BUF_CAP), 0);
  assert_int_equal(f.pkt.payload_len, 3);
}

static void test_parse_malformed(void **state) {
  uint8_t b[BUF_CAP];
  sfu_rtp_packet_t p;
  size_t n, i;

  (void)state;
  /* version 1 and 3 */
  n = hex("40600001 00000001 00000002", b);
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), SFU_EPROTO);
  b[0] = 0xc0;
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), SFU_EPROTO);
  /* shortest valid packet */
  b[0] = 0x80;
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), 0);
  assert_int_equal(p.payload_len, 0);
  /* cap < len */
  assert_int_equal(sfu_rtp_parse(&p, b, n, n - 1), SFU_EINVAL);
  /* CSRC count past the end */
  n = hex("83600001 00000001 00000002 00000003 00000004", b);
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), SFU_EPROTO);
  /* extension header cut */
  n = hex("90600001 00000001 00000002 bede", b);
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), SFU_EPROTO);
  /* extension length past the end */
  n = hex("90600001 00000001 00000002 bede0002 10aa0000", b);
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), SFU_EPROTO);
  /* one-byte element longer than the block (id 1, len 4 in 4 bytes) */
  n = hex("90600001 00000001 00000002 bede0001 13aabbcc 00", b);
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), SFU_EPROTO);
  /* two-byte element longer than the block */
  n = hex("90600001 00000001 00000002 10000001 0103aabb 00", b);
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), SFU_EPROTO);
  /* two-byte id without its length byte */
  n = hex("90600001 00000001 00000002 10000001 00000007 00", b);
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), SFU_EPROTO);
  /* 33 two-byte elements: too many to index; 32 are fine */
  n = hex("90600001 00000001 00000002 10000011", b);
  for (i = 0; i < 33; i++) {
    b[n++] = (uint8_t)(i + 1);
    b[n++] = 0;
  }
  b[n++] = 0;
  b[n++] = 0;
  assert_int_equal(n, 12 + 4 + 68);
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), SFU_EPROTO);
  b[16 + 64] = 0; /* element 33 becomes padding */
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), 0);
  assert_int_equal(p.ext_count, 32);
  /* too long */
  assert_int_equal(sfu_rtp_parse(&p, b, SFU_RTP_MAX_LEN + 1, SFU_RTP_MAX_LEN + 1), SFU_EPROTO);
}

static void test_parse_one_byte_special(void **state) {
  uint8_t b[BUF_CAP];
  sfu_rtp_packet_t p;
  size_t n;

  (void)state;
  /* padding between elements, id 0 with a length nibble (skipped as one byte),
   * id 15 ends the list (whatever follows) */
  n = hex("90600001 00000001 00000002 bede0003 00100105 2101 02f3 ff 3100 00 aa", b);
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), 0);
  check_consistent(&p);
  assert_int_equal(p.ext_count, 2);
  assert_int_equal(p.exts[0].id, 1);
  assert_int_equal(p.exts[0].len, 1);
  assert_int_equal(b[p.exts[0].off], 0x01);
  assert_int_equal(p.exts[1].id, 2);
  assert_int_equal(p.exts[1].len, 2);
  assert_null(sfu_rtp_get_extension(&p, 3, NULL));
  assert_int_equal(p.payload_len, 1);
}

/* Every prefix of every fixture is either rejected or parsed consistently,
 * and so is every single-byte corruption of the header area. */
static void test_truncations(void **state) {
  const char *all[] = {OPUS, VP8_KEY, VP8_DELTA, VP8_CONT, H264_STAPA, H264_FUA_START, H264_FUA_MID,
                       H264_NONIDR, VP9_KEY, VP9_DELTA, VP9_SID1, TWO_BYTE, PADDED};
  uint8_t b[BUF_CAP], c[BUF_CAP];
  sfu_rtp_packet_t p;
  size_t i, n, l, j;
  int rc, accepted = 0, rejected = 0, bit;

  (void)state;
  for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    n = hex(all[i], b);
    for (l = 0; l <= n; l++) {
      memcpy(c, b, l);
      rc = sfu_rtp_parse(&p, c, l, l);
      if (rc == 0) {
        check_consistent(&p);
        accepted++;
      } else {
        assert_int_equal(rc, SFU_EPROTO);
        assert_true(l < n);
        rejected++;
      }
      if (l < SFU_RTP_HEADER_LEN) assert_int_equal(rc, SFU_EPROTO);
    }
    for (j = 0; j < n && j < 40; j++) {
      for (bit = 0; bit < 8; bit++) {
        memcpy(c, b, n);
        c[j] ^= (uint8_t)(1u << bit);
        if (sfu_rtp_parse(&p, c, n, n) == 0) check_consistent(&p);
      }
    }
  }
  assert_true(accepted > 0 && rejected > 0);
}

/* ---- setters ---- */

static void test_setters(void **state) {
  fix_t f;
  sfu_rtp_packet_t q;
  uint8_t copy[64];

  (void)state;
  load(&f, OPUS);
  sfu_rtp_set_payload_type(&f.pkt, 100);
  sfu_rtp_set_sequence_number(&f.pkt, 0xfedc);
  sfu_rtp_set_timestamp(&f.pkt, 0x89abcdef);
  sfu_rtp_set_ssrc(&f.pkt, 0x01020304);
  sfu_rtp_set_marker(&f.pkt, true);
  assert_int_equal(f.buf[0], 0x90);
  assert_int_equal(f.buf[1], 0x80 | 100);
  assert_memory_equal(f.buf + 2, "\xfe\xdc\x89\xab\xcd\xef\x01\x02\x03\x04", 10);
  assert_int_equal(sfu_rtp_parse(&q, f.buf, f.len, BUF_CAP), 0);
  assert_true(q.marker);
  assert_int_equal(q.payload_type, 100);
  assert_int_equal(q.seq, 0xfedc);
  assert_int_equal(q.timestamp, 0x89abcdef);
  assert_int_equal(q.ssrc, 0x01020304);
  sfu_rtp_set_payload_type(&f.pkt, 0xff); /* masked */
  assert_int_equal(f.buf[1], 0xff);
  assert_int_equal(f.pkt.payload_type, 127);
  sfu_rtp_set_marker(&f.pkt, false);
  assert_int_equal(f.buf[1], 0x7f);
  assert_false(f.pkt.marker);

  /* copy keeps the view valid in the new buffer */
  assert_int_equal(sfu_rtp_copy(&q, copy, sizeof(copy), &f.pkt), 0);
  assert_ptr_equal(q.buf, copy);
  assert_memory_equal(copy, f.buf, f.len);
  assert_int_equal(sfu_rtp_read_twcc_seq(&q, 3, &(uint16_t){0}), true);
  sfu_rtp_set_sequence_number(&q, 1);
  assert_int_equal(f.pkt.seq, 0xfedc);
  assert_int_equal(sfu_rtp_copy(&q, copy, f.len - 1, &f.pkt), SFU_ETOOBIG);
}

static void test_ext_readers(void **state) {
  uint8_t b[BUF_CAP];
  sfu_rtp_packet_t p;
  size_t n;
  bool cam, flip, voice;
  uint16_t rot;
  uint8_t level;
  const char *s;

  (void)state;
  /* CVO id 7: camera back, flip, 270 degrees; rid id 10 "hi\0\0"; audio level id 1 no voice 127 */
  n = hex("90600001 00000001 00000002 bede0003 700f a3686900 00 107f 000000", b);
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), 0);
  assert_true(sfu_rtp_read_video_orientation(&p, 7, &cam, &flip, &rot));
  assert_true(cam);
  assert_true(flip);
  assert_int_equal(rot, 270);
  assert_true(sfu_rtp_read_string(&p, 10, &s, &n));
  assert_int_equal(n, 2); /* trailing NULs trimmed */
  assert_memory_equal(s, "hi", 2);
  assert_true(sfu_rtp_read_audio_level(&p, 1, &level, &voice));
  assert_int_equal(level, 127);
  assert_false(voice);
  b[17] = 0x00; /* CVO 0 degrees, front, no flip */
  assert_true(sfu_rtp_read_video_orientation(&p, 7, &cam, &flip, &rot));
  assert_false(cam);
  assert_false(flip);
  assert_int_equal(rot, 0);
  /* an all-NUL string is absent */
  memset(b + 19, 0, 4);
  assert_false(sfu_rtp_read_string(&p, 10, &s, &n));

  assert_int_equal(sfu_rtp_abs_send_time_from_ms(0), 0);
  assert_int_equal(sfu_rtp_abs_send_time_from_ms(1000), 1u << 18);
  assert_int_equal(sfu_rtp_abs_send_time_from_ms(64000), 0); /* wraps every 64 s */
  assert_int_equal(sfu_rtp_abs_send_time_from_ms(64000 + 500), 1u << 17);
  assert_int_equal(sfu_rtp_abs_send_time_from_ms(63999), (uint32_t)(((63999ull << 18) + 500) / 1000));
}

/* ---- extension rewriting ---- */

static void expect_ext(const sfu_rtp_packet_t *p, uint8_t id, const void *val, size_t len) {
  size_t n;
  const uint8_t *v = sfu_rtp_get_extension(p, id, &n);

  assert_non_null(v);
  assert_int_equal(n, len);
  if (len > 0) assert_memory_equal(v, val, len);
}

/* Parses the bytes again and checks they describe the same packet. */
static void reparse_same(const sfu_rtp_packet_t *p) {
  sfu_rtp_packet_t q;
  size_t i;

  check_consistent(p);
  assert_int_equal(sfu_rtp_parse(&q, p->buf, p->len, p->cap), 0);
  assert_int_equal(q.header_len, p->header_len);
  assert_int_equal(q.payload_len, p->payload_len);
  assert_int_equal(q.padding_len, p->padding_len);
  assert_int_equal(q.ext_count, p->ext_count);
  assert_int_equal(q.ext_form, p->ext_form);
  for (i = 0; i < q.ext_count; i++) {
    assert_int_equal(q.exts[i].id, p->exts[i].id);
    assert_int_equal(q.exts[i].len, p->exts[i].len);
    assert_int_equal(q.exts[i].off, p->exts[i].off);
  }
}

static void test_map_extensions(void **state) {
  fix_t f;
  uint8_t map[256];
  uint8_t payload[8];

  (void)state;
  load(&f, OPUS);
  memcpy(payload, sfu_rtp_payload(&f.pkt), 8);

  /* identity: untouched */
  memset(map, 0, sizeof(map));
  map[1] = 1, map[2] = 2, map[3] = 3, map[4] = 4;
  assert_int_equal(sfu_rtp_map_extensions(&f.pkt, map), 0);
  assert_int_equal(f.pkt.len, 36);
  reparse_same(&f.pkt);

  /* renumber and drop abs-send-time: 1->10, 3->5, 4->1 */
  memset(map, 0, sizeof(map));
  map[1] = 10, map[3] = 5, map[4] = 1;
  assert_int_equal(sfu_rtp_map_extensions(&f.pkt, map), 0);
  reparse_same(&f.pkt);
  assert_int_equal(f.pkt.ext_form, SFU_RTP_EXT_ONE_BYTE);
  assert_int_equal(f.pkt.ext_count, 3);
  assert_int_equal(f.pkt.exts[0].id, 10);
  assert_int_equal(f.pkt.exts[1].id, 5);
  assert_int_equal(f.pkt.exts[2].id, 1);
  expect_ext(&f.pkt, 10, "\xaa", 1);
  expect_ext(&f.pkt, 5, "\x00\x05", 2);
  expect_ext(&f.pkt, 1, "0", 1);
  assert_null(sfu_rtp_get_extension(&f.pkt, 2, NULL));
  assert_null(sfu_rtp_get_extension(&f.pkt, 3, NULL));
  assert_int_equal(f.pkt.ext_len, 8); /* 2 + 3 + 2 = 7, padded */
  assert_int_equal(f.pkt.header_len, 24);
  assert_int_equal(f.pkt.len, 32); /* shrank by 4 */
  assert_memory_equal(sfu_rtp_payload(&f.pkt), payload, 8);

  /* grow into two-byte form: an id above 14 */
  memset(map, 0, sizeof(map));
  map[10] = 200, map[5] = 5, map[1] = 1;
  assert_int_equal(sfu_rtp_map_extensions(&f.pkt, map), 0);
  reparse_same(&f.pkt);
  assert_int_equal(f.pkt.ext_form, SFU_RTP_EXT_TWO_BYTE);
  assert_int_equal(f.pkt.ext_profile, 0x1000);
  expect_ext(&f.pkt, 200, "\xaa", 1);
  expect_ext(&f.pkt, 5, "\x00\x05", 2);
  expect_ext(&f.pkt, 1, "0", 1);
  assert_int_equal(f.pkt.ext_len, 12); /* 3 + 4 + 3 = 10, padded */
  assert_int_equal(f.pkt.len, 36);
  assert_memory_equal(sfu_rtp_payload(&f.pkt), payload, 8);

  /* back to one-byte */
  memset(map, 0, sizeof(map));
  map[200] = 14, map[5] = 5, map[1] = 1;
  assert_int_equal(sfu_rtp_map_extensions(&f.pkt, map), 0);
  reparse_same(&f.pkt);
  assert_int_equal(f.pkt.ext_form, SFU_RTP_EXT_ONE_BYTE);
  expect_ext(&f.pkt, 14, "\xaa", 1);

  /* two old ids mapped onto one new id: the first wins */
  memset(map, 0, sizeof(map));
  map[14] = 3, map[5] = 3, map[1] = 2;
  assert_int_equal(sfu_rtp_map_extensions(&f.pkt, map), 0);
  reparse_same(&f.pkt);
  assert_int_equal(f.pkt.ext_count, 2);
  expect_ext(&f.pkt, 3, "\xaa", 1);
  expect_ext(&f.pkt, 2, "0", 1);

  /* drop everything: X bit cleared, block gone */
  memset(map, 0, sizeof(map));
  assert_int_equal(sfu_rtp_map_extensions(&f.pkt, map), 0);
  reparse_same(&f.pkt);
  assert_int_equal(f.pkt.ext_form, SFU_RTP_EXT_NONE);
  assert_int_equal(f.buf[0] & 0x10, 0);
  assert_int_equal(f.pkt.len, 20);
  assert_memory_equal(sfu_rtp_payload(&f.pkt), payload, 8);
  /* and again on a packet without extensions: no-op */
  assert_int_equal(sfu_rtp_map_extensions(&f.pkt, map), 0);
  assert_int_equal(f.pkt.len, 20);

  /* an unknown profile is dropped by the map */
  load(&f, TWO_BYTE);
  f.buf[12] = 0x12;
  assert_int_equal(sfu_rtp_parse(&f.pkt, f.buf, f.len, BUF_CAP), 0);
  map[1] = 1;
  assert_int_equal(sfu_rtp_map_extensions(&f.pkt, map), 0);
  reparse_same(&f.pkt);
  assert_int_equal(f.pkt.ext_form, SFU_RTP_EXT_NONE);
  assert_int_equal(f.pkt.len, 16);
  assert_memory_equal(sfu_rtp_payload(&f.pkt), "\xde\xad\xbe\xef", 4);
}

static void test_map_keeps_padding_and_csrcs(void **state) {
  fix_t f;
  uint8_t map[256] = {0};
  static const uint8_t v[3] = {9, 8, 7};
  sfu_rtp_ext_value_t e = {3, 3, v};

  (void)state;
  load(&f, PADDED);
  assert_int_equal(sfu_rtp_set_extensions(&f.pkt, &e, 1), 0);
  reparse_same(&f.pkt);
  assert_int_equal(f.pkt.ext_off, 20);
  assert_int_equal(f.pkt.padding_len, 4);
  assert_int_equal(f.pkt.len, 27 + 8);
  assert_memory_equal(sfu_rtp_payload(&f.pkt), "\x01\x02\x03\x00\x00\x00\x04", 7);
  assert_int_equal(sfu_rtp_csrc(&f.pkt, 1), 0x22);
  map[3] = 4;
  assert_int_equal(sfu_rtp_map_extensions(&f.pkt, map), 0);
  expect_ext(&f.pkt, 4, v, 3);
  map[4] = 0;
  assert_int_equal(sfu_rtp_map_extensions(&f.pkt, map), 0);
  reparse_same(&f.pkt);
  assert_int_equal(f.pkt.len, 27);
  assert_int_equal(f.pkt.padding_len, 4);
}

static void test_set_extensions_cap(void **state) {
  fix_t f;
  uint8_t before[BUF_CAP];
  sfu_rtp_packet_t saved;
  static const uint8_t big[255] = {1};
  sfu_rtp_ext_value_t many[SFU_RTP_MAX_EXTENSIONS + 1];
  size_t i;

  (void)state;
  load(&f, VP8_KEY);
  memcpy(before, f.buf, f.len);
  /* no room to grow: cap == len */
  assert_int_equal(sfu_rtp_parse(&f.pkt, f.buf, f.len, f.len), 0);
  saved = f.pkt;
  sfu_rtp_ext_value_t e = {1, 3, (const uint8_t *)"abc"};
  assert_int_equal(sfu_rtp_set_extensions(&f.pkt, &e, 1), SFU_ETOOBIG);
  assert_memory_equal(f.buf, before, f.len);
  assert_int_equal(saved.len, f.pkt.len);
  assert_int_equal(saved.header_len, f.pkt.header_len);
  assert_int_equal(saved.ext_off, f.pkt.ext_off);
  assert_int_equal(saved.ext_count, f.pkt.ext_count);
  /* just enough room: 4 + 4 */
  assert_int_equal(sfu_rtp_parse(&f.pkt, f.buf, f.len, f.len + 8), 0);
  assert_int_equal(sfu_rtp_set_extensions(&f.pkt, &e, 1), 0);
  reparse_same(&f.pkt);
  assert_true(sfu_rtp_is_keyframe(&f.pkt, SFU_CODEC_VP8));

  /* 33 distinct ids: SFU_ERANGE */
  for (i = 0; i <= SFU_RTP_MAX_EXTENSIONS; i++) {
    many[i].id = (uint8_t)(i + 1);
    many[i].len = 0;
    many[i].value = NULL;
  }
  assert_int_equal(sfu_rtp_parse(&f.pkt, f.buf, f.len, BUF_CAP), 0);
  assert_int_equal(sfu_rtp_set_extensions(&f.pkt, many, SFU_RTP_MAX_EXTENSIONS + 1), SFU_ERANGE);
  /* 32 with zero length, plus id-0 entries that are skipped */
  many[SFU_RTP_MAX_EXTENSIONS].id = 0;
  assert_int_equal(sfu_rtp_set_extensions(&f.pkt, many, SFU_RTP_MAX_EXTENSIONS + 1), 0);
  reparse_same(&f.pkt);
  assert_int_equal(f.pkt.ext_count, 32);
  assert_int_equal(f.pkt.ext_form, SFU_RTP_EXT_TWO_BYTE);
  assert_int_equal(f.pkt.ext_len, 64);
  /* a 255-byte value */
  many[0].id = 7;
  many[0].len = 255;
  many[0].value = big;
  assert_int_equal(sfu_rtp_set_extensions(&f.pkt, many, 1), 0);
  reparse_same(&f.pkt);
  expect_ext(&f.pkt, 7, big, 255);
  assert_int_equal(f.pkt.ext_len, 260);
  assert_true(sfu_rtp_is_keyframe(&f.pkt, SFU_CODEC_VP8));
}

static void test_set_extension_value(void **state) {
  fix_t f;
  size_t len0;
  const char *s;
  size_t n;

  (void)state;
  load(&f, OPUS);
  len0 = f.pkt.len;
  /* mid "0" -> "1": same length, in place */
  assert_int_equal(sfu_rtp_set_extension_value(&f.pkt, 4, (const uint8_t *)"1", 1), 0);
  assert_int_equal(f.pkt.len, len0);
  expect_ext(&f.pkt, 4, "1", 1);
  reparse_same(&f.pkt);
  /* mid growing to "video-7": rebuilt, still one-byte */
  assert_int_equal(sfu_rtp_set_extension_value(&f.pkt, 4, (const uint8_t *)"video-7", 7), 0);
  reparse_same(&f.pkt);
  expect_ext(&f.pkt, 4, "video-7", 7);
  expect_ext(&f.pkt, 1, "\xaa", 1);
  expect_ext(&f.pkt, 2, "\x12\x34\x56", 3);
  assert_int_equal(f.pkt.ext_form, SFU_RTP_EXT_ONE_BYTE);
  /* shrink in place to "v": the rest becomes padding */
  len0 = f.pkt.len;
  assert_int_equal(sfu_rtp_set_extension_value(&f.pkt, 4, (const uint8_t *)"v", 1), 0);
  assert_int_equal(f.pkt.len, len0);
  reparse_same(&f.pkt);
  assert_true(sfu_rtp_read_string(&f.pkt, 4, &s, &n));
  assert_int_equal(n, 1);
  /* zero length in one-byte form: rebuilt as two-byte */
  assert_int_equal(sfu_rtp_set_extension_value(&f.pkt, 4, NULL, 0), 0);
  reparse_same(&f.pkt);
  assert_int_equal(f.pkt.ext_form, SFU_RTP_EXT_TWO_BYTE);
  expect_ext(&f.pkt, 4, NULL, 0);
  expect_ext(&f.pkt, 3, "\x00\x05", 2);
  /* add a new element */
  assert_int_equal(sfu_rtp_set_extension_value(&f.pkt, 9, (const uint8_t *)"xyz", 3), 0);
  reparse_same(&f.pkt);
  expect_ext(&f.pkt, 9, "xyz", 3);
  assert_int_equal(f.pkt.exts[f.pkt.ext_count - 1].id, 9);
  /* a value taken from the packet itself */
  {
    size_t l;
    const uint8_t *v = sfu_rtp_get_extension(&f.pkt, 2, &l);
    assert_int_equal(sfu_rtp_set_extension_value(&f.pkt, 11, v, l), 0);
    reparse_same(&f.pkt);
    expect_ext(&f.pkt, 11, "\x12\x34\x56", 3);
  }
  assert_int_equal(sfu_rtp_set_extension_value(&f.pkt, 0, (const uint8_t *)"x", 1), SFU_EINVAL);
  assert_int_equal(sfu_rtp_set_extension_value(&f.pkt, 1, (const uint8_t *)"x", 256), SFU_EINVAL);
  /* remove */
  assert_int_equal(sfu_rtp_remove_extension(&f.pkt, 9), 0);
  reparse_same(&f.pkt);
  assert_null(sfu_rtp_get_extension(&f.pkt, 9, NULL));
  assert_int_equal(sfu_rtp_remove_extension(&f.pkt, 9), SFU_ENOTFOUND);
  assert_memory_equal(sfu_rtp_payload(&f.pkt), "\x78\x89\xfc\x01\x02\x03\x04\x05", 8);
}


/* Random extension sets and maps against a model. */
static void test_map_random(void **state) {
  uint64_t seed = 0x1234567;
  uint8_t buf[BUF_CAP], vals[SFU_RTP_MAX_EXTENSIONS][255], map[256], payload[64];
  sfu_rtp_ext_value_t in[SFU_RTP_MAX_EXTENSIONS];
  sfu_rtp_packet_t p;
  size_t iter, i, j, n, plen, k;
  bool two, used[256];
  int rc;

  (void)state;
  for (iter = 0; iter < 3000; iter++) {
    memset(buf, 0, sizeof(buf));
    two = rng(&seed) & 1;
    n = rng(&seed) % 12;
    memset(used, 0, sizeof(used));
    for (i = 0; i < n; i++) {
      do {
        in[i].id = (uint8_t)(two ? 1 + rng(&seed) % 255 : 1 + rng(&seed) % 14);
      } while (used[in[i].id]);
      used[in[i].id] = true;
      in[i].len = (uint8_t)(two ? rng(&seed) % 20 : 1 + rng(&seed) % 16);
      for (j = 0; j < in[i].len; j++) vals[i][j] = (uint8_t)rng(&seed);
      in[i].value = vals[i];
    }
    plen = rng(&seed) % 40;
    for (j = 0; j < plen; j++) payload[j] = (uint8_t)rng(&seed);
    buf[0] = 0x80;
    buf[1] = 96;
    memcpy(buf + 12, payload, plen);
    assert_int_equal(sfu_rtp_parse(&p, buf, 12 + plen, sizeof(buf)), 0);
    assert_int_equal(sfu_rtp_set_extensions(&p, in, n), 0);
    reparse_same(&p);
    assert_int_equal(p.ext_count, n);
    for (i = 0; i < n; i++) expect_ext(&p, in[i].id, vals[i], in[i].len);
    for (i = 0; i < 256; i++) map[i] = (rng(&seed) % 4 == 0) ? 0 : (uint8_t)(rng(&seed) % 256);
    rc = sfu_rtp_map_extensions(&p, map);
    assert_int_equal(rc, 0);
    reparse_same(&p);
    memset(used, 0, sizeof(used));
    k = 0;
    for (i = 0; i < n; i++) {
      uint8_t nid = map[in[i].id];
      if (nid == 0 || used[nid]) continue;
      used[nid] = true;
      assert_int_equal(p.exts[k].id, nid);
      assert_int_equal(p.exts[k].len, in[i].len);
      if (in[i].len) assert_memory_equal(p.buf + p.exts[k].off, vals[i], in[i].len);
      k++;
    }
    assert_int_equal(p.ext_count, k);
    assert_int_equal(p.payload_len, plen);
    if (plen) assert_memory_equal(sfu_rtp_payload(&p), payload, plen);
  }
}

/* ---- RTX ---- */

static void test_rtx_round_trip(void **state) {
  fix_t f, orig;
  int rc;

  (void)state;
  load(&orig, OPUS);
  load(&f, OPUS);
  assert_int_equal(sfu_rtx_encode(&f.pkt, 97, 0xaabbccdd, 777), 0);
  check_consistent(&f.pkt);
  assert_int_equal(f.pkt.len, orig.len + 2);
  assert_int_equal(f.pkt.payload_type, 97);
  assert_int_equal(f.pkt.ssrc, 0xaabbccdd);
  assert_int_equal(f.pkt.seq, 777);
  assert_memory_equal(sfu_rtp_payload(&f.pkt), "\x1a\x2b\x78\x89", 4);
  /* the wire form parses the same */
  assert_int_equal(sfu_rtp_parse(&f.pkt, f.buf, f.pkt.len, BUF_CAP), 0);
  assert_int_equal(f.pkt.payload_len, orig.pkt.payload_len + 2);
  expect_ext(&f.pkt, 4, "0", 1);
  rc = sfu_rtx_decode(&f.pkt, 111, 0x12345678);
  assert_int_equal(rc, 0);
  check_consistent(&f.pkt);
  assert_int_equal(f.pkt.len, orig.len);
  assert_memory_equal(f.buf, orig.buf, orig.len);

  /* padding is dropped by both */
  load(&f, PADDED);
  assert_int_equal(sfu_rtx_encode(&f.pkt, 97, 1, 2), 0);
  check_consistent(&f.pkt);
  assert_int_equal(f.pkt.padding_len, 0);
  assert_int_equal(f.buf[0] & 0x20, 0);
  assert_int_equal(f.pkt.len, 20 + 5);
  assert_memory_equal(sfu_rtp_payload(&f.pkt), "\x00\x05\x01\x02\x03", 5);
  f.buf[f.pkt.len] = 0;
  f.buf[f.pkt.len + 1] = 2;
  f.buf[0] |= 0x20; /* add 2 bytes of padding to the RTX packet */
  assert_int_equal(sfu_rtp_parse(&f.pkt, f.buf, 27, BUF_CAP), 0);
  assert_int_equal(sfu_rtx_decode(&f.pkt, 96, 7), 0);
  check_consistent(&f.pkt);
  assert_int_equal(f.pkt.seq, 5);
  assert_int_equal(f.pkt.len, 23);
  assert_memory_equal(sfu_rtp_payload(&f.pkt), "\x01\x02\x03", 3);

  /* no room to encode: unchanged */
  load(&f, VP8_DELTA);
  assert_int_equal(sfu_rtp_parse(&f.pkt, f.buf, f.len, f.len + 1), 0);
  assert_int_equal(sfu_rtx_encode(&f.pkt, 97, 1, 2), SFU_ETOOBIG);
  assert_int_equal(f.pkt.seq, 2);
  assert_int_equal(f.pkt.len, f.len);
}

static void test_rtx_padding_only(void **state) {
  uint8_t b[BUF_CAP];
  sfu_rtp_packet_t p;
  size_t n;

  (void)state;
  /* Chrome's probe: RTX with 0 payload bytes, 8 of padding */
  n = hex("a0610001 00000001 00000009 00000000 00000008", b);
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), 0);
  assert_int_equal(p.payload_len, 0);
  assert_int_equal(sfu_rtx_decode(&p, 96, 3), SFU_RTX_PADDING_ONLY);
  assert_int_equal(p.ssrc, 9);
  assert_int_equal(p.len, n);
  /* one payload byte: malformed */
  n = hex("80610001 00000001 00000009 aa", b);
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), 0);
  assert_int_equal(sfu_rtx_decode(&p, 96, 3), SFU_EPROTO);
  /* two: an empty original payload */
  n = hex("80610001 00000001 00000009 1234", b);
  assert_int_equal(sfu_rtp_parse(&p, b, n, sizeof(b)), 0);
  assert_int_equal(sfu_rtx_decode(&p, 96, 3), 0);
  assert_int_equal(p.seq, 0x1234);
  assert_int_equal(p.payload_len, 0);
  assert_int_equal(p.len, 12);
}

/* ---- key frames ---- */

static bool key(const char *hx, sfu_codec_t codec) {
  fix_t f;

  load(&f, hx);
  return sfu_rtp_is_keyframe(&f.pkt, codec);
}

static void test_keyframes(void **state) {
  fix_t f;
  sfu_rtp_vp8_desc_t d8;
  sfu_rtp_vp9_desc_t d9;

  (void)state;
  assert_true(key(VP8_KEY, SFU_CODEC_VP8));
  assert_false(key(VP8_DELTA, SFU_CODEC_VP8));
  assert_false(key(VP8_CONT, SFU_CODEC_VP8));
  assert_true(key(H264_STAPA, SFU_CODEC_H264));
  assert_true(key(H264_FUA_START, SFU_CODEC_H264));
  assert_false(key(H264_FUA_MID, SFU_CODEC_H264));
  assert_false(key(H264_NONIDR, SFU_CODEC_H264));
  assert_true(key(VP9_KEY, SFU_CODEC_VP9));
  assert_false(key(VP9_DELTA, SFU_CODEC_VP9));
  assert_false(key(VP9_SID1, SFU_CODEC_VP9));
  assert_false(key(OPUS, SFU_CODEC_OPUS));
  assert_false(key(VP8_KEY, SFU_CODEC_OTHER));
  assert_false(key(VP8_KEY, SFU_CODEC_OPUS));

  /* descriptor details */
  load(&f, VP8_KEY);
  assert_int_equal(sfu_rtp_vp8_parse(sfu_rtp_payload(&f.pkt), f.pkt.payload_len, &d8), 0);
  assert_int_equal(d8.len, 6);
  assert_true(d8.start);
  assert_true(d8.has_picture_id);
  assert_true(d8.picture_id_15bit);
  assert_int_equal(d8.picture_id, 1);
  assert_true(d8.has_tl0picidx);
  assert_true(d8.has_tid);
  assert_int_equal(d8.tid, 0);
  assert_true(d8.layer_sync);
  assert_false(d8.has_keyidx);
  /* descriptor only, no VP8 payload byte: parsed, not a key frame */
  assert_int_equal(sfu_rtp_vp8_parse(sfu_rtp_payload(&f.pkt), 6, &d8), 0);
  assert_false(d8.keyframe);
  assert_int_equal(sfu_rtp_vp8_parse(sfu_rtp_payload(&f.pkt), 5, &d8), SFU_EPROTO);
  /* minimal descriptor (no X): 0x10 = S, PID 0, then a key frame header */
  assert_true(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x10\x50\x02\x00", 4, SFU_CODEC_VP8));
  assert_false(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x11\x50\x02\x00", 4, SFU_CODEC_VP8)); /* PID 1 */
  assert_false(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x10", 1, SFU_CODEC_VP8));
  assert_false(sfu_rtp_payload_is_keyframe(NULL, 0, SFU_CODEC_VP8));
  /* 7-bit picture id, K bit only */
  assert_int_equal(sfu_rtp_vp8_parse((const uint8_t *)"\x90\x90\x05\x1f\x00", 5, &d8), 0);
  assert_int_equal(d8.picture_id, 5);
  assert_false(d8.picture_id_15bit);
  assert_false(d8.has_tid);
  assert_true(d8.has_keyidx);
  assert_int_equal(d8.keyidx, 31);
  assert_true(d8.keyframe);

  load(&f, VP9_KEY);
  assert_int_equal(sfu_rtp_vp9_parse(sfu_rtp_payload(&f.pkt), f.pkt.payload_len, &d9), 0);
  assert_int_equal(d9.len, 13);
  assert_int_equal(d9.picture_id, 5);
  assert_true(d9.has_layer);
  assert_true(d9.has_ss);
  assert_true(d9.has_tl0picidx);
  /* the scalability structure cut short: malformed */
  assert_int_equal(sfu_rtp_vp9_parse(sfu_rtp_payload(&f.pkt), 9, &d9), SFU_EPROTO);
  assert_int_equal(sfu_rtp_vp9_parse(sfu_rtp_payload(&f.pkt), 12, &d9), SFU_EPROTO);
  load(&f, VP9_SID1);
  assert_int_equal(sfu_rtp_vp9_parse(sfu_rtp_payload(&f.pkt), f.pkt.payload_len, &d9), 0);
  assert_int_equal(d9.sid, 1);
  assert_true(d9.inter_layer);
  /* flexible mode with reference indices: F P B, picture id, 2 P_DIFFs */
  assert_int_equal(sfu_rtp_vp9_parse((const uint8_t *)"\xd8\x05\x03\x04\xaa", 5, &d9), 0);
  assert_int_equal(d9.len, 4);
  assert_false(d9.keyframe);
  assert_int_equal(sfu_rtp_vp9_parse((const uint8_t *)"\xd8\x05\x03\x03\x03\x03", 6, &d9), SFU_EPROTO);
  /* flexible key frame without layer indices */
  assert_true(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x18\xaa", 2, SFU_CODEC_VP9));

  /* H264 edge cases */
  assert_true(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x65\x88", 2, SFU_CODEC_H264));
  assert_true(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x67", 1, SFU_CODEC_H264));
  assert_false(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x68", 1, SFU_CODEC_H264)); /* PPS */
  /* STAP-A whose first NAL size runs past the end: not a key frame */
  assert_false(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x78\x00\x09\x67\x42", 5, SFU_CODEC_H264));
  /* STAP-A with a zero-size NAL first */
  assert_false(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x78\x00\x00\x00\x01\x67", 6, SFU_CODEC_H264));
  /* STAP-A: PPS then IDR */
  assert_true(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x78\x00\x01\x68\x00\x01\x65", 7, SFU_CODEC_H264));
  /* STAP-B: DON first */
  assert_true(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x79\x00\x01\x00\x01\x67", 6, SFU_CODEC_H264));
  assert_false(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x79\x00", 2, SFU_CODEC_H264));
  /* FU-A: start of SPS, end (not start) of IDR, cut */
  assert_true(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x7c\x87", 2, SFU_CODEC_H264));
  assert_false(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x7c\x45", 2, SFU_CODEC_H264));
  assert_false(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x7c", 1, SFU_CODEC_H264));
  assert_false(sfu_rtp_payload_is_keyframe((const uint8_t *)"\x60", 1, SFU_CODEC_H264)); /* type 0 */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_demux),
      cmocka_unit_test(test_parse_opus),
      cmocka_unit_test(test_parse_two_byte),
      cmocka_unit_test(test_parse_padding_csrc),
      cmocka_unit_test(test_parse_malformed),
      cmocka_unit_test(test_parse_one_byte_special),
      cmocka_unit_test(test_truncations),
      cmocka_unit_test(test_setters),
      cmocka_unit_test(test_ext_readers),
      cmocka_unit_test(test_map_extensions),
      cmocka_unit_test(test_map_keeps_padding_and_csrcs),
      cmocka_unit_test(test_set_extensions_cap),
      cmocka_unit_test(test_set_extension_value),
      cmocka_unit_test(test_map_random),
      cmocka_unit_test(test_rtx_round_trip),
      cmocka_unit_test(test_rtx_padding_only),
      cmocka_unit_test(test_keyframes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
