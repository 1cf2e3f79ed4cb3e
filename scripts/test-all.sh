#!/usr/bin/env bash
# Runs every smbsign test suite (lint, Rust native, C ABI, Python with Samba
# interop, the x86 CPU-tier matrix and the aarch64 suite under qemu) and prints one summary line per suite, then the total. Installs what the
# suites need (Debian packages) itself, idempotently. Exit status 0 iff all passed.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain || { echo "no Rust toolchain"; exit 1; }
apt_ensure fonts-dejavu-core >/dev/null # smbsign-bench's plot test labels its charts with it

lint() {
    cargo fmt --all -- --check &&
        cargo clippy --workspace --all-targets -- -D warnings &&
        RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps &&
        echo "1 passed, 0 failed"
}
suite lint lint

suite rust-native cargo test --workspace

suite c-abi bash tests/c/run.sh

suite python bash tests/python/run.sh

if [ "$(uname -m)" = x86_64 ]; then
    suite x86-tier-matrix bash scripts/test-x86-matrix.sh
    suite aarch64-qemu bash scripts/test-aarch64.sh
fi

echo "total: $SUITE_PASSED passed, $SUITE_FAILED failed"
[ "$SUITE_FAILED" -eq 0 ]
