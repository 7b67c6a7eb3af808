/* Helpers shared by the network unit tests (header-only, static). */
#ifndef NET_TEST_UTIL_H
#define NET_TEST_UTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

/* True if `port` can be bound on ip (127.0.0.1 or ::1) for SOCK_DGRAM and SOCK_STREAM. */
static inline bool ntu_port_free(const char *ip, uint16_t port) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  socklen_t sl;
  if (strchr(ip, ':') != NULL) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &a->sin6_addr);
    sl = sizeof(*a);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    inet_pton(AF_INET, ip, &a->sin_addr);
    sl = sizeof(*a);
  }
  const int types[2] = {SOCK_DGRAM, SOCK_STREAM};
  for (int i = 0; i < 2; i++) {
    int fd = socket(ss.ss_family, types[i], 0);
    if (fd < 0) return false;
    int ok = bind(fd, (struct sockaddr *)&ss, sl) == 0;
    close(fd);
    if (!ok) return false;
  }
  return true;
}

/* A base port such that [base, base + n) is free on 127.0.0.1 and ::1,
 * below the kernel's ephemeral range. 0 if none was found. */
static inline uint16_t ntu_free_range(uint16_t n) {
  uint32_t base = 20000u + ((uint32_t)getpid() * 131u + (uint32_t)time(NULL)) % 10000u;
  for (int tries = 0; tries < 200; tries++, base = 20000u + (base - 20000u + 97u) % 10000u) {
    bool ok = true;
    for (uint16_t i = 0; i < n && ok; i++)
      ok = ntu_port_free("127.0.0.1", (uint16_t)(base + i)) && ntu_port_free("::1", (uint16_t)(base + i));
    if (ok) return (uint16_t)base;
  }
  return 0;
}

typedef struct ntu__deadline {
  uint64_t at;
  bool expired;
} ntu__deadline_t;

static inline void ntu__tick_cb(uv_timer_t *t) {
  ntu__deadline_t *d = t->data;
  if (uv_now(t->loop) >= d->at) d->expired = true;
}

/* Runs the loop until *flag becomes true or timeout_ms pass. A repeating
 * 2 ms timer bounds every poll (a one-shot timer could fire at the start of a
 * UV_RUN_ONCE turn and leave the poll without a timeout). */
static inline bool ntu_run_until(uv_loop_t *loop, const volatile bool *flag, int timeout_ms) {
  uv_timer_t t;
  ntu__deadline_t d;
  uv_update_time(loop);
  d.at = uv_now(loop) + (uint64_t)timeout_ms;
  d.expired = false;
  uv_timer_init(loop, &t);
  t.data = &d;
  uv_timer_start(&t, ntu__tick_cb, 2, 2);
  while (!*flag && !d.expired) uv_run(loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(loop, UV_RUN_NOWAIT); /* completes the close while t is alive */
  return *flag;
}

/* Runs the loop for about ms milliseconds. */
static inline void ntu_run_for(uv_loop_t *loop, int ms) {
  bool never = false;
  (void)ntu_run_until(loop, &never, ms);
}

/* Lets pending close callbacks run, then closes the loop: 0 when everything was freed. */
static inline int ntu_loop_finish(uv_loop_t *loop) {
  for (int i = 0; i < 20; i++) uv_run(loop, UV_RUN_NOWAIT);
  return uv_loop_close(loop);
}

#endif
