"""impacket's SMBConnection.putFile / getFile of 16 MiB against Debian's smbd on
loopback (server signing = mandatory), stock impacket vs smbsign.contrib.impacket,
in one run: SMB 2.1 (HMAC-SHA256), 3.0 and 3.1.1 (AES-CMAC) with signing only
(`server smb encrypt = off`), and 3.0/3.1.1 against smbd's defaults, where
impacket also encrypts (AES-CCM) every 3.x message after signing it.
Adapter runs: best of 3; stock 3.x putFile: one run (it takes ~30 s).
Needs root and samba (as tests/python/run.sh). With --profile, a cProfile of
one adapter 3.1.1 putFile follows each table.
Run: target/py-venv/bin/python benches/python/bench_impacket.py [--profile]"""

import cProfile
import io
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "python"))

from impacket import smb3structs as s  # noqa: E402
from impacket.smbconnection import SMBConnection  # noqa: E402

from smbd_server import PASSWORD, USER, running_smbd  # noqa: E402
from smbsign.contrib import impacket as adapter  # noqa: E402

SIZE = 16 << 20
DIALECTS = [("2.1", s.SMB2_DIALECT_21), ("3.0", s.SMB2_DIALECT_30), ("3.1.1", s.SMB2_DIALECT_311)]


def connect(port, dialect):
    conn = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=port, preferredDialect=dialect)
    conn.login(USER, PASSWORD)
    assert conn.getDialect() == dialect
    return conn


def timed(port, dialect, data, runs):
    """Best put and get seconds of `runs` runs, each on its own session."""
    put, get = [], []
    for _ in range(runs):
        conn = connect(port, dialect)
        try:
            t = time.perf_counter()
            conn.putFile("share", "bench.bin", io.BytesIO(data).read)
            put.append(time.perf_counter() - t)
            out = io.BytesIO()
            t = time.perf_counter()
            conn.getFile("share", "bench.bin", out.write)
            get.append(time.perf_counter() - t)
            assert out.getvalue() == data
        finally:
            conn.logoff()
            conn.close()
    return min(put), min(get)


def mbs(seconds):
    return SIZE / seconds / 1e6


def bench(title, port, dialects, data):
    print(f"\n### {title}: 16 MiB, MB/s (10^6 bytes/s)")
    print("| dialect | putFile stock | putFile smbsign | speed-up | putFile smbsign verify=True | getFile stock "
          "| getFile smbsign | getFile smbsign verify=True | signatures (smbsign) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, dialect in dialects:
        adapter.uninstall()
        stock_put, stock_get = timed(port, dialect, data, 1 if dialect >= s.SMB2_DIALECT_30 else 3)
        adapter.install()
        adapter.reset_stats()
        put, get = timed(port, dialect, data, 3)
        stats = dict(adapter.STATS)
        adapter.install(verify=True)
        adapter.reset_stats()
        vput, vget = timed(port, dialect, data, 3)
        checked = adapter.STATS["verified"] + adapter.STATS["encrypted_skipped"]
        adapter.uninstall()
        print(f"| {name} | {mbs(stock_put):.1f} | {mbs(put):.1f} | {stock_put / put:.0f}x | {mbs(vput):.1f} "
              f"| {mbs(stock_get):.1f} | {mbs(get):.1f} | {mbs(vget):.1f} "
              f"| {stats['signed']} signed, {stats['fallback']} fallback; verify: {checked} checked |", flush=True)


def profile(port, data, title):
    adapter.install()
    conn = connect(port, s.SMB2_DIALECT_311)
    prof = cProfile.Profile()
    prof.enable()
    conn.putFile("share", "bench.bin", io.BytesIO(data).read)
    prof.disable()
    conn.logoff()
    conn.close()
    adapter.uninstall()
    print(f"\n### cProfile: adapter 3.1.1 putFile of 16 MiB ({title}), by own time")
    pstats.Stats(prof).sort_stats("tottime").print_stats(10)


def main():
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"# impacket putFile/getFile, stock vs smbsign.contrib.impacket; load {' '.join(load)} at start")
    data = os.urandom(SIZE)
    with running_smbd("    server smb encrypt = off") as (port, _share):
        bench("Signing only (smbd: server smb encrypt = off)", port, DIALECTS, data)
        if "--profile" in sys.argv:
            profile(port, data, "signing only")
    with running_smbd() as (port, _share):
        bench("smbd defaults: impacket signs, then encrypts with AES-128-CCM", port, DIALECTS[1:], data)
        if "--profile" in sys.argv:
            profile(port, data, "signed, then encrypted")
    with open("/proc/loadavg") as f:
        print(f"\nload {' '.join(f.read().split()[:3])} at end")


if __name__ == "__main__":
    main()
