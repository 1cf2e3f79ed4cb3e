//! The tuning table: every measured threshold and vendor rule the crate
//! applies to pick a kernel, one constant each. Each row's value, CPU, figure and date are in
//! `docs/tuning.md` (the row named in its doc). The per-architecture
//! selection reads these and puts them into the [`Backend`](super::Backend)
//! tags; the dispatch never reads them. A new CPU quirk is a new row here
//! and in `docs/tuning.md`, and a line in `x86/select.rs`. (Every rule but
//! `PARTS_GATHER`, which the cipher walk applies everywhere, is an x86-64
//! one; ARMv8 has one kernel per primitive.)

// On ARMv8 only `PARTS_GATHER` is read.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

/// A CPU vendor, as CPUID leaf 0 names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Vendor {
    /// "GenuineIntel".
    Intel,
    /// "AuthenticAMD".
    Amd,
    /// Any other.
    Other,
}

/// Whose zmm tier hashes long messages with the GFNI loop; every other
/// vendor's with the VBMI Karatsuba loop (docs/tuning.md: "Long-message GHASH
/// loop").
pub(crate) const GFNI_WIDE_GHASH: Vendor = Vendor::Intel;

/// The CPU family of [`Vendor::Amd`] that runs 512-bit operations as two
/// 256-bit halves, Zen 4 (docs/tuning.md: "zmm runs at half rate").
pub(crate) const ZMM_HALF_RATE_AMD_FAMILY: u32 = 0x19;

/// On Intel, the longest one-part GMAC message the zmm tier gives to the xmm
/// fused kernel: every length it takes, `pclmul::SHORT_MAX` (docs/tuning.md:
/// "One-part GMAC the zmm tier gives to the xmm fused kernel").
pub(crate) const ZMM_GMAC_XMM_MAX_INTEL: usize = 112;

/// Elsewhere (Zen 4), the same (docs/tuning.md: the same row).
pub(crate) const ZMM_GMAC_XMM_MAX_OTHER: usize = 48;

/// The longest GMAC message (one part or several) the ymm tier gives to the
/// xmm fused kernel rather than the ymm one: every length it takes,
/// `pclmul::SHORT_MAX` (docs/tuning.md: "GMAC the ymm tier gives to the xmm
/// fused kernel").
pub(crate) const YMM_GMAC_XMM_MAX: usize = 112;

/// Where zmm runs at half rate, batches averaging fewer blocks per job than
/// this (1 KiB) take the ymm VAES CMAC lanes instead of the zmm ones
/// (docs/tuning.md: "zmm VAES CMAC lanes hand small batches to the ymm kernel").
pub(crate) const VAES512_MIN_MEAN_BLOCKS: usize = 64;

/// The shortest batch message (whole blocks only) the avx2 tier's paired
/// GMAC kernel takes; shorter ones go one-shot (docs/tuning.md: "Paired short
/// GMAC in batches").
pub(crate) const GMAC_PAIR_MIN_LEN: usize = 128;

/// Stack erasure (`scrub`): regions from this many bytes are zeroed by
/// `rep stosb` (docs/tuning.md: "Stack erasure stores").
pub(crate) const ERASE_REP_STOSB_MIN: usize = 2048;

/// Stack erasure: smaller regions from this many bytes by 32-byte AVX stores
/// where the CPU has AVX, else by 16-byte SSE2 stores (docs/tuning.md: the
/// same row; 512 takes CMAC's and short GMAC's erasures, 640 bytes).
pub(crate) const ERASE_AVX_MIN: usize = 512;

/// Messages in parts (`cipher::parts::walk`, the SMB3 ciphers): runs of at
/// least this many whole bytes inside one part are passed to the kernels in
/// place; shorter pieces are gathered into a stack buffer of this size and
/// passed together (docs/tuning.md: "Cipher parts gathered").
pub(crate) const PARTS_GATHER: usize = 512;
