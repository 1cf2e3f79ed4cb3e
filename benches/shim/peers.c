/* Peers for the criterion suite, behind one tiny interface each:
 *  - OpenSSL 3 (built from source by openssl-src): EVP_MAC HMAC/CMAC/GMAC, one
 *    context per key, re-initialised for every message as a signer must.
 *  - GnuTLS (Debian's, what Samba signs with): gnutls_hmac_* with
 *    GNUTLS_MAC_SHA256 / AES_CMAC_128 / AES_GMAC_128, one handle per key.
 * alg: 0 HMAC-SHA256 (first 16 bytes), 1 AES-128-CMAC, 2 AES-128-GMAC. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

struct ossl { EVP_MAC *mac; EVP_MAC_CTX *ctx; int alg; };

void *peer_ossl_new(int alg, const uint8_t *key, size_t klen) {
    struct ossl *o = calloc(1, sizeof *o);
    o->alg = alg;
    o->mac = EVP_MAC_fetch(NULL, alg == 0 ? "HMAC" : alg == 1 ? "CMAC" : "GMAC", NULL);
    o->ctx = EVP_MAC_CTX_new(o->mac);
    OSSL_PARAM p[2];
    if (alg == 0) p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
    else p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, alg == 1 ? "AES-128-CBC" : "AES-128-GCM", 0);
    p[1] = OSSL_PARAM_construct_end();
    if (alg == 2) {
        /* GMAC needs an IV at init; the real one comes with each message. */
        static const uint8_t zero[12];
        OSSL_PARAM q[3] = {p[0], OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_IV, (void *)zero, 12),
                           OSSL_PARAM_construct_end()};
        if (!EVP_MAC_init(o->ctx, key, klen, q)) return NULL;
    } else if (!EVP_MAC_init(o->ctx, key, klen, p)) {
        return NULL;
    }
    return o;
}

int peer_ossl_mac(void *h, const uint8_t *nonce, const uint8_t *msg, size_t len, uint8_t out[16]) {
    struct ossl *o = h;
    OSSL_PARAM p[2] = {OSSL_PARAM_construct_end(), OSSL_PARAM_construct_end()};
    if (o->alg == 2) p[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_IV, (void *)nonce, 12);
    uint8_t buf[32];
    size_t got = 0;
    if (!EVP_MAC_init(o->ctx, NULL, 0, p) || !EVP_MAC_update(o->ctx, msg, len) ||
        !EVP_MAC_final(o->ctx, buf, &got, sizeof buf))
        return -1;
    memcpy(out, buf, 16);
    return 0;
}

void peer_ossl_free(void *h) {
    struct ossl *o = h;
    EVP_MAC_CTX_free(o->ctx);
    EVP_MAC_free(o->mac);
    free(o);
}

const char *peer_ossl_version(void) { return OpenSSL_version(OPENSSL_VERSION); }

struct gtls { gnutls_hmac_hd_t h; int alg; };

void *peer_gnutls_new(int alg, const uint8_t *key, size_t klen) {
    struct gtls *g = calloc(1, sizeof *g);
    g->alg = alg;
    gnutls_mac_algorithm_t a = alg == 0 ? GNUTLS_MAC_SHA256 : alg == 1 ? GNUTLS_MAC_AES_CMAC_128 : GNUTLS_MAC_AES_GMAC_128;
    if (gnutls_hmac_init(&g->h, a, key, klen) < 0) return NULL;
    return g;
}

int peer_gnutls_mac(void *h, const uint8_t *nonce, const uint8_t *msg, size_t len, uint8_t out[16]) {
    struct gtls *g = h;
    uint8_t buf[32];
    if (g->alg == 2) gnutls_hmac_set_nonce(g->h, nonce, 12);
    if (gnutls_hmac(g->h, msg, len) < 0) return -1;
    gnutls_hmac_output(g->h, buf); /* also resets the handle for the next message */
    memcpy(out, buf, 16);
    return 0;
}

void peer_gnutls_free(void *h) {
    struct gtls *g = h;
    gnutls_hmac_deinit(g->h, NULL);
    free(g);
}

const char *peer_gnutls_version(void) { return gnutls_check_version(NULL); }
