//! The ARMv8 selection: the [`Backend`] of the ARMv8 tier on this CPU.

use super::{ArmAes, ArmSha2, Pmull};
use crate::backend::dispatch::{
    Aes, AesLanes, Backend, Ghash, GmacPair, Sha256, ShaLanes, ShortGmac,
};
use crate::backend::tier::Tier;

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
        sha256: ArmSha2::detect().map_or(Sha256::Portable, Sha256::Armv8),
        short_gmac: ShortGmac::None,
        aes_lanes: AesLanes::Armv8x8(aes),
        sha_lanes: ShaLanes::Sha256,
        gmac_pair: GmacPair::None,
    })
}
