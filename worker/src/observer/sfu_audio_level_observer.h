/* AudioLevelObserver (RFC 6464 ssrc-audio-level): averages the audio level of
 * the producers it watches over an interval and reports the loudest ones
 * above a threshold (AUDIOLEVELOBSERVER_VOLUMES), or silence once. */
#ifndef SFU_AUDIO_LEVEL_OBSERVER_H
#define SFU_AUDIO_LEVEL_OBSERVER_H

#include "fb.h"
#include "sfu_rtp_observer.h"

/* From a verified FBS.Router.CreateAudioLevelObserverRequest. 0 or SFU_E* with a reason. */
int sfu_audio_level_observer_create(sfu_ctx_t *ctx, const sfu_rtp_observer_listener_t *listener, void *listener_arg,
                                    fb_table_t req, sfu_rtp_observer_t **out, char *err, size_t err_len);

#endif
