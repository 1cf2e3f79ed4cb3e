"""Proves smbsign equals the `cryptography` package (CMAC, AESGCM with empty
plaintext, HMAC, KBKDFHMAC) on random keys, nonces, lengths and update splits
(hypothesis), and that PDU signatures are those MACs over the SMB-defined input."""

import hmac as std_hmac
import hashlib

from cryptography.hazmat.primitives import cmac, hashes
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.kbkdf import KBKDFHMAC, CounterLocation, Mode
from hypothesis import given, settings
from hypothesis import strategies as st

import smbsign

keys = st.binary(min_size=16, max_size=16)
nonces = st.binary(min_size=12, max_size=12)
messages = st.binary(min_size=0, max_size=4096)
cuts = st.lists(st.integers(min_value=0, max_value=4096), max_size=6)


def ref_cmac(key, msg):
    c = cmac.CMAC(algorithms.AES(key))
    c.update(msg)
    return c.finalize()


def split(msg, points):
    pts = sorted(p % (len(msg) + 1) for p in points)
    out, at = [], 0
    for p in pts:
        out.append(msg[at:p])
        at = p
    out.append(msg[at:])
    return out


@settings(max_examples=300, deadline=None)
@given(keys, nonces, messages, cuts, st.binary(max_size=200))
def test_macs_match_cryptography(key, nonce, msg, points, hkey):
    want_c = ref_cmac(key, msg)
    want_g = AESGCM(key).encrypt(nonce, b"", msg)
    want_h = std_hmac.new(hkey, msg, hashlib.sha256).digest()
    assert smbsign.aes_cmac(key, msg) == want_c
    assert smbsign.aes_gmac(key, nonce, msg) == want_g
    assert smbsign.hmac_sha256(hkey, msg) == want_h
    c, g, h = smbsign.AesCmac(key), smbsign.AesGmac(key, nonce), smbsign.HmacSha256(hkey)
    for piece in split(msg, points):
        c.update(piece)
        g.update(memoryview(piece))
        h.update(bytearray(piece))
    c2, g2, h2 = c.copy(), g.copy(), h.copy()
    assert (c.digest(), g.digest(), h.digest()) == (want_c, want_g, want_h)
    assert (c2.digest(), g2.digest(), h2.digest()) == (want_c, want_g, want_h)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.binary(max_size=40), st.binary(max_size=80),
       st.integers(min_value=1, max_value=64))
def test_kdf_matches_kbkdfhmac(key, label, context, length):
    ref = KBKDFHMAC(algorithm=hashes.SHA256(), mode=Mode.CounterMode, length=length, rlen=4, llen=4,
                    location=CounterLocation.BeforeFixed, label=label, context=context, fixed=None)
    assert smbsign.kdf(key, label, context, length) == ref.derive(key)


def make_pdu(body, command=9, flags=0, message_id=5):
    h = bytearray(64)
    h[0:4] = b"\xfeSMB"
    h[4] = 64
    h[12:14] = command.to_bytes(2, "little")
    h[16:20] = flags.to_bytes(4, "little")
    h[24:32] = message_id.to_bytes(8, "little")
    return h + bytearray(body)


@settings(max_examples=200, deadline=None)
@given(keys, st.binary(max_size=2000), st.sampled_from([0, 1, 2]), st.sampled_from([5, 0x0C]),
       st.sampled_from([0, 1]), st.integers(min_value=0, max_value=2**64 - 1))
def test_pdu_signature_is_the_reference_mac(key, body, alg, command, flags, message_id):
    pdu = make_pdu(body, command, flags, message_id)
    k = smbsign.SigningKey(alg, key)
    smbsign.sign_pdu(k, pdu)
    assert pdu[16] & 8
    data = bytes(pdu[:48]) + bytes(16) + bytes(pdu[64:])
    if alg == 0:
        want = std_hmac.new(key, data, hashlib.sha256).digest()[:16]
    elif alg == 1:
        want = ref_cmac(key, data)
    else:
        nonce = message_id.to_bytes(8, "little") + (flags | (2 if command == 0x0C else 0)).to_bytes(4, "little")
        assert smbsign.gmac_nonce(pdu) == nonce
        want = AESGCM(key).encrypt(nonce, b"", data)
    assert bytes(pdu[48:64]) == want
    assert smbsign.verify_pdu(k, pdu)
    assert k.verify(data, want, smbsign.gmac_nonce(pdu) if alg == 2 else None)
