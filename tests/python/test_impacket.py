"""Proves smbsign.contrib.impacket: with it installed, impacket (0.13) connects
to Debian's smbd (server signing = mandatory) over 2.0.2, 2.1, 3.0 and 3.1.1,
authenticates, copies files both ways (content compared), lists and deletes,
with every outgoing signature made by smbsign (counted against the signed
frames on the wire) and, with verify=True, every signed response verified; a
response altered in flight by a loopback proxy (one byte of a signed body, or
its SIGNED flag cleared) is refused, and goes unnoticed without the adapter's
verification; likewise an encrypted READ response altered in flight fails the
AES-CCM tag smbsign checks (impacket itself does not), and impacket's encrypted
requests are sealed by smbsign (pycryptodome's CCM object replaced in
impacket.smb3: same bytes and exceptions as pycryptodome on random sequences). impacket's own SimpleSMBServer with the adapter installed serves
Debian's smbclient with signing required (get and put), and a corrupted server
signature makes smbclient fail. Differential: for random packets, keys and
odd inputs, the adapter's signSMB, signSMBv2 and KDF_CounterMode give the same
bytes, side effects and exceptions as impacket's own functions."""

import io
import os
import random
import select
import socket
import subprocess
import sys
import tempfile
import threading
import types

import pytest

pytest.importorskip("impacket")

from impacket import crypto, nt_errors, ntlm, smb3, smbserver  # noqa: E402
from impacket import smb3structs as s  # noqa: E402
from impacket.smbconnection import SMBConnection, SessionError  # noqa: E402

import smbsign  # noqa: E402
from smbd_server import PASSWORD, REQUIRE, USER, free_port, running_smbd, wait_for_port  # noqa: E402
from smbsign.contrib import impacket as adapter  # noqa: E402

DIALECTS = {"2.0.2": s.SMB2_DIALECT_002, "2.1": s.SMB2_DIALECT_21, "3.0": s.SMB2_DIALECT_30,
            "3.1.1": s.SMB2_DIALECT_311}
ORIGINAL_SIGN = smb3.SMB3.signSMB
ORIGINAL_SIGN_V2 = smbserver.SMBSERVER.signSMBv2
ORIGINAL_KDF = crypto.KDF_CounterMode


@pytest.fixture(scope="module")
def signing_smbd():
    """smbd without encryption: impacket then signs (and is answered with
    signatures) in every dialect instead of encrypting 3.x sessions."""
    with running_smbd("    server smb encrypt = off") as served:
        yield served


@pytest.fixture
def verifying():
    adapter.install(verify=True)
    adapter.reset_stats()
    yield adapter.STATS
    adapter.uninstall()


@pytest.fixture
def wire():
    """Counts the SMB2 frames impacket sends and receives in the clear with SMB2_FLAGS_SIGNED."""
    from impacket import nmb

    counts = {"sent_signed": 0, "received_signed": 0}
    send, recv = nmb.NetBIOSTCPSession.send_packet, nmb.NetBIOSTCPSession.recv_packet

    def signed(frame):
        return frame[:4] == b"\xfeSMB" and frame[16] & s.SMB2_FLAGS_SIGNED

    def sending(self, data):
        counts["sent_signed"] += bool(signed(data))
        return send(self, data)

    def receiving(self, timeout=None):
        frame = recv(self, timeout)
        counts["received_signed"] += bool(signed(frame.get_trailer()))
        return frame

    nmb.NetBIOSTCPSession.send_packet, nmb.NetBIOSTCPSession.recv_packet = sending, receiving
    yield counts
    nmb.NetBIOSTCPSession.send_packet, nmb.NetBIOSTCPSession.recv_packet = send, recv


def connect(port, dialect):
    conn = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=port, preferredDialect=dialect)
    conn.login(USER, PASSWORD)
    return conn


@pytest.mark.parametrize("name", list(DIALECTS))
def test_session_against_smbd(signing_smbd, verifying, wire, name):
    port, share = signing_smbd
    dialect = DIALECTS[name]
    conn = connect(port, dialect)
    try:
        assert conn.getDialect() == dialect
        up = os.urandom(200_000)  # several writes under 2.0.2's 64 KiB
        conn.putFile("share", f"up-{name}.bin", io.BytesIO(up).read)
        with open(os.path.join(share, f"up-{name}.bin"), "rb") as f:
            assert f.read() == up
        down = os.urandom(150_000)
        with open(os.path.join(share, f"down-{name}.bin"), "wb") as f:
            f.write(down)
        got = io.BytesIO()
        conn.getFile("share", f"down-{name}.bin", got.write)
        assert got.getvalue() == down
        listed = {e.get_longname() for e in conn.listPath("share", "*")}
        assert {f"up-{name}.bin", f"down-{name}.bin"} <= listed
        conn.deleteFile("share", f"up-{name}.bin")
        conn.deleteFile("share", f"down-{name}.bin")
        assert not os.path.exists(os.path.join(share, f"up-{name}.bin"))
    finally:
        conn.logoff()
        conn.close()
    stats = dict(verifying)
    print(f"{name}: {stats} {wire}")
    # Every signed request on the wire was signed by smbsign, every signed
    # response verified by it: one per request, and the final SESSION_SETUP
    # response (its request goes out before the session has a key).
    assert stats["signed"] == wire["sent_signed"] > 10
    assert stats["verified"] == wire["received_signed"] == stats["signed"] + 1
    assert stats["verify_failed"] == stats["fallback"] == stats["encrypted_skipped"] == 0
    # 3.x: the signing key (impacket derives the cipher keys only when it encrypts).
    assert stats["kdf"] == (1 if dialect >= s.SMB2_DIALECT_30 else 0)


def test_encrypted_session_is_signed_by_smbsign(smbd, verifying):
    """Default smbd offers encryption: impacket signs and then encrypts 3.x
    requests; the decrypted responses are not checked (MS-SMB2 3.2.5.1.3)."""
    conn = connect(smbd, s.SMB2_DIALECT_311)
    try:
        data = os.urandom(100_000)
        conn.putFile("share", "enc.bin", io.BytesIO(data).read)
        got = io.BytesIO()
        conn.getFile("share", "enc.bin", got.write)
        assert got.getvalue() == data
    finally:
        conn.logoff()
        conn.close()
    assert verifying["signed"] > 5 and verifying["kdf"] == 4  # signing, application, two cipher keys
    assert verifying["encrypted_skipped"] > 5 and verifying["verified"] == 1  # the final SESSION_SETUP
    assert verifying["verify_failed"] == verifying["fallback"] == 0
    # Every encrypted response's AES-CCM tag checked by smbsign before impacket decrypted it.
    assert verifying["tag_verified"] >= verifying["encrypted_skipped"] and verifying["tag_failed"] == 0
    # And every encrypted request sealed by smbsign (smbd accepted them: the copy round-tripped).
    assert verifying["encrypted"] > 5


class TamperingProxy:
    """A loopback TCP proxy in front of smbd that, once armed, alters the next
    signed SMB2 READ response: `flip` inverts its last byte (the last byte of
    the data read), `strip` clears its SIGNED flag and zeroes its signature."""

    def __init__(self, target_port):
        self.target = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.mode = None
        self.altered = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        client, _ = self.listener.accept()
        server = socket.create_connection(("127.0.0.1", self.target))
        pending = b""
        with client, server:
            while True:
                ready, _, _ = select.select([client, server], [], [], 30)
                if not ready:
                    return
                for sock in ready:
                    chunk = sock.recv(1 << 20)
                    if not chunk:
                        return
                    if sock is client:
                        server.sendall(chunk)
                        continue
                    pending += chunk
                    while len(pending) >= 4 and len(pending) >= 4 + int.from_bytes(pending[1:4], "big"):
                        n = 4 + int.from_bytes(pending[1:4], "big")
                        frame, pending = bytearray(pending[:n]), pending[n:]
                        self._alter(frame)
                        client.sendall(frame)

    def _alter(self, frame):
        smb = memoryview(frame)[4:]
        if self.mode == "flip-encrypted":
            # The last ciphertext byte of the next large encrypted frame (a READ
            # response): in CCM's counter mode, the last byte of the data read.
            if smb[:4] == b"\xfdSMB" and len(smb) > 4000:
                smb[-1] ^= 0x01
                self.mode = None
                self.altered += 1
            return
        if self.mode is None or smb[:4] != b"\xfeSMB" or not smb[16] & s.SMB2_FLAGS_SIGNED:
            return
        if int.from_bytes(smb[12:14], "little") != s.SMB2_READ:
            return
        if self.mode == "flip":
            smb[-1] ^= 0x01
        else:
            smb[16] &= ~s.SMB2_FLAGS_SIGNED & 0xFF
            smb[48:64] = bytes(16)
        self.mode = None
        self.altered += 1

    def close(self):
        self.listener.close()


@pytest.mark.parametrize("name,mode", [("2.1", "flip"), ("3.0", "flip"), ("3.1.1", "flip"), ("3.1.1", "strip")])
def test_altered_response_is_refused(signing_smbd, verifying, name, mode):
    port, share = signing_smbd
    with open(os.path.join(share, "tamper.bin"), "wb") as f:
        f.write(os.urandom(5000))
    proxy = TamperingProxy(port)
    conn = connect(proxy.port, DIALECTS[name])
    try:
        proxy.mode = mode
        with pytest.raises(SessionError) as exc:
            conn.getFile("share", "tamper.bin", io.BytesIO().write)
        assert exc.value.getErrorCode() == nt_errors.STATUS_INVALID_SIGNATURE
        assert proxy.altered == 1 and verifying["verify_failed"] == 1
    finally:
        conn.close()
        proxy.close()


def test_altered_response_goes_unnoticed_without_verification(signing_smbd):
    """The control: impacket itself (and the adapter without verify) accepts the altered response."""
    port, share = signing_smbd
    body = os.urandom(5000)
    with open(os.path.join(share, "control.bin"), "wb") as f:
        f.write(body)
    adapter.install()
    proxy = TamperingProxy(port)
    try:
        conn = connect(proxy.port, s.SMB2_DIALECT_311)
        got = io.BytesIO()
        proxy.mode = "flip"
        conn.getFile("share", "control.bin", got.write)
        # The altered byte reaches the caller.
        assert proxy.altered == 1 and got.getvalue() == body[:-1] + bytes([body[-1] ^ 0x01])
        conn.close()
    finally:
        proxy.close()
        adapter.uninstall()


def test_altered_encrypted_response_is_refused(smbd, verifying):
    """impacket encrypts against the default smbd; a READ response altered in
    flight fails its AES-CCM tag under smbsign's check, and is never parsed."""
    body = os.urandom(5000)
    proxy = TamperingProxy(smbd)
    conn = connect(proxy.port, s.SMB2_DIALECT_311)
    try:
        conn.putFile("share", "enc-tamper.bin", io.BytesIO(body).read)
        proxy.mode = "flip-encrypted"
        with pytest.raises(SessionError) as exc:
            conn.getFile("share", "enc-tamper.bin", io.BytesIO().write)
        assert exc.value.getErrorCode() == nt_errors.STATUS_INVALID_SIGNATURE
        assert proxy.altered == 1 and verifying["tag_failed"] == 1 and verifying["tag_verified"] > 5
    finally:
        conn.close()
        proxy.close()


def test_altered_encrypted_response_goes_unnoticed_without_verification(smbd):
    """The control: impacket decrypts without checking the tag, so the altered byte reaches the caller."""
    body = os.urandom(5000)
    adapter.install()
    proxy = TamperingProxy(smbd)
    try:
        conn = connect(proxy.port, s.SMB2_DIALECT_311)
        conn.putFile("share", "enc-control.bin", io.BytesIO(body).read)
        got = io.BytesIO()
        proxy.mode = "flip-encrypted"
        conn.getFile("share", "enc-control.bin", got.write)
        assert proxy.altered == 1 and got.getvalue() == body[:-1] + bytes([body[-1] ^ 0x01])
        conn.close()
    finally:
        proxy.close()
        adapter.uninstall()


def test_install_binds_every_kdf_import():
    """Modules that did `from impacket.crypto import KDF_CounterMode` before install() (impacket's or a
    caller's) are rebound, and restored by uninstall(); impacket's SMB3 derives its keys through it."""
    binders = [types.ModuleType("impacket._smbsign_kdf_binding"), types.ModuleType("smbsign_test_harness")]
    for binder in binders:
        binder.KDF_CounterMode = crypto.KDF_CounterMode
        sys.modules[binder.__name__] = binder
    try:
        adapter.install()
        for binder in binders:
            assert binder.KDF_CounterMode is crypto.KDF_CounterMode is not ORIGINAL_KDF
        assert smb3.crypto.KDF_CounterMode is crypto.KDF_CounterMode
        adapter.uninstall()
        for binder in binders:
            assert binder.KDF_CounterMode is crypto.KDF_CounterMode is ORIGINAL_KDF
        assert smb3.SMB3.signSMB is ORIGINAL_SIGN and smbserver.SMBSERVER.signSMBv2 is ORIGINAL_SIGN_V2
    finally:
        for binder in binders:
            del sys.modules[binder.__name__]
        adapter.uninstall()


def smbclient(port, share_dir, local_dir, commands):
    return subprocess.run(
        ["smbclient", "//127.0.0.1/SHARE", "-p", str(port), "-U", "alice%Pass-w0rd", "-m", "SMB3",
         "--option=client signing=required", "-c", f"lcd {local_dir}; {commands}"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.fixture
def impacket_server():
    if not os.path.exists("/usr/bin/smbclient"):
        if REQUIRE:
            pytest.fail("smbclient missing")
        pytest.skip("needs Debian's smbclient (tests/python/run.sh installs it)")
    share = tempfile.mkdtemp(prefix="smbsign-impacket-share-")
    port = free_port()
    server = smbserver.SimpleSMBServer(listenAddress="127.0.0.1", listenPort=port)
    server.addShare("SHARE", share)
    server.setSMB2Support(True)
    server.addCredential("alice", 0, ntlm.compute_lmhash("Pass-w0rd").hex(), ntlm.compute_nthash("Pass-w0rd").hex())
    thread = threading.Thread(target=server.start, daemon=True)
    thread.start()
    try:
        wait_for_port(port, types.SimpleNamespace(poll=lambda: None if thread.is_alive() else 1), lambda: "thread died")
        yield port, share
    finally:
        server.stop()
        thread.join(10)


def test_impacket_server_serves_smbclient(impacket_server):
    port, share = impacket_server
    adapter.install()
    adapter.reset_stats()
    local = tempfile.mkdtemp(prefix="smbsign-smbclient-")
    try:
        up, down = os.urandom(300_000), os.urandom(200_000)
        with open(os.path.join(local, "up.bin"), "wb") as f:
            f.write(up)
        with open(os.path.join(share, "down.bin"), "wb") as f:
            f.write(down)
        r = smbclient(port, share, local, "put up.bin; get down.bin; ls")
        assert r.returncode == 0, r.stdout + r.stderr
        with open(os.path.join(share, "up.bin"), "rb") as f:
            assert f.read() == up
        with open(os.path.join(local, "down.bin"), "rb") as f:
            assert f.read() == down
        assert adapter.STATS["server_signed"] > 10 and adapter.STATS["fallback"] == 0, adapter.STATS

        # The control: smbclient does check what this server signs.
        signing = smbserver.SMBSERVER.signSMBv2

        def corrupting(self, packet, key, padLength=0):  # noqa: N803
            signing(self, packet, key, padLength)
            if key:
                packet["Signature"] = bytes([packet["Signature"][0] ^ 1]) + packet["Signature"][1:]

        smbserver.SMBSERVER.signSMBv2 = corrupting
        try:
            r = smbclient(port, share, local, "get down.bin")
            assert r.returncode != 0, r.stdout
        finally:
            smbserver.SMBSERVER.signSMBv2 = signing
    finally:
        adapter.uninstall()


# ---- differential: the adapter's functions against impacket's own ----------------


def outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except Exception as e:  # noqa: BLE001 - the exception itself is compared
        return ("raised", type(e), str(e))


def random_packet(rng, cls):
    p = cls()
    p["Command"] = rng.randrange(19)
    p["Flags"] = rng.choice([0, s.SMB2_FLAGS_SERVER_TO_REDIR, s.SMB2_FLAGS_SIGNED, 0x10000000])
    p["MessageID"] = rng.getrandbits(64)
    p["SessionID"] = rng.getrandbits(64)
    p["TreeID"] = rng.getrandbits(32)
    p["CreditCharge"] = rng.randrange(1 << 16)
    p["Signature"] = rng.randbytes(16)
    p["Data"] = rng.randbytes(rng.choice([0, 1, 15, 16, 17, 63, 64, 100, 1000, 70_000]))
    return p


def fake_client(dialect, session_key, signing_key):
    fake = types.SimpleNamespace()
    fake._Connection = {"Dialect": dialect}
    fake._Session = {"SessionKey": session_key, "SigningKey": signing_key}
    return fake


def clone(p):
    return type(p)(p.getData())


def test_sign_smb_matches_impacket():
    rng = random.Random(17)
    dialects = [s.SMB2_DIALECT_002, s.SMB2_DIALECT_21, s.SMB2_DIALECT_30, s.SMB2_DIALECT_302, s.SMB2_DIALECT_311,
                0x02FF, 0]
    adapter.install()
    adapter.reset_stats()
    try:
        for i in range(400):
            dialect = rng.choice(dialects)
            session_key = rng.choice([rng.randbytes(16), rng.randbytes(rng.randrange(1, 40)), b"", "",
                                      bytearray(rng.randbytes(16))])
            signing_key = rng.choice([rng.randbytes(16)] * 4 + [rng.randbytes(24), rng.randbytes(32),
                                                                rng.randbytes(5), "", bytearray(rng.randbytes(16))])
            packet = random_packet(rng, rng.choice([s.SMB2Packet, s.SMB3Packet]))
            theirs, ours = clone(packet), clone(packet)
            want = outcome(ORIGINAL_SIGN, fake_client(dialect, session_key, signing_key), theirs)
            got = outcome(smb3.SMB3.signSMB, fake_client(dialect, session_key, signing_key), ours)
            assert got == want, (i, dialect, session_key, signing_key)
            assert ours.getData() == theirs.getData(), (i, dialect)
            assert ours["Signature"] == theirs["Signature"]
        # The common inputs went through smbsign, the odd ones to impacket's own code.
        assert adapter.STATS["signed"] > 100 and adapter.STATS["fallback"] > 20, adapter.STATS
    finally:
        adapter.uninstall()


def test_sign_smb_v2_matches_impacket():
    rng = random.Random(1702)
    adapter.install()
    adapter.reset_stats()
    try:
        for i in range(300):
            key = rng.choice([rng.randbytes(16), b"", rng.randbytes(rng.randrange(1, 80)),
                              bytearray(rng.randbytes(16)), "", None])
            pad = rng.choice([0, 0, 1, 3, 7, -2])
            packet = random_packet(rng, s.SMB2Packet)
            theirs, ours = clone(packet), clone(packet)
            want = outcome(ORIGINAL_SIGN_V2, None, theirs, key, pad)
            got = outcome(smbserver.SMBSERVER.signSMBv2, None, ours, key, pad)
            assert got == want, (i, key, pad)
            assert ours.getData() == theirs.getData(), (i, key, pad)
        # A packet that is not a Structure: the same TypeError.
        assert outcome(smbserver.SMBSERVER.signSMBv2, None, b"x" * 70, b"k" * 16) == \
            outcome(ORIGINAL_SIGN_V2, None, b"x" * 70, b"k" * 16)
        assert adapter.STATS["server_signed"] > 150, adapter.STATS
    finally:
        adapter.uninstall()


def test_kdf_matches_impacket():
    rng = random.Random(108)
    adapter.install()
    adapter.reset_stats()
    try:
        lengths = [128, 128, 256, 512, 1024, 8, 120, 384, 7, 0, -8, 2**32 + 256]
        for i in range(300):
            args = (
                rng.choice([rng.randbytes(16), rng.randbytes(rng.randrange(0, 100)), bytearray(rng.randbytes(32))]),
                rng.choice([b"SMBSigningKey\x00", b"SMB2AESCMAC\x00", rng.randbytes(rng.randrange(0, 30)),
                            bytearray(b"SMBAppKey\x00")]),
                rng.choice([rng.randbytes(64), b"SmbSign\x00", b"", bytearray(rng.randbytes(10))]),
                rng.choice(lengths),
            )
            assert outcome(crypto.KDF_CounterMode, *args) == outcome(ORIGINAL_KDF, *args), (i, args[3])
        for odd in [("key", b"l", b"c", 128), (b"k", "label", b"c", 128), (b"k", b"l", None, 128), (b"k", b"l", b"c", 1.5),
                    (None, b"l", b"c", 128), (b"k", b"l", b"c", True)]:
            assert outcome(crypto.KDF_CounterMode, *odd) == outcome(ORIGINAL_KDF, *odd), odd
        assert adapter.STATS["kdf"] > 150, adapter.STATS
    finally:
        adapter.uninstall()


def test_response_checks():
    """verify=True's rules on responses built and signed by impacket's own signSMB."""
    rng = random.Random(3)
    adapter.install(verify=True)
    adapter.reset_stats()
    try:
        for dialect in [s.SMB2_DIALECT_21, s.SMB2_DIALECT_30, s.SMB2_DIALECT_311]:
            client = fake_client(dialect, rng.randbytes(16), rng.randbytes(16))
            client._Session["SigningActivated"] = True
            client._NetBIOSSession = types.SimpleNamespace()

            def response(flags=s.SMB2_FLAGS_SERVER_TO_REDIR, status=0, message_id=5, sign=True, tamper=False,
                         command=s.SMB2_READ):
                p = s.SMB2Packet()
                p["Command"], p["Status"], p["MessageID"] = command, status, message_id
                p["SessionID"] = 0x4411
                p["Flags"] = flags | (s.SMB2_FLAGS_SIGNED if sign else 0)
                p["Data"] = rng.randbytes(100)
                if sign:
                    ORIGINAL_SIGN(client, p)
                raw = bytearray(p.getData())
                if tamper:
                    raw[70] ^= 0x40
                return s.SMB2Packet(bytes(raw))

            adapter._check_response(client, response())
            assert adapter.STATS["verified"] >= 1
            async_flag = s.SMB2_FLAGS_SERVER_TO_REDIR | s.SMB2_FLAGS_ASYNC_COMMAND
            refused = [
                response(tamper=True),
                response(sign=False),
                # Near misses of the exemptions (core's rule, smbsign.must_be_signed):
                response(sign=False, status=nt_errors.STATUS_PENDING),  # synchronous: no interim response
                response(sign=False, message_id=0xFFFFFFFFFFFFFFFF),  # not an OPLOCK_BREAK
                response(sign=False, status=nt_errors.STATUS_NETWORK_SESSION_EXPIRED),  # the session has its key
            ]
            for bad in refused:
                with pytest.raises(smb3.SessionError) as exc:
                    adapter._check_response(client, bad)
                assert exc.value.get_error_code() == nt_errors.STATUS_INVALID_SIGNATURE
                assert "smbsign" in str(exc.value)
            # Unsigned and fine: an interim response, an oplock break, a session the server lost.
            adapter._check_response(client, response(sign=False, flags=async_flag, status=nt_errors.STATUS_PENDING))
            adapter._check_response(
                client, response(sign=False, message_id=0xFFFFFFFFFFFFFFFF, command=s.SMB2_OPLOCK_BREAK)
            )
            adapter._check_response(client, response(sign=False, status=nt_errors.STATUS_USER_SESSION_DELETED))
            # An interim response flagged as signed is not verified (MS-SMB2 3.2.5.1.3).
            adapter._check_response(
                client, response(flags=async_flag, status=nt_errors.STATUS_PENDING, tamper=True)
            )
        assert adapter.STATS["verify_failed"] == 15 and adapter.STATS["verified"] == 3
    finally:
        adapter.uninstall()


def test_signing_keys_are_smbsigns():
    """The adapter's CMAC/HMAC are smbsign's and agree with independent implementations."""
    from cryptography.hazmat.primitives import cmac, hashes, hmac
    from cryptography.hazmat.primitives.ciphers import algorithms

    rng = random.Random(9)
    key, data = rng.randbytes(16), rng.randbytes(777)
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    assert adapter._signer(smbsign.AES_CMAC, key)(data) == c.finalize()
    for k in [key, rng.randbytes(32), b""]:
        h = hmac.HMAC(k, hashes.SHA256())
        h.update(data)
        assert adapter._signer(smbsign.HMAC_SHA256, k)(data) == h.finalize()[:16]


def ccm_outcome(aes, key, nonce, calls):
    """Runs `calls` ("update", x) / ("encrypt", x) / ("digest",) / ("decrypt", x) on
    aes.new(key, MODE_CCM, nonce): each result, or the exception as (type, message)."""
    out = []
    try:
        c = aes.new(key, aes.MODE_CCM, nonce)
        for call in calls:
            r = getattr(c, call[0])(*call[1:])
            out.append(None if call[0] == "update" else r)
    except Exception as e:  # noqa: BLE001 - comparing whatever is raised
        out.append(("raised", type(e), str(e)))
    return out


def test_encryption_matches_pycryptodome():
    """impacket.smb3.AES with the adapter against pycryptodome itself: impacket's
    sealing sequence on transform headers (sealed by smbsign), and odd sequences,
    AADs, nonces and keys (replayed on pycryptodome): the same bytes or exceptions."""
    from Cryptodome.Cipher import AES

    rng = random.Random(2841)
    adapter.install()
    try:
        ours = smb3.AES
        assert ours is not AES
        adapter.reset_stats()
        for _ in range(400):
            key = rng.randbytes(rng.choice([16, 16, 32, 24]))
            nonce = rng.randbytes(rng.choice([11, 11, 11, 12, 7]))
            msg = rng.randbytes(rng.choice([1, 64, 300, 5000]))
            th = s.SMB2_TRANSFORM_HEADER()
            th["Nonce"] = nonce + bytes(16 - len(nonce)) if len(nonce) <= 16 else nonce
            th["OriginalMessageSize"] = rng.choice([len(msg), len(msg), len(msg) + 1])
            th["EncryptionAlgorithm"] = rng.choice([1, 1, 1, 0, 2])
            th["SessionID"] = rng.getrandbits(64)
            aad = th.getData()[20:]
            calls = rng.choice([
                [("update", aad), ("encrypt", msg), ("digest",)],  # impacket's sendSMB
                [("update", aad), ("encrypt", msg), ("digest",)],
                [("update", aad), ("decrypt", msg)],  # impacket's recvSMB
                [("update", aad[:10]), ("update", aad[10:]), ("encrypt", msg), ("digest",)],
                [("encrypt", msg), ("digest",)],
                [("update", aad), ("encrypt", msg), ("encrypt", msg)],
                [("update", aad), ("encrypt", msg), ("update", aad)],
                [("update", aad), ("digest",), ("encrypt", msg)],
                [("update", bytearray(aad)), ("encrypt", msg), ("digest",)],
            ])
            want = ccm_outcome(AES, key, nonce, calls)
            got = ccm_outcome(ours, key, nonce, calls)
            assert got == want, (len(key), len(nonce), calls[0][0], len(calls))
        # smbsign sealed the impacket-shaped ones (16/32-byte key, 11-byte nonce, exact header AAD).
        assert adapter.STATS["encrypted"] > 15
        # Other modes and the module's attributes are pycryptodome's.
        assert ours.MODE_GCM == AES.MODE_GCM and ours.block_size == AES.block_size
        k = bytes(16)
        assert ours.new(k, AES.MODE_ECB).encrypt(bytes(16)) == AES.new(k, AES.MODE_ECB).encrypt(bytes(16))
    finally:
        adapter.uninstall()
    assert smb3.AES is AES
