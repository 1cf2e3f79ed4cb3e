#!/usr/bin/env bash
# The tier policies (ffi-gnutls/src/policy.rs): on a CPU where smbsign
# has only its portable tier (qemu-x86_64 -cpu qemu64: SSE2, no AES-NI) the
# drop-in steps aside by default ("mode":"passthrough" with the reason, nothing
# computed), computes with SMBSIGN_GNUTLS_PORTABLE=1, and the transcript is
# stock's either way; natively the stats line names the tier it computed with.
# Usage: run-policy.sh LIB.so WORKDIR (with WORKDIR/gnutls_diff from
# tests/gnutls/run.sh). Prints one line per check and "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
so="$1" work="$2"
qemu_ensure || exit 1
CHECK_LOG="$work/last.log"
field() { # FILE KEY VALUE: every line's KEY is VALUE
    python3 -c 'import json,sys; ls=[json.loads(l) for l in open(sys.argv[1])]; assert ls and all(str(l.get(sys.argv[2])) == sys.argv[3] for l in ls), ls' "$@"
}
rm -f "$work"/policy-*.json
# Stock GnuTLS on the same emulated CPU is the reference: its software path
# differs from its accelerated one in a few corner cases (a NULL tag size).
qemu-x86_64 -cpu qemu64 "$work/gnutls_diff" >"$work/policy-stock.txt" || { echo "stock run under qemu failed"; exit 1; }
qemu-x86_64 -cpu qemu64 -E LD_PRELOAD="$so" -E SMBSIGN_GNUTLS_STATS="$work/policy-pass.json" \
    "$work/gnutls_diff" >"$work/policy-pass.txt"
check "policy: portable-only CPU, transcript = stock" cmp "$work/policy-stock.txt" "$work/policy-pass.txt"
check "policy: portable-only CPU steps aside, computes nothing" \
    python3 tests/gnutls/check_stats.py "$work/policy-pass.json" passthrough
check "policy: passthrough names tier portable" field "$work/policy-pass.json" tier portable
check "policy: passthrough gives the reason" grep -q '"reason":"only the portable' "$work/policy-pass.json"
qemu-x86_64 -cpu qemu64 -E LD_PRELOAD="$so" -E SMBSIGN_GNUTLS_STATS="$work/policy-opt.json" \
    -E SMBSIGN_GNUTLS_PORTABLE=1 "$work/gnutls_diff" >"$work/policy-opt.txt"
check "policy: SMBSIGN_GNUTLS_PORTABLE=1, transcript = stock" cmp "$work/policy-stock.txt" "$work/policy-opt.txt"
check "policy: SMBSIGN_GNUTLS_PORTABLE=1 computes all three" python3 tests/gnutls/check_stats.py "$work/policy-opt.json" \
    active hmac-sha256=computed aes-cmac-128=computed aes-128-gcm=computed
check "policy: opted in, tier portable" field "$work/policy-opt.json" tier portable
# The aesni tier (Westmere: AES-NI and PCLMULQDQ, no VPCLMULQDQ): GCM
# encryption goes to GnuTLS, GMAC signing and CCM are still computed.
qemu-x86_64 -cpu Westmere "$work/gnutls_diff" >"$work/policy-wsm-stock.txt" || { echo "stock run under qemu Westmere failed"; exit 1; }
qemu-x86_64 -cpu Westmere -E LD_PRELOAD="$so" -E SMBSIGN_GNUTLS_STATS="$work/policy-wsm.json" \
    "$work/gnutls_diff" >"$work/policy-wsm.txt"
check "policy: aesni tier, transcript = stock" cmp "$work/policy-wsm-stock.txt" "$work/policy-wsm.txt"
check "policy: aesni tier sends GCM encryption to GnuTLS, computes GMAC and CCM" python3 -c '
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
assert ls and all(l["mode"] == "active" and l["tier"] == "aesni" and l["gcm"] == "gnutls" and "gcm_reason" in l for l in ls), ls
aead = lambda c, k: sum(l["aead"][c][k] for l in ls)
assert aead("aes-128-gcm", "encrypt_calls") + aead("aes-128-gcm", "decrypt_calls") == 0
assert aead("aes-256-gcm", "encrypt_calls") + aead("aes-256-gcm", "decrypt_calls") == 0
assert sum(l["aes-256-gcm"]["forwarded_calls"] for l in ls) > 0
assert sum(l["aes-128-gcm"]["computed_calls"] for l in ls) > 0, "GMAC not computed"
assert aead("aes-128-ccm", "encrypt_calls") > 0 and aead("aes-256-ccm", "decrypt_calls") > 0, "CCM not computed"
' "$work/policy-wsm.json"
SMBSIGN_GNUTLS_STATS="$work/policy-native.json" LD_PRELOAD="$so" "$work/gnutls_diff" >/dev/null
check "policy: natively active with a SIMD tier named" python3 -c \
    'import json,sys; ls=[json.loads(l) for l in open(sys.argv[1])]; assert ls and all(l["mode"] == "active" and l["tier"] != "portable" and l["kernels"]["aes-cmac-128"] for l in ls), ls' \
    "$work/policy-native.json"
check "policy: natively GCM is computed on a VPCLMULQDQ tier, forwarded on aesni" python3 -c \
    'import json,sys; ls=[json.loads(l) for l in open(sys.argv[1])]; wide=ls[0]["tier"] != "aesni"; assert ls and all(("gcm" in l) != wide for l in ls) and (sum(l["aead"]["aes-128-gcm"]["encrypt_calls"] for l in ls) > 0) == wide, ls' \
    "$work/policy-native.json"
echo "$CHECK_PASSED passed, $CHECK_FAILED failed (tier policies)"
[ "$CHECK_FAILED" -eq 0 ]
