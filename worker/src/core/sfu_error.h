/* The one error convention of the worker: functions return 0 or a negative
 * SFU_E* code from this table (libuv's UV_ERRNO_MAP idea). The request layer
 * turns a code into the response's `error` kind, which the mediasoup Node
 * library maps to TypeError, NotFoundError or Error. */
#ifndef SFU_ERROR_H
#define SFU_ERROR_H

/* XX(name, value, response error kind, default text) */
#define SFU_ERRNO_MAP(XX)                                                 \
  XX(EINVAL, -1, "TypeError", "invalid argument")                        \
  XX(ENOTFOUND, -2, "NotFoundError", "not found")                        \
  XX(EEXIST, -3, "Error", "already exists")                              \
  XX(ENOMEM, -4, "Error", "out of memory")                               \
  XX(ENOTSUP, -5, "Error", "not implemented")                            \
  XX(EPROTO, -6, "Error", "malformed message")                           \
  XX(ESTATE, -7, "Error", "invalid state")                               \
  XX(EIO, -8, "Error", "i/o error")                                      \
  XX(ETOOBIG, -9, "Error", "too big")                                    \
  XX(ERANGE, -10, "TypeError", "value out of range")                     \
  XX(ECRYPTO, -11, "Error", "crypto error")

enum {
#define XX(name, val, kind, text) SFU_##name = (val),
  SFU_ERRNO_MAP(XX)
#undef XX
};

/* Text for a code ("unknown error" for anything else). */
const char *sfu_strerror(int err);
/* Response error kind for a code: "TypeError", "NotFoundError" or "Error". */
const char *sfu_error_kind(int err);

#endif
