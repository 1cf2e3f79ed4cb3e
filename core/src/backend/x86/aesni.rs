//! AES-128 with AES-NI: one block, and CBC-MAC chaining for CMAC.
//!
//! CMAC is one AES per block, each depending on the last, so its speed is the
//! latency of ten `aesenc`s. The chain below keeps all round keys in registers
//! and folds "xor the next message block, xor round key 0" into the last round's
//! key (`aesenclast(y, rk10 ^ rk0 ^ m)`), so no extra xor sits on the critical path.

use core::arch::x86_64::*;

use super::AesNi;
use crate::backend::layout::RoundKeys;

#[inline]
#[target_feature(enable = "aes,sse2")]
unsafe fn load_keys(rk: &RoundKeys) -> [__m128i; 11] {
    core::array::from_fn(|i| _mm_loadu_si128(rk[i].as_ptr().cast()))
}

/// Rounds 1..=9 (the middle rounds) of AES-128.
#[inline]
#[target_feature(enable = "aes,sse2")]
unsafe fn middle_rounds(k: &[__m128i; 11], mut x: __m128i) -> __m128i {
    for key in &k[1..10] {
        x = _mm_aesenc_si128(x, *key);
    }
    x
}

/// # Safety
/// The CPU must support AES-NI and SSE2.
#[target_feature(enable = "aes,sse2")]
unsafe fn encrypt_block_aesni(rk: &RoundKeys, block: &mut [u8; 16]) {
    let k = load_keys(rk);
    let x = _mm_xor_si128(_mm_loadu_si128(block.as_ptr().cast()), k[0]);
    let x = _mm_aesenclast_si128(middle_rounds(&k, x), k[10]);
    _mm_storeu_si128(block.as_mut_ptr().cast(), x);
}

/// # Safety
/// The CPU must support AES-NI and SSE2; `blocks.len()` must be a multiple of 16.
#[target_feature(enable = "aes,sse2")]
unsafe fn cbc_mac_aesni(rk: &RoundKeys, state: &mut [u8; 16], blocks: &[u8]) {
    let n = blocks.len() / 16;
    if n == 0 {
        return;
    }
    let k = load_keys(rk);
    let last_plus_first = _mm_xor_si128(k[10], k[0]);
    let p = blocks.as_ptr();
    let mut x = _mm_xor_si128(
        _mm_xor_si128(
            _mm_loadu_si128(state.as_ptr().cast()),
            _mm_loadu_si128(p.cast()),
        ),
        k[0],
    );
    for i in 1..n {
        // Off the critical path: the next block folded into the final round key.
        let m = _mm_xor_si128(last_plus_first, _mm_loadu_si128(p.add(16 * i).cast()));
        x = _mm_aesenclast_si128(middle_rounds(&k, x), m);
    }
    let x = _mm_aesenclast_si128(middle_rounds(&k, x), k[10]);
    _mm_storeu_si128(state.as_mut_ptr().cast(), x);
}

/// One step of the AES-128 key schedule: `prev` expanded with the
/// `aeskeygenassist` word `assist` (SubWord(RotWord(w3)) ^ rcon, in lane 3).
#[inline]
#[target_feature(enable = "aes,sse2")]
unsafe fn expand_step(prev: __m128i, assist: __m128i) -> __m128i {
    let t = _mm_shuffle_epi32(assist, 0xff);
    let mut k = prev;
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    _mm_xor_si128(k, t)
}

/// # Safety
/// The CPU must support AES-NI and SSE2.
#[target_feature(enable = "aes,sse2")]
unsafe fn expand_key_aesni(key: &[u8; 16]) -> RoundKeys {
    let mut rk = [[0u8; 16]; 11];
    let mut k = _mm_loadu_si128(key.as_ptr().cast());
    _mm_storeu_si128(rk[0].as_mut_ptr().cast(), k);
    // The round constant must be an immediate: one line per round.
    macro_rules! round {
        ($i:expr, $rcon:expr) => {
            k = expand_step(k, _mm_aeskeygenassist_si128(k, $rcon));
            _mm_storeu_si128(rk[$i].as_mut_ptr().cast(), k);
        };
    }
    round!(1, 0x01);
    round!(2, 0x02);
    round!(3, 0x04);
    round!(4, 0x08);
    round!(5, 0x10);
    round!(6, 0x20);
    round!(7, 0x40);
    round!(8, 0x80);
    round!(9, 0x1b);
    round!(10, 0x36);
    rk
}

/// FIPS 197 key expansion with `aeskeygenassist`.
#[inline]
pub(crate) fn expand_key(_: AesNi, key: &[u8; 16]) -> RoundKeys {
    // SAFETY: the AesNi token exists only after detection found AES-NI and SSE2.
    unsafe { expand_key_aesni(key) }
}

/// Encrypts one block in place.
#[inline]
pub(crate) fn encrypt_block(_: AesNi, rk: &RoundKeys, block: &mut [u8; 16]) {
    // SAFETY: the AesNi token exists only after detection found AES-NI and SSE2.
    unsafe { encrypt_block_aesni(rk, block) }
}

/// `state = E(state ^ block)` for each 16-byte block of `blocks`.
#[inline]
pub(crate) fn cbc_mac_blocks(_: AesNi, rk: &RoundKeys, state: &mut [u8; 16], blocks: &[u8]) {
    assert!(blocks.len().is_multiple_of(16));
    // SAFETY: the AesNi token proves AES-NI and SSE2; the length is checked above
    // and every load stays within `blocks`.
    unsafe { cbc_mac_aesni(rk, state, blocks) }
}
