#include "sfu_dtls_ctx.h"

#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"
#include "sfu_log.h"

/* mediasoup's list: no NULL or anonymous suites, no CBC-SHA256/384, no AES-256-GCM. */
#define SFU__DTLS_CIPHERS "DEFAULT:!NULL:!aNULL:!SHA256:!SHA384:!aECDH:!AESGCM+AES256:!aPSK"
#define SFU__DTLS_GROUPS "X25519:P-256:P-384"

void sfu__dtls_log_ssl_errors(sfu_ctx_t *ctx, const char *what) {
  unsigned long e;
  char buf[256];
  int n = 0;
  while ((e = ERR_get_error()) != 0) {
    if (ctx != NULL) {
      ERR_error_string_n(e, buf, sizeof(buf));
      SFU_WARN_TAG(&ctx->log, dtls, "OpenSSL error [%s]: %s", what, buf);
    }
    n++;
  }
  if (n == 0 && ctx != NULL) SFU_DEBUG_TAG(&ctx->log, dtls, "OpenSSL failure without error [%s]", what);
  ERR_clear_error();
}

/* Self-signed peers: accept any chain, the fingerprint decides (RFC 8122). */
static int sfu__dtls_verify_cb(int preverify_ok, X509_STORE_CTX *store) {
  (void)preverify_ok;
  (void)store;
  return 1;
}

int sfu_dtls_ctx_init(sfu_dtls_ctx_t *dc, sfu_ctx_t *ctx, const sfu_cert_t *cert, const sfu_dtls_ctx_options_t *opts) {
  int r = SFU_ECRYPTO;

  memset(dc, 0, sizeof(*dc));
  dc->ctx = ctx;
  if (opts != NULL) dc->opts = *opts;
  if (dc->opts.mtu == 0) dc->opts.mtu = SFU_DTLS_DEFAULT_MTU;
  if (dc->opts.initial_rto_ms == 0) dc->opts.initial_rto_ms = SFU_DTLS_DEFAULT_INITIAL_RTO_MS;
  if (dc->opts.handshake_timeout_ms == 0) dc->opts.handshake_timeout_ms = SFU_DTLS_DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (dc->opts.srtp_profiles == NULL) dc->opts.srtp_profiles = SFU_DTLS_SRTP_PROFILES;
  if (dc->opts.mtu < 256 || dc->opts.mtu > 16384 || dc->opts.initial_rto_ms > SFU_DTLS_MAX_RTO_MS ||
      cert == NULL || cert->x509 == NULL || cert->pkey == NULL)
    return SFU_EINVAL;

  dc->read_buf = malloc(SFU_DTLS_READ_BUF);
  dc->send_buf = malloc(SFU_DTLS_SEND_BUF);
  if (dc->read_buf == NULL || dc->send_buf == NULL) {
    r = SFU_ENOMEM;
    goto fail;
  }

  ERR_clear_error();
  if ((dc->ssl_ctx = SSL_CTX_new(DTLS_method())) == NULL) goto fail;
  /* DTLS 1.2 only. A DTLS 1.3 ClientHello (Chromium) carries 1.2 as its
   * legacy version and OpenSSL 3.0 ignores supported_versions for DTLS. */
  if (SSL_CTX_set_min_proto_version(dc->ssl_ctx, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(dc->ssl_ctx, DTLS1_2_VERSION) != 1)
    goto fail;
  if (SSL_CTX_use_certificate(dc->ssl_ctx, cert->x509) != 1 || SSL_CTX_use_PrivateKey(dc->ssl_ctx, cert->pkey) != 1)
    goto fail;
  if (SSL_CTX_check_private_key(dc->ssl_ctx) != 1) {
    r = SFU_EINVAL;
    goto fail;
  }
  SSL_CTX_set_options(dc->ssl_ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET | SSL_OP_SINGLE_ECDH_USE |
                                       SSL_OP_NO_QUERY_MTU | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(dc->ssl_ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_read_ahead(dc->ssl_ctx, 0);
  SSL_CTX_set_verify_depth(dc->ssl_ctx, 4);
  SSL_CTX_set_verify(dc->ssl_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, sfu__dtls_verify_cb);
  if (SSL_CTX_set_cipher_list(dc->ssl_ctx, SFU__DTLS_CIPHERS) != 1) goto fail;
  if (SSL_CTX_set1_groups_list(dc->ssl_ctx, SFU__DTLS_GROUPS) != 1) goto fail;
  /* Returns 0 on success, unlike almost everything else. */
  if (SSL_CTX_set_tlsext_use_srtp(dc->ssl_ctx, dc->opts.srtp_profiles) != 0) {
    r = SFU_EINVAL;
    goto fail;
  }
  SFU_DEBUG_TAG(&ctx->log, dtls, "DTLS context ready [mtu:%u, srtp:%s]", (unsigned)dc->opts.mtu,
                dc->opts.srtp_profiles);
  return 0;

fail:
  sfu__dtls_log_ssl_errors(ctx, "SSL_CTX setup");
  sfu_dtls_ctx_destroy(dc);
  return r;
}

void sfu_dtls_ctx_destroy(sfu_dtls_ctx_t *dc) {
  SSL_CTX_free(dc->ssl_ctx);
  free(dc->read_buf);
  free(dc->send_buf);
  dc->ssl_ctx = NULL;
  dc->read_buf = NULL;
  dc->send_buf = NULL;
}
