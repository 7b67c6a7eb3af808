/* The usrsctp glue: two associations of one loop wired back to back (each
 * side's packets queued and fed to the other, as DTLS or UDP would), the
 * integer-id table, message sizes, partial reliability options, stream
 * resets and garbage input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "rtc_test_util.h"
#include "sfu_error.h"
#include "sfu_sctp_assoc.h"
#include "sfu_sctp_env.h"

typedef struct qpkt {
  struct qpkt *next;
  size_t len;
  uint8_t data[];
} qpkt_t;

typedef struct msg {
  uint16_t sid;
  uint32_t ppid;
  size_t len;
  uint8_t *data;
} msg_t;

typedef struct side {
  sfu_sctp_assoc_t *a;
  struct side *peer;
  qpkt_t *head, **tail; /* packets for the peer */
  sfu_sctp_state_t state;
  int state_changes;
  msg_t msgs[64];
  size_t nmsgs;
  uint64_t sent_packets;
  bool drop; /* lose what this side sends */
} side_t;

static void side_send(void *arg, const uint8_t *p, size_t len) {
  side_t *s = arg;
  s->sent_packets++;
  if (s->drop) return;
  qpkt_t *q = malloc(sizeof(*q) + len);
  assert_non_null(q);
  q->next = NULL;
  q->len = len;
  memcpy(q->data, p, len);
  *s->tail = q;
  s->tail = &q->next;
}

static void side_state(void *arg, sfu_sctp_state_t st) {
  side_t *s = arg;
  s->state = st;
  s->state_changes++;
}

static void side_message(void *arg, uint16_t sid, uint32_t ppid, const uint8_t *p, size_t len) {
  side_t *s = arg;
  assert_true(s->nmsgs < 64);
  msg_t *m = &s->msgs[s->nmsgs++];
  m->sid = sid;
  m->ppid = ppid;
  m->len = len;
  m->data = malloc(len ? len : 1);
  memcpy(m->data, p, len);
}

static const sfu_sctp_assoc_listener_t listener = {
    .send = side_send, .on_state = side_state, .on_message = side_message};

/* Delivers queued packets both ways (one at a time, outside usrsctp's callbacks) and runs the timers. */
static void pump(rtc_env_t *e, side_t *x, side_t *y, int rounds) {
  for (int i = 0; i < rounds; i++) {
    for (side_t *s = x; s != NULL; s = (s == x ? y : NULL)) {
      while (s->head != NULL) {
        qpkt_t *q = s->head;
        s->head = q->next;
        if (s->head == NULL) s->tail = &s->head;
        if (s->peer->a != NULL) sfu_sctp_assoc_receive(s->peer->a, q->data, q->len);
        free(q);
      }
    }
    uv_run(&e->loop, UV_RUN_NOWAIT);
  }
}

static void side_init(side_t *s, side_t *peer) {
  memset(s, 0, sizeof(*s));
  s->peer = peer;
  s->tail = &s->head;
}

static void side_free(side_t *s) {
  while (s->head != NULL) {
    qpkt_t *q = s->head;
    s->head = q->next;
    free(q);
  }
  for (size_t i = 0; i < s->nmsgs; i++) free(s->msgs[i].data);
  s->nmsgs = 0;
}

static const sfu_sctp_options_t opts = {.max_send_message_size = 262144,
                                        .max_receive_message_size = 262144,
                                        .send_buffer_size = 2000000,
                                        .max_receiver_window_buffer_size = 5242880,
                                        .is_data_channel = true};

static void open_pair(rtc_env_t *e, side_t *x, side_t *y, const sfu_sctp_options_t *ox, const sfu_sctp_options_t *oy) {
  rtc_env_open(e);
  side_init(x, y);
  side_init(y, x);
  assert_int_equal(sfu_sctp_assoc_create(&e->ctx, ox, &listener, x, &x->a), 0);
  assert_int_equal(sfu_sctp_assoc_create(&e->ctx, oy, &listener, y, &y->a), 0);
  assert_int_not_equal(x->a->id, y->a->id);
  assert_ptr_equal(sfu_sctp_env_find(x->a->id), x->a);
  assert_ptr_equal(sfu_sctp_env_find(y->a->id), y->a);
}

static void connect_pair(rtc_env_t *e, side_t *x, side_t *y) {
  sfu_sctp_assoc_connect(x->a);
  sfu_sctp_assoc_connect(y->a);
  assert_int_equal(x->state, SFU_SCTP_CONNECTING);
  for (int i = 0; i < 200 && (x->state != SFU_SCTP_CONNECTED || y->state != SFU_SCTP_CONNECTED); i++) pump(e, x, y, 1);
  assert_int_equal(x->state, SFU_SCTP_CONNECTED);
  assert_int_equal(y->state, SFU_SCTP_CONNECTED);
}

static void close_pair(rtc_env_t *e, side_t *x, side_t *y) {
  uint32_t xid = x->a->id;
  sfu_sctp_assoc_destroy(x->a);
  x->a = NULL;
  assert_null(sfu_sctp_env_find(xid));
  pump(e, x, y, 2); /* the ABORT reaches y */
  sfu_sctp_assoc_destroy(y->a);
  y->a = NULL;
  assert_int_equal(sfu_sctp_env_count(), 0);
  side_free(x);
  side_free(y);
  rtc_env_close(e);
}

static void test_connect(void **state) {
  rtc_env_t e;
  side_t x, y;
  (void)state;
  open_pair(&e, &x, &y, &opts, &opts);
  assert_int_equal(x.state, SFU_SCTP_NEW);
  connect_pair(&e, &x, &y);
  assert_int_equal(x.a->out_streams, 65535);
  assert_int_equal(x.a->in_streams, 65535);
  /* connect() twice is once */
  sfu_sctp_assoc_connect(x.a);
  assert_int_equal(x.state, SFU_SCTP_CONNECTED);
  close_pair(&e, &x, &y);
}

static void fill(uint8_t *p, size_t len, unsigned seed) {
  for (size_t i = 0; i < len; i++) p[i] = (uint8_t)(i * 131u + seed);
}

static void test_messages(void **state) {
  rtc_env_t e;
  side_t x, y;
  static const size_t sizes[] = {1, 2, 1199, 1200, 5000, 65536, 262144};
  const size_t n = sizeof(sizes) / sizeof(sizes[0]);
  sfu_sctp_send_params_t ordered = {.ordered = true};
  uint8_t *buf = malloc(262144);
  (void)state;
  open_pair(&e, &x, &y, &opts, &opts);
  connect_pair(&e, &x, &y);
  for (size_t i = 0; i < n; i++) {
    fill(buf, sizes[i], (unsigned)i);
    uint32_t ppid = i % 2 ? SFU_SCTP_PPID_BINARY : SFU_SCTP_PPID_STRING;
    assert_int_equal(sfu_sctp_assoc_send(x.a, (uint16_t)(7 + i), ppid, buf, sizes[i], &ordered), 0);
  }
  for (int i = 0; i < 400 && y.nmsgs < n; i++) pump(&e, &x, &y, 1);
  assert_int_equal(y.nmsgs, n);
  for (size_t i = 0; i < n; i++) {
    fill(buf, sizes[i], (unsigned)i);
    assert_int_equal(y.msgs[i].sid, 7 + i);
    assert_int_equal(y.msgs[i].ppid, i % 2 ? SFU_SCTP_PPID_BINARY : SFU_SCTP_PPID_STRING);
    assert_int_equal(y.msgs[i].len, sizes[i]);
    assert_memory_equal(y.msgs[i].data, buf, sizes[i]);
  }
  /* A big message and a small one on one ordered stream keep their order
   * (no partial delivery below maxReceiveMessageSize). */
  y.nmsgs = 0;
  for (size_t i = 0; i < n; i++) free(y.msgs[i].data);
  fill(buf, 262144, 99);
  assert_int_equal(sfu_sctp_assoc_send(x.a, 5, SFU_SCTP_PPID_BINARY, buf, 262144, &ordered), 0);
  assert_int_equal(sfu_sctp_assoc_send(x.a, 5, SFU_SCTP_PPID_STRING_EMPTY, (const uint8_t *)" ", 1, &ordered), 0);
  for (int i = 0; i < 400 && y.nmsgs < 2; i++) pump(&e, &x, &y, 1);
  assert_int_equal(y.nmsgs, 2);
  assert_int_equal(y.msgs[0].len, 262144);
  assert_memory_equal(y.msgs[0].data, buf, 262144);
  assert_int_equal(y.msgs[1].ppid, SFU_SCTP_PPID_STRING_EMPTY);
  /* Partially reliable and unordered ones arrive too on a lossless path; and the other way. */
  sfu_sctp_send_params_t ttl = {.ordered = false, .has_max_packet_life_time = true, .max_packet_life_time = 500};
  sfu_sctp_send_params_t rtx = {.ordered = false, .has_max_retransmits = true, .max_retransmits = 0};
  assert_int_equal(sfu_sctp_assoc_send(y.a, 1, SFU_SCTP_PPID_STRING, (const uint8_t *)"ttl", 3, &ttl), 0);
  assert_int_equal(sfu_sctp_assoc_send(y.a, 2, SFU_SCTP_PPID_BINARY, (const uint8_t *)"rtx", 3, &rtx), 0);
  for (int i = 0; i < 100 && x.nmsgs < 2; i++) pump(&e, &x, &y, 1);
  assert_int_equal(x.nmsgs, 2);
  assert_memory_equal(x.msgs[0].data, "ttl", 3);
  assert_memory_equal(x.msgs[1].data, "rtx", 3);
  free(buf);
  close_pair(&e, &x, &y);
}

static void test_limits(void **state) {
  rtc_env_t e;
  side_t x, y;
  sfu_sctp_options_t small = opts;
  sfu_sctp_send_params_t ordered = {.ordered = true};
  uint8_t *buf = calloc(1, 300000);
  (void)state;
  small.max_receive_message_size = 1000;
  small.max_send_message_size = 1000;
  open_pair(&e, &x, &y, &opts, &small);
  /* not connected yet */
  assert_int_equal(sfu_sctp_assoc_send(x.a, 1, SFU_SCTP_PPID_BINARY, buf, 10, &ordered), SFU_ESTATE);
  connect_pair(&e, &x, &y);
  /* over our own send limit: refused */
  assert_int_equal(sfu_sctp_assoc_send(x.a, 1, SFU_SCTP_PPID_BINARY, buf, 262145, &ordered), SFU_ETOOBIG);
  assert_int_equal(sfu_sctp_assoc_send(y.a, 1, SFU_SCTP_PPID_BINARY, buf, 1001, &ordered), SFU_ETOOBIG);
  /* over the receiver's limit: y drops it (whole or in parts), the next one arrives */
  assert_int_equal(sfu_sctp_assoc_send(x.a, 1, SFU_SCTP_PPID_BINARY, buf, 2000, &ordered), 0);
  assert_int_equal(sfu_sctp_assoc_send(x.a, 1, SFU_SCTP_PPID_BINARY, buf, 200000, &ordered), 0);
  assert_int_equal(sfu_sctp_assoc_send(x.a, 1, SFU_SCTP_PPID_STRING, (const uint8_t *)"ok", 2, &ordered), 0);
  for (int i = 0; i < 400 && y.nmsgs < 1; i++) pump(&e, &x, &y, 1);
  pump(&e, &x, &y, 5);
  assert_int_equal(y.nmsgs, 1);
  assert_int_equal(y.msgs[0].len, 2);
  assert_int_equal(y.msgs[0].ppid, SFU_SCTP_PPID_STRING);
  free(buf);
  close_pair(&e, &x, &y);
}

static void test_stream_reset(void **state) {
  rtc_env_t e;
  side_t x, y;
  sfu_sctp_send_params_t ordered = {.ordered = true};
  (void)state;
  open_pair(&e, &x, &y, &opts, &opts);
  connect_pair(&e, &x, &y);
  assert_int_equal(sfu_sctp_assoc_send(x.a, 3, SFU_SCTP_PPID_STRING, (const uint8_t *)"a", 1, &ordered), 0);
  pump(&e, &x, &y, 5);
  uint64_t before = y.sent_packets;
  sfu_sctp_assoc_reset_stream(x.a, 3);
  pump(&e, &x, &y, 10);
  /* y answered (RECONFIG response and its own outgoing reset as a data channel peer) */
  assert_true(y.sent_packets > before);
  /* the stream can be used again and the association is still up */
  assert_int_equal(sfu_sctp_assoc_send(x.a, 3, SFU_SCTP_PPID_STRING, (const uint8_t *)"b", 1, &ordered), 0);
  for (int i = 0; i < 100 && y.nmsgs < 2; i++) pump(&e, &x, &y, 1);
  assert_int_equal(y.nmsgs, 2);
  assert_int_equal(x.state, SFU_SCTP_CONNECTED);
  assert_int_equal(y.state, SFU_SCTP_CONNECTED);
  close_pair(&e, &x, &y);
}

static void test_abort_reaches_peer(void **state) {
  rtc_env_t e;
  side_t x, y;
  (void)state;
  open_pair(&e, &x, &y, &opts, &opts);
  connect_pair(&e, &x, &y);
  sfu_sctp_assoc_destroy(x.a);
  x.a = NULL;
  pump(&e, &x, &y, 2);
  assert_true(y.state == SFU_SCTP_FAILED || y.state == SFU_SCTP_CLOSED);
  sfu_sctp_assoc_destroy(y.a);
  y.a = NULL;
  assert_int_equal(sfu_sctp_env_count(), 0);
  side_free(&x);
  side_free(&y);
  rtc_env_close(&e);
}

static void test_garbage(void **state) {
  rtc_env_t e;
  side_t x, y;
  uint8_t junk[1500];
  (void)state;
  open_pair(&e, &x, &y, &opts, &opts);
  connect_pair(&e, &x, &y);
  for (unsigned i = 0; i < 200; i++) {
    size_t len = 1 + (i * 37u) % sizeof(junk);
    fill(junk, len, i);
    if (i % 3 == 0 && len >= 12) junk[0] = 0x13, junk[1] = 0x88, junk[2] = 0x13, junk[3] = 0x88;
    sfu_sctp_assoc_receive(x.a, junk, len);
  }
  sfu_sctp_assoc_receive(x.a, junk, 0);
  pump(&e, &x, &y, 3);
  assert_int_equal(x.nmsgs, 0);
  assert_int_equal(x.state, SFU_SCTP_CONNECTED); /* bad checksums: dropped */
  close_pair(&e, &x, &y);
}

static void test_is_packet(void **state) {
  (void)state;
  uint8_t p[12] = {0x13, 0x88, 0x13, 0x88};
  assert_true(sfu_sctp_is_packet(p, 12));
  assert_false(sfu_sctp_is_packet(p, 11));
  assert_false(sfu_sctp_is_packet(NULL, 0));
  p[3] = 0x89;
  assert_false(sfu_sctp_is_packet(p, 12));
  uint8_t rtp[12] = {0x80, 0x60};
  assert_false(sfu_sctp_is_packet(rtp, 12));
}

static void test_ids_are_not_reused(void **state) {
  rtc_env_t e;
  sfu_sctp_assoc_t *a, *b;
  side_t s;
  (void)state;
  rtc_env_open(&e);
  side_init(&s, &s);
  assert_int_equal(sfu_sctp_assoc_create(&e.ctx, &opts, &listener, &s, &a), 0);
  uint32_t id = a->id;
  sfu_sctp_assoc_destroy(a);
  assert_int_equal(sfu_sctp_assoc_create(&e.ctx, &opts, &listener, &s, &b), 0);
  assert_int_not_equal(b->id, id); /* same slot, new generation */
  assert_null(sfu_sctp_env_find(id));
  assert_null(sfu_sctp_env_find(0));
  assert_null(sfu_sctp_env_find(0xffff));
  sfu_sctp_assoc_destroy(b);
  side_free(&s);
  rtc_env_close(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_connect),        cmocka_unit_test(test_messages),
      cmocka_unit_test(test_limits),         cmocka_unit_test(test_stream_reset),
      cmocka_unit_test(test_abort_reaches_peer), cmocka_unit_test(test_garbage),
      cmocka_unit_test(test_is_packet),      cmocka_unit_test(test_ids_are_not_reused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
