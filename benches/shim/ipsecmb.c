/* intel-ipsec-mb's multi-buffer job API as a batch MAC for the criterion
 * suite: one manager (init_mb_mgr_auto picks the best architecture), keys
 * precomputed once, and a batch = submit every job, then flush. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <intel-ipsec-mb.h>

enum { ALG_HMAC = 0, ALG_CMAC = 1 };

struct imb_key {
    int alg;
    DECLARE_ALIGNED(uint32_t enc[4 * 15], 16);
    DECLARE_ALIGNED(uint32_t dec[4 * 15], 16);
    DECLARE_ALIGNED(uint8_t k1[16], 16);
    DECLARE_ALIGNED(uint8_t k2[16], 16);
    DECLARE_ALIGNED(uint8_t ipad[32], 16);
    DECLARE_ALIGNED(uint8_t opad[32], 16);
};

static IMB_ARCH arch_chosen;

void *peer_imb_new(void) {
    IMB_MGR *m = alloc_mb_mgr(0);
    if (!m) return NULL;
    init_mb_mgr_auto(m, &arch_chosen);
    if (imb_get_errno(m) != 0) { free_mb_mgr(m); return NULL; }
    return m;
}

void peer_imb_free(void *m) { free_mb_mgr((IMB_MGR *)m); }

const char *peer_imb_version(void) { return imb_get_version_str(); }

const char *peer_imb_arch(void) {
    switch (arch_chosen) {
    case IMB_ARCH_NOAESNI: return "no-aesni";
    case IMB_ARCH_SSE: return "sse";
    case IMB_ARCH_AVX: return "avx";
    case IMB_ARCH_AVX2: return "avx2";
    case IMB_ARCH_AVX512: return "avx512";
    default: return "unknown";
    }
}

void *peer_imb_key_new(void *mgr, int alg, const uint8_t *key) {
    IMB_MGR *m = (IMB_MGR *)mgr;
    struct imb_key *k = aligned_alloc(64, (sizeof *k + 63) / 64 * 64);
    if (!k) return NULL;
    memset(k, 0, sizeof *k);
    k->alg = alg;
    if (alg == ALG_CMAC) {
        IMB_AES_KEYEXP_128(m, key, k->enc, k->dec);
        IMB_AES_CMAC_SUBKEY_GEN_128(m, k->enc, k->k1, k->k2);
    } else {
        uint8_t block[64];
        memset(block, 0, sizeof block);
        memcpy(block, key, 16);
        for (int i = 0; i < 64; i++) block[i] ^= 0x36;
        IMB_SHA256_ONE_BLOCK(m, block, k->ipad);
        for (int i = 0; i < 64; i++) block[i] ^= 0x36 ^ 0x5c;
        IMB_SHA256_ONE_BLOCK(m, block, k->opad);
    }
    return k;
}

void peer_imb_key_free(void *k) { free(k); }

/* Tags of n messages (message i under keys[i]) through submit/flush.
 * Returns 0, or -1 if a job did not complete. */
int peer_imb_batch(void *mgr, void *const *keys, const uint8_t *const *msgs,
                   const size_t *lens, size_t n, uint8_t *tags) {
    IMB_MGR *m = (IMB_MGR *)mgr;
    size_t done = 0;
    IMB_JOB *job;
    for (size_t i = 0; i < n; i++) {
        const struct imb_key *k = keys[i];
        job = IMB_GET_NEXT_JOB(m);
        job->cipher_mode = IMB_CIPHER_NULL;
        job->cipher_direction = IMB_DIR_ENCRYPT;
        job->chain_order = IMB_ORDER_HASH_CIPHER;
        job->src = msgs[i];
        job->dst = NULL;
        job->msg_len_to_cipher_in_bytes = 0;
        job->cipher_start_src_offset_in_bytes = 0;
        job->hash_start_src_offset_in_bytes = 0;
        job->msg_len_to_hash_in_bytes = lens[i];
        job->auth_tag_output = tags + 16 * i;
        job->auth_tag_output_len_in_bytes = 16;
        if (k->alg == ALG_CMAC) {
            job->hash_alg = IMB_AUTH_AES_CMAC;
            job->u.CMAC._key_expanded = k->enc;
            job->u.CMAC._skey1 = k->k1;
            job->u.CMAC._skey2 = k->k2;
        } else {
            job->hash_alg = IMB_AUTH_HMAC_SHA_256;
            job->u.HMAC._hashed_auth_key_xor_ipad = k->ipad;
            job->u.HMAC._hashed_auth_key_xor_opad = k->opad;
        }
        job = IMB_SUBMIT_JOB(m);
        while (job) {
            if (job->status != IMB_STATUS_COMPLETED) return -1;
            done++;
            job = IMB_GET_COMPLETED_JOB(m);
        }
    }
    while ((job = IMB_FLUSH_JOB(m)) != NULL) {
        if (job->status != IMB_STATUS_COMPLETED) return -1;
        done++;
    }
    return done == n ? 0 : -1;
}
