#!/usr/bin/env bash
# Refreshes the fuzz seed corpora (fuzz/seeds/TARGET/samba-*) from real traffic:
# runs the Python suite, whose Samba interop tests (tests/python/test_samba.py)
# write every signed frame of their sessions (single PDUs and compound chains,
# both directions, with the session's signing key) in each target's input format.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$SMBSIGN_ROOT"
find fuzz/seeds -name 'samba-*' -delete 2>/dev/null
SMBSIGN_CAPTURE_DIR="$SMBSIGN_ROOT/fuzz/seeds" bash tests/python/run.sh || exit 1
for d in fuzz/seeds/*/; do
    echo "$d: $(ls "$d" | wc -l) seeds"
done
