//! GHASH with VPCLMULQDQ on zmm (AVX-512): four blocks per register, 64 per
//! reduction, Karatsuba products; and a fused one-pass GMAC of messages of
//! any length in one or two parts.
//!
//! VPCLMULQDQ is the bound. On AMD Zen 4 it issues one per two cycles on xmm,
//! ymm and zmm alike (BENCHMARKS.md, "AVX-512 GMAC"), so a zmm register's four
//! blocks per instruction are twice the ymm kernel's two; Karatsuba (the key's
//! precomputed `lo ^ hi` halves, [`HPowers`]`.1`) takes three multiplies per
//! register instead of four, and one reduction serves 64 blocks: measured on
//! Zen 4, the lane folds and the reduction cost as much per 32 blocks as the
//! multiplies of six registers (the FP pipes, not VPCLMULQDQ alone, are the
//! bound), so the longer group is 10% faster on long messages.
//! Tails of one to three blocks go through the same zmm code with masked loads
//! (AVX-512 masks suppress faults on masked-off elements), so any message of up
//! to 64 blocks costs one reduction and no stack copy.

use core::arch::x86_64::*;

use super::pclmul::{bswap_mask, gmac_short_tail, mul_acc, reduce, tag_bits, tag_mask, SHORT_MAX};
use super::{AesNi, Vpclmul512};
use crate::backend::{HPowers, RoundKeys, MAX_POWERS};

/// Key powers this kernel reads.
pub(crate) const POWERS: usize = 64;

/// Unreduced Karatsuba sums, four 128-bit lanes each: `lo = xl*hl`,
/// `hi = xh*hh`, `midk = (xl^xh)*(hl^hh)`.
struct Sums {
    lo: __m512i,
    midk: __m512i,
    hi: __m512i,
}

impl Sums {
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn zero() -> Sums {
        Sums {
            lo: _mm512_setzero_si512(),
            midk: _mm512_setzero_si512(),
            hi: _mm512_setzero_si512(),
        }
    }

    /// Adds the products of four byte-reversed blocks `x` with the powers `h`
    /// (and their Karatsuba halves `hk`): three VPCLMULQDQ.
    #[inline]
    #[target_feature(enable = "vpclmulqdq,avx512f")]
    fn mul4(&mut self, x: __m512i, h: __m512i, hk: __m512i) {
        // (x.lo ^ x.hi) in the low qword of each lane.
        let xk = _mm512_xor_si512(x, _mm512_shuffle_epi32::<0x4e>(x));
        self.lo = _mm512_xor_si512(self.lo, _mm512_clmulepi64_epi128::<0x00>(x, h));
        self.hi = _mm512_xor_si512(self.hi, _mm512_clmulepi64_epi128::<0x11>(x, h));
        self.midk = _mm512_xor_si512(self.midk, _mm512_clmulepi64_epi128::<0x00>(xk, hk));
    }

    /// As [`Sums::mul4`] for two registers `x` and `y` at once: the three-way
    /// xor adds both products in one instruction (measured on Zen 4: the FP
    /// pipes, not only VPCLMULQDQ, bound this loop).
    #[inline]
    #[target_feature(enable = "vpclmulqdq,avx512f")]
    fn mul8(&mut self, x: __m512i, y: __m512i, h: [__m512i; 2], hk: [__m512i; 2]) {
        let xk = _mm512_xor_si512(x, _mm512_shuffle_epi32::<0x4e>(x));
        let yk = _mm512_xor_si512(y, _mm512_shuffle_epi32::<0x4e>(y));
        self.lo = xor3(
            self.lo,
            _mm512_clmulepi64_epi128::<0x00>(x, h[0]),
            _mm512_clmulepi64_epi128::<0x00>(y, h[1]),
        );
        self.hi = xor3(
            self.hi,
            _mm512_clmulepi64_epi128::<0x11>(x, h[0]),
            _mm512_clmulepi64_epi128::<0x11>(y, h[1]),
        );
        self.midk = xor3(
            self.midk,
            _mm512_clmulepi64_epi128::<0x00>(xk, hk[0]),
            _mm512_clmulepi64_epi128::<0x00>(yk, hk[1]),
        );
    }

    /// The lanes folded together as the (lo, mid, hi) terms `pclmul::reduce` takes.
    #[inline]
    #[target_feature(enable = "avx512f,avx2,avx")]
    fn fold(&self) -> [__m128i; 3] {
        let (l, h) = (fold(self.lo), fold(self.hi));
        // Karatsuba: middle = (xl^xh)(hl^hh) ^ xl*hl ^ xh*hh, summed over the lanes.
        [l, _mm_xor_si128(fold(self.midk), _mm_xor_si128(l, h)), h]
    }
}

/// `a ^ b ^ c` in one instruction.
#[inline]
#[target_feature(enable = "avx512f")]
fn xor3(a: __m512i, b: __m512i, c: __m512i) -> __m512i {
    _mm512_ternarylogic_epi64::<0x96>(a, b, c)
}

/// Xors the four 128-bit lanes of `v`.
#[inline]
#[target_feature(enable = "avx512f,avx2,avx")]
fn fold(v: __m512i) -> __m128i {
    let y = _mm256_xor_si256(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64::<1>(v));
    _mm_xor_si128(_mm256_castsi256_si128(y), _mm256_extracti128_si256::<1>(y))
}

/// The qword mask selecting the first `blocks` (0..=4) 128-bit lanes.
#[inline]
fn lanes(blocks: usize) -> __mmask8 {
    ((1u32 << (2 * blocks)) - 1) as __mmask8
}

/// Adds `blocks` (a multiple of 16 bytes) times the powers from `h` and `hk`
/// on, four blocks per register and the last one to three through masked loads.
/// # Safety
/// VPCLMULQDQ, AVX-512F/BW and AVX2 must be present; `h` and `hk` must be
/// readable for `blocks.len() / 16` 16-byte powers.
#[inline]
#[target_feature(enable = "vpclmulqdq,avx512f,avx512bw,avx2,avx")]
unsafe fn add_blocks(s: &mut Sums, blocks: &[u8], h: *const u128, hk: *const u128) {
    let bswap = _mm512_broadcast_i32x4(bswap_mask());
    let n = blocks.len() / 16;
    let p = blocks.as_ptr();
    let mut j = 0;
    while j + 8 <= n {
        s.mul8(
            _mm512_shuffle_epi8(_mm512_loadu_si512(p.add(16 * j).cast()), bswap),
            _mm512_shuffle_epi8(_mm512_loadu_si512(p.add(16 * j + 64).cast()), bswap),
            [
                _mm512_loadu_si512(h.add(j).cast()),
                _mm512_loadu_si512(h.add(j + 4).cast()),
            ],
            [
                _mm512_loadu_si512(hk.add(j).cast()),
                _mm512_loadu_si512(hk.add(j + 4).cast()),
            ],
        );
        j += 8;
    }
    if j + 4 <= n {
        let x = _mm512_shuffle_epi8(_mm512_loadu_si512(p.add(16 * j).cast()), bswap);
        s.mul4(
            x,
            _mm512_loadu_si512(h.add(j).cast()),
            _mm512_loadu_si512(hk.add(j).cast()),
        );
        j += 4;
    }
    if j < n {
        let m = lanes(n - j);
        let x = _mm512_maskz_loadu_epi64(m, p.add(16 * j).cast());
        s.mul4(
            _mm512_shuffle_epi8(x, bswap),
            _mm512_maskz_loadu_epi64(m, h.add(j).cast()),
            _mm512_maskz_loadu_epi64(m, hk.add(j).cast()),
        );
    }
}

/// Folds up to 64 blocks into `acc` with one reduction.
/// # Safety
/// VPCLMULQDQ, PCLMULQDQ, AVX-512F/BW and AVX2 must be present;
/// `blocks.len()` is a multiple of 16, at most `16 * POWERS`.
#[inline]
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx512f,avx512bw,avx2,avx")]
unsafe fn group(powers: &HPowers, acc: __m128i, blocks: &[u8]) -> __m128i {
    let n = blocks.len() / 16;
    let mut s = Sums::zero();
    let h = powers.0.as_ptr().add(MAX_POWERS - n);
    let hk = powers.1.as_ptr().add(MAX_POWERS - n);
    // The first register, which the accumulator joins ((acc ^ X1) H^n + X2
    // H^(n-1) + ...), is added last: the rest does not wait for the previous
    // group's reduction, so groups overlap and only this register's multiply,
    // the fold and the reduction are on the critical path.
    let k = n.min(4);
    add_blocks(&mut s, &blocks[16 * k..], h.add(k), hk.add(k));
    let m = lanes(k);
    let x = _mm512_shuffle_epi8(
        _mm512_maskz_loadu_epi64(m, blocks.as_ptr().cast()),
        _mm512_broadcast_i32x4(bswap_mask()),
    );
    s.mul4(
        _mm512_xor_si512(x, _mm512_zextsi128_si512(acc)),
        _mm512_maskz_loadu_epi64(m, h.cast()),
        _mm512_maskz_loadu_epi64(m, hk.cast()),
    );
    reduce(s.fold())
}

/// `acc` after GHASH of `blocks`, a group at a time.
/// # Safety
/// As [`group`]; `blocks.len()` must be a multiple of 16 and `powers` hold `POWERS` powers.
#[inline]
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx512f,avx512bw,avx2,avx")]
unsafe fn hash(powers: &HPowers, mut acc: __m128i, blocks: &[u8]) -> __m128i {
    for chunk in blocks.chunks(16 * POWERS) {
        acc = group(powers, acc, chunk);
    }
    acc
}

/// # Safety
/// As [`hash`].
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx512f,avx512bw,avx512vl,avx2,avx,ssse3")]
unsafe fn ghash_vpclmul512(powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
    let a = _mm_loadu_si128((acc as *const u128).cast());
    _mm_storeu_si128((acc as *mut u128).cast(), hash(powers, a, blocks));
}

/// Calls of up to this many bytes (one ymm group) go to the ymm kernel: for a
/// few blocks (the streaming path's header, tail and length-block calls) its
/// cheaper lane fold measured faster (BENCHMARKS.md, "AVX-512 GMAC").
const YMM_MAX: usize = 16 * super::vpclmul256::POWERS;

/// GHASH over whole 16-byte blocks.
#[inline]
pub(crate) fn ghash_blocks(t: Vpclmul512, powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
    assert!(blocks.len().is_multiple_of(16));
    if blocks.len() <= YMM_MAX {
        // The ymm kernel reads the 16 highest powers and their Karatsuba
        // halves, which keys of this tier fill.
        return super::vpclmul256::ghash_blocks(t.ymm(), powers, acc, blocks);
    }
    // SAFETY: the Vpclmul512 token proves VPCLMULQDQ, PCLMULQDQ, AVX-512F/BW/VL and
    // AVX2 (so SSSE3); whole blocks are checked above and each group reads at most
    // POWERS powers, the number the key filled for this tier.
    unsafe { ghash_vpclmul512(powers, acc, blocks) }
}

/// # Safety
/// AES-NI, VPCLMULQDQ, PCLMULQDQ, AVX-512F/BW and AVX2 must be present;
/// `a.len()` is a multiple of 16; `powers` hold `POWERS` powers.
#[target_feature(enable = "aes,vpclmulqdq,pclmulqdq,avx512f,avx512bw,avx512vl,avx2,avx,ssse3")]
unsafe fn gmac_impl(
    rk: &RoundKeys,
    powers: &HPowers,
    nonce: &[u8; 12],
    a: &[u8],
    b: &[u8],
) -> u128 {
    // The tag mask first: ten dependent rounds the CPU overlaps with the multiplies.
    let mask = tag_mask(rk, nonce);
    let total = a.len() + b.len();
    // Past one group, `a` and all but the last (partial) group of `b` go
    // through the GHASH loop; the last group below takes the accumulator.
    let (mut acc, a, b) = if total <= 16 * POWERS {
        (_mm_setzero_si128(), a, b)
    } else {
        let lead = b.len() / (16 * POWERS) * (16 * POWERS);
        let acc = hash(powers, hash(powers, _mm_setzero_si128(), a), &b[..lead]);
        (acc, &[][..], &b[lead..])
    };
    let (na, nb) = (a.len() / 16, b.len().div_ceil(16));
    let data = na + nb;
    // With room for it, the length block joins the data's reduction as the
    // last of `n` powers; else (64 data blocks) it follows in a second one.
    let n = if data < POWERS { data + 1 } else { data };
    let h = powers.0.as_ptr().add(MAX_POWERS - n);
    let hk = powers.1.as_ptr().add(MAX_POWERS - n);
    let mut s = Sums::zero();
    add_blocks(&mut s, a, h, hk);
    // `b`: whole registers, then the rest (a partial block zero-padded) masked by byte.
    let whole = b.len() / 64 * 64;
    add_blocks(&mut s, &b[..whole], h.add(na), hk.add(na));
    let rest = b.len() - whole;
    if rest > 0 {
        let m = lanes(rest.div_ceil(16));
        let x = _mm512_maskz_loadu_epi8((1u64 << rest).wrapping_sub(1), b[whole..].as_ptr().cast());
        let at = na + whole / 16;
        s.mul4(
            _mm512_shuffle_epi8(x, _mm512_broadcast_i32x4(bswap_mask())),
            _mm512_maskz_loadu_epi64(m, h.add(at).cast()),
            _mm512_maskz_loadu_epi64(m, hk.add(at).cast()),
        );
    }
    let mut t = s.fold();
    if total > 16 * POWERS {
        // The accumulator of the groups before, times this group's first power.
        mul_acc(acc, _mm_loadu_si128(h.cast()), &mut t);
    }
    // [bitlen]_64 || 0^64 read big-endian is bitlen in the high qword (low one zero).
    let len = _mm_set_epi64x((total as u64 * 8) as i64, 0);
    let h1 = _mm_loadu_si128(powers.0.as_ptr().add(MAX_POWERS - 1).cast());
    acc = if data < POWERS {
        // len * H: the high qword's two products.
        t[2] = _mm_xor_si128(t[2], _mm_clmulepi64_si128::<0x11>(len, h1));
        t[1] = _mm_xor_si128(t[1], _mm_clmulepi64_si128::<0x01>(len, h1));
        reduce(t)
    } else {
        let mut u = [_mm_setzero_si128(); 3];
        mul_acc(_mm_xor_si128(reduce(t), len), h1, &mut u);
        reduce(u)
    };
    tag_bits(_mm_xor_si128(_mm_shuffle_epi8(acc, bswap_mask()), mask))
}

/// AES-128-GMAC of `a || b` (`a` whole blocks: empty or an SMB2 header;
/// the tag's bytes as a little-endian `u128`) in one pass: the tag-mask AES overlapped with the zmm GHASH of both parts,
/// padding and length block, read straight from the caller's buffers; one
/// reduction up to 1008 bytes.
#[inline]
pub(crate) fn gmac(
    _: (AesNi, Vpclmul512),
    rk: &RoundKeys,
    powers: &HPowers,
    nonce: &[u8; 12],
    a: &[u8],
    b: &[u8],
) -> u128 {
    assert!(a.len().is_multiple_of(16));
    // SAFETY: the tokens prove AES-NI, VPCLMULQDQ, PCLMULQDQ, AVX-512F/BW/VL and
    // AVX2 (so SSSE3); `a` is whole blocks (checked above) and the last group
    // holds at most POWERS data blocks, so every (masked) load stays within
    // `a`, `b` and the `n <= POWERS` highest-first powers, which keys of this
    // tier fill.
    unsafe { gmac_impl(rk, powers, nonce, a, b) }
}

/// # Safety
/// AES-NI, PCLMULQDQ, SSSE3 and AVX-512BW/VL must be present;
/// `msg.len() <= SHORT_MAX`; `powers` hold `POWERS` powers.
#[target_feature(enable = "aes,pclmulqdq,sse2,ssse3,avx512f,avx512bw,avx512vl,avx2,avx")]
unsafe fn gmac_short_impl(rk: &RoundKeys, powers: &HPowers, nonce: &[u8; 12], msg: &[u8]) -> u128 {
    // The partial last block (1 to 15 bytes) by a byte-masked load:
    // masked-off bytes are neither read nor able to fault, so no copy and no
    // read past `msg`.
    gmac_short_tail(rk, powers, nonce, msg, |tail| {
        _mm_maskz_loadu_epi8(
            ((1u32 << tail.len()) - 1) as __mmask16,
            tail.as_ptr().cast(),
        )
    })
}

/// The xmm fused short-message GMAC (`pclmul::gmac_short`) with the partial
/// last block read by a masked load instead of a stack copy, so a message
/// with a partial last block costs what a whole-block one does.
#[inline]
pub(crate) fn gmac_short(
    _: (AesNi, Vpclmul512),
    rk: &RoundKeys,
    powers: &HPowers,
    nonce: &[u8; 12],
    msg: &[u8],
) -> u128 {
    assert!(msg.len() <= SHORT_MAX);
    // SAFETY: the tokens prove AES-NI, PCLMULQDQ, AVX-512F/BW/VL and AVX2 (so
    // SSSE3); the length is checked above, so the whole-block loads and the
    // masked tail load (`msg.len() % 16` bytes from the last whole block's
    // end) stay within `msg`; keys of this tier hold POWERS >= pclmul::POWERS powers.
    unsafe { gmac_short_impl(rk, powers, nonce, msg) }
}
