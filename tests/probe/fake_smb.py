#!/usr/bin/env python3
"""A hostile/buggy SMB2 server for probing smbsign-probe's verdict logic.

Copied from the hostile review's reproduction (branch `review`,
review-repro/fake_smb.py, findings F1 F2 F3 F4 F10), for tests/probe/test_probe.py.

Usage: fake_smb.py MODE PORT   (binds 127.0.0.1 only)
Modes:
  weird311   3.1.1 only; a NEGOTIATE offering ONE signing algorithm is refused
             (STATUS_NOT_SUPPORTED); every SESSION_SETUP gets LOGON_FAILURE.
  compound1  2.0.2 only, correct NTLMv2 + HMAC-SHA256 signing, verifies request
             signatures (ACCESS_DENIED otherwise), but answers a compound request
             with the FIRST response only.
  compoundreplay  like compound1, but answers the second with the first response
             again (same MessageId, correctly signed).
  nocheck    2.0.2 only, signs correctly, NEVER verifies request signatures;
             but after LIMIT successful TREE_CONNECTs (env LIMIT, default 1) any
             TREE_CONNECT gets STATUS_REQUEST_NOT_ACCEPTED (a connection limit).
  nocheckclose  like nocheck but the limit is enforced by closing the connection.
  good202    2.0.2 only, everything right (the control).
  bad311     good202, plus 3.1.1 accepted with a NEGOTIATE response whose contexts are
             cut short (a Windows 11 client offered 3.1.1 cannot use it).
  pending    answers NEGOTIATE with async STATUS_PENDING interim responses forever
             (one every INTERVAL s, env, default 0.5).
  trickle    answers NEGOTIATE with a 4096-byte frame, one byte every INTERVAL s.
User: user / password: pass (domain ignored).
"""
import hmac, hashlib, os, socketserver, struct, sys, threading, time

from Cryptodome.Hash import MD4  # pycryptodomex, which impacket brings into target/py-venv

MODE = sys.argv[1]
PORT = int(sys.argv[2])
LIMIT = int(os.environ.get('LIMIT', '1'))
# Seconds between interim responses / trickled bytes (pending, trickle): under the probe's timeout.
INTERVAL = float(os.environ.get('INTERVAL', '0.5'))
USER, PASSWORD = 'user', 'pass'
lock = threading.Lock()
tree_count = [0]

S_OK = 0
S_MORE = 0xC0000016
S_LOGON_FAILURE = 0xC000006D
S_ACCESS_DENIED = 0xC0000022
S_NOT_SUPPORTED = 0xC00000BB
S_REQ_NOT_ACCEPTED = 0xC00000D0
S_PENDING = 0x00000103


def hdr(cmd, status, mid, sid=0, tid=0, flags=1, nxt=0, async_id=None):
    if async_id is not None:
        flags |= 2
        mid_part = struct.pack('<Q', mid) + struct.pack('<Q', async_id)
    else:
        mid_part = struct.pack('<QII', mid, 0xFEFF, tid)
    return (b'\xfeSMB' + struct.pack('<HHIHHII', 64, 0, status, cmd, 64, flags, nxt)
            + mid_part + struct.pack('<Q', sid) + b'\0' * 16)


def err_body():
    return struct.pack('<HBBIB', 9, 0, 0, 0, 0)


def sign(key, pdu):
    pdu = bytearray(pdu)
    flags = struct.unpack_from('<I', pdu, 16)[0] | 8
    struct.pack_into('<I', pdu, 16, flags)
    pdu[48:64] = b'\0' * 16
    pdu[48:64] = hmac.new(key, bytes(pdu), hashlib.sha256).digest()[:16]
    return bytes(pdu)


def verify(key, pdu):
    flags = struct.unpack_from('<I', pdu, 16)[0]
    if not flags & 8:
        return False
    want = bytes(pdu[48:64])
    z = bytearray(pdu); z[48:64] = b'\0' * 16
    return hmac.compare_digest(hmac.new(key, bytes(z), hashlib.sha256).digest()[:16], want)


def neg_resp(mid, dialect, secmode=3, contexts=()):
    body = struct.pack('<HHHH', 65, secmode, dialect, len(contexts)) + os.urandom(16)
    body += struct.pack('<IIIIQQ', 0, 65536, 65536, 65536, 0, 0)
    ctx_off = 0
    if contexts:
        ctx_off = (64 + len(body) + 8 + 7) // 8 * 8
    body += struct.pack('<HHI', 128, 0, ctx_off)
    pdu = hdr(0, 0, mid) + body
    for i, (ty, data) in enumerate(contexts):
        pdu += b'\0' * ((-len(pdu)) % 8)
        pdu += struct.pack('<HHI', ty, len(data), 0) + data
    return pdu


def challenge_msg(chal):
    ti = struct.pack('<HH', 2, 2) + 'D'.encode('utf-16le')
    ti += struct.pack('<HH', 7, 8) + struct.pack('<Q', 133000000000000000)
    ti += struct.pack('<HH', 0, 0)
    flags = 0xE2898215 & ~0x40000000  # no KEY_EXCH
    m = b'NTLMSSP\0' + struct.pack('<I', 2) + struct.pack('<HHI', 0, 0, 56)
    m += struct.pack('<I', flags) + chal + b'\0' * 8 + struct.pack('<HHI', len(ti), len(ti), 56)
    m += b'\0' * 8  # version
    return m + ti


def ss_resp(mid, sid, status, token=b'', sflags=0):
    body = struct.pack('<HHHH', 9, sflags, 72, len(token)) + token
    return hdr(1, status, mid, sid) + body


def field(m, at):
    ln, _, off = struct.unpack_from('<HHI', m, at)
    return m[off:off + ln]


class H(socketserver.BaseRequestHandler):
    def send(self, msg):
        self.request.sendall(struct.pack('>I', len(msg)) + msg)

    def recv(self):
        def exact(n):
            b = b''
            while len(b) < n:
                c = self.request.recv(n - len(b))
                if not c:
                    raise EOFError
                b += c
            return b
        ln = struct.unpack('>I', exact(4))[0]
        return exact(ln)

    def handle(self):
        self.key = None
        self.chal = os.urandom(8)
        self.sid = int.from_bytes(os.urandom(8), 'little') | 1
        try:
            while True:
                m = self.recv()
                if m[:4] == b'\xffSMB':
                    return  # no SMB1
                if self.one(m) == 'close':
                    return
        except (EOFError, ConnectionError):
            return

    def one(self, m):
        cmd, = struct.unpack_from('<H', m, 12)
        mid, = struct.unpack_from('<Q', m, 24)
        nxt, = struct.unpack_from('<I', m, 20)
        if cmd == 0:
            cnt, = struct.unpack_from('<H', m, 66)
            dialects = list(struct.unpack_from('<%dH' % cnt, m, 100))
            if MODE == 'pending':
                while True:
                    self.send(hdr(0, S_PENDING, mid, async_id=1) + err_body())
                    time.sleep(INTERVAL)
            if MODE == 'trickle':
                self.request.sendall(struct.pack('>I', 4096))
                for _ in range(4096):
                    self.request.sendall(b'\0')
                    time.sleep(INTERVAL)
                return 'close'
            if MODE == 'weird311':
                if dialects != [0x311]:
                    self.send(hdr(0, S_NOT_SUPPORTED, mid) + err_body()); return
                off, n = struct.unpack_from('<IH', m, 92)
                nalg = 0
                at = off
                for _ in range(n):
                    ty, ln = struct.unpack_from('<HH', m, at)
                    if ty == 8:
                        nalg, = struct.unpack_from('<H', m, at + 8)
                    at = (at + 8 + ln + 7) // 8 * 8
                if nalg < 2:
                    self.send(hdr(0, S_NOT_SUPPORTED, mid) + err_body()); return
                pre = struct.pack('<HHH', 1, 32, 1) + os.urandom(32)
                self.send(neg_resp(mid, 0x311, 3, [(1, pre), (8, struct.pack('<HH', 1, 2))]))
                return
            if MODE == 'bad311' and dialects == [0x311]:
                # 3.1.1 accepted, but the contexts run past the end of the message.
                pre = struct.pack('<HHH', 1, 32, 1) + os.urandom(32)
                r = bytearray(neg_resp(mid, 0x311, 3, [(1, pre), (8, struct.pack('<HH', 1, 1))]))
                r = bytes(r[:-2])  # cut the SIGNING_CAPABILITIES context short
                self.send(r); return
            if dialects != [0x202]:
                self.send(hdr(0, S_NOT_SUPPORTED, mid) + err_body()); return
            self.send(neg_resp(mid, 0x202, 3)); return
        if cmd == 1:
            if MODE == 'weird311':
                self.send(ss_resp(mid, 0, S_LOGON_FAILURE)); return
            off, ln = struct.unpack_from('<HH', m, 64 + 12)
            tok = m[off:off + ln]
            i = tok.find(b'NTLMSSP\0')
            tok = tok[i:]
            ty, = struct.unpack_from('<I', tok, 8)
            if ty == 1:
                self.send(ss_resp(mid, self.sid, S_MORE, challenge_msg(self.chal))); return
            nt = field(tok, 20)
            dom = field(tok, 28).decode('utf-16le')
            user = field(tok, 36).decode('utf-16le')
            if user.lower() != USER or len(nt) < 24:
                self.send(ss_resp(mid, self.sid, S_LOGON_FAILURE)); return
            ntowf = hmac.new(MD4.new(PASSWORD.encode('utf-16le')).digest(),
                             (user.upper() + dom).encode('utf-16le'), 'md5').digest()
            proof = hmac.new(ntowf, self.chal + nt[16:], 'md5').digest()
            if proof != nt[:16]:
                self.send(ss_resp(mid, self.sid, S_LOGON_FAILURE)); return
            self.key = hmac.new(ntowf, proof, 'md5').digest()
            self.send(sign(self.key, ss_resp(mid, self.sid, S_OK))); return
        # Everything else: needs a session.
        first = m[:nxt] if nxt else m
        checks = MODE in ('compound1', 'compoundreplay', 'good202', 'bad311')
        if checks and (self.key is None or not verify(self.key, first)):
            self.send(hdr(cmd, S_ACCESS_DENIED, mid, self.sid) + err_body()); return
        tid = 7
        if cmd == 3:
            with lock:
                tree_count[0] += 1
                over = MODE.startswith('nocheck') and tree_count[0] > LIMIT
            if over:
                if MODE == 'nocheckclose':
                    return 'close'
                self.send(hdr(cmd, int(os.environ.get('LIMIT_STATUS', str(S_REQ_NOT_ACCEPTED)), 0), mid, self.sid) + err_body()); return
            body = struct.pack('<HBBIII', 16, 2, 0, 0, 0, 0x1f01ff)
        else:
            body = struct.pack('<HH', 4, 0)
        self.send(sign(self.key, hdr(cmd, S_OK, mid, self.sid, tid) + body))
        # compound1: the rest of the chain is silently never answered;
        # compoundreplay (added here): it is answered with the first response again.
        if nxt and MODE == 'compoundreplay':
            self.send(sign(self.key, hdr(cmd, S_OK, mid, self.sid, tid) + body))
        elif nxt and MODE != 'compound1':
            rest = m[nxt:]
            mid2, = struct.unpack_from('<Q', rest, 24)
            self.send(sign(self.key, hdr(struct.unpack_from('<H', rest, 12)[0], S_OK, mid2, self.sid, tid) + body))


class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == '__main__':
    S(('127.0.0.1', PORT), H).serve_forever()
