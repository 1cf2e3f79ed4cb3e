#!/usr/bin/env bash
# Builds the smbsign Python extension into a virtual environment
# (target/py-venv: maturin, pytest, hypothesis, cryptography, smbprotocol, impacket from
# PyPI), installs Debian's samba, and runs the pytest suite including the
# interop tests against a real smbd (which require root), plus smbprotocol's own
# unit tests for connections and sessions (from the sdist of the installed
# version) with smbsign's adapter installed; and the wheel installed into a
# fresh venv (run-wheel.sh). Extra arguments go to pytest.
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain || exit 1
apt_ensure samba smbclient || exit 1
venv="$SMBSIGN_ROOT/target/py-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" 2>/dev/null || { apt_ensure python3-venv && python3 -m venv "$venv"; } || exit 1
fi
"$venv/bin/pip" install -q --disable-pip-version-check maturin pytest pytest-mock hypothesis cryptography "smbprotocol>=1.10" "impacket==0.13.1" || exit 1
(cd ffi-python && VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" maturin develop --release -q) || exit 1
# smbprotocol's own tests, from the sdist of exactly the installed version.
smbp_version=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("smbprotocol"))') || exit 1
suite_dir="$SMBSIGN_ROOT/target/smbprotocol-suite"
if [ ! -f "$suite_dir/$smbp_version/test_connection.py" ]; then
    rm -rf "$suite_dir" && mkdir -p "$suite_dir/sdist" "$suite_dir/$smbp_version" || exit 1
    "$venv/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary :all: \
        "smbprotocol==$smbp_version" -d "$suite_dir/sdist" || exit 1
    tar -xzf "$suite_dir"/sdist/smbprotocol-*.tar.gz -C "$suite_dir/sdist" || exit 1
    cp "$suite_dir"/sdist/smbprotocol-*/tests/test_connection.py \
        "$suite_dir"/sdist/smbprotocol-*/tests/test_session.py "$suite_dir/$smbp_version/" || exit 1
fi
cp tests/python/smbprotocol_suite/conftest.py "$suite_dir/$smbp_version/" || exit 1
bash tests/python/run-wheel.sh "$venv"
wheel_rc=$?
export SMBSIGN_REQUIRE_SAMBA=1
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/python "$suite_dir/$smbp_version" "$@"
rc=$?
[ "$wheel_rc" -eq 0 ] && [ "$rc" -eq 0 ]
