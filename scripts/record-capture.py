#!/usr/bin/env python3
"""Records a large real SMB capture for BENCHMARKS.md: tcpdump on loopback while
Debian's smbclient puts a random file of SIZE MiB to a throwaway smbd over SMB
3.1.1 with AES-GMAC signing (required). Usage: record-capture.py OUT.pcap [SIZE].
Needs root and Debian's samba, tcpdump (tests/capture/run.sh installs them).
The password is smbd_server.PASSWORD; check with smbsign-check --password."""

import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
import smbd_server  # noqa: E402


def main():
    out = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    with tempfile.TemporaryDirectory(prefix="smbsign-record-", dir="/tmp") as tmp:
        src = os.path.join(tmp, "data.bin")
        with open(src, "wb") as f:
            for _ in range(size):
                f.write(os.urandom(1 << 20))
        with smbd_server.run_smbd() as server:
            td = subprocess.Popen(["tcpdump", "-i", "lo", "-B", "262144", "-s", "0", "-w", out,
                                   f"tcp port {server.port}"], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
            line = b""
            deadline = time.time() + 20
            while b"listening" not in line and time.time() < deadline:
                line = td.stderr.readline()
            r = subprocess.run(["smbclient", "//127.0.0.1/share", "-p", str(server.port), "-U",
                                f"{smbd_server.USER}%{smbd_server.PASSWORD}",
                                "--option=client min protocol=SMB3_11", "--option=client max protocol=SMB3_11",
                                "--option=client signing=required",
                                "--option=client smb3 signing algorithms=AES-128-GMAC",
                                "-c", f"put {src} a.bin"], stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=900)
            time.sleep(1.0)  # let tcpdump read the last packets before it is stopped
            td.send_signal(signal.SIGINT)
            _, err = td.communicate(timeout=60)
            print(r.stdout[-300:], r.stderr[-300:], err.decode()[-300:])
            return r.returncode


if __name__ == "__main__":
    sys.exit(main())
