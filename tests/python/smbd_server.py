"""A throwaway Debian smbd for the interop tests and benchmarks (tests/python,
tests/gnutls, scripts/bench-samba.py, benches/python): standalone, bound to
127.0.0.1 at a free port, signing mandatory unless asked otherwise, one share
writable by one user, its own lock/state/private/cache dirs under a temp dir,
run in its own session with stdin from /dev/null and stopped by PID; plus the
smbprotocol session helpers those tests share.

SMBSIGN_SAMBA_ROOT=DIR runs smbd (and, through `in_userland`, smbclient and
smbtorture) from another Debian userland chrooted at DIR instead of this
machine's (tests/debian13: Debian 13's Samba); temp dirs then lie under
DIR/tmp, and paths handed to those programs are the userland's (`inner`)."""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from types import SimpleNamespace

USER, PASSWORD = "smbsigntest", "Sm8sign-Test!"
ROOT = os.environ.get("SMBSIGN_SAMBA_ROOT", "").rstrip("/")
if ROOT:
    SMBD, SMBPASSWD = "/usr/sbin/smbd", "/usr/bin/smbpasswd"
else:
    SMBD = shutil.which("smbd") or "/usr/sbin/smbd"
    SMBPASSWD = shutil.which("smbpasswd") or "/usr/bin/smbpasswd"


def outer(path):
    """This machine's path of the userland's `path`."""
    return ROOT + path if ROOT else path


def inner(path):
    """The userland's path of this machine's `path` (which must lie in it)."""
    path = str(path)
    if not ROOT:
        return path
    if not (path + "/").startswith(ROOT + "/"):
        raise ValueError(f"{path} is outside the userland {ROOT}")
    return path[len(ROOT):] or "/"


def in_userland(argv, cwd=None):
    """argv run by the userland (chrooted, in `cwd` given as this machine's path)."""
    if not ROOT:
        return list(argv)
    return ["chroot", ROOT, "env", "-C", inner(cwd) if cwd else "/", "--", *argv]


def temp_dir(prefix):
    return tempfile.mkdtemp(prefix=prefix, dir=outer("/tmp") if ROOT else None)
REQUIRE = os.environ.get("SMBSIGN_REQUIRE_SAMBA") == "1"


def free_port():
    """A free port on 127.0.0.1: from SMBSIGN_TEST_PORTS ("LOW-HIGH", for a
    machine shared by several test runs) when set, else any."""
    lo, _, hi = os.environ.get("SMBSIGN_TEST_PORTS", "").partition("-")
    for port in range(int(lo), int(hi) + 1) if lo and hi else [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError(f"no free port in SMBSIGN_TEST_PORTS={lo}-{hi}")


def require_samba():
    """Skips (or fails under SMBSIGN_REQUIRE_SAMBA=1) when smbd cannot run here."""
    if not (os.path.exists(outer(SMBD)) and os.path.exists(outer(SMBPASSWD)) and os.geteuid() == 0):
        try:
            import pytest  # noqa: PLC0415 (scripts outside pytest use this module too)
        except ImportError:
            raise RuntimeError("needs root and Debian's samba (scripts/test-all.sh installs it)") from None
        if REQUIRE:
            pytest.fail("smbd/smbpasswd missing or not root")
        pytest.skip("needs root and Debian's samba (scripts/test-all.sh installs it)")


def wait_for_port(port, proc, describe, timeout=30):
    """Waits until 127.0.0.1:port accepts; raises if `proc` exits first."""
    deadline = time.time() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {describe()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def run_smbd(extra_global="", env=None, share_path=None, signing="mandatory"):
    """Yields a namespace with port, tmp (the temp dir), share (the share's
    directory) and proc. `extra_global` lines go into [global]; `env` is
    smbd's whole environment (default: inherited); `share_path` replaces the
    share's directory (e.g. a tmpfs); `signing` is `server signing`."""
    require_samba()
    tmp = temp_dir("smbsign-smbd-")
    dirs = {d: os.path.join(tmp, d) for d in ["lock", "state", "cache", "private", "pid", "ncalrpc", "share", "log"]}
    for d in dirs.values():
        os.makedirs(d)
    if share_path:
        dirs["share"] = share_path
    os.chmod(tmp, 0o755)  # the share must be reachable by the (non-root) user
    os.chmod(dirs["share"], 0o777)
    if ROOT:
        if subprocess.run(in_userland(["id", "-u", USER]), capture_output=True).returncode != 0:
            subprocess.run(in_userland(["useradd", "-M", "-s", "/usr/sbin/nologin", USER]), check=True)
    else:
        try:
            pwd.getpwnam(USER)
        except KeyError:
            subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", USER], check=True)
    # smb.conf names the userland's paths; `dirs` stays this machine's.
    idirs = {k: inner(v) for k, v in dirs.items()}
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
    server signing = {signing}
    server min protocol = SMB2_02
    server max protocol = SMB3_11
    lock directory = {idirs['lock']}
    state directory = {idirs['state']}
    cache directory = {idirs['cache']}
    private dir = {idirs['private']}
    pid directory = {idirs['pid']}
    ncalrpc dir = {idirs['ncalrpc']}
    passdb backend = tdbsam:{idirs['private']}/passdb.tdb
    log file = {idirs['log']}/log.%m
    log level = 1
    load printers = no
    printing = bsd
    printcap name = /dev/null
    disable spoolss = yes
    disable netbios = yes
{extra_global}
[share]
    path = {idirs['share']}
    read only = no
    valid users = {USER}
""")
    subprocess.run(in_userland([SMBPASSWD, "-c", inner(conf), "-s", "-a", USER]), input=f"{PASSWORD}\n{PASSWORD}\n",
                   text=True, check=True, capture_output=True)
    out = os.path.join(tmp, "smbd.out")
    log = open(out, "w")
    # Own session: smbd signals its whole process group on exit.
    proc = subprocess.Popen(in_userland([SMBD, "--foreground", "--no-process-group", "-s", inner(conf)]),
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, env=env)
    try:
        # A userland's smbd may run under qemu-user: give it longer to start.
        wait_for_port(port, proc, lambda: open(out).read()[-2000:], timeout=180 if ROOT else 30)
        yield SimpleNamespace(port=port, tmp=tmp, share=dirs["share"], proc=proc, conf=conf)
    finally:
        stop(proc)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def running_smbd(extra_global=""):
    """Yields (port, share directory) of a running smbd; `extra_global` adds
    lines to its [global] section."""
    with run_smbd(extra_global) as server:
        yield server.port, server.share


def session_for(port, dialect, algos):
    from smbprotocol.connection import Connection
    from smbprotocol.session import Session

    conn = Connection(uuid.uuid4(), "127.0.0.1", port, require_signing=True)
    conn.connect(dialect=dialect, preferred_signing_algos=algos)
    session = Session(conn, USER, PASSWORD, require_encryption=False)
    session.connect()
    return conn, session


def open_file(session, port, name):
    from smbprotocol.open import (CreateDisposition, CreateOptions, FileAttributes, FilePipePrinterAccessMask,
                                  ImpersonationLevel, Open, ShareAccess)
    from smbprotocol.tree import TreeConnect

    tree = TreeConnect(session, rf"\\127.0.0.1\share")
    tree.connect()
    f = Open(tree, name)
    f.create(ImpersonationLevel.Impersonation,
             FilePipePrinterAccessMask.GENERIC_READ | FilePipePrinterAccessMask.GENERIC_WRITE,
             FileAttributes.FILE_ATTRIBUTE_NORMAL, ShareAccess.FILE_SHARE_READ, CreateDisposition.FILE_OVERWRITE_IF,
             CreateOptions.FILE_NON_DIRECTORY_FILE)
    return tree, f


def assert_corrupted_signature_refused(conn, session):
    """Flips a bit of the next request signature smbprotocol computes (a tree
    connect) and checks that smbd refuses it with STATUS_ACCESS_DENIED; then
    disconnects."""
    import pytest
    from smbprotocol.connection import Connection, NtStatus
    from smbprotocol.exceptions import SMBResponseException
    from smbprotocol.tree import TreeConnect

    good = Connection._generate_signature
    state = {"armed": True}

    def corrupting(self, b_header, signing_key, message_id, response, command):
        sig = good(self, b_header, signing_key, message_id, response, command)
        if state["armed"] and not response:
            state["armed"] = False
            return bytes([sig[0] ^ 0x01]) + sig[1:]
        return sig

    Connection._generate_signature = corrupting
    try:
        with pytest.raises(SMBResponseException) as exc:
            TreeConnect(session, r"\\127.0.0.1\share").connect()
        assert exc.value.status == NtStatus.STATUS_ACCESS_DENIED
    finally:
        Connection._generate_signature = good
        conn.disconnect()
