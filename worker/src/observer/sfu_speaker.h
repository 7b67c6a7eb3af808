/* One participant's speech activity for dominant speaker identification
 * (I. Volfin and I. Cohen, "Dominant Speaker Identification for Multipoint
 * Videoconferencing", the model mediasoup's ActiveSpeakerObserver uses).
 *
 * Audio levels (0 silent .. 127 loud, one sample per 20 ms) fill a ring of
 * the last second. Three time scales are scored: "immediates" are the last
 * 50 samples quantised into 13 steps above the speaker's noise floor,
 * "mediums" count the immediates above a threshold in groups of 5, "longs"
 * count the mediums above a threshold in groups of 10. Each scale's score is
 * the log-likelihood ratio of a speech model (binomial, p = 0.5) against a
 * non-speech model (exponential, rate lambda) for the newest value of that
 * scale. The noise floor follows the lowest non-zero level seen, raised to
 * the geometric mean with the lowest level of the last 15 s when that stays
 * higher. Pure computation: no clock, no allocation. */
#ifndef SFU_SPEAKER_H
#define SFU_SPEAKER_H

#include <stdbool.h>
#include <stdint.h>

#define SFU_SPEAKER_LEVELS 50     /* samples kept (1 s of 20 ms samples) */
#define SFU_SPEAKER_IMMEDIATES 50 /* N3 * N2 */
#define SFU_SPEAKER_MEDIUMS 10    /* N3 */
#define SFU_SPEAKER_LONGS 1
#define SFU_SPEAKER_MAX_LEVEL 127
#define SFU_SPEAKER_LEVEL_IDLE_MS 40 /* a level older than this counts as silence */

typedef struct sfu_speaker {
  bool paused;
  double score[3]; /* immediate, medium, long */
  uint64_t last_level_ms;
  int8_t min_level, next_min_level;
  uint32_t next_min_level_window;
  uint8_t immediates[SFU_SPEAKER_IMMEDIATES];
  uint8_t mediums[SFU_SPEAKER_MEDIUMS];
  uint8_t longs[SFU_SPEAKER_LONGS];
  uint8_t levels[SFU_SPEAKER_LEVELS];
  uint32_t next_level;
} sfu_speaker_t;

void sfu_speaker_init(sfu_speaker_t *s, uint64_t now_ms);
/* A new level (0..127, higher is louder) at now_ms: fills one 20 ms slot per
 * 20 ms elapsed since the last one (at least one, at most the whole ring), so
 * DTX, pauses and other packet times count as they last. */
void sfu_speaker_level(sfu_speaker_t *s, uint32_t level, uint64_t now_ms);
/* Recomputes the three scores from the samples. */
void sfu_speaker_eval(sfu_speaker_t *s);
/* score[i], 0: immediate, 1: medium, 2: long; never below a tiny positive floor. */
double sfu_speaker_score(const sfu_speaker_t *s, unsigned i);

#endif
