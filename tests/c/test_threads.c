/* Proves key handles are safe to share: 2 x cores threads sign and verify
 * concurrently with the same three handles; every result equals the one
 * computed single-threaded beforehand. */
#include <pthread.h>
#include <unistd.h>

#include "smbsign.h"
#include "util.h"

#define JOBS 96
#define MAXLEN 20000

static smbsign_key *keys[3];
static uint8_t *pdus[JOBS];
static size_t lens[JOBS];
static uint8_t want[JOBS][3][16];
static int errors;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg) {
    uintptr_t id = (uintptr_t)arg;
    uint8_t *buf = malloc(MAXLEN);
    int bad = 0;
    for (int round = 0; round < 20; round++) {
        for (int j = 0; j < JOBS; j++) {
            int job = (int)((j + id * 7) % JOBS);
            for (int a = 0; a < 3; a++) {
                memcpy(buf, pdus[job], lens[job]);
                if (smbsign_sign_pdu(keys[a], buf, lens[job]) != SMBSIGN_OK) bad++;
                if (memcmp(buf + 48, want[job][a], 16) != 0) bad++;
                if (smbsign_verify_pdu(keys[a], buf, lens[job]) != SMBSIGN_OK) bad++;
            }
        }
    }
    free(buf);
    pthread_mutex_lock(&mu);
    errors += bad;
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(void) {
    uint8_t k[16];
    rnd_bytes(k, 16);
    for (int a = 0; a < 3; a++) CHECK(smbsign_key_new((uint16_t)a, k, 16, &keys[a]) == SMBSIGN_OK, "key");
    for (int j = 0; j < JOBS; j++) {
        lens[j] = 64 + (size_t)(rnd() % (MAXLEN - 64));
        pdus[j] = malloc(lens[j]);
        make_pdu(pdus[j], lens[j], (uint16_t)(j % 20), (uint32_t)(j & 1), (uint64_t)j);
        for (int a = 0; a < 3; a++) {
            uint8_t *tmp = malloc(lens[j]);
            memcpy(tmp, pdus[j], lens[j]);
            CHECK(smbsign_sign_pdu(keys[a], tmp, lens[j]) == SMBSIGN_OK, "presign");
            memcpy(want[j][a], tmp + 48, 16);
            free(tmp);
        }
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int nthreads = (int)(cores > 0 ? 2 * cores : 4);
    pthread_t th[256];
    if (nthreads > 256) nthreads = 256;
    for (int t = 0; t < nthreads; t++) pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t);
    for (int t = 0; t < nthreads; t++) pthread_join(th[t], NULL);
    CHECK(errors == 0, "%d mismatches across %d threads", errors, nthreads);
    printf("threads: %d, operations: %d\n", nthreads, nthreads * 20 * JOBS * 3 * 2);
    for (int j = 0; j < JOBS; j++) free(pdus[j]);
    for (int a = 0; a < 3; a++) smbsign_key_free(keys[a]);
    return report("test_threads");
}
