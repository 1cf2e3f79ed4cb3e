//! x86-64 kernels, one file per tier, and the feature checks that unlock them.
//!
//! Each token below is a zero-sized proof that `is_x86_feature_detected!` found
//! every feature its kernels are compiled with. Tokens are created only here,
//! so holding one is the license to call the matching `#[target_feature]` code.
//! This file is the bottom layer of the folder (the tokens, and
//! [`WideGhash`]); the kernels sit above it, and `select.rs`, which assembles
//! a `Backend` from them, above the dispatch.

pub(crate) mod aesni;
pub(crate) mod aesni_ccm_lanes;
pub(crate) mod aesni_cipher;
pub(crate) mod aesni_lanes;
pub(crate) mod gmac_pair;
pub(crate) mod pclmul;
pub(crate) mod select;
pub(crate) mod sha256_lanes;
pub(crate) mod shani;
pub(crate) mod vaes512_ccm_lanes;
pub(crate) mod vaes512_cipher;
pub(crate) mod vaes512_lanes;
pub(crate) mod vaes_ccm_lanes;
pub(crate) mod vaes_cipher;
pub(crate) mod vaes_lanes;
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
    /// byte permutes (every CPU with VPCLMULQDQ on zmm has VBMI: Intel since Ice
    /// Lake, AMD since Zen 4).
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
