/* Logging. Lines travel to the Node library as protocol Log messages whose
 * text starts with the level letter ('D', 'W', 'E', 'X'), which is how
 * mediasoup's Channel routes them. The macros test level and tag before the
 * arguments are evaluated (Redis serverLog, mediasoup Logger.hpp). */
#ifndef SFU_LOG_H
#define SFU_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "sfu_settings.h"

typedef void (*sfu_log_sink_fn)(void *arg, const char *line, size_t len);

typedef struct sfu_log {
  sfu_log_level_t level;
  uint32_t tags;
  sfu_log_sink_fn sink; /* NULL: stderr */
  void *sink_arg;
  uint64_t dropped; /* lines the sink could not take */
} sfu_log_t;

void sfu_log_init(sfu_log_t *log, sfu_log_level_t level, uint32_t tags);
void sfu_log_set_sink(sfu_log_t *log, sfu_log_sink_fn sink, void *arg);

#if defined(__GNUC__)
#define SFU__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SFU__PRINTF(a, b)
#endif

void sfu_log_write(sfu_log_t *log, char letter, const char *tag, const char *func, const char *fmt, ...)
    SFU__PRINTF(5, 6);

#define SFU_LOG_ENABLED(log, lvl) ((log)->level <= (lvl))

#define SFU_DEBUG_TAG(log, tag, ...)                                                   \
  do {                                                                                 \
    if ((log)->level <= SFU_LOG_LEVEL_DEBUG && ((log)->tags & SFU_LOGTAG_##tag) != 0u) \
      sfu_log_write((log), 'D', #tag, __func__, __VA_ARGS__);                          \
  } while (0)

#define SFU_WARN_TAG(log, tag, ...)                                                   \
  do {                                                                                \
    if ((log)->level <= SFU_LOG_LEVEL_WARN && ((log)->tags & SFU_LOGTAG_##tag) != 0u) \
      sfu_log_write((log), 'W', #tag, __func__, __VA_ARGS__);                         \
  } while (0)

/* Untagged debug/warn: shown at that level whatever the tags. */
#define SFU_DEBUG(log, ...)                                                                    \
  do {                                                                                         \
    if ((log)->level <= SFU_LOG_LEVEL_DEBUG) sfu_log_write((log), 'D', NULL, __func__, __VA_ARGS__); \
  } while (0)

#define SFU_WARN(log, ...)                                                                    \
  do {                                                                                        \
    if ((log)->level <= SFU_LOG_LEVEL_WARN) sfu_log_write((log), 'W', NULL, __func__, __VA_ARGS__); \
  } while (0)

#define SFU_ERROR(log, ...)                                                                    \
  do {                                                                                         \
    if ((log)->level <= SFU_LOG_LEVEL_ERROR) sfu_log_write((log), 'E', NULL, __func__, __VA_ARGS__); \
  } while (0)

#endif
