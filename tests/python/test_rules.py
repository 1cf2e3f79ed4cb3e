"""Proves the SMB2 rules through the extension: the Header view reads each
field where MS-SMB2 2.2.1 puts it, the nonce rule from fields equals the one
from the header, related operations inherit their session, each signing
exemption and its near miss, Session.SigningRequired's inputs, and bad input
raising TypeError/ValueError."""

import struct

import pytest

import smbsign

RESPONSE, ASYNC, RELATED, SIGNED = 0x1, 0x2, 0x4, 0x8


def pdu(command=5, flags=0, status=0, message_id=1, session_id=0x55, body=b"\x00" * 8, next_command=0):
    h = b"\xfeSMB" + struct.pack("<HHIHHIIQ", 64, 1, status, command, 3, flags, next_command, message_id)
    h += struct.pack("<Q", 0xAAAA) + struct.pack("<Q", session_id) + bytes(range(16))
    return h + body


def chain(*pdus):
    out = b""
    for i, p in enumerate(pdus):
        if i + 1 < len(pdus):
            p += b"\x00" * (-len(p) % 8)
            p = p[:20] + struct.pack("<I", len(p)) + p[24:]
        out += p
    return out


def test_header_fields():
    h = smbsign.Header(pdu(command=8, flags=RESPONSE | ASYNC | SIGNED, status=0x103, message_id=77, session_id=9))
    assert (h.command, h.status, h.flags, h.message_id, h.session_id) == (8, 0x103, RESPONSE | ASYNC | SIGNED, 77, 9)
    assert (h.async_id, h.tree_id, h.credit, h.next_command) == (0xAAAA, None, 3, 0)
    assert h.signature == bytes(range(16))
    assert h.is_response and h.is_async and h.is_signed and not h.is_related
    sync = smbsign.Header(pdu())
    assert (sync.async_id, sync.tree_id) == (None, 0)
    assert smbsign.header_for_mac(pdu())[48:] == bytes(16)
    with pytest.raises(ValueError):
        smbsign.Header(pdu()[:63])
    with pytest.raises(ValueError):
        smbsign.Header(b"\xfdSMB" + pdu()[4:])
    with pytest.raises(TypeError):
        smbsign.Header("not bytes")


def test_nonce_rule_from_fields():
    for command, response in [(5, False), (5, True), (0x0C, False), (0x0C, True)]:
        p = pdu(command=command, flags=RESPONSE if response else 0, message_id=0x0102030405060708)
        assert smbsign.gmac_nonce_for(0x0102030405060708, response, command) == smbsign.gmac_nonce(p)
        assert smbsign.Header(p).gmac_nonce() == smbsign.gmac_nonce(p)
    assert smbsign.gmac_nonce_for(1, True, 0x0C)[8:] == b"\x03\x00\x00\x00"
    with pytest.raises(ValueError):
        smbsign.gmac_nonce_for(2**64, False, 5)
    with pytest.raises(ValueError):
        smbsign.gmac_nonce_for(1, False, 0x10000)
    with pytest.raises(TypeError):
        smbsign.gmac_nonce_for(1.0, False, 5)


def test_related_operations_inherit_their_session():
    c = chain(pdu(session_id=0xA), pdu(flags=RELATED, session_id=0xFFFFFFFFFFFFFFFF), pdu(session_id=0xB),
              pdu(flags=RELATED, session_id=0xC))
    assert smbsign.verifying_session_ids(c) == [0xA, 0xA, 0xB, 0xB]
    with pytest.raises(ValueError):
        smbsign.verifying_session_ids(c[:-40] + b"\x00" * 3)


def test_exemptions_and_near_misses():
    sid = 0x55
    cases = [
        (pdu(command=0), "negotiate"),
        (pdu(session_id=0), "no_session"),
        (pdu(command=1), "session_setup"),
        (pdu(command=1, flags=RESPONSE, status=0xC0000016), "session_setup"),
        (pdu(command=1, flags=RESPONSE, body=b"\x09\x00\x01\x00" + bytes(4)), "guest_or_anonymous"),
        (pdu(command=1, flags=RESPONSE, body=b"\x09\x00\x00\x00" + bytes(4)), None),
        (pdu(flags=RESPONSE | ASYNC, status=0x103), "interim"),
        (pdu(flags=RESPONSE, status=0x103), None),
        (pdu(command=0x12, flags=RESPONSE, message_id=2**64 - 1), "break_notification"),
        (pdu(flags=RESPONSE, message_id=2**64 - 1), None),
        (pdu(flags=RESPONSE, status=0xC0000203), "session_deleted"),
        (pdu(flags=RESPONSE, status=0xC000035C), None),
        (pdu(command=0x0C), None),
    ]
    for p, want in cases:
        sid_of = smbsign.Header(p).session_id
        assert smbsign.signing_exemption(p, sid_of) == want, (p[:24].hex(), want)
        assert smbsign.must_be_signed(p, sid_of, True) == (want is None)
        assert not smbsign.must_be_signed(p, sid_of, False)
    assert smbsign.skips_verification(pdu(flags=RESPONSE | ASYNC, status=0x103), sid)
    assert not smbsign.skips_verification(pdu(flags=RESPONSE, status=0xC0000203), sid)
    with pytest.raises(ValueError):
        smbsign.must_be_signed(b"\xfeSMB", sid, True)
    with pytest.raises(TypeError):
        smbsign.must_be_signed(pdu(), True, True)


def test_signing_required_inputs():
    assert not smbsign.session_requires_signing()
    assert not smbsign.session_requires_signing(1, 1, 1)
    assert smbsign.session_requires_signing(negotiate_request=2)
    assert smbsign.session_requires_signing(negotiate_response=3)
    assert smbsign.session_requires_signing(session_setup_request=2)
