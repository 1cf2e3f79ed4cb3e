#!/usr/bin/env python3
"""Records the small encrypted-session fixtures of capture/tests/fixtures: tcpdump
on loopback while Debian's smbclient lists a share of a throwaway smbd with
encryption required (`server smb encrypt = required`), once per cipher: AES-128-CCM
over SMB 3.0.2, and AES-128-CCM, AES-128-GCM, AES-256-CCM, AES-256-GCM over 3.1.1
(`client smb3 encryption algorithms`). Usage: record-encrypted-fixtures.py OUTDIR [PORT].
Needs root and Debian's samba, smbclient, tcpdump (tests/capture/run.sh installs them).
The password is smbd_server.PASSWORD."""

import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
import smbd_server  # noqa: E402

CASES = [  # (file name, protocol, cipher name for smb.conf)
    ("smb302-ccm128", "SMB3_02", "AES-128-CCM"),
    ("smb311-ccm128", "SMB3_11", "AES-128-CCM"),
    ("smb311-gcm128", "SMB3_11", "AES-128-GCM"),
    ("smb311-ccm256", "SMB3_11", "AES-256-CCM"),
    ("smb311-gcm256", "SMB3_11", "AES-256-GCM"),
]


def record(port, path, proto, cipher):
    td = subprocess.Popen(["tcpdump", "-i", "lo", "-B", "65536", "-U", "-s", "0", "-w", path, f"tcp port {port}"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          start_new_session=True)
    deadline = time.time() + 20
    line = b""
    while b"listening" not in line and time.time() < deadline:
        line = td.stderr.readline()
    r = subprocess.run(["smbclient", "//127.0.0.1/share", "-p", str(port), "-U",
                        f"{smbd_server.USER}%{smbd_server.PASSWORD}",
                        f"--option=client min protocol={proto}", f"--option=client max protocol={proto}",
                        "--option=client smb encrypt=required",
                        f"--option=client smb3 encryption algorithms={cipher}", "-c", "ls"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    time.sleep(1.0)  # let tcpdump read the last packets before it is stopped
    td.send_signal(signal.SIGINT)
    td.wait(timeout=20)
    return r


def main():
    out = sys.argv[1]
    if len(sys.argv) > 2:
        smbd_server.free_port = lambda: int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    rc = 0
    with smbd_server.run_smbd(extra_global="    server smb encrypt = required") as server:
        for name, proto, cipher in CASES:
            r = record(server.port, os.path.join(out, name + ".pcap"), proto, cipher)
            print(name, r.returncode, r.stdout[-200:], r.stderr[-300:])
            rc |= r.returncode
    return rc


if __name__ == "__main__":
    sys.exit(main())
