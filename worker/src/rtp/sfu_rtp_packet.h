/* RTP packet view (RFC 3550) over a mutable buffer, with RFC 8285 header
 * extensions and the payload-descriptor helpers the SFU needs to spot key
 * frames (VP8 RFC 7741, VP9 RFC 9628, H264 RFC 6184).
 *
 * sfu_rtp_parse() checks every length and indexes the packet; nothing is
 * copied. The packet is rewritten in place when forwarded: the setters write
 * big-endian into the buffer and keep the parsed fields in step, and the
 * extension rewriters move the payload when the header changes size, within
 * the buffer capacity given to sfu_rtp_parse(). Treat every field below as
 * read-only and change the packet through the functions only.
 *
 * Offsets, not pointers, are stored, so a packet copied into another buffer
 * (sfu_rtp_copy) stays valid. Packets are at most 64 KiB - 1 (UDP and RFC
 * 4571 framing cannot carry more). */
#ifndef SFU_RTP_PACKET_H
#define SFU_RTP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFU_RTP_HEADER_LEN 12u
#define SFU_RTP_MAX_LEN 65535u
/* A buffer that builds one outgoing RTP/RTCP packet: MTU + SRTP tag + RTX headroom. */
#define SFU_SEND_BUF 2048
/* Elements indexed per packet; a packet with more is rejected (SFU_EPROTO). */
#define SFU_RTP_MAX_EXTENSIONS 32u
/* RFC 8285 profiles ("defined by profile" field). */
#define SFU_RTP_EXT_PROFILE_ONE_BYTE 0xBEDEu
#define SFU_RTP_EXT_PROFILE_TWO_BYTE 0x1000u /* low 4 bits: appbits */

typedef enum sfu_rtp_ext_form {
  SFU_RTP_EXT_NONE = 0,     /* X bit clear */
  SFU_RTP_EXT_ONE_BYTE = 1, /* 0xBEDE: ids 1..14, lengths 1..16 */
  SFU_RTP_EXT_TWO_BYTE = 2, /* 0x100X: ids 1..255, lengths 0..255 */
  SFU_RTP_EXT_OTHER = 3     /* RFC 3550 extension of another profile: no elements */
} sfu_rtp_ext_form_t;

/* One indexed extension element. */
typedef struct sfu_rtp_ext {
  uint8_t id;
  uint8_t len;  /* value length */
  uint16_t off; /* value offset from buf */
} sfu_rtp_ext_t;

/* An element to write (sfu_rtp_set_extensions). `value` may point anywhere,
 * including into the packet being rewritten. */
typedef struct sfu_rtp_ext_value {
  uint8_t id;
  uint8_t len;
  const uint8_t *value;
} sfu_rtp_ext_value_t;

typedef struct sfu_rtp_packet {
  uint8_t *buf;
  size_t len; /* whole packet, padding included */
  size_t cap; /* usable buffer size (>= len, at most SFU_RTP_MAX_LEN) */

  bool marker;
  uint8_t payload_type;
  uint16_t seq;
  uint32_t timestamp;
  uint32_t ssrc;
  uint8_t csrc_count;

  size_t header_len;   /* fixed header + CSRCs + extension block = payload offset */
  size_t payload_len;  /* without padding */
  uint8_t padding_len; /* 0 when the P bit is clear, else 1..255 */

  size_t ext_off;       /* offset of the 4-byte extension header (profile, length); 0: none */
  size_t ext_len;       /* extension data bytes after that header (a multiple of 4) */
  uint16_t ext_profile; /* valid when ext_off != 0 */
  uint8_t ext_form;     /* sfu_rtp_ext_form_t */
  uint8_t ext_count;
  sfu_rtp_ext_t exts[SFU_RTP_MAX_EXTENSIONS]; /* in packet order */
} sfu_rtp_packet_t;

/* RFC 7983 + RFC 5761 demultiplexing: first byte 128..191 and at least a
 * fixed header; the second byte & 0x7f outside 64..95 (else it is RTCP). */
bool sfu_rtp_is_rtp(const uint8_t *p, size_t len);

/* Parses `len` bytes of `buf` (capacity `cap` >= len). 0, or SFU_EPROTO for
 * anything malformed: version != 2, header/CSRC/extension past the end,
 * truncated or too many (> SFU_RTP_MAX_EXTENSIONS) extension elements, P bit
 * with a padding count of 0 or larger than the payload, len > 64 KiB - 1.
 * SFU_EINVAL if cap < len. One-byte elements with id 0 are padding (one byte,
 * whatever their length nibble, as libwebrtc does); id 15 ends the list. */
int sfu_rtp_parse(sfu_rtp_packet_t *pkt, uint8_t *buf, size_t len, size_t cap);

/* Copies src's bytes into buf (capacity cap) and makes dst a view of them.
 * 0 or SFU_ETOOBIG. */
int sfu_rtp_copy(sfu_rtp_packet_t *dst, uint8_t *buf, size_t cap, const sfu_rtp_packet_t *src);

static inline uint8_t *sfu_rtp_payload(const sfu_rtp_packet_t *pkt) { return pkt->buf + pkt->header_len; }

/* CSRC i (< csrc_count). */
uint32_t sfu_rtp_csrc(const sfu_rtp_packet_t *pkt, size_t i);

void sfu_rtp_set_marker(sfu_rtp_packet_t *pkt, bool marker);
void sfu_rtp_set_payload_type(sfu_rtp_packet_t *pkt, uint8_t pt); /* pt & 0x7f */
void sfu_rtp_set_sequence_number(sfu_rtp_packet_t *pkt, uint16_t seq);
void sfu_rtp_set_timestamp(sfu_rtp_packet_t *pkt, uint32_t ts);
void sfu_rtp_set_ssrc(sfu_rtp_packet_t *pkt, uint32_t ssrc);
/* Drops the padding bytes and clears the P bit. */
void sfu_rtp_remove_padding(sfu_rtp_packet_t *pkt);

/* ---- header extensions ---- */

/* The first element with this id: its value and length, or NULL. */
const uint8_t *sfu_rtp_get_extension(const sfu_rtp_packet_t *pkt, uint8_t id, size_t *len);

/* Replaces the whole extension block with `exts` in that order (id 0 entries
 * are skipped, a repeated id keeps its first occurrence). One-byte form when
 * every id is <= 14 and every length 1..16, else two-byte; zero padding to a
 * multiple of 4; no elements: the block is removed and the X bit cleared.
 * The payload and padding move when the header size changes. 0, SFU_ERANGE
 * (more than SFU_RTP_MAX_EXTENSIONS elements) or SFU_ETOOBIG (the packet
 * would exceed cap); on error the packet is unchanged. */
int sfu_rtp_set_extensions(sfu_rtp_packet_t *pkt, const sfu_rtp_ext_value_t *exts, size_t n);

/* Renumbers the elements through map (old id -> new id, 0 = drop), keeping
 * their order, and rebuilds the block as sfu_rtp_set_extensions does. An
 * extension of an unknown profile is dropped. */
int sfu_rtp_map_extensions(sfu_rtp_packet_t *pkt, const uint8_t map[256]);

/* Sets the value of element `id`: in place when the element exists and the
 * new value is not longer (the rest is zeroed into padding; one-byte form
 * needs len >= 1), else by rebuilding the block (the element is appended if
 * absent; a block of another profile is replaced). Reserving room (e.g. 8
 * zero bytes for the MID) and shrinking later is the cheap way to rewrite.
 * 0, SFU_EINVAL (id 0, len > 255), SFU_ERANGE, SFU_ETOOBIG. */
int sfu_rtp_set_extension_value(sfu_rtp_packet_t *pkt, uint8_t id, const uint8_t *value, size_t len);

/* Removes element `id` (rebuilding the block). 0, SFU_ENOTFOUND, SFU_ETOOBIG. */
int sfu_rtp_remove_extension(sfu_rtp_packet_t *pkt, uint8_t id);

/* Readers of the common extensions, given the id negotiated for them; false
 * when absent or malformed. */
/* urn:ietf:params:rtp-hdrext:sdes:mid, ...:rtp-stream-id, ...:repaired-rtp-stream-id:
 * the string without trailing NUL bytes, non-empty. Not NUL-terminated. */
bool sfu_rtp_read_string(const sfu_rtp_packet_t *pkt, uint8_t id, const char **s, size_t *len);
/* urn:ietf:params:rtp-hdrext:ssrc-audio-level (RFC 6464): level 0..127 (-dBov), voice flag. */
bool sfu_rtp_read_audio_level(const sfu_rtp_packet_t *pkt, uint8_t id, uint8_t *level, bool *voice);
/* http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time: 24-bit 6.18 seconds. */
bool sfu_rtp_read_abs_send_time(const sfu_rtp_packet_t *pkt, uint8_t id, uint32_t *v);
/* Overwrites an existing 3-byte abs-send-time value; false if absent. */
bool sfu_rtp_write_abs_send_time(sfu_rtp_packet_t *pkt, uint8_t id, uint32_t v);
/* abs-send-time value for a time in milliseconds. */
uint32_t sfu_rtp_abs_send_time_from_ms(uint64_t ms);
/* draft-holmer-rmcat-transport-wide-cc-extensions-01: 16-bit sequence number. */
bool sfu_rtp_read_twcc_seq(const sfu_rtp_packet_t *pkt, uint8_t id, uint16_t *seq);
bool sfu_rtp_write_twcc_seq(sfu_rtp_packet_t *pkt, uint8_t id, uint16_t seq);
/* urn:3gpp:video-orientation (CVO): camera (back = true), flip, rotation 0/90/180/270. */
bool sfu_rtp_read_video_orientation(const sfu_rtp_packet_t *pkt, uint8_t id, bool *camera, bool *flip,
                                    uint16_t *rotation);

/* ---- payload: key frames and layer information ---- */

typedef enum sfu_codec {
  SFU_CODEC_OPUS = 0,
  SFU_CODEC_VP8,
  SFU_CODEC_VP9,
  SFU_CODEC_H264,
  SFU_CODEC_OTHER
} sfu_codec_t;

/* True when the packet starts a key frame the receiver can decode from:
 * VP8: S bit, partition 0 and a clear P (inverse key frame) bit in the VP8
 * payload header; VP9: B bit, P bit clear, spatial layer 0; H264: an SPS (7)
 * or IDR slice (5) as a single NAL unit, inside a STAP-A/STAP-B, or starting
 * an FU-A/FU-B. Audio and other codecs: false (never wait for key frames).
 * Malformed descriptors: false. */
bool sfu_rtp_is_keyframe(const sfu_rtp_packet_t *pkt, sfu_codec_t codec);
bool sfu_rtp_payload_is_keyframe(const uint8_t *p, size_t len, sfu_codec_t codec);

/* VP8 payload descriptor (RFC 7741 section 4.2). */
typedef struct sfu_rtp_vp8_desc {
  size_t len; /* descriptor bytes before the VP8 payload */
  bool non_reference;
  bool start;
  uint8_t partition;
  bool has_picture_id;
  bool picture_id_15bit;
  uint16_t picture_id;
  bool has_tl0picidx;
  uint8_t tl0picidx;
  bool has_tid; /* T bit */
  uint8_t tid;
  bool layer_sync; /* Y bit */
  bool has_keyidx; /* K bit */
  uint8_t keyidx;
  bool keyframe;
  size_t pid_off, tl0_off; /* where picture id and TL0PICIDX are (0: absent), for rewriting */
} sfu_rtp_vp8_desc_t;

/* 0 or SFU_EPROTO. */
int sfu_rtp_vp8_parse(const uint8_t *p, size_t len, sfu_rtp_vp8_desc_t *d);

/* VP9 payload descriptor (RFC 9628 section 4.2), scalability structure
 * validated and skipped. */
typedef struct sfu_rtp_vp9_desc {
  size_t len;
  bool inter_picture;  /* P */
  bool flexible;       /* F */
  bool begin_frame;    /* B */
  bool end_frame;      /* E */
  bool has_ss;         /* V */
  bool not_ref;        /* Z */
  bool has_picture_id; /* I */
  bool picture_id_15bit;
  uint16_t picture_id;
  bool has_layer; /* L */
  uint8_t tid;
  bool switching_up; /* U */
  uint8_t sid;
  bool inter_layer; /* D */
  bool has_tl0picidx;
  uint8_t tl0picidx;
  bool keyframe;
  size_t pid_off, tl0_off; /* where picture id and TL0PICIDX are (0: absent), for rewriting */
} sfu_rtp_vp9_desc_t;

/* 0 or SFU_EPROTO. */
int sfu_rtp_vp9_parse(const uint8_t *p, size_t len, sfu_rtp_vp9_desc_t *d);

/* Rewrites a parsed VP8/VP9 descriptor's picture id (keeping its 7- or
 * 15-bit width; the value is masked to it) and TL0PICIDX in place, where
 * present. */
void sfu_rtp_vpx_write_picture_id(uint8_t *p, size_t pid_off, bool is_15bit, uint16_t pid);
void sfu_rtp_vpx_write_tl0picidx(uint8_t *p, size_t tl0_off, uint8_t tl0);

#endif
