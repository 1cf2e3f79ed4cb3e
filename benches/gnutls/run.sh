#!/usr/bin/env bash
# Samba's signing calls alone (benches/gnutls/samba_pattern.c), stock GnuTLS vs
# libsmbsign_gnutls.so preloaded, alternating, REPEAT times each.
#   bash benches/gnutls/run.sh [MIB_TOTAL (1024)] [MSG_KIB (1024)] [REPEAT (3)]
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain
apt_ensure gcc libgnutls28-dev
cargo build --release -q -p smbsign-gnutls
out="${CARGO_TARGET_DIR:-$SMBSIGN_ROOT/target}"
gcc -O2 -Wall -Wextra -o "$out/samba_pattern" benches/gnutls/samba_pattern.c -lgnutls
echo "# $(date -u '+%F %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "${3:-3}"); do
    echo "stock GnuTLS:"; "$out/samba_pattern" "${1:-1024}" "${2:-1024}"
    echo "smbsign preloaded:"; LD_PRELOAD="$out/release/libsmbsign_gnutls.so" "$out/samba_pattern" "${1:-1024}" "${2:-1024}"
done
echo "# loadavg after $(cut -d' ' -f1-3 /proc/loadavg)"
