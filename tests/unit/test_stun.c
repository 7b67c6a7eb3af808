/*
 * Unit tests for worker/src/ice/sfu_stun (STUN parser, credential checks,
 * writer). Fixtures are the RFC 5769 test vectors (a Binding request and its
 * IPv4/IPv6 success responses, all with the short-term password
 * "VOkJxbRl1RmTxUk/WvJxBt"), plus messages the tests build.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sfu_error.h"
#include "sfu_stun.h"

#define RFC_PWD "VOkJxbRl1RmTxUk/WvJxBt"

/* RFC 5769 2.1: Binding request, SOFTWARE, PRIORITY, ICE-CONTROLLED,
 * USERNAME "evtj:h6vY" (padded with spaces), MESSAGE-INTEGRITY, FINGERPRINT. */
static const uint8_t rfc_request[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87,
    0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
    0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f,
    0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
    0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e,
    0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};

/* RFC 5769 2.2: IPv4 success response, XOR-MAPPED-ADDRESS 192.0.2.1:32853. */
static const uint8_t rfc_response4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};

/* RFC 5769 2.3: IPv6 success response, [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const uint8_t rfc_response6[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87,
    0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25,
    0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
    0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb,
    0x0b, 0x4c};

static const uint8_t rfc_tid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

typedef struct vec {
  const uint8_t *p;
  size_t len;
} vec_t;

static const vec_t rfc_vectors[] = {
    {rfc_request, sizeof(rfc_request)}, {rfc_response4, sizeof(rfc_response4)}, {rfc_response6, sizeof(rfc_response6)}};

/* ---- helpers ---- */

/* A raw message: header + attributes given as bytes, length field set. */
typedef struct raw {
  uint8_t b[1024];
  size_t len;
} raw_t;

static void raw_init(raw_t *r, uint16_t type) {
  memset(r, 0, sizeof(*r));
  r->b[0] = (uint8_t)(type >> 8);
  r->b[1] = (uint8_t)type;
  r->b[4] = 0x21;
  r->b[5] = 0x12;
  r->b[6] = 0xA4;
  r->b[7] = 0x42;
  memcpy(r->b + 8, rfc_tid, 12);
  r->len = 20;
}

static void raw_fix_length(raw_t *r) {
  r->b[2] = (uint8_t)((r->len - 20) >> 8);
  r->b[3] = (uint8_t)(r->len - 20);
}

/* Appends an attribute with the declared length `decl` and `vlen` value bytes
 * (filled with 'a'), padded to 4 with `pad` bytes of zero. */
static void raw_attr(raw_t *r, uint16_t type, uint16_t decl, size_t vlen, size_t pad) {
  r->b[r->len++] = (uint8_t)(type >> 8);
  r->b[r->len++] = (uint8_t)type;
  r->b[r->len++] = (uint8_t)(decl >> 8);
  r->b[r->len++] = (uint8_t)decl;
  memset(r->b + r->len, 'a', vlen);
  r->len += vlen;
  memset(r->b + r->len, 0, pad);
  r->len += pad;
  raw_fix_length(r);
}

static void raw_attr_ok(raw_t *r, uint16_t type, uint16_t len) { raw_attr(r, type, len, len, (4 - len % 4) % 4); }

static int raw_parse(const raw_t *r) {
  sfu_stun_msg_t m;
  return sfu_stun_parse(&m, r->b, r->len);
}

static void sin4(struct sockaddr_in *a, const char *ip, uint16_t port) {
  memset(a, 0, sizeof(*a));
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
}

static void sin6(struct sockaddr_in6 *a, const char *ip, uint16_t port) {
  memset(a, 0, sizeof(*a));
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(port);
  assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
}

/* ---- RFC 5769 vectors ---- */

static void test_rfc5769_request(void **state) {
  sfu_stun_msg_t m;
  const uint8_t *uf;
  size_t uf_len;

  assert_true(sfu_stun_is_stun(rfc_request, sizeof(rfc_request)));
  assert_int_equal(sfu_stun_parse(&m, rfc_request, sizeof(rfc_request)), 0);
  assert_int_equal(m.klass, SFU_STUN_REQUEST);
  assert_int_equal(m.method, SFU_STUN_METHOD_BINDING);
  assert_int_equal(m.length, 0x58);
  assert_memory_equal(m.tid, rfc_tid, 12);
  assert_true(sfu_stun_has(&m, SFU_STUN_HAS_USERNAME | SFU_STUN_HAS_INTEGRITY | SFU_STUN_HAS_FINGERPRINT |
                                   SFU_STUN_HAS_PRIORITY | SFU_STUN_HAS_ICE_CONTROLLED | SFU_STUN_HAS_SOFTWARE));
  assert_false(sfu_stun_has(&m, SFU_STUN_HAS_USE_CANDIDATE));
  assert_false(sfu_stun_has(&m, SFU_STUN_HAS_ICE_CONTROLLING));
  assert_false(sfu_stun_has_nomination(&m));
  assert_int_equal(m.username_len, 9);
  assert_memory_equal(m.username, "evtj:h6vY", 9);
  assert_int_equal(m.software_len, 16);
  assert_memory_equal(m.software, "STUN test client", 16);
  assert_int_equal(m.priority, 0x6e0001ffu);
  assert_true(m.ice_controlled == 0x932ff9b151263b36ull);
  assert_int_equal(m.integrity_offset, 76);
  assert_int_equal(m.fingerprint_offset, 100);
  assert_int_equal(m.fingerprint, 0xe57a3bcfu);

  assert_int_equal(sfu_stun_local_ufrag(&m, &uf, &uf_len), 0);
  assert_int_equal(uf_len, 4);
  assert_memory_equal(uf, "evtj", 4);

  assert_true(sfu_stun_check_fingerprint(&m, rfc_request, sizeof(rfc_request)));
  assert_int_equal(sfu_stun_check_integrity(&m, rfc_request, sizeof(rfc_request), RFC_PWD, strlen(RFC_PWD)), 0);
  assert_int_equal(sfu_stun_check_integrity(&m, rfc_request, sizeof(rfc_request), "VOkJxbRl1RmTxUk/WvJxBT", 22),
                   SFU_EPROTO);
  assert_int_equal(sfu_stun_check_integrity(&m, rfc_request, sizeof(rfc_request), "", 0), SFU_EPROTO);
  assert_int_equal(sfu_stun_xor_mapped_address(&m, &(struct sockaddr_storage){0}), SFU_ENOTFOUND);
}

static void check_response(const uint8_t *p, size_t len, int family, const char *ip, uint16_t port) {
  sfu_stun_msg_t m;
  struct sockaddr_storage ss;
  char text[64];

  assert_int_equal(sfu_stun_parse(&m, p, len), 0);
  assert_int_equal(m.klass, SFU_STUN_SUCCESS_RESPONSE);
  assert_int_equal(m.method, SFU_STUN_METHOD_BINDING);
  assert_memory_equal(m.tid, rfc_tid, 12);
  assert_int_equal(m.software_len, 11);
  assert_memory_equal(m.software, "test vector", 11);
  assert_true(sfu_stun_check_fingerprint(&m, p, len));
  assert_int_equal(sfu_stun_check_integrity(&m, p, len, RFC_PWD, strlen(RFC_PWD)), 0);
  assert_int_equal(sfu_stun_check_integrity(&m, p, len, "x", 1), SFU_EPROTO);
  assert_int_equal(sfu_stun_xor_mapped_address(&m, &ss), 0);
  assert_int_equal(ss.ss_family, family);
  if (family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
    assert_int_equal(ntohs(a->sin_port), port);
    assert_non_null(inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text)));
  } else {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
    assert_int_equal(ntohs(a->sin6_port), port);
    assert_non_null(inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text)));
  }
  assert_string_equal(text, ip);
}

static void test_rfc5769_responses(void **state) {
  check_response(rfc_response4, sizeof(rfc_response4), AF_INET, "192.0.2.1", 32853);
  check_response(rfc_response6, sizeof(rfc_response6), AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", 32853);
}

/* Our writer encodes XOR-MAPPED-ADDRESS exactly as the RFC vectors do. */
static void test_xor_mapped_matches_rfc(void **state) {
  uint8_t buf[128];
  struct sockaddr_in a4;
  struct sockaddr_in6 a6;
  sfu_stun_writer_t w;
  int n;

  sin4(&a4, "192.0.2.1", 32853);
  sfu_stun_writer_init(&w, buf, sizeof(buf), SFU_STUN_SUCCESS_RESPONSE, SFU_STUN_METHOD_BINDING, rfc_tid);
  sfu_stun_writer_add_xor_mapped_address(&w, (struct sockaddr *)&a4);
  n = sfu_stun_writer_finish(&w);
  assert_int_equal(n, 32);
  assert_memory_equal(buf + 20, rfc_response4 + 36, 12);
  assert_memory_equal(buf, rfc_response4, 2); /* type */

  sin6(&a6, "2001:db8:1234:5678:11:2233:4455:6677", 32853);
  sfu_stun_writer_init(&w, buf, sizeof(buf), SFU_STUN_SUCCESS_RESPONSE, SFU_STUN_METHOD_BINDING, rfc_tid);
  sfu_stun_writer_add_xor_mapped_address(&w, (struct sockaddr *)&a6);
  n = sfu_stun_writer_finish(&w);
  assert_int_equal(n, 44);
  assert_memory_equal(buf + 20, rfc_response6 + 36, 24);
}

/* ---- truncation ---- */

/* Every prefix is rejected as is; with the length field patched to the
 * prefix, exactly the prefixes ending on an attribute boundary parse. */
static void test_truncated_every_length(void **state) {
  size_t v, n;
  for (v = 0; v < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); v++) {
    const vec_t *vec = &rfc_vectors[v];
    uint8_t buf[256];
    size_t boundaries[16], nb = 0, off = 20, k;
    sfu_stun_msg_t m;

    /* attribute boundaries of the full message */
    boundaries[nb++] = 20;
    while (off < vec->len) {
      size_t alen = ((size_t)vec->p[off + 2] << 8) | vec->p[off + 3];
      off += 4 + ((alen + 3) & ~(size_t)3);
      boundaries[nb++] = off;
    }
    assert_int_equal(off, vec->len);

    for (n = 0; n < vec->len; n++) {
      bool at_boundary = false;
      assert_int_equal(sfu_stun_parse(&m, vec->p, n), SFU_EPROTO);
      assert_false(n >= 20 ? false : sfu_stun_is_stun(vec->p, n));
      if (n < 20) continue;
      memcpy(buf, vec->p, n);
      buf[2] = (uint8_t)((n - 20) >> 8);
      buf[3] = (uint8_t)(n - 20);
      for (k = 0; k < nb; k++) at_boundary |= boundaries[k] == n;
      assert_int_equal(sfu_stun_parse(&m, buf, n), at_boundary ? 0 : SFU_EPROTO);
      if (at_boundary) assert_false(sfu_stun_has(&m, SFU_STUN_HAS_FINGERPRINT));
    }
    /* one byte more than the length field says */
    memcpy(buf, vec->p, vec->len);
    buf[vec->len] = 0;
    assert_int_equal(sfu_stun_parse(&m, buf, vec->len + 1), SFU_EPROTO);
  }
}

/* ---- header and demux ---- */

static void test_is_stun(void **state) {
  uint8_t b[20];
  int i;
  memcpy(b, rfc_request, 20);
  for (i = 0; i < 256; i++) {
    b[0] = (uint8_t)i;
    assert_int_equal(sfu_stun_is_stun(b, 20), i <= 3);
  }
  b[0] = 0;
  assert_false(sfu_stun_is_stun(b, 19));
  b[7] = 0x43;
  assert_false(sfu_stun_is_stun(b, 20));
  assert_false(sfu_stun_is_stun(b, 0));
}

static void test_header(void **state) {
  raw_t r;
  sfu_stun_msg_t m;
  static const struct {
    uint16_t type;
    sfu_stun_class_t klass;
    uint16_t method;
  } types[] = {
      {0x0001, SFU_STUN_REQUEST, 1},           {0x0011, SFU_STUN_INDICATION, 1},
      {0x0101, SFU_STUN_SUCCESS_RESPONSE, 1},  {0x0111, SFU_STUN_ERROR_RESPONSE, 1},
      {0x0003, SFU_STUN_REQUEST, 3},           {0x02EF, SFU_STUN_REQUEST, 0x0FF},
      {0x03FF, SFU_STUN_ERROR_RESPONSE, 0x0FF}, {0x0000, SFU_STUN_REQUEST, 0},
  };
  size_t i;

  for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
    raw_init(&r, types[i].type);
    raw_fix_length(&r);
    assert_int_equal(sfu_stun_parse(&m, r.b, r.len), 0);
    assert_int_equal(m.klass, types[i].klass);
    assert_int_equal(m.method, types[i].method);
    assert_int_equal(m.has, 0);
  }
  /* methods above 0x0FF put bits in the first byte that RFC 7983 does not call STUN */
  raw_init(&r, 0x0401);
  raw_fix_length(&r);
  assert_int_equal(sfu_stun_parse(&m, r.b, r.len), SFU_EPROTO);

  /* length field not a multiple of 4, or not the buffer's */
  raw_init(&r, 0x0001);
  raw_attr(&r, 0x8022, 2, 2, 0); /* SOFTWARE, unpadded */
  assert_int_equal(raw_parse(&r), SFU_EPROTO);
  raw_init(&r, 0x0001);
  raw_attr_ok(&r, 0x8022, 4);
  r.b[3] = 4; /* says 4, buffer has 8 */
  assert_int_equal(raw_parse(&r), SFU_EPROTO);
  r.b[3] = 12;
  assert_int_equal(raw_parse(&r), SFU_EPROTO);
  r.b[3] = 8;
  assert_int_equal(raw_parse(&r), 0);
}

/* ---- attributes ---- */

static void test_attribute_lengths(void **state) {
  static const struct {
    uint16_t type;
    uint16_t len;
    bool ok;
  } cases[] = {
      {SFU_STUN_ATTR_PRIORITY, 4, true},          {SFU_STUN_ATTR_PRIORITY, 3, false},
      {SFU_STUN_ATTR_PRIORITY, 5, false},         {SFU_STUN_ATTR_PRIORITY, 0, false},
      {SFU_STUN_ATTR_USE_CANDIDATE, 0, true},     {SFU_STUN_ATTR_USE_CANDIDATE, 4, false},
      {SFU_STUN_ATTR_ICE_CONTROLLED, 8, true},    {SFU_STUN_ATTR_ICE_CONTROLLED, 4, false},
      {SFU_STUN_ATTR_ICE_CONTROLLING, 8, true},   {SFU_STUN_ATTR_ICE_CONTROLLING, 12, false},
      {SFU_STUN_ATTR_NOMINATION, 4, true},        {SFU_STUN_ATTR_NOMINATION, 8, false},
      {SFU_STUN_ATTR_NOMINATION_OLD, 4, true},    {SFU_STUN_ATTR_NOMINATION_OLD, 2, false},
      {SFU_STUN_ATTR_XOR_MAPPED_ADDRESS, 8, true}, {SFU_STUN_ATTR_XOR_MAPPED_ADDRESS, 20, true},
      {SFU_STUN_ATTR_XOR_MAPPED_ADDRESS, 12, false}, {SFU_STUN_ATTR_XOR_MAPPED_ADDRESS, 4, false},
      {SFU_STUN_ATTR_ERROR_CODE, 4, true},        {SFU_STUN_ATTR_ERROR_CODE, 9, true},
      {SFU_STUN_ATTR_ERROR_CODE, 3, false},       {SFU_STUN_ATTR_MESSAGE_INTEGRITY, 20, true},
      {SFU_STUN_ATTR_MESSAGE_INTEGRITY, 16, false}, {SFU_STUN_ATTR_MESSAGE_INTEGRITY, 32, false},
      {SFU_STUN_ATTR_FINGERPRINT, 4, true},       {SFU_STUN_ATTR_FINGERPRINT, 8, false},
      {SFU_STUN_ATTR_USERNAME, 0, true},          {SFU_STUN_ATTR_USERNAME, 513, true},
      {SFU_STUN_ATTR_USERNAME, 514, false},       {SFU_STUN_ATTR_SOFTWARE, 763, true},
      {SFU_STUN_ATTR_SOFTWARE, 764, false},       {0x7777, 1, true},
      {0xFFFF, 700, true},
  };
  size_t i;
  raw_t r;

  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    raw_init(&r, 0x0001);
    raw_attr_ok(&r, cases[i].type, cases[i].len);
    assert_int_equal(raw_parse(&r), cases[i].ok ? 0 : SFU_EPROTO);
  }
}

static void test_attribute_overruns(void **state) {
  raw_t r;

  /* declared length beyond the message */
  raw_init(&r, 0x0001);
  raw_attr(&r, SFU_STUN_ATTR_SOFTWARE, 8, 4, 0);
  assert_int_equal(raw_parse(&r), SFU_EPROTO);
  raw_init(&r, 0x0001);
  raw_attr(&r, SFU_STUN_ATTR_SOFTWARE, 0xFFFF, 8, 0);
  assert_int_equal(raw_parse(&r), SFU_EPROTO);

  /* value fits but its padding does not: 5 bytes + 3 missing (message length 12 is a multiple of 4
   * only with the padding, so build 4+5+3 then drop a whole word) */
  raw_init(&r, 0x0001);
  raw_attr_ok(&r, SFU_STUN_ATTR_PRIORITY, 4);
  raw_attr(&r, SFU_STUN_ATTR_SOFTWARE, 5, 4, 0); /* 4 value bytes present, 5 declared */
  assert_int_equal(raw_parse(&r), SFU_EPROTO);

  /* a lone attribute header fragment (2 bytes) after a valid attribute cannot happen with a length
   * field that is a multiple of 4; 4 stray bytes are a zero-length attribute: fine */
  raw_init(&r, 0x0001);
  raw_attr(&r, 0x7000, 0, 0, 0);
  assert_int_equal(raw_parse(&r), 0);
}

static void test_padding(void **state) {
  raw_t r;
  sfu_stun_msg_t m;

  raw_init(&r, 0x0001);
  raw_attr(&r, SFU_STUN_ATTR_USERNAME, 9, 9, 3);
  raw_attr_ok(&r, SFU_STUN_ATTR_PRIORITY, 4);
  assert_int_equal(sfu_stun_parse(&m, r.b, r.len), 0);
  assert_int_equal(m.username_len, 9);
  assert_int_equal(m.priority, 0x61616161u);

  /* non-zero padding is accepted (RFC 5769 pads with spaces) */
  r.b[20 + 4 + 9] = 0x20;
  assert_int_equal(raw_parse(&r), 0);

  /* without padding the next attribute is misread and the walk ends mid-attribute */
  raw_init(&r, 0x0001);
  raw_attr(&r, SFU_STUN_ATTR_USERNAME, 9, 9, 0);
  raw_attr(&r, SFU_STUN_ATTR_PRIORITY, 4, 4, 3);
  assert_int_equal(r.len % 4, 0);
  assert_int_equal(raw_parse(&r), SFU_EPROTO);
}

static void test_attribute_order_and_duplicates(void **state) {
  raw_t r;
  sfu_stun_msg_t m;
  uint16_t dup_types[] = {SFU_STUN_ATTR_USERNAME, SFU_STUN_ATTR_PRIORITY, SFU_STUN_ATTR_USE_CANDIDATE,
                          SFU_STUN_ATTR_ICE_CONTROLLED, SFU_STUN_ATTR_NOMINATION, SFU_STUN_ATTR_SOFTWARE};
  uint16_t dup_lens[] = {4, 4, 0, 8, 4, 4};
  size_t i;

  /* FINGERPRINT after MESSAGE-INTEGRITY: fine */
  raw_init(&r, 0x0001);
  raw_attr_ok(&r, SFU_STUN_ATTR_MESSAGE_INTEGRITY, 20);
  raw_attr_ok(&r, SFU_STUN_ATTR_FINGERPRINT, 4);
  assert_int_equal(raw_parse(&r), 0);

  /* anything after FINGERPRINT */
  raw_init(&r, 0x0001);
  raw_attr_ok(&r, SFU_STUN_ATTR_FINGERPRINT, 4);
  raw_attr_ok(&r, 0x7777, 0);
  assert_int_equal(raw_parse(&r), SFU_EPROTO);
  raw_init(&r, 0x0001);
  raw_attr_ok(&r, SFU_STUN_ATTR_FINGERPRINT, 4);
  raw_attr_ok(&r, SFU_STUN_ATTR_MESSAGE_INTEGRITY, 20);
  assert_int_equal(raw_parse(&r), SFU_EPROTO);

  /* anything but FINGERPRINT after MESSAGE-INTEGRITY, unknown attributes included */
  raw_init(&r, 0x0001);
  raw_attr_ok(&r, SFU_STUN_ATTR_MESSAGE_INTEGRITY, 20);
  raw_attr_ok(&r, SFU_STUN_ATTR_PRIORITY, 4);
  assert_int_equal(raw_parse(&r), SFU_EPROTO);
  raw_init(&r, 0x0001);
  raw_attr_ok(&r, SFU_STUN_ATTR_MESSAGE_INTEGRITY, 20);
  raw_attr_ok(&r, 0xC057, 4);
  assert_int_equal(raw_parse(&r), SFU_EPROTO);

  /* repeated known attributes */
  for (i = 0; i < sizeof(dup_types) / sizeof(dup_types[0]); i++) {
    raw_init(&r, 0x0001);
    raw_attr_ok(&r, dup_types[i], dup_lens[i]);
    assert_int_equal(raw_parse(&r), 0);
    raw_attr_ok(&r, dup_types[i], dup_lens[i]);
    assert_int_equal(raw_parse(&r), SFU_EPROTO);
  }
  /* repeated unknown attributes are fine; both NOMINATION types together too (0x0030 wins) */
  raw_init(&r, 0x0001);
  raw_attr_ok(&r, 0xC057, 4);
  raw_attr_ok(&r, 0xC057, 4);
  raw_attr(&r, SFU_STUN_ATTR_NOMINATION_OLD, 4, 0, 0);
  memcpy(r.b + r.len, "\x00\x00\x00\x07", 4);
  r.len += 4;
  raw_attr(&r, SFU_STUN_ATTR_NOMINATION, 4, 0, 0);
  memcpy(r.b + r.len, "\x00\x00\x00\x09", 4);
  r.len += 4;
  raw_fix_length(&r);
  assert_int_equal(sfu_stun_parse(&m, r.b, r.len), 0);
  assert_true(sfu_stun_has_nomination(&m));
  assert_int_equal(m.nomination, 9);
}

static void test_error_code_and_ufrag(void **state) {
  raw_t r;
  sfu_stun_msg_t m;
  const uint8_t *uf;
  size_t uf_len;

  raw_init(&r, 0x0111);
  raw_attr(&r, SFU_STUN_ATTR_ERROR_CODE, 7, 0, 0);
  memcpy(r.b + r.len, "\x00\x00\x04\x57" "abc" "\x00", 8);
  r.len += 8;
  raw_fix_length(&r);
  assert_int_equal(sfu_stun_parse(&m, r.b, r.len), 0);
  assert_int_equal(m.klass, SFU_STUN_ERROR_RESPONSE);
  assert_int_equal(m.error_code, 487);
  assert_int_equal(m.error_reason_len, 3);
  assert_memory_equal(m.error_reason, "abc", 3);
  assert_int_equal(sfu_stun_local_ufrag(&m, &uf, &uf_len), SFU_ENOTFOUND);

  /* USERNAME without ':' -> the whole of it; empty USERNAME -> empty ufrag */
  raw_init(&r, 0x0001);
  raw_attr_ok(&r, SFU_STUN_ATTR_USERNAME, 5);
  assert_int_equal(sfu_stun_parse(&m, r.b, r.len), 0);
  assert_int_equal(sfu_stun_local_ufrag(&m, &uf, &uf_len), 0);
  assert_int_equal(uf_len, 5);
  raw_init(&r, 0x0001);
  raw_attr_ok(&r, SFU_STUN_ATTR_USERNAME, 0);
  assert_int_equal(sfu_stun_parse(&m, r.b, r.len), 0);
  assert_int_equal(sfu_stun_local_ufrag(&m, &uf, &uf_len), 0);
  assert_int_equal(uf_len, 0);
}

/* XOR-MAPPED-ADDRESS with an unknown family or a family/length mismatch parses but does not decode. */
static void test_xor_mapped_bad_family(void **state) {
  raw_t r;
  sfu_stun_msg_t m;
  struct sockaddr_storage ss;

  raw_init(&r, 0x0101);
  raw_attr_ok(&r, SFU_STUN_ATTR_XOR_MAPPED_ADDRESS, 8);
  r.b[25] = 0x02; /* IPv6 family, IPv4 length */
  assert_int_equal(sfu_stun_parse(&m, r.b, r.len), 0);
  assert_int_equal(sfu_stun_xor_mapped_address(&m, &ss), SFU_EPROTO);
  r.b[25] = 0x03;
  assert_int_equal(sfu_stun_parse(&m, r.b, r.len), 0);
  assert_int_equal(sfu_stun_xor_mapped_address(&m, &ss), SFU_EPROTO);
  raw_init(&r, 0x0101);
  raw_attr_ok(&r, SFU_STUN_ATTR_XOR_MAPPED_ADDRESS, 20);
  r.b[25] = 0x01;
  assert_int_equal(sfu_stun_parse(&m, r.b, r.len), 0);
  assert_int_equal(sfu_stun_xor_mapped_address(&m, &ss), SFU_EPROTO);
}

/* ---- integrity and fingerprint against corruption ---- */

/* Every single-bit flip is caught: the parse fails, or FINGERPRINT fails; and
 * a flip before the end of MESSAGE-INTEGRITY also fails the integrity check. */
static void test_bit_flips(void **state) {
  size_t v, i;
  int bit;
  for (v = 0; v < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); v++) {
    const vec_t *vec = &rfc_vectors[v];
    uint8_t buf[256];
    sfu_stun_msg_t m0;

    assert_int_equal(sfu_stun_parse(&m0, vec->p, vec->len), 0);
    for (i = 0; i < vec->len; i++) {
      for (bit = 0; bit < 8; bit++) {
        sfu_stun_msg_t m;
        memcpy(buf, vec->p, vec->len);
        buf[i] ^= (uint8_t)(1u << bit);
        if (sfu_stun_parse(&m, buf, vec->len) != 0) continue;
        assert_false(sfu_stun_check_fingerprint(&m, buf, vec->len));
        if (i < m0.integrity_offset + 24)
          assert_int_not_equal(sfu_stun_check_integrity(&m, buf, vec->len, RFC_PWD, strlen(RFC_PWD)), 0);
        else /* flips in FINGERPRINT do not touch integrity */
          assert_int_equal(sfu_stun_check_integrity(&m, buf, vec->len, RFC_PWD, strlen(RFC_PWD)), 0);
      }
    }
  }
}

static void test_integrity_missing(void **state) {
  raw_t r;
  sfu_stun_msg_t m;
  raw_init(&r, 0x0001);
  raw_attr_ok(&r, SFU_STUN_ATTR_PRIORITY, 4);
  assert_int_equal(sfu_stun_parse(&m, r.b, r.len), 0);
  assert_int_equal(sfu_stun_check_integrity(&m, r.b, r.len, "k", 1), SFU_ENOTFOUND);
  assert_false(sfu_stun_check_fingerprint(&m, r.b, r.len));
}

static void test_crc32(void **state) {
  assert_int_equal(sfu_stun_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
  assert_int_equal(sfu_stun_crc32(NULL, 0), 0);
}

/* Our HMAC-SHA1 (with the adjusted length field) equals OpenSSL's HMAC() over
 * a patched copy, for keys around the SHA-1 block size. */
static void test_integrity_vs_openssl(void **state) {
  static const size_t key_lens[] = {0, 1, 22, 63, 64, 65, 200};
  char key[200];
  size_t k;

  for (k = 0; k < sizeof(key); k++) key[k] = (char)('A' + k % 50);
  for (k = 0; k < sizeof(key_lens) / sizeof(key_lens[0]); k++) {
    uint8_t buf[256], copy[256], mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    sfu_stun_writer_t w;
    sfu_stun_msg_t m;
    int n;

    sfu_stun_writer_init(&w, buf, sizeof(buf), SFU_STUN_REQUEST, SFU_STUN_METHOD_BINDING, NULL);
    sfu_stun_writer_add(&w, SFU_STUN_ATTR_USERNAME, "abcd:efg", 8);
    sfu_stun_writer_add_u32(&w, SFU_STUN_ATTR_PRIORITY, 12345);
    sfu_stun_writer_add_integrity(&w, key, key_lens[k]);
    sfu_stun_writer_add_fingerprint(&w);
    n = sfu_stun_writer_finish(&w);
    assert_int_equal(n, 20 + 12 + 8 + 24 + 8);
    assert_int_equal(sfu_stun_parse(&m, buf, (size_t)n), 0);
    assert_int_equal(m.integrity_offset, 40);

    memcpy(copy, buf, m.integrity_offset);
    copy[2] = 0;
    copy[3] = (uint8_t)(m.integrity_offset + 24 - 20);
    assert_non_null(HMAC(EVP_sha1(), key_lens[k] ? key : "", (int)key_lens[k], copy, m.integrity_offset, mac,
                         &mac_len));
    assert_int_equal(mac_len, 20);
    assert_memory_equal(mac, buf + m.integrity_offset + 4, 20);
    assert_int_equal(sfu_stun_check_integrity(&m, buf, (size_t)n, key, key_lens[k]), 0);
    assert_true(sfu_stun_check_fingerprint(&m, buf, (size_t)n));
  }
}

/* ---- builders ---- */

static void check_built_success(const uint8_t *buf, int n, const sfu_stun_msg_t *req, const struct sockaddr *sa,
                                const char *key) {
  sfu_stun_msg_t m;
  struct sockaddr_storage ss;

  assert_true(n > 0);
  assert_int_equal(sfu_stun_parse(&m, buf, (size_t)n), 0);
  assert_int_equal(m.klass, SFU_STUN_SUCCESS_RESPONSE);
  assert_int_equal(m.method, req->method);
  assert_memory_equal(m.tid, req->tid, 12);
  assert_true(sfu_stun_check_fingerprint(&m, buf, (size_t)n));
  assert_int_equal(sfu_stun_check_integrity(&m, buf, (size_t)n, key, strlen(key)), 0);
  assert_int_equal(sfu_stun_xor_mapped_address(&m, &ss), 0);
  assert_int_equal(ss.ss_family, sa->sa_family);
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *x = (const struct sockaddr_in *)sa, *y = (const struct sockaddr_in *)&ss;
    assert_int_equal(x->sin_port, y->sin_port);
    assert_memory_equal(&x->sin_addr, &y->sin_addr, 4);
  } else {
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)sa, *y = (const struct sockaddr_in6 *)&ss;
    assert_int_equal(x->sin6_port, y->sin6_port);
    assert_memory_equal(&x->sin6_addr, &y->sin6_addr, 16);
  }
}

static void test_build_success(void **state) {
  uint8_t buf[256];
  sfu_stun_msg_t req;
  struct sockaddr_in a4;
  struct sockaddr_in6 a6;
  int n;

  assert_int_equal(sfu_stun_parse(&req, rfc_request, sizeof(rfc_request)), 0);
  sin4(&a4, "203.0.113.77", 61000);
  n = sfu_stun_build_success(buf, sizeof(buf), &req, (struct sockaddr *)&a4, "secret", 6);
  assert_int_equal(n, 20 + 12 + 24 + 8);
  check_built_success(buf, n, &req, (struct sockaddr *)&a4, "secret");
  assert_memory_equal(buf, "\x01\x01\x00\x2c", 4);

  sin6(&a6, "fe80::1:2:3:4", 1);
  n = sfu_stun_build_success(buf, sizeof(buf), &req, (struct sockaddr *)&a6, "secret", 6);
  assert_int_equal(n, 20 + 24 + 24 + 8);
  check_built_success(buf, n, &req, (struct sockaddr *)&a6, "secret");

  /* bad family */
  a4.sin_family = AF_UNIX;
  assert_int_equal(sfu_stun_build_success(buf, sizeof(buf), &req, (struct sockaddr *)&a4, "k", 1), SFU_EINVAL);
}

static void test_build_error(void **state) {
  uint8_t buf[1024];
  char reason[800];
  sfu_stun_msg_t req, m;
  int n;

  assert_int_equal(sfu_stun_parse(&req, rfc_request, sizeof(rfc_request)), 0);
  n = sfu_stun_build_error(buf, sizeof(buf), &req, 401, "wrong authentication");
  assert_int_equal(n, 20 + 4 + 4 + 20 + 8);
  assert_int_equal(sfu_stun_parse(&m, buf, (size_t)n), 0);
  assert_int_equal(m.klass, SFU_STUN_ERROR_RESPONSE);
  assert_int_equal(m.method, SFU_STUN_METHOD_BINDING);
  assert_memory_equal(m.tid, rfc_tid, 12);
  assert_int_equal(m.error_code, 401);
  assert_int_equal(m.error_reason_len, 20);
  assert_memory_equal(m.error_reason, "wrong authentication", 20);
  assert_false(sfu_stun_has(&m, SFU_STUN_HAS_INTEGRITY));
  assert_true(sfu_stun_check_fingerprint(&m, buf, (size_t)n));
  assert_memory_equal(buf, "\x01\x11", 2);

  n = sfu_stun_build_error(buf, sizeof(buf), &req, 487, "x"); /* padding 3 */
  assert_int_equal(n, 20 + 4 + 8 + 8);
  assert_int_equal(sfu_stun_parse(&m, buf, (size_t)n), 0);
  assert_int_equal(m.error_code, 487);
  n = sfu_stun_build_error(buf, sizeof(buf), &req, 400, NULL);
  assert_int_equal(sfu_stun_parse(&m, buf, (size_t)n), 0);
  assert_int_equal(m.error_code, 400);
  assert_int_equal(m.error_reason_len, 0);

  assert_int_equal(sfu_stun_build_error(buf, sizeof(buf), &req, 299, "x"), SFU_EINVAL);
  assert_int_equal(sfu_stun_build_error(buf, sizeof(buf), &req, 700, "x"), SFU_EINVAL);
  memset(reason, 'r', sizeof(reason) - 1);
  reason[sizeof(reason) - 1] = '\0';
  assert_int_equal(sfu_stun_build_error(buf, sizeof(buf), &req, 400, reason), SFU_EINVAL);
  reason[SFU_STUN_REASON_MAX] = '\0';
  assert_true(sfu_stun_build_error(buf, sizeof(buf), &req, 400, reason) > 0);
}

/* Every buffer shorter than the message: SFU_ETOOBIG, nothing written past cap. */
static void test_build_too_small(void **state) {
  uint8_t buf[256];
  sfu_stun_msg_t req;
  struct sockaddr_in a4;
  struct sockaddr_in6 a6;
  size_t cap;
  int full4, full6, full_err;

  assert_int_equal(sfu_stun_parse(&req, rfc_request, sizeof(rfc_request)), 0);
  sin4(&a4, "10.0.0.1", 5000);
  sin6(&a6, "::1", 5000);
  full4 = sfu_stun_build_success(buf, sizeof(buf), &req, (struct sockaddr *)&a4, "pw", 2);
  full6 = sfu_stun_build_success(buf, sizeof(buf), &req, (struct sockaddr *)&a6, "pw", 2);
  full_err = sfu_stun_build_error(buf, sizeof(buf), &req, 400, "bad request");
  assert_int_equal(full4, 64);
  assert_int_equal(full6, 76);
  assert_int_equal(full_err, 20 + 4 + 4 + 12 + 8);

  for (cap = 0; cap <= (size_t)full6; cap++) {
    memset(buf, 0xEE, sizeof(buf));
    if (cap < (size_t)full4)
      assert_int_equal(sfu_stun_build_success(buf, cap, &req, (struct sockaddr *)&a4, "pw", 2), SFU_ETOOBIG);
    else if (cap == (size_t)full4)
      assert_int_equal(sfu_stun_build_success(buf, cap, &req, (struct sockaddr *)&a4, "pw", 2), full4);
    assert_int_equal(buf[cap], 0xEE);
    memset(buf, 0xEE, sizeof(buf));
    assert_int_equal(sfu_stun_build_success(buf, cap, &req, (struct sockaddr *)&a6, "pw", 2),
                     cap < (size_t)full6 ? SFU_ETOOBIG : full6);
    assert_int_equal(buf[cap], 0xEE);
    if (cap <= (size_t)full_err) {
      memset(buf, 0xEE, sizeof(buf));
      assert_int_equal(sfu_stun_build_error(buf, cap, &req, 400, "bad request"),
                       cap < (size_t)full_err ? SFU_ETOOBIG : full_err);
      assert_int_equal(buf[cap], 0xEE);
    }
  }
}

static void test_writer_rules(void **state) {
  uint8_t buf[256];
  sfu_stun_writer_t w;
  sfu_stun_msg_t m;
  int n;

  /* after FINGERPRINT nothing; after MESSAGE-INTEGRITY only FINGERPRINT */
  sfu_stun_writer_init(&w, buf, sizeof(buf), SFU_STUN_REQUEST, SFU_STUN_METHOD_BINDING, NULL);
  sfu_stun_writer_add_fingerprint(&w);
  sfu_stun_writer_add_u32(&w, SFU_STUN_ATTR_PRIORITY, 1);
  assert_int_equal(sfu_stun_writer_finish(&w), SFU_ESTATE);
  sfu_stun_writer_init(&w, buf, sizeof(buf), SFU_STUN_REQUEST, SFU_STUN_METHOD_BINDING, NULL);
  sfu_stun_writer_add_integrity(&w, "k", 1);
  sfu_stun_writer_add_integrity(&w, "k", 1);
  assert_int_equal(sfu_stun_writer_finish(&w), SFU_ESTATE);
  sfu_stun_writer_init(&w, buf, sizeof(buf), SFU_STUN_REQUEST, SFU_STUN_METHOD_BINDING, NULL);
  sfu_stun_writer_add_integrity(&w, "k", 1);
  sfu_stun_writer_add(&w, SFU_STUN_ATTR_USE_CANDIDATE, NULL, 0);
  assert_int_equal(sfu_stun_writer_finish(&w), SFU_ESTATE);

  /* bad arguments */
  sfu_stun_writer_init(&w, buf, sizeof(buf), SFU_STUN_REQUEST, 0x1000, NULL);
  assert_int_equal(sfu_stun_writer_finish(&w), SFU_EINVAL);
  sfu_stun_writer_init(&w, buf, sizeof(buf), SFU_STUN_REQUEST, 1, NULL);
  sfu_stun_writer_add(&w, 0x7000, NULL, 3);
  assert_int_equal(sfu_stun_writer_finish(&w), SFU_EINVAL);
  sfu_stun_writer_init(&w, buf, sizeof(buf), SFU_STUN_REQUEST, 1, NULL);
  sfu_stun_writer_add(&w, 0x7000, buf, 0x10000);
  assert_int_equal(sfu_stun_writer_finish(&w), SFU_EINVAL);

  /* a full ICE check, every class/method combination round-trips */
  sfu_stun_writer_init(&w, buf, sizeof(buf), SFU_STUN_INDICATION, 0x0BC, rfc_tid);
  sfu_stun_writer_add(&w, SFU_STUN_ATTR_USERNAME, "ufrag:peer", 10);
  sfu_stun_writer_add_u32(&w, SFU_STUN_ATTR_PRIORITY, 0xDEADBEEF);
  sfu_stun_writer_add_u64(&w, SFU_STUN_ATTR_ICE_CONTROLLING, 0x0102030405060708ull);
  sfu_stun_writer_add(&w, SFU_STUN_ATTR_USE_CANDIDATE, NULL, 0);
  sfu_stun_writer_add_u32(&w, SFU_STUN_ATTR_NOMINATION_OLD, 3);
  sfu_stun_writer_add_integrity(&w, "pwd", 3);
  sfu_stun_writer_add_fingerprint(&w);
  n = sfu_stun_writer_finish(&w);
  assert_true(n > 0);
  assert_int_equal(sfu_stun_parse(&m, buf, (size_t)n), 0);
  assert_int_equal(m.klass, SFU_STUN_INDICATION);
  assert_int_equal(m.method, 0x0BC);
  assert_int_equal(m.priority, 0xDEADBEEFu);
  assert_true(m.ice_controlling == 0x0102030405060708ull);
  assert_true(sfu_stun_has(&m, SFU_STUN_HAS_USE_CANDIDATE | SFU_STUN_HAS_NOMINATION_OLD));
  assert_int_equal(m.nomination, 3);
  assert_int_equal(sfu_stun_check_integrity(&m, buf, (size_t)n, "pwd", 3), 0);
  assert_true(sfu_stun_check_fingerprint(&m, buf, (size_t)n));

  /* random transaction ids differ */
  {
    uint8_t a[20], b[20];
    sfu_stun_writer_init(&w, a, sizeof(a), SFU_STUN_REQUEST, 1, NULL);
    assert_int_equal(sfu_stun_writer_finish(&w), 20);
    sfu_stun_writer_init(&w, b, sizeof(b), SFU_STUN_REQUEST, 1, NULL);
    assert_int_equal(sfu_stun_writer_finish(&w), 20);
    assert_memory_not_equal(a + 8, b + 8, 12);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc5769_request),
      cmocka_unit_test(test_rfc5769_responses),
      cmocka_unit_test(test_xor_mapped_matches_rfc),
      cmocka_unit_test(test_truncated_every_length),
      cmocka_unit_test(test_is_stun),
      cmocka_unit_test(test_header),
      cmocka_unit_test(test_attribute_lengths),
      cmocka_unit_test(test_attribute_overruns),
      cmocka_unit_test(test_padding),
      cmocka_unit_test(test_attribute_order_and_duplicates),
      cmocka_unit_test(test_error_code_and_ufrag),
      cmocka_unit_test(test_xor_mapped_bad_family),
      cmocka_unit_test(test_bit_flips),
      cmocka_unit_test(test_integrity_missing),
      cmocka_unit_test(test_crc32),
      cmocka_unit_test(test_integrity_vs_openssl),
      cmocka_unit_test(test_build_success),
      cmocka_unit_test(test_build_error),
      cmocka_unit_test(test_build_too_small),
      cmocka_unit_test(test_writer_rules),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
