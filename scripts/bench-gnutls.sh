#!/usr/bin/env bash
# Samba's signing calls through GnuTLS, stock against libsmbsign_gnutls.so
# preloaded, per call (benches/gnutls/samba_calls.c): GMAC encryptv2 with
# Samba's three AAD pieces, CMAC and HMAC-SHA256 as gnutls_hmac x3 +
# gnutls_hmac_output, at SMB message sizes; with --algs gcm128,gcm256,ccm128,ccm256
# SMB3 encryption as Samba calls it (encryptv2, 32-byte AAD, the message in
# place in 1-3 iovecs; `--enc` = all four at 128 B, 4 KiB, 64 KiB, 1 MiB). Stock and preloaded runs
# alternate, ROUNDS times; each cell is the best of all rounds. The preloaded
# run goes once per tier this CPU has (SMBSIGN_BACKEND) and also times the C
# ABI (smbsign_mac on the same bytes), for the preload's overhead per call.
#   bash scripts/bench-gnutls.sh [--rounds N (5)] [--sizes 64,80,...] [--algs gmac,cmac,hmac]
# Writes target/bench-gnutls/{raw.txt,results.md}.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$SMBSIGN_ROOT"
rounds=5 sizes=64,80,128,256,512,1024,4096,65536,1048576 algs=gmac,cmac,hmac callgrind=
while [ $# -gt 0 ]; do
    case "$1" in
    --callgrind) callgrind=1 sizes=64,80,128,1024,4096; shift ;;
    --rounds) rounds="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --algs) algs="$2"; shift 2 ;;
    --enc) algs=gcm128,gcm256,ccm128,ccm256 sizes=128,4096,65536,1048576; shift ;;
    *) echo "usage: $0 [--callgrind] [--rounds N] [--sizes LIST] [--algs LIST] [--enc]" >&2; exit 2 ;;
    esac
done
ensure_toolchain
apt_ensure gcc libgnutls28-dev >/dev/null
cargo build --release -q -p smbsign-gnutls -p smbsign-ffi
rel="${CARGO_TARGET_DIR:-$SMBSIGN_ROOT/target}/release"
out="$SMBSIGN_ROOT/target/bench-gnutls"
mkdir -p "$out"
gcc -O2 -Wall -Wextra -o "$out/samba_calls" benches/gnutls/samba_calls.c -lgnutls -ldl
if [ -n "$callgrind" ]; then
    apt_ensure valgrind >/dev/null
    cg="$out/callgrind.txt"
    {
        echo "# $(date -u '+%F %H:%M UTC'); CPU:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
        echo "# GnuTLS $(dpkg-query -W -f='${Version}' libgnutls30 2>/dev/null || echo '?'); $(valgrind --version)"
    } >"$cg"
    # One cell per process: "run alg size callee calls_per_message ir_per_message".
    for a in ${algs//,/ }; do
        for s in ${sizes//,/ }; do
            for run in stock preload; do
                env=()
                [ $run = preload ] && env=(SMBSIGN_CABI="$rel/libsmbsign_ffi.so" LD_PRELOAD="$rel/libsmbsign_gnutls.so")
                for n in 1000 2000; do
                    env "${env[@]}" SAMBA_CALLS_ITERS=$n valgrind --tool=callgrind -q \
                        --callgrind-out-file="$out/cg.$run.$n.out" "$out/samba_calls" "$a" "$s" >/dev/null
                done
                python3 scripts/callgrind-calls.py samba_calls "$out/cg.$run.1000.out" 1000 \
                    "$out/cg.$run.2000.out" 2000 | sed "s/^/$run $a $s /" >>"$cg"
            done
        done
        echo "callgrind: $a done" >&2
    done
    rm -f "$out"/cg.*.out
    python3 - "$cg" >"$out/callgrind.md" <<'PY'
import sys
ir, head = {}, []
for line in open(sys.argv[1]):
    if line.startswith("#"):
        head.append(line[2:].strip())
        continue
    run, alg, size, callee, _calls, n = line.split()
    ir[(run, alg, int(size), callee)] = float(n)
sizes = sorted({k[2] for k in ir})
algs = [a for a in ("gmac", "cmac", "hmac") if any(k[1] == a for k in ir)]
entry = {"gmac": ["gnutls_aead_cipher_encryptv2"], "cmac": ["gnutls_hmac", "gnutls_hmac_output"]}
entry["hmac"] = entry["cmac"]
name = {"gmac": "GMAC encryptv2 (3 AAD pieces)", "cmac": "CMAC gnutls_hmac x3 + output", "hmac": "HMAC-SHA256 gnutls_hmac x3 + output"}
fmt = lambda n: f"{n // 1024} KiB" if n >= 1024 and n % 1024 == 0 else f"{n} B"
print("\n".join(f"- {h}" for h in head))
print("\nInstructions per message (callgrind, inclusive, the caller's PLT stubs aside); "
      "ratio = stock / preloaded instructions (not a speed ratio); overhead = preloaded - C ABI smbsign_mac "
      "on the same message in one part.\n")
print("| call | row | " + " | ".join(fmt(s) for s in sizes) + " |")
print("|---|---|" + "---:|" * len(sizes))
for a in algs:
    per = lambda run, s: sum(ir.get((run, a, s, c), 0) for c in entry[a])
    stock = [per("stock", s) for s in sizes]
    pre = [per("preload", s) for s in sizes]
    cabi = [ir.get(("preload", a, s, "smbsign_mac"), 0) for s in sizes]
    print(f"| {name[a]} | stock Ir | " + " | ".join(f"{v:.0f}" for v in stock) + " |")
    print(f"| | preloaded Ir | " + " | ".join(f"{v:.0f}" for v in pre) + " |")
    if a != "gmac":
        upd = [ir.get(("preload", a, s, "gnutls_hmac"), 0) for s in sizes]
        print(f"| | of which gnutls_hmac x3 | " + " | ".join(f"{v:.0f}" for v in upd) + " |")
    print(f"| | C ABI Ir | " + " | ".join(f"{v:.0f}" for v in cabi) + " |")
    print(f"| | **overhead Ir** | " + " | ".join(f"**{p - c:.0f}**" for p, c in zip(pre, cabi)) + " |")
    print(f"| | Ir ratio | " + " | ".join(f"{x / p:.2f}" for x, p in zip(stock, pre)) + " |")
PY
    cat "$out/callgrind.md"
    exit 0
fi
# The tiers this CPU runs: those the C ABI reports back when forced.
tiers=()
for t in avx512 avx2 aesni armv8 portable; do
    got=$(SMBSIGN_BACKEND=$t SMBSIGN_CABI="$rel/libsmbsign_ffi.so" "$out/samba_calls" gmac 64 1 2>/dev/null |
        sed -n 's/^# C ABI tier //p')
    [ "$got" = "$t" ] && tiers+=("$t")
done
raw="$out/raw.txt"
{
    echo "# $(date -u '+%F %H:%M UTC'); CPU:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
    echo "# GnuTLS $(dpkg-query -W -f='${Version}' libgnutls30 2>/dev/null || echo '?'); tiers: ${tiers[*]}; rounds $rounds"
    echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$raw"
for r in $(seq "$rounds"); do
    "$out/samba_calls" "$algs" "$sizes" | sed "s/^/stock - /" >>"$raw"
    for t in "${tiers[@]}"; do
        SMBSIGN_BACKEND=$t SMBSIGN_CABI="$rel/libsmbsign_ffi.so" LD_PRELOAD="$rel/libsmbsign_gnutls.so" \
            "$out/samba_calls" "$algs" "$sizes" | grep -v '^#' | sed "s/^/preload $t /" >>"$raw"
    done
    echo "round $r of $rounds done" >&2
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$raw"
python3 - "$raw" >"$out/results.md" <<'PY'
import sys
best, head = {}, []
for line in open(sys.argv[1]):
    if line.startswith("#"):
        head.append(line[2:].strip())
        continue
    run, tier, alg, size, api, ns, _tag = line.split()
    key = (run, tier, alg, int(size), api)
    best[key] = min(best.get(key, 1e30), float(ns))
tiers = sorted({k[1] for k in best if k[0] == "preload"}, key=["avx512", "avx2", "aesni", "armv8", "portable"].index)
sizes = sorted({k[3] for k in best})
algs = [a for a in ("gmac", "cmac", "hmac", "gcm128", "gcm256", "ccm128", "ccm256") if any(k[2] == a for k in best)]
name = {"gmac": "GMAC encryptv2 (3 AAD pieces)", "cmac": "CMAC gnutls_hmac x3 + output", "hmac": "HMAC-SHA256 gnutls_hmac x3 + output",
        "gcm128": "AES-128-GCM encryptv2 (AAD 32, 1-3 iovecs in place)", "gcm256": "AES-256-GCM encryptv2",
        "ccm128": "AES-128-CCM encryptv2", "ccm256": "AES-256-CCM encryptv2"}
fmt = lambda n: f"{n // 1048576} MiB" if n >= 1048576 else f"{n // 1024} KiB" if n >= 1024 and n % 1024 == 0 else f"{n} B"
print("\n".join(f"- {h}" for h in head))
print("\nBest of all rounds, ns per call; ratio = stock / preloaded (higher is faster);"
      " overhead = preloaded - C ABI smbsign_mac on the same message in one part.\n")
print("| call | tier | row | " + " | ".join(fmt(s) for s in sizes) + " |")
print("|---|---|---|" + "---:|" * len(sizes))
for a in algs:
    stock = [best.get(("stock", "-", a, s, "gnutls")) for s in sizes]
    print(f"| {name[a]} | - | stock ns | " + " | ".join(f"{v:.1f}" for v in stock) + " |")
    for t in tiers:
        pre = [best.get(("preload", t, a, s, "gnutls")) for s in sizes]
        cabi = [best.get(("preload", t, a, s, "cabi")) for s in sizes]
        print(f"| | {t} | preloaded ns | " + " | ".join(f"{v:.1f}" for v in pre) + " |")
        print(f"| | {t} | **ratio** | " + " | ".join(f"**{x / p:.2f}**" for x, p in zip(stock, pre)) + " |")
        if all(c is not None for c in cabi):  # no C ABI rows for the ciphers
            print(f"| | {t} | overhead ns | " + " | ".join(f"{p - c:.1f}" for p, c in zip(pre, cabi)) + " |")
PY
cat "$out/results.md"
