#!/usr/bin/env bash
# The core and C ABI crates' tests under AddressSanitizer (out-of-bounds,
# use-after-free, leaks), then the concurrency soak (core/tests/soak.rs) under
# AddressSanitizer and under ThreadSanitizer, SMBSIGN_SOAK_SECONDS each
# (default 20). Miri is not available here (it needs rust-src), so these
# sanitizers, the fuzz targets (also ASan) and valgrind (tests/c/run.sh) stand in.
#
# The standard library is not rebuilt with the sanitizers (-Zbuild-std needs
# rust-src too): ASan still checks every access smbsign's code makes; TSan
# cannot see std's internal atomics, so tests/sanitizers/tsan.supp silences the one
# report that causes (libtest's own result channel).
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain || exit 1
source "$SMBSIGN_ROOT/scripts/nightly.sh"
secs="${SMBSIGN_SOAK_SECONDS:-20}"
status=0

# Random-case counts as in the emulated runs: the sanitizers slow every access.
export SMBSIGN_PROPTEST_CASES="${SMBSIGN_PROPTEST_CASES:-16}"
echo "== AddressSanitizer: core and C ABI tests, soak ${secs}s"
# The stack-erasure test is skipped here: ASan moves locals to its fake stack
# and pads every frame with redzones, so the painted thread stack it scans is
# not where the kernels' frames are (its control then finds nothing). It runs
# in rust-native and in the x86 matrix.
RUSTFLAGS="-Zsanitizer=address" CARGO_TARGET_DIR=target/asan SMBSIGN_SOAK_SECONDS="$secs" \
    cargo "${NIGHTLY[@]}" test -p smbsign -p smbsign-ffi --lib --tests --target "$HOST_TARGET" \
    -- --nocapture --skip scrub::tests::entry_points_leave_no_key_material_on_the_stack 2>&1 | grep -vE '^\s*(Compiling|Running|Finished|running 0 tests)' | grep -E 'test result|soak:|ERROR|SUMMARY|panicked|FAILED'
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== ThreadSanitizer: soak ${secs}s"
TSAN_OPTIONS="suppressions=$SMBSIGN_ROOT/tests/sanitizers/tsan.supp halt_on_error=1" \
    RUSTFLAGS="-Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer" CARGO_TARGET_DIR=target/tsan \
    SMBSIGN_SOAK_SECONDS="$secs" \
    cargo "${NIGHTLY[@]}" test -p smbsign --test soak --target "$HOST_TARGET" -- --nocapture 2>&1 |
    grep -E 'test result|soak:|WARNING: ThreadSanitizer|SUMMARY|panicked|FAILED'
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
# Control: with the same flags and suppressions, TSan must still report a
# deliberate data race (else the suppressions hide real races).
echo "== ThreadSanitizer control: a deliberate race must be reported"
ctl="$SMBSIGN_ROOT/target/tsan-control"
mkdir -p "$ctl/src"
cat >"$ctl/Cargo.toml" <<'TOML'
[package]
name = "tsan-control"
version = "0.0.0"
edition = "2021"
publish = false
[workspace]
TOML
cat >"$ctl/src/main.rs" <<'RS'
struct Shared(*mut u64);
// SAFETY: deliberately false; this program exists to race.
unsafe impl Sync for Shared {}
fn main() {
    let mut x = 0u64;
    let p = Shared(&mut x);
    std::thread::scope(|s| {
        for _ in 0..4 {
            let p = &p;
            // SAFETY: none; the unsynchronised increments are the point.
            s.spawn(move || (0..1000).for_each(|_| unsafe { *p.0 += 1 }));
        }
    });
    println!("{x}");
}
RS
out=$(TSAN_OPTIONS="suppressions=$SMBSIGN_ROOT/tests/sanitizers/tsan.supp" \
    RUSTFLAGS="-Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer" \
    cargo "${NIGHTLY[@]}" run -q --manifest-path "$ctl/Cargo.toml" --target "$HOST_TARGET" 2>&1)
if grep -q 'data race.*main.rs' <<<"$out"; then
    echo "control race reported: 1 passed, 0 failed"
else
    echo "control race NOT reported (suppressions too broad?): 0 passed, 1 failed"
    status=1
fi
exit $status
