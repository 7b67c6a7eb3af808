#include "sfu_active_speaker_observer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "fbs_generated.h"
#include "sfu_error.h"
#include "sfu_producer.h"
#include "sfu_speaker.h"

#define SFU__C1 3.0 /* immediate log ratio to beat */
#define SFU__C2 2.0 /* medium */
#define SFU__C3 0.0 /* long */
#define SFU__SPEAKER_IDLE_MS (60 * 60 * 1000) /* a speaker silent this long stops competing */

typedef struct sfu_aso_entry {
  sfu_producer_t *producer;
  sfu_speaker_t speaker;
} sfu_aso_entry_t;

typedef struct sfu_aso {
  sfu_rtp_observer_t base;
  sfu_aso_entry_t *entries; /* in the order they were added */
  size_t nentries, cap;
  sfu_producer_t *dominant; /* NULL: none yet */
  uint64_t last_idle_check_ms;
} sfu_aso_t;

#define ASO(o) ((sfu_aso_t *)(o))

static sfu_aso_entry_t *sfu__entry(const sfu_aso_t *a, const sfu_producer_t *p) {
  for (size_t i = 0; i < a->nentries; i++)
    if (a->entries[i].producer == p) return &a->entries[i];
  return NULL;
}

/* Levels that stopped coming count as silence; a speaker silent for an hour stops competing. */
static void sfu__timeout_idle_levels(sfu_aso_t *a, uint64_t now_ms) {
  for (size_t i = 0; i < a->nentries; i++) {
    sfu_aso_entry_t *e = &a->entries[i];
    uint64_t idle = now_ms - e->speaker.last_level_ms;
    if (idle > SFU__SPEAKER_IDLE_MS && e->producer != a->dominant)
      e->speaker.paused = true;
    else if (idle > SFU_SPEAKER_LEVEL_IDLE_MS)
      sfu_speaker_level(&e->speaker, 0, now_ms);
  }
}

/* Whether the dominant speaker changed. */
static bool sfu__calculate(sfu_aso_t *a) {
  sfu_producer_t *next = NULL;
  if (a->nentries == 1) {
    next = a->entries[0].producer;
  } else if (a->nentries > 1) {
    sfu_aso_entry_t *dom = a->dominant != NULL ? sfu__entry(a, a->dominant) : NULL;
    if (dom == NULL) {
      dom = &a->entries[0];
      next = dom->producer;
    }
    sfu_speaker_eval(&dom->speaker);
    double best_c2 = SFU__C2;
    for (size_t i = 0; i < a->nentries; i++) {
      sfu_aso_entry_t *e = &a->entries[i];
      if (e->producer == a->dominant || e->speaker.paused) continue;
      sfu_speaker_eval(&e->speaker);
      double c1 = log(sfu_speaker_score(&e->speaker, 0) / sfu_speaker_score(&dom->speaker, 0));
      double c2 = log(sfu_speaker_score(&e->speaker, 1) / sfu_speaker_score(&dom->speaker, 1));
      double c3 = log(sfu_speaker_score(&e->speaker, 2) / sfu_speaker_score(&dom->speaker, 2));
      if (c1 > SFU__C1 && c2 > SFU__C2 && c3 > SFU__C3 && c2 > best_c2) {
        best_c2 = c2;
        next = e->producer;
      }
    }
  }
  if (next != NULL && next != a->dominant) {
    a->dominant = next;
    return true;
  }
  return false;
}

static void sfu__update(sfu_aso_t *a, uint64_t now) {
  if (now - a->last_idle_check_ms >= SFU_SPEAKER_LEVEL_IDLE_MS) {
    if (a->last_idle_check_ms != 0) sfu__timeout_idle_levels(a, now);
    a->last_idle_check_ms = now;
  }
  if (a->nentries > 0 && sfu__calculate(a)) {
    fb_builder_t *b = &a->base.ctx->fbb;
    fb_ref_t pid = fb_create_string(b, a->dominant->id, a->dominant->id_len);
    FBS_ActiveSpeakerObserver_DominantSpeakerNotification_start(b);
    FBS_ActiveSpeakerObserver_DominantSpeakerNotification_add_producer_id(b, pid);
    sfu_ctx_notify(a->base.ctx, a->base.id, FBS_Notification_Event_ACTIVESPEAKEROBSERVER_DOMINANT_SPEAKER,
                   FBS_Notification_Body_ActiveSpeakerObserver_DominantSpeakerNotification,
                   FBS_ActiveSpeakerObserver_DominantSpeakerNotification_end(b));
  }
}

void sfu_active_speaker_observer_update(sfu_rtp_observer_t *o, uint64_t now_ms) {
  if (!o->closed) sfu__update(ASO(o), now_ms);
}

const sfu_producer_t *sfu_active_speaker_observer_dominant(const sfu_rtp_observer_t *o) {
  return ((const sfu_aso_t *)o)->dominant;
}

static void sfu__tick(sfu_rtp_observer_t *o) {
  sfu_aso_t *a = ASO(o);
  sfu__update(a, uv_now(a->base.ctx->loop));
}

/* ---- ops ---- */

static bool sfu__has_producer(const sfu_rtp_observer_t *o, const sfu_producer_t *p) {
  return sfu__entry((const sfu_aso_t *)o, p) != NULL;
}

static int sfu__add_producer(sfu_rtp_observer_t *o, sfu_producer_t *p, char *err, size_t err_len) {
  sfu_aso_t *a = ASO(o);
  if (sfu__entry(a, p) != NULL) {
    snprintf(err, err_len, "Producer already in map");
    return SFU_ESTATE;
  }
  if (a->nentries == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 4;
    sfu_aso_entry_t *e = realloc(a->entries, cap * sizeof(*e));
    if (e == NULL) {
      snprintf(err, err_len, "out of memory");
      return SFU_ENOMEM;
    }
    a->entries = e;
    a->cap = cap;
  }
  sfu_aso_entry_t *e = &a->entries[a->nentries++];
  e->producer = p;
  sfu_speaker_init(&e->speaker, uv_now(o->ctx->loop));
  e->speaker.paused = p->paused;
  p->observer_count++;
  return 0;
}

static void sfu__remove_producer(sfu_rtp_observer_t *o, sfu_producer_t *p) {
  sfu_aso_t *a = ASO(o);
  sfu_aso_entry_t *e = sfu__entry(a, p);
  if (e == NULL) return;
  p->observer_count--;
  /* keep the order of the others (the first one stands in for a missing dominant) */
  memmove(e, e + 1, (size_t)(&a->entries[a->nentries] - (e + 1)) * sizeof(*e));
  a->nentries--;
  if (a->dominant == p) {
    a->dominant = NULL;
    sfu__update(a, uv_now(o->ctx->loop));
  }
}

static void sfu__audio_level(sfu_rtp_observer_t *o, sfu_producer_t *p, uint8_t level, uint64_t now_ms) {
  sfu_aso_entry_t *e = sfu__entry(ASO(o), p);
  if (e != NULL) sfu_speaker_level(&e->speaker, (uint32_t)(127 - (level & 0x7f)), now_ms);
}

static void sfu__producer_paused(sfu_rtp_observer_t *o, sfu_producer_t *p, bool paused) {
  sfu_aso_entry_t *e = sfu__entry(ASO(o), p);
  if (e != NULL) e->speaker.paused = paused;
}

static void sfu__close(sfu_rtp_observer_t *o) {
  sfu_aso_t *a = ASO(o);
  for (size_t i = 0; i < a->nentries; i++) a->entries[i].producer->observer_count--;
  a->nentries = 0;
  a->dominant = NULL;
}

static void sfu__free(sfu_rtp_observer_t *o) {
  free(ASO(o)->entries);
  free(ASO(o));
}

static const sfu_rtp_observer_ops_t sfu__ops = {
    .name = "ActiveSpeakerObserver",
    .add_producer = sfu__add_producer,
    .remove_producer = sfu__remove_producer,
    .has_producer = sfu__has_producer,
    .audio_level = sfu__audio_level,
    .producer_paused = sfu__producer_paused,
    .tick = sfu__tick,
    .close = sfu__close,
    .free_fn = sfu__free,
};

int sfu_active_speaker_observer_create(sfu_ctx_t *ctx, const sfu_rtp_observer_listener_t *listener,
                                       void *listener_arg, fb_table_t req, sfu_rtp_observer_t **out, char *err,
                                       size_t err_len) {
  sfu_aso_t *a;
  fb_str_t id = FBS_Router_CreateActiveSpeakerObserverRequest_rtp_observer_id(req);
  fb_table_t opts = FBS_Router_CreateActiveSpeakerObserverRequest_options(req);
  uint16_t interval = FBS_ActiveSpeakerObserver_ActiveSpeakerObserverOptions_interval(opts);
  int r;

  if (interval < 100) interval = 100;
  if (interval > 5000) interval = 5000;
  if ((a = calloc(1, sizeof(*a))) == NULL) return SFU_ENOMEM;
  if ((r = sfu_rtp_observer_init(&a->base, ctx, &sfu__ops, listener, listener_arg, id.ptr, id.len, err, err_len)) != 0) {
    free(a);
    return r;
  }
  if ((r = sfu_rtp_observer_start(&a->base, interval)) != 0) {
    snprintf(err, err_len, "out of memory");
    sfu_rtp_observer_close(&a->base); /* frees a after the loop turn */
    return r;
  }
  *out = &a->base;
  return 0;
}
