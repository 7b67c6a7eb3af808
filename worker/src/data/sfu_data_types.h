/* What data producers and consumers share: their type and SCTP stream
 * parameters (FBS.SctpParameters.SctpStreamParameters). */
#ifndef SFU_DATA_TYPES_H
#define SFU_DATA_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "fb.h"
#include "sfu_sctp_assoc.h"

typedef enum sfu_data_type { SFU_DATA_SCTP = 0, SFU_DATA_DIRECT = 1 } sfu_data_type_t;

typedef struct sfu_sctp_stream {
  uint16_t stream_id;
  sfu_sctp_send_params_t send; /* ordered, maxPacketLifeTime, maxRetransmits */
} sfu_sctp_stream_t;

/* Reads stream parameters: ordered defaults to true unless a partial
 * reliability option is given; both options, or ordered with one, is
 * SFU_EINVAL (err filled). */
int sfu_sctp_stream_parse(fb_table_t t, sfu_sctp_stream_t *out, char *err, size_t err_len);
fb_ref_t sfu_sctp_stream_build(const sfu_sctp_stream_t *s, fb_builder_t *b);

#endif
