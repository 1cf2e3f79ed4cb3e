/* Proves the batch C ABI: smbsign_sign_batch equals smbsign_mac per job on
 * random batches (1..64 jobs, 0..20000 bytes, mixed keys and algorithms),
 * verify flags exactly the corrupted job, bad jobs get their own status and
 * leave others signed, PDU batches equal smbsign_sign_pdu per chain, and
 * overlapping PDU buffers are refused with nothing written.
 * Usage: test_batch [ROUNDS] */
#include "smbsign.h"
#include "util.h"

#define MAXJOBS 64
#define MAXLEN 20000

static smbsign_key *keys[3][4];

static void mac_batches(int rounds) {
    static uint8_t msgs[MAXJOBS][MAXLEN];
    static uint8_t nonces[MAXJOBS][12];
    smbsign_job jobs[MAXJOBS];
    for (int r = 0; r < rounds; r++) {
        size_t n = 1 + rnd() % MAXJOBS;
        for (size_t i = 0; i < n; i++) {
            int alg = (int)(rnd() % 3);
            size_t len = rnd() % 4 == 0 ? rnd() % MAXLEN : rnd() % 300;
            rnd_bytes(msgs[i], len);
            rnd_bytes(nonces[i], 12);
            jobs[i] = (smbsign_job){.key = keys[alg][rnd() % 4],
                                    .nonce = alg == SMBSIGN_AES_GMAC ? nonces[i] : NULL,
                                    .msg = msgs[i],
                                    .len = len,
                                    .status = SMBSIGN_ERR_INTERNAL};
        }
        CHECK(smbsign_sign_batch(jobs, n) == SMBSIGN_OK, "round %d", r);
        for (size_t i = 0; i < n; i++) {
            uint8_t want[16];
            CHECK(smbsign_mac(jobs[i].key, jobs[i].nonce, jobs[i].msg, jobs[i].len, want) == SMBSIGN_OK, "mac");
            CHECK(jobs[i].status == SMBSIGN_OK && memcmp(jobs[i].tag, want, 16) == 0, "round %d job %zu", r, i);
        }
        CHECK(smbsign_verify_batch(jobs, n) == SMBSIGN_OK, "verify round %d", r);
        size_t victim = rnd() % n;
        jobs[victim].tag[rnd() % 16] ^= (uint8_t)(1u << (rnd() % 8));
        CHECK(smbsign_verify_batch(jobs, n) == SMBSIGN_ERR_BAD_SIGNATURE, "tampered round %d", r);
        for (size_t i = 0; i < n; i++)
            CHECK(jobs[i].status == (i == victim ? SMBSIGN_ERR_BAD_SIGNATURE : SMBSIGN_OK), "job %zu", i);
    }
}

static void bad_jobs(void) {
    uint8_t msg[40] = {1, 2, 3}, nonce[12] = {0};
    smbsign_job jobs[4] = {
        {.key = keys[1][0], .msg = msg, .len = 40},
        {.key = NULL, .msg = msg, .len = 40},
        {.key = keys[2][0], .nonce = NULL, .msg = msg, .len = 40},
        {.key = keys[0][0], .nonce = nonce, .msg = msg, .len = 40},
    };
    memset(jobs[1].tag, 0xAA, 16);
    CHECK(smbsign_sign_batch(jobs, 4) == SMBSIGN_ERR_NULL_POINTER, "first failure is returned");
    uint8_t want[16];
    smbsign_mac(keys[1][0], NULL, msg, 40, want);
    CHECK(jobs[0].status == SMBSIGN_OK && memcmp(jobs[0].tag, want, 16) == 0, "valid job signed");
    CHECK(jobs[1].status == SMBSIGN_ERR_NULL_POINTER && jobs[1].tag[0] == 0xAA, "NULL key, tag untouched");
    CHECK(jobs[2].status == SMBSIGN_ERR_MISSING_NONCE, "GMAC without nonce");
    CHECK(jobs[3].status == SMBSIGN_ERR_UNEXPECTED_NONCE, "HMAC with nonce");
    smbsign_job nullmsg = {.key = keys[1][0], .msg = NULL, .len = 5};
    CHECK(smbsign_sign_batch(&nullmsg, 1) == SMBSIGN_ERR_NULL_POINTER, "NULL message with length");
    CHECK(smbsign_sign_batch(NULL, 3) == SMBSIGN_ERR_NULL_POINTER, "NULL jobs");
    CHECK(smbsign_sign_batch(NULL, 0) == SMBSIGN_OK, "empty batch");
    CHECK(smbsign_verify_pdu_batch(NULL, 0) == SMBSIGN_OK, "empty PDU batch");
}

static void pdu_batches(int rounds) {
    enum { N = 24, LEN = 1200 };
    static uint8_t bufs[N][LEN], copies[N][LEN];
    smbsign_pdu_job jobs[N];
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < N; i++) {
            size_t len = 64 + rnd() % (LEN - 64);
            rnd_bytes(bufs[i], len);
            make_pdu(bufs[i], len, (uint16_t)(rnd() % 20), (uint32_t)(rnd() % 2), rnd());
            memcpy(copies[i], bufs[i], len);
            jobs[i] = (smbsign_pdu_job){.key = keys[rnd() % 3][rnd() % 4], .pdu = bufs[i], .len = len};
        }
        int broken = (int)(rnd() % N);
        bufs[broken][0] = copies[broken][0] = 0; /* not an SMB2 PDU */
        CHECK(smbsign_sign_pdu_batch(jobs, N) == SMBSIGN_ERR_BAD_PROTOCOL_ID, "round %d", r);
        for (int i = 0; i < N; i++) {
            if (i == broken) {
                CHECK(jobs[i].status == SMBSIGN_ERR_BAD_PROTOCOL_ID, "broken status");
                CHECK(memcmp(bufs[i], copies[i], jobs[i].len) == 0, "broken chain untouched");
                continue;
            }
            CHECK(smbsign_sign_pdu(jobs[i].key, copies[i], jobs[i].len) == SMBSIGN_OK, "one-shot");
            CHECK(jobs[i].status == SMBSIGN_OK && memcmp(bufs[i], copies[i], jobs[i].len) == 0,
                  "round %d pdu %d equals smbsign_sign_pdu", r, i);
        }
        jobs[broken].len = 0; /* an empty buffer: TRUNCATED */
        CHECK(smbsign_verify_pdu_batch(jobs, N) == SMBSIGN_ERR_TRUNCATED, "verify");
        int victim = (broken + 1) % N;
        bufs[victim][jobs[victim].len - 1] ^= 1;
        CHECK(smbsign_verify_pdu_batch(jobs, N) != SMBSIGN_OK, "tampered");
        CHECK(jobs[victim].status == SMBSIGN_ERR_BAD_SIGNATURE, "victim flagged");
        for (int i = 0; i < N; i++)
            if (i != victim && i != broken) CHECK(jobs[i].status == SMBSIGN_OK, "pdu %d", i);
    }
    /* Overlapping buffers would alias: refused, nothing written. */
    uint8_t one[200];
    make_pdu(one, 200, 8, 0, 1);
    uint8_t before[200];
    memcpy(before, one, 200);
    smbsign_pdu_job overlap[2] = {{.key = keys[1][0], .pdu = one, .len = 200},
                                  {.key = keys[1][1], .pdu = one + 100, .len = 100}};
    CHECK(smbsign_sign_pdu_batch(overlap, 2) == SMBSIGN_ERR_INVALID_ARGUMENT, "overlap");
    CHECK(memcmp(one, before, 200) == 0, "nothing written");
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    for (int a = 0; a < 3; a++)
        for (int k = 0; k < 4; k++) {
            uint8_t raw[16];
            rnd_bytes(raw, 16);
            CHECK(smbsign_key_new((uint16_t)a, raw, 16, &keys[a][k]) == SMBSIGN_OK, "key");
        }
    mac_batches(rounds);
    bad_jobs();
    pdu_batches(rounds / 4 + 1);
    for (int a = 0; a < 3; a++)
        for (int k = 0; k < 4; k++) smbsign_key_free(keys[a][k]);
    return report("test_batch");
}
