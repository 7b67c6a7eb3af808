#include "sfu_settings.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"

static const char *const sfu__level_names[] = {"debug", "warn", "error", "none"};

void sfu_settings_init(sfu_settings_t *s) {
  memset(s, 0, sizeof(*s));
  s->log_level = SFU_LOG_LEVEL_ERROR;
  s->log_tags = 0;
  s->rtc_min_port = 10000;
  s->rtc_max_port = 59999;
}

void sfu_settings_free(sfu_settings_t *s) {
  free(s->dtls_certificate_file);
  free(s->dtls_private_key_file);
  free(s->libwebrtc_field_trials);
  memset(s, 0, sizeof(*s));
}

int sfu_settings_parse_log_level(const char *str, size_t len, sfu_log_level_t *out) {
  for (int i = 0; i <= SFU_LOG_LEVEL_NONE; i++) {
    if (strlen(sfu__level_names[i]) == len && memcmp(sfu__level_names[i], str, len) == 0) {
      *out = (sfu_log_level_t)i;
      return 0;
    }
  }
  return SFU_EINVAL;
}

const char *sfu_settings_log_level_name(sfu_log_level_t level) {
  if ((unsigned)level > SFU_LOG_LEVEL_NONE) return "unknown";
  return sfu__level_names[level];
}

uint32_t sfu_settings_log_tag_bit(const char *str, size_t len) {
#define XX(name)                                                          \
  if (sizeof(#name) - 1 == len && memcmp(#name, str, len) == 0) \
    return SFU_LOGTAG_##name;
  SFU_LOGTAG_MAP(XX)
#undef XX
  return 0;
}

static int sfu__fail(char *err, size_t err_len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
  return SFU_EINVAL;
}

static int sfu__parse_port(const char *v, uint16_t *out) {
  char *end = NULL;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0' || n < 0 || n > 65535) return SFU_EINVAL;
  *out = (uint16_t)n;
  return 0;
}

static int sfu__set_string(char **dst, const char *v) {
  char *copy = strdup(v);
  if (copy == NULL) return SFU_ENOMEM;
  free(*dst);
  *dst = copy;
  return 0;
}

/* Long options as getopt_long_only() would match them: full name or an
 * unambiguous prefix ("--logTag" is how the Node library spells "logTags"). */
enum { OPT_LOG_LEVEL, OPT_LOG_TAGS, OPT_MIN_PORT, OPT_MAX_PORT, OPT_CERT, OPT_KEY, OPT_TRIALS, OPT_LIBURING, OPT_COUNT };
static const char *const sfu__options[OPT_COUNT] = {
    "logLevel", "logTags", "rtcMinPort", "rtcMaxPort", "dtlsCertificateFile", "dtlsPrivateKeyFile", "libwebrtcFieldTrials", "disableLiburing"};

static int sfu__match_option(const char *name, size_t len) {
  int found = -1;
  for (int i = 0; i < OPT_COUNT; i++) {
    size_t olen = strlen(sfu__options[i]);
    if (len == olen && memcmp(name, sfu__options[i], len) == 0) return i;
    if (len > 0 && len < olen && memcmp(name, sfu__options[i], len) == 0) {
      if (found >= 0) return -2; /* ambiguous */
      found = i;
    }
  }
  return found;
}

int sfu_settings_parse(sfu_settings_t *s, int argc, char **argv, char *err, size_t err_len) {
  uint32_t tags = 0;
  int have_tags = 0;

  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *name;
    const char *value;
    size_t name_len;

    if (arg[0] != '-') return sfu__fail(err, err_len, "unexpected argument '%s'", arg);
    name = arg + 1;
    if (*name == '-') name++;
    value = strchr(name, '=');
    if (value != NULL) {
      name_len = (size_t)(value - name);
      value++;
    } else {
      name_len = strlen(name);
      if (i + 1 >= argc) return sfu__fail(err, err_len, "missing value for option '%s'", arg);
      value = argv[++i];
    }

    int opt = sfu__match_option(name, name_len);
    if (opt == -2) return sfu__fail(err, err_len, "ambiguous option '%s'", arg);
    if (opt < 0) return sfu__fail(err, err_len, "unknown option '%s'", arg);

    int r = 0;
    switch (opt) {
      case OPT_LOG_LEVEL:
        if (sfu_settings_parse_log_level(value, strlen(value), &s->log_level) != 0)
          return sfu__fail(err, err_len, "invalid value '%s' for logLevel", value);
        break;
      case OPT_LOG_TAGS:
        have_tags = 1;
        tags |= sfu_settings_log_tag_bit(value, strlen(value));
        break;
      case OPT_MIN_PORT:
        if (sfu__parse_port(value, &s->rtc_min_port) != 0)
          return sfu__fail(err, err_len, "invalid value '%s' for rtcMinPort", value);
        break;
      case OPT_MAX_PORT:
        if (sfu__parse_port(value, &s->rtc_max_port) != 0)
          return sfu__fail(err, err_len, "invalid value '%s' for rtcMaxPort", value);
        break;
      case OPT_CERT:
        r = sfu__set_string(&s->dtls_certificate_file, value);
        break;
      case OPT_KEY:
        r = sfu__set_string(&s->dtls_private_key_file, value);
        break;
      case OPT_TRIALS:
        r = sfu__set_string(&s->libwebrtc_field_trials, value);
        break;
      case OPT_LIBURING:
        break; /* accepted for compatibility: this worker does not use io_uring */
    }
    if (r != 0) return sfu__fail(err, err_len, "out of memory");
  }

  if (have_tags) s->log_tags = tags;
  if (s->rtc_max_port < s->rtc_min_port)
    return sfu__fail(err, err_len, "rtcMaxPort cannot be less than rtcMinPort");
  if ((s->dtls_certificate_file == NULL) != (s->dtls_private_key_file == NULL))
    return sfu__fail(err, err_len, "dtlsCertificateFile and dtlsPrivateKeyFile must be given together");
  if (s->dtls_certificate_file != NULL && s->dtls_certificate_file[0] == '\0')
    return sfu__fail(err, err_len, "empty dtlsCertificateFile");
  if (s->dtls_private_key_file != NULL && s->dtls_private_key_file[0] == '\0')
    return sfu__fail(err, err_len, "empty dtlsPrivateKeyFile");
  return 0;
}
