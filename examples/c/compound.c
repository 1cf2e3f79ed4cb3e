/* Signs and verifies a compound SMB2 request (CREATE + WRITE + CLOSE) through
 * libsmbsign, as a C SMB server would: build with
 *   cc -std=c99 compound.c $(pkg-config --cflags --libs smbsign)              */
#include <stdio.h>
#include <string.h>

#include <smbsign.h>

/* Writes an SMB2 header for `command` at p; returns the header length. */
static size_t header(uint8_t *p, uint16_t command, uint64_t message_id) {
    memset(p, 0, 64);
    memcpy(p, "\xfeSMB", 4);
    p[4] = 64;
    p[12] = (uint8_t)command;
    for (int i = 0; i < 8; i++) p[24 + i] = (uint8_t)(message_id >> (8 * i));
    return 64;
}

int main(void) {
    uint8_t chain[512] = {0};
    size_t off[3], len = 0;
    const uint16_t commands[3] = {0x0005, 0x0009, 0x0006}; /* CREATE, WRITE, CLOSE */
    const size_t bodies[3] = {57, 49, 24};
    for (int i = 0; i < 3; i++) {
        off[i] = len;
        len += header(chain + len, commands[i], 10 + (uint64_t)i);
        memset(chain + len, 0x30 + i, bodies[i]);
        len += bodies[i];
        if (i < 2) {
            len = (len + 7) & ~(size_t)7; /* compound members are 8-byte aligned */
            uint32_t next = (uint32_t)(len - off[i]);
            memcpy(chain + off[i] + 20, &next, 4); /* little-endian hosts */
        }
    }

    smbsign_session_keys keys;
    uint8_t session_key[16];
    memset(session_key, 0x5a, sizeof session_key);
    smbsign_status st = smbsign_smb30_keys(session_key, sizeof session_key, &keys);
    if (st != SMBSIGN_OK) return fprintf(stderr, "kdf: %s\n", smbsign_strerror(st)), 1;

    for (uint16_t alg = SMBSIGN_HMAC_SHA256; alg <= SMBSIGN_AES_GMAC; alg++) {
        smbsign_key *key;
        st = smbsign_key_new(alg, keys.signing, 16, &key);
        if (st != SMBSIGN_OK) return fprintf(stderr, "key: %s\n", smbsign_strerror(st)), 1;
        uint8_t buf[512];
        memcpy(buf, chain, len);
        /* Scatter-gather, as a server holds header and payload apart. */
        struct iovec iov[2] = {{buf, 100}, {buf + 100, len - 100}};
        st = smbsign_sign_pdu_iov(key, iov, 2);
        if (st == SMBSIGN_OK) st = smbsign_verify_pdu(key, buf, len);
        if (st != SMBSIGN_OK) return fprintf(stderr, "sign/verify: %s\n", smbsign_strerror(st)), 1;
        buf[len - 1] ^= 1;
        smbsign_status tampered = smbsign_verify_pdu(key, buf, len);
        printf("%-12s (%s): signed %zu-byte chain of 3; first signature ", alg == 0 ? "HMAC-SHA256" :
               alg == 1 ? "AES-CMAC" : "AES-GMAC", smbsign_backend_name(alg), len);
        for (int i = 0; i < 16; i++) printf("%02x", buf[48 + i]);
        printf("; tampered: %s\n", smbsign_strerror(tampered));
        smbsign_key_free(key);
        if (tampered != SMBSIGN_ERR_BAD_SIGNATURE) return 1;
    }
    return 0;
}
