/* STUN messages (RFC 5389 / RFC 8489) as ICE uses them (RFC 8445): a parser
 * that checks every length and keeps views of the attributes ICE reads, the
 * short-term credential checks (MESSAGE-INTEGRITY, HMAC-SHA1) and FINGERPRINT
 * (CRC-32), and a writer that builds messages into a caller buffer.
 *
 * Pure functions: no allocation, no libuv, no state. OpenSSL only for the
 * HMAC.
 *
 * The parser takes one whole message: a UDP datagram or one RFC 4571 frame of
 * a TCP stream, so a message shorter than its length field says is invalid
 * (there is no "incomplete" for datagrams). Rules (mediasoup 3.27.1 keeps the
 * same ones, so both accept and reject the same packets):
 *   - first byte 0..3, at least 20 bytes, magic cookie 0x2112A442;
 *   - the message length field is a multiple of 4 and equals len - 20;
 *   - every attribute fits, and its 4-byte padding too (padding bytes are not
 *     checked: RFC 5769 pads with spaces);
 *   - nothing but FINGERPRINT after MESSAGE-INTEGRITY, nothing after
 *     FINGERPRINT;
 *   - the attributes we know have their RFC sizes (USERNAME <= 513 bytes,
 *     PRIORITY 4, ICE-CONTROLLED/ICE-CONTROLLING 8, USE-CANDIDATE 0,
 *     NOMINATION 4, XOR-MAPPED-ADDRESS 8 or 20, ERROR-CODE >= 4,
 *     MESSAGE-INTEGRITY 20, FINGERPRINT 4, SOFTWARE <= 763) and appear once;
 *   - other attributes are skipped.
 * The parser does not verify FINGERPRINT or MESSAGE-INTEGRITY: call
 * sfu_stun_check_fingerprint() and sfu_stun_check_integrity(). */
#ifndef SFU_STUN_H
#define SFU_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SFU_STUN_HEADER_LEN 20
#define SFU_STUN_TID_LEN 12
#define SFU_STUN_MAGIC_COOKIE 0x2112A442u
#define SFU_STUN_FINGERPRINT_XOR 0x5354554eu
#define SFU_STUN_INTEGRITY_LEN 20
#define SFU_STUN_USERNAME_MAX 513
#define SFU_STUN_SOFTWARE_MAX 763
#define SFU_STUN_REASON_MAX 763 /* RFC 8489 14.8: 128 characters, at most 763 bytes */

#define SFU_STUN_METHOD_BINDING 0x001

typedef enum sfu_stun_class {
  SFU_STUN_REQUEST = 0,
  SFU_STUN_INDICATION = 1,
  SFU_STUN_SUCCESS_RESPONSE = 2,
  SFU_STUN_ERROR_RESPONSE = 3
} sfu_stun_class_t;

/* Attribute types. */
enum {
  SFU_STUN_ATTR_MAPPED_ADDRESS = 0x0001,
  SFU_STUN_ATTR_USERNAME = 0x0006,
  SFU_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
  SFU_STUN_ATTR_ERROR_CODE = 0x0009,
  SFU_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
  SFU_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
  SFU_STUN_ATTR_PRIORITY = 0x0024,
  SFU_STUN_ATTR_USE_CANDIDATE = 0x0025,
  SFU_STUN_ATTR_NOMINATION = 0x0030, /* draft-thatcher-tsvwg-renomination */
  SFU_STUN_ATTR_SOFTWARE = 0x8022,
  SFU_STUN_ATTR_FINGERPRINT = 0x8028,
  SFU_STUN_ATTR_ICE_CONTROLLED = 0x8029,
  SFU_STUN_ATTR_ICE_CONTROLLING = 0x802A,
  SFU_STUN_ATTR_NOMINATION_OLD = 0xC001 /* libwebrtc's value */
};

/* sfu_stun_msg_t.has bits. */
#define SFU_STUN_HAS_USERNAME (1u << 0)
#define SFU_STUN_HAS_INTEGRITY (1u << 1)
#define SFU_STUN_HAS_FINGERPRINT (1u << 2)
#define SFU_STUN_HAS_PRIORITY (1u << 3)
#define SFU_STUN_HAS_USE_CANDIDATE (1u << 4)
#define SFU_STUN_HAS_ICE_CONTROLLED (1u << 5)
#define SFU_STUN_HAS_ICE_CONTROLLING (1u << 6)
#define SFU_STUN_HAS_XOR_MAPPED_ADDRESS (1u << 7)
#define SFU_STUN_HAS_ERROR_CODE (1u << 8)
#define SFU_STUN_HAS_NOMINATION (1u << 9)     /* 0x0030 */
#define SFU_STUN_HAS_NOMINATION_OLD (1u << 10) /* 0xC001 */
#define SFU_STUN_HAS_SOFTWARE (1u << 11)

/* A parsed message. Pointers are views into the parsed buffer. */
typedef struct sfu_stun_msg {
  sfu_stun_class_t klass;
  uint16_t method; /* 12 bits */
  uint16_t length; /* message length field: bytes of attributes after the header */
  uint8_t tid[SFU_STUN_TID_LEN];
  uint32_t has; /* SFU_STUN_HAS_* */
  const uint8_t *username;
  uint16_t username_len;
  uint32_t priority;
  uint64_t ice_controlled;  /* tie-breaker */
  uint64_t ice_controlling; /* tie-breaker */
  uint32_t nomination;      /* NOMINATION (0x0030), else NOMINATION (0xC001) */
  uint16_t error_code;      /* class * 100 + number */
  const uint8_t *error_reason;
  uint16_t error_reason_len;
  const uint8_t *software;
  uint16_t software_len;
  const uint8_t *xor_mapped; /* raw value: 8 or 20 bytes; see sfu_stun_xor_mapped_address() */
  uint16_t xor_mapped_len;
  size_t integrity_offset; /* offset of MESSAGE-INTEGRITY's type field from the message start */
  const uint8_t *integrity; /* 20 bytes */
  size_t fingerprint_offset; /* offset of FINGERPRINT's type field from the message start */
  uint32_t fingerprint;
} sfu_stun_msg_t;

/* RFC 7983 demultiplexing: first byte 0..3, at least 20 bytes, magic cookie. */
bool sfu_stun_is_stun(const uint8_t *p, size_t len);

/* Parses one whole message. 0 or SFU_EPROTO (m is then unspecified). */
int sfu_stun_parse(sfu_stun_msg_t *m, const uint8_t *p, size_t len);

/* All of `bits` (SFU_STUN_HAS_*) present. */
static inline bool sfu_stun_has(const sfu_stun_msg_t *m, uint32_t bits) { return (m->has & bits) == bits; }
/* Either NOMINATION attribute (0x0030 or 0xC001). */
static inline bool sfu_stun_has_nomination(const sfu_stun_msg_t *m) {
  return (m->has & (SFU_STUN_HAS_NOMINATION | SFU_STUN_HAS_NOMINATION_OLD)) != 0;
}

/* The part of USERNAME before the first ':' (the whole USERNAME if there is no
 * ':'), i.e. the receiver's ufrag in an ICE check; what a WebRtcServer keys
 * its transports with. 0, or SFU_ENOTFOUND without USERNAME. */
int sfu_stun_local_ufrag(const sfu_stun_msg_t *m, const uint8_t **ufrag, size_t *ufrag_len);

/* Checks MESSAGE-INTEGRITY (HMAC-SHA1 over the message up to the attribute,
 * with the length field counting up to the end of MESSAGE-INTEGRITY, RFC 8489
 * 14.5) with a short-term credential key (the ICE password). p/len: the
 * message m was parsed from. 0: valid; SFU_ENOTFOUND: no MESSAGE-INTEGRITY;
 * SFU_EPROTO: mismatch; SFU_ECRYPTO/SFU_ENOMEM: OpenSSL failed; SFU_EINVAL:
 * m does not describe p/len. Constant-time compare. */
int sfu_stun_check_integrity(const sfu_stun_msg_t *m, const uint8_t *p, size_t len, const char *key,
                             size_t key_len);

/* True if FINGERPRINT is present and equals CRC-32 (ISO-HDLC) of the message
 * up to it, XOR 0x5354554e. */
bool sfu_stun_check_fingerprint(const sfu_stun_msg_t *m, const uint8_t *p, size_t len);

/* Decodes XOR-MAPPED-ADDRESS into out (sockaddr_in or sockaddr_in6, port and
 * address in network order as usual). 0, SFU_ENOTFOUND, or SFU_EPROTO for an
 * unknown family or a family/length mismatch. */
int sfu_stun_xor_mapped_address(const sfu_stun_msg_t *m, struct sockaddr_storage *out);

/* CRC-32 as FINGERPRINT uses it (reflected, polynomial 0xEDB88320, init and
 * final XOR 0xFFFFFFFF; the zlib/Ethernet CRC). */
uint32_t sfu_stun_crc32(const uint8_t *p, size_t len);

/* ---- building ----
 * A writer appends attributes to a message in a caller buffer, keeping the
 * length field up to date. Errors are sticky: the first one (SFU_ETOOBIG when
 * the buffer is too small, SFU_EINVAL for a bad argument, SFU_ESTATE for an
 * attribute after FINGERPRINT or a non-FINGERPRINT one after
 * MESSAGE-INTEGRITY, SFU_ECRYPTO) makes every later call a no-op and
 * sfu_stun_writer_finish() returns it. */
typedef struct sfu_stun_writer {
  uint8_t *p;
  size_t cap;
  size_t len;
  int err;
  bool has_integrity;
  bool has_fingerprint;
} sfu_stun_writer_t;

/* Writes the header. method <= 0xFFF. tid NULL: a random transaction id. */
void sfu_stun_writer_init(sfu_stun_writer_t *w, uint8_t *out, size_t cap, sfu_stun_class_t klass, uint16_t method,
                          const uint8_t tid[SFU_STUN_TID_LEN]);
/* Any attribute; value may be NULL when len is 0; zero padding. */
void sfu_stun_writer_add(sfu_stun_writer_t *w, uint16_t type, const void *value, size_t len);
void sfu_stun_writer_add_u32(sfu_stun_writer_t *w, uint16_t type, uint32_t v);
void sfu_stun_writer_add_u64(sfu_stun_writer_t *w, uint16_t type, uint64_t v);
/* AF_INET or AF_INET6 (anything else: SFU_EINVAL). */
void sfu_stun_writer_add_xor_mapped_address(sfu_stun_writer_t *w, const struct sockaddr *sa);
/* code 300..699; reason: UTF-8, at most SFU_STUN_REASON_MAX bytes. */
void sfu_stun_writer_add_error_code(sfu_stun_writer_t *w, uint16_t code, const char *reason, size_t reason_len);
void sfu_stun_writer_add_integrity(sfu_stun_writer_t *w, const char *key, size_t key_len);
void sfu_stun_writer_add_fingerprint(sfu_stun_writer_t *w);
/* The message length, or the first error. */
int sfu_stun_writer_finish(const sfu_stun_writer_t *w);

/* Success response to a request (same method and transaction id) with
 * XOR-MAPPED-ADDRESS(mapped), MESSAGE-INTEGRITY (key, e.g. our ICE password)
 * and FINGERPRINT. The length, or SFU_ETOOBIG / SFU_EINVAL. */
int sfu_stun_build_success(uint8_t *out, size_t cap, const sfu_stun_msg_t *req, const struct sockaddr *mapped,
                           const char *key, size_t key_len);
/* Error response to a request with ERROR-CODE(code, reason) and FINGERPRINT
 * (no MESSAGE-INTEGRITY, as mediasoup). reason: NUL-terminated. The length, or
 * SFU_ETOOBIG / SFU_EINVAL. */
int sfu_stun_build_error(uint8_t *out, size_t cap, const sfu_stun_msg_t *req, uint16_t code, const char *reason);

#endif
