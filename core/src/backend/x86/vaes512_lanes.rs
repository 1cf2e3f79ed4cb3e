//! AES-128 CBC-MAC lanes with VAES on zmm: thirty-two independent chains,
//! four per register, eight registers interleaved round by round.
//!
//! Where zmm VAES runs at the ymm rate per instruction this doubles the ymm
//! kernel's throughput; where 512-bit operations are split in two it matches
//! it with half the instructions, and short batches take the ymm kernel
//! (`tuning::VAES512_MIN_MEAN_BLOCKS`; docs/tuning.md).
//! [`LaneKeys`] is round-major and 64-byte aligned, so lanes
//! `4q..4q + 4` of one round are the aligned 64 bytes register `q` needs.

// Lanes and rounds are indexed explicitly: the loops mirror the interleaving.
#![allow(clippy::needless_range_loop)]

use core::arch::x86_64::*;

use super::Vaes512;
use crate::backend::layout::LaneKeys;

/// Lanes per kernel call.
pub(crate) const LANES: usize = 32;

const REGS: usize = LANES / 4;

/// # Safety
/// The CPU must support VAES, AES-NI and AVX-512F; every `p[l]` must be
/// readable for `16 * m` bytes.
#[target_feature(enable = "vaes,aes,avx512f,avx2,avx")]
unsafe fn cbc_mac_lanes_vaes512(
    keys: &LaneKeys<LANES>,
    state: &mut [[u8; 16]; LANES],
    p: &[*const u8; LANES],
    m: usize,
) {
    let kp: *const __m512i = keys.0.as_ptr().cast();
    let key = |round: usize, q: usize| _mm512_load_si512(kp.add(round * REGS + q).cast());
    let sp: *mut __m512i = state.as_mut_ptr().cast();
    let mut x: [__m512i; REGS] = core::array::from_fn(|q| _mm512_loadu_si512(sp.add(q).cast()));
    for j in 0..m {
        for q in 0..REGS {
            let lo =
                _mm256_loadu2_m128i(p[4 * q + 1].add(16 * j).cast(), p[4 * q].add(16 * j).cast());
            let hi = _mm256_loadu2_m128i(
                p[4 * q + 3].add(16 * j).cast(),
                p[4 * q + 2].add(16 * j).cast(),
            );
            let block = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
            x[q] = _mm512_ternarylogic_epi32(x[q], block, key(0, q), 0x96);
        }
        for round in 1..10 {
            for q in 0..REGS {
                x[q] = _mm512_aesenc_epi128(x[q], key(round, q));
            }
        }
        for q in 0..REGS {
            x[q] = _mm512_aesenclast_epi128(x[q], key(10, q));
        }
    }
    for q in 0..REGS {
        _mm512_storeu_si512(sp.add(q).cast(), x[q]);
    }
}

/// `state[l] = E_l(state[l] ^ block)` for the next `m` blocks of each lane's data,
/// which is advanced past them.
#[inline]
pub(crate) fn cbc_mac_lanes(
    _: Vaes512,
    keys: &LaneKeys<LANES>,
    state: &mut [[u8; 16]; LANES],
    data: &mut [&[u8]; LANES],
    m: usize,
) {
    let p = crate::backend::layout::lane_ptrs(data, 16 * m);
    // SAFETY: the Vaes512 token proves VAES, AES-NI, AVX-512F and AVX2;
    // lane_ptrs checked each lane's length, so every load of `16 * m` bytes
    // stays within its slice; `LaneKeys` is 64-byte aligned and round-major
    // (aligned zmm loads).
    unsafe { cbc_mac_lanes_vaes512(keys, state, &p, m) }
    crate::backend::layout::advance_lanes(data, 16 * m);
}
