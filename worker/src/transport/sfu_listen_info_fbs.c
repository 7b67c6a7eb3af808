#include "sfu_listen_info_fbs.h"

#include <stdio.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_error.h"
#include "sfu_sockaddr.h"

int sfu_listen_info_from_fbs(sfu_listen_info_t *li, fb_table_t t, char *err, size_t err_len) {
  int r;
  uint8_t proto = FBS_Transport_ListenInfo_protocol(t);
  fb_str_t ip = FBS_Transport_ListenInfo_ip(t);

  if (proto != FBS_Transport_Protocol_UDP && proto != FBS_Transport_Protocol_TCP) {
    snprintf(err, err_len, "invalid listenInfo protocol");
    return SFU_EINVAL;
  }
  memset(li, 0, sizeof(*li));
  li->protocol = proto == FBS_Transport_Protocol_UDP ? SFU_PROTO_UDP : SFU_PROTO_TCP;
  if ((r = sfu_listen_info_set_ip(li, ip.ptr, ip.len)) != 0) {
    snprintf(err, err_len, "invalid listenInfo ip '%.*s'", (int)(ip.len > 64 ? 64 : ip.len), ip.ptr);
    return SFU_EINVAL;
  }
  fb_str_t ann = FBS_Transport_ListenInfo_announced_address(t);
  if (ann.ptr != NULL && ann.len > 0 && (r = sfu_listen_info_set_announced_address(li, ann.ptr, ann.len)) != 0) {
    snprintf(err, err_len, "invalid listenInfo announcedAddress");
    return SFU_EINVAL;
  }
  li->expose_internal_ip = FBS_Transport_ListenInfo_expose_internal_ip(t);
  li->port = FBS_Transport_ListenInfo_port(t);
  fb_table_t range = FBS_Transport_ListenInfo_port_range(t);
  li->port_range.min = FBS_Transport_PortRange_min(range);
  li->port_range.max = FBS_Transport_PortRange_max(range);
  fb_table_t flags = FBS_Transport_ListenInfo_flags(t);
  li->flags.ipv6_only = FBS_Transport_SocketFlags_ipv6_only(flags);
  li->flags.udp_reuse_port = FBS_Transport_SocketFlags_udp_reuse_port(flags);
  li->send_buffer_size = FBS_Transport_ListenInfo_send_buffer_size(t);
  li->recv_buffer_size = FBS_Transport_ListenInfo_recv_buffer_size(t);
  return sfu_listen_info_validate(li, err, err_len);
}

fb_ref_t sfu_tuple_build(fb_builder_t *b, const char *local_ip, uint16_t local_port, const struct sockaddr *remote,
                         sfu_proto_t proto) {
  char rip[INET6_ADDRSTRLEN] = "";
  uint16_t rport = 0;
  fb_ref_t lip = fb_create_cstring(b, local_ip);
  fb_ref_t rip_ref = 0;
  if (remote != NULL && sfu_sockaddr_to_str(remote, rip, &rport) == 0) rip_ref = fb_create_cstring(b, rip);
  FBS_Transport_Tuple_start(b);
  FBS_Transport_Tuple_add_local_address(b, lip);
  FBS_Transport_Tuple_add_local_port(b, local_port);
  FBS_Transport_Tuple_add_remote_ip(b, rip_ref);
  FBS_Transport_Tuple_add_remote_port(b, rport);
  FBS_Transport_Tuple_add_protocol(b, proto == SFU_PROTO_TCP ? FBS_Transport_Protocol_TCP : FBS_Transport_Protocol_UDP);
  return FBS_Transport_Tuple_end(b);
}

uint32_t sfu_ice_candidate_priority(uint32_t n, bool preferred) {
  /* type preference 64 (host), local preference 10000 - 100 n (+1000 when preferred), component 1 */
  uint32_t local_pref = 10000u - 100u * n + (preferred ? 1000u : 0u);
  return (64u << 24) + (local_pref << 8) + (256u - 1u);
}

fb_ref_t sfu_ice_candidate_build(fb_builder_t *b, sfu_proto_t proto, const char *address, uint16_t port,
                                 uint32_t priority) {
  fb_ref_t foundation = fb_create_cstring(b, proto == SFU_PROTO_UDP ? "udpcandidate" : "tcpcandidate");
  fb_ref_t addr = fb_create_cstring(b, address);
  FBS_WebRtcTransport_IceCandidate_start(b);
  FBS_WebRtcTransport_IceCandidate_add_foundation(b, foundation);
  FBS_WebRtcTransport_IceCandidate_add_priority(b, priority);
  FBS_WebRtcTransport_IceCandidate_add_address(b, addr);
  FBS_WebRtcTransport_IceCandidate_add_protocol(b, proto == SFU_PROTO_UDP ? FBS_Transport_Protocol_UDP
                                                                          : FBS_Transport_Protocol_TCP);
  FBS_WebRtcTransport_IceCandidate_add_port(b, port);
  FBS_WebRtcTransport_IceCandidate_add_type(b, FBS_WebRtcTransport_IceCandidateType_HOST);
  if (proto == SFU_PROTO_TCP) FBS_WebRtcTransport_IceCandidate_add_tcp_type(b, FBS_WebRtcTransport_IceCandidateTcpType_PASSIVE);
  return FBS_WebRtcTransport_IceCandidate_end(b);
}
