#!/usr/bin/env bash
# Installs libsmbsign (shared + static), include/smbsign.h and smbsign.pc into a
# prefix, so that `cc app.c $(pkg-config --cflags --libs smbsign)` works, and
# next to it libsmbsign_gnutls.so, the GnuTLS drop-in preloaded into smbd.
#   bash scripts/install-c.sh [PREFIX]        (default /usr/local)
# Then, for a non-standard prefix: export PKG_CONFIG_PATH=PREFIX/lib/pkgconfig
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain
prefix="${1:-/usr/local}"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
cargo build --release -q -p smbsign-ffi -p smbsign-gnutls
target="${CARGO_TARGET_DIR:-$SMBSIGN_ROOT/target}/release"
install -d "$prefix/lib/pkgconfig" "$prefix/include"
install -m 0755 "$target/libsmbsign_ffi.so" "$prefix/lib/libsmbsign.so.$version"
ln -sf "libsmbsign.so.$version" "$prefix/lib/libsmbsign.so.0"
ln -sf "libsmbsign.so.0" "$prefix/lib/libsmbsign.so"
install -m 0644 "$target/libsmbsign_ffi.a" "$prefix/lib/libsmbsign.a"
# Preloaded by path (LD_PRELOAD), never linked: no soname links.
install -m 0755 "$target/libsmbsign_gnutls.so" "$prefix/lib/libsmbsign_gnutls.so"
install -m 0644 include/smbsign.h "$prefix/include/smbsign.h"
cat > "$prefix/lib/pkgconfig/smbsign.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: smbsign
Description: SMB2/SMB3 message signing (HMAC-SHA256, AES-128-CMAC, AES-128-GMAC)
Version: $version
Libs: -L\${libdir} -lsmbsign
Libs.private: -lpthread -ldl -lm
Cflags: -I\${includedir}
PC
echo "installed libsmbsign $version into $prefix"
