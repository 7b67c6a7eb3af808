#include "sfu_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SFU_LOG_LINE_MAX 2048

void sfu_log_init(sfu_log_t *log, sfu_log_level_t level, uint32_t tags) {
  memset(log, 0, sizeof(*log));
  log->level = level;
  log->tags = tags;
}

void sfu_log_set_sink(sfu_log_t *log, sfu_log_sink_fn sink, void *arg) {
  log->sink = sink;
  log->sink_arg = arg;
}

void sfu_log_write(sfu_log_t *log, char letter, const char *tag, const char *func, const char *fmt, ...) {
  char line[SFU_LOG_LINE_MAX];
  int n;
  size_t len;
  va_list ap;

  if (tag != NULL)
    n = snprintf(line, sizeof(line), "%c[%s] %s() | ", letter, tag, func);
  else
    n = snprintf(line, sizeof(line), "%c%s() | ", letter, func);
  if (n < 0) return;
  len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;

  va_start(ap, fmt);
  n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  len += (size_t)n;
  if (len >= sizeof(line)) len = sizeof(line) - 1; /* truncated */

  if (log->sink != NULL) {
    log->sink(log->sink_arg, line, len);
  } else {
    /* Before the channel exists (or after it closed): stderr, which the Node
     * library logs as worker errors. The level letter is dropped. */
    line[len] = '\n';
    ssize_t w = write(STDERR_FILENO, line + 1, len);
    if (w < 0) log->dropped++;
  }
}
