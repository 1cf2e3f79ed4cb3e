//! The x86-64 selection: the [`Backend`] for a tier on this CPU, from the
//! feature tokens and the vendor rules of the tuning table
//! (`backend/tuning.rs`; figures in `docs/tuning.md`). Above the dispatch,
//! whose tags it fills; nothing below imports it.

use super::{
    gmac_pair, pclmul, AesNi, Avx2, Avx512, Gfni512, Pclmul, ShaNi, Vaes, Vaes512, Vpclmul256,
    Vpclmul512, WideGhash,
};
use crate::backend::dispatch::{
    Aes, AesLanes, Backend, Ghash, GmacPair, Sha256, ShaLanes, ShortGmac,
};
use crate::backend::tier::Tier;
use crate::backend::tuning::{self, Vendor};

// The xmm short kernel (`pclmul::SHORT_MAX`) takes every one-part length the rules give it.
const _: () = assert!(tuning::ZMM_GMAC_XMM_MAX_INTEL <= pclmul::SHORT_MAX);
const _: () = assert!(tuning::ZMM_GMAC_XMM_MAX_OTHER <= pclmul::SHORT_MAX);

/// The CPU's vendor, from CPUID leaf 0's vendor string (EBX, EDX, ECX).
fn vendor() -> Vendor {
    use core::arch::x86_64::{__cpuid, CpuidResult};
    // `__cpuid` is a safe function in newer Rust; the MSRV needs the block.
    #[allow(unused_unsafe)]
    // SAFETY: every x86-64 CPU has CPUID with leaf 0.
    let CpuidResult { ebx, ecx, edx, .. } = unsafe { __cpuid(0) };
    match (ebx, edx, ecx) {
        // "GenuineIntel".
        (0x756e_6547, 0x4965_6e69, 0x6c65_746e) => Vendor::Intel,
        // "AuthenticAMD".
        (0x6874_7541, 0x6974_6e65, 0x444d_4163) => Vendor::Amd,
        _ => Vendor::Other,
    }
}

/// The CPU's family (CPUID leaf 1, with the extended family where the base is 0xF).
fn family() -> u32 {
    use core::arch::x86_64::__cpuid;
    // `__cpuid` is a safe function in newer Rust; the MSRV needs the block.
    #[allow(unused_unsafe)]
    // SAFETY: every x86-64 CPU has CPUID with leaf 1.
    let eax = unsafe { __cpuid(1).eax };
    let base = (eax >> 8) & 0xF;
    if base == 0xF {
        base + ((eax >> 20) & 0xFF)
    } else {
        base
    }
}

/// The long-message GHASH loop for this CPU: the GFNI loop where the
/// tuning table says (Intel: there 512-bit shuffles share VPCLMULQDQ's
/// port), else the VBMI Karatsuba loop (docs/tuning.md: "Long-message GHASH
/// loop").
fn wide_ghash() -> WideGhash {
    match Gfni512::detect() {
        Some(g) if vendor() == tuning::GFNI_WIDE_GHASH => WideGhash::Gfni(g),
        _ => WideGhash::Paired,
    }
}

/// The longest one-part message the zmm tier's GMAC gives to the xmm fused
/// kernel (partial last block by a masked load) rather than the zmm one
/// (docs/tuning.md: "One-part GMAC the zmm tier gives to the xmm fused kernel").
fn zmm_gmac_xmm_max() -> usize {
    if vendor() == Vendor::Intel {
        tuning::ZMM_GMAC_XMM_MAX_INTEL
    } else {
        tuning::ZMM_GMAC_XMM_MAX_OTHER
    }
}

/// Whether this CPU executes 512-bit operations as two 256-bit halves: the
/// AMD family of the tuning table (docs/tuning.md: "zmm runs at half rate").
fn zmm_half_rate() -> bool {
    vendor() == Vendor::Amd && family() == tuning::ZMM_HALF_RATE_AMD_FAMILY
}

/// Below what mean blocks per job the zmm VAES lanes hand a batch to the ymm
/// kernel: the tuning table's where zmm runs at half rate, never elsewhere
/// (docs/tuning.md: "zmm VAES CMAC lanes hand small batches to the ymm kernel").
fn vaes512_ymm_below() -> usize {
    if zmm_half_rate() {
        tuning::VAES512_MIN_MEAN_BLOCKS
    } else {
        0
    }
}

/// The backend for `tier`, if this CPU has the tier's defining features.
/// SHA-NI is taken by every x86 SIMD tier whose CPU has it (some AES-NI CPUs lack it).
pub(crate) fn backend(tier: Tier) -> Option<Backend> {
    let aes = AesNi::detect()?;
    let pclmul = Pclmul::detect()?;
    let ghash = match tier {
        Tier::AesNi => Ghash::Pclmul(pclmul),
        Tier::Avx2 => Ghash::Vpclmul256(Vpclmul256::detect()?),
        Tier::Avx512 => Ghash::Vpclmul512(Vpclmul512::detect()?, wide_ghash()),
        _ => return None,
    };
    let sha256 = ShaNi::detect().map_or(Sha256::Portable, Sha256::ShaNi);
    let (aes_lanes, sha_lanes) = lane_kernels(tier, aes, sha256);
    let vaes = Vaes::detect().filter(|_| tier != Tier::AesNi);
    // Paired short-message GMAC: VAES and the ymm GHASH (whose keys hold its
    // powers), on the ymm tier only, for whole-block messages from the tuning
    // table's length to the most the kernel takes (docs/tuning.md: "Paired
    // short GMAC in batches": the zmm tier's one-shot kernels are faster).
    let gmac_pair = match (vaes, &ghash) {
        (Some(v), Ghash::Vpclmul256(p)) => GmacPair::Vaes256(
            v,
            *p,
            tuning::GMAC_PAIR_MIN_LEN,
            16 * (gmac_pair::MAX_BLOCKS - 1),
        ),
        _ => GmacPair::None,
    };
    Some(Backend {
        tier,
        aes: Aes::AesNi(aes),
        ghash,
        sha256,
        short_gmac: match ghash {
            Ghash::Vpclmul512(p, _) => ShortGmac::FusedZmm(aes, p, zmm_gmac_xmm_max()),
            Ghash::Vpclmul256(v) => ShortGmac::FusedYmm(aes, pclmul, v, tuning::YMM_GMAC_XMM_MAX),
            _ => ShortGmac::Fused(aes, pclmul, pclmul::FUSED_MAX),
        },
        aes_lanes,
        sha_lanes,
        gmac_pair,
    })
}

/// The lanes kernels for `tier`. AES: the xmm tier keeps to xmm, the ymm
/// tier takes VAES on ymm and the zmm tier VAES on zmm, each when the CPU
/// has it; where zmm runs at half rate, `Backend::aes_lanes` hands batches
/// below the zmm kernel's threshold to the ymm one. SHA-256: the zmm tier
/// takes four SHA-NI streams in AVX-512VL registers where the CPU has SHA-NI
/// and zmm runs at half rate, else the 16-lane AVX-512 kernel for every pass
/// (docs/tuning.md: "HMAC batch lanes on the zmm tier"); the other tiers
/// take two SHA-NI streams where the CPU has SHA-NI, else the 8-lane AVX2
/// kernel.
fn lane_kernels(tier: Tier, aes: AesNi, sha256: Sha256) -> (AesLanes, ShaLanes) {
    let vaes = Vaes::detect().filter(|_| tier != Tier::AesNi);
    let vaes512 = Vaes512::detect().filter(|_| tier == Tier::Avx512);
    let aes_lanes = match (vaes512, vaes) {
        (Some(v), _) => AesLanes::Vaes32(v, vaes512_ymm_below()),
        (None, Some(v)) => AesLanes::Vaes16(v),
        (None, None) => AesLanes::AesNi8(aes),
    };
    let zmm = Avx512::detect().filter(|_| tier == Tier::Avx512);
    let sha_lanes = match (zmm, sha256, Avx2::detect()) {
        (Some(t), Sha256::ShaNi(s), _) if zmm_half_rate() => ShaLanes::ShaNiX4(s, t),
        (Some(t), ..) => ShaLanes::Avx512x16(t),
        (None, Sha256::ShaNi(_), _) => ShaLanes::Sha256,
        (None, _, Some(t)) => ShaLanes::Avx2x8(t),
        (None, _, None) => ShaLanes::Sha256,
    };
    (aes_lanes, sha_lanes)
}

/// `b` with each other lanes kernel this CPU supports swapped in, one
/// at a time (for tests and benchmarks that must reach every kernel, such as
/// the AVX2 SHA-256 lanes on a CPU with SHA-NI).
pub(crate) fn batch_variants(b: &Backend) -> Vec<Backend> {
    if b.tier() == Tier::Portable {
        return vec![*b];
    }
    let mut aes: Vec<AesLanes> = Vec::new();
    if let Some(t) = AesNi::detect() {
        aes.push(AesLanes::AesNi8(t));
    }
    if let Some(t) = Vaes::detect() {
        aes.push(AesLanes::Vaes16(t));
    }
    if let Some(t) = Vaes512::detect() {
        aes.push(AesLanes::Vaes32(t, vaes512_ymm_below()));
    }
    let mut sha = vec![ShaLanes::Sha256];
    if let Some(t) = Avx2::detect() {
        sha.push(ShaLanes::Avx2x8(t));
    }
    if let Some(t) = Avx512::detect() {
        sha.push(ShaLanes::Avx512x16(t));
        if let Some(s) = ShaNi::detect() {
            sha.push(ShaLanes::ShaNiX4(s, t));
        }
    }
    let name = |x: &Backend| (x.aes_batch_name(), x.sha256_batch_name());
    let mut out = vec![*b];
    let swapped = aes
        .into_iter()
        .map(|a| Backend { aes_lanes: a, ..*b })
        .chain(sha.into_iter().map(|s| Backend { sha_lanes: s, ..*b }));
    for v in swapped {
        if !out.iter().any(|o| name(o) == name(&v)) {
            out.push(v);
        }
    }
    out
}

/// `b`, then, on the zmm tier, a copy with each other long-message GHASH loop
/// this CPU supports (for tests and benchmarks that must reach both).
pub(crate) fn ghash_variants(b: &Backend) -> Vec<Backend> {
    let mut out = vec![*b];
    if let Ghash::Vpclmul512(t, picked) = b.ghash {
        let others = [
            Some(WideGhash::Paired),
            Gfni512::detect().map(WideGhash::Gfni),
        ];
        for wide in others.into_iter().flatten() {
            if core::mem::discriminant(&wide) != core::mem::discriminant(&picked) {
                out.push(Backend {
                    ghash: Ghash::Vpclmul512(t, wide),
                    ..*b
                });
            }
        }
    }
    out
}
