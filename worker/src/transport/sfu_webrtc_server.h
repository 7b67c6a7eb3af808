/* WebRtcServer: UDP sockets and TCP servers shared by many WebRtcTransports.
 * STUN requests are routed by the local ICE username fragment; once ICE has
 * validated a tuple, everything from that tuple goes to its transport. */
#ifndef SFU_WEBRTC_SERVER_H
#define SFU_WEBRTC_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "fb.h"
#include "sfu_ctx.h"
#include "sfu_list.h"
#include "sfu_port_manager.h"
#include "sfu_tuple.h"

typedef struct sfu_webrtc_server sfu_webrtc_server_t;
typedef struct sfu_webrtc_transport sfu_webrtc_transport_t;

/* From a verified FBS.Worker.CreateWebRtcServerRequest; its ports come from ports. */
int sfu_webrtc_server_create(sfu_ctx_t *ctx, sfu_port_manager_t *ports, fb_table_t req, sfu_webrtc_server_t **out,
                             char *err, size_t err_len);
/* Closes its transports (Node closes its own objects), then its sockets. */
void sfu_webrtc_server_close(sfu_webrtc_server_t *srv);
const char *sfu_webrtc_server_id(const sfu_webrtc_server_t *srv, size_t *len);

void sfu_webrtc_server_add_transport(sfu_webrtc_server_t *srv, sfu_webrtc_transport_t *wt);
void sfu_webrtc_server_remove_transport(sfu_webrtc_server_t *srv, sfu_webrtc_transport_t *wt);
void sfu_webrtc_server_add_ufrag(sfu_webrtc_server_t *srv, sfu_webrtc_transport_t *wt, const char *ufrag, size_t len);
void sfu_webrtc_server_remove_ufrag(sfu_webrtc_server_t *srv, sfu_webrtc_transport_t *wt, const char *ufrag,
                                    size_t len);
/* ICE candidates of the server's sockets for a transport with these options. */
size_t sfu_webrtc_server_candidates(sfu_webrtc_server_t *srv, fb_builder_t *b, bool enable_udp, bool enable_tcp,
                                    bool prefer_udp, bool prefer_tcp, fb_ref_t *out, size_t max);

#endif
