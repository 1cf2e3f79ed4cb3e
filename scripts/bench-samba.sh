#!/usr/bin/env bash
# The Samba end-to-end benchmark: real copies through Debian's smbd and
# smbclient on loopback (tmpfs), unsigned, signed by stock GnuTLS, and signed
# with libsmbsign_gnutls.so preloaded (smbd only, both ends). Needs root.
#   bash scripts/bench-samba.sh [--size-mib N (default 1024)] [--repeat R] [--only 'CONFIG,...']
# Writes target/bench-samba/samba.{md,json,svg}.
# Small messages (3.1.1 GMAC, CMAC, HMAC: 4 KiB files put, a large directory listed;
# smbd CPU per operation):
#   bash scripts/bench-samba.sh --small [--files N (2000)] [--dir-entries N (10000)] [--listings N (5)] [--repeat R]
# Writes target/bench-samba/samba-small.{md,json}.
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
exec "$venv/bin/python" scripts/bench-samba.py --so "${CARGO_TARGET_DIR:-$SMBSIGN_ROOT/target}/release/libsmbsign_gnutls.so" "$@"
