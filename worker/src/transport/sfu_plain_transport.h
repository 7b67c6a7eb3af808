/* PlainTransport: plain RTP/RTCP over UDP (rtcpMux or a separate RTCP port),
 * remote address given with connect() or learned from the first packet
 * (comedia), optional SRTP with SDES-style keys. */
#ifndef SFU_PLAIN_TRANSPORT_H
#define SFU_PLAIN_TRANSPORT_H

#include <stddef.h>

#include "fb.h"
#include "sfu_transport.h"

/* From a verified FBS.PlainTransport.PlainTransportOptions. */
int sfu_plain_transport_create(const sfu_transport_parent_t *parent, const char *id, size_t id_len,
                               fb_table_t options, sfu_transport_t **out, char *err, size_t err_len);

#endif
