/* Proves the C ABI reproduces the published vectors: RFC 4493 / SP 800-38B,
 * RFC 4231, NIST CAVP GCM (GMAC) and KBKDF, Microsoft's SMB 3.x keys and preauth chain.
 * Usage: test_vectors VECTOR_DIR */
#include "smbsign.h"
#include "util.h"

static void cmac_gmac(const char *dir, const char *file, uint16_t alg, const char *k, const char *m,
                      const char *t, const char *iv) {
    FILE *fp = open_vectors(dir, file);
    struct record r;
    int count = 0;
    while (next_record(fp, &r)) {
        smbsign_key *key = NULL;
        const struct field *kf = get(&r, k), *mf = get(&r, m), *tf = get(&r, t);
        CHECK(smbsign_key_new(alg, kf->data, kf->len, &key) == SMBSIGN_OK, "%s key", file);
        uint8_t tag[16];
        const uint8_t *nonce = iv ? get(&r, iv)->data : NULL;
        CHECK(smbsign_mac(key, nonce, mf->data, mf->len, tag) == SMBSIGN_OK, "%s mac", file);
        CHECK(memcmp(tag, tf->data, 16) == 0, "%s record %d", file, count);
        /* The same through one iovec per byte-run of 5. */
        struct iovec iov[64];
        int n = 0;
        for (size_t off = 0; off < mf->len && n < 64; off += 5, n++) {
            iov[n].iov_base = mf->data + off;
            iov[n].iov_len = mf->len - off < 5 ? mf->len - off : 5;
        }
        if (mf->len <= 5 * 64) {
            uint8_t tag2[16];
            CHECK(smbsign_mac_iov(key, nonce, iov, n, tag2) == SMBSIGN_OK, "iov");
            CHECK(memcmp(tag2, tf->data, 16) == 0, "%s iov record %d", file, count);
        }
        smbsign_key_free(key);
        free_record(&r);
        count++;
    }
    CHECK(count > 0, "%s empty", file);
    fclose(fp);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "core/tests/vectors";
    cmac_gmac(dir, "cmac-aes128.txt", SMBSIGN_AES_CMAC, "KEY", "MESSAGE", "OUTPUT", NULL);
    cmac_gmac(dir, "gmac-aes128-cavp.txt", SMBSIGN_AES_GMAC, "Key", "AAD", "Tag", "IV");

    FILE *fp = open_vectors(dir, "hmac-sha256-rfc4231.txt");
    struct record r;
    while (next_record(fp, &r)) {
        const struct field *k = get(&r, "Key"), *m = get(&r, "Msg"), *md = get(&r, "MD");
        uint8_t out[32];
        CHECK(smbsign_hmac_sha256(k->data, k->len, m->data, m->len, out) == SMBSIGN_OK, "hmac");
        CHECK(memcmp(out, md->data, 32) == 0, "hmac vector");
        free_record(&r);
    }
    fclose(fp);

    fp = open_vectors(dir, "kbkdf-ctr-hmac-sha256.txt");
    while (next_record(fp, &r)) {
        const struct field *ki = get(&r, "KI"), *fi = get(&r, "FixedInputData"), *ko = get(&r, "KO");
        uint8_t out[256];
        CHECK(smbsign_kbkdf_hmac_sha256(ki->data, ki->len, fi->data, fi->len, out, ko->len) == SMBSIGN_OK, "kbkdf");
        CHECK(memcmp(out, ko->data, ko->len) == 0, "kbkdf vector");
        free_record(&r);
    }
    fclose(fp);

    fp = open_vectors(dir, "smb-kdf-microsoft.txt");
    while (next_record(fp, &r)) {
        const struct field *d = get(&r, "Dialect"), *sk = get(&r, "SessionKey");
        smbsign_session_keys keys;
        if (d->data[1] == 0x00) {
            CHECK(smbsign_smb30_keys(sk->data, sk->len, &keys) == SMBSIGN_OK, "smb30");
        } else {
            CHECK(smbsign_smb311_keys(sk->data, sk->len, sk->data, sk->len, get(&r, "PreauthHash")->data, 16,
                                      &keys) == SMBSIGN_OK, "smb311");
        }
        const struct field *f;
        if ((f = get(&r, "SigningKey"))->len) CHECK(memcmp(keys.signing, f->data, 16) == 0, "signing key");
        if ((f = get(&r, "ApplicationKey"))->len) CHECK(memcmp(keys.application, f->data, 16) == 0, "app key");
        if ((f = get(&r, "ClientToServer"))->len) CHECK(memcmp(keys.client_to_server, f->data, 16) == 0, "c2s");
        if ((f = get(&r, "ServerToClient"))->len) CHECK(memcmp(keys.server_to_client, f->data, 16) == 0, "s2c");
        free_record(&r);
    }
    fclose(fp);

    fp = open_vectors(dir, "preauth-smb311-microsoft.txt");
    uint8_t h[64] = {0}, hv[64] = {0};
    while (next_record(fp, &r)) {
        const struct field *m = get(&r, "Message"), *want = get(&r, "Hash");
        CHECK(smbsign_preauth_update(h, m->data, m->len) == SMBSIGN_OK, "preauth");
        struct iovec iov[2] = {{m->data, 10}, {m->data + 10, m->len - 10}};
        CHECK(smbsign_preauth_update_iov(hv, iov, 2) == SMBSIGN_OK, "preauth iov");
        CHECK(memcmp(h, want->data, 64) == 0, "preauth vector");
        CHECK(memcmp(hv, want->data, 64) == 0, "preauth iov vector");
        free_record(&r);
    }
    fclose(fp);
    printf("backends: hmac=%s cmac=%s gmac=%s version=%s\n", smbsign_backend_name(0), smbsign_backend_name(1),
           smbsign_backend_name(2), smbsign_version());
    return report("test_vectors");
}
