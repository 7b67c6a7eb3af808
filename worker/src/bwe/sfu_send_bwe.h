/* Sender-side bandwidth estimation of one transport: GoogCC as mediasoup's
 * TransportCongestionControlClient drives it (feedback only: transport-cc
 * carries both delay and loss), rebuilt from the parts in this folder:
 *
 *   packet history  sent packets by transport-wide sequence number (8192)
 *   sfu_delay_bwe   inter-arrival + trendline + AIMD
 *   sfu_ack_bitrate acknowledged (received) bitrate
 *   sfu_loss_bwe    loss-based target, capped by the delay-based one
 *   sfu_alr_detector, sfu_probe_controller, sfu_probe_estimator
 *
 * and mediasoup's own layer on top: the initial estimate
 * (initialAvailableOutgoingBitrate, at least 30 kbit/s), the maximum derived
 * from the consumers' desired bitrate (max(initial, 1.35 x desired trend),
 * kept within 10 %; the trend falls by at most 5 %/s), min/max outgoing
 * bitrate, the max padding rate (0.85 x max), the weighted packet loss, and
 * when to tell the transport about a new available bitrate (first one, every
 * second, or at once when it falls by 25 % or rises by 50 %).
 *
 * Pure: no clock, no I/O, no libuv. The transport calls, in this order:
 *   sfu_send_bwe_init()                 at creation
 *   sfu_send_bwe_on_connected()         when DTLS/ICE are up (starts probing)
 *   sfu_send_bwe_on_packet_sent()       for every RTP packet with a
 *                                       transport-wide sequence number, when
 *                                       it leaves (probe packets with their
 *                                       cluster id, RTX too)
 *   sfu_send_bwe_on_feedback()          for every transport-cc message read
 *                                       by sfu_rtcp_tcc_read()
 *   sfu_send_bwe_on_timer()             every 25 ms (GoogCC's process
 *                                       interval)
 *   sfu_send_bwe_next_probe()           after any of these: clusters to send,
 *                                       paced with sfu_probe_sender
 *   sfu_send_bwe_set_desired_bitrate()  when the consumers' allocation changes
 *   sfu_send_bwe_available_bitrate()    whenever it needs the estimate
 *   sfu_send_bwe_on_disconnected(), sfu_send_bwe_destroy()
 * For a peer with goog-remb but no transport-cc, only REMB and receiver
 * reports exist: sfu_send_bwe_on_remb() and sfu_send_bwe_on_receiver_report()
 * drive the loss-based part and cap it (GoogCC's non feedback-only path;
 * mediasoup ignores both in transport-cc mode, and so should the caller).
 * Listener callbacks run synchronously inside these calls. */
#ifndef SFU_SEND_BWE_H
#define SFU_SEND_BWE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu_ack_bitrate.h"
#include "sfu_alr_detector.h"
#include "sfu_delay_bwe.h"
#include "sfu_loss_bwe.h"
#include "sfu_probe_controller.h"
#include "sfu_probe_estimator.h"
#include "sfu_rtcp_tcc.h"

/* Sent packets remembered until their feedback: a ring that starts small and
 * doubles (up to SFU_SEND_BWE_HISTORY) when a packet younger than
 * SFU_SEND_BWE_GROW_AGE_US still waiting for feedback would be overwritten,
 * so an audio-only transport keeps 16 KiB, not 256 KiB (powers of 2). */
#define SFU_SEND_BWE_HISTORY 8192
#define SFU_SEND_BWE_HISTORY_MIN 512
#define SFU_SEND_BWE_GROW_AGE_US 2000000
#define SFU_SEND_BWE_PROBE_QUEUE 8
#define SFU_SEND_BWE_RTT_WINDOW 32
#define SFU_SEND_BWE_LOSS_HISTORY 24

typedef struct sfu_send_bwe_config {
  int64_t initial_bps; /* initialAvailableOutgoingBitrate (mediasoup: 600000); raised to 30000 */
  int64_t min_bps;     /* minOutgoingBitrate, 0: 30000 */
  int64_t max_bps;     /* maxOutgoingBitrate, 0: none */
} sfu_send_bwe_config_t;

/* What mediasoup's 'bwe' trace event and availablebitrate logic carry. */
typedef struct sfu_send_bwe_bitrates {
  int64_t desired_bps;
  int64_t effective_desired_bps; /* the desired trend */
  int64_t min_bps;
  int64_t max_bps;
  int64_t start_bps;
  int64_t max_padding_bps;
  int64_t available_bps;
} sfu_send_bwe_bitrates_t;

typedef struct sfu_send_bwe_listener {
  /* New available bitrate worth telling (mediasoup's cadence); also the
   * 'bwe' trace. May be NULL. */
  void (*on_bitrates)(void *arg, const sfu_send_bwe_bitrates_t *b);
  /* A probe cluster was queued (sfu_send_bwe_next_probe() hands it out). May be NULL. */
  void (*on_probe_cluster)(void *arg, const sfu_probe_cluster_t *c);
  /* A cluster's feedback gave a rate ('probation' results). May be NULL. */
  void (*on_probe_result)(void *arg, int cluster_id, int64_t bps);
} sfu_send_bwe_listener_t;

typedef struct sfu__sent_pkt {
  int64_t ext_seq; /* -1: empty */
  int64_t send_us;
  uint32_t size;
  int32_t cluster_id; /* -1: not a probe */
  uint8_t state;      /* sent, reported lost, acknowledged */
  bool is_rtx;
} sfu__sent_pkt_t;

typedef struct sfu__pkt_result {
  int64_t ext_seq;
  int64_t send_us;
  int64_t arrival_us; /* local clock */
  uint32_t size;
  int32_t cluster_id;
} sfu__pkt_result_t;

typedef struct sfu_send_bwe {
  sfu_send_bwe_config_t cfg;
  const sfu_send_bwe_listener_t *listener;
  void *arg;

  /* packet history */
  sfu__sent_pkt_t *hist;
  sfu__pkt_result_t *results;
  size_t hist_cap; /* entries of hist and of results */
  int64_t last_sent_ext; /* -1: nothing sent */
  int64_t last_ref;      /* unwrapped reference time (64 ms), INT64_MIN: none */
  int64_t clock_offset_us;

  sfu_delay_bwe_t delay;
  sfu_ack_bitrate_t ack;
  sfu_loss_bwe_t loss;
  sfu_alr_detector_t alr;
  sfu_probe_controller_t probes;
  sfu_probe_estimator_t probe_est;

  sfu_probe_cluster_t clusters[SFU_SEND_BWE_PROBE_QUEUE]; /* recent clusters, for their sizes */
  int cluster_pos;
  sfu_probe_cluster_t queue[SFU_SEND_BWE_PROBE_QUEUE];
  int queue_head, queue_len;

  int64_t rtts[SFU_SEND_BWE_RTT_WINDOW];
  int rtt_len, rtt_pos;
  int64_t next_loss_update_us;
  int lost_since_update, expected_since_update;
  bool previously_in_alr;
  bool connected, started;

  /* GoogCC's last reported target */
  int64_t last_target_bps;
  uint8_t last_fraction_loss;
  int64_t last_rtt_ms;

  /* mediasoup's layer */
  sfu_send_bwe_bitrates_t bitrates;
  int64_t trend_value, trend_highest, trend_highest_ms;
  int64_t last_start_bps;
  int64_t applied_min_bps, applied_max_bps, applied_alloc_bps; /* what the controller has */
  int64_t last_event_ms; /* 0: no event yet */
  bool event_called;
  double loss_hist[SFU_SEND_BWE_LOSS_HISTORY];
  int loss_len;
  double packet_loss;
} sfu_send_bwe_t;

/* SFU_EINVAL (negative bounds, min above a non-zero max) or SFU_ENOMEM. */
int sfu_send_bwe_init(sfu_send_bwe_t *b, const sfu_send_bwe_config_t *cfg, const sfu_send_bwe_listener_t *listener,
                      void *arg, int64_t now_ms);
void sfu_send_bwe_destroy(sfu_send_bwe_t *b);

void sfu_send_bwe_on_connected(sfu_send_bwe_t *b, int64_t now_ms);
void sfu_send_bwe_on_disconnected(sfu_send_bwe_t *b, int64_t now_ms);
/* probe_cluster_id: the id of the cluster the packet was sent for, -1 otherwise. */
void sfu_send_bwe_on_packet_sent(sfu_send_bwe_t *b, uint16_t transport_seq, size_t size, int probe_cluster_id,
                                 bool is_rtx, int64_t now_us);
void sfu_send_bwe_on_feedback(sfu_send_bwe_t *b, const sfu_rtcp_tcc_msg_t *msg, int64_t now_us);
void sfu_send_bwe_on_timer(sfu_send_bwe_t *b, int64_t now_ms);
void sfu_send_bwe_on_remb(sfu_send_bwe_t *b, int64_t bps, int64_t now_ms);
void sfu_send_bwe_on_receiver_report(sfu_send_bwe_t *b, uint8_t fraction_lost, int num_packets, int64_t rtt_ms,
                                     int64_t now_ms);

/* force: set the desired trend to it at once (mediasoup's ForceUpdate). */
void sfu_send_bwe_set_desired_bitrate(sfu_send_bwe_t *b, int64_t bps, bool force, int64_t now_ms);
void sfu_send_bwe_set_max_outgoing(sfu_send_bwe_t *b, int64_t bps, int64_t now_ms);
void sfu_send_bwe_set_min_outgoing(sfu_send_bwe_t *b, int64_t bps, int64_t now_ms);

/* The consumers want more than the estimate (or no longer do): probes then
 * look for room every few seconds (sfu_probe_controller's "limited"). */
void sfu_send_bwe_set_allocation_limited(sfu_send_bwe_t *b, bool limited, int64_t now_ms);

/* Pops the next probe cluster to send: true and *c. The transport sends
 * padding/RTX at c->bitrate_bps until c->min_probes packets and c->min_bytes
 * bytes went out, passing c->id to sfu_send_bwe_on_packet_sent(). */
bool sfu_send_bwe_next_probe(sfu_send_bwe_t *b, sfu_probe_cluster_t *c);

int64_t sfu_send_bwe_available_bitrate(const sfu_send_bwe_t *b);
void sfu_send_bwe_get_bitrates(const sfu_send_bwe_t *b, sfu_send_bwe_bitrates_t *out);
/* mediasoup's weighted packet loss (0..1) over the last 24 feedbacks. */
double sfu_send_bwe_packet_loss(const sfu_send_bwe_t *b);
sfu_bw_usage_t sfu_send_bwe_delay_state(const sfu_send_bwe_t *b);

#endif
