//! AES-128 CBC-MAC lanes with AES-NI: eight independent chains (each
//! with its own key) interleaved round by round in eight xmm registers.
//!
//! One chain waits on `aesenc` latency; eight in flight keep both AES units
//! busy. Round keys come from memory operands (8 lanes x 11 keys do not fit in
//! 16 registers), laid out round-major by [`LaneKeys`].

// Lanes and rounds are indexed explicitly: the loops mirror the interleaving.
#![allow(clippy::needless_range_loop)]

use core::arch::x86_64::*;

use super::AesNi;
use crate::backend::layout::LaneKeys;

/// Lanes per kernel call.
pub(crate) const LANES: usize = 8;

/// # Safety
/// The CPU must support AES-NI and SSE2; every `p[l]` must be readable for `16 * m` bytes.
#[target_feature(enable = "aes,sse2")]
unsafe fn cbc_mac_lanes_aesni(
    keys: &LaneKeys<LANES>,
    state: &mut [[u8; 16]; LANES],
    p: &[*const u8; LANES],
    m: usize,
) {
    let kp: *const __m128i = keys.0.as_ptr().cast();
    let key = |round: usize, lane: usize| _mm_load_si128(kp.add(round * LANES + lane));
    let mut x: [__m128i; LANES] =
        core::array::from_fn(|l| _mm_loadu_si128(state[l].as_ptr().cast()));
    for j in 0..m {
        for l in 0..LANES {
            let block = _mm_loadu_si128(p[l].add(16 * j).cast());
            x[l] = _mm_xor_si128(x[l], _mm_xor_si128(block, key(0, l)));
        }
        for round in 1..10 {
            for l in 0..LANES {
                x[l] = _mm_aesenc_si128(x[l], key(round, l));
            }
        }
        for l in 0..LANES {
            x[l] = _mm_aesenclast_si128(x[l], key(10, l));
        }
    }
    for l in 0..LANES {
        _mm_storeu_si128(state[l].as_mut_ptr().cast(), x[l]);
    }
}

/// `state[l] = E_l(state[l] ^ block)` for the next `m` blocks of each lane's data,
/// which is advanced past them.
#[inline]
pub(crate) fn cbc_mac_lanes(
    _: AesNi,
    keys: &LaneKeys<LANES>,
    state: &mut [[u8; 16]; LANES],
    data: &mut [&[u8]; LANES],
    m: usize,
) {
    let p = crate::backend::layout::lane_ptrs(data, 16 * m);
    // SAFETY: the AesNi token proves AES-NI and SSE2; lane_ptrs checked each
    // lane's length, so every load of `16 * m` bytes stays within its slice.
    unsafe { cbc_mac_lanes_aesni(keys, state, &p, m) }
    crate::backend::layout::advance_lanes(data, 16 * m);
}
