#include "sfu_sctp_env.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <usrsctp.h>

#include "sfu_error.h"
#include "sfu_sctp_assoc.h"

#define SFU_SCTP_TICK_MS 10
#define SFU_SCTP_SLOT_BITS 16
#define SFU_SCTP_SLOT_MASK ((1u << SFU_SCTP_SLOT_BITS) - 1)

typedef struct sfu_sctp_slot {
  uint32_t id; /* 0: free */
  sfu_sctp_assoc_t *assoc;
} sfu_sctp_slot_t;

typedef struct sfu_sctp_env {
  sfu_ctx_t *ctx;
  uv_timer_t *timer;
  uint64_t last_ms;
  sfu_sctp_slot_t *slots;
  uint32_t cap, count, generation;
  int usrsctp_ready;
  int crc_offload;
} sfu_sctp_env_t;

/* usrsctp's callbacks give no user argument: see the header. */
static sfu_sctp_env_t sfu__env;

static int sfu__conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df) {
  (void)tos, (void)set_df;
  sfu_sctp_assoc_t *a = sfu_sctp_env_find((uint32_t)(uintptr_t)addr);
  if (a != NULL) sfu__sctp_assoc_output(a, buf, len);
  return 0;
}

static void sfu__timer_cb(uv_timer_t *timer) {
  uint64_t now = uv_now(timer->loop);
  uint32_t elapsed = (uint32_t)(now - sfu__env.last_ms);
  sfu__env.last_ms = now;
  usrsctp_handle_timers(elapsed);
}

static void sfu__timer_closed(uv_handle_t *h) { free(h); }

int sfu_sctp_env_add(sfu_ctx_t *ctx, sfu_sctp_assoc_t *a, uint32_t *id) {
  sfu_sctp_env_t *e = &sfu__env;
  uint32_t slot;
  if (!e->usrsctp_ready) {
    usrsctp_init_nothreads(0, sfu__conn_output, NULL);
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_sysctl_set_sctp_blackhole(2);
    usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
    if (e->crc_offload) usrsctp_enable_crc32c_offload();
    e->usrsctp_ready = 1;
  }
  if (e->count == e->cap) {
    uint32_t cap = e->cap ? e->cap * 2 : 16;
    if (cap > SFU_SCTP_SLOT_MASK + 1) return SFU_ENOMEM;
    sfu_sctp_slot_t *n = realloc(e->slots, cap * sizeof(*n));
    if (n == NULL) return SFU_ENOMEM;
    for (uint32_t i = e->cap; i < cap; i++) n[i].id = 0, n[i].assoc = NULL;
    e->slots = n;
    e->cap = cap;
  }
  if (e->timer == NULL) {
    if ((e->timer = malloc(sizeof(*e->timer))) == NULL) return SFU_ENOMEM;
    uv_timer_init(ctx->loop, e->timer);
    e->ctx = ctx;
    e->last_ms = uv_now(ctx->loop);
    uv_timer_start(e->timer, sfu__timer_cb, SFU_SCTP_TICK_MS, SFU_SCTP_TICK_MS);
  }
  for (slot = 0; slot < e->cap && e->slots[slot].id != 0; slot++) {
  }
  /* Generation in the high bits: an id is never reused while usrsctp might still know it. */
  if (++e->generation > (UINT32_MAX >> SFU_SCTP_SLOT_BITS)) e->generation = 1;
  e->slots[slot].id = (e->generation << SFU_SCTP_SLOT_BITS) | slot;
  e->slots[slot].assoc = a;
  e->count++;
  *id = e->slots[slot].id;
  return 0;
}

sfu_sctp_assoc_t *sfu_sctp_env_find(uint32_t id) {
  uint32_t slot = id & SFU_SCTP_SLOT_MASK;
  if (id == 0 || slot >= sfu__env.cap || sfu__env.slots[slot].id != id) return NULL;
  return sfu__env.slots[slot].assoc;
}

void sfu_sctp_env_remove(uint32_t id) {
  sfu_sctp_env_t *e = &sfu__env;
  uint32_t slot = id & SFU_SCTP_SLOT_MASK;
  if (id == 0 || slot >= e->cap || e->slots[slot].id != id) return;
  e->slots[slot].id = 0;
  e->slots[slot].assoc = NULL;
  if (--e->count > 0) return;
  /* Last one: stop driving usrsctp (it stays initialised for the next). */
  if (e->timer != NULL) {
    uv_close((uv_handle_t *)e->timer, sfu__timer_closed);
    e->timer = NULL;
  }
  free(e->slots);
  e->slots = NULL;
  e->cap = 0;
}

uint32_t sfu_sctp_env_count(void) { return sfu__env.count; }

void sfu_sctp_env_disable_crc_check(void) {
  sfu__env.crc_offload = 1;
  if (sfu__env.usrsctp_ready) usrsctp_enable_crc32c_offload();
}
