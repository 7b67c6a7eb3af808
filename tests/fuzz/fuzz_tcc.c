/*
 * libFuzzer target for worker/src/rtp/sfu_rtcp_tcc (transport-cc feedback).
 *
 * The input is an RTCP compound packet (in a heap buffer of exactly its
 * size). Every packet goes through sfu_rtcp_tcc_read(), which must answer 0,
 * SFU_EINVAL or SFU_EPROTO and keep its pointers inside the packet. What
 * reads is walked: exactly status_count packets, base_seq first, as many
 * received as received_count, deltas consumed exactly, arrival times the
 * running sum of the deltas. The received packets are then built again
 * (sfu_rtcp_tcc_build, as many messages as it takes under a size limit
 * drawn from the input) and read back: the same sequence numbers received
 * at the same times (exact: every time is a multiple of 250 us), the packets
 * in between reported lost, every message within the limit. Finally the
 * message goes to a send-side estimator that sent packets around its
 * numbers (the adversary's feedback must not break its bookkeeping: the
 * estimate stays within its bounds).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"
#include "sfu_rtcp.h"
#include "sfu_rtcp_feedback.h"
#include "sfu_rtcp_tcc.h"
#include "sfu_send_bwe.h"

#define CHECK(x)                \
  do {                          \
    if (!(x)) __builtin_trap(); \
  } while (0)

#define INSIDE(h, ptr, n) ((ptr) >= (h)->body && (ptr) + (n) <= (h)->body + (h)->body_len)

static sfu_rtcp_tcc_arrival_t got[65536];
static uint8_t out[1u << 18];

static void rebuild(size_t n, uint16_t base, size_t cap) {
  sfu_rtcp_tcc_msg_t m;
  sfu_rtcp_tcc_iter_t it;
  sfu_rtcp_tcc_pkt_t p;
  sfu_rtcp_iter_t ci;
  sfu_rtcp_hdr_t h;
  size_t done = 0, consumed, k, msgs = 0;
  int64_t ref, t;
  int len;

  if ((uint16_t)(got[0].seq - base) >= 0x8000) base = got[0].seq;
  while (done < n) {
    len = sfu_rtcp_tcc_build(out, cap, 1, 2, done == 0 ? base : got[done].seq, (uint8_t)msgs, got + done,
                             n - done, &consumed);
    if (len == SFU_ETOOBIG && done == 0 && base != got[0].seq) {
      /* the lost packets before the first one need more chunks than cap holds */
      base = got[0].seq;
      continue;
    }
    CHECK(len >= (int)SFU_RTCP_TCC_MIN_LEN && (size_t)len <= cap && len % 4 == 0);
    CHECK(consumed >= 1 && consumed <= n - done);
    CHECK(sfu_rtcp_validate(out, (size_t)len) == 1);
    sfu_rtcp_iter_init(&ci, out, (size_t)len);
    CHECK(sfu_rtcp_iter_next(&ci, &h) == 1);
    CHECK(sfu_rtcp_tcc_read(&h, &m) == 0);
    CHECK(m.received_count == consumed && m.tcc.fb_count == (uint8_t)msgs);
    /* the builder took the reference time from the first packet's arrival */
    ref = sfu_rtcp_tcc_unwrap_ref(m.tcc.reference_time, got[done].arrival_us / SFU_RTCP_TCC_REF_US);
    CHECK(ref == got[done].arrival_us / SFU_RTCP_TCC_REF_US);
    sfu_rtcp_tcc_iter_init(&it, &m);
    k = done;
    while (sfu_rtcp_tcc_iter_next(&it, &p) == 1) {
      CHECK(k < done + consumed);
      if (!p.received) {
        CHECK(p.seq != got[k].seq);
        continue;
      }
      CHECK(p.seq == got[k].seq);
      t = ref * SFU_RTCP_TCC_REF_US + (p.arrival_us - (int64_t)m.tcc.reference_time * SFU_RTCP_TCC_REF_US);
      CHECK(t == got[k].arrival_us);
      k++;
    }
    CHECK(k == done + consumed && p.received);
    done += consumed;
    msgs++;
  }
}

static void estimator(const sfu_rtcp_tcc_msg_t *m, size_t cap) {
  sfu_send_bwe_t b;
  sfu_send_bwe_config_t cfg = {300000, 0, 0};
  sfu_probe_cluster_t c;
  int64_t t = 1000000, bps;
  int i, id = -1;

  if (sfu_send_bwe_init(&b, &cfg, NULL, NULL, t / 1000) != 0) return;
  sfu_send_bwe_on_connected(&b, t / 1000);
  if (sfu_send_bwe_next_probe(&b, &c)) id = c.id;
  /* packets from 100 before the base to 400 after, some of them probes */
  for (i = -100; i < 400; i++, t += 1000)
    sfu_send_bwe_on_packet_sent(&b, (uint16_t)(m->tcc.base_seq + i), 200 + (cap + (size_t)i) % 1000,
                                i % 7 == 0 ? id : -1, i % 11 == 0, t);
  sfu_send_bwe_on_feedback(&b, m, t + 50000);
  sfu_send_bwe_on_timer(&b, (t + 60000) / 1000);
  sfu_send_bwe_on_feedback(&b, m, t + 150000); /* repeated */
  bps = sfu_send_bwe_available_bitrate(&b);
  CHECK(bps >= SFU_BWE_MEDIASOUP_MIN_BITRATE && bps <= 1000000000);
  CHECK(sfu_send_bwe_packet_loss(&b) >= 0 && sfu_send_bwe_packet_loss(&b) <= 1);
  sfu_send_bwe_destroy(&b);
}

static void one(const sfu_rtcp_hdr_t *h, size_t cap) {
  sfu_rtcp_tcc_msg_t m;
  sfu_rtcp_tcc_iter_t it;
  sfu_rtcp_tcc_pkt_t p;
  size_t count = 0, received = 0, delta_bytes = 0;
  int64_t t;
  int rc;

  rc = sfu_rtcp_tcc_read(h, &m);
  CHECK(rc == 0 || rc == SFU_EINVAL || rc == SFU_EPROTO);
  if (rc != 0) return;
  CHECK(h->pt == SFU_RTCP_PT_RTPFB && h->count == SFU_RTCP_RTPFB_TCC);
  CHECK(m.tcc.status_count >= 1 && m.chunk_count >= 1);
  CHECK(INSIDE(h, m.chunks, 2 * m.chunk_count));
  CHECK(m.deltas == m.chunks + 2 * m.chunk_count);
  CHECK(m.deltas_len == 0 || INSIDE(h, m.deltas, m.deltas_len));
  CHECK(m.deltas + m.deltas_len + 4 > h->body + h->body_len); /* at most 3 trailing bytes */
  t = (int64_t)m.tcc.reference_time * SFU_RTCP_TCC_REF_US;
  sfu_rtcp_tcc_iter_init(&it, &m);
  while (sfu_rtcp_tcc_iter_next(&it, &p) == 1) {
    CHECK(p.seq == (uint16_t)(m.tcc.base_seq + count));
    CHECK(p.symbol <= SFU_RTCP_TCC_LARGE_DELTA && p.received == (p.symbol != SFU_RTCP_TCC_NOT_RECEIVED));
    count++;
    if (!p.received) continue;
    if (p.symbol == SFU_RTCP_TCC_SMALL_DELTA) {
      CHECK(p.delta >= 0 && p.delta <= 255);
      delta_bytes += 1;
    } else {
      delta_bytes += 2;
    }
    t += (int64_t)p.delta * SFU_RTCP_TCC_DELTA_US;
    CHECK(p.arrival_us == t);
    /* shifted onto a non-negative clock for the builder */
    got[received].seq = p.seq;
    got[received].arrival_us = t + 2 * SFU_RTCP_TCC_REF_WRAP_US;
    received++;
  }
  CHECK(sfu_rtcp_tcc_iter_next(&it, &p) == 0);
  CHECK(count == m.tcc.status_count && received == m.received_count && delta_bytes == m.deltas_len);
  if (received > 0) rebuild(received, m.tcc.base_seq, cap);
  estimator(&m, cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sfu_rtcp_iter_t it;
  sfu_rtcp_hdr_t h;
  uint8_t *buf;
  size_t cap;
  int rc;

  if (size < 1) return 0;
  /* first byte: size limit for rebuilt messages (24..1554 bytes) */
  cap = SFU_RTCP_TCC_MIN_LEN + (size_t)data[0] * 6;
  data++;
  size--;
  if ((buf = malloc(size ? size : 1)) == NULL) return 0;
  if (size) memcpy(buf, data, size);
  sfu_rtcp_iter_init(&it, buf, size);
  while ((rc = sfu_rtcp_iter_next(&it, &h)) == 1) one(&h, cap);
  CHECK(rc == 0 || rc == SFU_EPROTO);
  free(buf);
  return 0;
}
