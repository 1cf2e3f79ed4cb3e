/* Proves every bad-input path returns its documented error and leaves buffers
 * untouched: NULL pointers, zero and huge lengths, wrong key sizes, unknown
 * algorithms, truncated/malformed PDUs, NextCommand out of bounds, bad iovecs; and
 * that the backend strings (tier, reason, kernels) follow SMBSIGN_BACKEND. */
#include <limits.h>
#include <string.h>
#include <stdlib.h>

#include "smbsign.h"
#include "util.h"

#define EXPECT(call, status) CHECK((call) == (status), "%s -> want %s", #call, #status)

int main(void) {
    uint8_t k16[16] = {1, 2, 3}, out[32], nonce[12] = {0};
    smbsign_key *key = NULL, *gkey = NULL, *bad = (smbsign_key *)0;

    /* key_new */
    EXPECT(smbsign_key_new(SMBSIGN_AES_CMAC, k16, 16, NULL), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_key_new(SMBSIGN_AES_CMAC, NULL, 16, &key), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_key_new(SMBSIGN_AES_CMAC, k16, 15, &key), SMBSIGN_ERR_KEY_LENGTH);
    EXPECT(smbsign_key_new(SMBSIGN_HMAC_SHA256, k16, 0, &key), SMBSIGN_ERR_KEY_LENGTH);
    EXPECT(smbsign_key_new(SMBSIGN_AES_GMAC, k16, 32, &key), SMBSIGN_ERR_KEY_LENGTH);
    EXPECT(smbsign_key_new(3, k16, 16, &key), SMBSIGN_ERR_UNKNOWN_ALGORITHM);
    EXPECT(smbsign_key_new(0xFFFF, k16, 16, &key), SMBSIGN_ERR_UNKNOWN_ALGORITHM);
    EXPECT(smbsign_key_new(SMBSIGN_AES_CMAC, k16, SIZE_MAX, &key), SMBSIGN_ERR_INVALID_ARGUMENT);
    CHECK(key == NULL, "key written on error");
    EXPECT(smbsign_key_new(SMBSIGN_AES_CMAC, k16, 16, &key), SMBSIGN_OK);
    EXPECT(smbsign_key_new(SMBSIGN_AES_GMAC, k16, 16, &gkey), SMBSIGN_OK);
    uint16_t alg = 99;
    EXPECT(smbsign_key_algorithm(gkey, &alg), SMBSIGN_OK);
    CHECK(alg == SMBSIGN_AES_GMAC, "alg %u", alg);
    EXPECT(smbsign_key_algorithm(NULL, &alg), SMBSIGN_ERR_NULL_POINTER);
    smbsign_key_free(NULL);

    /* mac */
    uint8_t msg[100];
    rnd_bytes(msg, sizeof msg);
    memset(out, 0xAA, sizeof out);
    EXPECT(smbsign_mac(bad, NULL, msg, 10, out), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_mac(key, NULL, NULL, 10, out), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_mac(key, NULL, msg, 10, NULL), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_mac(key, nonce, msg, 10, out), SMBSIGN_ERR_UNEXPECTED_NONCE);
    EXPECT(smbsign_mac(gkey, NULL, msg, 10, out), SMBSIGN_ERR_MISSING_NONCE);
    EXPECT(smbsign_mac(key, NULL, msg, (size_t)PTRDIFF_MAX + 1, out), SMBSIGN_ERR_INVALID_ARGUMENT);
    CHECK(out[0] == 0xAA && out[15] == 0xAA, "out written on error");
    EXPECT(smbsign_mac(key, NULL, NULL, 0, out), SMBSIGN_OK); /* empty message */
    struct iovec iov[3] = {{msg, 10}, {NULL, 0}, {msg + 10, 90}};
    EXPECT(smbsign_mac_iov(key, NULL, iov, -1, out), SMBSIGN_ERR_INVALID_ARGUMENT);
    EXPECT(smbsign_mac_iov(key, NULL, NULL, 2, out), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_mac_iov(key, NULL, iov, 3, out), SMBSIGN_OK);
    struct iovec nulliov[1] = {{NULL, 5}};
    EXPECT(smbsign_mac_iov(key, NULL, nulliov, 1, out), SMBSIGN_ERR_NULL_POINTER);
    struct iovec huge[2] = {{msg, SIZE_MAX}, {msg, 2}};
    EXPECT(smbsign_mac_iov(key, NULL, huge, 2, out), SMBSIGN_ERR_INVALID_ARGUMENT);

    /* PDUs: every malformed case returns its error; the buffer is unchanged. */
    uint8_t pdu[256], copy[256];
    make_pdu(pdu, sizeof pdu, 9, 0, 7);
    for (size_t len = 0; len < 64; len++) {
        memcpy(copy, pdu, sizeof pdu);
        EXPECT(smbsign_sign_pdu(key, pdu, len), SMBSIGN_ERR_TRUNCATED);
        CHECK(memcmp(copy, pdu, sizeof pdu) == 0, "modified (truncated %zu)", len);
    }
    EXPECT(smbsign_sign_pdu(key, NULL, 100), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_sign_pdu(NULL, pdu, 100), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_sign_pdu(key, pdu, SIZE_MAX), SMBSIGN_ERR_INVALID_ARGUMENT);
    memcpy(copy, pdu, sizeof pdu);
    pdu[1] = 'X';
    EXPECT(smbsign_sign_pdu(key, pdu, sizeof pdu), SMBSIGN_ERR_BAD_PROTOCOL_ID);
    pdu[1] = 'S';
    uint32_t bad_next[] = {4, 12, 56, 63, 65, 200 /* no room for a header */, 256, 264, 0xFFFFFFF8u};
    for (size_t i = 0; i < sizeof bad_next / sizeof *bad_next; i++) {
        for (int b = 0; b < 4; b++) pdu[20 + b] = (uint8_t)(bad_next[i] >> (8 * b));
        memcpy(copy, pdu, sizeof pdu);
        EXPECT(smbsign_sign_pdu(key, pdu, sizeof pdu), SMBSIGN_ERR_BAD_NEXT_COMMAND);
        EXPECT(smbsign_verify_pdu(key, pdu, sizeof pdu), SMBSIGN_ERR_BAD_NEXT_COMMAND);
        CHECK(memcmp(copy, pdu, sizeof pdu) == 0, "modified (next %u)", bad_next[i]);
    }
    /* A chain whose second link is bad: the first PDU must not be signed either. */
    make_pdu(pdu, sizeof pdu, 9, 0, 7);
    make_pdu(pdu + 128, 128, 10, 0, 8);
    pdu[20] = 128;
    pdu[128 + 20] = 8; /* unaligned into the second PDU's own header */
    memcpy(copy, pdu, sizeof pdu);
    EXPECT(smbsign_sign_pdu(key, pdu, sizeof pdu), SMBSIGN_ERR_BAD_NEXT_COMMAND);
    CHECK(memcmp(copy, pdu, sizeof pdu) == 0, "first PDU modified");
    pdu[128 + 20] = 0;
    EXPECT(smbsign_verify_pdu(key, pdu, sizeof pdu), SMBSIGN_ERR_NOT_SIGNED);
    EXPECT(smbsign_sign_pdu(key, pdu, sizeof pdu), SMBSIGN_OK);
    EXPECT(smbsign_verify_pdu(key, pdu, sizeof pdu), SMBSIGN_OK);
    EXPECT(smbsign_verify_pdu(gkey, pdu, sizeof pdu), SMBSIGN_ERR_BAD_SIGNATURE);
    pdu[200] ^= 1;
    EXPECT(smbsign_verify_pdu(key, pdu, sizeof pdu), SMBSIGN_ERR_BAD_SIGNATURE);

    /* iovec PDUs: negative count, NULL segment, overlapping segments. */
    struct iovec piov[2] = {{pdu, 100}, {pdu + 100, 156}};
    EXPECT(smbsign_sign_pdu_iov(key, piov, -3), SMBSIGN_ERR_INVALID_ARGUMENT);
    EXPECT(smbsign_sign_pdu_iov(key, NULL, 1), SMBSIGN_ERR_NULL_POINTER);
    struct iovec overlap[2] = {{pdu, 100}, {pdu + 50, 100}};
    memcpy(copy, pdu, sizeof pdu);
    EXPECT(smbsign_sign_pdu_iov(key, overlap, 2), SMBSIGN_ERR_INVALID_ARGUMENT);
    CHECK(memcmp(copy, pdu, sizeof pdu) == 0, "modified (overlap)");
    EXPECT(smbsign_sign_pdu_iov(key, piov, 2), SMBSIGN_OK);
    EXPECT(smbsign_verify_pdu_iov(key, piov, 2), SMBSIGN_OK);

    /* Dialects, KDF, preauth. */
    uint16_t a = 77;
    EXPECT(smbsign_algorithm_for_dialect(0x0311, 2, &a), SMBSIGN_OK);
    CHECK(a == SMBSIGN_AES_GMAC, "3.1.1 gmac");
    EXPECT(smbsign_algorithm_for_dialect(0x0311, -1, &a), SMBSIGN_OK);
    CHECK(a == SMBSIGN_AES_CMAC, "3.1.1 default");
    EXPECT(smbsign_algorithm_for_dialect(0x0210, -1, &a), SMBSIGN_OK);
    CHECK(a == SMBSIGN_HMAC_SHA256, "2.1");
    EXPECT(smbsign_algorithm_for_dialect(0x02FF, -1, &a), SMBSIGN_ERR_UNSUPPORTED_DIALECT);
    EXPECT(smbsign_algorithm_for_dialect(0x0311, 3, &a), SMBSIGN_ERR_UNKNOWN_ALGORITHM);
    EXPECT(smbsign_algorithm_for_dialect(0x0311, 70000, &a), SMBSIGN_ERR_UNKNOWN_ALGORITHM);
    EXPECT(smbsign_algorithm_for_dialect(0x0311, 1, NULL), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_kdf(k16, 16, (const uint8_t *)"L", 1, NULL, 0, out, 0), SMBSIGN_ERR_OUTPUT_LENGTH);
    EXPECT(smbsign_kdf(k16, 16, NULL, 3, NULL, 0, out, 16), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_kdf(k16, 16, (const uint8_t *)"L", 1, NULL, 0, NULL, 16), SMBSIGN_ERR_NULL_POINTER);
    smbsign_session_keys ks;
    uint8_t h[64] = {0};
    EXPECT(smbsign_smb311_keys(k16, 16, k16, 16, h, 24, &ks), SMBSIGN_ERR_INVALID_ARGUMENT);
    EXPECT(smbsign_smb311_keys(k16, 16, k16, 16, NULL, 16, &ks), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_smb311_keys(k16, 16, k16, 16, h, 16, NULL), SMBSIGN_ERR_NULL_POINTER);
    EXPECT(smbsign_smb30_keys(k16, 16, &ks), SMBSIGN_OK);
    EXPECT(smbsign_preauth_update(NULL, msg, 3), SMBSIGN_ERR_NULL_POINTER);
    memset(h, 0x11, 64);
    EXPECT(smbsign_preauth_update(h, NULL, 3), SMBSIGN_ERR_NULL_POINTER);
    CHECK(h[0] == 0x11 && h[63] == 0x11, "hash modified on error");
    EXPECT(smbsign_hmac_sha256(NULL, 3, msg, 3, out), SMBSIGN_ERR_NULL_POINTER);

    /* strerror covers every status. */
    for (int s = 0; s <= SMBSIGN_ERR_SESSION_MISMATCH; s++) {
        const char *e = smbsign_strerror((smbsign_status)s);
        CHECK(e != NULL && strlen(e) > 3 && strcmp(e, "unknown status") != 0, "strerror %d", s);
    }
    CHECK(strcmp(smbsign_strerror(SMBSIGN_ERR_SESSION_MISMATCH + 1), "unknown status") == 0, "past the last code");
    CHECK(smbsign_backend_name(3) == NULL, "unknown algorithm name");
    CHECK(smbsign_backend_name(2) != NULL, "gmac name");

    /* The backend's tier, reason and batch kernels; run.sh also runs this
     * program with SMBSIGN_BACKEND=portable and with a name no CPU has. */
    const char *tier = smbsign_backend_tier(), *reason = smbsign_backend_reason();
    CHECK(tier != NULL && reason != NULL && strlen(reason) > 10, "tier and reason");
    for (uint16_t a = 0; a < 3; a++) CHECK(smbsign_backend_batch_name(a) != NULL, "batch name %u", a);
    CHECK(smbsign_backend_batch_name(3) == NULL, "unknown algorithm batch name");
    const char *forced = getenv("SMBSIGN_BACKEND");
    if (tier != NULL && reason != NULL && forced != NULL && strcmp(forced, "portable") == 0) {
        CHECK(strcmp(tier, "portable") == 0, "forced tier %s", tier);
        CHECK(strcmp(reason, "forced by SMBSIGN_BACKEND") == 0, "forced reason %s", reason);
        CHECK(strcmp(smbsign_backend_name(1), "portable") == 0, "forced cmac kernel");
        CHECK(strcmp(smbsign_backend_batch_name(1), "portable") == 0, "forced cmac batch kernel");
    } else if (tier != NULL && reason != NULL && forced != NULL && strcmp(forced, "no-such-tier") == 0) {
        CHECK(strstr(reason, "SMBSIGN_BACKEND=no-such-tier not honoured") == reason, "fallback reason %s", reason);
        CHECK(strcmp(tier, "no-such-tier") != 0, "fallback tier");
    } else if (tier != NULL && reason != NULL) {
        CHECK(strstr(reason, "SMBSIGN_BACKEND") == NULL, "detected reason %s", reason);
    }
    smbsign_key_free(key);
    smbsign_key_free(gkey);
    return report("test_errors");
}
