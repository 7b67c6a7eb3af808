/*
 * libFuzzer target for the SCTP input path: bytes from a DTLS or UDP peer
 * into an association (worker/src/sctp/sfu_sctp_assoc: usrsctp_conninput,
 * our notification reader and message reassembly).
 *
 * Every input starts with a real association between the target and a peer
 * (both sfu_sctp_assoc_t, packets pumped in memory). usrsctp's CRC32c check
 * is off (sfu_sctp_env_disable_crc_check), and injected packets can carry
 * the target's verification tag (learned from the peer's packets), so
 * mutations reach the chunk parsers. Operations, an opcode byte each:
 *   0  packet to the target: u8 flags, u16 length, bytes; flags bit 0: set
 *      ports 5000/5000, bit 1: set the target's verification tag
 *   1  the target sends a message: u8 stream, u8 mode, u16 length
 *   2  the peer sends a message: same
 *   3  deliver what is queued both ways
 *   4  the target resets a stream: u8 stream
 *   5  run the usrsctp timers (10 ms)
 * Checked: no crash, no leak, no undefined behaviour; a message the target
 * delivers fits its max receive size.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "sfu_ctx.h"
#include "sfu_sctp_assoc.h"
#include "sfu_sctp_env.h"

#define CHECK(x)                \
  do {                          \
    if (!(x)) __builtin_trap(); \
  } while (0)

#define MAX_Q 256
#define MAX_PKT 4096
#define MAX_RECV 65536

typedef struct qp {
  size_t len;
  uint8_t data[MAX_PKT];
} qp_t;

typedef struct end {
  sfu_sctp_assoc_t *a;
  qp_t q[MAX_Q]; /* packets this end sent, for the other */
  size_t nq;
  uint8_t vtag[4]; /* the tag the other end puts in packets to us */
  bool have_vtag;
  sfu_sctp_state_t state;
} end_t;

static end_t ends[2];
static uv_loop_t loop;
static sfu_settings_t settings;
static sfu_ctx_t ctx;
static uint8_t payload[MAX_RECV + 1];

static void e_send(void *arg, const uint8_t *p, size_t len) {
  end_t *e = arg;
  end_t *other = &ends[e == &ends[0] ? 1 : 0];
  if (len >= 8) { /* what we send carries the other end's tag */
    memcpy(other->vtag, p + 4, 4);
    other->have_vtag = true;
  }
  if (e->nq == MAX_Q || len > MAX_PKT) return;
  e->q[e->nq].len = len;
  memcpy(e->q[e->nq].data, p, len);
  e->nq++;
}

static void e_state(void *arg, sfu_sctp_state_t s) { ((end_t *)arg)->state = s; }

static void e_message(void *arg, uint16_t sid, uint32_t ppid, const uint8_t *p, size_t len) {
  (void)arg, (void)sid, (void)ppid;
  CHECK(len <= MAX_RECV);
  if (len > 0) CHECK(p != NULL);
  volatile uint8_t sink = len ? p[len - 1] : 0;
  (void)sink;
}

static const sfu_sctp_assoc_listener_t listener = {.send = e_send, .on_state = e_state, .on_message = e_message};

static void pump(void) {
  for (int round = 0; round < 4; round++) {
    for (int i = 0; i < 2; i++) {
      end_t *e = &ends[i], *o = &ends[1 - i];
      size_t n = e->nq;
      static qp_t tmp[MAX_Q];
      memcpy(tmp, e->q, n * sizeof(qp_t));
      e->nq = 0;
      for (size_t k = 0; k < n; k++)
        if (o->a != NULL) sfu_sctp_assoc_receive(o->a, tmp[k].data, tmp[k].len);
    }
  }
}

static void init_once(void) {
  static bool done;
  if (done) return;
  done = true;
  uv_loop_init(&loop);
  sfu_settings_init(&settings);
  settings.log_level = SFU_LOG_LEVEL_NONE;
  sfu_ctx_init(&ctx, &loop, &settings);
  sfu_sctp_env_disable_crc_check();
}

static void send_msg(end_t *e, const uint8_t **p, size_t *left) {
  if (*left < 4) {
    *left = 0;
    return;
  }
  uint8_t sid = (*p)[0], mode = (*p)[1];
  size_t len = (size_t)(((*p)[2] << 8) | (*p)[3]) * 4 % (MAX_RECV + 2);
  *p += 4, *left -= 4;
  sfu_sctp_send_params_t sp = {.ordered = !(mode & 1)};
  if (mode & 2) sp.has_max_retransmits = true, sp.max_retransmits = mode >> 4;
  else if (mode & 4) sp.has_max_packet_life_time = true, sp.max_packet_life_time = mode;
  (void)sfu_sctp_assoc_send(e->a, sid, 51 + (mode & 2), payload, len ? len : 1, &sp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init_once();
  memset(ends, 0, sizeof(ends));
  sfu_sctp_options_t o = {.max_send_message_size = MAX_RECV,
                          .max_receive_message_size = MAX_RECV,
                          .send_buffer_size = 262144,
                          .max_receiver_window_buffer_size = 262144,
                          .is_data_channel = true};
  CHECK(sfu_sctp_assoc_create(&ctx, &o, &listener, &ends[0], &ends[0].a) == 0);
  CHECK(sfu_sctp_assoc_create(&ctx, &o, &listener, &ends[1], &ends[1].a) == 0);
  sfu_sctp_assoc_connect(ends[0].a);
  sfu_sctp_assoc_connect(ends[1].a);
  pump();

  const uint8_t *p = data;
  size_t left = size;
  int ops = 0;
  while (left > 0 && ops++ < 64) {
    uint8_t op = *p++ % 6;
    left--;
    switch (op) {
      case 0: {
        if (left < 3) {
          left = 0;
          break;
        }
        uint8_t flags = p[0];
        size_t len = (size_t)((p[1] << 8) | p[2]);
        p += 3, left -= 3;
        if (len > left) len = left;
        if (len > MAX_PKT) len = MAX_PKT;
        static uint8_t pkt[MAX_PKT];
        memcpy(pkt, p, len);
        p += len, left -= len;
        if ((flags & 1) && len >= 4) pkt[0] = 0x13, pkt[1] = 0x88, pkt[2] = 0x13, pkt[3] = 0x88;
        if ((flags & 2) && len >= 8 && ends[0].have_vtag) memcpy(pkt + 4, ends[0].vtag, 4);
        (void)sfu_sctp_is_packet(pkt, len);
        sfu_sctp_assoc_receive(ends[0].a, pkt, len);
        break;
      }
      case 1:
        send_msg(&ends[0], &p, &left);
        break;
      case 2:
        send_msg(&ends[1], &p, &left);
        break;
      case 3:
        pump();
        break;
      case 4:
        if (left < 1) break;
        sfu_sctp_assoc_reset_stream(ends[0].a, *p);
        p++, left--;
        break;
      case 5:
        uv_run(&loop, UV_RUN_NOWAIT);
        break;
    }
  }
  pump();
  sfu_sctp_assoc_destroy(ends[0].a);
  sfu_sctp_assoc_destroy(ends[1].a);
  ends[0].a = ends[1].a = NULL;
  uv_run(&loop, UV_RUN_NOWAIT); /* the env's timer closes with the last association */
  CHECK(sfu_sctp_env_count() == 0);
  return 0;
}
