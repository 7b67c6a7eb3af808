/*
 * libFuzzer target for a connected worker/src/dtls/sfu_dtls session.
 *
 * Every input starts with a real DTLS 1.2 handshake between the target and a
 * peer (both sfu_dtls_t, datagrams pumped in memory, no loss), then runs
 * operations on the connected pair. Input: [0] bit 0 = the target is the
 * client; then operations, each an opcode byte and its arguments:
 *   0  raw datagram: u16 length + bytes, to the target
 *   1  the peer sends u8+1 bytes of application data, delivered as it is
 *   2  the same, delivered with one byte changed (u16 position, u8 xor) and,
 *      if the xor's low bit is set, the original afterwards (which must open)
 *   3  the peer's last real datagram again (a replay, or late if it was
 *      only delivered changed)
 *   4  the peer's last real datagram cut at u16 position
 *   5  the target sends u8+1 bytes of application data to the peer
 *   6  a record header over bytes of the input: u8 type, u16 version,
 *      u16 epoch, u8 body length, body from the input
 * Checked after every operation: the target stays CONNECTED, OpenSSL never
 * failed on what the target was given (no record_errors: everything that
 * reaches OpenSSL is well formed), the target sends nothing but the
 * application data it was asked to, real application data arrives exactly
 * once and intact, and nothing leaks after close.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "sfu_cert.h"
#include "sfu_ctx.h"
#include "sfu_dtls.h"
#include "sfu_dtls_ctx.h"
#include "sfu_error.h"

#define CHECK(x)                \
  do {                          \
    if (!(x)) __builtin_trap(); \
  } while (0)

#define MAX_QUEUE 64
#define MAX_DGRAM 2048

typedef struct dgram {
  int to;
  size_t len;
  uint8_t data[MAX_DGRAM];
} dgram_t;

typedef struct end {
  sfu_dtls_t *d;
  int idx;
  int sent;
  int msgs;
  size_t last_msg_len;
  uint8_t last_msg[256];
  uint8_t last_dgram[MAX_DGRAM]; /* the last datagram this end sent */
  size_t last_dgram_len;
  int states;
} end_t;

static uv_loop_t loop;
static sfu_settings_t settings;
static sfu_ctx_t ctx;
static sfu_cert_t cert;
static sfu_dtls_ctx_t dc[2];
static dgram_t queue[MAX_QUEUE];
static int queued;
static end_t ends[2];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  CHECK(uv_loop_init(&loop) == 0);
  sfu_settings_init(&settings);
  settings.log_level = SFU_LOG_LEVEL_NONE;
  CHECK(sfu_ctx_init(&ctx, &loop, &settings) == 0);
  CHECK(sfu_cert_generate(&cert) == 0);
  for (int i = 0; i < 2; i++) CHECK(sfu_dtls_ctx_init(&dc[i], &ctx, &cert, NULL) == 0);
  return 0;
}

static void on_send(sfu_dtls_t *d, const uint8_t *p, size_t len) {
  end_t *e = d->data;
  CHECK(sfu_dtls_is_dtls(p, len));
  CHECK(len <= MAX_DGRAM);
  e->sent++;
  memcpy(e->last_dgram, p, len);
  e->last_dgram_len = len;
  if (queued < MAX_QUEUE) {
    queue[queued].to = 1 - e->idx;
    queue[queued].len = len;
    memcpy(queue[queued].data, p, len);
    queued++;
  }
}

static void on_state(sfu_dtls_t *d, sfu_dtls_state_t st) {
  end_t *e = d->data;
  (void)st;
  e->states++;
}

static void on_app_data(sfu_dtls_t *d, const uint8_t *p, size_t len) {
  end_t *e = d->data;
  CHECK(d->state == SFU_DTLS_CONNECTED && len > 0);
  e->msgs++;
  e->last_msg_len = len;
  memcpy(e->last_msg, p, len < sizeof(e->last_msg) ? len : sizeof(e->last_msg));
}

static void on_closed(sfu_dtls_t *d) {
  end_t *e = d->data;
  e->d = NULL;
}

/* Delivers everything queued (and what that makes the ends send). */
static void pump(void) {
  for (int rounds = 0; rounds < 64 && queued > 0; rounds++) {
    dgram_t batch[MAX_QUEUE];
    int n = queued;
    memcpy(batch, queue, sizeof(dgram_t) * (size_t)n);
    queued = 0;
    for (int i = 0; i < n; i++)
      if (ends[batch[i].to].d != NULL) (void)sfu_dtls_process(ends[batch[i].to].d, batch[i].data, batch[i].len);
  }
}

/* Reads n bytes of the input, or fewer at its end. */
static size_t take(const uint8_t *data, size_t size, size_t *off, size_t n) {
  size_t left = size - *off;
  if (n > left) n = left;
  *off += n;
  return n;
}

static unsigned take_u8(const uint8_t *data, size_t size, size_t *off) {
  return *off < size ? data[(*off)++] : 0;
}

static unsigned take_u16(const uint8_t *data, size_t size, size_t *off) {
  unsigned hi = take_u8(data, size, off);
  return (hi << 8) | take_u8(data, size, off);
}

/* The peer sends n bytes of application data; its datagram is captured, not delivered. */
static size_t peer_app_data(end_t *peer, uint8_t *out, size_t n, uint8_t fill) {
  uint8_t msg[256];
  memset(msg, fill, n);
  msg[0] = (uint8_t)n;
  int before = peer->sent;
  CHECK(sfu_dtls_send_app_data(peer->d, msg, n) == 0);
  CHECK(peer->sent == before + 1); /* small messages: one datagram */
  queued--;                        /* not delivered by pump() */
  memcpy(out, peer->last_dgram, peer->last_dgram_len);
  return peer->last_dgram_len;
}

static void deliver_to_target(end_t *target, const uint8_t *p, size_t len) {
  int r = sfu_dtls_process(target->d, p, len);
  CHECK(r == 0 || r == SFU_EPROTO);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const sfu_dtls_callbacks_t cb = {.send = on_send, .on_state = on_state, .on_app_data = on_app_data};
  uint8_t buf[MAX_DGRAM + 16];
  uint8_t real[MAX_DGRAM];
  size_t real_len = 0, off = 1;
  bool real_taken = false; /* the target took real[] already */
  end_t *target, *peer;
  int client;

  if (size < 1) return 0;
  client = data[0] & 1;
  memset(ends, 0, sizeof(ends));
  queued = 0;
  for (int i = 0; i < 2; i++) {
    ends[i].idx = i;
    CHECK(sfu_dtls_create(&dc[i], &cb, &ends[i], &ends[i].d) == 0);
    CHECK(sfu_dtls_set_remote_fingerprint(ends[i].d, SFU_FP_SHA256, cert.fingerprints[SFU_FP_SHA256]) == 0);
  }
  target = &ends[0];
  peer = &ends[1];
  CHECK(sfu_dtls_run(target->d, client ? SFU_DTLS_ROLE_CLIENT : SFU_DTLS_ROLE_SERVER) == 0);
  CHECK(sfu_dtls_run(peer->d, client ? SFU_DTLS_ROLE_SERVER : SFU_DTLS_ROLE_CLIENT) == 0);
  pump();
  /* On a loaded machine (ASan, other jobs) more than OpenSSL's 1 s initial
   * retransmission time can pass inside one flight: the client then resends
   * its ClientHello in the same datagram as its next flight, which the server
   * ignores until the client's timer resends that flight. Let the sessions'
   * own retransmission timers run, as the loop would, rather than report a
   * stalled handshake: the handshake is not what this target checks. */
  for (int tries = 0; tries < 8 && !(target->d->state == SFU_DTLS_CONNECTED && peer->d->state == SFU_DTLS_CONNECTED);
       tries++) {
    uv_run(&loop, UV_RUN_ONCE);
    pump();
  }
  CHECK(target->d->state == SFU_DTLS_CONNECTED && peer->d->state == SFU_DTLS_CONNECTED);
  queued = 0;

  while (off < size) {
    unsigned op = take_u8(data, size, &off) % 7;
    int sent0 = target->sent, msgs0 = target->msgs;
    size_t n;
    switch (op) {
      case 0: {
        size_t len = take_u16(data, size, &off) % (MAX_DGRAM + 1);
        size_t at = off;
        len = take(data, size, &off, len);
        deliver_to_target(target, data + at, len);
        break;
      }
      case 1:
      case 2: {
        n = take_u8(data, size, &off) % 200 + 1;
        real_len = peer_app_data(peer, real, n, (uint8_t)off);
        real_taken = false;
        if (op == 1) {
          deliver_to_target(target, real, real_len);
          CHECK(target->msgs == msgs0 + 1 && target->last_msg_len == n && target->last_msg[0] == (uint8_t)n);
          real_taken = true;
        } else {
          size_t pos = take_u16(data, size, &off) % real_len;
          unsigned x = take_u8(data, size, &off);
          memcpy(buf, real, real_len);
          buf[pos] ^= (uint8_t)(x | 0x80); /* a real change */
          deliver_to_target(target, buf, real_len);
          CHECK(target->msgs == msgs0); /* no changed byte authenticates */
          if (x & 1) {
            /* a failed record moves no replay window: the original still opens */
            deliver_to_target(target, real, real_len);
            CHECK(target->msgs == msgs0 + 1 && target->last_msg_len == n);
            real_taken = true;
          }
        }
        break;
      }
      case 3:
        if (real_len > 0) {
          deliver_to_target(target, real, real_len);
          /* a replay is never taken; a record held back is taken once, late */
          CHECK(target->msgs == (real_taken ? msgs0 : msgs0 + 1));
          real_taken = true;
        }
        break;
      case 4:
        if (real_len > 0) deliver_to_target(target, real, take_u16(data, size, &off) % real_len);
        break;
      case 5: {
        uint8_t msg[256];
        int pm = peer->msgs;
        n = take_u8(data, size, &off) % 200 + 1;
        memset(msg, 0x5a, n);
        CHECK(sfu_dtls_send_app_data(target->d, msg, n) == 0);
        CHECK(target->sent == sent0 + 1);
        sent0 = target->sent;
        pump();
        CHECK(peer->msgs == pm + 1 && peer->last_msg_len == n);
        break;
      }
      case 6: {
        unsigned type = take_u8(data, size, &off), version = take_u16(data, size, &off);
        unsigned epoch = take_u16(data, size, &off), blen = take_u8(data, size, &off);
        size_t at = off, got = take(data, size, &off, blen);
        buf[0] = (uint8_t)type, buf[1] = (uint8_t)(version >> 8), buf[2] = (uint8_t)version;
        buf[3] = (uint8_t)(epoch >> 8), buf[4] = (uint8_t)epoch;
        memset(buf + 5, 0, 6);
        buf[11] = 0, buf[12] = (uint8_t)got;
        memcpy(buf + 13, data + at, got);
        deliver_to_target(target, buf, 13 + got);
        break;
      }
    }
    CHECK(target->d->state == SFU_DTLS_CONNECTED);
    CHECK(!target->d->broken && target->d->stats.record_errors == 0);
    CHECK(target->sent == sent0); /* no alert, nothing unasked */
    CHECK(target->states == 2);  /* CONNECTING, CONNECTED */
    queued = 0;
  }

  for (int i = 0; i < 2; i++) sfu_dtls_close(ends[i].d, on_closed);
  queued = 0;
  while (!sfu_list_empty(&ctx.closing)) uv_run(&loop, UV_RUN_NOWAIT);
  uv_run(&loop, UV_RUN_NOWAIT);
  CHECK(ends[0].d == NULL && ends[1].d == NULL);
  return 0;
}
