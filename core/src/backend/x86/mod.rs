//! x86-64 kernels, one file per tier, and the feature checks that unlock them.
//!
//! Each token below is a zero-sized proof that `is_x86_feature_detected!` found
//! every feature its kernels are compiled with. Tokens are created only here,
//! so holding one is the license to call the matching `#[target_feature]` code.

use super::{Aes, AesLanes, Backend, Ghash, GmacPair, Sha256, ShaLanes, ShortGmac, Tier};

pub(crate) mod aesni;
pub(crate) mod aesni_mb;
pub(crate) mod gmac_pair;
pub(crate) mod pclmul;
pub(crate) mod sha256_mb;
pub(crate) mod shani;
pub(crate) mod vaes512_mb;
pub(crate) mod vaes_mb;
pub(crate) mod vpclmul256;
pub(crate) mod vpclmul512;

macro_rules! token {
    ($(#[$doc:meta])* $name:ident: $($feature:tt),+) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub(crate) struct $name(());

        impl $name {
            /// The token, if the CPU has every feature the kernels need.
            pub(crate) fn detect() -> Option<Self> {
                (true $(&& std::is_x86_feature_detected!($feature))+).then_some($name(()))
            }
        }
    };
}

token!(
    /// AES-NI (`aesenc`) on xmm.
    AesNi: "aes", "sse2", "ssse3"
);
token!(
    /// PCLMULQDQ on xmm, with SSSE3 byte shuffles.
    Pclmul: "pclmulqdq", "sse2", "ssse3"
);
token!(
    /// VPCLMULQDQ on ymm under AVX2.
    Vpclmul256: "vpclmulqdq", "pclmulqdq", "avx2", "avx"
);
token!(
    /// VPCLMULQDQ on zmm under AVX-512F/BW/VL, with AVX-512 VBMI's two-register
    /// byte permutes (every CPU with VPCLMULQDQ on zmm has VBMI: Ice Lake on, Zen 4 on).
    Vpclmul512: "vpclmulqdq", "pclmulqdq", "avx512f", "avx512bw", "avx512vl", "avx512vbmi", "avx2"
);
token!(
    /// GFNI's byte-wise affine transform on zmm, with what the zmm GHASH needs
    /// (the long-message loop that reverses each byte's bits instead of the
    /// bytes: [`WideGhash::Gfni`]).
    Gfni512: "gfni", "vpclmulqdq", "pclmulqdq", "avx512f", "avx512bw", "avx512vl", "avx2"
);
token!(
    /// VAES (`vaesenc` on ymm) under AVX2.
    Vaes: "vaes", "aes", "avx2", "avx"
);
token!(
    /// VAES (`vaesenc` on zmm) under AVX-512F/BW/VL.
    Vaes512: "vaes", "aes", "avx512f", "avx512bw", "avx512vl", "avx2", "avx"
);
token!(
    /// AVX2 integer arithmetic on ymm (the 8-lane SHA-256 kernel).
    Avx2: "avx2", "avx"
);
token!(
    /// AVX-512F/BW integer arithmetic on zmm (the 16-lane SHA-256 kernel).
    Avx512: "avx512f", "avx512bw", "avx512vl", "avx2", "avx"
);
token!(
    /// The SHA extensions (`sha256rnds2`), with SSE4.1 blends.
    ShaNi: "sha", "sse2", "ssse3", "sse4.1"
);

impl Vpclmul512 {
    /// The ymm token: every feature it proves is among this token's.
    pub(crate) fn ymm(self) -> Vpclmul256 {
        Vpclmul256(())
    }

    /// The xmm token: PCLMULQDQ is among this token's, and AVX2 implies SSE2
    /// and SSSE3.
    pub(crate) fn xmm(self) -> Pclmul {
        Pclmul(())
    }
}

impl Vaes512 {
    /// The ymm VAES token: every feature it proves is among this token's.
    pub(crate) fn ymm(self) -> Vaes {
        Vaes(())
    }
}

/// How the zmm tier's GHASH multiplies long messages (whole runs of eight
/// blocks; `vpclmul512::wide_group` and `wide_group_gfni`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum WideGhash {
    /// Blocks byte-reversed and their halves paired by two VBMI permutes per
    /// eight blocks, Karatsuba products (three VPCLMULQDQ per register).
    Paired,
    /// Blocks bit-reversed byte by byte with GFNI (GHASH's own bit order, no
    /// shuffle), schoolbook products (four VPCLMULQDQ per register).
    Gfni(Gfni512),
}

/// Whether this is an Intel CPU: the CPUID vendor string "GenuineIntel".
fn intel() -> bool {
    cpuid_vendor() == (0x756e_6547, 0x4965_6e69, 0x6c65_746e)
}

/// CPUID leaf 0's vendor string as (EBX, EDX, ECX).
fn cpuid_vendor() -> (u32, u32, u32) {
    use core::arch::x86_64::{__cpuid, CpuidResult};
    // `__cpuid` is a safe function in newer Rust; the MSRV needs the block.
    #[allow(unused_unsafe)]
    // SAFETY: every x86-64 CPU has CPUID with leaf 0.
    let CpuidResult { ebx, ecx, edx, .. } = unsafe { __cpuid(0) };
    (ebx, edx, ecx)
}

/// The long-message GHASH loop for this CPU. On Intel's AVX-512 cores
/// 512-bit shuffles and VPCLMULQDQ both issue on port 5 only, so the
/// Karatsuba loop's byte permutes take multiplier slots: there the GFNI loop,
/// whose bit reversal runs on port 0, measured 9-17% faster from 64 KiB up
/// and 4-7% at 4 KiB (BENCHMARKS.md section 13). AMD's cores (Zen 4) run
/// shuffles beside the multiplier and keep the Karatsuba loop (section 10;
/// Zen 5 not measured).
fn wide_ghash() -> WideGhash {
    match Gfni512::detect() {
        Some(g) if intel() => WideGhash::Gfni(g),
        _ => WideGhash::Paired,
    }
}

/// The longest one-part message the zmm tier's GMAC gives to the xmm fused
/// kernel (partial last block by a masked load) rather than the zmm one. On
/// Zen 4 the xmm kernel measured faster up to 48 bytes and slower from 63
/// (BENCHMARKS.md section 10); on Intel's AVX-512 cores faster at every
/// length it takes (112 bytes: section 13), the zmm kernel's lane fold and
/// masked loads costing more there than the xmm kernel's seven multiplies.
fn zmm_gmac_xmm_max() -> usize {
    if intel() {
        pclmul::SHORT_MAX
    } else {
        48
    }
}

/// The longest message (one part or several) the ymm tier's GMAC gives to
/// the xmm fused kernel rather than the ymm one (docs/tuning.md).
fn ymm_gmac_xmm_max() -> usize {
    YMM_GMAC_XMM_MAX
}

/// [`ymm_gmac_xmm_max`]'s value (measured on the Intel Xeon; docs/tuning.md).
const YMM_GMAC_XMM_MAX: usize = pclmul::SHORT_MAX;

/// Whether this CPU executes 512-bit operations as two 256-bit halves: AMD
/// family 19h (Zen 4; its Zen 3 members have no AVX-512). Zen 5 server and
/// desktop parts (family 1Ah) and Intel's AVX-512 cores run most zmm integer
/// operations at full width; on Zen 5 the issue measured the 16-lane kernel
/// at twice two SHA-NI streams.
fn zmm_half_rate() -> bool {
    use core::arch::x86_64::__cpuid;
    // `__cpuid` is a safe function in newer Rust; the MSRV needs the block.
    #[allow(unused_unsafe)]
    // SAFETY: every x86-64 CPU has CPUID with leaf 1.
    let eax = unsafe { __cpuid(1).eax };
    // "AuthenticAMD" in EBX, EDX, ECX.
    let amd = cpuid_vendor() == (0x6874_7541, 0x6974_6e65, 0x444d_4163);
    let base = (eax >> 8) & 0xF;
    let family = if base == 0xF {
        base + ((eax >> 20) & 0xFF)
    } else {
        base
    };
    amd && family == 0x19
}

/// Below what mean blocks per job the zmm VAES lanes hand a batch to the ymm
/// kernel: `vaes512_mb::MIN_MEAN_BLOCKS` where zmm runs at half rate, never
/// elsewhere.
fn vaes512_ymm_below() -> usize {
    if zmm_half_rate() {
        vaes512_mb::MIN_MEAN_BLOCKS
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
    let sha256 = ShaNi::detect().map_or(Sha256::Soft, Sha256::ShaNi);
    let (aes_lanes, sha_lanes) = lane_kernels(tier, aes, sha256);
    let vaes = Vaes::detect().filter(|_| tier != Tier::AesNi);
    // Paired short-message GMAC: VAES and the ymm GHASH (whose keys hold its
    // powers), on the ymm tier only: the zmm tier's one-shot kernels measured
    // faster than the pair at every length (BENCHMARKS.md, "AVX-512 GMAC").
    let gmac_pair = match (vaes, &ghash) {
        (Some(v), Ghash::Vpclmul256(p)) => GmacPair::Vaes256(v, *p),
        _ => GmacPair::None,
    };
    Some(Backend {
        tier,
        aes: Aes::AesNi(aes),
        ghash,
        sha256,
        short_gmac: match ghash {
            Ghash::Vpclmul512(p, _) => ShortGmac::FusedZmm(aes, p, zmm_gmac_xmm_max()),
            Ghash::Vpclmul256(v) => ShortGmac::FusedYmm(aes, pclmul, v, ymm_gmac_xmm_max()),
            _ => ShortGmac::Fused(aes, pclmul),
        },
        aes_lanes,
        sha_lanes,
        gmac_pair,
    })
}

/// The multi-buffer kernels for `tier`. AES: the xmm tier keeps to xmm, the
/// ymm tier takes VAES on ymm and the zmm tier VAES on zmm, each when the
/// CPU has it; where zmm runs at half rate, `Backend::aes_lanes` hands
/// batches below the zmm kernel's threshold to the ymm one. SHA-256: the zmm
/// tier takes four SHA-NI streams in AVX-512VL registers where the CPU has
/// SHA-NI and runs zmm operations as two 256-bit halves (Zen 4: there they
/// beat the 16 zmm lanes at every length, and mixing the two buys nothing,
/// both needing the same vector pipes: BENCHMARKS.md 11.1), else the 16-lane
/// AVX-512 kernel for every pass (on Intel's AVX-512 cores it beats two
/// SHA-NI streams at every length from 64 B, the one-block outer hashes
/// included: BENCHMARKS.md section 13); the other tiers take two SHA-NI
/// streams where the CPU has SHA-NI, else the 8-lane AVX2 kernel.
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

/// `b` with each other multi-buffer kernel this CPU supports swapped in, one
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
