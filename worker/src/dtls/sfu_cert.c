#include "sfu_cert.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "sfu_error.h"

static const char *const sfu__alg_names[SFU_FP_COUNT] = {"sha-1", "sha-224", "sha-256", "sha-384", "sha-512"};

const char *sfu_cert_alg_name(sfu_fingerprint_alg_t alg) {
  return (unsigned)alg < SFU_FP_COUNT ? sfu__alg_names[alg] : "unknown";
}

const EVP_MD *sfu_cert_alg_md(sfu_fingerprint_alg_t alg) {
  switch (alg) {
    case SFU_FP_SHA1:
      return EVP_sha1();
    case SFU_FP_SHA224:
      return EVP_sha224();
    case SFU_FP_SHA256:
      return EVP_sha256();
    case SFU_FP_SHA384:
      return EVP_sha384();
    case SFU_FP_SHA512:
      return EVP_sha512();
    default:
      return NULL;
  }
}

static int sfu__fingerprints(sfu_cert_t *c) {
  static const char hex[] = "0123456789ABCDEF";
  for (int alg = 0; alg < SFU_FP_COUNT; alg++) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (X509_digest(c->x509, sfu_cert_alg_md((sfu_fingerprint_alg_t)alg), md, &n) != 1 || n == 0 || n * 3 > SFU_FINGERPRINT_MAX)
      return SFU_ECRYPTO;
    char *p = c->fingerprints[alg];
    for (unsigned int i = 0; i < n; i++) {
      *p++ = hex[md[i] >> 4];
      *p++ = hex[md[i] & 0xf];
      *p++ = i + 1 < n ? ':' : '\0';
    }
  }
  return 0;
}

int sfu_cert_generate(sfu_cert_t *c) {
  X509_NAME *name;
  unsigned char serial_bytes[8];
  BIGNUM *serial = NULL;
  int r = SFU_ECRYPTO;

  memset(c, 0, sizeof(*c));
  c->pkey = EVP_EC_gen("P-256");
  if (c->pkey == NULL) goto done;
  c->x509 = X509_new();
  if (c->x509 == NULL) goto done;
  if (X509_set_version(c->x509, 2) != 1) goto done;
  if (RAND_bytes(serial_bytes, sizeof(serial_bytes)) != 1) goto done;
  serial_bytes[0] &= 0x7f; /* positive */
  serial = BN_bin2bn(serial_bytes, sizeof(serial_bytes), NULL);
  if (serial == NULL || BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(c->x509)) == NULL) goto done;
  /* Valid from a day ago (clock skew) for ten years, like mediasoup's. */
  if (X509_gmtime_adj(X509_getm_notBefore(c->x509), -86400L) == NULL) goto done;
  if (X509_gmtime_adj(X509_getm_notAfter(c->x509), 86400L * 3650) == NULL) goto done;
  if (X509_set_pubkey(c->x509, c->pkey) != 1) goto done;
  name = X509_get_subject_name(c->x509);
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"sfu-worker", -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"sfu-worker", -1, -1, 0) != 1)
    goto done;
  if (X509_set_issuer_name(c->x509, name) != 1) goto done;
  if (X509_sign(c->x509, c->pkey, EVP_sha256()) == 0) goto done;
  r = sfu__fingerprints(c);

done:
  BN_free(serial);
  if (r != 0) {
    ERR_clear_error();
    sfu_cert_free(c);
  }
  return r;
}

int sfu_cert_load(sfu_cert_t *c, const char *cert_file, const char *key_file, char *err, size_t err_len) {
  FILE *f;
  memset(c, 0, sizeof(*c));

  if ((f = fopen(cert_file, "r")) == NULL) {
    snprintf(err, err_len, "cannot open dtlsCertificateFile '%s'", cert_file);
    goto fail;
  }
  c->x509 = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  if (c->x509 == NULL) {
    snprintf(err, err_len, "dtlsCertificateFile '%s' holds no PEM certificate", cert_file);
    goto fail;
  }
  if ((f = fopen(key_file, "r")) == NULL) {
    snprintf(err, err_len, "cannot open dtlsPrivateKeyFile '%s'", key_file);
    goto fail;
  }
  c->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  if (c->pkey == NULL) {
    snprintf(err, err_len, "dtlsPrivateKeyFile '%s' holds no PEM private key", key_file);
    goto fail;
  }
  if (X509_check_private_key(c->x509, c->pkey) != 1) {
    snprintf(err, err_len, "dtlsPrivateKeyFile does not match dtlsCertificateFile");
    goto fail;
  }
  if (sfu__fingerprints(c) != 0) {
    snprintf(err, err_len, "cannot compute the certificate fingerprints");
    goto fail;
  }
  return 0;

fail:
  ERR_clear_error();
  sfu_cert_free(c);
  return SFU_EINVAL;
}

void sfu_cert_free(sfu_cert_t *c) {
  X509_free(c->x509);
  EVP_PKEY_free(c->pkey);
  c->x509 = NULL;
  c->pkey = NULL;
}
