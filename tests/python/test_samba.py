"""Proves interop with a real Samba smbd (server signing = mandatory): with
smbsign.contrib.smbprotocol installed, smbprotocol negotiates, authenticates
(NTLM), connects a tree, creates, writes, reads back and closes a file for
2.0.2, 2.1, 3.0.2 and 3.1.1 with AES-GMAC, AES-CMAC and HMAC-SHA256; smbsign
computes every outgoing signature, verifies every signed response and derives
every key (counted). A corrupted outgoing signature is refused by smbd with
STATUS_ACCESS_DENIED; a tampered signed response is refused by smbsign.
A related compound request (create + write + read + close in one frame) is
signed per PDU by smbsign and its compound response verified.
smbd runs in its own session on 127.0.0.1 at a free port and is stopped by PID.

With SMBSIGN_CAPTURE_DIR set, the signed frames of these sessions (as sent and
received on the wire, compound chains whole) are written there as fuzz seeds
(scripts/capture-fuzz-seeds.sh fills fuzz/seeds/ this way)."""

import os

import pytest

import smbsign
from smbsign.contrib import smbprotocol as contrib
from smbd_server import assert_corrupted_signature_refused, open_file, session_for

CAPTURE = os.environ.get("SMBSIGN_CAPTURE_DIR")


@pytest.fixture
def installed():
    contrib.install()
    contrib.reset_stats()
    yield contrib.STATS
    contrib.uninstall()


@pytest.fixture
def capture():
    """Records every frame sent or received; `save(session, algorithm)` writes
    the signed ones of that session as fuzz seeds when SMBSIGN_CAPTURE_DIR is set."""
    from smbprotocol.transport import Tcp

    frames = []
    send, recv = Tcp.send, Tcp.recv

    def sending(self, b_msg):
        frames.append(bytes(b_msg))
        return send(self, b_msg)

    def receiving(self, timeout):
        b = recv(self, timeout)
        frames.append(bytes(b))
        return b

    def save(session, algorithm, name):
        if not CAPTURE:
            return
        key = bytes(session.signing_key)
        sid = session.session_id.to_bytes(8, "little")
        n = 0
        for frame in frames:
            signed = len(frame) >= 64 and frame[16] & 0x08 and frame[40:48] == sid
            if signed and len(frame) <= 8192:
                write_seeds(CAPTURE, f"{name}-{n:02}", algorithm, key, frame)
                n += 1

    Tcp.send, Tcp.recv = sending, receiving
    yield save
    Tcp.send, Tcp.recv = send, recv


def write_seeds(root, name, algorithm, key, chain):
    """The fuzz targets' input formats (see fuzz/src/*.rs) around one captured
    chain and its session's signing key."""
    gmac = algorithm == smbsign.AES_GMAC
    seeds = [
        # algorithm, key, no segment lengths, tamper position, chain
        ("pdu_chain", "", bytes([algorithm]) + key + bytes(5) + chain),
        # C ABI: sign/verify contiguous (op 3) and as iovecs split at 64 (op 4)
        ("c_abi", "-contiguous", bytes([3, 0, algorithm]) + key + chain),
        ("c_abi", "-iov", bytes([4, 0, algorithm]) + key + bytes([1, 64]) + chain),
        # updates split at 64 and 80; HMAC key, AES key, nonce (unused by the PDU)
        ("backend_differential", "", bytes([2, 64, 16, 16]) + key + key + bytes(12) + chain),
        # a batch of one job: backend 0, key, tamper, algorithm, nonce, length, message
        ("batch", "", bytes([0]) + key + bytes(2) + bytes([algorithm]) + bytes(12)
         + (len(chain) % 2048).to_bytes(2, "little") + chain),
    ]
    if len(chain) >= 64 and int.from_bytes(chain[20:24], "little") == 0:
        # One PDU: the bytes its signature covers, for the incremental MACs
        # (updates split at 64 and 80).
        covered = bytearray(chain)
        covered[48:64] = bytes(16)
        nonce = smbsign.gmac_nonce(covered) if gmac else b""
        key_part = (bytes([16]) if algorithm == smbsign.HMAC_SHA256 else b"") + key
        seeds.append(("mac_incremental", "", bytes([algorithm, 2, 64, 16]) + bytes(4) + key_part + nonce + covered))
    for target, suffix, data in seeds:
        os.makedirs(os.path.join(root, target), exist_ok=True)
        with open(os.path.join(root, target, f"samba-{name}{suffix}"), "wb") as f:
            f.write(data)


def cases():
    from smbprotocol.connection import Dialects, SigningAlgorithms as S

    return [
        ("2.0.2", Dialects.SMB_2_0_2, None, smbsign.HMAC_SHA256),
        ("2.1", Dialects.SMB_2_1_0, None, smbsign.HMAC_SHA256),
        ("3.0.2", Dialects.SMB_3_0_2, None, smbsign.AES_CMAC),
        ("3.1.1-gmac", Dialects.SMB_3_1_1, [S.AES_GMAC], smbsign.AES_GMAC),
        ("3.1.1-cmac", Dialects.SMB_3_1_1, [S.AES_CMAC], smbsign.AES_CMAC),
        ("3.1.1-hmac", Dialects.SMB_3_1_1, [S.HMAC_SHA256], smbsign.HMAC_SHA256),
    ]


@pytest.mark.parametrize("case", range(6), ids=["2.0.2", "2.1", "3.0.2", "3.1.1-gmac", "3.1.1-cmac", "3.1.1-hmac"])
def test_session_against_smbd(smbd, installed, capture, case):
    name, dialect, algos, want_alg = cases()[case]
    conn, session = session_for(smbd, dialect, algos)
    try:
        assert conn.dialect == dialect
        negotiated = conn.signing_algorithm_id if dialect >= 0x0311 else None
        assert smbsign.algorithm_for_dialect(conn.dialect, negotiated) == want_alg
        tree, f = open_file(session, smbd, f"file-{name}.bin")
        data = os.urandom(60_000)  # under 2.0.2's 64 KiB max write
        f.write(data, 0)
        assert f.read(0, len(data)) == data
        f.close()
        tree.disconnect()
        capture(session, want_alg, name)
    finally:
        session.disconnect()
        conn.disconnect()
    # Tree connect, create, write, read, close, tree disconnect, logoff: all signed.
    assert installed["signed"] >= 6, installed
    assert installed["verified"] >= 6, installed
    assert installed["verify_failed"] == 0
    assert installed["kdf"] == (0 if dialect < 0x0300 else 4), installed
    print(f"{name}: {installed}")


@pytest.mark.parametrize("case", [2, 3, 5], ids=["3.0.2", "3.1.1-gmac", "3.1.1-hmac"])
def test_compound_request_against_smbd(smbd, installed, capture, case):
    from smbprotocol.open import (CreateDisposition, CreateOptions, FileAttributes, FilePipePrinterAccessMask,
                                  ImpersonationLevel, Open, ShareAccess)
    from smbprotocol.tree import TreeConnect

    name, dialect, algos, want_alg = cases()[case]
    conn, session = session_for(smbd, dialect, algos)
    try:
        tree = TreeConnect(session, rf"\\127.0.0.1\share")
        tree.connect()
        f = Open(tree, f"compound-{name}.bin")
        data = os.urandom(1500)
        messages = [
            f.create(ImpersonationLevel.Impersonation,
                     FilePipePrinterAccessMask.GENERIC_READ | FilePipePrinterAccessMask.GENERIC_WRITE,
                     FileAttributes.FILE_ATTRIBUTE_NORMAL, ShareAccess.FILE_SHARE_READ,
                     CreateDisposition.FILE_OVERWRITE_IF, CreateOptions.FILE_NON_DIRECTORY_FILE, send=False),
            f.write(data, 0, send=False),
            f.read(0, len(data), send=False),
            f.close(send=False),
        ]
        before = dict(installed)
        requests = conn.send_compound([m[0] for m in messages], session.session_id, tree.tree_connect_id,
                                      related=True)
        responses = [m[1](r) for m, r in zip(messages, requests)]
        assert responses[1] == len(data)
        assert responses[2] == data
        # Four request PDUs signed and four response PDUs verified, one frame each way.
        assert installed["signed"] - before["signed"] == 4, installed
        assert installed["verified"] - before["verified"] == 4, installed
        assert installed["verify_failed"] == 0
        tree.disconnect()
        capture(session, want_alg, f"compound-{name}")
    finally:
        session.disconnect()
        conn.disconnect()


def test_corrupted_request_signature_is_refused_by_smbd(smbd, installed):
    from smbprotocol.connection import Dialects, SigningAlgorithms

    conn, session = session_for(smbd, Dialects.SMB_3_1_1, [SigningAlgorithms.AES_GMAC])
    assert_corrupted_signature_refused(conn, session)


def test_tampered_response_is_refused_by_smbsign(smbd, installed):
    from smbprotocol.connection import Connection, Dialects, SigningAlgorithms
    from smbprotocol.exceptions import SMBException

    conn, session = session_for(smbd, Dialects.SMB_3_1_1, [SigningAlgorithms.AES_CMAC])
    tree, f = open_file(session, smbd, "tamper.bin")
    f.write(b"x" * 1000, 0)
    checker = Connection.verify_signature
    state = {"armed": True}

    def tampering(self, header, session_id, force=False):
        if state["armed"] and header["flags"].get_value() & 0x8:
            state["armed"] = False
            data = header["data"].get_value()
            header["data"] = data[:-1] + bytes([data[-1] ^ 0x01])
        return checker(self, header, session_id, force)

    Connection.verify_signature = tampering
    try:
        # smbprotocol's own exception and message (the adapter is transparent);
        # the counter proves smbsign made the verdict.
        with pytest.raises(SMBException, match="^Server message signature could not be verified: "):
            f.read(0, 1000)
        assert installed["verify_failed"] == 1
    finally:
        Connection.verify_signature = checker
        try:
            conn.disconnect()
        except Exception:  # noqa: BLE001 - the connection is deliberately broken
            pass
