#!/usr/bin/env bash
# The criterion suite against peers (BENCHMARKS.md, one-shot MACs; batches): installs
# what the peer shims link (Debian's GnuTLS and, on x86-64, intel-ipsec-mb;
# OpenSSL is built from source by openssl-src), runs the benches given as
# arguments (default: all) and prints the ratio tables.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain
apt_ensure gcc make perl pkg-config libgnutls28-dev
if [ "$(uname -m)" = x86_64 ]; then apt_ensure libipsec-mb-dev; fi
cargo bench -p smbsign-benches --features peers --bench peers -- "$@"
python3 scripts/bench-ratios.py
