#!/usr/bin/env bash
# The main job: smbsign-bench, "how much does SMB signing cost on my cores?".
# Builds it in release mode and runs it; arguments are passed through
# (e.g. --quick, --algorithms aes-gmac, --threads 1,2,4, --json out.json).
# Plots land in smbsign-bench-out/ unless --plot-dir says otherwise.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$SMBSIGN_ROOT"
apt_ensure fonts-dejavu-core
ensure_toolchain
cargo build --release -q -p smbsign-benches --bin smbsign-bench
exec "${CARGO_TARGET_DIR:-target}/release/smbsign-bench" "$@"
