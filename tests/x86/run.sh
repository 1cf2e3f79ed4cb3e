#!/usr/bin/env bash
# The x86-64 CPU-tier matrix: builds the core test binaries once, then runs them
# natively and under qemu-x86_64 CPU models without the newer instructions,
# asserting in each which backend detection picked. An illegal instruction
# (SIGILL) anywhere fails the run.
#
#   model      what qemu's TCG exposes                       tier picked / SHA-256 kernel
#   qemu64     SSE2 only                                     portable / portable
#   Westmere   AES-NI, PCLMULQDQ, SSSE3, SSE4.1              aesni    / portable
#   Haswell    + AVX, AVX2 (no VPCLMULQDQ, no SHA)           aesni    / portable
#   max        + VAES; qemu >= 8 adds SHA-NI (no VPCLMULQDQ,  aesni    / sha-ni (qemu 10)
#              no AVX-512 in TCG)
#   native     whatever this CPU has (avx512 with AVX-512F/BW/VL/VBMI + VPCLMULQDQ)
# The expectation for each model comes from tests/x86/cpuprobe.c (raw CPUID),
# not from smbsign's own detection.
#
# Natively only the dispatch test runs here: rust-native runs every test on
# every tier this CPU has. Under qemu the tests that sweep backends test only
# the tier the model detects (SMBSIGN_TEST_TIERS), since the portable tier is
# the same code on every model, tested natively; qemu64's tier is portable.
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
qemu_ensure || exit 1
apt_ensure gcc libc6-dev || exit 1

# Built as rust-native builds them (the whole workspace: -p smbsign alone
# unifies features differently and would rebuild the crate), the core's kept.
bins=$(cargo test --workspace --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if (m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] in (["lib"], ["test"])
            and m["manifest_path"].endswith("/core/Cargo.toml")):
        print(m["executable"])')
[ -n "$bins" ] || { echo "no test binaries"; exit 1; }

# What detection must pick on each (emulated) CPU comes from an independent
# CPUID probe, run on that same CPU model.
probe="$SMBSIGN_ROOT/target/cpuprobe"
gcc -O1 tests/x86/cpuprobe.c -o "$probe" || exit 1
expect() { # model -> "tier sha-kernel"
    if [ "$1" = native ]; then "$probe"; else qemu-x86_64 -cpu "$1" "$probe" 2>/dev/null; fi
}

status=0
run_model() { # model tier sha
    local model=$1 tier=$2 sha=$3 runner="" run=$bins
    if [ "$model" = native ]; then
        run=$(grep '/dispatch-' <<<"$bins")
    else
        runner="qemu-x86_64 -cpu $model"
    fi
    for b in $run; do
        echo "== $model: $(basename "$b")"
        SMBSIGN_EXPECT_TIER=$tier SMBSIGN_EXPECT_SHA=$sha SMBSIGN_TEST_RUNNER="$runner" \
            SMBSIGN_TEST_TIERS=$tier SMBSIGN_PROPTEST_CASES=${SMBSIGN_PROPTEST_CASES:-64} \
            $runner "$b" 2>&1 | grep -v "TCG doesn't support"
        local rc=${PIPESTATUS[0]}
        if [ "$rc" -ne 0 ]; then
            echo "FAILED: $model $(basename "$b") exit $rc"
            status=1
        fi
    done
}
for model in native qemu64 Westmere Haswell max; do
    read -r tier sha _ < <(expect "$model")
    echo "== $model: expecting tier $tier, SHA-256 kernel $sha"
    run_model "$model" "$tier" "$sha"
done
exit $status
