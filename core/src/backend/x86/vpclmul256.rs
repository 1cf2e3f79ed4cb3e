//! GHASH with VPCLMULQDQ on ymm (AVX2): 16 blocks per reduction, two per register.
//!
//! The same POLYVAL-domain aggregated reduction as the xmm tier, with Karatsuba
//! products (three VPCLMULQDQ per register pair instead of four, using the
//! key's precomputed `lo ^ hi` halves): VPCLMULQDQ throughput is the bound
//! here, so a quarter fewer multiplies is a third more speed. The two lanes of
//! each accumulator are folded together before the single reduction.

use core::arch::x86_64::*;

use super::pclmul::{bswap_mask, mul_acc, reduce};
use super::Vpclmul256;
use crate::backend::layout::{HPowers, MAX_POWERS};

/// Key powers this kernel reads.
pub(crate) const POWERS: usize = 16;

/// Folds up to 16 blocks into `acc` with one reduction: pairs in ymm, an odd last block in xmm.
/// # Safety
/// VPCLMULQDQ, PCLMULQDQ and AVX2 must be present; `blocks.len()` is a multiple of 16, at most 256.
#[inline]
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx2,avx")]
unsafe fn group(powers: &HPowers, acc: __m128i, blocks: &[u8]) -> __m128i {
    let n = blocks.len() / 16;
    let bswap = _mm256_broadcastsi128_si256(bswap_mask());
    let h = powers.h.as_ptr().add(MAX_POWERS - n);
    let hk = powers.karatsuba.as_ptr().add(MAX_POWERS - n);
    let p = blocks.as_ptr();
    let (mut lo, mut midk, mut hi) = (
        _mm256_setzero_si256(),
        _mm256_setzero_si256(),
        _mm256_setzero_si256(),
    );
    let acc256 = _mm256_zextsi128_si256(acc);
    let mut j = 0;
    while j + 2 <= n {
        let mut x = _mm256_shuffle_epi8(_mm256_loadu_si256(p.add(16 * j).cast()), bswap);
        if j == 0 {
            x = _mm256_xor_si256(x, acc256);
        }
        let k = _mm256_loadu_si256(h.add(j).cast());
        let kk = _mm256_loadu_si256(hk.add(j).cast());
        // (x.lo ^ x.hi) in the low qword of each lane.
        let xk = _mm256_xor_si256(x, _mm256_shuffle_epi32(x, 0x4e));
        lo = _mm256_xor_si256(lo, _mm256_clmulepi64_epi128(x, k, 0x00));
        hi = _mm256_xor_si256(hi, _mm256_clmulepi64_epi128(x, k, 0x11));
        midk = _mm256_xor_si256(midk, _mm256_clmulepi64_epi128(xk, kk, 0x00));
        j += 2;
    }
    let (l, h2) = (fold(lo), fold(hi));
    // Karatsuba: middle = (xl^xh)(hl^hh) ^ xl*hl ^ xh*hh, summed over the group.
    let mut t = [l, _mm_xor_si128(fold(midk), _mm_xor_si128(l, h2)), h2];
    if j < n {
        let mut x = _mm_shuffle_epi8(_mm_loadu_si128(p.add(16 * j).cast()), bswap_mask());
        if j == 0 {
            x = _mm_xor_si128(x, acc);
        }
        mul_acc(x, _mm_loadu_si128(h.add(j).cast()), &mut t);
    }
    reduce(t)
}

/// Xors the two 128-bit lanes of `v`.
#[inline]
#[target_feature(enable = "avx2,avx")]
unsafe fn fold(v: __m256i) -> __m128i {
    _mm_xor_si128(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1))
}

/// # Safety
/// As [`group`]; `blocks.len()` must be a multiple of 16 and `powers` hold `POWERS` powers.
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx2,avx,ssse3")]
unsafe fn ghash_vpclmul256(powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
    let mut a = _mm_loadu_si128((acc as *const u128).cast());
    for chunk in blocks.chunks(16 * POWERS) {
        a = group(powers, a, chunk);
    }
    _mm_storeu_si128((acc as *mut u128).cast(), a);
}

/// GHASH over whole 16-byte blocks.
#[inline]
pub(crate) fn ghash_blocks(_: Vpclmul256, powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
    assert!(blocks.len().is_multiple_of(16));
    // SAFETY: the Vpclmul256 token proves VPCLMULQDQ, PCLMULQDQ, AVX and AVX2
    // (AVX2 implies SSSE3); whole blocks are checked above and each group reads at
    // most POWERS powers, the number the key filled for this tier.
    unsafe { ghash_vpclmul256(powers, acc, blocks) }
}
