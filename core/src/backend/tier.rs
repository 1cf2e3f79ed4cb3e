//! [`Tier`]: the performance tiers, their names (as `SMBSIGN_BACKEND` takes
//! them) and what each is.

use crate::error::{Error, Result};

/// A performance tier. Each primitive takes the best kernel the tier allows and
/// the CPU supports; a tier is available only when its defining features are present.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Tier {
    /// Portable constant-time Rust: no SIMD, no table lookups.
    Portable,
    /// x86-64 AES-NI + PCLMULQDQ on xmm registers (SHA-NI too when present).
    AesNi,
    /// x86-64 VPCLMULQDQ on ymm registers (AVX2) for GHASH, AES-NI for AES.
    Avx2,
    /// x86-64 VPCLMULQDQ on zmm registers (AVX-512F/VL/BW) for GHASH.
    Avx512,
    /// ARMv8 cryptography extensions (AES, PMULL, SHA2).
    Armv8,
}

impl Tier {
    /// Every tier, slowest first: detection takes the last one this CPU has.
    pub const ALL: [Tier; 5] = [
        Tier::Portable,
        Tier::AesNi,
        Tier::Avx2,
        Tier::Avx512,
        Tier::Armv8,
    ];

    /// The name used by `SMBSIGN_BACKEND` and reported by [`crate::backend_info`].
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Tier::Portable => "portable",
            Tier::AesNi => "aesni",
            Tier::Avx2 => "avx2",
            Tier::Avx512 => "avx512",
            Tier::Armv8 => "armv8",
        }
    }

    /// What this tier is and the rule that picks it: detection takes the
    /// fastest tier whose defining features the CPU has (see [`Tier::ALL`]).
    #[must_use]
    pub fn reason(self) -> &'static str {
        match self {
            Tier::Avx512 => {
                "fastest tier present: AVX-512F/BW/VL/VBMI and VPCLMULQDQ (zmm GHASH, \
                 four blocks per instruction; AES-NI, VAES and SHA-NI where present)"
            }
            Tier::Avx2 => {
                "fastest tier present: VPCLMULQDQ and AVX2, no AVX-512 with VPCLMULQDQ \
                 (ymm GHASH)"
            }
            Tier::AesNi => {
                "fastest tier present: AES-NI and PCLMULQDQ, no VPCLMULQDQ (xmm kernels)"
            }
            Tier::Armv8 => "fastest tier present: ARMv8 AES, PMULL and SHA2",
            Tier::Portable => {
                "no supported SIMD crypto extensions: the portable constant-time tier"
            }
        }
    }

    /// Parses a tier name (`portable`, `aesni`, `avx2`, `avx512`, `armv8`; the
    /// older spellings `soft` and `neon` are still accepted).
    pub fn from_name(name: &str) -> Result<Tier> {
        match name.trim().to_ascii_lowercase().as_str() {
            "portable" | "soft" => Ok(Tier::Portable),
            "aesni" => Ok(Tier::AesNi),
            "avx2" => Ok(Tier::Avx2),
            "avx512" => Ok(Tier::Avx512),
            "armv8" | "neon" => Ok(Tier::Armv8),
            _ => Err(Error::UnknownBackend),
        }
    }
}
