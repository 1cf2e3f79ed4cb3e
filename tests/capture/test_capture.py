"""Proves smbsign-check on real traffic: captures recorded with tcpdump on
loopback while Debian's smbclient copies files to and from Debian's smbd
(signing mandatory, known password) over SMB 2.0.2, 2.1, 3.0.2 and 3.1.1 with
each signing algorithm, compound requests included, and encrypted over 3.0.2 and
3.1.1 with each cipher (every transform decrypted, with the password and with
the session key; a flipped ciphertext byte INVALID). Every signed PDU verifies
with --password and with --session-key (the key computed here independently:
tshark's NTLMSSP fields, a pure-Python MD4, hashlib's HMAC-MD5 and RC4); the
message list (frames, message ids, commands) equals tshark's; single changed
bytes make exactly their messages invalid; a wrong password makes every signed
message invalid; a capture cut short, with frames lost mid-stream, reordered
or duplicated, or cut to a small snap length still checks the messages it
holds whole. Prints one line per check and "N passed, N failed".

Usage: test_capture.py SMBSIGN_CHECK_BINARY [--keep DIR] (copies the captures to DIR)."""

import hashlib
import hmac
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
import smbd_server  # noqa: E402

CHECK = sys.argv[1]
KEEP = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
PASSED, FAILED = 0, 0


def expect(name, ok, detail=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print(f"ok   {name}")
    else:
        FAILED += 1
        print(f"FAIL {name}: {detail}"[:4000])


# --- classic pcap files (tcpdump -w on Linux lo: Ethernet) -----------------------

def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", "little-endian microsecond pcap expected"
    frames, at = [], 24
    while at + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, at + 8)[0]
        frames.append([data[at:at + 16], bytearray(data[at + 16:at + 16 + caplen])])
        at += 16 + caplen
    return data[:24], frames


def write_pcap(path, header, frames):
    with open(path, "wb") as f:
        f.write(header)
        for rec, body in frames:
            rec = bytearray(rec)
            struct.pack_into("<I", rec, 8, len(body))
            f.write(rec)
            f.write(body)


def tcp_parts(frame):
    """(sport, dport, payload offset, payload length, TCP header offset) of an Ethernet/IPv4 or IPv6 TCP frame."""
    ethertype = struct.unpack_from(">H", frame, 12)[0]
    if ethertype == 0x0800:
        ihl = (frame[14] & 15) * 4
        total = struct.unpack_from(">H", frame, 16)[0]
        if frame[23] != 6:
            return None
        tcp = 14 + ihl
        end = 14 + total
    elif ethertype == 0x86DD:
        if frame[20] != 6:
            return None
        tcp = 54
        end = 54 + struct.unpack_from(">H", frame, 18)[0]
    else:
        return None
    sport, dport = struct.unpack_from(">HH", frame, tcp)
    off = tcp + (frame[tcp + 12] >> 4) * 4
    return sport, dport, off, end - off, tcp


# --- running things ----------------------------------------------------------

def run_check(pcap, *args):
    r = subprocess.run([CHECK, "--json", *args, pcap], capture_output=True, text=True, timeout=120)
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        return r.returncode, {"messages": [], "summary": {}, "notes": [], "error": r.stderr}


def tshark_messages(pcap, port):
    """[(frame, message id, command)] as tshark dissects a copy whose server port is 445
    (Wireshark frames SMB2 with the 24-bit direct-TCP length only on port 445)."""
    header, frames = read_pcap(pcap)
    for _, body in frames:
        parts = tcp_parts(body)
        if parts:
            tcp = parts[4]
            for at, p in ((tcp, parts[0]), (tcp + 2, parts[1])):
                if p == port:
                    struct.pack_into(">H", body, at, 445)
    copy = pcap + ".445.pcap"
    write_pcap(copy, header, frames)
    # Two passes and out-of-order reassembly: on a busy loopback tcpdump sometimes
    # records a segment after its successor, which one-pass tshark then loses.
    out = subprocess.run(["tshark", "-2", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", copy,
                          "-Y", "smb2", "-T", "fields", "-e", "frame.number",
                          "-e", "smb2.msg_id", "-e", "smb2.cmd"], capture_output=True, text=True, check=True)
    os.unlink(copy)
    msgs = []
    for line in out.stdout.splitlines():
        f, mids, cmds = line.split("\t")
        for m, c in zip(mids.split(","), cmds.split(",")):
            msgs.append((int(f), int(m), int(c)))
    return msgs


def ours(js):
    return [(m["frame"], m["message_id"], m["command"]) for m in js["messages"]]


# --- an independent NTLMv2 session key (MS-NLMP 3.3.2, 3.4.5.1) ----------------

def md4(data):
    def f(x, y, z): return (x & y) | (~x & z)
    def g(x, y, z): return (x & y) | (x & z) | (y & z)
    def h(x, y, z): return x ^ y ^ z
    def rol(v, s): return ((v << s) | (v >> (32 - s))) & 0xFFFFFFFF
    msg = data + b"\x80" + b"\0" * ((55 - len(data)) % 64) + struct.pack("<Q", len(data) * 8)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for i in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[i:i + 64])
        aa, bb, cc, dd = a, b, c, d
        for k in range(16):
            s = (3, 7, 11, 19)[k % 4]
            a, b, c, d = d, rol((a + f(b, c, d) + x[k]) & 0xFFFFFFFF, s), b, c
        for k in range(16):
            s = (3, 5, 9, 13)[k % 4]
            idx = (k % 4) * 4 + k // 4
            a, b, c, d = d, rol((a + g(b, c, d) + x[idx] + 0x5A827999) & 0xFFFFFFFF, s), b, c
        for k in range(16):
            s = (3, 9, 11, 15)[k % 4]
            idx = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)[k]
            a, b, c, d = d, rol((a + h(b, c, d) + x[idx] + 0x6ED9EBA1) & 0xFFFFFFFF, s), b, c
        a, b, c, d = (a + aa) & 0xFFFFFFFF, (b + bb) & 0xFFFFFFFF, (c + cc) & 0xFFFFFFFF, (d + dd) & 0xFFFFFFFF
    return struct.pack("<4I", a, b, c, d)


def rc4(key, data):
    s, j = list(range(256)), 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 255
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) & 255
        j = (j + s[i]) & 255
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) & 255])
    return bytes(out)


def session_keys(pcap, port, password):
    """{SessionId: exported session key} from the capture's AUTHENTICATE messages."""
    out = subprocess.run(["tshark", "-r", pcap, "-d", f"tcp.port=={port},nbss", "-Y", "ntlmssp.messagetype == 3",
                          "-T", "fields", "-e", "smb2.sesid", "-e", "ntlmssp.auth.username", "-e", "ntlmssp.auth.domain",
                          "-e", "ntlmssp.ntlmv2_response.ntproofstr", "-e", "ntlmssp.auth.sesskey",
                          "-e", "ntlmssp.negotiateflags"], capture_output=True, text=True, check=True)
    keys = {}
    for line in out.stdout.splitlines():
        sid, user, domain, proof, enc, flags = line.split("\t")
        owf = hmac.new(md4(password.encode("utf-16-le")), (user.upper() + domain).encode("utf-16-le"),
                       hashlib.md5).digest()
        key = hmac.new(owf, bytes.fromhex(proof), hashlib.md5).digest()
        if int(flags, 16) & 0x40000000:
            key = rc4(key, bytes.fromhex(enc))
        keys[int(sid, 16)] = key
    return keys


# --- recording ---------------------------------------------------------------

def record(server, path, proto, algorithm, commands):
    td = subprocess.Popen(["tcpdump", "-i", "lo", "-B", "65536", "-U", "-s", "0", "-w", path, f"tcp port {server.port}"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          start_new_session=True)
    # tcpdump says "listening on" once it captures.
    deadline = time.time() + 20
    line = b""
    while b"listening" not in line and time.time() < deadline:
        line = td.stderr.readline()
    opts = [f"--option=client min protocol={proto}", f"--option=client max protocol={proto}",
            "--option=client signing=required"]
    if algorithm:
        opts.append(f"--option=client smb3 signing algorithms={algorithm}")
    r = subprocess.run(["smbclient", "//127.0.0.1/share", "-p", str(server.port), "-U",
                        f"{smbd_server.USER}%{smbd_server.PASSWORD}", *opts, "-c", commands],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    # Compound requests: smbtorture's related (3.x) and unrelated chains.
    tests = ["smb2.compound.unrelated1"] + (["smb2.compound.related1"] if proto.startswith("SMB3") else [])
    t = subprocess.run(["smbtorture", "//127.0.0.1/share", "-p", str(server.port), "-U",
                        f"{smbd_server.USER}%{smbd_server.PASSWORD}", *opts, *tests],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    time.sleep(1.0)  # let tcpdump read the last packets before it is stopped
    td.send_signal(signal.SIGINT)
    td.wait(timeout=20)
    return r, t


CASES = [  # (name, smbclient protocol, client smb3 signing algorithms, expected algorithm)
    ("smb2.0.2", "SMB2_02", None, "hmac-sha256"),
    ("smb2.1", "SMB2_10", None, "hmac-sha256"),
    ("smb3.0.2", "SMB3_02", None, "aes-cmac"),
    ("smb3.1.1-gmac", "SMB3_11", "AES-128-GMAC", "aes-gmac"),
    ("smb3.1.1-cmac", "SMB3_11", "AES-128-CMAC", "aes-cmac"),
    ("smb3.1.1-hmac", "SMB3_11", "HMAC-SHA256", "hmac-sha256"),
]


ENCRYPTED_CASES = [  # (name, smbclient protocol, client smb3 encryption algorithms)
    ("smb3.0.2-encrypted", "SMB3_02", "AES-128-CCM"),
    ("smb3.1.1-aes-128-ccm", "SMB3_11", "AES-128-CCM"),
    ("smb3.1.1-aes-128-gcm", "SMB3_11", "AES-128-GCM"),
    ("smb3.1.1-aes-256-ccm", "SMB3_11", "AES-256-CCM"),
    ("smb3.1.1-aes-256-gcm", "SMB3_11", "AES-256-GCM"),
]


def record_encrypted(server, path, proto, cipher, commands):
    """smbclient with encryption required by the client (`client smb encrypt = required`), one cipher offered."""
    td = subprocess.Popen(["tcpdump", "-i", "lo", "-B", "65536", "-U", "-s", "0", "-w", path, f"tcp port {server.port}"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          start_new_session=True)
    deadline = time.time() + 20
    line = b""
    while b"listening" not in line and time.time() < deadline:
        line = td.stderr.readline()
    r = subprocess.run(["smbclient", "//127.0.0.1/share", "-p", str(server.port), "-U",
                        f"{smbd_server.USER}%{smbd_server.PASSWORD}", f"--option=client min protocol={proto}",
                        f"--option=client max protocol={proto}", "--option=client smb encrypt=required",
                        f"--option=client smb3 encryption algorithms={cipher}", "-c", commands],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    time.sleep(1.0)
    td.send_signal(signal.SIGINT)
    td.wait(timeout=20)
    return r


def whole_transform_frames(pcap, port):
    """Frames whose TCP payload is exactly one whole transform message (direct-TCP framed)."""
    _, frames = read_pcap(pcap)
    out = []
    for i, (_, body) in enumerate(frames, 1):
        p = tcp_parts(body)
        if not p or p[3] < 60 or port not in p[:2]:
            continue
        off, n = p[2], p[3]
        if body[off] == 0 and int.from_bytes(body[off + 1:off + 4], "big") + 4 == n \
                and body[off + 4:off + 8] == b"\xfdSMB":
            out.append((i, off, n))
    return out


def check_encrypted(name, pcap, port, cipher):
    pw = smbd_server.PASSWORD
    rc, js = run_check(pcap, "--password", pw)
    msgs = js["messages"]
    inside = [m for m in msgs if m["verdict"] == "decrypted"]
    expect(f"{name}: --password: exit 0, every transform decrypted with {cipher}",
           rc == 0 and len(inside) > 20 and all(m["cipher"] == cipher for m in inside)
           and not [m for m in msgs if m["verdict"] not in ("decrypted", "unsigned", "valid")],
           f"rc={rc} {js.get('summary')} {[m for m in msgs if m['verdict'] not in ('decrypted', 'unsigned', 'valid')][:3]}")
    whole = whole_transform_frames(pcap, port)
    expect(f"{name}: the 1.5 MB put and get went encrypted (READ and WRITE decrypted)",
           {"READ", "WRITE"} <= {m["command_name"] for m in inside}, str({m["command_name"] for m in inside}))
    keys = session_keys(pcap, port, pw)
    args = [a for sid, k in keys.items() for a in ("--session-key", f"{sid:x}:{k.hex()}")]
    rc2, js2 = run_check(pcap, *args)
    expect(f"{name}: --session-key (computed here): the same verdicts",
           rc2 == 0 and [m["verdict"] for m in js2["messages"]] == [m["verdict"] for m in msgs], f"rc={rc2}")
    rc3, js3 = run_check(pcap)
    expect(f"{name}: no key: transforms not decrypted, exit 1 (the signed final SESSION_SETUP is NO-KEY)",
           rc3 == 1 and len([m for m in js3["messages"] if m["verdict"] == "encrypted"]) >= len(whole), f"rc={rc3}")
    # A flipped ciphertext byte in one whole-frame transform: exactly that one INVALID.
    header, frames = read_pcap(pcap)
    i, off, n = whole[len(whole) // 2]
    frames[i - 1][1][off + n - 1] ^= 0x10
    bad = pcap + ".bad.pcap"
    write_pcap(bad, header, frames)
    rc4, js4 = run_check(bad, "--password", pw)
    inv = [m for m in js4["messages"] if m["verdict"] == "INVALID"]
    expect(f"{name}: a flipped ciphertext byte: exactly its message INVALID, exit 1",
           rc4 == 1 and len(inv) == 1 and inv[0]["frame"] == i and inv[0]["diagnosis"]
           and inv[0]["diagnosis"][0].startswith("no variant verifies"), f"rc={rc4} {inv[:2]}")
    os.unlink(bad)


def whole_signed_frames(pcap, port):
    """Frames whose TCP payload is exactly one whole signed SMB2 message (direct-TCP framed)."""
    _, frames = read_pcap(pcap)
    out = []
    for i, (_, body) in enumerate(frames, 1):
        p = tcp_parts(body)
        if not p or p[3] < 68 or port not in p[:2]:
            continue
        off, n = p[2], p[3]
        if body[off] == 0 and int.from_bytes(body[off + 1:off + 4], "big") + 4 == n \
                and body[off + 4:off + 8] == b"\xfeSMB" and body[off + 4 + 16] & 8:
            out.append((i, off, n))
    return out


def main():
    tmp = tempfile.mkdtemp(prefix="smbsign-capture-")
    src = os.path.join(tmp, "data.bin")
    with open(src, "wb") as f:
        f.write(random.Random(15).randbytes(1_500_000))
    with smbd_server.run_smbd() as server:
        port = server.port
        for name, proto, alg, want in CASES:
            pcap = os.path.join(tmp, f"{name}.pcap")
            r, t = record(server, pcap, proto, alg,
                       f"put {src} a.bin; allinfo a.bin; get a.bin {tmp}/back.bin; ls; rename a.bin b.bin; del b.bin")
            expect(f"{name}: smbclient copied the file", r.returncode == 0 and open(f"{tmp}/back.bin", "rb").read()
                   == open(src, "rb").read(), r.stdout[-500:] + r.stderr[-500:])
            expect(f"{name}: smbtorture's compound tests passed", t.returncode == 0 and "failure" not in t.stdout,
                   t.stdout[-500:] + t.stderr[-500:])
            check_capture(name, pcap, port, want)
            if KEEP:
                os.makedirs(KEEP, exist_ok=True)
                shutil.copy(pcap, KEEP)
        for name, proto, cipher in ENCRYPTED_CASES:
            pcap = os.path.join(tmp, f"{name}.pcap")
            r = record_encrypted(server, pcap, proto, cipher,
                                 f"put {src} a.bin; get a.bin {tmp}/back.bin; ls; del a.bin")
            expect(f"{name}: smbclient copied the file encrypted", r.returncode == 0 and
                   open(f"{tmp}/back.bin", "rb").read() == open(src, "rb").read(), r.stdout[-500:] + r.stderr[-500:])
            check_encrypted(name, pcap, port, cipher.lower())
            if KEEP:
                os.makedirs(KEEP, exist_ok=True)
                shutil.copy(pcap, KEEP)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


def check_capture(name, pcap, port, want):
    pw = smbd_server.PASSWORD
    rc, js = run_check(pcap, "--password", pw)
    msgs = js["messages"]
    sig = [m for m in msgs if m["verdict"] not in ("unsigned",)]
    expect(f"{name}: --password: exit 0, every signed PDU valid with {want}",
           rc == 0 and len(sig) > 20 and all(m["verdict"] == "valid" and m["algorithm"] == want for m in sig),
           f"rc={rc} {js.get('summary')} {[m for m in sig if m['verdict'] != 'valid' or m['algorithm'] != want][:3]}")
    expect(f"{name}: only NEGOTIATE, SESSION_SETUP before the final response and interim responses are unsigned",
           all(m["command_name"] in ("NEGOTIATE", "SESSION_SETUP") or m["status"] == 0x103
               for m in msgs if m["verdict"] == "unsigned"),
           [m for m in msgs if m["verdict"] == "unsigned"][:5])
    frames_multi = {}
    for m in msgs:
        frames_multi.setdefault((m["frame"], m["direction"]), []).append(m)
    compounds = [k for k, v in frames_multi.items() if len(v) > 1]
    expect(f"{name}: the capture holds compound chains", len(compounds) > 0, "no frame with several PDUs")

    keys = session_keys(pcap, port, pw)
    args = []
    for sid, key in keys.items():
        args += ["--session-key", f"{sid:x}:{key.hex()}"]
    rc2, js2 = run_check(pcap, *args)
    expect(f"{name}: --session-key (computed independently) verifies the same PDUs",
           rc2 == 0 and len(keys) >= 1 and [m["verdict"] for m in js2["messages"]] == [m["verdict"] for m in msgs],
           f"rc={rc2} keys={len(keys)} {js2.get('summary')}")

    theirs = tshark_messages(pcap, port)
    if ours(js) != theirs:  # keep the evidence for a look with Wireshark
        os.makedirs(os.path.join(ROOT, "target", "capture-failures"), exist_ok=True)
        shutil.copy(pcap, os.path.join(ROOT, "target", "capture-failures", f"{name}.pcap"))
    expect(f"{name}: message list equals tshark's ({len(theirs)} PDUs)", ours(js) == theirs,
           f"ours {len(msgs)} theirs {len(theirs)}; first difference: "
           f"{next(((a, b) for a, b in zip(ours(js), theirs) if a != b), None)}")

    # Single changed bytes: the last byte of a few frames that each hold one whole signed message.
    header, frames = read_pcap(pcap)
    whole = whole_signed_frames(pcap, port)
    rng = random.Random(name)
    picks = rng.sample(whole, min(4, len(whole)))
    for i, off, n in picks:
        frames[i - 1][1][off + n - 1] ^= 0x40
    bad = pcap + ".flipped.pcap"
    write_pcap(bad, header, frames)
    rc3, js3 = run_check(bad, "--password", pw)
    picked = {i for i, _, _ in picks}
    # The byte is in the last PDU of the frame's (only) message.
    want_invalid = {(f, [m for m in msgs if m["frame"] == f][-1]["message_id"]) for f in picked}
    got_invalid = {(m["frame"], m["message_id"]) for m in js3["messages"] if m["verdict"] == "INVALID"}
    others_same = all(a["verdict"] == b["verdict"] for a, b in zip(msgs, js3["messages"])
                      if (a["frame"], a["message_id"]) not in got_invalid)
    expect(f"{name}: {len(picks)} changed bytes make exactly their messages INVALID (exit 1)",
           rc3 == 1 and len(picks) >= 2 and got_invalid == want_invalid and others_same,
           f"rc={rc3} want {sorted(want_invalid)} got {sorted(got_invalid)}")
    diag = [m["diagnosis"] for m in js3["messages"] if m["verdict"] == "INVALID"]
    expect(f"{name}: each changed message gets a diagnosis", diag and all(d for d in diag), diag[:2])
    os.unlink(bad)

    rc4_, js4 = run_check(pcap, "--password", pw + "x")
    inv = [m for m in js4["messages"] if m["verdict"] == "INVALID"]
    expect(f"{name}: wrong password: every signed message INVALID",
           rc4_ == 1 and len(inv) == len(sig) and any("password" in n for n in js4["notes"]),
           f"rc={rc4_} invalid {len(inv)} of {len(sig)}; notes {js4.get('notes')}")

    check_damaged(name, pcap, port, msgs)


def check_damaged(name, pcap, port, msgs):
    """Cut, lossy, reordered and duplicated copies of the capture."""
    pw = smbd_server.PASSWORD
    header, frames = read_pcap(pcap)
    valid = {(m["frame"], m["message_id"], m["direction"]) for m in msgs if m["verdict"] == "valid"}

    # Cut in the middle of a frame, two thirds in: the whole messages before it check out.
    raw = open(pcap, "rb").read()
    cut_at = len(raw) * 2 // 3
    cut = pcap + ".cut.pcap"
    with open(cut, "wb") as f:
        f.write(raw[:cut_at])
    rc, js = run_check(cut, "--password", pw)
    # Records of bytes that could not be checked (the message the cut broke) are not messages.
    got = [m for m in js["messages"] if m["verdict"] != "unchecked"]
    expect(f"{name}: file cut mid-frame: exit 3 (incomplete), the {len(got)} messages before the cut are the "
           f"original's, all valid or unsigned",
           rc == 3 and len(got) > 10 and [(m["frame"], m["message_id"]) for m in got] ==
           [(m["frame"], m["message_id"]) for m in msgs[:len(got)]]
           and all(m["verdict"] in ("valid", "unsigned") for m in got) and js["notes"]
           and js["summary"].get("not_checked"),
           f"rc={rc} {js.get('summary')} notes={js.get('notes')}")

    # Lost frames: drop two data frames in the middle of the big transfer (not the session setup),
    # each the only copy of its segment (a retransmitted one would fill the gap again).
    def segment_key(body):
        p = tcp_parts(body)
        return p and (p[0], p[1], struct.unpack_from(">I", body, p[4] + 4)[0], p[3])
    copies = {}
    for _, body in frames:
        k = segment_key(body)
        copies[k] = copies.get(k, 0) + 1
    by_len = sorted((i for i in range(len(frames) // 2, len(frames)) if copies[segment_key(frames[i][1])] == 1),
                    key=lambda i: -len(frames[i][1]))[:2]
    kept = [fr for i, fr in enumerate(frames) if i not in by_len]
    lossy = pcap + ".lossy.pcap"
    write_pcap(lossy, header, kept)
    rc, js = run_check(lossy, "--password", pw)
    inv = [m for m in js["messages"] if m["verdict"] not in ("valid", "unsigned", "unchecked")]
    lost = [m for m in js["messages"] if m["verdict"] == "unchecked"]
    checked = [m for m in js["messages"] if m["verdict"] != "unchecked"]
    expect(f"{name}: two frames lost mid-stream: reassembly resynchronises, nothing INVALID, "
           f"{len(checked)} of {len(msgs)} messages checked, the loss reported, exit 3",
           rc == 3 and not inv and lost and all("missing from the capture" in m["note"] for m in lost)
           and len(checked) >= len(msgs) - 4 and js["summary"].get("resyncs", 0) >= 1,
           f"rc={rc} {js.get('summary')} {inv[:3]} {lost[:2]}")

    # Reordered and duplicated segments: same verdicts (frame numbers move).
    shuffled = [list(fr) for fr in frames]
    rng = random.Random(7)
    big = [i for i in range(len(shuffled) - 1) if len(shuffled[i][1]) > 1000 and len(shuffled[i + 1][1]) > 1000]
    for i in rng.sample(big, min(5, len(big))):
        shuffled[i], shuffled[i + 1] = shuffled[i + 1], shuffled[i]
    dups = rng.sample(range(len(shuffled)), min(10, len(shuffled)))
    for i in sorted(dups, reverse=True):
        shuffled.insert(i + 1, [shuffled[i][0], bytearray(shuffled[i][1])])
    mixed = pcap + ".mixed.pcap"
    write_pcap(mixed, header, shuffled)
    rc, js = run_check(mixed, "--password", pw)
    expect(f"{name}: reordered and retransmitted segments: same {len(msgs)} verdicts",
           rc == 0 and sorted((m["message_id"], m["direction"], m["verdict"]) for m in js["messages"])
           == sorted((m["message_id"], m["direction"], m["verdict"]) for m in msgs),
           f"rc={rc} {js.get('summary')}")

    # Snap length 1500: long messages are cut and skipped; the short ones verify.
    snapped = [[rec, body[:1500]] for rec, body in frames]
    snap = pcap + ".snap.pcap"
    write_pcap(snap, header, snapped)
    rc, js = run_check(snap, "--password", pw)
    got = {(m["frame"], m["message_id"], m["direction"]) for m in js["messages"] if m["verdict"] == "valid"}
    expect(f"{name}: snap length 1500: {len(got)} messages checked, all valid, a subset of the original's; "
           f"the cut ones reported, exit 3",
           rc == 3 and len(got) > 5 and got <= valid and not any(m["verdict"] == "INVALID" for m in js["messages"])
           and any(m["verdict"] == "unchecked" for m in js["messages"]),
           f"rc={rc} {js.get('summary')}")
    for p in (cut, lossy, mixed, snap):
        os.unlink(p)


if __name__ == "__main__":
    sys.exit(main())
