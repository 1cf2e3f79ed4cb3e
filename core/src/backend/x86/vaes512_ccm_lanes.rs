//! AES-128/256-CCM lanes with VAES on zmm: thirty-two independent
//! messages, four per register, eight registers of CTR blocks and eight of
//! CBC-MAC chains interleaved round by round.
//!
//! As `vaes_ccm_lanes`, with each `vaesenc zmm` advancing four lanes.
//! [`CipherLaneKeys`] and [`CcmLanes`] are round- and field-major and
//! 64-byte aligned, so lanes `4q..4q + 4` are the aligned 64 bytes register
//! `q` needs.

// Lanes and rounds are indexed explicitly: the loops mirror the interleaving.
#![allow(clippy::needless_range_loop)]

use core::arch::x86_64::*;

use super::Vaes512;
use crate::backend::layout::{with_rounds, CcmLanes, CipherLaneKeys};

/// Lanes per kernel call.
pub(crate) const LANES: usize = 32;
const REGS: usize = LANES / 4;

/// The block at `16 * j` of lanes `4q..4q + 4`, one zmm register.
#[inline]
#[target_feature(enable = "vaes,aes,avx512f,avx512bw,avx512vl,avx2,avx")]
unsafe fn gather(p: &[*mut u8; LANES], q: usize, j: usize) -> __m512i {
    let at = |l: usize| p[4 * q + l].add(16 * j).cast_const().cast();
    let lo = _mm256_loadu2_m128i(at(1), at(0));
    let hi = _mm256_loadu2_m128i(at(3), at(2));
    _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1)
}

/// Stores the four blocks of `v` back to lanes `4q..4q + 4` at `16 * j`.
#[inline]
#[target_feature(enable = "vaes,aes,avx512f,avx512bw,avx512vl,avx2,avx")]
unsafe fn scatter(p: &[*mut u8; LANES], q: usize, j: usize, v: __m512i) {
    let at = |l: usize| p[4 * q + l].add(16 * j).cast();
    _mm256_storeu2_m128i(at(1), at(0), _mm512_castsi512_si256(v));
    _mm256_storeu2_m128i(at(3), at(2), _mm512_extracti64x4_epi64(v, 1));
}

/// # Safety
/// The CPU must support VAES, AES-NI and AVX-512F/BW/VL; every `p[l]` must
/// be readable and writable for `16 * m` bytes.
#[target_feature(enable = "vaes,aes,avx512f,avx512bw,avx512vl,avx2,avx")]
unsafe fn ccm_lanes_vaes512<const R: usize, const OPEN: bool>(
    keys: &CipherLaneKeys<LANES>,
    st: &mut CcmLanes<LANES>,
    p: &[*mut u8; LANES],
    m: usize,
) {
    let kp: *const __m512i = keys.0.as_ptr().cast();
    let key = |round: usize, q: usize| _mm512_load_si512(kp.add(round * REGS + q).cast());
    let bswap = _mm512_broadcast_i32x4(_mm_set_epi8(
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    ));
    let one = _mm512_broadcast_i32x4(_mm_set_epi32(0, 0, 0, 1));
    let macp: *mut __m512i = st.mac.as_mut_ptr().cast();
    let ctrp: *mut __m512i = st.ctr.as_mut_ptr().cast();
    let maskp: *const __m512i = st.mask.as_ptr().cast();
    let mut x: [__m512i; REGS] =
        core::array::from_fn(|q| _mm512_loadu_si512(macp.add(q).cast_const().cast()));
    let mut rev: [__m512i; REGS] = core::array::from_fn(|q| {
        _mm512_shuffle_epi8(_mm512_loadu_si512(ctrp.add(q).cast_const().cast()), bswap)
    });
    let mask: [__m512i; REGS] = core::array::from_fn(|q| _mm512_loadu_si512(maskp.add(q).cast()));
    for j in 0..m {
        let d: [__m512i; REGS] = core::array::from_fn(|q| gather(p, q, j));
        let mut y: [__m512i; REGS] = core::array::from_fn(|q| {
            _mm512_xor_si512(_mm512_shuffle_epi8(rev[q], bswap), key(0, q))
        });
        for q in 0..REGS {
            rev[q] = _mm512_add_epi32(rev[q], one);
        }
        if !OPEN {
            for q in 0..REGS {
                x[q] = _mm512_ternarylogic_epi32(x[q], d[q], key(0, q), 0x96);
            }
            for round in 1..R {
                for q in 0..REGS {
                    y[q] = _mm512_aesenc_epi128(y[q], key(round, q));
                    x[q] = _mm512_aesenc_epi128(x[q], key(round, q));
                }
            }
            for q in 0..REGS {
                y[q] = _mm512_aesenclast_epi128(y[q], key(R, q));
                x[q] = _mm512_aesenclast_epi128(x[q], key(R, q));
                scatter(p, q, j, _mm512_xor_si512(d[q], y[q]));
            }
        } else {
            for round in 1..R {
                for q in 0..REGS {
                    y[q] = _mm512_aesenc_epi128(y[q], key(round, q));
                }
            }
            for q in 0..REGS {
                y[q] = _mm512_aesenclast_epi128(y[q], key(R, q));
                scatter(p, q, j, _mm512_xor_si512(d[q], y[q]));
                // d ^ (y & mask), then ^ x ^ k0.
                let plain = _mm512_ternarylogic_epi32(d[q], y[q], mask[q], 0x78);
                x[q] = _mm512_ternarylogic_epi32(x[q], plain, key(0, q), 0x96);
            }
            for round in 1..R {
                for q in 0..REGS {
                    x[q] = _mm512_aesenc_epi128(x[q], key(round, q));
                }
            }
            for q in 0..REGS {
                x[q] = _mm512_aesenclast_epi128(x[q], key(R, q));
            }
        }
    }
    for q in 0..REGS {
        _mm512_storeu_si512(macp.add(q).cast(), x[q]);
        _mm512_storeu_si512(ctrp.add(q).cast(), _mm512_shuffle_epi8(rev[q], bswap));
    }
}

/// For the first `m` blocks of each lane's data (the caller advances it), with
/// `ks = E(ctr++)` under the lane's key of `rounds` (10 or 14) rounds: the
/// data becomes `data ^ ks`, and the CBC-MAC absorbs `data` (sealing) or
/// `data ^ (ks & mask)` (opening).
#[inline]
pub(crate) fn ccm_lanes(
    _: Vaes512,
    keys: &CipherLaneKeys<LANES>,
    rounds: usize,
    open: bool,
    st: &mut CcmLanes<LANES>,
    data: &mut [&mut [u8]; LANES],
    m: usize,
) {
    let p = crate::backend::layout::lane_ptrs_mut(data, 16 * m);
    // SAFETY: the Vaes512 token proves VAES, AES-NI and AVX-512F/BW/VL;
    // lane_ptrs_mut checked each lane's length, so every load and store of
    // `16 * m` bytes stays within its (exclusively borrowed) slice;
    // `CipherLaneKeys` is 64-byte aligned and round-major (aligned zmm loads).
    unsafe {
        if open {
            with_rounds!(rounds, ccm_open(keys, st, &p, m));
        } else {
            with_rounds!(rounds, ccm_seal(keys, st, &p, m));
        }
    }
}

/// # Safety
/// As [`ccm_lanes_vaes512`].
#[inline]
unsafe fn ccm_seal<const R: usize>(
    keys: &CipherLaneKeys<LANES>,
    st: &mut CcmLanes<LANES>,
    p: &[*mut u8; LANES],
    m: usize,
) {
    // SAFETY: the caller's contract, passed on.
    unsafe { ccm_lanes_vaes512::<R, false>(keys, st, p, m) }
}

/// # Safety
/// As [`ccm_lanes_vaes512`].
#[inline]
unsafe fn ccm_open<const R: usize>(
    keys: &CipherLaneKeys<LANES>,
    st: &mut CcmLanes<LANES>,
    p: &[*mut u8; LANES],
    m: usize,
) {
    // SAFETY: the caller's contract, passed on.
    unsafe { ccm_lanes_vaes512::<R, true>(keys, st, p, m) }
}
