//! AES-128/256-CCM lanes with the ARMv8 AES instructions: eight
//! independent messages (each with its own key), the CTR block and the
//! CBC-MAC step of each lane interleaved round by round.
//!
//! As `aes_lanes`: one chain waits on AESE/AESMC latency, eight in flight
//! with their keystream blocks keep the pipeline full. Round keys are loaded
//! per round from the round-major [`CipherLaneKeys`].

// Lanes and rounds are indexed explicitly: the loops mirror the interleaving.
#![allow(clippy::needless_range_loop)]

use core::arch::aarch64::*;

use super::ArmAes;
use crate::backend::layout::{with_rounds, CcmLanes, CipherLaneKeys};

/// Lanes per kernel call.
pub(crate) const LANES: usize = 8;

/// The counter block `c` with its last 32 bits (big-endian) advanced by one.
#[inline]
#[target_feature(enable = "aes,neon")]
unsafe fn inc32(c: uint8x16_t) -> uint8x16_t {
    let w = vreinterpretq_u32_u8(c);
    let n = vgetq_lane_u32::<3>(w)
        .swap_bytes()
        .wrapping_add(1)
        .swap_bytes();
    vreinterpretq_u8_u32(vsetq_lane_u32::<3>(n, w))
}

/// # Safety
/// The CPU must support the AES extension and NEON; every `p[l]` must be
/// readable and writable for `16 * m` bytes.
#[target_feature(enable = "aes,neon")]
unsafe fn ccm_lanes_armv8<const R: usize, const OPEN: bool>(
    keys: &CipherLaneKeys<LANES>,
    st: &mut CcmLanes<LANES>,
    p: &[*mut u8; LANES],
    m: usize,
) {
    let key = |round: usize, lane: usize| vld1q_u8(keys.0[round][lane].as_ptr());
    let mut x: [uint8x16_t; LANES] = core::array::from_fn(|l| vld1q_u8(st.mac[l].as_ptr()));
    let mut c: [uint8x16_t; LANES] = core::array::from_fn(|l| vld1q_u8(st.ctr[l].as_ptr()));
    let mask: [uint8x16_t; LANES] = core::array::from_fn(|l| vld1q_u8(st.mask[l].as_ptr()));
    for j in 0..m {
        let d: [uint8x16_t; LANES] = core::array::from_fn(|l| vld1q_u8(p[l].add(16 * j)));
        let mut y = c;
        for l in 0..LANES {
            c[l] = inc32(c[l]);
        }
        if !OPEN {
            for l in 0..LANES {
                x[l] = veorq_u8(x[l], d[l]);
            }
        }
        // AESE applies the round key before SubBytes: keys 0..R-1 with
        // MixColumns, key R-1 without, key R as a final XOR.
        for round in 0..R - 1 {
            for l in 0..LANES {
                y[l] = vaesmcq_u8(vaeseq_u8(y[l], key(round, l)));
                if !OPEN {
                    x[l] = vaesmcq_u8(vaeseq_u8(x[l], key(round, l)));
                }
            }
        }
        for l in 0..LANES {
            y[l] = veorq_u8(vaeseq_u8(y[l], key(R - 1, l)), key(R, l));
            vst1q_u8(p[l].add(16 * j), veorq_u8(d[l], y[l]));
            if !OPEN {
                x[l] = veorq_u8(vaeseq_u8(x[l], key(R - 1, l)), key(R, l));
            } else {
                x[l] = veorq_u8(x[l], veorq_u8(d[l], vandq_u8(y[l], mask[l])));
            }
        }
        if OPEN {
            for round in 0..R - 1 {
                for l in 0..LANES {
                    x[l] = vaesmcq_u8(vaeseq_u8(x[l], key(round, l)));
                }
            }
            for l in 0..LANES {
                x[l] = veorq_u8(vaeseq_u8(x[l], key(R - 1, l)), key(R, l));
            }
        }
    }
    for l in 0..LANES {
        vst1q_u8(st.mac[l].as_mut_ptr(), x[l]);
        vst1q_u8(st.ctr[l].as_mut_ptr(), c[l]);
    }
}

/// For the first `m` blocks of each lane's data (the caller advances it), with
/// `ks = E(ctr++)` under the lane's key of `rounds` (10 or 14) rounds: the
/// data becomes `data ^ ks`, and the CBC-MAC absorbs `data` (sealing) or
/// `data ^ (ks & mask)` (opening).
#[inline]
pub(crate) fn ccm_lanes(
    _: ArmAes,
    keys: &CipherLaneKeys<LANES>,
    rounds: usize,
    open: bool,
    st: &mut CcmLanes<LANES>,
    data: &mut [&mut [u8]; LANES],
    m: usize,
) {
    let p = crate::backend::layout::lane_ptrs_mut(data, 16 * m);
    // SAFETY: the ArmAes token proves AES and NEON; lane_ptrs_mut checked
    // each lane's length, so every load and store of `16 * m` bytes stays
    // within its (exclusively borrowed) slice.
    unsafe {
        if open {
            with_rounds!(rounds, ccm_open(keys, st, &p, m));
        } else {
            with_rounds!(rounds, ccm_seal(keys, st, &p, m));
        }
    }
}

/// # Safety
/// As [`ccm_lanes_armv8`].
#[inline]
unsafe fn ccm_seal<const R: usize>(
    keys: &CipherLaneKeys<LANES>,
    st: &mut CcmLanes<LANES>,
    p: &[*mut u8; LANES],
    m: usize,
) {
    // SAFETY: the caller's contract, passed on.
    unsafe { ccm_lanes_armv8::<R, false>(keys, st, p, m) }
}

/// # Safety
/// As [`ccm_lanes_armv8`].
#[inline]
unsafe fn ccm_open<const R: usize>(
    keys: &CipherLaneKeys<LANES>,
    st: &mut CcmLanes<LANES>,
    p: &[*mut u8; LANES],
    m: usize,
) {
    // SAFETY: the caller's contract, passed on.
    unsafe { ccm_lanes_armv8::<R, true>(keys, st, p, m) }
}
