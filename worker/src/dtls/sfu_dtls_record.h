/* DTLS 1.2 record headers (RFC 6347 section 4.1) and the checks a datagram's
 * records pass before OpenSSL sees them.
 *
 * OpenSSL's behaviour on malformed records differs between 3.0.x patch
 * levels (3.0.19 answers an epoch-1 record shorter than the AEAD tag with a
 * fatal internal_error alert, and buffers next-epoch garbage received before
 * the ClientHello until it breaks the handshake). RFC 6347 section 4.1.2.7
 * says invalid records are silently discarded, so sfu_dtls drops every
 * record these checks refuse and OpenSSL only ever sees records that are
 * well formed for the association's state. */
#ifndef SFU_DTLS_RECORD_H
#define SFU_DTLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFU_DTLS_RECORD_HEADER 13
/* RFC 6347 4.1 / RFC 5246 6.2.3: at most 2^14 + 2048 bytes of ciphertext. */
#define SFU_DTLS_RECORD_MAX_BODY (16384 + 2048)
/* DTLS handshake message header (RFC 6347 4.2.2). */
#define SFU_DTLS_HANDSHAKE_HEADER 12

typedef enum sfu_dtls_content {
  SFU_DTLS_CT_CHANGE_CIPHER_SPEC = 20,
  SFU_DTLS_CT_ALERT = 21,
  SFU_DTLS_CT_HANDSHAKE = 22,
  SFU_DTLS_CT_APPLICATION_DATA = 23
} sfu_dtls_content_t;

#define SFU_DTLS_VERSION_1_0 0xfeffu
#define SFU_DTLS_VERSION_1_2 0xfefdu
#define SFU_DTLS_HS_CLIENT_HELLO 1

typedef struct sfu_dtls_record {
  uint8_t type;
  uint16_t version;
  uint16_t epoch;
  uint64_t seq; /* 48 bits */
  const uint8_t *body;
  size_t body_len;
} sfu_dtls_record_t;

/* Outcome of reading one record. */
typedef enum sfu_dtls_rec_status {
  SFU_DTLS_REC_OK = 0,
  SFU_DTLS_REC_END = 1,       /* nothing left */
  SFU_DTLS_REC_TRUNCATED = 2  /* fewer bytes than a header, or than its length says */
} sfu_dtls_rec_status_t;

/* Reads the record at p[*off], advances *off past it. On TRUNCATED *off is
 * left alone: the rest of the datagram is unusable. */
sfu_dtls_rec_status_t sfu_dtls_record_next(const uint8_t *p, size_t len, size_t *off, sfu_dtls_record_t *rec);

/* What the association accepts right now. */
typedef struct sfu_dtls_record_policy {
  bool hs_done;            /* OpenSSL finished the handshake: read epoch is 1 */
  bool awaiting_hello;     /* a server that has not taken a ClientHello yet */
  size_t min_body;         /* smallest epoch-1 body for the cipher; 0 = no cipher yet */
} sfu_dtls_record_policy_t;

/* Why a record is refused (0 = accepted). */
typedef enum sfu_dtls_rec_verdict {
  SFU_DTLS_REC_ACCEPT = 0,
  SFU_DTLS_REC_BAD_TYPE,      /* not CCS, alert, handshake or application data */
  SFU_DTLS_REC_BAD_VERSION,   /* not DTLS 1.2 (1.0 only in an epoch-0 handshake record) */
  SFU_DTLS_REC_BAD_EPOCH,     /* not the read epoch or, during the handshake, the next one */
  SFU_DTLS_REC_BAD_LENGTH,    /* empty, too long, or shorter than the cipher's minimum */
  SFU_DTLS_REC_NO_CIPHER,     /* epoch 1 before a cipher was negotiated */
  SFU_DTLS_REC_UNEXPECTED     /* valid framing, but not what this state can take */
} sfu_dtls_rec_verdict_t;

sfu_dtls_rec_verdict_t sfu_dtls_record_check(const sfu_dtls_record_t *rec, const sfu_dtls_record_policy_t *pol);

/* The message length of the first handshake fragment of a record that
 * passed sfu_dtls_record_check (epoch 0 handshake), else 0. */
uint32_t sfu_dtls_record_hs_msg_len(const sfu_dtls_record_t *rec);

/* Smallest ciphertext body for a suite: explicit nonce + tag for AEAD
 * (GCM/CCM 8 + 16, CCM8 8 + 8, ChaCha20-Poly1305 16), IV + padded MAC for
 * CBC. aead, block and mac are the suite's properties (block 0 = stream). */
size_t sfu_dtls_record_min_body(bool aead, bool chacha, bool ccm8, size_t block, size_t mac);

const char *sfu_dtls_rec_verdict_name(sfu_dtls_rec_verdict_t v);

#endif
