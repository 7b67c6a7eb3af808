/* Bandwidth allocation over the (spatial, temporal) layers of a layered
 * consumer (simulcast: one encoding per spatial layer; SVC: one stream
 * with both), shared by sfu_simulcast_consumer.c and sfu_svc_consumer.c.
 * A type describes its layers with a sfu_layer_source_t; this walks them in
 * order (S0T0, S0T1, ..., S1T0, ...: mediasoup's, a larger encoding's base
 * layer before a smaller one's full frame rate), never above the preferred
 * layers; a step to a larger encoding costs at least
 * SFU_LAYERS_SPATIAL_RESERVE of the layer it leaves (its key frame has to
 * pass), so its base layer is taken only where the whole layer below fits
 * with that reserve. With the hysteresis that keeps an estimate near a
 * layer's bitrate from flipping between two layers:
 *   - the base allocation gives the lowest flowing layer even if it does not
 *     fit (video keeps going);
 *   - an encoding above the target that has flowed for less than
 *     SFU_LAYERS_MIN_ACTIVE_MS is passed over while the provisional one
 *     has flowed longer (a sender
 *     that just enabled a layer may disable it again: mediasoup's
 *     StreamMinActiveMs);
 *   - a switch up needs SFU_LAYERS_UP_HEADROOM (a frame rate step on the
 *     spatial layer being sent: none, it needs no key frame) and to have looked possible
 *     for SFU_LAYERS_UP_STABLE_MS (not with an offer SFU_LAYERS_UP_SURE times
 *     the layer: a probe measured that room), then goes as far as the offer
 *     allows (one key frame for the climb);
 *   - a spatial switch up waits SFU_LAYERS_HOLD_MS after a switch down; an up
 *     undone within SFU_LAYERS_FAILED_UP_MS doubles the wait (to
 *     SFU_LAYERS_MAX_HOLD_MS), unless the offer grew by SFU_LAYERS_HOLD_BREAK
 *     since the switch down (a probe found room: the link changed). */
#ifndef SFU_LAYER_ALLOCATION_H
#define SFU_LAYER_ALLOCATION_H

#include <stdbool.h>
#include <stdint.h>

#include "sfu_consumer.h"

#define SFU_LAYERS_UP_HEADROOM 0.8
#define SFU_LAYERS_SPATIAL_RESERVE 0.5
#define SFU_LAYERS_HOLD_MS 4000u
#define SFU_LAYERS_MAX_HOLD_MS 16000u
#define SFU_LAYERS_FAILED_UP_MS 5000u
#define SFU_LAYERS_HOLD_BREAK 1.5
#define SFU_LAYERS_UP_STABLE_MS 1000u
#define SFU_LAYERS_UP_SURE 2.0
#define SFU_LAYERS_MIN_ACTIVE_MS 2000u

typedef struct sfu_layer_source {
  /* Spatial layers that exist (encodings, or SVC spatial layers). */
  int16_t (*spatial_count)(const sfu_consumer_t *c);
  /* Highest temporal layer usable at spatial layer s, -1 when it has none (taken whole). */
  int16_t (*max_temporal)(const sfu_consumer_t *c, int16_t s);
  /* Bitrate of spatial layer s with temporal layers up to t (t < 0: all), 0 when it does not flow. */
  uint32_t (*bitrate)(const sfu_consumer_t *c, int16_t s, int16_t t, uint64_t now_ms);
  /* The spatial target when nothing was allocated (nothing flows). */
  int16_t (*fallback)(const sfu_consumer_t *c, uint64_t now_ms);
  /* How long spatial layer s has been flowing (simulcast: its encoding);
   * NULL when the layers flow together (SVC). */
  uint64_t (*active_ms)(const sfu_consumer_t *c, int16_t s, uint64_t now_ms);
} sfu_layer_source_t;

uint32_t sfu_layers_desired(sfu_consumer_t *c, const sfu_layer_source_t *src, uint64_t now_ms);
uint32_t sfu_layers_increase(sfu_consumer_t *c, const sfu_layer_source_t *src, uint32_t bitrate, bool base,
                             uint64_t now_ms);
/* Commits target_spatial/target_temporal; true when the spatial target changed. */
bool sfu_layers_apply(sfu_consumer_t *c, const sfu_layer_source_t *src, uint64_t now_ms);

#endif
