//! Tier selection: the portable backend, a forced tier, detection of the
//! fastest, and the variants tests and benchmarks use to reach every kernel.
//! The per-architecture files (`x86/select.rs`, `aarch64/select.rs`) assemble
//! each SIMD tier's [`Backend`].

#[cfg(target_arch = "aarch64")]
use super::aarch64;
use super::dispatch::{Aes, AesLanes, Backend, Ghash, GmacPair, Sha256, ShaLanes, ShortGmac};
use super::tier::Tier;
#[cfg(target_arch = "x86_64")]
use super::x86;
use crate::error::{Error, Result};

impl Backend {
    /// The portable constant-time tier; available everywhere.
    #[must_use]
    pub fn portable() -> Backend {
        Backend {
            tier: Tier::Portable,
            aes: Aes::Portable,
            ghash: Ghash::Portable,
            sha256: Sha256::Portable,
            short_gmac: ShortGmac::None,
            aes_lanes: AesLanes::Portable,
            sha_lanes: ShaLanes::Sha256,
            gmac_pair: GmacPair::None,
        }
    }

    /// The tier `tier` on this CPU, or [`Error::BackendUnavailable`] when the CPU
    /// (or the architecture this was compiled for) lacks its features.
    pub fn with_tier(tier: Tier) -> Result<Backend> {
        let unavailable = Error::BackendUnavailable(tier.name());
        match tier {
            Tier::Portable => Ok(Backend::portable()),
            #[cfg(target_arch = "x86_64")]
            Tier::AesNi | Tier::Avx2 | Tier::Avx512 => {
                x86::select::backend(tier).ok_or(unavailable)
            }
            #[cfg(target_arch = "aarch64")]
            Tier::Armv8 => aarch64::select::backend(tier).ok_or(unavailable),
            _ => Err(unavailable),
        }
    }

    /// The fastest tier this CPU supports.
    ///
    /// The last of [`Tier::ALL`] the CPU has: [`Tier::Avx512`] on CPUs with
    /// AVX-512F/BW/VL/VBMI and VPCLMULQDQ (Intel since Ice Lake, AMD since
    /// Zen 4), at every length: the CPUs with VPCLMULQDQ on zmm are the ones
    /// whose zmm frequency penalty is small (docs/tuning.md, "Tier order").
    /// [`Tier::reason`] says what a tier is.
    #[must_use]
    pub fn detect() -> Backend {
        Backend::available().pop().unwrap_or_else(Backend::portable)
    }

    /// Every tier this CPU supports, slowest first (always starts with the portable one).
    #[must_use]
    pub fn available() -> Vec<Backend> {
        Tier::ALL
            .iter()
            .filter_map(|&t| Backend::with_tier(t).ok())
            .collect()
    }

    /// This backend, then copies of it with each other lanes (batch)
    /// kernel this CPU supports swapped in, one at a time; for tests and
    /// benchmarks that must reach every kernel (e.g. the AVX2 SHA-256 lanes
    /// on a CPU whose tiers pick SHA-NI). Their single-message kernels and
    /// [`Backend::tier`] are this backend's.
    #[must_use]
    pub fn batch_variants(&self) -> Vec<Backend> {
        #[cfg(target_arch = "x86_64")]
        return x86::select::batch_variants(self);
        #[cfg(not(target_arch = "x86_64"))]
        vec![*self]
    }

    /// This backend, then copies of it with each other long-message GHASH
    /// loop this CPU supports swapped in (the zmm tier's VBMI-Karatsuba and
    /// GFNI loops: `x86::WideGhash`), for tests and benchmarks that must reach
    /// both where the tier picks one. [`Backend::aes_gmac_name`] tells them apart.
    #[must_use]
    pub fn ghash_variants(&self) -> Vec<Backend> {
        #[cfg(target_arch = "x86_64")]
        return x86::select::ghash_variants(self);
        #[cfg(not(target_arch = "x86_64"))]
        vec![*self]
    }
}
