//! ARMv8 kernels (AES, PMULL, SHA2 extensions), one file per primitive, and
//! the feature checks that unlock them (same token discipline as x86).

use super::{Aes, AesLanes, Backend, Ghash, GmacPair, Sha256, ShaLanes, ShortGmac, Tier};

pub(crate) mod aes;
pub(crate) mod aes_cipher;
pub(crate) mod aes_mb;
pub(crate) mod pmull;
pub(crate) mod sha2;

macro_rules! token {
    ($(#[$doc:meta])* $name:ident: $($feature:tt),+) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub(crate) struct $name(());

        impl $name {
            /// The token, if the CPU has every feature the kernels need.
            pub(crate) fn detect() -> Option<Self> {
                (true $(&& std::arch::is_aarch64_feature_detected!($feature))+).then_some($name(()))
            }
        }
    };
}

token!(
    /// AESE/AESMC.
    ArmAes: "aes", "neon"
);
token!(
    /// PMULL/PMULL2 (64x64 polynomial multiply).
    Pmull: "pmull", "neon"
);
token!(
    /// SHA256H/SHA256H2/SHA256SU0/SHA256SU1.
    ArmSha2: "sha2", "neon"
);

/// The ARMv8 backend, if the CPU has AES and PMULL (SHA2 is taken when present).
pub(crate) fn backend(tier: Tier) -> Option<Backend> {
    if tier != Tier::Armv8 {
        return None;
    }
    let aes = ArmAes::detect()?;
    let pmull = Pmull::detect()?;
    Some(Backend {
        tier,
        aes: Aes::Armv8(aes),
        ghash: Ghash::Pmull(pmull),
        sha256: ArmSha2::detect().map_or(Sha256::Soft, Sha256::Armv8),
        short_gmac: ShortGmac::Generic,
        aes_lanes: AesLanes::Armv8x8(aes),
        sha_lanes: ShaLanes::Sha256,
        gmac_pair: GmacPair::None,
    })
}
