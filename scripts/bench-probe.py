"""smbsign-probe's cost against Debian's smbd on loopback (signing mandatory,
with credentials: every dialect and 3.1.1 algorithm): the wall time of one full
probe (N runs: min/median/max), then one invocation probing the same server M
times (cycling over K smbd instances) at concurrency C, under /usr/bin/time -v (wall time, max RSS). Prints
the CPU, date and load average with the figures (BENCHMARKS.md, "smbsign-check and smbsign-probe").

usage: python3 scripts/bench-probe.py [--probe target/release/smbsign-probe] [--runs 10] [--targets 50]
                                     [--concurrency 16] [--servers 1]"""

import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))
from smbd_server import PASSWORD, USER, run_smbd  # noqa: E402


def smbd_cpu(pid):
    """CPU seconds of smbd and its reaped children (one per connection)."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in f[11:15]) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", default="target/release/smbsign-probe")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--targets", type=int, default=50)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--servers", type=int, default=1, help="smbd instances the batch's targets cycle over")
    a = ap.parse_args()
    env = dict(os.environ, SMBSIGN_PROBE_PASSWORD=PASSWORD)
    cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    print(f"cpu: {cpu}; {os.cpu_count()} cores")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(run_smbd()) for _ in range(a.servers)]
        s = servers[0]
        target = f"127.0.0.1:{s.port}"
        cmd = [a.probe, "--json", "--user", USER, target]
        walls = []
        cpu0 = smbd_cpu(s.proc.pid)
        for _ in range(a.runs):
            t = time.perf_counter()
            r = subprocess.run(cmd, env=env, capture_output=True, text=True)
            walls.append(time.perf_counter() - t)
            assert r.returncode == 0 and '"verdict": "ok"' in r.stdout, r.stdout + r.stderr
        print(f"smbd CPU per full probe: {(smbd_cpu(s.proc.pid) - cpu0) / a.runs:.2f} s")
        print(f"load before the batch: {open('/proc/loadavg').read().split()[:3]}")
        print(f"one full probe ({a.runs} runs): min {min(walls):.3f} s, median {statistics.median(walls):.3f} s, "
              f"max {max(walls):.3f} s")
        batch = ["/usr/bin/time", "-v", a.probe, "--json", "--concurrency", str(a.concurrency), "--user", USER,
                 *[f"127.0.0.1:{servers[i % a.servers].port}" for i in range(a.targets)]]
        cpu0 = sum(smbd_cpu(x.proc.pid) for x in servers)
        r = subprocess.run(batch, env=env, capture_output=True, text=True)
        smbd = sum(smbd_cpu(x.proc.pid) for x in servers) - cpu0
        lines = r.stdout.splitlines()
        ok = sum('"verdict": "ok"' in x for x in lines)
        wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", r.stderr).group(1)
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
        user = re.search(r"User time \(seconds\): (\S+)", r.stderr).group(1)
        sys_t = re.search(r"System time \(seconds\): (\S+)", r.stderr).group(1)
        print(f"{a.targets} probes over {a.servers} smbd at concurrency {a.concurrency}: wall {wall}, max RSS {rss / 1024:.1f} MiB, "
              f"probe user {user} s, sys {sys_t} s; smbd CPU {smbd:.1f} s; {ok}/{len(lines)} ok, exit {r.returncode}")
        print(f"load after: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
