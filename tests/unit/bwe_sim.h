/* A deterministic network simulation for the bandwidth estimators: a sender
 * that sends video-like traffic (30 frames/s of rate/30 bits, packets of at
 * most 1200 bytes, paced at 2.5 x the rate) at its current estimate, a
 * bottleneck link (capacity C, FIFO drop-tail queue of a fixed byte size,
 * random loss before it), 20 ms propagation each way, and a receiver.
 *
 * transport-cc mode: the receiver is sfu_tcc_server (feedback every 100 ms),
 * the feedback is serialized, read back with sfu_rtcp_tcc_read() and given
 * to sfu_send_bwe, which also runs its 25 ms timer and asks for probe
 * clusters (sent as 1200-byte padding at the cluster rate).
 * REMB mode: the packets carry abs-send-time, the receiver is
 * sfu_remb_server, its REMB (serialized and parsed) sets the sender's rate.
 * Time advances in 250 us ticks; everything is in this header (one test
 * program uses it). */
#ifndef BWE_SIM_H
#define BWE_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_remb_server.h"
#include "sfu_probe_sender.h"
#include "sfu_rtcp.h"
#include "sfu_rtcp_feedback.h"
#include "sfu_rtcp_tcc.h"
#include "sfu_send_bwe.h"
#include "sfu_tcc_server.h"

#define SIM_TICK_US 250
#define SIM_PROP_US 20000
#define SIM_FLIGHT 65536
#define SIM_PACER 8192
#define SIM_FB 64
#define SIM_SECONDS 240

typedef struct sim_phase {
  int64_t from_ms;
  int64_t capacity_bps;
  double loss;
} sim_phase_t;

typedef struct sim_pkt {
  uint16_t seq;
  uint32_t abs;
  uint32_t size;
  int64_t arrival_us;
  int64_t queue_us;
} sim_pkt_t;

typedef struct sim_fb {
  uint8_t buf[1500];
  int len;
  int64_t at_us;
} sim_fb_t;

typedef struct sim {
  bool remb_mode;
  bool send_probes;
  const sim_phase_t *phases;
  size_t n_phases;
  int64_t queue_limit_bytes;
  uint64_t rng;
  int64_t now_us;

  /* link */
  int64_t link_free_us;
  sim_pkt_t *flight;
  size_t fl_head, fl_len;
  int64_t queued_bytes_at; /* unused */

  /* feedback in flight to the sender */
  sim_fb_t fb[SIM_FB];
  size_t fb_head, fb_len;

  /* sender */
  sfu_send_bwe_t bwe;
  int64_t rate_bps; /* what the sender sends at */
  int64_t media_cap_bps; /* > 0: the application has no more to send (ALR) */
  uint16_t next_seq;
  int64_t next_frame_us;
  uint32_t pacer[SIM_PACER];
  size_t pc_head, pc_len;
  int64_t pacer_next_us;
  sfu_probe_sender_t prober;
  int clusters_sent;

  /* receivers */
  sfu_tcc_server_t srv;
  sfu_remb_server_t remb;
  int64_t next_fb_us;

  /* per second, for the assertions and the report */
  int64_t est_bps[SIM_SECONDS];     /* estimate at the end of second i */
  int64_t recv_bytes[SIM_SECONDS];  /* delivered media+padding */
  int64_t max_queue_us[SIM_SECONDS];
  int64_t lost[SIM_SECONDS], sent[SIM_SECONDS];
} sim_t;

static inline double sim_rand(sim_t *s) {
  s->rng ^= s->rng >> 12;
  s->rng ^= s->rng << 25;
  s->rng ^= s->rng >> 27;
  return (double)((s->rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static inline const sim_phase_t *sim_phase(const sim_t *s) {
  size_t i, k = 0;

  for (i = 0; i < s->n_phases; i++)
    if (s->phases[i].from_ms * 1000 <= s->now_us) k = i;
  return &s->phases[k];
}

static inline void sim_init(sim_t *s, bool remb_mode, bool send_probes, int64_t start_bps, int64_t desired_bps,
                            const sim_phase_t *phases, size_t n_phases) {
  sfu_send_bwe_config_t cfg = {start_bps, 0, 0};

  memset(s, 0, sizeof(*s));
  s->remb_mode = remb_mode;
  s->send_probes = send_probes;
  s->phases = phases;
  s->n_phases = n_phases;
  s->queue_limit_bytes = 64 * 1024;
  s->rng = 0x1234567887654321ull;
  s->flight = calloc(SIM_FLIGHT, sizeof(*s->flight));
  s->rate_bps = start_bps;
  s->next_fb_us = SFU_TCC_SERVER_INTERVAL_MS * 1000;
  if (sfu_tcc_server_init(&s->srv, 1500) != 0) abort();
  sfu_remb_server_init(&s->remb);
  if (sfu_send_bwe_init(&s->bwe, &cfg, NULL, NULL, 0) != 0) abort();
  if (!remb_mode) {
    sfu_send_bwe_on_connected(&s->bwe, 0);
    sfu_send_bwe_set_desired_bitrate(&s->bwe, desired_bps, false, 0);
  }
}

static inline void sim_free(sim_t *s) {
  sfu_send_bwe_destroy(&s->bwe);
  sfu_tcc_server_destroy(&s->srv);
  free(s->flight);
}

static inline int sim_sec(const sim_t *s) {
  int i = (int)(s->now_us / 1000000);
  return i < SIM_SECONDS ? i : SIM_SECONDS - 1;
}

/* One packet onto the wire. */
static inline void sim_send(sim_t *s, uint32_t size, int cluster_id) {
  const sim_phase_t *ph = sim_phase(s);
  sim_pkt_t *p;
  int64_t backlog, depart, tx;
  uint16_t seq = s->next_seq++;

  s->sent[sim_sec(s)]++;
  if (!s->remb_mode) sfu_send_bwe_on_packet_sent(&s->bwe, seq, size, cluster_id, false, s->now_us);
  if (sim_rand(s) < ph->loss) {
    s->lost[sim_sec(s)]++;
    return;
  }
  backlog = s->link_free_us > s->now_us ? (s->link_free_us - s->now_us) * ph->capacity_bps / 8000000 : 0;
  if (backlog + (int64_t)size > s->queue_limit_bytes || s->fl_len == SIM_FLIGHT) {
    s->lost[sim_sec(s)]++;
    return;
  }
  tx = (int64_t)size * 8 * 1000000 / ph->capacity_bps;
  depart = (s->link_free_us > s->now_us ? s->link_free_us : s->now_us) + tx;
  s->link_free_us = depart;
  p = &s->flight[(s->fl_head + s->fl_len) % SIM_FLIGHT];
  s->fl_len++;
  p->seq = seq;
  /* abs-send-time: 6.18 fixed point seconds, 24 bits */
  p->abs = (uint32_t)(((s->now_us << 18) / 1000000) & 0xffffff);
  p->size = size;
  p->arrival_us = depart + SIM_PROP_US;
  p->queue_us = depart - tx - s->now_us;
}

static inline void sim_deliver(sim_t *s) {
  sim_pkt_t *p;
  sim_fb_t *f;
  int64_t bps;
  uint32_t ssrc = 0x1111;
  int sec;

  while (s->fl_len > 0 && s->flight[s->fl_head].arrival_us <= s->now_us) {
    p = &s->flight[s->fl_head];
    s->fl_head = (s->fl_head + 1) % SIM_FLIGHT;
    s->fl_len--;
    sec = (int)((p->arrival_us - SIM_PROP_US) / 1000000);
    if (sec >= SIM_SECONDS) sec = SIM_SECONDS - 1;
    s->recv_bytes[sim_sec(s)] += p->size;
    if (p->queue_us > s->max_queue_us[sec]) s->max_queue_us[sec] = p->queue_us;
    if (s->remb_mode) {
      if (sfu_remb_server_on_packet(&s->remb, ssrc, p->abs, p->size, p->arrival_us / 1000, &bps) &&
          s->fb_len < SIM_FB) {
        f = &s->fb[(s->fb_head + s->fb_len) % SIM_FB];
        f->len = sfu_rtcp_remb_build(f->buf, sizeof(f->buf), 0, (uint64_t)bps, &ssrc, 1);
        f->at_us = s->now_us + SIM_PROP_US;
        s->fb_len++;
      }
    } else {
      (void)sfu_tcc_server_on_packet(&s->srv, p->seq, ssrc, p->arrival_us);
    }
  }
}

static inline void sim_feedback(sim_t *s) {
  sfu_rtcp_iter_t it;
  sfu_rtcp_hdr_t h;
  sfu_rtcp_tcc_msg_t m;
  sfu_rtcp_remb_t remb;
  sim_fb_t *f;
  int len;

  if (!s->remb_mode && s->now_us >= s->next_fb_us) {
    s->next_fb_us += SFU_TCC_SERVER_INTERVAL_MS * 1000;
    while (s->fb_len < SIM_FB) {
      f = &s->fb[(s->fb_head + s->fb_len) % SIM_FB];
      len = sfu_tcc_server_build_feedback(&s->srv, f->buf, sizeof(f->buf));
      if (len <= 0) break;
      f->len = len;
      f->at_us = s->now_us + SIM_PROP_US;
      s->fb_len++;
    }
  }
  while (s->fb_len > 0 && s->fb[s->fb_head].at_us <= s->now_us) {
    f = &s->fb[s->fb_head];
    s->fb_head = (s->fb_head + 1) % SIM_FB;
    s->fb_len--;
    sfu_rtcp_iter_init(&it, f->buf, (size_t)f->len);
    while (sfu_rtcp_iter_next(&it, &h) == 1) {
      if (s->remb_mode) {
        if (sfu_rtcp_remb_parse(&h, &remb) == 0) s->rate_bps = (int64_t)remb.bitrate;
      } else if (sfu_rtcp_tcc_read(&h, &m) == 0) {
        sfu_send_bwe_on_feedback(&s->bwe, &m, s->now_us);
      }
    }
  }
}

static inline void sim_sender(sim_t *s) {
  int64_t bits, gap, rate = s->rate_bps;
  uint32_t sz;

  if (!s->remb_mode) rate = s->rate_bps = sfu_send_bwe_available_bitrate(&s->bwe);
  if (s->media_cap_bps > 0 && rate > s->media_cap_bps) rate = s->media_cap_bps;
  if (s->now_us >= s->next_frame_us) { /* a frame: rate / 30 */
    s->next_frame_us += 1000000 / 30;
    bits = rate / 30;
    while (bits > 0 && s->pc_len < SIM_PACER) {
      sz = bits >= 1200 * 8 ? 1200 : (uint32_t)(bits / 8) + 1;
      if (sz < 100) sz = 100;
      s->pacer[(s->pc_head + s->pc_len) % SIM_PACER] = sz;
      s->pc_len++;
      bits -= (int64_t)sz * 8;
    }
  }
  while (s->pc_len > 0 && s->pacer_next_us <= s->now_us) {
    sz = s->pacer[s->pc_head];
    s->pc_head = (s->pc_head + 1) % SIM_PACER;
    s->pc_len--;
    sim_send(s, sz, -1);
    gap = (int64_t)sz * 8 * 1000000 / (rate * 5 / 2 > 1 ? rate * 5 / 2 : 1);
    s->pacer_next_us = (s->pacer_next_us > s->now_us - gap ? s->pacer_next_us : s->now_us) + gap;
  }
  if (s->remb_mode) return;
  if (sfu_probe_sender_time_until_next(&s->prober, s->now_us) < 0) {
    sfu_probe_cluster_t c;
    if (sfu_send_bwe_next_probe(&s->bwe, &c) && s->send_probes) {
      sfu_probe_sender_start(&s->prober, &c, s->now_us);
      s->clusters_sent++;
    }
  }
  while (sfu_probe_sender_time_until_next(&s->prober, s->now_us) == 0) {
    sim_send(s, 1200, sfu_probe_sender_cluster_id(&s->prober));
    sfu_probe_sender_on_sent(&s->prober, 1200, s->now_us);
  }
}

/* Runs until until_ms. */
static inline void sim_run(sim_t *s, int64_t until_ms) {
  while (s->now_us < until_ms * 1000) {
    s->now_us += SIM_TICK_US;
    sim_deliver(s);
    sim_feedback(s);
    if (!s->remb_mode && s->now_us % 25000 == 0) sfu_send_bwe_on_timer(&s->bwe, s->now_us / 1000);
    sim_sender(s);
    if (s->now_us % 1000000 == 0) s->est_bps[sim_sec(s) - 1] = s->rate_bps;
  }
}

/* The first second in [from_s, to_s) whose estimate is at least lo; -1 if none. */
static inline int sim_first_reach(const sim_t *s, int from_s, int to_s, int64_t lo) {
  int i;

  for (i = from_s; i < to_s; i++)
    if (s->est_bps[i] >= lo) return i;
  return -1;
}

static inline int64_t sim_mean_est(const sim_t *s, int from_s, int to_s) {
  int64_t sum = 0;
  int i;

  for (i = from_s; i < to_s; i++) sum += s->est_bps[i];
  return sum / (to_s - from_s);
}

static inline int64_t sim_max_est(const sim_t *s, int from_s, int to_s) {
  int64_t m = 0;
  int i;

  for (i = from_s; i < to_s; i++)
    if (s->est_bps[i] > m) m = s->est_bps[i];
  return m;
}

static inline int64_t sim_max_queue_ms(const sim_t *s, int from_s, int to_s) {
  int64_t m = 0;
  int i;

  for (i = from_s; i < to_s; i++)
    if (s->max_queue_us[i] > m) m = s->max_queue_us[i];
  return m / 1000;
}

static inline void sim_print(const sim_t *s, const char *name, int to_s) {
  int i;

  if (getenv("BWE_SIM_VERBOSE") == NULL) return;
  printf("# %s\n#  s  estimate_kbps  goodput_kbps  max_queue_ms  lost/sent\n", name);
  for (i = 0; i < to_s; i++)
    printf("# %3d %8lld %8lld %6lld %5lld/%lld\n", i, (long long)(s->est_bps[i] / 1000),
           (long long)(s->recv_bytes[i] * 8 / 1000), (long long)(s->max_queue_us[i] / 1000), (long long)s->lost[i],
           (long long)s->sent[i]);
}

#endif
