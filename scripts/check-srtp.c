/*
 * check-srtp.c - sanity check for the libsrtp2 built by scripts/build-libsrtp.sh.
 *
 * Build + run (build-libsrtp.sh does this automatically):
 *   cc -Ibuild/deps/srtp/include scripts/check-srtp.c \
 *      build/deps/srtp/lib/libsrtp2.a -lcrypto -o build/deps/check-srtp
 *   ./build/deps/check-srtp
 *
 * For each profile (AEAD_AES_128_GCM, AEAD_AES_256_GCM, AES_CM_128_HMAC_SHA1_80)
 * it creates a sender and a receiver session, protects an RTP packet,
 * unprotects it, compares with the original, and checks that a tampered
 * packet is rejected.  GCM is only available when libsrtp was built with
 * OpenSSL (or NSS); its absence is a hard failure.  Exit status 0 = OK.
 */
#include <srtp2/srtp.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PAYLOAD_LEN 160
#define RTP_HDR_LEN 12

typedef void (*policy_setter)(srtp_crypto_policy_t *p);

static size_t build_rtp(uint8_t *buf, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
    buf[0] = 0x80;          /* V=2 */
    buf[1] = 111;           /* PT (opus), M=0 */
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    buf[4] = (uint8_t)(ts >> 24);
    buf[5] = (uint8_t)(ts >> 16);
    buf[6] = (uint8_t)(ts >> 8);
    buf[7] = (uint8_t)ts;
    buf[8] = (uint8_t)(ssrc >> 24);
    buf[9] = (uint8_t)(ssrc >> 16);
    buf[10] = (uint8_t)(ssrc >> 8);
    buf[11] = (uint8_t)ssrc;
    for (size_t i = 0; i < PAYLOAD_LEN; i++)
        buf[RTP_HDR_LEN + i] = (uint8_t)(i * 7 + seq);
    return RTP_HDR_LEN + PAYLOAD_LEN;
}

static int check_profile(const char *name, policy_setter set, size_t key_len)
{
    uint8_t key[64];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(0xA5 ^ (i * 13));

    srtp_policy_t tx, rx;
    memset(&tx, 0, sizeof tx);
    set(&tx.rtp);
    set(&tx.rtcp);
    tx.ssrc.type = ssrc_any_outbound;
    tx.key = key;
    tx.window_size = 1024;
    tx.allow_repeat_tx = 0;
    tx.next = NULL;
    rx = tx;
    rx.ssrc.type = ssrc_any_inbound;

    if ((size_t)tx.rtp.cipher_key_len != key_len) {
        fprintf(stderr, "FAIL %s: unexpected key+salt length %d (want %zu)\n",
                name, tx.rtp.cipher_key_len, key_len);
        return 1;
    }

    srtp_t s_tx = NULL, s_rx = NULL;
    srtp_err_status_t st = srtp_create(&s_tx, &tx);
    if (st != srtp_err_status_ok) {
        fprintf(stderr, "FAIL %s: srtp_create(tx) = %d (cipher unavailable?)\n", name, st);
        return 1;
    }
    st = srtp_create(&s_rx, &rx);
    if (st != srtp_err_status_ok) {
        fprintf(stderr, "FAIL %s: srtp_create(rx) = %d\n", name, st);
        srtp_dealloc(s_tx);
        return 1;
    }

    int rc = 0;
    for (uint16_t seq = 1000; seq < 1010 && rc == 0; seq++) {
        uint8_t orig[RTP_HDR_LEN + PAYLOAD_LEN];
        uint8_t pkt[RTP_HDR_LEN + PAYLOAD_LEN + SRTP_MAX_TRAILER_LEN];
        size_t n = build_rtp(orig, seq, 48000u + seq * 960u, 0x12345678u);
        memcpy(pkt, orig, n);
        int len = (int)n;

        st = srtp_protect(s_tx, pkt, &len);
        if (st != srtp_err_status_ok) {
            fprintf(stderr, "FAIL %s: srtp_protect = %d\n", name, st);
            rc = 1;
            break;
        }
        if (len <= (int)n || memcmp(pkt + RTP_HDR_LEN, orig + RTP_HDR_LEN, PAYLOAD_LEN) == 0) {
            fprintf(stderr, "FAIL %s: protect did not encrypt/authenticate (len %d)\n", name, len);
            rc = 1;
            break;
        }

        if (seq == 1005) {
            /* Tampered copy must be rejected (and must not poison replay state). */
            uint8_t bad[sizeof pkt];
            int blen = len;
            memcpy(bad, pkt, (size_t)len);
            bad[RTP_HDR_LEN + 3] ^= 0x01;
            st = srtp_unprotect(s_rx, bad, &blen);
            if (st != srtp_err_status_auth_fail) {
                fprintf(stderr, "FAIL %s: tampered packet gave %d, want auth_fail\n", name, st);
                rc = 1;
                break;
            }
        }

        st = srtp_unprotect(s_rx, pkt, &len);
        if (st != srtp_err_status_ok) {
            fprintf(stderr, "FAIL %s: srtp_unprotect = %d\n", name, st);
            rc = 1;
            break;
        }
        if (len != (int)n || memcmp(pkt, orig, n) != 0) {
            fprintf(stderr, "FAIL %s: round trip mismatch\n", name);
            rc = 1;
            break;
        }
    }

    srtp_dealloc(s_tx);
    srtp_dealloc(s_rx);
    if (rc == 0)
        printf("ok   %s: protect/unprotect round trip + tamper rejection\n", name);
    return rc;
}

int main(void)
{
    if (srtp_init() != srtp_err_status_ok) {
        fprintf(stderr, "FAIL srtp_init\n");
        return 1;
    }
    printf("libsrtp: %s\n", srtp_get_version_string());

    int fails = 0;
    fails += check_profile("AEAD_AES_128_GCM", srtp_crypto_policy_set_aes_gcm_128_16_auth,
                           SRTP_AES_GCM_128_KEY_LEN_WSALT);
    fails += check_profile("AEAD_AES_256_GCM", srtp_crypto_policy_set_aes_gcm_256_16_auth,
                           SRTP_AES_GCM_256_KEY_LEN_WSALT);
    fails += check_profile("AES_CM_128_HMAC_SHA1_80", srtp_crypto_policy_set_rtp_default,
                           SRTP_AES_ICM_128_KEY_LEN_WSALT);

    srtp_shutdown();
    if (fails) {
        fprintf(stderr, "check-srtp: %d profile(s) FAILED%s\n", fails,
                " (AEAD_AES_*_GCM unavailable => libsrtp not built with OpenSSL)");
        return 1;
    }
    printf("check-srtp: all profiles OK\n");
    return 0;
}
