#include "sfu_ack_bitrate.h"

#include <math.h>
#include <string.h>

#define SFU__AB_INITIAL_WINDOW_MS 500
#define SFU__AB_WINDOW_MS 150
#define SFU__AB_SCALE 10.0

void sfu_ack_bitrate_init(sfu_ack_bitrate_t *b) {
  memset(b, 0, sizeof(*b));
  b->prev_ms = -1;
  b->estimate_kbps = -1;
  b->var = 50;
}

void sfu_ack_bitrate_set_alr(sfu_ack_bitrate_t *b, bool in_alr) { b->in_alr = in_alr; }

void sfu_ack_bitrate_set_alr_ended(sfu_ack_bitrate_t *b, int64_t at_ms) {
  b->alr_ended = true;
  b->alr_ended_ms = at_ms;
}

/* A sample (kbps) when a window filled, else -1. */
static double sfu__ab_window(sfu_ack_bitrate_t *b, int64_t now_ms, size_t bytes, int64_t window) {
  double sample = -1;

  if (now_ms < b->prev_ms) {
    b->prev_ms = -1;
    b->sum_bytes = 0;
    b->window_ms = 0;
  }
  if (b->prev_ms >= 0) {
    b->window_ms += now_ms - b->prev_ms;
    if (now_ms - b->prev_ms > window) {
      b->sum_bytes = 0;
      b->window_ms %= window;
    }
  }
  b->prev_ms = now_ms;
  if (b->window_ms >= window) {
    sample = 8.0 * (double)b->sum_bytes / (double)window;
    b->window_ms -= window;
    b->sum_bytes = 0;
  }
  b->sum_bytes += (int64_t)bytes;
  return sample;
}

void sfu_ack_bitrate_on_packet(sfu_ack_bitrate_t *b, int64_t send_ms, int64_t arrival_ms, size_t size) {
  double sample, uncertainty, sample_var, pred_var;
  int64_t window = b->estimate_kbps < 0 ? SFU__AB_INITIAL_WINDOW_MS : SFU__AB_WINDOW_MS;

  if (b->alr_ended && send_ms > b->alr_ended_ms) {
    b->var += 200; /* expect a fast rate change */
    b->alr_ended = false;
  }
  sample = sfu__ab_window(b, arrival_ms, size, window);
  if (sample < 0) return;
  if (b->estimate_kbps < 0) {
    b->estimate_kbps = sample;
    return;
  }
  /* symmetry cap 0 (libwebrtc's default): the denominator is the estimate */
  uncertainty = SFU__AB_SCALE * fabs(b->estimate_kbps - sample) / b->estimate_kbps;
  if (!isfinite(uncertainty)) uncertainty = SFU__AB_SCALE;
  sample_var = uncertainty * uncertainty;
  pred_var = b->var + 5.0;
  b->estimate_kbps = (sample_var * b->estimate_kbps + pred_var * sample) / (sample_var + pred_var);
  if (b->estimate_kbps < 0) b->estimate_kbps = 0;
  b->var = sample_var * pred_var / (sample_var + pred_var);
}

int64_t sfu_ack_bitrate_bps(const sfu_ack_bitrate_t *b) {
  return b->estimate_kbps < 0 ? -1 : (int64_t)(b->estimate_kbps * 1000);
}

int64_t sfu_ack_bitrate_peek_bps(const sfu_ack_bitrate_t *b) {
  return b->window_ms > 0 ? b->sum_bytes * 8 * 1000 / b->window_ms : -1;
}
