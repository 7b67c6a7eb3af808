/* Dependency Descriptor RTP header extension reader (AV1 RTP specification,
 * appendix A; extmap URI
 * https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension).
 *
 * libwebrtc attaches it to AV1 and, when the encoder runs a scalability
 * structure (L1T2, L1T3, L3T3, ...), to VP9 and H264 as well. It is the only
 * place an H264 packet says which temporal layer its frame belongs to and
 * where frames begin and end, which the SFU needs to drop the temporal (and
 * spatial) layers above a consumer's target.
 *
 * A descriptor is a bit string. Every packet has the 3 mandatory bytes
 * (start/end of frame, template id, frame number); longer ones add flags, the
 * template dependency structure (on the first packet of a key frame), the
 * active decode targets and custom frame dependencies. Most packets carry the
 * 3 bytes only and name a template of the latest structure: the caller keeps
 * one sfu_rtp_dd_structure_t per RTP stream and passes it to every parse.
 *
 * Everything is in fixed-size arrays; nothing is allocated. */
#ifndef SFU_RTP_DD_H
#define SFU_RTP_DD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFU_RTP_DD_MIN_LEN 3u   /* mandatory fields */
#define SFU_RTP_DD_MAX_LEN 255u /* an RFC 8285 element holds at most 255 bytes */
#define SFU_RTP_DD_MAX_TEMPLATES 64u
#define SFU_RTP_DD_MAX_DECODE_TARGETS 32u /* dt_cnt_minus_one is 5 bits */
#define SFU_RTP_DD_MAX_CHAINS SFU_RTP_DD_MAX_DECODE_TARGETS
#define SFU_RTP_DD_MAX_SPATIAL_IDS 4u  /* AV1 spatial_id is 2 bits (libwebrtc's limit too) */
#define SFU_RTP_DD_MAX_TEMPORAL_IDS 8u /* AV1 temporal_id is 3 bits */
/* Frame diffs per template or per frame. The syntax has no limit; encoders
 * reference at most 8 buffers, so more than this is treated as malformed. */
#define SFU_RTP_DD_MAX_FDIFFS 16u

/* Decode Target Indication (table A.1). */
typedef enum sfu_rtp_dd_dti {
  SFU_RTP_DD_DTI_NOT_PRESENT = 0, /* '-' */
  SFU_RTP_DD_DTI_DISCARDABLE = 1, /* 'D' */
  SFU_RTP_DD_DTI_SWITCH = 2,      /* 'S' */
  SFU_RTP_DD_DTI_REQUIRED = 3     /* 'R' */
} sfu_rtp_dd_dti_t;

/* One frame dependency template. */
typedef struct sfu_rtp_dd_template {
  uint8_t spatial_id;
  uint8_t temporal_id;
  uint8_t fdiff_count;
  uint8_t fdiffs[SFU_RTP_DD_MAX_FDIFFS];              /* 1..16, fdiff_count of them */
  uint8_t dtis[SFU_RTP_DD_MAX_DECODE_TARGETS];        /* sfu_rtp_dd_dti_t, decode_target_count of them */
  uint8_t chain_diffs[SFU_RTP_DD_MAX_CHAINS];         /* 0..15, chain_count of them */
} sfu_rtp_dd_template_t;

typedef struct sfu_rtp_dd_resolution {
  uint32_t width;  /* max_render_width_minus_1 + 1: 1..65536 */
  uint32_t height;
} sfu_rtp_dd_resolution_t;

/* The template dependency structure of a stream. All zero (memset, or
 * `= {0}`) means "none known yet"; otherwise only sfu_rtp_dd_parse() fills
 * it. Templates come ordered by (spatial_id, temporal_id), as the syntax
 * codes them. */
typedef struct sfu_rtp_dd_structure {
  uint8_t template_id_offset;  /* template id of templates[0]: 0..63 */
  uint8_t template_count;      /* 0 (none yet) or 1..64 */
  uint8_t decode_target_count; /* 1..32 */
  uint8_t chain_count;         /* 0..decode_target_count */
  uint8_t max_spatial_id;      /* of the templates: < SFU_RTP_DD_MAX_SPATIAL_IDS */
  uint8_t max_temporal_id;     /* < SFU_RTP_DD_MAX_TEMPORAL_IDS */
  bool has_resolutions;
  /* per decode target: the chain that protects it (< chain_count; 0 when
   * chain_count is 0), and its spatial and temporal id (decode_target_layers(): the
   * highest ids of the templates that do not mark it not-present) */
  uint8_t decode_target_protected_by_chain[SFU_RTP_DD_MAX_DECODE_TARGETS];
  uint8_t decode_target_spatial_id[SFU_RTP_DD_MAX_DECODE_TARGETS];
  uint8_t decode_target_temporal_id[SFU_RTP_DD_MAX_DECODE_TARGETS];
  sfu_rtp_dd_resolution_t resolutions[SFU_RTP_DD_MAX_SPATIAL_IDS]; /* 0..max_spatial_id when has_resolutions */
  sfu_rtp_dd_template_t templates[SFU_RTP_DD_MAX_TEMPLATES];
} sfu_rtp_dd_structure_t;

/* One packet's descriptor, with its frame's dependency definition resolved:
 * the template's values, replaced by the custom ones where the packet has
 * them. Array entries past their count are 0. */
typedef struct sfu_rtp_dd {
  bool start_of_frame;
  bool end_of_frame;
  uint8_t template_id; /* frame_dependency_template_id as sent: 0..63 */
  uint16_t frame_number;

  bool has_structure; /* the packet carried a structure (now the stream's) */
  /* active_decode_targets_present_flag. The packet signals a set of active
   * decode targets when has_structure or active_decode_targets_present:
   * active_decode_targets holds it (all decode targets when only the
   * structure came; bit i = decode target i), else it is 0. A set is valid
   * until the next one in sequence number order (A.4): the caller keeps it. */
  bool active_decode_targets_present;
  uint32_t active_decode_targets;
  bool custom_dtis;
  bool custom_fdiffs;
  bool custom_chains;

  uint8_t template_index; /* into structure->templates */
  uint8_t spatial_id;
  uint8_t temporal_id;
  uint8_t fdiff_count;
  uint16_t fdiffs[SFU_RTP_DD_MAX_FDIFFS];       /* 1..4096: frame_number - fdiff is a referred frame */
  uint8_t dtis[SFU_RTP_DD_MAX_DECODE_TARGETS];  /* structure->decode_target_count of them */
  uint8_t chain_diffs[SFU_RTP_DD_MAX_CHAINS];   /* structure->chain_count of them: 0..255 */
  bool has_resolution;                          /* the structure's resolution for spatial_id */
  sfu_rtp_dd_resolution_t resolution;
} sfu_rtp_dd_t;

/* Parses the `len` bytes of one descriptor (the extension element's value).
 * `structure` is the stream's latest structure (zeroed if none yet); when the
 * packet carries a new one, it replaces *structure, and only if the whole
 * packet parses. Never reads past len; trailing bits are zero padding and
 * ignored.
 *
 * 0: *out is complete.
 * SFU_EPROTO: malformed: len outside 3..255, truncated anywhere, a structure
 *   past the limits above (more than 64 templates, spatial id > 3, temporal
 *   id > 7, more than SFU_RTP_DD_MAX_FDIFFS frame diffs), or a packet whose
 *   own structure has no template for its template id. *out is not usable.
 * SFU_ESTATE: the packet needs a structure the stream does not have: none
 *   known yet, or its template id outside the known structure's range (the
 *   packet with a newer structure was lost or is late; A.8.3). Only the
 *   mandatory fields of *out (start/end of frame, template id, frame number)
 *   are valid. The caller should ask for a key frame.
 * *structure is unchanged on any error. */
int sfu_rtp_dd_parse(const uint8_t *p, size_t len, sfu_rtp_dd_structure_t *structure, sfu_rtp_dd_t *out);

#endif
