//! x86-64 kernels, one file per tier, and the feature checks that unlock them.
//!
//! Each token below is a zero-sized proof that `is_x86_feature_detected!` found
//! every feature its kernels are compiled with. Tokens are created only here,
//! so holding one is the license to call the matching `#[target_feature]` code.

use super::{Aes, AesLanes, Backend, Ghash, GmacPair, Sha256, ShortGmac, Tier};

pub(crate) mod aesni;
pub(crate) mod aesni_mb;
pub(crate) mod gmac_pair;
pub(crate) mod pclmul;
pub(crate) mod shani;
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
    /// VPCLMULQDQ on zmm under AVX-512F/BW/VL.
    Vpclmul512: "vpclmulqdq", "pclmulqdq", "avx512f", "avx512bw", "avx512vl", "avx2"
);
token!(
    /// VAES (`vaesenc` on ymm) under AVX2.
    Vaes: "vaes", "aes", "avx2", "avx"
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

    /// The xmm token: every feature it proves is among this token's (AVX2 implies SSSE3).
    pub(crate) fn xmm(self) -> Pclmul {
        Pclmul(())
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
        Tier::Avx512 => Ghash::Vpclmul512(Vpclmul512::detect()?),
        _ => return None,
    };
    let sha256 = ShaNi::detect().map_or(Sha256::Soft, Sha256::ShaNi);
    // Multi-buffer AES: the xmm tier keeps to xmm; the wider tiers take VAES
    // on ymm when the CPU has it.
    let vaes = Vaes::detect().filter(|_| tier != Tier::AesNi);
    let aes_lanes = vaes.map_or(AesLanes::AesNi8(aes), AesLanes::Vaes16);
    // Paired short-message GMAC: VAES and the ymm GHASH (whose keys hold its powers).
    let gmac_pair = match (vaes, &ghash) {
        (Some(v), Ghash::Vpclmul256(p)) => GmacPair::Vaes256(v, *p),
        (Some(v), Ghash::Vpclmul512(p)) => GmacPair::Vaes256(v, p.ymm()),
        _ => GmacPair::None,
    };
    Some(Backend {
        tier,
        aes: Aes::AesNi(aes),
        ghash,
        sha256,
        short_gmac: match ghash {
            Ghash::Vpclmul512(p) => ShortGmac::FusedZmm(aes, p),
            _ => ShortGmac::Fused(aes, pclmul),
        },
        aes_lanes,
        gmac_pair,
    })
}
