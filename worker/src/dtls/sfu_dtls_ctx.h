/* The worker's DTLS context: one OpenSSL SSL_CTX built from the worker's
 * certificate (DTLS 1.2 only, ECDHE, mediasoup's cipher list, use_srtp with
 * the four SRTP profiles, any peer certificate accepted: the fingerprint is
 * checked after the handshake), the timing options every sfu_dtls_t of the
 * worker shares, and two scratch buffers (SSL_read output, one outgoing
 * datagram). Lives as long as the worker; destroy it after every sfu_dtls_t
 * made from it was reaped. */
#ifndef SFU_DTLS_CTX_H
#define SFU_DTLS_CTX_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu_cert.h"
#include "sfu_ctx.h"

/* Largest datagram (and record) payload: mediasoup's DtlsMtu. */
#define SFU_DTLS_DEFAULT_MTU 1350
/* First retransmission after 100 ms, doubling up to 4 s (mediasoup's DTLS timer). */
#define SFU_DTLS_DEFAULT_INITIAL_RTO_MS 100
#define SFU_DTLS_MAX_RTO_MS 4000
/* A handshake that has not finished this long after it started fails. */
#define SFU_DTLS_DEFAULT_HANDSHAKE_TIMEOUT_MS 30000
/* What sfu_dtls_send_app_data takes at most (OpenSSL's max record plaintext). */
#define SFU_DTLS_MAX_APP_DATA 16384
/* The default use_srtp offer/preference, strongest first. */
#define SFU_DTLS_SRTP_PROFILES "SRTP_AEAD_AES_256_GCM:SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32"

typedef struct sfu_dtls_ctx_options {
  uint32_t mtu;                  /* 0: SFU_DTLS_DEFAULT_MTU (256..16384) */
  uint32_t initial_rto_ms;       /* 0: SFU_DTLS_DEFAULT_INITIAL_RTO_MS */
  uint32_t handshake_timeout_ms; /* 0: SFU_DTLS_DEFAULT_HANDSHAKE_TIMEOUT_MS */
  const char *srtp_profiles;     /* NULL: SFU_DTLS_SRTP_PROFILES (tests narrow it) */
  bool unfiltered_records;       /* tests only: hand OpenSSL every record, without
                                  * the checks of sfu_dtls_record.h */
} sfu_dtls_ctx_options_t;

typedef struct sfu_dtls_ctx {
  sfu_ctx_t *ctx; /* loop, log, deferred frees */
  SSL_CTX *ssl_ctx;
  sfu_dtls_ctx_options_t opts; /* defaults filled in */
  uint8_t *read_buf;           /* SSL_read output, SFU_DTLS_READ_BUF bytes */
  uint8_t *send_buf;           /* one outgoing datagram, SFU_DTLS_SEND_BUF bytes */
} sfu_dtls_ctx_t;

#define SFU_DTLS_READ_BUF 65536
/* A whole record of the largest kind: header + max plaintext + expansion. */
#define SFU_DTLS_SEND_BUF (13 + 16384 + 2048)

/* 0, SFU_EINVAL (bad options, certificate and key do not match), SFU_ENOMEM,
 * SFU_ECRYPTO. opts may be NULL. */
int sfu_dtls_ctx_init(sfu_dtls_ctx_t *dc, sfu_ctx_t *ctx, const sfu_cert_t *cert, const sfu_dtls_ctx_options_t *opts);
void sfu_dtls_ctx_destroy(sfu_dtls_ctx_t *dc);

/* Logs and clears OpenSSL's (thread-wide) error queue. */
void sfu__dtls_log_ssl_errors(sfu_ctx_t *ctx, const char *what);

#endif
