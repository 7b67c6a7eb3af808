/*
 * libFuzzer target for worker/src/ice: the STUN parser and checks, the
 * writer, and the ICE-lite server fed by packets from a few tuples.
 *
 *   make build/fuzz/fuzz_stun && ./build/fuzz/fuzz_stun tests/fuzz/seeds/fuzz_stun
 *
 * Input: in[0] & 1 selects the mode.
 *
 * Mode 0 (parser), bytes in[1..] are one message:
 *   parse; if it parses, every view lies inside the message, FINGERPRINT and
 *   MESSAGE-INTEGRITY checks run (key "fuzz-password"), XOR-MAPPED-ADDRESS
 *   decodes, and for a request the success and error responses built from it
 *   parse back and verify. The same bytes are also parsed at every length
 *   (must never crash).
 *
 * Mode 1 (ICE server, credentials "fuzz" / "fuzz-password-fuzz-password-123"):
 * a sequence of operations until the input ends. Each starts with a byte
 * op: low nibble = tuple (of 12: UDP IPv4, UDP IPv6, TCP), high nibble = kind:
 *   0     raw packet: len = next byte (0..255), then len bytes
 *   1,2   signed Binding request: flags byte, nomination byte, alen byte,
 *         alen attribute bytes (inserted as is, may be malformed); the harness
 *         adds USERNAME (current/old/input/none), PRIORITY, USE-CANDIDATE,
 *         NOMINATION, ICE-CONTROLLED/-CONTROLLING as the flags say, then
 *         MESSAGE-INTEGRITY (current/old/wrong password) and FINGERPRINT
 *   3     remove the tuple
 *   4     restart ICE (deterministic new credentials)
 *   5     consent expiry
 *   6     may-force-selected on the tuple
 *   7     close the server from the next callback (then recreate it)
 *   8..15 like 1 (signed requests are the interesting ones)
 * After every operation the server's invariants are checked: at most 8
 * tuples, the selected tuple is stored, NEW/DISCONNECTED have no selected
 * tuple and CONNECTED/COMPLETED have one, tuples added minus removed equals
 * the count; every response sent parses, has a valid FINGERPRINT, and a
 * success response verifies with the password of the request's ufrag.
 *
 * Seeds (tests/fuzz/seeds/fuzz_stun/, made once with a few lines of Python's
 * hmac/zlib): p_* are mode 0 (the RFC 5769 request and responses, a
 * Chrome-like check with USE-CANDIDATE, a NOMINATION check, an error
 * response); s_* are mode 1 walks (connect/complete/restart/old and new
 * credentials/401/487/400/consent/close-from-callback, eviction over 12
 * tuples, raw signed packets, attributes from the input).
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_ctx.h"
#include "sfu_error.h"
#include "sfu_ice_server.h"
#include "sfu_stun.h"

#define CHECK(x)          \
  do {                    \
    if (!(x)) {           \
      fprintf(stderr, "CHECK failed: %s (line %d)\n", #x, __LINE__); \
      __builtin_trap();   \
    }                     \
  } while (0)

#define KEY "fuzz-password"
#define NTUPLES 12

/* ---- mode 0 ---- */

static void fuzz_parser(const uint8_t *p, size_t len) {
  sfu_stun_msg_t m;
  struct sockaddr_storage ss;
  const uint8_t *uf;
  size_t uf_len, n;

  for (n = 0; n < len && n < 64; n++) (void)sfu_stun_parse(&m, p, n);
  if (sfu_stun_parse(&m, p, len) != 0) return;

  CHECK(len >= SFU_STUN_HEADER_LEN && (len & 3) == 0 && m.length == len - SFU_STUN_HEADER_LEN);
  CHECK((unsigned)m.klass <= 3 && m.method <= 0x0FF);
  if (m.has & SFU_STUN_HAS_USERNAME)
    CHECK(m.username >= p && m.username + m.username_len <= p + len && m.username_len <= SFU_STUN_USERNAME_MAX);
  if (m.has & SFU_STUN_HAS_SOFTWARE) CHECK(m.software >= p && m.software + m.software_len <= p + len);
  if (m.has & SFU_STUN_HAS_ERROR_CODE)
    CHECK(m.error_reason >= p && m.error_reason + m.error_reason_len <= p + len && m.error_code <= 955);
  if (m.has & SFU_STUN_HAS_XOR_MAPPED_ADDRESS)
    CHECK(m.xor_mapped >= p && m.xor_mapped + m.xor_mapped_len <= p + len);
  if (m.has & SFU_STUN_HAS_INTEGRITY) {
    CHECK(m.integrity_offset >= SFU_STUN_HEADER_LEN && m.integrity_offset + 24 <= len);
    CHECK(m.integrity == p + m.integrity_offset + 4);
    /* only FINGERPRINT may follow */
    CHECK(m.integrity_offset + 24 == len ||
          ((m.has & SFU_STUN_HAS_FINGERPRINT) && m.fingerprint_offset == m.integrity_offset + 24));
  }
  if (m.has & SFU_STUN_HAS_FINGERPRINT) CHECK(m.fingerprint_offset + 8 == len);

  (void)sfu_stun_check_fingerprint(&m, p, len);
  {
    int r = sfu_stun_check_integrity(&m, p, len, KEY, strlen(KEY));
    CHECK(r == 0 || r == SFU_EPROTO || r == SFU_ENOTFOUND);
    CHECK((r == SFU_ENOTFOUND) == !(m.has & SFU_STUN_HAS_INTEGRITY));
  }
  {
    int r = sfu_stun_xor_mapped_address(&m, &ss);
    CHECK(r == 0 || r == SFU_EPROTO || r == SFU_ENOTFOUND);
    if (r == 0) CHECK(ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
  }
  if (sfu_stun_local_ufrag(&m, &uf, &uf_len) == 0) CHECK(uf_len <= m.username_len && memchr(uf, ':', uf_len) == NULL);

  if (m.klass == SFU_STUN_REQUEST) {
    uint8_t out[1024];
    struct sockaddr_in6 a6;
    sfu_stun_msg_t r;
    int rn;

    memset(&a6, 0, sizeof(a6));
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(4242);
    memcpy(&a6.sin6_addr, p + 4, 16); /* whatever the input holds */
    rn = sfu_stun_build_success(out, sizeof(out), &m, (struct sockaddr *)&a6, KEY, strlen(KEY));
    if (m.method <= 0x0FF) { /* the parser's demux rule caps the method */
      CHECK(rn > 0);
      CHECK(sfu_stun_parse(&r, out, (size_t)rn) == 0);
      CHECK(r.klass == SFU_STUN_SUCCESS_RESPONSE && r.method == m.method && memcmp(r.tid, m.tid, 12) == 0);
      CHECK(sfu_stun_check_fingerprint(&r, out, (size_t)rn));
      CHECK(sfu_stun_check_integrity(&r, out, (size_t)rn, KEY, strlen(KEY)) == 0);
      CHECK(sfu_stun_xor_mapped_address(&r, &ss) == 0 && memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr, p + 4, 16) == 0);
      rn = sfu_stun_build_error(out, sizeof(out), &m, 400 + (uint16_t)(p[len - 1] % 100), "fuzz");
      CHECK(rn > 0);
      CHECK(sfu_stun_parse(&r, out, (size_t)rn) == 0 && sfu_stun_check_fingerprint(&r, out, (size_t)rn));
      CHECK(r.error_code == 400 + p[len - 1] % 100);
    }
  }
}

/* ---- mode 1 ---- */

typedef struct harness {
  int inited;
  uv_loop_t loop;
  sfu_settings_t settings;
  sfu_ctx_t ctx;
  sfu_tuple_t tuples[NTUPLES];
  int socks[NTUPLES];
  sfu_ice_server_t *srv;
  long added, removed;
  int close_next; /* close from the next callback */
  int restarts;
  /* credentials of the request being processed, for checking the response */
  const char *expect_pwd;
  size_t expect_pwd_len;
} harness_t;

static harness_t H;

static void maybe_close(sfu_ice_server_t *srv) {
  if (H.close_next && H.srv == srv) {
    H.close_next = 0;
    sfu_ice_server_close(srv, NULL);
    H.srv = NULL;
  }
}

static void h_send(sfu_ice_server_t *srv, const sfu_tuple_t *t, const uint8_t *p, size_t len) {
  sfu_stun_msg_t m;
  CHECK(sfu_stun_parse(&m, p, len) == 0);
  CHECK(sfu_stun_check_fingerprint(&m, p, len));
  CHECK(m.klass == SFU_STUN_SUCCESS_RESPONSE || m.klass == SFU_STUN_ERROR_RESPONSE);
  if (m.klass == SFU_STUN_SUCCESS_RESPONSE) {
    struct sockaddr_storage ss;
    /* signed with our password, or the old one while it is still accepted */
    CHECK(sfu_stun_check_integrity(&m, p, len, srv->pwd, srv->pwd_len) == 0 ||
          (srv->old_pwd_len > 0 && sfu_stun_check_integrity(&m, p, len, srv->old_pwd, srv->old_pwd_len) == 0));
    /* and, for the harness' own requests, with the one the request used */
    if (H.expect_pwd != NULL) CHECK(sfu_stun_check_integrity(&m, p, len, H.expect_pwd, H.expect_pwd_len) == 0);
    CHECK(sfu_stun_xor_mapped_address(&m, &ss) == 0);
    CHECK(sfu_sockaddr_equal((struct sockaddr *)&ss, (const struct sockaddr *)&t->remote));
  } else {
    CHECK(m.error_code == 400 || m.error_code == 401 || m.error_code == 487);
  }
  maybe_close(srv);
}

static void h_added(sfu_ice_server_t *srv, const sfu_tuple_t *t) {
  H.added++;
  maybe_close(srv);
}

static void h_removed(sfu_ice_server_t *srv, const sfu_tuple_t *t) {
  H.removed++;
  sfu_ice_server_remove_tuple(srv, t); /* re-entry: ignored */
  maybe_close(srv);
}

static void h_selected(sfu_ice_server_t *srv, const sfu_tuple_t *t) {
  CHECK(sfu_ice_server_selected_tuple(srv) == t);
  CHECK(sfu_ice_server_is_valid_tuple(srv, t));
  maybe_close(srv);
}

static void h_state(sfu_ice_server_t *srv, sfu_ice_state_t s) {
  CHECK(s == SFU_ICE_CONNECTED || s == SFU_ICE_COMPLETED || s == SFU_ICE_DISCONNECTED);
  maybe_close(srv);
}

static const sfu_ice_server_callbacks_t h_callbacks = {
    .send = h_send,
    .on_tuple_added = h_added,
    .on_tuple_removed = h_removed,
    .on_selected_tuple = h_selected,
    .on_state = h_state,
};

static void h_init(void) {
  int i;
  if (H.inited) return;
  H.inited = 1;
  CHECK(uv_loop_init(&H.loop) == 0);
  sfu_settings_init(&H.settings);
  H.settings.log_level = SFU_LOG_LEVEL_NONE;
  CHECK(sfu_ctx_init(&H.ctx, &H.loop, &H.settings) == 0);
  for (i = 0; i < NTUPLES; i++) {
    sfu_tuple_t *t = &H.tuples[i];
    memset(t, 0, sizeof(*t));
    if (i < 5) {
      struct sockaddr_in *a = (struct sockaddr_in *)&t->remote;
      t->proto = SFU_PROTO_UDP;
      t->sock = &H.socks[0];
      a->sin_family = AF_INET;
      a->sin_port = htons((uint16_t)(5000 + i));
      a->sin_addr.s_addr = htonl(0x0A000001u + (uint32_t)i);
    } else if (i < 9) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&t->remote;
      t->proto = SFU_PROTO_UDP;
      t->sock = &H.socks[1];
      a->sin6_family = AF_INET6;
      a->sin6_port = htons((uint16_t)(6000 + i));
      a->sin6_addr.s6_addr[0] = 0xfe;
      a->sin6_addr.s6_addr[15] = (uint8_t)i;
    } else {
      struct sockaddr_in *a = (struct sockaddr_in *)&t->remote;
      t->proto = SFU_PROTO_TCP;
      t->sock = &H.socks[i];
      a->sin_family = AF_INET;
      a->sin_port = htons(7000);
      a->sin_addr.s_addr = htonl(0xC0A80001u);
    }
  }
}

static void h_create(void) {
  static const char pwd[] = "fuzz-password-fuzz-password-123";
  sfu_ice_server_options_t o = {.ufrag = "fuzz", .ufrag_len = 4, .pwd = pwd, .pwd_len = sizeof(pwd) - 1,
                                .consent_timeout_sec = 30};
  CHECK(sfu_ice_server_create(&H.ctx, &o, &h_callbacks, NULL, &H.srv) == 0);
  H.added = H.removed = 0;
  H.restarts = 0;
}

static void h_invariants(void) {
  const sfu_ice_server_t *s = H.srv;
  const sfu_tuple_t *sel;
  size_t i, used = 0;
  if (s == NULL) return;
  for (i = 0; i < SFU_ICE_MAX_TUPLES + 1; i++) used += s->slots[i].used ? 1 : 0;
  CHECK(used == s->tuple_count && s->tuple_count <= SFU_ICE_MAX_TUPLES);
  CHECK(H.added - H.removed == (long)s->tuple_count);
  sel = sfu_ice_server_selected_tuple(s);
  switch (sfu_ice_server_state(s)) {
    case SFU_ICE_NEW:
    case SFU_ICE_DISCONNECTED:
      CHECK(sel == NULL);
      break;
    case SFU_ICE_CONNECTED:
    case SFU_ICE_COMPLETED:
      CHECK(sel != NULL && s->selected->used && sfu_ice_server_is_valid_tuple(s, sel));
      break;
    default:
      CHECK(0);
  }
  CHECK(sfu_ice_server_role(s) == SFU_ICE_CONTROLLED);
}

typedef struct reader {
  const uint8_t *p;
  size_t len, off;
} reader_t;

static int rd(reader_t *r, uint8_t *b) {
  if (r->off >= r->len) return 0;
  *b = r->p[r->off++];
  return 1;
}

static void h_signed_request(reader_t *r, const sfu_tuple_t *t) {
  uint8_t flags = 0, nom = 0, alen = 0, buf[1024];
  const uint8_t *attrs;
  const char *user_ufrag = NULL, *pwd;
  size_t ufrag_len = 0, pwd_len;
  char username[300];
  sfu_stun_writer_t w;
  int n;

  (void)rd(r, &flags);
  (void)rd(r, &nom);
  (void)rd(r, &alen);
  if (r->len - r->off < alen) alen = (uint8_t)(r->len - r->off);
  attrs = r->p + r->off;
  r->off += alen;

  sfu_stun_writer_init(&w, buf, sizeof(buf), (flags & 0x80) ? SFU_STUN_INDICATION : SFU_STUN_REQUEST,
                       SFU_STUN_METHOD_BINDING, alen >= 12 ? attrs + alen - 12 : (const uint8_t *)"fuzzfuzzfuzz");
  /* USERNAME: 0 current ufrag, 1 old ufrag (or current), 2 none, 3 the raw attribute bytes */
  switch (flags & 3) {
    case 0:
      user_ufrag = H.srv->ufrag;
      ufrag_len = H.srv->ufrag_len;
      break;
    case 1:
      user_ufrag = H.srv->old_ufrag_len ? H.srv->old_ufrag : H.srv->ufrag;
      ufrag_len = H.srv->old_ufrag_len ? H.srv->old_ufrag_len : H.srv->ufrag_len;
      break;
    default:
      break;
  }
  if (user_ufrag != NULL) {
    memcpy(username, user_ufrag, ufrag_len);
    memcpy(username + ufrag_len, ":remote", 7);
    sfu_stun_writer_add(&w, SFU_STUN_ATTR_USERNAME, username, ufrag_len + 7);
  } else if ((flags & 3) == 3) {
    sfu_stun_writer_add(&w, SFU_STUN_ATTR_USERNAME, attrs, alen);
  }
  if (!(flags & 0x04)) sfu_stun_writer_add_u32(&w, SFU_STUN_ATTR_PRIORITY, 0x7e7f00ff);
  if (flags & 0x08) sfu_stun_writer_add(&w, SFU_STUN_ATTR_USE_CANDIDATE, NULL, 0);
  if (flags & 0x10) sfu_stun_writer_add_u32(&w, (nom & 0x80) ? SFU_STUN_ATTR_NOMINATION_OLD : SFU_STUN_ATTR_NOMINATION,
                                            nom & 0x7F);
  if (flags & 0x20) sfu_stun_writer_add_u64(&w, (nom & 0x40) ? SFU_STUN_ATTR_ICE_CONTROLLED : SFU_STUN_ATTR_ICE_CONTROLLING,
                                            0x0123456789abcdefull);
  /* raw attribute bytes, 4-aligned so the length field stays consistent (may still be garbage) */
  if ((flags & 3) != 3 && alen >= 4) {
    size_t l = alen & ~(size_t)3;
    if (w.err == 0 && w.cap - w.len >= l) {
      memcpy(buf + w.len, attrs, l);
      w.len += l;
      buf[2] = (uint8_t)((w.len - 20) >> 8);
      buf[3] = (uint8_t)(w.len - 20);
    }
  }
  /* MESSAGE-INTEGRITY: the password that goes with the USERNAME, or a wrong one */
  if ((flags & 1) && H.srv->old_ufrag_len) {
    pwd = H.srv->old_pwd;
    pwd_len = H.srv->old_pwd_len;
  } else {
    pwd = H.srv->pwd;
    pwd_len = H.srv->pwd_len;
  }
  if (flags & 0x40) {
    pwd = "wrong";
    pwd_len = 5;
  }
  if (!((flags & 0x44) == 0x44)) sfu_stun_writer_add_integrity(&w, pwd, pwd_len);
  sfu_stun_writer_add_fingerprint(&w);
  n = sfu_stun_writer_finish(&w);
  if (n < 0) return;

  /* the success response must be signed with the password that matched */
  H.expect_pwd_len = pwd_len;
  {
    /* copy: a callback may close the server, and pwd points into it */
    char pwd_copy[SFU_ICE_CRED_MAX + 1];
    memcpy(pwd_copy, pwd, pwd_len);
    H.expect_pwd = pwd_copy;
    (void)sfu_ice_server_process(H.srv, t, buf, (size_t)n);
    H.expect_pwd = NULL;
  }
}

static void fuzz_server(const uint8_t *p, size_t len) {
  reader_t r = {p, len, 0};
  uint8_t op;

  h_init();
  h_create();
  H.close_next = 0;

  while (rd(&r, &op)) {
    const sfu_tuple_t *t = &H.tuples[(op & 0x0F) % NTUPLES];
    if (H.srv == NULL) h_create();
    switch (op >> 4) {
      case 0: {
        uint8_t l = 0;
        (void)rd(&r, &l);
        if (r.len - r.off < l) l = (uint8_t)(r.len - r.off);
        H.expect_pwd = NULL;
        (void)sfu_ice_server_process(H.srv, t, r.p + r.off, l);
        r.off += l;
        break;
      }
      case 3:
        sfu_ice_server_remove_tuple(H.srv, t);
        break;
      case 4: {
        char u[16], pw[40];
        H.restarts++;
        snprintf(u, sizeof(u), "fz%d", H.restarts);
        snprintf(pw, sizeof(pw), "restart-password-%d-xxxxxxxxxx", H.restarts);
        CHECK(sfu_ice_server_restart(H.srv, u, strlen(u), pw, strlen(pw)) == 0);
        break;
      }
      case 5:
        sfu__ice_server_consent_expired(H.srv);
        break;
      case 6:
        sfu_ice_server_may_force_selected_tuple(H.srv, t);
        break;
      case 7:
        H.close_next = 1;
        break;
      default:
        h_signed_request(&r, t);
        break;
    }
    h_invariants();
  }

  if (H.srv != NULL) {
    sfu_ice_server_close(H.srv, NULL);
    H.srv = NULL;
  }
  while (uv_run(&H.loop, UV_RUN_NOWAIT) != 0) {
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if ((data[0] & 1) == 0)
    fuzz_parser(data + 1, size - 1);
  else
    fuzz_server(data + 1, size - 1);
  return 0;
}
