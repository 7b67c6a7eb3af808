#include "sfu_audio_level_observer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "fbs_generated.h"
#include "sfu_error.h"
#include "sfu_producer.h"

typedef struct sfu_alo_entry {
  sfu_producer_t *producer;
  int64_t sum_dbov; /* sum of -level */
  uint32_t count;
} sfu_alo_entry_t;

typedef struct sfu_alo {
  sfu_rtp_observer_t base;
  uint16_t max_entries;
  int8_t threshold; /* dBov, -127..0 */
  bool silence; /* silence already reported */
  sfu_alo_entry_t *entries;
  size_t nentries, cap;
} sfu_alo_t;

#define ALO(o) ((sfu_alo_t *)(o))

static void sfu__free(sfu_rtp_observer_t *o) {
  free(ALO(o)->entries);
  free(ALO(o));
}

static void sfu__reset(sfu_alo_t *a) {
  for (size_t i = 0; i < a->nentries; i++) {
    a->entries[i].sum_dbov = 0;
    a->entries[i].count = 0;
  }
}

typedef struct sfu__vol {
  sfu_producer_t *producer;
  int8_t volume;
} sfu__vol_t;

static int sfu__cmp_vol(const void *x, const void *y) {
  const sfu__vol_t *a = x, *b = y;
  return (int)b->volume - (int)a->volume; /* loudest first */
}

static void sfu__report(sfu_alo_t *a) {
  sfu__vol_t *vols;
  size_t n = 0;
  sfu_ctx_t *ctx = a->base.ctx;

  if (a->nentries == 0) return;
  vols = malloc(a->nentries * sizeof(*vols));
  if (vols == NULL) return;
  for (size_t i = 0; i < a->nentries; i++) {
    sfu_alo_entry_t *e = &a->entries[i];
    if (e->count == 0) continue;
    int avg = (int)(e->sum_dbov / (int64_t)e->count);
    if (avg >= a->threshold) {
      vols[n].producer = e->producer;
      vols[n].volume = (int8_t)avg;
      n++;
    }
  }
  sfu__reset(a);
  if (n > 0) {
    fb_builder_t *b = &ctx->fbb;
    fb_ref_t refs[256];
    qsort(vols, n, sizeof(*vols), sfu__cmp_vol);
    if (n > a->max_entries) n = a->max_entries;
    if (n > 256) n = 256;
    for (size_t i = 0; i < n; i++) {
      fb_ref_t pid = fb_create_string(b, vols[i].producer->id, vols[i].producer->id_len);
      FBS_AudioLevelObserver_Volume_start(b);
      FBS_AudioLevelObserver_Volume_add_producer_id(b, pid);
      FBS_AudioLevelObserver_Volume_add_volume(b, vols[i].volume);
      refs[i] = FBS_AudioLevelObserver_Volume_end(b);
    }
    fb_ref_t v = fb_create_vec_refs(b, refs, n);
    FBS_AudioLevelObserver_VolumesNotification_start(b);
    FBS_AudioLevelObserver_VolumesNotification_add_volumes(b, v);
    fb_ref_t body = FBS_AudioLevelObserver_VolumesNotification_end(b);
    sfu_ctx_notify(ctx, a->base.id, FBS_Notification_Event_AUDIOLEVELOBSERVER_VOLUMES,
                   FBS_Notification_Body_AudioLevelObserver_VolumesNotification, body);
    a->silence = false;
  } else if (!a->silence) {
    a->silence = true;
    sfu_ctx_notify(ctx, a->base.id, FBS_Notification_Event_AUDIOLEVELOBSERVER_SILENCE, 0, 0);
  }
  free(vols);
}

static void sfu__tick(sfu_rtp_observer_t *o) {
  sfu_alo_t *a = ALO(o);
  sfu__report(a);
}

/* ---- ops ---- */

static bool sfu__has_producer(const sfu_rtp_observer_t *o, const sfu_producer_t *p) {
  const sfu_alo_t *a = (const sfu_alo_t *)o;
  for (size_t i = 0; i < a->nentries; i++)
    if (a->entries[i].producer == p) return true;
  return false;
}

static int sfu__add_producer(sfu_rtp_observer_t *o, sfu_producer_t *p, char *err, size_t err_len) {
  sfu_alo_t *a = ALO(o);
  if (sfu__has_producer(o, p)) return 0;
  if (a->nentries == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 4;
    sfu_alo_entry_t *e = realloc(a->entries, cap * sizeof(*e));
    if (e == NULL) {
      snprintf(err, err_len, "out of memory");
      return SFU_ENOMEM;
    }
    a->entries = e;
    a->cap = cap;
  }
  memset(&a->entries[a->nentries], 0, sizeof(a->entries[0]));
  a->entries[a->nentries++].producer = p;
  p->observer_count++;
  return 0;
}

static void sfu__remove_producer(sfu_rtp_observer_t *o, sfu_producer_t *p) {
  sfu_alo_t *a = ALO(o);
  for (size_t i = 0; i < a->nentries; i++) {
    if (a->entries[i].producer == p) {
      p->observer_count--;
      a->entries[i] = a->entries[--a->nentries];
      return;
    }
  }
}

static void sfu__audio_level(sfu_rtp_observer_t *o, sfu_producer_t *p, uint8_t level, uint64_t now_ms) {
  sfu_alo_t *a = ALO(o);
  (void)now_ms;
  for (size_t i = 0; i < a->nentries; i++) {
    if (a->entries[i].producer == p) {
      a->entries[i].sum_dbov -= level;
      a->entries[i].count++;
      return;
    }
  }
}

static void sfu__paused(sfu_rtp_observer_t *o, bool paused) {
  sfu_alo_t *a = ALO(o);
  if (paused)
    sfu__reset(a);
  else
    a->silence = false;
}

static void sfu__close(sfu_rtp_observer_t *o) {
  sfu_alo_t *a = ALO(o);
  for (size_t i = 0; i < a->nentries; i++) a->entries[i].producer->observer_count--;
  a->nentries = 0;
}

static const sfu_rtp_observer_ops_t sfu__ops = {
    .name = "AudioLevelObserver",
    .add_producer = sfu__add_producer,
    .remove_producer = sfu__remove_producer,
    .has_producer = sfu__has_producer,
    .audio_level = sfu__audio_level,
    .paused = sfu__paused,
    .tick = sfu__tick,
    .close = sfu__close,
    .free_fn = sfu__free,
};

int sfu_audio_level_observer_create(sfu_ctx_t *ctx, const sfu_rtp_observer_listener_t *listener, void *listener_arg,
                                    fb_table_t req, sfu_rtp_observer_t **out, char *err, size_t err_len) {
  sfu_alo_t *a;
  fb_str_t id = FBS_Router_CreateAudioLevelObserverRequest_rtp_observer_id(req);
  fb_table_t opts = FBS_Router_CreateAudioLevelObserverRequest_options(req);
  uint16_t max_entries = FBS_AudioLevelObserver_AudioLevelObserverOptions_max_entries(opts);
  int8_t threshold = FBS_AudioLevelObserver_AudioLevelObserverOptions_threshold(opts);
  uint16_t interval = FBS_AudioLevelObserver_AudioLevelObserverOptions_interval(opts);
  int r;

  if (max_entries < 1) {
    snprintf(err, err_len, "invalid maxEntries value %u", max_entries);
    return SFU_EINVAL;
  }
  if (threshold < -127 || threshold > 0) {
    snprintf(err, err_len, "invalid threshold value %d", threshold);
    return SFU_EINVAL;
  }
  if (interval < 250) interval = 250;
  if (interval > 5000) interval = 5000;
  if ((a = calloc(1, sizeof(*a))) == NULL) return SFU_ENOMEM;
  a->max_entries = max_entries;
  a->threshold = threshold;
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
