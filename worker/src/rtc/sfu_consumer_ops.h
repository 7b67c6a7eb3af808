/* What differs between consumer types, and the helpers they share
 * (cross-file internals of sfu_consumer*.c). One file per type:
 *   sfu_simple_consumer.c     one stream as it is
 *   sfu_simulcast_consumer.c  one of the producer's encodings at a time, switching on key frames
 *   sfu_svc_consumer.c        one SVC stream
 *   sfu_pipe_consumer.c       every encoding as it is, to another router */
#ifndef SFU_CONSUMER_OPS_H
#define SFU_CONSUMER_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "sfu_consumer.h"

struct sfu_layer_source;

struct sfu_consumer_ops {
  const char *name;
  bool layered; /* has spatial/temporal layers: preferred layers, layerschange */
  /* A packet from the producer (router form, not to be modified). */
  void (*send_rtp)(sfu_consumer_t *c, const sfu_rtp_packet_t *pkt, uint64_t now_ms);
  /* Bandwidth allocation (mediasoup's Consumer BWE interface, see
   * sfu_consumer_increase_layer): what it would send unconstrained, the
   * next layer up within a bitrate, and committing the result. */
  uint32_t (*desired_bitrate)(sfu_consumer_t *c, uint64_t now_ms);
  uint32_t (*increase_layer)(sfu_consumer_t *c, uint32_t bitrate, bool base, uint64_t now_ms);
  void (*apply_layers)(sfu_consumer_t *c, uint64_t now_ms);
  /* Layered types: their layers and bitrates (sfu_layer_allocation.h). */
  const struct sfu_layer_source *layers;
  /* Optional, for types with several send streams (pipe): made after c->stream
   * (sp: its parameters), freed with the consumer; the send stream of an SSRC
   * (media or RTX, *lane its index), and a new sync point (transport
   * connected, resumed). */
  int (*init)(sfu_consumer_t *c, const sfu_rtp_stream_params_t *sp);
  void (*destroy)(sfu_consumer_t *c);
  sfu_rtp_stream_t *(*stream_for_ssrc)(sfu_consumer_t *c, uint32_t ssrc, size_t *lane);
  void (*resync)(sfu_consumer_t *c);
  void (*request_key_frame)(sfu_consumer_t *c, uint64_t now_ms);
};

extern const sfu_consumer_ops_t sfu__simple_consumer_ops;
extern const sfu_consumer_ops_t sfu__simulcast_consumer_ops;
extern const sfu_consumer_ops_t sfu__svc_consumer_ops;
extern const sfu_consumer_ops_t sfu__pipe_consumer_ops;

/* The producer's receive stream with this mapped SSRC, NULL when not active. */
sfu_rtp_stream_t *sfu__consumer_source_stream(const sfu_consumer_t *c, uint32_t mapped_ssrc);
/* Its receive bitrate (bps), 0 when it is not flowing. */
uint32_t sfu__consumer_source_bitrate(const sfu_consumer_t *c, uint32_t mapped_ssrc, uint64_t now_ms);
/* Bitrate of spatial layer s up to temporal layer t (t < 0: all) of a
 * layered consumer's source, 0 when it does not flow or c is not layered. */
uint32_t sfu__consumer_layer_bitrate(const sfu_consumer_t *c, int16_t s, int16_t t, uint64_t now_ms);
/* For types that take what they get (simple, svc, pipe): the source's bitrate once per allocation. */
uint32_t sfu__consumer_flat_desired(sfu_consumer_t *c, uint64_t now_ms);
uint32_t sfu__consumer_flat_increase(sfu_consumer_t *c, uint32_t bitrate, bool base, uint64_t now_ms);
void sfu__consumer_flat_apply(sfu_consumer_t *c, uint64_t now_ms);

/* Not paused, producer there and not paused, transport connected. */
bool sfu__consumer_active(const sfu_consumer_t *c);
/* Asks the producer for a key frame of the stream being forwarded (video only). */
void sfu__consumer_request_key_frame(sfu_consumer_t *c, uint64_t now_ms);
/* The temporal layer being forwarded (-1 while no spatial layer is). */
int16_t sfu__consumer_current_temporal(const sfu_consumer_t *c);
/* Drops a packet from the source without leaving a hole in our numbers. */
void sfu__consumer_skip(sfu_consumer_t *c, const sfu_rtp_packet_t *in);
/* LAYERS_CHANGE with the current layers (none when current_spatial < 0). */
void sfu__consumer_notify_layers(sfu_consumer_t *c);
/* The shared output path of simple, simulcast and svc consumers: key frame
 * gating after a sync point, sequence number / timestamp rewriting, our
 * SSRC and payload type, one rebuild of the header extensions, the
 * retransmission buffer, and the send through the listener. */
void sfu__consumer_forward(sfu_consumer_t *c, const sfu_rtp_packet_t *in, uint64_t now_ms);

/* Trace events (sfu_consumer_trace.c), each a no-op unless its type is enabled. */
void sfu__consumer_trace_rtp(sfu_consumer_t *c, const sfu_rtp_packet_t *pkt);
void sfu__consumer_trace_rtp_rtx(sfu_consumer_t *c, const sfu_rtp_packet_t *pkt, bool is_rtx);
void sfu__consumer_trace_nack(sfu_consumer_t *c);
void sfu__consumer_trace_key_frame_request(sfu_consumer_t *c, uint32_t ssrc, bool fir);

#endif
