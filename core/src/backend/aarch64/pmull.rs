//! GHASH with PMULL (64x64 -> 128 polynomial multiply): 8 blocks per reduction.
//!
//! The same POLYVAL-domain aggregated reduction as the x86 kernels: blocks are
//! read big-endian, multiplied by descending key powers, summed unreduced, and
//! Montgomery-reduced once per group with two multiplications by 0xc2 << 56.

use core::arch::aarch64::*;

use super::Pmull;
use crate::backend::layout::{HPowers, MAX_POWERS};

/// Key powers this kernel reads.
pub(crate) const POWERS: usize = 8;

#[inline]
#[target_feature(enable = "aes,neon")]
unsafe fn clmul(a: u64, b: u64) -> u128 {
    vmull_p64(a, b)
}

/// `x * h`, unreduced, added into (lo, mid, hi).
#[inline]
#[target_feature(enable = "aes,neon")]
unsafe fn mul_acc(x: u128, h: u128, t: &mut [u128; 3]) {
    let (x0, x1, h0, h1) = (x as u64, (x >> 64) as u64, h as u64, (h >> 64) as u64);
    t[0] ^= clmul(x0, h0);
    t[2] ^= clmul(x1, h1);
    t[1] ^= clmul(x0, h1) ^ clmul(x1, h0);
}

/// Montgomery reduction of the 256-bit value (lo, mid, hi) to `value * x^-128`.
#[inline]
#[target_feature(enable = "aes,neon")]
unsafe fn reduce(t: [u128; 3]) -> u128 {
    let lo = t[0] ^ (t[1] << 64);
    let hi = t[2] ^ (t[1] >> 64);
    const POLY: u64 = 0xc200_0000_0000_0000;
    let lo = lo.rotate_left(64) ^ clmul(lo as u64, POLY);
    let lo = lo.rotate_left(64) ^ clmul(lo as u64, POLY);
    lo ^ hi
}

/// # Safety
/// PMULL and NEON must be present; `blocks.len()` a multiple of 16; `powers`
/// must hold `POWERS` powers.
#[target_feature(enable = "aes,neon")]
unsafe fn ghash_pmull(powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
    let mut a = *acc;
    for group in blocks.chunks(16 * POWERS) {
        let n = group.len() / 16;
        let mut t = [0u128; 3];
        for (j, b) in group.chunks_exact(16).enumerate() {
            let mut x = u128::from_be_bytes(b.try_into().unwrap());
            if j == 0 {
                x ^= a;
            }
            mul_acc(x, powers.h[MAX_POWERS - n + j], &mut t);
        }
        a = reduce(t);
    }
    *acc = a;
}

/// GHASH over whole 16-byte blocks.
#[inline]
pub(crate) fn ghash_blocks(_: Pmull, powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
    assert!(blocks.len().is_multiple_of(16));
    // SAFETY: the Pmull token proves PMULL (Rust's "aes" feature) and NEON; whole
    // blocks are checked above and groups read at most POWERS powers, as filled.
    unsafe { ghash_pmull(powers, acc, blocks) }
}
