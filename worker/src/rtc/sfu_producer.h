/* Producer: one incoming media source (audio or video track) on a transport.
 * It maps incoming packets to its encodings (by SSRC, RID or single encoding),
 * rewrites them to the router's payload types and SSRCs, and hands them to
 * its parent (the transport) through its listener; the router fans them out
 * to consumers. The producer knows nothing of transports or routers. */
#ifndef SFU_PRODUCER_H
#define SFU_PRODUCER_H

#include <stdbool.h>
#include <stdint.h>

#include "sfu_ctx.h"
#include "sfu_fbcopy.h"
#include "sfu_nack_generator.h"
#include "sfu_rtp_packet.h"
#include "sfu_rtp_params.h"
#include "sfu_rtp_stream.h"

typedef struct sfu_consumer sfu_consumer_t;
typedef struct sfu_producer sfu_producer_t;

/* What a producer tells its parent (filled in by the transport that creates it). */
typedef struct sfu_producer_listener {
  /* A media packet in router form (mapped payload type and SSRC, original
   * extension ids), not paused: to be fanned out. pkt is valid during the call. */
  void (*on_rtp)(void *arg, sfu_producer_t *p, const sfu_rtp_packet_t *pkt, uint64_t now_ms);
  void (*on_paused)(void *arg, sfu_producer_t *p, bool paused);
  /* RFC 6464 level (0..127, -dBov) of an audio packet, while RTP observers watch it. */
  void (*on_audio_level)(void *arg, sfu_producer_t *p, uint8_t level);
  /* RTCP for the remote sender (PLI/FIR). */
  void (*send_rtcp)(void *arg, sfu_producer_t *p, const uint8_t *buf, size_t len);
  /* A stream's score changed (its consumers report the producer's scores). May be NULL. */
  void (*on_score)(void *arg, sfu_producer_t *p);
  /* An RTP packet Node sent to it (PRODUCER_SEND, DirectTransport). May be NULL. */
  void (*on_send)(void *arg, sfu_producer_t *p, const uint8_t *data, size_t len);
} sfu_producer_listener_t;

/* Internal header extension ids: FBS RtpHeaderExtensionUri value + 1. */
#define SFU_EXT_INTERNAL(uri) ((uint8_t)((uri) + 1))

typedef enum sfu_rtp_type { SFU_RTP_SIMPLE = 0, SFU_RTP_SIMULCAST, SFU_RTP_SVC, SFU_RTP_PIPE } sfu_rtp_type_t;

typedef struct sfu_producer_encoding {
  uint32_t mapped_ssrc;
  bool has_ssrc; /* rtpMapping.encodings[i].ssrc */
  uint32_t ssrc;
  fb_str_t rid;
  bool stream_active;
  sfu_rtp_stream_t stream;
  sfu_nack_generator_t *nack; /* when the codec has NACK feedback */
  bool has_rtx_ssrc;          /* learned from a repaired RID when not signaled */
  uint32_t rtx_ssrc;
  uint64_t last_keyframe_request_ms;
  struct sfu_rtp_dd_structure *dd; /* the stream's Dependency Descriptor structure, once one came */
} sfu_producer_encoding_t;

struct sfu_producer {
  sfu_ctx_t *ctx;
  const sfu_producer_listener_t *listener;
  void *listener_arg;
  sfu_handler_t handler;
  sfu_hnode_t transport_node; /* transport's map by id */
  sfu_list_t transport_link;
  sfu_hnode_t router_node; /* router's map by id */
  char *id;
  size_t id_len;
  sfu_media_kind_t kind;
  sfu_rtp_type_t type;
  sfu_fbcopy_t request; /* our copy of the ProduceRequest */
  sfu_rtp_params_t params;
  uint8_t pt_map[128]; /* original payload type -> mapped (0xff: unknown) */
  uint8_t ext_map[256]; /* original ext id -> internal id (0: not forwarded); consumers apply it */
  uint8_t audio_level_ext_id; /* original id, 0 if none */
  uint8_t rid_ext_id, rrid_ext_id; /* original ids of RID / repaired RID, 0 if none */
  uint8_t dd_ext_id; /* original id of the Dependency Descriptor, 0 if none (read for H264 only) */
  size_t nencodings;
  sfu_producer_encoding_t encodings[SFU_RTP_MAX_ENCODINGS];
  bool paused;
  uint32_t key_frame_request_delay;
  uint8_t trace_types; /* bit per FBS.Producer.TraceEventType */
  sfu_list_t consumers; /* sfu_consumer_t.producer_link: maintained by the router */
  unsigned observer_count; /* RTP observers watching this producer */
  uv_timer_t *nack_timer;  /* SFU_NACK_TIMER_MS while NACKs wait; separate allocation */
  uv_timer_t *activity_timer; /* SFU_PRODUCER_ACTIVITY_CHECK_MS once media came; separate allocation */
  uint64_t packets_in;
  bool closed;
  bool scored;
  sfu_closing_t closing;
};

/* Creates from a verified FBS.Transport.ProduceRequest. 0 or SFU_EINVAL/SFU_ENOMEM with a reason. */
int sfu_producer_create(sfu_ctx_t *ctx, const sfu_producer_listener_t *listener, void *listener_arg, fb_table_t req,
                        sfu_producer_t **out, char *err, size_t err_len);
/* Unregisters it; freed after the loop turn. Its parent unlinked it and the
 * router closed its consumers first. */
void sfu_producer_close(sfu_producer_t *p);

/* What became of a packet given to sfu_producer_receive_rtp(). Lost
 * packets of streams with NACK feedback are asked for again (RFC 4585, as
 * mediasoup's NackGenerator does); a retransmission that repairs one is
 * restored and forwarded like the original. */
typedef enum sfu_producer_rtp_result {
  SFU_PRODUCER_RTP_MEDIA,     /* a media packet of one of its streams (forwarded unless paused) */
  SFU_PRODUCER_RTP_RTX,       /* a retransmission (RTX SSRC or repaired RID): forwarded if it repaired a loss */
  SFU_PRODUCER_RTP_DISCARDED, /* unknown stream, payload type or a packet the stream refused */
} sfu_producer_rtp_result_t;

/* A packet the transport's listener matched to this producer (mutable buffer). */
sfu_producer_rtp_result_t sfu_producer_receive_rtp(sfu_producer_t *p, sfu_rtp_packet_t *pkt, uint64_t now_ms);
void sfu_producer_receive_sr(sfu_producer_t *p, const sfu_rtcp_sr_t *sr, uint64_t now_ms);
/* Fills RR blocks for every active stream; returns how many (<= max). */
size_t sfu_producer_fill_rr(sfu_producer_t *p, sfu_rtcp_rb_t *rbs, size_t max, uint64_t now_ms);
/* RTP inactivity (mediasoup's RtpStreamRecv): a stream without RTP for
 * SFU_PRODUCER_INACTIVE_MS (SFU_PRODUCER_INACTIVE_DTX_MS when Opus DTX is on)
 * gets score 0, notified; its next packet sets it back to 10. Checked every
 * SFU_PRODUCER_ACTIVITY_CHECK_MS by the producer's timer; exposed for tests. */
#define SFU_PRODUCER_INACTIVE_MS 1500u
#define SFU_PRODUCER_INACTIVE_DTX_MS 5000u
#define SFU_PRODUCER_ACTIVITY_CHECK_MS 250u
void sfu_producer_check_activity(sfu_producer_t *p, uint64_t now_ms);

/* A consumer needs a key frame of the encoding with this mapped SSRC. */
void sfu_producer_request_key_frame(sfu_producer_t *p, uint32_t mapped_ssrc, uint64_t now_ms);

/* True if this producer owns that (original) SSRC, RTX SSRC included. */
bool sfu_producer_has_ssrc(const sfu_producer_t *p, uint32_t ssrc);

fb_ref_t sfu_producer_build_rtp_parameters(const sfu_producer_t *p, fb_builder_t *b);

/* Trace events (sfu_producer_trace.c), each a no-op unless its type is enabled. */
void sfu__producer_trace_rtp(sfu_producer_t *p, const sfu_rtp_packet_t *pkt, sfu_codec_t codec, bool is_rtx);
void sfu__producer_trace_key_frame_request(sfu_producer_t *p, uint32_t ssrc, bool fir);
void sfu__producer_trace_nack(sfu_producer_t *p);
void sfu__producer_trace_sr(sfu_producer_t *p, const sfu_rtcp_sr_t *sr);

/* The producer's codec kind for key frame detection. */
sfu_codec_t sfu_codec_for_keyframes(sfu_codec_id_t id);
/* Validates encodings against codecs (mediasoup's ValidateEncodings) and fills codec_pt. */
int sfu_rtp_params_validate_encodings(sfu_rtp_params_t *p, char *err, size_t err_len);

#endif
