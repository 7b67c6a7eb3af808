/* Types shared by the bandwidth estimation building blocks (worker/src/bwe):
 * the detector's hypothesis about the bottleneck and a few limits. Rates are
 * bits per second in int64_t, times milliseconds (int64_t, any epoch) unless
 * a name says _us. Nothing here reads a clock: every function takes now. */
#ifndef SFU_BWE_TYPES_H
#define SFU_BWE_TYPES_H

#include <stdint.h>

typedef enum sfu_bw_usage {
  SFU_BW_NORMAL = 0,
  SFU_BW_UNDERUSING = 1,
  SFU_BW_OVERUSING = 2
} sfu_bw_usage_t;

/* libwebrtc's congestion_controller::GetMinBitrate() */
#define SFU_BWE_MIN_BITRATE 5000
/* mediasoup's TransportCongestionControlMinOutgoingBitrate */
#define SFU_BWE_MEDIASOUP_MIN_BITRATE 30000

const char *sfu_bw_usage_name(sfu_bw_usage_t u);

#endif
