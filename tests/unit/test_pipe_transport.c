/* PipeTransport in a worker in this process, over its real channel: create
 * and connect errors as mediasoup's, SRTP (AEAD_AES_256_GCM with 44-byte
 * keys exchanged through connect()), a producer on one pipe and a pipe
 * consumer on another, test UDP sockets as their peers: RTP in through
 * SRTP, out under the pipe consumer's SSRCs, a tampered packet and strangers'
 * packets dropped, a PLI from the far side turned into SRTCP PLIs for every
 * encoding towards the sender. Runs plain, under ASan/UBSan and valgrind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <openssl/evp.h>

#define PH_FAIL(...) fail_msg(__VA_ARGS__)
#include "pipe_harness.h"
#include "rtc_test_util.h"
#include "sfu_rtcp.h"
#include "sfu_srtp.h"

static ph_t H;

static int setup(void **state) {
  (void)state;
  ph_up(&H, SFU_LOG_LEVEL_DEBUG);
  assert_true(ph_request(&H, FBS_Request_Method_WORKER_CREATE_ROUTER, "", FBS_Request_Body_Worker_CreateRouterRequest,
                         ph_router_body, "r1"));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ph_down(&H);
  rtc_free_bufs();
  return 0;
}

static uint16_t create_pipe(const char *id, bool srtp, char *key, size_t cap) {
  ph_pipe_opts_t o = {.id = id, .srtp = srtp};
  char why[256];
  if (!ph_request(&H, FBS_Request_Method_ROUTER_CREATE_PIPETRANSPORT, "r1",
                  FBS_Request_Body_Router_CreatePipeTransportRequest, ph_pipe_body, &o))
    fail_msg("create %s: %s", id, ph_reason(&H, why, sizeof(why)));
  assert_int_equal(FBS_Response_Response_body_type(H.response), FBS_Response_Body_PipeTransport_DumpResponse);
  return ph_pipe_port(&H, key, cap);
}

static bool connect_pipe(const char *id, ph_connect_t *c) {
  return ph_request(&H, FBS_Request_Method_PIPETRANSPORT_CONNECT, id, FBS_Request_Body_PipeTransport_ConnectRequest,
                    ph_connect_body, c);
}

static void expect_reason(const char *want) {
  char why[256];
  assert_false(FBS_Response_Response_accepted(H.response));
  ph_reason(&H, why, sizeof(why));
  if (strstr(why, want) == NULL) fail_msg("reason '%s' does not say '%s'", why, want);
}

static void test_create_and_connect_errors(void **state) {
  (void)state;
  char key[128] = "";
  ph_pipe_opts_t tcp = {.id = "t-tcp", .tcp = true};
  assert_false(ph_request(&H, FBS_Request_Method_ROUTER_CREATE_PIPETRANSPORT, "r1",
                          FBS_Request_Body_Router_CreatePipeTransportRequest, ph_pipe_body, &tcp));
  expect_reason("unsupported listen protocol");
  uint16_t port = create_pipe("t1", true, key, sizeof(key));
  assert_true(port > 0);
  /* 44 bytes of key and salt, base64 */
  assert_int_equal(strlen(key), 60);
  uint8_t raw[64];
  assert_int_equal(EVP_DecodeBlock(raw, (const unsigned char *)key, 60), 45); /* 44 + one padding byte */
  /* the same id twice */
  ph_pipe_opts_t dup = {.id = "t1"};
  assert_false(ph_request(&H, FBS_Request_Method_ROUTER_CREATE_PIPETRANSPORT, "r1",
                          FBS_Request_Body_Router_CreatePipeTransportRequest, ph_pipe_body, &dup));
  ph_connect_t c = {.port = 9999};
  assert_false(connect_pipe("t1", &c));
  expect_reason("missing srtpParameters");
  c = (ph_connect_t){.port = 9999, .key_b64 = key, .suite = SFU_SRTP_AES_CM_128_HMAC_SHA1_80};
  assert_false(connect_pipe("t1", &c));
  expect_reason("cryptoSuite");
  c = (ph_connect_t){.port = 9999, .key_b64 = "YWJjZA==", .suite = SFU_SRTP_AEAD_AES_256_GCM};
  assert_false(connect_pipe("t1", &c));
  expect_reason("key length");
  c = (ph_connect_t){.port = 9999, .key_b64 = "not base64 at all!!!", .suite = SFU_SRTP_AEAD_AES_256_GCM};
  assert_false(connect_pipe("t1", &c));
  c = (ph_connect_t){.port = 9999, .ip = "1.2.3", .key_b64 = key, .suite = SFU_SRTP_AEAD_AES_256_GCM};
  assert_false(connect_pipe("t1", &c));
  expect_reason("invalid IP");
  c = (ph_connect_t){.port = 9999, .key_b64 = key, .suite = SFU_SRTP_AEAD_AES_256_GCM};
  assert_true(connect_pipe("t1", &c));
  assert_int_equal(FBS_Response_Response_body_type(H.response), FBS_Response_Body_PipeTransport_ConnectResponse);
  fb_table_t tuple = FBS_PipeTransport_ConnectResponse_tuple(FBS_Response_Response_body(H.response));
  assert_int_equal(FBS_Transport_Tuple_remote_port(tuple), 9999);
  assert_int_equal(FBS_Transport_Tuple_local_port(tuple), port);
  assert_false(connect_pipe("t1", &c));
  expect_reason("already called");
  /* without SRTP, srtpParameters are refused */
  create_pipe("t2", false, NULL, 0);
  assert_false(connect_pipe("t2", &c));
  expect_reason("SRTP not enabled");
  c = (ph_connect_t){.port = 9999};
  assert_true(connect_pipe("t2", &c));
}

static size_t key_frame(uint8_t *buf, size_t cap, uint16_t seq, uint32_t ts, uint32_t ssrc, bool key) {
  tpkt_t t;
  uint8_t payload[60];
  rtc_vp8_payload(payload, key, sizeof(payload));
  rtc_make_pkt(&t, 96, seq, ts, ssrc, true, payload, sizeof(payload), NULL, 0);
  assert_true(t.pkt.len <= cap);
  memcpy(buf, t.buf, t.pkt.len);
  return t.pkt.len;
}

static void test_media_through_pipes(void **state) {
  (void)state;
  char key_a[128];
  uint16_t ps, ps2, px;
  int s = ph_udp(&ps), s2 = ph_udp(&ps2), stranger = ph_udp(&px);
  uint16_t pa = create_pipe("pA", true, key_a, sizeof(key_a));
  uint16_t pc = create_pipe("pC", false, NULL, 0);

  /* our side of pA's SRTP: we send with our key, read with pA's */
  uint8_t our_key[44], their_key[64];
  for (int i = 0; i < 44; i++) our_key[i] = (uint8_t)(i * 7 + 1);
  char our_b64[80];
  EVP_EncodeBlock((unsigned char *)our_b64, our_key, 44);
  assert_int_equal(EVP_DecodeBlock(their_key, (const unsigned char *)key_a, 60), 45);
  sfu_srtp_t *out = NULL, *in = NULL;
  assert_int_equal(sfu_srtp_create(&out, SFU_SRTP_OUTBOUND, SFU_SRTP_AEAD_AES_256_GCM, our_key, 44), 0);
  assert_int_equal(sfu_srtp_create(&in, SFU_SRTP_INBOUND, SFU_SRTP_AEAD_AES_256_GCM, their_key, 44), 0);

  ph_connect_t c = {.port = ps, .key_b64 = our_b64, .suite = SFU_SRTP_AEAD_AES_256_GCM};
  assert_true(connect_pipe("pA", &c));
  c = (ph_connect_t){.port = ps2};
  assert_true(connect_pipe("pC", &c));

  /* a producer with two encodings on pA, a pipe consumer of both on pC */
  static const tcodec_t vp8 = {.mime = "video/VP8", .pt = 96, .clock = 90000, .nack = true, .pli = true};
  static const tcodec_t vp8c = {.mime = "video/VP8", .pt = 106, .clock = 90000, .nack = true, .pli = true};
  const tenc_t encs[2] = {{.ssrc = 3000}, {.ssrc = 3001}};
  const tenc_t cencs[2] = {{.ssrc = 9000}, {.ssrc = 9001}};
  trtp_t pr = {.codecs = &vp8, .ncodecs = 1, .encs = encs, .nencs = 2};
  trtp_t cr = {.codecs = &vp8c, .ncodecs = 1, .encs = cencs, .nencs = 2};
  ph_clone_t produce = {FBS_Transport_ProduceRequest_clone, rtc_produce_req("p1", true, &pr, 5000, false)};
  assert_true(ph_request(&H, FBS_Request_Method_TRANSPORT_PRODUCE, "pA", FBS_Request_Body_Transport_ProduceRequest,
                         ph_clone_body, &produce));
  ph_clone_t consume = {FBS_Transport_ConsumeRequest_clone,
                        rtc_consume_req("c1", "p1", true, FBS_RtpParameters_Type_PIPE, &cr, 5000, 2, -1, false)};
  assert_true(ph_request(&H, FBS_Request_Method_TRANSPORT_CONSUME, "pC", FBS_Request_Body_Transport_ConsumeRequest,
                         ph_clone_body, &consume));

  uint8_t buf[1500], rbuf[1500];
  size_t len, n;
  /* a key frame on each encoding, protected */
  for (int e = 0; e < 2; e++) {
    len = key_frame(buf, sizeof(buf) - 64, (uint16_t)(100 + e), 9000, 3000u + (uint32_t)e, true);
    assert_int_equal(sfu_srtp_protect_rtp(out, buf, &len, sizeof(buf)), 0);
    ph_sendto(s, pa, buf, len);
    n = ph_recv(&H, s2, rbuf, sizeof(rbuf), 500);
    assert_true(n > 12);
    assert_int_equal(rbuf[1] & 0x7f, 106);
    assert_int_equal((uint32_t)rbuf[8] << 24 | (uint32_t)rbuf[9] << 16 | (uint32_t)rbuf[10] << 8 | rbuf[11], 9000u + (uint32_t)e);
    assert_int_equal((uint16_t)(rbuf[2] << 8 | rbuf[3]), 100 + e); /* first packet: numbers as they came */
  }
  /* a tampered packet, a plain one, and one from a stranger: nothing comes out */
  len = key_frame(buf, sizeof(buf) - 64, 101, 12000, 3000, false);
  assert_int_equal(sfu_srtp_protect_rtp(out, buf, &len, sizeof(buf)), 0);
  buf[len - 1] ^= 1;
  ph_sendto(s, pa, buf, len);
  len = key_frame(buf, sizeof(buf) - 64, 102, 15000, 3000, false);
  ph_sendto(s, pa, buf, len);
  ph_sendto(stranger, pa, buf, len);
  ph_sendto(stranger, pc, buf, len);
  assert_int_equal(ph_recv(&H, s2, rbuf, sizeof(rbuf), 100), 0);
  /* a PLI about our second SSRC from pC's peer: SRTCP PLIs to the sender for both encodings */
  int pli = sfu_rtcp_pli_build(buf, sizeof(buf), 1, 9001);
  assert_true(pli > 0);
  ph_sendto(s2, pc, buf, (size_t)pli);
  bool seen[2] = {false, false};
  for (int k = 0; k < 20 && !(seen[0] && seen[1]); k++) {
    n = ph_recv(&H, s, rbuf, sizeof(rbuf), 200);
    if (n == 0) break;
    if (sfu_srtp_unprotect_rtcp(in, rbuf, &n) != 0) continue;
    sfu_rtcp_iter_t it;
    sfu_rtcp_hdr_t hd;
    sfu_rtcp_iter_init(&it, rbuf, n);
    while (sfu_rtcp_iter_next(&it, &hd) == 1) {
      sfu_rtcp_fb_t fb;
      if (hd.pt == SFU_RTCP_PT_PSFB && hd.count == 1 && sfu_rtcp_pli_parse(&hd, &fb) == 0 && fb.media_ssrc >= 3000 &&
          fb.media_ssrc <= 3001)
        seen[fb.media_ssrc - 3000] = true;
    }
  }
  assert_true(seen[0] && seen[1]);
  /* the transport's stats count what came in */
  assert_true(ph_request(&H, FBS_Request_Method_TRANSPORT_GET_STATS, "pA", 0, NULL, NULL));
  assert_int_equal(FBS_Response_Response_body_type(H.response), FBS_Response_Body_PipeTransport_GetStatsResponse);
  fb_table_t st = FBS_PipeTransport_GetStatsResponse_base(FBS_Response_Response_body(H.response));
  assert_true(FBS_Transport_Stats_bytes_received(st) > 0);
  assert_true(FBS_Transport_Stats_bytes_sent(st) > 0);
  /* closing the router closes both pipes (ph_down checks nothing is left) */
  assert_true(ph_request(&H, FBS_Request_Method_WORKER_CLOSE_ROUTER, "", FBS_Request_Body_Worker_CloseRouterRequest,
                         ph_router_close_body, "r1"));
  sfu_srtp_destroy(out);
  sfu_srtp_destroy(in);
  close(s);
  close(s2);
  close(stranger);
}

int main(void) {
  if (sfu_srtp_init() != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_create_and_connect_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_media_through_pipes, setup, teardown),
  };
  int r = cmocka_run_group_tests(tests, NULL, NULL);
  sfu_srtp_shutdown();
  return r;
}
