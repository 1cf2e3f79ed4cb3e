//! SHA-256 compression with the ARMv8 SHA2 instructions.
//!
//! The state stays in two registers (ABCD, EFGH); each step does four rounds
//! with SHA256H/SHA256H2 and, for the first twelve steps, computes the message
//! schedule four steps ahead with SHA256SU0/SHA256SU1. Fully unrolled.
//!
//! One kernel serves one message (`N = 1`) and the lanes form (`N =
//! LANES`): independent messages interleaved round by round fill the gaps in
//! one message's SHA256H/SHA256H2 latency.

// Lanes are indexed explicitly: the loops mirror the interleaving.
#![allow(clippy::needless_range_loop)]

use core::arch::aarch64::*;

use super::ArmSha2;
use crate::backend::portable::sha256::K;

/// Lanes per kernel call.
pub(crate) const LANES: usize = 2;

/// # Safety
/// The CPU must support SHA2 and NEON; every `p[l]` must be readable for `64 * m` bytes.
#[target_feature(enable = "sha2,neon")]
unsafe fn compress_lanes_armv8<const N: usize>(
    state: &mut [[u32; 8]; N],
    p: &[*const u8; N],
    m: usize,
) {
    let mut abcd: [uint32x4_t; N] = core::array::from_fn(|l| vld1q_u32(state[l].as_ptr()));
    let mut efgh: [uint32x4_t; N] = core::array::from_fn(|l| vld1q_u32(state[l].as_ptr().add(4)));

    macro_rules! rounds4 {
        ($m:ident, $k:expr) => {{
            let kv = vld1q_u32(K.as_ptr().add($k));
            for l in 0..N {
                let t = vaddq_u32($m[l], kv);
                let abcd_prev = abcd[l];
                abcd[l] = vsha256hq_u32(abcd[l], efgh[l], t);
                efgh[l] = vsha256h2q_u32(efgh[l], abcd_prev, t);
            }
        }};
    }
    macro_rules! schedule {
        ($m0:ident, $m1:ident, $m2:ident, $m3:ident) => {
            for l in 0..N {
                $m0[l] = vsha256su1q_u32(vsha256su0q_u32($m0[l], $m1[l]), $m2[l], $m3[l]);
            }
        };
    }

    for j in 0..m {
        let (abcd_in, efgh_in) = (abcd, efgh);
        let load = |l: usize, i: usize| {
            vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p[l].add(64 * j + 16 * i))))
        };
        let mut m0: [uint32x4_t; N] = core::array::from_fn(|l| load(l, 0));
        let mut m1: [uint32x4_t; N] = core::array::from_fn(|l| load(l, 1));
        let mut m2: [uint32x4_t; N] = core::array::from_fn(|l| load(l, 2));
        let mut m3: [uint32x4_t; N] = core::array::from_fn(|l| load(l, 3));
        for k in [0, 16, 32] {
            rounds4!(m0, k);
            schedule!(m0, m1, m2, m3);
            rounds4!(m1, k + 4);
            schedule!(m1, m2, m3, m0);
            rounds4!(m2, k + 8);
            schedule!(m2, m3, m0, m1);
            rounds4!(m3, k + 12);
            schedule!(m3, m0, m1, m2);
        }
        rounds4!(m0, 48);
        rounds4!(m1, 52);
        rounds4!(m2, 56);
        rounds4!(m3, 60);
        for l in 0..N {
            abcd[l] = vaddq_u32(abcd[l], abcd_in[l]);
            efgh[l] = vaddq_u32(efgh[l], efgh_in[l]);
        }
    }
    for l in 0..N {
        vst1q_u32(state[l].as_mut_ptr(), abcd[l]);
        vst1q_u32(state[l].as_mut_ptr().add(4), efgh[l]);
    }
}

/// Compresses the next `m` 64-byte blocks of each lane's data into its state,
/// advancing the data past them.
#[inline]
pub(crate) fn compress_lanes(
    _: ArmSha2,
    state: &mut [[u32; 8]; LANES],
    data: &mut [&[u8]; LANES],
    m: usize,
) {
    let p = crate::backend::layout::lane_ptrs(data, 64 * m);
    // SAFETY: the ArmSha2 token proves SHA2 and NEON; each lane's length is
    // checked above, so every load stays within its slice.
    unsafe { compress_lanes_armv8(state, &p, m) }
    crate::backend::layout::advance_lanes(data, 64 * m);
}

/// Compresses whole 64-byte blocks into `state`.
#[inline]
pub(crate) fn compress(_: ArmSha2, state: &mut [u32; 8], blocks: &[u8]) {
    assert!(blocks.len().is_multiple_of(64));
    // SAFETY: the ArmSha2 token proves SHA2 and NEON; whole blocks are checked
    // above and every load stays within `blocks` and `state`.
    unsafe {
        compress_lanes_armv8(
            core::array::from_mut(state),
            &[blocks.as_ptr()],
            blocks.len() / 64,
        )
    }
}
