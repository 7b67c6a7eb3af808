/* Worker settings: the command line mediasoup's Node library passes
 * (--logLevel, --logTag(s), --rtcMinPort, --rtcMaxPort, --dtlsCertificateFile,
 * --dtlsPrivateKeyFile, --libwebrtcFieldTrials, --disableLiburing) and the
 * run-time changes of WORKER_UPDATE_SETTINGS. */
#ifndef SFU_SETTINGS_H
#define SFU_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

typedef enum sfu_log_level {
  SFU_LOG_LEVEL_DEBUG = 0,
  SFU_LOG_LEVEL_WARN = 1,
  SFU_LOG_LEVEL_ERROR = 2,
  SFU_LOG_LEVEL_NONE = 3
} sfu_log_level_t;

/* mediasoup's log tags, one bit each. */
#define SFU_LOGTAG_MAP(XX) \
  XX(info)                 \
  XX(ice)                  \
  XX(dtls)                 \
  XX(rtp)                  \
  XX(srtp)                 \
  XX(rtcp)                 \
  XX(rtx)                  \
  XX(bwe)                  \
  XX(score)                \
  XX(simulcast)            \
  XX(svc)                  \
  XX(sctp)                 \
  XX(message)

enum {
#define XX(name) SFU_LOGTAG_BIT_##name,
  SFU_LOGTAG_MAP(XX)
#undef XX
  SFU_LOGTAG_BIT_COUNT
};

enum {
#define XX(name) SFU_LOGTAG_##name = 1u << SFU_LOGTAG_BIT_##name,
  SFU_LOGTAG_MAP(XX)
#undef XX
};

typedef struct sfu_settings {
  sfu_log_level_t log_level;
  uint32_t log_tags; /* SFU_LOGTAG_* bits */
  uint16_t rtc_min_port;
  uint16_t rtc_max_port;
  char *dtls_certificate_file; /* NULL: generate one */
  char *dtls_private_key_file;
  char *libwebrtc_field_trials;
} sfu_settings_t;

void sfu_settings_init(sfu_settings_t *s);
void sfu_settings_free(sfu_settings_t *s);

/* Parses argv (argv[0] is the program). 0 or SFU_EINVAL with a reason in err. */
int sfu_settings_parse(sfu_settings_t *s, int argc, char **argv, char *err, size_t err_len);

/* "debug" | "warn" | "error" | "none". 0 or SFU_EINVAL. */
int sfu_settings_parse_log_level(const char *str, size_t len, sfu_log_level_t *out);
const char *sfu_settings_log_level_name(sfu_log_level_t level);

/* Bit for a tag name; 0 for an unknown tag (ignored, as mediasoup does). */
uint32_t sfu_settings_log_tag_bit(const char *str, size_t len);

#endif
