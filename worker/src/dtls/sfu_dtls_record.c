#include "sfu_dtls_record.h"

#include "sfu_byte.h"

sfu_dtls_rec_status_t sfu_dtls_record_next(const uint8_t *p, size_t len, size_t *off, sfu_dtls_record_t *rec) {
  size_t o = *off, body;

  if (o >= len) return SFU_DTLS_REC_END;
  if (len - o < SFU_DTLS_RECORD_HEADER) return SFU_DTLS_REC_TRUNCATED;
  body = sfu_rd16(p + o + 11);
  if (body > len - o - SFU_DTLS_RECORD_HEADER) return SFU_DTLS_REC_TRUNCATED;
  rec->type = p[o];
  rec->version = sfu_rd16(p + o + 1);
  rec->epoch = sfu_rd16(p + o + 3);
  rec->seq = ((uint64_t)sfu_rd16(p + o + 5) << 32) | sfu_rd32(p + o + 7);
  rec->body = p + o + SFU_DTLS_RECORD_HEADER;
  rec->body_len = body;
  *off = o + SFU_DTLS_RECORD_HEADER + body;
  return SFU_DTLS_REC_OK;
}

/* The handshake messages of an epoch-0 record (RFC 6347 4.2.2): each a
 * 12-byte header (type, length, message_seq, fragment_offset,
 * fragment_length) and its fragment, fragments within their message,
 * together exactly the record body. A server that has not taken a
 * ClientHello takes nothing but fragments of its first one (message_seq 0:
 * no cookie exchange), whose first fragment must start with a DTLS version. */
static sfu_dtls_rec_verdict_t sfu__dtls_check_handshake(const uint8_t *b, size_t n, bool hello_only) {
  size_t off = 0;
  while (off < n) {
    uint32_t msg_len, frag_off, frag_len;
    if (n - off < SFU_DTLS_HANDSHAKE_HEADER) return SFU_DTLS_REC_BAD_LENGTH;
    msg_len = sfu_rd24(b + off + 1);
    frag_off = sfu_rd24(b + off + 6);
    frag_len = sfu_rd24(b + off + 9);
    if ((uint64_t)frag_off + frag_len > msg_len || frag_len > n - off - SFU_DTLS_HANDSHAKE_HEADER)
      return SFU_DTLS_REC_BAD_LENGTH;
    if (hello_only) {
      const uint8_t *body = b + off + SFU_DTLS_HANDSHAKE_HEADER;
      if (b[off] != SFU_DTLS_HS_CLIENT_HELLO || sfu_rd16(b + off + 4) != 0) return SFU_DTLS_REC_UNEXPECTED;
      if (frag_off == 0 && (frag_len < 2 || (sfu_rd16(body) != SFU_DTLS_VERSION_1_2 &&
                                             sfu_rd16(body) != SFU_DTLS_VERSION_1_0)))
        return SFU_DTLS_REC_BAD_VERSION;
    }
    off += SFU_DTLS_HANDSHAKE_HEADER + frag_len;
  }
  return SFU_DTLS_REC_ACCEPT;
}

sfu_dtls_rec_verdict_t sfu_dtls_record_check(const sfu_dtls_record_t *rec, const sfu_dtls_record_policy_t *pol) {
  if (rec->type < SFU_DTLS_CT_CHANGE_CIPHER_SPEC || rec->type > SFU_DTLS_CT_APPLICATION_DATA)
    return SFU_DTLS_REC_BAD_TYPE;
  if (rec->body_len == 0 || rec->body_len > SFU_DTLS_RECORD_MAX_BODY) return SFU_DTLS_REC_BAD_LENGTH;
  /* Without renegotiation there are two epochs: 0 for the handshake in the
   * clear, 1 once ChangeCipherSpec was exchanged. */
  if (rec->epoch > 1 || (pol->hs_done && rec->epoch != 1)) return SFU_DTLS_REC_BAD_EPOCH;

  if (rec->epoch == 1) {
    if (rec->version != SFU_DTLS_VERSION_1_2) return SFU_DTLS_REC_BAD_VERSION;
    /* Nothing can be protected before a cipher is chosen. */
    if (pol->awaiting_hello || pol->min_body == 0) return SFU_DTLS_REC_NO_CIPHER;
    if (rec->body_len < pol->min_body) return SFU_DTLS_REC_BAD_LENGTH;
    if (pol->hs_done && rec->type == SFU_DTLS_CT_CHANGE_CIPHER_SPEC) return SFU_DTLS_REC_UNEXPECTED;
    return SFU_DTLS_REC_ACCEPT;
  }

  /* Epoch 0, handshake in progress. A ClientHello's record may say DTLS 1.0. */
  if (rec->version != SFU_DTLS_VERSION_1_2 && rec->version != SFU_DTLS_VERSION_1_0) return SFU_DTLS_REC_BAD_VERSION;
  switch (rec->type) {
    case SFU_DTLS_CT_CHANGE_CIPHER_SPEC:
      if (rec->body_len != 1) return SFU_DTLS_REC_BAD_LENGTH;
      return pol->awaiting_hello ? SFU_DTLS_REC_UNEXPECTED : SFU_DTLS_REC_ACCEPT;
    case SFU_DTLS_CT_ALERT:
      if (rec->body_len != 2) return SFU_DTLS_REC_BAD_LENGTH;
      return pol->awaiting_hello ? SFU_DTLS_REC_UNEXPECTED : SFU_DTLS_REC_ACCEPT;
    case SFU_DTLS_CT_HANDSHAKE:
      return sfu__dtls_check_handshake(rec->body, rec->body_len, pol->awaiting_hello);
    default: /* application data is never sent in the clear */
      return SFU_DTLS_REC_UNEXPECTED;
  }
}

uint32_t sfu_dtls_record_hs_msg_len(const sfu_dtls_record_t *rec) {
  if (rec->type != SFU_DTLS_CT_HANDSHAKE || rec->epoch != 0 || rec->body_len < SFU_DTLS_HANDSHAKE_HEADER) return 0;
  return sfu_rd24(rec->body + 1);
}

size_t sfu_dtls_record_min_body(bool aead, bool chacha, bool ccm8, size_t block, size_t mac) {
  if (aead) {
    if (chacha) return 16;     /* RFC 7905: implicit nonce, 16-byte tag */
    return ccm8 ? 8 + 8 : 8 + 16; /* RFC 5288 / RFC 6655: explicit nonce + tag */
  }
  if (block > 1) {
    /* Explicit IV, then at least one block: MAC-then-encrypt pads MAC + 1
     * padding-length byte to whole blocks; encrypt-then-MAC (RFC 7366) has
     * one padded block followed by the MAC. Take the smaller. */
    size_t mte = (mac + 1 + block - 1) / block * block;
    size_t etm = block + mac;
    return block + (mte < etm ? mte : etm);
  }
  return mac > 0 ? mac : 1;
}

const char *sfu_dtls_rec_verdict_name(sfu_dtls_rec_verdict_t v) {
  switch (v) {
    case SFU_DTLS_REC_ACCEPT:
      return "accepted";
    case SFU_DTLS_REC_BAD_TYPE:
      return "bad content type";
    case SFU_DTLS_REC_BAD_VERSION:
      return "bad version";
    case SFU_DTLS_REC_BAD_EPOCH:
      return "bad epoch";
    case SFU_DTLS_REC_BAD_LENGTH:
      return "bad length";
    case SFU_DTLS_REC_NO_CIPHER:
      return "protected record before a cipher";
    case SFU_DTLS_REC_UNEXPECTED:
      return "unexpected record";
  }
  return "unknown";
}
