/* One SRTP/SRTCP session in one direction over libsrtp2 (built with
 * OpenSSL): an outbound session protects every SSRC it is given (libsrtp's
 * ssrc_any_outbound template), an inbound session unprotects every SSRC
 * (ssrc_any_inbound) with replay protection (a 1024-packet window, as
 * mediasoup's SrtpSession). Packets are processed in place. */
#ifndef SFU_SRTP_H
#define SFU_SRTP_H

#include <stddef.h>
#include <stdint.h>

/* Same values as FBS.SrtpParameters.SrtpCryptoSuite. */
typedef enum sfu_srtp_suite {
  SFU_SRTP_AEAD_AES_256_GCM = 0,
  SFU_SRTP_AEAD_AES_128_GCM = 1,
  SFU_SRTP_AES_CM_128_HMAC_SHA1_80 = 2,
  SFU_SRTP_AES_CM_128_HMAC_SHA1_32 = 3,
  SFU_SRTP_SUITE_COUNT
} sfu_srtp_suite_t;

typedef enum sfu_srtp_direction {
  SFU_SRTP_INBOUND = 0, /* unprotect_rtp / unprotect_rtcp */
  SFU_SRTP_OUTBOUND = 1 /* protect_rtp / protect_rtcp */
} sfu_srtp_direction_t;

/* Why the last call on a session failed (sfu_srtp_last_status). */
typedef enum sfu_srtp_status {
  SFU_SRTP_OK = 0,
  SFU_SRTP_AUTH_FAIL, /* tag did not verify: tampered, wrong key */
  SFU_SRTP_REPLAY,    /* seen before, or older than the replay window */
  SFU_SRTP_MALFORMED, /* too short, not version 2, bad header lengths */
  SFU_SRTP_NO_ROOM,   /* cap leaves no room for the trailer */
  SFU_SRTP_WRONG_DIRECTION,
  SFU_SRTP_OTHER /* any other libsrtp error */
} sfu_srtp_status_t;

/* Most bytes protect_* adds to a packet: the SRTCP index (4) + a 16-byte GCM tag. */
#define SFU_SRTP_MAX_TRAILER 20

typedef struct sfu_srtp sfu_srtp_t;

typedef struct sfu_srtp_stats {
  uint64_t ok;
  uint64_t auth_fail;
  uint64_t replay;
  uint64_t malformed;
  uint64_t other; /* no room, wrong direction, other libsrtp errors */
} sfu_srtp_stats_t;

/* Process-wide libsrtp setup, once from main(). 0 or SFU_ECRYPTO. */
int sfu_srtp_init(void);
void sfu_srtp_shutdown(void);

/* Master key + master salt length for a suite (what create() takes): 44, 28,
 * 30, 30; 0 for an unknown suite. */
size_t sfu_srtp_key_len(sfu_srtp_suite_t suite);
size_t sfu_srtp_master_key_len(sfu_srtp_suite_t suite);
size_t sfu_srtp_master_salt_len(sfu_srtp_suite_t suite);
/* Bytes protect_rtp / protect_rtcp add for a suite; 0 for an unknown suite. */
size_t sfu_srtp_rtp_trailer_len(sfu_srtp_suite_t suite);
size_t sfu_srtp_rtcp_trailer_len(sfu_srtp_suite_t suite);
/* "AEAD_AES_256_GCM", ... (the FBS names); "unknown" otherwise. */
const char *sfu_srtp_suite_name(sfu_srtp_suite_t suite);
/* DTLS-SRTP protection profile id (RFC 5764, RFC 7714: 0x0001, 0x0002, 0x0007,
 * 0x0008) to suite: 0 or SFU_ENOTSUP. */
int sfu_srtp_suite_from_dtls_profile(unsigned long profile_id, sfu_srtp_suite_t *out);
const char *sfu_srtp_status_name(sfu_srtp_status_t st);

/* 0, SFU_EINVAL (unknown suite or direction, key_len != sfu_srtp_key_len(suite)),
 * SFU_ENOMEM, SFU_ECRYPTO (libsrtp refused the policy). The key is copied. */
int sfu_srtp_create(sfu_srtp_t **out, sfu_srtp_direction_t dir, sfu_srtp_suite_t suite, const uint8_t *key,
                    size_t key_len);
void sfu_srtp_destroy(sfu_srtp_t *s);

/* In place. *len is the packet length in and out; cap is the size of buf and
 * must be at least *len + the suite's trailer length. 0, or on failure (buf
 * then holds garbage for unprotect, the packet unchanged for protect):
 * SFU_ETOOBIG (cap too small), SFU_ESTATE (wrong direction), SFU_EPROTO
 * (malformed, authentication or replay failure: sfu_srtp_last_status() says
 * which). */
int sfu_srtp_protect_rtp(sfu_srtp_t *s, uint8_t *buf, size_t *len, size_t cap);
int sfu_srtp_unprotect_rtp(sfu_srtp_t *s, uint8_t *buf, size_t *len);
int sfu_srtp_protect_rtcp(sfu_srtp_t *s, uint8_t *buf, size_t *len, size_t cap);
int sfu_srtp_unprotect_rtcp(sfu_srtp_t *s, uint8_t *buf, size_t *len);

sfu_srtp_status_t sfu_srtp_last_status(const sfu_srtp_t *s);
const sfu_srtp_stats_t *sfu_srtp_stats(const sfu_srtp_t *s);
sfu_srtp_suite_t sfu_srtp_suite(const sfu_srtp_t *s);

#endif
