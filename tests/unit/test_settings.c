/* Command-line settings: the arguments mediasoup's Node library passes and the
 * ones it must reject (exit 42 in main). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sfu_error.h"
#include "sfu_settings.h"

static int parse(sfu_settings_t *s, char **argv, int argc) {
  char err[256];
  sfu_settings_init(s);
  return sfu_settings_parse(s, argc, argv, err, sizeof(err));
}

#define PARSE(s, ...)                                      \
  ({                                                      \
    char *argv_[] = {"sfu-worker", __VA_ARGS__};          \
    parse((s), argv_, (int)(sizeof(argv_) / sizeof(argv_[0]))); \
  })

static void test_defaults(void **state) {
  sfu_settings_t s;
  char *argv[] = {"sfu-worker"};
  assert_int_equal(parse(&s, argv, 1), 0);
  assert_int_equal(s.log_level, SFU_LOG_LEVEL_ERROR);
  assert_int_equal(s.log_tags, 0);
  assert_int_equal(s.rtc_min_port, 10000);
  assert_int_equal(s.rtc_max_port, 59999);
  assert_null(s.dtls_certificate_file);
  sfu_settings_free(&s);
}

static void test_node_style_arguments(void **state) {
  sfu_settings_t s;
  assert_int_equal(PARSE(&s, "--logLevel=debug", "--logTag=info", "--logTag=ice", "--logTag=bogus", "--rtcMinPort=0",
                         "--rtcMaxPort=9999", "--libwebrtcFieldTrials=WebRTC-Bwe-AlrLimitedBackoff/Disabled/"),
                   0);
  assert_int_equal(s.log_level, SFU_LOG_LEVEL_DEBUG);
  assert_int_equal(s.log_tags, SFU_LOGTAG_info | SFU_LOGTAG_ice);
  assert_int_equal(s.rtc_min_port, 0);
  assert_int_equal(s.rtc_max_port, 9999);
  assert_string_equal(s.libwebrtc_field_trials, "WebRTC-Bwe-AlrLimitedBackoff/Disabled/");
  sfu_settings_free(&s);
  /* Separate value, full option name, single dash. */
  assert_int_equal(PARSE(&s, "--logLevel", "warn", "-logTags=rtp"), 0);
  assert_int_equal(s.log_level, SFU_LOG_LEVEL_WARN);
  assert_int_equal(s.log_tags, SFU_LOGTAG_rtp);
  sfu_settings_free(&s);
}

static void test_rejections(void **state) {
  sfu_settings_t s;
  assert_int_equal(PARSE(&s, "--logLevel=chicken"), SFU_EINVAL);
  sfu_settings_free(&s);
  assert_int_equal(PARSE(&s, "--rtcMinPort=1000", "--rtcMaxPort=999"), SFU_EINVAL);
  sfu_settings_free(&s);
  assert_int_equal(PARSE(&s, "--rtcMinPort=1000", "--rtcMaxPort=65536"), SFU_EINVAL);
  sfu_settings_free(&s);
  assert_int_equal(PARSE(&s, "--rtcMinPort=-1"), SFU_EINVAL);
  sfu_settings_free(&s);
  assert_int_equal(PARSE(&s, "--rtcMinPort=12x"), SFU_EINVAL);
  sfu_settings_free(&s);
  assert_int_equal(PARSE(&s, "--rtcMinPort="), SFU_EINVAL);
  sfu_settings_free(&s);
  assert_int_equal(PARSE(&s, "--unknown=1"), SFU_EINVAL);
  sfu_settings_free(&s);
  assert_int_equal(PARSE(&s, "--rtc=1"), SFU_EINVAL); /* ambiguous prefix */
  sfu_settings_free(&s);
  assert_int_equal(PARSE(&s, "stray"), SFU_EINVAL);
  sfu_settings_free(&s);
  assert_int_equal(PARSE(&s, "--logLevel"), SFU_EINVAL); /* missing value */
  sfu_settings_free(&s);
  assert_int_equal(PARSE(&s, "--dtlsCertificateFile=/x.pem"), SFU_EINVAL); /* key missing */
  sfu_settings_free(&s);
  assert_int_equal(PARSE(&s, "--dtlsPrivateKeyFile=/x.pem"), SFU_EINVAL);
  sfu_settings_free(&s);
}

static void test_log_level_names(void **state) {
  sfu_log_level_t l;
  assert_int_equal(sfu_settings_parse_log_level("none", 4, &l), 0);
  assert_int_equal(l, SFU_LOG_LEVEL_NONE);
  assert_int_equal(sfu_settings_parse_log_level("non", 3, &l), SFU_EINVAL);
  assert_int_equal(sfu_settings_parse_log_level("nonee", 5, &l), SFU_EINVAL);
  assert_string_equal(sfu_settings_log_level_name(SFU_LOG_LEVEL_WARN), "warn");
  assert_int_equal(sfu_settings_log_tag_bit("sctp", 4), SFU_LOGTAG_sctp);
  assert_int_equal(sfu_settings_log_tag_bit("sct", 3), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_node_style_arguments),
      cmocka_unit_test(test_rejections),
      cmocka_unit_test(test_log_level_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
