//! GHASH with VPCLMULQDQ on zmm (AVX-512): four blocks per register, 64 per
//! reduction, Karatsuba products. The fused one-pass GMAC of messages of any
//! length in one or two parts, built on it, is [`fused`].
//!
//! VPCLMULQDQ is the bound: where it issues at one rate on xmm, ymm and zmm,
//! a zmm register's four blocks per instruction are twice the ymm kernel's
//! two; Karatsuba (the key's precomputed `lo ^ hi` halves,
//! `HPowers::karatsuba`) takes three multiplies per register instead of four,
//! and one reduction serves 64 blocks, because the lane folds and the
//! reduction cost as much as several registers' multiplies (docs/tuning.md:
//! "zmm GHASH group of 64 blocks").
//! Tails of one to three blocks go through the same zmm code with masked loads
//! (AVX-512 masks suppress faults on masked-off elements), so any message of up
//! to 64 blocks costs one reduction and no stack copy.
//!
//! Long messages (whole 4 KiB runs) take [`wide_group`]: 256 blocks per
//! reduction, and per eight blocks two VBMI permutes that byte-reverse the
//! blocks and pair their halves for Karatsuba, instead of two byte shuffles,
//! two dword shuffles and two xors (the powers in a matching layout, made at
//! key setup). Where 512-bit shuffles issue on VPCLMULQDQ's port (the rule:
//! `tuning::GFNI_WIDE_GHASH`), they take [`wide_group_gfni`] instead: GFNI reverses each byte's
//! bits on another port, which puts the blocks in GHASH's own bit order with
//! no shuffle at all, and schoolbook products need no Karatsuba operand.

use core::arch::x86_64::*;

pub(crate) mod fused;

use super::pclmul::{bswap_mask, reduce};
use super::{Gfni512, Vpclmul512, WideGhash};
use zeroize::Zeroize;

use crate::backend::layout::{Aligned64, HPowers, WidePowers, MAX_POWERS, WIDE_BLOCKS};

/// Key powers this kernel reads.
pub(crate) const POWERS: usize = 64;

/// Unreduced Karatsuba sums, four 128-bit lanes each: `lo = xl*hl`,
/// `hi = xh*hh`, `midk = (xl^xh)*(hl^hh)`.
pub(crate) struct Sums {
    lo: __m512i,
    midk: __m512i,
    hi: __m512i,
}

impl Sums {
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn zero() -> Sums {
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
    pub(crate) fn mul4(&mut self, x: __m512i, h: __m512i, hk: __m512i) {
        // (x.lo ^ x.hi) in the low qword of each lane.
        let xk = _mm512_xor_si512(x, _mm512_shuffle_epi32::<0x4e>(x));
        self.lo = _mm512_xor_si512(self.lo, _mm512_clmulepi64_epi128::<0x00>(x, h));
        self.hi = _mm512_xor_si512(self.hi, _mm512_clmulepi64_epi128::<0x11>(x, h));
        self.midk = _mm512_xor_si512(self.midk, _mm512_clmulepi64_epi128::<0x00>(xk, hk));
    }

    /// As [`Sums::mul4`] for two registers `x` and `y` at once: the three-way
    /// xor adds both products in one instruction (the vector pipes, not only
    /// VPCLMULQDQ, bound this loop: docs/tuning.md, "zmm GHASH group of 64 blocks").
    #[inline]
    #[target_feature(enable = "vpclmulqdq,avx512f")]
    pub(crate) fn mul8(&mut self, x: __m512i, y: __m512i, h: [__m512i; 2], hk: [__m512i; 2]) {
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

    /// As [`Sums::mul8`] for eight raw (not byte-reversed) blocks `a || b` and
    /// their powers in the [`wide_powers`] layout at `p`: two VBMI byte permutes
    /// both reverse the blocks and gather their low and their high halves,
    /// `[a_i.lo, b_i.lo]` and `[a_i.hi, b_i.hi]` in lane `i`, so the Karatsuba
    /// operand is one xor and no shuffle (12 vector instructions per eight
    /// blocks instead of 15).
    /// # Safety
    /// `p` must be readable for 24 qwords.
    #[inline]
    #[target_feature(enable = "vpclmulqdq,avx512f,avx512bw,avx512vbmi")]
    unsafe fn mul8_paired(&mut self, a: __m512i, b: __m512i, idx: [__m512i; 2], p: *const u64) {
        let l = _mm512_permutex2var_epi8(a, idx[0], b);
        let h = _mm512_permutex2var_epi8(a, idx[1], b);
        let k = _mm512_xor_si512(l, h);
        let (pl, ph, pk) = (
            _mm512_loadu_si512(p.cast()),
            _mm512_loadu_si512(p.add(8).cast()),
            _mm512_loadu_si512(p.add(16).cast()),
        );
        self.lo = xor3(
            self.lo,
            _mm512_clmulepi64_epi128::<0x00>(l, pl),
            _mm512_clmulepi64_epi128::<0x11>(l, pl),
        );
        self.hi = xor3(
            self.hi,
            _mm512_clmulepi64_epi128::<0x00>(h, ph),
            _mm512_clmulepi64_epi128::<0x11>(h, ph),
        );
        self.midk = xor3(
            self.midk,
            _mm512_clmulepi64_epi128::<0x00>(k, pk),
            _mm512_clmulepi64_epi128::<0x11>(k, pk),
        );
    }

    /// The lanes folded together as the (lo, mid, hi) terms `pclmul::reduce` takes.
    #[inline]
    #[target_feature(enable = "avx512f,avx2,avx")]
    pub(crate) fn fold(&self) -> [__m128i; 3] {
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
    let h = powers.h.as_ptr().add(MAX_POWERS - n);
    let hk = powers.karatsuba.as_ptr().add(MAX_POWERS - n);
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

/// VBMI permute indices: from two registers `a`, `b` of raw blocks, lane `i`
/// of the result holds `[lo, lo]` (`HALF` 8) or `[hi, hi]` (`HALF` 0) of the
/// byte-reversed blocks `a_i`, `b_i` (the reversed block's low qword is the raw
/// block's bytes 15..8).
const fn pair_index<const HALF: usize>() -> [u8; 64] {
    let mut idx = [0u8; 64];
    let mut lane = 0;
    while lane < 4 {
        let mut byte = 0;
        while byte < 8 {
            idx[16 * lane + byte] = (16 * lane + HALF + 7 - byte) as u8;
            idx[16 * lane + 8 + byte] = (64 + 16 * lane + HALF + 7 - byte) as u8;
            byte += 1;
        }
        lane += 1;
    }
    idx
}
static LO_INDEX: [u8; 64] = pair_index::<8>();
static HI_INDEX: [u8; 64] = pair_index::<0>();

/// The key's wide powers: `H^(64 + k) = H^k * H^64` (independent multiplies,
/// so key setup stays short), laid out as the `wide` loop reads them.
/// Block `b` of a wide group is multiplied by `H^(WIDE_BLOCKS - b)`.
/// [`WideGhash::Paired`]: the eight blocks `8q..8q + 8` are two registers `a`
/// (blocks `8q + i`) and `b` (blocks `8q + 4 + i`), and entry `q` holds three
/// zmm whose lane `i` is `[lo(Pa), lo(Pb)]`, `[hi(Pa), hi(Pb)]` and
/// `[lo^hi(Pa), lo^hi(Pb)]`. [`WideGhash::Gfni`]: entry `b` is the power
/// for block `b` in GHASH's own bit order ([`natural`]).
pub(crate) fn wide_powers(_: Vpclmul512, wide: WideGhash, powers: &HPowers) -> WidePowers {
    // all[k - 1] = H^k.
    let mut all = [0u128; WIDE_BLOCKS];
    for (k, a) in all.iter_mut().enumerate().take(POWERS) {
        *a = powers.h[MAX_POWERS - 1 - k];
    }
    // SAFETY: the Vpclmul512 token proves VPCLMULQDQ and AVX-512F/BW; every
    // access is within `all` (WIDE_BLOCKS - POWERS is a multiple of 4).
    unsafe { extend_powers(&mut all) };
    let power = |b: usize| all[WIDE_BLOCKS - b - 1];
    let w = match wide {
        WideGhash::Gfni(t) => WidePowers::Gfni(
            t,
            Box::new(Aligned64(core::array::from_fn(|b| natural(power(b))))),
        ),
        WideGhash::Paired => {
            let mut w = Box::new(Aligned64([[0u64; 24]; WIDE_BLOCKS / 8]));
            for (q, e) in w.0.iter_mut().enumerate() {
                for i in 0..4 {
                    for (j, p) in [power(8 * q + i), power(8 * q + 4 + i)]
                        .into_iter()
                        .enumerate()
                    {
                        let (lo, hi) = (p as u64, (p >> 64) as u64);
                        e[2 * i + j] = lo;
                        e[8 + 2 * i + j] = hi;
                        e[16 + 2 * i + j] = lo ^ hi;
                    }
                }
            }
            WidePowers::Paired(w)
        }
    };
    all.zeroize();
    w
}

/// The POLYVAL-domain power `p` of this module's keys (`H^k` in the
/// byte-reversed representation, times `x`: RFC 8452 appendix A) as `H^k` in
/// GHASH's own bit order: divided by `x` in POLYVAL's field (mod `x^128 +
/// x^127 + x^126 + x^121 + 1`), the byte-reversed block, whose bit `127 - i`
/// is the coefficient of `x^i`, so its bits reversed. Constant time: the
/// reduction is applied by mask.
fn natural(p: u128) -> u128 {
    let odd = 0u128.wrapping_sub(p & 1);
    ((p >> 1) ^ (odd & (0xE1 << 120))).reverse_bits()
}

const _: () = assert!(WIDE_BLOCKS > POWERS && (WIDE_BLOCKS - POWERS).is_multiple_of(4));

/// `all[POWERS + k] = all[k] * all[POWERS - 1]` for every `k`, four per
/// register (schoolbook products, `pclmul::reduce` per lane): key setup pays
/// about a quarter of what one xmm multiply per power costs.
/// # Safety
/// VPCLMULQDQ and AVX-512F/BW must be present.
#[target_feature(enable = "vpclmulqdq,avx512f,avx512bw")]
unsafe fn extend_powers(all: &mut [u128; WIDE_BLOCKS]) {
    let h = _mm512_broadcast_i32x4(_mm_loadu_si128((&all[POWERS - 1] as *const u128).cast()));
    let poly = _mm512_broadcast_i32x4(_mm_set_epi64x(0xc200_0000_0000_0000_u64 as i64, 1));
    let p = all.as_mut_ptr();
    for k in (0..WIDE_BLOCKS - POWERS).step_by(4) {
        // Powers k..k + 4, stored (for k >= POWERS) by an earlier iteration.
        let x = _mm512_loadu_si512(p.add(k).cast());
        let mid = _mm512_xor_si512(
            _mm512_clmulepi64_epi128::<0x01>(x, h),
            _mm512_clmulepi64_epi128::<0x10>(x, h),
        );
        let lo = _mm512_xor_si512(
            _mm512_clmulepi64_epi128::<0x00>(x, h),
            _mm512_bslli_epi128::<8>(mid),
        );
        let hi = _mm512_xor_si512(
            _mm512_clmulepi64_epi128::<0x11>(x, h),
            _mm512_bsrli_epi128::<8>(mid),
        );
        let f = _mm512_clmulepi64_epi128::<0x10>(lo, poly);
        let lo = _mm512_xor_si512(_mm512_shuffle_epi32::<0x4e>(lo), f);
        let f = _mm512_clmulepi64_epi128::<0x10>(lo, poly);
        let lo = _mm512_xor_si512(_mm512_shuffle_epi32::<0x4e>(lo), f);
        _mm512_storeu_si512(p.add(POWERS + k).cast(), _mm512_xor_si512(lo, hi));
    }
}

/// Folds `8 * w.len()` blocks at `blocks` into `acc` with one reduction, eight
/// blocks per step through [`Sums::mul8_paired`]; `w` is the tail of the key's
/// [`WidePowers::Paired`] (its last entries hold the lowest powers). The lane
/// fold and reduction cost about the same per group whatever its length, so
/// long messages gain from long groups (docs/tuning.md: "Wide GHASH group of
/// 256 blocks").
/// # Safety
/// VPCLMULQDQ, PCLMULQDQ, AVX-512F/BW/VBMI and AVX2 must be present; `w` must
/// not be empty and `blocks` must be readable for `128 * w.len()` bytes.
#[inline]
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx512f,avx512bw,avx512vbmi,avx2,avx,ssse3")]
unsafe fn wide_group(w: &[[u64; 24]], acc: __m128i, blocks: *const u8) -> __m128i {
    // An opaque copy of the powers' address: otherwise, inlined into the loop
    // over groups, the power loads are hoisted out of it and spilled to the
    // stack (a 6 KiB copy per message).
    let w = core::hint::black_box(w);
    let idx = [
        _mm512_loadu_si512(LO_INDEX.as_ptr().cast()),
        _mm512_loadu_si512(HI_INDEX.as_ptr().cast()),
    ];
    let mut s = Sums::zero();
    // As in `group`: the registers the accumulator joins go last.
    for (q, p) in w.iter().enumerate().skip(1) {
        s.mul8_paired(
            _mm512_loadu_si512(blocks.add(128 * q).cast()),
            _mm512_loadu_si512(blocks.add(128 * q + 64).cast()),
            idx,
            p.as_ptr(),
        );
    }
    // The accumulator (byte-reversed like the data) joins the raw first block.
    let first = _mm512_xor_si512(
        _mm512_loadu_si512(blocks.cast()),
        _mm512_zextsi128_si512(_mm_shuffle_epi8(acc, bswap_mask())),
    );
    s.mul8_paired(
        first,
        _mm512_loadu_si512(blocks.add(64).cast()),
        idx,
        w[0].as_ptr(),
    );
    reduce(s.fold())
}

/// GFNI's affine matrix that reverses the bits of each byte.
const BIT_REVERSE: i64 = 0x8040_2010_0804_0201_u64 as i64;

/// `x` with each byte's bits reversed: raw GHASH blocks (bit 7 of byte 0 the
/// coefficient of `x^0`) become polynomials in natural order (bit `i` of the
/// little-endian 128-bit lane the coefficient of `x^i`). An involution.
#[inline]
#[target_feature(enable = "gfni,avx512f")]
fn reverse_byte_bits(x: __m512i) -> __m512i {
    _mm512_gf2p8affine_epi64_epi8::<0>(x, _mm512_set1_epi64(BIT_REVERSE))
}

/// The byte-reversed accumulator of the other kernels in GHASH's own bit
/// order and back (an involution: the byte reversal and the bit reversal
/// of each byte commute).
#[inline]
#[target_feature(enable = "gfni,avx512f,ssse3")]
fn natural_acc(acc: __m128i) -> __m128i {
    // SAFETY: SSE2, all `bswap_mask` needs, is among this function's features.
    let bswap = unsafe { bswap_mask() };
    _mm_gf2p8affine_epi64_epi8::<0>(_mm_shuffle_epi8(acc, bswap), _mm_set1_epi64x(BIT_REVERSE))
}

/// Reduces `lo + mid x^64 + hi x^128` (natural bit order) modulo GHASH's
/// `x^128 + x^7 + x^2 + x + 1`: `x^128 = x^7 + x^2 + x + 1` (0x87), folded
/// twice, the high qword first (its product reaches past `x^128`).
#[inline]
#[target_feature(enable = "pclmulqdq,sse2")]
fn reduce_natural(t: [__m128i; 3]) -> __m128i {
    let lo = _mm_xor_si128(t[0], _mm_slli_si128::<8>(t[1]));
    let hi = _mm_xor_si128(t[2], _mm_srli_si128::<8>(t[1]));
    let r = _mm_set_epi64x(0, 0x87);
    // hi.hi x^192 = (hi.hi * 0x87) x^64: its low qword lands at x^64, its
    // (7-bit) high qword at x^128, which joins hi.lo.
    let q1 = _mm_clmulepi64_si128::<0x01>(hi, r);
    let q0 = _mm_clmulepi64_si128::<0x00>(_mm_xor_si128(hi, _mm_srli_si128::<8>(q1)), r);
    _mm_xor_si128(_mm_xor_si128(lo, _mm_slli_si128::<8>(q1)), q0)
}

/// Folds `w.len()` (a multiple of eight) blocks at `blocks` into `acc` with
/// one reduction, in GHASH's own bit order: each block's bits reversed by
/// GFNI, multiplied schoolbook by its power from `w` (four VPCLMULQDQ per
/// register and no shuffle, for cores where shuffles share VPCLMULQDQ's port:
/// docs/tuning.md, "Long-message GHASH loop");
/// `acc` in and out in the byte-reversed domain of the other kernels.
/// # Safety
/// GFNI, VPCLMULQDQ, PCLMULQDQ, AVX-512F/BW and AVX2 must be present; `w`
/// must not be empty and `blocks` must be readable for `16 * w.len()` bytes.
#[inline]
#[target_feature(enable = "gfni,vpclmulqdq,pclmulqdq,avx512f,avx512bw,avx2,avx,ssse3")]
unsafe fn wide_group_gfni(w: &[u128], acc: __m128i, blocks: *const u8) -> __m128i {
    // Opaque, as in `wide_group`: keeps the power loads in the loop.
    let w = core::hint::black_box(w);
    let h = w.as_ptr();
    let load = |j: usize| reverse_byte_bits(_mm512_loadu_si512(blocks.add(16 * j).cast()));
    let power = |j: usize| _mm512_loadu_si512(h.add(j).cast());
    let (mut lo, mut mid, mut hi) = (
        _mm512_setzero_si512(),
        _mm512_setzero_si512(),
        _mm512_setzero_si512(),
    );
    let mut mul8 = |x: __m512i, y: __m512i, j: usize| {
        let (hx, hy) = (power(j), power(j + 4));
        lo = xor3(
            lo,
            _mm512_clmulepi64_epi128::<0x00>(x, hx),
            _mm512_clmulepi64_epi128::<0x00>(y, hy),
        );
        hi = xor3(
            hi,
            _mm512_clmulepi64_epi128::<0x11>(x, hx),
            _mm512_clmulepi64_epi128::<0x11>(y, hy),
        );
        mid = xor3(
            mid,
            _mm512_clmulepi64_epi128::<0x01>(x, hx),
            _mm512_clmulepi64_epi128::<0x10>(x, hx),
        );
        mid = xor3(
            mid,
            _mm512_clmulepi64_epi128::<0x01>(y, hy),
            _mm512_clmulepi64_epi128::<0x10>(y, hy),
        );
    };
    // As in `group`: the registers the accumulator joins go last.
    for j in (8..w.len()).step_by(8) {
        mul8(load(j), load(j + 4), j);
    }
    let first = _mm512_xor_si512(load(0), _mm512_zextsi128_si512(natural_acc(acc)));
    mul8(first, load(4), 0);
    natural_acc(reduce_natural([fold(lo), fold(mid), fold(hi)]))
}

/// `acc` after GHASH of the `steps` eight-block steps at `blocks`, one
/// reduction, through the wide loop `wide` holds the powers for.
/// # Safety
/// As [`wide_group`]; `1 <= steps <= WIDE_BLOCKS / 8` and `blocks` readable
/// for `128 * steps` bytes.
#[inline]
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx512f,avx512bw,avx512vbmi,avx2,avx,ssse3")]
unsafe fn wide_steps(wide: &WidePowers, acc: __m128i, blocks: *const u8, steps: usize) -> __m128i {
    match wide {
        WidePowers::Paired(w) => wide_group(&w.0[w.0.len() - steps..], acc, blocks),
        // SAFETY: the token held with the powers proves GFNI (the rest this
        // function's caller proved); the last `8 * steps` powers, one per block.
        WidePowers::Gfni(Gfni512(..), w) => unsafe {
            wide_group_gfni(&w.0[WIDE_BLOCKS - 8 * steps..], acc, blocks)
        },
    }
}

/// `acc` after GHASH of `blocks`: up to three blocks to a cache line's start,
/// wide groups of `WIDE_BLOCKS`, then the rest's multiple of eight blocks as
/// one shorter wide group, then 64-block groups (all of it 64-block groups
/// where the key has no wide powers).
/// # Safety
/// As [`group`] and [`wide_group`]; `blocks.len()` must be a multiple of 16 and
/// `powers` hold `POWERS` powers.
#[inline]
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx512f,avx512bw,avx512vbmi,avx2,avx,ssse3")]
unsafe fn hash(powers: &HPowers, mut acc: __m128i, mut blocks: &[u8]) -> __m128i {
    if let Some(w) = powers.wide.as_ref() {
        // Where whole blocks reach the next cache line, they go first, so
        // the wide loop's zmm loads do not each split a line; from two wide
        // groups on, where that outweighs the extra reductions
        // (docs/tuning.md: "zmm GHASH alignment peel").
        let lead = blocks.as_ptr().align_offset(64);
        if blocks.len() >= 2 * 16 * WIDE_BLOCKS && lead.is_multiple_of(16) && lead > 0 {
            acc = group(powers, acc, &blocks[..lead]);
            blocks = &blocks[lead..];
        }
        let mut wide = blocks.chunks_exact(16 * WIDE_BLOCKS);
        for chunk in &mut wide {
            acc = wide_steps(w, acc, chunk.as_ptr(), WIDE_BLOCKS / 8);
        }
        blocks = wide.remainder();
        let steps = blocks.len() / 128;
        if steps > 0 {
            acc = wide_steps(w, acc, blocks.as_ptr(), steps);
            blocks = &blocks[128 * steps..];
        }
    }
    for chunk in blocks.chunks(16 * POWERS) {
        acc = group(powers, acc, chunk);
    }
    acc
}

/// # Safety
/// As [`hash`].
#[target_feature(
    enable = "vpclmulqdq,pclmulqdq,avx512f,avx512bw,avx512vl,avx512vbmi,avx2,avx,ssse3"
)]
unsafe fn ghash_vpclmul512(powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
    let a = _mm_loadu_si128((acc as *const u128).cast());
    _mm_storeu_si128((acc as *mut u128).cast(), hash(powers, a, blocks));
}

/// Calls of up to this many bytes (one ymm group) go to the ymm kernel: for a
/// few blocks (the streaming path's header, tail and length-block calls) its
/// lane fold is cheaper (docs/tuning.md: "zmm GHASH hands short calls to ymm").
const YMM_MAX: usize = 256;

/// GHASH over whole 16-byte blocks.
#[inline]
pub(crate) fn ghash_blocks(t: Vpclmul512, powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
    assert!(blocks.len().is_multiple_of(16));
    if blocks.len() <= YMM_MAX {
        // The ymm kernel reads the 16 highest powers and their Karatsuba
        // halves, which keys of this tier fill.
        return super::vpclmul256::ghash_blocks(t.ymm(), powers, acc, blocks);
    }
    // SAFETY: the Vpclmul512 token proves VPCLMULQDQ, PCLMULQDQ, AVX-512F/BW/VL/VBMI
    // and AVX2 (so SSSE3); whole blocks are checked above, each group reads at most
    // POWERS powers, the number the key filled for this tier, and each wide group
    // reads 16 * WIDE_BLOCKS bytes of `blocks` and the wide powers the key filled.
    unsafe { ghash_vpclmul512(powers, acc, blocks) }
}
