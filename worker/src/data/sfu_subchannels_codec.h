/* Subchannels inside a pipe's SCTP message (mediasoup 3.27's wire layout, so
 * our pipes interoperate with its workers): a piped DataConsumer prefixes each
 * message with its route, the receiving PipeTransport strips it and gives it
 * to its DataProducer, and the far router's DataConsumers apply it.
 *
 *   8 bytes  magic 0xA5F09CB3D6E1F28C, bit 1 = required present, bit 0 =
 *            ignored present (big-endian, as every field)
 *   2 bytes  count, then count x 2 bytes of subchannels
 *   2 bytes  required subchannel (if flagged), 2 bytes ignored (if flagged)
 */
#ifndef SFU_SUBCHANNELS_CODEC_H
#define SFU_SUBCHANNELS_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu_data_producer.h"

#define SFU_SUBCHANNELS_MAGIC 0xA5F09CB3D6E1F28CULL

/* Bytes the header of this route takes (0: nothing to encode). Only the
 * subchannels for which keep() is true (all when keep is NULL) are counted. */
size_t sfu_subchannels_header_len(const sfu_data_route_t *route, bool (*keep)(const void *arg, uint16_t s),
                                  const void *arg);
/* Writes that header to out (at least header_len bytes); returns its length. */
size_t sfu_subchannels_encode(const sfu_data_route_t *route, bool (*keep)(const void *arg, uint16_t s),
                              const void *arg, uint8_t *out, size_t cap);
/* If p starts with a header that fits in len: fills route (pointing into p)
 * and returns the header's length; else 0 and route is untouched. */
size_t sfu_subchannels_decode(const uint8_t *p, size_t len, sfu_data_route_t *route);

#endif
