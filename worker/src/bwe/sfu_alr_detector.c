#include "sfu_alr_detector.h"

#include <string.h>

#define SFU__ALR_WINDOW_MS 500
#define SFU__ALR_USAGE 0.65
#define SFU__ALR_START 0.80
#define SFU__ALR_STOP 0.50
#define SFU__ALR_TIMEOUT_MS 3000

void sfu_alr_detector_init(sfu_alr_detector_t *d) { memset(d, 0, sizeof(*d)); }

static double sfu__alr_max_bytes(const sfu_alr_detector_t *d) {
  return (double)d->target_kbps * SFU__ALR_WINDOW_MS / 8.0;
}

void sfu_alr_detector_set_estimate(sfu_alr_detector_t *d, int64_t bps) {
  double max;

  d->target_kbps = (int64_t)((double)bps * SFU__ALR_USAGE / 1000.0);
  max = sfu__alr_max_bytes(d);
  if (d->bytes_remaining > max) d->bytes_remaining = max;
  if (d->bytes_remaining < -max) d->bytes_remaining = -max;
}

void sfu_alr_detector_on_bytes_sent(sfu_alr_detector_t *d, size_t bytes, int64_t now_ms) {
  double max = sfu__alr_max_bytes(d), ratio;
  int64_t dt;

  if (!d->has_last_send) {
    d->has_last_send = true;
    d->last_send_ms = now_ms;
    return;
  }
  dt = now_ms - d->last_send_ms;
  d->last_send_ms = now_ms;
  d->bytes_remaining -= (double)bytes; /* UseBudget */
  if (d->bytes_remaining < -max) d->bytes_remaining = -max;
  if (dt > 0) { /* IncreaseBudget, with underuse allowed to build up */
    d->bytes_remaining += (double)d->target_kbps * (double)dt / 8.0;
    if (d->bytes_remaining > max) d->bytes_remaining = max;
  }
  ratio = max > 0 ? d->bytes_remaining / max : 0;
  if (ratio > SFU__ALR_START && !d->in_alr) {
    d->in_alr = true;
    d->alr_start_ms = now_ms;
  } else if (ratio < SFU__ALR_STOP && d->in_alr) {
    d->in_alr = false;
  }
}

bool sfu_alr_detector_in_alr(const sfu_alr_detector_t *d, int64_t *start_ms) {
  if (d->in_alr && start_ms != NULL) *start_ms = d->alr_start_ms;
  return d->in_alr;
}

bool sfu_alr_detector_in_alr_at(sfu_alr_detector_t *d, int64_t now_ms, int64_t *start_ms) {
  if (!d->in_alr && d->has_last_send && now_ms - d->last_send_ms > SFU__ALR_TIMEOUT_MS) {
    d->in_alr = true;
    d->alr_start_ms = now_ms;
  }
  return sfu_alr_detector_in_alr(d, start_ms);
}
