"""Proves smbsign.check_capture (smbsign-check's library through the extension)
on the committed Samba capture fixtures: every signed PDU valid with the
password and with the fixture's independently computed session keys, every one
invalid with a wrong password; the encrypted fixtures decrypt (each cipher) and
without keys are reported not decrypted; bad files raise OSError / ValueError."""

import pathlib

import pytest

import smbsign

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "capture" / "tests" / "fixtures"
PASSWORD = "Sm8sign-Test!"


def keys(name):
    out = {}
    for line in (FIXTURES / name).read_text().splitlines():
        sid, key = line.split(":")
        out[int(sid, 16)] = bytes.fromhex(key)
    return out


@pytest.mark.parametrize("name,algorithm", [("smb311-gmac", "aes-gmac"), ("smb302-cmac", "aes-cmac"),
                                            ("smb202-hmac-sll2", "hmac-sha256")])
def test_fixture_verifies(name, algorithm):
    report = smbsign.check_capture(FIXTURES / f"{name}.pcap", password=PASSWORD)
    signed = [m for m in report["messages"] if m["verdict"] != "unsigned"]
    assert report["summary"]["all_valid"] and len(signed) >= 40
    assert report["summary"]["exit_status"] == 0 and report["summary"]["not_checked"] == []
    assert all(m["verdict"] == "valid" and m["algorithm"] == algorithm for m in signed)
    by_key = smbsign.check_capture(str(FIXTURES / f"{name}.pcap"), session_keys=keys(f"{name}.keys"))
    assert [m["verdict"] for m in by_key["messages"]] == [m["verdict"] for m in report["messages"]]
    wrong = smbsign.check_capture(FIXTURES / f"{name}.pcap", password=PASSWORD + "!")
    assert not wrong["summary"]["all_valid"] and wrong["summary"]["exit_status"] == 1
    assert all(m["verdict"] == "INVALID" for m in wrong["messages"] if m["verdict"] != "unsigned")
    assert len([m for m in wrong["messages"] if m["verdict"] == "INVALID"]) == len(signed)


@pytest.mark.parametrize("name,cipher", [("smb302-ccm128", "aes-128-ccm"), ("smb311-ccm128", "aes-128-ccm"),
                                         ("smb311-gcm128", "aes-128-gcm"), ("smb311-ccm256", "aes-256-ccm"),
                                         ("smb311-gcm256", "aes-256-gcm")])
def test_encrypted_fixture_decrypts(name, cipher):
    report = smbsign.check_capture(FIXTURES / f"{name}.pcap", password=PASSWORD)
    assert report["summary"]["exit_status"] == 0 and report["summary"]["not_checked"] == []
    inside = [m for m in report["messages"] if m["verdict"] == "decrypted"]
    assert len(inside) >= 20 and all(m["cipher"] == cipher for m in inside)
    assert report["summary"]["decrypted"] == len(inside) and report["summary"]["NONCE-REUSED"] == 0
    by_key = smbsign.check_capture(FIXTURES / f"{name}.pcap", session_keys=keys(f"{name}.keys"))
    assert [m["verdict"] for m in by_key["messages"]] == [m["verdict"] for m in report["messages"]]
    none = smbsign.check_capture(FIXTURES / f"{name}.pcap")
    assert len([m for m in none["messages"] if m["verdict"] == "encrypted"]) == len(inside)


def test_bad_files(tmp_path):
    with pytest.raises(OSError):
        smbsign.check_capture(tmp_path / "missing.pcap")
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"not a capture at all")
    with pytest.raises(ValueError):
        smbsign.check_capture(junk)
