//! AES-128 and AES-256 with the ARMv8 AES instructions for the SMB3 ciphers:
//! one block, CBC-MAC, and CTR with eight blocks in flight.
//!
//! Generic over the round count `R` (10 or 14). AESE includes the round
//! key XOR, so a block takes `R - 1` AESE+AESMC pairs, one AESE and a final
//! XOR with key `R`.

use core::arch::aarch64::*;

use super::ArmAes;
use crate::backend::layout::{with_rounds, CipherKeys};

#[inline]
#[target_feature(enable = "aes,neon")]
unsafe fn load_keys(rk: &CipherKeys) -> [uint8x16_t; 15] {
    core::array::from_fn(|i| vld1q_u8(rk[i].as_ptr()))
}

/// The rounds before the final XOR with key `R`.
#[inline]
#[target_feature(enable = "aes,neon")]
unsafe fn rounds<const R: usize>(k: &[uint8x16_t; 15], mut x: uint8x16_t) -> uint8x16_t {
    for key in &k[..R - 1] {
        x = vaesmcq_u8(vaeseq_u8(x, *key));
    }
    vaeseq_u8(x, k[R - 1])
}

/// # Safety
/// The CPU must support the AES extension and NEON.
#[target_feature(enable = "aes,neon")]
unsafe fn encrypt_block_armv8<const R: usize>(rk: &CipherKeys, block: &mut [u8; 16]) {
    let k = load_keys(rk);
    let x = veorq_u8(rounds::<R>(&k, vld1q_u8(block.as_ptr())), k[R]);
    vst1q_u8(block.as_mut_ptr(), x);
}

/// # Safety
/// The CPU must support the AES extension and NEON; `blocks.len()` is a multiple of 16.
#[target_feature(enable = "aes,neon")]
unsafe fn cbc_mac_armv8<const R: usize>(rk: &CipherKeys, state: &mut [u8; 16], blocks: &[u8]) {
    let n = blocks.len() / 16;
    if n == 0 {
        return;
    }
    let k = load_keys(rk);
    let p = blocks.as_ptr();
    let mut x = veorq_u8(vld1q_u8(state.as_ptr()), vld1q_u8(p));
    for i in 1..n {
        // E(x) ^ m_i = rounds(x) ^ k[R] ^ m_i: the block folded into the last key.
        let m = veorq_u8(k[R], vld1q_u8(p.add(16 * i)));
        x = veorq_u8(rounds::<R>(&k, x), m);
    }
    vst1q_u8(state.as_mut_ptr(), veorq_u8(rounds::<R>(&k, x), k[R]));
}

/// The counter block `base` with `c` as its last four bytes, big-endian.
#[inline]
#[target_feature(enable = "aes,neon")]
unsafe fn counter(base: uint32x4_t, c: u32) -> uint8x16_t {
    vreinterpretq_u8_u32(vsetq_lane_u32::<3>(c.swap_bytes(), base))
}

/// # Safety
/// The CPU must support the AES extension and NEON.
#[target_feature(enable = "aes,neon")]
unsafe fn ctr32_armv8<const R: usize>(rk: &CipherKeys, ctr: &mut [u8; 16], data: &mut [u8]) {
    let k = load_keys(rk);
    let base = vreinterpretq_u32_u8(vld1q_u8(ctr.as_ptr()));
    let mut c = u32::from_be_bytes([ctr[12], ctr[13], ctr[14], ctr[15]]);
    let len = data.len();
    let p = data.as_mut_ptr();
    let mut off = 0;
    while len - off >= 128 {
        let mut x: [uint8x16_t; 8] =
            core::array::from_fn(|j| counter(base, c.wrapping_add(j as u32)));
        for key in &k[..R - 1] {
            for xj in &mut x {
                *xj = vaesmcq_u8(vaeseq_u8(*xj, *key));
            }
        }
        for (j, xj) in x.iter().enumerate() {
            let q = p.add(off + 16 * j);
            let s = veorq_u8(vaeseq_u8(*xj, k[R - 1]), k[R]);
            vst1q_u8(q, veorq_u8(s, vld1q_u8(q)));
        }
        c = c.wrapping_add(8);
        off += 128;
    }
    while off < len {
        let s = veorq_u8(rounds::<R>(&k, counter(base, c)), k[R]);
        let mut block = [0u8; 16];
        let n = (len - off).min(16);
        block[..n].copy_from_slice(&data[off..off + n]);
        vst1q_u8(block.as_mut_ptr(), veorq_u8(s, vld1q_u8(block.as_ptr())));
        data[off..off + n].copy_from_slice(&block[..n]);
        crate::wipe::wipe(&mut block);
        c = c.wrapping_add(1);
        off += n;
    }
    ctr[12..].copy_from_slice(&c.to_be_bytes());
}

/// Encrypts one block in place with `rounds` (10 or 14) rounds.
#[inline]
pub(crate) fn encrypt_block(_: ArmAes, rk: &CipherKeys, rounds: usize, block: &mut [u8; 16]) {
    // SAFETY: the ArmAes token exists only after detection found AES and NEON.
    unsafe { with_rounds!(rounds, encrypt_block_armv8(rk, block)) }
}

/// `state = E(state ^ block)` for each 16-byte block of `blocks`.
#[inline]
pub(crate) fn cbc_mac(
    _: ArmAes,
    rk: &CipherKeys,
    rounds: usize,
    state: &mut [u8; 16],
    blocks: &[u8],
) {
    assert!(blocks.len().is_multiple_of(16));
    // SAFETY: the token proves AES and NEON; loads stay within `blocks` (whole blocks, checked).
    unsafe { with_rounds!(rounds, cbc_mac_armv8(rk, state, blocks)) }
}

/// XORs the CTR keystream from counter block `ctr` into `data` and advances
/// the counter's last 32 bits (big-endian) by the blocks used.
#[inline]
pub(crate) fn ctr32(
    _: ArmAes,
    rk: &CipherKeys,
    rounds: usize,
    ctr: &mut [u8; 16],
    data: &mut [u8],
) {
    // SAFETY: the token proves AES and NEON; whole-block loads and stores stay
    // within `data` (128 bytes checked per group), the tail goes through a stack block.
    unsafe { with_rounds!(rounds, ctr32_armv8(rk, ctr, data)) }
}
