/* AudioLevelObserver (RFC 6464 ssrc-audio-level): averages the audio level of
 * the producers it watches over an interval and reports the loudest ones
 * above a threshold (AUDIOLEVELOBSERVER_VOLUMES), or silence once. */
#ifndef SFU_AUDIO_LEVEL_OBSERVER_H
#define SFU_AUDIO_LEVEL_OBSERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "fb.h"
#include "sfu_ctx.h"
#include "sfu_list.h"
#include "sfu_request.h"

typedef struct sfu_producer sfu_producer_t;

/* What an RTP observer asks its parent (filled in by the router). */
typedef struct sfu_rtp_observer_listener {
  /* A producer of the router by id, or NULL. */
  sfu_producer_t *(*get_producer)(void *arg, const char *id, size_t len);
} sfu_rtp_observer_listener_t;

typedef struct sfu_alo_entry {
  sfu_producer_t *producer;
  int64_t sum_dbov; /* sum of -level */
  uint32_t count;
} sfu_alo_entry_t;

typedef struct sfu_rtp_observer {
  sfu_ctx_t *ctx;
  const sfu_rtp_observer_listener_t *listener;
  void *listener_arg;
  sfu_handler_t handler;
  sfu_list_t router_link; /* the router's */
  char *id;
  size_t id_len;
  uint16_t max_entries;
  int8_t threshold; /* dBov, -127..0 */
  uint16_t interval_ms;
  bool paused;
  bool silence; /* silence already reported */
  sfu_alo_entry_t *entries;
  size_t nentries, cap;
  uv_timer_t *timer;
  bool closed;
  sfu_closing_t closing;
} sfu_rtp_observer_t;

/* From a verified FBS.Router.CreateAudioLevelObserverRequest. 0 or SFU_E* with a reason. */
int sfu_audio_level_observer_create(sfu_ctx_t *ctx, const sfu_rtp_observer_listener_t *listener, void *listener_arg,
                                    fb_table_t req, sfu_rtp_observer_t **out, char *err, size_t err_len);
void sfu_rtp_observer_close(sfu_rtp_observer_t *o);
bool sfu_rtp_observer_has_producer(const sfu_rtp_observer_t *o, const sfu_producer_t *p);
void sfu_rtp_observer_remove_producer(sfu_rtp_observer_t *o, sfu_producer_t *p);
/* level: RFC 6464 value 0..127 (-dBov). */
void sfu_rtp_observer_on_audio_level(sfu_rtp_observer_t *o, sfu_producer_t *p, uint8_t level);

#endif
