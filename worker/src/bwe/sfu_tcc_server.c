#include "sfu_tcc_server.h"

#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"

#define SFU__TS_MASK (SFU_TCC_SERVER_WINDOW - 1)
#define SFU__TS_EXT_BASE (65536ll * 16) /* first packet's unwrapped number: never negative */
#define SFU__TS_REMB_INTERVAL_MS 1500
#define SFU__TS_UNLIMITED_REMBS 4

int sfu_tcc_server_init(sfu_tcc_server_t *s, size_t max_len) {
  size_t i;

  memset(s, 0, sizeof(*s));
  if (max_len < SFU_RTCP_TCC_MIN_LEN) return SFU_EINVAL;
  s->ring = malloc(sizeof(*s->ring) * SFU_TCC_SERVER_WINDOW);
  s->scratch = malloc(sizeof(*s->scratch) * SFU_TCC_SERVER_WINDOW);
  if (s->ring == NULL || s->scratch == NULL) {
    sfu_tcc_server_destroy(s);
    return SFU_ENOMEM;
  }
  for (i = 0; i < SFU_TCC_SERVER_WINDOW; i++) s->ring[i].ext_seq = -1;
  s->max_len = max_len;
  s->remb_sent_ms = INT64_MIN;
  return 0;
}

void sfu_tcc_server_destroy(sfu_tcc_server_t *s) {
  free(s->ring);
  free(s->scratch);
  s->ring = NULL;
  s->scratch = NULL;
}

void sfu_tcc_server_reset(sfu_tcc_server_t *s) {
  size_t i;

  for (i = 0; i < SFU_TCC_SERVER_WINDOW; i++) s->ring[i].ext_seq = -1;
  s->has_packets = false;
}

bool sfu_tcc_server_on_packet(sfu_tcc_server_t *s, uint16_t seq, uint32_t media_ssrc, int64_t now_us) {
  sfu__tcc_slot_t *slot;
  int64_t ext;

  if (now_us < 0) now_us = 0;
  s->packets++;
  if (!s->has_packets) {
    ext = SFU__TS_EXT_BASE + seq;
    s->has_packets = true;
    s->highest_ext = ext;
    s->start_ext = ext;
  } else {
    ext = s->highest_ext + (int16_t)(uint16_t)(seq - (uint16_t)s->highest_ext);
  }
  s->media_ssrc = media_ssrc;
  if (ext <= s->highest_ext - SFU_TCC_SERVER_WINDOW) {
    s->dropped_old++;
    return false;
  }
  slot = &s->ring[ext & SFU__TS_MASK];
  if (slot->ext_seq == ext) {
    s->duplicates++;
    return false;
  }
  slot->ext_seq = ext;
  slot->arrival_us = now_us;
  if (ext > s->highest_ext) s->highest_ext = ext;
  if (ext < s->start_ext) s->start_ext = ext; /* reordered past a feedback */
  if (s->start_ext <= s->highest_ext - SFU_TCC_SERVER_WINDOW) s->start_ext = s->highest_ext - SFU_TCC_SERVER_WINDOW + 1;
  return s->highest_ext - s->start_ext + 1 >= SFU_TCC_SERVER_WINDOW / 2;
}

static void sfu__ts_update_loss(sfu_tcc_server_t *s, double loss) {
  double total = 0;
  size_t w = 0, samples = 0;
  int i;

  if (s->loss_len == SFU_TCC_SERVER_LOSS_HISTORY) {
    memmove(s->loss_hist, s->loss_hist + 1, sizeof(s->loss_hist[0]) * (SFU_TCC_SERVER_LOSS_HISTORY - 1));
    s->loss_len--;
  }
  s->loss_hist[s->loss_len++] = loss;
  for (i = 0; i < s->loss_len; i++) {
    w++;
    samples += w;
    total += (double)w * s->loss_hist[i];
  }
  s->packet_loss = total / (double)samples;
}

int sfu_tcc_server_build_feedback(sfu_tcc_server_t *s, uint8_t *out, size_t cap) {
  sfu__tcc_slot_t *slot;
  size_t n = 0, consumed;
  int64_t e, first_ext = -1, base_ext, last_ext;
  int len;

  if (cap > s->max_len) cap = s->max_len;
  if (cap < SFU_RTCP_TCC_MIN_LEN) return SFU_ETOOBIG;
  if (!s->has_packets) return 0;
  for (e = s->start_ext; e <= s->highest_ext; e++) {
    slot = &s->ring[e & SFU__TS_MASK];
    if (slot->ext_seq != e) continue;
    if (first_ext < 0) first_ext = e;
    s->scratch[n].seq = (uint16_t)e;
    s->scratch[n].arrival_us = slot->arrival_us;
    n++;
  }
  if (n == 0) return 0;
  base_ext = s->start_ext;
  len = sfu_rtcp_tcc_build(out, cap, 0, s->media_ssrc, (uint16_t)base_ext, s->fb_count, s->scratch, n, &consumed);
  if (len < 0 && first_ext != base_ext) { /* too many losses before the first packet for cap */
    base_ext = first_ext;
    len = sfu_rtcp_tcc_build(out, cap, 0, s->media_ssrc, (uint16_t)base_ext, s->fb_count, s->scratch, n, &consumed);
  }
  if (len < 0) return len;
  /* the window spans less than 2^16: the 16-bit distance unwraps */
  last_ext = first_ext + (uint16_t)(s->scratch[consumed - 1].seq - (uint16_t)first_ext);
  sfu__ts_update_loss(s, (double)(last_ext - base_ext + 1 - (int64_t)consumed) / (double)(last_ext - base_ext + 1));
  s->start_ext = last_ext + 1;
  s->fb_count++;
  return len;
}

double sfu_tcc_server_packet_loss(const sfu_tcc_server_t *s) { return s->packet_loss; }

void sfu_tcc_server_set_max_incoming_bitrate(sfu_tcc_server_t *s, int64_t bps) {
  int64_t prev = s->max_incoming_bps;

  s->max_incoming_bps = bps > 0 ? bps : 0;
  if (prev != 0 && s->max_incoming_bps == 0) s->unlimited_remb_counter = SFU__TS_UNLIMITED_REMBS;
}

bool sfu_tcc_server_limitation_remb(sfu_tcc_server_t *s, int64_t now_ms, int64_t *bps) {
  if (s->unlimited_remb_counter > 0 && s->max_incoming_bps != 0) s->unlimited_remb_counter = 0;
  if (s->max_incoming_bps == 0 && s->unlimited_remb_counter == 0) return false;
  if (!(s->remb_sent_ms == INT64_MIN || now_ms - s->remb_sent_ms > SFU__TS_REMB_INTERVAL_MS ||
        s->unlimited_remb_counter == SFU__TS_UNLIMITED_REMBS))
    return false;
  *bps = s->max_incoming_bps;
  s->remb_sent_ms = now_ms;
  if (s->unlimited_remb_counter > 0) s->unlimited_remb_counter--;
  return true;
}
