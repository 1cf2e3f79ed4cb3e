//! ARMv8 kernels (AES, PMULL, SHA2 extensions), one file per primitive, and
//! the feature checks that unlock them (same token discipline as x86). This
//! file is the folder's bottom layer (the tokens); `select.rs` assembles the
//! `Backend`, above the dispatch.

pub(crate) mod aes;
pub(crate) mod aes_ccm_lanes;
pub(crate) mod aes_cipher;
pub(crate) mod aes_lanes;
pub(crate) mod pmull;
pub(crate) mod select;
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
