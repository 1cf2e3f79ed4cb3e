#!/usr/bin/env bash
# Debian's smbd, smbclient and smbtorture with libsmbsign_gnutls.so preloaded
# (tests/gnutls/test_samba_preload.py). Needs root. Usage: run-samba.sh LIB.so
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
apt_ensure samba smbclient samba-testsuite || exit 1
venv="$SMBSIGN_ROOT/target/py-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" 2>/dev/null || { apt_ensure python3-venv && python3 -m venv "$venv"; } || exit 1
fi
"$venv/bin/pip" install -q --disable-pip-version-check pytest cryptography "smbprotocol>=1.10" || exit 1
export LIBSMBSIGN_GNUTLS="$1" SMBSIGN_REQUIRE_SAMBA=1
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/gnutls/test_samba_preload.py
