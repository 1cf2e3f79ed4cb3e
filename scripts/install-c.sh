#!/usr/bin/env bash
# Installs libsmbsign (shared + static), include/smbsign.h and smbsign.pc into a
# prefix, so that `cc app.c $(pkg-config --cflags --libs smbsign)` works, and
# next to it libsmbsign_gnutls.so, the GnuTLS drop-in preloaded into smbd; and
# the tools smbsign-bench, smbsign-check (and smbsign-probe where this tree has
# it) into PREFIX/bin, unless --libs-only (the C test suites, which need only
# the libraries and would otherwise pay for the tools' release builds).
#   bash scripts/install-c.sh [--libs-only] [PREFIX]        (default /usr/local)
# (The .deb, scripts/package-deb.sh, installs the same and smbsign-samba.)
# Then, for a non-standard prefix: export PKG_CONFIG_PATH=PREFIX/lib/pkgconfig
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain
bins=(smbsign-bench smbsign-check)
pkgs=(-p smbsign-capture -p smbsign-benches)
if [ "${1:-}" = --libs-only ]; then
    bins=() pkgs=()
    shift
elif [ -f probe/Cargo.toml ]; then
    bins+=(smbsign-probe)
    pkgs+=(-p "$(sed -n 's/^name = "\(.*\)"/\1/p' probe/Cargo.toml | head -1)")
fi
prefix="${1:-/usr/local}"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
cargo build --release -q -p smbsign-ffi -p smbsign-gnutls "${pkgs[@]}"
target="${CARGO_TARGET_DIR:-$SMBSIGN_ROOT/target}/release"
install -d "$prefix/lib/pkgconfig" "$prefix/include"
install -m 0755 "$target/libsmbsign_ffi.so" "$prefix/lib/libsmbsign.so.$version"
ln -sf "libsmbsign.so.$version" "$prefix/lib/libsmbsign.so.0"
ln -sf "libsmbsign.so.0" "$prefix/lib/libsmbsign.so"
install -m 0644 "$target/libsmbsign_ffi.a" "$prefix/lib/libsmbsign.a"
# Preloaded by path (LD_PRELOAD), never linked: no soname links.
install -m 0755 "$target/libsmbsign_gnutls.so" "$prefix/lib/libsmbsign_gnutls.so"
install -m 0644 include/smbsign.h "$prefix/include/smbsign.h"
for b in "${bins[@]}"; do
    install -D -m 0755 "$target/$b" "$prefix/bin/$b"
done
smbsign_pc "$prefix" '${prefix}/lib' "$version" >"$prefix/lib/pkgconfig/smbsign.pc"
echo "installed libsmbsign $version into $prefix"
