/* FBS.Transport.ListenInfo -> sfu_listen_info_t (validated). */
#ifndef SFU_LISTEN_INFO_FBS_H
#define SFU_LISTEN_INFO_FBS_H

#include <stdbool.h>
#include <stddef.h>

#include "fb.h"
#include "sfu_listen_info.h"

int sfu_listen_info_from_fbs(sfu_listen_info_t *li, fb_table_t t, char *err, size_t err_len);
/* FBS.Transport.Tuple for (local address, remote sockaddr) into b. */
fb_ref_t sfu_tuple_build(fb_builder_t *b, const char *local_ip, uint16_t local_port, const struct sockaddr *remote,
                         sfu_proto_t proto);

/* FBS.WebRtcTransport.IceCandidate (host; passive for TCP). */
fb_ref_t sfu_ice_candidate_build(fb_builder_t *b, sfu_proto_t proto, const char *address, uint16_t port,
                                 uint32_t priority);
/* mediasoup's host candidate priority for the n-th candidate (n from 0). */
uint32_t sfu_ice_candidate_priority(uint32_t n, bool preferred);

#endif
