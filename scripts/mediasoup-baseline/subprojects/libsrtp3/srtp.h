/*
 * libsrtp 3.0 API shim on top of libsrtp 2.5 (benchmark baseline build only).
 *
 * mediasoup 3.27.1's worker is written against libsrtp 3.0 (its wrap is
 * versatica/libsrtp 3.0.0-beta), whose API differs from 2.5 in:
 *   - srtp_policy_t is an opaque handle built with srtp_policy_create(),
 *     srtp_policy_set_ssrc/_set_profile/_add_key/_set_allow_repeat_tx/
 *     _set_window_size() and freed with srtp_policy_destroy();
 *   - srtp_protect()/srtp_protect_rtcp() take a const input buffer, its
 *     length (size_t), an output buffer with its capacity (size_t *, in/out)
 *     and an MKI index; srtp_unprotect()/srtp_unprotect_rtcp() take input,
 *     length, output and size_t * output length;
 *   - srtp_stream_remove() (2.5: srtp_remove_stream());
 *   - two more error codes (buffer_small = 28, cryptex_err = 29).
 * Debian 12 ships libsrtp 2.5 only, so this header includes 2.5's <srtp2/srtp.h>
 * (with its struct srtp_policy_t renamed srtp2_policy_t, a type name only, so
 * no linked symbol changes) and adds the 3.0 calls the worker uses as C++
 * overloads (C++ linkage; the 2.5 functions of the same names keep C linkage)
 * implemented in srtp3_shim.cpp.
 *
 * Only what mediasoup 3.27.1's src/ uses is provided. This file is ours, not
 * libsrtp's or mediasoup's.
 */
#ifndef MS_BASELINE_SRTP3_SHIM_H
#define MS_BASELINE_SRTP3_SHIM_H

#ifndef __cplusplus
#error "the libsrtp3 shim is C++ only (it overloads libsrtp 2.5 functions)"
#endif

#include <cstddef>
#include <cstdint>

#define srtp_policy_t srtp2_policy_t
#include <srtp2/srtp.h>
#undef srtp_policy_t

/* libsrtp 3.0 error codes that 2.5 does not have (same numeric values). */
#define srtp_err_status_buffer_small (static_cast<srtp_err_status_t>(28))
#define srtp_err_status_cryptex_err (static_cast<srtp_err_status_t>(29))

struct ms_srtp3_policy;
typedef struct ms_srtp3_policy* srtp_policy_t;

srtp_err_status_t srtp_policy_create(srtp_policy_t* policy);
void srtp_policy_destroy(srtp_policy_t policy);
srtp_err_status_t srtp_policy_set_ssrc(srtp_policy_t policy, srtp_ssrc_t ssrc);
srtp_err_status_t srtp_policy_set_profile(srtp_policy_t policy, srtp_profile_t profile);
srtp_err_status_t srtp_policy_add_key(
  srtp_policy_t policy,
  const uint8_t* key,
  size_t key_len,
  const uint8_t* salt,
  size_t salt_len,
  const uint8_t* mki,
  size_t mki_len);
srtp_err_status_t srtp_policy_set_allow_repeat_tx(srtp_policy_t policy, bool allow);
srtp_err_status_t srtp_policy_set_window_size(srtp_policy_t policy, size_t window_size);

/* srtp_create(srtp_t *, srtp_policy_t): overload of 2.5's srtp_create(srtp_t *, const srtp2_policy_t *). */
srtp_err_status_t srtp_create(srtp_t* session, const srtp_policy_t policy);

srtp_err_status_t srtp_protect(
  srtp_t ctx, const uint8_t* rtp, size_t rtp_len, uint8_t* srtp, size_t* srtp_len, size_t mki_index);
srtp_err_status_t srtp_unprotect(
  srtp_t ctx, const uint8_t* srtp, size_t srtp_len, uint8_t* rtp, size_t* rtp_len);
srtp_err_status_t srtp_protect_rtcp(
  srtp_t ctx,
  const uint8_t* rtcp,
  size_t rtcp_len,
  uint8_t* srtcp,
  size_t* srtcp_len,
  size_t mki_index);
srtp_err_status_t srtp_unprotect_rtcp(
  srtp_t ctx, const uint8_t* srtcp, size_t srtcp_len, uint8_t* rtcp, size_t* rtcp_len);

inline srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc)
{
	return srtp_remove_stream(session, ssrc);
}

#endif
