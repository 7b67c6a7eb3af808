#include "sfu_stun.h"

#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "sfu_error.h"

/* ---- byte helpers (big endian, byte by byte) ---- */

static inline uint16_t sfu__rd16(const uint8_t *p) { return (uint16_t)(((unsigned)p[0] << 8) | p[1]); }

static inline uint32_t sfu__rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline uint64_t sfu__rd64(const uint8_t *p) { return ((uint64_t)sfu__rd32(p) << 32) | sfu__rd32(p + 4); }

static inline void sfu__wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static inline void sfu__wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static const uint8_t sfu__cookie[4] = {0x21, 0x12, 0xA4, 0x42};

/* ---- CRC-32 (reflected 0xEDB88320) ---- */

static const uint32_t sfu__crc_table[256] = {
  0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu,
  0xe963a535u, 0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u,
  0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u,
  0xf3b97148u, 0x84be41deu, 0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u,
  0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu, 0x14015c4fu, 0x63066cd9u,
  0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u,
  0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
  0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u,
  0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u,
  0xcfba9599u, 0xb8bda50fu, 0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u,
  0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du, 0x76dc4190u, 0x01db7106u,
  0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
  0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu, 0x086d3d2du,
  0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
  0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u,
  0x8bbeb8eau, 0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u,
  0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u,
  0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u,
  0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u, 0x5005713cu, 0x270241aau,
  0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
  0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
  0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au,
  0xead54739u, 0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u,
  0x0d6d6a3eu, 0x7a6a5aa8u, 0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
  0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu, 0xf762575du, 0x806567cbu,
  0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u, 0x10da7a5au, 0x67dd4accu,
  0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u, 0xa1d1937eu,
  0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
  0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u,
  0x316e8eefu, 0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
  0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u,
  0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u, 0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du,
  0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au, 0x9c0906a9u, 0xeb0e363fu,
  0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u,
  0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
  0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
  0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u,
  0x616bffd3u, 0x166ccf45u, 0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u,
  0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu,
  0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
  0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u, 0xcdd70693u,
  0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
  0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t sfu_stun_crc32(const uint8_t *p, size_t len) {
  uint32_t c = 0xFFFFFFFFu;
  size_t i;
  for (i = 0; i < len; i++) c = sfu__crc_table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

/* ---- HMAC-SHA1 (RFC 2104) over two pieces, on EVP digests ----
 * The message is hashed as a 20-byte header copy (with the adjusted length
 * field) followed by the attributes in place, so nothing is copied. */

#define SFU__SHA1_BLOCK 64
#define SFU__SHA1_LEN 20

static int sfu__hmac_sha1_2(const char *key, size_t key_len, const uint8_t *a, size_t a_len, const uint8_t *b,
                            size_t b_len, uint8_t out[SFU__SHA1_LEN]) {
  uint8_t k0[SFU__SHA1_BLOCK], pad[SFU__SHA1_BLOCK], inner[SFU__SHA1_LEN];
  unsigned int n;
  size_t i;
  int r = SFU_ECRYPTO;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();

  if (ctx == NULL) return SFU_ENOMEM;
  memset(k0, 0, sizeof(k0));
  if (key_len > SFU__SHA1_BLOCK) {
    if (EVP_Digest(key, key_len, k0, &n, EVP_sha1(), NULL) != 1) goto done;
  } else if (key_len > 0) {
    memcpy(k0, key, key_len);
  }

  for (i = 0; i < SFU__SHA1_BLOCK; i++) pad[i] = (uint8_t)(k0[i] ^ 0x36);
  if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 || EVP_DigestUpdate(ctx, pad, sizeof(pad)) != 1 ||
      EVP_DigestUpdate(ctx, a, a_len) != 1 || (b_len > 0 && EVP_DigestUpdate(ctx, b, b_len) != 1) ||
      EVP_DigestFinal_ex(ctx, inner, &n) != 1)
    goto done;

  for (i = 0; i < SFU__SHA1_BLOCK; i++) pad[i] = (uint8_t)(k0[i] ^ 0x5c);
  if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 || EVP_DigestUpdate(ctx, pad, sizeof(pad)) != 1 ||
      EVP_DigestUpdate(ctx, inner, sizeof(inner)) != 1 || EVP_DigestFinal_ex(ctx, out, &n) != 1)
    goto done;
  r = 0;

done:
  OPENSSL_cleanse(k0, sizeof(k0));
  OPENSSL_cleanse(pad, sizeof(pad));
  EVP_MD_CTX_free(ctx);
  return r;
}

/* HMAC of p[0 .. mi_off) with the length field set to cover MESSAGE-INTEGRITY. */
static int sfu__integrity(const uint8_t *p, size_t mi_off, const char *key, size_t key_len,
                          uint8_t out[SFU__SHA1_LEN]) {
  uint8_t hdr[SFU_STUN_HEADER_LEN];
  memcpy(hdr, p, sizeof(hdr));
  sfu__wr16(hdr + 2, (uint16_t)(mi_off + 4 + SFU_STUN_INTEGRITY_LEN - SFU_STUN_HEADER_LEN));
  return sfu__hmac_sha1_2(key, key_len, hdr, sizeof(hdr), p + SFU_STUN_HEADER_LEN, mi_off - SFU_STUN_HEADER_LEN,
                          out);
}

/* ---- parsing ---- */

bool sfu_stun_is_stun(const uint8_t *p, size_t len) {
  return len >= SFU_STUN_HEADER_LEN && p[0] <= 3 && p[4] == sfu__cookie[0] && p[5] == sfu__cookie[1] &&
         p[6] == sfu__cookie[2] && p[7] == sfu__cookie[3];
}

/* Marks `bit` present; false if it already was (a repeated attribute). */
static inline bool sfu__once(sfu_stun_msg_t *m, uint32_t bit) {
  if ((m->has & bit) != 0) return false;
  m->has |= bit;
  return true;
}

/* One known attribute; v = value, vlen its unpadded length, off = offset of
 * the attribute header in the message. 0 or SFU_EPROTO. */
static int sfu__parse_attr(sfu_stun_msg_t *m, uint16_t type, const uint8_t *v, uint16_t vlen, size_t off) {
  switch (type) {
    case SFU_STUN_ATTR_USERNAME:
      if (vlen > SFU_STUN_USERNAME_MAX || !sfu__once(m, SFU_STUN_HAS_USERNAME)) return SFU_EPROTO;
      m->username = v;
      m->username_len = vlen;
      break;
    case SFU_STUN_ATTR_PRIORITY:
      if (vlen != 4 || !sfu__once(m, SFU_STUN_HAS_PRIORITY)) return SFU_EPROTO;
      m->priority = sfu__rd32(v);
      break;
    case SFU_STUN_ATTR_ICE_CONTROLLED:
      if (vlen != 8 || !sfu__once(m, SFU_STUN_HAS_ICE_CONTROLLED)) return SFU_EPROTO;
      m->ice_controlled = sfu__rd64(v);
      break;
    case SFU_STUN_ATTR_ICE_CONTROLLING:
      if (vlen != 8 || !sfu__once(m, SFU_STUN_HAS_ICE_CONTROLLING)) return SFU_EPROTO;
      m->ice_controlling = sfu__rd64(v);
      break;
    case SFU_STUN_ATTR_USE_CANDIDATE:
      if (vlen != 0 || !sfu__once(m, SFU_STUN_HAS_USE_CANDIDATE)) return SFU_EPROTO;
      break;
    case SFU_STUN_ATTR_NOMINATION:
      if (vlen != 4 || !sfu__once(m, SFU_STUN_HAS_NOMINATION)) return SFU_EPROTO;
      m->nomination = sfu__rd32(v); /* wins over 0xC001 */
      break;
    case SFU_STUN_ATTR_NOMINATION_OLD:
      if (vlen != 4 || !sfu__once(m, SFU_STUN_HAS_NOMINATION_OLD)) return SFU_EPROTO;
      if ((m->has & SFU_STUN_HAS_NOMINATION) == 0) m->nomination = sfu__rd32(v);
      break;
    case SFU_STUN_ATTR_SOFTWARE:
      if (vlen > SFU_STUN_SOFTWARE_MAX || !sfu__once(m, SFU_STUN_HAS_SOFTWARE)) return SFU_EPROTO;
      m->software = v;
      m->software_len = vlen;
      break;
    case SFU_STUN_ATTR_XOR_MAPPED_ADDRESS:
      if ((vlen != 8 && vlen != 20) || !sfu__once(m, SFU_STUN_HAS_XOR_MAPPED_ADDRESS)) return SFU_EPROTO;
      m->xor_mapped = v;
      m->xor_mapped_len = vlen;
      break;
    case SFU_STUN_ATTR_ERROR_CODE:
      if (vlen < 4 || !sfu__once(m, SFU_STUN_HAS_ERROR_CODE)) return SFU_EPROTO;
      m->error_code = (uint16_t)((v[2] & 0x07) * 100 + v[3]);
      m->error_reason = v + 4;
      m->error_reason_len = (uint16_t)(vlen - 4);
      break;
    case SFU_STUN_ATTR_MESSAGE_INTEGRITY:
      if (vlen != SFU_STUN_INTEGRITY_LEN || !sfu__once(m, SFU_STUN_HAS_INTEGRITY)) return SFU_EPROTO;
      m->integrity = v;
      m->integrity_offset = off;
      break;
    case SFU_STUN_ATTR_FINGERPRINT:
      if (vlen != 4 || !sfu__once(m, SFU_STUN_HAS_FINGERPRINT)) return SFU_EPROTO;
      m->fingerprint = sfu__rd32(v);
      m->fingerprint_offset = off;
      break;
    default:
      break; /* unknown: skipped (comprehension-required ones too, as mediasoup) */
  }
  return 0;
}

int sfu_stun_parse(sfu_stun_msg_t *m, const uint8_t *p, size_t len) {
  uint16_t type;
  size_t off;

  memset(m, 0, sizeof(*m));
  if (!sfu_stun_is_stun(p, len)) return SFU_EPROTO;

  type = sfu__rd16(p);
  m->klass = (sfu_stun_class_t)(((type >> 7) & 0x2) | ((type >> 4) & 0x1));
  m->method = (uint16_t)((type & 0x000F) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0F80));
  m->length = sfu__rd16(p + 2);
  if ((m->length & 3) != 0 || (size_t)m->length != len - SFU_STUN_HEADER_LEN) return SFU_EPROTO;
  memcpy(m->tid, p + 8, SFU_STUN_TID_LEN);

  off = SFU_STUN_HEADER_LEN;
  while (off < len) {
    uint16_t atype, alen;
    size_t padded;

    if (len - off < 4) return SFU_EPROTO;
    atype = sfu__rd16(p + off);
    alen = sfu__rd16(p + off + 2);
    padded = ((size_t)alen + 3) & ~(size_t)3;
    if (len - off - 4 < padded) return SFU_EPROTO; /* value or its padding past the end */
    if ((m->has & SFU_STUN_HAS_FINGERPRINT) != 0) return SFU_EPROTO;
    if ((m->has & SFU_STUN_HAS_INTEGRITY) != 0 && atype != SFU_STUN_ATTR_FINGERPRINT) return SFU_EPROTO;
    if (sfu__parse_attr(m, atype, p + off + 4, alen, off) != 0) return SFU_EPROTO;
    off += 4 + padded;
  }
  return 0;
}

int sfu_stun_local_ufrag(const sfu_stun_msg_t *m, const uint8_t **ufrag, size_t *ufrag_len) {
  const uint8_t *colon;
  if ((m->has & SFU_STUN_HAS_USERNAME) == 0) return SFU_ENOTFOUND;
  colon = m->username_len > 0 ? memchr(m->username, ':', m->username_len) : NULL;
  *ufrag = m->username;
  *ufrag_len = colon != NULL ? (size_t)(colon - m->username) : m->username_len;
  return 0;
}

int sfu_stun_check_integrity(const sfu_stun_msg_t *m, const uint8_t *p, size_t len, const char *key,
                             size_t key_len) {
  uint8_t mac[SFU__SHA1_LEN];
  int r;

  if ((m->has & SFU_STUN_HAS_INTEGRITY) == 0) return SFU_ENOTFOUND;
  /* m must describe p: the attribute and what precedes it lie inside. */
  if (m->integrity_offset < SFU_STUN_HEADER_LEN || m->integrity_offset + 4 + SFU_STUN_INTEGRITY_LEN > len)
    return SFU_EINVAL;
  if ((r = sfu__integrity(p, m->integrity_offset, key, key_len, mac)) != 0) return r;
  r = CRYPTO_memcmp(mac, p + m->integrity_offset + 4, SFU_STUN_INTEGRITY_LEN) == 0 ? 0 : SFU_EPROTO;
  OPENSSL_cleanse(mac, sizeof(mac));
  return r;
}

bool sfu_stun_check_fingerprint(const sfu_stun_msg_t *m, const uint8_t *p, size_t len) {
  if ((m->has & SFU_STUN_HAS_FINGERPRINT) == 0) return false;
  if (m->fingerprint_offset < SFU_STUN_HEADER_LEN || m->fingerprint_offset + 8 > len) return false;
  return (sfu_stun_crc32(p, m->fingerprint_offset) ^ SFU_STUN_FINGERPRINT_XOR) == m->fingerprint;
}

int sfu_stun_xor_mapped_address(const sfu_stun_msg_t *m, struct sockaddr_storage *out) {
  const uint8_t *v = m->xor_mapped;
  uint8_t port[2];
  int i;

  memset(out, 0, sizeof(*out));
  if ((m->has & SFU_STUN_HAS_XOR_MAPPED_ADDRESS) == 0) return SFU_ENOTFOUND;
  port[0] = (uint8_t)(v[2] ^ sfu__cookie[0]);
  port[1] = (uint8_t)(v[3] ^ sfu__cookie[1]);
  if (v[1] == 0x01 && m->xor_mapped_len == 8) {
    struct sockaddr_in *a = (struct sockaddr_in *)out;
    uint8_t *ip = (uint8_t *)&a->sin_addr;
    a->sin_family = AF_INET;
    memcpy(&a->sin_port, port, 2);
    for (i = 0; i < 4; i++) ip[i] = (uint8_t)(v[4 + i] ^ sfu__cookie[i]);
    return 0;
  }
  if (v[1] == 0x02 && m->xor_mapped_len == 20) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
    a->sin6_family = AF_INET6;
    memcpy(&a->sin6_port, port, 2);
    for (i = 0; i < 4; i++) a->sin6_addr.s6_addr[i] = (uint8_t)(v[4 + i] ^ sfu__cookie[i]);
    for (i = 0; i < SFU_STUN_TID_LEN; i++) a->sin6_addr.s6_addr[4 + i] = (uint8_t)(v[8 + i] ^ m->tid[i]);
    return 0;
  }
  return SFU_EPROTO;
}

/* ---- building ---- */

static inline bool sfu__w_ok(const sfu_stun_writer_t *w) { return w->err == 0; }

/* Reserves an attribute of value length vlen; returns where the value goes, or NULL (error set). */
static uint8_t *sfu__w_attr(sfu_stun_writer_t *w, uint16_t type, size_t vlen) {
  size_t padded = (vlen + 3) & ~(size_t)3;
  uint8_t *a;

  if (!sfu__w_ok(w)) return NULL;
  if (vlen > 0xFFFF) {
    w->err = SFU_EINVAL;
    return NULL;
  }
  if (w->has_fingerprint || (w->has_integrity && type != SFU_STUN_ATTR_FINGERPRINT)) {
    w->err = SFU_ESTATE;
    return NULL;
  }
  if (w->len - SFU_STUN_HEADER_LEN + 4 + padded > 0xFFFF) {
    w->err = SFU_ETOOBIG; /* beyond what the length field can say */
    return NULL;
  }
  if (w->cap - w->len < 4 + padded) {
    w->err = SFU_ETOOBIG;
    return NULL;
  }
  a = w->p + w->len;
  sfu__wr16(a, type);
  sfu__wr16(a + 2, (uint16_t)vlen);
  memset(a + 4 + vlen, 0, padded - vlen);
  w->len += 4 + padded;
  sfu__wr16(w->p + 2, (uint16_t)(w->len - SFU_STUN_HEADER_LEN));
  return a + 4;
}

void sfu_stun_writer_init(sfu_stun_writer_t *w, uint8_t *out, size_t cap, sfu_stun_class_t klass, uint16_t method,
                          const uint8_t tid[SFU_STUN_TID_LEN]) {
  uint16_t type;

  memset(w, 0, sizeof(*w));
  w->p = out;
  w->cap = cap;
  if (method > 0x0FFF || (unsigned)klass > 3) {
    w->err = SFU_EINVAL;
    return;
  }
  if (cap < SFU_STUN_HEADER_LEN) {
    w->err = SFU_ETOOBIG;
    return;
  }
  type = (uint16_t)((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                    (((unsigned)klass & 0x1) << 4) | (((unsigned)klass & 0x2) << 7));
  sfu__wr16(out, type);
  sfu__wr16(out + 2, 0);
  memcpy(out + 4, sfu__cookie, 4);
  if (tid != NULL) {
    memcpy(out + 8, tid, SFU_STUN_TID_LEN);
  } else if (RAND_bytes(out + 8, SFU_STUN_TID_LEN) != 1) {
    w->err = SFU_ECRYPTO;
    return;
  }
  w->len = SFU_STUN_HEADER_LEN;
}

void sfu_stun_writer_add(sfu_stun_writer_t *w, uint16_t type, const void *value, size_t len) {
  uint8_t *v;
  if (sfu__w_ok(w) && len > 0 && value == NULL) {
    w->err = SFU_EINVAL;
    return;
  }
  if ((v = sfu__w_attr(w, type, len)) != NULL && len > 0) memcpy(v, value, len);
}

void sfu_stun_writer_add_u32(sfu_stun_writer_t *w, uint16_t type, uint32_t x) {
  uint8_t *v = sfu__w_attr(w, type, 4);
  if (v != NULL) sfu__wr32(v, x);
}

void sfu_stun_writer_add_u64(sfu_stun_writer_t *w, uint16_t type, uint64_t x) {
  uint8_t *v = sfu__w_attr(w, type, 8);
  if (v != NULL) {
    sfu__wr32(v, (uint32_t)(x >> 32));
    sfu__wr32(v + 4, (uint32_t)x);
  }
}

void sfu_stun_writer_add_xor_mapped_address(sfu_stun_writer_t *w, const struct sockaddr *sa) {
  uint8_t *v;
  int i;

  if (!sfu__w_ok(w)) return;
  if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
    w->err = SFU_EINVAL;
    return;
  }
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    const uint8_t *port = (const uint8_t *)&a->sin_port, *ip = (const uint8_t *)&a->sin_addr;
    if ((v = sfu__w_attr(w, SFU_STUN_ATTR_XOR_MAPPED_ADDRESS, 8)) == NULL) return;
    v[0] = 0;
    v[1] = 0x01;
    v[2] = (uint8_t)(port[0] ^ sfu__cookie[0]);
    v[3] = (uint8_t)(port[1] ^ sfu__cookie[1]);
    for (i = 0; i < 4; i++) v[4 + i] = (uint8_t)(ip[i] ^ sfu__cookie[i]);
  } else {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
    const uint8_t *port = (const uint8_t *)&a->sin6_port, *ip = a->sin6_addr.s6_addr;
    const uint8_t *tid = w->p + 8;
    if ((v = sfu__w_attr(w, SFU_STUN_ATTR_XOR_MAPPED_ADDRESS, 20)) == NULL) return;
    v[0] = 0;
    v[1] = 0x02;
    v[2] = (uint8_t)(port[0] ^ sfu__cookie[0]);
    v[3] = (uint8_t)(port[1] ^ sfu__cookie[1]);
    for (i = 0; i < 4; i++) v[4 + i] = (uint8_t)(ip[i] ^ sfu__cookie[i]);
    for (i = 0; i < SFU_STUN_TID_LEN; i++) v[8 + i] = (uint8_t)(ip[4 + i] ^ tid[i]);
  }
}

void sfu_stun_writer_add_error_code(sfu_stun_writer_t *w, uint16_t code, const char *reason, size_t reason_len) {
  uint8_t *v;
  if (!sfu__w_ok(w)) return;
  if (code < 300 || code > 699 || reason_len > SFU_STUN_REASON_MAX || (reason == NULL && reason_len > 0)) {
    w->err = SFU_EINVAL;
    return;
  }
  if ((v = sfu__w_attr(w, SFU_STUN_ATTR_ERROR_CODE, 4 + reason_len)) == NULL) return;
  v[0] = 0;
  v[1] = 0;
  v[2] = (uint8_t)(code / 100);
  v[3] = (uint8_t)(code % 100);
  if (reason_len > 0) memcpy(v + 4, reason, reason_len);
}

void sfu_stun_writer_add_integrity(sfu_stun_writer_t *w, const char *key, size_t key_len) {
  size_t mi_off = w->len;
  uint8_t *v;
  int r;

  if (sfu__w_ok(w) && key == NULL && key_len > 0) {
    w->err = SFU_EINVAL;
    return;
  }
  /* Reserve first: the length field then already covers MESSAGE-INTEGRITY,
   * which is what the HMAC input needs. */
  if ((v = sfu__w_attr(w, SFU_STUN_ATTR_MESSAGE_INTEGRITY, SFU_STUN_INTEGRITY_LEN)) == NULL) return;
  if ((r = sfu__integrity(w->p, mi_off, key, key_len, v)) != 0) {
    w->err = r;
    return;
  }
  w->has_integrity = true;
}

void sfu_stun_writer_add_fingerprint(sfu_stun_writer_t *w) {
  size_t fp_off = w->len;
  uint8_t *v = sfu__w_attr(w, SFU_STUN_ATTR_FINGERPRINT, 4);
  if (v == NULL) return;
  sfu__wr32(v, sfu_stun_crc32(w->p, fp_off) ^ SFU_STUN_FINGERPRINT_XOR);
  w->has_fingerprint = true;
}

int sfu_stun_writer_finish(const sfu_stun_writer_t *w) { return w->err != 0 ? w->err : (int)w->len; }

int sfu_stun_build_success(uint8_t *out, size_t cap, const sfu_stun_msg_t *req, const struct sockaddr *mapped,
                           const char *key, size_t key_len) {
  sfu_stun_writer_t w;
  sfu_stun_writer_init(&w, out, cap, SFU_STUN_SUCCESS_RESPONSE, req->method, req->tid);
  sfu_stun_writer_add_xor_mapped_address(&w, mapped);
  sfu_stun_writer_add_integrity(&w, key, key_len);
  sfu_stun_writer_add_fingerprint(&w);
  return sfu_stun_writer_finish(&w);
}

int sfu_stun_build_error(uint8_t *out, size_t cap, const sfu_stun_msg_t *req, uint16_t code, const char *reason) {
  sfu_stun_writer_t w;
  sfu_stun_writer_init(&w, out, cap, SFU_STUN_ERROR_RESPONSE, req->method, req->tid);
  sfu_stun_writer_add_error_code(&w, code, reason, reason != NULL ? strlen(reason) : 0);
  sfu_stun_writer_add_fingerprint(&w);
  return sfu_stun_writer_finish(&w);
}
