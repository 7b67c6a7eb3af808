#include "sfu_rtp_packet.h"

#include <string.h>

#include "sfu_byte.h"
#include "sfu_error.h"

/* Largest extension data a rebuild can produce: SFU_RTP_MAX_EXTENSIONS
 * two-byte elements of 255 bytes, padded to 4. */
#define SFU__RTP_EXT_DATA_MAX (((SFU_RTP_MAX_EXTENSIONS * (2u + 255u)) + 3u) & ~3u)

bool sfu_rtp_is_rtp(const uint8_t *p, size_t len) {
  uint8_t pt;

  if (len < SFU_RTP_HEADER_LEN) return false;
  if (p[0] < 128 || p[0] > 191) return false;
  pt = p[1] & 0x7f;
  return pt < 64 || pt > 95;
}

/* Indexes the elements of the extension block described by ext_off/ext_len/
 * ext_profile. 0 or SFU_EPROTO. */
static int sfu__rtp_index_extensions(sfu_rtp_packet_t *pkt) {
  const uint8_t *b = pkt->buf;
  size_t pos, end, l;
  uint8_t id;

  pkt->ext_count = 0;
  if (pkt->ext_off == 0) {
    pkt->ext_form = SFU_RTP_EXT_NONE;
    return 0;
  }
  pos = pkt->ext_off + 4;
  end = pos + pkt->ext_len;

  if (pkt->ext_profile == SFU_RTP_EXT_PROFILE_ONE_BYTE) {
    pkt->ext_form = SFU_RTP_EXT_ONE_BYTE;
    while (pos < end) {
      id = b[pos] >> 4;
      if (id == 0) { /* padding */
        pos++;
        continue;
      }
      if (id == 15) break; /* reserved: stop processing (RFC 8285 4.2) */
      l = (size_t)(b[pos] & 0x0f) + 1;
      if (end - pos - 1 < l) return SFU_EPROTO;
      if (pkt->ext_count == SFU_RTP_MAX_EXTENSIONS) return SFU_EPROTO;
      pkt->exts[pkt->ext_count].id = id;
      pkt->exts[pkt->ext_count].len = (uint8_t)l;
      pkt->exts[pkt->ext_count].off = (uint16_t)(pos + 1);
      pkt->ext_count++;
      pos += 1 + l;
    }
  } else if ((pkt->ext_profile & 0xfff0u) == SFU_RTP_EXT_PROFILE_TWO_BYTE) {
    pkt->ext_form = SFU_RTP_EXT_TWO_BYTE;
    while (pos < end) {
      id = b[pos];
      if (id == 0) { /* padding */
        pos++;
        continue;
      }
      if (end - pos < 2) return SFU_EPROTO;
      l = b[pos + 1];
      if (end - pos - 2 < l) return SFU_EPROTO;
      if (pkt->ext_count == SFU_RTP_MAX_EXTENSIONS) return SFU_EPROTO;
      pkt->exts[pkt->ext_count].id = id;
      pkt->exts[pkt->ext_count].len = (uint8_t)l;
      pkt->exts[pkt->ext_count].off = (uint16_t)(pos + 2);
      pkt->ext_count++;
      pos += 2 + l;
    }
  } else {
    pkt->ext_form = SFU_RTP_EXT_OTHER;
  }
  return 0;
}

int sfu_rtp_parse(sfu_rtp_packet_t *pkt, uint8_t *buf, size_t len, size_t cap) {
  size_t pos, ext_len, rest;
  uint8_t pad;
  int err;

  if (cap < len) return SFU_EINVAL;
  memset(pkt, 0, offsetof(sfu_rtp_packet_t, exts));
  if (len < SFU_RTP_HEADER_LEN || len > SFU_RTP_MAX_LEN) return SFU_EPROTO;
  if ((buf[0] >> 6) != 2) return SFU_EPROTO;

  pkt->buf = buf;
  pkt->len = len;
  pkt->cap = cap > SFU_RTP_MAX_LEN ? SFU_RTP_MAX_LEN : cap;
  pkt->csrc_count = buf[0] & 0x0f;
  pkt->marker = (buf[1] & 0x80) != 0;
  pkt->payload_type = buf[1] & 0x7f;
  pkt->seq = sfu_rd16(buf + 2);
  pkt->timestamp = sfu_rd32(buf + 4);
  pkt->ssrc = sfu_rd32(buf + 8);

  pos = SFU_RTP_HEADER_LEN;
  if (len - pos < 4u * pkt->csrc_count) return SFU_EPROTO;
  pos += 4u * pkt->csrc_count;

  if (buf[0] & 0x10) {
    if (len - pos < 4) return SFU_EPROTO;
    ext_len = 4u * sfu_rd16(buf + pos + 2);
    if (len - pos - 4 < ext_len) return SFU_EPROTO;
    pkt->ext_off = pos;
    pkt->ext_len = ext_len;
    pkt->ext_profile = sfu_rd16(buf + pos);
    pos += 4 + ext_len;
  }
  if ((err = sfu__rtp_index_extensions(pkt)) != 0) return err;

  pkt->header_len = pos;
  rest = len - pos;
  if (buf[0] & 0x20) {
    if (rest == 0) return SFU_EPROTO;
    pad = buf[len - 1];
    if (pad == 0 || pad > rest) return SFU_EPROTO;
    pkt->padding_len = pad;
    rest -= pad;
  }
  pkt->payload_len = rest;
  return 0;
}

int sfu_rtp_copy(sfu_rtp_packet_t *dst, uint8_t *buf, size_t cap, const sfu_rtp_packet_t *src) {
  if (cap < src->len) return SFU_ETOOBIG;
  memmove(buf, src->buf, src->len);
  *dst = *src;
  dst->buf = buf;
  dst->cap = cap > SFU_RTP_MAX_LEN ? SFU_RTP_MAX_LEN : cap;
  return 0;
}

uint32_t sfu_rtp_csrc(const sfu_rtp_packet_t *pkt, size_t i) {
  if (i >= pkt->csrc_count) return 0;
  return sfu_rd32(pkt->buf + SFU_RTP_HEADER_LEN + 4 * i);
}

void sfu_rtp_set_marker(sfu_rtp_packet_t *pkt, bool marker) {
  pkt->marker = marker;
  if (marker)
    pkt->buf[1] |= 0x80;
  else
    pkt->buf[1] &= 0x7f;
}

void sfu_rtp_set_payload_type(sfu_rtp_packet_t *pkt, uint8_t pt) {
  pkt->payload_type = pt & 0x7f;
  pkt->buf[1] = (uint8_t)((pkt->buf[1] & 0x80) | pkt->payload_type);
}

void sfu_rtp_set_sequence_number(sfu_rtp_packet_t *pkt, uint16_t seq) {
  pkt->seq = seq;
  sfu_wr16(pkt->buf + 2, seq);
}

void sfu_rtp_set_timestamp(sfu_rtp_packet_t *pkt, uint32_t ts) {
  pkt->timestamp = ts;
  sfu_wr32(pkt->buf + 4, ts);
}

void sfu_rtp_set_ssrc(sfu_rtp_packet_t *pkt, uint32_t ssrc) {
  pkt->ssrc = ssrc;
  sfu_wr32(pkt->buf + 8, ssrc);
}

void sfu_rtp_remove_padding(sfu_rtp_packet_t *pkt) {
  pkt->len -= pkt->padding_len;
  pkt->padding_len = 0;
  pkt->buf[0] &= (uint8_t)~0x20;
}

/* ---- header extensions ---- */

static int sfu__rtp_find_ext(const sfu_rtp_packet_t *pkt, uint8_t id) {
  size_t i;

  if (id == 0) return -1;
  for (i = 0; i < pkt->ext_count; i++)
    if (pkt->exts[i].id == id) return (int)i;
  return -1;
}

const uint8_t *sfu_rtp_get_extension(const sfu_rtp_packet_t *pkt, uint8_t id, size_t *len) {
  int i = sfu__rtp_find_ext(pkt, id);

  if (i < 0) return NULL;
  if (len != NULL) *len = pkt->exts[i].len;
  return pkt->buf + pkt->exts[i].off;
}

int sfu_rtp_set_extensions(sfu_rtp_packet_t *pkt, const sfu_rtp_ext_value_t *exts, size_t n) {
  uint8_t tmp[4 + SFU__RTP_EXT_DATA_MAX];
  uint8_t seen[256 / 8];
  const sfu_rtp_ext_value_t *kept[SFU_RTP_MAX_EXTENSIONS];
  size_t i, count = 0, data_len = 0, pos, base, old_block, new_block, new_len, tail;
  bool one_byte = true;

  memset(seen, 0, sizeof(seen));
  for (i = 0; i < n; i++) {
    uint8_t id = exts[i].id;
    if (id == 0 || (seen[id >> 3] & (1u << (id & 7)))) continue;
    seen[id >> 3] |= (uint8_t)(1u << (id & 7));
    if (count == SFU_RTP_MAX_EXTENSIONS) return SFU_ERANGE;
    kept[count++] = &exts[i];
    if (id > 14 || exts[i].len == 0 || exts[i].len > 16) one_byte = false;
  }
  for (i = 0; i < count; i++) data_len += (one_byte ? 1u : 2u) + kept[i]->len;
  data_len = (data_len + 3u) & ~(size_t)3u;

  base = SFU_RTP_HEADER_LEN + 4u * pkt->csrc_count;
  old_block = pkt->ext_off != 0 ? 4 + pkt->ext_len : 0;
  new_block = count > 0 ? 4 + data_len : 0;
  new_len = pkt->len - old_block + new_block;
  if (new_len > pkt->cap) return SFU_ETOOBIG;

  /* Build the new block aside: values may point into the packet itself. */
  sfu_wr16(tmp, one_byte ? SFU_RTP_EXT_PROFILE_ONE_BYTE : SFU_RTP_EXT_PROFILE_TWO_BYTE);
  sfu_wr16(tmp + 2, (uint16_t)(data_len / 4));
  pos = 4;
  for (i = 0; i < count; i++) {
    if (one_byte) {
      tmp[pos++] = (uint8_t)((kept[i]->id << 4) | (kept[i]->len - 1));
    } else {
      tmp[pos++] = kept[i]->id;
      tmp[pos++] = kept[i]->len;
    }
    if (kept[i]->len > 0) memcpy(tmp + pos, kept[i]->value, kept[i]->len);
    pos += kept[i]->len;
  }
  while (pos < new_block) tmp[pos++] = 0;

  tail = pkt->len - base - old_block; /* payload + padding */
  if (new_block != old_block) memmove(pkt->buf + base + new_block, pkt->buf + base + old_block, tail);
  if (new_block > 0) memcpy(pkt->buf + base, tmp, new_block);

  pkt->len = new_len;
  pkt->header_len = base + new_block;
  if (count > 0) {
    pkt->buf[0] |= 0x10;
    pkt->ext_off = base;
    pkt->ext_len = data_len;
    pkt->ext_profile = sfu_rd16(tmp);
  } else {
    pkt->buf[0] &= (uint8_t)~0x10;
    pkt->ext_off = 0;
    pkt->ext_len = 0;
    pkt->ext_profile = 0;
  }
  return sfu__rtp_index_extensions(pkt); /* cannot fail: we just wrote it */
}

int sfu_rtp_map_extensions(sfu_rtp_packet_t *pkt, const uint8_t map[256]) {
  sfu_rtp_ext_value_t v[SFU_RTP_MAX_EXTENSIONS];
  size_t i, n = 0;

  for (i = 0; i < pkt->ext_count; i++) {
    uint8_t id = map[pkt->exts[i].id];
    if (id == 0) continue;
    v[n].id = id;
    v[n].len = pkt->exts[i].len;
    v[n].value = pkt->buf + pkt->exts[i].off;
    n++;
  }
  if (n == pkt->ext_count && pkt->ext_form != SFU_RTP_EXT_OTHER) {
    bool same = true;
    for (i = 0; i < n; i++)
      if (v[i].id != pkt->exts[i].id) same = false;
    if (same && n > 0) return 0; /* identity map: nothing to rewrite */
  }
  return sfu_rtp_set_extensions(pkt, v, n);
}

int sfu_rtp_set_extension_value(sfu_rtp_packet_t *pkt, uint8_t id, const uint8_t *value, size_t len) {
  sfu_rtp_ext_value_t v[SFU_RTP_MAX_EXTENSIONS + 1];
  sfu_rtp_ext_t *e;
  size_t i, n = 0;
  int idx;

  if (id == 0 || len > 255) return SFU_EINVAL;
  idx = sfu__rtp_find_ext(pkt, id);
  if (idx >= 0) {
    e = &pkt->exts[idx];
    if (len <= e->len && (pkt->ext_form == SFU_RTP_EXT_TWO_BYTE || len >= 1)) {
      uint8_t *val = pkt->buf + e->off;
      if (len > 0) memmove(val, value, len);
      memset(val + len, 0, e->len - len);
      if (pkt->ext_form == SFU_RTP_EXT_ONE_BYTE)
        val[-1] = (uint8_t)((id << 4) | (len - 1));
      else
        val[-1] = (uint8_t)len;
      e->len = (uint8_t)len;
      return 0;
    }
  }
  for (i = 0; i < pkt->ext_count; i++) {
    v[n].id = pkt->exts[i].id;
    v[n].len = pkt->exts[i].len;
    v[n].value = pkt->buf + pkt->exts[i].off;
    if ((int)i == idx) {
      v[n].len = (uint8_t)len;
      v[n].value = value;
    }
    n++;
  }
  if (idx < 0) {
    v[n].id = id;
    v[n].len = (uint8_t)len;
    v[n].value = value;
    n++;
  }
  return sfu_rtp_set_extensions(pkt, v, n);
}

int sfu_rtp_remove_extension(sfu_rtp_packet_t *pkt, uint8_t id) {
  sfu_rtp_ext_value_t v[SFU_RTP_MAX_EXTENSIONS];
  size_t i, n = 0;

  if (sfu__rtp_find_ext(pkt, id) < 0) return SFU_ENOTFOUND;
  for (i = 0; i < pkt->ext_count; i++) {
    if (pkt->exts[i].id == id) continue;
    v[n].id = pkt->exts[i].id;
    v[n].len = pkt->exts[i].len;
    v[n].value = pkt->buf + pkt->exts[i].off;
    n++;
  }
  return sfu_rtp_set_extensions(pkt, v, n);
}

bool sfu_rtp_read_string(const sfu_rtp_packet_t *pkt, uint8_t id, const char **s, size_t *len) {
  const uint8_t *v;
  size_t l;

  if ((v = sfu_rtp_get_extension(pkt, id, &l)) == NULL) return false;
  while (l > 0 && v[l - 1] == 0) l--;
  if (l == 0) return false;
  *s = (const char *)v;
  *len = l;
  return true;
}

bool sfu_rtp_read_audio_level(const sfu_rtp_packet_t *pkt, uint8_t id, uint8_t *level, bool *voice) {
  const uint8_t *v;
  size_t l;

  if ((v = sfu_rtp_get_extension(pkt, id, &l)) == NULL || l < 1) return false;
  *level = v[0] & 0x7f;
  *voice = (v[0] & 0x80) != 0;
  return true;
}

bool sfu_rtp_read_abs_send_time(const sfu_rtp_packet_t *pkt, uint8_t id, uint32_t *out) {
  const uint8_t *v;
  size_t l;

  if ((v = sfu_rtp_get_extension(pkt, id, &l)) == NULL || l != 3) return false;
  *out = sfu_rd24(v);
  return true;
}

bool sfu_rtp_write_abs_send_time(sfu_rtp_packet_t *pkt, uint8_t id, uint32_t val) {
  int i = sfu__rtp_find_ext(pkt, id);

  if (i < 0 || pkt->exts[i].len != 3) return false;
  sfu_wr24(pkt->buf + pkt->exts[i].off, val & 0xffffffu);
  return true;
}

uint32_t sfu_rtp_abs_send_time_from_ms(uint64_t ms) {
  /* 6.18 fixed point seconds, 24 bits: (ms * 2^18 / 1000) mod 2^24. */
  return (uint32_t)((((ms % 64000u) << 18) + 500u) / 1000u) & 0xffffffu;
}

bool sfu_rtp_read_twcc_seq(const sfu_rtp_packet_t *pkt, uint8_t id, uint16_t *seq) {
  const uint8_t *v;
  size_t l;

  if ((v = sfu_rtp_get_extension(pkt, id, &l)) == NULL || l != 2) return false;
  *seq = sfu_rd16(v);
  return true;
}

bool sfu_rtp_write_twcc_seq(sfu_rtp_packet_t *pkt, uint8_t id, uint16_t seq) {
  int i = sfu__rtp_find_ext(pkt, id);

  if (i < 0 || pkt->exts[i].len != 2) return false;
  sfu_wr16(pkt->buf + pkt->exts[i].off, seq);
  return true;
}

bool sfu_rtp_read_video_orientation(const sfu_rtp_packet_t *pkt, uint8_t id, bool *camera, bool *flip,
                                    uint16_t *rotation) {
  const uint8_t *v;
  size_t l;

  if ((v = sfu_rtp_get_extension(pkt, id, &l)) == NULL || l < 1) return false;
  *camera = (v[0] & 0x08) != 0;
  *flip = (v[0] & 0x04) != 0;
  *rotation = (uint16_t)((v[0] & 0x03) * 90u);
  return true;
}

/* ---- payload descriptors ---- */

int sfu_rtp_vp8_parse(const uint8_t *p, size_t len, sfu_rtp_vp8_desc_t *d) {
  size_t pos = 1;
  bool x, i = false, l = false, t = false, k = false;

  memset(d, 0, sizeof(*d));
  if (len < 1) return SFU_EPROTO;
  x = (p[0] & 0x80) != 0;
  d->non_reference = (p[0] & 0x20) != 0;
  d->start = (p[0] & 0x10) != 0;
  d->partition = p[0] & 0x07;
  if (x) {
    if (len - pos < 1) return SFU_EPROTO;
    i = (p[pos] & 0x80) != 0;
    l = (p[pos] & 0x40) != 0;
    t = (p[pos] & 0x20) != 0;
    k = (p[pos] & 0x10) != 0;
    pos++;
  }
  if (i) {
    if (len - pos < 1) return SFU_EPROTO;
    d->has_picture_id = true;
    d->pid_off = pos;
    if (p[pos] & 0x80) {
      if (len - pos < 2) return SFU_EPROTO;
      d->picture_id_15bit = true;
      d->picture_id = (uint16_t)(((p[pos] & 0x7f) << 8) | p[pos + 1]);
      pos += 2;
    } else {
      d->picture_id = p[pos] & 0x7f;
      pos++;
    }
  }
  if (l) {
    if (len - pos < 1) return SFU_EPROTO;
    d->has_tl0picidx = true;
    d->tl0_off = pos;
    d->tl0picidx = p[pos++];
  }
  if (t || k) {
    if (len - pos < 1) return SFU_EPROTO;
    d->has_tid = t;
    d->has_keyidx = k;
    if (t) {
      d->tid = (uint8_t)(p[pos] >> 6);
      d->layer_sync = (p[pos] & 0x20) != 0;
    }
    if (k) d->keyidx = p[pos] & 0x1f;
    pos++;
  }
  d->len = pos;
  /* The VP8 payload header's first byte: bit 0 is the inverse key frame flag. */
  d->keyframe = d->start && d->partition == 0 && len - pos >= 1 && (p[pos] & 0x01) == 0;
  return 0;
}

int sfu_rtp_vp9_parse(const uint8_t *p, size_t len, sfu_rtp_vp9_desc_t *d) {
  size_t pos = 1, n, j;
  uint8_t ns, ng, r;
  bool y, g;

  memset(d, 0, sizeof(*d));
  if (len < 1) return SFU_EPROTO;
  d->has_picture_id = (p[0] & 0x80) != 0;
  d->inter_picture = (p[0] & 0x40) != 0;
  d->has_layer = (p[0] & 0x20) != 0;
  d->flexible = (p[0] & 0x10) != 0;
  d->begin_frame = (p[0] & 0x08) != 0;
  d->end_frame = (p[0] & 0x04) != 0;
  d->has_ss = (p[0] & 0x02) != 0;
  d->not_ref = (p[0] & 0x01) != 0;

  if (d->has_picture_id) {
    if (len - pos < 1) return SFU_EPROTO;
    d->pid_off = pos;
    if (p[pos] & 0x80) {
      if (len - pos < 2) return SFU_EPROTO;
      d->picture_id_15bit = true;
      d->picture_id = (uint16_t)(((p[pos] & 0x7f) << 8) | p[pos + 1]);
      pos += 2;
    } else {
      d->picture_id = p[pos] & 0x7f;
      pos++;
    }
  }
  if (d->has_layer) {
    if (len - pos < 1) return SFU_EPROTO;
    d->tid = (uint8_t)(p[pos] >> 5);
    d->switching_up = (p[pos] & 0x10) != 0;
    d->sid = (p[pos] >> 1) & 0x07;
    d->inter_layer = (p[pos] & 0x01) != 0;
    pos++;
    if (!d->flexible) {
      if (len - pos < 1) return SFU_EPROTO;
      d->has_tl0picidx = true;
      d->tl0_off = pos;
      d->tl0picidx = p[pos++];
    }
  }
  if (d->flexible && d->inter_picture) { /* up to 3 reference indices, N bit chains them */
    for (j = 0;; j++) {
      if (j == 3 || len - pos < 1) return SFU_EPROTO;
      if ((p[pos++] & 0x01) == 0) break;
    }
  }
  if (d->has_ss) {
    if (len - pos < 1) return SFU_EPROTO;
    ns = (uint8_t)((p[pos] >> 5) + 1);
    y = (p[pos] & 0x10) != 0;
    g = (p[pos] & 0x08) != 0;
    pos++;
    if (y) {
      n = 4u * ns; /* WIDTH and HEIGHT, 16 bits each, per spatial layer */
      if (len - pos < n) return SFU_EPROTO;
      pos += n;
    }
    if (g) {
      if (len - pos < 1) return SFU_EPROTO;
      ng = p[pos++];
      for (j = 0; j < ng; j++) {
        if (len - pos < 1) return SFU_EPROTO;
        r = (p[pos++] >> 2) & 0x03;
        if (len - pos < r) return SFU_EPROTO;
        pos += r;
      }
    }
  }
  d->len = pos;
  d->keyframe = !d->inter_picture && d->begin_frame && d->sid == 0;
  return 0;
}

void sfu_rtp_vpx_write_picture_id(uint8_t *p, size_t pid_off, bool is_15bit, uint16_t pid) {
  if (pid_off == 0) return;
  if (is_15bit) {
    p[pid_off] = (uint8_t)(0x80 | ((pid >> 8) & 0x7f));
    p[pid_off + 1] = (uint8_t)pid;
  } else {
    p[pid_off] = (uint8_t)(pid & 0x7f);
  }
}

void sfu_rtp_vpx_write_tl0picidx(uint8_t *p, size_t tl0_off, uint8_t tl0) {
  if (tl0_off != 0) p[tl0_off] = tl0;
}

static bool sfu__h264_nal_is_key(uint8_t nal_type) { return nal_type == 5 || nal_type == 7; }

static bool sfu__h264_is_keyframe(const uint8_t *p, size_t len) {
  size_t pos, n;
  uint8_t type;

  if (len < 1) return false;
  type = p[0] & 0x1f;
  if (type >= 1 && type <= 23) return sfu__h264_nal_is_key(type);
  switch (type) {
    case 24: /* STAP-A */
    case 25: /* STAP-B: a 16-bit DON first */
      pos = type == 24 ? 1 : 3;
      if (pos > len) return false;
      while (len - pos >= 2) {
        n = sfu_rd16(p + pos);
        pos += 2;
        if (n == 0 || len - pos < n) return false;
        if (sfu__h264_nal_is_key(p[pos] & 0x1f)) return true;
        pos += n;
      }
      return false;
    case 28: /* FU-A */
    case 29: /* FU-B */
      if (len < 2) return false;
      return (p[1] & 0x80) != 0 && sfu__h264_nal_is_key(p[1] & 0x1f);
    default:
      return false;
  }
}

bool sfu_rtp_payload_is_keyframe(const uint8_t *p, size_t len, sfu_codec_t codec) {
  sfu_rtp_vp8_desc_t d8;
  sfu_rtp_vp9_desc_t d9;

  switch (codec) {
    case SFU_CODEC_VP8:
      return sfu_rtp_vp8_parse(p, len, &d8) == 0 && d8.keyframe;
    case SFU_CODEC_VP9:
      return sfu_rtp_vp9_parse(p, len, &d9) == 0 && d9.keyframe;
    case SFU_CODEC_H264:
      return sfu__h264_is_keyframe(p, len);
    default:
      return false;
  }
}

bool sfu_rtp_is_keyframe(const sfu_rtp_packet_t *pkt, sfu_codec_t codec) {
  return sfu_rtp_payload_is_keyframe(sfu_rtp_payload(pkt), pkt->payload_len, codec);
}
