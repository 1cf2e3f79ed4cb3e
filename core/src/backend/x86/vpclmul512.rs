//! GHASH with VPCLMULQDQ on zmm (AVX-512): 32 blocks per reduction, four per register.
//!
//! Short tails go four blocks at a time through zmm and the last one to three
//! through xmm, all into the same unreduced sums, so any message of up to 32
//! blocks costs one reduction.

use core::arch::x86_64::*;

use super::pclmul::{bswap_mask, mul_acc, reduce};
use super::Vpclmul512;
use crate::backend::{HPowers, MAX_POWERS};

/// Key powers this kernel reads.
pub(crate) const POWERS: usize = 32;

/// Folds up to 32 blocks into `acc` with one reduction.
/// # Safety
/// VPCLMULQDQ, PCLMULQDQ, AVX-512F/BW/VL must be present; `blocks.len()` is a
/// multiple of 16, at most 512.
#[inline]
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx512f,avx512bw,avx512vl,avx2,avx")]
unsafe fn group(powers: &HPowers, acc: __m128i, blocks: &[u8]) -> __m128i {
    let n = blocks.len() / 16;
    let bswap = _mm512_broadcast_i32x4(bswap_mask());
    let h = powers.0.as_ptr().add(MAX_POWERS - n);
    let p = blocks.as_ptr();
    let (mut lo, mut mid, mut hi) = (
        _mm512_setzero_si512(),
        _mm512_setzero_si512(),
        _mm512_setzero_si512(),
    );
    let acc512 = _mm512_zextsi128_si512(acc);
    let mut j = 0;
    while j + 4 <= n {
        let mut x = _mm512_shuffle_epi8(_mm512_loadu_si512(p.add(16 * j).cast()), bswap);
        if j == 0 {
            x = _mm512_xor_si512(x, acc512);
        }
        let k = _mm512_loadu_si512(h.add(j).cast());
        lo = _mm512_xor_si512(lo, _mm512_clmulepi64_epi128(x, k, 0x00));
        hi = _mm512_xor_si512(hi, _mm512_clmulepi64_epi128(x, k, 0x11));
        // mid ^= a ^ b in one instruction (0x96 = three-way xor).
        mid = _mm512_ternarylogic_epi64(
            mid,
            _mm512_clmulepi64_epi128(x, k, 0x01),
            _mm512_clmulepi64_epi128(x, k, 0x10),
            0x96,
        );
        j += 4;
    }
    let mut t = [fold(lo), fold(mid), fold(hi)];
    let bswap128 = bswap_mask();
    while j < n {
        let mut x = _mm_shuffle_epi8(_mm_loadu_si128(p.add(16 * j).cast()), bswap128);
        if j == 0 {
            x = _mm_xor_si128(x, acc);
        }
        mul_acc(x, _mm_loadu_si128(h.add(j).cast()), &mut t);
        j += 1;
    }
    reduce(t)
}

/// Xors the four 128-bit lanes of `v`.
#[inline]
#[target_feature(enable = "avx512f,avx2,avx")]
unsafe fn fold(v: __m512i) -> __m128i {
    let y = _mm256_xor_si256(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
    _mm_xor_si128(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1))
}

/// # Safety
/// As [`group`]; `blocks.len()` must be a multiple of 16 and `powers` hold `POWERS` powers.
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx512f,avx512bw,avx512vl,avx2,avx,ssse3")]
unsafe fn ghash_vpclmul512(powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
    let mut a = _mm_loadu_si128((acc as *const u128).cast());
    for chunk in blocks.chunks(16 * POWERS) {
        a = group(powers, a, chunk);
    }
    _mm_storeu_si128((acc as *mut u128).cast(), a);
}

/// GHASH over whole 16-byte blocks.
#[inline]
pub(crate) fn ghash_blocks(_: Vpclmul512, powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
    assert!(blocks.len().is_multiple_of(16));
    // SAFETY: the Vpclmul512 token proves VPCLMULQDQ, PCLMULQDQ, AVX-512F/BW/VL and
    // AVX2 (so SSSE3); whole blocks are checked above and each group reads at most
    // POWERS powers, the number the key filled for this tier.
    unsafe { ghash_vpclmul512(powers, acc, blocks) }
}
