#!/usr/bin/env bash
# smbsign-probe against real servers on 127.0.0.1 (Debian's smbd in six
# configurations, impacket's SimpleSMBServer, signature-spoiling and -stripping
# proxies, a closed port), its own messages recorded with tcpdump and read by
# tshark and smbsign-check. Installs samba, tcpdump, tshark and (into
# target/py-venv, shared with tests/python) impacket, idempotently. Needs root
# (smbd, tcpdump). Prints one line per check and "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain || exit 1
apt_ensure samba smbclient tcpdump tshark python3-venv || exit 1
venv="$SMBSIGN_ROOT/target/py-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || exit 1
fi
if ! "$venv/bin/python" -c 'import importlib.metadata as m; assert m.version("impacket") == "0.13.1"' 2>/dev/null; then
    "$venv/bin/pip" install -q --disable-pip-version-check "impacket==0.13.1" || exit 1
fi
release_build || exit 1
rel="${CARGO_TARGET_DIR:-target}/release"
exec "$venv/bin/python" tests/probe/test_probe.py "$rel/smbsign-probe" "$rel/smbsign-check"
