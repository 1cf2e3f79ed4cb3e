#!/usr/bin/env bash
# The wheel as an index would serve it: built with maturin (release, into
# target/wheels), installed with pip --no-index into a fresh venv, imported from
# outside the tree; its metadata (name, version, licence, README, classifiers,
# requires-python) checked as installed. Usage: run-wheel.sh VENV (a venv with
# maturin, tests/python/run.sh's). Prints one line per check and "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
build_venv="$1"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
rm -rf target/wheels
(cd ffi-python && VIRTUAL_ENV="$build_venv" PATH="$build_venv/bin:$PATH" maturin build --release -q \
    -o "$SMBSIGN_ROOT/target/wheels") || exit 1
wheel=$(ls target/wheels/smbsign-"$version"-*.whl) || exit 1
fresh="$SMBSIGN_ROOT/target/wheel-venv"
python3 -m venv --clear "$fresh" || exit 1
CHECK_LOG="$SMBSIGN_ROOT/target/wheel-check.log"
check "wheel: pip install --no-index into a fresh venv" "$fresh/bin/pip" install -q --no-index --disable-pip-version-check "$wheel"
check "wheel: pip check" "$fresh/bin/pip" check
# From / so that nothing of the source tree can be imported instead.
check "wheel: imports from site-packages, RFC 4493 AES-CMAC vector" sh -c 'cd / && "$1" -c "
import smbsign, sys
assert smbsign.__file__.startswith(sys.prefix), smbsign.__file__
k = bytes.fromhex(\"2b7e151628aed2a6abf7158809cf4f3c\")
assert smbsign.aes_cmac(k, b\"\").hex() == \"bb1d6929e95937287fa37d129b756746\"
"' _ "$fresh/bin/python"
check "wheel: metadata ready for an index" "$fresh/bin/python" - "$version" <<'PY'
import importlib.metadata as m, sys
md = m.metadata("smbsign")
assert md["Name"] == "smbsign" and md["Version"] == sys.argv[1], (md["Name"], md["Version"])
assert md["Requires-Python"] == ">=3.11", md["Requires-Python"]
assert "MIT OR Apache-2.0" in (md.get("License") or md.get("License-Expression") or ""), md.get("License")
assert md["Summary"].startswith("SMB2/SMB3 message signing"), md["Summary"]
assert md["Description-Content-Type"].startswith("text/markdown"), md["Description-Content-Type"]
assert "# smbsign (Python)" in md.get_payload(), "README missing from the description"
cl = md.get_all("Classifier")
for want in ("License :: OSI Approved :: MIT License", "Programming Language :: Python :: 3.11",
             "Operating System :: POSIX :: Linux", "Topic :: Security :: Cryptography"):
    assert want in cl, (want, cl)
PY
echo "$CHECK_PASSED passed, $CHECK_FAILED failed (wheel)"
[ "$CHECK_FAILED" -eq 0 ]
