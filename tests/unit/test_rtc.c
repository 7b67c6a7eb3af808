/* Unit tests for worker/src/rtc alone: RTP streams (RFC 3550 loss, jitter,
 * wrap-around, retransmission buffer), producers (encoding matching by SSRC,
 * RID and RTX, payload type and SSRC mapping, pause) and consumers of every
 * type (simple, simulcast, svc, pipe) wired to fake parents through their
 * listeners: sequence numbers and timestamps continuous across pauses and
 * layer switches, key frame gating with key frame requests, DTX dropping,
 * NACK answered as RTX. No transport, router or channel is involved. */
#include "rtc_test_util.h"

#include "sfu_consumer.h"
#include "sfu_consumer_ops.h"
#include "sfu_error.h"
#include "sfu_layer_allocation.h"
#include "sfu_nack_generator.h"
#include "sfu_producer.h"
#include "sfu_rtcp_feedback.h"
#include "sfu_rtp_stream.h"
#include "sfu_seq_map.h"
#include "sfu_vpx_layers.h"

/* ---- RTP streams ---- */

static void recv_seq(sfu_rtp_stream_t *s, uint16_t seq, uint32_t ts, uint64_t now_ms) {
  tpkt_t t;
  uint8_t pl[20] = {0};
  rtc_make_pkt(&t, 111, seq, ts, 1234, false, pl, sizeof(pl), NULL, 0);
  (void)sfu_rtp_stream_recv(s, &t.pkt, now_ms);
}

static void stream_init(sfu_rtp_stream_t *s, uint32_t clock, bool send, bool nack) {
  sfu_rtp_stream_params_t p;
  memset(&p, 0, sizeof(p));
  p.kind = SFU_KIND_AUDIO;
  p.ssrc = 1234;
  p.payload_type = 111;
  p.clock_rate = clock;
  p.use_nack = nack;
  sfu_rtp_stream_init(s, &p, send);
}

static void test_stream_loss(void **state) {
  (void)state;
  sfu_rtp_stream_t s;
  sfu_rtcp_rb_t rb;
  stream_init(&s, 48000, false, false);
  /* 100 packets, 10 of them missing: cumulative loss 10, fraction 10/100 */
  for (uint16_t i = 0; i < 100; i++)
    if (i % 10 != 5) recv_seq(&s, (uint16_t)(1000 + i), i * 960u, 1000 + i * 20u);
  sfu_rtp_stream_fill_rr(&s, &rb, 3000);
  assert_int_equal(rb.cumulative_lost, 10);
  assert_int_equal(rb.highest_seq, 1099);
  assert_int_equal(rb.fraction_lost, (10 * 256) / 100);
  /* the next interval loses nothing: fraction 0, cumulative stays */
  for (uint16_t i = 100; i < 150; i++) recv_seq(&s, (uint16_t)(1000 + i), i * 960u, 1000 + i * 20u);
  sfu_rtp_stream_fill_rr(&s, &rb, 4000);
  assert_int_equal(rb.cumulative_lost, 10);
  assert_int_equal(rb.fraction_lost, 0);
  assert_int_equal(s.score, 10);
  /* a duplicate is refused and counted */
  tpkt_t t;
  uint8_t pl[4] = {0};
  rtc_make_pkt(&t, 111, 1149, 149 * 960u, 1234, false, pl, 4, NULL, 0);
  assert_false(sfu_rtp_stream_recv(&s, &t.pkt, 4000));
  assert_int_equal(s.packets_discarded, 1);
  /* a late packet within the reorder window fills a hole and lowers the loss */
  for (uint16_t i = 150; i < 170; i++)
    if (i != 160) recv_seq(&s, (uint16_t)(1000 + i), i * 960u, 1000 + i * 20u);
  recv_seq(&s, 1160, 160 * 960u, 4500);
  sfu_rtp_stream_fill_rr(&s, &rb, 5000);
  assert_int_equal(rb.cumulative_lost, 10);
  /* one far older than the window (RFC 3550 MAX_MISORDER) is a stray: dropped, no resync */
  uint64_t disc = s.packets_discarded;
  recv_seq(&s, 1005, 5 * 960u, 5100);
  assert_int_equal(s.packets_discarded, disc + 1);
  sfu_rtp_stream_fill_rr(&s, &rb, 5200);
  assert_int_equal(rb.cumulative_lost, 10);
  assert_int_equal(rb.highest_seq, 1169);
  sfu_rtp_stream_destroy(&s);
}

static void test_stream_wrap(void **state) {
  (void)state;
  sfu_rtp_stream_t s;
  sfu_rtcp_rb_t rb;
  stream_init(&s, 48000, false, false);
  for (uint32_t i = 0; i < 200; i++) recv_seq(&s, (uint16_t)(65436 + i), i * 960u, i * 20u);
  sfu_rtp_stream_fill_rr(&s, &rb, 5000);
  assert_int_equal(rb.cumulative_lost, 0);
  assert_int_equal(rb.highest_seq, 65536u + 99u); /* one cycle */
  /* a jump far ahead followed by its successor is a restarted sender:
   * resync (RFC 3550 A.1), no loss counted */
  for (uint32_t i = 0; i < 10; i++) recv_seq(&s, (uint16_t)(30000 + i), 1000000 + i * 960u, 5000 + i * 20u);
  sfu_rtp_stream_fill_rr(&s, &rb, 6000);
  assert_int_equal(rb.cumulative_lost, 0);
  assert_int_equal(rb.highest_seq, 30009);
  assert_int_equal(s.packets, 200 + 9); /* the first packet after the jump was held as suspect and dropped */
  sfu_rtp_stream_destroy(&s);
}

static void test_stream_jitter(void **state) {
  (void)state;
  sfu_rtp_stream_t s;
  stream_init(&s, 8000, false, false);
  /* perfectly paced: no jitter */
  for (uint32_t i = 0; i < 50; i++) recv_seq(&s, (uint16_t)i, i * 160u, 1000 + i * 20u);
  assert_int_equal(s.jitter, 0);
  /* every other packet 10 ms late: |D| = 80 units each time, J -> 80 (RFC 3550 A.8) */
  for (uint32_t i = 50; i < 400; i++) recv_seq(&s, (uint16_t)i, i * 160u, 1000 + i * 20u + (i % 2 ? 10 : 0));
  assert_in_range(s.jitter, 76, 80);
  sfu_rtp_stream_destroy(&s);
}

static void test_stream_send_side(void **state) {
  (void)state;
  sfu_rtp_stream_t s;
  sfu_rtcp_sr_t sr;
  stream_init(&s, 48000, true, true);
  tpkt_t t;
  uint8_t pl[100];
  memset(pl, 7, sizeof(pl));
  for (uint16_t i = 0; i < 10; i++) {
    rtc_make_pkt(&t, 111, (uint16_t)(500 + i), 48000u + i * 960u, 1234, false, pl, sizeof(pl), NULL, 0);
    sfu_rtp_stream_sent(&s, &t.pkt, 1000 + i * 20u);
  }
  assert_int_equal(s.packets, 10);
  sfu_rtx_slot_t *slot = sfu_rtp_stream_rtx_get(&s, 503);
  assert_non_null(slot);
  assert_int_equal(slot->len, 112);
  assert_int_equal(slot->data[3], (uint8_t)503);
  assert_null(sfu_rtp_stream_rtx_get(&s, 510));
  sfu_rtp_stream_fill_sr(&s, &sr, 1180 + 100);
  assert_int_equal(sr.packet_count, 10);
  assert_int_equal(sr.octet_count, 1000);
  /* 100 ms after the last packet: its timestamp + 100 ms of clock */
  assert_int_equal(sr.rtp_ts, 48000u + 9 * 960u + 4800u);
  sfu_rtp_stream_destroy(&s);
}

/* ---- NACK generator ---- */

static sfu_nack_result_t gen_pkt(sfu_nack_generator_t *g, uint16_t seq, bool key, bool repaired, uint64_t now,
                                 uint16_t *out, size_t *n, bool *kf) {
  return sfu_nack_generator_on_packet(g, seq, key, repaired, now, out, 1024, n, kf);
}

static void test_nack_generator(void **state) {
  (void)state;
  static sfu_nack_generator_t g;
  uint16_t out[1024];
  size_t n;
  bool kf;
  sfu_nack_generator_init(&g);
  /* in order: nothing to ask for */
  for (uint16_t s = 65530; s != 2; s++) {
    assert_int_equal(gen_pkt(&g, s, false, false, 1000, out, &n, &kf), SFU_NACK_NEW);
    assert_int_equal(n, 0);
  }
  /* a hole of three across nothing special: asked for at once */
  assert_int_equal(gen_pkt(&g, 5, false, false, 1000, out, &n, &kf), SFU_NACK_NEW);
  assert_int_equal(n, 3);
  assert_int_equal(out[0], 2);
  assert_int_equal(out[2], 4);
  assert_false(kf);
  /* not again before a round trip time, then again */
  assert_int_equal(sfu_nack_generator_on_timer(&g, 1050, 100, out, 1024), 0);
  assert_int_equal(sfu_nack_generator_on_timer(&g, 1100, 100, out, 1024), 3);
  /* one arrives late (or repaired): taken off the list */
  assert_int_equal(gen_pkt(&g, 3, false, true, 1120, out, &n, &kf), SFU_NACK_RECOVERED);
  assert_int_equal(g.recovered, 1);
  assert_int_equal(g.count, 2);
  /* the same again, and an old one never missing: not recovered */
  assert_int_equal(gen_pkt(&g, 3, false, true, 1121, out, &n, &kf), SFU_NACK_OLD);
  assert_int_equal(gen_pkt(&g, 1, false, false, 1122, out, &n, &kf), SFU_NACK_OLD);
  assert_int_equal(gen_pkt(&g, 5, false, false, 1123, out, &n, &kf), SFU_NACK_DUPLICATE);
  /* the rest is asked for up to SFU_NACK_MAX_RETRIES times in all, then given up */
  int rounds = 2; /* the first NACK and the one at 1100 */
  for (uint64_t t = 1200; t < 5000 && g.count > 0; t += 100) rounds += sfu_nack_generator_on_timer(&g, t, 100, out, 1024) > 0;
  assert_int_equal(rounds, SFU_NACK_MAX_RETRIES);
  assert_int_equal(g.count, 0);
  assert_int_equal(g.given_up, 2);

  /* more than SFU_NACK_MAX_PACKETS missing: the holes before the newest key frame go first */
  sfu_nack_generator_init(&g);
  gen_pkt(&g, 100, true, false, 0, out, &n, &kf);
  gen_pkt(&g, 700, false, false, 0, out, &n, &kf); /* 599 missing */
  assert_int_equal(g.count, 599);
  gen_pkt(&g, 701, true, false, 0, out, &n, &kf); /* a key frame */
  gen_pkt(&g, 1300, false, false, 0, out, &n, &kf); /* 598 more: too many, 100's key frame does not help, 701's does */
  assert_false(kf);
  assert_int_equal(g.count, 598);
  assert_int_equal(g.items[g.head].seq, 702);
  /* and with no key frame to cut at: everything goes and a key frame is needed */
  gen_pkt(&g, 3000, false, false, 0, out, &n, &kf);
  assert_true(kf);
  assert_int_equal(g.count, 0);
  assert_int_equal(g.keyframes_needed, 1);
  /* holes older than SFU_NACK_MAX_AGE are forgotten */
  sfu_nack_generator_init(&g);
  gen_pkt(&g, 10, false, false, 0, out, &n, &kf);
  gen_pkt(&g, 12, false, false, 0, out, &n, &kf);
  for (uint32_t s = 13; s < 13 + SFU_NACK_MAX_AGE; s++) gen_pkt(&g, (uint16_t)s, false, false, 0, out, &n, &kf);
  assert_int_equal(g.count, 0);
}

/* ---- sequence maps and VP8/VP9 layers ---- */

static uint32_t map_in(sfu_seq_map_t *m, uint32_t in) {
  uint32_t out = 0xdeadbeef;
  assert_true(sfu_seq_map_input(m, in, &out));
  return out;
}

static void test_seq_map(void **state) {
  (void)state;
  sfu_seq_map_t m;
  uint32_t out;
  sfu_seq_map_init(&m, 16);
  sfu_seq_map_sync(&m, 65530);
  /* as they are at first, across the wrap */
  for (uint32_t i = 0; i < 10; i++) assert_int_equal(map_in(&m, (65530 + i) & 0xffff), (65530 + i) & 0xffff);
  /* two dropped: no hole */
  sfu_seq_map_drop(&m, 4);
  sfu_seq_map_drop(&m, 5);
  assert_int_equal(map_in(&m, 6), 4);
  assert_int_equal(map_in(&m, 7), 5);
  /* a late one from before the drops keeps its number; a late copy of a dropped one is refused */
  assert_int_equal(map_in(&m, 2), 2);
  assert_false(sfu_seq_map_input(&m, 5, &out));
  /* a drop older than the newest is ignored (only newer numbers can be dropped) */
  sfu_seq_map_drop(&m, 1);
  assert_int_equal(map_in(&m, 8), 6);
  /* a jump to another source continues right after the highest output */
  sfu_seq_map_sync(&m, 30000);
  assert_int_equal(map_in(&m, 30000), 7);
  assert_int_equal(map_in(&m, 30001), 8);
  /* many drops, far behind, are folded into the base: the mapping stays right */
  for (uint32_t i = 0; i < 3000; i++) {
    if (i % 3 == 0) sfu_seq_map_drop(&m, 30002 + i);
    else assert_int_equal(map_in(&m, 30002 + i), 9 + i - (i / 3 + 1));
  }
  assert_true(m.ndrops <= SFU_SEQ_MAP_DROPS);
  /* 7-bit picture ids wrap at 128 */
  sfu_seq_map_init(&m, 7);
  sfu_seq_map_sync(&m, 120);
  for (uint32_t i = 0; i < 20; i++) {
    if (i == 5) sfu_seq_map_drop(&m, (120 + i) & 0x7f);
    else assert_int_equal(map_in(&m, (120 + i) & 0x7f), (120 + i - (i > 5)) & 0x7f);
  }
}

/* A VP8 packet with the full descriptor: 15-bit picture id, TL0PICIDX, TID (+Y). */
static void vp8_layered_sized(tpkt_t *t, uint32_t ssrc, size_t len, uint16_t seq, uint32_t ts, uint16_t pid, uint8_t tl0,
                              uint8_t tid, bool y, bool key, bool start) {
  uint8_t pl[1200];
  if (len < 12) len = 12;
  if (len > sizeof(pl)) len = sizeof(pl);
  memset(pl, 0x55, len);
  pl[0] = (uint8_t)(0x80 | (start ? 0x10 : 0));
  pl[1] = 0xe0;
  pl[2] = (uint8_t)(0x80 | (pid >> 8)), pl[3] = (uint8_t)pid;
  pl[4] = tl0;
  pl[5] = (uint8_t)(tid << 6 | (y ? 0x20 : 0));
  pl[6] = key ? 0x00 : 0x01;
  if (key) pl[7] = 0x00, pl[8] = 0x00, pl[9] = 0x9d, pl[10] = 0x01, pl[11] = 0x2a;
  rtc_make_pkt(t, 96, seq, ts, ssrc, false, pl, len, NULL, 0);
}

static void vp8_layered(tpkt_t *t, uint16_t seq, uint32_t ts, uint16_t pid, uint8_t tl0, uint8_t tid, bool y, bool key,
                        bool start) {
  vp8_layered_sized(t, 1, 60, seq, ts, pid, tl0, tid, y, key, start);
}

/* L1T3 frames (TID 0 2 1 2 ...), one packet each; the target temporal layer
 * drops whole frames, picture ids stay consecutive, TL0PICIDX untouched; a
 * switch up waits for a frame that allows it; a resync (another source)
 * continues picture ids and TL0PICIDX. */
static void test_vpx_layers(void **state) {
  (void)state;
  sfu_vpx_layers_t l;
  sfu_vpx_info_t vi;
  tpkt_t t;
  const uint8_t pattern[4] = {0, 2, 1, 2};
  uint16_t pid = 1000, out_prev = 0;
  uint8_t tl0 = 50;
  size_t forwarded = 0;
  sfu_vpx_layers_init(&l, SFU_CODEC_VP8);
  l.target_temporal = 0;
  for (int f = 0; f < 40; f++, pid++) {
    uint8_t tid = pattern[f % 4];
    if (tid == 0 && f > 0) tl0++;
    vp8_layered(&t, (uint16_t)f, (uint32_t)f * 3000u, pid, tl0, tid, tid != 0, f == 0, true);
    if (f == 20) l.target_temporal = 2; /* up: at a frame with Y */
    bool keep = sfu_vpx_layers_filter(&l, &t.pkt, &vi);
    if (f < 20) assert_int_equal(keep, tid == 0);
    if (!keep) continue;
    sfu_vpx_layers_rewrite(&l, &vi, &t.pkt);
    sfu_rtp_vp8_desc_t d;
    assert_int_equal(sfu_rtp_vp8_parse(sfu_rtp_payload(&t.pkt), t.pkt.payload_len, &d), 0);
    if (forwarded > 0) assert_int_equal((uint16_t)(d.picture_id - out_prev) & 0x7fff, 1);
    assert_int_equal(d.tl0picidx, tl0);
    out_prev = d.picture_id;
    forwarded++;
  }
  assert_int_equal(forwarded, 5 + 20);
  assert_int_equal(l.current_temporal, 2);
  /* down at the next frame */
  l.target_temporal = 1;
  vp8_layered(&t, 40, 40 * 3000u, pid++, tl0, 2, true, false, true);
  assert_false(sfu_vpx_layers_filter(&l, &t.pkt, &vi));
  /* packets of a frame follow its first packet's decision */
  vp8_layered(&t, 41, 40 * 3000u, pid - 1, tl0, 2, true, false, false);
  assert_false(sfu_vpx_layers_filter(&l, &t.pkt, &vi));
  /* another source (a simulcast switch): ids go on from the last ones */
  sfu_vpx_layers_resync(&l);
  vp8_layered(&t, 500, 900000, 30000, 7, 0, false, true, true);
  assert_true(sfu_vpx_layers_filter(&l, &t.pkt, &vi));
  sfu_vpx_layers_rewrite(&l, &vi, &t.pkt);
  sfu_rtp_vp8_desc_t d;
  assert_int_equal(sfu_rtp_vp8_parse(sfu_rtp_payload(&t.pkt), t.pkt.payload_len, &d), 0);
  assert_int_equal(d.picture_id, (uint16_t)(out_prev + 1));
  assert_int_equal(d.tl0picidx, (uint8_t)(tl0 + 1));
  /* not VP8/VP9, or no descriptor to read: passes */
  sfu_vpx_layers_init(&l, SFU_CODEC_OTHER);
  l.target_temporal = 0;
  assert_true(sfu_vpx_layers_filter(&l, &t.pkt, &vi));
}

/* A VP9 packet: I (15-bit), L (TID, U, SID), non-flexible (TL0PICIDX). */
static void vp9_layered(tpkt_t *t, uint16_t seq, uint32_t ts, uint16_t pid, uint8_t sid, bool begin, bool end, bool key,
                        bool marker) {
  uint8_t pl[40];
  memset(pl, 0x55, sizeof(pl));
  pl[0] = (uint8_t)(0x80 | 0x20 | (key ? 0 : 0x40) | (begin ? 0x08 : 0) | (end ? 0x04 : 0));
  pl[1] = (uint8_t)(0x80 | (pid >> 8)), pl[2] = (uint8_t)pid;
  pl[3] = (uint8_t)(0 << 5 | sid << 1);
  pl[4] = 9;
  rtc_make_pkt(t, 98, seq, ts, 1, marker, pl, sizeof(pl), NULL, 0);
}

static void test_vpx_svc_spatial(void **state) {
  (void)state;
  sfu_vpx_layers_t l;
  sfu_vpx_info_t vi;
  tpkt_t t;
  sfu_vpx_layers_init(&l, SFU_CODEC_VP9);
  l.target_spatial = 1;
  uint16_t seq = 0;
  /* a key picture of three spatial layers: S2 dropped, the marker moves to the end of S1 */
  for (uint8_t sid = 0; sid < 3; sid++) {
    vp9_layered(&t, seq++, 1000, 5, sid, true, true, sid == 0, sid == 2);
    bool keep = sfu_vpx_layers_filter(&l, &t.pkt, &vi);
    assert_int_equal(keep, sid <= 1);
    if (keep) {
      sfu_vpx_layers_rewrite(&l, &vi, &t.pkt);
      assert_int_equal(t.pkt.marker, sid == 1);
    }
  }
  /* up to S2 only at a key frame */
  l.target_spatial = 2;
  vp9_layered(&t, seq++, 4000, 6, 0, true, true, false, false);
  assert_true(sfu_vpx_layers_filter(&l, &t.pkt, &vi));
  vp9_layered(&t, seq++, 4000, 6, 2, true, true, false, true);
  assert_false(sfu_vpx_layers_filter(&l, &t.pkt, &vi));
  vp9_layered(&t, seq++, 7000, 7, 0, true, true, true, false);
  assert_true(sfu_vpx_layers_filter(&l, &t.pkt, &vi));
  vp9_layered(&t, seq++, 7000, 7, 2, true, true, false, true);
  assert_true(sfu_vpx_layers_filter(&l, &t.pkt, &vi));
  assert_true(vi.marker);
}

/* ---- producers and consumers with fake parents ---- */

#define MAX_OUT 256

typedef struct sent {
  uint32_t ssrc;
  uint16_t seq;
  uint32_t ts;
  uint8_t pt;
  bool rtx;
  size_t len;
  uint8_t first; /* first payload byte */
} sent_t;

typedef struct harness {
  rtc_env_t env;
  sfu_producer_t *p;
  sfu_consumer_t *c[4];
  size_t nc;
  uint8_t send_buf[SFU_SEND_BUF];
  sent_t out[MAX_OUT];
  size_t nout;
  size_t rtcp_out, plis, firs, nacks;
  uint16_t nacked[64];
  size_t nnacked;
  int producer_paused_events;
  int score_events;
  int consumers_closed;
} harness_t;

static harness_t H;

static void h_on_rtp(void *arg, sfu_producer_t *p, const sfu_rtp_packet_t *pkt, uint64_t now_ms) {
  harness_t *h = arg;
  (void)p;
  for (size_t i = 0; i < h->nc; i++) sfu_consumer_send_rtp(h->c[i], pkt, now_ms);
}

static void h_on_paused(void *arg, sfu_producer_t *p, bool paused) {
  harness_t *h = arg;
  (void)p;
  h->producer_paused_events++;
  for (size_t i = 0; i < h->nc; i++) sfu_consumer_producer_paused(h->c[i], paused);
}

static void h_on_level(void *arg, sfu_producer_t *p, uint8_t level) { (void)arg, (void)p, (void)level; }

static void h_send_rtcp(void *arg, sfu_producer_t *p, const uint8_t *buf, size_t len) {
  harness_t *h = arg;
  (void)p;
  h->rtcp_out++;
  if (len >= 4 && buf[1] == SFU_RTCP_PT_PSFB && (buf[0] & 0x1f) == 1) h->plis++;
  if (len >= 4 && buf[1] == SFU_RTCP_PT_PSFB && (buf[0] & 0x1f) == 4) h->firs++;
  if (len >= 4 && buf[1] == SFU_RTCP_PT_RTPFB && (buf[0] & 0x1f) == 1) {
    sfu_rtcp_iter_t it;
    sfu_rtcp_hdr_t hd;
    sfu_rtcp_nack_t nack;
    h->nacks++;
    sfu_rtcp_iter_init(&it, buf, len);
    assert_int_equal(sfu_rtcp_iter_next(&it, &hd), 1);
    assert_int_equal(sfu_rtcp_nack_parse(&hd, &nack), 0);
    for (size_t i = 0; i < nack.item_count; i++) {
      uint16_t pid, blp, seqs[17];
      sfu_rtcp_nack_item(&nack, i, &pid, &blp);
      size_t k = sfu_rtcp_nack_expand(pid, blp, seqs);
      for (size_t j = 0; j < k && h->nnacked < 64; j++) h->nacked[h->nnacked++] = seqs[j];
    }
  }
}

static void h_on_score(void *arg, sfu_producer_t *p) {
  harness_t *h = arg;
  (void)p;
  h->score_events++;
  for (size_t i = 0; i < h->nc; i++) sfu_consumer_producer_score(h->c[i]);
}

static const sfu_producer_listener_t h_plistener = {h_on_rtp, h_on_paused, h_on_level, h_send_rtcp, h_on_score, NULL};

static void h_consumer_send(void *arg, sfu_consumer_t *c, sfu_rtp_packet_t *pkt, bool is_rtx) {
  harness_t *h = arg;
  (void)c;
  assert_true(h->nout < MAX_OUT);
  sent_t *s = &h->out[h->nout++];
  s->ssrc = pkt->ssrc;
  s->seq = pkt->seq;
  s->ts = pkt->timestamp;
  s->pt = pkt->payload_type;
  s->rtx = is_rtx;
  s->len = pkt->len;
  s->first = pkt->payload_len > 0 ? sfu_rtp_payload(pkt)[0] : 0;
}

static void h_consumer_producer_closed(void *arg, sfu_consumer_t *c) {
  harness_t *h = arg;
  h->consumers_closed++;
  sfu_consumer_close(c);
}

static const sfu_consumer_listener_t h_clistener = {h_consumer_send, h_consumer_producer_closed, NULL, NULL};

static const tcodec_t OPUS = {.mime = "audio/opus", .pt = 100, .clock = 48000, .channels = 2};
static const tcodec_t VP8[2] = {{.mime = "video/VP8", .pt = 96, .clock = 90000, .nack = true, .pli = true, .fir = true},
                                {.mime = "video/rtx", .pt = 97, .clock = 90000, .apt = 96}};
static const tcodec_t VP8_CONSUMER[2] = {
    {.mime = "video/VP8", .pt = 101, .clock = 90000, .nack = true, .pli = true, .fir = true},
    {.mime = "video/rtx", .pt = 102, .clock = 90000, .apt = 101}};

static const tcodec_t H264[1] = {{.mime = "video/H264", .pt = 96, .clock = 90000, .nack = true, .pli = true}};
static const tcodec_t H264_CONSUMER[1] = {{.mime = "video/H264", .pt = 101, .clock = 90000, .nack = true, .pli = true}};
/* The video codecs of the next producer and consumers (VP8 when NULL). */
static const tcodec_t *h_video, *h_video_consumer, *h_audio;

#define MAPPED 5000u

static void h_open(void) {
  memset(&H, 0, sizeof(H));
  rtc_env_open(&H.env);
}

static void h_producer(bool video, const tenc_t *encs, size_t n, const text_t *exts, size_t nexts) {
  char err[256] = "";
  trtp_t r = {.mid = "0", .codecs = video ? (h_video ? h_video : VP8) : (h_audio ? h_audio : &OPUS),
              .ncodecs = video ? (h_video ? 1 : 2) : 1, .encs = encs, .nencs = n, .exts = exts, .nexts = nexts};
  fb_table_t req = rtc_produce_req("p1", video, &r, MAPPED, false);
  assert_int_equal(sfu_producer_create(&H.env.ctx, &h_plistener, &H, req, &H.p, err, sizeof(err)), 0);
}

/* A consumer of type (FBS RtpParameters Type) sending as ssrc (rtx_ssrc + 1 when RTX). */
/* The consumer encoding's scalabilityMode (mediasoup gives simulcast of
 * L1T3 encodings "L3T3"); NULL: none. */
static const char *h_consumer_scalability;

static sfu_consumer_t *h_consumer(const char *id, bool video, uint8_t type, size_t nsources, int preferred, bool rtx,
                                  bool ignore_dtx, bool paused) {
  char err[256] = "";
  sfu_consumer_t *c;
  tenc_t enc[4] = {{.ssrc = 9000 + (uint32_t)H.nc * 10, .rtx_ssrc = rtx ? 9001 + (uint32_t)H.nc * 10 : 0,
                    .scalability = h_consumer_scalability}};
  size_t nenc = 1;
  if (type == FBS_RtpParameters_Type_PIPE) {
    for (size_t i = 0; i < nsources; i++)
      enc[i] = (tenc_t){.ssrc = 9000 + (uint32_t)H.nc * 10 + (uint32_t)i,
                        .rtx_ssrc = rtx ? 9005 + (uint32_t)H.nc * 10 + (uint32_t)i : 0};
    nenc = nsources;
  }
  trtp_t r = {.mid = "c", .codecs = video ? (h_video_consumer ? h_video_consumer : VP8_CONSUMER) : &OPUS,
              .ncodecs = video ? (rtx && !h_video_consumer ? 2 : 1) : 1, .encs = enc, .nencs = nenc};
  fb_table_t req = rtc_consume_req(id, "p1", video, type, &r, MAPPED, nsources, preferred, ignore_dtx);
  if (paused) {
    /* paused is a field of the request: patch it through a rebuild */
  }
  assert_int_equal(
      sfu_consumer_create(&H.env.ctx, &h_clistener, &H, H.send_buf, sizeof(H.send_buf), H.p, req, &c, err, sizeof(err)),
      0);
  H.c[H.nc++] = c;
  c->paused = paused;
  sfu_consumer_transport_connected(c, 0);
  return c;
}

static void h_close(void) {
  for (size_t i = 0; i < H.nc; i++) sfu_consumer_close(H.c[i]);
  if (H.p != NULL) sfu_producer_close(H.p);
  rtc_env_close(&H.env);
}

/* The producer receives one packet of its stream (original pt/ssrc). */
static sfu_producer_rtp_result_t h_in(uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc, const uint8_t *payload,
                                      size_t plen, const sfu_rtp_ext_value_t *exts, size_t nexts, uint64_t now) {
  tpkt_t t;
  rtc_make_pkt(&t, pt, seq, ts, ssrc, false, payload, plen, exts, nexts);
  return sfu_producer_receive_rtp(H.p, &t.pkt, now);
}

static void test_simple_audio_pause_resume(void **state) {
  (void)state;
  h_open();
  const tenc_t enc = {.ssrc = 1111};
  h_producer(false, &enc, 1, NULL, 0);
  sfu_consumer_t *c = h_consumer("c1", false, FBS_RtpParameters_Type_SIMPLE, 1, -1, false, false, false);
  uint8_t pl[60];
  memset(pl, 1, sizeof(pl));
  uint64_t now = 10000;
  uint16_t seq = 40000;
  uint32_t ts = 123456;
  for (int i = 0; i < 10; i++, seq++, ts += 960, now += 20)
    assert_int_equal(h_in(100, seq, ts, 1111, pl, sizeof(pl), NULL, 0, now), SFU_PRODUCER_RTP_MEDIA);
  c->paused = true; /* CONSUMER_PAUSE */
  for (int i = 0; i < 50; i++, seq++, ts += 960, now += 20) h_in(100, seq, ts, 1111, pl, sizeof(pl), NULL, 0, now);
  c->paused = false; /* CONSUMER_RESUME */
  c->sync_required = true;
  for (int i = 0; i < 10; i++, seq++, ts += 960, now += 20) h_in(100, seq, ts, 1111, pl, sizeof(pl), NULL, 0, now);

  assert_int_equal(H.nout, 20);
  for (size_t i = 0; i < H.nout; i++) {
    assert_int_equal(H.out[i].ssrc, 9000);
    assert_int_equal(H.out[i].pt, 100);
    if (i > 0) assert_int_equal((uint16_t)(H.out[i].seq - H.out[i - 1].seq), 1); /* no gap for the receiver */
  }
  assert_int_equal(H.out[0].seq, 40000); /* the first packet keeps its numbers */
  assert_int_equal(H.out[0].ts, 123456);
  /* across the pause the timestamp advances by the wall time that passed
   * (51 packets of 20 ms = 1.02 s = 48960 units), not by 0 */
  uint32_t jump = H.out[10].ts - H.out[9].ts;
  assert_in_range(jump, 48960 - 960, 48960 + 960);
  for (size_t i = 11; i < H.nout; i++) assert_int_equal(H.out[i].ts - H.out[i - 1].ts, 960);
  assert_int_equal(c->stream.packets, 20);
  h_close();
}

static void test_simple_dtx(void **state) {
  (void)state;
  h_open();
  const tenc_t enc = {.ssrc = 1111};
  h_producer(false, &enc, 1, NULL, 0);
  h_consumer("keep", false, FBS_RtpParameters_Type_SIMPLE, 1, -1, false, false, false);
  h_consumer("drop", false, FBS_RtpParameters_Type_SIMPLE, 1, -1, false, true, false);
  uint8_t pl[60] = {1}, dtx[1] = {0xf8};
  h_in(100, 1, 960, 1111, pl, sizeof(pl), NULL, 0, 1000);
  h_in(100, 2, 1920, 1111, dtx, 1, NULL, 0, 1020);
  h_in(100, 3, 2880, 1111, pl, sizeof(pl), NULL, 0, 1040);
  size_t keep = 0, drop = 0;
  for (size_t i = 0; i < H.nout; i++) {
    if (H.out[i].ssrc == 9000) keep++;
    if (H.out[i].ssrc == 9010) drop++;
  }
  assert_int_equal(keep, 3);
  assert_int_equal(drop, 2);
  /* the consumer that skipped the DTX packet has no hole in its numbers */
  assert_int_equal(H.out[H.nout - 1].ssrc, 9010);
  assert_int_equal((uint16_t)(H.out[H.nout - 1].seq - H.out[1].seq), 1);
  h_close();
}

static void test_producer_matching(void **state) {
  (void)state;
  h_open();
  const text_t exts[2] = {{FBS_RtpParameters_RtpHeaderExtensionUri_RtpStreamId, 10},
                          {FBS_RtpParameters_RtpHeaderExtensionUri_RepairRtpStreamId, 11}};
  const tenc_t encs[2] = {{.rid = "r0"}, {.rid = "r1"}};
  h_producer(true, encs, 2, exts, 2);
  sfu_consumer_t *c = h_consumer("c1", true, FBS_RtpParameters_Type_SIMULCAST, 2, 1, false, false, false);
  uint8_t key[40], delta[40];
  rtc_vp8_payload(key, true, sizeof(key));
  rtc_vp8_payload(delta, false, sizeof(delta));
  sfu_rtp_ext_value_t rid0 = {.id = 10, .len = 2, .value = (const uint8_t *)"r0"};
  sfu_rtp_ext_value_t rid1 = {.id = 10, .len = 2, .value = (const uint8_t *)"r1"};
  sfu_rtp_ext_value_t rrid1 = {.id = 11, .len = 2, .value = (const uint8_t *)"r1"};
  /* SSRCs learned from RIDs */
  assert_int_equal(h_in(96, 1, 0, 7000, key, sizeof(key), &rid0, 1, 1000), SFU_PRODUCER_RTP_MEDIA);
  assert_int_equal(h_in(96, 1, 0, 7001, key, sizeof(key), &rid1, 1, 1000), SFU_PRODUCER_RTP_MEDIA);
  assert_true(H.p->encodings[0].has_ssrc && H.p->encodings[0].ssrc == 7000);
  assert_true(H.p->encodings[1].has_ssrc && H.p->encodings[1].ssrc == 7001);
  /* then by SSRC without the RID */
  assert_int_equal(h_in(96, 2, 3000, 7001, delta, sizeof(delta), NULL, 0, 1033), SFU_PRODUCER_RTP_MEDIA);
  /* RTX by repaired RID (its SSRC learned): a repeat of packet 2 is counted, not forwarded */
  uint8_t rtx[42];
  rtx[0] = 0, rtx[1] = 2;
  memcpy(rtx + 2, delta, sizeof(delta));
  assert_int_equal(h_in(97, 5, 3000, 7100, rtx, sizeof(rtx), &rrid1, 1, 1040), SFU_PRODUCER_RTP_RTX);
  assert_true(H.p->encodings[1].has_rtx_ssrc && H.p->encodings[1].rtx_ssrc == 7100);
  assert_int_equal(H.p->encodings[1].stream.rtx_packets_discarded, 1);
  /* unknown payload type and unknown SSRC */
  assert_int_equal(h_in(55, 3, 6000, 7001, delta, sizeof(delta), NULL, 0, 1066), SFU_PRODUCER_RTP_DISCARDED);
  assert_int_equal(h_in(96, 3, 6000, 7777, delta, sizeof(delta), NULL, 0, 1066), SFU_PRODUCER_RTP_DISCARDED);
  /* the consumer saw the router form (mapped SSRCs and payload type) and
   * sent ours: encoding 0 while it was the only active one, then 1 */
  assert_int_equal(c->current_spatial, 1);
  assert_int_equal(H.nout, 3);
  assert_int_equal(H.out[0].ssrc, 9000);
  assert_int_equal(H.out[0].pt, 101);
  /* a paused producer forwards nothing and tells its parent once */
  H.p->paused = true;
  size_t before = H.nout;
  assert_int_equal(h_in(96, 4, 9000, 7001, delta, sizeof(delta), NULL, 0, 1100), SFU_PRODUCER_RTP_MEDIA);
  assert_int_equal(H.nout, before);
  h_close();
}

static void test_video_key_frame_gating(void **state) {
  (void)state;
  h_open();
  const tenc_t enc = {.ssrc = 2222, .rtx_ssrc = 2223};
  h_producer(true, &enc, 1, NULL, 0);
  sfu_consumer_t *c = h_consumer("c1", true, FBS_RtpParameters_Type_SIMPLE, 1, -1, true, false, false);
  uint8_t key[100], delta[100];
  rtc_vp8_payload(key, true, sizeof(key));
  rtc_vp8_payload(delta, false, sizeof(delta));
  uint64_t now = 5000;
  /* delta frames before a key frame: dropped, one PLI (throttled) */
  for (int i = 0; i < 5; i++, now += 33) h_in(96, (uint16_t)(100 + i), 90000u + i * 3000u, 2222, delta, 100, NULL, 0, now);
  assert_int_equal(H.nout, 0);
  assert_int_equal(H.plis, 1);
  h_in(96, 105, 90000u + 5 * 3000u, 2222, key, 100, NULL, 0, now);
  for (int i = 6; i < 10; i++, now += 33) h_in(96, (uint16_t)(100 + i), 90000u + i * 3000u, 2222, delta, 100, NULL, 0, now);
  assert_int_equal(H.nout, 5);
  assert_int_equal(H.out[0].seq, 105);
  /* after a producer pause/resume a key frame is needed again, and asked for */
  sfu_consumer_producer_paused(c, true);
  sfu_consumer_producer_paused(c, false);
  size_t plis = H.plis;
  now += 1000;
  h_in(96, 110, 90000u + 10 * 3000u, 2222, delta, 100, NULL, 0, now);
  assert_int_equal(H.nout, 5);
  assert_true(H.plis > plis);
  h_in(96, 111, 90000u + 11 * 3000u, 2222, key, 100, NULL, 0, now + 33);
  assert_int_equal(H.nout, 6);
  assert_int_equal((uint16_t)(H.out[5].seq - H.out[4].seq), 1);
  h_close();
}

static void test_nack_answered_as_rtx(void **state) {
  (void)state;
  h_open();
  const tenc_t enc = {.ssrc = 2222, .rtx_ssrc = 2223};
  h_producer(true, &enc, 1, NULL, 0);
  sfu_consumer_t *c = h_consumer("c1", true, FBS_RtpParameters_Type_SIMPLE, 1, -1, true, false, false);
  uint8_t key[100], delta[100];
  rtc_vp8_payload(key, true, sizeof(key));
  rtc_vp8_payload(delta, false, sizeof(delta));
  h_in(96, 500, 0, 2222, key, 100, NULL, 0, 1000);
  for (int i = 1; i < 10; i++) h_in(96, (uint16_t)(500 + i), (uint32_t)i * 3000u, 2222, delta, 100, NULL, 0, 1000 + 33u * i);
  assert_int_equal(H.nout, 10);
  /* NACK for 503 and 505 (PID 503, BLP bit 1) */
  uint8_t buf[64];
  int len = sfu_rtcp_nack_build(buf, sizeof(buf), 1, 9000, (const uint16_t[]){503, 505}, 2, NULL);
  assert_true(len > 0);
  sfu_rtcp_iter_t it;
  sfu_rtcp_hdr_t h;
  sfu_rtcp_nack_t nack;
  sfu_rtcp_iter_init(&it, buf, (size_t)len);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
  assert_int_equal(sfu_rtcp_nack_parse(&h, &nack), 0);
  sfu_consumer_on_nack(c, &nack, 1400);
  assert_int_equal(H.nout, 12);
  for (int k = 0; k < 2; k++) {
    sent_t *s = &H.out[10 + k];
    assert_true(s->rtx);
    assert_int_equal(s->ssrc, 9001);
    assert_int_equal(s->pt, 102);
    assert_int_equal(s->len, H.out[3].len + 2); /* the OSN */
  }
  assert_int_equal(c->stream.packets_retransmitted, 2);
  /* the same NACK again within the round trip (100 ms while no RTT is
   * known) resends nothing; after it, both again */
  sfu_consumer_on_nack(c, &nack, 1450);
  assert_int_equal(H.nout, 12);
  sfu_consumer_on_nack(c, &nack, 1501);
  assert_int_equal(H.nout, 14);
  c->stream.rtt_ms = 300;
  sfu_consumer_on_nack(c, &nack, 1700);
  assert_int_equal(H.nout, 14);
  sfu_consumer_on_nack(c, &nack, 1802);
  assert_int_equal(H.nout, 16);
  assert_int_equal(c->stream.packets_retransmitted, 6);
  /* a packet never sent, and one too old, are not retransmitted */
  len = sfu_rtcp_nack_build(buf, sizeof(buf), 1, 9000, (const uint16_t[]){600}, 1, NULL);
  sfu_rtcp_iter_init(&it, buf, (size_t)len);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
  assert_int_equal(sfu_rtcp_nack_parse(&h, &nack), 0);
  sfu_consumer_on_nack(c, &nack, 1500);
  len = sfu_rtcp_nack_build(buf, sizeof(buf), 1, 9000, (const uint16_t[]){504}, 1, NULL);
  sfu_rtcp_iter_init(&it, buf, (size_t)len);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
  assert_int_equal(sfu_rtcp_nack_parse(&h, &nack), 0);
  sfu_consumer_on_nack(c, &nack, 1000 + 33 * 4 + 5000);
  assert_int_equal(H.nout, 16);
  h_close();
}

/* A NACK for seqs of ssrc, built and parsed as it would arrive, to the consumer. */
static void h_nacks(sfu_consumer_t *c, uint32_t ssrc, const uint16_t *seqs, size_t n, uint64_t now) {
  uint8_t buf[64];
  sfu_rtcp_iter_t it;
  sfu_rtcp_hdr_t h;
  sfu_rtcp_nack_t nack;
  int len = sfu_rtcp_nack_build(buf, sizeof(buf), 1, ssrc, seqs, n, NULL);
  assert_true(len > 0);
  sfu_rtcp_iter_init(&it, buf, (size_t)len);
  assert_int_equal(sfu_rtcp_iter_next(&it, &h), 1);
  assert_int_equal(sfu_rtcp_nack_parse(&h, &nack), 0);
  sfu_consumer_on_nack(c, &nack, now);
}

static void h_nack(sfu_consumer_t *c, uint32_t ssrc, uint16_t seq, uint64_t now) { h_nacks(c, ssrc, &seq, 1, now); }

/* Packets sent before the last key frame are not resent: the receiver's
 * decoder never needs them again, and on a path that is dropping they
 * would delay the key frame's own repair. The key frame starts at its
 * first packet by RTP timestamp (an H264 IDR's SPS/PPS packet first). */
static void test_nack_not_before_key_frame(void **state) {
  (void)state;
  h_open();
  const tenc_t enc = {.ssrc = 2222, .rtx_ssrc = 2223};
  h_producer(true, &enc, 1, NULL, 0);
  sfu_consumer_t *c = h_consumer("c1", true, FBS_RtpParameters_Type_SIMPLE, 1, -1, true, false, false);
  uint8_t key[100], delta[100];
  rtc_vp8_payload(key, true, sizeof(key));
  rtc_vp8_payload(delta, false, sizeof(delta));
  h_in(96, 500, 0, 2222, key, 100, NULL, 0, 1000);
  for (int i = 1; i < 10; i++) h_in(96, (uint16_t)(500 + i), (uint32_t)i * 3000u, 2222, delta, 100, NULL, 0, 1000 + 33u * i);
  /* before a second key frame: answered */
  h_nack(c, 9000, 505, 1340);
  assert_int_equal(H.nout, 11);
  /* a key frame in two packets of one timestamp (both say key), then a delta */
  h_in(96, 510, 30000, 2222, key, 100, NULL, 0, 1340);
  h_in(96, 511, 30000, 2222, key, 100, NULL, 0, 1341);
  h_in(96, 512, 33000, 2222, delta, 100, NULL, 0, 1373);
  assert_int_equal(H.nout, 14);
  h_nacks(c, 9000, (const uint16_t[]){504, 509, 510, 511, 512}, 5, 1500);
  assert_int_equal(H.nout, 17);
  assert_int_equal(c->stream.packets_retransmitted, 4);
  for (int k = 0; k < 3; k++) assert_int_equal(H.out[14 + k].len, H.out[11 + k].len + 2);
  h_close();
}

/* Loss on the way in: NACKed at once, repaired by RTX, the repaired packet
 * forwarded in its place, repeats and padding dropped. */
static void test_producer_nack_and_rtx(void **state) {
  (void)state;
  h_open();
  const tenc_t enc = {.ssrc = 2222, .rtx_ssrc = 2223};
  h_producer(true, &enc, 1, NULL, 0);
  sfu_consumer_t *c = h_consumer("c1", true, FBS_RtpParameters_Type_SIMPLE, 1, -1, true, false, false);
  uint8_t key[100], delta[100], rtx[102];
  rtc_vp8_payload(key, true, sizeof(key));
  rtc_vp8_payload(delta, false, sizeof(delta));
  h_in(96, 1000, 0, 2222, key, 100, NULL, 0, 1000);
  for (uint16_t s = 1001; s <= 1010; s++)
    if (s != 1004 && s != 1005) h_in(96, s, (uint32_t)(s - 1000) * 3000u, 2222, delta, 100, NULL, 0, 1000 + (s - 1000) * 10u);
  assert_int_equal(H.nacks, 1);
  assert_int_equal(H.nnacked, 2);
  assert_int_equal(H.nacked[0], 1004);
  assert_int_equal(H.nacked[1], 1005);
  assert_int_equal(H.p->encodings[0].stream.nack_count, 1);
  assert_int_equal(H.nout, 9);
  /* the RTX for 1004 (OSN first) repairs it: forwarded under our numbers in its place */
  memcpy(rtx + 2, delta, 100);
  rtx[0] = 1004 >> 8, rtx[1] = 1004 & 0xff;
  assert_int_equal(h_in(97, 1, 4 * 3000u, 2223, rtx, 102, NULL, 0, 1120), SFU_PRODUCER_RTP_RTX);
  assert_int_equal(H.nout, 10);
  assert_int_equal(H.out[9].ssrc, 9000);
  assert_int_equal(H.out[9].seq, 1004);
  assert_int_equal(H.out[9].ts, 4 * 3000u);
  assert_int_equal(H.out[9].pt, 101);
  assert_int_equal(H.p->encodings[0].stream.packets_repaired, 1);
  /* the same RTX again, padding only, and one we never asked for: dropped */
  assert_int_equal(h_in(97, 2, 4 * 3000u, 2223, rtx, 102, NULL, 0, 1130), SFU_PRODUCER_RTP_RTX);
  assert_int_equal(h_in(97, 3, 0, 2223, rtx, 0, NULL, 0, 1131), SFU_PRODUCER_RTP_RTX);
  rtx[0] = 1002 >> 8, rtx[1] = 1002 & 0xff;
  assert_int_equal(h_in(97, 4, 2 * 3000u, 2223, rtx, 102, NULL, 0, 1132), SFU_PRODUCER_RTP_RTX);
  assert_int_equal(H.nout, 10);
  assert_int_equal(H.p->encodings[0].stream.rtx_packets_discarded, 3);
  /* an RTX copy of a packet newer than any received (Chromium's RTX probes
   * resend recent packets; the original may have been lost) is taken: 1012
   * forwarded, and 1011 before it asked for */
  size_t nacked = H.nnacked;
  memcpy(rtx + 2, delta, 100);
  rtx[0] = 1012 >> 8, rtx[1] = 1012 & 0xff;
  assert_int_equal(h_in(97, 5, 12 * 3000u, 2223, rtx, 102, NULL, 0, 1140), SFU_PRODUCER_RTP_RTX);
  assert_int_equal(H.nout, 11);
  assert_int_equal(H.out[10].seq, 1012);
  assert_int_equal(H.nacked[nacked], 1011);
  /* after repair the loss the producer reports is what is still missing (1005, 1011) */
  sfu_rtcp_rb_t rb;
  sfu_rtp_stream_fill_rr(&H.p->encodings[0].stream, &rb, 1200);
  assert_int_equal(rb.cumulative_lost, 2);
  (void)c;
  h_close();
}

/* Simulcast: three encodings; the consumer forwards the preferred one, then
 * switches down at a key frame of the lower one when the preference drops,
 * and up again; one SSRC, sequence numbers without gaps or repeats,
 * timestamps never going backwards. */
static void test_simulcast_layer_switch(void **state) {
  (void)state;
  h_open();
  const tenc_t encs[3] = {{.ssrc = 3000}, {.ssrc = 3001}, {.ssrc = 3002}};
  h_producer(true, encs, 3, NULL, 0);
  sfu_consumer_t *c = h_consumer("c1", true, FBS_RtpParameters_Type_SIMULCAST, 3, 2, false, false, false);
  uint8_t key[80], delta[80];
  rtc_vp8_payload(key, true, sizeof(key));
  rtc_vp8_payload(delta, false, sizeof(delta));
  /* the three encodings have unrelated sequence numbers and timestamp bases */
  uint16_t seq[3] = {100, 20000, 65000};
  uint32_t tsb[3] = {1000, 500000, 4000000000u};
  uint64_t now = 1000;
  int frame = 0;
  for (int phase = 0; phase < 3; phase++) {
    if (phase == 1) c->preferred_spatial = 0;
    if (phase == 2) c->preferred_spatial = 2;
    for (int f = 0; f < 30; f++, frame++, now += 33) {
      for (int e = 0; e < 3; e++) {
        bool is_key = f == 0 || f == 15;
        h_in(96, seq[e]++, tsb[e] + (uint32_t)frame * 3000u, 3000u + (uint32_t)e, is_key ? key : delta, 80, NULL, 0, now);
      }
    }
    assert_int_equal(c->current_spatial, phase == 1 ? 0 : 2);
  }
  assert_true(H.nout >= 85);
  for (size_t i = 1; i < H.nout; i++) {
    assert_int_equal(H.out[i].ssrc, 9000);
    assert_int_equal((uint16_t)(H.out[i].seq - H.out[i - 1].seq), 1);
    assert_true((int32_t)(H.out[i].ts - H.out[i - 1].ts) > 0);
    assert_true(H.out[i].ts - H.out[i - 1].ts <= 6000); /* at most one frame interval of jump */
  }
  h_close();
}

/* Feeds the three encodings for ms at roughly the given bitrates, in 100 ms
 * steps, advancing *now. */
static void feed_layers(uint64_t *now, uint16_t *seq, const uint32_t kbps[3], uint64_t ms) {
  uint8_t pl[1200];
  rtc_vp8_payload(pl, false, sizeof(pl));
  for (uint64_t t = 0; t < ms; t += 100, *now += 100) {
    for (int e = 0; e < 3; e++) {
      uint32_t bytes = kbps[e] * 100 / 8; /* per 100 ms */
      while (bytes > 0) {
        size_t n = bytes > 1000 ? 1000 : bytes;
        h_in(96, seq[e]++, (uint32_t)(*now * 90), 3000u + (uint32_t)e, pl, n, NULL, 0, *now);
        bytes -= (uint32_t)n;
      }
    }
  }
}

/* The same with L1T3 temporal layers: 30 frames per second of equal size
 * (up to 1000 bytes a packet), TID 0 2 1 2 ... */
static void feed_layers_t3(uint64_t *now, uint16_t *seq, const uint32_t kbps[3], uint64_t ms) {
  static uint16_t pid[3];
  static const uint8_t pattern[4] = {0, 2, 1, 2};
  for (uint64_t t = 0; t < ms; t += 100, *now += 100) {
    for (int e = 0; e < 3; e++) {
      uint32_t per_frame = kbps[e] * 100 / 8 / 3; /* 3 frames per 100 ms */
      for (int f = 0; f < 3; f++) {
        uint8_t tid = pattern[pid[e] % 4];
        uint64_t at = *now + (uint64_t)f * 33;
        for (uint32_t left = per_frame, first = 1; left > 0; first = 0) {
          tpkt_t tp;
          uint32_t n = left > 1000 ? 1000 : left;
          vp8_layered_sized(&tp, 3000u + (uint32_t)e, n, seq[e]++, (uint32_t)(at * 90), pid[e], 0, tid, tid != 0, false,
                            first != 0);
          sfu_producer_receive_rtp(H.p, &tp.pkt, at);
          left -= n;
        }
        pid[e]++;
      }
    }
  }
}

/* One allocation as sfu_transport_cc does it: rounds until no layer moves. */
static int16_t allocate(sfu_consumer_t *c, uint32_t avail, uint64_t now) {
  sfu_consumer_start_allocation(c);
  bool base = true;
  for (int round = 0; round < 64; round++) {
    int16_t ps = c->provisional_spatial, pt = c->provisional_temporal;
    uint32_t used = sfu_consumer_increase_layer(c, avail, base, now);
    avail -= used < avail ? used : avail;
    base = false;
    if (c->provisional_spatial == ps && c->provisional_temporal == pt) break;
  }
  sfu_consumer_apply_layers(c, now);
  return c->target_spatial;
}

/* An encoding the sender just enabled is passed over for 2 s while the
 * lower ones have flowed longer (it may be disabled again at once). */
static void test_simulcast_new_encoding_waits(void **state) {
  (void)state;
  h_open();
  const tenc_t encs[3] = {{.ssrc = 3000}, {.ssrc = 3001}, {.ssrc = 3002}};
  h_producer(true, encs, 3, NULL, 0);
  sfu_consumer_t *c = h_consumer("c1", true, FBS_RtpParameters_Type_SIMULCAST, 3, 2, false, false, false);
  c->bwe_managed = true;
  uint64_t now = 10000;
  uint16_t seq[3] = {1, 1, 1};
  const uint32_t two[3] = {150, 500, 0}, all[3] = {150, 500, 1500};
  for (int i = 0; i < 6; i++) {
    feed_layers(&now, seq, two, 500);
    (void)allocate(c, 10000000, now);
  }
  assert_int_equal(c->target_spatial, 1);
  /* the top encoding starts: not taken before it has flowed 2 s */
  for (int i = 0; i < 3; i++) {
    feed_layers(&now, seq, all, 500);
    assert_int_equal(allocate(c, 10000000, now), 1);
  }
  feed_layers(&now, seq, all, 600); /* 2.1 s */
  (void)allocate(c, 10000000, now);
  feed_layers(&now, seq, all, 1000); /* and the switch up's 1 s */
  assert_int_equal(allocate(c, 10000000, now), 2);
  h_close();
}

/* Bandwidth allocation of a simulcast consumer: the lowest flowing layer in
 * any case, the highest that fits otherwise, never above the preferred one;
 * switches up with headroom, once stable for a second (at once with twice
 * the room), and not soon after a switch down unless the offer grew a lot. */
static void test_simulcast_allocation(void **state) {
  (void)state;
  h_open();
  const tenc_t encs[3] = {{.ssrc = 3000}, {.ssrc = 3001}, {.ssrc = 3002}};
  h_producer(true, encs, 3, NULL, 0);
  sfu_consumer_t *c = h_consumer("c1", true, FBS_RtpParameters_Type_SIMULCAST, 3, 2, false, false, false);
  c->bwe_managed = true;
  uint64_t now = 10000;
  uint16_t seq[3] = {1, 1, 1};
  const uint32_t kbps[3] = {150, 500, 1500};
#define STEP(ms) feed_layers(&now, seq, kbps, (ms))
  STEP(1000);
  uint32_t l0 = sfu__consumer_source_bitrate(c, MAPPED + 0, now), l2 = sfu__consumer_source_bitrate(c, MAPPED + 2, now);
  assert_in_range(l0, 130000, 190000);
  assert_in_range(l2, 1300000, 1700000);
  /* nothing fits: still the lowest layer (video keeps going) */
  assert_int_equal(allocate(c, 10000, now), 0);
  assert_int_equal(sfu_consumer_desired_bitrate(c, now), l2);
  /* with encodings[0].maxBitrate above what flows, the consumer asks for
   * that (probes then look for the top layer's room before it ramps up) */
  c->params.encodings[0].max_bitrate = 2500000;
  assert_int_equal(sfu_consumer_desired_bitrate(c, now), 2500000);
  c->params.encodings[0].max_bitrate = 1000000;
  assert_int_equal(sfu_consumer_desired_bitrate(c, now), l2);
  c->params.encodings[0].max_bitrate = 0;
  /* plenty (twice what the layers need): up at once, as far as it goes */
  assert_int_equal(allocate(c, 10000000, now), 2);
  /* the estimate falls below the top layer: down at once, as far as needed */
  STEP(5000); /* long after the switch up: this is not a failed one */
  assert_int_equal(allocate(c, 600000, now), 1);
  assert_int_equal(c->layer_hold_ms, 4000);
  STEP(100);
  assert_int_equal(allocate(c, 450000, now), 0);
  assert_int_equal(c->layer_hold_ms, 4000); /* the same fall, not another failed switch up */
  /* room for layer 1 with headroom (500k needs 625k offered), but soon after: held (4 s) */
  for (int i = 0; i < 6; i++) {
    STEP(500);
    assert_int_equal(allocate(c, 640000, now), 0);
  }
  STEP(1000);
  /* after the hold, once stable for a second: up; not without the headroom */
  assert_int_equal(allocate(c, 600000, now), 0);
  assert_int_equal(allocate(c, 640000, now), 0);
  STEP(1000);
  assert_int_equal(allocate(c, 640000, now), 1);
  /* a switch up undone within 5 s doubles the hold */
  STEP(500);
  assert_int_equal(allocate(c, 450000, now), 0);
  assert_int_equal(c->layer_hold_ms, 8000);
  for (int i = 0; i < 8; i++) {
    STEP(500);
    assert_int_equal(allocate(c, 640000, now), 0);
  }
  /* an offer 1.5 x the one it fell with (a probe found room) breaks the hold */
  assert_int_equal(allocate(c, 700000, now), 0);
  STEP(1100);
  assert_int_equal(allocate(c, 700000, now), 1);
  /* never above the preferred layer */
  c->preferred_spatial = 1;
  for (int i = 0; i < 4; i++) {
    STEP(1000);
    assert_int_equal(allocate(c, 10000000, now), 1);
  }
  /* a layer that stops flowing is skipped */
  c->preferred_spatial = 2;
  const uint32_t no_l1[3] = {150, 0, 1500};
  feed_layers(&now, seq, no_l1, 1500);
  assert_int_equal(sfu__consumer_source_bitrate(c, MAPPED + 1, now), 0);
  assert_int_equal(allocate(c, 900000, now), 0);
#undef STEP
  h_close();
}

/* A frame rate step up on the encoding being sent needs no headroom (no key
 * frame, undone at the next frame), only the second of stability: an offer
 * 5 % above the layer takes it; a spatial step still wants 20 %. */
static void test_simulcast_temporal_step_without_headroom(void **state) {
  (void)state;
  h_open();
  const tenc_t encs[3] = {{.ssrc = 3000}, {.ssrc = 3001}, {.ssrc = 3002}};
  h_producer(true, encs, 3, NULL, 0);
  h_consumer_scalability = "L3T3";
  sfu_consumer_t *c = h_consumer("c1", true, FBS_RtpParameters_Type_SIMULCAST, 3, 0, false, false, false);
  h_consumer_scalability = NULL;
  c->bwe_managed = true;
  uint64_t now = 10000;
  uint16_t seq[3] = {1, 1, 1};
  const uint32_t kbps[3] = {300, 500, 1500};
  feed_layers_t3(&now, seq, kbps, 1000);
  uint32_t s0t1 = sfu__consumer_layer_bitrate(c, 0, 1, now);
  assert_int_equal(allocate(c, s0t1 * 21 / 20, now), 0);
  assert_int_equal(c->target_temporal, 1);
  for (int i = 0; i < 4; i++) {
    feed_layers_t3(&now, seq, kbps, 500);
    (void)allocate(c, sfu__consumer_layer_bitrate(c, 0, 2, now) * 21 / 20, now);
  }
  assert_int_equal(c->target_spatial, 0);
  assert_int_equal(c->target_temporal, 2);
  h_close();
}

/* With temporal layers: the walk goes S0T0, S0T1, S0T2, S1T0, ... (a larger
 * encoding's base layer before the full frame rate of a smaller one, if
 * the offer also covers the layer below and the key frame reserve) */
static void test_simulcast_temporal_allocation(void **state) {
  (void)state;
  h_open();
  const tenc_t encs[3] = {{.ssrc = 3000}, {.ssrc = 3001}, {.ssrc = 3002}};
  h_producer(true, encs, 3, NULL, 0);
  h_consumer_scalability = "L3T3";
  sfu_consumer_t *c = h_consumer("c1", true, FBS_RtpParameters_Type_SIMULCAST, 3, 2, false, false, false);
  h_consumer_scalability = NULL;
  assert_int_equal(c->preferred_temporal, 2);
  c->bwe_managed = true;
  uint64_t now = 10000;
  uint16_t seq[3] = {1, 1, 1};
  const uint32_t kbps[3] = {150, 500, 1500};
  feed_layers_t3(&now, seq, kbps, 1000);
  /* frames of equal size, TID pattern 0 2 1 2: TID 0 is a quarter of each encoding, TID 0+1 half */
  uint32_t s0t0 = sfu__consumer_layer_bitrate(c, 0, 0, now), s0t1 = sfu__consumer_layer_bitrate(c, 0, 1, now),
           s0 = sfu__consumer_layer_bitrate(c, 0, -1, now);
  assert_in_range(s0t0, s0 * 2 / 10, s0 * 3 / 10);
  assert_in_range(s0t1, s0 * 4 / 10, s0 * 6 / 10);
  assert_in_range(sfu__consumer_layer_bitrate(c, 0, 2, now), s0 * 9 / 10, s0 * 11 / 10); /* windows start apart */
  /* a first allocation with room takes the highest layers at once */
  int16_t s = allocate(c, 10000000, now);
  assert_int_equal(s, 2);
  assert_int_equal(c->target_temporal, 2);
  /* the walk's price of a layer: every step on the way, a step to a
   * larger encoding at least half the layer it leaves (room for the key
   * frame), however cheap its base layer */
#define RESERVE(x) ((uint32_t)((x) * SFU_LAYERS_SPATIAL_RESERVE))
#define STEP_UP(from, to) ((to) > (from) + RESERVE(from) ? (to) - (from) : RESERVE(from))
  feed_layers_t3(&now, seq, kbps, 1000);
  uint32_t s0all = sfu__consumer_layer_bitrate(c, 0, 2, now), s1t0 = sfu__consumer_layer_bitrate(c, 1, 0, now),
           s1 = sfu__consumer_layer_bitrate(c, 1, 2, now),
           s2t0 = sfu__consumer_layer_bitrate(c, 2, 0, now), s2t1 = sfu__consumer_layer_bitrate(c, 2, 1, now);
  assert_true(s1t0 < s0all && s2t0 < s1 && s1 < s2t1);
  uint32_t to_s1t2 = s0all + STEP_UP(s0all, s1t0) + (s1 - s1t0), to_s2t0 = to_s1t2 + STEP_UP(s1, s2t0);
  assert_true(to_s2t0 + (s2t1 - s2t0) > to_s2t0 * 11 / 10);
  /* room for S2T0 but not S2T1: S2T0, at once (mediasoup's order:
   * resolution before frame rate), S2T0 costing less than S1T2 */
  s = allocate(c, to_s2t0 * 21 / 20, now);
  assert_int_equal(s, 2);
  assert_int_equal(c->target_temporal, 0);
  /* room for S1 whole but not the key frame reserve of S2: S1T2 */
  s = allocate(c, to_s1t2 + RESERVE(s1) / 2, now);
  assert_int_equal(s, 1);
  assert_int_equal(c->target_temporal, 2);
  /* room for S0 whole, not for S1T0 with its reserve: S0T2 */
  feed_layers_t3(&now, seq, kbps, 1000);
  s0all = sfu__consumer_layer_bitrate(c, 0, 2, now);
  s = allocate(c, s0all + RESERVE(s0all) / 2, now);
  assert_int_equal(s, 0);
  assert_int_equal(c->target_temporal, 2);
  /* the room comes back, far above the offer it fell with (that breaks the
   * hold) and twice what the layers need (no second's wait): all the way
   * up in one switch, one key frame */
  int switches = 0;
  for (int i = 0; i < 20 && !(c->target_spatial == 2 && c->target_temporal == 2); i++) {
    feed_layers_t3(&now, seq, kbps, 500);
    int16_t ps = c->target_spatial;
    s = allocate(c, 10000000, now);
    if (s != ps) switches++;
  }
  assert_int_equal(switches, 1);
  assert_int_equal(c->target_spatial, 2);
  assert_int_equal(c->target_temporal, 2);
#undef STEP_UP
#undef RESERVE
  h_close();
}

/* Chrome's first packet of an L1T3 key frame's Dependency Descriptor
 * (libwebrtc's ScalabilityStructureL1T3, frame 303; the bytes of
 * tests/unit/test_rtp_dd.c). */
static const uint8_t DD_L1T3_KEY[16] = {0x80, 0x01, 0x2f, 0x80, 0x02, 0x14, 0xea, 0xa8,
                                        0x60, 0x41, 0x4d, 0x14, 0x10, 0x20, 0x84, 0x26};

/* One H264 packet with a 3-byte descriptor (start and end of frame). */
static void h264_dd_frame(uint16_t seq, uint32_t ts, unsigned template_id, unsigned frame, uint64_t now) {
  uint8_t pl[40], dd[3];
  memset(pl, 0x33, sizeof(pl));
  pl[0] = 0x41; /* non-IDR slice */
  dd[0] = (uint8_t)(0xc0 | template_id), dd[1] = (uint8_t)(frame >> 8), dd[2] = (uint8_t)frame;
  const sfu_rtp_ext_value_t x = {.id = 12, .len = 3, .value = dd};
  h_in(96, seq, ts, 3000, pl, sizeof(pl), &x, 1, now);
}

/* H264 L1T3 with the Dependency Descriptor (an SVC consumer, as mediasoup
 * makes for one encoding with temporal layers): the producer learns the
 * layers and their bitrates from the descriptor; frames above the target
 * temporal layer are dropped without a hole; a switch up waits for a frame
 * that is a switching point to it (DTI 'S': a T0 or T1 frame for T2); a
 * descriptor naming a template before any structure asks for a key frame. */
static void test_h264_dependency_descriptor(void **state) {
  (void)state;
  h_open();
  h_video = H264, h_video_consumer = H264_CONSUMER;
  const tenc_t enc = {.ssrc = 3000, .scalability = "L1T3"};
  const text_t ext = {FBS_RtpParameters_RtpHeaderExtensionUri_DependencyDescriptor, 12};
  h_producer(true, &enc, 1, &ext, 1);
  h_consumer_scalability = "L1T3";
  sfu_consumer_t *c = h_consumer("c1", true, FBS_RtpParameters_Type_SVC, 1, -1, false, false, false);
  h_consumer_scalability = NULL;
  h_video = h_video_consumer = NULL;
  assert_int_equal(c->preferred_temporal, 2);
  c->preferred_temporal = 1;
  uint64_t now = 1000;
  uint16_t seq = 100;
  uint32_t ts = 9000;
  /* before the key frame's structure: a key frame request, nothing forwarded */
  h264_dd_frame(seq++, ts, 1, 300, now);
  assert_int_equal(H.plis, 1);
  assert_int_equal(H.nout, 0);
  /* the key frame: IDR with the L1T3 structure, then its last packet */
  uint8_t idr[40];
  memset(idr, 0x44, sizeof(idr));
  idr[0] = 0x65;
  const sfu_rtp_ext_value_t kx = {.id = 12, .len = sizeof(DD_L1T3_KEY), .value = DD_L1T3_KEY};
  ts += 3000, now += 33;
  h_in(96, seq++, ts, 3000, idr, sizeof(idr), &kx, 1, now);
  uint8_t last[3] = {0x40, 0x01, 0x2f};
  const sfu_rtp_ext_value_t lx = {.id = 12, .len = 3, .value = last};
  h_in(96, seq++, ts, 3000, idr, sizeof(idr), &lx, 1, now);
  assert_int_equal(H.nout, 2);
  /* L1T3 frames: T2 (template 3), T1 (2), T2 (4), T0 (1), ... at 30 fps */
  static const unsigned ids[4] = {3, 2, 4, 1}, tids[4] = {2, 1, 2, 0};
  unsigned frame = 304;
  for (int i = 0; i < 8; i++) {
    size_t before = H.nout;
    ts += 3000, now += 33;
    h264_dd_frame(seq++, ts, ids[i % 4], frame++, now);
    assert_int_equal(H.nout - before, tids[i % 4] <= 1 ? 1u : 0u);
  }
  for (size_t i = 1; i < H.nout; i++) assert_int_equal((uint16_t)(H.out[i].seq - H.out[i - 1].seq), 1);
  sfu_rtp_stream_t *st = &H.p->encodings[0].stream;
  assert_true(st->has_tl);
  assert_int_equal(st->max_tid, 2);
  assert_true(sfu_rate_bps(&st->layer_rate[0][2], now) > 0);
  /* up to T2: the next T2 frame waits; the T1 frame after it is a switching point */
  c->preferred_temporal = 2;
  size_t before = H.nout;
  ts += 3000, now += 33;
  h264_dd_frame(seq++, ts, 3, frame++, now); /* T2 */
  assert_int_equal(H.nout, before);
  ts += 3000, now += 33;
  h264_dd_frame(seq++, ts, 2, frame++, now); /* T1: 'S' for T2 */
  ts += 3000, now += 33;
  h264_dd_frame(seq++, ts, 4, frame++, now); /* T2 */
  assert_int_equal(H.nout, before + 2);
  assert_int_equal((uint16_t)(H.out[H.nout - 1].seq - H.out[before - 1].seq), 2);
  h_close();
}

/* mediasoup 3.27's pipe consumer: each encoding its own lane under our SSRC
 * for it; a video lane waits for a key frame after the transport connected
 * (asking for one), timestamps pass as they are, sequence numbers go on
 * across a pause; NACK, RR and SR per lane; key frame requests go to every
 * encoding. */
static void test_pipe_consumer(void **state) {
  (void)state;
  h_open();
  const tenc_t encs[2] = {{.ssrc = 3000}, {.ssrc = 3001}};
  h_producer(true, encs, 2, NULL, 0);
  sfu_consumer_t *c = h_consumer("c1", true, FBS_RtpParameters_Type_PIPE, 2, -1, false, false, false);
  uint8_t key[80], delta[80];
  rtc_vp8_payload(key, true, sizeof(key));
  rtc_vp8_payload(delta, false, sizeof(delta));
  size_t plis = H.plis;
  /* deltas before a key frame: dropped, a key frame asked for */
  h_in(96, 9, 100, 3000, delta, 80, NULL, 0, 1000);
  assert_int_equal(H.nout, 0);
  assert_true(H.plis > plis);
  h_in(96, 10, 200, 3000, key, 80, NULL, 0, 1000);
  h_in(96, 76, 900, 3001, delta, 80, NULL, 0, 1000);
  h_in(96, 77, 900, 3001, key, 80, NULL, 0, 1000);
  h_in(96, 11, 3100, 3000, delta, 80, NULL, 0, 1033);
  h_in(96, 13, 6100, 3000, delta, 80, NULL, 0, 1066); /* 12 lost on the way in: the hole stays */
  assert_int_equal(H.nout, 4);
  assert_int_equal(H.out[0].ssrc, 9000);
  assert_int_equal(H.out[0].seq, 10);
  assert_int_equal(H.out[0].ts, 200);
  assert_int_equal(H.out[0].pt, 101);
  assert_int_equal(H.out[1].ssrc, 9001);
  assert_int_equal(H.out[1].seq, 77);
  assert_int_equal(H.out[1].ts, 900);
  assert_int_equal(H.out[2].seq, 11);
  assert_int_equal(H.out[3].seq, 13);
  assert_int_equal(H.out[3].ts, 6100);
  /* an empty payload is not forwarded and leaves no hole */
  h_in(96, 14, 6100, 3000, delta, 0, NULL, 0, 1070);
  assert_int_equal(H.nout, 4);
  /* every SSRC of ours is known, and each has its own stream */
  assert_true(sfu_consumer_has_ssrc(c, 9000));
  assert_true(sfu_consumer_has_ssrc(c, 9001));
  assert_false(sfu_consumer_has_ssrc(c, 9002));
  sfu_rtp_stream_t *ss[4];
  assert_int_equal(sfu_consumer_streams(c, ss, 4), 2);
  assert_int_equal(ss[0]->packets, 3);
  assert_int_equal(ss[1]->packets, 1);
  /* a NACK about lane 1 is answered from lane 1's buffer, under its SSRC */
  h_nack(c, 9001, 77, 1100);
  assert_int_equal(H.nout, 5);
  assert_int_equal(H.out[4].ssrc, 9001);
  assert_int_equal(H.out[4].seq, 77);
  assert_int_equal(ss[1]->packets_retransmitted, 1);
  assert_int_equal(ss[0]->packets_retransmitted, 0);
  /* a receiver report about lane 1 changes lane 1 only */
  sfu_rtcp_rb_t rb = {.ssrc = 9001, .fraction_lost = 64, .highest_seq = 77};
  sfu_consumer_on_rr(c, &rb, 1200);
  assert_int_equal(ss[1]->fraction_lost, 64);
  assert_int_equal(ss[0]->fraction_lost, 0);
  /* one SR per lane */
  uint8_t rbuf[1200];
  sfu_rtcp_writer_t w;
  sfu_rtcp_writer_init(&w, rbuf, sizeof(rbuf));
  sfu_consumer_write_sr(c, &w, 1300);
  sfu_rtcp_iter_t it;
  sfu_rtcp_hdr_t hd;
  size_t srs = 0;
  sfu_rtcp_iter_init(&it, rbuf, w.len);
  while (sfu_rtcp_iter_next(&it, &hd) == 1)
    if (hd.pt == SFU_RTCP_PT_SR) srs++;
  assert_int_equal(srs, 2);
  /* a PLI from the other router asks the producer for every encoding */
  plis = H.plis;
  sfu_consumer_on_key_frame_request(c, 9000, false, 5000);
  assert_int_equal(H.plis, plis + 2);
  /* pause, resume: wait for a key frame again, numbers go on from the last sent */
  sfu_consumer_producer_paused(c, true);
  h_in(96, 15, 9100, 3000, key, 80, NULL, 0, 5100);
  assert_int_equal(H.nout, 5);
  sfu_consumer_producer_paused(c, false);
  h_in(96, 500, 12100, 3000, delta, 80, NULL, 0, 6000);
  assert_int_equal(H.nout, 5);
  h_in(96, 501, 15100, 3000, key, 80, NULL, 0, 6000);
  assert_int_equal(H.nout, 6);
  assert_int_equal(H.out[5].seq, 14);
  assert_int_equal(H.out[5].ts, 15100);
  h_close();
}

/* enableRtx on a pipe: each lane retransmits as RTX under its own RTX SSRC
 * with its own RTX sequence numbers. */
static void test_pipe_consumer_rtx(void **state) {
  (void)state;
  h_open();
  const tenc_t encs[2] = {{.ssrc = 3000}, {.ssrc = 3001}};
  h_producer(true, encs, 2, NULL, 0);
  sfu_consumer_t *c = h_consumer("c1", true, FBS_RtpParameters_Type_PIPE, 2, -1, true, false, false);
  uint8_t key[80];
  rtc_vp8_payload(key, true, sizeof(key));
  h_in(96, 10, 200, 3000, key, 80, NULL, 0, 1000);
  h_in(96, 40, 200, 3001, key, 80, NULL, 0, 1000);
  assert_int_equal(H.nout, 2);
  assert_true(sfu_consumer_has_ssrc(c, 9005));
  assert_true(sfu_consumer_has_ssrc(c, 9006));
  h_nack(c, 9001, 40, 1100);
  h_nack(c, 9000, 10, 1100);
  h_nack(c, 9001, 40, 1300); /* more than a round trip (100 ms until one is known) after the first resend */
  assert_int_equal(H.nout, 5);
  assert_true(H.out[2].rtx && H.out[3].rtx && H.out[4].rtx);
  assert_int_equal(H.out[2].ssrc, 9006);
  assert_int_equal(H.out[2].pt, 102);
  assert_int_equal(H.out[3].ssrc, 9005);
  assert_int_equal(H.out[4].ssrc, 9006);
  assert_int_equal((uint16_t)(H.out[4].seq - H.out[2].seq), 1); /* lane 1's own RTX numbers */
  assert_int_equal(H.out[2].len, H.out[1].len + 2);
  h_close();
}

/* RTP inactivity (mediasoup's RtpStreamRecv): no packet for 1.5 s (5 s with
 * Opus DTX) sets the stream's score to 0, once, told to the parent (and so
 * the consumers); the next packet sets it back to 10; a receiver report in
 * between keeps the 0. */
static void test_producer_inactivity_score(void **state) {
  (void)state;
  h_open();
  const tenc_t enc = {.ssrc = 1111};
  h_producer(false, &enc, 1, NULL, 0);
  h_consumer("c1", false, FBS_RtpParameters_Type_SIMPLE, 1, -1, false, false, false);
  uint8_t pl[20] = {1};
  uint16_t seq = 1;
  uint64_t now = 1000;
  for (; now < 1200; now += 20) h_in(100, seq++, (uint32_t)now * 48, 1111, pl, sizeof(pl), NULL, 0, now);
  sfu_rtp_stream_t *s = &H.p->encodings[0].stream;
  uint64_t last = now - 20;
  sfu_producer_check_activity(H.p, last + SFU_PRODUCER_INACTIVE_MS - 1);
  assert_int_equal(s->score, 10);
  assert_int_equal(H.score_events, 0);
  sfu_producer_check_activity(H.p, last + SFU_PRODUCER_INACTIVE_MS);
  assert_int_equal(s->score, 0);
  assert_int_equal(H.score_events, 1);
  sfu_producer_check_activity(H.p, last + 3000);
  assert_int_equal(H.score_events, 1); /* once */
  sfu_rtcp_rb_t rb[4];
  assert_int_equal(sfu_producer_fill_rr(H.p, rb, 4, last + 3100), 1);
  assert_int_equal(s->score, 0);
  now = last + 3200;
  h_in(100, seq++, (uint32_t)now * 48, 1111, pl, sizeof(pl), NULL, 0, now);
  assert_int_equal(s->score, 10);
  assert_int_equal(H.score_events, 2);
  h_close();

  /* Opus DTX: 5 s */
  h_open();
  static const tcodec_t OPUS_DTX = {.mime = "audio/opus", .pt = 100, .clock = 48000, .channels = 2, .usedtx = true};
  h_audio = &OPUS_DTX;
  h_producer(false, &enc, 1, NULL, 0);
  h_audio = NULL;
  h_in(100, 1, 960, 1111, pl, sizeof(pl), NULL, 0, 1000);
  sfu_producer_check_activity(H.p, 1000 + SFU_PRODUCER_INACTIVE_MS);
  assert_int_equal(H.score_events, 0);
  sfu_producer_check_activity(H.p, 1000 + SFU_PRODUCER_INACTIVE_DTX_MS);
  assert_int_equal(H.score_events, 1);
  h_close();
}

static void test_inactive_consumer(void **state) {
  (void)state;
  h_open();
  const tenc_t enc = {.ssrc = 1111};
  h_producer(false, &enc, 1, NULL, 0);
  sfu_consumer_t *c = h_consumer("c1", false, FBS_RtpParameters_Type_SIMPLE, 1, -1, false, false, false);
  uint8_t pl[20] = {1};
  sfu_consumer_transport_disconnected(c);
  h_in(100, 1, 960, 1111, pl, sizeof(pl), NULL, 0, 1000);
  assert_int_equal(H.nout, 0);
  sfu_consumer_transport_connected(c, 1020);
  h_in(100, 2, 1920, 1111, pl, sizeof(pl), NULL, 0, 1020);
  assert_int_equal(H.nout, 1);
  /* the producer goes away: the consumer tells its parent, which closes it */
  H.nc = 0;
  sfu_consumer_producer_closed(c);
  assert_int_equal(H.consumers_closed, 1);
  assert_null(c->producer);
  h_close();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stream_loss),
      cmocka_unit_test(test_stream_wrap),
      cmocka_unit_test(test_stream_jitter),
      cmocka_unit_test(test_stream_send_side),
      cmocka_unit_test(test_nack_generator),
      cmocka_unit_test(test_seq_map),
      cmocka_unit_test(test_vpx_layers),
      cmocka_unit_test(test_vpx_svc_spatial),
      cmocka_unit_test(test_simple_audio_pause_resume),
      cmocka_unit_test(test_simple_dtx),
      cmocka_unit_test(test_producer_matching),
      cmocka_unit_test(test_video_key_frame_gating),
      cmocka_unit_test(test_nack_answered_as_rtx),
      cmocka_unit_test(test_nack_not_before_key_frame),
      cmocka_unit_test(test_producer_nack_and_rtx),
      cmocka_unit_test(test_simulcast_layer_switch),
      cmocka_unit_test(test_simulcast_allocation), cmocka_unit_test(test_simulcast_new_encoding_waits),
      cmocka_unit_test(test_simulcast_temporal_allocation),
      cmocka_unit_test(test_simulcast_temporal_step_without_headroom),
      cmocka_unit_test(test_h264_dependency_descriptor),
      cmocka_unit_test(test_pipe_consumer),
      cmocka_unit_test(test_pipe_consumer_rtx),
      cmocka_unit_test(test_producer_inactivity_score),
      cmocka_unit_test(test_inactive_consumer),
  };
  if (getenv("SFU_TEST_FILTER") != NULL) cmocka_set_test_filter(getenv("SFU_TEST_FILTER"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
