"""Real SMB copies through Debian's smbd and smbclient on loopback (share and
files on tmpfs): put and get of one file per run, unsigned, signed by stock
GnuTLS, and signed with libsmbsign_gnutls.so preloaded into smbd only and into
both ends; then encrypted per cipher (3.1.1: AES-128/256-GCM, AES-128/256-CCM;
3.0.2: AES-128-CCM) the same three ways. With SMBSIGN_SAMBA_ROOT (smbd_server.py) smbd and smbclient are
that userland's (e.g. Debian 13's). Reports MB/s each way and smbd CPU seconds per GiB (smbd and every
process it forks, exited ones included: see CpuMeter), and the signing or
encryption share (signed or encrypted minus unsigned). Run by scripts/bench-samba.sh."""

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))
from smbd_server import PASSWORD, ROOT, USER, in_userland, inner, outer, run_smbd  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
GIB = 1 << 30
# (name, smbclient protocol, 3.1.1 signing algorithm)
SIGNED = [
    ("2.0.2 HMAC", "SMB2_02", None),
    ("2.1 HMAC", "SMB2_10", None),
    ("3.0.2 CMAC", "SMB3_02", None),
    ("3.1.1 GMAC", "SMB3_11", "AES-128-GMAC"),
    ("3.1.1 CMAC", "SMB3_11", "AES-128-CMAC"),
    ("3.1.1 HMAC", "SMB3_11", "HMAC-SHA256"),
]
# (name, smbclient protocol, cipher: both ends' only smb3 encryption algorithm).
# 3.0.2 has AES-128-CCM only (no negotiate contexts): the lists still name it.
ENCRYPTED = [
    ("3.1.1 AES-128-GCM", "SMB3_11", "AES-128-GCM"),
    ("3.1.1 AES-256-GCM", "SMB3_11", "AES-256-GCM"),
    ("3.1.1 AES-128-CCM", "SMB3_11", "AES-128-CCM"),
    ("3.1.1 AES-256-CCM", "SMB3_11", "AES-256-CCM"),
    ("3.0.2 AES-128-CCM", "SMB3_02", "AES-128-CCM"),
]
UNSIGNED = {"SMB2_02": "2.0.2", "SMB2_10": "2.1", "SMB3_02": "3.0.2", "SMB3_11": "3.1.1"}


def tree_cpu(root):
    """CPU seconds of root and all its descendants (live ones' own time plus
    every process's reaped children)."""
    ppid, cpu = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(d)
        ppid[pid] = int(fields[1])
        cpu[pid] = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += cpu.get(p, 0)
        todo += [c for c, pp in ppid.items() if pp == p]
    return total / TICK


class CpuMeter:
    """CPU seconds used by an smbd and every process and thread it forks,
    exited ones included, at ns resolution: the server is moved into a cgroup
    of its own (v1 cpuacct.usage, ns; else v2 cpu.stat usage_usec, us) that
    its connection children inherit. /proc/PID/schedstat has ns too, but an
    smbd child serving a connection exits with it and its schedstat goes with
    it (no cumulative-children field). Where no cgroup can be made: tree_cpu,
    clock ticks (10 ms). `what` says which was used."""

    def __init__(self, pid, tag):
        self.pid, self.path, self.what, self.resolution = pid, None, f"/proc ticks ({1e3 / TICK:.0f} ms)", 1 / TICK
        for base, kind in [("/sys/fs/cgroup/cpuacct", "v1"), ("/sys/fs/cgroup/unified", "v2"), ("/sys/fs/cgroup", "v2")]:
            probe = "cpuacct.usage" if kind == "v1" else "cgroup.controllers"
            if not os.path.exists(os.path.join(base, probe)):
                continue
            path = os.path.join(base, f"smbsign-bench-{os.getpid()}-{tag}")
            try:
                os.mkdir(path)
                for p in self._tree():
                    try:
                        with open(os.path.join(path, "cgroup.procs"), "w") as f:
                            f.write(f"{p}\n")
                    except ProcessLookupError:
                        if p == self.pid:
                            raise  # the server itself is gone: no meter
                        # a helper that exited meanwhile: nothing of it to count
                self.path, self.kind = path, kind
                self.what, self.resolution = (("cgroup cpuacct.usage (1 ns)", 1e-9) if kind == "v1"
                                              else ("cgroup cpu.stat usage_usec (1 us)", 1e-6))
                self.read()
                break
            except OSError as e:
                print(f"note: no {kind} cgroup meter ({e})", file=sys.stderr)
                self.path = None
                try:  # back to the parent group, so that the empty one can go
                    for p in self._tree():
                        with open(os.path.join(base, "cgroup.procs"), "w") as f:
                            f.write(f"{p}\n")
                except OSError:
                    pass
                try:
                    os.rmdir(path)
                except OSError:
                    pass

    def _tree(self):
        ppid = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        ppid[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
                except OSError:
                    pass
        out, todo = [], [self.pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo += [c for c, pp in ppid.items() if pp == p]
        return out

    def read(self):
        """CPU seconds so far."""
        if self.path is None:
            return tree_cpu(self.pid)
        if self.kind == "v1":
            with open(os.path.join(self.path, "cpuacct.usage")) as f:
                return int(f.read()) / 1e9
        with open(os.path.join(self.path, "cpu.stat")) as f:
            return next(int(ln.split()[1]) for ln in f if ln.startswith("usage_usec")) / 1e6

    def close(self):
        """Removes the cgroup once the server's processes have gone."""
        for _ in range(50):
            if self.path is None:
                return
            try:
                os.rmdir(self.path)
                self.path = None
            except OSError:
                time.sleep(0.1)
        print(f"note: could not remove {self.path}", file=sys.stderr)


def smbclient(port, proto, alg, signed, command, env, cipher=None):
    """Runs one smbclient command line; `alg` the 3.1.1 signing algorithm,
    `cipher` (with signed) the encryption algorithm, encryption required."""
    args = ["smbclient", "//127.0.0.1/share", "-p", str(port), "-U", f"{USER}%{PASSWORD}",
            "-m", proto, f"--option=client min protocol={proto}"]
    if cipher:
        args += ["--option=clientsmbencrypt=required", f"--option=client smb3 encryption algorithms={cipher}"]
        if proto == "SMB3_02":
            args.append("--option=client max protocol=SMB3_02")
    else:
        args.append(f"--client-protection={'sign' if signed else 'off'}")
    args += ["-c", command]
    if alg:
        args.append(f"--option=client smb3 signing algorithms={alg}")
    t0 = time.perf_counter()
    r = subprocess.run(in_userland(args), env=env, capture_output=True, text=True, timeout=600)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {r.stdout}{r.stderr}")
    return dt


def check_encrypted(server, proto, cipher, env):
    """Before timing an encrypted config: its client's session is encrypted
    (smbclient -d 10 logs each PDU it encrypts), and for 3.1.1 a client
    offering only another cipher is refused, so the server (which requires
    encryption with `cipher` alone) used `cipher`."""
    args = ["smbclient", "//127.0.0.1/share", "-p", str(server.port), "-U", f"{USER}%{PASSWORD}", "-m", proto,
            f"--option=client min protocol={proto}", "--option=clientsmbencrypt=required", "-d", "10"]
    r = subprocess.run(in_userland(args + [f"--option=client smb3 encryption algorithms={cipher}", "-c", "ls"]),
                       env=env, capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or "Encrypted SMB2 message" not in r.stdout + r.stderr:
        raise RuntimeError(f"{proto} {cipher}: the session is not encrypted (rc {r.returncode})")
    if proto == "SMB3_11":
        other = next(c for c in ["AES-128-GCM", "AES-256-CCM"] if c != cipher)
        r = subprocess.run(in_userland(args + [f"--option=client smb3 encryption algorithms={other}", "-c", "ls"]),
                           env=env, capture_output=True, text=True, timeout=120)
        if r.returncode == 0:
            raise RuntimeError(f"{proto}: the server requiring {cipher} accepted a client offering {other} only")


def one_copy(server, proto, alg, signed, src, dst, size, env, cipher=None):
    """(put MB/s, put smbd CPU s, get MB/s, get smbd CPU s)."""
    out = []
    for command in [f"put {inner(src)} bench.bin", f"get bench.bin {inner(dst)}"]:
        time.sleep(0.3)
        c0 = server.meter.read()
        dt = smbclient(server.port, proto, alg, signed, command, env, cipher)
        time.sleep(0.5)  # the serving child exits and is reaped
        c1 = server.meter.read()
        out += [size / dt / 1e6, c1 - c0]
    if os.path.getsize(dst) != size:
        raise RuntimeError("short copy")
    os.unlink(dst)
    return out


def encrypting_conf(cipher):
    """smb.conf [global] lines of a server that requires encryption with `cipher` only."""
    return f"    server smb encrypt = required\n    server smb3 encryption algorithms = {cipher}\n"


def repeat_with_servers(repeat, share, base_env, pre_env, one_repeat, ciphers=()):
    """Runs one_repeat(rep, unsigned, stock, preloaded server, encrypting)
    `repeat` times against smbd serving `share`: signing off, stock GnuTLS,
    libsmbsign_gnutls.so preloaded, and per cipher in `ciphers` a stock and a
    preloaded server requiring encryption with it (`encrypting[(cipher,
    preloaded)]`). Each server carries its CpuMeter as `.meter`."""
    t_start = time.time()
    meters = []
    with contextlib.ExitStack() as stack:
        def start(env, **kw):
            srv = stack.enter_context(run_smbd(env=env, share_path=share, **kw))
            srv.meter = CpuMeter(srv.proc.pid, srv.port)
            meters.append(srv.meter)
            return srv
        try:
            unsigned_srv = start(base_env, signing="auto")
            stock_srv = start(base_env)
            pre_srv = start(pre_env)
            encrypting = {(c, pre): start(pre_env if pre else base_env, extra_global=encrypting_conf(c))
                          for c in ciphers for pre in (False, True)}
            print(f"smbd CPU from {unsigned_srv.meter.what}", file=sys.stderr)
            for rep in range(repeat):
                one_repeat(rep, unsigned_srv, stock_srv, pre_srv, encrypting)
                print(f"repeat {rep + 1}/{repeat} done ({time.time() - t_start:.0f} s)", file=sys.stderr)
        finally:
            stack.close()  # stops every smbd
            for m in meters:
                m.close()
    return (meters[0].what, meters[0].resolution) if meters else ("-", 1 / TICK)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--so", required=True)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", default="target/bench-samba")
    ap.add_argument("--only", help="comma-separated config names (e.g. '3.1.1 CMAC,3.1.1 GMAC,3.1.1 AES-128-GCM')")
    ap.add_argument("--no-encrypted", action="store_true", help="the signed configs only (no encrypted copies)")
    ap.add_argument("--no-signed", action="store_true", help="the encrypted configs only")
    ap.add_argument("--small", action="store_true",
                    help="small messages: put FILES 4 KiB files and list a DIR-ENTRIES directory (see small_main)")
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--dir-entries", type=int, default=10000)
    ap.add_argument("--listings", type=int, default=5)
    a = ap.parse_args()
    if a.small:
        return small_main(a)
    os.makedirs(a.out, exist_ok=True)
    size = a.size_mib << 20
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_PRELOAD", "SMBSIGN_GNUTLS"))}
    so = os.path.abspath(a.so)
    if ROOT:  # the library as the userland sees it
        os.makedirs(outer("/opt/smbsign"), exist_ok=True)
        subprocess.run(["install", "-m", "0755", so, outer("/opt/smbsign/libsmbsign_gnutls.so")], check=True)
        so = "/opt/smbsign/libsmbsign_gnutls.so"
    pre_env = dict(base_env, LD_PRELOAD=so)
    only = a.only.split(",") if a.only else None
    signed = [] if a.no_signed else [c for c in SIGNED if not only or c[0] in only]
    encrypted = [] if a.no_encrypted else [c for c in ENCRYPTED if not only or c[0] in only]
    if not signed and not encrypted:
        sys.exit(f"no config selected (signed: {[c[0] for c in SIGNED]}, encrypted: {[c[0] for c in ENCRYPTED]})")
    ciphers = sorted({c[2] for c in encrypted})
    protos = sorted({c[1] for c in signed + encrypted})
    # A tmpfs the smbd sees: /dev/shm, or the one bench-samba.sh mounts inside a userland.
    work = tempfile.mkdtemp(prefix="smbsign-bench-", dir=os.environ.get("SMBSIGN_BENCH_TMPFS", "/dev/shm"))
    os.chmod(work, 0o755)  # the share inside must be reachable by the (non-root) user
    share = os.path.join(work, "share")
    os.makedirs(share)
    src, dst = os.path.join(work, "src.bin"), os.path.join(work, "dst.bin")
    with open(src, "wb") as f:
        for _ in range(a.size_mib):
            f.write(os.urandom(1 << 20))
    load_before = open("/proc/loadavg").read().split()[:3]
    rows = {}  # (config, variant) -> list of [put MB/s, put CPU, get MB/s, get CPU]
    def one_repeat(rep, unsigned_srv, stock_srv, pre_srv, encrypting):
        if rep == 0:
            for _, proto, cipher in encrypted:
                for pre in (False, True):
                    check_encrypted(encrypting[(cipher, pre)], proto, cipher, base_env)
        for proto in protos:
            r = one_copy(unsigned_srv, proto, None, False, src, dst, size, base_env)
            rows.setdefault((f"{UNSIGNED[proto]} unsigned", "stock"), []).append(r)
        for name, proto, alg in signed:
            for variant, srv, cenv in [("stock", stock_srv, base_env), ("smbsign server", pre_srv, base_env),
                                       ("smbsign both", pre_srv, pre_env)]:
                r = one_copy(srv, proto, alg, True, src, dst, size, cenv)
                rows.setdefault((name, variant), []).append(r)
        for name, proto, cipher in encrypted:
            for variant, srv, cenv in [("stock", encrypting[(cipher, False)], base_env),
                                       ("smbsign server", encrypting[(cipher, True)], base_env),
                                       ("smbsign both", encrypting[(cipher, True)], pre_env)]:
                r = one_copy(srv, proto, None, True, src, dst, size, cenv, cipher)
                rows.setdefault((name, variant), []).append(r)

    try:
        cpu_source, _ = repeat_with_servers(a.repeat, share, base_env, pre_env, one_repeat, ciphers)
    finally:
        for p in [src, dst]:
            if os.path.exists(p):
                os.unlink(p)
        subprocess.run(["rm", "-rf", work])
    load_after = open("/proc/loadavg").read().split()[:3]
    med = {k: [statistics.median(r[i] for r in v) for i in range(4)] for k, v in rows.items()}
    gib = size / GIB
    cpu = platform.processor() or ""
    with open("/proc/cpuinfo") as f:
        info = dict(line.split(":", 1) for line in f.read().split("\n\n")[0].splitlines() if ":" in line)
    info = {k.strip(): v.strip() for k, v in info.items()}
    cpu = f"{info.get('model name', cpu)} (family {info.get('cpu family')} model {info.get('model')})"
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": cpu, "cores": os.cpu_count(),
            "size_mib": a.size_mib, "repeat": a.repeat, "loadavg_before": load_before, "loadavg_after": load_after,
            "smbd_cpu_from": cpu_source,
            "samba": subprocess.run(in_userland(["/usr/sbin/smbd", "--version"]), capture_output=True,
                                    text=True).stdout.strip() + (f" (userland {ROOT})" if ROOT else "")}
    lines = [f"{meta['date']}, {cpu}, {os.cpu_count()} cores, {a.size_mib} MiB put + {a.size_mib} MiB get per run, "
             f"median of {a.repeat}, loadavg before {' '.join(load_before)} after {' '.join(load_after)}, {meta['samba']}; "
             f"smbd CPU from {cpu_source}",
             "",
             "| config | smbd signs/encrypts with | put MB/s | get MB/s | smbd CPU s/GiB (put+get)/2 "
             "| signing/encryption CPU s/GiB | that share vs stock, put vs stock |",
             "|---|---|---:|---:|---:|---:|---:|"]
    table = []
    for proto in protos:
        k = (f"{UNSIGNED[proto]} unsigned", "stock")
        pm, pc, gm, gc = med[k]
        lines.append(f"| {k[0]} | - | {pm:.0f} | {gm:.0f} | {(pc + gc) / 2 / gib:.2f} | - | - |")
    for name, proto, _ in signed + encrypted:
        protection = "encrypt" if any(name == c[0] for c in encrypted) else "sign"
        base = med[(f"{UNSIGNED[proto]} unsigned", "stock")]
        base_cpu = (base[1] + base[3]) / 2 / gib
        stock_share = None
        for variant in ["stock", "smbsign server", "smbsign both"]:
            pm, pc, gm, gc = med[(name, variant)]
            c = (pc + gc) / 2 / gib
            share = c - base_cpu
            if variant == "stock":
                stock_share = share
                vs = "-"
            else:
                if stock_share <= 0:
                    vs = "n/a (stock share <= 0)"
                else:
                    red = (1 - share / stock_share) * 100
                    vs = f"{red:.0f}% lower" if red >= 0 else f"{-red:.0f}% higher"
                vs += f", put {pm / med[(name, 'stock')][0]:.2f}x"
            lines.append(f"| {name} | {'GnuTLS' if variant == 'stock' else variant} | {pm:.0f} | {gm:.0f} | "
                         f"{c:.2f} | {share:.2f} | {vs} |")
            share_key = "encryption_cpu_s_per_gib" if protection == "encrypt" else "signing_cpu_s_per_gib"
            table.append({"config": name, "variant": variant, "protection": protection, "put_mb_s": pm,
                          "get_mb_s": gm, "smbd_cpu_s_per_gib": c, share_key: share,
                          "unsigned_cpu_s_per_gib": base_cpu})
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(a.out, "samba.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(a.out, "samba.json"), "w") as f:
        json.dump({"meta": meta, "rows": table, "raw": {f"{k[0]}|{k[1]}": v for k, v in rows.items()}}, f, indent=1)
    write_svg(os.path.join(a.out, "samba.svg"), table, meta)


SMALL = [("3.1.1 GMAC", "SMB3_11", "AES-128-GMAC"), ("3.1.1 CMAC", "SMB3_11", "AES-128-CMAC"),
         ("3.1.1 HMAC", "SMB3_11", "HMAC-SHA256")]


def small_main(a):
    """Small-message traffic, the messages Samba signs most: one smbclient
    session puts FILES 4 KiB files (create, write, close per file), another
    lists a directory of DIR-ENTRIES entries LISTINGS times (query-directory
    responses). Per algorithm (SMB 3.1.1), unsigned, signed by stock GnuTLS
    and with libsmbsign_gnutls.so preloaded into smbd; smbd CPU per operation
    and the signing share (signed minus unsigned), median of --repeat."""
    os.makedirs(a.out, exist_ok=True)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_PRELOAD", "SMBSIGN_GNUTLS"))}
    pre_env = dict(base_env, LD_PRELOAD=os.path.abspath(a.so))
    configs = [c for c in SMALL if not a.only or c[0] in a.only.split(",")]
    work = tempfile.mkdtemp(prefix="smbsign-bench-small-", dir="/dev/shm")
    os.chmod(work, 0o755)
    share, src = os.path.join(work, "share"), os.path.join(work, "src")
    os.makedirs(share)
    os.makedirs(src)
    for i in range(a.files):
        with open(os.path.join(src, f"f{i:05d}.bin"), "wb") as f:
            f.write(os.urandom(4096))
    big = os.path.join(share, "big")
    os.makedirs(big)
    for i in range(a.dir_entries):
        open(os.path.join(big, f"entry{i:05d}.txt"), "w").close()
    os.chmod(share, 0o777)
    load_before = open("/proc/loadavg").read().split()[:3]
    rows = {}  # (config, variant) -> [[put CPU s per file, list CPU s per listing], ...]

    def measure(srv, proto, alg, signed, command):
        time.sleep(0.3)
        c0 = srv.meter.read()
        smbclient(srv.port, proto, alg, signed, command, base_env)
        time.sleep(0.5)  # the serving child exits and is reaped
        return srv.meter.read() - c0

    def run(srv, proto, alg, signed, tag):
        remote = f"put-{tag}"
        put = measure(srv, proto, alg, signed, f"prompt off; lcd {src}; mkdir {remote}; cd {remote}; mput *")
        got = len(os.listdir(os.path.join(share, remote)))
        subprocess.run(["rm", "-rf", os.path.join(share, remote)], check=True)
        if got != a.files:
            raise RuntimeError(f"{tag}: {got} of {a.files} files put")
        lst = measure(srv, proto, alg, signed, "cd big; " + "; ".join(["ls"] * a.listings))
        return [put / a.files, lst / a.listings]

    def one_repeat(rep, unsigned_srv, stock_srv, pre_srv, _encrypting):
        rows.setdefault(("3.1.1 unsigned", "stock"), []).append(run(unsigned_srv, "SMB3_11", None, False, f"u{rep}"))
        for name, proto, alg in configs:
            for variant, srv in [("stock", stock_srv), ("smbsign server", pre_srv)]:
                tag = f"{name.split()[1]}-{variant.split()[0]}-{rep}"
                rows.setdefault((name, variant), []).append(run(srv, proto, alg, True, tag))

    try:
        cpu_source, resolution = repeat_with_servers(a.repeat, share, base_env, pre_env, one_repeat)
    finally:
        subprocess.run(["rm", "-rf", work])
    load_after = open("/proc/loadavg").read().split()[:3]
    med = {k: [statistics.median(r[i] for r in v) for i in range(2)] for k, v in rows.items()}
    with open("/proc/cpuinfo") as f:
        model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [f"{date}, {model}, {os.cpu_count()} cores, {a.files} x 4 KiB put, {a.listings} listings of "
             f"{a.dir_entries} entries, median of {a.repeat}, loadavg before {' '.join(load_before)} "
             f"after {' '.join(load_after)}; smbd CPU from {cpu_source}: resolution "
             f"{resolution * 1e9 / a.files:.3g} ns/file, {resolution * 1e9 / a.listings:.3g} ns/listing",
             "",
             "| config | smbd signs with | put: smbd CPU us/file | signing us/file | signing % of smbd CPU (put) "
             "| list: smbd CPU ms/listing | signing ms/listing | signing % of smbd CPU (list) "
             "| signing share vs stock (put, list) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    up, ul = med[("3.1.1 unsigned", "stock")]
    lines.append(f"| 3.1.1 unsigned | - | {up * 1e6:.2f} | - | - | {ul * 1e3:.3f} | - | - | - |")
    table = []

    def pct(part, whole):
        return f"{part / whole * 100:.1f}%" if whole > 0 else "-"

    for name, _, _ in configs:
        sp, sl = med[(name, "stock")][0] - up, med[(name, "stock")][1] - ul
        for variant in ["stock", "smbsign server"]:
            p, l = med[(name, variant)]
            vs = "-"
            if variant != "stock":
                vs = ", ".join(f"{(1 - x / y) * 100:.0f}% lower" if y > 0 and x <= y else
                               (f"{(x / y - 1) * 100:.0f}% higher" if y > 0 else "n/a (stock share <= 0)")
                               for x, y in [(p - up, sp), (l - ul, sl)])
            lines.append(f"| {name} | {'GnuTLS' if variant == 'stock' else variant} | {p * 1e6:.2f} | "
                         f"{(p - up) * 1e6:.2f} | {pct(p - up, p)} | {l * 1e3:.3f} | {(l - ul) * 1e3:.3f} | "
                         f"{pct(l - ul, l)} | {vs} |")
            table.append({"config": name, "variant": variant, "put_cpu_s_per_file": p, "list_cpu_s_per_listing": l,
                          "signing_cpu_s_per_file": p - up, "signing_cpu_s_per_listing": l - ul})
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(a.out, "samba-small.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(a.out, "samba-small.json"), "w") as f:
        json.dump({"date": date, "cpu": model, "smbd_cpu_from": cpu_source, "resolution_s": resolution,
                   "rows": table, "unsigned": [up, ul],
                   "raw": {f"{k[0]}|{k[1]}": v for k, v in rows.items()}}, f, indent=1)


def redraw(json_path, svg_path):
    """Redraws the plot from a saved samba.json."""
    with open(json_path) as f:
        d = json.load(f)
    write_svg(svg_path, d["rows"], d["meta"])


def write_svg(path, table, meta):
    """Bars of smbd CPU s/GiB per config (signed, then encrypted): stock GnuTLS, smbsign server, both."""
    colors = {"stock": "#888888", "smbsign server": "#2a7fd4", "smbsign both": "#7fb8ea"}
    configs = list(dict.fromkeys(r["config"] for r in table))
    vmax = max(r["smbd_cpu_s_per_gib"] for r in table) * 1.1 or 1
    # Wide enough for 110 px per config (the encrypted configs' names are long).
    w = max(760, 80 + 110 * len(configs))
    h, left, bottom, group = 360, 60, 60, (w - 80) / max(1, len(configs))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="DejaVu Sans" font-size="11">',
           f'<text x="{w / 2}" y="16" text-anchor="middle" font-size="13">smbd CPU seconds per GiB copied '
           f'(put+get)/2, {meta["size_mib"]} MiB each way, {meta["cpu"]}</text>']
    for i in range(5):
        v = vmax * i / 4
        y = h - bottom - (h - bottom - 30) * i / 4
        out.append(f'<line x1="{left}" x2="{w - 10}" y1="{y:.0f}" y2="{y:.0f}" stroke="#ddd"/>'
                   f'<text x="{left - 5}" y="{y + 4:.0f}" text-anchor="end">{v:.2f}</text>')
    for gi, cfg in enumerate(configs):
        for vi, variant in enumerate(colors):
            r = next((r for r in table if r["config"] == cfg and r["variant"] == variant), None)
            if not r:
                continue
            bh = (h - bottom - 30) * r["smbd_cpu_s_per_gib"] / vmax
            x = left + gi * group + 8 + vi * (group - 16) / 3
            out.append(f'<rect x="{x:.0f}" y="{h - bottom - bh:.0f}" width="{(group - 16) / 3 - 2:.0f}" '
                       f'height="{bh:.0f}" fill="{colors[variant]}"/>')
        base = next(r["unsigned_cpu_s_per_gib"] for r in table if r["config"] == cfg)
        y = h - bottom - (h - bottom - 30) * base / vmax
        out.append(f'<line x1="{left + gi * group + 4:.0f}" x2="{left + (gi + 1) * group - 4:.0f}" y1="{y:.0f}" '
                   f'y2="{y:.0f}" stroke="#000" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{left + gi * group + group / 2:.0f}" y="{h - bottom + 16}" text-anchor="middle">{cfg}</text>')
    for vi, (variant, col) in enumerate(colors.items()):
        out.append(f'<rect x="{left + vi * 180}" y="{h - 24}" width="12" height="12" fill="{col}"/>'
                   f'<text x="{left + vi * 180 + 16}" y="{h - 14}">{"stock GnuTLS" if variant == "stock" else variant}</text>')
    out.append(f'<line x1="{left + 600}" x2="{left + 630}" y1="{h - 18}" y2="{h - 18}" stroke="#000" '
               f'stroke-dasharray="4 3"/><text x="{left + 634}" y="{h - 14}">unsigned</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
