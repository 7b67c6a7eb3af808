/* NACK generator of one receive stream (RFC 4585 generic NACK), with the
 * behaviour of mediasoup's NackGenerator: a sequence number found missing is
 * asked for at once, then again every round trip time (checked every
 * SFU_NACK_TIMER_MS) up to SFU_NACK_MAX_RETRIES times; holes older than
 * SFU_NACK_MAX_AGE packets behind the newest are forgotten; when more than
 * SFU_NACK_MAX_PACKETS are missing the oldest go first up to the newest key
 * frame and, if that is not enough, all of them and a key frame is needed
 * instead. A packet that arrives late (or repaired, through RTX) is taken
 * off the list. Pure: no timers or I/O; the owner calls it with the time. */
#ifndef SFU_NACK_GENERATOR_H
#define SFU_NACK_GENERATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFU_NACK_MAX_PACKETS 1000
#define SFU_NACK_MAX_AGE 10000
#define SFU_NACK_MAX_RETRIES 10
#define SFU_NACK_DEFAULT_RTT_MS 100
#define SFU_NACK_TIMER_MS 40
#define SFU_NACK_MAX_KEYFRAMES 64

typedef struct sfu_nack_item {
  uint16_t seq;
  uint8_t retries;
  uint64_t sent_ms; /* 0: never asked for */
} sfu_nack_item_t;

typedef struct sfu_nack_generator {
  bool started;
  uint16_t last_seq; /* newest sequence number seen */
  /* Missing packets, oldest first (a ring of SFU_NACK_MAX_PACKETS). */
  sfu_nack_item_t items[SFU_NACK_MAX_PACKETS];
  size_t head, count;
  /* Sequence numbers of recent key frames, oldest first (a ring). */
  uint16_t keyframes[SFU_NACK_MAX_KEYFRAMES];
  size_t kf_head, kf_count;
  /* statistics */
  uint64_t nacked_packets;   /* sequence numbers put in NACKs, retries included */
  uint64_t recovered;        /* missing packets that arrived (late or by RTX) */
  uint64_t given_up;         /* dropped after MAX_RETRIES, MAX_AGE or overflow */
  uint64_t keyframes_needed; /* overflows that ended in a key frame request */
} sfu_nack_generator_t;

typedef enum sfu_nack_result {
  SFU_NACK_NEW = 0,       /* in order (possibly after a hole): forward */
  SFU_NACK_RECOVERED,     /* a packet that was missing: forward, count as repaired */
  SFU_NACK_OLD,           /* older than the newest and not missing: a late duplicate or reordering we did not wait for */
  SFU_NACK_DUPLICATE,     /* the newest again */
} sfu_nack_result_t;

void sfu_nack_generator_init(sfu_nack_generator_t *g);

/* One received packet (repaired: it came as RTX). Sequence numbers to ask
 * for right away are written to out (at most max); *n tells how many.
 * *keyframe_needed is set when too much was lost to repair. */
sfu_nack_result_t sfu_nack_generator_on_packet(sfu_nack_generator_t *g, uint16_t seq, bool is_keyframe, bool repaired,
                                               uint64_t now_ms, uint16_t *out, size_t max, size_t *n,
                                               bool *keyframe_needed);

/* Every SFU_NACK_TIMER_MS while pending() holds: the sequence numbers to ask
 * for again (last asked more than rtt_ms ago; rtt_ms 0: the default). */
size_t sfu_nack_generator_on_timer(sfu_nack_generator_t *g, uint64_t now_ms, uint32_t rtt_ms, uint16_t *out,
                                   size_t max);

static inline bool sfu_nack_generator_pending(const sfu_nack_generator_t *g) { return g->count > 0; }

#endif
