/* AEAD peers for the cipher benchmark (examples/cipher.rs): in-place
 * encryption of one message with 32 bytes of AAD and a 16-byte tag, as an
 * SMB3 transform uses it.
 *  - OpenSSL 3 (openssl-src): EVP_CIPHER_CTX, key set once, nonce per message.
 *  - GnuTLS (Debian's, what Samba encrypts with): gnutls_aead_cipher_encryptv2
 *    over one iovec, Samba's call.
 * `cipher` is the SMB2 cipher id: 1 AES-128-CCM, 2 AES-128-GCM, 3 AES-256-CCM, 4 AES-256-GCM. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

struct aead { int lib, cipher; EVP_CIPHER_CTX *ctx; gnutls_aead_cipher_hd_t g; };

static int is_ccm(int c) { return c == 1 || c == 3; }

void *peer_aead_new(int lib, int cipher, const uint8_t *key) {
    struct aead *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->lib = lib;
    a->cipher = cipher;
    size_t klen = cipher <= 2 ? 16 : 32;
    if (lib == 0) {
        const EVP_CIPHER *e = cipher == 1 ? EVP_aes_128_ccm() : cipher == 2 ? EVP_aes_128_gcm()
                            : cipher == 3 ? EVP_aes_256_ccm() : EVP_aes_256_gcm();
        a->ctx = EVP_CIPHER_CTX_new();
        if (!EVP_EncryptInit_ex(a->ctx, e, NULL, NULL, NULL)) return NULL;
        if (!EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_IVLEN, is_ccm(cipher) ? 11 : 12, NULL)) return NULL;
        if (is_ccm(cipher) && !EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, 16, NULL)) return NULL;
        if (!EVP_EncryptInit_ex(a->ctx, NULL, NULL, key, NULL)) return NULL;
    } else {
        gnutls_cipher_algorithm_t g = cipher == 1 ? GNUTLS_CIPHER_AES_128_CCM : cipher == 2 ? GNUTLS_CIPHER_AES_128_GCM
                                    : cipher == 3 ? GNUTLS_CIPHER_AES_256_CCM : GNUTLS_CIPHER_AES_256_GCM;
        gnutls_datum_t k = { (unsigned char *)key, (unsigned)klen };
        if (gnutls_aead_cipher_init(&a->g, g, &k) < 0) return NULL;
    }
    return a;
}

int peer_aead_seal(void *h, const uint8_t *nonce, const uint8_t *aad, size_t alen,
                   uint8_t *buf, size_t len, uint8_t tag[16]) {
    struct aead *a = h;
    size_t nlen = is_ccm(a->cipher) ? 11 : 12;
    if (a->lib == 0) {
        int outl;
        if (!EVP_EncryptInit_ex(a->ctx, NULL, NULL, NULL, nonce)) return -1;
        if (is_ccm(a->cipher) && !EVP_EncryptUpdate(a->ctx, NULL, &outl, NULL, (int)len)) return -1;
        if (!EVP_EncryptUpdate(a->ctx, NULL, &outl, aad, (int)alen)) return -1;
        if (len && !EVP_EncryptUpdate(a->ctx, buf, &outl, buf, (int)len)) return -1;
        if (!EVP_EncryptFinal_ex(a->ctx, buf + len, &outl)) return -1;
        return EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) ? 0 : -1;
    }
    giovec_t auth = { (void *)aad, alen }, io = { buf, len };
    size_t tlen = 16;
    return gnutls_aead_cipher_encryptv2(a->g, nonce, nlen, &auth, 1, &io, 1, tag, &tlen) < 0 ? -1 : 0;
}

void peer_aead_free(void *h) {
    struct aead *a = h;
    if (a->lib == 0) EVP_CIPHER_CTX_free(a->ctx);
    else gnutls_aead_cipher_deinit(a->g);
    free(a);
}
