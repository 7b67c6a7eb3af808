/*
 * bench-srtp.c - ns per srtp_protect() of an RTP packet with a 160-byte payload
 * (12-byte header), for AEAD_AES_128_GCM and AES_CM_128_HMAC_SHA1_80, plus
 * srtp_unprotect() for the same packets.
 *
 * Against the OpenSSL build from scripts/build-libsrtp.sh (from the repo root):
 *   cc -O2 -Ibuild/deps/srtp/include scripts/bench-srtp.c \
 *      build/deps/srtp/lib/libsrtp2.a -lcrypto -o build/deps/bench-srtp
 *   ./build/deps/bench-srtp [packets]          # default 1000000
 *
 * The same source links against any libsrtp 2.x (e.g. Debian's NSS-based
 * libsrtp2.so.1) since it only uses the public API.
 *
 * Each packet gets a fresh sequence number (so the replay/ROC logic runs as in
 * real traffic); the plaintext is re-copied before every protect, and that
 * memcpy is included in the figure (it is ~a few ns).
 */
#include <srtp2/srtp.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAYLOAD_LEN 160
#define RTP_HDR_LEN 12
#define PKT_LEN (RTP_HDR_LEN + PAYLOAD_LEN)

typedef void (*policy_setter)(srtp_crypto_policy_t *p);

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void build_rtp(uint8_t *buf, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
    buf[0] = 0x80;
    buf[1] = 111;
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
    for (int i = 0; i < PAYLOAD_LEN; i++)
        buf[RTP_HDR_LEN + i] = (uint8_t)(i * 31);
}

static int bench(const char *name, policy_setter set, long n)
{
    uint8_t key[64];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 17 + 3);

    srtp_policy_t tx;
    memset(&tx, 0, sizeof tx);
    set(&tx.rtp);
    set(&tx.rtcp);
    tx.ssrc.type = ssrc_any_outbound;
    tx.key = key;
    tx.window_size = 1024;
    srtp_policy_t rx = tx;
    rx.ssrc.type = ssrc_any_inbound;

    srtp_t s_tx, s_rx;
    if (srtp_create(&s_tx, &tx) != srtp_err_status_ok ||
        srtp_create(&s_rx, &rx) != srtp_err_status_ok) {
        fprintf(stderr, "%s: srtp_create failed (cipher unavailable?)\n", name);
        return 1;
    }

    uint8_t plain[PKT_LEN];
    uint8_t pkt[PKT_LEN + SRTP_MAX_TRAILER_LEN];
    /* Keep a ring of protected packets to time unprotect separately. */
    enum { RING = 4096 };
    static uint8_t ring[RING][PKT_LEN + SRTP_MAX_TRAILER_LEN];
    static int ring_len[RING];

    build_rtp(plain, 0, 0, 0xCAFEBABEu);

    /* warm-up */
    for (int i = 0; i < 1000; i++) {
        plain[2] = (uint8_t)(i >> 8);
        plain[3] = (uint8_t)i;
        memcpy(pkt, plain, PKT_LEN);
        int len = PKT_LEN;
        srtp_protect(s_tx, pkt, &len);
    }

    uint32_t seq = 1000;
    double t0 = now_ns();
    for (long i = 0; i < n; i++, seq++) {
        plain[2] = (uint8_t)(seq >> 8);
        plain[3] = (uint8_t)seq;
        memcpy(pkt, plain, PKT_LEN);
        int len = PKT_LEN;
        if (srtp_protect(s_tx, pkt, &len) != srtp_err_status_ok) {
            fprintf(stderr, "%s: srtp_protect failed at %ld\n", name, i);
            return 1;
        }
    }
    double t_protect = (now_ns() - t0) / (double)n;

    /* unprotect: protect RING packets outside the timed region, then time
     * unprotect of each batch; total work = n packets. */
    srtp_t s_tx2;
    srtp_create(&s_tx2, &tx);
    double t_unprot_total = 0;
    long done = 0;
    seq = 1;
    while (done < n) {
        int batch = (n - done) < RING ? (int)(n - done) : RING;
        for (int i = 0; i < batch; i++, seq++) {
            plain[2] = (uint8_t)(seq >> 8);
            plain[3] = (uint8_t)seq;
            memcpy(ring[i], plain, PKT_LEN);
            ring_len[i] = PKT_LEN;
            srtp_protect(s_tx2, ring[i], &ring_len[i]);
        }
        double u0 = now_ns();
        for (int i = 0; i < batch; i++) {
            if (srtp_unprotect(s_rx, ring[i], &ring_len[i]) != srtp_err_status_ok) {
                fprintf(stderr, "%s: srtp_unprotect failed at %ld\n", name, done + i);
                return 1;
            }
        }
        t_unprot_total += now_ns() - u0;
        done += batch;
    }

    printf("%-24s protect %7.1f ns/pkt   unprotect %7.1f ns/pkt   (%ld pkts, %d-byte payload)\n",
           name, t_protect, t_unprot_total / (double)n, n, PAYLOAD_LEN);
    srtp_dealloc(s_tx);
    srtp_dealloc(s_tx2);
    srtp_dealloc(s_rx);
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    if (n <= 0)
        n = 1000000;
    if (srtp_init() != srtp_err_status_ok) {
        fprintf(stderr, "srtp_init failed\n");
        return 1;
    }
    printf("%s\n", srtp_get_version_string());
    int rc = 0;
    rc |= bench("AEAD_AES_128_GCM", srtp_crypto_policy_set_aes_gcm_128_16_auth, n);
    rc |= bench("AES_CM_128_HMAC_SHA1_80", srtp_crypto_policy_set_rtp_default, n);
    srtp_shutdown();
    return rc;
}
