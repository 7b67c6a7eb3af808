#include "sfu_rtp_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fbs_generated.h"

#define SFU_MAX_DROPOUT 3000
#define SFU_MAX_MISORDER 100
#define SFU_RTX_SLOTS_VIDEO 512
#define SFU_RTX_SLOTS_AUDIO 128
#define SFU_RTX_MAX_AGE_MS 2000

/* ---- rate ---- */

static void sfu__rate_advance(sfu_rate_t *r, uint64_t now_ms) {
  if (r->bucket_start == 0) {
    r->bucket_start = now_ms;
    return;
  }
  uint64_t steps = (now_ms - r->bucket_start) / 100;
  if (steps >= SFU_RATE_BUCKETS) {
    memset(r->bucket_bytes, 0, sizeof(r->bucket_bytes));
    r->bucket_start = now_ms;
    return;
  }
  while (steps-- > 0) {
    r->cur = (r->cur + 1) % SFU_RATE_BUCKETS;
    r->bucket_bytes[r->cur] = 0;
    r->bucket_start += 100;
  }
}

void sfu_rate_add(sfu_rate_t *r, uint64_t now_ms, size_t bytes) {
  sfu__rate_advance(r, now_ms);
  r->bucket_bytes[r->cur] += bytes;
}

uint64_t sfu_rate_bps(sfu_rate_t *r, uint64_t now_ms) {
  uint64_t sum = 0;
  sfu__rate_advance(r, now_ms);
  for (unsigned i = 0; i < SFU_RATE_BUCKETS; i++) sum += r->bucket_bytes[i];
  return sum * 8;
}

void sfu_ntp_now(uint32_t *sec, uint32_t *frac) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  *sec = (uint32_t)((uint64_t)ts.tv_sec + 2208988800ull);
  *frac = (uint32_t)(((uint64_t)ts.tv_nsec << 32) / 1000000000ull);
}

/* ---- lifecycle ---- */

void sfu_rtp_stream_init(sfu_rtp_stream_t *s, const sfu_rtp_stream_params_t *p, bool send_side) {
  memset(s, 0, sizeof(*s));
  s->params = *p;
  s->score = 10;
  if (send_side && p->use_nack) {
    s->rtx_nslots = p->kind == SFU_KIND_VIDEO ? SFU_RTX_SLOTS_VIDEO : SFU_RTX_SLOTS_AUDIO;
    s->rtx = calloc(s->rtx_nslots, sizeof(*s->rtx));
    if (s->rtx == NULL) s->rtx_nslots = 0; /* retransmission off rather than failing the stream */
  }
}

void sfu_rtp_stream_destroy(sfu_rtp_stream_t *s) {
  if (s->rtx != NULL) {
    for (unsigned i = 0; i < s->rtx_nslots; i++) free(s->rtx[i].data);
    free(s->rtx);
  }
  s->rtx = NULL;
  s->rtx_nslots = 0;
}

/* ---- receive side ---- */

bool sfu_rtp_stream_recv(sfu_rtp_stream_t *s, const sfu_rtp_packet_t *pkt, uint64_t now_ms) {
  uint16_t seq = pkt->seq;

  if (!s->started) {
    s->started = true;
    s->max_seq = seq;
    s->base_seq = seq;
    s->cycles = 0;
  } else {
    uint16_t udelta = (uint16_t)(seq - s->max_seq);
    if (udelta == 0) {
      s->packets_discarded++;
      return false; /* duplicate */
    }
    if (udelta < SFU_MAX_DROPOUT) {
      if (seq < s->max_seq) s->cycles += 65536;
      s->max_seq = seq;
    } else if (udelta <= 65536 - SFU_MAX_MISORDER) {
      /* A very large jump (RFC 3550 A.1): a restarted sender if the next
       * packet follows this one, else a stray packet, dropped. */
      if (!s->has_bad_seq || seq != s->bad_seq) {
        s->has_bad_seq = true;
        s->bad_seq = (uint16_t)(seq + 1);
        s->packets_discarded++;
        return false;
      }
      s->max_seq = seq;
      s->base_seq = (uint16_t)(seq - 1);
      s->cycles = 0;
      s->expected_prior = s->received_prior = 0;
      s->received = 1; /* the packet that announced the jump */
    } else {
      /* Out of order within the window: counted, forwarded. */
    }
  }
  s->has_bad_seq = false;
  s->received++;
  if (!sfu_rtp_stream_flowing(s, now_ms)) s->active_since_ms = now_ms; /* first packet, or after a silence */
  s->last_recv_ms = now_ms;
  s->packets++;
  s->bytes += pkt->len;
  sfu_rate_add(&s->rate, now_ms, pkt->len);

  /* Interarrival jitter in clock units (RFC 3550 A.8). */
  if (s->params.clock_rate > 0) {
    int64_t arrival = (int64_t)(now_ms * s->params.clock_rate / 1000);
    int64_t transit = arrival - (int64_t)pkt->timestamp;
    if (s->transit != 0) {
      int64_t d = transit - s->transit;
      if (d < 0) d = -d;
      if (d < (int64_t)s->params.clock_rate * 10) s->jitter_acc += ((double)d - s->jitter_acc) / 16.0;
    }
    s->transit = transit;
    s->jitter = (uint32_t)s->jitter_acc;
  }
  return true;
}

void sfu_rtp_stream_on_sr(sfu_rtp_stream_t *s, const sfu_rtcp_sr_t *sr, uint64_t now_ms) {
  s->last_sr_mid = (sr->ntp_sec << 16) | (sr->ntp_frac >> 16);
  s->last_sr_ms = now_ms;
}

void sfu_rtp_stream_fill_rr(sfu_rtp_stream_t *s, sfu_rtcp_rb_t *rb, uint64_t now_ms) {
  uint32_t ext_max = s->cycles + s->max_seq;
  uint32_t expected = ext_max - s->base_seq + 1;
  int64_t lost = (int64_t)expected - (int64_t)s->received;
  uint32_t expected_interval = expected - s->expected_prior;
  uint32_t received_interval = (uint32_t)s->received - s->received_prior;
  int64_t lost_interval = (int64_t)expected_interval - (int64_t)received_interval;

  s->expected_prior = expected;
  s->received_prior = (uint32_t)s->received;
  if (lost > 0x7fffff) lost = 0x7fffff;
  if (lost < -0x800000) lost = -0x800000;
  s->packets_lost = (int32_t)lost;
  s->fraction_lost = (expected_interval == 0 || lost_interval <= 0) ? 0 : (uint8_t)((lost_interval << 8) / expected_interval);

  memset(rb, 0, sizeof(*rb));
  rb->ssrc = s->params.ssrc;
  rb->fraction_lost = s->fraction_lost;
  rb->cumulative_lost = s->packets_lost;
  rb->highest_seq = ext_max;
  rb->jitter = s->jitter;
  if (s->last_sr_ms != 0) {
    rb->lsr = s->last_sr_mid;
    rb->dlsr = (uint32_t)((now_ms - s->last_sr_ms) * 65536 / 1000);
  }
  /* Score from the loss of the last interval: 10 = none, 0 = 50% or worse;
   * an inactive stream stays at 0. */
  unsigned loss_pct = (unsigned)s->fraction_lost * 100 / 256;
  if (!s->inactive) s->score = loss_pct >= 50 ? 0 : (uint8_t)(10 - loss_pct / 5);
}

/* ---- send side ---- */

void sfu_rtp_stream_sent(sfu_rtp_stream_t *s, const sfu_rtp_packet_t *pkt, uint64_t now_ms) {
  s->packets++;
  s->bytes += pkt->len;
  s->payload_bytes += pkt->payload_len;
  sfu_rate_add(&s->rate, now_ms, pkt->len);
  s->last_ts = pkt->timestamp;
  s->last_ts_ms = now_ms;
  s->last_seq = pkt->seq;

  if (s->rtx != NULL && pkt->len <= 0xffff) {
    sfu_rtx_slot_t *slot = &s->rtx[pkt->seq % s->rtx_nslots];
    if (slot->cap < pkt->len) {
      uint8_t *d = realloc(slot->data, pkt->len);
      if (d == NULL) {
        slot->used = false;
        return;
      }
      slot->data = d;
      slot->cap = (uint16_t)pkt->len;
    }
    memcpy(slot->data, pkt->buf, pkt->len);
    slot->len = (uint16_t)pkt->len;
    slot->seq = pkt->seq;
    slot->used = true;
    slot->sent_ms = now_ms;
    slot->resent = 0;
    slot->resent_ms = 0;
  }
}

sfu_rtx_slot_t *sfu_rtp_stream_rtx_get(sfu_rtp_stream_t *s, uint16_t seq) {
  if (s->rtx == NULL) return NULL;
  sfu_rtx_slot_t *slot = &s->rtx[seq % s->rtx_nslots];
  if (!slot->used || slot->seq != seq) return NULL;
  return slot;
}

void sfu_rtp_stream_on_rr(sfu_rtp_stream_t *s, const sfu_rtcp_rb_t *rb, uint64_t now_ms) {
  s->fraction_lost = rb->fraction_lost;
  s->packets_lost = rb->cumulative_lost;
  s->jitter = rb->jitter;
  if (rb->lsr != 0) {
    uint32_t sec, frac;
    sfu_ntp_now(&sec, &frac);
    uint32_t now_mid = (sec << 16) | (frac >> 16);
    uint32_t rtt = now_mid - rb->lsr - rb->dlsr; /* 1/65536 s */
    if (rtt < 65536u * 10) s->rtt_ms = (float)rtt * 1000.0f / 65536.0f;
  }
  unsigned loss_pct = (unsigned)rb->fraction_lost * 100 / 256;
  s->score = loss_pct >= 50 ? 0 : (uint8_t)(10 - loss_pct / 5);
  (void)now_ms;
}

void sfu_rtp_stream_fill_sr(sfu_rtp_stream_t *s, sfu_rtcp_sr_t *sr, uint64_t now_ms) {
  memset(sr, 0, sizeof(*sr));
  sr->ssrc = s->params.ssrc;
  sfu_ntp_now(&sr->ntp_sec, &sr->ntp_frac);
  sr->rtp_ts = s->last_ts + (uint32_t)((now_ms - s->last_ts_ms) * s->params.clock_rate / 1000);
  sr->packet_count = (uint32_t)s->packets;
  sr->octet_count = (uint32_t)s->payload_bytes; /* RFC 3550 6.4.1: payload octets only */
}

/* ---- dumps ---- */

fb_ref_t sfu_rtp_stream_dump(const sfu_rtp_stream_t *s, fb_builder_t *b) {
  const sfu_rtp_stream_params_t *p = &s->params;
  const char *canon = sfu_canonical_mime(p->mime_type.ptr, p->mime_type.len);
  fb_ref_t mime = canon != NULL ? fb_create_cstring(b, canon)
                                : fb_create_string(b, p->mime_type.ptr ? p->mime_type.ptr : "", p->mime_type.len);
  /* Node reads rid unconditionally: an empty string when there is none. */
  fb_ref_t rid = fb_create_string(b, p->rid.ptr != NULL ? p->rid.ptr : "", p->rid.ptr != NULL ? p->rid.len : 0);
  fb_ref_t cname = fb_create_string(b, p->cname.ptr ? p->cname.ptr : "", p->cname.len);
  fb_ref_t rtx = 0;
  if (p->has_rtx) {
    char rtx_mime[16];
    snprintf(rtx_mime, sizeof(rtx_mime), "%s/rtx", p->kind == SFU_KIND_VIDEO ? "video" : "audio");
    fb_ref_t rm = fb_create_cstring(b, rtx_mime);
    fb_ref_t rc = fb_create_string(b, p->cname.ptr ? p->cname.ptr : "", p->cname.len);
    fb_ref_t rrid = fb_create_string(b, p->rid.ptr != NULL ? p->rid.ptr : "", p->rid.ptr != NULL ? p->rid.len : 0);
    FBS_RtxStream_Params_start(b);
    FBS_RtxStream_Params_add_ssrc(b, p->rtx_ssrc);
    FBS_RtxStream_Params_add_payload_type(b, p->rtx_payload_type);
    FBS_RtxStream_Params_add_mime_type(b, rm);
    FBS_RtxStream_Params_add_clock_rate(b, p->clock_rate);
    FBS_RtxStream_Params_add_rrid(b, rrid);
    FBS_RtxStream_Params_add_cname(b, rc);
    fb_ref_t rp = FBS_RtxStream_Params_end(b);
    FBS_RtxStream_RtxDump_start(b);
    FBS_RtxStream_RtxDump_add_params(b, rp);
    rtx = FBS_RtxStream_RtxDump_end(b);
  }
  FBS_RtpStream_Params_start(b);
  FBS_RtpStream_Params_add_encoding_idx(b, p->encoding_idx);
  FBS_RtpStream_Params_add_ssrc(b, p->ssrc);
  FBS_RtpStream_Params_add_payload_type(b, p->payload_type);
  FBS_RtpStream_Params_add_mime_type(b, mime);
  FBS_RtpStream_Params_add_clock_rate(b, p->clock_rate);
  FBS_RtpStream_Params_add_rid(b, rid);
  FBS_RtpStream_Params_add_cname(b, cname);
  if (p->has_rtx) {
    FBS_RtpStream_Params_add_rtx_ssrc(b, p->rtx_ssrc);
    FBS_RtpStream_Params_add_rtx_payload_type(b, p->rtx_payload_type);
  }
  FBS_RtpStream_Params_add_use_nack(b, p->use_nack);
  FBS_RtpStream_Params_add_use_pli(b, p->use_pli);
  FBS_RtpStream_Params_add_use_fir(b, p->use_fir);
  FBS_RtpStream_Params_add_use_in_band_fec(b, p->use_in_band_fec);
  FBS_RtpStream_Params_add_use_dtx(b, p->use_dtx);
  FBS_RtpStream_Params_add_spatial_layers(b, p->spatial_layers);
  FBS_RtpStream_Params_add_temporal_layers(b, p->temporal_layers);
  fb_ref_t params = FBS_RtpStream_Params_end(b);
  FBS_RtpStream_Dump_start(b);
  FBS_RtpStream_Dump_add_params(b, params);
  FBS_RtpStream_Dump_add_score(b, s->score);
  FBS_RtpStream_Dump_add_rtx_stream(b, rtx);
  return FBS_RtpStream_Dump_end(b);
}

fb_ref_t sfu_rtp_stream_stats(sfu_rtp_stream_t *s, fb_builder_t *b, bool recv, uint64_t now_ms) {
  const sfu_rtp_stream_params_t *p = &s->params;
  uint64_t bitrate = sfu_rate_bps(&s->rate, now_ms);
  const char *canon = sfu_canonical_mime(p->mime_type.ptr, p->mime_type.len);
  fb_ref_t mime = canon != NULL ? fb_create_cstring(b, canon)
                                : fb_create_string(b, p->mime_type.ptr ? p->mime_type.ptr : "", p->mime_type.len);
  fb_ref_t rid = p->rid.ptr != NULL ? fb_create_string(b, p->rid.ptr, p->rid.len) : 0;
  FBS_RtpStream_BaseStats_start(b);
  FBS_RtpStream_BaseStats_add_timestamp(b, now_ms);
  FBS_RtpStream_BaseStats_add_ssrc(b, p->ssrc);
  FBS_RtpStream_BaseStats_add_kind(b, (uint8_t)p->kind);
  FBS_RtpStream_BaseStats_add_mime_type(b, mime);
  FBS_RtpStream_BaseStats_add_packets_lost(b, s->packets_lost);
  FBS_RtpStream_BaseStats_add_fraction_lost(b, s->fraction_lost);
  FBS_RtpStream_BaseStats_add_jitter(b, s->jitter);
  FBS_RtpStream_BaseStats_add_packets_discarded(b, s->packets_discarded);
  FBS_RtpStream_BaseStats_add_packets_retransmitted(b, s->packets_retransmitted);
  FBS_RtpStream_BaseStats_add_packets_repaired(b, s->packets_repaired);
  FBS_RtpStream_BaseStats_add_nack_count(b, s->nack_count);
  FBS_RtpStream_BaseStats_add_nack_packet_count(b, s->nack_packet_count);
  FBS_RtpStream_BaseStats_add_pli_count(b, s->pli_count);
  FBS_RtpStream_BaseStats_add_fir_count(b, s->fir_count);
  FBS_RtpStream_BaseStats_add_rid(b, rid);
  if (p->has_rtx) FBS_RtpStream_BaseStats_add_rtx_ssrc(b, p->rtx_ssrc);
  FBS_RtpStream_BaseStats_add_rtx_packets_discarded(b, s->rtx_packets_discarded);
  FBS_RtpStream_BaseStats_add_round_trip_time(b, s->rtt_ms);
  FBS_RtpStream_BaseStats_add_score(b, s->score);
  fb_ref_t base_tbl = FBS_RtpStream_BaseStats_end(b);
  FBS_RtpStream_Stats_start(b);
  FBS_RtpStream_Stats_add_data(b, FBS_RtpStream_StatsData_BaseStats, base_tbl);
  fb_ref_t base = FBS_RtpStream_Stats_end(b);

  fb_ref_t data;
  uint8_t type;
  if (recv) {
    fb_ref_t layers = fb_create_vec_refs(b, NULL, 0);
    FBS_RtpStream_RecvStats_start(b);
    FBS_RtpStream_RecvStats_add_base(b, base);
    FBS_RtpStream_RecvStats_add_packet_count(b, s->packets);
    FBS_RtpStream_RecvStats_add_byte_count(b, s->bytes);
    FBS_RtpStream_RecvStats_add_bitrate(b, bitrate);
    FBS_RtpStream_RecvStats_add_bitrate_by_layer(b, layers);
    data = FBS_RtpStream_RecvStats_end(b);
    type = FBS_RtpStream_StatsData_RecvStats;
  } else {
    FBS_RtpStream_SendStats_start(b);
    FBS_RtpStream_SendStats_add_base(b, base);
    FBS_RtpStream_SendStats_add_packet_count(b, s->packets);
    FBS_RtpStream_SendStats_add_byte_count(b, s->bytes);
    FBS_RtpStream_SendStats_add_bitrate(b, bitrate);
    data = FBS_RtpStream_SendStats_end(b);
    type = FBS_RtpStream_StatsData_SendStats;
  }
  FBS_RtpStream_Stats_start(b);
  FBS_RtpStream_Stats_add_data(b, type, data);
  return FBS_RtpStream_Stats_end(b);
}
