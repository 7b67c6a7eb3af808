/* Receive side of transport-cc for one transport (mediasoup's
 * TransportCongestionControlServer, transport-cc part): records the
 * transport-wide sequence number and arrival time of every incoming packet
 * and builds the feedback the sender's estimator needs, every 100 ms
 * (SFU_TCC_SERVER_INTERVAL_MS, the caller's timer) and whenever half of the
 * window is waiting.
 *
 * Bounded: a ring of SFU_TCC_SERVER_WINDOW sequence numbers (unwrapped to
 * 64 bits). Duplicates keep their first arrival. A packet older than the
 * ones already reported (reordered past a feedback) moves the next feedback
 * back to it, so it is reported received (with the packets after it again,
 * as mediasoup and libwebrtc do; the sender ignores repeats). Packets more
 * than the window behind the newest are dropped; a jump ahead reports at
 * most a window of losses.
 *
 * Feedback: sender SSRC 0, media SSRC of the latest packet, feedback packet
 * count incrementing per message, at most max_len bytes per message
 * (mediasoup: 1500). Also mediasoup's "limitation" REMB for transport-cc
 * peers: while a max incoming bitrate is set, a REMB with it every 1.5 s;
 * when it is unset, 4 REMBs of 0 (unlimited). */
#ifndef SFU_TCC_SERVER_H
#define SFU_TCC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu_rtcp_tcc.h"

#define SFU_TCC_SERVER_WINDOW 2048 /* power of 2: 32 KiB per transport; 1024 waiting packets force a feedback */
#define SFU_TCC_SERVER_INTERVAL_MS 100
#define SFU_TCC_SERVER_LOSS_HISTORY 24

typedef struct sfu__tcc_slot {
  int64_t ext_seq; /* -1: empty */
  int64_t arrival_us;
} sfu__tcc_slot_t;

typedef struct sfu_tcc_server {
  sfu__tcc_slot_t *ring;
  sfu_rtcp_tcc_arrival_t *scratch;
  size_t max_len;
  bool has_packets;
  int64_t highest_ext;
  int64_t start_ext; /* first not yet reported */
  uint32_t media_ssrc;
  uint8_t fb_count;
  uint64_t packets, duplicates, dropped_old;
  double loss_hist[SFU_TCC_SERVER_LOSS_HISTORY];
  int loss_len;
  double packet_loss;
  /* limitation REMB */
  int64_t max_incoming_bps;
  int64_t remb_sent_ms; /* INT64_MIN: never */
  int unlimited_remb_counter;
} sfu_tcc_server_t;

/* max_len: largest feedback message (>= SFU_RTCP_TCC_MIN_LEN). SFU_EINVAL, SFU_ENOMEM. */
int sfu_tcc_server_init(sfu_tcc_server_t *s, size_t max_len);
void sfu_tcc_server_destroy(sfu_tcc_server_t *s);
/* A packet with a transport-wide sequence number arrived (now_us >= 0).
 * Returns true when feedback should be built now (half the window waits). */
bool sfu_tcc_server_on_packet(sfu_tcc_server_t *s, uint16_t seq, uint32_t media_ssrc, int64_t now_us);
/* Builds the next feedback message into out: its length, 0 when nothing is
 * waiting, SFU_ETOOBIG when cap is below SFU_RTCP_TCC_MIN_LEN. Call until 0
 * (on the 100 ms timer, and when on_packet says so); each message advances
 * the reported range. */
int sfu_tcc_server_build_feedback(sfu_tcc_server_t *s, uint8_t *out, size_t cap);
/* Transport disconnected: forget what waits (the feedback count goes on). */
void sfu_tcc_server_reset(sfu_tcc_server_t *s);
/* mediasoup's weighted loss (0..1) of the last 24 messages sent. */
double sfu_tcc_server_packet_loss(const sfu_tcc_server_t *s);

/* setMaxIncomingBitrate (0: none). */
void sfu_tcc_server_set_max_incoming_bitrate(sfu_tcc_server_t *s, int64_t bps);
/* After each packet (and after set_max_incoming_bitrate): true and *bps when
 * a limitation REMB is due now (build it with sfu_rtcp_remb_build, no SSRCs). */
bool sfu_tcc_server_limitation_remb(sfu_tcc_server_t *s, int64_t now_ms, int64_t *bps);

#endif
