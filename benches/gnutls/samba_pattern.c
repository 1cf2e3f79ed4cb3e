/* CPU seconds per GiB that Samba 4.17's signing calls cost, in Samba's own call
 * pattern (libcli/smb/smb2_signing.c): per message gnutls_hmac(header 48),
 * gnutls_hmac(zero 16), gnutls_hmac(body), gnutls_hmac_output on a reused
 * handle for HMAC-SHA256 and AES-CMAC; gnutls_aead_cipher_encryptv2 with the
 * message as AAD and no plaintext for AES-GMAC. Run as is (stock GnuTLS) and
 * with LD_PRELOAD=libsmbsign_gnutls.so by benches/gnutls/run.sh.
 * usage: samba_pattern [MIB_TOTAL] [MSG_KIB] */
#define _GNU_SOURCE
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    size_t total = (size_t)(argc > 1 ? atoi(argv[1]) : 1024) << 20;
    size_t msg = (size_t)(argc > 2 ? atoi(argv[2]) : 1024) << 10;
    unsigned char key[16], hdr[48], zero[16] = {0}, out[32], nonce[12] = {0}; /* bytes 8..11 stay 0 */
    unsigned char *body = malloc(msg);
    if (!body) return 1;
    for (size_t i = 0; i < msg; i++) body[i] = (unsigned char)(i * 7);
    memset(key, 0x42, 16);
    memset(hdr, 0x11, 48);
    size_t n = total / msg;
    const struct { const char *name; int alg; } macs[] = {{"HMAC-SHA256", GNUTLS_MAC_SHA256},
                                                          {"AES-CMAC", GNUTLS_MAC_AES_CMAC_128}};
    for (int m = 0; m < 2; m++) {
        gnutls_hmac_hd_t h;
        if (gnutls_hmac_init(&h, macs[m].alg, key, 16)) return 1;
        double t0 = cpu_now();
        for (size_t i = 0; i < n; i++) {
            gnutls_hmac(h, hdr, 48);
            gnutls_hmac(h, zero, 16);
            gnutls_hmac(h, body, msg);
            gnutls_hmac_output(h, out);
        }
        double dt = cpu_now() - t0;
        gnutls_hmac_deinit(h, NULL);
        printf("%-12s %6zu KiB messages: %.3f CPU s/GiB (%.2f GB/s) tag %02x%02x\n", macs[m].name, msg >> 10,
               dt / ((double)n * msg / (1 << 30)), (double)n * msg / dt / 1e9, out[0], out[1]);
    }
    gnutls_aead_cipher_hd_t g;
    gnutls_datum_t kd = {key, 16};
    if (gnutls_aead_cipher_init(&g, GNUTLS_CIPHER_AES_128_GCM, &kd)) return 1;
    double t0 = cpu_now();
    for (size_t i = 0; i < n; i++) {
        memcpy(nonce, &i, sizeof i < 12 ? sizeof i : 12);
        struct iovec aad[3] = {{hdr, 48}, {zero, 16}, {body, msg}};
        size_t ts = 16;
        if (gnutls_aead_cipher_encryptv2(g, nonce, 12, aad, 3, NULL, 0, out, &ts)) return 1;
    }
    double dt = cpu_now() - t0;
    gnutls_aead_cipher_deinit(g);
    printf("%-12s %6zu KiB messages: %.3f CPU s/GiB (%.2f GB/s) tag %02x%02x\n", "AES-GMAC", msg >> 10,
           dt / ((double)n * msg / (1 << 30)), (double)n * msg / dt / 1e9, out[0], out[1]);
    free(body);
    return 0;
}
