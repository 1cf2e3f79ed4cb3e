"""Proves the Python API reproduces the published vectors (RFC 4493/SP 800-38B,
RFC 4231, NIST CAVP GCM and KBKDF, Microsoft's SMB 3.x keys and preauth chain)."""

import smbsign


def test_cmac(vectors):
    recs = vectors("cmac-aes128.txt")
    assert len(recs) == 4
    for r in recs:
        assert smbsign.aes_cmac(r["KEY"], r["MESSAGE"]) == r["OUTPUT"]
        m = smbsign.AesCmac(r["KEY"])
        m.update(r["MESSAGE"][:5])
        m.update(memoryview(r["MESSAGE"])[5:])
        assert m.digest() == r["OUTPUT"]
        assert m.hexdigest() == r["OUTPUT"].hex()


def test_gmac(vectors):
    recs = vectors("gmac-aes128-cavp.txt")
    assert len(recs) == 75
    for r in recs:
        assert smbsign.aes_gmac(r["Key"], r["IV"], r["AAD"]) == r["Tag"]
        assert smbsign.AesGmac(r["Key"], r["IV"], bytearray(r["AAD"])).digest() == r["Tag"]
        assert smbsign.SigningKey("aes-gmac", r["Key"]).mac(r["AAD"], r["IV"]) == r["Tag"]


def test_hmac(vectors):
    for r in vectors("hmac-sha256-rfc4231.txt"):
        assert smbsign.hmac_sha256(r["Key"], r["Msg"]) == r["MD"]
        assert smbsign.HmacSha256(r["Key"], r["Msg"]).digest() == r["MD"]


def test_kbkdf(vectors):
    recs = vectors("kbkdf-ctr-hmac-sha256.txt")
    assert len(recs) == 40
    for r in recs:
        assert smbsign.kbkdf_hmac_sha256(r["KI"], r["FixedInputData"], r["L"] // 8) == r["KO"]


def test_microsoft_keys_and_preauth(vectors):
    for r in vectors("smb-kdf-microsoft.txt"):
        if r["Dialect"] == b"\x03\x00":
            keys = smbsign.smb30_keys(r["SessionKey"])
        else:
            keys = smbsign.smb311_keys(r["SessionKey"], r["PreauthHash"])
        for field, name in [("SigningKey", "signing"), ("ApplicationKey", "application"),
                            ("ClientToServer", "client_to_server"), ("ServerToClient", "server_to_client")]:
            if r[field]:
                assert keys[name] == r[field], field
    h = smbsign.PreauthHash()
    assert h.value == bytes(64)
    for r in vectors("preauth-smb311-microsoft.txt"):
        h.update(r["Message"])
        assert h.value == r["Hash"]
