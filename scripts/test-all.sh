#!/usr/bin/env bash
# Runs every smbsign test suite (lint, Rust native, C ABI, Python with Samba
# interop, the GnuTLS drop-in with a preloaded smbd, smbsign-check on recorded
# Samba captures, smbsign-probe against real servers, Debian 13's Samba with the
# drop-in, the .deb in Debian 13 and 12 userlands, the x86 CPU-tier matrix,
# the aarch64 suite under qemu, an arm64 smbd with the drop-in, the fuzz
# targets, the sanitizer runs with the concurrency soak, and the dudect
# constant-time report) and prints one summary line per suite, then the total.
# Installs what the suites need (Debian packages, cargo-fuzz) itself,
# idempotently. Exit status 0 iff all passed.
#
# Every suite but lint and rust-native is tests/<suite>/run.sh (docs/testing.md).
# Usage: bash scripts/test-all.sh [--list]   (--list: print each suite and its
# command, run nothing, install nothing)
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$SMBSIGN_ROOT"
case "${1:-}" in
"") ;;
--list) suite() { printf '%-18s %s\n' "$1" "${*:2}"; } ;;
-h | --help) sed -n '2,/^set -uo/p' "$SMBSIGN_ROOT/scripts/test-all.sh" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
*) echo "usage: bash scripts/test-all.sh [--list]" >&2; exit 2 ;;
esac
if [ -z "${1:-}" ]; then
    ensure_toolchain || { echo "no Rust toolchain"; exit 1; }
    apt_ensure fonts-dejavu-core >/dev/null # smbsign-bench's plot test labels its charts with it
    apt_ensure g++ >/dev/null               # libfuzzer-sys (fuzz/) builds libFuzzer from C++
    # In the background, at low priority, while the first suites compile or
    # wait on Samba: the Debian userlands (mostly downloads) and the cargo
    # subcommands the deb and fuzz suites need; those suites wait on the same
    # locks (scripts/userland.sh, cargo_tool_ensure). Host packages come first,
    # so no two apt-gets run at once.
    if [ "$(id -u)" = 0 ] && qemu_ensure >/dev/null && apt_ensure debootstrap qemu-user-binfmt >/dev/null; then
        source "$SMBSIGN_ROOT/scripts/userland.sh"
        (
            renice -n 10 "$BASHPID" >/dev/null
            userland_prefetch
            cargo_tool_ensure cargo-deb
            cargo_tool_ensure cargo-fuzz
        ) >"$SUITE_LOG_DIR/prefetch.log" 2>&1 &
        prefetch=$!
        trap 'kill "$prefetch" 2>/dev/null' EXIT
    fi
fi

lint() {
    cargo fmt --all -- --check &&
        cargo clippy --workspace --all-targets -- -D warnings &&
        RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps &&
        cargo fmt --manifest-path fuzz/Cargo.toml -- --check &&
        cargo clippy --manifest-path fuzz/Cargo.toml --all-targets -- -D warnings &&
        python3 scripts/module-cycles.py core wire ffi-c ffi-gnutls ffi-python capture probe benches >/dev/null &&
        python3 scripts/check-layers.py >/dev/null &&
        echo "1 passed, 0 failed"
}
suite lint lint

# The stack-erasure test again in the release profile, whose frames are
# deeper (the sizes in core/src/scrub/size.rs must cover both).
rust_native() {
    cargo test --workspace &&
        cargo test --release -p smbsign --lib scrub::
}
suite rust-native rust_native

suite c-abi bash tests/c/run.sh

suite python bash tests/python/run.sh

suite gnutls-preload bash tests/gnutls/run.sh

suite capture bash tests/capture/run.sh

suite probe bash tests/probe/run.sh

suite debian13 bash tests/debian13/run.sh

suite deb bash tests/deb/run.sh

if [ "$(uname -m)" = x86_64 ]; then
    suite x86-tier-matrix bash tests/x86/run.sh
    suite aarch64-qemu bash tests/aarch64/run.sh
    suite arm64-samba bash tests/arm64-samba/run.sh
fi

suite fuzz bash tests/fuzz/run.sh

suite sanitizers-soak bash tests/sanitizers/run.sh

suite constant-time bash tests/ct/run.sh

[ -n "${1:-}" ] && exit 0
echo "total: $SUITE_PASSED passed, $SUITE_FAILED failed"
[ "$SUITE_FAILED" -eq 0 ]
