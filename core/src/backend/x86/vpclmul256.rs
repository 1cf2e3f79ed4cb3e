//! GHASH with VPCLMULQDQ on ymm (AVX2): 64 blocks per reduction, two per
//! register; and a fused one-pass GMAC of messages of any length in one or
//! several parts.
//!
//! The same POLYVAL-domain aggregated reduction as the xmm tier, with Karatsuba
//! products (three VPCLMULQDQ per register pair instead of four, using the
//! key's precomputed `lo ^ hi` halves): VPCLMULQDQ throughput is the bound
//! here, so a quarter fewer multiplies is a third more speed. The two lanes of
//! each accumulator are folded together before the single reduction. The
//! register the previous group's accumulator joins is multiplied last, so the
//! rest of a group does not wait for that reduction: with the accumulator
//! first, the fold-reduce chain (about 25 cycles) outlasted a 16-block
//! group's 24 cycles of multiplies and bound the loop (Intel Xeon: 24 GB/s).

use core::arch::x86_64::*;

use super::pclmul::{bswap_mask, len_terms, length_block, load_tail, reduce, tag_bits, tag_mask};
use super::pclmul::{Head, Kara};
use super::{AesNi, Vpclmul256};
use crate::backend::layout::{HPowers, RoundKeys, MAX_POWERS};

/// Key powers this kernel reads (blocks per reduction).
pub(crate) const POWERS: usize = 64;

/// The longest message the fused kernel hashes in one group (with its
/// length block) without [`lead`].
pub(crate) const ONE_GROUP_MAX: usize = 16 * POWERS;

/// Unreduced Karatsuba sums: two 128-bit lanes each (`lo = xl*hl`,
/// `hi = xh*hh`, `midk = (xl^xh)*(hl^hh)`), and a lone block's in xmm.
pub(crate) struct Sums {
    lo: __m256i,
    midk: __m256i,
    hi: __m256i,
    one: Kara,
}

impl Sums {
    #[inline]
    #[target_feature(enable = "avx")]
    pub(crate) fn zero() -> Sums {
        Sums {
            lo: _mm256_setzero_si256(),
            midk: _mm256_setzero_si256(),
            hi: _mm256_setzero_si256(),
            one: Kara::zero(),
        }
    }

    /// Adds the products of two byte-reversed blocks `x` with the powers at
    /// `h` (their Karatsuba halves at `hk`): three VPCLMULQDQ.
    /// # Safety
    /// `h` and `hk` must be readable for two 16-byte powers.
    #[inline]
    #[target_feature(enable = "vpclmulqdq,avx2,avx")]
    pub(crate) unsafe fn mul2(&mut self, x: __m256i, h: *const u128, hk: *const u128) {
        let (k, kk) = (_mm256_loadu_si256(h.cast()), _mm256_loadu_si256(hk.cast()));
        // (x.lo ^ x.hi) in the low qword of each lane.
        let xk = _mm256_xor_si256(x, _mm256_shuffle_epi32::<0x4e>(x));
        self.lo = _mm256_xor_si256(self.lo, _mm256_clmulepi64_epi128::<0x00>(x, k));
        self.hi = _mm256_xor_si256(self.hi, _mm256_clmulepi64_epi128::<0x11>(x, k));
        self.midk = _mm256_xor_si256(self.midk, _mm256_clmulepi64_epi128::<0x00>(xk, kk));
    }

    /// The (lo, mid, hi) terms `pclmul::reduce` takes, plus `more`.
    #[inline]
    #[target_feature(enable = "avx2,avx")]
    pub(crate) fn terms(&self, more: [__m128i; 3]) -> [__m128i; 3] {
        let (l, h) = (fold(self.lo), fold(self.hi));
        // Karatsuba: middle = (xl^xh)(hl^hh) ^ xl*hl ^ xh*hh, summed over the lanes.
        let m = _mm_xor_si128(fold(self.midk), _mm_xor_si128(l, h));
        self.one.terms([
            _mm_xor_si128(l, more[0]),
            _mm_xor_si128(m, more[1]),
            _mm_xor_si128(h, more[2]),
        ])
    }
}

/// Xors the two 128-bit lanes of `v`.
#[inline]
#[target_feature(enable = "avx2,avx")]
fn fold(v: __m256i) -> __m128i {
    _mm_xor_si128(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v))
}

/// Adds `blocks` (a multiple of 16 bytes) times the powers from `h` and `hk`
/// on: pairs in ymm, an odd last block in xmm.
/// # Safety
/// VPCLMULQDQ, PCLMULQDQ and AVX2 must be present; `h` and `hk` must be
/// readable for `blocks.len() / 16` 16-byte powers.
#[inline]
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx2,avx")]
unsafe fn add_blocks(s: &mut Sums, blocks: &[u8], h: *const u128, hk: *const u128) {
    let bswap = _mm256_broadcastsi128_si256(bswap_mask());
    let n = blocks.len() / 16;
    let p = blocks.as_ptr();
    let mut j = 0;
    while j + 2 <= n {
        let x = _mm256_shuffle_epi8(_mm256_loadu_si256(p.add(16 * j).cast()), bswap);
        s.mul2(x, h.add(j), hk.add(j));
        j += 2;
    }
    if j < n {
        let x = _mm_shuffle_epi8(_mm_loadu_si128(p.add(16 * j).cast()), bswap_mask());
        s.one.mul_at(x, h.add(j), hk.add(j));
    }
}

/// Folds 1 to `POWERS` blocks into `acc` with one reduction; the first
/// register, which the accumulator joins, is multiplied last.
/// # Safety
/// VPCLMULQDQ, PCLMULQDQ and AVX2 must be present; `blocks.len()` is a
/// multiple of 16, from 16 to `16 * POWERS`.
#[inline]
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx2,avx")]
unsafe fn group(powers: &HPowers, acc: __m128i, blocks: &[u8]) -> __m128i {
    let n = blocks.len() / 16;
    let h = powers.h.as_ptr().add(MAX_POWERS - n);
    let hk = powers.karatsuba.as_ptr().add(MAX_POWERS - n);
    let p = blocks.as_ptr();
    let mut s = Sums::zero();
    let k = n.min(2);
    add_blocks(&mut s, &blocks[16 * k..], h.add(k), hk.add(k));
    if k == 2 {
        let bswap = _mm256_broadcastsi128_si256(bswap_mask());
        let x = _mm256_shuffle_epi8(_mm256_loadu_si256(p.cast()), bswap);
        s.mul2(_mm256_xor_si256(x, _mm256_zextsi128_si256(acc)), h, hk);
    } else {
        let x = _mm_shuffle_epi8(_mm_loadu_si128(p.cast()), bswap_mask());
        s.one.mul_at(_mm_xor_si128(x, acc), h, hk);
    }
    reduce(s.terms([_mm_setzero_si128(); 3]))
}

/// `acc` after GHASH of `blocks` (whole blocks), groups of `POWERS`.
/// # Safety
/// As [`group`]; `powers` hold `POWERS` powers.
#[inline]
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx2,avx")]
unsafe fn hash(powers: &HPowers, mut acc: __m128i, blocks: &[u8]) -> __m128i {
    for chunk in blocks.chunks(16 * POWERS) {
        acc = group(powers, acc, chunk);
    }
    acc
}

/// # Safety
/// As [`group`]; `blocks.len()` must be a multiple of 16 and `powers` hold `POWERS` powers.
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx2,avx,ssse3")]
unsafe fn ghash_vpclmul256(powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
    let a = _mm_loadu_si128((acc as *const u128).cast());
    _mm_storeu_si128((acc as *mut u128).cast(), hash(powers, a, blocks));
}

/// GHASH over whole 16-byte blocks.
#[inline]
pub(crate) fn ghash_blocks(_: Vpclmul256, powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
    assert!(blocks.len().is_multiple_of(16));
    // SAFETY: the Vpclmul256 token proves VPCLMULQDQ, PCLMULQDQ, AVX and AVX2
    // (AVX2 implies SSSE3); whole blocks are checked above and each group reads at
    // most POWERS powers, the number the key filled for this tier (the zmm
    // tier's keys hold more).
    unsafe { ghash_vpclmul256(powers, acc, blocks) }
}

/// The accumulator after all groups but the last of a message longer than
/// one group (`a || b`, `16 * a.blocks() + b.len() > 16 * POWERS`), and the
/// rest of `b` (less than a group) for the last one. The first group takes
/// `a` and the start of `b` (one reduction, not one per part of `a`: Samba's
/// header and signature are two). In a frame of its own, so messages of one
/// group (most SMB messages) run in a shallower one: less stack to erase.
/// # Safety
/// As [`group`]; `a` whole blocks; `powers` hold `POWERS` powers.
#[inline(never)]
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx2,avx,ssse3")]
unsafe fn lead<'b>(powers: &HPowers, a: impl Head, mut b: &'b [u8]) -> (__m128i, &'b [u8]) {
    let mut acc = _mm_setzero_si128();
    if a.blocks() < POWERS {
        let first = 16 * (POWERS - a.blocks());
        let h = powers.h.as_ptr().add(MAX_POWERS - POWERS);
        let hk = powers.karatsuba.as_ptr().add(MAX_POWERS - POWERS);
        let mut s = Sums::zero();
        let mut at = 0;
        a.each(|p| {
            add_blocks(&mut s, p, h.add(at), hk.add(at));
            at += p.len() / 16;
        });
        add_blocks(&mut s, &b[..first], h.add(at), hk.add(at));
        acc = reduce(s.terms([_mm_setzero_si128(); 3]));
        b = &b[first..];
    } else {
        a.each(|p| acc = hash(powers, acc, p));
    }
    let lead = b.len() / (16 * POWERS) * (16 * POWERS);
    (hash(powers, acc, &b[..lead]), &b[lead..])
}

/// # Safety
/// AES-NI, VPCLMULQDQ, PCLMULQDQ, AVX2, SSE2 and SSSE3 must be present; `a`
/// whole blocks; `powers` hold `POWERS` powers.
#[target_feature(enable = "aes,vpclmulqdq,pclmulqdq,avx2,avx,sse2,ssse3")]
unsafe fn gmac_impl(
    rk: &RoundKeys,
    powers: &HPowers,
    nonce: &[u8; 12],
    a: impl Head,
    b: &[u8],
) -> u128 {
    // The tag mask first: ten dependent rounds the CPU overlaps with the multiplies.
    let mask = tag_mask(rk, nonce);
    let total = 16 * a.blocks() + b.len();
    // Past one group, `a` and all but the last (partial) group of `b` go
    // through the GHASH loop; the last group below takes the accumulator.
    let (acc, na, b) = if total <= 16 * POWERS {
        (None, a.blocks(), b)
    } else {
        let (acc, rest) = lead(powers, a, b);
        (Some(acc), 0, rest)
    };
    let whole = b.len() / 16 * 16;
    let data = na + b.len().div_ceil(16);
    // With room for it, the length block joins the data's reduction as the
    // last of `n` powers; else (POWERS data blocks) it follows in a second one.
    let n = if data < POWERS { data + 1 } else { data };
    let h = powers.h.as_ptr().add(MAX_POWERS - n);
    let hk = powers.karatsuba.as_ptr().add(MAX_POWERS - n);
    let mut s = Sums::zero();
    if na > 0 {
        let mut at = 0;
        a.each(|p| {
            add_blocks(&mut s, p, h.add(at), hk.add(at));
            at += p.len() / 16;
        });
    }
    add_blocks(&mut s, &b[..whole], h.add(na), hk.add(na));
    if whole < b.len() {
        // The partial last block, zero-padded, without reading past `b`.
        let x = _mm_shuffle_epi8(load_tail(b, &b[whole..]), bswap_mask());
        let at = na + whole / 16;
        s.one.mul_at(x, h.add(at), hk.add(at));
    }
    if let Some(acc) = acc {
        // The accumulator of the groups before, times this group's first power.
        s.one.mul_at(acc, h, hk);
    }
    let zero = [_mm_setzero_si128(); 3];
    let acc = if data < POWERS {
        reduce(s.terms(len_terms(total, powers)))
    } else {
        let mut u = Kara::zero();
        let x = _mm_xor_si128(reduce(s.terms(zero)), length_block(total));
        let at = MAX_POWERS - 1;
        u.mul_at(
            x,
            powers.h.as_ptr().add(at),
            powers.karatsuba.as_ptr().add(at),
        );
        reduce(u.terms(zero))
    };
    tag_bits(_mm_xor_si128(_mm_shuffle_epi8(acc, bswap_mask()), mask))
}

/// AES-128-GMAC of `a || b` (`a` whole blocks: empty, an SMB2 header, or
/// Samba's header and zeroed signature as [`Parts`](super::pclmul::Parts);
/// the tag's bytes as a little-endian `u128`) in one pass at any length: the
/// tag-mask AES overlapped with the ymm GHASH of both parts, padding and
/// length block, read straight from the caller's buffers; one reduction up
/// to 1008 bytes.
#[inline]
pub(crate) fn gmac(
    _: (AesNi, Vpclmul256),
    rk: &RoundKeys,
    powers: &HPowers,
    nonce: &[u8; 12],
    a: impl Head,
    b: &[u8],
) -> u128 {
    assert!(a.whole());
    // SAFETY: the tokens prove AES-NI (with SSE2 and SSSE3), VPCLMULQDQ,
    // PCLMULQDQ, AVX and AVX2; `a` is whole blocks (checked above) and the
    // last group holds at most POWERS data blocks, so every load stays within
    // `a`, `b` (the partial last block by `load_tail`) and the `n <= POWERS`
    // highest-first powers, which keys of the ymm and zmm tiers fill.
    unsafe { gmac_impl(rk, powers, nonce, a, b) }
}
