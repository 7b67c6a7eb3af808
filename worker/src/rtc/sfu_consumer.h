/* Consumer: sends one producer's stream to one transport with its own SSRC,
 * payload type and header extension ids, continuous sequence numbers and
 * timestamps across pauses and layer switches, key frame gating for video,
 * NACK answered from the retransmission buffer (RTX when negotiated), sender
 * reports, and PLI/FIR turned into key frame requests to the producer.
 *
 * What differs per type (simple, simulcast, svc, pipe: mediasoup's
 * SimpleConsumer, SimulcastConsumer, SvcConsumer, PipeConsumer) is behind an
 * ops table, one file per type (sfu_consumer_ops.h). A consumer talks to its
 * parent (the transport) only through its listener, and builds the packets
 * it sends in the buffer its parent gave it. The router links it to its
 * producer (producer_link) and sets c->producer; only the router unlinks it. */
#ifndef SFU_CONSUMER_H
#define SFU_CONSUMER_H

#include <stdbool.h>
#include <stdint.h>

#include "sfu_ctx.h"
#include "sfu_fbcopy.h"
#include "sfu_producer.h"
#include "sfu_rtcp.h"
#include "sfu_rtcp_feedback.h"
#include "sfu_rtp_packet.h"
#include "sfu_rtp_params.h"
#include "sfu_rtp_stream.h"
#include "sfu_seq_map.h"
#include "sfu_vpx_layers.h"

typedef struct sfu_consumer_ops sfu_consumer_ops_t;

/* A pipe consumer sends every encoding of its producer as its own stream
 * (mediasoup 3.27's pipe consumer): a send stream, sequence numbers and key
 * frame sync per encoding. Lane 0's stream is c->stream. */
typedef struct sfu_pipe_lane {
  sfu_rtp_stream_t *stream; /* &c->stream for lane 0, &own otherwise */
  sfu_rtp_stream_t own;
  sfu_seq_map_t seq_map;
  bool sync_required;
  uint16_t rtx_seq;
} sfu_pipe_lane_t;

/* What a consumer tells its parent (filled in by the transport that creates it). */
typedef struct sfu_consumer_listener {
  /* One RTP packet to send (RTX when is_rtx), usually built in the parent's
   * send buffer. The parent sets the transport-wide sequence number
   * (c->twcc_ext_id) and may modify the buffer (SRTP). */
  void (*send_rtp)(void *arg, sfu_consumer_t *c, sfu_rtp_packet_t *pkt, bool is_rtx);
  /* Its producer closed (Node was told): the parent must unlink and close c. */
  void (*on_producer_closed)(void *arg, sfu_consumer_t *c);
  /* What it wants to send changed (resumed, preferred layers, priority):
   * the parent may allocate bandwidth again. May be NULL. */
  void (*on_need_bitrate_change)(void *arg, sfu_consumer_t *c);
  /* Whether a retransmission of len bytes may go out now (the parent keeps
   * them within its send-side estimate). May be NULL: always. */
  bool (*may_retransmit)(void *arg, sfu_consumer_t *c, size_t len);
} sfu_consumer_listener_t;

struct sfu_consumer {
  sfu_ctx_t *ctx;
  const sfu_consumer_ops_t *ops;
  const sfu_consumer_listener_t *listener;
  void *listener_arg;
  uint8_t *send_buf; /* the parent's buffer packets are built in */
  size_t send_cap;
  sfu_producer_t *producer; /* NULL once the producer closed */
  sfu_handler_t handler;
  sfu_hnode_t transport_node;
  sfu_list_t transport_link;
  sfu_list_t producer_link;
  char *id;
  size_t id_len;
  char *producer_id;
  sfu_media_kind_t kind;
  sfu_rtp_type_t type;
  sfu_fbcopy_t request; /* our copy of the ConsumeRequest */
  sfu_rtp_params_t params;
  const sfu_rtp_codec_t *codec;     /* the media codec sent */
  const sfu_rtp_codec_t *rtx_codec; /* NULL without RTX */
  uint8_t ext_map[256];             /* internal id -> our negotiated id (0: drop) */
  uint8_t src_ext_map[256];         /* the producer's original id -> our id (0: drop) */
  uint8_t mid_ext_id, abs_send_time_ext_id, twcc_ext_id;
  uint32_t source_ssrc; /* the producer's mapped SSRC we forward (simple/svc; simulcast: the current layer's) */
  /* simulcast / svc / pipe */
  size_t nsources;
  uint32_t source_ssrcs[SFU_RTP_MAX_ENCODINGS]; /* consumable encodings' mapped SSRCs */
  uint8_t spatial_layers, temporal_layers;
  int16_t preferred_spatial, preferred_temporal; /* -1: none */
  int16_t target_spatial, current_spatial;
  int16_t target_temporal;      /* -1: all (the current one is vpx.current_temporal) */
  int16_t notified_spatial, notified_temporal; /* what LAYERS_CHANGE last said */
  sfu_vpx_layers_t vpx;         /* temporal/SVC layer dropping (layered types) */
  /* bandwidth allocation (sfu_consumer_increase_layer) */
  bool bwe_managed;             /* the parent allocates: target layers follow it */
  int16_t provisional_spatial;  /* during an allocation */
  int16_t provisional_temporal;
  bool provisional_allocated;   /* flat types: took their bitrate this allocation */
  uint64_t layer_down_ms, layer_up_ms; /* last allocation switch down / up */
  uint32_t layer_hold_ms;       /* no switch up this long after a switch down */
  uint32_t layer_share;         /* the bitrate it was offered in the last allocation */
  uint32_t layer_down_share;    /* ... when it last switched down */
  uint64_t layer_up_since_ms;   /* since when a switch up has looked possible, 0: it does not */
  bool layer_up_possible;       /* during an allocation */
  sfu_rtp_stream_t stream;
  bool paused, producer_paused;
  bool transport_connected;
  bool ignore_dtx;
  uint8_t priority;
  uint8_t trace_types;
  /* rewriting */
  bool sync_required, keyframe_required;
  bool started;
  sfu_seq_map_t seq_map; /* our sequence numbers: continuous across drops and switches */
  uint32_t ts_offset;
  uint32_t max_out_ts;
  uint64_t max_out_ts_ms;
  uint16_t rtx_seq;
  uint16_t probe_cursor; /* how far back the next probe copies from */
  /* video: the first packet of the last key frame sent (our numbers, its
   * RTP timestamp, when); NACKs for anything before it are not answered */
  bool nack_floor_set;
  uint16_t nack_floor;
  uint32_t nack_floor_ts;
  uint64_t nack_floor_ms;
  sfu_pipe_lane_t *lanes; /* pipe consumers: one per encoding (nlanes), else NULL */
  size_t nlanes;
  bool closed;
  sfu_closing_t closing;
};

/* From a verified FBS.Transport.ConsumeRequest and its producer; send_buf
 * (send_cap bytes) is where outgoing packets are built. */
int sfu_consumer_create(sfu_ctx_t *ctx, const sfu_consumer_listener_t *listener, void *listener_arg, uint8_t *send_buf,
                        size_t send_cap, sfu_producer_t *producer, fb_table_t req, sfu_consumer_t **out, char *err,
                        size_t err_len);
/* Unregisters it; freed after the loop turn. Its parent and the router unlinked it first. */
void sfu_consumer_close(sfu_consumer_t *c);

/* A packet from the producer (already in router form); buffer must not be modified. */
void sfu_consumer_send_rtp(sfu_consumer_t *c, const sfu_rtp_packet_t *pkt, uint64_t now_ms);
void sfu_consumer_producer_paused(sfu_consumer_t *c, bool paused);
/* The router unlinked it from its closed producer: tells Node, then the parent. */
void sfu_consumer_producer_closed(sfu_consumer_t *c);
/* Its producer's scores changed: a score notification (mediasoup's consumers report producerScore(s)). */
void sfu_consumer_producer_score(sfu_consumer_t *c);
void sfu_consumer_transport_connected(sfu_consumer_t *c, uint64_t now_ms);
void sfu_consumer_transport_disconnected(sfu_consumer_t *c);

/* RTCP from the remote receiver about our SSRC. */
void sfu_consumer_on_rr(sfu_consumer_t *c, const sfu_rtcp_rb_t *rb, uint64_t now_ms);
void sfu_consumer_on_nack(sfu_consumer_t *c, const sfu_rtcp_nack_t *nack, uint64_t now_ms);
/* PLI or FIR from the receiver about one of our SSRCs. */
void sfu_consumer_on_key_frame_request(sfu_consumer_t *c, uint32_t ssrc, bool fir, uint64_t now_ms);
/* Appends SR + SDES for this consumer to w (if it sent anything). */
void sfu_consumer_write_sr(sfu_consumer_t *c, sfu_rtcp_writer_t *w, uint64_t now_ms);

bool sfu_consumer_has_ssrc(const sfu_consumer_t *c, uint32_t ssrc);
/* Its send streams (one, or one per encoding for a pipe consumer): up to max into out, returns the count. */
size_t sfu_consumer_streams(sfu_consumer_t *c, sfu_rtp_stream_t **out, size_t max);
/* ConsumerLayers of the preferred layers (simulcast/svc), 0 for the others. */
fb_ref_t sfu_consumer_build_preferred_layers(const sfu_consumer_t *c, fb_builder_t *b);
/* Bandwidth allocation, mediasoup's Transport::DistributeAvailableOutgoingBitrate
 * protocol: the parent calls start_allocation() on every consumer, then
 * increase_layer() in rounds (higher priority first, base = true in the
 * first round) subtracting what each returns from what is left, until a
 * round changes nothing; then apply_layers(). increase_layer() returns the
 * extra bitrate the next layer up (never above the preferred layers) needs,
 * 0 when there is none or it does not fit; in the base round a layered
 * consumer takes its lowest flowing layer even if it does not fit, so video
 * keeps going. desired_bitrate(): what it would send unconstrained. */
void sfu_consumer_start_allocation(sfu_consumer_t *c);
/* From now on its layers follow the allocation (layered types only). */
void sfu_consumer_set_bwe_managed(sfu_consumer_t *c);
uint32_t sfu_consumer_increase_layer(sfu_consumer_t *c, uint32_t bitrate, bool base, uint64_t now_ms);
void sfu_consumer_apply_layers(sfu_consumer_t *c, uint64_t now_ms);
uint32_t sfu_consumer_desired_bitrate(sfu_consumer_t *c, uint64_t now_ms);

/* A bandwidth probe, built in the send buffer: an RTX copy of one of the
 * last packets sent (libwebrtc's payload padding), or a padding-only RTX
 * packet of about 280 bytes when none fits within max_len. 0 and *pkt
 * (send it as RTX), SFU_ENOTSUP (no RTX), SFU_ESTATE (inactive). */
int sfu_consumer_build_probe(sfu_consumer_t *c, size_t max_len, uint64_t now_ms, sfu_rtp_packet_t *pkt);

/* FBS.Consumer.ConsumerScore (the ConsumeResponse carries one). */
fb_ref_t sfu_consumer_build_score(sfu_consumer_t *c, fb_builder_t *b);

#endif
