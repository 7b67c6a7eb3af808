#include "sfu_srtp.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "sfu_error.h"

/* Replay window, as mediasoup's SrtpSession. */
#define SFU__SRTP_WINDOW 1024
/* Outbound: repeats are allowed anyway (allow_repeat_tx), so the window only
 * costs time per protect; libsrtp's minimum is 64. */
#define SFU__SRTP_WINDOW_OUT 64
#define SFU__RTP_HEADER_MIN 12
#define SFU__RTCP_HEADER_MIN 8
/* SRTCP's E flag + 31-bit index after the payload. */
#define SFU__SRTCP_INDEX_LEN 4

struct sfu_srtp {
  srtp_t session;
  sfu_srtp_direction_t dir;
  sfu_srtp_suite_t suite;
  size_t rtp_trailer;
  size_t rtcp_trailer;
  sfu_srtp_status_t last;
  sfu_srtp_stats_t stats;
};

typedef struct sfu__srtp_suite_info {
  const char *name;
  unsigned long dtls_profile; /* RFC 5764 / RFC 7714 DTLS-SRTP profile id */
  size_t key_len;
  size_t salt_len;
  size_t rtp_tag_len;
  size_t rtcp_tag_len;
} sfu__srtp_suite_info_t;

static const sfu__srtp_suite_info_t sfu__srtp_suites[SFU_SRTP_SUITE_COUNT] = {
    [SFU_SRTP_AEAD_AES_256_GCM] = {"AEAD_AES_256_GCM", 0x0008, 32, 12, 16, 16},
    [SFU_SRTP_AEAD_AES_128_GCM] = {"AEAD_AES_128_GCM", 0x0007, 16, 12, 16, 16},
    [SFU_SRTP_AES_CM_128_HMAC_SHA1_80] = {"AES_CM_128_HMAC_SHA1_80", 0x0001, 16, 14, 10, 10},
    /* SRTCP always uses the 80-bit tag (RFC 5764 4.1.2). */
    [SFU_SRTP_AES_CM_128_HMAC_SHA1_32] = {"AES_CM_128_HMAC_SHA1_32", 0x0002, 16, 14, 4, 10},
};

static const sfu__srtp_suite_info_t *sfu__srtp_info(sfu_srtp_suite_t suite) {
  return (unsigned)suite < SFU_SRTP_SUITE_COUNT ? &sfu__srtp_suites[suite] : NULL;
}

int sfu_srtp_init(void) {
  return srtp_init() == srtp_err_status_ok ? 0 : SFU_ECRYPTO;
}

void sfu_srtp_shutdown(void) {
  (void)srtp_shutdown();
}

size_t sfu_srtp_master_key_len(sfu_srtp_suite_t suite) {
  const sfu__srtp_suite_info_t *i = sfu__srtp_info(suite);
  return i != NULL ? i->key_len : 0;
}

size_t sfu_srtp_master_salt_len(sfu_srtp_suite_t suite) {
  const sfu__srtp_suite_info_t *i = sfu__srtp_info(suite);
  return i != NULL ? i->salt_len : 0;
}

size_t sfu_srtp_key_len(sfu_srtp_suite_t suite) {
  const sfu__srtp_suite_info_t *i = sfu__srtp_info(suite);
  return i != NULL ? i->key_len + i->salt_len : 0;
}

size_t sfu_srtp_rtp_trailer_len(sfu_srtp_suite_t suite) {
  const sfu__srtp_suite_info_t *i = sfu__srtp_info(suite);
  return i != NULL ? i->rtp_tag_len : 0;
}

size_t sfu_srtp_rtcp_trailer_len(sfu_srtp_suite_t suite) {
  const sfu__srtp_suite_info_t *i = sfu__srtp_info(suite);
  return i != NULL ? i->rtcp_tag_len + SFU__SRTCP_INDEX_LEN : 0;
}

const char *sfu_srtp_suite_name(sfu_srtp_suite_t suite) {
  const sfu__srtp_suite_info_t *i = sfu__srtp_info(suite);
  return i != NULL ? i->name : "unknown";
}

int sfu_srtp_suite_from_dtls_profile(unsigned long profile_id, sfu_srtp_suite_t *out) {
  for (int s = 0; s < SFU_SRTP_SUITE_COUNT; s++) {
    if (sfu__srtp_suites[s].dtls_profile == profile_id) {
      *out = (sfu_srtp_suite_t)s;
      return 0;
    }
  }
  return SFU_ENOTSUP;
}

const char *sfu_srtp_status_name(sfu_srtp_status_t st) {
  switch (st) {
    case SFU_SRTP_OK:
      return "ok";
    case SFU_SRTP_AUTH_FAIL:
      return "authentication failure";
    case SFU_SRTP_REPLAY:
      return "replayed or too old";
    case SFU_SRTP_MALFORMED:
      return "malformed packet";
    case SFU_SRTP_NO_ROOM:
      return "no room for the trailer";
    case SFU_SRTP_WRONG_DIRECTION:
      return "wrong direction";
    case SFU_SRTP_OTHER:
      break;
  }
  return "libsrtp error";
}

int sfu_srtp_create(sfu_srtp_t **out, sfu_srtp_direction_t dir, sfu_srtp_suite_t suite, const uint8_t *key,
                    size_t key_len) {
  const sfu__srtp_suite_info_t *info = sfu__srtp_info(suite);
  unsigned char master[64];
  srtp_policy_t policy;
  sfu_srtp_t *s;

  if (info == NULL || (dir != SFU_SRTP_INBOUND && dir != SFU_SRTP_OUTBOUND) || key == NULL ||
      key_len != info->key_len + info->salt_len || key_len > sizeof(master))
    return SFU_EINVAL;

  memset(&policy, 0, sizeof(policy));
  switch (suite) {
    case SFU_SRTP_AEAD_AES_256_GCM:
      srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtcp);
      break;
    case SFU_SRTP_AEAD_AES_128_GCM:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
      break;
    case SFU_SRTP_AES_CM_128_HMAC_SHA1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      break;
    case SFU_SRTP_AES_CM_128_HMAC_SHA1_32:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      break;
    default:
      return SFU_EINVAL;
  }
  if ((size_t)policy.rtp.cipher_key_len != key_len) return SFU_EINVAL;

  if ((s = calloc(1, sizeof(*s))) == NULL) return SFU_ENOMEM;
  s->dir = dir;
  s->suite = suite;
  s->rtp_trailer = info->rtp_tag_len;
  s->rtcp_trailer = info->rtcp_tag_len + SFU__SRTCP_INDEX_LEN;

  /* libsrtp copies the key into the session's cipher contexts. */
  memcpy(master, key, key_len);
  policy.ssrc.type = dir == SFU_SRTP_OUTBOUND ? ssrc_any_outbound : ssrc_any_inbound;
  policy.ssrc.value = 0;
  policy.key = master;
  policy.window_size = dir == SFU_SRTP_OUTBOUND ? SFU__SRTP_WINDOW_OUT : SFU__SRTP_WINDOW;
  /* Retransmissions without RTX resend the same sequence number. */
  policy.allow_repeat_tx = 1;
  policy.next = NULL;
  srtp_err_status_t err = srtp_create(&s->session, &policy);
  memset(master, 0, sizeof(master));
  if (err != srtp_err_status_ok) {
    free(s);
    return err == srtp_err_status_alloc_fail ? SFU_ENOMEM : SFU_ECRYPTO;
  }
  *out = s;
  return 0;
}

void sfu_srtp_destroy(sfu_srtp_t *s) {
  if (s == NULL) return;
  if (s->session != NULL) (void)srtp_dealloc(s->session);
  free(s);
}

sfu_srtp_status_t sfu_srtp_last_status(const sfu_srtp_t *s) {
  return s->last;
}

const sfu_srtp_stats_t *sfu_srtp_stats(const sfu_srtp_t *s) {
  return &s->stats;
}

sfu_srtp_suite_t sfu_srtp_suite(const sfu_srtp_t *s) {
  return s->suite;
}

static int sfu__srtp_result(sfu_srtp_t *s, sfu_srtp_status_t st) {
  s->last = st;
  switch (st) {
    case SFU_SRTP_OK:
      s->stats.ok++;
      return 0;
    case SFU_SRTP_AUTH_FAIL:
      s->stats.auth_fail++;
      return SFU_EPROTO;
    case SFU_SRTP_REPLAY:
      s->stats.replay++;
      return SFU_EPROTO;
    case SFU_SRTP_MALFORMED:
      s->stats.malformed++;
      return SFU_EPROTO;
    case SFU_SRTP_NO_ROOM:
      s->stats.other++;
      return SFU_ETOOBIG;
    case SFU_SRTP_WRONG_DIRECTION:
      s->stats.other++;
      return SFU_ESTATE;
    case SFU_SRTP_OTHER:
      break;
  }
  s->stats.other++;
  return SFU_EPROTO;
}

static sfu_srtp_status_t sfu__srtp_map(srtp_err_status_t err) {
  switch (err) {
    case srtp_err_status_ok:
      return SFU_SRTP_OK;
    case srtp_err_status_auth_fail:
      return SFU_SRTP_AUTH_FAIL;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
    case srtp_err_status_pkt_idx_old:
      return SFU_SRTP_REPLAY;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
      return SFU_SRTP_MALFORMED;
    default:
      return SFU_SRTP_OTHER;
  }
}

/* Fixed header, CSRCs and the header extension fit in len (RFC 3550 5.1, 5.3.1). */
static bool sfu__rtp_header_ok(const uint8_t *p, size_t len) {
  size_t hdr;
  if (len < SFU__RTP_HEADER_MIN || (p[0] >> 6) != 2) return false;
  hdr = SFU__RTP_HEADER_MIN + 4u * (p[0] & 0x0fu);
  if (hdr > len) return false;
  if ((p[0] & 0x10u) != 0) {
    if (hdr + 4 > len) return false;
    hdr += 4 + 4u * (((size_t)p[hdr + 2] << 8) | p[hdr + 3]);
    if (hdr > len) return false;
  }
  return true;
}

static bool sfu__rtcp_header_ok(const uint8_t *p, size_t len) {
  return len >= SFU__RTCP_HEADER_MIN && (p[0] >> 6) == 2;
}

int sfu_srtp_protect_rtp(sfu_srtp_t *s, uint8_t *buf, size_t *len, size_t cap) {
  int n;
  if (s->dir != SFU_SRTP_OUTBOUND) return sfu__srtp_result(s, SFU_SRTP_WRONG_DIRECTION);
  if (!sfu__rtp_header_ok(buf, *len)) return sfu__srtp_result(s, SFU_SRTP_MALFORMED);
  if (cap < *len || cap - *len < s->rtp_trailer || *len > (size_t)INT_MAX - SFU_SRTP_MAX_TRAILER)
    return sfu__srtp_result(s, SFU_SRTP_NO_ROOM);
  n = (int)*len;
  sfu_srtp_status_t st = sfu__srtp_map(srtp_protect(s->session, buf, &n));
  if (st == SFU_SRTP_OK) *len = (size_t)n;
  return sfu__srtp_result(s, st);
}

int sfu_srtp_unprotect_rtp(sfu_srtp_t *s, uint8_t *buf, size_t *len) {
  int n;
  if (s->dir != SFU_SRTP_INBOUND) return sfu__srtp_result(s, SFU_SRTP_WRONG_DIRECTION);
  if (!sfu__rtp_header_ok(buf, *len) || *len > (size_t)INT_MAX) return sfu__srtp_result(s, SFU_SRTP_MALFORMED);
  n = (int)*len;
  sfu_srtp_status_t st = sfu__srtp_map(srtp_unprotect(s->session, buf, &n));
  if (st == SFU_SRTP_OK) *len = (size_t)n;
  return sfu__srtp_result(s, st);
}

int sfu_srtp_protect_rtcp(sfu_srtp_t *s, uint8_t *buf, size_t *len, size_t cap) {
  int n;
  if (s->dir != SFU_SRTP_OUTBOUND) return sfu__srtp_result(s, SFU_SRTP_WRONG_DIRECTION);
  if (!sfu__rtcp_header_ok(buf, *len)) return sfu__srtp_result(s, SFU_SRTP_MALFORMED);
  if (cap < *len || cap - *len < s->rtcp_trailer || *len > (size_t)INT_MAX - SFU_SRTP_MAX_TRAILER)
    return sfu__srtp_result(s, SFU_SRTP_NO_ROOM);
  n = (int)*len;
  sfu_srtp_status_t st = sfu__srtp_map(srtp_protect_rtcp(s->session, buf, &n));
  if (st == SFU_SRTP_OK) *len = (size_t)n;
  return sfu__srtp_result(s, st);
}

int sfu_srtp_unprotect_rtcp(sfu_srtp_t *s, uint8_t *buf, size_t *len) {
  int n;
  if (s->dir != SFU_SRTP_INBOUND) return sfu__srtp_result(s, SFU_SRTP_WRONG_DIRECTION);
  if (!sfu__rtcp_header_ok(buf, *len) || *len > (size_t)INT_MAX) return sfu__srtp_result(s, SFU_SRTP_MALFORMED);
  n = (int)*len;
  sfu_srtp_status_t st = sfu__srtp_map(srtp_unprotect_rtcp(s->session, buf, &n));
  if (st == SFU_SRTP_OK) *len = (size_t)n;
  return sfu__srtp_result(s, st);
}
