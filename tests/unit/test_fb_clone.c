/* Generated deep clone: a clone reads back identical to its source (compared
 * with the generated touch(), which folds every field, string, vector and
 * nested table into one accumulator) and survives verification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fb.h"
#include "fbs_generated.h"

static fb_ref_t build_rtp_parameters(fb_builder_t *b, bool full) {
  fb_ref_t mime = fb_create_cstring(b, "audio/opus");
  fb_ref_t pname = fb_create_cstring(b, "useinbandfec");
  FBS_RtpParameters_Integer32_start(b);
  FBS_RtpParameters_Integer32_add_value(b, 1);
  fb_ref_t ival = FBS_RtpParameters_Integer32_end(b);
  FBS_RtpParameters_Parameter_start(b);
  FBS_RtpParameters_Parameter_add_name(b, pname);
  FBS_RtpParameters_Parameter_add_value(b, FBS_RtpParameters_Value_Integer32, ival);
  fb_ref_t param = FBS_RtpParameters_Parameter_end(b);
  fb_ref_t params = fb_create_vec_refs(b, &param, 1);
  fb_ref_t fbtype = fb_create_cstring(b, "transport-cc");
  FBS_RtpParameters_RtcpFeedback_start(b);
  FBS_RtpParameters_RtcpFeedback_add_type(b, fbtype);
  fb_ref_t fbk = FBS_RtpParameters_RtcpFeedback_end(b);
  fb_ref_t fbks = fb_create_vec_refs(b, &fbk, 1);
  FBS_RtpParameters_RtpCodecParameters_start(b);
  FBS_RtpParameters_RtpCodecParameters_add_mime_type(b, mime);
  FBS_RtpParameters_RtpCodecParameters_add_payload_type(b, 111);
  FBS_RtpParameters_RtpCodecParameters_add_clock_rate(b, 48000);
  if (full) FBS_RtpParameters_RtpCodecParameters_add_channels(b, 2);
  FBS_RtpParameters_RtpCodecParameters_add_parameters(b, params);
  FBS_RtpParameters_RtpCodecParameters_add_rtcp_feedback(b, fbks);
  fb_ref_t codec = FBS_RtpParameters_RtpCodecParameters_end(b);
  fb_ref_t codecs = fb_create_vec_refs(b, &codec, 1);
  FBS_RtpParameters_RtpHeaderExtensionParameters_start(b);
  FBS_RtpParameters_RtpHeaderExtensionParameters_add_uri(b, FBS_RtpParameters_RtpHeaderExtensionUri_SsrcAudioLevel);
  FBS_RtpParameters_RtpHeaderExtensionParameters_add_id(b, 10);
  fb_ref_t ext = FBS_RtpParameters_RtpHeaderExtensionParameters_end(b);
  fb_ref_t exts = fb_create_vec_refs(b, &ext, 1);
  fb_ref_t encs;
  if (full) {
    FBS_RtpParameters_Rtx_start(b);
    FBS_RtpParameters_Rtx_add_ssrc(b, 2222);
    fb_ref_t rtx = FBS_RtpParameters_Rtx_end(b);
    FBS_RtpParameters_RtpEncodingParameters_start(b);
    FBS_RtpParameters_RtpEncodingParameters_add_ssrc(b, 1111);
    FBS_RtpParameters_RtpEncodingParameters_add_rtx(b, rtx);
    FBS_RtpParameters_RtpEncodingParameters_add_dtx(b, true);
    FBS_RtpParameters_RtpEncodingParameters_add_max_bitrate(b, 0); /* optional scalar, present with 0 */
    fb_ref_t enc = FBS_RtpParameters_RtpEncodingParameters_end(b);
    encs = fb_create_vec_refs(b, &enc, 1);
  } else {
    encs = fb_create_vec_refs(b, NULL, 0);
  }
  fb_ref_t cname = fb_create_cstring(b, "cname-1");
  FBS_RtpParameters_RtcpParameters_start(b);
  FBS_RtpParameters_RtcpParameters_add_cname(b, cname);
  FBS_RtpParameters_RtcpParameters_add_reduced_size(b, false);
  fb_ref_t rtcp = FBS_RtpParameters_RtcpParameters_end(b);
  fb_ref_t mid = full ? fb_create_cstring(b, "0") : 0;
  FBS_RtpParameters_RtpParameters_start(b);
  FBS_RtpParameters_RtpParameters_add_mid(b, mid);
  FBS_RtpParameters_RtpParameters_add_codecs(b, codecs);
  FBS_RtpParameters_RtpParameters_add_header_extensions(b, exts);
  FBS_RtpParameters_RtpParameters_add_encodings(b, encs);
  FBS_RtpParameters_RtpParameters_add_rtcp(b, rtcp);
  return FBS_RtpParameters_RtpParameters_end(b);
}

static void check_clone(bool full) {
  fb_builder_t a, c;
  const uint8_t *out;
  size_t len;
  assert_int_equal(fb_builder_init(&a, 64), 0);
  assert_int_equal(fb_builder_init(&c, 64), 0);
  fb_ref_t root = build_rtp_parameters(&a, full);
  assert_int_equal(fb_builder_finish(&a, root, &out, &len), 0);
  assert_int_equal(FBS_RtpParameters_RtpParameters_verify_root(out, len), 0);
  fb_table_t src = FBS_RtpParameters_RtpParameters_root(out, len);

  fb_ref_t cr = FBS_RtpParameters_RtpParameters_clone(&c, src);
  assert_int_not_equal(cr, 0);
  const uint8_t *cout;
  size_t clen;
  assert_int_equal(fb_builder_finish(&c, cr, &cout, &clen), 0);
  assert_int_equal(FBS_RtpParameters_RtpParameters_verify_root(cout, clen), 0);
  fb_table_t dst = FBS_RtpParameters_RtpParameters_root(cout, clen);

  uint64_t acc1 = 0, acc2 = 0;
  FBS_RtpParameters_RtpParameters_touch(src, &acc1);
  FBS_RtpParameters_RtpParameters_touch(dst, &acc2);
  assert_true(acc1 == acc2);
  /* Presence is kept too: optional scalars and absent strings. */
  fb_table_t enc0;
  if (full) {
    enc0 = fb_vec_table(FBS_RtpParameters_RtpParameters_encodings(dst), 0);
    assert_true(FBS_RtpParameters_RtpEncodingParameters_has_max_bitrate(enc0));
    assert_int_equal(FBS_RtpParameters_Rtx_ssrc(FBS_RtpParameters_RtpEncodingParameters_rtx(enc0)), 2222);
    assert_string_equal(FBS_RtpParameters_RtpParameters_mid(dst).ptr, "0");
  } else {
    assert_false(FBS_RtpParameters_RtpParameters_has_mid(dst));
    assert_int_equal(FBS_RtpParameters_RtpParameters_encodings(dst).len, 0);
    assert_true(FBS_RtpParameters_RtpParameters_has_encodings(dst));
  }
  fb_table_t codec = fb_vec_table(FBS_RtpParameters_RtpParameters_codecs(dst), 0);
  fb_table_t p0 = fb_vec_table(FBS_RtpParameters_RtpCodecParameters_parameters(codec), 0);
  assert_int_equal(FBS_RtpParameters_Parameter_value_type(p0), FBS_RtpParameters_Value_Integer32);
  assert_int_equal(FBS_RtpParameters_Integer32_value(FBS_RtpParameters_Parameter_value(p0)), 1);
  assert_int_equal(FBS_RtpParameters_RtpCodecParameters_has_channels(codec), full);
  fb_builder_free(&a);
  fb_builder_free(&c);
}

static void test_clone_full(void **state) { check_clone(true); }
static void test_clone_sparse(void **state) { check_clone(false); }

static void test_clone_absent(void **state) {
  fb_builder_t b;
  fb_table_t none = {NULL, 0};
  assert_int_equal(fb_builder_init(&b, 64), 0);
  assert_int_equal(FBS_RtpParameters_RtpParameters_clone(&b, none), 0);
  assert_int_equal(fb_builder_error(&b), 0);
  fb_builder_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clone_full),
      cmocka_unit_test(test_clone_sparse),
      cmocka_unit_test(test_clone_absent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
