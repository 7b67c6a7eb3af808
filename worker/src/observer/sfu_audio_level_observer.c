#include "sfu_audio_level_observer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_error.h"
#include "sfu_producer.h"

static void sfu__timer_closed(uv_handle_t *h) { free(h); }

static void sfu__reap(sfu_closing_t *c) {
  sfu_rtp_observer_t *o = sfu_container_of(c, sfu_rtp_observer_t, closing);
  free(o->entries);
  free(o->id);
  free(o);
}

static void sfu__reset(sfu_rtp_observer_t *o) {
  for (size_t i = 0; i < o->nentries; i++) {
    o->entries[i].sum_dbov = 0;
    o->entries[i].count = 0;
  }
}

typedef struct sfu__vol {
  sfu_producer_t *producer;
  int8_t volume;
} sfu__vol_t;

static int sfu__cmp_vol(const void *a, const void *b) {
  const sfu__vol_t *x = a, *y = b;
  return (int)y->volume - (int)x->volume; /* loudest first */
}

static void sfu__report(sfu_rtp_observer_t *o) {
  sfu__vol_t *vols;
  size_t n = 0;

  if (o->nentries == 0) return;
  vols = malloc(o->nentries * sizeof(*vols));
  if (vols == NULL) return;
  for (size_t i = 0; i < o->nentries; i++) {
    sfu_alo_entry_t *e = &o->entries[i];
    if (e->count == 0) continue;
    int avg = (int)(e->sum_dbov / (int64_t)e->count);
    if (avg >= o->threshold) {
      vols[n].producer = e->producer;
      vols[n].volume = (int8_t)avg;
      n++;
    }
  }
  sfu__reset(o);
  if (n > 0) {
    fb_builder_t *b = &o->ctx->fbb;
    fb_ref_t refs[256];
    qsort(vols, n, sizeof(*vols), sfu__cmp_vol);
    if (n > o->max_entries) n = o->max_entries;
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
    sfu_ctx_notify(o->ctx, o->id, FBS_Notification_Event_AUDIOLEVELOBSERVER_VOLUMES,
                   FBS_Notification_Body_AudioLevelObserver_VolumesNotification, body);
    o->silence = false;
  } else if (!o->silence) {
    o->silence = true;
    sfu_ctx_notify(o->ctx, o->id, FBS_Notification_Event_AUDIOLEVELOBSERVER_SILENCE, 0, 0);
  }
  free(vols);
}

static void sfu__timer_cb(uv_timer_t *t) {
  sfu_rtp_observer_t *o = t->data;
  if (o == NULL || o->closed || o->paused) return;
  sfu__report(o);
}

static void sfu__on_request(sfu_handler_t *h, sfu_request_t *req) {
  sfu_rtp_observer_t *o = sfu_container_of(h, sfu_rtp_observer_t, handler);
  fb_table_t body;

  switch (req->method) {
    case FBS_Request_Method_RTPOBSERVER_PAUSE:
      if (!o->paused) {
        o->paused = true;
        sfu__reset(o);
      }
      sfu_request_accept(req);
      break;
    case FBS_Request_Method_RTPOBSERVER_RESUME:
      if (o->paused) {
        o->paused = false;
        o->silence = false;
      }
      sfu_request_accept(req);
      break;
    case FBS_Request_Method_RTPOBSERVER_ADD_PRODUCER: {
      if (!sfu_request_body(req, FBS_Request_Body_RtpObserver_AddProducerRequest, &body)) return;
      fb_str_t id = FBS_RtpObserver_AddProducerRequest_producer_id(body);
      sfu_producer_t *p = o->listener->get_producer(o->listener_arg, id.ptr, id.len);
      if (p == NULL) {
        sfu_request_fail(req, SFU_ENOTFOUND, "Producer not found");
        return;
      }
      if (p->kind != SFU_KIND_AUDIO) {
        sfu_request_fail(req, SFU_EINVAL, "not an audio Producer");
        return;
      }
      if (sfu_rtp_observer_has_producer(o, p)) {
        sfu_request_accept(req);
        return;
      }
      if (o->nentries == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 4;
        sfu_alo_entry_t *e = realloc(o->entries, cap * sizeof(*e));
        if (e == NULL) {
          sfu_request_fail(req, SFU_ENOMEM, "out of memory");
          return;
        }
        o->entries = e;
        o->cap = cap;
      }
      memset(&o->entries[o->nentries], 0, sizeof(o->entries[0]));
      o->entries[o->nentries++].producer = p;
      p->observer_count++;
      sfu_request_accept(req);
      break;
    }
    case FBS_Request_Method_RTPOBSERVER_REMOVE_PRODUCER: {
      if (!sfu_request_body(req, FBS_Request_Body_RtpObserver_RemoveProducerRequest, &body)) return;
      fb_str_t id = FBS_RtpObserver_RemoveProducerRequest_producer_id(body);
      sfu_producer_t *p = o->listener->get_producer(o->listener_arg, id.ptr, id.len);
      if (p == NULL) {
        sfu_request_fail(req, SFU_ENOTFOUND, "Producer not found");
        return;
      }
      sfu_rtp_observer_remove_producer(o, p);
      sfu_request_accept(req);
      break;
    }
    default:
      sfu_request_not_implemented(req);
      break;
  }
}

int sfu_audio_level_observer_create(sfu_ctx_t *ctx, const sfu_rtp_observer_listener_t *listener, void *listener_arg,
                                    fb_table_t req, sfu_rtp_observer_t **out, char *err, size_t err_len) {
  sfu_rtp_observer_t *o;
  fb_str_t id = FBS_Router_CreateAudioLevelObserverRequest_rtp_observer_id(req);
  fb_table_t opts = FBS_Router_CreateAudioLevelObserverRequest_options(req);
  uint16_t max_entries = FBS_AudioLevelObserver_AudioLevelObserverOptions_max_entries(opts);
  int8_t threshold = FBS_AudioLevelObserver_AudioLevelObserverOptions_threshold(opts);
  uint16_t interval = FBS_AudioLevelObserver_AudioLevelObserverOptions_interval(opts);
  int r;

  if (id.len == 0) {
    snprintf(err, err_len, "empty rtpObserverId");
    return SFU_EINVAL;
  }
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
  if ((o = calloc(1, sizeof(*o))) == NULL) return SFU_ENOMEM;
  o->ctx = ctx;
  o->listener = listener;
  o->listener_arg = listener_arg;
  o->max_entries = max_entries;
  o->threshold = threshold;
  o->interval_ms = interval;
  sfu_list_init(&o->router_link);
  if ((o->id = sfu_strdup_fb(id)) == NULL || (o->timer = malloc(sizeof(*o->timer))) == NULL) {
    free(o->id);
    free(o);
    return SFU_ENOMEM;
  }
  o->id_len = id.len;
  o->handler.on_request = sfu__on_request;
  if ((r = sfu_ctx_register(ctx, &o->handler, o->id, o->id_len)) != 0) {
    snprintf(err, err_len, "an RtpObserver with same rtpObserverId already exists");
    free(o->timer);
    free(o->id);
    free(o);
    return r;
  }
  uv_timer_init(ctx->loop, o->timer);
  o->timer->data = o;
  uv_timer_start(o->timer, sfu__timer_cb, o->interval_ms, o->interval_ms);
  *out = o;
  return 0;
}

void sfu_rtp_observer_close(sfu_rtp_observer_t *o) {
  if (o->closed) return;
  o->closed = true;
  sfu_ctx_unregister(o->ctx, &o->handler);
  for (size_t i = 0; i < o->nentries; i++) o->entries[i].producer->observer_count--;
  o->nentries = 0;
  o->timer->data = NULL;
  uv_close((uv_handle_t *)o->timer, sfu__timer_closed);
  o->timer = NULL;
  sfu_ctx_defer(o->ctx, &o->closing, sfu__reap);
}

bool sfu_rtp_observer_has_producer(const sfu_rtp_observer_t *o, const sfu_producer_t *p) {
  for (size_t i = 0; i < o->nentries; i++)
    if (o->entries[i].producer == p) return true;
  return false;
}

void sfu_rtp_observer_remove_producer(sfu_rtp_observer_t *o, sfu_producer_t *p) {
  for (size_t i = 0; i < o->nentries; i++) {
    if (o->entries[i].producer == p) {
      p->observer_count--;
      o->entries[i] = o->entries[--o->nentries];
      return;
    }
  }
}

void sfu_rtp_observer_on_audio_level(sfu_rtp_observer_t *o, sfu_producer_t *p, uint8_t level) {
  if (o->paused) return;
  for (size_t i = 0; i < o->nentries; i++) {
    if (o->entries[i].producer == p) {
      o->entries[i].sum_dbov -= level;
      o->entries[i].count++;
      return;
    }
  }
}
