"""smbsign-probe against real servers on 127.0.0.1, each verdict asserted:
Debian's smbd with signing mandatory (recorded with tcpdump: tshark lists the
probe's commands and negotiate contexts, smbsign-check verifies every
signature), signing auto, one 3.1.1 signing algorithm, SMB1 on, a guest-only
server probed without credentials, encryption required; impacket's
SimpleSMBServer (at-risk); loopback proxies that spoil or strip the server's
response signatures; a closed port; tests/probe/fake_smb.py's misbehaving
servers (the review's F1 F2 F3 F4 F10 F17). The share directories must be unchanged.
Prints one line per check and "N passed, N failed"; exit status 0 iff all passed.

usage: test_probe.py PROBE CHECK (the smbsign-probe and smbsign-check binaries)"""

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from smbd_server import PASSWORD, USER, free_port, run_smbd, stop, wait_for_port  # noqa: E402

PROBE, CHECK = sys.argv[1], sys.argv[2]
CREDS = ["--user", USER]
ENV = dict(os.environ, SMBSIGN_PROBE_PASSWORD=PASSWORD)
RESULTS = {"passed": 0, "failed": 0}
ALL_SIGS = ["2.0.2", "2.1", "3.0", "3.0.2", "3.1.1/aes-gmac", "3.1.1/aes-cmac", "3.1.1/hmac-sha256"]


def check(name, cond, detail=""):
    if cond:
        RESULTS["passed"] += 1
        print(f"ok   {name}")
    else:
        RESULTS["failed"] += 1
        print(f"FAIL {name}: {detail}")


def probe(*targets, creds=True, extra=()):
    args = [PROBE, "--json", "--timeout", "5", *(CREDS if creds else []), *extra, *targets]
    env = ENV if creds else {k: v for k, v in os.environ.items() if not k.startswith("SMBSIGN_PROBE_")}
    r = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    return r.returncode, lines, r.stderr


def snapshot(path):
    """Every entry under `path` with its size and mtime (the share must not change)."""
    out = {}
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            out[os.path.relpath(p, path)] = (st.st_size, st.st_mtime_ns)
    st = os.stat(path)
    out["."] = (st.st_mtime_ns, st.st_ctime_ns)
    return out


class Proxy:
    """A loopback proxy in front of `target_port` altering every signed SMB2
    response: `spoil` flips a bit of each PDU's signature, `strip` clears
    SMB2_FLAGS_SIGNED and zeroes the signature of each PDU, `pass` alters
    nothing (on ::1: smbd itself listens on IPv4 only)."""

    def __init__(self, target_port, mode, host="127.0.0.1"):
        self.target, self.mode, self.altered = target_port, mode, 0
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.create_server((host, 0), family=family)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _pump(self, src, dst, alter):
        pending = b""
        try:
            while True:
                chunk = src.recv(1 << 16)
                if not chunk:
                    break
                if not alter:
                    dst.sendall(chunk)
                    continue
                pending += chunk
                while len(pending) >= 4 and len(pending) >= 4 + int.from_bytes(pending[1:4], "big"):
                    n = 4 + int.from_bytes(pending[1:4], "big")
                    frame, pending = bytearray(pending[:n]), pending[n:]
                    self._alter(frame)
                    dst.sendall(frame)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def _serve(self, client):
        server = socket.create_connection(("127.0.0.1", self.target))
        threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
        self._pump(server, client, True)
        client.close()
        server.close()

    def _alter(self, frame):
        at = 4
        while at + 64 <= len(frame) and frame[at:at + 4] == b"\xfeSMB":
            if frame[at + 16] & 0x08 and self.mode != "pass":
                if self.mode == "spoil":
                    frame[at + 48] ^= 0x01
                else:
                    frame[at + 16] &= ~0x08 & 0xFF
                    frame[at + 48:at + 64] = bytes(16)
                self.altered += 1
            nxt = int.from_bytes(frame[at + 20:at + 24], "little")
            if nxt == 0:
                break
            at += nxt

    def close(self):
        self.listener.close()


@contextlib.contextmanager
def impacket_server():
    """impacket's SimpleSMBServer with the test account, in its own process."""
    port = free_port()
    share = tempfile.mkdtemp(prefix="smbsign-probe-impacket-")
    code = f"""
from impacket import ntlm, smbserver
s = smbserver.SimpleSMBServer(listenAddress="127.0.0.1", listenPort={port})
s.addShare("SHARE", {share!r})
s.setSMB2Support(True)
s.addCredential({USER!r}, 0, ntlm.compute_lmhash({PASSWORD!r}).hex(), ntlm.compute_nthash({PASSWORD!r}).hex())
s.start()
"""
    log = open(os.path.join(share, "..", f"impacket-{port}.log"), "w")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, proc, lambda: "impacket server exited")
        yield port, share
    finally:
        stop(proc)
        log.close()


@contextlib.contextmanager
def fake_server(mode, **env):
    """tests/probe/fake_smb.py (the hostile review's misbehaving SMB2 server) in MODE."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "fake_smb.py"), mode,
                             str(port)], stdin=subprocess.DEVNULL, env=dict(os.environ, **env),
                            start_new_session=True)
    try:
        wait_for_port(port, proc, lambda: f"fake_smb.py {mode} exited")
        yield f"127.0.0.1:{port}"
    finally:
        stop(proc)


def misbehaving_servers():
    """The review's findings F1 F2 F3 F4 F10 F17, each against the server that showed it."""
    fake = ("--user", "user", "--password", "pass", "--timeout", "0.5")

    def run(*targets, extra=()):
        return probe(*targets, creds=False, extra=(*fake, *extra))

    with fake_server("good202") as t:
        rc, (o,), _ = run(t)
        check("fake good202 (the control): ok, exit 0, 2.0.2 valid, enforcement tested",
              rc == 0 and o["verdict"] == "ok" and o["signatures"]["2.0.2"] == "valid"
              and o["rejects_forged_signature"] is True and o["rejects_unsigned"] is True, (rc, o))
    # F1: single-algorithm offers refused, every SESSION_SETUP refused.
    with fake_server("weird311") as t:
        rc, (o,), _ = run(t)
        check("F1 weird311: no session with the credentials is incomplete (exit 3), said so, refusals said",
              rc == 3 and o["verdict"] == "incomplete" and not o["authenticated"]
              and any("no session was authenticated" in r for r in o["reasons"])
              and any("offered alone: NEGOTIATE refused" in r for r in o["reasons"]), (rc, o))
    # F2: a server that never checks request signatures, whose refusals are a limit.
    for mode, env, name in [("nocheck", {}, "status 0xc00000d0"),
                            ("nocheck", {"LIMIT_STATUS": "0xC0000022"}, "STATUS_ACCESS_DENIED"),
                            ("nocheckclose", {}, "a disconnect")]:
        with fake_server(mode, **env) as t:
            rc, (o,), _ = run(t)
            check(f"F2 {mode} (limit answered with {name}): not ok, enforcement null with the reason",
                  rc == 3 and o["verdict"] == "incomplete" and o["rejects_forged_signature"] is None
                  and o["rejects_unsigned"] is None
                  and any("says nothing about its signature" in r for r in o["reasons"]), (rc, o))
    # F2 without the limit: the forged request is granted; F17: that outranks an unreachable target.
    with fake_server("nocheck", LIMIT="1000") as t:
        rc, (o, c), _ = run(t, f"127.0.0.1:{free_port()}")
        check("F2/F17 nocheck + a closed port: at-risk, forged accepted, exit 1 (outranks 2)",
              rc == 1 and o["verdict"] == "at-risk" and o["rejects_forged_signature"] is False
              and c["reachable"] is False, (rc, o, c))
    # F3: one response to a two-ECHO compound.
    with fake_server("compound1") as t:
        rc, (o,), _ = run(t)
        check("F3 compound1: compound not-tested, 1 of 2 responses said, not ok",
              rc == 3 and o["verdict"] == "incomplete"
              and o["signature_checks"]["2.0.2"]["compound"] == "not-tested"
              and o["signatures"]["2.0.2"] == "not-tested"
              and any("compound: 1 of 2 responses arrived" in r for r in o["reasons"]), (rc, o))
    # F3: the second compound response replaced by the first one again (a replay).
    with fake_server("compoundreplay") as t:
        rc, (o,), _ = run(t)
        check("F3 compoundreplay: a response matched to no request's MessageId is no answer, not ok",
              rc == 3 and o["verdict"] == "incomplete"
              and o["signature_checks"]["2.0.2"]["compound"] == "not-tested"
              and any("do not match the requests' MessageIds" in r for r in o["reasons"]), (rc, o))
    # F10: a 3.1.1 NEGOTIATE response whose contexts do not parse.
    with fake_server("bad311") as t:
        rc, (o,), _ = run(t)
        check("F10 bad311: malformed 3.1.1 NEGOTIATE response fails (exit 1), first reason",
              rc == 1 and o["verdict"] == "fails"
              and o["reasons"][0].startswith("3.1.1: malformed NEGOTIATE response"), (rc, o))
    # F4: a per-request deadline, not per read: every read gets something well
    # within --timeout (each 0.1 s), the request as a whole never ends.
    for mode in ("pending", "trickle"):
        with fake_server(mode, INTERVAL="0.1") as t:
            t0 = time.time()
            try:
                r = subprocess.run([PROBE, "--json", *fake, "--timeout", "0.5", "--connect-timeout", "1", t],
                                   capture_output=True, text=True, timeout=20)
                o = json.loads(r.stdout)
            except subprocess.TimeoutExpired:
                o = {"verdict": "killed after 20 s", "reasons": []}
            took = time.time() - t0
            check(f"F4 {mode}: each NEGOTIATE cut off at the request timeout, in bounded time",
                  o["verdict"] != "ok" and took < 8
                  and sum("no answer within the request timeout" in r for r in o["reasons"]) == 5
                  and "5 of the 5 NEGOTIATEs failed" in o["reasons"][0],
                  (took, o))


@contextlib.contextmanager
def tcpdump(port, path):
    proc = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-s", "0", "-w", path, f"tcp port {port}"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    # tcpdump says "listening on lo" once it captures.
    line = proc.stderr.readline().decode()
    assert "listening" in line, line
    try:
        yield
    finally:
        time.sleep(1)  # what the kernel still holds for tcpdump
        proc.terminate()
        proc.wait(timeout=10)


def verdict_is(name, o, verdict):
    check(f"{name}: verdict {verdict}", o["verdict"] == verdict, f"{o['verdict']}: {o['reasons']}")


def main():
    started = time.time()
    tmp = tempfile.mkdtemp(prefix="smbsign-probe-test-")
    guest_dir = os.path.join(tmp, "guestshare")
    os.makedirs(guest_dir)
    os.chmod(tmp, 0o755)
    os.chmod(guest_dir, 0o777)
    with contextlib.ExitStack() as stack:
        servers = {
            "mandatory": stack.enter_context(run_smbd()),
            "auto": stack.enter_context(run_smbd(signing="auto")),
            "one-algorithm": stack.enter_context(run_smbd("    server smb3 signing algorithms = AES-128-CMAC")),
            "nt1": stack.enter_context(run_smbd("    server min protocol = NT1")),
            "guest": stack.enter_context(run_smbd("    map to guest = Bad User\n[guestshare]\n"
                                                  f"    path = {guest_dir}\n    guest ok = yes\n    guest only = yes")),
            "encrypt": stack.enter_context(run_smbd("    server smb encrypt = required")),
        }
        imp_port, imp_share = stack.enter_context(impacket_server())
        before = {k: snapshot(s.share) for k, s in servers.items()}
        before["impacket"] = snapshot(imp_share)
        before["guestshare"] = snapshot(guest_dir)
        print(f"#    servers up in {time.time() - started:.1f}s")

        # Signing mandatory, recorded.
        m = servers["mandatory"]
        pcap = os.path.join(tmp, "probe.pcap")
        with tcpdump(m.port, pcap):
            rc, (o,), _ = probe(f"127.0.0.1:{m.port}")
        check("mandatory: exit status 0", rc == 0, rc)
        verdict_is("mandatory", o, "ok")
        check("mandatory: no reasons", o["reasons"] == [], o["reasons"])
        check("mandatory: every dialect accepted with signing required",
              all(d["accepted"] and d["signing_enabled"] and d["signing_required"] for d in o["dialects"].values())
              and list(o["dialects"]) == ["2.0.2", "2.1", "3.0", "3.0.2", "3.1.1"], o["dialects"])
        check("mandatory: all signatures valid", o["signatures"] == {k: "valid" for k in ALL_SIGS}, o["signatures"])
        check("mandatory: signing algorithms and ciphers",
              o["signing_algorithms"] == ["aes-gmac", "aes-cmac", "hmac-sha256"]
              and o["encryption_ciphers"] == ["aes-128-gcm", "aes-128-ccm", "aes-256-gcm", "aes-256-ccm"]
              and o["preferred_signing_algorithm"] == "aes-gmac"
              and o["preferred_encryption_cipher"] == "aes-128-gcm", o)
        check("mandatory: 3.1.1 checks include the SESSION_SETUP response and the compound",
              o["signature_checks"]["3.1.1/aes-gmac"] == {"session_setup": "valid", "tree_connect": "valid",
                                                          "echo": "valid", "compound": "valid"},
              o["signature_checks"])
        check("mandatory: forged and unsigned refused",
              o["rejects_forged_signature"] is True and o["rejects_unsigned"] is True, o)
        check("mandatory: authenticated, no SMB1, no guest, anonymous granted (Samba's IPC$ null session)",
              o["authenticated"] and not o["smb1"] and not o["guest"] and o["anonymous"], o)
        required = ["target", "reachable", "smb1", "dialects", "signing_algorithms", "encryption_ciphers",
                    "authenticated", "signatures", "rejects_forged_signature", "rejects_unsigned", "guest",
                    "anonymous", "verdict", "reasons"]
        check("mandatory: the JSON fields of the issue, in its order", list(o)[:len(required)] == required, list(o))

        # The recording: the probe's own bytes, as tshark and smbsign-check read them.
        dec = ["-d", f"tcp.port=={m.port},nbss"]
        t = subprocess.run(["tshark", "-r", pcap, *dec, "-T", "fields", "-e", "smb2.cmd", "-e", "smb.cmd",
                            "-e", "smb2.negotiate_context.type", "-e", "ntlmssp.messagetype",
                            "-e", "_ws.malformed", "-e", "tcp.dstport"],
                           capture_output=True, text=True, timeout=60)
        cmds, smb1, ctx, ntlm, malformed = set(), set(), set(), set(), 0
        for line in t.stdout.splitlines():
            f = (line.split("\t") + [""] * 6)[:6]
            cmds.update(x for x in f[0].split(",") if x)
            smb1.update(x for x in f[1].split(",") if x)
            ctx.update(x for x in f[2].split(",") if x)
            ntlm.update(x for x in f[3].split(",") if x)
            # Only the probe's own bytes: tshark misreads smbd's SPNEGO negHints.
            malformed += bool(f[4]) and f[5] == str(m.port)
        check("tshark: SMB2 commands NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT, ECHO and nothing else",
              cmds == {"0", "1", "2", "3", "13"}, cmds)
        check("tshark: the SMB1 multi-protocol NEGOTIATE", smb1 == {"0x72"} or smb1 == {"114"}, smb1)
        check("tshark: negotiate contexts PREAUTH, ENCRYPTION, SIGNING", {"0x0001", "0x0002", "0x0008"} <= ctx
              or {"1", "2", "8"} <= ctx, ctx)
        check("tshark: NTLMSSP NEGOTIATE, CHALLENGE, AUTHENTICATE",
              {"0x00000001", "0x00000002", "0x00000003"} <= ntlm or {"1", "2", "3"} <= ntlm, ntlm)
        check("tshark: nothing the probe sent is malformed", malformed == 0 and t.returncode == 0, t.stderr[-500:])
        c = subprocess.run([CHECK, "--json", "--password", PASSWORD, pcap], capture_output=True, text=True,
                           timeout=60)
        rep = json.loads(c.stdout)
        verdicts = {}
        for r in rep["messages"]:
            verdicts.setdefault(r["verdict"], []).append(r)
        odd = sorted((r["verdict"], r["direction"], r["command_name"]) for v, rs in verdicts.items()
                     if v not in ("valid", "unsigned") for r in rs)
        requests = [x for x in odd if x[1] == "C->S"]
        responses = [x for x in odd if x[1] == "S->C"]
        # The probe's two deliberate bad requests fail, nothing else it sent.
        check("smbsign-check: of the probe's requests, exactly the forged and the unsigned TREE_CONNECT fail",
              requests == [("INVALID", "C->S", "TREE_CONNECT"), ("UNSIGNED-BUT-REQUIRED", "C->S", "TREE_CONNECT")],
              odd)
        # smbd's answers: its unsigned refusals of those two and the final
        # response of the anonymous session (no key, so unsigned) at most.
        check("smbsign-check: no server response fails but refusals and the null session's",
              len(responses) <= 3 and all(x[0] == "UNSIGNED-BUT-REQUIRED" and x[2] in ("TREE_CONNECT", "SESSION_SETUP")
                                         for x in responses), odd)
        signed = [r for r in rep["messages"] if r["verdict"] == "valid"]
        algs = {r["algorithm"] for r in signed}
        # 7 sessions of 11 signed PDUs (SESSION_SETUP response, TREE_CONNECT, ECHO,
        # the compound's 2 ECHOs, LOGOFF, each way), then the enforcement sessions.
        check("smbsign-check: the probe's signatures verify under every algorithm (>= 79 valid)",
              len(signed) >= 7 * 11 + 2 and algs == {"hmac-sha256", "aes-cmac", "aes-gmac"},
              f"{len(signed)} {algs}")
        echo_req = [r for r in signed if r["command_name"] == "ECHO" and r["direction"] == "C->S"]
        check("smbsign-check: 3 signed ECHO requests per session (one alone, two compounded)",
              len(echo_req) == 3 * len(ALL_SIGS), len(echo_req))

        # The batch with credentials, in one invocation (the order given is kept).
        spoil, strip = Proxy(m.port, "spoil"), Proxy(m.port, "strip")
        v6 = Proxy(m.port, "pass", host="::1")
        names = ["auto", "one-algorithm", "nt1", "encrypt"]
        targets = [f"127.0.0.1:{servers[n].port}" for n in names] + [
            f"127.0.0.1:{imp_port}", f"127.0.0.1:{spoil.port}", f"127.0.0.1:{strip.port}", f"[::1]:{v6.port}"]
        rc, outs, err = probe(*targets)
        check("batch: one line per target, in order", [x["target"] for x in outs] == targets, err[-500:])
        check("batch: exit status 1 (fails/at-risk present)", rc == 1, rc)
        res = dict(zip(names + ["impacket", "spoil", "strip", "ipv6"], outs))
        o = res["ipv6"]
        verdict_is("IPv6 [::1] (a pass-through proxy)", o, "ok")
        check("IPv6: named [::1]:port", o["target"] == f"[::1]:{v6.port}", o["target"])

        o = res["auto"]
        verdict_is("auto", o, "ok")
        check("auto: signing enabled, not required; said so",
              all(d["signing_enabled"] and not d["signing_required"] for d in o["dialects"].values())
              and "signing not required by the server" in o["reasons"], o)
        check("auto: the client's signing is enforced", o["rejects_forged_signature"] and o["rejects_unsigned"], o)
        check("auto: signatures valid", o["signatures"] == {k: "valid" for k in ALL_SIGS}, o["signatures"])

        o = res["one-algorithm"]
        verdict_is("one algorithm", o, "ok")
        check("one algorithm: only aes-cmac accepted, no GMAC said",
              o["signing_algorithms"] == ["aes-cmac"] and "no AES-GMAC" in o["reasons"]
              and o["preferred_signing_algorithm"] == "aes-cmac", o)
        check("one algorithm: the others not-supported",
              o["signatures"]["3.1.1/aes-gmac"] == "not-supported"
              and o["signatures"]["3.1.1/hmac-sha256"] == "not-supported"
              and o["signatures"]["3.1.1/aes-cmac"] == "valid", o["signatures"])

        o = res["nt1"]
        check("NT1: smb1 true, said so", o["smb1"] and "SMB1 enabled" in o["reasons"], o)
        verdict_is("NT1", o, "ok")

        o = res["encrypt"]
        verdict_is("encryption required", o, "incomplete")
        check("encryption required: reported, SESSION_SETUP verified, the rest not-tested",
              o["encryption_required"]
              and o["signature_checks"]["3.1.1/aes-gmac"] == {"session_setup": "valid", "tree_connect": "not-tested",
                                                              "echo": "not-tested", "compound": "not-tested"}
              and o["rejects_forged_signature"] is None and o["rejects_unsigned"] is None
              and any("encryption required" in r for r in o["reasons"]), o)

        o = res["impacket"]
        verdict_is("impacket SimpleSMBServer", o, "at-risk")
        check("impacket: accepts the forged request (the most severe finding first)",
              o["rejects_forged_signature"] is False and "forged" in o["reasons"][0], o)
        check("impacket: accepts the unsigned request", o["rejects_unsigned"] is False, o)
        check("impacket: its 2.0.2 answer to a 3.1.1-only offer is a reason, not 'not accepted' alone (F10)",
              any(r == "3.1.1: NEGOTIATE: answered dialect 2.0.2 to an offer of 3.1.1" for r in o["reasons"]),
              o["reasons"])

        o = res["spoil"]
        verdict_is("spoiling proxy", o, "fails")
        check("spoiling proxy: every signature invalid",
              o["signatures"] == {k: "invalid" for k in ALL_SIGS}, o["signatures"])
        check("spoiling proxy: smbsign-check's diagnosis for each",
              set(o["diagnosis"]) == set(ALL_SIGS)
              and all("no known mistake reproduces it" in " ".join(d) for d in o["diagnosis"].values()),
              o["diagnosis"])
        check("spoiling proxy: responses were altered", spoil.altered > 20, spoil.altered)

        o = res["strip"]
        verdict_is("stripping proxy", o, "fails")
        check("stripping proxy: every signature unsigned, said so",
              o["signatures"] == {k: "unsigned" for k in ALL_SIGS}
              and any(r.startswith("server doesn't sign") for r in o["reasons"]), o)
        for p in (spoil, strip, v6):
            p.close()

        # Without credentials: the guest-only server, Samba with IPC$ null sessions.
        g = servers["guest"]
        listing = os.path.join(tmp, "targets.txt")
        with open(listing, "w") as f:
            f.write(f"# a comment, then a blank line\n\n127.0.0.1:{g.port}\nlocalhost:{m.port}\n")
        rc, (o, o2), _ = probe(creds=False, extra=("--targets", listing))
        check("guest: exit status 1", rc == 1, rc)
        verdict_is("guest-only, no credentials", o, "fails")
        check("guest: guest granted, said so, enforcement null",
              o["guest"] and any("guest" in r for r in o["reasons"])
              and o["rejects_forged_signature"] is None and not o["authenticated"], o)
        check("guest: signatures not-tested", set(o["signatures"].values()) == {"not-tested"}, o["signatures"])
        verdict_is("mandatory, no credentials", o2, "incomplete")
        check("a host name works (localhost), named as given", o2["target"] == f"localhost:{m.port}"
              and o2["reachable"] and o2["dialects"]["3.1.1"]["accepted"], o2)

        # A closed port.
        closed = free_port()
        rc, (o,), _ = probe(f"127.0.0.1:{closed}")
        check("closed port: exit status 2, reachable false, fails",
              rc == 2 and o["reachable"] is False and o["verdict"] == "fails"
              and o["signatures"] == {k: "not-tested" for k in ALL_SIGS}, (rc, o))

        # A server that accepts TCP and never answers: bounded by --timeout.
        silent = socket.create_server(("127.0.0.1", 0), backlog=64)
        t0 = time.time()
        rc, (o,), _ = probe(f"127.0.0.1:{silent.getsockname()[1]}", extra=("--timeout", "0.3"))
        took = time.time() - t0
        silent.close()
        check("silent server: fails, reachable, each NEGOTIATE timed out, in bounded time",
              rc == 1 and o["reachable"] and o["verdict"] == "fails" and took < 10
              and sum("no answer" in r for r in o["reasons"]) == 5, (rc, took, o))

        t0 = time.time()
        misbehaving_servers()
        print(f"#    misbehaving servers in {time.time() - t0:.1f}s")

        # Usage errors.
        r = subprocess.run([PROBE], capture_output=True, text=True)
        check("no target: exit status 2", r.returncode == 2, r.returncode)
        r = subprocess.run([PROBE, "--user", USER, "127.0.0.1"], capture_output=True, text=True,
                           env={k: v for k, v in os.environ.items() if not k.startswith("SMBSIGN_PROBE_")})
        check("--user without a password: exit status 2", r.returncode == 2, r.returncode)

        after = {k: snapshot(s.share) for k, s in servers.items()}
        after["impacket"] = snapshot(imp_share)
        after["guestshare"] = snapshot(guest_dir)
        check("no share directory changed", after == before,
              {k: (before[k], after[k]) for k in after if after[k] != before[k]})
    print(f"#    {time.time() - started:.1f}s")
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 0 if RESULTS["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
