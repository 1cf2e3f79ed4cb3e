//! The portable tier: constant-time, dependency-free, and the reference every
//! SIMD kernel is tested against.

pub(crate) mod aes;
pub(crate) mod ccm_lanes;
pub(crate) mod polyval;
pub(crate) mod sha256;
