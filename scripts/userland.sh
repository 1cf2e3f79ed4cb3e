# Debian userlands (debootstrap chroots) for the suites that test against
# another release's or architecture's Samba (sourced, not run; needs root).
#
#   userland_ensure NAME                          -> sets USERLAND_ROOT
#   userland_prefetch                             (every NAME of userland_spec)
#   userland_mount / userland_umount              (/proc and /dev of USERLAND_ROOT)
#
# The unpacked root lives under target/userlands/NAME; a tarball of it is kept
# in $SMBSIGN_USERLAND_CACHE (default /var/cache/smbsign), so a machine that
# keeps that directory skips debootstrap. Neither is required: a missing one is
# rebuilt (a cold run pays the debootstrap).

SMBSIGN_USERLAND_CACHE="${SMBSIGN_USERLAND_CACHE:-/var/cache/smbsign}"
USERLAND_ROOT=
USERLAND_MOUNTS=()

# The userlands the suites use, by name: "SUITE ARCH PACKAGES". debootstrap
# resolves no virtual packages: PACKAGES must name their providers (passwd and
# python3-cffi-backend are what samba-testsuite needs and cannot resolve).
userland_spec() { # NAME
    case "$1" in
    debian13-amd64) echo "trixie amd64 samba,smbclient,samba-testsuite,libgnutls30t64,passwd,python3-cffi-backend" ;;
    debian12-amd64) echo "bookworm amd64 samba,passwd" ;;
    debian13-arm64) echo "trixie arm64 samba,passwd" ;;
    *) echo "no userland named $1" >&2; return 1 ;;
    esac
}

# Every named userland, built ahead (test-all.sh runs this in the background
# while the first suites compile; the suites' userland_ensure then waits on the
# same lock and finds it ready).
userland_prefetch() {
    local name
    for name in debian13-amd64 debian12-amd64 debian13-arm64; do
        userland_ensure "$name" || echo "userland $name: prefetch failed (its suite builds it)" >&2
    done
}

# One builder per userland at a time (the background prefetch and a suite).
userland_ensure() { # NAME -> sets USERLAND_ROOT
    local spec
    spec=$(userland_spec "$1") || return 1
    # shellcheck disable=SC2086 # the spec is three words
    locked "$SMBSIGN_ROOT/target/userlands/$1.lock" userland_build "$1" $spec
}

userland_build() { # NAME SUITE ARCH PACKAGES(comma-separated)
    local name="$1" suite="$2" arch="$3" pkgs="$4"
    local root="$SMBSIGN_ROOT/target/userlands/$name"
    local tarball="$SMBSIGN_USERLAND_CACHE/$name.tar"
    # The stamp names what was asked for: a changed package list rebuilds.
    local want="$suite $arch $pkgs"
    [ "$arch" = "$(dpkg --print-architecture)" ] || want="$want unpacked"
    USERLAND_ROOT="$root"
    if [ -f "$root/.smbsign-userland" ] && [ "$(cat "$root/.smbsign-userland")" = "$want" ]; then
        return 0
    fi
    userland_umount_all "$root"
    # Never delete through a bind mount of the host's /dev.
    if findmnt -rno TARGET | grep -qF "$root/"; then
        echo "userland $name: something is still mounted under $root" >&2; return 1
    fi
    rm -rf --one-file-system "$root" && mkdir -p "$root" || return 1
    if [ -f "$tarball" ] && tar -xf "$tarball" -C "$root" && [ "$(cat "$root/.smbsign-userland" 2>/dev/null)" = "$want" ]; then
        echo "userland $name: unpacked from $tarball" >&2
        return 0
    fi
    rm -rf --one-file-system "$root" && mkdir -p "$root" || return 1
    apt_ensure debootstrap || return 1
    local start=$SECONDS
    if [ "$arch" = "$(dpkg --print-architecture)" ]; then
        debootstrap --variant=minbase --arch="$arch" --include="$pkgs" "$suite" "$root" \
            http://deb.debian.org/debian >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; return 1; }
    else
        userland_foreign "$suite" "$arch" "$pkgs" "$root" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; return 1; }
    fi
    # No daemons from the userland's own packages, ever (a later dpkg -i too).
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod 755 "$root/usr/sbin/policy-rc.d"
    rm -rf "$root/var/cache/apt/archives/"*.deb
    echo "$want" >"$root/.smbsign-userland"
    echo "userland $name: debootstrap $suite/$arch took $((SECONDS - start)) s" >&2
    mkdir -p "$SMBSIGN_USERLAND_CACHE" &&
        tar -cf "$tarball.tmp" -C "$root" . && mv "$tarball.tmp" "$tarball" ||
        echo "userland $name: could not cache it in $tarball (rebuilt next time)" >&2
    return 0
}

# A foreign-architecture userland: debootstrap's first stage downloads the
# packages and their dependencies; they are unpacked here with dpkg-deb, natively.
# debootstrap's second stage (dpkg configuring every package, maintainer
# scripts and all, emulated by qemu-user) took 13 minutes on a busy 2-core
# machine; what the suites run (smbd, smbpasswd, useradd) needs only the files,
# the base accounts and the loader cache, so this is what is done, and
# .smbsign-packages lists the unpacked packages (no dpkg database).
userland_foreign() { # SUITE ARCH PACKAGES ROOT
    local suite="$1" arch="$2" pkgs="$3" root="$4"
    userland_binfmt "$arch" || return 1
    debootstrap --foreign --variant=minbase --arch="$arch" --include="$pkgs" "$suite" "$root" \
        http://deb.debian.org/debian || return 1
    local deb
    for deb in "$root"/var/cache/apt/archives/*.deb; do
        dpkg-deb -x "$deb" "$root" || return 1
        dpkg-deb -f "$deb" Package Version Architecture | tr '\n' ' ' | sed 's/Package: //; s/ Version: / /; s/ Architecture: / /; s/ $/\n/'
    done >"$root/.smbsign-packages"
    # What base-passwd's and the loader's maintainer scripts would have made.
    cp "$root/usr/share/base-passwd/passwd.master" "$root/etc/passwd" &&
        cp "$root/usr/share/base-passwd/group.master" "$root/etc/group" || return 1
    : >"$root/etc/shadow" && : >"$root/etc/gshadow" && chmod 640 "$root/etc/shadow" "$root/etc/gshadow"
    rm -rf --one-file-system "$root/debootstrap"
    chroot "$root" /sbin/ldconfig
}

# Registers qemu-user-binfmt's handler for ARCH with the kernel when it is not
# (a container has no systemd-binfmt to do it).
userland_binfmt() { # ARCH
    local fmt
    case "$1" in arm64) fmt=qemu-aarch64 ;; *) echo "no qemu handler for $1" >&2; return 1 ;; esac
    qemu_ensure && apt_ensure qemu-user-binfmt || return 1
    [ -e /proc/sys/fs/binfmt_misc/register ] ||
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || return 1
    [ -e "/proc/sys/fs/binfmt_misc/$fmt" ] ||
        cat "/usr/share/qemu/binfmt.d/$fmt.conf" >/proc/sys/fs/binfmt_misc/register || return 1
    grep -qx enabled "/proc/sys/fs/binfmt_misc/$fmt"
}

userland_mount() {
    local root="$USERLAND_ROOT"
    mountpoint -q "$root/proc" || { mount -t proc proc "$root/proc" && USERLAND_MOUNTS+=("$root/proc"); } || return 1
    # Read-only bind: device nodes still open for writing, but nothing under
    # the host's /dev can be deleted through the userland (an rm -rf of target/).
    if ! mountpoint -q "$root/dev"; then
        mount --bind /dev "$root/dev" && USERLAND_MOUNTS+=("$root/dev") &&
            mount -o remount,bind,ro "$root/dev" || return 1
    fi
}

userland_umount() {
    local m
    for m in "${USERLAND_MOUNTS[@]}"; do
        umount -l "$m" 2>/dev/null
    done
    USERLAND_MOUNTS=()
}

# Anything still mounted under ROOT (a run killed before its trap).
userland_umount_all() { # ROOT
    local m
    [ -d "$1" ] || return 0
    for m in $(findmnt -rno TARGET | grep -F "$1/" | sort -r); do
        umount -l "$m" 2>/dev/null
    done
}
