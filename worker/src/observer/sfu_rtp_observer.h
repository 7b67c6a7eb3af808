/* RTP observer base (mediasoup's RtpObserver): what AudioLevelObserver and
 * ActiveSpeakerObserver share. It registers the channel handler, answers
 * RTPOBSERVER_PAUSE/RESUME/ADD_PRODUCER/REMOVE_PRODUCER, keeps the list of
 * producers it watches, and passes producers' audio levels and pause state
 * to the concrete observer through its ops. The router owns observers and
 * reaches them only through these functions; an observer reaches the router
 * only through its listener. */
#ifndef SFU_RTP_OBSERVER_H
#define SFU_RTP_OBSERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "sfu_ctx.h"
#include "sfu_list.h"
#include "sfu_request.h"

typedef struct sfu_producer sfu_producer_t;
typedef struct sfu_rtp_observer sfu_rtp_observer_t;

/* What an RTP observer asks its parent (filled in by the router). */
typedef struct sfu_rtp_observer_listener {
  /* A producer of the router by id, or NULL. */
  sfu_producer_t *(*get_producer)(void *arg, const char *id, size_t len);
} sfu_rtp_observer_listener_t;

typedef struct sfu_rtp_observer_ops {
  const char *name;
  /* A producer to watch (audio, not watched yet): 0, or SFU_E* with a reason in err. */
  int (*add_producer)(sfu_rtp_observer_t *o, sfu_producer_t *p, char *err, size_t err_len);
  void (*remove_producer)(sfu_rtp_observer_t *o, sfu_producer_t *p);
  bool (*has_producer)(const sfu_rtp_observer_t *o, const sfu_producer_t *p);
  /* level: RFC 6464 value 0..127 (-dBov); not called while the observer is paused. */
  void (*audio_level)(sfu_rtp_observer_t *o, sfu_producer_t *p, uint8_t level, uint64_t now_ms);
  void (*producer_paused)(sfu_rtp_observer_t *o, sfu_producer_t *p, bool paused); /* may be NULL */
  void (*paused)(sfu_rtp_observer_t *o, bool paused); /* may be NULL */
  /* Every interval (sfu_rtp_observer_start), never while paused or closed. */
  void (*tick)(sfu_rtp_observer_t *o);
  /* Release what it holds (the base closes the interval timer, frees o after
   * the loop turn, then calls free_fn). */
  void (*close)(sfu_rtp_observer_t *o);
  void (*free_fn)(sfu_rtp_observer_t *o);
} sfu_rtp_observer_ops_t;

struct sfu_rtp_observer {
  sfu_ctx_t *ctx;
  const sfu_rtp_observer_ops_t *ops;
  const sfu_rtp_observer_listener_t *listener;
  void *listener_arg;
  sfu_handler_t handler;
  sfu_list_t router_link; /* the router's */
  char *id;
  size_t id_len;
  bool paused;
  bool closed;
  uv_timer_t *timer; /* the interval timer (ops->tick) */
  uint64_t interval_ms;
  sfu_closing_t closing;
};

/* Registers o under id. 0, SFU_ENOMEM or SFU_EEXIST (err says why). */
int sfu_rtp_observer_init(sfu_rtp_observer_t *o, sfu_ctx_t *ctx, const sfu_rtp_observer_ops_t *ops,
                          const sfu_rtp_observer_listener_t *listener, void *listener_arg, const char *id, size_t id_len,
                          char *err, size_t err_len);
/* Starts the interval timer (after init): ops->tick every interval_ms,
 * stopped while paused and restarted on resume (mediasoup's periodic timer).
 * 0 or SFU_ENOMEM. */
int sfu_rtp_observer_start(sfu_rtp_observer_t *o, uint64_t interval_ms);
/* The router unlinked it first. */
void sfu_rtp_observer_close(sfu_rtp_observer_t *o);
bool sfu_rtp_observer_has_producer(const sfu_rtp_observer_t *o, const sfu_producer_t *p);
void sfu_rtp_observer_remove_producer(sfu_rtp_observer_t *o, sfu_producer_t *p);
void sfu_rtp_observer_on_audio_level(sfu_rtp_observer_t *o, sfu_producer_t *p, uint8_t level);
/* The same at a given time (tests drive the clock). */
void sfu_rtp_observer_audio_level_at(sfu_rtp_observer_t *o, sfu_producer_t *p, uint8_t level, uint64_t now_ms);
/* What RTPOBSERVER_ADD_PRODUCER does once the producer is found: 0 or SFU_E* with a reason. */
int sfu_rtp_observer_add_producer(sfu_rtp_observer_t *o, sfu_producer_t *p, char *err, size_t err_len);
void sfu_rtp_observer_producer_paused(sfu_rtp_observer_t *o, sfu_producer_t *p, bool paused);

#endif
