#!/usr/bin/env bash
# The .deb (scripts/package-deb.sh): built once, then in a Debian 13 and a
# Debian 12 userland (scripts/userland.sh; this machine's own system is left
# alone): dpkg -i; every file in place and the drop-in inactive; each tool's
# --help and man page; smbsign-samba enable/status/disable, status against an
# smbd started with the installed library preloaded (test_deb_status.py);
# dpkg -r leaves none of the package's files (nor its links) behind.
# Needs root. Prints one line per check and "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$SMBSIGN_ROOT/scripts/userland.sh"
cd "$SMBSIGN_ROOT"
start=$SECONDS
bash scripts/package-deb.sh >"$SUITE_LOG_DIR/package-deb.log" 2>&1 || { tail -30 "$SUITE_LOG_DIR/package-deb.log"; exit 1; }
deb=$(ls -t target/debian/smbsign_*.deb | head -1)
echo "built $deb after $((SECONDS - start)) s"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
lib="/usr/lib/$multiarch"
venv="$SMBSIGN_ROOT/target/py-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" 2>/dev/null || { apt_ensure python3-venv && python3 -m venv "$venv"; } || exit 1
fi
"$venv/bin/pip" install -q --disable-pip-version-check pytest || exit 1
trap 'userland_umount' EXIT
pytest_rc=0

in_release() { # NAME (scripts/userland.sh: userland_spec)
    local name="$1"
    userland_ensure "$name" || { CHECK_FAILED=$((CHECK_FAILED + 1)); return 1; }
    local root="$USERLAND_ROOT"
    userland_mount || return 1
    CHECK_LOG="$root/tmp/check.log"
    in_root() { chroot "$root" "$@"; }
    # A run killed half-way leaves the package installed: start clean.
    in_root dpkg -r smbsign >/dev/null 2>&1
    cp "$deb" "$root/tmp/smbsign.deb" || return 1
    check "$name: dpkg -i" in_root dpkg -i /tmp/smbsign.deb
    in_root dpkg -L smbsign | sort >"$root/tmp/smbsign.files"
    local f missing=""
    for f in "$lib/libsmbsign.so.0" "$lib/libsmbsign.so" "$lib/libsmbsign.a" /usr/include/smbsign.h \
        "$lib/pkgconfig/smbsign.pc" "$lib/libsmbsign_gnutls.so" /usr/share/smbsign/smbd.service.d/smbsign.conf \
        /usr/bin/smbsign-bench /usr/bin/smbsign-check /usr/bin/smbsign-samba; do
        [ -e "$root$f" ] || missing+=" $f"
    done
    check "$name: files in place" test -z "$missing"
    check "$name: libsmbsign.so.0 is the soname link" sh -c \
        'readelf -d "$1" | grep -q "SONAME.*libsmbsign.so.0"' _ "$root$lib/libsmbsign.so.0"
    check "$name: drop-in installed inactive" test ! -e "$root/etc/systemd/system/smbd.service.d/smbsign.conf"
    local b
    for b in $(sed -n 's|^/usr/bin/||p' "$root/tmp/smbsign.files"); do
        check "$name: $b --help" sh -c 'chroot "$1" "$2" --help | grep -qi usage' _ "$root" "/usr/bin/$b"
        check "$name: $b man page" test -s "$root/usr/share/man/man1/$b.1.gz"
    done
    check "$name: smbsign-samba enable writes the drop-in" sh -c \
        'chroot "$1" smbsign-samba enable && grep -qx "Environment=LD_PRELOAD=$2/libsmbsign_gnutls.so" "$1/etc/systemd/system/smbd.service.d/smbsign.conf"' \
        _ "$root" "$lib"
    if [ -x "$root/usr/sbin/smbd" ]; then
        SMBSIGN_SAMBA_ROOT="$root" LIBSMBSIGN_GNUTLS="$lib/libsmbsign_gnutls.so" SMBSIGN_REQUIRE_SAMBA=1 \
            "$venv/bin/python" -m pytest -q -p no:cacheprovider --basetemp="$root/tmp/smbsign-pytest" \
            tests/deb/test_deb_status.py || pytest_rc=1
    fi
    check "$name: smbsign-samba disable removes it" sh -c \
        'chroot "$1" smbsign-samba disable && test ! -e "$1/etc/systemd/system/smbd.service.d/smbsign.conf"' _ "$root"
    check "$name: dpkg -r" in_root dpkg -r smbsign
    local left=""
    while IFS= read -r f; do
        # Directories the package shares with others stay; its own files must not.
        [ -d "$root$f" ] && [ ! -L "$root$f" ] && continue
        { [ -e "$root$f" ] || [ -L "$root$f" ]; } && left+=" $f"
    done <"$root/tmp/smbsign.files"
    for f in "$lib/libsmbsign.so.0" "$lib/libsmbsign.so" /usr/share/smbsign /usr/share/doc/smbsign; do
        { [ -e "$root$f" ] || [ -L "$root$f" ]; } && left+=" $f"
    done
    check "$name: nothing left behind" sh -c 'echo "$1"; test -z "$1"' _ "$left"
    check "$name: package gone from dpkg" sh -c \
        '! chroot "$1" dpkg-query -W -f="\${Status}" smbsign 2>/dev/null | grep -q installed' _ "$root"
    userland_umount
}

in_release debian13-amd64
in_release debian12-amd64
echo "$CHECK_PASSED passed, $CHECK_FAILED failed (deb)"
echo "deb suite: $((SECONDS - start)) s"
[ "$CHECK_FAILED" -eq 0 ] && [ "$pytest_rc" -eq 0 ]
