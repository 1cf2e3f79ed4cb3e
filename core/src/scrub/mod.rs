//! Erasure of the stack a key-touching call used, once it returns.
//!
//! SIMD kernels spill round keys, key powers and chaining values to their
//! frames (`vaes512_lanes` copies all 88 zmm of per-lane round keys), and the
//! Rust glue above them keeps copies too. Those bytes stay below the stack
//! pointer after the call until something overwrites them, where a later
//! read of uninitialised stack in the host would find them. So every public
//! entry point that touches key material runs its body through [`after`]:
//! the body gets a frame of its own below the caller's stack pointer, and
//! once it returns the `bytes` below that stack pointer are zeroed (the
//! approach of libsodium's `sodium_stackzero`, done here by inline assembly
//! so nothing is left out by frame padding and no compiler can drop it).
//!
//! The sizes are measured, per kernel, by painting a thread's stack and
//! seeing how deep each entry point writes (`tests.rs`, which also proves
//! the erasure: it scans the stack for the key schedule afterwards). They
//! live in one table, [`Bytes`] (`size.rs`); this file is the erasure itself.

mod size;
#[cfg(all(test, target_arch = "x86_64"))]
pub(crate) mod tests;

#[cfg(all(test, target_arch = "x86_64"))]
thread_local! {
    /// Set by the proving test's control run: entry points skip the erasure.
    static OFF: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

#[cfg(target_arch = "x86_64")]
use crate::backend::tuning;
pub(crate) use size::{Bytes, CipherPath};

/// Runs `f` in a frame of its own, then zeroes the `bytes` below the stack
/// pointer of the frame that called it: where `f` and its kernels ran.
#[inline(always)]
pub(crate) fn after<R>(bytes: usize, f: impl FnOnce() -> R) -> R {
    let r = framed(f);
    #[cfg(all(test, target_arch = "x86_64"))]
    if OFF.with(core::cell::Cell::get) {
        return r;
    }
    zero_below(bytes);
    r
}

/// As [`after`], for a size that `f` finds out (and returns with its result).
#[inline(always)]
pub(crate) fn after_sized<R>(f: impl FnOnce() -> (R, usize)) -> R {
    let (r, bytes) = framed(f);
    #[cfg(all(test, target_arch = "x86_64"))]
    if OFF.with(core::cell::Cell::get) {
        return r;
    }
    zero_below(bytes);
    r
}

/// A call boundary: `f`'s locals live below the caller's stack pointer.
#[inline(never)]
fn framed<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Zeroes `bytes` (rounded up to 64) below the stack pointer: from 2 KiB by
/// `rep stosb`, from 512 bytes by 32-byte AVX stores where the CPU has them,
/// else by 16-byte SSE2 stores (every x86-64 CPU has SSE2); the lengths are
/// where each is fastest (docs/tuning.md: "Stack erasure stores").
#[inline(always)]
#[cfg(target_arch = "x86_64")]
fn zero_below(bytes: usize) {
    if bytes >= tuning::ERASE_REP_STOSB_MIN {
        // SAFETY: as below, for `bytes` bytes; `rep stosb` runs forwards
        // (the ABI keeps the direction flag clear between instructions).
        unsafe {
            core::arch::asm!(
                "sub rsp, rcx",
                "mov rdi, rsp",
                "mov rdx, rcx",
                "xor eax, eax",
                "rep stosb",
                "add rsp, rdx",
                inout("rcx") bytes => _,
                out("rdi") _,
                out("rdx") _,
                out("rax") _,
                options(nomem),
            );
        }
        return;
    }
    if bytes >= tuning::ERASE_AVX_MIN && std::is_x86_feature_detected!("avx") {
        let n = bytes.div_ceil(128) * 128;
        // SAFETY: moves rsp down by `n` for the duration of the block (as
        // pushes would), zeroes the `n` bytes it moved over, and restores it:
        // they are the frames of the call that just returned (n is sized from
        // them) and hold nothing live, since without `nostack` the compiler
        // keeps nothing below rsp (no red zone) across this block. Writing
        // only above the moved stack pointer keeps the kernel's (and
        // valgrind's) stack growth rules: they fault writes far below rsp.
        // AVX was detected; `vzeroupper` then clears the upper halves
        // (clobbered, with every other caller-saved register) so no SSE code
        // after pays for a dirty upper state. n > 0.
        unsafe {
            core::arch::asm!(
                "vpxor xmm0, xmm0, xmm0",
                "sub rsp, rcx",
                "mov rdi, rsp",
                "mov rdx, rcx",
                "2:",
                "vmovdqu ymmword ptr [rdi], ymm0",
                "vmovdqu ymmword ptr [rdi + 32], ymm0",
                "vmovdqu ymmword ptr [rdi + 64], ymm0",
                "vmovdqu ymmword ptr [rdi + 96], ymm0",
                "add rdi, 128",
                "sub rcx, 128",
                "ja 2b",
                "add rsp, rdx",
                "vzeroupper",
                inout("rcx") n => _,
                out("rdi") _,
                clobber_abi("C"),
                options(nomem),
            );
        }
        return;
    }
    let n = bytes.div_ceil(64).max(1) * 64;
    // SAFETY: as above, with SSE2 stores of a zeroed xmm register. n > 0.
    unsafe {
        core::arch::asm!(
            "pxor {z}, {z}",
            "sub rsp, {n}",
            "mov {p}, rsp",
            "mov {m}, {n}",
            "2:",
            "movdqu [{p}], {z}",
            "movdqu [{p} + 16], {z}",
            "movdqu [{p} + 32], {z}",
            "movdqu [{p} + 48], {z}",
            "add {p}, 64",
            "sub {n}, 64",
            "ja 2b",
            "add rsp, {m}",
            n = inout(reg) n => _,
            p = out(reg) _,
            m = out(reg) _,
            z = out(xmm_reg) _,
            options(nomem),
        );
    }
}

/// Zeroes `bytes` (rounded up to 64) below the stack pointer.
#[inline(always)]
#[cfg(target_arch = "aarch64")]
fn zero_below(bytes: usize) {
    let n = bytes.div_ceil(64).max(1) * 64;
    // SAFETY: as on x86-64 (sp moved down by `n`, a multiple of 64, so it
    // stays 16-aligned, and restored): only the `n` bytes below sp, just used by the
    // returned call's frames and holding nothing live (AArch64 has no red
    // zone for Rust code and the block may use the stack). Pairs of 8-byte
    // zero stores.
    unsafe {
        core::arch::asm!(
            "sub sp, sp, {n}",
            "mov {p}, sp",
            "mov {m}, {n}",
            "2:",
            "stp xzr, xzr, [{p}]",
            "stp xzr, xzr, [{p}, #16]",
            "stp xzr, xzr, [{p}, #32]",
            "stp xzr, xzr, [{p}, #48]",
            "add {p}, {p}, #64",
            "subs {n}, {n}, #64",
            "b.hi 2b",
            "add sp, sp, {m}",
            n = inout(reg) n => _,
            p = out(reg) _,
            m = out(reg) _,
            options(nomem),
        );
    }
}

/// Elsewhere (no kernels, no `unsafe`): a zeroed buffer of the size in a
/// frame of its own, kept by `black_box`.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn zero_below(bytes: usize) {
    #[inline(never)]
    fn zero<const N: usize>() {
        let mut buf = [0u8; N];
        core::hint::black_box(&mut buf);
    }
    match bytes {
        0 => {}
        1..=4096 => zero::<4096>(),
        _ => zero::<16384>(),
    }
}
