//! AES-CTR with VAES on ymm for the SMB3 ciphers (the avx2 tier): two
//! blocks per instruction, eight registers (16 blocks) in flight, the last
//! partial register through a stack block. Generic over the round count `R`.
//!
//! Counters are byte-reversed per 128-bit lane, as in `aesni_cipher`.

use core::arch::x86_64::*;

use super::Vaes;
use crate::backend::layout::{with_rounds, CipherKeys};

/// Blocks per main-loop step.
const STEP: usize = 16;

/// Reverses the bytes of each 128-bit lane.
#[inline]
#[target_feature(enable = "vaes,aes,avx2,avx")]
unsafe fn reverse(x: __m256i) -> __m256i {
    let m = _mm256_broadcastsi128_si256(_mm_set_epi8(
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    ));
    _mm256_shuffle_epi8(x, m)
}

/// `n` added to each lane's counter dword.
#[inline]
#[target_feature(enable = "vaes,aes,avx2,avx")]
unsafe fn plus(rev: __m256i, n: i32) -> __m256i {
    _mm256_add_epi32(rev, _mm256_set_epi32(0, 0, 0, n, 0, 0, 0, n))
}

/// Encrypts the counter blocks `rev + 2j + lane` (byte-reversed) of `N` registers.
#[inline]
#[target_feature(enable = "vaes,aes,avx2,avx")]
unsafe fn keystream<const R: usize, const N: usize>(
    k: &[__m256i; 15],
    rev: __m256i,
) -> [__m256i; N] {
    let mut x: [__m256i; N] =
        core::array::from_fn(|j| _mm256_xor_si256(reverse(plus(rev, 2 * j as i32)), k[0]));
    for key in &k[1..R] {
        for xj in &mut x {
            *xj = _mm256_aesenc_epi128(*xj, *key);
        }
    }
    for xj in &mut x {
        *xj = _mm256_aesenclast_epi128(*xj, k[R]);
    }
    x
}

/// # Safety
/// The CPU must support VAES and AVX2.
#[target_feature(enable = "vaes,aes,avx2,avx")]
unsafe fn ctr32_ymm<const R: usize>(rk: &CipherKeys, ctr: &mut [u8; 16], data: &mut [u8]) {
    let k: [__m256i; 15] = core::array::from_fn(|i| {
        _mm256_broadcastsi128_si256(_mm_loadu_si128(rk[i].as_ptr().cast()))
    });
    let first = _mm_shuffle_epi8(
        _mm_loadu_si128(ctr.as_ptr().cast()),
        _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    );
    // Lane i holds counter + i.
    let mut rev = _mm256_add_epi32(
        _mm256_broadcastsi128_si256(first),
        _mm256_set_epi32(0, 0, 0, 1, 0, 0, 0, 0),
    );
    let len = data.len();
    let p = data.as_mut_ptr();
    let mut off = 0;
    while len - off >= 16 * STEP {
        let x = keystream::<R, 8>(&k, rev);
        for (j, xj) in x.iter().enumerate() {
            let q = p.add(off + 32 * j);
            _mm256_storeu_si256(
                q.cast(),
                _mm256_xor_si256(*xj, _mm256_loadu_si256(q.cast())),
            );
        }
        rev = plus(rev, STEP as i32);
        off += 16 * STEP;
    }
    while len - off >= 32 {
        let [x] = keystream::<R, 1>(&k, rev);
        let q = p.add(off);
        _mm256_storeu_si256(q.cast(), _mm256_xor_si256(x, _mm256_loadu_si256(q.cast())));
        rev = plus(rev, 2);
        off += 32;
    }
    if off < len {
        let mut block = [0u8; 32];
        block[..len - off].copy_from_slice(&data[off..]);
        let [x] = keystream::<R, 1>(&k, rev);
        let q = block.as_mut_ptr();
        _mm256_storeu_si256(q.cast(), _mm256_xor_si256(x, _mm256_loadu_si256(q.cast())));
        data[off..].copy_from_slice(&block[..len - off]);
        crate::wipe::wipe(&mut block);
    }
    let c = u32::from_be_bytes(ctr[12..].try_into().unwrap()).wrapping_add(len.div_ceil(16) as u32);
    ctr[12..].copy_from_slice(&c.to_be_bytes());
}

/// XORs the CTR keystream from counter block `ctr` into `data` (any length)
/// and advances the counter's last 32 bits (big-endian) by the blocks used.
#[inline]
pub(crate) fn ctr32(_: Vaes, rk: &CipherKeys, rounds: usize, ctr: &mut [u8; 16], data: &mut [u8]) {
    // SAFETY: the Vaes token proves VAES and AVX2; full-width loads and
    // stores stay within `data` (checked per step), the tail goes through a
    // stack block.
    unsafe { with_rounds!(rounds, ctr32_ymm(rk, ctr, data)) }
}
