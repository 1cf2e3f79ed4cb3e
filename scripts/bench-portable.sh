#!/usr/bin/env bash
# Where smbsign has only its portable tier: its constant-time code against
# GnuTLS's software path, in Samba's call pattern (benches/gnutls/samba_pattern.c),
# CPU seconds per GiB. On x86-64: GnuTLS with GNUTLS_CPUID_OVERRIDE=0x1 (none of
# its own AES-NI/PCLMUL/SHA code) and NETTLE_FAT_OVERRIDE=none (nettle's own
# fat-binary detection off too, else it picks AES-NI by itself) against the
# drop-in forced to SMBSIGN_BACKEND=portable. With --aarch64 ROOT (an arm64
# userland, tests/arm64-samba/run.sh builds one): the same under qemu-aarch64
# in that userland, GNUTLS_CPUID_OVERRIDE=0x1 (NEON only, no AES/PMULL/SHA2) and
# NETTLE_FAT_OVERRIDE=none, emulated, so only the ratio means anything.
#   bash scripts/bench-portable.sh [MIB (64)] [MSG_KIB (64)] [--aarch64 ROOT LIB.so]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$SMBSIGN_ROOT"
mib="${1:-64}" kib="${2:-64}"
out="${CARGO_TARGET_DIR:-$SMBSIGN_ROOT/target}"
ratio() { # stock-output smbsign-output
    python3 - "$1" "$2" <<'PY'
import re, sys
def parse(text):
    return {m[0]: (float(m[1]), m[2]) for m in re.findall(r"^(\S+)\s+\d+ KiB messages: ([0-9.]+) CPU s/GiB .* tag (\w+)$", text, re.M)}
a, b = parse(open(sys.argv[1]).read()), parse(open(sys.argv[2]).read())
print("| algorithm | GnuTLS software CPU s/GiB | smbsign portable CPU s/GiB | portable / GnuTLS |")
print("|---|---|---|---|")
for k in a:
    assert a[k][1] == b[k][1], f"{k}: tags differ"
    print(f"| {k} | {a[k][0]:.3f} | {b[k][0]:.3f} | {b[k][0] / a[k][0]:.2f}x |")
PY
}
echo "# $(date -u '+%F %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${3:-}" = --aarch64 ]; then
    root="$4" so="$5"
    apt_ensure gcc-aarch64-linux-gnu libgnutls28-dev >/dev/null || exit 1
    lib="$root/usr/lib/aarch64-linux-gnu"
    # Headers from this machine's libgnutls28-dev (the API is the same), linked
    # against the userland's own libgnutls.so.30 (whose newer glibc symbols the
    # userland's libc resolves at run time).
    aarch64-linux-gnu-gcc -O2 -o "$root/tmp/samba_pattern" benches/gnutls/samba_pattern.c \
        -I/usr/include "$lib/libgnutls.so.30" -Wl,--allow-shlib-undefined || exit 1
    install -D -m 0755 "$so" "$root/opt/smbsign/libsmbsign_gnutls.so" || exit 1
    echo "qemu-aarch64 $(qemu-aarch64 --version | head -1 | awk '{print $3}') (-cpu max), Debian $(cat "$root/etc/debian_version") arm64 userland"
    chroot "$root" env GNUTLS_CPUID_OVERRIDE=0x1 NETTLE_FAT_OVERRIDE=none /tmp/samba_pattern "$mib" "$kib" >"$out/portable-stock.txt" || exit 1
    chroot "$root" env SMBSIGN_BACKEND=portable LD_PRELOAD=/opt/smbsign/libsmbsign_gnutls.so \
        /tmp/samba_pattern "$mib" "$kib" >"$out/portable-smbsign.txt" || exit 1
else
    apt_ensure gcc libgnutls28-dev >/dev/null || exit 1
    cargo build --release -q -p smbsign-gnutls || exit 1
    gcc -O2 -Wall -Wextra -o "$out/samba_pattern" benches/gnutls/samba_pattern.c -lgnutls || exit 1
    GNUTLS_CPUID_OVERRIDE=0x1 NETTLE_FAT_OVERRIDE=none "$out/samba_pattern" "$mib" "$kib" >"$out/portable-stock.txt" || exit 1
    SMBSIGN_BACKEND=portable LD_PRELOAD="$out/release/libsmbsign_gnutls.so" \
        "$out/samba_pattern" "$mib" "$kib" >"$out/portable-smbsign.txt" || exit 1
fi
echo "$kib KiB messages, $mib MiB per algorithm"
ratio "$out/portable-stock.txt" "$out/portable-smbsign.txt"
echo "# loadavg after $(cut -d' ' -f1-3 /proc/loadavg)"
