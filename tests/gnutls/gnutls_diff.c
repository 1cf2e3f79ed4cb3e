/* Calls every GnuTLS function libsmbsign_gnutls.so defines (HMAC and AEAD
 * APIs) on seeded random keys, messages, iovec splits, reused, copied and
 * forked handles, threads, wrong nonce/tag/buffer sizes and other algorithms,
 * and prints every output and return code. run.sh runs it with and without the
 * preload and requires identical transcripts: the real GnuTLS is the reference. */
#define _GNU_SOURCE
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t rng = 0x5eed;
static uint32_t next(void) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng >> 33);
}
static void fill(unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)next();
}
static void hex(FILE *f, const char *label, int rc, const unsigned char *p, size_t n) {
    fprintf(f, "%s rc=%d ", label, rc);
    for (size_t i = 0; i < n; i++) fprintf(f, "%02x", p[i]);
    fputc('\n', f);
}

static const int mac_algs[] = {GNUTLS_MAC_SHA256, GNUTLS_MAC_AES_CMAC_128, GNUTLS_MAC_MD5,
                               GNUTLS_MAC_SHA1,   GNUTLS_MAC_SHA512,       GNUTLS_MAC_AES_CMAC_256};
static const size_t key_lens[] = {0, 1, 15, 16, 17, 24, 32, 64, 65, 100};

/* Feeds msg to h in random pieces. */
static int feed(gnutls_hmac_hd_t h, const unsigned char *msg, size_t len) {
    size_t off = 0;
    int rc = 0;
    while (off < len) {
        size_t n = 1 + next() % (len - off > 200 ? 200 : len - off);
        if (next() % 4 == 0) rc |= gnutls_hmac(h, msg + off, 0); /* empty update */
        rc |= gnutls_hmac(h, msg + off, n);
        off += n;
    }
    return rc;
}

static void test_hmac(FILE *f) {
    static unsigned char key[128], msg[5000], out[64], out2[64];
    char label[128];
    for (size_t a = 0; a < sizeof mac_algs / sizeof *mac_algs; a++) {
        int alg = mac_algs[a];
        size_t olen = gnutls_hmac_get_len(alg);
        for (size_t k = 0; k < sizeof key_lens / sizeof *key_lens; k++) {
            size_t klen = key_lens[k];
            /* Keys GnuTLS's nettle backend would abort on are not passed. */
            if ((alg == GNUTLS_MAC_AES_CMAC_128 && klen != 16) ||
                (alg == GNUTLS_MAC_AES_CMAC_256 && klen != 32) ||
                (alg == GNUTLS_MAC_AES_GMAC_128 && klen != 16))
                continue;
            fill(key, klen);
            gnutls_hmac_hd_t h = NULL;
            int rc = gnutls_hmac_init(&h, alg, key, klen);
            snprintf(label, sizeof label, "init alg=%d klen=%zu", alg, klen);
            hex(f, label, rc, NULL, 0);
            if (rc < 0) continue;
            if (alg == GNUTLS_MAC_AES_GMAC_128) {
                unsigned char nonce[12];
                fill(nonce, 12);
                gnutls_hmac_set_nonce(h, nonce, 12);
            } else {
                gnutls_hmac_set_nonce(h, key, 12); /* ignored by HMAC and CMAC */
            }
            /* Reuse: several messages through one handle, output resets. */
            for (int m = 0; m < 6; m++) {
                size_t len = (m == 0) ? 0 : (m == 1 ? 16 : next() % sizeof msg);
                fill(msg, len);
                rc = feed(h, msg, len);
                memset(out, 0, sizeof out);
                gnutls_hmac_output(h, out);
                snprintf(label, sizeof label, "  msg %d len=%zu", m, len);
                hex(f, label, rc, out, olen);
                /* The same via hmac_fast. */
                memset(out2, 0, sizeof out2);
                rc = gnutls_hmac_fast(alg, key, klen, msg, len, out2);
                hex(f, "  fast", rc, out2, olen);
            }
            /* Copy in mid-message, then both continue differently. */
            size_t len = next() % 300;
            fill(msg, len);
            feed(h, msg, len);
            gnutls_hmac_hd_t c = gnutls_hmac_copy(h);
            fprintf(f, "  copy %s\n", c ? "ok" : "null");
            if (c) {
                gnutls_hmac(c, "copy", 4);
                gnutls_hmac_output(c, out);
                hex(f, "  copy out", 0, out, olen);
                gnutls_hmac(c, "again", 5); /* the copy is reusable too */
                gnutls_hmac_deinit(c, out);
                hex(f, "  copy deinit", 0, out, olen);
            }
            gnutls_hmac(h, "orig", 4);
            gnutls_hmac_output(h, out);
            hex(f, "  orig out", 0, out, olen);
            /* Deinit with a digest of a partly fed message, or (every other
             * key) without one. */
            feed(h, msg, len);
            if (k % 2) {
                gnutls_hmac_deinit(h, NULL);
            } else {
                gnutls_hmac_deinit(h, out);
                hex(f, "  deinit", 0, out, olen);
            }
        }
    }
    /* Deinit without digest; unknown and refused algorithms. */
    gnutls_hmac_hd_t h = NULL;
    fill(key, 16);
    hex(f, "init sha256 for NULL deinit", gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, key, 16), NULL, 0);
    gnutls_hmac(h, "x", 1);
    gnutls_hmac_deinit(h, NULL);
    /* GnuTLS 3.7.9 leaks its handle when init fails (valgrind sees it without
     * the preload too): left out of the leak-checked run. */
    if (!getenv("GNUTLS_DIFF_NO_FAILED_INIT")) {
        hex(f, "init unknown alg", gnutls_hmac_init(&h, 9999, key, 16), NULL, 0);
        hex(f, "init alg 0", gnutls_hmac_init(&h, 0, key, 16), NULL, 0);
    }
    /* A key length an int cannot hold: GnuTLS 3.7.9 narrows it to an int (here
     * 16 bytes); the preload once read 4 GiB past the key. */
    size_t wrapping_keylen = ((size_t)1 << 32) + 16;
    int wrc = gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, key, wrapping_keylen);
    hex(f, "init sha256 keylen 2^32+16", wrc, NULL, 0);
    if (wrc == 0) {
        gnutls_hmac(h, "m", 1);
        gnutls_hmac_deinit(h, out);
        hex(f, "  deinit", 0, out, 32);
    }
    wrc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, wrapping_keylen, "m", 1, out);
    hex(f, "fast sha256 keylen 2^32+16", wrc, out, 32);
    hex(f, "fast unknown alg", gnutls_hmac_fast(9999, key, 16, "m", 1, out), NULL, 0);
    hex(f, "fast sha256 empty key", gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, 0, "m", 1, out), out, 32);
}

static void print_tag(FILE *f, const char *label, int rc, const unsigned char *p, size_t n) {
    hex(f, label, rc, rc == 0 ? p : NULL, rc == 0 ? n : 0);
}

/* Splits buf into 1..5 iovecs at random points. No empty pieces: GnuTLS 3.7.9
 * itself crashes on several empty AAD iovecs (not a case to compare). */
static int split(struct iovec *iov, unsigned char *buf, size_t len) {
    int n = 1 + next() % 5, used = 0;
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        size_t take = (i == n - 1) ? len - off : (len - off ? next() % (len - off + 1) : 0);
        if (take == 0 && !(i == n - 1 && used == 0)) continue;
        iov[used].iov_base = buf + off;
        iov[used].iov_len = take;
        used++;
        off += take;
    }
    return used;
}

static void test_aead(FILE *f) {
    static const int ciphers[] = {GNUTLS_CIPHER_AES_128_GCM, GNUTLS_CIPHER_AES_256_GCM,
                                  GNUTLS_CIPHER_AES_128_CCM, GNUTLS_CIPHER_CHACHA20_POLY1305,
                                  GNUTLS_CIPHER_AES_128_CBC, 9999};
    static const size_t klens[] = {16, 32, 24};
    static unsigned char key[32], aad[3000], pt[3000], ct[3100], tag[32], nonce[16], back[3100];
    char label[160];
    struct iovec aiov[5], piov[5];
    for (size_t ci = 0; ci < sizeof ciphers / sizeof *ciphers; ci++) {
        for (size_t ki = 0; ki < 3; ki++) {
            int cipher = ciphers[ci];
            fill(key, klens[ki]);
            gnutls_datum_t kd = {key, (unsigned)klens[ki]};
            gnutls_aead_cipher_hd_t h = NULL;
            int rc = gnutls_aead_cipher_init(&h, cipher, &kd);
            snprintf(label, sizeof label, "aead init cipher=%d klen=%zu", cipher, klens[ki]);
            hex(f, label, rc, NULL, 0);
            if (rc < 0) continue;
            size_t nlen_cases[] = {12, 12, 12, 8, 16, 0, 7, 13};
            for (size_t t = 0; t < 24; t++) {
                size_t nlen = nlen_cases[t % 8];
                if (cipher == GNUTLS_CIPHER_AES_128_CCM && (nlen < 7 || nlen > 13)) continue; /* nettle asserts */
                if (cipher == GNUTLS_CIPHER_CHACHA20_POLY1305 && nlen != 12) continue;
                size_t alen = (t == 0) ? 0 : next() % sizeof aad;
                size_t plen = (t % 3 == 2) ? next() % 2000 : 0; /* mostly GMAC */
                fill(nonce, 16);
                fill(aad, alen);
                fill(pt, plen);
                int an = split(aiov, aad, alen);
                int pn = plen ? split(piov, pt, plen) : 0;
                size_t tsz_cases[] = {16, 0, 8, 17, 16, 4};
                size_t tsz = tsz_cases[t % 6];
                /* encryptv2 (Samba's GMAC signing call); plaintext in place in a copy. */
                memcpy(ct, pt, plen);
                struct iovec civ[5];
                for (int i = 0; i < pn; i++) {
                    civ[i] = piov[i];
                    civ[i].iov_base = ct + ((unsigned char *)piov[i].iov_base - pt);
                }
                memset(tag, 0xee, sizeof tag);
                size_t ts = tsz;
                rc = gnutls_aead_cipher_encryptv2(h, nonce, nlen, aiov, an, civ, pn, tag, &ts);
                snprintf(label, sizeof label, "  encv2 t=%zu n=%zu a=%zu p=%zu tsz=%zu ts->%zu", t, nlen, alen, plen, tsz, ts);
                hex(f, label, rc, tag, sizeof tag);
                if (rc == 0 && plen) hex(f, "  encv2 ct", rc, ct, plen);
                if (rc == 0) {
                    /* decryptv2 of what was produced, and with a flipped tag. */
                    int rc2 = gnutls_aead_cipher_decryptv2(h, nonce, nlen, aiov, an, civ, pn, tag, ts);
                    hex(f, "  decv2", rc2, ct, plen);
                    tag[0] ^= 1;
                    rc2 = gnutls_aead_cipher_decryptv2(h, nonce, nlen, aiov, an, civ, pn, tag, ts);
                    hex(f, "  decv2 bad tag", rc2, NULL, 0);
                }
                /* encryptv2 with NULL tag_size and with plain NULL iov. */
                rc = gnutls_aead_cipher_encryptv2(h, nonce, nlen, aiov, an, NULL, 0, tag, NULL);
                hex(f, "  encv2 null tag_size", rc, tag, 16);
                /* encryptv / encrypt with various output room. */
                size_t rooms[] = {plen + 16, plen + 15, plen + 100, plen + 8};
                size_t room = rooms[t % 4];
                memset(ct, 0, sizeof ct);
                size_t cl = room;
                rc = gnutls_aead_cipher_encryptv(h, nonce, nlen, aiov, an, tsz, piov, pn, ct, &cl);
                snprintf(label, sizeof label, "  encv room=%zu cl->%zu", room, cl);
                print_tag(f, label, rc, ct, cl);
                memset(ct, 0, sizeof ct);
                cl = room;
                rc = gnutls_aead_cipher_encrypt(h, nonce, nlen, aad, alen, tsz, pt, plen, ct, &cl);
                snprintf(label, sizeof label, "  enc room=%zu cl->%zu", room, cl);
                print_tag(f, label, rc, ct, cl);
                if (rc == 0) {
                    size_t bl = sizeof back;
                    int rc2 = gnutls_aead_cipher_decrypt(h, nonce, nlen, aad, alen, tsz, ct, cl, back, &bl);
                    snprintf(label, sizeof label, "  dec bl->%zu", bl);
                    print_tag(f, label, rc2, back, bl);
                    ct[0] ^= 1;
                    bl = sizeof back;
                    rc2 = gnutls_aead_cipher_decrypt(h, nonce, nlen, aad, alen, tsz, ct, cl, back, &bl);
                    hex(f, "  dec corrupted", rc2, NULL, 0);
                }
            }
            /* New key on the same handle. */
            fill(key, klens[ki]);
            rc = gnutls_aead_cipher_set_key(h, &kd);
            hex(f, "  set_key", rc, NULL, 0);
            if (rc == 0) {
                size_t ts = 16;
                fill(nonce, 12);
                fill(aad, 100);
                aiov[0].iov_base = aad;
                aiov[0].iov_len = 100;
                rc = gnutls_aead_cipher_encryptv2(h, nonce, 12, aiov, 1, NULL, 0, tag, &ts);
                hex(f, "  encv2 after set_key", rc, tag, 16);
            }
            gnutls_datum_t bad = {key, 5};
            rc = gnutls_aead_cipher_set_key(h, &bad);
            hex(f, "  set_key 5 bytes", rc, NULL, 0);
            gnutls_aead_cipher_deinit(h);
        }
    }
}

/* SMB3 encryption through GnuTLS (issue 28): AES-128/256-GCM and -CCM, which
 * the drop-in computes on SMB's parameters and forwards otherwise. Every
 * plaintext length 0..1024 and some large ones, each in random iovec pieces
 * (and every 2-piece split up to 40 bytes, every 3-piece one up to 18), with Samba's 32-byte AAD or a
 * random one; encryptv2/decryptv2 in place (Samba's calls), encryptv, the
 * one-shot encrypt/decrypt (also in place) with exact and short buffers;
 * tampered tag, ciphertext and AAD (return code and what the buffer holds
 * after the failure); tag sizes 0, 4, 8, 12, 16, 17 and other nonce lengths;
 * set_key. Outputs are printed as FNV-1a hashes (tags in full). */
static uint64_t fnv(const unsigned char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}
static void hash_line(FILE *f, const char *label, int rc, const unsigned char *p, size_t n) {
    fprintf(f, "%s rc=%d n=%zu h=%016llx\n", label, rc, n, (unsigned long long)fnv(p, n));
}
/* The iovecs `src` describe over `from`, moved onto `to`. */
static void rebase(struct iovec *dst, const struct iovec *src, int n, unsigned char *from, unsigned char *to) {
    for (int i = 0; i < n; i++) {
        dst[i].iov_base = to + ((unsigned char *)src[i].iov_base - from);
        dst[i].iov_len = src[i].iov_len;
    }
}

#define BIG (1u << 20)
static unsigned char c_pt[BIG + 64], c_ct[BIG + 64], c_ct2[BIG + 64], c_back[BIG + 64];

/* One message through every call; tsz and nlen as given. */
static void cipher_case(FILE *f, gnutls_aead_cipher_hd_t h, size_t plen, size_t alen, size_t nlen, size_t tsz,
                        int pieces) {
    unsigned char nonce[16], aad[300], tag[32], tag2[32];
    struct iovec aiov[5], piov[5], civ[5];
    char label[200];
    fill(nonce, sizeof nonce);
    fill(aad, alen);
    fill(c_pt, plen);
    int an = alen == 32 ? (aiov[0].iov_base = aad, aiov[0].iov_len = 32, 1) : split(aiov, aad, alen);
    int pn;
    if (pieces == 0) {
        pn = plen ? split(piov, c_pt, plen) : 0;
    } else { /* pieces = 1 + cut (+ 4096 * (1 + cut2)): two (three) pieces cut there */
        size_t cut = (size_t)(pieces % 4096) - 1, cut2 = (size_t)(pieces / 4096);
        piov[0].iov_base = c_pt; piov[0].iov_len = cut;
        if (cut2) {
            cut2 -= 1;
            piov[1].iov_base = c_pt + cut; piov[1].iov_len = cut2 - cut;
            piov[2].iov_base = c_pt + cut2; piov[2].iov_len = plen - cut2;
            pn = 3;
        } else {
            piov[1].iov_base = c_pt + cut; piov[1].iov_len = plen - cut;
            pn = 2;
        }
    }
    /* encryptv2 in place in c_ct. */
    memcpy(c_ct, c_pt, plen);
    rebase(civ, piov, pn, c_pt, c_ct);
    memset(tag, 0xee, sizeof tag);
    size_t ts = tsz;
    int rc = gnutls_aead_cipher_encryptv2(h, nonce, nlen, aiov, an, civ, pn, tag, &ts);
    snprintf(label, sizeof label, "c encv2 p=%zu a=%zu n=%zu tsz=%zu pn=%d ts->%zu", plen, alen, nlen, tsz, pn, ts);
    hex(f, label, rc, tag, 20);
    hash_line(f, " ct", rc, c_ct, plen);
    if (rc == 0) {
        memcpy(c_ct2, c_ct, plen);
        memcpy(tag2, tag, sizeof tag);
        rc = gnutls_aead_cipher_decryptv2(h, nonce, nlen, aiov, an, civ, pn, tag, tsz);
        hash_line(f, " decv2", rc, c_ct, plen);
        fprintf(f, " decv2 equal=%d\n", memcmp(c_ct, c_pt, plen) == 0);
        /* Tampered tag, ciphertext, AAD: the code and the buffer afterwards. */
        memcpy(c_ct, c_ct2, plen);
        tag[next() % 16] ^= (unsigned char)(1u << (next() % 8));
        rc = gnutls_aead_cipher_decryptv2(h, nonce, nlen, aiov, an, civ, pn, tag, tsz);
        hash_line(f, " decv2 bad tag", rc, c_ct, plen);
        memcpy(tag, tag2, sizeof tag);
        if (plen) {
            memcpy(c_ct, c_ct2, plen);
            c_ct[next() % plen] ^= 0x40;
            rc = gnutls_aead_cipher_decryptv2(h, nonce, nlen, aiov, an, civ, pn, tag, tsz);
            hash_line(f, " decv2 bad ct", rc, c_ct, plen);
        }
        if (alen) {
            memcpy(c_ct, c_ct2, plen);
            aad[next() % alen] ^= 2;
            rc = gnutls_aead_cipher_decryptv2(h, nonce, nlen, aiov, an, civ, pn, tag, tsz);
            hash_line(f, " decv2 bad aad", rc, c_ct, plen);
            fill(aad, 0);
        }
    }
    /* encryptv (iovecs in, flat out) and the one-shot calls, with room for
     * exactly ciphertext || tag, one byte less, and more. */
    size_t rooms[3] = {plen + 16, plen + 15, plen + 40};
    size_t room = rooms[next() % 3];
    memset(c_ct, 0x5a, plen + 64);
    size_t cl = room;
    rc = gnutls_aead_cipher_encryptv(h, nonce, nlen, aiov, an, tsz, piov, pn, c_ct, &cl);
    snprintf(label, sizeof label, " encv room=%zu cl->%zu", room, cl);
    hash_line(f, label, rc, c_ct, plen + 64);
    memset(c_ct, 0x5a, plen + 64);
    cl = room;
    unsigned char flat_aad[300];
    size_t fa = 0;
    for (int i = 0; i < an; i++) { memcpy(flat_aad + fa, aiov[i].iov_base, aiov[i].iov_len); fa += aiov[i].iov_len; }
    rc = gnutls_aead_cipher_encrypt(h, nonce, nlen, flat_aad, fa, tsz, c_pt, plen, c_ct, &cl);
    snprintf(label, sizeof label, " enc room=%zu cl->%zu", room, cl);
    hash_line(f, label, rc, c_ct, plen + 64);
    if (rc == 0) {
        size_t want = cl - (tsz ? tsz : 16);
        size_t brooms[3] = {want, want ? want - 1 : 0, want + 16};
        size_t broom = brooms[next() % 3];
        memset(c_back, 0xa5, plen + 64);
        size_t bl = broom;
        int rc2 = gnutls_aead_cipher_decrypt(h, nonce, nlen, flat_aad, fa, tsz, c_ct, cl, c_back, &bl);
        snprintf(label, sizeof label, " dec room=%zu bl->%zu", broom, bl);
        hash_line(f, label, rc2, c_back, plen + 64);
        memset(c_back, 0xa5, plen + 64);
        bl = plen + 64;
        c_ct[next() % cl] ^= 0x10;
        rc2 = gnutls_aead_cipher_decrypt(h, nonce, nlen, flat_aad, fa, tsz, c_ct, cl, c_back, &bl);
        snprintf(label, sizeof label, " dec tampered bl->%zu", bl);
        hash_line(f, label, rc2, c_back, plen + 64);
    }
    /* One-shot in place: ctext == ptext. */
    memcpy(c_ct, c_pt, plen);
    memset(c_ct + plen, 0x33, 64);
    cl = plen + 16;
    rc = gnutls_aead_cipher_encrypt(h, nonce, nlen, flat_aad, fa, tsz, c_ct, plen, c_ct, &cl);
    snprintf(label, sizeof label, " enc in place cl->%zu", cl);
    hash_line(f, label, rc, c_ct, plen + 64);
    if (rc == 0) {
        size_t bl = cl;
        int rc2 = gnutls_aead_cipher_decrypt(h, nonce, nlen, flat_aad, fa, tsz, c_ct, cl, c_ct, &bl);
        snprintf(label, sizeof label, " dec in place bl->%zu", bl);
        hash_line(f, label, rc2, c_ct, plen + 64);
    }
}

static void test_ciphers(FILE *f) {
    static const int ciphers[] = {GNUTLS_CIPHER_AES_128_GCM, GNUTLS_CIPHER_AES_256_GCM, GNUTLS_CIPHER_AES_128_CCM,
                                  GNUTLS_CIPHER_AES_256_CCM};
    unsigned char key[32];
    for (size_t ci = 0; ci < 4; ci++) {
        int cipher = ciphers[ci], ccm = cipher == GNUTLS_CIPHER_AES_128_CCM || cipher == GNUTLS_CIPHER_AES_256_CCM;
        size_t klen = (cipher == GNUTLS_CIPHER_AES_128_GCM || cipher == GNUTLS_CIPHER_AES_128_CCM) ? 16 : 32;
        size_t smb_nonce = ccm ? 11 : 12;
        fill(key, klen);
        gnutls_datum_t kd = {key, (unsigned)klen};
        gnutls_aead_cipher_hd_t h = NULL;
        int rc = gnutls_aead_cipher_init(&h, cipher, &kd);
        fprintf(f, "cipher %d init rc=%d\n", cipher, rc);
        if (rc < 0) continue;
        for (size_t plen = 0; plen <= 1024; plen++)
            cipher_case(f, h, plen, next() % 4 ? 32 : next() % 300, smb_nonce, next() % 2 ? 16 : 0, 0);
        const size_t large[] = {4096, 65536 + 7, BIG};
        for (size_t i = 0; i < 3; i++) cipher_case(f, h, large[i], 32, smb_nonce, 16, 0);
        for (size_t plen = 2; plen <= 40; plen++)
            for (size_t cut = 1; cut < plen; cut++) cipher_case(f, h, plen, 32, smb_nonce, 16, (int)cut + 1);
        for (size_t plen = 3; plen <= 18; plen++) /* every 3-piece split */
            for (size_t cut = 1; cut < plen; cut++)
                for (size_t cut2 = cut + 1; cut2 < plen; cut2++)
                    cipher_case(f, h, plen, 32, smb_nonce, 0, (int)(cut + 1 + 4096 * (cut2 + 1)));
        /* Tag sizes and nonce lengths other than SMB's (GnuTLS decides), each
         * on a fresh handle: GnuTLS 3.7.9's AES-GCM with a nonce other than 12
         * bytes reuses the previous call's counter (its result depends on the
         * handle's history, which differs where smbsign computed earlier calls). */
        const size_t tszs[] = {0, 4, 8, 12, 16, 17};
        const size_t nls[] = {7, 8, 11, 12, 13, 16, 0};
        for (size_t t = 0; t < 6; t++)
            for (size_t n = 0; n < 7; n++) {
                if (ccm && (nls[n] < 7 || nls[n] > 13)) continue; /* nettle asserts */
                gnutls_aead_cipher_hd_t g = NULL;
                if (gnutls_aead_cipher_init(&g, cipher, &kd) < 0) continue;
                cipher_case(f, g, next() % 100, 32, nls[n], tszs[t], 0);
                gnutls_aead_cipher_deinit(g);
            }
        /* A new key on the same handle (GnuTLS computes from then on). */
        fill(key, klen);
        rc = gnutls_aead_cipher_set_key(h, &kd);
        fprintf(f, "cipher %d set_key rc=%d\n", cipher, rc);
        for (size_t plen = 0; plen < 70; plen += 23) cipher_case(f, h, plen, 32, smb_nonce, 16, 0);
        gnutls_aead_cipher_deinit(h);
    }
}

/* Samba's GMAC signing call: encryptv2 with the message as AAD in Samba's
 * pieces (header 48, zeroed signature 16, body; up to five with the body
 * split into fixed part, dynamic part and padding at odd places), at every
 * length from 64 to 600 bytes and some long ones; also ten pieces (more than
 * the drop-in's fused kernels take at once). No empty pieces (see split). */
static void test_samba_gmac(FILE *f) {
    /* Each piece is copied apart, with junk between, as Samba's zeroed
     * signature lies apart from the header: a read past a piece shows. */
    static unsigned char key[16], msg[70000], apart[70000 + 11 * 64], nonce[12], tag[16];
    static const size_t shapes[][5] = {{48, 16}, {48, 16, 24}, {48, 16, 88, 7}, {48, 16, 1, 15},
                                       {48, 16, 16, 33, 2}, {16, 1, 2, 3}};
    static const size_t longs[] = {1024, 1040, 4096, 4103, 65536 + 5};
    char label[96];
    fill(key, 16);
    fill(msg, sizeof msg);
    gnutls_datum_t kd = {key, 16};
    gnutls_aead_cipher_hd_t h;
    int rc = gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_128_GCM, &kd);
    hex(f, "samba gmac init", rc, NULL, 0);
    if (rc < 0) return;
    for (size_t li = 0; li < 537 + sizeof longs / sizeof *longs; li++) {
        size_t len = li < 537 ? 64 + li : longs[li - 537];
        for (size_t si = 0; si <= sizeof shapes / sizeof *shapes; si++) {
            struct iovec iov[10];
            int n = 0;
            size_t off = 0;
            if (si == sizeof shapes / sizeof *shapes) { /* ten pieces: 16 x 9, then the rest */
                for (; n < 9 && off + 16 < len; n++, off += 16) iov[n] = (struct iovec){msg + off, 16};
            } else {
                for (int k = 0; k < 5 && shapes[si][k] && off + shapes[si][k] < len; k++, n++) {
                    iov[n] = (struct iovec){msg + off, shapes[si][k]};
                    off += shapes[si][k];
                }
            }
            iov[n++] = (struct iovec){msg + off, len - off};
            memset(apart, 0xa5, sizeof apart);
            for (int k = 0; k < n; k++) {
                unsigned char *at = apart + ((unsigned char *)iov[k].iov_base - msg) + 64 * (k + 1);
                memcpy(at, iov[k].iov_base, iov[k].iov_len);
                iov[k].iov_base = at;
            }
            fill(nonce, 12);
            size_t ts = 16;
            rc = gnutls_aead_cipher_encryptv2(h, nonce, 12, iov, n, NULL, 0, tag, &ts);
            snprintf(label, sizeof label, "samba gmac len=%zu shape=%zu parts=%d ts->%zu", len, si, n, ts);
            hex(f, label, rc, tag, 16);
        }
    }
    gnutls_aead_cipher_deinit(h);
}

/* Threads: each thread its own CMAC and GMAC handles, fixed per-thread inputs. */
struct thread_arg { int id; unsigned char out[16 * 200]; };
static void *thread_main(void *p) {
    struct thread_arg *a = p;
    unsigned char key[16], msg[700], nonce[12];
    for (int i = 0; i < 16; i++) key[i] = (unsigned char)(a->id * 31 + i);
    gnutls_hmac_hd_t h;
    gnutls_aead_cipher_hd_t g;
    gnutls_datum_t kd = {key, 16};
    if (gnutls_hmac_init(&h, GNUTLS_MAC_AES_CMAC_128, key, 16) || gnutls_aead_cipher_init(&g, GNUTLS_CIPHER_AES_128_GCM, &kd))
        return NULL;
    for (int m = 0; m < 100; m++) {
        for (size_t i = 0; i < sizeof msg; i++) msg[i] = (unsigned char)(i * m + a->id);
        memset(nonce, m, 12);
        gnutls_hmac(h, msg, (size_t)(m * 7));
        gnutls_hmac_output(h, a->out + 32 * m);
        struct iovec iv = {msg, (size_t)(m * 7)};
        size_t ts = 16;
        gnutls_aead_cipher_encryptv2(g, nonce, 12, &iv, 1, NULL, 0, a->out + 32 * m + 16, &ts);
    }
    gnutls_hmac_deinit(h, NULL);
    gnutls_aead_cipher_deinit(g);
    return NULL;
}

static void test_threads(FILE *f) {
    static struct thread_arg args[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        args[i].id = i;
        pthread_create(&t[i], NULL, thread_main, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        hex(f, "thread", i, args[i].out, sizeof args[i].out);
    }
}

/* A handle made before fork is used in the child (as smbd's children do). */
static void test_fork(FILE *f) {
    unsigned char key[16], out[16];
    fill(key, 16);
    gnutls_hmac_hd_t h;
    gnutls_hmac_init(&h, GNUTLS_MAC_AES_CMAC_128, key, 16);
    gnutls_hmac(h, "parent", 6);
    fflush(f);
    pid_t pid = fork();
    if (pid == 0) {
        gnutls_hmac(h, "child", 5);
        gnutls_hmac_output(h, out);
        hex(f, "fork child", 0, out, 16);
        fflush(f);
        exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    gnutls_hmac_output(h, out);
    hex(f, "fork parent", WEXITSTATUS(st), out, 16);
    gnutls_hmac_deinit(h, NULL);
}

int main(void) {
    FILE *f = stdout;
    test_hmac(f);
    test_aead(f);
    test_samba_gmac(f);
    test_ciphers(f);
    test_threads(f);
    test_fork(f);
    fprintf(f, "done\n");
    return 0;
}
