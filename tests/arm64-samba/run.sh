#!/usr/bin/env bash
# arm64: libsmbsign_gnutls.so cross-built for aarch64 (Debian's rustc-web with
# its arm64 std, as tests/aarch64/run.sh builds core), preloaded into the
# smbd of a Debian 13 arm64 userland (scripts/userland.sh: debootstrap
# --foreign, its packages unpacked natively; cached) that runs under
# qemu-aarch64 -cpu max through binfmt_misc: a signed copy per algorithm (small files,
# this machine's smbclient as the client), files equal, stats showing the ARMv8
# kernels computed every signature (test_arm64_samba.py). Emulated: it proves
# the path, not the speed. Needs root. Prints "N passed, N failed" lines.
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$SMBSIGN_ROOT/scripts/userland.sh"
cd "$SMBSIGN_ROOT"
[ "$(uname -m)" = x86_64 ] || { echo "skipped: arm64-samba (cross-builds from x86-64)"; exit 0; }
start=$SECONDS
ensure_toolchain || exit 1
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64 && unset SMBSIGN_APT_UPDATED
fi
qemu_ensure || exit 1
apt_ensure rustc-web cargo-web libstd-rust-web-dev:arm64 libc6:arm64 gcc-aarch64-linux-gnu \
    libc6-dev-arm64-cross smbclient || exit 1
target=aarch64-unknown-linux-gnu
# Debian's rustc (the one with the arm64 std) and tests/aarch64/run.sh's target dir.
export RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$SMBSIGN_ROOT/target/cross"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
cargo build --release -q -p smbsign-gnutls --target $target || exit 1
so="$CARGO_TARGET_DIR/$target/release/libsmbsign_gnutls.so"
unset RUSTC CARGO_TARGET_DIR
echo "cross-built after $((SECONDS - start)) s"
userland_ensure debian13-arm64 || exit 1
root="$USERLAND_ROOT"
trap 'userland_umount' EXIT
userland_mount || exit 1
userland_binfmt arm64 || exit 1 # registered again after a reboot of a cached machine
echo "userland ready after $((SECONDS - start)) s"

CHECK_LOG="$root/tmp/check.log"
check "cross-built library is aarch64" sh -c 'file -L "$1" | grep -q "ARM aarch64"' _ "$so"
# Unpacked, not configured (scripts/userland.sh): the package list is its own.
versions="$(grep -E '^(samba|libgnutls30t64) ' "$root/.smbsign-packages")"
echo "$versions"
check "userland: arm64 Samba" sh -c 'echo "$1" | grep -Eq "^samba 2:4\.[0-9]+.* arm64$"' _ "$versions"
install -D -m 0755 "$so" "$root/opt/smbsign/libsmbsign_gnutls.so" || exit 1
check "preload: loads into the arm64 smbd (no loader message)" sh -c \
    'out=$(chroot "$1" env QEMU_CPU=max LD_PRELOAD=/opt/smbsign/libsmbsign_gnutls.so /usr/sbin/smbd --version 2>&1 >/dev/null); [ -z "$out" ] || { echo "$out"; exit 1; }' _ "$root"
echo "$CHECK_PASSED passed, $CHECK_FAILED failed (arm64 checks)"

venv="$SMBSIGN_ROOT/target/py-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" 2>/dev/null || { apt_ensure python3-venv && python3 -m venv "$venv"; } || exit 1
fi
"$venv/bin/pip" install -q --disable-pip-version-check pytest || exit 1
rm -rf "$root/tmp/smbsign-pytest"
QEMU_CPU=max SMBSIGN_SAMBA_ROOT="$root" LIBSMBSIGN_GNUTLS=/opt/smbsign/libsmbsign_gnutls.so SMBSIGN_REQUIRE_SAMBA=1 \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider --basetemp="$root/tmp/smbsign-pytest" tests/arm64-samba/test_arm64_samba.py
rc=$?
echo "arm64-samba suite: $((SECONDS - start)) s"
[ "$CHECK_FAILED" -eq 0 ] && [ "$rc" -eq 0 ]
