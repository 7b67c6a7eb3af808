/* The worker's DTLS identity: an ECDSA P-256 certificate generated at start,
 * or the PEM certificate and key given with --dtlsCertificateFile and
 * --dtlsPrivateKeyFile, plus its fingerprints for every hash the
 * WebRtcTransport announces. */
#ifndef SFU_CERT_H
#define SFU_CERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

typedef enum sfu_fingerprint_alg {
  SFU_FP_SHA1 = 0,
  SFU_FP_SHA224,
  SFU_FP_SHA256,
  SFU_FP_SHA384,
  SFU_FP_SHA512,
  SFU_FP_COUNT
} sfu_fingerprint_alg_t;

/* "AB:CD:..." of a SHA-512 digest: 64 * 3 bytes. */
#define SFU_FINGERPRINT_MAX 192

typedef struct sfu_cert {
  X509 *x509;
  EVP_PKEY *pkey;
  char fingerprints[SFU_FP_COUNT][SFU_FINGERPRINT_MAX];
} sfu_cert_t;

/* 0 or SFU_ECRYPTO. */
int sfu_cert_generate(sfu_cert_t *c);
/* 0, SFU_EINVAL (unreadable file, not PEM, key does not match) with a reason in err. */
int sfu_cert_load(sfu_cert_t *c, const char *cert_file, const char *key_file, char *err, size_t err_len);
void sfu_cert_free(sfu_cert_t *c);

/* The OpenSSL digest of an algorithm, NULL for an unknown one. */
const EVP_MD *sfu_cert_alg_md(sfu_fingerprint_alg_t alg);

/* "sha-1", "sha-224", ... as in mediasoup's DtlsParameters. */
const char *sfu_cert_alg_name(sfu_fingerprint_alg_t alg);

#endif
