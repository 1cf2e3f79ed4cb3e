"""Python-side cost of smbsign next to `cryptography` and the standard `hmac`
module, in one run: per-call time at 64 B, throughput at 64 KiB, and 1 vs 2
threads at 1 MiB (smbsign releases the GIL for inputs >= 4 KiB).
Run: target/py-venv/bin/python benches/python/bench_py.py"""

import hashlib
import hmac
import os
import threading
import time

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import smbsign

KEY, NONCE = b"\x42" * 16, b"\x07" * 12


def per_call(fn, n):
    best = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best.append((time.perf_counter() - t) / n)
    best.sort()
    return best[2]


def main():
    print(f"# smbsign {smbsign.__version__} ({smbsign.backend_info()['tier']}), cryptography, CPython hmac")
    gk, ck, hk = (smbsign.SigningKey(a, KEY) for a in (2, 1, 0))
    gcm = AESGCM(KEY)

    def crypto_cmac(m):
        c = cmac.CMAC(algorithms.AES(KEY))
        c.update(m)
        return c.finalize()

    impls = {
        "aes-gmac": [("smbsign SigningKey.mac", lambda m: gk.mac(m, NONCE)),
                     ("smbsign aes_gmac()", lambda m: smbsign.aes_gmac(KEY, NONCE, m)),
                     ("cryptography AESGCM", lambda m: gcm.encrypt(NONCE, b"", m))],
        "aes-cmac": [("smbsign SigningKey.mac", lambda m: ck.mac(m)),
                     ("smbsign aes_cmac()", lambda m: smbsign.aes_cmac(KEY, m)),
                     ("cryptography CMAC", crypto_cmac)],
        "hmac-sha256": [("smbsign SigningKey.mac", lambda m: hk.mac(m)),
                        ("smbsign hmac_sha256()", lambda m: smbsign.hmac_sha256(KEY, m)),
                        ("stdlib hmac.digest", lambda m: hmac.digest(KEY, m, hashlib.sha256))],
    }
    small, big = os.urandom(64), os.urandom(65536)
    print(f"{'algorithm':12} {'implementation':26} {'64 B ns/call':>13} {'64 KiB GB/s':>12}")
    for alg, rows in impls.items():
        for name, fn in rows:
            ns = per_call(lambda: fn(small), 20000) * 1e9
            gbps = 65536 / per_call(lambda: fn(big), 300) / 1e9
            print(f"{alg:12} {name:26} {ns:13.0f} {gbps:12.3f}")

    mib = os.urandom(1 << 20)
    print("\nthreads at 1 MiB (SigningKey.mac, GIL released):")
    for alg, key, nonce in [("aes-gmac", gk, NONCE), ("aes-cmac", ck, None), ("hmac-sha256", hk, None)]:
        rates = {}
        for threads in (1, 2):
            n = 40 if alg == "aes-gmac" else 6

            def work():
                for _ in range(n):
                    key.mac(mib, nonce)

            ts = [threading.Thread(target=work) for _ in range(threads)]
            t = time.perf_counter()
            for th in ts:
                th.start()
            for th in ts:
                th.join()
            rates[threads] = threads * n * len(mib) / (time.perf_counter() - t) / 1e9
        print(f"  {alg:12} 1 thread {rates[1]:.2f} GB/s, 2 threads {rates[2]:.2f} GB/s ({rates[2] / rates[1]:.2f}x)")


main()
