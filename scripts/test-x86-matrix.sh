#!/usr/bin/env bash
# The x86-64 CPU-tier matrix: builds the core test binaries once, then runs them
# natively and under qemu-x86_64 CPU models without the newer instructions,
# asserting in each which backend detection picked. An illegal instruction
# (SIGILL) anywhere fails the run.
#
#   model      features qemu 7.2 exposes                 expected tier / SHA-256 kernel
#   qemu64     SSE2 only                                 portable / portable
#   Westmere   AES-NI, PCLMULQDQ, SSSE3, SSE4.1          aesni    / portable
#   Haswell    + AVX, AVX2                               aesni    / portable (no VPCLMULQDQ, no SHA)
#   max        + VAES (TCG has no VPCLMULQDQ, SHA, AVX-512) aesni / portable
#   native     whatever this CPU has (from /proc/cpuinfo; avx512 is never auto-picked)
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$SMBSIGN_ROOT"
apt_ensure qemu-user || exit 1

bins=$(cargo test -p smbsign --tests --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] != ["bin"]:
        print(m["executable"])')
[ -n "$bins" ] || { echo "no test binaries"; exit 1; }

# The tier the native CPU should get, from the kernel's view of its flags.
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { [[ " $flags " == *" $1 "* ]]; }
native_tier=portable
if has aes && has pclmulqdq && has ssse3; then
    native_tier=aesni
    has avx2 && has vpclmulqdq && native_tier=avx2
fi
native_sha=portable
has sha_ni && has sse4_1 && [ "$native_tier" != portable ] && native_sha=x86_64/sha-ni

status=0
run_model() { # model tier sha
    local model=$1 tier=$2 sha=$3 runner=""
    [ "$model" != native ] && runner="qemu-x86_64 -cpu $model"
    for b in $bins; do
        echo "== $model: $(basename "$b")"
        SMBSIGN_EXPECT_TIER=$tier SMBSIGN_EXPECT_SHA=$sha SMBSIGN_TEST_RUNNER="$runner" \
            SMBSIGN_PROPTEST_CASES=${SMBSIGN_PROPTEST_CASES:-64} \
            $runner "$b" 2>&1 | grep -v "TCG doesn't support"
        local rc=${PIPESTATUS[0]}
        if [ "$rc" -ne 0 ]; then
            echo "FAILED: $model $(basename "$b") exit $rc"
            status=1
        fi
    done
}
run_model native "$native_tier" "$native_sha"
run_model qemu64 portable portable
run_model Westmere aesni portable
run_model Haswell aesni portable
run_model max aesni portable
exit $status
