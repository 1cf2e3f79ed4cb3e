//! AES-128 and AES-256 with AES-NI for the SMB3 ciphers: the AES-256 key
//! schedule, one block, CTR with eight blocks in flight, CBC-MAC, and CCM's
//! CBC-MAC chain with the CTR blocks interleaved.
//!
//! Every kernel is generic over the round count `R` (10 or 14), so each key
//! size gets its own unrolled copy with all round keys in registers.
//! Counters are kept byte-reversed: the 32-bit big-endian counter (GCM's
//! inc32, CCM's with L = 4) is then lane 0, one `paddd` per block, and a
//! `pshufb` turns it back before encryption.

use core::arch::x86_64::*;

use super::AesNi;
use crate::backend::layout::{with_rounds, CipherKeys};

#[inline]
#[target_feature(enable = "aes,sse2,ssse3")]
unsafe fn load_keys(rk: &CipherKeys) -> [__m128i; 15] {
    core::array::from_fn(|i| _mm_loadu_si128(rk[i].as_ptr().cast()))
}

/// Reverses the 16 bytes of a block.
#[inline]
#[target_feature(enable = "aes,sse2,ssse3")]
unsafe fn reverse(x: __m128i) -> __m128i {
    _mm_shuffle_epi8(
        x,
        _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    )
}

/// Rounds 1..R-1 then the last round: `x` already holds `block ^ k[0]`.
#[inline]
#[target_feature(enable = "aes,sse2,ssse3")]
unsafe fn finish<const R: usize>(k: &[__m128i; 15], mut x: __m128i) -> __m128i {
    for key in &k[1..R] {
        x = _mm_aesenc_si128(x, *key);
    }
    _mm_aesenclast_si128(x, k[R])
}

/// # Safety
/// The CPU must support AES-NI, SSE2 and SSSE3.
#[target_feature(enable = "aes,sse2,ssse3")]
unsafe fn encrypt_block_aesni<const R: usize>(rk: &CipherKeys, block: &mut [u8; 16]) {
    let k = load_keys(rk);
    let x = _mm_xor_si128(_mm_loadu_si128(block.as_ptr().cast()), k[0]);
    _mm_storeu_si128(block.as_mut_ptr().cast(), finish::<R>(&k, x));
}

/// # Safety
/// The CPU must support AES-NI, SSE2 and SSSE3; `blocks.len()` is a multiple of 16.
#[target_feature(enable = "aes,sse2,ssse3")]
unsafe fn cbc_mac_aesni<const R: usize>(rk: &CipherKeys, state: &mut [u8; 16], blocks: &[u8]) {
    let n = blocks.len() / 16;
    if n == 0 {
        return;
    }
    let k = load_keys(rk);
    // As `aesni::cbc_mac_blocks`: the next block is folded into the last round key.
    let last_plus_first = _mm_xor_si128(k[R], k[0]);
    let p = blocks.as_ptr();
    let mut x = _mm_xor_si128(
        _mm_xor_si128(
            _mm_loadu_si128(state.as_ptr().cast()),
            _mm_loadu_si128(p.cast()),
        ),
        k[0],
    );
    for i in 1..n {
        let m = _mm_xor_si128(last_plus_first, _mm_loadu_si128(p.add(16 * i).cast()));
        let mut y = x;
        for key in &k[1..R] {
            y = _mm_aesenc_si128(y, *key);
        }
        x = _mm_aesenclast_si128(y, m);
    }
    _mm_storeu_si128(state.as_mut_ptr().cast(), finish::<R>(&k, x));
}

/// Encrypts `n` (at most 8) consecutive counter blocks from the byte-reversed
/// counter `rev` and XORs them into `n` blocks at `p`.
///
/// # Safety
/// AES-NI, SSE2, SSSE3; `p` valid for `16 * n` bytes of reads and writes.
#[inline]
#[target_feature(enable = "aes,sse2,ssse3")]
unsafe fn ctr_blocks<const R: usize, const N: usize>(k: &[__m128i; 15], rev: __m128i, p: *mut u8) {
    let mut x: [__m128i; N] = core::array::from_fn(|j| {
        _mm_xor_si128(
            reverse(_mm_add_epi32(rev, _mm_set_epi32(0, 0, 0, j as i32))),
            k[0],
        )
    });
    for key in &k[1..R] {
        for xj in &mut x {
            *xj = _mm_aesenc_si128(*xj, *key);
        }
    }
    for (j, xj) in x.iter().enumerate() {
        let q = p.add(16 * j);
        let c = _mm_aesenclast_si128(*xj, k[R]);
        _mm_storeu_si128(q.cast(), _mm_xor_si128(c, _mm_loadu_si128(q.cast())));
    }
}

/// # Safety
/// The CPU must support AES-NI, SSE2 and SSSE3.
#[target_feature(enable = "aes,sse2,ssse3")]
unsafe fn ctr32_aesni<const R: usize>(rk: &CipherKeys, ctr: &mut [u8; 16], data: &mut [u8]) {
    let k = load_keys(rk);
    let mut rev = reverse(_mm_loadu_si128(ctr.as_ptr().cast()));
    let len = data.len();
    let p = data.as_mut_ptr();
    let mut off = 0;
    while len - off >= 128 {
        ctr_blocks::<R, 8>(&k, rev, p.add(off));
        rev = _mm_add_epi32(rev, _mm_set_epi32(0, 0, 0, 8));
        off += 128;
    }
    while len - off >= 16 {
        ctr_blocks::<R, 1>(&k, rev, p.add(off));
        rev = _mm_add_epi32(rev, _mm_set_epi32(0, 0, 0, 1));
        off += 16;
    }
    if off < len {
        let mut block = [0u8; 16];
        block[..len - off].copy_from_slice(&data[off..]);
        ctr_blocks::<R, 1>(&k, rev, block.as_mut_ptr());
        data[off..].copy_from_slice(&block[..len - off]);
        rev = _mm_add_epi32(rev, _mm_set_epi32(0, 0, 0, 1));
        crate::wipe::wipe(&mut block);
    }
    _mm_storeu_si128(ctr.as_mut_ptr().cast(), reverse(rev));
}

/// CCM encryption of whole blocks: the CBC-MAC chain over the plaintext
/// and the CTR block of the same position in one loop. The chain is
/// latency-bound (`R` dependent `aesenc`s per block); the counter block's
/// `R` independent ones fill the idle issue slots, so CCM costs about what
/// CBC-MAC alone does.
///
/// # Safety
/// AES-NI, SSE2, SSSE3; `data.len()` a multiple of 16.
#[target_feature(enable = "aes,sse2,ssse3")]
unsafe fn ccm_seal_aesni<const R: usize>(
    rk: &CipherKeys,
    state: &mut [u8; 16],
    ctr: &mut [u8; 16],
    data: &mut [u8],
) {
    let n = data.len() / 16;
    if n == 0 {
        return;
    }
    let k = load_keys(rk);
    let last_plus_first = _mm_xor_si128(k[R], k[0]);
    let one = _mm_set_epi32(0, 0, 0, 1);
    let mut rev = reverse(_mm_loadu_si128(ctr.as_ptr().cast()));
    let p = data.as_mut_ptr();
    let mut m = _mm_loadu_si128(p.cast());
    // x: the chain's input to round 1 (state ^ block ^ k0).
    let mut x = _mm_xor_si128(
        _mm_xor_si128(_mm_loadu_si128(state.as_ptr().cast()), m),
        k[0],
    );
    for i in 0..n {
        let q = p.add(16 * i);
        let mut y = _mm_xor_si128(reverse(rev), k[0]);
        rev = _mm_add_epi32(rev, one);
        for key in &k[1..R] {
            x = _mm_aesenc_si128(x, *key);
            y = _mm_aesenc_si128(y, *key);
        }
        let c = _mm_xor_si128(_mm_aesenclast_si128(y, k[R]), m);
        if i + 1 < n {
            // The next block folded into the last round key: no xor on the chain.
            let next = _mm_loadu_si128(q.add(16).cast());
            x = _mm_aesenclast_si128(x, _mm_xor_si128(last_plus_first, next));
            m = next;
        } else {
            x = _mm_aesenclast_si128(x, k[R]);
        }
        _mm_storeu_si128(q.cast(), c);
    }
    _mm_storeu_si128(state.as_mut_ptr().cast(), x);
    _mm_storeu_si128(ctr.as_mut_ptr().cast(), reverse(rev));
}

/// CCM decryption of whole blocks: the keystream of block `i + 1` is
/// computed beside the chain step of block `i`, whose input it no longer
/// waits for.
///
/// # Safety
/// AES-NI, SSE2, SSSE3; `data.len()` a multiple of 16.
#[target_feature(enable = "aes,sse2,ssse3")]
unsafe fn ccm_open_aesni<const R: usize>(
    rk: &CipherKeys,
    state: &mut [u8; 16],
    ctr: &mut [u8; 16],
    data: &mut [u8],
) {
    let n = data.len() / 16;
    if n == 0 {
        return;
    }
    let k = load_keys(rk);
    let one = _mm_set_epi32(0, 0, 0, 1);
    let mut rev = reverse(_mm_loadu_si128(ctr.as_ptr().cast()));
    let p = data.as_mut_ptr();
    let mut ks = finish::<R>(&k, _mm_xor_si128(reverse(rev), k[0]));
    rev = _mm_add_epi32(rev, one);
    let mut s = _mm_loadu_si128(state.as_ptr().cast());
    for i in 0..n {
        let q = p.add(16 * i);
        let m = _mm_xor_si128(_mm_loadu_si128(q.cast()), ks);
        _mm_storeu_si128(q.cast(), m);
        let mut x = _mm_xor_si128(_mm_xor_si128(s, m), k[0]);
        // One keystream block past the message is computed and dropped:
        // cheaper than a branch in the loop.
        let mut y = _mm_xor_si128(reverse(rev), k[0]);
        for key in &k[1..R] {
            x = _mm_aesenc_si128(x, *key);
            y = _mm_aesenc_si128(y, *key);
        }
        s = _mm_aesenclast_si128(x, k[R]);
        ks = _mm_aesenclast_si128(y, k[R]);
        if i + 1 < n {
            rev = _mm_add_epi32(rev, one);
        }
    }
    _mm_storeu_si128(state.as_mut_ptr().cast(), s);
    _mm_storeu_si128(ctr.as_mut_ptr().cast(), reverse(rev));
}

/// One step of the AES-256 key schedule: `prev` (the round key two back)
/// expanded with word `w` of the `aeskeygenassist` result, broadcast.
#[inline]
#[target_feature(enable = "aes,sse2,ssse3")]
unsafe fn expand_step(prev: __m128i, t: __m128i) -> __m128i {
    let mut k = prev;
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    _mm_xor_si128(k, t)
}

/// # Safety
/// The CPU must support AES-NI, SSE2 and SSSE3.
#[target_feature(enable = "aes,sse2,ssse3")]
unsafe fn expand_key_256_aesni(key: &[u8; 32]) -> CipherKeys {
    let mut rk = [[0u8; 16]; 15];
    let mut a = _mm_loadu_si128(key.as_ptr().cast());
    let mut b = _mm_loadu_si128(key.as_ptr().add(16).cast());
    _mm_storeu_si128(rk[0].as_mut_ptr().cast(), a);
    _mm_storeu_si128(rk[1].as_mut_ptr().cast(), b);
    // Even keys: SubWord(RotWord(w)) ^ rcon (lane 3); odd keys: SubWord(w)
    // (lane 2). The round constant must be an immediate: one line per pair.
    macro_rules! even {
        ($i:expr, $rcon:expr) => {
            let t = _mm_shuffle_epi32(_mm_aeskeygenassist_si128(b, $rcon), 0xff);
            a = expand_step(a, t);
            _mm_storeu_si128(rk[$i].as_mut_ptr().cast(), a);
        };
    }
    macro_rules! pair {
        ($i:expr, $rcon:expr) => {
            even!($i, $rcon);
            let t = _mm_shuffle_epi32(_mm_aeskeygenassist_si128(a, 0), 0xaa);
            b = expand_step(b, t);
            _mm_storeu_si128(rk[$i + 1].as_mut_ptr().cast(), b);
        };
    }
    pair!(2, 0x01);
    pair!(4, 0x02);
    pair!(6, 0x04);
    pair!(8, 0x08);
    pair!(10, 0x10);
    pair!(12, 0x20);
    even!(14, 0x40);
    rk
}

/// FIPS 197 AES-256 key expansion with `aeskeygenassist`.
#[inline]
pub(crate) fn expand_key_256(_: AesNi, key: &[u8; 32]) -> CipherKeys {
    // SAFETY: the AesNi token exists only after detection found AES-NI, SSE2 and SSSE3.
    unsafe { expand_key_256_aesni(key) }
}

/// Encrypts one block in place with `rounds` (10 or 14) rounds.
#[inline]
pub(crate) fn encrypt_block(_: AesNi, rk: &CipherKeys, rounds: usize, block: &mut [u8; 16]) {
    // SAFETY: the AesNi token exists only after detection found AES-NI, SSE2 and SSSE3.
    unsafe { with_rounds!(rounds, encrypt_block_aesni(rk, block)) }
}

/// `state = E(state ^ block)` for each 16-byte block of `blocks`.
#[inline]
pub(crate) fn cbc_mac(
    _: AesNi,
    rk: &CipherKeys,
    rounds: usize,
    state: &mut [u8; 16],
    blocks: &[u8],
) {
    assert!(blocks.len().is_multiple_of(16));
    // SAFETY: the AesNi token proves the features; the length is checked above
    // and every load stays within `blocks`.
    unsafe { with_rounds!(rounds, cbc_mac_aesni(rk, state, blocks)) }
}

/// XORs the CTR keystream from counter block `ctr` into `data` (any length)
/// and advances the counter's last 32 bits (big-endian) by the blocks used.
#[inline]
pub(crate) fn ctr32(_: AesNi, rk: &CipherKeys, rounds: usize, ctr: &mut [u8; 16], data: &mut [u8]) {
    // SAFETY: the AesNi token proves the features; the kernel's loads and
    // stores stay within `data` (whole blocks while 16 bytes remain, the
    // tail through a stack block).
    unsafe { with_rounds!(rounds, ctr32_aesni(rk, ctr, data)) }
}

/// CCM encryption of whole blocks (see `ccm_seal_aesni`): CBC-MAC over the
/// plaintext into `state`, CTR from `ctr` (advanced) in place.
#[inline]
pub(crate) fn ccm_seal(
    _: AesNi,
    rk: &CipherKeys,
    rounds: usize,
    state: &mut [u8; 16],
    ctr: &mut [u8; 16],
    data: &mut [u8],
) {
    assert!(data.len().is_multiple_of(16));
    // SAFETY: the AesNi token proves the features; whole blocks (checked), every
    // load and store within `data`.
    unsafe { with_rounds!(rounds, ccm_seal_aesni(rk, state, ctr, data)) }
}

/// CCM decryption of whole blocks (see `ccm_open_aesni`).
#[inline]
pub(crate) fn ccm_open(
    _: AesNi,
    rk: &CipherKeys,
    rounds: usize,
    state: &mut [u8; 16],
    ctr: &mut [u8; 16],
    data: &mut [u8],
) {
    assert!(data.len().is_multiple_of(16));
    // SAFETY: the AesNi token proves the features; whole blocks (checked), every
    // load and store within `data`.
    unsafe { with_rounds!(rounds, ccm_open_aesni(rk, state, ctr, data)) }
}
