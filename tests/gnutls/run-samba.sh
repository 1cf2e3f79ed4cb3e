#!/usr/bin/env bash
# Debian's smbd, smbclient and smbtorture with libsmbsign_gnutls.so preloaded
# (tests/gnutls/test_samba_preload.py). Needs root. Usage: run-samba.sh LIB.so
# With SMBSIGN_SAMBA_ROOT=DIR (a Debian userland, see scripts/userland.sh, with
# /proc and /dev mounted) the Samba programs are that userland's: the library
# is copied into it and pytest's temp dirs lie inside it.
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
root="${SMBSIGN_SAMBA_ROOT:-}"
[ -n "$root" ] || apt_ensure samba smbclient samba-testsuite || exit 1
venv="$SMBSIGN_ROOT/target/py-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" 2>/dev/null || { apt_ensure python3-venv && python3 -m venv "$venv"; } || exit 1
fi
"$venv/bin/pip" install -q --disable-pip-version-check pytest cryptography "smbprotocol>=1.10" || exit 1
so="$1"
args=()
if [ -n "$root" ]; then
    install -D -m 0755 "$so" "$root/opt/smbsign/libsmbsign_gnutls.so" || exit 1
    so="$root/opt/smbsign/libsmbsign_gnutls.so"
    rm -rf "$root/tmp/smbsign-pytest"
    args=(--basetemp="$root/tmp/smbsign-pytest")
fi
export LIBSMBSIGN_GNUTLS="$so" SMBSIGN_REQUIRE_SAMBA=1
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "${args[@]}" tests/gnutls/test_samba_preload.py
