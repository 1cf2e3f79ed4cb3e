#!/usr/bin/env python3
"""Prints the criterion suite's results as Markdown tables: GB/s per
implementation and size, and the ratios smbsign/best peer, smbsign/OpenSSL,
smbsign/GnuTLS and smbsign/RustCrypto, where "smbsign" is its best tier.

Usage: python3 scripts/bench-ratios.py [target/criterion]
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
PEERS = ["openssl", "gnutls", "rustcrypto"]


def load():
    """{(group, impl, size): ns} from criterion's estimates.json files."""
    out = {}
    for est in root.glob("*/*/*/new/estimates.json"):
        size_dir, impl_dir, group_dir = est.parents[1], est.parents[2], est.parents[3]
        bench = json.loads((size_dir / "new" / "benchmark.json").read_text())
        group = bench["group_id"]
        impl = bench["function_id"]
        size = bench["value_str"]
        size = int(size) if size.isdigit() else size
        ns = json.loads(est.read_text())["mean"]["point_estimate"]
        out[(group, impl, size)] = ns
    return out


def human(n):
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB" if n >= 1024 else f"{n} B"


def batch_bytes(label):
    """Total bytes of a batch label: "64x256", or the mixed 64 B..64 KiB set."""
    if label.startswith("mixed"):
        return sum(min(int(64.0 * 1024 ** (i / 63.0)), 65534) for i in range(64))
    n, size = label.split("x")
    return int(n) * int(size)


def batch_tables(data):
    groups = sorted({g for g, _, _ in data if g.startswith("batch/")})
    if not groups:
        return
    tiers = sorted({i for g, i, _ in data if g.startswith("batch/") and i.startswith("smbsign-batch-")})
    impls = ["smbsign-batch"] + tiers + ["smbsign-one-shot", "intel-ipsec-mb", "openssl"]
    print("\n### Batch signing, 64 messages per batch under 8 keys: GB/s (10^9 bytes/s)\n")
    print("(ratios: the best smbsign batch column, detected tier or any smbsign-batch-TIER)\n")
    print("| algorithm | batch | " + " | ".join(impls) + " | batch / intel-ipsec-mb | batch / one-shot | batch / OpenSSL |")
    print("|---" * (len(impls) + 5) + "|")
    for g in groups:
        labels = sorted({s for gg, _, s in data if gg == g}, key=lambda l: (l.startswith("mixed"), batch_bytes(l)))
        for lab in labels:
            total = batch_bytes(lab)
            gbps = {i: total / data[(g, i, lab)] for i in impls if (g, i, lab) in data}
            row = [g.split("/", 1)[1], lab] + [f"{gbps[i]:.2f}" if i in gbps else "-" for i in impls]
            b = max((v for i, v in gbps.items() if i.startswith("smbsign-batch")), default=None)
            for peer in ["intel-ipsec-mb", "smbsign-one-shot", "openssl"]:
                row.append(f"{b / gbps[peer]:.2f}x" if b and peer in gbps else "-")
            print("| " + " | ".join(row) + " |")


def main():
    data = load()
    if not data:
        sys.exit(f"no criterion results under {root}")
    batch_tables(data)
    groups = sorted({g for g, _, _ in data if g.startswith("mac/")})
    for g in groups:
        impls = sorted({i for gg, i, _ in data if gg == g})
        ours = [i for i in impls if i.startswith("smbsign")]
        sizes = sorted({s for gg, _, s in data if gg == g})
        print(f"\n### {g.split('/', 1)[1]}: GB/s (10^9 bytes/s), one-shot MAC per message\n")
        cols = ours + [p for p in PEERS if p in impls]
        print("| size | " + " | ".join(cols) + " | best smbsign / best peer | / OpenSSL | / GnuTLS | / RustCrypto |")
        print("|---" * (len(cols) + 5) + "|")
        for s in sizes:
            gbps = {i: s / data[(g, i, s)] for i in cols if (g, i, s) in data}
            best = max((gbps[i] for i in ours if i in gbps), default=None)
            peers = {p: gbps[p] for p in PEERS if p in gbps}
            row = [human(s)] + [f"{gbps[i]:.3f}" if i in gbps else "-" for i in cols]
            bp = max(peers.values()) if peers else None
            row.append(f"{best / bp:.2f}x" if best and bp else "-")
            for p in PEERS:
                row.append(f"{best / peers[p]:.2f}x" if best and p in peers else "-")
            print("| " + " | ".join(row) + " |")
    ffi = sorted({g for g, _, _ in data if g.startswith("ffi_overhead/")})
    if ffi:
        print("\n### C ABI per-call cost vs the Rust API, 64-byte message (ns)\n")
        print("| algorithm | Rust API | C ABI (smbsign_mac) | difference |")
        print("|---|---|---|---|")
        for g in ffi:
            r, c = data.get((g, "rust-api", 64)), data.get((g, "c-abi", 64))
            if r and c:
                print(f"| {g.split('/', 1)[1]} | {r:.1f} | {c:.1f} | {c - r:+.1f} |")
    pdus = sorted({g for g, _, _ in data if g.startswith("pdu/")})
    if pdus:
        print("\n### sign_pdu / verify_pdu (smbsign, detected backend): ns per PDU and GB/s\n")
        print("| algorithm | operation | size | ns | GB/s |")
        print("|---|---|---|---|---|")
        for g in pdus:
            for (gg, i, s), ns in sorted(data.items()):
                if gg == g:
                    op = i.replace("smbsign-", "")
                    print(f"| {g.split('/', 1)[1]} | {op} | {human(s)} | {ns:.1f} | {s / ns:.3f} |")


main()
