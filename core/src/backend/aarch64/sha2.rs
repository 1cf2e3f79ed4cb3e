//! SHA-256 compression with the ARMv8 SHA2 instructions.
//!
//! The state stays in two registers (ABCD, EFGH); each step does four rounds
//! with SHA256H/SHA256H2 and, for the first twelve steps, computes the message
//! schedule four steps ahead with SHA256SU0/SHA256SU1. Fully unrolled.

use core::arch::aarch64::*;

use super::ArmSha2;
use crate::backend::soft::sha256::K;

/// # Safety
/// The CPU must support SHA2 and NEON; `blocks.len()` must be a multiple of 64.
#[target_feature(enable = "sha2,neon")]
unsafe fn compress_armv8(state: &mut [u32; 8], blocks: &[u8]) {
    let mut abcd = vld1q_u32(state.as_ptr());
    let mut efgh = vld1q_u32(state.as_ptr().add(4));

    macro_rules! rounds4 {
        ($m:ident, $k:expr) => {{
            let t = vaddq_u32($m, vld1q_u32(K.as_ptr().add($k)));
            let abcd_prev = abcd;
            abcd = vsha256hq_u32(abcd, efgh, t);
            efgh = vsha256h2q_u32(efgh, abcd_prev, t);
        }};
    }
    // W[g+4] = su1(su0(W[g], W[g+1]), W[g+2], W[g+3]), into W[g]'s register.
    macro_rules! schedule {
        ($m0:ident, $m1:ident, $m2:ident, $m3:ident) => {
            $m0 = vsha256su1q_u32(vsha256su0q_u32($m0, $m1), $m2, $m3);
        };
    }

    for block in blocks.chunks_exact(64) {
        let (abcd_in, efgh_in) = (abcd, efgh);
        let p = block.as_ptr();
        let load = |i: usize| vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p.add(16 * i))));
        let (mut m0, mut m1, mut m2, mut m3) = (load(0), load(1), load(2), load(3));
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
        abcd = vaddq_u32(abcd, abcd_in);
        efgh = vaddq_u32(efgh, efgh_in);
    }
    vst1q_u32(state.as_mut_ptr(), abcd);
    vst1q_u32(state.as_mut_ptr().add(4), efgh);
}

/// Compresses whole 64-byte blocks into `state`.
#[inline]
pub(crate) fn compress(_: ArmSha2, state: &mut [u32; 8], blocks: &[u8]) {
    assert!(blocks.len().is_multiple_of(64));
    // SAFETY: the ArmSha2 token proves SHA2 and NEON; whole blocks are checked
    // above and every load stays within `blocks` and `state`.
    unsafe { compress_armv8(state, blocks) }
}
