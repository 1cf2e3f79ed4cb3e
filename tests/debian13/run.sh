#!/usr/bin/env bash
# Debian 13 (trixie): Samba 4.22 with GnuTLS 3.8 from a debootstrap userland
# (scripts/userland.sh, cached), with this tree's x86-64 libsmbsign_gnutls.so
# (built on this machine) preloaded into that userland's smbd: the library
# loads against trixie's glibc and GnuTLS, then tests/gnutls/test_samba_preload.py
# runs with every Samba program the userland's (smbclient copies per dialect
# and algorithm both ways, stats, encryption, a corrupted signature refused,
# smbtorture smb2.session.signing-* identical stock and preloaded).
# Needs root. Prints one line per check and "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$SMBSIGN_ROOT/scripts/userland.sh"
cd "$SMBSIGN_ROOT"
[ "$(uname -m)" = x86_64 ] || { echo "skipped: debian13 (x86-64 only)"; exit 0; }
ensure_toolchain || exit 1
start=$SECONDS
release_build || exit 1
so="${CARGO_TARGET_DIR:-$SMBSIGN_ROOT/target}/release/libsmbsign_gnutls.so"
userland_ensure debian13-amd64 || exit 1
root="$USERLAND_ROOT"
trap 'userland_umount' EXIT
userland_mount || exit 1
echo "userland ready after $((SECONDS - start)) s"

CHECK_LOG="$root/tmp/check.log"
in_root() { chroot "$root" "$@"; }
versions="$(in_root dpkg-query -W -f='${Package} ${Version}\n' samba libgnutls30t64 libc6)"
echo "$versions"
check "userland: Debian 13" grep -q '^VERSION_ID="13"' "$root/etc/os-release"
check "userland: Samba 4.22" sh -c 'echo "$1" | grep -Eq "^samba 2:4\.22\."' _ "$versions"
check "userland: GnuTLS 3.8" sh -c 'echo "$1" | grep -Eq "^libgnutls30t64 3\.8\."' _ "$versions"
install -D -m 0755 "$so" "$root/opt/smbsign/libsmbsign_gnutls.so" || exit 1
# ld.so only warns (and runs on without it) when a preload cannot be loaded:
# the check is an empty stderr, and the symbols bound to the library.
check "preload: loads into trixie's smbd (no loader message)" sh -c \
    'out=$(chroot "$1" env LD_PRELOAD=/opt/smbsign/libsmbsign_gnutls.so /usr/sbin/smbd --version 2>&1 >/dev/null); [ -z "$out" ] || { echo "$out"; exit 1; }' _ "$root"
check "preload: gnutls_hmac_init binds to the drop-in" sh -c \
    'chroot "$1" env LD_PRELOAD=/opt/smbsign/libsmbsign_gnutls.so LD_BIND_NOW=1 LD_DEBUG=bindings /usr/sbin/smbd --version 2>&1 |
     grep -E "normal symbol .gnutls_hmac_init" | grep -q libsmbsign_gnutls' _ "$root"
echo "$CHECK_PASSED passed, $CHECK_FAILED failed (debian13 checks)"

SMBSIGN_SAMBA_ROOT="$root" bash tests/gnutls/run-samba.sh "$so"
rc=$?
echo "debian13 suite: $((SECONDS - start)) s"
[ "$CHECK_FAILED" -eq 0 ] && [ "$rc" -eq 0 ]
