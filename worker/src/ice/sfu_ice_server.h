/* ICE-lite server (RFC 8445 section 2.5 "lite", RFC 7675 consent freshness)
 * of a WebRtcTransport, with mediasoup 3.27.1's IceServer behaviour.
 *
 * We are always the controlled agent and never send requests: we answer
 * Binding requests that carry our credentials and learn the remote tuples
 * from them. Per request (in this order, as mediasoup):
 *   - not STUN / malformed / FINGERPRINT present but wrong: dropped;
 *   - indications and responses: ignored;
 *   - method other than Binding: 400;
 *   - no FINGERPRINT: 400; no PRIORITY: 400;
 *   - no USERNAME or no MESSAGE-INTEGRITY: 400;
 *   - USERNAME not "<local ufrag>:..." or MESSAGE-INTEGRITY not made with
 *     our password: 401 (after an ICE restart the previous ufrag/password
 *     are still accepted until the first request made with the new ones);
 *   - ICE-CONTROLLED present (the peer is controlled too): 487;
 *   - otherwise a success response (XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY
 *     with the password the request used, FINGERPRINT), then the tuple:
 *     stored if new (at most SFU_ICE_MAX_TUPLES: the oldest tuple that is
 *     neither the new one nor the selected one is evicted), and states
 *     ("nominating": NOMINATION (0x0030 or 0xC001) above the last one seen,
 *     or USE-CANDIDATE without any NOMINATION):
 *       NEW/DISCONNECTED, no USE-CANDIDATE nor NOMINATION -> CONNECTED, selected
 *       NEW/DISCONNECTED/CONNECTED, nominating            -> COMPLETED, selected
 *       COMPLETED, USE-CANDIDATE or NOMINATION above the last one -> selected
 *     anything else only stores the tuple.
 * Error responses carry ERROR-CODE and FINGERPRINT, no MESSAGE-INTEGRITY.
 *
 * Consent freshness: with a consent timeout (seconds, 0 disables, otherwise
 * clamped to 10..60 as mediasoup), if no valid Binding request arrives on the
 * selected tuple for that long, every tuple is removed, the state goes to
 * DISCONNECTED. The timer is (re)armed by a valid request on the selected
 * tuple and whenever another tuple becomes the selected one. (mediasoup
 * re-arms on a valid request from any tuple; RFC 7675 ties consent to the
 * selected pair, which is what this does.)
 *
 * Callbacks run synchronously from sfu_ice_server_process(),
 * sfu_ice_server_remove_tuple(), sfu_ice_server_restart(), the consent timer
 * and sfu_ice_server_close(). The tuple pointers they get are valid during the
 * callback only (copy the tuple to keep it). A callback may close the server:
 * nothing else happens on it afterwards. Order as mediasoup: response sent,
 * then tuple added, tuple removed (eviction), selected tuple, state. */
#ifndef SFU_ICE_SERVER_H
#define SFU_ICE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sfu_ctx.h"
#include "sfu_stun.h"
#include "sfu_tuple.h"

#define SFU_ICE_MAX_TUPLES 8
#define SFU_ICE_UFRAG_LEN 16 /* random local ufrag: [A-Za-z0-9] */
#define SFU_ICE_PWD_LEN 32   /* random local password: [A-Za-z0-9] */
#define SFU_ICE_CRED_MAX 256 /* longest ufrag/password accepted (RFC 8445: 256 characters) */
#define SFU_ICE_CONSENT_DEFAULT_SEC 30
#define SFU_ICE_CONSENT_MIN_SEC 10
#define SFU_ICE_CONSENT_MAX_SEC 60

/* = FBS.WebRtcTransport.IceState */
typedef enum sfu_ice_state {
  SFU_ICE_NEW = 0,
  SFU_ICE_CONNECTED = 1,
  SFU_ICE_COMPLETED = 2,
  SFU_ICE_DISCONNECTED = 3
} sfu_ice_state_t;

/* = FBS.WebRtcTransport.IceRole */
typedef enum sfu_ice_role { SFU_ICE_CONTROLLED = 0, SFU_ICE_CONTROLLING = 1 } sfu_ice_role_t;

typedef struct sfu_ice_server sfu_ice_server_t;
typedef void (*sfu_ice_server_close_cb)(sfu_ice_server_t *srv);

/* Every callback may be NULL. `srv->data` is the owner's. */
typedef struct sfu_ice_server_callbacks {
  /* Send a STUN message on `tuple` (the tuple the request came from). */
  void (*send)(sfu_ice_server_t *srv, const sfu_tuple_t *tuple, const uint8_t *p, size_t len);
  /* A new valid tuple. */
  void (*on_tuple_added)(sfu_ice_server_t *srv, const sfu_tuple_t *tuple);
  /* A tuple left the list (evicted, consent expired, removed by the owner,
   * server closing). For TCP the owner closes the connection (which may
   * already be closed when the owner itself called remove_tuple). */
  void (*on_tuple_removed)(sfu_ice_server_t *srv, const sfu_tuple_t *tuple);
  /* The selected tuple changed (never called with NULL: losing the selected
   * tuple is the DISCONNECTED state). */
  void (*on_selected_tuple)(sfu_ice_server_t *srv, const sfu_tuple_t *tuple);
  /* CONNECTED, COMPLETED or DISCONNECTED. */
  void (*on_state)(sfu_ice_server_t *srv, sfu_ice_state_t state);
  /* A local ufrag starts/stops being ours (a WebRtcServer maps ufrags to
   * transports): added for the initial ufrag (from within create) and on
   * restart; removed when the old one is dropped and, for all, on close. */
  void (*on_ufrag_added)(sfu_ice_server_t *srv, const char *ufrag, size_t len);
  void (*on_ufrag_removed)(sfu_ice_server_t *srv, const char *ufrag, size_t len);
} sfu_ice_server_callbacks_t;

typedef struct sfu_ice_server_options {
  /* Local credentials; NULL: random (SFU_ICE_UFRAG_LEN / SFU_ICE_PWD_LEN). */
  const char *ufrag;
  size_t ufrag_len;
  const char *pwd;
  size_t pwd_len;
  uint8_t consent_timeout_sec; /* mediasoup's iceConsentTimeout: 0 disables, else clamped to 10..60 */
} sfu_ice_server_options_t;

typedef struct sfu_ice_slot {
  sfu_tuple_t tuple;
  uint64_t seq; /* insertion order: higher is newer */
  bool used;
} sfu_ice_slot_t;

struct sfu_ice_server {
  sfu_ctx_t *ctx;
  void *data; /* owner's */
  sfu_ice_server_callbacks_t cb;
  char ufrag[SFU_ICE_CRED_MAX + 1];
  size_t ufrag_len;
  char pwd[SFU_ICE_CRED_MAX + 1];
  size_t pwd_len;
  char old_ufrag[SFU_ICE_CRED_MAX + 1]; /* after a restart, until the first request with the new ones */
  size_t old_ufrag_len;                 /* 0: none */
  char old_pwd[SFU_ICE_CRED_MAX + 1];
  size_t old_pwd_len;
  sfu_ice_state_t state;
  uint32_t remote_nomination;
  /* One slot more than the limit: a new tuple is stored, then the limit enforced. */
  sfu_ice_slot_t slots[SFU_ICE_MAX_TUPLES + 1];
  size_t tuple_count;
  uint64_t next_seq;
  sfu_ice_slot_t *selected; /* NULL in NEW and DISCONNECTED */
  uint64_t consent_timeout_ms; /* 0: disabled */
  uv_timer_t *timer; /* consent; its own allocation, data = this server, closed with it */
  bool removing_tuples; /* inside on_tuple_removed: remove_tuple() calls are ignored */
  bool closed;
  sfu_ice_server_close_cb close_cb;
};

/* Creates a server (state NEW). `callbacks` is copied. on_ufrag_added runs
 * before this returns. 0, SFU_EINVAL (credential empty or longer than
 * SFU_ICE_CRED_MAX), SFU_ENOMEM, SFU_ECRYPTO (no randomness), SFU_EIO (timer). */
int sfu_ice_server_create(sfu_ctx_t *ctx, const sfu_ice_server_options_t *opts,
                          const sfu_ice_server_callbacks_t *callbacks, void *data, sfu_ice_server_t **out);

/* Closes: on_ufrag_removed for the current (and old) ufrag, on_tuple_removed
 * for every tuple, stops the consent timer; memory is freed after the loop
 * turn (the timer's close), then cb(srv) runs. Later calls into the server are
 * no-ops. */
void sfu_ice_server_close(sfu_ice_server_t *srv, sfu_ice_server_close_cb cb);

/* A STUN packet that arrived on `tuple`. 0 when it was handled (answered or
 * ignored as mediasoup does), SFU_EPROTO when dropped as malformed (or with a
 * wrong FINGERPRINT), SFU_ESTATE when closed. */
int sfu_ice_server_process(sfu_ice_server_t *srv, const sfu_tuple_t *tuple, const uint8_t *p, size_t len);
/* The same for a message already parsed (a WebRtcServer parses once to find
 * the transport). p/len: the bytes m was parsed from. */
int sfu_ice_server_process_msg(sfu_ice_server_t *srv, const sfu_tuple_t *tuple, const sfu_stun_msg_t *m,
                               const uint8_t *p, size_t len);

/* RESTART_ICE: new local credentials (NULL: random). The old ones stay valid
 * until the first request made with the new ones; the nomination counter is
 * reset; a running consent timer is re-armed. on_ufrag_removed(previous old
 * ufrag, if still pending) and on_ufrag_added(new) run. 0, SFU_EINVAL,
 * SFU_ECRYPTO, SFU_ESTATE (closed). */
int sfu_ice_server_restart(sfu_ice_server_t *srv, const char *ufrag, size_t ufrag_len, const char *pwd,
                           size_t pwd_len);

/* The owner lost a tuple (its TCP connection closed). Unknown tuples and calls
 * made from inside on_tuple_removed are ignored. If it was the selected tuple:
 * in CONNECTED/COMPLETED the newest remaining tuple is selected (consent timer
 * re-armed), else -> DISCONNECTED. */
void sfu_ice_server_remove_tuple(sfu_ice_server_t *srv, const sfu_tuple_t *tuple);

/* A stored tuple (media may arrive only from these). */
bool sfu_ice_server_is_valid_tuple(const sfu_ice_server_t *srv, const sfu_tuple_t *tuple);

/* mediasoup's MayForceSelectedTuple: data (DTLS, RTP, RTCP) arrived on a valid
 * tuple; in CONNECTED/COMPLETED it becomes the selected one. */
void sfu_ice_server_may_force_selected_tuple(sfu_ice_server_t *srv, const sfu_tuple_t *tuple);

/* Accessors (for the transport's dump/stats and ICE parameters). Strings are
 * NUL-terminated. The selected tuple: NULL or a pointer valid until the next
 * call into the server. */
const char *sfu_ice_server_ufrag(const sfu_ice_server_t *srv);
const char *sfu_ice_server_pwd(const sfu_ice_server_t *srv);
sfu_ice_state_t sfu_ice_server_state(const sfu_ice_server_t *srv);
const sfu_tuple_t *sfu_ice_server_selected_tuple(const sfu_ice_server_t *srv);
sfu_ice_role_t sfu_ice_server_role(const sfu_ice_server_t *srv);
size_t sfu_ice_server_tuple_count(const sfu_ice_server_t *srv);
/* "new" | "connected" | "completed" | "disconnected". */
const char *sfu_ice_state_name(sfu_ice_state_t state);

/* Fills out[0..len) with random [A-Za-z0-9] (OpenSSL RAND, unbiased) and
 * out[len] = '\0'. 0 or SFU_ECRYPTO. */
int sfu_ice_random_string(char *out, size_t len);

/* Tests and fuzzing: the consent timeout in milliseconds, no clamping (0
 * disables; a running timer is re-armed with the new value). */
void sfu_ice_server_set_consent_timeout_ms(sfu_ice_server_t *srv, uint64_t ms);
/* Tests and fuzzing: what the consent timer does when it fires. */
void sfu__ice_server_consent_expired(sfu_ice_server_t *srv);

#endif
