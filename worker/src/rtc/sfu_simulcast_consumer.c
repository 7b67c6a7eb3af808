/* Simulcast consumer (mediasoup's SimulcastConsumer): forwards one of the
 * producer's encodings at a time under one SSRC and switches on a key frame
 * of the new encoding (asking for one), with sequence numbers and
 * timestamps kept continuous across the switch. The encoding it aims at is
 * the one bandwidth allocation chose (when its transport estimates the
 * bandwidth), else the highest flowing one at or below the preferred
 * spatial layer; until the new one's key frame comes, the current one goes
 * on, so a switch freezes nothing that still flows. */
#include "sfu_consumer_ops.h"

static uint32_t sfu__layer_bitrate(const sfu_consumer_t *c, int16_t layer, uint64_t now_ms) {
  if (layer < 0 || layer >= (int16_t)c->nsources) return 0;
  return sfu__consumer_source_bitrate(c, c->source_ssrcs[layer], now_ms);
}

/* Highest flowing encoding at or below the preferred spatial layer, else the lowest one that exists. */
static int16_t sfu__pick_target(const sfu_consumer_t *c, uint64_t now_ms) {
  int16_t best = -1, any = -1;
  for (int16_t i = 0; i < (int16_t)c->nsources && i <= c->preferred_spatial; i++) {
    sfu_rtp_stream_t *s = sfu__consumer_source_stream(c, c->source_ssrcs[i]);
    if (s == NULL) continue;
    if (any < 0) any = i;
    if (sfu_rtp_stream_flowing(s, now_ms)) best = i;
  }
  return best >= 0 ? best : any;
}

static void sfu__simulcast_send_rtp(sfu_consumer_t *c, const sfu_rtp_packet_t *in, uint64_t now_ms) {
  if (!c->bwe_managed) c->target_spatial = sfu__pick_target(c, now_ms);
  int16_t target = c->target_spatial;
  if (target >= 0 && target < (int16_t)c->nsources && c->current_spatial != target && in->ssrc == c->source_ssrcs[target]) {
    if (!sfu_rtp_is_keyframe(in, c->stream.params.codec)) {
      if (c->producer != NULL) sfu_producer_request_key_frame(c->producer, in->ssrc, now_ms);
    } else {
      c->current_spatial = target;
      c->source_ssrc = in->ssrc;
      c->sync_required = true;
      c->keyframe_required = false;
      sfu__consumer_notify_layers(c);
    }
  }
  if (c->current_spatial < 0 || in->ssrc != c->source_ssrcs[c->current_spatial]) return;
  sfu__consumer_forward(c, in, now_ms);
}

static uint32_t sfu__simulcast_desired(sfu_consumer_t *c, uint64_t now_ms) {
  if (!sfu__consumer_active(c)) return 0;
  for (int16_t s = c->preferred_spatial; s >= 0; s--) {
    uint32_t br = sfu__layer_bitrate(c, s, now_ms);
    if (br > 0) return br;
  }
  return 0;
}

/* Hysteresis: a switch up needs the layer to fit with this headroom, and
 * waits SFU__HOLD_MS after a switch down; a switch up that is undone within
 * SFU__FAILED_UP_MS doubles the wait (up to SFU__MAX_HOLD_MS), unless what
 * it is offered grew by SFU__HOLD_BREAK since the switch down (a probe
 * found room: the link changed). A switch up goes one layer at a time and
 * only once it has looked possible for SFU__UP_STABLE_MS (an estimate that
 * spikes for a moment moves nothing). Without it
 * an estimate close to a layer's bitrate flips between two layers every
 * second, and every switch costs a key frame. */
#define SFU__UP_HEADROOM 0.8
#define SFU__HOLD_MS 4000u
#define SFU__MAX_HOLD_MS 16000u
#define SFU__FAILED_UP_MS 5000u
#define SFU__HOLD_BREAK 1.5
#define SFU__UP_STABLE_MS 1000u

/* One layer up from the provisional one, skipping layers that do not flow. */
static uint32_t sfu__simulcast_increase(sfu_consumer_t *c, uint32_t bitrate, bool base, uint64_t now_ms) {
  if (!sfu__consumer_active(c)) return 0;
  uint32_t used = c->provisional_spatial >= 0 ? sfu__layer_bitrate(c, c->provisional_spatial, now_ms) : 0;
  c->layer_share = bitrate + used; /* the last call of an allocation: what it was offered */
  for (int16_t s = (int16_t)(c->provisional_spatial + 1); s <= c->preferred_spatial && s < (int16_t)c->nsources; s++) {
    uint32_t br = sfu__layer_bitrate(c, s, now_ms);
    if (br == 0) continue;
    uint32_t extra = br > used ? br - used : 0;
    bool lowest = base && c->provisional_spatial < 0;
    if (!lowest) {
      if (extra > bitrate) return 0;
      if (s > c->target_spatial && c->target_spatial >= 0) {
        /* a switch up: one layer at a time, with headroom, not while held
         * after a switch down, and only once it has looked possible a while */
        if (c->provisional_spatial != c->target_spatial) return 0;
        if ((double)br > SFU__UP_HEADROOM * (double)(bitrate + used)) return 0;
        if (c->layer_down_ms != 0 && now_ms - c->layer_down_ms < c->layer_hold_ms &&
            (double)(bitrate + used) < SFU__HOLD_BREAK * (double)c->layer_down_share)
          return 0;
        c->layer_up_possible = true;
        if (c->layer_up_since_ms == 0) c->layer_up_since_ms = now_ms;
        if (now_ms - c->layer_up_since_ms < SFU__UP_STABLE_MS) return 0;
      }
    }
    c->provisional_spatial = s;
    return extra;
  }
  return 0;
}

static void sfu__simulcast_apply(sfu_consumer_t *c, uint64_t now_ms) {
  int16_t target = c->provisional_spatial;
  if (!c->layer_up_possible || target > c->target_spatial) c->layer_up_since_ms = 0;
  if (target < 0) target = sfu__pick_target(c, now_ms); /* nothing flows: keep what would come first */
  if (target == c->target_spatial) return;
  if (c->target_spatial >= 0 && target >= 0) {
    if (target < c->target_spatial) {
      bool failed_up = c->layer_up_ms != 0 && now_ms - c->layer_up_ms < SFU__FAILED_UP_MS;
      uint32_t hold = failed_up && c->layer_hold_ms > 0 ? c->layer_hold_ms * 2 : SFU__HOLD_MS;
      c->layer_hold_ms = hold > SFU__MAX_HOLD_MS ? SFU__MAX_HOLD_MS : hold;
      c->layer_down_ms = now_ms;
      c->layer_down_share = c->layer_share;
      c->layer_up_ms = 0; /* that switch up is accounted for */
    } else {
      c->layer_up_ms = now_ms;
    }
  }
  c->target_spatial = target;
  if (target >= 0 && target != c->current_spatial && c->producer != NULL && sfu__consumer_active(c))
    sfu_producer_request_key_frame(c->producer, c->source_ssrcs[target], now_ms);
}

const sfu_consumer_ops_t sfu__simulcast_consumer_ops = {
    .name = "simulcast",
    .layered = true,
    .send_rtp = sfu__simulcast_send_rtp,
    .desired_bitrate = sfu__simulcast_desired,
    .increase_layer = sfu__simulcast_increase,
    .apply_layers = sfu__simulcast_apply,
};
