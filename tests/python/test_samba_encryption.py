"""Proves encrypted sessions through smbsign.contrib.smbprotocol against Debian's
smbd with `server smb encrypt = required`: for SMB 3.0.2 (AES-128-CCM) and for
each 3.1.1 cipher, smbprotocol negotiates, authenticates, writes and reads back
a file with every message after SESSION_SETUP encrypted and decrypted by
smbsign (counted), and smbd refuses a request whose tag smbsign's output had
tampered with."""

import os

import pytest

pytest.importorskip("smbprotocol")

from smbd_server import USER, PASSWORD, open_file, running_smbd  # noqa: E402
from smbsign.contrib import smbprotocol as contrib  # noqa: E402


@pytest.fixture(scope="module")
def encrypting_smbd():
    with running_smbd("    server smb encrypt = required\n") as (port, _share):
        yield port


@pytest.fixture
def installed():
    contrib.install()
    contrib.reset_stats()
    yield contrib.STATS
    contrib.uninstall()


def session(port, dialect, cipher):
    import uuid

    from smbprotocol.connection import Connection
    from smbprotocol.session import Session

    conn = Connection(uuid.uuid4(), "127.0.0.1", port, require_signing=True)
    conn.connect(dialect=dialect, preferred_encryption_algos=[cipher] if cipher else None)
    s = Session(conn, USER, PASSWORD, require_encryption=True)
    s.connect()
    return conn, s


CASES = [("3.0.2", 0x0302, None, 1), ("aes-128-ccm", 0x0311, 1, 1), ("aes-128-gcm", 0x0311, 2, 2),
         ("aes-256-ccm", 0x0311, 3, 3), ("aes-256-gcm", 0x0311, 4, 4)]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_encrypted_session_against_smbd(encrypting_smbd, installed, case):
    name, dialect, cipher, want = case
    conn, s = session(encrypting_smbd, dialect, cipher)
    try:
        assert conn.dialect == dialect
        if dialect == 0x0311:
            assert conn.cipher_id == want
        assert s.encrypt_data
        tree, f = open_file(s, encrypting_smbd, f"enc-{name}.bin")
        data = os.urandom(200_000)
        f.write(data, 0)
        assert f.read(0, len(data)) == data
        f.close()
        tree.disconnect()
    finally:
        s.disconnect()
        conn.disconnect()
    # Tree connect, create, write(s), read(s), close, tree disconnect, logoff: each way.
    assert installed["encrypted"] >= 7, installed
    assert installed["decrypted"] >= 7, installed
    assert installed["decrypt_failed"] == 0, installed
    print(f"{name}: {installed}")


def test_tampered_request_is_refused_by_smbd(encrypting_smbd, installed):
    """A bit of the next encrypted request's ciphertext flipped after smbsign sealed
    it: smbd must refuse it (MS-SMB2 3.3.5.2.1.1: it disconnects), so the tree
    connect fails with the connection closed."""
    from smbprotocol.connection import Connection
    from smbprotocol.exceptions import SMBConnectionClosed
    from smbprotocol.tree import TreeConnect

    conn, s = session(encrypting_smbd, 0x0311, 2)
    sealed = Connection._encrypt
    state = {"armed": True}

    def tampering(self, b_data, sess):
        h = sealed(self, b_data, sess)
        if state["armed"]:
            state["armed"] = False
            d = bytearray(h["data"].get_value())
            d[-1] ^= 1
            h["data"] = bytes(d)
        return h

    Connection._encrypt = tampering
    try:
        with pytest.raises(SMBConnectionClosed):
            TreeConnect(s, r"\\127.0.0.1\share").connect(require_secure_negotiate=False)
    finally:
        Connection._encrypt = sealed
        conn.disconnect()
    assert not state["armed"] and installed["encrypted"] >= 1
