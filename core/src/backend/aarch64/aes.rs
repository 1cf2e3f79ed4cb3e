//! AES-128 with the ARMv8 AES instructions: one block, and CBC-MAC chaining for CMAC.
//!
//! AESE does AddRoundKey+SubBytes+ShiftRows, AESMC does MixColumns; the round
//! keys stay in registers for a whole chain, which is latency-bound (one AES per
//! block). The next message block is folded into the final round key.

use core::arch::aarch64::*;

use super::ArmAes;
use crate::backend::layout::RoundKeys;

#[inline]
#[target_feature(enable = "aes,neon")]
unsafe fn load_keys(rk: &RoundKeys) -> [uint8x16_t; 11] {
    core::array::from_fn(|i| vld1q_u8(rk[i].as_ptr()))
}

/// Rounds 1..=9 given the state already XORed... AESE includes the key XOR, so
/// this applies keys 0..=8 with MixColumns, then key 9 without (AESE), leaving
/// the final XOR with key 10 to the caller.
#[inline]
#[target_feature(enable = "aes,neon")]
unsafe fn rounds(k: &[uint8x16_t; 11], mut x: uint8x16_t) -> uint8x16_t {
    for key in &k[..9] {
        x = vaesmcq_u8(vaeseq_u8(x, *key));
    }
    vaeseq_u8(x, k[9])
}

/// # Safety
/// The CPU must support the AES extension and NEON.
#[target_feature(enable = "aes,neon")]
unsafe fn encrypt_block_armv8(rk: &RoundKeys, block: &mut [u8; 16]) {
    let k = load_keys(rk);
    let x = veorq_u8(rounds(&k, vld1q_u8(block.as_ptr())), k[10]);
    vst1q_u8(block.as_mut_ptr(), x);
}

/// # Safety
/// The CPU must support the AES extension and NEON; `blocks.len()` is a multiple of 16.
#[target_feature(enable = "aes,neon")]
unsafe fn cbc_mac_armv8(rk: &RoundKeys, state: &mut [u8; 16], blocks: &[u8]) {
    let n = blocks.len() / 16;
    if n == 0 {
        return;
    }
    let k = load_keys(rk);
    let p = blocks.as_ptr();
    // x is the input to AESE with key 0, i.e. state ^ block.
    let mut x = veorq_u8(vld1q_u8(state.as_ptr()), vld1q_u8(p));
    for i in 1..n {
        // E(x) ^ m_i = rounds(x) ^ k10 ^ m_i: fold the block into the last key.
        let m = veorq_u8(k[10], vld1q_u8(p.add(16 * i)));
        x = veorq_u8(rounds(&k, x), m);
    }
    vst1q_u8(state.as_mut_ptr(), veorq_u8(rounds(&k, x), k[10]));
}

/// Encrypts one block in place.
#[inline]
pub(crate) fn encrypt_block(_: ArmAes, rk: &RoundKeys, block: &mut [u8; 16]) {
    // SAFETY: the ArmAes token exists only after detection found AES and NEON.
    unsafe { encrypt_block_armv8(rk, block) }
}

/// `state = E(state ^ block)` for each 16-byte block of `blocks`.
#[inline]
pub(crate) fn cbc_mac_blocks(_: ArmAes, rk: &RoundKeys, state: &mut [u8; 16], blocks: &[u8]) {
    assert!(blocks.len().is_multiple_of(16));
    // SAFETY: the token proves AES and NEON; loads stay within `blocks` (whole blocks, checked).
    unsafe { cbc_mac_armv8(rk, state, blocks) }
}
