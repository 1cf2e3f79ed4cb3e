#!/usr/bin/env bash
# The fuzz suite: builds the cargo-fuzz targets in fuzz/ (nightly, AddressSanitizer,
# debug assertions), then runs each one for SMBSIGN_FUZZ_SECONDS (default 20)
# (one per core at a time) starting from the committed seeds (fuzz/seeds/TARGET: real SMB2 PDUs and
# compound chains captured from Samba) and crash regressions
# (fuzz/regressions/TARGET), which libFuzzer replays first. Prints executions
# per target. Installs cargo-fuzz (and g++, which libFuzzer's build needs) when
# missing. New corpus entries go to target/fuzz-corpus/, crashes to fuzz/artifacts/.
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain || exit 1
apt_ensure g++ || exit 1
secs="${SMBSIGN_FUZZ_SECONDS:-20}"

source "$SMBSIGN_ROOT/scripts/nightly.sh" # cargo-fuzz needs -Zsanitizer and -Cpasses=sancov-module
cargo_tool_ensure cargo-fuzz || exit 1

cargo "${NIGHTLY[@]}" fuzz build || exit 1
# One target per core at a time: each still runs its full SMBSIGN_FUZZ_SECONDS.
run_target() { # TARGET -> target/fuzz-TARGET.result: "ok LINE" or "fail LINE"
    local t=$1 corpus="target/fuzz-corpus/$1" log="target/fuzz-$1.log"
    mkdir -p "$corpus"
    local dirs=("$corpus") d
    for d in "fuzz/seeds/$t" "fuzz/regressions/$t"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    cargo "${NIGHTLY[@]}" fuzz run "$t" "${dirs[@]}" -- \
        -max_total_time="$secs" -max_len=16384 -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1
    local rc=$? execs seeds=0
    execs=$(grep -oE '^Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' | tail -1)
    [ ${#dirs[@]} -gt 1 ] && seeds=$(find "${dirs[@]:1}" -type f | wc -l)
    if [ $rc -eq 0 ] && [ -n "$execs" ]; then
        echo "ok fuzz $t: ${execs} executions in ${secs}s, ${seeds} seeds/regressions replayed, corpus $(ls "$corpus" | wc -l), no crash"
    else
        echo "fail fuzz $t: FAILED (exit $rc); last lines of $log:"
        tail -n 40 "$log"
        ls fuzz/artifacts/"$t" 2>/dev/null
    fi >"target/fuzz-$t.result"
}
targets=$(cargo fuzz list)
width=$(nproc)
for t in $targets; do
    while [ "$(jobs -rp | wc -l)" -ge "$width" ]; do wait -n; done
    run_target "$t" &
done
wait
passed=0
failed=0
for t in $targets; do
    r="target/fuzz-$t.result"
    if [ "$(head -c 3 "$r" 2>/dev/null)" = "ok " ]; then
        passed=$((passed + 1))
        cut -c4- "$r"
    else
        failed=$((failed + 1))
        sed '1s/^fail //' "$r" 2>/dev/null || echo "fuzz $t: no result"
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
