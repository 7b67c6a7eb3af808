/* RtpParameters as the media path uses them, read from a verified
 * FBS.RtpParameters.RtpParameters table. Strings point into that table's
 * buffer (keep it alive: objects keep an sfu_fbcopy_t of their request). */
#ifndef SFU_RTP_PARAMS_H
#define SFU_RTP_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fb.h"

#define SFU_RTP_MAX_CODECS 32
#define SFU_RTP_MAX_ENCODINGS 8
#define SFU_RTP_EXT_COUNT 12 /* FBS.RtpParameters.RtpHeaderExtensionUri values */

typedef enum sfu_media_kind { SFU_KIND_AUDIO = 0, SFU_KIND_VIDEO = 1 } sfu_media_kind_t; /* = FBS MediaKind */

typedef enum sfu_codec_id {
  SFU_CID_OTHER = 0,
  SFU_CID_OPUS,
  SFU_CID_MULTIOPUS,
  SFU_CID_PCMU,
  SFU_CID_PCMA,
  SFU_CID_G722,
  SFU_CID_VP8,
  SFU_CID_VP9,
  SFU_CID_H264,
  SFU_CID_H265,
  SFU_CID_AV1,
  SFU_CID_RTX,
  SFU_CID_RED,
  SFU_CID_ULPFEC,
  SFU_CID_FLEXFEC
} sfu_codec_id_t;

enum {
  SFU_RTCP_FB_NACK = 1u << 0,
  SFU_RTCP_FB_NACK_PLI = 1u << 1,
  SFU_RTCP_FB_CCM_FIR = 1u << 2,
  SFU_RTCP_FB_TRANSPORT_CC = 1u << 3,
  SFU_RTCP_FB_GOOG_REMB = 1u << 4
};

typedef struct sfu_rtp_codec {
  uint8_t payload_type;
  sfu_codec_id_t id;
  fb_str_t mime_type;
  uint32_t clock_rate;
  uint8_t channels; /* 0 when absent */
  uint32_t rtcp_fb; /* SFU_RTCP_FB_* */
  bool has_apt;     /* RTX: associated payload type */
  uint8_t apt;
  bool useinbandfec;
  bool usedtx;
  int32_t packetization_mode; /* H264, -1 when absent */
  fb_table_t table;           /* the FBS table, for dumps */
} sfu_rtp_codec_t;

typedef struct sfu_rtp_encoding {
  bool has_ssrc;
  uint32_t ssrc;
  fb_str_t rid; /* ptr NULL when absent */
  bool has_codec_pt;
  uint8_t codec_pt;
  bool has_rtx;
  uint32_t rtx_ssrc;
  bool dtx;
  uint8_t spatial_layers; /* from scalability_mode ("L2T3" -> 2, 3); 1, 1 when absent */
  uint8_t temporal_layers;
  bool ksvc;
  uint64_t max_bitrate;
} sfu_rtp_encoding_t;

typedef struct sfu_rtp_params {
  fb_str_t mid;
  size_t ncodecs;
  sfu_rtp_codec_t codecs[SFU_RTP_MAX_CODECS];
  uint8_t ext_id[SFU_RTP_EXT_COUNT]; /* by URI enum value; 0 = not negotiated */
  size_t nencodings;
  sfu_rtp_encoding_t encodings[SFU_RTP_MAX_ENCODINGS];
  fb_str_t cname;
  bool reduced_size;
} sfu_rtp_params_t;

/* 0, or SFU_EINVAL with a reason (too many codecs/encodings, bad scalability mode...). */
int sfu_rtp_params_parse(sfu_rtp_params_t *p, fb_table_t t, char *err, size_t err_len);
/* Parses one encoding table (also used for consumable encodings). */
int sfu_rtp_encoding_parse(sfu_rtp_encoding_t *e, fb_table_t t, char *err, size_t err_len);

sfu_codec_id_t sfu_codec_from_mime(const char *mime, size_t len);
/* mediasoup's spelling of a known MIME type ("video/H264"), or NULL. */
const char *sfu_canonical_mime(const char *mime, size_t len);
const sfu_rtp_codec_t *sfu_rtp_params_codec_by_pt(const sfu_rtp_params_t *p, uint8_t pt);
/* The RTX codec whose apt is `pt`, or NULL. */
const sfu_rtp_codec_t *sfu_rtp_params_rtx_for(const sfu_rtp_params_t *p, uint8_t pt);

/* "L1T3", "S3T3", "L3T3_KEY"...: spatial and temporal layer counts. 0 or SFU_EINVAL. */
int sfu_parse_scalability_mode(const char *s, size_t len, uint8_t *spatial, uint8_t *temporal, bool *ksvc);

/* Rebuilds an RtpParameters table for dumps: codecs, header extensions, rtcp
 * and msid copied from `orig`, encodings from `params` (with the codec
 * payload type mediasoup fills in). */
fb_ref_t sfu_rtp_parameters_build(fb_builder_t *b, fb_table_t orig, const sfu_rtp_params_t *params);
fb_ref_t sfu_rtp_encoding_build(fb_builder_t *b, fb_table_t orig, const sfu_rtp_encoding_t *e);

#endif
