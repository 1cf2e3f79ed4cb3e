"""Proves the Python batch API: sign_batch equals the `cryptography` package
(AES-CMAC, AES-GCM with empty plaintext, HMAC-SHA256) and SigningKey.mac on
random batches of mixed algorithms, keys and lengths; verify_batch flags exactly
the corrupted tag; sign_pdus equals sign_pdu per chain with malformed chains
reported and untouched; bad jobs raise TypeError/ValueError before any work."""

import hmac as std_hmac
import hashlib
import random

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.cmac import CMAC
from cryptography.hazmat.primitives.ciphers import algorithms

import smbsign


def reference(alg, key, data, nonce):
    if alg == smbsign.HMAC_SHA256:
        return std_hmac.new(key, data, hashlib.sha256).digest()[:16]
    if alg == smbsign.AES_CMAC:
        c = CMAC(algorithms.AES(key))
        c.update(data)
        return c.finalize()
    return AESGCM(key).encrypt(nonce, b"", data)


def pdu(rng, body_len, message_id):
    h = bytearray(rng.randbytes(64))
    h[0:4] = b"\xfeSMB"
    h[16:24] = bytes(8)
    h[24:32] = message_id.to_bytes(8, "little")
    return h + bytearray(rng.randbytes(body_len))


@pytest.mark.parametrize("seed", range(12))
def test_sign_batch_matches_cryptography(seed):
    rng = random.Random(seed)
    raw = [[rng.randbytes(16) for _ in range(3)] for _ in range(3)]
    keys = [[smbsign.SigningKey(a, k) for k in raw[a]] for a in range(3)]
    jobs, want = [], []
    for _ in range(rng.randint(1, 64)):
        a, k = rng.randrange(3), rng.randrange(3)
        n = rng.choice([rng.randint(0, 300), rng.randint(0, 70000)])
        data = rng.randbytes(n)
        nonce = rng.randbytes(12) if a == smbsign.AES_GMAC else None
        jobs.append((keys[a][k], memoryview(data), nonce) if nonce else (keys[a][k], data))
        want.append(reference(a, raw[a][k], data, nonce))
    tags = smbsign.sign_batch(jobs)
    assert tags == want
    assert [j[0].mac(j[1], *j[2:]) for j in jobs] == want
    assert smbsign.verify_batch(jobs, tags) == [True] * len(jobs)
    victim = rng.randrange(len(jobs))
    bad = list(tags)
    bad[victim] = bytes([bad[victim][0] ^ 1]) + bad[victim][1:]
    assert smbsign.verify_batch(jobs, bad) == [i != victim for i in range(len(jobs))]


def test_pdu_batches():
    rng = random.Random(7)
    keys = [smbsign.SigningKey(a, rng.randbytes(16)) for a in range(3)]
    bufs = [pdu(rng, rng.randint(0, 2000), i) for i in range(20)]
    copies = [bytearray(b) for b in bufs]
    bufs[5][0] = copies[5][0] = 0  # not an SMB2 PDU
    jobs = [(keys[i % 3], bufs[i]) for i in range(20)]
    results = smbsign.sign_pdus(jobs)
    for i, r in enumerate(results):
        if i == 5:
            assert isinstance(r, ValueError) and "FE 'SMB'" in str(r)
            assert bufs[i] == copies[i]
        else:
            assert r is None
            smbsign.sign_pdu(keys[i % 3], copies[i])
            assert bufs[i] == copies[i]
    bufs[9][-1] ^= 1
    assert smbsign.verify_pdus(jobs) == [i not in (5, 9) for i in range(20)]


def test_bad_jobs_raise_before_work():
    k = smbsign.SigningKey(smbsign.AES_GMAC, bytes(16))
    c = smbsign.SigningKey(smbsign.AES_CMAC, bytes(16))
    with pytest.raises(ValueError, match="job 1: AES-GMAC needs a 12-byte nonce"):
        smbsign.sign_batch([(c, b"x"), (k, b"y")])
    with pytest.raises(ValueError, match="job 0: a nonce was given"):
        smbsign.sign_batch([(c, b"x", bytes(12))])
    with pytest.raises(TypeError, match="job 0"):
        smbsign.sign_batch([(b"not a key", b"x")])
    with pytest.raises(TypeError, match="job 0"):
        smbsign.sign_batch([c])
    with pytest.raises(ValueError, match="nonce must be 12 bytes"):
        smbsign.sign_batch([(k, b"x", bytes(11))])
    with pytest.raises(ValueError, match="2 jobs but 1 tags"):
        smbsign.verify_batch([(c, b"x"), (c, b"y")], [bytes(16)])
    with pytest.raises(TypeError, match="read-only"):
        smbsign.sign_pdus([(c, bytes(100))])
    shared = bytearray(200)
    with pytest.raises(ValueError, match="overlap"):
        smbsign.sign_pdus([(c, shared), (c, memoryview(shared)[100:])])
    assert smbsign.sign_batch([]) == []
