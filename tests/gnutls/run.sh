#!/usr/bin/env bash
# Tests libsmbsign_gnutls.so (the GnuTLS LD_PRELOAD drop-in): the C differential
# program run without and with the preload (and with SMBSIGN_GNUTLS=off) must
# print identical transcripts (also under valgrind, and with GnuTLS "in FIPS
# mode"), and the stats files must show which path ran;
# then Debian's smbd/smbclient/smbtorture with the preload (test_samba_preload.py).
# Prints "N passed, N failed" lines.
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
apt_ensure gcc libc6-dev libgnutls28-dev valgrind || exit 1
ensure_toolchain || exit 1
release_build || exit 1
so="${CARGO_TARGET_DIR:-$SMBSIGN_ROOT/target}/release/libsmbsign_gnutls.so"
work="$SMBSIGN_ROOT/target/gnutls-tests"
rm -rf "$work" && mkdir -p "$work"
CHECK_LOG="$work/last.log"

gcc -std=gnu99 -O1 -g -Wall -Wextra -Werror tests/gnutls/gnutls_diff.c -o "$work/gnutls_diff" \
    -lgnutls -lpthread || exit 1
"$work/gnutls_diff" >"$work/stock.txt" || { echo "stock run failed"; exit 1; }
SMBSIGN_GNUTLS_STATS="$work/active.json" LD_PRELOAD="$so" "$work/gnutls_diff" >"$work/preload.txt"
SMBSIGN_GNUTLS=off SMBSIGN_GNUTLS_STATS="$work/off.json" LD_PRELOAD="$so" "$work/gnutls_diff" >"$work/off.txt"
gcc -shared -fPIC -O1 tests/gnutls/fake_fips.c -o "$work/fake_fips.so" || exit 1
SMBSIGN_GNUTLS_STATS="$work/fips.json" LD_PRELOAD="$so:$work/fake_fips.so" "$work/gnutls_diff" >"$work/fips.txt"
check "transcript: preload = stock" cmp "$work/stock.txt" "$work/preload.txt"
check "transcript: SMBSIGN_GNUTLS=off = stock" cmp "$work/stock.txt" "$work/off.txt"
check "transcript: complete" grep -qx done "$work/stock.txt"
check "stats: active computes all three, forwards the rest" python3 tests/gnutls/check_stats.py "$work/active.json" active \
    hmac-sha256=computed aes-cmac-128=computed aes-128-gcm=computed aes-128-gcm=forwarded mac-other=forwarded aead-other=forwarded \
    aes-256-gcm=computed aes-128-ccm=computed aes-256-ccm=computed aes-256-gcm=forwarded aes-128-ccm=forwarded aes-256-ccm=forwarded
check "stats: active encrypts and decrypts all four SMB3 ciphers, counts tag failures" python3 tests/gnutls/check_stats.py "$work/active.json" active \
    aead.aes-128-gcm=encrypt aead.aes-256-gcm=encrypt aead.aes-128-ccm=encrypt aead.aes-256-ccm=encrypt \
    aead.aes-128-gcm=decrypt aead.aes-256-gcm=decrypt aead.aes-128-ccm=decrypt aead.aes-256-ccm=decrypt \
    aead.aes-128-gcm=tag_failures aead.aes-256-gcm=tag_failures aead.aes-128-ccm=tag_failures aead.aes-256-ccm=tag_failures
check "stats: forked child reports its own line" test "$(wc -l <"$work/active.json")" -eq 2
check "stats: off computes nothing" python3 tests/gnutls/check_stats.py "$work/off.json" off
# A stats path that cannot be written changes nothing and never hangs the exit
# (a FIFO without a reader once blocked the exiting process in open()).
mkfifo "$work/stats.fifo"
SMBSIGN_GNUTLS_STATS="$work/stats.fifo" LD_PRELOAD="$so" timeout 60 "$work/gnutls_diff" >"$work/fifo.txt"
check "stats: a FIFO without a reader neither hangs nor changes output" cmp "$work/stock.txt" "$work/fifo.txt"
SMBSIGN_GNUTLS_STATS="$work/no/such/dir/stats.json" LD_PRELOAD="$so" timeout 60 "$work/gnutls_diff" >"$work/nodir.txt"
check "stats: a path in a missing directory changes nothing" cmp "$work/stock.txt" "$work/nodir.txt"
# Secure-execution mode (root only, skipped otherwise): the differential linked
# straight against the drop-in, set-user-ID root and run by nobody, must not
# create the file SMBSIGN_GNUTLS_STATS names (it once did, as root); run
# normally, the same binary computes with smbsign and writes its stats.
suid=
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    suid="$(mktemp -d /tmp/smbsign-gnutls-suid.XXXXXX)" && chmod 755 "$suid"
fi
if [ -n "${suid:-}" ] && findmnt -no OPTIONS -T "$suid" | grep -qw nosuid; then
    echo "skipped: setuid stats check ($suid is on a nosuid mount)"; rm -rf "$suid"; suid=
fi
if [ -n "${suid:-}" ]; then
    cp "$so" "$suid/libsmbsign_gnutls.so"
    gcc -std=gnu99 -O1 tests/gnutls/gnutls_diff.c -o "$suid/gnutls_diff" -L"$suid" -Wl,--no-as-needed \
        -lsmbsign_gnutls -lgnutls -lpthread -Wl,-rpath,"$suid" || exit 1
    SMBSIGN_GNUTLS_STATS="$suid/control.json" "$suid/gnutls_diff" >"$work/linked.txt"
    check "linked directly: transcript = stock" cmp "$work/stock.txt" "$work/linked.txt"
    check "linked directly: stats written (control)" python3 tests/gnutls/check_stats.py "$suid/control.json" active \
        hmac-sha256=computed aes-cmac-128=computed aes-128-gcm=computed
    chmod 4755 "$suid/gnutls_diff"
    setpriv --reuid=65534 --regid=65534 --clear-groups env SMBSIGN_GNUTLS_STATS="$suid/secure.json" \
        "$suid/gnutls_diff" >"$work/setuid.txt"
    check "setuid: transcript = stock" cmp "$work/stock.txt" "$work/setuid.txt"
    check "setuid: SMBSIGN_GNUTLS_STATS ignored (no file created as root)" test ! -e "$suid/secure.json"
    rm -rf "$suid"
else
    [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null || echo "skipped: setuid stats check (needs root and setpriv)"
fi
# The stats line is JSON whatever the program's path (quote, apostrophe,
# backslash, tab, non-ASCII once made it invalid).
odd="$work/o'brien \"q\" \\ $(printf '\t')é"
mkdir -p "$odd" && cp "$work/gnutls_diff" "$odd/gnutls_diff"
SMBSIGN_GNUTLS_STATS="$work/odd.json" LD_PRELOAD="$so" "$odd/gnutls_diff" >"$work/odd.txt"
check "stats: valid JSON for an odd program path" python3 -c \
    'import json,os,sys; ls=[json.loads(l) for l in open(sys.argv[1])]; assert ls and all(l["exe"].startswith(os.path.realpath(sys.argv[2])) for l in ls)' \
    "$work/odd.json" "$odd/"
check "transcript: FIPS mode = stock" cmp "$work/stock.txt" "$work/fips.txt"
# Exact counts: Samba's calls (benches/gnutls/samba_calls.c), 1000 each at 80
# and 1040 bytes on one handle per algorithm, handles released before exit
# (their tallies moved to the totals) and left open (summed at exit).
gcc -std=gnu99 -O1 -Wall -Wextra -Werror benches/gnutls/samba_calls.c -o "$work/samba_calls" -lgnutls -ldl || exit 1
for keep in 0 1; do
    SAMBA_CALLS_KEEP=$keep SAMBA_CALLS_ITERS=1000 SMBSIGN_GNUTLS_STATS="$work/exact$keep.json" LD_PRELOAD="$so" \
        "$work/samba_calls" gmac,cmac,hmac 80,1040 1 >/dev/null
    check "stats: exact counts, handles $([ $keep = 1 ] && echo "open" || echo "released") at exit" python3 -c '
import json, sys
(line,) = [json.loads(l) for l in open(sys.argv[1])]
want = {"computed_calls": 2000, "computed_bytes": 1000 * (80 + 1040), "forwarded_calls": 0, "forwarded_bytes": 0}
bad = [(b, line[b]) for b in ("aes-128-gcm", "aes-cmac-128", "hmac-sha256") if line[b] != want]
sys.exit(print(bad) or 1 if bad else 0)' "$work/exact$keep.json"
done
# Under valgrind memcheck (valgrind's CPUID hides AVX-512, so another tier runs).
# Definite leaks count as errors (so a GnuTLS handle the drop-in forgot to free
# fails); failing inits are left out here, as GnuTLS itself leaks on them.
GNUTLS_DIFF_NO_FAILED_INIT=1 valgrind -q --trace-children=yes --leak-check=full --errors-for-leak-kinds=definite \
    --error-exitcode=9 env LD_PRELOAD="$so" "$work/gnutls_diff" >"$work/valgrind.txt" 2>"$work/valgrind.err"
check "valgrind: no errors, no definite leaks" test "$?" -eq 0 -a ! -s "$work/valgrind.err"
grep -v -e '^init unknown alg ' -e '^init alg 0 ' "$work/stock.txt" >"$work/stock-no-failed-init.txt"
check "transcript: preload under valgrind = stock" cmp "$work/stock-no-failed-init.txt" "$work/valgrind.txt"
check "stats: FIPS mode computes nothing" python3 tests/gnutls/check_stats.py "$work/fips.json" fips
# Hostile and unusual callers (gnutls_hostile.c, one forked child per case):
# stock = preloaded = preloaded with the program under ASan/UBSan.
gcc -std=gnu99 -O1 -g -Wall -Wextra -Werror tests/gnutls/gnutls_hostile.c -o "$work/gnutls_hostile" \
    -lgnutls -lpthread || exit 1
gcc -std=gnu99 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all tests/gnutls/gnutls_hostile.c \
    -o "$work/gnutls_hostile.asan" -lgnutls -lpthread || exit 1
"$work/gnutls_hostile" >"$work/hostile-stock.txt" || { echo "hostile stock run failed"; exit 1; }
LD_PRELOAD="$so" "$work/gnutls_hostile" >"$work/hostile-preload.txt"
check "hostile: preload = stock" cmp "$work/hostile-stock.txt" "$work/hostile-preload.txt"
check "hostile: complete" grep -qx "threads_and_fork: exit 0" "$work/hostile-stock.txt"
GNUTLS_HOSTILE_NO_THREADS_AND_FORK=1 "$work/gnutls_hostile" >"$work/hostile-stock-nofork.txt"
# ASan's runtime must come first; crashes that stock GnuTLS also has stay plain signals.
GNUTLS_HOSTILE_NO_THREADS_AND_FORK=1 ASAN_OPTIONS=detect_leaks=0:handle_segv=0:handle_abort=0:handle_sigbus=0:handle_sigfpe=0 \
    LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so):$so" \
    "$work/gnutls_hostile.asan" >"$work/hostile-asan.txt" 2>"$work/hostile-asan.err"
check "hostile: preload under ASan/UBSan = stock, no reports" \
    sh -c 'cmp "$1" "$2" && ! grep -Eq "ERROR: AddressSanitizer|runtime error" "$3"' _ \
    "$work/hostile-stock-nofork.txt" "$work/hostile-asan.txt" "$work/hostile-asan.err"
# Use after deinit (preloaded only: undefined behaviour in stock GnuTLS).
GNUTLS_HOSTILE_STALE=1 LD_PRELOAD="$so" "$work/gnutls_hostile" >"$work/stale.txt"
for c in 10 11 19 20; do echo "stale cipher $c: rc -50 -50 -50 -50 -50 -50 untouched=1"; done >"$work/stale-want.txt"
check "hostile: calls on a released handle return -50 and write nothing" cmp "$work/stale-want.txt" "$work/stale.txt"
echo "$CHECK_PASSED passed, $CHECK_FAILED failed (differential)"
bash tests/gnutls/run-policy.sh "$so" "$work" || CHECK_FAILED=$((CHECK_FAILED + 1))

if [ "${SMBSIGN_GNUTLS_SKIP_SAMBA:-}" != 1 ]; then
    bash tests/gnutls/run-samba.sh "$so" || CHECK_FAILED=$((CHECK_FAILED + 1))
fi
[ "$CHECK_FAILED" -eq 0 ]
