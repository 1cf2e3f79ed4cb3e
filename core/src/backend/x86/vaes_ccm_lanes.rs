//! AES-128/256-CCM lanes with VAES on ymm: sixteen independent messages,
//! two per register, eight registers of CTR blocks and eight of CBC-MAC
//! chains interleaved round by round.
//!
//! As `aesni_ccm_lanes`, with each `vaesenc ymm` advancing two lanes.
//! [`CipherLaneKeys`] and [`CcmLanes`] are round- and field-major, so lanes
//! `2q` and `2q + 1` are the 32 contiguous bytes register `q` needs.

// Lanes and rounds are indexed explicitly: the loops mirror the interleaving.
#![allow(clippy::needless_range_loop)]

use core::arch::x86_64::*;

use super::Vaes;
use crate::backend::layout::{with_rounds, CcmLanes, CipherLaneKeys};

/// Lanes per kernel call.
pub(crate) const LANES: usize = 16;
const REGS: usize = LANES / 2;

/// # Safety
/// The CPU must support VAES, AES-NI and AVX2; every `p[l]` must be
/// readable and writable for `16 * m` bytes.
#[target_feature(enable = "vaes,aes,avx2,avx")]
unsafe fn ccm_lanes_vaes<const R: usize, const OPEN: bool>(
    keys: &CipherLaneKeys<LANES>,
    st: &mut CcmLanes<LANES>,
    p: &[*mut u8; LANES],
    m: usize,
) {
    let kp: *const __m256i = keys.0.as_ptr().cast();
    let key = |round: usize, q: usize| _mm256_load_si256(kp.add(round * REGS + q));
    let bswap = _mm256_broadcastsi128_si256(_mm_set_epi8(
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    ));
    let one = _mm256_set_epi32(0, 0, 0, 1, 0, 0, 0, 1);
    let macp: *mut __m256i = st.mac.as_mut_ptr().cast();
    let ctrp: *mut __m256i = st.ctr.as_mut_ptr().cast();
    let maskp: *const __m256i = st.mask.as_ptr().cast();
    let mut x: [__m256i; REGS] = core::array::from_fn(|q| _mm256_loadu_si256(macp.add(q)));
    let mut rev: [__m256i; REGS] =
        core::array::from_fn(|q| _mm256_shuffle_epi8(_mm256_loadu_si256(ctrp.add(q)), bswap));
    let mask: [__m256i; REGS] = core::array::from_fn(|q| _mm256_loadu_si256(maskp.add(q)));
    for j in 0..m {
        let at = |l: usize| p[l].add(16 * j);
        let d: [__m256i; REGS] = core::array::from_fn(|q| {
            _mm256_loadu2_m128i(
                at(2 * q + 1).cast_const().cast(),
                at(2 * q).cast_const().cast(),
            )
        });
        let mut y: [__m256i; REGS] = core::array::from_fn(|q| {
            _mm256_xor_si256(_mm256_shuffle_epi8(rev[q], bswap), key(0, q))
        });
        for q in 0..REGS {
            rev[q] = _mm256_add_epi32(rev[q], one);
        }
        if !OPEN {
            for q in 0..REGS {
                x[q] = _mm256_xor_si256(x[q], _mm256_xor_si256(d[q], key(0, q)));
            }
            for round in 1..R {
                for q in 0..REGS {
                    y[q] = _mm256_aesenc_epi128(y[q], key(round, q));
                    x[q] = _mm256_aesenc_epi128(x[q], key(round, q));
                }
            }
            for q in 0..REGS {
                y[q] = _mm256_aesenclast_epi128(y[q], key(R, q));
                x[q] = _mm256_aesenclast_epi128(x[q], key(R, q));
                let out = _mm256_xor_si256(d[q], y[q]);
                _mm256_storeu2_m128i(at(2 * q + 1).cast(), at(2 * q).cast(), out);
            }
        } else {
            for round in 1..R {
                for q in 0..REGS {
                    y[q] = _mm256_aesenc_epi128(y[q], key(round, q));
                }
            }
            for q in 0..REGS {
                y[q] = _mm256_aesenclast_epi128(y[q], key(R, q));
                let out = _mm256_xor_si256(d[q], y[q]);
                _mm256_storeu2_m128i(at(2 * q + 1).cast(), at(2 * q).cast(), out);
                let plain = _mm256_xor_si256(d[q], _mm256_and_si256(y[q], mask[q]));
                x[q] = _mm256_xor_si256(x[q], _mm256_xor_si256(plain, key(0, q)));
            }
            for round in 1..R {
                for q in 0..REGS {
                    x[q] = _mm256_aesenc_epi128(x[q], key(round, q));
                }
            }
            for q in 0..REGS {
                x[q] = _mm256_aesenclast_epi128(x[q], key(R, q));
            }
        }
    }
    for q in 0..REGS {
        _mm256_storeu_si256(macp.add(q), x[q]);
        _mm256_storeu_si256(ctrp.add(q), _mm256_shuffle_epi8(rev[q], bswap));
    }
}

/// For the first `m` blocks of each lane's data (the caller advances it), with
/// `ks = E(ctr++)` under the lane's key of `rounds` (10 or 14) rounds: the
/// data becomes `data ^ ks`, and the CBC-MAC absorbs `data` (sealing) or
/// `data ^ (ks & mask)` (opening).
#[inline]
pub(crate) fn ccm_lanes(
    _: Vaes,
    keys: &CipherLaneKeys<LANES>,
    rounds: usize,
    open: bool,
    st: &mut CcmLanes<LANES>,
    data: &mut [&mut [u8]; LANES],
    m: usize,
) {
    let p = crate::backend::layout::lane_ptrs_mut(data, 16 * m);
    // SAFETY: the Vaes token proves VAES, AES-NI and AVX2; lane_ptrs_mut
    // checked each lane's length, so every load and store of `16 * m` bytes
    // stays within its (exclusively borrowed) slice; `CipherLaneKeys` is
    // 64-byte aligned and round-major (aligned ymm loads).
    unsafe {
        if open {
            with_rounds!(rounds, ccm_open(keys, st, &p, m));
        } else {
            with_rounds!(rounds, ccm_seal(keys, st, &p, m));
        }
    }
}

/// # Safety
/// As [`ccm_lanes_vaes`].
#[inline]
unsafe fn ccm_seal<const R: usize>(
    keys: &CipherLaneKeys<LANES>,
    st: &mut CcmLanes<LANES>,
    p: &[*mut u8; LANES],
    m: usize,
) {
    // SAFETY: the caller's contract, passed on.
    unsafe { ccm_lanes_vaes::<R, false>(keys, st, p, m) }
}

/// # Safety
/// As [`ccm_lanes_vaes`].
#[inline]
unsafe fn ccm_open<const R: usize>(
    keys: &CipherLaneKeys<LANES>,
    st: &mut CcmLanes<LANES>,
    p: &[*mut u8; LANES],
    m: usize,
) {
    // SAFETY: the caller's contract, passed on.
    unsafe { ccm_lanes_vaes::<R, true>(keys, st, p, m) }
}
