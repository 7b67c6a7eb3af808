#include "sfu_error.h"

const char *sfu_strerror(int err) {
  switch (err) {
#define XX(name, val, kind, text) \
  case (val):                     \
    return (text);
    SFU_ERRNO_MAP(XX)
#undef XX
    case 0:
      return "success";
    default:
      return "unknown error";
  }
}

const char *sfu_error_kind(int err) {
  switch (err) {
#define XX(name, val, kind, text) \
  case (val):                     \
    return (kind);
    SFU_ERRNO_MAP(XX)
#undef XX
    default:
      return "Error";
  }
}
