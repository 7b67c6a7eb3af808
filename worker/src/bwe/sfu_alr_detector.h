/* Application-limited region detector (libwebrtc's AlrDetector): a budget
 * that fills at 65 % of the estimate over a 500 ms window and drains with
 * every byte sent. More than 80 % of it unused starts ALR (we send much less
 * than we could, so the estimate is not being tested), below 50 % ends it;
 * 3 s without sending starts it too. */
#ifndef SFU_ALR_DETECTOR_H
#define SFU_ALR_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sfu_alr_detector {
  int64_t target_kbps;
  double bytes_remaining; /* may be negative: overuse of the budget */
  bool has_last_send;
  int64_t last_send_ms;
  bool in_alr;
  int64_t alr_start_ms;
} sfu_alr_detector_t;

void sfu_alr_detector_init(sfu_alr_detector_t *d);
void sfu_alr_detector_on_bytes_sent(sfu_alr_detector_t *d, size_t bytes, int64_t now_ms);
void sfu_alr_detector_set_estimate(sfu_alr_detector_t *d, int64_t bps);
/* true and *start_ms while in ALR. */
bool sfu_alr_detector_in_alr(const sfu_alr_detector_t *d, int64_t *start_ms);
/* The same for the periodic check: nothing sent for 3 s also starts ALR. */
bool sfu_alr_detector_in_alr_at(sfu_alr_detector_t *d, int64_t now_ms, int64_t *start_ms);

#endif
