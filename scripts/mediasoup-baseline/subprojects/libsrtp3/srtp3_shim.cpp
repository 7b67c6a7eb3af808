/*
 * libsrtp 3.0 API shim on top of libsrtp 2.5: see srtp.h beside this file.
 * Ours (benchmark baseline build of mediasoup's worker only).
 */
#include "srtp.h"
#include <climits>
#include <cstring>
#include <new>

struct ms_srtp3_policy
{
	srtp2_policy_t p;
	srtp_profile_t profile;
	bool profileSet;
	bool keySet;
	/* 2.5 wants the master key immediately followed by the master salt. */
	unsigned char keySalt[SRTP_MAX_KEY_LEN];
};

srtp_err_status_t srtp_policy_create(srtp_policy_t* policy)
{
	if (!policy)
		return srtp_err_status_bad_param;

	auto* pol = new (std::nothrow) ms_srtp3_policy();

	if (!pol)
		return srtp_err_status_alloc_fail;

	std::memset(&pol->p, 0, sizeof(pol->p));
	pol->p.window_size = 128; /* libsrtp's default */
	pol->p.next        = nullptr;
	pol->p.key         = pol->keySalt;
	*policy            = pol;

	return srtp_err_status_ok;
}

void srtp_policy_destroy(srtp_policy_t policy)
{
	if (!policy)
		return;

	std::memset(policy->keySalt, 0, sizeof(policy->keySalt));
	delete policy;
}

srtp_err_status_t srtp_policy_set_ssrc(srtp_policy_t policy, srtp_ssrc_t ssrc)
{
	if (!policy)
		return srtp_err_status_bad_param;

	policy->p.ssrc = ssrc;

	return srtp_err_status_ok;
}

srtp_err_status_t srtp_policy_set_profile(srtp_policy_t policy, srtp_profile_t profile)
{
	if (!policy)
		return srtp_err_status_bad_param;

	srtp_err_status_t err = srtp_crypto_policy_set_from_profile_for_rtp(&policy->p.rtp, profile);

	if (err != srtp_err_status_ok)
		return err;

	err = srtp_crypto_policy_set_from_profile_for_rtcp(&policy->p.rtcp, profile);

	if (err != srtp_err_status_ok)
		return err;

	policy->profile    = profile;
	policy->profileSet = true;

	return srtp_err_status_ok;
}

srtp_err_status_t srtp_policy_add_key(
  srtp_policy_t policy,
  const uint8_t* key,
  size_t key_len,
  const uint8_t* salt,
  size_t salt_len,
  const uint8_t* mki,
  size_t mki_len)
{
	/* One key, no MKI: all that the worker uses. */
	if (!policy || !key || (salt_len && !salt) || mki || mki_len || policy->keySet)
		return srtp_err_status_bad_param;

	if (key_len + salt_len > sizeof(policy->keySalt))
		return srtp_err_status_bad_param;

	/* 2.5 takes the lengths from the crypto policy: they must agree. */
	if (
	  policy->profileSet &&
	  (key_len != srtp_profile_get_master_key_length(policy->profile) ||
	   salt_len != srtp_profile_get_master_salt_length(policy->profile)))
	{
		return srtp_err_status_bad_param;
	}

	std::memcpy(policy->keySalt, key, key_len);

	if (salt_len)
		std::memcpy(policy->keySalt + key_len, salt, salt_len);

	policy->keySet = true;

	return srtp_err_status_ok;
}

srtp_err_status_t srtp_policy_set_allow_repeat_tx(srtp_policy_t policy, bool allow)
{
	if (!policy)
		return srtp_err_status_bad_param;

	policy->p.allow_repeat_tx = allow ? 1 : 0;

	return srtp_err_status_ok;
}

srtp_err_status_t srtp_policy_set_window_size(srtp_policy_t policy, size_t window_size)
{
	if (!policy)
		return srtp_err_status_bad_param;

	policy->p.window_size = static_cast<unsigned long>(window_size);

	return srtp_err_status_ok;
}

srtp_err_status_t srtp_create(srtp_t* session, const srtp_policy_t policy)
{
	if (!session || !policy || !policy->profileSet || !policy->keySet)
		return srtp_err_status_bad_param;

	/* 2.5's srtp_create(srtp_t *, const srtp2_policy_t *), C linkage. */
	return ::srtp_create(session, static_cast<const srtp2_policy_t*>(&policy->p));
}

/* 2.5 works in place and may append up to SRTP_MAX_TRAILER_LEN octets (RTCP: + 4). */
static srtp_err_status_t prepare(
  const uint8_t* in, size_t inLen, uint8_t* out, size_t outCap, size_t growth, int* len)
{
	if (!in || !out)
		return srtp_err_status_bad_param;

	if (inLen > static_cast<size_t>(INT_MAX) - growth)
		return srtp_err_status_bad_param;

	if (outCap < inLen + growth)
		return srtp_err_status_buffer_small;

	if (out != in)
		std::memmove(out, in, inLen);

	*len = static_cast<int>(inLen);

	return srtp_err_status_ok;
}

srtp_err_status_t srtp_protect(
  srtp_t ctx, const uint8_t* rtp, size_t rtp_len, uint8_t* srtp, size_t* srtp_len, size_t mki_index)
{
	int len;

	if (!srtp_len || mki_index != 0)
		return srtp_err_status_bad_param;

	srtp_err_status_t err = prepare(rtp, rtp_len, srtp, *srtp_len, SRTP_MAX_TRAILER_LEN, &len);

	if (err != srtp_err_status_ok)
		return err;

	err = ::srtp_protect(ctx, srtp, &len);

	if (err == srtp_err_status_ok)
		*srtp_len = static_cast<size_t>(len);

	return err;
}

srtp_err_status_t srtp_unprotect(
  srtp_t ctx, const uint8_t* srtp, size_t srtp_len, uint8_t* rtp, size_t* rtp_len)
{
	int len;

	if (!rtp_len)
		return srtp_err_status_bad_param;

	srtp_err_status_t err = prepare(srtp, srtp_len, rtp, *rtp_len, 0, &len);

	if (err != srtp_err_status_ok)
		return err;

	err = ::srtp_unprotect(ctx, rtp, &len);

	if (err == srtp_err_status_ok)
		*rtp_len = static_cast<size_t>(len);

	return err;
}

srtp_err_status_t srtp_protect_rtcp(
  srtp_t ctx,
  const uint8_t* rtcp,
  size_t rtcp_len,
  uint8_t* srtcp,
  size_t* srtcp_len,
  size_t mki_index)
{
	int len;

	if (!srtcp_len || mki_index != 0)
		return srtp_err_status_bad_param;

	srtp_err_status_t err =
	  prepare(rtcp, rtcp_len, srtcp, *srtcp_len, SRTP_MAX_TRAILER_LEN + 4, &len);

	if (err != srtp_err_status_ok)
		return err;

	err = ::srtp_protect_rtcp(ctx, srtcp, &len);

	if (err == srtp_err_status_ok)
		*srtcp_len = static_cast<size_t>(len);

	return err;
}

srtp_err_status_t srtp_unprotect_rtcp(
  srtp_t ctx, const uint8_t* srtcp, size_t srtcp_len, uint8_t* rtcp, size_t* rtcp_len)
{
	int len;

	if (!rtcp_len)
		return srtp_err_status_bad_param;

	srtp_err_status_t err = prepare(srtcp, srtcp_len, rtcp, *rtcp_len, 0, &len);

	if (err != srtp_err_status_ok)
		return err;

	err = ::srtp_unprotect_rtcp(ctx, rtcp, &len);

	if (err == srtp_err_status_ok)
		*rtcp_len = static_cast<size_t>(len);

	return err;
}
