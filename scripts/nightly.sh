# Sourced by the sanitizer and fuzz scripts: picks the toolchain for -Z flags.
# Nightly when installed; otherwise the stable toolchain with its unstable
# flags unlocked (RUSTC_BOOTSTRAP=1), which ships the same sanitizer runtimes.
if rustup run nightly rustc --version >/dev/null 2>&1; then
    NIGHTLY=(+nightly)
else
    NIGHTLY=()
    export RUSTC_BOOTSTRAP=1
    echo "no nightly toolchain: using $(rustc --version) with RUSTC_BOOTSTRAP=1"
fi
HOST_TARGET="$(rustc -vV | sed -n 's/^host: //p')"
