/* Inter-arrival: groups packets sent within 5 ms of each other (one frame, a
 * burst of the pacer) and gives, when a group completes, the send and arrival
 * time differences between it and the previous group: the input of the delay
 * gradient filters. As libwebrtc's InterArrival with burst grouping: a packet
 * that arrives within 5 ms of the previous one, earlier than its send spacing
 * predicts, and less than 100 ms after the group started joins the group
 * (cross traffic drained a queue); a packet sent before the current group is
 * ignored; an arrival clock jump of 3 s or more, or 3 reordered groups in a
 * row, reset the state. Times are microseconds. */
#ifndef SFU_INTER_ARRIVAL_H
#define SFU_INTER_ARRIVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sfu__ia_group {
  bool valid;             /* holds a packet */
  bool complete;          /* complete_us set */
  int64_t first_send_us;
  int64_t send_us;        /* latest send time in the group */
  int64_t first_arrival_us;
  int64_t complete_us;    /* arrival of the group's last packet */
  int64_t last_system_us; /* local time when its last packet was handled */
  int64_t size;
} sfu__ia_group_t;

typedef struct sfu_inter_arrival {
  int64_t group_len_us;
  sfu__ia_group_t cur, prev;
  int reordered;
} sfu_inter_arrival_t;

typedef struct sfu_inter_arrival_delta {
  double send_delta_ms;
  double arrival_delta_ms;
  int64_t size_delta;
} sfu_inter_arrival_delta_t;

void sfu_inter_arrival_init(sfu_inter_arrival_t *ia, int64_t group_len_us);
void sfu_inter_arrival_reset(sfu_inter_arrival_t *ia);
/* Adds one packet; true and *d when it closed a group that has a predecessor. */
bool sfu_inter_arrival_add(sfu_inter_arrival_t *ia, int64_t send_us, int64_t arrival_us, int64_t system_us,
                           size_t size, sfu_inter_arrival_delta_t *d);

#endif
