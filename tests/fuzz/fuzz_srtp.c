/*
 * libFuzzer target for worker/src/srtp/sfu_srtp.
 *
 * Input: [0] suite (mod 4), [1] flags: bit 0 = RTCP instead of RTP, then the
 * packet. For every input, a fresh outbound/inbound session pair with a
 * fixed key:
 *   - the packet is unprotected as it is (it must fail or shrink, never grow,
 *     and never touch bytes outside its exact-size heap copy);
 *   - the packet is protected in a buffer of exactly len + trailer bytes; on
 *     success the length grew by the trailer, and unprotecting it with the
 *     inbound session must give back the original bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"
#include "sfu_srtp.h"

#define CHECK(x)          \
  do {                    \
    if (!(x)) __builtin_trap(); \
  } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  CHECK(sfu_srtp_init() == 0);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sfu_srtp_t *out = NULL, *in = NULL;
  uint8_t key[64];
  if (size < 2 || size > 4096) return 0;
  sfu_srtp_suite_t suite = (sfu_srtp_suite_t)(data[0] % 4);
  int rtcp = data[1] & 1;
  const uint8_t *pkt = data + 2;
  size_t len = size - 2;
  size_t key_len = sfu_srtp_key_len(suite);
  size_t trailer = rtcp ? sfu_srtp_rtcp_trailer_len(suite) : sfu_srtp_rtp_trailer_len(suite);

  for (size_t i = 0; i < key_len; i++) key[i] = (uint8_t)(i * 13u + 1);
  CHECK(sfu_srtp_create(&out, SFU_SRTP_OUTBOUND, suite, key, key_len) == 0);
  CHECK(sfu_srtp_create(&in, SFU_SRTP_INBOUND, suite, key, key_len) == 0);

  /* as received */
  uint8_t *buf = malloc(len ? len : 1);
  CHECK(buf != NULL);
  memcpy(buf, pkt, len);
  size_t n = len;
  int r = rtcp ? sfu_srtp_unprotect_rtcp(in, buf, &n) : sfu_srtp_unprotect_rtp(in, buf, &n);
  CHECK(r == 0 || r == SFU_EPROTO);
  CHECK(r != 0 || n < len);
  CHECK(r == 0 || sfu_srtp_last_status(in) != SFU_SRTP_OK);
  free(buf);

  /* protect, then unprotect with a fresh inbound session */
  sfu_srtp_destroy(in);
  in = NULL;
  CHECK(sfu_srtp_create(&in, SFU_SRTP_INBOUND, suite, key, key_len) == 0);
  buf = malloc(len + trailer);
  CHECK(buf != NULL);
  memcpy(buf, pkt, len);
  n = len;
  r = rtcp ? sfu_srtp_protect_rtcp(out, buf, &n, len + trailer) : sfu_srtp_protect_rtp(out, buf, &n, len + trailer);
  CHECK(r == 0 || r == SFU_EPROTO);
  if (r == 0) {
    CHECK(n == len + trailer);
    r = rtcp ? sfu_srtp_unprotect_rtcp(in, buf, &n) : sfu_srtp_unprotect_rtp(in, buf, &n);
    CHECK(r == 0);
    CHECK(n == len);
    CHECK(memcmp(buf, pkt, len) == 0);
  } else {
    CHECK(memcmp(buf, pkt, len) == 0); /* refused packets are left alone */
  }
  free(buf);
  sfu_srtp_destroy(out);
  sfu_srtp_destroy(in);
  return 0;
}
