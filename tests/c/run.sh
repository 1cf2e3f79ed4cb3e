#!/usr/bin/env bash
# Builds and runs the C tests against libsmbsign installed into a temporary
# prefix (scripts/install-c.sh), linked shared and static, then under valgrind
# memcheck and with -fsanitize=address,undefined. The example in examples/c is
# built with pkg-config, as a user would. Prints "N passed, N failed" lines.
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$SMBSIGN_ROOT"
apt_ensure gcc g++ libc6-dev libssl-dev pkg-config valgrind || exit 1
ensure_toolchain || exit 1

prefix="$SMBSIGN_ROOT/target/c-prefix"
build="$SMBSIGN_ROOT/target/c-tests"
rm -rf "$prefix" "$build"
mkdir -p "$build"
bash scripts/install-c.sh --libs-only "$prefix" >/dev/null || exit 1
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
CFLAGS="-std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O1 -g $(pkg-config --cflags smbsign) -Itests/c"
vec="core/tests/vectors"
fails=0
passes=0
run() { # name cmd...
    local out
    out=$("$@" 2>&1)
    local rc=$?
    echo "$out" | tail -n 3
    if [ $rc -eq 0 ]; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAILED: $*"; echo "$out" | head -40; fi
}

for t in test_vectors test_errors test_openssl test_threads test_batch test_hostile test_transform; do
    extra=""
    [ $t = test_openssl ] && extra="-lcrypto"
    [ $t = test_transform ] && extra="-lcrypto -lpthread"
    [ $t = test_threads ] && extra="-lpthread"
    gcc $CFLAGS tests/c/$t.c -o "$build/$t.shared" $(pkg-config --libs smbsign) $extra -Wl,-rpath,"$prefix/lib" || { fails=$((fails+1)); continue; }
    gcc $CFLAGS tests/c/$t.c -o "$build/$t.static" "$prefix/lib/libsmbsign.a" $(pkg-config --static --libs-only-l smbsign | sed 's/-lsmbsign//') $extra || { fails=$((fails+1)); continue; }
    gcc $CFLAGS -DSMBSIGN_VALGRIND tests/c/$t.c -o "$build/$t.vg" $(pkg-config --libs smbsign) $extra -Wl,-rpath,"$prefix/lib" || { fails=$((fails+1)); continue; }
    gcc $CFLAGS -fsanitize=address,undefined -fno-sanitize-recover=all tests/c/$t.c -o "$build/$t.asan" \
        "$prefix/lib/libsmbsign.a" -lpthread -ldl -lm $extra || { fails=$((fails+1)); continue; }
done

for mode in shared static asan; do
    echo "== $mode"
    run "$build/test_vectors.$mode" "$vec"
    run "$build/test_errors.$mode"
    run env SMBSIGN_BACKEND=portable "$build/test_errors.$mode"
    run env SMBSIGN_BACKEND=no-such-tier "$build/test_errors.$mode"
    run "$build/test_openssl.$mode" 3000
    run "$build/test_threads.$mode"
    run "$build/test_batch.$mode" 200
    run "$build/test_hostile.$mode"
    run "$build/test_transform.$mode" "$vec" 400
done
echo "== valgrind memcheck (shared)"
vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
run $vg "$build/test_vectors.vg" "$vec"
run $vg "$build/test_errors.vg"
run $vg "$build/test_openssl.vg" 150
run $vg "$build/test_threads.vg"
run $vg "$build/test_batch.vg" 20
run $vg "$build/test_hostile.vg"
run $vg "$build/test_transform.vg" "$vec" 40

echo "== header is C++-includable"
printf '#include <smbsign.h>\nint main() { smbsign_key *k = nullptr; smbsign_key_free(k); return smbsign_version() ? 0 : 1; }\n' >"$build/cxx.cpp"
run sh -c "g++ -std=c++11 -Wall -Wextra -Werror $(pkg-config --cflags smbsign) '$build/cxx.cpp' -o '$build/cxx' $(pkg-config --libs smbsign) -Wl,-rpath,'$prefix/lib' && '$build/cxx'"

echo "== example (pkg-config)"
gcc -std=c99 -Wall -Wextra -Werror examples/c/compound.c -o "$build/compound" $(pkg-config --cflags --libs smbsign) -Wl,-rpath,"$prefix/lib" &&
    run "$build/compound" || fails=$((fails + 1))
echo "c programs run: $((passes + fails)), failing: $fails"
[ $fails -eq 0 ]
