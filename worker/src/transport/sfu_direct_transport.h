/* DirectTransport: a transport whose far end is Node itself. RTP comes in
 * as PRODUCER_SEND notifications, consumers' RTP goes out as CONSUMER_RTP
 * notifications, RTCP both ways as TRANSPORT_SEND_RTCP / DIRECTTRANSPORT_RTCP,
 * and data producers and consumers are of type direct. Always connected. */
#ifndef SFU_DIRECT_TRANSPORT_H
#define SFU_DIRECT_TRANSPORT_H

#include "sfu_transport.h"

/* opts: FBS.DirectTransport.DirectTransportOptions. */
int sfu_direct_transport_create(const sfu_transport_parent_t *parent, const char *id, size_t id_len, fb_table_t opts,
                                sfu_transport_t **out, char *err, size_t err_len);

#endif
