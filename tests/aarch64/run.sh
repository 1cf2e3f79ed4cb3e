#!/usr/bin/env bash
# The aarch64 suite: cross-builds the core crate and its tests with Debian's
# rustc 1.96 (which carries the aarch64 std), lints them with Debian's
# clippy-driver, and runs them under qemu-aarch64 -cpu max (AES, PMULL, SHA2),
# asserting the ARMv8 tier is picked. The differential and vector tests run
# every available tier, so the portable one is exercised here too.
# The rustup toolchain stays the default for everything else.
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain || exit 1
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64 && unset SMBSIGN_APT_UPDATED
fi
qemu_ensure || exit 1
apt_ensure rustc-web cargo-web rust-web-clippy libstd-rust-web-dev:arm64 libc6:arm64 \
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross || exit 1

target=aarch64-unknown-linux-gnu
# -L /: the multiarch libc6:arm64 (whose loader matches its libc) under /lib/aarch64-linux-gnu.
runner="qemu-aarch64 -cpu max -L /"
export RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$SMBSIGN_ROOT/target/cross"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="$runner"

echo "== clippy (aarch64)"
# cargo clippy is cargo check with clippy-driver wrapping rustc; -D warnings via RUSTFLAGS
# (a separate target dir, so the flags do not rebuild the test artefacts).
CARGO_TARGET_DIR="$SMBSIGN_ROOT/target/cross-clippy" RUSTFLAGS="-D warnings" \
    RUSTC_WORKSPACE_WRAPPER=/usr/bin/clippy-driver cargo check -q -p smbsign --target $target --all-targets || exit 1
echo "1 passed, 0 failed"

echo "== tests under $runner"
start=$SECONDS
SMBSIGN_EXPECT_TIER=armv8 SMBSIGN_EXPECT_SHA=aarch64/sha2 SMBSIGN_TEST_RUNNER="$runner" \
    SMBSIGN_PROPTEST_CASES=${SMBSIGN_PROPTEST_CASES:-64} \
    cargo test -p smbsign --target $target --lib --tests 2>&1 | grep -vE "^\s*(Compiling|Running|Doc-tests)"
rc=${PIPESTATUS[0]}
echo "emulated aarch64 run: $((SECONDS - start)) s"
exit $rc
