#!/usr/bin/env bash
# Builds the smbsign Python extension into a virtual environment
# (target/py-venv: maturin, pytest, hypothesis, cryptography, smbprotocol, impacket from
# PyPI), installs Debian's samba, and runs the pytest suite including the
# interop tests against a real smbd (which require root).
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain || exit 1
apt_ensure samba smbclient || exit 1
venv="$SMBSIGN_ROOT/target/py-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" 2>/dev/null || { apt_ensure python3-venv && python3 -m venv "$venv"; } || exit 1
fi
"$venv/bin/pip" install -q --disable-pip-version-check maturin pytest hypothesis cryptography "smbprotocol>=1.10" "impacket==0.13.1" || exit 1
(cd ffi-python && VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" maturin develop --release -q) || exit 1
export SMBSIGN_REQUIRE_SAMBA=1
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/python
