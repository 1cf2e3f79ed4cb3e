//! AES-128/256-CCM lanes with AES-NI: eight independent messages (each
//! with its own key), the CTR block and the CBC-MAC step of each lane
//! interleaved round by round in xmm registers.
//!
//! One message's CBC-MAC waits on `aesenc` latency; eight in flight, with
//! their eight keystream blocks, keep both AES units busy. Round keys come
//! from memory operands, round-major as [`CipherLaneKeys`]; counters are
//! byte-reversed while in registers (one `paddd` per block), as in
//! `aesni_cipher`.

// Lanes and rounds are indexed explicitly: the loops mirror the interleaving.
#![allow(clippy::needless_range_loop)]

use core::arch::x86_64::*;

use super::AesNi;
use crate::backend::layout::{with_rounds, CcmLanes, CipherLaneKeys};

/// Lanes per kernel call.
pub(crate) const LANES: usize = 8;

/// # Safety
/// The CPU must support AES-NI, SSE2 and SSSE3; every `p[l]` must be
/// readable and writable for `16 * m` bytes.
#[target_feature(enable = "aes,sse2,ssse3")]
unsafe fn ccm_lanes_aesni<const R: usize, const OPEN: bool>(
    keys: &CipherLaneKeys<LANES>,
    st: &mut CcmLanes<LANES>,
    p: &[*mut u8; LANES],
    m: usize,
) {
    let kp: *const __m128i = keys.0.as_ptr().cast();
    let key = |round: usize, lane: usize| _mm_load_si128(kp.add(round * LANES + lane));
    let bswap = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let one = _mm_set_epi32(0, 0, 0, 1);
    let mut x: [__m128i; LANES] =
        core::array::from_fn(|l| _mm_loadu_si128(st.mac[l].as_ptr().cast()));
    let mut rev: [__m128i; LANES] = core::array::from_fn(|l| {
        _mm_shuffle_epi8(_mm_loadu_si128(st.ctr[l].as_ptr().cast()), bswap)
    });
    let mask: [__m128i; LANES] =
        core::array::from_fn(|l| _mm_loadu_si128(st.mask[l].as_ptr().cast()));
    for j in 0..m {
        let d: [__m128i; LANES] =
            core::array::from_fn(|l| _mm_loadu_si128(p[l].add(16 * j).cast()));
        let mut y: [__m128i; LANES] =
            core::array::from_fn(|l| _mm_xor_si128(_mm_shuffle_epi8(rev[l], bswap), key(0, l)));
        for l in 0..LANES {
            rev[l] = _mm_add_epi32(rev[l], one);
        }
        if !OPEN {
            // The CBC-MAC reads the plaintext: both chains advance together.
            for l in 0..LANES {
                x[l] = _mm_xor_si128(x[l], _mm_xor_si128(d[l], key(0, l)));
            }
            for round in 1..R {
                for l in 0..LANES {
                    y[l] = _mm_aesenc_si128(y[l], key(round, l));
                    x[l] = _mm_aesenc_si128(x[l], key(round, l));
                }
            }
            for l in 0..LANES {
                y[l] = _mm_aesenclast_si128(y[l], key(R, l));
                x[l] = _mm_aesenclast_si128(x[l], key(R, l));
                _mm_storeu_si128(p[l].add(16 * j).cast(), _mm_xor_si128(d[l], y[l]));
            }
        } else {
            // The CBC-MAC reads the (masked) plaintext: keystream first.
            for round in 1..R {
                for l in 0..LANES {
                    y[l] = _mm_aesenc_si128(y[l], key(round, l));
                }
            }
            for l in 0..LANES {
                y[l] = _mm_aesenclast_si128(y[l], key(R, l));
                _mm_storeu_si128(p[l].add(16 * j).cast(), _mm_xor_si128(d[l], y[l]));
                let plain = _mm_xor_si128(d[l], _mm_and_si128(y[l], mask[l]));
                x[l] = _mm_xor_si128(x[l], _mm_xor_si128(plain, key(0, l)));
            }
            for round in 1..R {
                for l in 0..LANES {
                    x[l] = _mm_aesenc_si128(x[l], key(round, l));
                }
            }
            for l in 0..LANES {
                x[l] = _mm_aesenclast_si128(x[l], key(R, l));
            }
        }
    }
    for l in 0..LANES {
        _mm_storeu_si128(st.mac[l].as_mut_ptr().cast(), x[l]);
        _mm_storeu_si128(
            st.ctr[l].as_mut_ptr().cast(),
            _mm_shuffle_epi8(rev[l], bswap),
        );
    }
}

/// For the first `m` blocks of each lane's data (the caller advances it), with
/// `ks = E(ctr++)` under the lane's key of `rounds` (10 or 14) rounds: the
/// data becomes `data ^ ks`, and the CBC-MAC absorbs `data` (sealing) or
/// `data ^ (ks & mask)` (opening).
#[inline]
pub(crate) fn ccm_lanes(
    _: AesNi,
    keys: &CipherLaneKeys<LANES>,
    rounds: usize,
    open: bool,
    st: &mut CcmLanes<LANES>,
    data: &mut [&mut [u8]; LANES],
    m: usize,
) {
    let p = crate::backend::layout::lane_ptrs_mut(data, 16 * m);
    // SAFETY: the AesNi token proves AES-NI, SSE2 and SSSE3; lane_ptrs_mut
    // checked each lane's length, so every load and store of `16 * m` bytes
    // stays within its (exclusively borrowed) slice.
    unsafe {
        if open {
            with_rounds!(rounds, ccm_open(keys, st, &p, m));
        } else {
            with_rounds!(rounds, ccm_seal(keys, st, &p, m));
        }
    }
}

/// # Safety
/// As [`ccm_lanes_aesni`].
#[inline]
unsafe fn ccm_seal<const R: usize>(
    keys: &CipherLaneKeys<LANES>,
    st: &mut CcmLanes<LANES>,
    p: &[*mut u8; LANES],
    m: usize,
) {
    // SAFETY: the caller's contract, passed on.
    unsafe { ccm_lanes_aesni::<R, false>(keys, st, p, m) }
}

/// # Safety
/// As [`ccm_lanes_aesni`].
#[inline]
unsafe fn ccm_open<const R: usize>(
    keys: &CipherLaneKeys<LANES>,
    st: &mut CcmLanes<LANES>,
    p: &[*mut u8; LANES],
    m: usize,
) {
    // SAFETY: the caller's contract, passed on.
    unsafe { ccm_lanes_aesni::<R, true>(keys, st, p, m) }
}
