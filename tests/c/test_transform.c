/* Proves SMB3 encryption through the C ABI: Microsoft's twelve published
 * transform messages both ways (contiguous and iovecs), equality with OpenSSL 3's
 * EVP AES-128/256-CCM and -GCM on random keys, nonces, messages and iovec splits,
 * the key's nonce source (a counter, never reused, refusing at exhaustion), and
 * every refusal leaving the caller's buffers untouched; four threads sharing one
 * key never get the same nonce; the batch calls equal the single ones.
 * Usage: test_transform VECTOR_DIR [CASES] */
#include <openssl/evp.h>
#include <pthread.h>

#include "smbsign.h"
#include "util.h"

#ifdef SMBSIGN_VALGRIND
/* As test_openssl.c: OpenSSL's assembly outputs are declared defined. */
#include <valgrind/memcheck.h>
#define REFERENCE_DEFINED(p, n) VALGRIND_MAKE_MEM_DEFINED(p, n)
#else
#define REFERENCE_DEFINED(p, n) ((void)0)
#endif

#define HDR SMBSIGN_TRANSFORM_HEADER_LEN
#define EXPECT(call, status) CHECK((call) == (status), "%s -> want %s", #call, #status)

static size_t key_len(uint16_t cipher) { return cipher <= SMBSIGN_AES_128_GCM ? 16 : 32; }
static int is_ccm(uint16_t cipher) { return cipher == SMBSIGN_AES_128_CCM || cipher == SMBSIGN_AES_256_CCM; }

/* OpenSSL's AEAD of msg with the transform header's AAD: ciphertext to ct, tag to tag. */
static void ossl_seal(uint16_t cipher, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
                      const uint8_t *msg, size_t len, uint8_t *ct, uint8_t *tag) {
    const EVP_CIPHER *e = cipher == SMBSIGN_AES_128_CCM   ? EVP_aes_128_ccm()
                          : cipher == SMBSIGN_AES_128_GCM ? EVP_aes_128_gcm()
                          : cipher == SMBSIGN_AES_256_CCM ? EVP_aes_256_ccm()
                                                          : EVP_aes_256_gcm();
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0, ok = EVP_EncryptInit_ex(c, e, NULL, NULL, NULL);
    if (is_ccm(cipher)) {
        ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_CCM_SET_IVLEN, 11, NULL) &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_CCM_SET_TAG, 16, NULL) &&
             EVP_EncryptInit_ex(c, NULL, NULL, key, nonce) && EVP_EncryptUpdate(c, NULL, &l, NULL, (int)len);
    } else {
        ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) &&
             EVP_EncryptInit_ex(c, NULL, NULL, key, nonce);
    }
    ok = ok && EVP_EncryptUpdate(c, NULL, &l, aad, 32) && EVP_EncryptUpdate(c, ct, &l, msg, (int)len) &&
         EVP_EncryptFinal_ex(c, ct + l, &l) &&
         EVP_CIPHER_CTX_ctrl(c, is_ccm(cipher) ? EVP_CTRL_CCM_GET_TAG : EVP_CTRL_GCM_GET_TAG, 16, tag);
    if (!ok) {
        fprintf(stderr, "OpenSSL AEAD failed\n");
        exit(2);
    }
    REFERENCE_DEFINED(ct, len);
    REFERENCE_DEFINED(tag, 16);
    EVP_CIPHER_CTX_free(c);
}

/* Splits buf[0..len) into 1..4 iovecs after iov[0] = the header; returns the count. */
static int split_iov(struct iovec *iov, uint8_t *hdr, uint8_t *buf, size_t len) {
    iov[0].iov_base = hdr;
    iov[0].iov_len = HDR;
    int n = 1 + (int)(rnd() % 4);
    size_t at = 0;
    for (int i = 1; i < n; i++) {
        size_t take = (i == n - 1) ? len - at : (size_t)(rnd() % (len - at + 1));
        iov[i].iov_base = buf + at;
        iov[i].iov_len = take;
        at += take;
    }
    if (n == 1) {
        iov[1].iov_base = buf;
        iov[1].iov_len = len;
        n = 2;
    }
    return n;
}

static void microsoft(const char *dir) {
    FILE *fp = open_vectors(dir, "smb-transform-microsoft.txt");
    struct record r = {0};
    int n = 0;
    while (next_record(fp, &r)) {
        const struct field *id = get(&r, "CipherId"), *k = get(&r, "Key");
        const struct field *tm = get(&r, "TransformedMessage"), *pt = get(&r, "Plaintext");
        uint16_t cipher = (uint16_t)(id->data[0] << 8 | id->data[1]);
        smbsign_cipher_key *key = NULL;
        EXPECT(smbsign_cipher_key_new(cipher, k->data, k->len, &key), SMBSIGN_OK);
        uint16_t got_cipher = 0;
        EXPECT(smbsign_cipher_key_cipher(key, &got_cipher), SMBSIGN_OK);
        CHECK(got_cipher == cipher, "cipher %u", got_cipher);
        uint64_t sid = 0;
        uint32_t size = 0;
        EXPECT(smbsign_transform_header(tm->data, tm->len, &sid, &size), SMBSIGN_OK);
        CHECK(size == pt->len && (sid == 0x8e40014000011ull || sid >> 32 == 0x1000), "header of record %d", n);
        /* Decrypt contiguous, then over iovecs. */
        uint8_t *buf = malloc(tm->len);
        memcpy(buf, tm->data, tm->len);
        EXPECT(smbsign_decrypt(key, buf, tm->len), SMBSIGN_OK);
        CHECK(memcmp(buf + HDR, pt->data, pt->len) == 0, "decrypt record %d", n);
        memcpy(buf, tm->data, tm->len);
        struct iovec iov[5];
        int cnt = split_iov(iov, buf, buf + HDR, pt->len);
        EXPECT(smbsign_decrypt_iov(key, iov, cnt), SMBSIGN_OK);
        CHECK(memcmp(buf + HDR, pt->data, pt->len) == 0, "decrypt_iov record %d", n);
        /* Encrypt with the published 16-byte nonce field: the published bytes. */
        memset(buf, 0, HDR);
        memcpy(buf + HDR, pt->data, pt->len);
        EXPECT(smbsign_encrypt(key, tm->data + 20, 16, sid, buf, tm->len), SMBSIGN_OK);
        CHECK(memcmp(buf, tm->data, tm->len) == 0, "encrypt record %d", n);
        uint8_t hdr[HDR] = {0};
        memcpy(buf + HDR, pt->data, pt->len);
        cnt = split_iov(iov, hdr, buf + HDR, pt->len);
        EXPECT(smbsign_encrypt_iov(key, tm->data + 20, 16, sid, iov, cnt), SMBSIGN_OK);
        CHECK(memcmp(hdr, tm->data, HDR) == 0 && memcmp(buf + HDR, tm->data + HDR, pt->len) == 0,
              "encrypt_iov record %d", n);
        free(buf);
        smbsign_cipher_key_free(key);
        free_record(&r);
        n++;
    }
    fclose(fp);
    CHECK(n == 12, "%d records", n);
}

static void against_openssl(int cases) {
    for (int i = 0; i < cases; i++) {
        uint16_t cipher = (uint16_t)(1 + rnd() % 4);
        uint8_t key[32], fixed[4], aad_nonce[16];
        rnd_bytes(key, sizeof key);
        rnd_bytes(fixed, sizeof fixed);
        uint64_t first = rnd() >> (rnd() % 64);
        size_t len = (i % 4 == 0) ? 64 + rnd() % 65536 : 64 + rnd() % 300;
        uint8_t *msg = malloc(len), *buf = malloc(HDR + len), *ct = malloc(len);
        rnd_bytes(msg, len);
        smbsign_cipher_key *k = NULL;
        EXPECT(smbsign_cipher_key_new_with_nonces(cipher, key, key_len(cipher), fixed, first, &k), SMBSIGN_OK);
        uint64_t sid = rnd();
        memcpy(buf + HDR, msg, len);
        EXPECT(smbsign_encrypt(k, NULL, 0, sid, buf, HDR + len), SMBSIGN_OK);
        /* The header as MS-SMB2 2.2.41 lays it out, the nonce from the source. */
        size_t nl = is_ccm(cipher) ? 11 : 12;
        uint8_t want_nonce[16] = {0};
        for (int b = 0; b < 8; b++) want_nonce[b] = (uint8_t)(first >> (8 * b));
        memcpy(want_nonce + 8, fixed, nl - 8);
        memcpy(aad_nonce, buf + 20, 16);
        CHECK(memcmp(buf, "\xfdSMB", 4) == 0 && memcmp(aad_nonce, want_nonce, 16) == 0, "header nonce case %d", i);
        CHECK(buf[36] == (uint8_t)len && buf[37] == (uint8_t)(len >> 8) && buf[40] == 0 && buf[41] == 0 &&
                  buf[42] == 1 && buf[43] == 0,
              "header fields case %d", i);
        uint8_t tag[16];
        ossl_seal(cipher, key, want_nonce, buf + 20, msg, len, ct, tag);
        CHECK(memcmp(buf + 4, tag, 16) == 0, "tag case %d cipher %u len %zu", i, cipher, len);
        CHECK(memcmp(buf + HDR, ct, len) == 0, "ciphertext case %d cipher %u len %zu", i, cipher, len);
        /* Back over random iovecs. */
        struct iovec iov[5];
        int cnt = split_iov(iov, buf, buf + HDR, len);
        EXPECT(smbsign_decrypt_iov(k, iov, cnt), SMBSIGN_OK);
        CHECK(memcmp(buf + HDR, msg, len) == 0, "round trip case %d", i);
        /* The next message gets the next counter value. */
        EXPECT(smbsign_encrypt(k, NULL, 0, sid, buf, HDR + len), SMBSIGN_OK);
        uint64_t c = 0;
        for (int b = 7; b >= 0; b--) c = c << 8 | buf[20 + b];
        CHECK(c == first + 1, "counter case %d", i);
        smbsign_cipher_key_free(k);
        free(msg);
        free(buf);
        free(ct);
    }
}

static void dialects(void) {
    uint16_t c = 0;
    EXPECT(smbsign_cipher_for_dialect(0x0300, -1, &c), SMBSIGN_OK);
    CHECK(c == SMBSIGN_AES_128_CCM, "3.0 -> %u", c);
    EXPECT(smbsign_cipher_for_dialect(0x0302, 4, &c), SMBSIGN_OK);
    CHECK(c == SMBSIGN_AES_128_CCM, "3.0.2 ignores the id -> %u", c);
    for (int id = 1; id <= 4; id++) {
        EXPECT(smbsign_cipher_for_dialect(0x0311, id, &c), SMBSIGN_OK);
        CHECK(c == id, "3.1.1 id %d -> %u", id, c);
    }
    c = 77;
    EXPECT(smbsign_cipher_for_dialect(0x0311, -1, &c), SMBSIGN_ERR_UNKNOWN_CIPHER);
    EXPECT(smbsign_cipher_for_dialect(0x0311, 0, &c), SMBSIGN_ERR_UNKNOWN_CIPHER);
    EXPECT(smbsign_cipher_for_dialect(0x0311, 5, &c), SMBSIGN_ERR_UNKNOWN_CIPHER);
    EXPECT(smbsign_cipher_for_dialect(0x0311, 65537, &c), SMBSIGN_ERR_UNKNOWN_CIPHER);
    EXPECT(smbsign_cipher_for_dialect(0x0210, 1, &c), SMBSIGN_ERR_UNSUPPORTED_DIALECT);
    EXPECT(smbsign_cipher_for_dialect(0x0311, 1, NULL), SMBSIGN_ERR_NULL_POINTER);
    CHECK(c == 77, "output written on error");
}

static void refusals(void) {
    uint8_t key[16] = {7}, buf[HDR + 100], before[HDR + 100];
    smbsign_cipher_key *k = NULL;
    EXPECT(smbsign_cipher_key_new(0, key, 16, &k), SMBSIGN_ERR_UNKNOWN_CIPHER);
    EXPECT(smbsign_cipher_key_new(5, key, 16, &k), SMBSIGN_ERR_UNKNOWN_CIPHER);
    EXPECT(smbsign_cipher_key_new(SMBSIGN_AES_256_GCM, key, 16, &k), SMBSIGN_ERR_KEY_LENGTH);
    EXPECT(smbsign_cipher_key_new(SMBSIGN_AES_128_GCM, NULL, 16, &k), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_cipher_key_new(SMBSIGN_AES_128_GCM, key, 16, NULL), SMBSIGN_ERR_NULL_POINTER);
    CHECK(k == NULL, "no handle on error");
    EXPECT(smbsign_cipher_key_new(SMBSIGN_AES_128_GCM, key, 16, &k), SMBSIGN_OK);
    memset(buf, 0x33, sizeof buf);
    memcpy(before, buf, sizeof buf);
    /* Encryption: nothing written on any refusal. */
    EXPECT(smbsign_encrypt(NULL, NULL, 0, 1, buf, sizeof buf), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_encrypt(k, NULL, 0, 1, buf, HDR - 1), SMBSIGN_ERR_BAD_TRANSFORM);
    EXPECT(smbsign_encrypt(k, NULL, 0, 1, buf, HDR), SMBSIGN_ERR_INVALID_ARGUMENT);
    /* Less than an SMB2 header after the transform header: no receiver takes it. */
    EXPECT(smbsign_encrypt(k, NULL, 0, 1, buf, HDR + 63), SMBSIGN_ERR_INVALID_ARGUMENT);
    EXPECT(smbsign_encrypt(k, key, 11, 1, buf, sizeof buf), SMBSIGN_ERR_INVALID_ARGUMENT);
    EXPECT(smbsign_encrypt(k, NULL, 12, 1, buf, sizeof buf), SMBSIGN_ERR_NULL_POINTER);
    CHECK(memcmp(buf, before, sizeof buf) == 0, "buffer written on a refused encryption");
    struct iovec iov[2] = {{buf, HDR - 1}, {buf + HDR, 100}};
    EXPECT(smbsign_encrypt_iov(k, NULL, 0, 1, iov, 2), SMBSIGN_ERR_INVALID_ARGUMENT);
    EXPECT(smbsign_encrypt_iov(k, NULL, 0, 1, iov, 0), SMBSIGN_ERR_INVALID_ARGUMENT);
    iov[0].iov_len = HDR;
    iov[1].iov_base = buf + 10; /* overlaps the header */
    EXPECT(smbsign_encrypt_iov(k, NULL, 0, 1, iov, 2), SMBSIGN_ERR_INVALID_ARGUMENT);
    CHECK(memcmp(buf, before, sizeof buf) == 0, "buffer written on a refused iov encryption");
    /* No refusal spent a nonce: the next nonce continues right after the
     * first message's (a new key's counter starts at random, below 2^63). */
    uint8_t nonce[16];
    EXPECT(smbsign_encrypt(k, NULL, 0, 1, buf, sizeof buf), SMBSIGN_OK);
    uint64_t first = 0;
    for (int b = 7; b >= 0; b--) first = first << 8 | buf[20 + b];
    CHECK(first < (uint64_t)1 << 63, "a new key's first counter below 2^63");
    EXPECT(smbsign_next_nonce(k, nonce), SMBSIGN_OK);
    uint64_t second = 0;
    for (int b = 7; b >= 0; b--) second = second << 8 | nonce[b];
    CHECK(second == first + 1 && memcmp(nonce + 8, buf + 28, 4) == 0 && memcmp(nonce + 12, "\0\0\0\0", 4) == 0,
          "next_nonce continues the sequence");
    EXPECT(smbsign_next_nonce(k, NULL), SMBSIGN_ERR_NULL_POINTER);
    /* The nonce may point into the very header being written. */
    memset(buf + HDR, 0x33, sizeof buf - HDR);
    EXPECT(smbsign_next_nonce(k, buf + 20), SMBSIGN_OK);
    memcpy(nonce, buf + 20, 16);
    EXPECT(smbsign_encrypt(k, buf + 20, 16, 1, buf, sizeof buf), SMBSIGN_OK);
    CHECK(memcmp(buf + 20, nonce, 16) == 0, "header carries the nonce it was given from inside it");
    /* Decryption: header checks, then the tag; the buffer left exactly as it was. */
    uint8_t good[HDR + 100];
    memcpy(good, buf, sizeof buf);
    EXPECT(smbsign_transform_header(buf, HDR - 1, NULL, NULL), SMBSIGN_ERR_BAD_TRANSFORM);
    EXPECT(smbsign_decrypt(k, buf, HDR), SMBSIGN_ERR_BAD_TRANSFORM);
    EXPECT(smbsign_decrypt(k, buf, sizeof buf - 1), SMBSIGN_ERR_BAD_TRANSFORM);
    /* OriginalMessageSize below the 64-byte SMB2 header, with that many bytes after it. */
    {
        uint8_t t[HDR + 63];
        memcpy(t, good, sizeof t);
        t[36] = 63;
        t[37] = t[38] = t[39] = 0;
        uint8_t tb[sizeof t];
        memcpy(tb, t, sizeof t);
        EXPECT(smbsign_transform_header(t, sizeof t, NULL, NULL), SMBSIGN_OK);
        EXPECT(smbsign_decrypt(k, t, sizeof t), SMBSIGN_ERR_BAD_TRANSFORM);
        CHECK(memcmp(t, tb, sizeof t) == 0, "short OriginalMessageSize: buffer changed");
    }
    for (size_t pos = 0; pos < sizeof buf; pos += 1 + rnd() % 7) {
        memcpy(buf, good, sizeof buf);
        buf[pos] ^= (uint8_t)(1u << (rnd() % 8));
        memcpy(before, buf, sizeof buf);
        int s = smbsign_decrypt(k, buf, sizeof buf);
        int want = (pos < 4 || (pos >= 36 && pos < 40) || (pos >= 42 && pos < 44)) ? SMBSIGN_ERR_BAD_TRANSFORM
                                                                                  : SMBSIGN_ERR_BAD_SIGNATURE;
        CHECK(s == want, "tampered byte %zu: %d, want %d", pos, s, want);
        CHECK(memcmp(buf, before, sizeof buf) == 0, "tampered byte %zu: buffer changed", pos);
    }
    memcpy(buf, good, sizeof buf);
    EXPECT(smbsign_decrypt(k, buf, sizeof buf), SMBSIGN_OK);
    CHECK(buf[HDR] == 0x33 && buf[sizeof buf - 1] == 0x33, "plaintext back");
    smbsign_cipher_key_free(k);
    smbsign_cipher_key_free(NULL);
    /* Exhaustion: the counter's last value, then NONCE_EXHAUSTED, message untouched. */
    uint8_t fixed[4] = {1, 2, 3, 4};
    EXPECT(smbsign_cipher_key_new_with_nonces(SMBSIGN_AES_256_CCM, key, 16, fixed, 0, &k), SMBSIGN_ERR_KEY_LENGTH);
    uint8_t key32[32] = {9};
    EXPECT(smbsign_cipher_key_new_with_nonces(SMBSIGN_AES_256_CCM, key32, 32, NULL, 0, &k), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_cipher_key_new_with_nonces(SMBSIGN_AES_256_CCM, key32, 32, fixed, UINT64_MAX - 1, &k), SMBSIGN_OK);
    memset(buf, 0x44, sizeof buf);
    EXPECT(smbsign_encrypt(k, NULL, 0, 1, buf, sizeof buf), SMBSIGN_OK);
    CHECK(memcmp(buf + 20, "\xfe\xff\xff\xff\xff\xff\xff\xff\x01\x02\x03\0\0\0\0\0", 16) == 0, "last nonce");
    memcpy(before, buf, sizeof buf);
    EXPECT(smbsign_encrypt(k, NULL, 0, 1, buf, sizeof buf), SMBSIGN_ERR_NONCE_EXHAUSTED);
    EXPECT(smbsign_next_nonce(k, nonce), SMBSIGN_ERR_NONCE_EXHAUSTED);
    CHECK(memcmp(buf, before, sizeof buf) == 0, "buffer written after exhaustion");
    /* An explicit nonce still works (the caller's promise). */
    EXPECT(smbsign_encrypt(k, key32, 11, 1, buf, sizeof buf), SMBSIGN_OK);
    smbsign_cipher_key_free(k);
}

/* Every cipher (CCM too), short and long messages: a flipped bit anywhere the
 * tag covers fails with BAD_SIGNATURE, the header fields checked before the
 * tag with BAD_TRANSFORM, and the buffer (contiguous or iovecs) comes back
 * exactly as it was (F9). */
static void tampering_every_cipher(void) {
    static const size_t lens[] = {64, 1000, 70000};
    for (uint16_t cipher = 1; cipher <= 4; cipher++) {
        for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
            size_t len = lens[li], total = HDR + len;
            uint8_t key[32];
            rnd_bytes(key, sizeof key);
            smbsign_cipher_key *k = NULL;
            EXPECT(smbsign_cipher_key_new(cipher, key, key_len(cipher), &k), SMBSIGN_OK);
            uint8_t *good = malloc(total), *buf = malloc(total), *before = malloc(total);
            rnd_bytes(good + HDR, len);
            EXPECT(smbsign_encrypt(k, NULL, 0, 0x1234, good, total), SMBSIGN_OK);
            size_t step = len > 1000 ? 997 : 5;
            for (size_t pos = 0; pos < total; pos += (pos < HDR + 16 || pos + 32 > total) ? 1 : step) {
                memcpy(buf, good, total);
                buf[pos] ^= (uint8_t)(1u << (pos % 8));
                memcpy(before, buf, total);
                int want = (pos < 4 || (pos >= 36 && pos < 40) || (pos >= 42 && pos < 44)) ? SMBSIGN_ERR_BAD_TRANSFORM
                                                                                          : SMBSIGN_ERR_BAD_SIGNATURE;
                int s = smbsign_decrypt(k, buf, total);
                CHECK(s == want, "cipher %u len %zu byte %zu: %d, want %d", cipher, len, pos, s, want);
                CHECK(memcmp(buf, before, total) == 0, "cipher %u len %zu byte %zu: buffer changed", cipher, len, pos);
                if (pos % 3 == 0) {
                    struct iovec iov[5];
                    int cnt = split_iov(iov, buf, buf + HDR, len);
                    s = smbsign_decrypt_iov(k, iov, cnt);
                    CHECK(s == want, "iov cipher %u len %zu byte %zu: %d", cipher, len, pos, s);
                    CHECK(memcmp(buf, before, total) == 0, "iov cipher %u len %zu byte %zu: changed", cipher, len, pos);
                }
            }
            memcpy(buf, good, total);
            EXPECT(smbsign_decrypt(k, buf, total), SMBSIGN_OK);
            smbsign_cipher_key_free(k);
            free(good);
            free(buf);
            free(before);
        }
    }
}

/* A PDU header: command, flags, SessionId, in a buffer of 64 + body bytes. */
static void put_pdu(uint8_t *p, uint16_t command, uint32_t flags, uint64_t sid, uint32_t next) {
    memset(p, 0, 64);
    memcpy(p, "\xfeSMB", 4);
    p[4] = 64;
    p[12] = (uint8_t)command;
    for (int b = 0; b < 4; b++) p[16 + b] = (uint8_t)(flags >> (8 * b));
    for (int b = 0; b < 4; b++) p[20 + b] = (uint8_t)(next >> (8 * b));
    for (int b = 0; b < 8; b++) p[40 + b] = (uint8_t)(sid >> (8 * b));
}

/* Core's encryption rules and session_cipher_keys through the ABI (F6, F20). */
static void rules_and_keys(void) {
    uint8_t msg[64 + 16 + 64];
    put_pdu(msg, 0x0008, 0, 7, 80);
    memset(msg + 64, 0xAA, 16);
    put_pdu(msg + 80, 0x0008, 0x4 /* related */, UINT64_MAX, 0);
    EXPECT(smbsign_check_decrypted(7, msg, sizeof msg), SMBSIGN_OK);
    EXPECT(smbsign_check_decrypted(8, msg, sizeof msg), SMBSIGN_ERR_SESSION_MISMATCH);
    put_pdu(msg + 80, 0x0008, 0, 9, 0); /* unrelated, another session */
    EXPECT(smbsign_check_decrypted(7, msg, sizeof msg), SMBSIGN_ERR_SESSION_MISMATCH);
    CHECK(strstr(smbsign_strerror(SMBSIGN_ERR_SESSION_MISMATCH), "SessionId") != NULL, "mismatch text");
    msg[0] = 0xFD;
    EXPECT(smbsign_check_decrypted(7, msg, sizeof msg), SMBSIGN_ERR_BAD_TRANSFORM);
    msg[0] = 0xFE;
    EXPECT(smbsign_check_decrypted(7, msg, 10), SMBSIGN_ERR_TRUNCATED);
    EXPECT(smbsign_check_decrypted(7, NULL, 64), SMBSIGN_ERR_NULL_POINTER);
    int yes = -1;
    EXPECT(smbsign_must_be_encrypted(msg, 80, 7, 1, &yes), SMBSIGN_OK);
    CHECK(yes == 1, "READ on an encrypting session");
    EXPECT(smbsign_must_be_encrypted(msg, 80, 7, 0, &yes), SMBSIGN_OK);
    CHECK(yes == 0, "READ on a clear session");
    EXPECT(smbsign_must_be_encrypted(msg, 80, 0, 1, &yes), SMBSIGN_OK);
    CHECK(yes == 0, "no session");
    uint8_t neg[64 + 36];
    put_pdu(neg, 0x0000, 0, 7, 0);
    EXPECT(smbsign_must_be_encrypted(neg, sizeof neg, 7, 1, &yes), SMBSIGN_OK);
    CHECK(yes == 0, "NEGOTIATE");
    EXPECT(smbsign_must_be_encrypted(neg, 63, 7, 1, &yes), SMBSIGN_ERR_TRUNCATED);
    EXPECT(smbsign_must_be_encrypted(neg, sizeof neg, 7, 1, NULL), SMBSIGN_ERR_NULL_POINTER);
    CHECK(smbsign_signature_applies(0) == 1 && smbsign_signature_applies(1) == 0, "signature_applies");
    /* clear_signatures: flag cleared, signature zeroed, in every PDU. */
    put_pdu(msg + 80, 0x0008, 0x4, UINT64_MAX, 0);
    msg[16] |= 0x08;
    msg[80 + 16] |= 0x08;
    memset(msg + 48, 0x5A, 16);
    memset(msg + 80 + 48, 0x5A, 16);
    EXPECT(smbsign_clear_signatures(msg, sizeof msg), SMBSIGN_OK);
    static const uint8_t zero[16];
    CHECK((msg[16] & 0x08) == 0 && (msg[96] & 0x08) == 0 && memcmp(msg + 48, zero, 16) == 0 &&
              memcmp(msg + 128, zero, 16) == 0 && msg[96] == 0x04,
          "signatures cleared");
    msg[20] = 3; /* NextCommand unaligned: refused, nothing written */
    msg[16] |= 0x08;
    EXPECT(smbsign_clear_signatures(msg, sizeof msg), SMBSIGN_ERR_BAD_NEXT_COMMAND);
    CHECK(msg[16] & 0x08, "written on a refused clear");
    /* session_cipher_keys applies the AES-256 rule itself: equal to
     * smb311_keys given the whole key as FullSessionKey and the first 16 bytes. */
    uint8_t full[32], h[64];
    for (int i = 0; i < 32; i++) full[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++) h[i] = (uint8_t)(0x40 + i);
    smbsign_session_keys a, b;
    for (uint16_t c = 1; c <= 4; c++) {
        EXPECT(smbsign_session_cipher_keys(0x0311, c, full, 32, h, &a), SMBSIGN_OK);
        uint32_t n = c >= SMBSIGN_AES_256_CCM ? 32 : 16;
        EXPECT(smbsign_smb311_keys(full, 16, full, 32, h, n, &b), SMBSIGN_OK);
        CHECK(memcmp(&a, &b, sizeof a) == 0 && a.cipher_key_len == n, "3.1.1 cipher %u keys", c);
    }
    EXPECT(smbsign_session_cipher_keys(0x0300, SMBSIGN_AES_128_CCM, full, 32, NULL, &a), SMBSIGN_OK);
    EXPECT(smbsign_smb30_keys(full, 16, &b), SMBSIGN_OK);
    CHECK(memcmp(&a, &b, sizeof a) == 0, "3.0 keys");
    EXPECT(smbsign_session_cipher_keys(0x0300, SMBSIGN_AES_128_GCM, full, 32, NULL, &a), SMBSIGN_ERR_UNKNOWN_CIPHER);
    EXPECT(smbsign_session_cipher_keys(0x0311, SMBSIGN_AES_128_GCM, full, 32, NULL, &a), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_session_cipher_keys(0x0210, SMBSIGN_AES_128_CCM, full, 32, NULL, &a), SMBSIGN_ERR_UNSUPPORTED_DIALECT);
    EXPECT(smbsign_session_cipher_keys(0x0311, 9, full, 32, h, &a), SMBSIGN_ERR_UNKNOWN_CIPHER);
    EXPECT(smbsign_session_cipher_keys(0x0311, 1, full, 32, h, NULL), SMBSIGN_ERR_NULL_POINTER);
    /* F11: the key-length text names the cipher lengths. */
    const char *kl = smbsign_strerror(SMBSIGN_ERR_KEY_LENGTH);
    CHECK(strstr(kl, "AES-256") != NULL && strstr(kl, "32") != NULL && strstr(kl, "16") != NULL, "%s", kl);
}

#define THREADS 4
#define PER_THREAD 2000
static smbsign_cipher_key *g_shared;
static uint64_t g_counters[THREADS][PER_THREAD];
static int g_thread_errors;

static void *encrypt_many(void *arg) {
    uint64_t *out = arg;
    uint8_t buf[HDR + 64];
    for (int i = 0; i < PER_THREAD; i++) {
        memset(buf + HDR, i, 64);
        if (smbsign_encrypt(g_shared, NULL, 0, 7, buf, sizeof buf) != SMBSIGN_OK) __atomic_add_fetch(&g_thread_errors, 1, __ATOMIC_RELAXED);
        uint64_t c = 0;
        for (int b = 7; b >= 0; b--) c = c << 8 | buf[20 + b];
        out[i] = c;
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void shared_between_threads(void) {
    uint8_t key[16] = {5};
    EXPECT(smbsign_cipher_key_new(SMBSIGN_AES_128_GCM, key, 16, &g_shared), SMBSIGN_OK);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, encrypt_many, g_counters[i]);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    CHECK(g_thread_errors == 0, "%d encryptions failed", g_thread_errors);
    /* Every counter value from the key's (random) start, exactly once. */
    uint64_t *all = &g_counters[0][0];
    qsort(all, THREADS * PER_THREAD, sizeof *all, cmp_u64);
    int unique = 1;
    for (int i = 0; i < THREADS * PER_THREAD; i++) unique &= all[i] == all[0] + (uint64_t)i;
    CHECK(unique, "nonce counters not each used once");
    smbsign_cipher_key_free(g_shared);
}

/* smbsign_encrypt_batch / smbsign_decrypt_batch: every job equals the
 * single call (and OpenSSL), on random batches of 1..70 jobs mixing
 * ciphers and keys; tampered members alone fail, holding their ciphertext;
 * refused jobs (NULL key, short buffer, bad nonce, overlapping buffers) get
 * the single call's status and nothing written; the return is the first
 * failing job's status. */
static void batches(int cases) {
    enum { KEYS = 6, MAXJ = 70 };
    uint8_t raw[KEYS][32];
    uint16_t ciphers[KEYS] = {SMBSIGN_AES_128_CCM, SMBSIGN_AES_256_CCM, SMBSIGN_AES_128_CCM,
                              SMBSIGN_AES_256_CCM, SMBSIGN_AES_128_GCM, SMBSIGN_AES_256_GCM};
    smbsign_cipher_key *keys[KEYS];
    for (int k = 0; k < KEYS; k++) {
        rnd_bytes(raw[k], 32);
        uint8_t fixed[4] = {1, 2, 3, (uint8_t)k};
        EXPECT(smbsign_cipher_key_new_with_nonces(ciphers[k], raw[k], key_len(ciphers[k]), fixed, 7, &keys[k]),
               SMBSIGN_OK);
    }
    for (int round = 0; round < cases / 20 + 1; round++) {
        size_t n = 1 + rnd() % MAXJ;
        smbsign_cipher_job jobs[MAXJ];
        uint8_t *bufs[MAXJ], *msgs[MAXJ], *sent[MAXJ];
        uint8_t nonces[MAXJ][12];
        int kidx[MAXJ];
        size_t lens[MAXJ];
        for (size_t i = 0; i < n; i++) {
            int k = (int)(rnd() % 8 == 0 ? 4 + rnd() % 2 : rnd() % 4);
            size_t len = (i % 9 == 0) ? 64 + rnd() % 9000 : 64 + rnd() % 1100; /* at least an SMB2 header */
            kidx[i] = k;
            lens[i] = len;
            msgs[i] = malloc(len);
            bufs[i] = malloc(HDR + len);
            sent[i] = malloc(HDR + len);
            rnd_bytes(msgs[i], len);
            rnd_bytes(nonces[i], 12);
            memcpy(bufs[i] + HDR, msgs[i], len);
            jobs[i] = (smbsign_cipher_job){.key = keys[k], .nonce = nonces[i],
                                           .nonce_len = is_ccm(ciphers[k]) ? 11 : 12,
                                           .session_id = rnd(), .buf = bufs[i], .len = HDR + len,
                                           .status = 12345};
        }
        EXPECT(smbsign_encrypt_batch(jobs, n), SMBSIGN_OK);
        for (size_t i = 0; i < n; i++) {
            CHECK(jobs[i].status == SMBSIGN_OK, "job %zu status %d", i, jobs[i].status);
            /* The single call, on a copy. */
            uint8_t *one = malloc(HDR + lens[i]);
            memcpy(one + HDR, msgs[i], lens[i]);
            EXPECT(smbsign_encrypt(keys[kidx[i]], nonces[i], jobs[i].nonce_len, jobs[i].session_id, one,
                                   HDR + lens[i]), SMBSIGN_OK);
            CHECK(memcmp(one, bufs[i], HDR + lens[i]) == 0, "batch job %zu (cipher %u, %zu bytes) != single",
                  i, ciphers[kidx[i]], lens[i]);
            uint8_t tag[16], *ct = malloc(lens[i]);
            ossl_seal(ciphers[kidx[i]], raw[kidx[i]], nonces[i], bufs[i] + 20, msgs[i], lens[i], ct, tag);
            CHECK(memcmp(ct, bufs[i] + HDR, lens[i]) == 0 && memcmp(tag, bufs[i] + 4, 16) == 0,
                  "batch job %zu != OpenSSL", i);
            free(ct);
            free(one);
        }
        /* Tamper some (tag or ciphertext), decrypt the batch. */
        for (size_t i = 0; i < n; i++) {
            if (i % 7 == 3) bufs[i][i % 2 ? 4 + i % 16 : HDR + (i * 31) % lens[i]] ^= 0x40;
            memcpy(sent[i], bufs[i], HDR + lens[i]);
            jobs[i].status = 12345;
        }
        EXPECT(smbsign_decrypt_batch(jobs, n), n > 3 ? SMBSIGN_ERR_BAD_SIGNATURE : SMBSIGN_OK);
        for (size_t i = 0; i < n; i++) {
            if (i % 7 == 3) {
                CHECK(jobs[i].status == SMBSIGN_ERR_BAD_SIGNATURE, "tampered job %zu: %d", i, jobs[i].status);
                CHECK(memcmp(bufs[i], sent[i], HDR + lens[i]) == 0, "tampered job %zu not restored", i);
            } else {
                CHECK(jobs[i].status == SMBSIGN_OK, "job %zu: %d", i, jobs[i].status);
                CHECK(memcmp(bufs[i] + HDR, msgs[i], lens[i]) == 0, "job %zu plaintext", i);
                CHECK(memcmp(bufs[i], sent[i], HDR) == 0, "job %zu header kept", i);
            }
            free(bufs[i]);
            free(msgs[i]);
            free(sent[i]);
        }
    }

    /* Refusals: each job's status is the single call's; nothing written. */
    uint8_t a[HDR + 64], b[HDR + 64], c[40], d[HDR + 64], e[HDR + 64], f[HDR], g[HDR + 8];
    memset(a, 1, sizeof a);
    memset(b, 2, sizeof b);
    memset(c, 3, sizeof c);
    memset(d, 4, sizeof d);
    memset(e, 5, sizeof e);
    memset(f, 6, sizeof f);
    memset(g, 7, sizeof g);
    uint8_t e0[sizeof e], c0[sizeof c], f0[sizeof f];
    memcpy(e0, e, sizeof e);
    memcpy(c0, c, sizeof c);
    memcpy(f0, f, sizeof f);
    uint8_t bad_nonce[13] = {0};
    smbsign_cipher_job r[7] = {
        {.key = keys[0], .buf = a, .len = sizeof a},                        /* ok, the key's nonce source */
        {.key = NULL, .buf = b, .len = sizeof b},                           /* NULL key */
        {.key = keys[1], .buf = c, .len = sizeof c},                        /* no header room */
        {.key = keys[4], .buf = d, .len = sizeof d},                        /* overlaps r[6] */
        {.key = keys[2], .nonce = bad_nonce, .nonce_len = 13, .buf = e, .len = sizeof e}, /* bad nonce */
        {.key = keys[3], .buf = f, .len = sizeof f},                        /* no message */
        {.key = keys[5], .buf = g + 4, .len = 4},                           /* placeholder, set below */
    };
    /* Two jobs over one buffer: both refused. */
    r[6] = (smbsign_cipher_job){.key = keys[5], .buf = d + 10, .len = 20};
    uint8_t d0[sizeof d];
    memcpy(d0, d, sizeof d);
    for (int i = 0; i < 7; i++) r[i].status = 12345;
    EXPECT(smbsign_encrypt_batch(r, 7), SMBSIGN_ERR_NULL_POINTER);
    CHECK(r[0].status == SMBSIGN_OK, "r0 %d", r[0].status);
    CHECK(r[1].status == SMBSIGN_ERR_NULL_POINTER, "r1 %d", r[1].status);
    CHECK(r[2].status == smbsign_encrypt(keys[1], NULL, 0, 0, c, sizeof c), "r2 %d", r[2].status);
    CHECK(r[3].status == SMBSIGN_ERR_INVALID_ARGUMENT && r[6].status == SMBSIGN_ERR_INVALID_ARGUMENT,
          "overlapping: %d %d", r[3].status, r[6].status);
    CHECK(r[4].status == smbsign_encrypt(keys[2], bad_nonce, 13, 0, e, sizeof e), "r4 %d", r[4].status);
    CHECK(r[5].status == smbsign_encrypt(keys[3], NULL, 0, 0, f, sizeof f), "r5 %d", r[5].status);
    CHECK(memcmp(c, c0, sizeof c) == 0 && memcmp(d, d0, sizeof d) == 0 && memcmp(e, e0, sizeof e) == 0 &&
              memcmp(f, f0, sizeof f) == 0,
          "refused jobs written");
    EXPECT(smbsign_decrypt(keys[0], a, sizeof a), SMBSIGN_OK);
    /* The key's nonce source gave job 0 its first nonce (7), and refused jobs spent none. */
    uint8_t next[16];
    EXPECT(smbsign_next_nonce(keys[0], next), SMBSIGN_OK);
    CHECK(next[0] == 8, "next nonce %u", next[0]);
    EXPECT(smbsign_next_nonce(keys[3], next), SMBSIGN_OK);
    CHECK(next[0] == 7, "refused job spent a nonce: %u", next[0]);
    EXPECT(smbsign_encrypt_batch(NULL, 3), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_decrypt_batch(NULL, 3), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_encrypt_batch(NULL, 0), SMBSIGN_OK);
    EXPECT(smbsign_decrypt_batch(NULL, 0), SMBSIGN_OK);
    /* Decrypt refusals: a short buffer, a NULL key. */
    smbsign_cipher_job dr[2] = {{.key = keys[0], .buf = f, .len = sizeof f}, {.key = NULL, .buf = a, .len = sizeof a}};
    EXPECT(smbsign_decrypt_batch(dr, 2), smbsign_decrypt(keys[0], f, sizeof f));
    CHECK(dr[1].status == SMBSIGN_ERR_NULL_POINTER, "dr1 %d", dr[1].status);
    for (int k = 0; k < KEYS; k++) smbsign_cipher_key_free(keys[k]);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s VECTOR_DIR [CASES]\n", argv[0]);
        return 2;
    }
    int cases = argc > 2 ? atoi(argv[2]) : 400;
    microsoft(argv[1]);
    against_openssl(cases);
    dialects();
    refusals();
    tampering_every_cipher();
    rules_and_keys();
    shared_between_threads();
    batches(cases);
    return report("test_transform");
}
