"""Proves SMB3 encryption from Python: Microsoft's published transform messages
both ways; equality with `cryptography`'s AESCCM/AESGCM on a transform built by
hand (hypothesis: every cipher, random keys, nonces, session ids, messages);
byte-for-byte equality with smbprotocol's own `Connection._encrypt`/`_decrypt`
and with impacket's construction (pycryptodome AES-CCM over its
SMB2_TRANSFORM_HEADER); the in-place forms; the batch forms; the nonce source;
and the errors."""

import struct
import threading

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

import smbsign

CIPHERS = {
    "aes-128-ccm": (smbsign.AES_128_CCM, 16, 11, AESCCM),
    "aes-128-gcm": (smbsign.AES_128_GCM, 16, 12, AESGCM),
    "aes-256-ccm": (smbsign.AES_256_CCM, 32, 11, AESCCM),
    "aes-256-gcm": (smbsign.AES_256_GCM, 32, 12, AESGCM),
}


def by_hand(name, key, session_id, message, nonce):
    """The transform message as MS-SMB2 2.2.41 and 3.1.4.3 define it, with `cryptography`."""
    _, _, nlen, aead = CIPHERS[name]
    field = nonce + bytes(16 - len(nonce))
    aad = field + struct.pack("<IHHQ", len(message), 0, 1, session_id)
    sealed = aead(key).encrypt(nonce[:nlen], message, aad)
    return b"\xfdSMB" + sealed[-16:] + aad + sealed[:-16]


def test_microsoft_messages(vectors):
    recs = vectors("smb-transform-microsoft.txt")
    assert len(recs) == 12
    for r in recs:
        key = smbsign.EncryptionKey(int.from_bytes(r["CipherId"], "big"), r["Key"])
        tm, pt = r["TransformedMessage"], r["Plaintext"]
        assert smbsign.decrypt_message(key, tm) == pt
        sid = smbsign.transform_session_id(tm)
        assert smbsign.encrypt_message(key, sid, pt, nonce=tm[20:36]) == tm
        buf = bytearray(tm)
        smbsign.decrypt_in_place(key, buf)
        assert buf[52:] == pt and buf[:52] == tm[:52]
        buf = bytearray(52) + pt
        smbsign.encrypt_in_place(key, sid, memoryview(buf), nonce=tm[20:36])
        assert buf == tm


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(sorted(CIPHERS)),
    key=st.binary(min_size=32, max_size=32),
    nonce=st.binary(min_size=12, max_size=12),
    session_id=st.integers(min_value=0, max_value=2**64 - 1),
    message=st.binary(min_size=64, max_size=5000),
)
def test_equals_cryptography(name, key, nonce, session_id, message):
    cid, klen, nlen, _ = CIPHERS[name]
    key = key[:klen]
    k = smbsign.EncryptionKey(name, key)
    assert k.cipher == cid and k.cipher_name == name
    want = by_hand(name, key, session_id, message, nonce[:nlen])
    assert smbsign.encrypt_message(k, session_id, message, nonce=nonce[:nlen]) == want
    assert smbsign.decrypt_message(k, want) == message
    # Our nonce source's messages decrypt with `cryptography` too.
    got = smbsign.encrypt_message(k, session_id, message)
    _, _, _, aead = CIPHERS[name]
    assert aead(key).decrypt(got[20 : 20 + nlen], got[52:] + got[4:20], got[20:52]) == message
    assert got[20 + nlen : 36] == bytes(16 - nlen)


@pytest.mark.parametrize("name", sorted(CIPHERS))
def test_equals_smbprotocol(name, monkeypatch):
    """smbprotocol's own Connection._encrypt/_decrypt (os.urandom pinned to our nonce)."""
    from smbprotocol import connection as conn_mod
    from smbprotocol.connection import Connection, Dialects, SMB2TransformHeader

    cid, klen, nlen, _ = CIPHERS[name]
    key = bytes(range(7, 7 + klen))
    k = smbsign.EncryptionKey(name, key)

    class Session:
        session_id = 0x0000100000000025
        encryption_key = key
        decryption_key = key

    c = Connection.__new__(Connection)
    c.dialect = Dialects.SMB_3_1_1
    c.cipher_id = cid
    c.session_table = {Session.session_id: Session()}
    for n, message in enumerate([b"\xfeSMB" + bytes(60), bytes(range(256)) * 40, bytes(range(65))]):
        nonce = bytes([n + 1]) * nlen
        monkeypatch.setattr(conn_mod.os, "urandom", lambda size, nonce=nonce: nonce[:size])
        theirs = c._encrypt(message, Session()).pack()
        ours = smbsign.encrypt_message(k, Session.session_id, message, nonce=nonce)
        assert ours == theirs
        # Each side decrypts the other's.
        header = SMB2TransformHeader()
        header.unpack(smbsign.encrypt_message(k, Session.session_id, message))
        assert c._decrypt(header) == message
        assert smbsign.decrypt_message(k, theirs) == message


def test_equals_impacket():
    """impacket's SMB3 client construction: pycryptodome AES-128-CCM over its
    SMB2_TRANSFORM_HEADER, the 11-byte nonce in the 16-byte field."""
    from Cryptodome.Cipher import AES
    from impacket.smb3structs import SMB2_ENCRYPTION_AES128_CCM, SMB2_TRANSFORM_HEADER

    key = bytes(range(16))
    k = smbsign.EncryptionKey(smbsign.AES_128_CCM, key)
    for message in [b"\xfeSMB" + bytes(100), bytes(range(256)) * 3]:
        th = SMB2_TRANSFORM_HEADER()
        th["Nonce"] = b"ABCDEFGHIJK" + bytes(5)
        th["OriginalMessageSize"] = len(message)
        th["EncryptionAlgorithm"] = SMB2_ENCRYPTION_AES128_CCM
        th["SessionID"] = 0x1234
        cipher = AES.new(key, AES.MODE_CCM, th["Nonce"][:11])
        cipher.update(th.getData()[20:])
        ct = cipher.encrypt(message)
        th["Signature"] = cipher.digest()
        theirs = th.getData() + ct
        assert smbsign.encrypt_message(k, 0x1234, message, nonce=b"ABCDEFGHIJK") == theirs
        assert smbsign.decrypt_message(k, theirs) == message


def test_compound_chain_round_trip():
    """Three PDUs linked by NextCommand in one transform; the chain comes back intact."""
    pdus = []
    for i, body in enumerate([24, 100, 9]):
        p = bytearray(b"\xfeSMB" + bytes(60) + bytes(range(body)))
        p[4] = 64
        pdus.append(p)
    chain = bytearray()
    for i, p in enumerate(pdus):
        if i < len(pdus) - 1:
            p += bytes(-len(p) % 8)
            p[20:24] = struct.pack("<I", len(p))
        chain += p
    k = smbsign.EncryptionKey("aes-256-gcm", bytes(32))
    data = smbsign.encrypt_message(k, 77, chain)
    assert struct.unpack_from("<I", data, 36)[0] == len(chain)
    assert smbsign.decrypt_message(k, data) == chain


def test_errors_leave_buffers_untouched():
    k = smbsign.EncryptionKey("aes-128-gcm", bytes(16))
    good = smbsign.encrypt_message(k, 1, b"\xfeSMB hello" + bytes(54))
    for pos in range(4, len(good)):
        bad = bytearray(good)
        bad[pos] ^= 1
        before = bytes(bad)
        with pytest.raises(ValueError):
            smbsign.decrypt_message(k, bad)
        with pytest.raises(ValueError):
            smbsign.decrypt_in_place(k, bad)
        assert bad == before
    with pytest.raises(ValueError, match="authentication tag"):
        smbsign.decrypt_message(smbsign.EncryptionKey("aes-128-gcm", bytes([1]) * 16), good)
    with pytest.raises(ValueError, match="FD 'SMB'"):
        smbsign.decrypt_message(k, b"\xfeSMB" + good[4:])
    with pytest.raises(ValueError, match="Flags"):
        smbsign.decrypt_message(k, good[:42] + b"\x02\x00" + good[44:])
    with pytest.raises(ValueError, match="OriginalMessageSize"):
        smbsign.decrypt_message(k, good[:-1])
    with pytest.raises(ValueError, match="52-byte"):
        smbsign.decrypt_message(k, good[:52])
    with pytest.raises(ValueError):
        smbsign.transform_session_id(good[:51])
    for short in (b"", b"x", bytes(63)):
        with pytest.raises(ValueError, match="shorter than the 64-byte SMB2 header"):
            smbsign.encrypt_message(k, 1, short)
    short_buf = bytearray(52 + 63)
    with pytest.raises(ValueError, match="shorter than the 64-byte SMB2 header"):
        smbsign.encrypt_in_place(k, 1, short_buf)
    assert short_buf == bytearray(52 + 63)
    # OriginalMessageSize below 64, with that many bytes after the header.
    tiny = good[:36] + struct.pack("<I", 63) + good[40:52 + 63]
    with pytest.raises(ValueError, match="OriginalMessageSize 63 is below the 64-byte SMB2 header"):
        smbsign.decrypt_message(k, tiny)
    with pytest.raises(ValueError, match="nonce"):
        smbsign.encrypt_message(k, 1, b"x", nonce=bytes(11))
    with pytest.raises(TypeError):
        smbsign.decrypt_in_place(k, bytes(good))
    with pytest.raises(TypeError):
        smbsign.encrypt_message(k, True, b"x")
    with pytest.raises(ValueError):
        smbsign.encrypt_message(k, -1, b"x")
    with pytest.raises(ValueError):
        smbsign.encrypt_message(k, 2**64, b"x")
    small = bytearray(51)
    with pytest.raises(ValueError):
        smbsign.encrypt_in_place(k, 1, small)
    assert small == bytearray(51)
    with pytest.raises(ValueError, match="unknown cipher"):
        smbsign.EncryptionKey("aes-192-gcm", bytes(24))
    for bad_id in (0, 5, -1, 2**70):
        with pytest.raises(ValueError):
            smbsign.EncryptionKey(bad_id, bytes(16))
    with pytest.raises(TypeError):
        smbsign.EncryptionKey(True, bytes(16))
    with pytest.raises(ValueError, match="key must be 32 bytes"):
        smbsign.EncryptionKey("aes-256-ccm", bytes(16))


def test_nonce_source_unique_across_threads():
    k = smbsign.EncryptionKey("aes-128-ccm", bytes(16))
    seen, lock = [], threading.Lock()

    def work():
        mine = [smbsign.encrypt_message(k, 5, b"\xfeSMB" + bytes(60))[20:36] for _ in range(500)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 2000
    # The counter: bytes 0..8 little-endian, each value once; fixed field shared; padding zero.
    # (a new key's counter starts at random, below 2^63)
    counters = sorted(int.from_bytes(n[:8], "little") for n in seen)
    start = counters[0]
    assert start < 2**63 and counters == list(range(start, start + 2000))
    assert len({n[8:11] for n in seen}) == 1 and all(n[11:] == bytes(5) for n in seen)
    nxt = k.next_nonce()
    assert int.from_bytes(nxt[:8], "little") == start + 2000 and nxt[8:11] == seen[0][8:11]
    assert repr(k) == 'EncryptionKey("aes-128-ccm")'
    # The keywords are the documented ones.
    assert smbsign.EncryptionKey(cipher="aes-128-gcm", key=bytes(16)).cipher == smbsign.AES_128_GCM


def test_cipher_for_dialect():
    assert smbsign.cipher_for_dialect(0x0300) == smbsign.AES_128_CCM
    assert smbsign.cipher_for_dialect(0x0302, 4) == smbsign.AES_128_CCM  # 3.0.x has no CipherId
    for cid in (1, 2, 3, 4):
        assert smbsign.cipher_for_dialect(0x0311, cid) == cid
    for bad in (None, 0, 5, 2**16 + 1, -1):
        with pytest.raises(ValueError):
            smbsign.cipher_for_dialect(0x0311, bad)
    for dialect in (0x0202, 0x0210, -1, 2**70):
        with pytest.raises(ValueError):
            smbsign.cipher_for_dialect(dialect, 1)
    with pytest.raises(TypeError):
        smbsign.cipher_for_dialect(0x0311, True)


def test_exported_and_stubbed():
    import pathlib

    stub = (pathlib.Path(smbsign.__file__).parent / "__init__.pyi").read_text()
    for name in ("EncryptionKey", "encrypt_message", "decrypt_message", "encrypt_in_place",
                 "decrypt_in_place", "transform_session_id", "cipher_for_dialect", "AES_128_CCM", "AES_256_GCM",
                 "TRANSFORM_HEADER_LEN", "MIN_MESSAGE_LEN", "session_cipher_keys", "check_decrypted",
                 "clear_signatures", "must_be_encrypted", "encryption_exemption", "signature_applies"):
        assert name in smbsign.__all__ and hasattr(smbsign, name), name
        assert name in stub, name
    assert (smbsign.AES_128_CCM, smbsign.AES_128_GCM, smbsign.AES_256_CCM, smbsign.AES_256_GCM) == (1, 2, 3, 4)
    assert smbsign.TRANSFORM_HEADER_LEN == 52
    assert smbsign.MIN_MESSAGE_LEN == 64


@pytest.mark.parametrize("name", sorted(CIPHERS))
@pytest.mark.parametrize("length", [64, 1000, 70000])
def test_tampering_every_cipher_and_long_messages(name, length):
    """Every cipher (CCM too) and long messages: a flipped bit the tag covers
    is refused (a header field checked before the tag too), and the buffer is
    left exactly as it was (F9)."""
    _, klen, _, _ = CIPHERS[name]
    k = smbsign.EncryptionKey(name, bytes(range(1, 1 + klen)))
    msg = bytes((i * 7) & 0xFF for i in range(length))
    good = smbsign.encrypt_message(k, 0x77, msg)
    positions = list(range(4, 52 + 16)) + list(range(52 + 16, len(good) - 16, 1 if length <= 1000 else 997))
    positions += list(range(len(good) - 16, len(good)))
    for pos in positions:
        bad = bytearray(good)
        bad[pos] ^= 1 << (pos % 8)
        before = bytes(bad)
        with pytest.raises(ValueError):
            smbsign.decrypt_in_place(k, bad)
        assert bad == before, pos
        with pytest.raises(ValueError):
            smbsign.decrypt_message(k, before)
    assert smbsign.decrypt_message(k, good) == msg


def _pdu(command, flags, session_id, body=b""):
    p = bytearray(b"\xfeSMB" + bytes(60)) + body
    p[4] = 64
    p[12:14] = struct.pack("<H", command)
    p[16:20] = struct.pack("<I", flags)
    p[40:48] = struct.pack("<Q", session_id)
    return p


def test_session_cipher_keys_applies_the_aes256_rule():
    """F6: core's session_cipher_keys, bound: the whole key for AES-256, its
    first 16 bytes otherwise; smb311_keys refuses cipher_key_len=32 without
    full_session_key instead of silently deriving from the 16-byte key."""
    full, h = bytes(range(32)), bytes(range(0x40, 0x80))
    for cid in (1, 2, 3, 4):
        got = smbsign.session_cipher_keys(0x0311, cid, full, h)
        n = 32 if cid >= 3 else 16
        want = smbsign.smb311_keys(full[:16], h, cipher_key_len=n, full_session_key=full)
        assert got == want and len(got["client_to_server"]) == n, cid
    assert smbsign.session_cipher_keys(0x0311, "aes-256-gcm", full, h) == smbsign.session_cipher_keys(0x0311, 4, full, h)
    assert smbsign.session_cipher_keys(0x0300, "aes-128-ccm", full) == smbsign.smb30_keys(full[:16])
    with pytest.raises(ValueError, match="full_session_key"):
        smbsign.smb311_keys(full[:16], h, cipher_key_len=32)
    with pytest.raises(ValueError, match="CipherId 2 is not available"):
        smbsign.session_cipher_keys(0x0302, 2, full)
    with pytest.raises(ValueError, match="preauth_hash"):
        smbsign.session_cipher_keys(0x0311, 1, full)
    with pytest.raises(ValueError):
        smbsign.session_cipher_keys(0x0210, 1, full)
    with pytest.raises(ValueError):
        smbsign.session_cipher_keys(0x0311, "aes-192-gcm", full, h)
    for bad in (-1, 2**16, 2**70):
        with pytest.raises(ValueError):
            smbsign.session_cipher_keys(bad, 1, full, h)
    with pytest.raises(TypeError):
        smbsign.session_cipher_keys(True, 1, full, h)
    with pytest.raises(TypeError):
        smbsign.session_cipher_keys(0x0311, 1, full, "a" * 64)
    with pytest.raises(ValueError):
        smbsign.session_cipher_keys(0x0311, 1, full, h[:63])


def test_encryption_rules():
    """F20: the encryption rules are core's, bound."""
    read = _pdu(0x0008, 0, 7, bytes(48))
    assert smbsign.must_be_encrypted(read, 7, True) is True
    assert smbsign.must_be_encrypted(read, 7, False) is False
    assert smbsign.must_be_encrypted(read, 0, True) is False
    assert smbsign.encryption_exemption(read, 0) == "no_session"
    assert smbsign.encryption_exemption(_pdu(0x0000, 0, 7, bytes(36)), 7) == "negotiate"
    bind = _pdu(0x0001, 0, 7, bytes(24))
    bind[66] = 0x01
    assert smbsign.encryption_exemption(bind, 7) == "session_binding"
    assert smbsign.encryption_exemption(read, 7) is None
    with pytest.raises(ValueError):
        smbsign.must_be_encrypted(read[:63], 7, True)
    assert smbsign.signature_applies(False) is True and smbsign.signature_applies(True) is False
    # An encrypted message goes unsigned: flag cleared, signature zeroed, in every PDU.
    chain = _pdu(0x0008, 0x08, 7, bytes(16))
    chain[20:24] = struct.pack("<I", 80)
    chain += _pdu(0x0008, 0x08 | 0x04, 2**64 - 1)
    chain[48:64] = chain[128:144] = b"\x5a" * 16
    smbsign.clear_signatures(chain)
    assert chain[16] == 0 and chain[96] == 0x04 and chain[48:64] == bytes(16) and chain[128:144] == bytes(16)
    with pytest.raises(TypeError):
        smbsign.clear_signatures(bytes(chain))
    # A receiver's checks after decryption.
    smbsign.check_decrypted(7, chain)
    with pytest.raises(ValueError, match="not the TRANSFORM_HEADER's 0x8"):
        smbsign.check_decrypted(8, chain)
    chain[80 + 16] = 0  # no longer related: its own SessionId (all ones) must match
    with pytest.raises(ValueError, match="offset 80"):
        smbsign.check_decrypted(7, chain)
    with pytest.raises(ValueError, match="itself a transform message"):
        smbsign.check_decrypted(7, b"\xfdSMB" + bytes(60))
    # Through a real transform: decrypted, then checked against its header.
    k = smbsign.EncryptionKey("aes-128-gcm", bytes(16))
    wire = smbsign.encrypt_message(k, 9, bytes(read))
    with pytest.raises(ValueError, match="not the TRANSFORM_HEADER's"):
        smbsign.check_decrypted(smbsign.transform_session_id(wire), smbsign.decrypt_message(k, wire))


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(CIPHERS)),
            st.binary(min_size=64, max_size=1500),
            st.integers(0, 2**64 - 1),
            st.binary(min_size=12, max_size=12),
        ),
        min_size=1,
        max_size=70,
    ),
    st.integers(0, 2**32),
)
def test_batches_equal_by_hand_and_tampered_members_fail_alone(specs, seed):
    keys = {name: bytes((seed + i) % 256 for i in range(CIPHERS[name][1])) for name in CIPHERS}
    ek = {name: smbsign.EncryptionKey(name, keys[name]) for name in CIPHERS}
    bufs = [bytearray(52) + msg for _, msg, _, _ in specs]
    jobs = [
        (ek[name], sid, buf, nonce[: CIPHERS[name][2]])
        for (name, _, sid, nonce), buf in zip(specs, bufs)
    ]
    assert smbsign.encrypt_batch(jobs) == [None] * len(specs)
    for (name, msg, sid, nonce), buf in zip(specs, bufs):
        assert bytes(buf) == by_hand(name, keys[name], sid, msg, nonce[: CIPHERS[name][2]])
    tampered = set(range(seed % 5, len(specs), 5))
    for i in tampered:
        bufs[i][-1] ^= 1
    sent = [bytes(b) for b in bufs]
    results = smbsign.decrypt_batch([(ek[name], buf) for (name, _, _, _), buf in zip(specs, bufs)])
    for i, ((_, msg, _, _), buf, r) in enumerate(zip(specs, bufs, results)):
        if i in tampered:
            assert isinstance(r, ValueError)
            assert bytes(buf) == sent[i], "a refused member holds its ciphertext"
        else:
            assert r is None
            assert bytes(buf[52:]) == msg


def test_batch_refusals():
    k = smbsign.EncryptionKey("aes-128-ccm", bytes(16))
    first = int.from_bytes(k.next_nonce()[:8], "little") + 1
    short, empty, ok = bytearray(51), bytearray(52), bytearray(52) + b"message".ljust(64, b".")
    results = smbsign.encrypt_batch([(k, 1, short), (k, 2, empty), (k, 3, ok), (k, 4, bytearray(60), b"bad")])
    assert [r is None for r in results] == [False, False, True, False]
    assert all(isinstance(r, ValueError) for r in results if r is not None)
    assert short == bytearray(51) and empty == bytearray(52)
    # Only the encrypted job spent a nonce.
    assert smbsign.transform_session_id(ok) == 3
    assert int.from_bytes(bytes(ok[20:28]), "little") == first
    assert int.from_bytes(k.next_nonce()[:8], "little") == first + 1
    shared = bytearray(200)
    with pytest.raises(ValueError, match="overlap"):
        smbsign.encrypt_batch([(k, 1, memoryview(shared)[:100]), (k, 2, memoryview(shared)[50:])])
    assert shared == bytearray(200)
    with pytest.raises(TypeError):
        smbsign.encrypt_batch([(k, 1, b"read-only" * 10)])
    with pytest.raises(TypeError):
        smbsign.decrypt_batch([(k,)])
    with pytest.raises(TypeError):
        smbsign.decrypt_batch([(smbsign.SigningKey(smbsign.AES_CMAC, bytes(16)), bytearray(60))])
    assert smbsign.encrypt_batch([]) == [] and smbsign.decrypt_batch([]) == []
    r = smbsign.decrypt_batch([(k, bytearray(b"\xfdSMB" + bytes(60)))])
    assert isinstance(r[0], ValueError)
