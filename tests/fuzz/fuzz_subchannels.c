/*
 * libFuzzer target for worker/src/data/sfu_subchannels_codec (the route a
 * pipe's SCTP message carries, from the other worker: untrusted bytes).
 *
 * The input, in a heap buffer of exactly its size, goes through
 * sfu_subchannels_decode(). Checked: a header is never longer than the
 * input; when one is found, every subchannel it names lies inside the input,
 * and encoding the decoded route again gives the same bytes back (an empty
 * route, which the encoder never writes, encodes to nothing).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_subchannels_codec.h"

#define CHECK(x)                \
  do {                          \
    if (!(x)) __builtin_trap(); \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *p = malloc(size ? size : 1);
  sfu_data_route_t route = {0};
  if (p == NULL) return 0;
  memcpy(p, data, size);
  size_t hdr = sfu_subchannels_decode(p, size, &route);
  CHECK(hdr <= size);
  if (hdr > 0) {
    CHECK(route.sub_be == p + 10);
    CHECK(10 + 2 * route.nsub_be <= hdr);
    for (size_t i = 0; i < sfu_data_route_count(&route); i++) (void)sfu_data_route_sub(&route, i);
    /* an empty route (count 0, no flags) is never written: nothing to carry */
    bool empty = route.nsub_be == 0 && !route.has_required && !route.has_ignored;
    uint8_t *again = malloc(hdr);
    CHECK(again != NULL);
    CHECK(sfu_subchannels_header_len(&route, NULL, NULL) == (empty ? 0 : hdr));
    if (!empty) {
      CHECK(sfu_subchannels_encode(&route, NULL, NULL, again, hdr) == hdr);
      CHECK(memcmp(again, p, hdr) == 0);
    }
    free(again);
  } else {
    CHECK(route.sub_be == NULL && !route.has_required && !route.has_ignored);
  }
  free(p);
  return 0;
}
