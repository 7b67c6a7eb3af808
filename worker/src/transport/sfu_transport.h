/* Transport base: what WebRtcTransport, PlainTransport and friends share.
 * Owns its producers and consumers (the only one that links and unlinks
 * them), routes incoming RTP by SSRC/MID/RID (the RTP listener), reads
 * incoming RTCP with the one compound iterator, sends periodic reports,
 * answers the TRANSPORT_* requests and builds the common part of dumps and
 * stats. The concrete transport supplies the ops (how to send, connect, dump
 * its own part, release its sockets). It reaches its parent (the router)
 * only through its listener, and gets what it needs from the worker (ports,
 * DTLS context, certificate, WebRtcServers) through the environment given at
 * creation. */
#ifndef SFU_TRANSPORT_H
#define SFU_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "sfu_cert.h"
#include "sfu_consumer.h"
#include "sfu_ctx.h"
#include "sfu_dtls_ctx.h"
#include "sfu_hmap.h"
#include "sfu_list.h"
#include "sfu_port_manager.h"
#include "sfu_producer.h"
#include "sfu_request.h"
#include "sfu_rtp_stream.h"
#include "sfu_transport_cc.h"
#include "sfu_transport_data.h"

typedef struct sfu_transport sfu_transport_t;
typedef struct sfu_webrtc_server sfu_webrtc_server_t;

/* What a transport needs from the worker. */
typedef struct sfu_transport_env {
  sfu_port_manager_t *ports;
  sfu_dtls_ctx_t *dtls_ctx;
  const sfu_cert_t *cert;
  /* A WebRtcServer by id, or NULL. */
  sfu_webrtc_server_t *(*find_webrtc_server)(void *arg, const char *id, size_t len);
  void *arg;
} sfu_transport_env_t;

/* What a transport tells its parent (filled in by the router). */
typedef struct sfu_transport_listener {
  /* A new producer: 0, or SFU_EEXIST when its id is taken in the router. */
  int (*on_producer_new)(void *arg, sfu_transport_t *t, sfu_producer_t *p);
  /* The transport unlinked p and is about to close it: the router closes its consumers. */
  void (*on_producer_closed)(void *arg, sfu_transport_t *t, sfu_producer_t *p);
  void (*on_producer_paused)(void *arg, sfu_producer_t *p, bool paused);
  void (*on_producer_rtp)(void *arg, sfu_producer_t *p, const sfu_rtp_packet_t *pkt, uint64_t now_ms);
  void (*on_producer_audio_level)(void *arg, sfu_producer_t *p, uint8_t level);
  void (*on_producer_score)(void *arg, sfu_producer_t *p);
  /* The producer a consumer would consume, by id, or NULL. */
  sfu_producer_t *(*get_producer)(void *arg, const char *id, size_t len);
  /* A new consumer of p (the router links them), and one the transport unlinked and is closing. */
  void (*on_consumer_new)(void *arg, sfu_consumer_t *c, sfu_producer_t *p);
  void (*on_consumer_closed)(void *arg, sfu_consumer_t *c);
  /* The WebRtcServer it listened on closed: the router unlinks and closes t. */
  void (*on_listen_server_closed)(void *arg, sfu_transport_t *t);
  /* Data producers and consumers (sfu_transport_data.c), as for RTP ones. */
  int (*on_data_producer_new)(void *arg, sfu_transport_t *t, sfu_data_producer_t *dp);
  void (*on_data_producer_closed)(void *arg, sfu_transport_t *t, sfu_data_producer_t *dp);
  void (*on_data_producer_paused)(void *arg, sfu_data_producer_t *dp, bool paused);
  void (*on_data_producer_message)(void *arg, sfu_data_producer_t *dp, uint32_t ppid, const uint8_t *p, size_t len,
                                   const sfu_data_route_t *route);
  sfu_data_producer_t *(*get_data_producer)(void *arg, const char *id, size_t len);
  void (*on_data_consumer_new)(void *arg, sfu_data_consumer_t *dc, sfu_data_producer_t *dp);
  void (*on_data_consumer_closed)(void *arg, sfu_data_consumer_t *dc);
} sfu_transport_listener_t;

/* Who creates a transport: the context, the parent's listener, the worker's environment. */
typedef struct sfu_transport_parent {
  sfu_ctx_t *ctx;
  const sfu_transport_listener_t *listener;
  void *arg;
  const sfu_transport_env_t *env;
} sfu_transport_parent_t;


typedef struct sfu_transport_ops {
  const char *name;
  /* Sends one packet: len bytes in a scratch buffer of cap bytes the transport may
   * modify (SRTP protects in place). */
  void (*send_rtp)(sfu_transport_t *t, uint8_t *buf, size_t len, size_t cap);
  void (*send_rtcp)(sfu_transport_t *t, uint8_t *buf, size_t len, size_t cap);
  /* Optional: a consumer's RTP packet when the transport needs to know whose (DirectTransport). */
  void (*send_consumer_rtp)(sfu_transport_t *t, sfu_consumer_t *c, const uint8_t *buf, size_t len);
  /* Optional: one SCTP packet to the peer; NULL = this transport cannot carry SCTP. */
  void (*send_sctp)(sfu_transport_t *t, const uint8_t *buf, size_t len);
  bool (*connected)(const sfu_transport_t *t);
  /* Type-specific requests (CONNECT, RESTART_ICE, TRANSPORT_DUMP, TRANSPORT_GET_STATS).
   * Return false if the method is not theirs. */
  bool (*on_request)(sfu_transport_t *t, sfu_request_t *req);
  /* The concrete DumpResponse (also the answer to the create request); *body_type its Response body type. */
  fb_ref_t (*dump)(sfu_transport_t *t, fb_builder_t *b, uint8_t *body_type);
  /* Close sockets and timers; call sfu_transport_released(t) once all are closed. */
  void (*close)(sfu_transport_t *t);
  /* Free the concrete object (after release). */
  void (*destroy)(sfu_transport_t *t);
} sfu_transport_ops_t;

typedef struct sfu_transport_counters {
  uint64_t bytes_received, bytes_sent;
  uint64_t rtp_bytes_received, rtp_bytes_sent;
  uint64_t rtx_bytes_received, rtx_bytes_sent;
  sfu_rate_t recv_rate, send_rate, rtp_recv_rate, rtp_send_rate, rtx_recv_rate, rtx_send_rate;
} sfu_transport_counters_t;

struct sfu_transport {
  sfu_ctx_t *ctx;
  const sfu_transport_listener_t *listener;
  void *listener_arg;
  const sfu_transport_env_t *env;
  const sfu_transport_ops_t *ops;
  sfu_handler_t handler;
  sfu_hnode_t router_node; /* the router's, like router_link */
  sfu_list_t router_link;
  char *id;
  size_t id_len;
  /* producers and consumers */
  sfu_hmap_t producers;
  sfu_list_t producer_list;
  sfu_hmap_t consumers;
  sfu_list_t consumer_list;
  /* RTP listener: ssrc -> producer (learned), mid -> producer, rid -> producer */
  struct sfu_listen_entry *ssrc_table;
  size_t ssrc_count, ssrc_cap;
  /* Receive header extension ids (producers' original ids). */
  uint8_t recv_mid_id, recv_rid_id, recv_rrid_id, recv_abs_send_time_id, recv_twcc_id;
  uint16_t twcc_seq;
  uint64_t max_incoming_bitrate, max_outgoing_bitrate, min_outgoing_bitrate;
  uint64_t initial_available_outgoing_bitrate;
  bool direct;
  bool pipe; /* a PipeTransport: SCTP messages carry subchannel routes */
  uint32_t max_message_size;
  /* SCTP (data channels): the options; the association is in data. */
  bool enable_sctp;
  bool sctp_is_data_channel;
  uint32_t sctp_max_send_message_size, sctp_max_receive_message_size, sctp_send_buffer_size;
  uint32_t sctp_per_stream_send_queue_limit, sctp_max_receiver_window_buffer_size;
  sfu_transport_data_t data; /* data producers/consumers and the SCTP association */
  uint8_t trace_types;
  sfu_transport_cc_t *cc; /* congestion control, made with the first producer or consumer */
  sfu_transport_counters_t stats;
  uv_timer_t *rtcp_timer;
  uint8_t scratch[SFU_SEND_BUF];
  bool closed;
  bool connected_once;
  sfu_closing_t closing;
};

/* Initialises the base (registers the channel handler). 0, SFU_EEXIST, SFU_ENOMEM. */
int sfu_transport_init(sfu_transport_t *t, const sfu_transport_parent_t *parent, const sfu_transport_ops_t *ops,
                       const char *id, size_t id_len, fb_table_t base_options);
/* Closes producers, consumers, then the concrete part (ops->close). The
 * parent unlinked it first. */
void sfu_transport_close(sfu_transport_t *t);
/* Called by the concrete transport when its handles are closed: frees after the loop turn. */
void sfu_transport_released(sfu_transport_t *t);

/* The concrete transport delivers decrypted packets here (buffer mutable, cap >= len). */
void sfu_transport_receive_rtp(sfu_transport_t *t, uint8_t *buf, size_t len, size_t cap);
void sfu_transport_receive_rtcp(sfu_transport_t *t, const uint8_t *buf, size_t len);
/* The concrete transport became connected (ICE+DTLS, or remote known): start reports, request key frames. */
void sfu_transport_on_connected(sfu_transport_t *t);
void sfu_transport_on_disconnected(sfu_transport_t *t);
void sfu_transport_account_sent(sfu_transport_t *t, size_t len, bool rtp);

/* RTCP to the remote end (copied into scratch, then ops). */
void sfu_transport_send_rtcp(sfu_transport_t *t, const uint8_t *buf, size_t len);
/* A consumer's RTP packet (what its listener's send_rtp does): the
 * transport-wide sequence number, congestion control, counters, then ops. */
void sfu__transport_send_consumer_rtp(sfu_transport_t *t, sfu_consumer_t *c, sfu_rtp_packet_t *pkt, bool is_rtx);

/* Common dump (FBS.Transport.Dump) and stats (FBS.Transport.Stats). */
fb_ref_t sfu_transport_dump_base(sfu_transport_t *t, fb_builder_t *b);
fb_ref_t sfu_transport_stats_base(sfu_transport_t *t, fb_builder_t *b);

uint64_t sfu_now_ms(const sfu_transport_t *t);

#endif
