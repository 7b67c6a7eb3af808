#include "sfu_layer_allocation.h"

#include "sfu_consumer_ops.h"

/* Layers in allocation order (t = -1: the whole spatial layer). */
static int sfu__key(int16_t s, int16_t t) { return s < 0 ? -1 : s * 16 + (t < 0 ? 15 : t); }

/* The highest temporal layer allowed at s: the preferred one at the preferred spatial layer. */
static int16_t sfu__max_t(const sfu_consumer_t *c, const sfu_layer_source_t *src, int16_t s) {
  int16_t max = src->max_temporal(c, s);
  if (max >= 0 && s == c->preferred_spatial && c->preferred_temporal >= 0 && c->preferred_temporal < max)
    max = c->preferred_temporal;
  return max;
}

uint32_t sfu_layers_desired(sfu_consumer_t *c, const sfu_layer_source_t *src, uint64_t now_ms) {
  if (!sfu__consumer_active(c)) return 0;
  /* the largest, not the highest flowing: a sender that just enabled its
   * top layer sends it below a lower one for a while */
  int16_t n = src->spatial_count(c);
  uint32_t best = 0;
  for (int16_t s = c->preferred_spatial < n ? c->preferred_spatial : (int16_t)(n - 1); s >= 0; s--) {
    uint32_t br = src->bitrate(c, s, sfu__max_t(c, src, s), now_ms);
    if (br > best) best = br;
  }
  return best;
}

/* The next layer above the provisional one: the next temporal layer of the
 * same spatial layer, else the base temporal layer of the next spatial layer
 * that flows (mediasoup's order, S1T2 then S2T0: resolution before frame
 * rate). That base layer can cost less than the whole layer below; the
 * step then costs nothing more (what the walk spent stays spent), so a
 * larger encoding at its base frame rate is reached only where the whole
 * layer below fits, and every layer is reached from the one before it (a
 * target is never passed over because a measurement moved). */
static bool sfu__next(const sfu_consumer_t *c, const sfu_layer_source_t *src, int16_t *s, int16_t *t, uint64_t now_ms) {
  int16_t cs = c->provisional_spatial, ct = c->provisional_temporal, n = src->spatial_count(c);
  if (cs >= 0 && ct >= 0 && ct < sfu__max_t(c, src, cs)) {
    *s = cs;
    *t = (int16_t)(ct + 1);
    return true;
  }
  bool settled = cs >= 0 && src->active_ms != NULL && src->active_ms(c, cs, now_ms) >= SFU_LAYERS_MIN_ACTIVE_MS;
  for (int16_t k = (int16_t)(cs + 1); k <= c->preferred_spatial && k < n; k++) {
    int16_t mt = sfu__max_t(c, src, k);
    if (src->bitrate(c, k, mt < 0 ? -1 : 0, now_ms) == 0) continue;
    /* only on the way up: a layer already targeted is not left for it */
    if (settled && k > c->target_spatial && src->active_ms(c, k, now_ms) < SFU_LAYERS_MIN_ACTIVE_MS) continue;
    *s = k;
    *t = mt < 0 ? -1 : 0;
    return true;
  }
  return false;
}

uint32_t sfu_layers_increase(sfu_consumer_t *c, const sfu_layer_source_t *src, uint32_t bitrate, bool base,
                             uint64_t now_ms) {
  int16_t s, t;
  if (!sfu__consumer_active(c)) return 0;
  uint32_t used = c->provisional_spatial >= 0 ? src->bitrate(c, c->provisional_spatial, c->provisional_temporal, now_ms) : 0;
  c->layer_share = bitrate + used; /* the last call of an allocation: what it was offered */
  if (!sfu__next(c, src, &s, &t, now_ms)) return 0;
  uint32_t br = src->bitrate(c, s, t, now_ms);
  if (br == 0) return 0;
  uint32_t extra = br > used ? br - used : 0;
  /* a larger encoding costs at least SFU_LAYERS_SPATIAL_RESERVE of the layer
   * it leaves, even where its base layer is cheaper: room for its key frame */
  if (s > c->provisional_spatial && c->provisional_spatial >= 0 && extra < (uint32_t)(used * SFU_LAYERS_SPATIAL_RESERVE))
    extra = (uint32_t)(used * SFU_LAYERS_SPATIAL_RESERVE);
  if (!(base && c->provisional_spatial < 0)) {
    if (extra > bitrate) return 0;
    int target_key = sfu__key(c->target_spatial, c->target_temporal);
    if (c->target_spatial >= 0 && sfu__key(s, t) > target_key) {
      /* a switch up: with headroom, not while held after a spatial switch
       * down, and once it has looked possible a while; then as far as the
       * offer goes (one key frame for the whole climb) */
      /* a frame rate step on the spatial layer it is on needs no key frame
       * and is undone at the next frame: no headroom for it */
      double headroom = s == c->target_spatial ? 1.0 : SFU_LAYERS_UP_HEADROOM;
      if ((double)br > headroom * (double)(bitrate + used)) return 0;
      if (s > c->target_spatial && c->layer_down_ms != 0 && now_ms - c->layer_down_ms < c->layer_hold_ms &&
          (double)(bitrate + used) < SFU_LAYERS_HOLD_BREAK * (double)c->layer_down_share)
        return 0;
      c->layer_up_possible = true;
      if (c->layer_up_since_ms == 0) c->layer_up_since_ms = now_ms;
      /* an offer twice the layer (a probe measured the room) needs no wait */
      if (now_ms - c->layer_up_since_ms < SFU_LAYERS_UP_STABLE_MS && (double)br * SFU_LAYERS_UP_SURE > (double)(bitrate + used))
        return 0;
    }
  }
  c->provisional_spatial = s;
  c->provisional_temporal = t;
  return extra > 0 ? extra : 1;
}

bool sfu_layers_apply(sfu_consumer_t *c, const sfu_layer_source_t *src, uint64_t now_ms) {
  int16_t target = c->provisional_spatial, temporal = c->provisional_temporal;
  if (!c->layer_up_possible || sfu__key(target, temporal) > sfu__key(c->target_spatial, c->target_temporal))
    c->layer_up_since_ms = 0;
  if (target < 0) {
    target = src->fallback(c, now_ms); /* nothing flows: keep what would come first */
    temporal = -1;
  }
  if (target == c->target_spatial && temporal == c->target_temporal) return false;
  if (c->target_spatial >= 0 && target >= 0 && target != c->target_spatial) {
    if (target < c->target_spatial) {
      bool failed_up = c->layer_up_ms != 0 && now_ms - c->layer_up_ms < SFU_LAYERS_FAILED_UP_MS;
      uint32_t hold = failed_up && c->layer_hold_ms > 0 ? c->layer_hold_ms * 2 : SFU_LAYERS_HOLD_MS;
      c->layer_hold_ms = hold > SFU_LAYERS_MAX_HOLD_MS ? SFU_LAYERS_MAX_HOLD_MS : hold;
      c->layer_down_ms = now_ms;
      c->layer_down_share = c->layer_share;
      c->layer_up_ms = 0; /* that switch up is accounted for */
    } else {
      c->layer_up_ms = now_ms;
    }
  }
  bool spatial_change = target != c->target_spatial;
  c->target_spatial = target;
  c->target_temporal = temporal;
  return spatial_change;
}
