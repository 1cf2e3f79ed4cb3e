"""Proves the Python API's contract: in-place signing of bytearray/memoryview,
compound chains, every bad input raising TypeError or ValueError with a message
(buffers untouched), hashlib-style attributes, and backend_info."""

import pytest

import smbsign

KEY = bytes(range(16))


def pdu(body=b"payload", next_command=0, message_id=1):
    h = bytearray(64)
    h[0:4] = b"\xfeSMB"
    h[4] = 64
    h[20:24] = next_command.to_bytes(4, "little")
    h[24:32] = message_id.to_bytes(8, "little")
    return h + bytearray(body)


@pytest.mark.parametrize("alg", [0, 1, 2, "hmac-sha256", "aes-cmac", "aes-gmac"])
def test_sign_verify_in_place(alg):
    k = smbsign.SigningKey(alg, KEY)
    buf = pdu(b"x" * 100)
    smbsign.sign_pdu(k, buf)
    assert smbsign.verify_pdu(k, buf) and k.verify_pdu(bytes(buf))
    mv = memoryview(bytearray(pdu(b"x" * 100)))
    k.sign_pdu(mv)
    assert bytes(mv) == bytes(buf)
    buf[70] ^= 1
    assert smbsign.verify_pdu(k, buf) is False


def test_compound_chain():
    k = smbsign.SigningKey(smbsign.AES_GMAC, KEY)
    first = pdu(b"a" * 20, next_command=88)
    first += bytearray(88 - len(first))
    chain = first + pdu(b"b" * 30, message_id=2)
    smbsign.sign_pdu(k, chain)
    assert smbsign.verify_pdu(k, chain)
    assert chain[16] & 8 and chain[88 + 16] & 8
    single = pdu(b"b" * 30, message_id=2)
    smbsign.sign_pdu(k, single)
    assert chain[88 + 48:88 + 64] == single[48:64]


def test_errors_are_typed_and_leave_buffers_untouched():
    k = smbsign.SigningKey(1, KEY)
    with pytest.raises(TypeError, match="read-only"):
        smbsign.sign_pdu(k, bytes(pdu()))
    with pytest.raises(TypeError, match="bytes-like"):
        smbsign.sign_pdu(k, "not bytes")
    with pytest.raises(TypeError):
        smbsign.aes_cmac(KEY, 12345)
    for bad, msg in [(bytearray(10), "fewer than the 64-byte"), (bytearray(b"\x00" * 80), "FE 'SMB'"),
                     (pdu(b"z" * 40, next_command=12), "NextCommand")]:
        before = bytes(bad)
        with pytest.raises(ValueError, match=msg):
            smbsign.sign_pdu(k, bad)
        assert bytes(bad) == before
        with pytest.raises(ValueError):
            smbsign.verify_pdu(k, bad)
    with pytest.raises(ValueError, match="16 bytes"):
        smbsign.SigningKey(1, b"short")
    with pytest.raises(ValueError, match="must be 16 bytes"):
        smbsign.aes_cmac(b"k" * 15, b"")
    with pytest.raises(ValueError, match="must be 12 bytes"):
        smbsign.AesGmac(KEY, b"n" * 11)
    with pytest.raises(ValueError, match="unknown SMB2 SigningAlgorithmId 7"):
        smbsign.SigningKey(7, KEY)
    with pytest.raises(ValueError, match="unknown algorithm"):
        smbsign.SigningKey("md5", KEY)
    with pytest.raises(ValueError, match="12-byte nonce"):
        smbsign.SigningKey(2, KEY).mac(b"data")
    with pytest.raises(ValueError, match="takes none"):
        smbsign.SigningKey(1, KEY).mac(b"data", b"n" * 12)
    with pytest.raises(ValueError, match="dialect"):
        smbsign.algorithm_for_dialect(0x02FF)
    with pytest.raises(ValueError, match="output length"):
        smbsign.kdf(KEY, b"L", b"C", 0)
    with pytest.raises(ValueError, match="16 or 32"):
        smbsign.smb311_keys(KEY, bytes(64), cipher_key_len=24)
    with pytest.raises(ValueError, match="64 bytes"):
        smbsign.PreauthHash(b"short")
    unsigned = pdu()
    assert smbsign.verify_pdu(k, unsigned) is False


def test_dialects_and_attributes():
    assert smbsign.algorithm_for_dialect(0x0202) == smbsign.HMAC_SHA256
    assert smbsign.algorithm_for_dialect(0x0302) == smbsign.AES_CMAC
    assert smbsign.algorithm_for_dialect(0x0311) == smbsign.AES_CMAC
    assert smbsign.algorithm_for_dialect(0x0311, 2) == smbsign.AES_GMAC
    m = smbsign.AesCmac(KEY)
    assert (m.digest_size, m.block_size, m.name) == (16, 16, "aes-cmac")
    assert smbsign.HmacSha256(b"k").digest_size == 32
    info = smbsign.backend_info()
    assert info["tier"] in {"portable", "aesni", "avx2", "avx512", "armv8"}
    assert {"hmac-sha256", "aes-cmac", "aes-gmac"} <= set(info)
    assert isinstance(info["reason"], str) and info["reason"]
    assert {"hmac-sha256-batch", "aes-cmac-batch", "aes-gmac-batch"} <= set(info)
    k = smbsign.SigningKey("aes-gmac", KEY)
    assert (k.algorithm, k.algorithm_name) == (2, "aes-gmac")
    h = smbsign.PreauthHash()
    h2 = h.copy()
    h.update(b"x")
    assert h2.value == bytes(64) and h.value != bytes(64)
