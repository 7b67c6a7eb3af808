#include "sfu_ice_server.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"

/* Big enough for any response we build: the longest error reason is ~60 bytes. */
#define SFU__ICE_RESPONSE_MAX 512

typedef enum sfu__ice_auth { SFU__AUTH_OK, SFU__AUTH_UNAUTHORIZED, SFU__AUTH_BAD_MESSAGE, SFU__AUTH_FAILED } sfu__ice_auth_t;

static const char sfu__alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

int sfu_ice_random_string(char *out, size_t len) {
  uint8_t buf[64];
  size_t n = 0, i;

  /* 62 * 4 = 248: bytes >= 248 are rejected so every character is equally likely. */
  while (n < len) {
    if (RAND_bytes(buf, (int)sizeof(buf)) != 1) {
      OPENSSL_cleanse(buf, sizeof(buf));
      return SFU_ECRYPTO;
    }
    for (i = 0; i < sizeof(buf) && n < len; i++)
      if (buf[i] < 248) out[n++] = sfu__alnum[buf[i] % 62];
  }
  out[len] = '\0';
  OPENSSL_cleanse(buf, sizeof(buf));
  return 0;
}

const char *sfu_ice_state_name(sfu_ice_state_t state) {
  switch (state) {
    case SFU_ICE_NEW:
      return "new";
    case SFU_ICE_CONNECTED:
      return "connected";
    case SFU_ICE_COMPLETED:
      return "completed";
    case SFU_ICE_DISCONNECTED:
      return "disconnected";
  }
  return "unknown";
}

/* Copies a credential or makes a random one of rand_len characters. */
static int sfu__set_cred(char *dst, size_t *dst_len, const char *src, size_t src_len, size_t rand_len) {
  int r;
  if (src == NULL) {
    if ((r = sfu_ice_random_string(dst, rand_len)) != 0) return r;
    *dst_len = rand_len;
    return 0;
  }
  if (src_len == 0 || src_len > SFU_ICE_CRED_MAX) return SFU_EINVAL;
  memcpy(dst, src, src_len);
  dst[src_len] = '\0';
  *dst_len = src_len;
  return 0;
}

static inline bool sfu__is_connected(const sfu_ice_server_t *srv) {
  return srv->state == SFU_ICE_CONNECTED || srv->state == SFU_ICE_COMPLETED;
}

/* ---- consent timer ---- */

static void sfu__consent_timer_cb(uv_timer_t *t) {
  sfu_ice_server_t *srv = t->data;
  if (srv == NULL || srv->closed) return;
  sfu__ice_server_consent_expired(srv);
}

static void sfu__consent_arm(sfu_ice_server_t *srv) {
  if (srv->consent_timeout_ms == 0 || srv->closed) return;
  uv_timer_start(srv->timer, sfu__consent_timer_cb, srv->consent_timeout_ms, 0); /* restarts if active */
}

static void sfu__consent_stop(sfu_ice_server_t *srv) { uv_timer_stop(srv->timer); }

/* ---- tuples ---- */

static sfu_ice_slot_t *sfu__find(const sfu_ice_server_t *srv, const sfu_tuple_t *tuple) {
  size_t i;
  if (srv->selected != NULL && sfu_tuple_equal(&srv->selected->tuple, tuple)) return srv->selected;
  for (i = 0; i < SFU_ICE_MAX_TUPLES + 1; i++)
    if (srv->slots[i].used && sfu_tuple_equal(&srv->slots[i].tuple, tuple))
      return (sfu_ice_slot_t *)&srv->slots[i];
  return NULL;
}

/* The newest (skip == NULL) or the oldest stored slot other than skip1/skip2. */
static sfu_ice_slot_t *sfu__pick(sfu_ice_server_t *srv, bool oldest, const sfu_ice_slot_t *skip1,
                                 const sfu_ice_slot_t *skip2) {
  sfu_ice_slot_t *best = NULL;
  size_t i;
  for (i = 0; i < SFU_ICE_MAX_TUPLES + 1; i++) {
    sfu_ice_slot_t *s = &srv->slots[i];
    if (!s->used || s == skip1 || s == skip2) continue;
    if (best == NULL || (oldest ? s->seq < best->seq : s->seq > best->seq)) best = s;
  }
  return best;
}

/* Takes a slot out of the list, then tells the owner (with a copy: the slot is already free). */
static void sfu__drop_slot(sfu_ice_server_t *srv, sfu_ice_slot_t *s) {
  sfu_tuple_t copy = s->tuple;
  s->used = false;
  srv->tuple_count--;
  if (srv->selected == s) srv->selected = NULL;
  if (srv->cb.on_tuple_removed != NULL) {
    srv->removing_tuples = true;
    srv->cb.on_tuple_removed(srv, &copy);
    srv->removing_tuples = false;
  }
}

/* Removes every tuple (consent expiry, close). */
static void sfu__drop_all(sfu_ice_server_t *srv) {
  sfu_tuple_t copies[SFU_ICE_MAX_TUPLES + 1];
  size_t i, n = 0;

  for (i = 0; i < SFU_ICE_MAX_TUPLES + 1; i++) {
    if (!srv->slots[i].used) continue;
    copies[n++] = srv->slots[i].tuple;
    srv->slots[i].used = false;
  }
  srv->tuple_count = 0;
  srv->selected = NULL;
  if (srv->cb.on_tuple_removed == NULL) return;
  srv->removing_tuples = true;
  for (i = 0; i < n; i++) srv->cb.on_tuple_removed(srv, &copies[i]);
  srv->removing_tuples = false;
}

/* Stores the tuple if new (evicting the oldest non-selected one beyond the
 * limit). NULL if a callback closed the server. */
static sfu_ice_slot_t *sfu__add_tuple(sfu_ice_server_t *srv, const sfu_tuple_t *tuple) {
  sfu_ice_slot_t *s = sfu__find(srv, tuple), *victim;
  size_t i;

  if (s != NULL) return s;
  for (i = 0; i < SFU_ICE_MAX_TUPLES + 1 && srv->slots[i].used; i++) {
  }
  s = &srv->slots[i]; /* tuple_count <= SFU_ICE_MAX_TUPLES here, so a slot is free */
  s->tuple = *tuple;
  s->seq = srv->next_seq++;
  s->used = true;
  srv->tuple_count++;
  SFU_DEBUG_TAG(&srv->ctx->log, ice, "tuple added [count:%zu]", srv->tuple_count);
  if (srv->cb.on_tuple_added != NULL) {
    srv->cb.on_tuple_added(srv, &s->tuple);
    if (srv->closed) return NULL;
  }

  if (srv->tuple_count > SFU_ICE_MAX_TUPLES) {
    SFU_WARN_TAG(&srv->ctx->log, ice, "too many tuples, removing the oldest non selected one");
    victim = sfu__pick(srv, true, s, srv->selected);
    if (victim != NULL) { /* always: at most one is selected */
      sfu__drop_slot(srv, victim);
      if (srv->closed) return NULL;
    }
  }
  return s;
}

/* Makes s the selected tuple (and re-arms consent for it). False if a callback closed the server. */
static bool sfu__select(sfu_ice_server_t *srv, sfu_ice_slot_t *s) {
  if (srv->selected == s) return true;
  srv->selected = s;
  sfu__consent_arm(srv);
  SFU_DEBUG_TAG(&srv->ctx->log, ice, "selected tuple changed");
  if (srv->cb.on_selected_tuple != NULL) srv->cb.on_selected_tuple(srv, &s->tuple);
  return !srv->closed;
}

static void sfu__set_state(sfu_ice_server_t *srv, sfu_ice_state_t state) {
  SFU_DEBUG_TAG(&srv->ctx->log, ice, "state %s -> %s", sfu_ice_state_name(srv->state), sfu_ice_state_name(state));
  srv->state = state;
}

static void sfu__notify_state(sfu_ice_server_t *srv) {
  if (srv->cb.on_state != NULL) srv->cb.on_state(srv, srv->state);
}

/* mediasoup's HandleTuple. */
static void sfu__handle_tuple(sfu_ice_server_t *srv, const sfu_tuple_t *tuple, bool use_candidate,
                              bool has_nomination, uint32_t nomination) {
  bool new_nomination = has_nomination && nomination > srv->remote_nomination;
  bool nominating = new_nomination || (use_candidate && !has_nomination);
  sfu_ice_slot_t *s;

  if ((s = sfu__add_tuple(srv, tuple)) == NULL) return;

  switch (srv->state) {
    case SFU_ICE_NEW:
    case SFU_ICE_DISCONNECTED:
    case SFU_ICE_CONNECTED:
      if (!use_candidate && !has_nomination) {
        if (srv->state == SFU_ICE_CONNECTED) break; /* just stored */
        sfu__set_state(srv, SFU_ICE_CONNECTED);
        if (!sfu__select(srv, s)) return;
        sfu__notify_state(srv);
      } else if (nominating) {
        sfu__set_state(srv, SFU_ICE_COMPLETED);
        if (new_nomination) srv->remote_nomination = nomination;
        if (!sfu__select(srv, s)) return;
        sfu__notify_state(srv);
      }
      break;
    case SFU_ICE_COMPLETED:
      if (new_nomination || use_candidate) {
        if (new_nomination) srv->remote_nomination = nomination;
        sfu__select(srv, s);
      }
      break;
  }
}

/* ---- requests ---- */

static void sfu__send(sfu_ice_server_t *srv, const sfu_tuple_t *tuple, const uint8_t *p, int len) {
  if (len < 0) {
    SFU_WARN_TAG(&srv->ctx->log, ice, "cannot build STUN response: %s", sfu_strerror(len));
    return;
  }
  if (srv->cb.send != NULL) srv->cb.send(srv, tuple, p, (size_t)len);
}

static void sfu__reply_error(sfu_ice_server_t *srv, const sfu_tuple_t *tuple, const sfu_stun_msg_t *req,
                             uint16_t code, const char *reason) {
  uint8_t buf[SFU__ICE_RESPONSE_MAX];
  SFU_WARN_TAG(&srv->ctx->log, ice, "STUN Binding request rejected => %u (%s)", (unsigned)code, reason);
  sfu__send(srv, tuple, buf, sfu_stun_build_error(buf, sizeof(buf), req, code, reason));
}

static sfu__ice_auth_t sfu__check_auth(const sfu_stun_msg_t *m, const uint8_t *p, size_t len, const char *ufrag,
                                       size_t ufrag_len, const char *pwd, size_t pwd_len) {
  int r;
  if (!sfu_stun_has(m, SFU_STUN_HAS_USERNAME | SFU_STUN_HAS_INTEGRITY)) return SFU__AUTH_BAD_MESSAGE;
  if (m->username_len <= ufrag_len || m->username[ufrag_len] != ':' || memcmp(m->username, ufrag, ufrag_len) != 0)
    return SFU__AUTH_UNAUTHORIZED;
  r = sfu_stun_check_integrity(m, p, len, pwd, pwd_len);
  if (r == 0) return SFU__AUTH_OK;
  return r == SFU_EPROTO ? SFU__AUTH_UNAUTHORIZED : SFU__AUTH_FAILED;
}

static void sfu__process_request(sfu_ice_server_t *srv, const sfu_tuple_t *tuple, const sfu_stun_msg_t *m,
                                 const uint8_t *p, size_t len) {
  uint8_t buf[SFU__ICE_RESPONSE_MAX];
  const char *key;
  size_t key_len;

  if (m->method != SFU_STUN_METHOD_BINDING) {
    sfu__reply_error(srv, tuple, m, 400, "unknown method");
    return;
  }
  if (!sfu_stun_has(m, SFU_STUN_HAS_FINGERPRINT)) {
    sfu__reply_error(srv, tuple, m, 400, "missing FINGERPRINT attribute in STUN Binding request");
    return;
  }
  if (!sfu_stun_has(m, SFU_STUN_HAS_PRIORITY)) {
    sfu__reply_error(srv, tuple, m, 400, "missing PRIORITY attribute in STUN Binding request");
    return;
  }

  switch (sfu__check_auth(m, p, len, srv->ufrag, srv->ufrag_len, srv->pwd, srv->pwd_len)) {
    case SFU__AUTH_OK:
      if (srv->old_ufrag_len > 0) {
        char old[SFU_ICE_CRED_MAX + 1];
        size_t old_len = srv->old_ufrag_len;
        SFU_DEBUG_TAG(&srv->ctx->log, ice, "new ICE credentials applied");
        memcpy(old, srv->old_ufrag, old_len + 1);
        srv->old_ufrag_len = 0;
        srv->old_ufrag[0] = '\0';
        OPENSSL_cleanse(srv->old_pwd, sizeof(srv->old_pwd));
        srv->old_pwd_len = 0;
        if (srv->cb.on_ufrag_removed != NULL) {
          srv->cb.on_ufrag_removed(srv, old, old_len);
          if (srv->closed) return;
        }
      }
      break;
    case SFU__AUTH_UNAUTHORIZED:
      if (srv->old_ufrag_len > 0 && sfu__check_auth(m, p, len, srv->old_ufrag, srv->old_ufrag_len, srv->old_pwd,
                                                    srv->old_pwd_len) == SFU__AUTH_OK) {
        SFU_DEBUG_TAG(&srv->ctx->log, ice, "using old ICE credentials");
        break;
      }
      sfu__reply_error(srv, tuple, m, 401, "wrong authentication in STUN Binding request");
      return;
    case SFU__AUTH_BAD_MESSAGE:
      sfu__reply_error(srv, tuple, m, 400, "cannot check authentication in STUN Binding request");
      return;
    case SFU__AUTH_FAILED:
      SFU_WARN_TAG(&srv->ctx->log, ice, "cannot compute MESSAGE-INTEGRITY, STUN Binding request dropped");
      return;
  }

  if (sfu_stun_has(m, SFU_STUN_HAS_ICE_CONTROLLED)) {
    sfu__reply_error(srv, tuple, m, 487, "invalid ICE-CONTROLLED attribute in STUN Binding request");
    return;
  }

  SFU_DEBUG_TAG(&srv->ctx->log, ice, "valid STUN Binding request [priority:%lu, useCandidate:%s]",
                (unsigned long)m->priority, sfu_stun_has(m, SFU_STUN_HAS_USE_CANDIDATE) ? "true" : "false");

  /* Answer with the password the request was made with. */
  key = srv->old_ufrag_len > 0 ? srv->old_pwd : srv->pwd;
  key_len = srv->old_ufrag_len > 0 ? srv->old_pwd_len : srv->pwd_len;
  sfu__send(srv, tuple, buf,
            sfu_stun_build_success(buf, sizeof(buf), m, (const struct sockaddr *)&tuple->remote, key, key_len));
  if (srv->closed) return;

  sfu__handle_tuple(srv, tuple, sfu_stun_has(m, SFU_STUN_HAS_USE_CANDIDATE), sfu_stun_has_nomination(m),
                    m->nomination);
  if (srv->closed) return;

  /* Consent (RFC 7675) is refreshed by checks on the selected tuple. */
  if (sfu__is_connected(srv) && srv->selected != NULL && sfu_tuple_equal(&srv->selected->tuple, tuple))
    sfu__consent_arm(srv);
}

int sfu_ice_server_process_msg(sfu_ice_server_t *srv, const sfu_tuple_t *tuple, const sfu_stun_msg_t *m,
                               const uint8_t *p, size_t len) {
  if (srv->closed) return SFU_ESTATE;
  if (tuple == NULL) return SFU_EINVAL;
  /* mediasoup drops a message whose FINGERPRINT is wrong when parsing it. */
  if (sfu_stun_has(m, SFU_STUN_HAS_FINGERPRINT) && !sfu_stun_check_fingerprint(m, p, len)) {
    SFU_WARN_TAG(&srv->ctx->log, ice, "STUN message with wrong FINGERPRINT dropped");
    return SFU_EPROTO;
  }
  switch (m->klass) {
    case SFU_STUN_REQUEST:
      sfu__process_request(srv, tuple, m, p, len);
      break;
    case SFU_STUN_INDICATION:
      SFU_DEBUG_TAG(&srv->ctx->log, ice, "STUN indication ignored");
      break;
    case SFU_STUN_SUCCESS_RESPONSE:
    case SFU_STUN_ERROR_RESPONSE:
      SFU_DEBUG_TAG(&srv->ctx->log, ice, "STUN response ignored");
      break;
  }
  return 0;
}

int sfu_ice_server_process(sfu_ice_server_t *srv, const sfu_tuple_t *tuple, const uint8_t *p, size_t len) {
  sfu_stun_msg_t m;
  if (srv->closed) return SFU_ESTATE;
  if (sfu_stun_parse(&m, p, len) != 0) {
    SFU_WARN_TAG(&srv->ctx->log, ice, "ignoring wrong STUN packet received");
    return SFU_EPROTO;
  }
  return sfu_ice_server_process_msg(srv, tuple, &m, p, len);
}

/* ---- owner events ---- */

void sfu_ice_server_remove_tuple(sfu_ice_server_t *srv, const sfu_tuple_t *tuple) {
  sfu_ice_slot_t *s, *next;
  bool was_selected;

  if (srv->closed || srv->removing_tuples) return;
  if ((s = sfu__find(srv, tuple)) == NULL) return;
  was_selected = s == srv->selected;
  sfu__drop_slot(srv, s);
  if (srv->closed || !was_selected) return;

  if (sfu__is_connected(srv) && (next = sfu__pick(srv, false, NULL, NULL)) != NULL) {
    sfu__select(srv, next); /* re-arms consent */
    return;
  }
  sfu__set_state(srv, SFU_ICE_DISCONNECTED);
  srv->remote_nomination = 0;
  sfu__consent_stop(srv);
  sfu__notify_state(srv);
}

bool sfu_ice_server_is_valid_tuple(const sfu_ice_server_t *srv, const sfu_tuple_t *tuple) {
  return !srv->closed && sfu__find(srv, tuple) != NULL;
}

void sfu_ice_server_may_force_selected_tuple(sfu_ice_server_t *srv, const sfu_tuple_t *tuple) {
  sfu_ice_slot_t *s;
  if (srv->closed) return;
  if (!sfu__is_connected(srv)) {
    SFU_WARN_TAG(&srv->ctx->log, ice, "cannot force selected tuple if not in state 'connected' or 'completed'");
    return;
  }
  if ((s = sfu__find(srv, tuple)) == NULL) {
    SFU_WARN_TAG(&srv->ctx->log, ice, "cannot force selected tuple if the given tuple was not already a valid one");
    return;
  }
  sfu__select(srv, s);
}

void sfu__ice_server_consent_expired(sfu_ice_server_t *srv) {
  if (srv->closed || !sfu__is_connected(srv) || srv->selected == NULL) return;
  SFU_WARN_TAG(&srv->ctx->log, ice, "ICE consent expired due to timeout, moving to 'disconnected' state");
  sfu__consent_stop(srv);
  sfu__set_state(srv, SFU_ICE_DISCONNECTED);
  srv->remote_nomination = 0;
  sfu__drop_all(srv);
  if (srv->closed) return;
  sfu__notify_state(srv);
}

int sfu_ice_server_restart(sfu_ice_server_t *srv, const char *ufrag, size_t ufrag_len, const char *pwd,
                           size_t pwd_len) {
  char new_ufrag[SFU_ICE_CRED_MAX + 1], new_pwd[SFU_ICE_CRED_MAX + 1];
  char removed[SFU_ICE_CRED_MAX + 1];
  size_t new_ufrag_len, new_pwd_len, removed_len = srv->old_ufrag_len;
  int r;

  if (srv->closed) return SFU_ESTATE;
  if ((r = sfu__set_cred(new_ufrag, &new_ufrag_len, ufrag, ufrag_len, SFU_ICE_UFRAG_LEN)) != 0) return r;
  if ((r = sfu__set_cred(new_pwd, &new_pwd_len, pwd, pwd_len, SFU_ICE_PWD_LEN)) != 0) goto done;

  memcpy(removed, srv->old_ufrag, removed_len + 1);
  memcpy(srv->old_ufrag, srv->ufrag, srv->ufrag_len + 1);
  srv->old_ufrag_len = srv->ufrag_len;
  memcpy(srv->old_pwd, srv->pwd, srv->pwd_len + 1);
  srv->old_pwd_len = srv->pwd_len;
  memcpy(srv->ufrag, new_ufrag, new_ufrag_len + 1);
  srv->ufrag_len = new_ufrag_len;
  memcpy(srv->pwd, new_pwd, new_pwd_len + 1);
  srv->pwd_len = new_pwd_len;
  srv->remote_nomination = 0;

  /* Give the peer time to come back with the new credentials. */
  if (srv->consent_timeout_ms > 0 && uv_is_active((uv_handle_t *)srv->timer)) sfu__consent_arm(srv);

  if (removed_len > 0 && srv->cb.on_ufrag_removed != NULL) {
    srv->cb.on_ufrag_removed(srv, removed, removed_len);
    if (srv->closed) goto done;
  }
  if (srv->cb.on_ufrag_added != NULL) srv->cb.on_ufrag_added(srv, srv->ufrag, srv->ufrag_len);

done:
  OPENSSL_cleanse(new_pwd, sizeof(new_pwd));
  return r;
}

void sfu_ice_server_set_consent_timeout_ms(sfu_ice_server_t *srv, uint64_t ms) {
  if (srv->closed) return;
  srv->consent_timeout_ms = ms;
  if (ms == 0)
    sfu__consent_stop(srv);
  else if (uv_is_active((uv_handle_t *)srv->timer))
    sfu__consent_arm(srv);
}

/* ---- accessors ---- */

const char *sfu_ice_server_ufrag(const sfu_ice_server_t *srv) { return srv->ufrag; }
const char *sfu_ice_server_pwd(const sfu_ice_server_t *srv) { return srv->pwd; }
sfu_ice_state_t sfu_ice_server_state(const sfu_ice_server_t *srv) { return srv->state; }
sfu_ice_role_t sfu_ice_server_role(const sfu_ice_server_t *srv) {
  (void)srv; /* ICE-lite: always controlled */
  return SFU_ICE_CONTROLLED;
}
size_t sfu_ice_server_tuple_count(const sfu_ice_server_t *srv) { return srv->tuple_count; }

const sfu_tuple_t *sfu_ice_server_selected_tuple(const sfu_ice_server_t *srv) {
  return srv->selected != NULL ? &srv->selected->tuple : NULL;
}

/* ---- life cycle ---- */

int sfu_ice_server_create(sfu_ctx_t *ctx, const sfu_ice_server_options_t *opts,
                          const sfu_ice_server_callbacks_t *callbacks, void *data, sfu_ice_server_t **out) {
  sfu_ice_server_t *srv;
  uint8_t consent;
  int r;

  if ((srv = calloc(1, sizeof(*srv))) == NULL) return SFU_ENOMEM;
  srv->ctx = ctx;
  srv->data = data;
  if (callbacks != NULL) srv->cb = *callbacks;
  srv->state = SFU_ICE_NEW;
  srv->next_seq = 1;

  if ((r = sfu__set_cred(srv->ufrag, &srv->ufrag_len, opts != NULL ? opts->ufrag : NULL,
                         opts != NULL ? opts->ufrag_len : 0, SFU_ICE_UFRAG_LEN)) != 0)
    goto fail;
  if ((r = sfu__set_cred(srv->pwd, &srv->pwd_len, opts != NULL ? opts->pwd : NULL, opts != NULL ? opts->pwd_len : 0,
                         SFU_ICE_PWD_LEN)) != 0)
    goto fail;

  consent = opts != NULL ? opts->consent_timeout_sec : SFU_ICE_CONSENT_DEFAULT_SEC;
  if (consent != 0 && consent < SFU_ICE_CONSENT_MIN_SEC) {
    SFU_WARN_TAG(&ctx->log, ice, "consentTimeoutSec cannot be lower than %d seconds, fixing it",
                 SFU_ICE_CONSENT_MIN_SEC);
    consent = SFU_ICE_CONSENT_MIN_SEC;
  } else if (consent > SFU_ICE_CONSENT_MAX_SEC) {
    SFU_WARN_TAG(&ctx->log, ice, "consentTimeoutSec cannot be higher than %d seconds, fixing it",
                 SFU_ICE_CONSENT_MAX_SEC);
    consent = SFU_ICE_CONSENT_MAX_SEC;
  }
  srv->consent_timeout_ms = (uint64_t)consent * 1000u;

  if ((srv->timer = malloc(sizeof(*srv->timer))) == NULL) {
    r = SFU_ENOMEM;
    goto fail;
  }
  if (uv_timer_init(ctx->loop, srv->timer) != 0) {
    free(srv->timer);
    r = SFU_EIO;
    goto fail;
  }
  srv->timer->data = srv;

  *out = srv;
  if (srv->cb.on_ufrag_added != NULL) srv->cb.on_ufrag_added(srv, srv->ufrag, srv->ufrag_len);
  return 0;

fail:
  OPENSSL_cleanse(srv, sizeof(*srv));
  free(srv);
  return r;
}

static void sfu__timer_closed(uv_handle_t *h) {
  sfu_ice_server_t *srv = h->data;
  free(h);
  if (srv == NULL) return;
  if (srv->close_cb != NULL) srv->close_cb(srv);
  OPENSSL_cleanse(srv, sizeof(*srv));
  free(srv);
}

void sfu_ice_server_close(sfu_ice_server_t *srv, sfu_ice_server_close_cb cb) {
  if (srv->closed) return;
  srv->closed = true;
  srv->close_cb = cb;
  uv_timer_stop(srv->timer);

  if (srv->cb.on_ufrag_removed != NULL) {
    srv->cb.on_ufrag_removed(srv, srv->ufrag, srv->ufrag_len);
    if (srv->old_ufrag_len > 0) srv->cb.on_ufrag_removed(srv, srv->old_ufrag, srv->old_ufrag_len);
  }
  sfu__drop_all(srv);

  /* The timer's close callback frees the server: the handle's data stays
   * set for it, the timer callback itself checks srv->closed. */
  uv_close((uv_handle_t *)srv->timer, sfu__timer_closed);
}
