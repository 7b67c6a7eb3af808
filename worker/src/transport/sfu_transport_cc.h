/* Congestion control of one transport (mediasoup's
 * TransportCongestionControlServer and Client, and the bandwidth
 * distribution of its Transport), on the estimators of worker/src/bwe:
 *
 * Receive side (what the remote sender needs): when a producer negotiated
 * transport-cc (its header extension and rtcp-fb), every incoming packet's
 * transport-wide sequence number and arrival time goes to a transport-cc
 * server whose feedback leaves every 100 ms (and the REMB that carries
 * setMaxIncomingBitrate); with only abs-send-time and goog-remb, a REMB
 * estimate instead.
 *
 * Send side (what we send the remote receiver): when a consumer negotiated
 * transport-cc (or goog-remb), every packet we send is recorded, the
 * receiver's feedback drives a GoogCC-like estimate (sfu_send_bwe), probe
 * clusters go out as RTX copies of recent video packets (or padding) when
 * the estimator asks, and the estimate is divided among the transport's
 * consumers by priority (audio and simple streams first, then layers of
 * simulcast consumers, never above their preferred layers), with the sum
 * of what they want fed back as the desired bitrate so that probing finds
 * the room for it. Padding goes out only inside probe clusters, as
 * mediasoup's pacer sends it (never to fill the link up to the estimate:
 * while a narrowed path's estimate is still falling that overruns its
 * queue). availableOutgoingBitrate,
 * probation counters and the
 * 'bwe'/'probation' trace events come from here.
 *
 * All of it runs on one 25 ms timer while the transport is connected, plus
 * a short one that paces probe packets. */
#ifndef SFU_TRANSPORT_CC_H
#define SFU_TRANSPORT_CC_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "sfu_probe_sender.h"
#include "sfu_remb_server.h"
#include "sfu_rtcp.h"
#include "sfu_rtp_packet.h"
#include "sfu_rtp_stream.h"
#include "sfu_send_bwe.h"
#include "sfu_tcc_server.h"

typedef struct sfu_transport sfu_transport_t;
typedef struct sfu_producer sfu_producer_t;
typedef struct sfu_consumer sfu_consumer_t;

/* Same values as FBS.Transport.BweType, plus none. */
typedef enum sfu_bwe_mode { SFU_BWE_TRANSPORT_CC = 0, SFU_BWE_REMB = 1, SFU_BWE_NONE = 2 } sfu_bwe_mode_t;

typedef struct sfu_transport_cc {
  sfu_transport_t *t;
  sfu_bwe_mode_t recv_mode, send_mode;
  bool tcc_ready, bwe_ready;
  sfu_tcc_server_t tcc;
  sfu_remb_server_t *remb; /* REMB receive mode only (~9 KiB): allocated then */
  sfu_send_bwe_t bwe;
  sfu_probe_sender_t prober;
  uv_timer_t *timer;       /* 25 ms, separate allocation */
  uv_timer_t *probe_timer; /* paces probe packets, separate allocation */
  unsigned ticks;
  bool connected;
  int64_t available_bps; /* the last estimate told (0: none yet) */
  int64_t remb_in_bps;   /* REMB mode: the last REMB we sent */
  uint64_t probation_bytes;
  sfu_rate_t probation_rate;
  sfu_rate_t sent_rate;  /* every RTP byte sent with a transport-wide sequence number */
  sfu_rate_t retransmit_rate; /* retransmissions let through (sfu_transport_cc_may_retransmit) */
  int64_t desired_bps;   /* what the consumers would send unconstrained */
  bool distributing;
} sfu_transport_cc_t;

/* Lazily made by the transport; 0, SFU_ENOMEM. */
int sfu_transport_cc_create(sfu_transport_t *t, sfu_transport_cc_t **out);
void sfu_transport_cc_close(sfu_transport_cc_t *cc);

/* A new producer / consumer: the first one that negotiated transport-cc
 * (else goog-remb) decides each side's mode. */
void sfu_transport_cc_on_producer(sfu_transport_cc_t *cc, const sfu_producer_t *p);
void sfu_transport_cc_on_consumer(sfu_transport_cc_t *cc, sfu_consumer_t *c);
/* A consumer left, or wants something else: distribute again. */
void sfu_transport_cc_on_consumers_changed(sfu_transport_cc_t *cc);

void sfu_transport_cc_on_connected(sfu_transport_cc_t *cc);
void sfu_transport_cc_on_disconnected(sfu_transport_cc_t *cc);

/* Every RTP packet received (before the producers see it). */
void sfu_transport_cc_on_rtp_in(sfu_transport_cc_t *cc, const sfu_rtp_packet_t *pkt, uint64_t now_ms);
/* Every RTP packet sent with a transport-wide sequence number. */
void sfu_transport_cc_on_rtp_out(sfu_transport_cc_t *cc, uint16_t twcc_seq, size_t len, bool is_rtx);

/* RTCP from the remote receiver: a transport-cc feedback or a REMB, and report blocks (REMB mode). */
void sfu_transport_cc_on_rtcp(sfu_transport_cc_t *cc, const sfu_rtcp_hdr_t *h);
void sfu_transport_cc_on_report(sfu_transport_cc_t *cc, const sfu_rtcp_rb_t *rb, int64_t rtt_ms);

void sfu_transport_cc_set_max_incoming(sfu_transport_cc_t *cc, uint64_t bps);
void sfu_transport_cc_set_max_outgoing(sfu_transport_cc_t *cc, uint64_t bps);
void sfu_transport_cc_set_min_outgoing(sfu_transport_cc_t *cc, uint64_t bps);

/* For stats: 0 when unknown. */
/* Whether a retransmission of len bytes may be sent: retransmissions over
 * the last second stay within the send-side estimate (libwebrtc's sender
 * limits them to its target rate the same way); always without one. */
bool sfu_transport_cc_may_retransmit(sfu_transport_cc_t *cc, size_t len);
uint64_t sfu_transport_cc_available_outgoing(const sfu_transport_cc_t *cc);
uint64_t sfu_transport_cc_available_incoming(const sfu_transport_cc_t *cc);
/* Packet loss (0..1) seen by the remote receiver / by us; < 0 when unknown. */
double sfu_transport_cc_loss_sent(const sfu_transport_cc_t *cc);
double sfu_transport_cc_loss_received(const sfu_transport_cc_t *cc);

#endif
