//! AES-128 CBC-MAC lanes with the ARMv8 AES instructions: eight
//! independent chains (each with its own key) interleaved round by round.
//!
//! A single chain waits on AESE/AESMC latency; eight in flight keep the AES
//! pipeline full. Round keys are loaded per round from the round-major [`LaneKeys`].

// Lanes and rounds are indexed explicitly: the loops mirror the interleaving.
#![allow(clippy::needless_range_loop)]

use core::arch::aarch64::*;

use super::ArmAes;
use crate::backend::layout::LaneKeys;

/// Lanes per kernel call.
pub(crate) const LANES: usize = 8;

/// # Safety
/// The CPU must support the AES extension and NEON; every `p[l]` must be
/// readable for `16 * m` bytes.
#[target_feature(enable = "aes,neon")]
unsafe fn cbc_mac_lanes_armv8(
    keys: &LaneKeys<LANES>,
    state: &mut [[u8; 16]; LANES],
    p: &[*const u8; LANES],
    m: usize,
) {
    let key = |round: usize, lane: usize| vld1q_u8(keys.0[round][lane].as_ptr());
    let mut x: [uint8x16_t; LANES] = core::array::from_fn(|l| vld1q_u8(state[l].as_ptr()));
    for j in 0..m {
        for l in 0..LANES {
            x[l] = veorq_u8(x[l], vld1q_u8(p[l].add(16 * j)));
        }
        // AESE applies the round key before SubBytes: keys 0..=8 with
        // MixColumns, key 9 without, key 10 as a final XOR.
        for round in 0..9 {
            for l in 0..LANES {
                x[l] = vaesmcq_u8(vaeseq_u8(x[l], key(round, l)));
            }
        }
        for l in 0..LANES {
            x[l] = veorq_u8(vaeseq_u8(x[l], key(9, l)), key(10, l));
        }
    }
    for l in 0..LANES {
        vst1q_u8(state[l].as_mut_ptr(), x[l]);
    }
}

/// `state[l] = E_l(state[l] ^ block)` for the next `m` blocks of each lane's data,
/// which is advanced past them.
#[inline]
pub(crate) fn cbc_mac_lanes(
    _: ArmAes,
    keys: &LaneKeys<LANES>,
    state: &mut [[u8; 16]; LANES],
    data: &mut [&[u8]; LANES],
    m: usize,
) {
    let p = crate::backend::layout::lane_ptrs(data, 16 * m);
    // SAFETY: the ArmAes token proves AES and NEON; lane_ptrs checked each
    // lane's length, so every load of `16 * m` bytes stays within its slice.
    unsafe { cbc_mac_lanes_armv8(keys, state, &p, m) }
    crate::backend::layout::advance_lanes(data, 16 * m);
}
