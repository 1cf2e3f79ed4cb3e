"""Proves Debian's unmodified smbd signs through smbsign when
libsmbsign_gnutls.so is preloaded (server signing = mandatory), against clients
that do not load it: smbclient copies a file both ways and smbprotocol writes
and reads one, for SMB 2.0.2, 2.1, 3.0.2 and 3.1.1 with AES-GMAC, AES-CMAC and
HMAC-SHA256; contents compare equal, and the stats line of the smbd child that
served the connection shows that algorithm's signatures computed by smbsign
over at least the copied bytes, with nothing of it forwarded to GnuTLS. SMB3
encryption: a share with `server smb encrypt = required` and each of the four
ciphers pinned (client side; server side for two), 3.0.2 with AES-128-CCM:
files put and got compare equal and the stats line shows that cipher's
encryption and decryption computed by smbsign (none forwarded); the same with
the preloaded smbclient against a stock smbd. A request with a corrupted signature is refused. The reverse: a
preloaded smbclient against a stock smbd. And Samba's own smbtorture
smb2.session.signing-* tests against the preloaded smbd.

Needs root and Debian's samba, smbclient and samba-testsuite; LIBSMBSIGN_GNUTLS
names the built library (tests/gnutls/run-samba.sh sets it). With
SMBSIGN_SAMBA_ROOT (see smbd_server.py) every Samba program is that
userland's, and the library and the temp dirs must lie inside it
(tests/debian13/run.sh)."""

import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from smbd_server import (PASSWORD, USER, assert_corrupted_signature_refused, in_userland, inner,  # noqa: E402
                         open_file, run_smbd, session_for)

SO = os.environ.get("LIBSMBSIGN_GNUTLS", "")
SIGNING_BUCKETS = ["hmac-sha256", "aes-cmac-128", "aes-128-gcm"]
GMAC, CMAC, HMAC = "AES-128-GMAC", "AES-128-CMAC", "HMAC-SHA256"
BUCKET = {GMAC: "aes-128-gcm", CMAC: "aes-cmac-128", HMAC: "hmac-sha256"}
# (id, smbclient protocol, 3.1.1 signing algorithm or None, expected algorithm)
CASES = [
    ("2.0.2", "SMB2_02", None, HMAC),
    ("2.1", "SMB2_10", None, HMAC),
    ("3.0.2", "SMB3_02", None, CMAC),
    ("3.1.1-gmac", "SMB3_11", GMAC, GMAC),
    ("3.1.1-cmac", "SMB3_11", CMAC, CMAC),
    ("3.1.1-hmac", "SMB3_11", HMAC, HMAC),
]
FILE_SIZE = 3 * 1024 * 1024


def stock_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_PRELOAD", "SMBSIGN_GNUTLS"))}
    return env


class Stats:
    """The stats file of one preloaded program and the lines read so far."""

    def __init__(self, path):
        self.path = path
        self.seen = 0

    def lines(self):
        if not os.path.exists(self.path):
            return []
        # A line is one append, but a reader can see an append half-copied
        # (the file grows a page at a time): only whole lines count.
        with open(self.path) as f:
            return [json.loads(line) for line in f if line.endswith("\n") and line.strip()]

    def next_line(self, exe_suffix, timeout=15):
        """The next new line written by a program whose path ends in exe_suffix
        (an smbd child writes its line when the client has gone)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            lines = self.lines()
            for i in range(self.seen, len(lines)):
                if lines[i]["exe"].endswith(exe_suffix):
                    self.seen = i + 1
                    return lines[i]
            time.sleep(0.1)
        pytest.fail(f"no new stats line from {exe_suffix} in {self.path}: {self.lines()[self.seen:]}")


@pytest.fixture(scope="module")
def preloaded_smbd(tmp_path_factory):
    if not os.path.exists(SO):
        pytest.fail(f"LIBSMBSIGN_GNUTLS={SO!r} does not exist")
    stats = str(tmp_path_factory.mktemp("stats") / "smbd.json")
    env = dict(stock_env(), LD_PRELOAD=inner(SO), SMBSIGN_GNUTLS_STATS=inner(stats))
    with run_smbd(env=env) as server:
        server.stats = Stats(stats)
        yield server


@pytest.fixture(scope="module")
def stock_smbd():
    with run_smbd(env=stock_env()) as server:
        yield server


def smbclient(port, proto, algorithm, commands, protection="sign", env=None, cwd=None):
    args = ["smbclient", "//127.0.0.1/share", "-p", str(port), "-U", f"{USER}%{PASSWORD}",
            "-m", proto, f"--option=client min protocol={proto}", f"--client-protection={protection}",
            "-c", commands]
    if algorithm:
        args.append(f"--option=client smb3 signing algorithms={algorithm}")
    return subprocess.run(in_userland(args, cwd), env=env or stock_env(), cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def copy_both_ways(port, proto, algorithm, tmp_path, protection="sign", env=None):
    src = tmp_path / "src.bin"
    data = os.urandom(FILE_SIZE)
    src.write_bytes(data)
    r = smbclient(port, proto, algorithm, "put src.bin remote.bin; get remote.bin back.bin",
                  protection=protection, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "back.bin").read_bytes() == data
    return len(data)


def assert_signed_by_smbsign(line, algorithm, at_least):
    want = BUCKET[algorithm]
    got = line[want]
    # Every request verified and every response signed over the file's bytes both ways.
    assert got["computed_calls"] > 0 and got["computed_bytes"] >= at_least, line
    for b in SIGNING_BUCKETS:
        assert line[b]["forwarded_calls"] == 0, line  # nothing fell back to GnuTLS
        if b != want and b != "hmac-sha256":  # HMAC-SHA256 also runs the 3.x KDF
            assert line[b]["computed_calls"] == 0, line


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_smbclient_copy_preloaded_smbd(preloaded_smbd, tmp_path, case):
    _, proto, alg, want = case
    n = copy_both_ways(preloaded_smbd.port, proto, alg, tmp_path)
    line = preloaded_smbd.stats.next_line("smbd")
    assert line["mode"] == "active"
    assert_signed_by_smbsign(line, want, 2 * n)


@pytest.mark.parametrize("alg", [GMAC, CMAC, HMAC])
def test_server_smb3_signing_algorithms_preloaded_smbd(tmp_path, alg):
    """The 3.1.1 algorithm chosen by smbd's `server smb3 signing algorithms`
    (smbclient offers all three) is the one smbsign computes."""
    stats = Stats(str(tmp_path / "smbd.json"))
    env = dict(stock_env(), LD_PRELOAD=inner(SO), SMBSIGN_GNUTLS_STATS=inner(stats.path))
    with run_smbd(env=env, extra_global=f"    server smb3 signing algorithms = {alg}") as server:
        n = copy_both_ways(server.port, "SMB3_11", None, tmp_path)
        assert_signed_by_smbsign(stats.next_line("smbd"), alg, 2 * n)


def smbprotocol_cases():
    from smbprotocol.connection import Dialects, SigningAlgorithms as S

    return [
        ("2.0.2", Dialects.SMB_2_0_2, None, HMAC),
        ("2.1", Dialects.SMB_2_1_0, None, HMAC),
        ("3.0.2", Dialects.SMB_3_0_2, None, CMAC),
        ("3.1.1-gmac", Dialects.SMB_3_1_1, [S.AES_GMAC], GMAC),
        ("3.1.1-cmac", Dialects.SMB_3_1_1, [S.AES_CMAC], CMAC),
        ("3.1.1-hmac", Dialects.SMB_3_1_1, [S.HMAC_SHA256], HMAC),
    ]


@pytest.mark.parametrize("case", range(6), ids=[c[0] for c in CASES])
def test_smbprotocol_preloaded_smbd(preloaded_smbd, case):
    name, dialect, algos, want = smbprotocol_cases()[case]
    conn, session = session_for(preloaded_smbd.port, dialect, algos)
    try:
        assert conn.dialect == dialect
        tree, f = open_file(session, preloaded_smbd.port, f"proto-{name}.bin")
        data = os.urandom(60_000)  # under 2.0.2's 64 KiB max write
        f.write(data, 0)
        assert f.read(0, len(data)) == data
        f.close()
        tree.disconnect()
    finally:
        session.disconnect()
        conn.disconnect()
    assert_signed_by_smbsign(preloaded_smbd.stats.next_line("smbd"), want, 2 * len(data))


def assert_encrypted_by_smbsign(line, bucket, at_least):
    """smbsign computed this cipher's encryption and decryption over at least
    `at_least` bytes each way, nothing of that cipher went to GnuTLS, no tag
    failed, and no other cipher was used."""
    assert line["mode"] == "active", line
    got = line["aead"][bucket]
    assert got["encrypt_calls"] > 0 and got["decrypt_calls"] > 0, line
    assert got["encrypt_bytes"] >= at_least and got["decrypt_bytes"] >= at_least, line
    assert got["tag_failures"] == 0, line
    assert line[bucket]["forwarded_calls"] == 0, line
    for b in CIPHER_BUCKETS:
        if b != bucket:
            assert line["aead"][b]["encrypt_calls"] == 0 and line["aead"][b]["decrypt_calls"] == 0, line


def test_encryption_required_preloaded_smbd(preloaded_smbd, tmp_path):
    n = copy_both_ways(preloaded_smbd.port, "SMB3_11", None, tmp_path, protection="encrypt")
    # smbclient's first choice, AES-128-GCM with a plaintext, computed by smbsign.
    assert_encrypted_by_smbsign(preloaded_smbd.stats.next_line("smbd"), "aes-128-gcm", n)


# The SMB3 ciphers: (id, smbclient protocol, `smb3 encryption algorithms` value or None, stats bucket).
CIPHER_BUCKETS = ["aes-128-gcm", "aes-256-gcm", "aes-128-ccm", "aes-256-ccm"]
ENC_CASES = [
    ("3.1.1-aes-128-gcm", "SMB3_11", "AES-128-GCM", "aes-128-gcm"),
    ("3.1.1-aes-256-gcm", "SMB3_11", "AES-256-GCM", "aes-256-gcm"),
    ("3.1.1-aes-128-ccm", "SMB3_11", "AES-128-CCM", "aes-128-ccm"),
    ("3.1.1-aes-256-ccm", "SMB3_11", "AES-256-CCM", "aes-256-ccm"),
    ("3.0.2-aes-128-ccm", "SMB3_02", None, "aes-128-ccm"),
]
ENC_FILE_SIZE = 200_000  # a few encrypted reads and writes each way, in odd sizes


def copy_encrypted(port, proto, algorithm, tmp_path, env=None):
    """put then get a file over an encrypted session (smbclient -e / --client-protection=encrypt),
    the cipher pinned by `client smb3 encryption algorithms`; the copies compare equal."""
    src = tmp_path / "src.bin"
    data = os.urandom(ENC_FILE_SIZE)
    src.write_bytes(data)
    args = ["smbclient", "//127.0.0.1/share", "-p", str(port), "-U", f"{USER}%{PASSWORD}",
            "-m", proto, f"--option=client min protocol={proto}", "--client-protection=encrypt",
            "-c", "put src.bin remote.bin; get remote.bin back.bin"]
    if algorithm:
        args.append(f"--option=client smb3 encryption algorithms={algorithm}")
    r = subprocess.run(in_userland(args, tmp_path), env=env or stock_env(), cwd=tmp_path, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "back.bin").read_bytes() == data
    return len(data)


@pytest.fixture(scope="module")
def encrypting_smbd(tmp_path_factory):
    """A preloaded smbd whose share requires encryption (`server smb encrypt = required`)."""
    stats = str(tmp_path_factory.mktemp("stats") / "smbd-enc.json")
    env = dict(stock_env(), LD_PRELOAD=inner(SO), SMBSIGN_GNUTLS_STATS=inner(stats))
    with run_smbd(env=env, extra_global="    server smb encrypt = required") as server:
        server.stats = Stats(stats)
        yield server


@pytest.mark.parametrize("case", ENC_CASES, ids=[c[0] for c in ENC_CASES])
def test_encrypted_share_preloaded_smbd(encrypting_smbd, tmp_path, case):
    _, proto, alg, bucket = case
    n = copy_encrypted(encrypting_smbd.port, proto, alg, tmp_path)
    assert_encrypted_by_smbsign(encrypting_smbd.stats.next_line("smbd"), bucket, n)


@pytest.mark.parametrize("alg", ["AES-256-GCM", "AES-128-CCM"])
def test_server_smb3_encryption_algorithms_preloaded_smbd(tmp_path, alg):
    """The cipher chosen by smbd's `server smb3 encryption algorithms` (smbclient
    offers all four) is the one smbsign computes."""
    stats = Stats(str(tmp_path / "smbd.json"))
    env = dict(stock_env(), LD_PRELOAD=inner(SO), SMBSIGN_GNUTLS_STATS=inner(stats.path))
    conf = f"    server smb encrypt = required\n    server smb3 encryption algorithms = {alg}"
    with run_smbd(env=env, extra_global=conf) as server:
        n = copy_encrypted(server.port, "SMB3_11", None, tmp_path)
        assert_encrypted_by_smbsign(stats.next_line("smbd"), alg.lower(), n)


@pytest.mark.parametrize("case", ENC_CASES, ids=[c[0] for c in ENC_CASES])
def test_preloaded_smbclient_encrypts_stock_smbd(stock_smbd, tmp_path, case):
    _, proto, alg, bucket = case
    stats = Stats(str(tmp_path / "client.json"))
    env = dict(stock_env(), LD_PRELOAD=inner(SO), SMBSIGN_GNUTLS_STATS=inner(stats.path))
    n = copy_encrypted(stock_smbd.port, proto, alg, tmp_path, env=env)
    assert_encrypted_by_smbsign(stats.next_line("smbclient", timeout=2), bucket, n)


@pytest.mark.parametrize("alg", ["AES_GMAC", "AES_CMAC", "HMAC_SHA256"])
def test_corrupted_signature_refused_by_preloaded_smbd(preloaded_smbd, alg):
    from smbprotocol.connection import Dialects, SigningAlgorithms

    conn, session = session_for(preloaded_smbd.port, Dialects.SMB_3_1_1, [getattr(SigningAlgorithms, alg)])
    assert_corrupted_signature_refused(conn, session)
    preloaded_smbd.stats.next_line("smbd")  # consume this connection's line


@pytest.mark.parametrize("case", [CASES[0], CASES[2], CASES[3], CASES[4], CASES[5]],
                         ids=["2.0.2", "3.0.2", "3.1.1-gmac", "3.1.1-cmac", "3.1.1-hmac"])
def test_preloaded_smbclient_stock_smbd(stock_smbd, tmp_path, case):
    _, proto, alg, want = case
    stats = Stats(str(tmp_path / "client.json"))
    env = dict(stock_env(), LD_PRELOAD=inner(SO), SMBSIGN_GNUTLS_STATS=inner(stats.path))
    n = copy_both_ways(stock_smbd.port, proto, alg, tmp_path, env=env)
    assert_signed_by_smbsign(stats.next_line("smbclient", timeout=2), want, 2 * n)


TORTURE = ["hmac-sha-256", "aes-128-cmac", "aes-128-gmac"]


def smbtorture(port, test):
    r = subprocess.run(in_userland(["smbtorture", "//127.0.0.1/share", "-p", str(port),
                                    "-U", f"{USER}%{PASSWORD}", f"smb2.session.signing-{test}"]),
                       env=stock_env(), capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    # The outcome: exit status and each subtest's verdict line, without timings.
    verdicts = sorted(line.split(" [")[0] for line in out.splitlines()
                      if line.startswith(("success:", "failure:", "error:", "skip:", "xfail:")))
    return r.returncode, verdicts, out


@pytest.mark.parametrize("test", TORTURE)
def test_smbtorture_signing_preloaded_smbd(preloaded_smbd, stock_smbd, test):
    rc, verdicts, out = smbtorture(preloaded_smbd.port, test)
    assert rc == 0 and "failure:" not in out and "success:" in out, out[-3000:]
    # Samba's own verdicts are the same whether smbd signs with smbsign or GnuTLS.
    assert (rc, verdicts) == smbtorture(stock_smbd.port, test)[:2]
    # smbtorture's connections were served by smbsign-signing smbd children:
    # take every line they write (until none has come for 1.5 s).
    lines = [preloaded_smbd.stats.next_line("smbd")]
    quiet_since = time.time()
    while time.time() - quiet_since < 1.5:
        more = preloaded_smbd.stats.lines()[preloaded_smbd.stats.seen:]
        if more:
            lines += more
            preloaded_smbd.stats.seen += len(more)
            quiet_since = time.time()
        time.sleep(0.1)
    assert sum(x[BUCKET[{"hmac-sha-256": HMAC, "aes-128-cmac": CMAC, "aes-128-gmac": GMAC}[test]]]["computed_calls"]
               for x in lines) > 0, lines
