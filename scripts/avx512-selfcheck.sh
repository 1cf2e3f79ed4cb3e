#!/usr/bin/env bash
# AVX-512 self-check (issue 18), for a person on a CPU with AVX-512F/BW/VL/VBMI and
# VPCLMULQDQ. In one go:
#   1. correctness: the differential, PDU, batch, dispatch, vector and KDF
#      suites with the process forced onto the avx512 tier (SMBSIGN_BACKEND) and
#      every all-tiers test comparing avx512 (and avx2) against the portable
#      tier and the reference crates (SMBSIGN_TEST_TIERS);
#   2. the backend-differential fuzzer for SMBSIGN_FUZZ_SECONDS (default 60;
#      0 skips it);
#   3. the figures BENCHMARKS.md and docs/benchmarks-log.md record ("Issue 18
#      on a full-width AVX-512 CPU"): VPCLMULQDQ and VAES
#      throughput per register width (benches/experiments/simd_throughput.c); one-shot
#      GMAC per tier and zmm GHASH loop (gmac_long) and through the C ABI
#      (ffi_overhead) against OpenSSL and GnuTLS; CMAC and HMAC batches
#      against intel-ipsec-mb (batch_lanes); then the criterion GMAC groups
#      (every tier, OpenSSL 3.6 built from source, GnuTLS, RustCrypto; C ABI at
#      64 and 256 bytes; PDUs; batches) and their ratios.
# Usage: bash scripts/avx512-selfcheck.sh [--no-bench]
# Prints the CPU, date and load with the figures. Exit status: 0 when every
# check passed, 1 when one failed, 2 when the CPU lacks the features.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain || exit 1

bench=1
[ "${1:-}" = --no-bench ] && bench=0

flags=$(grep -m1 '^flags' /proc/cpuinfo)
missing=""
for f in avx512f avx512bw avx512vl vpclmulqdq; do
    grep -qw "$f" <<<"$flags" || missing="$missing $f"
done
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); load: $(cat /proc/loadavg)"
if [ -n "$missing" ]; then
    echo "this CPU lacks:$missing; the avx512 tier cannot run here"
    exit 2
fi
grep -qw vaes <<<"$flags" || echo "note: no VAES (the lane kernels keep to AES-NI)"

failed=0
echo "== 1. suites forced onto the avx512 tier"
log=target/avx512-selfcheck-tests.log
SMBSIGN_BACKEND=avx512 SMBSIGN_TEST_TIERS=portable,avx2,avx512 \
    cargo test -p smbsign --test differential --test pdu --test batch \
    --test dispatch --test vectors --test kdf >"$log" 2>&1
rc=$?
grep -E '^test result|panicked' "$log"
[ "$rc" -eq 0 ] || { echo "suites FAILED, see $log"; failed=1; }

secs="${SMBSIGN_FUZZ_SECONDS:-60}"
if [ "$secs" -gt 0 ]; then
    echo "== 2. backend_differential fuzzer, ${secs}s"
    apt_ensure g++ || exit 1
    source "$(dirname "$0")/nightly.sh"
    if cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked; then
        log=target/fuzz-avx512-selfcheck.log
        # New corpus entries go to the first directory: target/, never the committed seeds.
        mkdir -p target/fuzz-corpus/backend_differential
        if cargo "${NIGHTLY[@]}" fuzz run backend_differential target/fuzz-corpus/backend_differential \
            fuzz/seeds/backend_differential \
            -- -max_total_time="$secs" -max_len=16384 >"$log" 2>&1; then
            echo "fuzz backend_differential: $(grep -oE '^Done [0-9]+ runs' "$log" | tail -1), no crash"
        else
            echo "fuzz backend_differential: FAILED, see $log"
            failed=1
        fi
    else
        echo "cargo-fuzz unavailable: fuzzer skipped"
    fi
fi

if [ "$bench" -eq 1 ]; then
    echo "== 3. instruction throughput"
    gcc -O2 benches/experiments/simd_throughput.c -o target/simd_throughput && target/simd_throughput
    echo "== 3. GHASH loop model (benches/experiments/ghash_loop_model.c)"
    gcc -O2 -mavx512f -mavx512bw -mavx512vbmi -mvpclmulqdq -mpclmul -mavx2 \
        benches/experiments/ghash_loop_model.c -o target/ghash_loop_model && target/ghash_loop_model
    apt_ensure libipsec-mb-dev libgnutls28-dev || exit 1
    cargo build -q --release -p smbsign-benches --features peers --examples || exit 1
    echo "== 3. one-shot GMAC per tier and zmm GHASH loop vs OpenSSL, fastest of 300 (load: $(cat /proc/loadavg))"
    target/release/examples/gmac_long 300
    echo "== 3. C ABI per call vs GnuTLS (load: $(cat /proc/loadavg))"
    target/release/examples/ffi_overhead 300
    echo "== 3. CMAC and HMAC batches vs intel-ipsec-mb, fastest of 600 (load: $(cat /proc/loadavg))"
    BATCH_LENS=256,1024,4096,16384 target/release/examples/batch_lanes all 600
    echo "== 3. GMAC against peers (criterion; load: $(cat /proc/loadavg))"
    bash scripts/bench-peers.sh 'aes-gmac' 2>&1 | grep -vE '^(Benchmarking|Warning|Found|  [0-9]+ \()' |
        grep -vE '^\s*$'
    echo "load after: $(cat /proc/loadavg)"
fi

if [ "$failed" -eq 0 ]; then
    echo "avx512 self-check: passed"
else
    echo "avx512 self-check: FAILED"
fi
exit "$failed"
