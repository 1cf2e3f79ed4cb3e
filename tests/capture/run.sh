#!/usr/bin/env bash
# smbsign-check on real traffic: builds the tool, installs tcpdump, tshark,
# Debian's samba, smbclient and smbtorture (samba-testsuite), then records
# smbclient/smbtorture sessions against a throwaway smbd over every dialect and
# signing algorithm and checks them (tests/capture/test_capture.py; needs root).
# Prints one line per check and "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
ensure_toolchain || exit 1
# tshark asks whether non-root users may capture; the default answer is fine.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null
apt_ensure tcpdump tshark samba smbclient samba-testsuite python3 || exit 1
release_build || exit 1
exec python3 tests/capture/test_capture.py "${CARGO_TARGET_DIR:-$SMBSIGN_ROOT/target}/release/smbsign-check" "$@"
