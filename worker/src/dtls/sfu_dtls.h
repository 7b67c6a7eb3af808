/* One DTLS 1.2 association of a transport (RFC 6347, DTLS-SRTP RFC 5764),
 * OpenSSL over plain memory BIOs: sfu_dtls_process() feeds a received
 * datagram, everything OpenSSL writes is cut at DTLS record boundaries into
 * datagrams of at most the MTU and handed to cb.send. Retransmissions run on a
 * loop timer. After the handshake the peer certificate's digest must match the
 * fingerprint given by signaling (RFC 8122); then the SRTP keys exported with
 * "EXTRACTOR-dtls_srtp" are given to cb.on_srtp_keys and the state becomes
 * CONNECTED. Behaviour follows mediasoup's RTC::DtlsTransport.
 *
 * Callbacks run from sfu_dtls_* calls and from the timer. A callback may call
 * sfu_dtls_close() or sfu_dtls_run() on its object; nothing else of the
 * object is touched afterwards. cb.send must use the bytes before returning
 * and must not feed datagrams back into any sfu_dtls_t synchronously. */
#ifndef SFU_DTLS_H
#define SFU_DTLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sfu_cert.h"
#include "sfu_ctx.h"
#include "sfu_dtls_ctx.h"
#include "sfu_srtp.h"

/* Same values as FBS.WebRtcTransport.DtlsRole. */
typedef enum sfu_dtls_role {
  SFU_DTLS_ROLE_AUTO = 0,
  SFU_DTLS_ROLE_CLIENT = 1,
  SFU_DTLS_ROLE_SERVER = 2
} sfu_dtls_role_t;

/* Same values as FBS.WebRtcTransport.DtlsState. */
typedef enum sfu_dtls_state {
  SFU_DTLS_NEW = 0,
  SFU_DTLS_CONNECTING = 1,
  SFU_DTLS_CONNECTED = 2,
  SFU_DTLS_FAILED = 3,
  SFU_DTLS_CLOSED = 4
} sfu_dtls_state_t;

typedef struct sfu_dtls sfu_dtls_t;
typedef void (*sfu_dtls_close_cb)(sfu_dtls_t *d);

typedef struct sfu_dtls_callbacks {
  /* One datagram for the peer (required). */
  void (*send)(sfu_dtls_t *d, const uint8_t *p, size_t len);
  /* Every state change: CONNECTING on run, then CONNECTED, FAILED or CLOSED. */
  void (*on_state)(sfu_dtls_t *d, sfu_dtls_state_t state);
  /* Right before on_state(CONNECTED): master key + salt for each direction,
   * sfu_srtp_key_len(suite) bytes each (local = what we protect with). */
  void (*on_srtp_keys)(sfu_dtls_t *d, sfu_srtp_suite_t suite, const uint8_t *local_key, size_t local_len,
                       const uint8_t *remote_key, size_t remote_len);
  /* Application data (SCTP) received while CONNECTED; p is valid during the call. */
  void (*on_app_data)(sfu_dtls_t *d, const uint8_t *p, size_t len);
} sfu_dtls_callbacks_t;

typedef struct sfu_dtls_stats {
  uint64_t datagrams_in;  /* given to process() and accepted as DTLS */
  uint64_t datagrams_out; /* given to cb.send */
  uint64_t bytes_in;
  uint64_t bytes_out;
  uint64_t not_dtls;    /* rejected by process(): not RFC 7983 DTLS */
  uint64_t not_running; /* dropped by process(): NEW, FAILED, CLOSED */
  uint64_t retransmits; /* handshake flights resent from our timer (OpenSSL
                         * also resends from inside SSL_read when a datagram
                         * comes after its timer expired: not counted) */
  uint64_t app_data_in;
  uint64_t app_data_out;
  uint64_t records_dropped; /* refused before OpenSSL (sfu_dtls_record_check),
                             * truncated tails, and records after a local error */
  uint64_t record_errors;   /* OpenSSL failed on a record it was given and the
                             * association survived it (see sfu_dtls_process) */
} sfu_dtls_stats_t;

struct sfu_dtls {
  void *data; /* owner's */
  /* Read-only for the owner: */
  sfu_dtls_ctx_t *dc;
  sfu_dtls_callbacks_t cb;
  sfu_dtls_state_t state;
  sfu_dtls_role_t role; /* AUTO until run */
  SSL *ssl;             /* NULL when not running */
  BIO *rbio, *wbio;     /* owned by ssl */
  uv_timer_t *timer;    /* separate allocation: its close outlives us */
  uint64_t hs_deadline; /* uv_hrtime() ms limit of the running handshake, 0 = none */
  uint32_t gen;         /* bumped whenever ssl is replaced or dropped */
  bool hs_done;         /* OpenSSL finished the handshake */
  bool peer_alert;      /* OpenSSL read an alert from the peer (this datagram) */
  bool awaiting_hello;  /* a server that had taken no ClientHello when this datagram came */
  int local_alert;      /* description of the alert OpenSSL sent last (this datagram), -1 none */
  uint32_t hello_len;   /* awaiting a ClientHello: the message length its fragments so far gave */
  bool broken;          /* CONNECTED, but OpenSSL failed on its own: the SRTP
                         * keys stay, no more DTLS records are read or sent */
  size_t min_body;      /* smallest epoch-1 record body for the cipher, 0 = none yet */
  bool has_remote_fp;
  sfu_fingerprint_alg_t remote_fp_alg;
  char remote_fp[SFU_FINGERPRINT_MAX + 1];
  char *remote_cert; /* PEM, after the fingerprint matched */
  sfu_dtls_stats_t stats;
  sfu_closing_t closing_node;
  sfu_dtls_close_cb close_cb;
  bool closing;
};

/* 0, SFU_EINVAL (no send callback), SFU_ENOMEM, SFU_EIO (timer). State NEW. */
int sfu_dtls_create(sfu_dtls_ctx_t *dc, const sfu_dtls_callbacks_t *cb, void *data, sfu_dtls_t **out);

/* Starts the handshake as role (AUTO means SERVER, mediasoup's choice once
 * ICE is up): CONNECTING, and a client sends its ClientHello. The same role
 * again does nothing; another role drops the current association and starts
 * over. 0, SFU_EINVAL, SFU_ESTATE (closing), SFU_ENOMEM, SFU_ECRYPTO. */
int sfu_dtls_run(sfu_dtls_t *d, sfu_dtls_role_t role);

/* Our role for the peer's signaled role (mediasoup WebRtcTransport connect):
 * a client peer makes us SERVER, a server or auto peer makes us CLIENT. */
sfu_dtls_role_t sfu_dtls_role_for_remote(sfu_dtls_role_t remote);

/* The fingerprint signaling gave ("AB:CD:...", any case). May come after the
 * handshake finished: it is checked at once then. 0, SFU_EINVAL. */
int sfu_dtls_set_remote_fingerprint(sfu_dtls_t *d, sfu_fingerprint_alg_t alg, const char *hex_colon);

/* RFC 7983: a DTLS datagram starts with a byte in 20..63 and holds at least a record header. */
bool sfu_dtls_is_dtls(const uint8_t *p, size_t len);

/* One received datagram. 0, SFU_EPROTO (not DTLS), SFU_ESTATE (not running:
 * dropped). Invalid records are silently discarded (RFC 6347 4.1.2.7):
 * every record is checked first (sfu_dtls_record_check) and only the ones
 * that are well formed for the current state reach OpenSSL; the rest count
 * in stats.records_dropped. Should OpenSSL still fail on a record without
 * the peer having sent an alert, the association is not ended: a CONNECTED
 * one keeps its state (and so its SRTP keys) with its alert unsent, and a
 * server that had not taken a ClientHello starts over, waiting for one.
 * Alerts from the peer close (close_notify) or fail it as usual. */
int sfu_dtls_process(sfu_dtls_t *d, const uint8_t *p, size_t len);

/* 0, SFU_ESTATE (not CONNECTED), SFU_EINVAL (len 0), SFU_ETOOBIG
 * (> SFU_DTLS_MAX_APP_DATA), SFU_ECRYPTO. */
int sfu_dtls_send_app_data(sfu_dtls_t *d, const uint8_t *p, size_t len);

/* Sends close_notify if CONNECTED, stops everything; no callback but cb runs
 * afterwards; freed after the loop turn. Idempotent. */
void sfu_dtls_close(sfu_dtls_t *d, sfu_dtls_close_cb cb);

/* The peer certificate in PEM once CONNECTED, else NULL. */
const char *sfu_dtls_remote_cert(const sfu_dtls_t *d);
const char *sfu_dtls_state_name(sfu_dtls_state_t s);
const char *sfu_dtls_role_name(sfu_dtls_role_t r);

#endif
