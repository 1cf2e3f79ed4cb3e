#!/usr/bin/env bash
# The Samba end-to-end benchmark: real copies through Debian's smbd and
# smbclient on loopback (tmpfs), unsigned, signed by stock GnuTLS, and signed
# with libsmbsign_gnutls.so preloaded (smbd only, both ends); then encrypted
# (encryption required; 3.1.1 AES-128-GCM, AES-256-GCM, AES-128-CCM,
# AES-256-CCM; 3.0.2 AES-128-CCM) the same three ways, each checked encrypted
# with its cipher before it is timed. Needs root.
#   bash scripts/bench-samba.sh [--size-mib N (default 1024)] [--repeat R] [--only 'CONFIG,...']
#       [--no-encrypted | --no-signed]
# Writes target/bench-samba/samba.{md,json,svg}.
# smbd CPU: a cgroup per smbd (cpuacct.usage, ns; cgroup v2 usage_usec, us),
# exited connection children included; /proc ticks (10 ms) where no cgroup
# can be made. SMBSIGN_PORT_RANGE=LO-HI keeps the smbd ports in a range.
# Small messages (3.1.1 GMAC, CMAC, HMAC: 4 KiB files put, a large directory listed;
# smbd CPU per operation and the signing share of it):
#   bash scripts/bench-samba.sh --small [--files N (2000)] [--dir-entries N (10000)] [--listings N (5)] [--repeat R]
# Writes target/bench-samba/samba-small.{md,json}.
# With SMBSIGN_SAMBA_ROOT=DIR (a
# userland from scripts/userland.sh, e.g. target/userlands/debian13-amd64) smbd
# and smbclient are that userland's; /proc, /dev and a tmpfs for the share are
# mounted there meanwhile.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain
apt_ensure samba smbclient
cargo build --release -q -p smbsign-gnutls
venv="$SMBSIGN_ROOT/target/py-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" 2>/dev/null || { apt_ensure python3-venv && python3 -m venv "$venv"; }
fi
"$venv/bin/pip" install -q --disable-pip-version-check pytest
if [ -n "${SMBSIGN_SAMBA_ROOT:-}" ]; then
    source scripts/userland.sh
    USERLAND_ROOT="$SMBSIGN_SAMBA_ROOT"
    shm="$SMBSIGN_SAMBA_ROOT/tmp/smbsign-bench-tmpfs"
    trap 'umount "$shm" 2>/dev/null; userland_umount' EXIT
    userland_mount
    # Share and files on tmpfs, as without a userland (its /dev/shm is not
    # this machine's: /dev is bound without its submounts).
    mkdir -p "$shm" && mountpoint -q "$shm" || mount -t tmpfs -o mode=0755 tmpfs "$shm"
    export SMBSIGN_BENCH_TMPFS="$shm"
    "$venv/bin/python" scripts/bench-samba.py --so "${CARGO_TARGET_DIR:-$SMBSIGN_ROOT/target}/release/libsmbsign_gnutls.so" "$@"
    exit
fi
exec "$venv/bin/python" scripts/bench-samba.py --so "${CARGO_TARGET_DIR:-$SMBSIGN_ROOT/target}/release/libsmbsign_gnutls.so" "$@"
