#!/usr/bin/env bash
# The dudect constant-time check (benches/benches/dudect.rs) at a bounded
# sample count (SMBSIGN_DUDECT_SAMPLES, default 2,000,000 per bench). A report,
# not a gate on smbsign's numbers: it prints every t-value. It fails only if
# the control (an early-exit comparison) is NOT detected (|t| <= 10), which
# would mean the measurement is blind on this machine.
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain || exit 1
export SMBSIGN_DUDECT_SAMPLES="${SMBSIGN_DUDECT_SAMPLES:-2000000}"
log="target/dudect.log"
cargo bench -q -p smbsign-benches --bench dudect >"$log" 2>&1 || { tail -n 30 "$log"; exit 1; }
grep -E '^dudect:' "$log"
grep -E '\.\.\. :' "$log" | sed -E 's/^bench +//; s/ +\.\.\. : / /'
control=$(grep 'naive_eq_first_vs_last' "$log" | grep -oE 'max t = [-+][0-9.]+' | grep -oE '[0-9.]+$')
if awk -v t="$control" 'BEGIN { exit !(t > 10) }'; then
    echo "control detected (|t| = $control): the measurement can see a leak; 1 passed, 0 failed"
else
    echo "control NOT detected (|t| = ${control:-none}): the measurement is blind here; 0 passed, 1 failed"
    exit 1
fi
