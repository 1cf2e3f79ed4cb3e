//! AES-128 CBC-MAC lanes with VAES on ymm: sixteen independent chains,
//! two per register, eight registers interleaved round by round.
//!
//! With `vaesenc ymm` each instruction advances two chains, so eight registers
//! in flight do twice the work of the AES-NI kernel in the same latency.
//! [`LaneKeys`] is round-major, so lanes `2q` and `2q + 1` of one round are the
//! 32 contiguous bytes register `q` needs.

// Lanes and rounds are indexed explicitly: the loops mirror the interleaving.
#![allow(clippy::needless_range_loop)]

use core::arch::x86_64::*;

use super::Vaes;
use crate::backend::layout::LaneKeys;

/// Lanes per kernel call.
pub(crate) const LANES: usize = 16;
const REGS: usize = LANES / 2;

/// # Safety
/// The CPU must support VAES, AES-NI and AVX2; every `p[l]` must be readable
/// for `16 * m` bytes.
#[target_feature(enable = "vaes,aes,avx2,avx")]
unsafe fn cbc_mac_lanes_vaes(
    keys: &LaneKeys<LANES>,
    state: &mut [[u8; 16]; LANES],
    p: &[*const u8; LANES],
    m: usize,
) {
    let kp: *const __m256i = keys.0.as_ptr().cast();
    let key = |round: usize, q: usize| _mm256_load_si256(kp.add(round * REGS + q));
    let sp: *mut __m256i = state.as_mut_ptr().cast();
    let mut x: [__m256i; REGS] = core::array::from_fn(|q| _mm256_loadu_si256(sp.add(q)));
    for j in 0..m {
        for q in 0..REGS {
            let block =
                _mm256_loadu2_m128i(p[2 * q + 1].add(16 * j).cast(), p[2 * q].add(16 * j).cast());
            x[q] = _mm256_xor_si256(x[q], _mm256_xor_si256(block, key(0, q)));
        }
        for round in 1..10 {
            for q in 0..REGS {
                x[q] = _mm256_aesenc_epi128(x[q], key(round, q));
            }
        }
        for q in 0..REGS {
            x[q] = _mm256_aesenclast_epi128(x[q], key(10, q));
        }
    }
    for q in 0..REGS {
        _mm256_storeu_si256(sp.add(q), x[q]);
    }
}

/// `state[l] = E_l(state[l] ^ block)` for the next `m` blocks of each lane's data,
/// which is advanced past them.
#[inline]
pub(crate) fn cbc_mac_lanes(
    _: Vaes,
    keys: &LaneKeys<LANES>,
    state: &mut [[u8; 16]; LANES],
    data: &mut [&[u8]; LANES],
    m: usize,
) {
    let p = crate::backend::layout::lane_ptrs(data, 16 * m);
    // SAFETY: the Vaes token proves VAES, AES-NI and AVX2; lane_ptrs checked
    // each lane's length, so every load of `16 * m` bytes stays within its slice;
    // `LaneKeys` is 32-byte aligned and round-major (aligned ymm loads).
    unsafe { cbc_mac_lanes_vaes(keys, state, &p, m) }
    crate::backend::layout::advance_lanes(data, 16 * m);
}
