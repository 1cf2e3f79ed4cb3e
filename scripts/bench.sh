#!/usr/bin/env bash
# The main job. Until smbsign-bench lands (issue 7) this runs the example that
# signs and verifies a compound SMB2 request with each algorithm.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain
cargo run --release -q -p smbsign --example compound -- "$@"
