# Shared helpers for the smbsign scripts (sourced, not run).
# Everything here is idempotent: safe to run on a fresh Debian machine as root
# and again on one that already has everything.

SMBSIGN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TERM_COLOR=never

# Installs Debian packages that are missing (one apt-get update per run, only if needed).
apt_ensure() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}" >&2
    if [ -z "${SMBSIGN_APT_UPDATED:-}" ]; then
        apt-get update -qq >&2 || return 1
        export SMBSIGN_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Installs qemu-user, from bookworm-backports when this is Debian 12 (qemu 10's
# "max" x86 model adds SHA-NI, so the SHA-NI kernel is exercised under emulation
# too); the distribution's qemu-user otherwise.
qemu_ensure() {
    if command -v qemu-x86_64 >/dev/null && qemu-x86_64 --version | grep -qE "version (9|[1-9][0-9])\."; then
        return 0
    fi
    if grep -q "bookworm" /etc/os-release 2>/dev/null; then
        local list=/etc/apt/sources.list.d/smbsign-backports.list
        if [ ! -f "$list" ]; then
            echo "deb http://deb.debian.org/debian bookworm-backports main" >"$list"
            apt-get update -qq >&2 || true
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports qemu-user >&2 && return 0
    fi
    apt_ensure qemu-user
}

# Makes sure cargo is on PATH: the rustup toolchain if present, else Debian's rustc-web/cargo-web.
ensure_toolchain() {
    [ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
    if ! command -v cargo >/dev/null 2>&1; then
        apt_ensure rustc-web cargo-web gcc libc6-dev || return 1
    fi
    command -v cargo >/dev/null 2>&1
}

# Runs CMD in this shell while holding an exclusive lock on LOCKFILE (so that
# test-all's background prefetch and a suite never build the same thing at once).
locked() { # LOCKFILE CMD...
    local fd rc
    mkdir -p "${1%/*}" && exec {fd}>"$1" || return 1
    flock "$fd"
    "${@:2}"
    rc=$?
    exec {fd}>&-
    return $rc
}

# Installs a cargo subcommand (cargo-deb, cargo-fuzz) from crates.io unless it is on PATH.
cargo_tool_ensure() { # CRATE
    command -v "$1" >/dev/null ||
        locked "$SMBSIGN_ROOT/target/cargo-install.lock" sh -c 'command -v "$1" >/dev/null || cargo install -q --locked "$1"' _ "$1"
}

# The one release build the suites share: the whole workspace, so that every
# suite gets the same dependency features and none rebuilds the core crate.
release_build() {
    cargo build --release -q --workspace
}

SUITE_PASSED=0
SUITE_FAILED=0
SUITE_LOG_DIR="${SMBSIGN_LOG_DIR:-$SMBSIGN_ROOT/target/test-logs}"
mkdir -p "$SUITE_LOG_DIR"

# suite NAME CMD...: runs CMD, logs to target/test-logs/NAME.log, prints one summary line.
# Counts come from cargo/pytest result lines, or "N passed, N failed" lines the command prints.
suite() {
    local name="$1"; shift
    local log="$SUITE_LOG_DIR/${name//\//_}.log"
    local start=$SECONDS
    "$@" >"$log" 2>&1
    local rc=$?
    local passed failed
    passed=$(grep -hoE '(test result: [a-zA-Z]+\. )?[0-9]+ passed' "$log" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
    failed=$(grep -hoE '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
    if [ $rc -ne 0 ] && [ "$failed" -eq 0 ]; then
        failed=1
    fi
    SUITE_PASSED=$((SUITE_PASSED + passed))
    SUITE_FAILED=$((SUITE_FAILED + failed))
    local status=ok
    [ $rc -ne 0 ] && status=FAILED
    printf 'suite %-28s %s: %d passed, %d failed (%ds)\n' "$name" "$status" "$passed" "$failed" $((SECONDS - start))
    if [ $rc -ne 0 ]; then
        echo "---- last 60 lines of $log ----"
        tail -n 60 "$log"
        echo "----"
    fi
    return 0
}

# check NAME CMD...: one test line of a shell suite: runs CMD with its output in
# $CHECK_LOG, prints "ok: NAME" or "FAILED: NAME" and the log's first 40 lines,
# and counts it in CHECK_PASSED / CHECK_FAILED.
CHECK_PASSED=0
CHECK_FAILED=0
check() {
    local name="$1"; shift
    local log="${CHECK_LOG:-$SUITE_LOG_DIR/check.log}"
    if "$@" >"$log" 2>&1; then
        CHECK_PASSED=$((CHECK_PASSED + 1)); echo "ok: $name"
    else
        CHECK_FAILED=$((CHECK_FAILED + 1)); echo "FAILED: $name: $*"; head -40 "$log"
    fi
}

# smbsign_pc PREFIX LIBDIR VERSION: smbsign.pc on stdout (LIBDIR as pkg-config
# writes it, e.g. ${prefix}/lib; install-c.sh and package-deb.sh).
smbsign_pc() {
    cat <<PC
prefix=$1
libdir=$2
includedir=\${prefix}/include

Name: smbsign
Description: SMB2/SMB3 message signing (HMAC-SHA256, AES-128-CMAC, AES-128-GMAC)
Version: $3
Libs: -L\${libdir} -lsmbsign
Libs.private: -lpthread -ldl -lm
Cflags: -I\${includedir}
PC
}
