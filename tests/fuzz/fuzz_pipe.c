/* libFuzzer target: datagrams from a PipeTransport's connected peer into a
 * live worker, the path every byte from the other router (or an attacker who
 * spoofs it) takes: demultiplexing, RTP into a producer of two VP8 encodings
 * with RTX, RTCP into it (SR) and into a pipe consumer of both encodings on a
 * second pipe (RR, NACK, PLI, FIR for its SSRCs), and everything that
 * answers (retransmissions, key frame requests, reports). The worker
 * persists across inputs and is rebuilt every few hundred.
 *
 * Input: chunks of [target: even = to the producer's pipe, odd = to the pipe
 * consumer's] [length: 2 bytes BE] [datagram]. */
#include "../unit/rtc_test_util.h"
#include "../unit/pipe_harness.h"

static ph_t h;
static int up;
static unsigned runs;
static int s_a, s_c;
static uint16_t port_a, port_c;

static fb_ref_t produce_body(fb_builder_t *b, void *arg) {
  static const tcodec_t codecs[2] = {{.mime = "video/VP8", .pt = 96, .clock = 90000, .nack = true, .pli = true, .fir = true},
                                     {.mime = "video/rtx", .pt = 97, .clock = 90000, .apt = 96}};
  static const tenc_t encs[2] = {{.ssrc = 3000, .rtx_ssrc = 3100}, {.ssrc = 3001, .rtx_ssrc = 3101}};
  static const text_t exts[2] = {{FBS_RtpParameters_RtpHeaderExtensionUri_Mid, 1},
                                 {FBS_RtpParameters_RtpHeaderExtensionUri_TransportWideCcDraft01, 3}};
  trtp_t r = {.mid = "v", .codecs = codecs, .ncodecs = 2, .encs = encs, .nencs = 2, .exts = exts, .nexts = 2};
  (void)arg;
  fb_ref_t pid = fb_create_cstring(b, "p1");
  fb_ref_t params = rtc_build_params(b, &r);
  fb_ref_t cm[2], em[2];
  for (int i = 0; i < 2; i++) {
    FBS_RtpParameters_CodecMapping_start(b);
    FBS_RtpParameters_CodecMapping_add_payload_type(b, codecs[i].pt);
    FBS_RtpParameters_CodecMapping_add_mapped_payload_type(b, (uint8_t)(codecs[i].pt + 10));
    cm[i] = FBS_RtpParameters_CodecMapping_end(b);
    FBS_RtpParameters_EncodingMapping_start(b);
    FBS_RtpParameters_EncodingMapping_add_ssrc(b, encs[i].ssrc);
    FBS_RtpParameters_EncodingMapping_add_mapped_ssrc(b, 5000u + (uint32_t)i);
    em[i] = FBS_RtpParameters_EncodingMapping_end(b);
  }
  fb_ref_t vcm = fb_create_vec_refs(b, cm, 2), vem = fb_create_vec_refs(b, em, 2);
  FBS_RtpParameters_RtpMapping_start(b);
  FBS_RtpParameters_RtpMapping_add_codecs(b, vcm);
  FBS_RtpParameters_RtpMapping_add_encodings(b, vem);
  fb_ref_t mapping = FBS_RtpParameters_RtpMapping_end(b);
  FBS_Transport_ProduceRequest_start(b);
  FBS_Transport_ProduceRequest_add_producer_id(b, pid);
  FBS_Transport_ProduceRequest_add_kind(b, FBS_RtpParameters_MediaKind_VIDEO);
  FBS_Transport_ProduceRequest_add_rtp_parameters(b, params);
  FBS_Transport_ProduceRequest_add_rtp_mapping(b, mapping);
  return FBS_Transport_ProduceRequest_end(b);
}

static fb_ref_t consume_body(fb_builder_t *b, void *arg) {
  static const tcodec_t codecs[2] = {{.mime = "video/VP8", .pt = 106, .clock = 90000, .nack = true, .pli = true, .fir = true},
                                     {.mime = "video/rtx", .pt = 107, .clock = 90000, .apt = 106}};
  static const tenc_t encs[2] = {{.ssrc = 9000, .rtx_ssrc = 9100}, {.ssrc = 9001, .rtx_ssrc = 9101}};
  trtp_t r = {.codecs = codecs, .ncodecs = 2, .encs = encs, .nencs = 2};
  (void)arg;
  fb_ref_t cid = fb_create_cstring(b, "c1");
  fb_ref_t prid = fb_create_cstring(b, "p1");
  fb_ref_t params = rtc_build_params(b, &r);
  fb_ref_t ce[2];
  for (int i = 0; i < 2; i++) {
    FBS_RtpParameters_RtpEncodingParameters_start(b);
    FBS_RtpParameters_RtpEncodingParameters_add_ssrc(b, 5000u + (uint32_t)i);
    ce[i] = FBS_RtpParameters_RtpEncodingParameters_end(b);
  }
  fb_ref_t vce = fb_create_vec_refs(b, ce, 2);
  FBS_Transport_ConsumeRequest_start(b);
  FBS_Transport_ConsumeRequest_add_consumer_id(b, cid);
  FBS_Transport_ConsumeRequest_add_producer_id(b, prid);
  FBS_Transport_ConsumeRequest_add_kind(b, FBS_RtpParameters_MediaKind_VIDEO);
  FBS_Transport_ConsumeRequest_add_rtp_parameters(b, params);
  FBS_Transport_ConsumeRequest_add_type(b, FBS_RtpParameters_Type_PIPE);
  FBS_Transport_ConsumeRequest_add_consumable_rtp_encodings(b, vce);
  return FBS_Transport_ConsumeRequest_end(b);
}

static void drain_socket(int fd) {
  uint8_t buf[2048];
  while (recv(fd, buf, sizeof(buf), 0) > 0) {
  }
}

static void harness_down(void) {
  if (!up) return;
  ph_down(&h);
  close(s_a);
  close(s_c);
  up = 0;
}

static void harness_up(void) {
  ph_pipe_opts_t a = {.id = "pA", .rtx = true}, c = {.id = "pC", .rtx = true};
  ph_up(&h, SFU_LOG_LEVEL_DEBUG); /* every log line runs */
  s_a = ph_udp(&port_a);
  s_c = ph_udp(&port_c);
  if (!ph_request(&h, FBS_Request_Method_WORKER_CREATE_ROUTER, "", FBS_Request_Body_Worker_CreateRouterRequest,
                  ph_router_body, "r1"))
    abort();
  if (!ph_request(&h, FBS_Request_Method_ROUTER_CREATE_PIPETRANSPORT, "r1",
                  FBS_Request_Body_Router_CreatePipeTransportRequest, ph_pipe_body, &a))
    abort();
  uint16_t pa = ph_pipe_port(&h, NULL, 0);
  if (!ph_request(&h, FBS_Request_Method_ROUTER_CREATE_PIPETRANSPORT, "r1",
                  FBS_Request_Body_Router_CreatePipeTransportRequest, ph_pipe_body, &c))
    abort();
  uint16_t pc = ph_pipe_port(&h, NULL, 0);
  ph_connect_t ca = {.port = port_a}, cc = {.port = port_c};
  if (!ph_request(&h, FBS_Request_Method_PIPETRANSPORT_CONNECT, "pA", FBS_Request_Body_PipeTransport_ConnectRequest,
                  ph_connect_body, &ca) ||
      !ph_request(&h, FBS_Request_Method_PIPETRANSPORT_CONNECT, "pC", FBS_Request_Body_PipeTransport_ConnectRequest,
                  ph_connect_body, &cc))
    abort();
  if (!ph_request(&h, FBS_Request_Method_TRANSPORT_PRODUCE, "pA", FBS_Request_Body_Transport_ProduceRequest, produce_body,
                  NULL) ||
      !ph_request(&h, FBS_Request_Method_TRANSPORT_CONSUME, "pC", FBS_Request_Body_Transport_ConsumeRequest, consume_body,
                  NULL))
    abort();
  port_a = pa; /* from now on: where the peers send */
  port_c = pc;
  up = 1;
  runs = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!up || ++runs > 400) {
    harness_down();
    harness_up();
  }
  size_t off = 0;
  int n = 0;
  while (off + 3 <= size && n < 64) {
    uint8_t target = data[off];
    size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
    off += 3;
    if (len > size - off) len = size - off;
    if (target & 1)
      ph_sendto(s_c, port_c, data + off, len);
    else
      ph_sendto(s_a, port_a, data + off, len);
    off += len;
    n++;
  }
  ph_pump(&h, 3);
  ph_drain(&h);
  drain_socket(s_a);
  drain_socket(s_c);
  return 0;
}
