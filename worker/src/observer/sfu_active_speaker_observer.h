/* ActiveSpeakerObserver: the dominant speaker among the audio producers it
 * watches (sfu_speaker.h for the model), re-evaluated every `interval` ms
 * (100..5000), ACTIVESPEAKEROBSERVER_DOMINANT_SPEAKER when it changes. A
 * speaker takes over from the dominant one when its immediate, medium and
 * long activity scores beat the dominant's by log ratios above 3, 2 and 0
 * (the highest medium ratio wins); with one producer that one is dominant. */
#ifndef SFU_ACTIVE_SPEAKER_OBSERVER_H
#define SFU_ACTIVE_SPEAKER_OBSERVER_H

#include "fb.h"
#include "sfu_rtp_observer.h"

/* From a verified FBS.Router.CreateActiveSpeakerObserverRequest. 0 or SFU_E* with a reason. */
int sfu_active_speaker_observer_create(sfu_ctx_t *ctx, const sfu_rtp_observer_listener_t *listener,
                                       void *listener_arg, fb_table_t req, sfu_rtp_observer_t **out, char *err,
                                       size_t err_len);
/* One evaluation at now_ms (what the interval timer does with the loop's
 * time), and the dominant producer (NULL: none yet): for tests. */
void sfu_active_speaker_observer_update(sfu_rtp_observer_t *o, uint64_t now_ms);
const sfu_producer_t *sfu_active_speaker_observer_dominant(const sfu_rtp_observer_t *o);

#endif
