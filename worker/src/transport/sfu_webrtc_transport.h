/* WebRtcTransport: ICE-lite (UDP and RFC 4571 TCP), DTLS 1.2 with DTLS-SRTP,
 * SRTP/SRTCP, on sockets of its own (listenInfos) or on a WebRtcServer's. */
#ifndef SFU_WEBRTC_TRANSPORT_H
#define SFU_WEBRTC_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "fb.h"
#include "sfu_transport.h"
#include "sfu_tuple.h"

typedef struct sfu_webrtc_transport sfu_webrtc_transport_t;

/* From a verified FBS.WebRtcTransport.WebRtcTransportOptions. with_server: the
 * options must name a WebRtcServer (listen = ListenServer). */
int sfu_webrtc_transport_create(const sfu_transport_parent_t *parent, const char *id, size_t id_len,
                                fb_table_t options, bool with_server, sfu_transport_t **out, char *err,
                                size_t err_len);

/* For a WebRtcServer: a packet that arrived on one of its sockets for this transport. */
void sfu_webrtc_transport_receive(sfu_webrtc_transport_t *wt, const sfu_tuple_t *tuple, uint8_t *p, size_t len,
                                  size_t cap);
/* For a WebRtcServer: it is closing; the transport closes too (Node is told by its own WebRtcServer close). */
void sfu_webrtc_transport_server_closed(sfu_webrtc_transport_t *wt);
/* For a WebRtcServer: a TCP connection of this transport closed. */
void sfu_webrtc_transport_tuple_gone(sfu_webrtc_transport_t *wt, const sfu_tuple_t *tuple);

/* For its WebRtcServer: whether tuple is one of its ICE tuples, its id, and
 * the server's list link (the server owns that list). */
bool sfu_webrtc_transport_owns_tuple(sfu_webrtc_transport_t *wt, const sfu_tuple_t *tuple);
const char *sfu_webrtc_transport_id(const sfu_webrtc_transport_t *wt, size_t *len);
sfu_list_t *sfu_webrtc_transport_server_link(sfu_webrtc_transport_t *wt);
sfu_webrtc_transport_t *sfu_webrtc_transport_from_server_link(sfu_list_t *link);

#endif
