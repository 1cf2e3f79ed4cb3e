#!/usr/bin/env bash
# Builds libsmbsign (release) and the C benchmark against Debian's OpenSSL 3, runs it.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
apt_ensure gcc libssl-dev pkg-config >/dev/null
prefix="$SMBSIGN_ROOT/target/c-prefix-bench"
bash scripts/install-c.sh --libs-only "$prefix" >/dev/null
gcc -O2 -std=gnu99 benches/c/bench_c.c -o target/bench_c -I"$prefix/include" "$prefix/lib/libsmbsign.a" -lcrypto -lpthread -ldl -lm
exec target/bench_c
