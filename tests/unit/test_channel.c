/*
 * Unit tests for channel/sfu_channel over socketpair()s.
 *
 * Each test has a fixture with a loop, a channel, and a "peer" played by
 * the test: pair a = peer -> channel (channel reads a[0], peer writes a[1]),
 * pair b = channel -> peer (channel writes b[0], peer reads b[1]). The peer
 * side is non-blocking and is pumped together with the loop; what the peer
 * reads is parsed with an sfu_frame decoder. Every test ends with
 * uv_loop_close() == 0.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "sfu_channel.h"
#include "sfu_frame.h"

typedef struct msg {
  uint8_t *bytes;
  size_t len;
} msg_t;

typedef struct msgs {
  msg_t *v;
  size_t count, cap;
} msgs_t;

typedef struct fixture {
  uv_loop_t loop;
  int a[2];
  int b[2];
  sfu_channel_t ch;
  int ch_open;

  msgs_t in;         /* delivered to on_msg */
  msgs_t peer_in;    /* frames the peer read */
  sfu_frame_decoder_t peer_dec;
  int peer_reads;    /* pump reads b[1] */
  uint8_t *peer_out; /* bytes the peer still has to write to a[1] */
  size_t peer_out_len, peer_out_off;

  int eof_count, eof_status;
  int close_count;
  int close_in_msg;  /* on_msg closes the channel at this message (1-based) */
  int echo;          /* on_msg sends the message back */
} fixture_t;

/* ---- helpers ---- */

static void msgs_push(msgs_t *m, const uint8_t *p, size_t len) {
  if (m->count == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 16;
    m->v = realloc(m->v, m->cap * sizeof(*m->v));
    assert_non_null(m->v);
  }
  m->v[m->count].bytes = malloc(len ? len : 1);
  assert_non_null(m->v[m->count].bytes);
  if (len > 0)
    memcpy(m->v[m->count].bytes, p, len);
  m->v[m->count].len = len;
  m->count++;
}

static void msgs_free(msgs_t *m) {
  size_t i;
  for (i = 0; i < m->count; i++)
    free(m->v[i].bytes);
  free(m->v);
  memset(m, 0, sizeof(*m));
}

static void fill(uint8_t *p, size_t len, uint32_t seed) {
  size_t i;
  for (i = 0; i < len; i++)
    p[i] = (uint8_t)((i * 131u + seed * 7u + (i >> 9)) & 0xffu);
}

static uint8_t *make_payload(size_t len, uint32_t seed) {
  uint8_t *p = malloc(len ? len : 1);
  assert_non_null(p);
  fill(p, len, seed);
  return p;
}

static void on_msg(sfu_channel_t *ch, const uint8_t *msg, size_t len) {
  fixture_t *fx = ch->data;

  assert_true(fx->ch_open);
  msgs_push(&fx->in, msg, len);
  if (fx->echo)
    assert_int_equal(sfu_channel_send(ch, msg, len), 0);
  if (fx->close_in_msg != 0 && fx->in.count == (size_t)fx->close_in_msg) {
    fx->ch_open = 0;
    sfu_channel_close(ch, NULL);
    sfu_channel_close(ch, NULL); /* idempotent */
    /* the message is still readable after close */
    if (len > 0)
      assert_memory_equal(msg, fx->in.v[fx->in.count - 1].bytes, len);
    assert_int_equal(sfu_channel_send(ch, msg, len), UV_EPIPE);
  }
}

static void on_eof(sfu_channel_t *ch, int status) {
  fixture_t *fx = ch->data;
  fx->eof_count++;
  fx->eof_status = status;
}

static void on_close(sfu_channel_t *ch) {
  fixture_t *fx = ch->data;
  fx->close_count++;
}

static void peer_on_frame(void *arg, const uint8_t *p, size_t len) {
  fixture_t *fx = arg;
  msgs_push(&fx->peer_in, p, len);
}

/* Queue bytes for the peer to write (pumped, non-blocking). */
static void peer_send_raw(fixture_t *fx, const uint8_t *p, size_t n) {
  size_t pending = fx->peer_out_len - fx->peer_out_off;
  uint8_t *nb = malloc(pending + n + 1);

  assert_non_null(nb);
  if (pending > 0)
    memcpy(nb, fx->peer_out + fx->peer_out_off, pending);
  memcpy(nb + pending, p, n);
  free(fx->peer_out);
  fx->peer_out = nb;
  fx->peer_out_len = pending + n;
  fx->peer_out_off = 0;
}

static void peer_send_frame(fixture_t *fx, const uint8_t *p, size_t len) {
  uint8_t h[SFU_FRAME_HEADER_LEN];
  sfu_frame_header_write(h, (uint32_t)len);
  peer_send_raw(fx, h, sizeof(h));
  if (len > 0)
    peer_send_raw(fx, p, len);
}

static void sleep_us(long us) {
  struct timespec ts = {0, us * 1000};
  nanosleep(&ts, NULL);
}

/* One round: peer writes what it can, reads what there is, loop runs. */
static void pump_once(fixture_t *fx) {
  uint8_t buf[65536];
  ssize_t r;

  while (fx->peer_out_off < fx->peer_out_len) {
    r = write(fx->a[1], fx->peer_out + fx->peer_out_off,
              fx->peer_out_len - fx->peer_out_off);
    if (r < 0) {
      assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
      break;
    }
    fx->peer_out_off += (size_t)r;
  }
  while (fx->peer_reads) {
    r = read(fx->b[1], buf, sizeof(buf));
    if (r <= 0) {
      assert_true(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
      break;
    }
    assert_true(sfu_frame_decoder_feed(&fx->peer_dec, buf, (size_t)r,
                                       peer_on_frame, fx) >= 0);
  }
  uv_run(&fx->loop, UV_RUN_NOWAIT);
}

typedef int (*pred_fn)(fixture_t *fx, size_t arg);

static int pred_in(fixture_t *fx, size_t n) { return fx->in.count >= n; }
static int pred_peer_in(fixture_t *fx, size_t n) {
  return fx->peer_in.count >= n;
}
static int pred_eof(fixture_t *fx, size_t n) {
  return fx->eof_count >= (int)n;
}
static int pred_peer_out_done(fixture_t *fx, size_t n) {
  (void)n;
  return fx->peer_out_off == fx->peer_out_len;
}
static int pred_oversized(fixture_t *fx, size_t n) {
  sfu_channel_stats_t st;
  sfu_channel_get_stats(&fx->ch, &st);
  return st.oversized_in >= n;
}

static void pump_until(fixture_t *fx, pred_fn pred, size_t arg) {
  int i;
  for (i = 0; i < 100000 && !pred(fx, arg); i++) {
    pump_once(fx);
    if (!pred(fx, arg) && i > 100)
      sleep_us(100);
  }
  assert_true(pred(fx, arg));
}

/* A few more rounds, for "nothing else happens" checks. */
static void pump_idle(fixture_t *fx) {
  int i;
  for (i = 0; i < 20; i++) {
    pump_once(fx);
    sleep_us(500);
  }
}

static void set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  assert_true(fl >= 0);
  assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

/* ---- fixture ---- */

static int setup(void **state) {
  fixture_t *fx = calloc(1, sizeof(*fx));

  assert_non_null(fx);
  assert_int_equal(uv_loop_init(&fx->loop), 0);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fx->a), 0);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fx->b), 0);
  set_nonblock(fx->a[1]);
  set_nonblock(fx->b[1]);
  sfu_frame_decoder_init(&fx->peer_dec);
  fx->peer_reads = 1;

  fx->ch.data = fx;
  assert_int_equal(
      sfu_channel_init(&fx->loop, &fx->ch, fx->a[0], fx->b[0], on_msg, on_eof),
      0);
  assert_ptr_equal(fx->ch.data, fx); /* init keeps the user pointer */
  fx->ch_open = 1;
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture_t *fx = *state;
  int i;

  if (fx->ch_open) {
    fx->ch_open = 0;
    sfu_channel_close(&fx->ch, on_close);
  }
  /* the channel owned a[0] and b[0] */
  for (i = 0; i < 1000 && uv_loop_alive(&fx->loop); i++)
    uv_run(&fx->loop, UV_RUN_NOWAIT);
  close_fd(&fx->a[1]);
  close_fd(&fx->b[1]);
  assert_int_equal(uv_loop_close(&fx->loop), 0);
  sfu_frame_decoder_free(&fx->peer_dec);
  msgs_free(&fx->in);
  msgs_free(&fx->peer_in);
  free(fx->peer_out);
  free(fx);
  return 0;
}

/* ---- tests ---- */

static void test_recv_many_and_split(void **state) {
  fixture_t *fx = *state;
  uint8_t *p[5];
  size_t lens[5] = {1, 0, 300, 70000, 5};
  uint8_t frame[4 + 300];
  sfu_channel_stats_t st;
  size_t i, cut;

  for (i = 0; i < 5; i++)
    p[i] = make_payload(lens[i], (uint32_t)i);

  /* many frames in one write */
  for (i = 0; i < 5; i++)
    peer_send_frame(fx, p[i], lens[i]);
  pump_until(fx, pred_in, 5);
  for (i = 0; i < 5; i++) {
    assert_int_equal(fx->in.v[i].len, lens[i]);
    if (lens[i] > 0)
      assert_memory_equal(fx->in.v[i].bytes, p[i], lens[i]);
  }

  /* one frame split at every byte boundary, each part its own write */
  sfu_frame_header_write(frame, 300);
  memcpy(frame + 4, p[2], 300);
  for (cut = 1; cut < sizeof(frame); cut += 7) {
    size_t before = fx->in.count;
    peer_send_raw(fx, frame, cut);
    pump_until(fx, pred_peer_out_done, 0);
    pump_once(fx);
    assert_int_equal(fx->in.count, before);
    peer_send_raw(fx, frame + cut, sizeof(frame) - cut);
    pump_until(fx, pred_in, before + 1);
    assert_int_equal(fx->in.v[before].len, 300);
    assert_memory_equal(fx->in.v[before].bytes, p[2], 300);
  }

  sfu_channel_get_stats(&fx->ch, &st);
  assert_int_equal(st.frames_in, fx->in.count);
  assert_int_equal(st.oversized_in, 0);
  assert_int_equal(fx->eof_count, 0);
  for (i = 0; i < 5; i++)
    free(p[i]);
}

static void test_recv_max_frame(void **state) {
  fixture_t *fx = *state;
  uint8_t *big = make_payload(SFU_FRAME_MAX_LEN, 9);
  uint8_t small[3] = {1, 2, 3};

  peer_send_frame(fx, big, SFU_FRAME_MAX_LEN);
  peer_send_frame(fx, small, sizeof(small));
  pump_until(fx, pred_in, 2);
  assert_int_equal(fx->in.v[0].len, SFU_FRAME_MAX_LEN);
  assert_memory_equal(fx->in.v[0].bytes, big, SFU_FRAME_MAX_LEN);
  assert_int_equal(fx->in.v[1].len, 3);
  /* the read buffer shrank back after the large frame */
  assert_true(fx->ch.decoder.cap <= 256u * 1024u);
  free(big);
}

static void test_recv_oversized_resync(void **state) {
  fixture_t *fx = *state;
  uint8_t bad[12] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0};
  uint8_t ok[2] = {'o', 'k'};
  sfu_channel_stats_t st;

  peer_send_raw(fx, bad, sizeof(bad));
  pump_until(fx, pred_oversized, 1);
  assert_int_equal(fx->in.count, 0); /* the zeros were dropped too */
  peer_send_frame(fx, ok, sizeof(ok));
  pump_until(fx, pred_in, 1);
  assert_int_equal(fx->in.v[0].len, 2);
  assert_memory_equal(fx->in.v[0].bytes, ok, 2);
  sfu_channel_get_stats(&fx->ch, &st);
  assert_int_equal(st.oversized_in, 1);
  assert_int_equal(st.frames_in, 1);
}

static void test_send_queues_then_drains(void **state) {
  fixture_t *fx = *state;
  enum { N = 40 };
  uint8_t *p[N + 1];
  size_t lens[N + 1];
  sfu_channel_stats_t st;
  size_t i;

  /* peer does not read while we send */
  fx->peer_reads = 0;
  for (i = 0; i < N; i++) {
    lens[i] = (i % 3 == 0) ? 1024u * 1024u : 1000u + i;
    p[i] = make_payload(lens[i], (uint32_t)i + 100);
    assert_int_equal(sfu_channel_send(&fx->ch, p[i], lens[i]), 0);
  }
  lens[N] = SFU_FRAME_MAX_LEN;
  p[N] = make_payload(lens[N], 7);
  assert_int_equal(sfu_channel_send(&fx->ch, p[N], lens[N]), 0);
  assert_int_equal(sfu_channel_send(&fx->ch, p[N], SFU_FRAME_MAX_LEN + 1),
                   UV_EMSGSIZE);

  sfu_channel_get_stats(&fx->ch, &st);
  assert_true(st.queued_frames > 0);
  assert_true(st.queued_bytes > 0);
  assert_int_equal(st.frames_out + st.queued_frames, N + 1);

  /* a few loop turns without the peer reading: nothing breaks */
  pump_idle(fx);
  sfu_channel_get_stats(&fx->ch, &st);
  assert_true(st.queued_frames > 0);

  fx->peer_reads = 1;
  pump_until(fx, pred_peer_in, N + 1);
  for (i = 0; i <= N; i++) {
    assert_int_equal(fx->peer_in.v[i].len, lens[i]);
    assert_memory_equal(fx->peer_in.v[i].bytes, p[i], lens[i]);
    free(p[i]);
  }
  sfu_channel_get_stats(&fx->ch, &st);
  assert_int_equal(st.frames_out, N + 1);
  assert_int_equal(st.queued_frames, 0);
  assert_int_equal(st.queued_bytes, 0);
  assert_int_equal(st.dropped_queue_full, 0);
  assert_int_equal(st.write_errors, 0);
}

static void test_send_queue_cap(void **state) {
  fixture_t *fx = *state;
  uint8_t *p = make_payload(SFU_FRAME_MAX_LEN, 3);
  sfu_channel_stats_t st;
  size_t accepted = 0;
  int rc, i;

  fx->peer_reads = 0;
  /* default cap (64 MiB): 4 MiB frames until refused */
  for (i = 0; i < 20; i++) {
    rc = sfu_channel_send(&fx->ch, p, SFU_FRAME_MAX_LEN);
    if (rc == UV_ENOBUFS)
      break;
    assert_int_equal(rc, 0);
    accepted++;
  }
  assert_int_equal(rc, UV_ENOBUFS);
  assert_true(accepted >= 15);
  sfu_channel_get_stats(&fx->ch, &st);
  assert_int_equal(st.dropped_queue_full, 1);
  assert_true(st.queued_bytes <= SFU_CHANNEL_MAX_QUEUED);
  /* a small one still fits */
  assert_int_equal(sfu_channel_send(&fx->ch, p, 10), 0);
  accepted++;

  /* lower cap: refuses until the peer drains */
  sfu_channel_set_max_queued(&fx->ch, 1024u * 1024u);
  assert_int_equal(sfu_channel_send(&fx->ch, p, 10), UV_ENOBUFS);
  sfu_channel_get_stats(&fx->ch, &st);
  assert_int_equal(st.dropped_queue_full, 2);

  fx->peer_reads = 1;
  pump_until(fx, pred_peer_in, accepted);
  assert_int_equal(fx->peer_in.v[accepted - 1].len, 10);
  assert_int_equal(sfu_channel_send(&fx->ch, p, 1000), 0);
  pump_until(fx, pred_peer_in, accepted + 1);
  assert_memory_equal(fx->peer_in.v[accepted].bytes, p, 1000);
  free(p);
}

static void test_close_drops_queued(void **state) {
  fixture_t *fx = *state;
  uint8_t *p = make_payload(1024u * 1024u, 5);
  sfu_channel_stats_t st;
  int i;

  fx->peer_reads = 0;
  for (i = 0; i < 8; i++)
    assert_int_equal(sfu_channel_send(&fx->ch, p, 1024u * 1024u), 0);
  sfu_channel_get_stats(&fx->ch, &st);
  assert_true(st.queued_frames > 0);

  fx->ch_open = 0;
  sfu_channel_close(&fx->ch, on_close);
  sfu_channel_close(&fx->ch, on_close); /* idempotent */
  assert_int_equal(fx->close_count, 0);  /* asynchronous */
  uv_run(&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal(fx->close_count, 1);

  sfu_channel_get_stats(&fx->ch, &st);
  assert_int_equal(st.frames_out + st.dropped_on_close, 8);
  assert_true(st.dropped_on_close > 0);
  assert_int_equal(st.queued_frames, 0);
  assert_int_equal(st.queued_bytes, 0);
  free(p);
}

static void test_eof_once(void **state) {
  fixture_t *fx = *state;
  uint8_t m[4] = {9, 8, 7, 6};

  peer_send_frame(fx, m, sizeof(m));
  pump_until(fx, pred_peer_out_done, 0);
  close_fd(&fx->a[1]); /* peer closes: EOF after the frame */
  pump_until(fx, pred_eof, 1);
  assert_int_equal(fx->in.count, 1);
  assert_memory_equal(fx->in.v[0].bytes, m, 4);
  assert_int_equal(fx->eof_status, UV_EOF);
  pump_idle(fx);
  assert_int_equal(fx->eof_count, 1);

  /* sending still works after EOF on the read side */
  assert_int_equal(sfu_channel_send(&fx->ch, m, sizeof(m)), 0);
  pump_until(fx, pred_peer_in, 1);

  fx->ch_open = 0;
  sfu_channel_close(&fx->ch, on_close);
  uv_run(&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal(fx->eof_count, 1);
  assert_int_equal(fx->close_count, 1);
}

static void test_eof_with_partial_frame(void **state) {
  fixture_t *fx = *state;
  uint8_t part[6] = {10, 0, 0, 0, 'a', 'b'};

  peer_send_raw(fx, part, sizeof(part));
  pump_until(fx, pred_peer_out_done, 0);
  close_fd(&fx->a[1]);
  pump_until(fx, pred_eof, 1);
  assert_int_equal(fx->in.count, 0);
  assert_int_equal(fx->eof_status, UV_EOF);
}

static void test_close_from_msg(void **state) {
  fixture_t *fx = *state;
  uint8_t m[3] = {1, 2, 3};
  sfu_channel_stats_t st;

  fx->close_in_msg = 2;
  peer_send_frame(fx, m, 1);
  peer_send_frame(fx, m, 2);
  peer_send_frame(fx, m, 3); /* same read: must not be delivered */
  pump_until(fx, pred_in, 2);
  uv_run(&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal(fx->in.count, 2);
  assert_int_equal(fx->close_count, 0); /* closed with a NULL callback */
  assert_int_equal(fx->eof_count, 0);
  sfu_channel_get_stats(&fx->ch, &st);
  assert_int_equal(st.frames_in, 2);
  assert_int_equal(sfu_channel_send(&fx->ch, m, 3), UV_EPIPE);
}

static void test_close_from_msg_with_cb(void **state) {
  fixture_t *fx = *state;
  uint8_t m[3] = {1, 2, 3};

  /* close from the callback, and the close callback runs later, once */
  fx->close_in_msg = 1;
  peer_send_frame(fx, m, 3);
  peer_send_frame(fx, m, 3);
  pump_until(fx, pred_in, 1);
  sfu_channel_close(&fx->ch, on_close); /* already closing: ignored */
  uv_run(&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal(fx->in.count, 1);
  assert_int_equal(fx->close_count, 0);
}

static void test_send_after_close(void **state) {
  fixture_t *fx = *state;
  uint8_t m[1] = {1};

  fx->ch_open = 0;
  sfu_channel_close(&fx->ch, on_close);
  assert_int_equal(sfu_channel_send(&fx->ch, m, 1), UV_EPIPE);
  uv_run(&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal(fx->close_count, 1);
  assert_int_equal(sfu_channel_send(&fx->ch, m, 1), UV_EPIPE);
  sfu_channel_close(&fx->ch, on_close);
  uv_run(&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal(fx->close_count, 1);
}

static void test_echo_from_msg(void **state) {
  fixture_t *fx = *state;
  uint8_t *p = make_payload(200000, 11);
  size_t i;

  fx->echo = 1;
  for (i = 0; i < 20; i++)
    peer_send_frame(fx, p, 200000 - i);
  pump_until(fx, pred_peer_in, 20);
  for (i = 0; i < 20; i++) {
    assert_int_equal(fx->peer_in.v[i].len, 200000 - i);
    assert_memory_equal(fx->peer_in.v[i].bytes, p, 200000 - i);
  }
  free(p);
}

static void test_send_empty_and_args(void **state) {
  fixture_t *fx = *state;

  assert_int_equal(sfu_channel_send(&fx->ch, NULL, 0), 0);
  assert_int_equal(sfu_channel_send(&fx->ch, NULL, 5), UV_EINVAL);
  assert_int_equal(sfu_channel_send(NULL, NULL, 0), UV_EINVAL);
  pump_until(fx, pred_peer_in, 1);
  assert_int_equal(fx->peer_in.v[0].len, 0);
}

static void test_write_error(void **state) {
  fixture_t *fx = *state;
  uint8_t m[16] = {0};
  sfu_channel_stats_t st;
  int rc = 0, i;

  close_fd(&fx->b[1]); /* the peer stops reading for good */
  fx->peer_reads = 0;
  for (i = 0; i < 5 && rc == 0; i++) {
    rc = sfu_channel_send(&fx->ch, m, sizeof(m));
    pump_once(fx);
  }
  assert_int_equal(rc, UV_EPIPE);
  assert_int_equal(sfu_channel_send(&fx->ch, m, sizeof(m)), UV_EPIPE);
  sfu_channel_get_stats(&fx->ch, &st);
  assert_int_equal(st.write_errors, 1);
}

static void test_init_errors(void **state) {
  fixture_t *fx = *state;
  sfu_channel_t ch2;
  int p[2], dead;
  uint8_t m[1] = {0};

  (void)state;
  memset(&ch2, 0, sizeof(ch2));
  assert_int_equal(pipe(p), 0);
  dead = dup(p[0]);
  assert_true(dead >= 0);
  close(dead);

  assert_int_equal(sfu_channel_init(&fx->loop, &ch2, p[0], p[0], on_msg, NULL),
                   UV_EINVAL);
  assert_int_equal(sfu_channel_init(&fx->loop, &ch2, -1, p[1], on_msg, NULL),
                   UV_EINVAL);
  assert_int_equal(sfu_channel_init(NULL, &ch2, p[0], p[1], on_msg, NULL),
                   UV_EINVAL);
  assert_int_equal(sfu_channel_init(&fx->loop, &ch2, p[0], p[1], NULL, NULL),
                   UV_EINVAL);
  assert_int_equal(sfu_channel_init(&fx->loop, NULL, p[0], p[1], on_msg, NULL),
                   UV_EINVAL);
  assert_int_equal(sfu_channel_init(&fx->loop, &ch2, dead, p[1], on_msg, NULL),
                   UV_EBADF);
  /* read end given as write fd and vice versa */
  assert_int_equal(sfu_channel_init(&fx->loop, &ch2, p[1], p[0], on_msg, NULL),
                   UV_EINVAL);
  /* an fd this loop already reads: libuv refuses it */
  assert_int_equal(
      sfu_channel_init(&fx->loop, &ch2, fx->a[0], p[1], on_msg, NULL),
      UV_EEXIST);

  /* a failed channel is closed: send fails, close is a no-op */
  assert_int_equal(sfu_channel_send(&ch2, m, 1), UV_EPIPE);
  sfu_channel_close(&ch2, on_close);
  uv_run(&fx->loop, UV_RUN_NOWAIT);
  assert_int_equal(fx->close_count, 0);

  /* the fds were left alone */
  assert_int_equal(write(p[1], m, 1), 1);
  assert_int_equal(read(p[0], m, 1), 1);
  close(p[0]);
  close(p[1]);

  /* and the fixture's channel still works */
  peer_send_frame(fx, m, 1);
  pump_until(fx, pred_in, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_recv_many_and_split, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_recv_max_frame, setup, teardown),
      cmocka_unit_test_setup_teardown(test_recv_oversized_resync, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_send_queues_then_drains, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_send_queue_cap, setup, teardown),
      cmocka_unit_test_setup_teardown(test_close_drops_queued, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_eof_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_eof_with_partial_frame, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_close_from_msg, setup, teardown),
      cmocka_unit_test_setup_teardown(test_close_from_msg_with_cb, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_send_after_close, setup, teardown),
      cmocka_unit_test_setup_teardown(test_echo_from_msg, setup, teardown),
      cmocka_unit_test_setup_teardown(test_send_empty_and_args, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_write_error, setup, teardown),
      cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
  };

  /* Writing to a socket whose peer is gone must fail with EPIPE, not kill
   * the test (the worker does the same in main). */
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
