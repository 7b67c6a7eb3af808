#include "sfu_bwe_types.h"

const char *sfu_bw_usage_name(sfu_bw_usage_t u) {
  switch (u) {
  case SFU_BW_NORMAL: return "normal";
  case SFU_BW_UNDERUSING: return "underusing";
  case SFU_BW_OVERUSING: return "overusing";
  }
  return "unknown";
}
