"""A throwaway Debian smbd for the interop and capture tests (stdlib only):
standalone, signing mandatory, SMB 2.0.2 to 3.1.1, one share writable by a
known user, bound to 127.0.0.1 at a free port with its own lock/state/private/
cache directories under a temporary directory, run in its own session and
stopped by PID."""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

USER, PASSWORD = "smbsigntest", "Sm8sign-Test!"
SMBD = shutil.which("smbd") or "/usr/sbin/smbd"
SMBPASSWD = shutil.which("smbpasswd") or "/usr/bin/smbpasswd"


def available():
    return os.path.exists(SMBD) and os.path.exists(SMBPASSWD) and os.geteuid() == 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    port: int
    tmp: str
    share: str
    conf: str


@contextlib.contextmanager
def running(user=USER, password=PASSWORD, extra_global=""):
    """Yields a Server; `extra_global` lines go into [global]."""
    tmp = tempfile.mkdtemp(prefix="smbsign-smbd-")
    dirs = {d: os.path.join(tmp, d) for d in ["lock", "state", "cache", "private", "pid", "ncalrpc", "share", "log"]}
    for d in dirs.values():
        os.makedirs(d)
    os.chmod(tmp, 0o755)  # the share must be reachable by the (non-root) user
    os.chmod(dirs["share"], 0o777)
    try:
        pwd.getpwnam(user)
    except KeyError:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", user], check=True)
    port = free_port()
    conf = os.path.join(tmp, "smb.conf")
    with open(conf, "w") as f:
        f.write(f"""[global]
    server role = standalone server
    workgroup = SMBSIGN
    netbios name = SMBSIGNTEST
    interfaces = 127.0.0.1
    bind interfaces only = yes
    smb ports = {port}
    server signing = mandatory
    server min protocol = SMB2_02
    server max protocol = SMB3_11
    lock directory = {dirs['lock']}
    state directory = {dirs['state']}
    cache directory = {dirs['cache']}
    private dir = {dirs['private']}
    pid directory = {dirs['pid']}
    ncalrpc dir = {dirs['ncalrpc']}
    passdb backend = tdbsam:{dirs['private']}/passdb.tdb
    log file = {dirs['log']}/log.%m
    log level = 1
    load printers = no
    printing = bsd
    printcap name = /dev/null
    disable spoolss = yes
    disable netbios = yes
{extra_global}
[share]
    path = {dirs['share']}
    read only = no
    valid users = {user}
""")
    subprocess.run([SMBPASSWD, "-c", conf, "-s", "-a", user], input=f"{password}\n{password}\n",
                   text=True, check=True, capture_output=True)
    log = open(os.path.join(tmp, "smbd.out"), "w")
    # Own session: smbd signals its whole process group on exit.
    proc = subprocess.Popen([SMBD, "--foreground", "--no-process-group", "-s", conf],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.time() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"smbd exited: {open(os.path.join(tmp, 'smbd.out')).read()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        yield Server(port=port, tmp=tmp, share=dirs["share"], conf=conf)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
