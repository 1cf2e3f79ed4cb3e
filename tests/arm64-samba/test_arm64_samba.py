"""An arm64 Debian smbd (run under qemu-aarch64 -cpu max, SMBSIGN_SAMBA_ROOT
names its userland) with the aarch64 libsmbsign_gnutls.so preloaded (the
userland's path in LIBSMBSIGN_GNUTLS): this machine's smbclient copies a small
file both ways per dialect and signing algorithm; the files are equal and the
stats line of the smbd child that served the copy shows smbsign's ARMv8
kernels computed that algorithm's signatures, with nothing forwarded to
GnuTLS (tests/arm64-samba/run.sh)."""

import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from smbd_server import PASSWORD, ROOT, USER, inner, outer, run_smbd  # noqa: E402

SO = os.environ.get("LIBSMBSIGN_GNUTLS", "")
BUCKETS = ["hmac-sha256", "aes-cmac-128", "aes-128-gcm"]
# (id, smbclient protocol, 3.1.1 signing algorithm or None, stats bucket)
CASES = [
    ("2.1-hmac", "SMB2_10", None, "hmac-sha256"),
    ("3.0.2-cmac", "SMB3_02", None, "aes-cmac-128"),
    ("3.1.1-gmac", "SMB3_11", "AES-128-GMAC", "aes-128-gcm"),
    ("3.1.1-cmac", "SMB3_11", "AES-128-CMAC", "aes-cmac-128"),
    ("3.1.1-hmac", "SMB3_11", "HMAC-SHA256", "hmac-sha256"),
]
SIZE = 256 * 1024


def stock_env():
    return {k: v for k, v in os.environ.items() if not k.startswith(("LD_PRELOAD", "SMBSIGN_GNUTLS"))}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    assert ROOT and os.path.exists(outer(SO)), (ROOT, SO)
    stats = tmp_path_factory.mktemp("stats") / "smbd.json"
    env = dict(stock_env(), LD_PRELOAD=SO, SMBSIGN_GNUTLS_STATS=inner(stats))
    with run_smbd(env=env) as s:
        s.stats, s.seen = stats, 0
        yield s


def next_line(server, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        lines = [json.loads(x) for x in server.stats.read_text().splitlines()] if server.stats.exists() else []
        for i in range(server.seen, len(lines)):
            if lines[i]["exe"].endswith("smbd"):
                server.seen = i + 1
                return lines[i]
        time.sleep(0.2)
    pytest.fail(f"no new smbd stats line in {server.stats}")


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_signed_copy_arm64_smbd(server, tmp_path, case):
    _, proto, alg, bucket = case
    data = os.urandom(SIZE)
    (tmp_path / "src.bin").write_bytes(data)
    args = ["smbclient", "//127.0.0.1/share", "-p", str(server.port), "-U", f"{USER}%{PASSWORD}",
            "-m", proto, f"--option=client min protocol={proto}", "--client-protection=sign",
            "-c", "put src.bin remote.bin; get remote.bin back.bin"]
    if alg:
        args.append(f"--option=client smb3 signing algorithms={alg}")
    # This machine's (stock) smbclient: the emulated server is what is tested.
    r = subprocess.run(args, env=stock_env(), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "back.bin").read_bytes() == data
    line = next_line(server)
    assert line["mode"] == "active" and line["tier"] == "armv8", line
    kernel = {"hmac-sha256": "hmac-sha256", "aes-cmac-128": "aes-cmac-128", "aes-128-gcm": "aes-gmac"}[bucket]
    assert line["kernels"][kernel].startswith("aarch64/"), line
    assert line[bucket]["computed_calls"] > 0 and line[bucket]["computed_bytes"] >= 2 * SIZE, line
    for b in BUCKETS:
        assert line[b]["forwarded_calls"] == 0, line
