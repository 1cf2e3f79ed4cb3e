/* Proves the C ABI holds against a hostile caller (issue 16): smbsign_strerror
 * returns a static string for every int (named codes their text, others
 * "unknown status"); the KDFs refuse NULL and huge output lengths (SIZE_MAX,
 * 2^40, SMBSIGN_KDF_MAX_OUTPUT + 1, a real 1 TiB MAP_NORESERVE buffer) before
 * allocating or writing anything, and agree with each other (also with `out`
 * aliasing an input); every entry point refuses lengths over PTRDIFF_MAX and
 * every out-of-range algorithm/dialect int; every batch entry point overwrites
 * every job's status (even garbage ints) on every path; verify_pdu_batch
 * verifies shared and overlapping read-only buffers (a tampered PDU never reads
 * OK); sign_pdu_batch refuses only overlapping jobs, writing nothing to them;
 * and the huge-length calls print nothing on stderr (no panic message).
 * Usage: test_hostile */
#define _DEFAULT_SOURCE
#include <limits.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "smbsign.h"
#include "util.h"

static smbsign_key *key[3];
static const uint8_t K16[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static int is_code(int s) { return s >= SMBSIGN_OK && s <= SMBSIGN_ERR_SESSION_MISMATCH; }

static void strerror_any_int(void) {
    static const int odd[] = {INT_MIN, INT_MIN + 1, -256, -1, 19, 20, 99, 255, 256, 65535, INT_MAX};
    for (int s = -1000; s <= 1000; s++) {
        const char *e = smbsign_strerror(s);
        CHECK(e != NULL && strlen(e) > 0, "strerror(%d)", s);
        CHECK(is_code(s) == (strcmp(e, "unknown status") != 0), "strerror(%d) = %s", s, e);
    }
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        CHECK(strcmp(smbsign_strerror(odd[i]), "unknown status") == 0, "strerror(%d)", odd[i]);
    CHECK(strcmp(smbsign_strerror(SMBSIGN_ERR_BAD_SIGNATURE), "signature (or transform tag) does not match") == 0, "named");
}

static void kdf_lengths(void) {
    uint8_t out[64];
    const uint8_t label[] = "L", ctx[] = "C";
    /* The reproduction: NULL out with 2^40 is NULL_POINTER, no abort. */
    CHECK(smbsign_kdf(K16, 16, label, 1, ctx, 1, NULL, (size_t)1 << 40) == SMBSIGN_ERR_NULL_POINTER, "NULL 2^40");
    CHECK(smbsign_kbkdf_hmac_sha256(K16, 16, label, 1, NULL, (size_t)1 << 40) == SMBSIGN_ERR_NULL_POINTER, "NULL 2^40");
    static const size_t huge[] = {0, SMBSIGN_KDF_MAX_OUTPUT + 1, (size_t)1 << 32, (size_t)1 << 40,
                                  (size_t)PTRDIFF_MAX, (size_t)PTRDIFF_MAX + 1, SIZE_MAX};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        memset(out, 0xEE, sizeof out);
        /* A 64-byte buffer is enough: the length is refused before any write. */
        CHECK(smbsign_kdf(K16, 16, label, 1, ctx, 1, out, huge[i]) == SMBSIGN_ERR_OUTPUT_LENGTH, "kdf %zu", huge[i]);
        CHECK(smbsign_kbkdf_hmac_sha256(K16, 16, label, 1, out, huge[i]) == SMBSIGN_ERR_OUTPUT_LENGTH, "kbkdf %zu",
              huge[i]);
        CHECK(out[0] == 0xEE && out[63] == 0xEE, "nothing written for %zu", huge[i]);
    }
#ifndef SMBSIGN_VALGRIND
    /* A real, writable 1 TiB buffer (address space only): still refused, untouched. */
    size_t tib = (size_t)1 << 40;
    uint8_t *big = mmap(NULL, tib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (big == MAP_FAILED) {
        printf("test_hostile: 1 TiB MAP_NORESERVE mapping unavailable here, case skipped\n");
    } else {
        CHECK(smbsign_kdf(K16, 16, label, 1, ctx, 1, big, tib) == SMBSIGN_ERR_OUTPUT_LENGTH, "1 TiB kdf");
        CHECK(smbsign_kbkdf_hmac_sha256(K16, 16, label, 1, big, tib) == SMBSIGN_ERR_OUTPUT_LENGTH, "1 TiB kbkdf");
        CHECK(big[0] == 0 && big[tib - 1] == 0, "1 TiB buffer untouched");
        munmap(big, tib);
    }
#endif
    /* In range: smbsign_kdf equals the generic KBKDF over label||0||ctx||[L]_32. */
    for (size_t n = 1; n <= 64; n += 7) {
        uint8_t a[64], b[64], fixed[7] = {'L', 0, 'C', 0, 0, 0, 0};
        uint32_t bits = (uint32_t)(8 * n);
        for (int j = 0; j < 4; j++) fixed[3 + j] = (uint8_t)(bits >> (24 - 8 * j));
        CHECK(smbsign_kdf(K16, 16, label, 1, ctx, 1, a, n) == SMBSIGN_OK, "kdf %zu", n);
        CHECK(smbsign_kbkdf_hmac_sha256(K16, 16, fixed, 7, b, n) == SMBSIGN_OK, "kbkdf %zu", n);
        CHECK(memcmp(a, b, n) == 0, "kdf == kbkdf at %zu", n);
        /* `out` aliasing the fixed input (and the key) gives the same bytes. */
        uint8_t alias[80];
        memcpy(alias, fixed, 7);
        CHECK(smbsign_kbkdf_hmac_sha256(K16, 16, alias, 7, alias, n) == SMBSIGN_OK, "aliased");
        CHECK(memcmp(alias, b, n) == 0, "aliased out at %zu", n);
        uint8_t kalias[64];
        memcpy(kalias, K16, 16);
        CHECK(smbsign_kdf(kalias, 16, label, 1, ctx, 1, kalias, n) == SMBSIGN_OK && memcmp(kalias, a, n) == 0,
              "key aliased at %zu", n);
    }
}

/* Every length parameter: over PTRDIFF_MAX is INVALID_ARGUMENT (NULL: NULL_POINTER), never a read. */
static void huge_input_lengths(void) {
    uint8_t b[64] = {0}, out[64], hash[64] = {0};
    static const size_t huge[] = {(size_t)PTRDIFF_MAX + 1, SIZE_MAX - 1, SIZE_MAX};
    smbsign_key *k = NULL;
    smbsign_session_keys sk;
    for (size_t i = 0; i < 3; i++) {
        size_t n = huge[i];
        CHECK(smbsign_key_new(1, b, n, &k) == SMBSIGN_ERR_INVALID_ARGUMENT && k == NULL, "key_new");
        CHECK(smbsign_mac(key[1], NULL, b, n, out) == SMBSIGN_ERR_INVALID_ARGUMENT, "mac");
        CHECK(smbsign_sign_pdu(key[1], b, n) == SMBSIGN_ERR_INVALID_ARGUMENT, "sign_pdu");
        CHECK(smbsign_verify_pdu(key[1], b, n) == SMBSIGN_ERR_INVALID_ARGUMENT, "verify_pdu");
        CHECK(smbsign_hmac_sha256(b, n, b, 1, out) == SMBSIGN_ERR_INVALID_ARGUMENT, "hmac key");
        CHECK(smbsign_hmac_sha256(b, 1, b, n, out) == SMBSIGN_ERR_INVALID_ARGUMENT, "hmac msg");
        CHECK(smbsign_kdf(b, n, b, 1, b, 1, out, 16) == SMBSIGN_ERR_INVALID_ARGUMENT, "kdf key");
        CHECK(smbsign_kdf(b, 16, b, n, b, 1, out, 16) == SMBSIGN_ERR_INVALID_ARGUMENT, "kdf label");
        CHECK(smbsign_kdf(b, 16, b, 1, b, n, out, 16) == SMBSIGN_ERR_INVALID_ARGUMENT, "kdf ctx");
        CHECK(smbsign_kbkdf_hmac_sha256(b, 16, b, n, out, 16) == SMBSIGN_ERR_INVALID_ARGUMENT, "kbkdf fixed");
        CHECK(smbsign_smb30_keys(b, n, &sk) == SMBSIGN_ERR_INVALID_ARGUMENT, "smb30");
        CHECK(smbsign_smb311_keys(b, n, b, 16, hash, 16, &sk) == SMBSIGN_ERR_INVALID_ARGUMENT, "smb311");
        CHECK(smbsign_smb311_keys(b, 16, b, n, hash, 32, &sk) == SMBSIGN_ERR_INVALID_ARGUMENT, "smb311 full");
        CHECK(smbsign_preauth_update(hash, b, n) == SMBSIGN_ERR_INVALID_ARGUMENT, "preauth");
        CHECK(smbsign_mac(key[1], NULL, NULL, n, out) == SMBSIGN_ERR_INVALID_ARGUMENT, "mac NULL huge");
        struct iovec iov[2] = {{b, 16}, {b + 16, n}};
        CHECK(smbsign_mac_iov(key[1], NULL, iov, 2, out) == SMBSIGN_ERR_INVALID_ARGUMENT, "mac_iov");
        CHECK(smbsign_verify_pdu_iov(key[1], iov, 2) == SMBSIGN_ERR_INVALID_ARGUMENT, "verify_iov");
        CHECK(smbsign_sign_pdu_iov(key[1], iov, 2) == SMBSIGN_ERR_INVALID_ARGUMENT, "sign_iov");
        CHECK(smbsign_preauth_update_iov(hash, iov, 2) == SMBSIGN_ERR_INVALID_ARGUMENT, "preauth_iov");
    }
    CHECK(smbsign_smb311_keys(b, 16, b, 16, hash, 24, &sk) == SMBSIGN_ERR_INVALID_ARGUMENT, "cipher 24");
    CHECK(smbsign_smb311_keys(b, 16, b, 16, hash, UINT32_MAX, &sk) == SMBSIGN_ERR_INVALID_ARGUMENT, "cipher max");
    CHECK(smbsign_mac_iov(key[1], NULL, (struct iovec *)b, INT_MIN, out) == SMBSIGN_ERR_INVALID_ARGUMENT, "iovcnt");
}

/* Every int that names an enum value: out-of-range values are refused. */
static void out_of_range_enums(void) {
    uint16_t alg = 0xABCD;
    smbsign_key *k = NULL;
    for (uint32_t a = 3; a <= 0xFFFF; a += (a < 300 ? 1 : 997)) {
        CHECK(smbsign_key_new((uint16_t)a, K16, 16, &k) == SMBSIGN_ERR_UNKNOWN_ALGORITHM && k == NULL, "alg %u", a);
        CHECK(smbsign_backend_name((uint16_t)a) == NULL, "backend_name %u", a);
        CHECK(smbsign_algorithm_for_dialect(0x0311, (int32_t)a, &alg) == SMBSIGN_ERR_UNKNOWN_ALGORITHM, "neg %u", a);
    }
    static const int32_t neg[] = {INT32_MIN, -65536, -2, 65536, 70000, INT32_MAX};
    for (size_t i = 0; i < sizeof neg / sizeof neg[0]; i++)
        CHECK(smbsign_algorithm_for_dialect(0x0311, neg[i], &alg) == SMBSIGN_ERR_UNKNOWN_ALGORITHM, "neg %d", neg[i]);
    CHECK(alg == 0xABCD, "nothing written");
    for (uint32_t d = 0; d <= 0xFFFF; d++) {
        int known = d == 0x0202 || d == 0x0210 || d == 0x0300 || d == 0x0302 || d == 0x0311;
        smbsign_status s = smbsign_algorithm_for_dialect((uint16_t)d, -1, &alg);
        CHECK(known ? s == SMBSIGN_OK : s == SMBSIGN_ERR_UNSUPPORTED_DIALECT, "dialect %#x", d);
    }
    for (uint16_t a = 0; a < 3; a++) CHECK(smbsign_backend_name(a) != NULL, "backend %u", a);
}

static const int GARBAGE[] = {INT_MIN, -1, 15, 12345, INT_MAX, SMBSIGN_OK};

/* Job arrays whose status fields hold garbage (and OK): every status is rewritten to a code. */
static void batch_statuses(void) {
    uint8_t msg[100] = {0}, pdu[200];
    make_pdu(pdu, 200, 8, 0, 1);
    for (size_t g = 0; g < sizeof GARBAGE / sizeof GARBAGE[0]; g++) {
        smbsign_job j[4] = {{.key = key[1], .msg = msg, .len = 100},
                            {.key = NULL, .msg = msg, .len = 100},
                            {.key = key[0], .msg = msg, .len = SIZE_MAX},
                            {.key = key[2], .msg = msg, .len = 100}};
        for (int i = 0; i < 4; i++) j[i].status = GARBAGE[g];
        CHECK(smbsign_sign_batch(j, 4) == SMBSIGN_ERR_NULL_POINTER, "sign_batch");
        CHECK(j[0].status == SMBSIGN_OK && j[1].status == SMBSIGN_ERR_NULL_POINTER &&
                  j[2].status == SMBSIGN_ERR_INVALID_ARGUMENT && j[3].status == SMBSIGN_ERR_MISSING_NONCE,
              "sign statuses %d %d %d %d", j[0].status, j[1].status, j[2].status, j[3].status);
        for (int i = 0; i < 4; i++) j[i].status = GARBAGE[g];
        CHECK(smbsign_verify_batch(j, 4) != SMBSIGN_OK, "verify_batch");
        for (int i = 0; i < 4; i++) CHECK(is_code(j[i].status), "verify status %d", j[i].status);
        CHECK(j[0].status == SMBSIGN_OK, "valid tag verifies");

        uint8_t a[200], b[200];
        memcpy(a, pdu, 200);
        memcpy(b, pdu, 200);
        smbsign_pdu_job p[3] = {{.key = key[1], .pdu = a, .len = 200},
                                {.key = key[1], .pdu = b, .len = SIZE_MAX},
                                {.key = NULL, .pdu = b, .len = 200}};
        for (int i = 0; i < 3; i++) p[i].status = GARBAGE[g];
        CHECK(smbsign_sign_pdu_batch(p, 3) != SMBSIGN_OK, "sign_pdu_batch");
        CHECK(p[0].status == SMBSIGN_OK && p[1].status == SMBSIGN_ERR_INVALID_ARGUMENT &&
                  p[2].status == SMBSIGN_ERR_NULL_POINTER,
              "pdu statuses %d %d %d", p[0].status, p[1].status, p[2].status);
        for (int i = 0; i < 3; i++) p[i].status = GARBAGE[g];
        CHECK(smbsign_verify_pdu_batch(p, 3) != SMBSIGN_OK, "verify_pdu_batch");
        CHECK(p[0].status == SMBSIGN_OK && p[1].status == SMBSIGN_ERR_INVALID_ARGUMENT &&
                  p[2].status == SMBSIGN_ERR_NULL_POINTER,
              "verify pdu statuses %d %d %d", p[0].status, p[1].status, p[2].status);
        /* Early refusal of the whole array (overlap): statuses still written. */
        smbsign_pdu_job o[2] = {{.key = key[1], .pdu = a, .len = 200, .status = GARBAGE[g]},
                                {.key = key[1], .pdu = a + 8, .len = 64, .status = GARBAGE[g]}};
        CHECK(smbsign_sign_pdu_batch(o, 2) == SMBSIGN_ERR_INVALID_ARGUMENT, "overlap");
        CHECK(o[0].status == SMBSIGN_ERR_INVALID_ARGUMENT && o[1].status == SMBSIGN_ERR_INVALID_ARGUMENT, "overlap st");
    }
    /* Counts whose arrays cannot exist: refused, nothing to write. */
    smbsign_job one;
    CHECK(smbsign_sign_batch(&one, SIZE_MAX) == SMBSIGN_ERR_INVALID_ARGUMENT, "count");
    CHECK(smbsign_verify_pdu_batch((smbsign_pdu_job *)&one, SIZE_MAX / 8) == SMBSIGN_ERR_INVALID_ARGUMENT, "count");
}

static void shared_buffers(void) {
    for (int alg = 0; alg < 3; alg++) {
        uint8_t buf[128];
        make_pdu(buf, 128, 8, 0, 7);
        CHECK(smbsign_sign_pdu(key[alg], buf, 128) == SMBSIGN_OK, "sign");
        /* Shared, good: both verify. */
        smbsign_pdu_job j[3] = {{key[alg], buf, 128, SMBSIGN_ERR_INTERNAL},
                                {key[alg], buf, 128, SMBSIGN_ERR_INTERNAL},
                                {key[alg], buf, 128, SMBSIGN_ERR_INTERNAL}};
        CHECK(smbsign_verify_pdu_batch(j, 3) == SMBSIGN_OK, "shared good alg %d", alg);
        for (int i = 0; i < 3; i++) CHECK(j[i].status == SMBSIGN_OK, "shared good %d", i);
        /* The reproduction: tampered, zero-initialised statuses. */
        buf[100] ^= 0xFF;
        smbsign_pdu_job t[2] = {{key[alg], buf, 128, SMBSIGN_OK}, {key[alg], buf, 128, SMBSIGN_OK}};
        CHECK(smbsign_verify_pdu_batch(t, 2) == SMBSIGN_ERR_BAD_SIGNATURE, "tampered alg %d", alg);
        CHECK(t[0].status == SMBSIGN_ERR_BAD_SIGNATURE && t[1].status == SMBSIGN_ERR_BAD_SIGNATURE, "both flagged");
        buf[100] ^= 0xFF;
        /* Overlapping: a two-PDU chain and its tail PDU as a job of its own. */
        uint8_t chain[192];
        make_pdu(chain, 192, 8, 0, 1);
        make_pdu(chain + 96, 96, 9, 0, 2);
        chain[20] = 96;
        CHECK(smbsign_sign_pdu(key[alg], chain, 192) == SMBSIGN_OK, "chain");
        smbsign_pdu_job ov[3] = {{key[alg], chain, 192, SMBSIGN_OK},
                                 {key[alg], chain + 96, 96, SMBSIGN_OK},
                                 {key[alg], chain + 96, 96, SMBSIGN_OK}};
        CHECK(smbsign_verify_pdu_batch(ov, 3) == SMBSIGN_OK, "overlap good");
        chain[150] ^= 1;
        CHECK(smbsign_verify_pdu_batch(ov, 3) == SMBSIGN_ERR_BAD_SIGNATURE, "overlap tampered");
        for (int i = 0; i < 3; i++) CHECK(ov[i].status == SMBSIGN_ERR_BAD_SIGNATURE, "overlap job %d", i);
        /* Signing: only the overlapping jobs are refused (untouched); the other is signed. */
        uint8_t x[200], y[100], xb[200];
        make_pdu(x, 200, 8, 0, 3);
        make_pdu(y, 100, 8, 0, 4);
        memcpy(xb, x, 200);
        uint8_t want[100];
        memcpy(want, y, 100);
        CHECK(smbsign_sign_pdu(key[alg], want, 100) == SMBSIGN_OK, "one-shot");
        smbsign_pdu_job s[3] = {{key[alg], x, 200, SMBSIGN_OK},
                                {key[alg], y, 100, SMBSIGN_OK},
                                {key[alg], x + 136, 64, SMBSIGN_OK}};
        CHECK(smbsign_sign_pdu_batch(s, 3) == SMBSIGN_ERR_INVALID_ARGUMENT, "sign overlap");
        CHECK(s[0].status == SMBSIGN_ERR_INVALID_ARGUMENT && s[2].status == SMBSIGN_ERR_INVALID_ARGUMENT &&
                  s[1].status == SMBSIGN_OK,
              "sign overlap statuses");
        CHECK(memcmp(x, xb, 200) == 0 && memcmp(y, want, 100) == 0, "refused untouched, other signed");
        /* MAC batches over one shared message buffer. */
        uint8_t m[300], nonce[12] = {1};
        rnd_bytes(m, 300);
        smbsign_job mj[3] = {{.key = key[alg], .nonce = alg == 2 ? nonce : NULL, .msg = m, .len = 300},
                             {.key = key[alg], .nonce = alg == 2 ? nonce : NULL, .msg = m + 10, .len = 200},
                             {.key = key[alg], .nonce = alg == 2 ? nonce : NULL, .msg = m, .len = 300}};
        CHECK(smbsign_sign_batch(mj, 3) == SMBSIGN_OK, "mac shared");
        uint8_t w[16];
        smbsign_mac(key[alg], alg == 2 ? nonce : NULL, m + 10, 200, w);
        CHECK(memcmp(mj[1].tag, w, 16) == 0 && memcmp(mj[0].tag, mj[2].tag, 16) == 0, "mac shared tags");
        mj[2].tag[0] ^= 1;
        CHECK(smbsign_verify_batch(mj, 3) == SMBSIGN_ERR_BAD_SIGNATURE && mj[2].status == SMBSIGN_ERR_BAD_SIGNATURE &&
                  mj[0].status == SMBSIGN_OK,
              "verify shared");
    }
}

/* Runs f with stderr redirected to a temporary file; returns the bytes written
 * there (the library must print nothing, e.g. no panic message). */
static long quiet(void (*f)(void)) {
    FILE *tmp = tmpfile();
    if (!tmp) return -1;
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    int failed_before = g_failed;
    f();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    fseek(tmp, 0, SEEK_END);
    long n = ftell(tmp);
    if (g_failed != failed_before) { /* show the CHECK messages that went to the file */
        rewind(tmp);
        char buf[4096];
        size_t r;
        while ((r = fread(buf, 1, sizeof buf, tmp)) > 0) fwrite(buf, 1, r, stderr);
    }
    fclose(tmp);
    return n;
}

int main(void) {
    for (int a = 0; a < 3; a++) CHECK(smbsign_key_new((uint16_t)a, K16, 16, &key[a]) == SMBSIGN_OK, "key");
    strerror_any_int();
    long printed = quiet(kdf_lengths);
    CHECK(printed == 0, "the KDF calls printed %ld bytes to stderr", printed);
    printed = quiet(huge_input_lengths);
    CHECK(printed == 0, "huge-length calls printed %ld bytes to stderr", printed);
    out_of_range_enums();
    batch_statuses();
    shared_buffers();
    for (int a = 0; a < 3; a++) smbsign_key_free(key[a]);
    return report("test_hostile");
}
