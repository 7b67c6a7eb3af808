#include "sfu_dtls.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/srtp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "sfu_dtls_record.h"
#include "sfu_error.h"
#include "sfu_log.h"

#define SFU__DTLS_EXPORTER_LABEL "EXTRACTOR-dtls_srtp"
/* Two master keys and two salts of the largest suite (AES-256-GCM: 2 * (32 + 12)). */
#define SFU__DTLS_KEYING_MAX 88

/* Deadlines use the monotonic clock itself, not the loop's cached time, which
 * is stale when run() comes after slow work in the same loop turn. */
static uint64_t sfu__now_ms(void) {
  return uv_hrtime() / 1000000u;
}

static sfu_log_t *sfu__log(const sfu_dtls_t *d) {
  return &d->dc->ctx->log;
}

/* No user callback may have closed d or replaced its SSL since gen was read. */
static bool sfu__dtls_alive(const sfu_dtls_t *d, uint32_t gen) {
  return !d->closing && d->gen == gen;
}

const char *sfu_dtls_state_name(sfu_dtls_state_t s) {
  switch (s) {
    case SFU_DTLS_NEW:
      return "new";
    case SFU_DTLS_CONNECTING:
      return "connecting";
    case SFU_DTLS_CONNECTED:
      return "connected";
    case SFU_DTLS_FAILED:
      return "failed";
    case SFU_DTLS_CLOSED:
      return "closed";
  }
  return "unknown";
}

const char *sfu_dtls_role_name(sfu_dtls_role_t r) {
  switch (r) {
    case SFU_DTLS_ROLE_AUTO:
      return "auto";
    case SFU_DTLS_ROLE_CLIENT:
      return "client";
    case SFU_DTLS_ROLE_SERVER:
      return "server";
  }
  return "unknown";
}

sfu_dtls_role_t sfu_dtls_role_for_remote(sfu_dtls_role_t remote) {
  /* As mediasoup's WebRtcTransport: a peer that says 'auto' lets us be the
   * client since we are ICE controlled (ICE-Lite). */
  return remote == SFU_DTLS_ROLE_CLIENT ? SFU_DTLS_ROLE_SERVER : SFU_DTLS_ROLE_CLIENT;
}

bool sfu_dtls_is_dtls(const uint8_t *p, size_t len) {
  return len >= SFU_DTLS_RECORD_HEADER && p[0] >= 20 && p[0] <= 63;
}

const char *sfu_dtls_remote_cert(const sfu_dtls_t *d) {
  return d->state == SFU_DTLS_CONNECTED ? d->remote_cert : NULL;
}

/* ---- OpenSSL callbacks ---- */

/* The DTLS retransmission timer: initial RTO, doubling, capped (mediasoup's). */
static unsigned int sfu__dtls_timer_cb(SSL *ssl, unsigned int timer_us) {
  const sfu_dtls_t *d = SSL_get_app_data(ssl);
  unsigned int initial = (d != NULL ? d->dc->opts.initial_rto_ms : SFU_DTLS_DEFAULT_INITIAL_RTO_MS) * 1000u;
  unsigned int max = SFU_DTLS_MAX_RTO_MS * 1000u;
  if (timer_us == 0) return initial;
  return timer_us >= max / 2 ? max : timer_us * 2;
}

static void sfu__dtls_info_cb(const SSL *ssl, int where, int ret) {
  sfu_dtls_t *d = SSL_get_app_data(ssl);
  if (d == NULL) return;
  sfu_log_t *log = sfu__log(d);
  if ((where & SSL_CB_ALERT) != 0) {
    if ((where & SSL_CB_READ) != 0) d->peer_alert = true;
    if ((where & SSL_CB_WRITE) != 0) d->local_alert = ret & 0xff;
    if ((where & SSL_CB_READ) != 0)
      SFU_WARN_TAG(log, dtls, "received DTLS %s alert: %s", SSL_alert_type_string_long(ret),
                   SSL_alert_desc_string_long(ret));
    else
      SFU_DEBUG_TAG(log, dtls, "sending DTLS %s alert: %s", SSL_alert_type_string_long(ret),
                    SSL_alert_desc_string_long(ret));
  } else if ((where & SSL_CB_HANDSHAKE_START) != 0) {
    SFU_DEBUG_TAG(log, dtls, "DTLS handshake start [role:%s]", sfu_dtls_role_name(d->role));
  } else if ((where & SSL_CB_HANDSHAKE_DONE) != 0) {
    SFU_DEBUG_TAG(log, dtls, "DTLS handshake done [role:%s]", sfu_dtls_role_name(d->role));
  } else if ((where & SSL_CB_LOOP) != 0) {
    SFU_DEBUG_TAG(log, dtls, "[role:%s, action:'%s']", sfu_dtls_role_name(d->role), SSL_state_string_long(ssl));
  }
}

/* ---- datagrams out ---- */

/* Bytes of the next datagram from OpenSSL's output: whole records, as many
 * as fit in mtu (at least one). OpenSSL sizes each handshake record for the
 * MTU and expects a datagram boundary where the next record would not fit;
 * without a BIO callback the boundaries are found again from the record
 * headers (type, version, epoch, sequence number, 16-bit length). */
static size_t sfu__dtls_datagram_len(const uint8_t *p, size_t avail, size_t mtu) {
  size_t off = 0;
  while (avail - off >= SFU_DTLS_RECORD_HEADER) {
    size_t rec = SFU_DTLS_RECORD_HEADER + (((size_t)p[off + 11] << 8) | p[off + 12]);
    if (rec > avail - off) break;
    if (off > 0 && off + rec > mtu) break;
    off += rec;
  }
  /* Nothing parseable (cannot happen with OpenSSL's output): send it as it is. */
  return off > 0 ? off : avail;
}

static void sfu__dtls_flush(sfu_dtls_t *d) {
  uint8_t *buf = d->dc->send_buf;
  BIO *w = d->wbio;

  for (;;) {
    char *data = NULL;
    long avail = BIO_get_mem_data(w, &data);
    if (avail <= 0 || data == NULL) break;
    size_t n = sfu__dtls_datagram_len((const uint8_t *)data, (size_t)avail, d->dc->opts.mtu);
    if (n > SFU_DTLS_SEND_BUF) n = SFU_DTLS_SEND_BUF;
    int got = BIO_read(w, buf, (int)n);
    if (got <= 0) break;
    d->stats.datagrams_out++;
    d->stats.bytes_out += (uint64_t)got;
    d->cb.send(d, buf, (size_t)got);
    if (d->wbio != w) break; /* the owner closed us from cb.send */
  }
}

/* ---- the SSL object ---- */

static int sfu__dtls_new_ssl(sfu_dtls_t *d) {
  SSL *ssl = NULL;
  BIO *r = NULL, *w = NULL;
  long mtu = (long)d->dc->opts.mtu;

  ERR_clear_error();
  if ((ssl = SSL_new(d->dc->ssl_ctx)) == NULL) goto fail;
  if ((r = BIO_new(BIO_s_mem())) == NULL || (w = BIO_new(BIO_s_mem())) == NULL) goto fail;
  /* An empty BIO means "try again later", never end of file. */
  BIO_set_mem_eof_return(r, -1);
  BIO_set_mem_eof_return(w, -1);
  SSL_set_bio(ssl, r, w); /* ssl owns both now */
  r = w = NULL;
  SSL_set_app_data(ssl, d);
  SSL_set_info_callback(ssl, sfu__dtls_info_cb);
  /* With SSL_OP_NO_QUERY_MTU (from the context) the MTU is ours: records
   * and datagrams stay within it. */
  if (SSL_set_mtu(ssl, mtu) <= 0 || DTLS_set_link_mtu(ssl, mtu) <= 0) goto fail; /* SSL_set_mtu returns the MTU */
  DTLS_set_timer_cb(ssl, sfu__dtls_timer_cb);

  d->ssl = ssl;
  d->rbio = SSL_get_rbio(ssl);
  d->wbio = SSL_get_wbio(ssl);
  d->hs_done = false;
  d->hs_deadline = 0;
  d->peer_alert = false;
  d->broken = false;
  d->min_body = 0;
  d->hello_len = 0;
  d->gen++;
  return 0;

fail:
  sfu__dtls_log_ssl_errors(d->dc->ctx, "SSL_new");
  BIO_free(r);
  BIO_free(w);
  SSL_free(ssl);
  return SFU_ECRYPTO;
}

/* After the handshake an association is mostly idle (media goes through
 * SRTP, not through OpenSSL), yet OpenSSL keeps a DTLS read and a write
 * record buffer of ~16.7 KiB each for its whole life (SSL_MODE_RELEASE_BUFFERS
 * does not apply to DTLS): measured as a third of a 1:1 call's memory. So once
 * connected the buffers exist only while OpenSSL is called: allocated before
 * (SSL_alloc_buffers does nothing if they are there), freed after
 * (SSL_free_buffers keeps them while a record is pending). */
static bool sfu__dtls_buffers_get(sfu_dtls_t *d) {
  return !d->hs_done || d->ssl == NULL || SSL_alloc_buffers(d->ssl) == 1;
}

static void sfu__dtls_buffers_put(sfu_dtls_t *d) {
  if (d->hs_done && d->ssl != NULL) (void)SSL_free_buffers(d->ssl);
}

/* Drops the association (mediasoup's Reset); with notify_peer a close_notify goes out first. */
static void sfu__dtls_drop_ssl(sfu_dtls_t *d, bool notify_peer) {
  if (d->timer != NULL) uv_timer_stop(d->timer);
  if (d->ssl == NULL) return;
  if (notify_peer && sfu__dtls_buffers_get(d)) {
    ERR_clear_error();
    (void)SSL_shutdown(d->ssl);
    sfu__dtls_flush(d);
    ERR_clear_error();
    if (d->ssl == NULL) return; /* closed from cb.send */
  }
  SSL_free(d->ssl);
  d->ssl = NULL;
  d->rbio = d->wbio = NULL;
  d->hs_done = false;
  d->hs_deadline = 0;
  d->gen++;
}

/* Ends the association in FAILED or CLOSED and tells the owner. */
static void sfu__dtls_end(sfu_dtls_t *d, sfu_dtls_state_t state, bool notify_peer) {
  sfu__dtls_drop_ssl(d, notify_peer);
  if (d->closing) return; /* cb.send closed us */
  d->state = state;
  if (d->cb.on_state != NULL) d->cb.on_state(d, state);
}

/* ---- timer ---- */

static void sfu__dtls_on_timer(uv_timer_t *handle);

/* (Re)arms the timer for the next retransmission or the handshake deadline. */
static void sfu__dtls_arm_timer(sfu_dtls_t *d) {
  struct timeval tv;
  uint64_t ms = 0;
  bool have;

  if (d->timer == NULL) return;
  if (d->closing || d->ssl == NULL || d->hs_done) {
    uv_timer_stop(d->timer);
    return;
  }
  have = DTLSv1_get_timeout(d->ssl, &tv) == 1;
  if (have) ms = (uint64_t)tv.tv_sec * 1000u + ((uint64_t)tv.tv_usec + 999u) / 1000u;
  if (d->hs_deadline != 0) {
    uint64_t now = sfu__now_ms();
    uint64_t left = d->hs_deadline > now ? d->hs_deadline - now : 0;
    if (!have || left < ms) ms = left;
    have = true;
  }
  if (!have) {
    uv_timer_stop(d->timer);
    return;
  }
  uv_timer_start(d->timer, sfu__dtls_on_timer, ms, 0);
}

static void sfu__dtls_on_timer(uv_timer_t *handle) {
  sfu_dtls_t *d = handle->data;
  uint32_t gen;
  int r;

  /* OpenSSL may keep a timer after the handshake (openssl#7998): ignore it. */
  if (d == NULL || d->closing || d->ssl == NULL || d->hs_done) return;
  gen = d->gen;
  if (d->hs_deadline != 0 && sfu__now_ms() >= d->hs_deadline) {
    SFU_WARN_TAG(sfu__log(d), dtls, "DTLS handshake timeout [role:%s]", sfu_dtls_role_name(d->role));
    sfu__dtls_end(d, SFU_DTLS_FAILED, false);
    return;
  }
  ERR_clear_error();
  r = DTLSv1_handle_timeout(d->ssl);
  if (r < 0) {
    SFU_WARN_TAG(sfu__log(d), dtls, "DTLSv1_handle_timeout() failed, too many retransmissions");
    sfu__dtls_log_ssl_errors(d->dc->ctx, "DTLSv1_handle_timeout");
    sfu__dtls_end(d, SFU_DTLS_FAILED, false);
    return;
  }
  if (r == 1) d->stats.retransmits++;
  sfu__dtls_flush(d);
  if (!sfu__dtls_alive(d, gen)) return;
  sfu__dtls_arm_timer(d);
}

static void sfu__dtls_free_handle(uv_handle_t *handle) {
  free(handle);
}

/* ---- handshake completion ---- */


/* The peer certificate's digest matches the signaled fingerprint; keeps its PEM. */
static bool sfu__dtls_check_fingerprint(sfu_dtls_t *d) {
  static const char hex[] = "0123456789ABCDEF";
  unsigned char md[EVP_MAX_MD_SIZE];
  char fp[SFU_FINGERPRINT_MAX + 1];
  unsigned int n = 0;
  X509 *peer = SSL_get0_peer_certificate(d->ssl);
  BIO *bio;
  BUF_MEM *mem = NULL;

  if (peer == NULL) {
    SFU_WARN_TAG(sfu__log(d), dtls, "no certificate was provided by the peer");
    return false;
  }
  if (X509_digest(peer, sfu_cert_alg_md(d->remote_fp_alg), md, &n) != 1 || n == 0 || n * 3 > sizeof(fp)) {
    sfu__dtls_log_ssl_errors(d->dc->ctx, "X509_digest");
    return false;
  }
  for (unsigned int i = 0; i < n; i++) {
    fp[i * 3] = hex[md[i] >> 4];
    fp[i * 3 + 1] = hex[md[i] & 0xf];
    fp[i * 3 + 2] = i + 1 < n ? ':' : '\0';
  }
  if (strcasecmp(fp, d->remote_fp) != 0) {
    SFU_WARN_TAG(sfu__log(d), dtls, "fingerprint in the remote certificate (%s) does not match the announced one (%s)",
                 fp, d->remote_fp);
    return false;
  }
  SFU_DEBUG_TAG(sfu__log(d), dtls, "valid remote fingerprint");

  free(d->remote_cert);
  d->remote_cert = NULL;
  if ((bio = BIO_new(BIO_s_mem())) != NULL && PEM_write_bio_X509(bio, peer) == 1) {
    BIO_get_mem_ptr(bio, &mem);
    if (mem != NULL && mem->length > 0 && (d->remote_cert = malloc(mem->length + 1)) != NULL) {
      memcpy(d->remote_cert, mem->data, mem->length);
      d->remote_cert[mem->length] = '\0';
    }
  }
  BIO_free(bio);
  ERR_clear_error();
  return true; /* a missing PEM only loses the notification's remote_cert */
}

/* Handshake done and fingerprint known: check it, export the SRTP keys, CONNECTED. */
static void sfu__dtls_finish_handshake(sfu_dtls_t *d) {
  uint8_t mat[SFU__DTLS_KEYING_MAX];
  uint8_t local[SFU__DTLS_KEYING_MAX / 2], remote[SFU__DTLS_KEYING_MAX / 2];
  const SRTP_PROTECTION_PROFILE *profile;
  sfu_srtp_suite_t suite;
  size_t klen, slen;
  uint32_t gen = d->gen;

  if (!sfu__dtls_check_fingerprint(d)) {
    sfu__dtls_end(d, SFU_DTLS_FAILED, true);
    return;
  }
  profile = SSL_get_selected_srtp_profile(d->ssl);
  if (profile == NULL || sfu_srtp_suite_from_dtls_profile(profile->id, &suite) != 0) {
    /* mediasoup requires use_srtp even without audio/video. */
    SFU_WARN_TAG(sfu__log(d), dtls, "SRTP crypto suite not negotiated");
    sfu__dtls_end(d, SFU_DTLS_FAILED, true);
    return;
  }
  klen = sfu_srtp_master_key_len(suite);
  slen = sfu_srtp_master_salt_len(suite);
  ERR_clear_error();
  if (SSL_export_keying_material(d->ssl, mat, 2 * (klen + slen), SFU__DTLS_EXPORTER_LABEL,
                                 strlen(SFU__DTLS_EXPORTER_LABEL), NULL, 0, 0) != 1) {
    sfu__dtls_log_ssl_errors(d->dc->ctx, "SSL_export_keying_material");
    sfu__dtls_end(d, SFU_DTLS_FAILED, true);
    return;
  }
  /* RFC 5764 4.2: client_write_key | server_write_key | client_write_salt | server_write_salt. */
  {
    const uint8_t *ckey = mat, *skey = mat + klen, *csalt = mat + 2 * klen, *ssalt = mat + 2 * klen + slen;
    bool client = d->role == SFU_DTLS_ROLE_CLIENT;
    memcpy(local, client ? ckey : skey, klen);
    memcpy(local + klen, client ? csalt : ssalt, slen);
    memcpy(remote, client ? skey : ckey, klen);
    memcpy(remote + klen, client ? ssalt : csalt, slen);
  }
  OPENSSL_cleanse(mat, sizeof(mat));
  SFU_DEBUG_TAG(sfu__log(d), srtp, "DTLS-SRTP keys exported [suite:%s]", sfu_srtp_suite_name(suite));

  if (d->cb.on_srtp_keys != NULL) d->cb.on_srtp_keys(d, suite, local, klen + slen, remote, klen + slen);
  OPENSSL_cleanse(local, sizeof(local));
  OPENSSL_cleanse(remote, sizeof(remote));
  if (!sfu__dtls_alive(d, gen)) return;
  d->state = SFU_DTLS_CONNECTED;
  SFU_DEBUG_TAG(sfu__log(d), dtls, "connected [role:%s]", sfu_dtls_role_name(d->role));
  if (d->cb.on_state != NULL) d->cb.on_state(d, SFU_DTLS_CONNECTED);
}

static bool sfu__dtls_survive(sfu_dtls_t *d, int err);

/* After every SSL call: send what OpenSSL wrote, notice the end of the
 * handshake, a close_notify or a fatal error. false: stop, the SSL object is
 * gone (or the owner closed us / restarted in a callback). */
static bool sfu__dtls_check(sfu_dtls_t *d, int ret, int err) {
  uint32_t gen = d->gen;
  bool shutdown_received;

  if ((err == SSL_ERROR_SSL || err == SSL_ERROR_SYSCALL) && !d->peer_alert && sfu__dtls_survive(d, err))
    return false;
  sfu__dtls_flush(d);
  if (!sfu__dtls_alive(d, gen)) return false;

  if (!d->hs_done && SSL_is_init_finished(d->ssl)) {
    d->hs_done = true;
    d->hs_deadline = 0;
    uv_timer_stop(d->timer);
    if (d->has_remote_fp) {
      sfu__dtls_finish_handshake(d);
      if (!sfu__dtls_alive(d, gen)) return false;
    } else {
      SFU_DEBUG_TAG(sfu__log(d), dtls, "handshake done, waiting for the remote fingerprint");
    }
  }

  switch (err) {
    case SSL_ERROR_NONE:
    case SSL_ERROR_WANT_READ:
      return true;
    case SSL_ERROR_ZERO_RETURN:
      break;
    case SSL_ERROR_SSL:
    case SSL_ERROR_SYSCALL:
      sfu__dtls_log_ssl_errors(d->dc->ctx, err == SSL_ERROR_SSL ? "SSL_ERROR_SSL" : "SSL_ERROR_SYSCALL");
      break;
    default:
      SFU_WARN_TAG(sfu__log(d), dtls, "unexpected SSL status %d [ret:%d]", err, ret);
      ERR_clear_error();
      return true;
  }

  shutdown_received = (SSL_get_shutdown(d->ssl) & SSL_RECEIVED_SHUTDOWN) != 0;
  if (d->state == SFU_DTLS_CONNECTED) {
    SFU_DEBUG_TAG(sfu__log(d), dtls, "disconnected [%s]", shutdown_received ? "close_notify" : "fatal error");
    /* Answer a close_notify with ours; after a fatal error OpenSSL already sent its alert. */
    sfu__dtls_end(d, SFU_DTLS_CLOSED, shutdown_received && err == SSL_ERROR_ZERO_RETURN);
  } else {
    SFU_WARN_TAG(sfu__log(d), dtls, "connection failed [%s]", shutdown_received ? "close_notify" : "fatal error");
    sfu__dtls_end(d, SFU_DTLS_FAILED, false);
  }
  return false;
}

/* ---- records in ---- */

/* The smallest epoch-1 record body of the negotiated (or pending) cipher, 0
 * while none is chosen. */
static size_t sfu__dtls_cipher_min_body(const SSL *ssl, bool hs_done) {
  const SSL_CIPHER *c = hs_done ? SSL_get_current_cipher(ssl) : SSL_get_pending_cipher(ssl);
  const EVP_CIPHER *ec;
  const EVP_MD *md;
  int nid;
  bool aead;
  size_t block = 16, mac = 20;

  if (c == NULL) return 0;
  nid = SSL_CIPHER_get_cipher_nid(c);
  aead = SSL_CIPHER_is_aead(c) != 0;
  if (!aead) {
    if ((ec = EVP_get_cipherbynid(nid)) != NULL) block = (size_t)EVP_CIPHER_get_block_size(ec);
    if ((md = EVP_get_digestbynid(SSL_CIPHER_get_digest_nid(c))) != NULL) mac = (size_t)EVP_MD_get_size(md);
  }
  return sfu_dtls_record_min_body(aead, nid == NID_chacha20_poly1305, strstr(SSL_CIPHER_get_name(c), "CCM8") != NULL,
                                  block, mac);
}

/* Counts the records of a datagram (a truncated tail counts as one). */
static uint64_t sfu__dtls_count_records(const uint8_t *p, size_t len) {
  sfu_dtls_record_t rec;
  size_t off = 0;
  uint64_t n = 0;
  sfu_dtls_rec_status_t st;
  while ((st = sfu_dtls_record_next(p, len, &off, &rec)) == SFU_DTLS_REC_OK) n++;
  return st == SFU_DTLS_REC_TRUNCATED ? n + 1 : n;
}

static int sfu__dtls_restart_server(sfu_dtls_t *d);

/* Gives OpenSSL the records of the datagram that pass sfu_dtls_record_check,
 * in their order, as one datagram. Returns how many it gave. */
static size_t sfu__dtls_feed(sfu_dtls_t *d, const uint8_t *p, size_t len) {
  sfu_dtls_record_policy_t pol;
  sfu_dtls_record_t rec;
  size_t off = 0, start, accepted = 0, refused = 0;
  uint32_t hello_len = 0;
  sfu_dtls_rec_status_t st;

  if (d->dc->opts.unfiltered_records) {
    if (BIO_write(d->rbio, p, (int)len) != (int)len) return 0;
    return 1;
  }
  if (d->min_body == 0) d->min_body = sfu__dtls_cipher_min_body(d->ssl, d->hs_done);
  pol.hs_done = d->hs_done;
  pol.awaiting_hello = d->awaiting_hello;
  pol.min_body = d->min_body;

  /* First pass: does every record pass? Then the datagram goes as it is. */
  for (;;) {
    sfu_dtls_rec_verdict_t v;
    if ((st = sfu_dtls_record_next(p, len, &off, &rec)) != SFU_DTLS_REC_OK) break;
    v = sfu_dtls_record_check(&rec, &pol);
    if (v == SFU_DTLS_REC_ACCEPT) {
      if (accepted++ == 0 && pol.awaiting_hello) hello_len = sfu_dtls_record_hs_msg_len(&rec);
      continue;
    }
    refused++;
    SFU_DEBUG_TAG(sfu__log(d), dtls, "dropping DTLS record [%s, type:%u, version:0x%04x, epoch:%u, length:%zu]",
                  sfu_dtls_rec_verdict_name(v), (unsigned)rec.type, (unsigned)rec.version, (unsigned)rec.epoch,
                  rec.body_len);
  }
  if (st == SFU_DTLS_REC_TRUNCATED) {
    refused++;
    SFU_DEBUG_TAG(sfu__log(d), dtls, "dropping truncated DTLS record [offset:%zu, datagram:%zu]", off, len);
  }
  d->stats.records_dropped += refused;
  if (accepted == 0) return 0;
  if (hello_len != 0) {
    /* OpenSSL keeps ClientHello fragments until the message is whole and
     * drops fragments that disagree with the ones it has: a stray fragment
     * would block the real ClientHello for good. One of another length
     * starts the wait over. */
    if (d->hello_len != 0 && d->hello_len != hello_len && sfu__dtls_restart_server(d) != 0) return 0;
    d->hello_len = hello_len;
  }
  if (refused == 0) return BIO_write(d->rbio, p, (int)len) == (int)len ? accepted : 0;

  /* Second pass: only the accepted records (the memory BIO keeps them as one datagram). */
  off = 0;
  for (;;) {
    start = off;
    if (sfu_dtls_record_next(p, len, &off, &rec) != SFU_DTLS_REC_OK) break;
    if (sfu_dtls_record_check(&rec, &pol) != SFU_DTLS_REC_ACCEPT) continue;
    if (BIO_write(d->rbio, p + start, (int)(off - start)) != (int)(off - start)) return 0;
  }
  return accepted;
}

/* A server that has taken no ClientHello drops its SSL object (and what
 * OpenSSL wrote) and waits with a new one. 0, or SFU_ECRYPTO after which
 * the association FAILED. */
static int sfu__dtls_restart_server(sfu_dtls_t *d) {
  int r;
  sfu__dtls_drop_ssl(d, false);
  if ((r = sfu__dtls_new_ssl(d)) != 0) {
    sfu__dtls_end(d, SFU_DTLS_FAILED, false);
    return r;
  }
  SSL_set_accept_state(d->ssl);
  return 0;
}

/* Alerts OpenSSL sends for bytes it could not parse (RFC 5246 7.2.2), as
 * opposed to a well-formed hello it cannot agree with (handshake_failure,
 * protocol_version, insufficient_security, ...). */
static bool sfu__dtls_alert_is_malformed(int desc) {
  switch (desc) {
    case SSL3_AD_UNEXPECTED_MESSAGE:
    case SSL3_AD_BAD_RECORD_MAC:
    case TLS1_AD_RECORD_OVERFLOW:
    case SSL3_AD_ILLEGAL_PARAMETER:
    case TLS1_AD_DECODE_ERROR:
    case TLS1_AD_INTERNAL_ERROR:
      return true;
    default:
      return false;
  }
}

/* OpenSSL failed on a record without an alert from the peer: a malformed or
 * forged record that got past sfu_dtls_record_check, or an OpenSSL bug of
 * one patch level. Such a record must not end the association (RFC 6347
 * 4.1.2.7). true: handled, the SSL call's output (its fatal alert) was
 * discarded; false: a real handshake failure, end it as usual. */
static bool sfu__dtls_survive(sfu_dtls_t *d, int err) {
  sfu_log_t *log = sfu__log(d);

  if (d->state == SFU_DTLS_CONNECTED) {
    /* OpenSSL's SSL object is unusable after a fatal error, but the SRTP
     * keys are in place and the media must go on: stay CONNECTED, keep the
     * alert to ourselves, read and send no more DTLS records. */
    sfu__dtls_log_ssl_errors(d->dc->ctx, err == SSL_ERROR_SSL ? "SSL_ERROR_SSL" : "SSL_ERROR_SYSCALL");
    SFU_WARN_TAG(log, dtls, "OpenSSL failed on a received record; DTLS stays connected for SRTP, without "
                            "further DTLS records");
    (void)BIO_reset(d->wbio);
    d->broken = true;
    d->stats.record_errors++;
    uv_timer_stop(d->timer);
    return true;
  }
  if (d->awaiting_hello && (SSL_get_state(d->ssl) == TLS_ST_BEFORE || sfu__dtls_alert_is_malformed(d->local_alert))) {
    /* No ClientHello was taken before this datagram, and OpenSSL failed on
     * it before reading a ClientHello or because what looked like one was
     * malformed (not because it could not agree with a real client):
     * nothing was negotiated, so wait for a real ClientHello with a fresh
     * object, and send no alert (it would go to the real client). */
    sfu__dtls_log_ssl_errors(d->dc->ctx, err == SSL_ERROR_SSL ? "SSL_ERROR_SSL" : "SSL_ERROR_SYSCALL");
    SFU_DEBUG_TAG(log, dtls, "OpenSSL failed before a ClientHello; waiting for one with a new DTLS object");
    d->stats.record_errors++;
    (void)sfu__dtls_restart_server(d);
    return true;
  }
  return false;
}

/* ---- public ---- */

int sfu_dtls_create(sfu_dtls_ctx_t *dc, const sfu_dtls_callbacks_t *cb, void *data, sfu_dtls_t **out) {
  sfu_dtls_t *d;

  if (dc == NULL || dc->ssl_ctx == NULL || cb == NULL || cb->send == NULL) return SFU_EINVAL;
  if ((d = calloc(1, sizeof(*d))) == NULL) return SFU_ENOMEM;
  if ((d->timer = malloc(sizeof(*d->timer))) == NULL) {
    free(d);
    return SFU_ENOMEM;
  }
  if (uv_timer_init(dc->ctx->loop, d->timer) != 0) {
    free(d->timer);
    free(d);
    return SFU_EIO;
  }
  d->timer->data = d;
  d->dc = dc;
  d->cb = *cb;
  d->data = data;
  d->state = SFU_DTLS_NEW;
  d->role = SFU_DTLS_ROLE_AUTO;
  *out = d;
  return 0;
}

int sfu_dtls_run(sfu_dtls_t *d, sfu_dtls_role_t role) {
  uint32_t gen;
  int r;

  if (d->closing) return SFU_ESTATE;
  if (role == SFU_DTLS_ROLE_AUTO) role = SFU_DTLS_ROLE_SERVER;
  if (role != SFU_DTLS_ROLE_CLIENT && role != SFU_DTLS_ROLE_SERVER) return SFU_EINVAL;
  if (d->ssl != NULL && d->role == role) {
    SFU_DEBUG_TAG(sfu__log(d), dtls, "same local DTLS role provided, doing nothing");
    return 0;
  }
  if (d->ssl != NULL) {
    SFU_DEBUG_TAG(sfu__log(d), dtls, "resetting DTLS due to local role change");
    sfu__dtls_drop_ssl(d, false);
  }
  if ((r = sfu__dtls_new_ssl(d)) != 0) return r;
  free(d->remote_cert);
  d->remote_cert = NULL;
  d->role = role;
  d->state = SFU_DTLS_CONNECTING;
  gen = d->gen;
  SFU_DEBUG_TAG(sfu__log(d), dtls, "running [role:%s]", sfu_dtls_role_name(role));
  if (d->cb.on_state != NULL) d->cb.on_state(d, SFU_DTLS_CONNECTING);
  if (!sfu__dtls_alive(d, gen)) return 0;

  if (role == SFU_DTLS_ROLE_CLIENT) {
    int ret, err;
    SSL_set_connect_state(d->ssl);
    d->hs_deadline = sfu__now_ms() + d->dc->opts.handshake_timeout_ms;
    ERR_clear_error();
    ret = SSL_do_handshake(d->ssl);
    err = ret == 1 ? SSL_ERROR_NONE : SSL_get_error(d->ssl, ret);
    if (!sfu__dtls_check(d, ret, err)) return 0;
    sfu__dtls_arm_timer(d);
  } else {
    /* The handshake (and its deadline) starts with the first ClientHello. */
    SSL_set_accept_state(d->ssl);
  }
  return 0;
}

static bool sfu__dtls_fp_valid(const char *s, size_t len) {
  if (len == 0 || len > SFU_FINGERPRINT_MAX) return false;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':')) return false;
  }
  return true;
}

int sfu_dtls_set_remote_fingerprint(sfu_dtls_t *d, sfu_fingerprint_alg_t alg, const char *hex_colon) {
  size_t len;
  if (sfu_cert_alg_md(alg) == NULL || hex_colon == NULL) return SFU_EINVAL;
  len = strlen(hex_colon);
  if (!sfu__dtls_fp_valid(hex_colon, len)) return SFU_EINVAL;
  memcpy(d->remote_fp, hex_colon, len + 1);
  d->remote_fp_alg = alg;
  d->has_remote_fp = true;
  /* The handshake may have finished before signaling gave the fingerprint. */
  if (!d->closing && d->ssl != NULL && d->hs_done && d->state == SFU_DTLS_CONNECTING) {
    SFU_DEBUG_TAG(sfu__log(d), dtls, "handshake already done, processing it right now");
    sfu__dtls_finish_handshake(d);
  }
  return 0;
}

int sfu_dtls_process(sfu_dtls_t *d, const uint8_t *p, size_t len) {
  uint8_t *buf = d->dc->read_buf;
  uint32_t gen;

  if (!sfu_dtls_is_dtls(p, len) || len > INT_MAX) {
    d->stats.not_dtls++;
    return SFU_EPROTO;
  }
  if (d->closing || d->ssl == NULL) {
    d->stats.not_running++;
    SFU_DEBUG_TAG(sfu__log(d), dtls, "cannot process data while not running [state:%s]",
                  sfu_dtls_state_name(d->state));
    return SFU_ESTATE;
  }
  d->stats.datagrams_in++;
  d->stats.bytes_in += len;
  if (d->broken) {
    d->stats.records_dropped += sfu__dtls_count_records(p, len);
    return 0;
  }

  d->peer_alert = false;
  d->local_alert = -1;
  d->awaiting_hello = d->role == SFU_DTLS_ROLE_SERVER && !d->hs_done && SSL_get_state(d->ssl) == TLS_ST_BEFORE;
  if (!sfu__dtls_buffers_get(d)) {
    d->stats.records_dropped += sfu__dtls_count_records(p, len);
    return SFU_ENOMEM;
  }
  ERR_clear_error();
  if (sfu__dtls_feed(d, p, len) == 0) {
    if (ERR_peek_error() != 0) sfu__dtls_log_ssl_errors(d->dc->ctx, "BIO_write");
    sfu__dtls_buffers_put(d);
    return 0;
  }
  gen = d->gen;
  /* One SSL_read per record of application data; OpenSSL reads the datagram
   * to its end, so the loop stops when the BIO is drained. */
  for (;;) {
    int n, err;
    ERR_clear_error();
    n = SSL_read(d->ssl, buf, SFU_DTLS_READ_BUF);
    err = n > 0 ? SSL_ERROR_NONE : SSL_get_error(d->ssl, n);
    if (!sfu__dtls_check(d, n, err)) return 0;
    if (n <= 0) break;
    if (d->state != SFU_DTLS_CONNECTED) {
      SFU_DEBUG_TAG(sfu__log(d), dtls, "ignoring application data received while DTLS is not connected");
      continue;
    }
    d->stats.app_data_in++;
    if (d->cb.on_app_data != NULL) d->cb.on_app_data(d, buf, (size_t)n);
    if (!sfu__dtls_alive(d, gen)) return 0;
  }
  /* A server's handshake (and its deadline) starts with a real ClientHello,
   * not with whatever stray datagram came first. */
  if (!d->hs_done && d->hs_deadline == 0 && SSL_get_state(d->ssl) != TLS_ST_BEFORE)
    d->hs_deadline = sfu__now_ms() + d->dc->opts.handshake_timeout_ms;
  sfu__dtls_arm_timer(d);
  sfu__dtls_buffers_put(d);
  return 0;
}

int sfu_dtls_send_app_data(sfu_dtls_t *d, const uint8_t *p, size_t len) {
  int w;
  if (d->closing || d->ssl == NULL || d->state != SFU_DTLS_CONNECTED || d->broken) {
    SFU_WARN_TAG(sfu__log(d), dtls, "cannot send application data while DTLS is not fully connected");
    return SFU_ESTATE;
  }
  if (len == 0) return SFU_EINVAL;
  if (len > SFU_DTLS_MAX_APP_DATA) return SFU_ETOOBIG;
  if (!sfu__dtls_buffers_get(d)) return SFU_ENOMEM;
  ERR_clear_error();
  w = SSL_write(d->ssl, p, (int)len);
  if (w <= 0) {
    sfu__dtls_log_ssl_errors(d->dc->ctx, "SSL_write");
    sfu__dtls_flush(d);
    sfu__dtls_buffers_put(d);
    return SFU_ECRYPTO;
  }
  d->stats.app_data_out++;
  sfu__dtls_flush(d);
  sfu__dtls_buffers_put(d);
  return 0;
}

static void sfu__dtls_reap(sfu_closing_t *c) {
  sfu_dtls_t *d = sfu_container_of(c, sfu_dtls_t, closing_node);
  if (d->close_cb != NULL) d->close_cb(d);
  free(d->remote_cert);
  free(d);
}

void sfu_dtls_close(sfu_dtls_t *d, sfu_dtls_close_cb cb) {
  if (d->closing) return;
  d->closing = true;
  d->close_cb = cb;
  if (d->ssl != NULL && d->state == SFU_DTLS_CONNECTED && !d->broken && sfu__dtls_buffers_get(d)) {
    SFU_DEBUG_TAG(sfu__log(d), dtls, "sending close_notify");
    ERR_clear_error();
    (void)SSL_shutdown(d->ssl);
    sfu__dtls_flush(d);
    ERR_clear_error();
  }
  if (d->ssl != NULL) {
    SSL_free(d->ssl);
    d->ssl = NULL;
    d->rbio = d->wbio = NULL;
  }
  if (d->timer != NULL) {
    uv_timer_stop(d->timer);
    d->timer->data = NULL;
    uv_close((uv_handle_t *)d->timer, sfu__dtls_free_handle);
    d->timer = NULL;
  }
  sfu_ctx_defer(d->dc->ctx, &d->closing_node, sfu__dtls_reap);
}
