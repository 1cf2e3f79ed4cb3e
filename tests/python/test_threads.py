"""Proves concurrent use is correct: threads sharing keys sign and MAC large
messages (with the GIL released) and every result equals the serial one."""

import concurrent.futures
import os

import smbsign


def test_threads_share_keys():
    keys = [smbsign.SigningKey(a, bytes([a]) * 16) for a in (0, 1, 2)]
    msgs = [os.urandom(1 << 20) for _ in range(6)]
    nonce = b"\x01" * 12

    def job(i):
        k = keys[i % 3]
        m = msgs[i % len(msgs)]
        return i, k.mac(m, nonce if k.algorithm == 2 else None)

    serial = dict(job(i) for i in range(24))
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        for _ in range(3):
            got = dict(ex.map(job, range(24)))
            assert got == serial
    gm = smbsign.aes_gmac(b"k" * 16, nonce, msgs[0])
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        assert set(ex.map(lambda _: smbsign.aes_gmac(b"k" * 16, nonce, msgs[0]), range(16))) == {gm}
