/* PipeTransport: RTP and RTCP between two routers (of one worker or of two)
 * over one UDP socket, the remote address given with connect(), optional
 * SRTP (AEAD_AES_256_GCM only, keys exchanged through connect() as
 * mediasoup's), pipe consumers sending every encoding of a producer. */
#ifndef SFU_PIPE_TRANSPORT_H
#define SFU_PIPE_TRANSPORT_H

#include <stddef.h>

#include "fb.h"
#include "sfu_transport.h"

/* From a verified FBS.PipeTransport.PipeTransportOptions. */
int sfu_pipe_transport_create(const sfu_transport_parent_t *parent, const char *id, size_t id_len, fb_table_t options,
                              sfu_transport_t **out, char *err, size_t err_len);

#endif
