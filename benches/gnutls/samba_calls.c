/* Nanoseconds per call of Samba's signing calls at SMB message sizes, in
 * Samba's own call pattern (libcli/smb/smb2_signing.c) on one reused handle:
 *   gmac: gnutls_aead_cipher_encryptv2(iv 12, auth_iov = {header 48, zero 16,
 *         body}, 3, NULL, 0, tag, &16)
 *   cmac, hmac: gnutls_hmac(header 48), gnutls_hmac(zero 16), gnutls_hmac(body),
 *         gnutls_hmac_output
 *   gcm128, gcm256, ccm128, ccm256 (SMB3 encryption, smb2_signing_encrypt_pdu):
 *         gnutls_aead_cipher_encryptv2(iv 12 or 11, auth_iov = {transform
 *         header bytes 20..52}, 1, iov = {header 64, body 24, rest}, 3 (2 at
 *         88 bytes and less), tag, &16), the message encrypted in place
 * "size" is the whole message (64-byte header + body), as Samba signs it.
 * Run as is (stock GnuTLS) and with LD_PRELOAD=libsmbsign_gnutls.so by
 * scripts/bench-gnutls.sh. With SMBSIGN_CABI=path/to/libsmbsign_ffi.so it also
 * times the C ABI on the same bytes (smbsign_mac over one contiguous message,
 * and smbsign_mac_iov over the same three parts), for the preload's overhead.
 * Prints one line per cell: "alg size api ns_per_call tag".
 * SAMBA_CALLS_ITERS=N makes exactly N calls per cell (for callgrind and the
 * exact-stats test in tests/gnutls/run.sh).
 * usage: samba_calls [ALGS (gmac,cmac,hmac)] [SIZES (80,128,...)] [REPS (15)] */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* The C ABI, if SMBSIGN_CABI names it (dlopen'd so the stock run needs nothing). */
typedef int (*key_new_fn)(uint16_t, const uint8_t *, size_t, void **);
typedef int (*mac_fn)(const void *, const uint8_t *, const uint8_t *, size_t, uint8_t *);
typedef int (*mac_iov_fn)(const void *, const uint8_t *, const struct iovec *, int, uint8_t *);
static key_new_fn cabi_key_new;
static mac_fn cabi_mac;
static mac_iov_fn cabi_mac_iov;

static unsigned char key[32], msg[(1 << 20) + 64], nonce[12], out[32], transform[52];
static const unsigned char zero[16];
static volatile unsigned sink;

enum api { GNUTLS, CABI, CABI_IOV };
static const char *api_names[] = {"gnutls", "cabi", "cabi_iov"};

/* One call of the pattern on a message of `size` bytes (header at msg, body
 * after it; the header's signature field msg[48..64] stays zero). */
/* The SMB3 ciphers: GnuTLS id, key length, nonce length; 0 for a MAC. */
static int cipher_of(const char *alg, unsigned *klen, size_t *nlen) {
    int gcm = alg[0] == 'g' && alg[1] == 'c', ccm = alg[0] == 'c' && alg[1] == 'c';
    if (!gcm && !ccm) return 0;
    *klen = strstr(alg, "256") ? 32 : 16;
    *nlen = gcm ? 12 : 11;
    if (gcm) return *klen == 32 ? GNUTLS_CIPHER_AES_256_GCM : GNUTLS_CIPHER_AES_128_GCM;
    return *klen == 32 ? GNUTLS_CIPHER_AES_256_CCM : GNUTLS_CIPHER_AES_128_CCM;
}

static int call(const char *alg, enum api api, void *h, size_t size, uint64_t i) {
    memcpy(nonce, &i, 8);
    unsigned klen;
    size_t nlen;
    if (cipher_of(alg, &klen, &nlen)) {
        struct iovec a = {transform + 20, 32};
        struct iovec m[3] = {{msg, 64}, {msg + 64, size - 64 < 24 ? size - 64 : 24}, {msg + 88, size > 88 ? size - 88 : 0}};
        size_t ts = 16;
        return gnutls_aead_cipher_encryptv2(h, nonce, nlen, &a, 1, m, size > 88 ? 3 : size > 64 ? 2 : 1, out, &ts);
    }
    struct iovec aad[3] = {{msg, 48}, {(void *)zero, 16}, {msg + 64, size - 64}};
    int naad = size > 64 ? 3 : 2; /* a header alone: no empty body piece */
    if (api == CABI) return cabi_mac(h, alg[0] == 'g' ? nonce : NULL, msg, size, out);
    if (api == CABI_IOV) return cabi_mac_iov(h, alg[0] == 'g' ? nonce : NULL, aad, naad, out);
    if (alg[0] == 'g') {
        size_t ts = 16;
        return gnutls_aead_cipher_encryptv2(h, nonce, 12, aad, naad, NULL, 0, out, &ts);
    }
    gnutls_hmac(h, msg, 48);
    gnutls_hmac(h, zero, 16);
    gnutls_hmac(h, msg + 64, size - 64);
    gnutls_hmac_output(h, out);
    return 0;
}

static void *open_handle(const char *alg, enum api api) {
    void *h = NULL;
    unsigned klen;
    size_t nlen;
    int cipher = cipher_of(alg, &klen, &nlen);
    if (cipher) {
        gnutls_datum_t kd = {key, klen};
        gnutls_aead_cipher_hd_t g;
        return api == GNUTLS && gnutls_aead_cipher_init(&g, cipher, &kd) == 0 ? (void *)g : NULL;
    }
    if (api != GNUTLS) {
        /* smbsign_algorithm: 0 HMAC-SHA256, 1 AES-CMAC, 2 AES-GMAC (include/smbsign.h). */
        uint16_t a = alg[0] == 'h' ? 0 : alg[0] == 'c' ? 1 : 2;
        return cabi_key_new(a, key, 16, &h) == 0 ? h : NULL;
    }
    if (alg[0] == 'g') {
        gnutls_datum_t kd = {key, 16};
        gnutls_aead_cipher_hd_t g;
        return gnutls_aead_cipher_init(&g, GNUTLS_CIPHER_AES_128_GCM, &kd) == 0 ? (void *)g : NULL;
    }
    gnutls_hmac_hd_t m;
    int a = alg[0] == 'h' ? GNUTLS_MAC_SHA256 : GNUTLS_MAC_AES_CMAC_128;
    return gnutls_hmac_init(&m, a, key, 16) == 0 ? (void *)m : NULL;
}

/* Best of `reps` batches of ~0.5 ms each (short, so that some run unpreempted
 * on a shared machine), in ns per call. */
static double time_cell(const char *alg, enum api api, void *h, size_t size, int reps) {
    uint64_t n = 1, i = 0;
    /* SAMBA_CALLS_ITERS=N: exactly N calls, once (for instruction counts). */
    const char *fixed = getenv("SAMBA_CALLS_ITERS");
    if (fixed && *fixed) {
        n = strtoull(fixed, NULL, 10);
        double t0 = now_ns();
        for (uint64_t k = 0; k < n; k++) call(alg, api, h, size, i++);
        return (now_ns() - t0) / n;
    }
    for (;;) { /* calibrate a batch */
        double t0 = now_ns();
        for (uint64_t k = 0; k < n; k++)
            if (call(alg, api, h, size, i++)) return -1;
        if (now_ns() - t0 > 5e5) break;
        n *= 2;
    }
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_ns();
        for (uint64_t k = 0; k < n; k++) call(alg, api, h, size, i++);
        double dt = (now_ns() - t0) / n;
        if (dt < best) best = dt;
    }
    sink += out[0];
    return best;
}

int main(int argc, char **argv) {
    const char *algs = argc > 1 ? argv[1] : "gmac,cmac,hmac";
    char sizes_buf[256];
    snprintf(sizes_buf, sizeof sizes_buf, "%s",
             argc > 2 ? argv[2] : "64,80,128,256,512,1024,4096,65536,1048576");
    int reps = argc > 3 ? atoi(argv[3]) : 15;
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (unsigned char)(i * 7 + 3);
    memset(msg + 48, 0, 16);
    memset(key, 0x42, sizeof key);
    const char *cabi = getenv("SMBSIGN_CABI");
    if (cabi && *cabi) {
        void *lib = dlopen(cabi, RTLD_NOW | RTLD_LOCAL);
        if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 1; }
        cabi_key_new = (key_new_fn)dlsym(lib, "smbsign_key_new");
        cabi_mac = (mac_fn)dlsym(lib, "smbsign_mac");
        cabi_mac_iov = (mac_iov_fn)dlsym(lib, "smbsign_mac_iov");
        const char *(*tier)(void) = (const char *(*)(void))dlsym(lib, "smbsign_backend_tier");
        if (!cabi_key_new || !cabi_mac || !cabi_mac_iov || !tier) return 1;
        printf("# C ABI tier %s\n", tier());
    }
    for (const char *a = algs; *a;) {
        char alg[8] = {0};
        size_t al = strcspn(a, ",");
        memcpy(alg, a, al < 7 ? al : 7);
        a += al + (a[al] == ',');
        unsigned kl;
        size_t nl;
        int is_cipher = cipher_of(alg, &kl, &nl); /* no C ABI rows for the ciphers */
        for (enum api api = GNUTLS; api <= (cabi_mac && !is_cipher ? CABI_IOV : GNUTLS); api++) {
            void *h = open_handle(alg, api);
            if (!h) { fprintf(stderr, "init %s failed\n", alg); return 1; }
            char sb[256];
            memcpy(sb, sizes_buf, sizeof sb);
            for (char *s = strtok(sb, ","); s; s = strtok(NULL, ",")) {
                size_t size = strtoul(s, NULL, 10);
                if (size < 64 || size > sizeof msg) return 1;
                double ns = time_cell(alg, api, h, size, reps);
                if (ns < 0) { fprintf(stderr, "%s %zu failed\n", alg, size); return 1; }
                printf("%s %zu %s %.2f %02x%02x%02x%02x\n", alg, size, api_names[api], ns, out[0], out[1],
                       out[2], out[3]);
            }
            /* SAMBA_CALLS_KEEP=1 leaves the handles open at exit, as smbd may. */
            const char *keep = getenv("SAMBA_CALLS_KEEP");
            if (keep && *keep == '1') continue;
            if (api == GNUTLS && (alg[0] == 'g' || is_cipher)) gnutls_aead_cipher_deinit(h);
            else if (api == GNUTLS) gnutls_hmac_deinit(h, NULL);
        }
    }
    return 0;
}
