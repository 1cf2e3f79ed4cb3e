/* Shared helpers for the C tests: checks, hex, vector files, a deterministic RNG. */
#ifndef SMBSIGN_TEST_UTIL_H
#define SMBSIGN_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_passed, g_failed;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (cond) {                                                          \
            g_passed++;                                                      \
        } else {                                                             \
            g_failed++;                                                      \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)

/* Prints the closing line the test runner counts and returns the exit status. */
static inline int report(const char *name) {
    printf("%s: %d passed, %d failed\n", name, g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}

static inline int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes hex into a malloc'd buffer; *len receives the byte count. */
static inline uint8_t *unhex(const char *s, size_t *len) {
    size_t n = strlen(s) / 2;
    uint8_t *out = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) out[i] = (uint8_t)(hexval(s[2 * i]) * 16 + hexval(s[2 * i + 1]));
    *len = n;
    return out;
}

#define MAX_FIELDS 8
struct field { char name[32]; uint8_t *data; size_t len; };
struct record { int n; struct field f[MAX_FIELDS]; };

/* Reads the next record of a "NAME = hex" vector file; returns 0 at EOF. */
static inline int next_record(FILE *fp, struct record *r) {
    static char line[1 << 16];
    r->n = 0;
    while (fgets(line, sizeof line, fp)) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r' || line[l - 1] == ' ')) line[--l] = 0;
        if (line[0] == '#') continue;
        if (l == 0) {
            if (r->n) return 1;
            continue;
        }
        char *eq = strchr(line, '=');
        if (!eq || r->n == MAX_FIELDS) continue;
        struct field *f = &r->f[r->n++];
        size_t nl = (size_t)(eq - line);
        while (nl && line[nl - 1] == ' ') nl--;
        if (nl >= sizeof f->name) nl = sizeof f->name - 1;
        memcpy(f->name, line, nl);
        f->name[nl] = 0;
        char *v = eq + 1;
        while (*v == ' ') v++;
        if (strcmp(f->name, "L") == 0) {
            unsigned long bits = strtoul(v, NULL, 10);
            f->data = malloc(4);
            f->data[0] = (uint8_t)(bits >> 24); f->data[1] = (uint8_t)(bits >> 16);
            f->data[2] = (uint8_t)(bits >> 8); f->data[3] = (uint8_t)bits;
            f->len = 4;
        } else {
            f->data = unhex(v, &f->len);
        }
    }
    return r->n > 0;
}

static inline const struct field *get(const struct record *r, const char *name) {
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->f[i].name, name) == 0) return &r->f[i];
    fprintf(stderr, "no field %s\n", name);
    exit(2);
}

static inline void free_record(struct record *r) {
    for (int i = 0; i < r->n; i++) free(r->f[i].data);
    r->n = 0;
}

static inline FILE *open_vectors(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        perror(path);
        exit(2);
    }
    return fp;
}

/* xorshift64*: deterministic, seedable. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static inline uint64_t rnd(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}
static inline void rnd_bytes(uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(rnd() >> 56);
}

/* A minimal valid SMB2 PDU of `len` bytes (len >= 64). */
static inline void make_pdu(uint8_t *p, size_t len, uint16_t command, uint32_t flags, uint64_t message_id) {
    rnd_bytes(p, len);
    p[0] = 0xFE; p[1] = 'S'; p[2] = 'M'; p[3] = 'B';
    p[4] = 64; p[5] = 0;
    p[12] = (uint8_t)command; p[13] = (uint8_t)(command >> 8);
    for (int i = 0; i < 4; i++) p[16 + i] = (uint8_t)(flags >> (8 * i));
    memset(p + 20, 0, 4);
    for (int i = 0; i < 8; i++) p[24 + i] = (uint8_t)(message_id >> (8 * i));
}

#endif
