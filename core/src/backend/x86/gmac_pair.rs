//! AES-GMAC of two independent short messages at once, VAES and VPCLMULQDQ
//! on ymm: message A in the low 128-bit lane, message B in the high one, each
//! under its own key. One `vaesenc ymm` chain computes both tag masks while the
//! carry-less multiplies (Karatsuba, each message by its own key's powers, as
//! [`super::vpclmul256`]) hash both messages; one reduction serves both.
//!
//! For batches of short messages, where one message alone cannot fill the
//! multiplier and the separate tag-mask AES would sit on the critical path.

// Lanes and rounds are indexed explicitly: the loops mirror the interleaving.
#![allow(clippy::needless_range_loop)]

use core::arch::x86_64::*;

use super::pclmul::bswap_mask;
use super::{Vaes, Vpclmul256};
use crate::backend::layout::{HPowers, RoundKeys, MAX_POWERS};

/// The most blocks (data, padding and length block) one message may have:
/// the lengths the pair was measured at (`Backend::gmac_pair_pays`); keys of
/// the ymm and zmm tiers hold at least this many powers.
pub(crate) const MAX_BLOCKS: usize = 16;

/// Montgomery reduction of (lo, mid, hi) in each 128-bit lane (as `pclmul::reduce`).
#[inline]
#[target_feature(enable = "vpclmulqdq,avx2,avx")]
unsafe fn reduce2(lo: __m256i, mid: __m256i, hi: __m256i) -> __m256i {
    let lo = _mm256_xor_si256(lo, _mm256_bslli_epi128(mid, 8));
    let hi = _mm256_xor_si256(hi, _mm256_bsrli_epi128(mid, 8));
    let poly = _mm256_set_epi64x(
        0xc200_0000_0000_0000_u64 as i64,
        1,
        0xc200_0000_0000_0000_u64 as i64,
        1,
    );
    let f = _mm256_clmulepi64_epi128(lo, poly, 0x10);
    let lo = _mm256_xor_si256(_mm256_shuffle_epi32(lo, 0x4e), f);
    let f = _mm256_clmulepi64_epi128(lo, poly, 0x10);
    let lo = _mm256_xor_si256(_mm256_shuffle_epi32(lo, 0x4e), f);
    _mm256_xor_si256(lo, hi)
}

/// Two 16-byte values as one ymm: `lo` in lane 0, `hi` in lane 1.
#[inline]
#[target_feature(enable = "avx2,avx")]
unsafe fn pair(lo: *const u8, hi: *const u8) -> __m256i {
    _mm256_loadu2_m128i(hi.cast(), lo.cast())
}

/// # Safety
/// VAES, AES-NI, VPCLMULQDQ, PCLMULQDQ, AVX2 and AVX must be present;
/// `a.len() == b.len()`, a multiple of 16 below `16 * MAX_BLOCKS` bytes;
/// both key powers filled for at least `MAX_BLOCKS` powers.
#[target_feature(enable = "vaes,aes,vpclmulqdq,pclmulqdq,avx2,avx")]
unsafe fn gmac_pair_impl(
    rk: [&RoundKeys; 2],
    powers: [&HPowers; 2],
    j0: [&[u8; 16]; 2],
    a: &[u8],
    b: &[u8],
    len: [u64; 2],
) -> [[u8; 16]; 2] {
    // Tag masks E_K(J0) for both messages in one chain.
    let mut mask = _mm256_xor_si256(
        pair(j0[0].as_ptr(), j0[1].as_ptr()),
        pair(rk[0][0].as_ptr(), rk[1][0].as_ptr()),
    );
    for r in 1..10 {
        mask = _mm256_aesenc_epi128(mask, pair(rk[0][r].as_ptr(), rk[1][r].as_ptr()));
    }
    mask = _mm256_aesenclast_epi128(mask, pair(rk[0][10].as_ptr(), rk[1][10].as_ptr()));

    // The data blocks, then the length block: n powers in all.
    let n = a.len() / 16 + 1;
    let bswap = _mm256_broadcastsi128_si256(bswap_mask());
    let h: [*const u8; 2] =
        core::array::from_fn(|l| powers[l].h.as_ptr().add(MAX_POWERS - n).cast());
    let k: [*const u8; 2] =
        core::array::from_fn(|l| powers[l].karatsuba.as_ptr().add(MAX_POWERS - n).cast());
    let (mut lo, mut mid, mut hi) = (
        _mm256_setzero_si256(),
        _mm256_setzero_si256(),
        _mm256_setzero_si256(),
    );
    for j in 0..n {
        let x = if j + 1 < n {
            _mm256_shuffle_epi8(pair(a.as_ptr().add(16 * j), b.as_ptr().add(16 * j)), bswap)
        } else {
            // The length block [bitlen]_64 || 0^64, already in byte-reversed form.
            _mm256_set_epi64x((len[1] * 8) as i64, 0, (len[0] * 8) as i64, 0)
        };
        let hj = pair(h[0].add(16 * j), h[1].add(16 * j));
        let kj = pair(k[0].add(16 * j), k[1].add(16 * j));
        let xk = _mm256_xor_si256(x, _mm256_shuffle_epi32(x, 0x4e));
        lo = _mm256_xor_si256(lo, _mm256_clmulepi64_epi128(x, hj, 0x00));
        hi = _mm256_xor_si256(hi, _mm256_clmulepi64_epi128(x, hj, 0x11));
        mid = _mm256_xor_si256(mid, _mm256_clmulepi64_epi128(xk, kj, 0x00));
    }
    // Karatsuba: middle = (xl^xh)(hl^hh) ^ xl*hl ^ xh*hh.
    let mid = _mm256_xor_si256(mid, _mm256_xor_si256(lo, hi));
    // tag = byte-reversed accumulator ^ mask, per lane.
    let tags = _mm256_xor_si256(_mm256_shuffle_epi8(reduce2(lo, mid, hi), bswap), mask);
    let mut out = [[0u8; 16]; 2];
    _mm256_storeu_si256(out.as_mut_ptr().cast(), tags);
    out
}

/// The GMAC tags of two messages of `len[0]` and `len[1]` bytes, each under
/// its own key (round keys, hash key powers) and pre-counter block `j0`. `a`
/// and `b` are the messages' blocks zero-padded to equal whole blocks, a
/// shorter message given leading zero blocks (which leave GHASH from zero
/// unchanged); the length blocks are formed here.
#[inline]
pub(crate) fn gmac_pair(
    _: (Vaes, Vpclmul256),
    rk: [&RoundKeys; 2],
    powers: [&HPowers; 2],
    j0: [&[u8; 16]; 2],
    a: &[u8],
    b: &[u8],
    len: [u64; 2],
) -> [[u8; 16]; 2] {
    assert!(a.len() == b.len() && a.len().is_multiple_of(16) && a.len() < 16 * MAX_BLOCKS);
    assert!(len.iter().all(|&l| l <= a.len() as u64));
    // SAFETY: the tokens prove VAES, AES-NI, VPCLMULQDQ, PCLMULQDQ, AVX2 and AVX;
    // lengths are checked above, so every load stays within `a`, `b` and the
    // `n <= MAX_BLOCKS` highest-first powers, which callers guarantee are filled
    // (keys of the ymm or zmm GHASH tier).
    unsafe { gmac_pair_impl(rk, powers, j0, a, b, len) }
}
