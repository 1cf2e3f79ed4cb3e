"""Checks a SMBSIGN_GNUTLS_STATS file: every line is one process's JSON counts.

usage: check_stats.py FILE MODE [BUCKET=computed|forwarded ...] [aead.BUCKET=encrypt|decrypt|tag_failures ...]
Exits 1 unless every line has mode MODE and, summed over lines, each named
bucket has computed (or forwarded) calls > 0 (for `aead.BUCKET`: computed
encrypt or decrypt calls with a plaintext, or tag failures, > 0); with MODE
other than "active", also requires that nothing at all was computed.
"""

import json
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def totals(lines):
    out = {}
    for rec in lines:
        for k, v in rec.items():
            if k == "aead":  # per bucket: counts of the calls with a plaintext
                for b, c in v.items():
                    t = out.setdefault(f"aead.{b}", dict.fromkeys(c, 0))
                    for n, x in c.items():
                        t[n] += x
            elif isinstance(v, dict) and k != "kernels":  # kernels: names, not counts
                t = out.setdefault(k, dict.fromkeys(v, 0))
                for n, x in v.items():
                    t[n] += x
    return out


def main():
    path, mode, *wants = sys.argv[1:]
    lines = load(path)
    ok = bool(lines)
    for rec in lines:
        if rec["mode"] != mode:
            print(f"pid {rec['pid']}: mode {rec['mode']}, expected {mode}")
            ok = False
    tot = totals(lines)
    for w in wants:
        bucket, path_ = w.split("=")
        field = "tag_failures" if path_ == "tag_failures" else f"{path_}_calls"
        if tot.get(bucket, {}).get(field, 0) <= 0:
            print(f"{bucket}: no {path_} calls: {tot.get(bucket)}")
            ok = False
    computed = ("computed_calls", "computed_bytes", "encrypt_calls", "decrypt_calls")
    if mode != "active" and any(v.get(c) for v in tot.values() for c in computed):
        print(f"computed in mode {mode}: {tot}")
        ok = False
    print(("ok " if ok else "BAD ") + json.dumps(tot))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
